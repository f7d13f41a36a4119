// SPDX-License-Identifier: MIT
/*
 * memfs through the direct transport: every op, as wire requests, with the
 * error cases the kernel relies on.  Run under valgrind with CK_FORK=no to
 * check that forgets and unmount free everything.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "uvfs/libuvfs.h"

#define ROOT UVFS_ROOT_ID
#define GiB (1024ull * 1024 * 1024)

static void *handle;
static struct uvfs_session *se;
static struct uvfs_direct *d;
static char reply[256 * 1024];
static size_t rlen;
static uint32_t cur_uid, cur_gid;	/* credentials of the next requests */

static void start(const char *opts)
{
	const struct uvfs_backend *be;
	struct uvfs_session_opts so = { 0 };
	char err[256];

	be = uvfs_backend_load("memfs", &handle, err, sizeof(err));
	ck_assert_msg(be != NULL, "%s", err);
	so.backend_opts = opts;
	se = uvfs_session_new(be, &so);
	ck_assert_ptr_nonnull(se);
	d = uvfs_direct_new(se);
	ck_assert_ptr_nonnull(d);
	ck_assert_int_eq(uvfs_session_mount(se, "none", err, sizeof(err)), 0);
	cur_uid = cur_gid = 0;
}

static void stop(void)
{
	uvfs_session_unmount(se);
	uvfs_direct_free(d);
	uvfs_session_free(se);
	uvfs_backend_unload(handle);
}

static void setup(void)
{
	start(NULL);
}

/* ---- building requests ---- */

static int call(uint32_t op, uint64_t nodeid, const void *arg, size_t arglen,
		const char *s1, const char *s2, const void *data, size_t dlen,
		size_t replymax)
{
	struct uvfs_in_header in = { 0 };
	struct iovec iov[4];
	int n = 0;

	in.opcode = op;
	in.nodeid = nodeid;
	in.uid = cur_uid;
	in.gid = cur_gid;
	in.pid = (uint32_t)getpid();
	if (arglen)
		iov[n++] = (struct iovec){ (void *)arg, arglen };
	if (s1)
		iov[n++] = (struct iovec){ (void *)s1, strlen(s1) + 1 };
	if (s2)
		iov[n++] = (struct iovec){ (void *)s2, strlen(s2) + 1 };
	if (dlen)
		iov[n++] = (struct iovec){ (void *)data, dlen };
	rlen = 0;
	return uvfs_direct_call(d, &in, iov, n, reply, replymax, &rlen);
}

#define CALL(op, node, arg, s1, s2) \
	call(op, node, &(arg), sizeof(arg), s1, s2, NULL, 0, sizeof(reply))
#define CALL0(op, node, s1, s2) \
	call(op, node, NULL, 0, s1, s2, NULL, 0, sizeof(reply))

static struct uvfs_entry_out entry;	/* of the last entry reply */

/* The node id of an entry reply, or the error. */
static int64_t entry_result(int err)
{
	if (err)
		return err;
	ck_assert_uint_ge(rlen, sizeof(entry));
	memcpy(&entry, reply, sizeof(entry));
	ck_assert_uint_eq(entry.attr.ino, entry.nodeid);
	return (int64_t)entry.nodeid;
}

static int64_t lookup(uint64_t parent, const char *name)
{
	return entry_result(CALL0(UVFS_OP_LOOKUP, parent, name, NULL));
}

static int64_t mkdir_(uint64_t parent, const char *name, uint32_t mode)
{
	struct uvfs_mkdir_in in = { .mode = mode };

	return entry_result(CALL(UVFS_OP_MKDIR, parent, in, name, NULL));
}

static int64_t mknod_(uint64_t parent, const char *name, uint32_t mode,
		      uint32_t rdev)
{
	struct uvfs_mknod_in in = { .mode = mode, .rdev = rdev };

	return entry_result(CALL(UVFS_OP_MKNOD, parent, in, name, NULL));
}

static int64_t symlink_(uint64_t parent, const char *name, const char *tgt)
{
	return entry_result(CALL0(UVFS_OP_SYMLINK, parent, name, tgt));
}

static int64_t link_(uint64_t ino, uint64_t parent, const char *name)
{
	struct uvfs_link_in in = { .oldnodeid = ino };

	return entry_result(CALL(UVFS_OP_LINK, parent, in, name, NULL));
}

/* create + release: a plain file with one lookup reference */
static int64_t create(uint64_t parent, const char *name, uint32_t mode)
{
	struct uvfs_create_in in = { .flags = O_RDWR | O_CREAT, .mode = mode };
	struct uvfs_release_in rel = { 0 };
	int64_t ino;

	ino = entry_result(CALL(UVFS_OP_CREATE, parent, in, name, NULL));
	if (ino > 0) {
		ck_assert_uint_eq(rlen, sizeof(struct uvfs_create_out));
		ck_assert_int_eq(CALL(UVFS_OP_RELEASE, ino, rel, NULL, NULL),
				 0);
	}
	return ino;
}

static int unlink_(uint64_t parent, const char *name)
{
	return CALL0(UVFS_OP_UNLINK, parent, name, NULL);
}

static int rmdir_(uint64_t parent, const char *name)
{
	return CALL0(UVFS_OP_RMDIR, parent, name, NULL);
}

static int rename_(uint64_t parent, const char *name, uint64_t newparent,
		   const char *newname, uint32_t flags)
{
	struct uvfs_rename_in in = { .newdir = newparent, .flags = flags };

	return CALL(UVFS_OP_RENAME, parent, in, name, newname);
}

static void forget(uint64_t ino, uint64_t n)
{
	struct {
		struct uvfs_forget_in in;
		struct uvfs_forget_one one;
	} f = { { 1, 0 }, { ino, n } };

	ck_assert_int_eq(CALL(UVFS_OP_FORGET, 0, f, NULL, NULL), 0);
}

static struct uvfs_attr getattr(uint64_t ino)
{
	struct uvfs_getattr_in in = { 0 };
	struct uvfs_attr_out out;

	ck_assert_int_eq(CALL(UVFS_OP_GETATTR, ino, in, NULL, NULL), 0);
	ck_assert_uint_eq(rlen, sizeof(out));
	memcpy(&out, reply, sizeof(out));
	ck_assert_uint_eq(out.attr.ino, ino);
	return out.attr;
}

static int getattr_err(uint64_t ino)
{
	struct uvfs_getattr_in in = { 0 };

	return CALL(UVFS_OP_GETATTR, ino, in, NULL, NULL);
}

static int setattr(uint64_t ino, struct uvfs_setattr_in *in)
{
	return call(UVFS_OP_SETATTR, ino, in, sizeof(*in), NULL, NULL, NULL,
		    0, sizeof(reply));
}

static int truncate_(uint64_t ino, uint64_t size)
{
	struct uvfs_setattr_in in = { .valid = UVFS_SET_SIZE, .size = size };

	return setattr(ino, &in);
}

/* Bytes written, or the error. */
static int64_t write_(uint64_t ino, uint64_t off, const void *buf,
		      size_t len)
{
	struct uvfs_write_in in = { .offset = off, .size = (uint32_t)len };
	struct uvfs_write_out out;
	int err;

	err = call(UVFS_OP_WRITE, ino, &in, sizeof(in), NULL, NULL, buf, len,
		   sizeof(reply));
	if (err)
		return err;
	ck_assert_uint_eq(rlen, sizeof(out));
	memcpy(&out, reply, sizeof(out));
	return out.size;
}

