// SPDX-License-Identifier: MIT
/*
 * uvfs-blkverify: a seeded random I/O stream on a raw block device,
 * verified against an in-memory model of the device's contents.
 *
 *   uvfs-blkverify [--seed N] [--ops N] [--model-out FILE] DEVICE
 *   uvfs-blkverify --compare MODEL FILE
 *
 * Runs inside the VM (tests/vm/bdev/guest.sh).  The stream mixes, chosen
 * from the seed: writes and reads through O_DIRECT (offsets and lengths
 * multiples of the logical block size) and through the page cache (any
 * byte offset and length), of 512 B to 2 MiB (a fifth of them within a
 * block of 1 MiB, the channel's slot payload, so requests are split
 * right there), fsync (a FLUSH), BLKDISCARD and BLKZEROOUT.  Every read
 * is checked against the model; a discarded range is undefined (any
 * content accepted) until it is written again; a zeroed one reads zeroes.
 * The device starts as whatever it holds: a read-back of the whole device
 * first makes that the model.  At the end every byte is read back (O_DIRECT
 * after dropping the page cache's copy), undefined ranges take what the
 * device returns, and --model-out writes the model to FILE: after the
 * device is gone, the backing file must equal it (--compare).
 *
 * The seed is printed first (default: from the clock); a failure prints
 * the seed, the op number and kind, and the first differing offset with
 * the byte expected and the byte read, and exits 1.
 *
 * --compare MODEL FILE: byte-for-byte; the first difference is printed as
 * offset, expected (MODEL) and got (FILE).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SECTOR 512u
#define MAX_IO (2u << 20)
#define SLOT (1u << 20)

struct dev {
	const char *path;
	int fd_direct;		/* O_DIRECT */
	int fd_cached;		/* through the page cache */
	uint64_t size;
	uint32_t lbs;		/* logical block size */
	unsigned char *model;	/* expected contents */
	unsigned char *undef;	/* one flag per byte: discarded, not written since */
	unsigned char *buf;	/* MAX_IO + alignment, aligned to 4096 */
	uint64_t seed;
	long op;		/* current op number (-1: set-up) */
	const char *what;	/* current op's kind */
	uint64_t discarded_zero, discarded_other;
};

/* splitmix64: the whole stream is a function of the seed */
static uint64_t rng_state;
static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* uniform in [lo, hi] */
static uint64_t rnd_range(uint64_t lo, uint64_t hi)
{
	return lo + rnd() % (hi - lo + 1);
}

static void fill_pattern(unsigned char *p, size_t len, uint64_t tag)
{
	uint64_t x = tag;
	size_t i;

	for (i = 0; i < len; i++) {
		if ((i & 7) == 0)
			x = x * 6364136223846793005ull + 1442695040888963407ull;
		p[i] = (unsigned char)(x >> (8 * (i & 7)));
	}
}

static void fail_here(const struct dev *d, uint64_t off, uint64_t len,
		      const char *fmt, const char *detail)
{
	fprintf(stderr, "FAIL seed %" PRIu64 " op %ld (%s off=%" PRIu64
		" len=%" PRIu64 "): ", d->seed, d->op, d->what, off, len);
	fprintf(stderr, fmt, detail);
	fputc('\n', stderr);
}

/* full pread/pwrite; negative errno on error, -EIO on a short transfer
 * that made no progress */
static int xfer(int fd, unsigned char *buf, size_t len, uint64_t off, int wr)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = wr ? pwrite(fd, buf + done, len - done, (off_t)(off + done))
			       : pread(fd, buf + done, len - done, (off_t)(off + done));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		done += (size_t)n;
	}
	return 0;
}

/* compare what was read (d->buf) with the model; undefined bytes take
 * what was read when adopt is set, else anything is accepted there */
static int check_read(struct dev *d, uint64_t off, size_t len, int adopt)
{
	const unsigned char *u = d->undef + off;
	unsigned char *m = d->model + off;
	size_t k;

	if (!memchr(u, 1, len)) {
		if (memcmp(m, d->buf, len) == 0)
			return 0;
	}
	for (k = 0; k < len; k++) {
		if (u[k]) {
			if (adopt) {
				m[k] = d->buf[k];
				if (d->buf[k])
					d->discarded_other++;
				else
					d->discarded_zero++;
			}
			continue;
		}
		if (m[k] != d->buf[k]) {
			fprintf(stderr, "FAIL seed %" PRIu64 " op %ld (%s off=%" PRIu64
				" len=%zu): at offset %" PRIu64 " expected 0x%02x got 0x%02x\n",
				d->seed, d->op, d->what, off, len, off + k, m[k], d->buf[k]);
			return -EILSEQ;
		}
	}
	if (adopt)
		memset(d->undef + off, 0, len);
	return 0;
}

