// SPDX-License-Identifier: MIT
/*
 * The FUSE transport end to end: a small recording backend mounted through
 * libfuse on a temporary directory, exercised with ordinary system calls.
 * Checks the mapping of arguments and replies in both directions, readdirplus
 * re-encoding (every lookup count handed out is forgotten again), replies
 * sent later from another thread, notifications, and the worker loop:
 * READs served in parallel, quick requests on one thread.
 *
 * Needs root and /dev/fuse; without them every test fails (never a silent
 * skip).
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "uvfs_i.h"
#include "check_run.h"

#define INO_FILE 2
#define INO_LINK 3
#define INO_DIR 4
#define INO_SLOW 5
#define INO_PAR 6	/* its READs wait until NPAR of them are inside */
#define NPAR 4
#define INO_ENT0 100
#define NENT 500

static const char content[] = "hello world";

static struct {
	atomic_long lookups;	/* counts handed out for INO_ENT0.. */
	atomic_long forgets;
	uint32_t setattr_valid;
	struct stat setattr_st;
	unsigned int rename_flags;
	size_t write_size;
	/* test_parallel_reads */
	pthread_mutex_t par_lock;
	pthread_cond_t par_cv;
	int par_inside, par_most;
	/* test_quick_ops_one_thread */
	bool record_tids;
	pthread_t tids[64];
	atomic_int ntids;
} rec;

static void fill_attr(uint64_t ino, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	st->st_nlink = 1;
	st->st_mtim.tv_sec = 1000000000;
	st->st_mtim.tv_nsec = 123456789;
	switch (ino) {
	case 1:
	case INO_DIR:
		st->st_mode = S_IFDIR | 0755;
		st->st_nlink = 2;
		break;
	case INO_LINK:
		st->st_mode = S_IFLNK | 0777;
		st->st_size = 11;
		break;
	default:
		st->st_mode = S_IFREG | 0644;
		st->st_size = sizeof(content) - 1;
		break;
	}
}

static void fill_entry(uint64_t ino, struct uvfs_entry *e)
{
	memset(e, 0, sizeof(*e));
	e->ino = ino;
	fill_attr(ino, &e->attr);
	e->attr_timeout = 60;
	e->entry_timeout = 60;
}

static void be_lookup(struct uvfs_req *req, uint64_t parent, const char *name)
{
	struct uvfs_entry e;
	uint64_t ino = 0;

	if (parent == 1) {
		if (!strcmp(name, "file"))
			ino = INO_FILE;
		else if (!strcmp(name, "link"))
			ino = INO_LINK;
		else if (!strcmp(name, "dir"))
			ino = INO_DIR;
		else if (!strcmp(name, "slow"))
			ino = INO_SLOW;
		else if (!strcmp(name, "par"))
			ino = INO_PAR;
	} else if (parent == INO_DIR && name[0] == 'e') {
		int i = atoi(name + 1);

		if (i >= 0 && i < NENT) {
			ino = INO_ENT0 + (uint64_t)i;
			atomic_fetch_add(&rec.lookups, 1);
		}
	}
	if (!ino) {
		uvfs_reply_err(req, -ENOENT);
		return;
	}
	fill_entry(ino, &e);
	uvfs_reply_entry(req, &e);
}

static void be_forget(struct uvfs_req *req, uint64_t ino, uint64_t nlookup)
{
	if (ino >= INO_ENT0)
		atomic_fetch_add(&rec.forgets, (long)nlookup);
	uvfs_reply_none(req);
}

static void be_getattr(struct uvfs_req *req, uint64_t ino,
		       struct uvfs_file_info *fi)
{
	struct stat st;
	int i;

	if (rec.record_tids) {
		i = atomic_fetch_add(&rec.ntids, 1);
		if (i < 64)
			rec.tids[i] = pthread_self();
	}
	fill_attr(ino, &st);
	uvfs_reply_attr(req, &st, 0);
}

static void be_setattr(struct uvfs_req *req, uint64_t ino,
		       const struct stat *attr, uint32_t to_set,
		       struct uvfs_file_info *fi)
{
	struct stat st;

