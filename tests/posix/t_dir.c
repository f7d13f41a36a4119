/*
 * uvfs POSIX behaviour suite - directories, rename, hard links, symlinks,
 * special files and name lengths.
 */
#include "suite.h"

#include <dirent.h>
#include <limits.h>
#include <sys/socket.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/un.h>

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif
#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

static int rename2(const char *from, const char *to, unsigned int flags)
{
    return (int)syscall(SYS_renameat2, AT_FDCWD, from, AT_FDCWD, to, flags);
}

static int dtype_matches(unsigned char dt, mode_t mode)
{
    switch (dt) {
    case DT_UNKNOWN: return 1;
    case DT_REG: return S_ISREG(mode);
    case DT_DIR: return S_ISDIR(mode);
    case DT_LNK: return S_ISLNK(mode);
    case DT_FIFO: return S_ISFIFO(mode);
    case DT_CHR: return S_ISCHR(mode);
    case DT_BLK: return S_ISBLK(mode);
    case DT_SOCK: return S_ISSOCK(mode);
    default: return 0;
    }
}

/* ---- directories --------------------------------------------------- */

TEST(mkdir_rmdir)
{
    OK(mkdir("d", 0755));
    struct stat st = xstat("d");
    CHECK(S_ISDIR(st.st_mode), "mkdir result is not a directory: 0%o",
          st.st_mode);
    EQ_MODE(st.st_mode & 07777, 0755);
    EQ(st.st_nlink, 2);
    EQ(st.st_uid, geteuid());
    EQ(count_entries("d"), 0);
    EQ(xstat("d/.").st_ino, st.st_ino);
    EQ(xstat("d/..").st_ino, xstat(".").st_ino);
    OK(rmdir("d"));
    ERR(stat("d", &st), ENOENT);
    ERR(rmdir("d"), ENOENT);
    /* trailing slash is fine for directories */
    OK(mkdir("e/", 0700));
    OK(rmdir("e/"));
}

TEST(readdir_exact_entries)
{
    static const char *names[] = { ".", "..", "file", "file2", "dir",
                                   "link", "fifo" };
    const int n = 7;
    int seen[7] = { 0 };
    struct dirent *de;

    OK(mkdir("d", 0755));
    put_str("d/file", "1");
    put_str("d/file2", "2");
    OK(mkdir("d/dir", 0755));
    OK(symlink("file", "d/link"));
    OK(mkfifo("d/fifo", 0644));
    /* a removed entry must not show up */
    put_str("d/gone", "x");
    OK(unlink("d/gone"));

    DIR *d = opendir("d");
    CHECK(d, "opendir: %s", strerror(errno));
    errno = 0;
    while ((de = readdir(d)) != NULL) {
        int k;
        for (k = 0; k < n; k++)
            if (!strcmp(de->d_name, names[k]))
                break;
        CHECK(k < n, "readdir returned unexpected entry \"%s\"", de->d_name);
        CHECK(!seen[k], "readdir returned \"%s\" twice", de->d_name);
        seen[k] = 1;
        char path[300];
        snprintf(path, sizeof(path), "d/%s", de->d_name);
        struct stat st = xlstat(path);
        CHECK(dtype_matches(de->d_type, st.st_mode),
              "d_type %d of \"%s\" does not match mode 0%o", de->d_type,
              de->d_name, st.st_mode);
        if (k >= 2)
            CHECK(de->d_ino == st.st_ino,
                  "d_ino of \"%s\" is %llu, lstat st_ino is %llu", de->d_name,
                  (unsigned long long)de->d_ino,
                  (unsigned long long)st.st_ino);
        errno = 0;
    }
    CHECK(errno == 0, "readdir: %s", strerror(errno));
    closedir(d);
    for (int k = 0; k < n; k++)
        CHECK(seen[k], "readdir did not return \"%s\"", names[k]);
}

TEST(readdir_while_unlinking)
{
    enum { N = 200 };
    char seen[N] = { 0 };
    char path[64];
    struct dirent *de;
    int count = 0;

    OK(mkdir("d", 0755));
    for (int i = 0; i < N; i++) {
        snprintf(path, sizeof(path), "d/file-%03d", i);
        put_str(path, "x");
    }
    DIR *d = opendir("d");
    CHECK(d, "opendir: %s", strerror(errno));
    errno = 0;
    while ((de = readdir(d)) != NULL) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        int idx = -1;
        CHECK(sscanf(de->d_name, "file-%d", &idx) == 1 && idx >= 0 &&
                  idx < N,
              "unexpected entry \"%s\"", de->d_name);
        CHECK(!seen[idx], "entry \"%s\" returned twice (after it was "
              "unlinked)", de->d_name);
        seen[idx] = 1;
        count++;
        OK(unlinkat(dirfd(d), de->d_name, 0));
        errno = 0;
    }
    CHECK(errno == 0, "readdir: %s", strerror(errno));
    closedir(d);
    for (int i = 0; i < N; i++)
        CHECK(seen[i], "entry file-%03d never returned by readdir "
              "(%d of %d seen)", i, count, N);
    EQ(count_entries("d"), 0);
    OK(rmdir("d"));
}

