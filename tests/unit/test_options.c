// SPDX-License-Identifier: MIT
/* uvfsd's command line, and its error cases. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "options.h"
#include "check_run.h"

static struct uvfsd_options o;
static char err[256];

static int parse(int argc, const char **argv)
{
	err[0] = '\0';
	return uvfsd_parse_options(argc, (char **)argv, &o, err, sizeof(err));
}

#define PARSE(...)                                                        \
	({                                                                \
		const char *av[] = { "uvfsd", __VA_ARGS__ };              \
		parse((int)(sizeof(av) / sizeof(av[0])), av);             \
	})

START_TEST(test_basic)
{
	ck_assert_int_eq(PARSE("memfs", "none", "/mnt"), 0);
	ck_assert_int_eq(o.action, UVFSD_RUN);
	ck_assert_str_eq(o.backend, "memfs");
	ck_assert_str_eq(o.source, "none");
	ck_assert_str_eq(o.mountpoint, "/mnt");
	ck_assert_int_eq(o.foreground, 0);
	ck_assert_int_eq(o.session.debug, 0);
	ck_assert_int_eq(o.transport, UVFSD_TRANSPORT_AUTO);
	ck_assert_str_eq(o.session.fsname, "none");
	ck_assert_ptr_null(o.session.backend_opts);
	/* kernel-style defaults: the kernel checks permissions, and as root
	 * every user may use the mount */
	ck_assert_int_eq(o.session.default_permissions, 1);
	ck_assert_int_eq(o.session.allow_other, geteuid() == 0);
	ck_assert_uint_eq(o.session.spin_us, UVFSD_SPIN_DEFAULT);
}
END_TEST

START_TEST(test_spin)
{
	ck_assert_int_eq(PARSE("-o", "spin=0", "m", "s", "p"), 0);
	ck_assert_uint_eq(o.session.spin_us, 0);
	ck_assert_int_eq(PARSE("-o", "ro,spin=1000", "m", "s", "p"), 0);
	ck_assert_uint_eq(o.session.spin_us, 1000);
	ck_assert_ptr_null(o.session.backend_opts);
	ck_assert_int_eq(PARSE("-o", "spin=1001", "m", "s", "p"), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "-o spin"));
	ck_assert_int_eq(PARSE("-o", "spin=", "m", "s", "p"), -EINVAL);
	ck_assert_int_eq(PARSE("-o", "spin=12x", "m", "s", "p"), -EINVAL);
	ck_assert_int_eq(PARSE("-o", "spin=99999999999999999999", "m", "s",
			       "p"),
			 -EINVAL);
}
END_TEST

START_TEST(test_access_opts)
{
	ck_assert_int_eq(PARSE("-o", "private,no_default_permissions", "m",
			       "s", "p"),
			 0);
	ck_assert_int_eq(o.session.allow_other, 0);
	ck_assert_int_eq(o.session.default_permissions, 0);
	ck_assert_int_eq(PARSE("-o", "private", "-o", "allow_other", "m", "s",
			       "p"),
			 0);
	ck_assert_int_eq(o.session.allow_other, 1);
}
END_TEST

START_TEST(test_flags)
{
	ck_assert_int_eq(PARSE("-d", "-s", "--transport=fuse", "-o",
			       "ro,allow_other,default_permissions,fsname=img,subtype=x2",
			       "ext2", "a.img", "/m"),
			 0);
	ck_assert_int_eq(o.foreground, 1);
	ck_assert_int_eq(o.session.debug, 1);
	ck_assert_int_eq(o.session.single_thread, 1);
	ck_assert_int_eq(o.session.readonly, 1);
	ck_assert_int_eq(o.session.allow_other, 1);
	ck_assert_int_eq(o.session.default_permissions, 1);
	ck_assert_str_eq(o.session.fsname, "img");
	ck_assert_str_eq(o.session.subtype, "x2");
	ck_assert_int_eq(o.transport, UVFSD_TRANSPORT_FUSE);
	ck_assert_int_eq(PARSE("-f", "-o", "ro", "-o", "rw", "m", "s", "p"), 0);
	ck_assert_int_eq(o.foreground, 1);
	ck_assert_int_eq(o.session.debug, 0);
	ck_assert_int_eq(o.session.readonly, 0);
}
END_TEST

START_TEST(test_backend_opts)
{
	ck_assert_int_eq(PARSE("-o", "ro,size=10M,,foo", "-o", "bar=1", "memfs",
			       "none", "/m"),
			 0);
	ck_assert_str_eq(o.session.backend_opts, "size=10M,foo,bar=1");
}
END_TEST

