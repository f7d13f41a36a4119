// SPDX-License-Identifier: MIT
/*
 * The kmod transport: requests come from uvfs.ko through the shared-memory
 * channel of /dev/uvfs (see the "Shared-memory channel" section of
 * proto.h).
 *
 * One thread per queue loops on UVFS_IOC_WAIT: the call commits the slots
 * answered since the previous one and returns the newly ready slots, whose
 * requests are dispatched in place (arguments and WRITE payloads are read
 * straight from the shared slot).  A reply is written over its slot; READ,
 * READDIR and LISTXATTR payloads can be built there directly (outbuf).  A
 * reply sent by the queue's own thread is committed by its next WAIT; one
 * sent by any other thread is committed at once with UVFS_IOC_COMMIT.
 * WAIT polls the queue for up to -o spin= microseconds (spin_us; the kernel
 * adapts the poll below that) before it sleeps.  The per-request state is
 * preallocated (one kmod_req per slot) and the WAIT argument lives on the
 * thread's stack: the serving loop allocates nothing and takes no lock.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "uvfs_i.h"

#define KMOD_DEV "/dev/uvfs"

struct kmod_queue;

struct kmod_req {
	struct uvfs_req req;
	struct kmod_queue *q;
	uint16_t slot;
};

struct kmod_queue {
	struct uvfs_kmod *k;
	unsigned int idx;
	pthread_t thread;
	int started;
	char *base;			/* mapped queue area */
	struct kmod_req *reqs;		/* one per slot */
	uint16_t done[UVFS_WAIT_MAX];	/* committed by the next WAIT */
	unsigned int ndone;
	int error;			/* why the thread stopped */
};

struct uvfs_kmod {
	struct uvfs_session *se;
	int fd;
	struct uvfs_chan_setup cs;
	void *area;
	char *mountpoint;
	int mounted;
	int bdev;			/* serves /dev/uvbd<bdev_index> */
	uint32_t bdev_index;
	pid_t owner;			/* process whose threads serve */
	struct kmod_queue *queues;
	atomic_int running;		/* serving threads alive */
	atomic_int stop;
};

/* The queue whose WAIT loop runs on this thread, if any. */
static __thread struct kmod_queue *tls_queue;

static char *slot_addr(struct kmod_queue *q, unsigned int slot)
{
	return q->base + UVFS_CHAN_HDR_SIZE +
	       (size_t)slot * q->k->cs.slot_size;
}

/* Hand the slot back: by our next WAIT, or right now from another thread. */
static void kmod_done(struct kmod_queue *q, uint16_t slot)
{
	struct uvfs_chan_wait w;

	if (tls_queue == q && q->ndone < UVFS_WAIT_MAX) {
		q->done[q->ndone++] = slot;
		return;
	}
	memset(&w, 0, sizeof(w));
	w.queue = q->idx;
	w.ndone = 1;
	w.done[0] = slot;
	while (ioctl(q->k->fd, UVFS_IOC_COMMIT, &w) < 0 && errno == EINTR)
		;
}

static int kmod_send_reply(struct uvfs_req *req, const struct iovec *iov,
			   int iovcnt)
{
	struct kmod_req *kr = req->tp;
	struct kmod_queue *q = kr->q;
	char *slot = slot_addr(q, kr->slot);
	size_t len = 0, off;
	int i;

	for (i = 0; i < iovcnt; i++)
		len += iov[i].iov_len;
	if (len > q->k->cs.slot_size) {
		/* Can't happen (reply_max), but never overrun the slot. */
		struct uvfs_out_header oh = { req->in.unique, -EIO,
					      sizeof(oh) };

		memcpy(slot, &oh, sizeof(oh));
		kmod_done(q, kr->slot);
		return -EIO;
	}
	/* Payload first (it may already be in place: outbuf), header last. */
	off = iov[0].iov_len;
	for (i = 1; i < iovcnt; i++) {
		if (iov[i].iov_len && iov[i].iov_base != slot + off)
			memmove(slot + off, iov[i].iov_base, iov[i].iov_len);
		off += iov[i].iov_len;
	}
	memcpy(slot, iov[0].iov_base, iov[0].iov_len);
	kmod_done(q, kr->slot);
	return 0;
}

/* FORGET (no reply): the slot is still handed back. */
static void kmod_free_req(struct uvfs_req *req)
{
	struct kmod_req *kr = req->tp;

	kmod_done(kr->q, kr->slot);
}

