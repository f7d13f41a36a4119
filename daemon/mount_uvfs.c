// SPDX-License-Identifier: MIT
/*
 * mount.uvfs / umount.uvfs: the helpers mount(8) and umount(8) run for
 * uvfs filesystems, so that `mount -t uvfs.ext2 disk.img /mnt`, fstab lines
 * and `umount /mnt` work as for a kernel filesystem.
 *
 *   mount.uvfs[.BACKEND] SOURCE DIR [-sfnv] [-N NS] [-o OPTS] [-t TYPE]
 *	The backend comes from -t uvfs.BACKEND, from the program's name
 *	(mount.uvfs.BACKEND, a symlink), from -o backend=NAME or from a
 *	SOURCE written BACKEND#SOURCE (mount.fuse's way; -t fuse.uvfs).  It
 *	runs uvfsd (next to this program, else in ../bin or ../sbin, else in
 *	PATH), which returns once the mount is up, and records helper=uvfs for
 *	the mount in /run/mount/utab, so that umount(8) runs umount.uvfs.
 *
 *   umount.uvfs DIR [-flnrv] [-N NS] [-t TYPE]
 *	Unmount and wait until the uvfsd that served DIR has flushed and
 *	exited, as `uvfs umount` does.
 *
 * A user's `user` mount from fstab cannot write utab (mount(8) runs us
 * with the user's ids): give such fstab lines a helper=uvfs option, which
 * mount(8) itself keeps in utab.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#ifdef HAVE_LIBMOUNT
#include <libmount.h>
#endif

#include "mounts.h"

#define PROG "mount.uvfs"

/* mount(8)'s exit codes */
#define EX_USAGE_ 1
#define EX_FAIL 32

static int fail(int code, const char *fmt, const char *arg)
{
	fprintf(stderr, PROG ": ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	return code;
}

/* uvfsd next to us (by our resolved path), else in PATH. */
static void find_uvfsd(char *path, size_t len)
{
	static const char *const rel[] = { "uvfsd", "../bin/uvfsd",
					   "../sbin/uvfsd" };
	char self[PATH_MAX], *slash;
	ssize_t n;
	size_t i;

	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			for (i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
				snprintf(path, len, "%s/%s", self, rel[i]);
				if (access(path, X_OK) == 0)
					return;
			}
		}
	}
	snprintf(path, len, "uvfsd");	/* execvp searches PATH */
}

/* Take backend=NAME out of opts (in place) into name (empty if none). */
static void take_backend_opt(char *opts, char *name, size_t len)
{
	char *p = opts;

	name[0] = '\0';
	while (*p) {
		char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		char *next = end ? end + 1 : p + n;

		if (n > 8 && !strncmp(p, "backend=", 8)) {
			snprintf(name, len, "%.*s", (int)(n - 8), p + 8);
			memmove(p, next, strlen(next) + 1);
			continue;
		}
		p = next;
	}
	if (p > opts && p[-1] == ',')
		p[-1] = '\0';
}

#ifdef HAVE_LIBMOUNT
/*
 * Record helper=uvfs in utab so that umount(8) runs umount.uvfs (which
 * waits for the daemon) instead of unmounting by itself: the fstype it
 * sees is fuse.ext4 or uvfs.ext4, for which there is no helper (it would
 * look for umount.fuse.ext4, then umount.fuse).
 * mount(8) finds the entry there and does not write its own.
 */
static void record_helper(const char *target, const struct uvfs_mounted *m,
			  const char *opts)
{
	struct libmnt_update *upd = mnt_new_update();
	struct libmnt_fs *fs = mnt_new_fs();
	char *o = NULL;

	if (!upd || !fs)
		goto out;
	if (asprintf(&o, "%s%shelper=uvfs", opts, opts[0] ? "," : "") < 0) {
		o = NULL;
		goto out;
	}
	/* umount(8) merges our entry by source, target and root */
	if (mnt_fs_set_source(fs, m->source) || mnt_fs_set_target(fs, target) ||
	    mnt_fs_set_fstype(fs, m->fstype) || mnt_fs_set_options(fs, o))
		goto out;
	if (mnt_update_set_fs(upd, 0, NULL, fs) == 0)
		mnt_update_table(upd, NULL);
out:
	free(o);
	mnt_free_fs(fs);
	mnt_free_update(upd);
}
#endif

static int umount_main(int argc, char **argv)
{
	int c, lazy = 0;

	opterr = 0;
	while ((c = getopt(argc, argv, "flnrvN:t:")) != -1) {
		switch (c) {
		case 'l':
			lazy = 1;
			break;
		case 'N':
			fprintf(stderr, "umount.uvfs: -N is not supported\n");
			return EX_USAGE_;
		case '?':
			fprintf(stderr, "umount.uvfs: unknown option '-%c'\n",
				optopt);
			return EX_USAGE_;
		default:	/* -f, -n, -r, -v, -t: nothing to do */
			break;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "umount.uvfs: usage: umount.uvfs DIR [-flnrv] "
			"[-t TYPE]\n");
		return EX_USAGE_;
	}
	return uvfs_umount_wait("umount.uvfs", argv[optind], 60, lazy) ?
		       EX_FAIL : 0;
}

