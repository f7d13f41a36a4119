#!/bin/bash
# tests/vm/kmod/run.sh BUILD_DIR - build uvfs.ko and test it in the VM.
#
# Builds kmod/ against the VM kernel's headers (scripts/vm/build-kmod.sh,
# warnings fatal), boots the VM (scripts/vm/vm-run.sh) with uvfsd,
# libuvfs, the memfs backend, the POSIX suite and uvfs.ko, and runs
# guest.sh: insmod, mount through uvfsd --transport=kmod, smoke tests, the
# POSIX suite, umount (synchronous DESTROY), daemon death (-ENOTCONN, no
# hang, umount works), SIGTERM, the misbehaving daemon of chan_test.c
# (reply validation, ENOSYS memory, killable waits, abort), kill -9 of a
# daemon with 4 readers blocked in READ (uvfs-chan-test --stall), 10,000
# malformed replies from a seed (uvfs-chan-test --fuzz; UVFS_FUZZ_SEED,
# default 1), the POSIX suite over kmod and FUSE with memfs and ext2/ext4
# images (e2fsck -fn right after unmount; "compare:" lines with timings),
# the block device /dev/uvbdN against its own daemon (uvfs-bdev-test:
# argument checks, I/O split at the slot size, FLUSH/FUA/WRITE_ZEROES,
# bad replies, kill -9 with a read in flight, removal), rmmod.  The VM
# harness fails the run on any Oops/WARN/BUG/hang in the guest's kernel
# log.
#
# BUILD_DIR is a CMake build of this tree (bin/uvfsd, backends/, lib/).
# Exit status: 0 pass, 1 fail, 77 skipped (no qemu / VM kernel).
# Environment: UVFS_VM_TIMEOUT (default 500), UVFS_VM_ARGS (extra vm-run.sh
# arguments, e.g. "--verbose").
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/vm/lib.sh
. "$HERE/../../../scripts/vm/lib.sh"
vm_init vm-kmod BUILD_DIR "$@"
vm_need_qemu

suite=$BUILD/tests/posix/uvfs-posix-suite
[[ -x "$suite" ]] || suite=$BUILD/bin/uvfs-posix-suite
vm_need_files "$BUILD/bin/uvfsd" "$BUILD/backends/uvfs-memfs.so" "$suite"

KO=$(vm_build_uvfs_ko)
vm_log "built $KO"
# the misbehaving daemon (chan_test.c): plain cc, it only needs proto.h
${CC:-cc} -O2 -Wall -Wextra -Werror -D_GNU_SOURCE -I"$TOP/include" \
	-o "$OUT/uvfs-chan-test" "$HERE/chan_test.c" || {
	echo "FAIL: building chan_test.c failed" >&2
	exit 1
}
# the block device against a daemon of its own (bdev_test.c)
${CC:-cc} -O2 -Wall -Wextra -Werror -D_GNU_SOURCE -I"$TOP/include" \
	-o "$OUT/uvfs-bdev-test" "$HERE/bdev_test.c" || {
	echo "FAIL: building bdev_test.c failed" >&2
	exit 1
}

args=(--timeout "${UVFS_VM_TIMEOUT:-500}"
	--module fuse
	--append "uvfs_fuzz_seed=${UVFS_FUZZ_SEED:-1}"
	--bin "$suite:/usr/bin/uvfs-posix-suite"
	--bin "/bin/dd:/usr/bin/gdd"
	--bin "$OUT/uvfs-chan-test:/usr/bin/uvfs-chan-test"
	--bin "$OUT/uvfs-bdev-test:/usr/bin/uvfs-bdev-test"
	--file "$KO:/root/uvfs.ko"
	--script "$HERE/guest.sh")
vm_add_uvfs args "$BUILD"
vm_launch "${args[@]}"
vm_result