TEST(readdir_1500_entries)
{
    enum { N = 1500 };
    static char seen[N];
    char name[128];
    struct dirent *de;
    int count = 0;

    OK(mkdir("d", 0755));
    for (int i = 0; i < N; i++) {
        /* varying name lengths exercise different record sizes */
        snprintf(name, sizeof(name), "d/e%d_%.*s", i, i % 60,
                 "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ01234567"
                 "89");
        int fd = open(name, O_CREAT | O_EXCL | O_WRONLY, 0644);
        if (fd < 0)
            FAIL("creating entry %d \"%s\": %s", i, name, strerror(errno));
        close(fd);
    }
    DIR *d = opendir("d");
    CHECK(d, "opendir: %s", strerror(errno));
    errno = 0;
    while ((de = readdir(d)) != NULL) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        int idx = -1, len = 0;
        CHECK(sscanf(de->d_name, "e%d_%n", &idx, &len) == 1 && idx >= 0 &&
                  idx < N,
              "unexpected entry \"%s\"", de->d_name);
        CHECK(strlen(de->d_name) == (size_t)len + (size_t)(idx % 60),
              "entry \"%s\" has the wrong length", de->d_name);
        CHECK(!seen[idx], "entry \"%s\" returned twice", de->d_name);
        CHECK(de->d_type == DT_REG || de->d_type == DT_UNKNOWN,
              "d_type of \"%s\" is %d", de->d_name, de->d_type);
        seen[idx] = 1;
        count++;
        errno = 0;
    }
    CHECK(errno == 0, "readdir: %s", strerror(errno));
    closedir(d);
    for (int i = 0; i < N; i++)
        CHECK(seen[i], "entry %d missing from readdir (%d of %d seen)", i,
              count, N);
    EQ(count, N);
}

TEST(readdir_seekdir_rewind)
{
    enum { N = 60 };
    long pos[N + 2];
    char names[N + 2][256];
    char path[64];
    struct dirent *de;
    int n = 0;

    OK(mkdir("d", 0755));
    for (int i = 0; i < N; i++) {
        snprintf(path, sizeof(path), "d/n%d", i);
        put_str(path, "x");
    }
    DIR *d = opendir("d");
    CHECK(d, "opendir: %s", strerror(errno));
    for (;;) {
        long p = telldir(d);
        CHECK(p != -1, "telldir: %s", strerror(errno));
        de = readdir(d);
        if (!de)
            break;
        CHECK(n < N + 2, "too many entries");
        pos[n] = p;
        snprintf(names[n], sizeof(names[n]), "%s", de->d_name);
        n++;
    }
    EQ(n, N + 2);
    static const int probe[] = { N / 2, 1, N + 1, 0, N - 7, 3 };
    for (size_t k = 0; k < sizeof(probe) / sizeof(probe[0]); k++) {
        int i = probe[k];
        seekdir(d, pos[i]);
        de = readdir(d);
        CHECK(de, "readdir after seekdir to entry %d returned NULL", i);
        CHECK(!strcmp(de->d_name, names[i]),
              "after seekdir to entry %d expected \"%s\", got \"%s\"", i,
              names[i], de->d_name);
    }
    /* an entry created before rewinddir is visible afterwards */
    put_str("d/late", "x");
    rewinddir(d);
    int found = 0, total = 0;
    while ((de = readdir(d)) != NULL) {
        total++;
        if (!strcmp(de->d_name, "late"))
            found++;
    }
    closedir(d);
    EQ(found, 1);
    EQ(total, N + 3);
}

TEST(dir_nlink_subdirs)
{
    OK(mkdir("d", 0755));
    EQ(xstat("d").st_nlink, 2);
    OK(mkdir("d/a", 0755));
    OK(mkdir("d/b", 0755));
    OK(mkdir("d/c", 0755));
    put_str("d/file", "x");
    OK(symlink("a", "d/link"));
    EQ(xstat("d").st_nlink, 5);
    OK(mkdir("d/a/deeper", 0755));
    EQ(xstat("d").st_nlink, 5);
    EQ(xstat("d/a").st_nlink, 3);
    OK(rmdir("d/b"));
    EQ(xstat("d").st_nlink, 4);
    OK(rmdir("d/a/deeper"));
    EQ(xstat("d/a").st_nlink, 2);
}

TEST(rmdir_errors)
{
    OK(mkdir("d", 0755));
    put_str("d/f", "x");
    ERR(rmdir("d"), ENOTEMPTY);
    OK(mkdir("e", 0755));
    OK(mkdir("e/sub", 0755));
    ERR(rmdir("e"), ENOTEMPTY);
    ERR(rmdir("d/f"), ENOTDIR);
    ERR(rmdir("missing"), ENOENT);
    ERR(rmdir("d/."), EINVAL);
    OK(symlink("e/sub", "lnk"));
    ERR(rmdir("lnk"), ENOTDIR); /* rmdir does not follow the last symlink */
    CHECK(S_ISDIR(xstat("d").st_mode), "d vanished");
    CHECK(S_ISDIR(xstat("e/sub").st_mode), "e/sub vanished");
}

