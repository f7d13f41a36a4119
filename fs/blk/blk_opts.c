// SPDX-License-Identifier: MIT
/* -o size=, blksize=, direct for the block backends (see blk_opts.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "blk_opts.h"

/* N with an optional K, M, G or T (powers of 1024); 0 on a bad value. */
static uint64_t parse_size(const char *p, size_t len)
{
	uint64_t n = 0, mult = 1;
	size_t i;

	if (len && strchr("kKmMgGtT", p[len - 1])) {
		switch (p[len - 1]) {
		case 't': case 'T': mult <<= 10; /* fall through */
		case 'g': case 'G': mult <<= 10; /* fall through */
		case 'm': case 'M': mult <<= 10; /* fall through */
		default: mult <<= 10;
		}
		len--;
	}
	if (!len)
		return 0;
	for (i = 0; i < len; i++) {
		if (p[i] < '0' || p[i] > '9' || n > (UINT64_MAX - 9) / 10)
			return 0;
		n = n * 10 + (uint64_t)(p[i] - '0');
	}
	if (n > UINT64_MAX / mult)
		return 0;
	return n * mult;
}

int blk_opts_parse(const char *name, const char *opts, int allow_direct,
		   struct blk_opts *o, char *err, size_t errlen)
{
	const char *p = opts ? opts : "";

	memset(o, 0, sizeof(*o));
	o->blksize = 512;
	while (*p) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);

#define HAS(s) (len >= strlen(s) && !strncmp(p, s, strlen(s)))
		if (len == 0) {
			;
		} else if (HAS("size=")) {
			o->size = parse_size(p + 5, len - 5);
			if (!o->size) {
				snprintf(err, errlen, "%s: bad value for -o size "
					 "(bytes, or with a K, M, G or T suffix)",
					 name);
				return -EINVAL;
			}
		} else if (HAS("blksize=")) {
			uint64_t bs = parse_size(p + 8, len - 8);

			if (bs != 512 && bs != 1024 && bs != 2048 &&
			    bs != 4096) {
				snprintf(err, errlen, "%s: bad value for -o blksize "
					 "(512, 1024, 2048 or 4096)", name);
				return -EINVAL;
			}
			o->blksize = (uint32_t)bs;
		} else if (allow_direct && len == 6 && HAS("direct")) {
			o->direct = 1;
		} else {
			snprintf(err, errlen, "%s: unknown option '%.*s'", name,
				 (int)len, p);
			return -EINVAL;
		}
#undef HAS
		p += len;
		if (*p == ',')
			p++;
	}
	return 0;
}
