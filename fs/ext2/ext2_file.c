// SPDX-License-Identifier: MIT
/*
 * ext2: file data.  Reads and writes map logical blocks to physically
 * contiguous runs and move each run with one pread/pwrite on e2->data_fd,
 * the backend's own descriptor of the image (see ext2_i.h for why data
 * never goes through libext2fs's io cache).  Holes that a write fills get
 * fresh blocks that are written before they are mapped, never zeroed
 * first (see fill_hole).
 *
 * Reads, and overwrites of written blocks inside the file, map their runs
 * under e2->lock, then drop it for the I/O and hold only the node's io
 * lock shared: they proceed in parallel with each other and with every
 * other op.  Writes that allocate blocks or grow the file keep the lock.  Whatever frees a file's
 * blocks (truncate, punch, delete) takes that lock exclusively first, so a
 * read never sees a block after it has been given to someone else.
 */
#include <errno.h>
#include <linux/falloc.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ext2_i.h"

/* ------------------------------------------------------------------------
 * The largest file size, as the kernel's ext4 driver (which also serves
 * ext2 and ext3) computes it, so that we refuse the same sizes with EFBIG.
 */

/* Without huge_file, i_blocks counts 512-byte sectors in 32 bits. */
static uint64_t iblocks_limit(struct e2fs *e2, unsigned int bits)
{
	if (ext2fs_has_feature_huge_file(e2->fs->super))
		return (1ULL << 48) - 1;	/* fs blocks, 48 bits */
	return ((1ULL << 32) - 1) >> (bits - 9);
}

/*
 * Block-mapped files: what the pointer tree can address, but the data
 * plus the indirect blocks needed to map it must fit i_blocks.
 */
static uint64_t ind_max_blocks(struct e2fs *e2, unsigned int bits)
{
	uint64_t ppb = 1ULL << (bits - 2), limit = iblocks_limit(e2, bits);
	uint64_t tree = EXT2_NDIR_BLOCKS + ppb + ppb * ppb + ppb * ppb * ppb;
	uint64_t meta = 1 + (1 + ppb) + (1 + ppb + ppb * ppb), left;

	if (tree + meta <= limit)
		return tree;
	/* i_blocks is the limit: take off the metadata that mapping
	 * `limit` blocks needs */
	left = limit - EXT2_NDIR_BLOCKS - ppb;
	meta = 1;
	if (left < ppb * ppb)
		return limit - (meta + 1 + (left + ppb - 1) / ppb);
	meta += 1 + ppb;
	left -= ppb * ppb;
	meta += 1 + (left + ppb - 1) / ppb + (left + ppb * ppb - 1) /
						     (ppb * ppb);
	return limit - meta;
}

uint64_t e2_max_size(struct e2fs *e2, const struct e2_node *n)
{
	unsigned int bits = (unsigned int)__builtin_ctz(e2->bs);
	uint64_t max;

	if (n->inode.i_flags & EXT4_EXTENTS_FL) {
		/* 32-bit logical block numbers (less one block, so that an
		 * extent's length can reach the end) */
		max = ((1ULL << 32) - 1) << bits;
		if (!ext2fs_has_feature_huge_file(e2->fs->super) &&
		    max > iblocks_limit(e2, bits) << bits)
			max = iblocks_limit(e2, bits) << bits;
	} else {
		max = ind_max_blocks(e2, bits) << bits;
	}
	return max > INT64_MAX ? INT64_MAX : max;
}

/* ------------------------------------------------------------------------
 * Block mapping
 */

static bool pblk_valid(struct e2fs *e2, blk64_t pblk)
{
	return pblk >= e2->fs->super->s_first_data_block &&
	       pblk < ext2fs_blocks_count(e2->fs->super);
}

