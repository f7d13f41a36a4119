// SPDX-License-Identifier: MIT
/*
 * uvfs-chan-test MOUNTPOINT: a deliberately misbehaving daemon for uvfs.ko.
 *
 * Runs inside the VM (tests/vm/kmod/guest.sh).  A forked child serves the
 * channel and answers according to the name looked up: good entries, and
 * replies with a wrong unique id, a bad length, errno out of range, an
 * invalid file type, a short payload, an oversized READ, bad directory
 * records, a node id 0 for MKDIR, ENOSYS (must be remembered), and no
 * reply at all (the waiter must be killable; a late reply must be
 * harmless).  Finally the server is killed: a waiting request and new ones
 * fail with ENOTCONN, and the mount can be unmounted.
 *
 * Prints one line per check and "N passed, M failed".
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "uvfs/proto.h"

static int npass, nfail;
static char *area;
static int chan_fd;
static struct uvfs_chan_setup cs;
static const char *mnt;

struct shared {
	int statfs_calls;
	int hung_slot;		/* slot held without reply, or -1 */
	int late_replied;
};
static struct shared *sh;

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
		printf("\n");                                                \
		fflush(stdout);                                              \
	} while (0)

static char *slot_addr(unsigned int slot)
{
	return area + UVFS_CHAN_HDR_SIZE + (size_t)slot * cs.slot_size;
}

/* ---- the server ---- */

static void put_reply(char *s, uint64_t unique, int error, const void *p,
		      size_t len)
{
	struct uvfs_out_header oh = { unique, error,
				      (uint32_t)(sizeof(oh) + len) };

	if (len)
		memmove(s + sizeof(oh), p, len);
	memcpy(s, &oh, sizeof(oh));
}

static void make_attr(struct uvfs_attr *a, uint64_t ino, uint32_t mode,
		      uint64_t size)
{
	memset(a, 0, sizeof(*a));
	a->ino = ino;
	a->mode = mode;
	a->nlink = 1;
	a->size = size;
	a->blksize = 4096;
}

static void reply_entry(char *s, uint64_t unique, uint64_t nodeid,
			uint32_t mode)
{
	struct uvfs_entry_out e;

	memset(&e, 0, sizeof(e));
	e.nodeid = nodeid;
	make_attr(&e.attr, nodeid, mode, 8192);
	put_reply(s, unique, 0, &e, sizeof(e));
}

static size_t add_dirent(char *buf, const char *name, uint32_t namelen,
			 uint64_t ino, uint64_t off)
{
	struct uvfs_dirent d = { ino, off, namelen, 8 };

	memcpy(buf, &d, sizeof(d));
	memcpy(buf + sizeof(d), name, strlen(name));
	return UVFS_DIRENT_SIZE(namelen);
}

