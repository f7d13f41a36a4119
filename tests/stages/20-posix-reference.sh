#!/usr/bin/env bash
# The POSIX suite checked against the kernel: tmpfs and loop-mounted ext2.
set -euo pipefail
build=$1
suite=$build/bin/uvfs-posix-suite
tmp=$(mktemp -d /tmp/uvfs-ref.XXXXXX)
cleanup() {
	umount "$tmp/tmpfs" "$tmp/ext2" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
mkdir "$tmp/tmpfs" "$tmp/ext2"
mount -t tmpfs none "$tmp/tmpfs"
echo "-- tmpfs"
"$suite" "$tmp/tmpfs"
umount "$tmp/tmpfs"
truncate -s 256M "$tmp/e.img"
mke2fs -q -F -t ext2 "$tmp/e.img"
mount -o loop "$tmp/e.img" "$tmp/ext2"
echo "-- ext2 on loop"
"$suite" "$tmp/ext2"
umount "$tmp/ext2"
e2fsck -fn "$tmp/e.img"
