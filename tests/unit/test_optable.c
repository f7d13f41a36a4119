// SPDX-License-Identifier: MIT
/*
 * The opcode table's columns against what the dispatcher did before they
 * existed: which backend op each opcode needs (the old 35-case switch in
 * backend_has_op()) and which strings must be plain names (the old list of
 * opcodes in decode() whose strings may hold '/').  The expectations below
 * are copied as data from that code, so a row edited by mistake fails here.
 * Also uvfs_mutex_is_locked(), behind the debug builds' UVFS_ASSERT_HELD.
 */
#include <check.h>
#include <pthread.h>
#include <stddef.h>
#include <string.h>

#include "uvfs_i.h"
#include "check_run.h"

/* an op by its offset in struct uvfs_ops plus one: 0 is none */
#define M(m) (offsetof(struct uvfs_ops, m) + 1)
#define NONE 0

/* Every op of struct uvfs_ops, to set them one at a time. */
static const size_t all_ops[] = {
	M(lookup), M(forget), M(forget_multi), M(getattr), M(setattr),
	M(readlink), M(mknod), M(mkdir), M(unlink), M(rmdir), M(symlink),
	M(rename), M(link), M(open), M(create), M(read), M(write), M(flush),
	M(release), M(fsync), M(opendir), M(readdir), M(readdirplus),
	M(releasedir), M(fsyncdir), M(statfs), M(setxattr), M(getxattr),
	M(listxattr), M(removexattr), M(access), M(fallocate), M(lseek),
};

/*
 * The old switch: INIT and DESTROY always served, FORGET by forget or
 * forget_multi, each other file-system opcode by its one op, anything else
 * (the block opcodes, unknown numbers) never.
 */
static const struct {
	bool always;
	size_t op[2];
} old_has_op[UVFS_OP_MAX] = {
	[UVFS_OP_INIT] = { true, { NONE, NONE } },
	[UVFS_OP_DESTROY] = { true, { NONE, NONE } },
	[UVFS_OP_LOOKUP] = { false, { M(lookup), NONE } },
	[UVFS_OP_FORGET] = { false, { M(forget), M(forget_multi) } },
	[UVFS_OP_GETATTR] = { false, { M(getattr), NONE } },
	[UVFS_OP_SETATTR] = { false, { M(setattr), NONE } },
	[UVFS_OP_READLINK] = { false, { M(readlink), NONE } },
	[UVFS_OP_SYMLINK] = { false, { M(symlink), NONE } },
	[UVFS_OP_MKNOD] = { false, { M(mknod), NONE } },
	[UVFS_OP_MKDIR] = { false, { M(mkdir), NONE } },
	[UVFS_OP_UNLINK] = { false, { M(unlink), NONE } },
	[UVFS_OP_RMDIR] = { false, { M(rmdir), NONE } },
	[UVFS_OP_RENAME] = { false, { M(rename), NONE } },
	[UVFS_OP_LINK] = { false, { M(link), NONE } },
	[UVFS_OP_OPEN] = { false, { M(open), NONE } },
	[UVFS_OP_CREATE] = { false, { M(create), NONE } },
	[UVFS_OP_READ] = { false, { M(read), NONE } },
	[UVFS_OP_WRITE] = { false, { M(write), NONE } },
	[UVFS_OP_FLUSH] = { false, { M(flush), NONE } },
	[UVFS_OP_RELEASE] = { false, { M(release), NONE } },
	[UVFS_OP_FSYNC] = { false, { M(fsync), NONE } },
	[UVFS_OP_OPENDIR] = { false, { M(opendir), NONE } },
	[UVFS_OP_READDIR] = { false, { M(readdir), NONE } },
	[UVFS_OP_READDIRPLUS] = { false, { M(readdirplus), NONE } },
	[UVFS_OP_RELEASEDIR] = { false, { M(releasedir), NONE } },
	[UVFS_OP_FSYNCDIR] = { false, { M(fsyncdir), NONE } },
	[UVFS_OP_STATFS] = { false, { M(statfs), NONE } },
	[UVFS_OP_SETXATTR] = { false, { M(setxattr), NONE } },
	[UVFS_OP_GETXATTR] = { false, { M(getxattr), NONE } },
	[UVFS_OP_LISTXATTR] = { false, { M(listxattr), NONE } },
	[UVFS_OP_REMOVEXATTR] = { false, { M(removexattr), NONE } },
	[UVFS_OP_ACCESS] = { false, { M(access), NONE } },
	[UVFS_OP_FALLOCATE] = { false, { M(fallocate), NONE } },
	[UVFS_OP_LSEEK] = { false, { M(lseek), NONE } },
};

