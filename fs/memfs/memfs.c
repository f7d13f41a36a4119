// SPDX-License-Identifier: MIT
/*
 * memfs: a complete POSIX filesystem that lives in memory.
 *
 * This is the backend to read first.  It implements every op of uvfs.h with
 * nothing but malloc, so what is left is the filesystem semantics a backend
 * owes the kernel: lookup counts, link counts, timestamps, readdir cookies,
 * rename rules.
 *
 * Inodes live in a hash table keyed by inode number.  Numbers are never
 * reused (they are 64-bit), so the generation is always 0.
 *
 * An inode is freed when three counts reach zero: st_nlink (names in the
 * tree), nlookup (references the kernel holds, see uvfs.h) and nopen (open
 * handles; the kernel also holds a lookup reference while a file is open,
 * so this one is belt and braces).  An unlinked file that is still open or
 * still known to the kernel therefore keeps its data until the last forget.
 *
 * Regular files keep their data in 4 KiB blocks in an array sorted by block
 * index.  Missing blocks are holes and read as zeros, so a write at 5 GiB
 * allocates one block.  Bytes past EOF in an allocated block are always
 * zero: truncate clears them, so growing the file again reads zeros.
 *
 * A directory is a list of entries in insertion order.  Each entry gets a
 * cookie from a per-directory counter that only goes up; "." and ".." are
 * 1 and 2.  Readdir at offset N resumes at the first entry whose cookie is
 * greater than N, so removing entries between two readdir calls never makes
 * the listing skip or repeat a name.  Each directory also hashes its
 * entries twice, by name and by cookie, in tables that double as the
 * directory grows: lookup, create and unlink take constant time however
 * many names a directory holds, and readdir finds where to resume at once
 * (see dir_seek() for the one case that walks).
 *
 * Locking: ops may run concurrently on several threads.  One mutex guards
 * the whole filesystem; every op takes it for its full duration, replies
 * included.  Simple and obviously correct, which is what memfs is for.
 *
 * Permission checks are the kernel's job (FUSE's default_permissions, or
 * the uvfs module's own); memfs only implements access() for callers that
 * ask.  Likewise the umask: the mode that create/mkdir/mknod receive has
 * already been masked by the kernel, so it is used as is.  Read-only mounts
 * are enforced by the kernel too.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "uvfs/uvfs.h"

#define BLOCK_SIZE	4096u
#define DEFAULT_SIZE	(1ull << 40)	/* capacity without -o size= */
#define TIMEOUT		3600.0		/* seconds the kernel may cache: all changes go through it */
#define DIRENT_BYTES	32		/* a directory's st_size per entry */
#define HASH_MIN	64
#define DIR_HASH_MIN	8		/* buckets of a first dir table */
#define BLOCKS_512	(BLOCK_SIZE / 512)	/* st_blocks per block */

/* Which timestamps touch() sets. */
#define T_ATIME		1
#define T_MTIME		2
#define T_CTIME		4

struct memfs_block {
	uint64_t index;			/* file offset / BLOCK_SIZE */
	char *data;			/* BLOCK_SIZE bytes */
};

struct memfs_dirent {
	struct memfs_dirent *prev, *next;	/* in cookie order */
	struct memfs_dirent *name_next;		/* hash chain by name */
	struct memfs_dirent *cookie_next;	/* hash chain by cookie */
	struct memfs_inode *inode;
	uint64_t cookie;
	uint64_t hash;				/* of name */
	char name[];
};

struct memfs_xattr {
	struct memfs_xattr *next;
	size_t size;
	char *value;			/* points into name[], after the NUL */
	char name[];
};

struct memfs_inode {
	struct memfs_inode *hash_next;
	struct stat st;			/* st_blocks is computed on demand */
	uint64_t nlookup;
	uint32_t nopen;
	struct memfs_xattr *xattrs;
	union {
		struct {		/* S_ISREG */
			struct memfs_block *blocks;
			size_t nblocks, capacity;
		} file;
		struct {		/* S_ISDIR */
			struct memfs_dirent *head, *tail;
			/* nbuckets chains each (a power of two, 0 before
			 * the first entry), in one allocation */
			struct memfs_dirent **by_name, **by_cookie;
			size_t nbuckets, nentries;
			struct memfs_inode *parent;	/* NULL once removed */
			uint64_t next_cookie;
		} dir;
		char *target;		/* S_ISLNK */
	};
};

struct memfs {
	pthread_mutex_t lock;
	struct memfs_inode **hash;	/* hash_size buckets, a power of two */
	size_t hash_size;
	uint64_t ninodes, max_inodes;
	uint64_t used_blocks, max_blocks;
	uint64_t next_ino;
};

/* ------------------------------------------------------------------------
 * Inodes
 */

static struct memfs_inode *inode_get(struct memfs *fs, uint64_t ino)
{
	struct memfs_inode *i;

	for (i = fs->hash[ino & (fs->hash_size - 1)]; i; i = i->hash_next)
		if (i->st.st_ino == ino)
			return i;
	return NULL;
}

/*
 * Inode numbers are handed out in sequence, so "ino mod size" spreads them
 * perfectly.  Double the table when it gets as full as it is long; if that
 * allocation fails, the old table simply gets longer chains.
 */
static void hash_insert(struct memfs *fs, struct memfs_inode *ino)
{
	struct memfs_inode **bucket;

	if (fs->ninodes >= fs->hash_size) {
		size_t n = fs->hash_size * 2, b;
		struct memfs_inode **t = calloc(n, sizeof(*t));

		for (b = 0; t && b < fs->hash_size; b++) {
			while (fs->hash[b]) {
				struct memfs_inode *i = fs->hash[b];

				fs->hash[b] = i->hash_next;
				i->hash_next = t[i->st.st_ino & (n - 1)];
				t[i->st.st_ino & (n - 1)] = i;
			}
		}
		if (t) {
			free(fs->hash);
			fs->hash = t;
			fs->hash_size = n;
		}
	}
	bucket = &fs->hash[ino->st.st_ino & (fs->hash_size - 1)];
	ino->hash_next = *bucket;
	*bucket = ino;
	fs->ninodes++;
}

static void touch(struct memfs_inode *ino, int which)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	if (which & T_ATIME)
		ino->st.st_atim = now;
	if (which & T_MTIME)
		ino->st.st_mtim = now;
	if (which & T_CTIME)
		ino->st.st_ctim = now;
}

/*
 * A new, unlinked inode owned by the caller.  In a set-group-ID directory
 * it takes the directory's group, and a new subdirectory inherits the bit.
 */
static struct memfs_inode *inode_alloc(struct memfs *fs,
				       const struct uvfs_ctx *ctx,
				       const struct memfs_inode *dir,
				       mode_t mode)
{
	struct memfs_inode *ino = calloc(1, sizeof(*ino));

	if (!ino)
		return NULL;
	ino->st.st_ino = fs->next_ino++;
	ino->st.st_uid = ctx->uid;
	ino->st.st_gid = ctx->gid;
	if (dir && (dir->st.st_mode & S_ISGID)) {
		ino->st.st_gid = dir->st.st_gid;
		if (S_ISDIR(mode))
			mode |= S_ISGID;
	}
	/* Only a member of the group may create a set-group-ID file. */
	if (!S_ISDIR(mode) && (mode & S_ISGID) && ctx->uid != 0 &&
	    ctx->gid != ino->st.st_gid)
		mode &= ~S_ISGID;
	ino->st.st_mode = mode;
	ino->st.st_blksize = BLOCK_SIZE;
	if (S_ISDIR(mode))
		ino->dir.next_cookie = 3;	/* after "." and ".." */
	touch(ino, T_ATIME | T_MTIME | T_CTIME);
	return ino;
}

