// SPDX-License-Identifier: MIT
/*
 * ext2: names: lookup, and the ops that change names: create, mknod,
 * mkdir, symlink, link, unlink, rmdir, rename.
 *
 * New inodes are built in memory and written in full (e2_node_write_new)
 * before their name is added, and only counted as allocated once the name
 * exists, so a failure part way leaves nothing behind but a stray block or
 * two that are freed again.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "ext2_i.h"

static bool is_dot_or_dotdot(const char *name)
{
	return !strcmp(name, ".") || !strcmp(name, "..");
}

static int get_dir(struct e2fs *e2, uint64_t nodeid, struct e2_node **out)
{
	int err = e2_node_get_id(e2, nodeid, out);

	if (!err && !LINUX_S_ISDIR((*out)->inode.i_mode))
		err = -ENOTDIR;
	return err;
}

/* A directory we may add a name to. */
static int get_target_dir(struct e2fs *e2, uint64_t nodeid,
			  struct e2_node **out)
{
	int err = e2_check_writable(e2);

	if (!err)
		err = get_dir(e2, nodeid, out);
	if (!err && (*out)->inode.i_links_count == 0)
		err = -ENOENT;	/* removed while we hold it */
	return err;
}

void ext2_lookup(struct uvfs_req *req, uint64_t parent, const char *name)
{
	struct e2fs *e2 = uvfs_req_priv(req);
	struct e2_node *dir, *n;
	struct uvfs_entry e;
	ext2_ino_t ino;
	int err;

	pthread_mutex_lock(&e2->lock);
	err = get_dir(e2, parent, &dir);
	if (!err) {
		err = e2_dir_lookup(e2, dir, name, &ino);
		if (err == -ENOENT) {
			/* the image is ours alone: the kernel may cache it */
			uvfs_reply_negative(req, E2_TIMEOUT);
			goto out;
		}
	}
	if (!err)
		err = e2_node_get(e2, ino, &n);
	if (!err) {
		e2_entry(e2, n, &e);
		if (!uvfs_reply_entry(req, &e))
			n->nlookup++;
	} else {
		e2_reply_err(req, err);
	}
out:
	pthread_mutex_unlock(&e2->lock);
}

/* ---- directory link counts (dir_nlink: 1 means "too many to count") ---- */

static int nlink_inc(struct e2fs *e2, struct e2_node *dir)
{
	uint16_t *l = &dir->inode.i_links_count;

	if (*l == 1 || *l >= EXT2_LINK_MAX) {
		if (!ext2fs_has_feature_dir_nlink(e2->fs->super))
			return -EMLINK;
		*l = 1;
	} else {
		(*l)++;
	}
	return 0;
}

static int nlink_check(struct e2fs *e2, struct e2_node *dir)
{
	uint16_t l = dir->inode.i_links_count;

	if ((l == 1 || l >= EXT2_LINK_MAX) &&
	    !ext2fs_has_feature_dir_nlink(e2->fs->super))
		return -EMLINK;
	return 0;
}

static void nlink_dec(struct e2_node *dir)
{
	if (dir->inode.i_links_count > 2)
		dir->inode.i_links_count--;
}

/* ---- new inodes ---- */

static void init_owner(struct e2_node *n, struct e2_node *dir,
		       const struct uvfs_ctx *ctx, mode_t *mode)
{
	struct ext2_inode_large *in = &n->inode;
	gid_t gid = ctx->gid;

	if (dir->inode.i_mode & S_ISGID) {
		gid = inode_gid(dir->inode);
		if (S_ISDIR(*mode))
			*mode |= S_ISGID;
	}
	/* Only a member of the group may create a set-group-ID file. */
	if (!S_ISDIR(*mode) && (*mode & S_ISGID) && ctx->uid != 0 &&
	    ctx->gid != gid)
		*mode &= ~(mode_t)S_ISGID;
	in->i_uid = (uint16_t)ctx->uid;
	in->osd2.linux2.l_i_uid_high = (uint16_t)(ctx->uid >> 16);
	in->i_gid = (uint16_t)gid;
	in->osd2.linux2.l_i_gid_high = (uint16_t)(gid >> 16);
}

