// SPDX-License-Identifier: GPL-2.0
/*
 * uvfs.ko: room on the backend for what the page cache holds.
 *
 * A buffered write (writeback mode), or a page dirtied through a shared
 * mapping, succeeds before the backend has allocated anything, so the
 * kernel must know there is room: else ENOSPC would only show at
 * writeback, as a lost write and an EIO at close, instead of at the
 * write(2) or the fault where a local file system reports it.
 *
 * The estimate: what the last STATFS found free, minus what was promised
 * since (pending: every byte counted as needing a new block, whole pages,
 * plus map blocks), minus a few blocks per request that may allocate
 * besides WRITE (new names, directory growth, xattr blocks: counted by
 * uvfs_send() in conn->space_ops).  A write that does not fit writes
 * back everything dirty (so the backend allocates in the order of the
 * write(2) calls), asks STATFS again, and if it still does not fit goes
 * write-through, where the backend answers exactly, short write and all.
 *
 * Requests that allocate directly (write-through WRITE, FALLOCATE) must
 * not take the room promised to dirty pages.  When one does not fit the
 * estimate, it drains first: new promises stop (space_direct), promises
 * being copied into the page cache finish (space_inflight), everything
 * dirty is written back, and only then does it go to the backend, which
 * then has every earlier write and gives ENOSPC exactly where a local
 * file system would.  Overwrites of allocated blocks count as new ones:
 * near a full file system they go write-through too.
 *
 * A refresh subtracts what was pending before its sync, except what is in
 * flight (promised but not yet dirty, or sent directly but not answered):
 * that may not be in the STATFS it asks.  Refreshes are serialised.
 */
#include <linux/delay.h>
#include <linux/fs.h>
#include <linux/writeback.h>
#include "uvfs_i.h"

#define UVFS_SPACE_OP_BLOCKS 4		/* per CREATE, MKDIR, SETXATTR ... */
#define UVFS_SPACE_MARGIN_BLOCKS 64	/* map and extent blocks, requests in flight */

bool uvfs_space_op(u32 opcode)
{
	switch (opcode) {
	case UVFS_OP_CREATE:
	case UVFS_OP_MKNOD:
	case UVFS_OP_MKDIR:
	case UVFS_OP_SYMLINK:
	case UVFS_OP_LINK:
	case UVFS_OP_RENAME:
	case UVFS_OP_SETXATTR:
		return true;
	default:
		return false;
	}
}

/*
 * Worst case, in bytes, of what writing count bytes at pos allocates on
 * the backend: every page it touches is written back whole (up to EOF),
 * so a 1-byte write into a hole of a 1 KiB-block file fills four blocks;
 * plus a map block per 64 blocks, and four for a new chain or an extent
 * split.
 */
static s64 uvfs_space_need(struct uvfs_fs *fs, loff_t pos, loff_t count)
{
	s64 span = (s64)(round_up(pos + count, PAGE_SIZE) -
			 round_down(pos, PAGE_SIZE));

	return span + (span >> 6) + 4 * (s64)fs->space_bsize;
}

/* Under space_lock: would need more bytes fit?  Charges nothing. */
static bool uvfs_space_fits(struct uvfs_fs *fs, s64 need)
{
	bool reserved = has_capability_noaudit(current, CAP_SYS_RESOURCE);
	s64 limit = reserved ? fs->space_free : fs->space_avail;
	s64 ops = atomic64_read(&fs->conn->space_ops);

	if (!fs->space_known)
		return false;
	fs->space_pending += (ops - fs->space_ops_seen) *
			     UVFS_SPACE_OP_BLOCKS * (s64)fs->space_bsize;
	fs->space_ops_seen = ops;
	return fs->space_pending + need +
	       UVFS_SPACE_MARGIN_BLOCKS * (s64)fs->space_bsize <= limit;
}

/*
 * RELEASE and FORGET travel lazily, and they are what frees the blocks of
 * a file unlinked while open or cached: before ENOSPC is the answer, have
 * the daemon take them.  True if there were any (the caller may retry).
 */
bool uvfs_space_deliver_frees(struct uvfs_fs *fs)
{
	if (!READ_ONCE(fs->nforget) && !atomic_read(&fs->conn->nbackground))
		return false;
	uvfs_flush_forgets(fs);
	uvfs_wait_background(fs->conn);
	return true;
}