static void free_blocks(struct memfs *fs, struct memfs_inode *ino,
			uint64_t first, uint64_t end);

/* Release an inode and everything it owns (but not its children). */
static void inode_free(struct memfs *fs, struct memfs_inode *ino)
{
	struct memfs_inode **pp;
	struct memfs_xattr *x;

	for (pp = &fs->hash[ino->st.st_ino & (fs->hash_size - 1)]; *pp;
	     pp = &(*pp)->hash_next) {
		if (*pp == ino) {
			*pp = ino->hash_next;
			fs->ninodes--;
			break;
		}
	}
	while ((x = ino->xattrs)) {
		ino->xattrs = x->next;
		free(x);
	}
	if (S_ISREG(ino->st.st_mode)) {
		free_blocks(fs, ino, 0, UINT64_MAX);
		free(ino->file.blocks);
	} else if (S_ISDIR(ino->st.st_mode)) {
		struct memfs_dirent *de;

		while ((de = ino->dir.head)) {
			ino->dir.head = de->next;
			free(de);
		}
		free(ino->dir.by_name);
	} else if (S_ISLNK(ino->st.st_mode)) {
		free(ino->target);
	}
	free(ino);
}

/* Free ino if nothing refers to it any more.  The root is never unlinked. */
static void inode_put(struct memfs *fs, struct memfs_inode *ino)
{
	if (ino->st.st_nlink == 0 && ino->nlookup == 0 && ino->nopen == 0)
		inode_free(fs, ino);
}

static void stat_of(const struct memfs_inode *ino, struct stat *st)
{
	*st = ino->st;
	if (S_ISREG(ino->st.st_mode))
		st->st_blocks = (blkcnt_t)ino->file.nblocks * BLOCKS_512;
}

/*
 * Hand ino to the kernel, which then holds one more lookup reference.  If
 * the reply cannot be delivered (the request was interrupted), the kernel
 * holds nothing, so take the reference back.
 */
static void reply_entry(struct uvfs_req *req, struct memfs_inode *ino,
			struct uvfs_file_info *fi)
{
	struct uvfs_entry e = { 0 };
	int err;

	e.ino = ino->st.st_ino;
	e.attr_timeout = TIMEOUT;
	e.entry_timeout = TIMEOUT;
	stat_of(ino, &e.attr);
	ino->nlookup++;
	if (fi)
		ino->nopen++;
	err = fi ? uvfs_reply_create(req, &e, fi) : uvfs_reply_entry(req, &e);
	if (err) {
		ino->nlookup--;
		if (fi)
			ino->nopen--;
	}
}

/* ------------------------------------------------------------------------
 * Directories
 */

/* A live directory: removed ones accept no new names and list nothing. */
static int get_dir(struct memfs *fs, uint64_t nodeid, struct memfs_inode **out)
{
	struct memfs_inode *dir = inode_get(fs, nodeid);

	if (!dir)
		return -ENOENT;
	if (!S_ISDIR(dir->st.st_mode))
		return -ENOTDIR;
	if (dir->st.st_nlink == 0)
		return -ENOENT;
	*out = dir;
	return 0;
}

/* FNV-1a, folded so that the low bits, which pick the bucket, see all. */
static uint64_t name_hash(const char *name)
{
	uint64_t h = 14695981039346656037ull;

	for (; *name; name++)
		h = (h ^ (unsigned char)*name) * 1099511628211ull;
	return h ^ (h >> 32);
}

static struct memfs_dirent *dir_find(const struct memfs_inode *dir,
				     const char *name)
{
	uint64_t h = name_hash(name);
	struct memfs_dirent *de;

	if (!dir->dir.nbuckets)
		return NULL;
	for (de = dir->dir.by_name[h & (dir->dir.nbuckets - 1)]; de;
	     de = de->name_next)
		if (de->hash == h && !strcmp(de->name, name))
			return de;
	return NULL;
}

/* The entry with this cookie, or NULL if it is gone (or never was). */
static struct memfs_dirent *dir_find_cookie(const struct memfs_inode *dir,
					    uint64_t cookie)
{
	struct memfs_dirent *de;

	if (!dir->dir.nbuckets)
		return NULL;
	for (de = dir->dir.by_cookie[cookie & (dir->dir.nbuckets - 1)]; de;
	     de = de->cookie_next)
		if (de->cookie == cookie)
			return de;
	return NULL;
}

static void dir_hash_in(struct memfs_dirent **by_name,
			struct memfs_dirent **by_cookie, size_t n,
			struct memfs_dirent *de)
{
	de->name_next = by_name[de->hash & (n - 1)];
	by_name[de->hash & (n - 1)] = de;
	de->cookie_next = by_cookie[de->cookie & (n - 1)];
	by_cookie[de->cookie & (n - 1)] = de;
}

/*
 * Room for one more entry: the tables double when they hold as many
 * entries as buckets.  Only the first table must be had; when a bigger one
 * cannot be allocated, the old one just gets longer chains.
 */
static int dir_hash_grow(struct memfs_inode *dir)
{
	size_t n = dir->dir.nbuckets ? dir->dir.nbuckets * 2 : DIR_HASH_MIN;
	struct memfs_dirent **t, *de;

	if (dir->dir.nentries < dir->dir.nbuckets)
		return 0;
	t = calloc(2 * n, sizeof(*t));
	if (!t)
		return dir->dir.nbuckets ? 0 : -ENOMEM;
	/* the list holds every entry: rehash from it */
	for (de = dir->dir.head; de; de = de->next)
		dir_hash_in(t, t + n, n, de);
	free(dir->dir.by_name);
	dir->dir.by_name = t;
	dir->dir.by_cookie = t + n;
	dir->dir.nbuckets = n;
	return 0;
}

static int dir_add(struct memfs_inode *dir, const char *name,
		   struct memfs_inode *ino)
{
	size_t len = strlen(name);
	struct memfs_dirent *de;

	if (dir_hash_grow(dir))
		return -ENOMEM;
	de = malloc(sizeof(*de) + len + 1);
	if (!de)
		return -ENOMEM;
	memcpy(de->name, name, len + 1);
	de->hash = name_hash(name);
	de->inode = ino;
	de->cookie = dir->dir.next_cookie++;
	de->next = NULL;
	de->prev = dir->dir.tail;
	if (de->prev)
		de->prev->next = de;
	else
		dir->dir.head = de;
	dir->dir.tail = de;
	dir_hash_in(dir->dir.by_name, dir->dir.by_cookie, dir->dir.nbuckets,
		    de);
	dir->dir.nentries++;
	dir->st.st_size += DIRENT_BYTES;
	return 0;
}

static void dir_remove(struct memfs_inode *dir, struct memfs_dirent *de)
{
	size_t mask = dir->dir.nbuckets - 1;
	struct memfs_dirent **pp;

	for (pp = &dir->dir.by_name[de->hash & mask]; *pp != de;
	     pp = &(*pp)->name_next)
		;
	*pp = de->name_next;
	for (pp = &dir->dir.by_cookie[de->cookie & mask]; *pp != de;
	     pp = &(*pp)->cookie_next)
		;
	*pp = de->cookie_next;
	if (de->prev)
		de->prev->next = de->next;
	else
		dir->dir.head = de->next;
	if (de->next)
		de->next->prev = de->prev;
	else
		dir->dir.tail = de->prev;
	dir->dir.nentries--;
	dir->st.st_size -= DIRENT_BYTES;
	free(de);
}

