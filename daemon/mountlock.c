// SPDX-License-Identifier: MIT
/*
 * Mount point locks and the per-user state directory (see mountlock.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mountlock.h"

/* Is dir a directory owned by uid that no one else may write? */
static int private_dir(const char *dir, uid_t uid, char *err, size_t errlen)
{
	struct stat st;

	if (lstat(dir, &st) < 0) {
		snprintf(err, errlen, "lock directory %s: %s", dir,
			 strerror(errno));
		return -errno;
	}
	if (!S_ISDIR(st.st_mode) || st.st_uid != uid ||
	    (st.st_mode & (S_IWGRP | S_IWOTH))) {
		snprintf(err, errlen,
			 "lock directory %s is not a directory of uid %u that "
			 "only it may write",
			 dir, (unsigned int)uid);
		return -EPERM;
	}
	return 0;
}

int uvfs_state_dir(char *dir, size_t len, int create, char *err,
		   size_t errlen)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	uid_t uid = geteuid();
	char run_user[64];
	struct stat st;
	int n;

	if (uid == 0)
		n = snprintf(dir, len, "/run/uvfs");
	else if (xdg && xdg[0] == '/')
		n = snprintf(dir, len, "%s/uvfs", xdg);
	else if (snprintf(run_user, sizeof(run_user), "/run/user/%u",
			  (unsigned int)uid) > 0 &&
		 stat(run_user, &st) == 0 && S_ISDIR(st.st_mode) &&
		 st.st_uid == uid)
		n = snprintf(dir, len, "%s/uvfs", run_user);
	else
		n = snprintf(dir, len, "/tmp/uvfs-%u", (unsigned int)uid);
	if (n < 0 || (size_t)n >= len) {
		snprintf(err, errlen, "lock directory: path too long");
		return -ENAMETOOLONG;
	}
	if (!create)
		return 0;
	if (mkdir(dir, uid == 0 ? 0755 : 0700) < 0 && errno != EEXIST) {
		int ret = -errno;

		snprintf(err, errlen, "cannot create lock directory %s: %s%s",
			 dir, strerror(-ret),
			 uid && (!xdg || xdg[0] != '/') ?
				 " (set XDG_RUNTIME_DIR to a directory of yours)" :
				 "");
		return ret;
	}
	return private_dir(dir, uid, err, errlen);
}

int uvfs_mountlock_path(const char *dir, const char *mountpoint, char *path,
			size_t len)
{
	size_t n;
	const char *p;

	n = (size_t)snprintf(path, len, "%s/mnt", dir);
	if (n >= len)
		return -ENAMETOOLONG;
	/* '/' becomes '%2f' and '%' becomes '%25': one file per path. */
	for (p = mountpoint; *p && n + 4 < len; p++) {
		if (*p == '/' || *p == '%')
			n += (size_t)snprintf(path + n, len - n, "%%%02x",
					      (unsigned char)*p);
		else
			path[n++] = *p;
	}
	if (*p || n + 6 >= len)
		return -ENAMETOOLONG;
	strcpy(path + n, ".lock");
	return 0;
}

int uvfs_mountlock_take(const char *mountpoint, char *err, size_t errlen)
{
	char dir[4096], path[4096 + 64];
	char pid[32];
	int fd, ret;

	ret = uvfs_state_dir(dir, sizeof(dir), 1, err, errlen);
	if (ret)
		return ret;
	ret = uvfs_mountlock_path(dir, mountpoint, path, sizeof(path));
	if (ret) {
		snprintf(err, errlen, "mountpoint %s: path too long", mountpoint);
		return ret;
	}
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "lock file %s: %s", path, strerror(-ret));
		return ret;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		ret = errno == EWOULDBLOCK ? -EBUSY : -errno;
		close(fd);
		snprintf(err, errlen, "mountpoint %s: %s", mountpoint,
			 ret == -EBUSY ? "another uvfsd serves it" :
					 strerror(-ret));
		return ret;
	}
	snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	/* The pid is for people reading the file; failing to write it is
	 * harmless. */
	if (ftruncate(fd, 0) == 0)
		(void)!write(fd, pid, strlen(pid));
	return fd;
}

void uvfs_mountlock_release(const char *mountpoint, int fd)
{
	char dir[4096], path[4096 + 64], err[8];

	if (fd < 0)
		return;
	if (!uvfs_state_dir(dir, sizeof(dir), 0, err, sizeof(err)) &&
	    !uvfs_mountlock_path(dir, mountpoint, path, sizeof(path)))
		unlink(path);
	/* fd stays open: the lock goes with the process, so a waiter wakes
	 * only once we are really gone. */
}

static int open_in(const char *dir, const char *mountpoint)
{
	char path[4096 + 64];
	int fd;

	if (uvfs_mountlock_path(dir, mountpoint, path, sizeof(path)))
		return -ENOENT;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	return fd < 0 ? -errno : fd;
}

int uvfs_mountlock_open(const char *mountpoint)
{
	static const char *const user_dirs[] = { "/run/user/*/uvfs",
						 "/tmp/uvfs-*" };
	char dir[4096], err[8];
	size_t i, j;
	int fd;

	if (!uvfs_state_dir(dir, sizeof(dir), 0, err, sizeof(err))) {
		fd = open_in(dir, mountpoint);
		if (fd >= 0)
			return fd;
	}
	fd = open_in("/run/uvfs", mountpoint);
	if (fd >= 0 || geteuid() != 0)
		return fd >= 0 ? fd : -ENOENT;
	/* root unmounting a user's mount: look in every user's directory */
	for (i = 0; i < sizeof(user_dirs) / sizeof(user_dirs[0]); i++) {
		glob_t g;

		if (glob(user_dirs[i], GLOB_ONLYDIR, NULL, &g))
			continue;
		for (j = 0, fd = -ENOENT; j < g.gl_pathc && fd < 0; j++)
			fd = open_in(g.gl_pathv[j], mountpoint);
		globfree(&g);
		if (fd >= 0)
			return fd;
	}
	return -ENOENT;
}

int uvfs_mountlock_held(int fd)
{
	if (flock(fd, LOCK_SH | LOCK_NB) == 0) {
		flock(fd, LOCK_UN);
		return 0;
	}
	return errno == EWOULDBLOCK;
}
