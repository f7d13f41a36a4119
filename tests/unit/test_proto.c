// SPDX-License-Identifier: MIT
/* Wire protocol: layout, encodings and conversions round-trip. */
#include <check.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

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

int main(void)
{
	Suite *s = suite_create("proto");
	TCase *tc = tcase_create("proto");

	tcase_add_test(tc, test_layout);
	tcase_add_test(tc, test_optable_complete);
	tcase_add_test(tc, test_attr_roundtrip);
	tcase_add_test(tc, test_timeout);
	tcase_add_test(tc, test_dirent_encoding);
	suite_add_tcase(s, tc);
	return check_run(s);
}
