// SPDX-License-Identifier: MIT
/*
 * The dispatcher through a fake transport: request decoding and validation,
 * defaults for missing ops, reply checks, batching of forgets, statistics,
 * and replies from another thread.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "uvfs_i.h"
#include "check_run.h"

/* ---- a fake transport that records the last reply ---- */

static struct {
	int nreplies;
	int nfreed;
	struct uvfs_out_header out;
	char payload[4096];
	size_t len;
} fake;

static int fake_send_reply(struct uvfs_req *req, const struct iovec *iov,
			   int iovcnt)
{
	size_t off = 0;
	int i;

	memcpy(&fake.out, iov[0].iov_base, sizeof(fake.out));
	for (i = 1; i < iovcnt; i++) {
		memcpy(fake.payload + off, iov[i].iov_base, iov[i].iov_len);
		off += iov[i].iov_len;
	}
	fake.len = off;
	fake.nreplies++;
	ck_assert_uint_eq(fake.out.len, sizeof(fake.out) + off);
	free(req);
	return 0;
}

static void fake_free_req(struct uvfs_req *req)
{
	fake.nfreed++;
	free(req);
}

static const struct uvfs_transport_ops fake_tp = {
	.name = "fake",
	.send_reply = fake_send_reply,
	.free_req = fake_free_req,
};

/* ---- a recording backend ---- */

static struct {
	char name[300], name2[300];
	uint64_t a, b;
	unsigned int flags;
	int forgets;
	uint64_t forgotten;
	dev_t rdev;
	mode_t mode;
	struct uvfs_req *held;	/* for replies sent later */
	int calls;		/* setattr, lseek */
} rec;

static void be_lookup(struct uvfs_req *req, uint64_t parent, const char *name)
{
	struct uvfs_entry e = { 0 };

	snprintf(rec.name, sizeof(rec.name), "%s", name);
	rec.a = parent;
	if (!strcmp(name, "missing")) {
		uvfs_reply_err(req, -ENOENT);
		return;
	}
	if (!strcmp(name, "absent")) {
		uvfs_reply_negative(req, 5.0);
		return;
	}
	if (!strcmp(name, "absent-0")) {
		uvfs_reply_negative(req, 0);
		return;
	}
	if (!strcmp(name, "bad-errno")) {
		uvfs_reply_err(req, -100000);
		return;
	}
	if (!strcmp(name, "twice")) {
		uvfs_reply_err(req, -ENOENT);
		return;
	}
	if (!strcmp(name, "later")) {
		rec.held = req;
		return;
	}
	e.ino = 7;
	e.attr.st_ino = 7;
	e.attr.st_mode = S_IFREG | 0644;
	e.entry_timeout = 2.0;
	uvfs_reply_entry(req, &e);
}

static void be_rename(struct uvfs_req *req, uint64_t parent, const char *name,
		      uint64_t newparent, const char *newname,
		      unsigned int flags)
{
	snprintf(rec.name, sizeof(rec.name), "%s", name);
	snprintf(rec.name2, sizeof(rec.name2), "%s", newname);
	rec.a = parent;
	rec.b = newparent;
	rec.flags = flags;
	uvfs_reply_err(req, 0);
}

static void be_symlink(struct uvfs_req *req, const char *target,
		       uint64_t parent, const char *name)
{
	snprintf(rec.name, sizeof(rec.name), "%s", name);
	snprintf(rec.name2, sizeof(rec.name2), "%s", target);
	uvfs_reply_err(req, -EPERM);
}

static void be_mknod(struct uvfs_req *req, uint64_t parent, const char *name,
		     mode_t mode, dev_t rdev)
{
	rec.rdev = rdev;
	rec.mode = mode;
	uvfs_reply_err(req, -EROFS);
}

static void be_forget(struct uvfs_req *req, uint64_t ino, uint64_t nlookup)
{
	rec.forgets++;
	rec.forgotten += ino * nlookup;
	uvfs_reply_none(req);
}

