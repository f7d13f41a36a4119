// SPDX-License-Identifier: MIT
/*
 * ext2: file data: read, write, fallocate, lseek.  Reads and writes map
 * logical blocks to physically contiguous runs (ext2_bmap.c) and move each
 * run with one pread/pwrite on e2->data_fd, the backend's own descriptor
 * of the image (see ext2_i.h for why data never goes through libext2fs's
 * io cache).  Holes that a write fills get fresh blocks that are written
 * before they are mapped, never zeroed first (see e2_fill_hole).
 *
 * Reads, and overwrites of written blocks inside the file, map their runs
 * under e2->lock, then drop it for the I/O and hold only the node's io
 * lock shared: they proceed in parallel with each other and with every
 * other op.  Writes that allocate blocks or grow the file keep the lock.
 * Whatever frees a file's blocks (truncate, punch, delete) takes that lock
 * exclusively first, so a read never sees a block after it has been given
 * to someone else.
 */
#include <errno.h>
#include <linux/falloc.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ext2_i.h"

/* ------------------------------------------------------------------------
 * The image, with no cache in between
 */

/* len bytes of file data at byte pos of the image, no cache in between. */
static int data_io(struct e2fs *e2, bool write, uint64_t pos, void *buf,
		   size_t len)
{
	size_t done = 0;

	pos += e2->data_off;	/* -o offset= */
	while (done < len) {
		ssize_t r = write ? pwrite(e2->data_fd, (char *)buf + done,
					   len - done, (off_t)(pos + done)) :
				    pread(e2->data_fd, (char *)buf + done,
					  len - done, (off_t)(pos + done));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -EIO;	/* the image is shorter than it says */
		done += (size_t)r;
	}
	return 0;
}

int e2_data_write(struct e2fs *e2, blk64_t pblk, size_t count,
		  const void *buf)
{
	return data_io(e2, true, pblk * e2->bs, (void *)buf, count * e2->bs);
}

/* ------------------------------------------------------------------------
 * Read
 */

int e2_read_inline(struct e2fs *e2, struct e2_node *n, char *buf,
		   size_t size, uint64_t off)
{
	size_t len = 0;
	char *data;
	int err;

	err = e2_err(ext2fs_inline_data_size(e2->fs, n->ino, &len));
	if (err)
		return err;
	data = calloc(1, len + 1);
	if (!data)
		return -ENOMEM;
	err = e2_err(ext2fs_inline_data_get(e2->fs, n->ino, e2_small(n), data,
					    &len));
	memset(buf, 0, size);
	if (!err && off < len)
		memcpy(buf, data + off, len - off < size ? len - off : size);
	free(data);
	return err;
}

/* One piece of a read: len bytes from image byte pos, or zeros (pos 0). */
struct read_run {
	uint64_t pos;
	size_t len;
};

/*
 * Map size bytes at off, all inside the file, to runs, in *out (the
 * caller frees it, also on error).  Each step ends at a run's end or at
 * the end of the request, so there are at most size / bs + 2.
 */
static int read_map(struct e2fs *e2, struct e2_node *n, size_t size,
		    uint64_t off, struct read_run **out, size_t *nruns)
{
	unsigned int bs = e2->bs;
	size_t done = 0, k = 0;
	struct read_run *runs;
	int err = 0;

	*nruns = 0;
	*out = runs = malloc((size / bs + 2) * sizeof(*runs));
	if (!runs)
		return -ENOMEM;

	while (done < size && !err) {
		uint64_t pos = off + done;
		blk64_t pblk, run;
		size_t boff = pos % bs, chunk;
		bool uninit;

		err = e2_map_run(e2, n, pos / bs,
				 (size - done + boff + bs - 1) / bs, &pblk, &run,
				 &uninit);
		if (err)
			break;
		chunk = run * bs - boff;
		if (chunk > size - done)
			chunk = size - done;
		/* unwritten extents read as zeros, like holes */
		runs[k].pos = pblk && !uninit ? pblk * bs + boff : 0;
		runs[k].len = chunk;
		k++;
		done += chunk;
	}
	*nruns = k;
	return err;
}

