// SPDX-License-Identifier: GPL-2.0
/*
 * The channel: /dev/uvfs, its shared-memory queues, sending requests and
 * taking replies.
 *
 * A sender takes a free slot of its CPU's queue, copies its request in,
 * marks it ready and sleeps (killable).  The daemon's UVFS_IOC_WAIT hands
 * ready slots out; a later WAIT or COMMIT names them done, and the kernel
 * copies each reply out of the slot into the sender's buffers, validating
 * the copy, then frees the slot and wakes the sender.  Closing the device
 * aborts the connection: all requests fail with -ENOTCONN.
 */
#include <linux/file.h>
#include <linux/highmem.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>

#include "uvfs_i.h"

static struct kmem_cache *uvfs_req_cachep;

void uvfs_warn_bad_reply(u32 opcode, const char *why)
{
	pr_warn_ratelimited("uvfs: bad reply to opcode %u: %s\n", opcode, why);
}

/* ---- connection ---- */

void uvfs_conn_get(struct uvfs_conn *conn)
{
	kref_get(&conn->kref);
}

static void uvfs_conn_free_queues(struct uvfs_conn *conn)
{
	unsigned int i;

	if (conn->queues) {
		for (i = 0; i < conn->nqueues; i++) {
			kfree(conn->queues[i].slots);
			kfree(conn->queues[i].freelist);
			kfree(conn->queues[i].ready);
		}
		kfree(conn->queues);
		conn->queues = NULL;
	}
	vfree(conn->area);
	conn->area = NULL;
}

static void uvfs_conn_release(struct kref *kref)
{
	struct uvfs_conn *conn = container_of(kref, struct uvfs_conn, kref);

	uvfs_conn_free_queues(conn);
	kfree(conn);
}

void uvfs_conn_put(struct uvfs_conn *conn)
{
	kref_put(&conn->kref, uvfs_conn_release);
}

unsigned int uvfs_max_payload(struct uvfs_conn *conn)
{
	return conn->slot_size - UVFS_SLOT_ARGS_ROOM;
}

static void uvfs_req_put(struct uvfs_req *req)
{
	if (refcount_dec_and_test(&req->count)) {
		if (req->background &&
		    atomic_dec_and_test(&req->conn->nbackground))
			wake_up_all(&req->conn->bg_waitq);
		uvfs_conn_put(req->conn);
		kmem_cache_free(uvfs_req_cachep, req);
	}
}

/* Called with q->lock held; the caller drops the slot's reference. */
static void uvfs_slot_free(struct uvfs_queue *q, unsigned int idx)
{
	lockdep_assert_held(&q->lock);
	q->slots[idx].req = NULL;
	q->slots[idx].state = UVFS_SLOT_FREE;
	q->freelist[q->nfree++] = idx;
}

static void uvfs_req_complete(struct uvfs_req *req, int error)
{
	req->error = error;
	/* Pairs with the READ_ONCE in the waiter's condition. */
	smp_store_release(&req->done, true);
	wake_up_all(&req->waitq);
}

/*
 * Abort: fail everything queued or in flight, refuse new requests.  Slots
 * being filled are left to their senders, which see !connected.
 */
static void uvfs_conn_abort(struct uvfs_conn *conn)
{
	unsigned int i, s;

	mutex_lock(&conn->setup_lock);
	WRITE_ONCE(conn->connected, false);
	for (i = 0; conn->queues && i < conn->nqueues; i++) {
		struct uvfs_queue *q = &conn->queues[i];

		for (;;) {
			struct uvfs_req *req = NULL;

			spin_lock(&q->lock);
			for (s = 0; s < conn->depth; s++) {
				u8 st = q->slots[s].state;

				if (st == UVFS_SLOT_READY ||
				    st == UVFS_SLOT_INFLIGHT) {
					req = q->slots[s].req;
					uvfs_slot_free(q, s);
					break;
				}
			}
			q->ready_count = 0;
			spin_unlock(&q->lock);
			if (!req)
				break;
			uvfs_req_complete(req, -ENOTCONN);
			uvfs_req_put(req);
		}
		wake_up_all(&q->waitq);
		wake_up_all(&q->slotq);
	}
	mutex_unlock(&conn->setup_lock);
}

