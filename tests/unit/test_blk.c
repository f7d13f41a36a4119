// SPDX-License-Identifier: MIT
/*
 * Block devices without a kernel: the block backends (mem, file) and the
 * library's checks of block requests and replies, driven through the
 * direct transport with BLK_* wire requests as uvfs.ko sends them.  Run
 * under valgrind (stage 11) and ASan (stage 12) like every unit test.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "uvfs/libuvfs.h"
#include "check_run.h"

#define KiB 1024u
#define MiB (1024u * 1024u)
#define RBUF_MAX (2 * MiB)

static char rbuf[RBUF_MAX + 64];	/* replies; +64: room to misalign */
static size_t rlen;
static char err[512];
static char tmpdir[] = "/tmp/uvfs-test-blk.XXXXXX";
static char img[sizeof(tmpdir) + 32];

/* ---- one device at a time, through the direct transport ---- */

static struct uvfs_session *se;
static struct uvfs_direct *dx;
static void *handle;

/* Open a device of a session made from be; 0 or open's -errno. */
static int dev_start_be(const struct uvfs_blk_backend *be, const char *src,
			const char *opts, int ro)
{
	struct uvfs_session_opts so = { .backend_opts = opts, .readonly = ro };
	int ret;

	se = uvfs_blk_session_new(be, &so);
	ck_assert_ptr_nonnull(se);
	ret = uvfs_blk_session_open(se, src, err, sizeof(err));
	if (ret) {
		uvfs_session_free(se);
		se = NULL;
		return ret;
	}
	dx = uvfs_direct_new(se);
	ck_assert_ptr_nonnull(dx);
	return 0;
}

/* The same with a plugin, by name. */
static int dev_start(const char *name, const char *src, const char *opts,
		     int ro)
{
	const struct uvfs_blk_backend *be;
	int ret;

	be = uvfs_blk_backend_load(name, &handle, err, sizeof(err));
	ck_assert_msg(be, "%s", err);
	ret = dev_start_be(be, src, opts, ro);
	if (ret) {
		uvfs_backend_unload(handle);
		handle = NULL;
	}
	return ret;
}

static void dev_stop(void)
{
	uvfs_direct_free(dx);
	uvfs_session_free(se);	/* closes the backend */
	uvfs_backend_unload(handle);
	dx = NULL;
	se = NULL;
	handle = NULL;
}

static struct uvfs_blk_geometry geo(void)
{
	struct uvfs_blk_geometry g;

	uvfs_blk_session_geometry(se, &g);
	return g;
}

/* One BLK_* request: the reply lands in out (rbuf if NULL), rlen set. */
static int blk_to(uint32_t op, uint64_t off, uint32_t len, uint32_t flags,
		  const void *data, size_t dlen, void *out, size_t outmax)
{
	struct uvfs_blk_in bi = { off, len, flags };
	struct uvfs_in_header in = { .opcode = op, .nodeid = 0 };
	struct iovec iov[2] = { { &bi, sizeof(bi) }, { (void *)data, dlen } };

	return uvfs_direct_call(dx, &in, iov, data ? 2 : 1,
				out ? out : rbuf, out ? outmax : RBUF_MAX,
				&rlen);
}

static int blk(uint32_t op, uint64_t off, uint32_t len, uint32_t flags,
	       const void *data, size_t dlen)
{
	return blk_to(op, off, len, flags, data, dlen, NULL, 0);
}

static int bread(uint64_t off, uint32_t len)
{
	int ret = blk(UVFS_OP_BLK_READ, off, len, 0, NULL, 0);

	if (!ret)
		ck_assert_uint_eq(rlen, len);
	return ret;
}

static int bwrite(uint64_t off, const void *data, uint32_t len,
		  uint32_t flags)
{
	return blk(UVFS_OP_BLK_WRITE, off, len, flags, data, len);
}

static bool all_zero(const char *p, size_t n)
{
	while (n--)
		if (*p++)
			return false;
	return true;
}

/* A pattern that differs at every offset and with seed. */
static void fill(char *p, size_t n, unsigned int seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (char)(i * 7 + seed + (i >> 9));
}

static char pat[2 * MiB];

/* ---- image files ---- */

