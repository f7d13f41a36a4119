#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Damaged images must never crash or hang uvfsd.
#
# usage: tests/ext2/test_corrupt.sh BUILD [N=200]
#   BUILD should be a -DUVFS_SANITIZE=ON build (ASan+UBSan); any build works.
# env:   SEED0=1        first seed (mutant seeds SEED0 .. SEED0+N-1)
#        TARGET=uvfs    or fuse2fs (FUSE phase only; to check the harness)
#        DEADLINE=270   stop starting new mutants after this many seconds
#        JOBS=2         mutants run in parallel
#        KEEP_TMP=1     keep base images, maps and failing mutants
#
# Base images (from difftest.py populate trees, -I 256): ext2 with 1 KiB
# blocks, ext4 (metadata_csum, 4 KiB blocks) and ext4 without
# metadata_csum (so that damage is not all caught by checksums).
# corrupt.py maps their metadata (dumpe2fs, debugfs: superblock, group
# descriptors, bitmaps, used inodes, directory blocks, indirect/extent
# blocks, xattr blocks) and makes N seeded mutants: byte flips, 0/0xff
# bytes and odd u32 values in those places, or truncation.  Each mutant:
# `uvfsd --transport=direct ext2 IMG` (timeout 20 s), then a FUSE mount,
# ls -lR, cat of every file, one write, unmount, daemon exit (each step
# bounded).  Passes only with no crash (signal, sanitizer report) and no
# hang; prints the seeds of failures: reproduce one with
#   corrupt.py mutate BASE MAP SEED OUT   (KEEP_TMP=1 keeps BASE and MAP)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
lib_init "${1:?usage: $0 BUILD [N]}" corrupt
N=${2:-200}
SEED0=${SEED0:-1}
TARGET=${TARGET:-uvfs}
DEADLINE=${DEADLINE:-270}
JOBS=${JOBS:-2}
work=$LIB_TMP/work
mkdir -p "$work"

corrupt_cleanup() { # daemons corrupt.py started (only if still ours)
	local pid m
	if [[ -f $work/pids ]]; then
		while read -r pid; do
			[[ -r /proc/$pid/cmdline ]] || continue
			tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF "$LIB_TMP" &&
				kill -KILL "$pid" 2>/dev/null
		done <"$work/pids"
	fi
	awk -v t="$LIB_TMP/" 'index($2, t) == 1 { print $2 }' /proc/self/mounts |
		while read -r m; do fusermount3 -u -z "$m" 2>/dev/null; done
}
LIB_EXTRA_CLEANUP=corrupt_cleanup

if [[ $TARGET == uvfs ]]; then
	[[ -x $UVFSD ]] || die "no $UVFSD"
	uvfs_has_ext2 || log "warning: $UVFSD has no ext2 backend"
	if ! nm -D "$UVFSD" 2>/dev/null | grep -q __asan_init &&
		! ldd "$UVFSD" 2>/dev/null | grep -q libasan; then
		log "warning: $UVFSD is not an ASan build (-DUVFS_SANITIZE=ON);" \
			"only crashes and hangs will be seen"
	fi
fi

bases=()
mkbase() { # NAME SEED SIZE mke2fs-options...
	local name=$1 seed=$2 size=$3
	shift 3
	python3 "$LIB_DIR/difftest.py" populate "$LIB_TMP/$name.src" --seed "$seed"
	# a few more kinds of objects: slow symlink, deep dir, xattrs, big file
	mkdir -p "$LIB_TMP/$name.src/d1/d2/d3/d4"
	ln -s "$(printf 'L%.0s' {1..100})" "$LIB_TMP/$name.src/d1/slow"
	head -c 300000 /dev/urandom >"$LIB_TMP/$name.src/d1/d2/big"
	truncate -s 20M "$LIB_TMP/$name.src/d1/d2/d3/sparse"
	setfattr -n trusted.x -v "$(printf 'v%.0s' {1..200})" "$LIB_TMP/$name.src/d1"
	mke2fs -q -F -I 256 "$@" -d "$LIB_TMP/$name.src" "$LIB_TMP/$name.img" \
		"$size" >/dev/null
	fsck_clean "$LIB_TMP/$name.img"
	python3 "$LIB_DIR/corrupt.py" map "$LIB_TMP/$name.img" \
		"$LIB_TMP/$name.src" >"$LIB_TMP/$name.map"
	bases+=(--base "$LIB_TMP/$name.img:$LIB_TMP/$name.map")
}
mkbase ext2 11 8M -t ext2 -b 1024
mkbase ext4 12 16M -t ext4 -b 4096
mkbase ext4nocsum 13 8M -t ext4 -b 1024 -O ^metadata_csum,^has_journal

rc=0
timeout -k 10 $((DEADLINE + 120)) python3 "$LIB_DIR/corrupt.py" run \
	--uvfsd "$UVFSD" --target "$TARGET" --work "$work" "${bases[@]}" \
	--n "$N" --seed0 "$SEED0" --jobs "$JOBS" --deadline "$DEADLINE" ||
	rc=$?
if ((rc == 0)); then
	echo "PASS: $N mutants, no crash, no hang"
else
	echo "FAIL (status $rc)"
fi
exit $rc
