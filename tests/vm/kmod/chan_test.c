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
 * harmless).  The server polls (spin_us) and scribbles over the unused
 * part of the queue's header page before every WAIT; the test checks the
 * kernel's counters there (requests, lazy RELEASE, polls), then fills the
 * whole header with garbage: requests must still be served.  Finally the
 * server is killed: a waiting request and new ones fail with ENOTCONN, and
 * the mount can be unmounted.
 *
 * Prints one line per check and "N passed, M failed".
 *
 * uvfs-chan-test --stall MOUNTPOINT: mount with a daemon that answers
 * everything but READ (READs are taken and never answered), print the
 * daemon's pid and return; the daemon runs on, detached.  guest.sh blocks
 * readers on it and kills it.
 *
 * uvfs-chan-test --fuzz SEED N MOUNTPOINT: mount with a daemon serving a
 * small fake tree, drive traffic on it from two children, and answer
 * requests with replies mutated from valid ones (chosen by SEED) until N
 * malformed replies went out; then answer properly and check the mount
 * still works and unmounts.  Prints the count of each mutation kind.
 * Among the absurd attributes: a valid other file type for a non-root
 * node (the node "changed type"); afterwards a file and a directory are
 * made to change type deterministically while open (their fds fail with
 * EIO, the names get fresh inodes of the right type).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
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
#include <sys/xattr.h>
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
	int late_forgotten;	/* FORGETs of the late reply's node (6) */
	uint64_t cached_size;	/* "cached" (node 7): cached 60 s */
	int cached_gone;	/* "cached" no longer exists */
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
					   65536, 0, 1, 65536, 4, 0, 0 };

		memcpy(buf, &o, sizeof(o));
		memcpy(buf + sizeof(o), "evil", 4);
		put_reply(s, in.unique, 0, buf, sizeof(o) + 4);
		return 0;
	}
	case UVFS_OP_GETATTR: {
		struct uvfs_attr_out o = { 0 };

		make_attr(&o.attr, in.nodeid,
			  in.nodeid == 2 || in.nodeid == 7 ? 0100644 : 040755,
			  in.nodeid == 7 ? sh->cached_size : 8192);
		if (in.nodeid == 7)
			o.attr_valid_ns = 60000000000ULL;
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
		} else if (!strcmp(arg, "cached") && !sh->cached_gone) {
			memset(&e, 0, sizeof(e));
			e.nodeid = 7;
			e.entry_valid_ns = 60000000000ULL;
			e.attr_valid_ns = 60000000000ULL;
			make_attr(&e.attr, 7, 0100644, sh->cached_size);
			put_reply(s, in.unique, 0, &e, sizeof(e));
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
		/*
		 * Page 0 alone is answered right; anything else (page 1, a
		 * readahead window) with more than asked.
		 */
		put_reply(s, in.unique, 0, buf,
			  r.offset == 0 && r.size <= 4096 ? r.size :
			  r.size + 8);
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
	case UVFS_OP_FORGET: {
		struct uvfs_forget_in fi;
		struct uvfs_forget_one one;
		uint32_t i;

		memcpy(&fi, arg, sizeof(fi));
		for (i = 0; i < fi.count && i < 64; i++) {
			memcpy(&one, arg + sizeof(fi) + i * sizeof(one),
			       sizeof(one));
			if (one.nodeid == 6)
				sh->late_forgotten += (int)one.nlookup;
		}
		return 0;	/* no reply, but hand the slot back */
	}
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
		w.spin_us = 200;
		memcpy(w.done, done, ndone * sizeof(done[0]));
		ndone = 0;
		/* the kernel must not care what the daemon writes there */
		memset(area + sizeof(struct uvfs_chan_hdr), 0xa5,
		       UVFS_CHAN_HDR_SIZE - sizeof(struct uvfs_chan_hdr));
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

/* UVFS_IOC_NOTIFY with a payload; 0 or the errno. */
static int notify(int fd, int32_t code, uint64_t unique, const void *pay,
		  size_t plen)
{
	char msg[1024];
	struct uvfs_out_header oh = { unique, code,
				      (uint32_t)(sizeof(oh) + plen) };

	memcpy(msg, &oh, sizeof(oh));
	memcpy(msg + sizeof(oh), pay, plen);
	return ioctl(fd, UVFS_IOC_NOTIFY, msg) < 0 ? errno : 0;
}

static int notify_inode(int fd, uint64_t nodeid)
{
	struct uvfs_notify_inval_inode n = { nodeid, 0, -1 };

	return notify(fd, UVFS_NOTIFY_INVAL_INODE, 0, &n, sizeof(n));
}

/* INVAL_ENTRY of name under parent, claiming namelen (and the NUL). */
static int notify_entry(int fd, uint64_t parent, const char *name,
			uint32_t namelen)
{
	char pay[sizeof(struct uvfs_notify_inval_entry) + 300];
	struct uvfs_notify_inval_entry n = { parent, namelen, 0 };
	size_t len = strlen(name) + 1;

	memcpy(pay, &n, sizeof(n));
	memcpy(pay + sizeof(n), name, len);
	return notify(fd, UVFS_NOTIFY_INVAL_ENTRY, 0, pay, sizeof(n) + len);
}

static off_t size_of(const char *name)
{
	char p[512];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", mnt, name);
	return stat(p, &st) < 0 ? -errno : st.st_size;
}

/* The backend changed things behind the kernel's back: notifications. */
static void notify_checks(int fd)
{
	struct uvfs_notify_inval_inode ii = { 7, 0, 0 };

	sh->cached_size = 100;
	CHECK(size_of("cached") == 100, "notify: cached entry, size 100");
	sh->cached_size = 200;
	CHECK(size_of("cached") == 100, "notify: attributes cached 60 s");
	CHECK(notify_inode(fd, 7) == 0, "notify: INVAL_INODE accepted");
	CHECK(size_of("cached") == 200, "notify: new size after INVAL_INODE");
	CHECK(notify_inode(fd, 123456) == ENOENT,
	      "notify: INVAL_INODE of an uncached node: ENOENT");
	sh->cached_gone = 1;
	CHECK(size_of("cached") == 200, "notify: name cached 60 s");
	CHECK(notify_entry(fd, UVFS_ROOT_ID, "cached", 6) == 0,
	      "notify: INVAL_ENTRY accepted");
	CHECK(size_of("cached") == -ENOENT, "notify: gone after INVAL_ENTRY");
	CHECK(notify_entry(fd, UVFS_ROOT_ID, "nothing-cached", 14) == 0,
	      "notify: INVAL_ENTRY of an uncached name: nothing to do");
	CHECK(notify_entry(fd, 7, "x", 1) == ENOENT ||
	      notify_entry(fd, 7, "x", 1) == ENOTDIR,
	      "notify: INVAL_ENTRY under a file: error");
	CHECK(notify(fd, 99, 0, &ii, sizeof(ii)) == EINVAL,
	      "notify: unknown code: EINVAL");
	CHECK(notify(fd, UVFS_NOTIFY_INVAL_INODE, 5, &ii, sizeof(ii)) ==
	      EINVAL, "notify: unique != 0: EINVAL");
	CHECK(notify(fd, UVFS_NOTIFY_INVAL_INODE, 0, &ii, 8) == EINVAL,
	      "notify: short payload: EINVAL");
	CHECK(notify_entry(fd, UVFS_ROOT_ID, "a/b", 3) == EINVAL,
	      "notify: name with '/': EINVAL");
	CHECK(notify_entry(fd, UVFS_ROOT_ID, "abc", 2) == EINVAL,
	      "notify: namelen not the name's: EINVAL");
	CHECK(notify_entry(fd, UVFS_ROOT_ID, "", 0) == EINVAL,
	      "notify: empty name: EINVAL");
}

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

/*
 * The queue's header page: what the kernel counts there, and that garbage
 * written over it changes nothing (the kernel only ever writes it).
 */
static void header_checks(void)
{
	volatile struct uvfs_chan_hdr *h = (struct uvfs_chan_hdr *)area;
	uint64_t lazy, req;
	char p[512];
	int fd;

	CHECK(h->magic == UVFS_CHAN_HDR_MAGIC && h->requests >= 1,
	      "header page: magic, %llu request(s) counted",
	      (unsigned long long)h->requests);
	CHECK(h->spin_hits + h->spin_misses > 0 && h->spin_ns <= 200000,
	      "WAIT polls before sleeping (%llu hits, %llu misses, now %u ns)",
	      (unsigned long long)h->spin_hits,
	      (unsigned long long)h->spin_misses, h->spin_ns);
	lazy = h->lazy;
	snprintf(p, sizeof(p), "%s/file", mnt);
	fd = open(p, O_RDONLY);
	if (fd >= 0)
		close(fd);
	CHECK(fd >= 0 && h->lazy > lazy, "RELEASE is queued lazily");
	memset(area, 0x5a, sizeof(struct uvfs_chan_hdr));
	req = h->requests;
	CHECK(path_errno(do_stat, "nosuch-hdr") == ENOENT &&
	      h->magic == 0x5a5a5a5a && h->requests != req,
	      "garbage in the header page: requests still served");
	fd = open(p, O_RDONLY);
	CHECK(fd >= 0 && close(fd) == 0 && path_errno(do_stat, "file") == 0,
	      "open, close, lookup after the garbage");
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

/* ---- shared by --stall and --fuzz ---- */

/* Open /dev/uvfs, set the channel up (one queue) and map it. */
static int chan_open(unsigned int depth)
{
	int fd = open("/dev/uvfs", O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		perror("/dev/uvfs");
		return -1;
	}
	memset(&cs, 0, sizeof(cs));
	cs.nqueues = 1;
	cs.depth = depth;
	cs.slot_size = 65536 + 4096;
	if (ioctl(fd, UVFS_IOC_SETUP, &cs) < 0) {
		perror("UVFS_IOC_SETUP");
		return -1;
	}
	area = mmap(NULL, cs.mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		    fd, 0);
	if (area == MAP_FAILED) {
		perror("mmap");
		return -1;
	}
	return fd;
}

/*
 * Serve the channel with fn (returns 0 to commit the slot now, -1 to keep
 * it) until the kernel says the file system is gone (ENODEV: exit 0).
 */
static void serve_loop(int fd, int (*fn)(unsigned int slot))
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
		for (i = 0; i < w.nready; i++)
			if (fn(w.ready[i]) == 0)
				done[ndone++] = w.ready[i];
	}
}

