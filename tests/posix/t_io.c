/*
 * uvfs POSIX behaviour suite - open flags, read/write/lseek, truncate,
 * data integrity, mmap and sync.
 */
#include "suite.h"

#include <sys/mman.h>
#include <sys/sendfile.h>

#define GiB (1024LL * 1024 * 1024)
#define MiB (1024LL * 1024)

static int all_zero(const void *buf, size_t len)
{
    const unsigned char *p = buf;
    for (size_t i = 0; i < len; i++)
        if (p[i])
            return 0;
    return 1;
}

/* ---- open flags ---------------------------------------------------- */

TEST(open_creat)
{
    int fd = (int)OK(open("f", O_CREAT | O_WRONLY, 0640));
    struct stat st = xfstat(fd);
    CHECK(S_ISREG(st.st_mode), "new file is not S_IFREG: mode 0%o",
          st.st_mode);
    EQ(st.st_size, 0);
    EQ(st.st_nlink, 1);
    EQ(st.st_uid, geteuid());
    EQ(st.st_gid, getegid());
    EQ_MODE(st.st_mode & 07777, 0640);
    OK(close(fd));
    struct stat st2 = xstat("f");
    EQ(st2.st_ino, st.st_ino);
    EQ(st2.st_dev, st.st_dev);
    /* O_CREAT without O_EXCL on an existing file opens it */
    put_str("f", "data");
    fd = (int)OK(open("f", O_CREAT | O_RDONLY, 0600));
    EQ(xfstat(fd).st_ino, st.st_ino);
    EQ_MODE(xfstat(fd).st_mode & 07777, 0640);
    char buf[8];
    EQ(read(fd, buf, sizeof(buf)), 4);
    OK(close(fd));
}

TEST(open_excl)
{
    int fd = (int)OK(open("f", O_CREAT | O_EXCL | O_WRONLY, 0644));
    OK(close(fd));
    ERR(open("f", O_CREAT | O_EXCL | O_WRONLY, 0644), EEXIST);
    OK(mkdir("d", 0755));
    ERR(open("d", O_CREAT | O_EXCL | O_RDONLY, 0644), EEXIST);
    /* O_EXCL does not follow a dangling symlink */
    OK(symlink("target", "dangling"));
    ERR(open("dangling", O_CREAT | O_EXCL | O_WRONLY, 0644), EEXIST);
    ERR(access("target", F_OK), ENOENT);
}

TEST(open_trunc)
{
    put_str("f", "hello world");
    struct stat before = xstat("f");
    int fd = (int)OK(open("f", O_WRONLY | O_TRUNC));
    struct stat st = xfstat(fd);
    EQ(st.st_size, 0);
    EQ(st.st_ino, before.st_ino);
    write_all(fd, "abc", 3);
    OK(close(fd));
    expect_content("f", "abc");
}

TEST(open_append)
{
    put_str("f", "abc");
    int fd = (int)OK(open("f", O_WRONLY | O_APPEND));
    EQ(lseek(fd, 0, SEEK_SET), 0);
    write_all(fd, "def", 3);
    EQ(lseek(fd, 0, SEEK_CUR), 6);
    EQ(lseek(fd, 1, SEEK_SET), 1);
    write_all(fd, "gh", 2);
    EQ(lseek(fd, 0, SEEK_CUR), 8);
    OK(close(fd));
    expect_content("f", "abcdefgh");
    EQ(xstat("f").st_size, 8);
}

TEST(open_rdonly_write_ebadf)
{
    char buf[4];
    put_str("f", "abc");
    int fd = (int)OK(open("f", O_RDONLY));
    ERR(write(fd, "x", 1), EBADF);
    ERR(pwrite(fd, "x", 1, 0), EBADF);
    ERR2(ftruncate(fd, 0), EINVAL, EBADF);
    OK(close(fd));
    fd = (int)OK(open("f", O_WRONLY));
    ERR(read(fd, buf, 1), EBADF);
    ERR(pread(fd, buf, 1, 0), EBADF);
    OK(close(fd));
    expect_content("f", "abc");
}

TEST(open_directory_on_file)
{
    put_str("f", "x");
    ERR(open("f", O_RDONLY | O_DIRECTORY), ENOTDIR);
    ERR(open("f/", O_RDONLY), ENOTDIR);
    OK(mkdir("d", 0755));
    int fd = (int)OK(open("d", O_RDONLY | O_DIRECTORY));
    CHECK(S_ISDIR(xfstat(fd).st_mode), "O_DIRECTORY fd is not a directory");
    OK(close(fd));
}

TEST(open_dir_for_write)
{
    char buf[16];
    OK(mkdir("d", 0755));
    ERR(open("d", O_WRONLY), EISDIR);
    ERR(open("d", O_RDWR), EISDIR);
    ERR(open("d", O_WRONLY | O_CREAT, 0644), EISDIR);
    int fd = (int)OK(open("d", O_RDONLY));
    ERR(read(fd, buf, sizeof(buf)), EISDIR);
    OK(close(fd));
}