static void tmp_setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	snprintf(img, sizeof(img), "%s/img", tmpdir);
}

static void tmp_teardown(void)
{
	unlink(img);
	rmdir(tmpdir);
	memcpy(tmpdir + strlen(tmpdir) - 6, "XXXXXX", 6);
}

static void make_image(off_t size)
{
	int fd = open(img, O_RDWR | O_CREAT | O_TRUNC, 0644);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, size), 0);
	close(fd);
}

/* size bytes of the image at off, read behind the device's back */
static void image_bytes(uint64_t off, void *buf, size_t size)
{
	int fd = open(img, O_RDONLY);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pread(fd, buf, size, (off_t)off), (ssize_t)size);
	close(fd);
}

/* ---- mem ---- */

START_TEST(test_mem_needs_size)
{
	ck_assert_int_eq(dev_start("mem", "none", NULL, 0), -EINVAL);
	ck_assert_str_eq(err, "mem: give the device's size with -o size=N "
			      "(e.g. -o size=64M)");
	ck_assert_int_eq(dev_start("mem", "none", "size=1000", 0), -EINVAL);
	ck_assert_str_eq(err, "mem: -o size=1000 is not a multiple of the "
			      "block size 512");
	ck_assert_int_eq(dev_start("mem", "none", "size=6K,blksize=4096", 0),
			 -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "block size 4096"));
	ck_assert_int_eq(dev_start("mem", "none", "size=1M,blksize=3000", 0),
			 -EINVAL);
	ck_assert_str_eq(err, "mem: bad value for -o blksize (512, 1024, 2048 "
			      "or 4096)");
	ck_assert_int_eq(dev_start("mem", "none", "size=12Q", 0), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "bad value for -o size"));
	ck_assert_int_eq(dev_start("mem", "none", "size=1M,frob", 0), -EINVAL);
	ck_assert_str_eq(err, "mem: unknown option 'frob'");
	/* direct is the file backend's */
	ck_assert_int_eq(dev_start("mem", "none", "size=1M,direct", 0),
			 -EINVAL);
	ck_assert_str_eq(err, "mem: unknown option 'direct'");
}
END_TEST

START_TEST(test_mem_read_after_write)
{
	struct uvfs_blk_geometry g;

	ck_assert_int_eq(dev_start("mem", "none", "size=4M", 0), 0);
	g = geo();
	ck_assert_uint_eq(g.size, 4 * MiB);
	ck_assert_uint_eq(g.block_size, 512);
	/* no volatile cache: no FLUSH advertised */
	ck_assert_uint_eq(g.flags, UVFS_BDEV_DISCARD | UVFS_BDEV_WRITE_ZEROES);

	ck_assert_int_eq(bread(0, 64 * KiB), 0);
	ck_assert(all_zero(rbuf, 64 * KiB));
	fill(pat, MiB, 1);
	ck_assert_int_eq(bwrite(512, pat, MiB, 0), 0);
	ck_assert_uint_eq(rlen, 0);
	ck_assert_int_eq(bread(512, MiB), 0);
	ck_assert_mem_eq(rbuf, pat, MiB);
	/* a read straddling the written range */
	ck_assert_int_eq(bread(0, 4096), 0);
	ck_assert(all_zero(rbuf, 512));
	ck_assert_mem_eq(rbuf + 512, pat, 4096 - 512);
	/* the last block */
	ck_assert_int_eq(bwrite(4 * MiB - 512, pat + 7, 512, UVFS_BLK_FUA), 0);
	ck_assert_int_eq(bread(4 * MiB - 512, 512), 0);
	ck_assert_mem_eq(rbuf, pat + 7, 512);
	/* a flush although none is advertised: nothing to do */
	ck_assert_int_eq(blk(UVFS_OP_BLK_FLUSH, 0, 0, 0, NULL, 0), 0);
	ck_assert_uint_eq(uvfs_session_op_calls(se, UVFS_OP_BLK_WRITE), 2);
	ck_assert_uint_eq(uvfs_session_op_calls(se, UVFS_OP_BLK_READ), 4);
	dev_stop();
}
END_TEST

