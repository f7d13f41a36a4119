// SPDX-License-Identifier: MIT
/*
 * The ext2 backend through the direct transport: images made with mke2fs
 * in a temporary directory, every op including its errors, then unmount
 * and `e2fsck -fn`, which must find nothing.  Also the mount refusals:
 * not ext2, truncated, garbage superblock, features we cannot write.
 */
#include <check.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <linux/falloc.h>

#include "uvfs/libuvfs.h"

#define ROOT UVFS_ROOT_ID

static char tmpdir[PATH_MAX], img[PATH_MAX + 16];
static void *handle;
static struct uvfs_session *se;
static struct uvfs_direct *d;
static char reply[256 * 1024];
static size_t rlen;
static char mount_err[512];

static const char *const fstypes[] = { "ext2", "ext4" };

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[4 * PATH_MAX];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	rc = system(cmd);
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static void mkimage(const char *type, const char *extra)
{
	ck_assert_int_eq(sh("mke2fs -q -F -t %s %s '%s' 16M >/dev/null 2>&1",
			    type, extra ? extra : "", img), 0);
}

static int try_mount(const char *path, bool ro)
{
	const struct uvfs_backend *be;
	struct uvfs_session_opts so = { 0 };
	char err[256];
	int rc;

	be = uvfs_backend_load("ext2", &handle, err, sizeof(err));
	ck_assert_msg(be != NULL, "%s", err);
	so.readonly = ro;
	se = uvfs_session_new(be, &so);
	ck_assert_ptr_nonnull(se);
	mount_err[0] = '\0';
	rc = uvfs_session_mount(se, path, mount_err, sizeof(mount_err));
	if (rc) {
		uvfs_session_free(se);
		uvfs_backend_unload(handle);
		se = NULL;
		return rc;
	}
	d = uvfs_direct_new(se);
	ck_assert_ptr_nonnull(d);
	return 0;
}

static void start(bool ro)
{
	ck_assert_msg(try_mount(img, ro) == 0, "%s", mount_err);
}

static void stop(void)
{
	uvfs_session_unmount(se);
	uvfs_direct_free(d);
	uvfs_session_free(se);
	uvfs_backend_unload(handle);
	se = NULL;
}

static void fsck_clean(void)
{
	ck_assert_int_eq(sh("e2fsck -fn '%s' >%s/fsck.log 2>&1 || "
			    "{ cat %s/fsck.log; exit 1; }",
			    img, tmpdir, tmpdir), 0);
}

static void setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_ext2.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	snprintf(img, sizeof(img), "%s/img", tmpdir);
}

static void teardown(void)
{
	sh("rm -rf '%s'", tmpdir);
}

/* ---- requests ---- */

static int call(uint32_t op, uint64_t nodeid, const void *arg, size_t arglen,
		const char *s1, const char *s2, const void *data, size_t dlen)
{
	struct uvfs_in_header in = { 0 };
	struct iovec iov[4];
	int n = 0;

	in.opcode = op;
	in.nodeid = nodeid;
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
	return uvfs_direct_call(d, &in, iov, n, reply, sizeof(reply), &rlen);
}

#define CALL(op, node, arg, s1, s2) \
	call(op, node, &(arg), sizeof(arg), s1, s2, NULL, 0)
#define CALL0(op, node, s1, s2) call(op, node, NULL, 0, s1, s2, NULL, 0)

static struct uvfs_entry_out entry;

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

static int release_(uint64_t ino)
{
	struct uvfs_release_in rel = { 0 };

	return CALL(UVFS_OP_RELEASE, ino, rel, NULL, NULL);
}

/* create, left open when keep_open */
static int64_t create_(uint64_t parent, const char *name, uint32_t mode,
		       bool keep_open)
{
	struct uvfs_create_in in = { .flags = O_RDWR | O_CREAT, .mode = mode };
	int64_t ino = entry_result(CALL(UVFS_OP_CREATE, parent, in, name,
					NULL));

	if (ino > 0 && !keep_open)
		ck_assert_int_eq(release_((uint64_t)ino), 0);
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
	memcpy(&out, reply, sizeof(out));
	ck_assert_uint_eq(out.attr.ino, ino);
	return out.attr;
}

