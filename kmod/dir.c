// SPDX-License-Identifier: GPL-2.0
/*
 * Directories: lookup and dentry revalidation (with the daemon's entry
 * timeouts), the name-changing operations, readdir.
 */
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/namei.h>
#include <linux/pagemap.h>
#include <linux/slab.h>

#include "uvfs_i.h"

static void uvfs_set_entry_expiry(struct dentry *dentry, u64 valid_ns)
{
	dentry->d_time = uvfs_expiry(valid_ns);
}

/* Check an entry reply; positive says whether a node id is required. */
static int uvfs_check_entry(u32 opcode, const struct uvfs_entry_out *e,
			    bool positive)
{
	if (!e->nodeid) {
		if (positive) {
			uvfs_warn_bad_reply(opcode, "node id 0");
			return -EIO;
		}
		return 0;
	}
	if (!uvfs_attr_valid(&e->attr)) {
		uvfs_warn_bad_reply(opcode, "invalid attributes");
		return -EIO;
	}
	if (e->nodeid == UVFS_ROOT_ID && opcode != UVFS_OP_LOOKUP) {
		uvfs_warn_bad_reply(opcode, "new entry is the root");
		return -EIO;
	}
	return 0;
}

static int uvfs_do_lookup(struct inode *dir, const struct qstr *name,
			  struct uvfs_entry_out *out)
{
	struct uvfs_args args = {
		.opcode = UVFS_OP_LOOKUP,
		.nodeid = uvfs_nodeid(dir),
		.in_numargs = 1,
		.in_args[0] = { name->len + 1, name->name },
		.out_numargs = 1,
		.out_args[0] = { sizeof(*out), out },
	};
	int err;

	if (name->len > UVFS_NAME_MAX)
		return -ENAMETOOLONG;
	memset(out, 0, sizeof(*out));
	err = uvfs_send(uvfs_conn_of(dir), &args);
	if (err)
		return err;
	return uvfs_check_entry(UVFS_OP_LOOKUP, out, false);
}

static struct dentry *uvfs_lookup(struct inode *dir, struct dentry *dentry,
				  unsigned int flags)
{
	struct uvfs_entry_out out;
	struct inode *inode = NULL;
	struct dentry *res;
	u64 av;
	int err;

	if (uvfs_is_bad(dir))
		return ERR_PTR(-EIO);
	av = uvfs_attr_version(dir->i_sb);
	err = uvfs_do_lookup(dir, &dentry->d_name, &out);
	if (err == -ENOENT) {
		/* Not cacheable: the daemon gave no timeout. */
		dentry->d_time = jiffies - 1;
		d_add(dentry, NULL);
		return NULL;
	}
	if (err)
		return ERR_PTR(err);
	if (out.nodeid) {
		inode = uvfs_iget(dir->i_sb, out.nodeid, &out.attr,
				  out.attr_valid_ns, av);
		if (IS_ERR(inode)) {
			if (PTR_ERR(inode) == -ENOMEM)
				uvfs_queue_forget(UVFS_FS(dir->i_sb),
						  out.nodeid, 1);
			return ERR_CAST(inode);
		}
	}
	res = d_splice_alias(inode, dentry);
	if (IS_ERR(res))
		return res;
	uvfs_set_entry_expiry(res ? res : dentry, out.entry_valid_ns);
	return res;
}

