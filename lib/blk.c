// SPDX-License-Identifier: MIT
/*
 * Block requests (the BLK_* rows of the opcode table): each is checked
 * against the device's geometry before the block backend sees it.  The
 * kernel module checks the same, but a daemon does not trust the kernel
 * with its image any more than the kernel trusts the daemon: a request
 * outside the device, not block-aligned, with flags we do not know, or a
 * write whose payload is not its length is answered -EINVAL; a write,
 * discard or write-zeroes on a read-only device -EROFS.  So a backend
 * can use off and len as they come.
 */
#include <errno.h>
#include <string.h>

#include "uvfs_i.h"

#define ARG_BLK(msg) ((const struct uvfs_blk_in *)(msg)->arg)
#define BLK_FLAGS_KNOWN (UVFS_BLK_FUA | UVFS_BLK_NOUNMAP)

/* A request with a range: inside the device, aligned, not empty. */
static int check_range(const struct uvfs_req *req,
		       const struct uvfs_blk_in *in, bool modifies)
{
	const struct uvfs_blk_geometry *g = &req->se->geo;
	uint64_t mask = (uint64_t)g->block_size - 1;

	if (in->flags & ~BLK_FLAGS_KNOWN)
		return -EINVAL;
	if (!in->length || ((in->offset | in->length) & mask))
		return -EINVAL;
	if (in->offset > g->size || in->length > g->size - in->offset)
		return -EINVAL;
	if (modifies && (g->flags & UVFS_BDEV_RO))
		return -EROFS;
	return 0;
}

void uvfs_blk_do_read(struct uvfs_req *req, const struct uvfs_msg *msg)
{
	const struct uvfs_blk_in *in = ARG_BLK(msg);
	int err = check_range(req, in, false);

	/* a reply that does not fit the transport's buffer cannot be sent */
	if (!err && in->length > req->reply_max)
		err = -EINVAL;
	if (err) {
		uvfs_reply_err(req, err);
		return;
	}
	/* exactly length bytes, or the reply becomes -EIO (reply.c) */
	req->reply_max = in->length;
	req->reply_exact = true;
	req->se->blk_ops.read(req, in->offset, in->length);
}

void uvfs_blk_do_write(struct uvfs_req *req, const struct uvfs_msg *msg)
{
	const struct uvfs_blk_in *in = ARG_BLK(msg);
	int err = check_range(req, in, true);

	if (!err && msg->payload_len != in->length)
		err = -EINVAL;
	req->reply_max = 0;
	if (err) {
		uvfs_reply_err(req, err);
		return;
	}
	req->se->blk_ops.write(req, msg->payload, in->length, in->offset,
			       in->flags & UVFS_BLK_FUA);
}

void uvfs_blk_do_flush(struct uvfs_req *req, const struct uvfs_msg *msg)
{
	const struct uvfs_blk_in *in = ARG_BLK(msg);

	req->reply_max = 0;
	if (in->offset || in->length || (in->flags & ~BLK_FLAGS_KNOWN)) {
		uvfs_reply_err(req, -EINVAL);
		return;
	}
	req->se->blk_ops.flush(req);
}

void uvfs_blk_do_discard(struct uvfs_req *req, const struct uvfs_msg *msg)
{
	const struct uvfs_blk_in *in = ARG_BLK(msg);
	int err = check_range(req, in, true);

	req->reply_max = 0;
	if (err) {
		uvfs_reply_err(req, err);
		return;
	}
	req->se->blk_ops.discard(req, in->offset, in->length);
}

void uvfs_blk_do_write_zeroes(struct uvfs_req *req,
			      const struct uvfs_msg *msg)
{
	const struct uvfs_blk_in *in = ARG_BLK(msg);
	int err = check_range(req, in, true);

	req->reply_max = 0;
	if (err) {
		uvfs_reply_err(req, err);
		return;
	}
	req->se->blk_ops.write_zeroes(req, in->offset, in->length, in->flags);
}

/*
 * A missing op means the device does not advertise what it serves, so the
 * kernel should not send the request; if it does anyway: a device without
 * a volatile cache has nothing to flush, one without write is read-only,
 * and discard and write-zeroes are not supported (the block layer's
 * BLK_STS_NOTSUPP).
 */
int uvfs_blk_default_reply(struct uvfs_req *req)
{
	switch (req->in.opcode) {
	case UVFS_OP_BLK_FLUSH:
		return uvfs_reply_err(req, 0);
	case UVFS_OP_BLK_WRITE:
		return uvfs_reply_err(req, -EROFS);
	case UVFS_OP_BLK_DISCARD:
	case UVFS_OP_BLK_WRITE_ZEROES:
		return uvfs_reply_err(req, -EOPNOTSUPP);
	default:
		return uvfs_reply_err(req, -ENOSYS);
	}
}

int uvfs_blk_check_geometry(const struct uvfs_blk_geometry *geo, char *err,
			    size_t errlen)
{
	uint32_t bs = geo->block_size;

	if (bs < 512 || bs > 4096 || (bs & (bs - 1))) {
		snprintf(err, errlen, "block size %u (512, 1024, 2048 or 4096)",
			 bs);
		return -EINVAL;
	}
	if (!geo->size || geo->size % bs) {
		snprintf(err, errlen,
			 "size %llu is not a positive multiple of the block size %u",
			 (unsigned long long)geo->size, bs);
		return -EINVAL;
	}
	if (geo->flags & ~UVFS_BDEV_FLAGS_ALL) {
		snprintf(err, errlen, "unknown flags 0x%x", geo->flags);
		return -EINVAL;
	}
	return 0;
}
