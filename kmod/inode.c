// SPDX-License-Identifier: GPL-2.0
/*
 * Inodes: iget by node id, attribute updates (validated, with the
 * daemon's timeouts), getattr/setattr/permission, forget batching on
 * evict, symlinks, and the inode operations of files, special files and
 * symlinks (their xattr ops are in xattr.c).
 */
#include <linux/fs.h>
#include <linux/namei.h>
#include <linux/pagemap.h>
#include <linux/sched.h>
#include <linux/slab.h>

#include "uvfs_i.h"

bool uvfs_attr_valid(const struct uvfs_attr *a)
{
	switch (a->mode & S_IFMT) {
	case S_IFREG:
	case S_IFDIR:
	case S_IFLNK:
	case S_IFCHR:
	case S_IFBLK:
	case S_IFIFO:
	case S_IFSOCK:
		break;
	default:
		return false;
	}
	if (a->mode & ~(S_IFMT | 07777))
		return false;
	if (a->atimensec >= NSEC_PER_SEC || a->mtimensec >= NSEC_PER_SEC ||
	    a->ctimensec >= NSEC_PER_SEC)
		return false;
	if (a->size > (u64)MAX_LFS_FILESIZE)
		return false;
	return true;
}

void uvfs_invalidate_attr(struct inode *inode)
{
	WRITE_ONCE(UVFS_I(inode)->attr_expires, jiffies - 1);
}

/*
 * A name op changed what stat(2) shows of inode (size, times, link count)
 * but not its type, mode or owner: the next stat asks the daemon, while
 * permission checks go on using the cached mode and owner.  Without this,
 * each create or unlink in a directory would cost a GETATTR of the
 * directory for the next one's permission check.
 */
void uvfs_invalidate_stat(struct inode *inode)
{
	set_bit(UVFS_I_STAT_STALE, &UVFS_I(inode)->state);
}

/*
 * The node changed type (or the daemon otherwise contradicted itself):
 * fail every further operation on inode with -EIO and let d_revalidate
 * drop its dentries.  The inode may be in use, so i_mode and the ops stay;
 * a non-root inode also leaves the inode hash, so the next lookup of its
 * node id gets a fresh inode of the new type instead of this one.  Its
 * lookup count still goes to the daemon in a FORGET when it is evicted.
 */
void uvfs_make_bad(struct inode *inode)
{
	set_bit(UVFS_I_BAD, &UVFS_I(inode)->state);
	uvfs_invalidate_attr(inode);
	if (uvfs_nodeid(inode) != UVFS_ROOT_ID)
		remove_inode_hash(inode);
}

/*
 * The data, size or link count of inode changed here (a WRITE or
 * FALLOCATE answered, a truncate, an unlink): attributes asked for before
 * now must not undo it.
 */
void uvfs_attr_changed(struct inode *inode)
{
	u64 v = atomic64_inc_return(&UVFS_FS(inode->i_sb)->attr_version);

	WRITE_ONCE(UVFS_I(inode)->attr_version, v);
}

/*
 * Apply attributes from a reply to a request sent at attribute version av
 * (uvfs_attr_version() before the send; 0: nothing local can be newer).
 * A reply older than the inode's last local change (as FUSE's
 * attr_version) keeps the kernel's size, times and link count: the daemon
 * answered before it saw that WRITE or UNLINK; a stale size would cut the
 * page cache, and a later write past it would zero what lies between, and
 * a stale count of 0 would make link(2) fail with ENOENT.
 */