TEST(open_creat_umask)
{
    umask(027);
    int fd = (int)OK(open("a", O_CREAT | O_WRONLY, 0666));
    EQ_MODE(xfstat(fd).st_mode & 07777, 0640);
    OK(close(fd));
    umask(0);
    fd = (int)OK(open("b", O_CREAT | O_WRONLY, 0777));
    EQ_MODE(xfstat(fd).st_mode & 07777, 0777);
    OK(close(fd));
    umask(077);
    OK(mkdir("d", 0777));
    EQ_MODE(xstat("d").st_mode & 07777, 0700);
    umask(022);
    OK(mkdir("e", 0777));
    EQ_MODE(xstat("e").st_mode & 07777, 0755);
    /* mode given to O_CREAT does not apply to an existing file */
    fd = (int)OK(open("a", O_CREAT | O_WRONLY, 0600));
    OK(close(fd));
    EQ_MODE(xstat("a").st_mode & 07777, 0640);
}

/* ---- read / write / lseek ----------------------------------------- */

TEST(read_short_at_eof)
{
    char buf[100];
    put_str("f", "0123456789");
    int fd = (int)OK(open("f", O_RDONLY));
    EQ(read(fd, buf, sizeof(buf)), 10);
    MEMEQ(buf, "0123456789", 10);
    EQ(read(fd, buf, sizeof(buf)), 0);
    EQ(pread(fd, buf, sizeof(buf), 5), 5);
    MEMEQ(buf, "56789", 5);
    EQ(pread(fd, buf, sizeof(buf), 10), 0);
    EQ(pread(fd, buf, sizeof(buf), 20), 0);
    EQ(lseek(fd, 3, SEEK_SET), 3);
    EQ(read(fd, buf, 4), 4);
    MEMEQ(buf, "3456", 4);
    OK(close(fd));
}

TEST(pread_pwrite)
{
    char buf[32];
    int fd = (int)OK(open("f", O_RDWR | O_CREAT, 0644));
    write_all(fd, "abcdefghij", 10);
    EQ(lseek(fd, 2, SEEK_SET), 2);
    EQ(pwrite(fd, "XYZ", 3, 5), 3);
    EQ(lseek(fd, 0, SEEK_CUR), 2); /* offset untouched */
    EQ(pread(fd, buf, 10, 0), 10);
    MEMEQ(buf, "abcdeXYZij", 10);
    EQ(lseek(fd, 0, SEEK_CUR), 2);
    EQ(pwrite(fd, "END", 3, 12), 3); /* beyond EOF: hole of 2 bytes */
    EQ(xfstat(fd).st_size, 15);
    EQ(pread(fd, buf, 32, 8), 7);
    MEMEQ(buf, "ij\0\0END", 7);
    OK(close(fd));
}

TEST(hole_reads_zeros)
{
    const off_t off = MiB + 7;
    int fd = (int)OK(open("f", O_RDWR | O_CREAT, 0644));
    write_all(fd, "head", 4);
    EQ(pwrite(fd, "X", 1, off), 1);
    EQ(xfstat(fd).st_size, off + 1);
    char *buf = malloc((size_t)off + 1);
    CHECK(buf, "malloc");
    EQ(pread(fd, buf, (size_t)off + 1, 0), off + 1);
    MEMEQ(buf, "head", 4);
    CHECK(all_zero(buf + 4, (size_t)off - 4), "hole does not read as zeros");
    EQ(buf[off], 'X');
    free(buf);
    OK(close(fd));
}

TEST(write_beyond_4g)
{
    const off_t off = 5 * GiB + 3;
    const char *msg = "data-after-5GiB";
    size_t len = strlen(msg);
    char buf[64];
    int fd = (int)OK(open("big", O_RDWR | O_CREAT, 0644));
    EQ(pwrite(fd, msg, len, off), (long long)len);
    EQ(xfstat(fd).st_size, off + (off_t)len);
    EQ(pread(fd, buf, sizeof(buf), off), (long long)len);
    MEMEQ(buf, msg, len);
    /* the region below is a hole and reads back as zeros */
    EQ(pread(fd, buf, 16, 4 * GiB), 16);
    CHECK(all_zero(buf, 16), "data below 5 GiB is not zero");
    EQ(pread(fd, buf, 16, off - 16), 16);
    CHECK(all_zero(buf, 16), "data just below the write is not zero");
    EQ(lseek(fd, 0, SEEK_END), off + (off_t)len);
    OK(close(fd));
    /* reopen and check again (not just from cache of the same fd) */
    fd = (int)OK(open("big", O_RDONLY));
    EQ(pread(fd, buf, sizeof(buf), off), (long long)len);
    MEMEQ(buf, msg, len);
    OK(close(fd));
    EQ(xstat("big").st_size, off + (off_t)len);
}

