// SPDX-License-Identifier: MIT
/*
 * ext2: the inode cache and the ops on one inode's attributes: forget,
 * getattr, setattr, access, readlink, open/opendir/release.
 *
 * A node stays in memory while the kernel holds a lookup count or an open
 * handle on it.  An inode whose last link goes away while it is still held
 * becomes an orphan: it keeps its blocks until the last forget/release (or
 * unmount) and is freed then.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "ext2_i.h"

/* ------------------------------------------------------------------------
 * The node table
 */

bool e2_ino_valid(struct e2fs *e2, ext2_ino_t ino)
{
	const struct ext2_super_block *sb = e2->fs->super;

	return ino == EXT2_ROOT_INO ||
	       (ino >= EXT2_FIRST_INO(sb) && ino <= sb->s_inodes_count);
}

static struct e2_node **bucket(struct e2fs *e2, ext2_ino_t ino)
{
	return &e2->nodes[ino & (e2->nbuckets - 1)];
}

static struct e2_node *node_find(struct e2fs *e2, ext2_ino_t ino)
{
	struct e2_node *n;

	for (n = *bucket(e2, ino); n; n = n->hnext)
		if (n->ino == ino)
			return n;
	return NULL;
}

/* Double the table when chains get long; failure just keeps it. */
static void node_table_grow(struct e2fs *e2)
{
	size_t i, nb = e2->nbuckets * 2;
	struct e2_node **t = calloc(nb, sizeof(*t)), *n, *next;

	if (!t)
		return;
	for (i = 0; i < e2->nbuckets; i++)
		for (n = e2->nodes[i]; n; n = next) {
			next = n->hnext;
			n->hnext = t[n->ino & (nb - 1)];
			t[n->ino & (nb - 1)] = n;
		}
	free(e2->nodes);
	e2->nodes = t;
	e2->nbuckets = nb;
}

static void node_hash(struct e2fs *e2, struct e2_node *n);

static void node_unhash(struct e2fs *e2, struct e2_node *n)
{
	struct e2_node **p;

	for (p = bucket(e2, n->ino); *p; p = &(*p)->hnext)
		if (*p == n) {
			*p = n->hnext;
			e2->nnodes--;
			return;
		}
}

/* Reject inodes that cannot be what a directory entry points at. */
/* unlinked: an inode of the orphan list may have no links (yet) */
static int inode_sane(struct e2fs *e2, const struct ext2_inode_large *in,
		      bool unlinked)
{
	unsigned int isize = EXT2_INODE_SIZE(e2->fs->super);

	if ((in->i_links_count == 0 && !unlinked) ||
	    (in->i_mode & S_IFMT) == 0)
		return -EUCLEAN;	/* a deleted inode */
	if (isize > EXT2_GOOD_OLD_INODE_SIZE &&
	    (in->i_extra_isize > isize - EXT2_GOOD_OLD_INODE_SIZE ||
	     (in->i_extra_isize & 3)))
		return -EUCLEAN;
	return 0;
}

static int inode_read(struct e2fs *e2, ext2_ino_t ino,
		      struct ext2_inode_large *in)
{
	memset(in, 0, sizeof(*in));
	return e2_err(ext2fs_read_inode_full(e2->fs, ino,
					     (struct ext2_inode *)in,
					     sizeof(*in)));
}

static int node_get(struct e2fs *e2, ext2_ino_t ino, bool unlinked,
		    struct e2_node **out)
{
	struct e2_node *n = node_find(e2, ino);
	int err;

	if (n) {
		*out = n;
		return 0;
	}
	if (!e2_ino_valid(e2, ino))
		return -EUCLEAN;
	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->ino = ino;
	pthread_rwlock_init(&n->io, NULL);
	err = inode_read(e2, ino, &n->inode);
	if (!err)
		err = inode_sane(e2, &n->inode, unlinked);
	if (err) {
		pthread_rwlock_destroy(&n->io);
		free(n);
		return err;
	}
	node_hash(e2, n);
	*out = n;
	return 0;
}

