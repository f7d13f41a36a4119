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
# tmpfs has no FALLOC_FL_ZERO_RANGE (shmem_fallocate refuses it).
echo "-- tmpfs (fallocate: prealloc,punch)"
"$suite" -F prealloc,punch "$tmp/tmpfs"
umount "$tmp/tmpfs"
truncate -s 256M "$tmp/e.img"
mke2fs -q -F -t ext2 "$tmp/e.img"
mount -o loop "$tmp/e.img" "$tmp/ext2"
# The kernel's ext2 has no fallocate; when the ext4 driver serves ext2
# instead (no CONFIG_EXT2_FS), block-mapped files can have holes punched
# but nothing preallocated. Say which, so the suite expects exactly that.
dev=$(findmnt -no SOURCE "$tmp/ext2")
if [[ -d /sys/fs/ext4/${dev##*/} ]]; then
	driver=ext4 falloc=punch
else
	driver=ext2 falloc=none
fi
echo "-- ext2 on loop ($driver driver, fallocate: $falloc)"
"$suite" -F "$falloc" "$tmp/ext2"
umount "$tmp/ext2"
e2fsck -fn "$tmp/e.img"
