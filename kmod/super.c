// SPDX-License-Identifier: GPL-2.0
/*
 * The file system type "uvfs": mount options, the super block, INIT and
 * DESTROY, statfs.
 *
 *   mount -t uvfs -o fd=N,rootmode=40755,user_id=0,group_id=0 SOURCE DIR
 *
 * fd is an open /dev/uvfs on which UVFS_IOC_SETUP was done and whose queues
 * are being served: mount(2) sends INIT and waits for its reply.
 */
#include <linux/backing-dev.h>
#include <linux/file.h>
#include <linux/fs_context.h>
#include <linux/fs_parser.h>
#include <linux/module.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/statfs.h>

#include "uvfs_i.h"

static struct kmem_cache *uvfs_inode_cachep;

static struct inode *uvfs_alloc_inode(struct super_block *sb)
{
	struct uvfs_inode *ui;

	ui = alloc_inode_sb(sb, uvfs_inode_cachep, GFP_KERNEL);
	if (!ui)
		return NULL;
	ui->nodeid = 0;
	ui->nlookup = 0;
	ui->forget = NULL;
	ui->state = 0;
	ui->attr_expires = jiffies - 1;
	ui->attr_version = 0;
	return &ui->vfs_inode;
}

static void uvfs_free_inode(struct inode *inode)
{
	kfree(UVFS_I(inode)->forget);	/* NULL unless evict never ran */
	kmem_cache_free(uvfs_inode_cachep, UVFS_I(inode));
}

static void uvfs_inode_init_once(void *p)
{
	struct uvfs_inode *ui = p;

	inode_init_once(&ui->vfs_inode);
	INIT_LIST_HEAD(&ui->write_files);
}

int uvfs_inode_cache_init(void)
{
	uvfs_inode_cachep = kmem_cache_create("uvfs_inode",
					      sizeof(struct uvfs_inode), 0,
					      SLAB_RECLAIM_ACCOUNT |
					      SLAB_ACCOUNT,
					      uvfs_inode_init_once);
	return uvfs_inode_cachep ? 0 : -ENOMEM;
}

void uvfs_inode_cache_exit(void)
{
	rcu_barrier();	/* free_inode runs after an RCU grace period */
	kmem_cache_destroy(uvfs_inode_cachep);
}

static int uvfs_statfs(struct dentry *dentry, struct kstatfs *buf)
{
	struct super_block *sb = dentry->d_sb;
	struct uvfs_statfs_out out;
	struct uvfs_args args = {
		.opcode = UVFS_OP_STATFS,
		.nodeid = uvfs_nodeid(d_inode(dentry)),
		.out_numargs = 1,
		.out_args[0] = { sizeof(out), &out },
	};
	int err;

	memset(&out, 0, sizeof(out));
	err = uvfs_send(UVFS_FS(sb)->conn, &args);
	if (err)
		return err;
	buf->f_type = UVFS_SUPER_MAGIC;
	buf->f_bsize = out.bsize;
	buf->f_frsize = out.frsize ? out.frsize : out.bsize;
	buf->f_blocks = out.blocks;
	buf->f_bfree = out.bfree;
	buf->f_bavail = out.bavail;
	buf->f_files = out.files;
	buf->f_ffree = out.ffree;
	buf->f_namelen = min_t(u32, out.namelen, UVFS_NAME_MAX);
	return 0;
}

static int uvfs_show_options(struct seq_file *m, struct dentry *root)
{
	struct uvfs_fs *fs = UVFS_FS(root->d_sb);

	seq_printf(m, ",user_id=%u", from_kuid_munged(&init_user_ns,
						      fs->user_id));
	seq_printf(m, ",group_id=%u", from_kgid_munged(&init_user_ns,
						       fs->group_id));
	if (fs->default_permissions)
		seq_puts(m, ",default_permissions");
	if (fs->allow_other)
		seq_puts(m, ",allow_other");
	if (fs->max_read != ~0U)
		seq_printf(m, ",max_read=%u", fs->max_read);
	return 0;
}

/*
 * Writeback mode: a write or an mmap write stamped mtime/ctime (or a
 * WRITE from writeback made the daemon stamp its own): the kernel's times
 * are to be sent (UVFS_I_WB_ATTR).
 */
