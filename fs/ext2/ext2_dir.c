// SPDX-License-Identifier: MIT
/*
 * ext2: directories.  Our own walker over directory blocks (validating
 * every record before use), a per-directory name table, entry insertion
 * and removal, and readdir.
 *
 * Readdir cookies are byte positions in the directory: the position of the
 * entry to resume at.  Removing an entry only merges it into the one before
 * it (or zeroes its inode), and adding one only splits free space off an
 * existing record, so the positions of the surviving entries never move
 * and a cookie stays valid however the directory changes meanwhile.
 *
 * Large directories: libext2fs's ext2fs_link/ext2fs_unlink scan the whole
 * directory on every call, so n creates or unlinks in one directory cost
 * O(n^2) block reads.  The name table remembers where each entry lives and
 * how much room each block has, so we edit the one block concerned
 * ourselves.  Indexed (htree) directories still get new names through
 * libext2fs, which keeps their index right but may move entries while
 * splitting a leaf; from then on the table's positions are not trusted
 * (pos_ok) and removals go through libext2fs too.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ext2_i.h"

/* ------------------------------------------------------------------------
 * The walker
 */

/* Called for each in-use entry; return 0 to go on, 1 to stop, or -errno. */
typedef int (*walk_fn)(struct ext2_dir_entry *de, uint64_t pos, uint64_t next,
		       void *arg);

static int dirent_check(struct e2fs *e2, char *buf, unsigned int off,
			unsigned int *rec_len)
{
	struct ext2_dir_entry *de = (struct ext2_dir_entry *)(buf + off);
	unsigned int rl;

	if (ext2fs_get_rec_len(e2->fs, de, &rl))
		return -EUCLEAN;
	if (rl < 8 || (rl & 3) || rl > e2->bs - off ||
	    (unsigned int)ext2fs_dirent_name_len(de) + 8 > rl)
		return -EUCLEAN;
	*rec_len = rl;
	return 0;
}

static int walk_block(struct e2fs *e2, char *buf, uint64_t base,
		      uint64_t start, walk_fn fn, void *arg)
{
	unsigned int off = 0, rl;
	int err;

	while (off < e2->bs) {
		struct ext2_dir_entry *de = (struct ext2_dir_entry *)(buf + off);

		err = dirent_check(e2, buf, off, &rl);
		if (err)
			return err;
		if (de->inode && base + off >= start &&
		    ext2fs_dirent_name_len(de) > 0) {
			err = fn(de, base + off, base + off + rl, arg);
			if (err)
				return err;
		}
		off += rl;
	}
	return 0;
}

static uint64_t dir_nblocks(struct e2fs *e2, struct e2_node *dir)
{
	return (e2_size(dir) + e2->bs - 1) / e2->bs;
}

/* Read directory block lblk: 0, 1 if it is a hole, or -errno. */
static int dir_block_read(struct e2fs *e2, struct e2_node *dir, blk64_t lblk,
			  char *buf, blk64_t *pblk)
{
	bool uninit;
	int err = e2_map_block(e2, dir, lblk, false, pblk, &uninit);

	if (err)
		return err;
	if (!*pblk || uninit)
		return 1;
	return e2_err(ext2fs_read_dir_block4(e2->fs, *pblk, buf, 0, dir->ino));
}

/*
 * Walk the entries at positions >= start.  Returns 0 when all were seen,
 * 1 when fn stopped the walk, or -errno.
 */
static int dir_walk(struct e2fs *e2, struct e2_node *dir, uint64_t start,
		    walk_fn fn, void *arg)
{
	uint64_t nblocks = dir_nblocks(e2, dir);
	blk64_t lblk, pblk;
	char *buf;
	int err = 0;

	if (dir->inode.i_flags & EXT4_INLINE_DATA_FL)
		return -EOPNOTSUPP;
	buf = malloc(e2->bs);
	if (!buf)
		return -ENOMEM;
	for (lblk = start / e2->bs; lblk < nblocks && !err; lblk++) {
		err = dir_block_read(e2, dir, lblk, buf, &pblk);
		if (err == 1)
			err = 0;	/* a hole: nothing in it */
		else if (!err)
			err = walk_block(e2, buf, lblk * e2->bs, start, fn,
					 arg);
	}
	free(buf);
	return err;
}