/* The file system is gone and DESTROY was answered: let the daemon go. */
void uvfs_conn_shutdown(struct uvfs_conn *conn)
{
	unsigned int i;

	mutex_lock(&conn->setup_lock);
	WRITE_ONCE(conn->shutdown, true);
	for (i = 0; conn->queues && i < conn->nqueues; i++)
		wake_up_all(&conn->queues[i].waitq);
	mutex_unlock(&conn->setup_lock);
}

void uvfs_wait_background(struct uvfs_conn *conn)
{
	wait_event(conn->bg_waitq, !atomic_read(&conn->nbackground) ||
				   !READ_ONCE(conn->connected));
}

/* ---- sending ---- */

/* Copy len bytes between a slot and pages (PAGE_SIZE each, in order). */
static void uvfs_copy_pages(void *slot, struct page **pages, size_t len,
			    bool to_slot)
{
	char *p = slot;
	unsigned int i;

	for (i = 0; len; i++) {
		size_t n = min_t(size_t, len, PAGE_SIZE);

		if (to_slot)
			memcpy_from_page(p, pages[i], 0, n);
		else
			memcpy_to_page(pages[i], 0, p, n);
		p += n;
		len -= n;
	}
}

static void uvfs_fill_slot(struct uvfs_req *req, struct uvfs_args *args,
			   void *slot, u32 len)
{
	struct uvfs_in_header *ih = slot;
	char *p = (char *)slot + sizeof(*ih);
	unsigned int i;

	ih->len = len;
	ih->opcode = args->opcode;
	ih->unique = req->unique;
	ih->nodeid = args->nodeid;
	if (args->nocreds) {
		ih->uid = 0;
		ih->gid = 0;
		ih->pid = 0;
	} else {
		ih->uid = from_kuid_munged(&init_user_ns, current_fsuid());
		ih->gid = from_kgid_munged(&init_user_ns, current_fsgid());
		ih->pid = task_tgid_nr(current);
	}
	ih->umask = args->umask;
	for (i = 0; i < args->in_numargs; i++) {
		unsigned int sz = args->in_args[i].size;

		if (i + 1 == args->in_numargs && args->in_pages)
			uvfs_copy_pages(p, args->in_pages, sz, true);
		else
			memcpy(p, args->in_args[i].value, sz);
		p += sz;
	}
}

/* Take a free slot of q; 0 or -ENOTCONN / -EINTR. */
static int uvfs_get_slot(struct uvfs_conn *conn, struct uvfs_queue *q,
			 bool killable, unsigned int *idx)
{
	int err;

	spin_lock(&q->lock);
	for (;;) {
		if (!READ_ONCE(conn->connected)) {
			spin_unlock(&q->lock);
			return -ENOTCONN;
		}
		if (q->nfree)
			break;
		spin_unlock(&q->lock);
		if (killable) {
			err = wait_event_killable(q->slotq,
					READ_ONCE(q->nfree) ||
					!READ_ONCE(conn->connected));
			if (err)
				return -EINTR;
		} else {
			wait_event(q->slotq, READ_ONCE(q->nfree) ||
				   !READ_ONCE(conn->connected));
		}
		spin_lock(&q->lock);
	}
	*idx = q->freelist[--q->nfree];
	q->slots[*idx].state = UVFS_SLOT_FILLING;
	spin_unlock(&q->lock);
	return 0;
}

static void *uvfs_slot_addr(struct uvfs_conn *conn, struct uvfs_queue *q,
			    unsigned int idx)
{
	return (char *)q->base + UVFS_CHAN_HDR_SIZE +
	       (size_t)idx * conn->slot_size;
}

/*
 * Send a request and, unless it is background or noreply, wait for its
 * reply.  Returns the reply's error (0 or -errno); args->out_size holds the
 * length of a variable last out arg.
 */
