// SPDX-License-Identifier: MIT
/*
 * A small typed client for unit tests over the direct transport; see
 * wire.h.  Shared by the backend tests so that each test file holds only
 * its tests.
 */
#include <errno.h>
#include <check.h>
#include <fcntl.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "wire.h"

char wire_reply[WIRE_REPLY_MAX];
size_t wire_rlen;
struct uvfs_entry_out wire_entry;
uint32_t wire_uid, wire_gid;

static void *handle;
static struct uvfs_session *se;
static struct uvfs_direct *d;

/* ------------------------------------------------------------------------
 * The session
 */

int wire_start(const char *backend, const struct uvfs_session_opts *so,
	       const char *source, char *err, size_t errlen)
{
	struct uvfs_session_opts none = { 0 };
	const struct uvfs_backend *be;
	int rc;

	be = uvfs_backend_load(backend, &handle, err, errlen);
	ck_assert_msg(be != NULL, "%s", err);
	se = uvfs_session_new(be, so ? so : &none);
	ck_assert_ptr_nonnull(se);
	err[0] = '\0';
	rc = uvfs_session_mount(se, source, err, errlen);
	if (rc) {
		uvfs_session_free(se);
		uvfs_backend_unload(handle);
		se = NULL;
		return rc;
	}
	d = uvfs_direct_new(se);
	ck_assert_ptr_nonnull(d);
	wire_uid = wire_gid = 0;
	return 0;
}

void wire_stop(void)
{
	uvfs_session_unmount(se);
	uvfs_direct_free(d);
	uvfs_session_free(se);
	uvfs_backend_unload(handle);
	se = NULL;
	d = NULL;
}

/* ------------------------------------------------------------------------
 * Raw requests
 */

int wire_call(uint32_t op, uint64_t nodeid, const void *arg, size_t arglen,
	      const char *s1, const char *s2, const void *data, size_t dlen,
	      size_t replymax)
{
	struct uvfs_in_header in = { 0 };
	struct iovec iov[4];
	int n = 0;

	in.opcode = op;
	in.nodeid = nodeid;
	in.uid = wire_uid;
	in.gid = wire_gid;
	in.pid = (uint32_t)getpid();
	if (arglen)
		iov[n++] = (struct iovec){ (void *)arg, arglen };
	if (s1)
		iov[n++] = (struct iovec){ (void *)s1, strlen(s1) + 1 };
	if (s2)
		iov[n++] = (struct iovec){ (void *)s2, strlen(s2) + 1 };
	if (dlen)
		iov[n++] = (struct iovec){ (void *)data, dlen };
	wire_rlen = 0;
	return uvfs_direct_call(d, &in, iov, n, wire_reply, replymax,
				&wire_rlen);
}

/* Copy a fixed-size reply out, checking its size. */
static void reply_out(void *out, size_t size)
{
	ck_assert_uint_eq(wire_rlen, size);
	memcpy(out, wire_reply, size);
}

/* ------------------------------------------------------------------------
 * Names
 */

int64_t wire_entry_result(int err)
{
	if (err)
		return err;
	ck_assert_uint_ge(wire_rlen, sizeof(wire_entry));
	memcpy(&wire_entry, wire_reply, sizeof(wire_entry));
	if (!wire_entry.nodeid) {
		/* a negative entry: the name is absent, cacheable a while */
		ck_assert_uint_gt(wire_entry.entry_valid_ns, 0);
		return -ENOENT;
	}
	ck_assert_uint_eq(wire_entry.attr.ino, wire_entry.nodeid);
	return (int64_t)wire_entry.nodeid;
}

int64_t wire_lookup(uint64_t parent, const char *name)
{
	return wire_entry_result(WIRE_CALL0(UVFS_OP_LOOKUP, parent, name,
					    NULL));
}

int64_t wire_mkdir(uint64_t parent, const char *name, uint32_t mode)
{
	struct uvfs_mkdir_in in = { .mode = mode };

	return wire_entry_result(WIRE_CALL(UVFS_OP_MKDIR, parent, in, name,
					   NULL));
}

