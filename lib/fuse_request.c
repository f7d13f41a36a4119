// SPDX-License-Identifier: MIT
/*
 * The FUSE transport's requests: libfuse 3's low-level callbacks.
 *
 * Every fuse_lowlevel_ops callback turns its arguments into an uvfs wire
 * request (uvfs_in_header + argument bytes, exactly as the kernel module
 * would send them) and hands it to uvfs_dispatch(), so FUSE mounts go through
 * the same decoder, checks, tracing and statistics as every other transport.
 * The reply comes back through fuse_reply.c.  INIT is the exception: it has
 * no fuse_req_t, so it is answered synchronously into its fuse_ureq and
 * applied to the connection here.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "fuse_i.h"

#define FUSE_MAX_WRITE_WANTED (1024u * 1024u)

static struct fuse_ureq *ureq_new(struct uvfs_fuse *f, fuse_req_t freq,
				  size_t arglen)
{
	struct fuse_ureq *u = malloc(sizeof(*u) + arglen);

	if (!u)
		return NULL;
	memset(u, 0, sizeof(*u));
	u->f = f;
	u->freq = freq;
	u->arglen = arglen;
	return u;
}

static void put(struct fuse_ureq *u, const void *p, size_t n)
{
	if (n)
		memcpy(u->args + u->argused, p, n);
	u->argused += n;
}

static void put_str(struct fuse_ureq *u, const char *s)
{
	put(u, s, strlen(s) + 1);
}

/* Allocate a request for argsize fixed bytes, strings and extra payload. */
static struct fuse_ureq *alloc_req(fuse_req_t freq, size_t argsize,
				   const char *s1, const char *s2,
				   size_t extra)
{
	struct uvfs_fuse *f = fuse_req_userdata(freq);
	size_t len = argsize + extra;
	struct fuse_ureq *u;

	if (s1)
		len += strlen(s1) + 1;
	if (s2)
		len += strlen(s2) + 1;
	u = ureq_new(f, freq, len);
	if (!u)
		fuse_reply_err(freq, ENOMEM);
	return u;
}

/*
 * Fill in the header and dispatch.  u may be freed (replied) before this
 * returns: don't touch it afterwards.
 */
static void submit(struct fuse_ureq *u, uint32_t opcode, uint64_t nodeid,
		   uint32_t reply_max)
{
	struct uvfs_in_header in;

	memset(&in, 0, sizeof(in));
	in.len = (uint32_t)(sizeof(in) + u->argused);
	in.opcode = opcode;
	in.unique = atomic_fetch_add(&u->f->next_unique, 1);
	in.nodeid = nodeid;
	if (u->freq) {
		const struct fuse_ctx *ctx = fuse_req_ctx(u->freq);

		in.uid = (uint32_t)ctx->uid;
		in.gid = (uint32_t)ctx->gid;
		in.pid = (uint32_t)ctx->pid;
		in.umask = (uint32_t)ctx->umask;
	}
	uvfs_req_init(&u->req, u->f->se, &in, reply_max, u);
	uvfs_dispatch(&u->req, u->args, u->argused);
}

/* ---- fuse_lowlevel_ops ---- */