ssize_t uvfs_send(struct uvfs_conn *conn, struct uvfs_args *args)
{
	struct uvfs_queue *q;
	struct uvfs_req *req;
	unsigned int i, idx;
	size_t len = sizeof(struct uvfs_in_header), outlen = 0;
	bool wait = !args->background && !args->noreply;
	int err;

	if (args->opcode < UVFS_OP_MAX && test_bit(args->opcode, conn->nosys))
		return -ENOSYS;
	if (!READ_ONCE(conn->connected) || !smp_load_acquire(&conn->setup_done))
		return -ENOTCONN;
	for (i = 0; i < args->in_numargs; i++)
		len += args->in_args[i].size;
	for (i = 0; i < args->out_numargs; i++)
		outlen += args->out_args[i].size;
	/* Callers size requests to fit; big xattrs on small slots don't. */
	if (len > conn->slot_size ||
	    outlen + sizeof(struct uvfs_out_header) > conn->slot_size)
		return -E2BIG;

	req = kmem_cache_zalloc(uvfs_req_cachep, GFP_KERNEL);
	if (!req)
		return -ENOMEM;
	refcount_set(&req->count, wait ? 2 : 1);
	init_waitqueue_head(&req->waitq);
	uvfs_conn_get(conn);
	req->conn = conn;
	req->opcode = args->opcode;
	req->noreply = args->noreply;
	req->background = !wait;
	req->args = wait ? args : NULL;
	req->unique = atomic64_inc_return(&conn->unique);
	if (req->background)
		atomic_inc(&conn->nbackground);

	q = &conn->queues[raw_smp_processor_id() % conn->nqueues];
	req->q = q;
	err = uvfs_get_slot(conn, q, wait, &idx);
	if (err)
		goto out_put_all;

	uvfs_fill_slot(req, args, uvfs_slot_addr(conn, q, idx), len);

	spin_lock(&q->lock);
	if (!READ_ONCE(conn->connected)) {
		uvfs_slot_free(q, idx);
		spin_unlock(&q->lock);
		wake_up(&q->slotq);
		err = -ENOTCONN;
		goto out_put_all;
	}
	q->slots[idx].req = req;
	q->slots[idx].state = UVFS_SLOT_READY;
	q->ready[(q->ready_head + q->ready_count) % conn->depth] = idx;
	q->ready_count++;
	spin_unlock(&q->lock);
	wake_up(&q->waitq);

	if (!wait)
		return 0;

	err = wait_event_killable(req->waitq, smp_load_acquire(&req->done));
	if (err) {
		/* Killed: detach our buffers; the reply, if any, is dropped. */
		spin_lock(&q->lock);
		if (!req->done) {
			req->args = NULL;
			spin_unlock(&q->lock);
			uvfs_req_put(req);
			return -EINTR;
		}
		spin_unlock(&q->lock);
	}
	err = req->error;
	uvfs_req_put(req);
	return err;

out_put_all:
	if (wait)
		uvfs_req_put(req);
	uvfs_req_put(req);
	return err;
}

/* ---- replies ---- */

/*
 * A sender killed while its LOOKUP, MKNOD, MKDIR, SYMLINK, LINK or CREATE
 * was in flight never sees the reply, but the daemon counted a lookup (and
 * CREATE opened a handle).  Such a reply is remembered here and undone by
 * orphan_work: RELEASE the handle, then FORGET the node.  The work holds a
 * reference on the connection while queued.
 */
struct uvfs_orphan {
	struct list_head list;
	u64 nodeid;
	u64 fh;
	bool release;
};

static void uvfs_undo_entry(struct uvfs_conn *conn, struct uvfs_orphan *o)
{
	struct uvfs_release_in rel = { .fh = o->fh };
	struct uvfs_forget_in fin = { .count = 1 };
	struct uvfs_forget_one one = { .nodeid = o->nodeid, .nlookup = 1 };
	struct uvfs_args args = {
		.opcode = UVFS_OP_RELEASE,
		.nodeid = o->nodeid,
		.nocreds = true,
		.in_numargs = 1,
		.in_args[0] = { sizeof(rel), &rel },
	};

	if (o->release)
		uvfs_send(conn, &args);	/* before the node may go */
	memset(&args, 0, sizeof(args));
	args.opcode = UVFS_OP_FORGET;
	args.noreply = true;
	args.nocreds = true;
	args.in_numargs = 2;
	args.in_args[0].size = sizeof(fin);
	args.in_args[0].value = &fin;
	args.in_args[1].size = sizeof(one);
	args.in_args[1].value = &one;
	uvfs_send(conn, &args);
}

