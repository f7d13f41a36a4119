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
#include "wire.h"
#include "check_run.h"

#define ROOT UVFS_ROOT_ID
#define GiB (1024ull * 1024 * 1024)

static void start(const char *opts)
{
	struct uvfs_session_opts so = { .backend_opts = opts };
	char err[256];

	ck_assert_int_eq(wire_start("memfs", &so, "none", err, sizeof(err)),
			 0);
}

static void stop(void)
{
	wire_stop();
}

static void setup(void)
{
	start(NULL);
}

static bool all_zero(const char *p, size_t n)
{
	while (n--)
		if (*p++)
			return false;
	return true;
}

/* ---- directory listings ---- */

struct listing {
	int n;
	char name[64][32];
	uint64_t ino[64], off[64];
	uint32_t type[64];
};

static void listing_add(const struct uvfs_dirent *de,
			const struct uvfs_entry_out *e, void *arg)
{
	struct listing *l = arg;

	ck_assert_int_lt(l->n, 64);
	ck_assert_uint_lt(de->namelen, 32);
	memcpy(l->name[l->n], de->name, de->namelen);
	l->name[l->n][de->namelen] = '\0';
	l->ino[l->n] = de->ino;
	l->off[l->n] = de->off;
	l->type[l->n] = de->type;
	l->n++;
}

/* One READDIR(PLUS) call of at most size bytes; appends to l. */
static int readdir_(uint64_t dir, uint64_t off, size_t size, bool plus,
		    struct listing *l)
{
	int n = wire_readdir(dir, off, size, plus, listing_add, l);

	return n < 0 ? n : 0;
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
	struct uvfs_attr a = wire_getattr(ROOT);

	ck_assert(S_ISDIR(a.mode));
	ck_assert_uint_eq(a.nlink, 2);
	ck_assert_int_eq(wire_getattr_err(12345), -ENOENT);
	ck_assert_int_eq(wire_lookup(ROOT, "."), ROOT);
	ck_assert_int_eq(wire_lookup(ROOT, ".."), ROOT);
}
END_TEST

START_TEST(test_lookup_create)
{
	int64_t dir, f;

	dir = wire_mkdir(ROOT, "d", 0755);
	ck_assert_int_gt(dir, 1);
	ck_assert(S_ISDIR(wire_entry.attr.mode));
	f = wire_create(dir, "f", 0640);
	ck_assert_int_gt(f, dir);
	ck_assert_uint_eq(wire_entry.attr.mode, S_IFREG | 0640);
	ck_assert_uint_eq(wire_entry.attr.nlink, 1);
	ck_assert_uint_gt(wire_entry.entry_valid_ns, 0);
	ck_assert_int_eq(wire_lookup(dir, "f"), f);
	ck_assert_int_eq(wire_lookup(dir, "nope"), -ENOENT);
	ck_assert_int_eq(wire_lookup(f, "x"), -ENOTDIR);
	ck_assert_int_eq(wire_lookup(dir, ".."), ROOT);
	ck_assert_int_eq(wire_lookup(999, "x"), -ENOENT);
	ck_assert_int_eq(wire_create(dir, "f", 0644), -EEXIST);
	ck_assert_int_eq(wire_mkdir(dir, "f", 0755), -EEXIST);
	ck_assert_int_eq(wire_mknod(dir, "f", S_IFIFO | 0644, 0), -EEXIST);
	ck_assert_int_eq(wire_symlink(dir, "f", "t"), -EEXIST);
	ck_assert_int_eq(wire_create(f, "g", 0644), -ENOTDIR);
}
END_TEST

START_TEST(test_mkdir_nlink)
{
	int64_t a, b;

	a = wire_mkdir(ROOT, "a", 0755);
	ck_assert_uint_eq(wire_getattr(ROOT).nlink, 3);
	b = wire_mkdir(a, "b", 0700);
	ck_assert_uint_eq(wire_entry.attr.mode, S_IFDIR | 0700);
	ck_assert_uint_eq(wire_getattr(a).nlink, 3);
	ck_assert_uint_eq(wire_getattr(b).nlink, 2);
	wire_create(a, "file", 0644);
	ck_assert_uint_eq(wire_getattr(a).nlink, 3);
	ck_assert_int_eq(wire_rmdir(a, "b"), 0);
	ck_assert_uint_eq(wire_getattr(a).nlink, 2);
	/* still looked up: alive, but removed */
	ck_assert_uint_eq(wire_getattr(b).nlink, 0);
	wire_forget(b, 2);
	ck_assert_int_eq(wire_getattr_err(b), -ENOENT);
}
END_TEST

START_TEST(test_unlink_rmdir)
{
	int64_t d1, f;

	d1 = wire_mkdir(ROOT, "d", 0755);
	f = wire_create(d1, "f", 0644);
	ck_assert_int_eq(wire_unlink(ROOT, "d"), -EISDIR);
	ck_assert_int_eq(wire_rmdir(d1, "f"), -ENOTDIR);
	ck_assert_int_eq(wire_rmdir(ROOT, "d"), -ENOTEMPTY);
	ck_assert_int_eq(wire_unlink(ROOT, "missing"), -ENOENT);
	ck_assert_int_eq(wire_rmdir(ROOT, "missing"), -ENOENT);
	ck_assert_int_eq(wire_unlink(d1, "f"), 0);
	ck_assert_int_eq(wire_lookup(d1, "f"), -ENOENT);
	ck_assert_uint_eq(wire_getattr(f).nlink, 0);
	ck_assert_int_eq(wire_rmdir(ROOT, "d"), 0);
	ck_assert_uint_eq(wire_getattr(ROOT).nlink, 2);
	/* a removed directory takes no new names and lists nothing */
	ck_assert_int_eq(wire_create(d1, "g", 0644), -ENOENT);
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
	s = wire_symlink(ROOT, "long", target);
	ck_assert_int_gt(s, 1);
	ck_assert(S_ISLNK(wire_entry.attr.mode));
	ck_assert_uint_eq(wire_entry.attr.size, UVFS_SYMLINK_MAX);
	ck_assert_int_eq(WIRE_CALL0(UVFS_OP_READLINK, s, NULL, NULL), 0);
	ck_assert_uint_eq(wire_rlen, UVFS_SYMLINK_MAX);
	ck_assert(memcmp(wire_reply, target, wire_rlen) == 0);
	target[UVFS_SYMLINK_MAX] = 'x';
	target[UVFS_SYMLINK_MAX + 1] = '\0';
	ck_assert_int_eq(wire_symlink(ROOT, "toolong", target),
			 -ENAMETOOLONG);
	f = wire_create(ROOT, "f", 0644);
	ck_assert_int_eq(WIRE_CALL0(UVFS_OP_READLINK, f, NULL, NULL), -EINVAL);
}
END_TEST