	rec.setattr_valid = to_set;
	rec.setattr_st = *attr;
	fill_attr(ino, &st);
	if (to_set & UVFS_SET_SIZE)
		st.st_size = attr->st_size;
	uvfs_reply_attr(req, &st, 0);
}

static void be_readlink(struct uvfs_req *req, uint64_t ino)
{
	uvfs_reply_readlink(req, "target/path");
}

static void be_mkdir(struct uvfs_req *req, uint64_t parent, const char *name,
		     mode_t mode)
{
	uvfs_reply_err(req, -EROFS);
}

static void be_rename(struct uvfs_req *req, uint64_t parent, const char *name,
		      uint64_t newparent, const char *newname,
		      unsigned int flags)
{
	rec.rename_flags = flags;
	uvfs_reply_err(req, 0);
}

static void be_open(struct uvfs_req *req, uint64_t ino,
		    struct uvfs_file_info *fi)
{
	fi->fh = ino * 10;
	fi->direct_io = ino == INO_SLOW || ino == INO_PAR;
	uvfs_reply_open(req, fi);
}

struct later {
	struct uvfs_req *req;
	size_t size;
};

static void *reply_later(void *arg)
{
	struct later *l = arg;
	size_t n = l->size < sizeof(content) - 1 ? l->size :
						     sizeof(content) - 1;

	usleep(50 * 1000);
	uvfs_reply_buf(l->req, content, n);
	free(l);
	return NULL;
}

/*
 * A READ that waits (at most 3 s) until NPAR READs are inside the backend
 * at once: it succeeds only if the transport serves them in parallel.
 */
static void par_read(struct uvfs_req *req)
{
	struct timespec deadline;
	int err = 0;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += 3;
	pthread_mutex_lock(&rec.par_lock);
	rec.par_inside++;
	if (rec.par_inside > rec.par_most)
		rec.par_most = rec.par_inside;
	pthread_cond_broadcast(&rec.par_cv);
	while (rec.par_most < NPAR && !err)
		err = pthread_cond_timedwait(&rec.par_cv, &rec.par_lock,
					     &deadline);
	rec.par_inside--;
	pthread_mutex_unlock(&rec.par_lock);
	if (err)
		uvfs_reply_err(req, -ETIMEDOUT);
	else
		uvfs_reply_buf(req, content, sizeof(content) - 1);
}

static void be_read(struct uvfs_req *req, uint64_t ino, size_t size,
		    off_t off, struct uvfs_file_info *fi)
{
	size_t n = 0;
	char *buf;

	ck_assert_uint_eq(fi->fh, ino * 10);
	if (ino == INO_PAR) {
		par_read(req);
		return;
	}
	if (ino == INO_SLOW) {
		struct later *l = malloc(sizeof(*l));
		pthread_t t;

		l->req = req;
		l->size = size;
		pthread_create(&t, NULL, reply_later, l);
		pthread_detach(t);
		return;
	}
	buf = uvfs_req_outbuf(req, size);
	ck_assert_ptr_nonnull(buf);
	if ((size_t)off < sizeof(content) - 1) {
		n = sizeof(content) - 1 - (size_t)off;
		if (n > size)
			n = size;
		memcpy(buf, content + off, n);
	}
	uvfs_reply_buf(req, buf, n);
}

static void be_write(struct uvfs_req *req, uint64_t ino, const void *buf,
		     size_t size, off_t off, struct uvfs_file_info *fi)
{
	rec.write_size += size;
	uvfs_reply_write(req, size);
}

static void list(struct uvfs_req *req, uint64_t ino, size_t size, off_t off,
		 bool plus)
{
	char *buf = malloc(size);
	size_t used = 0, n;
	long i;

	for (i = off; ino == INO_DIR && i < NENT; i++) {
		char name[32];
		struct uvfs_entry e;

		snprintf(name, sizeof(name), "e%ld", i);
		fill_entry(INO_ENT0 + (uint64_t)i, &e);
		if (plus)
			n = uvfs_add_direntplus(buf + used, size - used, name,
						&e, i + 1);
		else
			n = uvfs_add_dirent(buf + used, size - used, name,
					    &e.attr, i + 1);
		if (n > size - used)
			break;
		if (plus)
			atomic_fetch_add(&rec.lookups, 1);
		used += n;
	}
	uvfs_reply_buf(req, buf, used);
	free(buf);
}

