// SPDX-License-Identifier: MIT
/*
 * Backend descriptors: uvfs_backend_check() and uvfs_backend_load() refuse
 * a wrong API version, a bad ops_size, a missing name, a missing ops table
 * and a .so without the descriptor symbol, each with a one-line reason,
 * and no session is made of them.  An older backend's shorter ops table is
 * accepted: the ops past its ops_size are never read.  The .so files are
 * built from testbe.c into TESTBE_DIR.
 *
 * Where backends are searched: a program in the build tree's bin directory
 * finds the build's backends; the same program copied elsewhere (as an
 * install puts it) finds only those in <its dir>/UVFS_PLUGIN_REL_DIR,
 * never the build tree's; $UVFS_BACKEND_PATH comes first for both.  This
 * binary, run as "test_backend --list-backends", lists what it finds.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "uvfs/libuvfs.h"
#include "check_run.h"

#ifndef TESTBE_DIR
#error "TESTBE_DIR: where the test backends are built"
#endif
#ifndef UVFS_PLUGIN_REL_DIR
#error "UVFS_PLUGIN_REL_DIR: the installed plugin dir relative to BINDIR"
#endif

#define OPS_SIZE ((uint32_t)sizeof(struct uvfs_ops))

static char err[256];

static void getattr_exdev(struct uvfs_req *req, uint64_t ino,
			  struct uvfs_file_info *fi)
{
	uvfs_reply_err(req, -EXDEV);
}

static void lseek_enxio(struct uvfs_req *req, uint64_t ino, off_t off,
			int whence, struct uvfs_file_info *fi)
{
	uvfs_reply_err(req, -ENXIO);
}

static const struct uvfs_ops ops = {
	.getattr = getattr_exdev,
	.lseek = lseek_enxio,
};

/* Descriptors with one defect each, and the reason they are refused. */
static const struct {
	struct uvfs_backend be;
	const char *msg;
} bad[] = {
	{ { 0, OPS_SIZE, "v0", NULL, &ops, NULL, NULL },
	  "backend v0: built for another backend API version" },
	{ { UVFS_BACKEND_API_VERSION + 1, OPS_SIZE, "vnext", NULL, &ops,
	    NULL, NULL },
	  "backend vnext: built for another backend API version" },
	{ { UVFS_BACKEND_API_VERSION, 0, "zero", NULL, &ops, NULL, NULL },
	  "backend zero: descriptor has a bad ops table" },
	/* not a whole number of op pointers */
	{ { UVFS_BACKEND_API_VERSION, OPS_SIZE - 4, "odd", NULL, &ops, NULL,
	    NULL },
	  "backend odd: descriptor has a bad ops table" },
	/* from a newer uvfs.h: ops this library would not know to call */
	{ { UVFS_BACKEND_API_VERSION, OPS_SIZE + 8, "big", NULL, &ops, NULL,
	    NULL },
	  "backend big: descriptor has a bad ops table" },
	{ { UVFS_BACKEND_API_VERSION, OPS_SIZE, "noops", NULL, NULL, NULL,
	    NULL },
	  "backend noops: descriptor has a bad ops table" },
	{ { UVFS_BACKEND_API_VERSION, OPS_SIZE, NULL, NULL, &ops, NULL, NULL },
	  "backend ?: descriptor has no name" },
};