void uvfs_change_attr(struct inode *inode, const struct uvfs_attr *a,
		      u64 attr_valid_ns, u64 av)
{
	struct timespec64 at, mt, ct;
	loff_t oldsize = i_size_read(inode);
	struct timespec64 oldmtime = inode->i_mtime;
	struct timespec64 oldctime = uvfs_get_ctime(inode);
	/* the kernel's size and times are newer: writeback mode, or a
	 * reply older than a local change */
	bool stale = av && READ_ONCE(UVFS_I(inode)->attr_version) > av;
	bool owned = stale || uvfs_wb_owns_attr(inode);

	at.tv_sec = a->atime;
	at.tv_nsec = a->atimensec;
	mt.tv_sec = a->mtime;
	mt.tv_nsec = a->mtimensec;
	ct.tv_sec = a->ctime;
	ct.tv_nsec = a->ctimensec;

	spin_lock(&inode->i_lock);
	inode->i_ino = a->ino;
	inode->i_mode = (inode->i_mode & S_IFMT) | (a->mode & 07777);
	/* a new ctime may be a new security.capability: look again */
	if (is_sxid(inode->i_mode) || !timespec64_equal(&oldctime, &ct))
		inode->i_flags &= ~S_NOSEC;
	if (!stale)
		set_nlink(inode, a->nlink);
	inode->i_uid = make_kuid(&init_user_ns, a->uid);
	inode->i_gid = make_kgid(&init_user_ns, a->gid);
	inode->i_blocks = a->blocks;
	if (owned) {
		mt = oldmtime;
		uvfs_set_amtime(inode, at, mt);
	} else {
		uvfs_set_amtime(inode, at, mt);
		uvfs_set_ctime(inode, ct);
		i_size_write(inode, a->size);
	}
	WRITE_ONCE(UVFS_I(inode)->attr_expires, uvfs_expiry(attr_valid_ns));
	clear_bit(UVFS_I_STAT_STALE, &UVFS_I(inode)->state);
	spin_unlock(&inode->i_lock);

	if (S_ISREG(inode->i_mode) && !owned) {
		/* Changed behind our back: drop cached pages. */
		if ((loff_t)a->size < oldsize)
			truncate_pagecache(inode, a->size);
		if (!timespec64_equal(&oldmtime, &mt) ||
		    (loff_t)a->size != oldsize)
			invalidate_inode_pages2(inode->i_mapping);
	}
}

/*
 * After our own SETATTR: its new ctime brought no security.capability
 * (only SETXATTR does, and xattr.c clears S_NOSEC then), so S_NOSEC,
 * which uvfs_change_attr() dropped for the new ctime, stands again.  A
 * chown after a chmod then asks no GETXATTR.
 */
void uvfs_keep_nosec(struct inode *inode, bool was_nosec)
{
	if (!was_nosec || is_sxid(inode->i_mode))
		return;
	spin_lock(&inode->i_lock);
	inode->i_flags |= S_NOSEC;
	spin_unlock(&inode->i_lock);
}

void uvfs_set_inode_ops(struct inode *inode)
{
	switch (inode->i_mode & S_IFMT) {
	case S_IFREG:
		inode->i_op = &uvfs_file_iops;
		inode->i_fop = &uvfs_file_fops;
		inode->i_mapping->a_ops = &uvfs_aops;
		break;
	case S_IFDIR:
		inode->i_op = &uvfs_dir_iops;
		inode->i_fop = &uvfs_dir_fops;
		break;
	case S_IFLNK:
		inode->i_op = &uvfs_symlink_iops;
		inode_nohighmem(inode);
		break;
	default:
		inode->i_op = &uvfs_special_iops;
		break;
	}
}

static int uvfs_inode_test(struct inode *inode, void *data)
{
	return UVFS_I(inode)->nodeid == *(u64 *)data;
}

/* The cached inode of nodeid, referenced, or NULL. */
struct inode *uvfs_ilookup(struct super_block *sb, u64 nodeid)
{
	return ilookup5(sb, (unsigned long)nodeid, uvfs_inode_test, &nodeid);
}

static int uvfs_inode_set(struct inode *inode, void *data)
{
	UVFS_I(inode)->nodeid = *(u64 *)data;
	return 0;
}

/*
 * The inode for nodeid, created or updated from attr; its lookup count goes
 * up by one (the caller got nodeid from an entry reply), except for the
 * root.  The caller checked uvfs_attr_valid().
 */