/* Bytes read into reply, or the error. */
static int64_t read_(uint64_t ino, uint64_t off, size_t len)
{
	struct uvfs_read_in in = { .offset = off, .size = (uint32_t)len };
	int err = CALL(UVFS_OP_READ, ino, in, NULL, NULL);

	return err ? err : (int64_t)rlen;
}

static bool all_zero(const char *p, size_t n)
{
	while (n--)
		if (*p++)
			return false;
	return true;
}

static struct uvfs_statfs_out statfs_(void)
{
	struct uvfs_statfs_out out;

	ck_assert_int_eq(CALL0(UVFS_OP_STATFS, ROOT, NULL, NULL), 0);
	ck_assert_uint_eq(rlen, sizeof(out));
	memcpy(&out, reply, sizeof(out));
	return out;
}

static int setxattr_(uint64_t ino, const char *name, const void *val,
		     size_t size, uint32_t flags)
{
	struct uvfs_setxattr_in in = { .size = (uint32_t)size,
				       .flags = flags };

	return call(UVFS_OP_SETXATTR, ino, &in, sizeof(in), name, NULL, val,
		    size, sizeof(reply));
}

/* size 0: the size needed, else the bytes returned; or the error */
static int64_t getxattr_(uint64_t ino, const char *name, uint32_t size)
{
	struct uvfs_getxattr_in in = { .size = size };
	struct uvfs_getxattr_out out;
	int err;

	if (name)
		err = CALL(UVFS_OP_GETXATTR, ino, in, name, NULL);
	else
		err = CALL(UVFS_OP_LISTXATTR, ino, in, NULL, NULL);
	if (err)
		return err;
	if (size)
		return (int64_t)rlen;
	ck_assert_uint_eq(rlen, sizeof(out));
	memcpy(&out, reply, sizeof(out));
	return out.size;
}

/* ---- directory listings ---- */

struct listing {
	int n;
	char name[64][32];
	uint64_t ino[64], off[64];
	uint32_t type[64];
};

/* One READDIR(PLUS) call of at most size bytes; appends to l. */
static int readdir_(uint64_t dir, uint64_t off, size_t size, bool plus,
		    struct listing *l)
{
	struct uvfs_read_in in = { .offset = off, .size = (uint32_t)size };
	size_t pos = 0;
	int err;

	err = CALL(plus ? UVFS_OP_READDIRPLUS : UVFS_OP_READDIR, dir, in,
		   NULL, NULL);
	if (err)
		return err;
	ck_assert_uint_le(rlen, size);
	while (pos < rlen) {
		const struct uvfs_dirent *de;
		size_t reclen;

		if (plus) {
			const struct uvfs_direntplus *dp =
				(const void *)(reply + pos);

			de = &dp->dirent;
			reclen = UVFS_DIRENTPLUS_SIZE(de->namelen);
			ck_assert_uint_eq(dp->entry.nodeid, de->ino);
		} else {
			de = (const void *)(reply + pos);
			reclen = UVFS_DIRENT_SIZE(de->namelen);
		}
		ck_assert_int_lt(l->n, 64);
		ck_assert_uint_lt(de->namelen, 32);
		memcpy(l->name[l->n], de->name, de->namelen);
		l->name[l->n][de->namelen] = '\0';
		l->ino[l->n] = de->ino;
		l->off[l->n] = de->off;
		l->type[l->n] = de->type;
		l->n++;
		pos += reclen;
	}
	ck_assert_uint_eq(pos, rlen);
	return 0;
}

static void readdir_all(uint64_t dir, bool plus, struct listing *l)
{
	uint64_t off = 0;
	int before;

	memset(l, 0, sizeof(*l));
	do {
		before = l->n;
		ck_assert_int_eq(readdir_(dir, off, 4096, plus, l), 0);
		if (l->n > before)
			off = l->off[l->n - 1];
	} while (l->n > before);
}

static int find(const struct listing *l, const char *name)
{
	int i;

	for (i = 0; i < l->n; i++)
		if (!strcmp(l->name[i], name))
			return i;
	return -1;
}

/* ---- tests: names ---- */

START_TEST(test_root)
{
	struct uvfs_attr a = getattr(ROOT);

	ck_assert(S_ISDIR(a.mode));
	ck_assert_uint_eq(a.nlink, 2);
	ck_assert_int_eq(getattr_err(12345), -ENOENT);
	ck_assert_int_eq(lookup(ROOT, "."), ROOT);
	ck_assert_int_eq(lookup(ROOT, ".."), ROOT);
}
END_TEST

START_TEST(test_lookup_create)
{
	int64_t dir, f;

	dir = mkdir_(ROOT, "d", 0755);
	ck_assert_int_gt(dir, 1);
	ck_assert(S_ISDIR(entry.attr.mode));
	f = create(dir, "f", 0640);
	ck_assert_int_gt(f, dir);
	ck_assert_uint_eq(entry.attr.mode, S_IFREG | 0640);
	ck_assert_uint_eq(entry.attr.nlink, 1);
	ck_assert_uint_gt(entry.entry_valid_ns, 0);
	ck_assert_int_eq(lookup(dir, "f"), f);
	ck_assert_int_eq(lookup(dir, "nope"), -ENOENT);
	ck_assert_int_eq(lookup(f, "x"), -ENOTDIR);
	ck_assert_int_eq(lookup(dir, ".."), ROOT);
	ck_assert_int_eq(lookup(999, "x"), -ENOENT);
	ck_assert_int_eq(create(dir, "f", 0644), -EEXIST);
	ck_assert_int_eq(mkdir_(dir, "f", 0755), -EEXIST);
	ck_assert_int_eq(mknod_(dir, "f", S_IFIFO | 0644, 0), -EEXIST);
	ck_assert_int_eq(symlink_(dir, "f", "t"), -EEXIST);
	ck_assert_int_eq(create(f, "g", 0644), -ENOTDIR);
}
END_TEST

START_TEST(test_mkdir_nlink)
{
	int64_t a, b;

	a = mkdir_(ROOT, "a", 0755);
	ck_assert_uint_eq(getattr(ROOT).nlink, 3);
	b = mkdir_(a, "b", 0700);
	ck_assert_uint_eq(entry.attr.mode, S_IFDIR | 0700);
	ck_assert_uint_eq(getattr(a).nlink, 3);
	ck_assert_uint_eq(getattr(b).nlink, 2);
	create(a, "file", 0644);
	ck_assert_uint_eq(getattr(a).nlink, 3);
	ck_assert_int_eq(rmdir_(a, "b"), 0);
	ck_assert_uint_eq(getattr(a).nlink, 2);
	/* still looked up: alive, but removed */
	ck_assert_uint_eq(getattr(b).nlink, 0);
	forget(b, 2);
	ck_assert_int_eq(getattr_err(b), -ENOENT);
}
END_TEST

START_TEST(test_unlink_rmdir)
{
	int64_t d1, f;

	d1 = mkdir_(ROOT, "d", 0755);
	f = create(d1, "f", 0644);
	ck_assert_int_eq(unlink_(ROOT, "d"), -EISDIR);
	ck_assert_int_eq(rmdir_(d1, "f"), -ENOTDIR);
	ck_assert_int_eq(rmdir_(ROOT, "d"), -ENOTEMPTY);
	ck_assert_int_eq(unlink_(ROOT, "missing"), -ENOENT);
	ck_assert_int_eq(rmdir_(ROOT, "missing"), -ENOENT);
	ck_assert_int_eq(unlink_(d1, "f"), 0);
	ck_assert_int_eq(lookup(d1, "f"), -ENOENT);
	ck_assert_uint_eq(getattr(f).nlink, 0);
	ck_assert_int_eq(rmdir_(ROOT, "d"), 0);
	ck_assert_uint_eq(getattr(ROOT).nlink, 2);
	/* a removed directory takes no new names and lists nothing */
	ck_assert_int_eq(create(d1, "g", 0644), -ENOENT);
	{
		struct listing l = { 0 };

		ck_assert_int_eq(readdir_(d1, 0, 4096, false, &l), -ENOENT);
	}
}
END_TEST