int e2_node_get(struct e2fs *e2, ext2_ino_t ino, struct e2_node **out)
{
	return node_get(e2, ino, false, out);
}

static void node_free(struct e2fs *e2, struct e2_node *n);

static void node_hash(struct e2fs *e2, struct e2_node *n)
{
	if (e2->nnodes >= e2->nbuckets * 2)
		node_table_grow(e2);
	n->hnext = *bucket(e2, n->ino);
	*bucket(e2, n->ino) = n;
	e2->nnodes++;
}

struct e2_node *e2_node_new(struct e2fs *e2, ext2_ino_t ino)
{
	struct e2_node *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	n->ino = ino;
	pthread_rwlock_init(&n->io, NULL);
	node_hash(e2, n);
	return n;
}

void e2_node_discard(struct e2fs *e2, struct e2_node *n)
{
	node_free(e2, n);
}

/* For node ids the kernel sends: only ids we handed out are valid. */
int e2_node_get_id(struct e2fs *e2, uint64_t nodeid, struct e2_node **out)
{
	ext2_ino_t ino = e2_ino(nodeid);

	if (!ino || !e2_ino_valid(e2, ino))
		return -ENOENT;
	return e2_node_get(e2, ino, out);
}

int e2_node_write(struct e2fs *e2, struct e2_node *n)
{
	return e2_err(ext2fs_write_inode_full(e2->fs, n->ino, e2_small(n),
					      sizeof(n->inode)));
}

int e2_node_write_new(struct e2fs *e2, struct e2_node *n)
{
	unsigned int isize = EXT2_INODE_SIZE(e2->fs->super);
	char *buf = calloc(1, isize);
	int err;

	if (!buf)
		return -ENOMEM;
	memcpy(buf, &n->inode, isize < sizeof(n->inode) ? isize :
							   sizeof(n->inode));
	err = e2_err(ext2fs_write_inode_full(e2->fs, n->ino,
					     (struct ext2_inode *)buf, isize));
	free(buf);
	return err;
}

/* After a libext2fs call that rewrote the inode on disk itself. */
int e2_node_reload(struct e2fs *e2, struct e2_node *n)
{
	return inode_read(e2, n->ino, &n->inode);
}

/* Release an unlinked inode: blocks, xattr block, then the inode. */
static int inode_free(struct e2fs *e2, struct e2_node *n)
{
	ext2_filsys fs = e2->fs;
	blk64_t ea = ext2fs_file_acl_block(fs, e2_small(n));
	bool dir = LINUX_S_ISDIR(n->inode.i_mode);
	__u32 count = 1;
	int err;

	err = e2_free_blocks(e2, n);
	if (err)
		uvfs_log("ext2: freeing the blocks of inode %u: %s", n->ino,
			 strerror(-err));
	if (ea && ea >= fs->super->s_first_data_block &&
	    ea < ext2fs_blocks_count(fs->super)) {
		if (!ext2fs_adjust_ea_refcount3(fs, ea, NULL, -1, &count,
						n->ino) && count == 0) {
			ext2fs_block_alloc_stats2(fs, ea, -1);
			ext2fs_iblk_sub_blocks(fs, e2_small(n), 1);
		}
		ext2fs_file_acl_block_set(fs, e2_small(n), 0);
	}
	n->inode.i_links_count = 0;
	n->inode.i_dtime = (uint32_t)time(NULL);
	if (!err)
		err = e2_node_write(e2, n);
	ext2fs_inode_alloc_stats2(fs, n->ino, -1, dir);
	n->orphan = false;
	return err;
}

static void node_free(struct e2fs *e2, struct e2_node *n)
{
	/* reads in flight end first (new ones need e2->lock, ours) */
	pthread_rwlock_wrlock(&n->io);
	pthread_rwlock_unlock(&n->io);
	pthread_rwlock_destroy(&n->io);
	node_unhash(e2, n);
	e2_dcache_free(n);
	free(n);
}