/* ------------------------------------------------------------------------
 * Free space in a block
 */

/* Where a block's records end: before the checksum tail, if it has one. */
static unsigned int block_limit(struct e2fs *e2, const char *buf)
{
	const struct ext2_dir_entry_tail *t;

	if (!ext2fs_has_feature_metadata_csum(e2->fs->super))
		return e2->bs;
	t = (const void *)(buf + e2->bs - sizeof(*t));
	if (t->det_reserved_zero1 || t->det_rec_len != sizeof(*t) ||
	    t->det_reserved_name_len != EXT2_DIR_NAME_LEN_CSUM)
		return 0;	/* no room for a checksum: leave it alone */
	return e2->bs - sizeof(*t);
}

/* Bytes a record could give to a new entry (it keeps its own name). */
static unsigned int slot_room(const struct ext2_dir_entry *de,
			      unsigned int rl)
{
	if (!de->inode)
		return rl;
	return rl - EXT2_DIR_REC_LEN(ext2fs_dirent_name_len(de));
}

/*
 * Find a record of the block with room for need bytes: its offset, or -1.
 * With need 0, *room gets the largest room of any record instead.
 */
static int block_find_room(struct e2fs *e2, char *buf, unsigned int need,
			   unsigned int *room)
{
	unsigned int limit = block_limit(e2, buf), off = 0, rl, r;

	*room = 0;
	while (off < limit) {
		if (dirent_check(e2, buf, off, &rl) || off + rl > limit) {
			*room = 0;	/* damaged: do not add here */
			return -1;
		}
		r = slot_room((struct ext2_dir_entry *)(buf + off), rl);
		if (need && r >= need)
			return (int)off;
		if (r > *room)
			*room = r;
		off += rl;
	}
	return -1;
}

static unsigned int block_room(struct e2fs *e2, char *buf)
{
	unsigned int room;

	block_find_room(e2, buf, 0, &room);
	return room;
}

/* ------------------------------------------------------------------------
 * The name table: every name of a directory -> inode and position
 */

struct dent {
	struct dent *next;
	uint64_t pos;		/* byte position of the entry in the directory */
	ext2_ino_t ino;
	uint8_t len;
	char name[];
};

struct e2_dcache {
	size_t nb, n;
	struct dent **b;
	bool pos_ok;		/* every dent.pos and room[] is exact */
	uint64_t nblk;
	uint32_t *room;		/* per block: largest record that fits */
};

static uint32_t name_hash(const char *name, size_t len)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ (uint8_t)name[i]) * 16777619u;
	return h;
}

static struct dent **dc_slot(struct e2_dcache *dc, const char *name,
			     size_t len)
{
	struct dent **p = &dc->b[name_hash(name, len) & (dc->nb - 1)];

	for (; *p; p = &(*p)->next)
		if ((*p)->len == len && !memcmp((*p)->name, name, len))
			break;
	return p;
}

static void dc_grow(struct e2_dcache *dc)
{
	size_t i, nb = dc->nb * 4;
	struct dent **b = calloc(nb, sizeof(*b)), *d, *next;

	if (!b)
		return;
	for (i = 0; i < dc->nb; i++)
		for (d = dc->b[i]; d; d = next) {
			next = d->next;
			d->next = b[name_hash(d->name, d->len) & (nb - 1)];
			b[name_hash(d->name, d->len) & (nb - 1)] = d;
		}
	free(dc->b);
	dc->b = b;
	dc->nb = nb;
}

static int dc_add(struct e2_dcache *dc, const char *name, size_t len,
		  ext2_ino_t ino, uint64_t pos)
{
	struct dent **p = dc_slot(dc, name, len), *d;

	if (*p) {		/* a duplicate on disk: first one wins */
		return 0;
	}
	d = malloc(sizeof(*d) + len);
	if (!d)
		return -ENOMEM;
	d->next = NULL;
	d->pos = pos;
	d->ino = ino;
	d->len = (uint8_t)len;
	memcpy(d->name, name, len);
	*p = d;
	if (++dc->n > dc->nb * 2)
		dc_grow(dc);
	return 0;
}

