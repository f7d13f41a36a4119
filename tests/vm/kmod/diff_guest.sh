#!/bin/sh
# Guest half of tests/vm/kmod/run_diff.sh; runs inside the VM (busybox ash).
# The ext2 differential test of tests/ext2/test_diff.sh, with the guest
# kernel's ext2 (ext4.ko on a loop device) as the reference and uvfsd ext2
# as the target, first over --transport=kmod, then over --transport=fuse,
# for the same seeds.  Per seed and transport: difftest.py run (first
# differing op -> FAIL with seed, op index, op and both results), unmount
# (kmod: umount(8), synchronous; fuse: uvfs umount, then the daemon must
# exit 0), e2fsck -fn clean on both images, and a read-only kernel mount
# of each must compare identical (compare.py -q --ignore lost+found).
# Kernel command line: uvfs_diff_seeds=N (seeds SEED0..SEED0+N-1; odd seeds
# get 1 KiB blocks, even 4 KiB), uvfs_diff_seed0=S, uvfs_diff_ops=OPS,
# uvfs_diff_tmo=SECS (limit of one difftest run).
# Files: /root/uvfs.ko loaded at boot (--ko), /root/backends/*.so, uvfsd,
# uvfs, python3 in /usr/bin, GNU cp as /usr/local/bin/gnu-cp (busybox cp
# cannot copy sparse), /root/ext2/{difftest,compare}.py; fuse, loop, ext4
# loaded at boot.
. /root/lib.sh	# tests/lib.sh: ok, bad, check, summary
. /root/guest-lib.sh	# tests/vm/guest-lib.sh: karg, now, elapsed, wait_mounted
add() { awk "BEGIN { printf \"%.1f\", $1 + $2 }"; }

NSEEDS=$(karg uvfs_diff_seeds); NSEEDS=${NSEEDS:-2}
SEED0=$(karg uvfs_diff_seed0);  SEED0=${SEED0:-1}
OPS=$(karg uvfs_diff_ops);      OPS=${OPS:-2000}
TMO=$(karg uvfs_diff_tmo);      TMO=${TMO:-900}
DIFFTEST=/root/ext2/difftest.py
COMPARE=/root/ext2/compare.py
CP=/usr/local/bin/gnu-cp
W=/tmp/diff REF=/mnt/ref TGT=/mnt/target
export UVFS_BACKEND_PATH=/root/backends
mkdir -p $W $REF $TGT
: >/tmp/compare
SEEDS=$(seq "$SEED0" $((SEED0 + NSEEDS - 1)))
echo "ext2 difftest in the VM: seeds $(echo $SEEDS), $OPS ops each, reference = kernel ext2, target = uvfsd ext2 over kmod, then fuse"

# --- environment ---
check "uvfs.ko loaded"                 grep -q '^uvfs ' /proc/modules
check "/dev/uvfs is a char device"     test -c /dev/uvfs
check "/dev/fuse is a char device"     test -c /dev/fuse
check "ext2 registered (by ext4)"      grep -qw ext2 /proc/filesystems
check "python3 imports argparse,ctypes,hashlib,socket,subprocess" \
	python3 -c 'import argparse,ctypes,hashlib,socket,subprocess'
check "uvfsd has the ext2 backend"     sh -c "uvfsd --list-backends | grep -qx ext2"
if [ "$fail" -ne 0 ]; then
	echo "$pass passed, $fail failed (environment broken; rest skipped)"
	exit 1
fi

# --- per seed: the starting tree and its image, shared by both transports ---
# (the tree has user xattrs, which tmpfs in this kernel does not support:
# it is made on a scratch ext2 mount)
SRC=/mnt/src
mkdir -p $SRC
check "scratch ext2 for the trees" sh -c "
	/sbin/mke2fs -q -F -t ext2 -I 256 $W/scratch.img 64M &&
	mount -t ext2 -o loop $W/scratch.img $SRC"
for s in $SEEDS; do
	bs=$((s % 2 ? 1024 : 4096))
	mkdir -p $W/s$s
	check "seed $s: populate + mke2fs -b $bs" sh -c "
		python3 $DIFFTEST populate $SRC/s$s --seed $s &&
		/sbin/mke2fs -q -F -t ext2 -I 256 -b $bs -d $SRC/s$s $W/s$s/base.img 128M"
done
check "umount scratch" umount -d $SRC
rm -f $W/scratch.img

