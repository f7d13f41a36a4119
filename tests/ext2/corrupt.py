#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""corrupt: seeded mutations of ext2/ext4 images, fed to uvfsd.

usage:
  corrupt.py map IMG SRCTREE > IMG.map.json
      find the metadata of IMG (superblock, group descriptors, bitmaps,
      used inodes, directory blocks, indirect/extent-tree blocks) with
      dumpe2fs and debugfs; SRCTREE is the tree IMG was made from
  corrupt.py mutate BASE MAP SEED OUT
      write one mutated copy of BASE to OUT; prints what was changed
  corrupt.py run --uvfsd PATH [--target uvfs|fuse2fs] --work DIR
                 --base IMG:MAP [--base ...] --n N [--seed0 S] [--jobs 2]
                 [--deadline SEC]
      for each seed: mutate a base image (seed picks which), then
      1. (uvfs only) `uvfsd --transport=direct ext2 IMG` under a 20 s
         timeout: the in-process walk of everything;
      2. a FUSE mount of it (rw; ro if rw is refused), `ls -lR`, `cat`
         of every file, one file written, unmount, and the daemon must
         exit: every step bounded.
      Classifies each run: crash (killed by a signal, or a sanitizer
      report on stderr), hang (a timeout), ok (clean refusal, or a walk
      with per-object errors).  Exit 0 only if all N ran with no crash
      and no hang; prints the seeds of failures (with the mutation) and
      the tails of their logs.