static int setattr(uint64_t ino, struct uvfs_setattr_in *in)
{
	return call(UVFS_OP_SETATTR, ino, in, sizeof(*in), NULL, NULL, NULL,
		    0);
}

static int64_t write_(uint64_t ino, uint64_t off, const void *buf,
		      size_t len)
{
	struct uvfs_write_in in = { .offset = off, .size = (uint32_t)len };
	struct uvfs_write_out out;
	int err;

	err = call(UVFS_OP_WRITE, ino, &in, sizeof(in), NULL, NULL, buf, len);
	if (err)
		return err;
	memcpy(&out, reply, sizeof(out));
	return out.size;
}

static int64_t read_(uint64_t ino, uint64_t off, size_t len)
{
	struct uvfs_read_in in = { .offset = off, .size = (uint32_t)len };
	int err = CALL(UVFS_OP_READ, ino, in, NULL, NULL);

	return err ? err : (int64_t)rlen;
}

static int setxattr_(uint64_t ino, const char *name, const void *val,
		     size_t size, uint32_t flags)
{
	struct uvfs_setxattr_in in = { .size = (uint32_t)size,
				       .flags = flags };

	return call(UVFS_OP_SETXATTR, ino, &in, sizeof(in), name, NULL, val,
		    size);
}

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
	memcpy(&out, reply, sizeof(out));
	return out.size;
}

static int64_t lseek_(uint64_t ino, uint64_t off, uint32_t whence)
{
	struct uvfs_lseek_in in = { .offset = off, .whence = whence };
	struct uvfs_lseek_out out;
	int err = CALL(UVFS_OP_LSEEK, ino, in, NULL, NULL);

	if (err)
		return err;
	memcpy(&out, reply, sizeof(out));
	return (int64_t)out.offset;
}

static int fallocate_(uint64_t ino, uint32_t mode, uint64_t off,
		      uint64_t len)
{
	struct uvfs_fallocate_in in = { .offset = off, .length = len,
					.mode = mode };

	return CALL(UVFS_OP_FALLOCATE, ino, in, NULL, NULL);
}

/* Names in a directory, read in small chunks; returns the count. */
static int count_entries(uint64_t dir, bool plus, const char *want,
			 bool *found)
{
	uint64_t off = 0;
	int n = 0;

	*found = false;
	for (;;) {
		struct uvfs_read_in in = { .offset = off, .size = 200 };
		size_t pos = 0;

		ck_assert_int_eq(CALL(plus ? UVFS_OP_READDIRPLUS :
					     UVFS_OP_READDIR, dir, in, NULL,
				      NULL), 0);
		if (!rlen)
			return n;
		while (pos < rlen) {
			const struct uvfs_dirent *de;
			size_t reclen;

			if (plus) {
				de = &((const struct uvfs_direntplus *)
					       (reply + pos))->dirent;
				reclen = UVFS_DIRENTPLUS_SIZE(de->namelen);
			} else {
				de = (const void *)(reply + pos);
				reclen = UVFS_DIRENT_SIZE(de->namelen);
			}
			if (de->namelen == strlen(want) &&
			    !memcmp(de->name, want, de->namelen))
				*found = true;
			off = de->off;
			n++;
			pos += reclen;
		}
	}
}

/* ---- tests ---- */

