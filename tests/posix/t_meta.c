/*
 * uvfs POSIX behaviour suite - ownership and permissions, timestamps,
 * extended attributes, statfs and assorted error codes.
 */
#include "suite.h"

#include <dirent.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

/* ---- permissions (checks run as uid/gid 65534) --------------------- */

static void nobody_read_secret(void)
{
    ERR(open("secret", O_RDONLY), EACCES);
    ERR(open("secret", O_WRONLY), EACCES);
    ERR(open("secret", O_RDWR | O_TRUNC), EACCES);
    ERR(truncate("secret", 0), EACCES);
    ERR(access("secret", R_OK), EACCES);
    /* stat needs no permission on the file itself */
    EQ(xstat("secret").st_size, 6);
}

TEST(perm_read_denied)
{
    put_file("secret", "secret", 6, 0600);
    OK(chmod("secret", 0600));
    as_nobody(nobody_read_secret);
    expect_content("secret", "secret");
}

static void nobody_dir_write(void)
{
    ERR(open("d/new", O_CREAT | O_WRONLY, 0644), EACCES);
    ERR(mkdir("d/sub", 0755), EACCES);
    ERR(unlink("d/f"), EACCES);
    ERR(rename("d/f", "d/g"), EACCES);
    ERR(symlink("x", "d/l"), EACCES);
    ERR(mkfifo("d/p", 0644), EACCES);
    /* the file itself is world writable: writing its data is fine */
    int fd = (int)OK(open("d/f", O_WRONLY | O_APPEND));
    write_all(fd, "+w", 2);
    OK(close(fd));
}

TEST(perm_dir_write_denied)
{
    OK(mkdir("d", 0755));
    put_str("d/f", "f");
    OK(chmod("d/f", 0666));
    as_nobody(nobody_dir_write);
    EQ(count_entries("d"), 1);
    expect_content("d/f", "f+w");
}

static void nobody_search(void)
{
    struct stat st;
    ERR(stat("noexec/f", &st), EACCES);
    ERR(open("noexec/f", O_RDONLY), EACCES);
    ERR(chdir("noexec"), EACCES);
    DIR *d = opendir("noexec"); /* reading the names is allowed (r bit) */
    CHECK(d, "opendir of r-only dir: %s", strerror(errno));
    closedir(d);
    /* x without r: lookup works, listing does not */
    expect_content("xonly/f", "visible");
    ERR(opendir("xonly") ? 0 : -1, EACCES);
}

TEST(perm_search_denied)
{
    OK(mkdir("noexec", 0755));
    put_str("noexec/f", "hidden");
    OK(chmod("noexec", 0766));
    OK(mkdir("xonly", 0755));
    put_str("xonly/f", "visible");
    OK(chmod("xonly", 0711));
    as_nobody(nobody_search);
}

static void nobody_chmod(void)
{
    ERR(chmod("f", 0777), EPERM);
    int fd = (int)OK(open("f", O_RDWR));
    ERR(fchmod(fd, 0777), EPERM);
    OK(close(fd));
}

TEST(perm_chmod_not_owner)
{
    put_str("f", "x");
    OK(chmod("f", 0666));
    as_nobody(nobody_chmod);
    EQ_MODE(xstat("f").st_mode & 07777, 0666);
}

static void nobody_chown(void)
{
    ERR(chown("f", 0, (gid_t)-1), EPERM);
    ERR(chown("f", 1234, (gid_t)-1), EPERM);
    ERR(chown("f", (uid_t)-1, 0), EPERM);
    ERR(chown("rootfile", NOBODY_UID, (gid_t)-1), EPERM);
    /* no-op changes to the owner's own ids are allowed */
    OK(chown("f", NOBODY_UID, NOBODY_GID));
    OK(chown("f", (uid_t)-1, (gid_t)-1));
}

TEST(perm_chown_not_root)
{
    put_str("f", "x");
    OK(chown("f", NOBODY_UID, NOBODY_GID));
    put_str("rootfile", "x");
    OK(chmod("rootfile", 0666));
    as_nobody(nobody_chown);
    struct stat st = xstat("f");
    EQ(st.st_uid, NOBODY_UID);
    EQ(st.st_gid, NOBODY_GID);
    EQ(xstat("rootfile").st_uid, 0);
}

static void nobody_sticky(void)
{
    ERR(unlink("t/rootfile"), EPERM);
    ERR(rename("t/rootfile", "t/stolen"), EPERM);
    ERR(rmdir("t/rootdir"), EPERM);
    /* own files in the sticky dir can be removed */
    put_str("t/mine", "mine");
    OK(rename("t/mine", "t/mine2"));
    OK(unlink("t/mine2"));
    /* a world-writable file of someone else is still writable */
    int fd = (int)OK(open("t/rootfile", O_WRONLY | O_APPEND));
    write_all(fd, "!", 1);
    OK(close(fd));
}

TEST(perm_sticky_dir)
{
    OK(mkdir("t", 0755));
    OK(chmod("t", 01777));
    put_str("t/rootfile", "root");
    OK(chmod("t/rootfile", 0666));
    OK(mkdir("t/rootdir", 0777));
    EQ_MODE(xstat("t").st_mode & 07777, 01777);
    as_nobody(nobody_sticky);
    expect_content("t/rootfile", "root!");
    CHECK(S_ISDIR(xstat("t/rootdir").st_mode), "t/rootdir vanished");
    EQ(count_entries("t"), 2);
}

