// SPDX-License-Identifier: MIT
/*
 * uvfsd option parsing.  libfuse-style: -f, -d, -s, -o a,b=c; plus long
 * options.  -o options that uvfsd itself does not know are passed to the
 * backend, which rejects what it does not know either.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "options.h"

void uvfsd_usage(FILE *out)
{
	fputs("usage: uvfsd [options] BACKEND SOURCE MOUNTPOINT\n"
	      "\n"
	      "Serve the filesystem BACKEND (e.g. memfs, ext2) on SOURCE (an\n"
	      "image file, or 'none') at MOUNTPOINT.\n"
	      "\n"
	      "options:\n"
	      "  -f                     stay in the foreground\n"
	      "  -d                     trace every operation to stderr (implies -f)\n"
	      "  -s                     serve with a single thread\n"
	      "  -o OPT[,OPT...]        mount options:\n"
	      "       ro, rw, allow_other, private, default_permissions,\n"
	      "       no_default_permissions, fsname=NAME, subtype=NAME,\n"
	      "       spin=USEC (after a request, poll that long for the next\n"
	      "       before sleeping; default 20, 0: sleep at once);\n"
	      "       others go to the backend.  Run as root, uvfsd mounts\n"
	      "       like the kernel mounts a filesystem: every user may use\n"
	      "       it, and the kernel checks permissions (allow_other and\n"
	      "       default_permissions); 'private' limits it to root.\n"
	      "  --transport=T          kmod, fuse or direct (default: kmod when\n"
	      "                         /dev/uvfs exists, else fuse); direct mounts\n"
	      "                         nothing: it walks SOURCE in-process and\n"
	      "                         prints the tree (MOUNTPOINT not needed)\n"
	      "  --stats                print per-operation counters at exit\n"
	      "  --list-backends        list the backends that can be loaded\n"
	      "  -h, --help             this help\n"
	      "  -V, --version          print the version\n",
	      out);
}

static int add_backend_opt(struct uvfsd_options *o, const char *opt,
			   size_t len, char *err, size_t errlen)
{
	size_t used = strlen(o->backend_opts);

	if (used + len + 2 > sizeof(o->backend_opts)) {
		snprintf(err, errlen, "-o options too long");
		return -EINVAL;
	}
	if (used)
		o->backend_opts[used++] = ',';
	memcpy(o->backend_opts + used, opt, len);
	o->backend_opts[used + len] = '\0';
	return 0;
}

static int copy_value(char *dst, size_t dstlen, const char *what,
		      const char *val, size_t len, char *err, size_t errlen)
{
	if (len == 0 || len >= dstlen) {
		snprintf(err, errlen, "bad value for -o %s", what);
		return -EINVAL;
	}
	memcpy(dst, val, len);
	dst[len] = '\0';
	return 0;
}

/* -o spin=USEC: 0 to UVFSD_SPIN_MAX microseconds. */
static int parse_spin(struct uvfsd_options *o, const char *val, size_t len,
		      char *err, size_t errlen)
{
	unsigned int us = 0;
	size_t i;

	for (i = 0; i < len && val[i] >= '0' && val[i] <= '9' &&
		    us <= UVFSD_SPIN_MAX; i++)
		us = us * 10 + (unsigned int)(val[i] - '0');
	if (len == 0 || i < len || us > UVFSD_SPIN_MAX) {
		snprintf(err, errlen, "bad value for -o spin (0 to %u "
			 "microseconds)", UVFSD_SPIN_MAX);
		return -EINVAL;
	}
	o->session.spin_us = us;
	return 0;
}