static void dc_del(struct e2_dcache *dc, const char *name)
{
	struct dent **p = dc_slot(dc, name, strlen(name)), *d = *p;

	if (d) {
		*p = d->next;
		free(d);
		dc->n--;
	}
}

void e2_dcache_free(struct e2_node *dir)
{
	struct e2_dcache *dc = dir->dc;
	size_t i;

	if (!dc)
		return;
	for (i = 0; i < dc->nb; i++)
		while (dc->b[i]) {
			struct dent *d = dc->b[i];

			dc->b[i] = d->next;
			free(d);
		}
	free(dc->b);
	free(dc->room);
	free(dc);
	dir->dc = NULL;
}

static int dc_fill(struct ext2_dir_entry *de, uint64_t pos, uint64_t next,
		   void *arg)
{
	return dc_add(arg, de->name, (size_t)ext2fs_dirent_name_len(de),
		      de->inode, pos);
}

/* Names and room of every block, in one pass over the directory. */
static int dc_scan(struct e2fs *e2, struct e2_node *dir, struct e2_dcache *dc)
{
	char *buf = malloc(e2->bs);
	blk64_t lblk, pblk;
	int err = 0;

	if (!buf)
		return -ENOMEM;
	for (lblk = 0; lblk < dc->nblk && !err; lblk++) {
		err = dir_block_read(e2, dir, lblk, buf, &pblk);
		if (err == 1) {
			err = 0;	/* a hole: no names, no room */
			continue;
		}
		if (!err)
			err = walk_block(e2, buf, lblk * e2->bs, 0, dc_fill,
					 dc);
		if (!err)
			dc->room[lblk] = block_room(e2, buf);
	}
	free(buf);
	return err;
}

static int dc_build(struct e2fs *e2, struct e2_node *dir)
{
	struct e2_dcache *dc = calloc(1, sizeof(*dc));
	int err;

	if (!dc)
		return -ENOMEM;
	dir->dc = dc;
	if (dir->inode.i_flags & EXT4_INLINE_DATA_FL) {
		e2_dcache_free(dir);
		return -EOPNOTSUPP;
	}
	dc->nb = 16;
	dc->nblk = dir_nblocks(e2, dir);
	dc->b = calloc(dc->nb, sizeof(*dc->b));
	dc->room = calloc(dc->nblk ? dc->nblk : 1, sizeof(*dc->room));
	err = dc->b && dc->room ? dc_scan(e2, dir, dc) : -ENOMEM;
	if (err) {
		e2_dcache_free(dir);
		return err;
	}
	dc->pos_ok = true;
	return 0;
}

/* The table of dir, built if need be. */
static int dc_get(struct e2fs *e2, struct e2_node *dir,
		  struct e2_dcache **out)
{
	int err = 0;

	if (!dir->dc)
		err = dc_build(e2, dir);
	*out = dir->dc;
	return err;
}

/* ------------------------------------------------------------------------
 * Lookup
 */

int e2_dir_lookup(struct e2fs *e2, struct e2_node *dir, const char *name,
		  ext2_ino_t *ino)
{
	size_t len = strlen(name);
	struct e2_dcache *dc;
	struct dent *d;
	int err;

	if (len > EXT2_NAME_LEN)
		return -ENAMETOOLONG;
	err = dc_get(e2, dir, &dc);
	if (err)
		return err;
	d = *dc_slot(dc, name, len);
	if (!d)
		return -ENOENT;
	*ino = d->ino;
	return 0;
}

static int file_type(struct e2fs *e2, mode_t mode)
{
	if (!ext2fs_has_feature_filetype(e2->fs->super))
		return EXT2_FT_UNKNOWN;
	switch (mode & S_IFMT) {
	case S_IFREG: return EXT2_FT_REG_FILE;
	case S_IFDIR: return EXT2_FT_DIR;
	case S_IFCHR: return EXT2_FT_CHRDEV;
	case S_IFBLK: return EXT2_FT_BLKDEV;
	case S_IFIFO: return EXT2_FT_FIFO;
	case S_IFSOCK: return EXT2_FT_SOCK;
	case S_IFLNK: return EXT2_FT_SYMLINK;
	default: return EXT2_FT_UNKNOWN;
	}
}

