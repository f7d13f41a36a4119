#!/usr/bin/env bash
# Differential test: the same seeded random op stream on the kernel's ext2
# and on uvfs ext2; every result and then the whole trees must match, and
# both images must pass e2fsck -fn.  20 seeds (5 with --quick).  Then
# reads racing truncate/rewrite/unlink on uvfs ext2 (test_read_race.sh).
set -euo pipefail
seeds=20
[[ ${UVFS_QUICK:-0} == 1 ]] && seeds=5
dir=$(dirname "$0")/../ext2
bash "$dir/test_diff.sh" "$1" "$seeds"
bash "$dir/test_read_race.sh" "$1" 10
