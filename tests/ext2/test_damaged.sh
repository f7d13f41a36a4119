#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# One damaged object in a good image fails alone: uvfsd reports EIO or
# EUCLEAN for it and serves the rest, reads and writes.
#
# usage: tests/ext2/test_damaged.sh BUILD
#   BUILD should be a -DUVFS_SANITIZE=ON build (ASan+UBSan); any build works.
# env:   TYPES="ext2 ext4"   ext2: 1 KiB blocks; ext4: 4 KiB, metadata_csum
#        KEEP_TMP=1          keep the images and daemon logs
#
# The tree: bad/ (20 files), good/ (100 KiB file, sub/x), other/h,
# victim (5000 bytes), a/b/c/f.  Three copies of its image, each with one
# damage:
#   dir    bad/'s only block overwritten with seeded garbage (dd)
#   inode  victim's block pointer set past the end of the filesystem
#          (debugfs sif: ext2 block[0]; ext4 the first extent's start)
#   loop   a hard link to /a as /a/b/loop (links_count fixed up), a
#          directory inside its own subtree
# For each: `uvfsd -o ro --transport=direct` walks the image in-process
# and must report exactly the damaged object; then a rw FUSE mount: the
# damaged object fails with EIO or EUCLEAN (loop: find and ls -R end, and
# whatever they print is reported), everything else lists and reads equal
# to the tree, an append to other/h works, uvfsd is still alive, the
# unmount is clean (daemon exit 0, no sanitizer report) and the append is
# in the image.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
lib_init "${1:?usage: $0 BUILD}" damaged
TYPES=${TYPES:-ext2 ext4}
src=$LIB_TMP/src
# a sanitizer report must fail the daemon's exit status, not just print
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:abort_on_error=0:exitcode=23}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
SAN_PAT='ERROR: (AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer)|runtime error:|SUMMARY: [A-Za-z]+Sanitizer'
BAD_ERR='Input/output error|Structure needs cleaning'

uvfs_has_ext2 || log "warning: $UVFSD has no ext2 backend"

seeded() { # BYTES SEED: seeded pseudo-random bytes on stdout
	python3 -c 'import random, sys
sys.stdout.buffer.write(random.Random(int(sys.argv[2])).randbytes(int(sys.argv[1])))' "$1" "$2"
}

mkdir -p "$src/bad" "$src/good/sub" "$src/other" "$src/a/b/c"
for i in $(seq 1 20); do echo "file $i" >"$src/bad/f$i"; done
seeded 102400 1 >"$src/good/data"
echo x >"$src/good/sub/x"
echo healthy >"$src/other/h"
seeded 5000 2 >"$src/victim"
echo f >"$src/a/b/c/f"

bsize() { dumpe2fs -h "$1" 2>/dev/null | sed -n 's/^Block size: *//p'; }

# damage KIND T IMG
damage() {
	local kind=$1 t=$2 img=$3 bs blk links
	bs=$(bsize "$img")
	case $kind in
	dir)
		blk=$(debugfs -R 'bmap /bad 0' "$img" 2>/dev/null)
		[[ $blk =~ ^[0-9]+$ && $blk -gt 0 ]] || { echo "bmap: $blk"; return 1; }
		seeded "$bs" 3 | dd of="$img" bs="$bs" seek="$blk" conv=notrunc \
			status=none
		;;
	inode)
		# ext4: block[0..2] are the extent header, block[5] the
		# first extent's start (low 32 bits)
		local field='block[0]'
		[[ $t == ext4 ]] && field='block[5]'
		debugfs -w -R "sif /victim $field 4000000000" "$img" 2>/dev/null
		debugfs -R 'blocks /victim' "$img" 2>/dev/null |
			grep -q 4000000000 || { echo "sif had no effect"; return 1; }
		;;
	loop)
		links=$(debugfs -R 'stat /a' "$img" 2>/dev/null |
			sed -n 's/^Links: \([0-9]*\).*/\1/p')
		debugfs -w -f - "$img" >/dev/null 2>&1 <<-EOF
			ln /a /a/b/loop
			sif /a links_count $((links + 1))
		EOF
		debugfs -R 'ls -p /a/b' "$img" 2>/dev/null | grep -q '/loop/' ||
			{ echo "no /a/b/loop"; return 1; }
		;;
	esac
}

