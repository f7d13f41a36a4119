#!/usr/bin/env bash
# One writer per image: second mounts refused naming the holder (uvfsd,
# the kernel's loop mounts, block devices with O_EXCL, ext4 MMP); the ext2
# backend's offset=, norecovery and errors= options; libext2fs errors in
# words; /proc/mounts naming ext2, ext3 or ext4.
set -euo pipefail
exec bash "$(dirname "$0")/../ext2/test_exclusive.sh" "$1"
