// SPDX-License-Identifier: MIT
/*
 * uvfs: small tools around uvfsd.
 *
 *   uvfs umount [-t SECONDS] MOUNTPOINT
 *	Unmount, then wait until the uvfsd that served MOUNTPOINT has flushed
 *	its backend and exited: when this returns 0, the image is consistent.
 *	(With FUSE, umount alone can return while the daemon still writes.)
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mountlock.h"

static void usage(FILE *out)
{
	fputs("usage: uvfs umount [-t SECONDS] MOUNTPOINT\n"
	      "  unmount a uvfsd mount and wait until the daemon has flushed\n"
	      "  and exited (default timeout 60 s)\n",
	      out);
}

static void on_alarm(int sig)
{
	(void)sig;
}

/* umount2 as root; fusermount3 -u for users (and as a fallback). */
static int do_unmount(const char *mp)
{
	pid_t pid;
	int status;

	if (umount2(mp, 0) == 0)
		return 0;
	if (errno != EPERM)
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		execlp("fusermount3", "fusermount3", "-u", mp, (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EPERM;
}

static int cmd_umount(int argc, char **argv)
{
	char mp[PATH_MAX], lock[PATH_MAX + 64];
	struct sigaction sa = { 0 };
	unsigned int timeout = 60;
	int c, fd, ret;

	while ((c = getopt(argc, argv, "t:h")) != -1) {
		switch (c) {
		case 't':
			timeout = (unsigned int)strtoul(optarg, NULL, 10);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "uvfs umount: need one MOUNTPOINT\n");
		return 2;
	}
	if (!realpath(argv[optind], mp)) {
		fprintf(stderr, "uvfs umount: %s: %s\n", argv[optind],
			strerror(errno));
		return 1;
	}
	if (uvfs_mountlock_path(mp, lock, sizeof(lock))) {
		fprintf(stderr, "uvfs umount: %s: path too long\n", mp);
		return 1;
	}
	/* Open the lock before unmounting: the daemon removes it at exit. */
	fd = open(lock, O_RDONLY | O_CLOEXEC);
	ret = do_unmount(mp);
	if (ret) {
		fprintf(stderr, "uvfs umount: %s: %s\n", mp, strerror(-ret));
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
		fprintf(stderr,
			"uvfs umount: %s: uvfsd still running after %u s\n",
			mp, timeout);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "umount"))
		return cmd_umount(argc - 1, argv + 1);
	if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "uvfs: unknown command%s%s (try uvfs --help)\n",
		argc >= 2 ? " " : "", argc >= 2 ? argv[1] : "");
	return 2;
}