static void be_read(struct uvfs_req *req, uint64_t ino, size_t size,
		    off_t off, struct uvfs_file_info *fi)
{
	static char big[8192];

	/* Misbehave on request: send more than asked. */
	uvfs_reply_buf(req, big, off == 1 ? size + 1 : size);
}

static void be_getxattr(struct uvfs_req *req, uint64_t ino, const char *name,
			size_t size)
{
	if (size == 0)
		uvfs_reply_xattr(req, 10);
	else
		uvfs_reply_buf(req, "0123456789", 10);
}

/* Reached only by arguments the dispatcher let through. */
static void be_setattr(struct uvfs_req *req, uint64_t ino,
		       const struct stat *attr, uint32_t to_set,
		       struct uvfs_file_info *fi)
{
	(void)ino, (void)attr, (void)to_set, (void)fi;
	rec.calls++;
	uvfs_reply_err(req, -EPERM);
}

static void be_lseek(struct uvfs_req *req, uint64_t ino, off_t off,
		     int whence, struct uvfs_file_info *fi)
{
	(void)ino, (void)off, (void)whence, (void)fi;
	rec.calls++;
	uvfs_reply_err(req, -EPERM);
}

static const struct uvfs_ops be_ops = {
	.setattr = be_setattr,
	.lseek = be_lseek,
	.lookup = be_lookup,
	.rename = be_rename,
	.symlink = be_symlink,
	.mknod = be_mknod,
	.forget = be_forget,
	.read = be_read,
	.getxattr = be_getxattr,
};

static const struct uvfs_backend be = {
	.api_version = UVFS_BACKEND_API_VERSION,
	.ops_size = sizeof(struct uvfs_ops),
	.name = "recorder",
	.ops = &be_ops,
};

static struct uvfs_session *se;

static void setup(void)
{
	char err[128];

	memset(&fake, 0, sizeof(fake));
	memset(&rec, 0, sizeof(rec));
	se = uvfs_session_new(&be, NULL);
	ck_assert_ptr_nonnull(se);
	se->tp = &fake_tp;
	ck_assert_int_eq(uvfs_session_mount(se, "none", err, sizeof(err)), 0);
}

static void teardown(void)
{
	uvfs_session_free(se);
}

/* Send opcode with args; return the reply's error. */
static int send(uint32_t opcode, uint64_t node, const void *args, size_t len,
		uint32_t reply_max)
{
	struct uvfs_in_header in = { 0 };
	struct uvfs_req *req = malloc(sizeof(*req));

	in.len = (uint32_t)(sizeof(in) + len);
	in.opcode = opcode;
	in.unique = 1000 + (uint64_t)fake.nreplies;
	in.nodeid = node;
	uvfs_req_init(req, se, &in, reply_max, NULL);
	uvfs_dispatch(req, args, len);
	return fake.out.error;
}

START_TEST(test_lookup_decoded)
{
	ck_assert_int_eq(send(UVFS_OP_LOOKUP, 5, "file", 5, 4096), 0);
	ck_assert_str_eq(rec.name, "file");
	ck_assert_uint_eq(rec.a, 5);
	ck_assert_uint_eq(fake.len, sizeof(struct uvfs_entry_out));
	ck_assert_uint_eq(((struct uvfs_entry_out *)fake.payload)->nodeid, 7);
	ck_assert_uint_eq(
		((struct uvfs_entry_out *)fake.payload)->entry_valid_ns,
		2000000000u);
	ck_assert_uint_eq(fake.out.unique, 1000);
	ck_assert_int_eq(send(UVFS_OP_LOOKUP, 5, "missing", 8, 4096), -ENOENT);
	ck_assert_uint_eq(fake.len, 0);
	ck_assert_uint_eq(uvfs_session_op_calls(se, UVFS_OP_LOOKUP), 2);
	ck_assert_uint_eq(atomic_load(&se->stats[UVFS_OP_LOOKUP].errors), 1);
}
END_TEST

