// SPDX-License-Identifier: MIT
/*
 * Wire protocol: layout, encodings and conversions round-trip, and every
 * request and reply message of proto.h through the library's decoder.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "uvfs_i.h"
#include "check_run.h"

START_TEST(test_layout)
{
	/* Offsets both sides rely on; sizes are asserted in proto.h. */
	ck_assert_uint_eq(offsetof(struct uvfs_in_header, unique), 8);
	ck_assert_uint_eq(offsetof(struct uvfs_in_header, nodeid), 16);
	ck_assert_uint_eq(offsetof(struct uvfs_out_header, error), 8);
	ck_assert_uint_eq(offsetof(struct uvfs_entry_out, attr), 32);
	ck_assert_uint_eq(offsetof(struct uvfs_direntplus, dirent), 120);
	ck_assert_uint_eq(offsetof(struct uvfs_dirent, name), 24);
	ck_assert_uint_eq(offsetof(struct uvfs_chan_wait, done), 16);
	ck_assert_uint_eq(sizeof(struct uvfs_attr) % 8, 0);
	ck_assert_uint_eq(UVFS_DIRENT_SIZE(1), 32);
	ck_assert_uint_eq(UVFS_DIRENT_SIZE(8), 32);
	ck_assert_uint_eq(UVFS_DIRENT_SIZE(9), 40);
	ck_assert_uint_eq(UVFS_DIRENTPLUS_SIZE(255) % 8, 0);
}
END_TEST

START_TEST(test_optable_complete)
{
	uint32_t op;

	/* Every vnode opcode has a name and a handler. */
	for (op = UVFS_OP_INIT; op <= UVFS_OP_LSEEK; op++) {
		ck_assert_msg(uvfs_optable[op].name, "op %u has no name", op);
		ck_assert_msg(uvfs_optable[op].handler, "op %u unhandled", op);
	}
	for (op = UVFS_OP_BLK_READ; op < UVFS_OP_MAX; op++)
		ck_assert_ptr_nonnull(uvfs_optable[op].name);
	ck_assert_ptr_null(uvfs_opdesc(0));
	ck_assert_ptr_null(uvfs_opdesc(40));
	ck_assert_ptr_null(uvfs_opdesc(UVFS_OP_MAX));
	ck_assert_ptr_null(uvfs_opdesc(0xffffffffu));
	ck_assert_str_eq(uvfs_opname(UVFS_OP_READDIRPLUS), "READDIRPLUS");
	ck_assert_str_eq(uvfs_opname(12345), "UNKNOWN");
}
END_TEST

START_TEST(test_attr_roundtrip)
{
	struct stat st, back;
	struct uvfs_attr a;

	memset(&st, 0, sizeof(st));
	st.st_ino = 0x123456789abcULL;
	st.st_size = 5LL << 30;
	st.st_blocks = 77;
	st.st_mode = S_IFCHR | 0640;
	st.st_nlink = 3;
	st.st_uid = 4000000000u;
	st.st_gid = 65534;
	st.st_rdev = makedev(259, 70000);
	st.st_atim.tv_sec = -5;
	st.st_atim.tv_nsec = 999999999;
	st.st_mtim.tv_sec = 1700000000;
	st.st_mtim.tv_nsec = 1;
	st.st_ctim.tv_sec = 4102444800LL;
	st.st_ctim.tv_nsec = 123456789;
	st.st_blksize = 4096;
	uvfs_stat_to_attr(&st, &a);
	uvfs_attr_to_stat(&a, &back);
	ck_assert_uint_eq(back.st_ino, st.st_ino);
	ck_assert_int_eq(back.st_size, st.st_size);
	ck_assert_int_eq(back.st_blocks, st.st_blocks);
	ck_assert_uint_eq(back.st_mode, st.st_mode);
	ck_assert_uint_eq(back.st_nlink, 3);
	ck_assert_uint_eq(back.st_uid, 4000000000u);
	ck_assert_uint_eq(back.st_gid, 65534);
	ck_assert_uint_eq(major(back.st_rdev), 259);
	ck_assert_uint_eq(minor(back.st_rdev), 70000);
	ck_assert_int_eq(back.st_atim.tv_sec, -5);
	ck_assert_int_eq(back.st_atim.tv_nsec, 999999999);
	ck_assert_int_eq(back.st_ctim.tv_sec, 4102444800LL);
	ck_assert_int_eq(back.st_ctim.tv_nsec, 123456789);
	ck_assert_int_eq(back.st_mtim.tv_nsec, 1);
}
END_TEST

START_TEST(test_timeout)
{
	ck_assert_uint_eq(uvfs_timeout_ns(0), 0);
	ck_assert_uint_eq(uvfs_timeout_ns(-1), 0);
	ck_assert_uint_eq(uvfs_timeout_ns(1.5), 1500000000u);
	ck_assert_uint_eq(uvfs_timeout_ns(1e12), UINT64_C(1000000000) * 1000000000u);
}
END_TEST

START_TEST(test_dirent_encoding)
{
	char buf[256];
	struct stat st = { 0 };
	struct uvfs_entry e = { 0 };
	const struct uvfs_dirent *d = (const void *)buf;
	const struct uvfs_direntplus *dp = (const void *)buf;
	size_t n;

	st.st_ino = 42;
	st.st_mode = S_IFDIR | 0755;
	n = uvfs_add_dirent(buf, sizeof(buf), "hello", &st, 7);
	ck_assert_uint_eq(n, UVFS_DIRENT_SIZE(5));
	ck_assert_uint_eq(d->ino, 42);
	ck_assert_uint_eq(d->off, 7);
	ck_assert_uint_eq(d->namelen, 5);
	ck_assert_uint_eq(d->type, 4 /* DT_DIR */);
	ck_assert_int_eq(memcmp(d->name, "hello", 5), 0);
	/* Too small: reports the size and writes nothing. */
	memset(buf, 0xaa, sizeof(buf));
	n = uvfs_add_dirent(buf, 10, "hello", &st, 7);
	ck_assert_uint_eq(n, UVFS_DIRENT_SIZE(5));
	ck_assert_uint_eq((unsigned char)buf[0], 0xaa);

	e.ino = 99;
	e.generation = 3;
	e.attr.st_ino = 99;
	e.attr.st_mode = S_IFLNK | 0777;
	e.entry_timeout = 1.0;
	n = uvfs_add_direntplus(buf, sizeof(buf), "l", &e, 9);
	ck_assert_uint_eq(n, UVFS_DIRENTPLUS_SIZE(1));
	ck_assert_uint_eq(dp->entry.nodeid, 99);
	ck_assert_uint_eq(dp->entry.generation, 3);
	ck_assert_uint_eq(dp->entry.entry_valid_ns, 1000000000u);
	ck_assert_uint_eq(dp->dirent.type, 10 /* DT_LNK */);
	ck_assert_uint_eq(dp->dirent.off, 9);
	ck_assert_int_eq(dp->dirent.name[0], 'l');
}
END_TEST

/* ------------------------------------------------------------------------
 * Every request and reply through the library.
 *
 * Each row of msgs[] is one request as the kernel sends it (header, fixed
 * struct, names, payload), the backend call the opcode table must make of
 * it, and the reply the backend then sends.  The request goes to
 * uvfs_dispatch() the way a transport hands it over; a recording backend
 * keeps what it was called with and answers with canned values; a fake
 * transport keeps the wire reply, which is decoded the way the kernel
 * reads it.  Values have their high bits set, so a field that is narrowed
 * or sign-extended on the way shows.
 */

