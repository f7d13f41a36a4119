// SPDX-License-Identifier: MIT
/*
 * Claiming a backend's SOURCE for the life of a mount, so that two writers
 * never share one image.
 *
 * An image file gets an open file description lock (F_OFD_SETLK): shared
 * for a read-only mount, exclusive for a read-write one.  OFD locks belong
 * to the open file, not the process, so libraries that open and close the
 * same file (libext2fs does) cannot drop them by accident, and they go
 * away by themselves when the daemon dies.  A block device is opened with
 * O_EXCL for a read-write mount, which the kernel's own mount honours both
 * ways.  The kernel does not look at advisory locks, so for image files we
 * also look for loop devices backed by the same file that are mounted or
 * held; what we cannot stop is a kernel loop mount made *after* ours
 * (ext4's MMP feature covers that case; see the ext2 backend).
 *
 * A byte range can be claimed instead of the whole file: two partitions
 * of one disk image are two filesystems.
 *
 * On a conflict the message names the holder: the process (and where it
 * is mounted), or the loop device and its mount point.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "uvfs_i.h"

/*
 * Where is the filesystem on this device, or with this source, mounted?
 * The number of such mounts; the mount point and rw of the first.
 */
static int find_mount(dev_t dev, const char *source, char *mnt, size_t len,
		      int *rw)
{
	FILE *f = fopen("/proc/self/mountinfo", "r");
	char line[8192];
	int found = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		char where[PATH_MAX], opts[1024], src[PATH_MAX];
		unsigned int ma, mi;
		char *sep;

		/* id parent ma:mi root mountpoint opts [tags] - type src sopts */
		if (sscanf(line, "%*s %*s %u:%u %*s %4095s %1023s", &ma, &mi,
			   where, opts) != 4)
			continue;
		sep = strstr(line, " - ");
		if (!sep || sscanf(sep + 3, "%*s %4095s", src) != 1)
			continue;
		if ((dev && makedev(ma, mi) == dev) ||
		    (source && !strcmp(src, source))) {
			if (!found++) {
				snprintf(mnt, len, "%s", where);
				*rw = strncmp(opts, "ro", 2) != 0 ||
				      (opts[2] != ',' && opts[2] != '\0');
			}
		}
	}
	fclose(f);
	return found;
}

/* Does fd (of process dir) hold a lock overlapping [off, off + len)? */
static int fd_locks_range(const char *dir, const char *fd, uint64_t off,
			  uint64_t len)
{
	char path[PATH_MAX], line[256];
	int hit = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%sinfo/%s", dir, fd);	/* fdinfo */
	f = fopen(path, "r");
	if (!f)
		return 0;
	/* lock:	1: OFDLCK ADVISORY  WRITE -1 fe:00:123 START END|EOF */
	while (!hit && fgets(line, sizeof(line), f)) {
		unsigned long long start, end = ULLONG_MAX;
		char endstr[32];

		if (strncmp(line, "lock:", 5) ||
		    sscanf(line, "%*s %*s %*s %*s %*s %*s %*s %llu %31s",
			   &start, endstr) != 2)
			continue;
		if (strcmp(endstr, "EOF"))
			end = strtoull(endstr, NULL, 10);
		hit = start <= (len ? off + len - 1 : ULLONG_MAX) &&
		      end >= off;
	}
	fclose(f);
	return hit;
}

/*
 * A process other than us with st's file open, preferring one that holds
 * a lock on [off, off + len): pid and its name.
 */