void e2_node_put(struct e2fs *e2, struct e2_node *n)
{
	if (n->nlookup || n->nopen || n->ino == EXT2_ROOT_INO)
		return;
	if (n->orphan && !e2->ro)
		inode_free(e2, n);
	node_free(e2, n);
}

void e2_node_free_all(struct e2fs *e2)
{
	size_t i;

	for (i = 0; i < e2->nbuckets; i++)
		while (e2->nodes[i]) {
			struct e2_node *n = e2->nodes[i];

			if (n->orphan && !e2->ro)
				inode_free(e2, n);
			node_free(e2, n);
		}
}

/* A truncate the crash cut short: i_size is set, the blocks are not gone. */
static int orphan_truncate(struct e2fs *e2, struct e2_node *n)
{
	uint64_t size = e2_size(n);
	int err = 0;

	if (!(n->inode.i_flags & EXT4_INLINE_DATA_FL)) {
		err = e2_punch_blocks(e2, n, (size + e2->bs - 1) / e2->bs,
				      ~0ULL);
		if (!err && size % e2->bs)
			err = e2_zero_in_block(e2, n, size / e2->bs,
					       size % e2->bs,
					       e2->bs - size % e2->bs);
	}
	return e2_node_write(e2, n) ?: err;
}

/*
 * The orphan list a crash left (s_last_orphan, chained through i_dtime):
 * inodes unlinked while still open, to free, and inodes in the middle of
 * a truncate, to finish; the kernel does this at every read-write mount,
 * e2fsck before its passes.  A chain through an impossible inode, or
 * longer than there are inodes, is left with a warning (e2fsck's job).
 */
int e2_orphans_cleanup(struct e2fs *e2)
{
	struct ext2_super_block *sb = e2->fs->super;
	ext2_ino_t ino = sb->s_last_orphan, next;
	uint32_t seen = 0, freed = 0, truncated = 0;
	struct e2_node *n;
	int err = 0;

	while (ino && !err) {
		if (++seen > sb->s_inodes_count || node_get(e2, ino, true, &n)) {
			uvfs_log("ext2: the orphan list is damaged at inode "
				 "%u; run e2fsck", ino);
			break;
		}
		next = n->inode.i_dtime;
		n->inode.i_dtime = 0;
		if (!n->inode.i_links_count) {
			n->orphan = true;
			freed++;
		} else {
			err = LINUX_S_ISREG(n->inode.i_mode) ?
			      orphan_truncate(e2, n) : e2_node_write(e2, n);
			truncated++;
		}
		e2_node_put(e2, n);	/* frees an orphan nobody holds */
		ino = next;
	}
	sb->s_last_orphan = 0;
	ext2fs_mark_super_dirty(e2->fs);
	if (freed || truncated)
		uvfs_log_prio(LOG_NOTICE, "ext2: orphan list: %u inode%s "
			      "freed, %u truncated", freed,
			      freed == 1 ? "" : "s", truncated);
	return err;
}

/* ------------------------------------------------------------------------
 * Inode fields
 */

/* Does the inode have room for field (in its i_extra_isize area)? */
#define E2_FITS(n, field)                                                   \
	(EXT2_GOOD_OLD_INODE_SIZE + (size_t)(n)->inode.i_extra_isize >=       \
	 offsetof(struct ext2_inode_large, field) +                          \
		 sizeof((n)->inode.field))

static struct timespec time_decode(uint32_t lo, uint32_t extra, bool has)
{
	struct timespec ts = { .tv_sec = (int32_t)lo };

	if (has) {
		ts.tv_sec += (int64_t)(extra & EXT4_EPOCH_MASK) << 32;
		ts.tv_nsec = extra >> EXT4_EPOCH_BITS;
		if (ts.tv_nsec >= 1000000000L)
			ts.tv_nsec = 0;
	}
	return ts;
}

