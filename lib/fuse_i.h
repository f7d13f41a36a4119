/* SPDX-License-Identifier: MIT */
/*
 * The FUSE transport's private header, shared by its files only:
 *   fuse_request.c  libfuse's low-level callbacks become uvfs wire requests
 *   fuse_reply.c    uvfs wire replies become fuse_reply_*() calls; the
 *                   transport ops
 *   fuse_mount.c    mount options, mounting, and the public uvfs_fuse_*()
 *   fuse_loop.c     the worker threads that read /dev/fuse
 * It chooses the libfuse API version for all of them, so they agree on the
 * layout of libfuse's structs.
 */
#ifndef UVFS_LIB_FUSE_I_H
#define UVFS_LIB_FUSE_I_H

#define FUSE_USE_VERSION 35

#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>

#include <fuse_lowlevel.h>

#include "uvfs_i.h"

/* A mounted FUSE session: the transport's private data (se->tp_priv). */
struct uvfs_fuse {
	struct uvfs_session *se;
	struct fuse_session *fs;
	char *mountpoint;
	bool mounted;
	atomic_uint_fast64_t next_unique;
};

/*
 * One FUSE request in flight.  Allocated per FUSE request by
 * fuse_request.c, it holds the fuse_req_t, the argument bytes (valid until
 * the reply, so backends that answer asynchronously may keep pointers into
 * them) and the reply buffer handed out by outbuf().  fuse_reply.c frees it
 * right after the fuse_req_t has been answered: in its send_reply(), or in
 * its free_req() for requests that end with uvfs_reply_none() (FORGET).
 */
struct fuse_ureq {
	struct uvfs_req req;
	struct uvfs_fuse *f;
	fuse_req_t freq;	/* NULL for INIT, which has no fuse_req_t */
	uint32_t size;		/* size the kernel asked for (read, xattr...) */
	/* INIT only: answered synchronously into here */
	bool sync;
	bool sync_done;
	int sync_err;
	struct uvfs_init_out init_out;
	void *obuf;		/* outbuf() */
	size_t arglen;
	size_t argused;
	char args[];
};

static inline void ureq_free(struct fuse_ureq *u)
{
	free(u->obuf);
	free(u);
}

/* ---- fuse_request.c: libfuse's callbacks, as uvfs requests ---- */

extern const struct fuse_lowlevel_ops uvfs_fuse_ll_ops;

/* ---- fuse_reply.c: uvfs replies, as libfuse's replies ---- */

extern const struct uvfs_transport_ops uvfs_fuse_transport;

/* ---- fuse_loop.c: the worker threads ---- */

int uvfs_fuse_serve(struct fuse_session *fs, unsigned int max_threads,
		    unsigned int spin_us);
/* From a worker serving a request: let another thread read the next. */
void uvfs_fuse_loop_may_block(void);

#endif /* UVFS_LIB_FUSE_I_H */
