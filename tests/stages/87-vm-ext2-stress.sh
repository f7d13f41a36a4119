#!/usr/bin/env bash
# The ext2 out-of-space stress inside the VM (Debian's 6.1 kernel under
# QEMU): 4 processes of seeded random ops (tests/ext2/stress.py) until
# ENOSPC on a 64 MiB ext4 and a 64 MiB ext2 with 1 KiB blocks, over the
# kmod transport and then over FUSE; the daemon exits 0 and e2fsck -fn is
# clean after every run (tests/vm/stress/run.sh).  Seed 1.
set -euo pipefail
exec bash "$(dirname "$0")/../vm/stress/run.sh" "$1"
