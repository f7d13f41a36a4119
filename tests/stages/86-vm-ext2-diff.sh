#!/usr/bin/env bash
# The ext2 differential test inside the VM (Debian's 6.1 kernel under QEMU):
# the same seeded 2000-op stream on the guest kernel's ext2 and on uvfsd
# ext2, over the kmod transport and then over FUSE (fuse.ko loaded, same
# seeds, wall time per transport on "compare:" lines); every result and
# the final trees must match, both images must be e2fsck -fn clean and
# compare identical read back by the kernel; any oops, WARN, BUG or hang
# fails the run.  Seeds 1-2 (1 KiB and 4 KiB blocks; ~6 min on an idle
# 2-core host), seed 1 only with --quick (~3.5 min); UVFS_VM_DIFF_SEEDS,
# UVFS_VM_DIFF_SEED0 and UVFS_VM_DIFF_OPS override (tests/vm/kmod/run_diff.sh).
set -euo pipefail
if [[ ${UVFS_QUICK:-0} == 1 ]]; then
	export UVFS_VM_DIFF_SEEDS=${UVFS_VM_DIFF_SEEDS:-1}
fi
exec bash "$(dirname "$0")/../vm/kmod/run_diff.sh" "$1"
