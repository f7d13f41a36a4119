// SPDX-License-Identifier: GPL-2.0
/*
 * The block devices /dev/uvbdN: a 'vn'-like device whose I/O a userland
 * daemon serves over the same shared-memory channel as a file system.
 *
 * UVFS_IOC_BDEV_ADD turns a set-up channel into the queues of one blk-mq
 * device: one hardware queue per channel queue, as deep as it, so that
 * every tag has a slot.  Each request becomes one BLK_* message, sent with
 * uvfs_send_async() and ended by its completion callback: from the
 * daemon's commit of the reply (READ data is copied out of the slot into
 * the request's pages there), or with -ENOTCONN when the channel is
 * aborted.  The queues are BLK_MQ_F_BLOCKING: queue_rq may sleep for a
 * slot (never long: tags and slots are as many), and is never called
 * from a context that must not.  Requests longer than a slot's payload
 * are split by the block layer (max_hw_sectors).
 *
 * Lifetime: a device holds a reference on its channel.  When the daemon
 * closes the channel, the abort fails what is pending and marks the disk
 * dead; the device stays until UVFS_IOC_BDEV_REMOVE (or module unload),
 * which deletes the disk (its users' dirty data is written first if the
 * daemon still serves), shuts the channel down so that the daemon's WAIT
 * returns ENODEV, and drops the reference.  uvbd_lock guards the index
 * table; an entry is NULL until its disk is added, and stays taken until
 * the disk is deleted, so a minor is never reused under a live disk.
 */
#include <linux/blk-mq.h>
#include <linux/blkdev.h>
#include <linux/idr.h>
#include <linux/module.h>
#include <linux/uaccess.h>

#include "uvfs_i.h"

#define UVBD_NAME "uvbd"
#define UVBD_TIMEOUT (30 * HZ)

struct uvfs_bdev {
	struct uvfs_conn *conn;
	struct blk_mq_tag_set tag_set;
	struct gendisk *disk;
	int index;
	bool removing;		/* under uvbd_lock */
};

/* A request's state: the blk-mq pdu, so nothing is allocated per I/O. */
struct uvbd_cmd {
	struct uvfs_args args;
	struct uvfs_blk_in in;
};

static int uvbd_major;
static DEFINE_IDR(uvbd_idr);
static DEFINE_MUTEX(uvbd_lock);

static struct request *uvbd_rq(struct uvfs_args *args)
{
	return blk_mq_rq_from_pdu(container_of(args, struct uvbd_cmd, args));
}

/* WRITE: the request's pages into the slot. */
static void uvbd_fill(struct uvfs_args *args, void *dst, size_t len)
{
	struct request *rq = uvbd_rq(args);
	struct req_iterator iter;
	struct bio_vec bv;
	char *p = dst;

	rq_for_each_segment(bv, rq, iter) {
		if (WARN_ON_ONCE(p + bv.bv_len > (char *)dst + len))
			break;
		memcpy_from_bvec(p, &bv);
		p += bv.bv_len;
	}
}

/* READ: the reply (its length already checked) into the request's pages. */
static void uvbd_copy_out(struct uvfs_args *args, const void *src,
			  size_t len)
{
	struct request *rq = uvbd_rq(args);
	struct req_iterator iter;
	struct bio_vec bv;
	const char *p = src;

	rq_for_each_segment(bv, rq, iter) {
		if (WARN_ON_ONCE(p + bv.bv_len > (const char *)src + len))
			break;
		memcpy_to_bvec(&bv, p);
		p += bv.bv_len;
	}
}

/*
 * What the daemon's errno (or ours) becomes: only the statuses a file
 * system acts on pass; anything else from the daemon is an I/O error (an
 * -EAGAIN or -EBUSY must not look like the block layer's own retry codes).
 */
static blk_status_t uvbd_status(int error)
{
	switch (error) {
	case 0:
		return BLK_STS_OK;
	case -ENOSPC:
		return BLK_STS_NOSPC;
	case -EOPNOTSUPP:
	case -ENOSYS:
		return BLK_STS_NOTSUPP;
	default:
		return BLK_STS_IOERR;
	}
}

