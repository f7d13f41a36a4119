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
 *	together (started at once, the next only when all are done), so each
 *	phase's wall time covers all of them.  Prints "create SEC",
 *	"stat SEC", "unlink SEC".
 *
 * Exit status: 0, 1 when an operation failed (the failing path and the
 * error on stderr), 2 for a usage error.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { PH_CREATE, PH_STAT, PH_UNLINK, PH_MAX };
static const char *const phase_name[PH_MAX] = { "create", "stat", "unlink" };

/*
 * The phase handshake of "meta": the parent writes one byte per worker to
 * the go pipe to start a phase; each worker reads one (so it runs each
 * phase once), does the phase and writes one byte (0 ok, 1 failed) to the
 * done pipe.  The next phase's bytes are written only after every worker's
 * done byte came back, so no worker starts a phase early.
 */
struct handshake {
	int go[2];
	int done[2];
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

/* A worker: every phase when told; after a failure it only answers. */
static void meta_worker(struct handshake *hs, const char *dir, long n)
{
	char c, bad = 0;
	int ph;

	close(hs->go[1]);
	close(hs->done[0]);
	for (ph = 0; ph < PH_MAX; ph++) {
		if (read(hs->go[0], &c, 1) != 1)
			_exit(1);
		if (!bad && meta_phase(ph, dir, n) < 0)
			bad = 1;
		if (write(hs->done[1], &bad, 1) != 1)
			_exit(1);
	}
	_exit(bad);
}

/* Start phase ph in every worker, wait for all; -1 when one failed. */
static int meta_step(struct handshake *hs, int nworkers)
{
	char c = 0;
	int i, ret = 0;

	for (i = 0; i < nworkers; i++)
		if (write(hs->go[1], &c, 1) != 1)
			return -1;
	for (i = 0; i < nworkers; i++) {
		if (read(hs->done[0], &c, 1) != 1)
			return -1;
		if (c)
			ret = -1;
	}
	return ret;
}

static int meta(long n, char **dirs, int ndirs)
{
	struct handshake hs;
	double t[PH_MAX], t0;
	int i, ph, status, started = 0, ret = 1;
	pid_t pid;

	if (pipe(hs.go) < 0) {
		perror("opbench: pipe");
		return 1;
	}
	if (pipe(hs.done) < 0) {
		perror("opbench: pipe");
		goto out_go;
	}
	for (i = 0; i < ndirs; i++) {
		pid = fork();
		if (pid < 0) {
			perror("opbench: fork");
			goto out_reap;
		}
		if (!pid)
			meta_worker(&hs, dirs[i], n);
		started++;
	}
	for (ph = 0; ph < PH_MAX; ph++) {
		t0 = now();
		if (meta_step(&hs, ndirs) < 0)
			goto out_reap;
		t[ph] = now() - t0;
	}
	ret = 0;
out_reap:
	/* closing the go pipe ends a worker still waiting for a phase */
	close(hs.go[1]);
	hs.go[1] = -1;
	for (i = 0; i < started; i++) {
		if (wait(&status) < 0 || !WIFEXITED(status) ||
		    WEXITSTATUS(status))
			ret = 1;
	}
	if (!ret)
		for (ph = 0; ph < PH_MAX; ph++)
			printf("%s %.6f\n", phase_name[ph], t[ph]);
	close(hs.done[0]);
	close(hs.done[1]);
out_go:
	close(hs.go[0]);
	if (hs.go[1] >= 0)
		close(hs.go[1]);
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
