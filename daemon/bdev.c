// SPDX-License-Identifier: MIT
/*
 * uvfsd --bdev BACKEND SOURCE: a block device /dev/uvbdN served by a
 * block backend over uvfs.ko; uvfsd --remove /dev/uvbdN removes one.
 *
 * As for mounts, everything that can fail with a user error (options, the
 * backend, its SOURCE, the module) fails in the foreground with one line
 * and exit 1.  Then, unless -f, we fork before the channel exists (its
 * serving threads do not survive fork): the parent waits on a pipe for the
 * child's result and exits with it.  The child adds the device, prints its
 * path on stdout once the node exists, and detaches.  The interface for
 * scripts:
 *
 *	dev=$(uvfsd --bdev file disk.img)	# /dev/uvbdN, or exit 1
 *	uvfsd --bdev file disk.img -f > path &	# the path is line 1
 *
 * SIGTERM, SIGINT or SIGHUP remove the device (the kernel writes its
 * users' dirty data through us first); `uvfsd --remove` does the same from
 * outside.  Either way the kernel then shuts the channel down, the serving
 * threads stop, the backend flushes and closes SOURCE, and we exit 0.
 * While serving we hold the lock file of "/dev/uvbdN" (mountlock.h), so
 * `uvfsd --remove` returns only once that has happened: right after it,
 * the image is consistent and free to mount.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <syslog.h>
#include <unistd.h>

#include "bdev.h"
#include "mountlock.h"

#define ERRLEN (PATH_MAX + 512)
#define KMOD_DEV "/dev/uvfs"
#define NO_MODULE KMOD_DEV " not found: load uvfs.ko (block devices need the module)"

/*
 * Wait (up to 5 s) for the device node: devtmpfs makes it before BDEV_ADD
 * returns, udev without devtmpfs a little later.
 */
static void wait_node(const char *path)
{
	struct stat st;
	int i;

	for (i = 0; i < 50; i++) {
		if (stat(path, &st) == 0 && S_ISBLK(st.st_mode))
			return;
		usleep(100 * 1000);
	}
	uvfs_log_prio(LOG_WARNING, "uvfsd: %s did not appear (no devtmpfs "
		      "or udev?)", path);
}

/* Tell a waiting parent how it went (0: the device is up). */
static void tell_parent(int *fd, char st)
{
	if (*fd < 0)
		return;
	if (write(*fd, &st, 1) != 1)
		uvfs_log_prio(LOG_WARNING, "uvfsd: parent gone before the "
			      "device came up");
	close(*fd);
	*fd = -1;
}

/* Unless -f: fork; the parent waits for the child's word and exits. */
static int fork_waiting_parent(const struct uvfsd_options *o, int *wfd)
{
	int pfd[2];
	char st = 1;
	pid_t pid;

	*wfd = -1;
	if (o->foreground)
		return 0;
	if (pipe(pfd) < 0)
		return -errno;
	/* what the parent printed must not reach the child's stdout twice */
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid > 0) {
		close(pfd[1]);
		if (read(pfd[0], &st, 1) != 1)
			st = 1;
		_exit(st ? 1 : 0);
	}
	close(pfd[0]);
	*wfd = pfd[1];
	return 0;
}

/* Add the device and serve it until removed; the loop's result. */
static int serve(struct uvfs_session *se, const struct uvfsd_options *o)
{
	struct uvfs_kmod *k = NULL;
	char err[ERRLEN], path[32];
	uint32_t index;
	int wfd, ret, lock;

	uvfsd_take_signals();
	ret = fork_waiting_parent(o, &wfd);
	if (ret) {
		snprintf(err, sizeof(err), "cannot fork: %s", strerror(-ret));
		return uvfsd_die(err);
	}
	ret = uvfs_kmod_bdev_add(se, &k, &index, err, sizeof(err));
	if (ret) {
		uvfsd_die(err);
		tell_parent(&wfd, 1);
		return 1;
	}
	snprintf(path, sizeof(path), "/dev/uvbd%u", index);
	lock = uvfs_mountlock_take(path, err, sizeof(err));
	if (lock < 0)
		uvfs_log_prio(LOG_WARNING, "uvfsd: %s (uvfsd --remove will "
			      "not wait for us)", err);
	wait_node(path);
	/* the one line on stdout, before the parent may exit */
	printf("%s\n", path);
	fflush(stdout);
	if (!o->foreground) {
		tell_parent(&wfd, 0);
		uvfsd_detach_session();
	}
	uvfs_log_prio(LOG_INFO, "uvfsd: %s: %s on %s", path,
		      uvfs_session_blk_backend(se)->name, o->source);
	ret = uvfs_kmod_loop(k);
	uvfs_kmod_free(k);
	uvfs_log_prio(LOG_INFO, "uvfsd: %s %s", path,
		      ret ? "lost its channel" : "removed");
	/* flush and close SOURCE, then let --remove return */
	uvfs_session_unmount(se);
	uvfs_mountlock_release(path, lock);
	return ret ? 1 : 0;
}

