#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Images made by mke2fs -d, read and written through uvfs.
#
# usage: tests/ext2/test_mkfs_images.sh BUILD
# env:   TARGET=uvfs|fuse2fs|kernel  implementation under test (uvfs)
#        TYPES="ext2 ext3 ext4 ext2-4k"  which images (T or T-BLOCKSIZE)
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
pass=0 fail=0
failed=()

ok() { echo "ok   $1"; pass=$((pass + 1)); }
bad() {
	echo "FAIL $1"
	if grep -qE '^(FAIL|DIFF|error|not ok)' "$LIB_TMP/out"; then
		grep -E '^(FAIL|DIFF|error|not ok)' "$LIB_TMP/out" | head -n 15
	else
		tail -n 15 "$LIB_TMP/out"
	fi | sed 's/^/     /'
	fail=$((fail + 1))
	failed+=("$1")
}
# check NAME CMD...: one test item
check() {
	local name=$1
	shift
	if "$@" >"$LIB_TMP/out" 2>&1; then ok "$name"; else bad "$name"; fi
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
log "treegen ($PROFILE) -> $src"
python3 "$TREEGEN" gen "$src" --profile "$PROFILE" --seed 42

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
		bad "$spec: mke2fs ${args[*]}"
		continue
	fi
	if ! fixture "$img" "$t" >"$LIB_TMP/out" 2>&1; then
		bad "$spec: fixture (kernel view == SRC, ns times)"
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

echo "$pass passed, $fail failed"
for f in "${failed[@]}"; do echo "  failed: $f"; done
((fail == 0))