START_TEST(test_symlink)
{
	char target[UVFS_SYMLINK_MAX + 2];
	int64_t s, f;

	memset(target, 'x', sizeof(target));
	target[UVFS_SYMLINK_MAX] = '\0';
	s = symlink_(ROOT, "long", target);
	ck_assert_int_gt(s, 1);
	ck_assert(S_ISLNK(entry.attr.mode));
	ck_assert_uint_eq(entry.attr.size, UVFS_SYMLINK_MAX);
	ck_assert_int_eq(CALL0(UVFS_OP_READLINK, s, NULL, NULL), 0);
	ck_assert_uint_eq(rlen, UVFS_SYMLINK_MAX);
	ck_assert(memcmp(reply, target, rlen) == 0);
	target[UVFS_SYMLINK_MAX] = 'x';
	target[UVFS_SYMLINK_MAX + 1] = '\0';
	ck_assert_int_eq(symlink_(ROOT, "toolong", target),
			 -ENAMETOOLONG);
	f = create(ROOT, "f", 0644);
	ck_assert_int_eq(CALL0(UVFS_OP_READLINK, f, NULL, NULL), -EINVAL);
}
END_TEST

START_TEST(test_hardlink)
{
	int64_t f, dir;

	f = create(ROOT, "f", 0644);
	dir = mkdir_(ROOT, "d", 0755);
	ck_assert_int_eq(link_(f, dir, "g"), f);
	ck_assert_uint_eq(entry.attr.nlink, 2);
	ck_assert_int_eq(link_(f, dir, "g"), -EEXIST);
	ck_assert_int_eq(link_(dir, ROOT, "dd"), -EPERM);
	ck_assert_int_eq(link_(f, f, "x"), -ENOTDIR);
	ck_assert_int_eq(unlink_(ROOT, "f"), 0);
	ck_assert_uint_eq(getattr(f).nlink, 1);
	ck_assert_int_eq(lookup(dir, "g"), f);
	ck_assert_int_eq(unlink_(dir, "g"), 0);
	/* unlinked: cannot get a name back */
	ck_assert_int_eq(link_(f, ROOT, "again"), -ENOENT);
}
END_TEST

START_TEST(test_mknod)
{
	int64_t n;

	n = mknod_(ROOT, "fifo", S_IFIFO | 0644, 0);
	ck_assert(S_ISFIFO(entry.attr.mode));
	ck_assert_int_eq(lookup(ROOT, "fifo"), n);
	mknod_(ROOT, "sock", S_IFSOCK | 0644, 0);
	ck_assert(S_ISSOCK(entry.attr.mode));
	/* new_encode_dev(makedev(8, 1)) */
	mknod_(ROOT, "blk", S_IFBLK | 0600, (8 << 8) | 1);
	ck_assert(S_ISBLK(entry.attr.mode));
	ck_assert_uint_eq(entry.attr.rdev, (8 << 8) | 1);
	mknod_(ROOT, "chr", S_IFCHR | 0600, (1 << 8) | 3);
	ck_assert(S_ISCHR(entry.attr.mode));
	ck_assert_uint_eq(entry.attr.rdev, (1 << 8) | 3);
	mknod_(ROOT, "reg", S_IFREG | 0600, 0);
	ck_assert(S_ISREG(entry.attr.mode));
	ck_assert_int_eq(mknod_(ROOT, "dir", S_IFDIR | 0755, 0), -EINVAL);
	ck_assert_int_eq(read_(n, 0, 10), -EINVAL);
}
END_TEST

/* ---- tests: rename ---- */

START_TEST(test_rename_basic)
{
	int64_t a, b, f, g;

	a = mkdir_(ROOT, "a", 0755);
	b = mkdir_(ROOT, "b", 0755);
	f = create(a, "f", 0644);
	ck_assert_int_eq(rename_(a, "f", a, "f2", 0), 0);
	ck_assert_int_eq(lookup(a, "f"), -ENOENT);
	ck_assert_int_eq(lookup(a, "f2"), f);
	ck_assert_int_eq(rename_(a, "f2", b, "f", 0), 0);
	ck_assert_int_eq(lookup(b, "f"), f);
	ck_assert_int_eq(rename_(a, "missing", b, "x", 0), -ENOENT);

	/* replacing a file: the victim lives while looked up */
	g = create(b, "g", 0644);
	write_(g, 0, "data", 4);
	ck_assert_int_eq(rename_(b, "f", b, "g", 0), 0);
	ck_assert_int_eq(lookup(b, "g"), f);
	ck_assert_int_eq(lookup(b, "f"), -ENOENT);
	ck_assert_uint_eq(getattr(g).nlink, 0);
	forget(g, 1);
	ck_assert_int_eq(getattr_err(g), -ENOENT);

	/* two names of one inode: nothing happens */
	link_(f, b, "h");
	ck_assert_int_eq(rename_(b, "g", b, "h", 0), 0);
	ck_assert_int_eq(lookup(b, "g"), f);
	ck_assert_int_eq(lookup(b, "h"), f);
	ck_assert_uint_eq(entry.attr.nlink, 2);
	/* one name onto itself */
	ck_assert_int_eq(rename_(b, "g", b, "g", 0), 0);
	ck_assert_int_eq(lookup(b, "g"), f);
}
END_TEST

START_TEST(test_rename_errors)
{
	int64_t a, sub, e;

	a = mkdir_(ROOT, "a", 0755);
	sub = mkdir_(a, "sub", 0755);
	e = mkdir_(ROOT, "empty", 0755);
	create(ROOT, "f", 0644);
	create(a, "g", 0644);
	ck_assert_int_eq(rename_(ROOT, "f", ROOT, "a", 0), -EISDIR);
	ck_assert_int_eq(rename_(ROOT, "a", ROOT, "f", 0), -ENOTDIR);
	ck_assert_int_eq(rename_(ROOT, "empty", ROOT, "a", 0), -ENOTEMPTY);
	ck_assert_int_eq(rename_(ROOT, "a", sub, "x", 0), -EINVAL);
	ck_assert_int_eq(rename_(ROOT, "a", a, "x", 0), -EINVAL);
	ck_assert_int_eq(rename_(ROOT, "f", a, "g", UVFS_RENAME_NOREPLACE),
			 -EEXIST);
	ck_assert_int_eq(rename_(ROOT, "f", ROOT, "f", UVFS_RENAME_NOREPLACE),
			 -EEXIST);
	ck_assert_int_eq(rename_(ROOT, "f", a, "new", UVFS_RENAME_NOREPLACE),
			 0);
	ck_assert_int_eq(rename_(ROOT, "f", a, "g", UVFS_RENAME_NOREPLACE |
					 UVFS_RENAME_EXCHANGE), -EINVAL);
	ck_assert_int_eq(rename_(ROOT, "x", 4242, "g", 0), -ENOENT);
	/* a directory replaces an empty one */
	ck_assert_int_eq(rename_(a, "sub", ROOT, "empty", 0), 0);
	ck_assert_int_eq(lookup(ROOT, "empty"), sub);
	ck_assert_uint_eq(getattr(e).nlink, 0);
	ck_assert_uint_eq(getattr(ROOT).nlink, 4);	/* a, empty(=sub) */
	ck_assert_uint_eq(getattr(a).nlink, 2);
}
END_TEST