# wait_exit PID SECS: the daemon exits within SECS and with status 0
wait_exit() {
	i=0
	while kill -0 "$1" 2>/dev/null; do
		if [ $i -ge $(($2 * 10)) ]; then
			echo "uvfsd $1 still running $2 s after unmount; killing it"
			kill -9 "$1"; wait "$1"; return 1
		fi
		sleep 0.1; i=$((i + 1))
	done
	wait "$1"; urc=$?
	[ $urc = 0 ] || { echo "uvfsd exited $urc:"; tail -20 "$LOG"; }
	return $urc
}
run_difftest() {
	timeout "$TMO" python3 $DIFFTEST run $REF $TGT --seed "$1" --ops "$OPS" \
		--limits $3 >"$2" 2>&1
	drc=$?
	if [ $drc != 0 ]; then
		case $drc in 124|143) echo "seed $1: difftest killed after $TMO s" ;; esac
		cat "$2"
	fi
	return $drc
}
umount_target() {
	if [ "$TR" = kmod ]; then umount $TGT; else uvfs umount $TGT; fi
}
# after a failure half way: leave nothing mounted for the next run
cleanup() {
	if is_mounted $TGT; then
		umount_target 2>/dev/null || umount -l $TGT
	fi
	[ -n "$UVFSD" ] && kill -0 "$UVFSD" 2>/dev/null && { kill -9 "$UVFSD"; wait "$UVFSD"; }
	UVFSD=
	is_mounted $REF && { umount -d $REF || umount -l $REF; }
	is_mounted $TGT && umount -l $TGT
	return 0
}
compare_ro() {
	mount -t ext2 -o loop,ro,noatime "$1" $REF || return 1
	if ! mount -t ext2 -o loop,ro,noatime "$2" $TGT; then
		umount -d $REF; return 1
	fi
	crc=0
	python3 $COMPARE -q --ignore lost+found $REF $TGT || {
		crc=1; echo "images differ (A=kernel B=uvfs $TR, both read by the kernel after unmount)"; }
	umount -d $REF || crc=1
	umount -d $TGT || crc=1
	return $crc
}

# run_seed TRANSPORT SEED: one difftest run; adds to T_DIFF / T_ALL
run_seed() {
	TR=$1 s=$2 d=$W/s$2 UVFSD=
	LOG=$d/uvfsd-$TR.log
	bs=$((s % 2 ? 1024 : 4096))
	echo "--- $TR seed $s ($bs-byte blocks, $OPS ops) ---"
	[ -f $d/base.img ] || { check "$TR seed $s: base image exists" false; return; }
	t0=$(now)
	check "$TR seed $s: sparse copies of the image" sh -c "
		$CP --sparse=always $d/base.img $d/ref.img &&
		$CP --sparse=always $d/base.img $d/target.img"
	check "$TR seed $s: mount reference (kernel ext2, loop)" \
		mount -t ext2 -o loop,rw,noatime $d/ref.img $REF
	uvfsd --transport="$TR" -f -o rw ext2 $d/target.img $TGT >"$LOG" 2>&1 &
	UVFSD=$!
	check "$TR seed $s: uvfsd ext2 mounts" wait_mounted $TGT $UVFSD "$LOG"
	if ! is_mounted $REF || ! is_mounted $TGT; then cleanup; return; fi
	grep " $TGT " /proc/mounts
	t1=$(now)
	run_difftest "$s" $d/difftest-$TR.log >/tmp/dt.out 2>&1
	rc=$?
	t2=$(now)
	dt=$(elapsed "$t1" "$t2")
	echo $rc >$W/rc-$TR-$s
	if [ $rc = 0 ]; then
		ok "$TR seed $s: difftest $OPS ops identical ($dt s)"
		sed 's/^/     | /' $d/difftest-$TR.log | tail -1
	else
		bad "$TR seed $s: difftest (exit $rc, $dt s)" "$(grep -m1 '^DIFF' /tmp/dt.out)"
		check_detail /tmp/dt.out
	fi
	check "$TR seed $s: umount reference" umount -d $REF
	if [ "$TR" = kmod ]; then
		check "$TR seed $s: umount target" umount $TGT
	else
		check "$TR seed $s: uvfs umount target" uvfs umount $TGT
	fi
	check "$TR seed $s: uvfsd exited 0" wait_exit $UVFSD 60
	UVFSD=
	cleanup
	check "$TR seed $s: e2fsck -fn reference clean" /sbin/e2fsck -fn $d/ref.img
	check "$TR seed $s: e2fsck -fn target clean"    /sbin/e2fsck -fn $d/target.img
	check "$TR seed $s: ro kernel mounts of both images identical" \
		compare_ro $d/ref.img $d/target.img
	cleanup
	t3=$(now)
	printf 'compare: %-4s seed %-3s %5s-byte blocks  difftest %7s s  seed total %7s s\n' \
		"$TR" "$s" "$bs" "$dt" "$(elapsed "$t0" "$t3")" >>/tmp/compare
	T_DIFF=$(add "$T_DIFF" "$dt")
	T_ALL=$(add "$T_ALL" "$(elapsed "$t0" "$t3")")
	[ -n "${KEEP_IMAGES:-}" ] || rm -f $d/ref.img $d/target.img
}

