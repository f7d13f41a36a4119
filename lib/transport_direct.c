// SPDX-License-Identifier: MIT
/*
 * The direct transport: requests come from a function call in the same
 * process, and the caller waits for the reply.  No kernel involved; used by
 * the unit tests, fuzzers, replay tools, and for debugging a backend under
 * gdb.  The backend may still answer from another thread.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "uvfs_i.h"

struct uvfs_direct {
	struct uvfs_session *se;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	uint64_t next_unique;
};

struct direct_req {
	struct uvfs_req req;
	struct uvfs_direct *d;
	bool done;
	int error;
	void *reply;
	size_t replymax;
	size_t replylen;
};

static void direct_complete(struct direct_req *dr, int error,
			    const struct iovec *iov, int iovcnt)
{
	struct uvfs_direct *d = dr->d;
	size_t off = 0;
	int i;

	for (i = 0; i < iovcnt; i++) {
		size_t n = iov[i].iov_len;

		if (off + n > dr->replymax)
			n = dr->replymax - off;
		if (n && iov[i].iov_base != (char *)dr->reply + off)
			memmove((char *)dr->reply + off, iov[i].iov_base, n);
		off += n;
	}
	pthread_mutex_lock(&d->lock);
	dr->error = error;
	dr->replylen = off;
	dr->done = true;
	pthread_cond_broadcast(&d->cond);
	pthread_mutex_unlock(&d->lock);
}

static int direct_send_reply(struct uvfs_req *req, const struct iovec *iov,
			     int iovcnt)
{
	struct direct_req *dr = req->tp;
	const struct uvfs_out_header *out = iov[0].iov_base;

	direct_complete(dr, out->error, iov + 1, iovcnt - 1);
	return 0;
}

static void direct_free_req(struct uvfs_req *req)
{
	direct_complete(req->tp, 0, NULL, 0);
}

/* Hand out the caller's own reply buffer: the backend fills it in place. */
static void *direct_outbuf(struct uvfs_req *req, size_t size)
{
	struct direct_req *dr = req->tp;

	return size <= dr->replymax ? dr->reply : NULL;
}

static const struct uvfs_transport_ops direct_ops = {
	.name = "direct",
	.send_reply = direct_send_reply,
	.outbuf = direct_outbuf,
	.free_req = direct_free_req,
};

struct uvfs_direct *uvfs_direct_new(struct uvfs_session *se)
{
	struct uvfs_direct *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->se = se;
	pthread_mutex_init(&d->lock, NULL);
	pthread_cond_init(&d->cond, NULL);
	d->next_unique = 1;
	se->tp = &direct_ops;
	se->tp_priv = d;
	return d;
}

void uvfs_direct_free(struct uvfs_direct *d)
{
	if (!d)
		return;
	pthread_mutex_destroy(&d->lock);
	pthread_cond_destroy(&d->cond);
	free(d);
}

static int direct_run(struct uvfs_direct *d, const struct uvfs_in_header *in,
		      const void *args, size_t arglen, void *reply,
		      size_t replymax, size_t *replylen)
{
	struct direct_req dr;

	memset(&dr, 0, sizeof(dr));
	dr.d = d;
	dr.reply = reply;
	dr.replymax = reply ? replymax : 0;
	uvfs_req_init(&dr.req, d->se, in, (uint32_t)dr.replymax, &dr);
	uvfs_dispatch(&dr.req, args, arglen);
	pthread_mutex_lock(&d->lock);
	while (!dr.done)
		pthread_cond_wait(&d->cond, &d->lock);
	pthread_mutex_unlock(&d->lock);
	if (replylen)
		*replylen = dr.replylen;
	return dr.error;
}

int uvfs_direct_call(struct uvfs_direct *d, struct uvfs_in_header *in,
		     const struct iovec *args, int nargs, void *reply,
		     size_t replymax, size_t *replylen)
{
	size_t len = 0, off = 0;
	char *buf;
	int i, ret;

	for (i = 0; i < nargs; i++)
		len += args[i].iov_len;
	buf = malloc(len ? len : 1);
	if (!buf)
		return -ENOMEM;
	for (i = 0; i < nargs; i++) {
		if (args[i].iov_len)
			memcpy(buf + off, args[i].iov_base, args[i].iov_len);
		off += args[i].iov_len;
	}
	pthread_mutex_lock(&d->lock);
	in->unique = d->next_unique++;
	pthread_mutex_unlock(&d->lock);
	in->len = (uint32_t)(sizeof(*in) + len);
	ret = direct_run(d, in, buf, len, reply, replymax, replylen);
	free(buf);
	return ret;
}

int uvfs_direct_call_raw(struct uvfs_direct *d, const void *msg, size_t len,
			 void *reply, size_t replymax, size_t *replylen)
{
	struct uvfs_in_header in;

	if (len < sizeof(in))
		return -EINVAL;
	memcpy(&in, msg, sizeof(in));
	if (in.len != len)
		return -EINVAL;
	return direct_run(d, &in, (const char *)msg + sizeof(in),
			  len - sizeof(in), reply, replymax, replylen);
}
