#!/usr/bin/env bash
# uvfs mounts like a system filesystem: mount(8) runs mount.uvfs for
# -t uvfs.BACKEND and fuse.uvfs, fstab lines (also ro, and a `user` mount
# by uid 65534) mount with `mount DIR`, and umount(8) runs umount.uvfs,
# which returns only once uvfsd has flushed and exited (the image is
# fsck-clean right away).  Generic mount options are accepted and
# nodev/nosuid/noexec/ro are in effect; uid=/gid=/umask= show in stat;
# fakeroot lets a user write a root-owned image tree; bad options give
# one line.  The helpers are symlinked into /sbin for the test only.
# Usage: tests/cli/test_mount.sh BUILD
set -uo pipefail
build=$(cd "${1:?usage: $0 BUILD}" && pwd)
helper=$build/bin/mount.uvfs
uvfsd=$build/bin/uvfsd
export UVFS_BACKEND_PATH=$build/backends
[[ -x $helper ]] || { echo "no $helper"; exit 1; }
tmp=$(mktemp -d /tmp/uvfs-mount.XXXXXX)
chmod 755 "$tmp"
source "$(dirname "$0")/lib.sh"

links=(mount.uvfs mount.uvfs.memfs mount.uvfs.ext2 mount.fuse.uvfs umount.uvfs)
declare -A saved=()
fstab_line=""
cleanup() {
	local d l
	for d in "$tmp"/m*; do
		mounted_at "$d" && umount -l "$d" 2>/dev/null
	done
	pkill -f "uvfsd.*$tmp" 2>/dev/null
	if [[ -n $fstab_line ]]; then
		grep -vxF "$fstab_line" /etc/fstab >"$tmp/fstab.new" &&
			cat "$tmp/fstab.new" >/etc/fstab
	fi
	# put back what was there, remove only our own links
	for l in "${links[@]}"; do
		if [[ -n ${saved[$l]:-} ]]; then
			ln -sfn "${saved[$l]}" "/sbin/$l"
		elif [[ $(readlink "/sbin/$l" 2>/dev/null) == "$helper" ]]; then
			rm -f "/sbin/$l"
		fi
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
for l in "${links[@]}"; do
	[[ -L /sbin/$l ]] && saved[$l]=$(readlink "/sbin/$l")
	ln -sfn "$helper" "/sbin/$l"
done

mk_image() { # FSTYPE PATH [UID]: an image with one file, /hello; its
	# root directory belongs to UID (default root)
	mkdir -p "$tmp/src"
	echo "image data" >"$tmp/src/hello"
	mke2fs -q -F -t "$1" -d "$tmp/src" -E root_owner="${3:-0}:${3:-0}" \
		"$2" 32M >/dev/null
}

# umount_checked NAME DIR [IMG] [AS...]: umount(8) returns 0, the mount is
# gone, its uvfsd is gone the moment umount returns, the image fsck-clean
umount_checked() {
	local name=$1 dir=$2 img=${3:-} pid
	shift 3 2>/dev/null || shift $#
	pid=$(uvfsd_pid "$dir")
	# without it umount(8) unmounts by itself and does not wait (a race
	# the checks below would catch only sometimes)
	if ! grep -q "TARGET=$dir .*helper=uvfs" /run/mount/utab 2>/dev/null; then
		bad "$name: umount" "no helper=uvfs for $dir in /run/mount/utab"
		"$@" umount "$dir"
		return
	fi
	if ! "$@" umount "$dir" 2>"$tmp/err"; then
		bad "$name: umount" "$(head -c 300 "$tmp/err")"
		return
	fi
	if mounted_at "$dir"; then
		bad "$name: umount" "still mounted"
	elif [[ -z $pid ]]; then
		bad "$name: umount" "no uvfsd was serving $dir"
	elif alive "$pid"; then
		bad "$name: umount" "uvfsd $pid still running when umount returned"
	elif [[ -n $img ]] && ! e2fsck -fn "$img" >"$tmp/fsck" 2>&1; then
		bad "$name: umount" "e2fsck -fn right after umount: $(tail -n 3 "$tmp/fsck")"
	elif grep -q "TARGET=$dir " /run/mount/utab 2>/dev/null; then
		bad "$name: umount" "utab still has $dir"
	else
		ok "$name: umount waited for uvfsd${img:+, image fsck-clean}"
	fi
}

mkdir "$tmp/m1" "$tmp/m2" "$tmp/mu"

# -t uvfs.memfs
if mount -t uvfs.memfs none "$tmp/m1" 2>"$tmp/err" && mounted_at "$tmp/m1"; then
	t=$(mnt_type "$tmp/m1")
	[[ $t == fuse.memfs ]] && ok "mount -t uvfs.memfs: $t" ||
		bad "mount -t uvfs.memfs" "type $t"
	grep -q "TARGET=$tmp/m1 .*helper=uvfs" /run/mount/utab &&
		ok "utab records helper=uvfs" ||
		bad "utab" "$(grep "$tmp/m1" /run/mount/utab)"
	echo hi >"$tmp/m1/f"
	umount_checked "uvfs.memfs" "$tmp/m1"
else
	bad "mount -t uvfs.memfs" "$(head -c 300 "$tmp/err")"
fi

# -t uvfs.ext2 on an ext4 image: shown as fuse.ext4; 16 MiB written, then
# umount(8) and e2fsck at once
mk_image ext4 "$tmp/e4.img"
if mount -t uvfs.ext2 "$tmp/e4.img" "$tmp/m1" 2>"$tmp/err"; then
	t=$(mnt_type "$tmp/m1")
	[[ $t == fuse.ext4 ]] && ok "mount -t uvfs.ext2 ext4.img: $t" ||
		bad "mount -t uvfs.ext2" "type $t"
	[[ $(cat "$tmp/m1/hello") == "image data" ]] && ok "uvfs.ext2: reads" ||
		bad "uvfs.ext2: read" "$(cat "$tmp/m1/hello" 2>&1)"
	dd if=/dev/urandom of="$tmp/m1/big" bs=1M count=16 status=none
	umount_checked "uvfs.ext2" "$tmp/m1" "$tmp/e4.img"
else
	bad "mount -t uvfs.ext2" "$(head -c 300 "$tmp/err")"
fi

# -t fuse.uvfs: the backend from BACKEND#SOURCE or -o backend=
for how in "ext2#$tmp/e4.img" "-o backend=ext2 $tmp/e4.img"; do
	# shellcheck disable=SC2086
	if mount -t fuse.uvfs $how "$tmp/m1" 2>"$tmp/err"; then
		t=$(mnt_type "$tmp/m1")
		[[ $t == fuse.ext4 ]] && ok "mount -t fuse.uvfs $how: $t" ||
			bad "mount -t fuse.uvfs $how" "type $t"
		umount_checked "fuse.uvfs" "$tmp/m1" "$tmp/e4.img"
	else
		bad "mount -t fuse.uvfs $how" "$(head -c 300 "$tmp/err")"
	fi
done

# every generic option is accepted
for o in defaults rw ro dev nodev suid nosuid exec noexec atime noatime \
	relatime strictatime nodiratime diratime lazytime sync async dirsync \
	auto noauto user users nouser owner group nofail _netdev x-test=1 \
	comment=x; do
	if mount -t uvfs.memfs -o "$o" none "$tmp/m1" 2>"$tmp/err" &&
		mounted_at "$tmp/m1" && umount "$tmp/m1" 2>>"$tmp/err"; then
		ok "-o $o accepted"
	else
		bad "-o $o" "$(head -c 300 "$tmp/err")"
		mounted_at "$tmp/m1" && umount -l "$tmp/m1"
	fi
done

# nodev, nosuid, noexec, ro, noatime in effect
if mount -t uvfs.memfs -o nodev,nosuid,noexec,noatime none "$tmp/m1" 2>"$tmp/err"; then
	f=$(mnt_flags "$tmp/m1")
	printf '#!/bin/sh\necho ran\n' >"$tmp/m1/s.sh"
	chmod 755 "$tmp/m1/s.sh"
	if [[ ,$f, == *,nodev,* && ,$f, == *,nosuid,* && ,$f, == *,noexec,* &&
		,$f, == *,noatime,* ]] && ! "$tmp/m1/s.sh" >/dev/null 2>&1; then
		ok "nodev,nosuid,noexec,noatime in mountinfo ($f), exec refused"
	else
		bad "nodev,nosuid,noexec,noatime" "mountinfo '$f'"
	fi
	umount "$tmp/m1"
else
	bad "nodev,nosuid,noexec" "$(head -c 300 "$tmp/err")"
fi
# (mount(8) passes no dev/suid/exec: they are the kernel's defaults; uvfs
# keeps FUSE's nosuid,nodev unless uvfsd is told -o dev,suid itself)
if "$uvfsd" --transport=fuse -o exec,dev,suid memfs none "$tmp/m1" \
	2>"$tmp/err"; then
	f=$(mnt_flags "$tmp/m1")
	printf '#!/bin/sh\necho ran\n' >"$tmp/m1/s.sh"
	chmod 755 "$tmp/m1/s.sh"
	if [[ ,$f, != *,nodev,* && ,$f, != *,nosuid,* && ,$f, != *,noexec,* &&
		$("$tmp/m1/s.sh" 2>&1) == ran ]]; then
		ok "uvfsd -o exec,dev,suid: mountinfo $f, scripts run"
	else
		bad "exec,dev,suid" "mountinfo '$f'"
	fi
	umount "$tmp/m1"
else
	bad "exec,dev,suid" "$(head -c 300 "$tmp/err")"
fi
if mount -t uvfs.ext2 -o ro "$tmp/e4.img" "$tmp/m1" 2>"$tmp/err"; then
	f=$(mnt_flags "$tmp/m1")
	if [[ $f == ro,* ]] && ! touch "$tmp/m1/x" 2>"$tmp/werr" &&
		grep -q "Read-only file system" "$tmp/werr"; then
		ok "-o ro: mountinfo $f, writes fail with EROFS"
	else
		bad "-o ro" "mountinfo '$f', $(cat "$tmp/werr")"
	fi
	umount_checked "-o ro" "$tmp/m1" "$tmp/e4.img"
else
	bad "-o ro" "$(head -c 300 "$tmp/err")"
fi

# uid=, gid=, umask= show in stat
if mount -t uvfs.ext2 -o uid=65534,gid=65534,umask=027 "$tmp/e4.img" "$tmp/m1" \
	2>"$tmp/err"; then
	# ls first: its attributes come from READDIRPLUS replies
	lsgot=$(ls -ln "$tmp/m1" | awk '$NF == "hello" { print $1, $3, $4 }')
	[[ $lsgot == "-rwxr-x--- 65534 65534" ]] &&
		ok "uid=,gid=,umask=: ls -ln (readdirplus) says $lsgot" ||
		bad "uid=,gid=,umask= in readdirplus" "ls -ln says '$lsgot'"
	got=$(stat -c "%u %g %a" "$tmp/m1" "$tmp/m1/hello" | tr '\n' ' ')
	[[ $got == "65534 65534 750 65534 65534 750 " ]] &&
		ok "uid=65534,gid=65534,umask=027: stat says $got" ||
		bad "uid=,gid=,umask=" "stat says $got"
	umount_checked "uid=,gid=,umask=" "$tmp/m1" "$tmp/e4.img"
else
	bad "uid=,gid=,umask=" "$(head -c 300 "$tmp/err")"
fi

# fakeroot: uid 65534 mounts an image whose root directory is root's 0755;
# without fakeroot the kernel refuses a new file there, with it the
# backend sees root: the file is created, and belongs to root
mk_image ext4 "$tmp/fr.img"
chown 65534:65534 "$tmp/fr.img" "$tmp/mu"
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups env -u XDG_RUNTIME_DIR "$@"; }
for fr in "" fakeroot; do
	if as_nobody "$uvfsd" --transport=fuse ext2 "$tmp/fr.img" "$tmp/mu" \
		${fr:+-o $fr} 2>"$tmp/err"; then
		if as_nobody touch "$tmp/mu/new" 2>/dev/null; then
			owner=$(as_nobody stat -c %u "$tmp/mu/new")
			if [[ $fr == fakeroot && $owner == 0 ]]; then
				ok "fakeroot: uid 65534 creates in a root-owned dir, the file is root's"
			else
				bad "${fr:-no fakeroot}" "created, owner $owner"
			fi
		elif [[ -z $fr ]]; then
			ok "without fakeroot: uid 65534 may not create in a root-owned dir"
		else
			bad "fakeroot" "touch refused"
		fi
		as_nobody "$build/bin/uvfs" umount "$tmp/mu"
	else
		bad "${fr:-no fakeroot} mount" "$(head -c 300 "$tmp/err")"
	fi
