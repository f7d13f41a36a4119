#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""treegen: build a source tree that exercises every corner of ext2/3/4.

usage:
  treegen.py gen DIR [--seed N] [--profile full|small] [--no-sockets]
                     [--no-acl] [--no-xattr] [--time32] [--big-size BYTES]
  treegen.py apply-times SRC DST
  treegen.py write DIR [--seed N]

gen        builds DIR (must not exist, or be empty).  The content is a pure
           function of --seed and --profile.  Must run as root (device
           nodes, chown, trusted.* xattrs).
apply-times copies atime/mtime (nanoseconds) of every path of SRC to the
           same path under DST, children before parents.  Used after
           `mke2fs -d`, which keeps only whole seconds, to put nanosecond
           times into an image (through a kernel mount of it).
write      makes the same fixed set of changes to a tree made by gen (any
           profile, also --no-xattr): create, append, overwrite, truncate
           down/up/to 0, rename (in a dir, across dirs, over a file, a
           directory), unlink (a file, a hard link's name, a symlink, a
           fifo), rmdir, mkdir, fast and slow symlinks, hard links, a
           directory grown by 150 entries then thinned, set/replace/remove
           xattrs (in-inode and block sizes; unsharing a shared block),
           chmod, chown.  Run on an image's mount and on a copy of the
           source, the two must compare equal (times: apply-times).

What "full" makes (paths relative to DIR):
  files/       regular files whose sizes straddle the ext2 block-map
               boundaries for 1 KiB and 4 KiB blocks (direct, single,
               double indirect), plus empty and tiny files
  sparse/      holes at the start, middle and end, an all-hole file, and
               big.img: > 4 GiB apparent size (data past 4 GiB, so a
               1 KiB-block ext2 needs its triple-indirect block), few MiB
               really used
  links/       fast (< 60 B) and slow (>= 60 B) symlinks, dangling,
               absolute, to a directory; hard links (3 names, across dirs)
  special/     fifo, char and block devices (small and large dev numbers),
               a unix socket (unless --no-sockets)
  xattr/       user.* and trusted.* xattrs, empty values, many names, a
               value large enough to need the xattr block, identical sets
               on two inodes (block sharing), xattrs on a directory and a
               trusted.* one on a symlink; POSIX ACLs (access + default)
  names/       255-byte ASCII and UTF-8 names, spaces, newline, leading
               dash, high bytes that are not UTF-8
  deep/        30 nested directories with a file at the bottom
  many/        3000 entries (files of mixed name lengths); subdirs/ with
               150 subdirectories (parent nlink 152)
  modes/       setuid/setgid/sticky, 0000, 0777, odd directory modes;
               owners incl. uid/gid > 65535 and > 2^31
Times: every path gets a seeded mtime/atime with nanoseconds; a few get
edge values (before 1970, 0, 2^31-1, after 2038).
"small" makes the same kinds of objects with fewer entries, no big file.
--no-xattr leaves out xattr/ and the ACLs (for images without ext_attr);
--time32 keeps the edge times inside signed 32-bit seconds (128-byte
inodes: no times after 2038).
"""
import argparse
import os
import random
import socket
import stat
import subprocess
import sys

EDGE_TIMES = [
    -123456789 * 10**9 - 500000000,    # 1966
    -1 * 10**9 + 1,                    # just before the epoch
    0,
    (2**31 - 1) * 10**9 + 999999999,   # last 32-bit second
    4102444800 * 10**9 + 123456789,    # 2100
]
# --time32: 128-byte inodes keep signed 32-bit seconds only
EDGE_TIMES_32 = EDGE_TIMES[:-1] + [-(2**31) * 10**9]   # 1901


def pattern(rng, n):
    """n bytes of seeded content; text-ish runs and binary runs mixed."""
    if n <= 0:
        return b""
    out = bytearray()
    while len(out) < n:
        k = min(n - len(out), rng.randrange(1, 65536))
        if rng.random() < 0.5:
            out += rng.randbytes(k)
        else:
            word = rng.randbytes(rng.randrange(1, 17))
            out += (word * (k // len(word) + 1))[:k]
    return bytes(out)


def write_file(path, rng, size):
    with open(path, "wb") as f:
        f.write(pattern(rng, size))


def write_at(path, pieces, size):
    """pieces: [(offset, bytes)]; then truncate to size (may add a hole)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        for off, data in pieces:
            os.pwrite(fd, data, off)
        os.ftruncate(fd, size)
    finally:
        os.close(fd)


