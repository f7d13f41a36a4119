#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# One image, one writer: a second mount of an image that is mounted
# read-write is refused with one line naming the holder, whoever mounts
# second (uvfsd rw or ro, or the kernel on a block device or through ext4's
# multi-mount protection); read-only mounts share.  Also the ext2
# backend's mount options: offset= (two partitions of one disk image,
# each claimed alone), norecovery, errors=; words instead of raw
# libext2fs codes; /proc/mounts naming ext2, ext3 or ext4.
#
# usage: tests/ext2/test_exclusive.sh BUILD
set -euo pipefail
. "$(dirname "$0")/lib.sh"
lib_init "${1:?usage: $0 BUILD}" exclusive
m1=$LIB_TMP/m1
m2=$LIB_TMP/m2
src=$LIB_TMP/src
mkdir -p "$m1" "$m2" "$src/d"
echo hello >"$src/a"
for i in 1 2 3; do echo "$i" >"$src/d/f$i"; done
img=$LIB_TMP/a.img
loops=()

cleanup_loops() {
	local l
	for l in "${loops[@]}"; do
		umount "$l" 2>/dev/null
		losetup -d "$l" 2>/dev/null
	done
}
LIB_EXTRA_CLEANUP=cleanup_loops

fresh() { mke2fs -q -F -t "${2:-ext4}" -d "$src" "$1" 32M; }

# refused_by PATTERN UVFSD-ARGS...: refused with one line matching PATTERN
# that names who holds the image
refused_by() { uvfsd_refuses "$@"; }

# ---- two uvfsd mounts ----

rw_then_second() {
	local rc=0 pid
	fresh "$img"
	fs_mount uvfs "$img" "$m1" rw || return 1
	pid=${LIB_PID[$m1]}
	refused_by "in use: uvfsd \\(pid $pid\\) has it open read-write, mounted on $m1" \
		ext2 "$img" "$m2" || rc=1
	refused_by "in use: uvfsd \\(pid $pid\\) has it open read-write" \
		-o ro ext2 "$img" "$m2" || rc=1
	echo one >"$m1/one" || rc=1
	fs_umount "$m1" || rc=1
	fsck_clean "$img" || rc=1
	[[ $(debugfs -R 'cat /one' "$img" 2>/dev/null) == one ]] ||
		{ echo "/one lost"; rc=1; }
	return $rc
}

ro_share() {
	local rc=0
	fresh "$img"
	fs_mount uvfs "$img" "$m1" ro || return 1
	fs_mount uvfs "$img" "$m2" ro || { fs_umount "$m1"; return 1; }
	[[ $(cat "$m1/a") == hello && $(cat "$m2/a") == hello ]] || rc=1
	fs_umount "$m2" || rc=1
	refused_by "in use: uvfsd \\(pid [0-9]+\\) has it open read-only" \
		ext2 "$img" "$m2" || rc=1
	fs_umount "$m1" || rc=1
	fsck_clean "$img" || rc=1
	return $rc
}

# ---- the kernel holds it first ----

kernel_loop_first() { # MODE: the kernel's loop mount is rw or ro
	local rc=0 dev
	fresh "$img"
	mount -o "loop,$1" "$img" "$m2" || return 1
	dev=$(findmnt -n -o SOURCE "$m2")
	loops+=("$dev")
	if [[ $1 == rw ]]; then
		refused_by "in use: $dev is mounted read-write on $m2" \
			ext2 "$img" "$m1" || rc=1
		refused_by "in use: $dev is mounted read-write on $m2" \
			-o ro ext2 "$img" "$m1" || rc=1
	else
		refused_by "in use: $dev is mounted read-only on $m2" \
			ext2 "$img" "$m1" || rc=1
		if fs_mount uvfs "$img" "$m1" ro; then
			[[ $(cat "$m1/a") == hello ]] || rc=1
			fs_umount "$m1" || rc=1
		else
			rc=1
		fi
	fi
	umount "$m2" || rc=1
	fsck_clean "$img" || rc=1
	return $rc
}

# ---- a block device: O_EXCL both ways ----