/*
 * Times the inode cannot hold are clamped, as the kernel's ext4 does
 * (s_time_min/s_time_max, nanoseconds 0 at a limit): signed 32-bit seconds
 * without the extra field (128-byte inodes), up to 2446 with it.  Not
 * clamped, a time after 2038 would wrap to before 1970.
 */
static void time_encode(const struct timespec *ts, uint32_t *lo,
			uint32_t *extra, bool has)
{
	int64_t max = has ? (int64_t)INT32_MAX + (3LL << 32) : INT32_MAX;
	int64_t sec = ts->tv_sec;
	uint32_t nsec = (uint32_t)ts->tv_nsec;

	if (sec <= INT32_MIN || sec >= max) {
		sec = sec <= INT32_MIN ? INT32_MIN : max;
		nsec = 0;
	}
	*lo = (uint32_t)sec;
	if (has)
		*extra = ((uint32_t)((sec - (int32_t)sec) >> 32) &
			  EXT4_EPOCH_MASK) | (nsec << EXT4_EPOCH_BITS);
}

void e2_set_time(struct e2_node *n, int which, const struct timespec *ts)
{
	struct ext2_inode_large *in = &n->inode;

	if (which & E2_ATIME)
		time_encode(ts, &in->i_atime, &in->i_atime_extra,
			    E2_FITS(n, i_atime_extra));
	if (which & E2_MTIME)
		time_encode(ts, &in->i_mtime, &in->i_mtime_extra,
			    E2_FITS(n, i_mtime_extra));
	if (which & E2_CTIME)
		time_encode(ts, &in->i_ctime, &in->i_ctime_extra,
			    E2_FITS(n, i_ctime_extra));
	if ((which & E2_CRTIME) && E2_FITS(n, i_crtime_extra))
		time_encode(ts, &in->i_crtime, &in->i_crtime_extra, true);
}

void e2_touch(struct e2_node *n, int which)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	e2_set_time(n, which, &now);
}

uint64_t e2_size(struct e2_node *n)
{
	return EXT2_I_SIZE(&n->inode);
}

int e2_set_size(struct e2fs *e2, struct e2_node *n, uint64_t size)
{
	return e2_err(ext2fs_inode_size_set(e2->fs, e2_small(n), size));
}

/* Device numbers as the kernel stores them in i_block[0] or [1]. */
static dev_t rdev_decode(const struct ext2_inode_large *in)
{
	uint32_t d;

	if (in->i_block[0]) {
		d = in->i_block[0];
		return makedev((d >> 8) & 0xff, d & 0xff);
	}
	d = in->i_block[1];
	return makedev((d & 0xfff00) >> 8, (d & 0xff) | ((d >> 12) & 0xfff00));
}

void e2_stat(struct e2fs *e2, struct e2_node *n, struct stat *st)
{
	struct ext2_inode_large *in = &n->inode;

	memset(st, 0, sizeof(*st));
	st->st_ino = e2_nodeid(n->ino);
	st->st_mode = in->i_mode;
	st->st_nlink = in->i_links_count;
	st->st_uid = inode_uid(*in);
	st->st_gid = inode_gid(*in);
	st->st_size = (off_t)e2_size(n);
	if (LINUX_S_ISCHR(in->i_mode) || LINUX_S_ISBLK(in->i_mode))
		st->st_rdev = rdev_decode(in);
	st->st_blksize = e2->bs;
	st->st_blocks = (blkcnt_t)ext2fs_get_stat_i_blocks(e2->fs,
							   e2_small(n));
	st->st_atim = time_decode(in->i_atime, in->i_atime_extra,
				  E2_FITS(n, i_atime_extra));
	st->st_mtim = time_decode(in->i_mtime, in->i_mtime_extra,
				  E2_FITS(n, i_mtime_extra));
	st->st_ctim = time_decode(in->i_ctime, in->i_ctime_extra,
				  E2_FITS(n, i_ctime_extra));
}