TEST(unlink_basic)
{
    put_str("f", "data");
    OK(unlink("f"));
    ERR(access("f", F_OK), ENOENT);
    ERR(unlink("f"), ENOENT);
    EQ(count_entries("."), 0);
    put_str("f", "new"); /* the name is reusable */
    expect_content("f", "new");
    OK(mkdir("d", 0755));
    ERR(unlink("d"), EISDIR);
    CHECK(S_ISDIR(xstat("d").st_mode), "d vanished");
    ERR(unlink("f/x"), ENOTDIR);
    /* unlink of a symlink removes the link, not the target */
    OK(symlink("f", "l"));
    OK(unlink("l"));
    expect_content("f", "new");
}

TEST(mkdir_eexist)
{
    OK(mkdir("d", 0755));
    ERR(mkdir("d", 0755), EEXIST);
    put_str("f", "x");
    ERR(mkdir("f", 0755), EEXIST);
    OK(symlink("nowhere", "l"));
    ERR(mkdir("l", 0755), EEXIST);
    ERR(access("nowhere", F_OK), ENOENT);
    ERR(mkdir("missing/sub", 0755), ENOENT);
    ERR(mkdir("f/sub", 0755), ENOTDIR);
    CHECK(S_ISREG(xstat("f").st_mode), "f changed type");
}

/* ---- rename -------------------------------------------------------- */

TEST(rename_file_over_file)
{
    char buf[8];
    put_str("a", "AAA");
    put_str("b", "BBB");
    struct stat sa = xstat("a");
    int fd = (int)OK(open("b", O_RDONLY));
    OK(rename("a", "b"));
    ERR(access("a", F_OK), ENOENT);
    struct stat sb = xstat("b");
    EQ(sb.st_ino, sa.st_ino);
    EQ(sb.st_nlink, 1);
    expect_content("b", "AAA");
    /* the replaced inode lives on through the open fd */
    EQ(xfstat(fd).st_nlink, 0);
    EQ(pread(fd, buf, sizeof(buf), 0), 3);
    MEMEQ(buf, "BBB", 3);
    OK(close(fd));
    EQ(count_entries("."), 1);
}

TEST(rename_dir_over_empty_dir)
{
    OK(mkdir("a", 0755));
    put_str("a/inner", "in");
    OK(mkdir("b", 0755));
    struct stat sa = xstat("a");
    EQ(xstat(".").st_nlink, 4);
    OK(rename("a", "b"));
    ERR(access("a", F_OK), ENOENT);
    EQ(xstat("b").st_ino, sa.st_ino);
    expect_content("b/inner", "in");
    EQ(xstat(".").st_nlink, 3);
    EQ(xstat("b/..").st_ino, xstat(".").st_ino);
}

TEST(rename_dir_over_nonempty)
{
    OK(mkdir("a", 0755));
    OK(mkdir("b", 0755));
    put_str("b/x", "x");
    ERR(rename("a", "b"), ENOTEMPTY);
    CHECK(S_ISDIR(xstat("a").st_mode), "a vanished");
    expect_content("b/x", "x");
}

TEST(rename_type_mismatch)
{
    put_str("f", "x");
    OK(mkdir("d", 0755));
    ERR(rename("f", "d"), EISDIR);
    ERR(rename("d", "f"), ENOTDIR);
    ERR(rename("f", "d/"), ENOTDIR);
    ERR2(rename("f/", "g"), ENOTDIR, ENOTDIR);
    CHECK(S_ISREG(xstat("f").st_mode), "f changed");
    CHECK(S_ISDIR(xstat("d").st_mode), "d changed");
    EQ(count_entries("d"), 0);
}

TEST(rename_into_own_subtree)
{
    OK(mkdir("a", 0755));
    OK(mkdir("a/b", 0755));
    OK(mkdir("a/b/c", 0755));
    ERR(rename("a", "a/b/c/x"), EINVAL);
    ERR(rename("a", "a/x"), EINVAL);
    ERR(rename("a/b", "a/b/c/b"), EINVAL);
    ERR(syscall(SYS_renameat2, AT_FDCWD, "a", AT_FDCWD, "a/b",
                RENAME_EXCHANGE), EINVAL);
    CHECK(S_ISDIR(xstat("a/b/c").st_mode), "tree damaged");
    ERR(access("a/x", F_OK), ENOENT);
}

