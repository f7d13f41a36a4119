// SPDX-License-Identifier: MIT
/*
 * ext2: extended attributes through libext2fs's ext2fs_xattrs_* API, which
 * reads and writes both the in-inode area and the external block, and
 * translates POSIX ACLs between the xattr format and ext4's on-disk one.
 *
 * The handle reads the inode from disk, which equals our cached copy; after
 * a change we reload the copy, since libext2fs rewrote the inode.
 *
 * A filesystem without the ext_attr feature (every revision 0 image, and
 * mke2fs -O ^ext_attr) has no attributes, and libext2fs will not open a
 * handle on it at all.  As in the kernel's ext2/ext4: reads find nothing
 * (ENODATA, an empty list), and the first setxattr turns the feature on,
 * upgrading a revision 0 superblock to revision 1 first, since revision 0
 * has no feature fields (ext4_update_dynamic_rev does the same).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>

#include "ext2_i.h"

/* The namespaces the kernel's ext4 accepts. */
static int check_name(const char *name)
{
	static const char *const prefixes[] = { "user.", "trusted.",
						"security." };
	size_t i;

	if (strlen(name) > 255)
		return -ERANGE;
	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (!strncmp(name, prefixes[i], strlen(prefixes[i])))
			return name[strlen(prefixes[i])] ? 0 : -EINVAL;
	if (!strcmp(name, "system.posix_acl_access") ||
	    !strcmp(name, "system.posix_acl_default"))
		return 0;
	return -EOPNOTSUPP;
}

/* setxattr, removexattr: a name we know, on a filesystem we may write */
static int check_change(struct e2fs *e2, const char *name)
{
	return check_name(name) ?: e2_check_writable(e2);
}

/* libext2fs opens xattr handles only with one of these features */
static bool has_xattrs(struct e2fs *e2)
{
	return ext2fs_has_feature_xattr(e2->fs->super) ||
	       ext2fs_has_feature_inline_data(e2->fs->super);
}

/* -ENODATA: the filesystem has no attributes at all (see above). */
static int xattrs_open(struct e2fs *e2, uint64_t nodeid,
		       struct e2_node **n, struct ext2_xattr_handle **h)
{
	int err = e2_node_get_id(e2, nodeid, n);

	if (err)
		return err;
	if (!has_xattrs(e2))
		return -ENODATA;
	err = e2_err(ext2fs_xattrs_open(e2->fs, (*n)->ino, h));
	if (err)
		return err;
	err = e2_err(ext2fs_xattrs_read(*h));
	if (err)
		ext2fs_xattrs_close(h);
	return err;
}

/* Copy value out; 0 or -errno (ENODATA when absent). */
static int xattr_get(struct ext2_xattr_handle *h, const char *name,
		     void **value, size_t *len)
{
	*value = NULL;
	*len = 0;
	return e2_err(ext2fs_xattr_get(h, name, value, len));
}

static int do_setxattr(struct e2fs *e2, struct e2_node *n,
		       struct ext2_xattr_handle *h, const char *name,
		       const void *value, size_t size, int flags)
{
	void *old;
	size_t len;
	int err;

	err = xattr_get(h, name, &old, &len);
	ext2fs_free_mem(&old);
	if (err && err != -ENODATA)
		return err;
	if (!err && (flags & XATTR_CREATE))
		return -EEXIST;
	if (err && (flags & XATTR_REPLACE))
		return -ENODATA;
	return e2_err(ext2fs_xattr_set(h, name, value, size));
}

/* The superblock fields enable_xattrs() may change, to undo them. */
struct sb_undo {
	bool changed;
	uint32_t rev_level, first_ino, compat;
	uint16_t inode_size;
};

/*
 * Turn the ext_attr feature on for a setxattr, in memory; the superblock
 * is marked dirty and reaches the image with the next e2_fs_sync() or the
 * unmount, like the free counts of the blocks the attribute takes.
 */
static void enable_xattrs(struct e2fs *e2, struct sb_undo *u)
{
	struct ext2_super_block *sb = e2->fs->super;

	u->changed = false;
	if (has_xattrs(e2))
		return;
	u->changed = true;
	u->rev_level = sb->s_rev_level;
	u->first_ino = sb->s_first_ino;
	u->inode_size = sb->s_inode_size;
	u->compat = sb->s_feature_compat;
	if (sb->s_rev_level == EXT2_GOOD_OLD_REV)
		uvfs_log("ext2: warning: updating to revision 1 for the "
			 "ext_attr feature; the backup superblocks stay at "
			 "revision 0 until e2fsck");
	/* 128-byte inodes, first inode 11: what revision 0 implies */
	ext2fs_update_dynamic_rev(e2->fs);
	ext2fs_set_feature_xattr(sb);
	ext2fs_mark_super_dirty(e2->fs);
}

/* The setxattr failed: nothing uses the feature, take it back. */
static void undo_enable_xattrs(struct e2fs *e2, const struct sb_undo *u)
{
	struct ext2_super_block *sb = e2->fs->super;

	if (!u->changed)
		return;
	sb->s_rev_level = u->rev_level;
	sb->s_first_ino = u->first_ino;
	sb->s_inode_size = u->inode_size;
	sb->s_feature_compat = u->compat;
}

/* After libext2fs rewrote the inode: refresh our copy and its ctime. */
static int after_change(struct e2fs *e2, struct e2_node *n)
{
	int err = e2_node_reload(e2, n);

	if (err)
		return err;
	e2_touch(n, E2_CTIME);
	return e2_node_write(e2, n);
}

