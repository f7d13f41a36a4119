// SPDX-License-Identifier: MIT
/*
 * What is mounted where, for uvfsd's checks and the unmount tools: the
 * mountinfo entry at a path, whether its daemon is gone, and a mount
 * point's absolute path found without stat()ing it (a dead FUSE mount
 * answers ENOTCONN).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include "mountlock.h"
#include "mounts.h"

/* Is path a mount point?  mountinfo knows, even for a dead FUSE mount. */
int uvfs_mounted_at(const char *path, struct uvfs_mounted *m)
{
	FILE *f = fopen("/proc/self/mountinfo", "r");
	char line[2 * PATH_MAX + 512];
	int found = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		char mnt[PATH_MAX];
		const char *sep;

		/* id parent major:minor root mountpoint ... - type source */
		if (sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1 ||
		    strcmp(mnt, path))
			continue;
		found = 1;	/* the last one is on top: keep reading */
		m->fstype[0] = m->source[0] = '\0';
		sep = strstr(line, " - ");
		if (sep)
			sscanf(sep + 3, "%63s %4095s", m->fstype, m->source);
	}
	fclose(f);
	return found;
}

/*
 * Is the mount at path one whose daemon is gone?  FUSE answers ENOTCONN
 * then; and the uvfsd that served it left its lock file unlocked.
 */
int uvfs_dead_mount(const char *path, const struct uvfs_mounted *m)
{
	struct stat st;
	int fd, dead = 0;

	if (strncmp(m->fstype, "fuse", 4) && strncmp(m->fstype, "uvfs", 4))
		return 0;
	if (stat(path, &st) < 0 && errno == ENOTCONN)
		return 1;
	fd = uvfs_mountlock_open(path);
	if (fd >= 0) {
		dead = !uvfs_mountlock_held(fd);
		close(fd);
	}
	return dead;
}

/*
 * The absolute path of mp without stat()ing mp itself, which fails on a
 * dead mount: the parent resolved, then the last name.
 */
int uvfs_abs_mountpoint(const char *mp, char *real)
{
	char buf[PATH_MAX], parent[PATH_MAX];
	const char *dir, *base;
	char *slash;
	size_t n;

	n = strlen(mp);
	if (n == 0 || n >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, mp, n + 1);
	while (n > 1 && buf[n - 1] == '/')
		buf[--n] = '\0';
	slash = strrchr(buf, '/');
	if (slash) {
		*slash = '\0';
		dir = buf[0] ? buf : "/";
		base = slash + 1;
	} else {
		dir = ".";
		base = buf;
	}
	if (!base[0] || !strcmp(base, ".") || !strcmp(base, ".."))
		return realpath(mp, real) ? 0 : -errno;
	if (!realpath(dir, parent))
		return -errno;
	if (snprintf(real, PATH_MAX, "%s/%s", strcmp(parent, "/") ? parent : "",
		     base) >= PATH_MAX)
		return -ENAMETOOLONG;
	return 0;
}

/* umount2 as root; fusermount3 -u for users (and as a fallback). */
static int do_unmount(const char *mp, int lazy)
{
	pid_t pid;
	int status;

	if (umount2(mp, lazy ? MNT_DETACH : 0) == 0)
		return 0;
	if (errno != EPERM)
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY);

		/* its complaint would be a second line; ours says it all */
		if (fd >= 0)
			dup2(fd, 2);
		execlp("fusermount3", "fusermount3", lazy ? "-uz" : "-u", mp,
		       (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EPERM;
}

static void on_alarm(int sig)
{
	(void)sig;
}

int uvfs_umount_wait(const char *prog, const char *arg, unsigned int timeout,
		     int lazy)
{
	char mp[PATH_MAX];
	struct uvfs_mounted m;
	struct sigaction sa = { 0 };
	int fd, ret;

	ret = uvfs_abs_mountpoint(arg, mp);
	if (ret) {
		fprintf(stderr, "%s: %s: %s\n", prog, arg, strerror(-ret));
		return 1;
	}
	if (!uvfs_mounted_at(mp, &m)) {
		struct stat st;

		fprintf(stderr, "%s: %s: %s\n", prog, arg,
			stat(mp, &st) < 0 ? strerror(errno) :
					    "nothing is mounted there");
		return 1;
	}
	/* Open the lock before unmounting: the daemon removes it at exit. */
	fd = uvfs_mountlock_open(mp);
	ret = do_unmount(mp, lazy);
	if (ret) {
		fprintf(stderr, "%s: cannot unmount %s: %s\n", prog, mp,
			ret == -EPERM ? "Operation not permitted (not your mount?)" :
					strerror(-ret));
		if (fd >= 0)
			close(fd);
		return 1;
	}
	if (fd < 0)
		return 0;	/* no uvfsd lock: nothing to wait for */
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);
	alarm(timeout);
	ret = flock(fd, LOCK_SH);
	alarm(0);
	close(fd);
	if (ret < 0) {
		fprintf(stderr, "%s: %s: uvfsd still running after %u s\n", prog,
			mp, timeout);
		return 1;
	}
	return 0;
}
