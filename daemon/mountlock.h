/* SPDX-License-Identifier: MIT */
/*
 * One lock file per mount point, held by the serving uvfsd for as long as
 * it runs: `uvfs umount` unmounts, then waits for the lock, so it returns
 * only once the daemon has flushed its backend and exited.  The kernel
 * drops the lock however the daemon ends, so a crash never blocks anyone.
 *
 * The lock files (and a detached daemon's log, when there is no syslog)
 * live in a per-user state directory: /run/uvfs for root; for other users
 * $XDG_RUNTIME_DIR/uvfs, else /run/user/UID/uvfs, else /tmp/uvfs-UID,
 * always a directory the user owns and no one else may write.
 */
#ifndef UVFSD_MOUNTLOCK_H
#define UVFSD_MOUNTLOCK_H

#include <stddef.h>

/*
 * The state directory of the calling user, created if create is set.
 * 0, or -errno with a one-line reason in err; dir is filled either way.
 */
int uvfs_state_dir(char *dir, size_t len, int create, char *err,
		   size_t errlen);
/* Path of the lock file for an absolute mount point path, in dir. */
int uvfs_mountlock_path(const char *dir, const char *mountpoint, char *path,
			size_t len);
/* Create and lock it (non-blocking); returns the fd to keep, or -errno
 * with a one-line reason in err (-EBUSY: another uvfsd holds it). */
int uvfs_mountlock_take(const char *mountpoint, char *err, size_t errlen);
/* Remove the lock file at clean exit; the lock itself is held until the
 * process exits. */
void uvfs_mountlock_release(const char *mountpoint, int fd);
/*
 * Open the lock file of mountpoint for waiting on it, wherever it is: the
 * caller's state directory, root's, and (for root) every user's.  The fd,
 * or -ENOENT when no uvfsd ever served mountpoint.
 */
int uvfs_mountlock_open(const char *mountpoint);
/* Does a live uvfsd hold the lock open as fd? */
int uvfs_mountlock_held(int fd);

#endif