START_TEST(test_check_refuses)
{
	const struct uvfs_backend *be = &bad[_i].be;

	memset(err, 0, sizeof(err));
	ck_assert_int_eq(uvfs_backend_check(be, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, bad[_i].msg);
	/* a session is never made of it */
	ck_assert_ptr_null(uvfs_session_new(be, NULL));
}
END_TEST

START_TEST(test_check_edge_cases)
{
	struct uvfs_backend be = { UVFS_BACKEND_API_VERSION, OPS_SIZE, "",
				   NULL, &ops, NULL, NULL };

	/* an empty name is no name either */
	ck_assert_int_eq(uvfs_backend_check(&be, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "descriptor has no name"));
	ck_assert_int_eq(uvfs_backend_check(NULL, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "backend ?: no descriptor");
	/* no room for the reason: refused all the same, err untouched */
	strcpy(err, "untouched");
	ck_assert_int_eq(uvfs_backend_check(NULL, err, 0), -EINVAL);
	ck_assert_str_eq(err, "untouched");
	/* and a good one passes, leaving err alone */
	be.name = "fine";
	ck_assert_int_eq(uvfs_backend_check(&be, err, sizeof(err)), 0);
	ck_assert_str_eq(err, "untouched");
}
END_TEST

/* One GETATTR or LSEEK through the direct transport: the reply's error. */
static int call(struct uvfs_direct *d, uint32_t opcode)
{
	union {
		struct uvfs_getattr_in ga;
		struct uvfs_lseek_in ls;
	} arg;
	struct uvfs_in_header in = { 0 };
	struct iovec iov = { &arg, 0 };
	char reply[256];
	size_t len;

	memset(&arg, 0, sizeof(arg));
	in.opcode = opcode;
	in.nodeid = UVFS_ROOT_ID;
	if (opcode == UVFS_OP_LSEEK) {
		arg.ls.whence = SEEK_DATA;
		iov.iov_len = sizeof(arg.ls);
	} else {
		iov.iov_len = sizeof(arg.ga);
	}
	return uvfs_direct_call(d, &in, &iov, 1, reply, sizeof(reply), &len);
}

/* Serve be in-process and return what LSEEK answers; GETATTR must work. */
static int lseek_through(const struct uvfs_backend *be)
{
	struct uvfs_session *se = uvfs_session_new(be, NULL);
	struct uvfs_direct *d;
	int ret;

	ck_assert_ptr_nonnull(se);
	ck_assert_int_eq(uvfs_session_mount(se, "none", err, sizeof(err)), 0);
	d = uvfs_direct_new(se);
	ck_assert_ptr_nonnull(d);
	ck_assert_int_eq(call(d, UVFS_OP_GETATTR), -EXDEV);
	ret = call(d, UVFS_OP_LSEEK);
	uvfs_direct_free(d);
	uvfs_session_free(se);
	return ret;
}

/*
 * A backend built against an older uvfs.h has a shorter table: accepted,
 * and the ops past its end are absent even if memory there looks like one.
 */
START_TEST(test_older_ops_table)
{
	struct uvfs_backend be = { UVFS_BACKEND_API_VERSION, OPS_SIZE, "old",
				   NULL, &ops, NULL, NULL };

	ck_assert_int_eq(lseek_through(&be), -ENXIO);
	be.ops_size = offsetof(struct uvfs_ops, lseek);
	ck_assert_int_eq(uvfs_backend_check(&be, err, sizeof(err)), 0);
	ck_assert_int_eq(lseek_through(&be), -ENOSYS);
}
END_TEST

/* The .so variants of testbe.c, and the reason each is refused. */
static const struct {
	const char *name;
	const char *msg;	/* %s: what was asked for, name or path */
} bad_so[] = {
	{ "tb-badver", "backend tb-badver: built for another backend API "
		       "version" },
	{ "tb-bigops", "backend tb-bigops: descriptor has a bad ops table" },
	{ "tb-noname", "backend ?: descriptor has no name" },
	{ "tb-nosym", "%s is not a uvfs backend" },
};

static void expect_load_fails(const char *what, const char *fmt)
{
	char want[PATH_MAX + 64];
	void *handle = (void *)1;

	snprintf(want, sizeof(want), fmt, what);
	memset(err, 0, sizeof(err));
	ck_assert_ptr_null(uvfs_backend_load(what, &handle, err, sizeof(err)));
	ck_assert_ptr_null(handle);
	ck_assert_str_eq(err, want);
}

START_TEST(test_load_refuses)
{
	char path[PATH_MAX];

	/* by name, found in $UVFS_BACKEND_PATH, and by path */
	ck_assert_int_eq(setenv("UVFS_BACKEND_PATH", TESTBE_DIR, 1), 0);
	expect_load_fails(bad_so[_i].name, bad_so[_i].msg);
	snprintf(path, sizeof(path), "%s/uvfs-%s.so", TESTBE_DIR,
		 bad_so[_i].name);
	ck_assert_int_eq(access(path, R_OK), 0);
	expect_load_fails(path, bad_so[_i].msg);
}
END_TEST

/* The good variant loads by name and by path, and its ops are the ones run. */
START_TEST(test_load_good)
{
	const char *what[2] = { "tb-good", TESTBE_DIR "/uvfs-tb-good.so" };
	const struct uvfs_backend *be;
	void *handle;
	int i;

	ck_assert_int_eq(setenv("UVFS_BACKEND_PATH", TESTBE_DIR, 1), 0);
	for (i = 0; i < 2; i++) {
		be = uvfs_backend_load(what[i], &handle, err, sizeof(err));
		ck_assert_msg(be != NULL, "%s: %s", what[i], err);
		ck_assert_ptr_nonnull(handle);
		ck_assert_str_eq(be->name, "tb-good");
		/* tb_getattr answers EXDEV; no lseek in it */
		ck_assert_int_eq(lseek_through(be), -ENOSYS);
		uvfs_backend_unload(handle);
	}
}
END_TEST

START_TEST(test_load_not_found)
{
	char dir[] = "/tmp/test_backend.XXXXXX", path[PATH_MAX];
	char want[PATH_MAX + 32];
	const char prefix[] = "cannot load backend ";
	void *handle;
	int fd;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_eq(setenv("UVFS_BACKEND_PATH", dir, 1), 0);
	expect_load_fails("tb-none", "unknown backend '%s' (try "
				     "--list-backends)");
	expect_load_fails("Tb", "invalid backend name '%s'");
	/* a file that is no shared object at all: dlopen's reason is kept */
	snprintf(path, sizeof(path), "%s/uvfs-junk.so", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "not ELF\n", 8), 8);
	close(fd);
	ck_assert_ptr_null(uvfs_backend_load(path, &handle, err, sizeof(err)));
	snprintf(want, sizeof(want), "%s%s: ", prefix, path);
	ck_assert_msg(!strncmp(err, want, strlen(want)), "%s", err);
	ck_assert_ptr_null(uvfs_backend_load("junk", &handle, err,
					     sizeof(err)));
	ck_assert_msg(!strncmp(err, "cannot load backend junk: ", 26), "%s",
		      err);
	unlink(path);
	rmdir(dir);
}
END_TEST

/* Copy the file from to to, with mode. */
static void copy_file(const char *from, const char *to, mode_t mode)
{
	char buf[65536];
	int in, out;
	ssize_t n;

	in = open(from, O_RDONLY);
	ck_assert_msg(in >= 0, "%s: %m", from);
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC, mode);
	ck_assert_msg(out >= 0, "%s: %m", to);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		ck_assert_int_eq(write(out, buf, (size_t)n), n);
	ck_assert_int_eq(n, 0);
	close(in);
	ck_assert_int_eq(close(out), 0);
}