/* Answer slot s; returns 0 if the slot is to be committed now. */
static int serve_one(unsigned int slot)
{
	char *s = slot_addr(slot);
	struct uvfs_in_header in;
	const char *arg = s + sizeof(in);
	char buf[8192];

	memcpy(&in, s, sizeof(in));
	switch (in.opcode) {
	case UVFS_OP_INIT: {
		struct uvfs_init_out o = { UVFS_PROTO_MAJOR, UVFS_PROTO_MINOR,
					   65536, 0, 1, 65536, 4, 0 };

		memcpy(buf, &o, sizeof(o));
		memcpy(buf + sizeof(o), "evil", 4);
		put_reply(s, in.unique, 0, buf, sizeof(o) + 4);
		return 0;
	}
	case UVFS_OP_GETATTR: {
		struct uvfs_attr_out o = { 0 };

		make_attr(&o.attr, in.nodeid,
			  in.nodeid == 2 ? 0100644 : 040755, 8192);
		put_reply(s, in.unique, 0, &o, sizeof(o));
		return 0;
	}
	case UVFS_OP_LOOKUP: {
		struct uvfs_entry_out e;

		if (!strcmp(arg, "file")) {
			reply_entry(s, in.unique, 2, 0100644);
		} else if (!strcmp(arg, "slashdir")) {
			reply_entry(s, in.unique, 3, 040755);
		} else if (!strcmp(arg, "longdir")) {
			reply_entry(s, in.unique, 4, 040755);
		} else if (!strcmp(arg, "badunique")) {
			reply_entry(s, in.unique + 1000, 5, 0100644);
		} else if (!strcmp(arg, "badlen")) {
			reply_entry(s, in.unique, 5, 0100644);
			((struct uvfs_out_header *)s)->len = cs.slot_size + 1;
		} else if (!strcmp(arg, "baderrno")) {
			put_reply(s, in.unique, -5000, NULL, 0);
		} else if (!strcmp(arg, "poserrno")) {
			put_reply(s, in.unique, 1, NULL, 0);
		} else if (!strcmp(arg, "badmode")) {
			reply_entry(s, in.unique, 5, 0000644);
		} else if (!strcmp(arg, "short")) {
			memset(&e, 0, sizeof(e));
			put_reply(s, in.unique, 0, &e, 60);
		} else if (!strcmp(arg, "commit")) {
			/* answered through UVFS_IOC_COMMIT, as a reply from
			 * another thread would be */
			struct uvfs_chan_wait w;

			reply_entry(s, in.unique, 2, 0100644);
			memset(&w, 0, sizeof(w));
			w.ndone = 1;
			w.done[0] = (uint16_t)slot;
			if (ioctl(chan_fd, UVFS_IOC_COMMIT, &w) < 0)
				_exit(3);
			return -1;
		} else if (!strcmp(arg, "hang")) {
			sh->hung_slot = (int)slot;
			return -1;
		} else {
			put_reply(s, in.unique, -ENOENT, NULL, 0);
		}
		return 0;
	}
	case UVFS_OP_OPEN:
	case UVFS_OP_OPENDIR: {
		struct uvfs_open_out o = { 7, 0, 0 };

		put_reply(s, in.unique, 0, &o, sizeof(o));
		return 0;
	}
	case UVFS_OP_READ: {
		struct uvfs_read_in r;

		memcpy(&r, arg, sizeof(r));
		memset(buf, 'a', sizeof(buf));
		/* page 0 fine; page 1 answered with more than asked */
		put_reply(s, in.unique, 0, buf,
			  r.offset == 0 ? r.size : r.size + 8);
		return 0;
	}
	case UVFS_OP_READDIR: {
		size_t n = 0;

		memset(buf, 0, sizeof(buf));
		if (in.nodeid == 3)
			n = add_dirent(buf, "a/b", 3, 10, 1);
		else
			n = add_dirent(buf, "x", 300, 10, 1);
		put_reply(s, in.unique, 0, buf, n);
		return 0;
	}
	case UVFS_OP_MKDIR: {
		struct uvfs_entry_out e;

		memset(&e, 0, sizeof(e));	/* node id 0: invalid */
		put_reply(s, in.unique, 0, &e, sizeof(e));
		return 0;
	}
	case UVFS_OP_STATFS:
		sh->statfs_calls++;
		put_reply(s, in.unique, -ENOSYS, NULL, 0);
		return 0;
	case UVFS_OP_FORGET:
		return 0;	/* no reply, but hand the slot back */
	case UVFS_OP_DESTROY:
	case UVFS_OP_RELEASE:
	case UVFS_OP_RELEASEDIR:
	case UVFS_OP_FLUSH:
		put_reply(s, in.unique, 0, NULL, 0);
		return 0;
	default:
		put_reply(s, in.unique, -ENOSYS, NULL, 0);
		return 0;
	}
}