/* Fork the server, mount, leave the channel to the server only. */
static pid_t mount_served(int fd, int (*fn)(unsigned int), const char *name,
			  int pdeathsig)
{
	char opts[128];
	pid_t srv = fork();

	if (srv < 0)
		return -1;
	if (srv == 0) {
		alarm(0);
		if (pdeathsig) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
		} else {
			/* detached: don't hold the caller's output open */
			int nul = open("/dev/null", O_RDWR);

			if (nul >= 0) {
				dup2(nul, 1);
				dup2(nul, 2);
				close(nul);
			}
		}
		chan_fd = fd;
		serve_loop(fd, fn);
		_exit(0);
	}
	snprintf(opts, sizeof(opts),
		 "fd=%d,rootmode=40755,user_id=0,group_id=0", fd);
	/* nodev: a fuzzed reply may turn a name into any device */
	if (mount(name, mnt, "uvfs", MS_NODEV | MS_NOSUID, opts) < 0) {
		perror("mount");
		kill(srv, SIGKILL);
		waitpid(srv, NULL, 0);
		return -1;
	}
	close(fd);
	munmap(area, cs.mmap_size);
	return srv;
}

/* ---- --stall: READs are never answered ---- */

static int stall_one(unsigned int slot)
{
	char *s = slot_addr(slot);
	struct uvfs_in_header in;

	memcpy(&in, s, sizeof(in));
	switch (in.opcode) {
	case UVFS_OP_INIT: {
		struct uvfs_init_out o = { UVFS_PROTO_MAJOR, UVFS_PROTO_MINOR,
					   65536, 0, 1, 65536, 0, 0, 0 };

		put_reply(s, in.unique, 0, &o, sizeof(o));
		return 0;
	}
	case UVFS_OP_GETATTR: {
		struct uvfs_attr_out o = { 0 };

		make_attr(&o.attr, in.nodeid,
			  in.nodeid == UVFS_ROOT_ID ? 040755 : 0100644, 65536);
		put_reply(s, in.unique, 0, &o, sizeof(o));
		return 0;
	}
	case UVFS_OP_LOOKUP: {
		const char *name = s + sizeof(in);

		/* f0 .. f9: regular files of 64 KiB, node id 2 .. 11 */
		if (name[0] == 'f' && name[1] >= '0' && name[1] <= '9' &&
		    !name[2])
			reply_entry(s, in.unique, 2 + (name[1] - '0'),
				    0100644);
		else
			put_reply(s, in.unique, -ENOENT, NULL, 0);
		return 0;
	}
	case UVFS_OP_OPEN:
	case UVFS_OP_OPENDIR: {
		struct uvfs_open_out o = { 7, 0, 0 };

		put_reply(s, in.unique, 0, &o, sizeof(o));
		return 0;
	}
	case UVFS_OP_READ:
		return -1;	/* taken, never answered */
	case UVFS_OP_FORGET:
		return 0;
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

static int stall_main(const char *mp)
{
	int fd;
	pid_t srv;

	mnt = mp;
	fd = chan_open(32);
	if (fd < 0)
		return 2;
	srv = mount_served(fd, stall_one, "stall", 0);
	if (srv < 0)
		return 1;
	printf("%d\n", (int)srv);
	return 0;
}

/* ---- --fuzz: malformed replies chosen by a seed ---- */

enum {
	M_NONE,		/* valid reply */
	M_UNIQUE,	/* wrong unique id */
	M_BADLEN,	/* len < header or > slot */
	M_PAYLOAD,	/* plausible len, wrong payload size */
	M_ERRNO,	/* positive, or < -4095 */
	M_ATTR,		/* absurd attributes */
	M_ENTRY,	/* entry: node id 0 / root / type change */
	M_DIRENT,	/* bad directory records */
	M_OPDATA,	/* op-specific: readlink, write size, statfs, ... */
	M_GARBAGE,	/* random bytes over the payload */
	M_NKINDS
};

static const char *const kind_name[M_NKINDS] = {
	"valid", "wrong-unique", "bad-len", "wrong-payload-size",
	"absurd-errno", "absurd-attr", "bad-entry", "bad-dirent",
	"bad-op-data", "garbage",
};

struct fuzz_shared {
	uint64_t seed;
	unsigned long target;	/* malformed replies wanted */
	volatile int fuzzing;	/* 0: answer properly */
	volatile int stop;	/* traffic children: stop */
	unsigned long count[M_NKINDS];
	unsigned long nmut;
	unsigned long ops;	/* traffic operations done */
	unsigned long nretype;	/* valid other type, non-root node */
	volatile uint64_t retype;	/* GETATTR of this node: other type */
};
static struct fuzz_shared *fz;
static uint64_t rng_state;

static uint64_t rnd(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ULL;
}

static unsigned int rndn(unsigned int n)
{
	return (unsigned int)(rnd() % n);
}

#define FZ_FILE_SIZE 8192
#define FZ_T_REG 0
#define FZ_T_DIR 1
#define FZ_T_LNK 2

/* Node ids encode the type; names decide it (d* dir, l* link, else file). */
static uint64_t fz_nodeid(uint64_t parent, const char *name)
{
	uint64_t h = 1469598103934665603ULL ^ parent;

	for (; *name; name++)
		h = (h ^ (unsigned char)*name) * 1099511628211ULL;
	return ((h % 1000000) + 1) << 2;
}

static int fz_type_of_name(const char *name)
{
	return name[0] == 'd' ? FZ_T_DIR : name[0] == 'l' ? FZ_T_LNK :
	       FZ_T_REG;
}

static uint32_t fz_mode(int type)
{
	return type == FZ_T_DIR ? 040755 : type == FZ_T_LNK ? 0120777 :
	       0100644;
}

static int fz_type_of_node(uint64_t nodeid)
{
	return nodeid == UVFS_ROOT_ID ? FZ_T_DIR : (int)(nodeid & 3);
}

static void fz_attr(struct uvfs_attr *a, uint64_t nodeid)
{
	int t = fz_type_of_node(nodeid);

	make_attr(a, nodeid, fz_mode(t),
		  t == FZ_T_REG ? FZ_FILE_SIZE : t == FZ_T_LNK ? 6 : 4096);
	a->nlink = t == FZ_T_DIR ? 2 : 1;
	a->mtime = 1700000000;
	a->ctime = 1700000000;
	a->atime = 1700000000;
}

static size_t fz_entry(void *p, uint64_t parent, const char *name)
{
	struct uvfs_entry_out e;

	memset(&e, 0, sizeof(e));
	e.nodeid = fz_nodeid(parent, name) | (uint64_t)fz_type_of_name(name);
	fz_attr(&e.attr, e.nodeid);
	memcpy(p, &e, sizeof(e));
	return sizeof(e);
}

/* Build the valid reply payload for the request in slot s into buf. */
static int fz_valid(const char *s, char *buf, size_t *len, int *attr_off,
		    int *entry)
{
	struct uvfs_in_header in;
	const char *arg = s + sizeof(in);

	memcpy(&in, s, sizeof(in));
	*len = 0;
	*attr_off = -1;
	*entry = 0;
	switch (in.opcode) {
	case UVFS_OP_GETATTR:
	case UVFS_OP_SETATTR: {
		struct uvfs_attr_out o = { 0 };

		fz_attr(&o.attr, in.nodeid);
		if (in.opcode == UVFS_OP_SETATTR) {
			struct uvfs_setattr_in si;

			memcpy(&si, arg, sizeof(si));
			if ((si.valid & UVFS_SET_SIZE) &&
			    fz_type_of_node(in.nodeid) == FZ_T_REG)
				o.attr.size = si.size < (1u << 20) ? si.size :
					      FZ_FILE_SIZE;
			if (si.valid & UVFS_SET_MODE)
				o.attr.mode = (o.attr.mode & S_IFMT) |
					      (si.mode & 07777);
		}
		memcpy(buf, &o, sizeof(o));
		*len = sizeof(o);
		*attr_off = offsetof(struct uvfs_attr_out, attr);
		return 0;
	}
	case UVFS_OP_LOOKUP:
		if (!strncmp(arg, "missing", 7))
			return -ENOENT;
		*len = fz_entry(buf, in.nodeid, arg);
		*attr_off = offsetof(struct uvfs_entry_out, attr);
		*entry = 1;
		return 0;
	case UVFS_OP_MKDIR:
	case UVFS_OP_MKNOD:
	case UVFS_OP_CREATE: {
		const char *name = arg + (in.opcode == UVFS_OP_MKDIR ?
				sizeof(struct uvfs_mkdir_in) :
				in.opcode == UVFS_OP_MKNOD ?
				sizeof(struct uvfs_mknod_in) :
				sizeof(struct uvfs_create_in));
		char nm[300];

		/* the created type is what was asked for */
		snprintf(nm, sizeof(nm), "%s%s",
			 in.opcode == UVFS_OP_MKDIR ? "d" : "f", name);
		*len = fz_entry(buf, in.nodeid, nm);
		*attr_off = offsetof(struct uvfs_entry_out, attr);
		*entry = 1;
		if (in.opcode == UVFS_OP_CREATE) {
			struct uvfs_open_out o = { 9, 0, 0 };

			memcpy(buf + *len, &o, sizeof(o));
			*len += sizeof(o);
		}
		return 0;
	}
	case UVFS_OP_SYMLINK: {
		char nm[300];

		snprintf(nm, sizeof(nm), "l%s", arg);
		*len = fz_entry(buf, in.nodeid, nm);
		*attr_off = offsetof(struct uvfs_entry_out, attr);
		*entry = 1;
		return 0;
	}
	case UVFS_OP_LINK:
		return -EPERM;
	case UVFS_OP_UNLINK:
	case UVFS_OP_RMDIR:
	case UVFS_OP_RENAME:
	case UVFS_OP_FSYNC:
	case UVFS_OP_FSYNCDIR:
	case UVFS_OP_FLUSH:
	case UVFS_OP_RELEASE:
	case UVFS_OP_RELEASEDIR:
	case UVFS_OP_DESTROY:
	case UVFS_OP_SETXATTR:
	case UVFS_OP_REMOVEXATTR:
		return 0;
	case UVFS_OP_OPEN:
	case UVFS_OP_OPENDIR: {
		struct uvfs_open_out o = { 7, 0, 0 };

		memcpy(buf, &o, sizeof(o));
		*len = sizeof(o);
		return 0;
	}
	case UVFS_OP_READ: {
		struct uvfs_read_in r;
		size_t n = 0;

		memcpy(&r, arg, sizeof(r));
		if (r.offset < FZ_FILE_SIZE)
			n = FZ_FILE_SIZE - r.offset;
		if (n > r.size)
			n = r.size;
		if (n > 8192)
			n = 8192;
		memset(buf, 'z', n);
		*len = n;
		return 0;
	}
	case UVFS_OP_WRITE: {
		struct uvfs_write_in wi;
		struct uvfs_write_out o = { 0, 0 };

		memcpy(&wi, arg, sizeof(wi));
		o.size = wi.size;
		memcpy(buf, &o, sizeof(o));
		*len = sizeof(o);
		return 0;
	}
	case UVFS_OP_READDIR: {
		struct uvfs_read_in r;
		static const char *const names[] = { "f0", "d0", "l0", "f1" };

		memcpy(&r, arg, sizeof(r));
		for (; r.offset < 4; r.offset++) {
			const char *n = names[r.offset];
			uint32_t nl = (uint32_t)strlen(n);

			if (*len + UVFS_DIRENT_SIZE(nl) > r.size)
				break;
			*len += add_dirent(buf + *len, n, nl,
					   fz_nodeid(in.nodeid, n),
					   r.offset + 1);
		}
		return 0;
	}
	case UVFS_OP_READLINK:
		memcpy(buf, "target", 6);
		*len = 6;
		return 0;
	case UVFS_OP_STATFS: {
		struct uvfs_statfs_out o = { 1000, 500, 500, 100, 50, 4096,
					     255, 4096, 0 };

		memcpy(buf, &o, sizeof(o));
		*len = sizeof(o);
		return 0;
	}
	case UVFS_OP_GETXATTR:
	case UVFS_OP_LISTXATTR: {
		struct uvfs_getxattr_in gi;

		memcpy(&gi, arg, sizeof(gi));
		if (in.opcode == UVFS_OP_GETXATTR && !gi.size) {
			struct uvfs_getxattr_out o = { 3, 0 };

			memcpy(buf, &o, sizeof(o));
			*len = sizeof(o);
			return 0;
		}
		if (in.opcode == UVFS_OP_LISTXATTR && !gi.size) {
			struct uvfs_getxattr_out o = { 7, 0 };

			memcpy(buf, &o, sizeof(o));
			*len = sizeof(o);
			return 0;
		}
		if (gi.size < 7)
			return -ERANGE;
		memcpy(buf, in.opcode == UVFS_OP_GETXATTR ? "abc" : "user.x",
		       in.opcode == UVFS_OP_GETXATTR ? 3 : 7);
		*len = in.opcode == UVFS_OP_GETXATTR ? 3 : 7;
		return 0;
	}
	default:
		return -EOPNOTSUPP;
	}
}

/* A valid file type other than mode's. */
static uint32_t fz_other_type(uint32_t mode)
{
	static const uint32_t types[] = { S_IFREG, S_IFDIR, S_IFLNK,
					  S_IFIFO };
	uint32_t t = types[rndn(4)];

	return t == (mode & S_IFMT) ? (t == S_IFREG ? S_IFDIR : S_IFREG) : t;
}

/* Mutate one of the attributes at a (may_retype: not the root's). */
static void fz_bad_attr(struct uvfs_attr *a, int may_retype)
{
	static const uint32_t bad_types[] = { 0, 0030000, 0050000, 0070000,
					      0110000, 0130000, 0150000,
					      0170000 };

	switch (rndn(may_retype ? 10 : 9)) {
	case 0:
		a->mode = bad_types[rndn(8)] | (a->mode & 07777);
		break;
	case 1:
		a->mode |= 1u << (16 + rndn(16));	/* above S_IFMT */
		break;
	case 2:
		a->nlink = 0;
		break;
	case 3:
		a->size = rndn(2) ? ~0ULL : (1ULL << 63) + rnd() % 1000;
		break;
	case 4:
		a->atimensec = 1000000000u + rndn(3000000000u);
		break;
	case 5:
		a->mtimensec = rndn(2) ? 0xffffffffu : 1000000000u;
		break;
	case 6:
		a->ctimensec = 1000000000u;
		break;
	case 7:	/* valid, but absurd: extreme times, blocks, ids */
		a->atime = INT64_MIN;
		a->mtime = INT64_MAX;
		a->ctime = -1;
		a->blocks = ~0ULL;
		a->uid = 0xffffffffu;
		a->gid = 0xffffffffu;
		a->blksize = rndn(2) ? 0 : 0xffffffffu;
		a->rdev = 0xffffffffu;
		break;
	case 9:	/* valid, but the node changed type */
		a->mode = fz_other_type(a->mode) | (a->mode & 07777);
		fz->nretype++;
		break;
	default:
		a->nlink = 0xffffffffu;
		a->ino = 0;
		break;
	}
}

/* Answer slot s, mutated according to the seed; always committed. */
static int fuzz_one(unsigned int slot)
{
	char *s = slot_addr(slot);
	struct uvfs_in_header in;
	struct uvfs_out_header *oh = (struct uvfs_out_header *)s;
	static char buf[131072];
	size_t len, maxpay = cs.slot_size - sizeof(*oh);
	int err, attr_off, entry, kind = M_NONE;

	memcpy(&in, s, sizeof(in));
	if (in.opcode == UVFS_OP_FORGET)
		return 0;
	if (in.opcode == UVFS_OP_INIT) {
		struct uvfs_init_out o = { UVFS_PROTO_MAJOR, UVFS_PROTO_MINOR,
					   65536, 0, 1, 65536, 4, 0, 0 };

		memcpy(buf, &o, sizeof(o));
		memcpy(buf + sizeof(o), "fuzz", 4);
		put_reply(s, in.unique, 0, buf, sizeof(o) + 4);
		return 0;
	}
	memset(buf, 0, sizeof(buf));
	err = fz_valid(s, buf, &len, &attr_off, &entry);
	if (err)
		len = 0;
	if (!err && in.opcode == UVFS_OP_GETATTR && fz->retype &&
	    in.nodeid == fz->retype) {
		struct uvfs_attr *a = (struct uvfs_attr *)(buf + attr_off);

		a->mode = (S_ISDIR(a->mode) ? S_IFREG : S_IFDIR) |
			  (a->mode & 07777);
	}
	/* DESTROY is left alone: the umount must stay synchronous */
	if (fz->fuzzing && in.opcode != UVFS_OP_DESTROY && rndn(3))
		kind = 1 + (int)rndn(M_NKINDS - 1);
	/* kinds that don't fit this reply fall back to a wrong size */
	if ((kind == M_ATTR && (err || attr_off < 0)) ||
	    (kind == M_ENTRY && (err || !entry)) ||
	    (kind == M_DIRENT && (err || in.opcode != UVFS_OP_READDIR)) ||
	    (kind == M_GARBAGE && (err || !len)))
		kind = M_PAYLOAD;
	if (kind == M_OPDATA && err)
		kind = M_ERRNO;

	switch (kind) {
	case M_ATTR:
		fz_bad_attr((struct uvfs_attr *)(buf + attr_off),
			    entry || in.nodeid != UVFS_ROOT_ID);
		break;
	case M_ENTRY: {
		struct uvfs_entry_out *e = (struct uvfs_entry_out *)buf;
		int t = fz_type_of_node(e->nodeid);

		switch (rndn(4)) {
		case 0:
			e->nodeid = 0;
			break;
		case 1:
			e->nodeid = UVFS_ROOT_ID;
			break;
		case 2:	/* same node id, another (valid) type */
			e->attr.mode = fz_mode((t + 1 + (int)rndn(2)) % 3);
			break;
		default:	/* the parent's node id */
			e->nodeid = in.nodeid;
			break;
		}
		break;
	}
	case M_DIRENT: {
		struct uvfs_dirent *d = (struct uvfs_dirent *)buf;

		if (len < sizeof(*d)) {	/* end of directory: invent one */
			len = add_dirent(buf, "x", 1, 5, 99);
		}
		switch (rndn(7)) {
		case 0:
			d->namelen = 256 + rndn(1000);
			break;
		case 1:
			d->namelen = 0xffffffffu - rndn(16);
			break;
		case 2:	/* longer than the payload */
			d->namelen = (uint32_t)len;
			break;
		case 3:
			d->namelen = 0;
			break;
		case 4:
			buf[sizeof(*d)] = rndn(2) ? '/' : '\0';
			break;
		case 5:
			d->type = 16 + rndn(1000);
			break;
		default:	/* cut a record short */
			len -= 1 + rndn(7);
			break;
		}
		break;
	}
	case M_OPDATA:
		switch (in.opcode) {
		case UVFS_OP_READLINK:
			if (rndn(2)) {
				memcpy(buf, "ta\0get", 6);
			} else {
				len = rndn(2) ? 0 : 4096 + rndn(8192);
				memset(buf, 'x', len);
			}
			break;
		case UVFS_OP_WRITE:
		case UVFS_OP_GETXATTR:
		case UVFS_OP_LISTXATTR:
			if (len == sizeof(struct uvfs_write_out)) {
				((struct uvfs_write_out *)buf)->size =
					0xffffffffu - rndn(100000);
			} else {	/* list without its NUL / more than asked */
				len = len ? len - 1 : 0;
				if (rndn(2))
					len = 65536 - 4096;
			}
			break;
		case UVFS_OP_READ:	/* more than asked */
			len += 1 + rndn(4096);
			break;
		case UVFS_OP_STATFS: {
			struct uvfs_statfs_out *o = (void *)buf;

			o->bsize = rndn(2) ? 0 : 0xffffffffu;
			o->frsize = 0;
			o->namelen = 0xffffffffu;
			o->bfree = ~0ULL;
			break;
		}
		case UVFS_OP_OPEN:
		case UVFS_OP_OPENDIR:
		case UVFS_OP_CREATE: {
			struct uvfs_open_out *o = (void *)(buf + len -
						sizeof(*o));

			o->open_flags = (uint32_t)rnd();
			o->fh = rnd();
			break;
		}
		default:
			len = maxpay - rndn(16);
			break;
		}
		break;
	case M_GARBAGE: {
		unsigned int i, n = 1 + rndn(8);

		for (i = 0; i < n; i++)
			buf[rndn((unsigned int)len)] = (char)rnd();
		/* not the root's type: that would break the mount for good */
		if (in.nodeid == UVFS_ROOT_ID && attr_off >= 0 && !entry) {
			struct uvfs_attr *a = (void *)(buf + attr_off);

			a->mode = (a->mode & ~S_IFMT) | S_IFDIR;
		}
		break;
	}
	case M_PAYLOAD:
		if (len && rndn(2))
			len -= 1 + rndn((unsigned int)len);
		else
			len += 1 + rndn(rndn(2) ? 8 : 4096);
		break;
	default:
		break;
	}
	if (len > maxpay)
		len = maxpay;
	put_reply(s, in.unique, kind == M_PAYLOAD || kind == M_DIRENT ||
		  kind == M_ATTR || kind == M_ENTRY || kind == M_GARBAGE ||
		  kind == M_OPDATA ? 0 : err, buf, len);
	switch (kind) {
	case M_UNIQUE:
		oh->unique = rndn(4) ? in.unique ^ (1 + rnd() % 1000000) : 0;
		break;
	case M_BADLEN:
		oh->len = rndn(2) ? rndn(sizeof(*oh)) :
			  rndn(2) ? 0xffffffffu : cs.slot_size + 1 +
						  rndn(100000);
		break;
	case M_ERRNO:
		oh->error = rndn(2) ? 1 + (int)rndn(0x7fffffff) :
			    rndn(2) ? INT32_MIN : -4096 - (int)rndn(100000);
		break;
	default:
		break;
	}
	if (fz->fuzzing) {
		fz->count[kind]++;
		if (kind != M_NONE && ++fz->nmut >= fz->target)
			fz->fuzzing = 0;
	}
	return 0;
}

static void fuzz_path(char *p, size_t n, const char *name)
{
	snprintf(p, n, "%s/%s", mnt, name);
}

/* One traffic child: random file system calls, errors ignored. */
static void fuzz_traffic(unsigned int id)
{
	static const char *const names[] = {
		"f0", "f1", "f2", "d0", "d1", "l0", "d0/f1", "d0/d1",
		"d1/f0", "missing", "d0/missing", "f3", "d2", "l1",
	};
	const unsigned int nn = sizeof(names) / sizeof(names[0]);
	char p[512], q[512], b[8192];
	struct stat st;
	struct statfs sfs;
	DIR *d;
	int fd;

	rng_state = fz->seed * 7919 + id + 1;
	while (!fz->stop) {
		fuzz_path(p, sizeof(p), names[rndn(nn)]);
		fuzz_path(q, sizeof(q), names[rndn(nn)]);
		switch (rndn(16)) {
		case 0:
		case 1:
			stat(p, &st);
			break;
		case 2:
			lstat(p, &st);
			break;
		case 3:
		case 4:
			/* O_NONBLOCK: a fuzzed reply may make it a fifo */
			fd = open(p, O_RDONLY | O_NONBLOCK);
			if (fd >= 0) {
				/* bounded: a reply may have made it huge */
				int k = 0;

				while (k++ < 4 && read(fd, b, sizeof(b)) > 0)
					;
				close(fd);
			}
			break;
		case 5:
			fd = open(p, O_WRONLY | O_CREAT | O_NONBLOCK, 0644);
			if (fd >= 0) {
				memset(b, 'w', 100);
				if (pwrite(fd, b, 100, rndn(9000)) < 0)
					(void)0;
				if (rndn(4) == 0)
					fsync(fd);
				close(fd);
			}
			break;
		case 6:
		case 7:
			d = opendir(rndn(2) ? mnt : p);
			if (d) {
				while (readdir(d))
					;
				closedir(d);
			}
			break;
		case 8:
			mkdir(p, 0755);
			break;
		case 9:
			if (rndn(2))
				unlink(p);
			else
				rmdir(p);
			break;
		case 10:
			rename(p, q);
			break;
		case 11:
			if (readlink(p, b, sizeof(b)) < 0)
				(void)0;
			break;
		case 12:
			if (rndn(2)) {
				if (truncate(p, rndn(10000)) < 0)
					(void)0;
			} else {
				chmod(p, 0600 + rndn(0100));
			}
			break;
		case 13:
			if (symlink("target", p) < 0)
				(void)0;
			break;
		case 14:
			statfs(mnt, &sfs);
			break;
		default:
			if (getxattr(p, "user.x", b, rndn(2) ? 0 : 64) < 0)
				(void)0;
			if (listxattr(p, b, rndn(2) ? 0 : 64) < 0)
				(void)0;
			break;
		}
		__atomic_add_fetch(&fz->ops, 1, __ATOMIC_RELAXED);
	}
	_exit(0);
}

/* Print a stuck task's state and kernel stack: why it did not stop. */
static void show_task(pid_t pid)
{
	static const char *const files[] = { "stat", "wchan", "syscall",
					     "stack" };
	char path[64], line[512];
	unsigned int i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid,
			 files[i]);
		f = fopen(path, "r");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f))
			printf("  %d %s: %s%s", (int)pid, files[i], line,
			       strchr(line, '\n') ? "" : "\n");
		fclose(f);
	}
}