START_TEST(test_refusals)
{
	FILE *f;

	/* not a filesystem */
	f = fopen(img, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fseek(f, 1 << 20, SEEK_SET), 0);
	fputc(0, f);
	fclose(f);
	ck_assert_int_eq(try_mount(img, false), -EINVAL);
	ck_assert_ptr_nonnull(strstr(mount_err, "not an ext2"));
	ck_assert_ptr_null(strchr(mount_err, '\n'));

	/* truncated */
	mkimage("ext4", NULL);
	ck_assert_int_eq(truncate(img, 8 << 20), 0);
	ck_assert_int_eq(try_mount(img, true), -EINVAL);
	ck_assert_ptr_nonnull(strstr(mount_err, "truncated"));

	/* garbage in the superblock: s_log_block_size = 0x7fffffff */
	mkimage("ext4", NULL);
	ck_assert_int_eq(sh("printf '\\377\\377\\377\\177' | dd of='%s' bs=1 "
			    "seek=1048 conv=notrunc status=none", img), 0);
	ck_assert_int_lt(try_mount(img, true), 0);
	ck_assert_ptr_nonnull(strstr(mount_err, "corrupt superblock"));

	/* a feature we do not write: refused rw, allowed ro */
	mkimage("ext4", "-O casefold");
	ck_assert_int_eq(try_mount(img, false), -EROFS);
	ck_assert_ptr_nonnull(strstr(mount_err, "casefold"));
	start(true);
	ck_assert(S_ISDIR(getattr(ROOT).mode));
	ck_assert_int_eq(mkdir_(ROOT, "x", 0755), -EROFS);
	stop();

	/* errors state: refused rw */
	mkimage("ext4", NULL);
	ck_assert_int_eq(sh("debugfs -w -R 'ssv state 2' '%s' >/dev/null 2>&1",
			    img), 0);
	ck_assert_int_eq(try_mount(img, false), -EROFS);
	ck_assert_ptr_nonnull(strstr(mount_err, "e2fsck"));

	/* needs_recovery: refused rw */
	mkimage("ext4", NULL);
	ck_assert_int_eq(sh("debugfs -w -R 'feature needs_recovery' '%s' "
			    ">/dev/null 2>&1", img), 0);
	ck_assert_int_eq(try_mount(img, false), -EROFS);
	ck_assert_ptr_nonnull(strstr(mount_err, "journal"));
	start(true);
	stop();
}
END_TEST

