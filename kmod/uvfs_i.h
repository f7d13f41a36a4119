/* SPDX-License-Identifier: GPL-2.0 */
/*
 * uvfs.ko private header: the objects of the channel and of the file
 * system, then what each file offers the others, one section per file
 * (chan.c, super.c, inode.c, xattr.c, dir.c, file.c, pagecache.c, bdev.c,
 * notify.c; scripts/check-headers.sh checks that each function is defined
 * in the file its section names), and small compat helpers for kernel API
 * changes after 6.1.
 *
 * Object lifetimes
 * ----------------
 *  uvfs_conn:  one per open of /dev/uvfs.  Refcounted (kref): the device
 *              file holds one reference, a mounted super block another.
 *              Closing the device (or the daemon dying) aborts the
 *              connection: every queued and in-flight request fails with
 *              -ENOTCONN, and new ones fail at once.
 *  uvfs_slot:  one per slot of a queue, allocated with the queue at setup
 *              and freed with the connection, so its memory never goes
 *              away under a sender (which holds the connection through
 *              its super block) or a late reply.  It carries the state of
 *              the request in the slot: nothing is allocated per request.
 *              A slot is reused only once FREE again; the sender that
 *              waits for it frees it itself, after it has read the result
 *              (DONE), so a reply can never land in another request's
 *              state.  A killed sender detaches (args = NULL, waiter =
 *              false, under the queue's lock) and never touches the slot
 *              again: the reply, if any, is then dropped by the commit,
 *              which frees the slot.  Background and no-reply requests
 *              have no waiter from the start.  An asynchronous request
 *              (the block device's) has no waiter either: whoever moves
 *              its slot to DONE (the commit of its reply, or an abort)
 *              owns it, calls args->complete() and frees it.
 *  uvfs_fs:    sb->s_fs_info, freed in kill_sb after DESTROY.
 */
#ifndef UVFS_KMOD_UVFS_I_H
#define UVFS_KMOD_UVFS_I_H

#include <linux/fs.h>
#include <linux/kref.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/timer.h>
#include <linux/version.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include <uvfs/proto.h>

#define UVFS_SUPER_MAGIC 0x75766673	/* "uvfs" */

/*
 * Default geometry: slots of 1 MiB of payload (plus a page for headers and
 * arguments), so readahead and writeback move 1 MiB per READ/WRITE, and 16
 * of them per queue: 2 CPUs take 32 MiB of vmalloc_user memory.  With many
 * CPUs the default depth shrinks (to no less than 4) to stay within
 * UVFS_MAX_CHAN_BYTES; a depth the daemon asks for is never changed.
 */
#define UVFS_DEFAULT_QUEUE_DEPTH 16
#define UVFS_MIN_DEFAULT_DEPTH 4
#define UVFS_DEFAULT_SLOT_SIZE (1024 * 1024 + UVFS_CHAN_HDR_SIZE)
#define UVFS_MAX_CHAN_BYTES (256UL << 20)
#define UVFS_SLOT_ARGS_ROOM 4096	/* headers + args besides the payload */
#define UVFS_FORGET_BATCH 64
#define UVFS_FORGET_DELAY_MS 4	/* gather forgets this long (or a batch) */
#define UVFS_LAZY_DELAY_MS 4	/* lazy requests wait at most this long */
#define UVFS_LAZY_MAX 16	/* ... or this many (at most depth/2 + 1) */
#define UVFS_SPIN_MAX_US 1000	/* cap of UVFS_IOC_WAIT's spin_us */
#define UVFS_SENDER_SPIN_US 50	/* cap of a sender's wait for its reply */
#define UVFS_SUBTYPE_MAX 32

/* ---- the channel's objects ---- */