class Gen:
    def __init__(self, root, seed, profile, sockets, acl, big_size,
                 xattr=True, time32=False):
        self.root = root
        self.xattr = xattr
        self.edge_times = EDGE_TIMES_32 if time32 else EDGE_TIMES
        self.rng = random.Random(seed)
        self.seed = seed
        self.small = profile == "small"
        self.sockets = sockets
        self.acl = acl
        self.big_size = big_size
        self.owned = []    # (path, uid, gid, mode) applied at the end

    def p(self, *parts):
        return os.path.join(self.root, *parts)

    def mkdir(self, *parts):
        path = self.p(*parts)
        os.makedirs(path, exist_ok=True)
        return path

    def files(self):
        d = self.mkdir("files")
        sizes = [0, 1, 59, 60, 61, 511, 1023, 1024, 1025, 2048, 4095, 4096,
                 4097, 8191, 12 * 1024, 12 * 1024 + 1, 12 * 4096,
                 12 * 4096 + 1, (12 + 256) * 1024, (12 + 256) * 1024 + 1,
                 300000, (1 << 20) + 7]
        if not self.small:
            sizes += [(12 + 1024) * 4096 + 1, 5 * (1 << 20) + 3]
        for s in sizes:
            write_file(os.path.join(d, "f%d" % s), self.rng, s)
        for i in range(20 if not self.small else 5):
            write_file(os.path.join(d, "rnd%02d" % i), self.rng,
                       self.rng.randrange(0, 70000))

    def sparse(self):
        d = self.mkdir("sparse")
        r = self.rng
        write_at(os.path.join(d, "hole_start"),
                 [(1 << 20, pattern(r, 5000))], (1 << 20) + 5000)
        write_at(os.path.join(d, "hole_middle"),
                 [(0, pattern(r, 3000)), (3 << 20, pattern(r, 7000))],
                 (3 << 20) + 7000)
        write_at(os.path.join(d, "hole_end"),
                 [(0, pattern(r, 10000))], 10 << 20)
        write_at(os.path.join(d, "all_hole"), [], 2 << 20)
        write_at(os.path.join(d, "scattered"),
                 [(o, pattern(r, 1500)) for o in
                  (0, 13 * 1024, 270 * 1024, 70 << 20, (70 << 20) + 4096)],
                 (80 << 20) + 1)
        if self.big_size:
            b = self.big_size
            write_at(os.path.join(d, "big.img"),
                     [(0, pattern(r, 4096)),
                      (2 << 30, pattern(r, 70000)),
                      ((4 << 30) + 123, pattern(r, 100000)),
                      (b - 4097, pattern(r, 4097))], b)

    def links(self):
        d = self.mkdir("links")
        for n in (1, 30, 59, 60, 61, 100, 255, 1000):
            tgt = ("t" * n)[:n]
            # make them differ from each other in more than length
            tgt = (("x%d/" % n) + "y" * n)[:n]
            os.symlink(tgt, os.path.join(d, "sym%d" % n))
        os.symlink("../files/f4096", os.path.join(d, "to_file"))
        os.symlink("../deep", os.path.join(d, "to_dir"))
        os.symlink("/nonexistent/absolute/target", os.path.join(d, "abs"))
        os.symlink("nowhere", os.path.join(d, "dangling"))
        os.symlink("loop_b", os.path.join(d, "loop_a"))
        os.symlink("loop_a", os.path.join(d, "loop_b"))
        # hard links: 3 names in 3 directories, and a pair
        hl = os.path.join(d, "hard_a")
        write_file(hl, self.rng, 5000)
        os.link(hl, os.path.join(d, "hard_b"))
        self.mkdir("links", "sub")
        os.link(hl, os.path.join(d, "sub", "hard_c"))
        pr = os.path.join(d, "pair1")
        write_file(pr, self.rng, 10)
        os.link(pr, os.path.join(d, "pair2"))
        e = os.path.join(d, "empty_hard1")
        write_file(e, self.rng, 0)
        os.link(e, os.path.join(d, "sub", "empty_hard2"))

    def special(self):
        d = self.mkdir("special")
        os.mkfifo(os.path.join(d, "fifo"), 0o640)
        os.mknod(os.path.join(d, "null"), 0o666 | stat.S_IFCHR,
                 os.makedev(1, 3))
        os.mknod(os.path.join(d, "loop0"), 0o660 | stat.S_IFBLK,
                 os.makedev(7, 0))
        os.mknod(os.path.join(d, "bigdev_c"), 0o600 | stat.S_IFCHR,
                 os.makedev(300, 70000))
        os.mknod(os.path.join(d, "bigdev_b"), 0o600 | stat.S_IFBLK,
                 os.makedev(4095, 1048575))
        os.mknod(os.path.join(d, "dev0"), 0o600 | stat.S_IFCHR,
                 os.makedev(0, 0))
        if self.sockets:
            s = socket.socket(socket.AF_UNIX)
            try:
                s.bind(os.path.join(d, "sock"))
            finally:
                s.close()
        # a hard-linked fifo
        os.link(os.path.join(d, "fifo"), os.path.join(d, "fifo_link"))

    def xattrs(self):
        d = self.mkdir("xattr")
        r = self.rng
        f = os.path.join(d, "simple")
        write_file(f, r, 100)
        os.setxattr(f, "user.a", b"1")
        os.setxattr(f, "user.empty", b"")
        os.setxattr(f, "trusted.t", b"trusted value")
        f = os.path.join(d, "many")
        write_file(f, r, 0)
        for i in range(12):
            os.setxattr(f, "user.n%02d" % i, pattern(r, r.randrange(0, 40)))
        f = os.path.join(d, "blockval")
        write_file(f, r, 1)
        os.setxattr(f, "user.big", pattern(r, 600))
        os.setxattr(f, "trusted.bin", bytes(range(256))[:80])
        # identical sets on two inodes: ext2 shares one xattr block
        shared = pattern(r, 300)
        for n in ("shared1", "shared2"):
            f = os.path.join(d, n)
            write_file(f, r, 10)
            os.setxattr(f, "user.shared", shared)
            os.setxattr(f, "user.other", b"same")
        sd = self.mkdir("xattr", "dir")
        os.setxattr(sd, "user.dirattr", b"on a directory")
        os.setxattr(sd, "trusted.dir", b"x" * 50)
        sl = os.path.join(d, "symlink")
        os.symlink("simple", sl)
        os.setxattr(sl, "trusted.onlink", b"link xattr",
                    follow_symlinks=False)
        f = os.path.join(d, "longname")
        write_file(f, r, 3)
        os.setxattr(f, "user." + "n" * 200, b"long name")
        if self.acl:
            f = os.path.join(d, "acl_file")
            write_file(f, r, 7)
            subprocess.run(["setfacl", "-m", "u:1234:rwx,g:70000:r--", f],
                           check=True)
            ad = self.mkdir("xattr", "acl_dir")
            subprocess.run(["setfacl", "-d", "-m", "u:4321:r-x", ad],
                           check=True)
            subprocess.run(["setfacl", "-m", "u:99:rw-", ad], check=True)

    def names(self):
        d = self.mkdir("names")
        bd = os.fsencode(d)
        longa = b"L" * 255
        # UTF-8: 'é' is 2 bytes; 127 of them + 1 ASCII byte = 255
        longu = "é".encode() * 127 + b"u"
        assert len(longa) == 255 and len(longu) == 255
        for n in (longa, longu, b"with space", b"new\nline", b"-dash",
                  b"\xff\xfe not utf8", b"tab\there", b"...", b".hidden",
                  b"\x01ctl", "unicode-\u2603-\U0001f600".encode()):
            with open(os.path.join(bd, n), "wb") as f:
                f.write(n)
        dl = os.path.join(bd, b"D" * 255)
        os.mkdir(dl)
        with open(os.path.join(dl, b"F" * 255), "wb") as f:
            f.write(b"inside long dir\n")

    def deep(self):
        parts = ["deep"] + ["d%02d" % i for i in range(30)]
        d = self.mkdir(*parts)
        write_file(os.path.join(d, "bottom"), self.rng, 333)
        os.link(os.path.join(d, "bottom"), self.p("links", "hard_deep"))
        os.symlink("/".join([".."] * 31) + "/files/f1",
                   os.path.join(d, "up"))

    def many(self):
        d = self.mkdir("many")
        n = 3000 if not self.small else 300
        r = self.rng
        for i in range(n):
            name = "e%05d_" % i + "x" * r.randrange(0, 60)
            with open(os.path.join(d, name), "wb") as f:
                if i % 100 == 0:
                    f.write(pattern(r, r.randrange(1, 3000)))
        sd = self.mkdir("many", "subdirs")
        for i in range(150 if not self.small else 20):
            os.mkdir(os.path.join(sd, "s%03d" % i))

    def modes(self):
        d = self.mkdir("modes")
        r = self.rng
        fmodes = [0o000, 0o400, 0o644, 0o777, 0o4755, 0o2755, 0o6711,
                  0o1644, 0o7777]
        owners = [(0, 0), (1000, 1000), (65534, 65534), (65535, 65536),
                  (70000, 4000000), (3000000000, 12), (12, 3000000000),
                  (4294967294, 4294967294)]
        for i, m in enumerate(fmodes):
            f = os.path.join(d, "f%04o" % m)
            write_file(f, r, i * 10)
            self.owned.append((f, *owners[i % len(owners)], m))
        for i, m in enumerate([0o700, 0o1777, 0o2775, 0o555, 0o000]):
            sd = os.path.join(d, "d%04o" % m)
            os.mkdir(sd)
            write_file(os.path.join(sd, "x"), r, 5)
            self.owned.append((sd, *owners[(i + 3) % len(owners)], m))
        sl = os.path.join(d, "sym_owned")
        os.symlink("f0644", sl)
        self.owned.append((sl, 70001, 70002, None))
        fi = os.path.join(d, "fifo_owned")
        os.mkfifo(fi)
        self.owned.append((fi, 123456, 654321, 0o1620))
        # a few owners elsewhere in the tree
        for rel in ("files/f1", "sparse/hole_middle", "special/null",
                    "xattr/many", "links/hard_a"):
            u, g = owners[r.randrange(len(owners))]
            if self.xattr or not rel.startswith("xattr/"):
                self.owned.append((self.p(rel), u, g, None))

    def apply_owners(self):
        for path, u, g, m in self.owned:
            os.chown(path, u, g, follow_symlinks=False)
            if m is not None:  # chown drops set[ug]id: chmod after it
                os.chmod(path, m)

    def apply_times(self):
        """Seeded times for every path, children before parents."""
        r = random.Random(self.seed * 7919 + 1)
        paths = []
        for dp, dns, fns in os.walk(os.fsencode(self.root), topdown=False):
            for n in sorted(fns) + sorted(dns):
                paths.append(os.path.join(dp, n))
            paths.append(dp)
        # paths are bottom-up already; a directory's time is set after
        # everything inside it was created
        for i, path in enumerate(paths):
            if i < len(self.edge_times) * 3 and i % 3 == 0:
                mt = self.edge_times[i // 3]
            else:
                mt = r.randrange(10**9, 1_900_000_000) * 10**9 + \
                    r.randrange(10**9)
            at = r.randrange(10**9, 1_900_000_000) * 10**9 + \
                r.randrange(10**9)
            os.utime(path, ns=(at, mt), follow_symlinks=False)

    def run(self):
        self.files()
        self.sparse()
        self.links()
        self.special()
        if self.xattr:
            self.xattrs()
        self.names()
        self.deep()
        self.many()
        self.modes()
        self.apply_owners()
        self.apply_times()


def apply_times(src, dst):
    src = os.fsencode(src)
    dst = os.fsencode(dst)
    n = 0
    for dp, dns, fns in os.walk(src, topdown=False):
        rel = os.path.relpath(dp, src)
        for name in fns + dns + [None]:
            sp = dp if name is None else os.path.join(dp, name)
            rp = os.path.normpath(os.path.join(rel, name)) if name else rel
            tp = os.path.normpath(os.path.join(dst, rp))
            st = os.lstat(sp)
            os.utime(tp, ns=(st.st_atime_ns, st.st_mtime_ns),
                     follow_symlinks=False)
            n += 1
    return n


def write_tree(root, seed):
    """The changes of `write` (see the module doc); returns their count."""
    r = random.Random(seed * 31 + 7)
    n = [0]

    def j(*parts):
        n[0] += 1
        return os.path.join(root, *parts)

    os.mkdir(j("new"))
    for size in (0, 1, 1024, 2049, 4097, 13 * 1024 + 5, 300000):
        write_file(j("new", "c%d" % size), r, size)
    # appends across block boundaries, into the indirect blocks
    for name, add in (("f1023", 2), ("f4096", 50000), ("f61", 4036),
                      ("f0", 70000)):
        with open(j("files", name), "ab") as f:
            f.write(pattern(r, add))
    fd = os.open(j("files", "f300000"), os.O_WRONLY)
    try:
        os.pwrite(fd, pattern(r, 10000), 123456)
    finally:
        os.close(fd)
    fd = os.open(j("sparse", "hole_middle"), os.O_WRONLY)   # into a hole
    try:
        os.pwrite(fd, pattern(r, 5000), 1 << 20)
    finally:
        os.close(fd)
    os.truncate(j("files", "f274433"), 5000)     # frees indirect blocks
    os.truncate(j("files", "f59"), 3 << 20)      # grows with a hole
    os.truncate(j("files", "f2048"), 0)
    os.rename(j("files", "f1"), j("files", "f1.renamed"))
    os.rename(j("files", "f511"), j("new", "from_files"))
    os.rename(j("files", "f60"), j("files", "f1024"))     # over a file
    os.rename(j("deep", "d00"), j("new", "deep_moved"))   # its .. changes
    os.unlink(j("files", "f12288"))
    os.unlink(j("links", "hard_b"))
    os.unlink(j("links", "dangling"))
    os.unlink(j("special", "fifo_link"))
    os.rmdir(j("many", "subdirs", "s000"))
    os.mkdir(j("new", "sub"))
    os.symlink("../files/f0", j("new", "fast"))
    os.symlink("s/" * 150, j("new", "sub", "slow"))
    os.link(j("files", "f4095"), j("new", "hard1"))
    os.link(j("links", "hard_a"), j("new", "sub", "hard2"))
    for i in range(150):
        with open(j("many", "w%03d_%s" % (i, "y" * (i % 40))), "wb") as f:
            f.write(pattern(r, i * 7))
    for i in range(0, 150, 3):
        os.unlink(j("many", "w%03d_%s" % (i, "y" * (i % 40))))
    os.setxattr(j("new", "c1"), "user.small", b"v")
    os.setxattr(j("new", "c1"), "user.big", pattern(r, 700))
    os.setxattr(j("new"), "user.dir", b"on a directory")
    os.setxattr(j("files", "f0"), "user.a", b"first")
    os.setxattr(j("files", "f0"), "user.b", b"second")
    os.setxattr(j("files", "f0"), "user.a", b"replaced", os.XATTR_REPLACE)
    os.removexattr(j("files", "f0"), "user.b")
    if os.path.isdir(os.path.join(root, "xattr")):
        os.setxattr(j("xattr", "shared1"), "user.shared", b"unshared")
        os.removexattr(j("xattr", "blockval"), "user.big")
    os.chmod(j("new", "c0"), 0o4711)
    os.chown(j("new", "c1"), 70000, 3000000000)
    return n[0]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("gen")
    g.add_argument("dir")
    g.add_argument("--seed", type=int, default=1)
    g.add_argument("--profile", choices=("full", "small"), default="full")
    g.add_argument("--no-sockets", action="store_true")
    g.add_argument("--no-acl", action="store_true")
    g.add_argument("--no-xattr", action="store_true",
                   help="no xattrs and no ACLs (images without ext_attr)")
    g.add_argument("--time32", action="store_true",
                   help="edge times within signed 32-bit seconds")
    g.add_argument("--big-size", type=int, default=None,
                   help="apparent size of sparse/big.img (0: none); "
                   "default 4.5 GiB for full, none for small")
    a = sub.add_parser("apply-times")
    a.add_argument("src")
    a.add_argument("dst")
    w = sub.add_parser("write")
    w.add_argument("dir")
    w.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    if args.cmd == "write":
        n = write_tree(args.dir, args.seed)
        print("treegen: writes done (%d path operations)" % n)
        return 0
    if args.cmd == "apply-times":
        n = apply_times(args.src, args.dst)
        print("treegen: times applied to %d paths" % n)
        return 0
    if os.geteuid() != 0:
        sys.exit("treegen: must run as root")
    os.makedirs(args.dir, exist_ok=True)
    if os.listdir(args.dir):
        sys.exit("treegen: %s is not empty" % args.dir)
    big = args.big_size
    if big is None:
        big = (9 << 29) + 17 if args.profile == "full" else 0
    acl = not args.no_acl and not args.no_xattr
    if acl and subprocess.run(["sh", "-c", "command -v setfacl"],
                              stdout=subprocess.DEVNULL).returncode:
        print("treegen: setfacl missing, no ACLs", file=sys.stderr)
        acl = False
    Gen(args.dir, args.seed, args.profile, not args.no_sockets, acl,
        big, xattr=not args.no_xattr, time32=args.time32).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
