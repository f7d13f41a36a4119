// SPDX-License-Identifier: MIT
/*
 * ext2: the backend descriptor, the -o options, mount and unmount.
 *
 * mount() reads the superblock itself before handing the image to
 * libext2fs, so that every refusal (bad magic, truncated image, garbage,
 * a feature we cannot write) is one clear line naming the reason.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <et/com_err.h>

#include "ext2_i.h"

/* ------------------------------------------------------------------------
 * Mount
 */

static int source_size(int fd, uint64_t *size)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISBLK(st.st_mode))
		return ioctl(fd, BLKGETSIZE64, size) < 0 ? -errno : 0;
	*size = (uint64_t)st.st_size;
	return 0;
}

/*
 * Check the primary superblock ourselves: libext2fs's messages for these
 * cases are vague ("Bad magic number in super-block") and it does not
 * notice a truncated image at all.
 */
static int precheck(const struct uvfs_mount_args *args,
		    struct e2_mount_opts *mo, struct ext2_super_block *sbp)
{
	struct ext2_super_block sb;
	uint64_t size, need;
	ssize_t n;
	int fd, err;

	fd = open(args->source, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		MOUNT_ERR(args, "ext2: %s: %s", args->source, strerror(errno));
		return err;
	}
	err = source_size(fd, &size);
	n = pread(fd, &sb, sizeof(sb), (off_t)(mo->offset + SUPERBLOCK_OFFSET));
	close(fd);
	if (err) {
		MOUNT_ERR(args, "ext2: %s: %s", args->source, strerror(-err));
		return err;
	}
	if (mo->offset >= size) {
		MOUNT_ERR(args, "ext2: %s: offset=%llu is past the end of the "
			  "source (%llu bytes)", args->source,
			  (unsigned long long)mo->offset,
			  (unsigned long long)size);
		return -EINVAL;
	}
	size -= mo->offset;
	if (n != (ssize_t)sizeof(sb) || sb.s_magic != EXT2_SUPER_MAGIC) {
		MOUNT_ERR(args, "ext2: %s: not an ext2/ext3/ext4 filesystem "
			  "(bad superblock magic)", args->source);
		return -EINVAL;
	}
	if (sb.s_log_block_size > EXT2_MAX_BLOCK_LOG_SIZE -
				      EXT2_MIN_BLOCK_LOG_SIZE ||
	    sb.s_blocks_per_group == 0 || sb.s_inodes_per_group == 0 ||
	    sb.s_inodes_count == 0 || ext2fs_blocks_count(&sb) == 0 ||
	    sb.s_first_data_block >= ext2fs_blocks_count(&sb)) {
		MOUNT_ERR(args, "ext2: %s: corrupt superblock (impossible "
			  "block size or counts); try e2fsck -b", args->source);
		return -EUCLEAN;
	}
	need = ext2fs_blocks_count(&sb) * (EXT2_MIN_BLOCK_SIZE
					   << sb.s_log_block_size);
	mo->fs_bytes = need;
	if (size < need) {
		MOUNT_ERR(args, "ext2: %s: image is truncated: %llu bytes, "
			  "but the superblock says the filesystem has %llu",
			  args->source, (unsigned long long)size,
			  (unsigned long long)need);
		return -EINVAL;
	}
	if (sb.s_feature_incompat & EXT3_FEATURE_INCOMPAT_JOURNAL_DEV) {
		MOUNT_ERR(args, "ext2: %s: this is an external journal "
			  "device, not a filesystem", args->source);
		return -EINVAL;
	}
	*sbp = sb;
	return 0;
}

static int parse_errors(const struct uvfs_mount_args *args, const char *v,
			struct e2_mount_opts *mo)
{
	if (!strcmp(v, "continue"))
		mo->errors = EXT2_ERRORS_CONTINUE;
	else if (!strcmp(v, "remount-ro"))
		mo->errors = EXT2_ERRORS_RO;
	else if (!strcmp(v, "panic"))
		mo->errors = EXT2_ERRORS_PANIC;
	else {
		MOUNT_ERR(args, "ext2: bad value for -o errors: '%s' "
			  "(continue, remount-ro or panic)", v);
		return -EINVAL;
	}
	return 0;
}

