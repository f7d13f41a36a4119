#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# ext2 out-of-space stress over FUSE: stress.py (4 processes, every op,
# data checked against a model) until ENOSPC on 64 MiB ext4, ext2 with
# 1 KiB blocks and ext3 images, and a fixed op count on a roomy ext4;
# `uvfs umount`, then e2fsck -fn must be clean after every run.  Then
# fallocate allocates exactly what it is asked (e2fsprogs 1.47.0's
# extent fallocate over-allocated around an existing block).
#
# usage: tests/ext2/test_stress.sh BUILD [SEEDS...]
#   UVFS_QUICK=1: one seed.  Seeds are fixed (default 1 2) and printed.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
lib_init "${1:?usage: $0 BUILD [SEEDS...]}" stress
shift
seeds=("$@")
((${#seeds[@]})) || seeds=(1 2)
[[ ${UVFS_QUICK:-0} == 1 ]] && seeds=("${seeds[0]}")
mnt=$LIB_TMP/mnt
mkdir -p "$mnt"
STRESS=$LIB_DIR/stress.py

# stress_on NAME SIZE SEED STRESS-ARGS -- MKE2FS-ARGS...
stress_on() {
	local name=$1 size=$2 seed=$3 img=$LIB_TMP/$1.img args=() rc=0
	shift 3
	while [[ $1 != -- ]]; do args+=("$1"); shift; done
	shift
	rm -f "$img"
	mke2fs -q -F "$@" "$img" "$size" >/dev/null || return 1
	fs_mount uvfs "$img" "$mnt" rw || return 1
	echo "stress.py --seed $seed ${args[*]} on $name"
	python3 "$STRESS" "$mnt" --seed "$seed" "${args[@]}" || rc=1
	"$BUILD/bin/uvfs" umount "$mnt" || rc=1
	fs_umount "$mnt" || rc=1
	fsck_clean "$img" || rc=1
	return $rc
}

# check, then the numbers the run printed
check_numbers() {
	check "$@"
	grep -E '(until-full|roomy): |st_blocks ' "$CHECK_OUT" |
		sed 's/^/     /' || true
}

for seed in "${seeds[@]}"; do
	check_numbers "ext4 64M until full, seed $seed" stress_on ext4 64M "$seed" \
		--until-full -- -t ext4
	check_numbers "ext2 1k blocks until full, seed $seed" stress_on ext2-1k 64M \
		"$seed" --until-full -- -t ext2 -b 1024
	check_numbers "ext3 until full, seed $seed" stress_on ext3 64M "$seed" \
		--until-full -- -t ext3
	check_numbers "ext4 1G roomy, seed $seed" stress_on ext4-roomy 1G "$seed" \
		--ops 600 -- -t ext4
done

# fallocate -n -o 4096 -l 16384 on a file with one block at 100000: 4
# blocks (32 sectors) more, no other change.
falloc_exact() {
	local img=$LIB_TMP/falloc.img f before after
	mke2fs -q -F -t ext4 -b 4096 "$img" 64M >/dev/null || return 1
	fs_mount uvfs "$img" "$mnt" rw || return 1
	f=$mnt/f
	printf x | dd of="$f" bs=1 seek=100000 conv=notrunc status=none
	before=$(stat -c %b "$f")
	fallocate -n -o 4096 -l 16384 "$f"
	after=$(stat -c %b "$f")
	echo "st_blocks $before -> $after, size $(stat -c %s "$f")"
	"$BUILD/bin/uvfs" umount "$mnt" || return 1
	fs_umount "$mnt" || return 1
	fsck_clean "$img" || return 1
	[[ $before == 8 && $after == 40 ]]
}
check_numbers "fallocate -n allocates exactly the range" falloc_exact
summary
