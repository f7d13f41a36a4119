// SPDX-License-Identifier: GPL-2.0
/*
 * Notifications from the daemon (UVFS_IOC_NOTIFY): the backend changed
 * something behind the kernel's back, so cached attributes, data or names
 * must be asked for again.
 *
 * Nothing here waits for the daemon, since the thread that notifies may be
 * the one that serves the queue: attributes and names are only marked
 * expired (the next access asks), and only clean, unmapped pages are
 * dropped (invalidate_mapping_pages), never pages under writeback.
 * conn->sb_lock (read) keeps the super block alive meanwhile; kill_sb
 * takes it for writing to clear conn->sb.
 */
#include <linux/dcache.h>
#include <linux/fs.h>
#include <linux/pagemap.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "uvfs_i.h"

static int uvfs_inval_inode(struct super_block *sb,
			    const struct uvfs_notify_inval_inode *n)
{
	struct inode *inode;

	if (n->offset < 0)
		return -EINVAL;
	inode = uvfs_ilookup(sb, n->nodeid);
	if (!inode)
		return -ENOENT;	/* not cached: nothing to drop */
	uvfs_invalidate_attr(inode);
	if (n->length && S_ISREG(inode->i_mode)) {
		pgoff_t start = n->offset >> PAGE_SHIFT, end = -1;

		if (n->length > 0)
			end = (n->offset + n->length - 1) >> PAGE_SHIFT;
		invalidate_mapping_pages(inode->i_mapping, start, end);
	}
	iput(inode);
	return 0;
}

static int uvfs_inval_entry(struct super_block *sb, u64 parent,
			    const char *name, unsigned int namelen)
{
	struct qstr q = QSTR_INIT(name, namelen);
	struct dentry *dir_dentry, *child;
	struct inode *dir;
	int err = 0;

	dir = uvfs_ilookup(sb, parent);
	if (!dir)
		return -ENOENT;
	if (!S_ISDIR(dir->i_mode)) {
		err = -ENOTDIR;
		goto out_iput;
	}
	uvfs_invalidate_attr(dir);	/* mtime, size */
	dir_dentry = d_find_alias(dir);
	if (!dir_dentry)
		goto out_iput;
	child = d_hash_and_lookup(dir_dentry, &q);
	if (!IS_ERR_OR_NULL(child)) {
		/* expired: the next path walk looks the name up again */
		WRITE_ONCE(child->d_time, jiffies - 1);
		if (d_inode(child))
			uvfs_invalidate_attr(d_inode(child));
		dput(child);
	}
	dput(dir_dentry);
out_iput:
	iput(dir);
	return err;
}

/* One notification: an uvfs_out_header (unique 0, error = code), payload. */
long uvfs_ioc_notify(struct uvfs_conn *conn, const void __user *umsg)
{
	struct uvfs_out_header oh;
	struct uvfs_notify_inval_inode ii;
	struct uvfs_notify_inval_entry ie;
	const char __user *upay = (const char __user *)umsg + sizeof(oh);
	char *name = NULL;
	size_t plen;
	long err;

	if (copy_from_user(&oh, umsg, sizeof(oh)))
		return -EFAULT;
	if (oh.unique || oh.len < sizeof(oh))
		return -EINVAL;
	plen = oh.len - sizeof(oh);
	switch (oh.error) {
	case UVFS_NOTIFY_INVAL_INODE:
		if (plen != sizeof(ii))
			return -EINVAL;
		if (copy_from_user(&ii, upay, sizeof(ii)))
			return -EFAULT;
		break;
	case UVFS_NOTIFY_INVAL_ENTRY:
		if (plen < sizeof(ie))
			return -EINVAL;
		if (copy_from_user(&ie, upay, sizeof(ie)))
			return -EFAULT;
		if (!ie.namelen || ie.namelen > UVFS_NAME_MAX ||
		    plen != sizeof(ie) + ie.namelen + 1)
			return -EINVAL;
		name = memdup_user(upay + sizeof(ie), ie.namelen + 1);
		if (IS_ERR(name))
			return PTR_ERR(name);
		if (name[ie.namelen] != '\0' ||
		    strnlen(name, ie.namelen) != ie.namelen ||
		    memchr(name, '/', ie.namelen)) {
			err = -EINVAL;
			goto out_free;
		}
		break;
	default:
		return -EINVAL;
	}

	down_read(&conn->sb_lock);
	if (!conn->sb)
		err = -ENOTCONN;
	else if (oh.error == UVFS_NOTIFY_INVAL_INODE)
		err = uvfs_inval_inode(conn->sb, &ii);
	else
		err = uvfs_inval_entry(conn->sb, ie.parent, name,
				       ie.namelen);
	up_read(&conn->sb_lock);
out_free:
	kfree(name);
	return err;
}
