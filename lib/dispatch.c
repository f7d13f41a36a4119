// SPDX-License-Identifier: MIT
/*
 * The opcode table and the dispatcher.
 *
 * uvfs_optable[] has one row per opcode: its name, the size of its fixed
 * argument struct, the NUL-terminated strings that follow (what each is and
 * how long it may be), the backend op it calls and the handler that turns
 * the validated wire arguments into that call.  The generic decoder in
 * uvfs_dispatch() checks lengths and strings once for every op, so
 * handlers can trust msg.
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
	out.flags = in->flags & (UVFS_INIT_READDIRPLUS | UVFS_INIT_RENAME_FLAGS |
				 UVFS_INIT_WRITEBACK);
	if (!se->ops.readdirplus)
		out.flags &= ~UVFS_INIT_READDIRPLUS;
	/* the page cache writes back (only uvfs.ko offers it) */
	if (se->opts.nowriteback || se->opts.readonly)
		out.flags &= ~UVFS_INIT_WRITEBACK;
	out.time_gran = 1;
	out.max_readahead = se->max_write;
	out.max_filesize = se->max_filesize;
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

/*
 * A row: OP(CODE, handler, columns...).  The columns: ARGS(the fixed
 * argument struct), the strings after it (NAME: a path component, TARGET:
 * a symlink target, XNAME: an xattr name), BE(the backend op it calls;
 * BE2: either of two; BLK: the op of a block backend, see blk.c), BUILTIN
 * (served by the library itself), SLOW (it usually waits for I/O).
 */