enum uvfs_slot_state {
	UVFS_SLOT_FREE,
	UVFS_SLOT_FILLING,	/* a sender copies its request in */
	UVFS_SLOT_READY,	/* waiting for the daemon to take it */
	UVFS_SLOT_INFLIGHT,	/* the daemon owns it */
	UVFS_SLOT_DONE,		/* answered or failed; the waiter frees it */
};

struct uvfs_args;
struct uvfs_bdev;

/* A slot's request state: under the queue's lock (see "Object lifetimes"). */
struct uvfs_slot {
	struct uvfs_args *args;	/* the waiting sender's; NULL if none */
	u64 unique;
	u32 opcode;
	int error;		/* the result, once DONE */
	u8 state;
	bool waiter;		/* a sender waits and frees the slot */
	bool noreply;
	bool background;	/* counted in conn->nbackground */
	bool async;		/* args->complete() ends it (block device) */
	wait_queue_head_t waitq;	/* the waiting sender sleeps here */
};

/*
 * The serving thread as the senders see it (q->dstate; a hint for the
 * sender's spin, never for correctness): in UVFS_IOC_WAIT busy-polling, in
 * userland serving what it took, or asleep in WAIT.
 */
enum uvfs_daemon_state {
	UVFS_DAEMON_BUSY = UVFS_CHAN_DAEMON_BUSY,
	UVFS_DAEMON_POLLING = UVFS_CHAN_DAEMON_POLLING,
	UVFS_DAEMON_SLEEPING = UVFS_CHAN_DAEMON_SLEEPING,
};

/*
 * One queue of the channel.  Its arrays are allocated at setup (under
 * conn->setup_lock, before setup_done is published) and stay put; what is
 * in them changes only under lock.  Wait conditions peek at nfree,
 * ready_count and kick with READ_ONCE and take lock before acting.
 *
 * Lazy requests (background and no-reply: RELEASE, FORGET) are made ready
 * without waking a sleeping daemon: they ride with the next wake-up the
 * queue gets anyway.  kick is what wakes the sleeping daemon: set by a
 * synchronous request, by UVFS_LAZY_MAX lazy ones, by a sender that finds
 * no free slot, by uvfs_chan_kick() (unmount, forget batches) and by
 * lazy_timer, armed for UVFS_LAZY_DELAY_MS when the first lazy request
 * finds the queue quiet.
 */
struct uvfs_queue {
	spinlock_t lock;
	wait_queue_head_t waitq;	/* daemon awaits requests; own lock */
	wait_queue_head_t slotq;	/* senders await a slot; own lock */
	struct uvfs_slot *slots;	/* under lock */
	u16 *freelist;			/* stack of free slots: under lock */
	unsigned int nfree;		/* under lock */
	u16 *ready;			/* FIFO of ready slots: under lock */
	unsigned int ready_head;	/* under lock */
	unsigned int ready_count;	/* under lock */
	unsigned int nlazy;		/* lazy among ready: under lock */
	bool kick;			/* wake the daemon: see above */
	bool timer_ready;		/* lazy_timer was set up */
	struct timer_list lazy_timer;
	/* the serving thread: written by it, read by senders (hints) */
	int dstate;			/* enum uvfs_daemon_state */
	int dcpu;			/* where it last ran WAIT */
	u32 spin_ns;			/* adaptive busy-poll of WAIT */
	u32 spin_max;			/* its cap: the last WAIT's spin_us */
	struct uvfs_chan_hdr *hdr;	/* the shared header page: written only */
	void *base;			/* the queue's area: set at setup */
};