/* A negative entry: node id 0, the timeout; no timeout is plain ENOENT. */
START_TEST(test_lookup_negative)
{
	const struct uvfs_entry_out *o;

	ck_assert_int_eq(send(UVFS_OP_LOOKUP, 5, "absent", 7, 4096), 0);
	ck_assert_uint_eq(fake.len, sizeof(struct uvfs_entry_out));
	o = (const struct uvfs_entry_out *)fake.payload;
	ck_assert_uint_eq(o->nodeid, 0);
	ck_assert_uint_eq(o->entry_valid_ns, 5000000000u);
	ck_assert_int_eq(send(UVFS_OP_LOOKUP, 5, "absent-0", 9, 4096),
			 -ENOENT);
	ck_assert_uint_eq(fake.len, 0);
}
END_TEST

START_TEST(test_malformed_names)
{
	char longname[300];

	/* no NUL */
	ck_assert_int_eq(send(UVFS_OP_LOOKUP, 1, "abc", 3, 4096), -EINVAL);
	/* empty name */
	ck_assert_int_eq(send(UVFS_OP_LOOKUP, 1, "", 1, 4096), -EINVAL);
	/* slash in a component */
	ck_assert_int_eq(send(UVFS_OP_LOOKUP, 1, "a/b", 4, 4096), -EINVAL);
	/* 256 bytes */
	memset(longname, 'x', 256);
	longname[256] = '\0';
	ck_assert_int_eq(send(UVFS_OP_LOOKUP, 1, longname, 257, 4096),
			 -ENAMETOOLONG);
	/* 255 is fine */
	longname[255] = '\0';
	ck_assert_int_eq(send(UVFS_OP_LOOKUP, 1, longname, 256, 4096), 0);
	ck_assert_uint_eq(strlen(rec.name), 255);
	/* the backend never saw the bad ones */
	ck_assert_int_eq(fake.nreplies, 5);
}
END_TEST

START_TEST(test_short_args)
{
	struct uvfs_rename_in ri = { 0 };
	int n;

	ck_assert_int_eq(send(UVFS_OP_RENAME, 1, &ri, sizeof(ri) - 1, 0),
			 -EINVAL);
	ck_assert_int_eq(send(UVFS_OP_READ, 1, &ri, 3, 0), -EINVAL);
	n = fake.nreplies;
	send(UVFS_OP_FORGET, 0, NULL, 0, 0);	/* dropped, no reply */
	ck_assert_int_eq(fake.nreplies, n);
}
END_TEST

/* Values no kernel sends are refused before the backend sees them. */
START_TEST(test_bad_values)
{
	struct uvfs_setattr_in sa = { .valid = UVFS_SET_CTIME,
				      .ctimensec = 1000000000u };
	struct uvfs_lseek_in ls = { .offset = (uint64_t)-1,
				    .whence = SEEK_DATA };

	ck_assert_int_eq(send(UVFS_OP_SETATTR, 1, &sa, sizeof(sa), 0),
			 -EINVAL);
	sa.valid = UVFS_SET_SIZE;
	sa.size = (uint64_t)-1;
	ck_assert_int_eq(send(UVFS_OP_SETATTR, 1, &sa, sizeof(sa), 0),
			 -EINVAL);
	ck_assert_int_eq(send(UVFS_OP_LSEEK, 1, &ls, sizeof(ls), 0), -ENXIO);
	ls.offset = 0;
	ls.whence = SEEK_END;
	ck_assert_int_eq(send(UVFS_OP_LSEEK, 1, &ls, sizeof(ls), 0), -EINVAL);
	ck_assert_int_eq(rec.calls, 0);
	/* and good ones get through */
	sa.valid = UVFS_SET_CTIME;
	sa.ctimensec = 999999999u;
	ck_assert_int_eq(send(UVFS_OP_SETATTR, 1, &sa, sizeof(sa), 0),
			 -EPERM);
	ls.whence = SEEK_HOLE;
	ck_assert_int_eq(send(UVFS_OP_LSEEK, 1, &ls, sizeof(ls), 0), -EPERM);
	ck_assert_int_eq(rec.calls, 2);
}
END_TEST

