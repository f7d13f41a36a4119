#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Reads racing truncate, rewrite and unlink on uvfs ext2 (read_race.py),
# on an ext2 (block-mapped, 1 KiB blocks) and an ext4 (extents) image;
# e2fsck -fn clean after each.
#
# usage: tests/ext2/test_read_race.sh BUILD [SECONDS=10]
set -euo pipefail
. "$(dirname "$0")/lib.sh"
lib_init "${1:?usage: $0 BUILD [SECONDS]}" race
secs=${2:-10}
mnt=$LIB_TMP/mnt
mkdir -p "$mnt"

race_on() { # FSTYPE MKE2FS-ARGS...
	local t=$1 img=$LIB_TMP/$1.img
	shift
	mke2fs -q -F -t "$t" "$@" "$img" 128M >/dev/null || return 1
	fs_mount uvfs "$img" "$mnt" rw || return 1
	python3 "$LIB_DIR/read_race.py" "$mnt" "$secs" || {
		fs_umount "$mnt"
		return 1
	}
	fs_umount "$mnt" && fsck_clean "$img"
}

check "read race on ext2 (1 KiB blocks)" race_on ext2 -b 1024
check "read race on ext4" race_on ext4
summary
