/* SPDX-License-Identifier: MIT */
/*
 * libuvfs API for programs that host backends: uvfsd, tests, tools.
 * (Backends themselves only need uvfs.h.)
 */
#ifndef UVFS_LIBUVFS_H
#define UVFS_LIBUVFS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "uvfs/uvfs.h"

#ifdef __cplusplus
extern "C" {
#endif

struct uvfs_session_opts {
	int debug;		/* -d: trace every op to stderr */
	int single_thread;	/* -s */
	int readonly;		/* -o ro */
	int allow_other;
	int default_permissions;
	const char *fsname;	/* -o fsname= (default: SOURCE) */
	const char *subtype;	/* -o subtype= (default: backend name) */
	const char *backend_opts;	/* -o options for the backend, or NULL */
	/* -o spin=: after serving a request, the transport polls this many
	 * microseconds for the next one before it sleeps (FUSE: in userland;
	 * kmod: UVFS_IOC_WAIT's spin_us, which the kernel adapts below it) */
	unsigned int spin_us;
	/*
	 * -o uid=,gid=,umask=: every attribute reply shows this owner, group
	 * or permission bits (0777 & ~umask) instead of the backend's, as
	 * libfuse's high-level API does; the kernel checks permissions
	 * against what it is shown.
	 */
	int set_uid, set_gid, set_umask;
	uid_t uid;
	gid_t gid;
	mode_t umask;
	/* -o fakeroot: the backend sees every request as coming from root
	 * (uid 0, gid 0), as fuse2fs -o fakeroot treats its callers */
	int fakeroot;
	/* -o nowriteback: over uvfs.ko, write(2) goes straight to the
	 * backend (UVFS_INIT_WRITEBACK refused); by default it goes through
	 * the page cache and writeback sends the WRITEs */
	int nowriteback;
	/*
	 * Generic mount flags (MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_NOATIME,
	 * MS_RELATIME, MS_STRICTATIME, MS_NODIRATIME, MS_SYNCHRONOUS,
	 * MS_DIRSYNC, MS_LAZYTIME): mnt_flags_mask holds the flags the user
	 * chose, mnt_flags whether each is on.  Flags not in the mask keep the
	 * transport's default (nosuid and nodev on, the rest off).
	 */
	unsigned long mnt_flags, mnt_flags_mask;
};

/* ---- backends ---- */

/*
 * Load a backend by name (looked up as uvfs-NAME.so in $UVFS_BACKEND_PATH,
 * then in the build-time plugin directory) or by path (contains a '/').
 * Returns NULL and a one-line reason in err on failure.
 */
const struct uvfs_backend *uvfs_backend_load(const char *name, void **handle,
					     char *err, size_t errlen);
void uvfs_backend_unload(void *handle);
/* Print the names of the backends found, one per line. */
int uvfs_backend_list(FILE *out);
/* Check a descriptor: API version, ops_size, name. 0 or -EINVAL. */
int uvfs_backend_check(const struct uvfs_backend *be, char *err,
		       size_t errlen);

/*
 * Block backends: the same, as uvfs-blk-NAME.so (or a path) exporting
 * UVFS_BLK_BACKEND_SYMBOL.  uvfs_backend_list() leaves them out;
 * uvfs_blk_backend_list() prints their names (without "blk-").
 */
const struct uvfs_blk_backend *uvfs_blk_backend_load(const char *name,
						     void **handle, char *err,
						     size_t errlen);
int uvfs_blk_backend_list(FILE *out);
/* Check a descriptor: API version, ops_size, name, open, read. */
int uvfs_blk_backend_check(const struct uvfs_blk_backend *be, char *err,
			   size_t errlen);

/* Send uvfs_log() lines to syslog instead of stderr (detached daemon). */
void uvfs_log_to_syslog(int on);
/*
 * For a daemon about to detach: log to syslog when /dev/log accepts a
 * connection, else append to file (its directory is created, mode 0700,
 * if missing).  Returns 1 for syslog, 0 for the file, -errno if neither
 * works (then lines still go to stderr).
 */
int uvfs_log_open(const char *ident, const char *file);
/* Lines below this priority are dropped (default LOG_INFO: no debug). */
void uvfs_log_set_level(int prio);

/* ---- sessions ---- */

struct uvfs_session *uvfs_session_new(const struct uvfs_backend *be,
				      const struct uvfs_session_opts *opts);
/* Call the backend's mount(); 0 or -errno with a reason in err. */
int uvfs_session_mount(struct uvfs_session *se, const char *source,
		       char *err, size_t errlen);
/* Call the backend's unmount() (flush, release source) if mounted. */
void uvfs_session_unmount(struct uvfs_session *se);
void uvfs_session_free(struct uvfs_session *se);
const struct uvfs_session_opts *uvfs_session_opts(struct uvfs_session *se);
const struct uvfs_backend *uvfs_session_backend(struct uvfs_session *se);
/* Per-op counters, one line per op that was called. */
void uvfs_session_print_stats(struct uvfs_session *se, FILE *out);
uint64_t uvfs_session_op_calls(struct uvfs_session *se, uint32_t opcode);

/*
 * A block session: one device served by a block backend.  It takes the
 * BLK_* requests only (everything else is -ENOSYS), checked against the
 * geometry.  uvfs_session_unmount() and uvfs_session_free() close it.
 */
struct uvfs_session *uvfs_blk_session_new(const struct uvfs_blk_backend *be,
					  const struct uvfs_session_opts *opts);
/*
 * Call the backend's open() with SOURCE and check the geometry it gives
 * (a bad one is the backend's bug: -EINVAL with a reason).  0 or -errno
 * with a one-line reason in err.
 */
int uvfs_blk_session_open(struct uvfs_session *se, const char *source,
			  char *err, size_t errlen);
/* The device as served: the backend's geometry, flags as advertised. */
void uvfs_blk_session_geometry(struct uvfs_session *se,
			       struct uvfs_blk_geometry *geo);
/* The block backend of a block session, else NULL. */
const struct uvfs_blk_backend *uvfs_session_blk_backend(struct uvfs_session *se);

/* ---- the direct transport: the backend in-process, no kernel ---- */

struct uvfs_direct;

struct uvfs_direct *uvfs_direct_new(struct uvfs_session *se);
void uvfs_direct_free(struct uvfs_direct *d);
/*
 * Send one wire request and wait for its reply.  in->len, in->unique are
 * filled in; args is the argument bytes (fixed struct, strings, payload),
 * given as an iovec.  The reply payload (without uvfs_out_header) is copied
 * into reply (at most replymax bytes, the request's reply size limit) and
 * its length stored in *replylen.  Returns the reply's error (0 or -errno).
 */
int uvfs_direct_call(struct uvfs_direct *d, struct uvfs_in_header *in,
		     const struct iovec *args, int nargs, void *reply,
		     size_t replymax, size_t *replylen);
/* Send raw bytes as a request (for fuzzing/replay): same, unchecked. */
int uvfs_direct_call_raw(struct uvfs_direct *d, const void *msg, size_t len,
			 void *reply, size_t replymax, size_t *replylen);

/* ---- the FUSE transport (libfuse 3 low-level API) ---- */

struct uvfs_fuse;

/* Mount at mountpoint; 0 or -errno with a one-line reason in err. */
int uvfs_fuse_mount(struct uvfs_session *se, const char *mountpoint,
		    struct uvfs_fuse **out, char *err, size_t errlen);
/* Serve until unmounted or a SIGINT/SIGTERM/SIGHUP; 0 or -errno. */
int uvfs_fuse_loop(struct uvfs_fuse *f);
/* Unmount (if still mounted) and free. */
void uvfs_fuse_free(struct uvfs_fuse *f);

/* ---- the kmod transport (uvfs.ko, /dev/uvfs shared-memory channel) ---- */

struct uvfs_kmod;

/*
 * Open /dev/uvfs, set up and map the channel, start one serving thread per
 * queue and mount(2) the "uvfs" file system at mountpoint (the kernel's
 * INIT arrives during mount and is served by those threads).  0 or -errno
 * with a one-line reason in err.  The threads do not survive fork(): detach
 * before calling this (or accept that uvfs_kmod_loop restarts them in the
 * child).
 */
int uvfs_kmod_mount(struct uvfs_session *se, const char *mountpoint,
		    struct uvfs_kmod **out, char *err, size_t errlen);
/*
 * Serve until the file system is unmounted (DESTROY answered), or a
 * SIGINT/SIGTERM/SIGHUP: then unmount (lazily if busy) and keep serving
 * until the kernel lets go; a second signal stops at once.  0 or -errno.
 */
int uvfs_kmod_loop(struct uvfs_kmod *k);
/*
 * Block devices: open /dev/uvfs, set up the channel, start the serving
 * threads, then UVFS_IOC_BDEV_ADD with the block session's geometry:
 * *index is N of /dev/uvbdN.  -ENOENT (with the message "/dev/uvfs not
 * found: load uvfs.ko (block devices need the module)") when there is no
 * /dev/uvfs; else 0 or -errno with a one-line reason in err.  Same fork
 * rule as uvfs_kmod_mount().  uvfs_kmod_loop() then serves until the
 * device is removed: by `uvfsd --remove` (the kernel shuts the channel
 * down), or on SIGINT/SIGTERM/SIGHUP, by removing it itself.
 */
int uvfs_kmod_bdev_add(struct uvfs_session *se, struct uvfs_kmod **out,
		       uint32_t *index, char *err, size_t errlen);
/*
 * Remove /dev/uvbdN (any process with CAP_SYS_ADMIN): 0 or -errno with a
 * one-line reason in err (-ENOENT: no such device, or no /dev/uvfs).
 */
int uvfs_kmod_bdev_remove(uint32_t index, char *err, size_t errlen);
/* Stop the threads, close the channel (the kernel aborts what is left). */
void uvfs_kmod_free(struct uvfs_kmod *k);

#ifdef __cplusplus
}
#endif

#endif /* UVFS_LIBUVFS_H */