static int inode_new(struct uvfs_req *req, struct e2fs *e2,
		     struct e2_node *dir, mode_t mode, struct e2_node **out)
{
	ext2_filsys fs = e2->fs;
	struct ext2_inode_large *in;
	struct e2_node *n;
	ext2_ino_t ino;
	int err;

	err = e2_err(ext2fs_new_inode(fs, dir->ino, (int)mode, NULL, &ino));
	if (err)
		return err;
	n = e2_node_new(e2, ino);
	if (!n)
		return -ENOMEM;
	in = &n->inode;
	init_owner(n, dir, uvfs_req_ctx(req), &mode);
	in->i_mode = (uint16_t)mode;
	in->i_links_count = S_ISDIR(mode) ? 2 : 1;
	if (EXT2_INODE_SIZE(fs->super) > EXT2_GOOD_OLD_INODE_SIZE)
		in->i_extra_isize = sizeof(*in) - EXT2_GOOD_OLD_INODE_SIZE;
	in->i_generation = arc4random();
	e2_touch(n, E2_ATIME | E2_MTIME | E2_CTIME | E2_CRTIME);
	if ((S_ISREG(mode) || S_ISDIR(mode)) && ext2fs_has_feature_extents(
						       fs->super)) {
		ext2_extent_handle_t h;

		/* Opening an empty inode writes a fresh extent header. */
		err = e2_err(ext2fs_extent_open2(fs, ino, e2_small(n), &h));
		if (err) {
			e2_node_discard(e2, n);
			return err;
		}
		ext2fs_extent_free(h);
	}
	*out = n;
	return 0;
}

static void encode_rdev(struct ext2_inode_large *in, dev_t rdev)
{
	unsigned int ma = major(rdev), mi = minor(rdev);

	if (ma < 256 && mi < 256) {
		in->i_block[0] = ma << 8 | mi;
		in->i_block[1] = 0;
	} else {
		in->i_block[0] = 0;
		in->i_block[1] = (mi & 0xff) | (ma << 8) | ((mi & ~0xffu) << 12);
	}
}

/* A slow symlink: the target in one data block. */
static int symlink_block(struct e2fs *e2, struct e2_node *n,
			 const char *target, size_t len)
{
	ext2_filsys fs = e2->fs;
	blk64_t blk, goal = ext2fs_find_inode_goal(fs, n->ino, e2_small(n), 0);
	char *buf = calloc(1, e2->bs);
	int err;

	if (!buf)
		return -ENOMEM;
	memcpy(buf, target, len);
	err = e2_err(ext2fs_new_block2(fs, goal, NULL, &blk));
	if (!err)
		err = e2_err(io_channel_write_blk64(fs->io, blk, 1, buf));
	free(buf);
	if (err)
		return err;
	ext2fs_block_alloc_stats2(fs, blk, +1);
	if (ext2fs_has_feature_extents(fs->super)) {
		ext2_extent_handle_t h;

		err = e2_err(ext2fs_extent_open2(fs, n->ino, e2_small(n), &h));
		if (!err) {
			err = e2_err(ext2fs_extent_set_bmap(h, 0, blk, 0));
			ext2fs_extent_free(h);
		}
	} else {
		n->inode.i_block[0] = (uint32_t)blk;
	}
	if (err) {
		ext2fs_block_alloc_stats2(fs, blk, -1);
		return err;
	}
	return e2_err(ext2fs_iblk_add_blocks(fs, e2_small(n), 1));
}

static int init_symlink(struct e2fs *e2, struct e2_node *n,
			const char *target)
{
	size_t len = strlen(target);
	int err;

	if (len >= e2->bs)
		return -ENAMETOOLONG;
	if (len < sizeof(n->inode.i_block)) {
		/* fast symlink: the target lives in i_block itself */
		memcpy(n->inode.i_block, target, len);
		err = 0;
	} else {
		err = symlink_block(e2, n, target, len);
	}
	if (!err)
		err = e2_set_size(e2, n, len);
	return err;
}

