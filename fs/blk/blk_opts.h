/* SPDX-License-Identifier: MIT */
/*
 * The -o options both block backends take (size=, blksize=, and direct
 * for the file backend), parsed the same way for both.  Compiled into
 * each plugin.
 */
#ifndef UVFS_FS_BLK_OPTS_H
#define UVFS_FS_BLK_OPTS_H

#include <stddef.h>
#include <stdint.h>

struct blk_opts {
	uint64_t size;		/* -o size=N[KMGT]; 0: not given */
	uint32_t blksize;	/* -o blksize=; 512 unless given */
	int direct;		/* -o direct */
};

#define BLK_OPTS_USAGE                                                      \
	"    -o size=N             bytes, or with a K, M, G or T suffix\n"  \
	"    -o blksize=N          logical block size: 512 (default), 1024,\n" \
	"                          2048 or 4096\n"                           \
	"    -o ro                 a read-only device\n"

/*
 * Parse opts (NULL: none) into o.  allow_direct: accept -o direct.
 * 0, or -EINVAL with "NAME: <reason>" in err.
 */
int blk_opts_parse(const char *name, const char *opts, int allow_direct,
		   struct blk_opts *o, char *err, size_t errlen);

#endif
