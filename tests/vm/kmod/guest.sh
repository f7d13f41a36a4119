#!/bin/sh
# Guest half of tests/vm/kmod/run.sh; runs inside the VM (busybox ash).
# Files: /root/uvfs.ko, /root/backends/*.so, uvfsd, uvfs, uvfs-chan-test,
# uvfs-bdev-test and uvfs-posix-suite in /usr/bin; fuse.ko loaded at boot.
# Besides the memfs checks: readers blocked on a daemon killed with -9,
# malformed replies from a seed (uvfs_fuzz_seed=N on the kernel command
# line picks the seed), then the POSIX suite over kmod and over FUSE, with
# memfs and with ext2/ext4 images (e2fsck clean right after the unmount),
# each timed on one "compare:" line.
. /root/lib.sh	# tests/lib.sh: ok, bad, check, summary
. /root/guest-lib.sh	# tests/vm/guest-lib.sh: karg, now, elapsed, wait_mounted
MNT=/mnt
start_uvfsd() {
	uvfsd --transport=kmod -f --stats ${UVFSD_DEBUG:+-d} \
		-o default_permissions,allow_other memfs none $MNT >/tmp/uvfsd.log 2>&1 &
	UVFSD=$!
	wait_mounted $MNT $UVFSD /tmp/uvfsd.log
}
# a command that must fail with the given message
fails_with() { msg=$1; shift; ! "$@" 2>/tmp/fw.out && grep -q "$msg" /tmp/fw.out; }
same() { [ "$1" = "$2" ] || { echo "got '$1', want '$2'"; return 1; }; }
# state letter of a process ('' once it is gone)
pstate() { st=""; [ -r /proc/$1/stat ] && read -r _ _ st _ </proc/$1/stat 2>/dev/null; echo "$st"; }
: >/tmp/compare

export UVFS_BACKEND_PATH=/root/backends

# --- module ---
check "insmod uvfs.ko"                 insmod /root/uvfs.ko
check "uvfs registered"                grep -qw uvfs /proc/filesystems
check "/dev/uvfs is a char device"     test -c /dev/uvfs

# --- mount ---
check "uvfsd --transport=kmod mounts"  start_uvfsd
if ! is_mounted $MNT; then
	echo "uvfsd log:"; sed 's/^/  | /' /tmp/uvfsd.log
	echo "$pass passed, $((fail + 1)) failed (not mounted; rest skipped)"
	exit 1
fi
check "shown as uvfs.memfs"            grep -q " $MNT uvfs.memfs " /proc/mounts
check "nosuid,nodev by default"        grep -q " $MNT uvfs.memfs rw,nosuid,nodev," /proc/mounts
grep " $MNT " /proc/mounts

# --- smoke ---
check "stat root"                      stat $MNT
check "mkdir"                          mkdir $MNT/d
check "echo > file"                    sh -c "echo hello-uvfs > $MNT/d/f"
check "cat file"                       same "$(cat $MNT/d/f)" hello-uvfs
check "append"                         sh -c "echo more >> $MNT/d/f"
check "cat after append"               same "$(cat $MNT/d/f | tr '\n' ' ')" "hello-uvfs more "
check "size after append"              same "$(stat -c %s $MNT/d/f)" 16
check "ls -l"                          sh -c "ls -la $MNT/d | grep -q ' f\$'"
check "readdir lists all"              same "$(ls $MNT/d | tr '\n' ' ')" "f "
check "1 MiB random file"              sh -c "dd if=/dev/urandom of=/tmp/rand bs=4096 count=256 2>/dev/null && cp /tmp/rand $MNT/rand && cmp /tmp/rand $MNT/rand"
check "drop caches, read again"        sh -c "echo 3 > /proc/sys/vm/drop_caches && cmp /tmp/rand $MNT/rand"
check "truncate"                       sh -c "truncate -s 5000 $MNT/rand && [ \$(stat -c %s $MNT/rand) = 5000 ]"
check "symlink + readlink"             sh -c "ln -s d/f $MNT/l && [ \"\$(readlink $MNT/l)\" = d/f ] && [ \"\$(cat $MNT/l | head -1)\" = hello-uvfs ]"
check "hard link"                      sh -c "ln $MNT/d/f $MNT/d/g && [ \$(stat -c %h $MNT/d/f) = 2 ]"
check "rename"                         sh -c "mv $MNT/d/g $MNT/d/h && [ -f $MNT/d/h ] && [ ! -e $MNT/d/g ]"
check "chmod"                          sh -c "chmod 600 $MNT/d/h && [ \$(stat -c %a $MNT/d/h) = 600 ]"
check "ENOENT"                         fails_with "No such file" cat $MNT/nonexistent
check "rmdir non-empty fails"          fails_with "not empty" rmdir $MNT/d
check "rm"                             rm $MNT/d/f $MNT/d/h $MNT/l $MNT/rand
check "rmdir"                          rmdir $MNT/d
check "empty again"                    same "$(ls -A $MNT)" ""
check "df"                             df $MNT

