// SPDX-License-Identifier: MIT
/*
 * The -d trace: one line per request and one per reply, named from the
 * opcode table, so every transport is traced the same way.
 */
#include <string.h>

#include "uvfs_i.h"

void uvfs_trace_request(struct uvfs_session *se, const struct uvfs_req *req,
			const struct uvfs_msg *msg)
{
	if (!se->trace)
		return;
	pthread_mutex_lock(&se->trace_lock);
	fprintf(se->trace, "uvfs: >%llu %s node=%llu uid=%u pid=%u",
		(unsigned long long)req->in.unique,
		uvfs_opname(req->in.opcode),
		(unsigned long long)req->in.nodeid, req->in.uid, req->in.pid);
	if (!msg)
		fputs(" (malformed)", se->trace);
	else if (msg->str[0] && req->in.opcode == UVFS_OP_SYMLINK)
		fprintf(se->trace, " name=\"%s\" target=\"%s\"", msg->str[0],
			msg->str[1]);
	else if (msg->str[1])
		fprintf(se->trace, " name=\"%s\" newname=\"%s\"", msg->str[0],
			msg->str[1]);
	else if (msg->str[0])
		fprintf(se->trace, " name=\"%s\"", msg->str[0]);
	if (msg && (req->in.opcode == UVFS_OP_READ ||
		    req->in.opcode == UVFS_OP_WRITE ||
		    req->in.opcode == UVFS_OP_READDIR ||
		    req->in.opcode == UVFS_OP_READDIRPLUS)) {
		const struct uvfs_read_in *rw = msg->arg;

		fprintf(se->trace, " off=%llu size=%u",
			(unsigned long long)rw->offset, rw->size);
	}
	if (msg && uvfs_opdesc(req->in.opcode)->blk) {
		const struct uvfs_blk_in *b = msg->arg;

		fprintf(se->trace, " off=%llu len=%u%s%s",
			(unsigned long long)b->offset, b->length,
			(b->flags & UVFS_BLK_FUA) ? " fua" : "",
			(b->flags & UVFS_BLK_NOUNMAP) ? " nounmap" : "");
	}
	fputc('\n', se->trace);
	pthread_mutex_unlock(&se->trace_lock);
}

void uvfs_trace_reply(struct uvfs_session *se, const struct uvfs_req *req,
		      int err, size_t len)
{
	if (!se->trace)
		return;
	pthread_mutex_lock(&se->trace_lock);
	if (err)
		fprintf(se->trace, "uvfs: <%llu %s error=%d (%s) %lluus\n",
			(unsigned long long)req->in.unique,
			uvfs_opname(req->in.opcode), err, strerror(-err),
			(unsigned long long)(uvfs_now_ns() - req->start_ns) /
				1000);
	else
		fprintf(se->trace, "uvfs: <%llu %s ok len=%zu %lluus\n",
			(unsigned long long)req->in.unique,
			uvfs_opname(req->in.opcode), len,
			(unsigned long long)(uvfs_now_ns() - req->start_ns) /
				1000);
	pthread_mutex_unlock(&se->trace_lock);
}