static int uvfs_d_revalidate(struct dentry *dentry, unsigned int flags)
{
	struct inode *inode = d_inode_rcu(dentry);
	struct uvfs_entry_out out;
	struct dentry *parent;
	u64 av;
	int ret;

	/* a bad inode's dentries go, even unexpired: look up again */
	if (inode && uvfs_is_bad(inode))
		return 0;
	if (!uvfs_expired(READ_ONCE(dentry->d_time)))
		return 1;
	if (!inode)
		return 0;	/* stale negative entry: look up again */
	if (flags & LOOKUP_RCU)
		return -ECHILD;

	parent = dget_parent(dentry);
	av = uvfs_attr_version(dentry->d_sb);
	ret = uvfs_do_lookup(d_inode(parent), &dentry->d_name, &out);
	dput(parent);
	if (ret == -ENOENT || (!ret && !out.nodeid))
		return 0;
	if (ret)
		return ret == -ENOTCONN || ret == -EINTR ? ret : 0;
	if (out.nodeid == uvfs_nodeid(inode) &&
	    out.nodeid != UVFS_ROOT_ID &&
	    ((inode->i_mode ^ out.attr.mode) & S_IFMT)) {
		/* Same node, another type: the inode may be in use. */
		uvfs_warn_bad_reply(UVFS_OP_LOOKUP, "node changed type");
		uvfs_make_bad(inode);
	}
	if (out.nodeid != uvfs_nodeid(inode) || uvfs_is_bad(inode)) {
		/* Another node now: we hold a lookup on it we won't use. */
		uvfs_queue_forget(UVFS_FS(dentry->d_sb), out.nodeid, 1);
		return 0;
	}
	spin_lock(&inode->i_lock);
	UVFS_I(inode)->nlookup++;
	spin_unlock(&inode->i_lock);
	uvfs_change_attr(inode, &out.attr, out.attr_valid_ns, av);
	uvfs_set_entry_expiry(dentry, out.entry_valid_ns);
	return 1;
}

const struct dentry_operations uvfs_dentry_ops = {
	.d_revalidate = uvfs_d_revalidate,
};

/*
 * Send a request that makes a new name (MKNOD, MKDIR, SYMLINK, LINK),
 * check the entry it returns and instantiate dentry.
 */
static int uvfs_new_entry(struct inode *dir, struct dentry *dentry,
			  struct uvfs_args *args, umode_t type)
{
	struct uvfs_entry_out out;
	struct inode *inode;
	u64 av = uvfs_attr_version(dir->i_sb);
	int err;

	if (uvfs_is_bad(dir))
		return -EIO;
	memset(&out, 0, sizeof(out));
	args->nodeid = uvfs_nodeid(dir);
	args->umask = current_umask();
	args->out_numargs = 1;
	args->out_args[0].size = sizeof(out);
	args->out_args[0].value = &out;
	err = uvfs_send(uvfs_conn_of(dir), args);
	if (err)
		return err;
	uvfs_invalidate_stat(dir);
	err = uvfs_check_entry(args->opcode, &out, true);
	if (!err && (out.attr.mode & S_IFMT) != type) {
		uvfs_warn_bad_reply(args->opcode, "wrong file type");
		err = -EIO;
	}
	if (err) {
		if (out.nodeid)
			uvfs_queue_forget(UVFS_FS(dir->i_sb), out.nodeid, 1);
		return err;
	}
	inode = uvfs_iget(dir->i_sb, out.nodeid, &out.attr, out.attr_valid_ns,
			  av);
	if (IS_ERR(inode)) {
		if (PTR_ERR(inode) == -ENOMEM)
			uvfs_queue_forget(UVFS_FS(dir->i_sb), out.nodeid, 1);
		return PTR_ERR(inode);
	}
	d_instantiate(dentry, inode);
	uvfs_set_entry_expiry(dentry, out.entry_valid_ns);
	return 0;
}

static int uvfs_mknod(struct user_namespace *ns, struct inode *dir,
		      struct dentry *dentry, umode_t mode, dev_t rdev)
{
	struct uvfs_mknod_in in = {
		.mode = mode,
		.rdev = new_encode_dev(rdev),
	};
	struct uvfs_args args = {
		.opcode = UVFS_OP_MKNOD,
		.in_numargs = 2,
		.in_args[0] = { sizeof(in), &in },
		.in_args[1] = { dentry->d_name.len + 1, dentry->d_name.name },
	};

	return uvfs_new_entry(dir, dentry, &args, mode & S_IFMT);
}