/* offset=BYTES (decimal, 0x hex or with a K/M/G suffix) */
static int parse_offset(const struct uvfs_mount_args *args, const char *v,
			struct e2_mount_opts *mo)
{
	unsigned long long n;
	char *end;

	errno = 0;
	n = strtoull(v, &end, 0);
	if (*end && !end[1] && strchr("kKmMgG", *end)) {
		int shift = (*end | 0x20) == 'k' ? 10 :
			    (*end | 0x20) == 'm' ? 20 : 30;

		if (n > (ULLONG_MAX >> shift))
			errno = ERANGE;
		n <<= shift;
		end++;
	}
	if (!*v || *v == '-' || *end || errno || n > INT64_MAX / 2) {
		MOUNT_ERR(args, "ext2: bad value for -o offset: '%s' (a byte "
			  "offset, e.g. 1048576 or 1M)", v);
		return -EINVAL;
	}
	mo->offset = n;
	return 0;
}

/*
 * The backend's own -o options.  uvfsd hands over the ones it does not
 * know itself; anything left that we do not know either is an error.
 */
static int parse_options(const struct uvfs_mount_args *args,
			 struct e2_mount_opts *mo)
{
	char buf[1024], *opt, *save = NULL;
	int err = 0;

	memset(mo, 0, sizeof(*mo));
	if (!args->options || !*args->options)
		return 0;
	if (strlen(args->options) >= sizeof(buf)) {
		MOUNT_ERR(args, "ext2: -o options too long");
		return -EINVAL;
	}
	strcpy(buf, args->options);
	for (opt = strtok_r(buf, ",", &save); opt && !err;
	     opt = strtok_r(NULL, ",", &save)) {
		if (!strcmp(opt, "norecovery") || !strcmp(opt, "noload"))
			mo->norecovery = true;
		else if (!strncmp(opt, "offset=", 7))
			err = parse_offset(args, opt + 7, mo);
		else if (!strncmp(opt, "errors=", 7))
			err = parse_errors(args, opt + 7, mo);
		else {
			MOUNT_ERR(args, "ext2: unknown option '%s' (see "
				  "uvfsd ext2 --help)", opt);
			err = -EINVAL;
		}
	}
	return err;
}

/*
 * What /proc/mounts calls the filesystem, decided as blkid does: ext4 if
 * it uses anything ext3 does not know, ext3 if it has a journal.
 */
static const char *fs_type_name(const struct ext2_super_block *sb)
{
	const uint32_t ext3_incompat = EXT2_FEATURE_INCOMPAT_FILETYPE |
				       EXT3_FEATURE_INCOMPAT_RECOVER |
				       EXT2_FEATURE_INCOMPAT_META_BG;
	const uint32_t ext3_ro_compat = EXT2_FEATURE_RO_COMPAT_SPARSE_SUPER |
					EXT2_FEATURE_RO_COMPAT_LARGE_FILE |
					0x0004;	/* btree_dir */

	if ((sb->s_feature_incompat & ~ext3_incompat) ||
	    (sb->s_feature_ro_compat & ~ext3_ro_compat))
		return "ext4";
	if (sb->s_feature_compat & EXT3_FEATURE_COMPAT_HAS_JOURNAL)
		return "ext3";
	return "ext2";
}

/*
 * Claim the bytes of the filesystem in SOURCE for this mount (see
 * uvfs_source_claim()); the returned descriptor also carries file data.
 */
static int claim_source(const struct uvfs_mount_args *args,
			const struct e2_mount_opts *mo, bool ro)
{
	char msg[512];
	int fd;

	fd = uvfs_source_claim(args->source, ro, mo->offset, mo->fs_bytes,
			       msg, sizeof(msg));
	if (fd == -EACCES && !ro)
		MOUNT_ERR(args, "ext2: %s: %s (no write access: mount "
			  "read-only with -o ro)", args->source,
			  strerror(EACCES));
	else if (fd < 0)
		MOUNT_ERR(args, "ext2: %s", msg);
	return fd;
}

/*
 * Another node holds the image through ext4's multi-mount protection:
 * the MMP block names the host and device (see ext2fs_mmp_start()).
 */
