#!/bin/bash
# tests/vm/journal/run.sh BUILD_DIR - journals written by the kernel,
# replayed by uvfs, e2fsck and the kernel (issue 12, part 1).
#
# In the VM (Debian's 6.1 kernel under QEMU, uvfs.ko built from the tree):
# for ext3 and ext4 (metadata_csum), a file image served as /dev/uvbd0 by
# `uvfsd --bdev file`, mke2fs, mounted by the kernel's ext4 driver with
# commit=1, a workload of creates, writes, renames, links, unlinks and a
# file unlinked while held open, and then kill -9 of the block daemon in
# the middle of it: the image is left exactly as a power cut would leave
# a disk, needing recovery.  Three copies are replayed: by a read-write
# uvfsd ext2 mount (over uvfs.ko), by e2fsck -fy, and by the kernel (ext4
# mounted on another uvbd device).  All three must be e2fsck -fn clean,
# no longer need recovery, and show identical trees (compare.py).  The
# harness fails the run on any Oops/WARN/BUG/hang in the guest's log.
#
# BUILD_DIR is a CMake build of this tree.  Exit status: 0 pass, 1 fail,
# 77 skipped (no qemu / VM kernel).  UVFS_VM_TIMEOUT (default 400).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/vm/lib.sh
. "$HERE/../../../scripts/vm/lib.sh"
vm_init vm-journal BUILD_DIR "$@"
vm_need_qemu
vm_need_files "$BUILD/bin/uvfsd" "$BUILD/backends/uvfs-ext2.so" \
	"$BUILD/backends/uvfs-blk-file.so" "$BUILD/lib/libuvfs.so.0"

KO=$(vm_build_uvfs_ko)
vm_log "built $KO"
args=(--timeout "${UVFS_VM_TIMEOUT:-400}"
	--python
	--module ext4
	--ko "$KO"
	# the kernel's ext4 reports the I/O errors of the killed device
	--ignore-kmsg 'EXT4-fs|JBD2|Buffer I/O error|I/O error, dev uvbd|lost (async )?page write'
	--bin "$(command -v cp):/usr/local/bin/gnu-cp"
	--bin "/bin/dd:/usr/bin/gdd"
	--file "$TOP/tests/ext2/compare.py:/root/ext2/compare.py"
	--script "$HERE/guest.sh")
vm_add_uvfs args "$BUILD"
vm_launch "${args[@]}"
vm_result
