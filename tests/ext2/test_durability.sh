#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# fsync over FUSE is durable: what was fsync'ed is in the image even when
# uvfsd is then killed with SIGKILL (no flush, no unmount).
#
# usage: tests/ext2/test_durability.sh BUILD
# env:   TYPES="ext2 ext4"   image types (ext2: 1 KiB blocks)
#        KEEP_TMP=1          keep the images
#
# For each type: an image with d/a and d/keep, mounted rw by uvfsd over
# FUSE.  In d: a new file of 300 KiB seeded bytes, fchmod 0604, rename
# a -> b, mkdir sub; fsync of the file and of d; then SIGKILL of uvfsd
# while both are still open (a release would flush by itself), and a lazy
# unmount of the dead mount.  Offline, with debugfs: e2fsck -fn is clean,
# d holds exactly . .. b keep new sub, new has mode 0604 and the bytes
# written.  Then uvfsd -o ro must show the same.
#
# The converse runs too, reported as "info" lines and not counted: the
# same without the two fsyncs, so that the log shows what the offline
# checks see when nothing was synced (they must be able to fail).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
lib_init "${1:?usage: $0 BUILD}" durable
TYPES=${TYPES:-ext2 ext4}
mnt=$LIB_TMP/mnt
expect=$LIB_TMP/expect
want_names="b keep new sub"

uvfs_has_ext2 || log "warning: $UVFSD has no ext2 backend"

# the 300 KiB the test writes, also kept for comparing
python3 -c 'import random, sys
sys.stdout.buffer.write(random.Random(7).randbytes(300 * 1024))' >"$expect"

# ops MNT PID SYNC: the changes; SYNC=1 fsyncs; then SIGKILL of PID
ops() {
	python3 - "$@" "$expect" <<'EOF'
import os, signal, sys, time
mnt, pid, sync, expect = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
d = os.path.join(mnt, "d")
data = open(expect, "rb").read()
fd = os.open(os.path.join(d, "new"), os.O_WRONLY | os.O_CREAT | os.O_EXCL,
             0o644)
off = 0
while off < len(data):
    off += os.write(fd, data[off:off + 100000])
os.fchmod(fd, 0o604)
os.rename(os.path.join(d, "a"), os.path.join(d, "b"))
os.mkdir(os.path.join(d, "sub"))
dfd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
if sync == "1":
    os.fsync(fd)
    os.fsync(dfd)
# kill with fd and dfd open: no RELEASE reaches the daemon first
os.kill(pid, signal.SIGKILL)
for _ in range(200):
    try:        # gone, or a zombie: its fds, /dev/fuse too, are closed
        with open("/proc/%d/stat" % pid) as f:
            if f.read().split(") ")[1][0] == "Z":
                break
    except (FileNotFoundError, ProcessLookupError):
        break   # reaped, or (ESRCH) being torn down as we read
    time.sleep(0.05)
os._exit(0)     # no close(): the mount is dead
EOF
}

# offline IMG: what debugfs sees; prints each difference, fails if any
offline() {
	local img=$1 bad=0 out names mode
	if ! out=$(e2fsck -fn "$img" 2>&1); then
		echo "e2fsck -fn: $(grep -cE '\? no$' <<<"$out") problems," \
			"first: $(grep -vx 'Fix? no' <<<"$out" |
				grep -m1 -E '.. no$|differences')"
		bad=1
	fi
	out=$(debugfs -R 'ls -p /d' "$img" 2>/dev/null)
	names=$(awk -F/ '$6 != "." && $6 != ".." && $6 != "" { print $6 }' \
		<<<"$out" | LC_ALL=C sort | xargs)
	[[ $names == "$want_names" ]] ||
		{ echo "d holds '$names', want '$want_names'"; bad=1; }
	mode=$(awk -F/ '$6 == "new" { print $3 }' <<<"$out")
	[[ $mode == 100604 ]] || { echo "d/new mode '$mode', want 100604"; bad=1; }
	[[ $(awk -F/ '$6 == "sub" { print $3 }' <<<"$out") == 040* ]] ||
		{ echo "d/sub is not a directory"; bad=1; }
	rm -f "$LIB_TMP/new.out"
	debugfs -R "dump /d/new $LIB_TMP/new.out" "$img" >/dev/null 2>&1
	if [[ ! -f $LIB_TMP/new.out ]]; then
		echo "d/new: cannot dump"
		bad=1
	elif ! cmp -s "$expect" "$LIB_TMP/new.out"; then
		echo "d/new: $(stat -c %s "$LIB_TMP/new.out") bytes, not the" \
			"$(stat -c %s "$expect") written"
		bad=1
	fi
	return $bad
}

# through_uvfs IMG: the same view through uvfsd -o ro after the crash
through_uvfs() {
	local img=$1 rc=0 names
	fs_mount uvfs "$img" "$mnt" ro || return 1
	names=$(names_in "$mnt/d")
	[[ $names == "$want_names" ]] || { echo "d: '$names'"; rc=1; }
	[[ $(stat -c %a "$mnt/d/new") == 604 ]] || { echo "mode"; rc=1; }
	cmp "$expect" "$mnt/d/new" || rc=1
	[[ -d $mnt/d/sub ]] || { echo "no d/sub"; rc=1; }
	fs_umount "$mnt" || rc=1
	return $rc
}

# crash T SYNC: fresh image, the changes, SIGKILL; leaves $img
crash() {
	local t=$1 sync=$2 bs=4096
	[[ $t == ext2 ]] && bs=1024
	img=$LIB_TMP/$t.img
	# a mount point per run: a dead mount left by one cannot stop the next
	mnt=$LIB_TMP/mnt-$t-$sync
	rm -rf "$LIB_TMP/src"
	mkdir -p "$LIB_TMP/src/d"
	echo a >"$LIB_TMP/src/d/a"
	echo keep >"$LIB_TMP/src/d/keep"
	mke2fs -q -F -t "$t" -b $bs -d "$LIB_TMP/src" "$img" 64M
	fs_mount uvfs "$img" "$mnt" rw || return 1
	ops "$mnt" "${LIB_PID[$mnt]}" "$sync" || return 1
	fs_kill "$mnt"
}

for t in $TYPES; do
	log "== $t"
	if ! crash "$t" 1 >"$LIB_TMP/out" 2>&1; then
		bad "$t: fsync, SIGKILL" \
			"$(grep -v ' Killed ' "$LIB_TMP/out" | tail -n 3 | xargs)"
		continue
	fi
	check "$t: fsync, SIGKILL: offline (e2fsck -fn, debugfs)" offline "$img"
	check "$t: fsync, SIGKILL: uvfsd -o ro sees the changes" \
		through_uvfs "$img"

	# the converse: not counted, it only shows what the checks can see
	if crash "$t" 0 >"$LIB_TMP/out" 2>&1; then
		if offline "$img" >"$LIB_TMP/out" 2>&1; then
			echo "info $t: without fsync: nothing lost this time"
		else
			sed "s/^/info $t: without fsync: /" "$LIB_TMP/out"
		fi
	else
		echo "info $t: without fsync: the run failed:" \
			"$(grep -v ' Killed ' "$LIB_TMP/out" | tail -n 2 | xargs)"
	fi
done
summary