block_device() {
	local rc=0 dev
	fresh "$img"
	dev=$(losetup -f --show "$img") || return 1
	loops+=("$dev")
	fs_mount uvfs "$dev" "$m1" rw || return 1
	if mount "$dev" "$m2" 2>"$LIB_TMP/kmount.err"; then
		echo "the kernel mounted $dev under uvfsd"
		umount "$m2"
		rc=1
	fi
	refused_by "$dev is in use: uvfsd \\(pid [0-9]+\\) has it open read-write" \
		-o ro ext2 "$dev" "$m2" || rc=1
	echo two >"$m1/two" || rc=1
	fs_umount "$m1" || rc=1
	mount "$dev" "$m2" || { echo "kernel mount after uvfsd failed"; rc=1; }
	refused_by "$dev is in use: mounted read-write on $m2" \
		ext2 "$dev" "$m1" || rc=1
	umount "$m2" || rc=1
	losetup -d "$dev"
	fsck_clean "$img" || rc=1
	return $rc
}

# ---- ext4 multi-mount protection: the kernel mounting second ----

mmp() {
	local rc=0 copy=$LIB_TMP/copy.img seq
	mke2fs -q -F -t ext4 -O mmp -E mmp_update_interval=1 -d "$src" \
		"$img" 32M
	# libext2fs waits 2 * check interval + 1 s before it owns the image
	fs_mount uvfs "$img" "$m1" rw || return 1
	seq=$(debugfs -R dump_mmp "$img" 2>/dev/null | sed -n 's/^sequence: //p')
	[[ $seq == e24d4d50 ]] || { echo "MMP sequence $seq while mounted"; rc=1; }
	if mount -o loop "$img" "$m2" 2>/dev/null; then
		echo "the kernel mounted an image uvfsd holds through MMP"
		umount "$m2"
		rc=1
	fi
	# a copy carries the "in use" MMP block: as seen from another host
	cp "$img" "$copy"
	refused_by "copy.img is in use \\(multi-mount protection\\).*host '$(hostname)', device '/" \
		ext2 "$copy" "$m2" || rc=1
	echo three >"$m1/three" || rc=1
	fs_umount "$m1" || rc=1
	seq=$(debugfs -R dump_mmp "$img" 2>/dev/null | sed -n 's/^sequence: //p')
	[[ $seq == ff4d4d50 ]] || { echo "MMP sequence $seq after umount"; rc=1; }
	fsck_clean "$img" || rc=1
	return $rc
}

# ---- offset=: two partitions of one disk image ----

partitions() {
	local rc=0 disk=$LIB_TMP/disk.img p1=$((1 << 20)) p2=$((40 << 20))
	truncate -s 80M "$disk"
	mke2fs -q -F -t ext2 -E offset=$p1 -d "$src" "$disk" 32M
	mke2fs -q -F -t ext4 -E offset=$p2 -d "$src" "$disk" 32M
	fs_mount uvfs "$disk" "$m1" rw offset=1M || return 1
	fs_mount uvfs "$disk" "$m2" rw offset=$p2 || { fs_umount "$m1"; return 1; }
	[[ $(findmnt -n -o FSTYPE "$m1") == fuse.ext2 &&
		$(findmnt -n -o FSTYPE "$m2") == fuse.ext4 ]] ||
		{ echo "types: $(findmnt -n -o FSTYPE "$m1") $(findmnt -n -o FSTYPE "$m2")"; rc=1; }
	echo p1 >"$m1/p" && echo p2 >"$m2/p" || rc=1
	refused_by "disk.img is in use: uvfsd \\(pid ${LIB_PID[$m1]}\\)" \
		-o ro,offset=$p1 ext2 "$disk" "$LIB_TMP" || rc=1
	fs_umount "$m1" || rc=1
	fs_umount "$m2" || rc=1
	fsck_clean "$disk?offset=$p1" || rc=1
	fsck_clean "$disk?offset=$p2" || rc=1
	[[ $(debugfs -R 'cat /p' "$disk?offset=$p1" 2>/dev/null) == p1 &&
		$(debugfs -R 'cat /p' "$disk?offset=$p2" 2>/dev/null) == p2 ]] ||
		{ echo "partition contents wrong"; rc=1; }
	return $rc
}

bad_options() {
	local rc=0
	fresh "$img"
	refused_by "bad value for -o offset: 'x'" -o offset=x ext2 "$img" "$m1" || rc=1
	refused_by "offset=1073741824 is past the end" -o offset=1G ext2 "$img" "$m1" || rc=1
	refused_by "bad value for -o errors: 'often'" -o errors=often ext2 "$img" "$m1" || rc=1
	refused_by "unknown option 'bogus'" -o bogus ext2 "$img" "$m1" || rc=1
	return $rc
}

# ---- messages in words, the filesystem's name in /proc/mounts ----

csum_words() {
	fresh "$img"
	# the volume label is covered by the superblock checksum only
	printf 'X' | dd of="$img" bs=1 seek=$((1024 + 120)) conv=notrunc status=none
	refused_by "Superblock checksum does not match superblock" \
		ext2 "$img" "$m1" || return 1
	! grep -q "Unknown code" "$LIB_TMP/refuse.err"
}