/* Move the runs' bytes between the image and buf (writes: no zero runs). */
static int move_runs(struct e2fs *e2, bool write, const struct read_run *runs,
		     size_t nruns, char *buf)
{
	int err = 0;
	size_t i;

	for (i = 0; i < nruns && !err; i++) {
		if (runs[i].pos)
			err = data_io(e2, write, runs[i].pos, buf, runs[i].len);
		else
			memset(buf, 0, runs[i].len);
		buf += runs[i].len;
	}
	return err;
}

/*
 * move_runs() without e2->lock, which the caller holds and which is
 * dropped here: the runs' blocks stay n's until the io is done, since
 * whatever frees them takes n's io lock exclusively, which we hold shared.
 */
static int move_runs_unlocked(struct e2fs *e2, struct e2_node *n, bool write,
			      const struct read_run *runs, size_t nruns,
			      char *buf)
{
	int err;

	/* never blocks: exclusive holders hold e2->lock, which we have */
	pthread_rwlock_rdlock(&n->io);
	pthread_mutex_unlock(&e2->lock);
	err = move_runs(e2, write, runs, nruns, buf);
	pthread_rwlock_unlock(&n->io);
	return err;
}

void ext2_read(struct uvfs_req *req, uint64_t nodeid, size_t size, off_t off,
	       struct uvfs_file_info *fi)
{
	struct e2fs *e2 = uvfs_req_priv(req);
	struct read_run *runs = NULL;
	struct e2_node *n = NULL;
	char *buf = NULL, *heap = NULL;
	size_t len = 0, nruns = 0;
	uint64_t fsize;
	int err;

	pthread_mutex_lock(&e2->lock);
	err = e2_node_get_id(e2, nodeid, &n);
	if (!err && !LINUX_S_ISREG(n->inode.i_mode))
		err = LINUX_S_ISDIR(n->inode.i_mode) ? -EISDIR : -EINVAL;
	if (!err && off < 0)
		err = -EINVAL;
	if (err)
		goto unlock;
	fsize = e2_size(n);
	if ((uint64_t)off < fsize)
		len = fsize - (uint64_t)off < size ? (size_t)(fsize - off) :
						     size;
	buf = uvfs_req_outbuf(req, len);
	if (!buf)
		buf = heap = malloc(len ? len : 1);
	if (!buf) {
		err = -ENOMEM;
		goto unlock;
	}
	if (n->inode.i_flags & EXT4_INLINE_DATA_FL) {
		err = e2_read_inline(e2, n, buf, len, (uint64_t)off);
		goto unlock;
	}
	err = read_map(e2, n, len, (uint64_t)off, &runs, &nruns);
	if (err)
		goto unlock;
	err = move_runs_unlocked(e2, n, false, runs, nruns, buf);
	goto reply;
unlock:
	pthread_mutex_unlock(&e2->lock);
reply:
	if (err)
		e2_reply_err(req, err);
	else
		uvfs_reply_buf(req, buf, len);
	free(runs);
	free(heap);
}

/* ------------------------------------------------------------------------
 * Write
 */
/*
 * Part of one block.  Written data goes in place; an unwritten extent
 * block or a hole gets a whole block: the data in zeros.
 */
static int write_partial(struct e2fs *e2, struct e2_node *n, blk64_t lblk,
			 size_t boff, const char *data, size_t len)
{
	blk64_t pblk, got;
	char *bounce;
	bool uninit;
	int err;

	err = e2_map_block(e2, n, lblk, false, &pblk, &uninit);
	if (err)
		return err;
	if (pblk && !uninit)
		return data_io(e2, true, pblk * e2->bs + boff, (void *)data,
			       len);
	bounce = calloc(1, e2->bs);
	if (!bounce)
		return -ENOMEM;
	memcpy(bounce + boff, data, len);
	if (!pblk) {
		err = e2_fill_hole(e2, n, lblk, 1, bounce, &got);
	} else {
		err = e2_data_write(e2, pblk, 1, bounce);
		if (!err)
			err = e2_mark_written(e2, n, lblk, pblk);
	}
	free(bounce);
	return err;
}

