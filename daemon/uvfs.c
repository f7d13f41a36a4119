// SPDX-License-Identifier: MIT
/*
 * uvfs: small tools around uvfsd.
 *
 *   uvfs umount [-t SECONDS] [-l] MOUNTPOINT
 *	Unmount, then wait until the uvfsd that served MOUNTPOINT has flushed
 *	its backend and exited: when this returns 0, the image is consistent.
 *	(With FUSE, umount alone can return while the daemon still writes.)
 *	A mount whose daemon died is cleared the same way.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "uvfs/uvfs.h"
#include "mounts.h"

static void usage(FILE *out)
{
	fputs("usage: uvfs umount [-t SECONDS] [-l] MOUNTPOINT\n"
	      "  unmount a uvfsd mount and wait until the daemon has flushed\n"
	      "  and exited (default timeout 60 s; -l: detach even if busy);\n"
	      "  also clears a mount whose daemon is gone\n"
	      "       uvfs --version\n",
	      out);
}

static int cmd_umount(int argc, char **argv)
{
	unsigned long timeout = 60;
	int c, lazy = 0;
	char *end;

	while ((c = getopt(argc, argv, "t:lh")) != -1) {
		switch (c) {
		case 't':
			errno = 0;
			timeout = strtoul(optarg, &end, 10);
			if (*end || !optarg[0] || errno || timeout > 86400) {
				fprintf(stderr, "uvfs umount: bad timeout '%s' "
					"(seconds, at most 86400)\n", optarg);
				return 2;
			}
			break;
		case 'l':
			lazy = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			fprintf(stderr, "uvfs umount: unknown option '-%c' "
				"(try uvfs --help)\n", optopt);
			return 2;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "uvfs umount: need one MOUNTPOINT\n");
		return 2;
	}
	return uvfs_umount_wait("uvfs umount", argv[optind],
				(unsigned int)timeout, lazy);
}

int main(int argc, char **argv)
{
	opterr = 0;
	if (argc >= 2 && !strcmp(argv[1], "umount"))
		return cmd_umount(argc - 1, argv + 1);
	if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		usage(stdout);
		return 0;
	}
	if (argc >= 2 && (!strcmp(argv[1], "-V") ||
			  !strcmp(argv[1], "--version"))) {
		printf("uvfs %s (protocol %d.%d)\n", UVFS_VERSION,
		       UVFS_PROTO_MAJOR, UVFS_PROTO_MINOR);
		return 0;
	}
	fprintf(stderr, "uvfs: unknown command%s%s (try uvfs --help)\n",
		argc >= 2 ? " " : "", argc >= 2 ? argv[1] : "");
	return 2;
}
