// SPDX-License-Identifier: MIT
/*
 * ext2: mount and unmount, feature checks, error conversion, statfs,
 * fsync, access and the backend descriptor.
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
#include <sys/ioctl.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <e2p/e2p.h>
#include <et/com_err.h>

#include "ext2_i.h"

/* ------------------------------------------------------------------------
 * libext2fs error codes -> -errno, in one place.
 */
int e2_err(errcode_t err)
{
	if (!err)
		return 0;
	/* libext2fs passes system errors through as plain errno values */
	if (err > 0 && err < 4096)
		return -(int)err;
	switch (err) {
	case EXT2_ET_NO_MEMORY:
		return -ENOMEM;
	case EXT2_ET_RO_FILSYS:
		return -EROFS;
	case EXT2_ET_FILE_NOT_FOUND:
		return -ENOENT;
	case EXT2_ET_DIR_EXISTS:
		return -EEXIST;
	case EXT2_ET_NO_DIRECTORY:
		return -ENOTDIR;
	case EXT2_ET_DIR_NO_SPACE:
	case EXT2_ET_DIR_NO_SPACE_FOR_CSUM:
	case EXT2_ET_BLOCK_ALLOC_FAIL:
	case EXT2_ET_INODE_ALLOC_FAIL:
	case EXT2_ET_EA_NO_SPACE:
	case EXT2_ET_INLINE_DATA_NO_SPACE:
	case EXT2_ET_EXTENT_NO_SPACE:
		return -ENOSPC;
	case EXT2_ET_EA_KEY_NOT_FOUND:
		return -ENODATA;
	case EXT2_ET_EA_BAD_NAME_LEN:
		return -ERANGE;
	case EXT2_ET_EA_BAD_VALUE_SIZE:
		return -E2BIG;
	case EXT2_ET_FILE_TOO_BIG:
		return -EFBIG;
	case EXT2_ET_UNIMPLEMENTED:
	case EXT2_ET_OP_NOT_SUPPORTED:
	case EXT2_ET_EXTENT_NOT_SUPPORTED:
		return -EOPNOTSUPP;
	case EXT2_ET_INVALID_ARGUMENT:
		return -EINVAL;
	case EXT2_ET_SHORT_READ:
	case EXT2_ET_SHORT_WRITE:
		return -EIO;
	case EXT2_ET_DIR_CORRUPTED:
	case EXT2_ET_BAD_INODE_NUM:
	case EXT2_ET_BAD_BLOCK_NUM:
	case EXT2_ET_BAD_IND_BLOCK:
	case EXT2_ET_BAD_DIND_BLOCK:
	case EXT2_ET_BAD_TIND_BLOCK:
	case EXT2_ET_BAD_EA_BLOCK_NUM:
	case EXT2_ET_BAD_EA_HASH:
	case EXT2_ET_BAD_EA_HEADER:
	case EXT2_ET_EA_BAD_VALUE_OFFSET:
	case EXT2_ET_EXTENT_HEADER_BAD:
	case EXT2_ET_EXTENT_INDEX_BAD:
	case EXT2_ET_EXTENT_LEAF_BAD:
	case EXT2_ET_EXTENT_CYCLE:
	case EXT2_ET_INODE_CSUM_INVALID:
	case EXT2_ET_EXTENT_CSUM_INVALID:
	case EXT2_ET_DIR_CSUM_INVALID:
	case EXT2_ET_EXT_ATTR_CSUM_INVALID:
	case EXT2_ET_INODE_CORRUPTED:
	case EXT2_ET_EA_INODE_CORRUPTED:
	case EXT2_ET_FILESYSTEM_CORRUPTED:
	case EXT2_ET_CORRUPT_SUPERBLOCK:
		return -EUCLEAN;
	default:
		return -EIO;
	}
}

/* ------------------------------------------------------------------------
 * Features
 */

enum { F_COMPAT, F_INCOMPAT, F_RO_COMPAT };

struct feature {
	int kind;
	uint32_t mask;
	const char *name;
};

/*
 * Features we refuse to write: libext2fs (or this backend's data path)
 * would leave the filesystem inconsistent or ignore semantics the kernel
 * enforces.  Reading them is fine.
 */