#define H_UNIQUE 0xf00dfacecafebeefULL
#define H_NODE 0xfedcba9876543210ULL
#define H_UID 0xfffffffeu
#define H_GID 0x80000001u
#define H_PID 0x80000002u
#define H_UMASK 0xffff8022u
#define HIGH32 0x80000000u
#define BIG_FH 0x8badf00ddeadbeefULL
#define BIG_OFF 0x7fffffff00000001ULL	/* large, still a valid off_t */
#define BIG_INO 0x8000000000000123ULL
#define BIG_GEN 0xfedcba9876543211ULL
#define ENTRY_TIMEOUT 5e8		/* exactly 5e17 ns */
#define ENTRY_NS 500000000000000000ULL
#define ATTR_TIMEOUT 1048576.5		/* exactly 1048576500000000 ns */
#define ATTR_NS 1048576500000000ULL
#define XATTR_SIZE 0xfffffffeu
#define LSEEK_OFF 0x7edcba9876543210ULL
#define ALL_SET (UVFS_SET_MODE | UVFS_SET_UID | UVFS_SET_GID |              \
		 UVFS_SET_SIZE | UVFS_SET_ATIME | UVFS_SET_MTIME |            \
		 UVFS_SET_FH | UVFS_SET_ATIME_NOW | UVFS_SET_MTIME_NOW |      \
		 UVFS_SET_CTIME | UVFS_SET_KILL_SUID)
#define N16 "abcdefghijklmnop"
#define NAME255 N16 N16 N16 N16 N16 N16 N16 N16 N16 N16 N16 N16 N16 N16 \
		N16 "abcdefghijklmno"
#define NNUM 11

/* What the reply of a row is made of. */
enum reply_kind {
	R_ERR,		/* header only, error r->err */
	R_NONE,		/* no reply at all (FORGET) */
	R_INIT,
	R_ENTRY,
	R_CREATE,
	R_ATTR,
	R_READLINK,
	R_OPEN,
	R_WRITE,
	R_DATA,		/* r->rdata */
	R_DIRENT,
	R_DIRENTPLUS,
	R_STATFS,
	R_XATTR,
	R_LSEEK,
};

/* The backend call a request must turn into. */
struct want {
	uint32_t op;		/* UVFS_OP_* of the backend op, 0: none */
	uint64_t ino, ino2;	/* node or parent; second node */
	const char *s1, *s2;
	uint64_t n[NNUM];	/* the op's other arguments, in order */
	bool fi;		/* a struct uvfs_file_info was passed */
	uint64_t fh, lock_owner;
	uint32_t flags;
	bool datasync;
	const void *data;
	size_t dlen;
};

union msgargs {
	struct uvfs_init_in init;
	struct uvfs_forget_in forget;
	struct uvfs_getattr_in getattr;
	struct uvfs_setattr_in setattr;
	struct uvfs_mknod_in mknod;
	struct uvfs_mkdir_in mkdir;
	struct uvfs_rename_in rename;
	struct uvfs_link_in link;
	struct uvfs_open_in open;
	struct uvfs_create_in create;
	struct uvfs_read_in read;
	struct uvfs_write_in write;
	struct uvfs_flush_in flush;
	struct uvfs_release_in release;
	struct uvfs_fsync_in fsync;
	struct uvfs_setxattr_in setxattr;
	struct uvfs_getxattr_in getxattr;
	struct uvfs_access_in access;
	struct uvfs_fallocate_in fallocate;
	struct uvfs_lseek_in lseek;
	struct uvfs_blk_in blk;
};

struct msgrow {
	const char *what;
	uint32_t opcode;
	uint64_t nodeid;
	union msgargs arg;
	size_t argsize;		/* 0: no fixed struct */
	const char *s1, *s2;	/* names after it, sent with their NUL */
	const void *data;	/* payload after the names */
	size_t dlen;
	struct want want;
	enum reply_kind reply;
	int err;		/* R_ERR: the error the reply carries */
	const void *rdata;	/* R_DATA: the reply payload */
	size_t rlen;
	int short_err;		/* truncated request: this error, 0: EINVAL */
};

#define ARGS(m, ...) .arg.m = { __VA_ARGS__ },                               \
		     .argsize = sizeof(((union msgargs *)0)->m)
#define DATA(p) .data = (p), .dlen = sizeof(p)
#define WANT(code, node, ...) .want = { .op = UVFS_OP_##code, .ino = (node), \
					__VA_ARGS__ }
/* The block ops on a file system session: all answer ENOSYS. */
#define BLK(code, ...) { .what = #code, .opcode = UVFS_OP_##code,            \
			 ARGS(blk, .offset = 0xfffffffffffff000ULL,           \
			      .length = HIGH32 | 4096, .flags = UVFS_BLK_FUA),\
			 .reply = R_ERR, .err = -ENOSYS,                      \
			 .short_err = -ENOSYS, __VA_ARGS__ }

static const struct uvfs_forget_one forgets[2] = {
	{ 0xfedcba9876543213ULL, 0xffffffffffffffffULL },
	{ UVFS_ROOT_ID, 0x8000000000000000ULL },
};
static const char wdata[5] = { 0, '\xff', '\x80', 'a', 0 };
static const char xvalue[6] = "v\0\xff\x01\x02";
static const char xlist[] = "user.a\0trusted.b";
static const char rdata[] = "\x00\xff\x80\x7f read reply bytes \x01";