static void ll_init(void *userdata, struct fuse_conn_info *conn)
{
	struct uvfs_fuse *f = userdata;
	struct fuse_ureq *u = ureq_new(f, NULL, sizeof(struct uvfs_init_in));
	struct uvfs_init_in in;

	/* Correctness first: the kernel must not assume semantics the
	 * backend API does not promise. */
	conn->want &= ~(FUSE_CAP_ATOMIC_O_TRUNC | FUSE_CAP_EXPORT_SUPPORT |
			FUSE_CAP_WRITEBACK_CACHE | FUSE_CAP_SPLICE_READ |
			FUSE_CAP_SPLICE_WRITE | FUSE_CAP_SPLICE_MOVE |
			FUSE_CAP_HANDLE_KILLPRIV | FUSE_CAP_READDIRPLUS |
			FUSE_CAP_READDIRPLUS_AUTO | FUSE_CAP_POSIX_ACL |
			FUSE_CAP_DONT_MASK | FUSE_CAP_POSIX_LOCKS |
			FUSE_CAP_FLOCK_LOCKS);
	conn->max_write = FUSE_MAX_WRITE_WANTED;	/* libfuse clamps it */

	if (!u) {
		uvfs_log("uvfs: fuse: out of memory in INIT");
		return;
	}
	memset(&in, 0, sizeof(in));
	in.major = UVFS_PROTO_MAJOR;
	in.minor = UVFS_PROTO_MINOR;
	in.max_write = FUSE_MAX_WRITE_WANTED;
	in.flags = UVFS_INIT_RENAME_FLAGS;
	if (conn->capable & FUSE_CAP_READDIRPLUS)
		in.flags |= UVFS_INIT_READDIRPLUS;
	put(u, &in, sizeof(in));
	u->sync = true;
	submit(u, UVFS_OP_INIT, 0, 4096);
	if (u->sync_done && u->sync_err == 0) {
		if (u->init_out.flags & UVFS_INIT_READDIRPLUS)
			conn->want |= FUSE_CAP_READDIRPLUS;
		if (u->init_out.time_gran && u->init_out.time_gran <= 1000000000u)
			conn->time_gran = u->init_out.time_gran;
		if (u->init_out.max_write &&
		    u->init_out.max_write < conn->max_write)
			conn->max_write = u->init_out.max_write;
	} else {
		uvfs_log("uvfs: fuse: INIT failed (%d)", u->sync_err);
	}
	ureq_free(u);
}

static void ll_destroy(void *userdata)
{
	/* The daemon calls the backend's unmount() after the loop. */
	(void)userdata;
}

static void ll_lookup(fuse_req_t freq, fuse_ino_t parent, const char *name)
{
	struct fuse_ureq *u = alloc_req(freq, 0, name, NULL, 0);

	if (!u)
		return;
	put_str(u, name);
	submit(u, UVFS_OP_LOOKUP, parent, sizeof(struct uvfs_entry_out));
}

static void forget_many(fuse_req_t freq, size_t count,
			const struct uvfs_forget_one *one,
			const struct fuse_forget_data *many)
{
	struct uvfs_fuse *f = fuse_req_userdata(freq);
	struct uvfs_forget_in in = { 0 };
	struct fuse_ureq *u;
	size_t i;

	u = ureq_new(f, freq, sizeof(in) + count * sizeof(*one));
	if (!u) {
		fuse_reply_none(freq);
		return;
	}
	in.count = (uint32_t)count;
	put(u, &in, sizeof(in));
	if (one) {
		put(u, one, sizeof(*one));
	} else {
		for (i = 0; i < count; i++) {
			struct uvfs_forget_one o = { many[i].ino,
						     many[i].nlookup };

			put(u, &o, sizeof(o));
		}
	}
	submit(u, UVFS_OP_FORGET, one ? one->nodeid : 0, 0);
}

static void ll_forget(fuse_req_t freq, fuse_ino_t ino, uint64_t nlookup)
{
	struct uvfs_forget_one one = { ino, nlookup };

	forget_many(freq, 1, &one, NULL);
}

static void ll_forget_multi(fuse_req_t freq, size_t count,
			    struct fuse_forget_data *forgets)
{
	if (!count) {
		fuse_reply_none(freq);
		return;
	}
	forget_many(freq, count, NULL, forgets);
}

static void ll_getattr(fuse_req_t freq, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct fuse_ureq *u = alloc_req(freq, sizeof(struct uvfs_getattr_in),
					NULL, NULL, 0);
	struct uvfs_getattr_in in = { 0 };

	if (!u)
		return;
	if (fi) {
		in.fh = fi->fh;
		in.flags = UVFS_GETATTR_FH;
	}
	put(u, &in, sizeof(in));
	submit(u, UVFS_OP_GETATTR, ino, sizeof(struct uvfs_attr_out));
}

