// SPDX-License-Identifier: MIT
/*
 * metabench DIR [N=10000]: create N empty files in DIR, stat each, unlink
 * each; prints "create SEC\nstat SEC\nunlink SEC" (wall clock, seconds).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	char path[4096];
	struct stat st;
	double t;
	long i, n;
	int fd;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: metabench DIR [N]\n");
		return 2;
	}
	n = argc > 2 ? atol(argv[2]) : 10000;
	t = now();
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/f%06ld", argv[1], i);
		fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0644);
		if (fd < 0 || close(fd) < 0) {
			perror(path);
			return 1;
		}
	}
	printf("create %.6f\n", now() - t);
	t = now();
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/f%06ld", argv[1], i);
		if (stat(path, &st) < 0 || st.st_size != 0) {
			perror(path);
			return 1;
		}
	}
	printf("stat %.6f\n", now() - t);
	t = now();
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/f%06ld", argv[1], i);
		if (unlink(path) < 0) {
			perror(path);
			return 1;
		}
	}
	printf("unlink %.6f\n", now() - t);
	return 0;
}