/*
 * The first entry whose cookie is above off, where a readdir at offset
 * off resumes.  Normally off is the cookie of the last entry returned,
 * still there: one hash lookup.  If that entry was removed since, walk
 * from the start; the list is in cookie order, so the walk passes only
 * the entries before it that remain (none, when a program deletes what
 * it lists, as rm -r does).
 */
static struct memfs_dirent *dir_seek(const struct memfs_inode *dir,
				     uint64_t off)
{
	struct memfs_dirent *de = dir_find_cookie(dir, off);

	if (de)
		return de->next;
	for (de = dir->dir.head; de && de->cookie <= off; de = de->next)
		;
	return de;
}

/* Is dir the same as, or an ancestor of, ino? */
static bool is_ancestor(const struct memfs_inode *dir,
			const struct memfs_inode *ino)
{
	for (;;) {
		if (ino == dir)
			return true;
		if (!ino->dir.parent || ino->dir.parent == ino)
			return false;
		ino = ino->dir.parent;
	}
}

/*
 * One name of ino was removed from dir (the entry itself is already gone).
 * A directory loses both its names at once: its entry and its own ".";
 * the parent loses the subdirectory's "..".
 */
static void drop_link(struct memfs *fs, struct memfs_inode *dir,
		      struct memfs_inode *ino)
{
	if (S_ISDIR(ino->st.st_mode)) {
		ino->st.st_nlink = 0;
		ino->dir.parent = NULL;
		dir->st.st_nlink--;
	} else {
		ino->st.st_nlink--;
	}
	touch(ino, T_CTIME);
	inode_put(fs, ino);
}

/* ------------------------------------------------------------------------
 * File data
 */

/* Position of the first block whose index is >= index. */
static size_t block_pos(const struct memfs_inode *ino, uint64_t index)
{
	size_t lo = 0, hi = ino->file.nblocks;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ino->file.blocks[mid].index < index)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The data of block index, or NULL for a hole. */
static char *block_find(const struct memfs_inode *ino, uint64_t index)
{
	size_t pos = block_pos(ino, index);

	if (pos < ino->file.nblocks && ino->file.blocks[pos].index == index)
		return ino->file.blocks[pos].data;
	return NULL;
}

/* The data of block index, allocating a zeroed block for a hole. */
static int block_get(struct memfs *fs, struct memfs_inode *ino,
		     uint64_t index, char **data)
{
	size_t pos = block_pos(ino, index);
	struct memfs_block *b;

	if (pos < ino->file.nblocks && ino->file.blocks[pos].index == index) {
		*data = ino->file.blocks[pos].data;
		return 0;
	}
	if (fs->used_blocks >= fs->max_blocks)
		return -ENOSPC;
	if (ino->file.nblocks == ino->file.capacity) {
		size_t n = ino->file.capacity ? ino->file.capacity * 2 : 8;

		b = realloc(ino->file.blocks, n * sizeof(*b));
		if (!b)
			return -ENOMEM;
		ino->file.blocks = b;
		ino->file.capacity = n;
	}
	*data = calloc(1, BLOCK_SIZE);
	if (!*data)
		return -ENOMEM;
	b = &ino->file.blocks[pos];
	memmove(b + 1, b, (ino->file.nblocks - pos) * sizeof(*b));
	b->index = index;
	b->data = *data;
	ino->file.nblocks++;
	fs->used_blocks++;
	return 0;
}

/* Free the blocks with first <= index < end. */
static void free_blocks(struct memfs *fs, struct memfs_inode *ino,
			uint64_t first, uint64_t end)
{
	size_t lo = block_pos(ino, first), hi = block_pos(ino, end), i;

	if (lo == hi)
		return;
	for (i = lo; i < hi; i++)
		free(ino->file.blocks[i].data);
	memmove(&ino->file.blocks[lo], &ino->file.blocks[hi],
		(ino->file.nblocks - hi) * sizeof(ino->file.blocks[0]));
	ino->file.nblocks -= hi - lo;
	fs->used_blocks -= hi - lo;
}

static void zero_in_block(struct memfs_inode *ino, uint64_t index,
			  size_t off, size_t len)
{
	char *data = block_find(ino, index);

	if (data)
		memset(data + off, 0, len);
}

/* Make [off, end) read as zeros: free whole blocks, clear partial ones. */
static void punch_range(struct memfs *fs, struct memfs_inode *ino,
			uint64_t off, uint64_t end)
{
	uint64_t first = off / BLOCK_SIZE + (off % BLOCK_SIZE != 0);
	uint64_t last = end / BLOCK_SIZE;	/* whole ones: [first, last) */

	if (off % BLOCK_SIZE) {
		uint64_t stop = first * BLOCK_SIZE < end ? first * BLOCK_SIZE :
							   end;

		zero_in_block(ino, off / BLOCK_SIZE, off % BLOCK_SIZE,
			      stop - off);
	}
	if (first < last)
		free_blocks(fs, ino, first, last);
	if (end % BLOCK_SIZE && last >= first)
		zero_in_block(ino, last, 0, end % BLOCK_SIZE);
}

static void file_resize(struct memfs *fs, struct memfs_inode *ino,
			uint64_t size)
{
	if (size < (uint64_t)ino->st.st_size)
		punch_range(fs, ino, size, UINT64_MAX);
	ino->st.st_size = (off_t)size;
}

/* A regular file, or the errno a data op on nodeid gets. */
static int get_file(struct memfs *fs, uint64_t nodeid,
		    struct memfs_inode **out)
{
	struct memfs_inode *ino = inode_get(fs, nodeid);

	if (!ino)
		return -ENOENT;
	if (S_ISDIR(ino->st.st_mode))
		return -EISDIR;
	if (!S_ISREG(ino->st.st_mode))
		return -EINVAL;
	*out = ino;
	return 0;
}

/*
 * Reply payload space: the transport's own buffer when it offers one (the
 * reply then needs no copy), else heap memory to free after replying.
 */
static char *reply_space(struct uvfs_req *req, size_t size, char **heap)
{
	char *p = uvfs_req_outbuf(req, size);

	*heap = NULL;
	if (!p)
		p = *heap = malloc(size ? size : 1);
	return p;
}

/* ------------------------------------------------------------------------
 * Ops: names
 */

static void memfs_lookup(struct uvfs_req *req, uint64_t parent,
			 const char *name)
{
	struct memfs *fs = uvfs_req_priv(req);
	struct memfs_inode *dir, *ino = NULL;
	struct memfs_dirent *de;
	int err;

	pthread_mutex_lock(&fs->lock);
	err = get_dir(fs, parent, &dir);
	if (!err) {
		/* The kernel resolves these itself, except for NFS export. */
		if (!strcmp(name, "."))
			ino = dir;
		else if (!strcmp(name, ".."))
			ino = dir->dir.parent;
		else if ((de = dir_find(dir, name)))
			ino = de->inode;
	}
	if (ino)
		reply_entry(req, ino, NULL);
	else if (!err)
		uvfs_reply_negative(req, TIMEOUT);	/* no such name */
	else
		uvfs_reply_err(req, err);
	pthread_mutex_unlock(&fs->lock);
}

