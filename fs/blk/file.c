// SPDX-License-Identifier: MIT
/*
 * file: a block device on an image file (`uvfsd --bdev file IMAGE`), or on
 * another block device.  Its bytes are the device's bytes, so the image
 * can be mounted or checked (e2fsck) once the device is gone.
 *
 * - The image is claimed (uvfs_source_claim) for as long as the device
 *   lives: a second daemon, or a mount of the image, is refused.
 * - I/O is pread/pwrite, looped on short transfers.  The image's page
 *   cache is a volatile cache, so the device advertises FLUSH: a flush is
 *   fdatasync(), a FUA write is written with RWF_DSYNC (or pwrite then
 *   fdatasync where the kernel lacks it).
 * - Discard punches a hole (reads then return zeroes), write-zeroes
 *   punches one too, or zeroes the range in place when UVFS_BLK_NOUNMAP
 *   asks to keep it allocated; a file system that cannot do either gets
 *   zeroes written.  A discard it cannot do is simply not done: the
 *   contents of a discarded range are undefined.
 * - -o direct opens the image a second time with O_DIRECT, so the image
 *   does not also fill the page cache.  The transport's buffers are not
 *   aligned for O_DIRECT (the ring's data follows the message headers),
 *   so data goes through an aligned bounce buffer; a range the image's
 *   file system will not take directly goes through the page cache.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "blk_opts.h"
#include "uvfs/uvfs.h"

#define DIO_ALIGN 4096		/* memory alignment of the bounce buffer */
#define ZERO_CHUNK (64 * 1024)

struct file_dev {
	int fd;			/* the claim; buffered I/O */
	int dfd;		/* -o direct: O_DIRECT, else -1 */
	int readonly;
};

static const char zeroes[ZERO_CHUNK];

