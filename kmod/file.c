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
		/*
		 * Last chance to use this fh for dirty pages (mmap, or
		 * written after the last flush): nothing stays dirty once
		 * no file is open for writing.
		 */
		uvfs_wb_sync(inode, file);
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
	/* Written back at close, so that errors reach close(2). */
	err = uvfs_wb_sync(inode, file);
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
	/* the times after the data, both before FSYNC */
	err = uvfs_wb_flush_attr(file_inode(file), file);
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
	struct uvfs_space_direct sd;
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
	/* what it allocates, cached writes must not count on */
	uvfs_space_direct_begin(inode, offset,
				mode & FALLOC_FL_PUNCH_HOLE ? 0 : length,
				false, &sd);
	err = uvfs_send(uvfs_conn_of(inode), &args);
	uvfs_space_direct_end(inode, &sd);
	uvfs_attr_changed(inode);
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

/* ---- writeback mode: attributes the kernel owns ---- */

/*
 * Does the kernel own i_size, mtime and ctime of inode (writeback mode):
 * pages the daemon has not seen, or times not yet sent?  Attribute
 * replies then leave those alone (uvfs_change_attr()).
 */
bool uvfs_wb_owns_attr(struct inode *inode)
{
	struct address_space *mapping = inode->i_mapping;

	if (!UVFS_FS(inode->i_sb)->writeback || !S_ISREG(inode->i_mode))
		return false;
	return test_bit(UVFS_I_WB_ATTR, &UVFS_I(inode)->state) ||
	       mapping_tagged(mapping, PAGECACHE_TAG_DIRTY) ||
	       mapping_tagged(mapping, PAGECACHE_TAG_WRITEBACK);
}

/*
 * Send the kernel's mtime and ctime (UVFS_I_WB_ATTR) in a SETATTR, after
 * the data they stamp (the caller wrote the pages back).  The size needs
 * no SETATTR: the data written back ends where i_size does.  On failure
 * the bit stays set, so the next flush tries again.
 */
int uvfs_wb_flush_attr(struct inode *inode, struct file *file)
{
	struct uvfs_setattr_in in = {
		.valid = UVFS_SET_MTIME | UVFS_SET_CTIME,
	};
	struct uvfs_attr_out out;
	struct uvfs_args args = {
		.opcode = UVFS_OP_SETATTR,
		.nodeid = uvfs_nodeid(inode),
		.in_numargs = 1,
		.in_args[0] = { sizeof(in), &in },
		.out_numargs = 1,
		.out_args[0] = { sizeof(out), &out },
	};
	struct uvfs_inode *ui = UVFS_I(inode);
	struct timespec64 mt = inode->i_mtime, ct = uvfs_get_ctime(inode);
	bool nosec = IS_NOSEC(inode);
	u64 av;
	int err;

	if (!test_and_clear_bit(UVFS_I_WB_ATTR, &ui->state))
		return 0;
	if (uvfs_is_bad(inode))
		return -EIO;
	in.mtime = mt.tv_sec;
	in.mtimensec = mt.tv_nsec;
	in.ctime = ct.tv_sec;
	in.ctimensec = ct.tv_nsec;
	if (file && file->private_data) {
		struct uvfs_file *ff = file->private_data;

		in.valid |= UVFS_SET_FH;
		in.fh = ff->fh;
	}
	av = uvfs_attr_version(inode->i_sb);
	err = uvfs_send(uvfs_conn_of(inode), &args);
	if (!err)
		err = uvfs_check_attr_reply(inode, UVFS_OP_SETATTR, &out.attr);
	if (err && uvfs_is_bad(inode))
		return err;
	if (err) {
		set_bit(UVFS_I_WB_ATTR, &ui->state);
		uvfs_invalidate_attr(inode);
		return err;
	}
	uvfs_change_attr(inode, &out.attr, out.attr_valid_ns, av);
	uvfs_keep_nosec(inode, nosec);
	return 0;
}