START_TEST(test_rename_dir_parent)
{
	int64_t a, b, c;

	a = mkdir_(ROOT, "a", 0755);
	b = mkdir_(ROOT, "b", 0755);
	c = mkdir_(a, "c", 0755);
	ck_assert_uint_eq(getattr(a).nlink, 3);
	ck_assert_int_eq(rename_(a, "c", b, "c", 0), 0);
	ck_assert_uint_eq(getattr(a).nlink, 2);
	ck_assert_uint_eq(getattr(b).nlink, 3);
	ck_assert_int_eq(lookup(c, ".."), b);
	ck_assert_int_eq(rename_(b, "c", ROOT, "c", 0), 0);
	ck_assert_uint_eq(getattr(ROOT).nlink, 5);
	ck_assert_int_eq(lookup(c, ".."), ROOT);
}
END_TEST

START_TEST(test_rename_exchange)
{
	int64_t a, b, f, dir;
	struct listing l;
	uint64_t cookie;

	a = mkdir_(ROOT, "a", 0755);
	b = mkdir_(ROOT, "b", 0755);
	f = create(a, "f", 0644);
	dir = mkdir_(b, "d", 0755);
	readdir_all(a, false, &l);
	cookie = l.off[find(&l, "f")];
	ck_assert_int_eq(rename_(a, "f", b, "d", UVFS_RENAME_EXCHANGE), 0);
	ck_assert_int_eq(lookup(a, "f"), dir);
	ck_assert_int_eq(lookup(b, "d"), f);
	ck_assert_int_eq(lookup(dir, ".."), a);
	ck_assert_uint_eq(getattr(a).nlink, 3);
	ck_assert_uint_eq(getattr(b).nlink, 2);
	/* the name keeps its cookie */
	readdir_all(a, false, &l);
	ck_assert_uint_eq(l.off[find(&l, "f")], cookie);
	ck_assert_uint_eq(l.type[find(&l, "f")], DT_DIR);
	ck_assert_int_eq(rename_(a, "f", b, "missing", UVFS_RENAME_EXCHANGE),
			 -ENOENT);
	/* a directory cannot trade places with its own child */
	create(dir, "inner", 0644);
	ck_assert_int_eq(rename_(a, "f", dir, "inner", UVFS_RENAME_EXCHANGE),
			 -EINVAL);
	ck_assert_int_eq(rename_(dir, "inner", a, "f", UVFS_RENAME_EXCHANGE),
			 -EINVAL);
	/* same directory, file <-> file */
	create(ROOT, "x", 0644);
	create(ROOT, "y", 0600);
	ck_assert_int_eq(rename_(ROOT, "x", ROOT, "y", UVFS_RENAME_EXCHANGE),
			 0);
	lookup(ROOT, "x");
	ck_assert_uint_eq(entry.attr.mode & 0777, 0600);
}
END_TEST

/* ---- tests: data ---- */

START_TEST(test_write_read)
{
	char buf[10000];
	int64_t f;
	struct uvfs_attr a;
	size_t i;

	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (char)(i * 7);
	f = create(ROOT, "f", 0644);
	ck_assert_int_eq(write_(f, 100, buf, sizeof(buf)), sizeof(buf));
	a = getattr(f);
	ck_assert_uint_eq(a.size, 100 + sizeof(buf));
	ck_assert_uint_eq(a.blocks, 3 * 8);	/* 3 blocks of 4 KiB */
	ck_assert_int_eq(read_(f, 0, 100), 100);
	ck_assert(all_zero(reply, 100));
	ck_assert_int_eq(read_(f, 100, sizeof(buf)), sizeof(buf));
	ck_assert(memcmp(reply, buf, sizeof(buf)) == 0);
	ck_assert_int_eq(read_(f, 5000, 100000), 100 + sizeof(buf) - 5000);
	ck_assert(memcmp(reply, buf + 4900, rlen) == 0);
	ck_assert_int_eq(read_(f, 1 << 20, 10), 0);
	ck_assert_int_eq(write_(ROOT, 0, "x", 1), -EISDIR);
	ck_assert_int_eq(read_(ROOT, 0, 1), -EISDIR);
	ck_assert_int_eq(read_(777, 0, 1), -ENOENT);
}
END_TEST

START_TEST(test_sparse_5g)
{
	struct uvfs_statfs_out before, after;
	uint64_t off = 5 * GiB + 10;
	struct uvfs_attr a;
	int64_t f;

	before = statfs_();
	f = create(ROOT, "sparse", 0644);
	ck_assert_int_eq(write_(f, off, "hello", 5), 5);
	a = getattr(f);
	ck_assert_uint_eq(a.size, off + 5);
	ck_assert_uint_eq(a.blocks, 8);
	after = statfs_();
	ck_assert_uint_eq(before.bfree - after.bfree, 1);
	ck_assert_uint_eq(before.ffree - after.ffree, 1);
	ck_assert_int_eq(read_(f, off, 5), 5);
	ck_assert(memcmp(reply, "hello", 5) == 0);
	ck_assert_int_eq(read_(f, 3 * GiB, 65536), 65536);
	ck_assert(all_zero(reply, 65536));
	/* across the 4 GiB line */
	ck_assert_int_eq(write_(f, 4 * GiB - 3, "abcdef", 6), 6);
	ck_assert_int_eq(read_(f, 4 * GiB - 3, 6), 6);
	ck_assert(memcmp(reply, "abcdef", 6) == 0);
	ck_assert_uint_eq(getattr(f).blocks, 3 * 8);
}
END_TEST

START_TEST(test_truncate)
{
	char buf[12288];
	int64_t f;

	memset(buf, 'a', sizeof(buf));
	f = create(ROOT, "f", 0644);
	write_(f, 0, buf, sizeof(buf));
	ck_assert_uint_eq(getattr(f).blocks, 24);
	ck_assert_int_eq(truncate_(f, 5000), 0);
	ck_assert_uint_eq(getattr(f).size, 5000);
	ck_assert_uint_eq(getattr(f).blocks, 16);
	ck_assert_int_eq(truncate_(f, 20000), 0);
	ck_assert_uint_eq(getattr(f).size, 20000);
	ck_assert_int_eq(read_(f, 0, 20000), 20000);
	ck_assert(memcmp(reply, buf, 5000) == 0);
	ck_assert(all_zero(reply + 5000, 15000));
	ck_assert_int_eq(truncate_(f, 0), 0);
	ck_assert_uint_eq(getattr(f).blocks, 0);
	ck_assert_int_eq(truncate_(f, 6 * GiB), 0);
	ck_assert_uint_eq(getattr(f).size, 6 * GiB);
	ck_assert_int_eq(truncate_(ROOT, 0), -EISDIR);
	symlink_(ROOT, "l", "f");
	ck_assert_int_eq(truncate_((uint64_t)entry.nodeid, 0), -EINVAL);
}
END_TEST

