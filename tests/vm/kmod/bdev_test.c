// SPDX-License-Identifier: MIT
/*
 * uvfs-bdev-test: uvfs.ko's block device (/dev/uvbdN) against a daemon of
 * our own, inside the VM (tests/vm/kmod/guest.sh).
 *
 * A forked server per channel queue serves an 8 MiB RAM disk kept in
 * shared memory, so the test compares what reached the "backend" with
 * what it wrote through the device.  Reads of a few magic blocks get bad
 * replies (short, long, wrong unique id, errno out of range, no reply at
 * all); DISCARD answers ENOSYS, which the kernel must remember.  Checks:
 * UVFS_IOC_BDEV_ADD's argument checks and one user per channel; writes
 * and reads of every size up to 4 MiB (split at the slot size) reach the
 * RAM disk intact on several queues; FLUSH, FUA and WRITE_ZEROES; each
 * bad reply fails its request with EIO and leaves the device working;
 * a read-only device refuses writes; kill -9 of the server with a read
 * in flight: the reader returns EIO within 1 s, new I/O fails at once,
 * UVFS_IOC_BDEV_REMOVE deletes the dead device; removing a live device
 * ends its server's WAIT with ENODEV.
 *
 * Prints one line per check and "N passed, M failed"; exit 0 if none
 * failed.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "uvfs/proto.h"

#define DISK_SIZE (8u << 20)
#define BS 512u
#define MAX_QUEUES 8
/* magic blocks: a READ of block BAD_BLOCK + k gets bad reply k */
#define BAD_BLOCK 15000u
enum { BAD_SHORT, BAD_LONG, BAD_UNIQUE, BAD_POSITIVE, BAD_RANGE, BAD_STALL,
       BAD_N };

static int npass, nfail;

#define CHECK(cond, ...)                                                     \
	do {                                                                 \
		if (cond) {                                                  \
			npass++;                                             \
			printf("ok   - ");                                   \
		} else {                                                     \
			nfail++;                                             \
			printf("FAIL - ");                                   \
		}                                                            \
		printf(__VA_ARGS__);                                         \
		printf(" [errno %d]\n", errno);                              \
		fflush(stdout);                                              \
	} while (0)

/* What the servers saw: shared with the test. */
struct seen {
	uint32_t max_rw;	/* longest READ/WRITE */
	uint32_t flushes;
	uint32_t fua;
	uint32_t zeroes, nounmap;
	uint32_t discards;
	uint32_t bad_nodeid;	/* requests naming another device */
	uint32_t bad_range;	/* requests outside the disk or unaligned */
	uint32_t index;
};

static struct seen *seen;
static unsigned char *disk;	/* the RAM disk, shared */

struct chan {
	int fd;
	struct uvfs_chan_setup cs;
	char *area;
	pid_t srv[MAX_QUEUES];
};

static char *slot_addr(struct chan *c, unsigned int q, unsigned int slot)
{
	return c->area + q * c->cs.queue_stride + UVFS_CHAN_HDR_SIZE +
	       (size_t)slot * c->cs.slot_size;
}

static void put_reply(char *s, uint64_t unique, int error, uint32_t len)
{
	struct uvfs_out_header oh = { unique, error,
				      (uint32_t)sizeof(oh) + len };

	memcpy(s, &oh, sizeof(oh));
}