/* Write back every dirty page of inode, wait, then send the times. */
int uvfs_wb_sync(struct inode *inode, struct file *file)
{
	int err, err2;

	err = filemap_write_and_wait(inode->i_mapping);
	if (!UVFS_FS(inode->i_sb)->writeback || !S_ISREG(inode->i_mode))
		return err;
	err2 = uvfs_wb_flush_attr(inode, file);
	return err ? err : err2;
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

/*
 * A WRITE of count bytes at pos failed with ENOSPC.  A backend may refuse
 * a WRITE whole when its blocks do not all fit (the ext2 backend does),
 * while a local file system fills page after page and stops at the first
 * that gets no block: a short write.  Find that prefix, one page-sized
 * WRITE at a time (only ever near a full file system).
 */
static ssize_t uvfs_write_pages_that_fit(struct file *file, const char *buf,
					 size_t count, loff_t pos)
{
	size_t done = 0;
	ssize_t ret = -ENOSPC;

	if (count <= PAGE_SIZE - (pos & (PAGE_SIZE - 1)))
		return -ENOSPC;	/* one page already: nothing smaller */
	while (done < count) {
		size_t n = min_t(size_t, count - done,
				 PAGE_SIZE - ((pos + done) & (PAGE_SIZE - 1)));

		ret = uvfs_send_write(file, buf + done, n, pos + done);
		if (ret <= 0)
			break;
		done += ret;
		if ((size_t)ret < n)
			break;
	}
	return done ? done : (ret < 0 ? ret : -ENOSPC);
}

/*
 * Write-through: WRITE from a bounce buffer, up to max_write bytes per
 * request; the cached pages of the range are written back first and
 * dropped after.  Called with the inode locked and the write checked.
 */
static ssize_t uvfs_write_through(struct kiocb *iocb, struct iov_iter *from)
{
	struct file *file = iocb->ki_filp;
	struct inode *inode = file_inode(file);
	struct uvfs_fs *fs = UVFS_FS(inode->i_sb);
	size_t chunk = min_t(size_t, iov_iter_count(from), fs->max_write);
	ssize_t written = 0, ret;
	void *buf;
	loff_t pos = iocb->ki_pos;
	struct uvfs_space_direct sd;

	buf = kvmalloc(chunk, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	uvfs_space_direct_begin(inode, pos, iov_iter_count(from), false, &sd);
	/* Dirty pages in the range go first, then get dropped. */
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
		if (ret == -ENOSPC && uvfs_space_deliver_frees(fs))
			ret = uvfs_send_write(file, buf, copied, pos);
		if (ret == -ENOSPC)
			ret = uvfs_write_pages_that_fit(file, buf, copied, pos);
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
	uvfs_attr_changed(inode);
	uvfs_invalidate_attr(inode);	/* mtime, ctime, blocks */
	uvfs_space_direct_end(inode, &sd);
out_free:
	kvfree(buf);
	return written ? written : ret;
}

/*
 * write(2).  Without UVFS_INIT_WRITEBACK, and for O_DIRECT and DIRECT_IO
 * opens, write-through (above): the daemon has the data when write(2)
 * returns.  In writeback mode the data goes into the page cache
 * (write_begin/write_end in pagecache.c), the kernel sets i_size and
 * stamps mtime/ctime (file_update_time; UVFS_I_WB_ATTR), and writepages
 * sends one WRITE per dirty run later; the times follow in a SETATTR
 * (uvfs_wb_flush_attr) at close, fsync, stat and ->write_inode.  A write
 * that might not find room on the backend (uvfs_space_reserve) is done
 * write-through after everything dirty was written back, so ENOSPC comes
 * back from the same write(2) call as on a local file system.
 */
static ssize_t uvfs_file_write_iter(struct kiocb *iocb, struct iov_iter *from)
{
	struct file *file = iocb->ki_filp;
	struct inode *inode = file_inode(file);
	struct uvfs_fs *fs = UVFS_FS(inode->i_sb);
	struct uvfs_file *ff = file->private_data;
	bool direct = (iocb->ki_flags & IOCB_DIRECT) ||
		      (ff && (ff->open_flags & UVFS_OPEN_DIRECT_IO));
	s64 charged = 0;
	ssize_t ret;
	loff_t pos0;

	if (uvfs_is_bad(inode))
		return -EIO;
	inode_lock(inode);
	/*
	 * O_APPEND needs the current size; a buffered write needs to know
	 * where EOF is, to read or zero the partial pages.  While the kernel
	 * owns the size (dirty pages), the reply leaves it alone.
	 */
	if (((iocb->ki_flags & IOCB_APPEND) || (fs->writeback && !direct)) &&
	    !uvfs_wb_owns_attr(inode)) {
		ret = uvfs_update_attr(inode, file,
				       iocb->ki_flags & IOCB_APPEND);
		if (ret)
			goto out_unlock;
	}
	ret = generic_write_checks(iocb, from);
	if (ret <= 0)
		goto out_unlock;
	ret = file_remove_privs(file);
	if (ret)
		goto out_unlock;
	if (!fs->writeback) {
		ret = uvfs_write_through(iocb, from);
		goto out_unlock;
	}
	ret = file_update_time(file);
	if (ret)
		goto out_unlock;
	set_bit(UVFS_I_WB_ATTR, &UVFS_I(inode)->state);
	if (!direct)
		charged = uvfs_space_reserve(inode, iocb->ki_pos,
					     iov_iter_count(from));
	if (!charged) {
		ret = uvfs_write_through(iocb, from);
		goto out_unlock;
	}
	pos0 = iocb->ki_pos;
	ret = generic_perform_write(iocb, from);
	uvfs_space_settle(fs, charged);
	/* (before 6.x it is the caller that moves ki_pos) */
	if (ret > 0 && iocb->ki_pos == pos0)
		iocb->ki_pos += ret;
out_unlock:
	inode_unlock(inode);
	if (ret > 0)
		ret = generic_write_sync(iocb, ret);
	return ret;
}

/*
 * A page about to be dirtied through a shared mapping needs room on the
 * backend, as a buffered write does.  Where the estimate has none (it is
 * not refreshed here: that would write back under mmap_lock), the blocks
 * under the page are allocated now, FALLOCATE keeping the size, so a full
 * file system shows at the fault, a SIGBUS as on ext4, instead of a lost
 * page at writeback.  A backend without FALLOCATE takes its chances.
 */
static vm_fault_t uvfs_page_mkwrite(struct vm_fault *vmf)
{
	struct file *file = vmf->vma->vm_file;
	struct inode *inode = file_inode(file);
	struct uvfs_fs *fs = UVFS_FS(inode->i_sb);
	struct uvfs_file *ff = file->private_data;
	loff_t pos = (loff_t)vmf->pgoff << PAGE_SHIFT;
	loff_t isize = i_size_read(inode);
	struct uvfs_fallocate_in in = {
		.fh = ff ? ff->fh : 0,
		.offset = pos,
		.length = min_t(loff_t, PAGE_SIZE, isize - pos),
		.mode = FALLOC_FL_KEEP_SIZE,
	};
	struct uvfs_args args = {
		.opcode = UVFS_OP_FALLOCATE,
		.nodeid = uvfs_nodeid(inode),
		.in_numargs = 1,
		.in_args[0] = { sizeof(in), &in },
	};
	s64 charged;
	vm_fault_t ret;
	int err;

	if (uvfs_is_bad(inode))
		return VM_FAULT_SIGBUS;
	charged = uvfs_space_try(inode, pos, PAGE_SIZE);
	if (!charged && pos < isize) {
		struct uvfs_space_direct sd;

		uvfs_space_direct_begin(inode, pos, in.length, true, &sd);
		err = uvfs_send(uvfs_conn_of(inode), &args);
		uvfs_space_direct_end(inode, &sd);
		if (err == -ENOSPC || err == -EDQUOT || err == -EIO)
			return VM_FAULT_SIGBUS;
		uvfs_invalidate_attr(inode);	/* blocks */
	}
	ret = filemap_page_mkwrite(vmf);
	if (charged)
		uvfs_space_settle(fs, charged);
	return ret;
}

static const struct vm_operations_struct uvfs_file_vm_ops = {
	.fault = filemap_fault,
	.map_pages = filemap_map_pages,
	.page_mkwrite = uvfs_page_mkwrite,
};

static int uvfs_file_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct uvfs_file *ff = file->private_data;

	if (uvfs_is_bad(file_inode(file)))
		return -EIO;
	/* A shared writable mapping needs an fh to write back with. */
	if ((vma->vm_flags & VM_SHARED) && (vma->vm_flags & VM_MAYWRITE) &&
	    (!ff || !ff->writable))
		return -EACCES;
	file_accessed(file);
	vma->vm_ops = &uvfs_file_vm_ops;
	return 0;
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