# --- POSIX suite ---
echo "--- POSIX suite ---"
T0=$(now)
uvfs-posix-suite $MNT >/tmp/suite.out 2>&1
SUITE_RC=$?
T1=$(now)
grep -v "^ok" /tmp/suite.out
SUITE_LINE=$(tail -1 /tmp/suite.out)
echo "suite: $SUITE_LINE"
printf 'compare: %-5s %-5s %-30s %6s s\n' kmod memfs "$SUITE_LINE" \
	"$(elapsed "$T0" "$T1")" >>/tmp/compare
check "POSIX suite"                    test "$SUITE_RC" = 0

# --- unmount: synchronous DESTROY, daemon exits 0 ---
check "umount"                         umount $MNT
wait $UVFSD
check "uvfsd exited 0 after umount"    test $? = 0
check "not mounted"                    sh -c "! grep -q ' $MNT ' /proc/mounts"
echo "uvfsd --stats:"; sed 's/^/  | /' /tmp/uvfsd.log
check "forgets reached the backend"    grep -q FORGET /tmp/uvfsd.log
check "DESTROY reached the backend"    grep -q DESTROY /tmp/uvfsd.log

# --- daemon death: -ENOTCONN, no hang, umount works ---
check "mount again"                    start_uvfsd
check "file on second mount"           sh -c "echo x > $MNT/x"
# (kill and wait here: a sh -c child cannot wait for our children)
kill -9 $UVFSD; wait $UVFSD
check "uvfsd killed"                   sh -c "! kill -0 $UVFSD"
# (a stat may still be answered from the attribute cache, as over FUSE;
# an open must ask the daemon)
check "access after death: ENOTCONN"   fails_with "not connected" cat $MNT/x
check "umount after death"             umount $MNT

# --- SIGTERM: daemon unmounts and exits ---
check "mount third time"               start_uvfsd
kill -TERM $UVFSD; wait $UVFSD
check "uvfsd exited 0 after SIGTERM"   test $? = 0
check "SIGTERM unmounted"              sh -c "! grep -q ' $MNT ' /proc/mounts"

# --- detached (no -f): uvfsd returns once the mount is up ---
check "detached uvfsd mounts"          sh -c "uvfsd --transport=kmod memfs none $MNT 2>/tmp/det.err; cat /tmp/det.err; grep -q ' $MNT ' /proc/mounts"
check "write on detached mount"        sh -c "echo y > $MNT/y && [ \"\$(cat $MNT/y)\" = y ]"
check "umount detached mount"          umount $MNT
# (by comm and state: an exiting process has no cmdline for pgrep -f to
# match, yet still holds the mountpoint's lock)
uvfsd_alive() {
	for f in /proc/[0-9]*/stat; do
		read -r _ c st _ <"$f" 2>/dev/null || continue
		[ "$c" = "(uvfsd)" ] && [ "$st" != Z ] && return 0
	done
	return 1
}
wait_uvfsd_gone() {
	i=0
	while uvfsd_alive; do i=$((i + 1)); [ $i -gt 50 ] && return 1; sleep 0.1; done
}
check "detached uvfsd exits"           wait_uvfsd_gone

