/* SPDX-License-Identifier: MIT */
/*
 * uvfs backend API.
 *
 * A backend is a shared object that exports one descriptor,
 *
 *	UVFS_BACKEND(my_backend);
 *
 * which names it, states the API version it was built against, and points
 * at its ops table.  uvfsd loads it, calls mount() with the SOURCE argument,
 * then calls the ops as requests arrive from the kernel (through our module,
 * or through FUSE, or in-process through the `direct` transport).
 *
 * Node ids are the backend's inode numbers; the root directory is always
 * UVFS_ROOT_ID (1).  Every op receives a request handle and must answer it
 * exactly once with one of the uvfs_reply_*() functions, either before
 * returning or later from any thread.  forget/forget_multi answer with
 * uvfs_reply_none().
 *
 * Errors are negative errno values everywhere: uvfs_reply_err(req, -ENOENT).
 *
 * Lookup counting works as in FUSE: every successful reply that hands out an
 * entry (lookup, create, mknod, mkdir, symlink, link, and each readdirplus
 * entry other than "." and "..") adds one to the node's lookup count; forget
 * subtracts.  A node may be freed once it is unlinked and its count is zero.
 *
 * If a reply function that hands out an entry returns an error, the entry
 * was not delivered and the lookup count must not be raised.  readdirplus
 * entries count once uvfs_reply_buf() of the buffer returned 0.
 *
 * Modes passed to create, mkdir and mknod already have the caller's umask
 * applied by the kernel; uvfs_req_ctx()->umask is for information only.
 *
 * Missing ops: forget is only called when forget_multi is NULL.  When open,
 * opendir, release, releasedir, fsync, fsyncdir or access are NULL the
 * library answers success (fh 0); a NULL statfs answers an empty
 * filesystem; every other NULL op answers -ENOSYS, and the kernel stops
 * sending it.  For flush, -ENOSYS means "nothing to do on close": leave
 * flush NULL unless close must do work.
 *
 * Ops may be called concurrently from several threads unless the daemon
 * runs with -s; the backend does its own locking.
 */
#ifndef UVFS_UVFS_H
#define UVFS_UVFS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>

#include "uvfs/proto.h"

