// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mountlock.h"

/* Root's locks live in /run/uvfs; other users' in their runtime dir. */
static const char *lock_dir(void)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");

	if (geteuid() != 0 && xdg && xdg[0] == '/')
		return xdg;
	return "/run/uvfs";
}

int uvfs_mountlock_path(const char *mountpoint, char *path, size_t len)
{
	const char *dir = lock_dir();
	size_t n;
	const char *p;

	n = (size_t)snprintf(path, len, "%s/mnt", dir);
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

int uvfs_mountlock_take(const char *mountpoint)
{
	char path[4096 + 64];
	char pid[32];
	int fd, ret;

	ret = uvfs_mountlock_path(mountpoint, path, sizeof(path));
	if (ret)
		return ret;
	if (mkdir(lock_dir(), 0755) < 0 && errno != EEXIST)
		return -errno;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		ret = -errno;
		close(fd);
		return ret == -EWOULDBLOCK ? -EBUSY : ret;
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
	char path[4096 + 64];

	if (fd < 0)
		return;
	if (!uvfs_mountlock_path(mountpoint, path, sizeof(path)))
		unlink(path);
	/* fd stays open: the lock goes with the process, so a waiter wakes
	 * only once we are really gone. */
}