static void uvfs_orphan_work(struct work_struct *work)
{
	struct uvfs_conn *conn = container_of(work, struct uvfs_conn,
					      orphan_work);
	struct uvfs_orphan *o;

	for (;;) {
		spin_lock(&conn->orphan_lock);
		o = list_first_entry_or_null(&conn->orphans,
					     struct uvfs_orphan, list);
		if (o)
			list_del(&o->list);
		spin_unlock(&conn->orphan_lock);
		if (!o)
			break;
		if (!READ_ONCE(conn->shutdown))
			uvfs_undo_entry(conn, o);
		kfree(o);
	}
	uvfs_conn_put(conn);
}

/* Called with req->q->lock held: no sleeping here. */
static void uvfs_orphan_reply(struct uvfs_req *req, const void *payload,
			      size_t len)
{
	struct uvfs_conn *conn = req->conn;
	u32 opcode = req->opcode;
	struct uvfs_orphan *o;
	struct uvfs_entry_out e;
	struct uvfs_open_out op;

	lockdep_assert_held(&req->q->lock);
	switch (opcode) {
	case UVFS_OP_LOOKUP:
	case UVFS_OP_MKNOD:
	case UVFS_OP_MKDIR:
	case UVFS_OP_SYMLINK:
	case UVFS_OP_LINK:
	case UVFS_OP_CREATE:
		break;
	default:
		return;
	}
	if (len < sizeof(e))
		return;
	memcpy(&e, payload, sizeof(e));
	if (!e.nodeid || e.nodeid == UVFS_ROOT_ID)
		return;		/* a negative entry; the root is never forgotten */
	o = kzalloc(sizeof(*o), GFP_ATOMIC);
	if (!o)
		return;		/* the daemon keeps the node until unmount */
	o->nodeid = e.nodeid;
	if (opcode == UVFS_OP_CREATE && len >= sizeof(e) + sizeof(op)) {
		memcpy(&op, (const char *)payload + sizeof(e), sizeof(op));
		o->fh = op.fh;
		o->release = true;
	}
	spin_lock(&conn->orphan_lock);
	list_add_tail(&o->list, &conn->orphans);
	spin_unlock(&conn->orphan_lock);
	uvfs_conn_get(conn);	/* the work's; the caller holds one too */
	if (!queue_work(system_unbound_wq, &conn->orphan_work))
		uvfs_conn_put(conn);
}

/*
 * Copy the reply of req out of its slot and check it.  Called with
 * req->q->lock held (the sender cannot detach its buffers meanwhile).
 * Everything read from the slot is read once, into our own memory, then
 * checked there.
 */