/* Type-specific contents of a new inode. */
static int init_contents(struct e2fs *e2, struct e2_node *n,
			 struct e2_node *dir, dev_t rdev, const char *target)
{
	mode_t mode = n->inode.i_mode;

	if (S_ISDIR(mode))
		return e2_new_dir_block(e2, n, dir->ino);
	if (S_ISLNK(mode))
		return init_symlink(e2, n, target);
	if (S_ISCHR(mode) || S_ISBLK(mode))
		encode_rdev(&n->inode, rdev);
	return 0;
}

/*
 * The common part of create, mknod, mkdir and symlink: a new inode named
 * name in parent.
 */
static int make_node(struct uvfs_req *req, uint64_t parent, const char *name,
		     mode_t mode, dev_t rdev, const char *target,
		     struct e2_node **out)
{
	struct e2fs *e2 = uvfs_req_priv(req);
	struct e2_node *dir, *n;
	ext2_ino_t ino;
	int err;

	err = get_target_dir(e2, parent, &dir);
	if (err)
		return err;
	if (strlen(name) > EXT2_NAME_LEN)
		return -ENAMETOOLONG;
	err = e2_dir_lookup(e2, dir, name, &ino);
	if (err != -ENOENT)
		return err ? err : -EEXIST;
	if (S_ISDIR(mode) && (err = nlink_check(e2, dir)))
		return err;
	err = inode_new(req, e2, dir, mode, &n);
	if (err)
		return err;
	/* On disk first: block checksums are seeded with i_generation. */
	err = e2_node_write_new(e2, n);
	if (!err)
		err = init_contents(e2, n, dir, rdev, target);
	if (!err)
		err = e2_node_write(e2, n);
	if (!err)
		err = e2_dir_add(e2, dir, name, n->ino, mode);
	if (err) {
		e2_free_blocks(e2, n);
		/* The inode is already on disk, linked once: a free inode
		 * with that would be "in use" to e2fsck. */
		memset(&n->inode, 0, sizeof(n->inode));
		e2_node_write_new(e2, n);
		e2_node_discard(e2, n);
		return err;
	}
	ext2fs_inode_alloc_stats2(e2->fs, n->ino, +1, S_ISDIR(mode));
	if (S_ISDIR(mode)) {
		nlink_inc(e2, dir);
		err = e2_node_write(e2, dir);
	}
	*out = n;
	return err;
}

static void new_node(struct uvfs_req *req, uint64_t parent, const char *name,
		     mode_t mode, dev_t rdev, const char *target,
		     struct uvfs_file_info *fi)
{
	struct e2fs *e2 = uvfs_req_priv(req);
	struct e2_node *n;
	struct uvfs_entry e;
	int err;

	pthread_mutex_lock(&e2->lock);
	err = make_node(req, parent, name, mode, rdev, target, &n);
	if (err) {
		e2_reply_err(req, err);
	} else {
		e2_entry(e2, n, &e);
		if (fi) {
			fi->fh = E2_FH_WRITE;	/* create opens for writing */
			fi->keep_cache = 1;
			if (!uvfs_reply_create(req, &e, fi)) {
				n->nlookup++;
				n->nopen++;
			}
		} else if (!uvfs_reply_entry(req, &e)) {
			n->nlookup++;
		}
		e2_node_put(e2, n);
	}
	pthread_mutex_unlock(&e2->lock);
}

void ext2_mknod(struct uvfs_req *req, uint64_t parent, const char *name,
		mode_t mode, dev_t rdev)
{
	switch (mode & S_IFMT) {
	case S_IFREG:
	case S_IFCHR:
	case S_IFBLK:
	case S_IFIFO:
	case S_IFSOCK:
		new_node(req, parent, name, mode, rdev, NULL, NULL);
		break;
	case 0:
		new_node(req, parent, name, mode | S_IFREG, 0, NULL, NULL);
		break;
	default:
		e2_reply_err(req, -EINVAL);
	}
}