static void mark_defined(struct dev *d, uint64_t off, uint64_t len)
{
	memset(d->undef + off, 0, len);
}

/* pick offset and length: direct I/O in logical blocks, cached any bytes;
 * a fifth of the lengths within a block of the slot size */
static void pick_range(const struct dev *d, int direct, uint64_t *off, size_t *len)
{
	uint64_t unit = direct ? d->lbs : 1;
	uint64_t max = MAX_IO < d->size ? MAX_IO : d->size;
	uint64_t l;

	switch (rnd() % 5) {
	case 0:		/* around the slot size */
		l = SLOT - 4096 + rnd_range(0, 8192);
		break;
	case 1:		/* large */
		l = rnd_range(SLOT / 2, MAX_IO);
		break;
	case 2:		/* medium */
		l = rnd_range(16384, SLOT / 2);
		break;
	default:	/* small */
		l = rnd_range(1, 16384);
		break;
	}
	if (l > max)
		l = max;
	l = l / unit * unit;
	if (l < (direct ? d->lbs : SECTOR))
		l = direct ? d->lbs : SECTOR;
	if (!direct && rnd() % 4 == 0 && l > 1)
		l -= rnd_range(1, l < SECTOR ? l - 1 : SECTOR - 1);	/* odd length */
	*len = (size_t)l;
	*off = rnd_range(0, (d->size - l) / unit) * unit;
}

static int op_write(struct dev *d, int direct)
{
	uint64_t off;
	size_t len;
	int ret;

	pick_range(d, direct, &off, &len);
	d->what = direct ? "write O_DIRECT" : "write cached";
	fill_pattern(d->buf, len, rnd());
	ret = xfer(direct ? d->fd_direct : d->fd_cached, d->buf, len, off, 1);
	if (ret < 0) {
		fail_here(d, off, len, "%s", strerror(-ret));
		return ret;
	}
	memcpy(d->model + off, d->buf, len);
	mark_defined(d, off, len);
	return 0;
}

static int op_read(struct dev *d, int direct)
{
	uint64_t off;
	size_t len;
	int ret;

	pick_range(d, direct, &off, &len);
	d->what = direct ? "read O_DIRECT" : "read cached";
	ret = xfer(direct ? d->fd_direct : d->fd_cached, d->buf, len, off, 0);
	if (ret < 0) {
		fail_here(d, off, len, "%s", strerror(-ret));
		return ret;
	}
	return check_read(d, off, len, 0);
}

/* BLKDISCARD / BLKZEROOUT: ranges in logical blocks (the ioctls' rule) */
static int op_range(struct dev *d, int zero)
{
	uint64_t range[2];
	uint64_t len = rnd_range(1, MAX_IO / d->lbs) * d->lbs;
	uint64_t off;

	if (len > d->size)
		len = d->size;
	off = rnd_range(0, (d->size - len) / d->lbs) * d->lbs;
	range[0] = off;
	range[1] = len;
	d->what = zero ? "BLKZEROOUT" : "BLKDISCARD";
	if (ioctl(d->fd_cached, zero ? BLKZEROOUT : BLKDISCARD, range) < 0) {
		int err = errno;

		fail_here(d, off, len, "%s", strerror(err));
		return -err;
	}
	if (zero) {
		memset(d->model + off, 0, len);
		mark_defined(d, off, len);
	} else {
		memset(d->undef + off, 1, len);
	}
	return 0;
}

static int op_fsync(struct dev *d)
{
	d->what = "fsync";
	if (fsync(d->fd_cached) < 0) {
		int err = errno;

		fail_here(d, 0, 0, "%s", strerror(err));
		return -err;
	}
	return 0;
}

/* read the whole device through O_DIRECT (the page cache written back
 * and dropped first); adopt: the model takes undefined sectors' bytes,
 * and with init, every byte */
