// SPDX-License-Identifier: MIT
/*
 * The FUSE transport, on libfuse 3's low-level API.
 *
 * Every fuse_lowlevel_ops callback turns its arguments into an uvfs wire
 * request (uvfs_in_header + argument bytes, exactly as the kernel module
 * would send them) and hands it to uvfs_dispatch(), so FUSE mounts go through
 * the same decoder, checks, tracing and statistics as every other transport.
 * The wire reply arrives in fuse_send_reply() -- on the calling thread or,
 * if the backend answers later, on any other -- and is decoded according to
 * the request's opcode into the matching fuse_reply_*() call.
 *
 * Ownership: a struct fuse_ureq is allocated per FUSE request and holds the
 * fuse_req_t, the argument bytes (valid until the reply, so backends that
 * answer asynchronously may keep pointers into them) and the reply buffer
 * handed out by outbuf().  It is freed right after the fuse_req_t has been
 * answered: in fuse_send_reply(), or in fuse_free_req() for requests that
 * end with uvfs_reply_none() (FORGET).
 */
#define FUSE_USE_VERSION 35

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <syslog.h>
#include <unistd.h>

#include <fuse_lowlevel.h>
#include <fuse_opt.h>

#include "uvfs_i.h"

#define FUSE_MAX_WRITE_WANTED (1024u * 1024u)
#define FUSE_MAX_THREADS 16	/* requests waiting for I/O at once */

struct uvfs_fuse {
	struct uvfs_session *se;
	struct fuse_session *fs;
	char *mountpoint;
	bool mounted;
	atomic_uint_fast64_t next_unique;
};

/* One FUSE request in flight. */
struct fuse_ureq {
	struct uvfs_req req;
	struct uvfs_fuse *f;
	fuse_req_t freq;	/* NULL for INIT, which has no fuse_req_t */
	uint32_t size;		/* size the kernel asked for (read, xattr...) */
	/* INIT only: answered synchronously into here */
	bool sync;
	bool sync_done;
	int sync_err;
	struct uvfs_init_out init_out;
	void *obuf;		/* outbuf() */
	size_t arglen;
	size_t argused;
	char args[];
};

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

