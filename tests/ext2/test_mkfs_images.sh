#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Images made by mke2fs -d, read and written through uvfs.
#
# usage: tests/ext2/test_mkfs_images.sh BUILD
# env:   TARGET=uvfs|fuse2fs|kernel  implementation under test (uvfs)
#        TYPES="ext2 ext3 ext4 ext2-4k"  which images (T or T-BLOCKSIZE)
#        MATRIX="rev0 noxattr ..."  which feature-matrix configs (all;
#                       "" for none); UVFS_QUICK=1: a third of them
#        MTIME_PREC=1   mtime comparison precision in ns
#        PROFILE=full|small   treegen profile (full: > 4 GiB sparse file)
#        KEEP_TMP=1     keep the temp dir (images, logs)
#
# For each type: treegen makes SRC; `mke2fs -q -F -t T -d SRC -I 256`
# makes the image; mke2fs keeps whole seconds only, so the kernel driver
# then copies the nanosecond times of SRC into it (and must leave it
# fsck-clean); the kernel's read-only view must equal SRC (checks the
# fixture).  Then the target: read-only mount == SRC; rw mount runs the
# POSIX suite in a subdirectory; after unmount e2fsck -fn is clean and a
# read-only mount still shows SRC unchanged (plus the suite's directory).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
lib_init "${1:?usage: $0 BUILD}" mkfs
TARGET=${TARGET:-uvfs}
TYPES=${TYPES:-ext2 ext3 ext4 ext2-4k}
MTIME_PREC=${MTIME_PREC:-1}
PROFILE=${PROFILE:-full}
CHECK_OUT=$LIB_TMP/out

# a failed check shows the lines that say what differs, else the end
check_detail() {
	if grep -qE '^(FAIL|DIFF|error|not ok)' "$1"; then
		grep -E '^(FAIL|DIFF|error|not ok)' "$1" | head -n 15
	else
		tail -n 15 "$1"
	fi | sed 's/^/     /'
}
# bad_out NAME: bad, with what the step wrote to $CHECK_OUT
bad_out() {
	bad "$1"
	check_detail "$CHECK_OUT"
}

cmp_tree() { # SRC MNT [extra compare options]
	local a=$1 b=$2
	shift 2
	timeout 600 python3 "$COMPARE" -q --ignore lost+found \
		--mtime-prec "$MTIME_PREC" "$@" "$a" "$b"
}

if [[ $TARGET == uvfs ]] && ! uvfs_has_ext2; then
	log "warning: $UVFSD has no ext2 backend; the uvfs checks will fail"
fi
suite=$(posix_suite || true)