struct uvfs_conn {
	struct kref kref;
	struct mutex setup_lock;
	bool setup_done;
	bool connected;			/* false once aborted */
	bool shutdown;			/* DESTROY answered: daemon may stop */
	atomic_t mounted;		/* one super block per connection */
	unsigned int nqueues, depth, slot_size;
	size_t queue_stride, area_size;
	void *area;			/* vmalloc_user, shared with daemon */
	struct uvfs_queue *queues;
	atomic64_t unique;
	atomic_t nbackground;		/* lazy requests in slots */
	wait_queue_head_t bg_waitq;
	unsigned long nosys[BITS_TO_LONGS(UVFS_OP_MAX)];
	/* requests sent that may allocate blocks, WRITE aside (file.c) */
	atomic64_t space_ops;
	/* the block device this channel serves, if any: under setup_lock */
	struct uvfs_bdev *bdev;
	/* the mounted super block, for notifications; NULL if none */
	struct rw_semaphore sb_lock;
	struct super_block *sb;
	/* entries answered to senders that were killed: undone by a work */
	spinlock_t orphan_lock;
	struct list_head orphans;
	struct work_struct orphan_work;
};

struct uvfs_arg {
	unsigned int size;
	const void *value;
};

struct uvfs_out_arg {
	unsigned int size;
	void *value;
};

/*
 * A request as its sender describes it.  in_args are copied into the slot
 * when it is sent; out_args receive the reply.  If out_argvar, the last out
 * arg may come back shorter (READ, READDIR, READLINK, xattrs), and its
 * length is stored in out_size.  out_pages, if set, receive the last out
 * arg instead of a kernel pointer, PAGE_SIZE bytes each (page cache reads);
 * in_pages likewise supply the last in arg (writeback).
 */
struct uvfs_args {
	u32 opcode;
	/*
	 * Asynchronous requests (uvfs_send_async(): the block device) name
	 * these instead of buffers: in_fill copies the last in arg into the
	 * slot, out_copy the last out arg out of it (once its length was
	 * checked), and complete ends the request with 0 or -errno, from the
	 * daemon's commit or from an abort, exactly once.  args must then
	 * live until complete is called.
	 */
	void (*in_fill)(struct uvfs_args *args, void *dst, size_t len);
	void (*out_copy)(struct uvfs_args *args, const void *src, size_t len);
	void (*complete)(struct uvfs_args *args, int error);
	u64 nodeid;
	u8 in_numargs;
	u8 out_numargs;
	bool out_argvar;
	bool noreply;		/* FORGET: no reply, don't wait */
	bool background;	/* don't wait; the reply is dropped */
	bool nocreds;		/* kernel-internal: uid/gid/pid 0 */
	u32 umask;
	struct uvfs_arg in_args[4];
	struct uvfs_out_arg out_args[2];
	struct page **in_pages;
	struct page **out_pages;
	unsigned int out_size;
};

/* ---- the file system's objects ---- */

struct uvfs_fs {
	struct uvfs_conn *conn;
	kuid_t user_id;
	kgid_t group_id;
	umode_t rootmode;
	bool allow_other;
	bool default_permissions;
	bool owns_conn;		/* this mount claimed the channel */
	bool initialized;	/* INIT answered: DESTROY due at unmount */
	bool rename_flags;	/* daemon takes RENAME_NOREPLACE/EXCHANGE */
	bool readdirplus;	/* daemon answers READDIRPLUS */
	unsigned int max_read;
	unsigned int max_write;
	unsigned int max_readahead;
	/*
	 * UVFS_INIT_WRITEBACK negotiated: write(2) fills the page cache and
	 * the kernel owns size, mtime and ctime of regular files while it
	 * has something the daemon has not seen (see file.c).
	 */
	bool writeback;
	/* bumped by each local change of a file's data or size; see
	 * uvfs_change_attr() */
	atomic64_t attr_version;
	/*
	 * Free space for the page cache (space.c): bytes the
	 * last STATFS found free, bytes dirtied (or charged to metadata
	 * ops) since, under space_lock.  conn->space_ops counts the requests
	 * that may allocate blocks besides WRITE; space_ops_seen is its
	 * value when the estimate last charged them.
	 */
	spinlock_t space_lock;
	struct mutex space_mutex;	/* one refresh at a time */
	unsigned long space_gen;	/* refreshes done */
	int space_direct;	/* direct allocations draining */
	s64 space_inflight_direct;	/* of space_pending: sent, unanswered */
	bool space_known;
	s64 space_free;		/* bfree, in bytes */
	s64 space_avail;	/* bavail, in bytes */
	s64 space_pending;
	s64 space_inflight;	/* of space_pending: pages not dirty yet */
	u32 space_bsize;
	s64 space_ops_seen;
	/*
	 * Forgets: evict (possibly in reclaim) only queues a preallocated
	 * link; a worker sends them in batches, so no reclaim path ever
	 * waits for the daemon.
	 */
	spinlock_t forget_lock;
	struct list_head forget_list;
	unsigned int nforget;
	struct delayed_work forget_work;
	struct mutex forget_send_lock;	/* serialises the senders */
	struct uvfs_forget_one *forget_buf;	/* UVFS_FORGET_BATCH */
};