static const struct feature rw_refused[] = {
	{ F_INCOMPAT, EXT4_FEATURE_INCOMPAT_ENCRYPT, "encrypt" },
	{ F_INCOMPAT, EXT4_FEATURE_INCOMPAT_CASEFOLD, "casefold" },
	{ F_INCOMPAT, EXT4_FEATURE_INCOMPAT_INLINE_DATA, "inline_data" },
	{ F_INCOMPAT, EXT2_FEATURE_INCOMPAT_COMPRESSION, "compression" },
	{ F_INCOMPAT, EXT4_FEATURE_INCOMPAT_DIRDATA, "dirdata" },
	{ F_RO_COMPAT, EXT4_FEATURE_RO_COMPAT_VERITY, "verity" },
	{ F_RO_COMPAT, EXT4_FEATURE_RO_COMPAT_READONLY, "read-only" },
	{ F_RO_COMPAT, EXT4_FEATURE_RO_COMPAT_SHARED_BLOCKS, "shared_blocks" },
	{ F_RO_COMPAT, EXT4_FEATURE_RO_COMPAT_QUOTA, "quota" },
	{ F_RO_COMPAT, EXT4_FEATURE_RO_COMPAT_PROJECT, "project" },
	{ F_RO_COMPAT, EXT4_FEATURE_RO_COMPAT_BIGALLOC, "bigalloc" },
	{ F_RO_COMPAT, EXT4_FEATURE_RO_COMPAT_ORPHAN_PRESENT,
	  "orphan_present" },
};

static uint32_t feature_word(const struct ext2_super_block *sb, int kind)
{
	switch (kind) {
	case F_COMPAT:
		return sb->s_feature_compat;
	case F_INCOMPAT:
		return sb->s_feature_incompat;
	default:
		return sb->s_feature_ro_compat;
	}
}

/* The first feature of the list that sb has, or NULL. */
static const char *refused_feature(const struct ext2_super_block *sb)
{
	size_t i;

	for (i = 0; i < sizeof(rw_refused) / sizeof(rw_refused[0]); i++)
		if (feature_word(sb, rw_refused[i].kind) & rw_refused[i].mask)
			return rw_refused[i].name;
	return NULL;
}

/*
 * The names of the feature bits in mask, a word of kind e2p_kind
 * (E2P_FEATURE_*), space separated, as dumpe2fs and tune2fs spell them:
 * the user can look them up or clear them with tune2fs -O ^NAME.  A bit
 * e2fsprogs does not know comes out as FEATURE_I11 and the like.
 */
static const char *feature_names(int e2p_kind, uint32_t mask, char *buf,
				 size_t len)
{
	size_t used = 0;
	int bit;

	buf[0] = '\0';
	for (bit = 0; bit < 32 && used < len; bit++) {
		if (!(mask & (1u << bit)))
			continue;
		used += (size_t)snprintf(buf + used, len - used, "%s%s",
					 used ? " " : "",
					 e2p_feature2string(e2p_kind,
							    1u << bit));
	}
	return buf;
}

/* ------------------------------------------------------------------------
 * Mount
 */

#define MOUNT_ERR(args, ...) snprintf((args)->errbuf, (args)->errlen, __VA_ARGS__)

/*
 * Features libext2fs itself does not know: incompat ones cannot be read
 * at all, ro_compat ones can be read but not written.
 */
static int lib_unsupported(const struct uvfs_mount_args *args,
			   const struct ext2_super_block *sb)
{
	/* ext2fs.h leaves MMP out of the mask unless the includer defines
	 * CONFIG_MMP, though Debian's library is built with it */
	uint32_t in = sb->s_feature_incompat &
		      ~(EXT2_LIB_FEATURE_INCOMPAT_SUPP |
			EXT4_FEATURE_INCOMPAT_MMP);
	uint32_t ro = sb->s_feature_ro_compat &
		      ~EXT2_LIB_FEATURE_RO_COMPAT_SUPP;
	char names[256];

	if (in) {
		MOUNT_ERR(args, "ext2: %s: unsupported filesystem feature(s) "
			  "'%s' (libext2fs cannot read them)", args->source,
			  feature_names(E2P_FEATURE_INCOMPAT, in, names,
					sizeof(names)));
		return -EOPNOTSUPP;
	}
	if (ro && !args->readonly) {
		MOUNT_ERR(args, "ext2: %s: feature(s) '%s' can only be read "
			  "(libext2fs cannot write them); mount with -o ro",
			  args->source,
			  feature_names(E2P_FEATURE_RO_INCOMPAT, ro, names,
					sizeof(names)));
		return -EROFS;
	}
	return 0;
}

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

