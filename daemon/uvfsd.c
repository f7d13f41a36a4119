// SPDX-License-Identifier: MIT
/*
 * uvfsd: load a backend, open its SOURCE, mount it through a transport and
 * serve until unmounted or signalled; then flush the backend and exit.
 *
 * Order matters: everything that can fail with a user error (options,
 * backend, source, mountpoint, mount) happens in the foreground, so the
 * user sees one line and a nonzero exit; only then do we detach.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "bdev.h"
#include "mountlock.h"
#include "mounts.h"
#include "options.h"
#include "probe.h"

#define ERRLEN (PATH_MAX + 512)

int uvfsd_die(const char *msg)
{
	fprintf(stderr, "uvfsd: %s\n", msg);
	return 1;
}

static int check_mountpoint(const char *mp, char *real, char *err)
{
	struct uvfs_mounted m;
	struct stat st;

	if (uvfs_abs_mountpoint(mp, real) == 0 && uvfs_mounted_at(real, &m)) {
		if (uvfs_dead_mount(real, &m))
			snprintf(err, ERRLEN,
				 "mountpoint %s: %s (%s) is still mounted there "
				 "but its daemon is gone; clear it with "
				 "`uvfs umount %s`",
				 mp, m.source, m.fstype, mp);
		else
			snprintf(err, ERRLEN,
				 "mountpoint %s is already in use (%s of type "
				 "%s is mounted there)",
				 mp, m.source, m.fstype);
		return -1;
	}
	if (stat(mp, &st) < 0) {
		snprintf(err, ERRLEN, "mountpoint %s: %s", mp, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, ERRLEN, "mountpoint %s is not a directory", mp);
		return -1;
	}
	if (!realpath(mp, real)) {
		snprintf(err, ERRLEN, "mountpoint %s: %s", mp, strerror(errno));
		return -1;
	}
	return 0;
}

static int check_source(const char *src, char *err)
{
	if (!strcmp(src, "none"))
		return 0;
	if (access(src, R_OK) < 0) {
		snprintf(err, ERRLEN, "cannot read source %s: %s", src,
			 strerror(errno));
		return -1;
	}
	return 0;
}

/* Where a detached uvfsd logs when there is no syslog socket. */
static void log_file_path(char *path, size_t len)
{
	char dir[PATH_MAX], err[8];

	uvfs_state_dir(dir, sizeof(dir), 0, err, sizeof(err));
	snprintf(path, len, "%s/uvfsd.log", dir);
}

int uvfsd_detached;

/*
 * Leave the terminal's session; from now on log to syslog, or to the log
 * file when no syslog daemon listens (stderr is /dev/null from here on).
 */
void uvfsd_detach_session(void)
{
	char logfile[PATH_MAX + 16], dir[PATH_MAX], err[PATH_MAX + 128];
	int fd, ret;

	/* the state directory holds our lock already; this makes sure */
	uvfs_state_dir(dir, sizeof(dir), 1, err, sizeof(err));
	log_file_path(logfile, sizeof(logfile));
	ret = uvfs_log_open("uvfsd", logfile);
	if (ret < 0)
		uvfs_log_prio(LOG_WARNING,
			      "uvfsd: no syslog and cannot open %s: %s; "
			      "messages are lost from now on",
			      logfile, strerror(-ret));
	if (setsid() < 0 || chdir("/") < 0)
		uvfs_log_prio(LOG_WARNING, "uvfsd: cannot detach fully: %s",
			      strerror(errno));
	fd = open("/dev/null", O_RDWR);
	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	uvfsd_detached = 1;
}

/* Detach from the terminal after the mount succeeded. */
static int daemonize(void)
{
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (pid > 0)
		_exit(0);
	uvfsd_detach_session();
	return 0;
}

/*
 * A shell starts background jobs with SIGINT ignored; we want every
 * SIGINT/SIGTERM/SIGHUP to unmount cleanly, so take them back.
 */
void uvfsd_take_signals(void)
{
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
}