static const struct msgrow msgs[] = {
	{ "INIT", UVFS_OP_INIT, 0,
	  ARGS(init, .major = UVFS_PROTO_MAJOR, .minor = 0xffffffffu,
	       .max_write = HIGH32, .flags = 0xffffffffu),
	  .reply = R_INIT },
	{ "DESTROY", UVFS_OP_DESTROY, 0, .want = { .op = UVFS_OP_DESTROY } },
	{ "LOOKUP", UVFS_OP_LOOKUP, H_NODE, .s1 = "\xc3\xa9t\xc3\xa9",
	  WANT(LOOKUP, H_NODE, .s1 = "\xc3\xa9t\xc3\xa9"), .reply = R_ENTRY },
	{ "FORGET", UVFS_OP_FORGET, 0, ARGS(forget, .count = 2),
	  DATA(forgets), WANT(FORGET, 0, .n = { 2 }, DATA(forgets)),
	  .reply = R_NONE },
	{ "GETATTR", UVFS_OP_GETATTR, H_NODE, ARGS(getattr, .fh = BIG_FH),
	  WANT(GETATTR, H_NODE), .reply = R_ATTR },
	{ "GETATTR fh", UVFS_OP_GETATTR, H_NODE,
	  ARGS(getattr, .fh = BIG_FH, .flags = HIGH32 | UVFS_GETATTR_FH),
	  WANT(GETATTR, H_NODE, .fi = true, .fh = BIG_FH), .reply = R_ATTR },
	{ "SETATTR", UVFS_OP_SETATTR, H_NODE,
	  ARGS(setattr, .valid = ALL_SET, .fh = BIG_FH, .size = BIG_OFF,
	       .atime = INT64_MIN + 1, .mtime = 0x7fffffff00000002LL,
	       .ctime = -1, .atimensec = 999999999, .mtimensec = 1,
	       .ctimensec = 999999998, .mode = 0xffffffffu,
	       .uid = 0xfffffffdu, .gid = 0x80000003u),
	  WANT(SETATTR, H_NODE,
	       .n = { ALL_SET, 0xffffffffu, 0xfffffffdu, 0x80000003u, BIG_OFF,
		      0x8000000000000001ULL, 999999999,
		      0x7fffffff00000002ULL, 1, 0xffffffffffffffffULL,
		      999999998 },
	       .fi = true, .fh = BIG_FH),
	  .reply = R_ATTR },
	{ "READLINK", UVFS_OP_READLINK, H_NODE, WANT(READLINK, H_NODE),
	  .reply = R_READLINK },
	{ "SYMLINK", UVFS_OP_SYMLINK, H_NODE, .s1 = "sym",
	  .s2 = "/a/b/../c\xff",
	  WANT(SYMLINK, H_NODE, .s1 = "sym", .s2 = "/a/b/../c\xff"),
	  .reply = R_ENTRY },
	{ "MKNOD", UVFS_OP_MKNOD, H_NODE,
	  ARGS(mknod, .mode = HIGH32 | S_IFCHR | 07777, .rdev = 0xffffffffu),
	  .s1 = "dev",
	  /* new_encode_dev(): all 32 bits set is major 0xfff, minor 0xfffff */
	  WANT(MKNOD, H_NODE, .s1 = "dev",
	       .n = { HIGH32 | S_IFCHR | 07777, 0xfff, 0xfffff }),
	  .reply = R_ENTRY },
	{ "MKDIR", UVFS_OP_MKDIR, H_NODE, ARGS(mkdir, .mode = 0xffffffffu),
	  .s1 = "dir",
	  /* the type bits come from the opcode, not from the sender */
	  WANT(MKDIR, H_NODE, .s1 = "dir", .n = { S_IFDIR | 07777 }),
	  .reply = R_ENTRY },
	{ "UNLINK", UVFS_OP_UNLINK, H_NODE, .s1 = NAME255,
	  WANT(UNLINK, H_NODE, .s1 = NAME255), .err = -UVFS_ERRNO_MAX },
	{ "RMDIR", UVFS_OP_RMDIR, H_NODE, .s1 = "dir",
	  WANT(RMDIR, H_NODE, .s1 = "dir"), .err = -ENOTEMPTY },
	{ "RENAME", UVFS_OP_RENAME, H_NODE,
	  ARGS(rename, .newdir = 0x8000000000000002ULL,
	       .flags = UVFS_RENAME_NOREPLACE),
	  .s1 = "old", .s2 = NAME255,
	  WANT(RENAME, H_NODE, .ino2 = 0x8000000000000002ULL, .s1 = "old",
	       .s2 = NAME255, .n = { UVFS_RENAME_NOREPLACE }) },
	{ "LINK", UVFS_OP_LINK, H_NODE,
	  ARGS(link, .oldnodeid = 0xfedcba9876543214ULL), .s1 = "hard",
	  WANT(LINK, 0xfedcba9876543214ULL, .ino2 = H_NODE, .s1 = "hard"),
	  .reply = R_ENTRY },
	{ "OPEN", UVFS_OP_OPEN, H_NODE,
	  ARGS(open, .flags = HIGH32 | O_RDWR | O_TRUNC),
	  WANT(OPEN, H_NODE, .fi = true, .flags = HIGH32 | O_RDWR | O_TRUNC),
	  .reply = R_OPEN },
	{ "CREATE", UVFS_OP_CREATE, H_NODE,
	  ARGS(create, .flags = HIGH32 | O_RDWR | O_CREAT | O_EXCL,
	       .mode = 0xffffffffu),
	  .s1 = "new",
	  WANT(CREATE, H_NODE, .s1 = "new", .n = { S_IFREG | 07777 },
	       .fi = true, .flags = HIGH32 | O_RDWR | O_CREAT | O_EXCL),
	  .reply = R_CREATE },
	{ "READ", UVFS_OP_READ, H_NODE,
	  ARGS(read, .fh = BIG_FH, .offset = BIG_OFF, .size = 0xfffff000u,
	       .flags = HIGH32 | O_DIRECT),
	  WANT(READ, H_NODE, .n = { 0xfffff000u, BIG_OFF }, .fi = true,
	       .fh = BIG_FH, .flags = HIGH32 | O_DIRECT),
	  .reply = R_DATA, .rdata = rdata, .rlen = sizeof(rdata) },
	{ "WRITE", UVFS_OP_WRITE, H_NODE,
	  ARGS(write, .fh = BIG_FH, .offset = 0x7fffffff00000000ULL,
	       .size = sizeof(wdata), .flags = HIGH32 | O_WRONLY | O_APPEND),
	  DATA(wdata),
	  WANT(WRITE, H_NODE, .n = { sizeof(wdata), 0x7fffffff00000000ULL },
	       .fi = true, .fh = BIG_FH,
	       .flags = HIGH32 | O_WRONLY | O_APPEND, DATA(wdata)),
	  .reply = R_WRITE },
	{ "FLUSH", UVFS_OP_FLUSH, H_NODE,
	  ARGS(flush, .fh = BIG_FH, .lock_owner = 0xfedcba9876543216ULL),
	  WANT(FLUSH, H_NODE, .fi = true, .fh = BIG_FH,
	       .lock_owner = 0xfedcba9876543216ULL) },
	{ "RELEASE", UVFS_OP_RELEASE, H_NODE,
	  ARGS(release, .fh = BIG_FH, .flags = HIGH32 | O_RDWR),
	  WANT(RELEASE, H_NODE, .fi = true, .fh = BIG_FH,
	       .flags = HIGH32 | O_RDWR) },
	{ "FSYNC", UVFS_OP_FSYNC, H_NODE,
	  ARGS(fsync, .fh = BIG_FH,
	       .fsync_flags = HIGH32 | UVFS_FSYNC_DATASYNC),
	  WANT(FSYNC, H_NODE, .n = { 1 }, .fi = true, .fh = BIG_FH,
	       .datasync = true) },
	{ "OPENDIR", UVFS_OP_OPENDIR, H_NODE,
	  ARGS(open, .flags = HIGH32 | O_DIRECTORY),
	  WANT(OPENDIR, H_NODE, .fi = true, .flags = HIGH32 | O_DIRECTORY),
	  .reply = R_OPEN },
	/* READDIR's read_in.flags is not passed on: fi->flags stays 0 */
	{ "READDIR", UVFS_OP_READDIR, H_NODE,
	  ARGS(read, .fh = BIG_FH, .offset = 0xfedcba9876543217ULL,
	       .size = HIGH32 | 4096, .flags = 0xffffffffu),
	  WANT(READDIR, H_NODE, .n = { HIGH32 | 4096, 0xfedcba9876543217ULL },
	       .fi = true, .fh = BIG_FH),
	  .reply = R_DIRENT },
	{ "READDIRPLUS", UVFS_OP_READDIRPLUS, H_NODE,
	  ARGS(read, .fh = BIG_FH, .offset = 0xfedcba9876543217ULL,
	       .size = HIGH32 | 4096, .flags = 0xffffffffu),
	  WANT(READDIRPLUS, H_NODE,
	       .n = { HIGH32 | 4096, 0xfedcba9876543217ULL }, .fi = true,
	       .fh = BIG_FH),
	  .reply = R_DIRENTPLUS },
	{ "RELEASEDIR", UVFS_OP_RELEASEDIR, H_NODE,
	  ARGS(release, .fh = BIG_FH, .flags = HIGH32 | O_DIRECTORY),
	  WANT(RELEASEDIR, H_NODE, .fi = true, .fh = BIG_FH,
	       .flags = HIGH32 | O_DIRECTORY) },
	{ "FSYNCDIR", UVFS_OP_FSYNCDIR, H_NODE,
	  ARGS(fsync, .fh = BIG_FH, .fsync_flags = HIGH32),
	  WANT(FSYNCDIR, H_NODE, .n = { 0 }, .fi = true, .fh = BIG_FH) },
	{ "STATFS", UVFS_OP_STATFS, H_NODE, WANT(STATFS, H_NODE),
	  .reply = R_STATFS },
	/* xattr names may hold '/', path components may not */
	{ "SETXATTR", UVFS_OP_SETXATTR, H_NODE,
	  ARGS(setxattr, .size = sizeof(xvalue), .flags = HIGH32 | 2),
	  .s1 = "user.a/b", DATA(xvalue),
	  WANT(SETXATTR, H_NODE, .s1 = "user.a/b",
	       .n = { sizeof(xvalue), HIGH32 | 2 }, DATA(xvalue)) },
	{ "GETXATTR size", UVFS_OP_GETXATTR, H_NODE,
	  ARGS(getxattr, .size = 0), .s1 = "user.a/b",
	  WANT(GETXATTR, H_NODE, .s1 = "user.a/b", .n = { 0 }),
	  .reply = R_XATTR },
	{ "GETXATTR", UVFS_OP_GETXATTR, H_NODE,
	  ARGS(getxattr, .size = HIGH32), .s1 = "user.a/b",
	  WANT(GETXATTR, H_NODE, .s1 = "user.a/b", .n = { HIGH32 }),
	  .reply = R_DATA, .rdata = xvalue, .rlen = sizeof(xvalue) },
	{ "LISTXATTR", UVFS_OP_LISTXATTR, H_NODE,
	  ARGS(getxattr, .size = 0x10000),
	  WANT(LISTXATTR, H_NODE, .n = { 0x10000 }),
	  .reply = R_DATA, .rdata = xlist, .rlen = sizeof(xlist) },
	{ "REMOVEXATTR", UVFS_OP_REMOVEXATTR, H_NODE, .s1 = "trusted.x",
	  WANT(REMOVEXATTR, H_NODE, .s1 = "trusted.x"), .err = -ENODATA },
	{ "ACCESS", UVFS_OP_ACCESS, H_NODE, ARGS(access, .mask = HIGH32 | 7),
	  WANT(ACCESS, H_NODE, .n = { HIGH32 | 7 }), .err = -EACCES },
	{ "FALLOCATE", UVFS_OP_FALLOCATE, H_NODE,
	  ARGS(fallocate, .fh = BIG_FH, .offset = 0x3fffffff00000000ULL,
	       .length = 0x3fffffff00000001ULL, .mode = HIGH32 | 3),
	  WANT(FALLOCATE, H_NODE,
	       .n = { HIGH32 | 3, 0x3fffffff00000000ULL,
		      0x3fffffff00000001ULL },
	       .fi = true, .fh = BIG_FH) },
	{ "LSEEK", UVFS_OP_LSEEK, H_NODE,
	  ARGS(lseek, .fh = BIG_FH, .offset = BIG_OFF, .whence = SEEK_HOLE),
	  WANT(LSEEK, H_NODE, .n = { BIG_OFF, SEEK_HOLE }, .fi = true,
	       .fh = BIG_FH),
	  .reply = R_LSEEK },
	BLK(BLK_READ),
	BLK(BLK_WRITE, DATA(wdata)),
	BLK(BLK_FLUSH),
	BLK(BLK_DISCARD),
	BLK(BLK_WRITE_ZEROES),
};