struct inode *uvfs_iget(struct super_block *sb, u64 nodeid,
			const struct uvfs_attr *attr, u64 attr_valid_ns,
			u64 av)
{
	struct inode *inode;
	bool retried = false;

retry:
	inode = iget5_locked(sb, (unsigned long)nodeid, uvfs_inode_test,
			     uvfs_inode_set, &nodeid);
	if (!inode)
		return ERR_PTR(-ENOMEM);
	if (inode->i_state & I_NEW) {
		if (nodeid != UVFS_ROOT_ID) {
			UVFS_I(inode)->forget =
				kmalloc(sizeof(struct uvfs_forget_link),
					GFP_KERNEL);
			if (!UVFS_I(inode)->forget) {
				iget_failed(inode);
				return ERR_PTR(-ENOMEM);
			}
		}
		inode->i_mode = attr->mode & S_IFMT;
		inode->i_flags |= S_NOATIME;
		/* writeback mode: the kernel stamps mtime/ctime of writes */
		if (!UVFS_FS(sb)->writeback || !S_ISREG(attr->mode))
			inode->i_flags |= S_NOCMTIME;
		uvfs_set_inode_ops(inode);
		if (S_ISCHR(attr->mode) || S_ISBLK(attr->mode) ||
		    S_ISFIFO(attr->mode) || S_ISSOCK(attr->mode))
			init_special_inode(inode, attr->mode,
					   new_decode_dev(attr->rdev));
		uvfs_change_attr(inode, attr, attr_valid_ns, 0);
		unlock_new_inode(inode);
	} else if (((inode->i_mode ^ attr->mode) & S_IFMT) ||
		   uvfs_is_bad(inode)) {
		/*
		 * Same node id, other type: the daemon reused it (or lied).
		 * The old inode may be in use: mark it bad (I/O on it fails)
		 * and take it out of the hash, then make a new one.  Not the
		 * root, which can't be replaced: that is just a bad reply.
		 */
		if (nodeid == UVFS_ROOT_ID || retried) {
			uvfs_warn_bad_reply(UVFS_OP_LOOKUP,
					    "node changed type");
			iput(inode);
			return ERR_PTR(-EIO);
		}
		uvfs_make_bad(inode);
		iput(inode);
		retried = true;
		goto retry;
	} else {
		uvfs_change_attr(inode, attr, attr_valid_ns, av);
	}
	if (nodeid != UVFS_ROOT_ID) {
		spin_lock(&inode->i_lock);
		UVFS_I(inode)->nlookup++;
		spin_unlock(&inode->i_lock);
	}
	return inode;
}

/* ---- forgets ---- */

/*
 * Forgets are gathered for UVFS_FORGET_DELAY_MS, or until a batch is full,
 * then sent as one FORGET (a lazy request: it wakes the daemon only if
 * nothing else does within a few ms).  An unlink thus costs no daemon
 * wake-up of its own for its forget.
 */
static void uvfs_add_forget(struct uvfs_fs *fs, struct uvfs_forget_link *l)
{
	unsigned int n;

	spin_lock(&fs->forget_lock);
	list_add_tail(&l->list, &fs->forget_list);
	n = ++fs->nforget;
	spin_unlock(&fs->forget_lock);
	if (n >= UVFS_FORGET_BATCH)
		mod_delayed_work(system_unbound_wq, &fs->forget_work, 0);
	else
		queue_delayed_work(system_unbound_wq, &fs->forget_work,
				   msecs_to_jiffies(UVFS_FORGET_DELAY_MS));
}

/*
 * Send everything queued, UVFS_FORGET_BATCH nodes per FORGET.  The
 * RELEASEs of these nodes were queued (lazily) before their inodes were
 * evicted; kicking every queue first hands them to the daemon before the
 * FORGETs, as when RELEASE woke the daemon at once.
 */
void uvfs_flush_forgets(struct uvfs_fs *fs)
{
	mutex_lock(&fs->forget_send_lock);
	if (READ_ONCE(fs->nforget))
		uvfs_chan_kick(fs->conn);
	for (;;) {
		struct uvfs_forget_link *l, *tmp;
		struct uvfs_forget_in in = {};
		struct uvfs_args args = {
			.opcode = UVFS_OP_FORGET,
			.noreply = true,
			.nocreds = true,
			.in_numargs = 2,
			.in_args[0] = { sizeof(in), &in },
		};
		LIST_HEAD(batch);

		spin_lock(&fs->forget_lock);
		list_for_each_entry_safe(l, tmp, &fs->forget_list, list) {
			if (in.count == UVFS_FORGET_BATCH)
				break;
			list_move_tail(&l->list, &batch);
			fs->forget_buf[in.count++] = l->one;
			fs->nforget--;
		}
		spin_unlock(&fs->forget_lock);
		if (!in.count)
			break;
		list_for_each_entry_safe(l, tmp, &batch, list)
			kfree(l);
		args.in_args[1].size = in.count * sizeof(*fs->forget_buf);
		args.in_args[1].value = fs->forget_buf;
		uvfs_send(fs->conn, &args);	/* lost on abort: fine */
	}
	mutex_unlock(&fs->forget_send_lock);
}

/* Unmount without a daemon to tell: just free what is queued. */
void uvfs_drop_forgets(struct uvfs_fs *fs)
{
	struct uvfs_forget_link *l, *tmp;

	list_for_each_entry_safe(l, tmp, &fs->forget_list, list)
		kfree(l);
	INIT_LIST_HEAD(&fs->forget_list);
	fs->nforget = 0;
}

