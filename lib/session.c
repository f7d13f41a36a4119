// SPDX-License-Identifier: MIT
/*
 * Sessions (one mounted backend instance), their statistics, and the
 * log every part of the library and the backends write to.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <paths.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "uvfs_i.h"

/*
 * The log: stderr until a detaching daemon calls uvfs_log_open(), then
 * syslog or a file.  A detached daemon's stderr is /dev/null, so without
 * a syslog socket (containers, minimal systems) its messages would be
 * lost: the file is where they go then.
 */
enum { LOGTO_STDERR, LOGTO_SYSLOG, LOGTO_FILE };
static int log_dest = LOGTO_STDERR;
static int log_level = LOG_INFO;
static FILE *log_file;
static const char *log_ident = "uvfsd";
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

void uvfs_log_to_syslog(int on)
{
	log_dest = on ? LOGTO_SYSLOG : LOGTO_STDERR;
	if (on)
		openlog(log_ident, LOG_PID, LOG_DAEMON);
}

void uvfs_log_set_level(int prio)
{
	log_level = prio;
}

/* Does a syslog daemon (or journald) listen on /dev/log? */
static int syslog_listening(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int types[2] = { SOCK_DGRAM, SOCK_STREAM };
	int i, fd, ok = 0;

	strcpy(sa.sun_path, _PATH_LOG);
	for (i = 0; i < 2 && !ok; i++) {
		fd = socket(AF_UNIX, types[i] | SOCK_CLOEXEC, 0);
		if (fd < 0)
			continue;
		ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
		close(fd);
	}
	return ok;
}

int uvfs_log_open(const char *ident, const char *file)
{
	char dir[PATH_MAX];
	char *slash;
	FILE *f;
	int fd;

	if (ident)
		log_ident = ident;
	if (syslog_listening()) {
		uvfs_log_to_syslog(1);
		return 1;
	}
	if (!file || snprintf(dir, sizeof(dir), "%s", file) >= (int)sizeof(dir))
		return -ENAMETOOLONG;
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0700) < 0 && errno != EEXIST)
			return -errno;
	}
	fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
		  0600);
	if (fd < 0)
		return -errno;
	f = fdopen(fd, "a");
	if (!f) {
		close(fd);
		return -ENOMEM;
	}
	setvbuf(f, NULL, _IOLBF, 0);
	pthread_mutex_lock(&log_lock);
	if (log_file)
		fclose(log_file);
	log_file = f;
	log_dest = LOGTO_FILE;
	pthread_mutex_unlock(&log_lock);
	return 0;
}

static const char *prio_name(int prio)
{
	static const char *const names[] = { "emerg", "alert", "crit", "error",
					     "warning", "notice", "info",
					     "debug" };

	return names[LOG_PRI(prio)];
}

static void log_v(int prio, const char *fmt, va_list ap)
{
	char stamp[32];
	struct tm tm;
	time_t now;

	if (LOG_PRI(prio) > log_level)
		return;
	/* A terminal gets warnings and errors only: what went wrong, not
	 * the daemon's diary (which goes to syslog or the log file), unless
	 * the level was raised to LOG_DEBUG. */
	if (log_dest == LOGTO_STDERR && log_level < LOG_DEBUG &&
	    LOG_PRI(prio) > LOG_NOTICE)
		return;
	switch (log_dest) {
	case LOGTO_SYSLOG:
		vsyslog(LOG_PRI(prio), fmt, ap);
		return;
	case LOGTO_FILE:
		now = time(NULL);
		gmtime_r(&now, &tm);
		strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
		pthread_mutex_lock(&log_lock);
		fprintf(log_file, "%s %s[%d]: %s: ", stamp, log_ident,
			(int)getpid(), prio_name(prio));
		vfprintf(log_file, fmt, ap);
		fputc('\n', log_file);
		pthread_mutex_unlock(&log_lock);
		return;
	default:
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	}
}

void uvfs_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_v(LOG_ERR, fmt, ap);
	va_end(ap);
}

void uvfs_log_prio(int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_v(prio, fmt, ap);
	va_end(ap);
}

/* What every session starts with; name is the backend's. */
static struct uvfs_session *session_alloc(const char *name,
					  const struct uvfs_session_opts *opts)
{
	struct uvfs_session *se = calloc(1, sizeof(*se));

	if (!se)
		return NULL;
	if (opts)
		se->opts = *opts;
	if (!se->opts.subtype)
		se->opts.subtype = name;
	se->trace = se->opts.debug ? stderr : NULL;
	pthread_mutex_init(&se->trace_lock, NULL);
	se->proto_minor = UVFS_PROTO_MINOR;
	se->max_write = UVFS_MAX_WRITE_DEFAULT;
	return se;
}