/*
 * Reply space inside the slot, for ops whose arguments were consumed before
 * the backend was called (building the reply overwrites the request).
 */
static void *kmod_outbuf(struct uvfs_req *req, size_t size)
{
	struct kmod_req *kr = req->tp;

	switch (req->in.opcode) {
	case UVFS_OP_READ:
	case UVFS_OP_READDIR:
	case UVFS_OP_READDIRPLUS:
	case UVFS_OP_LISTXATTR:
	case UVFS_OP_BLK_READ:
		break;
	default:
		return NULL;
	}
	if (size + sizeof(struct uvfs_out_header) > kr->q->k->cs.slot_size)
		return NULL;
	return slot_addr(kr->q, kr->slot) + sizeof(struct uvfs_out_header);
}

/* A notification: gathered into one message for UVFS_IOC_NOTIFY. */
static int kmod_notify(struct uvfs_session *se, const struct iovec *iov,
		       int iovcnt)
{
	struct uvfs_kmod *k = se->tp_priv;
	char msg[sizeof(struct uvfs_out_header) +
		 sizeof(struct uvfs_notify_inval_entry) + UVFS_NAME_MAX + 8];
	struct uvfs_out_header oh;
	size_t len = 0;
	int i;

	if (!k || k->fd < 0)
		return -ENOTCONN;
	for (i = 0; i < iovcnt; i++) {
		if (iov[i].iov_len > sizeof(msg) - len)
			return -EINVAL;
		memcpy(msg + len, iov[i].iov_base, iov[i].iov_len);
		len += iov[i].iov_len;
	}
	if (len < sizeof(oh))
		return -EINVAL;
	memcpy(&oh, msg, sizeof(oh));
	oh.unique = 0;
	oh.len = (uint32_t)len;
	memcpy(msg, &oh, sizeof(oh));
	if (ioctl(k->fd, UVFS_IOC_NOTIFY, msg) < 0)
		return -errno;
	return 0;
}

static const struct uvfs_transport_ops kmod_ops = {
	.name = "kmod",
	.send_reply = kmod_send_reply,
	.notify = kmod_notify,
	.outbuf = kmod_outbuf,
	.free_req = kmod_free_req,
};

static void kmod_handle(struct kmod_queue *q, unsigned int slot)
{
	struct uvfs_kmod *k = q->k;
	struct kmod_req *kr;
	struct uvfs_in_header in;
	char *p;

	if (slot >= k->cs.depth)
		return;		/* kernel bug; nothing sane to answer */
	kr = &q->reqs[slot];
	p = slot_addr(q, slot);
	memcpy(&in, p, sizeof(in));
	if (in.len < sizeof(in) || in.len > k->cs.slot_size) {
		struct uvfs_out_header oh = { in.unique, -EIO, sizeof(oh) };

		uvfs_log("uvfs: kmod: bad request length %u", in.len);
		memcpy(p, &oh, sizeof(oh));
		kmod_done(q, (uint16_t)slot);
		return;
	}
	kr->q = q;
	kr->slot = (uint16_t)slot;
	uvfs_req_init(&kr->req, k->se, &in,
		      k->cs.slot_size -
			      (uint32_t)sizeof(struct uvfs_out_header),
		      kr);
	uvfs_dispatch(&kr->req, p + sizeof(in), in.len - sizeof(in));
}

static void *kmod_thread(void *arg)
{
	struct kmod_queue *q = arg;
	struct uvfs_kmod *k = q->k;
	struct uvfs_chan_wait w;
	unsigned int i;

	tls_queue = q;
	while (!atomic_load(&k->stop)) {
		w.queue = q->idx;
		w.nready = 0;
		w.spin_us = k->se->opts.spin_us;
		w.ndone = q->ndone;
		memcpy(w.done, q->done, q->ndone * sizeof(q->done[0]));
		if (ioctl(k->fd, UVFS_IOC_WAIT, &w) < 0) {
			int e = errno;

			if (e != EFAULT)
				q->ndone = 0;	/* consumed */
			if (e == EINTR)
				continue;
			if (e == EINVAL && w.ndone) {
				/* a bad done[] entry was skipped: go on */
				continue;
			}
			q->error = e == ENODEV ? 0 : -e;
			break;
		}
		q->ndone = 0;
		for (i = 0; i < w.nready && i < UVFS_WAIT_MAX; i++)
			kmod_handle(q, w.ready[i]);
	}
	tls_queue = NULL;
	atomic_fetch_sub(&k->running, 1);
	return NULL;
}