/* Serve one request; 0: commit it now, -1: never (BAD_STALL). */
static int serve_one(char *s)
{
	struct uvfs_in_header in;
	struct uvfs_blk_in b;
	char *data = s + sizeof(struct uvfs_out_header);
	uint64_t blk;

	memcpy(&in, s, sizeof(in));
	memcpy(&b, s + sizeof(in), sizeof(b));
	if (in.nodeid != seen->index)
		__sync_fetch_and_add(&seen->bad_nodeid, 1);
	if (in.opcode != UVFS_OP_BLK_FLUSH &&
	    (b.offset % BS || b.length % BS || b.offset > DISK_SIZE ||
	     b.length > DISK_SIZE - b.offset)) {
		__sync_fetch_and_add(&seen->bad_range, 1);
		put_reply(s, in.unique, -EINVAL, 0);
		return 0;
	}
	if ((in.opcode == UVFS_OP_BLK_READ || in.opcode == UVFS_OP_BLK_WRITE) &&
	    b.length > seen->max_rw)
		seen->max_rw = b.length;	/* racy max: good enough */
	switch (in.opcode) {
	case UVFS_OP_BLK_READ:
		blk = b.offset / BS;
		if (blk >= BAD_BLOCK && blk < BAD_BLOCK + BAD_N) {
			switch (blk - BAD_BLOCK) {
			case BAD_SHORT:
				put_reply(s, in.unique, 0, b.length - BS);
				break;
			case BAD_LONG:
				put_reply(s, in.unique, 0, b.length + BS);
				break;
			case BAD_UNIQUE:
				put_reply(s, in.unique + 1000, 0, b.length);
				break;
			case BAD_POSITIVE:
				put_reply(s, in.unique, 5, 0);
				break;
			case BAD_RANGE:
				put_reply(s, in.unique, -5000, 0);
				break;
			case BAD_STALL:
				return -1;
			}
			return 0;
		}
		memmove(data, disk + b.offset, b.length);
		put_reply(s, in.unique, 0, b.length);
		return 0;
	case UVFS_OP_BLK_WRITE:
		memcpy(disk + b.offset, s + sizeof(in) + sizeof(b), b.length);
		if (b.flags & UVFS_BLK_FUA)
			__sync_fetch_and_add(&seen->fua, 1);
		break;
	case UVFS_OP_BLK_FLUSH:
		__sync_fetch_and_add(&seen->flushes, 1);
		break;
	case UVFS_OP_BLK_WRITE_ZEROES:
		memset(disk + b.offset, 0, b.length);
		__sync_fetch_and_add(&seen->zeroes, 1);
		if (b.flags & UVFS_BLK_NOUNMAP)
			__sync_fetch_and_add(&seen->nounmap, 1);
		break;
	case UVFS_OP_BLK_DISCARD:
		__sync_fetch_and_add(&seen->discards, 1);
		put_reply(s, in.unique, -ENOSYS, 0);
		return 0;
	default:
		put_reply(s, in.unique, -ENOSYS, 0);
		return 0;
	}
	put_reply(s, in.unique, 0, 0);
	return 0;
}

/* The server of queue q: exit 0 when the kernel says the device is gone. */
static void serve(struct chan *c, unsigned int q)
{
	struct uvfs_chan_wait w;
	uint16_t done[UVFS_WAIT_MAX];
	unsigned int ndone = 0, i;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	for (;;) {
		memset(&w, 0, sizeof(w));
		w.queue = q;
		w.ndone = ndone;
		memcpy(w.done, done, ndone * sizeof(done[0]));
		ndone = 0;
		if (ioctl(c->fd, UVFS_IOC_WAIT, &w) < 0) {
			if (errno == EINTR)
				continue;
			_exit(errno == ENODEV ? 0 : 10 + errno);
		}
		for (i = 0; i < w.nready; i++)
			if (serve_one(slot_addr(c, q, w.ready[i])) == 0)
				done[ndone++] = w.ready[i];
	}
}

static int chan_open(struct chan *c)
{
	memset(c, 0, sizeof(*c));
	c->fd = open("/dev/uvfs", O_RDWR | O_CLOEXEC);
	if (c->fd < 0)
		return -1;
	c->cs.nqueues = 0;	/* one per CPU */
	if (ioctl(c->fd, UVFS_IOC_SETUP, &c->cs) < 0 ||
	    c->cs.nqueues > MAX_QUEUES)
		return -1;
	c->area = mmap(NULL, c->cs.mmap_size, PROT_READ | PROT_WRITE,
		       MAP_SHARED, c->fd, 0);
	return c->area == MAP_FAILED ? -1 : 0;
}

static int start_servers(struct chan *c)
{
	unsigned int q;

	for (q = 0; q < c->cs.nqueues; q++) {
		c->srv[q] = fork();
		if (c->srv[q] < 0)
			return -1;
		if (c->srv[q] == 0)
			serve(c, q);
	}
	return 0;
}

