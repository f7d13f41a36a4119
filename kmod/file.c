// SPDX-License-Identifier: GPL-2.0
/*
 * Regular files: open/release/flush/fsync/llseek/fallocate, read_iter and
 * write_iter, and splice both ways on top of them.
 *
 * Reads go through the page cache (pagecache.c), except O_DIRECT and
 * UVFS_OPEN_DIRECT_IO files.  write(2) is write-through: write_iter sends
 * WRITE synchronously from a bounce buffer (up to max_write bytes per
 * request) and drops the cached pages of the range, so the daemon has the
 * data when write(2) returns and a short or failed WRITE is reported
 * exactly as the backend saw it.  Pages dirtied through a shared writable
 * mmap are written back by pagecache.c.
 */
#include <linux/fs.h>
#include <linux/falloc.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/slab.h>
#include <linux/uio.h>
#include <linux/writeback.h>

#include "uvfs_i.h"

int uvfs_open_common(struct inode *inode, struct file *file, bool isdir)
{
	struct uvfs_open_in in = {
		.flags = file->f_flags & ~(O_CREAT | O_EXCL | O_NOCTTY |
					   O_TRUNC),
	};
	struct uvfs_open_out out = {};
	struct uvfs_args args = {
		.opcode = isdir ? UVFS_OP_OPENDIR : UVFS_OP_OPEN,
		.nodeid = uvfs_nodeid(inode),
		.in_numargs = 1,
		.in_args[0] = { sizeof(in), &in },
		.out_numargs = 1,
		.out_args[0] = { sizeof(out), &out },
	};
	struct uvfs_file *ff;
	int err;

	if (uvfs_is_bad(inode))
		return -EIO;
	ff = kzalloc(sizeof(*ff), GFP_KERNEL);
	if (!ff)
		return -ENOMEM;
	err = uvfs_send(uvfs_conn_of(inode), &args);
	if (err && err != -ENOSYS) {
		kfree(ff);
		return err;
	}
	if (!err) {
		ff->fh = out.fh;
		ff->open_flags = out.open_flags;
	}
	uvfs_file_attach(inode, file, ff, isdir);
	return 0;
}

/* Make ff the open file's state (after OPEN, OPENDIR or CREATE). */
void uvfs_file_attach(struct inode *inode, struct file *file,
		      struct uvfs_file *ff, bool isdir)
{
	file->private_data = ff;
	INIT_LIST_HEAD(&ff->write_entry);
	if (!isdir && (file->f_mode & FMODE_WRITE)) {
		ff->writable = true;
		spin_lock(&inode->i_lock);
		list_add_tail(&ff->write_entry, &UVFS_I(inode)->write_files);
		spin_unlock(&inode->i_lock);
	}
	if (!isdir && !(ff->open_flags & UVFS_OPEN_KEEP_CACHE))
		invalidate_inode_pages2(inode->i_mapping);
	if (ff->open_flags & UVFS_OPEN_NONSEEKABLE)
		nonseekable_open(inode, file);
}

/* RELEASE/RELEASEDIR in the background: close(2) does not wait. */
void uvfs_release_common(struct uvfs_conn *conn, u64 nodeid,
			 struct uvfs_file *ff, int flags, bool isdir)
{
	struct uvfs_release_in in = {
		.fh = ff->fh,
		.flags = flags,
	};
	struct uvfs_args args = {
		.opcode = isdir ? UVFS_OP_RELEASEDIR : UVFS_OP_RELEASE,
		.nodeid = nodeid,
		.background = true,
		.in_numargs = 1,
		.in_args[0] = { sizeof(in), &in },
	};

	uvfs_send(conn, &args);
	kfree(ff);
}

static int uvfs_file_open(struct inode *inode, struct file *file)
{
	int err;

	err = generic_file_open(inode, file);
	if (err)
		return err;
	return uvfs_open_common(inode, file, false);
}