int uvfsd_bdev_serve(const struct uvfsd_options *o)
{
	const struct uvfs_blk_backend *be;
	struct uvfs_session *se;
	char err[ERRLEN];
	void *handle;
	int ret;

	be = uvfs_blk_backend_load(o->bdev, &handle, err, sizeof(err));
	if (!be)
		return uvfsd_die(err);
	se = uvfs_blk_session_new(be, &o->session);
	if (!se) {
		uvfs_backend_unload(handle);
		return uvfsd_die("out of memory");
	}
	ret = uvfs_blk_session_open(se, o->source, err, sizeof(err));
	if (ret) {
		ret = uvfsd_die(err);
		goto out;
	}
	/* said before forking: the one line a host without the module gets */
	if (access(KMOD_DEV, F_OK) < 0 && errno == ENOENT)
		ret = uvfsd_die(NO_MODULE);
	else
		ret = serve(se, o);
	/* flush and close SOURCE: the image is consistent once we exit */
	uvfs_session_unmount(se);
	if (o->stats)
		uvfsd_report_stats(se);
	if (uvfsd_detached)
		uvfs_log_prio(LOG_INFO, "uvfsd: %s closed, exit %d", o->source,
			      ret);
out:
	uvfs_session_free(se);
	uvfs_backend_unload(handle);
	return ret;
}

/* "uvbdN" -> N; -1 if name is not one. */
static long uvbd_number(const char *name)
{
	char *end;
	long n;

	if (strncmp(name, "uvbd", 4) || name[4] < '0' || name[4] > '9')
		return -1;
	n = strtol(name + 4, &end, 10);
	return *end || n < 0 || n > (long)UINT32_MAX ? -1 : n;
}

/*
 * Which N does dev name?  A number, uvbdN, or a block device node whose kernel
 * name (from sysfs, whatever the node is called) is uvbdN.
 */
static long parse_dev(const char *dev, char *err)
{
	char sys[64], link[PATH_MAX], *name;
	struct stat st;
	ssize_t len;
	char *end;
	long n;

	n = strtol(dev, &end, 10);
	if (dev[0] >= '0' && dev[0] <= '9' && !*end && n <= (long)UINT32_MAX)
		return n;
	n = uvbd_number(dev);	/* "uvbdN", as lsblk names it */
	if (n >= 0)
		return n;
	if (stat(dev, &st) < 0) {
		if (errno == ENOENT)
			snprintf(err, ERRLEN, "%s: no such device", dev);
		else
			snprintf(err, ERRLEN, "%s: %s", dev, strerror(errno));
		return -1;
	}
	if (!S_ISBLK(st.st_mode))
		goto not_uvbd;
	snprintf(sys, sizeof(sys), "/sys/dev/block/%u:%u", major(st.st_rdev),
		 minor(st.st_rdev));
	len = readlink(sys, link, sizeof(link) - 1);
	if (len <= 0)
		goto not_uvbd;
	link[len] = '\0';
	name = strrchr(link, '/');
	n = uvbd_number(name ? name + 1 : link);
	if (n >= 0)
		return n;
not_uvbd:
	snprintf(err, ERRLEN, "%s is not a uvbd device", dev);
	return -1;
}

/* Wait up to 60 s for the daemon holding lock to exit; 0 or -ETIMEDOUT. */
static int wait_daemon(int lock)
{
	int i;

	for (i = 0; i < 60 * 20; i++) {
		if (!uvfs_mountlock_held(lock))
			return 0;
		usleep(50 * 1000);
	}
	return -ETIMEDOUT;
}

int uvfsd_bdev_remove(const char *dev)
{
	char err[ERRLEN], path[32];
	int lock, ret;
	long n;

	n = parse_dev(dev, err);
	if (n < 0)
		return uvfsd_die(err);
	if (geteuid() != 0) {
		snprintf(err, sizeof(err),
			 "--remove %s: removing a block device needs root", dev);
		return uvfsd_die(err);
	}
	snprintf(path, sizeof(path), "/dev/uvbd%ld", n);
	lock = uvfs_mountlock_open(path);	/* its daemon's, if it has one */
	if (uvfs_kmod_bdev_remove((uint32_t)n, err, sizeof(err))) {
		ret = uvfsd_die(err);
	} else if (lock >= 0 && wait_daemon(lock)) {
		snprintf(err, sizeof(err), "%s removed, but its uvfsd has not "
			 "exited after 60 s", path);
		ret = uvfsd_die(err);
	} else {
		ret = 0;
	}
	if (lock >= 0)
		close(lock);
	return ret;
}