/*
 * count whole blocks from lblk: one io call per physically contiguous
 * run, holes filled as they come.  *done: blocks written, also on error.
 */
static int write_full(struct e2fs *e2, struct e2_node *n, blk64_t lblk,
		      size_t count, const char *data, size_t *done)
{
	size_t i = 0;
	int err = 0;

	while (i < count && !err) {
		blk64_t pblk, run, k;
		bool uninit;

		err = e2_map_run(e2, n, lblk + i, count - i, &pblk, &run,
				 &uninit);
		if (err)
			break;
		if (!pblk) {
			err = e2_fill_hole(e2, n, lblk + i, run,
					   data + i * e2->bs, &run);
		} else {
			err = e2_data_write(e2, pblk, run, data + i * e2->bs);
			for (k = 0; uninit && k < run && !err; k++) {
				err = e2_mark_written(e2, n, lblk + i + k,
						      pblk + k);
				if (err)
					break;
			}
			/* blocks marked written hold the new data: they are
			 * written, the rest still read as zeros */
			if (err)
				run = uninit ? k : 0;
		}
		i += run;
	}
	*done = i;
	return err;
}

/*
 * Can the holes of size bytes at off all get blocks, with the map blocks
 * they need (exactly for block maps, generously for extents)?  Over FUSE,
 * the writeback of pages dirtied through mmap ignores a short WRITE
 * count: a WRITE that filled some holes, hit ENOSPC and returned the
 * prefix would lose the rest silently (msync reports success).  So a
 * write fails whole with ENOSPC, before it changes anything, unless it
 * fits (a write(2) larger than the space left still comes back short:
 * uvfs.ko retries page by page, FUSE splits it into several WRITEs).
 */
static int write_fits(struct e2fs *e2, struct e2_node *n, size_t size,
		      uint64_t off)
{
	blk64_t lblk = off / e2->bs, end = (off + size - 1) / e2->bs + 1;
	blk64_t pblk, run, holes = 0, runs = 0, meta;
	bool uninit;
	int err;

	if (!size || (n->inode.i_flags & EXT4_INLINE_DATA_FL))
		return 0;
	while (lblk < end) {
		err = e2_map_run(e2, n, lblk, end - lblk, &pblk, &run, &uninit);
		if (err)
			return err;
		if (!pblk) {
			holes += run;
			runs++;
		}
		lblk += run;
	}
	if (!holes)
		return 0;
	if (n->inode.i_flags & EXT4_EXTENTS_FL) {
		meta = runs * 2 + 4;	/* a split per level, depth <= 4 */
	} else {
		/* exact, so ENOSPC comes where the kernel's driver gives it */
		err = e2_ind_blocks_needed(e2, n, off / e2->bs, end, &meta);
		if (err)
			return err;
	}
	return holes + meta > ext2fs_free_blocks_count(e2->fs->super) ?
		       -ENOSPC : 0;
}

int e2_write_data(struct e2fs *e2, struct e2_node *n, const char *buf,
		  size_t size, uint64_t off)
{
	unsigned int bs = e2->bs;
	size_t done = 0;
	int err;

	err = write_fits(e2, n, size, off);
	if (err)
		return err;
	e2_mark_dirty(e2, n);
	while (done < size && !err) {
		uint64_t pos = off + done;
		size_t boff = pos % bs, chunk = bs - boff;

		if (chunk > size - done)
			chunk = size - done;
		if (chunk < bs) {
			err = write_partial(e2, n, pos / bs, boff, buf + done,
					    chunk);
			if (!err)
				done += chunk;
		} else {
			size_t blocks;

			err = write_full(e2, n, pos / bs, (size - done) / bs,
					 buf + done, &blocks);
			done += blocks * bs;
		}
	}
	/* a write that wrote nothing (ENOSPC) leaves the size alone */
	if (done && off + done > e2_size(n)) {
		int serr = e2_set_size(e2, n, off + done);

		if (!err)
			err = serr;
	}
	return done ? (int)(done > INT32_MAX ? INT32_MAX : done) : err;
}

