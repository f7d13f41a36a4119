#!/bin/bash
# Guest half of tests/vm/bdev/run.sh: the uvfs block device /dev/uvbdN in
# the VM.  uvfs.ko, ext4 (with crc32c_generic, crc16, mbcache, jbd2) and
# loop are loaded at boot; uvfsd, the backends, uvfs-posix-suite,
# uvfs-blkverify, fio, GNU dd (gdd), losetup, python3 with treegen.py and
# compare.py are copied in.  From the kernel command line: uvfs_bdev_mb
# (image size, MiB), uvfs_bdev_ops (blkverify ops), uvfs_bdev_seed,
# uvfs_bdev_standin=1 (run a-c and e on the kernel's loop device instead
# of /dev/uvbdN: the harness' own check while the device is not built; d
# and f need the daemon and are not run then).
#   a. kernel ext2 on /dev/uvbdN (file backend): POSIX suite, a treegen
#      tree, umount, SIGTERM removes the device, e2fsck -fn of the image
#   b. that image through uvfsd ext2 (kmod) against the kernel's reading
#      of a copy of it: compare.py, the full tree comparison
#   c. uvfs-blkverify on the file backend (then the image against the
#      model, byte for byte) and on the mem backend (4 KiB blocks)
#   d. kill -9 of a stopped daemon with 5 tasks blocked on the device
#   e. fio verify=crc32c over the whole device; kernel ext4 on it under
#      the POSIX suite, e2fsck -fn after
#   f. bad input: one line on stderr, nonzero exit, no device left
. /root/lib.sh	# tests/lib.sh: ok, bad, check, summary
. /root/guest-lib.sh	# karg, now, elapsed, wait_mounted
export UVFS_BACKEND_PATH=/root/backends
MB=$(karg uvfs_bdev_mb)
MB=${MB:-64}
OPS=$(karg uvfs_bdev_ops)
OPS=${OPS:-1500}
SEED=$(karg uvfs_bdev_seed)
SEED=${SEED:-1}
STANDIN=$(karg uvfs_bdev_standin)
STANDIN=${STANDIN:-0}
W=/tmp/bdev
MNT=/mnt/bdev
mkdir -p $W $MNT /mnt/ref
echo "bdev: images of $MB MiB, blkverify seed $SEED, $OPS ops$( ((STANDIN)) && echo ', STAND-IN: the loop device')"

# --- the device under test -----------------------------------------------
DEV="" DPID=""
# bdev_start BACKEND SOURCE [OPTS]: `uvfsd --bdev BACKEND SOURCE -o OPTS -f`
# in the background; DEV is the path it prints once the device is usable,
# DPID its pid.  Stand-in: losetup on SOURCE (mem: a tmpfs file of size=).
bdev_start() {
	local be=$1 src=$2 opts=${3:-} i sz bs=512
	DEV="" DPID=""
	if ((STANDIN)); then
		[[ $opts =~ blksize=([0-9]+) ]] && bs=${BASH_REMATCH[1]}
		if [[ $be == mem ]]; then
			[[ $opts =~ size=([0-9]+)M ]] && sz=${BASH_REMATCH[1]}
			src=$W/mem-standin.img
			rm -f "$src"
			truncate -s "${sz}M" "$src" || return 1
		fi
		DEV=$(losetup --sector-size "$bs" -f --show "$src") || return 1
		return 0
	fi
	# (the old output goes first: the shell truncates it only in the child)
	rm -f $W/bdev.out $W/bdev.err
	uvfsd --bdev "$be" "$src" ${opts:+-o "$opts"} -f >$W/bdev.out 2>$W/bdev.err &
	DPID=$!
	for ((i = 0; i < 100; i++)); do
		[[ -s $W/bdev.out ]] && break
		kill -0 $DPID 2>/dev/null || break
		sleep 0.1
	done
	DEV=$(head -n1 $W/bdev.out)
	if [[ $DEV == /dev/uvbd[0-9]* && -b $DEV ]]; then
		echo "  uvfsd --bdev $be $src${opts:+ -o $opts}: $DEV (pid $DPID)"
		return 0
	fi
	echo "uvfsd --bdev $be $src: no device after 10 s; stdout '$DEV', stderr:"
	sed 's/^/  | /' $W/bdev.err
	kill $DPID 2>/dev/null
	return 1
}
# bdev_stop: SIGTERM removes the device, the daemon exits 0 (stand-in:
# losetup -d)
bdev_stop() {
	local rc i
	[[ -n $DEV ]] || return 1
	if ((STANDIN)); then
		losetup -d "$DEV"
		return
	fi
	kill -TERM $DPID
	for ((i = 0; i < 100; i++)); do
		kill -0 $DPID 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 $DPID 2>/dev/null; then
		echo "uvfsd $DPID still running 10 s after SIGTERM"
		kill -9 $DPID
		wait $DPID
		return 1
	fi
	wait $DPID
	rc=$?
	[[ $rc == 0 ]] || { echo "uvfsd exited $rc"; sed 's/^/  | /' $W/bdev.err; return 1; }
	[[ ! -e $DEV ]] || { echo "$DEV still there after the daemon exited"; return 1; }
}
# run_suite DIR NAME [SUITE-ARG...]: the POSIX suite on DIR
run_suite() {
	local dir=$1 name=$2 t0 t1 rc line out=$W/suite.out
	shift 2
	t0=$(now)
	timeout 300 uvfs-posix-suite "$@" "$dir" >$out 2>&1
	rc=$?
	t1=$(now)
	grep -v '^ok' $out | tail -n 30
	line=$(tail -n1 $out)
	check "$name: POSIX suite ($line, $(elapsed "$t0" "$t1") s)" test $rc = 0
}
# a file of MB MiB
mkimg() { rm -f "$1"; truncate -s "${2:-$MB}M" "$1"; }
# stop whatever a failed section left behind
tidy() {
	is_mounted $MNT && { umount $MNT || umount -l $MNT; }
	is_mounted /mnt/ref && { umount -d /mnt/ref || umount -l /mnt/ref; }
	if [[ -n $DPID ]] && kill -0 $DPID 2>/dev/null; then bdev_stop; fi
	if ((STANDIN)) && [[ -n $DEV && -b $DEV ]]; then losetup -d "$DEV" 2>/dev/null; fi
	DEV="" DPID=""
}