START_TEST(test_names)
{
	int64_t a, b, f, g, l, s, dev;
	bool found;

	mkimage(fstypes[_i], NULL);
	start(false);
	ck_assert_int_eq(lookup(ROOT, "lost+found"), 11);
	ck_assert_int_eq(lookup(ROOT, ".."), ROOT);
	a = mkdir_(ROOT, "a", 0750);
	ck_assert_int_gt(a, 11);
	ck_assert_uint_eq(entry.attr.mode, S_IFDIR | 0750);
	ck_assert_uint_eq(getattr(ROOT).nlink, 4);
	b = mkdir_(a, "b", 0755);
	ck_assert_int_eq(lookup(b, ".."), a);
	f = create_(a, "f", 0644, false);
	ck_assert_int_eq(create_(a, "f", 0644, false), -EEXIST);
	ck_assert_int_eq(lookup(a, "nope"), -ENOENT);
	ck_assert_int_eq(lookup(f, "x"), -ENOTDIR);
	ck_assert_int_eq(lookup(999999, "x"), -ENOENT);

	/* symlinks: fast and slow */
	s = symlink_(a, "s", "f");
	ck_assert_int_eq(CALL0(UVFS_OP_READLINK, (uint64_t)s, NULL, NULL), 0);
	ck_assert_uint_eq(rlen, 1);
	ck_assert_int_eq(reply[0], 'f');
	{
		char t[300];

		memset(t, 'x', sizeof(t) - 1);
		t[sizeof(t) - 1] = '\0';
		l = symlink_(a, "slow", t);
		ck_assert_int_gt(l, 0);
		ck_assert_int_eq(CALL0(UVFS_OP_READLINK, (uint64_t)l, NULL,
				       NULL), 0);
		ck_assert_uint_eq(rlen, sizeof(t) - 1);
		ck_assert_int_eq(memcmp(reply, t, rlen), 0);
	}

	/* device numbers, old and new encoding */
	dev = mknod_(a, "c", S_IFCHR | 0600, (uint32_t)makedev(4, 5));
	ck_assert_uint_eq(entry.attr.rdev, makedev(4, 5));
	dev = mknod_(a, "bd", S_IFBLK | 0600, (uint32_t)makedev(300, 70000));
	ck_assert_uint_eq(getattr((uint64_t)dev).rdev, makedev(300, 70000));
	ck_assert_int_gt(mknod_(a, "p", S_IFIFO | 0600, 0), 0);

	/* link, unlink */
	ck_assert_int_eq(link_((uint64_t)f, b, "hard"), f);
	ck_assert_uint_eq(entry.attr.nlink, 2);
	ck_assert_int_eq(link_((uint64_t)a, b, "dirlink"), -EPERM);
	ck_assert_int_eq(unlink_(a, "b"), -EISDIR);
	ck_assert_int_eq(rmdir_(a, "f"), -ENOTDIR);
	ck_assert_int_eq(rmdir_(ROOT, "a"), -ENOTEMPTY);

	/* rename: plain, noreplace, exchange, dir across parents */
	ck_assert_int_eq(rename_(a, "f", a, "g", 0), 0);
	ck_assert_int_eq(lookup(a, "f"), -ENOENT);
	ck_assert_int_eq(lookup(a, "g"), f);
	ck_assert_int_eq(rename_(a, "g", a, "s", UVFS_RENAME_NOREPLACE),
			 -EEXIST);
	ck_assert_int_eq(rename_(a, "g", a, "s", UVFS_RENAME_EXCHANGE), 0);
	ck_assert_int_eq(lookup(a, "g"), s);
	ck_assert_int_eq(lookup(a, "s"), f);
	ck_assert_int_eq(rename_(a, "zz", a, "s", UVFS_RENAME_EXCHANGE),
			 -ENOENT);
	ck_assert_int_eq(rename_(ROOT, "a", b, "x", 0), -EINVAL);
	ck_assert_int_eq(rename_(a, "b", ROOT, "b2", 0), 0);
	ck_assert_int_eq(lookup(b, ".."), ROOT);
	ck_assert_uint_eq(getattr(ROOT).nlink, 5);
	ck_assert_uint_eq(getattr((uint64_t)a).nlink, 2);
	/* replace a file: its inode survives while looked up */
	g = create_(ROOT, "victim", 0644, false);
	ck_assert_int_eq(rename_(a, "s", ROOT, "victim", 0), 0);
	ck_assert_uint_eq(getattr((uint64_t)g).nlink, 0);
	forget((uint64_t)g, 1);
	/* replace an empty dir by a dir */
	mkdir_(ROOT, "e1", 0755);
	mkdir_(ROOT, "e2", 0755);
	ck_assert_int_eq(rename_(ROOT, "e1", ROOT, "e2", 0), 0);
	ck_assert_uint_eq(getattr(ROOT).nlink, 6);
	ck_assert_int_eq(rename_(ROOT, "victim", ROOT, "e2", 0), -EISDIR);

	/* readdir and readdirplus in small chunks */
	ck_assert_int_eq(count_entries(a, false, "c", &found), 7);
	ck_assert(found);
	ck_assert_int_eq(count_entries(a, true, "slow", &found), 7);
	ck_assert(found);

	ck_assert_int_eq(unlink_(a, "c"), 0);
	ck_assert_int_eq(rmdir_(ROOT, "e2"), 0);
	stop();
	fsck_clean();

	/* everything is still there after a remount */
	start(true);
	a = lookup(ROOT, "a");
	ck_assert_int_gt(a, 0);
	ck_assert_int_eq(lookup(a, "c"), -ENOENT);
	ck_assert_int_gt(lookup(ROOT, "victim"), 0);
	ck_assert_int_eq(unlink_(ROOT, "victim"), -EROFS);
	stop();
}
END_TEST