/* One comma-separated -o list. */
static int parse_mount_opts(struct uvfsd_options *o, const char *list,
			    char *err, size_t errlen)
{
	const char *p = list;

	while (*p) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		int ret = 0;

#define IS(s) (len == strlen(s) && !strncmp(p, s, len))
#define HAS(s) (len >= strlen(s) && !strncmp(p, s, strlen(s)))
		if (len == 0)
			;
		else if (IS("ro"))
			o->session.readonly = 1;
		else if (IS("rw"))
			o->session.readonly = 0;
		else if (IS("allow_other"))
			o->allow_other = 1;
		else if (IS("private"))
			o->allow_other = 0;
		else if (IS("default_permissions"))
			o->session.default_permissions = 1;
		else if (IS("no_default_permissions"))
			o->session.default_permissions = 0;
		else if (HAS("fsname="))
			ret = copy_value(o->fsname, sizeof(o->fsname),
					 "fsname", p + 7, len - 7, err,
					 errlen);
		else if (HAS("spin="))
			ret = parse_spin(o, p + 5, len - 5, err, errlen);
		else if (HAS("subtype="))
			ret = copy_value(o->subtype, sizeof(o->subtype),
					 "subtype", p + 8, len - 8, err,
					 errlen);
		else
			ret = add_backend_opt(o, p, len, err, errlen);
#undef IS
#undef HAS
		if (ret)
			return ret;
		p += len;
		if (*p == ',')
			p++;
	}
	return 0;
}

int uvfsd_parse_options(int argc, char **argv, struct uvfsd_options *o,
			char *err, size_t errlen)
{
	enum { OPT_TRANSPORT = 256, OPT_LIST, OPT_STATS };
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "transport", required_argument, NULL, OPT_TRANSPORT },
		{ "list-backends", no_argument, NULL, OPT_LIST },
		{ "stats", no_argument, NULL, OPT_STATS },
		{ NULL, 0, NULL, 0 },
	};
	int c, npos, ret;

	memset(o, 0, sizeof(*o));
	/* Our backends leave permission checks to the kernel. */
	o->session.default_permissions = 1;
	o->session.spin_us = UVFSD_SPIN_DEFAULT;
	o->allow_other = -1;	/* not said: decided by who runs us */
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+fdso:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			o->foreground = 1;
			break;
		case 'd':
			o->foreground = 1;
			o->session.debug = 1;
			break;
		case 's':
			o->session.single_thread = 1;
			break;
		case 'o':
			ret = parse_mount_opts(o, optarg, err, errlen);
			if (ret)
				return ret;
			break;
		case 'h':
			o->action = UVFSD_HELP;
			return 0;
		case 'V':
			o->action = UVFSD_VERSION;
			return 0;
		case OPT_LIST:
			o->action = UVFSD_LIST_BACKENDS;
			return 0;
		case OPT_STATS:
			o->stats = 1;
			break;
		case OPT_TRANSPORT:
			if (!strcmp(optarg, "fuse"))
				o->transport = UVFSD_TRANSPORT_FUSE;
			else if (!strcmp(optarg, "kmod"))
				o->transport = UVFSD_TRANSPORT_KMOD;
			else if (!strcmp(optarg, "direct"))
				o->transport = UVFSD_TRANSPORT_DIRECT;
			else {
				snprintf(err, errlen,
					 "unknown transport '%s' (kmod, fuse or direct)",
					 optarg);
				return -EINVAL;
			}
			break;
		case ':':
			snprintf(err, errlen, "option '%s' needs a value",
				 argv[optind - 1]);
			return -EINVAL;
		default:
			if (optopt && optopt != '?')
				snprintf(err, errlen, "unknown option '-%c'",
					 optopt);
			else
				snprintf(err, errlen, "unknown option '%s'",
					 argv[optind - 1]);
			return -EINVAL;
		}
	}
	npos = argc - optind;
	if (o->transport == UVFSD_TRANSPORT_DIRECT ? (npos < 2 || npos > 3) :
						     npos != 3) {
		snprintf(err, errlen, "%s (see uvfsd --help)",
			 npos < 3 ? "missing arguments: need BACKEND SOURCE MOUNTPOINT" :
				    "too many arguments");
		return -EINVAL;
	}
	o->backend = argv[optind];
	o->source = argv[optind + 1];
	o->mountpoint = npos == 3 ? argv[optind + 2] : NULL;
	if (!o->source[0] || (o->mountpoint && !o->mountpoint[0])) {
		snprintf(err, errlen, "empty SOURCE or MOUNTPOINT");
		return -EINVAL;
	}
	o->session.allow_other = o->allow_other < 0 ? geteuid() == 0 :
						      o->allow_other;
	o->session.fsname = o->fsname[0] ? o->fsname : o->source;
	o->session.subtype = o->subtype[0] ? o->subtype : NULL;
	o->session.backend_opts = o->backend_opts[0] ? o->backend_opts : NULL;
	return 0;
}