static int read_all(int fd, char *buf, size_t len, uint64_t off)
{
	while (len) {
		ssize_t n = pread(fd, buf, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)	/* the image shrank behind our back */
			return -EIO;
		buf += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

/* rwf: RWF_DSYNC for a FUA write (every chunk durable), else 0. */
static int write_all(int fd, const char *buf, size_t len, uint64_t off,
		     int rwf)
{
	while (len) {
		struct iovec iov = { (void *)buf, len };
		ssize_t n = pwritev2(fd, &iov, 1, (off_t)off, rwf);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && rwf && (errno == EOPNOTSUPP || errno == ENOSYS)) {
			/* no RWF_DSYNC here: write, then make it durable */
			int ret = write_all(fd, buf, len, off, 0);

			return ret ? ret : (fdatasync(fd) < 0 ? -errno : 0);
		}
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		buf += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

/*
 * -o direct: the I/O through the O_DIRECT descriptor, buf bounced when it
 * is not aligned.  -EINVAL: the image's file system refuses this range
 * directly (its block is larger than ours): the caller goes buffered.
 */
static int direct_io(struct file_dev *f, char *buf, size_t len, uint64_t off,
		     int write, int rwf)
{
	void *bounce = NULL;
	char *p = buf;
	int ret;

	if ((uintptr_t)buf % DIO_ALIGN) {
		if (posix_memalign(&bounce, DIO_ALIGN, len))
			return -ENOMEM;
		p = bounce;
		if (write)
			memcpy(p, buf, len);
	}
	ret = write ? write_all(f->dfd, p, len, off, rwf) :
		      read_all(f->dfd, p, len, off);
	if (!ret && !write && bounce)
		memcpy(buf, p, len);
	free(bounce);
	return ret;
}

static void file_read(struct uvfs_req *req, uint64_t off, size_t len)
{
	struct file_dev *f = uvfs_req_priv(req);
	char *buf = uvfs_req_outbuf(req, len);
	int ret = -EINVAL;

	if (!buf) {
		uvfs_reply_err(req, -ENOMEM);
		return;
	}
	if (f->dfd >= 0)
		ret = direct_io(f, buf, len, off, 0, 0);
	if (ret == -EINVAL)
		ret = read_all(f->fd, buf, len, off);
	if (ret)
		uvfs_reply_err(req, ret);
	else
		uvfs_reply_buf(req, buf, len);
}

static void file_write(struct uvfs_req *req, const void *buf, size_t len,
		       uint64_t off, uint32_t flags)
{
	struct file_dev *f = uvfs_req_priv(req);
	int rwf = (flags & UVFS_BLK_FUA) ? RWF_DSYNC : 0;
	int ret = -EINVAL;

	if (f->dfd >= 0)
		ret = direct_io(f, (char *)buf, len, off, 1, rwf);
	if (ret == -EINVAL)
		ret = write_all(f->fd, buf, len, off, rwf);
	uvfs_reply_err(req, ret);
}

static void file_flush(struct uvfs_req *req)
{
	struct file_dev *f = uvfs_req_priv(req);

	uvfs_reply_err(req, fdatasync(f->fd) < 0 ? -errno : 0);
}

static int punch(int fd, uint64_t off, uint64_t len, int mode)
{
	while (fallocate(fd, mode | FALLOC_FL_KEEP_SIZE, (off_t)off,
			 (off_t)len) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	return 0;
}

static void file_discard(struct uvfs_req *req, uint64_t off, uint64_t len)
{
	struct file_dev *f = uvfs_req_priv(req);
	int ret = punch(f->fd, off, len, FALLOC_FL_PUNCH_HOLE);

	/* undefined contents allow doing nothing */
	if (ret == -EOPNOTSUPP)
		ret = 0;
	uvfs_reply_err(req, ret);
}

static int write_zero_bytes(struct file_dev *f, uint64_t off, uint64_t len)
{
	while (len) {
		size_t n = len < ZERO_CHUNK ? (size_t)len : ZERO_CHUNK;
		int ret = write_all(f->fd, zeroes, n, off, 0);

		if (ret)
			return ret;
		off += n;
		len -= n;
	}
	return 0;
}

static void file_write_zeroes(struct uvfs_req *req, uint64_t off,
			      uint64_t len, uint32_t flags)
{
	struct file_dev *f = uvfs_req_priv(req);
	int ret;

	if (flags & UVFS_BLK_NOUNMAP) {
		ret = punch(f->fd, off, len, FALLOC_FL_ZERO_RANGE);
	} else {
		ret = punch(f->fd, off, len, FALLOC_FL_PUNCH_HOLE);
		if (ret == -EOPNOTSUPP)
			ret = punch(f->fd, off, len, FALLOC_FL_ZERO_RANGE);
	}
	if (ret == -EOPNOTSUPP)
		ret = write_zero_bytes(f, off, len);
	if (!ret && (flags & UVFS_BLK_FUA) && fdatasync(f->fd) < 0)
		ret = -errno;
	uvfs_reply_err(req, ret);
}

/* The image's size, after -o size= grew it; 0 or -errno with a reason. */
static int image_size(struct file_dev *f, const struct uvfs_blk_open_args *a,
		      const struct blk_opts *o, uint64_t *size)
{
	struct stat st;
	uint64_t cur;

	if (fstat(f->fd, &st) < 0)
		goto errno_err;
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(f->fd, BLKGETSIZE64, &cur) < 0)
			goto errno_err;
	} else {
		cur = (uint64_t)st.st_size;
	}
	if (o->size && o->size % o->blksize) {
		snprintf(a->errbuf, a->errlen,
			 "file: -o size=%llu is not a multiple of the block size %u",
			 (unsigned long long)o->size, o->blksize);
		return -EINVAL;
	}
	if (o->size && o->size < cur) {
		snprintf(a->errbuf, a->errlen,
			 "file: -o size=%llu is smaller than %s (%llu bytes): "
			 "images are never shrunk",
			 (unsigned long long)o->size, a->source,
			 (unsigned long long)cur);
		return -EINVAL;
	}
	if (o->size > cur) {
		if (S_ISBLK(st.st_mode) || a->readonly) {
			snprintf(a->errbuf, a->errlen,
				 "file: -o size=%llu is larger than %s (%llu bytes), "
				 "which cannot grow%s",
				 (unsigned long long)o->size, a->source,
				 (unsigned long long)cur,
				 a->readonly ? " read-only" : "");
			return -EINVAL;
		}
		/* sparse: only what is written takes space */
		if (ftruncate(f->fd, (off_t)o->size) < 0)
			goto errno_err;
		cur = o->size;
	}
	if (!cur) {
		snprintf(a->errbuf, a->errlen,
			 "file: %s is empty: give the device's size with -o size=N",
			 a->source);
		return -EINVAL;
	}
	if (cur % o->blksize) {
		snprintf(a->errbuf, a->errlen,
			 "file: the size of %s (%llu bytes) is not a multiple of "
			 "the block size %u (grow it with -o size=)",
			 a->source, (unsigned long long)cur, o->blksize);
		return -EINVAL;
	}
	*size = cur;
	return 0;

errno_err:
	cur = (uint64_t)errno;	/* snprintf may change errno */
	snprintf(a->errbuf, a->errlen, "file: %s: %s", a->source,
		 strerror((int)cur));
	return -(int)cur;
}

static int file_open(const struct uvfs_blk_open_args *args,
		     struct uvfs_blk_geometry *geo, void **priv)
{
	struct blk_opts o;
	struct file_dev *f;
	char why[512];
	struct stat st;
	uint64_t size = 0;
	int ret;

	ret = blk_opts_parse("file", args->options, 1, &o, args->errbuf,
			     args->errlen);
	if (ret)
		return ret;
	if (stat(args->source, &st) < 0) {
		ret = -errno;
		snprintf(args->errbuf, args->errlen, "file: image %s: %s",
			 args->source, strerror(errno));
		return ret;
	}
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
		snprintf(args->errbuf, args->errlen,
			 "file: %s is not an image file or a block device",
			 args->source);
		return -EINVAL;
	}
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->dfd = -1;
	f->readonly = args->readonly;
	f->fd = uvfs_source_claim(args->source, args->readonly, 0, 0, why,
				  sizeof(why));
	if (f->fd < 0) {
		ret = f->fd;
		snprintf(args->errbuf, args->errlen, "file: %s%s", why,
			 (ret == -EACCES || ret == -EROFS) && !args->readonly &&
			 access(args->source, R_OK) == 0 ?
			 " (-o ro for a read-only device)" : "");
		goto err_free;
	}
	ret = image_size(f, args, &o, &size);
	if (ret)
		goto err_close;
	if (o.direct) {
		f->dfd = open(args->source, (args->readonly ? O_RDONLY : O_RDWR) |
					    O_DIRECT | O_CLOEXEC);
		if (f->dfd < 0) {
			ret = -errno;
			snprintf(args->errbuf, args->errlen,
				 "file: -o direct: %s: %s", args->source,
				 ret == -EINVAL ?
				 "its file system does not support O_DIRECT" :
				 strerror(errno));
			goto err_close;
		}
	}
	geo->size = size;
	geo->block_size = o.blksize;
	geo->flags = UVFS_BDEV_FLUSH | UVFS_BDEV_DISCARD |
		     UVFS_BDEV_WRITE_ZEROES |
		     (args->readonly ? UVFS_BDEV_RO : 0);
	*priv = f;
	return 0;

err_close:
	close(f->fd);
err_free:
	free(f);
	return ret;
}

static void file_close(void *priv)
{
	struct file_dev *f = priv;

	/* the image is consistent the moment the daemon is gone */
	if (!f->readonly && fsync(f->fd) < 0)
		uvfs_log("file: fsync of the image failed: %s",
			 strerror(errno));
	if (f->dfd >= 0)
		close(f->dfd);
	close(f->fd);
	free(f);
}

static const struct uvfs_blk_ops file_ops = {
	.read = file_read,
	.write = file_write,
	.flush = file_flush,
	.discard = file_discard,
	.write_zeroes = file_write_zeroes,
};

static const struct uvfs_blk_backend file_backend = {
	.api_version = UVFS_BLK_API_VERSION,
	.ops_size = sizeof(struct uvfs_blk_ops),
	.name = "file",
	.usage = "  file (uvfsd --bdev file IMAGE): a block device on an image file\n"
		 "  (or on a block device), claimed while it is served.\n"
		 BLK_OPTS_USAGE
		 "                          (size=: grow IMAGE to N bytes first,\n"
		 "                          sparse; IMAGE is never shrunk)\n"
		 "    -o direct             O_DIRECT: the image bypasses the page cache\n",
	.ops = &file_ops,
	.open = file_open,
	.close = file_close,
};
UVFS_BLK_BACKEND(file_backend);