done
e2fsck -fn "$tmp/fr.img" >/dev/null 2>&1 && ok "fakeroot image fsck-clean" ||
	bad "fakeroot image" "e2fsck -fn fails"

# an fstab of our own: mount -T FSTAB DIR, umount DIR; and ro
mk_image ext2 "$tmp/e2.img"
cat >"$tmp/fstab" <<FSTAB
$tmp/e2.img $tmp/m1 uvfs.ext2 defaults,noauto 0 0
$tmp/e4.img $tmp/m2 uvfs.ext2 ro,noauto 0 0
FSTAB
if mount -T "$tmp/fstab" "$tmp/m1" 2>"$tmp/err"; then
	t=$(mnt_type "$tmp/m1")
	[[ $t == fuse.ext2 ]] && ok "mount -T fstab DIR: $t" ||
		bad "mount -T fstab" "type $t"
	dd if=/dev/urandom of="$tmp/m1/big" bs=1M count=8 status=none
	umount_checked "fstab" "$tmp/m1" "$tmp/e2.img"
else
	bad "mount -T fstab DIR" "$(head -c 300 "$tmp/err")"
fi
if mount -T "$tmp/fstab" "$tmp/m2" 2>"$tmp/err"; then
	f=$(mnt_flags "$tmp/m2")
	if [[ $f == ro,* ]] && ! touch "$tmp/m2/x" 2>/dev/null; then
		ok "fstab ro: mountinfo $f, writes refused"
	else
		bad "fstab ro" "mountinfo '$f'"
	fi
	umount_checked "fstab ro" "$tmp/m2" "$tmp/e4.img"
