// SPDX-License-Identifier: MIT
/*
 * The opcode table and the dispatcher.
 *
 * uvfs_optable[] has one row per opcode: its name, the size of its fixed
 * argument struct, how many NUL-terminated strings follow and how long they
 * may be, and the handler that turns the validated wire arguments into a
 * call of the backend's op.  The generic decoder in uvfs_dispatch() checks
 * lengths and strings once for every op, so handlers can trust msg.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "uvfs_i.h"

#define ARG(msg, type) ((const type *)(msg)->arg)

static void file_info_init(struct uvfs_file_info *fi, uint64_t fh, int flags)
{
	memset(fi, 0, sizeof(*fi));
	fi->fh = fh;
	fi->flags = flags;
}

/* ---- handlers: one per opcode, in opcode order ---- */

static void do_init(struct uvfs_req *req, const struct uvfs_msg *msg)
{
	const struct uvfs_init_in *in = ARG(msg, struct uvfs_init_in);
	struct uvfs_session *se = req->se;
	struct uvfs_init_out out = { 0 };
	const char *name = se->opts.subtype ? se->opts.subtype :
					   se->backend->name;
	struct iovec iov[2];

	if (in->major != UVFS_PROTO_MAJOR) {
		uvfs_log("uvfs: kernel speaks protocol %u.%u, we speak %u.%u",
			 in->major, in->minor, UVFS_PROTO_MAJOR,
			 UVFS_PROTO_MINOR);
		uvfs_reply_err(req, -EPROTO);
		return;
	}
	se->proto_minor = in->minor;
	if (se->proto_minor > UVFS_PROTO_MINOR)
		se->proto_minor = UVFS_PROTO_MINOR;
	se->max_write = in->max_write ? in->max_write : UVFS_MAX_WRITE_DEFAULT;
	out.major = UVFS_PROTO_MAJOR;
	out.minor = se->proto_minor;
	out.max_write = se->max_write;
	out.flags = in->flags & (UVFS_INIT_READDIRPLUS | UVFS_INIT_RENAME_FLAGS);
	if (!se->ops.readdirplus)
		out.flags &= ~UVFS_INIT_READDIRPLUS;
	out.time_gran = 1;
	out.max_readahead = se->max_write;
	out.subtype_len = (uint32_t)strlen(name);
	iov[0].iov_base = &out;
	iov[0].iov_len = sizeof(out);
	iov[1].iov_base = (void *)name;
	iov[1].iov_len = out.subtype_len;
	uvfs_send_reply(req, 0, iov, 2);
}

static void do_destroy(struct uvfs_req *req, const struct uvfs_msg *msg)
{
	(void)msg;
	uvfs_session_unmount(req->se);
	uvfs_reply_err(req, 0);
}

static void do_lookup(struct uvfs_req *req, const struct uvfs_msg *msg)
{
	req->se->ops.lookup(req, msg->in->nodeid, msg->str[0]);
}

static void do_forget(struct uvfs_req *req, const struct uvfs_msg *msg)
{
	const struct uvfs_forget_in *in = ARG(msg, struct uvfs_forget_in);
	const struct uvfs_forget_one *one = msg->payload;
	const struct uvfs_ops *ops = &req->se->ops;
	uint32_t i;

	if (msg->payload_len / sizeof(*one) < in->count) {
		uvfs_reply_none(req);	/* malformed; FORGET has no reply */
		return;
	}
	if (ops->forget_multi) {
		ops->forget_multi(req, in->count, one);
		return;
	}
	/* Call forget once per node; their reply_none() only marks them. */
	req->in_batch = true;
	for (i = 0; i < in->count; i++) {
		req->replied = false;
		ops->forget(req, one[i].nodeid, one[i].nlookup);
	}
	req->in_batch = false;
	req->replied = false;
	uvfs_reply_none(req);
}

static void do_getattr(struct uvfs_req *req, const struct uvfs_msg *msg)
{
	const struct uvfs_getattr_in *in = ARG(msg, struct uvfs_getattr_in);
	struct uvfs_file_info fi;

	file_info_init(&fi, in->fh, 0);
	req->se->ops.getattr(req, msg->in->nodeid,
			     (in->flags & UVFS_GETATTR_FH) ? &fi : NULL);
}

