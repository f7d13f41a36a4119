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
#include <sys/stat.h>
#include <unistd.h>

#include "mountlock.h"
#include "options.h"
#include "probe.h"

#define ERRLEN (PATH_MAX + 512)

static int die(const char *msg)
{
	fprintf(stderr, "uvfsd: %s\n", msg);
	return 1;
}

/* Is path a mount point (or inside a dead FUSE mount)?  mountinfo knows. */
static int mountpoint_in_use(const char *path)
{
	FILE *f = fopen("/proc/self/mountinfo", "r");
	char line[4096];
	int found = 0;

	if (!f)
		return 0;
	while (!found && fgets(line, sizeof(line), f)) {
		char mnt[PATH_MAX];

		/* id parent major:minor root mountpoint ... */
		if (sscanf(line, "%*s %*s %*s %*s %4095s", mnt) == 1 &&
		    !strcmp(mnt, path))
			found = 1;
	}
	fclose(f);
	return found;
}

static int check_mountpoint(const char *mp, char *real, char *err)
{
	struct stat st;

	if (stat(mp, &st) < 0) {
		if (errno == ENOTCONN)
			snprintf(err, ERRLEN,
				 "mountpoint %s is a dead mount (try fusermount3 -u %s)",
				 mp, mp);
		else
			snprintf(err, ERRLEN, "mountpoint %s: %s", mp,
				 strerror(errno));
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
	if (mountpoint_in_use(real)) {
		snprintf(err, ERRLEN,
			 "mountpoint %s is already in use (something is mounted there)",
			 mp);
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

/* Leave the terminal's session; from now on log to syslog. */
static void detach_session(void)
{
	int fd;

	if (setsid() < 0 || chdir("/") < 0)
		uvfs_log("uvfsd: cannot detach fully: %s", strerror(errno));
	fd = open("/dev/null", O_RDWR);
	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	uvfs_log_to_syslog(1);
}

/* Detach from the terminal after the mount succeeded. */
static int daemonize(void)
{
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (pid > 0)
		_exit(0);
	detach_session();
	return 0;
}

/*
 * A shell starts background jobs with SIGINT ignored; we want every
 * SIGINT/SIGTERM/SIGHUP to unmount cleanly, so take them back.
 */
static void take_signals(void)
{
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
}

/* The per-mountpoint lock `uvfs umount` waits on; fd or -1 with err. */
static int take_lock(const char *mountpoint, char *err)
{
	int lock = uvfs_mountlock_take(mountpoint);

	if (lock < 0)
		snprintf(err, ERRLEN, "mountpoint %s: %s", mountpoint,
			 lock == -EBUSY ? "another uvfsd serves it" :
					  strerror(-lock));
	return lock;
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
		return die(err);
	}
	take_signals();
	lock = take_lock(mountpoint, err);
	if (lock < 0)
		return die(err);
	ret = uvfs_fuse_mount(se, mountpoint, &f, err, sizeof(err));
	if (ret) {
		uvfs_mountlock_release(mountpoint, lock);
		return die(err);
	}
	if (!o->foreground) {
		ret = daemonize();
		if (ret) {
			uvfs_log("uvfsd: cannot detach: %s", strerror(-ret));
			uvfs_fuse_free(f);
			return 1;
		}
	}
	ret = uvfs_fuse_loop(f);
	uvfs_fuse_free(f);
	/* Flush and release the source before dropping the lock: `uvfs
	 * umount` returns when the lock goes, and the image must be
	 * consistent by then. */
	uvfs_session_unmount(se);
	uvfs_mountlock_release(mountpoint, lock);
	return ret ? 1 : 0;
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

	take_signals();
	if (!o->foreground) {
		pid_t pid;

		if (pipe(pfd) < 0)
			return die("pipe failed");
		pid = fork();
		if (pid < 0)
			return die("fork failed");
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
			uvfs_log("uvfsd: parent gone before the mount came up");
		close(pfd[1]);
		detach_session();
	}
	ret = uvfs_kmod_loop(k);
	uvfs_kmod_free(k);
	/* DESTROY already flushed the backend; this is a no-op then. */
	uvfs_session_unmount(se);
	uvfs_mountlock_release(mountpoint, lock);
	return ret ? 1 : 0;

fail:
	die(err);
	if (pfd[1] >= 0) {
		if (write(pfd[1], &st, 1) != 1)
			st = 1;
		close(pfd[1]);
	}
	return 1;
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
		uvfsd_usage(stdout);
		return 0;
	case UVFSD_VERSION:
		printf("uvfsd %s (protocol %d.%d, backend API %d)\n",
		       UVFS_VERSION, UVFS_PROTO_MAJOR, UVFS_PROTO_MINOR,
		       UVFS_BACKEND_API_VERSION);
		return 0;
	case UVFSD_LIST_BACKENDS:
		return uvfs_backend_list(stdout) > 0 ? 0 :
			die("no backends found (set UVFS_BACKEND_PATH?)");
	case UVFSD_RUN:
		break;
	}

	if (o.transport == UVFSD_TRANSPORT_AUTO)
		o.transport = access("/dev/uvfs", R_OK | W_OK) == 0 ?
				      UVFSD_TRANSPORT_KMOD :
				      UVFSD_TRANSPORT_FUSE;

	be = uvfs_backend_load(o.backend, &handle, err, sizeof(err));
	if (!be)
		return die(err);
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
	if (uvfs_session_mount(se, src, err, sizeof(err)))
		goto out_unload_err;

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
		uvfs_session_print_stats(se, stderr);
	uvfs_session_free(se);
	uvfs_backend_unload(handle);
	return ret;

out_unload_err:
	uvfs_session_free(se);
	uvfs_backend_unload(handle);
	return die(err);
}