START_TEST(test_actions)
{
	ck_assert_int_eq(PARSE("--help"), 0);
	ck_assert_int_eq(o.action, UVFSD_HELP);
	ck_assert_int_eq(PARSE("-V"), 0);
	ck_assert_int_eq(o.action, UVFSD_VERSION);
	ck_assert_int_eq(PARSE("--version"), 0);
	ck_assert_int_eq(o.action, UVFSD_VERSION);
	ck_assert_int_eq(PARSE("--list-backends"), 0);
	ck_assert_int_eq(o.action, UVFSD_LIST_BACKENDS);
}
END_TEST

START_TEST(test_direct_needs_no_mountpoint)
{
	ck_assert_int_eq(PARSE("--transport=direct", "ext2", "a.img"), 0);
	ck_assert_ptr_null(o.mountpoint);
	ck_assert_int_eq(o.transport, UVFSD_TRANSPORT_DIRECT);
}
END_TEST

START_TEST(test_errors)
{
	ck_assert_int_eq(PARSE("--bogus", "m", "s", "p"), -EINVAL);
	ck_assert_str_eq(err, "unknown option '--bogus'");
	ck_assert_int_eq(PARSE("-z", "m", "s", "p"), -EINVAL);
	ck_assert_str_eq(err, "unknown option '-z'");
	ck_assert_int_eq(PARSE("m", "s"), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "missing arguments"));
	ck_assert_int_eq(PARSE("m", "s", "p", "q"), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "too many arguments"));
	ck_assert_int_eq(PARSE("--transport=nfs", "m", "s", "p"), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "unknown transport"));
	ck_assert_int_eq(PARSE("-o", "fsname=", "m", "s", "p"), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "fsname"));
	ck_assert_int_eq(PARSE("m", "", "p"), -EINVAL);
	ck_assert_int_eq(PARSE("-o"), -EINVAL);
	ck_assert_ptr_null(strchr(err, '\n'));
}
END_TEST

/* --bdev BACKEND SOURCE, options anywhere; --remove DEV alone */
START_TEST(test_bdev)
{
	ck_assert_int_eq(PARSE("--bdev", "file", "a.img", "-f", "-o",
			       "ro,size=1G,blksize=4096,direct"), 0);
	ck_assert_int_eq(o.action, UVFSD_RUN);
	ck_assert_str_eq(o.bdev, "file");
	ck_assert_str_eq(o.source, "a.img");
	ck_assert_ptr_null(o.mountpoint);
	ck_assert_int_eq(o.foreground, 1);
	ck_assert_int_eq(o.session.readonly, 1);
	ck_assert_str_eq(o.session.backend_opts, "size=1G,blksize=4096,direct");
	ck_assert_int_eq(PARSE("-d", "--bdev=mem", "none"), 0);
	ck_assert_str_eq(o.bdev, "mem");
	ck_assert_int_eq(o.session.debug, 1);
	ck_assert_ptr_null(o.session.backend_opts);
	ck_assert_int_eq(PARSE("--bdev", "file"), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "missing argument"));
	ck_assert_int_eq(PARSE("--bdev", "file", "a.img", "/mnt"), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "too many arguments"));
	ck_assert_int_eq(PARSE("--bdev", "file", "a.img", "--transport=kmod"),
			 -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "uvfs.ko only"));
	ck_assert_int_eq(PARSE("--bdev"), -EINVAL);
	ck_assert_int_eq(PARSE("--bdev", "mem", "none", "-o", "size=1M,noexec"),
			 -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "not mount options"));
	ck_assert_int_eq(PARSE("--bdev", "mem", "none", "-o", "allow_other"),
			 -EINVAL);
	ck_assert_int_eq(PARSE("--bdev", "file", "--help"), 0);
	ck_assert_int_eq(o.action, UVFSD_HELP);
	ck_assert_str_eq(o.bdev, "file");

	ck_assert_int_eq(PARSE("--remove", "/dev/uvbd3"), 0);
	ck_assert_int_eq(o.action, UVFSD_REMOVE);
	ck_assert_str_eq(o.remove, "/dev/uvbd3");
	ck_assert_int_eq(PARSE("--remove", "3", "4"), -EINVAL);
	ck_assert_int_eq(PARSE("--remove", "3", "--bdev", "file"), -EINVAL);
	ck_assert_ptr_null(strchr(err, '\n'));
}
END_TEST