static void nobody_utimes(void)
{
    struct timespec ts[2] = { { 5000, 0 }, { 6000, 0 } };
    struct timespec now[2] = { { 0, UTIME_NOW }, { 0, UTIME_NOW } };
    ERR(utimensat(AT_FDCWD, "ro", NULL, 0), EACCES);
    ERR(utimensat(AT_FDCWD, "ro", now, 0), EACCES);
    ERR(utimensat(AT_FDCWD, "ro", ts, 0), EPERM);
    /* write permission is enough to set the times to "now" ... */
    OK(utimensat(AT_FDCWD, "rw", NULL, 0));
    OK(utimensat(AT_FDCWD, "rw", now, 0));
    /* ... but not to set explicit values */
    ERR(utimensat(AT_FDCWD, "rw", ts, 0), EPERM);
}

TEST(perm_utimes_not_owner)
{
    put_str("ro", "x");
    OK(chmod("ro", 0644));
    put_str("rw", "x");
    OK(chmod("rw", 0666));
    set_old_times("ro");
    set_old_times("rw");
    as_nobody(nobody_utimes);
    struct stat st = xstat("ro");
    CHECK(ts_eq(st.st_mtim, OLD_MTIME), "ro mtime changed");
    st = xstat("rw");
    CHECK(!ts_eq(st.st_mtim, OLD_MTIME), "rw mtime not updated");
}

static void nobody_owner(void)
{
    int fd = (int)OK(open("mine", O_WRONLY | O_APPEND));
    write_all(fd, " written", 8);
    OK(close(fd));
    OK(chmod("mine", 0600));
    /* owner class bits apply to the owner even if others may write */
    ERR(open("mine_ro", O_WRONLY), EACCES);
    /* group class applies to group members even if "other" may read */
    expect_content("grp_r", "g");
    ERR(open("grp_r", O_WRONLY), EACCES);
    ERR(open("grp_none", O_RDONLY), EACCES);
}

TEST(perm_owner_group_classes)
{
    put_str("mine", "mine");
    OK(chown("mine", NOBODY_UID, NOBODY_GID));
    OK(chmod("mine", 0644));
    put_str("mine_ro", "x");
    OK(chown("mine_ro", NOBODY_UID, NOBODY_GID));
    OK(chmod("mine_ro", 0466));
    put_str("grp_r", "g");
    OK(chown("grp_r", 0, NOBODY_GID));
    OK(chmod("grp_r", 0646));
    put_str("grp_none", "g");
    OK(chown("grp_none", 0, NOBODY_GID));
    OK(chmod("grp_none", 0604));
    as_nobody(nobody_owner);
    expect_content("mine", "mine written");
    EQ_MODE(xstat("mine").st_mode & 07777, 0600);
}

static void nobody_write_suid(void)
{
    int fd = (int)OK(open("suid", O_WRONLY | O_APPEND));
    write_all(fd, "x", 1);
    OK(close(fd));
}

TEST(perm_write_clears_suid)
{
    put_str("suid", "bin");
    OK(chmod("suid", 06777));
    EQ_MODE(xstat("suid").st_mode & 07777, 06777);
    as_nobody(nobody_write_suid);
    EQ_MODE(xstat("suid").st_mode & 07777, 0777);
    expect_content("suid", "binx");
}

TEST(perm_root_overrides)
{
    put_str("f", "root");
    OK(chmod("f", 0));
    int fd = (int)OK(open("f", O_RDWR)); /* DAC override */
    OK(close(fd));
    OK(access("f", R_OK | W_OK));
    ERR(access("f", X_OK), EACCES); /* root needs some x bit to execute */
    OK(chmod("f", 0100));
    OK(access("f", X_OK));
    OK(mkdir("d", 0));
    put_str("d/inside", "x"); /* root writes into a mode 0 dir */
    expect_content("d/inside", "x");
    ERR(access("missing", F_OK), ENOENT);
}

/* ---- ownership & mode as root -------------------------------------- */

TEST(chmod_basic)
{
    put_str("f", "x");
    tick();
    struct stat st0 = xstat("f");
    tick();
    OK(chmod("f", 0751));
    struct stat st1 = xstat("f");
    EQ_MODE(st1.st_mode & 07777, 0751);
    CHECK(S_ISREG(st1.st_mode), "chmod changed the file type");
    CHECK(ts_cmp(st1.st_ctim, st0.st_ctim) > 0, "chmod did not update ctime");
    int fd = (int)OK(open("f", O_RDONLY));
    OK(fchmod(fd, 04700 | 02000 | 01000));
    EQ_MODE(xfstat(fd).st_mode & 07777, 07700);
    OK(close(fd));
    OK(mkdir("d", 0755));
    OK(chmod("d", 0700));
    EQ_MODE(xstat("d").st_mode & 07777, 0700);
    CHECK(S_ISDIR(xstat("d").st_mode), "chmod changed the dir type");
}

TEST(chown_basic)
{
    put_str("f", "x");
    OK(chown("f", 1234, 5678));
    struct stat st = xstat("f");
    EQ(st.st_uid, 1234);
    EQ(st.st_gid, 5678);
    OK(chown("f", (uid_t)-1, 4321));
    st = xstat("f");
    EQ(st.st_uid, 1234);
    EQ(st.st_gid, 4321);
    int fd = (int)OK(open("f", O_RDONLY));
    OK(fchown(fd, 99, (gid_t)-1));
    EQ(xfstat(fd).st_uid, 99);
    OK(close(fd));
    /* lchown changes the link, chown through the link the target */
    OK(symlink("f", "l"));
    OK(lchown("l", 42, 43));
    EQ(xlstat("l").st_uid, 42);
    EQ(xlstat("l").st_gid, 43);
    EQ(xstat("f").st_uid, 99);
    OK(chown("l", 7, 8));
    EQ(xstat("f").st_uid, 7);
    EQ(xlstat("l").st_uid, 42);
    /* large ids */
    OK(chown("f", 100000, 200000));
    EQ(xstat("f").st_uid, 100000);
    EQ(xstat("f").st_gid, 200000);
}

