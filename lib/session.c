// SPDX-License-Identifier: MIT
/*
 * Sessions (one mounted backend instance) and their statistics.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "uvfs_i.h"

static int log_syslog;

void uvfs_log_to_syslog(int on)
{
	log_syslog = on;
	if (on)
		openlog("uvfsd", LOG_PID, LOG_DAEMON);
}

void uvfs_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (log_syslog) {
		vsyslog(LOG_ERR, fmt, ap);
	} else {
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	}
	va_end(ap);
}

struct uvfs_session *uvfs_session_new(const struct uvfs_backend *be,
				      const struct uvfs_session_opts *opts)
{
	struct uvfs_session *se;
	size_t n;

	if (uvfs_backend_check(be, NULL, 0))
		return NULL;
	se = calloc(1, sizeof(*se));
	if (!se)
		return NULL;
	se->backend = be;
	/* A backend built against an older, shorter ops table gets the new
	 * ops zero-filled: they fall back to their defaults. */
	n = be->ops_size < sizeof(se->ops) ? be->ops_size : sizeof(se->ops);
	memcpy(&se->ops, be->ops, n);
	if (opts)
		se->opts = *opts;
	if (!se->opts.subtype)
		se->opts.subtype = be->name;
	se->trace = se->opts.debug ? stderr : NULL;
	pthread_mutex_init(&se->trace_lock, NULL);
	se->proto_minor = UVFS_PROTO_MINOR;
	se->max_write = UVFS_MAX_WRITE_DEFAULT;
	return se;
}

int uvfs_session_mount(struct uvfs_session *se, const char *source, char *err,
		       size_t errlen)
{
	struct uvfs_mount_args args = { 0 };
	int ret;

	if (se->mounted)
		return -EBUSY;
	if (errlen)
		err[0] = '\0';
	args.session = se;
	args.source = source;
	args.readonly = se->opts.readonly;
	args.options = se->opts.backend_opts;
	args.errbuf = err;
	args.errlen = errlen;
	se->priv = NULL;
	ret = se->backend->mount ? se->backend->mount(&args, &se->priv) : 0;
	if (ret > 0 || ret < -UVFS_ERRNO_MAX)
		ret = -EIO;
	if (ret) {
		if (errlen && !err[0])
			snprintf(err, errlen, "%s: cannot mount %s: %s",
				 se->backend->name, source, strerror(-ret));
		return ret;
	}
	se->mounted = true;
	return 0;
}

int uvfs_mount_set_subtype(const struct uvfs_mount_args *args,
			   const char *name)
{
	struct uvfs_session *se = args->session;
	size_t i, n = strlen(name);

	if (n == 0 || n >= sizeof(se->subtype_buf))
		return -EINVAL;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)name[i]) && name[i] != '_' &&
		    name[i] != '-')
			return -EINVAL;
	/* the user's -o subtype= wins; the backend's name is the default */
	if (se->opts.subtype && se->opts.subtype != se->backend->name)
		return 0;
	memcpy(se->subtype_buf, name, n + 1);
	se->opts.subtype = se->subtype_buf;
	return 0;
}

void uvfs_session_unmount(struct uvfs_session *se)
{
	if (!se->mounted)
		return;
	se->mounted = false;
	if (se->backend->unmount)
		se->backend->unmount(se->priv);
	se->priv = NULL;
}

void uvfs_session_free(struct uvfs_session *se)
{
	if (!se)
		return;
	uvfs_session_unmount(se);
	pthread_mutex_destroy(&se->trace_lock);
	free(se);
}

const struct uvfs_session_opts *uvfs_session_opts(struct uvfs_session *se)
{
	return &se->opts;
}

const struct uvfs_backend *uvfs_session_backend(struct uvfs_session *se)
{
	return se->backend;
}

uint64_t uvfs_session_op_calls(struct uvfs_session *se, uint32_t opcode)
{
	if (opcode >= UVFS_OP_MAX)
		return 0;
	return atomic_load(&se->stats[opcode].calls);
}

void uvfs_session_print_stats(struct uvfs_session *se, FILE *out)
{
	uint32_t op;

	fprintf(out, "%-16s %10s %10s %12s\n", "op", "calls", "errors",
		"avg_us");
	for (op = 0; op < UVFS_OP_MAX; op++) {
		unsigned long calls = atomic_load(&se->stats[op].calls);
		unsigned long errs = atomic_load(&se->stats[op].errors);
		unsigned long ns = atomic_load(&se->stats[op].ns);

		if (!calls)
			continue;
		fprintf(out, "%-16s %10lu %10lu %12.1f\n", uvfs_opname(op),
			calls, errs, (double)ns / (double)calls / 1000.0);
	}
}