TEST(rename_across_dirs)
{
    OK(mkdir("p1", 0755));
    OK(mkdir("p2", 0755));
    put_str("p1/f", "file");
    OK(mkdir("p1/sub", 0755));
    put_str("p1/sub/inner", "inner");
    struct stat sf = xstat("p1/f"), ss = xstat("p1/sub");
    EQ(xstat("p1").st_nlink, 3);
    EQ(xstat("p2").st_nlink, 2);

    OK(rename("p1/f", "p2/g"));
    OK(rename("p1/sub", "p2/sub2"));
    ERR(access("p1/f", F_OK), ENOENT);
    ERR(access("p1/sub", F_OK), ENOENT);
    EQ(xstat("p2/g").st_ino, sf.st_ino);
    EQ(xstat("p2/sub2").st_ino, ss.st_ino);
    expect_content("p2/g", "file");
    expect_content("p2/sub2/inner", "inner");
    EQ(xstat("p1").st_nlink, 2);
    EQ(xstat("p2").st_nlink, 3);
    EQ(xstat("p2/sub2/..").st_ino, xstat("p2").st_ino);
    expect_content("p2/sub2/../g", "file");
    EQ(count_entries("p1"), 0);
    EQ(count_entries("p2"), 2);
    OK(rmdir("p1"));
}

TEST(rename_to_itself)
{
    put_str("f", "same");
    struct stat st = xstat("f");
    OK(rename("f", "f"));
    EQ(xstat("f").st_ino, st.st_ino);
    expect_content("f", "same");
    OK(mkdir("d", 0755));
    OK(rename("d", "d"));
    CHECK(S_ISDIR(xstat("d").st_mode), "d vanished");
    /* two hard links of one inode: POSIX says success and no action */
    OK(link("f", "g"));
    OK(rename("f", "g"));
    EQ(xstat("f").st_ino, st.st_ino);
    EQ(xstat("g").st_ino, st.st_ino);
    EQ(xstat("f").st_nlink, 2);
}

TEST(rename_noreplace)
{
    put_str("a", "A");
    put_str("b", "B");
    OK(mkdir("d", 0755));
    ERR(rename2("a", "b", RENAME_NOREPLACE), EEXIST);
    ERR(rename2("a", "d", RENAME_NOREPLACE), EEXIST);
    expect_content("a", "A");
    expect_content("b", "B");
    OK(rename2("a", "c", RENAME_NOREPLACE));
    ERR(access("a", F_OK), ENOENT);
    expect_content("c", "A");
    OK(rename2("d", "d2", RENAME_NOREPLACE));
    CHECK(S_ISDIR(xstat("d2").st_mode), "d2 not a directory");
}

TEST(rename_exchange_files)
{
    put_str("a", "AAAA");
    put_str("b", "BB");
    struct stat sa = xstat("a"), sb = xstat("b");
    OK(rename2("a", "b", RENAME_EXCHANGE));
    EQ(xstat("a").st_ino, sb.st_ino);
    EQ(xstat("b").st_ino, sa.st_ino);
    expect_content("a", "BB");
    expect_content("b", "AAAA");
    EQ(count_entries("."), 2);
}

TEST(rename_exchange_file_dir)
{
    OK(mkdir("p1", 0755));
    OK(mkdir("p2", 0755));
    put_str("p1/f", "file");
    OK(mkdir("p2/d", 0755));
    put_str("p2/d/inner", "inner");
    struct stat sf = xstat("p1/f"), sd = xstat("p2/d");
    EQ(xstat("p1").st_nlink, 2);
    EQ(xstat("p2").st_nlink, 3);
    OK(rename2("p1/f", "p2/d", RENAME_EXCHANGE));
    struct stat nf = xstat("p1/f"), nd = xstat("p2/d");
    EQ(nf.st_ino, sd.st_ino);
    EQ(nd.st_ino, sf.st_ino);
    CHECK(S_ISDIR(nf.st_mode), "p1/f is not a directory after exchange");
    CHECK(S_ISREG(nd.st_mode), "p2/d is not a file after exchange");
    expect_content("p1/f/inner", "inner");
    expect_content("p2/d", "file");
    EQ(xstat("p1").st_nlink, 3);
    EQ(xstat("p2").st_nlink, 2);
    EQ(xstat("p1/f/..").st_ino, xstat("p1").st_ino);
}

TEST(rename_exchange_missing)
{
    put_str("a", "A");
    ERR(rename2("a", "missing", RENAME_EXCHANGE), ENOENT);
    ERR(rename2("missing", "a", RENAME_EXCHANGE), ENOENT);
    ERR(rename2("a", "a2", RENAME_EXCHANGE | RENAME_NOREPLACE), EINVAL);
    expect_content("a", "A");
    ERR(access("missing", F_OK), ENOENT);
}

TEST(rename_errors)
{
    put_str("f", "x");
    ERR(rename("missing", "x"), ENOENT);
    ERR(rename("f", "nodir/f"), ENOENT);
    ERR(rename("f", "f/x"), ENOTDIR);
    ERR2(rename(".", "x"), EINVAL, EBUSY);
    ERR2(rename("f", "."), EINVAL, EBUSY);
    expect_content("f", "x");
}

