#!/usr/bin/env bash
# ext2 out of space under stress, over FUSE: 4 processes of seeded random
# ops (data checked against a model) until ENOSPC on ext4, ext2 (1 KiB
# blocks) and ext3, and on a roomy ext4; e2fsck -fn clean after each
# (tests/ext2/test_stress.sh).  Seeds 1 and 2 (UVFS_QUICK=1: seed 1).
set -euo pipefail
bash "$(dirname "$0")/../ext2/test_stress.sh" "$1" 1 2