/* The per-mountpoint lock `uvfs umount` waits on; fd or -1 with err. */
static int take_lock(const char *mountpoint, char *err)
{
	int lock = uvfs_mountlock_take(mountpoint, err, ERRLEN);

	return lock < 0 ? -1 : lock;
}

static void say_mounted(struct uvfs_session *se, const char *mountpoint,
			const char *transport)
{
	uvfs_log_prio(LOG_INFO, "uvfsd: %s mounted on %s (%s, %s)",
		      uvfs_session_opts(se)->fsname, mountpoint,
		      uvfs_session_backend(se)->name, transport);
}

/*
 * The transport's loop has ended and the transport is freed: unmount the
 * backend, then drop the lock, in that order -- `uvfs umount` returns when
 * the lock goes, and the image must be flushed and released by then (over
 * kmod, DESTROY has done it already and the unmount is a no-op).  Returns
 * the exit status.
 */
static int served(struct uvfs_session *se, const char *mountpoint, int lock,
		  int loop_ret)
{
	uvfs_session_unmount(se);
	uvfs_mountlock_release(mountpoint, lock);
	return loop_ret ? 1 : 0;
}

static int serve_fuse(struct uvfs_session *se, const struct uvfsd_options *o,
		      const char *mountpoint)
{
	struct uvfs_fuse *f = NULL;
	char err[ERRLEN];
	int ret;

	int lock;

	if (access("/dev/fuse", R_OK | W_OK) < 0) {
		snprintf(err, sizeof(err), "/dev/fuse: %s (is FUSE available?)",
			 strerror(errno));
		return uvfsd_die(err);
	}
	uvfsd_take_signals();
	lock = take_lock(mountpoint, err);
	if (lock < 0)
		return uvfsd_die(err);
	ret = uvfs_fuse_mount(se, mountpoint, &f, err, sizeof(err));
	if (ret) {
		uvfs_mountlock_release(mountpoint, lock);
		return uvfsd_die(err);
	}
	if (!o->foreground) {
		ret = daemonize();
		if (ret) {
			uvfs_log("uvfsd: cannot detach: %s", strerror(-ret));
			uvfs_fuse_free(f);
			return 1;
		}
	}
	say_mounted(se, mountpoint, "fuse");
	ret = uvfs_fuse_loop(f);
	uvfs_fuse_free(f);
	return served(se, mountpoint, lock, ret);
}

/*
 * kmod: the serving threads must run before mount(2) (the kernel sends
 * INIT from inside it) and do not survive fork(), so detach first: the
 * parent waits on a pipe for the child's mount result and exits with it;
 * errors still reach the terminal.
 */
static int serve_kmod(struct uvfs_session *se, const struct uvfsd_options *o,
		      const char *mountpoint)
{
	struct uvfs_kmod *k = NULL;
	char err[ERRLEN], st = 1;
	int lock, ret, pfd[2] = { -1, -1 };

	uvfsd_take_signals();
	if (!o->foreground) {
		pid_t pid;

		if (pipe(pfd) < 0)
			return uvfsd_die("pipe failed");
		pid = fork();
		if (pid < 0)
			return uvfsd_die("fork failed");
		if (pid > 0) {
			close(pfd[1]);
			if (read(pfd[0], &st, 1) != 1)
				st = 1;
			_exit(st ? 1 : 0);
		}
		close(pfd[0]);
	}
	lock = take_lock(mountpoint, err);
	if (lock < 0)
		goto fail;
	ret = uvfs_kmod_mount(se, mountpoint, &k, err, sizeof(err));
	if (ret) {
		uvfs_mountlock_release(mountpoint, lock);
		goto fail;
	}
	if (!o->foreground) {
		/* Tell the waiting parent the mount is up, then detach. */
		st = 0;
		if (write(pfd[1], &st, 1) != 1)
			uvfs_log_prio(LOG_WARNING,
				      "uvfsd: parent gone before the mount came up");
		close(pfd[1]);
		uvfsd_detach_session();
	}
	say_mounted(se, mountpoint, "kmod");
	ret = uvfs_kmod_loop(k);
	uvfs_kmod_free(k);
	return served(se, mountpoint, lock, ret);

fail:
	uvfsd_die(err);
	if (pfd[1] >= 0) {
		if (write(pfd[1], &st, 1) != 1)
			st = 1;
		close(pfd[1]);
	}
	return 1;
}

