#!/bin/sh
# Guest half of tests/vm/journal/run.sh (busybox ash).
. /root/lib.sh	# tests/lib.sh: ok, bad, check, summary
. /root/guest-lib.sh	# tests/vm/guest-lib.sh: now, elapsed, wait_mounted
export UVFS_BACKEND_PATH=/root/backends
W=/tmp/j
mkdir -p $W /mnt/k /mnt/u /mnt/f /mnt/r

# bdev_up IMG: serve IMG as a uvbd device; prints the device
bdev_up() {
	uvfsd --bdev file "$1" >$W/bdev.path 2>$W/bdev.err &&
		head -1 $W/bdev.path
}

# workload DIR: runs until killed, leaving the journal busy
workload() {
	d=$1
	mkdir -p "$d/keep/sub" "$d/churn"
	i=0
	while [ $i -lt 40 ]; do
		gdd if=/dev/urandom of="$d/keep/f$i" bs=1k count=$((i % 7 + 1)) status=none
		i=$((i + 1))
	done
	ln "$d/keep/f1" "$d/keep/hard1"
	ln -s f2 "$d/keep/sym2"
	echo held >"$d/held"
	sync
	exec 3<"$d/held"
	rm "$d/held"	# an orphan until the crash
	n=0
	while :; do
		n=$((n + 1))
		echo "$n" >"$d/churn/c$n"
		[ $((n % 3)) = 0 ] && mv "$d/churn/c$((n - 1))" "$d/keep/sub/m$n"
		[ $((n % 5)) = 0 ] && rm -f "$d/churn/c$((n - 2))"
		[ $((n % 7)) = 0 ] && gdd if=/dev/urandom of="$d/keep/f$((n % 40))" bs=4k count=2 conv=notrunc status=none
		[ $((n % 11)) = 0 ] && mkdir "$d/churn/dir$n"
	done
}

# crash_image T: an image of type T left needing recovery by the kernel
crash_image() {
	t=$1
	rm -f $W/$t.img
	truncate -s 64M $W/$t.img
	dev=$(bdev_up $W/$t.img) || { cat $W/bdev.err; return 1; }
	pid=$(pgrep -f "uvfsd --bdev file $W/$t.img" | head -1)
	/sbin/mke2fs -q -t "$t" "$dev" || return 1
	mount -t ext4 -o commit=1 "$dev" /mnt/k || return 1
	workload /mnt/k >/dev/null 2>&1 &
	wl=$!
	sleep 4		# a few commits of the churn
	kill -9 "$pid"
	sleep 0.2
	kill -9 $wl 2>/dev/null
	wait $wl 2>/dev/null
	gnu-cp --sparse=always $W/$t.img $W/crash.img
	umount -l /mnt/k 2>/dev/null
	uvfsd --remove "$dev" || return 1
	/sbin/dumpe2fs -h $W/crash.img 2>/dev/null | grep -q needs_recovery ||
		{ echo "the image does not need recovery"; return 1; }
	/sbin/debugfs -R logdump $W/crash.img 2>/dev/null | grep -c 'commit block' >$W/ncommit
	echo "$(cat $W/ncommit) commit blocks in the log"
	[ "$(cat $W/ncommit)" -gt 0 ]
}

# three replays of crash.img: uvfs (u), e2fsck (f), the kernel (r)
replays() {
	rc=0
	for x in u f r; do gnu-cp --sparse=always $W/crash.img $W/$x.img; done
	/sbin/e2fsck -fy $W/f.img >$W/fsck.out 2>&1
	[ $? -le 1 ] || { cat $W/fsck.out; rc=1; }
	uvfsd --transport=kmod ext2 $W/u.img /mnt/u 2>$W/u.err || { cat $W/u.err; return 1; }
	wait_mounted /mnt/u || return 1
	umount /mnt/u || rc=1
	dev=$(bdev_up $W/r.img) || return 1
	mount -t ext4 "$dev" /mnt/r || rc=1
	umount /mnt/r || rc=1
	uvfsd --remove "$dev" || rc=1
	for x in u f r; do
		if /sbin/dumpe2fs -h $W/$x.img 2>/dev/null | grep -q needs_recovery; then
			echo "$x still needs recovery"; rc=1
		fi
		/sbin/e2fsck -fn $W/$x.img >$W/fsck.$x 2>&1 ||
			{ echo "$x not fsck-clean:"; cat $W/fsck.$x; rc=1; }
	done
	for x in u f r; do
		uvfsd --transport=kmod -o ro ext2 $W/$x.img /mnt/$x 2>$W/$x.err ||
			{ cat $W/$x.err; return 1; }
		wait_mounted /mnt/$x || return 1
	done
	python3 /root/ext2/compare.py --ignore lost+found --no-mtime /mnt/u /mnt/f || rc=1
	python3 /root/ext2/compare.py --ignore lost+found --no-mtime /mnt/u /mnt/r || rc=1
	find /mnt/u | wc -l
	for x in u f r; do umount /mnt/$x || rc=1; done
	return $rc
}

insmod /root/uvfs.ko 2>/dev/null || lsmod | grep -q '^uvfs ' ||
	{ echo "uvfs.ko did not load"; exit 1; }
for t in ext3 ext4; do
	check "$t: the kernel leaves an image needing recovery (daemon killed mid-workload)" crash_image $t
	tail -1 "$CHECK_OUT"
	check "$t: uvfs, e2fsck -fy and the kernel replay it alike, all fsck-clean" replays
	grep 'identical' "$CHECK_OUT"
done
summary vm-journal