START_TEST(test_fallocate)
{
	struct uvfs_fallocate_in in = { .offset = 0, .length = 10000 };
	char buf[8192];
	int64_t f;

	f = create(ROOT, "f", 0644);
	ck_assert_int_eq(CALL(UVFS_OP_FALLOCATE, f, in, NULL, NULL), 0);
	ck_assert_uint_eq(getattr(f).size, 10000);
	ck_assert_uint_eq(getattr(f).blocks, 24);
	in.offset = 100000;
	in.mode = FALLOC_FL_KEEP_SIZE;
	ck_assert_int_eq(CALL(UVFS_OP_FALLOCATE, f, in, NULL, NULL), 0);
	ck_assert_uint_eq(getattr(f).size, 10000);
	ck_assert_uint_eq(getattr(f).blocks, 24 + 24);
	/* punch the middle of a data range */
	memset(buf, 'z', sizeof(buf));
	write_(f, 0, buf, sizeof(buf));
	in.offset = 1000;
	in.length = 6000;
	in.mode = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
	ck_assert_int_eq(CALL(UVFS_OP_FALLOCATE, f, in, NULL, NULL), 0);
	ck_assert_uint_eq(getattr(f).size, 10000);
	ck_assert_int_eq(read_(f, 0, 8192), 8192);
	ck_assert(memcmp(reply, buf, 1000) == 0);
	ck_assert(all_zero(reply + 1000, 6000));
	ck_assert(memcmp(reply + 7000, buf, 1192) == 0);
	in.offset = 0;
	in.length = 8192;
	ck_assert_int_eq(CALL(UVFS_OP_FALLOCATE, f, in, NULL, NULL), 0);
	ck_assert_uint_eq(getattr(f).blocks, 8 + 24);
	in.mode = FALLOC_FL_PUNCH_HOLE;
	ck_assert_int_eq(CALL(UVFS_OP_FALLOCATE, f, in, NULL, NULL),
			 -EOPNOTSUPP);
	in.mode = FALLOC_FL_ZERO_RANGE;
	ck_assert_int_eq(CALL(UVFS_OP_FALLOCATE, f, in, NULL, NULL),
			 -EOPNOTSUPP);
	in.mode = 0;
	ck_assert_int_eq(CALL(UVFS_OP_FALLOCATE, ROOT, in, NULL, NULL),
			 -EISDIR);
}
END_TEST

static int64_t seek(uint64_t ino, uint64_t off, uint32_t whence)
{
	struct uvfs_lseek_in in = { .offset = off, .whence = whence };
	struct uvfs_lseek_out out;
	int err = CALL(UVFS_OP_LSEEK, ino, in, NULL, NULL);

	if (err)
		return err;
	memcpy(&out, reply, sizeof(out));
	return (int64_t)out.offset;
}

START_TEST(test_lseek)
{
	int64_t f;

	f = create(ROOT, "f", 0644);
	ck_assert_int_eq(seek(f, 0, SEEK_DATA), -ENXIO);
	write_(f, 8192, "x", 1);		/* block 2 */
	write_(f, 12288, "y", 1);		/* block 3 */
	truncate_(f, 40000);
	ck_assert_int_eq(seek(f, 0, SEEK_DATA), 8192);
	ck_assert_int_eq(seek(f, 9000, SEEK_DATA), 9000);
	ck_assert_int_eq(seek(f, 0, SEEK_HOLE), 0);
	ck_assert_int_eq(seek(f, 8192, SEEK_HOLE), 16384);
	ck_assert_int_eq(seek(f, 20000, SEEK_HOLE), 20000);
	ck_assert_int_eq(seek(f, 16384, SEEK_DATA), -ENXIO);
	ck_assert_int_eq(seek(f, 40000, SEEK_HOLE), -ENXIO);
	ck_assert_int_eq(seek(f, 50000, SEEK_DATA), -ENXIO);
	truncate_(f, 13000);
	ck_assert_int_eq(seek(f, 12300, SEEK_HOLE), 13000);
	ck_assert_int_eq(seek(ROOT, 0, SEEK_DATA), -EISDIR);
}
END_TEST

START_TEST(test_statfs)
{
	struct uvfs_statfs_out s0, s1;
	char buf[65536] = { 1 };
	int64_t f;

	s0 = statfs_();
	ck_assert_uint_eq(s0.bsize, 4096);
	ck_assert_uint_eq(s0.namelen, 255);
	ck_assert_uint_eq(s0.blocks, (1ull << 40) / 4096);
	ck_assert_uint_eq(s0.bfree, s0.blocks);
	ck_assert_uint_eq(s0.bavail, s0.bfree);
	ck_assert_uint_eq(s0.files - s0.ffree, 1);	/* the root */
	f = create(ROOT, "f", 0644);
	write_(f, 0, buf, sizeof(buf));
	s1 = statfs_();
	ck_assert_uint_eq(s0.bfree - s1.bfree, 16);
	ck_assert_uint_eq(s0.ffree - s1.ffree, 1);
	unlink_(ROOT, "f");
	forget(f, 1);
	s1 = statfs_();
	ck_assert_uint_eq(s1.bfree, s0.bfree);
	ck_assert_uint_eq(s1.ffree, s0.ffree);
}
END_TEST

START_TEST(test_size_option)
{
	struct uvfs_fallocate_in in = { .length = 65536 };
	char buf[65536] = { 0 };
	struct uvfs_statfs_out s;
	int64_t f;

	stop();
	start("size=64k");
	s = statfs_();
	ck_assert_uint_eq(s.blocks, 16);
	f = create(ROOT, "f", 0644);
	ck_assert_int_eq(write_(f, 0, buf, 40000), 40000);
	/* 10 blocks used, 6 left: a short write, then ENOSPC */
	ck_assert_int_eq(write_(f, 40000, buf, 40000), 65536 - 40000);
	ck_assert_uint_eq(getattr(f).size, 65536);
	ck_assert_int_eq(write_(f, 65536, buf, 10), -ENOSPC);
	ck_assert_int_eq(statfs_().bfree, 0);
	truncate_(f, 0);
	ck_assert_int_eq(statfs_().bfree, 16);
	in.length = 16 * 4096 + 1;
	ck_assert_int_eq(CALL(UVFS_OP_FALLOCATE, f, in, NULL, NULL), -ENOSPC);
	ck_assert_uint_eq(getattr(f).blocks, 0);
	stop();
	{
		struct uvfs_session_opts so = { .backend_opts = "bogus=1" };
		const struct uvfs_backend *be;
		char err[256];

		be = uvfs_backend_load("memfs", &handle, err, sizeof(err));
		se = uvfs_session_new(be, &so);
		ck_assert_int_eq(uvfs_session_mount(se, "none", err,
						    sizeof(err)), -EINVAL);
		ck_assert_ptr_nonnull(strstr(err, "bogus"));
		so.backend_opts = "size=12q";
		uvfs_session_free(se);
		se = uvfs_session_new(be, &so);
		ck_assert_int_eq(uvfs_session_mount(se, "none", err,
						    sizeof(err)), -EINVAL);
		uvfs_session_free(se);
		uvfs_backend_unload(handle);
	}
	start(NULL);
}
END_TEST

/* ---- tests: directories ---- */

START_TEST(test_readdir)
{
	struct listing l;
	int64_t dir, f;
	int i;

	dir = mkdir_(ROOT, "d", 0755);
	f = create(dir, "file", 0644);
	mkdir_(dir, "sub", 0755);
	symlink_(dir, "link", "file");
	readdir_all(dir, false, &l);
	ck_assert_int_eq(l.n, 5);
	ck_assert_str_eq(l.name[0], ".");
	ck_assert_uint_eq(l.off[0], 1);
	ck_assert_uint_eq(l.ino[0], dir);
	ck_assert_str_eq(l.name[1], "..");
	ck_assert_uint_eq(l.off[1], 2);
	ck_assert_uint_eq(l.ino[1], ROOT);
	i = find(&l, "file");
	ck_assert_uint_eq(l.ino[i], f);
	ck_assert_uint_eq(l.type[i], DT_REG);
	ck_assert_uint_eq(l.type[find(&l, "sub")], DT_DIR);
	ck_assert_uint_eq(l.type[find(&l, "link")], DT_LNK);
	/* a buffer too small for even one record: an empty reply */
	memset(&l, 0, sizeof(l));
	ck_assert_int_eq(readdir_(dir, 0, 8, false, &l), 0);
	ck_assert_int_eq(l.n, 0);
	ck_assert_int_eq(readdir_(f, 0, 4096, false, &l), -ENOTDIR);
}
END_TEST