/* Discard and write-zeroes read back as zeroes (mem gives pages back). */
START_TEST(test_mem_discard_write_zeroes)
{
	ck_assert_int_eq(dev_start("mem", "none", "size=1M", 0), 0);
	fill(pat, MiB, 2);
	ck_assert_int_eq(bwrite(0, pat, MiB, 0), 0);
	/* partial pages at both ends, whole ones between */
	ck_assert_int_eq(blk(UVFS_OP_BLK_DISCARD, 1536, 3 * 4096, 0, NULL, 0),
			 0);
	ck_assert_int_eq(bread(0, 64 * KiB), 0);
	ck_assert_mem_eq(rbuf, pat, 1536);
	ck_assert(all_zero(rbuf + 1536, 3 * 4096));
	ck_assert_mem_eq(rbuf + 1536 + 3 * 4096, pat + 1536 + 3 * 4096,
			 64 * KiB - 1536 - 3 * 4096);
	/* inside one page */
	ck_assert_int_eq(blk(UVFS_OP_BLK_WRITE_ZEROES, 100 * KiB, 1024,
			     UVFS_BLK_NOUNMAP, NULL, 0), 0);
	ck_assert_int_eq(blk(UVFS_OP_BLK_WRITE_ZEROES, 200 * KiB, 256 * KiB,
			     0, NULL, 0), 0);
	ck_assert_int_eq(bread(0, MiB), 0);
	ck_assert(all_zero(rbuf + 100 * KiB, 1024));
	ck_assert_mem_eq(rbuf + 101 * KiB, pat + 101 * KiB, 99 * KiB);
	ck_assert(all_zero(rbuf + 200 * KiB, 256 * KiB));
	ck_assert_mem_eq(rbuf + 456 * KiB, pat + 456 * KiB, MiB - 456 * KiB);
	dev_stop();
}
END_TEST

/* What the library refuses before a backend sees it. */
START_TEST(test_requests_checked)
{
	uint64_t size = 1 * MiB;
	char one[4096] = { 1 };

	ck_assert_int_eq(dev_start("mem", "none", "size=1M", 0), 0);
	/* unaligned offset or length, empty */
	ck_assert_int_eq(bread(100, 512), -EINVAL);
	ck_assert_int_eq(bread(512, 100), -EINVAL);
	ck_assert_int_eq(bread(512, 0), -EINVAL);
	ck_assert_int_eq(bwrite(513, one, 512, 0), -EINVAL);
	ck_assert_int_eq(blk(UVFS_OP_BLK_DISCARD, 0, 100, 0, NULL, 0), -EINVAL);
	ck_assert_int_eq(blk(UVFS_OP_BLK_WRITE_ZEROES, 0, 0, 0, NULL, 0),
			 -EINVAL);
	/* out of range, and offsets that would wrap around */
	ck_assert_int_eq(bread(size, 512), -EINVAL);
	ck_assert_int_eq(bread(size - 512, 1024), -EINVAL);
	ck_assert_int_eq(bread(UINT64_MAX - 511, 512), -EINVAL);
	ck_assert_int_eq(bwrite(size, one, 512, 0), -EINVAL);
	ck_assert_int_eq(blk(UVFS_OP_BLK_DISCARD, size - 512, 1024, 0, NULL, 0),
			 -EINVAL);
	ck_assert_int_eq(blk(UVFS_OP_BLK_WRITE_ZEROES, 0xfffffffffffffe00ULL,
			     1024, 0, NULL, 0), -EINVAL);
	ck_assert_int_eq(bread(size - 512, 512), 0);
	/* flags nobody defined */
	ck_assert_int_eq(blk(UVFS_OP_BLK_READ, 0, 512, 4, NULL, 0), -EINVAL);
	ck_assert_int_eq(bwrite(0, one, 512, 0x80000000u), -EINVAL);
	/* a write whose payload is not its length */
	ck_assert_int_eq(blk(UVFS_OP_BLK_WRITE, 0, 1024, 0, one, 512), -EINVAL);
	ck_assert_int_eq(blk(UVFS_OP_BLK_WRITE, 0, 512, 0, one, 1024), -EINVAL);
	/* a read larger than the reply can hold */
	ck_assert_int_eq(blk_to(UVFS_OP_BLK_READ, 0, 8192, 0, NULL, 0, rbuf,
				4096), -EINVAL);
	/* too short to hold a uvfs_blk_in */
	ck_assert_int_eq(blk(UVFS_OP_BLK_READ, 0, 512, 0, NULL, 0), 0);
	{
		struct uvfs_in_header in = { .opcode = UVFS_OP_BLK_READ };
		struct iovec iov = { one, 8 };

		ck_assert_int_eq(uvfs_direct_call(dx, &in, &iov, 1, rbuf,
						  RBUF_MAX, &rlen), -EINVAL);
	}
	/* a device serves no file system request */
	{
		struct uvfs_in_header in = { .opcode = UVFS_OP_LOOKUP,
					     .nodeid = UVFS_ROOT_ID };
		struct uvfs_init_in ii = { .major = UVFS_PROTO_MAJOR };
		struct iovec iov = { "x", 2 };

		ck_assert_int_eq(uvfs_direct_call(dx, &in, &iov, 1, rbuf,
						  RBUF_MAX, &rlen), -ENOSYS);
		in.opcode = UVFS_OP_INIT;
		iov.iov_base = &ii;
		iov.iov_len = sizeof(ii);
		ck_assert_int_eq(uvfs_direct_call(dx, &in, &iov, 1, rbuf,
						  RBUF_MAX, &rlen), -ENOSYS);
	}
	dev_stop();

	/* 4096-byte blocks: 512-aligned is not enough */
	ck_assert_int_eq(dev_start("mem", "none", "size=1M,blksize=4096", 0), 0);
	ck_assert_uint_eq(geo().block_size, 4096);
	ck_assert_int_eq(bread(512, 4096), -EINVAL);
	ck_assert_int_eq(bread(4096, 512), -EINVAL);
	ck_assert_int_eq(bread(4096, 4096), 0);
	dev_stop();
}
END_TEST