START_TEST(test_hardlink)
{
	int64_t f, dir;

	f = wire_create(ROOT, "f", 0644);
	dir = wire_mkdir(ROOT, "d", 0755);
	ck_assert_int_eq(wire_link(f, dir, "g"), f);
	ck_assert_uint_eq(wire_entry.attr.nlink, 2);
	ck_assert_int_eq(wire_link(f, dir, "g"), -EEXIST);
	ck_assert_int_eq(wire_link(dir, ROOT, "dd"), -EPERM);
	ck_assert_int_eq(wire_link(f, f, "x"), -ENOTDIR);
	ck_assert_int_eq(wire_unlink(ROOT, "f"), 0);
	ck_assert_uint_eq(wire_getattr(f).nlink, 1);
	ck_assert_int_eq(wire_lookup(dir, "g"), f);
	ck_assert_int_eq(wire_unlink(dir, "g"), 0);
	/* unlinked: cannot get a name back */
	ck_assert_int_eq(wire_link(f, ROOT, "again"), -ENOENT);
}
END_TEST

START_TEST(test_mknod)
{
	int64_t n;

	n = wire_mknod(ROOT, "fifo", S_IFIFO | 0644, 0);
	ck_assert(S_ISFIFO(wire_entry.attr.mode));
	ck_assert_int_eq(wire_lookup(ROOT, "fifo"), n);
	wire_mknod(ROOT, "sock", S_IFSOCK | 0644, 0);
	ck_assert(S_ISSOCK(wire_entry.attr.mode));
	/* new_encode_dev(makedev(8, 1)) */
	wire_mknod(ROOT, "blk", S_IFBLK | 0600, (8 << 8) | 1);
	ck_assert(S_ISBLK(wire_entry.attr.mode));
	ck_assert_uint_eq(wire_entry.attr.rdev, (8 << 8) | 1);
	wire_mknod(ROOT, "chr", S_IFCHR | 0600, (1 << 8) | 3);
	ck_assert(S_ISCHR(wire_entry.attr.mode));
	ck_assert_uint_eq(wire_entry.attr.rdev, (1 << 8) | 3);
	wire_mknod(ROOT, "reg", S_IFREG | 0600, 0);
	ck_assert(S_ISREG(wire_entry.attr.mode));
	ck_assert_int_eq(wire_mknod(ROOT, "dir", S_IFDIR | 0755, 0), -EINVAL);
	ck_assert_int_eq(wire_read(n, 0, 10), -EINVAL);
}
END_TEST

/* ---- tests: rename ---- */

START_TEST(test_rename_basic)
{
	int64_t a, b, f, g;

	a = wire_mkdir(ROOT, "a", 0755);
	b = wire_mkdir(ROOT, "b", 0755);
	f = wire_create(a, "f", 0644);
	ck_assert_int_eq(wire_rename(a, "f", a, "f2", 0), 0);
	ck_assert_int_eq(wire_lookup(a, "f"), -ENOENT);
	ck_assert_int_eq(wire_lookup(a, "f2"), f);
	ck_assert_int_eq(wire_rename(a, "f2", b, "f", 0), 0);
	ck_assert_int_eq(wire_lookup(b, "f"), f);
	ck_assert_int_eq(wire_rename(a, "missing", b, "x", 0), -ENOENT);

	/* replacing a file: the victim lives while looked up */
	g = wire_create(b, "g", 0644);
	wire_write(g, 0, "data", 4);
	ck_assert_int_eq(wire_rename(b, "f", b, "g", 0), 0);
	ck_assert_int_eq(wire_lookup(b, "g"), f);
	ck_assert_int_eq(wire_lookup(b, "f"), -ENOENT);
	ck_assert_uint_eq(wire_getattr(g).nlink, 0);
	wire_forget(g, 1);
	ck_assert_int_eq(wire_getattr_err(g), -ENOENT);

	/* two names of one inode: nothing happens */
	wire_link(f, b, "h");
	ck_assert_int_eq(wire_rename(b, "g", b, "h", 0), 0);
	ck_assert_int_eq(wire_lookup(b, "g"), f);
	ck_assert_int_eq(wire_lookup(b, "h"), f);
	ck_assert_uint_eq(wire_entry.attr.nlink, 2);
	/* one name onto itself */
	ck_assert_int_eq(wire_rename(b, "g", b, "g", 0), 0);
	ck_assert_int_eq(wire_lookup(b, "g"), f);
}
END_TEST

