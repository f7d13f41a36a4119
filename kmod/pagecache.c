// SPDX-License-Identifier: GPL-2.0
/*
 * The page cache of regular files: the address_space operations and the
 * reads that bypass the cache.
 *
 * Reads: read_folio and readahead send one READ per contiguous run of
 * pages, up to max_write bytes (the slot's payload, rounded down to pages),
 * and the reply is copied from the slot straight into the pages.  A short
 * reply means end of file: the rest of the run is zeroed.
 *
 * Writeback (pages dirtied through a shared writable mmap): writepages
 * gathers contiguous dirty pages and sends one WRITE per run, with the fh
 * of some file open for writing.  There is no ->writepage, so reclaim never
 * waits for the daemon.  A failed WRITE is recorded on the mapping (fsync
 * and close report it) and the pages are not retried: a dead or broken
 * daemon must not pin dirty pages forever.
 *
 * O_DIRECT, and files the backend opened with UVFS_OPEN_DIRECT_IO, read
 * through a bounce buffer without touching the cache; their writes take the
 * write-through path of file.c like every write(2).
 */
#include <linux/fs.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/slab.h>
#include <linux/uio.h>
#include <linux/writeback.h>

#include "uvfs_i.h"

/* The most pages one READ or WRITE carries. */
static unsigned int uvfs_max_pages(struct inode *inode)
{
	struct uvfs_fs *fs = UVFS_FS(inode->i_sb);

	return max_t(unsigned int, 1, min(fs->max_write, fs->max_read) /
				      PAGE_SIZE);
}

/* A READ of inode through file (NULL: no fh); offset and sizes to fill. */
static void uvfs_read_args_fill(struct uvfs_args *args,
				struct uvfs_read_in *in, struct file *file,
				struct inode *inode)
{
	struct uvfs_file *ff = file ? file->private_data : NULL;

	memset(in, 0, sizeof(*in));
	in->fh = ff ? ff->fh : 0;
	in->flags = file ? file->f_flags : 0;
	memset(args, 0, sizeof(*args));
	args->opcode = UVFS_OP_READ;
	args->nodeid = uvfs_nodeid(inode);
	args->in_numargs = 1;
	args->in_args[0].size = sizeof(*in);
	args->in_args[0].value = in;
	args->out_numargs = 1;
	args->out_argvar = true;
}

/*
 * Read nr locked pages, contiguous from pages[0], with one READ; mark them
 * uptodate on success, unlock them either way.
 */
static int uvfs_read_pages(struct file *file, struct inode *inode,
			   struct page **pages, unsigned int nr)
{
	struct uvfs_read_in in;
	struct uvfs_args args;
	unsigned int i;
	int err = -EIO;

	uvfs_read_args_fill(&args, &in, file, inode);
	in.offset = page_offset(pages[0]);
	in.size = nr * PAGE_SIZE;
	args.out_args[0].size = nr * PAGE_SIZE;
	args.out_pages = pages;

	if (!uvfs_is_bad(inode))
		err = uvfs_send(uvfs_conn_of(inode), &args);
	for (i = 0; i < nr; i++) {
		size_t start = i * PAGE_SIZE;

		if (!err) {
			if (args.out_size < start + PAGE_SIZE)
				zero_user_segment(pages[i],
					args.out_size > start ?
					args.out_size - start : 0, PAGE_SIZE);
			flush_dcache_page(pages[i]);
			SetPageUptodate(pages[i]);
		}
		unlock_page(pages[i]);
	}
	return err;
}

static int uvfs_read_folio(struct file *file, struct folio *folio)
{
	struct page *page = &folio->page;

	return uvfs_read_pages(file, folio->mapping->host, &page, 1);
}

static void uvfs_readahead(struct readahead_control *rac)
{
	struct inode *inode = rac->mapping->host;
	unsigned int max = uvfs_max_pages(inode), nr = 0;
	struct page **pages;
	struct folio *folio;

	pages = kmalloc_array(max, sizeof(*pages), GFP_KERNEL);
	if (!pages)
		return;		/* read_folio does it, page by page */
	/*
	 * A readahead window is contiguous: one READ per max pages.  (Not
	 * readahead_count(): it still counts the folio last handed out.)
	 */
	while ((folio = readahead_folio(rac))) {
		pages[nr++] = &folio->page;
		if (nr == max) {
			uvfs_read_pages(rac->file, inode, pages, nr);
			nr = 0;
		}
	}
	if (nr)
		uvfs_read_pages(rac->file, inode, pages, nr);
	kfree(pages);
}