void e2_entry(struct e2fs *e2, struct e2_node *n, struct uvfs_entry *e)
{
	memset(e, 0, sizeof(*e));
	e->ino = e2_nodeid(n->ino);
	e->generation = n->inode.i_generation;
	e->attr_timeout = E2_TIMEOUT;
	e->entry_timeout = E2_TIMEOUT;
	e2_stat(e2, n, &e->attr);
}

int e2_drop_link(struct e2fs *e2, struct e2_node *n)
{
	if (LINUX_S_ISDIR(n->inode.i_mode))
		n->inode.i_links_count = 0;	/* its "." goes too */
	else if (n->inode.i_links_count)
		n->inode.i_links_count--;
	e2_touch(n, E2_CTIME);
	if (n->inode.i_links_count)
		return e2_node_write(e2, n);
	if (n->nlookup || n->nopen) {
		n->orphan = true;
		return e2_node_write(e2, n);
	}
	/* Nobody holds it: free it now; n is gone after this. */
	n->orphan = true;
	e2_node_put(e2, n);
	return 0;
}

/* ------------------------------------------------------------------------
 * Ops
 */

void ext2_forget_multi(struct uvfs_req *req, size_t count,
		       const struct uvfs_forget_one *forgets)
{
	struct e2fs *e2 = uvfs_req_priv(req);
	size_t i;

	pthread_mutex_lock(&e2->lock);
	for (i = 0; i < count; i++) {
		ext2_ino_t ino = e2_ino(forgets[i].nodeid);
		struct e2_node *n = ino ? node_find(e2, ino) : NULL;

		if (!n)
			continue;
		n->nlookup = forgets[i].nlookup < n->nlookup ?
				     n->nlookup - forgets[i].nlookup : 0;
		e2_node_put(e2, n);
	}
	pthread_mutex_unlock(&e2->lock);
	uvfs_reply_none(req);
}

/* Answer getattr/setattr: n's attributes, or err. */
static void reply_attr(struct uvfs_req *req, struct e2fs *e2,
		       struct e2_node *n, int err)
{
	struct stat st;

	if (err) {
		e2_reply_err(req, err);
		return;
	}
	e2_stat(e2, n, &st);
	uvfs_reply_attr(req, &st, E2_TIMEOUT);
}

void ext2_getattr(struct uvfs_req *req, uint64_t nodeid,
		  struct uvfs_file_info *fi)
{
	struct e2fs *e2 = uvfs_req_priv(req);
	struct e2_node *n;
	int err;

	pthread_mutex_lock(&e2->lock);
	err = e2_node_get_id(e2, nodeid, &n);
	reply_attr(req, e2, n, err);
	pthread_mutex_unlock(&e2->lock);
}

static void kill_suid(struct ext2_inode_large *in)
{
	in->i_mode &= (uint16_t)~S_ISUID;
	if (in->i_mode & S_IXGRP)
		in->i_mode &= (uint16_t)~S_ISGID;
}

static void set_owner(struct e2_node *n, const struct stat *attr,
		      uint32_t to_set, const struct uvfs_ctx *ctx)
{
	struct ext2_inode_large *in = &n->inode;

	if (to_set & UVFS_SET_UID) {
		in->i_uid = (uint16_t)attr->st_uid;
		in->osd2.linux2.l_i_uid_high = (uint16_t)(attr->st_uid >> 16);
	}
	if (to_set & UVFS_SET_GID) {
		in->i_gid = (uint16_t)attr->st_gid;
		in->osd2.linux2.l_i_gid_high = (uint16_t)(attr->st_gid >> 16);
	}
	/* An unprivileged chown drops the set-ID bits of a file. */
	if (ctx->uid != 0 && !(to_set & UVFS_SET_MODE) &&
	    !LINUX_S_ISDIR(in->i_mode))
		kill_suid(in);
}