static void do_setattr(struct uvfs_req *req, const struct uvfs_msg *msg)
{
	const struct uvfs_setattr_in *in = ARG(msg, struct uvfs_setattr_in);
	struct uvfs_file_info fi;
	struct stat st;

	memset(&st, 0, sizeof(st));
	st.st_mode = in->mode;
	st.st_uid = in->uid;
	st.st_gid = in->gid;
	st.st_size = (off_t)in->size;
	st.st_atim.tv_sec = in->atime;
	st.st_atim.tv_nsec = in->atimensec;
	st.st_mtim.tv_sec = in->mtime;
	st.st_mtim.tv_nsec = in->mtimensec;
	st.st_ctim.tv_sec = in->ctime;
	st.st_ctim.tv_nsec = in->ctimensec;
	if ((in->valid & UVFS_SET_SIZE) && (int64_t)in->size < 0) {
		uvfs_reply_err(req, -EINVAL);
		return;
	}
	if (((in->valid & UVFS_SET_ATIME) && in->atimensec >= 1000000000u) ||
	    ((in->valid & UVFS_SET_MTIME) && in->mtimensec >= 1000000000u) ||
	    ((in->valid & UVFS_SET_CTIME) && in->ctimensec >= 1000000000u)) {
		uvfs_reply_err(req, -EINVAL);
		return;
	}
	file_info_init(&fi, in->fh, 0);
	req->se->ops.setattr(req, msg->in->nodeid, &st, in->valid,
			     (in->valid & UVFS_SET_FH) ? &fi : NULL);
}

static void do_readlink(struct uvfs_req *req, const struct uvfs_msg *msg)
{
	req->se->ops.readlink(req, msg->in->nodeid);
}

static void do_symlink(struct uvfs_req *req, const struct uvfs_msg *msg)
{
	req->se->ops.symlink(req, msg->str[1], msg->in->nodeid, msg->str[0]);
}

static void do_mknod(struct uvfs_req *req, const struct uvfs_msg *msg)
{
	const struct uvfs_mknod_in *in = ARG(msg, struct uvfs_mknod_in);
	dev_t rdev = makedev((in->rdev >> 8) & 0xfff,
			     (in->rdev & 0xff) | ((in->rdev >> 12) & 0xfff00));

	req->se->ops.mknod(req, msg->in->nodeid, msg->str[0], in->mode, rdev);
}

static void do_mkdir(struct uvfs_req *req, const struct uvfs_msg *msg)
{
	const struct uvfs_mkdir_in *in = ARG(msg, struct uvfs_mkdir_in);

	req->se->ops.mkdir(req, msg->in->nodeid, msg->str[0],
			   (in->mode & 07777) | S_IFDIR);
}

static void do_unlink(struct uvfs_req *req, const struct uvfs_msg *msg)
{
	req->se->ops.unlink(req, msg->in->nodeid, msg->str[0]);
}

static void do_rmdir(struct uvfs_req *req, const struct uvfs_msg *msg)
{
	req->se->ops.rmdir(req, msg->in->nodeid, msg->str[0]);
}

static void do_rename(struct uvfs_req *req, const struct uvfs_msg *msg)
{
	const struct uvfs_rename_in *in = ARG(msg, struct uvfs_rename_in);
	const uint32_t known = UVFS_RENAME_NOREPLACE | UVFS_RENAME_EXCHANGE;

	if ((in->flags & ~known) || in->flags == known) {
		uvfs_reply_err(req, -EINVAL);
		return;
	}
	req->se->ops.rename(req, msg->in->nodeid, msg->str[0], in->newdir,
			    msg->str[1], in->flags);
}

static void do_link(struct uvfs_req *req, const struct uvfs_msg *msg)
{
	const struct uvfs_link_in *in = ARG(msg, struct uvfs_link_in);

	req->se->ops.link(req, in->oldnodeid, msg->in->nodeid, msg->str[0]);
}