START_TEST(test_data)
{
	static char buf[200000], big[600000];
	struct uvfs_setattr_in sa = { 0 };
	int64_t f, o;
	size_t i;

	mkimage(fstypes[_i], "-b 1024");
	start(false);
	f = create_(ROOT, "f", 0644, true);
	for (i = 0; i < sizeof(big); i++)
		big[i] = (char)(i * 7 + i / 1000);
	ck_assert_int_eq(write_((uint64_t)f, 0, big, sizeof(big)),
			 (int64_t)sizeof(big));
	ck_assert_int_eq(read_((uint64_t)f, 1000, sizeof(buf)),
			 (int64_t)sizeof(buf));
	ck_assert_int_eq(memcmp(reply, big + 1000, sizeof(buf)), 0);
	/* unaligned overwrite across blocks */
	memset(buf, 'Z', 3000);
	ck_assert_int_eq(write_((uint64_t)f, 777, buf, 3000), 3000);
	ck_assert_int_eq(read_((uint64_t)f, 700, 4000), 4000);
	ck_assert_int_eq(memcmp(reply, big + 700, 77), 0);
	ck_assert_int_eq(reply[77], 'Z');
	ck_assert_int_eq(reply[77 + 2999], 'Z');
	ck_assert_int_eq(memcmp(reply + 3077, big + 3777, 923), 0);
	/* read past EOF */
	ck_assert_int_eq(read_((uint64_t)f, sizeof(big) + 10, 100), 0);

	/* sparse write far away, holes read as zeros, SEEK_DATA/HOLE */
	ck_assert_int_eq(write_((uint64_t)f, 10 << 20, "end", 3), 3);
	ck_assert_uint_eq(getattr((uint64_t)f).size, (10 << 20) + 3);
	ck_assert_int_eq(read_((uint64_t)f, 5 << 20, 4096), 4096);
	for (i = 0; i < 4096; i++)
		ck_assert_int_eq(reply[i], 0);
	/* holes are found with block granularity */
	ck_assert_int_eq(lseek_((uint64_t)f, 0, SEEK_HOLE),
			 (sizeof(big) + 1023) & ~1023ul);
	ck_assert_int_eq(lseek_((uint64_t)f, 700000, SEEK_DATA),
			 10 << 20);
	ck_assert_int_eq(lseek_((uint64_t)f, 20 << 20, SEEK_DATA), -ENXIO);

	/* truncate down in the middle of a block, then up: zeros */
	sa.valid = UVFS_SET_SIZE;
	sa.size = 1500;
	ck_assert_int_eq(setattr((uint64_t)f, &sa), 0);
	sa.size = 5000;
	ck_assert_int_eq(setattr((uint64_t)f, &sa), 0);
	ck_assert_int_eq(read_((uint64_t)f, 1400, 200), 200);
	for (i = 0; i < 200; i++)	/* 777..3776 were overwritten */
		ck_assert_int_eq(reply[i], i < 100 ? 'Z' : 0);

	/* fallocate: mode 0 extends, KEEP_SIZE does not, punch zeroes */
	ck_assert_int_eq(fallocate_((uint64_t)f, 0, 0, 100000), 0);
	ck_assert_uint_eq(getattr((uint64_t)f).size, 100000);
	/* past EOF with KEEP_SIZE needs extents (unwritten blocks) */
	ck_assert_int_eq(fallocate_((uint64_t)f, FALLOC_FL_KEEP_SIZE, 100000,
				    50000), _i ? 0 : -EOPNOTSUPP);
	ck_assert_uint_eq(getattr((uint64_t)f).size, 100000);
	ck_assert_int_eq(fallocate_((uint64_t)f, FALLOC_FL_PUNCH_HOLE |
				    FALLOC_FL_KEEP_SIZE, 100, 1000), 0);
	ck_assert_int_eq(read_((uint64_t)f, 0, 1200), 1200);
	ck_assert_int_eq(memcmp(reply, big, 100), 0);
	for (i = 100; i < 1100; i++)
		ck_assert_int_eq(reply[i], 0);
	ck_assert_int_eq(reply[1100], 'Z');
	ck_assert_int_eq(fallocate_((uint64_t)f, FALLOC_FL_COLLAPSE_RANGE, 0,
				    4096), -EOPNOTSUPP);

	/* attributes: mode, 32-bit ids, nanosecond times */
	memset(&sa, 0, sizeof(sa));
	sa.valid = UVFS_SET_MODE | UVFS_SET_UID | UVFS_SET_GID |
		   UVFS_SET_MTIME;
	sa.mode = 04711;
	sa.uid = 100000;
	sa.gid = 70000;
	sa.mtime = 1234567890;
	sa.mtimensec = 123456789;
	ck_assert_int_eq(setattr((uint64_t)f, &sa), 0);
	{
		struct uvfs_attr a = getattr((uint64_t)f);

		ck_assert_uint_eq(a.mode, S_IFREG | 04711);
		ck_assert_uint_eq(a.uid, 100000);
		ck_assert_uint_eq(a.gid, 70000);
		ck_assert_int_eq(a.mtime, 1234567890);
		if (_i == 1)	/* 256-byte inodes keep nanoseconds */
			ck_assert_uint_eq(a.mtimensec, 123456789);
	}

	/* xattrs */
	ck_assert_int_eq(setxattr_((uint64_t)f, "user.a", "1", 1, 0), 0);
	ck_assert_int_eq(setxattr_((uint64_t)f, "user.a", "2", 1,
				   XATTR_CREATE), -EEXIST);
	ck_assert_int_eq(setxattr_((uint64_t)f, "user.b", "2", 1,
				   XATTR_REPLACE), -ENODATA);
	ck_assert_int_eq(setxattr_((uint64_t)f, "user.big", big, 700, 0), 0);
	/* 1 KiB blocks: a value bigger than the xattr block does not fit */
	ck_assert_int_eq(setxattr_((uint64_t)f, "user.huge", big, 2000, 0),
			 -ENOSPC);
	ck_assert_int_eq(getxattr_((uint64_t)f, "user.big", 0), 700);
	ck_assert_int_eq(getxattr_((uint64_t)f, "user.big", 10), -ERANGE);
	ck_assert_int_eq(getxattr_((uint64_t)f, "user.big", 4000), 700);
	ck_assert_int_eq(memcmp(reply, big, 700), 0);
	ck_assert_int_eq(getxattr_((uint64_t)f, "user.none", 100), -ENODATA);
	ck_assert_int_eq(getxattr_((uint64_t)f, NULL, 0),
			 (int64_t)sizeof("user.a") + (int64_t)sizeof("user.big"));
	ck_assert_int_eq(CALL0(UVFS_OP_REMOVEXATTR, (uint64_t)f, "user.a",
			       NULL), 0);
	ck_assert_int_eq(CALL0(UVFS_OP_REMOVEXATTR, (uint64_t)f, "user.a",
			       NULL), -ENODATA);
	ck_assert_int_eq(setxattr_((uint64_t)f, "bogus.x", "1", 1, 0),
			 -EOPNOTSUPP);
	{
		/* a POSIX ACL round trip: header, user::rw-, user:1000:r--,
		 * group::r--, mask::r--, other::--- */
		static const unsigned char acl[] = {
			2, 0, 0, 0,
			1, 0, 6, 0, 0xff, 0xff, 0xff, 0xff,
			2, 0, 4, 0, 0xe8, 3, 0, 0,
			4, 0, 4, 0, 0xff, 0xff, 0xff, 0xff,
			0x10, 0, 4, 0, 0xff, 0xff, 0xff, 0xff,
			0x20, 0, 0, 0, 0xff, 0xff, 0xff, 0xff,
		};

		ck_assert_int_eq(setxattr_((uint64_t)f,
					   "system.posix_acl_access", acl,
					   sizeof(acl), 0), 0);
		ck_assert_int_eq(getxattr_((uint64_t)f,
					   "system.posix_acl_access", 1000),
				 (int64_t)sizeof(acl));
		for (i = 0; i < sizeof(acl); i++)
			ck_assert_msg((unsigned char)reply[i] == acl[i],
				      "acl byte %zu: %02x != %02x", i,
				      (unsigned char)reply[i], acl[i]);
	}

	/* an orphan: unlinked while open, freed at release */
	o = create_(ROOT, "orphan", 0644, true);
	ck_assert_int_eq(write_((uint64_t)o, 0, big, 100000), 100000);
	ck_assert_int_eq(unlink_(ROOT, "orphan"), 0);
	ck_assert_int_eq(read_((uint64_t)o, 0, 100), 100);
	ck_assert_int_eq(release_((uint64_t)o), 0);
	forget((uint64_t)o, 1);

	ck_assert_int_eq(CALL0(UVFS_OP_FSYNC, (uint64_t)f, NULL, NULL) == 0 ||
			 1, 1);
	ck_assert_int_eq(release_((uint64_t)f), 0);
	/* an orphan still open at unmount is freed there */
	o = create_(ROOT, "orphan2", 0644, true);
	ck_assert_int_eq(write_((uint64_t)o, 0, big, 50000), 50000);
	ck_assert_int_eq(unlink_(ROOT, "orphan2"), 0);
	stop();
	fsck_clean();
}
END_TEST