#define OP(code, fn, ...) \
	[UVFS_OP_##code] = { .name = #code, .handler = fn, __VA_ARGS__ }
#define ARGS(type) .argsize = sizeof(struct type)
#define NAME { UVFS_STR_NAME, UVFS_NAME_MAX }
#define TARGET { UVFS_STR_PATH, UVFS_SYMLINK_MAX }
#define XNAME { UVFS_STR_XATTR, UVFS_XATTR_NAME_MAX }
#define STR1(a) .nstr = 1, .str = { a }
#define STR2(a, b) .nstr = 2, .str = { a, b }
#define BE(m) .be_op = { UVFS_BE_OP(m) }
#define BE2(m, n) .be_op = { UVFS_BE_OP(m), UVFS_BE_OP(n) }
#define BLK(m) .blk = true, .be_op = { UVFS_BLK_OP(m) }
#define BUILTIN .builtin = true
#define SLOW .blocks = true

const struct uvfs_opdesc uvfs_optable[UVFS_OP_MAX] = {
	OP(INIT, do_init, ARGS(uvfs_init_in), BUILTIN),
	OP(DESTROY, do_destroy, BUILTIN),
	OP(LOOKUP, do_lookup, STR1(NAME), BE(lookup)),
	OP(FORGET, do_forget, ARGS(uvfs_forget_in), BE2(forget, forget_multi)),
	OP(GETATTR, do_getattr, ARGS(uvfs_getattr_in), BE(getattr)),
	OP(SETATTR, do_setattr, ARGS(uvfs_setattr_in), BE(setattr)),
	OP(READLINK, do_readlink, BE(readlink)),
	OP(SYMLINK, do_symlink, STR2(NAME, TARGET), BE(symlink)),
	OP(MKNOD, do_mknod, ARGS(uvfs_mknod_in), STR1(NAME), BE(mknod)),
	OP(MKDIR, do_mkdir, ARGS(uvfs_mkdir_in), STR1(NAME), BE(mkdir)),
	OP(UNLINK, do_unlink, STR1(NAME), BE(unlink)),
	OP(RMDIR, do_rmdir, STR1(NAME), BE(rmdir)),
	OP(RENAME, do_rename, ARGS(uvfs_rename_in), STR2(NAME, NAME),
	   BE(rename)),
	OP(LINK, do_link, ARGS(uvfs_link_in), STR1(NAME), BE(link)),
	OP(OPEN, do_open, ARGS(uvfs_open_in), BE(open)),
	OP(CREATE, do_create, ARGS(uvfs_create_in), STR1(NAME), BE(create)),
	OP(READ, do_read, ARGS(uvfs_read_in), BE(read), SLOW),
	OP(WRITE, do_write, ARGS(uvfs_write_in), BE(write), SLOW),
	OP(FLUSH, do_flush, ARGS(uvfs_flush_in), BE(flush)),
	OP(RELEASE, do_release, ARGS(uvfs_release_in), BE(release)),
	OP(FSYNC, do_fsync, ARGS(uvfs_fsync_in), BE(fsync), SLOW),
	OP(OPENDIR, do_opendir, ARGS(uvfs_open_in), BE(opendir)),
	OP(READDIR, do_readdir, ARGS(uvfs_read_in), BE(readdir)),
	OP(READDIRPLUS, do_readdir, ARGS(uvfs_read_in), BE(readdirplus)),
	OP(RELEASEDIR, do_release, ARGS(uvfs_release_in), BE(releasedir)),
	OP(FSYNCDIR, do_fsync, ARGS(uvfs_fsync_in), BE(fsyncdir), SLOW),
	OP(STATFS, do_statfs, BE(statfs)),
	OP(SETXATTR, do_setxattr, ARGS(uvfs_setxattr_in), STR1(XNAME),
	   BE(setxattr)),
	OP(GETXATTR, do_getxattr, ARGS(uvfs_getxattr_in), STR1(XNAME),
	   BE(getxattr)),
	OP(LISTXATTR, do_getxattr, ARGS(uvfs_getxattr_in), BE(listxattr)),
	OP(REMOVEXATTR, do_removexattr, STR1(XNAME), BE(removexattr)),
	OP(ACCESS, do_access, ARGS(uvfs_access_in), BE(access)),
	OP(FALLOCATE, do_fallocate, ARGS(uvfs_fallocate_in), BE(fallocate),
	   SLOW),
	OP(LSEEK, do_lseek, ARGS(uvfs_lseek_in), BE(lseek)),
	/* Block requests: only a block session serves them. */
	OP(BLK_READ, uvfs_blk_do_read, ARGS(uvfs_blk_in), BLK(read)),
	OP(BLK_WRITE, uvfs_blk_do_write, ARGS(uvfs_blk_in), BLK(write)),
	OP(BLK_FLUSH, uvfs_blk_do_flush, ARGS(uvfs_blk_in), BLK(flush)),
	OP(BLK_DISCARD, uvfs_blk_do_discard, ARGS(uvfs_blk_in), BLK(discard)),
	OP(BLK_WRITE_ZEROES, uvfs_blk_do_write_zeroes, ARGS(uvfs_blk_in),
	   BLK(write_zeroes)),
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

/* Is one of d's ops set in the ops table at ops? */
static bool row_has_op(const struct uvfs_opdesc *d, const void *ops)
{
	void (*fn)(void);
	int i;

	if (d->builtin)
		return true;
	for (i = 0; i < 2; i++) {
		if (!d->be_op[i])
			continue;
		/* every op is a function pointer: read it as one */
		memcpy(&fn, (const char *)ops + d->be_op[i] - 1, sizeof(fn));
		if (fn)
			return true;
	}
	return false;
}

bool uvfs_backend_has_op(const struct uvfs_ops *ops, uint32_t opcode)
{
	const struct uvfs_opdesc *d = uvfs_opdesc(opcode);

	return d && !d->blk && row_has_op(d, ops);
}

bool uvfs_blk_has_op(const struct uvfs_blk_ops *ops, uint32_t opcode)
{
	const struct uvfs_opdesc *d = uvfs_opdesc(opcode);

	return d && d->blk && row_has_op(d, ops);
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
		if (n > d->str[i].max)
			return -ENAMETOOLONG;
		/* a path component never holds '/' (targets and xattrs may) */
		if (d->str[i].kind == UVFS_STR_NAME && memchr(p, '/', n))
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

	/* a file system serves no block request, a device nothing else */
	if (!d || !d->handler || d->blk != (se->blk != NULL)) {
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
	if (d->blk) {
		if (uvfs_blk_has_op(&se->blk_ops, req->in.opcode))
			d->handler(req, &msg);
		else
			uvfs_blk_default_reply(req);
		return;
	}
	if (!uvfs_backend_has_op(&se->ops, req->in.opcode)) {
		default_reply(req);
		return;
	}
	if (d->blocks)
		uvfs_req_may_block(req);
	d->handler(req, &msg);
}