TEST(lseek_end_cur)
{
    char c;
    put_str("f", "0123456789");
    int fd = (int)OK(open("f", O_RDONLY));
    EQ(lseek(fd, 0, SEEK_END), 10);
    EQ(read(fd, &c, 1), 0);
    EQ(lseek(fd, -3, SEEK_END), 7);
    EQ(read(fd, &c, 1), 1);
    EQ(c, '7');
    EQ(lseek(fd, 1, SEEK_CUR), 9);
    EQ(read(fd, &c, 1), 1);
    EQ(c, '9');
    EQ(lseek(fd, -10, SEEK_END), 0);
    ERR(lseek(fd, -11, SEEK_END), EINVAL);
    ERR(lseek(fd, -1, SEEK_SET), EINVAL);
    ERR(lseek(fd, 0, 12345), EINVAL);
    EQ(lseek(fd, 0, SEEK_CUR), 0); /* failed seeks did not move it */
    OK(close(fd));
}

TEST(lseek_past_eof_write)
{
    char buf[8200];
    put_str("f", "abc");
    int fd = (int)OK(open("f", O_RDWR));
    EQ(lseek(fd, 8192, SEEK_SET), 8192);
    EQ(xfstat(fd).st_size, 3); /* seeking alone does not extend */
    write_all(fd, "Z", 1);
    EQ(xfstat(fd).st_size, 8193);
    EQ(pread(fd, buf, sizeof(buf), 0), 8193);
    MEMEQ(buf, "abc", 3);
    CHECK(all_zero(buf + 3, 8189), "gap created by lseek+write not zero");
    EQ(buf[8192], 'Z');
    OK(close(fd));
}

TEST(seek_data_hole)
{
    char *blk = malloc(64 * 1024);
    CHECK(blk, "malloc");
    fill_random(blk, 64 * 1024, 1);
    blk[0] = 1;
    int fd = (int)OK(open("f", O_RDWR | O_CREAT, 0644));
    write_all(fd, blk, 64 * 1024);
    EQ(pwrite(fd, blk, 64 * 1024, 2 * MiB), 64 * 1024);
    off_t size = xfstat(fd).st_size;
    EQ(size, 2 * MiB + 64 * 1024);

    EQ(lseek(fd, 0, SEEK_DATA), 0);
    off_t h = lseek(fd, 0, SEEK_HOLE);
    CHECK(h >= 64 * 1024 && h <= size,
          "SEEK_HOLE from 0: expected in [65536, %lld], got %lld (%s)",
          (long long)size, (long long)h, h < 0 ? strerror(errno) : "");
    /* from inside the hole: data is found at or before the second extent */
    off_t d = lseek(fd, 100000, SEEK_DATA);
    CHECK(d >= 100000 && d <= 2 * MiB,
          "SEEK_DATA from 100000: expected in [100000, %lld], got %lld (%s)",
          2 * MiB, (long long)d, d < 0 ? strerror(errno) : "");
    h = lseek(fd, 2 * MiB, SEEK_HOLE);
    EQ(h, size); /* only the implicit hole at EOF follows the last data */
    EQ(lseek(fd, size - 1, SEEK_DATA), size - 1);
    ERR(lseek(fd, size, SEEK_DATA), ENXIO);
    ERR(lseek(fd, size + 4096, SEEK_DATA), ENXIO);
    ERR(lseek(fd, size, SEEK_HOLE), ENXIO);
    OK(close(fd));
    /* empty file: no data at all */
    fd = (int)OK(open("empty", O_RDWR | O_CREAT, 0644));
    ERR(lseek(fd, 0, SEEK_DATA), ENXIO);
    OK(close(fd));
    free(blk);
}

/* ---- truncate ------------------------------------------------------ */

TEST(truncate_shrink_regrow)
{
    char buf[200];
    char data[100];
    for (int i = 0; i < 100; i++)
        data[i] = (char)('A' + i % 26);
    put_file("f", data, 100, 0644);
    OK(truncate("f", 10));
    EQ(xstat("f").st_size, 10);
    EQ(get_file("f", buf, sizeof(buf)), 10);
    MEMEQ(buf, data, 10);
    /* growing again must not resurrect the cut-off data */
    OK(truncate("f", 100));
    EQ(get_file("f", buf, sizeof(buf)), 100);
    MEMEQ(buf, data, 10);
    CHECK(all_zero(buf + 10, 90), "old data reappeared after shrink+grow");
}

TEST(truncate_grow_zeros)
{
    char buf[70000];
    put_str("f", "xyz");
    OK(truncate("f", 65536 + 5));
    EQ(xstat("f").st_size, 65541);
    EQ(get_file("f", buf, sizeof(buf)), 65541);
    MEMEQ(buf, "xyz", 3);
    CHECK(all_zero(buf + 3, 65538), "truncate-extended area not zero");
}