void uvfs_forget_work(struct work_struct *work)
{
	uvfs_flush_forgets(container_of(to_delayed_work(work), struct uvfs_fs,
					forget_work));
}

/* A lookup reference we won't keep (error paths; process context). */
void uvfs_queue_forget(struct uvfs_fs *fs, u64 nodeid, u64 nlookup)
{
	struct uvfs_forget_link *l = kmalloc(sizeof(*l), GFP_KERNEL);

	if (!l)
		return;	/* the daemon keeps a node a little longer */
	l->one.nodeid = nodeid;
	l->one.nlookup = nlookup;
	uvfs_add_forget(fs, l);
}

void uvfs_evict_inode(struct inode *inode)
{
	struct uvfs_inode *ui = UVFS_I(inode);
	struct uvfs_forget_link *l = ui->forget;

	truncate_inode_pages_final(&inode->i_data);
	clear_inode(inode);
	ui->forget = NULL;
	if (!l)
		return;
	if (!ui->nlookup) {
		kfree(l);
		return;
	}
	l->one.nodeid = ui->nodeid;
	l->one.nlookup = ui->nlookup;
	uvfs_add_forget(UVFS_FS(inode->i_sb), l);
}

/* ---- attributes ---- */

/*
 * May the attributes in a GETATTR or SETATTR reply for inode be applied?
 * -EIO if they are invalid, or of another file type (then the inode is
 * marked bad: see uvfs_make_bad()).
 */
int uvfs_check_attr_reply(struct inode *inode, u32 opcode,
			  const struct uvfs_attr *a)
{
	if (!uvfs_attr_valid(a)) {
		uvfs_warn_bad_reply(opcode, "invalid attributes");
		return -EIO;
	}
	if ((inode->i_mode ^ a->mode) & S_IFMT) {
		uvfs_warn_bad_reply(opcode, "node changed type");
		uvfs_make_bad(inode);
		return -EIO;
	}
	return 0;
}

static int uvfs_do_getattr(struct inode *inode, struct file *file)
{
	struct uvfs_getattr_in in = {};
	struct uvfs_attr_out out;
	u64 av;
	struct uvfs_args args = {
		.opcode = UVFS_OP_GETATTR,
		.nodeid = uvfs_nodeid(inode),
		.in_numargs = 1,
		.in_args[0] = { sizeof(in), &in },
		.out_numargs = 1,
		.out_args[0] = { sizeof(out), &out },
	};
	int err;

	if (file && S_ISREG(inode->i_mode) && file->private_data) {
		struct uvfs_file *ff = file->private_data;

		in.fh = ff->fh;
		in.flags = UVFS_GETATTR_FH;
	}
	av = uvfs_attr_version(inode->i_sb);
	err = uvfs_send(uvfs_conn_of(inode), &args);
	if (!err)
		err = uvfs_check_attr_reply(inode, UVFS_OP_GETATTR, &out.attr);
	if (err)
		return err;
	uvfs_change_attr(inode, &out.attr, out.attr_valid_ns, av);
	return 0;
}

/* Refresh the attributes if they expired (or always, if force). */
int uvfs_update_attr(struct inode *inode, struct file *file, bool force)
{
	if (!force && !uvfs_expired(READ_ONCE(UVFS_I(inode)->attr_expires)) &&
	    !test_bit(UVFS_I_STAT_STALE, &UVFS_I(inode)->state))
		return 0;
	return uvfs_do_getattr(inode, file);
}

/* Without allow_other only the mounting user (and root) may look. */
bool uvfs_allowed(struct uvfs_fs *fs)
{
	if (fs->allow_other)
		return true;
	return uid_eq(current_fsuid(), fs->user_id) ||
	       uid_eq(current_fsuid(), GLOBAL_ROOT_UID);
}