static void mmp_holder(const struct uvfs_mount_args *args,
		       const struct e2_mount_opts *mo, errcode_t rc)
{
	struct ext2_super_block sb;
	struct mmp_struct mmp;
	int fd = open(args->source, O_RDONLY | O_CLOEXEC);
	bool ok = false;

	if (fd >= 0 &&
	    pread(fd, &sb, sizeof(sb), (off_t)(mo->offset + SUPERBLOCK_OFFSET))
		    == (ssize_t)sizeof(sb) && sb.s_mmp_block &&
	    pread(fd, &mmp, sizeof(mmp),
		  (off_t)(mo->offset + sb.s_mmp_block *
			  (EXT2_MIN_BLOCK_SIZE << sb.s_log_block_size)))
		    == (ssize_t)sizeof(mmp) && mmp.mmp_magic == EXT4_MMP_MAGIC)
		ok = true;
	if (fd >= 0)
		close(fd);
	if (!ok) {
		MOUNT_ERR(args, "ext2: %s: %s", args->source,
			  error_message(rc));
		return;
	}
	mmp.mmp_nodename[sizeof(mmp.mmp_nodename) - 1] = '\0';
	mmp.mmp_bdevname[sizeof(mmp.mmp_bdevname) - 1] = '\0';
	MOUNT_ERR(args, "ext2: %s is in use (multi-mount protection): %s on "
		  "host '%s', device '%s'; if nothing uses it, clear it with "
		  "'tune2fs -f -E clear_mmp'", args->source,
		  mmp.mmp_seq == EXT4_MMP_SEQ_FSCK ? "held by e2fsck or uvfsd" :
		  "mounted", (char *)mmp.mmp_nodename,
		  (char *)mmp.mmp_bdevname);
}

/* Mark the filesystem "mounted, not clean" on disk, as the kernel does. */
static int start_rw(struct e2fs *e2, const struct uvfs_mount_args *args)
{
	struct ext2_super_block *sb = e2->fs->super;
	errcode_t err;

	err = ext2fs_read_bitmaps(e2->fs);
	if (err) {
		MOUNT_ERR(args, "ext2: %s: cannot read bitmaps: %s",
			  args->source, error_message(err));
		return e2_err(err);
	}
	e2->was_valid = sb->s_state & EXT2_VALID_FS;
	if (!e2->was_valid)
		uvfs_log("ext2: %s was not cleanly unmounted; running e2fsck "
			 "is recommended", args->source);
	sb->s_state &= (uint16_t)~EXT2_VALID_FS;
	sb->s_mnt_count++;
	sb->s_mtime = (uint32_t)time(NULL);
	ext2fs_mark_super_dirty(e2->fs);
	err = ext2fs_flush(e2->fs);
	if (err) {
		MOUNT_ERR(args, "ext2: %s: cannot write superblock: %s",
			  args->source, error_message(err));
		return e2_err(err);
	}
	return 0;
}

/*
 * The image needs recovery and we may write it: replay its journal
 * (ext2_journal.c), then read the superblock again, which the journal may
 * have rewritten.  Its needs-recovery flag is cleared in *sb here and on
 * the image once libext2fs has it open (do_mount).
 */
static int replay_journal(const struct uvfs_mount_args *args,
			  const struct e2_mount_opts *mo, int fd,
			  struct ext2_super_block *sb)
{
	unsigned int n;
	int err;

	err = e2_journal_replay(args, mo, sb, fd, &n);
	if (err)
		return err;
	if (pread(fd, sb, sizeof(*sb), (off_t)(mo->offset + SUPERBLOCK_OFFSET))
	    != (ssize_t)sizeof(*sb) || sb->s_magic != EXT2_SUPER_MAGIC) {
		MOUNT_ERR(args, "ext2: %s: no valid superblock after the "
			  "journal replay; run e2fsck", args->source);
		return -EUCLEAN;
	}
	sb->s_feature_incompat &= ~EXT3_FEATURE_INCOMPAT_RECOVER;
	uvfs_log_prio(LOG_NOTICE, "ext2: %s: journal replayed (%u "
		      "transaction%s)", args->source, n, n == 1 ? "" : "s");
	return 0;
}