struct uvfs_forget_link {
	struct list_head list;
	struct uvfs_forget_one one;
};

struct uvfs_inode {
	struct inode vfs_inode;
	u64 nodeid;
	u64 nlookup;		/* under i_lock */
	unsigned long attr_expires;	/* jiffies */
	u64 attr_version;	/* fs->attr_version at the last local change */
	struct list_head write_files;	/* open for write; under i_lock */
	struct uvfs_forget_link *forget;	/* for evict; NULL for root */
	unsigned long state;	/* UVFS_I_* bits */
};

/*
 * state bits.  UVFS_I_BAD: the daemon said the node changed type (or
 * otherwise contradicted what the VFS already relies on).  Unlike
 * make_bad_inode(), which rewrites i_mode and the ops under the feet of
 * whoever is using the inode, this only makes every operation fail with
 * -EIO and d_revalidate drop the inode's dentries; the inode itself, its
 * i_mode and ops stay as they are until the last reference goes (like
 * fuse_make_bad()).
 */
#define UVFS_I_BAD 0
/* UVFS_I_STAT_STALE: see uvfs_invalidate_stat(); cleared by new attrs. */
#define UVFS_I_STAT_STALE 1
/*
 * UVFS_I_WB_ATTR (writeback mode, regular files): i_mtime/i_ctime were
 * changed by the kernel (a buffered write, or a WRITE from writeback that
 * made the daemon stamp its own time) and not yet sent: a SETATTR must
 * carry them (uvfs_wb_flush_attr()), and until then attribute replies
 * leave i_size, mtime and ctime alone.
 */
#define UVFS_I_WB_ATTR 2

struct uvfs_file {
	u64 fh;
	u32 open_flags;
	bool writable;		/* on write_files: writeback may use fh */
	struct list_head write_entry;
};

static inline struct uvfs_inode *UVFS_I(struct inode *inode)
{
	return container_of(inode, struct uvfs_inode, vfs_inode);
}

static inline struct uvfs_fs *UVFS_FS(struct super_block *sb)
{
	return sb->s_fs_info;
}

static inline struct uvfs_conn *uvfs_conn_of(struct inode *inode)
{
	return UVFS_FS(inode->i_sb)->conn;
}

static inline bool uvfs_is_bad(struct inode *inode)
{
	return unlikely(test_bit(UVFS_I_BAD, &UVFS_I(inode)->state));
}

static inline u64 uvfs_nodeid(struct inode *inode)
{
	return UVFS_I(inode)->nodeid;
}

/* Nanoseconds of validity to an absolute jiffies time (capped). */
static inline unsigned long uvfs_expiry(u64 valid_ns)
{
	u64 j;

	if (!valid_ns)
		return jiffies - 1;
	if (valid_ns > (u64)MAX_JIFFY_OFFSET * (NSEC_PER_SEC / HZ))
		return jiffies + MAX_JIFFY_OFFSET;
	j = nsecs_to_jiffies64(valid_ns);
	return jiffies + (unsigned long)max_t(u64, j, 1);
}

