#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# uvfs transports in the VM: memfs and ext2 served by uvfsd over uvfs.ko
# (--transport=kmod) and over FUSE, and the guest kernel's own ext2 on a
# loop device, measured in one boot of the qemu (TCG) VM.  Not a test: no
# thresholds; exits nonzero only if something failed to run.
#
# usage: bench/bench_vm_transports.sh BUILD
# env:   SIZE_MB=64   sequential file size;  NFILES=2000   metadata files
#        UVFS_VM_TIMEOUT=600   limit of the VM run in s
#        UVFS_VM_ARGS   extra scripts/vm/vm-run.sh arguments
#
# Builds kmod/ against the VM kernel's headers (scripts/vm/build-kmod.sh),
# boots the VM with uvfs.ko, fuse, loop and ext4 (+ crc32c_generic, crc16,
# mbcache, jbd2), uvfsd, its backends, uvfs-metabench and coreutils dd, and
# runs bench/vm_transports_guest.sh.  Per configuration (memfs.kmod,
# memfs.fuse, ext2.kmod, ext2.fuse, ext2.kernel; ext2 = a fresh 512 MiB
# image, mke2fs -t ext2 -I 256, in the guest's tmpfs):
#   write   dd if=/dev/zero bs=1M count=SIZE_MB conv=fsync
#   read    sync, drop caches, dd of=/dev/null bs=1M
#   create/stat/unlink  NFILES empty files in one directory (metabench)
# The guest prints the table (seconds per phase and configuration, ratios
# fuse/kmod and kmod/kernel) on the console; it is printed again at the
# end, with the wall time, the host's load average and the number of other
# qemu VMs.  TCG timings are noisy, and the host's load shows in them:
# another VM or a build can slow the phases made of daemon round trips
# (create, unlink; kmod and fuse alike) by 10x while the kernel's own
# ext2 hardly changes.  Compare runs made on a quiet host.
# Takes ~2 min on an idle 2-core host with the defaults, ~4 min when
# loaded.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/vm/lib.sh
. "$HERE/../scripts/vm/lib.sh"
vm_init vm-bench BUILD "$@"
SIZE_MB=${SIZE_MB:-64}
NFILES=${NFILES:-2000}
[[ $SIZE_MB =~ ^[1-9][0-9]*$ ]] || vm_die "SIZE_MB=$SIZE_MB: not a number"
[[ $NFILES =~ ^[1-9][0-9]*$ ]] || vm_die "NFILES=$NFILES: not a number"
[[ $SIZE_MB -le 300 ]] || vm_die "SIZE_MB=$SIZE_MB: at most 300 (guest tmpfs)"
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
VMS0=$(pgrep -c qemu-system || true)

vm_need_qemu
metabench=$BUILD/bin/uvfs-metabench
vm_need_files "$BUILD/bin/uvfsd" "$BUILD/bin/uvfs" "$metabench" \
	"$BUILD/backends/uvfs-memfs.so" "$BUILD/backends/uvfs-ext2.so"

KO=$(vm_build_uvfs_ko)
vm_log "built $KO"

args=(--timeout "${UVFS_VM_TIMEOUT:-600}"
	--module fuse --module loop --module ext4
	--append "uvfs_bench_size_mb=$SIZE_MB uvfs_bench_nfiles=$NFILES"
	--bin "$metabench:/usr/bin/uvfs-metabench"
	--bin "/bin/dd:/usr/bin/gdd"
	--file "$KO:/root/uvfs.ko"
	--log "$OUT/console.log"
	--script "$HERE/vm_transports_guest.sh")
vm_add_uvfs args "$BUILD"
vm_launch "${args[@]}"
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)
VMS1=$(pgrep -c qemu-system || true)

echo
sed -n 's/\r$//; s/^BENCH|//p' "$OUT/console.log" 2>/dev/null || true
grep -q '^BENCH|' "$OUT/console.log" 2>/dev/null || echo "(no table: the guest did not get that far)"
printf 'host: %s CPUs, load average %s before, %s after\n' \
	"$(nproc)" "$LOAD0" "$LOAD1"
printf 'other qemu VMs running: %s before, %s after\n' "$VMS0" "$VMS1"
# the wall time, and PASS or "FAIL (exit N)": something failed to run
vm_result