int uvfs_permission(struct user_namespace *ns, struct inode *inode, int mask)
{
	struct uvfs_fs *fs = UVFS_FS(inode->i_sb);
	int err;

	if (uvfs_is_bad(inode))
		return -EIO;
	if (!uvfs_allowed(fs))
		return -EACCES;
	if (fs->default_permissions) {
		if (uvfs_expired(READ_ONCE(UVFS_I(inode)->attr_expires))) {
			if (mask & MAY_NOT_BLOCK)
				return -ECHILD;
			err = uvfs_do_getattr(inode, NULL);
			if (err)
				return err;
		}
		return generic_permission(ns, inode, mask);
	}
	if (mask & (MAY_ACCESS | MAY_CHDIR)) {
		struct uvfs_access_in in = {
			.mask = mask & (MAY_READ | MAY_WRITE | MAY_EXEC),
		};
		struct uvfs_args args = {
			.opcode = UVFS_OP_ACCESS,
			.nodeid = uvfs_nodeid(inode),
			.in_numargs = 1,
			.in_args[0] = { sizeof(in), &in },
		};

		if (mask & MAY_NOT_BLOCK)
			return -ECHILD;
		err = uvfs_send(fs->conn, &args);
		return err == -ENOSYS ? 0 : err;
	}
	/* Exec needs some x bit even for root, like other file systems. */
	if ((mask & MAY_EXEC) && S_ISREG(inode->i_mode) &&
	    !(inode->i_mode & 0111))
		return -EACCES;
	return 0;
}

int uvfs_getattr(struct user_namespace *ns, const struct path *path,
		 struct kstat *stat, u32 mask, unsigned int flags)
{
	struct inode *inode = d_inode(path->dentry);
	bool force = (flags & AT_STATX_SYNC_TYPE) == AT_STATX_FORCE_SYNC;
	int err = 0;

	if (uvfs_is_bad(inode))
		return -EIO;
	if (!uvfs_allowed(UVFS_FS(inode->i_sb)))
		return -EACCES;
	/*
	 * Writeback mode: dirty data goes out first, then the times, so
	 * that size, times and blocks are what a local file system shows.
	 */
	if ((flags & AT_STATX_SYNC_TYPE) != AT_STATX_DONT_SYNC &&
	    uvfs_wb_owns_attr(inode)) {
		/* a writeback error is for fsync and close to report */
		filemap_fdatawrite(inode->i_mapping);
		filemap_fdatawait_keep_errors(inode->i_mapping);
		uvfs_wb_flush_attr(inode, NULL);
	}
	if ((flags & AT_STATX_SYNC_TYPE) != AT_STATX_DONT_SYNC)
		err = uvfs_update_attr(inode, NULL, force);
	if (err)
		return err;
	generic_fillattr(ns, inode, stat);
	stat->blksize = PAGE_SIZE;
	return 0;
}

static void uvfs_iattr_to_wire(struct iattr *ia, struct uvfs_setattr_in *in)
{
	unsigned int v = ia->ia_valid;

	if (v & ATTR_MODE) {
		in->valid |= UVFS_SET_MODE;
		in->mode = ia->ia_mode & 07777;
	}
	if (v & ATTR_UID) {
		in->valid |= UVFS_SET_UID;
		in->uid = from_kuid(&init_user_ns, ia->ia_uid);
	}
	if (v & ATTR_GID) {
		in->valid |= UVFS_SET_GID;
		in->gid = from_kgid(&init_user_ns, ia->ia_gid);
	}
	if (v & ATTR_SIZE) {
		in->valid |= UVFS_SET_SIZE;
		in->size = ia->ia_size;
	}
	if (v & ATTR_ATIME) {
		if (v & ATTR_ATIME_SET) {
			in->valid |= UVFS_SET_ATIME;
			in->atime = ia->ia_atime.tv_sec;
			in->atimensec = ia->ia_atime.tv_nsec;
		} else {
			in->valid |= UVFS_SET_ATIME_NOW;
		}
	}
	if (v & ATTR_MTIME) {
		if (v & ATTR_MTIME_SET) {
			in->valid |= UVFS_SET_MTIME;
			in->mtime = ia->ia_mtime.tv_sec;
			in->mtimensec = ia->ia_mtime.tv_nsec;
		} else {
			in->valid |= UVFS_SET_MTIME_NOW;
		}
	}
}

int uvfs_setattr(struct user_namespace *ns, struct dentry *dentry,
		 struct iattr *ia)
{
	struct inode *inode = d_inode(dentry);
	struct uvfs_fs *fs = UVFS_FS(inode->i_sb);
	struct uvfs_setattr_in in = {};
	struct uvfs_attr_out out;
	bool nosec = IS_NOSEC(inode);
	u64 av;
	struct uvfs_args args = {
		.opcode = UVFS_OP_SETATTR,
		.nodeid = uvfs_nodeid(inode),
		.in_numargs = 1,
		.in_args[0] = { sizeof(in), &in },
		.out_numargs = 1,
		.out_args[0] = { sizeof(out), &out },
	};
	int err;