#ifdef __cplusplus
extern "C" {
#endif

#define UVFS_BACKEND_API_VERSION 1
#define UVFS_VERSION "0.1.0"

struct uvfs_req;
struct uvfs_session;

/* Who asked: the caller's credentials, from the request header. */
struct uvfs_ctx {
	uid_t uid;
	gid_t gid;
	pid_t pid;
	mode_t umask;
};

/* What a lookup-like op hands back. */
struct uvfs_entry {
	uint64_t ino;		/* 0: negative entry (cached "no such name") */
	uint64_t generation;
	struct stat attr;	/* st_ino must equal ino */
	double attr_timeout;	/* seconds the kernel may cache attr */
	double entry_timeout;	/* seconds the kernel may cache the name */
};

/* Per-open-file state; fh is the backend's own handle. */
struct uvfs_file_info {
	int flags;		/* open(2) flags */
	uint32_t direct_io : 1;	/* bypass the page cache for this open */
	uint32_t keep_cache : 1;	/* keep cached pages from earlier opens */
	uint32_t nonseekable : 1;
	uint32_t datasync : 1;	/* fsync: only data */
	uint64_t fh;
	uint64_t lock_owner;
};

/* setattr's to_set bits are the UVFS_SET_* flags of proto.h. */

struct uvfs_ops {
	void (*lookup)(struct uvfs_req *req, uint64_t parent, const char *name);
	void (*forget)(struct uvfs_req *req, uint64_t ino, uint64_t nlookup);
	void (*forget_multi)(struct uvfs_req *req, size_t count,
			     const struct uvfs_forget_one *forgets);
	void (*getattr)(struct uvfs_req *req, uint64_t ino,
			struct uvfs_file_info *fi);
	void (*setattr)(struct uvfs_req *req, uint64_t ino,
			const struct stat *attr, uint32_t to_set,
			struct uvfs_file_info *fi);
	void (*readlink)(struct uvfs_req *req, uint64_t ino);
	void (*mknod)(struct uvfs_req *req, uint64_t parent, const char *name,
		      mode_t mode, dev_t rdev);
	void (*mkdir)(struct uvfs_req *req, uint64_t parent, const char *name,
		      mode_t mode);
	void (*unlink)(struct uvfs_req *req, uint64_t parent, const char *name);
	void (*rmdir)(struct uvfs_req *req, uint64_t parent, const char *name);
	void (*symlink)(struct uvfs_req *req, const char *target,
			uint64_t parent, const char *name);
	void (*rename)(struct uvfs_req *req, uint64_t parent, const char *name,
		       uint64_t newparent, const char *newname,
		       unsigned int flags /* UVFS_RENAME_* */);
	void (*link)(struct uvfs_req *req, uint64_t ino, uint64_t newparent,
		     const char *newname);
	void (*open)(struct uvfs_req *req, uint64_t ino,
		     struct uvfs_file_info *fi);
	void (*create)(struct uvfs_req *req, uint64_t parent, const char *name,
		       mode_t mode, struct uvfs_file_info *fi);
	void (*read)(struct uvfs_req *req, uint64_t ino, size_t size,
		     off_t off, struct uvfs_file_info *fi);
	void (*write)(struct uvfs_req *req, uint64_t ino, const void *buf,
		      size_t size, off_t off, struct uvfs_file_info *fi);
	void (*flush)(struct uvfs_req *req, uint64_t ino,
		      struct uvfs_file_info *fi);
	void (*release)(struct uvfs_req *req, uint64_t ino,
			struct uvfs_file_info *fi);
	void (*fsync)(struct uvfs_req *req, uint64_t ino, int datasync,
		      struct uvfs_file_info *fi);
	void (*opendir)(struct uvfs_req *req, uint64_t ino,
			struct uvfs_file_info *fi);
	/* Fill with uvfs_add_dirent(); off is 0 or a cookie handed out. */
	void (*readdir)(struct uvfs_req *req, uint64_t ino, size_t size,
			off_t off, struct uvfs_file_info *fi);
	/* Fill with uvfs_add_direntplus(). */
	void (*readdirplus)(struct uvfs_req *req, uint64_t ino, size_t size,
			    off_t off, struct uvfs_file_info *fi);
	void (*releasedir)(struct uvfs_req *req, uint64_t ino,
			   struct uvfs_file_info *fi);
	void (*fsyncdir)(struct uvfs_req *req, uint64_t ino, int datasync,
			 struct uvfs_file_info *fi);
	void (*statfs)(struct uvfs_req *req, uint64_t ino);
	void (*setxattr)(struct uvfs_req *req, uint64_t ino, const char *name,
			 const void *value, size_t size, int flags);
	/* size 0: reply uvfs_reply_xattr(size needed); else uvfs_reply_buf. */
	void (*getxattr)(struct uvfs_req *req, uint64_t ino, const char *name,
			 size_t size);
	/* Same convention; the list is NUL-separated names. */
	void (*listxattr)(struct uvfs_req *req, uint64_t ino, size_t size);
	void (*removexattr)(struct uvfs_req *req, uint64_t ino,
			    const char *name);
	void (*access)(struct uvfs_req *req, uint64_t ino, int mask);
	void (*fallocate)(struct uvfs_req *req, uint64_t ino, int mode,
			  off_t offset, off_t length,
			  struct uvfs_file_info *fi);
	void (*lseek)(struct uvfs_req *req, uint64_t ino, off_t off,
		      int whence, struct uvfs_file_info *fi);
};

/* What mount() gets. */
struct uvfs_mount_args {
	struct uvfs_session *session;	/* for notifications */
	const char *source;		/* SOURCE argument ("none" allowed) */
	int readonly;			/* -o ro */
	const char *options;		/* -o options uvfsd does not know, or NULL */
	char *errbuf;			/* one-line reason when mount fails */
	size_t errlen;
};

struct uvfs_backend {
	uint32_t api_version;	/* UVFS_BACKEND_API_VERSION */
	uint32_t ops_size;	/* sizeof(struct uvfs_ops) it was built with */
	const char *name;
	const char *usage;	/* backend-specific options, for --help */
	const struct uvfs_ops *ops;
	/* Open SOURCE and set *priv; on failure return -errno and write a
	 * one-line reason to args->errbuf. */
	int (*mount)(const struct uvfs_mount_args *args, void **priv);
	/* Flush everything to SOURCE and release it. */
	void (*unmount)(void *priv);
};

#define UVFS_BACKEND_SYMBOL "uvfs_backend_descriptor"
#define UVFS_BACKEND(desc)                                                    \
	__attribute__((visibility("default"))) const struct uvfs_backend *     \
	uvfs_backend_descriptor = &(desc)

/* ---- request accessors ---- */
const struct uvfs_ctx *uvfs_req_ctx(const struct uvfs_req *req);
/* mount()'s *priv, or a block backend's open()'s */
void *uvfs_req_priv(const struct uvfs_req *req);

/* ---- replies: each returns 0 or -errno; err is 0 or -errno ---- */
int uvfs_reply_err(struct uvfs_req *req, int err);
void uvfs_reply_none(struct uvfs_req *req);
int uvfs_reply_entry(struct uvfs_req *req, const struct uvfs_entry *e);
/*
 * LOOKUP only: the name does not exist, and the kernel may remember that
 * for entry_timeout seconds without asking again (a negative entry; 0 is
 * the same as uvfs_reply_err(req, -ENOENT)).  Give it only when every
 * change of the directory goes through the kernel that caches it.
 */
int uvfs_reply_negative(struct uvfs_req *req, double entry_timeout);
int uvfs_reply_create(struct uvfs_req *req, const struct uvfs_entry *e,
		      const struct uvfs_file_info *fi);
int uvfs_reply_attr(struct uvfs_req *req, const struct stat *attr,
		    double attr_timeout);
int uvfs_reply_readlink(struct uvfs_req *req, const char *target);
int uvfs_reply_open(struct uvfs_req *req, const struct uvfs_file_info *fi);
int uvfs_reply_write(struct uvfs_req *req, size_t count);
int uvfs_reply_buf(struct uvfs_req *req, const void *buf, size_t size);
int uvfs_reply_statfs(struct uvfs_req *req, const struct statvfs *st);
int uvfs_reply_xattr(struct uvfs_req *req, size_t size);
int uvfs_reply_lseek(struct uvfs_req *req, off_t off);

/*
 * A buffer of at least size bytes for the reply payload of a READ, READDIR,
 * GETXATTR or block read, living in the transport's reply area where it can (the
 * shared ring for the kernel module: no copy), else allocated by the
 * library and freed after the reply.  Fill it, then reply with
 * uvfs_reply_buf(req, same pointer, bytes used).  NULL only if size exceeds
 * what the request asked for, or on out-of-memory.
 */
void *uvfs_req_outbuf(struct uvfs_req *req, size_t size);

/*
 * A hint that this request is about to wait for slow I/O (the disk, an
 * fsync): the transport may start serving the next requests on another
 * thread meanwhile.  Quick requests are served on the thread that read
 * them, one after the other, which is what makes them quick; the library
 * gives the hint itself before READ, WRITE, FSYNC, FSYNCDIR and FALLOCATE.
 * Call it before other slow work (a RELEASE that flushes, say).  Cheap,
 * and harmless to call twice or from a transport that ignores it.
 */
void uvfs_req_may_block(struct uvfs_req *req);

/*
 * Directory listing helpers: append one record to buf (bufsize bytes left)
 * and return its size.  If the size exceeds bufsize, nothing is written:
 * stop and reply with what you have.  next_off is the cookie that resumes
 * after this entry.  Only attr->st_ino and the type bits of st_mode are used
 * by uvfs_add_dirent().
 */
size_t uvfs_add_dirent(char *buf, size_t bufsize, const char *name,
		       const struct stat *attr, off_t next_off);
size_t uvfs_add_direntplus(char *buf, size_t bufsize, const char *name,
			   const struct uvfs_entry *e, off_t next_off);

/* ---- notifications (daemon -> kernel); 0, -ENOSYS or -errno ---- */
int uvfs_notify_inval_inode(struct uvfs_session *se, uint64_t ino,
			    off_t off, off_t len);
int uvfs_notify_inval_entry(struct uvfs_session *se, uint64_t parent,
			    const char *name);

/*
 * From mount(): name the filesystem SOURCE holds ("ext4" for an ext4 image),
 * shown in /proc/mounts as fuse.NAME or uvfs.NAME.  Without it the backend's
 * name is shown; -o subtype= given by the user wins over both.  NAME is
 * copied; at most 31 characters of [A-Za-z0-9_-].  0 or -EINVAL.
 */
int uvfs_mount_set_subtype(const struct uvfs_mount_args *args,
			   const char *name);
/* From mount(): mount read-only although rw was asked (e.g. -o norecovery). */
void uvfs_mount_set_readonly(const struct uvfs_mount_args *args);
/*
 * From mount(): the largest file size SOURCE can hold, in bytes.  The
 * kernel module then fails writes and truncates past it with EFBIG (and
 * cuts a write that straddles it short) before they reach the backend, as
 * the kernel's own driver of that file system does.  Without it there is
 * no limit but the kernel's.
 */
void uvfs_mount_set_max_filesize(const struct uvfs_mount_args *args,
				 uint64_t max);

/*
 * From mount(): claim SOURCE (an image file or a block device) so that no
 * second mount writes it at the same time.  Read-only claims share; a
 * read-write claim excludes every other claim, kernel mounts of the block
 * device, and loop devices of the file that are mounted or held.  Returns
 * a descriptor of SOURCE (opened read-write unless readonly) that holds the
 * claim until closed, or -errno (-EBUSY: in use) with one line naming the
 * holder in err.  off and len (0: to the end) limit the claim to the bytes
 * the filesystem occupies, e.g. one partition of a disk image.  See
 * lib/claim.c.
 */
int uvfs_source_claim(const char *path, int readonly, uint64_t off,
		      uint64_t len, char *err, size_t errlen);

/* ------------------------------------------------------------------------
 * Block backends: serve a block device (/dev/uvbdN, `uvfsd --bdev`)
 * instead of a file system.
 *
 * A block backend is a shared object too, uvfs-blk-NAME.so, exporting
 *
 *	UVFS_BLK_BACKEND(my_blk_backend);
 *
 * uvfsd loads it, calls open() with SOURCE and the -o options, which fills
 * in the device's geometry, then calls the ops below as the kernel's block
 * layer sends requests.  The rules of the file system API hold: every op
 * answers its request exactly once, before returning or later from any
 * thread; errors are negative errno values; uvfs_req_priv(req) is the
 * pointer open() set; ops run concurrently on several threads (one per
 * queue) unless the daemon runs with -s.
 *
 * The library checks every request before an op sees it, so a backend can
 * trust off and len: they are multiples of the block size, the range lies
 * inside the device, len is not 0 (except for flush, which has none), and
 * a write's payload is len bytes.  Anything else is answered -EINVAL, and
 * a write, discard or write_zeroes on a read-only device -EROFS.  It also
 * checks the replies: a read must answer exactly len bytes (anything else
 * becomes -EIO), the other ops no payload.
 *
 * Which requests the kernel sends follows from the ops the backend has: a
 * NULL flush means "no volatile cache" (the kernel sends no FLUSH and no
 * FUA; a write is durable when answered), a NULL discard or write_zeroes
 * means the device does not offer it, and a NULL write makes the device
 * read-only.  read is required.
 */
#define UVFS_BLK_API_VERSION 1

struct uvfs_blk_ops {
	/*
	 * Read len bytes at off: reply uvfs_reply_buf(req, buf, len) with
	 * exactly len bytes, or uvfs_reply_err(req, -errno).  buf may come
	 * from uvfs_req_outbuf(req, len): over the kernel module that is the
	 * shared ring itself (no copy).
	 */
	void (*read)(struct uvfs_req *req, uint64_t off, size_t len);
	/*
	 * Write len bytes of buf at off; reply uvfs_reply_err(req, 0).  buf
	 * is valid until the reply.  flags: UVFS_BLK_FUA: the data must be
	 * durable (on stable storage) before the reply.
	 */
	void (*write)(struct uvfs_req *req, const void *buf, size_t len,
		      uint64_t off, uint32_t flags);
	/* Make every write answered so far durable; reply 0 or -errno. */
	void (*flush)(struct uvfs_req *req);
	/* The range's contents become undefined (old data or zeroes): free
	 * the space if you can.  Reply 0 or -errno. */
	void (*discard)(struct uvfs_req *req, uint64_t off, uint64_t len);
	/*
	 * Reads of the range must return zeroes afterwards.  flags:
	 * UVFS_BLK_NOUNMAP: keep the space allocated (else it may be freed);
	 * UVFS_BLK_FUA: durable before the reply.  Reply 0 or -errno.
	 */
	void (*write_zeroes)(struct uvfs_req *req, uint64_t off, uint64_t len,
			     uint32_t flags);
};

/* What open() says about the device. */
struct uvfs_blk_geometry {
	uint64_t size;		/* bytes: a multiple of block_size, not 0 */
	uint32_t block_size;	/* logical block: 512, 1024, 2048 or 4096 */
	/*
	 * UVFS_BDEV_* the device offers (proto.h): RO, FLUSH, DISCARD,
	 * WRITE_ZEROES.  The library clears FLUSH, DISCARD and WRITE_ZEROES
	 * when the op is missing, and sets RO for -o ro or a missing write.
	 */
	uint32_t flags;
};

/* What open() gets. */
struct uvfs_blk_open_args {
	const char *source;	/* SOURCE argument */
	int readonly;		/* -o ro */
	const char *options;	/* -o options uvfsd does not know, or NULL */
	char *errbuf;		/* one-line reason when open fails */
	size_t errlen;
};

struct uvfs_blk_backend {
	uint32_t api_version;	/* UVFS_BLK_API_VERSION */
	uint32_t ops_size;	/* sizeof(struct uvfs_blk_ops) it was built with */
	const char *name;	/* "file" for uvfs-blk-file.so */
	const char *usage;	/* backend-specific options, for --help */
	const struct uvfs_blk_ops *ops;
	/* Open SOURCE, fill *geo and set *priv; on failure return -errno and
	 * write a one-line reason to args->errbuf. */
	int (*open)(const struct uvfs_blk_open_args *args,
		    struct uvfs_blk_geometry *geo, void **priv);
	/* The device is gone: make everything durable, release SOURCE. */
	void (*close)(void *priv);
};

#define UVFS_BLK_BACKEND_SYMBOL "uvfs_blk_backend_descriptor"
#define UVFS_BLK_BACKEND(desc)                                                \
	__attribute__((visibility("default"))) const struct uvfs_blk_backend * \
	uvfs_blk_backend_descriptor = &(desc)

/*
 * Log a line to the daemon's log: stderr in the foreground; once detached,
 * syslog (the journal) when /dev/log takes connections, else the log file
 * named in `uvfsd --help`.  uvfs_log() logs at LOG_ERR; uvfs_log_prio()
 * takes a syslog priority (LOG_WARNING, LOG_NOTICE, LOG_INFO, ...).
 */
void uvfs_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void uvfs_log_prio(int prio, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#ifdef __cplusplus
}
#endif

#endif /* UVFS_UVFS_H */