static void uvbd_complete(struct uvfs_args *args, int error)
{
	blk_mq_end_request(uvbd_rq(args), uvbd_status(error));
}

static blk_status_t uvbd_queue_rq(struct blk_mq_hw_ctx *hctx,
				  const struct blk_mq_queue_data *bd)
{
	struct uvfs_bdev *b = hctx->queue->queuedata;
	struct request *rq = bd->rq;
	struct uvbd_cmd *cmd = blk_mq_rq_to_pdu(rq);
	struct uvfs_args *args = &cmd->args;
	u32 len = blk_rq_bytes(rq);
	int err;

	memset(cmd, 0, sizeof(*cmd));
	cmd->in.offset = (u64)blk_rq_pos(rq) << SECTOR_SHIFT;
	cmd->in.length = len;
	args->nodeid = b->index;
	args->nocreds = true;
	args->in_numargs = 1;
	args->in_args[0].size = sizeof(cmd->in);
	args->in_args[0].value = &cmd->in;
	args->complete = uvbd_complete;
	switch (req_op(rq)) {
	case REQ_OP_READ:
		args->opcode = UVFS_OP_BLK_READ;
		args->out_numargs = 1;
		args->out_args[0].size = len;
		args->out_copy = uvbd_copy_out;
		break;
	case REQ_OP_WRITE:
		args->opcode = UVFS_OP_BLK_WRITE;
		if (rq->cmd_flags & REQ_FUA)
			cmd->in.flags |= UVFS_BLK_FUA;
		args->in_numargs = 2;
		args->in_args[1].size = len;
		args->in_fill = uvbd_fill;
		break;
	case REQ_OP_FLUSH:
		args->opcode = UVFS_OP_BLK_FLUSH;
		cmd->in.offset = 0;
		cmd->in.length = 0;
		break;
	case REQ_OP_DISCARD:
		args->opcode = UVFS_OP_BLK_DISCARD;
		break;
	case REQ_OP_WRITE_ZEROES:
		args->opcode = UVFS_OP_BLK_WRITE_ZEROES;
		if (rq->cmd_flags & REQ_NOUNMAP)
			cmd->in.flags |= UVFS_BLK_NOUNMAP;
		break;
	default:
		return BLK_STS_NOTSUPP;
	}
	blk_mq_start_request(rq);
	err = uvfs_send_async(b->conn, hctx->queue_num, args);
	return uvbd_status(err);
}

/*
 * A daemon that is alive but slow is waited for, as loop waits for its
 * backing file; a dead one has already failed everything (abort).
 */
static enum blk_eh_timer_return uvbd_timeout(struct request *rq)
{
	return BLK_EH_RESET_TIMER;
}

static const struct blk_mq_ops uvbd_mq_ops = {
	.queue_rq = uvbd_queue_rq,
	.timeout = uvbd_timeout,
};

static const struct block_device_operations uvbd_fops = {
	.owner = THIS_MODULE,
};

static int uvbd_check(const struct uvfs_bdev_add *a)
{
	if (a->major != UVFS_PROTO_MAJOR)
		return -EPROTO;
	if (a->flags & ~UVFS_BDEV_FLAGS_ALL)
		return -EINVAL;
	if (a->block_size < SECTOR_SIZE || a->block_size > PAGE_SIZE ||
	    !is_power_of_2(a->block_size))
		return -EINVAL;
	if (!a->size || a->size % a->block_size ||
	    a->size >> SECTOR_SHIFT > (u64)MAX_LFS_FILESIZE >> SECTOR_SHIFT)
		return -EINVAL;
	return 0;
}

