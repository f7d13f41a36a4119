/* SPDX-License-Identifier: MIT */
/*
 * ext2: internal interfaces of the ext2/ext3/ext4 backend (libext2fs).
 *
 * Conventions shared by every file of the backend:
 *  - Functions return 0 or a negative errno; libext2fs error codes are
 *    converted once, by e2_err(), where a libext2fs call returns.
 *  - One mutex (e2->lock) serialises every use of libext2fs, which is
 *    not thread-safe.  Functions named e2_* expect the lock held.  The one
 *    thing done without it is reading file data (ext2_read): the blocks
 *    are mapped under the lock, and the node's io lock, held shared during
 *    the pread()s, keeps them from being freed (see ext2_file.c).
 *  - File data moves through e2->data_fd, our own descriptor of the image,
 *    never through libext2fs's io cache, which is not safe to use without
 *    e2->lock.  The cache keeps metadata writes (write-back) but is
 *    written back before any block is allocated (e2_cache_init), so a
 *    metadata block that is freed and reused for data is never written
 *    back over that data later.
 *  - struct e2_node caches an inode for as long as the kernel holds a
 *    reference (lookup count or open handle).  The cached copy is written
 *    through to libext2fs (ext2fs_write_inode_full) whenever it changes, so
 *    it always equals libext2fs's copy and libext2fs calls that read the
 *    inode themselves see the same thing.  Nothing is flushed to the image
 *    before fsync or unmount except what libext2fs's small io cache spills.
 *  - Node ids: ext2's root inode (2) is UVFS_ROOT_ID (1) and vice versa;
 *    see e2_ino()/e2_nodeid().
 */
#ifndef UVFS_EXT2_I_H
#define UVFS_EXT2_I_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>

#include <ext2fs/ext2fs.h>

#include "uvfs/uvfs.h"

/*
 * How long the kernel may cache names and attributes.  Every change to the
 * image goes through this daemon, and so through the kernel, which
 * invalidates what each of its own ops changes; nothing else may write the
 * image while it is mounted.  So the cache never goes stale on its own,
 * and a long timeout saves a LOOKUP or GETATTR round trip per access.
 */
#define E2_TIMEOUT 86400.0	/* a day */

/* name -> inode of one directory, built on first lookup (see ext2_dir.c) */
struct e2_dcache;

struct e2_node {
	ext2_ino_t ino;
	uint64_t nlookup;	/* kernel references (lookup count) */
	uint32_t nopen;		/* open file/dir handles */
	bool orphan;		/* i_links_count hit 0 while referenced */
	/* e2fs.flushes + 1 when data, size or blocks last changed: the
	 * change is not on stable storage while this exceeds e2fs.flushes */
	uint64_t dirty_at;
	struct ext2_inode_large inode;	/* == the on-disk inode */
	/* shared: reads in flight without e2->lock; exclusive (with
	 * e2->lock held): freeing blocks, freeing the node */
	pthread_rwlock_t io;
	struct e2_dcache *dc;	/* directories only, may be NULL */
	struct e2_node *hnext;	/* hash chain */
};

struct e2fs {
	pthread_mutex_t lock;
	ext2_filsys fs;
	int data_fd;		/* the image, for file data (see above);
				 * also holds our claim on it */
	uint64_t data_off;	/* -o offset=: where the filesystem starts */
	int errors;		/* EXT2_ERRORS_*: what corruption does */
	atomic_ulong nerrors;	/* requests failed by corruption */
	atomic_bool stopped_writing;	/* errors=remount-ro struck */
	bool ro;
	bool was_valid;		/* s_state had EXT2_VALID_FS at mount */
	bool replayed;		/* the journal was replayed at mount */
	unsigned int bs;	/* block size */
	struct e2_node **nodes;	/* hash table of cached inodes */
	size_t nbuckets, nnodes;
	uint64_t flushes;	/* completed e2_fs_sync() calls */
	/* libext2fs's allocation hooks before e2_cache_init() */
	void (*old_alloc_stats)(ext2_filsys fs, blk64_t blk, int inuse);
	void (*old_alloc_stats_range)(ext2_filsys fs, blk64_t blk,
				      blk_t num, int inuse);
};