/* pblk 0: a hole.  uninit: allocated but unwritten (reads as zeros). */
int e2_map_block(struct e2fs *e2, struct e2_node *n, blk64_t lblk,
		 bool alloc, blk64_t *pblk, bool *uninit)
{
	int ret_flags = 0;
	errcode_t rc;

	*pblk = 0;
	rc = ext2fs_bmap2(e2->fs, n->ino, e2_small(n), NULL,
			  alloc ? BMAP_ALLOC : 0, lblk, &ret_flags, pblk);
	*uninit = ret_flags & BMAP_RET_UNINIT;
	if (rc)
		return e2_err(rc);
	if (*pblk && !pblk_valid(e2, *pblk))
		return -EUCLEAN;
	return 0;
}

/* An unwritten extent block that now holds data becomes written. */
static int mark_written(struct e2fs *e2, struct e2_node *n, blk64_t lblk,
			blk64_t pblk)
{
	return e2_err(ext2fs_bmap2(e2->fs, n->ino, e2_small(n), NULL, BMAP_SET,
				   lblk, NULL, &pblk));
}

/*
 * Metadata (indirect blocks, symlink blocks): through libext2fs's cache.
 * A pointer outside the filesystem is corruption, not an I/O error.
 */
static int meta_read(struct e2fs *e2, blk64_t pblk, void *buf)
{
	if (!pblk_valid(e2, pblk))
		return -EUCLEAN;
	return e2_err(io_channel_read_blk64(e2->fs->io, pblk, 1, buf));
}

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

static int data_write(struct e2fs *e2, blk64_t pblk, size_t count,
		      const void *buf)
{
	return data_io(e2, true, pblk * e2->bs, (void *)buf, count * e2->bs);
}

/* ------------------------------------------------------------------------
 * Runs: how far one state (a hole, or physically contiguous data) goes,
 * so that reads and SEEK_DATA/SEEK_HOLE over big sparse files take one
 * step per extent or per unmapped indirect range, not one per block.
 */

/* The length of a hole with no data after it. */
#define E2_HOLE_TO_END (~(blk64_t)0 >> 1)

/* After goto2 missed lblk: the distance to the next extent. */
static blk64_t extent_hole(ext2_extent_handle_t h, blk64_t lblk)
{
	struct ext2fs_extent ext;
	errcode_t rc = ext2fs_extent_get(h, EXT2_EXTENT_CURRENT, &ext);

	/* goto2 leaves us at the extent before lblk (or the first one);
	 * each step moves forward, so this ends. */
	while (!rc && ext.e_lblk <= lblk)
		rc = ext2fs_extent_get(h, EXT2_EXTENT_NEXT_LEAF, &ext);
	return rc ? E2_HOLE_TO_END : ext.e_lblk - lblk;
}

static int extent_run(struct e2fs *e2, struct e2_node *n, blk64_t lblk,
		      blk64_t *pblk, blk64_t *len, bool *uninit)
{
	ext2_extent_handle_t h;
	struct ext2fs_extent ext;
	errcode_t rc;

	*pblk = 0;
	*uninit = false;
	rc = ext2fs_extent_open2(e2->fs, n->ino, e2_small(n), &h);
	if (rc)
		return e2_err(rc);
	rc = ext2fs_extent_goto2(h, 0, lblk);
	if (!rc)
		rc = ext2fs_extent_get(h, EXT2_EXTENT_CURRENT, &ext);
	if (rc == EXT2_ET_EXTENT_NOT_FOUND) {
		*len = extent_hole(h, lblk);
		rc = 0;
	} else if (!rc) {
		*pblk = ext.e_pblk + (lblk - ext.e_lblk);
		*len = ext.e_lblk + ext.e_len - lblk;
		*uninit = ext.e_flags & EXT2_EXTENT_FLAGS_UNINIT;
	}
	ext2fs_extent_free(h);
	return e2_err(rc);
}

/* A run inside one array of block pointers (i_block or a leaf block). */
static blk64_t ptr_run(const uint32_t *p, size_t i, size_t count)
{
	size_t j = i + 1;

	if (!p[i])
		while (j < count && !p[j])
			j++;
	else
		while (j < count && p[j] == p[i] + (j - i))
			j++;
	return j - i;
}

/*
 * Block-mapped files: follow the pointers to lblk; a zero pointer at any
 * level is a hole as long as everything that pointer would cover.
 */