if ((!STANDIN)); then
	check "/dev/uvfs is there (uvfs.ko loaded)" test -c /dev/uvfs
fi

# --- a. kernel ext2 on the device ----------------------------------------
echo "--- a. kernel ext2 on the device (file backend) ---"
IMG=$W/a.img
mkimg $IMG
check "a: device up" bdev_start file $IMG
if [[ -n $DEV ]]; then
	check "a: size is the image's" test "$(blockdev --getsize64 $DEV)" = $((MB << 20))
	check "a: mke2fs -t ext2" /sbin/mke2fs -q -F -t ext2 $DEV
	check "a: mount -t ext2" mount -t ext2 $DEV $MNT
	if is_mounted $MNT; then
		grep " $MNT " /proc/mounts
		# block-mapped files: the kernel's ext4 driver punches holes
		# but neither preallocates nor zeroes ranges
		run_suite $MNT "a: kernel ext2" -F punch
		check "a: a treegen tree on it" timeout 300 python3 /root/ext2/treegen.py \
			gen $MNT/tree --seed "$SEED" --profile small
		check "a: its files read back" sh -c "find $MNT/tree -type f -exec cat {} + >/dev/null"
		check "a: umount" umount $MNT
	fi
	check "a: SIGTERM removes the device, uvfsd exits 0" bdev_stop
	check "a: e2fsck -fn of the image clean" /sbin/e2fsck -fn $IMG
fi
tidy

# --- b. the same image through uvfs's ext2 backend -------------------------
echo "--- b. the image through uvfsd ext2 (kmod) ---"
check "b: a copy of the image" cp $IMG $W/b-ref.img
check "b: kernel ext2 mounts the copy read-only" mount -t ext2 -o loop,ro $W/b-ref.img /mnt/ref
uvfsd --transport=kmod -f -o ro,default_permissions,allow_other ext2 $IMG $MNT >$W/b-uvfsd.log 2>&1 &
UPID=$!
check "b: uvfsd ext2 mounts the image" wait_mounted $MNT $UPID $W/b-uvfsd.log
if is_mounted $MNT && is_mounted /mnt/ref; then
	check "b: the tree is there" test -d $MNT/tree
	check "b: identical trees (compare.py: kernel vs uvfs ext2)" \
		timeout 300 python3 /root/ext2/compare.py --max-diffs 5 /mnt/ref $MNT
	check "b: umount" umount $MNT
	wait $UPID
	check "b: uvfsd exited 0" test $? = 0
fi
tidy
kill $UPID 2>/dev/null
rm -f $IMG $W/b-ref.img

# --- c. data integrity on the raw device -----------------------------------
echo "--- c. uvfs-blkverify ---"
IMG=$W/c.img
mkimg $IMG
check "c: device up (file)" bdev_start file $IMG
if [[ -n $DEV ]]; then
	check "c: blkverify, file backend" timeout 400 uvfs-blkverify --seed "$SEED" \
		--ops "$OPS" --model-out $W/c.model $DEV
	cat "$CHECK_OUT"
	check "c: device removed" bdev_stop
	check "c: the image equals the model byte for byte" \
		uvfs-blkverify --compare $W/c.model $IMG
	cat "$CHECK_OUT"