static void dir_touch(struct e2fs *e2, struct e2_node *dir)
{
	e2_touch(dir, E2_MTIME | E2_CTIME);
}

/* ------------------------------------------------------------------------
 * Editing one block in place
 */

/* A directory block read for editing. */
struct dblk {
	blk64_t lblk, pblk;
	char *buf;
};

static int dblk_read(struct e2fs *e2, struct e2_node *dir, blk64_t lblk,
		     struct dblk *b)
{
	int err;

	b->lblk = lblk;
	b->buf = malloc(e2->bs);
	if (!b->buf)
		return -ENOMEM;
	err = dir_block_read(e2, dir, lblk, b->buf, &b->pblk);
	if (err == 1)
		err = -EUCLEAN;	/* the table points into a hole */
	if (err) {
		free(b->buf);
		b->buf = NULL;
	}
	return err;
}

/* Write it back (with its checksum) and note its room; frees the buffer. */
static int dblk_write(struct e2fs *e2, struct e2_node *dir, struct dblk *b)
{
	int err = e2_err(ext2fs_write_dir_block4(e2->fs, b->pblk, b->buf, 0,
						 dir->ino));

	if (!err && dir->dc && b->lblk < dir->dc->nblk)
		dir->dc->room[b->lblk] = block_room(e2, b->buf);
	free(b->buf);
	b->buf = NULL;
	return err;
}

/*
 * The entry d of the table, in its block: the offsets of the record and of
 * the one before it (-1 for the first of the block).  -ESTALE when the
 * block does not hold that entry there.
 */
static int dblk_find(struct e2fs *e2, struct dblk *b, const struct dent *d,
		     unsigned int *off, int *prev)
{
	unsigned int want = (unsigned int)(d->pos % e2->bs), o = 0, rl;
	struct ext2_dir_entry *de;

	*prev = -1;
	while (o < want) {
		if (dirent_check(e2, b->buf, o, &rl))
			return -EUCLEAN;
		*prev = (int)o;
		o += rl;
	}
	de = (struct ext2_dir_entry *)(b->buf + want);
	if (o != want || dirent_check(e2, b->buf, o, &rl) ||
	    de->inode != d->ino ||
	    (unsigned int)ext2fs_dirent_name_len(de) != d->len ||
	    memcmp(de->name, d->name, d->len))
		return -ESTALE;
	*off = want;
	return 0;
}

/* Fill the record at off with a new entry, splitting off its free tail. */
static unsigned int slot_fill(struct e2fs *e2, char *buf, unsigned int off,
			      const char *name, size_t len, ext2_ino_t ino,
			      int ft)
{
	struct ext2_dir_entry *de = (struct ext2_dir_entry *)(buf + off);
	unsigned int rl, used;

	ext2fs_get_rec_len(e2->fs, de, &rl);
	if (de->inode) {
		/* keep the old entry, the new one takes the rest */
		used = EXT2_DIR_REC_LEN(ext2fs_dirent_name_len(de));
		ext2fs_set_rec_len(e2->fs, used, de);
		off += used;
		rl -= used;
		de = (struct ext2_dir_entry *)(buf + off);
	}
	de->inode = ino;
	ext2fs_dirent_set_name_len(de, (int)len);
	ext2fs_dirent_set_file_type(de, ft);
	ext2fs_set_rec_len(e2->fs, rl, de);
	memcpy(de->name, name, len);
	return off;
}

/* ------------------------------------------------------------------------
 * Adding a name
 */

/* Append an empty block to the directory and to the table's room. */
static int dir_grow(struct e2fs *e2, struct e2_node *dir,
		    struct e2_dcache *dc)
{
	uint64_t nblk;
	uint32_t *room;
	int err;