int main(int argc, char **argv)
{
	const char *me = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 :
						 argv[0];
	char opts[4096] = "", backend[64] = "", uvfsd[PATH_MAX + 16];
	char source[PATH_MAX], target[PATH_MAX], optbackend[64];
	const char *type = NULL, *hash;
	int c, fake = 0, nomtab = 0, verbose = 0, fuse = 0, status;
	const char *args[16];
	int n = 0;
	pid_t pid;

	if (!strncmp(me, "umount.", 7))
		return umount_main(argc, argv);
	opterr = 0;
	while ((c = getopt(argc, argv, "sfnvhN:o:t:")) != -1) {
		switch (c) {
		case 'f':
			fake = 1;
			break;
		case 'n':
			nomtab = 1;
			break;
		case 'v':
			verbose = 1;
			break;
		case 's':	/* sloppy: uvfsd passes what it does not know on */
			break;
		case 'o':
			if (snprintf(opts + strlen(opts),
				     sizeof(opts) - strlen(opts), "%s%s",
				     opts[0] ? "," : "", optarg) >=
			    (int)(sizeof(opts) - strlen(opts)))
				return fail(EX_USAGE_, "%s", "options too long");
			break;
		case 't':
			type = optarg;
			break;
		case 'h':
			printf("usage: mount.uvfs[.BACKEND] SOURCE DIR [-sfnv] "
			       "[-o OPTS] [-t uvfs.BACKEND|fuse.uvfs]\n"
			       "  run by mount(8): mount -t uvfs.ext2 disk.img "
			       "/mnt; options as for uvfsd (uvfsd --help)\n");
			return 0;
		case 'N':
			return fail(EX_USAGE_, "%s", "-N is not supported");
		default:
			return fail(EX_USAGE_, "unknown option '%s'",
				    argv[optind - 1]);
		}
	}
	if (argc - optind != 2)
		return fail(EX_USAGE_, "%s",
			    "usage: mount.uvfs SOURCE DIR [-o OPTS] [-t TYPE]");
	snprintf(source, sizeof(source), "%s", argv[optind]);

	/* the backend: -t, our name, -o backend=, or BACKEND#SOURCE */
	if (!type && !strncmp(me, "mount.", 6))
		type = me + 6;
	if (type && !strncmp(type, "fuse.", 5)) {
		fuse = 1;
		type += 5;
	}
	if (type && !strncmp(type, "uvfs.", 5))
		snprintf(backend, sizeof(backend), "%s", type + 5);
	else if (type && strcmp(type, "uvfs"))
		return fail(EX_USAGE_, "type '%s' is not uvfs.BACKEND or "
			    "fuse.uvfs", type);
	take_backend_opt(opts, optbackend, sizeof(optbackend));
	if (!backend[0])
		snprintf(backend, sizeof(backend), "%s", optbackend);
	hash = strchr(source, '#');
	if (hash && !backend[0] && hash > source &&
	    (size_t)(hash - source) < sizeof(backend)) {
		memcpy(backend, source, (size_t)(hash - source));
		backend[hash - source] = '\0';
		memmove(source, hash + 1, strlen(hash + 1) + 1);
	}
	if (!backend[0])
		return fail(EX_USAGE_, "%s",
			    "no backend: use -t uvfs.BACKEND, -o backend=NAME "
			    "or BACKEND#SOURCE");
	if (!realpath(argv[optind + 1], target))
		return fail(EX_FAIL, "mount point %s does not exist",
			    argv[optind + 1]);

	find_uvfsd(uvfsd, sizeof(uvfsd));
	args[n++] = uvfsd;
	if (fuse)
		args[n++] = "--transport=fuse";
	if (opts[0]) {
		args[n++] = "-o";
		args[n++] = opts;
	}
	args[n++] = backend;
	args[n++] = source;
	args[n++] = target;
	args[n] = NULL;
	if (verbose) {
		int i;

		fprintf(stderr, PROG ":");
		for (i = 0; i < n; i++)
			fprintf(stderr, " %s", args[i]);
		fputc('\n', stderr);
	}
	if (fake)
		return 0;
	pid = fork();
	if (pid < 0)
		return fail(EX_FAIL, "fork: %s", strerror(errno));
	if (pid == 0) {
		execvp(args[0], (char *const *)args);
		fprintf(stderr, PROG ": cannot run %s: %s\n", args[0],
			strerror(errno));
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0)
		return fail(EX_FAIL, "waitpid: %s", strerror(errno));
	/* uvfsd said why on stderr; mount(8) wants 1 for usage, 32 else */
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return WIFEXITED(status) && WEXITSTATUS(status) == 2 ?
			       EX_USAGE_ : EX_FAIL;
#ifdef HAVE_LIBMOUNT
	if (!nomtab && geteuid() == 0) {
		struct uvfs_mounted m;

		if (uvfs_mounted_at(target, &m))
			record_helper(target, &m, opts);
	}
#else
	(void)nomtab;
#endif
	return 0;
}