/* ---- hard links ---------------------------------------------------- */

TEST(link_basic)
{
    put_str("a", "shared");
    struct stat sa = xstat("a");
    EQ(sa.st_nlink, 1);
    OK(mkdir("d", 0755));
    OK(link("a", "d/b"));
    struct stat sb = xstat("d/b");
    EQ(sb.st_ino, sa.st_ino);
    EQ(sb.st_nlink, 2);
    EQ(xstat("a").st_nlink, 2);
    int fd = (int)OK(open("d/b", O_WRONLY | O_APPEND));
    write_all(fd, "+more", 5);
    OK(close(fd));
    expect_content("a", "shared+more");
    OK(unlink("a"));
    EQ(xstat("d/b").st_nlink, 1);
    expect_content("d/b", "shared+more");
}

TEST(link_errors)
{
    put_str("a", "x");
    put_str("b", "y");
    OK(mkdir("d", 0755));
    ERR(link("d", "d2"), EPERM);
    ERR(link("a", "b"), EEXIST);
    ERR(link("a", "d"), EEXIST);
    ERR(link("missing", "c"), ENOENT);
    ERR(link("a", "nodir/c"), ENOENT);
    EQ(xstat("a").st_nlink, 1);
    expect_content("b", "y");
    ERR(access("d2", F_OK), ENOENT);
}

TEST(open_unlinked_file)
{
    char buf[32];
    int fd = (int)OK(open("f", O_RDWR | O_CREAT, 0644));
    write_all(fd, "before", 6);
    OK(unlink("f"));
    ERR(access("f", F_OK), ENOENT);
    EQ(count_entries("."), 0);
    struct stat st = xfstat(fd);
    EQ(st.st_nlink, 0);
    EQ(st.st_size, 6);
    write_all(fd, "+after", 6);
    EQ(pread(fd, buf, sizeof(buf), 0), 12);
    MEMEQ(buf, "before+after", 12);
    OK(ftruncate(fd, 3));
    EQ(xfstat(fd).st_size, 3);
    OK(close(fd));
    /* a new file with the same name is independent */
    put_str("f", "fresh");
    expect_content("f", "fresh");
}

/* ---- symlinks ------------------------------------------------------ */

TEST(symlink_readlink)
{
    const char *target = "some/target/../path with spaces";
    size_t len = strlen(target);
    char buf[256];
    OK(symlink(target, "l"));
    memset(buf, 'Z', sizeof(buf));
    EQ(readlink("l", buf, sizeof(buf)), (long long)len);
    MEMEQ(buf, target, len);
    EQ(buf[len], 'Z'); /* readlink does not NUL-terminate */
    struct stat st = xlstat("l");
    CHECK(S_ISLNK(st.st_mode), "lstat: not a symlink: 0%o", st.st_mode);
    EQ(st.st_size, (long long)len);
    EQ(st.st_nlink, 1);
    /* truncated read */
    EQ(readlink("l", buf, 4), 4);
    MEMEQ(buf, "some", 4);
    put_str("f", "x");
    ERR(readlink("f", buf, sizeof(buf)), EINVAL);
    ERR(readlink("missing", buf, sizeof(buf)), ENOENT);
    ERR(symlink("x", "l"), EEXIST);
    ERR(symlink("", "empty"), ENOENT);
}

TEST(symlink_follow)
{
    put_str("file", "content");
    OK(mkdir("dir", 0755));
    OK(symlink("file", "lf"));
    OK(symlink("dir", "ld"));
    expect_content("lf", "content");
    EQ(xstat("lf").st_ino, xstat("file").st_ino);
    CHECK(S_ISDIR(xstat("ld").st_mode), "stat through dir link not a dir");
    CHECK(S_ISLNK(xlstat("ld").st_mode), "lstat of dir link not a link");
    CHECK(S_ISDIR(xlstat("ld/").st_mode), "trailing slash did not follow");
    put_str("ld/new", "via link");
    expect_content("dir/new", "via link");
    OK(chmod("lf", 0600)); /* chmod follows */
    EQ_MODE(xstat("file").st_mode & 07777, 0600);
    /* relative targets resolve against the link's directory */
    OK(mkdir("sub", 0755));
    OK(symlink("../file", "sub/up"));
    expect_content("sub/up", "content");
    /* chains */
    OK(symlink("lf", "lf2"));
    OK(symlink("sub/up", "lf3"));
    expect_content("lf2", "content");
    expect_content("lf3", "content");
}

TEST(symlink_dangling)
{
    OK(symlink("nonexistent", "l"));
    ERR(open("l", O_RDONLY), ENOENT);
    struct stat st;
    ERR(stat("l", &st), ENOENT);
    CHECK(S_ISLNK(xlstat("l").st_mode), "lstat of dangling link");
    /* O_CREAT through a dangling symlink creates the target */
    int fd = (int)OK(open("l", O_WRONLY | O_CREAT, 0644));
    write_all(fd, "made", 4);
    OK(close(fd));
    expect_content("nonexistent", "made");
    CHECK(S_ISLNK(xlstat("l").st_mode), "link replaced");
}