static int uvfs_take_reply(struct uvfs_conn *conn, struct uvfs_req *req,
			   const void *slot)
{
	struct uvfs_args *args = req->args;
	struct uvfs_out_header oh;
	const char *p = (const char *)slot + sizeof(oh);
	size_t payload, fixed = 0, total = 0;
	unsigned int i, n;

	lockdep_assert_held(&req->q->lock);
	memcpy(&oh, slot, sizeof(oh));
	if (oh.unique != req->unique) {
		uvfs_warn_bad_reply(req->opcode, "unique id mismatch");
		return -EIO;
	}
	if (oh.len < sizeof(oh) || oh.len > conn->slot_size) {
		uvfs_warn_bad_reply(req->opcode, "bad length");
		return -EIO;
	}
	if (oh.error > 0 || oh.error < -UVFS_ERRNO_MAX) {
		uvfs_warn_bad_reply(req->opcode, "errno out of range");
		return -EIO;
	}
	if (oh.error) {
		if (oh.error == -ENOSYS && req->opcode != UVFS_OP_INIT &&
		    req->opcode != UVFS_OP_DESTROY && req->opcode < UVFS_OP_MAX)
			set_bit(req->opcode, conn->nosys);
		return oh.error;
	}
	if (!args) {
		/* sender gone or background: drop it, undoing an entry */
		uvfs_orphan_reply(req, p, oh.len - sizeof(oh));
		return 0;
	}

	payload = oh.len - sizeof(oh);
	n = args->out_numargs;
	for (i = 0; i < n; i++) {
		total += args->out_args[i].size;
		if (i + 1 < n || !args->out_argvar)
			fixed += args->out_args[i].size;
	}
	if (payload < fixed || payload > total ||
	    (!args->out_argvar && payload != total)) {
		uvfs_warn_bad_reply(req->opcode, "wrong payload size");
		return -EIO;
	}
	for (i = 0; i < n; i++) {
		size_t sz = args->out_args[i].size;

		if (i + 1 == n && args->out_argvar) {
			sz = payload;
			args->out_size = sz;
		}
		if (i + 1 == n && args->out_pages)
			uvfs_copy_pages((void *)p, args->out_pages, sz, false);
		else if (sz)
			memcpy(args->out_args[i].value, p, sz);
		p += sz;
		payload -= sz;
	}
	return 0;
}

/* Commit done[] of queue q.  Returns 0, or -EINVAL if an index was bad. */
static int uvfs_commit(struct uvfs_conn *conn, struct uvfs_queue *q,
		       const u16 *done, unsigned int ndone)
{
	unsigned int i;
	int ret = 0;

	for (i = 0; i < ndone; i++) {
		unsigned int idx = done[i];
		struct uvfs_req *req;
		int err = 0;

		spin_lock(&q->lock);
		if (idx >= conn->depth ||
		    q->slots[idx].state != UVFS_SLOT_INFLIGHT) {
			spin_unlock(&q->lock);
			ret = -EINVAL;
			continue;
		}
		req = q->slots[idx].req;
		if (!req->noreply)
			err = uvfs_take_reply(conn, req,
					      uvfs_slot_addr(conn, q, idx));
		uvfs_slot_free(q, idx);
		uvfs_req_complete(req, err);
		spin_unlock(&q->lock);
		wake_up(&q->slotq);
		uvfs_req_put(req);
	}
	return ret;
}

static unsigned int uvfs_take_ready(struct uvfs_conn *conn,
				    struct uvfs_queue *q, u16 *ready)
{
	unsigned int n = 0;

	spin_lock(&q->lock);
	while (q->ready_count && n < UVFS_WAIT_MAX) {
		unsigned int idx = q->ready[q->ready_head];

		q->ready_head = (q->ready_head + 1) % conn->depth;
		q->ready_count--;
		if (q->slots[idx].state != UVFS_SLOT_READY)
			continue;
		q->slots[idx].state = UVFS_SLOT_INFLIGHT;
		ready[n++] = idx;
	}
	spin_unlock(&q->lock);
	return n;
}

static long uvfs_ioc_wait(struct uvfs_conn *conn, void __user *uarg,
			  bool sleep)
{
	struct uvfs_chan_wait *w;
	struct uvfs_queue *q;
	long ret;
	int cret;

	if (!smp_load_acquire(&conn->setup_done))
		return -EINVAL;
	w = kmalloc(sizeof(*w), GFP_KERNEL);
	if (!w)
		return -ENOMEM;
	if (copy_from_user(w, uarg, sizeof(*w))) {
		ret = -EFAULT;
		goto out;
	}
	if (w->queue >= conn->nqueues || w->ndone > UVFS_WAIT_MAX) {
		ret = -EINVAL;
		goto out;
	}
	q = &conn->queues[w->queue];
	cret = uvfs_commit(conn, q, w->done, w->ndone);
	w->ndone = 0;
	w->nready = 0;
	if (!sleep) {
		ret = cret;
		goto out_copy;
	}
	for (;;) {
		if (!READ_ONCE(conn->connected)) {
			ret = -ENOTCONN;
			break;
		}
		w->nready = uvfs_take_ready(conn, q, w->ready);
		if (w->nready) {
			ret = 0;
			break;
		}
		if (READ_ONCE(conn->shutdown)) {
			ret = -ENODEV;
			break;
		}
		ret = wait_event_interruptible(q->waitq,
				READ_ONCE(q->ready_count) ||
				!READ_ONCE(conn->connected) ||
				READ_ONCE(conn->shutdown));
		if (ret) {
			ret = -EINTR;
			break;
		}
	}
out_copy:
	if (copy_to_user(uarg, w, sizeof(*w)))
		ret = -EFAULT;
out:
	kfree(w);
	return ret;
}