static void uvfs_dirty_inode(struct inode *inode, int flags)
{
	if (UVFS_FS(inode->i_sb)->writeback && S_ISREG(inode->i_mode))
		set_bit(UVFS_I_WB_ATTR, &UVFS_I(inode)->state);
}

/*
 * Called by writeback after the inode's pages: send the times.  While
 * pages are still dirty or in flight the times wait for them (their
 * WRITE marks the inode dirty again, so this runs once more after it).
 */
static int uvfs_write_inode(struct inode *inode,
			    struct writeback_control *wbc)
{
	struct address_space *mapping = inode->i_mapping;

	if (!UVFS_FS(inode->i_sb)->writeback || !S_ISREG(inode->i_mode))
		return 0;
	if (mapping_tagged(mapping, PAGECACHE_TAG_DIRTY) ||
	    mapping_tagged(mapping, PAGECACHE_TAG_WRITEBACK))
		return 0;
	return uvfs_wb_flush_attr(inode, NULL);
}

static int uvfs_sync_fs(struct super_block *sb, int wait)
{
	/* Data and times went out with the inodes; forgets remain. */
	if (sb->s_fs_info)
		uvfs_flush_forgets(UVFS_FS(sb));
	return 0;
}

static const struct super_operations uvfs_super_ops = {
	.alloc_inode = uvfs_alloc_inode,
	.free_inode = uvfs_free_inode,
	.evict_inode = uvfs_evict_inode,
	.dirty_inode = uvfs_dirty_inode,
	.write_inode = uvfs_write_inode,
	.drop_inode = generic_delete_inode,
	.statfs = uvfs_statfs,
	.show_options = uvfs_show_options,
	.sync_fs = uvfs_sync_fs,
};

/* ---- mount options ---- */

struct uvfs_fs_context {
	struct uvfs_conn *conn;
	unsigned int rootmode;
	kuid_t user_id;
	kgid_t group_id;
	unsigned int max_read;
	bool fd_present, rootmode_present, user_id_present, group_id_present;
	bool allow_other, default_permissions;
};

enum {
	OPT_FD,
	OPT_ROOTMODE,
	OPT_USER_ID,
	OPT_GROUP_ID,
	OPT_ALLOW_OTHER,
	OPT_DEFAULT_PERMISSIONS,
	OPT_MAX_READ,
};

static const struct fs_parameter_spec uvfs_fs_parameters[] = {
	fsparam_u32("fd", OPT_FD),
	fsparam_u32oct("rootmode", OPT_ROOTMODE),
	fsparam_u32("user_id", OPT_USER_ID),
	fsparam_u32("group_id", OPT_GROUP_ID),
	fsparam_flag("allow_other", OPT_ALLOW_OTHER),
	fsparam_flag("default_permissions", OPT_DEFAULT_PERMISSIONS),
	fsparam_u32("max_read", OPT_MAX_READ),
	{}
};

static int uvfs_parse_fd(struct fs_context *fc, struct uvfs_fs_context *ctx,
			 unsigned int fd)
{
	struct file *file;

	if (ctx->conn)
		return invalfc(fc, "fd given twice");
	file = fget(fd);
	if (!file)
		return invalfc(fc, "fd: bad file descriptor");
	if (file->f_op != &uvfs_dev_fops) {
		fput(file);
		return invalfc(fc, "fd is not /dev/uvfs");
	}
	ctx->conn = file->private_data;
	uvfs_conn_get(ctx->conn);
	fput(file);
	ctx->fd_present = true;
	return 0;
}

