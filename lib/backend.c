// SPDX-License-Identifier: MIT
/*
 * Finding, loading and checking backend plugins (uvfs-NAME.so).
 */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "uvfs_i.h"

/*
 * Where the plugins are, as CMake computed it: the build tree's bin and
 * backends directories, and the installed plugin directory relative to the
 * installed bin directory (BINDIR -> LIBDIR/uvfs), so that an install
 * staged under DESTDIR or moved as a whole finds its own plugins.
 */
#ifndef UVFS_BUILD_BIN_DIR
#error "UVFS_BUILD_BIN_DIR: the build tree's bin directory"
#endif
#ifndef UVFS_BUILD_PLUGIN_DIR
#error "UVFS_BUILD_PLUGIN_DIR: the build tree's backends directory"
#endif
#ifndef UVFS_PLUGIN_REL_DIR
#error "UVFS_PLUGIN_REL_DIR: the plugin directory relative to BINDIR"
#endif

#define MAX_DIRS 8

int uvfs_backend_check(const struct uvfs_backend *be, char *err,
		       size_t errlen)
{
	const char *why = NULL;

	if (!be)
		why = "no descriptor";
	else if (be->api_version != UVFS_BACKEND_API_VERSION)
		why = "built for another backend API version";
	else if (!be->name || !be->name[0])
		why = "descriptor has no name";
	else if (!be->ops || be->ops_size == 0 ||
		 be->ops_size > sizeof(struct uvfs_ops) ||
		 be->ops_size % sizeof(void (*)(void)))
		why = "descriptor has a bad ops table";
	if (!why)
		return 0;
	if (errlen)
		snprintf(err, errlen, "backend %s: %s",
			 be && be->name && be->name[0] ? be->name : "?", why);
	return -EINVAL;
}

int uvfs_blk_backend_check(const struct uvfs_blk_backend *be, char *err,
			   size_t errlen)
{
	const char *why = NULL;

	if (!be)
		why = "no descriptor";
	else if (be->api_version != UVFS_BLK_API_VERSION)
		why = "built for another block backend API version";
	else if (!be->name || !be->name[0])
		why = "descriptor has no name";
	else if (!be->ops || be->ops_size < sizeof(void (*)(void)) ||
		 be->ops_size > sizeof(struct uvfs_blk_ops) ||
		 be->ops_size % sizeof(void (*)(void)) || !be->ops->read)
		why = "descriptor has a bad ops table (read is required)";
	else if (!be->open)
		why = "descriptor has no open()";
	if (!why)
		return 0;
	if (errlen)
		snprintf(err, errlen, "block backend %s: %s",
			 be && be->name && be->name[0] ? be->name : "?", why);
	return -EINVAL;
}

static bool valid_name(const char *name)
{
	const char *p;

	if (!name[0] || strlen(name) > 64)
		return false;
	for (p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		      *p == '_' || *p == '-'))
			return false;
	return true;
}

/*
 * Where to look, in order: $UVFS_BACKEND_PATH, then one directory that
 * depends on where the running executable is.  A program run from the
 * build tree's bin directory uses the build's backends; any other one
 * (installed, staged under DESTDIR) uses the installed plugin directory
 * relative to its own directory, and never the build tree: an installed
 * uvfsd must not offer a backend that was only ever built.
 */
static int search_dirs(char dirs[MAX_DIRS][PATH_MAX])
{
	const char *env = getenv("UVFS_BACKEND_PATH");
	char exe[PATH_MAX], build_bin[PATH_MAX], *slash;
	int n = 0;
	ssize_t len;

	if (env && env[0]) {
		char *copy = strdup(env), *save = NULL, *tok;

		for (tok = copy ? strtok_r(copy, ":", &save) : NULL;
		     tok && n < MAX_DIRS - 1; tok = strtok_r(NULL, ":", &save))
			snprintf(dirs[n++], PATH_MAX, "%s", tok);
		free(copy);
	}
	/* /proc/self/exe is the resolved path: symlinks to it do not count */
	len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (len <= 0)
		return n;
	exe[len] = '\0';
	slash = strrchr(exe, '/');
	if (!slash)
		return n;
	*slash = '\0';
	/* the build directory may have been named through a symlink */
	if (!realpath(UVFS_BUILD_BIN_DIR, build_bin))
		snprintf(build_bin, sizeof(build_bin), "%s",
			 UVFS_BUILD_BIN_DIR);
	if (!strcmp(exe, build_bin))
		snprintf(dirs[n++], PATH_MAX, "%s", UVFS_BUILD_PLUGIN_DIR);
	else
		snprintf(dirs[n++], PATH_MAX, "%.*s/%s",
			 (int)(PATH_MAX - sizeof(UVFS_PLUGIN_REL_DIR) - 2),
			 exe, UVFS_PLUGIN_REL_DIR);
	return n;
}

