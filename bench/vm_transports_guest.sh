#!/bin/sh
# SPDX-License-Identifier: MIT
# Guest half of bench/bench_vm_transports.sh; runs inside the VM (busybox
# ash).  Files: /root/uvfs.ko, /root/backends/*.so, uvfsd, uvfs,
# uvfs-metabench and coreutils dd (gdd) in /usr/bin; fuse, loop and ext4
# (with crc32c_generic, crc16, mbcache, jbd2) loaded at boot.
#
# Configurations, one after the other on /mnt:
#   memfs.kmod   uvfsd --transport=kmod memfs
#   memfs.fuse   uvfsd --transport=fuse memfs
#   ext2.kmod    uvfsd --transport=kmod ext2 on a fresh 512 MiB image
#   ext2.fuse    uvfsd --transport=fuse ext2 on a fresh 512 MiB image
#   ext2.kernel  the guest kernel's ext2 (ext4.ko) on a loop device
# (images: mke2fs -t ext2 -I 256 in the guest's tmpfs /tmp).  Phases:
#   write   gdd if=/dev/zero bs=1M count=SIZE_MB conv=fsync
#   read    sync, drop caches, gdd of=/dev/null bs=1M
#   create/stat/unlink  NFILES empty files in one directory (metabench)
# SIZE_MB and NFILES come from the kernel command line
# (uvfs_bench_size_mb=N uvfs_bench_nfiles=N).  The table is printed with
# every line prefixed by "BENCH|" for the host to grep out.
# Exit status: 0 when every configuration ran, 1 otherwise.
. /root/guest-lib.sh	# tests/vm/guest-lib.sh: karg, now, elapsed, wait_mounted
MNT=/mnt
RES=/tmp/bench.res
export UVFS_BACKEND_PATH=/root/backends

SIZE_MB=$(karg uvfs_bench_size_mb)
SIZE_MB=${SIZE_MB:-64}
NFILES=$(karg uvfs_bench_nfiles)
NFILES=${NFILES:-2000}

drop_caches() { sync; echo 3 >/proc/sys/vm/drop_caches; }
say() { echo "vm-bench: $*"; }
# result CONFIG PHASE SECONDS
result() { echo "$1 $2 $3" >>"$RES"; say "$1 $2 $3 s"; }

# mount_cfg CONFIG: mount it on $MNT (sets UVFSD, IMG)
mount_cfg() {
	cfg=$1 fs=${1%.*} tr=${1#*.}
	UVFSD="" IMG=none
	if [ "$fs" = ext2 ]; then
		IMG=/tmp/bench.img
		rm -f "$IMG"
		/sbin/mke2fs -q -F -t ext2 -I 256 "$IMG" 512M || return 1
	fi
	if [ "$tr" = kernel ]; then
		mount -t ext2 -o loop "$IMG" $MNT || return 1
		return 0
	fi
	uvfsd --transport="$tr" -f -o default_permissions,allow_other \
		"$fs" "$IMG" $MNT >"/tmp/uvfsd-$cfg.log" 2>&1 &
	UVFSD=$!
	wait_mounted $MNT "$UVFSD" "" 200 && return 0
	sed 's/^/  | /' "/tmp/uvfsd-$cfg.log"
	kill "$UVFSD" 2>/dev/null; wait "$UVFSD"
	UVFSD=""
	return 1
}

# umount_cfg CONFIG: unmount, wait for the daemon, drop the image
umount_cfg() {
	tr=${1#*.} rc=0
	case $tr in
		kernel) umount -d $MNT || rc=1 ;;
		kmod)   umount $MNT || rc=1 ;;
		fuse)   uvfs umount $MNT || rc=1 ;;
	esac
	if [ -n "$UVFSD" ]; then
		wait "$UVFSD" || { say "$1: uvfsd exited $?"; rc=1; }
		[ $rc = 0 ] || sed 's/^/  | /' "/tmp/uvfsd-$1.log" | tail -20
	fi
	if [ "$IMG" != none ] && [ $rc = 0 ]; then
		/sbin/e2fsck -fn "$IMG" >/tmp/fsck.out 2>&1 ||
			{ say "warning: $1: e2fsck -fn not clean"; tail -20 /tmp/fsck.out; }
	fi
	[ "$IMG" = none ] || rm -f "$IMG"
	return $rc
}

