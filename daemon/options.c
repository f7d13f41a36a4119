// SPDX-License-Identifier: MIT
/*
 * uvfsd option parsing.  libfuse-style: -f, -d, -s, -o a,b=c; plus long
 * options, anywhere on the line (mount(8) puts -o after the arguments).
 * The generic mount(8) options become mount flags or are ignored, as the
 * kernel's mount treats them; -o options that uvfsd itself does not know
 * are passed to the backend, which rejects what it does not know either.
 */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "options.h"

void uvfsd_usage(FILE *out, const char *logfile)
{
	fputs("usage: uvfsd [options] BACKEND SOURCE MOUNTPOINT [options]\n"
	      "       uvfsd --bdev BLOCK_BACKEND SOURCE [-f] [-d] [-s] [-o OPT,...]\n"
	      "       uvfsd --remove /dev/uvbdN|N\n"
	      "       uvfsd BACKEND --help\n"
	      "\n"
	      "Serve the filesystem BACKEND (e.g. memfs, ext2) on SOURCE (an\n"
	      "image file, or 'none') at MOUNTPOINT.\n"
	      "\n"
	      "With --bdev, serve a block device /dev/uvbdN instead (needs\n"
	      "uvfs.ko): the block backend 'file' on the image file SOURCE, or\n"
	      "'mem' in RAM (SOURCE is then only a label: say none).  uvfsd\n"
	      "prints the device's path on stdout once it is usable, then\n"
	      "detaches (unless -f).  SIGTERM or SIGINT removes the device and\n"
	      "exits 0 once the backend has flushed its image; so does\n"
	      "`uvfsd --remove /dev/uvbdN` (root).  -o ro makes it read-only;\n"
	      "size=, blksize= and direct are the block backends' (see below).\n"
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
	      "       uid=N, gid=N (a number or a name), umask=OCTAL: show every\n"
	      "       file with this owner, group, permission bits (0777 & ~umask)\n"
	      "       instead of those stored; the kernel checks access against\n"
	      "       what it is shown (as libfuse's uid=, gid=, umask=);\n"
	      "       fakeroot: the backend sees every caller as root (new files\n"
	      "       belong to root), and the kernel stops checking permissions\n"
	      "       unless default_permissions is given too;\n"
	      "       nowriteback: over uvfs.ko, write(2) goes straight to the\n"
	      "       backend (default: through the page cache; writeback);\n"
	      "       the generic mount(8) options: nosuid/suid, nodev/dev (nosuid\n"
	      "       and nodev by default; suid, dev: root only), noexec/exec,\n"
	      "       noatime/atime, relatime, strictatime, nodiratime, lazytime,\n"
	      "       sync/async, dirsync; and, ignored as the kernel never sees\n"
	      "       them: defaults, auto, noauto, user, users, owner, group,\n"
	      "       nofail, _netdev, x-*, comment=, helper=;\n"
	      "       others go to the backend (see below).  Run as root, uvfsd\n"
	      "       mounts like the kernel mounts a filesystem: every user may\n"
	      "       use it, and the kernel checks permissions (allow_other and\n"
	      "       default_permissions); 'private' limits it to root.\n"
	      "  --transport=T          kmod, fuse or direct (default: kmod when\n"
	      "                         /dev/uvfs exists, else fuse); direct mounts\n"
	      "                         nothing: it walks SOURCE in-process and\n"
	      "                         prints the tree (MOUNTPOINT not needed)\n"
	      "  --stats                log per-operation counters at exit\n"
	      "  --list-backends        list the backends that can be loaded\n"
	      "  -h, --help             this help\n"
	      "  -V, --version          print the version\n"
	      "\n"
	      "Once mounted, uvfsd detaches (unless -f) and logs to syslog (the\n"
	      "journal) when /dev/log accepts connections, else appends to\n",
	      out);
	fprintf(out,
		"  %s\n"
		"(root: /run/uvfs/uvfsd.log; other users: $XDG_RUNTIME_DIR/uvfs/,\n"
		"else /run/user/UID/uvfs/, else /tmp/uvfs-UID/).\n",
		logfile);
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

/*
 * The generic mount(8) options: each maps to a mount flag the transport
 * sets, as the kernel's mount does (libmount passes them to mount helpers
 * by name).  nosuid and nodev are the transports' defaults.
 */
static const struct {
	const char *name;
	unsigned long flag;
	int on;
} generic_flags[] = {
	{ "nosuid", MS_NOSUID, 1 },	{ "suid", MS_NOSUID, 0 },
	{ "nodev", MS_NODEV, 1 },	{ "dev", MS_NODEV, 0 },
	{ "noexec", MS_NOEXEC, 1 },	{ "exec", MS_NOEXEC, 0 },
	{ "noatime", MS_NOATIME, 1 },	{ "atime", MS_NOATIME, 0 },
	{ "nodiratime", MS_NODIRATIME, 1 }, { "diratime", MS_NODIRATIME, 0 },
	{ "relatime", MS_RELATIME, 1 },	{ "norelatime", MS_RELATIME, 0 },
	{ "strictatime", MS_STRICTATIME, 1 },
	{ "nostrictatime", MS_STRICTATIME, 0 },
	{ "lazytime", MS_LAZYTIME, 1 },	{ "nolazytime", MS_LAZYTIME, 0 },
	{ "sync", MS_SYNCHRONOUS, 1 },	{ "async", MS_SYNCHRONOUS, 0 },
	{ "dirsync", MS_DIRSYNC, 1 },
};

/*
 * Options for mount(8) and fstab, not for the filesystem: accepted and
 * ignored, as the kernel never sees them either.  A trailing '=' matches
 * any value; "x-" any option that starts so.
 */
static const char *const ignored_opts[] = {
	"defaults", "auto", "noauto", "user", "users", "nouser", "owner",
	"group", "nofail", "_netdev", "user=", "helper=", "uhelper=",
	"comment=", "x-", "silent", "loud",
};

static int is_ignored(const char *p, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(ignored_opts) / sizeof(ignored_opts[0]); i++) {
		const char *ig = ignored_opts[i];
		size_t n = strlen(ig);
		int prefix = ig[n - 1] == '=' || !strcmp(ig, "x-");

		if (prefix ? len >= n && !strncmp(p, ig, n) :
			     len == n && !strncmp(p, ig, n))
			return 1;
	}
	return 0;
}

