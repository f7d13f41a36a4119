// SPDX-License-Identifier: MIT
/*
 * ext2: the filesystem as a whole, what Linux's ext2 keeps in super.c:
 * libext2fs error codes turned into errnos (e2_err), what a corrupt image
 * makes us do (errors=, e2_reply_err), whether we may write at all, the
 * features we can read or write (checked at mount), sync to the image,
 * fsync and statfs.  Every other file of the backend calls in here.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <e2p/e2p.h>

#include "ext2_i.h"

/* ------------------------------------------------------------------------
 * libext2fs error codes -> -errno, in one place.
 */
int e2_err(errcode_t err)
{
	if (!err)
		return 0;
	/* libext2fs passes system errors through as plain errno values */
	if (err > 0 && err < 4096)
		return -(int)err;
	switch (err) {
	case EXT2_ET_NO_MEMORY:
		return -ENOMEM;
	case EXT2_ET_RO_FILSYS:
		return -EROFS;
	case EXT2_ET_FILE_NOT_FOUND:
		return -ENOENT;
	case EXT2_ET_DIR_EXISTS:
		return -EEXIST;
	case EXT2_ET_NO_DIRECTORY:
		return -ENOTDIR;
	case EXT2_ET_DIR_NO_SPACE:
	case EXT2_ET_DIR_NO_SPACE_FOR_CSUM:
	case EXT2_ET_BLOCK_ALLOC_FAIL:
	case EXT2_ET_INODE_ALLOC_FAIL:
	case EXT2_ET_EA_NO_SPACE:
	case EXT2_ET_INLINE_DATA_NO_SPACE:
	case EXT2_ET_EXTENT_NO_SPACE:
		return -ENOSPC;
	case EXT2_ET_EA_KEY_NOT_FOUND:
		return -ENODATA;
	case EXT2_ET_EA_BAD_NAME_LEN:
		return -ERANGE;
	case EXT2_ET_EA_BAD_VALUE_SIZE:
		return -E2BIG;
	case EXT2_ET_FILE_TOO_BIG:
		return -EFBIG;
	case EXT2_ET_UNIMPLEMENTED:
	case EXT2_ET_OP_NOT_SUPPORTED:
	case EXT2_ET_EXTENT_NOT_SUPPORTED:
		return -EOPNOTSUPP;
	case EXT2_ET_INVALID_ARGUMENT:
		return -EINVAL;
	case EXT2_ET_SHORT_READ:
	case EXT2_ET_SHORT_WRITE:
		return -EIO;
	case EXT2_ET_DIR_CORRUPTED:
	case EXT2_ET_BAD_INODE_NUM:
	case EXT2_ET_BAD_BLOCK_NUM:
	case EXT2_ET_BAD_IND_BLOCK:
	case EXT2_ET_BAD_DIND_BLOCK:
	case EXT2_ET_BAD_TIND_BLOCK:
	case EXT2_ET_BAD_EA_BLOCK_NUM:
	case EXT2_ET_BAD_EA_HASH:
	case EXT2_ET_BAD_EA_HEADER:
	case EXT2_ET_EA_BAD_VALUE_OFFSET:
	case EXT2_ET_EXTENT_HEADER_BAD:
	case EXT2_ET_EXTENT_INDEX_BAD:
	case EXT2_ET_EXTENT_LEAF_BAD:
	case EXT2_ET_EXTENT_CYCLE:
	case EXT2_ET_INODE_CSUM_INVALID:
	case EXT2_ET_EXTENT_CSUM_INVALID:
	case EXT2_ET_DIR_CSUM_INVALID:
	case EXT2_ET_EXT_ATTR_CSUM_INVALID:
	case EXT2_ET_INODE_CORRUPTED:
	case EXT2_ET_EA_INODE_CORRUPTED:
	case EXT2_ET_FILESYSTEM_CORRUPTED:
	case EXT2_ET_CORRUPT_SUPERBLOCK:
		return -EUCLEAN;
	default:
		return -EIO;
	}
}

/* ------------------------------------------------------------------------
 * Features
 */

enum { F_COMPAT, F_INCOMPAT, F_RO_COMPAT };