static int uvfs_parse_param(struct fs_context *fc, struct fs_parameter *param)
{
	struct uvfs_fs_context *ctx = fc->fs_private;
	struct fs_parse_result result;
	int opt;

	opt = fs_parse(fc, uvfs_fs_parameters, param, &result);
	if (opt < 0)
		return opt;

	switch (opt) {
	case OPT_FD:
		return uvfs_parse_fd(fc, ctx, result.uint_32);
	case OPT_ROOTMODE:
		if (!S_ISDIR(result.uint_32) || (result.uint_32 & ~(S_IFMT |
								  07777)))
			return invalfc(fc, "rootmode must be a directory mode");
		ctx->rootmode = result.uint_32;
		ctx->rootmode_present = true;
		break;
	case OPT_USER_ID:
		ctx->user_id = make_kuid(fc->user_ns, result.uint_32);
		if (!uid_valid(ctx->user_id))
			return invalfc(fc, "invalid user_id");
		ctx->user_id_present = true;
		break;
	case OPT_GROUP_ID:
		ctx->group_id = make_kgid(fc->user_ns, result.uint_32);
		if (!gid_valid(ctx->group_id))
			return invalfc(fc, "invalid group_id");
		ctx->group_id_present = true;
		break;
	case OPT_ALLOW_OTHER:
		ctx->allow_other = true;
		break;
	case OPT_DEFAULT_PERMISSIONS:
		ctx->default_permissions = true;
		break;
	case OPT_MAX_READ:
		ctx->max_read = result.uint_32;
		break;
	default:
		return -EINVAL;
	}
	return 0;
}

/* ---- INIT / DESTROY ---- */

/*
 * INIT: the reply is uvfs_init_out (32 bytes up to minor 0, 40 from minor
 * 1: max_filesize) and the backend's name; the kernel reads it as one
 * variable buffer and splits it by the minor the daemon answered.
 */
static int uvfs_send_init(struct super_block *sb, struct uvfs_fs *fs)
{
	struct uvfs_init_in in = {
		.major = UVFS_PROTO_MAJOR,
		.minor = UVFS_PROTO_MINOR,
		.flags = UVFS_INIT_RENAME_FLAGS | UVFS_INIT_READDIRPLUS |
			 UVFS_INIT_WRITEBACK,
	};
	struct uvfs_init_out out;
	char buf[sizeof(out) + UVFS_SUBTYPE_MAX];
	struct uvfs_args args = {
		.opcode = UVFS_OP_INIT,
		.nocreds = true,
		.in_numargs = 1,
		.in_args[0] = { sizeof(in), &in },
		.out_numargs = 1,
		.out_argvar = true,
		.out_args[0] = { sizeof(buf), buf },
	};
	unsigned int i, len, outlen;
	const char *name;
	int err;

	in.max_write = fs->max_write;
	memset(&out, 0, sizeof(out));
	err = uvfs_send(fs->conn, &args);
	if (err) {
		pr_warn("uvfs: INIT failed: %d\n", err);
		return err == -ENOSYS ? -EPROTO : err;
	}
	/* 1.0 had no max_filesize: the reply's struct was 32 bytes */
	outlen = offsetof(struct uvfs_init_out, max_filesize);
	if (args.out_size >= 8 && ((struct uvfs_init_out *)buf)->minor >= 1)
		outlen = sizeof(out);
	if (args.out_size < outlen) {
		uvfs_warn_bad_reply(UVFS_OP_INIT, "short reply");
		return -EPROTO;
	}
	memcpy(&out, buf, outlen);
	if (out.major != UVFS_PROTO_MAJOR) {
		pr_warn("uvfs: daemon speaks protocol %u.%u, we speak %u.%u\n",
			out.major, out.minor, UVFS_PROTO_MAJOR,
			UVFS_PROTO_MINOR);
		return -EPROTO;
	}
	if (out.max_write >= PAGE_SIZE && out.max_write < fs->max_write)
		fs->max_write = rounddown(out.max_write, PAGE_SIZE);
	fs->rename_flags = out.flags & UVFS_INIT_RENAME_FLAGS;
	fs->readdirplus = out.flags & UVFS_INIT_READDIRPLUS;
	fs->writeback = out.flags & UVFS_INIT_WRITEBACK;
	fs->max_readahead = out.max_readahead;
	/* writes stop there with EFBIG, as on the backend's own kernel fs */
	if (out.max_filesize && out.max_filesize < (u64)MAX_LFS_FILESIZE)
		sb->s_maxbytes = out.max_filesize;
	fs->initialized = true;

	len = args.out_size - outlen;
	name = buf + outlen;
	if (out.subtype_len != len) {
		uvfs_warn_bad_reply(UVFS_OP_INIT, "subtype length");
		return 0;	/* harmless: mount without a subtype */
	}
	for (i = 0; i < len; i++)
		if (!isalnum(name[i]) && name[i] != '_' && name[i] != '-' &&
		    name[i] != '.')
			return 0;
	if (len) {
		sb->s_subtype = kstrndup(name, len, GFP_KERNEL);
		if (!sb->s_subtype)
			return -ENOMEM;
	}
	return 0;
}

