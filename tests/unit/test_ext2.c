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
#include "wire.h"

#define ROOT UVFS_ROOT_ID

static char tmpdir[PATH_MAX], img[PATH_MAX + 16];
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
	struct uvfs_session_opts so = { .readonly = ro };

	return wire_start("ext2", &so, path, mount_err, sizeof(mount_err));
}

static void start(bool ro)
{
	ck_assert_msg(try_mount(img, ro) == 0, "%s", mount_err);
}

static void stop(void)
{
	wire_stop();
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

struct count_ctx {
	const char *want;
	bool *found;
	uint64_t off;
	int n;
};

static void count_one(const struct uvfs_dirent *de,
		      const struct uvfs_entry_out *e, void *arg)
{
	struct count_ctx *c = arg;

	if (de->namelen == strlen(c->want) &&
	    !memcmp(de->name, c->want, de->namelen))
		*c->found = true;
	c->off = de->off;
	c->n++;
}

/* Names in a directory, read in small chunks; returns the count. */
static int count_entries(uint64_t dir, bool plus, const char *want,
			 bool *found)
{
	struct count_ctx c = { want, found, 0, 0 };
	int got;

	*found = false;
	do {
		got = wire_readdir(dir, c.off, 200, plus, count_one, &c);
		ck_assert_int_ge(got, 0);
	} while (got);
	return c.n;
}

/* The mount error past the image's path (mkdtemp's name may hold "0x"). */
static const char *err_after_path(void)
{
	const char *p = strstr(mount_err, img);

	ck_assert_ptr_nonnull(p);
	return p + strlen(img);
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
	ck_assert(S_ISDIR(wire_getattr(ROOT).mode));
	ck_assert_int_eq(wire_mkdir(ROOT, "x", 0755), -EROFS);
	stop();

	/* features libext2fs does not know: named as dumpe2fs names them */
	mkimage("ext4", NULL);
	ck_assert_int_eq(sh("debugfs -w -R 'feature FEATURE_I11' '%s' "
			    ">/dev/null 2>&1", img), 0);
	ck_assert_int_eq(try_mount(img, true), -EOPNOTSUPP);
	ck_assert_ptr_nonnull(strstr(mount_err, "'FEATURE_I11'"));
	ck_assert_ptr_null(strstr(err_after_path(), "0x"));
	mkimage("ext4", NULL);
	ck_assert_int_eq(sh("debugfs -w -R 'feature replica' '%s' "
			    ">/dev/null 2>&1", img), 0);
	ck_assert_int_eq(try_mount(img, false), -EROFS);
	ck_assert_ptr_nonnull(strstr(mount_err, "'replica'"));
	ck_assert_ptr_null(strstr(err_after_path(), "0x"));
	start(true);
	ck_assert(S_ISDIR(wire_getattr(ROOT).mode));
	stop();

	/* errors state: refused rw */
	mkimage("ext4", NULL);
	ck_assert_int_eq(sh("debugfs -w -R 'ssv state 2' '%s' >/dev/null 2>&1",
			    img), 0);
	ck_assert_int_eq(try_mount(img, false), -EROFS);
	ck_assert_ptr_nonnull(strstr(mount_err, "e2fsck"));

	/* needs_recovery with an empty journal: nothing to replay, the
	 * flag is cleared by the rw mount (tests/ext2/test_journal.sh
	 * replays real transactions) */
	mkimage("ext4", NULL);
	ck_assert_int_eq(sh("debugfs -w -R 'feature needs_recovery' '%s' "
			    ">/dev/null 2>&1", img), 0);
	start(true);
	stop();
	start(false);
	stop();
	ck_assert_int_eq(sh("dumpe2fs -h '%s' 2>/dev/null | grep -q "
			    "needs_recovery", img), 1);
}
END_TEST

START_TEST(test_names)
{
	int64_t a, b, f, g, l, s, dev;
	bool found;

	mkimage(fstypes[_i], NULL);
	start(false);
	ck_assert_int_eq(wire_lookup(ROOT, "lost+found"), 11);
	ck_assert_int_eq(wire_lookup(ROOT, ".."), ROOT);
	a = wire_mkdir(ROOT, "a", 0750);
	ck_assert_int_gt(a, 11);
	ck_assert_uint_eq(wire_entry.attr.mode, S_IFDIR | 0750);
	ck_assert_uint_eq(wire_getattr(ROOT).nlink, 4);
	b = wire_mkdir(a, "b", 0755);
	ck_assert_int_eq(wire_lookup(b, ".."), a);
	f = wire_create(a, "f", 0644);
	ck_assert_int_eq(wire_create(a, "f", 0644), -EEXIST);
	ck_assert_int_eq(wire_lookup(a, "nope"), -ENOENT);
	ck_assert_int_eq(wire_lookup(f, "x"), -ENOTDIR);
	ck_assert_int_eq(wire_lookup(999999, "x"), -ENOENT);

	/* symlinks: fast and slow */
	s = wire_symlink(a, "s", "f");
	ck_assert_int_eq(WIRE_CALL0(UVFS_OP_READLINK, (uint64_t)s, NULL, NULL),
			 0);
	ck_assert_uint_eq(wire_rlen, 1);
	ck_assert_int_eq(wire_reply[0], 'f');
	{
		char t[300];

		memset(t, 'x', sizeof(t) - 1);
		t[sizeof(t) - 1] = '\0';
		l = wire_symlink(a, "slow", t);
		ck_assert_int_gt(l, 0);
		ck_assert_int_eq(WIRE_CALL0(UVFS_OP_READLINK, (uint64_t)l, NULL,
					    NULL), 0);
		ck_assert_uint_eq(wire_rlen, sizeof(t) - 1);
		ck_assert_int_eq(memcmp(wire_reply, t, wire_rlen), 0);
	}

	/* device numbers, old and new encoding */
	dev = wire_mknod(a, "c", S_IFCHR | 0600, (uint32_t)makedev(4, 5));
	ck_assert_uint_eq(wire_entry.attr.rdev, makedev(4, 5));
	dev = wire_mknod(a, "bd", S_IFBLK | 0600,
			 (uint32_t)makedev(300, 70000));
	ck_assert_uint_eq(wire_getattr((uint64_t)dev).rdev,
			  makedev(300, 70000));
	ck_assert_int_gt(wire_mknod(a, "p", S_IFIFO | 0600, 0), 0);

	/* link, unlink */
	ck_assert_int_eq(wire_link((uint64_t)f, b, "hard"), f);
	ck_assert_uint_eq(wire_entry.attr.nlink, 2);
	ck_assert_int_eq(wire_link((uint64_t)a, b, "dirlink"), -EPERM);
	ck_assert_int_eq(wire_unlink(a, "b"), -EISDIR);
	ck_assert_int_eq(wire_rmdir(a, "f"), -ENOTDIR);
	ck_assert_int_eq(wire_rmdir(ROOT, "a"), -ENOTEMPTY);

	/* rename: plain, noreplace, exchange, dir across parents */
	ck_assert_int_eq(wire_rename(a, "f", a, "g", 0), 0);
	ck_assert_int_eq(wire_lookup(a, "f"), -ENOENT);
	ck_assert_int_eq(wire_lookup(a, "g"), f);
	ck_assert_int_eq(wire_rename(a, "g", a, "s", UVFS_RENAME_NOREPLACE),
			 -EEXIST);
	ck_assert_int_eq(wire_rename(a, "g", a, "s", UVFS_RENAME_EXCHANGE), 0);
	ck_assert_int_eq(wire_lookup(a, "g"), s);
	ck_assert_int_eq(wire_lookup(a, "s"), f);
	ck_assert_int_eq(wire_rename(a, "zz", a, "s", UVFS_RENAME_EXCHANGE),
			 -ENOENT);
	ck_assert_int_eq(wire_rename(ROOT, "a", b, "x", 0), -EINVAL);
	ck_assert_int_eq(wire_rename(a, "b", ROOT, "b2", 0), 0);
	ck_assert_int_eq(wire_lookup(b, ".."), ROOT);
	ck_assert_uint_eq(wire_getattr(ROOT).nlink, 5);
	ck_assert_uint_eq(wire_getattr((uint64_t)a).nlink, 2);
	/* replace a file: its inode survives while looked up */
	g = wire_create(ROOT, "victim", 0644);
	ck_assert_int_eq(wire_rename(a, "s", ROOT, "victim", 0), 0);
	ck_assert_uint_eq(wire_getattr((uint64_t)g).nlink, 0);
	wire_forget((uint64_t)g, 1);
	/* replace an empty dir by a dir */
	wire_mkdir(ROOT, "e1", 0755);
	wire_mkdir(ROOT, "e2", 0755);
	ck_assert_int_eq(wire_rename(ROOT, "e1", ROOT, "e2", 0), 0);
	ck_assert_uint_eq(wire_getattr(ROOT).nlink, 6);
	ck_assert_int_eq(wire_rename(ROOT, "victim", ROOT, "e2", 0), -EISDIR);

	/* readdir and readdirplus in small chunks */
	ck_assert_int_eq(count_entries(a, false, "c", &found), 7);
	ck_assert(found);
	ck_assert_int_eq(count_entries(a, true, "slow", &found), 7);
	ck_assert(found);

	ck_assert_int_eq(wire_unlink(a, "c"), 0);
	ck_assert_int_eq(wire_rmdir(ROOT, "e2"), 0);
	stop();
	fsck_clean();

	/* everything is still there after a remount */
	start(true);
	a = wire_lookup(ROOT, "a");
	ck_assert_int_gt(a, 0);
	ck_assert_int_eq(wire_lookup(a, "c"), -ENOENT);
	ck_assert_int_gt(wire_lookup(ROOT, "victim"), 0);
	ck_assert_int_eq(wire_unlink(ROOT, "victim"), -EROFS);
	stop();
}
END_TEST

/*
 * FSYNC of f and FSYNCDIR of the root must reach the image: a copy taken
 * right after them, with the session still up, is fsck-clean, has the new
 * directory and holds what READ of f returns.  The new blocks and inode
 * reach the bitmaps on disk only through a sync (or a release or unmount,
 * which do not happen here), so a sync that does nothing leaves the copy
 * with bitmap differences and wrong free counts.
 */
static void fsync_durable(uint64_t f)
{
	struct uvfs_fsync_in in = { .fsync_flags = 0 };
	char snap[PATH_MAX + 16], out[PATH_MAX + 16];
	int64_t size;
	FILE *fp;
	char *disk;

	/* changes since the last flush: new blocks, a new inode */
	ck_assert_int_eq(wire_write(f, 150000, "synced", 6), 6);
	ck_assert_int_gt(wire_mkdir(ROOT, "synced", 0750), 0);
	size = (int64_t)wire_getattr(f).size;
	ck_assert_int_eq(size, 150006);

	/* the request is a struct uvfs_fsync_in: without it, no fsync */
	ck_assert_int_eq(WIRE_CALL0(UVFS_OP_FSYNC, f, NULL, NULL), -EINVAL);
	ck_assert_int_eq(WIRE_CALL(UVFS_OP_FSYNC, f, in, NULL, NULL), 0);
	in.fsync_flags = UVFS_FSYNC_DATASYNC;
	ck_assert_int_eq(WIRE_CALL(UVFS_OP_FSYNCDIR, ROOT, in, NULL, NULL), 0);

	snprintf(snap, sizeof(snap), "%s/snap", tmpdir);
	snprintf(out, sizeof(out), "%s/f.out", tmpdir);
	ck_assert_int_eq(sh("cp '%s' '%s' && e2fsck -fn '%s' >%s/fsck.log "
			    "2>&1 || { cat %s/fsck.log; exit 1; }",
			    img, snap, snap, tmpdir, tmpdir), 0);
	ck_assert_int_eq(sh("debugfs -R 'dump /f %s' '%s' >/dev/null 2>&1",
			    out, snap), 0);
	ck_assert_int_eq(sh("debugfs -R 'stat /synced' '%s' 2>&1 | "
			    "grep -q 'Mode:  0750'", snap), 0);
	ck_assert_int_le(size, WIRE_REPLY_MAX);
	disk = malloc((size_t)size + 1);
	ck_assert_ptr_nonnull(disk);
	fp = fopen(out, "r");
	ck_assert_ptr_nonnull(fp);
	ck_assert_uint_eq(fread(disk, 1, (size_t)size + 1, fp), (size_t)size);
	fclose(fp);
	ck_assert_int_eq(wire_read(f, 0, (size_t)size), size);
	ck_assert_int_eq(memcmp(disk, wire_reply, (size_t)size), 0);
	free(disk);
}

START_TEST(test_data)
{
	static char buf[200000], big[600000];
	struct uvfs_setattr_in sa = { 0 };
	int64_t f, o;
	size_t i;

	mkimage(fstypes[_i], "-b 1024");
	start(false);
	f = wire_create_open(ROOT, "f", 0644);
	for (i = 0; i < sizeof(big); i++)
		big[i] = (char)(i * 7 + i / 1000);
	ck_assert_int_eq(wire_write((uint64_t)f, 0, big, sizeof(big)),
			 (int64_t)sizeof(big));
	ck_assert_int_eq(wire_read((uint64_t)f, 1000, sizeof(buf)),
			 (int64_t)sizeof(buf));
	ck_assert_int_eq(memcmp(wire_reply, big + 1000, sizeof(buf)), 0);
	/* unaligned overwrite across blocks */
	memset(buf, 'Z', 3000);
	ck_assert_int_eq(wire_write((uint64_t)f, 777, buf, 3000), 3000);
	ck_assert_int_eq(wire_read((uint64_t)f, 700, 4000), 4000);
	ck_assert_int_eq(memcmp(wire_reply, big + 700, 77), 0);
	ck_assert_int_eq(wire_reply[77], 'Z');
	ck_assert_int_eq(wire_reply[77 + 2999], 'Z');
	ck_assert_int_eq(memcmp(wire_reply + 3077, big + 3777, 923), 0);
	/* read past EOF */
	ck_assert_int_eq(wire_read((uint64_t)f, sizeof(big) + 10, 100), 0);

	/* sparse write far away, holes read as zeros, SEEK_DATA/HOLE */
	ck_assert_int_eq(wire_write((uint64_t)f, 10 << 20, "end", 3), 3);
	ck_assert_uint_eq(wire_getattr((uint64_t)f).size, (10 << 20) + 3);
	ck_assert_int_eq(wire_read((uint64_t)f, 5 << 20, 4096), 4096);
	for (i = 0; i < 4096; i++)
		ck_assert_int_eq(wire_reply[i], 0);
	/* holes are found with block granularity */
	ck_assert_int_eq(wire_lseek((uint64_t)f, 0, SEEK_HOLE),
			 (sizeof(big) + 1023) & ~1023ul);
	ck_assert_int_eq(wire_lseek((uint64_t)f, 700000, SEEK_DATA),
			 10 << 20);
	ck_assert_int_eq(wire_lseek((uint64_t)f, 20 << 20, SEEK_DATA), -ENXIO);

	/* truncate down in the middle of a block, then up: zeros */
	sa.valid = UVFS_SET_SIZE;
	sa.size = 1500;
	ck_assert_int_eq(wire_setattr((uint64_t)f, &sa), 0);
	sa.size = 5000;
	ck_assert_int_eq(wire_setattr((uint64_t)f, &sa), 0);
	ck_assert_int_eq(wire_read((uint64_t)f, 1400, 200), 200);
	for (i = 0; i < 200; i++)	/* 777..3776 were overwritten */
		ck_assert_int_eq(wire_reply[i], i < 100 ? 'Z' : 0);

	/* fallocate: mode 0 extends, KEEP_SIZE does not, punch zeroes */
	ck_assert_int_eq(wire_fallocate((uint64_t)f, 0, 0, 100000), 0);
	ck_assert_uint_eq(wire_getattr((uint64_t)f).size, 100000);
	/* past EOF with KEEP_SIZE needs extents (unwritten blocks) */
	ck_assert_int_eq(wire_fallocate((uint64_t)f, FALLOC_FL_KEEP_SIZE,
					100000,
				    50000), _i ? 0 : -EOPNOTSUPP);
	ck_assert_uint_eq(wire_getattr((uint64_t)f).size, 100000);
	ck_assert_int_eq(wire_fallocate((uint64_t)f, FALLOC_FL_PUNCH_HOLE |
					FALLOC_FL_KEEP_SIZE, 100, 1000), 0);
	ck_assert_int_eq(wire_read((uint64_t)f, 0, 1200), 1200);
	ck_assert_int_eq(memcmp(wire_reply, big, 100), 0);
	for (i = 100; i < 1100; i++)
		ck_assert_int_eq(wire_reply[i], 0);
	ck_assert_int_eq(wire_reply[1100], 'Z');
	ck_assert_int_eq(wire_fallocate((uint64_t)f, FALLOC_FL_COLLAPSE_RANGE,
					0,
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
	ck_assert_int_eq(wire_setattr((uint64_t)f, &sa), 0);
	{
		struct uvfs_attr a = wire_getattr((uint64_t)f);

		ck_assert_uint_eq(a.mode, S_IFREG | 04711);
		ck_assert_uint_eq(a.uid, 100000);
		ck_assert_uint_eq(a.gid, 70000);
		ck_assert_int_eq(a.mtime, 1234567890);
		if (_i == 1)	/* 256-byte inodes keep nanoseconds */
			ck_assert_uint_eq(a.mtimensec, 123456789);
	}

	/* xattrs */
	ck_assert_int_eq(wire_setxattr((uint64_t)f, "user.a", "1", 1, 0), 0);
	ck_assert_int_eq(wire_setxattr((uint64_t)f, "user.a", "2", 1,
				       XATTR_CREATE), -EEXIST);
	ck_assert_int_eq(wire_setxattr((uint64_t)f, "user.b", "2", 1,
				       XATTR_REPLACE), -ENODATA);
	ck_assert_int_eq(wire_setxattr((uint64_t)f, "user.big", big, 700, 0),
			 0);
	/* 1 KiB blocks: a value bigger than the xattr block does not fit */
	ck_assert_int_eq(wire_setxattr((uint64_t)f, "user.huge", big, 2000, 0),
			 -ENOSPC);
	ck_assert_int_eq(wire_getxattr((uint64_t)f, "user.big", 0), 700);
	ck_assert_int_eq(wire_getxattr((uint64_t)f, "user.big", 10), -ERANGE);
	ck_assert_int_eq(wire_getxattr((uint64_t)f, "user.big", 4000), 700);
	ck_assert_int_eq(memcmp(wire_reply, big, 700), 0);
	ck_assert_int_eq(wire_getxattr((uint64_t)f, "user.none", 100),
			 -ENODATA);
	ck_assert_int_eq(wire_getxattr((uint64_t)f, NULL, 0),
			 (int64_t)sizeof("user.a") + (int64_t)sizeof("user.big"));
	ck_assert_int_eq(wire_removexattr((uint64_t)f, "user.a"), 0);
	ck_assert_int_eq(wire_removexattr((uint64_t)f, "user.a"), -ENODATA);
	ck_assert_int_eq(wire_setxattr((uint64_t)f, "bogus.x", "1", 1, 0),
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

		ck_assert_int_eq(wire_setxattr((uint64_t)f,
					       "system.posix_acl_access", acl,
					       sizeof(acl), 0), 0);
		ck_assert_int_eq(wire_getxattr((uint64_t)f,
					       "system.posix_acl_access", 1000),
				 (int64_t)sizeof(acl));
		for (i = 0; i < sizeof(acl); i++)
			ck_assert_msg((unsigned char)wire_reply[i] == acl[i],
				      "acl byte %zu: %02x != %02x", i,
				      (unsigned char)wire_reply[i], acl[i]);
	}

	/* an orphan: unlinked while open, freed at release */
	o = wire_create_open(ROOT, "orphan", 0644);
	ck_assert_int_eq(wire_write((uint64_t)o, 0, big, 100000), 100000);
	ck_assert_int_eq(wire_unlink(ROOT, "orphan"), 0);
	ck_assert_int_eq(wire_read((uint64_t)o, 0, 100), 100);
	ck_assert_int_eq(wire_release((uint64_t)o), 0);
	wire_forget((uint64_t)o, 1);

	fsync_durable((uint64_t)f);
	ck_assert_int_eq(wire_release((uint64_t)f), 0);
	/* an orphan still open at unmount is freed there */
	o = wire_create_open(ROOT, "orphan2", 0644);
	ck_assert_int_eq(wire_write((uint64_t)o, 0, big, 50000), 50000);
	ck_assert_int_eq(wire_unlink(ROOT, "orphan2"), 0);
	stop();
	fsck_clean();
}
END_TEST

/* An ext4 image whose /h holds old_entry_name_1..400, indexed by e2fsck. */
static void mkimage_htree(void)
{
	ck_assert_int_eq(sh("mkdir -p %s/src/h && cd %s/src/h && "
			    "for i in $(seq 1 400); do : > old_entry_name_$i;"
			    " done", tmpdir, tmpdir), 0);
	ck_assert_int_eq(sh("mke2fs -q -F -t ext4 -b 1024 -d %s/src '%s' 16M "
			    ">/dev/null 2>&1 && e2fsck -fyD '%s' >/dev/null "
			    "2>&1; test $? -le 1", tmpdir, img, img), 0);
}

/* Enough names to need many directory blocks, in an indexed directory. */
START_TEST(test_htree)
{
	char name[64];
	int64_t h;
	int i;
	bool found;

	mkimage_htree();
	start(false);
	h = wire_lookup(ROOT, "h");
	ck_assert_int_gt(h, 0);
	for (i = 0; i < 1500; i++) {
		snprintf(name, sizeof(name), "a_new_and_rather_long_name_%d",
			 i);
		ck_assert_int_gt(wire_create((uint64_t)h, name, 0644), 0);
		wire_forget((uint64_t)wire_entry.nodeid, 1);
	}
	for (i = 1; i <= 400; i += 2) {
		snprintf(name, sizeof(name), "old_entry_name_%d", i);
		ck_assert_int_eq(wire_unlink((uint64_t)h, name), 0);
	}
	ck_assert_int_eq(count_entries((uint64_t)h, false,
				       "a_new_and_rather_long_name_1499",
				       &found), 1500 + 200 + 2);
	ck_assert(found);
	stop();
	fsck_clean();
}
END_TEST

/* The name of file i of test_bigdir: every length from 1 to 60. */
static const char *big_name(char *buf, size_t size, int i)
{
	snprintf(buf, size, "%0*d", 1 + i % 60, i);
	return buf;
}

/*
 * A large linear directory edited in place: names of many lengths, holes
 * from unlinks filled again, renames over names, on 1 KiB blocks with and
 * without directory block checksums.
 */
START_TEST(test_bigdir)
{
	char name[300], other[300];
	int64_t dir, f, sub;
	bool found;
	int i, n = 0;

	mkimage(fstypes[_i], "-b 1024");
	start(false);
	dir = wire_mkdir(ROOT, "big", 0755);
	for (i = 0; i < 2000; i++, n++) {
		big_name(name, sizeof(name), i);
		ck_assert_int_gt(wire_create((uint64_t)dir, name, 0644), 0);
		wire_forget(wire_entry.nodeid, 1);
	}
	for (i = 0; i < 2000; i += 3, n--)
		ck_assert_int_eq(wire_unlink((uint64_t)dir,
					     big_name(name, sizeof(name), i)),
				 0);
	/* other lengths than the holes left: some fit, some go at the end
	 * (at most 46 bytes: count_entries reads 200 bytes at a time) */
	for (i = 0; i < 700; i++, n++) {
		snprintf(name, sizeof(name), "again_%0*d", 1 + i % 40, i);
		ck_assert_int_gt(wire_create((uint64_t)dir, name, 0644), 0);
		wire_forget(wire_entry.nodeid, 1);
	}
	/* rename over an existing name, then out of the directory */
	f = wire_lookup((uint64_t)dir, big_name(name, sizeof(name), 1));
	ck_assert_int_gt(f, 0);
	big_name(other, sizeof(other), 2);
	ck_assert_int_eq(wire_rename((uint64_t)dir, name, (uint64_t)dir,
				     other, 0), 0);
	n--;
	ck_assert_int_eq(wire_lookup((uint64_t)dir, other), f);
	ck_assert_int_eq(wire_lookup((uint64_t)dir, name), -ENOENT);
	ck_assert_int_eq(wire_rename((uint64_t)dir, other, ROOT, "moved", 0),
			 0);
	n--;
	ck_assert_int_eq(wire_link((uint64_t)f, (uint64_t)dir, "hard"), f);
	n++;
	sub = wire_mkdir((uint64_t)dir, "sub", 0755);
	ck_assert_int_eq(wire_lookup((uint64_t)sub, ".."), dir);
	ck_assert_int_eq(wire_rename((uint64_t)dir, "sub", ROOT, "sub", 0), 0);
	ck_assert_int_eq(wire_lookup((uint64_t)sub, ".."), ROOT);
	snprintf(name, sizeof(name), "again_%0*d", 1 + 699 % 40, 699);
	ck_assert_int_eq(count_entries((uint64_t)dir, false, name, &found),
			 n + 2);
	ck_assert(found);
	stop();
	fsck_clean();

	/* the same after a remount, which rebuilds the table from disk */
	start(true);
	dir = wire_lookup(ROOT, "big");
	ck_assert_int_eq(count_entries((uint64_t)dir, false,
				       big_name(name, sizeof(name), 57),
				       &found), n + 2);
	ck_assert(!found);	/* 57 was unlinked */
	ck_assert_int_gt(wire_lookup((uint64_t)dir,
				     big_name(name, sizeof(name), 58)), 0);
	ck_assert_int_eq(wire_lookup((uint64_t)dir, "hard"), f);
	stop();
}
END_TEST

/* Removals in an indexed directory, before and after libext2fs adds. */
START_TEST(test_htree_unlink)
{
	char name[64];
	int64_t h;
	int i;
	bool found;

	mkimage_htree();
	start(false);
	h = wire_lookup(ROOT, "h");
	for (i = 1; i <= 400; i += 4) {		/* in place, by position */
		snprintf(name, sizeof(name), "old_entry_name_%d", i);
		ck_assert_int_eq(wire_unlink((uint64_t)h, name), 0);
	}
	for (i = 0; i < 100; i++) {		/* through the index */
		snprintf(name, sizeof(name), "new_%d", i);
		ck_assert_int_gt(wire_create((uint64_t)h, name, 0644), 0);
		wire_forget(wire_entry.nodeid, 1);
	}
	for (i = 2; i <= 400; i += 4) {		/* positions not trusted */
		snprintf(name, sizeof(name), "old_entry_name_%d", i);
		ck_assert_int_eq(wire_unlink((uint64_t)h, name), 0);
	}
	ck_assert_int_eq(wire_rename((uint64_t)h, "new_1", (uint64_t)h,
				     "old_entry_name_3", 0), 0);
	ck_assert_int_eq(count_entries((uint64_t)h, false, "new_99", &found),
			 400 - 200 + 100 - 1 + 2);
	ck_assert(found);
	stop();
	fsck_clean();
}
END_TEST

#define GiB (1024ull * 1024 * 1024)

/*
 * A file past 4 GiB with data in every kind of mapping: direct, double
 * and triple indirect blocks on ext2, extents on ext4 (4 KiB blocks).
 */
START_TEST(test_sparse_5g)
{
	struct uvfs_setattr_in sa = { .valid = UVFS_SET_SIZE };
	static char buf[8192];
	uint64_t far = 5 * GiB + 10;
	int64_t f;
	size_t i;

	mkimage(fstypes[_i], "-b 4096");
	start(false);
	f = wire_create_open(ROOT, "sparse", 0644);
	memset(buf, 'd', sizeof(buf));
	ck_assert_int_eq(wire_write((uint64_t)f, 0, "start", 5), 5);
	ck_assert_int_eq(wire_write((uint64_t)f, 3 * GiB, buf, sizeof(buf)),
			 (int64_t)sizeof(buf));
	ck_assert_int_eq(wire_write((uint64_t)f, far, "hello", 5), 5);
	ck_assert_uint_eq(wire_getattr((uint64_t)f).size, far + 5);
	ck_assert_int_eq(wire_read((uint64_t)f, far - 10, 100), 15);
	ck_assert_int_eq(memcmp(wire_reply + 10, "hello", 5), 0);
	for (i = 0; i < 10; i++)
		ck_assert_int_eq(wire_reply[i], 0);
	/* across the 4 GiB line, and a hole then data in one read */
	ck_assert_int_eq(wire_read((uint64_t)f, 4 * GiB - 4096, 8192), 8192);
	for (i = 0; i < 8192; i++)
		ck_assert_int_eq(wire_reply[i], 0);
	ck_assert_int_eq(wire_read((uint64_t)f, 3 * GiB - 100, 300), 300);
	for (i = 0; i < 300; i++)
		ck_assert_int_eq(wire_reply[i], i < 100 ? 0 : 'd');
	ck_assert_int_eq(wire_lseek((uint64_t)f, 0, SEEK_DATA), 0);
	ck_assert_int_eq(wire_lseek((uint64_t)f, 0, SEEK_HOLE), 4096);
	ck_assert_int_eq(wire_lseek((uint64_t)f, 4096, SEEK_DATA),
			 (int64_t)(3 * GiB));
	ck_assert_int_eq(wire_lseek((uint64_t)f, 3 * GiB + 5, SEEK_HOLE),
			 (int64_t)(3 * GiB + 8192));
	ck_assert_int_eq(wire_lseek((uint64_t)f, 3 * GiB + 8192, SEEK_DATA),
			 (int64_t)(5 * GiB));
	ck_assert_int_eq(wire_lseek((uint64_t)f, far, SEEK_HOLE),
			 (int64_t)(far + 5));
	ck_assert_int_eq(wire_lseek((uint64_t)f, far + 5, SEEK_DATA), -ENXIO);
	/* cut below the far block: the middle data stays */
	sa.size = 3 * GiB + 100;
	ck_assert_int_eq(wire_setattr((uint64_t)f, &sa), 0);
	ck_assert_int_eq(wire_lseek((uint64_t)f, 4096, SEEK_DATA),
			 (int64_t)(3 * GiB));
	ck_assert_int_eq(wire_lseek((uint64_t)f, 3 * GiB, SEEK_HOLE),
			 (int64_t)(3 * GiB + 100));
	ck_assert_int_eq(wire_read((uint64_t)f, 3 * GiB, 4096), 100);
	ck_assert_int_eq(wire_release((uint64_t)f), 0);
	stop();
	fsck_clean();
	start(true);
	f = wire_lookup(ROOT, "sparse");
	ck_assert_uint_eq(wire_getattr((uint64_t)f).size, 3 * GiB + 100);
	ck_assert_int_eq(wire_read((uint64_t)f, 3 * GiB + 50, 100), 50);
	ck_assert_int_eq(wire_reply[49], 'd');
	stop();
}
END_TEST

/*
 * The size limit the kernel's ext4 driver enforces: block-mapped files on
 * 1 KiB blocks by the pointer tree, extent files by 32-bit block numbers;
 * past it truncate and write fail with EFBIG, a write across it is short.
 * Also i_blocks after streaming writes that allocate without zeroing.
 */
START_TEST(test_max_size)
{
	static const uint64_t max[] = {
		/* (12 + 256 + 256^2 + 256^3) KiB */
		(12ULL + 256 + 65536 + 16777216) << 10,
		((1ULL << 32) - 1) << 12,	/* 2^32 - 1 blocks of 4 KiB */
	};
	/* 3 MiB of data: on 1 KiB blocks plus 1 + 1 + 11 indirect blocks */
	static const uint64_t sectors[] = { (3072 + 13) * 2, 768 * 8 };
	struct uvfs_setattr_in sa = { .valid = UVFS_SET_SIZE };
	static char buf[1 << 20];
	int64_t f;
	int i;

	mkimage(fstypes[_i], _i ? "-b 4096" : "-b 1024");
	start(false);
	f = wire_create_open(ROOT, "big", 0644);
	memset(buf, 'b', sizeof(buf));
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(wire_write((uint64_t)f, (uint64_t)i << 20, buf,
					    sizeof(buf)), (int64_t)sizeof(buf));
	ck_assert_uint_eq(wire_getattr((uint64_t)f).blocks, sectors[_i]);
	ck_assert_int_eq(wire_read((uint64_t)f, (3 << 20) - 10, 100), 10);
	ck_assert_int_eq(wire_reply[9], 'b');

	sa.size = max[_i] + 1;
	ck_assert_int_eq(wire_setattr((uint64_t)f, &sa), -EFBIG);
	ck_assert_uint_eq(wire_getattr((uint64_t)f).size, 3 << 20);
	sa.size = max[_i];
	ck_assert_int_eq(wire_setattr((uint64_t)f, &sa), 0);
	ck_assert_int_eq(wire_write((uint64_t)f, max[_i], "x", 1), -EFBIG);
	ck_assert_int_eq(wire_write((uint64_t)f, max[_i] - 10, buf, 100), 10);
	ck_assert_int_eq(wire_fallocate((uint64_t)f, 0, max[_i] - 10, 100),
			 -EFBIG);
	ck_assert_uint_eq(wire_getattr((uint64_t)f).size, max[_i]);
	sa.size = 1 << 20;
	ck_assert_int_eq(wire_setattr((uint64_t)f, &sa), 0);
	ck_assert_int_eq(wire_release((uint64_t)f), 0);
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
	ck_assert_int_eq(WIRE_CALL0(UVFS_OP_STATFS, ROOT, NULL, NULL), 0);
	memcpy(&st, wire_reply, sizeof(st));
	ck_assert_uint_gt(st.blocks, st.bfree);
	f = wire_create(ROOT, "fill", 0644);
	do {
		n = wire_write((uint64_t)f, off, buf, sizeof(buf));
		if (n > 0)
			off += (uint64_t)n;
	} while (n > 0);
	ck_assert_int_eq(n, -ENOSPC);
	ck_assert_int_gt(off, 8 << 20);
	ck_assert_int_eq(wire_unlink(ROOT, "fill"), 0);
	wire_forget((uint64_t)f, 1);
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
	tcase_add_test(tc, test_htree_unlink);
	tcase_add_loop_test(tc, test_bigdir, 0, 2);
	tcase_add_loop_test(tc, test_sparse_5g, 0, 2);
	tcase_add_test(tc, test_statfs_enospc);
	tcase_add_loop_test(tc, test_max_size, 0, 2);
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