static int set_generic_flag(struct uvfsd_options *o, const char *p,
			    size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(generic_flags) / sizeof(generic_flags[0]);
	     i++) {
		if (len != strlen(generic_flags[i].name) ||
		    strncmp(p, generic_flags[i].name, len))
			continue;
		o->session.mnt_flags_mask |= generic_flags[i].flag;
		if (generic_flags[i].on)
			o->session.mnt_flags |= generic_flags[i].flag;
		else
			o->session.mnt_flags &= ~generic_flags[i].flag;
		/* the atime modes exclude each other, as in the kernel: the
		 * last one said wins */
		if (generic_flags[i].on &&
		    (generic_flags[i].flag &
		     (MS_NOATIME | MS_RELATIME | MS_STRICTATIME))) {
			unsigned long others = (MS_NOATIME | MS_RELATIME |
						MS_STRICTATIME) &
					       ~generic_flags[i].flag;

			o->session.mnt_flags &= ~others;
			o->session.mnt_flags_mask &= ~others;
		}
		return 1;
	}
	return 0;
}

/* uid=N / gid=N: a number, or a user or group name. */
static int parse_id(const char *what, const char *val, size_t len,
		    int is_gid, unsigned int *id, char *err, size_t errlen)
{
	char buf[256], *end;
	unsigned long n;

	if (len == 0 || len >= sizeof(buf))
		goto bad;
	memcpy(buf, val, len);
	buf[len] = '\0';
	errno = 0;
	n = strtoul(buf, &end, 10);
	if (buf[0] >= '0' && buf[0] <= '9') {
		if (*end || errno || n > 0xfffffffeUL)
			goto bad;
		*id = (unsigned int)n;
		return 0;
	}
	if (is_gid) {
		struct group *gr = getgrnam(buf);

		if (gr) {
			*id = (unsigned int)gr->gr_gid;
			return 0;
		}
	} else {
		struct passwd *pw = getpwnam(buf);

		if (pw) {
			*id = (unsigned int)pw->pw_uid;
			return 0;
		}
	}
	snprintf(err, errlen, "-o %s=%s: no such %s", what, buf,
		 is_gid ? "group" : "user");
	return -EINVAL;
bad:
	snprintf(err, errlen, "bad value for -o %s (a number or a name)", what);
	return -EINVAL;
}