struct feature {
	int kind;
	uint32_t mask;
	const char *name;
};

/*
 * Features we refuse to write: libext2fs (or this backend's data path)
 * would leave the filesystem inconsistent or ignore semantics the kernel
 * enforces.  Reading them is fine.
 */
static const struct feature rw_refused[] = {
	{ F_INCOMPAT, EXT4_FEATURE_INCOMPAT_ENCRYPT, "encrypt" },
	{ F_INCOMPAT, EXT4_FEATURE_INCOMPAT_CASEFOLD, "casefold" },
	{ F_INCOMPAT, EXT4_FEATURE_INCOMPAT_INLINE_DATA, "inline_data" },
	{ F_INCOMPAT, EXT2_FEATURE_INCOMPAT_COMPRESSION, "compression" },
	{ F_INCOMPAT, EXT4_FEATURE_INCOMPAT_DIRDATA, "dirdata" },
	{ F_RO_COMPAT, EXT4_FEATURE_RO_COMPAT_VERITY, "verity" },
	{ F_RO_COMPAT, EXT4_FEATURE_RO_COMPAT_READONLY, "read-only" },
	{ F_RO_COMPAT, EXT4_FEATURE_RO_COMPAT_SHARED_BLOCKS, "shared_blocks" },
	{ F_RO_COMPAT, EXT4_FEATURE_RO_COMPAT_QUOTA, "quota" },
	{ F_RO_COMPAT, EXT4_FEATURE_RO_COMPAT_PROJECT, "project" },
	{ F_RO_COMPAT, EXT4_FEATURE_RO_COMPAT_BIGALLOC, "bigalloc" },
	{ F_RO_COMPAT, EXT4_FEATURE_RO_COMPAT_ORPHAN_PRESENT,
	  "orphan_present" },
};

static uint32_t feature_word(const struct ext2_super_block *sb, int kind)
{
	switch (kind) {
	case F_COMPAT:
		return sb->s_feature_compat;
	case F_INCOMPAT:
		return sb->s_feature_incompat;
	default:
		return sb->s_feature_ro_compat;
	}
}

/* The first feature of the list that sb has, or NULL. */
static const char *refused_feature(const struct ext2_super_block *sb)
{
	size_t i;

	for (i = 0; i < sizeof(rw_refused) / sizeof(rw_refused[0]); i++)
		if (feature_word(sb, rw_refused[i].kind) & rw_refused[i].mask)
			return rw_refused[i].name;
	return NULL;
}

/*
 * The names of the feature bits in mask, a word of kind e2p_kind
 * (E2P_FEATURE_*), space separated, as dumpe2fs and tune2fs spell them:
 * the user can look them up or clear them with tune2fs -O ^NAME.  A bit
 * e2fsprogs does not know comes out as FEATURE_I11 and the like.
 */
static const char *feature_names(int e2p_kind, uint32_t mask, char *buf,
				 size_t len)
{
	size_t used = 0;
	int bit;

	buf[0] = '\0';
	for (bit = 0; bit < 32 && used < len; bit++) {
		if (!(mask & (1u << bit)))
			continue;
		used += (size_t)snprintf(buf + used, len - used, "%s%s",
					 used ? " " : "",
					 e2p_feature2string(e2p_kind,
							    1u << bit));
	}
	return buf;
}

/*
 * Features libext2fs itself does not know: incompat ones cannot be read
 * at all, ro_compat ones can be read but not written.
 */
static int lib_unsupported(const struct uvfs_mount_args *args,
			   const struct ext2_super_block *sb)
{
	/* ext2fs.h leaves MMP out of the mask unless the includer defines
	 * CONFIG_MMP, though Debian's library is built with it */
	uint32_t in = sb->s_feature_incompat &
		      ~(EXT2_LIB_FEATURE_INCOMPAT_SUPP |
			EXT4_FEATURE_INCOMPAT_MMP);
	uint32_t ro = sb->s_feature_ro_compat &
		      ~EXT2_LIB_FEATURE_RO_COMPAT_SUPP;
	char names[256];

	if (in) {
		MOUNT_ERR(args, "ext2: %s: unsupported filesystem feature(s) "
			  "'%s' (libext2fs cannot read them)", args->source,
			  feature_names(E2P_FEATURE_INCOMPAT, in, names,
					sizeof(names)));
		return -EOPNOTSUPP;
	}
	if (ro && !args->readonly) {
		MOUNT_ERR(args, "ext2: %s: feature(s) '%s' can only be read "
			  "(libext2fs cannot write them); mount with -o ro",
			  args->source,
			  feature_names(E2P_FEATURE_RO_INCOMPAT, ro, names,
					sizeof(names)));
		return -EROFS;
	}
	return 0;
}