/*
 * An overwrite of written blocks inside the file changes no metadata but
 * the times, so its data can move without e2->lock, like a read's.  1 and
 * the runs if size bytes at off are such an overwrite, else 0 (or an
 * error): the write then allocates, or grows the file, under the lock.
 */
static int overwrite_map(struct e2fs *e2, struct e2_node *n, size_t size,
			 uint64_t off, struct read_run **runs, size_t *nruns)
{
	size_t i;
	int err;

	if ((n->inode.i_flags & EXT4_INLINE_DATA_FL) || !size ||
	    off + size > e2_size(n))
		return 0;
	err = read_map(e2, n, size, off, runs, nruns);
	for (i = 0; !err && i < *nruns; i++)
		if (!(*runs)[i].pos)
			return 0;	/* a hole or an unwritten extent */
	return err ?: 1;
}

void ext2_write(struct uvfs_req *req, uint64_t nodeid, const void *buf,
		size_t size, off_t off, struct uvfs_file_info *fi)
{
	struct e2fs *e2 = uvfs_req_priv(req);
	struct read_run *runs = NULL;
	struct e2_node *n;
	size_t nruns = 0;
	int err, ret = 0;

	pthread_mutex_lock(&e2->lock);
	err = e2_check_writable(e2);
	if (!err)
		err = e2_node_get_id(e2, nodeid, &n);
	if (!err && !LINUX_S_ISREG(n->inode.i_mode))
		err = -EINVAL;
	if (!err && (off < 0 || (uint64_t)off >= e2_max_size(e2, n)))
		err = -EFBIG;
	if (err)
		goto unlock;
	/* as the kernel: a write that crosses the limit is short */
	if (size > e2_max_size(e2, n) - (uint64_t)off)
		size = e2_max_size(e2, n) - (uint64_t)off;
	err = overwrite_map(e2, n, size, (uint64_t)off, &runs, &nruns);
	if (err < 0)
		goto unlock;
	if (err) {
		e2_mark_dirty(e2, n);
		e2_touch(n, E2_MTIME | E2_CTIME);
		err = e2_node_write(e2, n);
		if (err)
			goto unlock;
		err = move_runs_unlocked(e2, n, true, runs, nruns,
					 (char *)buf);
		ret = (int)size;
		goto reply;
	}
	ret = e2_write_data(e2, n, buf, size, (uint64_t)off);
	e2_touch(n, E2_MTIME | E2_CTIME);
	err = e2_node_write(e2, n);
	if (ret < 0)
		err = ret;
unlock:
	pthread_mutex_unlock(&e2->lock);
reply:
	if (err)
		e2_reply_err(req, err);
	else
		uvfs_reply_write(req, (size_t)ret);
	free(runs);
}

/* ------------------------------------------------------------------------
 * Punch, fallocate
 */

/* Zero [boff, boff+len) of block lblk if it holds data. */
int e2_zero_in_block(struct e2fs *e2, struct e2_node *n, blk64_t lblk,
		     size_t boff, size_t len)
{
	blk64_t pblk;
	bool uninit;
	char *zeros;
	int err;

	err = e2_map_block(e2, n, lblk, false, &pblk, &uninit);
	if (err || !pblk || uninit)
		return err;
	zeros = calloc(1, len);
	if (!zeros)
		return -ENOMEM;
	err = data_io(e2, true, pblk * e2->bs + boff, zeros, len);
	free(zeros);
	return err;
}

