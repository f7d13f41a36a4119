#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""stress.py MNT [options]: a seeded concurrent random-operation stress.

N worker processes (fork), each with its own RNG (seed * 1000 + worker),
its own files (slots w<W>/s<S>.<gen>) and an in-memory model of their
contents, run write, truncate, fallocate (default, KEEP_SIZE,
PUNCH_HOLE|KEEP_SIZE), copy_file_range, mmap writes + msync, rename, link,
unlink and fsync.  Shared names (shared/t<K>) are hard links any worker
may point at one of its files (link to a private temporary name, then
rename over the shared name): the inode they replace belongs to another
worker, which loses nothing it models, but its inode's links, and at the
end its blocks, change under it.  After every op the touched range and
the size are read back and compared with the model; every file is
compared in full every 50 ops and at the end.

What a failed op (ENOSPC, and EFBIG/EOPNOTSUPP where legitimate) may leave
behind, i.e. what Linux and POSIX allow and what a FUSE kernel can show:
  write           a short count n: exactly the first n bytes landed, the
                  size grows to at most off + n; an error: nothing changed
  truncate        an error: nothing changed
  fallocate       mode 0 or KEEP_SIZE: content never changes; on error the
                  size is unchanged too (over FUSE the kernel keeps its
                  cached size after a failed FALLOCATE, so a backend that
                  extended it would be seen inconsistently)
  punch hole      success: the range reads as zeros; an error: each byte of
                  the range is its old value or zero (ext4 zeroes partial
                  blocks before it frees whole ones); read with the page
                  cache dropped, then the model adopts what is there
  copy_file_range a short count n: the first n bytes copied; an error:
                  nothing changed
  mmap write      SIGBUS at a fault (ext4 and uvfs.ko when a page gets no
                  room; the write runs in a child process), or an
                  msync error: writeback of some pages failed; the kernel
                  marks them clean anyway, so after dropping the page cache
                  each byte is old or new; the model adopts what is there
  create, link,   an error: the name is not there (link: the temporary
  rename          name is removed again), nothing else changed
  fsync           ENOSPC may be reported once for an earlier failed
                  writeback (errseq); content is checked regardless
Any other error, or content outside these, is a failure: one line naming
seed, worker and op number, exit status 1.

Modes: roomy (default): --ops N per worker.  --until-full: writes grow
until most space-needing ops fail with ENOSPC (over a sliding window),
then --after more ops of the ordinary mix (deletes and truncates free
space, writes take it again), all bounded by --max-ops and --seconds.
"""
import argparse
import ctypes
import errno
import mmap
import os
import random
import signal
import sys
import time

FALLOC_FL_KEEP_SIZE = 1
FALLOC_FL_PUNCH_HOLE = 2
POSIX_FADV_DONTNEED = 4
NSHARED = 4
WINDOW = 40                 # space-needing ops in the fullness window
FULL_RATIO = 0.6            # ENOSPC share of the window that means full
ALLOWED = {errno.ENOSPC}

_libc = ctypes.CDLL(None, use_errno=True)
_libc.fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int64,
                            ctypes.c_int64]
_libc.fallocate.restype = ctypes.c_int


def fallocate(fd, mode, off, length):
    if _libc.fallocate(fd, mode, off, length) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


class Mismatch(Exception):
    pass


class Slot:
    """One of a worker's files: its current name, fd and model."""

    def __init__(self):
        self.path = None
        self.fd = -1
        self.data = bytearray()
        self.gen = 0