/* Wait for pid for up to ms milliseconds; its status, or -1. */
static int wait_ms(pid_t pid, int ms)
{
	int st;

	for (; ms > 0; ms -= 10) {
		pid_t r = waitpid(pid, &st, WNOHANG);

		if (r == pid)
			return st;
		if (r < 0)
			return -1;
		usleep(10000);
	}
	return -1;
}

/*
 * A node changes type while in use (the daemon answers properly otherwise):
 * a regular file and a directory, each open, get GETATTR replies of the
 * other type.  The open fds fail with EIO from then on, even once the
 * daemon answers properly again; the names get fresh inodes of the right
 * type; the kernel log stays clean (guest.sh checks).
 */
static void fuzz_retype(void)
{
	static const char *const names[] = { "f-retype", "d-retype" };
	char p[512], c[600], b[FZ_FILE_SIZE + 16];
	struct stat st;
	unsigned int i;
	int fd, e, ok, isdir;
	ssize_t r;

	for (i = 0; i < 2; i++) {
		isdir = i == 1;
		fuzz_path(p, sizeof(p), names[i]);
		snprintf(c, sizeof(c), "%s/f0", p);
		/* a cached child under the directory */
		CHECK(!isdir || (stat(c, &st) == 0 && S_ISREG(st.st_mode)),
		      "retype %s: child looked up", names[i]);
		fd = open(p, O_RDONLY | (isdir ? O_DIRECTORY : 0));
		CHECK(fd >= 0, "retype %s: open (%s)", names[i],
		      strerror(errno));
		if (fd < 0)
			continue;
		fz->retype = fz_nodeid(UVFS_ROOT_ID, names[i]) |
			     (uint64_t)(isdir ? FZ_T_DIR : FZ_T_REG);
		errno = 0;
		e = fstat(fd, &st) < 0 ? errno : 0;
		CHECK(e == EIO, "retype %s: fstat says EIO (%s)", names[i],
		      strerror(e));
		fz->retype = 0;
		/* bad for good: no more requests make it good again */
		errno = 0;
		e = fstat(fd, &st) < 0 ? errno : 0;
		CHECK(e == EIO, "retype %s: fstat still EIO (%s)", names[i],
		      strerror(e));
		errno = 0;
		if (isdir) {
			e = fchmod(fd, 0700) < 0 ? errno : 0;
			CHECK(e == EIO, "retype %s: fchmod EIO (%s)",
			      names[i], strerror(e));
		} else {
			e = read(fd, b, sizeof(b)) < 0 ? errno : 0;
			CHECK(e == EIO, "retype %s: read EIO (%s)", names[i],
			      strerror(e));
		}
		close(fd);	/* flush may say EIO too */
		/* the name: a new inode of the (unchanged) right type */
		CHECK(stat(p, &st) == 0 &&
		      (isdir ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode)),
		      "retype %s: stat the name afterwards", names[i]);
		if (isdir) {
			CHECK(stat(c, &st) == 0 && S_ISREG(st.st_mode),
			      "retype %s: child afterwards", names[i]);
			continue;
		}
		fd = open(p, O_RDONLY);
		r = fd >= 0 ? read(fd, b, sizeof(b)) : -1;
		ok = r == FZ_FILE_SIZE;
		CHECK(ok, "retype %s: read afterwards (%zd bytes)", names[i],
		      r);
		if (fd >= 0)
			close(fd);
	}
}

