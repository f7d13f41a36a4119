/* SPDX-License-Identifier: MIT */
/*
 * libuvfs internals: the session, the request object, the transport
 * interface and the opcode table, then what each file offers the others,
 * one section per file (scripts/check-headers.sh checks that each function
 * is defined in the file its section names).  Not installed; backends use
 * uvfs.h.
 *
 * Data flow: a transport turns whatever it receives (a slot of the shared
 * ring, a libfuse callback, a test's call) into a wire request -- an
 * uvfs_in_header plus argument bytes, as defined in proto.h -- and hands it
 * to uvfs_dispatch().  The opcode table decodes and validates the arguments
 * and calls the backend.  The backend's uvfs_reply_*() builds a wire reply
 * (uvfs_out_header + payload) and gives it to the transport's send_reply().
 * So every transport speaks the same protocol, and tracing and statistics
 * see every request in one place.
 */
#ifndef UVFS_LIB_UVFS_I_H
#define UVFS_LIB_UVFS_I_H

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/uio.h>

#include "uvfs/libuvfs.h"
#include "uvfs/proto.h"
#include "uvfs/uvfs.h"

struct uvfs_msg;

/* A decoded request: the fixed argument struct and up to two strings. */
struct uvfs_msg {
	const struct uvfs_in_header *in;
	const void *arg;	/* fixed struct, argsize bytes (or NULL) */
	size_t arglen;		/* bytes after the header */
	const char *str[2];	/* NUL-terminated names, validated */
	const void *payload;	/* bytes after fixed struct and strings */
	size_t payload_len;
};

typedef void (*uvfs_handler_fn)(struct uvfs_req *req,
				const struct uvfs_msg *msg);

/* What a request's string is, so the decoder knows which bytes to refuse. */
enum uvfs_strkind {
	UVFS_STR_NAME = 1,	/* a path component: no '/' */
	UVFS_STR_PATH,		/* a symlink target: any bytes but NUL */
	UVFS_STR_XATTR,		/* an xattr name: any bytes but NUL */
};

struct uvfs_strdesc {
	uint8_t kind;		/* enum uvfs_strkind */
	uint16_t max;		/* longest allowed (without NUL) */
};

/* A backend op as a column of the table: its offset plus one, 0 for none. */
#define UVFS_BE_OP(member) (offsetof(struct uvfs_ops, member) + 1)
/* The same for the block opcodes' rows: an op of struct uvfs_blk_ops. */
#define UVFS_BLK_OP(member) (offsetof(struct uvfs_blk_ops, member) + 1)

/* One row per opcode: drives dispatch, tracing and statistics. */
struct uvfs_opdesc {
	const char *name;
	uint32_t argsize;	/* fixed argument struct */
	uint8_t nstr;		/* NUL-terminated strings after it */
	struct uvfs_strdesc str[2];
	bool blocks;		/* often waits for I/O: uvfs_req_may_block() */
	bool builtin;		/* the library serves it: no backend op */
	bool blk;		/* a block request: be_op is UVFS_BLK_OP() */
	uint16_t be_op[2];	/* UVFS_BE_OP(): either one serves the opcode */
	uvfs_handler_fn handler;
};

/* Per-op counters (atomics: several transport threads update them). */
struct uvfs_opstats {
	atomic_ulong calls;
	atomic_ulong errors;
	atomic_ulong ns;	/* total latency request -> reply */
};

/*
 * What a transport provides.  send_reply() gets the whole reply as an iovec
 * whose first element is the uvfs_out_header; it must not block for long and
 * may be called from any thread.  notify() sends a notification (iov[0] is
 * an uvfs_out_header with unique 0).  outbuf() optionally hands out reply
 * payload space in the transport's own buffer.
 */
struct uvfs_transport_ops {
	const char *name;
	int (*send_reply)(struct uvfs_req *req, const struct iovec *iov,
			  int iovcnt);
	int (*notify)(struct uvfs_session *se, const struct iovec *iov,
		      int iovcnt);
	void *(*outbuf)(struct uvfs_req *req, size_t size);
	void (*free_req)(struct uvfs_req *req);
	/* optional: req is about to block (see uvfs_req_may_block()) */
	void (*may_block)(struct uvfs_req *req);
};

struct uvfs_req {
	struct uvfs_session *se;
	struct uvfs_in_header in;	/* copy of the request header */
	struct uvfs_ctx ctx;
	uint32_t reply_max;		/* largest payload the caller takes */
	bool replied;
	bool in_batch;			/* a forget inside a batch: no reply */
	bool reply_exact;		/* success carries reply_max bytes */
	uint64_t start_ns;
	void *tp;			/* transport's cookie */
	void *heapbuf;			/* uvfs_req_outbuf() fallback */
};

