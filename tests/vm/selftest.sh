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
TOP=$(cd "$HERE/../.." && pwd)
VM=$TOP/scripts/vm
VM_PROG=vm-selftest
# shellcheck source=scripts/vm/lib.sh
. "$VM/lib.sh"

T0=$(date +%s.%N)
if ! command -v qemu-system-x86_64 >/dev/null 2>&1 || ! vm_pick_kver >/dev/null 2>&1; then
    if [[ $(id -u) -ne 0 ]] && ! sudo -n true 2>/dev/null; then
        echo "SKIP: qemu or a VM kernel with headers missing, and not root to install them"
        exit 77
    fi
fi

OUT=$(mktemp -d "${TMPDIR:-/tmp}/uvfs-vm-selftest.XXXXXX")
trap 'rm -rf "$OUT"' EXIT

KO=$("$VM/build-kmod.sh" --werror "$HERE/hello" "$OUT" 2>"$OUT/build.err") || {
    cat "$OUT/build.err" >&2
    echo "FAIL: building tests/vm/hello failed" >&2
    exit 1
}
vm_log "built $KO"

rc=0
# shellcheck disable=SC2086
"$VM/vm-run.sh" --timeout "${UVFS_VM_TIMEOUT:-600}" \
    --module fuse --module loop --module ext4 --ko "$KO" \
    --script "$HERE/selftest-guest.sh" ${UVFS_VM_ARGS:-} || rc=$?

vm_log "end-to-end time $(awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')s"
if [[ "$rc" == 0 ]]; then echo "vm selftest: PASS"; else echo "vm selftest: FAIL ($rc)"; fi
exit "$rc"