class Worker:
    def __init__(self, args, w):
        self.a = args
        self.w = w
        self.rng = random.Random(args.seed * 1000 + w)
        self.dir = os.path.join(args.mnt, "w%d" % w)
        self.shared = os.path.join(args.mnt, "shared")
        self.slots = [Slot() for _ in range(args.files)]
        self.op = 0
        self.kind = "start"
        self.counts = {}
        self.enospc = {}
        self.window = []
        self.full_at = None
        self.first_enospc = None
        self.filling = False
        self.stale_nlink = 0    # FUSE link(2) ENOENTs retried, see link()
        self.bs = os.statvfs(args.mnt).f_bsize

    # ---- bookkeeping -----------------------------------------------------
    def where(self):
        return "seed=%d worker=%d op=%d (%s)" % (self.a.seed, self.w,
                                                 self.op, self.kind)

    def fail(self, msg):
        raise Mismatch("%s: %s" % (self.where(), msg))

    def space_result(self, failed):
        """Note the outcome of an op that needs space (fullness window)."""
        self.window.append(failed)
        if len(self.window) > WINDOW:
            self.window.pop(0)
        if failed and self.first_enospc is None:
            self.first_enospc = self.op
        # full: most recent attempts failed, or the first ENOSPC is
        # long past (other workers keep freeing space for this one)
        if self.full_at is None and (
                (len(self.window) == WINDOW and
                 sum(self.window) >= FULL_RATIO * WINDOW) or
                (self.first_enospc is not None and
                 self.op - self.first_enospc >= 3 * WINDOW)):
            self.full_at = self.op

    def error(self, e, allowed=ALLOWED):
        """An op failed: allowed errors are counted, others fail."""
        if e.errno not in allowed:
            self.fail("unexpected error %s" % errno.errorcode.get(
                e.errno, e.errno))
        name = errno.errorcode.get(e.errno, str(e.errno))
        key = "%s:%s" % (self.kind, name)
        self.enospc[key] = self.enospc.get(key, 0) + 1

    # ---- reading back ----------------------------------------------------
    def pread_all(self, fd, off, length):
        out = bytearray()
        while len(out) < length:
            b = os.pread(fd, length - len(out), off + len(out))
            if not b:
                break
            out += b
        return out

    def check_size(self, s):
        size = os.fstat(s.fd).st_size
        if size != len(s.data):
            self.fail("%s: size %d, model %d" % (s.path, size, len(s.data)))

    def check_range(self, s, off, length):
        """The bytes of [off, off+length) (clipped to the model's size)."""
        self.check_size(s)
        end = min(off + length, len(s.data))
        if off >= end:
            return
        got = self.pread_all(s.fd, off, end - off)
        want = s.data[off:end]
        if got != want:
            for i in range(len(want)):
                if i >= len(got) or got[i] != want[i]:
                    break
            self.fail("%s: byte %d is %s, model %#x (range %d+%d)" % (
                s.path, off + i,
                "EOF" if i >= len(got) else "%#x" % got[i], want[i],
                off, end - off))

    def check_full(self, s):
        if s.path is not None:
            self.check_range(s, 0, len(s.data))

    def adopt(self, s, off, old, new):
        """After a failed punch or msync: drop the page cache, read what
        is there; each byte must be its old or its new value."""
        os.posix_fadvise(s.fd, 0, 0, POSIX_FADV_DONTNEED)
        got = self.pread_all(s.fd, off, len(old))
        if len(got) != len(old):
            self.fail("%s: %d bytes at %d after a failed op, expected %d"
                      % (s.path, len(got), off, len(old)))
        for i in range(len(old)):
            if got[i] != old[i] and got[i] != new[i]:
                self.fail("%s: byte %d is %#x after a failed op: neither "
                          "old %#x nor new %#x" % (s.path, off + i, got[i],
                                                   old[i], new[i]))
        s.data[off:off + len(old)] = got

    # ---- slots -----------------------------------------------------------
    def slot_name(self, i, gen):
        return os.path.join(self.dir, "s%d.%d" % (i, gen))

    def create(self, s, i):
        kind, self.kind = self.kind, self.kind + "/create"
        try:
            return self.do_create(s, i)
        finally:
            self.kind = kind

    def do_create(self, s, i):
        s.gen += 1
        path = self.slot_name(i, s.gen)
        try:
            s.fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
        except OSError as e:
            self.error(e)
            if os.path.lexists(path):
                self.fail("%s exists after a failed create" % path)
            return False
        s.path = path
        s.data = bytearray()
        return True

    def pick(self, need_data=False):
        i = self.rng.randrange(len(self.slots))
        s = self.slots[i]
        if s.path is None and not self.create(s, i):
            return None
        if need_data and not s.data:
            return None
        return s

    def rand_range(self, s, big):
        maxf = self.a.max_file
        if self.rng.random() < 0.5 and s.data:
            off = self.rng.randrange(len(s.data) + 1)
        else:
            off = self.rng.randrange(maxf)
        r = self.rng.random()
        if big or r < 0.2:
            length = self.rng.randrange(1, self.a.max_write + 1)
        elif r < 0.6:
            length = self.rng.randrange(1, 3 * self.bs)
        else:
            length = self.rng.randrange(1, 16 * self.bs)
        # sometimes block aligned, to take the whole-block paths
        if self.rng.random() < 0.4:
            off -= off % self.bs
            length = max(self.bs, length - length % self.bs)
        return off, min(length, maxf - off) or 1

    # ---- ops -------------------------------------------------------------
    def op_write(self, big):
        s = self.pick()
        if s is None:
            return
        off, length = self.rand_range(s, big)
        buf = self.rng.randbytes(length)
        try:
            n = os.pwrite(s.fd, buf, off)
            self.space_result(n < length)
        except OSError as e:
            self.error(e)
            self.space_result(True)
            n = 0
        if n:
            if off > len(s.data):
                s.data += bytes(off - len(s.data))
            s.data[off:off + n] = buf[:n]
        self.check_range(s, off, length)

    def op_truncate(self):
        s = self.pick()
        if s is None:
            return
        if self.rng.random() < 0.7 and s.data:
            size = self.rng.randrange(len(s.data))
        else:
            size = self.rng.randrange(self.a.max_file)
        try:
            os.ftruncate(s.fd, size)
        except OSError as e:
            self.error(e)
            self.check_full(s)
            return
        old = len(s.data)
        if size < old:
            del s.data[size:]
        else:
            s.data += bytes(size - old)
        self.check_range(s, max(0, min(size, old) - self.bs),
                         abs(size - old) + 2 * self.bs)

    def op_fallocate(self, mode):
        s = self.pick()
        if s is None:
            return
        off, length = self.rand_range(s, mode == 0)
        old = bytes(s.data[off:off + length])
        allowed = ALLOWED
        if mode & FALLOC_FL_KEEP_SIZE and not mode & FALLOC_FL_PUNCH_HOLE:
            # block-mapped files: ext4 refuses blocks past EOF the same way
            allowed = ALLOWED | {errno.EOPNOTSUPP}
        try:
            fallocate(s.fd, mode, off, length)
            if not mode & FALLOC_FL_PUNCH_HOLE:
                self.space_result(False)
        except OSError as e:
            self.error(e, allowed)
            if not mode & FALLOC_FL_PUNCH_HOLE:
                self.space_result(e.errno == errno.ENOSPC)
            elif len(old):
                self.adopt(s, off, old, bytes(len(old)))
            self.check_range(s, off, length)
            return
        if mode & FALLOC_FL_PUNCH_HOLE:
            s.data[off:off + len(old)] = bytes(len(old))
        elif not mode & FALLOC_FL_KEEP_SIZE and off + length > len(s.data):
            s.data += bytes(off + length - len(s.data))
        self.check_range(s, off, length)

    def op_copy(self):
        src = self.pick(need_data=True)
        dst = self.pick()
        if src is None or dst is None or src is dst:
            return
        soff = self.rng.randrange(len(src.data))
        length = self.rng.randrange(1, min(self.a.max_write,
                                           len(src.data) - soff) + 1)
        doff = self.rng.randrange(self.a.max_file - length + 1)
        allowed = ALLOWED
        if self.a.copy_einval:
            allowed = ALLOWED | {errno.EINVAL}
        try:
            n = os.copy_file_range(src.fd, dst.fd, length, soff, doff)
            self.space_result(n < length)
        except OSError as e:
            self.error(e, allowed)
            self.space_result(True)
            n = 0
        if n:
            if doff > len(dst.data):
                dst.data += bytes(doff - len(dst.data))
            dst.data[doff:doff + n] = src.data[soff:soff + n]
        self.check_range(dst, doff, length)
        self.check_range(src, soff, length)

    def op_mmap(self):
        s = self.pick(need_data=True)
        if s is None:
            return
        off = self.rng.randrange(len(s.data))
        length = self.rng.randrange(1, min(len(s.data) - off,
                                           8 * self.bs) + 1)
        base = off - off % mmap.PAGESIZE
        buf = self.rng.randbytes(length)
        old = bytes(s.data[off:off + length])
        # in a child: a page that cannot get room on a full file system
        # is refused at the fault with SIGBUS (ext4 and uvfs.ko do so)
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                m = mmap.mmap(s.fd, off + length - base, mmap.MAP_SHARED,
                              mmap.PROT_READ | mmap.PROT_WRITE, offset=base)
                m[off - base:off - base + length] = buf
                try:
                    m.flush()
                except OSError as e:
                    code = 64 + min(e.errno, 127)
                m.close()
            except BaseException:
                code = 1
            os._exit(code)
        _, st = os.waitpid(pid, 0)
        ok = st == 0
        if os.WIFSIGNALED(st) and os.WTERMSIG(st) == signal.SIGBUS:
            key = "mmap-fault:ENOSPC"
            self.enospc[key] = self.enospc.get(key, 0) + 1
        elif os.WIFEXITED(st) and os.WEXITSTATUS(st) >= 64:
            self.error(OSError(os.WEXITSTATUS(st) - 64, "msync"))
        elif not ok:
            self.fail("mmap write child: status %#x" % st)
        self.space_result(not ok)
        if ok:
            s.data[off:off + length] = buf
        else:
            self.adopt(s, off, old, buf)
        self.check_range(s, off, length)

    def op_fsync(self):
        s = self.pick()
        if s is None:
            return
        try:
            os.fsync(s.fd)
        except OSError as e:
            self.error(e)
        self.check_full(s)

    def op_unlink(self):
        i = self.rng.randrange(len(self.slots))
        s = self.slots[i]
        if s.path is None:
            return
        os.close(s.fd)
        try:
            os.unlink(s.path)
        except OSError as e:
            self.fail("unlink %s: %s" % (s.path, e))
        if os.path.lexists(s.path):
            self.fail("%s still there after unlink" % s.path)
        s.path, s.fd, s.data = None, -1, bytearray()

    def op_rename(self):
        i = self.rng.randrange(len(self.slots))
        j = self.rng.randrange(len(self.slots))
        s, t = self.slots[i], self.slots[j]
        if s.path is None:
            return
        if self.filling and t.path is not None:
            j, t = i, s     # filling: no file is replaced (freed)
        if i == j or t.path is None:
            t.gen += 1      # a fresh name for slot j
            target = self.slot_name(j, t.gen)
        else:
            target = t.path     # replace slot j's file
        try:
            os.rename(s.path, target)
        except OSError as e:
            self.error(e)
            if target != t.path and os.path.lexists(target):
                self.fail("%s exists after a failed rename" % target)
            self.check_full(s)
            return
        if t is not s and t.path is not None:
            os.close(t.fd)
        t.path, t.fd, t.data = target, s.fd, s.data
        if t is not s:
            s.path, s.fd, s.data = None, -1, bytearray()
        if not os.path.samestat(os.fstat(t.fd), os.stat(t.path)):
            self.fail("%s is not the renamed file" % t.path)
        self.check_full(t)

    def op_link(self):
        s = self.pick()
        if s is None:
            return
        tmp = os.path.join(self.shared, "tmp%d" % self.w)
        k = self.rng.randrange(NSHARED)
        try:
            self.link(s, tmp)
        except OSError as e:
            self.error(e)
            if os.path.lexists(tmp):
                self.fail("%s exists after a failed link" % tmp)
            return
        try:
            os.rename(tmp, os.path.join(self.shared, "t%d" % k))
        except OSError as e:
            self.error(e)
        # a rename onto another link of the same inode does nothing
        if os.path.lexists(tmp):
            os.unlink(tmp)
        if os.fstat(s.fd).st_nlink < 1:
            self.fail("%s: link count 0" % s.path)
        self.check_full(s)

    def link(self, s, tmp):
        """link(2) s to tmp.  Linux's FUSE (5.16 and later) keeps its own
        link count: it drops it after an unlink or a rename over a name,
        and takes the daemon's count from every GETATTR reply.  A GETATTR
        the daemon answers after another worker's rename over a shared name
        of this file, but that the kernel applies before that rename's own
        drop, makes the kernel count one link too few; at zero, link(2)
        fails with ENOENT in the VFS without asking the daemon.  Over FUSE
        such an ENOENT is taken only if the file's name is still there with
        links (a fresh stat, which refreshes the count) and a second link
        succeeds; anywhere else, and if either check fails, it is a failure
        that says what was seen."""
        try:
            os.link(s.path, tmp)
            return
        except OSError as e:
            if e.errno != errno.ENOENT:
                raise
        st = os.fstat(s.fd)
        seen = "fstat: ino %d nlink %d" % (st.st_ino, st.st_nlink)
        try:
            p = os.stat(s.path)
            seen += "; stat: ino %d nlink %d" % (p.st_ino, p.st_nlink)
        except OSError as e:
            p = None
            seen += "; stat: %s" % errno.errorcode.get(e.errno, e.errno)
        if (not self.a.fuse or p is None or p.st_ino != st.st_ino or
                p.st_nlink < 1):
            self.fail("link %s: ENOENT; %s" % (s.path, seen))
        try:
            os.link(s.path, tmp)
        except OSError as e:
            self.fail("link %s: ENOENT; %s; a second link: %s" % (
                s.path, seen, errno.errorcode.get(e.errno, e.errno)))
        self.stale_nlink += 1

    def step(self, filling):
        self.filling = filling
        r = self.rng.random()
        if filling:
            table = [(0.55, "write", lambda: self.op_write(True)),
                     (0.65, "fallocate", lambda: self.op_fallocate(0)),
                     (0.72, "copy", self.op_copy),
                     (0.78, "mmap", self.op_mmap)]
        else:
            table = [(0.25, "write", lambda: self.op_write(False)),
                     (0.33, "truncate", self.op_truncate),
                     (0.40, "fallocate", lambda: self.op_fallocate(0)),
                     (0.46, "fallocate-keep",
                      lambda: self.op_fallocate(FALLOC_FL_KEEP_SIZE)),
                     (0.55, "punch", lambda: self.op_fallocate(
                         FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE)),
                     (0.63, "copy", self.op_copy),
                     (0.71, "mmap", self.op_mmap)]
        rest = [(0.78, "rename", self.op_rename),
                (0.85, "link", self.op_link),
                (0.93, "unlink", self.op_unlink),
                (1.01, "fsync", self.op_fsync)]
        if filling:
            # nothing that frees whole files: get full first
            rest = [(0.88, "rename", self.op_rename),
                    (0.95, "link", self.op_link),
                    (1.01, "fsync", self.op_fsync)]
        if self.a.only:
            ops = [(p, k, f) for p, k, f in table + rest
                   if k in self.a.only]
            p, kind, fn = ops[int(r * len(ops))]
            self.kind = kind
            self.counts[kind] = self.counts.get(kind, 0) + 1
            fn()
            return
        for p, kind, fn in table + rest:
            if r < p:
                self.kind = kind
                self.counts[kind] = self.counts.get(kind, 0) + 1
                fn()
                return

    def run(self):
        os.makedirs(self.dir, exist_ok=True)
        deadline = time.monotonic() + self.a.seconds
        after = None
        while True:
            self.op += 1
            if self.op > self.a.max_ops or time.monotonic() > deadline:
                break
            if self.a.until_full:
                if self.full_at is not None and after is None:
                    after = self.op + self.a.after
                if after is not None and self.op > after:
                    break
                self.step(self.full_at is None)
            else:
                if self.op > self.a.ops:
                    break
                self.step(False)
            if self.op % 50 == 0:
                self.kind = "periodic check"
                self.check_full(self.rng.choice(self.slots))
        self.kind = "final check"
        for s in self.slots:
            self.check_full(s)
            if s.fd >= 0:
                os.close(s.fd)
        return self.op - 1