/* The largest request that fits a slot, in whole blocks. */
static u32 uvbd_max_io(struct uvfs_conn *conn, u32 bs)
{
	return round_down(uvfs_max_payload(conn), max_t(u32, bs, PAGE_SIZE));
}

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 11, 0)
static struct gendisk *uvbd_alloc_disk(struct uvfs_bdev *b,
				       const struct uvfs_bdev_add *a)
{
	u32 bs = a->block_size, max_io = uvbd_max_io(b->conn, bs);
	struct queue_limits lim = {
		.logical_block_size = bs,
		.physical_block_size = bs,
		.io_min = bs,
		.max_hw_sectors = max_io >> SECTOR_SHIFT,
		.max_segments = USHRT_MAX,
		.max_segment_size = max_io,
	};

	if (a->flags & UVFS_BDEV_DISCARD) {
		lim.max_hw_discard_sectors = round_down(U32_MAX, bs) >>
					     SECTOR_SHIFT;
		lim.discard_granularity = bs;
	}
	if (a->flags & UVFS_BDEV_WRITE_ZEROES)
		lim.max_write_zeroes_sectors = round_down(U32_MAX, bs) >>
					       SECTOR_SHIFT;
	if (a->flags & UVFS_BDEV_FLUSH)
		lim.features |= BLK_FEAT_WRITE_CACHE | BLK_FEAT_FUA;
	return blk_mq_alloc_disk(&b->tag_set, &lim, b);
}
#else
static struct gendisk *uvbd_alloc_disk(struct uvfs_bdev *b,
				       const struct uvfs_bdev_add *a)
{
	u32 bs = a->block_size, max_io = uvbd_max_io(b->conn, bs);
	struct request_queue *q;
	struct gendisk *disk;

	disk = blk_mq_alloc_disk(&b->tag_set, b);
	if (IS_ERR(disk))
		return disk;
	q = disk->queue;
	blk_queue_logical_block_size(q, bs);
	blk_queue_physical_block_size(q, bs);
	blk_queue_io_min(q, bs);
	blk_queue_max_hw_sectors(q, max_io >> SECTOR_SHIFT);
	blk_queue_max_segments(q, USHRT_MAX);
	blk_queue_max_segment_size(q, max_io);
	if (a->flags & UVFS_BDEV_DISCARD) {
		blk_queue_max_discard_sectors(q, round_down(U32_MAX, bs) >>
					      SECTOR_SHIFT);
		q->limits.discard_granularity = bs;
	}
	if (a->flags & UVFS_BDEV_WRITE_ZEROES)
		blk_queue_max_write_zeroes_sectors(q, round_down(U32_MAX, bs) >>
						   SECTOR_SHIFT);
	blk_queue_write_cache(q, a->flags & UVFS_BDEV_FLUSH,
			      a->flags & UVFS_BDEV_FLUSH);
	blk_queue_flag_set(QUEUE_FLAG_NONROT, q);
	return disk;
}
#endif

/* Delete a device whose disk was added; its index is still taken. */
static void uvbd_destroy(struct uvfs_bdev *b)
{
	struct uvfs_conn *conn = b->conn;

	del_gendisk(b->disk);
	mutex_lock(&conn->setup_lock);
	conn->bdev = NULL;
	mutex_unlock(&conn->setup_lock);
	uvfs_conn_shutdown(conn);
	put_disk(b->disk);
	blk_mq_free_tag_set(&b->tag_set);
	mutex_lock(&uvbd_lock);
	idr_remove(&uvbd_idr, b->index);
	mutex_unlock(&uvbd_lock);
	uvfs_conn_put(conn);
	kfree(b);
}