/* umask=OCTAL, at most 0777. */
static int parse_umask(struct uvfsd_options *o, const char *val, size_t len,
		       char *err, size_t errlen)
{
	unsigned int m = 0;
	size_t i;

	for (i = 0; i < len && val[i] >= '0' && val[i] <= '7' && m <= 0777; i++)
		m = m * 8 + (unsigned int)(val[i] - '0');
	if (len == 0 || i < len || m > 0777) {
		snprintf(err, errlen, "bad value for -o umask (octal, 0 to 0777)");
		return -EINVAL;
	}
	o->session.umask = (mode_t)m;
	o->session.set_umask = 1;
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
			o->default_permissions = 1;
		else if (IS("no_default_permissions"))
			o->default_permissions = 0;
		else if (HAS("fsname="))
			ret = copy_value(o->fsname, sizeof(o->fsname),
					 "fsname", p + 7, len - 7, err,
					 errlen);
		else if (HAS("spin="))
			ret = parse_spin(o, p + 5, len - 5, err, errlen);
		else if (set_generic_flag(o, p, len) || is_ignored(p, len))
			;
		else if (IS("fakeroot"))
			o->session.fakeroot = 1;
		else if (IS("writeback"))
			o->session.nowriteback = 0;
		else if (IS("nowriteback"))
			o->session.nowriteback = 1;
		else if (HAS("uid=")) {
			unsigned int id;

			ret = parse_id("uid", p + 4, len - 4, 0, &id, err,
				       errlen);
			o->session.uid = (uid_t)id;
			o->session.set_uid = !ret;
		} else if (HAS("gid=")) {
			unsigned int id;

			ret = parse_id("gid", p + 4, len - 4, 1, &id, err,
				       errlen);
			o->session.gid = (gid_t)id;
			o->session.set_gid = !ret;
		} else if (HAS("umask="))
			ret = parse_umask(o, p + 6, len - 6, err, errlen);
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
	enum { OPT_TRANSPORT = 256, OPT_LIST, OPT_STATS, OPT_BDEV, OPT_REMOVE };
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "transport", required_argument, NULL, OPT_TRANSPORT },
		{ "list-backends", no_argument, NULL, OPT_LIST },
		{ "stats", no_argument, NULL, OPT_STATS },
		{ "bdev", required_argument, NULL, OPT_BDEV },
		{ "remove", required_argument, NULL, OPT_REMOVE },
		{ NULL, 0, NULL, 0 },
	};
	int c, npos, ret;

	memset(o, 0, sizeof(*o));
	o->default_permissions = -1;	/* not said: on unless fakeroot */
	o->session.spin_us = UVFSD_SPIN_DEFAULT;
	o->allow_other = -1;	/* not said: decided by who runs us */
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "fdso:hV", longopts, NULL)) != -1) {
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
			/* keep going: `uvfsd BACKEND --help` names a backend */
			o->action = UVFSD_HELP;
			break;
		case 'V':
			o->action = UVFSD_VERSION;
			return 0;
		case OPT_LIST:
			o->action = UVFSD_LIST_BACKENDS;
			return 0;
		case OPT_STATS:
			o->stats = 1;
			break;
		case OPT_BDEV:
			o->bdev = optarg;
			break;
		case OPT_REMOVE:
			o->action = UVFSD_REMOVE;
			o->remove = optarg;
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
	if (o->action == UVFSD_HELP) {
		o->backend = npos >= 1 ? argv[optind] : NULL;
		return 0;
	}
	if (o->action == UVFSD_REMOVE) {
		if (npos || o->bdev) {
			snprintf(err, errlen, "--remove takes one device and "
				 "nothing else (see uvfsd --help)");
			return -EINVAL;
		}
		return 0;
	}
	if (o->bdev) {
		if (o->transport != UVFSD_TRANSPORT_AUTO) {
			snprintf(err, errlen, "--bdev: block devices are served "
				 "through uvfs.ko only (no --transport)");
			return -EINVAL;
		}
		if (npos != 1) {
			snprintf(err, errlen, "%s (see uvfsd --help)",
				 npos < 1 ? "missing argument: need --bdev BACKEND SOURCE" :
					    "too many arguments: --bdev BACKEND SOURCE");
			return -EINVAL;
		}
		o->source = argv[optind];
		if (!o->source[0]) {
			snprintf(err, errlen, "empty SOURCE");
			return -EINVAL;
		}
		/* a device is not mounted: the mount(8) options mean nothing */
		if (o->session.mnt_flags_mask || o->allow_other >= 0 ||
		    o->default_permissions >= 0 || o->fsname[0] ||
		    o->subtype[0] || o->session.fakeroot) {
			snprintf(err, errlen, "--bdev: -o takes ro, size=, "
				 "blksize= and the block backend's options, not "
				 "mount options");
			return -EINVAL;
		}
		o->session.backend_opts = o->backend_opts[0] ? o->backend_opts :
							      NULL;
		return 0;
	}
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
	/*
	 * Our backends leave permission checks to the kernel.  fakeroot makes
	 * every caller root for the backend, so the kernel must not refuse
	 * what root could do: it stops checking unless told to.
	 */
	o->session.default_permissions = o->default_permissions < 0 ?
						 !o->session.fakeroot :
						 o->default_permissions;
	o->session.fsname = o->fsname[0] ? o->fsname : o->source;
	o->session.subtype = o->subtype[0] ? o->subtype : NULL;
	o->session.backend_opts = o->backend_opts[0] ? o->backend_opts : NULL;
	return 0;
}
