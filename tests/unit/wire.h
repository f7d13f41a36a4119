/* SPDX-License-Identifier: MIT */
/*
 * A small typed client for unit tests: builds wire requests, sends them to
 * a backend over the direct transport and decodes the replies, checking
 * their sizes with Check assertions.
 *
 * There is one session at a time (wire_start .. wire_stop).  The last reply
 * stays in wire_reply/wire_rlen for the test to look at, and the last entry
 * reply (lookup, create, mkdir...) in wire_entry.  Requests carry the
 * credentials in wire_uid/wire_gid (root after wire_start).
 *
 * Functions returning int64_t give a node id, a size or an offset on
 * success and a negative errno on failure.
 */
#ifndef UVFS_TESTS_WIRE_H
#define UVFS_TESTS_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "uvfs/libuvfs.h"

#define WIRE_REPLY_MAX (256 * 1024)

extern char wire_reply[WIRE_REPLY_MAX];
extern size_t wire_rlen;
extern struct uvfs_entry_out wire_entry;
extern uint32_t wire_uid, wire_gid;

/* ---- the session ---- */

/*
 * Load backend, mount source with so (may be NULL) and attach the direct
 * transport: 0, or mount's -errno with its reason in err (nothing left
 * open).  A backend that fails to load is a test failure.
 */
int wire_start(const char *backend, const struct uvfs_session_opts *so,
	       const char *source, char *err, size_t errlen);
/* Unmount and free what wire_start made. */
void wire_stop(void);

/* ---- raw requests ---- */

/* One request; at most replymax reply bytes land in wire_reply. */
int wire_call(uint32_t op, uint64_t nodeid, const void *arg, size_t arglen,
	      const char *s1, const char *s2, const void *data, size_t dlen,
	      size_t replymax);

/* A request with one fixed argument struct, or with names only. */
#define WIRE_CALL(op, node, arg, s1, s2)                                     \
	wire_call(op, node, &(arg), sizeof(arg), s1, s2, NULL, 0,             \
		  WIRE_REPLY_MAX)
#define WIRE_CALL0(op, node, s1, s2)                                         \
	wire_call(op, node, NULL, 0, s1, s2, NULL, 0, WIRE_REPLY_MAX)

/* ---- names ---- */

/* The node id of an entry reply (kept in wire_entry), or err. */
int64_t wire_entry_result(int err);
int64_t wire_lookup(uint64_t parent, const char *name);
int64_t wire_mkdir(uint64_t parent, const char *name, uint32_t mode);
int64_t wire_mknod(uint64_t parent, const char *name, uint32_t mode,
		   uint32_t rdev);
int64_t wire_symlink(uint64_t parent, const char *name, const char *target);
int64_t wire_link(uint64_t ino, uint64_t parent, const char *name);
/* create, then release: a closed file with one lookup reference */
int64_t wire_create(uint64_t parent, const char *name, uint32_t mode);
/* create, left open (O_RDWR): release it with wire_release */
int64_t wire_create_open(uint64_t parent, const char *name, uint32_t mode);
int wire_release(uint64_t ino);
int wire_unlink(uint64_t parent, const char *name);
int wire_rmdir(uint64_t parent, const char *name);
int wire_rename(uint64_t parent, const char *name, uint64_t newparent,
		const char *newname, uint32_t flags);
/* FORGET of n lookups (asserted to succeed) */
void wire_forget(uint64_t ino, uint64_t n);

/* ---- attributes ---- */

/* GETATTR that must succeed */
struct uvfs_attr wire_getattr(uint64_t ino);
int wire_getattr_err(uint64_t ino);
int wire_setattr(uint64_t ino, struct uvfs_setattr_in *in);
int wire_truncate(uint64_t ino, uint64_t size);
struct uvfs_statfs_out wire_statfs(void);

/* ---- data ---- */

/* Bytes written. */
int64_t wire_write(uint64_t ino, uint64_t off, const void *buf, size_t len);
/* Bytes read into wire_reply. */
int64_t wire_read(uint64_t ino, uint64_t off, size_t len);
int64_t wire_lseek(uint64_t ino, uint64_t off, uint32_t whence);
int wire_fallocate(uint64_t ino, uint32_t mode, uint64_t off, uint64_t len);

/* ---- xattrs ---- */

int wire_setxattr(uint64_t ino, const char *name, const void *val,
		  size_t size, uint32_t flags);
/* name NULL: LISTXATTR.  size 0: the size needed, else the bytes in
 * wire_reply. */
int64_t wire_getxattr(uint64_t ino, const char *name, uint32_t size);
int wire_removexattr(uint64_t ino, const char *name);

/* ---- directories ---- */

/* One record of a listing; e is NULL for READDIR (no PLUS). */
typedef void (*wire_dirent_fn)(const struct uvfs_dirent *de,
			       const struct uvfs_entry_out *e, void *arg);

/*
 * One READDIR(PLUS) of at most size bytes from cookie off: fn for each
 * record.  The number of records, or the error.  Asserts that the records
 * fill the reply exactly and that readdirplus entries match their dirent.
 */
int wire_readdir(uint64_t dir, uint64_t off, size_t size, bool plus,
		 wire_dirent_fn fn, void *arg);

#endif /* UVFS_TESTS_WIRE_H */