TEST(truncate_to_zero)
{
    char buf[16];
    char *data = malloc(100000);
    CHECK(data, "malloc");
    fill_random(data, 100000, 2);
    put_file("f", data, 100000, 0644);
    int fd = (int)OK(open("f", O_RDWR));
    OK(ftruncate(fd, 0));
    EQ(xfstat(fd).st_size, 0);
    EQ(pread(fd, buf, sizeof(buf), 0), 0);
    write_all(fd, "new", 3); /* offset was 0 */
    OK(close(fd));
    expect_content("f", "new");
    free(data);
}

TEST(truncate_beyond_4g)
{
    char buf[8];
    put_str("f", "abc");
    OK(truncate("f", 5 * GiB + 123));
    EQ(xstat("f").st_size, 5 * GiB + 123);
    int fd = (int)OK(open("f", O_RDWR));
    memset(buf, 0x55, sizeof(buf));
    EQ(pread(fd, buf, sizeof(buf), 5 * GiB + 120), 3);
    CHECK(all_zero(buf, 3), "tail of >4GiB truncated file is not zero");
    EQ(pwrite(fd, "T", 1, 5 * GiB + 122), 1);
    OK(ftruncate(fd, 4 * GiB + 1));
    EQ(xfstat(fd).st_size, 4 * GiB + 1);
    OK(ftruncate(fd, 1));
    EQ(xfstat(fd).st_size, 1);
    EQ(pread(fd, buf, sizeof(buf), 0), 1);
    EQ(buf[0], 'a');
    OK(close(fd));
}

TEST(truncate_errors)
{
    put_str("f", "abc");
    OK(mkdir("d", 0755));
    ERR(truncate("f", -1), EINVAL);
    ERR(truncate("d", 0), EISDIR);
    ERR(truncate("missing", 0), ENOENT);
    ERR(truncate("f/x", 0), ENOTDIR);
    EQ(xstat("f").st_size, 3);
}

/* ---- data integrity ------------------------------------------------ */

TEST(data_1m_odd_chunks)
{
    const size_t size = 1024 * 1024;
    static const size_t wchunks[] = { 1, 7, 4093, 511, 65537, 13, 4096, 999 };
    static const size_t rchunks[] = { 3, 8191, 1, 100003, 17, 4095 };
    unsigned char *src = malloc(size), *dst = malloc(size);
    size_t pos, i;
    CHECK(src && dst, "malloc");
    fill_random(src, size, 12345);
    uint64_t sum = fnv1a(src, size);

    int fd = (int)OK(open("f", O_WRONLY | O_CREAT | O_TRUNC, 0644));
    for (pos = 0, i = 0; pos < size; i++) {
        size_t n = wchunks[i % 8];
        if (n > size - pos)
            n = size - pos;
        write_all(fd, src + pos, n);
        pos += n;
    }
    OK(close(fd));
    EQ(xstat("f").st_size, (long long)size);

    fd = (int)OK(open("f", O_RDONLY));
    memset(dst, 0, size);
    for (pos = 0, i = 0; pos < size; i++) {
        size_t n = rchunks[i % 6];
        if (n > size - pos)
            n = size - pos;
        read_exact(fd, dst + pos, n);
        pos += n;
    }
    char extra;
    EQ(read(fd, &extra, 1), 0);
    OK(close(fd));
    CHECK(fnv1a(dst, size) == sum, "checksum mismatch after read back");
    MEMEQ(dst, src, size);
    free(src);
    free(dst);
}

TEST(overwrite_middle)
{
    char buf[8192], want[8192];
    memset(want, 'a', sizeof(want));
    put_file("f", want, sizeof(want), 0644);
    int fd = (int)OK(open("f", O_RDWR));
    memset(buf, 'b', 200);
    EQ(pwrite(fd, buf, 200, 4000), 200); /* crosses a 4 KiB boundary */
    memset(want + 4000, 'b', 200);
    OK(close(fd));
    EQ(get_file("f", buf, sizeof(buf)), 8192);
    MEMEQ(buf, want, 8192);
    EQ(xstat("f").st_size, 8192);
}

TEST(mmap_shared_write)
{
    const size_t len = 3 * 4096 + 100;
    char *want = malloc(len), *buf = malloc(len);
    CHECK(want && buf, "malloc");
    int fd = (int)OK(open("f", O_RDWR | O_CREAT, 0644));
    OK(ftruncate(fd, (off_t)len));
    char *map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(map != MAP_FAILED, "mmap: %s", strerror(errno));
    fill_random(want, len, 77);
    memcpy(map, want, len);
    OK(msync(map, len, MS_SYNC));
    EQ(pread(fd, buf, len, 0), (long long)len);
    MEMEQ(buf, want, len);
    /* and the other way: write() is visible through the mapping */
    EQ(pwrite(fd, "WRITE", 5, 4096), 5);
    MEMEQ(map + 4096, "WRITE", 5);
    OK(munmap(map, len));
    OK(close(fd));
    memcpy(want + 4096, "WRITE", 5);
    EQ(get_file("f", buf, len), (long long)len);
    MEMEQ(buf, want, len);
    free(want);
    free(buf);
}