	if (uvfs_is_bad(inode))
		return -EIO;
	if (!uvfs_allowed(fs))
		return -EACCES;
	if (fs->default_permissions) {
		err = setattr_prepare(ns, dentry, ia);
		if (err)
			return err;
	} else if ((ia->ia_valid & ATTR_SIZE) && ia->ia_size < 0) {
		return -EINVAL;
	}
	/*
	 * notify_change() already turned a suid/sgid kill into ATTR_MODE
	 * with the bits cleared; send that, not the kill flags.
	 */
	ia->ia_valid &= ~(ATTR_KILL_SUID | ATTR_KILL_SGID);
	uvfs_iattr_to_wire(ia, &in);
	/*
	 * chown(f, -1, -1) leaves ATTR_CTIME alone: nothing to set, but the
	 * kernel's filesystems (and FUSE) still stamp ctime.  Send the empty
	 * SETATTR; the backend sets ctime to now, as for any SETATTR.
	 */
	if (!in.valid && !(ia->ia_valid & ATTR_CTIME))
		return 0;
	if ((ia->ia_valid & ATTR_FILE) && ia->ia_file->private_data &&
	    S_ISREG(inode->i_mode)) {
		struct uvfs_file *ff = ia->ia_file->private_data;

		in.valid |= UVFS_SET_FH;
		in.fh = ff->fh;
	}
	if (uvfs_wb_owns_attr(inode) ||
	    ((ia->ia_valid & ATTR_SIZE) && S_ISREG(inode->i_mode))) {
		/*
		 * Dirty pages go out before the size changes, and in
		 * writeback mode the kernel's times before the new ones:
		 * the reply then carries what the backend has.
		 */
		err = uvfs_wb_sync(inode, ia->ia_valid & ATTR_FILE ?
					  ia->ia_file : NULL);
		if (err)
			return err;
	}
	av = uvfs_attr_version(inode->i_sb);
	err = uvfs_send(fs->conn, &args);
	if (err)
		return err;
	err = uvfs_check_attr_reply(inode, UVFS_OP_SETATTR, &out.attr);
	if (err) {
		/* the backend may have done it: ask again next time */
		if (!uvfs_is_bad(inode))
			uvfs_invalidate_attr(inode);
		return err;
	}
	if (ia->ia_valid & ATTR_SIZE) {
		i_size_write(inode, out.attr.size);
		truncate_pagecache(inode, out.attr.size);
	}
	uvfs_change_attr(inode, &out.attr, out.attr_valid_ns, av);
	uvfs_keep_nosec(inode, nosec);
	/* replies to requests sent before this one have the old size */
	if (ia->ia_valid & ATTR_SIZE)
		uvfs_attr_changed(inode);
	return 0;
}

/* ---- symlinks ---- */

static const char *uvfs_get_link(struct dentry *dentry, struct inode *inode,
				 struct delayed_call *done)
{
	char *buf;
	struct uvfs_args args = {
		.opcode = UVFS_OP_READLINK,
		.out_numargs = 1,
		.out_argvar = true,
	};
	int err;

	if (uvfs_is_bad(inode))
		return ERR_PTR(-EIO);
	if (!dentry)
		return ERR_PTR(-ECHILD);
	buf = kmalloc(UVFS_SYMLINK_MAX + 1, GFP_KERNEL);
	if (!buf)
		return ERR_PTR(-ENOMEM);
	args.nodeid = uvfs_nodeid(inode);
	args.out_args[0].size = UVFS_SYMLINK_MAX;
	args.out_args[0].value = buf;
	err = uvfs_send(uvfs_conn_of(inode), &args);
	if (!err && (!args.out_size || memchr(buf, 0, args.out_size))) {
		uvfs_warn_bad_reply(UVFS_OP_READLINK, "bad target");
		err = -EIO;
	}
	if (err) {
		kfree(buf);
		return ERR_PTR(err);
	}
	buf[args.out_size] = '\0';
	set_delayed_call(done, kfree_link, buf);
	return buf;
}

const struct inode_operations uvfs_file_iops = {
	.permission = uvfs_permission,
	.getattr = uvfs_getattr,
	.setattr = uvfs_setattr,
	.listxattr = uvfs_listxattr,
};

const struct inode_operations uvfs_special_iops = {
	.permission = uvfs_permission,
	.getattr = uvfs_getattr,
	.setattr = uvfs_setattr,
	.listxattr = uvfs_listxattr,
};

const struct inode_operations uvfs_symlink_iops = {
	.get_link = uvfs_get_link,
	.getattr = uvfs_getattr,
	.setattr = uvfs_setattr,
	.listxattr = uvfs_listxattr,
};