long uvfs_bdev_add(struct uvfs_conn *conn, void __user *uarg)
{
	struct uvfs_bdev_add a;
	struct uvfs_bdev *b;
	struct gendisk *disk;
	int err;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	if (copy_from_user(&a, uarg, sizeof(a)))
		return -EFAULT;
	err = uvbd_check(&a);
	if (err)
		return err;
	if (!smp_load_acquire(&conn->setup_done))
		return -EINVAL;
	/* one user per channel: a mount, or this device */
	if (atomic_cmpxchg(&conn->mounted, 0, 1) != 0)
		return -EBUSY;

	err = -ENOMEM;
	b = kzalloc(sizeof(*b), GFP_KERNEL);
	if (!b)
		goto out_unclaim;
	b->conn = conn;
	mutex_lock(&uvbd_lock);
	err = idr_alloc(&uvbd_idr, NULL, 0, 1 << MINORBITS, GFP_KERNEL);
	mutex_unlock(&uvbd_lock);
	if (err < 0)
		goto out_free;
	b->index = err;

	b->tag_set.ops = &uvbd_mq_ops;
	b->tag_set.nr_hw_queues = conn->nqueues;
	b->tag_set.queue_depth = conn->depth;
	b->tag_set.numa_node = NUMA_NO_NODE;
	b->tag_set.cmd_size = sizeof(struct uvbd_cmd);
	b->tag_set.flags = BLK_MQ_F_SHOULD_MERGE | BLK_MQ_F_BLOCKING;
	b->tag_set.timeout = UVBD_TIMEOUT;
	b->tag_set.driver_data = b;
	err = blk_mq_alloc_tag_set(&b->tag_set);
	if (err)
		goto out_idr;
	disk = uvbd_alloc_disk(b, &a);
	if (IS_ERR(disk)) {
		err = PTR_ERR(disk);
		goto out_tags;
	}
	b->disk = disk;
	disk->major = uvbd_major;
	disk->first_minor = b->index;
	disk->minors = 1;
	disk->fops = &uvbd_fops;
	disk->private_data = b;
	disk->flags |= GENHD_FL_NO_PART;
	snprintf(disk->disk_name, DISK_NAME_LEN, UVBD_NAME "%d", b->index);
	set_capacity(disk, a.size >> SECTOR_SHIFT);
	if (a.flags & UVFS_BDEV_RO)
		set_disk_ro(disk, true);

	a.index = b->index;
	a.max_io = uvbd_max_io(conn, a.block_size);
	err = -EFAULT;
	if (copy_to_user(uarg, &a, sizeof(a)))
		goto out_disk;

	mutex_lock(&conn->setup_lock);
	err = -ENOTCONN;
	if (!conn->connected) {
		mutex_unlock(&conn->setup_lock);
		goto out_disk;
	}
	uvfs_conn_get(conn);	/* the device's */
	conn->bdev = b;
	mutex_unlock(&conn->setup_lock);

	/* reads the device: the daemon serves its queues already */
	err = add_disk(disk);
	if (err)
		goto out_unbind;
	mutex_lock(&uvbd_lock);
	idr_replace(&uvbd_idr, b, b->index);
	mutex_unlock(&uvbd_lock);
	return 0;

out_unbind:
	mutex_lock(&conn->setup_lock);
	conn->bdev = NULL;
	mutex_unlock(&conn->setup_lock);
	uvfs_conn_put(conn);
out_disk:
	put_disk(disk);
out_tags:
	blk_mq_free_tag_set(&b->tag_set);
out_idr:
	mutex_lock(&uvbd_lock);
	idr_remove(&uvbd_idr, b->index);
	mutex_unlock(&uvbd_lock);
out_free:
	kfree(b);
out_unclaim:
	atomic_set(&conn->mounted, 0);
	return err;
}

long uvfs_bdev_remove(const u32 __user *uindex)
{
	struct uvfs_bdev *b;
	u32 index;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	if (get_user(index, uindex))
		return -EFAULT;
	mutex_lock(&uvbd_lock);
	b = index < (1U << MINORBITS) ? idr_find(&uvbd_idr, index) : NULL;
	if (!b || b->removing) {
		mutex_unlock(&uvbd_lock);
		return -ENOENT;
	}
	b->removing = true;
	mutex_unlock(&uvbd_lock);
	uvbd_destroy(b);
	return 0;
}

/*
 * The channel was aborted (called under conn->setup_lock): everything
 * pending has failed; make new I/O fail before it reaches us.
 */
void uvfs_bdev_conn_dead(struct uvfs_bdev *b)
{
	blk_mark_disk_dead(b->disk);
}

int uvfs_bdev_init(void)
{
	uvbd_major = register_blkdev(0, UVBD_NAME);
	return uvbd_major < 0 ? uvbd_major : 0;
}

/* Module unload: no channel is open, but dead devices may remain. */
void uvfs_bdev_exit(void)
{
	struct uvfs_bdev *b;
	int id;

	for (;;) {
		mutex_lock(&uvbd_lock);
		b = NULL;
		idr_for_each_entry(&uvbd_idr, b, id) {
			if (!b->removing)
				break;
		}
		if (b)
			b->removing = true;
		mutex_unlock(&uvbd_lock);
		if (!b)
			break;
		uvbd_destroy(b);
	}
	idr_destroy(&uvbd_idr);
	unregister_blkdev(uvbd_major, UVBD_NAME);
}
