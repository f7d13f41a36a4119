// SPDX-License-Identifier: MIT
/*
 * Replies: the backend's uvfs_reply_*() calls become wire replies
 * (uvfs_out_header + payload) handed to the transport.  Checks that the
 * library can make on behalf of the kernel (reply sent twice, payload larger
 * than asked, errno out of range) are made here, once, for every transport.
 * Here too is what replies are made of: the wire attribute and entry,
 * payload space (uvfs_req_outbuf()) and directory records.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "uvfs_i.h"

/* Payload-carrying replies: is this size allowed for this request? */
static int check_payload(struct uvfs_req *req, size_t len)
{
	if (req->reply_exact && len != req->reply_max) {
		/* a block read: a short one would leave the kernel's pages
		 * half filled */
		uvfs_log("uvfs: backend replied %zu bytes to %s of %u", len,
			 uvfs_opname(req->in.opcode), req->reply_max);
		return -EIO;
	}
	if (len <= req->reply_max)
		return 0;
	switch (req->in.opcode) {
	case UVFS_OP_GETXATTR:
	case UVFS_OP_LISTXATTR:
		return -ERANGE;
	default:
		uvfs_log("uvfs: backend replied %zu bytes to %s (max %u)", len,
			 uvfs_opname(req->in.opcode), req->reply_max);
		return -EIO;
	}
}

int uvfs_send_reply(struct uvfs_req *req, int err, const struct iovec *iov,
		    int iovcnt)
{
	struct uvfs_session *se = req->se;
	struct uvfs_out_header out;
	struct iovec all[4];
	uint32_t opcode = req->in.opcode;
	void *heapbuf;
	size_t len = 0;
	int i, ret;

	if (req->replied) {
		uvfs_log("uvfs: %s answered twice", uvfs_opname(opcode));
		return -EALREADY;
	}
	if (iovcnt < 0 || iovcnt > 3)
		return -EINVAL;
	if (err > 0 || err < -UVFS_ERRNO_MAX) {
		uvfs_log("uvfs: %s: bad error %d from backend, sending EIO",
			 uvfs_opname(opcode), err);
		err = -EIO;
	}
	if (err)
		iovcnt = 0;
	for (i = 0; i < iovcnt; i++)
		len += iov[i].iov_len;
	if (!err && (len || req->reply_exact)) {
		int perr = check_payload(req, len);

		if (perr) {
			err = perr;
			iovcnt = 0;
			len = 0;
		}
	}
	req->replied = true;

	out.unique = req->in.unique;
	out.error = err;
	out.len = (uint32_t)(sizeof(out) + len);
	all[0].iov_base = &out;
	all[0].iov_len = sizeof(out);
	for (i = 0; i < iovcnt; i++)
		all[i + 1] = iov[i];

	if (opcode < UVFS_OP_MAX) {
		struct uvfs_opstats *st = &se->stats[opcode];

		if (err)
			atomic_fetch_add_explicit(&st->errors, 1,
						  memory_order_relaxed);
		atomic_fetch_add_explicit(&st->ns,
					  uvfs_now_ns() - req->start_ns,
					  memory_order_relaxed);
	}
	uvfs_trace_reply(se, req, err, len);
	/* The transport may free req: don't touch it afterwards.  The
	 * transport has sent or copied the payload when send_reply returns. */
	heapbuf = req->heapbuf;
	ret = se->tp->send_reply(req, all, iovcnt + 1);
	free(heapbuf);
	return ret;
}

int uvfs_reply_err(struct uvfs_req *req, int err)
{
	return uvfs_send_reply(req, err, NULL, 0);
}

void uvfs_reply_none(struct uvfs_req *req)
{
	if (req->in_batch) {
		req->replied = true;
		return;
	}
	if (req->replied)
		return;
	req->replied = true;
	uvfs_trace_reply(req->se, req, 0, 0);
	free(req->heapbuf);
	req->heapbuf = NULL;
	if (req->se->tp->free_req)
		req->se->tp->free_req(req);
}

uint64_t uvfs_timeout_ns(double seconds)
{
	if (!(seconds > 0))
		return 0;
	if (seconds > 1e9)
		return UINT64_C(1000000000) * 1000000000u;
	return (uint64_t)(seconds * 1e9);
}

static uint32_t encode_dev(dev_t dev)
{
	uint32_t ma = major(dev), mi = minor(dev);

	return (mi & 0xff) | ((ma & 0xfff) << 8) | ((mi & ~0xffu) << 12);
}

void uvfs_stat_to_attr(const struct stat *st, struct uvfs_attr *a)
{
	memset(a, 0, sizeof(*a));
	a->ino = st->st_ino;
	a->size = (uint64_t)st->st_size;
	a->blocks = (uint64_t)st->st_blocks;
	a->atime = st->st_atim.tv_sec;
	a->mtime = st->st_mtim.tv_sec;
	a->ctime = st->st_ctim.tv_sec;
	a->atimensec = (uint32_t)st->st_atim.tv_nsec;
	a->mtimensec = (uint32_t)st->st_mtim.tv_nsec;
	a->ctimensec = (uint32_t)st->st_ctim.tv_nsec;
	a->mode = st->st_mode;
	a->nlink = (uint32_t)st->st_nlink;
	a->uid = st->st_uid;
	a->gid = st->st_gid;
	a->rdev = encode_dev(st->st_rdev);
	a->blksize = st->st_blksize > 0 ? (uint32_t)st->st_blksize : 4096;
}