static void mkdir_p(const char *path)
{
	char tmp[PATH_MAX], *p;

	snprintf(tmp, sizeof(tmp), "%s", path);
	for (p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		ck_assert_msg(mkdir(tmp, 0755) == 0 || errno == EEXIST,
			      "mkdir %s: %m", tmp);
		*p = '/';
	}
	ck_assert_msg(mkdir(tmp, 0755) == 0 || errno == EEXIST,
		      "mkdir %s: %m", tmp);
}

/* Run "EXE --list-backends" with $UVFS_BACKEND_PATH set to env (or unset
 * if NULL); its output, one name a line, into out. */
static void list_backends(const char *exe, const char *env, char *out,
			  size_t outlen)
{
	char cmd[2 * PATH_MAX + 64];
	size_t len = 0, n;
	FILE *p;

	if (env)
		snprintf(cmd, sizeof(cmd), "UVFS_BACKEND_PATH='%s' '%s' "
			 "--list-backends", env, exe);
	else
		snprintf(cmd, sizeof(cmd), "env -u UVFS_BACKEND_PATH '%s' "
			 "--list-backends", exe);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	while (len + 1 < outlen &&
	       (n = fread(out + len, 1, outlen - 1 - len, p)) > 0)
		len += n;
	out[len] = '\0';
	pclose(p);
}

