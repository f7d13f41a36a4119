// SPDX-License-Identifier: MIT
/*
 * Notifications: a backend tells the kernel to drop what it cached (an
 * inode's attributes and pages, a name in a directory).  Each becomes a
 * wire message -- an uvfs_out_header with unique 0 and the notification's
 * code in place of the error -- handed to the transport's notify().
 */
#include <errno.h>
#include <string.h>

#include "uvfs_i.h"

static int notify(struct uvfs_session *se, int code, const void *a,
		  size_t alen, const void *b, size_t blen)
{
	struct uvfs_out_header out;
	struct iovec iov[3];

	if (!se->tp || !se->tp->notify)
		return -ENOSYS;
	out.unique = 0;
	out.error = code;
	out.len = (uint32_t)(sizeof(out) + alen + blen);
	iov[0].iov_base = &out;
	iov[0].iov_len = sizeof(out);
	iov[1].iov_base = (void *)a;
	iov[1].iov_len = alen;
	iov[2].iov_base = (void *)b;
	iov[2].iov_len = blen;
	return se->tp->notify(se, iov, 3);
}

int uvfs_notify_inval_inode(struct uvfs_session *se, uint64_t ino, off_t off,
			    off_t len)
{
	struct uvfs_notify_inval_inode n = { ino, off, len };

	return notify(se, UVFS_NOTIFY_INVAL_INODE, &n, sizeof(n), NULL, 0);
}

int uvfs_notify_inval_entry(struct uvfs_session *se, uint64_t parent,
			    const char *name)
{
	struct uvfs_notify_inval_entry n = { 0 };

	n.parent = parent;
	n.namelen = (uint32_t)strlen(name);
	if (n.namelen == 0 || n.namelen > UVFS_NAME_MAX || strchr(name, '/'))
		return -EINVAL;
	return notify(se, UVFS_NOTIFY_INVAL_ENTRY, &n, sizeof(n), name,
		      n.namelen + 1);
}