START_TEST(test_rename_errors)
{
	int64_t a, sub, e;

	a = wire_mkdir(ROOT, "a", 0755);
	sub = wire_mkdir(a, "sub", 0755);
	e = wire_mkdir(ROOT, "empty", 0755);
	wire_create(ROOT, "f", 0644);
	wire_create(a, "g", 0644);
	ck_assert_int_eq(wire_rename(ROOT, "f", ROOT, "a", 0), -EISDIR);
	ck_assert_int_eq(wire_rename(ROOT, "a", ROOT, "f", 0), -ENOTDIR);
	ck_assert_int_eq(wire_rename(ROOT, "empty", ROOT, "a", 0), -ENOTEMPTY);
	ck_assert_int_eq(wire_rename(ROOT, "a", sub, "x", 0), -EINVAL);
	ck_assert_int_eq(wire_rename(ROOT, "a", a, "x", 0), -EINVAL);
	ck_assert_int_eq(wire_rename(ROOT, "f", a, "g", UVFS_RENAME_NOREPLACE),
			 -EEXIST);
	ck_assert_int_eq(wire_rename(ROOT, "f", ROOT, "f",
				     UVFS_RENAME_NOREPLACE),
			 -EEXIST);
	ck_assert_int_eq(wire_rename(ROOT, "f", a, "new",
				     UVFS_RENAME_NOREPLACE),
			 0);
	ck_assert_int_eq(wire_rename(ROOT, "f", a, "g", UVFS_RENAME_NOREPLACE |
				     UVFS_RENAME_EXCHANGE), -EINVAL);
	ck_assert_int_eq(wire_rename(ROOT, "x", 4242, "g", 0), -ENOENT);
	/* a directory replaces an empty one */
	ck_assert_int_eq(wire_rename(a, "sub", ROOT, "empty", 0), 0);
	ck_assert_int_eq(wire_lookup(ROOT, "empty"), sub);
	ck_assert_uint_eq(wire_getattr(e).nlink, 0);
	ck_assert_uint_eq(wire_getattr(ROOT).nlink, 4);	/* a, empty(=sub) */
	ck_assert_uint_eq(wire_getattr(a).nlink, 2);
}
END_TEST

START_TEST(test_rename_dir_parent)
{
	int64_t a, b, c;

	a = wire_mkdir(ROOT, "a", 0755);
	b = wire_mkdir(ROOT, "b", 0755);
	c = wire_mkdir(a, "c", 0755);
	ck_assert_uint_eq(wire_getattr(a).nlink, 3);
	ck_assert_int_eq(wire_rename(a, "c", b, "c", 0), 0);
	ck_assert_uint_eq(wire_getattr(a).nlink, 2);
	ck_assert_uint_eq(wire_getattr(b).nlink, 3);
	ck_assert_int_eq(wire_lookup(c, ".."), b);
	ck_assert_int_eq(wire_rename(b, "c", ROOT, "c", 0), 0);
	ck_assert_uint_eq(wire_getattr(ROOT).nlink, 5);
	ck_assert_int_eq(wire_lookup(c, ".."), ROOT);
}
END_TEST

START_TEST(test_rename_exchange)
{
	int64_t a, b, f, dir;
	struct listing l;
	uint64_t cookie;

	a = wire_mkdir(ROOT, "a", 0755);
	b = wire_mkdir(ROOT, "b", 0755);
	f = wire_create(a, "f", 0644);
	dir = wire_mkdir(b, "d", 0755);
	readdir_all(a, false, &l);
	cookie = l.off[find(&l, "f")];
	ck_assert_int_eq(wire_rename(a, "f", b, "d", UVFS_RENAME_EXCHANGE), 0);
	ck_assert_int_eq(wire_lookup(a, "f"), dir);
	ck_assert_int_eq(wire_lookup(b, "d"), f);
	ck_assert_int_eq(wire_lookup(dir, ".."), a);
	ck_assert_uint_eq(wire_getattr(a).nlink, 3);
	ck_assert_uint_eq(wire_getattr(b).nlink, 2);
	/* the name keeps its cookie */
	readdir_all(a, false, &l);
	ck_assert_uint_eq(l.off[find(&l, "f")], cookie);
	ck_assert_uint_eq(l.type[find(&l, "f")], DT_DIR);
	ck_assert_int_eq(wire_rename(a, "f", b, "missing",
				     UVFS_RENAME_EXCHANGE),
			 -ENOENT);
	/* a directory cannot trade places with its own child */
	wire_create(dir, "inner", 0644);
	ck_assert_int_eq(wire_rename(a, "f", dir, "inner",
				     UVFS_RENAME_EXCHANGE),
			 -EINVAL);
	ck_assert_int_eq(wire_rename(dir, "inner", a, "f",
				     UVFS_RENAME_EXCHANGE),
			 -EINVAL);
	/* same directory, file <-> file */
	wire_create(ROOT, "x", 0644);
	wire_create(ROOT, "y", 0600);
	ck_assert_int_eq(wire_rename(ROOT, "x", ROOT, "y",
				     UVFS_RENAME_EXCHANGE),
			 0);
	wire_lookup(ROOT, "x");
	ck_assert_uint_eq(wire_entry.attr.mode & 0777, 0600);
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
	f = wire_create(ROOT, "f", 0644);
	ck_assert_int_eq(wire_write(f, 100, buf, sizeof(buf)), sizeof(buf));
	a = wire_getattr(f);
	ck_assert_uint_eq(a.size, 100 + sizeof(buf));
	ck_assert_uint_eq(a.blocks, 3 * 8);	/* 3 blocks of 4 KiB */
	ck_assert_int_eq(wire_read(f, 0, 100), 100);
	ck_assert(all_zero(wire_reply, 100));
	ck_assert_int_eq(wire_read(f, 100, sizeof(buf)), sizeof(buf));
	ck_assert(memcmp(wire_reply, buf, sizeof(buf)) == 0);
	ck_assert_int_eq(wire_read(f, 5000, 100000), 100 + sizeof(buf) - 5000);
	ck_assert(memcmp(wire_reply, buf + 4900, wire_rlen) == 0);
	ck_assert_int_eq(wire_read(f, 1 << 20, 10), 0);
	ck_assert_int_eq(wire_write(ROOT, 0, "x", 1), -EISDIR);
	ck_assert_int_eq(wire_read(ROOT, 0, 1), -EISDIR);
	ck_assert_int_eq(wire_read(777, 0, 1), -ENOENT);
}
END_TEST

