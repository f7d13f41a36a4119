#!/bin/bash
# SPDX-License-Identifier: MIT
# Guest half of bench/run.sh, run inside the VM by scripts/vm/vm-run.sh:
# loads uvfs.ko (/root/uvfs.ko), reads the sizes and configurations from
# /root/bench.conf and runs /root/workloads.sh on the guest's tmpfs, then
# the block devices' /root/bdev-workloads.sh (bench/bdev/workloads.sh).
# Their records ("BENCH|..." lines) reach the host on the console.  fuse,
# loop, nbd and ext4 are loaded at boot; uvfsd, uvfs, the backends,
# uvfs-opbench, fio, fuse2fs, nbd-server, nbd-client, losetup and GNU
# tar/find/du/dd/cat/rm are copied in.
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
# "bdev" in BENCH_WORKLOADS is bench/bdev/workloads.sh's part; the
# filesystem workloads run when the list is empty or names one of theirs
fs_wls="" bdev=1
if [[ -n ${BENCH_WORKLOADS:-} ]]; then
	bdev=0
	for wl in $BENCH_WORKLOADS; do
		if [[ $wl == bdev ]]; then bdev=1; else fs_wls="$fs_wls $wl"; fi
	done
fi
rc=0
if [[ -z ${BENCH_WORKLOADS:-} || -n $fs_wls ]]; then
	BENCH_WORKLOADS=${fs_wls# } BENCH_CONFIGS=$configs BENCH_ENV=vm \
		BENCH_DIR=/tmp/bench bash /root/workloads.sh || rc=1
fi
# the block devices: uvbd needs the module too
if ((bdev)) && [[ -n ${BENCH_BDEV_CONFIGS:-} ]]; then
	bdev_cfgs=""
	for cfg in $BENCH_BDEV_CONFIGS; do
		if [[ $cfg == uvbd && $kmod == 0 ]]; then
			echo "BENCH|error|bdev|uvbd|-|-|no uvfs.ko"
			continue
		fi
		bdev_cfgs="$bdev_cfgs $cfg"
	done
	BENCH_BDEV_CONFIGS=$bdev_cfgs BENCH_DIR=/tmp/bench \
		bash /root/bdev-workloads.sh || rc=1
fi
((kmod)) && { rmmod uvfs || rc=1; }
((kmod)) || rc=1
exit $rc