TEST(chown_clears_suid)
{
    put_str("f", "x");
    OK(chmod("f", 04755));
    OK(chown("f", NOBODY_UID, (gid_t)-1));
    EQ_MODE(xstat("f").st_mode & 07777, 0755);
    put_str("g", "x");
    OK(chmod("g", 02755)); /* setgid + group exec */
    OK(chown("g", (uid_t)-1, NOBODY_GID));
    EQ_MODE(xstat("g").st_mode & 07777, 0755);
    /* directories keep their setgid bit */
    OK(mkdir("d", 0755));
    OK(chmod("d", 02755));
    OK(chown("d", NOBODY_UID, NOBODY_GID));
    EQ_MODE(xstat("d").st_mode & 07777, 02755);
}

TEST(setgid_dir_inherit)
{
    OK(mkdir("g", 0775));
    OK(chown("g", 0, 4321));
    OK(chmod("g", 02775));
    put_str("g/f", "x");
    EQ(xstat("g/f").st_gid, 4321);
    OK(mkdir("g/sub", 0755));
    struct stat st = xstat("g/sub");
    EQ(st.st_gid, 4321);
    CHECK(st.st_mode & S_ISGID, "subdir did not inherit setgid: 0%o",
          st.st_mode & 07777);
    OK(mkdir("plain", 0755));
    put_str("plain/f", "x");
    EQ(xstat("plain/f").st_gid, getegid());
}

/* ---- timestamps ---------------------------------------------------- */

/* mtime must have been set to "now" (it was OLD_MTIME) and ctime must have
 * advanced past `before`. */
static void expect_touched(const char *path, const struct stat *before,
                           time_t t0, const char *what)
{
    struct stat st = xlstat(path);
    if (st.st_mtim.tv_sec < t0 - 1 || st.st_mtim.tv_sec > time(NULL) + 1)
        FAIL("%s: mtime of \"%s\" not updated: expected about %lld, got %lld",
             what, path, (long long)t0, (long long)st.st_mtim.tv_sec);
    if (ts_cmp(st.st_ctim, before->st_ctim) <= 0)
        FAIL("%s: ctime of \"%s\" did not advance (%lld.%09ld -> "
             "%lld.%09ld)", what, path, (long long)before->st_ctim.tv_sec,
             before->st_ctim.tv_nsec, (long long)st.st_ctim.tv_sec,
             st.st_ctim.tv_nsec);
}

/* Prepares path for expect_touched: old times, then a clock step. */
static struct stat prepare_old(const char *path, time_t *t0)
{
    set_old_times(path);
    tick();
    *t0 = time(NULL);
    return xlstat(path);
}

TEST(time_write_updates_mtime_ctime)
{
    time_t t0;
    put_str("f", "x");
    struct stat st0 = prepare_old("f", &t0);
    int fd = (int)OK(open("f", O_WRONLY | O_APPEND));
    write_all(fd, "y", 1);
    OK(close(fd));
    expect_touched("f", &st0, t0, "write");
    struct stat st = xstat("f");
    CHECK(ts_eq(st.st_atim, OLD_ATIME), "write changed atime to %lld",
          (long long)st.st_atim.tv_sec);
    /* pwrite through an mmap-free path as well */
    st0 = prepare_old("f", &t0);
    fd = (int)OK(open("f", O_RDWR));
    EQ(pwrite(fd, "z", 1, 0), 1);
    OK(close(fd));
    expect_touched("f", &st0, t0, "pwrite");
}

TEST(time_read_no_mtime)
{
    char buf[8];
    time_t t0;
    put_str("f", "abc");
    struct stat st0 = prepare_old("f", &t0);
    EQ(get_file("f", buf, sizeof(buf)), 3);
    struct stat st = xstat("f");
    CHECK(ts_eq(st.st_mtim, OLD_MTIME), "read changed mtime");
    CHECK(ts_eq(st.st_ctim, st0.st_ctim), "read changed ctime");
}

TEST(time_chmod_ctime_only)
{
    time_t t0;
    put_str("f", "x");
    struct stat st0 = prepare_old("f", &t0);
    OK(chmod("f", 0600));
    struct stat st = xstat("f");
    CHECK(ts_cmp(st.st_ctim, st0.st_ctim) > 0, "chmod did not advance ctime");
    CHECK(ts_eq(st.st_mtim, OLD_MTIME), "chmod changed mtime");
    CHECK(ts_eq(st.st_atim, OLD_ATIME), "chmod changed atime");
    st0 = prepare_old("f", &t0);
    OK(chown("f", 1, 1));
    st = xstat("f");
    CHECK(ts_cmp(st.st_ctim, st0.st_ctim) > 0, "chown did not advance ctime");
    CHECK(ts_eq(st.st_mtim, OLD_MTIME), "chown changed mtime");
}

/*
 * chown(f, -1, -1) changes nothing but is still a change of the inode: the
 * kernel's own filesystems advance ctime (the VFS sends ATTR_CTIME alone),
 * and so must a transport that has no attribute left to send.
 */
TEST(time_chown_noop_ctime)
{
    time_t t0;
    put_str("f", "x");
    struct stat st0 = prepare_old("f", &t0);
    OK(chown("f", (uid_t)-1, (gid_t)-1));
    struct stat st = xstat("f");
    CHECK(ts_cmp(st.st_ctim, st0.st_ctim) > 0,
          "chown(f, -1, -1) did not advance ctime");
    CHECK(ts_eq(st.st_mtim, OLD_MTIME), "chown(f, -1, -1) changed mtime");
    EQ(st.st_uid, st0.st_uid);
    EQ(st.st_gid, st0.st_gid);
    EQ_MODE(st.st_mode, st0.st_mode);
    /* the same through a descriptor */
    int fd = (int)OK(open("f", O_RDONLY));
    st0 = prepare_old("f", &t0);
    OK(fchown(fd, (uid_t)-1, (gid_t)-1));
    st = xfstat(fd);
    CHECK(ts_cmp(st.st_ctim, st0.st_ctim) > 0,
          "fchown(fd, -1, -1) did not advance ctime");
    OK(close(fd));
}

