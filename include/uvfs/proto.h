/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * uvfs wire protocol: shared verbatim by the kernel module (uvfs.ko) and
 * userland (libuvfs, uvfsd, backends, tests).
 *
 * Rules
 * -----
 *  - Fixed-width fields only; every struct is padded explicitly to a
 *    multiple of 8 bytes and its size is asserted at the bottom of this file.
 *  - Structs only ever grow at the end.  A struct shorter than its size in
 *    1.0 is malformed (-EINVAL; a FORGET is dropped).  When a later minor
 *    grows a struct, a peer that receives the older, shorter size treats
 *    the missing tail as zero; a longer one is accepted and the unknown
 *    tail ignored (the header's len tells).
 *  - Errors travel as negative errno values (Linux numbering) in
 *    uvfs_out_header.error; 0 is success.  The kernel rejects anything
 *    outside [-UVFS_ERRNO_MAX, 0].  -ENOSYS means "op not implemented":
 *    the kernel stops sending that op; for FLUSH, FSYNC and FSYNCDIR it
 *    then counts as success.
 *  - Names are passed as NUL-terminated strings right after the fixed
 *    argument struct; their length (without NUL) is at most UVFS_NAME_MAX.
 *
 * Version negotiation
 * -------------------
 *  The kernel sends UVFS_OP_INIT with its major/minor.  The daemon replies
 *  with its own.  A different major fails the mount with -EPROTO; otherwise
 *  both sides use min(kernel minor, daemon minor) and only the features that
 *  minor defines.
 *
 * Changelog
 * ---------
 *  1.0  2026-11  first version: vnode ops, block device ops, notifications,
 *                shared-memory channel layout.  (Before any release,
 *                UVFS_IOC_NOTIFY's argument became the message itself.)
 *  1.1  2026-12  the fast path (issue 10):
 *                - the channel's header page gets struct uvfs_chan_hdr
 *                  (kernel-written state and counters of the queue);
 *                - UVFS_IOC_WAIT's spin_us is honoured: an adaptive
 *                  busy-poll of up to spin_us before sleeping;
 *                - background and no-reply requests (RELEASE,
 *                  RELEASEDIR, FORGET) may wait a few ms in the ring
 *                  before the daemon is woken for them.
 *                - UVFS_INIT_WRITEBACK: write(2) goes through the page
 *                  cache; WRITEs come from writeback, up to max_write
 *                  (1 MiB with the default slots), with any writable fh
 *                  of the node; the kernel sends mtime/ctime by SETATTR
 *                  after the data.  libuvfs accepts it unless
 *                  -o nowriteback.
 *                - uvfs_init_out.max_filesize (the struct is 40 bytes; a
 *                  1.0 reply's 32 are still read): the kernel fails writes
 *                  and truncates past it with EFBIG.
 *  1.2  2026-12  block devices (issue 11): UVFS_IOC_BDEV_ADD turns a set-up
 *                channel into the queues of /dev/uvbdN, whose requests are
 *                the BLK_* opcodes; UVFS_IOC_BDEV_REMOVE deletes a device.
 */
#ifndef UVFS_PROTO_H
#define UVFS_PROTO_H

#ifdef __KERNEL__
#include <linux/types.h>
#include <linux/ioctl.h>
#include <linux/build_bug.h>
#define UVFS_STATIC_ASSERT(expr, msg) static_assert(expr, msg)
#else
#include <assert.h>
#include <linux/ioctl.h>
#include <linux/types.h>
#ifndef __cplusplus
#define UVFS_STATIC_ASSERT(expr, msg) _Static_assert(expr, msg)
#else
#define UVFS_STATIC_ASSERT(expr, msg) static_assert(expr, msg)
#endif
#endif

#define UVFS_PROTO_MAJOR 1
#define UVFS_PROTO_MINOR 2

#define UVFS_ROOT_ID 1ULL        /* node id of the root directory */
#define UVFS_NAME_MAX 255        /* longest name component */
#define UVFS_SYMLINK_MAX 4095    /* longest symlink target */
#define UVFS_XATTR_NAME_MAX 255
#define UVFS_XATTR_SIZE_MAX 65536
#define UVFS_ERRNO_MAX 4095      /* replies carry -1 .. -4095, or 0 */
#define UVFS_MAX_WRITE_DEFAULT (128 * 1024)

/* ------------------------------------------------------------------------
 * Opcodes.  Numbers are part of the ABI: never renumber, only append.
 */
enum uvfs_opcode {
	UVFS_OP_INIT = 1,
	UVFS_OP_DESTROY = 2,
	UVFS_OP_LOOKUP = 3,
	UVFS_OP_FORGET = 4,	/* batched; no reply */
	UVFS_OP_GETATTR = 5,
	UVFS_OP_SETATTR = 6,
	UVFS_OP_READLINK = 7,
	UVFS_OP_SYMLINK = 8,
	UVFS_OP_MKNOD = 9,
	UVFS_OP_MKDIR = 10,
	UVFS_OP_UNLINK = 11,
	UVFS_OP_RMDIR = 12,
	UVFS_OP_RENAME = 13,
	UVFS_OP_LINK = 14,
	UVFS_OP_OPEN = 15,
	UVFS_OP_CREATE = 16,
	UVFS_OP_READ = 17,
	UVFS_OP_WRITE = 18,
	UVFS_OP_FLUSH = 19,
	UVFS_OP_RELEASE = 20,
	UVFS_OP_FSYNC = 21,
	UVFS_OP_OPENDIR = 22,
	UVFS_OP_READDIR = 23,
	UVFS_OP_READDIRPLUS = 24,
	UVFS_OP_RELEASEDIR = 25,
	UVFS_OP_FSYNCDIR = 26,
	UVFS_OP_STATFS = 27,
	UVFS_OP_SETXATTR = 28,
	UVFS_OP_GETXATTR = 29,
	UVFS_OP_LISTXATTR = 30,
	UVFS_OP_REMOVEXATTR = 31,
	UVFS_OP_ACCESS = 32,
	UVFS_OP_FALLOCATE = 33,
	UVFS_OP_LSEEK = 34,
	/* block device ("uvbd") requests */
	UVFS_OP_BLK_READ = 64,
	UVFS_OP_BLK_WRITE = 65,
	UVFS_OP_BLK_FLUSH = 66,
	UVFS_OP_BLK_DISCARD = 67,
	UVFS_OP_BLK_WRITE_ZEROES = 68,
	UVFS_OP_MAX = 69,	/* one past the largest opcode */
};

/* Notifications: daemon -> kernel, unsolicited (unique == 0). */
enum uvfs_notify_code {
	UVFS_NOTIFY_INVAL_INODE = 1,
	UVFS_NOTIFY_INVAL_ENTRY = 2,
	UVFS_NOTIFY_MAX = 3,
};

/* ------------------------------------------------------------------------
 * Message headers.
 */
struct uvfs_in_header {
	__u32 len;	/* whole message: header + args + payload */
	__u32 opcode;	/* enum uvfs_opcode */
	__u64 unique;	/* request id, never 0; echoed in the reply */
	__u64 nodeid;	/* target node (0 for block and fs-wide ops) */
	__u32 uid;	/* caller's fsuid */
	__u32 gid;	/* caller's fsgid */
	__u32 pid;	/* caller's tgid */
	__u32 umask;	/* caller's umask for create/mkdir/mknod */
};

struct uvfs_out_header {
	__u64 unique;	/* id of the request answered; 0 for a notification */
	__s32 error;	/* 0 or -errno; notification code when unique == 0 */
	__u32 len;	/* whole message: header + payload */
};

/* ------------------------------------------------------------------------
 * Attributes.
 */
struct uvfs_attr {
	__u64 ino;
	__u64 size;
	__u64 blocks;	/* 512-byte units */
	__s64 atime;
	__s64 mtime;
	__s64 ctime;
	__u32 atimensec;
	__u32 mtimensec;
	__u32 ctimensec;
	__u32 mode;
	__u32 nlink;
	__u32 uid;
	__u32 gid;
	__u32 rdev;	/* Linux new_encode_dev() encoding */
	__u32 blksize;
	__u32 padding;
};

/* Validity timeouts are in nanoseconds. */
struct uvfs_entry_out {
	__u64 nodeid;		/* 0: negative entry, cache the miss */
	__u64 generation;
	__u64 entry_valid_ns;
	__u64 attr_valid_ns;
	struct uvfs_attr attr;
};

struct uvfs_attr_out {
	__u64 attr_valid_ns;
	struct uvfs_attr attr;
};

/* ------------------------------------------------------------------------
 * Per-operation arguments (request) and results (reply).
 */
struct uvfs_init_in {
	__u32 major;
	__u32 minor;
	__u32 max_write;	/* largest WRITE/READ payload the kernel sends */
	__u32 flags;		/* UVFS_INIT_* the kernel supports */
};

#define UVFS_INIT_READDIRPLUS  (1u << 0)
#define UVFS_INIT_RENAME_FLAGS (1u << 1)
#define UVFS_INIT_WRITEBACK    (1u << 2)
#define UVFS_INIT_BLOCKDEV     (1u << 3)

struct uvfs_init_out {
	__u32 major;
	__u32 minor;
	__u32 max_write;
	__u32 flags;		/* UVFS_INIT_* the daemon wants */
	__u32 time_gran;	/* timestamp granularity in ns (1 = ns) */
	__u32 max_readahead;
	__u32 subtype_len;	/* length of the backend name that follows */
	__u32 padding;
	/* 1.1: */
	__u64 max_filesize;	/* largest file size in bytes; 0 = no limit */
	/* followed by the backend name (no NUL), for "uvfs.<name>" */
};

struct uvfs_forget_one {
	__u64 nodeid;
	__u64 nlookup;
};

struct uvfs_forget_in {
	__u32 count;		/* followed by count uvfs_forget_one */
	__u32 padding;
};

struct uvfs_getattr_in {
	__u64 fh;
	__u32 flags;		/* UVFS_GETATTR_FH: fh is valid */
	__u32 padding;
};

#define UVFS_GETATTR_FH (1u << 0)

/* uvfs_setattr_in.valid */
#define UVFS_SET_MODE      (1u << 0)
#define UVFS_SET_UID       (1u << 1)
#define UVFS_SET_GID       (1u << 2)
#define UVFS_SET_SIZE      (1u << 3)
#define UVFS_SET_ATIME     (1u << 4)
#define UVFS_SET_MTIME     (1u << 5)
#define UVFS_SET_FH        (1u << 6)
#define UVFS_SET_ATIME_NOW (1u << 7)
#define UVFS_SET_MTIME_NOW (1u << 8)
#define UVFS_SET_CTIME     (1u << 10)
#define UVFS_SET_KILL_SUID (1u << 11)

struct uvfs_setattr_in {
	__u32 valid;
	__u32 padding;
	__u64 fh;
	__u64 size;
	__s64 atime;
	__s64 mtime;
	__s64 ctime;
	__u32 atimensec;
	__u32 mtimensec;
	__u32 ctimensec;
	__u32 mode;
	__u32 uid;
	__u32 gid;
};

/* SYMLINK: args are "name\0target\0", no fixed struct. */

struct uvfs_mknod_in {
	__u32 mode;
	__u32 rdev;
};				/* followed by name */

struct uvfs_mkdir_in {
	__u32 mode;
	__u32 padding;
};				/* followed by name */

/* UNLINK, RMDIR, LOOKUP: args are "name\0". */

#define UVFS_RENAME_NOREPLACE (1u << 0)
#define UVFS_RENAME_EXCHANGE  (1u << 1)

struct uvfs_rename_in {
	__u64 newdir;
	__u32 flags;
	__u32 padding;
};				/* followed by "oldname\0newname\0" */

struct uvfs_link_in {
	__u64 oldnodeid;
};				/* nodeid = new parent; followed by newname */

struct uvfs_open_in {
	__u32 flags;		/* open(2) flags */
	__u32 padding;
};

/* uvfs_open_out.open_flags */
#define UVFS_OPEN_DIRECT_IO   (1u << 0)
#define UVFS_OPEN_KEEP_CACHE  (1u << 1)
#define UVFS_OPEN_NONSEEKABLE (1u << 2)

struct uvfs_open_out {
	__u64 fh;
	__u32 open_flags;
	__u32 padding;
};

struct uvfs_create_in {
	__u32 flags;
	__u32 mode;
};				/* followed by name */

struct uvfs_create_out {
	struct uvfs_entry_out entry;
	struct uvfs_open_out open;
};

/* READ, READDIR, READDIRPLUS; reply payload is the data. */
struct uvfs_read_in {
	__u64 fh;
	__u64 offset;
	__u32 size;
	__u32 flags;
};

struct uvfs_write_in {
	__u64 fh;
	__u64 offset;
	__u32 size;
	__u32 flags;		/* open(2) flags of the file */
};				/* followed by size bytes of data */

struct uvfs_write_out {
	__u32 size;
	__u32 padding;
};

struct uvfs_flush_in {
	__u64 fh;
	__u64 lock_owner;
};

struct uvfs_release_in {
	__u64 fh;
	__u32 flags;
	__u32 padding;
};

#define UVFS_FSYNC_DATASYNC (1u << 0)

struct uvfs_fsync_in {
	__u64 fh;
	__u32 fsync_flags;
	__u32 padding;
};

/*
 * READDIR reply: a sequence of uvfs_dirent records, each padded to 8 bytes.
 * off is the cookie to pass as uvfs_read_in.offset to continue after this
 * entry.  READDIRPLUS: uvfs_direntplus records (entry + dirent).
 */
struct uvfs_dirent {
	__u64 ino;
	__u64 off;
	__u32 namelen;
	__u32 type;		/* DT_* */
	char name[];
};

struct uvfs_direntplus {
	struct uvfs_entry_out entry;
	struct uvfs_dirent dirent;
};

#define UVFS_DIRENT_ALIGN(x) (((x) + 7) & ~(__u64)7)
#define UVFS_DIRENT_SIZE(namelen) \
	UVFS_DIRENT_ALIGN(sizeof(struct uvfs_dirent) + (namelen))
#define UVFS_DIRENTPLUS_SIZE(namelen) \
	UVFS_DIRENT_ALIGN(sizeof(struct uvfs_direntplus) + (namelen))

struct uvfs_statfs_out {
	__u64 blocks;
	__u64 bfree;
	__u64 bavail;
	__u64 files;
	__u64 ffree;
	__u32 bsize;
	__u32 namelen;
	__u32 frsize;
	__u32 padding;
};

struct uvfs_setxattr_in {
	__u32 size;		/* value size */
	__u32 flags;		/* XATTR_CREATE / XATTR_REPLACE */
};				/* followed by "name\0" then value */

/* GETXATTR: followed by "name\0"; LISTXATTR: no name. */
struct uvfs_getxattr_in {
	__u32 size;		/* 0: ask for the size only */
	__u32 padding;
};

struct uvfs_getxattr_out {
	__u32 size;		/* reply when the request's size was 0 */
	__u32 padding;
};

/* REMOVEXATTR: args are "name\0". */

struct uvfs_access_in {
	__u32 mask;
	__u32 padding;
};

struct uvfs_fallocate_in {
	__u64 fh;
	__u64 offset;
	__u64 length;
	__u32 mode;		/* FALLOC_FL_* */
	__u32 padding;
};

struct uvfs_lseek_in {
	__u64 fh;
	__u64 offset;
	__u32 whence;		/* SEEK_DATA or SEEK_HOLE */
	__u32 padding;
};

struct uvfs_lseek_out {
	__u64 offset;
};

/*
 * Block device requests: nodeid is the device index (N of /dev/uvbdN).
 * offset and length are in bytes, multiples of the logical block size,
 * and never reach past the device's size.  BLK_WRITE's payload (length
 * bytes) follows; a BLK_READ reply carries exactly length bytes, every
 * other reply none.  BLK_FLUSH has offset = length = 0: make every
 * completed write durable.  BLK_DISCARD: the range's contents become
 * undefined (reads may return old data or zeroes).  BLK_WRITE_ZEROES:
 * reads of the range return zeroes; UVFS_BLK_NOUNMAP asks to keep it
 * allocated.  UVFS_BLK_FUA on a write: durable before the reply.
 */
struct uvfs_blk_in {
	__u64 offset;		/* bytes */
	__u32 length;		/* bytes; payload follows for BLK_WRITE */
	__u32 flags;		/* UVFS_BLK_* */
};

#define UVFS_BLK_FUA (1u << 0)
#define UVFS_BLK_NOUNMAP (1u << 1)

/*
 * UVFS_IOC_BDEV_ADD (1.2), on a /dev/uvfs descriptor after UVFS_IOC_SETUP
 * and before any mount: create /dev/uvbdN served by this channel.  The
 * device has one hardware queue per channel queue, each as deep as the
 * queue; a request longer than the slot payload is split by the block
 * layer (max_io).  The daemon must already be serving the queues: adding
 * the disk reads from it.  Errors: EINVAL (size 0 or not a multiple of
 * block_size, block_size not 512..4096 and a power of two, unknown flags,
 * no SETUP), EPROTO (major differs), EBUSY (the channel serves a mount or
 * a device already), ENOTCONN.
 *
 * UVFS_IOC_BDEV_REMOVE (1.2), on any /dev/uvfs descriptor, by
 * CAP_SYS_ADMIN: delete /dev/uvbdN (argument: N).  Dirty data of the
 * device's users is written first while the daemon still serves; then its
 * channel is shut down (the daemon's WAIT returns ENODEV).  ENOENT: no
 * such device.
 *
 * When the daemon's channel closes (it exits or is killed), the device's
 * pending and new requests fail with an I/O error at once; the device
 * stays, dead, until removed.
 */
#define UVFS_BDEV_RO (1u << 0)		/* read-only device */
#define UVFS_BDEV_FLUSH (1u << 1)	/* volatile cache: send FLUSH, FUA */
#define UVFS_BDEV_DISCARD (1u << 2)	/* send BLK_DISCARD */
#define UVFS_BDEV_WRITE_ZEROES (1u << 3)	/* send BLK_WRITE_ZEROES */
#define UVFS_BDEV_FLAGS_ALL 0xfu

struct uvfs_bdev_add {
	__u32 major;		/* in: UVFS_PROTO_MAJOR of the daemon */
	__u32 minor;		/* in: UVFS_PROTO_MINOR of the daemon */
	__u64 size;		/* in: bytes, a multiple of block_size */
	__u32 block_size;	/* in: logical block size */
	__u32 flags;		/* in: UVFS_BDEV_* */
	__u32 max_io;		/* out: longest READ/WRITE, bytes */
	__u32 index;		/* out: N of /dev/uvbdN */
};

/* ------------------------------------------------------------------------
 * Notifications (daemon -> kernel).
 */
struct uvfs_notify_inval_inode {
	__u64 nodeid;
	__s64 offset;		/* start of the data range to drop */
	__s64 length;		/* 0: attributes only; <0: to the end */
};

struct uvfs_notify_inval_entry {
	__u64 parent;
	__u32 namelen;
	__u32 padding;
};				/* followed by name and a NUL */

/* ------------------------------------------------------------------------
 * Shared-memory channel between uvfs.ko and uvfsd (see docs/protocol.md).
 *
 * The daemon opens /dev/uvfs, calls UVFS_IOC_SETUP with the geometry, then
 * mmaps the whole area.  Queue q lives at offset q * queue_stride; inside it
 * a header page, then depth slots of slot_size bytes.  A slot holds one
 * request (uvfs_in_header + args + payload) and, once served, its reply
 * (uvfs_out_header + payload) written over it.  The header page starts
 * with a struct uvfs_chan_hdr (1.1; the rest is reserved).  slot_size is a multiple of the page size and
 * leaves one page for headers and arguments: the largest READ/WRITE payload
 * is slot_size - 4096 (the kernel announces it in uvfs_init_in.max_write).
 *
 * Slot life cycle: the kernel fills a free slot and makes it ready; one
 * UVFS_IOC_WAIT hands it to the daemon (ready[]); the daemon writes the
 * reply over it and names it in done[] of a later WAIT or COMMIT on the
 * same queue; the kernel then copies the reply out (it validates its copy,
 * never the shared memory) and frees the slot.  Requests that get no reply
 * (FORGET) must be named in done[] too, so their slot is freed.
 *
 * The kernel reads a slot's reply only when it is committed and never
 * again after: replies to the same slot after that are ignored.
 */
struct uvfs_chan_setup {
	__u32 nqueues;		/* in: 0 = one per possible CPU; out: actual */
	__u32 depth;		/* in/out: slots per queue */
	__u32 slot_size;	/* in/out: bytes per slot, incl. headers */
	__u32 flags;
	__u64 queue_stride;	/* out: bytes between two queues */
	__u64 mmap_size;	/* out: total bytes to mmap */
};

/*
 * UVFS_IOC_WAIT: commit the replies named in done[] (slot indexes of queue
 * 'queue'), then sleep until at least one new request is ready (or the
 * timeout / channel shutdown), and return the ready slot indexes in ready[].
 * done[] is consumed whatever the result (except EFAULT / EINVAL on the
 * struct itself); entries naming a slot the daemon does not own are
 * skipped.  Errors: EINTR (a signal: call again), ENODEV (the file system
 * was unmounted and DESTROY answered: stop serving), ENOTCONN (channel
 * aborted), EINVAL (bad queue / ndone / no SETUP yet).
 * spin_us (1.1): when nothing is ready, poll the queue for up to this many
 * microseconds (capped at 1000) before sleeping; 0 sleeps at once.  The
 * kernel adapts the actual poll below that cap: it halves it when a poll
 * finds nothing, doubles it when a poll finds a request, and makes it
 * twice the idle time when the thread, asleep, is woken within spin_us of
 * falling idle.
 *
 * Background and no-reply requests (RELEASE, RELEASEDIR, FORGET) do not
 * wake a sleeping daemon by themselves: they are handed out with the next
 * request that does, or after a few milliseconds, or when many are queued
 * (1.1).  In one queue, requests are handed out in the order they were
 * made ready.
 *
 * UVFS_IOC_COMMIT: the same struct; only commits done[], never sleeps and
 * returns nready = 0.  For replies sent by a thread other than the queue's
 * serving thread.
 *
 * UVFS_IOC_NOTIFY: the argument points to one notification: an
 * uvfs_out_header (len: the whole message, unique 0, error: the
 * uvfs_notify_code) followed by its payload (uvfs_notify_inval_inode, or
 * uvfs_notify_inval_entry + name + NUL).  Errors: EINVAL (malformed),
 * ENOENT (node not cached: nothing to invalidate), ENOTDIR, ENOTCONN (not
 * mounted).
 */
#define UVFS_WAIT_MAX 64

struct uvfs_chan_wait {
	__u32 queue;
	__u32 ndone;		/* in: entries in done[] */
	__u32 nready;		/* out: entries in ready[] */
	__u32 spin_us;		/* in: busy-poll this long before sleeping */
	__u16 done[UVFS_WAIT_MAX];
	__u16 ready[UVFS_WAIT_MAX];
};

#define UVFS_IOC_MAGIC 0xE2
#define UVFS_IOC_SETUP  _IOWR(UVFS_IOC_MAGIC, 1, struct uvfs_chan_setup)
#define UVFS_IOC_WAIT   _IOWR(UVFS_IOC_MAGIC, 2, struct uvfs_chan_wait)
#define UVFS_IOC_NOTIFY _IOW(UVFS_IOC_MAGIC, 3, struct uvfs_out_header)
#define UVFS_IOC_COMMIT _IOW(UVFS_IOC_MAGIC, 4, struct uvfs_chan_wait)
/* Wake every UVFS_IOC_WAIT with ENODEV, now and later (daemon stopping). */
#define UVFS_IOC_SHUTDOWN _IO(UVFS_IOC_MAGIC, 5)
#define UVFS_IOC_BDEV_ADD _IOWR(UVFS_IOC_MAGIC, 6, struct uvfs_bdev_add)
#define UVFS_IOC_BDEV_REMOVE _IOW(UVFS_IOC_MAGIC, 7, __u32)

#define UVFS_CHAN_HDR_SIZE 4096	/* header page at the start of a queue */

/*
 * The header page of a queue (1.1): written by the kernel only, for the
 * daemon's statistics and for tests.  The kernel never reads it back and
 * never decides anything from it: a daemon that scribbles over it changes
 * nothing but the numbers it reads.
 */
#define UVFS_CHAN_HDR_MAGIC 0x75766871	/* "uvhq" */

#define UVFS_CHAN_DAEMON_BUSY 0		/* serving what its WAIT returned */
#define UVFS_CHAN_DAEMON_POLLING 1	/* in WAIT, busy-polling the queue */
#define UVFS_CHAN_DAEMON_SLEEPING 2	/* in WAIT, asleep */

struct uvfs_chan_hdr {
	__u32 magic;		/* UVFS_CHAN_HDR_MAGIC once set up */
	__u32 daemon_state;	/* UVFS_CHAN_DAEMON_* of the serving thread */
	__u32 spin_ns;		/* the WAIT poll the kernel uses now */
	__u32 padding;
	__u64 requests;		/* requests made ready */
	__u64 lazy;		/* of which did not wake the daemon at once */
	__u64 wakeups;		/* wake-ups of a sleeping serving thread */
	__u64 spin_hits;	/* WAIT polls that found a request */
	__u64 spin_misses;	/* WAIT polls that ended in sleep */
	__u64 sender_spins;	/* replies a sender saw while polling */
};
#define UVFS_CHAN_MAX_QUEUES 64
#define UVFS_CHAN_MAX_DEPTH 1024
#define UVFS_CHAN_MIN_SLOT 8192
#define UVFS_CHAN_MAX_SLOT (1024 * 1024 + 4096)

/* ------------------------------------------------------------------------
 * Size assertions: the ABI.
 */
UVFS_STATIC_ASSERT(sizeof(struct uvfs_in_header) == 40, "in_header");
UVFS_STATIC_ASSERT(sizeof(struct uvfs_out_header) == 16, "out_header");
UVFS_STATIC_ASSERT(sizeof(struct uvfs_attr) == 88, "attr");
UVFS_STATIC_ASSERT(sizeof(struct uvfs_entry_out) == 120, "entry_out");
UVFS_STATIC_ASSERT(sizeof(struct uvfs_attr_out) == 96, "attr_out");
UVFS_STATIC_ASSERT(sizeof(struct uvfs_init_in) == 16, "init_in");
UVFS_STATIC_ASSERT(sizeof(struct uvfs_init_out) == 40, "init_out");
UVFS_STATIC_ASSERT(sizeof(struct uvfs_forget_one) == 16, "forget_one");
UVFS_STATIC_ASSERT(sizeof(struct uvfs_forget_in) == 8, "forget_in");
UVFS_STATIC_ASSERT(sizeof(struct uvfs_getattr_in) == 16, "getattr_in");
UVFS_STATIC_ASSERT(sizeof(struct uvfs_setattr_in) == 72, "setattr_in");
UVFS_STATIC_ASSERT(sizeof(struct uvfs_mknod_in) == 8, "mknod_in");
UVFS_STATIC_ASSERT(sizeof(struct uvfs_mkdir_in) == 8, "mkdir_in");
UVFS_STATIC_ASSERT(sizeof(struct uvfs_rename_in) == 16, "rename_in");
UVFS_STATIC_ASSERT(sizeof(struct uvfs_link_in) == 8, "link_in");
UVFS_STATIC_ASSERT(sizeof(struct uvfs_open_in) == 8, "open_in");
UVFS_STATIC_ASSERT(sizeof(struct uvfs_open_out) == 16, "open_out");
UVFS_STATIC_ASSERT(sizeof(struct uvfs_create_in) == 8, "create_in");
UVFS_STATIC_ASSERT(sizeof(struct uvfs_create_out) == 136, "create_out");
UVFS_STATIC_ASSERT(sizeof(struct uvfs_read_in) == 24, "read_in");
UVFS_STATIC_ASSERT(sizeof(struct uvfs_write_in) == 24, "write_in");
UVFS_STATIC_ASSERT(sizeof(struct uvfs_write_out) == 8, "write_out");
UVFS_STATIC_ASSERT(sizeof(struct uvfs_flush_in) == 16, "flush_in");
UVFS_STATIC_ASSERT(sizeof(struct uvfs_release_in) == 16, "release_in");
UVFS_STATIC_ASSERT(sizeof(struct uvfs_fsync_in) == 16, "fsync_in");
UVFS_STATIC_ASSERT(sizeof(struct uvfs_dirent) == 24, "dirent");
UVFS_STATIC_ASSERT(sizeof(struct uvfs_direntplus) == 144, "direntplus");
UVFS_STATIC_ASSERT(sizeof(struct uvfs_statfs_out) == 56, "statfs_out");
UVFS_STATIC_ASSERT(sizeof(struct uvfs_setxattr_in) == 8, "setxattr_in");
UVFS_STATIC_ASSERT(sizeof(struct uvfs_getxattr_in) == 8, "getxattr_in");
UVFS_STATIC_ASSERT(sizeof(struct uvfs_getxattr_out) == 8, "getxattr_out");
UVFS_STATIC_ASSERT(sizeof(struct uvfs_access_in) == 8, "access_in");
UVFS_STATIC_ASSERT(sizeof(struct uvfs_fallocate_in) == 32, "fallocate_in");
UVFS_STATIC_ASSERT(sizeof(struct uvfs_lseek_in) == 24, "lseek_in");
UVFS_STATIC_ASSERT(sizeof(struct uvfs_lseek_out) == 8, "lseek_out");
UVFS_STATIC_ASSERT(sizeof(struct uvfs_blk_in) == 16, "blk_in");
UVFS_STATIC_ASSERT(sizeof(struct uvfs_bdev_add) == 32, "bdev_add");
UVFS_STATIC_ASSERT(sizeof(struct uvfs_notify_inval_inode) == 24, "inval_inode");
UVFS_STATIC_ASSERT(sizeof(struct uvfs_notify_inval_entry) == 16, "inval_entry");
UVFS_STATIC_ASSERT(sizeof(struct uvfs_chan_setup) == 32, "chan_setup");
UVFS_STATIC_ASSERT(sizeof(struct uvfs_chan_wait) == 272, "chan_wait");
UVFS_STATIC_ASSERT(sizeof(struct uvfs_chan_hdr) == 64, "chan_hdr");
UVFS_STATIC_ASSERT(sizeof(struct uvfs_chan_hdr) <= UVFS_CHAN_HDR_SIZE,
		   "chan_hdr fits its page");

#endif /* UVFS_PROTO_H */