void ext2_mkdir(struct uvfs_req *req, uint64_t parent, const char *name,
		mode_t mode)
{
	new_node(req, parent, name, S_IFDIR | (mode & 07777), 0, NULL, NULL);
}

void ext2_symlink(struct uvfs_req *req, const char *target, uint64_t parent,
		  const char *name)
{
	new_node(req, parent, name, S_IFLNK | 0777, 0, target, NULL);
}

void ext2_create(struct uvfs_req *req, uint64_t parent, const char *name,
		 mode_t mode, struct uvfs_file_info *fi)
{
	new_node(req, parent, name, S_IFREG | (mode & 07777), 0, NULL, fi);
}

/* ---- link ---- */

static int do_link(struct e2fs *e2, uint64_t nodeid, uint64_t newparent,
		   const char *newname, struct e2_node **out)
{
	struct e2_node *n, *dir;
	ext2_ino_t ino;
	int err;

	err = get_target_dir(e2, newparent, &dir);
	if (!err)
		err = e2_node_get_id(e2, nodeid, &n);
	if (err)
		return err;
	if (LINUX_S_ISDIR(n->inode.i_mode))
		return -EPERM;
	if (n->inode.i_links_count == 0)
		return -ENOENT;
	if (n->inode.i_links_count >= EXT2_LINK_MAX)
		return -EMLINK;
	err = e2_dir_lookup(e2, dir, newname, &ino);
	if (err != -ENOENT)
		return err ? err : -EEXIST;
	err = e2_dir_add(e2, dir, newname, n->ino, n->inode.i_mode);
	if (err)
		return err;
	n->inode.i_links_count++;
	e2_touch(n, E2_CTIME);
	*out = n;
	return e2_node_write(e2, n);
}

void ext2_link(struct uvfs_req *req, uint64_t nodeid, uint64_t newparent,
	       const char *newname)
{
	struct e2fs *e2 = uvfs_req_priv(req);
	struct e2_node *n;
	struct uvfs_entry e;
	int err;

	pthread_mutex_lock(&e2->lock);
	err = do_link(e2, nodeid, newparent, newname, &n);
	if (err) {
		e2_reply_err(req, err);
	} else {
		e2_entry(e2, n, &e);
		if (!uvfs_reply_entry(req, &e))
			n->nlookup++;
	}
	pthread_mutex_unlock(&e2->lock);
}

/* ---- unlink, rmdir ---- */

static int remove_name(struct e2fs *e2, uint64_t parent, const char *name,
		       bool want_dir)
{
	struct e2_node *dir, *n;
	ext2_ino_t ino;
	int err;

	err = e2_check_writable(e2);
	if (!err)
		err = get_dir(e2, parent, &dir);
	if (!err)
		err = e2_dir_lookup(e2, dir, name, &ino);
	if (!err)
		err = e2_node_get(e2, ino, &n);
	if (err)
		return err;
	if (want_dir) {
		if (!LINUX_S_ISDIR(n->inode.i_mode))
			return -ENOTDIR;
		if (!strcmp(name, "."))
			return -EINVAL;
		if (!strcmp(name, ".."))
			return -ENOTEMPTY;
		err = e2_dir_is_empty(e2, n);
		if (err <= 0)
			return err ? err : -ENOTEMPTY;
	} else if (LINUX_S_ISDIR(n->inode.i_mode)) {
		return -EISDIR;
	}
	err = e2_dir_remove(e2, dir, name);
	if (err)
		return err;
	if (want_dir) {
		nlink_dec(dir);
		err = e2_node_write(e2, dir);
	}
	/* n may be freed by this */
	return e2_drop_link(e2, n) ?: err;
}

void ext2_unlink(struct uvfs_req *req, uint64_t parent, const char *name)
{
	struct e2fs *e2 = uvfs_req_priv(req);
	int err;

	pthread_mutex_lock(&e2->lock);
	err = remove_name(e2, parent, name, false);
	pthread_mutex_unlock(&e2->lock);
	e2_reply_err(req, err);
}