TEST(time_create_updates_parent)
{
    time_t t0;
    struct stat st0;
    OK(mkdir("d", 0755));
    st0 = prepare_old("d", &t0);
    put_str("d/f", "x");
    expect_touched("d", &st0, t0, "create");
    st0 = prepare_old("d", &t0);
    OK(mkdir("d/sub", 0755));
    expect_touched("d", &st0, t0, "mkdir");
    st0 = prepare_old("d", &t0);
    OK(symlink("f", "d/l"));
    expect_touched("d", &st0, t0, "symlink");
    st0 = prepare_old("d", &t0);
    OK(mkfifo("d/p", 0644));
    expect_touched("d", &st0, t0, "mkfifo");
    /* link: parent and the linked inode's ctime */
    struct stat f0 = xstat("d/f");
    st0 = prepare_old("d", &t0);
    OK(link("d/f", "d/f2"));
    expect_touched("d", &st0, t0, "link");
    CHECK(ts_cmp(xstat("d/f").st_ctim, f0.st_ctim) > 0,
          "link did not advance the inode's ctime");
}

TEST(time_unlink_updates)
{
    time_t t0;
    OK(mkdir("d", 0755));
    put_str("d/f", "x");
    OK(link("d/f", "keep"));
    OK(mkdir("d/sub", 0755));
    struct stat f0 = xstat("keep");
    struct stat st0 = prepare_old("d", &t0);
    OK(unlink("d/f"));
    expect_touched("d", &st0, t0, "unlink");
    CHECK(ts_cmp(xstat("keep").st_ctim, f0.st_ctim) > 0,
          "unlink did not advance the remaining link's ctime");
    EQ(xstat("keep").st_nlink, 1);
    st0 = prepare_old("d", &t0);
    OK(rmdir("d/sub"));
    expect_touched("d", &st0, t0, "rmdir");
}

TEST(time_rename_updates_parents)
{
    time_t t0;
    OK(mkdir("p1", 0755));
    OK(mkdir("p2", 0755));
    put_str("p1/f", "x");
    set_old_times("p1");
    struct stat s2 = prepare_old("p2", &t0);
    struct stat s1 = xstat("p1");
    OK(rename("p1/f", "p2/g"));
    expect_touched("p1", &s1, t0, "rename (source dir)");
    expect_touched("p2", &s2, t0, "rename (target dir)");
    /* rename within one directory */
    s2 = prepare_old("p2", &t0);
    OK(rename("p2/g", "p2/h"));
    expect_touched("p2", &s2, t0, "rename (same dir)");
}

