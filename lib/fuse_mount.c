// SPDX-License-Identifier: MIT
/*
 * The FUSE transport's public API: uvfs_fuse_mount() turns the session's
 * options into libfuse's mount options, creates the fuse_session with the
 * callbacks of fuse_request.c and makes the session use the transport ops of
 * fuse_reply.c; uvfs_fuse_loop() serves the mount until it ends (libfuse's
 * single-threaded loop, or fuse_loop.c's workers); uvfs_fuse_free()
 * unmounts and frees.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "fuse_i.h"

#include <fuse_opt.h>

#define FUSE_MAX_THREADS 16	/* requests waiting for I/O at once */

static int add_opt(char **opts, const char *key, const char *value)
{
	char *kv;
	int ret;

	if (!value)
		return fuse_opt_add_opt(opts, key);
	/* escape ',' and '\' in the value: libfuse splits -o on commas */
	{
		size_t n = strlen(key) + 2 * strlen(value) + 2;
		char *q;
		const char *p;

		kv = malloc(n);
		if (!kv)
			return -1;
		q = kv + sprintf(kv, "%s=", key);
		for (p = value; *p; p++) {
			if (*p == ',' || *p == '\\')
				*q++ = '\\';
			*q++ = *p;
		}
		*q = '\0';
	}
	ret = fuse_opt_add_opt(opts, kv);
	free(kv);
	return ret;
}

/*
 * The generic mount flags the user chose (uvfs_session_opts.mnt_flags),
 * as the option names libfuse's mount and fusermount3 take.  libfuse 3.14
 * knows no relatime, strictatime, nodiratime, diratime or lazytime:
 * relatime and diratime are what a FUSE mount does anyway; the others are
 * ignored with a warning.
 */
static int add_mnt_flags(char **opts, const struct uvfs_session_opts *o)
{
	static const struct {
		unsigned long flag;
		const char *on, *off;
		bool unsupported;	/* "on" cannot be had over FUSE */
	} map[] = {
		{ MS_NOSUID, "nosuid", "suid", false },
		{ MS_NODEV, "nodev", "dev", false },
		{ MS_NOEXEC, "noexec", "exec", false },
		{ MS_NOATIME, "noatime", "atime", false },
		{ MS_SYNCHRONOUS, "sync", "async", false },
		{ MS_DIRSYNC, "dirsync", NULL, false },
		{ MS_RELATIME, NULL, NULL, false },
		{ MS_NODIRATIME, "nodiratime", NULL, true },
		{ MS_STRICTATIME, "strictatime", NULL, true },
		{ MS_LAZYTIME, "lazytime", NULL, true },
	};
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		bool on = o->mnt_flags & map[i].flag;
		const char *name = on ? map[i].on : map[i].off;

		if (!(o->mnt_flags_mask & map[i].flag) || !name)
			continue;
		if (on && map[i].unsupported) {
			uvfs_log_prio(LOG_WARNING,
				      "uvfs: fuse: -o %s is not available over "
				      "FUSE; ignored", name);
			continue;
		}
		if (add_opt(opts, name, NULL))
			return -1;
	}
	return 0;
}

int uvfs_fuse_mount(struct uvfs_session *se, const char *mountpoint,
		    struct uvfs_fuse **out, char *err, size_t errlen)
{
	const struct uvfs_session_opts *o = &se->opts;
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	struct uvfs_fuse *f;
	char *opts = NULL;
	struct stat st;
	int ret, fd;

	*out = NULL;
	if (errlen)
		err[0] = '\0';
	if (!se->backend) {
		snprintf(err, errlen, "a block backend has nothing to mount");
		return -EINVAL;
	}
	if (stat(mountpoint, &st) < 0) {
		ret = -errno;
		snprintf(err, errlen, "mountpoint %s: %s", mountpoint,
			 strerror(-ret));
		return ret;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "mountpoint %s: not a directory",
			 mountpoint);
		return -ENOTDIR;
	}
	fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "cannot open /dev/fuse: %s",
			 strerror(-ret));
		return ret;
	}
	close(fd);

	f = calloc(1, sizeof(*f));
	if (!f)
		goto nomem;
	f->se = se;
	atomic_init(&f->next_unique, 1);
	f->mountpoint = strdup(mountpoint);
	if (!f->mountpoint)
		goto nomem;

	if (add_opt(&opts, "fsname",
		    o->fsname ? o->fsname : se->backend->name) ||
	    add_opt(&opts, "subtype",
		    o->subtype ? o->subtype : se->backend->name) ||
	    (o->readonly && add_opt(&opts, "ro", NULL)) ||
	    add_mnt_flags(&opts, o) ||
	    (o->allow_other && add_opt(&opts, "allow_other", NULL)) ||
	    (o->default_permissions &&
	     add_opt(&opts, "default_permissions", NULL)))
		goto nomem;
	if (fuse_opt_add_arg(&args, "uvfsd") || fuse_opt_add_arg(&args, "-o") ||
	    fuse_opt_add_arg(&args, opts))
		goto nomem;

	/* Requests may arrive as soon as the session is mounted. */
	se->tp = &uvfs_fuse_transport;
	se->tp_priv = f;
	f->fs = fuse_session_new(&args, &uvfs_fuse_ll_ops,
				 sizeof(uvfs_fuse_ll_ops), f);
	if (!f->fs) {
		snprintf(err, errlen, "libfuse rejected the mount options (%s)",
			 opts);
		ret = -EINVAL;
		goto fail;
	}
	errno = 0;
	if (fuse_session_mount(f->fs, mountpoint) != 0) {
		ret = errno ? -errno : -EIO;
		snprintf(err, errlen, "cannot mount FUSE filesystem on %s%s%s",
			 mountpoint, errno ? ": " : "",
			 errno ? strerror(errno) : "");
		goto fail;
	}
	f->mounted = true;
	fuse_opt_free_args(&args);
	free(opts);
	*out = f;
	return 0;

nomem:
	ret = -ENOMEM;
	snprintf(err, errlen, "out of memory");
fail:
	if (f && f->fs)
		fuse_session_destroy(f->fs);
	if (se->tp == &uvfs_fuse_transport) {
		se->tp = NULL;
		se->tp_priv = NULL;
	}
	fuse_opt_free_args(&args);
	free(opts);
	if (f)
		free(f->mountpoint);
	free(f);
	return ret;
}

int uvfs_fuse_loop(struct uvfs_fuse *f)
{
	int ret;

	if (fuse_set_signal_handlers(f->fs) != 0)
		return -EIO;
	if (f->se->opts.single_thread)
		ret = fuse_session_loop(f->fs);
	else
		ret = uvfs_fuse_serve(f->fs, FUSE_MAX_THREADS,
				      f->se->opts.spin_us);
	fuse_remove_signal_handlers(f->fs);
	/* > 0: the signal that ended the loop; that's a normal exit */
	return ret < 0 ? ret : 0;
}

void uvfs_fuse_free(struct uvfs_fuse *f)
{
	if (!f)
		return;
	if (f->mounted)
		fuse_session_unmount(f->fs);
	f->mounted = false;
	fuse_session_destroy(f->fs);
	if (f->se->tp == &uvfs_fuse_transport && f->se->tp_priv == f) {
		f->se->tp = NULL;
		f->se->tp_priv = NULL;
	}
	free(f->mountpoint);
	free(f);
}