static void ll_setattr(fuse_req_t freq, fuse_ino_t ino, struct stat *attr,
		       int to_set, struct fuse_file_info *fi)
{
	struct fuse_ureq *u = alloc_req(freq, sizeof(struct uvfs_setattr_in),
					NULL, NULL, 0);
	struct uvfs_setattr_in in;
	uint32_t v = 0;

	if (!u)
		return;
	if (to_set & FUSE_SET_ATTR_MODE)
		v |= UVFS_SET_MODE;
	if (to_set & FUSE_SET_ATTR_UID)
		v |= UVFS_SET_UID;
	if (to_set & FUSE_SET_ATTR_GID)
		v |= UVFS_SET_GID;
	if (to_set & FUSE_SET_ATTR_SIZE)
		v |= UVFS_SET_SIZE;
	if (to_set & FUSE_SET_ATTR_ATIME)
		v |= UVFS_SET_ATIME;
	if (to_set & FUSE_SET_ATTR_MTIME)
		v |= UVFS_SET_MTIME;
	if (to_set & FUSE_SET_ATTR_ATIME_NOW)
		v |= UVFS_SET_ATIME_NOW;
	if (to_set & FUSE_SET_ATTR_MTIME_NOW)
		v |= UVFS_SET_MTIME_NOW;
	if (to_set & FUSE_SET_ATTR_CTIME)
		v |= UVFS_SET_CTIME;
	if (to_set & (FUSE_SET_ATTR_KILL_SUID | FUSE_SET_ATTR_KILL_SGID |
		      FUSE_SET_ATTR_KILL_PRIV))
		v |= UVFS_SET_KILL_SUID;

	memset(&in, 0, sizeof(in));
	if (fi) {
		v |= UVFS_SET_FH;
		in.fh = fi->fh;
	}
	in.valid = v;
	in.size = (uint64_t)attr->st_size;
	in.atime = attr->st_atim.tv_sec;
	in.atimensec = (uint32_t)attr->st_atim.tv_nsec;
	in.mtime = attr->st_mtim.tv_sec;
	in.mtimensec = (uint32_t)attr->st_mtim.tv_nsec;
	in.ctime = attr->st_ctim.tv_sec;
	in.ctimensec = (uint32_t)attr->st_ctim.tv_nsec;
	in.mode = attr->st_mode;
	in.uid = attr->st_uid;
	in.gid = attr->st_gid;
	put(u, &in, sizeof(in));
	submit(u, UVFS_OP_SETATTR, ino, sizeof(struct uvfs_attr_out));
}

static void ll_readlink(fuse_req_t freq, fuse_ino_t ino)
{
	struct fuse_ureq *u = alloc_req(freq, 0, NULL, NULL, 0);

	if (!u)
		return;
	submit(u, UVFS_OP_READLINK, ino, UVFS_SYMLINK_MAX);
}

static void ll_mknod(fuse_req_t freq, fuse_ino_t parent, const char *name,
		     mode_t mode, dev_t rdev)
{
	struct fuse_ureq *u = alloc_req(freq, sizeof(struct uvfs_mknod_in),
					name, NULL, 0);
	struct uvfs_mknod_in in;
	unsigned int ma = major(rdev), mi = minor(rdev);

	if (!u)
		return;
	in.mode = mode;
	in.rdev = (mi & 0xff) | ((ma & 0xfff) << 8) | ((mi & ~0xffu) << 12);
	put(u, &in, sizeof(in));
	put_str(u, name);
	submit(u, UVFS_OP_MKNOD, parent, sizeof(struct uvfs_entry_out));
}

static void ll_mkdir(fuse_req_t freq, fuse_ino_t parent, const char *name,
		     mode_t mode)
{
	struct fuse_ureq *u = alloc_req(freq, sizeof(struct uvfs_mkdir_in),
					name, NULL, 0);
	struct uvfs_mkdir_in in = { 0 };

	if (!u)
		return;
	in.mode = mode;
	put(u, &in, sizeof(in));
	put_str(u, name);
	submit(u, UVFS_OP_MKDIR, parent, sizeof(struct uvfs_entry_out));
}