TEST(time_utimensat_ns)
{
    const struct timespec a = { 1234567891, 123456789 };
    const struct timespec m = { 1111111111, 987654321 };
    struct timespec ts[2] = { a, m };
    put_str("f", "x");
    OK(utimensat(AT_FDCWD, "f", ts, 0));
    struct stat st = xstat("f");
    CHECK(ts_eq(st.st_atim, a), "atime: expected 1234567891.123456789, got "
          "%lld.%09ld", (long long)st.st_atim.tv_sec, st.st_atim.tv_nsec);
    CHECK(ts_eq(st.st_mtim, m), "mtime: expected 1111111111.987654321, got "
          "%lld.%09ld", (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
    /* futimens, extreme nanoseconds */
    struct timespec ts2[2] = { { 1500000000, 999999999 }, { 1500000001, 1 } };
    int fd = (int)OK(open("f", O_RDONLY));
    OK(futimens(fd, ts2));
    st = xfstat(fd);
    OK(close(fd));
    CHECK(ts_eq(st.st_atim, ts2[0]), "futimens atime: got %lld.%09ld",
          (long long)st.st_atim.tv_sec, st.st_atim.tv_nsec);
    CHECK(ts_eq(st.st_mtim, ts2[1]), "futimens mtime: got %lld.%09ld",
          (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
    /* directories */
    OK(mkdir("d", 0755));
    OK(utimensat(AT_FDCWD, "d", ts, 0));
    st = xstat("d");
    CHECK(ts_eq(st.st_mtim, m), "dir mtime: got %lld.%09ld",
          (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
    /* symlink itself, target untouched */
    OK(symlink("f", "l"));
    OK(utimensat(AT_FDCWD, "l", ts, AT_SYMLINK_NOFOLLOW));
    st = xlstat("l");
    CHECK(ts_eq(st.st_mtim, m), "symlink mtime: got %lld.%09ld",
          (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
    CHECK(ts_eq(xstat("f").st_mtim, ts2[1]), "target of symlink changed");
}

TEST(time_utime_now_omit)
{
    put_str("f", "x");
    set_old_times("f");
    tick();
    time_t t0 = time(NULL);
    struct timespec ts[2] = { { 0, UTIME_OMIT }, { 0, UTIME_NOW } };
    OK(utimensat(AT_FDCWD, "f", ts, 0));
    struct stat st = xstat("f");
    CHECK(ts_eq(st.st_atim, OLD_ATIME), "UTIME_OMIT atime changed");
    CHECK(st.st_mtim.tv_sec >= t0 - 1 && st.st_mtim.tv_sec <= time(NULL) + 1,
          "UTIME_NOW mtime: expected about %lld, got %lld", (long long)t0,
          (long long)st.st_mtim.tv_sec);
    struct timespec m1 = st.st_mtim;
    struct timespec ts2[2] = { { 0, UTIME_NOW }, { 0, UTIME_OMIT } };
    OK(utimensat(AT_FDCWD, "f", ts2, 0));
    st = xstat("f");
    CHECK(st.st_atim.tv_sec >= t0 - 1, "UTIME_NOW atime: got %lld",
          (long long)st.st_atim.tv_sec);
    CHECK(ts_eq(st.st_mtim, m1), "UTIME_OMIT mtime changed");
    struct timespec ts3[2] = { { 0, UTIME_OMIT }, { 0, UTIME_OMIT } };
    struct timespec a1 = st.st_atim;
    OK(utimensat(AT_FDCWD, "f", ts3, 0));
    st = xstat("f");
    CHECK(ts_eq(st.st_atim, a1) && ts_eq(st.st_mtim, m1),
          "UTIME_OMIT for both changed the times");
    /* NULL = both now */
    set_old_times("f");
    OK(utimensat(AT_FDCWD, "f", NULL, 0));
    st = xstat("f");
    CHECK(st.st_atim.tv_sec >= t0 - 1 && st.st_mtim.tv_sec >= t0 - 1,
          "utimensat(NULL) did not set both times to now");
}

TEST(time_truncate_updates)
{
    time_t t0;
    put_str("f", "abcdef");
    struct stat st0 = prepare_old("f", &t0);
    OK(truncate("f", 2));
    expect_touched("f", &st0, t0, "truncate");
    st0 = prepare_old("f", &t0);
    int fd = (int)OK(open("f", O_WRONLY));
    OK(ftruncate(fd, 100));
    OK(close(fd));
    expect_touched("f", &st0, t0, "ftruncate");
    st0 = prepare_old("f", &t0);
    fd = (int)OK(open("f", O_WRONLY | O_TRUNC));
    OK(close(fd));
    expect_touched("f", &st0, t0, "O_TRUNC");
}

/* ---- extended attributes ------------------------------------------- */

/* Does the NUL separated list contain name exactly? */
static int list_has(const char *list, ssize_t len, const char *name)
{
    for (ssize_t i = 0; i < len; i += (ssize_t)strlen(list + i) + 1)
        if (!strcmp(list + i, name))
            return 1;
    return 0;
}

static int list_count_user(const char *list, ssize_t len)
{
    int n = 0;
    for (ssize_t i = 0; i < len; i += (ssize_t)strlen(list + i) + 1)
        if (!strncmp(list + i, "user.", 5))
            n++;
    return n;
}

TEST(xattr_roundtrip)
{
    char buf[64];
    put_str("f", "x");
    OK(setxattr("f", "user.test", "value", 5, 0));
    memset(buf, 0, sizeof(buf));
    EQ(getxattr("f", "user.test", buf, sizeof(buf)), 5);
    MEMEQ(buf, "value", 5);
    /* overwrite with a shorter, binary value */
    OK(setxattr("f", "user.test", "a\0b", 3, 0));
    EQ(getxattr("f", "user.test", buf, sizeof(buf)), 3);
    MEMEQ(buf, "a\0b", 3);
    /* empty value */
    OK(setxattr("f", "user.empty", "", 0, 0));
    EQ(getxattr("f", "user.empty", buf, sizeof(buf)), 0);
    /* data untouched */
    expect_content("f", "x");
}

TEST(xattr_create_replace)
{
    char buf[16];
    put_str("f", "x");
    OK(setxattr("f", "user.a", "1", 1, XATTR_CREATE));
    ERR(setxattr("f", "user.a", "2", 1, XATTR_CREATE), EEXIST);
    ERR(setxattr("f", "user.missing", "3", 1, XATTR_REPLACE), ENODATA);
    ERR(getxattr("f", "user.missing", buf, sizeof(buf)), ENODATA);
    EQ(getxattr("f", "user.a", buf, sizeof(buf)), 1);
    EQ(buf[0], '1');
    OK(setxattr("f", "user.a", "44", 2, XATTR_REPLACE));
    EQ(getxattr("f", "user.a", buf, sizeof(buf)), 2);
    MEMEQ(buf, "44", 2);
}

TEST(xattr_list)
{
    char list[1024];
    put_str("f", "x");
    OK(setxattr("f", "user.one", "1", 1, 0));
    OK(setxattr("f", "user.two", "22", 2, 0));
    OK(setxattr("f", "user.three", "333", 3, 0));
    ssize_t need = listxattr("f", NULL, 0);
    CHECK(need >= (ssize_t)(sizeof("user.one") + sizeof("user.two") +
                            sizeof("user.three")),
          "listxattr size query: got %zd (%s)", need,
          need < 0 ? strerror(errno) : "too small");
    ssize_t len = listxattr("f", list, sizeof(list));
    EQ(len, need);
    CHECK(list[len - 1] == '\0', "list not NUL terminated");
    CHECK(list_has(list, len, "user.one") && list_has(list, len, "user.two") &&
              list_has(list, len, "user.three"),
          "listxattr does not contain all names");
    EQ(list_count_user(list, len), 3);
    ERR(listxattr("f", list, 5), ERANGE);
    /* a file without attributes lists no user.* names */
    put_str("g", "x");
    len = listxattr("g", list, sizeof(list));
    CHECK(len >= 0, "listxattr(g): %s", strerror(errno));
    EQ(list_count_user(list, len), 0);
}

TEST(xattr_size_query_erange)
{
    char buf[8];
    put_str("f", "x");
    OK(setxattr("f", "user.v", "hello world", 11, 0));
    EQ(getxattr("f", "user.v", NULL, 0), 11);
    ERR(getxattr("f", "user.v", buf, 5), ERANGE);
    OK(setxattr("f", "user.e", "", 0, 0));
    EQ(getxattr("f", "user.e", NULL, 0), 0);
}

TEST(xattr_remove)
{
    char buf[16], list[256];
    put_str("f", "x");
    OK(setxattr("f", "user.gone", "bye", 3, 0));
    OK(setxattr("f", "user.stay", "hi", 2, 0));
    OK(removexattr("f", "user.gone"));
    ERR(getxattr("f", "user.gone", buf, sizeof(buf)), ENODATA);
    ERR(removexattr("f", "user.gone"), ENODATA);
    ssize_t len = listxattr("f", list, sizeof(list));
    CHECK(len >= 0, "listxattr: %s", strerror(errno));
    CHECK(!list_has(list, len, "user.gone"), "removed name still listed");
    CHECK(list_has(list, len, "user.stay"), "other name lost");
    EQ(getxattr("f", "user.stay", buf, sizeof(buf)), 2);
    /* can be created again */
    OK(setxattr("f", "user.gone", "back", 4, XATTR_CREATE));
    EQ(getxattr("f", "user.gone", buf, sizeof(buf)), 4);
}

static void xattr_big(const char *name, size_t len, int may_enospc)
{
    char *v = malloc(len), *b = malloc(len + 1);
    CHECK(v && b, "malloc");
    fill_random(v, len, len);
    if (setxattr("f", name, v, len, 0) != 0) {
        int e = errno;
        CHECK(may_enospc && (e == ENOSPC || e == E2BIG),
              "setxattr of %zu-byte value: %s", len, strerror(e));
        tnote("%zu-byte xattr value refused: %s", len, strerror(e));
    } else {
        EQ(getxattr("f", name, NULL, 0), (long long)len);
        EQ(getxattr("f", name, b, len + 1), (long long)len);
        MEMEQ(b, v, len);
    }
    free(v);
    free(b);
}

TEST(xattr_large_value)
{
    struct statvfs sv;
    char *huge = malloc(65537);
    CHECK(huge, "malloc");
    put_str("f", "x");
    OK(statvfs(".", &sv));
    xattr_big("user.v900", 900, 0);
    OK(removexattr("f", "user.v900"));
    /* Linux filesystems keep an inode's xattrs in one block unless they
     * have special support; only with >= 4 KiB blocks is 3000 required. */
    xattr_big("user.v3000", 3000, sv.f_bsize < 4096);
    memset(huge, 'h', 65537);
    ERR(setxattr("f", "user.huge", huge, 65537, 0), E2BIG);
    free(huge);
}

TEST(xattr_many)
{
    enum { N = 20 };
    char name[32], val[32], buf[32], list[2048];
    put_str("f", "x");
    for (int i = 0; i < N; i++) {
        snprintf(name, sizeof(name), "user.a%02d", i);
        snprintf(val, sizeof(val), "val%d", i * 7);
        OK(setxattr("f", name, val, strlen(val), XATTR_CREATE));
    }
    ssize_t len = listxattr("f", list, sizeof(list));
    CHECK(len > 0, "listxattr: %s", strerror(errno));
    EQ(list_count_user(list, len), N);
    for (int i = 0; i < N; i++) {
        snprintf(name, sizeof(name), "user.a%02d", i);
        snprintf(val, sizeof(val), "val%d", i * 7);
        CHECK(list_has(list, len, name), "%s not listed", name);
        ssize_t n = getxattr("f", name, buf, sizeof(buf));
        CHECK(n == (ssize_t)strlen(val) && !memcmp(buf, val, (size_t)n),
              "%s: wrong value (len %zd)", name, n);
    }
    for (int i = 0; i < N; i += 2) {
        snprintf(name, sizeof(name), "user.a%02d", i);
        OK(removexattr("f", name));
    }
    len = listxattr("f", list, sizeof(list));
    CHECK(len >= 0, "listxattr: %s", strerror(errno));
    EQ(list_count_user(list, len), N / 2);
}

TEST(xattr_on_directory)
{
    char buf[16], list[256];
    OK(mkdir("d", 0755));
    OK(setxattr("d", "user.dir", "dv", 2, 0));
    EQ(getxattr("d", "user.dir", buf, sizeof(buf)), 2);
    MEMEQ(buf, "dv", 2);
    ssize_t len = listxattr("d", list, sizeof(list));
    CHECK(len > 0 && list_has(list, len, "user.dir"),
          "dir xattr not listed (%zd)", len);
    put_str("d/child", "x"); /* directory changes keep the xattr */
    EQ(getxattr("d", "user.dir", buf, sizeof(buf)), 2);
    OK(removexattr("d", "user.dir"));
    ERR(getxattr("d", "user.dir", buf, sizeof(buf)), ENODATA);
}

TEST(xattr_fd_and_symlink)
{
    char buf[16], list[256];
    put_str("f", "x");
    int fd = (int)OK(open("f", O_RDONLY));
    OK(fsetxattr(fd, "user.fd", "viafd", 5, 0));
    EQ(fgetxattr(fd, "user.fd", buf, sizeof(buf)), 5);
    ssize_t len = flistxattr(fd, list, sizeof(list));
    CHECK(len > 0 && list_has(list, len, "user.fd"), "flistxattr");
    EQ(getxattr("f", "user.fd", buf, sizeof(buf)), 5);
    /* getxattr follows symlinks, lgetxattr does not */
    OK(symlink("f", "l"));
    EQ(getxattr("l", "user.fd", buf, sizeof(buf)), 5);
    ERR(lgetxattr("l", "user.fd", buf, sizeof(buf)), ENODATA);
    /* user.* attributes are not permitted on symlinks */
    ERR(lsetxattr("l", "user.x", "1", 1, 0), EPERM);
    OK(fremovexattr(fd, "user.fd"));
    ERR(fgetxattr(fd, "user.fd", buf, sizeof(buf)), ENODATA);
    OK(close(fd));
    /* survives rename and is shared by hard links */
    OK(setxattr("f", "user.keep", "k", 1, 0));
    OK(rename("f", "g"));
    OK(link("g", "h"));
    EQ(getxattr("h", "user.keep", buf, sizeof(buf)), 1);
}

TEST(xattr_invalid)
{
    char buf[16];
    char name[300];
    put_str("f", "x");
    snprintf(name, sizeof(name), "user.%s", "");
    memset(name + 5, 'n', 256);
    name[261] = '\0';
    ERR(setxattr("f", name, "1", 1, 0), ERANGE);
    ERR(getxattr("f", name, buf, sizeof(buf)), ERANGE);
    ERR(setxattr("f", "", "1", 1, 0), ERANGE);
    ERR(setxattr("f", "user.x", "1", 1, 0x100), EINVAL);
    ERR(getxattr("missing", "user.x", buf, sizeof(buf)), ENOENT);
}

/* ---- statfs -------------------------------------------------------- */

TEST(statfs_sane)
{
    struct statvfs sv, fsv;
    struct statfs sf;
    OK(statvfs(".", &sv));
    OK(statfs(".", &sf));
    CHECK(sv.f_bsize > 0 && sv.f_frsize > 0, "f_bsize %lu f_frsize %lu",
          sv.f_bsize, sv.f_frsize);
    CHECK(sv.f_blocks > 0, "f_blocks is 0");
    CHECK(sv.f_blocks >= sv.f_bfree, "f_blocks %llu < f_bfree %llu",
          (unsigned long long)sv.f_blocks, (unsigned long long)sv.f_bfree);
    CHECK(sv.f_bfree >= sv.f_bavail, "f_bfree %llu < f_bavail %llu",
          (unsigned long long)sv.f_bfree, (unsigned long long)sv.f_bavail);
    CHECK(sv.f_namemax >= 255, "f_namemax %lu", sv.f_namemax);
    CHECK(sf.f_namelen >= 255, "f_namelen %ld", (long)sf.f_namelen);
    CHECK(sv.f_files >= sv.f_ffree, "f_files %llu < f_ffree %llu",
          (unsigned long long)sv.f_files, (unsigned long long)sv.f_ffree);
    CHECK(sv.f_files == 0 || sv.f_ffree > 0, "no free inodes reported");
    int fd = (int)OK(open(".", O_RDONLY | O_DIRECTORY));
    OK(fstatvfs(fd, &fsv));
    OK(close(fd));
    EQ(fsv.f_blocks, sv.f_blocks);
    EQ(fsv.f_bsize, sv.f_bsize);
    EQ(fsv.f_fsid, sv.f_fsid);
    /* same answer from a file inside */
    put_str("f", "x");
    OK(statvfs("f", &fsv));
    EQ(fsv.f_blocks, sv.f_blocks);
}

TEST(statfs_usage_changes)
{
    const size_t size = 1024 * 1024;
    struct statvfs a, b;
    char *data = malloc(size);
    CHECK(data, "malloc");
    fill_random(data, size, 99);
    OK(statvfs(".", &a));
    int fd = (int)OK(open("f", O_WRONLY | O_CREAT, 0644));
    write_all(fd, data, size);
    OK(fsync(fd));
    OK(close(fd));
    OK(statvfs(".", &b));
    long long before = (long long)a.f_bfree * (long long)a.f_frsize;
    long long after = (long long)b.f_bfree * (long long)b.f_frsize;
    CHECK(before - after >= (long long)size / 2,
          "writing 1 MiB reduced free space by only %lld bytes "
          "(f_bfree %llu -> %llu, f_frsize %lu)", before - after,
          (unsigned long long)a.f_bfree, (unsigned long long)b.f_bfree,
          b.f_frsize);
    CHECK(xstat("f").st_blocks * 512 >= (long long)size / 2,
          "st_blocks %lld too small for 1 MiB of data",
          (long long)xstat("f").st_blocks);
    free(data);
}

/* ---- error codes --------------------------------------------------- */

TEST(err_enoent)
{
    struct stat st;
    ERR(stat("missing", &st), ENOENT);
    ERR(lstat("missing", &st), ENOENT);
    ERR(open("missing", O_RDONLY), ENOENT);
    ERR(open("missing", O_WRONLY | O_TRUNC), ENOENT);
    ERR(open("nodir/f", O_CREAT | O_WRONLY, 0644), ENOENT);
    ERR(stat("nodir/f", &st), ENOENT);
    ERR(unlink("missing"), ENOENT);
    ERR(chmod("missing", 0644), ENOENT);
    ERR(stat("", &st), ENOENT);
    ERR(opendir("missing") ? 0 : -1, ENOENT);
    EQ(count_entries("."), 0);
}

TEST(err_enotdir)
{
    struct stat st;
    put_str("f", "x");
    ERR(stat("f/x", &st), ENOTDIR);
    ERR(stat("f/", &st), ENOTDIR);
    ERR(open("f/x", O_CREAT | O_WRONLY, 0644), ENOTDIR);
    ERR(mkdir("f/x", 0755), ENOTDIR);
    ERR(chdir("f"), ENOTDIR);
    ERR(opendir("f") ? 0 : -1, ENOTDIR);
    OK(symlink("f", "l"));
    ERR(stat("l/", &st), ENOTDIR);
    ERR(open("f", O_RDONLY | O_DIRECTORY), ENOTDIR);
}

static int try_other_dir(const char *dir, dev_t mydev, char *out, size_t n)
{
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_dev == mydev)
        return 0;
    snprintf(out, n, "%s/uvfs-posix-xdev.%ld", dir, (long)getpid());
    int fd = open(out, O_CREAT | O_EXCL | O_WRONLY, 0600);
    if (fd < 0)
        return 0;
    close(fd);
    return 1;
}

TEST(err_exdev)
{
    static const char *cands[] = { "/dev/shm", "/run", "/tmp", "/" };
    char other[4200] = "";
    dev_t mydev = xstat(".").st_dev;
    int found = 0;

    if (g_other_dir) {
        found = try_other_dir(g_other_dir, mydev, other, sizeof(other));
        CHECK(found, "-x %s: not a writable directory on another filesystem",
              g_other_dir);
    } else {
        for (size_t i = 0; i < 4 && !found; i++)
            found = try_other_dir(cands[i], mydev, other, sizeof(other));
        CHECK(found, "no writable directory on another filesystem found "
              "(tried /dev/shm, /run, /tmp, /); use -x");
    }
    tnote("other filesystem file: %s", other);
    put_str("f", "local");
    OK(mkdir("d", 0755));
    errno = 0;
    int r1 = rename("f", other);
    int e1 = errno;
    int r3 = rename(other, "g");
    int e3 = errno;
    char odir[4300];
    snprintf(odir, sizeof(odir), "%s.d", other);
    int r4 = rename("d", odir);
    int e4 = errno;
    unlink(other);
    rmdir(odir);
    CHECK(r1 == -1 && e1 == EXDEV, "rename across filesystems: expected "
          "EXDEV, got %d (%s)", r1, strerror(e1));
    CHECK(r3 == -1 && e3 == EXDEV, "rename from another filesystem: expected "
          "EXDEV, got %d (%s)", r3, strerror(e3));
    CHECK(r4 == -1 && e4 == EXDEV, "rename of dir across filesystems: "
          "expected EXDEV, got %d (%s)", r4, strerror(e4));
    expect_content("f", "local");
    CHECK(S_ISDIR(xstat("d").st_mode), "d vanished");
    ERR(access("g", F_OK), ENOENT);
    /* link to a new name across filesystems */
    snprintf(odir, sizeof(odir), "%s.l", other);
    errno = 0;
    int r5 = link("f", odir);
    int e5 = errno;
    unlink(odir);
    CHECK(r5 == -1 && e5 == EXDEV, "link across filesystems: expected EXDEV, "
          "got %d (%s)", r5, strerror(e5));
}

TEST(err_ebadf)
{
    char c;
    struct stat st;
    put_str("f", "x");
    int fd = (int)OK(open("f", O_RDWR));
    OK(close(fd));
    ERR(read(fd, &c, 1), EBADF);
    ERR(write(fd, "x", 1), EBADF);
    ERR(fstat(fd, &st), EBADF);
    ERR(lseek(fd, 0, SEEK_SET), EBADF);
    ERR(ftruncate(fd, 0), EBADF);
    ERR(fchmod(fd, 0600), EBADF);
    ERR(fsync(fd), EBADF);
    ERR(close(fd), EBADF);
    ERR(openat(fd, "f", O_RDONLY), EBADF);
    ERR(fstatat(-5, "f", &st, 0), EBADF);
    expect_content("f", "x");
}

TEST(err_invalid_args)
{
    char c, buf[8];
    put_str("f", "abc");
    int fd = (int)OK(open("f", O_RDWR));
    ERR(pread(fd, &c, 1, -1), EINVAL);
    ERR(pwrite(fd, "x", 1, -1), EINVAL);
    ERR(fallocate(fd, 0, 0, 0), EINVAL);
    OK(close(fd));
    struct timespec bad[2] = { { 0, 1000000000 }, { 0, 0 } };
    ERR(utimensat(AT_FDCWD, "f", bad, 0), EINVAL);
    ERR(readlink("f", buf, 0), EINVAL);
    ERR(mknod("weird", S_IFMT | 0644, 0), EINVAL);
    ERR(mknod("dir", S_IFDIR | 0755, 0), EPERM);
    expect_content("f", "abc");
    EQ(count_entries("."), 1);
}

const struct testcase meta_cases[] = {
    TC(perm_read_denied),
    TC(perm_dir_write_denied),
    TC(perm_search_denied),
    TC(perm_chmod_not_owner),
    TC(perm_chown_not_root),
    TC(perm_sticky_dir),
    TC(perm_utimes_not_owner),
    TC(perm_owner_group_classes),
    TC(perm_write_clears_suid),
    TC(perm_root_overrides),
    TC(chmod_basic),
    TC(chown_basic),
    TC(chown_clears_suid),
    TC(setgid_dir_inherit),
    TC(time_write_updates_mtime_ctime),
    TC(time_read_no_mtime),
    TC(time_chmod_ctime_only),
    TC(time_chown_noop_ctime),
    TC(time_create_updates_parent),
    TC(time_unlink_updates),
    TC(time_rename_updates_parents),
    TC(time_utimensat_ns),
    TC(time_utime_now_omit),
    TC(time_truncate_updates),
    TC(xattr_roundtrip),
    TC(xattr_create_replace),
    TC(xattr_list),
    TC(xattr_size_query_erange),
    TC(xattr_remove),
    TC(xattr_large_value),
    TC(xattr_many),
    TC(xattr_on_directory),
    TC(xattr_fd_and_symlink),
    TC(xattr_invalid),
    TC(statfs_sane),
    TC(statfs_usage_changes),
    TC(err_enoent),
    TC(err_enotdir),
    TC(err_exdev),
    TC(err_ebadf),
    TC(err_invalid_args),
    TC_END,
};