void ext2_setxattr(struct uvfs_req *req, uint64_t nodeid, const char *name,
		   const void *value, size_t size, int flags)
{
	struct e2fs *e2 = uvfs_req_priv(req);
	struct ext2_xattr_handle *h;
	struct sb_undo undo = { 0 };
	struct e2_node *n;
	bool stored = false;
	int err;

	pthread_mutex_lock(&e2->lock);
	err = check_change(e2, name);
	if (!err)
		err = e2_node_get_id(e2, nodeid, &n);
	if (!err) {
		enable_xattrs(e2, &undo);
		err = xattrs_open(e2, nodeid, &n, &h);
	}
	if (!err) {
		err = do_setxattr(e2, n, h, name, value, size, flags);
		ext2fs_xattrs_close(&h);
		stored = !err;
		if (!err)
			err = after_change(e2, n);
		else
			e2_node_reload(e2, n);
	}
	if (!stored)
		undo_enable_xattrs(e2, &undo);
	pthread_mutex_unlock(&e2->lock);
	e2_reply_err(req, err);
}

/*
 * libext2fs rebuilds ACL xattrs from ext4's short on-disk entries with id 0
 * where the kernel reports ACL_UNDEFINED_ID (-1): do as the kernel does.
 */
static void acl_fix_ids(const char *name, unsigned char *v, size_t len)
{
	size_t off;

	if (strncmp(name, "system.posix_acl_", 17))
		return;
	for (off = 4; off + 8 <= len; off += 8) {
		unsigned int tag = v[off] | v[off + 1] << 8;

		if (tag != 2 && tag != 8)	/* ACL_USER, ACL_GROUP */
			memset(v + off + 4, 0xff, 4);
	}
}

void ext2_getxattr(struct uvfs_req *req, uint64_t nodeid, const char *name,
		   size_t size)
{
	struct e2fs *e2 = uvfs_req_priv(req);
	struct ext2_xattr_handle *h;
	struct e2_node *n;
	void *value = NULL;
	size_t len = 0;
	int err;

	pthread_mutex_lock(&e2->lock);
	err = check_name(name);
	if (!err)
		err = xattrs_open(e2, nodeid, &n, &h);
	if (!err) {
		err = xattr_get(h, name, &value, &len);
		ext2fs_xattrs_close(&h);
		if (!err)
			acl_fix_ids(name, value, len);
	}
	pthread_mutex_unlock(&e2->lock);
	if (err)
		e2_reply_err(req, err);
	else if (size == 0)
		uvfs_reply_xattr(req, len);
	else if (len > size)
		e2_reply_err(req, -ERANGE);
	else
		uvfs_reply_buf(req, value, len);
	ext2fs_free_mem(&value);
}

struct list_ctx {
	char *buf;
	size_t len, cap;
	int err;
};

static int list_cb(char *name, char *value, size_t value_len, void *data)
{
	struct list_ctx *c = data;
	size_t n = strlen(name) + 1;

	if (!strcmp(name, "system.data"))
		return 0;	/* inline data, not an attribute */
	if (c->len + n > c->cap) {
		size_t cap = (c->cap + n) * 2;
		char *p = realloc(c->buf, cap);

		if (!p) {
			c->err = -ENOMEM;
			return XATTR_ABORT;
		}
		c->buf = p;
		c->cap = cap;
	}
	memcpy(c->buf + c->len, name, n);
	c->len += n;
	return 0;
}

void ext2_listxattr(struct uvfs_req *req, uint64_t nodeid, size_t size)
{
	struct e2fs *e2 = uvfs_req_priv(req);
	struct ext2_xattr_handle *h;
	struct list_ctx c = { 0 };
	struct e2_node *n;
	int err;

	pthread_mutex_lock(&e2->lock);
	err = xattrs_open(e2, nodeid, &n, &h);
	if (!err) {
		err = e2_err(ext2fs_xattrs_iterate(h, list_cb, &c));
		ext2fs_xattrs_close(&h);
		if (!err)
			err = c.err;
	} else if (err == -ENODATA) {
		err = 0;	/* no attributes on this filesystem */
	}
	pthread_mutex_unlock(&e2->lock);
	if (err)
		e2_reply_err(req, err);
	else if (size == 0)
		uvfs_reply_xattr(req, c.len);
	else if (c.len > size)
		e2_reply_err(req, -ERANGE);
	else
		uvfs_reply_buf(req, c.buf, c.len);
	free(c.buf);
}

void ext2_removexattr(struct uvfs_req *req, uint64_t nodeid, const char *name)
{
	struct e2fs *e2 = uvfs_req_priv(req);
	struct ext2_xattr_handle *h;
	struct e2_node *n;
	void *old = NULL;
	size_t len;
	int err;

	pthread_mutex_lock(&e2->lock);
	err = check_change(e2, name);
	if (!err)
		err = xattrs_open(e2, nodeid, &n, &h);
	if (!err) {
		/* libext2fs reports success for a missing name */
		err = xattr_get(h, name, &old, &len);
		ext2fs_free_mem(&old);
		if (!err)
			err = e2_err(ext2fs_xattr_remove(h, name));
		ext2fs_xattrs_close(&h);
		if (!err)
			err = after_change(e2, n);
	}
	pthread_mutex_unlock(&e2->lock);
	e2_reply_err(req, err);
}