static int uvfs_mkdir(struct user_namespace *ns, struct inode *dir,
		      struct dentry *dentry, umode_t mode)
{
	struct uvfs_mkdir_in in = { .mode = mode & 07777 };
	struct uvfs_args args = {
		.opcode = UVFS_OP_MKDIR,
		.in_numargs = 2,
		.in_args[0] = { sizeof(in), &in },
		.in_args[1] = { dentry->d_name.len + 1, dentry->d_name.name },
	};

	return uvfs_new_entry(dir, dentry, &args, S_IFDIR);
}

static int uvfs_symlink(struct user_namespace *ns, struct inode *dir,
			struct dentry *dentry, const char *target)
{
	size_t len = strlen(target);
	struct uvfs_args args = {
		.opcode = UVFS_OP_SYMLINK,
		.in_numargs = 2,
		.in_args[0] = { dentry->d_name.len + 1, dentry->d_name.name },
		.in_args[1] = { len + 1, target },
	};

	if (len > UVFS_SYMLINK_MAX)
		return -ENAMETOOLONG;
	return uvfs_new_entry(dir, dentry, &args, S_IFLNK);
}

static int uvfs_link(struct dentry *old, struct inode *dir,
		     struct dentry *dentry)
{
	struct inode *inode = d_inode(old);
	struct uvfs_link_in in = { .oldnodeid = uvfs_nodeid(inode) };
	struct uvfs_args args = {
		.opcode = UVFS_OP_LINK,
		.in_numargs = 2,
		.in_args[0] = { sizeof(in), &in },
		.in_args[1] = { dentry->d_name.len + 1, dentry->d_name.name },
	};
	int err;

	if (uvfs_is_bad(inode))
		return -EIO;
	err = uvfs_new_entry(dir, dentry, &args, inode->i_mode & S_IFMT);
	if (!err)
		uvfs_invalidate_stat(inode);	/* nlink, ctime */
	return err;
}

static int uvfs_remove(struct inode *dir, struct dentry *dentry, u32 opcode)
{
	struct inode *inode = d_inode(dentry);
	struct uvfs_args args = {
		.opcode = opcode,
		.nodeid = uvfs_nodeid(dir),
		.in_numargs = 1,
		.in_args[0] = { dentry->d_name.len + 1, dentry->d_name.name },
	};
	int err;

	if (uvfs_is_bad(dir))
		return -EIO;
	err = uvfs_send(uvfs_conn_of(dir), &args);
	if (err)
		return err;
	uvfs_invalidate_stat(dir);
	uvfs_invalidate_stat(inode);
	spin_lock(&inode->i_lock);
	if (opcode == UVFS_OP_RMDIR)
		clear_nlink(inode);
	else if (inode->i_nlink > 0)
		drop_nlink(inode);
	spin_unlock(&inode->i_lock);
	uvfs_attr_changed(inode);	/* older replies have the old count */
	dentry->d_time = jiffies - 1;
	return 0;
}

static int uvfs_unlink(struct inode *dir, struct dentry *dentry)
{
	return uvfs_remove(dir, dentry, UVFS_OP_UNLINK);
}

static int uvfs_rmdir(struct inode *dir, struct dentry *dentry)
{
	return uvfs_remove(dir, dentry, UVFS_OP_RMDIR);
}

static int uvfs_rename(struct user_namespace *ns, struct inode *olddir,
		       struct dentry *olddentry, struct inode *newdir,
		       struct dentry *newdentry, unsigned int flags)
{
	struct uvfs_fs *fs = UVFS_FS(olddir->i_sb);
	struct uvfs_rename_in in = { .newdir = uvfs_nodeid(newdir) };
	struct uvfs_args args = {
		.opcode = UVFS_OP_RENAME,
		.nodeid = uvfs_nodeid(olddir),
		.in_numargs = 3,
		.in_args[0] = { sizeof(in), &in },
		.in_args[1] = { olddentry->d_name.len + 1,
				olddentry->d_name.name },
		.in_args[2] = { newdentry->d_name.len + 1,
				newdentry->d_name.name },
	};
	struct inode *target = d_inode(newdentry);
	int err;

