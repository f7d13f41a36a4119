/* SPDX-License-Identifier: MIT */
/* What is mounted where (see mounts.c). */
#ifndef UVFSD_MOUNTS_H
#define UVFSD_MOUNTS_H

#include <limits.h>

/* What /proc/self/mountinfo says is mounted at a path. */
struct uvfs_mounted {
	char fstype[64];
	char source[PATH_MAX];
};

/* 1 if something is mounted at the absolute path (m filled in), else 0. */
int uvfs_mounted_at(const char *path, struct uvfs_mounted *m);
/* 1 if that mount is a FUSE or uvfs mount whose daemon is gone. */
int uvfs_dead_mount(const char *path, const struct uvfs_mounted *m);
/* Absolute path of mp (PATH_MAX bytes) without stat()ing mp: 0 or -errno. */
int uvfs_abs_mountpoint(const char *mp, char *real);

/*
 * Unmount arg and wait up to timeout seconds for the uvfsd that served it
 * to flush and exit (lazy: detach even if busy).  0, or 1 after one line
 * on stderr starting with prog.
 */
int uvfs_umount_wait(const char *prog, const char *arg, unsigned int timeout,
		     int lazy);

#endif