static int ind_run(struct e2fs *e2, struct e2_node *n, blk64_t lblk,
		   blk64_t *pblk, blk64_t *len)
{
	const uint64_t apb = e2->bs / 4;
	uint64_t span = apb, off = lblk;	/* span: under the top pointer */
	uint32_t ptr, *buf;
	int depth = 1, err = 0;

	*pblk = 0;
	if (off < EXT2_NDIR_BLOCKS) {
		*len = ptr_run(n->inode.i_block, off, EXT2_NDIR_BLOCKS);
		*pblk = n->inode.i_block[off];
		return 0;
	}
	off -= EXT2_NDIR_BLOCKS;
	for (; depth <= 3 && off >= span; depth++, span *= apb)
		off -= span;
	if (depth > 3) {
		*len = E2_HOLE_TO_END;	/* past what pointers can map */
		return 0;
	}
	ptr = n->inode.i_block[EXT2_IND_BLOCK + depth - 1];
	buf = malloc(e2->bs);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		if (!ptr) {
			*len = span - off;	/* all under ptr is a hole */
			break;
		}
		err = meta_read(e2, ptr, buf);
		if (err)
			break;
		span /= apb;	/* blocks under each pointer of buf */
		if (span == 1) {
			*pblk = buf[off];
			*len = ptr_run(buf, off, apb);
			break;
		}
		ptr = buf[off / span];
		off %= span;
	}
	free(buf);
	return err;
}

/*
 * What is at lblk and for how many blocks (at most max): pblk 0 for a
 * hole, else the first of *len physically contiguous blocks; uninit:
 * allocated but unwritten.
 */
static int map_run(struct e2fs *e2, struct e2_node *n, blk64_t lblk,
		   blk64_t max, blk64_t *pblk, blk64_t *len, bool *uninit)
{
	int err;

	*uninit = false;
	if (n->inode.i_flags & EXT4_EXTENTS_FL)
		err = extent_run(e2, n, lblk, pblk, len, uninit);
	else
		err = ind_run(e2, n, lblk, pblk, len);
	if (!err && *pblk && !pblk_valid(e2, *pblk))
		err = -EUCLEAN;
	if (!err && (*len == 0 || *len > max))
		*len = max;
	/* a damaged map must not send io past the end of the image */
	if (!err && *pblk && *len > ext2fs_blocks_count(e2->fs->super) - *pblk)
		*len = ext2fs_blocks_count(e2->fs->super) - *pblk;
	return err;
}

/* ------------------------------------------------------------------------
 * Read
 */

static int read_inline(struct e2fs *e2, struct e2_node *n, char *buf,
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

		err = map_run(e2, n, pos / bs, (size - done + boff + bs - 1) / bs,
			      &pblk, &run, &uninit);
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
		err = read_inline(e2, n, buf, len, (uint64_t)off);
		goto unlock;
	}
	err = read_map(e2, n, len, (uint64_t)off, &runs, &nruns);
	if (err)
		goto unlock;
	/* never blocks: exclusive holders hold e2->lock, which we have */
	pthread_rwlock_rdlock(&n->io);
	pthread_mutex_unlock(&e2->lock);
	err = move_runs(e2, false, runs, nruns, buf);
	pthread_rwlock_unlock(&n->io);
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

/* Where a new block for lblk should go: right after lblk - 1's. */
static blk64_t alloc_goal(struct e2fs *e2, struct e2_node *n, blk64_t lblk)
{
	blk64_t prev = 0;
	bool uninit;

	if (lblk && !e2_map_block(e2, n, lblk - 1, false, &prev, &uninit) &&
	    prev)
		return prev + 1;
	return ext2fs_find_inode_goal(e2->fs, n->ino, e2_small(n), lblk);
}

/*
 * Block-mapped files: make sure the indirect blocks that map lblk exist,
 * allocating the missing ones here, one at a time, each zeroed, hooked
 * into its parent and counted in i_blocks before the next, so that an
 * ENOSPC half way leaves a consistent (if partly empty) tree.
 * ext2fs_bmap2(BMAP_ALLOC) would do this too, but when it fails after
 * allocating an indirect block it neither counts nor frees it: the
 * block stays marked in use and hooked in, i_blocks misses it.
 */
