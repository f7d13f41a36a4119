#!/bin/bash
# tests/vm/selftest.sh - self-test of the VM test harness (scripts/vm/).
#
# Builds tests/vm/hello (an out-of-tree module) against the VM kernel's
# headers, boots the VM with fuse, loop, ext4 and hello.ko and runs
# tests/vm/selftest-guest.sh inside it (module load/unload, ext2 on a loop
# device, e2fsck, /dev/fuse).  Exit status: 0 pass, 1 fail, 77 skipped (no
# VM kernel/qemu and no way to install them).
#
# Environment: UVFS_VM_TIMEOUT (default 600), UVFS_VM_ARGS (extra vm-run.sh
# arguments, e.g. "--verbose").
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/vm/lib.sh
. "$HERE/../../scripts/vm/lib.sh"
vm_init vm-selftest ""
# unlike the other VM tests, it installs what is missing when it may
if ! command -v qemu-system-x86_64 >/dev/null 2>&1 || ! vm_pick_kver >/dev/null 2>&1; then
	if [[ $(id -u) -ne 0 ]] && ! sudo -n true 2>/dev/null; then
		echo "SKIP: qemu or a VM kernel with headers missing, and not root to install them"
		exit 77
	fi
fi

KO=$(vm_build_ko "$HERE/hello")
vm_log "built $KO"

vm_launch --timeout "${UVFS_VM_TIMEOUT:-600}" \
	--module fuse --module loop --module ext4 --ko "$KO" \
	--script "$HERE/selftest-guest.sh"
vm_result