/* --help: every block backend's usage text. */
static void print_blk_usages(void)
{
	const struct uvfs_blk_backend *be;
	char err[ERRLEN], *names = NULL, *name;
	size_t len = 0;
	void *handle;
	FILE *mem;

	mem = open_memstream(&names, &len);
	if (!mem)
		return;
	uvfs_blk_backend_list(mem);
	fclose(mem);
	printf("\nblock backends (uvfsd --bdev NAME ...):\n");
	for (name = strtok(names, "\n"); name; name = strtok(NULL, "\n")) {
		be = uvfs_blk_backend_load(name, &handle, err, sizeof(err));
		if (!be)
			continue;
		fputs(be->usage ? be->usage : "", stdout);
		uvfs_backend_unload(handle);
	}
	free(names);
}

/*
 * --help: our options, then each backend's own (its descriptor's usage
 * text): of BACKEND when named, else of every backend found.
 */
static int print_help(const char *backend, const char *bdev)
{
	char logfile[PATH_MAX + 16], err[ERRLEN], *names = NULL, *name;
	const struct uvfs_backend *be;
	size_t len = 0;
	void *handle;
	FILE *mem;

	log_file_path(logfile, sizeof(logfile));
	if (bdev) {
		const struct uvfs_blk_backend *bbe;

		bbe = uvfs_blk_backend_load(bdev, &handle, err, sizeof(err));
		if (!bbe)
			return uvfsd_die(err);
		uvfsd_usage(stdout, logfile);
		printf("\nblock backend options:\n%s",
		       bbe->usage ? bbe->usage : "");
		uvfs_backend_unload(handle);
		return 0;
	}
	if (backend) {
		be = uvfs_backend_load(backend, &handle, err, sizeof(err));
		if (!be)
			return uvfsd_die(err);
		uvfsd_usage(stdout, logfile);
		printf("\nbackend options:\n%s", be->usage ? be->usage : "");
		uvfs_backend_unload(handle);
		return 0;
	}
	uvfsd_usage(stdout, logfile);
	mem = open_memstream(&names, &len);
	if (!mem)
		return 0;
	uvfs_backend_list(mem);
	fclose(mem);
	printf("\nbackend options (uvfsd BACKEND --help shows one):\n");
	for (name = strtok(names, "\n"); name; name = strtok(NULL, "\n")) {
		be = uvfs_backend_load(name, &handle, err, sizeof(err));
		if (!be)
			continue;
		fputs(be->usage ? be->usage : "", stdout);
		uvfs_backend_unload(handle);
	}
	free(names);
	print_blk_usages();
	return 0;
}

/* --stats: to stderr in the foreground, else line by line to the log. */
void uvfsd_report_stats(struct uvfs_session *se)
{
	char *buf = NULL, *line;
	size_t len = 0;
	FILE *mem;

	if (!uvfsd_detached) {
		uvfs_session_print_stats(se, stderr);
		return;
	}
	mem = open_memstream(&buf, &len);
	if (!mem)
		return;
	uvfs_session_print_stats(se, mem);
	fclose(mem);
	for (line = strtok(buf, "\n"); line; line = strtok(NULL, "\n"))
		uvfs_log_prio(LOG_INFO, "uvfsd: stats: %s", line);
	free(buf);
}

/*
 * A backend refused to open SOURCE read-write for lack of permission:
 * say that -o ro would work, when it would.
 */
