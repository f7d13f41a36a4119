// SPDX-License-Identifier: MIT
/*
 * ext2: extended attributes through libext2fs's ext2fs_xattrs_* API, which
 * reads and writes both the in-inode area and the external block, and
 * translates POSIX ACLs between the xattr format and ext4's on-disk one.
 *
 * The handle reads the inode from disk, which equals our cached copy; after
 * a change we reload the copy, since libext2fs rewrote the inode.
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

static int xattrs_open(struct e2fs *e2, uint64_t nodeid,
		       struct e2_node **n, struct ext2_xattr_handle **h)
{
	int err = e2_node_get_id(e2, nodeid, n);

	if (err)
		return err;
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
	struct e2_node *n;
	int err;

	pthread_mutex_lock(&e2->lock);
	err = check_name(name);
	if (!err)
		err = e2_check_writable(e2);
	if (!err)
		err = xattrs_open(e2, nodeid, &n, &h);
	if (!err) {
		err = do_setxattr(e2, n, h, name, value, size, flags);
		ext2fs_xattrs_close(&h);
		if (!err)
			err = after_change(e2, n);
		else
			e2_node_reload(e2, n);
	}
	pthread_mutex_unlock(&e2->lock);
	uvfs_reply_err(req, err);
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
		uvfs_reply_err(req, err);
	else if (size == 0)
		uvfs_reply_xattr(req, len);
	else if (len > size)
		uvfs_reply_err(req, -ERANGE);
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
	}
	pthread_mutex_unlock(&e2->lock);
	if (err)
		uvfs_reply_err(req, err);
	else if (size == 0)
		uvfs_reply_xattr(req, c.len);
	else if (c.len > size)
		uvfs_reply_err(req, -ERANGE);
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
	err = check_name(name);
	if (!err)
		err = e2_check_writable(e2);
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
	uvfs_reply_err(req, err);
}