/*
 * What the superblock says about mounting it: features libext2fs or we
 * cannot handle, a journal to replay, recorded errors.  Only once the
 * image is ours (see claim_source() in ext2_main.c): an image mounted
 * elsewhere always looks as if it needed recovery.
 */
int e2_check_features(const struct uvfs_mount_args *args,
		      const struct e2_mount_opts *mo,
		      const struct ext2_super_block *sbp)
{
	struct ext2_super_block sb = *sbp;
	const char *feat;
	int err;

	err = lib_unsupported(args, &sb);
	if (err || args->readonly || mo->norecovery)
		return err;
	feat = refused_feature(&sb);
	if (feat) {
		MOUNT_ERR(args, "ext2: %s: feature '%s' is supported "
			  "read-only; mount with -o ro", args->source, feat);
		return -EROFS;
	}
	if ((sb.s_feature_incompat & EXT3_FEATURE_INCOMPAT_RECOVER) &&
	    !mo->norecovery) {
		MOUNT_ERR(args, "ext2: %s: the journal needs recovery; run "
			  "e2fsck first, or mount with -o ro", args->source);
		return -EROFS;
	}
	if (sb.s_state & EXT2_ERROR_FS) {
		MOUNT_ERR(args, "ext2: %s: filesystem has errors; run e2fsck "
			  "first, or mount with -o ro", args->source);
		return -EROFS;
	}
	return 0;
}

/* ------------------------------------------------------------------------
 * The io cache: metadata written back, never over file data
 */

/*
 * A block taken for use may have been metadata freed a moment ago, still
 * dirty in libext2fs's io cache; file data goes to it through data_fd,
 * and a later spill of the cache would overwrite that data.  So every
 * allocation first writes the cache back: "cache=off" flushes it,
 * "cache=on" resumes caching.  Allocations are rare next to the metadata
 * writes the cache saves (an inode table block rewritten for each of the
 * inodes in it), and each flush writes at most the cache's few blocks.
 */
static void cache_before_use(ext2_filsys fs)
{
	io_channel_set_options(fs->io, "cache=off");
	io_channel_set_options(fs->io, "cache=on");
}

static void alloc_stats(ext2_filsys fs, blk64_t blk, int inuse)
{
	struct e2fs *e2 = fs->priv_data;

	if (inuse > 0)
		cache_before_use(fs);
	if (e2->old_alloc_stats)
		e2->old_alloc_stats(fs, blk, inuse);
}

static void alloc_stats_range(ext2_filsys fs, blk64_t blk, blk_t num,
			      int inuse)
{
	struct e2fs *e2 = fs->priv_data;

	if (inuse > 0)
		cache_before_use(fs);
	if (e2->old_alloc_stats_range)
		e2->old_alloc_stats_range(fs, blk, num, inuse);
}

/*
 * Let the io cache hold metadata writes until a sync, an allocation or
 * its own eviction.  Every allocator of the backend goes through
 * ext2fs_block_alloc_stats2/_range (ext2fs_alloc_block2, ext2fs_new_range
 * callers, ext2fs_extent_*, ext2fs_bmap2), which call these hooks.
 */
void e2_cache_init(struct e2fs *e2)
{
	ext2_filsys fs = e2->fs;

	fs->priv_data = e2;
	fs->io->flags &= ~CHANNEL_FLAGS_WRITETHROUGH;
	ext2fs_set_block_alloc_stats_callback(fs, alloc_stats,
					      &e2->old_alloc_stats);
	ext2fs_set_block_alloc_stats_range_callback(fs, alloc_stats_range,
						    &e2->old_alloc_stats_range);
}