static int read_all(struct dev *d, int adopt, int init)
{
	uint64_t off;
	int ret;

	d->what = init ? "initial read-back" : "final read-back";
	if (fsync(d->fd_cached) < 0 || ioctl(d->fd_cached, BLKFLSBUF, 0) < 0) {
		ret = -errno;
		fail_here(d, 0, d->size, "flushing the page cache: %s", strerror(-ret));
		return ret;
	}
	for (off = 0; off < d->size; off += MAX_IO) {
		size_t len = d->size - off < MAX_IO ? (size_t)(d->size - off) : MAX_IO;

		ret = xfer(d->fd_direct, d->buf, len, off, 0);
		if (ret < 0) {
			fail_here(d, off, len, "%s", strerror(-ret));
			return ret;
		}
		if (init) {
			memcpy(d->model + off, d->buf, len);
			continue;
		}
		ret = check_read(d, off, len, adopt);
		if (ret < 0)
			return ret;
	}
	return 0;
}

static int write_model(const struct dev *d, const char *path)
{
	int fd, ret = 0;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		ret = -errno;
		fprintf(stderr, "uvfs-blkverify: %s: %s\n", path, strerror(-ret));
		return ret;
	}
	ret = xfer(fd, d->model, d->size, 0, 1);
	if (ret < 0)
		fprintf(stderr, "uvfs-blkverify: writing %s: %s\n", path, strerror(-ret));
	if (close(fd) < 0 && ret == 0)
		ret = -errno;
	return ret;
}

static int dev_open(struct dev *d)
{
	uint64_t size;
	int lbs, ret;

	d->fd_direct = open(d->path, O_RDWR | O_DIRECT);
	if (d->fd_direct < 0) {
		ret = -errno;
		fprintf(stderr, "uvfs-blkverify: %s: %s\n", d->path, strerror(-ret));
		return ret;
	}
	d->fd_cached = open(d->path, O_RDWR);
	if (d->fd_cached < 0) {
		ret = -errno;
		fprintf(stderr, "uvfs-blkverify: %s: %s\n", d->path, strerror(-ret));
		goto err_direct;
	}
	if (ioctl(d->fd_cached, BLKGETSIZE64, &size) < 0 ||
	    ioctl(d->fd_cached, BLKSSZGET, &lbs) < 0) {
		ret = -errno;
		fprintf(stderr, "uvfs-blkverify: %s: not a block device? %s\n",
			d->path, strerror(-ret));
		goto err_cached;
	}
	if (size == 0 || lbs < (int)SECTOR || size % (uint64_t)lbs) {
		fprintf(stderr, "uvfs-blkverify: %s: odd geometry: %" PRIu64
			" bytes, block size %d\n", d->path, size, lbs);
		ret = -EINVAL;
		goto err_cached;
	}
	d->size = size;
	d->lbs = (uint32_t)lbs;
	d->model = malloc(size);
	d->undef = calloc(size, 1);
	if (!d->model || !d->undef ||
	    posix_memalign((void **)&d->buf, 4096, MAX_IO)) {
		fprintf(stderr, "uvfs-blkverify: out of memory for a %" PRIu64
			"-byte model\n", size);
		ret = -ENOMEM;
		goto err_mem;
	}
	return 0;

err_mem:
	free(d->model);
	free(d->undef);
err_cached:
	close(d->fd_cached);
err_direct:
	close(d->fd_direct);
	return ret;
}

static void dev_close(struct dev *d)
{
	free(d->model);
	free(d->undef);
	free(d->buf);
	close(d->fd_cached);
	close(d->fd_direct);
}

static int run_stream(struct dev *d, long ops, const char *model_out)
{
	long counts[7] = { 0 };
	int ret;

	d->op = -1;
	ret = read_all(d, 0, 1);
	if (ret < 0)
		return ret;
	for (d->op = 0; d->op < ops; d->op++) {
		unsigned k = (unsigned)(rnd() % 100);

		if (k < 25)
			k = 0, ret = op_write(d, 1);
		else if (k < 45)
			k = 1, ret = op_write(d, 0);
		else if (k < 65)
			k = 2, ret = op_read(d, 1);
		else if (k < 85)
			k = 3, ret = op_read(d, 0);
		else if (k < 90)
			k = 4, ret = op_fsync(d);
		else if (k < 95)
			k = 5, ret = op_range(d, 0);
		else
			k = 6, ret = op_range(d, 1);
		counts[k]++;
		if (ret < 0)
			return ret;
	}
	ret = read_all(d, 1, 0);
	if (ret < 0)
		return ret;
	printf("uvfs-blkverify: %s: %" PRIu64 " bytes, block %u: %ld ops passed "
	       "(write direct %ld cached %ld, read direct %ld cached %ld, fsync %ld, "
	       "discard %ld, zeroout %ld); discarded bytes read back: %" PRIu64
	       " zero, %" PRIu64 " other\n", d->path, d->size, d->lbs, ops,
	       counts[0], counts[1], counts[2], counts[3], counts[4], counts[5],
	       counts[6], d->discarded_zero, d->discarded_other);
	if (model_out)
		ret = write_model(d, model_out);
	return ret;
}