START_TEST(test_sparse_5g)
{
	struct uvfs_statfs_out before, after;
	uint64_t off = 5 * GiB + 10;
	struct uvfs_attr a;
	int64_t f;

	before = wire_statfs();
	f = wire_create(ROOT, "sparse", 0644);
	ck_assert_int_eq(wire_write(f, off, "hello", 5), 5);
	a = wire_getattr(f);
	ck_assert_uint_eq(a.size, off + 5);
	ck_assert_uint_eq(a.blocks, 8);
	after = wire_statfs();
	ck_assert_uint_eq(before.bfree - after.bfree, 1);
	ck_assert_uint_eq(before.ffree - after.ffree, 1);
	ck_assert_int_eq(wire_read(f, off, 5), 5);
	ck_assert(memcmp(wire_reply, "hello", 5) == 0);
	ck_assert_int_eq(wire_read(f, 3 * GiB, 65536), 65536);
	ck_assert(all_zero(wire_reply, 65536));
	/* across the 4 GiB line */
	ck_assert_int_eq(wire_write(f, 4 * GiB - 3, "abcdef", 6), 6);
	ck_assert_int_eq(wire_read(f, 4 * GiB - 3, 6), 6);
	ck_assert(memcmp(wire_reply, "abcdef", 6) == 0);
	ck_assert_uint_eq(wire_getattr(f).blocks, 3 * 8);
}
END_TEST

START_TEST(test_truncate)
{
	char buf[12288];
	int64_t f;

	memset(buf, 'a', sizeof(buf));
	f = wire_create(ROOT, "f", 0644);
	wire_write(f, 0, buf, sizeof(buf));
	ck_assert_uint_eq(wire_getattr(f).blocks, 24);
	ck_assert_int_eq(wire_truncate(f, 5000), 0);
	ck_assert_uint_eq(wire_getattr(f).size, 5000);
	ck_assert_uint_eq(wire_getattr(f).blocks, 16);
	ck_assert_int_eq(wire_truncate(f, 20000), 0);
	ck_assert_uint_eq(wire_getattr(f).size, 20000);
	ck_assert_int_eq(wire_read(f, 0, 20000), 20000);
	ck_assert(memcmp(wire_reply, buf, 5000) == 0);
	ck_assert(all_zero(wire_reply + 5000, 15000));
	ck_assert_int_eq(wire_truncate(f, 0), 0);
	ck_assert_uint_eq(wire_getattr(f).blocks, 0);
	ck_assert_int_eq(wire_truncate(f, 6 * GiB), 0);
	ck_assert_uint_eq(wire_getattr(f).size, 6 * GiB);
	ck_assert_int_eq(wire_truncate(ROOT, 0), -EISDIR);
	wire_symlink(ROOT, "l", "f");
	ck_assert_int_eq(wire_truncate((uint64_t)wire_entry.nodeid, 0),
			 -EINVAL);
}
END_TEST

START_TEST(test_fallocate)
{
	struct uvfs_fallocate_in in = { .offset = 0, .length = 10000 };
	char buf[8192];
	int64_t f;

	f = wire_create(ROOT, "f", 0644);
	ck_assert_int_eq(WIRE_CALL(UVFS_OP_FALLOCATE, f, in, NULL, NULL), 0);
	ck_assert_uint_eq(wire_getattr(f).size, 10000);
	ck_assert_uint_eq(wire_getattr(f).blocks, 24);
	in.offset = 100000;
	in.mode = FALLOC_FL_KEEP_SIZE;
	ck_assert_int_eq(WIRE_CALL(UVFS_OP_FALLOCATE, f, in, NULL, NULL), 0);
	ck_assert_uint_eq(wire_getattr(f).size, 10000);
	ck_assert_uint_eq(wire_getattr(f).blocks, 24 + 24);
	/* punch the middle of a data range */
	memset(buf, 'z', sizeof(buf));
	wire_write(f, 0, buf, sizeof(buf));
	in.offset = 1000;
	in.length = 6000;
	in.mode = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
	ck_assert_int_eq(WIRE_CALL(UVFS_OP_FALLOCATE, f, in, NULL, NULL), 0);
	ck_assert_uint_eq(wire_getattr(f).size, 10000);
	ck_assert_int_eq(wire_read(f, 0, 8192), 8192);
	ck_assert(memcmp(wire_reply, buf, 1000) == 0);
	ck_assert(all_zero(wire_reply + 1000, 6000));
	ck_assert(memcmp(wire_reply + 7000, buf, 1192) == 0);
	in.offset = 0;
	in.length = 8192;
	ck_assert_int_eq(WIRE_CALL(UVFS_OP_FALLOCATE, f, in, NULL, NULL), 0);
	ck_assert_uint_eq(wire_getattr(f).blocks, 8 + 24);
	in.mode = FALLOC_FL_PUNCH_HOLE;
	ck_assert_int_eq(WIRE_CALL(UVFS_OP_FALLOCATE, f, in, NULL, NULL),
			 -EOPNOTSUPP);
	in.mode = FALLOC_FL_COLLAPSE_RANGE;
	ck_assert_int_eq(WIRE_CALL(UVFS_OP_FALLOCATE, f, in, NULL, NULL),
			 -EOPNOTSUPP);
	/* zero range: a hole gets blocks; data is cleared, its blocks stay */
	in.offset = 100;
	in.length = 8000;
	in.mode = FALLOC_FL_ZERO_RANGE;
	ck_assert_int_eq(WIRE_CALL(UVFS_OP_FALLOCATE, f, in, NULL, NULL), 0);
	ck_assert_uint_eq(wire_getattr(f).blocks, 24 + 24);
	wire_write(f, 0, buf, sizeof(buf));
	ck_assert_int_eq(WIRE_CALL(UVFS_OP_FALLOCATE, f, in, NULL, NULL), 0);
	ck_assert_uint_eq(wire_getattr(f).size, 10000);
	ck_assert_uint_eq(wire_getattr(f).blocks, 24 + 24);
	ck_assert_int_eq(wire_read(f, 0, 8192), 8192);
	ck_assert(memcmp(wire_reply, buf, 100) == 0);
	ck_assert(all_zero(wire_reply + 100, 8000));
	ck_assert(memcmp(wire_reply + 8100, buf, 92) == 0);
	in.mode = 0;
	ck_assert_int_eq(WIRE_CALL(UVFS_OP_FALLOCATE, ROOT, in, NULL, NULL),
			 -EISDIR);
}
END_TEST