/* ---- setup and mmap ---- */

static int uvfs_queue_init(struct uvfs_conn *conn, unsigned int i)
{
	struct uvfs_queue *q = &conn->queues[i];
	unsigned int s;

	spin_lock_init(&q->lock);
	init_waitqueue_head(&q->waitq);
	init_waitqueue_head(&q->slotq);
	q->slots = kcalloc(conn->depth, sizeof(*q->slots), GFP_KERNEL);
	q->freelist = kcalloc(conn->depth, sizeof(u16), GFP_KERNEL);
	q->ready = kcalloc(conn->depth, sizeof(u16), GFP_KERNEL);
	if (!q->slots || !q->freelist || !q->ready)
		return -ENOMEM;
	for (s = 0; s < conn->depth; s++)
		q->freelist[s] = conn->depth - 1 - s;
	q->nfree = conn->depth;
	q->base = (char *)conn->area + i * conn->queue_stride;
	return 0;
}

static long uvfs_ioc_setup(struct uvfs_conn *conn, void __user *uarg)
{
	struct uvfs_chan_setup cs;
	unsigned int i;
	long ret;

	if (copy_from_user(&cs, uarg, sizeof(cs)))
		return -EFAULT;
	if (cs.flags)
		return -EINVAL;
	if (!cs.nqueues)
		cs.nqueues = min_t(unsigned int, num_possible_cpus(),
				   UVFS_CHAN_MAX_QUEUES);
	if (!cs.slot_size)
		cs.slot_size = UVFS_DEFAULT_SLOT_SIZE;
	if (!cs.depth) {
		/* the default depth fits the area into UVFS_MAX_CHAN_BYTES */
		u64 per = (u64)cs.nqueues * PAGE_ALIGN(cs.slot_size);

		cs.depth = UVFS_DEFAULT_QUEUE_DEPTH;
		if (per && cs.nqueues <= UVFS_CHAN_MAX_QUEUES)
			cs.depth = clamp_t(u64, (UVFS_MAX_CHAN_BYTES -
					cs.nqueues * PAGE_ALIGN(
						UVFS_CHAN_HDR_SIZE)) / per,
					UVFS_MIN_DEFAULT_DEPTH,
					UVFS_DEFAULT_QUEUE_DEPTH);
	}
	if (cs.nqueues > UVFS_CHAN_MAX_QUEUES ||
	    cs.depth > UVFS_CHAN_MAX_DEPTH ||
	    cs.slot_size < UVFS_CHAN_MIN_SLOT ||
	    cs.slot_size > UVFS_CHAN_MAX_SLOT)
		return -EINVAL;
	cs.slot_size = PAGE_ALIGN(cs.slot_size);
	cs.queue_stride = PAGE_ALIGN(UVFS_CHAN_HDR_SIZE +
				     (u64)cs.depth * cs.slot_size);
	cs.mmap_size = cs.queue_stride * cs.nqueues;
	if (cs.mmap_size > UVFS_MAX_CHAN_BYTES)
		return -E2BIG;

	mutex_lock(&conn->setup_lock);
	ret = -EBUSY;
	if (conn->setup_done)
		goto out_unlock;
	ret = -ENOTCONN;
	if (!conn->connected)
		goto out_unlock;
	conn->nqueues = cs.nqueues;
	conn->depth = cs.depth;
	conn->slot_size = cs.slot_size;
	conn->queue_stride = cs.queue_stride;
	conn->area_size = cs.mmap_size;
	ret = -ENOMEM;
	conn->area = vmalloc_user(conn->area_size);
	if (!conn->area)
		goto out_unlock;
	conn->queues = kcalloc(conn->nqueues, sizeof(*conn->queues),
			       GFP_KERNEL);
	if (!conn->queues)
		goto out_free;
	for (i = 0; i < conn->nqueues; i++) {
		ret = uvfs_queue_init(conn, i);
		if (ret)
			goto out_free;
	}
	ret = -EFAULT;
	if (copy_to_user(uarg, &cs, sizeof(cs)))
		goto out_free;
	/* Pairs with the smp_load_acquire()s of senders and WAIT. */
	smp_store_release(&conn->setup_done, true);
	mutex_unlock(&conn->setup_lock);
	return 0;

out_free:
	uvfs_conn_free_queues(conn);
out_unlock:
	mutex_unlock(&conn->setup_lock);
	return ret;
}