START_TEST(test_rename_args)
{
	char buf[64];
	struct uvfs_rename_in *ri = (void *)buf;
	size_t len = sizeof(*ri);

	memset(buf, 0, sizeof(buf));
	ri->newdir = 9;
	ri->flags = UVFS_RENAME_EXCHANGE;
	memcpy(buf + len, "old\0new", 8);
	len += 8;
	ck_assert_int_eq(send(UVFS_OP_RENAME, 3, buf, len, 0), 0);
	ck_assert_str_eq(rec.name, "old");
	ck_assert_str_eq(rec.name2, "new");
	ck_assert_uint_eq(rec.a, 3);
	ck_assert_uint_eq(rec.b, 9);
	ck_assert_uint_eq(rec.flags, UVFS_RENAME_EXCHANGE);
	/* both flags, or unknown flags: refused before the backend */
	rec.flags = 0;
	ri->flags = UVFS_RENAME_EXCHANGE | UVFS_RENAME_NOREPLACE;
	ck_assert_int_eq(send(UVFS_OP_RENAME, 3, buf, len, 0), -EINVAL);
	ri->flags = 1u << 7;
	ck_assert_int_eq(send(UVFS_OP_RENAME, 3, buf, len, 0), -EINVAL);
	ck_assert_uint_eq(rec.flags, 0);
	/* second name missing */
	ri->flags = 0;
	ck_assert_int_eq(send(UVFS_OP_RENAME, 3, buf, sizeof(*ri) + 4, 0),
			 -EINVAL);
}
END_TEST

START_TEST(test_symlink_target_may_have_slash)
{
	ck_assert_int_eq(send(UVFS_OP_SYMLINK, 1, "ln\0/a/b/c", 10, 0), -EPERM);
	ck_assert_str_eq(rec.name, "ln");
	ck_assert_str_eq(rec.name2, "/a/b/c");
}
END_TEST

START_TEST(test_mknod_rdev)
{
	char buf[32];
	struct uvfs_mknod_in *mi = (void *)buf;

	mi->mode = S_IFBLK | 0600;
	/* new_encode_dev(MKDEV(259, 70000)) */
	mi->rdev = (70000 & 0xff) | (259 << 8) | ((70000 & ~0xffu) << 12);
	memcpy(buf + sizeof(*mi), "dev", 4);
	ck_assert_int_eq(send(UVFS_OP_MKNOD, 1, buf, sizeof(*mi) + 4, 0),
			 -EROFS);
	ck_assert_uint_eq(major(rec.rdev), 259);
	ck_assert_uint_eq(minor(rec.rdev), 70000);
	ck_assert_uint_eq(rec.mode, S_IFBLK | 0600);
}
END_TEST

START_TEST(test_missing_ops)
{
	struct uvfs_open_in oi = { O_RDONLY, 0 };
	struct uvfs_flush_in fl = { 0 };
	char buf[32] = { 0 };

	/* no unlink op: ENOSYS */
	ck_assert_int_eq(send(UVFS_OP_UNLINK, 1, "x", 2, 0), -ENOSYS);
	/* no open op: succeeds with fh 0 */
	ck_assert_int_eq(send(UVFS_OP_OPEN, 2, &oi, sizeof(oi), 64), 0);
	ck_assert_uint_eq(fake.len, sizeof(struct uvfs_open_out));
	/* no flush op: ENOSYS, i.e. "nothing to do on close" */
	ck_assert_int_eq(send(UVFS_OP_FLUSH, 2, &fl, sizeof(fl), 0), -ENOSYS);
	/* statfs default */
	ck_assert_int_eq(send(UVFS_OP_STATFS, 1, NULL, 0, 64), 0);
	ck_assert_uint_eq(((struct uvfs_statfs_out *)fake.payload)->namelen,
			  255);
	/* unknown opcodes, and block ops on a vnode session */
	ck_assert_int_eq(send(0, 1, NULL, 0, 0), -ENOSYS);
	ck_assert_int_eq(send(50, 1, NULL, 0, 0), -ENOSYS);
	ck_assert_int_eq(send(UVFS_OP_BLK_READ, 0, buf, 16, 0), -ENOSYS);
	ck_assert_int_eq(send(0xffffffffu, 1, NULL, 0, 0), -ENOSYS);
}
END_TEST