START_TEST(test_lseek)
{
	int64_t f;

	f = wire_create(ROOT, "f", 0644);
	ck_assert_int_eq(wire_lseek(f, 0, SEEK_DATA), -ENXIO);
	wire_write(f, 8192, "x", 1);		/* block 2 */
	wire_write(f, 12288, "y", 1);		/* block 3 */
	wire_truncate(f, 40000);
	ck_assert_int_eq(wire_lseek(f, 0, SEEK_DATA), 8192);
	ck_assert_int_eq(wire_lseek(f, 9000, SEEK_DATA), 9000);
	ck_assert_int_eq(wire_lseek(f, 0, SEEK_HOLE), 0);
	ck_assert_int_eq(wire_lseek(f, 8192, SEEK_HOLE), 16384);
	ck_assert_int_eq(wire_lseek(f, 20000, SEEK_HOLE), 20000);
	ck_assert_int_eq(wire_lseek(f, 16384, SEEK_DATA), -ENXIO);
	ck_assert_int_eq(wire_lseek(f, 40000, SEEK_HOLE), -ENXIO);
	ck_assert_int_eq(wire_lseek(f, 50000, SEEK_DATA), -ENXIO);
	wire_truncate(f, 13000);
	ck_assert_int_eq(wire_lseek(f, 12300, SEEK_HOLE), 13000);
	ck_assert_int_eq(wire_lseek(ROOT, 0, SEEK_DATA), -EISDIR);
}
END_TEST

START_TEST(test_statfs)
{
	struct uvfs_statfs_out s0, s1;
	char buf[65536] = { 1 };
	int64_t f;

	s0 = wire_statfs();
	ck_assert_uint_eq(s0.bsize, 4096);
	ck_assert_uint_eq(s0.namelen, 255);
	ck_assert_uint_eq(s0.blocks, (1ull << 40) / 4096);
	ck_assert_uint_eq(s0.bfree, s0.blocks);
	ck_assert_uint_eq(s0.bavail, s0.bfree);
	ck_assert_uint_eq(s0.files - s0.ffree, 1);	/* the root */
	f = wire_create(ROOT, "f", 0644);
	wire_write(f, 0, buf, sizeof(buf));
	s1 = wire_statfs();
	ck_assert_uint_eq(s0.bfree - s1.bfree, 16);
	ck_assert_uint_eq(s0.ffree - s1.ffree, 1);
	wire_unlink(ROOT, "f");
	wire_forget(f, 1);
	s1 = wire_statfs();
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
	s = wire_statfs();
	ck_assert_uint_eq(s.blocks, 16);
	f = wire_create(ROOT, "f", 0644);
	ck_assert_int_eq(wire_write(f, 0, buf, 40000), 40000);
	/* 10 blocks used, 6 left: a short write, then ENOSPC */
	ck_assert_int_eq(wire_write(f, 40000, buf, 40000), 65536 - 40000);
	ck_assert_uint_eq(wire_getattr(f).size, 65536);
	ck_assert_int_eq(wire_write(f, 65536, buf, 10), -ENOSPC);
	ck_assert_int_eq(wire_statfs().bfree, 0);
	wire_truncate(f, 0);
	ck_assert_int_eq(wire_statfs().bfree, 16);
	in.length = 16 * 4096 + 1;
	ck_assert_int_eq(WIRE_CALL(UVFS_OP_FALLOCATE, f, in, NULL, NULL),
			 -ENOSPC);
	ck_assert_uint_eq(wire_getattr(f).blocks, 0);
	stop();
	{
		struct uvfs_session_opts so = { .backend_opts = "bogus=1" };
		char err[256];

		ck_assert_int_eq(wire_start("memfs", &so, "none", err,
					    sizeof(err)), -EINVAL);
		ck_assert_ptr_nonnull(strstr(err, "bogus"));
		so.backend_opts = "size=12q";
		ck_assert_int_eq(wire_start("memfs", &so, "none", err,
					    sizeof(err)), -EINVAL);
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

	dir = wire_mkdir(ROOT, "d", 0755);
	f = wire_create(dir, "file", 0644);
	wire_mkdir(dir, "sub", 0755);
	wire_symlink(dir, "link", "file");
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
		wire_create(ROOT, name, 0644);
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
			ck_assert_int_eq(wire_unlink(ROOT, l.name[i]), 0);
		}
		if (last + 2 < 20 && !seen[last + 2]) {
			snprintf(name, sizeof(name), "f%02d", last + 2);
			ck_assert_int_eq(wire_unlink(ROOT, name), 0);
			seen[last + 2] = -1;
		}
	}
	for (i = 0; i < 20; i++)
		ck_assert_msg(seen[i] != 0, "f%02d never listed", i);
	ck_assert_int_gt(n, 3);
	/* an offset past the end, and after a new name: only the new name */
	wire_create(ROOT, "late", 0644);
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

	dir = wire_mkdir(ROOT, "d", 0755);
	f = wire_create(dir, "f", 0644);
	s0 = wire_statfs();
	readdir_all(dir, true, &l);
	ck_assert_int_eq(l.n, 3);
	i = find(&l, "f");
	ck_assert_uint_eq(l.ino[i], f);
	/* f now has 2 lookups (create + readdirplus) */
	wire_unlink(dir, "f");
	wire_forget(f, 1);
	ck_assert_uint_eq(wire_getattr(f).nlink, 0);
	wire_forget(f, 1);
	ck_assert_int_eq(wire_getattr_err(f), -ENOENT);
	ck_assert_uint_eq(wire_statfs().ffree, s0.ffree + 1);
	/* "." and ".." take no reference: dir goes with mkdir's one */
	wire_rmdir(ROOT, "d");
	wire_forget(dir, 1);
	ck_assert_int_eq(wire_getattr_err(dir), -ENOENT);
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

	f = wire_create(ROOT, "f", 0644);
	dir = wire_mkdir(ROOT, "d", 0755);
	ck_assert_int_eq(WIRE_CALL(UVFS_OP_OPEN, f, oin, NULL, NULL), 0);
	ck_assert_uint_eq(wire_rlen, sizeof(struct uvfs_open_out));
	wire_write(f, 0, "abc", 3);
	/* memfs has no flush: "nothing to do on close" */
	ck_assert_int_eq(WIRE_CALL(UVFS_OP_FLUSH, f, fl, NULL, NULL), -ENOSYS);
	ck_assert_int_eq(WIRE_CALL(UVFS_OP_FSYNC, f, fs, NULL, NULL), 0);
	/* unlinked and forgotten, but open: still readable */
	wire_unlink(ROOT, "f");
	wire_forget(f, 1);
	ck_assert_int_eq(wire_read(f, 0, 3), 3);
	ck_assert_int_eq(WIRE_CALL(UVFS_OP_RELEASE, f, rel, NULL, NULL), 0);
	ck_assert_int_eq(wire_getattr_err(f), -ENOENT);

	ck_assert_int_eq(WIRE_CALL(UVFS_OP_OPEN, dir, oin, NULL, NULL),
			 -EISDIR);
	oin.flags = O_RDONLY | O_DIRECTORY;
	ck_assert_int_eq(WIRE_CALL(UVFS_OP_OPENDIR, dir, oin, NULL, NULL), 0);
	ck_assert_int_eq(WIRE_CALL(UVFS_OP_FSYNCDIR, dir, fs, NULL, NULL), 0);
	ck_assert_int_eq(WIRE_CALL(UVFS_OP_RELEASEDIR, dir, rel, NULL, NULL),
			 0);
	f = wire_create(ROOT, "g", 0644);
	ck_assert_int_eq(WIRE_CALL(UVFS_OP_OPENDIR, f, oin, NULL, NULL),
			 -ENOTDIR);
	ck_assert_int_eq(WIRE_CALL(UVFS_OP_OPEN, 4242, oin, NULL, NULL),
			 -ENOENT);
	/* O_TRUNC */
	wire_write(f, 0, "abc", 3);
	oin.flags = O_WRONLY | O_TRUNC;
	ck_assert_int_eq(WIRE_CALL(UVFS_OP_OPEN, f, oin, NULL, NULL), 0);
	ck_assert_uint_eq(wire_getattr(f).size, 0);
	ck_assert_int_eq(WIRE_CALL(UVFS_OP_RELEASE, f, rel, NULL, NULL), 0);
}
END_TEST

