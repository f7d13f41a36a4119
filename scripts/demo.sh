#!/usr/bin/env bash
# The main job: build uvfs, mount a filesystem with uvfsd, use it, unmount.
# With the ext2 backend built, it makes a small ext2 image from a sample
# tree, mounts it, lists and writes to it, unmounts, and checks it with
# e2fsck; it always also shows an in-memory memfs mount.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=$top/build
if [[ $(id -u) -ne 0 ]]; then
	echo "demo: run as root (it mounts filesystems)" >&2
	exit 2
fi
"$top/scripts/deps.sh"
"$top/scripts/build.sh" "$build"
export UVFS_BACKEND_PATH=$build/backends
uvfsd=$build/bin/uvfsd
# shellcheck source=tests/lib.sh
. "$top/tests/lib.sh"
scratch_mnt demo

# Unmount and wait until uvfsd has flushed and exited.
unmount() { run "$build/bin/uvfs" umount "$mnt"; }

run() { echo "\$ $*"; "$@"; }

echo "== uvfsd $("$uvfsd" --version | cut -d' ' -f2-); backends: $("$uvfsd" --list-backends | tr '\n' ' ')"
echo "== memfs: an in-memory filesystem"
run "$uvfsd" memfs none "$mnt"
run mkdir "$mnt/docs"
echo "hello from uvfs" >"$mnt/docs/hello.txt"
run ln -s docs/hello.txt "$mnt/link"
run setfattr -n user.colour -v blue "$mnt/docs/hello.txt"
run ls -la "$mnt" "$mnt/docs"
run cat "$mnt/link"
run getfattr -d "$mnt/docs/hello.txt"
run df -h "$mnt"
grep " $mnt " /proc/mounts
unmount

if "$uvfsd" --list-backends | grep -qx ext2; then
	echo "== ext2: an image made from a sample tree"
	mkdir -p "$tmp/src/etc" "$tmp/src/bin"
	cp /etc/hostname /etc/os-release "$tmp/src/etc/"
	seq 1 100000 >"$tmp/src/numbers.txt"
	ln -s ../numbers.txt "$tmp/src/bin/numbers"
	run mke2fs -q -F -t ext2 -d "$tmp/src" "$tmp/disk.img" 32M
	run "$uvfsd" ext2 "$tmp/disk.img" "$mnt"
	run ls -lR "$mnt"
	run wc -l "$mnt/bin/numbers"
	echo "written through uvfs" >"$mnt/new.txt"
	run mkdir "$mnt/newdir"
	run cp "$mnt/numbers.txt" "$mnt/newdir/copy.txt"
	run cmp "$mnt/numbers.txt" "$mnt/newdir/copy.txt"
	run df -h "$mnt"
	unmount
	run e2fsck -fn "$tmp/disk.img"
fi
echo "== demo done"