else
	bad "fstab ro" "$(head -c 300 "$tmp/err")"
fi

# a `user` mount from /etc/fstab by uid 65534 (runuser: no
# XDG_RUNTIME_DIR); helper=uvfs in the line makes umount(8) run
# umount.uvfs, as a user's mount helper cannot write utab itself
mk_image ext4 "$tmp/u.img" 65534
chown 65534:65534 "$tmp/u.img"
fstab_line="$tmp/u.img $tmp/mu uvfs.ext2 noauto,user,helper=uvfs 0 0"
echo "$fstab_line" >>/etc/fstab
if runuser -u nobody -- mount "$tmp/mu" 2>"$tmp/err" && mounted_at "$tmp/mu"; then
	f=$(mnt_flags "$tmp/mu")
	if runuser -u nobody -- dd if=/dev/urandom of="$tmp/mu/big" bs=1M \
		count=8 status=none 2>"$tmp/err" &&
		[[ ,$f, == *,noexec,* ]]; then
		ok "user mount from /etc/fstab by nobody ($f), written"
	else
		bad "user mount" "mountinfo '$f', $(head -c 200 "$tmp/err")"
	fi
	umount_checked "user mount" "$tmp/mu" "$tmp/u.img" runuser -u nobody --
else
	bad "user mount by nobody" "$(head -c 300 "$tmp/err")"
fi
grep -vxF "$fstab_line" /etc/fstab >"$tmp/fstab.new" && cat "$tmp/fstab.new" >/etc/fstab
fstab_line=""

# user errors through mount(8): one line, nonzero exit, nothing mounted
expect_one_line_error "unknown backend option" "frobnicate" \
	mount -t uvfs.memfs -o frobnicate none "$tmp/m1"
expect_one_line_error "unknown backend" "unknown backend 'nosuch'" \
	mount -t uvfs.nosuch none "$tmp/m1"
expect_one_line_error "bad umask" "bad value for -o umask" \
	mount -t uvfs.memfs -o umask=9 none "$tmp/m1"
expect_one_line_error "missing image" "cannot read source $tmp/nope.img" \
	mount -t uvfs.ext2 "$tmp/nope.img" "$tmp/m1"
expect_one_line_error "fuse.uvfs without a backend" "no backend" \
	mount -t fuse.uvfs "$tmp/e4.img" "$tmp/m1"
expect_one_line_error "umount of nothing" "not mounted" umount "$tmp/m1"
mounted_at "$tmp/m1" && bad "error cases" "something got mounted on $tmp/m1"

summary