static void check_long_symlink(size_t len)
{
    char *target = malloc(len + 1);
    char *buf = malloc(len + 16);
    CHECK(target && buf, "malloc");
    for (size_t i = 0; i < len; i++)
        target[i] = (i % 16 == 15) ? '/' : (char)('a' + i % 26);
    target[len] = '\0';
    OK(symlink(target, "l"));
    EQ(readlink("l", buf, len + 16), (long long)len);
    MEMEQ(buf, target, len);
    EQ(xlstat("l").st_size, (long long)len);
    OK(unlink("l"));
    free(target);
    free(buf);
}

TEST(symlink_long_1000)
{
    check_long_symlink(1000);
    check_long_symlink(1023);
}

TEST(symlink_long_4095)
{
    struct statvfs sv;
    char *t4095 = repeat_char('q', 4095);
    char *t4096 = repeat_char('q', 4096);
    OK(statvfs(".", &sv));
    errno = 0;
    if (symlink(t4095, "l") == 0) {
        OK(unlink("l"));
        check_long_symlink(4095);
    } else {
        /* POSIX allows a per-filesystem SYMLINK_MAX; ext2/3/4 with 1 KiB
         * or 2 KiB blocks store targets of at most one block. */
        int e = errno;
        CHECK(e == ENAMETOOLONG && sv.f_bsize < 4096,
              "symlink with 4095-byte target: expected success, got %s "
              "(f_bsize %lu)", strerror(e), (unsigned long)sv.f_bsize);
        ERR(access("l", F_OK), ENOENT);
        struct stat st;
        ERR(lstat("l", &st), ENOENT);
        tnote("4095-byte symlink refused (ENAMETOOLONG, f_bsize %lu)",
              (unsigned long)sv.f_bsize);
    }
    ERR(symlink(t4096, "l2"), ENAMETOOLONG);
    struct stat st;
    ERR(lstat("l2", &st), ENOENT);
    free(t4095);
    free(t4096);
}

TEST(symlink_nofollow)
{
    put_str("f", "x");
    OK(symlink("f", "l"));
    ERR(open("l", O_RDONLY | O_NOFOLLOW), ELOOP);
    ERR(open("l", O_WRONLY | O_NOFOLLOW | O_CREAT, 0644), ELOOP);
    int fd = (int)OK(open("f", O_RDONLY | O_NOFOLLOW));
    OK(close(fd));
    fd = (int)OK(open("l", O_PATH | O_NOFOLLOW));
    CHECK(S_ISLNK(xfstat(fd).st_mode), "O_PATH|O_NOFOLLOW fd not a link");
    OK(close(fd));
}

TEST(symlink_loops)
{
    struct stat st;
    char a[32], b[32];
    OK(symlink("b", "a"));
    OK(symlink("a", "b"));
    OK(symlink("self", "self"));
    ERR(open("a", O_RDONLY), ELOOP);
    ERR(stat("a", &st), ELOOP);
    ERR(stat("self", &st), ELOOP);
    ERR(open("self/x", O_RDONLY), ELOOP);
    CHECK(S_ISLNK(xlstat("a").st_mode), "lstat of loop link");
    /* a chain of 30 links resolves, a chain of 45 does not (Linux: 40) */
    put_str("f", "end");
    OK(symlink("f", "c0"));
    for (int i = 1; i <= 45; i++) {
        snprintf(a, sizeof(a), "c%d", i - 1);
        snprintf(b, sizeof(b), "c%d", i);
        OK(symlink(a, b));
    }
    expect_content("c30", "end");
    ERR(open("c45", O_RDONLY), ELOOP);
}

/* ---- special files ------------------------------------------------- */

TEST(mknod_fifo)
{
    char c = 0;
    OK(mkfifo("fifo", 0640));
    struct stat st = xlstat("fifo");
    CHECK(S_ISFIFO(st.st_mode), "not a fifo: 0%o", st.st_mode);
    EQ_MODE(st.st_mode & 07777, 0640);
    EQ(st.st_size, 0);
    OK(mknod("fifo2", S_IFIFO | 0600, 0));
    CHECK(S_ISFIFO(xlstat("fifo2").st_mode), "mknod S_IFIFO not a fifo");
    /* the node works as a pipe */
    int r = (int)OK(open("fifo", O_RDONLY | O_NONBLOCK));
    int w = (int)OK(open("fifo", O_WRONLY | O_NONBLOCK));
    EQ(write(w, "p", 1), 1);
    EQ(read(r, &c, 1), 1);
    EQ(c, 'p');
    OK(close(w));
    OK(close(r));
    ERR(mkfifo("fifo", 0600), EEXIST);
}