static int start_threads(struct uvfs_kmod *k)
{
	sigset_t all, old;
	unsigned int i;
	int ret = 0;

	/* Serving threads take no signals: uvfs_kmod_loop() does. */
	sigemptyset(&all);
	sigaddset(&all, SIGINT);
	sigaddset(&all, SIGTERM);
	sigaddset(&all, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	k->owner = getpid();
	for (i = 0; i < k->cs.nqueues; i++) {
		struct kmod_queue *q = &k->queues[i];

		q->ndone = 0;
		atomic_fetch_add(&k->running, 1);
		ret = -pthread_create(&q->thread, NULL, kmod_thread, q);
		if (ret) {
			atomic_fetch_sub(&k->running, 1);
			break;
		}
		q->started = 1;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return ret;
}

static void stop_threads(struct uvfs_kmod *k)
{
	unsigned int i;

	if (!k->queues || k->owner != getpid())
		return;
	atomic_store(&k->stop, 1);
	if (k->fd >= 0)
		ioctl(k->fd, UVFS_IOC_SHUTDOWN);
	for (i = 0; i < k->cs.nqueues; i++) {
		if (k->queues[i].started) {
			pthread_join(k->queues[i].thread, NULL);
			k->queues[i].started = 0;
		}
	}
}

static int kmod_setup(struct uvfs_kmod *k, char *err, size_t errlen)
{
	unsigned int i;

	memset(&k->cs, 0, sizeof(k->cs));
	k->cs.nqueues = k->se->opts.single_thread ? 1 : 0;
	if (ioctl(k->fd, UVFS_IOC_SETUP, &k->cs) < 0) {
		int e = errno;

		snprintf(err, errlen, "%s: channel setup: %s", KMOD_DEV,
			 strerror(e));
		return -e;
	}
	if (!k->cs.nqueues || !k->cs.depth ||
	    k->cs.slot_size < UVFS_CHAN_MIN_SLOT) {
		snprintf(err, errlen, "%s: kernel returned a bad geometry",
			 KMOD_DEV);
		return -EPROTO;
	}
	k->area = mmap(NULL, k->cs.mmap_size, PROT_READ | PROT_WRITE,
		       MAP_SHARED, k->fd, 0);
	if (k->area == MAP_FAILED) {
		int e = errno;

		k->area = NULL;
		snprintf(err, errlen, "%s: mmap: %s", KMOD_DEV, strerror(e));
		return -e;
	}
	k->queues = calloc(k->cs.nqueues, sizeof(*k->queues));
	if (!k->queues)
		goto nomem;
	for (i = 0; i < k->cs.nqueues; i++) {
		struct kmod_queue *q = &k->queues[i];

		q->k = k;
		q->idx = i;
		q->base = (char *)k->area + (size_t)i * k->cs.queue_stride;
		q->reqs = calloc(k->cs.depth, sizeof(*q->reqs));
		if (!q->reqs)
			goto nomem;
	}
	return 0;
nomem:
	snprintf(err, errlen, "out of memory");
	return -ENOMEM;
}

/*
 * Open /dev/uvfs, set up and map the channel, and start serving it: what
 * a mount and a block device both begin with.  *out is set even on
 * failure (for uvfs_kmod_free()).
 */
static int kmod_open(struct uvfs_session *se, struct uvfs_kmod **out,
		     char *err, size_t errlen)
{
	struct uvfs_kmod *k;
	int ret;

	*out = k = calloc(1, sizeof(*k));
	if (!k) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	k->se = se;
	k->fd = open(KMOD_DEV, O_RDWR | O_CLOEXEC);
	if (k->fd < 0) {
		ret = -errno;
		if (ret == -ENOENT && se->blk)
			snprintf(err, errlen, "%s not found: load uvfs.ko "
				 "(block devices need the module)", KMOD_DEV);
		else
			snprintf(err, errlen, "%s: %s (is uvfs.ko loaded?)",
				 KMOD_DEV, strerror(-ret));
		return ret;
	}
	ret = kmod_setup(k, err, errlen);
	if (ret)
		return ret;
	se->tp = &kmod_ops;
	se->tp_priv = k;

	ret = start_threads(k);
	if (ret)
		snprintf(err, errlen, "cannot start threads: %s",
			 strerror(-ret));
	return ret;
}

int uvfs_kmod_mount(struct uvfs_session *se, const char *mountpoint,
		    struct uvfs_kmod **out, char *err, size_t errlen)
{
	const struct uvfs_session_opts *o = &se->opts;
	struct uvfs_kmod *k;
	char opts[512];
	const char *source;
	/* like FUSE mounts: set-id bits and device nodes have no effect */
	unsigned long flags = MS_NOSUID | MS_NODEV;
	int ret;

	*out = NULL;
	if (!se->backend) {
		snprintf(err, errlen, "a block backend has nothing to mount");
		return -EINVAL;
	}
	ret = kmod_open(se, &k, err, errlen);
	if (ret)
		goto fail;
	k->mountpoint = strdup(mountpoint);
	if (!k->mountpoint) {
		snprintf(err, errlen, "out of memory");
		ret = -ENOMEM;
		goto fail;
	}

	snprintf(opts, sizeof(opts),
		 "fd=%d,rootmode=40755,user_id=%u,group_id=%u%s%s", k->fd,
		 (unsigned int)getuid(), (unsigned int)getgid(),
		 o->allow_other ? ",allow_other" : "",
		 o->default_permissions ? ",default_permissions" : "");
	if (o->readonly)
		flags |= MS_RDONLY;
	/* the generic flags the user chose (-o noexec, dev, ...) */
	flags = (flags & ~o->mnt_flags_mask) | (o->mnt_flags & o->mnt_flags_mask);
	source = o->fsname && o->fsname[0] ? o->fsname : se->backend->name;
	if (mount(source, mountpoint, "uvfs", flags, opts) < 0) {
		ret = -errno;
		if (ret == -ENODEV)
			snprintf(err, errlen,
				 "mount %s: file system type uvfs unknown (is uvfs.ko loaded?)",
				 mountpoint);
		else
			snprintf(err, errlen, "mount %s: %s", mountpoint,
				 strerror(-ret));
		goto fail;
	}
	k->mounted = 1;
	*out = k;
	return 0;

fail:
	uvfs_kmod_free(k);
	return ret;
}

int uvfs_kmod_bdev_add(struct uvfs_session *se, struct uvfs_kmod **out,
		       uint32_t *index, char *err, size_t errlen)
{
	struct uvfs_bdev_add add = { 0 };
	struct uvfs_kmod *k;
	int ret;

	*out = NULL;
	if (!se->blk || !se->mounted) {
		snprintf(err, errlen, "not an open block session");
		return -EINVAL;
	}
	/* the queues are served before the disk is added: adding reads */
	ret = kmod_open(se, &k, err, errlen);
	if (ret)
		goto fail;
	add.major = UVFS_PROTO_MAJOR;
	add.minor = UVFS_PROTO_MINOR;
	add.size = se->geo.size;
	add.block_size = se->geo.block_size;
	add.flags = se->geo.flags;
	if (ioctl(k->fd, UVFS_IOC_BDEV_ADD, &add) < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: cannot add the block device: %s%s",
			 KMOD_DEV, strerror(-ret),
			 ret == -ENOTTY ? " (uvfs.ko too old: no block devices)" :
			 ret == -EPERM ? " (needs root)" : "");
		goto fail;
	}
	k->bdev = 1;
	k->bdev_index = add.index;
	*index = add.index;
	*out = k;
	return 0;

fail:
	uvfs_kmod_free(k);
	return ret;
}

int uvfs_kmod_bdev_remove(uint32_t index, char *err, size_t errlen)
{
	int fd = open(KMOD_DEV, O_RDWR | O_CLOEXEC), ret = 0;
	__u32 n = index;

	if (fd < 0) {
		ret = -errno;
		if (ret == -ENOENT)
			snprintf(err, errlen, "%s not found: load uvfs.ko "
				 "(block devices need the module)", KMOD_DEV);
		else
			snprintf(err, errlen, "%s: %s", KMOD_DEV,
				 strerror(-ret));
		return ret;
	}
	if (ioctl(fd, UVFS_IOC_BDEV_REMOVE, &n) < 0) {
		ret = -errno;
		if (ret == -ENOENT)
			snprintf(err, errlen, "/dev/uvbd%u: no such device",
				 index);
		else if (ret == -EPERM || ret == -EACCES)
			snprintf(err, errlen, "/dev/uvbd%u: removing a block "
				 "device needs root (CAP_SYS_ADMIN)", index);
		else
			snprintf(err, errlen, "/dev/uvbd%u: cannot remove: %s",
				 index, strerror(-ret));
	}
	close(fd);
	return ret;
}

/*
 * A block device on a signal: remove it while we still serve (the kernel
 * writes its users' dirty data first), after which the kernel shuts the
 * channel down and the threads stop.  ENOENT: someone removed it already.
 */
static void kmod_bdev_remove_self(struct uvfs_kmod *k)
{
	__u32 n = k->bdev_index;

	if (ioctl(k->fd, UVFS_IOC_BDEV_REMOVE, &n) < 0 && errno != ENOENT)
		uvfs_log("uvfs: cannot remove /dev/uvbd%u: %s", n,
			 strerror(errno));
}

/* Unmount on a signal: normally, or lazily if busy. */
static void kmod_unmount(struct uvfs_kmod *k)
{
	if (!k->mounted)
		return;
	if (umount2(k->mountpoint, 0) < 0 &&
	    (errno == EBUSY && umount2(k->mountpoint, MNT_DETACH) < 0))
		uvfs_log("uvfs: cannot unmount %s: %s", k->mountpoint,
			 strerror(errno));
	k->mounted = 0;
}

int uvfs_kmod_loop(struct uvfs_kmod *k)
{
	struct timespec tick = { 0, 100 * 1000 * 1000 };
	sigset_t sigs, old;
	unsigned int i;
	int nsig = 0, ret = 0;

	/* Threads don't survive fork(): a detached daemon restarts them. */
	if (k->owner != getpid()) {
		for (i = 0; i < k->cs.nqueues; i++)
			k->queues[i].started = 0;
		atomic_store(&k->running, 0);
		ret = start_threads(k);
		if (ret)
			return ret;
	}
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, &old);
	while (atomic_load(&k->running) > 0) {
		int sig = sigtimedwait(&sigs, NULL, &tick);

		if (sig <= 0)
			continue;
		if (++nsig == 1 && k->bdev) {
			kmod_bdev_remove_self(k);	/* ENODEV follows */
		} else if (nsig == 1) {
			kmod_unmount(k);	/* DESTROY follows */
		} else {
			ret = -EINTR;
			break;
		}
	}
	stop_threads(k);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	/* The kernel reported the unmount: nothing left to detach. */
	k->mounted = 0;
	for (i = 0; i < k->cs.nqueues && !ret; i++)
		if (k->queues[i].error)
			ret = k->queues[i].error;
	return ret;
}

