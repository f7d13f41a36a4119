#!/bin/bash
# tests/vm/stress/run.sh BUILD_DIR - the ext2 out-of-space stress in the VM,
# over the kmod transport and then over FUSE.
#
# Builds kmod/ against the VM kernel's headers, boots the VM
# (scripts/vm/vm-run.sh --python) with uvfs.ko, fuse and loop, uvfsd + the
# ext2 backend, Debian's python3 and tests/ext2/stress.py, and runs
# guest.sh: 4 processes of seeded random ops until ENOSPC on a 64 MiB ext4
# and a 64 MiB ext2 with 1 KiB blocks, per transport; unmount, the daemon
# must exit 0, e2fsck -fn clean.  Any Oops/WARN/BUG/hang in the guest
# fails the run.
#
# Exit status: 0 pass, 1 fail, 77 skipped (no qemu / VM kernel).
# Environment:
#   UVFS_VM_STRESS_SEED  seed (default 1)
#   UVFS_VM_STRESS_SECS  time limit of one stress run in the guest (40)
#   UVFS_VM_TIMEOUT      limit of the whole VM run in s (default 280)
#   UVFS_VM_ARGS         extra vm-run.sh arguments (e.g. "--verbose")
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/vm/lib.sh
. "$HERE/../../../scripts/vm/lib.sh"
vm_init vm-ext2-stress BUILD_DIR "$@"
vm_need_qemu

SEED=${UVFS_VM_STRESS_SEED:-1}
SECS=${UVFS_VM_STRESS_SECS:-40}
TIMEOUT=${UVFS_VM_TIMEOUT:-280}
vm_whole_numbers UVFS_VM_STRESS_ SEED SECS
vm_whole_numbers UVFS_VM_ TIMEOUT
vm_need_files "$BUILD/bin/uvfsd" "$BUILD/bin/uvfs" \
	"$BUILD/backends/uvfs-ext2.so" "$BUILD/lib/libuvfs.so.0"

KO=$(vm_build_uvfs_ko)
vm_log "built $KO; seed $SEED, $SECS s per run, VM timeout $TIMEOUT s"

args=(--timeout "$TIMEOUT"
	--python
	--module fuse --module loop
	--ko "$KO"
	--append "uvfs_stress_seed=$SEED uvfs_stress_secs=$SECS"
	--file "$TOP/tests/ext2/stress.py:/root/ext2/stress.py"
	--script "$HERE/guest.sh")
vm_add_uvfs args "$BUILD"
vm_launch "${args[@]}"
vm_result
