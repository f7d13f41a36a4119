#!/bin/sh
# Guest half of tests/vm/kmod/run.sh; runs inside the VM (busybox ash).
# Files: /root/uvfs.ko, /root/backends/*.so, uvfsd and uvfs-posix-suite in
# /usr/bin.
PASS=0 FAIL=0
MNT=/mnt
check() {
    desc=$1; shift
    if "$@" >/tmp/check.out 2>&1; then
        PASS=$((PASS + 1)); echo "ok   - $desc"
    else
        FAIL=$((FAIL + 1)); echo "FAIL - $desc (exit $?): $*"
        sed 's/^/       | /' /tmp/check.out | head -40
    fi
}
is_mounted() { grep -q " $MNT " /proc/mounts; }
wait_mounted() {
    i=0
    while [ $i -lt 100 ]; do is_mounted && return 0; sleep 0.1; i=$((i + 1)); done
    cat /tmp/uvfsd.log; return 1
}
start_uvfsd() {
    uvfsd --transport=kmod -f --stats ${UVFSD_DEBUG:+-d} \
        -o default_permissions,allow_other memfs none $MNT >/tmp/uvfsd.log 2>&1 &
    UVFSD=$!
    wait_mounted
}
# a command that must fail with the given message
fails_with() { msg=$1; shift; ! "$@" 2>/tmp/fw.out && grep -q "$msg" /tmp/fw.out; }
same() { [ "$1" = "$2" ] || { echo "got '$1', want '$2'"; return 1; }; }

export UVFS_BACKEND_PATH=/root/backends

# --- module ---
check "insmod uvfs.ko"                 insmod /root/uvfs.ko
check "uvfs registered"                grep -qw uvfs /proc/filesystems
check "/dev/uvfs is a char device"     test -c /dev/uvfs

# --- mount ---
check "uvfsd --transport=kmod mounts"  start_uvfsd
if ! is_mounted; then
    echo "uvfsd log:"; sed 's/^/  | /' /tmp/uvfsd.log
    echo "$PASS passed, $((FAIL + 1)) failed (not mounted; rest skipped)"
    exit 1
fi
check "shown as uvfs.memfs"            grep -q " $MNT uvfs.memfs " /proc/mounts
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
uvfs-posix-suite $MNT >/tmp/suite.out 2>&1
SUITE_RC=$?
grep -v "^ok" /tmp/suite.out
SUITE_LINE=$(tail -1 /tmp/suite.out)
echo "suite: $SUITE_LINE"
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
check "access after death: ENOTCONN"   fails_with "not connected" ls $MNT/x
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
check "detached uvfsd exits"           sh -c "i=0; while pgrep -f 'uvfsd --transport=kmod memfs' >/dev/null; do i=\$((i+1)); [ \$i -gt 50 ] && exit 1; sleep 0.1; done"

# --- a misbehaving daemon: reply validation, kill, abort ---
echo "--- uvfs-chan-test ---"
uvfs-chan-test $MNT >/tmp/chan.out 2>&1
CHAN_RC=$?
grep -v "^ok" /tmp/chan.out
CHAN_LINE=$(tail -1 /tmp/chan.out)
check "uvfs-chan-test ($CHAN_LINE)"    test "$CHAN_RC" = 0
check "bad replies were logged"        sh -c "dmesg | grep -q 'uvfs: bad reply'"

check "rmmod uvfs"                     rmmod uvfs
check "uvfs gone"                      sh -c "! grep -q '^uvfs ' /proc/modules"

echo "uvfsd log:"; sed 's/^/  | /' /tmp/uvfsd.log | tail -20
echo "$PASS passed, $FAIL failed (suite: $SUITE_LINE; chan-test: $CHAN_LINE)"
[ "$FAIL" -eq 0 ]
