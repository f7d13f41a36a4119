#!/usr/bin/env bash
# Journal replay of ext3/ext4 images that need recovery, against e2fsck
# -fy; corrupt journals refused in one line; 200 seeded mutations of the
# log under an ASan+UBSan uvfsd (100 with --quick).
set -euo pipefail
n=200
[[ ${UVFS_QUICK:-0} == 1 ]] && n=100
exec bash "$(dirname "$0")/../ext2/test_journal.sh" "${UVFS_BUILD_ASAN:-$1}" "$n"
