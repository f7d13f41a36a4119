#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The file tree of bench/run.sh's "tree" workload, as an uncompressed tar.

usage: mktree.py OUT.tar NFILES

NFILES regular files under tree/, 100 to a directory (tree/dNNN/fNNNNN),
sizes 0..8191 bytes from a fixed pseudo-random sequence (mean about 4 KiB,
so a mix of empty, sub-block and multi-block files).  Always the same bytes
for the same NFILES: runs compare, and the tar is not a cost that varies.
"""
import io
import sys
import tarfile


def main():
    if len(sys.argv) != 3 or not sys.argv[2].isdigit() or int(sys.argv[2]) < 1:
        sys.stderr.write("usage: mktree.py OUT.tar NFILES\n")
        return 2
    out, nfiles = sys.argv[1], int(sys.argv[2])
    seed = 12345
    blob = bytes(range(256)) * 32  # 8 KiB to slice file contents from
    with tarfile.open(out, "w", format=tarfile.GNU_FORMAT) as tar:
        dirs = set()
        for i in range(nfiles):
            d = "tree/d%03d" % (i // 100)
            for p in ("tree", d):
                if p not in dirs:
                    dirs.add(p)
                    ti = tarfile.TarInfo(p)
                    ti.type, ti.mode, ti.mtime = tarfile.DIRTYPE, 0o755, 1700000000
                    tar.addfile(ti)
            # a linear congruential generator: the same sizes everywhere
            seed = (seed * 1103515245 + 12345) & 0x7FFFFFFF
            size = (seed >> 8) % 8192
            ti = tarfile.TarInfo("%s/f%05d" % (d, i))
            ti.size, ti.mode, ti.mtime = size, 0o644, 1700000000
            off = i % 256
            data = (blob + blob)[off:off + size]
            tar.addfile(ti, io.BytesIO(data))
    return 0


if __name__ == "__main__":
    sys.exit(main())