static void uvfs_send_destroy(struct uvfs_fs *fs)
{
	struct uvfs_args args = {
		.opcode = UVFS_OP_DESTROY,
		.nocreds = true,
	};
	int err;

	err = uvfs_send(fs->conn, &args);
	if (err && err != -ENOTCONN)
		pr_warn_ratelimited("uvfs: DESTROY failed: %d\n", err);
}

static struct inode *uvfs_get_root(struct super_block *sb,
				   struct uvfs_fs_context *ctx)
{
	struct uvfs_fs *fs = UVFS_FS(sb);
	struct uvfs_getattr_in in = {};
	struct uvfs_attr_out out;
	struct uvfs_args args = {
		.opcode = UVFS_OP_GETATTR,
		.nodeid = UVFS_ROOT_ID,
		.in_numargs = 1,
		.in_args[0] = { sizeof(in), &in },
		.out_numargs = 1,
		.out_args[0] = { sizeof(out), &out },
	};
	int err;

	memset(&out, 0, sizeof(out));
	err = uvfs_send(fs->conn, &args);
	if (err || !uvfs_attr_valid(&out.attr) || !S_ISDIR(out.attr.mode)) {
		if (!err)
			uvfs_warn_bad_reply(UVFS_OP_GETATTR, "bad root attr");
		if (err == -ENOTCONN || err == -EINTR)
			return ERR_PTR(err);
		/* Fall back to the mount options; refreshed later. */
		memset(&out, 0, sizeof(out));
		out.attr.mode = ctx->rootmode_present ? ctx->rootmode :
				(S_IFDIR | 0755);
		out.attr.ino = UVFS_ROOT_ID;
		out.attr.nlink = 2;
		out.attr.uid = from_kuid(&init_user_ns, fs->user_id);
		out.attr.gid = from_kgid(&init_user_ns, fs->group_id);
		out.attr_valid_ns = 0;
	}
	return uvfs_iget(sb, UVFS_ROOT_ID, &out.attr, out.attr_valid_ns, 0);
}

static int uvfs_fill_super(struct super_block *sb, struct fs_context *fc)
{
	struct uvfs_fs_context *ctx = fc->fs_private;
	struct uvfs_fs *fs;
	struct inode *root;
	int err;

	fs = kzalloc(sizeof(*fs), GFP_KERNEL);
	if (!fs)
		return -ENOMEM;
	fs->forget_buf = kcalloc(UVFS_FORGET_BATCH, sizeof(*fs->forget_buf),
				 GFP_KERNEL);
	if (!fs->forget_buf) {
		kfree(fs);
		return -ENOMEM;
	}
	spin_lock_init(&fs->forget_lock);
	spin_lock_init(&fs->space_lock);
	mutex_init(&fs->space_mutex);
	fs->space_bsize = PAGE_SIZE;
	INIT_LIST_HEAD(&fs->forget_list);
	INIT_DELAYED_WORK(&fs->forget_work, uvfs_forget_work);
	mutex_init(&fs->forget_send_lock);
	/* From here on, kill_sb frees fs and drops the connection. */
	fs->conn = ctx->conn;
	ctx->conn = NULL;
	sb->s_fs_info = fs;

	if (!smp_load_acquire(&fs->conn->setup_done))
		return invalf(fc, "uvfs: UVFS_IOC_SETUP not done on fd");
	if (atomic_cmpxchg(&fs->conn->mounted, 0, 1) != 0)
		return invalf(fc, "uvfs: channel already mounted");
	fs->owns_conn = true;

	fs->user_id = ctx->user_id_present ? ctx->user_id : current_fsuid();
	fs->group_id = ctx->group_id_present ? ctx->group_id : current_fsgid();
	fs->rootmode = ctx->rootmode;
	fs->allow_other = ctx->allow_other;
	fs->default_permissions = ctx->default_permissions;
	fs->max_read = ctx->max_read ? ctx->max_read : ~0U;
	fs->max_write = rounddown(uvfs_max_payload(fs->conn), PAGE_SIZE);

	sb->s_magic = UVFS_SUPER_MAGIC;
	sb->s_op = &uvfs_super_ops;
	sb->s_d_op = &uvfs_dentry_ops;
	sb->s_xattr = uvfs_xattr_handlers;
	sb->s_maxbytes = MAX_LFS_FILESIZE;
	sb->s_time_gran = 1;
	sb->s_blocksize = PAGE_SIZE;
	sb->s_blocksize_bits = PAGE_SHIFT;
	sb->s_iflags |= SB_I_IMA_UNVERIFIABLE_SIGNATURE;
	/*
	 * S_NOSEC caching: after one look for security.capability a write
	 * need not ask again, until the mode gains suid/sgid or a security
	 * xattr is set (both clear S_NOSEC, see inode.c and xattr.c).
	 */
	sb->s_flags |= SB_NOSEC;

	err = super_setup_bdi(sb);
	if (err)
		return err;

	err = uvfs_send_init(sb, fs);
	if (err)
		return err;
	sb->s_bdi->ra_pages = min_t(unsigned long,
				    fs->max_readahead / PAGE_SIZE,
				    fs->max_write / PAGE_SIZE);

	root = uvfs_get_root(sb, ctx);
	if (IS_ERR(root))
		return PTR_ERR(root);
	sb->s_root = d_make_root(root);
	if (!sb->s_root)
		return -ENOMEM;
	down_write(&fs->conn->sb_lock);
	fs->conn->sb = sb;
	up_write(&fs->conn->sb_lock);
	return 0;
}

