// SPDX-License-Identifier: MIT
/*
 * The direct-transport walker: what `ls -lR` plus `cat` of every file would
 * do through a mount, done in-process.  Handy under gdb or a sanitizer, and
 * for checking that a damaged image fails per object, not as a whole.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "probe.h"

#define BUFSZ (128 * 1024)
#define MAX_DEPTH 64
#define MAX_DIRS 100000

struct walker {
	struct uvfs_direct *d;
	FILE *out;
	char *buf;
	uint64_t *seen;		/* directory nodes visited: loop guard */
	size_t nseen;
	int errors;
};

static int call(struct walker *w, uint32_t op, uint64_t node,
		const void *a, size_t alen, const char *s, void *reply,
		size_t replymax, size_t *rlen)
{
	struct uvfs_in_header in = { 0 };
	struct iovec iov[2] = { { (void *)a, alen },
				{ (void *)s, s ? strlen(s) + 1 : 0 } };

	in.opcode = op;
	in.nodeid = node;
	return uvfs_direct_call(w->d, &in, iov, 2, reply, replymax, rlen);
}

static void forget(struct walker *w, uint64_t node)
{
	struct {
		struct uvfs_forget_in in;
		struct uvfs_forget_one one;
	} f = { { 1, 0 }, { node, 1 } };

	call(w, UVFS_OP_FORGET, 0, &f, sizeof(f), NULL, NULL, 0, NULL);
}

static void report(struct walker *w, const char *path, const char *what,
		   int err)
{
	fprintf(w->out, "error: %s: %s: %s\n", path, what, strerror(-err));
	w->errors++;
}

static void read_file(struct walker *w, uint64_t node, const char *path,
		      uint64_t size)
{
	struct uvfs_open_in oi = { O_RDONLY, 0 };
	struct uvfs_open_out oo;
	struct uvfs_read_in ri = { 0 };
	struct uvfs_release_in rel = { 0 };
	uint64_t total = 0;
	size_t len;
	int err;

	err = call(w, UVFS_OP_OPEN, node, &oi, sizeof(oi), NULL, &oo,
		   sizeof(oo), &len);
	if (err) {
		report(w, path, "open", err);
		return;
	}
	ri.fh = oo.fh;
	ri.size = BUFSZ;
	for (;;) {
		ri.offset = total;
		err = call(w, UVFS_OP_READ, node, &ri, sizeof(ri), NULL,
			   w->buf, BUFSZ, &len);
		if (err) {
			report(w, path, "read", err);
			break;
		}
		if (len == 0)
			break;
		total += len;
	}
	if (!err && total != size)
		fprintf(w->out, "error: %s: read %llu bytes, size is %llu\n",
			path, (unsigned long long)total,
			(unsigned long long)size), w->errors++;
	rel.fh = oo.fh;
	call(w, UVFS_OP_RELEASE, node, &rel, sizeof(rel), NULL, NULL, 0,
	     NULL);
}

static void print_entry(struct walker *w, const char *path,
			const struct uvfs_attr *a)
{
	fprintf(w->out, "%06o %3u %5u %5u %12llu %s", a->mode, a->nlink,
		a->uid, a->gid, (unsigned long long)a->size, path);
}

static void walk_dir(struct walker *w, uint64_t dir, const char *path,
		     int depth);

static void visit(struct walker *w, uint64_t dir, const char *name,
		  const char *path, int depth)
{
	struct uvfs_entry_out e;
	struct getx {
		struct uvfs_getxattr_in in;
	} gx = { { BUFSZ, 0 } };
	size_t len;
	int err;

	err = call(w, UVFS_OP_LOOKUP, dir, NULL, 0, name, &e, sizeof(e), &len);
	if (err) {
		report(w, path, "lookup", err);
		return;
	}
	if (len < sizeof(e) || !e.nodeid) {
		fprintf(w->out, "error: %s: bad lookup reply\n", path);
		w->errors++;
		return;
	}
	print_entry(w, path, &e.attr);
	if (S_ISLNK(e.attr.mode)) {
		err = call(w, UVFS_OP_READLINK, e.nodeid, NULL, 0, NULL, w->buf,
			   UVFS_SYMLINK_MAX, &len);
		if (err)
			report(w, path, "readlink", err);
		else
			fprintf(w->out, " -> %.*s", (int)len, w->buf);
	}
	fputc('\n', w->out);
	err = call(w, UVFS_OP_LISTXATTR, e.nodeid, &gx, sizeof(gx), NULL,
		   w->buf, BUFSZ, &len);
	if (err && err != -ENOSYS && err != -EOPNOTSUPP)
		report(w, path, "listxattr", err);
	if (S_ISREG(e.attr.mode))
		read_file(w, e.nodeid, path, e.attr.size);
	else if (S_ISDIR(e.attr.mode))
		walk_dir(w, e.nodeid, path, depth + 1);
	forget(w, e.nodeid);
}