fi
tidy
rm -f $IMG $W/c.model
check "c: device up (mem, 4 KiB blocks)" bdev_start mem none "size=${MB}M,blksize=4096"
if [[ -n $DEV ]]; then
	check "c: logical block size 4096" test "$(blockdev --getss $DEV)" = 4096
	check "c: blkverify, mem backend" timeout 400 uvfs-blkverify --seed $((SEED + 1)) \
		--ops "$OPS" $DEV
	cat "$CHECK_OUT"
	check "c: device removed" bdev_stop
fi
tidy

# --- d. kill -9 with I/O in flight ----------------------------------------
# pstate PID: the state letter ('' once gone)
pstate() { local st=""; [[ -r /proc/$1/stat ]] && read -r _ _ st _ </proc/$1/stat 2>/dev/null; echo "$st"; }
if ((STANDIN)); then
	echo "--- d. kill -9: NOT RUN (stand-in device has no daemon) ---"
else
	echo "--- d. kill -9 of the daemon with I/O in flight ---"
	IMG=$W/d.img
	mkimg $IMG
	check "d: device up" bdev_start file $IMG
	if [[ -n $DEV ]]; then
		echo 3 >/proc/sys/vm/drop_caches
		# the daemon stops answering: whatever comes now stays in flight
		kill -STOP $DPID
		# fio (pread/pwrite, libaio) rather than dd: a reader blocked in
		# I/O holds the device inode's lock shared (6.1.x stable), dd's
		# lseek waits for it exclusively, and then every new locker
		# queues behind the lseek instead of reaching the device
		TASKS=""
		n=0
		# (psync: a task waiting for its I/O is in D, where we can see it)
		for spec in "rw=read bs=256k ioengine=psync direct=1 offset=0 size=4m" \
			"rw=randread bs=4k ioengine=psync direct=1 offset=4m size=4m" \
			"rw=write bs=1m ioengine=psync direct=1 offset=8m size=4m" \
			"rw=read bs=64k ioengine=psync direct=0 offset=12m size=4m" \
			"rw=write bs=64k ioengine=psync direct=0 end_fsync=1 offset=16m size=4m"; do
			read -ra o <<<"$spec"
			fio --name=d$n --thread --filename=$DEV --invalidate=0 "${o[@]/#/--}" \
				>$W/d$n.err 2>&1 &
			TASKS="$TASKS $!"
			n=$((n + 1))
		done
		# in_io PID: one of its threads (fio's job is one) is in D, not in
		# lseek (that would be a lock, not the device); prints where
		in_io() {
			local th st wc
			for th in /proc/$1/task/*; do
				read -r _ _ st _ <$th/stat 2>/dev/null || continue
				[[ $st == D ]] || continue
				read -r wc <$th/wchan 2>/dev/null
				[[ $st == D && $wc != *llseek* ]] && { echo "thread ${th##*/} in $wc"; return 0; }
			done
			return 1
		}
		# (fio takes seconds to start under TCG: wait up to 20 s)
		T0=$(now)
		while :; do
			NB=0
			for t in $TASKS; do in_io $t >/dev/null && NB=$((NB + 1)); done
			[[ $NB == 5 ]] && break
			awk "BEGIN { exit !($(now) - $T0 > 20) }" && break
			sleep 0.2
		done
		echo "  after $(elapsed "$T0" "$(now)") s:"
		for t in $TASKS; do echo "  task $t: $(in_io $t || echo 'not in I/O')"; done
		check "d: 5 tasks blocked in I/O on the stopped daemon" test $NB = 5
		kill -9 $DPID
		T0=$(now)
		while :; do
			NGONE=0
			for t in $TASKS; do
				case $(pstate $t) in '' | Z) NGONE=$((NGONE + 1)) ;; esac
			done
			T1=$(now)
			[[ $NGONE == 5 ]] && break
			awk "BEGIN { exit !($T1 - $T0 > 1.0) }" && break
			sleep 0.02
		done
		DT=$(elapsed "$T0" "$T1")
		check "d: all 5 return within 1 s of kill -9 (${DT} s)" \
			sh -c "[ $NGONE = 5 ] && awk 'BEGIN { exit !($DT <= 1.0) }'"
		NERR=0
		for t in $TASKS; do wait $t || NERR=$((NERR + 1)); done
		grep -h "err=\|error" $W/d[0-4].err
		check "d: all 5 failed" test $NERR = 5
		wait $DPID 2>/dev/null
		DPID=""
		check "d: the device is still there, dead" test -b $DEV
		T0=$(now)
		check "d: new I/O fails" sh -c "! timeout 5 gdd if=$DEV of=/dev/null bs=4k count=1 iflag=direct status=none"
		T1=$(now)
		DT=$(elapsed "$T0" "$T1")
		check "d: ... at once (${DT} s)" awk "BEGIN { exit !($DT <= 1.0) }"
		check "d: no user task in D state" sh -c 'for s in /proc/[0-9]*/stat; do read -r p c st _ <$s 2>/dev/null; [ "$st" = D ] && [ -s /proc/$p/cmdline ] && { echo "$p $c D"; exit 1; }; done; exit 0'
		check "d: uvfsd --remove $DEV" timeout 10 uvfsd --remove $DEV
		check "d: $DEV gone" test ! -e $DEV
		DEV=""
	fi
	tidy
	rm -f $IMG