START_TEST(test_mem_readonly)
{
	char one[512] = { 1 };

	ck_assert_int_eq(dev_start("mem", "none", "size=64K", 1), 0);
	ck_assert(geo().flags & UVFS_BDEV_RO);
	ck_assert_int_eq(bwrite(0, one, 512, 0), -EROFS);
	ck_assert_int_eq(blk(UVFS_OP_BLK_DISCARD, 0, 512, 0, NULL, 0), -EROFS);
	ck_assert_int_eq(blk(UVFS_OP_BLK_WRITE_ZEROES, 0, 512, 0, NULL, 0),
			 -EROFS);
	ck_assert_int_eq(bread(0, 512), 0);
	ck_assert(all_zero(rbuf, 512));
	dev_stop();
}
END_TEST

/* A large device costs only what is written. */
START_TEST(test_mem_large_sparse)
{
	ck_assert_int_eq(dev_start("mem", "none", "size=16G,blksize=4096", 0),
			 0);
	ck_assert_uint_eq(geo().size, 16ull << 30);
	fill(pat, 8192, 3);
	ck_assert_int_eq(bwrite((16ull << 30) - 8192, pat, 8192, 0), 0);
	ck_assert_int_eq(bread((16ull << 30) - 8192, 8192), 0);
	ck_assert_mem_eq(rbuf, pat, 8192);
	ck_assert_int_eq(bread(8ull << 30, 4096), 0);
	ck_assert(all_zero(rbuf, 4096));
	dev_stop();
}
END_TEST

/* ---- file ---- */