static void be_readdir(struct uvfs_req *req, uint64_t ino, size_t size,
		       off_t off, struct uvfs_file_info *fi)
{
	list(req, ino, size, off, false);
}

static void be_readdirplus(struct uvfs_req *req, uint64_t ino, size_t size,
			   off_t off, struct uvfs_file_info *fi)
{
	list(req, ino, size, off, true);
}

static void be_statfs(struct uvfs_req *req, uint64_t ino)
{
	struct statvfs sv;

	memset(&sv, 0, sizeof(sv));
	sv.f_bsize = 4096;
	sv.f_frsize = 1024;
	sv.f_blocks = 1000;
	sv.f_bfree = 600;
	sv.f_bavail = 500;
	sv.f_files = 77;
	sv.f_ffree = 33;
	sv.f_namemax = 200;
	uvfs_reply_statfs(req, &sv);
}

static void be_getxattr(struct uvfs_req *req, uint64_t ino, const char *name,
			size_t size)
{
	if (strcmp(name, "user.x")) {
		uvfs_reply_err(req, -ENODATA);
		return;
	}
	if (size == 0)
		uvfs_reply_xattr(req, 3);
	else if (size < 3)
		uvfs_reply_err(req, -ERANGE);
	else
		uvfs_reply_buf(req, "vvv", 3);
}

static void be_listxattr(struct uvfs_req *req, uint64_t ino, size_t size)
{
	static const char names[] = "user.x\0user.y";

	if (size == 0)
		uvfs_reply_xattr(req, sizeof(names));
	else
		uvfs_reply_buf(req, names, sizeof(names));
}

static const struct uvfs_ops test_ops = {
	.lookup = be_lookup,
	.forget = be_forget,
	.getattr = be_getattr,
	.setattr = be_setattr,
	.readlink = be_readlink,
	.mkdir = be_mkdir,
	.rename = be_rename,
	.open = be_open,
	.read = be_read,
	.write = be_write,
	.readdir = be_readdir,
	.readdirplus = be_readdirplus,
	.statfs = be_statfs,
	.getxattr = be_getxattr,
	.listxattr = be_listxattr,
};

static const struct uvfs_backend test_backend = {
	.api_version = UVFS_BACKEND_API_VERSION,
	.ops_size = sizeof(struct uvfs_ops),
	.name = "fusetest",
	.ops = &test_ops,
};

/* ---- fixture: mount, serve in a thread, unmount ---- */

static bool can_run;
static char mnt[64];
static struct uvfs_session *se;
static struct uvfs_fuse *fu;
static pthread_t loop_thread;
static int loop_ret;

static void *serve(void *arg)
{
	loop_ret = uvfs_fuse_loop(fu);
	return NULL;
}

static void path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", mnt, name);
}

/*
 * A failed check ends the forked test without its teardown, leaving a dead
 * mount behind: the parent sweeps up after all tests.
 */
static void sweep_mounts(void)
{
	char line[512], dir[256];
	FILE *f = fopen("/proc/self/mounts", "r");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "fusetest-src %255s", dir) == 1 &&
		    !strncmp(dir, "/tmp/uvfs-fuse-test.", 20)) {
			umount2(dir, MNT_DETACH);
			rmdir(dir);
		}
	}
	fclose(f);
}

