// SPDX-License-Identifier: MIT
/*
 * The FUSE transport's replies and its transport ops.
 *
 * The wire reply arrives in fuse_send_reply() -- on the calling thread or,
 * if the backend answers later, on any other -- and is decoded according to
 * the request's opcode into the matching fuse_reply_*() call; READDIR and
 * READDIRPLUS records are re-encoded as FUSE dirents.  Notifications go the
 * same way, into fuse_lowlevel_notify_*().  Each fuse_ureq is freed here,
 * once its fuse_req_t has been answered.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "fuse_i.h"

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

const struct uvfs_transport_ops uvfs_fuse_transport = {
	.name = "fuse",
	.send_reply = fuse_send_reply,
	.notify = fuse_notify,
	.outbuf = fuse_outbuf,
	.free_req = fuse_free_req,
	.may_block = fuse_may_block,
};