static int bdev_add(int fd, uint64_t size, uint32_t bs, uint32_t flags,
		    uint32_t major, struct uvfs_bdev_add *out)
{
	struct uvfs_bdev_add a = { .major = major, .minor = UVFS_PROTO_MINOR,
				   .size = size, .block_size = bs,
				   .flags = flags };
	int rc = ioctl(fd, UVFS_IOC_BDEV_ADD, &a);

	if (out)
		*out = a;
	return rc;
}

static int bdev_remove(uint32_t index)
{
	int fd = open("/dev/uvfs", O_RDWR | O_CLOEXEC), rc, e;

	if (fd < 0)
		return -1;
	rc = ioctl(fd, UVFS_IOC_BDEV_REMOVE, &index);
	e = errno;
	close(fd);
	errno = e;
	return rc;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Wait for pid for at most ms; its exit status, or -1 if still running. */
static int wait_ms(pid_t pid, int ms)
{
	int st;

	for (; ms >= 0; ms -= 10) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
		usleep(10000);
	}
	return -1;
}

static void fill(unsigned char *p, size_t n, unsigned int seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (unsigned char)(seed * 131 + i * 7 + (i >> 9));
}

static int bad_read(int fd, unsigned int k, void *buf)
{
	return pread(fd, buf, BS, (off_t)(BAD_BLOCK + k) * BS) < 0 &&
	       errno == EIO;
}

static void add_checks(int fd)
{
	CHECK(bdev_add(fd, 0, BS, 0, UVFS_PROTO_MAJOR, NULL) < 0 &&
	      errno == EINVAL, "BDEV_ADD of size 0: EINVAL");
	CHECK(bdev_add(fd, 1000, BS, 0, UVFS_PROTO_MAJOR, NULL) < 0 &&
	      errno == EINVAL, "BDEV_ADD of a size not a multiple of the "
	      "block size: EINVAL");
	CHECK(bdev_add(fd, DISK_SIZE, 3000, 0, UVFS_PROTO_MAJOR, NULL) < 0 &&
	      errno == EINVAL, "BDEV_ADD with block size 3000: EINVAL");
	CHECK(bdev_add(fd, DISK_SIZE, 8192, 0, UVFS_PROTO_MAJOR, NULL) < 0 &&
	      errno == EINVAL, "BDEV_ADD with block size 8192: EINVAL");
	CHECK(bdev_add(fd, DISK_SIZE, BS, 0x100, UVFS_PROTO_MAJOR, NULL) < 0 &&
	      errno == EINVAL, "BDEV_ADD with unknown flags: EINVAL");
	CHECK(bdev_add(fd, DISK_SIZE, BS, 0, UVFS_PROTO_MAJOR + 1, NULL) < 0 &&
	      errno == EPROTO, "BDEV_ADD of another major: EPROTO");
}

