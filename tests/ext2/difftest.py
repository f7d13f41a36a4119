#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""difftest: one seeded random stream of file system operations, run in
lockstep on two directories; every result must be the same on both.

usage:
  difftest.py populate DIR [--seed N] [--no-xattr]
      a small starting tree (files with data, dirs, symlinks, xattrs, a
      hard link, a fifo, a 400-entry directory) for mke2fs -d;
      --no-xattr: without the xattrs (images without ext_attr)
  difftest.py run A B --seed N [--ops 2000] [--no-dir-size] [--blocks]
                      [--check-every 250] [--trace] [--time-prec NS]
                      [--limits] [--enospc]
                      [--time32]
      A is the reference (e.g. kernel ext2 on loop), B the implementation
      under test (e.g. uvfs).  Each operation runs on A, then on B, with
      the same arguments; the results (return value, errno name, data
      read, stat fields, listings) must be equal.  On the first mismatch
      it prints the seed, the op index, the op and both results, and
      exits 1.  Every --check-every ops and at the end the two trees are
      compared in full (compare.py); at the end every path first gets the
      same explicit nanosecond times on both sides, so that the final
      comparison covers mtimes to the ns.

Operations: create (O_EXCL / O_TRUNC), write at random offsets and sizes
(in the file, at EOF, beyond EOF up to 70 MiB, i.e. into the triple
indirect range of a 1 KiB-block ext2), with --enospc fill (write at a
file's end up to about the free space: ENOSPC exactly where the kernel's
ext2 gives it, to the page; stage 86 uses it over uvfs.ko, where the page
cache writes back; over FUSE a write(2) split into WRITEs stops up to one
WRITE early, as the backend refuses a WRITE that does not fit whole), with
--limits bigwrite (writes at and across the largest file size: EFBIG, or
short; stage 86 uses it; stage 51 does not, as the other op streams
of its seeds expose a FUSE difference: sendfile to past the limit gives
EINVAL on ext2 and 0 over FUSE),
read, truncate up and down (up to
sizes past the ext2 limit), rename (files and dirs, over existing files
and dirs, into own subtree, RENAME_NOREPLACE), link, unlink, mkdir, rmdir,
symlink (fast and slow), mkfifo, chmod, chown (uids > 65535), utimes with
explicit ns (then stat both times), setxattr (CREATE/REPLACE, sizes that
fit in the inode, the block, and not at all), getxattr, listxattr,
removexattr, fsync (files and dirs), lstat, readdir, readlink, copying
a range between files with copy_file_range, sendfile or splice through a
pipe (at random offsets, onto itself too), chown(p, -1, -1), which must
advance ctime as any chown does; plus
operations on file descriptors held open across other operations
(pwrite/pread/ftruncate/fstat/fsync/close, also after unlink or rename).
Atimes are never compared except right after an explicit utimes.
Exit status: 0 identical, 1 difference, 2 harness error.
"""
import argparse
import ctypes
import errno
import hashlib
import os
import random
import re
import stat
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare as cmpmod  # noqa: E402

NAMES = ["a", "b", "c", "dir", "x1", "long" + "L" * 120, "N" * 255,
         "sp ace", "z"]
UIDS = [0, 1, 1000, 65534, 65535, 65536, 70000, 3000000000, 4294967294]
XNAMES = ["user.a", "user.b", "user.longer_name_" + "q" * 40, "trusted.t",
          "user.c"]
XSIZES = [0, 1, 10, 50, 100, 200, 700, 1000, 2000, 4000, 5000, 70000]
BOUNDARIES = [0, 1, 1023, 1024, 1025, 4095, 4096, 4097, 12 * 1024,
              12 * 4096, 268 * 1024, 268 * 1024 + 1, 1036 * 4096,
              (64 << 20) + 268 * 1024, 70 << 20]
TRUNC_BIG = [(4 << 30) + 5, (16 << 30) + 123, (17 << 30), (2 << 40),
             (1 << 62)]
BULK = "bulk"
# never block on a fifo that a random path happens to name
NB = os.O_NONBLOCK

_libc = ctypes.CDLL(None, use_errno=True)
RENAME_NOREPLACE = 1
AT_FDCWD = -100


def renameat2(a, b, flags):
    r = _libc.renameat2(AT_FDCWD, os.fsencode(a), AT_FDCWD, os.fsencode(b),
                        flags)
    if r != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


def populate(d, seed, xattr=True):
    r = random.Random(seed)
    os.makedirs(d, exist_ok=True)
    for i, n in enumerate(("a", "b", "c")):
        with open(os.path.join(d, n), "wb") as f:
            f.write(r.randbytes(r.choice([0, 10, 5000, 300000])))
    os.makedirs(os.path.join(d, "dir", "a", "b"))
    with open(os.path.join(d, "dir", "x1"), "wb") as f:
        f.write(r.randbytes(20000))
    with open(os.path.join(d, "dir", "a", "z"), "wb") as f:
        f.seek(3 << 20)
        f.write(b"tail")
    os.link(os.path.join(d, "a"), os.path.join(d, "dir", "a", "c"))
    os.symlink("a", os.path.join(d, "x1"))
    os.symlink("S" * 200, os.path.join(d, "dir", "z"))
    os.mkfifo(os.path.join(d, "dir", "b"))
    xv = r.randbytes(300)   # drawn either way: the same tree otherwise
    if xattr:
        os.setxattr(os.path.join(d, "b"), "user.a", b"value")
        os.setxattr(os.path.join(d, "dir"), "user.b", xv)
    os.chown(os.path.join(d, "c"), 70000, 70001)
    bd = os.path.join(d, BULK)
    os.mkdir(bd)
    for i in range(400):
        with open(os.path.join(bd, "bulk_%04d_%s" % (i, "y" * (i % 50))),
                  "wb") as f:
            if i % 40 == 0:
                f.write(r.randbytes(i * 10))


def shorten(s):
    """'NNNN...N' (255 of them) -> 'N{x255}': readable op descriptions"""
    return re.sub(r"(.)\1{11,}",
                  lambda m: "%s{x%d}" % (m.group(1), len(m.group(0))), s)


def res_exc(e):
    return ("E", errno.errorcode.get(e.errno, str(e.errno)))


def st_tuple(st, dir_size=True, blocks=False):
    t = (stat.S_IFMT(st.st_mode), stat.S_IMODE(st.st_mode), st.st_nlink,
         st.st_uid, st.st_gid)
    if not stat.S_ISDIR(st.st_mode) or dir_size:
        t += (st.st_size,)
    if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
        t += (st.st_rdev,)
    if blocks:
        t += ("blocks", st.st_blocks)
    return t


def splice_in(fi, fo, ioff, ooff, n):
    """Up to n bytes of fi from ioff into a pipe, then from the pipe into
    fo at ooff, all of them; the bytes moved."""
    rd, wr = os.pipe()
    try:
        got = os.splice(fi, wr, n, offset_src=ioff)
        done = 0
        while done < got:
            k = os.splice(rd, fo, got - done, offset_dst=ooff + done)
            if k <= 0:
                raise OSError(errno.EIO, "splice into the file: %d" % k)
            done += k
        return got
    finally:
        os.close(rd)
        os.close(wr)


def digest(b):
    return "%d:%s" % (len(b), hashlib.sha1(b).hexdigest()[:16])


class Side:
    def __init__(self, root):
        self.root = root
        self.fds = {}   # slot -> fd

    def p(self, rel):
        return os.path.join(self.root, rel) if rel else self.root


class Diff(Exception):
    pass


class Runner:
    def __init__(self, a, b, seed, opts):
        self.A, self.B = Side(a), Side(b)
        self.r = random.Random(seed)
        self.seed = seed
        self.opts = opts
        self.slots = {}   # slot -> rel path at open time (for messages)
        self.next_slot = 0
        self.trail = []
        self.stats = {}

    # ---- the model: what exists, read from A --------------------------
    def scan(self):
        files, dirs, links, other = [], [""], [], []
        for dp, dns, fns in os.walk(self.A.root):
            # readdir order follows the image's random htree hash seed:
            # sort, or the same seed gives another op stream on a rerun
            dns.sort()
            fns.sort()
            rel = os.path.relpath(dp, self.A.root)
            rel = "" if rel == "." else rel
            if rel == "":
                dns[:] = [x for x in dns if x != "lost+found"]
            if rel == BULK:
                dns[:] = []
                fns = fns[:3]
            for n in dns + fns:
                rp = os.path.join(rel, n) if rel else n
                try:
                    m = os.lstat(os.path.join(dp, n)).st_mode
                except OSError:
                    continue
                if stat.S_ISDIR(m):
                    dirs.append(rp)
                elif stat.S_ISREG(m):
                    files.append(rp)
                elif stat.S_ISLNK(m):
                    links.append(rp)
                else:
                    other.append(rp)
        self.files, self.dirs, self.links, self.other = \
            files, dirs, links, other
        self.all = files + dirs[1:] + links + other

    def pick(self, kind="any"):
        r = self.r
        pool = {"file": self.files, "dir": self.dirs,
                "any": self.all}.get(kind, self.all)
        if pool and r.random() < 0.75:
            return r.choice(pool)
        return self.newpath()

    def newpath(self):
        r = self.r
        x = r.random()
        parent = r.choice(self.dirs)
        if x < 0.04 and self.files:          # through a non-directory
            parent = r.choice(self.files)
        elif x < 0.07:                       # missing parent
            parent = os.path.join(parent, "missing")
        name = r.choice(NAMES)
        if r.random() < 0.02:
            name = "T" * 256                 # ENAMETOOLONG
        return os.path.join(parent, name) if parent else name

    # ---- running one op on both sides ---------------------------------
    def both(self, desc, fn):
        ra = self.call(fn, self.A)
        rb = self.call(fn, self.B)
        k = ra[1] if ra[0] == "E" else "ok"
        self.stats[k] = self.stats.get(k, 0) + 1
        self.trail.append(shorten("%s -> %r" % (desc, ra)))
        self.trail = self.trail[-6:]
        if ra != rb:
            desc = shorten(desc)
            raise Diff("%s\n    A (reference): %r\n    B (under test): %r"
                       % (desc, ra, rb))
        return ra

    @staticmethod
    def call(fn, side):
        try:
            return ("ok", fn(side))
        except OSError as e:
            return res_exc(e)

    # ---- the operations -------------------------------------------------
    def data(self):
        r = self.r
        n = r.choice([1, 7, 100, 1023, 1024, 4096, 5000, 65536, 131072,
                      200000, r.randrange(1, 300000)])
        if r.random() < 0.1:
            return bytes(n)
        return r.randbytes(n)

    def offset(self, size):
        r = self.r
        c = r.random()
        if c < 0.35:
            return r.randrange(0, size + 1)
        if c < 0.55:
            return size
        if c < 0.75:
            return size + r.randrange(1, 100000)
        if c < 0.95:
            return r.choice(BOUNDARIES) + r.choice([-1, 0, 0, 1])
        return r.randrange(0, 70 << 20)

    def op_create(self):
        p = self.pick("file")
        fl = os.O_CREAT | os.O_WRONLY | self.r.choice(
            [os.O_EXCL, os.O_TRUNC, 0])
        mode = self.r.choice([0o644, 0o600, 0o755, 0o4755, 0o000])

        def f(s):
            fd = os.open(s.p(p), fl | NB, mode)
            os.close(fd)
            return st_tuple(os.lstat(s.p(p)), self.opts.dir_size)
        return "create(%r, %#o, %#o)" % (p, fl, mode), f

    def op_write(self):
        p = self.pick("file")
        try:
            size = os.lstat(self.A.p(p)).st_size
        except OSError:
            size = 0
        off = max(0, self.offset(size))
        data = self.data()
        app = self.r.random() < 0.1

        def f(s):
            fd = os.open(s.p(p), os.O_WRONLY | NB | (os.O_APPEND if app else 0))
            try:
                n = os.write(fd, data) if app else os.pwrite(fd, data, off)
                return n, os.fstat(fd).st_size
            finally:
                os.close(fd)
        return "write(%r, off=%d, len=%d, append=%s)" % (
            p, off, len(data), app), f

    def op_fill(self):
        """Fill the file system to about full (ENOSPC, exactly where the
        kernel's ext2 gives it): write to a file at its end, in chunks,
        up to a few blocks short of or past the free space A reports."""
        p = self.pick("file")
        r = self.r
        sv = os.statvfs(self.A.root)
        free = (sv.f_bfree if os.geteuid() == 0 else sv.f_bavail) * \
            sv.f_frsize
        n = max(0, free + r.randrange(-(2 << 20), 64 << 10))
        n = min(n, 48 << 20)            # a fill stays a few seconds
        chunk = r.choice([4096, 65536, 300000, 1 << 20])
        data = r.randbytes(chunk)

        def f(s):
            fd = os.open(s.p(p), os.O_WRONLY | os.O_CREAT | NB, 0o644)
            done, err = 0, None
            try:
                pos = os.fstat(fd).st_size
                while done < n:
                    k = min(chunk, n - done)
                    try:
                        w = os.pwrite(fd, data[:k], pos + done)
                    except OSError as e:
                        err = errno.errorcode.get(e.errno, e.errno)
                        break
                    done += w
                    if w < k:
                        break
                return done, err, os.fstat(fd).st_size
            finally:
                os.close(fd)
        return "fill(%r, %d in %d)" % (p, n, chunk), f

    def max_file_size(self):
        """The largest size of a block-mapped file without huge_file, as
        the kernel's ext2/ext4 driver computes it (s_bitmap_maxbytes)."""
        bs = os.statvfs(self.A.root).f_bsize
        bits = bs.bit_length() - 1
        ppb = bs // 4
        limit = ((1 << 32) - 1) >> (bits - 9)
        tree = 12 + ppb + ppb ** 2 + ppb ** 3
        meta = 1 + (1 + ppb) + (1 + ppb + ppb ** 2)
        if tree + meta <= limit:
            return tree * bs
        left = limit - 12 - ppb
        if left < ppb ** 2:
            return (limit - (2 + -(-left // ppb))) * bs
        meta = 2 + ppb
        left -= ppb ** 2
        meta += 1 + -(-left // ppb) + -(-left // ppb ** 2)
        return (limit - meta) * bs

    def op_bigwrite(self):
        """Writes at and across the largest file size: EFBIG, or a short
        write up to it."""
        p = self.pick("file")
        r = self.r
        mx = self.max_file_size()
        n = r.choice([1, 100, 4096, 10000])
        off = mx + r.choice([-n - 1, -n, -n // 2, -1, 0, 1, 4096])
        off = max(0, off)

        def f(s):
            fd = os.open(s.p(p), os.O_WRONLY | NB)
            try:
                return os.pwrite(fd, b"x" * n, off), os.fstat(fd).st_size
            finally:
                os.close(fd)
        return "bigwrite(%r, off=max%+d, len=%d)" % (p, off - mx, n), f

    def op_read(self):
        p = self.pick("file")
        try:
            size = os.lstat(self.A.p(p)).st_size
        except OSError:
            size = 0
        off = max(0, self.offset(size) - self.r.randrange(0, 4096))
        n = self.r.choice([1, 4096, 70000, 1 << 20])

        def f(s):
            fd = os.open(s.p(p), os.O_RDONLY | NB)
            try:
                return digest(os.pread(fd, n, off))
            finally:
                os.close(fd)
        return "read(%r, off=%d, len=%d)" % (p, off, n), f

    def op_truncate(self):
        p = self.pick("file")
        try:
            size = os.lstat(self.A.p(p)).st_size
        except OSError:
            size = 0
        r = self.r
        c = r.random()
        if c < 0.3:
            n = r.randrange(0, size + 1)
        elif c < 0.5:
            n = 0
        elif c < 0.9:
            n = size + r.randrange(1, 3 << 20)
        else:
            n = r.choice(TRUNC_BIG)

        def f(s):
            os.truncate(s.p(p), n)
            return st_tuple(os.lstat(s.p(p)), self.opts.dir_size)
        return "truncate(%r, %d)" % (p, n), f

    def op_rename(self):
        r = self.r
        src = self.pick(r.choice(["file", "dir", "any"]))
        c = r.random()
        if c < 0.3 and self.all:
            dst = r.choice(self.all)        # over something existing
        elif c < 0.4 and src:
            dst = os.path.join(src, r.choice(NAMES))   # into itself
        else:
            dst = self.newpath()
        flags = RENAME_NOREPLACE if r.random() < 0.1 else 0

        def f(s):
            if flags:
                renameat2(s.p(src), s.p(dst), flags)
            else:
                os.rename(s.p(src), s.p(dst))
            return st_tuple(os.lstat(s.p(dst)), self.opts.dir_size)
        return "rename(%r, %r, flags=%d)" % (src, dst, flags), f

    def op_link(self):
        src = self.pick(self.r.choice(["file", "any"]))
        dst = self.pick("any") if self.r.random() < 0.2 else self.newpath()

        def f(s):
            os.link(s.p(src), s.p(dst), follow_symlinks=False)
            return st_tuple(os.lstat(s.p(dst)), self.opts.dir_size)
        return "link(%r, %r)" % (src, dst), f

    def op_unlink(self):
        p = self.pick("any")

        def f(s):
            os.unlink(s.p(p))
        return "unlink(%r)" % p, f

    def op_mkdir(self):
        p = self.newpath() if self.r.random() < 0.85 else self.pick("any")
        mode = self.r.choice([0o755, 0o700, 0o1777, 0o2755])

        def f(s):
            os.mkdir(s.p(p), mode)
            return st_tuple(os.lstat(s.p(p)), self.opts.dir_size)
        return "mkdir(%r, %#o)" % (p, mode), f

    def op_rmdir(self):
        p = self.pick("dir") if self.r.random() < 0.8 else self.pick("any")

        def f(s):
            os.rmdir(s.p(p))
        return "rmdir(%r)" % p, f

    def op_symlink(self):
        r = self.r
        n = r.choice([1, 20, 59, 60, 61, 150, 500, 1000, 1023, 2000, 4095])
        tgt = (r.choice(NAMES) + "/" + "t" * n)[:n]
        p = self.newpath() if r.random() < 0.85 else self.pick("any")

        def f(s):
            os.symlink(tgt, s.p(p))
            return os.readlink(s.p(p)), st_tuple(os.lstat(s.p(p)))
        return "symlink(len %d, %r)" % (n, p), f

    def op_mkfifo(self):
        p = self.newpath()

        def f(s):
            os.mkfifo(s.p(p), 0o640)
            return st_tuple(os.lstat(s.p(p)))
        return "mkfifo(%r)" % p, f

    def op_chmod(self):
        p = self.pick("any")
        mode = self.r.randrange(0, 0o10000)

        def f(s):
            os.chmod(s.p(p), mode)   # a symlink: its (relative) target
            return st_tuple(os.lstat(s.p(p)), self.opts.dir_size)
        return "chmod(%r, %#o)" % (p, mode), f

    def op_chown(self):
        p = self.pick("any")
        u = self.r.choice(UIDS + [-1])
        g = self.r.choice(UIDS + [-1])

        def f(s):
            os.chown(s.p(p), u, g, follow_symlinks=False)
            return st_tuple(os.lstat(s.p(p)), self.opts.dir_size)
        return "lchown(%r, %d, %d)" % (p, u, g), f

    def op_chown_keep(self):
        """chown(p, -1, -1) changes nothing but ctime, which must move."""
        p = self.pick("any")

        def f(s):
            before = os.lstat(s.p(p)).st_ctime_ns
            time.sleep(0.012)    # past a coarse clock's tick
            os.chown(s.p(p), -1, -1, follow_symlinks=False)
            return os.lstat(s.p(p)).st_ctime_ns > before
        return "lchown(%r, -1, -1): ctime advanced" % p, f

    def op_copy(self):
        """Copy a range from one file into another (or the same) through
        the splice machinery: copy_file_range, sendfile or a pipe."""
        r = self.r
        src, dst = self.pick("file"), self.pick("file")
        how = r.choice(["copy_file_range", "sendfile", "splice"])
        size = {}
        for q in (src, dst):
            try:
                size[q] = os.lstat(self.A.p(q)).st_size
            except OSError:
                size[q] = 0
        ioff = max(0, min(self.offset(size[src]), size[src] + 4096))
        ooff = max(0, self.offset(size[dst]))
        n = r.choice([1, 4096, 5000, 65536, 70000, 300000])
        if how == "splice":
            n = min(n, 65536)    # what a pipe holds

        def f(s):
            fi = os.open(s.p(src), os.O_RDONLY | NB)
            try:
                fo = os.open(s.p(dst), os.O_WRONLY | NB)
                try:
                    if how == "copy_file_range":
                        got = os.copy_file_range(fi, fo, n, ioff, ooff)
                    elif how == "sendfile":
                        os.lseek(fo, ooff, os.SEEK_SET)
                        got = os.sendfile(fo, fi, ioff, n)
                    else:
                        got = splice_in(fi, fo, ioff, ooff, n)
                    return got, os.fstat(fo).st_size
                finally:
                    os.close(fo)
            finally:
                os.close(fi)
        return "%s(%r@%d -> %r@%d, %d)" % (how, src, ioff, dst, ooff, n), f

    def rand_time(self):
        r = self.r
        if r.random() < 0.1:
            t = r.choice([0, -1, -(10**9) + 1, (2**31 - 1) * 10**9,
                          4102444800 * 10**9 + 999999999,
                          -2**31 * 10**9])
            if self.opts.time32 and t >= 2**31 * 10**9:
                t = (2**31 - 1) * 10**9   # same random stream
            return t
        return r.randrange(0, 2**31) * 10**9 + r.randrange(10**9)

    def op_utimes(self):
        p = self.pick("any")
        at, mt = self.rand_time(), self.rand_time()

        def f(s):
            os.utime(s.p(p), ns=(at, mt), follow_symlinks=False)
            st = os.lstat(s.p(p))
            q = self.opts.time_prec
            return st.st_atime_ns // q, st.st_mtime_ns // q
        return "utimes(%r, ns=(%d, %d))" % (p, at, mt), f

    def op_setxattr(self):
        r = self.r
        p = self.pick(r.choice(["file", "dir", "any"]))
        name = r.choice(XNAMES)
        val = r.randbytes(r.choice(XSIZES))
        flags = r.choice([0, 0, os.XATTR_CREATE, os.XATTR_REPLACE])

        def f(s):
            os.setxattr(s.p(p), name, val, flags, follow_symlinks=False)
            return sorted(os.listxattr(s.p(p), follow_symlinks=False))
        return "setxattr(%r, %r, len %d, flags %d)" % (
            p, name, len(val), flags), f

    def op_getxattr(self):
        p = self.pick("any")
        name = self.r.choice(XNAMES)

        def f(s):
            return digest(os.getxattr(s.p(p), name, follow_symlinks=False))
        return "getxattr(%r, %r)" % (p, name), f

    def op_listxattr(self):
        p = self.pick("any")

        def f(s):
            return sorted(os.listxattr(s.p(p), follow_symlinks=False))
        return "listxattr(%r)" % p, f

    def op_removexattr(self):
        p = self.pick("any")
        name = self.r.choice(XNAMES)

        def f(s):
            os.removexattr(s.p(p), name, follow_symlinks=False)
            return sorted(os.listxattr(s.p(p), follow_symlinks=False))
        return "removexattr(%r, %r)" % (p, name), f

    def op_fsync(self):
        p = self.pick(self.r.choice(["file", "dir"]))

        def f(s):
            fd = os.open(s.p(p), os.O_RDONLY | NB)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        return "fsync(%r)" % p, f

    def op_lstat(self):
        p = self.pick("any")

        def f(s):
            return st_tuple(os.lstat(s.p(p)), self.opts.dir_size,
                            self.opts.blocks)
        return "lstat(%r)" % p, f

    def op_readdir(self):
        p = self.pick("dir")

        def f(s):
            return sorted(os.listdir(s.p(p)))
        return "readdir(%r)" % p, f

    def op_readlink(self):
        p = self.r.choice(self.links) if self.links else self.pick("any")

        def f(s):
            return os.readlink(s.p(p))
        return "readlink(%r)" % p, f

    # ---- descriptors held open ------------------------------------------
    def op_fd_open(self):
        if len(self.slots) >= 4:
            return self.op_fd_close()
        p = self.pick("file")
        fl = os.O_RDWR | self.r.choice([0, os.O_CREAT, os.O_APPEND])
        slot = self.next_slot
        self.next_slot += 1

        def f(s):
            s.fds[slot] = os.open(s.p(p), fl | NB, 0o644)
            return "opened"
        desc = "fd_open[%d](%r, %#o)" % (slot, p, fl)
        self.slots[slot] = p
        return desc, f

    def with_fd(self, what, g):
        if not self.slots:
            return self.op_fd_open()
        slot = self.r.choice(sorted(self.slots))

        def f(s):
            fd = s.fds.get(slot)
            if fd is None:
                raise OSError(errno.EBADF, "not open")
            return g(fd)
        return "%s[%d](opened as %r)" % (what, slot, self.slots[slot]), f

    def op_fd_write(self):
        data = self.data()
        off = self.offset(self.r.randrange(0, 1 << 20))
        d, f = self.with_fd("fd_pwrite(off=%d,len=%d)" % (off, len(data)),
                            lambda fd: (os.pwrite(fd, data, off),
                                        os.fstat(fd).st_size))
        return d, f

    def op_fd_read(self):
        off = self.r.randrange(0, 2 << 20)
        return self.with_fd("fd_pread(off=%d)" % off,
                            lambda fd: digest(os.pread(fd, 100000, off)))

    def op_fd_truncate(self):
        n = self.r.randrange(0, 3 << 20)
        return self.with_fd("fd_ftruncate(%d)" % n,
                            lambda fd: (os.ftruncate(fd, n),
                                        os.fstat(fd).st_size))

    def op_fd_fstat(self):
        return self.with_fd("fd_fstat", lambda fd: st_tuple(
            os.fstat(fd), self.opts.dir_size, self.opts.blocks))

    def op_fd_fsync(self):
        return self.with_fd("fd_fsync", lambda fd: os.fsync(fd))

    def op_fd_close(self):
        if not self.slots:
            return self.op_fd_open()
        slot = self.r.choice(sorted(self.slots))
        del self.slots[slot]

        def f(s):
            fd = s.fds.pop(slot, None)
            if fd is None:
                raise OSError(errno.EBADF, "not open")
            os.close(fd)
        return "fd_close[%d]" % slot, f

    OPS = [("create", 8), ("write", 14), ("read", 8), ("truncate", 6),
           ("rename", 8), ("link", 4), ("unlink", 5), ("mkdir", 5),
           ("rmdir", 3), ("symlink", 4), ("mkfifo", 1), ("chmod", 3),
           ("chown", 3), ("utimes", 4), ("setxattr", 6), ("getxattr", 2),
           ("listxattr", 1), ("removexattr", 3), ("fsync", 2),
           ("lstat", 6), ("readdir", 3), ("readlink", 1), ("copy", 4),
           ("chown_keep", 1),
           ("fd_open", 3), ("fd_write", 4), ("fd_read", 2),
           ("fd_truncate", 1), ("fd_fstat", 2), ("fd_fsync", 1),
           ("fd_close", 2)]

    def tree_check(self, where):
        o = argparse.Namespace(
            mtime_prec=1, mtime=False, atime=False,
            ignore={b"lost+found"}, root_meta=False,
            dir_size=self.opts.dir_size, blocks=self.opts.blocks,
            xattr=True, max_diffs=1)
        diffs, _ = cmpmod.compare(self.A.root, self.B.root, o)
        if diffs:
            raise Diff("tree comparison %s: %s" % (where, diffs[0]))

    def final_times(self):
        """The same explicit ns times on every path, children first."""
        paths = []
        for dp, dns, fns in os.walk(self.A.root, topdown=False):
            rel = os.path.relpath(dp, self.A.root)
            if rel.split(os.sep)[0] == "lost+found":
                continue
            for n in fns + dns:
                if rel == "." and n == "lost+found":
                    continue
                paths.append(os.path.normpath(os.path.join(rel, n)))
        # deepest first, then by name: the same order on every run
        paths.sort(key=lambda p: (-p.count(os.sep), p))
        paths.append("")
        for p in paths:
            at, mt = self.rand_time(), self.rand_time()
            for s in (self.A, self.B):
                try:
                    os.utime(s.p(p), ns=(at, mt), follow_symlinks=False)
                except OSError as e:
                    raise Diff("final utimes(%r) on %s: %s" % (
                        p, s.root, e))

    def run(self, nops):
        ops = list(self.OPS)
        if self.opts.limits:
            ops.insert(ops.index(("chown_keep", 1)) + 1, ("bigwrite", 1))
        if self.opts.enospc:
            ops.append(("fill", 1))
        names = [n for n, _ in ops]
        weights = [w for _, w in ops]
        for i in range(nops):
            self.scan()
            name = self.r.choices(names, weights)[0]
            desc, fn = getattr(self, "op_" + name)()
            if self.opts.trace:
                print("#%d %s" % (i, desc), flush=True)
            try:
                self.both(desc, fn)
                if self.opts.check_every and (i + 1) % \
                        self.opts.check_every == 0:
                    self.tree_check("after op %d" % i)
            except Diff as d:
                print("DIFF seed %d op %d: %s" % (self.seed, i, d))
                print("  last ops (on A):")
                for t in self.trail[:-1]:
                    print("    " + t)
                return 1
        for s in (self.A, self.B):
            for fd in s.fds.values():
                os.close(fd)
            s.fds.clear()
        try:
            self.final_times()
            o = argparse.Namespace(
                mtime_prec=self.opts.time_prec, mtime=True, atime=False,
                ignore={b"lost+found"}, root_meta=True,
                dir_size=self.opts.dir_size, blocks=self.opts.blocks,
                xattr=True, max_diffs=1)
            diffs, n = cmpmod.compare(self.A.root, self.B.root, o)
            if diffs:
                raise Diff("final tree comparison: %s" % diffs[0])
        except Diff as d:
            print("DIFF seed %d after %d ops: %s" % (self.seed, nops, d))
            return 1
        print("difftest: seed %d: %d ops identical (%s), final trees "
              "identical (%d paths)" % (
                  self.seed, nops, " ".join(
                      "%s %d" % kv for kv in sorted(
                          self.stats.items(), key=lambda x: -x[1])), n))
        return 0


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("populate")
    p.add_argument("dir")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--no-xattr", dest="xattr", action="store_false")
    r = sub.add_parser("run")
    r.add_argument("a")
    r.add_argument("b")
    r.add_argument("--seed", type=int, required=True)
    r.add_argument("--ops", type=int, default=2000)
    r.add_argument("--check-every", type=int, default=250)
    r.add_argument("--no-dir-size", dest="dir_size", action="store_false")
    r.add_argument("--blocks", action="store_true")
    r.add_argument("--limits", action="store_true",
                   help="add bigwrite: writes at the largest file size")
    r.add_argument("--enospc", action="store_true",
                   help="add fill: write files up to the free space")
    r.add_argument("--trace", action="store_true")
    r.add_argument("--time32", action="store_true",
                   help="no times past 2038 (revision 0: the kernel keeps "
                   "them in memory but cannot store them)")
    r.add_argument("--time-prec", type=int, default=1,
                   help="compare times rounded down to this many ns "
                   "(default 1: exact)")
    args = ap.parse_args()
    if args.cmd == "populate":
        populate(args.dir, args.seed, args.xattr)
        return 0
    for d in (args.a, args.b):
        if not os.path.isdir(d):
            print("difftest: %s: not a directory" % d, file=sys.stderr)
            return 2
    return Runner(args.a, args.b, args.seed, args).run(args.ops)


if __name__ == "__main__":
    sys.exit(main())