static inline bool uvfs_expired(unsigned long when)
{
	return time_after_eq(jiffies, when);
}

/* ---- chan.c ---- */
extern const struct file_operations uvfs_dev_fops;
void uvfs_conn_get(struct uvfs_conn *conn);
void uvfs_conn_put(struct uvfs_conn *conn);
void uvfs_conn_shutdown(struct uvfs_conn *conn);
ssize_t uvfs_send(struct uvfs_conn *conn, struct uvfs_args *args);
int uvfs_send_async(struct uvfs_conn *conn, unsigned int queue,
		    struct uvfs_args *args);
unsigned int uvfs_max_payload(struct uvfs_conn *conn);
void uvfs_wait_background(struct uvfs_conn *conn);
void uvfs_chan_kick(struct uvfs_conn *conn);
void uvfs_warn_bad_reply(u32 opcode, const char *why);
int uvfs_chan_init(void);
void uvfs_chan_exit(void);

/* ---- super.c ---- */
extern struct file_system_type uvfs_fs_type;
int uvfs_inode_cache_init(void);
void uvfs_inode_cache_exit(void);

/* ---- inode.c ---- */
extern const struct inode_operations uvfs_file_iops;
extern const struct inode_operations uvfs_special_iops;
extern const struct inode_operations uvfs_symlink_iops;
bool uvfs_attr_valid(const struct uvfs_attr *attr);
struct inode *uvfs_iget(struct super_block *sb, u64 nodeid,
			const struct uvfs_attr *attr, u64 attr_valid_ns,
			u64 av);
struct inode *uvfs_ilookup(struct super_block *sb, u64 nodeid);
int uvfs_check_attr_reply(struct inode *inode, u32 opcode,
			  const struct uvfs_attr *a);
void uvfs_change_attr(struct inode *inode, const struct uvfs_attr *attr,
		      u64 attr_valid_ns, u64 av);
void uvfs_attr_changed(struct inode *inode);
void uvfs_keep_nosec(struct inode *inode, bool was_nosec);

/* The attribute version to pass to uvfs_change_attr(), read before a send. */
static inline u64 uvfs_attr_version(struct super_block *sb)
{
	return atomic64_read(&UVFS_FS(sb)->attr_version);
}
int uvfs_update_attr(struct inode *inode, struct file *file, bool force);
void uvfs_invalidate_attr(struct inode *inode);
void uvfs_invalidate_stat(struct inode *inode);
void uvfs_make_bad(struct inode *inode);
void uvfs_queue_forget(struct uvfs_fs *fs, u64 nodeid, u64 nlookup);
void uvfs_flush_forgets(struct uvfs_fs *fs);
void uvfs_forget_work(struct work_struct *work);
void uvfs_drop_forgets(struct uvfs_fs *fs);
void uvfs_set_inode_ops(struct inode *inode);
void uvfs_evict_inode(struct inode *inode);
bool uvfs_allowed(struct uvfs_fs *fs);
int uvfs_permission(struct user_namespace *ns, struct inode *inode, int mask);
int uvfs_getattr(struct user_namespace *ns, const struct path *path,
		 struct kstat *stat, u32 mask, unsigned int flags);
int uvfs_setattr(struct user_namespace *ns, struct dentry *dentry,
		 struct iattr *attr);

/* ---- xattr.c ---- */
extern const struct xattr_handler *uvfs_xattr_handlers[];
ssize_t uvfs_listxattr(struct dentry *dentry, char *list, size_t size);

/* ---- dir.c ---- */
extern const struct inode_operations uvfs_dir_iops;
extern const struct file_operations uvfs_dir_fops;
extern const struct dentry_operations uvfs_dentry_ops;

/* ---- file.c ---- */
extern const struct file_operations uvfs_file_fops;
int uvfs_open_common(struct inode *inode, struct file *file, bool isdir);
void uvfs_file_attach(struct inode *inode, struct file *file,
		      struct uvfs_file *ff, bool isdir);