static void io_checks(const char *dev, const struct uvfs_bdev_add *a)
{
	size_t big = 4u << 20;
	unsigned char *buf, *back;
	int fd, ok, k, rc;
	off_t off;
	uint64_t range[2];

	buf = aligned_alloc(4096, big);
	back = aligned_alloc(4096, big);
	fd = open(dev, O_RDWR | O_DIRECT);
	CHECK(fd >= 0, "open %s O_DIRECT", dev);
	if (fd < 0 || !buf || !back)
		return;
	fill(buf, big, 1);
	CHECK(pwrite(fd, buf, big, 0) == (ssize_t)big &&
	      !memcmp(disk, buf, big),
	      "a 4 MiB O_DIRECT write reaches the backend intact");
	CHECK(seen->max_rw <= a->max_io && seen->max_rw > 0,
	      "it was split into requests of at most max_io (%u <= %u)",
	      seen->max_rw, a->max_io);
	fill(disk + big, big, 2);
	CHECK(pread(fd, back, big, big) == (ssize_t)big &&
	      !memcmp(back, disk + big, big),
	      "a 4 MiB O_DIRECT read returns the backend's bytes");
	ok = 1;
	for (k = 0; k < 64 && ok; k++) {
		size_t n = BS * (1 + (size_t)(k * 37) % 600);

		off = (off_t)BS * ((k * 2711) % (BAD_BLOCK - 600));
		fill(buf, n, 10 + k);
		ok = pwrite(fd, buf, n, off) == (ssize_t)n &&
		     !memcmp(disk + off, buf, n) &&
		     pread(fd, back, n, off) == (ssize_t)n &&
		     !memcmp(back, buf, n);
	}
	CHECK(ok, "64 writes and reads of mixed sizes and offsets agree");
	close(fd);

	fd = open(dev, O_RDWR);
	fill(buf, 65536, 99);
	CHECK(fd >= 0 && pwrite(fd, buf, 65536, 8192) == 65536 &&
	      fsync(fd) == 0 && seen->flushes > 0 &&
	      !memcmp(disk + 8192, buf, 65536),
	      "buffered write + fsync: data reached the backend, FLUSH sent "
	      "(%u)", seen->flushes);
	if (fd >= 0)
		close(fd);
	fd = open(dev, O_RDWR | O_DIRECT | O_DSYNC);
	CHECK(fd >= 0 && pwrite(fd, buf, 4096, 0) == 4096 && seen->fua > 0,
	      "O_DSYNC write carries FUA (%u)", seen->fua);

	memset(disk + 65536, 0xaa, 65536);
	range[0] = 65536;
	range[1] = 65536;
	CHECK(ioctl(fd, BLKZEROOUT, range) == 0 && seen->zeroes > 0 &&
	      disk[65536] == 0 && disk[131071] == 0,
	      "BLKZEROOUT becomes WRITE_ZEROES of the range (%u, nounmap %u)",
	      seen->zeroes, seen->nounmap);
	/* blkdev_issue_discard() reports EOPNOTSUPP as success */
	rc = ioctl(fd, BLKDISCARD, range);
	CHECK((rc == 0 || errno == EOPNOTSUPP) && seen->discards == 1,
	      "a DISCARD answered ENOSYS (rc %d)", rc);
	rc = ioctl(fd, BLKDISCARD, range);
	CHECK((rc == 0 || errno == EOPNOTSUPP) && seen->discards == 1,
	      "the next DISCARD does not reach the daemon (%u)",
	      seen->discards);

	CHECK(bad_read(fd, BAD_SHORT, buf), "a short READ reply: EIO");
	CHECK(bad_read(fd, BAD_LONG, buf), "a long READ reply: EIO");
	CHECK(bad_read(fd, BAD_UNIQUE, buf), "a reply with a wrong unique id: EIO");
	CHECK(bad_read(fd, BAD_POSITIVE, buf), "a positive errno: EIO");
	CHECK(bad_read(fd, BAD_RANGE, buf), "an errno out of range: EIO");
	fill(disk, 4096, 7);
	CHECK(pread(fd, back, 4096, 0) == 4096 && !memcmp(back, disk, 4096),
	      "the device still works after the bad replies");
	CHECK(seen->bad_nodeid == 0 && seen->bad_range == 0,
	      "every request named the device and stayed inside it "
	      "(%u, %u)", seen->bad_nodeid, seen->bad_range);
	close(fd);
	free(buf);
	free(back);
}

/* kill -9 of the servers with a READ in flight. */
static void kill_checks(struct chan *c, const char *dev,
			const struct uvfs_bdev_add *a)
{
	unsigned char *buf = aligned_alloc(4096, 4096);
	pid_t reader;
	double t0;
	unsigned int q;
	int fd, rc;
	struct stat st;

	reader = fork();
	if (reader == 0) {
		int rfd = open(dev, O_RDONLY | O_DIRECT);

		_exit(rfd >= 0 && pread(rfd, buf, BS,
					(off_t)(BAD_BLOCK + BAD_STALL) * BS) < 0 &&
		      errno == EIO ? 0 : 1);
	}
	usleep(300000);
	CHECK(wait_ms(reader, 0) == -1, "a reader blocks on an unanswered READ");
	t0 = now();
	for (q = 0; q < c->cs.nqueues; q++)
		kill(c->srv[q], SIGKILL);
	rc = wait_ms(reader, 1000);
	CHECK(rc == 0, "kill -9 of the daemon: the reader gets EIO within 1 s "
	      "(%.3f s, rc %d)", now() - t0, rc);
	if (rc < 0) {
		kill(reader, SIGKILL);
		waitpid(reader, NULL, 0);
	}
	for (q = 0; q < c->cs.nqueues; q++)
		waitpid(c->srv[q], NULL, 0);
	t0 = now();
	fd = open(dev, O_RDONLY | O_DIRECT);
	CHECK(fd < 0 || (pread(fd, buf, 4096, 0) < 0 && now() - t0 < 1),
	      "new I/O on the dead device fails at once");
	if (fd >= 0)
		close(fd);
	CHECK(bdev_remove(a->index) == 0, "BDEV_REMOVE of the dead device");
	for (rc = 0; rc < 100 && stat(dev, &st) == 0; rc++)
		usleep(10000);
	CHECK(stat(dev, &st) < 0, "%s is gone", dev);
	CHECK(bdev_remove(a->index) < 0 && errno == ENOENT,
	      "a second BDEV_REMOVE: ENOENT");
	free(buf);
}