/* fh of an open that may write: its release makes changes durable */
#define E2_FH_WRITE 1

static inline struct ext2_inode *e2_small(struct e2_node *n)
{
	return (struct ext2_inode *)&n->inode;
}

/* ---- ext2_main.c: the -o options, mount and unmount ---- */
/* -o options of the backend */
struct e2_mount_opts {
	uint64_t offset;	/* offset=: bytes into SOURCE */
	bool norecovery;	/* norecovery, noload */
	int errors;		/* errors=: EXT2_ERRORS_*, 0: superblock's */
	uint64_t fs_bytes;	/* the filesystem's size, from its superblock */
};

/* A mount refusal: the one line uvfsd prints (mount and its checks). */
#define MOUNT_ERR(args, ...)                                                  \
	snprintf((args)->errbuf, (args)->errlen, __VA_ARGS__)

/* ---- ext2_journal.c: JBD2 replay before a read-write mount ---- */
/*
 * Replay the journal of the image on fd (needs recovery); *ntrans: the
 * transactions replayed.  The caller clears the needs-recovery flag.
 * -errno with one line in args->errbuf: the image was not written.
 */
int e2_journal_replay(const struct uvfs_mount_args *args,
		      const struct e2_mount_opts *mo,
		      const struct ext2_super_block *sb, int fd,
		      unsigned int *ntrans);

/* ---- ext2_super.c: errors, features, sync, statfs ---- */
int e2_err(errcode_t err);
/* uvfs_reply_err() that applies errors= when err is -EUCLEAN */
int e2_reply_err(struct uvfs_req *req, int err);
int e2_check_writable(struct e2fs *e2);
int e2_fs_sync(struct e2fs *e2);
/* Metadata through the io cache, written back (see ext2_i.h's top). */
void e2_cache_init(struct e2fs *e2);
/* Set EXT2_ERROR_FS in the superblock if a request met corruption. */
void e2_note_errors(struct e2fs *e2);
/* May the image in *sbp be mounted as args and mo ask?  (MOUNT_ERR) */
int e2_check_features(const struct uvfs_mount_args *args,
		      const struct e2_mount_opts *mo,
		      const struct ext2_super_block *sbp);
void ext2_fsync(struct uvfs_req *req, uint64_t ino, int datasync,
		struct uvfs_file_info *fi);
void ext2_statfs(struct uvfs_req *req, uint64_t ino);

/* ---- ext2_inode.c: the node cache, inode fields, attribute ops ---- */
/* Node id <-> ext2 inode number (swap root and bad-blocks inode). */
static inline ext2_ino_t e2_ino(uint64_t nodeid)
{
	if (nodeid == UVFS_ROOT_ID)
		return EXT2_ROOT_INO;
	if (nodeid == EXT2_ROOT_INO)
		return UVFS_ROOT_ID;
	return nodeid > UINT32_MAX ? 0 : (ext2_ino_t)nodeid;
}

static inline uint64_t e2_nodeid(ext2_ino_t ino)
{
	if (ino == EXT2_ROOT_INO)
		return UVFS_ROOT_ID;
	if (ino == UVFS_ROOT_ID)
		return EXT2_ROOT_INO;
	return ino;
}