	err = e2_err(ext2fs_expand_dir(e2->fs, dir->ino));
	/* expand_dir rewrote the directory inode */
	err = e2_node_reload(e2, dir) ?: err;
	if (err)
		return err;
	nblk = dir_nblocks(e2, dir);
	room = realloc(dc->room, (nblk ? nblk : 1) * sizeof(*room));
	if (!room)
		return -ENOMEM;
	while (dc->nblk < nblk)
		room[dc->nblk++] = e2->bs;	/* refined on first use */
	dc->room = room;
	return 0;
}

/* Put the entry in block lblk if a record has room: 1 if it had none. */
static int add_in_block(struct e2fs *e2, struct e2_node *dir, blk64_t lblk,
			const char *name, size_t len, ext2_ino_t ino, int ft)
{
	struct e2_dcache *dc = dir->dc;
	unsigned int room, off;
	struct dblk b;
	int slot, err;

	err = dblk_read(e2, dir, lblk, &b);
	if (err)
		return err;
	slot = block_find_room(e2, b.buf, EXT2_DIR_REC_LEN(len), &room);
	if (slot < 0) {
		dc->room[lblk] = room;	/* the hint was stale */
		free(b.buf);
		return 1;
	}
	off = slot_fill(e2, b.buf, (unsigned int)slot, name, len, ino, ft);
	err = dblk_write(e2, dir, &b);
	if (err)
		return err;
	if (dc_add(dc, name, len, ino, lblk * e2->bs + off))
		e2_dcache_free(dir);	/* rebuilt on the next lookup */
	return 0;
}

/*
 * A new name in a linear directory: the first block with room (from the
 * table's per-block room, no reads), else a new block at the end.
 */
static int add_linear(struct e2fs *e2, struct e2_node *dir,
		      struct e2_dcache *dc, const char *name, ext2_ino_t ino,
		      int ft)
{
	size_t len = strlen(name);
	unsigned int need = EXT2_DIR_REC_LEN(len);
	uint64_t lblk;
	int err = 1;

	for (lblk = 0; lblk < dc->nblk && err == 1; lblk++)
		if (dc->room[lblk] >= need)
			err = add_in_block(e2, dir, lblk, name, len, ino, ft);
	if (err != 1)
		return err;
	err = dir_grow(e2, dir, dc);
	if (!err)
		err = add_in_block(e2, dir, dc->nblk - 1, name, len, ino, ft);
	return err == 1 ? -ENOSPC : err;
}

/*
 * Write out what libext2fs's directory calls left dirty in the io cache.
 * e2fsprogs 1.47's htree insert builds directory blocks in malloc()ed
 * buffers whose slack it never initialises; flushed later, those bytes
 * would reach pwrite() from whatever call next needs a cache slot, where
 * valgrind cannot tell them from a bug of ours.  Flushed here, they are
 * written from this one frame, which tests/unit/valgrind.supp names.  It
 * costs a write of the few dirty cached blocks per insert or removal in an
 * indexed directory (uvfs never builds an index itself).
 */
static __attribute__((noinline)) int lib_dir_flush(struct e2fs *e2)
{
	return e2_err(io_channel_flush(e2->fs->io));
}

/* A new name through libext2fs (indexed directories). */
static int add_lib(struct e2fs *e2, struct e2_node *dir, const char *name,
		   ext2_ino_t ino, int ft)
{
	errcode_t rc;
	int err;

	rc = ext2fs_link(e2->fs, dir->ino, name, ino, ft);
	if (rc == EXT2_ET_DIR_NO_SPACE) {
		/* Adding a block outside the index would break it: drop
		 * the index (e2fsck -D or the kernel can rebuild it). */
		if (dir->inode.i_flags & EXT2_INDEX_FL) {
			dir->inode.i_flags &= ~EXT2_INDEX_FL;
			err = e2_node_write(e2, dir);
			if (err)
				return err;
		}
		rc = ext2fs_expand_dir(e2->fs, dir->ino);
		if (!rc)
			rc = ext2fs_link(e2->fs, dir->ino, name, ino, ft);
	}
	/* link and expand_dir may both have rewritten the directory inode */
	err = e2_node_reload(e2, dir);
	if (rc)
		return e2_err(rc);
	if (err)
		return err;
	if (!(dir->inode.i_flags & EXT2_INDEX_FL)) {
		/* linear now: one rescan gives exact positions again */
		e2_dcache_free(dir);
	} else if (dir->dc) {
		dir->dc->pos_ok = false;	/* a leaf split moves entries */
		if (dc_add(dir->dc, name, strlen(name), ino, UINT64_MAX))
			e2_dcache_free(dir);
	}
	return lib_dir_flush(e2);
}