static void walk_dir(struct walker *w, uint64_t dir, const char *path,
		     int depth)
{
	struct uvfs_open_in oi = { O_RDONLY | O_DIRECTORY, 0 };
	struct uvfs_open_out oo;
	struct uvfs_read_in ri = { 0 };
	struct uvfs_release_in rel = { 0 };
	char *names = NULL, *p;
	size_t len, nlen = 0, i;
	int err;

	for (i = 0; i < w->nseen; i++)
		if (w->seen[i] == dir) {
			fprintf(w->out, "error: %s: directory loop\n", path);
			w->errors++;
			return;
		}
	if (depth > MAX_DEPTH || w->nseen == MAX_DIRS) {
		fprintf(w->out, "error: %s: too deep\n", path);
		w->errors++;
		return;
	}
	w->seen[w->nseen++] = dir;
	err = call(w, UVFS_OP_OPENDIR, dir, &oi, sizeof(oi), NULL, &oo,
		   sizeof(oo), &len);
	if (err) {
		report(w, path, "opendir", err);
		return;
	}
	/* Collect the names first: the buffer is reused while recursing. */
	ri.fh = oo.fh;
	ri.size = 64 * 1024;
	for (;;) {
		size_t off = 0;

		err = call(w, UVFS_OP_READDIR, dir, &ri, sizeof(ri), NULL,
			   w->buf, ri.size, &len);
		if (err) {
			report(w, path, "readdir", err);
			break;
		}
		if (len == 0)
			break;
		while (off + sizeof(struct uvfs_dirent) <= len) {
			const struct uvfs_dirent *de =
				(const void *)(w->buf + off);
			size_t rec = UVFS_DIRENT_SIZE(de->namelen);
			char *grown;

			if (de->namelen == 0 || de->namelen > UVFS_NAME_MAX ||
			    off + rec > len)
				break;
			ri.offset = de->off;
			off += rec;
			if ((de->namelen == 1 && de->name[0] == '.') ||
			    (de->namelen == 2 && !memcmp(de->name, "..", 2)))
				continue;
			grown = realloc(names, nlen + de->namelen + 1);
			if (!grown)
				break;
			names = grown;
			memcpy(names + nlen, de->name, de->namelen);
			names[nlen + de->namelen] = '\0';
			nlen += de->namelen + 1;
		}
		if (off == 0)
			break;
	}
	rel.fh = oo.fh;
	call(w, UVFS_OP_RELEASEDIR, dir, &rel, sizeof(rel), NULL, NULL, 0,
	     NULL);
	for (p = names; p && p < names + nlen; p += strlen(p) + 1) {
		size_t plen = strlen(path) + strlen(p) + 2;
		char *child = malloc(plen);

		if (!child)
			break;
		snprintf(child, plen, "%s/%s", strcmp(path, "/") ? path : "",
			 p);
		visit(w, dir, p, child, depth);
		free(child);
	}
	free(names);
	w->nseen--;
}

int uvfsd_probe(struct uvfs_session *se, FILE *out)
{
	struct walker w = { 0 };
	struct uvfs_init_in ii = { UVFS_PROTO_MAJOR, UVFS_PROTO_MINOR,
				   BUFSZ, 0 };
	struct uvfs_statfs_out sf;
	struct uvfs_attr_out ao;
	struct uvfs_getattr_in gi = { 0 };
	char initbuf[256];
	size_t len;
	int err;

	w.d = uvfs_direct_new(se);
	w.out = out;
	w.buf = malloc(BUFSZ);
	w.seen = malloc(MAX_DIRS * sizeof(*w.seen));
	if (!w.d || !w.buf || !w.seen) {
		err = -ENOMEM;
		goto out;
	}
	err = call(&w, UVFS_OP_INIT, 0, &ii, sizeof(ii), NULL, initbuf,
		   sizeof(initbuf), &len);
	if (err)
		goto out;
	err = call(&w, UVFS_OP_STATFS, UVFS_ROOT_ID, NULL, 0, NULL, &sf,
		   sizeof(sf), &len);
	if (!err)
		fprintf(out, "statfs: bsize %u blocks %llu free %llu files %llu ffree %llu\n",
			sf.bsize, (unsigned long long)sf.blocks,
			(unsigned long long)sf.bfree,
			(unsigned long long)sf.files,
			(unsigned long long)sf.ffree);
	else
		report(&w, "/", "statfs", err);
	err = call(&w, UVFS_OP_GETATTR, UVFS_ROOT_ID, &gi, sizeof(gi), NULL,
		   &ao, sizeof(ao), &len);
	if (err) {
		report(&w, "/", "getattr", err);
		goto out;
	}
	print_entry(&w, "/", &ao.attr);
	fputc('\n', out);
	walk_dir(&w, UVFS_ROOT_ID, "/", 0);
	err = w.errors ? -EIO : 0;
	fprintf(out, "%d errors\n", w.errors);
out:
	free(w.buf);
	free(w.seen);
	uvfs_direct_free(w.d);
	return err;
}
