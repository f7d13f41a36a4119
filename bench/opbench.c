// SPDX-License-Identifier: MIT
/*
 * opbench: the system-call workloads of bench/run.sh, timed from inside
 * one program so that the shell's fork/exec never shows in a number.
 *
 *   opbench nullop FILE COUNT
 *	statx(AT_STATX_FORCE_SYNC) of FILE COUNT times: the null-op.  The
 *	flag makes fuse.ko and uvfs.ko ask the daemon every time whatever
 *	attribute timeout the backend gave ("caching off" without changing
 *	the backend); a kernel filesystem answers from the inode.  Prints
 *	"nullop SECONDS".
 *
 *   opbench meta N DIR [DIR...]
 *	one process per DIR; each creates N empty files in its DIR, then
 *	stats each, then unlinks each.  The processes run every phase
 *	together (a barrier before and after it), so each phase's wall time
 *	covers all of them.  Prints "create SEC", "stat SEC", "unlink SEC".
 *
 * Exit status: 0, 1 when an operation failed (the failing path and the
 * error on stderr), 2 for a usage error.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { PH_CREATE, PH_STAT, PH_UNLINK, PH_MAX };
static const char *const phase_name[PH_MAX] = { "create", "stat", "unlink" };

/* Shared between the parent and the workers of "meta". */
struct shared {
	pthread_barrier_t bar;
	int failed;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int usage(void)
{
	fprintf(stderr, "usage: opbench nullop FILE COUNT | opbench meta N DIR [DIR...]\n");
	return 2;
}

/* A count argument: a whole number >= 1, else -1. */
static long count_arg(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 1)
		return -1;
	return v;
}

static int nullop(const char *file, long count)
{
	struct statx stx;
	double t;
	long i;

	t = now();
	for (i = 0; i < count; i++) {
		if (statx(AT_FDCWD, file, AT_STATX_FORCE_SYNC,
			  STATX_BASIC_STATS, &stx) < 0) {
			fprintf(stderr, "opbench: statx %s: %s\n", file,
				strerror(errno));
			return 1;
		}
	}
	printf("nullop %.6f\n", now() - t);
	return 0;
}

/* One phase over DIR's N files; -errno of the first failure. */
static int meta_phase(int ph, const char *dir, long n)
{
	char path[4096];
	struct stat st;
	long i;
	int fd;

	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/f%06ld", dir, i);
		switch (ph) {
		case PH_CREATE:
			fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0644);
			if (fd < 0 || close(fd) < 0)
				goto fail;
			break;
		case PH_STAT:
			if (stat(path, &st) < 0)
				goto fail;
			if (st.st_size != 0) {
				errno = EIO;
				goto fail;
			}
			break;
		default:
			if (unlink(path) < 0)
				goto fail;
		}
	}
	return 0;
fail:
	fprintf(stderr, "opbench: %s %s: %s\n", phase_name[ph], path,
		strerror(errno));
	return -errno;
}

/*
 * A worker: every phase between two barrier waits.  After a failure it
 * keeps meeting the barriers (so nobody waits forever) but does nothing.
 */
static void meta_worker(struct shared *sh, const char *dir, long n)
{
	int ph, bad = 0;

	for (ph = 0; ph < PH_MAX; ph++) {
		pthread_barrier_wait(&sh->bar);
		if (!bad && meta_phase(ph, dir, n) < 0) {
			bad = 1;
			__atomic_store_n(&sh->failed, 1, __ATOMIC_SEQ_CST);
		}
		pthread_barrier_wait(&sh->bar);
	}
	_exit(bad);
}

static int meta(long n, char **dirs, int ndirs)
{
	pthread_barrierattr_t ba;
	double t[PH_MAX];
	struct shared *sh;
	int i, ph, status, ret = 1;
	pid_t pid;
	double t0;

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED) {
		perror("opbench: mmap");
		return 1;
	}
	sh->failed = 0;
	pthread_barrierattr_init(&ba);
	pthread_barrierattr_setpshared(&ba, PTHREAD_PROCESS_SHARED);
	if (pthread_barrier_init(&sh->bar, &ba, ndirs + 1)) {
		fprintf(stderr, "opbench: pthread_barrier_init failed\n");
		goto out_unmap;
	}
	for (i = 0; i < ndirs; i++) {
		pid = fork();
		if (pid < 0) {
			/* the barrier counts workers that never came: give up */
			perror("opbench: fork");
			exit(1);
		}
		if (!pid)
			meta_worker(sh, dirs[i], n);
	}
	for (ph = 0; ph < PH_MAX; ph++) {
		pthread_barrier_wait(&sh->bar);
		t0 = now();
		pthread_barrier_wait(&sh->bar);
		t[ph] = now() - t0;
	}
	ret = 0;
	for (i = 0; i < ndirs; i++) {
		if (wait(&status) < 0 || !WIFEXITED(status) ||
		    WEXITSTATUS(status))
			ret = 1;
	}
	if (sh->failed)
		ret = 1;
	if (ret)
		goto out_barrier;
	for (ph = 0; ph < PH_MAX; ph++)
		printf("%s %.6f\n", phase_name[ph], t[ph]);
out_barrier:
	pthread_barrier_destroy(&sh->bar);
out_unmap:
	pthread_barrierattr_destroy(&ba);
	munmap(sh, sizeof(*sh));
	return ret;
}

int main(int argc, char **argv)
{
	long n;

	if (argc == 4 && !strcmp(argv[1], "nullop")) {
		n = count_arg(argv[3]);
		if (n < 0)
			return usage();
		return nullop(argv[2], n);
	}
	if (argc >= 4 && !strcmp(argv[1], "meta")) {
		n = count_arg(argv[2]);
		if (n < 0)
			return usage();
		return meta(n, argv + 3, argc - 3);
	}
	return usage();
}
