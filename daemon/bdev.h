/* SPDX-License-Identifier: MIT */
/*
 * uvfsd --bdev and --remove: block devices /dev/uvbdN served by a block
 * backend over uvfs.ko (bdev.c), and what uvfsd.c lends them.
 */
#ifndef UVFSD_BDEV_H
#define UVFSD_BDEV_H

#include "options.h"

/* --bdev BACKEND SOURCE: serve until removed; the exit status. */
int uvfsd_bdev_serve(const struct uvfsd_options *o);
/* --remove /dev/uvbdN | uvbdN | N: the exit status. */
int uvfsd_bdev_remove(const char *dev);

/* uvfsd.c: "uvfsd: MSG" on stderr, returns 1 */
int uvfsd_die(const char *msg);
/* uvfsd.c: SIGINT/SIGTERM/SIGHUP back to their defaults */
void uvfsd_take_signals(void);
/* uvfsd.c: leave the terminal; log to syslog or the log file */
void uvfsd_detach_session(void);
/* uvfsd.c: --stats */
void uvfsd_report_stats(struct uvfs_session *se);
/* uvfsd.c: has uvfsd_detach_session() run? */
extern int uvfsd_detached;

#endif