static long uvfs_dev_ioctl(struct file *file, unsigned int cmd,
			   unsigned long arg)
{
	struct uvfs_conn *conn = file->private_data;
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case UVFS_IOC_SETUP:
		return uvfs_ioc_setup(conn, uarg);
	case UVFS_IOC_WAIT:
		return uvfs_ioc_wait(conn, uarg, true);
	case UVFS_IOC_COMMIT:
		return uvfs_ioc_wait(conn, uarg, false);
	case UVFS_IOC_SHUTDOWN:
		uvfs_conn_shutdown(conn);
		return 0;
	case UVFS_IOC_NOTIFY:
		return uvfs_ioc_notify(conn, uarg);
	default:
		return -ENOTTY;
	}
}

static int uvfs_dev_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct uvfs_conn *conn = file->private_data;
	unsigned long size = vma->vm_end - vma->vm_start;
	int ret;

	mutex_lock(&conn->setup_lock);
	ret = -EINVAL;
	if (!conn->setup_done || vma->vm_pgoff ||
	    size != PAGE_ALIGN(conn->area_size) ||
	    !(vma->vm_flags & VM_SHARED))
		goto out;
	uvfs_vm_flags_set(vma, VM_DONTEXPAND | VM_DONTDUMP);
	ret = remap_vmalloc_range(vma, conn->area, 0);
out:
	mutex_unlock(&conn->setup_lock);
	return ret;
}

static int uvfs_dev_open(struct inode *inode, struct file *file)
{
	struct uvfs_conn *conn;

	conn = kzalloc(sizeof(*conn), GFP_KERNEL);
	if (!conn)
		return -ENOMEM;
	kref_init(&conn->kref);
	mutex_init(&conn->setup_lock);
	init_rwsem(&conn->sb_lock);
	spin_lock_init(&conn->orphan_lock);
	INIT_LIST_HEAD(&conn->orphans);
	INIT_WORK(&conn->orphan_work, uvfs_orphan_work);
	init_waitqueue_head(&conn->bg_waitq);
	conn->connected = true;
	file->private_data = conn;
	return 0;
}

static int uvfs_dev_release(struct inode *inode, struct file *file)
{
	struct uvfs_conn *conn = file->private_data;

	uvfs_conn_abort(conn);
	wake_up_all(&conn->bg_waitq);
	uvfs_conn_put(conn);
	return 0;
}

const struct file_operations uvfs_dev_fops = {
	.owner = THIS_MODULE,
	.open = uvfs_dev_open,
	.release = uvfs_dev_release,
	.unlocked_ioctl = uvfs_dev_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.mmap = uvfs_dev_mmap,
	.llseek = noop_llseek,
};

int uvfs_chan_init(void)
{
	uvfs_req_cachep = kmem_cache_create("uvfs_req", sizeof(struct uvfs_req),
					    0, SLAB_ACCOUNT, NULL);
	return uvfs_req_cachep ? 0 : -ENOMEM;
}

void uvfs_chan_exit(void)
{
	kmem_cache_destroy(uvfs_req_cachep);
}