/*
 * What the superblock says about mounting it: features libext2fs or we
 * cannot handle, a journal to replay, recorded errors.  Only once the
 * image is ours (see claim_source()): an image mounted elsewhere always
 * looks as if it needed recovery.
 */
static int check_features(const struct uvfs_mount_args *args,
			  const struct e2_mount_opts *mo,
			  const struct ext2_super_block *sbp)
{
	struct ext2_super_block sb = *sbp;
	const char *feat;
	int err;

	err = lib_unsupported(args, &sb);
	if (err || args->readonly || mo->norecovery)
		return err;
	feat = refused_feature(&sb);
	if (feat) {
		MOUNT_ERR(args, "ext2: %s: feature '%s' is supported "
			  "read-only; mount with -o ro", args->source, feat);
		return -EROFS;
	}
	if ((sb.s_feature_incompat & EXT3_FEATURE_INCOMPAT_RECOVER) &&
	    !mo->norecovery) {
		MOUNT_ERR(args, "ext2: %s: the journal needs recovery; run "
			  "e2fsck first, or mount with -o ro", args->source);
		return -EROFS;
	}
	if (sb.s_state & EXT2_ERROR_FS) {
		MOUNT_ERR(args, "ext2: %s: filesystem has errors; run e2fsck "
			  "first, or mount with -o ro", args->source);
		return -EROFS;
	}
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
	err = check_features(args, &mo, &sb);
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
	/* file data bypasses the io cache, which must then never hold a
	 * dirty block (see ext2_i.h) */
	e2->fs->io->flags |= CHANNEL_FLAGS_WRITETHROUGH;
	/* Backup superblocks are e2fsck's business, as in the kernel. */
	e2->fs->flags |= EXT2_FLAG_MASTER_SB_ONLY;
	if (!e2->ro) {
		err = start_rw(e2, args);
		if (err)
			goto err_close;
	} else if (e2->fs->super->s_feature_incompat &
		   EXT3_FEATURE_INCOMPAT_RECOVER) {
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

/* After corruption was found, the superblock says so (see e2_fs_error). */
static void note_errors(struct e2fs *e2)
{
	if (atomic_load(&e2->nerrors) &&
	    !(e2->fs->super->s_state & EXT2_ERROR_FS)) {
		e2->fs->super->s_state |= EXT2_ERROR_FS;
		ext2fs_mark_super_dirty(e2->fs);
	}
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
		note_errors(e2);
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

/* ------------------------------------------------------------------------
 * Whole-filesystem ops
 */

int e2_check_writable(struct e2fs *e2)
{
	return e2->ro || atomic_load(&e2->stopped_writing) ? -EROFS : 0;
}

/*
 * A request failed because the image is corrupt: do what errors= (or the
 * superblock's s_errors) says, as the kernel's ext4_error() does.  The
 * error flag reaches the superblock at the next sync or the unmount, so
 * that e2fsck checks the image before the next read-write mount.
 */
static void e2_fs_error(struct e2fs *e2)
{
	unsigned long n = atomic_fetch_add(&e2->nerrors, 1);

	if (n < 10 || n % 1000 == 0)
		uvfs_log_prio(LOG_ERR, "ext2: corruption found (%lu so far); "
			      "run e2fsck after unmounting", n + 1);
	switch (e2->errors) {
	case EXT2_ERRORS_PANIC:
		/* stop at once: no more writes, not even a flush */
		uvfs_log_prio(LOG_CRIT, "ext2: errors=panic: stopping the "
			      "daemon");
		_exit(EXIT_FAILURE);
	case EXT2_ERRORS_RO:
		if (!atomic_exchange(&e2->stopped_writing, true))
			uvfs_log_prio(LOG_CRIT, "ext2: errors=remount-ro: "
				      "refusing writes from now on");
		break;
	default:
		break;
	}
}

int e2_reply_err(struct uvfs_req *req, int err)
{
	if (err == -EUCLEAN)
		e2_fs_error(uvfs_req_priv(req));
	return uvfs_reply_err(req, err);
}

/* Bitmaps, group descriptors, superblock, then fsync of the image. */
int e2_fs_sync(struct e2fs *e2)
{
	errcode_t err;

	if (e2->ro)
		return 0;
	note_errors(e2);
	err = ext2fs_write_bitmaps(e2->fs);
	if (!err) {
		ext2fs_mark_super_dirty(e2->fs);
		/* also writes the io cache back and fsyncs the image */
		err = ext2fs_flush(e2->fs);
	}
	if (!err)
		e2->flushes++;
	return e2_err(err);
}

static void ext2_fsync(struct uvfs_req *req, uint64_t ino, int datasync,
		       struct uvfs_file_info *fi)
{
	struct e2fs *e2 = uvfs_req_priv(req);
	int err;

	pthread_mutex_lock(&e2->lock);
	err = e2_fs_sync(e2);
	pthread_mutex_unlock(&e2->lock);
	e2_reply_err(req, err);
}

static void ext2_statfs(struct uvfs_req *req, uint64_t ino)
{
	struct e2fs *e2 = uvfs_req_priv(req);
	struct ext2_super_block *sb;
	struct statvfs st;
	blk64_t bfree, resv;

	memset(&st, 0, sizeof(st));
	pthread_mutex_lock(&e2->lock);
	sb = e2->fs->super;
	bfree = ext2fs_free_blocks_count(sb);
	resv = ext2fs_r_blocks_count(sb);
	st.f_bsize = e2->bs;
	st.f_frsize = e2->bs;
	st.f_blocks = ext2fs_blocks_count(sb) - sb->s_first_data_block;
	st.f_bfree = bfree;
	st.f_bavail = bfree > resv ? bfree - resv : 0;
	st.f_files = sb->s_inodes_count;
	st.f_ffree = sb->s_free_inodes_count;
	st.f_favail = st.f_ffree;
	memcpy(&st.f_fsid, sb->s_uuid, sizeof(st.f_fsid));
	st.f_namemax = EXT2_NAME_LEN;
	if (e2->ro)
		st.f_flag |= ST_RDONLY;
	pthread_mutex_unlock(&e2->lock);
	uvfs_reply_statfs(req, &st);
}

/* Needed only without default_permissions; mirrors generic_permission(). */
static int check_access(const struct ext2_inode_large *in,
			const struct uvfs_ctx *ctx, int mask)
{
	unsigned int mode = in->i_mode, perm;
	uid_t uid = inode_uid(*in);
	gid_t gid = inode_gid(*in);

	mask &= R_OK | W_OK | X_OK;
	if (ctx->uid == 0) {
		if ((mask & X_OK) && !LINUX_S_ISDIR(mode) &&
		    !(mode & (S_IXUSR | S_IXGRP | S_IXOTH)))
			return -EACCES;
		return 0;
	}
	if (ctx->uid == uid)
		perm = (mode >> 6) & 7;
	else if (ctx->gid == gid)
		perm = (mode >> 3) & 7;
	else
		perm = mode & 7;
	return ((int)perm & mask) == mask ? 0 : -EACCES;
}

static void ext2_access(struct uvfs_req *req, uint64_t nodeid, int mask)
{
	struct e2fs *e2 = uvfs_req_priv(req);
	struct e2_node *n;
	int err;

	pthread_mutex_lock(&e2->lock);
	err = e2_node_get_id(e2, nodeid, &n);
	if (!err && (mask & W_OK) && e2->ro)
		err = -EROFS;
	if (!err)
		err = check_access(&n->inode, uvfs_req_ctx(req), mask);
	pthread_mutex_unlock(&e2->lock);
	e2_reply_err(req, err);
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