int e2_dir_add(struct e2fs *e2, struct e2_node *dir, const char *name,
	       ext2_ino_t ino, mode_t mode)
{
	struct e2_dcache *dc;
	int err;

	if (strlen(name) > EXT2_NAME_LEN)
		return -ENAMETOOLONG;
	if (dir->inode.i_flags & EXT4_INLINE_DATA_FL)
		return -EOPNOTSUPP;
	err = dc_get(e2, dir, &dc);
	if (err)
		return err;
	if (dc->pos_ok && !(dir->inode.i_flags & EXT2_INDEX_FL))
		err = add_linear(e2, dir, dc, name, ino, file_type(e2, mode));
	else
		err = add_lib(e2, dir, name, ino, file_type(e2, mode));
	if (err)
		return err;
	dir_touch(e2, dir);
	return e2_node_write(e2, dir);
}

/* ------------------------------------------------------------------------
 * Removing and repointing a name
 */

/*
 * The table's entry for name with its block read, when positions can be
 * trusted: 0, 1 if the caller must go through libext2fs, or -errno.
 */
static int entry_block(struct e2fs *e2, struct e2_node *dir, const char *name,
		       struct dent **d, struct dblk *b, unsigned int *off,
		       int *prev)
{
	struct e2_dcache *dc;
	int err = dc_get(e2, dir, &dc);

	b->buf = NULL;
	if (err)
		return err;
	*d = *dc_slot(dc, name, strlen(name));
	if (!*d)
		return -ENOENT;
	if (!dc->pos_ok || (*d)->pos / e2->bs >= dc->nblk)
		return 1;
	err = dblk_read(e2, dir, (*d)->pos / e2->bs, b);
	if (!err)
		err = dblk_find(e2, b, *d, off, prev);
	if (err == -ESTALE) {
		/* not where the table says: it was wrong, start over */
		free(b->buf);
		e2_dcache_free(dir);
		return 1;
	}
	if (err)
		free(b->buf);
	return err;
}

/* Merge the record into the one before it, as the kernel does. */
static void slot_clear(struct e2fs *e2, char *buf, unsigned int off,
		       int prev)
{
	struct ext2_dir_entry *de = (struct ext2_dir_entry *)(buf + off);
	struct ext2_dir_entry *pd = (struct ext2_dir_entry *)(buf + prev);
	unsigned int rl, prl;

	if (prev < 0) {
		de->inode = 0;	/* first of its block: just unused */
		return;
	}
	ext2fs_get_rec_len(e2->fs, de, &rl);
	ext2fs_get_rec_len(e2->fs, pd, &prl);
	ext2fs_set_rec_len(e2->fs, prl + rl, pd);
}

static int remove_lib(struct e2fs *e2, struct e2_node *dir, const char *name)
{
	errcode_t rc = ext2fs_unlink(e2->fs, dir->ino, name, 0, 0);

	if (rc)
		return e2_err(rc);
	if (dir->dc)
		dc_del(dir->dc, name);
	return lib_dir_flush(e2);
}

int e2_dir_remove(struct e2fs *e2, struct e2_node *dir, const char *name)
{
	unsigned int off;
	struct dent *d;
	struct dblk b;
	int prev, err;

	err = entry_block(e2, dir, name, &d, &b, &off, &prev);
	if (err == 1) {
		err = remove_lib(e2, dir, name);
	} else if (!err) {
		slot_clear(e2, b.buf, off, prev);
		err = dblk_write(e2, dir, &b);
		if (!err)
			dc_del(dir->dc, name);
	}
	if (err)
		return err;
	dir_touch(e2, dir);
	return e2_node_write(e2, dir);
}

struct set_ctx {
	const char *name;
	size_t len;
	ext2_ino_t ino;
	int ftype;
	bool done;
};