static void ureq_free(struct fuse_ureq *u)
{
	free(u->obuf);
	free(u);
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

/* ---- decoding replies ---- */

/* Copy the payload (iov[0..n)) into dst, zero-filling a short one. */
static size_t gather(const struct iovec *iov, int n, void *dst, size_t dstlen)
{
	size_t off = 0, total = 0;
	int i;

	for (i = 0; i < n; i++) {
		size_t c = iov[i].iov_len;

		total += c;
		if (off >= dstlen)
			continue;
		if (c > dstlen - off)
			c = dstlen - off;
		if (c)
			memcpy((char *)dst + off, iov[i].iov_base, c);
		off += c;
	}
	if (off < dstlen)
		memset((char *)dst + off, 0, dstlen - off);
	return total;
}

static double ns_to_sec(uint64_t ns)
{
	return (double)ns / 1e9;
}

static void entry_from_wire(const struct uvfs_entry_out *o,
			    struct fuse_entry_param *e)
{
	memset(e, 0, sizeof(*e));
	e->ino = o->nodeid;
	e->generation = o->generation;
	uvfs_attr_to_stat(&o->attr, &e->attr);
	if (o->nodeid && !e->attr.st_ino)
		e->attr.st_ino = o->nodeid;
	e->attr_timeout = ns_to_sec(o->attr_valid_ns);
	e->entry_timeout = ns_to_sec(o->entry_valid_ns);
}

static void fi_from_open(const struct uvfs_open_out *o,
			 struct fuse_file_info *fi)
{
	memset(fi, 0, sizeof(*fi));
	fi->fh = o->fh;
	fi->direct_io = !!(o->open_flags & UVFS_OPEN_DIRECT_IO);
	fi->keep_cache = !!(o->open_flags & UVFS_OPEN_KEEP_CACHE);
	fi->nonseekable = !!(o->open_flags & UVFS_OPEN_NONSEEKABLE);
}

/* The payload as one contiguous block: borrowed, or copied into *copy. */
static const char *contiguous(const struct iovec *iov, int n, size_t len,
			      char **copy)
{
	int i, nonempty = 0;
	const char *p = NULL;

	*copy = NULL;
	for (i = 0; i < n; i++) {
		if (iov[i].iov_len) {
			nonempty++;
			p = iov[i].iov_base;
		}
	}
	if (nonempty <= 1)
		return p;
	*copy = malloc(len);
	if (!*copy)
		return NULL;
	gather(iov, n, *copy, len);
	return *copy;
}

/*
 * READDIR / READDIRPLUS: re-encode uvfs_dirent(plus) records as FUSE
 * dirents into a buffer of the size the kernel asked for.
 */
static int reply_readdir(struct fuse_ureq *u, const struct iovec *iov, int n,
			 size_t len)
{
	bool plus = u->req.in.opcode == UVFS_OP_READDIRPLUS;
	size_t hdr = plus ? sizeof(struct uvfs_direntplus) :
			    sizeof(struct uvfs_dirent);
	char *copy, *out = NULL;
	const char *p;
	size_t pos = 0, used = 0;
	int ret;

	if (!len)
		return fuse_reply_buf(u->freq, NULL, 0);
	p = contiguous(iov, n, len, &copy);
	out = malloc(u->size ? u->size : 1);
	if (!p || !out) {
		free(copy);
		free(out);
		return fuse_reply_err(u->freq, ENOMEM);
	}
	while (pos < len) {
		struct uvfs_direntplus dp;
		const struct uvfs_dirent *d;
		char name[UVFS_NAME_MAX + 1];
		size_t reclen, ent;

		if (len - pos < hdr)
			goto bad;
		/* records are 8-byte aligned in the payload, but the payload
		 * itself might not be: copy the fixed part out */
		memcpy(&dp, p + pos, hdr);
		d = plus ? &dp.dirent : (const struct uvfs_dirent *)&dp;
		if (d->namelen == 0 || d->namelen > UVFS_NAME_MAX)
			goto bad;
		reclen = plus ? UVFS_DIRENTPLUS_SIZE(d->namelen) :
				UVFS_DIRENT_SIZE(d->namelen);
		if (reclen > len - pos)
			reclen = len - pos;
		if (hdr + d->namelen > len - pos)
			goto bad;
		memcpy(name, p + pos + hdr, d->namelen);
		name[d->namelen] = '\0';
		if (memchr(name, '\0', d->namelen) || memchr(name, '/', d->namelen))
			goto bad;

		if (plus) {
			struct fuse_entry_param e;

			entry_from_wire(&dp.entry, &e);
			e.attr.st_ino = d->ino;
			if (d->type)
				e.attr.st_mode = (e.attr.st_mode & ~S_IFMT) |
						 ((mode_t)d->type << 12);
			ent = fuse_add_direntry_plus(u->freq, out + used,
						     u->size - used, name, &e,
						     (off_t)d->off);
			if (ent > u->size - used) {
				/* Cannot happen: reply_max was sized so every
				 * record fits.  The entries dropped here hold
				 * lookup counts the kernel never learns of. */
				uvfs_log("uvfs: fuse: readdirplus reply does not fit, dropping entries");
				break;
			}
		} else {
			struct stat st;

			memset(&st, 0, sizeof(st));
			st.st_ino = d->ino;
			st.st_mode = (mode_t)d->type << 12;
			ent = fuse_add_direntry(u->freq, out + used,
						u->size - used, name, &st,
						(off_t)d->off);
			if (ent > u->size - used)
				break;
		}
		used += ent;
		pos += reclen;
	}
	ret = fuse_reply_buf(u->freq, out, used);
	free(copy);
	free(out);
	return ret;
bad:
	uvfs_log("uvfs: fuse: malformed %s reply from backend",
		 uvfs_opname(u->req.in.opcode));
	free(copy);
	free(out);
	return fuse_reply_err(u->freq, EIO);
}

static int reply_data(struct fuse_ureq *u, const struct iovec *iov, int n,
		      size_t len)
{
	if (!len)
		return fuse_reply_buf(u->freq, NULL, 0);
	return fuse_reply_iov(u->freq, iov, n);
}

static int decode_reply(struct fuse_ureq *u, const struct iovec *iov, int n,
			size_t len)
{
	fuse_req_t freq = u->freq;

	switch (u->req.in.opcode) {
	case UVFS_OP_LOOKUP:
	case UVFS_OP_MKNOD:
	case UVFS_OP_MKDIR:
	case UVFS_OP_SYMLINK:
	case UVFS_OP_LINK: {
		struct uvfs_entry_out o;
		struct fuse_entry_param e;

		gather(iov, n, &o, sizeof(o));
		entry_from_wire(&o, &e);
		return fuse_reply_entry(freq, &e);
	}
	case UVFS_OP_CREATE: {
		struct uvfs_create_out o;
		struct fuse_entry_param e;
		struct fuse_file_info fi;

		gather(iov, n, &o, sizeof(o));
		entry_from_wire(&o.entry, &e);
		fi_from_open(&o.open, &fi);
		return fuse_reply_create(freq, &e, &fi);
	}
	case UVFS_OP_GETATTR:
	case UVFS_OP_SETATTR: {
		struct uvfs_attr_out o;
		struct stat st;

		gather(iov, n, &o, sizeof(o));
		uvfs_attr_to_stat(&o.attr, &st);
		if (!st.st_ino)
			st.st_ino = u->req.in.nodeid;
		return fuse_reply_attr(freq, &st, ns_to_sec(o.attr_valid_ns));
	}
	case UVFS_OP_READLINK: {
		char target[UVFS_SYMLINK_MAX + 1];

		if (len == 0 || len > UVFS_SYMLINK_MAX)
			return fuse_reply_err(freq, EIO);
		gather(iov, n, target, len);
		target[len] = '\0';
		return fuse_reply_readlink(freq, target);
	}
	case UVFS_OP_OPEN:
	case UVFS_OP_OPENDIR: {
		struct uvfs_open_out o;
		struct fuse_file_info fi;

		gather(iov, n, &o, sizeof(o));
		fi_from_open(&o, &fi);
		return fuse_reply_open(freq, &fi);
	}
	case UVFS_OP_READ:
		return reply_data(u, iov, n, len);
	case UVFS_OP_WRITE: {
		struct uvfs_write_out o;

		gather(iov, n, &o, sizeof(o));
		return fuse_reply_write(freq, o.size);
	}
	case UVFS_OP_READDIR:
	case UVFS_OP_READDIRPLUS:
		return reply_readdir(u, iov, n, len);
	case UVFS_OP_STATFS: {
		struct uvfs_statfs_out o;
		struct statvfs sv;

		gather(iov, n, &o, sizeof(o));
		memset(&sv, 0, sizeof(sv));
		sv.f_bsize = o.bsize;
		sv.f_frsize = o.frsize ? o.frsize : o.bsize;
		sv.f_blocks = o.blocks;
		sv.f_bfree = o.bfree;
		sv.f_bavail = o.bavail;
		sv.f_files = o.files;
		sv.f_ffree = o.ffree;
		sv.f_favail = o.ffree;
		sv.f_namemax = o.namelen;
		return fuse_reply_statfs(freq, &sv);
	}
	case UVFS_OP_GETXATTR:
	case UVFS_OP_LISTXATTR:
		if (u->size == 0) {
			struct uvfs_getxattr_out o;

			gather(iov, n, &o, sizeof(o));
			return fuse_reply_xattr(freq, o.size);
		}
		return reply_data(u, iov, n, len);
	case UVFS_OP_LSEEK: {
		struct uvfs_lseek_out o;

		gather(iov, n, &o, sizeof(o));
		return fuse_reply_lseek(freq, (off_t)o.offset);
	}
	default:
		/* unlink, rmdir, rename, flush, release, fsync, setxattr,
		 * removexattr, access, fallocate, releasedir, fsyncdir */
		return fuse_reply_err(freq, 0);
	}
}

/* ---- the transport ops ---- */

static int fuse_send_reply(struct uvfs_req *req, const struct iovec *iov,
			   int iovcnt)
{
	struct fuse_ureq *u = req->tp;
	const struct uvfs_out_header *oh = iov[0].iov_base;
	size_t len = 0;
	int i, ret;

	for (i = 1; i < iovcnt; i++)
		len += iov[i].iov_len;

	if (u->sync) {
		/* INIT, answered on the caller's stack */
		u->sync_err = oh->error;
		gather(iov + 1, iovcnt - 1, &u->init_out, sizeof(u->init_out));
		u->sync_done = true;
		return 0;
	}
	if (u->req.in.opcode == UVFS_OP_FORGET) {
		/* a forget is never answered; the backend should have used
		 * uvfs_reply_none(), but don't leave the fuse_req_t hanging */
		fuse_reply_none(u->freq);
		ureq_free(u);
		return 0;
	}
	if (oh->error < 0)
		ret = fuse_reply_err(u->freq, -oh->error);
	else
		ret = decode_reply(u, iov + 1, iovcnt - 1, len);
	ureq_free(u);
	/* -ENOENT: the request was interrupted; nothing to do about it */
	return ret == -ENOENT ? 0 : ret;
}

/* uvfs_reply_none(): only FORGET may end this way. */
static void fuse_free_req(struct uvfs_req *req)
{
	struct fuse_ureq *u = req->tp;

	if (u->sync) {
		u->sync_err = -EIO;
		u->sync_done = true;
		return;
	}
	if (u->req.in.opcode == UVFS_OP_FORGET) {
		fuse_reply_none(u->freq);
	} else {
		uvfs_log("uvfs: fuse: %s ended without a reply, sending EIO",
			 uvfs_opname(u->req.in.opcode));
		fuse_reply_err(u->freq, EIO);
	}
	ureq_free(u);
}

static void *fuse_outbuf(struct uvfs_req *req, size_t size)
{
	struct fuse_ureq *u = req->tp;

	if (size > req->reply_max)
		return NULL;
	if (!u->obuf)
		u->obuf = malloc(req->reply_max ? req->reply_max : 1);
	return u->obuf;
}

static int fuse_notify(struct uvfs_session *se, const struct iovec *iov,
		       int iovcnt)
{
	struct uvfs_fuse *f = se->tp_priv;
	const struct uvfs_out_header *oh = iov[0].iov_base;
	char buf[sizeof(struct uvfs_notify_inval_entry) + UVFS_NAME_MAX + 8];
	size_t len;

	if (!f || !f->fs)
		return -ENOTCONN;
	len = gather(iov + 1, iovcnt - 1, buf, sizeof(buf));
	switch (oh->error) {
	case UVFS_NOTIFY_INVAL_INODE: {
		struct uvfs_notify_inval_inode n;

		if (len < sizeof(n))
			return -EINVAL;
		memcpy(&n, buf, sizeof(n));
		return fuse_lowlevel_notify_inval_inode(f->fs, n.nodeid,
							(off_t)n.offset,
							(off_t)n.length);
	}
	case UVFS_NOTIFY_INVAL_ENTRY: {
		struct uvfs_notify_inval_entry n;

		if (len < sizeof(n))
			return -EINVAL;
		memcpy(&n, buf, sizeof(n));
		if (n.namelen == 0 || n.namelen > UVFS_NAME_MAX ||
		    len < sizeof(n) + n.namelen)
			return -EINVAL;
		return fuse_lowlevel_notify_inval_entry(f->fs, n.parent,
							buf + sizeof(n),
							n.namelen);
	}
	default:
		return -ENOSYS;
	}
}

static void fuse_may_block(struct uvfs_req *req)
{
	(void)req;
	uvfs_fuse_loop_may_block();
}

static const struct uvfs_transport_ops fuse_transport = {
	.name = "fuse",
	.send_reply = fuse_send_reply,
	.notify = fuse_notify,
	.outbuf = fuse_outbuf,
	.free_req = fuse_free_req,
	.may_block = fuse_may_block,
};

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

static const struct fuse_lowlevel_ops fuse_ll_ops = {
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

/* ---- public API ---- */

static int add_opt(char **opts, const char *key, const char *value)
{
	char *kv;
	int ret;

	if (!value)
		return fuse_opt_add_opt(opts, key);
	/* escape ',' and '\' in the value: libfuse splits -o on commas */
	{
		size_t n = strlen(key) + 2 * strlen(value) + 2;
		char *q;
		const char *p;

		kv = malloc(n);
		if (!kv)
			return -1;
		q = kv + sprintf(kv, "%s=", key);
		for (p = value; *p; p++) {
			if (*p == ',' || *p == '\\')
				*q++ = '\\';
			*q++ = *p;
		}
		*q = '\0';
	}
	ret = fuse_opt_add_opt(opts, kv);
	free(kv);
	return ret;
}

/*
 * The generic mount flags the user chose (uvfs_session_opts.mnt_flags),
 * as the option names libfuse's mount and fusermount3 take.  libfuse 3.14
 * knows no relatime, strictatime, nodiratime, diratime or lazytime:
 * relatime and diratime are what a FUSE mount does anyway; the others are
 * ignored with a warning.
 */
static int add_mnt_flags(char **opts, const struct uvfs_session_opts *o)
{
	static const struct {
		unsigned long flag;
		const char *on, *off;
		bool unsupported;	/* "on" cannot be had over FUSE */
	} map[] = {
		{ MS_NOSUID, "nosuid", "suid", false },
		{ MS_NODEV, "nodev", "dev", false },
		{ MS_NOEXEC, "noexec", "exec", false },
		{ MS_NOATIME, "noatime", "atime", false },
		{ MS_SYNCHRONOUS, "sync", "async", false },
		{ MS_DIRSYNC, "dirsync", NULL, false },
		{ MS_RELATIME, NULL, NULL, false },
		{ MS_NODIRATIME, "nodiratime", NULL, true },
		{ MS_STRICTATIME, "strictatime", NULL, true },
		{ MS_LAZYTIME, "lazytime", NULL, true },
	};
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		bool on = o->mnt_flags & map[i].flag;
		const char *name = on ? map[i].on : map[i].off;

		if (!(o->mnt_flags_mask & map[i].flag) || !name)
			continue;
		if (on && map[i].unsupported) {
			uvfs_log_prio(LOG_WARNING,
				      "uvfs: fuse: -o %s is not available over "
				      "FUSE; ignored", name);
			continue;
		}
		if (add_opt(opts, name, NULL))
			return -1;
	}
	return 0;
}

int uvfs_fuse_mount(struct uvfs_session *se, const char *mountpoint,
		    struct uvfs_fuse **out, char *err, size_t errlen)
{
	const struct uvfs_session_opts *o = &se->opts;
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	struct uvfs_fuse *f;
	char *opts = NULL;
	struct stat st;
	int ret, fd;

	*out = NULL;
	if (errlen)
		err[0] = '\0';
	if (stat(mountpoint, &st) < 0) {
		ret = -errno;
		snprintf(err, errlen, "mountpoint %s: %s", mountpoint,
			 strerror(-ret));
		return ret;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "mountpoint %s: not a directory",
			 mountpoint);
		return -ENOTDIR;
	}
	fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "cannot open /dev/fuse: %s",
			 strerror(-ret));
		return ret;
	}
	close(fd);

	f = calloc(1, sizeof(*f));
	if (!f)
		goto nomem;
	f->se = se;
	atomic_init(&f->next_unique, 1);
	f->mountpoint = strdup(mountpoint);
	if (!f->mountpoint)
		goto nomem;

	if (add_opt(&opts, "fsname",
		    o->fsname ? o->fsname : se->backend->name) ||
	    add_opt(&opts, "subtype",
		    o->subtype ? o->subtype : se->backend->name) ||
	    (o->readonly && add_opt(&opts, "ro", NULL)) ||
	    add_mnt_flags(&opts, o) ||
	    (o->allow_other && add_opt(&opts, "allow_other", NULL)) ||
	    (o->default_permissions &&
	     add_opt(&opts, "default_permissions", NULL)))
		goto nomem;
	if (fuse_opt_add_arg(&args, "uvfsd") || fuse_opt_add_arg(&args, "-o") ||
	    fuse_opt_add_arg(&args, opts))
		goto nomem;

	/* Requests may arrive as soon as the session is mounted. */
	se->tp = &fuse_transport;
	se->tp_priv = f;
	f->fs = fuse_session_new(&args, &fuse_ll_ops, sizeof(fuse_ll_ops), f);
	if (!f->fs) {
		snprintf(err, errlen, "libfuse rejected the mount options (%s)",
			 opts);
		ret = -EINVAL;
		goto fail;
	}
	errno = 0;
	if (fuse_session_mount(f->fs, mountpoint) != 0) {
		ret = errno ? -errno : -EIO;
		snprintf(err, errlen, "cannot mount FUSE filesystem on %s%s%s",
			 mountpoint, errno ? ": " : "",
			 errno ? strerror(errno) : "");
		goto fail;
	}
	f->mounted = true;
	fuse_opt_free_args(&args);
	free(opts);
	*out = f;
	return 0;