void uvfs_attr_to_stat(const struct uvfs_attr *a, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = a->ino;
	st->st_size = (off_t)a->size;
	st->st_blocks = (blkcnt_t)a->blocks;
	st->st_atim.tv_sec = a->atime;
	st->st_mtim.tv_sec = a->mtime;
	st->st_ctim.tv_sec = a->ctime;
	st->st_atim.tv_nsec = a->atimensec;
	st->st_mtim.tv_nsec = a->mtimensec;
	st->st_ctim.tv_nsec = a->ctimensec;
	st->st_mode = a->mode;
	st->st_nlink = a->nlink;
	st->st_uid = a->uid;
	st->st_gid = a->gid;
	st->st_rdev = makedev((a->rdev >> 8) & 0xfff,
			      (a->rdev & 0xff) | ((a->rdev >> 12) & 0xfff00));
	st->st_blksize = a->blksize;
}

void uvfs_entry_to_wire(const struct uvfs_entry *e, struct uvfs_entry_out *o)
{
	memset(o, 0, sizeof(*o));
	o->nodeid = e->ino;
	o->generation = e->generation;
	o->entry_valid_ns = uvfs_timeout_ns(e->entry_timeout);
	o->attr_valid_ns = uvfs_timeout_ns(e->attr_timeout);
	uvfs_stat_to_attr(&e->attr, &o->attr);
	o->attr.ino = e->ino;
}

/*
 * -o uid=,gid=,umask=: the kernel is shown these instead of the backend's
 * values in every attribute it receives (entries, attributes, readdirplus
 * records), so its permission checks and stat(2) agree.
 */
static bool overrides_attrs(const struct uvfs_session *se)
{
	return se->opts.set_uid || se->opts.set_gid || se->opts.set_umask;
}

static void override_attr(const struct uvfs_session *se, struct uvfs_attr *a)
{
	const struct uvfs_session_opts *o = &se->opts;

	if (o->set_uid)
		a->uid = o->uid;
	if (o->set_gid)
		a->gid = o->gid;
	if (o->set_umask)
		a->mode = (a->mode & S_IFMT) | (0777 & ~o->umask);
}

static int reply_one(struct uvfs_req *req, const void *p, size_t len)
{
	struct iovec iov = { (void *)p, len };

	return uvfs_send_reply(req, 0, &iov, 1);
}

int uvfs_reply_entry(struct uvfs_req *req, const struct uvfs_entry *e)
{
	struct uvfs_entry_out o;

	if (!e->ino && req->in.opcode != UVFS_OP_LOOKUP)
		return uvfs_reply_err(req, -EIO);
	uvfs_entry_to_wire(e, &o);
	override_attr(req->se, &o.attr);
	return reply_one(req, &o, sizeof(o));
}

int uvfs_reply_negative(struct uvfs_req *req, double entry_timeout)
{
	struct uvfs_entry e = { .entry_timeout = entry_timeout };

	if (req->in.opcode != UVFS_OP_LOOKUP)
		return uvfs_reply_err(req, -EIO);
	if (!(entry_timeout > 0))
		return uvfs_reply_err(req, -ENOENT);
	return uvfs_reply_entry(req, &e);
}

int uvfs_reply_create(struct uvfs_req *req, const struct uvfs_entry *e,
		      const struct uvfs_file_info *fi)
{
	struct uvfs_create_out o;

	memset(&o, 0, sizeof(o));
	uvfs_entry_to_wire(e, &o.entry);
	override_attr(req->se, &o.entry.attr);
	o.open.fh = fi->fh;
	o.open.open_flags = (fi->direct_io ? UVFS_OPEN_DIRECT_IO : 0) |
			    (fi->keep_cache ? UVFS_OPEN_KEEP_CACHE : 0) |
			    (fi->nonseekable ? UVFS_OPEN_NONSEEKABLE : 0);
	return reply_one(req, &o, sizeof(o));
}

int uvfs_reply_attr(struct uvfs_req *req, const struct stat *attr,
		    double attr_timeout)
{
	struct uvfs_attr_out o;

	memset(&o, 0, sizeof(o));
	o.attr_valid_ns = uvfs_timeout_ns(attr_timeout);
	uvfs_stat_to_attr(attr, &o.attr);
	if (!o.attr.ino)
		o.attr.ino = req->in.nodeid;
	override_attr(req->se, &o.attr);
	return reply_one(req, &o, sizeof(o));
}

int uvfs_reply_readlink(struct uvfs_req *req, const char *target)
{
	size_t len = strlen(target);

	if (len == 0 || len > UVFS_SYMLINK_MAX)
		return uvfs_reply_err(req, -EIO);
	return reply_one(req, target, len);
}

