#!/usr/bin/env bash
# An ASan+UBSan uvfsd on damaged images: one damaged directory block,
# inode or directory loop fails alone and the rest is served; then 200
# randomly damaged images walked in-process and through a FUSE mount: no
# crash, no hang, no sanitizer report.
set -euo pipefail
dir=$(dirname "$0")/../ext2
rc=0
run() { # SCRIPT ARGS...
	echo "== $1"
	bash "$dir/$1" "${@:2}" || { echo "FAIL: $1"; rc=1; }
}
run test_damaged.sh "$UVFS_BUILD_ASAN"
run test_corrupt.sh "$UVFS_BUILD_ASAN" 200
exit $rc
