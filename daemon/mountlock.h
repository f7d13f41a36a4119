/* SPDX-License-Identifier: MIT */
/*
 * One lock file per mount point, held by the serving uvfsd for as long as
 * it runs: `uvfs umount` unmounts, then waits for the lock, so it returns
 * only once the daemon has flushed its backend and exited.  The kernel
 * drops the lock however the daemon ends, so a crash never blocks anyone.
 */
#ifndef UVFSD_MOUNTLOCK_H
#define UVFSD_MOUNTLOCK_H

#include <stddef.h>

/* Path of the lock file for an absolute mount point path. */
int uvfs_mountlock_path(const char *mountpoint, char *path, size_t len);
/* Create and lock it (non-blocking); returns the fd to keep, or -errno. */
int uvfs_mountlock_take(const char *mountpoint);
/* Remove the lock file at clean exit; the lock itself is held until the
 * process exits. */
void uvfs_mountlock_release(const char *mountpoint, int fd);

#endif