#define NMSGS ((int)(sizeof(msgs) / sizeof(msgs[0])))

/* ---- a fake transport: keeps the last reply and notification ---- */

static struct {
	int nreplies, nfreed, nnotify;
	struct uvfs_out_header out;
	_Alignas(8) unsigned char payload[8192];
	size_t len;
	_Alignas(8) unsigned char note[512];
	size_t notelen;
} tp;

static size_t flatten(const struct iovec *iov, int iovcnt, unsigned char *dst,
		      size_t max)
{
	size_t off = 0;
	int i;

	for (i = 0; i < iovcnt; i++) {
		ck_assert_uint_le(off + iov[i].iov_len, max);
		if (iov[i].iov_len)
			memcpy(dst + off, iov[i].iov_base, iov[i].iov_len);
		off += iov[i].iov_len;
	}
	return off;
}

static int tp_send_reply(struct uvfs_req *req, const struct iovec *iov,
			 int iovcnt)
{
	unsigned char msg[sizeof(tp.out) + sizeof(tp.payload)];
	size_t len = flatten(iov, iovcnt, msg, sizeof(msg));

	ck_assert_uint_ge(len, sizeof(tp.out));
	memcpy(&tp.out, msg, sizeof(tp.out));
	tp.len = len - sizeof(tp.out);
	memcpy(tp.payload, msg + sizeof(tp.out), tp.len);
	tp.nreplies++;
	free(req);
	return 0;
}

static void tp_free_req(struct uvfs_req *req)
{
	tp.nfreed++;
	free(req);
}

static int tp_notify(struct uvfs_session *s, const struct iovec *iov,
		     int iovcnt)
{
	tp.notelen = flatten(iov, iovcnt, tp.note, sizeof(tp.note));
	tp.nnotify++;
	return 0;
}

static const struct uvfs_transport_ops fake_tp = {
	.name = "fake",
	.send_reply = tp_send_reply,
	.notify = tp_notify,
	.free_req = tp_free_req,
};

/* ---- canned reply values ---- */

static struct uvfs_entry canned_entry = {
	.ino = BIG_INO,
	.generation = BIG_GEN,
	.attr = {
		.st_ino = BIG_INO,
		.st_size = 0x7fffffff00000003LL,
		.st_blocks = 0x7ffffffe00000004LL,
		.st_mode = S_IFREG | 07777,
		.st_nlink = 0xfffffffeu,
		.st_uid = 0xfffffffdu,
		.st_gid = 0x80000002u,
		.st_atim = { INT64_MIN + 5, 999999999 },
		.st_mtim = { 0x7fffffff00000006LL, 1 },
		.st_ctim = { 0x100000007LL, 500000000 },
		.st_blksize = HIGH32,
		/* .st_rdev: makedev(0xfff, 0xfffff), set by setup() */
	},
	.attr_timeout = ATTR_TIMEOUT,
	.entry_timeout = ENTRY_TIMEOUT,
};

static const struct uvfs_file_info canned_fi = {
	.fh = 0xfedcba9876543219ULL,
	.direct_io = 1,
	.keep_cache = 1,
	.nonseekable = 1,
};

static const struct statvfs canned_statvfs = {
	.f_bsize = HIGH32,
	.f_frsize = 0x40000000,
	.f_blocks = 0xfedcba9876543210ULL,
	.f_bfree = 0x8000000000000001ULL,
	.f_bavail = 0x8000000000000000ULL,
	.f_files = 0xffffffffffffffffULL,
	.f_ffree = 0x7fffffffffffffffULL,
	.f_namemax = UVFS_NAME_MAX,
};

static const struct {
	const char *name;
	uint64_t ino, next_off;
	mode_t mode;
} canned_dirents[] = {
	{ "a", 0xfedcba9876543215ULL, 0x8000000000000001ULL, S_IFDIR },
	{ "link-" N16, 0x8000000000000003ULL, 0xffffffffffffffffULL, S_IFLNK },
};

static char long_target[UVFS_SYMLINK_MAX + 1];

/* ---- a backend that records its calls ---- */

static struct {
	uint32_t op;
	uint64_t ino, ino2;
	char s1[UVFS_SYMLINK_MAX + 1], s2[UVFS_SYMLINK_MAX + 1];
	uint64_t n[NNUM];
	bool has_fi, has_ctx;
	struct uvfs_file_info fi;
	unsigned char data[64];
	size_t dlen;
	struct uvfs_ctx ctx;
} seen;

static const struct msgrow *cur;	/* the row being sent */

static void saw(struct uvfs_req *req, uint32_t op, uint64_t ino,
		const char *s1, const char *s2, const struct uvfs_file_info *fi)
{
	seen.op = op;
	seen.ino = ino;
	if (s1)
		snprintf(seen.s1, sizeof(seen.s1), "%s", s1);
	if (s2)
		snprintf(seen.s2, sizeof(seen.s2), "%s", s2);
	if (fi) {
		seen.has_fi = true;
		seen.fi = *fi;
	}
	seen.ctx = *uvfs_req_ctx(req);
	seen.has_ctx = true;
}

static void saw_data(const void *p, size_t len)
{
	ck_assert_uint_le(len, sizeof(seen.data));
	memcpy(seen.data, p, len);
	seen.dlen = len;
}

#define NDIRENTS (sizeof(canned_dirents) / sizeof(canned_dirents[0]))

static void reply_dir(struct uvfs_req *req, bool plus)
{
	char buf[1024];
	size_t len = 0, i;
	struct stat st;

	for (i = 0; i < NDIRENTS; i++) {
		const char *name = canned_dirents[i].name;
		off_t next = (off_t)canned_dirents[i].next_off;

		memset(&st, 0, sizeof(st));
		st.st_ino = canned_dirents[i].ino;
		st.st_mode = canned_dirents[i].mode;
		if (plus)
			len += uvfs_add_direntplus(buf + len, sizeof(buf) - len,
						   name, &canned_entry, next);
		else
			len += uvfs_add_dirent(buf + len, sizeof(buf) - len,
					       name, &st, next);
		ck_assert_uint_le(len, sizeof(buf));
	}
	ck_assert_int_eq(uvfs_reply_buf(req, buf, len), 0);
}