void uvfs_release_common(struct uvfs_conn *conn, u64 nodeid,
			 struct uvfs_file *ff, int flags, bool isdir);
int uvfs_send_fsync(struct file *file, u32 opcode, int datasync);
bool uvfs_wb_owns_attr(struct inode *inode);
int uvfs_wb_flush_attr(struct inode *inode, struct file *file);
int uvfs_wb_sync(struct inode *inode, struct file *file);

/* ---- space.c: room on the backend for the page cache ---- */
struct uvfs_space_direct {
	s64 need;	/* charged */
	bool drain;	/* held new promises off (space_direct) */
};
bool uvfs_space_op(u32 opcode);
bool uvfs_space_deliver_frees(struct uvfs_fs *fs);
s64 uvfs_space_try(struct inode *inode, loff_t pos, size_t count);
s64 uvfs_space_reserve(struct inode *inode, loff_t pos, size_t count);
void uvfs_space_settle(struct uvfs_fs *fs, s64 charged);
void uvfs_space_direct_begin(struct inode *inode, loff_t pos, loff_t count,
			     bool nodrain, struct uvfs_space_direct *d);
void uvfs_space_direct_end(struct inode *inode, struct uvfs_space_direct *d);

/* ---- pagecache.c ---- */
extern const struct address_space_operations uvfs_aops;
bool uvfs_read_direct(struct kiocb *iocb);
ssize_t uvfs_direct_read(struct kiocb *iocb, struct iov_iter *to);

/* ---- bdev.c: the block devices /dev/uvbdN ---- */
long uvfs_bdev_add(struct uvfs_conn *conn, void __user *uarg);
long uvfs_bdev_remove(const u32 __user *uindex);
void uvfs_bdev_conn_dead(struct uvfs_bdev *b);
int uvfs_bdev_init(void);
void uvfs_bdev_exit(void);

/* ---- notify.c ---- */
long uvfs_ioc_notify(struct uvfs_conn *conn, const void __user *umsg);

/* ---- compat: APIs that changed after 6.1 ---- */

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 6, 0)
static inline void uvfs_set_ctime(struct inode *inode, struct timespec64 ts)
{
	inode_set_ctime_to_ts(inode, ts);
}

static inline struct timespec64 uvfs_get_ctime(const struct inode *inode)
{
	return inode_get_ctime(inode);
}
#else
static inline void uvfs_set_ctime(struct inode *inode, struct timespec64 ts)
{
	inode->i_ctime = ts;
}

static inline struct timespec64 uvfs_get_ctime(const struct inode *inode)
{
	return inode->i_ctime;
}
#endif

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 7, 0)
static inline void uvfs_set_amtime(struct inode *inode, struct timespec64 a,
				   struct timespec64 m)
{
	inode_set_atime_to_ts(inode, a);
	inode_set_mtime_to_ts(inode, m);
}
#else
static inline void uvfs_set_amtime(struct inode *inode, struct timespec64 a,
				   struct timespec64 m)
{
	inode->i_atime = a;
	inode->i_mtime = m;
}
#endif

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 16, 0)
#define timer_container_of(var, callback_timer, timer_fieldname) \
	from_timer(var, callback_timer, timer_fieldname)
#endif
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 2, 0)
#define timer_delete_sync(t) del_timer_sync(t)
#define timer_delete(t) del_timer(t)
#endif

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
static inline void uvfs_vm_flags_set(struct vm_area_struct *vma,
				     unsigned long flags)
{
	vm_flags_set(vma, flags);
}
#else
static inline void uvfs_vm_flags_set(struct vm_area_struct *vma,
				     unsigned long flags)
{
	vma->vm_flags |= flags;
}
#endif

#endif /* UVFS_KMOD_UVFS_I_H */