static void name_op(fuse_req_t freq, uint32_t opcode, fuse_ino_t parent,
		    const char *name)
{
	struct fuse_ureq *u = alloc_req(freq, 0, name, NULL, 0);

	if (!u)
		return;
	put_str(u, name);
	submit(u, opcode, parent, 0);
}

static void ll_unlink(fuse_req_t freq, fuse_ino_t parent, const char *name)
{
	name_op(freq, UVFS_OP_UNLINK, parent, name);
}

static void ll_rmdir(fuse_req_t freq, fuse_ino_t parent, const char *name)
{
	name_op(freq, UVFS_OP_RMDIR, parent, name);
}

static void ll_symlink(fuse_req_t freq, const char *link, fuse_ino_t parent,
		       const char *name)
{
	struct fuse_ureq *u = alloc_req(freq, 0, name, link, 0);

	if (!u)
		return;
	put_str(u, name);
	put_str(u, link);
	submit(u, UVFS_OP_SYMLINK, parent, sizeof(struct uvfs_entry_out));
}

static void ll_rename(fuse_req_t freq, fuse_ino_t parent, const char *name,
		      fuse_ino_t newparent, const char *newname,
		      unsigned int flags)
{
	struct uvfs_rename_in in = { 0 };
	struct fuse_ureq *u;

	if (flags & ~(unsigned int)(RENAME_NOREPLACE | RENAME_EXCHANGE)) {
		fuse_reply_err(freq, EINVAL);
		return;
	}
	u = alloc_req(freq, sizeof(in), name, newname, 0);
	if (!u)
		return;
	in.newdir = newparent;
	if (flags & RENAME_NOREPLACE)
		in.flags |= UVFS_RENAME_NOREPLACE;
	if (flags & RENAME_EXCHANGE)
		in.flags |= UVFS_RENAME_EXCHANGE;
	put(u, &in, sizeof(in));
	put_str(u, name);
	put_str(u, newname);
	submit(u, UVFS_OP_RENAME, parent, 0);
}

static void ll_link(fuse_req_t freq, fuse_ino_t ino, fuse_ino_t newparent,
		    const char *newname)
{
	struct fuse_ureq *u = alloc_req(freq, sizeof(struct uvfs_link_in),
					newname, NULL, 0);
	struct uvfs_link_in in;

	if (!u)
		return;
	in.oldnodeid = ino;
	put(u, &in, sizeof(in));
	put_str(u, newname);
	submit(u, UVFS_OP_LINK, newparent, sizeof(struct uvfs_entry_out));
}

static void open_op(fuse_req_t freq, uint32_t opcode, fuse_ino_t ino,
		    struct fuse_file_info *fi)
{
	struct fuse_ureq *u = alloc_req(freq, sizeof(struct uvfs_open_in),
					NULL, NULL, 0);
	struct uvfs_open_in in = { 0 };

	if (!u)
		return;
	in.flags = (uint32_t)fi->flags;
	put(u, &in, sizeof(in));
	submit(u, opcode, ino, sizeof(struct uvfs_open_out));
}

static void ll_open(fuse_req_t freq, fuse_ino_t ino, struct fuse_file_info *fi)
{
	open_op(freq, UVFS_OP_OPEN, ino, fi);
}

static void ll_opendir(fuse_req_t freq, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	open_op(freq, UVFS_OP_OPENDIR, ino, fi);
}