START_TEST(test_file_read_after_write)
{
	static char back[MiB];

	make_image(8 * MiB);
	ck_assert_int_eq(dev_start("file", img, NULL, 0), 0);
	ck_assert_uint_eq(geo().size, 8 * MiB);
	ck_assert_uint_eq(geo().flags, UVFS_BDEV_FLUSH | UVFS_BDEV_DISCARD |
					       UVFS_BDEV_WRITE_ZEROES);
	fill(pat, 2 * MiB, 4);
	ck_assert_int_eq(bwrite(3 * MiB, pat, MiB, 0), 0);
	ck_assert_int_eq(bread(3 * MiB, MiB), 0);
	ck_assert_mem_eq(rbuf, pat, MiB);
	/* FUA: written through; then a flush */
	ck_assert_int_eq(bwrite(512, pat + MiB, 64 * KiB, UVFS_BLK_FUA), 0);
	ck_assert_int_eq(blk(UVFS_OP_BLK_FLUSH, 0, 0, 0, NULL, 0), 0);
	/* a flush has no range */
	ck_assert_int_eq(blk(UVFS_OP_BLK_FLUSH, 512, 0, 0, NULL, 0), -EINVAL);
	ck_assert_int_eq(blk(UVFS_OP_BLK_FLUSH, 0, 512, 0, NULL, 0), -EINVAL);
	/* the image holds the device's bytes */
	image_bytes(3 * MiB, back, MiB);
	ck_assert_mem_eq(back, pat, MiB);
	image_bytes(512, back, 64 * KiB);
	ck_assert_mem_eq(back, pat + MiB, 64 * KiB);
	image_bytes(0, back, 512);
	ck_assert(all_zero(back, 512));
	/* the reply buffer need not be aligned */
	ck_assert_int_eq(blk_to(UVFS_OP_BLK_READ, 3 * MiB, 4096, 0, NULL, 0,
				rbuf + 3, 4096), 0);
	ck_assert_mem_eq(rbuf + 3, pat, 4096);
	dev_stop();
}
END_TEST

START_TEST(test_file_discard_write_zeroes)
{
	make_image(2 * MiB);
	ck_assert_int_eq(dev_start("file", img, NULL, 0), 0);
	fill(pat, 2 * MiB, 5);
	ck_assert_int_eq(bwrite(0, pat, 2 * MiB, 0), 0);
	/* discard punches a hole: this backend reads it back as zeroes */
	ck_assert_int_eq(blk(UVFS_OP_BLK_DISCARD, 4096, 64 * KiB, 0, NULL, 0),
			 0);
	ck_assert_int_eq(blk(UVFS_OP_BLK_WRITE_ZEROES, 512 * KiB, 512, 0, NULL,
			     0), 0);
	ck_assert_int_eq(blk(UVFS_OP_BLK_WRITE_ZEROES, MiB, 256 * KiB,
			     UVFS_BLK_NOUNMAP | UVFS_BLK_FUA, NULL, 0), 0);
	ck_assert_int_eq(bread(0, 2 * MiB), 0);
	ck_assert_mem_eq(rbuf, pat, 4096);
	ck_assert(all_zero(rbuf + 4096, 64 * KiB));
	ck_assert_mem_eq(rbuf + 68 * KiB, pat + 68 * KiB, 444 * KiB);
	ck_assert(all_zero(rbuf + 512 * KiB, 512));
	ck_assert_mem_eq(rbuf + 512 * KiB + 512, pat + 512 * KiB + 512,
			 512 * KiB - 512);
	ck_assert(all_zero(rbuf + MiB, 256 * KiB));
	ck_assert_mem_eq(rbuf + 1280 * KiB, pat + 1280 * KiB, 768 * KiB);
	dev_stop();
}
END_TEST

START_TEST(test_file_sizes)
{
	struct stat st;

	/* missing, a directory, empty, not a whole number of blocks */
	ck_assert_int_eq(dev_start("file", img, NULL, 0), -ENOENT);
	ck_assert_ptr_nonnull(strstr(err, "No such file or directory"));
	ck_assert_int_eq(dev_start("file", tmpdir, NULL, 0), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "is not an image file"));
	make_image(0);
	ck_assert_int_eq(dev_start("file", img, NULL, 0), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "is empty"));
	make_image(1000);
	ck_assert_int_eq(dev_start("file", img, NULL, 0), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "(1000 bytes) is not a multiple of "
					  "the block size 512"));
	/* -o size= grows, sparse; never shrinks; whole blocks only */
	make_image(MiB);
	ck_assert_int_eq(dev_start("file", img, "size=512K", 0), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "images are never shrunk"));
	ck_assert_int_eq(dev_start("file", img, "size=1000", 0), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "not a multiple of the block size"));
	ck_assert_int_eq(dev_start("file", img, "size=2M,blksize=4096", 1),
			 -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "cannot grow read-only"));
	ck_assert_int_eq(dev_start("file", img, "size=1G,blksize=4096", 0), 0);
	ck_assert_uint_eq(geo().size, 1u << 30);
	ck_assert_uint_eq(geo().block_size, 4096);
	ck_assert_int_eq(stat(img, &st), 0);
	ck_assert_int_eq(st.st_size, 1 << 30);
	ck_assert_int_lt(st.st_blocks, 4096);	/* < 2 MiB allocated */
	ck_assert_int_eq(bread((1u << 30) - 4096, 4096), 0);
	ck_assert(all_zero(rbuf, 4096));
	dev_stop();
	/* the same size again is fine */
	ck_assert_int_eq(dev_start("file", img, "size=1G", 0), 0);
	dev_stop();
	ck_assert_int_eq(dev_start("file", img, "bogus", 0), -EINVAL);
	ck_assert_str_eq(err, "file: unknown option 'bogus'");
}
END_TEST

