#!/bin/sh
# Guest half of tests/vm/selftest.sh; runs inside the VM (busybox ash).
# Real e2fsprogs are called by full path: Debian's busybox prefers its own
# applets (mke2fs, ...) over $PATH.
. /root/lib.sh	# tests/lib.sh: ok, bad, check, summary
has_mod() { grep -q "^$1 " /proc/modules; }
no_mod() { ! grep -q "^$1 " /proc/modules; }
in_dmesg() { dmesg | grep -q "$1"; }
is_chr() { [ -c "$1" ]; }

# --- out-of-tree module (loaded at boot by vm-run --ko) ---
check "hello.ko loaded at boot"        has_mod hello
check "hello logged its init"          in_dmesg "uvfs_hello: loaded"
check "rmmod hello"                    rmmod hello
check "hello gone after rmmod"         no_mod hello
check "hello logged its exit"          in_dmesg "uvfs_hello: unloaded"
check "insmod /ko/hello.ko again"      insmod /ko/hello.ko
check "rmmod hello again"              rmmod hello

# --- in-tree modules ---
check "fuse module loaded"             has_mod fuse
check "/dev/fuse is a char device"     is_chr /dev/fuse
check "loop module loaded"             has_mod loop
check "/dev/loop-control exists"       is_chr /dev/loop-control
check "ext4 module loaded"             has_mod ext4
check "ext2 registered (by ext4)"      grep -qw ext2 /proc/filesystems

# --- ext2 image on a loop device ---
IMG=/tmp/selftest.ext2 MNT=/mnt/selftest
mkdir -p $MNT
check "create image file"              truncate -s 32M $IMG
check "/sbin/mke2fs -t ext2"           /sbin/mke2fs -q -F -t ext2 -L uvfs-selftest $IMG
check "mount -t ext2 -o loop"          mount -t ext2 -o loop $IMG $MNT
check "mounted as ext2"                grep -q " $MNT ext2 " /proc/mounts
check "write a small file"             sh -c "echo hello-uvfs > $MNT/hello.txt"
check "mkdir + nested file"            sh -c "mkdir -p $MNT/d/e && echo nested > $MNT/d/e/f"
check "write 4 MiB file"               dd if=/dev/urandom of=/tmp/rand bs=1024 count=4096
check "copy 4 MiB into image"          cp /tmp/rand $MNT/rand
check "symlink"                        ln -s hello.txt $MNT/link
check "umount"                         umount $MNT
check "loop device released"           sh -c "! grep -q ' $MNT ' /proc/mounts"
check "/sbin/e2fsck -fn is clean"      /sbin/e2fsck -fn $IMG
check "/sbin/debugfs sees hello.txt"   sh -c "/sbin/debugfs -R 'ls -l /' $IMG 2>/dev/null | grep -q hello.txt"
check "remount read-only"              mount -t ext2 -o loop,ro $IMG $MNT
check "small file content"             grep -qx hello-uvfs $MNT/hello.txt
check "nested file content"            grep -qx nested $MNT/d/e/f
check "4 MiB file content"             cmp /tmp/rand $MNT/rand
check "symlink target"                 sh -c "[ \"\$(readlink $MNT/link)\" = hello.txt ]"
check "umount again"                   umount $MNT

# --- tools ---
# shellcheck disable=SC2016
check "bash runs"                      /bin/bash -c '[[ ${BASH_VERSINFO[0]} -ge 5 ]]'
check "/dev/shm is tmpfs"              grep -q " /dev/shm tmpfs " /proc/mounts
check "/tmp is tmpfs"                  grep -q " /tmp tmpfs " /proc/mounts

summary