int64_t wire_mknod(uint64_t parent, const char *name, uint32_t mode,
		   uint32_t rdev)
{
	struct uvfs_mknod_in in = { .mode = mode, .rdev = rdev };

	return wire_entry_result(WIRE_CALL(UVFS_OP_MKNOD, parent, in, name,
					   NULL));
}

int64_t wire_symlink(uint64_t parent, const char *name, const char *target)
{
	return wire_entry_result(WIRE_CALL0(UVFS_OP_SYMLINK, parent, name,
					    target));
}

int64_t wire_link(uint64_t ino, uint64_t parent, const char *name)
{
	struct uvfs_link_in in = { .oldnodeid = ino };

	return wire_entry_result(WIRE_CALL(UVFS_OP_LINK, parent, in, name,
					   NULL));
}

int64_t wire_create_open(uint64_t parent, const char *name, uint32_t mode)
{
	struct uvfs_create_in in = { .flags = O_RDWR | O_CREAT, .mode = mode };
	int64_t ino;

	ino = wire_entry_result(WIRE_CALL(UVFS_OP_CREATE, parent, in, name,
					  NULL));
	if (ino > 0)
		ck_assert_uint_eq(wire_rlen, sizeof(struct uvfs_create_out));
	return ino;
}

int64_t wire_create(uint64_t parent, const char *name, uint32_t mode)
{
	int64_t ino = wire_create_open(parent, name, mode);

	if (ino > 0)
		ck_assert_int_eq(wire_release((uint64_t)ino), 0);
	return ino;
}

int wire_release(uint64_t ino)
{
	struct uvfs_release_in rel = { 0 };

	return WIRE_CALL(UVFS_OP_RELEASE, ino, rel, NULL, NULL);
}

int wire_unlink(uint64_t parent, const char *name)
{
	return WIRE_CALL0(UVFS_OP_UNLINK, parent, name, NULL);
}

int wire_rmdir(uint64_t parent, const char *name)
{
	return WIRE_CALL0(UVFS_OP_RMDIR, parent, name, NULL);
}

int wire_rename(uint64_t parent, const char *name, uint64_t newparent,
		const char *newname, uint32_t flags)
{
	struct uvfs_rename_in in = { .newdir = newparent, .flags = flags };

	return WIRE_CALL(UVFS_OP_RENAME, parent, in, name, newname);
}

void wire_forget(uint64_t ino, uint64_t n)
{
	struct {
		struct uvfs_forget_in in;
		struct uvfs_forget_one one;
	} f = { { 1, 0 }, { ino, n } };

	ck_assert_int_eq(WIRE_CALL(UVFS_OP_FORGET, 0, f, NULL, NULL), 0);
}

/* ------------------------------------------------------------------------
 * Attributes
 */

struct uvfs_attr wire_getattr(uint64_t ino)
{
	struct uvfs_attr_out out;

	ck_assert_int_eq(wire_getattr_err(ino), 0);
	reply_out(&out, sizeof(out));
	ck_assert_uint_eq(out.attr.ino, ino);
	return out.attr;
}

int wire_getattr_err(uint64_t ino)
{
	struct uvfs_getattr_in in = { 0 };

	return WIRE_CALL(UVFS_OP_GETATTR, ino, in, NULL, NULL);
}

int wire_setattr(uint64_t ino, struct uvfs_setattr_in *in)
{
	return wire_call(UVFS_OP_SETATTR, ino, in, sizeof(*in), NULL, NULL,
			 NULL, 0, WIRE_REPLY_MAX);
}

int wire_truncate(uint64_t ino, uint64_t size)
{
	struct uvfs_setattr_in in = { .valid = UVFS_SET_SIZE, .size = size };

	return wire_setattr(ino, &in);
}

struct uvfs_statfs_out wire_statfs(void)
{
	struct uvfs_statfs_out out;

	ck_assert_int_eq(WIRE_CALL0(UVFS_OP_STATFS, UVFS_ROOT_ID, NULL, NULL),
			 0);
	reply_out(&out, sizeof(out));
	return out;
}

/* ------------------------------------------------------------------------
 * Data
 */

