/* SPDX-License-Identifier: MIT */
/* uvfsd command line: parsed into one struct, testable on its own. */
#ifndef UVFSD_OPTIONS_H
#define UVFSD_OPTIONS_H

#include <stddef.h>

#include "uvfs/libuvfs.h"

enum uvfsd_transport {
	UVFSD_TRANSPORT_AUTO,	/* kmod when /dev/uvfs exists, else fuse */
	UVFSD_TRANSPORT_FUSE,
	UVFSD_TRANSPORT_KMOD,
	UVFSD_TRANSPORT_DIRECT,	/* no mount: walk the tree in-process */
};

enum uvfsd_action {
	UVFSD_RUN,
	UVFSD_HELP,
	UVFSD_VERSION,
	UVFSD_LIST_BACKENDS,
	UVFSD_REMOVE,		/* --remove DEV */
};

/* -o spin=: see uvfs_session_opts.spin_us */
#define UVFSD_SPIN_DEFAULT 20
#define UVFSD_SPIN_MAX 1000

struct uvfsd_options {
	enum uvfsd_action action;
	enum uvfsd_transport transport;
	int foreground;
	int stats;			/* --stats: print op counters at exit */
	int allow_other;		/* -1: default (yes when run as root) */
	int default_permissions;	/* -1: default (yes unless fakeroot) */
	const char *backend;
	const char *bdev;		/* --bdev: the block backend, or NULL */
	const char *remove;		/* --remove: /dev/uvbdN or N */
	const char *source;
	const char *mountpoint;
	struct uvfs_session_opts session;
	char backend_opts[1024];	/* -o options for the backend */
	char fsname[256];
	char subtype[64];
};

/*
 * Parse argv.  Returns 0, or -EINVAL with a one-line message in err (the
 * caller prints "uvfsd: <err>" and exits 2).  Strings in opts point into
 * argv or into opts itself.
 */
int uvfsd_parse_options(int argc, char **argv, struct uvfsd_options *opts,
			char *err, size_t errlen);
/* The help text; logfile is where a detached uvfsd without syslog logs. */
void uvfsd_usage(FILE *out, const char *logfile);

#endif