# bench_cfg CONFIG: all phases; a failed phase stops the configuration
bench_cfg() {
	cfg=$1
	say "== $cfg"
	mount_cfg "$cfg" || { say "$cfg: mount failed"; return 1; }
	grep " $MNT " /proc/mounts
	t0=$(now)
	gdd if=/dev/zero of=$MNT/big bs=1M count="$SIZE_MB" conv=fsync status=none ||
		{ umount_cfg "$cfg"; return 1; }
	t1=$(now)
	result "$cfg" write "$(elapsed "$t0" "$t1")"
	drop_caches
	t0=$(now)
	gdd if=$MNT/big of=/dev/null bs=1M status=none || { umount_cfg "$cfg"; return 1; }
	t1=$(now)
	result "$cfg" read "$(elapsed "$t0" "$t1")"
	if ! rm -f $MNT/big || ! mkdir $MNT/meta; then umount_cfg "$cfg"; return 1; fi
	if ! uvfs-metabench $MNT/meta "$NFILES" >/tmp/meta.out 2>&1; then
		cat /tmp/meta.out; umount_cfg "$cfg"; return 1
	fi
	while read -r ph secs; do result "$cfg" "$ph" "$secs"; done </tmp/meta.out
	rmdir $MNT/meta
	umount_cfg "$cfg"
}

: >"$RES"
errors=0
T0=$(now)
if ! insmod /root/uvfs.ko; then
	say "insmod uvfs.ko failed"; errors=$((errors + 1))
fi
CFGS="memfs.kmod memfs.fuse ext2.kmod ext2.fuse ext2.kernel"
for cfg in $CFGS; do
	case $cfg in *.kmod) [ -c /dev/uvfs ] || { errors=$((errors + 1)); continue; } ;; esac
	bench_cfg "$cfg" || { say "$cfg: failed to run"; errors=$((errors + 1)); }
done
T1=$(now)

# the table: phase rows, configuration columns, then the ratios
# fuse/kmod (memfs, ext2) and kmod/kernel (ext2)
awk -v size="$SIZE_MB" -v nfiles="$NFILES" -v cfgs="$CFGS" '
	{ t[$1 "," $2] = $3 }
	function f(v) { return v == "" ? "-" : sprintf("%.3f", v) }
	function r(a, b) { return (a == "" || b == "" || b + 0 == 0) ? "-" : sprintf("%.2f", a / b) }
	END {
		n = split(cfgs, c, " ")
		printf "BENCH|\n"
		printf "BENCH|uvfs in the VM (TCG), %s MiB sequential, %s files; seconds (lower is better)\n", size, nfiles
		printf "BENCH|%-12s", "phase"
		for (i = 1; i <= n; i++) printf " %11s", c[i]
		printf "  | ratio %10s %10s %11s\n", "memfs f/k", "ext2 f/k", "ext2 k/kern"
		split("write read create stat unlink", ph, " ")
		for (p = 1; p <= 5; p++) {
			label = ph[p]
			if (label == "write") label = "write+fsync"
			if (label == "read") label = "read (cold)"
			printf "BENCH|%-12s", label
			for (i = 1; i <= n; i++) printf " %11s", f(t[c[i] "," ph[p]])
			printf "  |       %10s %10s %11s\n", \
				r(t["memfs.fuse," ph[p]], t["memfs.kmod," ph[p]]), \
				r(t["ext2.fuse," ph[p]], t["ext2.kmod," ph[p]]), \
				r(t["ext2.kmod," ph[p]], t["ext2.kernel," ph[p]])
		}
		printf "BENCH|MiB/s:"
		for (i = 1; i <= n; i++) {
			w = t[c[i] ",write"]; rd = t[c[i] ",read"]
			if (w == "" || rd == "" || w + 0 == 0 || rd + 0 == 0) continue
			printf " %s %.0f/%.0f;", c[i], size / w, size / rd
		}
		printf " (write/read)\n"
	}' "$RES"
echo "BENCH|guest time $(elapsed "$T0" "$T1") s; $errors configuration(s) failed to run"
rmmod uvfs 2>/dev/null
[ "$errors" -eq 0 ]