static void do_open(struct uvfs_req *req, const struct uvfs_msg *msg)
{
	const struct uvfs_open_in *in = ARG(msg, struct uvfs_open_in);
	struct uvfs_file_info fi;

	file_info_init(&fi, 0, (int)in->flags);
	req->se->ops.open(req, msg->in->nodeid, &fi);
}

static void do_create(struct uvfs_req *req, const struct uvfs_msg *msg)
{
	const struct uvfs_create_in *in = ARG(msg, struct uvfs_create_in);
	struct uvfs_file_info fi;

	file_info_init(&fi, 0, (int)in->flags);
	req->se->ops.create(req, msg->in->nodeid, msg->str[0],
			    (in->mode & 07777) | S_IFREG, &fi);
}

static void do_read(struct uvfs_req *req, const struct uvfs_msg *msg)
{
	const struct uvfs_read_in *in = ARG(msg, struct uvfs_read_in);
	struct uvfs_file_info fi;

	if ((int64_t)in->offset < 0) {
		uvfs_reply_err(req, -EINVAL);
		return;
	}
	file_info_init(&fi, in->fh, (int)in->flags);
	if (in->size < req->reply_max)
		req->reply_max = in->size;
	req->se->ops.read(req, msg->in->nodeid, req->reply_max,
			  (off_t)in->offset, &fi);
}

static void do_write(struct uvfs_req *req, const struct uvfs_msg *msg)
{
	const struct uvfs_write_in *in = ARG(msg, struct uvfs_write_in);
	struct uvfs_file_info fi;

	if (msg->payload_len != in->size || (int64_t)in->offset < 0 ||
	    (int64_t)(in->offset + in->size) < 0) {
		uvfs_reply_err(req, -EINVAL);
		return;
	}
	file_info_init(&fi, in->fh, (int)in->flags);
	req->se->ops.write(req, msg->in->nodeid, msg->payload, in->size,
			   (off_t)in->offset, &fi);
}

static void do_flush(struct uvfs_req *req, const struct uvfs_msg *msg)
{
	const struct uvfs_flush_in *in = ARG(msg, struct uvfs_flush_in);
	struct uvfs_file_info fi;

	file_info_init(&fi, in->fh, 0);
	fi.lock_owner = in->lock_owner;
	req->se->ops.flush(req, msg->in->nodeid, &fi);
}

static void do_release(struct uvfs_req *req, const struct uvfs_msg *msg)
{
	const struct uvfs_release_in *in = ARG(msg, struct uvfs_release_in);
	struct uvfs_file_info fi;

	file_info_init(&fi, in->fh, (int)in->flags);
	if (msg->in->opcode == UVFS_OP_RELEASEDIR)
		req->se->ops.releasedir(req, msg->in->nodeid, &fi);
	else
		req->se->ops.release(req, msg->in->nodeid, &fi);
}

static void do_fsync(struct uvfs_req *req, const struct uvfs_msg *msg)
{
	const struct uvfs_fsync_in *in = ARG(msg, struct uvfs_fsync_in);
	int datasync = !!(in->fsync_flags & UVFS_FSYNC_DATASYNC);
	struct uvfs_file_info fi;

	file_info_init(&fi, in->fh, 0);
	fi.datasync = datasync;
	if (msg->in->opcode == UVFS_OP_FSYNCDIR)
		req->se->ops.fsyncdir(req, msg->in->nodeid, datasync, &fi);
	else
		req->se->ops.fsync(req, msg->in->nodeid, datasync, &fi);
}

static void do_opendir(struct uvfs_req *req, const struct uvfs_msg *msg)
{
	const struct uvfs_open_in *in = ARG(msg, struct uvfs_open_in);
	struct uvfs_file_info fi;

	file_info_init(&fi, 0, (int)in->flags);
	req->se->ops.opendir(req, msg->in->nodeid, &fi);
}