static void forget_one(struct memfs *fs, uint64_t nodeid, uint64_t nlookup)
{
	struct memfs_inode *ino = inode_get(fs, nodeid);

	if (!ino)
		return;
	ino->nlookup = nlookup < ino->nlookup ? ino->nlookup - nlookup : 0;
	inode_put(fs, ino);
}

/*
 * With forget_multi present the library never calls forget: a whole batch
 * of forgets costs one trip through the lock.
 */
static void memfs_forget_multi(struct uvfs_req *req, size_t count,
			       const struct uvfs_forget_one *forgets)
{
	struct memfs *fs = uvfs_req_priv(req);
	size_t i;

	pthread_mutex_lock(&fs->lock);
	for (i = 0; i < count; i++)
		forget_one(fs, forgets[i].nodeid, forgets[i].nlookup);
	pthread_mutex_unlock(&fs->lock);
	uvfs_reply_none(req);
}

/*
 * Create a name in parent for a new inode: the common part of create,
 * mkdir, mknod and symlink.
 */
static int make_node(struct uvfs_req *req, uint64_t parent, const char *name,
		     mode_t mode, dev_t rdev, const char *target,
		     struct memfs_inode **out)
{
	struct memfs *fs = uvfs_req_priv(req);
	struct memfs_inode *dir, *ino;
	int err;

	err = get_dir(fs, parent, &dir);
	if (err)
		return err;
	if (dir_find(dir, name))
		return -EEXIST;
	if (fs->ninodes >= fs->max_inodes)
		return -ENOSPC;

	ino = inode_alloc(fs, uvfs_req_ctx(req), dir, mode);
	if (!ino)
		return -ENOMEM;
	if (target) {
		ino->target = strdup(target);
		if (!ino->target)
			goto err_inode;
		ino->st.st_size = (off_t)strlen(target);
	}
	if (dir_add(dir, name, ino))
		goto err_target;

	hash_insert(fs, ino);
	ino->st.st_rdev = rdev;
	if (S_ISDIR(mode)) {
		ino->st.st_nlink = 2;
		ino->dir.parent = dir;
		dir->st.st_nlink++;
	} else {
		ino->st.st_nlink = 1;
	}
	touch(dir, T_MTIME | T_CTIME);
	*out = ino;
	return 0;

err_target:
	if (target)
		free(ino->target);
err_inode:
	free(ino);
	return -ENOMEM;
}

/* make_node() and its reply, for the four ops that create a name. */
static void new_node(struct uvfs_req *req, uint64_t parent, const char *name,
		     mode_t mode, dev_t rdev, const char *target,
		     struct uvfs_file_info *fi)
{
	struct memfs *fs = uvfs_req_priv(req);
	struct memfs_inode *ino;
	int err;

	pthread_mutex_lock(&fs->lock);
	err = make_node(req, parent, name, mode, rdev, target, &ino);
	if (err)
		uvfs_reply_err(req, err);
	else
		reply_entry(req, ino, fi);
	pthread_mutex_unlock(&fs->lock);
}

static void memfs_mknod(struct uvfs_req *req, uint64_t parent,
			const char *name, mode_t mode, dev_t rdev)
{
	switch (mode & S_IFMT) {
	case 0:
		mode |= S_IFREG;
		/* fall through */
	case S_IFREG:
	case S_IFIFO:
	case S_IFSOCK:
		rdev = 0;
		/* fall through */
	case S_IFCHR:
	case S_IFBLK:
		new_node(req, parent, name, mode, rdev, NULL, NULL);
		break;
	default:
		uvfs_reply_err(req, -EINVAL);
	}
}

static void memfs_mkdir(struct uvfs_req *req, uint64_t parent,
			const char *name, mode_t mode)
{
	new_node(req, parent, name, S_IFDIR | (mode & 07777), 0, NULL, NULL);
}

static void memfs_symlink(struct uvfs_req *req, const char *target,
			  uint64_t parent, const char *name)
{
	new_node(req, parent, name, S_IFLNK | 0777, 0, target, NULL);
}

static void memfs_create(struct uvfs_req *req, uint64_t parent,
			 const char *name, mode_t mode,
			 struct uvfs_file_info *fi)
{
	fi->fh = 0;	/* memfs keeps no per-open state */
	fi->keep_cache = 1;
	new_node(req, parent, name, S_IFREG | (mode & 07777), 0, NULL, fi);
}

static void memfs_link(struct uvfs_req *req, uint64_t nodeid,
		       uint64_t newparent, const char *newname)
{
	struct memfs *fs = uvfs_req_priv(req);
	struct memfs_inode *dir, *ino;
	int err;

	pthread_mutex_lock(&fs->lock);
	ino = inode_get(fs, nodeid);
	if (!ino)
		err = -ENOENT;
	else if (S_ISDIR(ino->st.st_mode))
		err = -EPERM;
	else if (ino->st.st_nlink == 0)	/* no way back from unlinked */
		err = -ENOENT;
	else
		err = get_dir(fs, newparent, &dir);
	if (!err && dir_find(dir, newname))
		err = -EEXIST;
	if (!err)
		err = dir_add(dir, newname, ino);
	if (!err) {
		ino->st.st_nlink++;
		touch(ino, T_CTIME);
		touch(dir, T_MTIME | T_CTIME);
		reply_entry(req, ino, NULL);
	} else {
		uvfs_reply_err(req, err);
	}
	pthread_mutex_unlock(&fs->lock);
}

/* unlink and rmdir */
static int remove_name(struct memfs *fs, uint64_t parent, const char *name,
		       bool want_dir)
{
	struct memfs_inode *dir, *ino;
	struct memfs_dirent *de;
	int err;

	err = get_dir(fs, parent, &dir);
	if (err)
		return err;
	de = dir_find(dir, name);
	if (!de)
		return -ENOENT;
	ino = de->inode;
	if (want_dir && !S_ISDIR(ino->st.st_mode))
		return -ENOTDIR;
	if (!want_dir && S_ISDIR(ino->st.st_mode))
		return -EISDIR;
	if (want_dir && ino->dir.head)
		return -ENOTEMPTY;
	dir_remove(dir, de);
	touch(dir, T_MTIME | T_CTIME);
	drop_link(fs, dir, ino);
	return 0;
}

static void memfs_unlink(struct uvfs_req *req, uint64_t parent,
			 const char *name)
{
	struct memfs *fs = uvfs_req_priv(req);

	pthread_mutex_lock(&fs->lock);
	uvfs_reply_err(req, remove_name(fs, parent, name, false));
	pthread_mutex_unlock(&fs->lock);
}

static void memfs_rmdir(struct uvfs_req *req, uint64_t parent,
			const char *name)
{
	struct memfs *fs = uvfs_req_priv(req);

	pthread_mutex_lock(&fs->lock);
	uvfs_reply_err(req, remove_name(fs, parent, name, true));
	pthread_mutex_unlock(&fs->lock);
}

/* A directory moved from odir to ndir: fix its ".." and both link counts. */
static void move_dir(struct memfs_inode *ino, struct memfs_inode *odir,
		     struct memfs_inode *ndir)
{
	if (!S_ISDIR(ino->st.st_mode) || odir == ndir)
		return;
	ino->dir.parent = ndir;
	odir->st.st_nlink--;
	ndir->st.st_nlink++;
}