TEST(mknod_char_block)
{
    dev_t cdev = makedev(1, 3), bdev = makedev(7, 250);
    OK(mknod("chr", S_IFCHR | 0600, cdev));
    OK(mknod("blk", S_IFBLK | 0640, bdev));
    struct stat sc = xlstat("chr"), sb = xlstat("blk");
    CHECK(S_ISCHR(sc.st_mode), "chr: wrong type 0%o", sc.st_mode);
    CHECK(S_ISBLK(sb.st_mode), "blk: wrong type 0%o", sb.st_mode);
    EQ(major(sc.st_rdev), 1);
    EQ(minor(sc.st_rdev), 3);
    EQ(major(sb.st_rdev), 7);
    EQ(minor(sb.st_rdev), 250);
    EQ_MODE(sc.st_mode & 07777, 0600);
    EQ_MODE(sb.st_mode & 07777, 0640);
    /* large major/minor numbers survive too */
    dev_t big = makedev(300, 70000);
    OK(mknod("big", S_IFCHR | 0600, big));
    struct stat sg = xlstat("big");
    EQ(major(sg.st_rdev), 300);
    EQ(minor(sg.st_rdev), 70000);
    ERR(mknod("chr", S_IFCHR | 0600, cdev), EEXIST);
    OK(unlink("chr"));
    OK(unlink("blk"));
}

TEST(unix_socket_node)
{
    struct sockaddr_un sa;
    char c = 0;
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    strcpy(sa.sun_path, "sock");
    int s = (int)OK(socket(AF_UNIX, SOCK_STREAM, 0));
    OK(bind(s, (struct sockaddr *)&sa, sizeof(sa)));
    OK(listen(s, 1));
    struct stat st = xlstat("sock");
    CHECK(S_ISSOCK(st.st_mode), "bound path is not a socket: 0%o",
          st.st_mode);
    int c1 = (int)OK(socket(AF_UNIX, SOCK_STREAM, 0));
    OK(connect(c1, (struct sockaddr *)&sa, sizeof(sa)));
    int a = (int)OK(accept(s, NULL, NULL));
    EQ(write(c1, "s", 1), 1);
    EQ(read(a, &c, 1), 1);
    EQ(c, 's');
    close(a);
    close(c1);
    close(s);
    /* a second bind to the existing node fails */
    s = (int)OK(socket(AF_UNIX, SOCK_STREAM, 0));
    ERR(bind(s, (struct sockaddr *)&sa, sizeof(sa)), EADDRINUSE);
    close(s);
    OK(unlink("sock"));
}

/* ---- name lengths -------------------------------------------------- */

TEST(name_255_bytes)
{
    char *name = repeat_char('n', 255);
    struct dirent *de;
    int found = 0;
    name[0] = 'A';
    name[254] = 'Z';
    put_str(name, "long name");
    expect_content(name, "long name");
    CHECK(S_ISREG(xstat(name).st_mode), "255-byte name");
    DIR *d = opendir(".");
    CHECK(d, "opendir: %s", strerror(errno));
    while ((de = readdir(d)) != NULL)
        if (!strcmp(de->d_name, name))
            found++;
    closedir(d);
    EQ(found, 1);
    char *other = repeat_char('m', 255);
    OK(rename(name, other));
    OK(mkdir(name, 0755));
    OK(symlink(name, "lnk"));
    OK(link(other, "hard"));
    OK(unlink(other));
    OK(unlink("hard"));
    OK(rmdir(name));
    OK(unlink("lnk"));
    EQ(count_entries("."), 0);
    free(name);
    free(other);
}

TEST(name_256_enametoolong)
{
    char *name = repeat_char('n', 256);
    struct stat st;
    ERR(open(name, O_CREAT | O_WRONLY, 0644), ENAMETOOLONG);
    ERR(mkdir(name, 0755), ENAMETOOLONG);
    ERR(stat(name, &st), ENAMETOOLONG);
    ERR(symlink("x", name), ENAMETOOLONG);
    put_str("f", "x");
    ERR(rename("f", name), ENAMETOOLONG);
    ERR(link("f", name), ENAMETOOLONG);
    EQ(count_entries("."), 1);
    free(name);
}

TEST(long_nested_path)
{
    enum { DEPTH = 12 };
    char path[4200] = "";
    char comp[256];
    size_t len = 0;

    for (int i = 0; i < DEPTH; i++) {
        memset(comp, 'a' + i, 255);
        comp[255] = '\0';
        len += (size_t)snprintf(path + len, sizeof(path) - len, "%s%s",
                                i ? "/" : "", comp);
        OK(mkdir(path, 0755));
    }
    CHECK(len > 3000, "path only %zu bytes", len);
    char file[4300];
    snprintf(file, sizeof(file), "%.4100s/file", path);
    put_str(file, "deep");
    expect_content(file, "deep");
    EQ(xstat(file).st_size, 4);
    /* one more 255-byte component exceeds PATH_MAX (4096) */
    char toolong[4400];
    memset(comp, 'z', 255);
    snprintf(toolong, sizeof(toolong), "%s", path);
    while (strlen(toolong) < 4100)
        strcat(strcat(toolong, "/"), comp);
    struct stat st;
    ERR(stat(toolong, &st), ENAMETOOLONG);
    OK(unlink(file));
    for (int i = DEPTH - 1; i >= 0; i--) {
        OK(rmdir(path));
        char *slash = strrchr(path, '/');
        if (slash)
            *slash = '\0';
    }
    EQ(count_entries("."), 0);
}