START_TEST(test_forget_batch)
{
	struct {
		struct uvfs_forget_in in;
		struct uvfs_forget_one one[3];
	} f = { { 3, 0 }, { { 0 } } };
	int64_t a, b;

	a = wire_create(ROOT, "a", 0644);
	wire_write(a, 0, "x", 1);
	b = wire_mkdir(ROOT, "b", 0755);
	wire_lookup(ROOT, "a");
	wire_unlink(ROOT, "a");
	wire_rmdir(ROOT, "b");
	f.one[0] = (struct uvfs_forget_one){ a, 1 };
	f.one[1] = (struct uvfs_forget_one){ b, 5 };	/* more than held */
	f.one[2] = (struct uvfs_forget_one){ a, 1 };
	ck_assert_int_eq(WIRE_CALL(UVFS_OP_FORGET, 0, f, NULL, NULL), 0);
	ck_assert_int_eq(wire_getattr_err(a), -ENOENT);
	ck_assert_int_eq(wire_getattr_err(b), -ENOENT);
	wire_forget(777, 1);		/* unknown: ignored */
	wire_forget(ROOT, 1);	/* the root stays */
	wire_getattr(ROOT);
}
END_TEST

/* ---- tests: attributes ---- */

START_TEST(test_setattr)
{
	struct uvfs_setattr_in in = { 0 };
	struct uvfs_attr a;
	int64_t f;

	f = wire_create(ROOT, "f", 06755);
	in.valid = UVFS_SET_MODE;
	in.mode = S_IFDIR | 0600;	/* the type bits are ignored */
	ck_assert_int_eq(wire_setattr(f, &in), 0);
	ck_assert_uint_eq(wire_getattr(f).mode, S_IFREG | 0600);

	in.valid = UVFS_SET_ATIME | UVFS_SET_MTIME;
	in.atime = 1000;
	in.atimensec = 5;
	in.mtime = 2000;
	in.mtimensec = 999999999;
	ck_assert_int_eq(wire_setattr(f, &in), 0);
	a = wire_getattr(f);
	ck_assert_int_eq(a.atime, 1000);
	ck_assert_uint_eq(a.atimensec, 5);
	ck_assert_int_eq(a.mtime, 2000);
	ck_assert_uint_eq(a.mtimensec, 999999999);
	ck_assert_int_gt(a.ctime, 2000);	/* ctime is always now */
	in.valid = UVFS_SET_ATIME_NOW | UVFS_SET_MTIME_NOW;
	ck_assert_int_eq(wire_setattr(f, &in), 0);
	a = wire_getattr(f);
	ck_assert_int_gt(a.atime, 1000);
	ck_assert_int_gt(a.mtime, 2000);
	in.valid = UVFS_SET_CTIME;
	in.ctime = 3000;
	ck_assert_int_eq(wire_setattr(f, &in), 0);
	ck_assert_int_eq(wire_getattr(f).ctime, 3000);

	/* chown: root keeps set-ID bits, others lose them */
	in.valid = UVFS_SET_MODE;
	in.mode = 06755;
	wire_setattr(f, &in);
	in.valid = UVFS_SET_UID | UVFS_SET_GID;
	in.uid = 1000;
	in.gid = 1000;
	ck_assert_int_eq(wire_setattr(f, &in), 0);
	a = wire_getattr(f);
	ck_assert_uint_eq(a.uid, 1000);
	ck_assert_uint_eq(a.gid, 1000);
	ck_assert_uint_eq(a.mode & 07777, 06755);
	wire_uid = wire_gid = 1000;
	in.valid = UVFS_SET_GID;
	ck_assert_int_eq(wire_setattr(f, &in), 0);
	ck_assert_uint_eq(wire_getattr(f).mode & 07777, 0755);
	/* KILL_SUID; set-group-ID without group exec is kept */
	wire_uid = wire_gid = 0;
	in.valid = UVFS_SET_MODE;
	in.mode = 06745;
	wire_setattr(f, &in);
	in.valid = UVFS_SET_KILL_SUID;
	ck_assert_int_eq(wire_setattr(f, &in), 0);
	ck_assert_uint_eq(wire_getattr(f).mode & 07777, 02745);

	in.valid = UVFS_SET_MODE;
	ck_assert_int_eq(wire_setattr(4242, &in), -ENOENT);
	in.valid = UVFS_SET_ATIME;
	in.atimensec = 1000000000;
	ck_assert_int_eq(wire_setattr(f, &in), -EINVAL);
}
END_TEST