static int do_rename(struct memfs *fs, uint64_t parent, const char *name,
		     uint64_t newparent, const char *newname,
		     unsigned int flags)
{
	struct memfs_inode *odir, *ndir, *src, *dst;
	struct memfs_dirent *ode, *nde;
	int err;

	err = get_dir(fs, parent, &odir);
	if (!err)
		err = get_dir(fs, newparent, &ndir);
	if (err)
		return err;
	ode = dir_find(odir, name);
	if (!ode)
		return -ENOENT;
	nde = dir_find(ndir, newname);
	src = ode->inode;
	dst = nde ? nde->inode : NULL;

	if ((flags & UVFS_RENAME_EXCHANGE) && !dst)
		return -ENOENT;
	if ((flags & UVFS_RENAME_NOREPLACE) && dst)
		return -EEXIST;
	/* Two names of one inode (or one name twice): POSIX says no-op. */
	if (src == dst)
		return 0;
	if (S_ISDIR(src->st.st_mode) && is_ancestor(src, ndir))
		return -EINVAL;

	if (flags & UVFS_RENAME_EXCHANGE) {
		if (S_ISDIR(dst->st.st_mode) && is_ancestor(dst, odir))
			return -EINVAL;
		/* The names (and their cookies) stay; the inodes swap. */
		ode->inode = dst;
		nde->inode = src;
		move_dir(src, odir, ndir);
		move_dir(dst, ndir, odir);
		touch(dst, T_CTIME);
	} else if (dst) {
		if (S_ISDIR(src->st.st_mode) && !S_ISDIR(dst->st.st_mode))
			return -ENOTDIR;
		if (!S_ISDIR(src->st.st_mode) && S_ISDIR(dst->st.st_mode))
			return -EISDIR;
		if (S_ISDIR(dst->st.st_mode) && dst->dir.head)
			return -ENOTEMPTY;
		nde->inode = src;
		dir_remove(odir, ode);
		move_dir(src, odir, ndir);
		drop_link(fs, ndir, dst);
	} else {
		err = dir_add(ndir, newname, src);
		if (err)
			return err;
		dir_remove(odir, ode);
		move_dir(src, odir, ndir);
	}
	touch(src, T_CTIME);
	touch(odir, T_MTIME | T_CTIME);
	touch(ndir, T_MTIME | T_CTIME);
	return 0;
}

static void memfs_rename(struct uvfs_req *req, uint64_t parent,
			 const char *name, uint64_t newparent,
			 const char *newname, unsigned int flags)
{
	struct memfs *fs = uvfs_req_priv(req);

	pthread_mutex_lock(&fs->lock);
	uvfs_reply_err(req, do_rename(fs, parent, name, newparent, newname,
				      flags));
	pthread_mutex_unlock(&fs->lock);
}

/* ------------------------------------------------------------------------
 * Ops: attributes
 */

static void memfs_getattr(struct uvfs_req *req, uint64_t nodeid,
			  struct uvfs_file_info *fi)
{
	struct memfs *fs = uvfs_req_priv(req);
	struct memfs_inode *ino;
	struct stat st;

	pthread_mutex_lock(&fs->lock);
	ino = inode_get(fs, nodeid);
	if (ino) {
		stat_of(ino, &st);
		uvfs_reply_attr(req, &st, TIMEOUT);
	} else {
		uvfs_reply_err(req, -ENOENT);
	}
	pthread_mutex_unlock(&fs->lock);
}

/* Drop set-user-ID, and set-group-ID where it means that (group exec). */
static void kill_suid(struct memfs_inode *ino)
{
	ino->st.st_mode &= ~S_ISUID;
	if (ino->st.st_mode & S_IXGRP)
		ino->st.st_mode &= ~S_ISGID;
}

static void memfs_setattr(struct uvfs_req *req, uint64_t nodeid,
			  const struct stat *attr, uint32_t to_set,
			  struct uvfs_file_info *fi)
{
	struct memfs *fs = uvfs_req_priv(req);
	struct memfs_inode *ino;
	struct timespec now;
	struct stat st;
	int err = 0;

	pthread_mutex_lock(&fs->lock);
	ino = inode_get(fs, nodeid);
	if (!ino) {
		err = -ENOENT;
		goto out;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	if (to_set & UVFS_SET_SIZE) {
		err = get_file(fs, nodeid, &ino);
		if (err)
			goto out;
		file_resize(fs, ino, (uint64_t)attr->st_size);
		ino->st.st_mtim = now;
	}
	if (to_set & UVFS_SET_MODE)
		ino->st.st_mode = (ino->st.st_mode & S_IFMT) |
				  (attr->st_mode & 07777);
	if (to_set & (UVFS_SET_UID | UVFS_SET_GID)) {
		if (to_set & UVFS_SET_UID)
			ino->st.st_uid = attr->st_uid;
		if (to_set & UVFS_SET_GID)
			ino->st.st_gid = attr->st_gid;
		/* An unprivileged chown drops the set-ID bits of a file,
		 * unless the same request sets the mode explicitly. */
		if (uvfs_req_ctx(req)->uid != 0 && !(to_set & UVFS_SET_MODE) &&
		    !S_ISDIR(ino->st.st_mode))
			kill_suid(ino);
	}
	if (to_set & UVFS_SET_KILL_SUID)
		kill_suid(ino);
	if (to_set & UVFS_SET_ATIME_NOW)
		ino->st.st_atim = now;
	else if (to_set & UVFS_SET_ATIME)
		ino->st.st_atim = attr->st_atim;
	if (to_set & UVFS_SET_MTIME_NOW)
		ino->st.st_mtim = now;
	else if (to_set & UVFS_SET_MTIME)
		ino->st.st_mtim = attr->st_mtim;
	/* Any change of attributes is a change of the inode. */
	ino->st.st_ctim = (to_set & UVFS_SET_CTIME) ? attr->st_ctim : now;
out:
	if (err) {
		uvfs_reply_err(req, err);
	} else {
		stat_of(ino, &st);
		uvfs_reply_attr(req, &st, TIMEOUT);
	}
	pthread_mutex_unlock(&fs->lock);
}

static void memfs_readlink(struct uvfs_req *req, uint64_t nodeid)
{
	struct memfs *fs = uvfs_req_priv(req);
	struct memfs_inode *ino;

	pthread_mutex_lock(&fs->lock);
	ino = inode_get(fs, nodeid);
	if (!ino)
		uvfs_reply_err(req, -ENOENT);
	else if (!S_ISLNK(ino->st.st_mode))
		uvfs_reply_err(req, -EINVAL);
	else
		uvfs_reply_readlink(req, ino->target);
	pthread_mutex_unlock(&fs->lock);
}

/* The classic owner/group/other check; root may do anything but run a
 * file that nobody may run. */
static int check_access(const struct memfs_inode *ino,
			const struct uvfs_ctx *ctx, int mask)
{
	mode_t mode = ino->st.st_mode;

	if (mask == F_OK)
		return 0;
	if (ctx->uid == 0) {
		if ((mask & X_OK) && !S_ISDIR(mode) && !(mode & 0111))
			return -EACCES;
		return 0;
	}
	if (ctx->uid == ino->st.st_uid)
		mode >>= 6;
	else if (ctx->gid == ino->st.st_gid)
		mode >>= 3;
	return (mask & ~mode & 7) ? -EACCES : 0;
}

static void memfs_access(struct uvfs_req *req, uint64_t nodeid, int mask)
{
	struct memfs *fs = uvfs_req_priv(req);
	struct memfs_inode *ino;

	pthread_mutex_lock(&fs->lock);
	ino = inode_get(fs, nodeid);
	uvfs_reply_err(req, ino ? check_access(ino, uvfs_req_ctx(req), mask) :
				  -ENOENT);
	pthread_mutex_unlock(&fs->lock);
}

static void memfs_statfs(struct uvfs_req *req, uint64_t nodeid)
{
	struct memfs *fs = uvfs_req_priv(req);
	struct statvfs sv;

	memset(&sv, 0, sizeof(sv));
	pthread_mutex_lock(&fs->lock);
	sv.f_bsize = BLOCK_SIZE;
	sv.f_frsize = BLOCK_SIZE;
	sv.f_blocks = fs->max_blocks;
	sv.f_bfree = fs->max_blocks - fs->used_blocks;
	sv.f_bavail = sv.f_bfree;
	sv.f_files = fs->max_inodes;
	sv.f_ffree = fs->max_inodes - fs->ninodes;
	sv.f_favail = sv.f_ffree;
	sv.f_namemax = UVFS_NAME_MAX;
	uvfs_reply_statfs(req, &sv);
	pthread_mutex_unlock(&fs->lock);
}

/* ------------------------------------------------------------------------
 * Ops: open files
 */

/* open and opendir: memfs keeps no per-open state, so fh stays 0. */
static void open_common(struct uvfs_req *req, uint64_t nodeid,
			struct uvfs_file_info *fi, bool want_dir)
{
	struct memfs *fs = uvfs_req_priv(req);
	struct memfs_inode *ino;
	int err = 0;

