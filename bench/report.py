#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""bench/run.sh's report: records in, tables, CSV and chart out.

usage: report.py RESULTS_DIR RECORDS.txt...

Reads the "BENCH|..." records of bench/workloads.sh (and run.sh's info
records), takes the median over the repeats of every number, and writes
RESULTS_DIR/results.md (per environment a table of every configuration and
workload, the issue-10 targets each marked met or missed, the requests per
operation by opcode from uvfsd --stats), results.csv (one median a row,
plus the requests per operation), raw/raw.csv (every repeat) and
results.png (gnuplot: speed relative to the kernel's ext2, log scale).
Exit status 1 when a configuration that ran lacks a workload's number or
an error was recorded, 2 on bad usage; the files are written either way.
"""
import csv
import os
import statistics
import subprocess
import sys

ENVS = ("host", "vm")
ENV_TITLE = {"host": "Host (FUSE; the host kernel)",
             "vm": "VM (QEMU TCG, Debian's kernel; one boot)"}
# metric key -> (label, unit, higher is better)
METRICS = [
    ("nullop", "null-op latency (statx, force sync)", "us", False),
    ("meta.create", "create, 1 process", "ops/s", True),
    ("meta.stat", "stat, 1 process", "ops/s", True),
    ("meta.unlink", "unlink, 1 process", "ops/s", True),
    ("meta.total", "create+stat+unlink, 1 process", "ops/s", True),
    ("meta2.create", "create, 2 processes", "ops/s", True),
    ("meta2.stat", "stat, 2 processes", "ops/s", True),
    ("meta2.unlink", "unlink, 2 processes", "ops/s", True),
    ("meta2.total", "create+stat+unlink, 2 processes", "ops/s", True),
    ("tree.untar", "tree: untar", "s", False),
    ("tree.find", "tree: find (cold)", "s", False),
    ("tree.du", "tree: du", "s", False),
    ("tree.read", "tree: read every file", "s", False),
    ("tree.rm", "tree: rm -rf", "s", False),
    ("tree.total", "tree: untar..rm total", "s", False),
    ("seq.write", "sequential write (fsync)", "MiB/s", True),
    ("seq.read", "sequential read (cold)", "MiB/s", True),
    ("fio.randwrite", "fio 4 KiB random write", "IOPS", True),
    ("fio.randread", "fio 4 KiB random read (cold)", "IOPS", True),
]
METRIC = {m[0]: m for m in METRICS}
WORKLOAD_OF = {m[0]: m[0].split(".")[0] for m in METRICS}
CHART = ["nullop", "meta.create", "meta.stat", "meta.unlink", "meta2.total",
         "tree.total", "seq.write", "seq.read", "fio.randwrite", "fio.randread"]
UVFSD_CFGS = ("memfs-fuse", "ext2-fuse", "memfs-kmod", "ext2-kmod")

# The block devices (bench/bdev/workloads.sh, env "bdev"): fio jobs at two
# queue depths, each giving MiB/s and IOPS; uvbd against loop and nbd.
BDEV_JOBS = [("seqread", "sequential read, 1 MiB"),
             ("seqwrite", "sequential write, 1 MiB"),
             ("randread", "random read, 4 KiB"),
             ("randwrite", "random write, 4 KiB")]
BDEV_DEPTHS = ("qd1", "qd32")
# issue 11: >= 80% of loop's throughput on sequential I/O, ahead of NBD on
# every workload
BDEV_TARGETS = ([("seqread", d, "loop", 0.8) for d in BDEV_DEPTHS] +
                [("seqwrite", d, "loop", 0.8) for d in BDEV_DEPTHS] +
                [(j, d, "nbd", 1.0) for j, _ in BDEV_JOBS for d in BDEV_DEPTHS])

# The issue-10 targets: (env, text, metric, config a, config b, kind, bound).
#   faster: a's speed / b's speed >= bound ("a is bound x faster than b")
#   within: a's time / b's time <= bound ("a within bound x of b")
#   frac:   a's throughput / b's >= bound
TARGETS = [
    ("vm", "memfs over uvfs.ko: create >= 3x faster than memfs over FUSE",
     "meta.create", "memfs-kmod", "memfs-fuse", "faster", 3.0),
    ("vm", "memfs over uvfs.ko: unlink >= 3x faster than over FUSE",
     "meta.unlink", "memfs-kmod", "memfs-fuse", "faster", 3.0),
    ("vm", "memfs over uvfs.ko: untar..rm >= 3x faster than over FUSE",
     "tree.total", "memfs-kmod", "memfs-fuse", "faster", 3.0),
    ("vm", "memfs over uvfs.ko: null-op latency <= 1/3 of FUSE's",
     "nullop", "memfs-kmod", "memfs-fuse", "faster", 3.0),
    ("vm", "memfs over uvfs.ko: create within 3x of tmpfs",
     "meta.create", "memfs-kmod", "tmpfs", "within", 3.0),
    ("vm", "memfs over uvfs.ko: unlink within 3x of tmpfs",
     "meta.unlink", "memfs-kmod", "tmpfs", "within", 3.0),
    ("vm", "memfs over uvfs.ko: untar..rm within 3x of tmpfs",
     "tree.total", "memfs-kmod", "tmpfs", "within", 3.0),
    ("vm", "ext2 over uvfs.ko: create within 2x of the kernel's ext2",
     "meta.create", "ext2-kmod", "kernel-ext2", "within", 2.0),
    ("vm", "ext2 over uvfs.ko: stat within 2x of the kernel's ext2",
     "meta.stat", "ext2-kmod", "kernel-ext2", "within", 2.0),
    ("vm", "ext2 over uvfs.ko: unlink within 2x of the kernel's ext2",
     "meta.unlink", "ext2-kmod", "kernel-ext2", "within", 2.0),
    ("vm", "ext2 over uvfs.ko: untar..rm within 2x of the kernel's ext2",
     "tree.total", "ext2-kmod", "kernel-ext2", "within", 2.0),
    ("vm", "ext2 over uvfs.ko: sequential write >= 90% of the kernel's",
     "seq.write", "ext2-kmod", "kernel-ext2", "frac", 0.9),
    ("vm", "ext2 over uvfs.ko: sequential read >= 90% of the kernel's",
     "seq.read", "ext2-kmod", "kernel-ext2", "frac", 0.9),
    ("host", "ext2 over FUSE: create >= 10x faster than fuse2fs",
     "meta.create", "ext2-fuse", "fuse2fs", "faster", 10.0),
    ("host", "ext2 over FUSE: stat >= 10x faster than fuse2fs",
     "meta.stat", "ext2-fuse", "fuse2fs", "faster", 10.0),
    ("host", "ext2 over FUSE: unlink >= 10x faster than fuse2fs",
     "meta.unlink", "ext2-fuse", "fuse2fs", "faster", 10.0),
    ("vm", "memfs over uvfs.ko: 2 processes >= 1.6x the throughput of 1",
     "meta2.total/meta.total", "memfs-kmod", "memfs-kmod", "frac", 1.6),
    ("vm", "ext2 over uvfs.ko: 2 processes >= 1.6x the throughput of 1",
     "meta2.total/meta.total", "ext2-kmod", "ext2-kmod", "frac", 1.6),
]


def read_records(paths):
    raw, stats, errors, info, perf = [], [], [], {}, []
    for path in paths:
        with open(path, errors="replace") as f:
            for line in f:
                p = line.rstrip("\r\n").split("|")
                if len(p) < 2 or p[0] != "BENCH":
                    continue
                kind, rest = p[1], p[2:]
                try:
                    if kind == "raw" and len(rest) == 6:
                        raw.append((rest[0], rest[1], rest[2], rest[3],
                                    int(rest[4]), float(rest[5])))
                    elif kind == "stat" and len(rest) == 7:
                        stats.append((rest[0], rest[1], rest[2], int(rest[3]),
                                      rest[4], int(rest[5]), int(rest[6])))
                    elif kind == "error" and len(rest) >= 5:
                        errors.append(rest[:4] + ["|".join(rest[4:])])
                    elif kind == "info" and len(rest) >= 3:
                        info[(rest[0], rest[1])] = "|".join(rest[2:])
                    elif kind == "perf" and len(rest) >= 6:
                        perf.append((rest[0], rest[1], rest[2], float(rest[4]),
                                     "|".join(rest[5:])))
                except ValueError:
                    errors.append(["?", "?", "?", "?", "bad record: " + line.strip()])
    return raw, stats, errors, info, perf


def sizes(info, env):
    s = {}
    for kv in info.get((env, "sizes"), "").split():
        k, _, v = kv.partition("=")
        if v.isdigit():
            s[k] = int(v)
    return s


def derive(raw, info):
    """Per (env, cfg, metric) the list of per-repeat values in the unit."""
    secs = {}
    for env, cfg, wl, metric, rep, v in raw:
        secs.setdefault((env, cfg, rep), {})["%s.%s" % (wl, metric)] = v
    out = {}
    for (env, cfg, rep), m in secs.items():
        sz = sizes(info, env)
        n, nul, mb = sz.get("nfiles", 0), sz.get("nullops", 0), sz.get("seq_mb", 0)
        vals = {}
        if "nullop.nullop" in m and nul:
            vals["nullop"] = m["nullop.nullop"] / nul * 1e6
        for wl, files in (("meta", n), ("meta2", n // 2 * 2)):
            ph = [m.get("%s.%s" % (wl, p)) for p in ("create", "stat", "unlink")]
            for p, t in zip(("create", "stat", "unlink"), ph):
                if t is not None and t > 0:
                    vals["%s.%s" % (wl, p)] = files / t
            if all(t is not None for t in ph) and sum(ph) > 0:
                vals[wl + ".total"] = 3 * files / sum(ph)
        tree = [m.get("tree." + p) for p in ("untar", "find", "du", "read", "rm")]
        for p, t in zip(("untar", "find", "du", "read", "rm"), tree):
            if t is not None:
                vals["tree." + p] = t
        if all(t is not None for t in tree):
            vals["tree.total"] = sum(tree)
        for p in ("write", "read"):
            t = m.get("seq." + p)
            if t is not None and t > 0:
                vals["seq." + p] = mb / t
        for p in ("randwrite", "randread"):
            if "fio." + p in m:
                vals["fio." + p] = m["fio." + p]
        for k, v in vals.items():
            out.setdefault((env, cfg, k), []).append(v)
    return out


def bdev_part(raw, info):
    """The block devices: (markdown lines, CSV rows, missing numbers)."""
    vals = {}
    for env, cfg, job, metric, rep, v in raw:
        if env == "bdev":
            vals.setdefault((cfg, job, metric), []).append(v)
    med = {k: statistics.median(v) for k, v in vals.items()}
    cfgs = info.get(("bdev", "configs"), "").split()
    rows, missing = [], []
    for cfg in cfgs:
        for job, _ in BDEV_JOBS:
            for d in BDEV_DEPTHS:
                for m, unit in (("mibps", "MiB/s"), ("iops", "IOPS")):
                    v = vals.get((cfg, job, "%s.%s" % (d, m)))
                    if not v or min(v) <= 0:
                        missing.append("bdev/%s %s.%s.%s" % (cfg, job, d, m))
                        continue
                    rows.append(["bdev", cfg, "%s.%s.%s" % (job, d, m), unit,
                                 "%.6g" % statistics.median(v), "%.6g" % min(v),
                                 "%.6g" % max(v), len(v)])
    md = ["## Block devices (issue 11; VM, one boot)\n"]
    md.append("fio (libaio, direct=1) on the raw device; %s; kernel %s, %s CPUs; "
              "%s s for this part. uvbd: `uvfsd --bdev file` (uvfs.ko), loop: "
              "the kernel's loop device, nbd: nbd-server over a Unix socket "
              "(one connection per CPU), all on the same file in the guest's "
              "tmpfs. Medians of the repeats; ratios from IOPS (the same as "
              "from MiB/s).\n" % (
                  info.get(("bdev", "sizes"), "?"), info.get(("bdev", "kernel"), "?"),
                  info.get(("bdev", "cpus"), "?"), info.get(("bdev", "seconds"), "?")))
    head = ["job", "iodepth"]
    for c in cfgs:
        head += ["%s MiB/s" % c, "%s IOPS" % c]
    others = [c for c in ("loop", "nbd") if c in cfgs and "uvbd" in cfgs]
    head += ["uvbd/%s" % c for c in others]
    md.append("| " + " | ".join(head) + " |")
    md.append("|" + "---|" * len(head))
    for job, label in BDEV_JOBS:
        for d in BDEV_DEPTHS:
            cells = [label, d[2:]]
            for c in cfgs:
                cells += [fmt(med.get((c, job, d + ".mibps"))),
                          fmt(med.get((c, job, d + ".iops")))]
            u = med.get(("uvbd", job, d + ".iops"))
            for c in others:
                o = med.get((c, job, d + ".iops"))
                cells.append("%.2f" % (u / o) if u and o else "-")
            md.append("| " + " | ".join(cells) + " |")
    md.append("")
    md.append("### Issue 11 targets\n")
    md.append("| target | measured | need | verdict |")
    md.append("|---|---|---|---|")
    for job, d, peer, bound in BDEV_TARGETS:
        u = med.get(("uvbd", job, d + ".iops"))
        o = med.get((peer, job, d + ".iops"))
        text = "uvbd %s at iodepth %s: %s" % (
            dict(BDEV_JOBS)[job], d[2:],
            ">= 80% of loop's throughput" if peer == "loop" else "ahead of NBD")
        if "uvbd" not in cfgs or peer not in cfgs:
            ratio, verdict = None, "not run"
        elif u and o:
            ratio = u / o
            verdict = "met" if ratio >= bound else "missed"
        else:
            ratio, verdict = None, "no data"
        md.append("| %s | %s | %s | **%s** |" % (
            text, "-" if ratio is None else "%.2f (uvbd/%s)" % (ratio, peer),
            ">= %g" % bound, verdict))
    md.append("")
    return md, rows, missing


def fmt(v, unit=""):
    if v is None:
        return "-"
    if unit == "s":
        return "%.3f" % v
    if v >= 100:
        return "%.0f" % v
    if v >= 10:
        return "%.1f" % v
    return "%.2f" % v


def target_rows(med):
    rows = []
    for env, text, metric, a, b, kind, bound in TARGETS:
        if "/" in metric:
            m1, m2 = metric.split("/")
            va, vb = med.get((env, a, m1)), med.get((env, b, m2))
        else:
            va, vb = med.get((env, a, metric)), med.get((env, b, metric))
        hib = METRIC[metric.split("/")[0]][3]
        ratio = None
        if va is not None and vb is not None and va > 0 and vb > 0:
            if kind == "faster":
                ratio = va / vb if hib else vb / va
            elif kind == "within":
                ratio = vb / va if hib else va / vb
            else:
                ratio = va / vb
        if ratio is None:
            verdict = "no data"
        elif kind == "within":
            verdict = "met" if ratio <= bound else "missed"
        else:
            verdict = "met" if ratio >= bound else "missed"
        need = {"faster": ">= %gx" % bound, "within": "<= %gx" % bound,
                "frac": ">= %g" % bound}[kind]
        what = {"faster": "speed-up", "within": "times slower",
                "frac": "throughput ratio"}[kind]
        rows.append((env, text, ratio, need, what, verdict))
    return rows


def chart(results, med, envs, cfgs_of):
    """results.png: per environment, speed relative to kernel-ext2."""
    dat = os.path.join(results, "raw", "chart.dat")
    blocks = []
    with open(dat, "w") as f:
        for env in envs:
            cfgs = cfgs_of[env]
            f.write("# %s\nmetric %s\n" % (env, " ".join(cfgs)))
            for k in CHART:
                base = med.get((env, "kernel-ext2", k))
                row = []
                for c in cfgs:
                    v = med.get((env, c, k))
                    if base is None or v is None or v <= 0 or base <= 0:
                        row.append("?")
                    else:
                        rel = v / base if METRIC[k][3] else base / v
                        row.append("%.5g" % rel)
                f.write("%s %s\n" % (k, " ".join(row)))
            f.write("\n\n")
            blocks.append((env, len(cfgs)))
    gp = os.path.join(results, "raw", "chart.gp")
    png = os.path.join(results, "results.png")
    with open(gp, "w") as f:
        f.write('set terminal pngcairo size 1400,%d font ",10"\n' % (420 * len(blocks)))
        f.write('set output "%s"\n' % png)
        f.write('set datafile missing "?"\nset style data histograms\n')
        f.write("set style histogram clustered gap 1\nset style fill solid 0.8 border -1\n")
        f.write("set logscale y 10\nset grid ytics\n")
        f.write('set ylabel "speed relative to kernel-ext2 (log; higher is faster)"\n')
        f.write("set xtics rotate by -25 noenhanced\nset key outside right noenhanced\n")
        f.write("set multiplot layout %d,1\n" % len(blocks))
        for i, (env, n) in enumerate(blocks):
            f.write('set title "%s" noenhanced\n' % ENV_TITLE.get(env, env))
            f.write('plot for [c=2:%d] "%s" index %d using c:xtic(1) title columnhead(c)\n'
                    % (n + 1, dat, i))
        f.write("unset multiplot\n")
    r = subprocess.run(["gnuplot", gp], capture_output=True, text=True)
    if r.returncode != 0:
        sys.stderr.write("report: gnuplot failed: %s\n" % r.stderr.strip())
        return False
    return True


def main():
    if len(sys.argv) < 3:
        sys.stderr.write("usage: report.py RESULTS_DIR RECORDS.txt...\n")
        return 2
    results = sys.argv[1]
    raw, stats, errors, info, perf = read_records(sys.argv[2:])
    os.makedirs(os.path.join(results, "raw"), exist_ok=True)
    per = derive(raw, info)
    med = {k: statistics.median(v) for k, v in per.items()}
    envs = [e for e in ENVS if (e, "configs") in info]
    cfgs_of = {e: info[(e, "configs")].split() for e in envs}
    wls_of = {e: info.get((e, "workloads"), "").split() for e in envs}
    status = 0

    # every configuration that ran has every workload's metrics
    missing = []
    for env in envs:
        for cfg in cfgs_of[env]:
            for k, _, _, _ in METRICS:
                if WORKLOAD_OF[k] in wls_of[env] and (env, cfg, k) not in med:
                    missing.append("%s/%s %s" % (env, cfg, k))
    bdev_md, bdev_rows, bdev_missing = [], [], []
    if ("bdev", "configs") in info:
        bdev_md, bdev_rows, bdev_missing = bdev_part(raw, info)
        missing += bdev_missing
    if missing or errors:
        status = 1

    # requests per operation: per (env, cfg, wl, opcode) the median over repeats
    req = {}
    for env, cfg, wl, rep, op, calls, ops in stats:
        if ops > 0:
            req.setdefault((env, cfg, wl, op), []).append(calls / ops)
    reqmed = {k: statistics.median(v) for k, v in req.items()}

    with open(os.path.join(results, "raw", "raw.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["env", "config", "workload", "metric", "repeat", "seconds_or_iops"])
        for r in sorted(raw):
            w.writerow(r)

    with open(os.path.join(results, "results.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["env", "config", "metric", "unit", "median", "min", "max", "repeats"])
        for env in envs:
            for cfg in cfgs_of[env]:
                for k, _, unit, _ in METRICS:
                    v = per.get((env, cfg, k))
                    if v:
                        w.writerow([env, cfg, k, unit, "%.6g" % statistics.median(v),
                                    "%.6g" % min(v), "%.6g" % max(v), len(v)])
        for r in bdev_rows:
            w.writerow(r)
        for (env, cfg, wl, op), v in sorted(reqmed.items()):
            w.writerow([env, cfg, "%s.requests.%s" % (wl, op), "requests/op",
                        "%.6g" % v, "%.6g" % min(req[(env, cfg, wl, op)]),
                        "%.6g" % max(req[(env, cfg, wl, op)]), len(req[(env, cfg, wl, op)])])

    # (a run of the block devices alone has no chart to draw)
    png_ok = chart(results, med, envs, cfgs_of) if envs else bool(bdev_md)
    if not png_ok:
        status = 1

    md = []
    mode = info.get(("run", "mode"), "?")
    md.append("# uvfs benchmark (issue 10: measure first)\n")
    md.append("Made by `bench/run.sh` (%s run). Medians of the repeats; "
              "every repeat is in `raw/`. Timings from a shared, TCG-emulated "
              "machine are noisy: compare ratios taken in the same run." % mode)
    if ("run", "load") in info:
        md.append("Host load average: %s; %s." % (info[("run", "load")],
                                                  info.get(("run", "qemu"), "")))
    md.append("")
    for env in envs:
        sz = sizes(info, env)
        md.append("## %s\n" % ENV_TITLE.get(env, env))
        md.append("Kernel %s, %s CPUs; sizes: %s; %s s for this part.\n" % (
            info.get((env, "kernel"), "?"), info.get((env, "cpus"), "?"),
            info.get((env, "sizes"), "?"), info.get((env, "seconds"), "?")))
        cfgs = cfgs_of[env]
        md.append("| workload | unit | " + " | ".join(cfgs) + " |")
        md.append("|---|---|" + "---|" * len(cfgs))
        for k, label, unit, hib in METRICS:
            if WORKLOAD_OF[k] not in wls_of[env]:
                continue
            cells = [fmt(med.get((env, c, k)), unit) for c in cfgs]
            md.append("| %s | %s%s | %s |" % (label, unit, " (higher is better)" if hib else "",
                                             " | ".join(cells)))
        md.append("")
        md.append("Speed relative to kernel-ext2 (>1 is faster than the kernel):\n")
        md.append("| workload | " + " | ".join(cfgs) + " |")
        md.append("|---|" + "---|" * len(cfgs))
        for k in CHART:
            base = med.get((env, "kernel-ext2", k))
            cells = []
            for c in cfgs:
                v = med.get((env, c, k))
                if base and v:
                    cells.append("%.3g" % (v / base if METRIC[k][3] else base / v))
                else:
                    cells.append("-")
            md.append("| %s | %s |" % (METRIC[k][1], " | ".join(cells)))
        md.append("")
        md.append("Sizes: null-op %s statx; meta %s files (meta2: %s in each of 2 "
                  "directories); tree %s files; sequential %s MiB; fio %s MiB.\n" % (
                      sz.get("nullops", "?"), sz.get("nfiles", "?"), sz.get("nfiles", 0) // 2,
                      sz.get("tree_files", "?"), sz.get("seq_mb", "?"), sz.get("fio_mb", "?")))

    md += bdev_md
    md.append("## Targets\n")
    md.append("| where | target | measured | need | verdict |")
    md.append("|---|---|---|---|---|")
    for env, text, ratio, need, what, verdict in target_rows(med):
        if env not in envs:
            verdict = "not run"
        md.append("| %s | %s | %s | %s | **%s** |" % (
            env, text, "-" if ratio is None else "%.2f (%s)" % (ratio, what), need, verdict))
    md.append("")

    md.append("## Requests per operation (uvfsd --stats, by opcode)\n")
    md.append("Per workload, the daemon's request count divided by the operations: "
              "null-op per statx, meta per file (create+stat+unlink together), "
              "tree per file (untar..rm), seq per MiB (write+read), fio per 4 KiB I/O "
              "(write+read). Opcodes under 0.01 per operation are left out.\n")
    md.append("| where | config | workload | requests per operation |")
    md.append("|---|---|---|---|")
    for env in envs:
        for cfg in cfgs_of[env]:
            if cfg not in UVFSD_CFGS:
                continue
            for wl in wls_of[env]:
                ops = sorted(((v, op) for (e, c, w, op), v in reqmed.items()
                              if (e, c, w) == (env, cfg, wl)), reverse=True)
                if not ops:
                    md.append("| %s | %s | %s | (no statistics) |" % (env, cfg, wl))
                    status = 1
                    continue
                total = sum(v for v, _ in ops)
                cells = ", ".join("%s %.2f" % (op, v) for v, op in ops if v >= 0.01)
                md.append("| %s | %s | %s | total %.2f: %s |" % (env, cfg, wl, total, cells))
    md.append("")
    if perf:
        # bench/run.sh --perf: where each run's time went
        md.append("## Profiles (perf record -a, cpu-clock, first repeat)\n")
        md.append("Share of all samples on every CPU (idle included), "
                  "top symbols; the runs profiled were slowed by it.\n")
        md.append("| where | config | workload | top symbols |")
        md.append("|---|---|---|---|")
        groups = {}
        for env, cfg, wl, pct, sym in perf:
            groups.setdefault((env, cfg, wl), []).append((pct, sym))
        for (env, cfg, wl), syms in sorted(groups.items()):
            syms.sort(key=lambda x: -x[0])
            md.append("| %s | %s | %s | %s |" % (env, cfg, wl, ", ".join(
                "%s %.1f%%" % (s.replace("|", "/"), p) for p, s in syms[:12])))
        md.append("")
    if missing or errors:
        md.append("## Problems\n")
        for m in missing:
            md.append("- no number: %s" % m)
        for e in errors:
            md.append("- error: %s" % " ".join(e))
        md.append("")
    md.append("![chart](results.png)\n")
    with open(os.path.join(results, "results.md"), "w") as f:
        f.write("\n".join(md))
    for m in missing:
        sys.stderr.write("report: no number: %s\n" % m)
    for e in errors:
        sys.stderr.write("report: error: %s\n" % " ".join(e))
    return status


if __name__ == "__main__":
    sys.exit(main())