/* Does this open file read around the page cache? */
bool uvfs_read_direct(struct kiocb *iocb)
{
	struct uvfs_file *ff = iocb->ki_filp->private_data;

	return (iocb->ki_flags & IOCB_DIRECT) ||
	       (ff && (ff->open_flags & UVFS_OPEN_DIRECT_IO));
}

/* READ into a bounce buffer and copy out; dirty mmap pages go first. */
ssize_t uvfs_direct_read(struct kiocb *iocb, struct iov_iter *to)
{
	struct file *file = iocb->ki_filp;
	struct inode *inode = file_inode(file);
	size_t chunk = min_t(size_t, iov_iter_count(to),
			     (size_t)uvfs_max_pages(inode) * PAGE_SIZE);
	struct uvfs_read_in in;
	struct uvfs_args args;
	ssize_t done = 0;
	void *buf;
	int err;

	uvfs_read_args_fill(&args, &in, file, inode);

	if (!chunk)
		return 0;
	err = filemap_write_and_wait_range(inode->i_mapping, iocb->ki_pos,
				iocb->ki_pos + iov_iter_count(to) - 1);
	if (err)
		return err;
	buf = kvmalloc(chunk, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	args.out_args[0].value = buf;
	while (iov_iter_count(to)) {
		size_t n = min(iov_iter_count(to), chunk);

		in.offset = iocb->ki_pos;
		in.size = n;
		args.out_args[0].size = n;
		err = uvfs_send(uvfs_conn_of(inode), &args);
		if (err)
			break;
		if (copy_to_iter(buf, args.out_size, to) != args.out_size) {
			err = -EFAULT;
			break;
		}
		iocb->ki_pos += args.out_size;
		done += args.out_size;
		if (args.out_size < n)
			break;	/* end of file */
	}
	kvfree(buf);
	file_accessed(file);
	return done ? done : err;
}

/* ---- writeback ---- */

/* A run of contiguous pages under writeback, sent as one WRITE. */
struct uvfs_wb_run {
	struct inode *inode;
	struct page **pages;
	unsigned int nr, max;
	u64 fh;
	bool nofh;	/* no fh to write with, or a bad inode: drop pages */
};

/* The fh of some file open for writing, for writeback; false if none. */
static bool uvfs_pick_write_fh(struct inode *inode, u64 *fh)
{
	struct uvfs_inode *ui = UVFS_I(inode);
	struct uvfs_file *ff;
	bool found = false;

	spin_lock(&inode->i_lock);
	ff = list_first_entry_or_null(&ui->write_files, struct uvfs_file,
				      write_entry);
	if (ff) {
		*fh = ff->fh;
		found = true;
	}
	spin_unlock(&inode->i_lock);
	return found;
}

static void uvfs_wb_send(struct uvfs_wb_run *run)
{
	struct inode *inode = run->inode;
	loff_t off = page_offset(run->pages[0]), isize = i_size_read(inode);
	struct uvfs_write_in in = {
		.fh = run->fh,
		.offset = off,
		/* the last page may straddle EOF: only up to it */
		.size = min_t(loff_t, (loff_t)run->nr * PAGE_SIZE,
			      max_t(loff_t, isize - off, 0)),
	};
	struct uvfs_write_out out = {};
	struct uvfs_args args = {
		.opcode = UVFS_OP_WRITE,
		.nodeid = uvfs_nodeid(inode),
		.in_numargs = 2,
		.in_args[0] = { sizeof(in), &in },
		.in_args[1] = { in.size, NULL },
		.in_pages = run->pages,
		.out_numargs = 1,
		.out_args[0] = { sizeof(out), &out },
	};
	unsigned int i;
	int err = 0;

	if (in.size) {	/* else truncated meanwhile: nothing to write */
		err = uvfs_send(uvfs_conn_of(inode), &args);
		uvfs_attr_changed(inode);	/* before the pages are clean */
		if (!err && out.size != in.size) {
			uvfs_warn_bad_reply(UVFS_OP_WRITE, "short writeback");
			err = -EIO;
		}
	}
	if (err) {
		/* data a write(2) was told is written: say it is lost */
		if (!uvfs_is_bad(inode))
			pr_warn_ratelimited("uvfs: writeback of inode %lu, %u bytes at %lld, failed: %d\n",
					    inode->i_ino, in.size, off, err);
		mapping_set_error(inode->i_mapping, err);
	}
	for (i = 0; i < run->nr; i++)
		end_page_writeback(run->pages[i]);
	run->nr = 0;
	uvfs_invalidate_attr(inode);
	if (UVFS_FS(inode->i_sb)->writeback && in.size) {
		/*
		 * The daemon stamped its own mtime: the kernel's goes to it
		 * again, from ->write_inode after this writeback (or at
		 * close, fsync, stat).
		 */
		set_bit(UVFS_I_WB_ATTR, &UVFS_I(inode)->state);
		mark_inode_dirty_sync(inode);
	}
}

static int uvfs_writepage_cb(struct page *page,
			     struct writeback_control *wbc, void *data)
{
	struct uvfs_wb_run *run = data;

	if (run->nofh) {
		mapping_set_error(page->mapping, -EIO);
		unlock_page(page);
		return 0;
	}
	if (page_offset(page) >= i_size_read(run->inode)) {
		/* Beyond EOF (truncated meanwhile): nothing to write. */
		unlock_page(page);
		return 0;
	}
	if (run->nr && (run->nr == run->max ||
			run->pages[run->nr - 1]->index + 1 != page->index))
		uvfs_wb_send(run);
	set_page_writeback(page);
	unlock_page(page);
	run->pages[run->nr++] = page;
	return 0;
}

static int uvfs_writepages(struct address_space *mapping,
			   struct writeback_control *wbc)
{
	struct uvfs_wb_run run = { .inode = mapping->host };
	int err;

	/*
	 * Nobody has it open for writing: cannot happen for a shared
	 * writable mapping, whose file is released only after its pages are
	 * written back.  Should it, the pages are dropped with an error
	 * rather than left dirty for the flusher to retry forever.
	 */
	run.nofh = !uvfs_pick_write_fh(run.inode, &run.fh) ||
		   uvfs_is_bad(run.inode);
	run.max = uvfs_max_pages(run.inode);
	run.pages = kmalloc_array(run.max, sizeof(*run.pages), GFP_NOFS);
	if (!run.pages)
		return -ENOMEM;
	err = write_cache_pages(mapping, wbc, uvfs_writepage_cb, &run);
	if (run.nr)
		uvfs_wb_send(&run);
	kfree(run.pages);
	return err;
}

/* ---- buffered writes (writeback mode; file.c decides) ---- */

/*
 * The page for a write of len bytes at pos, locked.  A page that is not
 * uptodate is read first when the write covers only part of it and it
 * holds file data; past EOF the rest is zeroed instead.
 */
static int uvfs_write_begin(struct file *file, struct address_space *mapping,
			    loff_t pos, unsigned int len, struct page **pagep,
			    void **fsdata)
{
	struct inode *inode = mapping->host;
	unsigned int from = pos & (PAGE_SIZE - 1);
	struct page *page;
	int err;

retry:
	page = grab_cache_page_write_begin(mapping, pos >> PAGE_SHIFT);
	if (!page)
		return -ENOMEM;
	*pagep = page;
	if (PageUptodate(page) || len == PAGE_SIZE)
		return 0;
	if (page_offset(page) >= i_size_read(inode)) {
		zero_user_segments(page, 0, from, from + len, PAGE_SIZE);
		return 0;
	}
	err = uvfs_read_pages(file, inode, &page, 1);	/* unlocks it */
	lock_page(page);
	if (page->mapping != mapping) {	/* truncated meanwhile */
		unlock_page(page);
		put_page(page);
		goto retry;
	}
	if (!err && !PageUptodate(page))
		err = -EIO;
	if (err) {
		unlock_page(page);
		put_page(page);
		return err;
	}
	return 0;
}

/*
 * copied bytes are in the page: dirty it and move i_size.  A page that was
 * not uptodate (zeroed around the write, or to be overwritten whole) and
 * got a short copy has a gap of garbage: nothing is taken, the caller
 * retries.
 */
static int uvfs_write_end(struct file *file, struct address_space *mapping,
			  loff_t pos, unsigned int len, unsigned int copied,
			  struct page *page, void *fsdata)
{
	struct inode *inode = mapping->host;

	if (!PageUptodate(page)) {
		if (copied < len) {
			copied = 0;
			goto out;
		}
		SetPageUptodate(page);
	}
	if (pos + copied > i_size_read(inode))
		i_size_write(inode, pos + copied);
	set_page_dirty(page);
out:
	unlock_page(page);
	put_page(page);
	return copied;
}

const struct address_space_operations uvfs_aops = {
	.read_folio = uvfs_read_folio,
	.readahead = uvfs_readahead,
	.writepages = uvfs_writepages,
	.write_begin = uvfs_write_begin,
	.write_end = uvfs_write_end,
	.dirty_folio = filemap_dirty_folio,
	/* allows O_DIRECT opens; file.c does the I/O */
	.direct_IO = noop_direct_IO,
};