bool e2_ino_valid(struct e2fs *e2, ext2_ino_t ino);
int e2_node_get(struct e2fs *e2, ext2_ino_t ino, struct e2_node **out);
/* Free or truncate the inodes of the orphan list (read-write mount). */
int e2_orphans_cleanup(struct e2fs *e2);
int e2_node_get_id(struct e2fs *e2, uint64_t nodeid, struct e2_node **out);
/* A node for a freshly allocated inode number (inode zeroed). */
struct e2_node *e2_node_new(struct e2fs *e2, ext2_ino_t ino);
/* Forget a node made by e2_node_new() whose creation failed. */
void e2_node_discard(struct e2fs *e2, struct e2_node *n);
/* Write a new inode in full, zeroing the on-disk bytes past our struct. */
int e2_node_write_new(struct e2fs *e2, struct e2_node *n);
/* Drop the node from memory if unreferenced; free an unreferenced orphan. */
void e2_node_put(struct e2fs *e2, struct e2_node *n);
void e2_node_free_all(struct e2fs *e2);
int e2_node_write(struct e2fs *e2, struct e2_node *n);
int e2_node_reload(struct e2fs *e2, struct e2_node *n);
void e2_stat(struct e2fs *e2, struct e2_node *n, struct stat *st);
void e2_entry(struct e2fs *e2, struct e2_node *n, struct uvfs_entry *e);
uint64_t e2_size(struct e2_node *n);
int e2_set_size(struct e2fs *e2, struct e2_node *n, uint64_t size);
#define E2_ATIME 1
#define E2_MTIME 2
#define E2_CTIME 4
#define E2_CRTIME 8
void e2_set_time(struct e2_node *n, int which, const struct timespec *ts);
void e2_touch(struct e2_node *n, int which);
/* Take one link off; frees or orphans the inode when none remain. */
int e2_drop_link(struct e2fs *e2, struct e2_node *n);
/* Note that n's data, size or blocks changed (see e2_node.dirty_at). */
static inline void e2_mark_dirty(struct e2fs *e2, struct e2_node *n)
{
	n->dirty_at = e2->flushes + 1;
}

void ext2_forget_multi(struct uvfs_req *req, size_t count,
		       const struct uvfs_forget_one *forgets);
void ext2_getattr(struct uvfs_req *req, uint64_t ino,
		  struct uvfs_file_info *fi);
void ext2_setattr(struct uvfs_req *req, uint64_t ino, const struct stat *attr,
		  uint32_t to_set, struct uvfs_file_info *fi);
void ext2_access(struct uvfs_req *req, uint64_t nodeid, int mask);
void ext2_readlink(struct uvfs_req *req, uint64_t ino);
void ext2_open(struct uvfs_req *req, uint64_t ino, struct uvfs_file_info *fi);
void ext2_opendir(struct uvfs_req *req, uint64_t ino,
		  struct uvfs_file_info *fi);
void ext2_release(struct uvfs_req *req, uint64_t ino,
		  struct uvfs_file_info *fi);

/* ---- ext2_namei.c: lookup and the ops that change names ---- */
void ext2_lookup(struct uvfs_req *req, uint64_t parent, const char *name);
void ext2_mknod(struct uvfs_req *req, uint64_t parent, const char *name,
		mode_t mode, dev_t rdev);
void ext2_mkdir(struct uvfs_req *req, uint64_t parent, const char *name,
		mode_t mode);
void ext2_symlink(struct uvfs_req *req, const char *target, uint64_t parent,
		  const char *name);
void ext2_create(struct uvfs_req *req, uint64_t parent, const char *name,
		 mode_t mode, struct uvfs_file_info *fi);
void ext2_unlink(struct uvfs_req *req, uint64_t parent, const char *name);
void ext2_rmdir(struct uvfs_req *req, uint64_t parent, const char *name);
void ext2_rename(struct uvfs_req *req, uint64_t parent, const char *name,
		 uint64_t newparent, const char *newname, unsigned int flags);
void ext2_link(struct uvfs_req *req, uint64_t ino, uint64_t newparent,
	       const char *newname);

/* ---- ext2_dir.c: directory blocks, the name cache, readdir ---- */
int e2_dir_lookup(struct e2fs *e2, struct e2_node *dir, const char *name,
		  ext2_ino_t *ino);
int e2_dir_add(struct e2fs *e2, struct e2_node *dir, const char *name,
	       ext2_ino_t ino, mode_t mode);
int e2_dir_remove(struct e2fs *e2, struct e2_node *dir, const char *name);
/* Point an existing entry (also "..") at another inode. */
int e2_dir_set(struct e2fs *e2, struct e2_node *dir, const char *name,
	       ext2_ino_t ino, mode_t mode);