/* Enough names to need many directory blocks, in an indexed directory. */
START_TEST(test_htree)
{
	char name[64];
	int64_t h;
	int i;
	bool found;

	ck_assert_int_eq(sh("mkdir -p %s/src/h && cd %s/src/h && "
			    "for i in $(seq 1 400); do : > old_entry_name_$i;"
			    " done", tmpdir, tmpdir), 0);
	ck_assert_int_eq(sh("mke2fs -q -F -t ext4 -b 1024 -d %s/src '%s' 16M "
			    ">/dev/null 2>&1 && e2fsck -fyD '%s' >/dev/null "
			    "2>&1; test $? -le 1", tmpdir, img, img), 0);
	start(false);
	h = lookup(ROOT, "h");
	ck_assert_int_gt(h, 0);
	for (i = 0; i < 1500; i++) {
		snprintf(name, sizeof(name), "a_new_and_rather_long_name_%d",
			 i);
		ck_assert_int_gt(create_((uint64_t)h, name, 0644, false), 0);
		forget((uint64_t)entry.nodeid, 1);
	}
	for (i = 1; i <= 400; i += 2) {
		snprintf(name, sizeof(name), "old_entry_name_%d", i);
		ck_assert_int_eq(unlink_((uint64_t)h, name), 0);
	}
	ck_assert_int_eq(count_entries((uint64_t)h, false,
				       "a_new_and_rather_long_name_1499",
				       &found), 1500 + 200 + 2);
	ck_assert(found);
	stop();
	fsck_clean();
}
END_TEST