static int punch_hole(struct e2fs *e2, struct e2_node *n, uint64_t off,
		      uint64_t len)
{
	unsigned int bs = e2->bs;
	uint64_t end = off + len;
	blk64_t first = (off + bs - 1) / bs, last = end / bs;	/* [first,last) */
	int err = 0;

	if (off / bs == end / bs) {
		/* inside one block */
		return e2_zero_in_block(e2, n, off / bs, off % bs, len);
	}
	if (off % bs)
		err = e2_zero_in_block(e2, n, off / bs, off % bs,
				       bs - off % bs);
	if (!err && end % bs)
		err = e2_zero_in_block(e2, n, end / bs, 0, end % bs);
	if (!err && first < last)
		err = e2_punch_blocks(e2, n, first, last - 1);
	return err;
}

/* Blocks per e2_fill_hole() call of a fallocate (and its zero buffer). */
#define E2_FALLOC_CHUNK 256

/*
 * Allocate the holes of blocks [start, end): unwritten extents in an
 * extent file, zeroed blocks in a block-mapped one (which has no
 * unwritten state).  Our own loop rather than ext2fs_fallocate(): the
 * one in e2fsprogs 1.47.0 allocates far more than asked around an
 * existing extent (fixed in 1.47.3), and when it fails half way it
 * leaves i_blocks behind what it hooked into the tree.  Each step here
 * leaves the inode consistent, so an ENOSPC keeps what was done.
 */
static int falloc_blocks(struct e2fs *e2, struct e2_node *n, blk64_t start,
			 blk64_t end)
{
	bool extents = n->inode.i_flags & EXT4_EXTENTS_FL;
	blk64_t lblk = start, pblk, run;
	char *zeros = NULL;
	bool uninit;
	int err = 0;

	if (!extents) {
		zeros = calloc(E2_FALLOC_CHUNK, e2->bs);
		if (!zeros)
			return -ENOMEM;
	}
	while (lblk < end && !err) {
		err = e2_map_run(e2, n, lblk, end - lblk, &pblk, &run, &uninit);
		if (err)
			break;
		if (!pblk) {
			if (run > E2_FALLOC_CHUNK)
				run = E2_FALLOC_CHUNK;
			err = e2_fill_hole(e2, n, lblk, run, zeros, &run);
		}
		lblk += run;
	}
	free(zeros);
	return err;
}

static int do_fallocate(struct e2fs *e2, struct e2_node *n, int mode,
			uint64_t off, uint64_t len)
{
	unsigned int bs = e2->bs;
	blk64_t start = off / bs, end = (off + len + bs - 1) / bs, eof;
	uint64_t size = e2_size(n);
	bool extents = n->inode.i_flags & EXT4_EXTENTS_FL;
	int err;

	if (mode == (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE))
		return punch_hole(e2, n, off, len);
	if (mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_ZERO_RANGE))
		return -EOPNOTSUPP;
	if (n->inode.i_flags & EXT4_INLINE_DATA_FL)
		return -EOPNOTSUPP;
	/* Block maps have no unwritten state and may not hold blocks past
	 * i_size (e2fsck objects); as ext4 does, refuse to preallocate
	 * there.  Zeroing needs no blocks past EOF: that part stays a hole. */
	if (!extents && (mode & FALLOC_FL_KEEP_SIZE) && off + len > size) {
		if (!(mode & FALLOC_FL_ZERO_RANGE))
			return -EOPNOTSUPP;
		end = (size + bs - 1) / bs;
	}
	/* ZERO_RANGE: punched, then allocated again as a preallocation (so
	 * unwritten extents, or zeroed blocks in a block map) */
	if (mode & FALLOC_FL_ZERO_RANGE) {
		err = punch_hole(e2, n, off, len);
		if (err)
			return err;
	}
	err = start < end ? falloc_blocks(e2, n, start, end) : 0;
	if (err && !extents) {
		/*
		 * A failed fallocate leaves the size alone (a FUSE kernel
		 * keeps its cached size after an error), so the blocks it
		 * put past EOF of a block-mapped file must go again.
		 */
		eof = (size + bs - 1) / bs;
		if (eof < end)
			e2_punch_blocks(e2, n, eof, end - 1);
	}
	if (!err && !(mode & FALLOC_FL_KEEP_SIZE) && off + len > size)
		err = e2_set_size(e2, n, off + len);
	return err;
}