START_TEST(test_readdir_cookies)
{
	struct listing l = { 0 };
	char name[16];
	int seen[20] = { 0 };
	uint64_t off = 0;
	int i, k, n, before, last = -1;

	for (i = 0; i < 20; i++) {
		snprintf(name, sizeof(name), "f%02d", i);
		create(ROOT, name, 0644);
	}
	/*
	 * Read in small chunks.  Unlink every name once read, and after each
	 * chunk one name not read yet: every name must come exactly once,
	 * except those removed before the cursor reached them.
	 */
	for (n = 0;; n++) {
		before = l.n;
		ck_assert_int_eq(readdir_(ROOT, off, 100, false, &l), 0);
		if (l.n == before)
			break;
		off = l.off[l.n - 1];
		for (i = before; i < l.n; i++) {
			if (l.name[i][0] != 'f')
				continue;
			k = atoi(l.name[i] + 1);
			ck_assert_int_eq(seen[k], 0);
			seen[k] = 1;
			last = k;
			ck_assert_int_eq(unlink_(ROOT, l.name[i]), 0);
		}
		if (last + 2 < 20 && !seen[last + 2]) {
			snprintf(name, sizeof(name), "f%02d", last + 2);
			ck_assert_int_eq(unlink_(ROOT, name), 0);
			seen[last + 2] = -1;
		}
	}
	for (i = 0; i < 20; i++)
		ck_assert_msg(seen[i] != 0, "f%02d never listed", i);
	ck_assert_int_gt(n, 3);
	/* an offset past the end, and after a new name: only the new name */
	create(ROOT, "late", 0644);
	memset(&l, 0, sizeof(l));
	ck_assert_int_eq(readdir_(ROOT, off, 4096, false, &l), 0);
	ck_assert_int_eq(l.n, 1);
	ck_assert_str_eq(l.name[0], "late");
}
END_TEST

START_TEST(test_readdirplus_lookups)
{
	struct uvfs_statfs_out s0;
	struct listing l;
	int64_t dir, f;
	int i;

	dir = mkdir_(ROOT, "d", 0755);
	f = create(dir, "f", 0644);
	s0 = statfs_();
	readdir_all(dir, true, &l);
	ck_assert_int_eq(l.n, 3);
	i = find(&l, "f");
	ck_assert_uint_eq(l.ino[i], f);
	/* f now has 2 lookups (create + readdirplus) */
	unlink_(dir, "f");
	forget(f, 1);
	ck_assert_uint_eq(getattr(f).nlink, 0);
	forget(f, 1);
	ck_assert_int_eq(getattr_err(f), -ENOENT);
	ck_assert_uint_eq(statfs_().ffree, s0.ffree + 1);
	/* "." and ".." take no reference: dir goes with mkdir's one */
	rmdir_(ROOT, "d");
	forget(dir, 1);
	ck_assert_int_eq(getattr_err(dir), -ENOENT);
}
END_TEST

/* ---- tests: open files, lifetime ---- */

START_TEST(test_open_release)
{
	struct uvfs_open_in oin = { .flags = O_RDWR };
	struct uvfs_release_in rel = { 0 };
	struct uvfs_flush_in fl = { 0 };
	struct uvfs_fsync_in fs = { .fsync_flags = UVFS_FSYNC_DATASYNC };
	int64_t f, dir;

	f = create(ROOT, "f", 0644);
	dir = mkdir_(ROOT, "d", 0755);
	ck_assert_int_eq(CALL(UVFS_OP_OPEN, f, oin, NULL, NULL), 0);
	ck_assert_uint_eq(rlen, sizeof(struct uvfs_open_out));
	write_(f, 0, "abc", 3);
	ck_assert_int_eq(CALL(UVFS_OP_FLUSH, f, fl, NULL, NULL), 0);
	ck_assert_int_eq(CALL(UVFS_OP_FSYNC, f, fs, NULL, NULL), 0);
	/* unlinked and forgotten, but open: still readable */
	unlink_(ROOT, "f");
	forget(f, 1);
	ck_assert_int_eq(read_(f, 0, 3), 3);
	ck_assert_int_eq(CALL(UVFS_OP_RELEASE, f, rel, NULL, NULL), 0);
	ck_assert_int_eq(getattr_err(f), -ENOENT);

	ck_assert_int_eq(CALL(UVFS_OP_OPEN, dir, oin, NULL, NULL), -EISDIR);
	oin.flags = O_RDONLY | O_DIRECTORY;
	ck_assert_int_eq(CALL(UVFS_OP_OPENDIR, dir, oin, NULL, NULL), 0);
	ck_assert_int_eq(CALL(UVFS_OP_FSYNCDIR, dir, fs, NULL, NULL), 0);
	ck_assert_int_eq(CALL(UVFS_OP_RELEASEDIR, dir, rel, NULL, NULL), 0);
	f = create(ROOT, "g", 0644);
	ck_assert_int_eq(CALL(UVFS_OP_OPENDIR, f, oin, NULL, NULL), -ENOTDIR);
	ck_assert_int_eq(CALL(UVFS_OP_OPEN, 4242, oin, NULL, NULL), -ENOENT);
	/* O_TRUNC */
	write_(f, 0, "abc", 3);
	oin.flags = O_WRONLY | O_TRUNC;
	ck_assert_int_eq(CALL(UVFS_OP_OPEN, f, oin, NULL, NULL), 0);
	ck_assert_uint_eq(getattr(f).size, 0);
	ck_assert_int_eq(CALL(UVFS_OP_RELEASE, f, rel, NULL, NULL), 0);
}
END_TEST

START_TEST(test_forget_batch)
{
	struct {
		struct uvfs_forget_in in;
		struct uvfs_forget_one one[3];
	} f = { { 3, 0 }, { { 0 } } };
	int64_t a, b;

	a = create(ROOT, "a", 0644);
	write_(a, 0, "x", 1);
	b = mkdir_(ROOT, "b", 0755);
	lookup(ROOT, "a");
	unlink_(ROOT, "a");
	rmdir_(ROOT, "b");
	f.one[0] = (struct uvfs_forget_one){ a, 1 };
	f.one[1] = (struct uvfs_forget_one){ b, 5 };	/* more than held */
	f.one[2] = (struct uvfs_forget_one){ a, 1 };
	ck_assert_int_eq(CALL(UVFS_OP_FORGET, 0, f, NULL, NULL), 0);
	ck_assert_int_eq(getattr_err(a), -ENOENT);
	ck_assert_int_eq(getattr_err(b), -ENOENT);
	forget(777, 1);		/* unknown: ignored */
	forget(ROOT, 1);	/* the root stays */
	getattr(ROOT);
}
END_TEST

/* ---- tests: attributes ---- */

