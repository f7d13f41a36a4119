#!/usr/bin/env bash
# The differential test (kernel ext2/3/4 over loop vs uvfs, seeded op
# streams, every result and the final images compared, e2fsck -fn) on
# every configuration of the ext2 feature matrix: revision 0, ^ext_attr,
# ^filetype, ^dir_index, ^resize_inode, 128-byte inodes, 1/2/4 KiB
# blocks, ext3, ext4 with and without metadata_csum and 64bit,
# sparse_super2, metadata_csum_seed.  1 seed x 300 ops each (UVFS_QUICK:
# 150 ops).
set -euo pipefail
ops=300
[[ ${UVFS_QUICK:-0} == 1 ]] && ops=150
OPS=$ops bash "$(dirname "$0")/../ext2/test_matrix_diff.sh" "$1" 1
