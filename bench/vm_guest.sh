#!/bin/bash
# SPDX-License-Identifier: MIT
# Guest half of bench/run.sh, run inside the VM by scripts/vm/vm-run.sh:
# loads uvfs.ko (/root/uvfs.ko), reads the sizes and configurations from
# /root/bench.conf and runs /root/workloads.sh on the guest's tmpfs.  Its
# records ("BENCH|..." lines) reach the host on the console.  fuse, loop
# and ext4 are loaded at boot; uvfsd, uvfs, the backends, uvfs-opbench,
# fio, fuse2fs and GNU tar/find/du/dd/cat/rm are copied in.
# Exit status: workloads.sh's (0 when every run gave its numbers).
set -u
export UVFS_BACKEND_PATH=/root/backends
# shellcheck source=/dev/null
. /root/bench.conf

configs=""
kmod=1
if ! insmod /root/uvfs.ko; then
	echo "BENCH|error|vm|uvfs.ko|-|-|insmod uvfs.ko failed"
	kmod=0
fi
for cfg in $BENCH_CONFIGS; do
	# without the module the kmod configurations have nothing to run on;
	# the error above says why their numbers are missing
	[[ $cfg == *-kmod && $kmod == 0 ]] && continue
	if [[ $cfg == fuse2fs ]] && ! command -v fuse2fs >/dev/null; then
		echo "BENCH|error|vm|fuse2fs|-|-|fuse2fs not in the guest"
		continue
	fi
	configs="$configs $cfg"
done
BENCH_CONFIGS=$configs BENCH_ENV=vm BENCH_DIR=/tmp/bench \
	bash /root/workloads.sh
rc=$?
((kmod)) && { rmmod uvfs || rc=1; }
((kmod)) || rc=1
exit $rc