	if (uvfs_is_bad(olddir) || uvfs_is_bad(newdir))
		return -EIO;
	if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE))
		return -EINVAL;
	if (flags && !fs->rename_flags)
		return -EINVAL;
	if (flags & RENAME_NOREPLACE)
		in.flags |= UVFS_RENAME_NOREPLACE;
	if (flags & RENAME_EXCHANGE)
		in.flags |= UVFS_RENAME_EXCHANGE;
	err = uvfs_send(fs->conn, &args);
	if (err)
		return err == -ENOSYS && flags ? -EINVAL : err;

	uvfs_invalidate_stat(olddir);
	uvfs_invalidate_stat(newdir);
	uvfs_invalidate_stat(d_inode(olddentry));
	if (target) {
		uvfs_invalidate_stat(target);
		if (!(flags & RENAME_EXCHANGE)) {
			spin_lock(&target->i_lock);
			if (S_ISDIR(target->i_mode))
				clear_nlink(target);
			else if (target->i_nlink > 0)
				drop_nlink(target);
			spin_unlock(&target->i_lock);
			uvfs_attr_changed(target);
		}
	}
	return 0;
}

/*
 * Create and open in one round trip.  A name the dcache does not know yet
 * is not looked up first: CREATE goes out at once, and only if the daemon
 * answers EEXIST (the name exists; it never opens an existing file) is the
 * name looked up and, without O_EXCL, opened by ->open.  So creating new
 * names costs one round trip, and the first open(O_CREAT) of an existing,
 * uncached name two, as a LOOKUP would have cost anyway.
 */
