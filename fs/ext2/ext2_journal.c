// SPDX-License-Identifier: MIT
/*
 * ext2: replaying an ext3/ext4 (JBD2) journal before a read-write mount,
 * as the kernel and e2fsck do when the superblock says "needs recovery".
 *
 * The journal is a circular log in an inode: a superblock, then from
 * s_start on, transactions of sequence s_sequence, s_sequence + 1, ...
 * each made of descriptor blocks (tags naming the filesystem block each
 * following journal block is a copy of), revoke blocks (blocks whose
 * earlier copies must not be replayed) and a commit block.  The log ends
 * at the first block that is not the next one expected (another magic or
 * sequence): a transaction without its commit block never happened.
 *
 * We scan the whole log first and check everything we will rely on: the
 * journal superblock, every checksum the journal's features define, every
 * target block inside the filesystem, every tag and revoke record inside
 * its block, no walk longer than the log.  Anything wrong refuses the
 * mount with one line, before a single byte of the image was written.
 * Only then are the committed transactions' blocks written, in order and
 * unless revoked by the same or a later transaction, then synced, and the
 * journal marked empty.  Clearing the superblock's needs-recovery flag is
 * the caller's (after it reopened the replayed image).
 *
 * Fast commits (a newer, incremental log after the JBD2 one) are not
 * replayed: an image with them is refused with a line saying so.  The
 * journal is read and written through the image descriptor, never through
 * libext2fs, whose only use here is mapping the journal inode's blocks.
 */
#include <endian.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ext2_i.h"

#define JBD2_MAGIC 0xc03b3998U
#define JBD2_DESCRIPTOR 1
#define JBD2_COMMIT 2
#define JBD2_SB_V1 3
#define JBD2_SB_V2 4
#define JBD2_REVOKE 5

#define JBD2_COMPAT_CHECKSUM 0x1
#define JBD2_INCOMPAT_REVOKE 0x1
#define JBD2_INCOMPAT_64BIT 0x2
#define JBD2_INCOMPAT_ASYNC_COMMIT 0x4
#define JBD2_INCOMPAT_CSUM_V2 0x8
#define JBD2_INCOMPAT_CSUM_V3 0x10
#define JBD2_INCOMPAT_FAST_COMMIT 0x20
#define JBD2_INCOMPAT_KNOWN 0x3f

#define JBD2_CRC32C 4		/* s_checksum_type */

#define TAG_ESCAPE 0x1		/* the block began with the magic: restore */
#define TAG_SAME_UUID 0x2	/* no UUID follows the tag */
#define TAG_LAST 0x8

/* Offsets in the journal superblock (big-endian fields). */
#define JSB_BLOCKSIZE 12
#define JSB_MAXLEN 16
#define JSB_FIRST 20
#define JSB_SEQUENCE 24
#define JSB_START 28
#define JSB_COMPAT 36
#define JSB_INCOMPAT 40
#define JSB_UUID 48
#define JSB_CSUM_TYPE 80
#define JSB_CHECKSUM 252
#define JSB_SIZE 1024

#define HDR_SIZE 12		/* magic, block type, sequence */
#define COMMIT_CSUM 16		/* h_chksum[0] of a commit block */
#define REVOKE_COUNT 12		/* r_count: bytes used, header included */

struct jtag {
	uint32_t pos;		/* journal block holding the copy */
	uint32_t flags;
	uint32_t csum;		/* of the copy (checksum v2: 16 bits) */
	uint64_t target;	/* filesystem block */
};

struct jtrans {
	uint32_t seq;
	size_t first, ntags;	/* in jr.tags */
};

struct jrevoke {
	uint64_t block;
	uint32_t seq;		/* the transaction that revoked it */
};