static void read_op(fuse_req_t freq, uint32_t opcode, fuse_ino_t ino,
		    size_t size, off_t off, struct fuse_file_info *fi,
		    uint32_t reply_max)
{
	struct fuse_ureq *u = alloc_req(freq, sizeof(struct uvfs_read_in),
					NULL, NULL, 0);
	struct uvfs_read_in in = { 0 };

	if (!u)
		return;
	if (size > UINT32_MAX)
		size = UINT32_MAX;
	u->size = (uint32_t)size;
	in.fh = fi ? fi->fh : 0;
	in.offset = (uint64_t)off;
	in.size = (uint32_t)size;
	in.flags = (opcode == UVFS_OP_READ && fi) ? (uint32_t)fi->flags : 0;
	put(u, &in, sizeof(in));
	submit(u, opcode, ino, reply_max);
}

static void ll_read(fuse_req_t freq, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	read_op(freq, UVFS_OP_READ, ino, size, off, fi,
		size > UINT32_MAX ? UINT32_MAX : (uint32_t)size);
}

static void ll_readdir(fuse_req_t freq, fuse_ino_t ino, size_t size,
		       off_t off, struct fuse_file_info *fi)
{
	/* uvfs_dirent and fuse_dirent have the same size: 1:1 */
	read_op(freq, UVFS_OP_READDIR, ino, size, off, fi,
		size > UINT32_MAX ? UINT32_MAX : (uint32_t)size);
}

static void ll_readdirplus(fuse_req_t freq, fuse_ino_t ino, size_t size,
			   off_t off, struct fuse_file_info *fi)
{
	/*
	 * A FUSE direntplus record is 8 bytes longer than an uvfs one, and an
	 * uvfs record is at least 152 bytes (a 1-byte name), so a reply of
	 * S bytes re-encodes into at most S * 160/152 bytes: ask the backend
	 * for 19/20 of the size so that every record it returns fits (a
	 * record dropped here would leak a lookup count).
	 */
	uint64_t max = (uint64_t)size * 19 / 20;

	read_op(freq, UVFS_OP_READDIRPLUS, ino, size, off, fi,
		max > UINT32_MAX ? UINT32_MAX : (uint32_t)max);
}

static void ll_write(fuse_req_t freq, fuse_ino_t ino, const char *buf,
		     size_t size, off_t off, struct fuse_file_info *fi)
{
	struct uvfs_write_in in = { 0 };
	struct fuse_ureq *u;

	if (size > UINT32_MAX) {
		fuse_reply_err(freq, EINVAL);
		return;
	}
	u = alloc_req(freq, sizeof(in), NULL, NULL, size);
	if (!u)
		return;
	in.fh = fi->fh;
	in.offset = (uint64_t)off;
	in.size = (uint32_t)size;
	in.flags = (uint32_t)fi->flags;
	put(u, &in, sizeof(in));
	put(u, buf, size);
	submit(u, UVFS_OP_WRITE, ino, sizeof(struct uvfs_write_out));
}

static void ll_flush(fuse_req_t freq, fuse_ino_t ino,
		     struct fuse_file_info *fi)
{
	struct fuse_ureq *u = alloc_req(freq, sizeof(struct uvfs_flush_in),
					NULL, NULL, 0);
	struct uvfs_flush_in in;

	if (!u)
		return;
	in.fh = fi->fh;
	in.lock_owner = fi->lock_owner;
	put(u, &in, sizeof(in));
	submit(u, UVFS_OP_FLUSH, ino, 0);
}

static void release_op(fuse_req_t freq, uint32_t opcode, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct fuse_ureq *u = alloc_req(freq, sizeof(struct uvfs_release_in),
					NULL, NULL, 0);
	struct uvfs_release_in in = { 0 };

	if (!u)
		return;
	in.fh = fi->fh;
	in.flags = (uint32_t)fi->flags;
	put(u, &in, sizeof(in));
	submit(u, opcode, ino, 0);
}

static void ll_release(fuse_req_t freq, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	release_op(freq, UVFS_OP_RELEASE, ino, fi);
}

static void ll_releasedir(fuse_req_t freq, fuse_ino_t ino,
			  struct fuse_file_info *fi)
{
	release_op(freq, UVFS_OP_RELEASEDIR, ino, fi);
}