/* Sum the kernel's counters of every queue's header page into the session. */
static void kmod_save_stats(struct uvfs_kmod *k)
{
	struct uvfs_chan_hdr *sum = &k->se->chan_stats;
	unsigned int i;

	memset(sum, 0, sizeof(*sum));
	for (i = 0; i < k->cs.nqueues; i++) {
		struct uvfs_chan_hdr h;

		if (!k->queues[i].base)
			return;
		memcpy(&h, k->queues[i].base, sizeof(h));
		if (h.magic != UVFS_CHAN_HDR_MAGIC)
			return;	/* a kernel before 1.1: no counters */
		sum->requests += h.requests;
		sum->lazy += h.lazy;
		sum->wakeups += h.wakeups;
		sum->spin_hits += h.spin_hits;
		sum->spin_misses += h.spin_misses;
		sum->sender_spins += h.sender_spins;
	}
	k->se->have_chan_stats = true;
}

void uvfs_kmod_free(struct uvfs_kmod *k)
{
	unsigned int i;

	if (!k)
		return;
	stop_threads(k);
	if (k->se && k->area && k->queues)
		kmod_save_stats(k);
	if (k->se && k->se->tp == &kmod_ops) {
		k->se->tp = NULL;
		k->se->tp_priv = NULL;
	}
	if (k->area)
		munmap(k->area, k->cs.mmap_size);
	if (k->fd >= 0)
		close(k->fd);	/* aborts whatever the kernel still has */
	if (k->queues) {
		for (i = 0; i < k->cs.nqueues; i++)
			free(k->queues[i].reqs);
		free(k->queues);
	}
	free(k->mountpoint);
	free(k);
}