/* Set a node's times to the distant past, to see which ones an op sets. */
static void age(uint64_t ino)
{
	struct uvfs_setattr_in in = {
		.valid = UVFS_SET_ATIME | UVFS_SET_MTIME | UVFS_SET_CTIME,
		.atime = 100, .mtime = 100, .ctime = 100,
	};

	ck_assert_int_eq(wire_setattr(ino, &in), 0);
}

#define ASSERT_TIMES(ino, a, m, c)                                     \
	do {                                                            \
		struct uvfs_attr at_ = wire_getattr(ino);                    \
		ck_assert_int_eq(at_.atime > 100, a);                   \
		ck_assert_int_eq(at_.mtime > 100, m);                   \
		ck_assert_int_eq(at_.ctime > 100, c);                   \
	} while (0)

START_TEST(test_timestamps)
{
	int64_t f, dir, g;

	dir = wire_mkdir(ROOT, "d", 0755);
	f = wire_create(dir, "f", 0644);
	ck_assert_uint_gt(wire_entry.attr.mtime, 100);
	age(f);
	wire_write(f, 0, "x", 1);
	ASSERT_TIMES(f, 0, 1, 1);
	age(f);
	wire_truncate(f, 0);
	ASSERT_TIMES(f, 0, 1, 1);
	age(f);
	ck_assert_int_eq(wire_setxattr(f, "user.a", "v", 1, 0), 0);
	ASSERT_TIMES(f, 0, 0, 1);
	age(f);
	age(dir);
	g = wire_create(dir, "g", 0644);
	ASSERT_TIMES(dir, 0, 1, 1);
	ASSERT_TIMES(f, 0, 0, 0);
	age(dir);
	wire_link(f, dir, "f2");
	ASSERT_TIMES(dir, 0, 1, 1);
	ASSERT_TIMES(f, 0, 0, 1);
	age(dir);
	age(f);
	wire_unlink(dir, "f2");
	ASSERT_TIMES(dir, 0, 1, 1);
	ASSERT_TIMES(f, 0, 0, 1);
	age(dir);
	age(ROOT);
	age(g);
	wire_rename(dir, "g", ROOT, "g", 0);
	ASSERT_TIMES(dir, 0, 1, 1);
	ASSERT_TIMES(ROOT, 0, 1, 1);
	ASSERT_TIMES(g, 0, 0, 1);
	age(dir);
	wire_mkdir(dir, "sub", 0755);
	ASSERT_TIMES(dir, 0, 1, 1);
	age(dir);
	wire_rmdir(dir, "sub");
	ASSERT_TIMES(dir, 0, 1, 1);
	age(dir);
	wire_symlink(dir, "s", "t");
	ASSERT_TIMES(dir, 0, 1, 1);
	/* nanoseconds are kept */
	{
		struct uvfs_setattr_in in = { .valid = UVFS_SET_MTIME,
					      .mtime = 5, .mtimensec = 123 };

		wire_setattr(f, &in);
		ck_assert_uint_eq(wire_getattr(f).mtimensec, 123);
	}
}
END_TEST

START_TEST(test_ownership)
{
	struct uvfs_setattr_in in = { .valid = UVFS_SET_MODE | UVFS_SET_GID,
				      .mode = 02775, .gid = 50 };
	int64_t sgid, f, sub;

	wire_uid = 1000;
	wire_gid = 100;
	f = wire_create(ROOT, "mine", 0644);
	ck_assert_uint_eq(wire_entry.attr.uid, 1000);
	ck_assert_uint_eq(wire_entry.attr.gid, 100);
	wire_uid = wire_gid = 0;
	sgid = wire_mkdir(ROOT, "sgid", 0775);
	ck_assert_int_eq(wire_setattr(sgid, &in), 0);
	wire_uid = 1000;
	wire_gid = 100;
	f = wire_create(sgid, "f", 0644);
	ck_assert_uint_eq(wire_entry.attr.gid, 50);
	ck_assert_uint_eq(wire_entry.attr.mode, S_IFREG | 0644);
	sub = wire_mkdir(sgid, "sub", 0755);
	ck_assert_uint_eq(wire_entry.attr.gid, 50);
	ck_assert_uint_eq(wire_entry.attr.mode, S_IFDIR | 02755);
	/* not in group 50: a set-group-ID file loses the bit */
	wire_create(sgid, "g", 02755);
	ck_assert_uint_eq(wire_entry.attr.mode, S_IFREG | 0755);
	(void)f;
	(void)sub;
}
END_TEST

START_TEST(test_access)
{
	struct uvfs_access_in in = { .mask = R_OK | W_OK };
	int64_t f;

	f = wire_create(ROOT, "f", 0640);
	ck_assert_int_eq(WIRE_CALL(UVFS_OP_ACCESS, f, in, NULL, NULL), 0);
	in.mask = X_OK;
	ck_assert_int_eq(WIRE_CALL(UVFS_OP_ACCESS, f, in, NULL, NULL), -EACCES);
	ck_assert_int_eq(WIRE_CALL(UVFS_OP_ACCESS, ROOT, in, NULL, NULL), 0);
	wire_uid = 1000;
	wire_gid = 0;	/* group member: r only */
	in.mask = R_OK;
	ck_assert_int_eq(WIRE_CALL(UVFS_OP_ACCESS, f, in, NULL, NULL), 0);
	in.mask = W_OK;
	ck_assert_int_eq(WIRE_CALL(UVFS_OP_ACCESS, f, in, NULL, NULL), -EACCES);
	wire_gid = 1000;	/* other: nothing */
	in.mask = R_OK;
	ck_assert_int_eq(WIRE_CALL(UVFS_OP_ACCESS, f, in, NULL, NULL), -EACCES);
	in.mask = F_OK;
	ck_assert_int_eq(WIRE_CALL(UVFS_OP_ACCESS, f, in, NULL, NULL), 0);
	ck_assert_int_eq(WIRE_CALL(UVFS_OP_ACCESS, 999, in, NULL, NULL),
			 -ENOENT);
}
END_TEST