static int fuzz_main(uint64_t seed, unsigned long n, const char *mp)
{
	char p[512], b[FZ_FILE_SIZE + 16];
	struct stat st;
	struct timespec t0, t1;
	pid_t srv, tr[2];
	int fd, i, ok, stuck = 0;
	ssize_t r;
	DIR *d;

	mnt = mp;
	alarm(300);
	fz = mmap(NULL, sizeof(*fz), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (fz == MAP_FAILED)
		return 2;
	fz->seed = seed;
	fz->target = n;
	rng_state = seed ? seed : 1;
	fd = chan_open(16);
	if (fd < 0)
		return 2;
	/* mount properly; fuzzing starts with the traffic */
	srv = mount_served(fd, fuzz_one, "fuzz", 1);
	CHECK(srv > 0, "fuzz: mount");
	if (srv < 0)
		return 1;
	fz->fuzzing = 1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < 2; i++) {
		tr[i] = fork();
		if (tr[i] == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			fuzz_traffic((unsigned int)i);
		}
	}
	/* until n malformed replies went out (or 200 s) */
	for (i = 0; i < 20000 && fz->fuzzing; i++)
		usleep(10000);
	fz->fuzzing = 0;
	fz->stop = 1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	for (i = 0; i < 2; i++)
		if (wait_ms(tr[i], 10000) < 0) {
			stuck++;
			show_task(tr[i]);
			kill(tr[i], SIGKILL);
			waitpid(tr[i], NULL, 0);
		}
	printf("fuzz: seed %llu, %lu requests answered in %.1f s by %lu "
	       "traffic calls\n", (unsigned long long)seed,
	       fz->count[M_NONE] + fz->nmut,
	       (double)(t1.tv_sec - t0.tv_sec) +
	       (double)(t1.tv_nsec - t0.tv_nsec) / 1e9, fz->ops);
	for (i = 0; i < M_NKINDS; i++)
		printf("fuzz:   %-20s %lu\n", kind_name[i], fz->count[i]);
	printf("fuzz:   %-20s %lu\n", "(non-root retype)", fz->nretype);
	CHECK(fz->nretype > 0, "fuzz: some non-root node changed type");
	CHECK(fz->nmut >= n, "fuzz: %lu malformed replies sent (want %lu)",
	      fz->nmut, n);
	CHECK(!stuck, "fuzz: traffic stops (%d stuck)", stuck);

	/* answered properly again: the mount must work */
	CHECK(stat(mnt, &st) == 0 && S_ISDIR(st.st_mode),
	      "fuzz: stat root afterwards");
	fuzz_path(p, sizeof(p), "after-fuzz");
	CHECK(stat(p, &st) == 0 && S_ISREG(st.st_mode) &&
	      st.st_size == FZ_FILE_SIZE, "fuzz: stat a new name afterwards");
	fd = open(p, O_RDONLY);
	r = fd >= 0 ? read(fd, b, sizeof(b)) : -1;
	ok = r == FZ_FILE_SIZE;
	for (i = 0; ok && i < FZ_FILE_SIZE; i++)
		ok = b[i] == 'z';
	CHECK(ok, "fuzz: read it afterwards (%zd bytes)", r);
	if (fd >= 0)
		close(fd);
	fuzz_path(p, sizeof(p), "missing-dir");	/* LOOKUP: ENOENT */
	errno = 0;
	CHECK(mkdir(p, 0755) == 0, "fuzz: mkdir afterwards (%s)",
	      strerror(errno));
	ok = 0;
	d = opendir(mnt);
	if (d) {
		struct dirent *de;

		while ((de = readdir(d)))
			ok += !strcmp(de->d_name, "l0");
		closedir(d);
	}
	CHECK(ok == 1, "fuzz: readdir root afterwards");
	fuzz_retype();
	CHECK(umount(mnt) == 0, "fuzz: umount");
	i = wait_ms(srv, 10000);
	CHECK(i >= 0 && WIFEXITED(i) && WEXITSTATUS(i) == 0,
	      "fuzz: daemon released after DESTROY (status %d)", i);
	if (i < 0) {
		kill(srv, SIGKILL);
		waitpid(srv, NULL, 0);
	}
	printf("%d passed, %d failed\n", npass, nfail);
	return nfail ? 1 : 0;
}

int main(int argc, char **argv)
{
	char opts[128], p[512];
	pid_t srv, waiter;
	int fd, st, e, i;
	struct statfs sfs;

	if (argc == 3 && !strcmp(argv[1], "--stall"))
		return stall_main(argv[2]);
	if (argc == 5 && !strcmp(argv[1], "--fuzz"))
		return fuzz_main(strtoull(argv[2], NULL, 0),
				 strtoul(argv[3], NULL, 0), argv[4]);
	if (argc != 2) {
		fprintf(stderr, "usage: uvfs-chan-test MOUNTPOINT\n"
			"       uvfs-chan-test --stall MOUNTPOINT\n"
			"       uvfs-chan-test --fuzz SEED N MOUNTPOINT\n");
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
	notify_checks(fd);
	header_checks();
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
	/* its lookup was counted by the daemon: the kernel forgets it */
	for (i = 0; i < 100 && !sh->late_forgotten; i++)
		usleep(10000);
	CHECK(sh->late_forgotten == 1,
	      "the dead waiter's entry is forgotten (%d)", sh->late_forgotten);

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