static int uvfs_get_tree(struct fs_context *fc)
{
	struct uvfs_fs_context *ctx = fc->fs_private;

	if (!ctx->fd_present)
		return invalfc(fc, "missing fd=");
	return get_tree_nodev(fc, uvfs_fill_super);
}

static void uvfs_free_fc(struct fs_context *fc)
{
	struct uvfs_fs_context *ctx = fc->fs_private;

	if (ctx) {
		if (ctx->conn)
			uvfs_conn_put(ctx->conn);
		kfree(ctx);
	}
}

static const struct fs_context_operations uvfs_context_ops = {
	.free = uvfs_free_fc,
	.parse_param = uvfs_parse_param,
	.get_tree = uvfs_get_tree,
};

static int uvfs_init_fs_context(struct fs_context *fc)
{
	struct uvfs_fs_context *ctx;

	ctx = kzalloc(sizeof(*ctx), GFP_KERNEL);
	if (!ctx)
		return -ENOMEM;
	ctx->rootmode = S_IFDIR | 0755;
	fc->fs_private = ctx;
	fc->ops = &uvfs_context_ops;
	return 0;
}

/*
 * Unmount is synchronous: after the inodes are gone (and their forgets
 * sent) and background requests (RELEASE) are answered, DESTROY tells the
 * backend to flush, and we wait for it.
 */
static void uvfs_kill_sb(struct super_block *sb)
{
	struct uvfs_fs *fs = sb->s_fs_info;

	if (fs && fs->owns_conn) {	/* no more notifications */
		down_write(&fs->conn->sb_lock);
		fs->conn->sb = NULL;
		up_write(&fs->conn->sb_lock);
	}
	kill_anon_super(sb);
	if (!fs)
		return;
	/* All inodes are gone: their forgets are queued; no new ones. */
	cancel_delayed_work_sync(&fs->forget_work);
	if (fs->initialized) {
		uvfs_flush_forgets(fs);
		uvfs_wait_background(fs->conn);
		uvfs_send_destroy(fs);
	}
	if (fs->owns_conn)
		uvfs_conn_shutdown(fs->conn);
	uvfs_conn_put(fs->conn);
	uvfs_drop_forgets(fs);
	kfree(fs->forget_buf);
	kfree(fs);
}

struct file_system_type uvfs_fs_type = {
	.owner = THIS_MODULE,
	.name = "uvfs",
	.init_fs_context = uvfs_init_fs_context,
	.parameters = uvfs_fs_parameters,
	.kill_sb = uvfs_kill_sb,
};
MODULE_ALIAS_FS("uvfs");