START_TEST(test_reply_checks)
{
	struct uvfs_read_in ri = { 0 };
	struct uvfs_getxattr_in gi = { 0 };
	char buf[64];

	/* errno out of range becomes EIO */
	ck_assert_int_eq(send(UVFS_OP_LOOKUP, 1, "bad-errno", 10, 4096), -EIO);
	/* more data than asked: EIO */
	ri.size = 100;
	ri.offset = 1;
	ck_assert_int_eq(send(UVFS_OP_READ, 2, &ri, sizeof(ri), 4096), -EIO);
	ri.offset = 0;
	ck_assert_int_eq(send(UVFS_OP_READ, 2, &ri, sizeof(ri), 4096), 0);
	ck_assert_uint_eq(fake.len, 100);
	/* the transport's limit also caps the request's size */
	ri.size = 4096;
	ck_assert_int_eq(send(UVFS_OP_READ, 2, &ri, sizeof(ri), 50), 0);
	ck_assert_uint_eq(fake.len, 50);
	/* xattr: size query, then a too-small buffer -> ERANGE */
	memcpy(buf, &gi, sizeof(gi));
	memcpy(buf + sizeof(gi), "user.a", 7);
	ck_assert_int_eq(send(UVFS_OP_GETXATTR, 2, buf, sizeof(gi) + 7, 4096),
			 0);
	ck_assert_uint_eq(((struct uvfs_getxattr_out *)fake.payload)->size, 10);
	gi.size = 5;
	memcpy(buf, &gi, sizeof(gi));
	ck_assert_int_eq(send(UVFS_OP_GETXATTR, 2, buf, sizeof(gi) + 7, 4096),
			 -ERANGE);
}
END_TEST

START_TEST(test_reply_once)
{
	struct uvfs_in_header in = { 0 };
	struct uvfs_req req;

	in.opcode = UVFS_OP_LOOKUP;
	in.unique = 77;
	uvfs_req_init(&req, se, &in, 0, NULL);
	req.replied = true;	/* as if answered already */
	ck_assert_int_eq(uvfs_reply_err(&req, -ENOENT), -EALREADY);
	ck_assert_int_eq(fake.nreplies, 0);
}
END_TEST

START_TEST(test_forget_batch)
{
	struct {
		struct uvfs_forget_in in;
		struct uvfs_forget_one one[3];
	} f = { { 3, 0 }, { { 10, 1 }, { 20, 2 }, { 30, 3 } } };

	send(UVFS_OP_FORGET, 0, &f, sizeof(f), 0);
	ck_assert_int_eq(rec.forgets, 3);
	ck_assert_uint_eq(rec.forgotten, 10 + 40 + 90);
	ck_assert_int_eq(fake.nreplies, 0);	/* forget has no reply */
	ck_assert_int_eq(fake.nfreed, 1);
	/* count larger than the payload: dropped, still without a reply */
	f.in.count = 4;
	send(UVFS_OP_FORGET, 0, &f, sizeof(f), 0);
	ck_assert_int_eq(rec.forgets, 3);
	ck_assert_int_eq(fake.nreplies, 0);
	ck_assert_int_eq(fake.nfreed, 2);
}
END_TEST