TEST(two_fds_coherent)
{
    char buf[16];
    int a = (int)OK(open("f", O_RDWR | O_CREAT, 0644));
    int b = (int)OK(open("f", O_RDWR));
    write_all(a, "abc", 3);
    EQ(read(b, buf, sizeof(buf)), 3);
    MEMEQ(buf, "abc", 3);
    EQ(pwrite(b, "X", 1, 1), 1);
    EQ(pread(a, buf, sizeof(buf), 0), 3);
    MEMEQ(buf, "aXc", 3);
    EQ(lseek(a, 0, SEEK_CUR), 3); /* independent offsets */
    EQ(lseek(b, 0, SEEK_CUR), 3);
    OK(ftruncate(b, 1));
    EQ(xfstat(a).st_size, 1);
    EQ(pread(a, buf, sizeof(buf), 0), 1);
    OK(close(a));
    OK(close(b));
}

TEST(fsync_file_and_dir)
{
    int fd = (int)OK(open("f", O_RDWR | O_CREAT, 0644));
    write_all(fd, "sync me", 7);
    OK(fsync(fd));
    OK(fdatasync(fd));
    OK(close(fd));
    OK(mkdir("d", 0755));
    int dfd = (int)OK(open("d", O_RDONLY | O_DIRECTORY));
    OK(fsync(dfd));
    OK(fdatasync(dfd));
    OK(close(dfd));
    dfd = (int)OK(open(".", O_RDONLY | O_DIRECTORY));
    OK(fsync(dfd));
    OK(close(dfd));
    ERR(fsync(dfd), EBADF);
    expect_content("f", "sync me");
}

/* ---- fallocate ----------------------------------------------------- */

/*
 * The ranges are multiples of 64 KiB: for any block size up to that they
 * cover whole blocks, so allocation and deallocation show in st_blocks.
 * What the filesystem lacks must be declared with -F, and then the mode
 * must fail with EOPNOTSUPP and change nothing.
 */
#define FA_OFF (64 * 1024)
#define FA_LEN (256 * 1024)

static void expect_falloc_refused(int fd, int mode, off_t off, off_t len)
{
    struct stat before = xfstat(fd), after;

    ERR(fallocate(fd, mode, off, len), EOPNOTSUPP);
    after = xfstat(fd);
    EQ(after.st_size, before.st_size);
    EQ(after.st_blocks, before.st_blocks);
    tnote("fallocate mode 0x%x refused, as declared by -F", mode);
}

/* Reads the whole file through a new descriptor and compares it. */
static void expect_file(const char *path, const char *want, size_t len)
{
    char *got = malloc(len + 1);
    CHECK(got, "malloc");
    EQ(get_file(path, got, len + 1), (long long)len);
    MEMEQ(got, want, len);
    free(got);
}

TEST(fallocate_extend)
{
    const size_t size = FA_OFF + FA_LEN;
    char *want = calloc(1, size);
    CHECK(want, "calloc");
    fill_random(want, 100, 7);
    int fd = (int)OK(open("f", O_RDWR | O_CREAT, 0644));
    write_all(fd, want, 100);
    OK(fsync(fd));
    struct stat st0 = xfstat(fd);
    if (!(g_falloc & FALLOC_PREALLOC)) {
        expect_falloc_refused(fd, 0, FA_OFF, FA_LEN);
        OK(close(fd));
        expect_file("f", want, 100);
        free(want);
        return;
    }
    OK(fallocate(fd, 0, FA_OFF, FA_LEN));
    struct stat st = xfstat(fd);
    EQ(st.st_size, (off_t)size);
    CHECK(st.st_blocks >= st0.st_blocks + FA_LEN / 512,
          "st_blocks %lld -> %lld: fewer than %d bytes allocated",
          (long long)st0.st_blocks, (long long)st.st_blocks, FA_LEN);
    /* a range inside the file changes neither size nor data */
    OK(fallocate(fd, 0, 0, 50));
    EQ(xfstat(fd).st_size, (off_t)size);
    OK(close(fd));
    expect_file("f", want, size);
    /* the preallocated blocks take data; around it they stay zero */
    fd = (int)OK(open("f", O_RDWR));
    EQ(pwrite(fd, "mid", 3, FA_OFF + 1000), 3);
    OK(close(fd));
    memcpy(want + FA_OFF + 1000, "mid", 3);
    expect_file("f", want, size);
    free(want);
}

/* Preallocating a hole inside the file: size unchanged, blocks allocated.
 * (Past EOF is left out: block-mapped ext2/ext3 files cannot hold blocks
 * beyond i_size, so ext4 and uvfs's ext2 backend refuse that there.) */