# direct_walk KIND IMG: the in-process walker reports exactly the damage
direct_walk() {
	local kind=$1 img=$2 rc=0 out want
	out=$LIB_TMP/direct.out
	timeout 60 "$UVFSD" -o ro --transport=direct ext2 "$img" >"$out" 2>&1 ||
		rc=$?
	case $kind in
	dir) want="^error: /bad: (opendir|readdir): ($BAD_ERR)\$" ;;
	inode) want="^error: /victim: (open|read): ($BAD_ERR)\$" ;;
	loop) want='^error: /a/b/loop: directory loop$' ;;
	esac
	grep -E "$SAN_PAT" "$out" && return 1
	((rc == 1)) || { echo "exit $rc, want 1"; tail -n 5 "$out"; return 1; }
	grep '^error' "$out"
	[[ $(grep -c '^error' "$out") == 1 ]] &&
		grep -qE "$want" "$out" && grep -qx '1 errors' "$out" &&
		grep -q ' /good/data$' "$out" && grep -q ' /a/b/c/f$' "$out"
}

# the damaged object through FUSE; sets $seen to what it printed
damaged_fails() { # KIND MNT
	local kind=$1 mnt=$2 rc=0
	case $kind in
	dir) timeout 30 ls "$mnt/bad" >/dev/null 2>"$LIB_TMP/err" || rc=$? ;;
	inode) timeout 30 cat "$mnt/victim" >/dev/null 2>"$LIB_TMP/err" || rc=$? ;;
	loop)
		timeout 60 find "$mnt" >/dev/null 2>"$LIB_TMP/err" || rc=$?
		((rc != 124 && rc != 137)) || { echo "find did not end"; return 1; }
		timeout 60 ls -R "$mnt" >/dev/null 2>>"$LIB_TMP/err" || rc=$?
		((rc != 124 && rc != 137)) || { echo "ls -R did not end"; return 1; }
		echo "find, ls -R: $(sort -u "$LIB_TMP/err" | xargs)"
		return 0
		;;
	esac
	cat "$LIB_TMP/err"
	((rc != 0 && rc != 124 && rc != 137)) || { echo "exit $rc"; return 1; }
	grep -qE "$BAD_ERR" "$LIB_TMP/err"
}

# the rest: listings and contents equal to the tree
rest_intact() { # KIND MNT
	local kind=$1 mnt=$2 e want got
	want=$(names_in "$src")
	got=$(names_in "$mnt" lost+found)
	[[ $got == "$want" ]] || { echo "/: '$got', want '$want'"; return 1; }
	ls -l "$mnt" >/dev/null || return 1
	for e in good other victim a/b/c bad; do
		[[ $kind == dir && $e == bad ]] && continue
		[[ $kind == inode && $e == victim ]] && continue
		timeout 30 diff -r "$src/$e" "$mnt/$e" || { echo "$e differs"; return 1; }
	done
}

append_works() { # MNT
	echo more >>"$1/other/h" || return 1
	[[ $(cat "$1/other/h") == "healthy"$'\n'"more" ]]
}

clean_exit() { # MNT IMG
	local logf
	logf=$(daemon_log "$1")
	daemon_alive "$1" || { echo "uvfsd died"; return 1; }
	fs_umount "$1" || return 1
	! grep -E "$SAN_PAT" "$logf" || return 1
	[[ $(debugfs -R 'cat /other/h' "$2" 2>/dev/null) == \
		"healthy"$'\n'"more" ]] || { echo "append not in the image"; return 1; }
}

for t in $TYPES; do
	base=$LIB_TMP/$t.img
	args=(-q -F -t "$t" -I 256 -d "$src")
	if [[ $t == ext2 ]]; then args+=(-b 1024); else args+=(-b 4096); fi
	mke2fs "${args[@]}" "$base" 16M >/dev/null
	fsck_clean "$base" || die "$t: the base image is not clean"
	for kind in dir inode loop; do
		name="$t $kind"
		img=$LIB_TMP/$t-$kind.img
		mnt=$LIB_TMP/mnt-$t-$kind
		cp "$base" "$img"
		if ! damage "$kind" "$t" "$img" >"$LIB_TMP/out" 2>&1; then
			bad "$name: damage" "$(xargs <"$LIB_TMP/out")"
			continue
		fi
		check "$name: direct walk reports only the damage" \
			direct_walk "$kind" "$img"
		if ! fs_mount uvfs "$img" "$mnt" rw >"$LIB_TMP/out" 2>&1; then
			bad "$name: rw mount" "$(xargs <"$LIB_TMP/out")"
			continue
		fi
		if damaged_fails "$kind" "$mnt" >"$LIB_TMP/out" 2>&1; then
			ok "$name: damaged object fails: $(tail -n 1 "$LIB_TMP/out" |
				sed "s|$mnt|MNT|g")"
		else
			bad "$name: damaged object fails" "$(xargs <"$LIB_TMP/out")"
		fi
		check "$name: the rest lists and reads equal" \
			rest_intact "$kind" "$mnt"
		check "$name: append to a healthy file" append_works "$mnt"
		check "$name: uvfsd alive, clean unmount, append in the image" \
			clean_exit "$mnt" "$img"
	done
done
summary
