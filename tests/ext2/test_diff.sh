#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Differential test: the same seeded operation stream on the kernel's ext2
# and on uvfs; every result, the final trees and both images must agree.
#
# usage: tests/ext2/test_diff.sh BUILD [NSEEDS=20]
# env:   REF=kernel          reference implementation (kernel|fuse2fs|uvfs)
#        TARGET=uvfs         implementation under test (kernel|fuse2fs|uvfs)
#        OPS=2000            operations per seed
#        SEED0=1             first seed (seeds SEED0 .. SEED0+NSEEDS-1)
#        FSTYPE=ext2         mke2fs -t
#        MKFS_OPTS=          mke2fs options instead of -I 256 -b 1024|4096
#        POPULATE_OPTS=      difftest.py populate options (--no-xattr)
#        REF_FSCK=warn       a REF image that e2fsck -fn finds unclean is a
#                            warning, not a failure (the kernel's known
#                            quirk on images without filetype)
#        DIFF_OPTS=          extra difftest.py run options (--no-dir-size,
#                            --blocks, --check-every N, --trace)
#        KEEP_TMP=1          keep images and logs
#
# Per seed: difftest.py populate makes a small tree; mke2fs -d -I 256 makes
# a 128 MiB image of it (1 KiB blocks for odd seeds, 4 KiB for even); one
# copy is mounted by REF, one by TARGET; difftest.py runs the stream on
# both (first differing op -> seed, op index, op, both results); then
# both are unmounted (FUSE: waiting for the daemon to exit), e2fsck -fn
# must be clean on both, and a read-only kernel mount of each must show
# identical trees (ns mtimes, modes, owners, xattrs, contents, links).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
lib_init "${1:?usage: $0 BUILD [NSEEDS]}" diff
NSEEDS=${2:-20}
REF=${REF:-kernel}
TARGET=${TARGET:-uvfs}
OPS=${OPS:-2000}
SEED0=${SEED0:-1}
FSTYPE=${FSTYPE:-ext2}
DIFFTEST=$LIB_DIR/difftest.py
DIFF_OPTS=${DIFF_OPTS:-}

if [[ $TARGET == uvfs || $REF == uvfs ]] && ! uvfs_has_ext2; then
	log "warning: $UVFSD has no ext2 backend; every seed will fail"
fi

ma=$LIB_TMP/ref mb=$LIB_TMP/target

one_seed() { # SEED; prints the reason of a failure on stdout
	local s=$1 d=$LIB_TMP/s$1 bs rc=0 warn=
	mkdir -p "$d"
	# (set -e is off in a function called from `if`: check each step)
	# shellcheck disable=SC2086
	python3 "$DIFFTEST" populate "$d/tree" --seed "$s" \
		${POPULATE_OPTS:-} || return 1
	bs=$((s % 2 ? 1024 : 4096))
	# shellcheck disable=SC2086
	mke2fs -q -F -t "$FSTYPE" ${MKFS_OPTS:--I 256 -b $bs} -d "$d/tree" \
		"$d/base.img" 128M >/dev/null || return 1
	cp --sparse=always "$d/base.img" "$d/ref.img" || return 1
	cp --sparse=always "$d/base.img" "$d/target.img" || return 1
	KFSTYPE=$FSTYPE fs_mount "$REF" "$d/ref.img" "$ma" rw ||
		{ echo "seed $s: $REF mount failed"; return 1; }
	if ! KFSTYPE=$FSTYPE fs_mount "$TARGET" "$d/target.img" "$mb" rw; then
		fs_umount "$ma" || true
		echo "seed $s: $TARGET mount failed"
		return 1
	fi
	# shellcheck disable=SC2086
	timeout 900 python3 "$DIFFTEST" run "$ma" "$mb" --seed "$s" \
		--ops "$OPS" $DIFF_OPTS >"$d/difftest.log" 2>&1 || rc=$?
	if ((rc)); then
		if ((rc == 124)); then
			echo "seed $s: difftest timed out (900 s)"
		fi
		cat "$d/difftest.log"
	fi
	fs_umount "$ma" || { echo "seed $s: $REF unmount failed"; rc=1; }
	fs_umount "$mb" || { echo "seed $s: $TARGET unmount failed"; rc=1; }
	((rc == 0)) || return 1
	if ! fsck_clean "$d/ref.img" 2>&1; then
		echo "seed $s: $REF image not clean"
		[[ ${REF_FSCK:-} == warn ]] || return 1
		warn="warning: the $REF image is not fsck-clean (REF_FSCK=warn)"
	fi
	fsck_clean "$d/target.img" 2>&1 || { echo "seed $s: $TARGET image not clean"; return 1; }
	# on-disk state, both read by the kernel
	KFSTYPE=$FSTYPE fs_mount kernel "$d/ref.img" "$ma" ro || return 1
	KFSTYPE=$FSTYPE fs_mount kernel "$d/target.img" "$mb" ro ||
		{ fs_umount "$ma"; return 1; }
	if ! python3 "$COMPARE" -q --ignore lost+found "$ma" "$mb"; then
		echo "seed $s: images differ (A=$REF B=$TARGET, both read by" \
			"the kernel after unmount)"
		rc=1
	fi
	fs_umount "$ma" || rc=1
	fs_umount "$mb" || rc=1
	((rc == 0)) || return 1
	echo "$(tail -n 1 "$d/difftest.log")${warn:+; $warn}"
	[[ -n ${KEEP_TMP:-} ]] || rm -rf "$d"
}

log "difftest: REF=$REF TARGET=$TARGET FSTYPE=$FSTYPE OPS=$OPS" \
	"seeds $SEED0..$((SEED0 + NSEEDS - 1))"
start=$SECONDS
for ((s = SEED0; s < SEED0 + NSEEDS; s++)); do
	t0=$SECONDS
	if one_seed "$s" >"$LIB_TMP/out" 2>&1; then
		ok "seed $s ($((SECONDS - t0)) s): $(tail -n 1 "$LIB_TMP/out")"
	else
		bad "seed $s" "$((SECONDS - t0)) s"
		head -n 25 "$LIB_TMP/out" | sed 's/^/     /'
	fi
done
echo "($((SECONDS - start)) s)"
((fail == 0)) || echo "rerun one seed N: SEED0=N $0 $BUILD 1"
summary
