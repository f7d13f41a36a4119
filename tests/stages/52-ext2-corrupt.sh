#!/usr/bin/env bash
# 200 damaged images, walked in-process and through a FUSE mount by an
# ASan+UBSan uvfsd: no crash, no hang, no sanitizer report.
set -euo pipefail
exec bash "$(dirname "$0")/../ext2/test_corrupt.sh" "$UVFS_BUILD_ASAN" 200
