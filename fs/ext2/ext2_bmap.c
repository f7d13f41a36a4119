// SPDX-License-Identifier: MIT
/*
 * ext2: the block map of a file, what Linux's ext2 keeps in inode.c
 * (ext2_get_blocks, ext2_truncate_blocks): which physical block holds a
 * logical one, for block-mapped and extent files alike; giving a hole
 * blocks; taking blocks away (truncate, punch, delete); the size the map
 * can address; and symlink targets, which live in the inode or in its
 * first block.  ext2_file.c moves the data; this file reads only metadata
 * (indirect and symlink blocks), through libext2fs's cache (meta_read).
 *
 * Lookups come in runs (e2_map_run): a hole or physically contiguous data
 * as far as it goes, one step per extent or indirect range.  Whatever
 * frees blocks (e2_punch_blocks) holds the node's io lock exclusively, so
 * a read mapped before (see ext2_read) never sees a block reused.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

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

/* The largest size of a file mapped by extents, or by block pointers. */
static uint64_t max_size(struct e2fs *e2, bool extents)
{
	unsigned int bits = (unsigned int)__builtin_ctz(e2->bs);
	uint64_t max;

	if (extents) {
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

uint64_t e2_max_size(struct e2fs *e2, const struct e2_node *n)
{
	return max_size(e2, n->inode.i_flags & EXT4_EXTENTS_FL);
}

/*
 * The limit of the files we create (extents when the file system has
 * them), for the kernel's s_maxbytes: the kernel's ext4 driver keeps the
 * same as its s_maxbytes and checks older block-mapped files of an
 * extent file system against the smaller limit itself, as e2_max_size()
 * does here.
 */
uint64_t e2_fs_max_size(struct e2fs *e2)
{
	return max_size(e2, ext2fs_has_feature_extents(e2->fs->super));
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
int e2_mark_written(struct e2fs *e2, struct e2_node *n, blk64_t lblk,
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
int e2_map_run(struct e2fs *e2, struct e2_node *n, blk64_t lblk, blk64_t max,
	       blk64_t *pblk, blk64_t *len, bool *uninit)
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
 * Allocation: blocks for a hole, and the indirect blocks that map them
 */

/*
 * Block-mapped files: how many indirect blocks filling every hole in
 * [lblk, end) allocates, exactly: the map blocks on the paths to the
 * range that do not exist yet, each counted once.  A map block over a
 * part of the range with data in it exists, so walking the first block
 * of each leaf map block's span is enough.
 */
int e2_ind_blocks_needed(struct e2fs *e2, struct e2_node *n, blk64_t lblk,
			 blk64_t end, blk64_t *count)
{
	const uint64_t apb = e2->bs / 4;
	uint64_t last[3] = { UINT64_MAX, UINT64_MAX, UINT64_MAX };
	int last_depth = 0, err = 0;
	uint32_t *buf;

	*count = 0;
	if (lblk < EXT2_NDIR_BLOCKS)
		lblk = EXT2_NDIR_BLOCKS;
	if (lblk >= end)
		return 0;
	buf = malloc(e2->bs);
	if (!buf)
		return -ENOMEM;
	while (lblk < end) {
		uint64_t off = lblk - EXT2_NDIR_BLOCKS, span = apb;
		int depth = 1, k;
		blk64_t ptr;

		for (; depth <= 3 && off >= span; depth++, span *= apb)
			off -= span;
		if (depth > 3)
			break;	/* past the largest file: the write fails */
		if (depth != last_depth) {
			last[0] = last[1] = last[2] = UINT64_MAX;
			last_depth = depth;
		}
		/* level k's map block covers span blocks, starting at
		 * off / span * span; span shrinks by apb per level */
		ptr = n->inode.i_block[EXT2_IND_BLOCK + depth - 1];
		for (k = 0; k < depth; k++, span /= apb) {
			if (!ptr) {
				for (; k < depth; k++, span /= apb) {
					if (last[k] != off / span)
						(*count)++;
					last[k] = off / span;
				}
				break;
			}
			if (k == depth - 1)
				break;
			err = meta_read(e2, ptr, buf);
			if (err)
				goto out;
			ptr = buf[off % span / (span / apb)];
		}
		/* on to the next leaf map block */
		lblk += apb - off % apb;
	}
out:
	free(buf);
	return err;
}

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
int e2_fill_hole(struct e2fs *e2, struct e2_node *n, blk64_t lblk,
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
			err = e2_data_write(e2, pblk, 1, data);
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
	err = data ? e2_data_write(e2, pblk, plen, data) : 0;
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

/* ------------------------------------------------------------------------
 * Freeing: punch, truncate, delete
 */

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
		err = e2_map_run(e2, n, lblk, end - lblk + 1, &pblk, &run,
				 &uninit);
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
int e2_punch_blocks(struct e2fs *e2, struct e2_node *n, blk64_t start,
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
	return e2_punch_blocks(e2, n, 0, ~0ULL);
}

int e2_truncate(struct e2fs *e2, struct e2_node *n, uint64_t size)
{
	unsigned int bs = e2->bs;
	int err = 0;

	if (n->inode.i_flags & EXT4_INLINE_DATA_FL)
		return -EOPNOTSUPP;
	e2_mark_dirty(e2, n);
	if (size < e2_size(n)) {
		err = e2_punch_blocks(e2, n, (size + bs - 1) / bs, ~0ULL);
		/* the tail of the last block must read as zeros later */
		if (!err && size % bs)
			err = e2_zero_in_block(e2, n, size / bs, size % bs,
					       bs - size % bs);
	}
	if (!err)
		err = e2_set_size(e2, n, size);
	/* after an error too: blocks may have gone already */
	return e2_node_write(e2, n) ?: err;
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
		err = e2_read_inline(e2, n, buf, size, 0);
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