/* --compare MODEL FILE */
static int compare_files(const char *a, const char *b)
{
	static unsigned char ba[1 << 16], bb[1 << 16];
	FILE *fa, *fb;
	uint64_t off = 0;
	int ret = -EILSEQ;

	fa = fopen(a, "rb");
	if (!fa) {
		fprintf(stderr, "uvfs-blkverify: %s: %s\n", a, strerror(errno));
		return -ENOENT;
	}
	fb = fopen(b, "rb");
	if (!fb) {
		fprintf(stderr, "uvfs-blkverify: %s: %s\n", b, strerror(errno));
		ret = -ENOENT;
		goto out_a;
	}
	for (;;) {
		size_t na = fread(ba, 1, sizeof(ba), fa);
		size_t nb = fread(bb, 1, sizeof(bb), fb);
		size_t n = na < nb ? na : nb, k;

		for (k = 0; k < n; k++) {
			if (ba[k] != bb[k]) {
				fprintf(stderr, "FAIL %s differs from the model %s at offset %"
					PRIu64 ": expected 0x%02x got 0x%02x\n",
					b, a, off + k, ba[k], bb[k]);
				goto out_b;
			}
		}
		off += n;
		if (na != nb) {
			fprintf(stderr, "FAIL %s is %s than the model %s (differs from "
				"offset %" PRIu64 ")\n", b, na > nb ? "shorter" : "longer",
				a, off);
			goto out_b;
		}
		if (na == 0)
			break;
	}
	if (ferror(fa) || ferror(fb)) {
		fprintf(stderr, "uvfs-blkverify: read error comparing %s and %s\n", a, b);
		ret = -EIO;
		goto out_b;
	}
	printf("uvfs-blkverify: %s equals the model (%" PRIu64 " bytes)\n", b, off);
	ret = 0;
out_b:
	fclose(fb);
out_a:
	fclose(fa);
	return ret;
}

static int usage(void)
{
	fprintf(stderr, "usage: uvfs-blkverify [--seed N] [--ops N] [--model-out FILE] DEVICE\n"
		"       uvfs-blkverify --compare MODEL FILE\n");
	return 2;
}

static int parse_num(const char *opt, const char *s, uint64_t *out)
{
	char *end;

	errno = 0;
	*out = strtoull(s, &end, 0);
	if (errno || end == s || *end || *s == '-') {
		fprintf(stderr, "uvfs-blkverify: %s wants a number, not '%s'\n", opt, s);
		return -EINVAL;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct dev d = { 0 };
	const char *model_out = NULL;
	uint64_t ops = 2000, v;
	int i, have_seed = 0, ret;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--compare")) {
			if (argc - i != 3)
				return usage();
			return compare_files(argv[i + 1], argv[i + 2]) < 0;
		}
		if (i + 1 >= argc)
			return usage();
		if (!strcmp(argv[i], "--seed")) {
			if (parse_num("--seed", argv[++i], &v))
				return 2;
			d.seed = v;
			have_seed = 1;
		} else if (!strcmp(argv[i], "--ops")) {
			if (parse_num("--ops", argv[++i], &ops))
				return 2;
		} else if (!strcmp(argv[i], "--model-out")) {
			model_out = argv[++i];
		} else {
			fprintf(stderr, "uvfs-blkverify: unknown option %s\n", argv[i]);
			return 2;
		}
	}
	if (argc - i != 1)
		return usage();
	d.path = argv[i];
	if (!have_seed) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		d.seed = (uint64_t)ts.tv_sec * 1000003u + (uint64_t)ts.tv_nsec;
		d.seed %= 1000000000u;
	}
	rng_state = d.seed;
	printf("uvfs-blkverify: %s: seed %" PRIu64 ", %" PRIu64 " ops\n",
	       d.path, d.seed, ops);
	fflush(stdout);
	ret = dev_open(&d);
	if (ret < 0)
		return 1;
	ret = run_stream(&d, (long)ops, model_out);
	dev_close(&d);
	return ret < 0;
}