int e2_dir_is_empty(struct e2fs *e2, struct e2_node *dir);
void e2_dcache_free(struct e2_node *dir);
int e2_new_dir_block(struct e2fs *e2, struct e2_node *dir, ext2_ino_t parent);
void ext2_readdir(struct uvfs_req *req, uint64_t ino, size_t size, off_t off,
		  struct uvfs_file_info *fi);
void ext2_readdirplus(struct uvfs_req *req, uint64_t ino, size_t size,
		      off_t off, struct uvfs_file_info *fi);

/* ---- ext2_bmap.c: the block map of a file ---- */
/* The largest size n may have (larger: EFBIG), as the kernel's ext4. */
uint64_t e2_max_size(struct e2fs *e2, const struct e2_node *n);
uint64_t e2_fs_max_size(struct e2fs *e2);
int e2_map_block(struct e2fs *e2, struct e2_node *n, blk64_t lblk,
		 bool alloc, blk64_t *pblk, bool *uninit);
/* Map blocks that filling the holes of [lblk, end) allocates (block maps). */
int e2_ind_blocks_needed(struct e2fs *e2, struct e2_node *n, blk64_t lblk,
			 blk64_t end, blk64_t *count);
/* At lblk: a hole (pblk 0) or data, and for how many blocks (<= max). */
int e2_map_run(struct e2fs *e2, struct e2_node *n, blk64_t lblk, blk64_t max,
	       blk64_t *pblk, blk64_t *len, bool *uninit);
/* An unwritten extent block that now holds data becomes written. */
int e2_mark_written(struct e2fs *e2, struct e2_node *n, blk64_t lblk,
		    blk64_t pblk);
/* New blocks for the hole at lblk, data written before they are mapped. */
int e2_fill_hole(struct e2fs *e2, struct e2_node *n, blk64_t lblk,
		 blk64_t len, const char *data, blk64_t *got);
/* Blocks [start, end] leave the file (end ~0: all from start on). */
int e2_punch_blocks(struct e2fs *e2, struct e2_node *n, blk64_t start,
		    blk64_t end);
int e2_truncate(struct e2fs *e2, struct e2_node *n, uint64_t size);
/* Free all blocks of an inode being deleted. */
int e2_free_blocks(struct e2fs *e2, struct e2_node *n);
int e2_read_link(struct e2fs *e2, struct e2_node *n, char *buf, size_t max);

/* ---- ext2_file.c: file data ---- */
/* count whole blocks from buf to the image at block pblk */
int e2_data_write(struct e2fs *e2, blk64_t pblk, size_t count,
		  const void *buf);
/* size bytes at off of a file whose data is in the inode, zero-padded */
int e2_read_inline(struct e2fs *e2, struct e2_node *n, char *buf,
		   size_t size, uint64_t off);
/* Zero [boff, boff+len) of block lblk if it holds data. */
int e2_zero_in_block(struct e2fs *e2, struct e2_node *n, blk64_t lblk,
		     size_t boff, size_t len);
int e2_write_data(struct e2fs *e2, struct e2_node *n, const char *buf,
		  size_t size, uint64_t off);
void ext2_read(struct uvfs_req *req, uint64_t ino, size_t size, off_t off,
	       struct uvfs_file_info *fi);
void ext2_write(struct uvfs_req *req, uint64_t ino, const void *buf,
		size_t size, off_t off, struct uvfs_file_info *fi);
void ext2_fallocate(struct uvfs_req *req, uint64_t ino, int mode,
		    off_t offset, off_t length, struct uvfs_file_info *fi);
void ext2_lseek(struct uvfs_req *req, uint64_t ino, off_t off, int whence,
		struct uvfs_file_info *fi);

/* ---- ext2_xattr.c: extended attributes ---- */
void ext2_setxattr(struct uvfs_req *req, uint64_t ino, const char *name,
		   const void *value, size_t size, int flags);
void ext2_getxattr(struct uvfs_req *req, uint64_t ino, const char *name,
		   size_t size);
void ext2_listxattr(struct uvfs_req *req, uint64_t ino, size_t size);
void ext2_removexattr(struct uvfs_req *req, uint64_t ino, const char *name);

#endif /* UVFS_EXT2_I_H */