static void hint_readonly(const struct uvfsd_options *o, const char *src,
			  int ret, char *err)
{
	size_t n = strlen(err);

	if (o->session.readonly || !strcmp(src, "none") ||
	    (ret != -EACCES && ret != -EPERM && ret != -EROFS))
		return;
	if (access(src, W_OK) == 0 || access(src, R_OK) < 0 ||
	    strstr(err, "-o ro"))	/* the backend said it already */
		return;
	snprintf(err + n, ERRLEN - n,
		 " (%s is not writable for you: mount it with -o ro)", src);
}

int main(int argc, char **argv)
{
	struct uvfsd_options o;
	struct uvfs_session *se = NULL;
	const struct uvfs_backend *be;
	char err[ERRLEN], mp[PATH_MAX], src[PATH_MAX];
	void *handle = NULL;
	int ret = 1;

	if (uvfsd_parse_options(argc, argv, &o, err, sizeof(err))) {
		fprintf(stderr, "uvfsd: %s\n", err);
		return 2;
	}
	switch (o.action) {
	case UVFSD_HELP:
		return print_help(o.backend, o.bdev);
	case UVFSD_VERSION:
		printf("uvfsd %s (protocol %d.%d, backend API %d)\n",
		       UVFS_VERSION, UVFS_PROTO_MAJOR, UVFS_PROTO_MINOR,
		       UVFS_BACKEND_API_VERSION);
		return 0;
	case UVFSD_LIST_BACKENDS:
		return uvfs_backend_list(stdout) > 0 ? 0 :
			uvfsd_die("no backends found (set UVFS_BACKEND_PATH?)");
	case UVFSD_REMOVE:
		return uvfsd_bdev_remove(o.remove);
	case UVFSD_RUN:
		break;
	}
	if (o.bdev)
		return uvfsd_bdev_serve(&o);
	/* the kernel would refuse them later, less clearly */
	if (geteuid() != 0 &&
	    ~o.session.mnt_flags & o.session.mnt_flags_mask &
		    (MS_NOSUID | MS_NODEV))
		return uvfsd_die("-o suid and -o dev are for root only");

	if (o.transport == UVFSD_TRANSPORT_AUTO)
		o.transport = access("/dev/uvfs", R_OK | W_OK) == 0 ?
				      UVFSD_TRANSPORT_KMOD :
				      UVFSD_TRANSPORT_FUSE;

	be = uvfs_backend_load(o.backend, &handle, err, sizeof(err));
	if (!be)
		return uvfsd_die(err);
	if (check_source(o.source, err))
		goto out_unload_err;
	/* The daemon changes directory when it detaches. */
	if (strcmp(o.source, "none") && realpath(o.source, src))
		o.session.fsname = o.fsname[0] ? o.fsname : src;
	else
		snprintf(src, sizeof(src), "%s", o.source);
	if (o.mountpoint && check_mountpoint(o.mountpoint, mp, err))
		goto out_unload_err;

	se = uvfs_session_new(be, &o.session);
	if (!se) {
		snprintf(err, sizeof(err), "out of memory");
		goto out_unload_err;
	}
	ret = uvfs_session_mount(se, src, err, sizeof(err));
	if (ret) {
		hint_readonly(&o, src, ret, err);
		goto out_unload_err;
	}

	if (o.transport == UVFSD_TRANSPORT_DIRECT)
		ret = uvfsd_probe(se, stdout) ? 1 : 0;
	else if (o.transport == UVFSD_TRANSPORT_KMOD)
		ret = serve_kmod(se, &o, mp);
	else
		ret = serve_fuse(se, &o, mp);

	/* Flush and release the source before we exit: after this the image
	 * is consistent (see `uvfs umount`). */
	uvfs_session_unmount(se);
	if (o.stats)
		uvfsd_report_stats(se);
	if (uvfsd_detached)
		uvfs_log_prio(LOG_INFO, "uvfsd: %s unmounted from %s, exit %d",
			      uvfs_session_opts(se)->fsname, mp, ret);
	uvfs_session_free(se);
	uvfs_backend_unload(handle);
	return ret;

out_unload_err:
	uvfs_session_free(se);
	uvfs_backend_unload(handle);
	return uvfsd_die(err);
}