static int uvfs_atomic_open(struct inode *dir, struct dentry *dentry,
			    struct file *file, unsigned int flags,
			    umode_t mode)
{
	struct uvfs_fs *fs = UVFS_FS(dir->i_sb);
	struct uvfs_create_in in = {
		.flags = flags & ~(O_NOCTTY | O_CREAT | O_EXCL),
		.mode = mode,
	};
	struct uvfs_create_out out;
	u64 av;
	struct uvfs_args args = {
		.opcode = UVFS_OP_CREATE,
		.nodeid = uvfs_nodeid(dir),
		.umask = current_umask(),
		.in_numargs = 2,
		.in_args[0] = { sizeof(in), &in },
		.in_args[1] = { dentry->d_name.len + 1, dentry->d_name.name },
		.out_numargs = 1,
		.out_args[0] = { sizeof(out), &out },
	};
	struct dentry *res = NULL;
	struct uvfs_file *ff;
	struct inode *inode;
	int err;

	if (uvfs_is_bad(dir))
		return -EIO;
	if (!(flags & O_CREAT) || d_really_is_positive(dentry) ||
	    test_bit(UVFS_OP_CREATE, fs->conn->nosys))
		goto lookup;

	ff = kzalloc(sizeof(*ff), GFP_KERNEL);
	if (!ff)
		return -ENOMEM;
	memset(&out, 0, sizeof(out));
	av = uvfs_attr_version(dir->i_sb);
	err = uvfs_send(fs->conn, &args);
	if (err == -ENOSYS || (err == -EEXIST && !(flags & O_EXCL) &&
			       d_in_lookup(dentry))) {
		kfree(ff);
		goto lookup;
	}
	if (err == -EEXIST && !d_in_lookup(dentry)) {
		/*
		 * Our negative entry was stale: drop it, and without O_EXCL
		 * have the VFS redo the open with a fresh lookup.
		 */
		dentry->d_time = jiffies - 1;
		if (!(flags & O_EXCL))
			err = -EOPENSTALE;
	}
	if (err)
		goto out_free;
	uvfs_invalidate_stat(dir);
	err = uvfs_check_entry(UVFS_OP_CREATE, &out.entry, true);
	if (!err && !S_ISREG(out.entry.attr.mode)) {
		uvfs_warn_bad_reply(UVFS_OP_CREATE, "not a regular file");
		err = -EIO;
	}
	if (err) {
		if (out.entry.nodeid)
			uvfs_queue_forget(fs, out.entry.nodeid, 1);
		goto out_free;
	}
	ff->fh = out.open.fh;
	ff->open_flags = out.open.open_flags;
	inode = uvfs_iget(dir->i_sb, out.entry.nodeid, &out.entry.attr,
			  out.entry.attr_valid_ns, av);
	if (IS_ERR(inode)) {
		err = PTR_ERR(inode);
		goto out_release;
	}
	inode_has_no_xattr(inode);	/* a new file has no capability */
	if (d_in_lookup(dentry)) {
		/*
		 * A dentry still in lookup is hashed by d_splice_alias();
		 * a regular file has no aliases to find, so it returns
		 * NULL and dentry is now positive.
		 */
		res = d_splice_alias(inode, dentry);
		if (IS_ERR_OR_NULL(res)) {
			err = PTR_ERR_OR_ZERO(res);
			res = NULL;
		} else {
			dentry = res;
		}
		if (err)
			goto out_release;
	} else {
		d_instantiate(dentry, inode);
	}
	uvfs_set_entry_expiry(dentry, out.entry.entry_valid_ns);
	file->f_mode |= FMODE_CREATED;
	err = finish_open(file, dentry, generic_file_open);
	if (err)
		goto out_release;
	uvfs_file_attach(inode, file, ff, false);
	dput(res);
	return 0;

out_release:
	uvfs_release_common(fs->conn, out.entry.nodeid, ff, flags, false);
	goto out_dput;

lookup:
	/* An existing name (->open opens it), or no CREATE at all. */
	if (d_in_lookup(dentry)) {
		res = uvfs_lookup(dir, dentry, 0);
		if (IS_ERR(res))
			return PTR_ERR(res);
		if (res)
			dentry = res;
	}
	if (!(flags & O_CREAT) || d_really_is_positive(dentry))
		return finish_no_open(file, res);
	/* No CREATE: mknod, then ->open sends OPEN. */
	err = uvfs_mknod(&init_user_ns, dir, dentry, (mode & 07777) | S_IFREG,
			 0);
	if (err)
		goto out_dput;
	file->f_mode |= FMODE_CREATED;
	return finish_no_open(file, res);

out_free:
	kfree(ff);
	return err;
out_dput:
	dput(res);
	return err;
}

static int uvfs_create(struct user_namespace *ns, struct inode *dir,
		       struct dentry *dentry, umode_t mode, bool excl)
{
	return uvfs_mknod(ns, dir, dentry, mode, 0);
}

/* ---- readdir ---- */

static int uvfs_dir_open(struct inode *inode, struct file *file)
{
	return uvfs_open_common(inode, file, true);
}

static int uvfs_dir_release(struct inode *inode, struct file *file)
{
	struct uvfs_file *ff = file->private_data;

	if (ff)
		uvfs_release_common(uvfs_conn_of(inode), uvfs_nodeid(inode),
				    ff, file->f_flags, true);
	return 0;
}

/*
 * Readdir asks READDIRPLUS when the daemon offers it: each record then
 * carries the entry a LOOKUP would return, and is put into the dcache and
 * icache, so that the stat(2) and open(2) of a listing's names that
 * usually follow (ls -l, find, du, cp -r) cost no round trip.
 */
#define UVFS_READDIR_BUF (16 * 1024)

struct uvfs_dirent_rec {
	struct uvfs_dirent d;
	struct uvfs_entry_out e;	/* READDIRPLUS only */
	const char *name;
	size_t reclen;
};