/* A read-only device, then the removal of a live one. */
static void ro_and_remove_checks(void)
{
	struct uvfs_bdev_add a;
	struct chan c;
	char dev[32];
	unsigned int q;
	int fd, ok;

	if (chan_open(&c) < 0 || start_servers(&c) < 0) {
		CHECK(0, "second channel");
		return;
	}
	CHECK(bdev_add(c.fd, DISK_SIZE, 4096, UVFS_BDEV_RO, UVFS_PROTO_MAJOR,
		       &a) == 0, "BDEV_ADD of a read-only device, 4 KiB blocks");
	close(c.fd);
	munmap(c.area, c.cs.mmap_size);
	seen->index = a.index;
	snprintf(dev, sizeof(dev), "/dev/uvbd%u", a.index);
	fd = open(dev, O_RDONLY);
	CHECK(fd >= 0 && ioctl(fd, BLKROGET, &ok) == 0 && ok == 1,
	      "%s is read-only", dev);
	if (fd >= 0)
		close(fd);
	fd = open(dev, O_WRONLY);
	CHECK(fd < 0 || write(fd, disk, 4096) < 0,
	      "writing to it fails");
	if (fd >= 0)
		close(fd);
	CHECK(bdev_remove(a.index) == 0, "BDEV_REMOVE of a live device");
	ok = 1;
	for (q = 0; q < c.cs.nqueues; q++)
		ok &= wait_ms(c.srv[q], 2000) == 0;
	CHECK(ok, "its servers' WAIT ended with ENODEV");
}

int main(void)
{
	struct uvfs_bdev_add a;
	struct chan c;
	char dev[32];

	setvbuf(stdout, NULL, _IOLBF, 0);
	seen = mmap(NULL, sizeof(*seen), PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	disk = mmap(NULL, DISK_SIZE, PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (seen == MAP_FAILED || disk == MAP_FAILED || chan_open(&c) < 0) {
		perror("uvfs-bdev-test: setup");
		return 2;
	}
	add_checks(c.fd);
	if (start_servers(&c) < 0) {
		perror("fork");
		return 2;
	}
	CHECK(bdev_add(c.fd, DISK_SIZE, BS, UVFS_BDEV_FLUSH | UVFS_BDEV_DISCARD |
		       UVFS_BDEV_WRITE_ZEROES, UVFS_PROTO_MAJOR, &a) == 0,
	      "BDEV_ADD of an 8 MiB device on %u queues (uvbd%u, max_io %u)",
	      c.cs.nqueues, a.index, a.max_io);
	seen->index = a.index;
	CHECK(bdev_add(c.fd, DISK_SIZE, BS, 0, UVFS_PROTO_MAJOR, NULL) < 0 &&
	      errno == EBUSY, "a second BDEV_ADD on the channel: EBUSY");
	/* the servers hold the channel from here on (a mapping would too) */
	close(c.fd);
	munmap(c.area, c.cs.mmap_size);
	snprintf(dev, sizeof(dev), "/dev/uvbd%u", a.index);
	io_checks(dev, &a);
	kill_checks(&c, dev, &a);
	ro_and_remove_checks();
	printf("%d passed, %d failed\n", npass, nfail);
	return nfail ? 1 : 0;
}