fi

# --- e. fio verify, kernel ext4 -------------------------------------------
echo "--- e. fio verify=crc32c and kernel ext4 ---"
IMG=$W/e.img
mkimg $IMG
check "e: device up" bdev_start file $IMG
if [[ -n $DEV ]]; then
	check "e: fio randwrite 4k-2m, verify=crc32c, whole device" \
		timeout 400 fio --name=verify --filename=$DEV --ioengine=libaio --direct=1 \
		--iodepth=16 --rw=randwrite --bsrange=4k-2m --blockalign=4k \
		--verify=crc32c --verify_fatal=1 --do_verify=1 --verify_state_save=0 \
		--output-format=terse --terse-version=3
	check "e: fio sequential 1m buffered, verify=crc32c" \
		timeout 400 fio --name=verify-seq --filename=$DEV --ioengine=psync \
		--rw=write --bs=1m --verify=crc32c --verify_fatal=1 --do_verify=1 \
		--verify_state_save=0 --output-format=terse --terse-version=3
	check "e: mke2fs -t ext4" /sbin/mke2fs -q -F -t ext4 $DEV
	check "e: mount -t ext4" mount -t ext4 $DEV $MNT
	if is_mounted $MNT; then
		grep " $MNT " /proc/mounts
		run_suite $MNT "e: kernel ext4"
		check "e: umount" umount $MNT
	fi
	check "e: device removed" bdev_stop
	check "e: e2fsck -fn of the image clean" /sbin/e2fsck -fn $IMG
fi
tidy
rm -f $IMG

# --- f. bad input ---------------------------------------------------------
# one_line_error NAME CMD...: CMD exits nonzero (not by the timeout) with
# one line on stderr, nothing on stdout, and no new /dev/uvbd*
one_line_error() {
	local name=$1 rc n before after
	shift
	before=$(ls /dev/uvbd* 2>/dev/null)
	timeout 10 "$@" >$W/f.out 2>$W/f.err
	rc=$?
	n=$(wc -l <$W/f.err)
	after=$(ls /dev/uvbd* 2>/dev/null)
	if ((rc != 0 && rc != 124 && n == 1)) && [[ ! -s $W/f.out && $before == "$after" ]]; then
		ok "$name: $(cat $W/f.err)"
	else
		bad "$name" "exit $rc, $n stderr lines, stdout '$(head -c 100 $W/f.out)', devices '$before' -> '$after'"
		sed 's/^/     | /' $W/f.err | head -n 5
	fi
}
if ((STANDIN)); then
	echo "--- f. bad input: NOT RUN (stand-in device has no daemon) ---"
else
	echo "--- f. bad input ---"
	truncate -s $(((MB << 20) + 100)) $W/odd.img
	one_line_error "f: image size not a multiple of 512" uvfsd --bdev file $W/odd.img -f
	truncate -s $(((MB << 20) + 512)) $W/odd.img
	one_line_error "f: image size not a multiple of blksize=4096" \
		uvfsd --bdev file $W/odd.img -o blksize=4096 -f
	one_line_error "f: mem size=1000" uvfsd --bdev mem none -o size=1000 -f
	one_line_error "f: missing image" uvfsd --bdev file $W/no-such.img -f
	IMG=$W/f.img
	mkimg $IMG
	check "f: first daemon on the image" bdev_start file $IMG
	if [[ -n $DEV ]]; then
		one_line_error "f: second daemon on the same image" uvfsd --bdev file $IMG -f
		check "f: the first device still works" \
			gdd if=$DEV of=/dev/null bs=1M count=1 iflag=direct status=none
		check "f: device removed" bdev_stop
	fi
	tidy
	rm -f $IMG $W/odd.img
fi

check "no /dev/uvbd* left" sh -c '! ls /dev/uvbd* 2>/dev/null'
summary "vm-bdev$( ((STANDIN)) && echo ' (STAND-IN: loop device; d and f not run)')"
