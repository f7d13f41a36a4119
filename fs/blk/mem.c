// SPDX-License-Identifier: MIT
/*
 * mem: a block device in RAM (`uvfsd --bdev mem none -o size=1G`), lost
 * when the daemon exits.  SOURCE is only a label.
 *
 * The whole device is one anonymous private mapping made with
 * MAP_NORESERVE: the kernel gives it pages as they are first written, so
 * a large device that is mostly empty costs little, and reads of pages
 * never written are zeroes.  Discard and write-zeroes hand whole pages
 * back with MADV_DONTNEED (they read as zeroes after) and clear the
 * partial pages at the edges.  Nothing is volatile, so there is no flush.
 *
 * Requests touch disjoint memory unless the kernel overlaps them, which
 * the block layer leaves undefined on any disk: no lock is needed.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "blk_opts.h"
#include "uvfs/uvfs.h"

struct mem_dev {
	char *base;
	uint64_t size;
};

static void mem_read(struct uvfs_req *req, uint64_t off, size_t len)
{
	struct mem_dev *m = uvfs_req_priv(req);

	/* the reply copies straight from the device into the transport */
	uvfs_reply_buf(req, m->base + off, len);
}

static void mem_write(struct uvfs_req *req, const void *buf, size_t len,
		      uint64_t off, uint32_t flags)
{
	struct mem_dev *m = uvfs_req_priv(req);

	memcpy(m->base + off, buf, len);
	uvfs_reply_err(req, 0);
}

/* Zero [off, off + len): whole pages are given back, edges cleared. */
static void mem_zero(struct mem_dev *m, uint64_t off, uint64_t len)
{
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	uint64_t first = (off + page - 1) & ~(page - 1);
	uint64_t last = (off + len) & ~(page - 1);

	if (first >= last) {
		memset(m->base + off, 0, len);
		return;
	}
	memset(m->base + off, 0, first - off);
	if (madvise(m->base + first, last - first, MADV_DONTNEED) < 0)
		memset(m->base + first, 0, last - first);
	memset(m->base + last, 0, off + len - last);
}

static void mem_discard(struct uvfs_req *req, uint64_t off, uint64_t len)
{
	mem_zero(uvfs_req_priv(req), off, len);
	uvfs_reply_err(req, 0);
}

static void mem_write_zeroes(struct uvfs_req *req, uint64_t off,
			     uint64_t len, uint32_t flags)
{
	mem_zero(uvfs_req_priv(req), off, len);
	uvfs_reply_err(req, 0);
}

static int mem_open(const struct uvfs_blk_open_args *args,
		    struct uvfs_blk_geometry *geo, void **priv)
{
	struct blk_opts o;
	struct mem_dev *m;
	int ret;

	ret = blk_opts_parse("mem", args->options, 0, &o, args->errbuf,
			     args->errlen);
	if (ret)
		return ret;
	if (!o.size) {
		snprintf(args->errbuf, args->errlen,
			 "mem: give the device's size with -o size=N (e.g. -o size=64M)");
		return -EINVAL;
	}
	if (o.size % o.blksize) {
		snprintf(args->errbuf, args->errlen,
			 "mem: -o size=%llu is not a multiple of the block size %u",
			 (unsigned long long)o.size, o.blksize);
		return -EINVAL;
	}
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->size = o.size;
	m->base = o.size > SIZE_MAX ? MAP_FAILED :
		  mmap(NULL, (size_t)o.size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m->base == MAP_FAILED) {
		ret = o.size > SIZE_MAX ? -EFBIG : -errno;
		snprintf(args->errbuf, args->errlen,
			 "mem: cannot reserve %llu bytes: %s",
			 (unsigned long long)o.size, strerror(-ret));
		free(m);
		return ret;
	}
	geo->size = o.size;
	geo->block_size = o.blksize;
	geo->flags = UVFS_BDEV_DISCARD | UVFS_BDEV_WRITE_ZEROES |
		     (args->readonly ? UVFS_BDEV_RO : 0);
	*priv = m;
	return 0;
}

static void mem_close(void *priv)
{
	struct mem_dev *m = priv;

	munmap(m->base, (size_t)m->size);
	free(m);
}

static const struct uvfs_blk_ops mem_ops = {
	.read = mem_read,
	.write = mem_write,
	.discard = mem_discard,
	.write_zeroes = mem_write_zeroes,
};

static const struct uvfs_blk_backend mem_backend = {
	.api_version = UVFS_BLK_API_VERSION,
	.ops_size = sizeof(struct uvfs_blk_ops),
	.name = "mem",
	.usage = "  mem (uvfsd --bdev mem none -o size=N): a block device in RAM,\n"
		 "  lost when uvfsd exits; SOURCE is only a label (say none).\n"
		 "  Memory is taken as blocks are written; discard gives it back.\n"
		 BLK_OPTS_USAGE
		 "                          (size= is required)\n",
	.ops = &mem_ops,
	.open = mem_open,
	.close = mem_close,
};
UVFS_BLK_BACKEND(mem_backend);
