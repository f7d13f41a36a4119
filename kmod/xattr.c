// SPDX-License-Identifier: GPL-2.0
/*
 * Extended attributes: one xattr handler for every name (like FUSE), so the
 * daemon sees each name whole and decides itself which namespaces it keeps;
 * listxattr for every inode type.  A daemon without xattr ops answers
 * -ENOSYS, which callers see as -EOPNOTSUPP.
 */
#include <linux/fs.h>
#include <linux/slab.h>
#include <linux/xattr.h>

#include "uvfs_i.h"

/*
 * GETXATTR or LISTXATTR (args prepared, in is its first in arg): size 0
 * asks for the length only; otherwise up to size bytes into buf.
 */
static ssize_t uvfs_xattr_read(struct inode *inode, struct uvfs_args *args,
			       struct uvfs_getxattr_in *in, void *buf,
			       size_t size)
{
	struct uvfs_getxattr_out out = {};
	int err;

	size = min_t(size_t, size, UVFS_XATTR_SIZE_MAX);
	size = min_t(size_t, size, uvfs_max_payload(uvfs_conn_of(inode)));
	in->size = size;
	args->out_numargs = 1;
	if (size) {
		args->out_argvar = true;
		args->out_args[0].size = size;
		args->out_args[0].value = buf;
	} else {
		args->out_args[0].size = sizeof(out);
		args->out_args[0].value = &out;
	}
	err = uvfs_send(uvfs_conn_of(inode), args);
	if (err)
		return err == -ENOSYS ? -EOPNOTSUPP : err;
	if (!size)
		return min_t(u32, out.size, UVFS_XATTR_SIZE_MAX);
	return args->out_size;
}

static int uvfs_xattr_get(const struct xattr_handler *handler,
			  struct dentry *dentry, struct inode *inode,
			  const char *name, void *value, size_t size)
{
	struct uvfs_getxattr_in in = {};
	size_t namelen = strlen(name);
	struct uvfs_args args = {
		.opcode = UVFS_OP_GETXATTR,
		.nodeid = uvfs_nodeid(inode),
		.in_numargs = 2,
		.in_args[0] = { sizeof(in), &in },
		.in_args[1] = { namelen + 1, name },
	};

	if (uvfs_is_bad(inode))
		return -EIO;
	if (namelen > UVFS_XATTR_NAME_MAX)
		return -ERANGE;
	/*
	 * S_NOSEC: the inode has no security.capability (set by the VFS after
	 * it found none, or for a file we just created; cleared when one is
	 * set through us or the daemon shows a new ctime).  So the checks of
	 * every write and chown for a capability to kill cost no round trip.
	 */
	if (IS_NOSEC(inode) && !strcmp(name, XATTR_NAME_CAPS))
		return -ENODATA;
	return uvfs_xattr_read(inode, &args, &in, value, size);
}

static int uvfs_xattr_set(const struct xattr_handler *handler,
			  struct user_namespace *ns, struct dentry *dentry,
			  struct inode *inode, const char *name,
			  const void *value, size_t size, int flags)
{
	size_t namelen = strlen(name);
	struct uvfs_setxattr_in in = { .size = size, .flags = flags };
	struct uvfs_args args = {
		.nodeid = uvfs_nodeid(inode),
		.in_numargs = 1,
		.in_args[0] = { namelen + 1, name },
	};
	int err;

	if (uvfs_is_bad(inode))
		return -EIO;
	if (namelen > UVFS_XATTR_NAME_MAX)
		return -ERANGE;
	if (size > UVFS_XATTR_SIZE_MAX)
		return -E2BIG;
	if (value) {
		args.opcode = UVFS_OP_SETXATTR;
		args.in_numargs = 3;
		args.in_args[0] = (struct uvfs_arg){ sizeof(in), &in };
		args.in_args[1] = (struct uvfs_arg){ namelen + 1, name };
		args.in_args[2] = (struct uvfs_arg){ size, value };
	} else {
		args.opcode = UVFS_OP_REMOVEXATTR;
	}
	err = uvfs_send(uvfs_conn_of(inode), &args);
	if (err == -ENOSYS)
		return -EOPNOTSUPP;
	if (!err) {
		uvfs_invalidate_attr(inode);	/* ctime */
		if (!strncmp(name, XATTR_SECURITY_PREFIX,
			     XATTR_SECURITY_PREFIX_LEN)) {
			spin_lock(&inode->i_lock);
			inode->i_flags &= ~S_NOSEC;
			spin_unlock(&inode->i_lock);
		}
	}
	return err;
}

ssize_t uvfs_listxattr(struct dentry *dentry, char *list, size_t size)
{
	struct inode *inode = d_inode(dentry);
	struct uvfs_getxattr_in in = {};
	struct uvfs_args args = {
		.opcode = UVFS_OP_LISTXATTR,
		.nodeid = uvfs_nodeid(inode),
		.in_numargs = 1,
		.in_args[0] = { sizeof(in), &in },
	};
	ssize_t ret;

	if (uvfs_is_bad(inode))
		return -EIO;
	if (!uvfs_allowed(UVFS_FS(inode->i_sb)))
		return -EACCES;
	ret = uvfs_xattr_read(inode, &args, &in, list, size);
	/* A list of NUL-terminated names. */
	if (ret > 0 && size && list[ret - 1] != '\0') {
		uvfs_warn_bad_reply(UVFS_OP_LISTXATTR, "unterminated list");
		return -EIO;
	}
	return ret;
}

static const struct xattr_handler uvfs_xattr_handler = {
	.prefix = "",
	.get = uvfs_xattr_get,
	.set = uvfs_xattr_set,
};

const struct xattr_handler *uvfs_xattr_handlers[] = {
	&uvfs_xattr_handler,
	NULL,
};