static int do_setattr(struct uvfs_req *req, struct e2fs *e2,
		      struct e2_node *n, const struct stat *attr,
		      uint32_t to_set)
{
	struct ext2_inode_large *in = &n->inode;
	int err;

	if (to_set & UVFS_SET_SIZE) {
		if (LINUX_S_ISDIR(in->i_mode))
			return -EISDIR;
		if (!LINUX_S_ISREG(in->i_mode))
			return -EINVAL;
		if ((uint64_t)attr->st_size > e2_max_size(e2, n))
			return -EFBIG;
		err = e2_truncate(e2, n, (uint64_t)attr->st_size);
		if (err)
			return err;
		e2_touch(n, E2_MTIME);
	}
	if (to_set & UVFS_SET_MODE)
		in->i_mode = (uint16_t)((in->i_mode & S_IFMT) |
					(attr->st_mode & 07777));
	if (to_set & (UVFS_SET_UID | UVFS_SET_GID))
		set_owner(n, attr, to_set, uvfs_req_ctx(req));
	if (to_set & UVFS_SET_KILL_SUID)
		kill_suid(in);
	if (to_set & UVFS_SET_ATIME_NOW)
		e2_touch(n, E2_ATIME);
	else if (to_set & UVFS_SET_ATIME)
		e2_set_time(n, E2_ATIME, &attr->st_atim);
	if (to_set & UVFS_SET_MTIME_NOW)
		e2_touch(n, E2_MTIME);
	else if (to_set & UVFS_SET_MTIME)
		e2_set_time(n, E2_MTIME, &attr->st_mtim);
	if (to_set & UVFS_SET_CTIME)
		e2_set_time(n, E2_CTIME, &attr->st_ctim);
	else
		e2_touch(n, E2_CTIME);
	return e2_node_write(e2, n);
}

void ext2_setattr(struct uvfs_req *req, uint64_t nodeid,
		  const struct stat *attr, uint32_t to_set,
		  struct uvfs_file_info *fi)
{
	struct e2fs *e2 = uvfs_req_priv(req);
	struct e2_node *n;
	int err;

	pthread_mutex_lock(&e2->lock);
	err = e2_node_get_id(e2, nodeid, &n);
	if (!err && (to_set & ~(uint32_t)UVFS_SET_FH))
		err = e2_check_writable(e2);
	if (!err)
		err = do_setattr(req, e2, n, attr, to_set);
	reply_attr(req, e2, n, err);
	pthread_mutex_unlock(&e2->lock);
}

/* Needed only without default_permissions; mirrors generic_permission(). */
static int check_access(const struct ext2_inode_large *in,
			const struct uvfs_ctx *ctx, int mask)
{
	unsigned int mode = in->i_mode, perm;
	uid_t uid = inode_uid(*in);
	gid_t gid = inode_gid(*in);

	mask &= R_OK | W_OK | X_OK;
	if (ctx->uid == 0) {
		if ((mask & X_OK) && !LINUX_S_ISDIR(mode) &&
		    !(mode & (S_IXUSR | S_IXGRP | S_IXOTH)))
			return -EACCES;
		return 0;
	}
	if (ctx->uid == uid)
		perm = (mode >> 6) & 7;
	else if (ctx->gid == gid)
		perm = (mode >> 3) & 7;
	else
		perm = mode & 7;
	return ((int)perm & mask) == mask ? 0 : -EACCES;
}

void ext2_access(struct uvfs_req *req, uint64_t nodeid, int mask)
{
	struct e2fs *e2 = uvfs_req_priv(req);
	struct e2_node *n;
	int err;

	pthread_mutex_lock(&e2->lock);
	err = e2_node_get_id(e2, nodeid, &n);
	if (!err && (mask & W_OK) && e2->ro)
		err = -EROFS;
	if (!err)
		err = check_access(&n->inode, uvfs_req_ctx(req), mask);
	pthread_mutex_unlock(&e2->lock);
	e2_reply_err(req, err);
}