int64_t wire_write(uint64_t ino, uint64_t off, const void *buf, size_t len)
{
	struct uvfs_write_in in = { .offset = off, .size = (uint32_t)len };
	struct uvfs_write_out out;
	int err;

	err = wire_call(UVFS_OP_WRITE, ino, &in, sizeof(in), NULL, NULL, buf,
			len, WIRE_REPLY_MAX);
	if (err)
		return err;
	reply_out(&out, sizeof(out));
	return out.size;
}

int64_t wire_read(uint64_t ino, uint64_t off, size_t len)
{
	struct uvfs_read_in in = { .offset = off, .size = (uint32_t)len };
	int err = WIRE_CALL(UVFS_OP_READ, ino, in, NULL, NULL);

	return err ? err : (int64_t)wire_rlen;
}

int64_t wire_lseek(uint64_t ino, uint64_t off, uint32_t whence)
{
	struct uvfs_lseek_in in = { .offset = off, .whence = whence };
	struct uvfs_lseek_out out;
	int err = WIRE_CALL(UVFS_OP_LSEEK, ino, in, NULL, NULL);

	if (err)
		return err;
	reply_out(&out, sizeof(out));
	return (int64_t)out.offset;
}

int wire_fallocate(uint64_t ino, uint32_t mode, uint64_t off, uint64_t len)
{
	struct uvfs_fallocate_in in = { .offset = off, .length = len,
					.mode = mode };

	return WIRE_CALL(UVFS_OP_FALLOCATE, ino, in, NULL, NULL);
}

/* ------------------------------------------------------------------------
 * Xattrs
 */

int wire_setxattr(uint64_t ino, const char *name, const void *val,
		  size_t size, uint32_t flags)
{
	struct uvfs_setxattr_in in = { .size = (uint32_t)size,
				       .flags = flags };

	return wire_call(UVFS_OP_SETXATTR, ino, &in, sizeof(in), name, NULL,
			 val, size, WIRE_REPLY_MAX);
}

int64_t wire_getxattr(uint64_t ino, const char *name, uint32_t size)
{
	struct uvfs_getxattr_in in = { .size = size };
	struct uvfs_getxattr_out out;
	int err;

	if (name)
		err = WIRE_CALL(UVFS_OP_GETXATTR, ino, in, name, NULL);
	else
		err = WIRE_CALL(UVFS_OP_LISTXATTR, ino, in, NULL, NULL);
	if (err)
		return err;
	if (size)
		return (int64_t)wire_rlen;
	reply_out(&out, sizeof(out));
	return out.size;
}

int wire_removexattr(uint64_t ino, const char *name)
{
	return WIRE_CALL0(UVFS_OP_REMOVEXATTR, ino, name, NULL);
}

/* ------------------------------------------------------------------------
 * Directories
 */

/* The record at pos of a listing: its dirent, entry (plus) and size. */
static size_t dirent_at(size_t pos, bool plus, const struct uvfs_dirent **de,
			const struct uvfs_entry_out **e)
{
	if (plus) {
		const struct uvfs_direntplus *dp =
			(const void *)(wire_reply + pos);

		*de = &dp->dirent;
		*e = &dp->entry;
		ck_assert_uint_eq(dp->entry.nodeid, (*de)->ino);
		return UVFS_DIRENTPLUS_SIZE((*de)->namelen);
	}
	*de = (const void *)(wire_reply + pos);
	*e = NULL;
	return UVFS_DIRENT_SIZE((*de)->namelen);
}

int wire_readdir(uint64_t dir, uint64_t off, size_t size, bool plus,
		 wire_dirent_fn fn, void *arg)
{
	struct uvfs_read_in in = { .offset = off, .size = (uint32_t)size };
	size_t pos = 0;
	int err, n = 0;

	err = WIRE_CALL(plus ? UVFS_OP_READDIRPLUS : UVFS_OP_READDIR, dir, in,
			NULL, NULL);
	if (err)
		return err;
	ck_assert_uint_le(wire_rlen, size);
	while (pos < wire_rlen) {
		const struct uvfs_dirent *de;
		const struct uvfs_entry_out *e;

		pos += dirent_at(pos, plus, &de, &e);
		fn(de, e, arg);
		n++;
	}
	ck_assert_uint_eq(pos, wire_rlen);
	return n;
}