static int set_cb(ext2_ino_t dirino, int entry, struct ext2_dir_entry *de,
		  int offset, int blocksize, char *buf, void *arg)
{
	struct set_ctx *c = arg;

	if (!de->inode || (size_t)ext2fs_dirent_name_len(de) != c->len ||
	    memcmp(de->name, c->name, c->len))
		return 0;
	de->inode = c->ino;
	ext2fs_dirent_set_file_type(de, c->ftype);
	c->done = true;
	return DIRENT_CHANGED | DIRENT_ABORT;
}

static int set_lib(struct e2fs *e2, struct e2_node *dir, struct set_ctx *c)
{
	struct dent *d;
	errcode_t rc;

	rc = ext2fs_dir_iterate2(e2->fs, dir->ino, 0, NULL, set_cb, c);
	if (rc)
		return e2_err(rc);
	if (!c->done)
		return -ENOENT;
	d = dir->dc ? *dc_slot(dir->dc, c->name, c->len) : NULL;
	if (d)
		d->ino = c->ino;
	return 0;
}

int e2_dir_set(struct e2fs *e2, struct e2_node *dir, const char *name,
	       ext2_ino_t ino, mode_t mode)
{
	struct set_ctx c = { name, strlen(name), ino, file_type(e2, mode),
			     false };
	struct ext2_dir_entry *de;
	unsigned int off;
	struct dent *d;
	struct dblk b;
	int prev, err;

	err = entry_block(e2, dir, name, &d, &b, &off, &prev);
	if (err == 1)
		return set_lib(e2, dir, &c);
	if (err)
		return err;
	de = (struct ext2_dir_entry *)(b.buf + off);
	de->inode = ino;
	ext2fs_dirent_set_file_type(de, c.ftype);
	err = dblk_write(e2, dir, &b);
	if (!err)
		d->ino = ino;	/* same name, same place */
	return err;
}

static int empty_cb(struct ext2_dir_entry *de, uint64_t pos, uint64_t next,
		    void *arg)
{
	int len = ext2fs_dirent_name_len(de);

	if ((len == 1 && de->name[0] == '.') ||
	    (len == 2 && de->name[0] == '.' && de->name[1] == '.'))
		return 0;
	return 1;
}

/* 1 if empty, 0 if not, or -errno. */
int e2_dir_is_empty(struct e2fs *e2, struct e2_node *dir)
{
	int err = dir_walk(e2, dir, 0, empty_cb, NULL);

	if (err < 0)
		return err;
	return err == 0;
}

/* The first block of a new directory, holding "." and "..". */
int e2_new_dir_block(struct e2fs *e2, struct e2_node *dir, ext2_ino_t parent)
{
	ext2_filsys fs = e2->fs;
	char *buf = NULL;
	blk64_t blk, goal;
	int err;

	goal = ext2fs_find_inode_goal(fs, dir->ino, e2_small(dir), 0);
	err = e2_err(ext2fs_new_block2(fs, goal, NULL, &blk));
	if (err)
		return err;
	err = e2_err(ext2fs_new_dir_block(fs, dir->ino, parent, &buf));
	if (!err)
		err = e2_err(ext2fs_write_dir_block4(fs, blk, buf, 0,
						     dir->ino));
	ext2fs_free_mem(&buf);
	if (err)
		return err;
	ext2fs_block_alloc_stats2(fs, blk, +1);
	if (dir->inode.i_flags & EXT4_EXTENTS_FL) {
		ext2_extent_handle_t h;

		err = e2_err(ext2fs_extent_open2(fs, dir->ino, e2_small(dir),
						 &h));
		if (!err) {
			err = e2_err(ext2fs_extent_set_bmap(h, 0, blk, 0));
			ext2fs_extent_free(h);
		}
	} else {
		dir->inode.i_block[0] = (uint32_t)blk;
	}
	if (err) {
		ext2fs_block_alloc_stats2(fs, blk, -1);
		return err;
	}
	ext2fs_iblk_add_blocks(fs, e2_small(dir), 1);
	return e2_set_size(e2, dir, e2->bs);
}

/* ------------------------------------------------------------------------
 * readdir
 */

struct rd_ctx {
	struct e2fs *e2;
	struct e2_node *dir;
	char *buf;
	size_t size, used;
	bool plus;
	int err;
};