/* ------------------------------------------------------------------------
 * Whole-filesystem ops
 */

int e2_check_writable(struct e2fs *e2)
{
	return e2->ro || atomic_load(&e2->stopped_writing) ? -EROFS : 0;
}

/*
 * A request failed because the image is corrupt: do what errors= (or the
 * superblock's s_errors) says, as the kernel's ext4_error() does.  The
 * error flag reaches the superblock at the next sync or the unmount, so
 * that e2fsck checks the image before the next read-write mount.
 */
static void e2_fs_error(struct e2fs *e2)
{
	unsigned long n = atomic_fetch_add(&e2->nerrors, 1);

	if (n < 10 || n % 1000 == 0)
		uvfs_log_prio(LOG_ERR, "ext2: corruption found (%lu so far); "
			      "run e2fsck after unmounting", n + 1);
	switch (e2->errors) {
	case EXT2_ERRORS_PANIC:
		/* stop at once: no more writes, not even a flush */
		uvfs_log_prio(LOG_CRIT, "ext2: errors=panic: stopping the "
			      "daemon");
		_exit(EXIT_FAILURE);
	case EXT2_ERRORS_RO:
		if (!atomic_exchange(&e2->stopped_writing, true))
			uvfs_log_prio(LOG_CRIT, "ext2: errors=remount-ro: "
				      "refusing writes from now on");
		break;
	default:
		break;
	}
}

int e2_reply_err(struct uvfs_req *req, int err)
{
	if (err == -EUCLEAN)
		e2_fs_error(uvfs_req_priv(req));
	return uvfs_reply_err(req, err);
}

/* After corruption was found, the superblock says so (see e2_fs_error). */
void e2_note_errors(struct e2fs *e2)
{
	if (atomic_load(&e2->nerrors) &&
	    !(e2->fs->super->s_state & EXT2_ERROR_FS)) {
		e2->fs->super->s_state |= EXT2_ERROR_FS;
		ext2fs_mark_super_dirty(e2->fs);
	}
}

/* Bitmaps, group descriptors, superblock, then fsync of the image. */
int e2_fs_sync(struct e2fs *e2)
{
	errcode_t err;

	if (e2->ro)
		return 0;
	e2_note_errors(e2);
	err = ext2fs_write_bitmaps(e2->fs);
	if (!err) {
		ext2fs_mark_super_dirty(e2->fs);
		/* also writes the io cache back and fsyncs the image */
		err = ext2fs_flush(e2->fs);
	}
	if (!err)
		e2->flushes++;
	return e2_err(err);
}

void ext2_fsync(struct uvfs_req *req, uint64_t ino, int datasync,
		struct uvfs_file_info *fi)
{
	struct e2fs *e2 = uvfs_req_priv(req);
	int err;

	pthread_mutex_lock(&e2->lock);
	err = e2_fs_sync(e2);
	pthread_mutex_unlock(&e2->lock);
	e2_reply_err(req, err);
}

void ext2_statfs(struct uvfs_req *req, uint64_t ino)
{
	struct e2fs *e2 = uvfs_req_priv(req);
	struct ext2_super_block *sb;
	struct statvfs st;
	blk64_t bfree, resv;

	memset(&st, 0, sizeof(st));
	pthread_mutex_lock(&e2->lock);
	sb = e2->fs->super;
	bfree = ext2fs_free_blocks_count(sb);
	resv = ext2fs_r_blocks_count(sb);
	st.f_bsize = e2->bs;
	st.f_frsize = e2->bs;
	st.f_blocks = ext2fs_blocks_count(sb) - sb->s_first_data_block;
	st.f_bfree = bfree;
	st.f_bavail = bfree > resv ? bfree - resv : 0;
	st.f_files = sb->s_inodes_count;
	st.f_ffree = sb->s_free_inodes_count;
	st.f_favail = st.f_ffree;
	memcpy(&st.f_fsid, sb->s_uuid, sizeof(st.f_fsid));
	st.f_namemax = EXT2_NAME_LEN;
	if (e2->ro)
		st.f_flag |= ST_RDONLY;
	pthread_mutex_unlock(&e2->lock);
	uvfs_reply_statfs(req, &st);
}

