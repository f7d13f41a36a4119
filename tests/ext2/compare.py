#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""compare: compare two directory trees in full.

usage: compare.py [options] A B

Compared for every path (walked in byte order, symlinks not followed):
type, mode (all 12 permission bits), uid, gid, size (not for directories
unless --dir-size), nlink, mtime (rounded down to --mtime-prec ns),
content hash of regular files, symlink target, device number of
device nodes, xattr names and values (all namespaces the caller may list,
including system.posix_acl_*), and hard-link structure: the set of paths
that share each path's inode must be the same in A and B.

Prints the first differing path and what differs (up to --max-diffs
differences, first one first) and exits 1; exits 0 if the trees match,
2 on usage errors.

options:
  --mtime-prec NS     compare mtimes rounded down to NS nanoseconds
                      (1 = exact, 1000000000 = seconds; default 1)
  --no-mtime          do not compare mtimes
  --atime             compare atimes too (same precision)
  --ignore NAME       ignore the top-level entry NAME on either side
                      (repeatable; e.g. lost+found); the parent's nlink
                      is adjusted for an ignored directory
  --no-root-meta      do not compare mode/owner/times of A and B themselves
  --dir-size          compare st_size of directories
  --blocks            compare st_blocks (allocation) of everything
  --no-xattr          do not compare xattrs
  --max-diffs N       report up to N differences (default 1)
  -q                  print nothing on success