START_TEST(test_setattr)
{
	struct uvfs_setattr_in in = { 0 };
	struct uvfs_attr a;
	int64_t f;

	f = create(ROOT, "f", 06755);
	in.valid = UVFS_SET_MODE;
	in.mode = S_IFDIR | 0600;	/* the type bits are ignored */
	ck_assert_int_eq(setattr(f, &in), 0);
	ck_assert_uint_eq(getattr(f).mode, S_IFREG | 0600);

	in.valid = UVFS_SET_ATIME | UVFS_SET_MTIME;
	in.atime = 1000;
	in.atimensec = 5;
	in.mtime = 2000;
	in.mtimensec = 999999999;
	ck_assert_int_eq(setattr(f, &in), 0);
	a = getattr(f);
	ck_assert_int_eq(a.atime, 1000);
	ck_assert_uint_eq(a.atimensec, 5);
	ck_assert_int_eq(a.mtime, 2000);
	ck_assert_uint_eq(a.mtimensec, 999999999);
	ck_assert_int_gt(a.ctime, 2000);	/* ctime is always now */
	in.valid = UVFS_SET_ATIME_NOW | UVFS_SET_MTIME_NOW;
	ck_assert_int_eq(setattr(f, &in), 0);
	a = getattr(f);
	ck_assert_int_gt(a.atime, 1000);
	ck_assert_int_gt(a.mtime, 2000);
	in.valid = UVFS_SET_CTIME;
	in.ctime = 3000;
	ck_assert_int_eq(setattr(f, &in), 0);
	ck_assert_int_eq(getattr(f).ctime, 3000);

	/* chown: root keeps set-ID bits, others lose them */
	in.valid = UVFS_SET_MODE;
	in.mode = 06755;
	setattr(f, &in);
	in.valid = UVFS_SET_UID | UVFS_SET_GID;
	in.uid = 1000;
	in.gid = 1000;
	ck_assert_int_eq(setattr(f, &in), 0);
	a = getattr(f);
	ck_assert_uint_eq(a.uid, 1000);
	ck_assert_uint_eq(a.gid, 1000);
	ck_assert_uint_eq(a.mode & 07777, 06755);
	cur_uid = cur_gid = 1000;
	in.valid = UVFS_SET_GID;
	ck_assert_int_eq(setattr(f, &in), 0);
	ck_assert_uint_eq(getattr(f).mode & 07777, 0755);
	/* KILL_SUID; set-group-ID without group exec is kept */
	cur_uid = cur_gid = 0;
	in.valid = UVFS_SET_MODE;
	in.mode = 06745;
	setattr(f, &in);
	in.valid = UVFS_SET_KILL_SUID;
	ck_assert_int_eq(setattr(f, &in), 0);
	ck_assert_uint_eq(getattr(f).mode & 07777, 02745);

	in.valid = UVFS_SET_MODE;
	ck_assert_int_eq(setattr(4242, &in), -ENOENT);
	in.valid = UVFS_SET_ATIME;
	in.atimensec = 1000000000;
	ck_assert_int_eq(setattr(f, &in), -EINVAL);
}
END_TEST

/* Set a node's times to the distant past, to see which ones an op sets. */
static void age(uint64_t ino)
{
	struct uvfs_setattr_in in = {
		.valid = UVFS_SET_ATIME | UVFS_SET_MTIME | UVFS_SET_CTIME,
		.atime = 100, .mtime = 100, .ctime = 100,
	};

	ck_assert_int_eq(setattr(ino, &in), 0);
}

#define ASSERT_TIMES(ino, a, m, c)                                     \
	do {                                                            \
		struct uvfs_attr at_ = getattr(ino);                    \
		ck_assert_int_eq(at_.atime > 100, a);                   \
		ck_assert_int_eq(at_.mtime > 100, m);                   \
		ck_assert_int_eq(at_.ctime > 100, c);                   \
	} while (0)

START_TEST(test_timestamps)
{
	int64_t f, dir, g;

	dir = mkdir_(ROOT, "d", 0755);
	f = create(dir, "f", 0644);
	ck_assert_uint_gt(entry.attr.mtime, 100);
	age(f);
	write_(f, 0, "x", 1);
	ASSERT_TIMES(f, 0, 1, 1);
	age(f);
	truncate_(f, 0);
	ASSERT_TIMES(f, 0, 1, 1);
	age(f);
	ck_assert_int_eq(setxattr_(f, "user.a", "v", 1, 0), 0);
	ASSERT_TIMES(f, 0, 0, 1);
	age(f);
	age(dir);
	g = create(dir, "g", 0644);
	ASSERT_TIMES(dir, 0, 1, 1);
	ASSERT_TIMES(f, 0, 0, 0);
	age(dir);
	link_(f, dir, "f2");
	ASSERT_TIMES(dir, 0, 1, 1);
	ASSERT_TIMES(f, 0, 0, 1);
	age(dir);
	age(f);
	unlink_(dir, "f2");
	ASSERT_TIMES(dir, 0, 1, 1);
	ASSERT_TIMES(f, 0, 0, 1);
	age(dir);
	age(ROOT);
	age(g);
	rename_(dir, "g", ROOT, "g", 0);
	ASSERT_TIMES(dir, 0, 1, 1);
	ASSERT_TIMES(ROOT, 0, 1, 1);
	ASSERT_TIMES(g, 0, 0, 1);
	age(dir);
	mkdir_(dir, "sub", 0755);
	ASSERT_TIMES(dir, 0, 1, 1);
	age(dir);
	rmdir_(dir, "sub");
	ASSERT_TIMES(dir, 0, 1, 1);
	age(dir);
	symlink_(dir, "s", "t");
	ASSERT_TIMES(dir, 0, 1, 1);
	/* nanoseconds are kept */
	{
		struct uvfs_setattr_in in = { .valid = UVFS_SET_MTIME,
					      .mtime = 5, .mtimensec = 123 };

		setattr(f, &in);
		ck_assert_uint_eq(getattr(f).mtimensec, 123);
	}
}
END_TEST

START_TEST(test_ownership)
{
	struct uvfs_setattr_in in = { .valid = UVFS_SET_MODE | UVFS_SET_GID,
				      .mode = 02775, .gid = 50 };
	int64_t sgid, f, sub;

	cur_uid = 1000;
	cur_gid = 100;
	f = create(ROOT, "mine", 0644);
	ck_assert_uint_eq(entry.attr.uid, 1000);
	ck_assert_uint_eq(entry.attr.gid, 100);
	cur_uid = cur_gid = 0;
	sgid = mkdir_(ROOT, "sgid", 0775);
	ck_assert_int_eq(setattr(sgid, &in), 0);
	cur_uid = 1000;
	cur_gid = 100;
	f = create(sgid, "f", 0644);
	ck_assert_uint_eq(entry.attr.gid, 50);
	ck_assert_uint_eq(entry.attr.mode, S_IFREG | 0644);
	sub = mkdir_(sgid, "sub", 0755);
	ck_assert_uint_eq(entry.attr.gid, 50);
	ck_assert_uint_eq(entry.attr.mode, S_IFDIR | 02755);
	/* not in group 50: a set-group-ID file loses the bit */
	create(sgid, "g", 02755);
	ck_assert_uint_eq(entry.attr.mode, S_IFREG | 0755);
	(void)f;
	(void)sub;
}
END_TEST

START_TEST(test_access)
{
	struct uvfs_access_in in = { .mask = R_OK | W_OK };
	int64_t f;

	f = create(ROOT, "f", 0640);
	ck_assert_int_eq(CALL(UVFS_OP_ACCESS, f, in, NULL, NULL), 0);
	in.mask = X_OK;
	ck_assert_int_eq(CALL(UVFS_OP_ACCESS, f, in, NULL, NULL), -EACCES);
	ck_assert_int_eq(CALL(UVFS_OP_ACCESS, ROOT, in, NULL, NULL), 0);
	cur_uid = 1000;
	cur_gid = 0;	/* group member: r only */
	in.mask = R_OK;
	ck_assert_int_eq(CALL(UVFS_OP_ACCESS, f, in, NULL, NULL), 0);
	in.mask = W_OK;
	ck_assert_int_eq(CALL(UVFS_OP_ACCESS, f, in, NULL, NULL), -EACCES);
	cur_gid = 1000;	/* other: nothing */
	in.mask = R_OK;
	ck_assert_int_eq(CALL(UVFS_OP_ACCESS, f, in, NULL, NULL), -EACCES);
	in.mask = F_OK;
	ck_assert_int_eq(CALL(UVFS_OP_ACCESS, f, in, NULL, NULL), 0);
	ck_assert_int_eq(CALL(UVFS_OP_ACCESS, 999, in, NULL, NULL), -ENOENT);
}
END_TEST