static void setup(void)
{
	struct uvfs_session_opts o = { 0 };
	char err[256];
	int fd;

	memset(&rec, 0, sizeof(rec));
	pthread_mutex_init(&rec.par_lock, NULL);
	pthread_cond_init(&rec.par_cv, NULL);
	fd = open("/dev/fuse", O_RDWR);
	can_run = geteuid() == 0 && fd >= 0;
	if (fd >= 0)
		close(fd);
	ck_assert_msg(can_run, "needs root and /dev/fuse");
	snprintf(mnt, sizeof(mnt), "/tmp/uvfs-fuse-test.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(mnt));
	o.fsname = "fusetest-src";
	o.default_permissions = 1;
	se = uvfs_session_new(&test_backend, &o);
	ck_assert_ptr_nonnull(se);
	ck_assert_int_eq(uvfs_session_mount(se, "none", err, sizeof(err)), 0);
	ck_assert_msg(uvfs_fuse_mount(se, mnt, &fu, err, sizeof(err)) == 0,
		      "mount: %s", err);
	ck_assert_int_eq(pthread_create(&loop_thread, NULL, serve, NULL), 0);
}

static void teardown(void)
{
	if (!can_run)
		return;
	ck_assert_int_eq(umount2(mnt, 0), 0);
	pthread_join(loop_thread, NULL);
	ck_assert_int_eq(loop_ret, 0);
	uvfs_fuse_free(fu);
	uvfs_session_free(se);
	rmdir(mnt);
}

#define NEED_FUSE()                                                           \
	do {                                                                  \
		if (!can_run)                                                 \
			return;                                               \
	} while (0)

START_TEST(test_attr_read_readlink_statfs)
{
	char p[128], buf[64];
	struct statvfs sv;
	struct stat st;
	int fd;

	NEED_FUSE();
	path(p, sizeof(p), "file");
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_uint_eq(st.st_ino, INO_FILE);
	ck_assert_int_eq(st.st_size, 11);
	ck_assert_int_eq(st.st_mtim.tv_sec, 1000000000);
	ck_assert_int_eq(st.st_mtim.tv_nsec, 123456789);
	fd = open(p, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(read(fd, buf, sizeof(buf)), 11);
	ck_assert(!memcmp(buf, content, 11));
	ck_assert_int_eq(pread(fd, buf, sizeof(buf), 6), 5);
	ck_assert_int_eq(pread(fd, buf, sizeof(buf), 11), 0);
	close(fd);

	path(p, sizeof(p), "link");
	ck_assert_int_eq(readlink(p, buf, sizeof(buf)), 11);
	ck_assert(!memcmp(buf, "target/path", 11));

	ck_assert_int_eq(statvfs(mnt, &sv), 0);
	ck_assert_uint_eq(sv.f_bsize, 4096);
	ck_assert_uint_eq(sv.f_frsize, 1024);
	ck_assert_uint_eq(sv.f_blocks, 1000);
	ck_assert_uint_eq(sv.f_bfree, 600);
	ck_assert_uint_eq(sv.f_bavail, 500);
	ck_assert_uint_eq(sv.f_files, 77);
	ck_assert_uint_eq(sv.f_ffree, 33);
	ck_assert_uint_eq(sv.f_namemax, 200);
}
END_TEST

START_TEST(test_errors)
{
	char p[128];
	struct stat st;

	NEED_FUSE();
	path(p, sizeof(p), "missing");
	ck_assert_int_eq(stat(p, &st), -1);
	ck_assert_int_eq(errno, ENOENT);
	path(p, sizeof(p), "newdir");
	ck_assert_int_eq(mkdir(p, 0755), -1);
	ck_assert_int_eq(errno, EROFS);
	/* no symlink op: ENOSYS from the dispatcher */
	ck_assert_int_eq(symlink("x", p), -1);
	ck_assert_int_eq(errno, ENOSYS);
}
END_TEST

START_TEST(test_async_reply)
{
	char p[128], buf[64];
	int fd;

	NEED_FUSE();
	path(p, sizeof(p), "slow");
	fd = open(p, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(read(fd, buf, sizeof(buf)), 11);
	ck_assert(!memcmp(buf, content, 11));
	close(fd);
}
END_TEST

static void *par_client(void *arg)
{
	char p[128], buf[64];
	ssize_t n = -1;
	int fd;

	(void)arg;
	path(p, sizeof(p), "par");
	fd = open(p, O_RDONLY);
	if (fd >= 0) {
		n = read(fd, buf, sizeof(buf));
		close(fd);
	}
	return (void *)(intptr_t)n;
}

/* READ hands the reading to another thread: NPAR READs run at once. */
START_TEST(test_parallel_reads)
{
	pthread_t t[NPAR];
	void *ret;
	int i;

	NEED_FUSE();
	for (i = 0; i < NPAR; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, par_client, NULL),
				 0);
	for (i = 0; i < NPAR; i++) {
		pthread_join(t[i], &ret);
		ck_assert_int_eq((intptr_t)ret, 11);
	}
	ck_assert_int_eq(rec.par_most, NPAR);
}
END_TEST

/* Quick requests stay on the thread that read them: no thread switch. */
START_TEST(test_quick_ops_one_thread)
{
	char p[128];
	struct stat st;
	int i, n;

	NEED_FUSE();
	path(p, sizeof(p), "file");
	ck_assert_int_eq(stat(p, &st), 0);
	rec.record_tids = true;
	for (i = 0; i < 20; i++)
		ck_assert_int_eq(stat(p, &st), 0);	/* attr timeout 0 */
	rec.record_tids = false;
	n = atomic_load(&rec.ntids);
	ck_assert_int_ge(n, 20);
	for (i = 1; i < n && i < 64; i++)
		ck_assert_msg(pthread_equal(rec.tids[i], rec.tids[0]),
			      "GETATTR %d served on another thread", i);
}
END_TEST

START_TEST(test_setattr_write)
{
	struct timespec ts[2] = { { 1234, 5 }, { 5678, 9 } };
	char p[128], buf[4096];
	int fd;

	NEED_FUSE();
	path(p, sizeof(p), "file");
	ck_assert_int_eq(utimensat(AT_FDCWD, p, ts, 0), 0);
	ck_assert(rec.setattr_valid & UVFS_SET_ATIME);
	ck_assert(rec.setattr_valid & UVFS_SET_MTIME);
	ck_assert(!(rec.setattr_valid & UVFS_SET_MTIME_NOW));
	ck_assert_int_eq(rec.setattr_st.st_atim.tv_sec, 1234);
	ck_assert_int_eq(rec.setattr_st.st_atim.tv_nsec, 5);
	ck_assert_int_eq(rec.setattr_st.st_mtim.tv_sec, 5678);
	ck_assert_int_eq(rec.setattr_st.st_mtim.tv_nsec, 9);
	ck_assert_int_eq(utimensat(AT_FDCWD, p, NULL, 0), 0);
	ck_assert(rec.setattr_valid & UVFS_SET_MTIME_NOW);
	ck_assert(rec.setattr_valid & UVFS_SET_ATIME_NOW);
	ck_assert_int_eq(truncate(p, 3), 0);
	ck_assert(rec.setattr_valid & UVFS_SET_SIZE);
	ck_assert_int_eq(rec.setattr_st.st_size, 3);
	ck_assert_int_eq(chmod(p, 0600), 0);
	ck_assert(rec.setattr_valid & UVFS_SET_MODE);
	ck_assert_uint_eq(rec.setattr_st.st_mode & 07777, 0600);

	fd = open(p, O_WRONLY);
	ck_assert_int_ge(fd, 0);
	memset(buf, 'x', sizeof(buf));
	ck_assert_int_eq(pwrite(fd, buf, sizeof(buf), 0), (ssize_t)sizeof(buf));
	close(fd);
	ck_assert_uint_eq(rec.write_size, sizeof(buf));
}
END_TEST

START_TEST(test_rename_flags)
{
	char a[128], b[128];

	NEED_FUSE();
	path(a, sizeof(a), "file");
	path(b, sizeof(b), "slow");
	ck_assert_int_eq(renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE),
			 0);
	ck_assert_uint_eq(rec.rename_flags, UVFS_RENAME_EXCHANGE);
	path(b, sizeof(b), "other");
	ck_assert_int_eq(renameat2(AT_FDCWD, b, AT_FDCWD, a, 0), -1);
	ck_assert_int_eq(errno, ENOENT);
	path(b, sizeof(b), "link");
	ck_assert_int_eq(renameat2(AT_FDCWD, b, AT_FDCWD, a,
				   RENAME_NOREPLACE), -1);
	ck_assert_int_eq(errno, EEXIST);	/* the kernel knows "file" */
}
END_TEST

START_TEST(test_xattr)
{
	char p[128], buf[64];

	NEED_FUSE();
	path(p, sizeof(p), "file");
	ck_assert_int_eq(getxattr(p, "user.x", NULL, 0), 3);
	ck_assert_int_eq(getxattr(p, "user.x", buf, sizeof(buf)), 3);
	ck_assert(!memcmp(buf, "vvv", 3));
	ck_assert_int_eq(getxattr(p, "user.x", buf, 2), -1);
	ck_assert_int_eq(errno, ERANGE);
	ck_assert_int_eq(getxattr(p, "user.nope", buf, sizeof(buf)), -1);
	ck_assert_int_eq(errno, ENODATA);
	ck_assert_int_eq(listxattr(p, NULL, 0), 14);
	ck_assert_int_eq(listxattr(p, buf, sizeof(buf)), 14);
	ck_assert_str_eq(buf, "user.x");
	ck_assert_str_eq(buf + 7, "user.y");
	/* no setxattr op */
	ck_assert_int_eq(setxattr(p, "user.x", "1", 1, 0), -1);
	ck_assert_int_eq(errno, EOPNOTSUPP);
}
END_TEST

START_TEST(test_readdirplus_counts)
{
	char p[128];
	struct dirent *de;
	DIR *d;
	int n = 0, tries;
	FILE *f;

	NEED_FUSE();
	path(p, sizeof(p), "dir");
	d = opendir(p);
	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d))) {
		char want[16];

		snprintf(want, sizeof(want), "e%d", n);
		ck_assert_str_eq(de->d_name, want);
		ck_assert_uint_eq(de->d_ino, INO_ENT0 + (uint64_t)n);
		ck_assert_uint_eq(de->d_type, DT_REG);
		n++;
	}
	closedir(d);
	ck_assert_int_eq(n, NENT);
	ck_assert_int_ge(atomic_load(&rec.lookups), NENT);

	/* Every lookup count handed out must come back as a forget once
	 * the kernel drops its dentries and inodes. */
	for (tries = 0; tries < 50; tries++) {
		f = fopen("/proc/sys/vm/drop_caches", "w");
		if (!f)
			return;
		fputs("2\n", f);
		fclose(f);
		if (atomic_load(&rec.forgets) == atomic_load(&rec.lookups))
			break;
		usleep(100 * 1000);
	}
	ck_assert_int_eq(atomic_load(&rec.forgets), atomic_load(&rec.lookups));
}
END_TEST