static int ind_prepare(struct e2fs *e2, struct e2_node *n, blk64_t lblk)
{
	const uint64_t apb = e2->bs / 4;
	ext2_filsys fs = e2->fs;
	uint64_t span = apb, off;
	uint32_t *slot, *buf, *zero;
	blk64_t ptr, parent = 0, nb;
	int depth = 1, err = 0;

	if (lblk < EXT2_NDIR_BLOCKS)
		return 0;
	off = lblk - EXT2_NDIR_BLOCKS;
	for (; depth <= 3 && off >= span; depth++, span *= apb)
		off -= span;
	if (depth > 3)
		return -EFBIG;
	buf = malloc(e2->bs);
	zero = calloc(1, e2->bs);
	if (!buf || !zero) {
		free(buf);
		free(zero);
		return -ENOMEM;
	}
	slot = &n->inode.i_block[EXT2_IND_BLOCK + depth - 1];
	for (;;) {
		ptr = *slot;
		if (!ptr) {
			nb = 0;
			err = e2_err(ext2fs_alloc_block2(fs, ext2fs_find_inode_goal(
				fs, n->ino, e2_small(n), lblk), NULL, &nb));
			if (err)
				break;
			/* a freed block keeps its old pointers: zero it
			 * before anything points at it */
			err = e2_err(io_channel_write_blk64(fs->io, nb, 1,
							    zero));
			if (err) {
				ext2fs_block_alloc_stats2(fs, nb, -1);
				break;
			}
			*slot = (uint32_t)nb;
			if (parent)
				err = e2_err(io_channel_write_blk64(fs->io,
								    parent, 1,
								    buf));
			if (err) {
				*slot = 0;
				ext2fs_block_alloc_stats2(fs, nb, -1);
				break;
			}
			err = e2_err(ext2fs_iblk_add_blocks(fs, e2_small(n), 1));
			if (err)
				break;
			ptr = nb;
		}
		span /= apb;	/* blocks under each pointer in block ptr */
		if (span == 1)
			break;	/* ptr's pointers are the data blocks' */
		err = meta_read(e2, ptr, buf);
		if (err)
			break;
		parent = ptr;
		slot = &buf[off / span];
		off %= span;
	}
	free(buf);
	free(zero);
	return err;
}

/*
 * Map lblk (a hole) to the free block pblk, already marked in use, and
 * count it in i_blocks.  uninit (extents only): as an unwritten extent.
 * Neither path allocates anything else that an error could leave
 * behind: block maps get their indirect blocks from ind_prepare first,
 * and an extent insert that needs a new tree block allocates it before
 * it changes anything (and counts it).
 */
static int map_new_block(struct e2fs *e2, struct e2_node *n, blk64_t lblk,
			 blk64_t pblk, bool uninit)
{
	ext2_extent_handle_t h;
	errcode_t rc;
	int err;

	if (n->inode.i_flags & EXT4_EXTENTS_FL) {
		rc = ext2fs_extent_open2(e2->fs, n->ino, e2_small(n), &h);
		if (rc)
			return e2_err(rc);
		rc = ext2fs_extent_set_bmap(h, lblk, pblk, uninit ?
					    EXT2_EXTENT_SET_BMAP_UNINIT : 0);
		ext2fs_extent_free(h);
	} else {
		err = ind_prepare(e2, n, lblk);
		if (err)
			return err;
		rc = ext2fs_bmap2(e2->fs, n->ino, e2_small(n), NULL, BMAP_SET,
				  lblk, NULL, &pblk);
	}
	if (!rc)
		rc = ext2fs_iblk_add_blocks(e2->fs, e2_small(n), 1);
	return e2_err(rc);
}

/*
 * Fill the hole of len blocks at lblk.  ext2fs_bmap2(BMAP_ALLOC) would
 * zero every new block on disk before we overwrite it (a write per
 * block); instead take a free range after the previous block, write the
 * data into it in one call, and only then map it, so that the file never
 * maps a block holding stale data.  data NULL (fallocate of an extent
 * file): map the range as unwritten, write nothing.  *got: how many
 * blocks were mapped (may be fewer than len: the free range was shorter,
 * or an error); what was reserved but not mapped is released.
 */