static void server(int fd)
{
	struct uvfs_chan_wait w;
	uint16_t done[UVFS_WAIT_MAX];
	unsigned int ndone = 0, i;

	for (;;) {
		memset(&w, 0, sizeof(w));
		w.ndone = ndone;
		memcpy(w.done, done, ndone * sizeof(done[0]));
		ndone = 0;
		if (ioctl(fd, UVFS_IOC_WAIT, &w) < 0) {
			if (errno == EINTR)
				continue;
			_exit(errno == ENODEV ? 0 : 1);
		}
		/* a late answer to the request whose sender was killed */
		if (sh->hung_slot >= 0 && !sh->late_replied && w.nready) {
			char *s = slot_addr((unsigned int)sh->hung_slot);
			struct uvfs_in_header in;

			memcpy(&in, s, sizeof(in));
			reply_entry(s, in.unique, 6, 0100644);
			done[ndone++] = (uint16_t)sh->hung_slot;
			sh->late_replied = 1;
			sh->hung_slot = -1;
		}
		for (i = 0; i < w.nready; i++)
			if (serve_one(w.ready[i]) == 0)
				done[ndone++] = w.ready[i];
	}
}

/* ---- the checks ---- */

static int path_errno(int (*fn)(const char *), const char *name)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/%s", mnt, name);
	errno = 0;
	return fn(p) < 0 ? errno : 0;
}

static int do_stat(const char *p)
{
	struct stat st;

	return stat(p, &st);
}

static int do_mkdir(const char *p)
{
	return mkdir(p, 0755);
}

static int do_readdir(const char *p)
{
	DIR *d = opendir(p);
	int err = 0;

	if (!d)
		return -1;
	errno = 0;
	while (readdir(d))
		;
	err = errno;
	closedir(d);
	errno = err;
	return err ? -1 : 0;
}

static int ioctl_checks(int fd)
{
	struct uvfs_chan_setup again = cs;
	struct uvfs_chan_wait w;
	void *p;

	CHECK(ioctl(fd, UVFS_IOC_SETUP, &again) < 0 && errno == EBUSY,
	      "second SETUP fails with EBUSY");
	memset(&w, 0, sizeof(w));
	w.queue = cs.nqueues;
	CHECK(ioctl(fd, UVFS_IOC_WAIT, &w) < 0 && errno == EINVAL,
	      "WAIT on a queue out of range: EINVAL");
	memset(&w, 0, sizeof(w));
	w.ndone = UVFS_WAIT_MAX + 1;
	CHECK(ioctl(fd, UVFS_IOC_COMMIT, &w) < 0 && errno == EINVAL,
	      "COMMIT with ndone > max: EINVAL");
	memset(&w, 0, sizeof(w));
	w.ndone = 2;
	w.done[0] = 3;		/* not handed out */
	w.done[1] = 60000;	/* out of range */
	CHECK(ioctl(fd, UVFS_IOC_COMMIT, &w) < 0 && errno == EINVAL,
	      "COMMIT of slots the daemon doesn't own: EINVAL");
	p = mmap(NULL, cs.mmap_size * 2, PROT_READ | PROT_WRITE, MAP_SHARED,
		 fd, 0);
	CHECK(p == MAP_FAILED, "mmap larger than the channel fails");
	if (p != MAP_FAILED)
		munmap(p, cs.mmap_size * 2);
	return 0;
}

