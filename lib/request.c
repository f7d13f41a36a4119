// SPDX-License-Identifier: MIT
/*
 * Requests on the library's side, before and around their reply: a
 * transport sets one up with uvfs_req_init() when it arrives (the caller's
 * context, with -o fakeroot applied; the start time for the statistics),
 * and a backend asks it for the caller's context, its private data, or
 * tells it that it is about to wait for I/O.
 */
#include <string.h>
#include <time.h>

#include "uvfs_i.h"

uint64_t uvfs_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

const struct uvfs_ctx *uvfs_req_ctx(const struct uvfs_req *req)
{
	return &req->ctx;
}

void *uvfs_req_priv(const struct uvfs_req *req)
{
	return req->se->priv;
}

void uvfs_req_init(struct uvfs_req *req, struct uvfs_session *se,
		   const struct uvfs_in_header *in, uint32_t reply_max, void *tp)
{
	memset(req, 0, sizeof(*req));
	req->se = se;
	req->in = *in;
	req->ctx.uid = in->uid;
	req->ctx.gid = in->gid;
	/* -o fakeroot: the backend's own checks and the owner of what it
	 * creates see root, whoever asked */
	if (se->opts.fakeroot) {
		req->ctx.uid = 0;
		req->ctx.gid = 0;
	}
	req->ctx.pid = (pid_t)in->pid;
	req->ctx.umask = in->umask;
	req->reply_max = reply_max;
	req->start_ns = uvfs_now_ns();
	req->tp = tp;
}

void uvfs_req_may_block(struct uvfs_req *req)
{
	if (req->se->tp->may_block)
		req->se->tp->may_block(req);
}