nomem:
	ret = -ENOMEM;
	snprintf(err, errlen, "out of memory");
fail:
	if (f && f->fs)
		fuse_session_destroy(f->fs);
	if (se->tp == &fuse_transport) {
		se->tp = NULL;
		se->tp_priv = NULL;
	}
	fuse_opt_free_args(&args);
	free(opts);
	if (f)
		free(f->mountpoint);
	free(f);
	return ret;
}

int uvfs_fuse_loop(struct uvfs_fuse *f)
{
	int ret;

	if (fuse_set_signal_handlers(f->fs) != 0)
		return -EIO;
	if (f->se->opts.single_thread)
		ret = fuse_session_loop(f->fs);
	else
		ret = uvfs_fuse_serve(f->fs, FUSE_MAX_THREADS,
				      f->se->opts.spin_us);
	fuse_remove_signal_handlers(f->fs);
	/* > 0: the signal that ended the loop; that's a normal exit */
	return ret < 0 ? ret : 0;
}

void uvfs_fuse_free(struct uvfs_fuse *f)
{
	if (!f)
		return;
	if (f->mounted)
		fuse_session_unmount(f->fs);
	f->mounted = false;
	fuse_session_destroy(f->fs);
	if (f->se->tp == &fuse_transport && f->se->tp_priv == f) {
		f->se->tp = NULL;
		f->se->tp_priv = NULL;
	}
	free(f->mountpoint);
	free(f);
}