TEST(fallocate_keep_size)
{
    const size_t size = MiB;
    char *want = calloc(1, size);
    CHECK(want, "calloc");
    memcpy(want + size - 4, "tail", 4);
    int fd = (int)OK(open("f", O_RDWR | O_CREAT, 0644));
    EQ(pwrite(fd, "tail", 4, (off_t)size - 4), 4);
    OK(fsync(fd));
    struct stat st0 = xfstat(fd);
    if (!(g_falloc & FALLOC_PREALLOC)) {
        expect_falloc_refused(fd, FALLOC_FL_KEEP_SIZE, FA_OFF, FA_LEN);
        OK(close(fd));
        free(want);
        return;
    }
    OK(fallocate(fd, FALLOC_FL_KEEP_SIZE, FA_OFF, FA_LEN));
    struct stat st = xfstat(fd);
    EQ(st.st_size, (off_t)size);
    CHECK(st.st_blocks >= st0.st_blocks + FA_LEN / 512,
          "st_blocks %lld -> %lld: fewer than %d bytes allocated",
          (long long)st0.st_blocks, (long long)st.st_blocks, FA_LEN);
    EQ(pwrite(fd, "in", 2, FA_OFF + 5), 2);
    memcpy(want + FA_OFF + 5, "in", 2);
    OK(close(fd));
    EQ(xstat("f").st_size, (off_t)size);
    expect_file("f", want, size);
    free(want);
}

/*
 * SEEK_HOLE/SEEK_DATA after punching [FA_OFF, FA_OFF + FA_LEN) out of
 * data: a filesystem that reports holes must report exactly this one; one
 * that does not must report data everywhere. Either way, consistently.
 */
static void expect_punched_seek(int fd, off_t size)
{
    off_t h = lseek(fd, 0, SEEK_HOLE);
    CHECK(h == FA_OFF || h == size,
          "SEEK_HOLE from 0: expected %d or %lld, got %lld (%s)", FA_OFF,
          (long long)size, (long long)h, h < 0 ? strerror(errno) : "");
    if (h == FA_OFF) {
        EQ(lseek(fd, FA_OFF, SEEK_DATA), FA_OFF + FA_LEN);
        EQ(lseek(fd, FA_OFF + 1000, SEEK_DATA), FA_OFF + FA_LEN);
        EQ(lseek(fd, FA_OFF + 1000, SEEK_HOLE), FA_OFF + 1000);
    } else {
        tnote("SEEK_HOLE does not report the punched hole");
        EQ(lseek(fd, FA_OFF, SEEK_DATA), FA_OFF);
    }
    EQ(lseek(fd, 0, SEEK_DATA), 0);
    EQ(lseek(fd, size - 1, SEEK_HOLE), size);
    ERR(lseek(fd, size, SEEK_DATA), ENXIO);
}

static void punch(int fd, char *want, off_t off, off_t len, off_t size)
{
    OK(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, len));
    if (off < size)
        memset(want + off, 0, (size_t)(off + len < size ? len : size - off));
}

TEST(fallocate_punch_hole)
{
    const off_t size = MiB;
    const int mode = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
    char *want = malloc((size_t)size);
    CHECK(want, "malloc");
    fill_random(want, (size_t)size, 11);
    int fd = (int)OK(open("f", O_RDWR | O_CREAT, 0644));
    write_all(fd, want, (size_t)size);
    OK(fsync(fd));
    struct stat st0 = xfstat(fd);
    /* the VFS insists on KEEP_SIZE and a writable descriptor */
    ERR(fallocate(fd, FALLOC_FL_PUNCH_HOLE, FA_OFF, FA_LEN), EOPNOTSUPP);
    int rfd = (int)OK(open("f", O_RDONLY));
    ERR(fallocate(rfd, mode, FA_OFF, FA_LEN), EBADF);
    OK(close(rfd));
    if (!(g_falloc & FALLOC_PUNCH)) {
        expect_falloc_refused(fd, mode, FA_OFF, FA_LEN);
        OK(close(fd));
        expect_file("f", want, (size_t)size);
        free(want);
        return;
    }
    punch(fd, want, FA_OFF, FA_LEN, size);
    struct stat st = xfstat(fd);
    EQ(st.st_size, size);
    CHECK(st.st_blocks <= st0.st_blocks - FA_LEN / 512,
          "st_blocks %lld -> %lld: fewer than %d bytes freed",
          (long long)st0.st_blocks, (long long)st.st_blocks, FA_LEN);
    /* partial blocks: inside one, across several, and past EOF. With
     * 1 KiB blocks the ranges also cross indirect-block boundaries. */
    punch(fd, want, 700100, 50, size);
    punch(fd, want, 500000, 100000, size);
    punch(fd, want, size - 1000, 64 * 1024, size);
    EQ(xfstat(fd).st_size, size);
    expect_punched_seek(fd, size);
    OK(close(fd));
    expect_file("f", want, (size_t)size);
    free(want);
}