# --- buffer path: readahead, O_DIRECT (coreutils dd as gdd) ---
echo "--- buffer path ---"
check "mount for the buffer path"      start_uvfsd
check "8 MiB file"                     sh -c "grep -q ' $MNT uvfs.memfs ' /proc/mounts && dd if=/dev/urandom of=/tmp/big bs=65536 count=128 2>/dev/null && cp /tmp/big $MNT/big"
check "cold read through readahead"    sh -c "echo 3 > /proc/sys/vm/drop_caches && cmp /tmp/big $MNT/big"
check "O_DIRECT read"                  sh -c "gdd if=$MNT/big of=/tmp/big.d bs=1M iflag=direct status=none && cmp /tmp/big /tmp/big.d"
check "O_DIRECT read, odd sizes"       sh -c "gdd if=$MNT/big bs=1000 skip=3 count=5 iflag=direct status=none >/tmp/odd && [ \$(stat -c %s /tmp/odd) = 5000 ] && gdd if=/tmp/big bs=1000 skip=3 count=5 status=none | cmp - /tmp/odd"
check "O_DIRECT write"                 sh -c "gdd if=/tmp/big of=$MNT/big2 bs=1M oflag=direct status=none && echo 3 > /proc/sys/vm/drop_caches && cmp /tmp/big $MNT/big2"
check "O_DIRECT read past EOF"         sh -c "[ -z \"\$(gdd if=$MNT/big bs=4096 skip=4096 iflag=direct status=none)\" ]"
check "umount"                         umount $MNT
wait $UVFSD
READS=$(awk '$1 == "READ" { print $2 }' /tmp/uvfsd.log)
# page by page, the two cold reads of 8 MiB alone would take 4096 READs
check "multi-page READs (${READS:-none} for 4 x 8 MiB)" sh -c "[ -n '$READS' ] && [ '$READS' -lt 600 ]"

# --- a misbehaving daemon: reply validation, kill, abort ---
echo "--- uvfs-chan-test ---"
uvfs-chan-test $MNT >/tmp/chan.out 2>&1
CHAN_RC=$?
grep -v "^ok" /tmp/chan.out
CHAN_LINE=$(tail -1 /tmp/chan.out)
check "uvfs-chan-test ($CHAN_LINE)"    test "$CHAN_RC" = 0
check "bad replies were logged"        sh -c "dmesg | grep -q 'uvfs: bad reply'"

# --- the block device against a daemon of its own ---
echo "--- uvfs-bdev-test ---"
uvfs-bdev-test >/tmp/bdev.out 2>&1
BDEV_RC=$?
grep -v "^ok" /tmp/bdev.out
BDEV_LINE=$(tail -1 /tmp/bdev.out)
check "uvfs-bdev-test ($BDEV_LINE)"    test "$BDEV_RC" = 0

# --- kill -9 of a daemon with 4 readers blocked in READ ---
echo "--- kill -9 with readers blocked ---"
STALL=$(uvfs-chan-test --stall $MNT 2>/tmp/stall.err)
check "stall daemon mounted (pid $STALL)" sh -c "[ -n '$STALL' ] && kill -0 '$STALL' && grep -q ' $MNT uvfs' /proc/mounts"
READERS=""
for i in 0 1 2 3; do
	# two readers per file: one waits for its READ, one for the page lock
	cat $MNT/f$((i % 2)) >/dev/null 2>/tmp/reader$i.err &
	READERS="$READERS $!"
done
sleep 1
NBLOCKED=0
for r in $READERS; do
	st=$(pstate $r)
	echo "  reader $r: state '$st' wchan $(cat /proc/$r/wchan 2>/dev/null)"
	case $st in D|S) NBLOCKED=$((NBLOCKED + 1)) ;; esac
done
check "4 readers blocked in I/O after 1 s" test $NBLOCKED = 4
kill -9 "$STALL"
T0=$(now)
NGONE=0
while :; do
	NGONE=0
	for r in $READERS; do
		st=$(pstate $r)
		case $st in ''|Z) NGONE=$((NGONE + 1)) ;; esac
	done
	T1=$(now)
	[ $NGONE = 4 ] && break
	awk "BEGIN { exit !($T1 - $T0 > 1.0) }" && break
	sleep 0.02
done
DT=$(elapsed "$T0" "$T1")
check "4 readers exit within 1 s of kill -9 (${DT} s)" \
	sh -c "[ $NGONE = 4 ] && awk 'BEGIN { exit !($DT <= 1.0) }'"
NERR=0
for r in $READERS; do wait $r || NERR=$((NERR + 1)); done
check "all 4 readers failed" test $NERR = 4
cat /tmp/reader0.err /tmp/reader1.err
check "readers got ENOTCONN/EIO" sh -c "cat /tmp/reader[0-3].err | grep -q -e 'not connected' -e 'I/O error'"
check "no user task in D state" sh -c "for s in /proc/[0-9]*/stat; do read -r p c st _ <\$s 2>/dev/null; [ \"\$st\" = D ] && [ -s /proc/\$p/cmdline ] && { echo \"\$p \$c D\"; exit 1; }; done; exit 0"
check "umount after kill -9 with blocked readers" umount $MNT