/* Parse the record at buf (len bytes left); -EIO if it is malformed. */
static int uvfs_parse_dirent(const char *buf, size_t len, bool plus,
			     struct uvfs_dirent_rec *r)
{
	size_t head = plus ? sizeof(struct uvfs_direntplus) : sizeof(r->d);

	if (len < head)
		return -EIO;
	if (plus)
		memcpy(&r->e, buf, sizeof(r->e));
	memcpy(&r->d, buf + head - sizeof(r->d), sizeof(r->d));
	if (!r->d.namelen || r->d.namelen > UVFS_NAME_MAX || r->d.type > 15)
		return -EIO;
	r->reclen = plus ? UVFS_DIRENTPLUS_SIZE(r->d.namelen) :
			   UVFS_DIRENT_SIZE(r->d.namelen);
	if (r->reclen > len)
		return -EIO;
	r->name = buf + head;
	if (memchr(r->name, '/', r->d.namelen) ||
	    memchr(r->name, '\0', r->d.namelen))
		return -EIO;
	return 0;
}

static bool uvfs_is_dot_or_dotdot(const char *name, unsigned int len)
{
	return name[0] == '.' &&
	       (len == 1 || (len == 2 && name[1] == '.'));
}

/*
 * Put a READDIRPLUS record's entry into the dcache, as uvfs_lookup()
 * would.  The daemon counted a lookup of the node (except for "." and
 * ".."), so the count is kept on its inode or given back by a FORGET.  A
 * name the dcache already holds for another node, or as negative, is left
 * for d_revalidate to settle.
 */
static void uvfs_direntplus_link(struct dentry *parent,
				 const struct uvfs_dirent_rec *r, u64 av)
{
	struct uvfs_fs *fs = UVFS_FS(parent->d_sb);
	const struct uvfs_entry_out *e = &r->e;
	struct qstr name = QSTR_INIT(r->name, r->d.namelen);
	DECLARE_WAIT_QUEUE_HEAD_ONSTACK(wq);
	struct dentry *dentry, *alias;
	struct inode *inode;

	if (!e->nodeid || uvfs_is_dot_or_dotdot(r->name, r->d.namelen))
		return;
	if (uvfs_check_entry(UVFS_OP_READDIRPLUS, e, true))
		goto forget;
	name.hash = full_name_hash(parent, name.name, name.len);
	dentry = d_lookup(parent, &name);
	if (!dentry) {
		dentry = d_alloc_parallel(parent, &name, &wq);
		if (IS_ERR(dentry))
			goto forget;
	}
	if (!d_in_lookup(dentry)) {
		inode = d_inode(dentry);
		if (!inode || uvfs_nodeid(inode) != e->nodeid ||
		    uvfs_is_bad(inode) ||
		    ((inode->i_mode ^ e->attr.mode) & S_IFMT)) {
			dput(dentry);
			goto forget;
		}
		spin_lock(&inode->i_lock);
		UVFS_I(inode)->nlookup++;
		spin_unlock(&inode->i_lock);
		uvfs_change_attr(inode, &e->attr, e->attr_valid_ns, av);
		uvfs_set_entry_expiry(dentry, e->entry_valid_ns);
		dput(dentry);
		return;
	}
	inode = uvfs_iget(parent->d_sb, e->nodeid, &e->attr, e->attr_valid_ns,
			  av);
	if (IS_ERR(inode)) {
		d_lookup_done(dentry);
		dput(dentry);
		if (PTR_ERR(inode) == -ENOMEM)
			goto forget;
		return;
	}
	alias = d_splice_alias(inode, dentry);
	d_lookup_done(dentry);
	if (!IS_ERR(alias))
		uvfs_set_entry_expiry(alias ? alias : dentry,
				      e->entry_valid_ns);
	if (!IS_ERR_OR_NULL(alias))
		dput(alias);
	dput(dentry);
	return;

forget:
	if (e->nodeid != UVFS_ROOT_ID)
		uvfs_queue_forget(fs, e->nodeid, 1);
}