/* The two kinds of plugin: file systems and block devices. */
struct plugin_kind {
	const char *prefix;	/* file name: PREFIX + NAME + ".so" */
	const char *symbol;	/* the descriptor's symbol */
	const char *what;	/* for messages */
};

static const struct plugin_kind fs_kind = { "uvfs-", UVFS_BACKEND_SYMBOL,
					    "backend" };
static const struct plugin_kind blk_kind = { "uvfs-blk-",
					     UVFS_BLK_BACKEND_SYMBOL,
					     "block backend" };

/*
 * dlopen the plugin NAME (or the path) of kind k; the address of its
 * descriptor pointer, or NULL with a reason in err.
 */
static const void *load_plugin(const struct plugin_kind *k, const char *name,
			       void **handle, char *err, size_t errlen)
{
	char dirs[MAX_DIRS][PATH_MAX];
	char path[PATH_MAX + 80];
	const void *sym;
	void *h = NULL;
	int i, n;

	*handle = NULL;
	if (strchr(name, '/')) {
		h = dlopen(name, RTLD_NOW | RTLD_LOCAL);
		if (!h) {
			snprintf(err, errlen, "cannot load %s %s: %s", k->what,
				 name, dlerror());
			return NULL;
		}
	} else {
		if (!valid_name(name)) {
			snprintf(err, errlen, "invalid %s name '%s'", k->what,
				 name);
			return NULL;
		}
		n = search_dirs(dirs);
		for (i = 0; i < n && !h; i++) {
			snprintf(path, sizeof(path), "%.*s/%s%s.so",
				 (int)strnlen(dirs[i], PATH_MAX - 1), dirs[i],
				 k->prefix, name);
			if (access(path, R_OK) == 0) {
				h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
				if (!h) {
					snprintf(err, errlen,
						 "cannot load %s %s: %s",
						 k->what, name, dlerror());
					return NULL;
				}
			}
		}
		if (!h) {
			snprintf(err, errlen, "unknown %s '%s' (%s)", k->what,
				 name, k == &fs_kind ? "try --list-backends" :
				 "uvfsd --help lists them");
			return NULL;
		}
	}
	sym = dlsym(h, k->symbol);
	if (!sym) {
		snprintf(err, errlen, "%s is not a uvfs %s", name, k->what);
		dlclose(h);
		return NULL;
	}
	*handle = h;
	return sym;
}

const struct uvfs_backend *uvfs_backend_load(const char *name, void **handle,
					     char *err, size_t errlen)
{
	const struct uvfs_backend *const *sym;

	sym = load_plugin(&fs_kind, name, handle, err, errlen);
	if (!sym)
		return NULL;
	if (uvfs_backend_check(*sym, err, errlen)) {
		dlclose(*handle);
		*handle = NULL;
		return NULL;
	}
	return *sym;
}

const struct uvfs_blk_backend *uvfs_blk_backend_load(const char *name,
						     void **handle, char *err,
						     size_t errlen)
{
	const struct uvfs_blk_backend *const *sym;

	sym = load_plugin(&blk_kind, name, handle, err, errlen);
	if (!sym)
		return NULL;
	if (uvfs_blk_backend_check(*sym, err, errlen)) {
		dlclose(*handle);
		*handle = NULL;
		return NULL;
	}
	return *sym;
}

void uvfs_backend_unload(void *handle)
{
	if (handle)
		dlclose(handle);
}

/* Print the names of kind k's plugins; a file system's never starts
 * with "blk-" (those are the block backends). */
static int list_plugins(const struct plugin_kind *k, FILE *out)
{
	char dirs[MAX_DIRS][PATH_MAX];
	char seen[32][72];
	int nseen = 0, n, i, j;

	n = search_dirs(dirs);
	for (i = 0; i < n; i++) {
		DIR *d = opendir(dirs[i]);
		struct dirent *de;

		if (!d)
			continue;
		while ((de = readdir(d))) {
			size_t len = strlen(de->d_name);
			char name[72];
			bool dup = false;

			size_t pre = strlen(k->prefix);

			if (len < pre + 4 || strncmp(de->d_name, k->prefix, pre) ||
			    strcmp(de->d_name + len - 3, ".so") || len > 70)
				continue;
			if (k == &fs_kind && !strncmp(de->d_name + pre, "blk-", 4))
				continue;
			snprintf(name, sizeof(name), "%.*s",
				 (int)(len - pre - 3), de->d_name + pre);
			for (j = 0; j < nseen; j++)
				dup |= !strcmp(seen[j], name);
			if (dup || nseen == 32)
				continue;
			strcpy(seen[nseen++], name);
			fprintf(out, "%s\n", name);
		}
		closedir(d);
	}
	return nseen;
}

int uvfs_backend_list(FILE *out)
{
	return list_plugins(&fs_kind, out);
}

int uvfs_blk_backend_list(FILE *out)
{
	return list_plugins(&blk_kind, out);
}