int main(int argc, char **argv)
{
	char opts[128], p[512];
	pid_t srv, waiter;
	int fd, st, e;
	struct statfs sfs;

	if (argc != 2) {
		fprintf(stderr, "usage: uvfs-chan-test MOUNTPOINT\n");
		return 2;
	}
	mnt = argv[1];
	alarm(120);	/* a hang is a failure, not a stuck VM */
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		return 2;
	sh->hung_slot = -1;

	fd = open("/dev/uvfs", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		perror("/dev/uvfs");
		return 2;
	}
	memset(&cs, 0, sizeof(cs));
	cs.nqueues = 1;
	cs.depth = 8;
	cs.slot_size = 65536 + 4096;
	if (ioctl(fd, UVFS_IOC_SETUP, &cs) < 0) {
		perror("UVFS_IOC_SETUP");
		return 2;
	}
	area = mmap(NULL, cs.mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		    fd, 0);
	if (area == MAP_FAILED) {
		perror("mmap");
		return 2;
	}
	ioctl_checks(fd);

	srv = fork();
	if (srv == 0) {
		alarm(0);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		chan_fd = fd;
		server(fd);
		_exit(0);
	}
	snprintf(opts, sizeof(opts),
		 "fd=%d,rootmode=40755,user_id=0,group_id=0", fd);
	if (mount("evil", mnt, "uvfs", 0, opts) < 0) {
		perror("mount");
		kill(srv, SIGKILL);
		return 1;
	}
	/* Only the server holds the channel now: its death aborts it. */
	close(fd);
	munmap(area, cs.mmap_size);

	CHECK(path_errno(do_stat, "file") == 0, "good entry");
	CHECK(path_errno(do_stat, "enoent") == ENOENT, "ENOENT passes");
	CHECK(path_errno(do_stat, "commit") == 0,
	      "reply committed with UVFS_IOC_COMMIT");
	CHECK(path_errno(do_stat, "badunique") == EIO, "wrong unique: EIO");
	CHECK(path_errno(do_stat, "badlen") == EIO, "length > slot: EIO");
	CHECK(path_errno(do_stat, "baderrno") == EIO, "errno -5000: EIO");
	CHECK(path_errno(do_stat, "poserrno") == EIO, "errno +1: EIO");
	CHECK(path_errno(do_stat, "badmode") == EIO, "no file type: EIO");
	CHECK(path_errno(do_stat, "short") == EIO, "short entry: EIO");
	CHECK(path_errno(do_mkdir, "zero") == EIO, "mkdir node id 0: EIO");
	CHECK(path_errno(do_readdir, "slashdir") == EIO,
	      "readdir name with '/': EIO");
	CHECK(path_errno(do_readdir, "longdir") == EIO,
	      "readdir name of 300 bytes: EIO");

	snprintf(p, sizeof(p), "%s/file", mnt);
	fd = open(p, O_RDONLY);
	CHECK(fd >= 0, "open good file");
	if (fd >= 0) {
		char b[16];

		CHECK(pread(fd, b, 10, 0) == 10 && b[0] == 'a',
		      "read page 0");
		errno = 0;
		CHECK(pread(fd, b, 10, 4096) < 0 && errno == EIO,
		      "READ reply larger than asked: EIO");
		close(fd);
	}

	e = statfs(mnt, &sfs) < 0 ? errno : 0;
	e = e == ENOSYS && statfs(mnt, &sfs) < 0 && errno == ENOSYS ? 0 : -1;
	CHECK(e == 0 && sh->statfs_calls == 1,
	      "ENOSYS remembered (statfs sent %d time(s))", sh->statfs_calls);

	/* No reply: the waiter must die of SIGKILL. */
	waiter = fork();
	if (waiter == 0)
		_exit(path_errno(do_stat, "hang"));
	usleep(300000);
	kill(waiter, SIGKILL);
	CHECK(waitpid(waiter, &st, 0) == waiter && WIFSIGNALED(st),
	      "waiter without reply is killable");
	CHECK(path_errno(do_stat, "file") == 0 && sh->late_replied,
	      "late reply to a dead waiter is harmless");

	/* Server death: a waiting request and new ones get ENOTCONN. */
	waiter = fork();
	if (waiter == 0)
		_exit(path_errno(do_stat, "hang"));
	usleep(300000);
	kill(srv, SIGKILL);
	waitpid(srv, NULL, 0);
	CHECK(waitpid(waiter, &st, 0) == waiter && WIFEXITED(st) &&
	      WEXITSTATUS(st) == ENOTCONN,
	      "waiting request fails with ENOTCONN when the daemon dies");
	CHECK(path_errno(do_stat, "file") == ENOTCONN,
	      "new request after daemon death: ENOTCONN");
	CHECK(umount(mnt) == 0, "umount after daemon death");

	printf("%d passed, %d failed\n", npass, nfail);
	return nfail ? 1 : 0;
}
