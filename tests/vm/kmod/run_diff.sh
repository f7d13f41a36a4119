#!/bin/bash
# tests/vm/kmod/run_diff.sh BUILD_DIR - the ext2 differential test in the VM,
# over the kmod transport and over FUSE.
#
# Builds kmod/ against the VM kernel's headers (scripts/vm/build-kmod.sh,
# warnings fatal), boots the VM (scripts/vm/vm-run.sh --python) with
# uvfs.ko, fuse, loop and ext4, uvfsd + the ext2 backend, Debian's python3
# and tests/ext2/{difftest,compare}.py, and runs diff_guest.sh: per seed the
# same random op stream on the guest kernel's ext2 (reference, loop mount)
# and on uvfsd ext2 (--transport=kmod, then --transport=fuse), every result
# and the final trees must agree, both images must be e2fsck -fn clean, and
# read-only kernel mounts of both must compare identical.  "compare:" lines
# give the wall time per transport for the same seeds.  The VM harness
# fails the run on any Oops/WARN/BUG/hang in the guest's kernel log.
#
# BUILD_DIR is a CMake build of this tree (bin/uvfsd, bin/uvfs, backends/,
# lib/).  Exit status: 0 pass, 1 fail, 77 skipped (no qemu / VM kernel).
# Environment:
#   UVFS_VM_DIFF_SEEDS  number of seeds (default 2: seed 1 with 1 KiB
#                       blocks, seed 2 with 4 KiB)
#   UVFS_VM_DIFF_SEED0  first seed (default 1)
#   UVFS_VM_DIFF_OPS    operations per seed (default 2000)
#   UVFS_VM_TIMEOUT     limit of the whole VM run in s (default: 300 +
#                       SEEDS * OPS / 5, i.e. 1100 for the defaults: one
#                       2000-op run takes ~100 s on an idle 2-core host,
#                       twice that when the host is busy)
#   UVFS_VM_ARGS        extra vm-run.sh arguments (e.g. "--verbose")
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/vm/lib.sh
. "$HERE/../../../scripts/vm/lib.sh"
vm_init vm-ext2-diff BUILD_DIR "$@"
vm_need_qemu

SEEDS=${UVFS_VM_DIFF_SEEDS:-2}
SEED0=${UVFS_VM_DIFF_SEED0:-1}
OPS=${UVFS_VM_DIFF_OPS:-2000}
vm_whole_numbers UVFS_VM_DIFF_ SEEDS SEED0 OPS
((SEEDS > 0)) || vm_die "UVFS_VM_DIFF_SEEDS must be > 0"
TIMEOUT=${UVFS_VM_TIMEOUT:-$((300 + SEEDS * OPS / 5))}
vm_whole_numbers UVFS_VM_ TIMEOUT
# one difftest run may take at most this long (a livelock in user space is
# reported with its seed and transport instead of only killing the VM)
RUN_TMO=$((120 + OPS * 3 / 10))
((TIMEOUT == 0 || RUN_TMO < TIMEOUT - 60)) || RUN_TMO=$((TIMEOUT > 120 ? TIMEOUT - 60 : TIMEOUT))

vm_need_files "$BUILD/bin/uvfsd" "$BUILD/bin/uvfs" \
	"$BUILD/backends/uvfs-ext2.so" "$BUILD/lib/libuvfs.so.0"

KO=$(vm_build_uvfs_ko)
vm_log "built $KO; seeds $SEED0..$((SEED0 + SEEDS - 1)), $OPS ops, VM timeout $TIMEOUT s"

args=(--timeout "$TIMEOUT"
	--python
	--module fuse --module loop --module ext4
	--ko "$KO"
	--append "uvfs_diff_seeds=$SEEDS uvfs_diff_seed0=$SEED0 uvfs_diff_ops=$OPS uvfs_diff_tmo=$RUN_TMO"
	# busybox cp cannot make sparse copies of the 128 MiB images
	--bin "$(command -v cp):/usr/local/bin/gnu-cp"
	--file "$TOP/tests/ext2/difftest.py:/root/ext2/difftest.py"
	--file "$TOP/tests/ext2/compare.py:/root/ext2/compare.py"
	--script "$HERE/diff_guest.sh")
vm_add_uvfs args "$BUILD"
vm_launch "${args[@]}"
vm_result