static int do_mount(const struct uvfs_mount_args *args, void **priv)
{
	struct ext2_super_block sb;
	struct e2_mount_opts mo;
	struct e2fs *e2;
	struct e2_node *root;
	char io_opts[64];
	errcode_t rc;
	int flags, err;

	err = parse_options(args, &mo);
	if (!err)
		err = precheck(args, &mo, &sb);
	if (err)
		return err;
	e2 = calloc(1, sizeof(*e2));
	if (!e2)
		return -ENOMEM;
	e2->ro = args->readonly || mo.norecovery;
	e2->data_off = mo.offset;
	e2->data_fd = -1;
	e2->nbuckets = 1024;
	e2->nodes = calloc(e2->nbuckets, sizeof(*e2->nodes));
	if (!e2->nodes) {
		free(e2);
		return -ENOMEM;
	}
	pthread_mutex_init(&e2->lock, NULL);
	if (mo.norecovery && !args->readonly) {
		uvfs_log("ext2: %s: norecovery: mounting read-only, without "
			 "replaying the journal", args->source);
		uvfs_mount_set_readonly(args);
	}
	/* Before libext2fs writes anything: no second writer, ever. */
	e2->data_fd = claim_source(args, &mo, e2->ro);
	if (e2->data_fd < 0) {
		err = e2->data_fd;
		goto err_free;
	}
	if (!e2->ro && (sb.s_feature_incompat & EXT3_FEATURE_INCOMPAT_RECOVER) &&
	    (sb.s_feature_compat & EXT3_FEATURE_COMPAT_HAS_JOURNAL)) {
		err = replay_journal(args, &mo, e2->data_fd, &sb);
		if (err)
			goto err_close;
		e2->replayed = true;
	}
	err = e2_check_features(args, &mo, &sb);
	if (err)
		goto err_close;
	snprintf(io_opts, sizeof(io_opts), "offset=%llu",
		 (unsigned long long)mo.offset);
	flags = EXT2_FLAG_64BITS | (e2->ro ? 0 : EXT2_FLAG_RW);
	rc = ext2fs_open2(args->source, mo.offset ? io_opts : NULL, flags, 0, 0,
			  unix_io_manager, &e2->fs);
	if (rc) {
		err = e2_err(rc);
		if (rc == EXT2_ET_MMP_FAILED || rc == EXT2_ET_MMP_FSCK_ON ||
		    rc == EXT2_ET_MMP_UNKNOWN_SEQ) {
			mmp_holder(args, &mo, rc);
			err = -EBUSY;
		} else {
			MOUNT_ERR(args, "ext2: %s: %s", args->source,
				  error_message(rc));
		}
		goto err_close;
	}
	e2->bs = e2->fs->blocksize;
	e2->errors = mo.errors ? mo.errors : e2->fs->super->s_errors;
	uvfs_mount_set_subtype(args, fs_type_name(e2->fs->super));
	uvfs_mount_set_max_filesize(args, e2_fs_max_size(e2));
	/* metadata written back, file data never under it (ext2_i.h) */
	e2_cache_init(e2);
	/* Backup superblocks are e2fsck's business, as in the kernel. */
	e2->fs->flags |= EXT2_FLAG_MASTER_SB_ONLY;
	if (e2->replayed) {
		/* written by start_rw(), after the replayed blocks */
		e2->fs->super->s_feature_incompat &=
			~EXT3_FEATURE_INCOMPAT_RECOVER;
		ext2fs_mark_super_dirty(e2->fs);
	}
	if (!e2->ro) {
		err = start_rw(e2, args);
		if (err)
			goto err_close;
		/* a failure leaves the rest to e2fsck, as the kernel does */
		if (e2->fs->super->s_last_orphan &&
		    (e2_orphans_cleanup(e2) || e2_fs_sync(e2)))
			uvfs_log("ext2: %s: the orphan list was not cleaned up "
				 "completely; run e2fsck", args->source);
	} else if (!mo.norecovery && (e2->fs->super->s_feature_incompat &
				      EXT3_FEATURE_INCOMPAT_RECOVER)) {
		/* (norecovery said so already) */
		uvfs_log("ext2: %s: journal not replayed; recent changes may "
			 "be missing", args->source);
	}
	err = e2_node_get(e2, EXT2_ROOT_INO, &root);
	if (!err && !LINUX_S_ISDIR(root->inode.i_mode))
		err = -EUCLEAN;
	if (err) {
		MOUNT_ERR(args, "ext2: %s: cannot read the root directory: %s",
			  args->source, strerror(-err));
		goto err_close;
	}
	root->nlookup = 1;	/* the kernel never forgets the root */
	*priv = e2;
	return 0;

err_close:
	e2_node_free_all(e2);
	if (e2->fs)
		ext2fs_close_free(&e2->fs);
	if (e2->data_fd >= 0)
		close(e2->data_fd);
err_free:
	pthread_mutex_destroy(&e2->lock);
	free(e2->nodes);
	free(e2);
	return err;
}