struct jr {
	const struct uvfs_mount_args *args;
	int fd;
	uint64_t off;		/* where the filesystem starts in fd */
	unsigned int bs;
	uint64_t fs_blocks;
	uint64_t *map;		/* journal block -> filesystem block */
	uint32_t nmap;
	unsigned char jsb[JSB_SIZE];
	uint32_t maxlen, first, incompat;
	bool csum;		/* CSUM_V2 or V3 */
	uint32_t seed;		/* crc32c of the journal's UUID */
	unsigned char *buf, *data;	/* two blocks */
	struct jtag *tags;
	size_t ntags, captags;
	struct jtrans *trans;
	size_t ntrans, captrans;
	struct jrevoke *revokes;
	size_t nrevokes, caprevokes;
};

static uint32_t be32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return be32toh(v);
}

static uint16_t be16(const unsigned char *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return be16toh(v);
}

static void put_be32(unsigned char *p, uint32_t v)
{
	v = htobe32(v);
	memcpy(p, &v, 4);
}

static uint32_t crc(uint32_t seed, const void *p, size_t len)
{
	return ext2fs_crc32c_le(seed, p, len);
}

static int refuse(struct jr *jr, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* One line: why the journal is not replayed (the image is untouched). */
static int refuse(struct jr *jr, int err, const char *fmt, ...)
{
	char what[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	MOUNT_ERR(jr->args, "ext2: %s: the journal cannot be replayed: %s; "
		  "run e2fsck", jr->args->source, what);
	return err;
}

static int grow(void **arr, size_t *cap, size_t n, size_t size)
{
	void *p;
	size_t want;

	if (n < *cap)
		return 0;
	want = *cap ? *cap * 2 : 64;
	p = realloc(*arr, want * size);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = want;
	return 0;
}

/* Journal block pos into buf. */
static int jread(struct jr *jr, uint32_t pos, unsigned char *buf)
{
	ssize_t n;

	if (pos >= jr->nmap || !jr->map[pos])
		return refuse(jr, -EUCLEAN, "journal block %u is not mapped",
			      pos);
	n = pread(jr->fd, buf, jr->bs,
		  (off_t)(jr->off + jr->map[pos] * jr->bs));
	if (n != (ssize_t)jr->bs)
		return refuse(jr, n < 0 ? -errno : -EIO,
			      "cannot read journal block %u", pos);
	return 0;
}

/* The next journal block after pos, wrapping to s_first. */
static uint32_t jnext(const struct jr *jr, uint32_t pos)
{
	return pos + 1 >= jr->maxlen ? jr->first : pos + 1;
}

/* ---- mapping the journal inode ---- */

static int map_block(ext2_filsys fs, blk64_t *blocknr, e2_blkcnt_t blockcnt,
		     blk64_t ref_blk, int ref_offset, void *priv)
{
	struct jr *jr = priv;

	(void)fs;
	(void)ref_blk;
	(void)ref_offset;
	if (blockcnt >= 0 && (uint64_t)blockcnt < jr->nmap)
		jr->map[blockcnt] = *blocknr;
	return 0;
}

static int map_journal(struct jr *jr, const struct e2_mount_opts *mo,
		       const struct ext2_super_block *sb)
{
	struct ext2_inode inode;
	ext2_filsys fs = NULL;
	char io_opts[64];
	uint64_t size;
	errcode_t rc;
	int err = 0;

	if (sb->s_journal_dev || !sb->s_journal_inum)
		return refuse(jr, -EOPNOTSUPP, "the journal is on another "
			      "device");
	snprintf(io_opts, sizeof(io_opts), "offset=%llu",
		 (unsigned long long)mo->offset);
	rc = ext2fs_open2(jr->args->source, mo->offset ? io_opts : NULL,
			  EXT2_FLAG_64BITS, 0, 0, unix_io_manager, &fs);
	if (rc)
		return refuse(jr, e2_err(rc), "cannot open the filesystem to "
			      "find the journal");
	rc = ext2fs_read_inode(fs, sb->s_journal_inum, &inode);
	if (rc) {
		err = refuse(jr, e2_err(rc), "cannot read journal inode %u",
			     sb->s_journal_inum);
		goto out;
	}
	size = EXT2_I_SIZE(&inode);
	if (size / jr->bs < 2 || size / jr->bs > UINT32_MAX) {
		err = refuse(jr, -EUCLEAN, "journal inode of %llu bytes",
			     (unsigned long long)size);
		goto out;
	}
	jr->nmap = (uint32_t)(size / jr->bs);
	jr->map = calloc(jr->nmap, sizeof(*jr->map));
	if (!jr->map) {
		err = -ENOMEM;
		goto out;
	}
	rc = ext2fs_block_iterate3(fs, sb->s_journal_inum, BLOCK_FLAG_READ_ONLY |
				   BLOCK_FLAG_DATA_ONLY, NULL, map_block, jr);
	if (rc)
		err = refuse(jr, e2_err(rc), "cannot map the journal inode");
out:
	ext2fs_close_free(&fs);
	return err;
}

/* ---- the journal superblock ---- */

static int check_jsb(struct jr *jr)
{
	unsigned char *b = jr->jsb;
	uint32_t type, sum;
	int err;

	err = jread(jr, 0, jr->buf);
	if (err)
		return err;
	memcpy(b, jr->buf, JSB_SIZE);
	type = be32(b + 4);
	if (be32(b) != JBD2_MAGIC || (type != JBD2_SB_V1 && type != JBD2_SB_V2))
		return refuse(jr, -EUCLEAN, "bad journal superblock magic");
	if (be32(b + JSB_BLOCKSIZE) != jr->bs)
		return refuse(jr, -EUCLEAN, "journal block size %u differs "
			      "from the filesystem's", be32(b + JSB_BLOCKSIZE));
	jr->maxlen = be32(b + JSB_MAXLEN);
	jr->first = be32(b + JSB_FIRST);
	if (jr->maxlen > jr->nmap || jr->first < 1 || jr->first >= jr->maxlen)
		return refuse(jr, -EUCLEAN, "journal geometry (length %u) "
			      "does not fit its inode", jr->maxlen);
	if (type == JBD2_SB_V1)
		return 0;
	jr->incompat = be32(b + JSB_INCOMPAT);
	if (jr->incompat & ~JBD2_INCOMPAT_KNOWN)
		return refuse(jr, -EOPNOTSUPP, "unknown journal features "
			      "0x%x", jr->incompat & ~JBD2_INCOMPAT_KNOWN);
	if (jr->incompat & JBD2_INCOMPAT_FAST_COMMIT)
		return refuse(jr, -EOPNOTSUPP, "it has fast commits, which "
			      "uvfs does not replay");
	jr->csum = jr->incompat & (JBD2_INCOMPAT_CSUM_V2 |
				   JBD2_INCOMPAT_CSUM_V3);
	if (!jr->csum)
		return 0;
	if (b[JSB_CSUM_TYPE] != JBD2_CRC32C)
		return refuse(jr, -EUCLEAN, "unknown journal checksum type "
			      "%u", b[JSB_CSUM_TYPE]);
	sum = be32(b + JSB_CHECKSUM);
	put_be32(b + JSB_CHECKSUM, 0);
	if (crc(~0U, b, JSB_SIZE) != sum)
		return refuse(jr, -EUCLEAN, "journal superblock checksum "
			      "mismatch");
	put_be32(b + JSB_CHECKSUM, sum);
	jr->seed = crc(~0U, b + JSB_UUID, 16);
	return 0;
}

/* ---- the scan ---- */

/* A descriptor or revoke block's tail checksum (CSUM_V2/V3). */
static bool tail_ok(struct jr *jr, unsigned char *b)
{
	uint32_t sum = be32(b + jr->bs - 4);
	bool ok;

	put_be32(b + jr->bs - 4, 0);
	ok = crc(jr->seed, b, jr->bs) == sum;
	put_be32(b + jr->bs - 4, sum);
	return ok;
}

static bool commit_ok(struct jr *jr, unsigned char *b)
{
	uint32_t sum = be32(b + COMMIT_CSUM);
	bool ok;

	put_be32(b + COMMIT_CSUM, 0);
	ok = crc(jr->seed, b, jr->bs) == sum;
	put_be32(b + COMMIT_CSUM, sum);
	return ok;
}

static size_t tag_bytes(const struct jr *jr)
{
	size_t sz = 12;		/* blocknr, checksum(16), flags(16), high */

	if (jr->incompat & JBD2_INCOMPAT_CSUM_V3)
		return 16;
	if (jr->incompat & JBD2_INCOMPAT_CSUM_V2)
		sz += 2;
	return (jr->incompat & JBD2_INCOMPAT_64BIT) ? sz : sz - 4;
}

/* The copy in journal block t->pos against its tag's checksum. */
static int check_data(struct jr *jr, const struct jtag *t, uint32_t seq)
{
	unsigned char s[4];
	uint32_t c;
	int err;

	err = jread(jr, t->pos, jr->data);
	if (err)
		return err;
	put_be32(s, seq);
	c = crc(crc(jr->seed, s, 4), jr->data, jr->bs);
	if (!(jr->incompat & JBD2_INCOMPAT_CSUM_V3))
		c &= 0xffff;	/* v2 keeps the low 16 bits */
	if (t->csum != c)
		return refuse(jr, -EUCLEAN, "checksum mismatch of a block "
			      "in transaction %u", seq);
	return 0;
}

/*
 * A descriptor block in jr->buf: its tags first (each inside the block,
 * each target inside the filesystem), then, with checksums, the copies
 * they describe.  *pos moves to the last copy.
 */
static int scan_descriptor(struct jr *jr, uint32_t *pos, uint32_t seq,
			   uint64_t *walked)
{
	unsigned char *b = jr->buf;
	size_t tb = tag_bytes(jr), end = jr->bs - (jr->csum ? 4 : 0);
	size_t at = HDR_SIZE, first = jr->ntags, i;
	bool v3 = jr->incompat & JBD2_INCOMPAT_CSUM_V3;
	struct jtag *t;
	int err;

	if (jr->csum && !tail_ok(jr, b))
		return refuse(jr, -EUCLEAN, "descriptor block checksum "
			      "mismatch in transaction %u", seq);
	do {
		if (at + tb > end)
			return refuse(jr, -EUCLEAN, "a descriptor block of "
				      "transaction %u runs off its end", seq);
		err = grow((void **)&jr->tags, &jr->captags, jr->ntags,
			   sizeof(*jr->tags));
		if (err)
			return err;
		t = &jr->tags[jr->ntags++];
		t->flags = v3 ? be32(b + at + 4) : be16(b + at + 6);
		t->csum = v3 ? be32(b + at + 12) : be16(b + at + 4);
		t->target = be32(b + at);
		if (jr->incompat & JBD2_INCOMPAT_64BIT)
			t->target |= (uint64_t)be32(b + at + 8) << 32;
		if (t->target >= jr->fs_blocks)
			return refuse(jr, -EUCLEAN, "transaction %u writes a "
				      "block outside the filesystem", seq);
		*pos = jnext(jr, *pos);
		if (++*walked > jr->maxlen)
			return refuse(jr, -EUCLEAN, "the log loops "
				      "(transaction %u)", seq);
		t->pos = *pos;
		at += tb + (t->flags & TAG_SAME_UUID ? 0 : 16);
	} while (!(t->flags & TAG_LAST));
	for (i = first; jr->csum && i < jr->ntags; i++) {
		err = check_data(jr, &jr->tags[i], seq);
		if (err)
			return err;
	}
	return 0;
}

static int scan_revoke(struct jr *jr, uint32_t seq)
{
	unsigned char *b = jr->buf;
	size_t rec = jr->incompat & JBD2_INCOMPAT_64BIT ? 8 : 4;
	size_t end = jr->bs - (jr->csum ? 4 : 0), at, used;
	struct jrevoke *r;
	int err;

	if (jr->csum && !tail_ok(jr, b))
		return refuse(jr, -EUCLEAN, "revoke block checksum mismatch "
			      "in transaction %u", seq);
	used = be32(b + REVOKE_COUNT);
	if (used < 16 || used > end || (used - 16) % rec)
		return refuse(jr, -EUCLEAN, "a revoke block of transaction "
			      "%u runs off its end", seq);
	for (at = 16; at < used; at += rec) {
		err = grow((void **)&jr->revokes, &jr->caprevokes, jr->nrevokes,
			   sizeof(*jr->revokes));
		if (err)
			return err;
		r = &jr->revokes[jr->nrevokes++];
		r->block = rec == 8 ? (uint64_t)be32(b + at) << 32 |
				      be32(b + at + 4) : be32(b + at);
		r->seq = seq;
	}
	return 0;
}

/*
 * Walk the log from s_start: every committed transaction goes into
 * jr->trans with its tags; revoke records of uncommitted ones are dropped.
 * Returns the sequence after the last committed transaction in *end.
 */
static int scan(struct jr *jr, uint32_t *end)
{
	uint32_t pos = be32(jr->jsb + JSB_START);
	uint32_t seq = be32(jr->jsb + JSB_SEQUENCE);
	size_t tag0 = jr->ntags, rev0 = jr->nrevokes;
	uint64_t walked = 0;
	struct jtrans *t;
	int err;

	if (pos < jr->first || pos >= jr->maxlen)
		return refuse(jr, -EUCLEAN, "the log starts at block %u, "
			      "outside the journal", pos);
	for (;;) {
		if (++walked > jr->maxlen)
			return refuse(jr, -EUCLEAN, "the log loops (transaction "
				      "%u)", seq);
		err = jread(jr, pos, jr->buf);
		if (err)
			return err;
		if (be32(jr->buf) != JBD2_MAGIC || be32(jr->buf + 8) != seq)
			break;		/* the end of the log */
		switch (be32(jr->buf + 4)) {
		case JBD2_DESCRIPTOR:
			err = scan_descriptor(jr, &pos, seq, &walked);
			break;
		case JBD2_REVOKE:
			err = scan_revoke(jr, seq);
			break;
		case JBD2_COMMIT:
			if (jr->csum && !commit_ok(jr, jr->buf))
				return refuse(jr, -EUCLEAN, "commit block "
					      "checksum mismatch in "
					      "transaction %u", seq);
			err = grow((void **)&jr->trans, &jr->captrans,
				   jr->ntrans, sizeof(*jr->trans));
			if (err)
				return err;
			t = &jr->trans[jr->ntrans++];
			t->seq = seq;
			t->first = tag0;
			t->ntags = jr->ntags - tag0;
			tag0 = jr->ntags;
			rev0 = jr->nrevokes;
			seq++;
			break;
		default:
			err = 1;	/* not a log block: the end */
			break;
		}
		if (err < 0)
			return err;
		if (err)
			break;
		pos = jnext(jr, pos);
	}
	jr->ntags = tag0;	/* drop the uncommitted transaction */
	jr->nrevokes = rev0;
	*end = seq;
	return 0;
}

/* ---- the replay ---- */

/* Sequence numbers wrap: compare them as the kernel does. */
static int seq_cmp(uint32_t a, uint32_t b)
{
	int32_t d = (int32_t)(a - b);

	return d < 0 ? -1 : d > 0;
}

static int revoke_cmp(const void *a, const void *b)
{
	const struct jrevoke *x = a, *y = b;

	if (x->block != y->block)
		return x->block < y->block ? -1 : 1;
	return seq_cmp(x->seq, y->seq);
}

/* Revoked by transaction seq or a later one?  (revokes sorted) */
static bool revoked(const struct jr *jr, uint64_t block, uint32_t seq)
{
	size_t lo = 0, hi = jr->nrevokes;

	/* the last record of block: the latest transaction revoking it */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (jr->revokes[mid].block <= block)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo > 0 && jr->revokes[lo - 1].block == block &&
	       seq_cmp(jr->revokes[lo - 1].seq, seq) >= 0;
}

static int write_block(struct jr *jr, uint64_t block, const void *buf)
{
	ssize_t n = pwrite(jr->fd, buf, jr->bs,
			   (off_t)(jr->off + block * jr->bs));

	if (n != (ssize_t)jr->bs)
		return refuse(jr, n < 0 ? -errno : -EIO, "cannot write block "
			      "%llu", (unsigned long long)block);
	return 0;
}

static int replay(struct jr *jr, uint32_t end)
{
	size_t i, k;
	int err;

	if (jr->nrevokes)	/* qsort(NULL, 0) is undefined */
		qsort(jr->revokes, jr->nrevokes, sizeof(*jr->revokes),
		      revoke_cmp);
	for (i = 0; i < jr->ntrans; i++) {
		const struct jtrans *t = &jr->trans[i];

		for (k = t->first; k < t->first + t->ntags; k++) {
			const struct jtag *tag = &jr->tags[k];

			if (revoked(jr, tag->target, t->seq))
				continue;
			err = jread(jr, tag->pos, jr->data);
			if (err)
				return err;
			if (tag->flags & TAG_ESCAPE)
				put_be32(jr->data, JBD2_MAGIC);
			err = write_block(jr, tag->target, jr->data);
			if (err)
				return err;
		}
	}
	if (fdatasync(jr->fd) < 0)
		return refuse(jr, -errno, "cannot sync the image");
	/* the journal is empty now; the next transaction comes after */
	err = jread(jr, 0, jr->buf);
	if (err)
		return err;
	put_be32(jr->buf + JSB_START, 0);
	put_be32(jr->buf + JSB_SEQUENCE, end + 1);
	if (jr->csum) {
		put_be32(jr->buf + JSB_CHECKSUM, 0);
		put_be32(jr->buf + JSB_CHECKSUM, crc(~0U, jr->buf, JSB_SIZE));
	}
	err = write_block(jr, jr->map[0], jr->buf);
	if (!err && fdatasync(jr->fd) < 0)
		err = refuse(jr, -errno, "cannot sync the image");
	return err;
}

int e2_journal_replay(const struct uvfs_mount_args *args,
		      const struct e2_mount_opts *mo,
		      const struct ext2_super_block *sb, int fd,
		      unsigned int *ntrans)
{
	struct jr jr = {
		.args = args,
		.fd = fd,
		.off = mo->offset,
		.bs = EXT2_MIN_BLOCK_SIZE << sb->s_log_block_size,
		/* ext2fs_blocks_count() only reads, but is not const */
		.fs_blocks = ext2fs_blocks_count((struct ext2_super_block *)sb),
	};
	uint32_t end = 0;
	int err;

	*ntrans = 0;
	jr.buf = malloc(jr.bs);
	jr.data = malloc(jr.bs);
	err = -ENOMEM;
	if (!jr.buf || !jr.data)
		goto out;
	err = map_journal(&jr, mo, sb);
	if (!err)
		err = check_jsb(&jr);
	if (err)
		goto out;
	if (be32(jr.jsb + JSB_START) != 0) {
		err = scan(&jr, &end);
		if (!err)
			err = replay(&jr, end);
		*ntrans = (unsigned int)jr.ntrans;
	}
out:
	if (err == -ENOMEM)
		MOUNT_ERR(args, "ext2: %s: out of memory replaying the journal",
			  args->source);
	free(jr.map);
	free(jr.tags);
	free(jr.trans);
	free(jr.revokes);
	free(jr.buf);
	free(jr.data);
	return err;
}