static int uvfs_file_release(struct inode *inode, struct file *file)
{
	struct uvfs_file *ff = file->private_data;

	if (!ff)
		return 0;
	if (ff->writable) {
		/* Last chance to use this fh for dirty mmap pages. */
		filemap_write_and_wait(inode->i_mapping);
		spin_lock(&inode->i_lock);
		list_del_init(&ff->write_entry);
		spin_unlock(&inode->i_lock);
	}
	uvfs_release_common(uvfs_conn_of(inode), uvfs_nodeid(inode), ff,
			    file->f_flags, false);
	return 0;
}

static int uvfs_file_flush(struct file *file, fl_owner_t id)
{
	struct inode *inode = file_inode(file);
	struct uvfs_file *ff = file->private_data;
	struct uvfs_flush_in in = {
		.fh = ff ? ff->fh : 0,
		.lock_owner = (u64)(unsigned long)id,
	};
	struct uvfs_args args = {
		.opcode = UVFS_OP_FLUSH,
		.nodeid = uvfs_nodeid(inode),
		.in_numargs = 1,
		.in_args[0] = { sizeof(in), &in },
	};
	int err;

	if (uvfs_is_bad(inode))
		return -EIO;
	err = filemap_write_and_wait(inode->i_mapping);
	if (err)
		return err;
	err = uvfs_send(uvfs_conn_of(inode), &args);
	return err == -ENOSYS ? 0 : err;
}

/* FSYNC or FSYNCDIR of an open file; a backend without it: nothing to do. */
int uvfs_send_fsync(struct file *file, u32 opcode, int datasync)
{
	struct inode *inode = file_inode(file);
	struct uvfs_file *ff = file->private_data;
	struct uvfs_fsync_in in = {
		.fh = ff ? ff->fh : 0,
		.fsync_flags = datasync ? UVFS_FSYNC_DATASYNC : 0,
	};
	struct uvfs_args args = {
		.opcode = opcode,
		.nodeid = uvfs_nodeid(inode),
		.in_numargs = 1,
		.in_args[0] = { sizeof(in), &in },
	};
	int err;

	if (uvfs_is_bad(inode))
		return -EIO;
	err = uvfs_send(uvfs_conn_of(inode), &args);
	return err == -ENOSYS ? 0 : err;
}

static int uvfs_file_fsync(struct file *file, loff_t start, loff_t end,
			   int datasync)
{
	int err;

	if (uvfs_is_bad(file_inode(file)))
		return -EIO;
	err = file_write_and_wait_range(file, start, end);
	if (err)
		return err;
	return uvfs_send_fsync(file, UVFS_OP_FSYNC, datasync);
}

static loff_t uvfs_file_llseek(struct file *file, loff_t offset, int whence)
{
	struct inode *inode = file_inode(file);
	struct uvfs_file *ff = file->private_data;
	struct uvfs_lseek_in in = {
		.fh = ff ? ff->fh : 0,
		.offset = offset,
		.whence = whence,
	};
	struct uvfs_lseek_out out = {};
	struct uvfs_args args = {
		.opcode = UVFS_OP_LSEEK,
		.nodeid = uvfs_nodeid(inode),
		.in_numargs = 1,
		.in_args[0] = { sizeof(in), &in },
		.out_numargs = 1,
		.out_args[0] = { sizeof(out), &out },
	};
	int err;

	if (uvfs_is_bad(inode))
		return -EIO;
	switch (whence) {
	case SEEK_SET:
	case SEEK_CUR:
		return generic_file_llseek(file, offset, whence);
	case SEEK_DATA:
	case SEEK_HOLE:
		if (offset < 0)
			return -ENXIO;
		err = uvfs_send(uvfs_conn_of(inode), &args);
		if (!err) {
			if ((s64)out.offset < 0)
				return -EIO;
			return vfs_setpos(file, out.offset,
					  inode->i_sb->s_maxbytes);
		}
		if (err != -ENOSYS)
			return err;
		fallthrough;
	default:
		err = uvfs_update_attr(inode, file, false);
		if (err)
			return err;
		return generic_file_llseek(file, offset, whence);
	}
}