fstype_named() {
	local rc=0 t
	for t in ext2 ext3 ext4; do
		fresh "$img" "$t"
		fs_mount uvfs "$img" "$m1" ro || return 1
		[[ $(findmnt -n -o FSTYPE "$m1") == "fuse.$t" ]] ||
			{ echo "$t shows as $(findmnt -n -o FSTYPE "$m1")"; rc=1; }
		fs_umount "$m1" || rc=1
	done
	return $rc
}

# ---- norecovery: read-only, journal untouched ----

norecovery() {
	local rc=0 before blk
	mke2fs -q -F -t ext4 -b 1024 -d "$src" "$img" 32M
	blk=$(debugfs -R 'bmap /a 0' "$img" 2>/dev/null)
	{ printf 'HELLO\n'; head -c 1018 /dev/zero; } >"$LIB_TMP/blk"
	debugfs -w -f - "$img" >/dev/null 2>&1 <<-EOF
		jo
		jw -b $blk $LIB_TMP/blk
		jc
	EOF
	before=$(sha256sum <"$img")
	fs_mount uvfs "$img" "$m1" rw norecovery || return 1
	grep -q "norecovery: mounting read-only" "$(daemon_log "$m1")" ||
		{ echo "no warning: $(cat "$(daemon_log "$m1")")"; rc=1; }
	[[ $(cat "$m1/a") == hello ]] || rc=1
	[[ $(findmnt -n -o OPTIONS "$m1") == ro,* ]] ||
		{ echo "not read-only: $(findmnt -n -o OPTIONS "$m1")"; rc=1; }
	touch "$m1/x" 2>/dev/null && { echo "write allowed"; rc=1; }
	fs_umount "$m1" || rc=1
	[[ $(sha256sum <"$img") == "$before" ]] || { echo "image changed"; rc=1; }
	return $rc
}

# ---- errors=: what finding corruption does ----

# errors_mode MODE: a directory block full of garbage, then a write
errors_mode() {
	local rc=0 blk state
	mke2fs -q -F -t ext2 -b 1024 -d "$src" "$img" 8M
	blk=$(debugfs -R 'blocks /d' "$img" 2>/dev/null)
	head -c 1024 /dev/urandom |
		dd of="$img" bs=1024 seek=$((blk)) conv=notrunc status=none
	fs_mount uvfs "$img" "$m1" rw "errors=$1" || return 1
	ls "$m1/d" >/dev/null 2>&1 && { echo "garbage directory listed"; rc=1; }
	case $1 in
	continue)
		echo ok >"$m1/new" || { echo "write refused"; rc=1; }
		fs_umount "$m1" || rc=1
		;;
	remount-ro)
		touch "$m1/new" 2>/dev/null && { echo "write allowed"; rc=1; }
		[[ $(cat "$m1/a") == hello ]] || rc=1
		fs_umount "$m1" || rc=1
		;;
	panic)
		sleep 0.2
		daemon_alive "$m1" && { echo "daemon still running"; rc=1; }
		fs_kill "$m1" 2>/dev/null || true
		;;
	esac
	grep -q "corruption found" "$(daemon_log "$m1")" ||
		{ echo "nothing logged"; rc=1; }
	state=$(dumpe2fs -h "$img" 2>/dev/null | sed -n 's/^Filesystem state: *//p')
	if [[ $1 != panic && $state != *"with errors"* ]]; then
		echo "state after umount: $state"
		rc=1
	fi
	return $rc
}

check "second rw and ro uvfsd refused, naming the holder" rw_then_second
check "read-only mounts share; rw refused next to them" ro_share
check "kernel loop mount rw first: uvfsd refused" kernel_loop_first rw
check "kernel loop mount ro first: uvfsd ro shares, rw refused" kernel_loop_first ro
check "block device: O_EXCL both ways" block_device
check "MMP: kernel refused while uvfsd holds it, other host named" mmp
check "offset=: two partitions rw at once, each claimed" partitions
check "bad ext2 options: one line each" bad_options
check "bad superblock checksum in words" csum_words
check "/proc/mounts: fuse.ext2, fuse.ext3, fuse.ext4" fstype_named
check "norecovery: read-only, warned, image untouched" norecovery
check "errors=continue: corruption fails the one request" errors_mode continue
check "errors=remount-ro: no writes after corruption" errors_mode remount-ro
check "errors=panic: the daemon stops" errors_mode panic
summary