/* ---- tests: extended attributes ---- */

START_TEST(test_xattr)
{
	static char big[UVFS_XATTR_SIZE_MAX];
	char name[UVFS_XATTR_NAME_MAX + 2];
	int64_t f;

	f = wire_create(ROOT, "f", 0644);
	ck_assert_int_eq(wire_getxattr(f, NULL, 0), 0);
	ck_assert_int_eq(wire_getxattr(f, "user.a", 0), -ENODATA);
	ck_assert_int_eq(wire_setxattr(f, "user.a", "1234", 4, XATTR_REPLACE),
			 -ENODATA);
	ck_assert_int_eq(wire_setxattr(f, "user.a", "1234", 4, XATTR_CREATE),
			 0);
	ck_assert_int_eq(wire_setxattr(f, "user.a", "xx", 2, XATTR_CREATE),
			 -EEXIST);
	ck_assert_int_eq(wire_getxattr(f, "user.a", 0), 4);
	ck_assert_int_eq(wire_getxattr(f, "user.a", 3), -ERANGE);
	ck_assert_int_eq(wire_getxattr(f, "user.a", 100), 4);
	ck_assert(memcmp(wire_reply, "1234", 4) == 0);
	ck_assert_int_eq(wire_setxattr(f, "user.a", "xy", 2, XATTR_REPLACE), 0);
	ck_assert_int_eq(wire_getxattr(f, "user.a", 100), 2);
	ck_assert(memcmp(wire_reply, "xy", 2) == 0);
	ck_assert_int_eq(wire_setxattr(f, "user.empty", NULL, 0, 0), 0);
	ck_assert_int_eq(wire_getxattr(f, "user.empty", 0), 0);
	ck_assert_int_eq(wire_getxattr(f, "user.empty", 10), 0);

	memset(big, 'b', sizeof(big));
	ck_assert_int_eq(wire_setxattr(f, "trusted.big", big, sizeof(big), 0),
			 0);
	ck_assert_int_eq(wire_getxattr(f, "trusted.big", 0), sizeof(big));
	ck_assert_int_eq(wire_getxattr(f, "trusted.big", sizeof(big)),
			 sizeof(big));
	ck_assert(memcmp(wire_reply, big, sizeof(big)) == 0);

	memset(name, 'n', sizeof(name));
	memcpy(name, "user.", 5);
	name[UVFS_XATTR_NAME_MAX] = '\0';
	ck_assert_int_eq(wire_setxattr(f, name, "v", 1, 0), 0);
	name[UVFS_XATTR_NAME_MAX] = 'n';
	name[UVFS_XATTR_NAME_MAX + 1] = '\0';
	ck_assert_int_ne(wire_setxattr(f, name, "v", 1, 0), 0);
	name[UVFS_XATTR_NAME_MAX] = '\0';

	/* list: NUL-separated, in creation order */
	ck_assert_int_eq(wire_getxattr(f, NULL, 0),
			 7 + 11 + 12 + UVFS_XATTR_NAME_MAX + 1);
	ck_assert_int_eq(wire_getxattr(f, NULL, 10), -ERANGE);
	ck_assert_int_eq(wire_getxattr(f, NULL, 4096),
			 7 + 11 + 12 + UVFS_XATTR_NAME_MAX + 1);
	ck_assert_str_eq(wire_reply, "user.a");
	ck_assert_str_eq(wire_reply + 7, "user.empty");
	ck_assert_str_eq(wire_reply + 18, "trusted.big");
	ck_assert_str_eq(wire_reply + 30, name);

	ck_assert_int_eq(WIRE_CALL0(UVFS_OP_REMOVEXATTR, f, "user.a", NULL), 0);
	ck_assert_int_eq(WIRE_CALL0(UVFS_OP_REMOVEXATTR, f, "user.a", NULL),
			 -ENODATA);
	ck_assert_int_eq(wire_getxattr(f, "user.a", 0), -ENODATA);
	ck_assert_int_eq(WIRE_CALL0(UVFS_OP_REMOVEXATTR, 999, "user.a", NULL),
			 -ENOENT);
	ck_assert_int_eq(wire_getxattr(999, NULL, 0), -ENOENT);
	/* xattrs on a directory, freed with it */
	ck_assert_int_eq(wire_setxattr(ROOT, "user.r", "1", 1, 0), 0);
	ck_assert_int_eq(wire_getxattr(ROOT, "user.r", 0), 1);
}
END_TEST

/* ---- a large tree left for unmount to free ---- */

START_TEST(test_unmount_frees_all)
{
	char name[32];
	int64_t dir, f;
	int i;

	dir = wire_mkdir(ROOT, "tree", 0755);
	for (i = 0; i < 300; i++) {
		snprintf(name, sizeof(name), "n%d", i);
		f = i % 3 ? wire_create(dir, name, 0644) :
			    wire_mkdir(dir, name, 0755);
		ck_assert_int_gt(f, 0);
		if (i % 3 == 1)
			wire_write(f, (uint64_t)i * 100000, name, strlen(name));
		if (i % 5 == 0)
			wire_setxattr(f, "user.x", name, strlen(name), 0);
	}
	wire_symlink(dir, "sym", "n1");
	f = wire_create(ROOT, "orphan", 0644);
	wire_write(f, 0, "x", 1);
	wire_unlink(ROOT, "orphan");	/* still looked up at unmount */
	for (i = 0; i < 300; i++) {
		snprintf(name, sizeof(name), "n%d", i);
		ck_assert_int_gt(wire_lookup(dir, name), 0);
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
	return check_run(memfs_suite());
}