/*
 * The old decode(): a string may not hold '/' unless it is SYMLINK's second
 * (the target) or the name of SETXATTR, GETXATTR or REMOVEXATTR.  Strings
 * per opcode and their limits as the old table had them.
 */
enum { N = 1, P, X };	/* name, path (symlink target), xattr name */
static const struct {
	int kind[2];
	unsigned int max[2];
} old_str[UVFS_OP_MAX] = {
	[UVFS_OP_LOOKUP] = { { N }, { UVFS_NAME_MAX } },
	[UVFS_OP_SYMLINK] = { { N, P }, { UVFS_NAME_MAX, UVFS_SYMLINK_MAX } },
	[UVFS_OP_MKNOD] = { { N }, { UVFS_NAME_MAX } },
	[UVFS_OP_MKDIR] = { { N }, { UVFS_NAME_MAX } },
	[UVFS_OP_UNLINK] = { { N }, { UVFS_NAME_MAX } },
	[UVFS_OP_RMDIR] = { { N }, { UVFS_NAME_MAX } },
	[UVFS_OP_RENAME] = { { N, N }, { UVFS_NAME_MAX, UVFS_NAME_MAX } },
	[UVFS_OP_LINK] = { { N }, { UVFS_NAME_MAX } },
	[UVFS_OP_CREATE] = { { N }, { UVFS_NAME_MAX } },
	[UVFS_OP_SETXATTR] = { { X }, { UVFS_XATTR_NAME_MAX } },
	[UVFS_OP_GETXATTR] = { { X }, { UVFS_XATTR_NAME_MAX } },
	[UVFS_OP_REMOVEXATTR] = { { X }, { UVFS_XATTR_NAME_MAX } },
};

static void stub(void)
{
}

/* Set the op m (as M() gives it) in ops. */
static void ops_set(struct uvfs_ops *ops, size_t m)
{
	void (*fn)(void) = stub;

	memcpy((char *)ops + m - 1, &fn, sizeof(fn));
}

/* ops with only the op m set (NONE: none at all) */
static void ops_with(struct uvfs_ops *ops, size_t m)
{
	memset(ops, 0, sizeof(*ops));
	if (m != NONE)
		ops_set(ops, m);
}

static bool old_expects(uint32_t op, size_t off)
{
	if (op >= UVFS_OP_MAX)
		return false;
	if (old_has_op[op].always)
		return true;
	return off != NONE && (old_has_op[op].op[0] == off ||
			       old_has_op[op].op[1] == off);
}

START_TEST(test_has_op_matches_old_switch)
{
	static const uint32_t extra[] = { 0, 35, 40, 63, UVFS_OP_MAX,
					  0xffffffffu };
	struct uvfs_ops ops;
	uint32_t op;
	size_t i;

	for (op = 0; op < UVFS_OP_MAX; op++) {
		ops_with(&ops, NONE);
		ck_assert_msg(uvfs_backend_has_op(&ops, op) ==
			      old_expects(op, NONE), "op %u, no ops", op);
		for (i = 0; i < sizeof(all_ops) / sizeof(all_ops[0]); i++) {
			ops_with(&ops, all_ops[i]);
			ck_assert_msg(uvfs_backend_has_op(&ops, op) ==
				      old_expects(op, all_ops[i]),
				      "op %u (%s), only the op at offset %zu",
				      op, uvfs_opname(op), all_ops[i] - 1);
		}
		/* all ops set: exactly the opcodes the old switch served */
		memset(&ops, 0, sizeof(ops));
		for (i = 0; i < sizeof(all_ops) / sizeof(all_ops[0]); i++)
			ops_set(&ops, all_ops[i]);
		ck_assert_msg(uvfs_backend_has_op(&ops, op) ==
			      (old_has_op[op].always ||
			       old_has_op[op].op[0] != NONE),
			      "op %u, all ops", op);
	}
	for (i = 0; i < sizeof(extra) / sizeof(extra[0]); i++) {
		memset(&ops, 0xff, sizeof(ops));	/* every op "set" */
		ck_assert(!uvfs_backend_has_op(&ops, extra[i]));
	}
}
END_TEST