/*
 * FALLOCATE: preallocation (mode 0, KEEP_SIZE), PUNCH_HOLE and ZERO_RANGE
 * go to the backend as they are; a backend without a mode answers
 * -EOPNOTSUPP, one without FALLOCATE at all -ENOSYS, which means the same.
 * As fuse_file_fallocate() does: under the inode lock, the size checked
 * against the limits first, and the page cache of a range that now reads
 * zeros dropped afterwards.
 */
static long uvfs_file_fallocate(struct file *file, int mode, loff_t offset,
				loff_t length)
{
	struct inode *inode = file_inode(file);
	struct uvfs_file *ff = file->private_data;
	struct uvfs_fallocate_in in = {
		.fh = ff ? ff->fh : 0,
		.offset = offset,
		.length = length,
		.mode = mode,
	};
	struct uvfs_args args = {
		.opcode = UVFS_OP_FALLOCATE,
		.nodeid = uvfs_nodeid(inode),
		.in_numargs = 1,
		.in_args[0] = { sizeof(in), &in },
	};
	bool zeroes = mode & (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE);
	loff_t end = offset + length;	/* vfs_fallocate() checked overflow */
	bool grows;
	int err;

	if (uvfs_is_bad(inode))
		return -EIO;
	if (mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE |
		     FALLOC_FL_ZERO_RANGE))
		return -EOPNOTSUPP;
	inode_lock(inode);
	grows = !(mode & FALLOC_FL_KEEP_SIZE) && end > i_size_read(inode);
	if (grows) {
		err = inode_newsize_ok(inode, end);
		if (err)
			goto out_unlock;
	}
	/*
	 * Dirty mmap pages of a range about to read zeros go out first: if
	 * they were written back after the backend zeroed the range, the old
	 * data would come back.
	 */
	if (zeroes) {
		err = filemap_write_and_wait_range(inode->i_mapping, offset,
						   end - 1);
		if (err)
			goto out_unlock;
	}
	/* It changes the data, so set-ID bits go as on a write. */
	err = file_remove_privs(file);
	if (err)
		goto out_unlock;
	err = uvfs_send(uvfs_conn_of(inode), &args);
	if (err == -ENOSYS)
		err = -EOPNOTSUPP;
	/* even after an error: the backend may have done part of it */
	uvfs_invalidate_attr(inode);
	if (err)
		goto out_unlock;
	if (zeroes)
		truncate_pagecache_range(inode, offset, end - 1);
	if (grows && end > i_size_read(inode))
		i_size_write(inode, end);
out_unlock:
	inode_unlock(inode);
	return err;
}

/* ---- data ---- */

static ssize_t uvfs_file_read_iter(struct kiocb *iocb, struct iov_iter *to)
{
	struct inode *inode = file_inode(iocb->ki_filp);
	int err;

	if (uvfs_is_bad(inode))
		return -EIO;
	if (uvfs_read_direct(iocb))
		return uvfs_direct_read(iocb, to);
	/* The size decides how much the page cache reads. */
	err = uvfs_update_attr(inode, iocb->ki_filp, false);
	if (err)
		return err;
	return generic_file_read_iter(iocb, to);
}

static ssize_t uvfs_send_write(struct file *file, const void *buf,
			       size_t count, loff_t pos)
{
	struct inode *inode = file_inode(file);
	struct uvfs_file *ff = file->private_data;
	struct uvfs_write_in in = {
		.fh = ff ? ff->fh : 0,
		.offset = pos,
		.size = count,
		.flags = file->f_flags,
	};
	struct uvfs_write_out out = {};
	struct uvfs_args args = {
		.opcode = UVFS_OP_WRITE,
		.nodeid = uvfs_nodeid(inode),
		.in_numargs = 2,
		.in_args[0] = { sizeof(in), &in },
		.in_args[1] = { count, buf },
		.out_numargs = 1,
		.out_args[0] = { sizeof(out), &out },
	};
	int err;

	err = uvfs_send(uvfs_conn_of(inode), &args);
	if (err)
		return err;
	if (out.size > count) {
		uvfs_warn_bad_reply(UVFS_OP_WRITE, "wrote more than asked");
		return -EIO;
	}
	return out.size;
}