START_TEST(test_file_readonly_and_claim)
{
	char one[512] = { 1 };
	struct uvfs_session *first;
	struct uvfs_direct *firstdx;
	void *firsth;

	make_image(MiB);
	ck_assert_int_eq(dev_start("file", img, NULL, 1), 0);
	ck_assert_uint_eq(geo().flags, UVFS_BDEV_RO | UVFS_BDEV_FLUSH |
					       UVFS_BDEV_DISCARD |
					       UVFS_BDEV_WRITE_ZEROES);
	ck_assert_int_eq(bwrite(0, one, 512, 0), -EROFS);
	ck_assert_int_eq(blk(UVFS_OP_BLK_DISCARD, 0, 512, 0, NULL, 0), -EROFS);
	ck_assert_int_eq(bread(0, 512), 0);
	/* read-only devices share the image */
	first = se;
	firstdx = dx;
	firsth = handle;
	ck_assert_int_eq(dev_start("file", img, NULL, 1), 0);
	dev_stop();
	/* a writer does not */
	ck_assert_int_eq(dev_start("file", img, NULL, 0), -EBUSY);
	ck_assert_ptr_nonnull(strstr(err, "is in use"));
	ck_assert_uint_eq(strcspn(err, "\n"), strlen(err));
	se = first;
	dx = firstdx;
	handle = firsth;
	dev_stop();
	/* the first writer excludes a second one */
	ck_assert_int_eq(dev_start("file", img, NULL, 0), 0);
	first = se;
	firstdx = dx;
	firsth = handle;
	ck_assert_int_eq(dev_start("file", img, NULL, 0), -EBUSY);
	ck_assert_ptr_nonnull(strstr(err, "is in use"));
	se = first;
	dx = firstdx;
	handle = firsth;
	dev_stop();
}
END_TEST

/*
 * -o direct: the image's file system takes O_DIRECT (then unaligned
 * buffers work through the bounce buffer), or the device is refused with
 * that reason.
 */
START_TEST(test_file_direct)
{
	int ret;

	make_image(2 * MiB);
	ret = dev_start("file", img, "direct", 0);
	if (ret) {
		ck_assert_int_eq(ret, -EINVAL);
		ck_assert_ptr_nonnull(strstr(err, "does not support O_DIRECT"));
		return;
	}
	fill(pat, MiB, 6);
	ck_assert_int_eq(bwrite(512, pat, 64 * KiB, 0), 0);
	ck_assert_int_eq(bwrite(MiB, pat, MiB, UVFS_BLK_FUA), 0);
	ck_assert_int_eq(blk_to(UVFS_OP_BLK_READ, 512, 64 * KiB, 0, NULL, 0,
				rbuf + 1, 64 * KiB), 0);
	ck_assert_mem_eq(rbuf + 1, pat, 64 * KiB);
	ck_assert_int_eq(bread(MiB, MiB), 0);
	ck_assert_mem_eq(rbuf, pat, MiB);
	dev_stop();
	/* and the buffered side sees the same bytes */
	ck_assert_int_eq(dev_start("file", img, NULL, 0), 0);
	ck_assert_int_eq(bread(512, 64 * KiB), 0);
	ck_assert_mem_eq(rbuf, pat, 64 * KiB);
	dev_stop();
}
END_TEST

/* ---- the library's side, with a backend of our own ---- */