"""
import argparse
import errno
import hashlib
import os
import random
import stat
import sys

CHUNK = 1 << 20
ZERO = bytes(CHUNK)
# Files at least this big are compared where A has data (SEEK_DATA on A)
# plus 32 sampled MiBs of A's holes, not read in full (GiBs of zeros
# through a slow FUSE daemon take minutes); smaller files are always read
# in full, holes included.
SKIP_HOLES_ABOVE = 1 << 30


def content_hash(path):
    """sha256 over the file; an all-zero chunk is hashed as a marker so
    that multi-GiB sparse files cost a memcmp per MiB, not a hash."""
    h = hashlib.sha256()
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    try:
        off = 0
        size = os.fstat(fd).st_size
        skip = size >= SKIP_HOLES_ABOVE
        data_to = 0     # [off, data_to) known to hold data: just read it
        while True:
            if skip and off >= data_to and off < size:
                try:
                    nd = os.lseek(fd, off, os.SEEK_DATA)
                except OSError:
                    nd = size
                if nd >= off + CHUNK or nd >= size:
                    n = min(CHUNK, size - off)
                    h.update(b"Z%d;" % n)
                    off += n
                    continue
                try:
                    data_to = os.lseek(fd, nd, os.SEEK_HOLE)
                except OSError:
                    data_to = size
            buf = b""
            while len(buf) < CHUNK:   # full chunks, whatever read returns
                part = os.pread(fd, CHUNK - len(buf), off + len(buf))
                if not part:
                    break
                buf += part
            if not buf:
                break
            if buf == ZERO[:len(buf)]:
                h.update(b"Z%d;" % len(buf))
            else:
                h.update(b"D%d;" % len(buf))
                h.update(buf)
            off += len(buf)
            if len(buf) < CHUNK:
                break
        return h.hexdigest(), off
    finally:
        os.close(fd)


def data_extents(fd, size):
    """[(start, end)] that SEEK_DATA/SEEK_HOLE report, or None when the
    file system does not tell (then everything counts as data)."""
    ext, off = [], 0
    while off < size:
        try:
            d = os.lseek(fd, off, os.SEEK_DATA)
        except OSError as e:
            if e.errno == errno.ENXIO:
                break
            return None
        h = os.lseek(fd, d, os.SEEK_HOLE)
        ext.append((d, h))
        off = h
    if ext == [(0, size)]:
        return None
    return ext


def compare_big(pa, pb, size, seed):
    """Files >= SKIP_HOLES_ABOVE: read both where A or B has data (per
    SEEK_DATA), and 32 seeded 1 MiB samples of A's holes plus the
    last MiB; both sides must match there.  If A does not report holes,
    compare everything.  -> None if equal, else a description."""
    fa = os.open(pa, os.O_RDONLY | os.O_NOFOLLOW)
    fb = os.open(pb, os.O_RDONLY | os.O_NOFOLLOW)
    try:
        ext = data_extents(fa, size)
        if ext is None:
            ext = [(0, size)]
        else:
            r = random.Random(seed)
            holes, prev = [], 0
            for d, h in ext + [(size, size)]:
                if d > prev:
                    holes.append((prev, d))
                prev = h
            for _ in range(32 if holes else 0):
                lo, hi = r.choice(holes)
                o = lo + r.randrange(max(1, hi - lo))
                ext.append((o, min(hi, o + CHUNK)))
            ext.append((max(0, size - CHUNK), size))
            ext += data_extents(fb, size) or []   # B's data too, if known
        for lo, hi in sorted(ext):
            off = lo
            while off < hi:
                n = min(CHUNK, hi - off)
                a = os.pread(fa, n, off)
                b = os.pread(fb, n, off)
                if a != b:
                    return "bytes at %d..%d differ (read %d / %d)" % (
                        off, off + n, len(a), len(b))
                off += n
        return None
    finally:
        os.close(fa)
        os.close(fb)


def xattrs(path):
    try:
        names = os.listxattr(path, follow_symlinks=False)
    except OSError as e:
        return {"<listxattr error>": os.strerror(e.errno).encode()}
    out = {}
    for n in names:
        try:
            out[n] = os.getxattr(path, n, follow_symlinks=False)
        except OSError as e:
            out[n] = ("<getxattr error: %s>" % os.strerror(e.errno)).encode()
    return out


KIND = {stat.S_IFREG: "file", stat.S_IFDIR: "dir", stat.S_IFLNK: "symlink",
        stat.S_IFCHR: "chardev", stat.S_IFBLK: "blockdev",
        stat.S_IFIFO: "fifo", stat.S_IFSOCK: "socket"}


class Tree:
    def __init__(self, root, opts):
        self.root = os.fsencode(root)
        self.opts = opts
        self.st = {}       # rel -> stat
        self.ino = {}      # (dev, ino) -> [rel]
        self.ignored_dirs = 0
        self.walk(b"")

    def walk(self, rel):
        path = os.path.join(self.root, rel) if rel else self.root
        st = os.lstat(path)
        self.st[rel] = st
        if not stat.S_ISDIR(st.st_mode):
            self.ino.setdefault((st.st_dev, st.st_ino), []).append(rel)
            return
        for name in sorted(os.listdir(path)):
            if not rel and name in self.opts.ignore:
                if os.path.isdir(os.path.join(path, name)) and \
                        not os.path.islink(os.path.join(path, name)):
                    self.ignored_dirs += 1
                continue
            self.walk(os.path.join(rel, name) if rel else name)

    def links_of(self, rel):
        st = self.st[rel]
        return sorted(self.ino[(st.st_dev, st.st_ino)])


def describe(rel, what, a, b):
    shown = os.fsdecode(rel) if rel else "."
    return "%s: %s differs: A=%r B=%r" % (shown, what, a, b)


def compare_entry(rel, ta, tb, opts):
    """The list of differences for one path present on both sides."""
    a, b = ta.st[rel], tb.st[rel]
    pa = os.path.join(ta.root, rel) if rel else ta.root
    pb = os.path.join(tb.root, rel) if rel else tb.root
    d = []
    ka, kb = KIND.get(stat.S_IFMT(a.st_mode)), KIND.get(stat.S_IFMT(b.st_mode))
    if ka != kb:
        return [describe(rel, "type", ka, kb)]
    root = rel == b""
    meta = not root or opts.root_meta
    if meta:
        if stat.S_IMODE(a.st_mode) != stat.S_IMODE(b.st_mode):
            d.append(describe(rel, "mode", oct(stat.S_IMODE(a.st_mode)),
                              oct(stat.S_IMODE(b.st_mode))))
        if a.st_uid != b.st_uid:
            d.append(describe(rel, "uid", a.st_uid, b.st_uid))
        if a.st_gid != b.st_gid:
            d.append(describe(rel, "gid", a.st_gid, b.st_gid))
        p = opts.mtime_prec
        if opts.mtime and a.st_mtime_ns // p != b.st_mtime_ns // p:
            d.append(describe(rel, "mtime_ns (prec %d)" % p, a.st_mtime_ns,
                              b.st_mtime_ns))
        if opts.atime and a.st_atime_ns // p != b.st_atime_ns // p:
            d.append(describe(rel, "atime_ns (prec %d)" % p, a.st_atime_ns,
                              b.st_atime_ns))
    nla, nlb = a.st_nlink, b.st_nlink
    if root:
        nla -= ta.ignored_dirs
        nlb -= tb.ignored_dirs
    if nla != nlb:
        d.append(describe(rel, "nlink", nla, nlb))
    if ka != "dir" or opts.dir_size:
        if a.st_size != b.st_size:
            d.append(describe(rel, "size", a.st_size, b.st_size))
    if opts.blocks and a.st_blocks != b.st_blocks:
        d.append(describe(rel, "st_blocks", a.st_blocks, b.st_blocks))
    if ka in ("chardev", "blockdev") and a.st_rdev != b.st_rdev:
        d.append(describe(rel, "rdev",
                          (os.major(a.st_rdev), os.minor(a.st_rdev)),
                          (os.major(b.st_rdev), os.minor(b.st_rdev))))
    if ka == "symlink":
        la, lb = os.readlink(pa), os.readlink(pb)
        if la != lb:
            d.append(describe(rel, "symlink target", la, lb))
    if ka == "file" and a.st_size == b.st_size and \
            a.st_size >= SKIP_HOLES_ABOVE:
        try:
            why = compare_big(pa, pb, a.st_size, a.st_size)
        except OSError as e:
            why = "read error: " + os.strerror(e.errno)
        if why:
            d.append(describe(rel, "content of big file", why, ""))
    elif ka == "file" and a.st_size == b.st_size:
        try:
            ha = content_hash(pa)
        except OSError as e:
            ha = "read error: " + os.strerror(e.errno)
        try:
            hb = content_hash(pb)
        except OSError as e:
            hb = "read error: " + os.strerror(e.errno)
        if ha != hb:
            d.append(describe(rel, "content (sha256, bytes read)", ha, hb))
    if opts.xattr:
        xa, xb = xattrs(pa), xattrs(pb)
        if sorted(xa) != sorted(xb):
            d.append(describe(rel, "xattr names", sorted(xa), sorted(xb)))
        else:
            for n in sorted(xa):
                if xa[n] != xb[n]:
                    va, vb = xa[n], xb[n]
                    if len(va) > 64 or len(vb) > 64:
                        va = "%d bytes %s" % (len(va),
                                              hashlib.sha1(va).hexdigest())
                        vb = "%d bytes %s" % (len(vb),
                                              hashlib.sha1(vb).hexdigest())
                    d.append(describe(rel, "xattr %s value" % n, va, vb))
    if ka != "dir" and ta.links_of(rel) != tb.links_of(rel):
        d.append(describe(rel, "hard-link set",
                          [os.fsdecode(x) for x in ta.links_of(rel)],
                          [os.fsdecode(x) for x in tb.links_of(rel)]))
    return d


def compare(a, b, opts):
    ta, tb = Tree(a, opts), Tree(b, opts)
    diffs = []
    n = 0
    for rel in sorted(set(ta.st) | set(tb.st)):
        if len(diffs) >= opts.max_diffs:
            break
        n += 1
        if rel not in tb.st:
            diffs.append("%s: only in A (%s)" % (
                os.fsdecode(rel),
                KIND.get(stat.S_IFMT(ta.st[rel].st_mode))))
            continue
        if rel not in ta.st:
            diffs.append("%s: only in B (%s)" % (
                os.fsdecode(rel),
                KIND.get(stat.S_IFMT(tb.st[rel].st_mode))))
            continue
        diffs += compare_entry(rel, ta, tb, opts)
    return diffs[:opts.max_diffs], n


def main():
    ap = argparse.ArgumentParser(add_help=True, usage=__doc__)
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--mtime-prec", type=int, default=1)
    ap.add_argument("--no-mtime", dest="mtime", action="store_false")
    ap.add_argument("--atime", action="store_true")
    ap.add_argument("--ignore", action="append", default=[])
    ap.add_argument("--no-root-meta", dest="root_meta", action="store_false")
    ap.add_argument("--dir-size", action="store_true")
    ap.add_argument("--blocks", action="store_true")
    ap.add_argument("--no-xattr", dest="xattr", action="store_false")
    ap.add_argument("--max-diffs", type=int, default=1)
    ap.add_argument("-q", action="store_true")
    opts = ap.parse_args()
    if opts.mtime_prec < 1:
        ap.error("--mtime-prec must be >= 1")
    opts.ignore = {os.fsencode(x) for x in opts.ignore}
    for p in (opts.a, opts.b):
        if not os.path.isdir(p):
            print("compare: %s: not a directory" % p, file=sys.stderr)
            return 2
    diffs, n = compare(opts.a, opts.b, opts)
    if diffs:
        for x in diffs:
            print("DIFF " + x)
        return 1
    if not opts.q:
        print("compare: %d paths identical" % n)
    return 0


if __name__ == "__main__":
    sys.exit(main())