# --- malformed replies generated from a seed ---
echo "--- fuzz ---"
FUZZ_SEED=$(sed -n 's/.*uvfs_fuzz_seed=\([0-9]*\).*/\1/p' /proc/cmdline)
FUZZ_SEED=${FUZZ_SEED:-1}
T0=$(now)
uvfs-chan-test --fuzz "$FUZZ_SEED" 10000 $MNT >/tmp/fuzz.out 2>&1
FUZZ_RC=$?
T1=$(now)
grep -v "^ok" /tmp/fuzz.out
FUZZ_LINE="seed $FUZZ_SEED: $(tail -1 /tmp/fuzz.out)"
check "uvfs-chan-test --fuzz ($FUZZ_LINE, $(elapsed "$T0" "$T1") s)" test "$FUZZ_RC" = 0
check "nothing left mounted after fuzz" sh -c "! grep -q ' $MNT ' /proc/mounts"

# --- the POSIX suite over kmod and FUSE, memfs and ext2/ext4 images ---
# run_suite TRANSPORT FSTYPE: mount (a fresh 256 MiB image for ext2/ext4),
# suite, unmount (kmod: umount(8), synchronous; fuse: uvfs umount), then
# e2fsck -fn on the image right away.
run_suite() {
	tr=$1 fs=$2 img=none be=memfs
	echo "--- POSIX suite: $tr $fs ---"
	if [ "$fs" != memfs ]; then
		img=/tmp/$fs.img be=ext2
		rm -f "$img"
		check "$tr $fs: mke2fs" /sbin/mke2fs -q -F -t "$fs" -I 256 "$img" 256M
	fi
	uvfsd --transport="$tr" -f -o default_permissions,allow_other \
		$be "$img" $MNT >/tmp/uvfsd-$tr-$fs.log 2>&1 &
	UVFSD=$!
	check "$tr $fs: uvfsd mounts" wait_mounted $MNT $UVFSD /tmp/uvfsd-$tr-$fs.log
	is_mounted $MNT || return 1
	grep " $MNT " /proc/mounts
	# the type names what the image holds: uvfs.ext4 / fuse.ext4
	if [ "$fs" = ext4 ]; then
		t=fuse.ext4
		[ "$tr" = kmod ] && t=uvfs.ext4
		check "$tr $fs: /proc/mounts type $t" grep -q " $MNT $t " /proc/mounts
	fi
	T0=$(now)
	uvfs-posix-suite $MNT >/tmp/suite-$tr-$fs.out 2>&1
	rc=$?
	T1=$(now)
	grep -v "^ok" /tmp/suite-$tr-$fs.out
	line=$(tail -1 /tmp/suite-$tr-$fs.out)
	check "$tr $fs: POSIX suite ($line)" test "$rc" = 0
	printf 'compare: %-5s %-5s %-30s %6s s\n' "$tr" "$fs" "$line" \
		"$(elapsed "$T0" "$T1")" >>/tmp/compare
	if [ "$tr" = kmod ]; then
		check "$tr $fs: umount" umount $MNT
	else
		check "$tr $fs: uvfs umount" uvfs umount $MNT
	fi
	if [ "$img" != none ]; then
		check "$tr $fs: e2fsck -fn clean right after unmount" /sbin/e2fsck -fn "$img"
	fi
	wait $UVFSD
	urc=$?
	check "$tr $fs: uvfsd exited 0" test $urc = 0
	[ $urc = 0 ] || tail -5 /tmp/uvfsd-$tr-$fs.log
	rm -f "$img"
}
run_suite kmod ext2
run_suite kmod ext4
check "fuse.ko loaded"                 test -c /dev/fuse
run_suite fuse memfs
run_suite fuse ext2
run_suite fuse ext4

check "rmmod uvfs"                     rmmod uvfs
check "uvfs gone"                      sh -c "! grep -q '^uvfs ' /proc/modules"

echo "uvfsd log:"; sed 's/^/  | /' /tmp/uvfsd.log | tail -20
cat /tmp/compare
echo "suite: $SUITE_LINE; chan-test: $CHAN_LINE; bdev-test: $BDEV_LINE; fuzz: $FUZZ_LINE"
summary