/*
 * Emit the records in buf[0..len).  Every READDIRPLUS record is linked
 * even after the caller's buffer filled (*over), since the daemon counted
 * them all.  Returns 0 or -EIO.
 */
static int uvfs_emit_dirents(struct file *file, struct dir_context *ctx,
			     const char *buf, size_t len, bool plus,
			     u64 av, bool *over)
{
	struct uvfs_dirent_rec r;

	while (len) {
		if (uvfs_parse_dirent(buf, len, plus, &r)) {
			uvfs_warn_bad_reply(plus ? UVFS_OP_READDIRPLUS :
						   UVFS_OP_READDIR,
					    "bad directory record");
			return -EIO;
		}
		if (!*over) {
			*over = !dir_emit(ctx, r.name, r.d.namelen, r.d.ino,
					  r.d.type);
			if (!*over)
				ctx->pos = r.d.off;
		}
		if (plus)
			uvfs_direntplus_link(file->f_path.dentry, &r, av);
		buf += r.reclen;
		len -= r.reclen;
	}
	return 0;
}

static int uvfs_readdir(struct file *file, struct dir_context *ctx)
{
	struct inode *inode = file_inode(file);
	struct uvfs_fs *fs = UVFS_FS(inode->i_sb);
	struct uvfs_file *ff = file->private_data;
	struct uvfs_read_in in = {};
	bool over = false;
	char *buf;
	u64 av;
	int err = 0;

	if (uvfs_is_bad(inode))
		return -EIO;
	buf = kvmalloc(UVFS_READDIR_BUF, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	while (!over) {
		bool plus = READ_ONCE(fs->readdirplus) &&
			    !test_bit(UVFS_OP_READDIRPLUS, fs->conn->nosys);
		struct uvfs_args args = {
			.opcode = plus ? UVFS_OP_READDIRPLUS : UVFS_OP_READDIR,
			.nodeid = uvfs_nodeid(inode),
			.in_numargs = 1,
			.in_args[0] = { sizeof(in), &in },
			.out_numargs = 1,
			.out_argvar = true,
			.out_args[0] = { UVFS_READDIR_BUF, buf },
		};

		in.fh = ff ? ff->fh : 0;
		in.offset = ctx->pos;
		in.size = UVFS_READDIR_BUF;
		av = uvfs_attr_version(inode->i_sb);
		err = uvfs_send(fs->conn, &args);
		if (err == -ENOSYS && plus)
			continue;	/* remembered in nosys: plain READDIR */
		if (err || !args.out_size)
			break;
		err = uvfs_emit_dirents(file, ctx, buf, args.out_size, plus,
					av, &over);
		if (err)
			break;
	}
	kvfree(buf);
	return err;
}

static int uvfs_dir_fsync(struct file *file, loff_t start, loff_t end,
			  int datasync)
{
	return uvfs_send_fsync(file, UVFS_OP_FSYNCDIR, datasync);
}

const struct inode_operations uvfs_dir_iops = {
	.lookup = uvfs_lookup,
	.create = uvfs_create,
	.atomic_open = uvfs_atomic_open,
	.mknod = uvfs_mknod,
	.mkdir = uvfs_mkdir,
	.symlink = uvfs_symlink,
	.link = uvfs_link,
	.unlink = uvfs_unlink,
	.rmdir = uvfs_rmdir,
	.rename = uvfs_rename,
	.permission = uvfs_permission,
	.getattr = uvfs_getattr,
	.setattr = uvfs_setattr,
	.listxattr = uvfs_listxattr,
};

const struct file_operations uvfs_dir_fops = {
	.open = uvfs_dir_open,
	.release = uvfs_dir_release,
	.iterate_shared = uvfs_readdir,
	.llseek = generic_file_llseek,
	.read = generic_read_dir,
	.fsync = uvfs_dir_fsync,
};