START_TEST(test_search_build_tree)
{
	char exe[PATH_MAX], out[4096];
	ssize_t len;

	len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	ck_assert_int_gt(len, 0);
	exe[len] = '\0';
	/* in the build tree: the build's backends, the test ones not */
	list_backends(exe, NULL, out, sizeof(out));
	ck_assert_msg(strstr(out, "memfs\n") && !strstr(out, "tb-good"),
		      "build tree lists: %s", out);
	/* $UVFS_BACKEND_PATH first, then the build's */
	list_backends(exe, TESTBE_DIR, out, sizeof(out));
	ck_assert_msg(!strncmp(out, "tb-", 3) && strstr(out, "tb-good\n") &&
		      strstr(out, "\nmemfs\n"), "with the path: %s", out);
	ck_assert_ptr_null(strstr(strstr(out, "\nmemfs\n"), "tb-"));
}
END_TEST

START_TEST(test_search_installed)
{
	char root[] = "/tmp/test_backend.XXXXXX";
	char exe[PATH_MAX], copy[PATH_MAX], plugins[PATH_MAX];
	char so[PATH_MAX + 32], out[4096], empty[PATH_MAX];
	ssize_t len;

	len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	ck_assert_int_gt(len, 0);
	exe[len] = '\0';
	ck_assert_ptr_nonnull(mkdtemp(root));
	snprintf(copy, sizeof(copy), "%s/usr/bin", root);
	mkdir_p(copy);
	snprintf(copy, sizeof(copy), "%s/usr/bin/test_backend", root);
	copy_file(exe, copy, 0755);
	snprintf(plugins, sizeof(plugins), "%s/usr/bin/%s", root,
		 UVFS_PLUGIN_REL_DIR);
	mkdir_p(plugins);
	snprintf(so, sizeof(so), "%s/uvfs-tb-good.so", plugins);
	copy_file(TESTBE_DIR "/uvfs-tb-good.so", so, 0644);

	/* only the installed one: nothing from the build tree */
	list_backends(copy, NULL, out, sizeof(out));
	ck_assert_str_eq(out, "tb-good\n");
	/* $UVFS_BACKEND_PATH first, still nothing from the build tree */
	snprintf(empty, sizeof(empty), "%s/empty", root);
	mkdir_p(empty);
	snprintf(so, sizeof(so), "%s/uvfs-tb-other.so", empty);
	copy_file(TESTBE_DIR "/uvfs-tb-good.so", so, 0644);
	list_backends(copy, empty, out, sizeof(out));
	ck_assert_str_eq(out, "tb-other\ntb-good\n");
	/* and none installed: none at all */
	snprintf(so, sizeof(so), "%s/uvfs-tb-good.so", plugins);
	ck_assert_int_eq(unlink(so), 0);
	list_backends(copy, NULL, out, sizeof(out));
	ck_assert_str_eq(out, "");

	snprintf(so, sizeof(so), "rm -rf '%s'", root);
	ck_assert_int_eq(system(so), 0);
}
END_TEST

int main(int argc, char **argv)
{
	Suite *s;
	TCase *tc;

	/* the lister the search tests run, from here and from a copy */
	if (argc == 2 && !strcmp(argv[1], "--list-backends")) {
		uvfs_backend_list(stdout);
		return 0;
	}
	s = suite_create("backend");
	tc = tcase_create("backend");

	tcase_add_loop_test(tc, test_check_refuses, 0,
			    sizeof(bad) / sizeof(bad[0]));
	tcase_add_test(tc, test_check_edge_cases);
	tcase_add_test(tc, test_older_ops_table);
	tcase_add_loop_test(tc, test_load_refuses, 0,
			    sizeof(bad_so) / sizeof(bad_so[0]));
	tcase_add_test(tc, test_load_good);
	tcase_add_test(tc, test_load_not_found);
	tcase_add_test(tc, test_search_build_tree);
	tcase_add_test(tc, test_search_installed);
	suite_add_tcase(s, tc);
	return check_run(s);
}