/* Write back everything dirty, then ask STATFS how much is free. */
static void uvfs_space_refresh(struct super_block *sb)
{
	struct uvfs_fs *fs = UVFS_FS(sb);
	struct uvfs_statfs_out out = {};
	struct uvfs_args args = {
		.opcode = UVFS_OP_STATFS,
		.nodeid = UVFS_ROOT_ID,
		.out_numargs = 1,
		.out_args[0] = { sizeof(out), &out },
	};
	s64 ops, before;
	u32 bsize;
	int err;

	lockdep_assert_held(&fs->space_mutex);
	spin_lock(&fs->space_lock);
	before = fs->space_pending - fs->space_inflight -
		 fs->space_inflight_direct;
	spin_unlock(&fs->space_lock);
	/*
	 * sync_inodes_sb() wants s_umount; taking it under the inode lock is
	 * safe here: a writer holds no page lock, and umount cannot start
	 * while the file is open (uvfs has no freeze_fs).
	 */
	down_read(&sb->s_umount);
	sync_inodes_sb(sb);
	up_read(&sb->s_umount);
	uvfs_space_deliver_frees(fs);
	ops = atomic64_read(&fs->conn->space_ops);
	err = uvfs_send(fs->conn, &args);
	bsize = out.frsize ? out.frsize : out.bsize;
	spin_lock(&fs->space_lock);
	fs->space_known = !err;
	fs->space_pending = max_t(s64, fs->space_pending - before, 0);
	fs->space_ops_seen = ops;
	fs->space_bsize = clamp_t(u32, bsize, 512, 1U << 20);
	if (!err && !out.blocks) {
		/* no size (a backend without statfs): no limit known */
		fs->space_free = S64_MAX / 4;
		fs->space_avail = S64_MAX / 4;
	} else if (!err) {
		fs->space_free = (s64)min_t(u64, out.bfree, S64_MAX / 4 /
					    fs->space_bsize) * fs->space_bsize;
		fs->space_avail = (s64)min_t(u64, out.bavail, S64_MAX / 4 /
					     fs->space_bsize) *
				  fs->space_bsize;
	}
	fs->space_gen++;
	spin_unlock(&fs->space_lock);
}

/* Refresh, unless another writer's refresh ended since we saw gen. */
static void uvfs_space_refresh_once(struct super_block *sb, unsigned long gen)
{
	struct uvfs_fs *fs = UVFS_FS(sb);

	mutex_lock(&fs->space_mutex);
	if (READ_ONCE(fs->space_gen) == gen)
		uvfs_space_refresh(sb);
	mutex_unlock(&fs->space_mutex);
}

/*
 * A promise of room for count bytes at pos about to be dirtied in the
 * page cache, without a refresh: the bytes charged (> 0), or 0 if it does
 * not fit or a direct allocation is draining.
 */
s64 uvfs_space_try(struct inode *inode, loff_t pos, size_t count)
{
	struct uvfs_fs *fs = UVFS_FS(inode->i_sb);
	s64 need = 0;

	spin_lock(&fs->space_lock);
	if (!fs->space_direct) {
		need = uvfs_space_need(fs, pos, count);
		if (uvfs_space_fits(fs, need)) {
			fs->space_pending += need;
			fs->space_inflight += need;
		} else {
			need = 0;
		}
	}
	spin_unlock(&fs->space_lock);
	return need;
}

/*
 * May a buffered write of count bytes at pos go into the page cache?
 * Returns the bytes charged (> 0), for uvfs_space_settle() once the pages
 * are dirty; 0: do it write-through.  Reserved blocks count for whoever
 * may use them on a local ext2.
 */
s64 uvfs_space_reserve(struct inode *inode, loff_t pos, size_t count)
{
	struct uvfs_fs *fs = UVFS_FS(inode->i_sb);
	unsigned long gen = READ_ONCE(fs->space_gen);
	s64 charged = uvfs_space_try(inode, pos, count);

	if (charged)
		return charged;
	uvfs_space_refresh_once(inode->i_sb, gen);
	return uvfs_space_try(inode, pos, count);
}

/* The pages charged by uvfs_space_try/reserve() are dirty (or not). */
void uvfs_space_settle(struct uvfs_fs *fs, s64 charged)
{
	spin_lock(&fs->space_lock);
	fs->space_inflight -= charged;
	spin_unlock(&fs->space_lock);
	if (!charged)
		return;
	wake_up_var(&fs->space_inflight);
}

/*
 * A request about to allocate count bytes at pos on the backend outside
 * the page cache (write-through WRITE, FALLOCATE).  If it may not fit
 * beside what dirty pages were promised, drain (above) first, unless
 * nodrain (a page fault, which must not write back under mmap_lock; the
 * margin covers its page).  Fills *d for uvfs_space_direct_end().
 */
void uvfs_space_direct_begin(struct inode *inode, loff_t pos, loff_t count,
			     bool nodrain, struct uvfs_space_direct *d)
{
	struct uvfs_fs *fs = UVFS_FS(inode->i_sb);
	unsigned long gen;

	spin_lock(&fs->space_lock);
	d->need = uvfs_space_need(fs, pos, count);
	d->drain = !nodrain && !uvfs_space_fits(fs, d->need);
	if (d->drain)
		fs->space_direct++;	/* no new promises */
	gen = fs->space_gen;
	spin_unlock(&fs->space_lock);
	if (d->drain) {
		/* promises being copied into the page cache finish first */
		wait_var_event(&fs->space_inflight,
			       READ_ONCE(fs->space_inflight) <= 0);
		uvfs_space_refresh_once(inode->i_sb, gen);
	}
	/* charged after any refresh, in flight until answered */
	spin_lock(&fs->space_lock);
	fs->space_pending += d->need;
	fs->space_inflight_direct += d->need;
	spin_unlock(&fs->space_lock);
}

/* The direct request was answered: its blocks are in the next STATFS. */
void uvfs_space_direct_end(struct inode *inode, struct uvfs_space_direct *d)
{
	struct uvfs_fs *fs = UVFS_FS(inode->i_sb);

	spin_lock(&fs->space_lock);
	fs->space_inflight_direct -= d->need;
	if (d->drain)
		fs->space_direct--;
	spin_unlock(&fs->space_lock);
}