START_TEST(test_init_negotiation)
{
	struct uvfs_init_in ii = { UVFS_PROTO_MAJOR, 99, 65536, 0xffffffffu };
	const struct uvfs_init_out *io = (const void *)fake.payload;

	ck_assert_int_eq(send(UVFS_OP_INIT, 0, &ii, sizeof(ii), 4096), 0);
	ck_assert_uint_eq(io->major, UVFS_PROTO_MAJOR);
	ck_assert_uint_eq(io->minor, UVFS_PROTO_MINOR);
	ck_assert_uint_eq(io->max_write, 65536);
	ck_assert_uint_eq(io->subtype_len, 8);
	ck_assert_int_eq(memcmp(fake.payload + sizeof(*io), "recorder", 8), 0);
	/* the recorder has no readdirplus: not offered */
	ck_assert_uint_eq(io->flags & UVFS_INIT_READDIRPLUS, 0);
	/* writeback by default; no size limit */
	ck_assert_uint_ne(io->flags & UVFS_INIT_WRITEBACK, 0);
	ck_assert_uint_eq(io->max_filesize, 0);
	ii.major = UVFS_PROTO_MAJOR + 1;
	ck_assert_int_eq(send(UVFS_OP_INIT, 0, &ii, sizeof(ii), 4096),
			 -EPROTO);
}
END_TEST

START_TEST(test_init_nowriteback)
{
	struct uvfs_init_in ii = { UVFS_PROTO_MAJOR, 99, 65536, 0xffffffffu };
	const struct uvfs_init_out *io = (const void *)fake.payload;

	se->opts.nowriteback = 1;	/* uvfsd -o nowriteback */
	ck_assert_int_eq(send(UVFS_OP_INIT, 0, &ii, sizeof(ii), 4096), 0);
	ck_assert_uint_eq(io->flags & UVFS_INIT_WRITEBACK, 0);
	ck_assert_uint_ne(io->flags & UVFS_INIT_RENAME_FLAGS, 0);
}
END_TEST

START_TEST(test_not_mounted)
{
	uvfs_session_unmount(se);
	ck_assert_int_eq(send(UVFS_OP_LOOKUP, 1, "file", 5, 4096), -ENOTCONN);
}
END_TEST

/* Waits until the backend has parked a request, then answers it. */
static void *reply_later(void *arg)
{
	struct uvfs_req *req;

	(void)arg;
	while (!(req = __atomic_load_n(&rec.held, __ATOMIC_ACQUIRE)))
		usleep(1000);
	usleep(20000);	/* the caller is blocked in uvfs_direct_call now */
	uvfs_reply_err(req, -EAGAIN);
	return NULL;
}

START_TEST(test_async_reply)
{
	struct uvfs_direct *d = uvfs_direct_new(se);
	struct uvfs_in_header in = { 0 };
	struct iovec iov = { "later", 6 };
	char reply[256];
	size_t len = 99;
	pthread_t t;

	in.opcode = UVFS_OP_LOOKUP;
	in.nodeid = 1;
	ck_assert_int_eq(pthread_create(&t, NULL, reply_later, NULL), 0);
	ck_assert_int_eq(uvfs_direct_call(d, &in, &iov, 1, reply,
					  sizeof(reply), &len), -EAGAIN);
	ck_assert_uint_eq(len, 0);
	pthread_join(t, NULL);
	uvfs_direct_free(d);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("dispatch");
	TCase *tc = tcase_create("dispatch");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_lookup_decoded);
	tcase_add_test(tc, test_lookup_negative);
	tcase_add_test(tc, test_malformed_names);
	tcase_add_test(tc, test_short_args);
	tcase_add_test(tc, test_bad_values);
	tcase_add_test(tc, test_rename_args);
	tcase_add_test(tc, test_symlink_target_may_have_slash);
	tcase_add_test(tc, test_mknod_rdev);
	tcase_add_test(tc, test_missing_ops);
	tcase_add_test(tc, test_reply_checks);
	tcase_add_test(tc, test_reply_once);
	tcase_add_test(tc, test_forget_batch);
	tcase_add_test(tc, test_init_negotiation);
	tcase_add_test(tc, test_init_nowriteback);
	tcase_add_test(tc, test_not_mounted);
	tcase_add_test(tc, test_async_reply);
	suite_add_tcase(s, tc);
	return check_run(s);
}