static void fsync_op(fuse_req_t freq, uint32_t opcode, fuse_ino_t ino,
		     int datasync, struct fuse_file_info *fi)
{
	struct fuse_ureq *u = alloc_req(freq, sizeof(struct uvfs_fsync_in),
					NULL, NULL, 0);
	struct uvfs_fsync_in in = { 0 };

	if (!u)
		return;
	in.fh = fi ? fi->fh : 0;
	in.fsync_flags = datasync ? UVFS_FSYNC_DATASYNC : 0;
	put(u, &in, sizeof(in));
	submit(u, opcode, ino, 0);
}

static void ll_fsync(fuse_req_t freq, fuse_ino_t ino, int datasync,
		     struct fuse_file_info *fi)
{
	fsync_op(freq, UVFS_OP_FSYNC, ino, datasync, fi);
}

static void ll_fsyncdir(fuse_req_t freq, fuse_ino_t ino, int datasync,
			struct fuse_file_info *fi)
{
	fsync_op(freq, UVFS_OP_FSYNCDIR, ino, datasync, fi);
}

static void ll_statfs(fuse_req_t freq, fuse_ino_t ino)
{
	struct fuse_ureq *u = alloc_req(freq, 0, NULL, NULL, 0);

	if (!u)
		return;
	submit(u, UVFS_OP_STATFS, ino, sizeof(struct uvfs_statfs_out));
}

/*
 * FUSE passes every xattr name through; other Linux filesystems (and the
 * uvfs kernel module, through its handler table) only know these
 * namespaces and fail the others with EOPNOTSUPP.
 */
static bool xattr_name_known(const char *name)
{
	static const char *const prefixes[] = { "user.", "trusted.",
						"security.", "system." };
	size_t i;

	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (!strncmp(name, prefixes[i], strlen(prefixes[i])))
			return true;
	return false;
}

static void ll_setxattr(fuse_req_t freq, fuse_ino_t ino, const char *name,
			const char *value, size_t size, int flags)
{
	struct uvfs_setxattr_in in = { 0 };
	struct fuse_ureq *u;

	if (!xattr_name_known(name)) {
		fuse_reply_err(freq, EOPNOTSUPP);
		return;
	}
	if (size > UVFS_XATTR_SIZE_MAX) {
		fuse_reply_err(freq, E2BIG);
		return;
	}
	u = alloc_req(freq, sizeof(in), name, NULL, size);
	if (!u)
		return;
	in.size = (uint32_t)size;
	in.flags = (uint32_t)flags;
	put(u, &in, sizeof(in));
	put_str(u, name);
	put(u, value, size);
	submit(u, UVFS_OP_SETXATTR, ino, 0);
}

static void xattr_query(fuse_req_t freq, uint32_t opcode, fuse_ino_t ino,
			const char *name, size_t size)
{
	struct fuse_ureq *u = alloc_req(freq, sizeof(struct uvfs_getxattr_in),
					name, NULL, 0);
	struct uvfs_getxattr_in in = { 0 };

	if (!u)
		return;
	if (name && !xattr_name_known(name)) {
		ureq_free(u);
		fuse_reply_err(freq, EOPNOTSUPP);
		return;
	}
	if (size > UINT32_MAX)
		size = UINT32_MAX;
	u->size = (uint32_t)size;
	in.size = (uint32_t)size;
	put(u, &in, sizeof(in));
	if (name)
		put_str(u, name);
	submit(u, opcode, ino,
	       size ? (uint32_t)size : sizeof(struct uvfs_getxattr_out));
}

static void ll_getxattr(fuse_req_t freq, fuse_ino_t ino, const char *name,
			size_t size)
{
	xattr_query(freq, UVFS_OP_GETXATTR, ino, name, size);
}

static void ll_listxattr(fuse_req_t freq, fuse_ino_t ino, size_t size)
{
	xattr_query(freq, UVFS_OP_LISTXATTR, ino, NULL, size);
}