static void do_readdir(struct uvfs_req *req, const struct uvfs_msg *msg)
{
	const struct uvfs_read_in *in = ARG(msg, struct uvfs_read_in);
	struct uvfs_file_info fi;

	file_info_init(&fi, in->fh, 0);
	if (in->size < req->reply_max)
		req->reply_max = in->size;
	if (msg->in->opcode == UVFS_OP_READDIRPLUS)
		req->se->ops.readdirplus(req, msg->in->nodeid, req->reply_max,
					 (off_t)in->offset, &fi);
	else
		req->se->ops.readdir(req, msg->in->nodeid, req->reply_max,
				     (off_t)in->offset, &fi);
}

static void do_statfs(struct uvfs_req *req, const struct uvfs_msg *msg)
{
	req->se->ops.statfs(req, msg->in->nodeid);
}

static void do_setxattr(struct uvfs_req *req, const struct uvfs_msg *msg)
{
	const struct uvfs_setxattr_in *in = ARG(msg, struct uvfs_setxattr_in);

	if (msg->payload_len != in->size || in->size > UVFS_XATTR_SIZE_MAX) {
		uvfs_reply_err(req, -EINVAL);
		return;
	}
	req->se->ops.setxattr(req, msg->in->nodeid, msg->str[0], msg->payload,
			      in->size, (int)in->flags);
}

static void do_getxattr(struct uvfs_req *req, const struct uvfs_msg *msg)
{
	const struct uvfs_getxattr_in *in = ARG(msg, struct uvfs_getxattr_in);

	if (in->size && in->size < req->reply_max)
		req->reply_max = in->size;
	if (msg->in->opcode == UVFS_OP_LISTXATTR)
		req->se->ops.listxattr(req, msg->in->nodeid, in->size);
	else
		req->se->ops.getxattr(req, msg->in->nodeid, msg->str[0],
				      in->size);
}

static void do_removexattr(struct uvfs_req *req, const struct uvfs_msg *msg)
{
	req->se->ops.removexattr(req, msg->in->nodeid, msg->str[0]);
}

static void do_access(struct uvfs_req *req, const struct uvfs_msg *msg)
{
	const struct uvfs_access_in *in = ARG(msg, struct uvfs_access_in);

	req->se->ops.access(req, msg->in->nodeid, (int)in->mask);
}

static void do_fallocate(struct uvfs_req *req, const struct uvfs_msg *msg)
{
	const struct uvfs_fallocate_in *in =
		ARG(msg, struct uvfs_fallocate_in);
	struct uvfs_file_info fi;

	if ((int64_t)in->offset < 0 || (int64_t)in->length <= 0 ||
	    (int64_t)(in->offset + in->length) < 0) {
		uvfs_reply_err(req, -EINVAL);
		return;
	}
	file_info_init(&fi, in->fh, 0);
	req->se->ops.fallocate(req, msg->in->nodeid, (int)in->mode,
			       (off_t)in->offset, (off_t)in->length, &fi);
}

static void do_lseek(struct uvfs_req *req, const struct uvfs_msg *msg)
{
	const struct uvfs_lseek_in *in = ARG(msg, struct uvfs_lseek_in);
	struct uvfs_file_info fi;

	if (in->whence != SEEK_DATA && in->whence != SEEK_HOLE) {
		uvfs_reply_err(req, -EINVAL);
		return;
	}
	if ((int64_t)in->offset < 0) {
		uvfs_reply_err(req, -ENXIO);	/* as lseek(2) */
		return;
	}
	file_info_init(&fi, in->fh, 0);
	req->se->ops.lseek(req, msg->in->nodeid, (off_t)in->offset,
			   (int)in->whence, &fi);
}

/* ---- the table ---- */

#define OPB(code, nm, type, n, max0, max1, fn, slow)                          \
	[UVFS_OP_##code] = { .name = nm, .argsize = type, .nstr = n,          \
			     .strmax = { max0, max1 }, .blocks = slow,        \
			     .handler = fn }
#define OP(code, nm, type, n, max0, max1, fn)                                 \
	OPB(code, nm, type, n, max0, max1, fn, false)
#define NM UVFS_NAME_MAX
#define XN UVFS_XATTR_NAME_MAX