START_TEST(test_notify)
{
	char p[128];
	struct stat st;

	NEED_FUSE();
	path(p, sizeof(p), "file");
	ck_assert_int_eq(stat(p, &st), 0);
	/* the inode is cached while the dentry is: invalidate it first */
	ck_assert_int_eq(uvfs_notify_inval_inode(se, INO_FILE, 0, -1), 0);
	ck_assert_int_eq(uvfs_notify_inval_entry(se, 1, "file"), 0);
	/* not cached (any more): the kernel says so */
	ck_assert_int_eq(uvfs_notify_inval_entry(se, 1, "nothere"), -ENOENT);
	ck_assert_int_eq(stat(p, &st), 0);
}
END_TEST

START_TEST(test_mount_errors)
{
	struct uvfs_session *s2;
	struct uvfs_fuse *f2;
	char err[256];

	NEED_FUSE();
	s2 = uvfs_session_new(&test_backend, NULL);
	ck_assert_int_eq(uvfs_fuse_mount(s2, "/nonexistent/dir", &f2, err,
					 sizeof(err)), -ENOENT);
	ck_assert_ptr_null(f2);
	ck_assert(strstr(err, "/nonexistent/dir") != NULL);
	ck_assert_int_eq(uvfs_fuse_mount(s2, "/dev/null", &f2, err,
					 sizeof(err)), -ENOTDIR);
	uvfs_session_free(s2);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("fuse_transport");
	TCase *tc = tcase_create("fuse");

	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_unchecked_fixture(tc, NULL, sweep_mounts);
	tcase_add_test(tc, test_attr_read_readlink_statfs);
	tcase_add_test(tc, test_errors);
	tcase_add_test(tc, test_async_reply);
	tcase_add_test(tc, test_parallel_reads);
	tcase_add_test(tc, test_quick_ops_one_thread);
	tcase_add_test(tc, test_setattr_write);
	tcase_add_test(tc, test_rename_flags);
	tcase_add_test(tc, test_xattr);
	tcase_add_test(tc, test_readdirplus_counts);
	tcase_add_test(tc, test_notify);
	tcase_add_test(tc, test_mount_errors);
	suite_add_tcase(s, tc);
	return check_run(s);
}