def mount_type(path):
    """The filesystem type of the mount path is on (/proc/self/mountinfo)."""
    dev = os.stat(path).st_dev
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            major, minor = fields[2].split(":")
            if os.makedev(int(major), int(minor)) == dev:
                return fields[fields.index("-") + 1]
    return ""


def worker_main(args, w, wfd):
    wk = Worker(args, w)
    status = 0
    try:
        ops = wk.run()
        line = "worker %d: %d ops, full at %s, %s; errors %s" % (
            w, ops, wk.full_at, " ".join(
                "%s=%d" % kv for kv in sorted(wk.counts.items())),
            " ".join("%s=%d" % kv for kv in sorted(wk.enospc.items()))
            or "none")
        if wk.stale_nlink:
            line += "; FUSE stale link count retried %d" % wk.stale_nlink
        enospc = sum(v for k, v in wk.enospc.items()
                     if k.endswith(":ENOSPC"))
        os.write(wfd, ("%d %d %d %s\n" % (w, ops, enospc, line)).encode())
    except Mismatch as e:
        print("stress: FAIL %s" % e, file=sys.stderr, flush=True)
        status = 1
    except OSError as e:
        print("stress: FAIL %s: %s" % (wk.where(), e), file=sys.stderr,
              flush=True)
        status = 1
    return status


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("mnt")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--workers", type=int, default=4)
    p.add_argument("--files", type=int, default=6, help="files per worker")
    p.add_argument("--max-file", type=int, default=None,
                   help="largest file offset (default: from the fs size)")
    p.add_argument("--max-write", type=int, default=1 << 20)
    p.add_argument("--ops", type=int, default=2000,
                   help="ops per worker (roomy mode)")
    p.add_argument("--until-full", action="store_true")
    p.add_argument("--after", type=int, default=400,
                   help="ops per worker after it found the fs full")
    p.add_argument("--max-ops", type=int, default=20000)
    p.add_argument("--seconds", type=float, default=120)
    p.add_argument("--copy-einval", action="store_true",
                   help="copy_file_range may fail with EINVAL (a kernel "
                   "filesystem without splice: uvfs.ko); counted, the "
                   "files must be unchanged")
    p.add_argument("--only", type=lambda v: v.split(","), default=None,
                   help="only these op kinds (comma separated; replay aid)")
    args = p.parse_args()
    if not os.path.isdir(args.mnt):
        print("stress: %s: not a directory" % args.mnt, file=sys.stderr)
        return 2
    if args.max_file is None:
        # until full: the files together may grow to twice the space
        st = os.statvfs(args.mnt)
        fill = 2 * st.f_blocks * st.f_frsize if args.until_full else 4 << 21
        args.max_file = max(1 << 20, fill // (args.workers * args.files))
        args.max_file -= args.max_file % st.f_bsize
    args.fuse = mount_type(args.mnt).startswith("fuse")
    os.makedirs(os.path.join(args.mnt, "shared"), exist_ok=True)
    t0 = time.monotonic()
    rfd, wfd = os.pipe()
    pids = {}
    for w in range(args.workers):
        pid = os.fork()
        if pid == 0:
            os.close(rfd)
            st = 1
            try:
                st = worker_main(args, w, wfd)
            finally:
                os._exit(st)
        pids[pid] = w
    os.close(wfd)
    failed = 0
    for _ in range(len(pids)):
        pid, st = os.wait()
        if st:
            failed += 1
        if os.WIFSIGNALED(st):
            print("stress: FAIL worker pid %d killed by signal %d" % (
                pid, os.WTERMSIG(st)), file=sys.stderr, flush=True)
    out = b""
    while True:
        b = os.read(rfd, 65536)
        if not b:
            break
        out += b
    os.close(rfd)
    ops = enospc = 0
    for line in out.decode().splitlines():
        w, n, e, text = line.split(" ", 3)
        ops += int(n)
        enospc += int(e)
        print("stress: " + text)
    mode = "until-full" if args.until_full else "roomy"
    print("stress: seed=%d workers=%d %s: %d ops, %d ENOSPC, %.1f s%s" % (
        args.seed, args.workers, mode, ops, enospc, time.monotonic() - t0,
        ", %d worker(s) FAILED" % failed if failed else ""))
    if args.until_full and not failed and enospc == 0:
        print("stress: FAIL seed=%d: --until-full but no op hit ENOSPC"
              % args.seed, file=sys.stderr)
        return 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