void ext2_fallocate(struct uvfs_req *req, uint64_t nodeid, int mode,
		    off_t offset, off_t length, struct uvfs_file_info *fi)
{
	struct e2fs *e2 = uvfs_req_priv(req);
	struct e2_node *n;
	int err;

	pthread_mutex_lock(&e2->lock);
	err = e2_check_writable(e2);
	if (!err)
		err = e2_node_get_id(e2, nodeid, &n);
	if (!err && !LINUX_S_ISREG(n->inode.i_mode))
		err = LINUX_S_ISDIR(n->inode.i_mode) ? -EISDIR : -ENODEV;
	if (!err && (offset < 0 || length <= 0))
		err = -EINVAL;
	if (!err && (uint64_t)offset + (uint64_t)length > e2_max_size(e2, n))
		err = -EFBIG;
	if (!err) {
		e2_mark_dirty(e2, n);
		err = do_fallocate(e2, n, mode, (uint64_t)offset,
				   (uint64_t)length);
		/* also after an error: what was done is in n->inode (every
		 * libext2fs call above changed our copy), and only there:
		 * reloading the inode from disk would lose it */
		if (!err)
			e2_touch(n, E2_MTIME | E2_CTIME);
		err = e2_node_write(e2, n) ?: err;
	}
	pthread_mutex_unlock(&e2->lock);
	e2_reply_err(req, err);
}

/* ------------------------------------------------------------------------
 * lseek: SEEK_DATA / SEEK_HOLE from the block map
 */

static int seek_data_hole(struct e2fs *e2, struct e2_node *n, uint64_t off,
			  int whence, uint64_t *out)
{
	uint64_t size = e2_size(n);
	blk64_t lblk, last, pblk, run;
	bool uninit, data;
	int err;

	if (off >= size)
		return -ENXIO;
	if (n->inode.i_flags & EXT4_INLINE_DATA_FL) {
		*out = whence == SEEK_DATA ? off : size;
		return 0;
	}
	last = (size - 1) / e2->bs;
	for (lblk = off / e2->bs; lblk <= last; lblk += run) {
		err = e2_map_run(e2, n, lblk, last - lblk + 1, &pblk, &run,
				 &uninit);
		if (err)
			return err;
		data = pblk && !uninit;
		if (data == (whence == SEEK_DATA)) {
			*out = lblk * e2->bs > off ? lblk * e2->bs : off;
			return 0;
		}
	}
	if (whence == SEEK_DATA)
		return -ENXIO;
	*out = size;
	return 0;
}

void ext2_lseek(struct uvfs_req *req, uint64_t nodeid, off_t off, int whence,
		struct uvfs_file_info *fi)
{
	struct e2fs *e2 = uvfs_req_priv(req);
	struct e2_node *n;
	uint64_t pos = 0;
	int err;

	if (whence != SEEK_DATA && whence != SEEK_HOLE) {
		e2_reply_err(req, -EINVAL);
		return;
	}
	pthread_mutex_lock(&e2->lock);
	err = e2_node_get_id(e2, nodeid, &n);
	if (!err && off < 0)
		err = -ENXIO;
	if (!err)
		err = seek_data_hole(e2, n, (uint64_t)off, whence, &pos);
	pthread_mutex_unlock(&e2->lock);
	if (err)
		e2_reply_err(req, err);
	else
		uvfs_reply_lseek(req, (off_t)pos);
}