const struct uvfs_opdesc uvfs_optable[UVFS_OP_MAX] = {
	OP(INIT, "INIT", sizeof(struct uvfs_init_in), 0, 0, 0, do_init),
	OP(DESTROY, "DESTROY", 0, 0, 0, 0, do_destroy),
	OP(LOOKUP, "LOOKUP", 0, 1, NM, 0, do_lookup),
	OP(FORGET, "FORGET", sizeof(struct uvfs_forget_in), 0, 0, 0, do_forget),
	OP(GETATTR, "GETATTR", sizeof(struct uvfs_getattr_in), 0, 0, 0,
	   do_getattr),
	OP(SETATTR, "SETATTR", sizeof(struct uvfs_setattr_in), 0, 0, 0,
	   do_setattr),
	OP(READLINK, "READLINK", 0, 0, 0, 0, do_readlink),
	OP(SYMLINK, "SYMLINK", 0, 2, NM, UVFS_SYMLINK_MAX, do_symlink),
	OP(MKNOD, "MKNOD", sizeof(struct uvfs_mknod_in), 1, NM, 0, do_mknod),
	OP(MKDIR, "MKDIR", sizeof(struct uvfs_mkdir_in), 1, NM, 0, do_mkdir),
	OP(UNLINK, "UNLINK", 0, 1, NM, 0, do_unlink),
	OP(RMDIR, "RMDIR", 0, 1, NM, 0, do_rmdir),
	OP(RENAME, "RENAME", sizeof(struct uvfs_rename_in), 2, NM, NM,
	   do_rename),
	OP(LINK, "LINK", sizeof(struct uvfs_link_in), 1, NM, 0, do_link),
	OP(OPEN, "OPEN", sizeof(struct uvfs_open_in), 0, 0, 0, do_open),
	OP(CREATE, "CREATE", sizeof(struct uvfs_create_in), 1, NM, 0,
	   do_create),
	OPB(READ, "READ", sizeof(struct uvfs_read_in), 0, 0, 0, do_read, true),
	OPB(WRITE, "WRITE", sizeof(struct uvfs_write_in), 0, 0, 0, do_write,
	    true),
	OP(FLUSH, "FLUSH", sizeof(struct uvfs_flush_in), 0, 0, 0, do_flush),
	OP(RELEASE, "RELEASE", sizeof(struct uvfs_release_in), 0, 0, 0,
	   do_release),
	OPB(FSYNC, "FSYNC", sizeof(struct uvfs_fsync_in), 0, 0, 0, do_fsync,
	    true),
	OP(OPENDIR, "OPENDIR", sizeof(struct uvfs_open_in), 0, 0, 0,
	   do_opendir),
	OP(READDIR, "READDIR", sizeof(struct uvfs_read_in), 0, 0, 0,
	   do_readdir),
	OP(READDIRPLUS, "READDIRPLUS", sizeof(struct uvfs_read_in), 0, 0, 0,
	   do_readdir),
	OP(RELEASEDIR, "RELEASEDIR", sizeof(struct uvfs_release_in), 0, 0, 0,
	   do_release),
	OPB(FSYNCDIR, "FSYNCDIR", sizeof(struct uvfs_fsync_in), 0, 0, 0,
	    do_fsync, true),
	OP(STATFS, "STATFS", 0, 0, 0, 0, do_statfs),
	OP(SETXATTR, "SETXATTR", sizeof(struct uvfs_setxattr_in), 1, XN, 0,
	   do_setxattr),
	OP(GETXATTR, "GETXATTR", sizeof(struct uvfs_getxattr_in), 1, XN, 0,
	   do_getxattr),
	OP(LISTXATTR, "LISTXATTR", sizeof(struct uvfs_getxattr_in), 0, 0, 0,
	   do_getxattr),
	OP(REMOVEXATTR, "REMOVEXATTR", 0, 1, XN, 0, do_removexattr),
	OP(ACCESS, "ACCESS", sizeof(struct uvfs_access_in), 0, 0, 0,
	   do_access),
	OPB(FALLOCATE, "FALLOCATE", sizeof(struct uvfs_fallocate_in), 0, 0, 0,
	    do_fallocate, true),
	OP(LSEEK, "LSEEK", sizeof(struct uvfs_lseek_in), 0, 0, 0, do_lseek),
	/* Block requests are served by block backends, not by this table. */
	OP(BLK_READ, "BLK_READ", sizeof(struct uvfs_blk_in), 0, 0, 0, NULL),
	OP(BLK_WRITE, "BLK_WRITE", sizeof(struct uvfs_blk_in), 0, 0, 0, NULL),
	OP(BLK_FLUSH, "BLK_FLUSH", sizeof(struct uvfs_blk_in), 0, 0, 0, NULL),
	OP(BLK_DISCARD, "BLK_DISCARD", sizeof(struct uvfs_blk_in), 0, 0, 0,
	   NULL),
	OP(BLK_WRITE_ZEROES, "BLK_WRITE_ZEROES", sizeof(struct uvfs_blk_in), 0,
	   0, 0, NULL),
};

