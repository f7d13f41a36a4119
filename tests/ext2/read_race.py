#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""read_race.py MNT [SECONDS]: reads racing truncate, rewrite and unlink.

The ext2 backend reads file data without its big lock (the blocks are
mapped under it, then read with the node's io lock held shared); whatever
frees blocks waits for that.  If it did not, a read could return a block
that truncate had freed and a writer of another file had already reused.

Every 1 KiB piece of every file says which file, which generation of it
and which piece it is.  Reader threads read random ranges with O_DIRECT
(so that every read reaches the daemon) while writer threads truncate,
rewrite (next generation), overwrite in place and unlink/recreate the
same files; each
truncate of one file is followed by a rewrite of another, which then
tends to get the blocks just freed.  A piece
read back must be zeros (a racing truncate or hole) or a piece of the
file that was read, at the offset it was read from, of any generation.
Anything else is another file's data: FAIL.
"""
import mmap
import os
import random
import struct
import sys
import threading
import time

PIECE = 1024
NFILES = 6
SIZE = 256 * 1024           # bytes per file generation
MAGIC = b"UVFSRACE"
HDR = struct.Struct("<8sIIQ")   # magic, file, generation, piece index


def piece(fileno, gen, idx):
    head = HDR.pack(MAGIC, fileno, gen, idx)
    return head + bytes([(fileno * 31 + idx) & 0xFF]) * (PIECE - len(head))


def content(fileno, gen, size):
    return b"".join(piece(fileno, gen, i) for i in range(size // PIECE))


class Race:
    def __init__(self, mnt, seconds):
        self.dir = os.path.join(mnt, "race")
        self.deadline = time.monotonic() + seconds
        self.lock = threading.Lock()
        self.failures = []
        self.reads = self.checked = self.rewrites = 0

    def path(self, f):
        return os.path.join(self.dir, "f%d" % f)

    def fail(self, msg):
        with self.lock:
            self.failures.append(msg)

    def check(self, f, off, data):
        for k in range(0, len(data), PIECE):
            p = data[k:k + PIECE]
            if p.count(0) == len(p):
                continue
            magic, fileno, gen, idx = HDR.unpack_from(p)
            want = (off + k) // PIECE
            if magic != MAGIC or fileno != f or idx != want or \
                    p != piece(fileno, gen, idx):
                self.fail("f%d offset %d: read a piece of file %r gen %r "
                          "index %r" % (f, off + k, fileno, gen, idx))
                return
            with self.lock:
                self.checked += 1

    def reader(self, seed):
        rnd = random.Random(seed)
        buf = mmap.mmap(-1, SIZE)        # page-aligned, for O_DIRECT
        while time.monotonic() < self.deadline and not self.failures:
            f = rnd.randrange(NFILES)
            try:
                fd = os.open(self.path(f), os.O_RDONLY | os.O_DIRECT)
            except FileNotFoundError:
                continue
            try:
                off = rnd.randrange(SIZE // 4096) * 4096
                n = os.preadv(fd, [memoryview(buf)[:SIZE - off]], off)
                self.check(f, off, bytes(buf[:n]))
                with self.lock:
                    self.reads += 1
            except OSError as e:
                self.fail("read f%d: %s" % (f, e))
            finally:
                os.close(fd)

    def rewrite(self, f, gen, rnd):
        if rnd.random() < 0.3:
            os.unlink(self.path(f))
        fd = os.open(self.path(f), os.O_WRONLY | os.O_CREAT, 0o644)
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, content(f, gen, SIZE), 0)
        finally:
            os.close(fd)

    def writer(self, seed):
        rnd = random.Random(seed)
        gen = seed * 1000000
        while time.monotonic() < self.deadline and not self.failures:
            f, g = rnd.sample(range(NFILES), 2)
            gen += 1
            try:
                # f's blocks are freed, and g, rewritten next, is likely
                # to get them: a read of f mapped before must not see g
                os.truncate(self.path(f), 0)
                self.rewrite(g, gen, rnd)
                self.rewrite(f, gen, rnd)
                with self.lock:
                    self.rewrites += 1
            except FileNotFoundError:
                pass            # the other writer unlinked it meanwhile
            except OSError as e:
                self.fail("rewrite f%d/f%d: %s" % (f, g, e))

    def overwriter(self, seed):
        """In-place rewrites: no blocks freed, the data moves unlocked."""
        rnd = random.Random(seed)
        gen = seed * 1000000
        while time.monotonic() < self.deadline and not self.failures:
            f = rnd.randrange(NFILES)
            gen += 1
            try:
                fd = os.open(self.path(f), os.O_WRONLY)
            except FileNotFoundError:
                continue
            try:
                os.pwrite(fd, content(f, gen, SIZE), 0)
                with self.lock:
                    self.rewrites += 1
            except OSError as e:
                self.fail("overwrite f%d: %s" % (f, e))
            finally:
                os.close(fd)

    def run(self):
        os.makedirs(self.dir, exist_ok=True)
        for f in range(NFILES):
            with open(self.path(f), "wb") as fp:
                fp.write(content(f, 0, SIZE))
        threads = [threading.Thread(target=self.reader, args=(i + 1,))
                   for i in range(4)]
        threads += [threading.Thread(target=self.writer, args=(i + 1,))
                    for i in range(2)]
        threads.append(threading.Thread(target=self.overwriter, args=(3,)))
        for t in threads:
            t.start()
        for t in threads:
            t.join()


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit("usage: read_race.py MNT [SECONDS]")
    race = Race(sys.argv[1], float(sys.argv[2]) if len(sys.argv) > 2 else 20)
    race.run()
    print("read_race: %d reads (%d pieces checked), %d rewrites"
          % (race.reads, race.checked, race.rewrites))
    for msg in race.failures[:10]:
        print("FAIL: " + msg)
    if race.reads < 100 or race.rewrites < 20 or race.checked == 0:
        print("FAIL: too little traffic to show anything")
        sys.exit(1)
    sys.exit(1 if race.failures else 0)


if __name__ == "__main__":
    main()