void ext2_rmdir(struct uvfs_req *req, uint64_t parent, const char *name)
{
	struct e2fs *e2 = uvfs_req_priv(req);
	int err;

	pthread_mutex_lock(&e2->lock);
	err = remove_name(e2, parent, name, true);
	pthread_mutex_unlock(&e2->lock);
	e2_reply_err(req, err);
}

/* ---- rename ---- */

/* 1 if dir a is b or one of b's ancestors, 0 if not, or -errno. */
static int is_ancestor(struct e2fs *e2, struct e2_node *a, struct e2_node *b)
{
	ext2_ino_t ino = b->ino;
	int steps, err;

	/* bounded: a damaged ".." chain must not hang us */
	for (steps = 0; steps < 65536; steps++) {
		struct e2_node *n;

		if (ino == a->ino)
			return 1;
		if (ino == EXT2_ROOT_INO)
			return 0;
		err = e2_node_get(e2, ino, &n);
		if (!err && !LINUX_S_ISDIR(n->inode.i_mode))
			err = -EUCLEAN;
		if (!err)
			err = e2_dir_lookup(e2, n, "..", &ino);
		if (err)
			return err;
	}
	return -ELOOP;
}

struct rename_op {
	struct e2_node *odir, *ndir, *s, *d;	/* d may be NULL */
	const char *name, *newname;
	unsigned int flags;
};

/* A directory moving from odir to ndir: its ".." and both link counts. */
static int move_dir(struct e2fs *e2, struct e2_node *n, struct e2_node *from,
		    struct e2_node *to)
{
	int err = e2_dir_set(e2, n, "..", to->ino, S_IFDIR);

	if (err)
		return err;
	nlink_dec(from);
	return nlink_inc(e2, to);
}

static int rename_exchange(struct e2fs *e2, struct rename_op *r)
{
	bool sdir = LINUX_S_ISDIR(r->s->inode.i_mode);
	bool ddir = LINUX_S_ISDIR(r->d->inode.i_mode);
	int err = 0;

	if (r->odir != r->ndir) {
		if (sdir && (err = is_ancestor(e2, r->s, r->ndir)))
			return err < 0 ? err : -EINVAL;
		if (ddir && (err = is_ancestor(e2, r->d, r->odir)))
			return err < 0 ? err : -EINVAL;
	}
	err = e2_dir_set(e2, r->ndir, r->newname, r->s->ino,
			 r->s->inode.i_mode);
	if (!err)
		err = e2_dir_set(e2, r->odir, r->name, r->d->ino,
				 r->d->inode.i_mode);
	if (!err && r->odir != r->ndir && sdir != ddir) {
		if (sdir)
			err = move_dir(e2, r->s, r->odir, r->ndir);
		else
			err = move_dir(e2, r->d, r->ndir, r->odir);
	} else if (!err && r->odir != r->ndir && sdir) {
		/* both directories: link counts stay, ".." entries swap */
		err = e2_dir_set(e2, r->s, "..", r->ndir->ino, S_IFDIR);
		if (!err)
			err = e2_dir_set(e2, r->d, "..", r->odir->ino,
					 S_IFDIR);
	}
	e2_touch(r->d, E2_CTIME);
	return e2_node_write(e2, r->d) ?: err;
}

static int rename_replace_checks(struct e2fs *e2, struct rename_op *r)
{
	bool sdir = LINUX_S_ISDIR(r->s->inode.i_mode);
	int err;

	if (sdir && r->odir != r->ndir &&
	    (err = is_ancestor(e2, r->s, r->ndir)))
		return err < 0 ? err : -EINVAL;
	if (!r->d)
		return sdir && r->odir != r->ndir ? nlink_check(e2, r->ndir) :
						    0;
	if (sdir && !LINUX_S_ISDIR(r->d->inode.i_mode))
		return -ENOTDIR;
	if (!sdir && LINUX_S_ISDIR(r->d->inode.i_mode))
		return -EISDIR;
	if (LINUX_S_ISDIR(r->d->inode.i_mode)) {
		err = e2_dir_is_empty(e2, r->d);
		if (err <= 0)
			return err ? err : -ENOTEMPTY;
	}
	return 0;
}