/* ---- tests: extended attributes ---- */

START_TEST(test_xattr)
{
	static char big[UVFS_XATTR_SIZE_MAX];
	char name[UVFS_XATTR_NAME_MAX + 2];
	int64_t f;

	f = create(ROOT, "f", 0644);
	ck_assert_int_eq(getxattr_(f, NULL, 0), 0);
	ck_assert_int_eq(getxattr_(f, "user.a", 0), -ENODATA);
	ck_assert_int_eq(setxattr_(f, "user.a", "1234", 4, XATTR_REPLACE),
			 -ENODATA);
	ck_assert_int_eq(setxattr_(f, "user.a", "1234", 4, XATTR_CREATE), 0);
	ck_assert_int_eq(setxattr_(f, "user.a", "xx", 2, XATTR_CREATE),
			 -EEXIST);
	ck_assert_int_eq(getxattr_(f, "user.a", 0), 4);
	ck_assert_int_eq(getxattr_(f, "user.a", 3), -ERANGE);
	ck_assert_int_eq(getxattr_(f, "user.a", 100), 4);
	ck_assert(memcmp(reply, "1234", 4) == 0);
	ck_assert_int_eq(setxattr_(f, "user.a", "xy", 2, XATTR_REPLACE), 0);
	ck_assert_int_eq(getxattr_(f, "user.a", 100), 2);
	ck_assert(memcmp(reply, "xy", 2) == 0);
	ck_assert_int_eq(setxattr_(f, "user.empty", NULL, 0, 0), 0);
	ck_assert_int_eq(getxattr_(f, "user.empty", 0), 0);
	ck_assert_int_eq(getxattr_(f, "user.empty", 10), 0);

	memset(big, 'b', sizeof(big));
	ck_assert_int_eq(setxattr_(f, "trusted.big", big, sizeof(big), 0), 0);
	ck_assert_int_eq(getxattr_(f, "trusted.big", 0), sizeof(big));
	ck_assert_int_eq(getxattr_(f, "trusted.big", sizeof(big)),
			 sizeof(big));
	ck_assert(memcmp(reply, big, sizeof(big)) == 0);

	memset(name, 'n', sizeof(name));
	memcpy(name, "user.", 5);
	name[UVFS_XATTR_NAME_MAX] = '\0';
	ck_assert_int_eq(setxattr_(f, name, "v", 1, 0), 0);
	name[UVFS_XATTR_NAME_MAX] = 'n';
	name[UVFS_XATTR_NAME_MAX + 1] = '\0';
	ck_assert_int_ne(setxattr_(f, name, "v", 1, 0), 0);
	name[UVFS_XATTR_NAME_MAX] = '\0';

	/* list: NUL-separated, in creation order */
	ck_assert_int_eq(getxattr_(f, NULL, 0),
			 7 + 11 + 12 + UVFS_XATTR_NAME_MAX + 1);
	ck_assert_int_eq(getxattr_(f, NULL, 10), -ERANGE);
	ck_assert_int_eq(getxattr_(f, NULL, 4096),
			 7 + 11 + 12 + UVFS_XATTR_NAME_MAX + 1);
	ck_assert_str_eq(reply, "user.a");
	ck_assert_str_eq(reply + 7, "user.empty");
	ck_assert_str_eq(reply + 18, "trusted.big");
	ck_assert_str_eq(reply + 30, name);

	ck_assert_int_eq(CALL0(UVFS_OP_REMOVEXATTR, f, "user.a", NULL), 0);
	ck_assert_int_eq(CALL0(UVFS_OP_REMOVEXATTR, f, "user.a", NULL),
			 -ENODATA);
	ck_assert_int_eq(getxattr_(f, "user.a", 0), -ENODATA);
	ck_assert_int_eq(CALL0(UVFS_OP_REMOVEXATTR, 999, "user.a", NULL),
			 -ENOENT);
	ck_assert_int_eq(getxattr_(999, NULL, 0), -ENOENT);
	/* xattrs on a directory, freed with it */
	ck_assert_int_eq(setxattr_(ROOT, "user.r", "1", 1, 0), 0);
	ck_assert_int_eq(getxattr_(ROOT, "user.r", 0), 1);
}
END_TEST

/* ---- a large tree left for unmount to free ---- */

START_TEST(test_unmount_frees_all)
{
	char name[32];
	int64_t dir, f;
	int i;

	dir = mkdir_(ROOT, "tree", 0755);
	for (i = 0; i < 300; i++) {
		snprintf(name, sizeof(name), "n%d", i);
		f = i % 3 ? create(dir, name, 0644) : mkdir_(dir, name, 0755);
		ck_assert_int_gt(f, 0);
		if (i % 3 == 1)
			write_(f, (uint64_t)i * 100000, name, strlen(name));
		if (i % 5 == 0)
			setxattr_(f, "user.x", name, strlen(name), 0);
	}
	symlink_(dir, "sym", "n1");
	f = create(ROOT, "orphan", 0644);
	write_(f, 0, "x", 1);
	unlink_(ROOT, "orphan");	/* still looked up at unmount */
	for (i = 0; i < 300; i++) {
		snprintf(name, sizeof(name), "n%d", i);
		ck_assert_int_gt(lookup(dir, name), 0);
	}
}
END_TEST

static Suite *memfs_suite(void)
{
	Suite *s = suite_create("memfs");
	TCase *tc = tcase_create("ops");

	tcase_add_checked_fixture(tc, setup, stop);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_root);
	tcase_add_test(tc, test_lookup_create);
	tcase_add_test(tc, test_mkdir_nlink);
	tcase_add_test(tc, test_unlink_rmdir);
	tcase_add_test(tc, test_symlink);
	tcase_add_test(tc, test_hardlink);
	tcase_add_test(tc, test_mknod);
	tcase_add_test(tc, test_rename_basic);
	tcase_add_test(tc, test_rename_errors);
	tcase_add_test(tc, test_rename_dir_parent);
	tcase_add_test(tc, test_rename_exchange);
	tcase_add_test(tc, test_write_read);
	tcase_add_test(tc, test_sparse_5g);
	tcase_add_test(tc, test_truncate);
	tcase_add_test(tc, test_fallocate);
	tcase_add_test(tc, test_lseek);
	tcase_add_test(tc, test_statfs);
	tcase_add_test(tc, test_size_option);
	tcase_add_test(tc, test_readdir);
	tcase_add_test(tc, test_readdir_cookies);
	tcase_add_test(tc, test_readdirplus_lookups);
	tcase_add_test(tc, test_open_release);
	tcase_add_test(tc, test_forget_batch);
	tcase_add_test(tc, test_setattr);
	tcase_add_test(tc, test_timestamps);
	tcase_add_test(tc, test_ownership);
	tcase_add_test(tc, test_access);
	tcase_add_test(tc, test_xattr);
	tcase_add_test(tc, test_unmount_frees_all);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(memfs_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
