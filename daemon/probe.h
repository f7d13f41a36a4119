/* SPDX-License-Identifier: MIT */
#ifndef UVFSD_PROBE_H
#define UVFSD_PROBE_H

#include <stdio.h>

#include "uvfs/libuvfs.h"

/*
 * --transport=direct: walk the whole tree of a mounted session in-process
 * through the wire protocol (readdir, lookup, getattr, read of every file,
 * readlink, listxattr) and print one line per object.  Returns 0 if every
 * object could be read, -EIO if some could not (each is reported).
 */
int uvfsd_probe(struct uvfs_session *se, FILE *out);

#endif