static int fill_hole(struct e2fs *e2, struct e2_node *n, blk64_t lblk,
		     blk64_t len, const char *data, blk64_t *got)
{
	ext2_filsys fs = e2->fs;
	blk64_t pblk, plen, k = 0;
	bool uninit;
	int err;

	*got = 0;
	if (ext2fs_has_feature_bigalloc(fs->super)) {
		/* clusters: leave the allocation to libext2fs, block by
		 * block (it maps a zeroed, written block) */
		err = e2_map_block(e2, n, lblk, true, &pblk, &uninit);
		if (!err && data)
			err = data_write(e2, pblk, 1, data);
		*got = !err;
		return err;
	}
	/* the first block's indirect blocks before the data range, so
	 * that the range cannot take the last blocks they need */
	if (!(n->inode.i_flags & EXT4_EXTENTS_FL)) {
		err = ind_prepare(e2, n, lblk);
		if (err)
			return err;
	}
	err = e2_err(ext2fs_new_range(fs, 0, alloc_goal(e2, n, lblk), len,
				      NULL, &pblk, &plen));
	if (err)
		return err;
	if (plen > len)
		plen = len;
	ext2fs_block_alloc_stats_range(fs, pblk, (blk_t)plen, +1);
	err = data ? data_write(e2, pblk, plen, data) : 0;
	while (!err && k < plen) {
		err = map_new_block(e2, n, lblk + k, pblk + k, !data);
		if (!err)
			k++;
	}
	if (k < plen)
		ext2fs_block_alloc_stats_range(fs, pblk + k, (blk_t)(plen - k),
					       -1);
	*got = k;
	return err;
}

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
		err = fill_hole(e2, n, lblk, 1, bounce, &got);
	} else {
		err = data_write(e2, pblk, 1, bounce);
		if (!err)
			err = mark_written(e2, n, lblk, pblk);
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

		err = map_run(e2, n, lblk + i, count - i, &pblk, &run,
			      &uninit);
		if (err)
			break;
		if (!pblk) {
			err = fill_hole(e2, n, lblk + i, run,
					data + i * e2->bs, &run);
		} else {
			err = data_write(e2, pblk, run, data + i * e2->bs);
			for (k = 0; uninit && k < run && !err; k++) {
				err = mark_written(e2, n, lblk + i + k,
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
 * Can the holes of size bytes at off all get blocks?  Over FUSE, the
 * writeback of pages dirtied through mmap ignores a short WRITE count:
 * a WRITE that filled some holes, hit ENOSPC and returned the prefix
 * would lose the rest silently (msync reports success).  So a write fails
 * whole with ENOSPC, before it changes anything, unless the free blocks
 * cover its holes and, generously, the tree blocks mapping them may need
 * (a write(2) larger than the space left still comes back short, split
 * by the kernel into several WRITEs).
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
		err = map_run(e2, n, lblk, end - lblk, &pblk, &run, &uninit);
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
	if (n->inode.i_flags & EXT4_EXTENTS_FL)
		meta = runs * 2 + 4;	/* a split per level, depth <= 4 */
	else
		meta = holes / (e2->bs / 4) + 3;
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
		/* the blocks stay ours until we are done (see ext2_read) */
		pthread_rwlock_rdlock(&n->io);
		pthread_mutex_unlock(&e2->lock);
		err = move_runs(e2, true, runs, nruns, (char *)buf);
		pthread_rwlock_unlock(&n->io);
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
 * Truncate, punch, fallocate
 */

/* Zero [boff, boff+len) of block lblk if it holds data. */
static int zero_in_block(struct e2fs *e2, struct e2_node *n, blk64_t lblk,
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

/*
 * Unmap the data blocks of [start, end] of a block-mapped file one by one.
 * ext2fs_punch() (e2fsprogs 1.47.0) miscounts a range that ends inside
 * the indirect tree: it stops at an indirect block boundary or frees past
 * the range.  Indirect blocks that end up empty stay allocated; e2fsck
 * accepts that, and a later write into the range reuses them.
 */
static int punch_ind_range(struct e2fs *e2, struct e2_node *n, blk64_t start,
			   blk64_t end)
{
	blk64_t lblk = start, pblk, run, k, zero;
	errcode_t rc = 0;
	bool uninit;
	int err = 0;

	while (lblk <= end && !err) {
		err = map_run(e2, n, lblk, end - lblk + 1, &pblk, &run, &uninit);
		for (k = 0; !err && pblk && k < run; k++) {
			zero = 0;
			rc = ext2fs_bmap2(e2->fs, n->ino, e2_small(n), NULL,
					  BMAP_SET, lblk + k, NULL, &zero);
			if (!rc) {
				ext2fs_block_alloc_stats2(e2->fs, pblk + k, -1);
				rc = ext2fs_iblk_sub_blocks(e2->fs, e2_small(n), 1);
			}
			err = e2_err(rc);
		}
		lblk += run;
	}
	return err;
}

/*
 * e2fsprogs before 1.47.4 refuse to free an extent that ends at the
 * filesystem's last block (punch_extent_blocks() checks the range with
 * >= instead of >): ext2fs_punch() fails with EXT2_ET_BAD_BLOCK_NUM half
 * way, and a file holding that block could never be truncated or freed
 * (a deleted one leaked its blocks).  The fs's last block can only be
 * the physical end of an extent, so unmapping it alone shortens that
 * extent (or deletes a one-block one) and never needs a new tree block;
 * do that first when it lies in [start, end].
 */
static int punch_fs_last_block(struct e2fs *e2, struct e2_node *n,
			       blk64_t start, blk64_t end)
{
	blk64_t last = ext2fs_blocks_count(e2->fs->super) - 1, lblk = 0;
	ext2_extent_handle_t h;
	struct ext2fs_extent ext;
	bool found = false;
	errcode_t rc;

	/* (extent_open2 would turn a block-mapped inode into an empty
	 * extent tree) */
	if (!(n->inode.i_flags & EXT4_EXTENTS_FL) ||
	    ext2fs_has_feature_bigalloc(e2->fs->super))
		return 0;
	rc = ext2fs_extent_open2(e2->fs, n->ino, e2_small(n), &h);
	if (rc)
		return e2_err(rc);
	for (rc = ext2fs_extent_get(h, EXT2_EXTENT_ROOT, &ext); !rc;
	     rc = ext2fs_extent_get(h, EXT2_EXTENT_NEXT, &ext)) {
		if (!(ext.e_flags & EXT2_EXTENT_FLAGS_LEAF) || !ext.e_len ||
		    ext.e_pblk + ext.e_len - 1 != last)
			continue;
		lblk = ext.e_lblk + ext.e_len - 1;
		found = lblk >= start && lblk <= end;
		break;
	}
	if (rc == EXT2_ET_EXTENT_NO_NEXT || rc == EXT2_ET_EXTENT_NO_DOWN ||
	    rc == EXT2_ET_NO_CURRENT_NODE)
		rc = 0;
	if (!rc && found) {
		rc = ext2fs_extent_set_bmap(h, lblk, 0, 0);
		if (!rc) {
			ext2fs_block_alloc_stats2(e2->fs, last, -1);
			rc = ext2fs_iblk_sub_blocks(e2->fs, e2_small(n), 1);
		}
	}
	ext2fs_extent_free(h);
	return e2_err(rc);
}

/*
 * Blocks [start, end] leave the file (end ~0: all from start on); reads
 * in flight finish first (see ext2_read).
 */
static int punch_blocks(struct e2fs *e2, struct e2_node *n, blk64_t start,
			blk64_t end)
{
	int err;

	pthread_rwlock_wrlock(&n->io);
	if (!(n->inode.i_flags & EXT4_EXTENTS_FL) && end != ~0ULL)
		err = punch_ind_range(e2, n, start, end);
	else
		err = punch_fs_last_block(e2, n, start, end) ?:
		      e2_err(ext2fs_punch(e2->fs, n->ino, e2_small(n), NULL,
					  start, end));
	pthread_rwlock_unlock(&n->io);
	return err;
}

int e2_free_blocks(struct e2fs *e2, struct e2_node *n)
{
	if (!ext2fs_inode_has_valid_blocks2(e2->fs, e2_small(n)))
		return 0;
	return punch_blocks(e2, n, 0, ~0ULL);
}

int e2_truncate(struct e2fs *e2, struct e2_node *n, uint64_t size)
{
	unsigned int bs = e2->bs;
	int err = 0;

	if (n->inode.i_flags & EXT4_INLINE_DATA_FL)
		return -EOPNOTSUPP;
	e2_mark_dirty(e2, n);
	if (size < e2_size(n)) {
		err = punch_blocks(e2, n, (size + bs - 1) / bs, ~0ULL);
		/* the tail of the last block must read as zeros later */
		if (!err && size % bs)
			err = zero_in_block(e2, n, size / bs, size % bs,
					    bs - size % bs);
	}
	if (!err)
		err = e2_set_size(e2, n, size);
	/* after an error too: blocks may have gone already */
	return e2_node_write(e2, n) ?: err;
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
		return zero_in_block(e2, n, off / bs, off % bs, len);
	}
	if (off % bs)
		err = zero_in_block(e2, n, off / bs, off % bs, bs - off % bs);
	if (!err && end % bs)
		err = zero_in_block(e2, n, end / bs, 0, end % bs);
	if (!err && first < last)
		err = punch_blocks(e2, n, first, last - 1);
	return err;
}

/* Blocks per fill_hole() call of a fallocate (and its zero buffer). */
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
		err = map_run(e2, n, lblk, end - lblk, &pblk, &run, &uninit);
		if (err)
			break;
		if (!pblk) {
			if (run > E2_FALLOC_CHUNK)
				run = E2_FALLOC_CHUNK;
			err = fill_hole(e2, n, lblk, run, zeros, &run);
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
	if (mode & ~FALLOC_FL_KEEP_SIZE)
		return -EOPNOTSUPP;
	if (n->inode.i_flags & EXT4_INLINE_DATA_FL)
		return -EOPNOTSUPP;
	/* Block maps have no unwritten state and may not hold blocks past
	 * i_size (e2fsck objects); as ext4 does, refuse. */
	if (!extents && (mode & FALLOC_FL_KEEP_SIZE) && off + len > size)
		return -EOPNOTSUPP;
	err = falloc_blocks(e2, n, start, end);
	if (err && !extents) {
		/*
		 * A failed fallocate leaves the size alone (a FUSE kernel
		 * keeps its cached size after an error), so the blocks it
		 * put past EOF of a block-mapped file must go again.
		 */
		eof = (size + bs - 1) / bs;
		if (eof < end)
			punch_blocks(e2, n, eof, end - 1);
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
		err = map_run(e2, n, lblk, last - lblk + 1, &pblk, &run,
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

/* ------------------------------------------------------------------------
 * Symlink targets
 */

int e2_read_link(struct e2fs *e2, struct e2_node *n, char *buf, size_t max)
{
	uint64_t size = e2_size(n);
	blk64_t pblk;
	bool uninit;
	char *blk;
	int err;

	if (size == 0 || size >= max || size >= e2->bs)
		return -EUCLEAN;
	if (n->inode.i_flags & EXT4_INLINE_DATA_FL) {
		err = read_inline(e2, n, buf, size, 0);
	} else if (ext2fs_is_fast_symlink(e2_small(n))) {
		if (size >= sizeof(n->inode.i_block))
			return -EUCLEAN;
		memcpy(buf, n->inode.i_block, size);
		err = 0;
	} else {
		err = e2_map_block(e2, n, 0, false, &pblk, &uninit);
		if (!err && (!pblk || uninit))
			err = -EUCLEAN;
		if (err)
			return err;
		blk = malloc(e2->bs);
		if (!blk)
			return -ENOMEM;
		err = meta_read(e2, pblk, blk);
		memcpy(buf, blk, size);
		free(blk);
	}
	buf[size] = '\0';
	return err;
}