/* mount(8) puts -o after the arguments */
START_TEST(test_options_after_args)
{
	ck_assert_int_eq(PARSE("ext2", "a.img", "/m", "-o", "ro,foo", "-f"), 0);
	ck_assert_str_eq(o.backend, "ext2");
	ck_assert_str_eq(o.mountpoint, "/m");
	ck_assert_int_eq(o.session.readonly, 1);
	ck_assert_int_eq(o.foreground, 1);
	ck_assert_str_eq(o.session.backend_opts, "foo");
	/* BACKEND --help names the backend whose usage to print */
	ck_assert_int_eq(PARSE("ext2", "--help"), 0);
	ck_assert_int_eq(o.action, UVFSD_HELP);
	ck_assert_str_eq(o.backend, "ext2");
	ck_assert_int_eq(PARSE("--help"), 0);
	ck_assert_ptr_null(o.backend);
}
END_TEST

/* the generic mount(8) options: flags, or ignored; none reach the backend */
START_TEST(test_generic_opts)
{
	ck_assert_int_eq(PARSE("m", "s", "p", "-o",
			       "defaults,noauto,user,users,_netdev,x-a=b,nofail,"
			       "comment=c,helper=uvfs,user=bob,nodev,noexec,sync,"
			       "suid"),
			 0);
	ck_assert_ptr_null(o.session.backend_opts);
	ck_assert_uint_eq(o.session.mnt_flags_mask,
			  MS_NODEV | MS_NOEXEC | MS_SYNCHRONOUS | MS_NOSUID);
	ck_assert_uint_eq(o.session.mnt_flags,
			  MS_NODEV | MS_NOEXEC | MS_SYNCHRONOUS);
	/* the last word wins; atime modes exclude each other */
	ck_assert_int_eq(PARSE("-o", "noexec,exec,noatime,relatime", "m", "s",
			       "p"),
			 0);
	ck_assert_uint_eq(o.session.mnt_flags, MS_RELATIME);
	ck_assert_uint_eq(o.session.mnt_flags_mask, MS_NOEXEC | MS_RELATIME);
	/* not a generic option: the backend's */
	ck_assert_int_eq(PARSE("-o", "userx,x,offset=512", "m", "s", "p"), 0);
	ck_assert_str_eq(o.session.backend_opts, "userx,x,offset=512");
}
END_TEST

START_TEST(test_ids)
{
	ck_assert_int_eq(PARSE("-o", "uid=1000,gid=0,umask=022", "m", "s", "p"),
			 0);
	ck_assert_int_eq(o.session.set_uid, 1);
	ck_assert_int_eq(o.session.uid, 1000);
	ck_assert_int_eq(o.session.set_gid, 1);
	ck_assert_int_eq(o.session.gid, 0);
	ck_assert_int_eq(o.session.set_umask, 1);
	ck_assert_int_eq(o.session.umask, 022);
	ck_assert_int_eq(PARSE("-o", "uid=root", "m", "s", "p"), 0);
	ck_assert_int_eq(o.session.uid, 0);
	ck_assert_int_eq(o.session.set_gid, 0);
	ck_assert_int_eq(PARSE("-o", "uid=12x", "m", "s", "p"), -EINVAL);
	ck_assert_int_eq(PARSE("-o", "gid=", "m", "s", "p"), -EINVAL);
	ck_assert_int_eq(PARSE("-o", "uid=no-such-user-here", "m", "s", "p"),
			 -EINVAL);
	ck_assert_str_eq(err, "-o uid=no-such-user-here: no such user");
	ck_assert_int_eq(PARSE("-o", "umask=0778", "m", "s", "p"), -EINVAL);
	ck_assert_int_eq(PARSE("-o", "umask=1000", "m", "s", "p"), -EINVAL);
	/* fakeroot: the kernel stops checking unless told to */
	ck_assert_int_eq(PARSE("-o", "fakeroot", "m", "s", "p"), 0);
	ck_assert_int_eq(o.session.fakeroot, 1);
	ck_assert_int_eq(o.session.default_permissions, 0);
	ck_assert_int_eq(PARSE("-o", "fakeroot,default_permissions", "m", "s",
			       "p"),
			 0);
	ck_assert_int_eq(o.session.default_permissions, 1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("options");
	TCase *tc = tcase_create("options");

	tcase_add_test(tc, test_basic);
	tcase_add_test(tc, test_spin);
	tcase_add_test(tc, test_flags);
	tcase_add_test(tc, test_access_opts);
	tcase_add_test(tc, test_backend_opts);
	tcase_add_test(tc, test_actions);
	tcase_add_test(tc, test_direct_needs_no_mountpoint);
	tcase_add_test(tc, test_errors);
	tcase_add_test(tc, test_bdev);
	tcase_add_test(tc, test_options_after_args);
	tcase_add_test(tc, test_generic_opts);
	tcase_add_test(tc, test_ids);
	suite_add_tcase(s, tc);
	return check_run(s);
}