static ssize_t uvfs_file_write_iter(struct kiocb *iocb, struct iov_iter *from)
{
	struct file *file = iocb->ki_filp;
	struct inode *inode = file_inode(file);
	struct uvfs_fs *fs = UVFS_FS(inode->i_sb);
	size_t chunk = min_t(size_t, iov_iter_count(from), fs->max_write);
	ssize_t written = 0, ret;
	void *buf = NULL;
	loff_t pos;

	if (uvfs_is_bad(inode))
		return -EIO;
	inode_lock(inode);
	if (iocb->ki_flags & IOCB_APPEND) {
		ret = uvfs_update_attr(inode, file, true);
		if (ret)
			goto out_unlock;
	}
	ret = generic_write_checks(iocb, from);
	if (ret <= 0)
		goto out_unlock;
	ret = file_remove_privs(file);
	if (ret)
		goto out_unlock;
	chunk = min_t(size_t, iov_iter_count(from), fs->max_write);
	buf = kvmalloc(chunk, GFP_KERNEL);
	ret = -ENOMEM;
	if (!buf)
		goto out_unlock;

	pos = iocb->ki_pos;
	/* Dirty mmap pages in the range go first, then get dropped. */
	ret = filemap_write_and_wait_range(inode->i_mapping, pos,
					   pos + iov_iter_count(from) - 1);
	if (ret)
		goto out_free;
	while (iov_iter_count(from)) {
		size_t n = min_t(size_t, iov_iter_count(from), chunk);
		size_t copied = copy_from_iter(buf, n, from);

		if (!copied) {
			ret = -EFAULT;
			break;
		}
		ret = uvfs_send_write(file, buf, copied, pos);
		if (ret < 0) {
			iov_iter_revert(from, copied);
			break;
		}
		if (ret)
			invalidate_inode_pages2_range(inode->i_mapping,
					pos >> PAGE_SHIFT,
					(pos + ret - 1) >> PAGE_SHIFT);
		if ((size_t)ret < copied)
			iov_iter_revert(from, copied - ret);
		pos += ret;
		written += ret;
		if (pos > i_size_read(inode))
			i_size_write(inode, pos);
		if ((size_t)ret < copied || !ret)
			break;
	}
	iocb->ki_pos = pos;
	uvfs_invalidate_attr(inode);	/* mtime, ctime, blocks */
out_free:
	kvfree(buf);
out_unlock:
	inode_unlock(inode);
	if (written > 0)
		return generic_write_sync(iocb, written);
	return ret;
}

static int uvfs_file_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct uvfs_file *ff = file->private_data;

	if (uvfs_is_bad(file_inode(file)))
		return -EIO;
	/* A shared writable mapping needs an fh to write back with. */
	if ((vma->vm_flags & VM_SHARED) && (vma->vm_flags & VM_MAYWRITE) &&
	    (!ff || !ff->writable))
		return -EACCES;
	return generic_file_mmap(file, vma);
}

const struct file_operations uvfs_file_fops = {
	.open = uvfs_file_open,
	.release = uvfs_file_release,
	.flush = uvfs_file_flush,
	.fsync = uvfs_file_fsync,
	.llseek = uvfs_file_llseek,
	.read_iter = uvfs_file_read_iter,
	.write_iter = uvfs_file_write_iter,
	.mmap = uvfs_file_mmap,
	.splice_read = generic_file_splice_read,
	/* splice, sendfile and copy_file_range into the file: through
	 * write_iter, so with its write-through and its checks */
	.splice_write = iter_file_splice_write,
	.fallocate = uvfs_file_fallocate,
};