/*
 * Words, not "Unknown code ext2 152", from error_message(): the table is
 * ours from mount to unmount (the backend may be unloaded after).
 */
static int ext2_mount(const struct uvfs_mount_args *args, void **priv)
{
	int err;

	add_error_table(&et_ext2_error_table);
	err = do_mount(args, priv);
	if (err)
		remove_error_table(&et_ext2_error_table);
	return err;
}

static void ext2_unmount(void *priv)
{
	struct e2fs *e2 = priv;
	errcode_t err;

	pthread_mutex_lock(&e2->lock);
	/* Frees the inodes of orphans still held open. */
	e2_node_free_all(e2);
	if (!e2->ro) {
		if (e2->was_valid)
			e2->fs->super->s_state |= EXT2_VALID_FS;
		e2_note_errors(e2);
		e2->fs->super->s_wtime = (uint32_t)time(NULL);
		ext2fs_mark_super_dirty(e2->fs);
	}
	err = ext2fs_close_free(&e2->fs);
	if (err)
		uvfs_log("ext2: writing the filesystem failed: %s",
			 error_message(err));
	close(e2->data_fd);
	pthread_mutex_unlock(&e2->lock);
	remove_error_table(&et_ext2_error_table);
	pthread_mutex_destroy(&e2->lock);
	free(e2->nodes);
	free(e2);
}

static const struct uvfs_ops ext2_ops = {
	.lookup = ext2_lookup,
	.forget_multi = ext2_forget_multi,
	.getattr = ext2_getattr,
	.setattr = ext2_setattr,
	.readlink = ext2_readlink,
	.mknod = ext2_mknod,
	.mkdir = ext2_mkdir,
	.unlink = ext2_unlink,
	.rmdir = ext2_rmdir,
	.symlink = ext2_symlink,
	.rename = ext2_rename,
	.link = ext2_link,
	.open = ext2_open,
	.create = ext2_create,
	.read = ext2_read,
	.write = ext2_write,
	/* no .flush: data reaches the image at write() and durability is
	 * release's and fsync's, so close needs no extra round trip */
	.release = ext2_release,
	.fsync = ext2_fsync,
	.opendir = ext2_opendir,
	.readdir = ext2_readdir,
	.readdirplus = ext2_readdirplus,
	.releasedir = ext2_release,
	.fsyncdir = ext2_fsync,
	.statfs = ext2_statfs,
	.setxattr = ext2_setxattr,
	.getxattr = ext2_getxattr,
	.listxattr = ext2_listxattr,
	.removexattr = ext2_removexattr,
	.access = ext2_access,
	.fallocate = ext2_fallocate,
	.lseek = ext2_lseek,
};

static const struct uvfs_backend ext2_backend = {
	.api_version = UVFS_BACKEND_API_VERSION,
	.ops_size = sizeof(struct uvfs_ops),
	.name = "ext2",
	.usage = "ext2: an ext2/ext3/ext4 image or block device as SOURCE "
		 "(libext2fs).\n"
		 "    -o ro                  open the image read-only\n"
		 "    -o offset=BYTES        the filesystem starts BYTES into SOURCE\n"
		 "                           (a partition of a disk image; K/M/G ok)\n"
		 "    -o norecovery, noload  do not replay the journal: mount\n"
		 "                           read-only, with a warning\n"
		 "    -o errors=continue|remount-ro|panic\n"
		 "                           on finding corruption: fail the one\n"
		 "                           request, or also stop writing, or stop\n"
		 "                           the daemon (default: the superblock's)\n",
	.ops = &ext2_ops,
	.mount = ext2_mount,
	.unmount = ext2_unmount,
};

UVFS_BACKEND(ext2_backend);