"""
import argparse
import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time

SAN_PAT = re.compile(r"ERROR: (AddressSanitizer|LeakSanitizer|"
                     r"UndefinedBehaviorSanitizer)|runtime error:|"
                     r"SUMMARY: \w+Sanitizer")


# ---------------------------------------------------------------- map
def sh(*cmd):
    return subprocess.run(cmd, stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL, text=True,
                          errors="replace").stdout


def make_map(img, src):
    hdr = sh("dumpe2fs", "-h", img)
    full = sh("dumpe2fs", img)

    def field(name):
        m = re.search(r"^%s:\s+(\d+)" % re.escape(name), hdr, re.M)
        return int(m.group(1)) if m else None

    bs = field("Block size")
    isz = field("Inode size") or 128
    ipg = field("Inodes per group")
    first_block = field("First block") or 0
    itables = [int(a) for a, _ in
               re.findall(r"Inode table at (\d+)-(\d+)", full)]
    gdt = [(int(a), int(b)) for a, b in
           re.findall(r"Group descriptors at (\d+)-(\d+)", full)]
    bitmaps = [int(x) for x in
               re.findall(r"(?:Block|Inode) bitmap at (\d+)", full)]
    # the superblock's busy first 0x180 bytes weigh twice the rest
    regions = {"sb": [(1024, 0x180), (1024, 0x180), (1024, 1024)]}
    ngroups = len(re.findall(r"^Group \d+:", full, re.M)) or 1
    dsz = field("Group descriptor size") or 32
    a, b = gdt[0]
    regions["gdt"] = [(a * bs, min((b - a + 1) * bs, ngroups * dsz))]
    regions["bitmap"] = [(x * bs, bs) for x in bitmaps[:8]]
    # every path of the source tree (bulk directories: a sample)
    paths = ["/"]
    for dp, dns, fns in os.walk(src):
        rel = os.path.relpath(dp, src)
        rel = "" if rel == "." else rel
        names = sorted(dns) + sorted(fns)[:30]
        for n in names:
            paths.append("/" + os.path.join(rel, n))
    cmds = "".join('stat "%s"\n' % p for p in paths
                   if '"' not in p and "\n" not in p)
    out = subprocess.run(["debugfs", "-f", "-", img], input=cmds,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True, errors="replace").stdout
    inodes, dirblocks, metablocks = set(), [], []
    for sect in out.split("debugfs: ")[1:]:
        m = re.search(r"Inode: (\d+)\s+Type: (\w+)", sect)
        if not m:
            continue
        ino, typ = int(m.group(1)), m.group(2)
        inodes.add(ino)
        for kind, blk in re.findall(r"\((IND|DIND|TIND|ETB\d+)\):(\d+)",
                                    sect):
            metablocks.append(int(blk))
        if typ == "directory":
            for lo, hi in re.findall(r"\(\d+(?:-\d+)?\):(\d+)(?:-(\d+))?",
                                     sect):
                lo = int(lo)
                hi = int(hi) if hi else lo
                dirblocks += list(range(lo, min(hi, lo + 64) + 1))
        m = re.search(r"File ACL: (\d+)", sect)
        if m and int(m.group(1)):
            metablocks.append(int(m.group(1)))
    iregions = []
    for ino in sorted(inodes | {1, 2, 7, 8, 11}):
        g, idx = (ino - 1) // ipg, (ino - 1) % ipg
        if g < len(itables):
            iregions.append((itables[g] * bs + idx * isz, isz))
    regions["inode"] = iregions
    regions["dir"] = [(x * bs, bs) for x in sorted(set(dirblocks))]
    regions["meta"] = [(x * bs, bs) for x in sorted(set(metablocks))]
    return {"image": os.path.abspath(img), "block_size": bs,
            "inode_size": isz, "first_block": first_block,
            "size": os.path.getsize(img), "regions": regions}


# ------------------------------------------------------------- mutate
KINDS = [("sb", 18), ("gdt", 12), ("inode", 28), ("dir", 22), ("meta", 8),
         ("bitmap", 4), ("truncate", 5), ("multi", 8)]


def mutate_region(buf, r, off, ln, log, kind):
    n = r.choice([1, 1, 2, 3, 4, 8])
    for _ in range(n):
        how = r.random()
        if how < 0.5:
            pos = off + r.randrange(ln)
            v = r.randrange(1, 256)
            buf[pos] ^= v
            log.append("%s: byte %d ^= %#x" % (kind, pos, v))
        elif how < 0.75:
            pos = off + r.randrange(ln)
            v = r.choice([0, 0xff, 0x80, 0x7f])
            buf[pos] = v
            log.append("%s: byte %d = %#x" % (kind, pos, v))
        else:
            pos = off + (r.randrange(ln) & ~3)
            v = r.choice([0, 0xffffffff, 0x7fffffff, 0x80000000,
                          r.randrange(1 << 32), r.randrange(1 << 16),
                          r.randrange(64)])
            buf[pos:pos + 4] = v.to_bytes(4, "little")
            log.append("%s: u32 at %d = %#x" % (kind, pos, v))


def mutate(base_bytes, mp, seed):
    r = random.Random(seed)
    buf = bytearray(base_bytes)
    log = []
    kind = r.choices([k for k, _ in KINDS], [w for _, w in KINDS])[0]
    kinds = [kind]
    if kind == "multi":
        kinds = [r.choice(["sb", "gdt", "inode", "dir", "meta"])
                 for _ in range(r.randrange(2, 5))]
    for k in kinds:
        if k == "truncate":
            cut = r.choice([r.randrange(0, 4096),
                            r.randrange(0, len(buf)),
                            len(buf) - r.randrange(1, len(buf) // 2)])
            del buf[cut:]
            log.append("truncated to %d bytes" % cut)
            continue
        regs = mp["regions"].get(k) or mp["regions"]["sb"]
        off, ln = r.choice(regs)
        if off + ln > len(buf):
            continue
        mutate_region(buf, r, off, ln, log, k)
    return bytes(buf), "; ".join(log) if log else "no change"


# ---------------------------------------------------------------- run
class Result:
    def __init__(self, seed, desc):
        self.seed, self.desc = seed, desc
        self.status = "ok"
        self.notes = []
        self.logs = []

    def set(self, status, note):
        order = {"ok": 0, "hang": 1, "crash": 2}
        if order[status] > order[self.status]:
            self.status = status
        self.notes.append(note)


def run_cmd(cmd, timeout, env=None, cwd=None):
    """-> (rc or None on timeout, output).  Runs in its own process group
    so that a timeout kills everything it started."""
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                         env=env, cwd=cwd, start_new_session=True)
    try:
        out, _ = p.communicate(timeout=timeout)
        return p.returncode, out.decode(errors="replace")
    except subprocess.TimeoutExpired:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except OSError:
            pass
        out, _ = p.communicate()
        return None, out.decode(errors="replace")


def classify_exit(res, what, rc, out):
    if SAN_PAT.search(out):
        res.set("crash", "%s: sanitizer report" % what)
    elif rc is None:
        res.set("hang", "%s: timed out" % what)
    elif rc < 0:
        res.set("crash", "%s: killed by signal %d" % (what, -rc))
    elif rc >= 128 and rc != 255:
        res.set("crash", "%s: exit status %d (signal?)" % (what, rc))


def is_mounted(mnt):
    with open("/proc/self/mounts") as f:
        return any(l.split()[1] == mnt for l in f)


def fuse_phase(res, args, img, mnt, env):
    os.makedirs(mnt, exist_ok=True)
    logf = mnt + ".log"
    for mode in ("rw", "ro"):
        if args.target == "uvfs":
            cmd = [args.uvfsd, "-f", "-o", mode, "ext2", img, mnt]
        else:
            cmd = ["fuse2fs", img, mnt, "-f", "-o", mode]
        with open(logf, "wb") as lf:
            d = subprocess.Popen(cmd, stdout=lf, stderr=subprocess.STDOUT,
                                 stdin=subprocess.DEVNULL, env=env,
                                 start_new_session=True)
        with open(os.path.join(args.work, "pids"), "a") as pf:
            pf.write("%d\n" % d.pid)   # for the shell's cleanup trap
        t0 = time.time()
        while time.time() - t0 < 20:
            if is_mounted(mnt) or d.poll() is not None:
                break
            time.sleep(0.02)
        if is_mounted(mnt):
            break
        if d.poll() is None:            # neither mounted nor exited
            d.kill()
            d.wait()
            res.set("hang", "fuse %s: no mount, no exit in 20 s" % mode)
            return
        out = open(logf, errors="replace").read()
        classify_exit(res, "fuse mount %s" % mode, d.returncode, out)
        if res.status != "ok":
            res.logs.append(out[-3000:])
            return
        res.notes.append("fuse %s refused (%d): %s" % (
            mode, d.returncode, out.strip().splitlines()[-1:] or ""))
    else:
        return                          # refused rw and ro: fine
    steps = [("ls -lR", ["ls", "-lR", mnt]),
             ("cat all", ["sh", "-c",
                          "find \"$1\" -type f -print0 | "
                          "xargs -0 -r cat >/dev/null", "sh", mnt]),
             ("write", ["sh", "-c",
                        "echo corrupt-test > \"$1\"/uvfs_corrupt_new && "
                        "cat \"$1\"/uvfs_corrupt_new", "sh", mnt])]
    for name, cmd in steps:
        rc, out = run_cmd(cmd, 20)
        if rc is None:
            res.set("hang", "fuse: %s timed out" % name)
            break
        if d.poll() is not None:
            break                       # the daemon died: see below
    # unmount, then the daemon must exit
    run_cmd(["fusermount3", "-u", mnt], 10)
    if is_mounted(mnt):
        run_cmd(["fusermount3", "-u", "-z", mnt], 10)
    try:
        d.wait(timeout=30)
    except subprocess.TimeoutExpired:
        res.set("hang", "fuse: daemon still running 30 s after unmount")
        d.kill()
        d.wait()
    out = open(logf, errors="replace").read()
    classify_exit(res, "fuse daemon", d.returncode, out)
    if res.status != "ok":
        res.logs.append(out[-3000:])


def one(seed, args, bases, env):
    bimg, mp, data = bases[seed % len(bases)]
    mdata, desc = mutate(data, mp, seed)
    w = os.path.join(args.work, "m%d" % seed)
    os.makedirs(w, exist_ok=True)
    img = os.path.join(w, "img")
    with open(img, "wb") as f:
        f.write(mdata)
    res = Result(seed, "%s: %s" % (os.path.basename(bimg), desc))
    if args.target == "uvfs":
        rc, out = run_cmd([args.uvfsd, "--transport=direct", "ext2", img],
                          20, env=env)
        classify_exit(res, "direct walk", rc, out)
        if res.status != "ok":
            res.logs.append(out[-3000:])
    if res.status == "ok" and not args.no_fuse:
        fuse_phase(res, args, img, os.path.join(w, "mnt"), env)
    if res.status == "ok" and not args.keep:
        subprocess.run(["rm", "-rf", w])
    return res


def run(args):
    bases = []
    for spec in args.base:
        img, mpath = spec.split(":", 1)
        with open(mpath) as f:
            mp = json.load(f)
        with open(img, "rb") as f:
            bases.append((img, mp, f.read()))
    env = dict(os.environ)
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1:halt_on_error=1:"
                   "abort_on_error=0:exitcode=23")
    env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
    seeds = list(range(args.seed0, args.seed0 + args.n))
    results = []
    lock = threading.Lock()
    t0 = time.time()

    def worker():
        while True:
            with lock:
                if not seeds or time.time() - t0 > args.deadline:
                    return
                s = seeds.pop(0)
            r = one(s, args, bases, env)
            with lock:
                results.append(r)
                if r.status != "ok":
                    print("%s seed %d: %s [%s]" % (
                        r.status.upper(), r.seed, "; ".join(r.notes),
                        r.desc), flush=True)
                elif len(results) % 50 == 0:
                    print("... %d done" % len(results), flush=True)

    ts = [threading.Thread(target=worker) for _ in range(args.jobs)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    counts = {"ok": 0, "crash": 0, "hang": 0}
    for r in results:
        counts[r.status] += 1
    refused = sum(1 for r in results
                  if any("refused" in n for n in r.notes))
    print("%d mutants in %.0f s: %d ok (%d refused to mount), %d crashes, "
          "%d hangs" % (len(results), time.time() - t0, counts["ok"],
                        refused, counts["crash"], counts["hang"]))
    bad = sorted((r for r in results if r.status != "ok"),
                 key=lambda r: r.seed)
    for r in bad:
        print("failed seed %d (%s): %s\n  mutation: %s" % (
            r.seed, r.status, "; ".join(r.notes), r.desc))
        for lg in r.logs:
            print("  log tail:\n    " + "\n    ".join(
                lg.strip().splitlines()[-25:]))
    if len(results) < args.n:
        print("INCOMPLETE: only %d of %d mutants ran within %d s" % (
            len(results), args.n, args.deadline))
        return 1
    return 1 if bad else 0


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("map")
    m.add_argument("img")
    m.add_argument("src")
    u = sub.add_parser("mutate")
    u.add_argument("base")
    u.add_argument("map")
    u.add_argument("seed", type=int)
    u.add_argument("out")
    r = sub.add_parser("run")
    r.add_argument("--uvfsd", required=True)
    r.add_argument("--target", choices=("uvfs", "fuse2fs"), default="uvfs")
    r.add_argument("--work", required=True)
    r.add_argument("--base", action="append", required=True)
    r.add_argument("--n", type=int, default=200)
    r.add_argument("--seed0", type=int, default=1)
    r.add_argument("--jobs", type=int, default=2)
    r.add_argument("--deadline", type=int, default=270)
    r.add_argument("--no-fuse", action="store_true")
    r.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    if args.cmd == "map":
        json.dump(make_map(args.img, args.src), sys.stdout)
        return 0
    if args.cmd == "mutate":
        with open(args.map) as f:
            mp = json.load(f)
        with open(args.base, "rb") as f:
            data, desc = mutate(f.read(), mp, args.seed)
        with open(args.out, "wb") as f:
            f.write(data)
        print(desc)
        return 0
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