src=$LIB_TMP/src
mnt=$LIB_TMP/mnt
if [[ -n ${TYPES// /} ]]; then
	log "treegen ($PROFILE) -> $src"
	python3 "$TREEGEN" gen "$src" --profile "$PROFILE" --seed 42
fi

fixture() { # IMG T: ns times into the image via the kernel, then checks
	local img=$1 t=$2
	KFSTYPE=$t fs_mount kernel "$img" "$mnt" rw || return 1
	python3 "$TREEGEN" apply-times "$src" "$mnt" || { fs_umount "$mnt"; return 1; }
	fs_umount "$mnt" || return 1
	fsck_clean "$img" || return 1
	KFSTYPE=$t fs_mount kernel "$img" "$mnt" ro || return 1
	cmp_tree "$src" "$mnt" || { fs_umount "$mnt"; return 1; }
	fs_umount "$mnt"
}

target_ro() { # IMG T [compare options]
	local img=$1 t=$2 rc=0
	shift 2
	KFSTYPE=$t fs_mount "$TARGET" "$img" "$mnt" ro || return 1
	cmp_tree "$src" "$mnt" "$@" || rc=1
	fs_umount "$mnt" || rc=1
	return $rc
}

target_rw_suite() { # IMG T
	local img=$1 t=$2 rc=0
	[[ -n $suite ]] || { echo "no uvfs-posix-suite under $BUILD"; return 1; }
	# the suite's permission tests switch to other users: FUSE mounts
	# need allow_other, and the kernel's permission checks
	local extra=allow_other,default_permissions
	[[ $TARGET == kernel ]] && extra=
	KFSTYPE=$t fs_mount "$TARGET" "$img" "$mnt" rw "$extra" || return 1
	mkdir -p "$mnt/posix" || rc=1
	((rc)) || timeout 900 "$suite" "$mnt/posix" || rc=1
	fs_umount "$mnt" || rc=1
	return $rc
}

for spec in $TYPES; do
	t=${spec%%-*}
	bs=
	[[ $spec == *-* ]] && bs=${spec#*-}
	bs=${bs%k}
	img=$LIB_TMP/$spec.img
	log "== $spec"
	args=(-q -F -t "$t" -d "$src" -I 256)
	[[ -n $bs ]] && args+=(-b $((bs * 1024)))
	if ! mke2fs "${args[@]}" "$img" 384M >"$LIB_TMP/out" 2>&1; then
		bad_out "$spec: mke2fs ${args[*]}"
		continue
	fi
	if ! fixture "$img" "$t" >"$LIB_TMP/out" 2>&1; then
		bad_out "$spec: fixture (kernel view == SRC, ns times)"
		continue
	fi
	ok "$spec: fixture (kernel view == SRC, ns times)"
	check "$spec: $TARGET ro mount == SRC" target_ro "$img" "$t"
	check "$spec: $TARGET rw mount, POSIX suite" target_rw_suite "$img" "$t"
	check "$spec: e2fsck -fn after $TARGET rw" fsck_clean "$img"
	check "$spec: $TARGET ro after rw: SRC intact" \
		target_ro "$img" "$t" --ignore posix --no-root-meta
	rm -f "$img"
done

# ---- the feature matrix ----
# NAME|mke2fs options|treegen options.  Revision 0 has no features at all
# (no ext_attr, filetype, dir_index, large_file; 128-byte inodes): its tree
# has no xattrs and no times past 2038, like the one for ^ext_attr.
MATRIX_ALL=(
	"rev0|-r 0|--no-xattr --time32"
	"noxattr|-O ^ext_attr|--no-xattr"
	"nofiletype|-O ^filetype|"
	"nodirindex|-O ^dir_index|"
	"noresize|-O ^resize_inode|"
	"inode128|-I 128|--time32"
	"b1k|-b 1024|"
	"b2k|-b 2048|"
	"b4k|-b 4096|"
	"ext3|-t ext3|"
	"ext4|-t ext4|"
	"ext4-nocsum|-t ext4 -O ^metadata_csum|"
	"ext4-no64bit|-t ext4 -O ^64bit|"
	"ext4-64bit|-t ext4 -O 64bit|"
	"sparse_super2|-O sparse_super2|"
	"ext4-csum_seed|-t ext4 -O metadata_csum_seed|"
)
MATRIX_QUICK="rev0 noxattr nofiletype inode128 b2k ext4-no64bit"
if [[ -z ${MATRIX+x} ]]; then
	MATRIX=
	for m in "${MATRIX_ALL[@]}"; do MATRIX+=" ${m%%|*}"; done
	[[ ${UVFS_QUICK:-0} == 1 ]] && MATRIX=$MATRIX_QUICK
fi

# matrix_fixture IMG SRC: ns times in via the kernel, still fsck-clean
matrix_fixture() {
	local img=$1 msrc=$2
	fs_mount kernel "$img" "$mnt" rw || return 1
	python3 "$TREEGEN" apply-times "$msrc" "$mnt" || { fs_umount "$mnt"; return 1; }
	fs_umount "$mnt" || return 1
	fsck_clean "$img"
}

# kernel_view IMG TREE PREC: a read-only kernel mount of IMG == TREE
kernel_view() {
	local img=$1 tree=$2 prec=$3 rc=0
	fs_mount kernel "$img" "$mnt" ro || return 1
	cmp_tree "$tree" "$mnt" --mtime-prec "$prec" || rc=1
	fs_umount "$mnt" || rc=1
	return $rc
}

# no_xattr_reads MNT: on an image without ext_attr, reads find nothing
# (the kernel's answer) instead of failing with EIO
no_xattr_reads() {
	local m=$1 out
	# ls -l asks every entry for security.selinux
	out=$(ls -lR "$m" 2>&1 >/dev/null) || { echo "ls -lR failed: $out"; return 1; }
	[[ -z $out ]] || { echo "ls -lR: $out"; return 1; }
	out=$(getfattr -n user.x "$m/files/f0" 2>&1) && { echo "getfattr: $out"; return 1; }
	[[ $out == *"No such attribute"* ]] || { echo "getfattr: $out"; return 1; }
	out=$(getfattr -d -m - "$m/files/f0" 2>&1) || { echo "getfattr -d: $out"; return 1; }
	[[ -z $out ]] || { echo "getfattr -d lists: $out"; return 1; }
	out=$(setfattr -x user.x "$m/files/f0" 2>&1) && { echo "setfattr -x: ok"; return 1; }
	[[ $out == *"No such attribute"* ]] || { echo "setfattr -x: $out"; return 1; }
}

# the first setxattr works and reads back (it turns ext_attr on)
first_setxattr() {
	local m=$1 v
	setfattr -n user.first -v hello "$m/files/f0" || return 1
	v=$(getfattr --only-values -n user.first "$m/files/f0") || return 1
	[[ $v == hello ]] || { echo "user.first = '$v'"; return 1; }
	setfattr -x user.first "$m/files/f0"
}

has_feature() { # IMG FEATURE
	dumpe2fs -h "$1" 2>/dev/null | grep -E '^Filesystem features:' |
		grep -qw -- "$2" || { echo "$1: no $2 in dumpe2fs -h"; return 1; }
}

# matrix_write MNT COPY PREC: the same writes on the mount and on COPY
# (on the host's disk), the same explicit times; equal trees
matrix_write() {
	local m=$1 copy=$2 prec=$3
	python3 "$TREEGEN" write "$copy" >/dev/null || return 1
	python3 "$TREEGEN" write "$m" || return 1
	python3 "$TREEGEN" apply-times "$copy" "$m" || return 1
	cmp_tree "$copy" "$m" --mtime-prec "$prec"
}

# target_umount MNT: `uvfs umount` (returns once uvfsd flushed and exited)
target_umount() {
	if [[ $TARGET == uvfs ]]; then
		"$BUILD/bin/uvfs" umount "$1" || { fs_umount "$1"; return 1; }
	fi
	fs_umount "$1"
}

# For each config: mke2fs -d SRC; the kernel puts SRC's ns times in; one
# rw mount of TARGET: without ext_attr the xattr reads and the first
# setxattr; == SRC (if not, the kernel's view tells whether the fixture
# or TARGET is wrong); then the writes, == the same writes on a copy of
# SRC; `uvfs umount`; e2fsck -fn; the kernel's view == the copy.
for name in $MATRIX; do
	conf=
	for m in "${MATRIX_ALL[@]}"; do
		[[ ${m%%|*} == "$name" ]] && conf=$m
	done
	[[ -n $conf ]] || { bad "matrix $name: unknown config"; continue; }
	IFS='|' read -r _ mkopts genopts <<<"$conf"
	t0=$SECONDS
	log "== matrix $name: mke2fs $mkopts"
	# one source tree per set of treegen options, made once
	msrc=$LIB_TMP/msrc${genopts// /}
	img=$LIB_TMP/m-$name.img
	copy=$LIB_TMP/copy.$name
	# shellcheck disable=SC2086
	if ! { [[ -d $msrc ]] || python3 "$TREEGEN" gen "$msrc" \
		--profile small --seed 7 $genopts >"$LIB_TMP/out" 2>&1; } ||
		! mke2fs -q -F $mkopts -d "$msrc" "$img" 64M >"$LIB_TMP/out" 2>&1
	then
		bad_out "$name: treegen + mke2fs $mkopts"
		continue
	fi
	prec=$MTIME_PREC
	# 128-byte inodes keep whole seconds only (revision 0: dumpe2fs
	# prints no inode size)
	isize=$(dumpe2fs -h "$img" 2>/dev/null |
		sed -n 's/^Inode size:[[:space:]]*//p')
	[[ ${isize:-128} == 128 ]] && prec=1000000000
	if ! matrix_fixture "$img" "$msrc" >"$LIB_TMP/out" 2>&1; then
		bad_out "$name: fixture (kernel writes SRC's ns times)"
		continue
	fi
	xattr=1
	has_feature "$img" ext_attr >/dev/null || xattr=0
	if ! fs_mount "$TARGET" "$img" "$mnt" rw >"$LIB_TMP/out" 2>&1; then
		bad_out "$name: $TARGET rw mount"
		continue
	fi
	if ((!xattr)); then
		check "$name: no ext_attr: ls -lR, getfattr find nothing, no EIO" \
			no_xattr_reads "$mnt"
		check "$name: no ext_attr: first setxattr works" \
			first_setxattr "$mnt"
	fi
	if ! cmp_tree "$msrc" "$mnt" --mtime-prec "$prec" >"$LIB_TMP/out" 2>&1
	then
		bad_out "$name: $TARGET == SRC"
		target_umount "$mnt" >/dev/null 2>&1
		if kernel_view "$img" "$msrc" "$prec" >"$LIB_TMP/out" 2>&1; then
			echo "     (the kernel's view of the image == SRC)"
		else
			bad_out "$name: fixture: the kernel's view != SRC"
		fi
		continue
	fi
	ok "$name: $TARGET == SRC"
	rm -rf "$copy"
	cp -a "$msrc" "$copy"
	check "$name: $TARGET writes == the same writes on a copy" \
		matrix_write "$mnt" "$copy" "$prec"
	check "$name: uvfs umount" target_umount "$mnt"
	check "$name: e2fsck -fn after $TARGET writes" fsck_clean "$img"
	((xattr)) || check "$name: ext_attr turned on by setxattr" \
		has_feature "$img" ext_attr
	check "$name: kernel reads the written image == copy" \
		kernel_view "$img" "$copy" "$prec"
	log "   matrix $name: $((SECONDS - t0)) s"
	rm -rf "$img" "$copy"
done

summary