START_TEST(test_strings_match_old_decode)
{
	uint32_t op;
	int i;

	for (op = 0; op < UVFS_OP_MAX; op++) {
		const struct uvfs_opdesc *d = uvfs_opdesc(op);
		int n = !!old_str[op].kind[0] + !!old_str[op].kind[1];

		if (!d) {
			ck_assert_int_eq(n, 0);
			continue;
		}
		ck_assert_msg(d->nstr == n, "%s: %u strings, expected %d",
			      d->name, d->nstr, n);
		for (i = 0; i < n; i++) {
			int kind = old_str[op].kind[i];
			enum uvfs_strkind want = kind == N ? UVFS_STR_NAME :
						 kind == P ? UVFS_STR_PATH :
							     UVFS_STR_XATTR;

			ck_assert_msg(d->str[i].kind == want,
				      "%s string %d: kind %d, expected %d",
				      d->name, i, d->str[i].kind, want);
			ck_assert_msg(d->str[i].max == old_str[op].max[i],
				      "%s string %d: max %u, expected %u",
				      d->name, i, d->str[i].max,
				      old_str[op].max[i]);
		}
	}
}
END_TEST

/* The old table's OPB rows: the opcodes that usually wait for I/O. */
START_TEST(test_blocks_match_old_table)
{
	static const uint32_t slow[] = { UVFS_OP_READ, UVFS_OP_WRITE,
					 UVFS_OP_FSYNC, UVFS_OP_FSYNCDIR,
					 UVFS_OP_FALLOCATE };
	uint32_t op;
	size_t i;

	for (op = 0; op < UVFS_OP_MAX; op++) {
		const struct uvfs_opdesc *d = uvfs_opdesc(op);
		bool want = false;

		for (i = 0; i < sizeof(slow) / sizeof(slow[0]); i++)
			want |= slow[i] == op;
		if (d)
			ck_assert_msg(d->blocks == want, "%s: blocks %d",
				      d->name, d->blocks);
		else
			ck_assert(!want);
	}
	ck_assert_str_eq(uvfs_opname(UVFS_OP_READDIRPLUS), "READDIRPLUS");
	ck_assert_str_eq(uvfs_opname(UVFS_OP_BLK_WRITE_ZEROES),
			 "BLK_WRITE_ZEROES");
	ck_assert_str_eq(uvfs_opname(40), "UNKNOWN");
}
END_TEST

static pthread_mutex_t held_elsewhere = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t go = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t go_cv = PTHREAD_COND_INITIALIZER;
static int phase;

static void *hold_it(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&held_elsewhere);
	pthread_mutex_lock(&go);
	phase = 1;
	pthread_cond_broadcast(&go_cv);
	while (phase != 2)
		pthread_cond_wait(&go_cv, &go);
	pthread_mutex_unlock(&go);
	pthread_mutex_unlock(&held_elsewhere);
	return NULL;
}

START_TEST(test_mutex_is_locked)
{
	pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
	pthread_t t;

	ck_assert(!uvfs_mutex_is_locked(&m));
	/* the check left it unlocked */
	ck_assert_int_eq(pthread_mutex_trylock(&m), 0);
	ck_assert(uvfs_mutex_is_locked(&m));	/* held by this thread */
	pthread_mutex_unlock(&m);
	ck_assert(!uvfs_mutex_is_locked(&m));

	ck_assert_int_eq(pthread_create(&t, NULL, hold_it, NULL), 0);
	pthread_mutex_lock(&go);
	while (phase != 1)
		pthread_cond_wait(&go_cv, &go);
	ck_assert(uvfs_mutex_is_locked(&held_elsewhere));
	phase = 2;
	pthread_cond_broadcast(&go_cv);
	pthread_mutex_unlock(&go);
	pthread_join(t, NULL);
	ck_assert(!uvfs_mutex_is_locked(&held_elsewhere));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("optable");
	TCase *tc = tcase_create("columns");

	tcase_add_test(tc, test_has_op_matches_old_switch);
	tcase_add_test(tc, test_strings_match_old_decode);
	tcase_add_test(tc, test_blocks_match_old_table);
	tcase_add_test(tc, test_mutex_is_locked);
	suite_add_tcase(s, tc);
	return check_run(s);
}
