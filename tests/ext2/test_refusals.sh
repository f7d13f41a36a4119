#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Images uvfsd must not write: features that cannot be written or read.
# Over FUSE, as a user runs uvfsd.  (Journals that need recovery are
# replayed: tests/ext2/test_journal.sh.)
#
# usage: tests/ext2/test_refusals.sh BUILD
#
# Features: casefold, verity, encrypt (libext2fs reads them; the backend
# does not write them), replica and an unknown ro_compat bit (libext2fs
# cannot write them), dirdata and an unknown incompat bit (libext2fs
# cannot read them).  Each refusal is one stderr line naming the feature
# as dumpe2fs does, with no hex; -o ro mounts where the feature allows
# reading, and there the tree reads and writes fail with EROFS.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
lib_init "${1:?usage: $0 BUILD}" refusals
mnt=$LIB_TMP/mnt
src=$LIB_TMP/src
mkdir -p "$mnt" "$src/d"
echo hello >"$src/a"
echo world >"$src/d/b"

uvfs_has_ext2 || log "warning: $UVFSD has no ext2 backend"

sum() { sha256sum "$1" | cut -d' ' -f1; }
features() { dumpe2fs -h "$1" 2>/dev/null | sed -n 's/^Filesystem features: *//p'; }

# the log of the daemon mounted on $mnt has at most MAX lines, each
# matching PATTERN
log_lines() { # MAX PATTERN
	local f n
	f=$(daemon_log "$mnt")
	n=$(wc -l <"$f")
	((n <= $1)) || { echo "daemon printed $n lines:"; cat "$f"; return 1; }
	((n == 0)) || grep -qE "$2" "$f" ||
		{ echo "daemon line lacks /$2/: $(cat "$f")"; return 1; }
	cat "$f"
}

# ---- features ----

# feature_img IMG HOW NAME: an ext4 image with feature NAME set by HOW
# (mke2fs, tune2fs or debugfs)
feature_img() {
	local img=$1 how=$2 name=$3 now
	case $how in
	mke2fs) mke2fs -q -F -t ext4 -O "$name" -d "$src" "$img" 16M ;;
	tune2fs)
		mke2fs -q -F -t ext4 -d "$src" "$img" 16M
		tune2fs -O "$name" "$img" >/dev/null
		;;
	debugfs)
		mke2fs -q -F -t ext4 -d "$src" "$img" 16M
		;;
	esac
	# debugfs prints the feature list it leaves (dumpe2fs cannot open
	# an image with an incompat feature it does not know)
	now=$(debugfs -w -R "feature $name" "$img" 2>/dev/null |
		sed -n 's/^Filesystem features: *//p')
	[[ " $now " == *" $name "* ]] || { echo "$name not set: $now"; return 1; }
}

# feature_ro IMG: -o ro mounts, the tree reads, writes fail with EROFS
feature_ro() {
	local rc=0 err
	fs_mount uvfs "$1" "$mnt" ro || return 1
	[[ $(cat "$mnt/a") == hello && $(cat "$mnt/d/b") == world ]] ||
		{ echo "tree: $(ls -R "$mnt")"; rc=1; }
	if err=$(touch "$mnt/new" 2>&1); then
		echo "write allowed"
		rc=1
	elif [[ $err != *"Read-only file system"* ]]; then
		echo "write: $err"
		rc=1
	fi
	fs_umount "$mnt" || rc=1
	log_lines 0 '' || rc=1
	return $rc
}

# refused_named NAME UVFSD-ARGS...: refused with one line that names NAME
# in the quoted list, and no hex
refused_named() {
	local name=$1
	shift
	uvfsd_refuses "'([^' ]+ )*$name( [^' ]+)*'" "$@" || return 1
	# (the temp dir's random name may hold "0x" itself)
	! sed "s|$LIB_TMP||g" "$LIB_TMP/refuse.err" | grep -q 0x ||
		{ echo "hex in the message"; return 1; }
}

# feature NAME HOW READABLE: rw refused naming NAME (and ro too unless
# READABLE), no hex in the message; READABLE: -o ro works
feature() {
	local name=$1 how=$2 readable=$3 img=$LIB_TMP/f-$1.img
	if ! feature_img "$img" "$how" "$name" >"$LIB_TMP/out" 2>&1; then
		bad "$name: fixture" "$(xargs <"$LIB_TMP/out")"
		return
	fi
	check "$name: rw refused, one line naming it" \
		refused_named "$name" ext2 "$img" "$mnt"
	if ((readable)); then
		check "$name: -o ro reads the tree, writes fail" \
			feature_ro "$img"
	else
		check "$name: -o ro refused too, one line naming it" \
			refused_named "$name" -o ro ext2 "$img" "$mnt"
	fi
}

feature casefold mke2fs 1
feature verity tune2fs 1
feature encrypt tune2fs 1
feature replica debugfs 1
feature FEATURE_R20 debugfs 1
feature dirdata debugfs 0
feature FEATURE_I11 debugfs 0
summary