	pthread_mutex_lock(&fs->lock);
	ino = inode_get(fs, nodeid);
	if (!ino)
		err = -ENOENT;
	else if (want_dir != !!S_ISDIR(ino->st.st_mode))
		err = want_dir ? -ENOTDIR : -EISDIR;
	/* FUSE truncates with a separate SETATTR; other transports may pass
	 * O_TRUNC through, so honour it here too. */
	if (!err && (fi->flags & O_TRUNC) && S_ISREG(ino->st.st_mode) &&
	    ino->st.st_size) {
		file_resize(fs, ino, 0);
		touch(ino, T_MTIME | T_CTIME);
	}
	fi->fh = 0;
	fi->keep_cache = 1;	/* data changes only through the kernel */
	if (err)
		uvfs_reply_err(req, err);
	else if (!uvfs_reply_open(req, fi))
		ino->nopen++;
	pthread_mutex_unlock(&fs->lock);
}

static void memfs_open(struct uvfs_req *req, uint64_t nodeid,
		       struct uvfs_file_info *fi)
{
	open_common(req, nodeid, fi, false);
}

static void memfs_opendir(struct uvfs_req *req, uint64_t nodeid,
			  struct uvfs_file_info *fi)
{
	open_common(req, nodeid, fi, true);
}

/* release and releasedir */
static void memfs_release(struct uvfs_req *req, uint64_t nodeid,
			  struct uvfs_file_info *fi)
{
	struct memfs *fs = uvfs_req_priv(req);
	struct memfs_inode *ino;

	pthread_mutex_lock(&fs->lock);
	ino = inode_get(fs, nodeid);
	if (ino && ino->nopen) {
		ino->nopen--;
		inode_put(fs, ino);
	}
	uvfs_reply_err(req, 0);
	pthread_mutex_unlock(&fs->lock);
}

static void memfs_read(struct uvfs_req *req, uint64_t nodeid, size_t size,
		       off_t off, struct uvfs_file_info *fi)
{
	struct memfs *fs = uvfs_req_priv(req);
	struct memfs_inode *ino;
	char *buf, *heap;
	size_t n = 0, done;
	int err;

	pthread_mutex_lock(&fs->lock);
	err = get_file(fs, nodeid, &ino);
	if (err) {
		uvfs_reply_err(req, err);
		goto out;
	}
	if (off < ino->st.st_size)
		n = (uint64_t)(ino->st.st_size - off) < size ?
			    (size_t)(ino->st.st_size - off) : size;
	buf = reply_space(req, n, &heap);
	if (!buf) {
		uvfs_reply_err(req, -ENOMEM);
		goto out;
	}
	for (done = 0; done < n;) {
		uint64_t pos = (uint64_t)off + done;
		size_t boff = pos % BLOCK_SIZE;
		size_t len = BLOCK_SIZE - boff < n - done ? BLOCK_SIZE - boff :
							   n - done;
		const char *data = block_find(ino, pos / BLOCK_SIZE);

		if (data)
			memcpy(buf + done, data + boff, len);
		else
			memset(buf + done, 0, len);
		done += len;
	}
	uvfs_reply_buf(req, buf, n);
	free(heap);
out:
	pthread_mutex_unlock(&fs->lock);
}

static void memfs_write(struct uvfs_req *req, uint64_t nodeid,
			const void *buf, size_t size, off_t off,
			struct uvfs_file_info *fi)
{
	struct memfs *fs = uvfs_req_priv(req);
	struct memfs_inode *ino;
	size_t done = 0;
	int err;

	pthread_mutex_lock(&fs->lock);
	err = get_file(fs, nodeid, &ino);
	while (!err && done < size) {
		uint64_t pos = (uint64_t)off + done;
		size_t boff = pos % BLOCK_SIZE;
		size_t len = BLOCK_SIZE - boff < size - done ?
				     BLOCK_SIZE - boff : size - done;
		char *data;

		err = block_get(fs, ino, pos / BLOCK_SIZE, &data);
		if (err)
			break;
		memcpy(data + boff, (const char *)buf + done, len);
		done += len;
	}
	/* Out of space midway: report the short write, as write(2) does. */
	if (done || !err) {
		if ((uint64_t)off + done > (uint64_t)ino->st.st_size)
			ino->st.st_size = off + (off_t)done;
		touch(ino, T_MTIME | T_CTIME);
		uvfs_reply_write(req, done);
	} else {
		uvfs_reply_err(req, err);
	}
	pthread_mutex_unlock(&fs->lock);
}

/* Clear [off, end) in the blocks that hold it; holes stay holes. */
static void zero_blocks(struct memfs_inode *ino, uint64_t off, uint64_t end)
{
	size_t pos = block_pos(ino, off / BLOCK_SIZE);
	struct memfs_block *b;
	uint64_t from, to;

	for (; pos < ino->file.nblocks; pos++) {
		b = &ino->file.blocks[pos];
		from = b->index * BLOCK_SIZE;
		if (from >= end)
			break;
		to = from + BLOCK_SIZE < end ? from + BLOCK_SIZE : end;
		if (from < off)
			from = off;
		memset(b->data + from % BLOCK_SIZE, 0, to - from);
	}
}

static int do_fallocate(struct memfs *fs, struct memfs_inode *ino, int mode,
			uint64_t off, uint64_t len)
{
	uint64_t first = off / BLOCK_SIZE;
	uint64_t end = (off + len + BLOCK_SIZE - 1) / BLOCK_SIZE;
	uint64_t have, i;
	char *data;
	int err;

	if (mode == (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE)) {
		punch_range(fs, ino, off, off + len);
		return 0;
	}
	if (mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_ZERO_RANGE))
		return -EOPNOTSUPP;
	/* All or nothing: check the space before allocating any of it. */
	have = block_pos(ino, end) - block_pos(ino, first);
	if (end - first - have > fs->max_blocks - fs->used_blocks)
		return -ENOSPC;
	/* ZERO_RANGE: clear what is there, then allocate the rest as mode 0
	 * does; the range stays allocated, unlike a punched one. */
	if (mode & FALLOC_FL_ZERO_RANGE)
		zero_blocks(ino, off, off + len);
	for (i = first; i < end; i++) {
		err = block_get(fs, ino, i, &data);
		if (err)
			return err;
	}
	if (!(mode & FALLOC_FL_KEEP_SIZE) &&
	    off + len > (uint64_t)ino->st.st_size)
		ino->st.st_size = (off_t)(off + len);
	return 0;
}