static int rename_move(struct e2fs *e2, struct rename_op *r)
{
	bool sdir = LINUX_S_ISDIR(r->s->inode.i_mode);
	int err = rename_replace_checks(e2, r);

	if (err)
		return err;
	if (r->d)
		err = e2_dir_set(e2, r->ndir, r->newname, r->s->ino,
				 r->s->inode.i_mode);
	else
		err = e2_dir_add(e2, r->ndir, r->newname, r->s->ino,
				 r->s->inode.i_mode);
	if (!err)
		err = e2_dir_remove(e2, r->odir, r->name);
	if (err)
		return err;
	if (sdir && r->odir != r->ndir)
		err = move_dir(e2, r->s, r->odir, r->ndir);
	if (r->d) {
		if (LINUX_S_ISDIR(r->d->inode.i_mode))
			nlink_dec(r->ndir);	/* the victim's ".." */
		/* r->d may be freed by this */
		err = e2_drop_link(e2, r->d) ?: err;
	}
	return err;
}

static int lookup_node(struct e2fs *e2, struct e2_node *dir, const char *name,
		       struct e2_node **out)
{
	ext2_ino_t ino;
	int err = e2_dir_lookup(e2, dir, name, &ino);

	return err ? err : e2_node_get(e2, ino, out);
}

static int do_rename(struct e2fs *e2, uint64_t parent, const char *name,
		     uint64_t newparent, const char *newname,
		     unsigned int flags)
{
	struct rename_op r = { .name = name, .newname = newname,
			       .flags = flags };
	int err;

	if ((flags & ~(UVFS_RENAME_NOREPLACE | UVFS_RENAME_EXCHANGE)) ||
	    (flags & UVFS_RENAME_NOREPLACE && flags & UVFS_RENAME_EXCHANGE))
		return -EINVAL;
	if (is_dot_or_dotdot(name) || is_dot_or_dotdot(newname))
		return -EINVAL;
	if (strlen(newname) > EXT2_NAME_LEN)
		return -ENAMETOOLONG;
	err = get_dir(e2, parent, &r.odir);
	if (!err)
		err = get_target_dir(e2, newparent, &r.ndir);
	if (!err)
		err = lookup_node(e2, r.odir, name, &r.s);
	if (err)
		return err;
	err = lookup_node(e2, r.ndir, newname, &r.d);
	if (err == -ENOENT)
		r.d = NULL;
	else if (err)
		return err;
	if (r.d && (flags & UVFS_RENAME_NOREPLACE))
		return -EEXIST;
	if (!r.d && (flags & UVFS_RENAME_EXCHANGE))
		return -ENOENT;
	if (r.d == r.s)
		return 0;	/* two names of one inode: nothing to do */
	if (flags & UVFS_RENAME_EXCHANGE)
		err = rename_exchange(e2, &r);
	else
		err = rename_move(e2, &r);
	/* Writes even after an error: what was done must reach the disk. */
	e2_touch(r.s, E2_CTIME);
	e2_touch(r.odir, E2_MTIME | E2_CTIME);
	e2_touch(r.ndir, E2_MTIME | E2_CTIME);
	err = e2_node_write(e2, r.s) ?: err;
	err = e2_node_write(e2, r.odir) ?: err;
	return e2_node_write(e2, r.ndir) ?: err;
}

void ext2_rename(struct uvfs_req *req, uint64_t parent, const char *name,
		 uint64_t newparent, const char *newname, unsigned int flags)
{
	struct e2fs *e2 = uvfs_req_priv(req);
	int err;

	pthread_mutex_lock(&e2->lock);
	err = e2_check_writable(e2);
	if (!err)
		err = do_rename(e2, parent, name, newparent, newname, flags);
	pthread_mutex_unlock(&e2->lock);
	e2_reply_err(req, err);
}