/* Answer the current row's request with its canned reply. */
static void answer(struct uvfs_req *req)
{
	const struct uvfs_entry *e = &canned_entry;
	int ret;

	switch (cur->reply) {
	case R_NONE:
		uvfs_reply_none(req);
		return;
	case R_DIRENT:
	case R_DIRENTPLUS:
		reply_dir(req, cur->reply == R_DIRENTPLUS);
		return;
	case R_ERR:
		ret = uvfs_reply_err(req, cur->err);
		break;
	case R_ENTRY:
		ret = uvfs_reply_entry(req, e);
		break;
	case R_CREATE:
		ret = uvfs_reply_create(req, e, &canned_fi);
		break;
	case R_ATTR:
		ret = uvfs_reply_attr(req, &e->attr, ATTR_TIMEOUT);
		break;
	case R_READLINK:
		ret = uvfs_reply_readlink(req, long_target);
		break;
	case R_OPEN:
		ret = uvfs_reply_open(req, &canned_fi);
		break;
	case R_WRITE:
		ret = uvfs_reply_write(req, seen.n[0]);
		break;
	case R_DATA:
		ret = uvfs_reply_buf(req, cur->rdata, cur->rlen);
		break;
	case R_STATFS:
		ret = uvfs_reply_statfs(req, &canned_statvfs);
		break;
	case R_XATTR:
		ret = uvfs_reply_xattr(req, XATTR_SIZE);
		break;
	case R_LSEEK:
		ret = uvfs_reply_lseek(req, (off_t)LSEEK_OFF);
		break;
	default:
		ck_abort_msg("%s: no backend reply for kind %d", cur->what,
			     cur->reply);
		return;
	}
	ck_assert_msg(ret == 0, "%s: reply failed: %d", cur->what, ret);
}