void ext2_readlink(struct uvfs_req *req, uint64_t nodeid)
{
	struct e2fs *e2 = uvfs_req_priv(req);
	struct e2_node *n;
	char buf[PATH_MAX];
	int err;

	pthread_mutex_lock(&e2->lock);
	err = e2_node_get_id(e2, nodeid, &n);
	if (!err && !LINUX_S_ISLNK(n->inode.i_mode))
		err = -EINVAL;
	if (!err)
		err = e2_read_link(e2, n, buf, sizeof(buf));
	if (!err)
		uvfs_reply_readlink(req, buf);
	else
		e2_reply_err(req, err);
	pthread_mutex_unlock(&e2->lock);
}

static void open_common(struct uvfs_req *req, uint64_t nodeid,
			struct uvfs_file_info *fi, bool want_dir)
{
	struct e2fs *e2 = uvfs_req_priv(req);
	struct e2_node *n;
	int err, acc = fi->flags & O_ACCMODE;

	pthread_mutex_lock(&e2->lock);
	err = e2_node_get_id(e2, nodeid, &n);
	if (!err && want_dir != LINUX_S_ISDIR(n->inode.i_mode))
		err = want_dir ? -ENOTDIR : -EISDIR;
	if (!err && (acc != O_RDONLY || (fi->flags & O_TRUNC)))
		err = e2_check_writable(e2);
	/* FUSE truncates with SETATTR; other transports may pass O_TRUNC. */
	if (!err && (fi->flags & O_TRUNC) && LINUX_S_ISREG(n->inode.i_mode) &&
	    e2_size(n)) {
		err = e2_truncate(e2, n, 0);
		if (!err) {
			e2_touch(n, E2_MTIME | E2_CTIME);
			err = e2_node_write(e2, n);
		}
	}
	fi->fh = acc != O_RDONLY || (fi->flags & O_TRUNC) ? E2_FH_WRITE : 0;
	/* Nobody else writes the image while we serve it. */
	fi->keep_cache = 1;
	if (err)
		e2_reply_err(req, err);
	else if (!uvfs_reply_open(req, fi))
		n->nopen++;
	pthread_mutex_unlock(&e2->lock);
}

void ext2_open(struct uvfs_req *req, uint64_t nodeid,
	       struct uvfs_file_info *fi)
{
	open_common(req, nodeid, fi, false);
}

void ext2_opendir(struct uvfs_req *req, uint64_t nodeid,
		  struct uvfs_file_info *fi)
{
	open_common(req, nodeid, fi, true);
}

/*
 * Over FUSE, umount(2) may return before the daemon has seen the last
 * release, and a crash loses whatever only the io cache holds.  So
 * closing a writable open of a file whose data, size or blocks changed
 * since the last flush makes everything durable, like an fsync (the whole
 * filesystem: libext2fs has no per-file flush).  Read-only opens never
 * flush, and
 * neither does the release of a file only created (no data): flushing on
 * every create+close would cost a bitmap+superblock write and an fsync of
 * the image per file (metadata-heavy workloads would crawl); those
 * changes reach the disk at the next flush, fsync or unmount.
 */
static int release_flush(struct uvfs_req *req, struct e2fs *e2,
			 struct e2_node *n, const struct uvfs_file_info *fi)
{
	if (!(fi->fh & E2_FH_WRITE) || n->dirty_at <= e2->flushes)
		return 0;
	uvfs_req_may_block(req);	/* an fsync of the image */
	return e2_fs_sync(e2);
}

/* release and releasedir */
void ext2_release(struct uvfs_req *req, uint64_t nodeid,
		  struct uvfs_file_info *fi)
{
	struct e2fs *e2 = uvfs_req_priv(req);
	ext2_ino_t ino = e2_ino(nodeid);
	struct e2_node *n = NULL;
	int err = 0;

	pthread_mutex_lock(&e2->lock);
	if (ino && e2_ino_valid(e2, ino))
		n = node_find(e2, ino);
	if (n && n->nopen) {
		err = release_flush(req, e2, n, fi);
		if (err)
			uvfs_log("ext2: flushing at close of inode %u: %s",
				 n->ino, strerror(-err));
		n->nopen--;
		e2_node_put(e2, n);
	}
	pthread_mutex_unlock(&e2->lock);
	e2_reply_err(req, err);
}