static void zero_range(int fd, char *want, int mode, off_t off, off_t len,
                       off_t size)
{
    OK(fallocate(fd, FALLOC_FL_ZERO_RANGE | mode, off, len));
    if (off < size)
        memset(want + off, 0, (size_t)(off + len < size ? len : size - off));
}

/*
 * FALLOC_FL_ZERO_RANGE: the range reads zeros and stays allocated (it is
 * not just punched); without KEEP_SIZE a range past EOF extends the file,
 * with it the size stays. As with KEEP_SIZE preallocation, no blocks past
 * EOF are asserted (block-mapped files cannot hold them).
 */
TEST(fallocate_zero_range)
{
    const off_t size = MiB, grow = 64 * 1024;
    char *want = malloc((size_t)(size + grow));
    CHECK(want, "malloc");
    fill_random(want, (size_t)size, 13);
    memset(want + size, 0, (size_t)grow);
    int fd = (int)OK(open("f", O_RDWR | O_CREAT, 0644));
    write_all(fd, want, (size_t)size);
    OK(fsync(fd));
    struct stat st0 = xfstat(fd);
    if (!(g_falloc & FALLOC_ZERO)) {
        expect_falloc_refused(fd, FALLOC_FL_ZERO_RANGE, FA_OFF, FA_LEN);
        expect_falloc_refused(fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE,
                              FA_OFF, FA_LEN);
        OK(close(fd));
        expect_file("f", want, (size_t)size);
        free(want);
        return;
    }
    zero_range(fd, want, 0, FA_OFF, FA_LEN, size);
    struct stat st = xfstat(fd);
    EQ(st.st_size, size);
    CHECK(st.st_blocks > st0.st_blocks - FA_LEN / 512,
          "st_blocks %lld -> %lld: the zeroed range was deallocated",
          (long long)st0.st_blocks, (long long)st.st_blocks);
    /* partial blocks: inside one, across several */
    zero_range(fd, want, 0, 700100, 50, size);
    zero_range(fd, want, FALLOC_FL_KEEP_SIZE, 500000, 100000, size);
    /* a zeroed range takes data again */
    EQ(pwrite(fd, "back", 4, FA_OFF + 4000), 4);
    memcpy(want + FA_OFF + 4000, "back", 4);
    /* past EOF with KEEP_SIZE: the size stays */
    zero_range(fd, want, FALLOC_FL_KEEP_SIZE, size - 1000, grow, size);
    EQ(xfstat(fd).st_size, size);
    OK(close(fd));
    expect_file("f", want, (size_t)size);
    /* past EOF without it: the file grows to the end of the range */
    fd = (int)OK(open("f", O_RDWR));
    zero_range(fd, want, 0, size - 500, grow, size);
    EQ(xfstat(fd).st_size, size - 500 + grow);
    OK(close(fd));
    EQ(xstat("f").st_size, size - 500 + grow);
    expect_file("f", want, (size_t)(size - 500 + grow));
    free(want);
}

/* ---- copying into a file: copy_file_range, sendfile, splice -------- */

#define CP_LEN 300000 /* more than one pipe buffer and several pages */

/* A file "src" of CP_LEN random bytes, which are returned (malloc'ed). */
static char *make_src(uint64_t seed)
{
    char *data = malloc(CP_LEN);
    CHECK(data, "malloc");
    fill_random(data, CP_LEN, seed);
    put_file("src", data, CP_LEN, 0644);
    return data;
}

TEST(copy_file_range_into_file)
{
    char *data = make_src(21), *want = malloc(4 + CP_LEN);
    CHECK(want, "malloc");
    int in = (int)OK(open("src", O_RDONLY));
    int out = (int)OK(open("dst", O_RDWR | O_CREAT, 0644));
    write_all(out, "head", 4);
    /* at the file offsets, which advance; short copies are allowed */
    for (size_t done = 0; done < CP_LEN;) {
        ssize_t n = copy_file_range(in, NULL, out, NULL, CP_LEN - done, 0);
        CHECK(n > 0, "copy_file_range after %zu of %d bytes: %zd (%s)", done,
              CP_LEN, n, n < 0 ? strerror(errno) : "no progress");
        done += (size_t)n;
    }
    EQ(lseek(in, 0, SEEK_CUR), CP_LEN);
    EQ(lseek(out, 0, SEEK_CUR), 4 + CP_LEN);
    /* at explicit offsets, which advance instead; the file offsets stay */
    loff_t ioff = 5000, ooff = 100;
    for (size_t done = 0; done < 10000;) {
        ssize_t n = copy_file_range(in, &ioff, out, &ooff, 10000 - done, 0);
        CHECK(n > 0, "copy_file_range at offsets: %zd (%s)", n,
              n < 0 ? strerror(errno) : "no progress");
        done += (size_t)n;
    }
    EQ(ioff, 15000);
    EQ(ooff, 10100);
    EQ(lseek(in, 0, SEEK_CUR), CP_LEN);
    EQ(lseek(out, 0, SEEK_CUR), 4 + CP_LEN);
    /* nothing to copy at EOF */
    ioff = CP_LEN;
    EQ(copy_file_range(in, &ioff, out, NULL, 100, 0), 0);
    OK(close(in));
    OK(close(out));
    memcpy(want, "head", 4);
    memcpy(want + 4, data, CP_LEN);
    memcpy(want + 100, data + 5000, 10000);
    expect_file("dst", want, 4 + CP_LEN);
    free(data);
    free(want);
}