struct uvfs_session *uvfs_session_new(const struct uvfs_backend *be,
				      const struct uvfs_session_opts *opts)
{
	struct uvfs_session *se;
	size_t n;

	if (uvfs_backend_check(be, NULL, 0))
		return NULL;
	se = session_alloc(be->name, opts);
	if (!se)
		return NULL;
	se->backend = be;
	/* A backend built against an older, shorter ops table gets the new
	 * ops zero-filled: they fall back to their defaults. */
	n = be->ops_size < sizeof(se->ops) ? be->ops_size : sizeof(se->ops);
	memcpy(&se->ops, be->ops, n);
	return se;
}

struct uvfs_session *uvfs_blk_session_new(const struct uvfs_blk_backend *be,
					  const struct uvfs_session_opts *opts)
{
	struct uvfs_session *se;
	size_t n;

	if (uvfs_blk_backend_check(be, NULL, 0))
		return NULL;
	se = session_alloc(be->name, opts);
	if (!se)
		return NULL;
	se->blk = be;
	n = be->ops_size < sizeof(se->blk_ops) ? be->ops_size :
						 sizeof(se->blk_ops);
	memcpy(&se->blk_ops, be->ops, n);
	return se;
}

int uvfs_blk_session_open(struct uvfs_session *se, const char *source,
			  char *err, size_t errlen)
{
	struct uvfs_blk_open_args args = { 0 };
	struct uvfs_blk_geometry geo = { 0 };
	char why[256];
	int ret;

	if (!se->blk)
		return -EINVAL;
	if (se->mounted)
		return -EBUSY;
	if (errlen)
		err[0] = '\0';
	args.source = source;
	args.readonly = se->opts.readonly;
	args.options = se->opts.backend_opts;
	args.errbuf = err;
	args.errlen = errlen;
	se->priv = NULL;
	ret = se->blk->open(&args, &geo, &se->priv);
	if (ret > 0 || ret < -UVFS_ERRNO_MAX)
		ret = -EIO;
	if (ret) {
		if (errlen && !err[0])
			snprintf(err, errlen, "%s: cannot open %s: %s",
				 se->blk->name, source, strerror(-ret));
		return ret;
	}
	ret = uvfs_blk_check_geometry(&geo, why, sizeof(why));
	if (ret) {
		snprintf(err, errlen, "block backend %s: bad geometry: %s",
			 se->blk->name, why);
		if (se->blk->close)
			se->blk->close(se->priv);
		se->priv = NULL;
		return ret;
	}
	/* advertise only what an op serves (see uvfs.h) */
	if (!se->blk_ops.flush)
		geo.flags &= ~UVFS_BDEV_FLUSH;
	if (!se->blk_ops.discard)
		geo.flags &= ~UVFS_BDEV_DISCARD;
	if (!se->blk_ops.write_zeroes)
		geo.flags &= ~UVFS_BDEV_WRITE_ZEROES;
	if (se->opts.readonly || !se->blk_ops.write)
		geo.flags |= UVFS_BDEV_RO;
	se->geo = geo;
	se->mounted = true;
	return 0;
}

void uvfs_blk_session_geometry(struct uvfs_session *se,
			       struct uvfs_blk_geometry *geo)
{
	*geo = se->geo;
}

const struct uvfs_blk_backend *uvfs_session_blk_backend(struct uvfs_session *se)
{
	return se->blk;
}

int uvfs_session_mount(struct uvfs_session *se, const char *source, char *err,
		       size_t errlen)
{
	struct uvfs_mount_args args = { 0 };
	int ret;

	if (se->mounted)
		return -EBUSY;
	if (!se->backend) {
		snprintf(err, errlen, "%s is a block backend: nothing to mount",
			 se->blk->name);
		return -EINVAL;
	}
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

void uvfs_mount_set_readonly(const struct uvfs_mount_args *args)
{
	args->session->opts.readonly = 1;
}

void uvfs_mount_set_max_filesize(const struct uvfs_mount_args *args,
				 uint64_t max)
{
	args->session->max_filesize = max;
}

void uvfs_session_unmount(struct uvfs_session *se)
{
	if (!se->mounted)
		return;
	se->mounted = false;
	if (se->blk) {
		if (se->blk->close)
			se->blk->close(se->priv);
	} else if (se->backend->unmount) {
		se->backend->unmount(se->priv);
	}
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
	if (se->have_chan_stats) {
		const struct uvfs_chan_hdr *h = &se->chan_stats;

		fprintf(out, "kmod channel: %llu requests (%llu lazy), "
			"%llu wake-ups, WAIT polls: %llu found a request, "
			"%llu ran out; %llu replies seen by a polling sender\n",
			(unsigned long long)h->requests,
			(unsigned long long)h->lazy,
			(unsigned long long)h->wakeups,
			(unsigned long long)h->spin_hits,
			(unsigned long long)h->spin_misses,
			(unsigned long long)h->sender_spins);
	}
}