/* Ops of the same shape differ only in the opcode they record. */
#define NAME_OP(fn, code)                                                     \
	static void fn(struct uvfs_req *req, uint64_t ino, const char *name) \
	{                                                                     \
		saw(req, UVFS_OP_##code, ino, name, NULL, NULL);              \
		answer(req);                                                  \
	}
#define FI_OP(fn, code)                                                       \
	static void fn(struct uvfs_req *req, uint64_t ino,                    \
		       struct uvfs_file_info *fi)                             \
	{                                                                     \
		saw(req, UVFS_OP_##code, ino, NULL, NULL, fi);                \
		answer(req);                                                  \
	}
#define RANGE_OP(fn, code)                                                    \
	static void fn(struct uvfs_req *req, uint64_t ino, size_t size,       \
		       off_t off, struct uvfs_file_info *fi)                  \
	{                                                                     \
		saw(req, UVFS_OP_##code, ino, NULL, NULL, fi);                \
		seen.n[0] = size;                                             \
		seen.n[1] = (uint64_t)off;                                    \
		answer(req);                                                  \
	}
#define SYNC_OP(fn, code)                                                     \
	static void fn(struct uvfs_req *req, uint64_t ino, int datasync,      \
		       struct uvfs_file_info *fi)                             \
	{                                                                     \
		saw(req, UVFS_OP_##code, ino, NULL, NULL, fi);                \
		seen.n[0] = (uint32_t)datasync;                               \
		answer(req);                                                  \
	}

NAME_OP(be_lookup, LOOKUP)
NAME_OP(be_unlink, UNLINK)
NAME_OP(be_rmdir, RMDIR)
NAME_OP(be_removexattr, REMOVEXATTR)
FI_OP(be_getattr, GETATTR)
FI_OP(be_open, OPEN)
FI_OP(be_flush, FLUSH)
FI_OP(be_release, RELEASE)
FI_OP(be_opendir, OPENDIR)
FI_OP(be_releasedir, RELEASEDIR)
RANGE_OP(be_read, READ)
RANGE_OP(be_readdir, READDIR)
RANGE_OP(be_readdirplus, READDIRPLUS)
SYNC_OP(be_fsync, FSYNC)
SYNC_OP(be_fsyncdir, FSYNCDIR)

static void be_forget_multi(struct uvfs_req *req, size_t count,
			    const struct uvfs_forget_one *f)
{
	saw(req, UVFS_OP_FORGET, 0, NULL, NULL, NULL);
	seen.n[0] = count;
	saw_data(f, count * sizeof(*f));
	answer(req);
}

static void be_setattr(struct uvfs_req *req, uint64_t ino,
		       const struct stat *st, uint32_t to_set,
		       struct uvfs_file_info *fi)
{
	const uint64_t n[NNUM] = {
		to_set, st->st_mode, st->st_uid, st->st_gid,
		(uint64_t)st->st_size,
		(uint64_t)st->st_atim.tv_sec, (uint64_t)st->st_atim.tv_nsec,
		(uint64_t)st->st_mtim.tv_sec, (uint64_t)st->st_mtim.tv_nsec,
		(uint64_t)st->st_ctim.tv_sec, (uint64_t)st->st_ctim.tv_nsec,
	};

	saw(req, UVFS_OP_SETATTR, ino, NULL, NULL, fi);
	memcpy(seen.n, n, sizeof(n));
	answer(req);
}

static void be_readlink(struct uvfs_req *req, uint64_t ino)
{
	saw(req, UVFS_OP_READLINK, ino, NULL, NULL, NULL);
	answer(req);
}

static void be_mknod(struct uvfs_req *req, uint64_t parent, const char *name,
		     mode_t mode, dev_t rdev)
{
	saw(req, UVFS_OP_MKNOD, parent, name, NULL, NULL);
	seen.n[0] = mode;
	seen.n[1] = major(rdev);
	seen.n[2] = minor(rdev);
	answer(req);
}

static void be_mkdir(struct uvfs_req *req, uint64_t parent, const char *name,
		     mode_t mode)
{
	saw(req, UVFS_OP_MKDIR, parent, name, NULL, NULL);
	seen.n[0] = mode;
	answer(req);
}

static void be_symlink(struct uvfs_req *req, const char *target,
		       uint64_t parent, const char *name)
{
	saw(req, UVFS_OP_SYMLINK, parent, name, target, NULL);
	answer(req);
}

static void be_rename(struct uvfs_req *req, uint64_t parent, const char *name,
		      uint64_t newparent, const char *newname,
		      unsigned int flags)
{
	saw(req, UVFS_OP_RENAME, parent, name, newname, NULL);
	seen.ino2 = newparent;
	seen.n[0] = flags;
	answer(req);
}

static void be_link(struct uvfs_req *req, uint64_t ino, uint64_t newparent,
		    const char *newname)
{
	saw(req, UVFS_OP_LINK, ino, newname, NULL, NULL);
	seen.ino2 = newparent;
	answer(req);
}

static void be_create(struct uvfs_req *req, uint64_t parent, const char *name,
		      mode_t mode, struct uvfs_file_info *fi)
{
	saw(req, UVFS_OP_CREATE, parent, name, NULL, fi);
	seen.n[0] = mode;
	answer(req);
}

static void be_write(struct uvfs_req *req, uint64_t ino, const void *buf,
		     size_t size, off_t off, struct uvfs_file_info *fi)
{
	saw(req, UVFS_OP_WRITE, ino, NULL, NULL, fi);
	seen.n[0] = size;
	seen.n[1] = (uint64_t)off;
	saw_data(buf, size);
	answer(req);
}

static void be_statfs(struct uvfs_req *req, uint64_t ino)
{
	saw(req, UVFS_OP_STATFS, ino, NULL, NULL, NULL);
	answer(req);
}

static void be_setxattr(struct uvfs_req *req, uint64_t ino, const char *name,
			const void *value, size_t size, int flags)
{
	saw(req, UVFS_OP_SETXATTR, ino, name, NULL, NULL);
	seen.n[0] = size;
	seen.n[1] = (uint32_t)flags;
	saw_data(value, size);
	answer(req);
}

static void be_getxattr(struct uvfs_req *req, uint64_t ino, const char *name,
			size_t size)
{
	saw(req, UVFS_OP_GETXATTR, ino, name, NULL, NULL);
	seen.n[0] = size;
	answer(req);
}

static void be_listxattr(struct uvfs_req *req, uint64_t ino, size_t size)
{
	saw(req, UVFS_OP_LISTXATTR, ino, NULL, NULL, NULL);
	seen.n[0] = size;
	answer(req);
}

static void be_access(struct uvfs_req *req, uint64_t ino, int mask)
{
	saw(req, UVFS_OP_ACCESS, ino, NULL, NULL, NULL);
	seen.n[0] = (uint32_t)mask;
	answer(req);
}

static void be_fallocate(struct uvfs_req *req, uint64_t ino, int mode,
			 off_t offset, off_t length, struct uvfs_file_info *fi)
{
	saw(req, UVFS_OP_FALLOCATE, ino, NULL, NULL, fi);
	seen.n[0] = (uint32_t)mode;
	seen.n[1] = (uint64_t)offset;
	seen.n[2] = (uint64_t)length;
	answer(req);
}

static void be_lseek(struct uvfs_req *req, uint64_t ino, off_t off,
		     int whence, struct uvfs_file_info *fi)
{
	saw(req, UVFS_OP_LSEEK, ino, NULL, NULL, fi);
	seen.n[0] = (uint64_t)off;
	seen.n[1] = (uint32_t)whence;
	answer(req);
}

static void be_unmount(void *priv)
{
	seen.op = UVFS_OP_DESTROY;
}

static const struct uvfs_ops rec_ops = {
	.lookup = be_lookup,
	.forget_multi = be_forget_multi,
	.getattr = be_getattr,
	.setattr = be_setattr,
	.readlink = be_readlink,
	.mknod = be_mknod,
	.mkdir = be_mkdir,
	.unlink = be_unlink,
	.rmdir = be_rmdir,
	.symlink = be_symlink,
	.rename = be_rename,
	.link = be_link,
	.open = be_open,
	.create = be_create,
	.read = be_read,
	.write = be_write,
	.flush = be_flush,
	.release = be_release,
	.fsync = be_fsync,
	.opendir = be_opendir,
	.readdir = be_readdir,
	.readdirplus = be_readdirplus,
	.releasedir = be_releasedir,
	.fsyncdir = be_fsyncdir,
	.statfs = be_statfs,
	.setxattr = be_setxattr,
	.getxattr = be_getxattr,
	.listxattr = be_listxattr,
	.removexattr = be_removexattr,
	.access = be_access,
	.fallocate = be_fallocate,
	.lseek = be_lseek,
};

static const struct uvfs_backend rec_be = {
	.api_version = UVFS_BACKEND_API_VERSION,
	.ops_size = sizeof(struct uvfs_ops),
	.name = "rt-recorder",
	.ops = &rec_ops,
	.unmount = be_unmount,
};

static struct uvfs_session *se;

static void setup(void)
{
	char err[128];
	size_t i;

	memset(&tp, 0, sizeof(tp));
	memset(&seen, 0, sizeof(seen));
	canned_entry.attr.st_rdev = makedev(0xfff, 0xfffff);
	for (i = 0; i < UVFS_SYMLINK_MAX; i++)
		long_target[i] = i % 16 ? 'a' + (char)(i % 26) : '/';
	se = uvfs_session_new(&rec_be, NULL);
	ck_assert_ptr_nonnull(se);
	se->tp = &fake_tp;
	ck_assert_int_eq(uvfs_session_mount(se, "none", err, sizeof(err)), 0);
}

static void teardown(void)
{
	uvfs_session_free(se);
}

/* The row as a sender lays it out: header, struct, names, payload. */
static size_t build(const struct msgrow *r, unsigned char *buf, size_t max)
{
	struct uvfs_in_header in = { 0 };
	const char *s[2] = { r->s1, r->s2 };
	size_t len = sizeof(in);
	int i;

	ck_assert_uint_le(len + r->argsize, max);
	memcpy(buf + len, &r->arg, r->argsize);
	len += r->argsize;
	for (i = 0; i < 2; i++) {
		if (!s[i])
			continue;
		ck_assert_uint_le(len + strlen(s[i]) + 1, max);
		memcpy(buf + len, s[i], strlen(s[i]) + 1);
		len += strlen(s[i]) + 1;
	}
	ck_assert_uint_le(len + r->dlen, max);
	if (r->dlen)
		memcpy(buf + len, r->data, r->dlen);
	len += r->dlen;
	in.len = (uint32_t)len;
	in.opcode = r->opcode;
	in.unique = H_UNIQUE;
	in.nodeid = r->nodeid;
	in.uid = H_UID;
	in.gid = H_GID;
	in.pid = H_PID;
	in.umask = H_UMASK;
	memcpy(buf, &in, sizeof(in));
	return len;
}

/*
 * Hand the first len bytes of msg to the dispatcher as a transport does:
 * the header (its len saying len), then the argument bytes, in a buffer of
 * exactly that size so that ASan and valgrind see a read past the end.
 * No limit on the reply size, so sizes reach the backend as sent.
 */
static void send_msg(const struct msgrow *r, const unsigned char *msg,
		     size_t len)
{
	size_t alen = len - sizeof(struct uvfs_in_header);
	struct uvfs_req *req = malloc(sizeof(*req));
	unsigned char *args = malloc(alen ? alen : 1);
	struct uvfs_in_header in;

	ck_assert_ptr_nonnull(req);
	ck_assert_ptr_nonnull(args);
	memcpy(&in, msg, sizeof(in));
	in.len = (uint32_t)len;
	memcpy(args, msg + sizeof(in), alen);
	memset(&seen, 0, sizeof(seen));
	memset(&tp, 0, sizeof(tp));
	cur = r;
	uvfs_req_init(req, se, &in, UINT32_MAX, NULL);
	uvfs_dispatch(req, args, alen);
	free(args);
}

static void check_call(const struct msgrow *r)
{
	const struct want *w = &r->want;
	int i;

	ck_assert_msg(seen.op == w->op, "%s: backend op %u called, want %u",
		      r->what, seen.op, w->op);
	if (!w->op)
		return;
	ck_assert_msg(seen.ino == w->ino && seen.ino2 == w->ino2,
		      "%s: nodes %#llx %#llx", r->what,
		      (unsigned long long)seen.ino,
		      (unsigned long long)seen.ino2);
	ck_assert_str_eq(seen.s1, w->s1 ? w->s1 : "");
	ck_assert_str_eq(seen.s2, w->s2 ? w->s2 : "");
	for (i = 0; i < NNUM; i++)
		ck_assert_msg(seen.n[i] == w->n[i],
			      "%s: argument %d is %#llx, want %#llx", r->what,
			      i, (unsigned long long)seen.n[i],
			      (unsigned long long)w->n[i]);
	ck_assert_msg(seen.has_fi == w->fi, "%s: file_info %s", r->what,
		      seen.has_fi ? "passed" : "missing");
	ck_assert_uint_eq(seen.fi.fh, w->fh);
	ck_assert_uint_eq(seen.fi.lock_owner, w->lock_owner);
	ck_assert_uint_eq((uint32_t)seen.fi.flags, w->flags);
	ck_assert_uint_eq(seen.fi.datasync, w->datasync);
	ck_assert_uint_eq(seen.fi.direct_io | seen.fi.keep_cache |
			  seen.fi.nonseekable, 0);
	ck_assert_uint_eq(seen.dlen, w->dlen);
	if (w->dlen)
		ck_assert_int_eq(memcmp(seen.data, w->data, w->dlen), 0);
	if (w->op == UVFS_OP_DESTROY)
		return;		/* unmount() gets no request */
	ck_assert(seen.has_ctx);
	ck_assert_uint_eq(seen.ctx.uid, H_UID);
	ck_assert_uint_eq(seen.ctx.gid, H_GID);
	ck_assert_uint_eq((uint32_t)seen.ctx.pid, H_PID);
	ck_assert_uint_eq(seen.ctx.umask, H_UMASK);
}

/* The payload of the reply, which must be exactly size bytes. */
static const void *reply_as(const struct msgrow *r, size_t size)
{
	ck_assert_msg(tp.len == size, "%s: reply of %zu bytes, want %zu",
		      r->what, tp.len, size);
	return tp.payload;
}

static void check_attr(const struct uvfs_attr *a)
{
	ck_assert_uint_eq(a->ino, BIG_INO);
	ck_assert_uint_eq(a->size, 0x7fffffff00000003ULL);
	ck_assert_uint_eq(a->blocks, 0x7ffffffe00000004ULL);
	ck_assert_int_eq(a->atime, INT64_MIN + 5);
	ck_assert_int_eq(a->mtime, 0x7fffffff00000006LL);
	ck_assert_int_eq(a->ctime, 0x100000007LL);
	ck_assert_uint_eq(a->atimensec, 999999999);
	ck_assert_uint_eq(a->mtimensec, 1);
	ck_assert_uint_eq(a->ctimensec, 500000000);
	ck_assert_uint_eq(a->mode, S_IFREG | 07777);
	ck_assert_uint_eq(a->nlink, 0xfffffffeu);
	ck_assert_uint_eq(a->uid, 0xfffffffdu);
	ck_assert_uint_eq(a->gid, 0x80000002u);
	ck_assert_uint_eq(a->rdev, 0xffffffffu);	/* new_encode_dev() */
	ck_assert_uint_eq(a->blksize, HIGH32);
	ck_assert_uint_eq(a->padding, 0);
}

static void check_entry(const struct uvfs_entry_out *e)
{
	ck_assert_uint_eq(e->nodeid, BIG_INO);
	ck_assert_uint_eq(e->generation, BIG_GEN);
	ck_assert_uint_eq(e->entry_valid_ns, ENTRY_NS);
	ck_assert_uint_eq(e->attr_valid_ns, ATTR_NS);
	check_attr(&e->attr);
}

static void check_open(const struct uvfs_open_out *o)
{
	ck_assert_uint_eq(o->fh, canned_fi.fh);
	ck_assert_uint_eq(o->open_flags, UVFS_OPEN_DIRECT_IO |
			  UVFS_OPEN_KEEP_CACHE | UVFS_OPEN_NONSEEKABLE);
	ck_assert_uint_eq(o->padding, 0);
}

static void check_init(const struct msgrow *r)
{
	const char *name = rec_be.name;
	const struct uvfs_init_out *io =
		reply_as(r, sizeof(*io) + strlen(name));

	ck_assert_uint_eq(io->major, UVFS_PROTO_MAJOR);
	ck_assert_uint_eq(io->minor, UVFS_PROTO_MINOR);	/* the lower one */
	ck_assert_uint_eq(io->max_write, HIGH32);
	ck_assert_uint_eq(io->max_readahead, HIGH32);
	ck_assert_uint_eq(io->flags,
			  UVFS_INIT_READDIRPLUS | UVFS_INIT_RENAME_FLAGS |
			  UVFS_INIT_WRITEBACK);
	ck_assert_uint_eq(io->max_filesize, 0);
	ck_assert_uint_eq(io->time_gran, 1);
	ck_assert_uint_eq(io->subtype_len, strlen(name));
	ck_assert_uint_eq(io->padding, 0);
	ck_assert_int_eq(memcmp(io + 1, name, strlen(name)), 0);
}

static void check_dir(const struct msgrow *r, bool plus)
{
	size_t off = 0, i;

	for (i = 0; i < NDIRENTS; i++) {
		const char *name = canned_dirents[i].name;
		size_t nlen = strlen(name);
		size_t rec = plus ? UVFS_DIRENTPLUS_SIZE(nlen) :
				    UVFS_DIRENT_SIZE(nlen);
		const unsigned char *p = tp.payload + off;
		const struct uvfs_dirent *d = (const void *)p;
		size_t j;

		ck_assert_msg(off + rec <= tp.len, "%s: record %zu cut",
			      r->what, i);
		if (plus) {
			const struct uvfs_direntplus *dp = (const void *)p;

			check_entry(&dp->entry);
			d = &dp->dirent;
		}
		ck_assert_uint_eq(d->ino, plus ? BIG_INO :
						 canned_dirents[i].ino);
		ck_assert_uint_eq(d->off, canned_dirents[i].next_off);
		ck_assert_uint_eq(d->namelen, nlen);
		ck_assert_uint_eq(d->type, plus ? 8 /* DT_REG */ :
						  canned_dirents[i].mode >> 12);
		ck_assert_int_eq(memcmp(d->name, name, nlen), 0);
		for (j = (size_t)((const unsigned char *)d->name + nlen - p);
		     j < rec; j++)
			ck_assert_msg(p[j] == 0, "%s: record %zu: padding",
				      r->what, i);
		off += rec;
	}
	ck_assert_uint_eq(off, tp.len);
}

static void check_statfs(const struct msgrow *r)
{
	const struct uvfs_statfs_out *o = reply_as(r, sizeof(*o));

	ck_assert_uint_eq(o->blocks, 0xfedcba9876543210ULL);
	ck_assert_uint_eq(o->bfree, 0x8000000000000001ULL);
	ck_assert_uint_eq(o->bavail, 0x8000000000000000ULL);
	ck_assert_uint_eq(o->files, 0xffffffffffffffffULL);
	ck_assert_uint_eq(o->ffree, 0x7fffffffffffffffULL);
	ck_assert_uint_eq(o->bsize, HIGH32);
	ck_assert_uint_eq(o->frsize, 0x40000000);
	ck_assert_uint_eq(o->namelen, UVFS_NAME_MAX);
	ck_assert_uint_eq(o->padding, 0);
}

/* Decode the reply the way the kernel reads it. */
static void check_reply(const struct msgrow *r)
{
	const struct uvfs_create_out *co;
	const struct uvfs_attr_out *ao;
	const struct uvfs_write_out *wo;
	const struct uvfs_getxattr_out *xo;
	const struct uvfs_lseek_out *lo;

	if (r->reply == R_NONE) {
		ck_assert_int_eq(tp.nreplies, 0);
		ck_assert_int_eq(tp.nfreed, 1);
		return;
	}
	ck_assert_msg(tp.nreplies == 1, "%s: %d replies", r->what,
		      tp.nreplies);
	ck_assert_uint_eq(tp.out.unique, H_UNIQUE);
	ck_assert_msg(tp.out.error == (r->reply == R_ERR ? r->err : 0),
		      "%s: error %d", r->what, tp.out.error);
	ck_assert_uint_eq(tp.out.len, sizeof(tp.out) + tp.len);
	switch (r->reply) {
	case R_ERR:
		reply_as(r, 0);
		break;
	case R_INIT:
		check_init(r);
		break;
	case R_ENTRY:
		check_entry(reply_as(r, sizeof(struct uvfs_entry_out)));
		break;
	case R_CREATE:
		co = reply_as(r, sizeof(*co));
		check_entry(&co->entry);
		check_open(&co->open);
		break;
	case R_ATTR:
		ao = reply_as(r, sizeof(*ao));
		ck_assert_uint_eq(ao->attr_valid_ns, ATTR_NS);
		check_attr(&ao->attr);
		break;
	case R_READLINK:
		reply_as(r, UVFS_SYMLINK_MAX);
		ck_assert_int_eq(memcmp(tp.payload, long_target,
					UVFS_SYMLINK_MAX), 0);
		break;
	case R_OPEN:
		check_open(reply_as(r, sizeof(struct uvfs_open_out)));
		break;
	case R_WRITE:
		wo = reply_as(r, sizeof(*wo));
		ck_assert_uint_eq(wo->size, r->want.n[0]);
		ck_assert_uint_eq(wo->padding, 0);
		break;
	case R_DATA:
		reply_as(r, r->rlen);
		ck_assert_int_eq(memcmp(tp.payload, r->rdata, r->rlen), 0);
		break;
	case R_DIRENT:
	case R_DIRENTPLUS:
		check_dir(r, r->reply == R_DIRENTPLUS);
		break;
	case R_STATFS:
		check_statfs(r);
		break;
	case R_XATTR:
		xo = reply_as(r, sizeof(*xo));
		ck_assert_uint_eq(xo->size, XATTR_SIZE);
		ck_assert_uint_eq(xo->padding, 0);
		break;
	case R_LSEEK:
		lo = reply_as(r, sizeof(*lo));
		ck_assert_uint_eq(lo->offset, LSEEK_OFF);
		break;
	default:
		ck_abort_msg("%s: reply kind %d", r->what, r->reply);
	}
}

/* Every opcode proto.h defines has at least one row. */
START_TEST(test_msgs_cover_every_opcode)
{
	uint32_t op;
	int i, rows;

	for (op = 0; op < UVFS_OP_MAX; op++) {
		if (!uvfs_opdesc(op))
			continue;
		for (rows = 0, i = 0; i < NMSGS; i++)
			rows += msgs[i].opcode == op;
		ck_assert_msg(rows > 0, "%s has no round-trip row",
			      uvfs_opname(op));
	}
}
END_TEST

START_TEST(test_roundtrip)
{
	const struct msgrow *r = &msgs[_i];
	const struct uvfs_opdesc *d = uvfs_opdesc(r->opcode);
	unsigned char msg[1024];
	size_t len = build(r, msg, sizeof(msg));

	/* the table expects the layout the sender used */
	ck_assert_ptr_nonnull(d);
	ck_assert_msg(d->argsize == r->argsize, "%s: table argsize %u",
		      r->what, d->argsize);
	ck_assert_uint_eq(d->nstr, !!r->s1 + !!r->s2);
	send_msg(r, msg, len);
	check_call(r);
	check_reply(r);
}
END_TEST

/*
 * Each request cut short, one byte at a time where it hurts: one byte
 * short of the fixed struct, a name without its NUL, a payload one byte
 * short of what the struct announces.  All are refused before the backend
 * sees them (a FORGET without a reply: its sender waits for none).
 */
START_TEST(test_truncated)
{
	const struct msgrow *r = &msgs[_i];
	const char *s[2] = { r->s1, r->s2 };
	int want = r->short_err ? r->short_err : -EINVAL;
	size_t cuts[4], ncut = 0, off = r->argsize, len, i;
	unsigned char msg[1024];

	len = build(r, msg, sizeof(msg));
	if (r->argsize)
		cuts[ncut++] = r->argsize - 1;
	for (i = 0; i < 2; i++) {
		if (!s[i])
			continue;
		cuts[ncut++] = off + strlen(s[i]);
		off += strlen(s[i]) + 1;
	}
	if (r->dlen)
		cuts[ncut++] = off + r->dlen - 1;
	ck_assert_uint_eq(sizeof(struct uvfs_in_header) + off + r->dlen, len);
	for (i = 0; i < ncut; i++) {
		send_msg(r, msg, sizeof(struct uvfs_in_header) + cuts[i]);
		if (r->reply == R_NONE) {
			/* FORGET: dropped, and no reply the kernel would
			 * not expect */
			ck_assert_msg(tp.nreplies == 0 && seen.op == 0,
				      "%s cut to %zu bytes: %d replies",
				      r->what, cuts[i], tp.nreplies);
			continue;
		}
		ck_assert_msg(tp.nreplies == 1 && tp.out.error == want,
			      "%s cut to %zu bytes: %d replies, error %d",
			      r->what, cuts[i], tp.nreplies, tp.out.error);
		ck_assert_uint_eq(tp.out.unique, H_UNIQUE);
		ck_assert_uint_eq(tp.out.len, sizeof(tp.out));
		ck_assert_msg(seen.op == 0, "%s cut to %zu bytes reached "
			      "the backend", r->what, cuts[i]);
	}
	/* DESTROY, READLINK and STATFS have nothing to cut */
	ck_assert_msg(ncut > 0 || (!r->argsize && !r->s1 && !r->dlen),
		      "%s: no cut tried", r->what);
}
END_TEST

/* Notifications as uvfs.ko's UVFS_IOC_NOTIFY reads them. */
START_TEST(test_notify_roundtrip)
{
	struct uvfs_notify_inval_inode ii;
	struct uvfs_notify_inval_entry ie;
	struct uvfs_out_header oh;
	char toolong[UVFS_NAME_MAX + 2];
	const size_t nlen = strlen(NAME255);

	ck_assert_int_eq(uvfs_notify_inval_inode(se, H_NODE, (off_t)BIG_OFF,
						 -1), 0);
	ck_assert_int_eq(tp.nnotify, 1);
	ck_assert_uint_eq(tp.notelen, sizeof(oh) + sizeof(ii));
	memcpy(&oh, tp.note, sizeof(oh));
	memcpy(&ii, tp.note + sizeof(oh), sizeof(ii));
	ck_assert_uint_eq(oh.unique, 0);
	ck_assert_int_eq(oh.error, UVFS_NOTIFY_INVAL_INODE);
	ck_assert_uint_eq(oh.len, tp.notelen);
	ck_assert_uint_eq(ii.nodeid, H_NODE);
	ck_assert_int_eq(ii.offset, (int64_t)BIG_OFF);
	ck_assert_int_eq(ii.length, -1);

	ck_assert_int_eq(uvfs_notify_inval_entry(se, 0xfedcba9876543218ULL,
						 NAME255), 0);
	ck_assert_int_eq(tp.nnotify, 2);
	ck_assert_uint_eq(tp.notelen, sizeof(oh) + sizeof(ie) + nlen + 1);
	memcpy(&oh, tp.note, sizeof(oh));
	memcpy(&ie, tp.note + sizeof(oh), sizeof(ie));
	ck_assert_uint_eq(oh.unique, 0);
	ck_assert_int_eq(oh.error, UVFS_NOTIFY_INVAL_ENTRY);
	ck_assert_uint_eq(oh.len, tp.notelen);
	ck_assert_uint_eq(ie.parent, 0xfedcba9876543218ULL);
	ck_assert_uint_eq(ie.namelen, nlen);
	ck_assert_uint_eq(ie.padding, 0);
	ck_assert_int_eq(memcmp(tp.note + sizeof(oh) + sizeof(ie), NAME255,
				nlen + 1), 0);

	/* names the kernel would refuse are not sent */
	memset(toolong, 'x', sizeof(toolong) - 1);
	toolong[sizeof(toolong) - 1] = '\0';
	ck_assert_int_eq(uvfs_notify_inval_entry(se, 1, toolong), -EINVAL);
	ck_assert_int_eq(uvfs_notify_inval_entry(se, 1, ""), -EINVAL);
	ck_assert_int_eq(tp.nnotify, 2);
}
END_TEST

/* A transport that cannot notify (direct, FUSE without it) says so. */
START_TEST(test_notify_unsupported)
{
	static const struct uvfs_transport_ops mute = {
		.name = "mute",
		.send_reply = tp_send_reply,
	};

	se->tp = &mute;
	ck_assert_int_eq(uvfs_notify_inval_inode(se, 1, 0, 0), -ENOSYS);
	ck_assert_int_eq(uvfs_notify_inval_entry(se, 1, "x"), -ENOSYS);
	se->tp = &fake_tp;
}
END_TEST

int main(void)
{
	Suite *s = suite_create("proto");
	TCase *tc = tcase_create("proto");
	TCase *rt = tcase_create("roundtrip");

	tcase_add_test(tc, test_layout);
	tcase_add_test(tc, test_optable_complete);
	tcase_add_test(tc, test_attr_roundtrip);
	tcase_add_test(tc, test_timeout);
	tcase_add_test(tc, test_dirent_encoding);
	suite_add_tcase(s, tc);

	tcase_add_checked_fixture(rt, setup, teardown);
	tcase_add_test(rt, test_msgs_cover_every_opcode);
	tcase_add_loop_test(rt, test_roundtrip, 0, NMSGS);
	tcase_add_loop_test(rt, test_truncated, 0, NMSGS);
	tcase_add_test(rt, test_notify_roundtrip);
	tcase_add_test(rt, test_notify_unsupported);
	suite_add_tcase(s, rt);
	return check_run(s);
}