TEST(sendfile_into_file)
{
    char *data = make_src(22), *want = malloc(CP_LEN + 7);
    CHECK(want, "malloc");
    int in = (int)OK(open("src", O_RDONLY));
    int out = (int)OK(open("dst", O_WRONLY | O_CREAT, 0644));
    EQ(lseek(out, 7, SEEK_SET), 7);
    off_t off = 0;
    for (size_t done = 0; done < CP_LEN;) {
        ssize_t n = sendfile(out, in, &off, CP_LEN - done);
        CHECK(n > 0, "sendfile after %zu of %d bytes: %zd (%s)", done,
              CP_LEN, n, n < 0 ? strerror(errno) : "no progress");
        done += (size_t)n;
    }
    EQ(off, CP_LEN);
    EQ(lseek(in, 0, SEEK_CUR), 0); /* an explicit offset: fd's stays */
    EQ(lseek(out, 0, SEEK_CUR), 7 + CP_LEN);
    OK(close(in));
    OK(close(out));
    memset(want, 0, 7);
    memcpy(want + 7, data, CP_LEN);
    expect_file("dst", want, CP_LEN + 7);
    free(data);
    free(want);
}

/* Moves len bytes from the pipe into out (at *off, or its file offset). */
static void splice_all(int pipe_rd, int out, loff_t *off, size_t len)
{
    while (len > 0) {
        ssize_t n = splice(pipe_rd, NULL, out, off, len, 0);
        CHECK(n > 0, "splice into the file, %zu bytes left: %zd (%s)", len,
              n, n < 0 ? strerror(errno) : "no progress");
        len -= (size_t)n;
    }
}

TEST(splice_into_file)
{
    const size_t chunk = 16384; /* fits the pipe whole */
    char *data = malloc(CP_LEN), *want = calloc(1, 2 * CP_LEN);
    int pfd[2];
    size_t pos;
    CHECK(data && want, "malloc");
    fill_random(data, CP_LEN, 23);
    OK(pipe(pfd));
    int out = (int)OK(open("dst", O_RDWR | O_CREAT, 0644));
    /* at the file offset */
    for (pos = 0; pos < CP_LEN; pos += chunk) {
        size_t n = CP_LEN - pos < chunk ? CP_LEN - pos : chunk;
        write_all(pfd[1], data + pos, n);
        splice_all(pfd[0], out, NULL, n);
    }
    EQ(lseek(out, 0, SEEK_CUR), CP_LEN);
    memcpy(want, data, CP_LEN);
    /* at an explicit offset past EOF (a hole before it); fd's offset stays */
    loff_t off = CP_LEN + 5000;
    write_all(pfd[1], data, chunk);
    splice_all(pfd[0], out, &off, chunk);
    EQ(off, CP_LEN + 5000 + (loff_t)chunk);
    EQ(lseek(out, 0, SEEK_CUR), CP_LEN);
    memcpy(want + CP_LEN + 5000, data, chunk);
    EQ(xfstat(out).st_size, CP_LEN + 5000 + (off_t)chunk);
    OK(close(out));
    OK(close(pfd[0]));
    OK(close(pfd[1]));
    expect_file("dst", want, CP_LEN + 5000 + chunk);
    free(data);
    free(want);
}

const struct testcase io_cases[] = {
    TC(open_creat),
    TC(open_excl),
    TC(open_trunc),
    TC(open_append),
    TC(open_rdonly_write_ebadf),
    TC(open_directory_on_file),
    TC(open_dir_for_write),
    TC(open_creat_umask),
    TC(read_short_at_eof),
    TC(pread_pwrite),
    TC(hole_reads_zeros),
    TC(write_beyond_4g),
    TC(lseek_end_cur),
    TC(lseek_past_eof_write),
    TC(seek_data_hole),
    TC(truncate_shrink_regrow),
    TC(truncate_grow_zeros),
    TC(truncate_to_zero),
    TC(truncate_beyond_4g),
    TC(truncate_errors),
    TC(data_1m_odd_chunks),
    TC(overwrite_middle),
    TC(mmap_shared_write),
    TC(two_fds_coherent),
    TC(fsync_file_and_dir),
    TC(fallocate_extend),
    TC(fallocate_keep_size),
    TC(fallocate_punch_hole),
    TC(fallocate_zero_range),
    TC(copy_file_range_into_file),
    TC(sendfile_into_file),
    TC(splice_into_file),
    TC_END,
};