static void memfs_fallocate(struct uvfs_req *req, uint64_t nodeid, int mode,
			    off_t offset, off_t length,
			    struct uvfs_file_info *fi)
{
	struct memfs *fs = uvfs_req_priv(req);
	struct memfs_inode *ino;
	int err;

	pthread_mutex_lock(&fs->lock);
	err = get_file(fs, nodeid, &ino);
	if (!err)
		err = do_fallocate(fs, ino, mode, (uint64_t)offset,
				   (uint64_t)length);
	if (!err)
		touch(ino, T_MTIME | T_CTIME);
	uvfs_reply_err(req, err);
	pthread_mutex_unlock(&fs->lock);
}

/* SEEK_DATA / SEEK_HOLE: allocated blocks are data, the rest holes. */
static off_t do_lseek(const struct memfs_inode *ino, uint64_t off, int whence)
{
	uint64_t size = (uint64_t)ino->st.st_size, index = off / BLOCK_SIZE;
	size_t pos = block_pos(ino, index);
	uint64_t res;

	if (off >= size)
		return -ENXIO;
	if (whence == SEEK_DATA) {
		if (pos == ino->file.nblocks)
			return -ENXIO;
		res = ino->file.blocks[pos].index * BLOCK_SIZE;
		if (res < off)
			res = off;
		return res < size ? (off_t)res : -ENXIO;
	}
	/* SEEK_HOLE: walk the run of blocks starting at off's block. */
	while (pos < ino->file.nblocks &&
	       ino->file.blocks[pos].index == index) {
		pos++;
		index++;
	}
	res = index * BLOCK_SIZE;
	if (res < off)
		res = off;
	return (off_t)(res < size ? res : size);	/* EOF is a hole */
}

static void memfs_lseek(struct uvfs_req *req, uint64_t nodeid, off_t off,
			int whence, struct uvfs_file_info *fi)
{
	struct memfs *fs = uvfs_req_priv(req);
	struct memfs_inode *ino;
	off_t res;
	int err;

	pthread_mutex_lock(&fs->lock);
	err = get_file(fs, nodeid, &ino);
	res = err ? err : do_lseek(ino, (uint64_t)off, whence);
	if (res < 0)
		uvfs_reply_err(req, (int)res);
	else
		uvfs_reply_lseek(req, res);
	pthread_mutex_unlock(&fs->lock);
}

/* ------------------------------------------------------------------------
 * Ops: directory listings
 */

/* Append one record; false when it does not fit. */
static bool emit(char *buf, size_t size, size_t *used, const char *name,
		 const struct memfs_inode *ino, uint64_t cookie, bool plus)
{
	struct uvfs_entry e = { 0 };
	size_t n;

	e.ino = ino->st.st_ino;
	e.attr_timeout = TIMEOUT;
	e.entry_timeout = TIMEOUT;
	stat_of(ino, &e.attr);
	if (plus)
		n = uvfs_add_direntplus(buf + *used, size - *used, name, &e,
					(off_t)cookie);
	else
		n = uvfs_add_dirent(buf + *used, size - *used, name, &e.attr,
				    (off_t)cookie);
	if (n > size - *used)
		return false;
	*used += n;
	return true;
}

static void do_readdir(struct uvfs_req *req, uint64_t nodeid, size_t size,
		       off_t off, bool plus)
{
	struct memfs *fs = uvfs_req_priv(req);
	struct memfs_inode *dir;
	struct memfs_dirent *de;
	char *buf, *heap;
	size_t used = 0;
	int err;

	pthread_mutex_lock(&fs->lock);
	err = get_dir(fs, nodeid, &dir);
	if (err) {
		uvfs_reply_err(req, err);
		goto out;
	}
	buf = reply_space(req, size, &heap);
	if (!buf) {
		uvfs_reply_err(req, -ENOMEM);
		goto out;
	}
	if (off < 1 && !emit(buf, size, &used, ".", dir, 1, plus))
		goto reply;
	if (off < 2 && !emit(buf, size, &used, "..", dir->dir.parent, 2, plus))
		goto reply;
	for (de = dir_seek(dir, off < 0 ? 0 : (uint64_t)off); de;
	     de = de->next) {
		if (!emit(buf, size, &used, de->name, de->inode, de->cookie,
			  plus))
			break;
		/* Like a lookup, except for "." and "..". */
		if (plus)
			de->inode->nlookup++;
	}
reply:
	uvfs_reply_buf(req, buf, used);
	free(heap);
out:
	pthread_mutex_unlock(&fs->lock);
}

static void memfs_readdir(struct uvfs_req *req, uint64_t ino, size_t size,
			  off_t off, struct uvfs_file_info *fi)
{
	do_readdir(req, ino, size, off, false);
}

static void memfs_readdirplus(struct uvfs_req *req, uint64_t ino,
			      size_t size, off_t off,
			      struct uvfs_file_info *fi)
{
	do_readdir(req, ino, size, off, true);
}

/* ------------------------------------------------------------------------
 * Ops: extended attributes
 */

/* The link that points at xattr name, or the list's final NULL link. */
static struct memfs_xattr **xattr_find(struct memfs_inode *ino,
				       const char *name)
{
	struct memfs_xattr **pp;

	for (pp = &ino->xattrs; *pp; pp = &(*pp)->next)
		if (!strcmp((*pp)->name, name))
			break;
	return pp;
}

static int do_setxattr(struct memfs_inode *ino, const char *name,
		       const void *value, size_t size, int flags)
{
	struct memfs_xattr **pp = xattr_find(ino, name), *x;
	size_t len = strlen(name);

	if (len > UVFS_XATTR_NAME_MAX)
		return -ERANGE;
	if (size > UVFS_XATTR_SIZE_MAX)
		return -E2BIG;
	if (*pp && (flags & XATTR_CREATE))
		return -EEXIST;
	if (!*pp && (flags & XATTR_REPLACE))
		return -ENODATA;

	/* Build the new one first so that a failure changes nothing. */
	x = malloc(sizeof(*x) + len + 1 + size);
	if (!x)
		return -ENOMEM;
	memcpy(x->name, name, len + 1);
	x->value = x->name + len + 1;
	if (size)
		memcpy(x->value, value, size);
	x->size = size;
	if (*pp) {
		x->next = (*pp)->next;
		free(*pp);
	} else {
		x->next = NULL;
	}
	*pp = x;
	touch(ino, T_CTIME);
	return 0;
}

static void memfs_setxattr(struct uvfs_req *req, uint64_t nodeid,
			   const char *name, const void *value, size_t size,
			   int flags)
{
	struct memfs *fs = uvfs_req_priv(req);
	struct memfs_inode *ino;

	pthread_mutex_lock(&fs->lock);
	ino = inode_get(fs, nodeid);
	uvfs_reply_err(req, ino ? do_setxattr(ino, name, value, size, flags) :
				  -ENOENT);
	pthread_mutex_unlock(&fs->lock);
}