int uvfs_reply_open(struct uvfs_req *req, const struct uvfs_file_info *fi)
{
	struct uvfs_open_out o = { 0 };

	o.fh = fi->fh;
	o.open_flags = (fi->direct_io ? UVFS_OPEN_DIRECT_IO : 0) |
		       (fi->keep_cache ? UVFS_OPEN_KEEP_CACHE : 0) |
		       (fi->nonseekable ? UVFS_OPEN_NONSEEKABLE : 0);
	return reply_one(req, &o, sizeof(o));
}

int uvfs_reply_write(struct uvfs_req *req, size_t count)
{
	struct uvfs_write_out o = { 0 };

	o.size = (uint32_t)count;
	return reply_one(req, &o, sizeof(o));
}

/* A READDIRPLUS buffer with every record's attributes overridden: a
 * copy, as the backend's buffer is const.  NULL on out-of-memory. */
static void *override_direntplus(struct uvfs_session *se, const void *buf,
				 size_t size)
{
	char *copy = malloc(size ? size : 1);
	size_t off = 0;

	if (!copy)
		return NULL;
	memcpy(copy, buf, size);
	while (off + sizeof(struct uvfs_direntplus) <= size) {
		struct uvfs_direntplus *d = (struct uvfs_direntplus *)(copy + off);
		size_t reclen = UVFS_DIRENTPLUS_SIZE(d->dirent.namelen);

		if (d->entry.nodeid)
			override_attr(se, &d->entry.attr);
		off += reclen;
	}
	return copy;
}

int uvfs_reply_buf(struct uvfs_req *req, const void *buf, size_t size)
{
	void *copy;
	int ret;

	if (req->in.opcode != UVFS_OP_READDIRPLUS || !overrides_attrs(req->se))
		return reply_one(req, buf, size);
	copy = override_direntplus(req->se, buf, size);
	if (!copy)
		return uvfs_reply_err(req, -ENOMEM);
	ret = reply_one(req, copy, size);
	free(copy);
	return ret;
}

int uvfs_reply_statfs(struct uvfs_req *req, const struct statvfs *st)
{
	struct uvfs_statfs_out o = { 0 };

	o.blocks = st->f_blocks;
	o.bfree = st->f_bfree;
	o.bavail = st->f_bavail;
	o.files = st->f_files;
	o.ffree = st->f_ffree;
	o.bsize = (uint32_t)st->f_bsize;
	o.frsize = (uint32_t)(st->f_frsize ? st->f_frsize : st->f_bsize);
	o.namelen = (uint32_t)st->f_namemax;
	return reply_one(req, &o, sizeof(o));
}

int uvfs_reply_xattr(struct uvfs_req *req, size_t size)
{
	struct uvfs_getxattr_out o = { 0 };

	o.size = (uint32_t)size;
	return reply_one(req, &o, sizeof(o));
}

int uvfs_reply_lseek(struct uvfs_req *req, off_t off)
{
	struct uvfs_lseek_out o = { (uint64_t)off };

	return reply_one(req, &o, sizeof(o));
}

void *uvfs_req_outbuf(struct uvfs_req *req, size_t size)
{
	void *p;

	if (size > req->reply_max)
		return NULL;
	if (req->se->tp->outbuf) {
		p = req->se->tp->outbuf(req, size);
		if (p)
			return p;
	}
	free(req->heapbuf);
	req->heapbuf = malloc(size ? size : 1);
	return req->heapbuf;
}

/* ---- directory records ---- */

/* The record's fixed part; the caller has zeroed the record. */
static void fill_dirent(struct uvfs_dirent *d, const char *name,
			size_t namelen, const struct stat *attr,
			off_t next_off)
{
	d->ino = attr->st_ino;
	d->off = (uint64_t)next_off;
	d->namelen = (uint32_t)namelen;
	d->type = (attr->st_mode & S_IFMT) >> 12;
	memcpy(d->name, name, namelen);
}

size_t uvfs_add_dirent(char *buf, size_t bufsize, const char *name,
		       const struct stat *attr, off_t next_off)
{
	size_t namelen = strlen(name);
	size_t reclen = UVFS_DIRENT_SIZE(namelen);

	if (reclen > bufsize || !buf)
		return reclen;
	memset(buf, 0, reclen);
	fill_dirent((struct uvfs_dirent *)buf, name, namelen, attr, next_off);
	return reclen;
}

size_t uvfs_add_direntplus(char *buf, size_t bufsize, const char *name,
			   const struct uvfs_entry *e, off_t next_off)
{
	size_t namelen = strlen(name);
	size_t reclen = UVFS_DIRENTPLUS_SIZE(namelen);
	struct uvfs_direntplus *d = (struct uvfs_direntplus *)buf;

	if (reclen > bufsize || !buf)
		return reclen;
	memset(buf, 0, reclen);
	uvfs_entry_to_wire(e, &d->entry);
	fill_dirent(&d->dirent, name, namelen, &e->attr, next_off);
	return reclen;
}
