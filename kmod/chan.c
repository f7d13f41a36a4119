// SPDX-License-Identifier: GPL-2.0
/*
 * The channel: /dev/uvfs, its shared-memory queues, sending requests and
 * taking replies.
 *
 * A sender takes a free slot of its CPU's queue, copies its request in,
 * marks it ready, wakes the daemon's serving thread if it sleeps, and
 * sleeps itself (killable), after polling briefly for the reply when the
 * daemon is busy on another CPU.  The daemon's UVFS_IOC_WAIT hands ready
 * slots out (polling the queue for an adaptive while before it sleeps, if
 * the daemon asks); a later WAIT or COMMIT names them done, and the kernel
 * copies each reply out of the slot into the sender's buffers, validating
 * the copy, and wakes the sender, which frees the slot.  Background and
 * no-reply requests are lazy: they wake no one and ride with the next
 * wake-up (see struct uvfs_queue).  Nothing is allocated per request.
 * Closing the device aborts the connection: all requests fail with
 * -ENOTCONN.
 *
 * The queue's header page (struct uvfs_chan_hdr) is only ever written
 * here: its state and counters are for the daemon's eyes.
 */
#include <linux/file.h>
#include <linux/highmem.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/sched/clock.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>

#include "uvfs_i.h"

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
			struct uvfs_queue *q = &conn->queues[i];

			if (q->timer_ready)
				timer_delete_sync(&q->lazy_timer);
			kfree(q->slots);
			kfree(q->freelist);
			kfree(q->ready);
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

/* Called with q->lock held; the caller then calls uvfs_wake_slotq(). */
static void uvfs_slot_free(struct uvfs_conn *conn, struct uvfs_queue *q,
			   unsigned int idx)
{
	struct uvfs_slot *s = &q->slots[idx];

	lockdep_assert_held(&q->lock);
	if (s->background && atomic_dec_and_test(&conn->nbackground))
		wake_up_all(&conn->bg_waitq);
	s->args = NULL;
	s->waiter = false;
	s->background = false;
	s->async = false;
	s->state = UVFS_SLOT_FREE;
	q->freelist[q->nfree++] = idx;
}

/* After a slot was freed: wake a sender waiting for one, if any. */
static void uvfs_wake_slotq(struct uvfs_queue *q)
{
	if (wq_has_sleeper(&q->slotq))
		wake_up(&q->slotq);
}

/*
 * The request in slot idx is over (answered, or failed with error).
 * Called with q->lock held.  A waiting sender gets DONE and frees the
 * slot itself; returns true then, and the caller wakes s->waitq (after
 * dropping the lock: the memory of a slot stays put, so a wake-up that
 * lands after the slot was reused is only a spurious one).  Otherwise the
 * slot is freed here; the caller wakes slotq.
 */
static bool uvfs_slot_finish(struct uvfs_conn *conn, struct uvfs_queue *q,
			     unsigned int idx, int error)
{
	struct uvfs_slot *s = &q->slots[idx];

	lockdep_assert_held(&q->lock);
	if (s->waiter) {
		s->error = error;
		/* Pairs with the smp_load_acquire()s of the waiter. */
		smp_store_release(&s->state, UVFS_SLOT_DONE);
		return true;
	}
	uvfs_slot_free(conn, q, idx);
	return false;
}

static void uvfs_wake_waiter(struct uvfs_slot *s)
{
	/* Pairs with the barrier of prepare_to_wait_event() in the waiter. */
	if (wq_has_sleeper(&s->waitq))
		wake_up(&s->waitq);
}

/*
 * An asynchronous request is over: free its slot, then end it.  The caller
 * moved the slot to DONE (so nobody else touches it) and dropped q->lock;
 * the slot is freed first so that what complete() lets the block layer
 * send next finds it.
 */
static void uvfs_async_finish(struct uvfs_conn *conn, struct uvfs_queue *q,
			      unsigned int idx, int error)
{
	struct uvfs_args *args = q->slots[idx].args;

	spin_lock(&q->lock);
	uvfs_slot_free(conn, q, idx);
	spin_unlock(&q->lock);
	uvfs_wake_slotq(q);
	args->complete(args, error);
}

/*
 * Abort: fail everything queued or in flight, refuse new requests.  Slots
 * being filled are left to their senders, which see !connected.  A block
 * device served by the channel is marked dead: its I/O fails at once.
 */
