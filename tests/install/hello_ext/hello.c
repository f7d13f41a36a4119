// SPDX-License-Identifier: MIT
/*
 * hello: a read-only filesystem holding one file, /hello.  It is the
 * out-of-tree backend of the staged install test (tests/install/), built
 * from the installed headers and libuvfs with nothing but
 *
 *	cc -shared -fPIC -o uvfs-hello.so hello.c $(pkg-config --cflags --libs uvfs)
 *
 * so it includes <uvfs/uvfs.h> as an outside project would, and nothing of
 * the source tree.  -o greeting=TEXT replaces the file's content, so the
 * test can see that options reach an installed backend.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <uvfs/uvfs.h>

#define HELLO_INO 2
#define HELLO_NAME "hello"

struct hello {
	char text[256];
	size_t len;
};

static void fill_stat(const struct hello *h, uint64_t ino, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	if (ino == UVFS_ROOT_ID) {
		st->st_mode = S_IFDIR | 0555;
		st->st_nlink = 2;
	} else {
		st->st_mode = S_IFREG | 0444;
		st->st_nlink = 1;
		st->st_size = (off_t)h->len;
	}
}

static void hello_lookup(struct uvfs_req *req, uint64_t parent,
			 const char *name)
{
	struct hello *h = uvfs_req_priv(req);
	struct uvfs_entry e = { .ino = HELLO_INO, .attr_timeout = 1,
				.entry_timeout = 1 };

	if (parent != UVFS_ROOT_ID) {
		uvfs_reply_err(req, -ENOTDIR);
		return;
	}
	if (strcmp(name, HELLO_NAME)) {
		uvfs_reply_err(req, -ENOENT);
		return;
	}
	fill_stat(h, HELLO_INO, &e.attr);
	uvfs_reply_entry(req, &e);
}

static void hello_forget(struct uvfs_req *req, uint64_t ino, uint64_t n)
{
	uvfs_reply_none(req);	/* nothing is ever freed */
}

static void hello_getattr(struct uvfs_req *req, uint64_t ino,
			  struct uvfs_file_info *fi)
{
	struct stat st;

	if (ino != UVFS_ROOT_ID && ino != HELLO_INO) {
		uvfs_reply_err(req, -ENOENT);
		return;
	}
	fill_stat(uvfs_req_priv(req), ino, &st);
	uvfs_reply_attr(req, &st, 1);
}

static void hello_open(struct uvfs_req *req, uint64_t ino,
		       struct uvfs_file_info *fi)
{
	if ((fi->flags & O_ACCMODE) != O_RDONLY)
		uvfs_reply_err(req, -EROFS);
	else
		uvfs_reply_open(req, fi);
}

static void hello_read(struct uvfs_req *req, uint64_t ino, size_t size,
		       off_t off, struct uvfs_file_info *fi)
{
	struct hello *h = uvfs_req_priv(req);
	size_t n = 0;

	if (ino != HELLO_INO) {
		uvfs_reply_err(req, -EISDIR);
		return;
	}
	if (off >= 0 && (size_t)off < h->len)
		n = h->len - (size_t)off < size ? h->len - (size_t)off : size;
	uvfs_reply_buf(req, h->text + (n ? off : 0), n);
}

/* Entries by cookie: 1 ".", 2 "..", 3 "hello". */
static void hello_readdir(struct uvfs_req *req, uint64_t ino, size_t size,
			  off_t off, struct uvfs_file_info *fi)
{
	static const char *const names[] = { ".", "..", HELLO_NAME };
	struct hello *h = uvfs_req_priv(req);
	char buf[512];
	size_t used = 0, rec;
	struct stat st;
	off_t i;

	if (ino != UVFS_ROOT_ID) {
		uvfs_reply_err(req, -ENOTDIR);
		return;
	}
	if (size > sizeof(buf))
		size = sizeof(buf);
	for (i = off; i >= 0 && i < 3; i++) {
		fill_stat(h, i == 2 ? HELLO_INO : UVFS_ROOT_ID, &st);
		rec = uvfs_add_dirent(buf + used, size - used, names[i], &st,
				      i + 1);
		if (rec > size - used)
			break;
		used += rec;
	}
	uvfs_reply_buf(req, buf, used);
}

static const struct uvfs_ops hello_ops = {
	.lookup = hello_lookup,
	.forget = hello_forget,
	.getattr = hello_getattr,
	.open = hello_open,
	.read = hello_read,
	.readdir = hello_readdir,
};

static int hello_mount(const struct uvfs_mount_args *args, void **priv)
{
	const char *opt = args->options, *text = "Hello, world!\n";
	struct hello *h;
	size_t len;

	if (opt && strncmp(opt, "greeting=", 9)) {
		snprintf(args->errbuf, args->errlen,
			 "hello: unknown option '%s'", opt);
		return -EINVAL;
	}
	if (opt)
		text = opt + 9;
	len = strlen(text);
	if (len >= sizeof(h->text)) {
		snprintf(args->errbuf, args->errlen, "hello: greeting too long");
		return -EINVAL;
	}
	h = calloc(1, sizeof(*h));
	if (!h) {
		snprintf(args->errbuf, args->errlen, "hello: out of memory");
		return -ENOMEM;
	}
	memcpy(h->text, text, len);
	h->len = len;
	*priv = h;
	return 0;
}

static void hello_unmount(void *priv)
{
	free(priv);
}

static const struct uvfs_backend hello_backend = {
	.api_version = UVFS_BACKEND_API_VERSION,
	.ops_size = sizeof(struct uvfs_ops),
	.name = "hello",
	.usage = "hello: one read-only file, /hello.\n"
		 "    -o greeting=TEXT       the file's content\n",
	.ops = &hello_ops,
	.mount = hello_mount,
	.unmount = hello_unmount,
};
UVFS_BACKEND(hello_backend);