static mode_t ftype_mode(int ft)
{
	switch (ft) {
	case EXT2_FT_REG_FILE: return S_IFREG;
	case EXT2_FT_DIR: return S_IFDIR;
	case EXT2_FT_CHRDEV: return S_IFCHR;
	case EXT2_FT_BLKDEV: return S_IFBLK;
	case EXT2_FT_FIFO: return S_IFIFO;
	case EXT2_FT_SOCK: return S_IFSOCK;
	case EXT2_FT_SYMLINK: return S_IFLNK;
	default: return 0;
	}
}

static bool is_dot(const char *name)
{
	return !strcmp(name, ".") || !strcmp(name, "..");
}

/* One record; 1 when the buffer is full. */
static int rd_emit(struct rd_ctx *c, const char *name, ext2_ino_t ino,
		   int ft, uint64_t next)
{
	struct uvfs_entry e;
	struct e2_node *n = NULL;
	size_t len;

	memset(&e, 0, sizeof(e));
	e.ino = e2_nodeid(ino);
	e.attr.st_ino = (ino_t)e.ino;
	e.attr.st_mode = ftype_mode(ft);
	if (c->plus && !is_dot(name)) {
		int err = e2_node_get(c->e2, ino, &n);

		if (err)
			return 0;	/* damaged: leave it out */
		e2_entry(c->e2, n, &e);
	}
	if (c->plus)
		len = uvfs_add_direntplus(c->buf + c->used, c->size - c->used,
					  name, &e, (off_t)next);
	else
		len = uvfs_add_dirent(c->buf + c->used, c->size - c->used,
				      name, &e.attr, (off_t)next);
	if (len > c->size - c->used)
		return 1;
	c->used += len;
	if (n)
		n->nlookup++;	/* like a lookup, except "." and ".." */
	return 0;
}

static int rd_cb(struct ext2_dir_entry *de, uint64_t pos, uint64_t next,
		 void *arg)
{
	struct rd_ctx *c = arg;
	char name[EXT2_NAME_LEN + 1];
	int len = ext2fs_dirent_name_len(de);

	if (!e2_ino_valid(c->e2, de->inode))
		return 0;	/* garbage inode number: skip the entry */
	memcpy(name, de->name, (size_t)len);
	name[len] = '\0';
	if (memchr(name, '/', (size_t)len))
		return 0;
	return rd_emit(c, name, de->inode, ext2fs_dirent_file_type(de), next);
}

static void do_readdir(struct uvfs_req *req, uint64_t nodeid, size_t size,
		       off_t off, bool plus)
{
	struct e2fs *e2 = uvfs_req_priv(req);
	struct rd_ctx c = { .e2 = e2, .size = size, .plus = plus };
	char *heap = NULL;
	int err;

	pthread_mutex_lock(&e2->lock);
	err = e2_node_get_id(e2, nodeid, &c.dir);
	if (!err && !LINUX_S_ISDIR(c.dir->inode.i_mode))
		err = -ENOTDIR;
	if (err)
		goto out;
	c.buf = uvfs_req_outbuf(req, size);
	if (!c.buf)
		c.buf = heap = malloc(size ? size : 1);
	if (!c.buf) {
		err = -ENOMEM;
		goto out;
	}
	err = dir_walk(e2, c.dir, off < 0 ? 0 : (uint64_t)off, rd_cb, &c);
	/* A damaged block after some entries: hand out what we have. */
	if (err >= 0 || c.used)
		err = 0;
out:
	if (err)
		e2_reply_err(req, err);
	else
		uvfs_reply_buf(req, c.buf, c.used);
	free(heap);
	pthread_mutex_unlock(&e2->lock);
}

void ext2_readdir(struct uvfs_req *req, uint64_t ino, size_t size, off_t off,
		  struct uvfs_file_info *fi)
{
	do_readdir(req, ino, size, off, false);
}

void ext2_readdirplus(struct uvfs_req *req, uint64_t ino, size_t size,
		      off_t off, struct uvfs_file_info *fi)
{
	do_readdir(req, ino, size, off, true);
}