const struct uvfs_opdesc *uvfs_opdesc(uint32_t opcode)
{
	if (opcode >= UVFS_OP_MAX || !uvfs_optable[opcode].name)
		return NULL;
	return &uvfs_optable[opcode];
}

const char *uvfs_opname(uint32_t opcode)
{
	const struct uvfs_opdesc *d = uvfs_opdesc(opcode);

	return d ? d->name : "UNKNOWN";
}

/* Is the backend op behind this opcode present? */
static bool backend_has_op(const struct uvfs_ops *ops, uint32_t opcode)
{
	switch (opcode) {
	case UVFS_OP_INIT:
	case UVFS_OP_DESTROY:
		return true;
	case UVFS_OP_LOOKUP: return ops->lookup;
	case UVFS_OP_FORGET: return ops->forget || ops->forget_multi;
	case UVFS_OP_GETATTR: return ops->getattr;
	case UVFS_OP_SETATTR: return ops->setattr;
	case UVFS_OP_READLINK: return ops->readlink;
	case UVFS_OP_SYMLINK: return ops->symlink;
	case UVFS_OP_MKNOD: return ops->mknod;
	case UVFS_OP_MKDIR: return ops->mkdir;
	case UVFS_OP_UNLINK: return ops->unlink;
	case UVFS_OP_RMDIR: return ops->rmdir;
	case UVFS_OP_RENAME: return ops->rename;
	case UVFS_OP_LINK: return ops->link;
	case UVFS_OP_OPEN: return ops->open;
	case UVFS_OP_CREATE: return ops->create;
	case UVFS_OP_READ: return ops->read;
	case UVFS_OP_WRITE: return ops->write;
	case UVFS_OP_FLUSH: return ops->flush;
	case UVFS_OP_RELEASE: return ops->release;
	case UVFS_OP_FSYNC: return ops->fsync;
	case UVFS_OP_OPENDIR: return ops->opendir;
	case UVFS_OP_READDIR: return ops->readdir;
	case UVFS_OP_READDIRPLUS: return ops->readdirplus;
	case UVFS_OP_RELEASEDIR: return ops->releasedir;
	case UVFS_OP_FSYNCDIR: return ops->fsyncdir;
	case UVFS_OP_STATFS: return ops->statfs;
	case UVFS_OP_SETXATTR: return ops->setxattr;
	case UVFS_OP_GETXATTR: return ops->getxattr;
	case UVFS_OP_LISTXATTR: return ops->listxattr;
	case UVFS_OP_REMOVEXATTR: return ops->removexattr;
	case UVFS_OP_ACCESS: return ops->access;
	case UVFS_OP_FALLOCATE: return ops->fallocate;
	case UVFS_OP_LSEEK: return ops->lseek;
	default:
		return false;
	}
}

/*
 * Defaults for ops a backend leaves out, where "succeed and do nothing" is
 * the right answer (as in FUSE): open handles, releases, fsyncs, forgets,
 * access when the kernel checks permissions.  Everything else answers
 * -ENOSYS, which the kernel remembers.  A missing FLUSH answers -ENOSYS
 * too: by the protocol (as in FUSE) that means "nothing to do on close",
 * and the kernel stops sending it, saving a round trip per close.
 */