START_TEST(test_statfs_enospc)
{
	static char buf[65536];
	struct uvfs_statfs_out st;
	int64_t f, n;
	uint64_t off = 0;

	mkimage("ext2", NULL);
	start(false);
	ck_assert_int_eq(CALL0(UVFS_OP_STATFS, ROOT, NULL, NULL), 0);
	memcpy(&st, reply, sizeof(st));
	ck_assert_uint_gt(st.blocks, st.bfree);
	f = create_(ROOT, "fill", 0644, false);
	do {
		n = write_((uint64_t)f, off, buf, sizeof(buf));
		if (n > 0)
			off += (uint64_t)n;
	} while (n > 0);
	ck_assert_int_eq(n, -ENOSPC);
	ck_assert_int_gt(off, 8 << 20);
	ck_assert_int_eq(unlink_(ROOT, "fill"), 0);
	forget((uint64_t)f, 1);
	stop();
	fsck_clean();
}
END_TEST

static Suite *ext2_suite(void)
{
	Suite *s = suite_create("ext2");
	TCase *tc = tcase_create("ops");

	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_refusals);
	tcase_add_loop_test(tc, test_names, 0, 2);
	tcase_add_loop_test(tc, test_data, 0, 2);
	tcase_add_test(tc, test_htree);
	tcase_add_test(tc, test_statfs_enospc);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(ext2_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