static void uvfs_conn_abort(struct uvfs_conn *conn)
{
	unsigned int i, s;

	mutex_lock(&conn->setup_lock);
	WRITE_ONCE(conn->connected, false);
	for (i = 0; conn->queues && i < conn->nqueues; i++) {
		struct uvfs_queue *q = &conn->queues[i];

		spin_lock(&q->lock);
		for (s = 0; s < conn->depth; s++) {
			struct uvfs_slot *slot = &q->slots[s];
			u8 st = slot->state;

			if (st != UVFS_SLOT_READY && st != UVFS_SLOT_INFLIGHT)
				continue;
			if (slot->async) {
				slot->state = UVFS_SLOT_DONE;	/* ours now */
				spin_unlock(&q->lock);
				uvfs_async_finish(conn, q, s, -ENOTCONN);
				spin_lock(&q->lock);
				continue;
			}
			if (uvfs_slot_finish(conn, q, s, -ENOTCONN))
				wake_up(&slot->waitq);
		}
		q->ready_count = 0;
		q->nlazy = 0;
		spin_unlock(&q->lock);
		wake_up_all(&q->waitq);
		wake_up_all(&q->slotq);
	}
	if (conn->bdev)
		uvfs_bdev_conn_dead(conn->bdev);
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

/*
 * Hand every queue's lazy requests to the daemon now (unmount, a batch of
 * forgets that must not overtake the RELEASEs queued before it).
 */
/*
 * Called with q->lock held, which it drops: have the daemon take what is
 * ready (lazy requests included), waking it if it sleeps.
 */
static void uvfs_kick_unlock(struct uvfs_queue *q)
	__releases(&q->lock)
{
	bool kick;

	lockdep_assert_held(&q->lock);
	if (q->ready_count)
		q->kick = true;
	kick = q->kick;
	spin_unlock(&q->lock);
	if (kick && wq_has_sleeper(&q->waitq))
		wake_up(&q->waitq);
}

void uvfs_chan_kick(struct uvfs_conn *conn)
{
	unsigned int i;

	if (!smp_load_acquire(&conn->setup_done))
		return;
	for (i = 0; i < conn->nqueues; i++) {
		struct uvfs_queue *q = &conn->queues[i];

		spin_lock(&q->lock);
		uvfs_kick_unlock(q);
	}
}

void uvfs_wait_background(struct uvfs_conn *conn)
{
	uvfs_chan_kick(conn);
	wait_event(conn->bg_waitq, !atomic_read(&conn->nbackground) ||
				   !READ_ONCE(conn->connected));
}

/*
 * The lazy timer: the daemon was not woken for a lazy request within
 * UVFS_LAZY_DELAY_MS; wake it now.  Timer context, and q->lock is not
 * irq-safe, so kick is set without it: a kick that comes too late (the
 * daemon already took everything) only costs a spurious wake-up, after
 * which WAIT clears it and sleeps again.
 */
static void uvfs_lazy_timer(struct timer_list *t)
{
	struct uvfs_queue *q = timer_container_of(q, t, lazy_timer);

	WRITE_ONCE(q->kick, true);
	wake_up(&q->waitq);
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

static void uvfs_fill_slot(struct uvfs_args *args, u64 unique, void *slot,
			   u32 len)
{
	struct uvfs_in_header *ih = slot;
	char *p = (char *)slot + sizeof(*ih);
	unsigned int i;

	ih->len = len;
	ih->opcode = args->opcode;
	ih->unique = unique;
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

		if (i + 1 == args->in_numargs && args->in_fill)
			args->in_fill(args, p, sz);
		else if (i + 1 == args->in_numargs && args->in_pages)
			uvfs_copy_pages(p, args->in_pages, sz, true);
		else
			memcpy(p, args->in_args[i].value, sz);
		p += sz;
	}
}

/*
 * Take a free slot of q; 0 or -ENOTCONN / -EINTR.  A sender that finds
 * none kicks the daemon: the slots may be held by lazy requests.
 */
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
		uvfs_kick_unlock(q);
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
 * Before sleeping, a sender may poll for its reply for a moment: only when
 * the daemon asked for polling (spin_us of its last WAIT), its serving thread is awake
 * (polling or serving: not asleep in WAIT) and last ran on another CPU, so
 * the poll never keeps the daemon off the CPU it needs; at most
 * UVFS_SENDER_SPIN_US, and never past need_resched() or a fatal signal.
 * dstate and dcpu are hints: a stale value costs at most one bounded poll.
 */
static bool uvfs_poll_reply(struct uvfs_queue *q, struct uvfs_slot *s)
{
	u64 budget = UVFS_SENDER_SPIN_US * NSEC_PER_USEC;
	u64 start;

	if (!READ_ONCE(q->spin_max) || num_online_cpus() < 2)
		return false;
	start = local_clock();
	for (;;) {
		if (smp_load_acquire(&s->state) == UVFS_SLOT_DONE)
			return true;
		if (READ_ONCE(q->dstate) == UVFS_DAEMON_SLEEPING ||
		    READ_ONCE(q->dcpu) == raw_smp_processor_id() ||
		    need_resched() || fatal_signal_pending(current) ||
		    local_clock() - start > budget)
			return false;
		cpu_relax();
	}
}

/*
 * Put a request into a free slot of q and make it ready: mode says who
 * ends it (a waiting sender, nobody, or args->complete()).  Returns the
 * slot's index, or -ENOTCONN / -EINTR / -ENOSYS / -E2BIG.
 *
 * Waking the daemon: a synchronous or asynchronous request sets q->kick
 * and wakes the serving thread only if it sleeps on q->waitq.  No wake-up
 * is lost: the thread puts itself on q->waitq and sets its task state (a
 * full barrier) before it tests kick; the sender stores kick under
 * q->lock and then tests for sleepers with wq_has_sleeper() (a full
 * barrier before the test).  So either the thread sees kick and does not
 * sleep, or the sender sees the thread on the queue and wakes it.  A
 * polling thread is not on the queue: it sees ready_count itself.  Lazy
 * requests leave kick alone; the lazy timer, armed under q->lock when
 * there is no kick yet, sets it within UVFS_LAZY_DELAY_MS.
 */
enum uvfs_send_mode { UVFS_SEND_WAIT, UVFS_SEND_LAZY, UVFS_SEND_ASYNC };

static int uvfs_queue_request(struct uvfs_conn *conn, struct uvfs_queue *q,
			      struct uvfs_args *args, enum uvfs_send_mode mode)
{
	struct uvfs_slot *s;
	unsigned int i, idx;
	size_t len = sizeof(struct uvfs_in_header), outlen = 0;
	bool lazy = mode == UVFS_SEND_LAZY;
	bool kick;
	u64 unique;
	int err;

	if (args->opcode < UVFS_OP_MAX && test_bit(args->opcode, conn->nosys))
		return -ENOSYS;
	if (!READ_ONCE(conn->connected) || !smp_load_acquire(&conn->setup_done))
		return -ENOTCONN;
	/* may allocate blocks: the free-space estimate charges it (file.c) */
	if (uvfs_space_op(args->opcode))
		atomic64_inc(&conn->space_ops);
	for (i = 0; i < args->in_numargs; i++)
		len += args->in_args[i].size;
	for (i = 0; i < args->out_numargs; i++)
		outlen += args->out_args[i].size;
	/* Callers size requests to fit; big xattrs on small slots don't. */
	if (len > conn->slot_size ||
	    outlen + sizeof(struct uvfs_out_header) > conn->slot_size)
		return -E2BIG;

	err = uvfs_get_slot(conn, q, mode == UVFS_SEND_WAIT, &idx);
	if (err)
		return err;
	s = &q->slots[idx];
	unique = atomic64_inc_return(&conn->unique);
	uvfs_fill_slot(args, unique, uvfs_slot_addr(conn, q, idx), len);

	spin_lock(&q->lock);
	if (!READ_ONCE(conn->connected)) {
		uvfs_slot_free(conn, q, idx);
		spin_unlock(&q->lock);
		uvfs_wake_slotq(q);
		return -ENOTCONN;
	}
	s->unique = unique;
	s->opcode = args->opcode;
	s->error = 0;
	s->noreply = args->noreply;
	s->background = lazy;
	s->waiter = mode == UVFS_SEND_WAIT;
	s->async = mode == UVFS_SEND_ASYNC;
	s->args = lazy ? NULL : args;
	if (lazy)
		atomic_inc(&conn->nbackground);
	s->state = UVFS_SLOT_READY;
	q->ready[(q->ready_head + q->ready_count) % conn->depth] = idx;
	q->ready_count++;
	q->hdr->requests++;
	if (!lazy) {
		q->kick = true;
	} else {
		q->hdr->lazy++;
		if (++q->nlazy >= min(UVFS_LAZY_MAX, conn->depth / 2 + 1))
			q->kick = true;
		else if (!q->kick && !timer_pending(&q->lazy_timer))
			mod_timer(&q->lazy_timer, jiffies +
				  msecs_to_jiffies(UVFS_LAZY_DELAY_MS));
	}
	kick = q->kick;
	spin_unlock(&q->lock);
	if (kick && wq_has_sleeper(&q->waitq))
		wake_up(&q->waitq);
	return idx;
}

/*
 * Send a request and, unless it is background or noreply, wait for its
 * reply.  Returns the reply's error (0 or -errno); args->out_size holds the
 * length of a variable last out arg.  Nothing is allocated: the request's
 * state lives in its slot (see "Object lifetimes" in uvfs_i.h).
 */
ssize_t uvfs_send(struct uvfs_conn *conn, struct uvfs_args *args)
{
	struct uvfs_queue *q;
	struct uvfs_slot *s;
	bool wait = !args->background && !args->noreply;
	int idx, err;

	if (!smp_load_acquire(&conn->setup_done))
		return -ENOTCONN;
	q = &conn->queues[raw_smp_processor_id() % conn->nqueues];
	idx = uvfs_queue_request(conn, q, args,
				 wait ? UVFS_SEND_WAIT : UVFS_SEND_LAZY);
	if (idx < 0 || !wait)
		return min(idx, 0);
	s = &q->slots[idx];

	if (!uvfs_poll_reply(q, s)) {
		err = wait_event_killable(s->waitq,
				smp_load_acquire(&s->state) == UVFS_SLOT_DONE);
	} else {
		err = 0;
		q->hdr->sender_spins++;	/* unlocked: a statistic */
	}
	spin_lock(&q->lock);
	if (s->state != UVFS_SLOT_DONE) {
		/* Killed: detach; the reply, if any, is dropped. */
		s->args = NULL;
		s->waiter = false;
		spin_unlock(&q->lock);
		return -EINTR;
	}
	err = s->error;
	uvfs_slot_free(conn, q, idx);
	spin_unlock(&q->lock);
	uvfs_wake_slotq(q);
	return err;
}

/*
 * Send an asynchronous request on queue 'queue' (mod the number of
 * queues): args->complete() will end it, once.  May sleep for a free slot
 * (not killable: an abort wakes it).  Returns 0, or -errno if the request
 * was not sent, and then complete() is never called.
 */
int uvfs_send_async(struct uvfs_conn *conn, unsigned int queue,
		    struct uvfs_args *args)
{
	int idx;

	if (!smp_load_acquire(&conn->setup_done))
		return -ENOTCONN;
	idx = uvfs_queue_request(conn, &conn->queues[queue % conn->nqueues],
				 args, UVFS_SEND_ASYNC);
	return min(idx, 0);
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

/* Called with q->lock held: no sleeping here. */
static void uvfs_orphan_reply(struct uvfs_conn *conn, struct uvfs_queue *q,
			      struct uvfs_slot *s, const void *payload,
			      size_t len)
{
	u32 opcode = s->opcode;
	struct uvfs_orphan *o;
	struct uvfs_entry_out e;
	struct uvfs_open_out op;

	lockdep_assert_held(&q->lock);
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
	uvfs_conn_get(conn);	/* the work's; the device or a mount holds one */
	if (!queue_work(system_unbound_wq, &conn->orphan_work))
		uvfs_conn_put(conn);
}

/*
 * Copy the reply in slot s out and check it.  Called with q->lock held
 * (the sender cannot detach its buffers meanwhile), or for an async slot
 * after its commit made it DONE (no lock: the copy may be long).  Everything read from
 * the slot is read once, into our own memory, then checked there.
 */
static int uvfs_take_reply(struct uvfs_conn *conn, struct uvfs_queue *q,
			   struct uvfs_slot *s, const void *slot)
{
	struct uvfs_args *args = s->args;
	struct uvfs_out_header oh;
	const char *p = (const char *)slot + sizeof(oh);
	size_t payload, fixed = 0, total = 0;
	unsigned int i, n;

	if (!s->async)	/* an async slot is DONE: its owner's alone */
		lockdep_assert_held(&q->lock);
	memcpy(&oh, slot, sizeof(oh));
	if (oh.unique != s->unique) {
		uvfs_warn_bad_reply(s->opcode, "unique id mismatch");
		return -EIO;
	}
	if (oh.len < sizeof(oh) || oh.len > conn->slot_size) {
		uvfs_warn_bad_reply(s->opcode, "bad length");
		return -EIO;
	}
	if (oh.error > 0 || oh.error < -UVFS_ERRNO_MAX) {
		uvfs_warn_bad_reply(s->opcode, "errno out of range");
		return -EIO;
	}
	if (oh.error) {
		if (oh.error == -ENOSYS && s->opcode != UVFS_OP_INIT &&
		    s->opcode != UVFS_OP_DESTROY && s->opcode < UVFS_OP_MAX)
			set_bit(s->opcode, conn->nosys);
		return oh.error;
	}
	if (!args) {
		/* sender gone or background: drop it, undoing an entry */
		uvfs_orphan_reply(conn, q, s, p, oh.len - sizeof(oh));
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
		uvfs_warn_bad_reply(s->opcode, "wrong payload size");
		return -EIO;
	}
	for (i = 0; i < n; i++) {
		size_t sz = args->out_args[i].size;

		if (i + 1 == n && args->out_argvar) {
			sz = payload;
			args->out_size = sz;
		}
		if (i + 1 == n && args->out_copy)
			args->out_copy(args, p, sz);
		else if (i + 1 == n && args->out_pages)
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
		struct uvfs_slot *s;
		bool waiter;
		int err = 0;

		spin_lock(&q->lock);
		if (idx >= conn->depth ||
		    q->slots[idx].state != UVFS_SLOT_INFLIGHT) {
			spin_unlock(&q->lock);
			ret = -EINVAL;
			continue;
		}
		s = &q->slots[idx];
		if (s->async) {
			s->state = UVFS_SLOT_DONE;	/* ours: see abort */
			spin_unlock(&q->lock);
			err = uvfs_take_reply(conn, q, s,
					      uvfs_slot_addr(conn, q, idx));
			uvfs_async_finish(conn, q, idx, err);
			continue;
		}
		if (!s->noreply)
			err = uvfs_take_reply(conn, q, s,
					      uvfs_slot_addr(conn, q, idx));
		waiter = uvfs_slot_finish(conn, q, idx, err);
		spin_unlock(&q->lock);
		if (waiter)
			uvfs_wake_waiter(s);
		else
			uvfs_wake_slotq(q);
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
	q->nlazy = min(q->nlazy, q->ready_count);
	if (!q->ready_count) {
		q->kick = false;
		timer_delete(&q->lazy_timer);	/* a late one is harmless */
	}
	spin_unlock(&q->lock);
	return n;
}

static void uvfs_set_dstate(struct uvfs_queue *q, int state)
{
	WRITE_ONCE(q->dstate, state);
	WRITE_ONCE(q->hdr->daemon_state, state);
}

static void uvfs_set_spin(struct uvfs_queue *q, u64 spin_ns)
{
	if (spin_ns < NSEC_PER_USEC)
		spin_ns = 0;
	WRITE_ONCE(q->spin_ns, spin_ns);
	WRITE_ONCE(q->hdr->spin_ns, spin_ns);
}

/*
 * Busy-poll q before sleeping, for its adaptive spin_ns (at most spin_max
 * ns).  True if a request (or a reason to stop) came: the poll doubles;
 * false if the poll ran out (it halves) or must yield (need_resched, a
 * signal: it stays).  The caller then sleeps; if it is woken within
 * spin_max of falling idle, the poll grows to twice that idle time.  So a
 * daemon whose requests come further apart than spin_max stops polling,
 * and one whose requests come close together polls just long enough.
 */
static bool uvfs_wait_poll(struct uvfs_conn *conn, struct uvfs_queue *q,
			   u64 spin_max)
{
	u64 spin = min_t(u64, READ_ONCE(q->spin_ns), spin_max);
	u64 start;

	if (!spin)
		return false;
	uvfs_set_dstate(q, UVFS_DAEMON_POLLING);
	start = local_clock();
	for (;;) {
		if (READ_ONCE(q->ready_count) ||
		    !READ_ONCE(conn->connected) || READ_ONCE(conn->shutdown)) {
			uvfs_set_dstate(q, UVFS_DAEMON_BUSY);
			uvfs_set_spin(q, min(spin * 2, spin_max));
			q->hdr->spin_hits++;
			return true;
		}
		if (need_resched() || signal_pending(current))
			break;
		if (local_clock() - start > spin) {
			uvfs_set_spin(q, spin / 2);
			q->hdr->spin_misses++;
			break;
		}
		cpu_relax();
	}
	uvfs_set_dstate(q, UVFS_DAEMON_BUSY);
	return false;
}

static long uvfs_ioc_wait(struct uvfs_conn *conn, void __user *uarg,
			  bool sleep)
{
	struct uvfs_chan_wait w;
	struct uvfs_queue *q;
	u64 spin_max, idle0 = 0, idle;
	long ret;
	int cret;

	if (!smp_load_acquire(&conn->setup_done))
		return -EINVAL;
	if (copy_from_user(&w, uarg, sizeof(w)))
		return -EFAULT;
	if (w.queue >= conn->nqueues || w.ndone > UVFS_WAIT_MAX)
		return -EINVAL;
	q = &conn->queues[w.queue];
	cret = uvfs_commit(conn, q, w.done, w.ndone);
	w.ndone = 0;
	w.nready = 0;
	if (!sleep) {
		ret = cret;
		goto out_copy;
	}
	spin_max = (u64)min_t(u32, w.spin_us, UVFS_SPIN_MAX_US) *
		   NSEC_PER_USEC;
	WRITE_ONCE(q->spin_max, spin_max);
	WRITE_ONCE(q->dcpu, raw_smp_processor_id());
	for (;;) {
		if (!READ_ONCE(conn->connected)) {
			ret = -ENOTCONN;
			break;
		}
		w.nready = uvfs_take_ready(conn, q, w.ready);
		if (w.nready) {
			ret = 0;
			break;
		}
		if (READ_ONCE(conn->shutdown)) {
			ret = -ENODEV;
			break;
		}
		if (!idle0)
			idle0 = local_clock();
		if (spin_max && uvfs_wait_poll(conn, q, spin_max))
			continue;
		uvfs_set_dstate(q, UVFS_DAEMON_SLEEPING);
		ret = wait_event_interruptible(q->waitq,
				READ_ONCE(q->kick) ||
				!READ_ONCE(conn->connected) ||
				READ_ONCE(conn->shutdown));
		uvfs_set_dstate(q, UVFS_DAEMON_BUSY);
		if (ret) {
			ret = -EINTR;
			break;
		}
		q->hdr->wakeups++;
		/*
		 * Woken within spin_max of falling idle: a poll that long
		 * would have caught it; poll twice the idle time next.
		 */
		idle = local_clock() - idle0;
		if (spin_max && idle < spin_max &&
		    2 * idle > READ_ONCE(q->spin_ns))
			uvfs_set_spin(q, clamp_t(u64, 2 * idle, NSEC_PER_USEC,
						 spin_max));
		WRITE_ONCE(q->dcpu, raw_smp_processor_id());
	}
out_copy:
	if (copy_to_user(uarg, &w, sizeof(w)))
		ret = -EFAULT;
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
	timer_setup(&q->lazy_timer, uvfs_lazy_timer, 0);
	q->timer_ready = true;
	q->slots = kcalloc(conn->depth, sizeof(*q->slots), GFP_KERNEL);
	q->freelist = kcalloc(conn->depth, sizeof(u16), GFP_KERNEL);
	q->ready = kcalloc(conn->depth, sizeof(u16), GFP_KERNEL);
	if (!q->slots || !q->freelist || !q->ready)
		return -ENOMEM;
	for (s = 0; s < conn->depth; s++) {
		init_waitqueue_head(&q->slots[s].waitq);
		q->freelist[s] = conn->depth - 1 - s;
	}
	q->nfree = conn->depth;
	q->base = (char *)conn->area + i * conn->queue_stride;
	q->hdr = q->base;
	q->hdr->magic = UVFS_CHAN_HDR_MAGIC;
	q->dcpu = -1;
	uvfs_set_dstate(q, UVFS_DAEMON_BUSY);
	uvfs_set_spin(q, UVFS_SPIN_MAX_US * NSEC_PER_USEC);
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
	case UVFS_IOC_BDEV_ADD:
		return uvfs_bdev_add(conn, uarg);
	case UVFS_IOC_BDEV_REMOVE:
		return uvfs_bdev_remove(uarg);
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
	return 0;
}

void uvfs_chan_exit(void)
{
}