static int tb_opens, tb_closes;
static struct uvfs_blk_geometry tb_geo;
static int tb_priv;
static size_t tb_short;		/* reply this many bytes less to reads */

static void *tb_reply_later(void *arg)
{
	struct uvfs_req *req = arg;

	usleep(20000);
	uvfs_reply_buf(req, pat, 4096);
	return NULL;
}

static void tb_read(struct uvfs_req *req, uint64_t off, size_t len)
{
	pthread_t t;

	ck_assert_ptr_eq(uvfs_req_priv(req), &tb_priv);
	if (off == 4096 && len == 4096) {	/* answered by another thread */
		ck_assert_int_eq(pthread_create(&t, NULL, tb_reply_later, req),
				 0);
		pthread_detach(t);
		return;
	}
	uvfs_reply_buf(req, pat, len - tb_short);
}

static void tb_write(struct uvfs_req *req, const void *buf, size_t len,
		     uint64_t off, uint32_t flags)
{
	/* a payload where none is allowed */
	uvfs_reply_buf(req, buf, 8);
}

static const struct uvfs_blk_ops tb_ops = { .read = tb_read,
					    .write = tb_write };
static const struct uvfs_blk_ops tb_ro_ops = { .read = tb_read };

static int tb_open(const struct uvfs_blk_open_args *args,
		   struct uvfs_blk_geometry *g, void **priv)
{
	tb_opens++;
	*g = tb_geo;
	*priv = &tb_priv;
	return 0;
}

static void tb_close(void *priv)
{
	ck_assert_ptr_eq(priv, &tb_priv);
	tb_closes++;
}

static struct uvfs_blk_backend tb = {
	.api_version = UVFS_BLK_API_VERSION,
	.ops_size = sizeof(struct uvfs_blk_ops),
	.name = "tb",
	.ops = &tb_ops,
	.open = tb_open,
	.close = tb_close,
};

START_TEST(test_lib_replies)
{
	char one[512] = { 0 };

	tb_geo = (struct uvfs_blk_geometry){ MiB, 512, UVFS_BDEV_FLAGS_ALL &
							  ~UVFS_BDEV_RO };
	tb_opens = tb_closes = 0;
	tb_short = 0;
	fill(pat, MiB, 7);
	ck_assert_int_eq(dev_start_be(&tb, "x", NULL, 0), 0);
	/* no flush, discard, write_zeroes op: not advertised */
	ck_assert_uint_eq(geo().flags, 0);
	ck_assert_int_eq(blk(UVFS_OP_BLK_FLUSH, 0, 0, 0, NULL, 0), 0);
	ck_assert_int_eq(blk(UVFS_OP_BLK_DISCARD, 0, 512, 0, NULL, 0),
			 -EOPNOTSUPP);
	ck_assert_int_eq(blk(UVFS_OP_BLK_WRITE_ZEROES, 0, 512, 0, NULL, 0),
			 -EOPNOTSUPP);
	/* a reply from another thread, later */
	ck_assert_int_eq(bread(4096, 4096), 0);
	ck_assert_mem_eq(rbuf, pat, 4096);
	/* a short read, a write answered with data: I/O errors */
	tb_short = 512;
	ck_assert_int_eq(bread(0, 4096), -EIO);
	tb_short = 0;
	ck_assert_int_eq(bwrite(0, one, 512, 0), -EIO);
	ck_assert_uint_eq(uvfs_session_op_calls(se, UVFS_OP_BLK_READ), 2);
	dev_stop();
	ck_assert_int_eq(tb_closes, 1);

	/* no write op: a read-only device */
	tb.ops = &tb_ro_ops;
	ck_assert_int_eq(dev_start_be(&tb, "x", NULL, 0), 0);
	ck_assert_uint_eq(geo().flags, UVFS_BDEV_RO);
	ck_assert_int_eq(bwrite(0, one, 512, 0), -EROFS);
	dev_stop();
	tb.ops = &tb_ops;
}
END_TEST