SUMMARY=
for TRANSPORT in kmod fuse; do
	T_DIFF=0 T_ALL=0
	for s in $SEEDS; do run_seed $TRANSPORT "$s"; done
	SUMMARY="$SUMMARY$(printf 'compare: %-4s seeds %s: difftest %7s s, total %7s s' \
		"$TRANSPORT" "$(echo $SEEDS | tr ' ' ,)" "$T_DIFF" "$T_ALL")
"
done

# --- ENOSPC where the kernel gives it: 400 ops with fill, on an empty
# 48 MiB image per seed, over uvfs.ko (the page cache writing back).  Not
# over FUSE: it splits a write(2) into max_write WRITEs and the backend
# refuses a WRITE that does not fit whole, so it stops up to one WRITE
# early; uvfs.ko retries page by page, as the kernel allocates.  Not on
# the populated images above either: after some of their op streams the
# backend has fewer blocks free than the kernel's driver (seed 1: 48 of
# 1 KiB), which a fill then shows; that is a space-usage difference, not
# one of ENOSPC handling, and is not explained yet.
for s in $SEEDS; do
	TR=kmod bs=$((s % 2 ? 1024 : 4096)) d=$W/e$s UVFSD=
	LOG=$d/uvfsd.log
	mkdir -p $d
	echo "--- enospc seed $s ($bs-byte blocks) ---"
	check "enospc seed $s: empty image" \
		/sbin/mke2fs -q -F -t ext2 -I 256 -b $bs $d/ref.img 48M
	check "enospc seed $s: copy" $CP --sparse=always $d/ref.img $d/target.img
	check "enospc seed $s: mount reference" \
		mount -t ext2 -o loop,rw,noatime $d/ref.img $REF
	uvfsd --transport=kmod -f -o rw ext2 $d/target.img $TGT >"$LOG" 2>&1 &
	UVFSD=$!
	check "enospc seed $s: uvfsd ext2 mounts" wait_mounted $TGT $UVFSD "$LOG"
	if is_mounted $REF && is_mounted $TGT; then
		OPS=400 run_difftest "$s" $d/difftest.log --enospc >/tmp/dt.out 2>&1
		if [ $? = 0 ]; then
			ok "enospc seed $s: 400 ops with fill identical"
			sed 's/^/     | /' $d/difftest.log | tail -1
		else
			bad "enospc seed $s: difftest" "$(grep -m1 '^DIFF' /tmp/dt.out)"
			check_detail /tmp/dt.out
		fi
		check "enospc seed $s: umount target" umount $TGT
		check "enospc seed $s: uvfsd exited 0" wait_exit $UVFSD 60
		UVFSD=
	fi
	cleanup
	check "enospc seed $s: e2fsck -fn target clean" /sbin/e2fsck -fn $d/target.img
	rm -f $d/ref.img $d/target.img
done

# a difference seen over one transport only points at that transport
for s in $SEEDS; do
	k=$(cat $W/rc-kmod-$s 2>/dev/null) f=$(cat $W/rc-fuse-$s 2>/dev/null)
	if [ -z "$k" ] || [ -z "$f" ] || { [ "$k" = 0 ] && [ "$f" = 0 ]; }; then continue; fi
	[ "$k" != 0 ] && [ "$f" = 0 ] && echo "note: seed $s: difftest fails over kmod only (kmod-specific)"
	[ "$k" = 0 ] && [ "$f" != 0 ] && echo "note: seed $s: difftest fails over fuse only"
	[ "$k" != 0 ] && [ "$f" != 0 ] && echo "note: seed $s: difftest fails over both transports (backend)"
done
check "nothing left mounted" sh -c "! grep -q -e ' $REF ' -e ' $TGT ' -e ' $SRC ' /proc/mounts"
cat /tmp/compare
printf '%s' "$SUMMARY"
summary
