#!/bin/bash
# tests/vm/bdev/run.sh BUILD_DIR [--quick] - the uvfs block device in the VM.
#
# Builds uvfs.ko against the VM kernel's headers (warnings fatal) and
# uvfs-blkverify (blkverify.c, plain cc like chan_test.c), boots the VM
# once with uvfsd, libuvfs, the backends, the POSIX suite, fio, GNU dd,
# losetup, python3 with tests/ext2/treegen.py and compare.py, and runs
# guest.sh: kernel ext2 on /dev/uvbdN over an image file (POSIX suite, a
# treegen tree, e2fsck -fn), the same image through uvfsd ext2 compared
# with the kernel's reading of it, a seeded verified I/O stream on the raw
# device (file backend: the image equals the model after removal; mem
# backend with 4 KiB blocks), kill -9 of the daemon with 5 tasks blocked,
# fio verify=crc32c over the whole device, kernel ext4 under the POSIX
# suite, bad input.  The VM harness fails the run on any Oops, WARN, BUG
# or hang in the guest's kernel log.
#
# BUILD_DIR is a CMake build of this tree (bin/uvfsd, backends/, lib/).
# Exit status: 0 pass, 1 fail, 77 skipped (no qemu / VM kernel).
# Environment:
#   UVFS_QUICK=1 or --quick  32 MiB images, 300 blkverify ops (default:
#                      64 MiB, 1500 ops); ~3 min instead of ~5 on an idle
#                      2-core host
#   UVFS_BDEV_MB       image / device size in MiB
#   UVFS_BDEV_OPS      uvfs-blkverify operations per run
#   UVFS_BDEV_SEED     blkverify's seed (default 1; the mem run uses +1)
#   UVFS_BDEV_STANDIN=loop  run on the kernel's loop device instead (a
#                      check of the harness itself; d and f are not run)
#   UVFS_VM_TIMEOUT    VM limit in s (default 600)
#   UVFS_VM_ARGS       extra vm-run.sh arguments (e.g. "--verbose")
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/vm/lib.sh
. "$HERE/../../../scripts/vm/lib.sh"
quick=${UVFS_QUICK:-0}
args_in=()
for a in "$@"; do
	case $a in
	--quick) quick=1 ;;
	*) args_in+=("$a") ;;
	esac
done
vm_init vm-bdev "BUILD_DIR [--quick]" "${args_in[@]+"${args_in[@]}"}"
vm_need_qemu

if [[ $quick == 1 ]]; then MB=${UVFS_BDEV_MB:-32} OPS=${UVFS_BDEV_OPS:-300}
else MB=${UVFS_BDEV_MB:-64} OPS=${UVFS_BDEV_OPS:-1500}; fi
SEED=${UVFS_BDEV_SEED:-1}
TIMEOUT=${UVFS_VM_TIMEOUT:-600}
vm_whole_numbers UVFS_BDEV_ MB OPS SEED
vm_whole_numbers UVFS_VM_ TIMEOUT
((MB >= 16 && MB <= 256)) || vm_die "UVFS_BDEV_MB=$MB: 16..256 (the guest's tmpfs holds the images)"
standin=0
case ${UVFS_BDEV_STANDIN:-} in
'') ;;
loop) standin=1 ;;
*) vm_die "UVFS_BDEV_STANDIN wants 'loop', not '$UVFS_BDEV_STANDIN'" ;;
esac

suite=$BUILD/tests/posix/uvfs-posix-suite
[[ -x "$suite" ]] || suite=$BUILD/bin/uvfs-posix-suite
vm_need_files "$BUILD/bin/uvfsd" "$BUILD/backends/uvfs-ext2.so" "$suite"
command -v fio >/dev/null || vm_apt_install fio
command -v losetup >/dev/null || vm_apt_install util-linux

KO=$(vm_build_uvfs_ko)
vm_log "built $KO; images of $MB MiB, blkverify seed $SEED, $OPS ops"
${CC:-cc} -O2 -Wall -Wextra -Werror -D_GNU_SOURCE \
	-o "$OUT/uvfs-blkverify" "$HERE/blkverify.c" || {
	echo "FAIL: building blkverify.c failed" >&2
	exit 1
}

args=(--timeout "$TIMEOUT" --mem 1G
	--python
	--module ext4 --module loop
	--ko "$KO"
	--append "uvfs_bdev_mb=$MB uvfs_bdev_ops=$OPS uvfs_bdev_seed=$SEED uvfs_bdev_standin=$standin"
	--bin "$suite:/usr/bin/uvfs-posix-suite"
	--bin "$OUT/uvfs-blkverify:/usr/bin/uvfs-blkverify"
	--bin "$(command -v fio):/usr/bin/fio"
	--bin "$(command -v dd):/usr/bin/gdd"
	--bin "$(command -v losetup):/usr/sbin/losetup"
	--file "$TOP/tests/ext2/treegen.py:/root/ext2/treegen.py"
	--file "$TOP/tests/ext2/compare.py:/root/ext2/compare.py"
	--script "$HERE/guest.sh")
vm_add_uvfs args "$BUILD"
vm_launch "${args[@]}"
vm_result