static void ll_removexattr(fuse_req_t freq, fuse_ino_t ino, const char *name)
{
	if (!xattr_name_known(name)) {
		fuse_reply_err(freq, EOPNOTSUPP);
		return;
	}
	name_op(freq, UVFS_OP_REMOVEXATTR, ino, name);
}

static void ll_access(fuse_req_t freq, fuse_ino_t ino, int mask)
{
	struct fuse_ureq *u = alloc_req(freq, sizeof(struct uvfs_access_in),
					NULL, NULL, 0);
	struct uvfs_access_in in = { 0 };

	if (!u)
		return;
	in.mask = (uint32_t)mask;
	put(u, &in, sizeof(in));
	submit(u, UVFS_OP_ACCESS, ino, 0);
}

static void ll_create(fuse_req_t freq, fuse_ino_t parent, const char *name,
		      mode_t mode, struct fuse_file_info *fi)
{
	struct fuse_ureq *u = alloc_req(freq, sizeof(struct uvfs_create_in),
					name, NULL, 0);
	struct uvfs_create_in in;

	if (!u)
		return;
	in.flags = (uint32_t)fi->flags;
	in.mode = mode;
	put(u, &in, sizeof(in));
	put_str(u, name);
	submit(u, UVFS_OP_CREATE, parent, sizeof(struct uvfs_create_out));
}

static void ll_fallocate(fuse_req_t freq, fuse_ino_t ino, int mode,
			 off_t offset, off_t length,
			 struct fuse_file_info *fi)
{
	struct fuse_ureq *u = alloc_req(freq, sizeof(struct uvfs_fallocate_in),
					NULL, NULL, 0);
	struct uvfs_fallocate_in in = { 0 };

	if (!u)
		return;
	in.fh = fi->fh;
	in.offset = (uint64_t)offset;
	in.length = (uint64_t)length;
	in.mode = (uint32_t)mode;
	put(u, &in, sizeof(in));
	submit(u, UVFS_OP_FALLOCATE, ino, 0);
}

static void ll_lseek(fuse_req_t freq, fuse_ino_t ino, off_t off, int whence,
		     struct fuse_file_info *fi)
{
	struct fuse_ureq *u = alloc_req(freq, sizeof(struct uvfs_lseek_in),
					NULL, NULL, 0);
	struct uvfs_lseek_in in = { 0 };

	if (!u)
		return;
	in.fh = fi->fh;
	in.offset = (uint64_t)off;
	in.whence = (uint32_t)whence;
	put(u, &in, sizeof(in));
	submit(u, UVFS_OP_LSEEK, ino, sizeof(struct uvfs_lseek_out));
}

const struct fuse_lowlevel_ops uvfs_fuse_ll_ops = {
	.init = ll_init,
	.destroy = ll_destroy,
	.lookup = ll_lookup,
	.forget = ll_forget,
	.forget_multi = ll_forget_multi,
	.getattr = ll_getattr,
	.setattr = ll_setattr,
	.readlink = ll_readlink,
	.mknod = ll_mknod,
	.mkdir = ll_mkdir,
	.unlink = ll_unlink,
	.rmdir = ll_rmdir,
	.symlink = ll_symlink,
	.rename = ll_rename,
	.link = ll_link,
	.open = ll_open,
	.read = ll_read,
	.write = ll_write,
	.flush = ll_flush,
	.release = ll_release,
	.fsync = ll_fsync,
	.opendir = ll_opendir,
	.readdir = ll_readdir,
	.readdirplus = ll_readdirplus,
	.releasedir = ll_releasedir,
	.fsyncdir = ll_fsyncdir,
	.statfs = ll_statfs,
	.setxattr = ll_setxattr,
	.getxattr = ll_getxattr,
	.listxattr = ll_listxattr,
	.removexattr = ll_removexattr,
	.access = ll_access,
	.create = ll_create,
	.fallocate = ll_fallocate,
	.lseek = ll_lseek,
};