struct uvfs_session {
	const struct uvfs_backend *backend;	/* NULL in a block session */
	struct uvfs_ops ops;		/* zero-filled past backend's ops_size */
	/* a block session (uvfs_blk_session_new) serves one device */
	const struct uvfs_blk_backend *blk;
	struct uvfs_blk_ops blk_ops;	/* zero-filled past its ops_size */
	struct uvfs_blk_geometry geo;	/* as advertised, once open */
	void *priv;
	const struct uvfs_transport_ops *tp;
	void *tp_priv;
	struct uvfs_session_opts opts;
	FILE *trace;			/* -d: one line per request and reply */
	pthread_mutex_t trace_lock;
	uint32_t proto_minor;
	uint32_t max_write;
	uint64_t max_filesize;		/* uvfs_mount_set_max_filesize() */
	bool mounted;
	char subtype_buf[32];		/* uvfs_mount_set_subtype() */
	struct uvfs_opstats stats[UVFS_OP_MAX];
	/* kmod: the queues' header counters, summed when the channel goes */
	bool have_chan_stats;
	struct uvfs_chan_hdr chan_stats;
};

/*
 * UVFS_ASSERT_HELD(m): where a comment says "call with m held", debug
 * builds check it.  pthreads cannot say which thread holds a default mutex,
 * only that someone does (trylock answers EBUSY, also to its holder), so
 * this catches the lock not taken at all, not one taken by another thread.
 * Not for recursive mutexes (their holder's trylock succeeds).
 */
static inline bool uvfs_mutex_is_locked(pthread_mutex_t *m)
{
	int err = pthread_mutex_trylock(m);

	if (!err)
		pthread_mutex_unlock(m);
	return err == EBUSY;
}

#ifdef NDEBUG
#define UVFS_ASSERT_HELD(m) ((void)(m))
#else
#define UVFS_ASSERT_HELD(m) assert(uvfs_mutex_is_locked(m))
#endif

/* ---- dispatch.c: the opcode table and the dispatcher ---- */

extern const struct uvfs_opdesc uvfs_optable[UVFS_OP_MAX];
const struct uvfs_opdesc *uvfs_opdesc(uint32_t opcode);
const char *uvfs_opname(uint32_t opcode);
/* Does ops have what opcode calls?  False for unknown opcodes (and for
 * the block opcodes, which no file system op serves). */
bool uvfs_backend_has_op(const struct uvfs_ops *ops, uint32_t opcode);
/* The same for a block backend's ops: false unless a block opcode. */
bool uvfs_blk_has_op(const struct uvfs_blk_ops *ops, uint32_t opcode);

/*
 * Decode, validate, trace, count, and call the backend.  buf holds the
 * arguments (in->len - sizeof(*in) bytes).  A malformed request is answered
 * with -EINVAL, an unknown opcode or a missing op with -ENOSYS.
 */
void uvfs_dispatch(struct uvfs_req *req, const void *buf, size_t len);

/* ---- blk.c: block requests, checked against the device ---- */

void uvfs_blk_do_read(struct uvfs_req *req, const struct uvfs_msg *msg);
void uvfs_blk_do_write(struct uvfs_req *req, const struct uvfs_msg *msg);
void uvfs_blk_do_flush(struct uvfs_req *req, const struct uvfs_msg *msg);
void uvfs_blk_do_discard(struct uvfs_req *req, const struct uvfs_msg *msg);
void uvfs_blk_do_write_zeroes(struct uvfs_req *req,
			      const struct uvfs_msg *msg);
/* The answer to a block request whose op the backend left out. */
int uvfs_blk_default_reply(struct uvfs_req *req);
/* Is geo one a device can have?  0, or -EINVAL with the reason in err. */
int uvfs_blk_check_geometry(const struct uvfs_blk_geometry *geo, char *err,
			    size_t errlen);

/* ---- request.c: a request's set-up ---- */

uint64_t uvfs_now_ns(void);

/* Initialise req for a request that just arrived. */
void uvfs_req_init(struct uvfs_req *req, struct uvfs_session *se,
		   const struct uvfs_in_header *in, uint32_t reply_max, void *tp);

/* ---- reply.c: replies and what they are made of ---- */

/* Send a reply made of header + payload iov; used by all uvfs_reply_*. */
int uvfs_send_reply(struct uvfs_req *req, int err, const struct iovec *iov,
		    int iovcnt);

/* Convert between struct stat and the wire attribute. */
void uvfs_stat_to_attr(const struct stat *st, struct uvfs_attr *a);
void uvfs_attr_to_stat(const struct uvfs_attr *a, struct stat *st);
void uvfs_entry_to_wire(const struct uvfs_entry *e, struct uvfs_entry_out *o);
uint64_t uvfs_timeout_ns(double seconds);

/* ---- trace.c: -d, one line per request and reply ---- */

void uvfs_trace_request(struct uvfs_session *se, const struct uvfs_req *req,
			const struct uvfs_msg *msg);
void uvfs_trace_reply(struct uvfs_session *se, const struct uvfs_req *req,
		      int err, size_t len);

/* The FUSE transport's files (fuse_*.c) share their own fuse_i.h. */

#endif /* UVFS_LIB_UVFS_I_H */