static pid_t find_opener(const struct stat *st, uint64_t off, uint64_t len,
			 char *comm, size_t commlen)
{
	DIR *proc = opendir("/proc");
	struct dirent *p;
	pid_t found = 0, opener = 0, self = getpid();

	if (!proc)
		return 0;
	while (!found && (p = readdir(proc))) {
		char dir[64], path[PATH_MAX];
		struct dirent *d;
		DIR *fds;
		pid_t pid;

		if (!isdigit((unsigned char)p->d_name[0]))
			continue;
		pid = (pid_t)atoi(p->d_name);
		if (pid == self)
			continue;
		snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
		fds = opendir(dir);
		if (!fds)
			continue;
		while (!found && (d = readdir(fds))) {
			struct stat fst;

			if (d->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
			if (stat(path, &fst) || fst.st_dev != st->st_dev ||
			    fst.st_ino != st->st_ino)
				continue;
			if (fd_locks_range(dir, d->d_name, off, len))
				found = pid;
			else if (!opener)
				opener = pid;
		}
		closedir(fds);
	}
	closedir(proc);
	if (!found)
		found = opener;
	if (found) {
		char path[64];
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%d/comm", (int)found);
		f = fopen(path, "r");
		if (!f || !fgets(comm, (int)commlen, f))
			snprintf(comm, commlen, "?");
		comm[strcspn(comm, "\n")] = '\0';
		if (f)
			fclose(f);
	}
	return found;
}

static int read_small(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	int ok;

	if (!f)
		return -1;
	ok = fgets(buf, (int)len, f) != NULL;
	fclose(f);
	if (!ok)
		return -1;
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/*
 * A loop device backed by st's file that is mounted (or held by something
 * else, e.g. device-mapper) in a way that conflicts with our mount.
 */
static int check_loops(const char *path, const struct stat *st, int readonly,
		       uint64_t off, uint64_t len, char *err, size_t errlen)
{
	DIR *sys = opendir("/sys/block");
	struct dirent *d;
	int ret = 0;

	if (!sys)
		return 0;
	while (!ret && (d = readdir(sys))) {
		char file[PATH_MAX], back[PATH_MAX], devno[32], mnt[PATH_MAX];
		unsigned long long loff = 0, llen = 0;
		unsigned int ma, mi;
		struct stat bst;
		int rw = 1;

		if (strncmp(d->d_name, "loop", 4))
			continue;
		snprintf(file, sizeof(file), "/sys/block/%s/loop/backing_file",
			 d->d_name);
		if (read_small(file, back, sizeof(back)) ||
		    stat(back, &bst) || bst.st_dev != st->st_dev ||
		    bst.st_ino != st->st_ino)
			continue;
		/* a loop device over another part of the file is no conflict */
		snprintf(file, sizeof(file), "/sys/block/%s/loop/offset",
			 d->d_name);
		if (!read_small(file, devno, sizeof(devno)))
			loff = strtoull(devno, NULL, 10);
		snprintf(file, sizeof(file), "/sys/block/%s/loop/sizelimit",
			 d->d_name);
		if (!read_small(file, devno, sizeof(devno)))
			llen = strtoull(devno, NULL, 10);
		if ((len && loff >= off + len) || (llen && off >= loff + llen))
			continue;
		snprintf(file, sizeof(file), "/sys/block/%s/dev", d->d_name);
		if (read_small(file, devno, sizeof(devno)) ||
		    sscanf(devno, "%u:%u", &ma, &mi) != 2)
			continue;
		if (find_mount(makedev(ma, mi), NULL, mnt, sizeof(mnt), &rw)) {
			if (rw || !readonly) {
				snprintf(err, errlen,
					 "%s is in use: /dev/%s is mounted "
					 "%s on %s", path, d->d_name,
					 rw ? "read-write" : "read-only", mnt);
				ret = -EBUSY;
			}
			continue;
		}
		snprintf(file, sizeof(file), "/dev/%s", d->d_name);
		if (!readonly) {
			int fd = open(file, O_RDONLY | O_EXCL | O_CLOEXEC);

			if (fd < 0 && errno == EBUSY) {
				snprintf(err, errlen, "%s is in use: %s, which "
					 "it backs, is held by the kernel", path,
					 file);
				ret = -EBUSY;
			}
			if (fd >= 0)
				close(fd);
		}
	}
	closedir(sys);
	return ret;
}

/* Another process holds a conflicting lock on fd's file: say who. */
static void name_lock_holder(int fd, const char *path, const struct stat *st,
			     uint64_t off, uint64_t len, char *err,
			     size_t errlen)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET,
			    .l_start = (off_t)off, .l_len = (off_t)len };
	char comm[64], mnt[PATH_MAX], real[PATH_MAX];
	const char *how = "";
	pid_t pid;
	int rw = 1;

	if (fcntl(fd, F_OFD_GETLK, &fl) == 0 && fl.l_type != F_UNLCK)
		how = fl.l_type == F_WRLCK ? " read-write" : " read-only";
	pid = find_opener(st, off, len, comm, sizeof(comm));
	if (!pid) {
		snprintf(err, errlen, "%s is in use: another process has it "
			 "open%s", path, how);
		return;
	}
	/* uvfsd names its mounts after the real path of their source; name
	 * the mount only when there is no doubt which one it is */
	if (realpath(path, real) &&
	    find_mount(0, real, mnt, sizeof(mnt), &rw) == 1)
		snprintf(err, errlen, "%s is in use: %s (pid %d) has it "
			 "open%s, mounted on %s", path, comm, (int)pid, how,
			 mnt);
	else
		snprintf(err, errlen, "%s is in use: %s (pid %d) has it "
			 "open%s", path, comm, (int)pid, how);
}

int uvfs_source_claim(const char *path, int readonly, uint64_t off,
		      uint64_t len, char *err, size_t errlen)
{
	struct flock fl = { .l_whence = SEEK_SET, .l_start = (off_t)off,
			    .l_len = (off_t)len };
	char mnt[PATH_MAX];
	struct stat st;
	int fd, ret, rw = 1;

	fd = open(path, (readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return ret;
	}
	if (fstat(fd, &st) < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto err_close;
	}
	if (S_ISBLK(st.st_mode)) {
		/* the kernel's mounts and O_EXCL openers, both ways */
		if (find_mount(st.st_rdev, NULL, mnt, sizeof(mnt), &rw) &&
		    (rw || !readonly)) {
			snprintf(err, errlen, "%s is in use: mounted %s on %s",
				 path, rw ? "read-write" : "read-only", mnt);
			ret = -EBUSY;
			goto err_close;
		}
		if (!readonly) {
			int excl = open(path, O_RDWR | O_EXCL | O_CLOEXEC);

			if (excl < 0) {
				ret = -errno;
				snprintf(err, errlen, "%s: %s", path,
					 errno == EBUSY ?
					 "in use (held exclusively by the "
					 "kernel or another program)" :
					 strerror(errno));
				goto err_close;
			}
			close(fd);
			fd = excl;
		}
	} else if (S_ISREG(st.st_mode)) {
		ret = check_loops(path, &st, readonly, off, len, err,
				  errlen);
		if (ret)
			goto err_close;
	}
	/* between uvfs daemons, whatever the source is */
	fl.l_type = readonly ? F_RDLCK : F_WRLCK;
	if (fcntl(fd, F_OFD_SETLK, &fl) < 0) {
		ret = -errno;
		if (errno == EAGAIN || errno == EACCES) {
			name_lock_holder(fd, path, &st, off, len, err, errlen);
			ret = -EBUSY;
		} else {
			snprintf(err, errlen, "%s: cannot lock: %s", path,
				 strerror(errno));
		}
		goto err_close;
	}
	return fd;

err_close:
	close(fd);
	return ret;
}