/*
 * A relative path of exactly PATH_MAX - 1 bytes, the longest the kernel
 * takes: 15 directories of 255 bytes, each with its '/', then a 255-byte
 * file name. The directories are made one level at a time with *at()
 * calls; everything else goes through the full path.
 */
TEST(path_max_4095)
{
    enum { NDIRS = 15, COMP = 255 };
    char path[PATH_MAX + 1], other[PATH_MAX + 1], toolong[PATH_MAX + 2];
    struct stat st, st2;
    size_t len = 0;
    int dfd, fd;

    dfd = (int)OK(open(".", O_RDONLY | O_DIRECTORY));
    for (int i = 0; i < NDIRS; i++) {
        char *comp = path + len;
        memset(comp, 'A' + i, COMP);
        comp[COMP] = '\0';
        OK(mkdirat(dfd, comp, 0755));
        int sub = (int)OK(openat(dfd, comp, O_RDONLY | O_DIRECTORY));
        OK(close(dfd));
        dfd = sub;
        comp[COMP] = '/';
        len += COMP + 1;
    }
    memset(path + len, 'f', COMP);
    len += COMP;
    path[len] = '\0';
    EQ(len, PATH_MAX - 1);

    fd = (int)OK(open(path, O_CREAT | O_EXCL | O_RDWR, 0644));
    write_all(fd, "deepest", 7);
    OK(close(fd));
    st = xstat(path);
    CHECK(S_ISREG(st.st_mode), "not a regular file");
    EQ(st.st_size, 7);
    OK(fstatat(dfd, path + len - COMP, &st2, 0));
    EQ(st2.st_ino, st.st_ino);
    expect_content(path, "deepest");

    /* one byte more (a doubled '/') names the same file but is too long */
    memcpy(toolong, path, COMP);
    toolong[COMP] = '/';
    strcpy(toolong + COMP + 1, path + COMP);
    EQ(strlen(toolong), PATH_MAX);
    ERR(stat(toolong, &st2), ENAMETOOLONG);
    ERR(open(toolong, O_RDONLY), ENAMETOOLONG);
    toolong[PATH_MAX - 1] = 'g';
    ERR(open(toolong, O_CREAT | O_WRONLY, 0644), ENAMETOOLONG);
    ERR(rename(path, toolong), ENAMETOOLONG);

    /* rename within the deepest directory: both paths 4095 bytes */
    strcpy(other, path);
    other[len - 1] = 'g';
    OK(rename(path, other));
    ERR(stat(path, &st2), ENOENT);
    EQ(xstat(other).st_ino, st.st_ino);
    expect_content(other, "deepest");
    OK(fstatat(dfd, other + len - COMP, &st2, 0));
    EQ(st2.st_ino, st.st_ino);
    OK(unlink(other));
    ERR(fstatat(dfd, other + len - COMP, &st2, 0), ENOENT);
    OK(close(dfd));

    /* remove the directories deepest first, by paths that shrink */
    for (int i = NDIRS - 1; i >= 0; i--) {
        path[(size_t)i * (COMP + 1) + COMP] = '\0';
        OK(rmdir(path));
    }
    EQ(count_entries("."), 0);
}

const struct testcase dir_cases[] = {
    TC(mkdir_rmdir),
    TC(readdir_exact_entries),
    TC(readdir_while_unlinking),
    TC(readdir_1500_entries),
    TC(readdir_seekdir_rewind),
    TC(dir_nlink_subdirs),
    TC(rmdir_errors),
    TC(unlink_basic),
    TC(mkdir_eexist),
    TC(rename_file_over_file),
    TC(rename_dir_over_empty_dir),
    TC(rename_dir_over_nonempty),
    TC(rename_type_mismatch),
    TC(rename_into_own_subtree),
    TC(rename_across_dirs),
    TC(rename_to_itself),
    TC(rename_noreplace),
    TC(rename_exchange_files),
    TC(rename_exchange_file_dir),
    TC(rename_exchange_missing),
    TC(rename_errors),
    TC(link_basic),
    TC(link_errors),
    TC(open_unlinked_file),
    TC(symlink_readlink),
    TC(symlink_follow),
    TC(symlink_dangling),
    TC(symlink_long_1000),
    TC(symlink_long_4095),
    TC(symlink_nofollow),
    TC(symlink_loops),
    TC(mknod_fifo),
    TC(mknod_char_block),
    TC(unix_socket_node),
    TC(name_255_bytes),
    TC(name_256_enametoolong),
    TC(long_nested_path),
    TC(path_max_4095),
    TC_END,
};
