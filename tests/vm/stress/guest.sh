#!/bin/sh
# Guest half of tests/vm/stress/run.sh; runs inside the VM (busybox ash).
# Per transport (kmod, then fuse) and image (64 MiB ext4; 64 MiB ext2 with
# 1 KiB blocks): stress.py with 4 processes until ENOSPC, unmount (kmod:
# umount(8); fuse: uvfs umount), uvfsd must exit 0, e2fsck -fn clean.
# Kernel command line: uvfs_stress_seed=S, uvfs_stress_secs=SECS.
. /root/lib.sh	# tests/lib.sh: ok, bad, check, summary
. /root/guest-lib.sh	# tests/vm/guest-lib.sh: karg, now, elapsed, wait_mounted
SEED=$(karg uvfs_stress_seed); SEED=${SEED:-1}
SECS=$(karg uvfs_stress_secs); SECS=${SECS:-60}
W=/tmp/stress MNT=/mnt/stress
export UVFS_BACKEND_PATH=/root/backends
mkdir -p $W $MNT

check "uvfs.ko loaded"             grep -q '^uvfs ' /proc/modules
check "/dev/fuse is a char device" test -c /dev/fuse
check "python3 imports ctypes,mmap,argparse" python3 -c 'import ctypes,mmap,argparse'

wait_exit() {
	i=0
	while kill -0 "$1" 2>/dev/null; do
		if [ $i -ge 600 ]; then kill -9 "$1"; wait "$1"; return 1; fi
		sleep 0.1; i=$((i + 1))
	done
	wait "$1"
}
# copy_file_range(2) must work over both transports (uvfs.ko has
# splice_write since issue 10: no --copy-einval)
stress() {
	timeout $((SECS + 60)) python3 /root/ext2/stress.py $MNT --seed "$SEED" \
		--workers 4 --until-full --seconds "$SECS" --after 200
}

# run TRANSPORT NAME MKE2FS-ARGS...
run() {
	TR=$1 NAME=$2; shift 2
	img=$W/$NAME.img LOG=$W/uvfsd-$TR-$NAME.log
	rm -f $img
	check "$TR $NAME: mke2fs $*" /sbin/mke2fs -q -F "$@" $img 64M
	uvfsd --transport="$TR" -f -o rw ext2 $img $MNT >$LOG 2>&1 &
	pid=$!
	check "$TR $NAME: uvfsd mounts" wait_mounted $MNT $pid $LOG
	is_mounted $MNT || return
	check "$TR $NAME: stress.py --seed $SEED --until-full, 4 processes" stress
	grep 'until-full:\|errors\|FAIL\|Error' "$CHECK_OUT" | sed 's/^/       /'
	if [ "$TR" = kmod ]; then
		check "$TR $NAME: umount" umount $MNT
	else
		check "$TR $NAME: uvfs umount" uvfs umount $MNT
	fi
	check "$TR $NAME: uvfsd exited 0" wait_exit $pid
	is_mounted $MNT && umount -l $MNT
	check "$TR $NAME: e2fsck -fn clean" /sbin/e2fsck -fn $img
	rm -f $img
}

for TR in kmod fuse; do
	run $TR ext4 -t ext4
	run $TR ext2-1k -t ext2 -b 1024
done
summary