static int default_reply(struct uvfs_req *req)
{
	struct uvfs_open_out oo = { 0 };
	struct iovec iov = { &oo, sizeof(oo) };
	struct statvfs sv;

	switch (req->in.opcode) {
	case UVFS_OP_FORGET:
		uvfs_reply_none(req);
		return 0;
	case UVFS_OP_OPEN:
	case UVFS_OP_OPENDIR:
		return uvfs_send_reply(req, 0, &iov, 1);
	case UVFS_OP_RELEASE:
	case UVFS_OP_RELEASEDIR:
	case UVFS_OP_FSYNC:
	case UVFS_OP_FSYNCDIR:
	case UVFS_OP_ACCESS:
		return uvfs_reply_err(req, 0);
	case UVFS_OP_STATFS:
		memset(&sv, 0, sizeof(sv));
		sv.f_bsize = sv.f_frsize = 4096;
		sv.f_namemax = UVFS_NAME_MAX;
		return uvfs_reply_statfs(req, &sv);
	default:
		return uvfs_reply_err(req, -ENOSYS);
	}
}

/* Split the argument bytes into fixed struct, strings and payload. */
static int decode(const struct uvfs_opdesc *d, const struct uvfs_in_header *in,
		  const void *buf, size_t len, struct uvfs_msg *msg)
{
	const char *p = (const char *)buf + d->argsize;
	size_t left;
	int i;

	memset(msg, 0, sizeof(*msg));
	msg->in = in;
	msg->arglen = len;
	if (len < d->argsize)
		return -EINVAL;
	msg->arg = d->argsize ? buf : NULL;
	left = len - d->argsize;
	for (i = 0; i < d->nstr; i++) {
		const char *nul = memchr(p, '\0', left);
		size_t n;

		if (!nul)
			return -EINVAL;
		n = (size_t)(nul - p);
		if (n == 0)
			return -EINVAL;
		if (n > d->strmax[i])
			return -ENAMETOOLONG;
		/* a path component never holds '/' (symlink targets may) */
		if (!(in->opcode == UVFS_OP_SYMLINK && i == 1) &&
		    in->opcode != UVFS_OP_SETXATTR &&
		    in->opcode != UVFS_OP_GETXATTR &&
		    in->opcode != UVFS_OP_REMOVEXATTR && memchr(p, '/', n))
			return -EINVAL;
		msg->str[i] = p;
		p = nul + 1;
		left -= n + 1;
	}
	msg->payload = left ? p : NULL;
	msg->payload_len = left;
	return 0;
}

void uvfs_dispatch(struct uvfs_req *req, const void *buf, size_t len)
{
	struct uvfs_session *se = req->se;
	const struct uvfs_opdesc *d = uvfs_opdesc(req->in.opcode);
	struct uvfs_msg msg;
	int err;

	if (!d || !d->handler) {
		uvfs_trace_request(se, req, NULL);
		uvfs_reply_err(req, -ENOSYS);
		return;
	}
	atomic_fetch_add_explicit(&se->stats[req->in.opcode].calls, 1,
				  memory_order_relaxed);
	err = decode(d, &req->in, buf, len, &msg);
	uvfs_trace_request(se, req, err ? NULL : &msg);
	if (err) {
		/* the sender of a FORGET waits for no reply, not even this */
		if (req->in.opcode == UVFS_OP_FORGET)
			uvfs_reply_none(req);
		else
			uvfs_reply_err(req, err);
		return;
	}
	if (!se->mounted && req->in.opcode != UVFS_OP_INIT &&
	    req->in.opcode != UVFS_OP_DESTROY) {
		uvfs_reply_err(req, -ENOTCONN);
		return;
	}
	if (!backend_has_op(&se->ops, req->in.opcode)) {
		default_reply(req);
		return;
	}
	if (d->blocks)
		uvfs_req_may_block(req);
	d->handler(req, &msg);
}
