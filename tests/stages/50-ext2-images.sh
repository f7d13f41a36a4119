#!/usr/bin/env bash
# ext2/ext3/ext4 images made by mke2fs -d from a generated tree mount through
# uvfsd and compare equal to the tree; the POSIX suite passes on them;
# e2fsck -fn is clean afterwards.
set -euo pipefail
exec bash "$(dirname "$0")/../ext2/test_mkfs_images.sh" "$1"