START_TEST(test_lib_geometry_and_descriptor)
{
	static const struct uvfs_blk_geometry bad[] = {
		{ MiB, 256, 0 }, { MiB, 8192, 0 }, { MiB, 1536, 0 },
		{ 0, 512, 0 }, { MiB + 512, 1024, 0 }, { MiB, 512, 0x10 },
	};
	struct uvfs_blk_backend b;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		tb_geo = bad[i];
		tb_opens = tb_closes = 0;
		ck_assert_int_eq(dev_start_be(&tb, "x", NULL, 0), -EINVAL);
		ck_assert_ptr_nonnull(strstr(err, "block backend tb: bad geometry"));
		/* what open() took is given back */
		ck_assert_int_eq(tb_opens, 1);
		ck_assert_int_eq(tb_closes, 1);
	}
	ck_assert_int_eq(uvfs_blk_backend_check(&tb, err, sizeof(err)), 0);
	b = tb;
	b.api_version = 2;
	ck_assert_int_eq(uvfs_blk_backend_check(&b, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_null(uvfs_blk_session_new(&b, NULL));
	b = tb;
	b.ops = &(const struct uvfs_blk_ops){ .write = tb_write };
	ck_assert_int_eq(uvfs_blk_backend_check(&b, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "read is required"));
	b = tb;
	b.ops_size = sizeof(struct uvfs_blk_ops) + 8;
	ck_assert_int_eq(uvfs_blk_backend_check(&b, err, sizeof(err)), -EINVAL);
	b = tb;
	b.open = NULL;
	ck_assert_int_eq(uvfs_blk_backend_check(&b, err, sizeof(err)), -EINVAL);
	/* an older, shorter ops table: the ops past it are missing */
	b = tb;
	b.ops_size = sizeof(void (*)(void));
	tb_geo = (struct uvfs_blk_geometry){ MiB, 512, UVFS_BDEV_FLAGS_ALL };
	ck_assert_int_eq(dev_start_be(&b, "x", NULL, 0), 0);
	ck_assert_uint_eq(geo().flags, UVFS_BDEV_RO);
	dev_stop();
}
END_TEST

START_TEST(test_plugins)
{
	char *names = NULL;
	size_t len = 0;
	FILE *mem;
	void *h;

	ck_assert_ptr_null(uvfs_blk_backend_load("nosuch", &h, err,
						 sizeof(err)));
	ck_assert_str_eq(err, "unknown block backend 'nosuch' (uvfsd --help "
			      "lists them)");
	/* a block backend is no file system, and the other way round */
	ck_assert_ptr_null(uvfs_backend_load("blk-file", &h, err, sizeof(err)));
	ck_assert_str_eq(err, "blk-file is not a uvfs backend");
	ck_assert_ptr_null(uvfs_blk_backend_load("../memfs", &h, err,
						 sizeof(err)));
	mem = open_memstream(&names, &len);
	ck_assert_int_eq(uvfs_blk_backend_list(mem), 2);
	fclose(mem);
	ck_assert(!strcmp(names, "file\nmem\n") || !strcmp(names, "mem\nfile\n"));
	free(names);
	names = NULL;
	mem = open_memstream(&names, &len);
	uvfs_backend_list(mem);
	fclose(mem);
	ck_assert_ptr_null(strstr(names, "blk"));
	free(names);
}
END_TEST

static Suite *blk_suite(void)
{
	Suite *s = suite_create("blk");
	TCase *tc = tcase_create("mem");

	tcase_add_test(tc, test_mem_needs_size);
	tcase_add_test(tc, test_mem_read_after_write);
	tcase_add_test(tc, test_mem_discard_write_zeroes);
	tcase_add_test(tc, test_requests_checked);
	tcase_add_test(tc, test_mem_readonly);
	tcase_add_test(tc, test_mem_large_sparse);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);

	tc = tcase_create("file");
	tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
	tcase_add_test(tc, test_file_read_after_write);
	tcase_add_test(tc, test_file_discard_write_zeroes);
	tcase_add_test(tc, test_file_sizes);
	tcase_add_test(tc, test_file_readonly_and_claim);
	tcase_add_test(tc, test_file_direct);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);

	tc = tcase_create("lib");
	tcase_add_test(tc, test_lib_replies);
	tcase_add_test(tc, test_lib_geometry_and_descriptor);
	tcase_add_test(tc, test_plugins);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(blk_suite());
}