static void memfs_getxattr(struct uvfs_req *req, uint64_t nodeid,
			   const char *name, size_t size)
{
	struct memfs *fs = uvfs_req_priv(req);
	struct memfs_inode *ino;
	struct memfs_xattr *x = NULL;

	pthread_mutex_lock(&fs->lock);
	ino = inode_get(fs, nodeid);
	if (ino)
		x = *xattr_find(ino, name);
	if (!ino)
		uvfs_reply_err(req, -ENOENT);
	else if (!x)
		uvfs_reply_err(req, -ENODATA);
	else if (size == 0)
		uvfs_reply_xattr(req, x->size);
	else if (x->size > size)
		uvfs_reply_err(req, -ERANGE);
	else
		uvfs_reply_buf(req, x->value, x->size);
	pthread_mutex_unlock(&fs->lock);
}

static void memfs_listxattr(struct uvfs_req *req, uint64_t nodeid,
			    size_t size)
{
	struct memfs *fs = uvfs_req_priv(req);
	struct memfs_inode *ino;
	struct memfs_xattr *x;
	size_t total = 0, used = 0;
	char *buf, *heap;

	pthread_mutex_lock(&fs->lock);
	ino = inode_get(fs, nodeid);
	if (!ino) {
		uvfs_reply_err(req, -ENOENT);
		goto out;
	}
	for (x = ino->xattrs; x; x = x->next)
		total += strlen(x->name) + 1;
	if (size == 0) {
		uvfs_reply_xattr(req, total);
		goto out;
	}
	if (total > size) {
		uvfs_reply_err(req, -ERANGE);
		goto out;
	}
	buf = reply_space(req, total, &heap);
	if (!buf) {
		uvfs_reply_err(req, -ENOMEM);
		goto out;
	}
	for (x = ino->xattrs; x; x = x->next) {
		size_t n = strlen(x->name) + 1;

		memcpy(buf + used, x->name, n);
		used += n;
	}
	uvfs_reply_buf(req, buf, total);
	free(heap);
out:
	pthread_mutex_unlock(&fs->lock);
}

static void memfs_removexattr(struct uvfs_req *req, uint64_t nodeid,
			      const char *name)
{
	struct memfs *fs = uvfs_req_priv(req);
	struct memfs_inode *ino;
	struct memfs_xattr **pp, *x;
	int err = -ENOENT;

	pthread_mutex_lock(&fs->lock);
	ino = inode_get(fs, nodeid);
	if (ino) {
		pp = xattr_find(ino, name);
		x = *pp;
		err = -ENODATA;
		if (x) {
			*pp = x->next;
			free(x);
			touch(ino, T_CTIME);
			err = 0;
		}
	}
	uvfs_reply_err(req, err);
	pthread_mutex_unlock(&fs->lock);
}

/* ------------------------------------------------------------------------
 * Mounting
 */

/* -o size=N[kmgt]: the capacity in bytes, or in powers of 1024. */
static int parse_options(struct memfs *fs, const char *options, char *err,
			 size_t errlen)
{
	static const char units[] = "kmgt";
	char *copy, *tok, *save = NULL, *end;
	unsigned long long size;
	unsigned int shift;
	const char *u;
	int ret = 0;

	copy = strdup(options ? options : "");
	if (!copy)
		return -ENOMEM;
	for (tok = strtok_r(copy, ",", &save); tok && !ret;
	     tok = strtok_r(NULL, ",", &save)) {
		if (strncmp(tok, "size=", 5)) {
			snprintf(err, errlen, "memfs: unknown option %s", tok);
			ret = -EINVAL;
			break;
		}
		errno = 0;
		size = strtoull(tok + 5, &end, 10);
		u = *end ? strchr(units, *end | 0x20) : NULL;
		shift = u ? 10 * (unsigned int)(u - units + 1) : 0;
		if (u)
			end++;
		if (errno || *end || tok[5] < '0' || tok[5] > '9' ||
		    size > ULLONG_MAX >> shift || size << shift < BLOCK_SIZE) {
			snprintf(err, errlen, "memfs: bad size %s", tok + 5);
			ret = -EINVAL;
			break;
		}
		fs->max_blocks = (size << shift) / BLOCK_SIZE;
	}
	free(copy);
	return ret;
}

static int memfs_mount(const struct uvfs_mount_args *args, void **priv)
{
	struct uvfs_ctx owner = { .uid = getuid(), .gid = getgid() };
	struct memfs *fs;
	struct memfs_inode *root;
	int err;

	fs = calloc(1, sizeof(*fs));
	if (!fs)
		return -ENOMEM;
	fs->hash_size = HASH_MIN;
	fs->hash = calloc(fs->hash_size, sizeof(*fs->hash));
	if (!fs->hash) {
		err = -ENOMEM;
		goto err_fs;
	}
	fs->max_blocks = DEFAULT_SIZE / BLOCK_SIZE;
	err = parse_options(fs, args->options, args->errbuf, args->errlen);
	if (err)
		goto err_hash;
	fs->max_inodes = fs->max_blocks;	/* one inode per block */
	fs->next_ino = UVFS_ROOT_ID;

	/* The root is its own parent and is never freed before unmount. */
	root = inode_alloc(fs, &owner, NULL, S_IFDIR | 0755);
	if (!root) {
		err = -ENOMEM;
		goto err_hash;
	}
	root->st.st_nlink = 2;
	root->dir.parent = root;
	hash_insert(fs, root);
	pthread_mutex_init(&fs->lock, NULL);
	*priv = fs;
	return 0;

err_hash:
	free(fs->hash);
err_fs:
	free(fs);
	return err;
}

static void memfs_unmount(void *priv)
{
	struct memfs *fs = priv;
	size_t b;

	/* Every inode, linked or not, is in the table: free them all. */
	for (b = 0; b < fs->hash_size; b++)
		while (fs->hash[b])
			inode_free(fs, fs->hash[b]);
	free(fs->hash);
	pthread_mutex_destroy(&fs->lock);
	free(fs);
}

/*
 * flush, fsync and fsyncdir are left out: for ops like these the library
 * answers 0 by itself, which is right when nothing is ever dirty.
 */
static const struct uvfs_ops memfs_ops = {
	.lookup = memfs_lookup,
	.forget_multi = memfs_forget_multi,
	.getattr = memfs_getattr,
	.setattr = memfs_setattr,
	.readlink = memfs_readlink,
	.mknod = memfs_mknod,
	.mkdir = memfs_mkdir,
	.unlink = memfs_unlink,
	.rmdir = memfs_rmdir,
	.symlink = memfs_symlink,
	.rename = memfs_rename,
	.link = memfs_link,
	.open = memfs_open,
	.create = memfs_create,
	.read = memfs_read,
	.write = memfs_write,
	.release = memfs_release,
	.opendir = memfs_opendir,
	.readdir = memfs_readdir,
	.readdirplus = memfs_readdirplus,
	.releasedir = memfs_release,
	.statfs = memfs_statfs,
	.setxattr = memfs_setxattr,
	.getxattr = memfs_getxattr,
	.listxattr = memfs_listxattr,
	.removexattr = memfs_removexattr,
	.access = memfs_access,
	.fallocate = memfs_fallocate,
	.lseek = memfs_lseek,
};

static const struct uvfs_backend memfs_backend = {
	.api_version = UVFS_BACKEND_API_VERSION,
	.ops_size = sizeof(struct uvfs_ops),
	.name = "memfs",
	.usage = "memfs: a POSIX filesystem in memory; SOURCE is ignored "
		 "(use \"none\").\n"
		 "    -o size=N[k|m|g|t]     capacity (default 1t)\n",
	.ops = &memfs_ops,
	.mount = memfs_mount,
	.unmount = memfs_unmount,
};

UVFS_BACKEND(memfs_backend);
