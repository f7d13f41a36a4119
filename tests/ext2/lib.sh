# SPDX-License-Identifier: MIT
# shellcheck shell=bash disable=SC2034
# Shared helpers for the ext2 test scripts and bench/bench_ext2.sh.
# Source it after `set -euo pipefail`; call lib_init BUILD first.
#
# Mounting is pluggable by KIND:
#   kernel   the kernel's own driver on a loop device (-t from $KFSTYPE or
#            blkid); the reference implementation
#   fuse2fs  e2fsprogs' FUSE driver, in the foreground in the background
#   uvfs     BUILD/bin/uvfsd ext2, in the foreground in the background;
#            $UVFSD_EXTRA adds options (e.g. "-s")
# fs_mount KIND IMG MNT ro|rw   mounts and waits until the mount is live
# fs_umount MNT                 unmounts; for FUSE kinds waits (bounded)
#                               for the daemon to exit, since it writes
#                               the image back at exit; fails if the daemon
#                               does not exit cleanly
# Everything mounted here is undone by lib_cleanup (installed as an EXIT
# trap by lib_init), also when a test fails half way.

LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# ok, bad, check, summary: one result line per check
# shellcheck source=tests/lib.sh
. "$LIB_DIR/../lib.sh"
TREEGEN=$LIB_DIR/treegen.py
COMPARE=$LIB_DIR/compare.py
LIB_UMOUNT_TIMEOUT=${LIB_UMOUNT_TIMEOUT:-60}

declare -A LIB_PID=()      # mountpoint -> daemon pid
declare -A LIB_KIND=()     # mountpoint -> kind
declare -A LIB_IMG=()      # mountpoint -> image
LIB_TMP=
LIB_EXTRA_CLEANUP=

log() { printf '%s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 2; }

# need_pkgs CMD:PKG ...: apt-get install the packages whose command is
# missing.
need_pkgs() {
	local want=() cp
	for cp in "$@"; do
		command -v "${cp%%:*}" >/dev/null 2>&1 || want+=("${cp#*:}")
	done
	((${#want[@]})) || return 0
	log "installing: ${want[*]}"
	if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
		"${want[@]}" >/dev/null 2>&1; then
		apt-get update -q >/dev/null 2>&1 || true
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
			"${want[@]}" >/dev/null || die "cannot install ${want[*]}"
	fi
}

# lib_init BUILD NAME: sets BUILD, UVFSD, LIB_TMP (fresh dir under
# $TMPDIR, default /tmp), CHECK_OUT (in LIB_TMP)
lib_init() {
	[[ $(id -u) == 0 ]] || die "must run as root (loop mounts, mknod)"
	BUILD=$(cd "${1:?BUILD directory missing}" && pwd)
	UVFSD=${UVFSD:-$BUILD/bin/uvfsd}
	export UVFS_BACKEND_PATH=${UVFS_BACKEND_PATH:-$BUILD/backends}
	need_pkgs mke2fs:e2fsprogs debugfs:e2fsprogs fuse2fs:fuse2fs \
		setfattr:attr setfacl:acl fusermount3:fuse3 python3:python3
	LIB_TMP=$(mktemp -d "${TMPDIR:-/tmp}/uvfs-${2:-ext2}.XXXXXX")
	CHECK_OUT=$LIB_TMP/check.out
	exec 8>&1 9>&2	# the cleanup reports on these, whatever is redirected
	trap lib_cleanup EXIT
	trap 'exit 130' INT TERM
}

posix_suite() { # path of the POSIX suite binary, or nothing
	local c
	for c in "$BUILD/tests/posix/uvfs-posix-suite" \
		"$BUILD/bin/uvfs-posix-suite"; do
		[[ -x $c ]] && { echo "$c"; return 0; }
	done
	return 1
}

uvfs_has_ext2() { # the uvfs ext2 backend is built
	[[ -x $UVFSD ]] && "$UVFSD" --list-backends 2>/dev/null |
		grep -qx ext2
}

is_mounted() { mountpoint -q "$1" 2>/dev/null; }

# fs_mount KIND IMG MNT MODE [extra -o options]
fs_mount() {
	local kind=$1 img=$2 mnt=$3 mode=${4:-rw} extra=${5:-} i pid
	local log
	log=$LIB_TMP/daemon.$(basename "$mnt").log
	mkdir -p "$mnt"
	is_mounted "$mnt" && die "$mnt is already mounted"
	case $kind in
	kernel)
		local t=${KFSTYPE:-$(blkid -o value -s TYPE "$img")}
		mount -t "$t" -o "loop,$mode,noatime${extra:+,$extra}" \
			"$img" "$mnt" || return 1
		;;
	fuse2fs)
		fuse2fs "$img" "$mnt" -f -o "$mode${extra:+,$extra}" \
			>"$log" 2>&1 &
		pid=$!
		;;
	uvfs)
		# shellcheck disable=SC2086
		"$UVFSD" -f ${UVFSD_EXTRA:-} -o "$mode${extra:+,$extra}" ext2 \
			"$img" "$mnt" >"$log" 2>&1 &
		pid=$!
		;;
	*) die "unknown mount kind $kind" ;;
	esac
	LIB_KIND[$mnt]=$kind
	LIB_IMG[$mnt]=$img
	if [[ $kind != kernel ]]; then
		LIB_PID[$mnt]=$pid
		for ((i = 0; i < 200; i++)); do
			is_mounted "$mnt" && break
			if ! kill -0 "$pid" 2>/dev/null; then
				wait "$pid" 2>/dev/null || true
				log "$kind failed to mount $img:"
				sed 's/^/    /' "$log" >&2
				unset "LIB_PID[$mnt]"
				return 1
			fi
			sleep 0.05
		done
		is_mounted "$mnt" || { log "$kind: no mount after 10 s"; return 1; }
	fi
	return 0
}

# wait_pid PID SECONDS: 0 when PID exited within SECONDS (status in
# LIB_WAIT_RC), 1 if still running
wait_pid() {
	local pid=$1 t=$2 i
	for ((i = 0; i < t * 20; i++)); do
		if ! kill -0 "$pid" 2>/dev/null; then
			LIB_WAIT_RC=0
			wait "$pid" 2>/dev/null || LIB_WAIT_RC=$?
			return 0
		fi
		sleep 0.05
	done
	return 1
}

# fs_umount MNT: unmount; FUSE: wait for the daemon to finish writing
fs_umount() {
	local mnt=$1 kind=${LIB_KIND[$1]:-} pid=${LIB_PID[$1]:-} i
	[[ -n $kind ]] || { log "fs_umount: $mnt not mounted by us"; return 1; }
	if [[ $kind == kernel ]]; then
		for ((i = 0; i < 50; i++)); do
			umount "$mnt" 2>/dev/null && break
			sleep 0.1
		done
		if is_mounted "$mnt"; then
			log "umount $mnt failed"
			return 1
		fi
	else
		for ((i = 0; i < 50; i++)); do
			fusermount3 -u "$mnt" 2>/dev/null && break
			is_mounted "$mnt" || break
			sleep 0.1
		done
		if is_mounted "$mnt"; then
			log "fusermount3 -u $mnt failed"
			return 1
		fi
		if ! wait_pid "$pid" "$LIB_UMOUNT_TIMEOUT"; then
			log "$kind daemon $pid still running $LIB_UMOUNT_TIMEOUT s" \
				"after unmount; killing it"
			kill -KILL "$pid" 2>/dev/null || true
			unset "LIB_PID[$mnt]" "LIB_KIND[$mnt]"
			return 1
		fi
		unset "LIB_PID[$mnt]"
		if ((LIB_WAIT_RC != 0)); then
			log "$kind daemon exited with status $LIB_WAIT_RC:"
			tail -n 20 "$LIB_TMP/daemon.$(basename "$mnt").log" |
				sed 's/^/    /' >&2
			unset "LIB_KIND[$mnt]"
			return 1
		fi
	fi
	unset "LIB_KIND[$mnt]"
	return 0
}

lib_cleanup() {
	local rc=$? mnt pid img
	trap - EXIT
	set +e
	exec 1>&8 2>&9
	[[ -n $LIB_EXTRA_CLEANUP ]] && $LIB_EXTRA_CLEANUP
	for mnt in "${!LIB_KIND[@]}"; do
		if is_mounted "$mnt"; then
			if [[ ${LIB_KIND[$mnt]} == kernel ]]; then
				umount "$mnt" 2>/dev/null || umount -l "$mnt"
			else
				fusermount3 -u "$mnt" 2>/dev/null ||
					fusermount3 -u -z "$mnt" 2>/dev/null
			fi
		fi
	done
	for mnt in "${!LIB_PID[@]}"; do
		pid=${LIB_PID[$mnt]}
		wait_pid "$pid" 10 || { kill -KILL "$pid" 2>/dev/null; wait "$pid"; }
	done 2>/dev/null
	for mnt in "${!LIB_IMG[@]}"; do # loop devices left behind
		img=${LIB_IMG[$mnt]}
		[[ -e $img ]] || continue
		losetup -j "$img" -O NAME -n 2>/dev/null | while read -r dev; do
			losetup -d "$dev" 2>/dev/null
		done
	done
	if [[ -n $LIB_TMP && -d $LIB_TMP ]]; then
		if grep -q " $LIB_TMP" /proc/self/mounts; then
			log "mounts left under $LIB_TMP; not removing it"
		elif [[ -n ${KEEP_TMP:-} ]]; then
			log "kept $LIB_TMP"
		else
			rm -rf "$LIB_TMP"
		fi
	fi
	exit "$rc"
}

# fsck_clean IMG: e2fsck -fn must find nothing
fsck_clean() {
	local out
	if ! out=$(e2fsck -fn "$1" 2>&1); then
		log "e2fsck -fn $1 is not clean:"
		printf '%s\n' "$out" | head -n 40 | sed 's/^/    /' >&2
		return 1
	fi
}

# uvfsd_refuses PATTERN UVFSD-ARGS...: uvfsd must exit nonzero (not by a
# signal) with exactly one stderr line matching PATTERN (grep -E) and
# leave nothing mounted on its last argument.  Prints the line.
uvfsd_refuses() {
	local pat=$1 rc=0 n mnt=${!#}
	shift
	timeout 30 "$UVFSD" "$@" >"$LIB_TMP/refuse.out" 2>"$LIB_TMP/refuse.err" \
		</dev/null || rc=$?
	n=$(wc -l <"$LIB_TMP/refuse.err")
	cat "$LIB_TMP/refuse.err"
	if is_mounted "$mnt"; then
		fusermount3 -u -z "$mnt" 2>/dev/null
		echo "uvfsd mounted $mnt (exit $rc)"
		return 1
	fi
	((rc != 0)) || { echo "exit 0"; return 1; }
	((rc < 124)) || { echo "exit $rc (timeout or signal)"; return 1; }
	((n == 1)) || { echo "$n lines on stderr, want 1"; return 1; }
	grep -qE "$pat" "$LIB_TMP/refuse.err" ||
		{ echo "stderr lacks /$pat/"; return 1; }
}

# fs_kill MNT: SIGKILL the FUSE daemon serving MNT (no flush, no clean
# unmount), then detach the dead mount lazily and forget it.
fs_kill() {
	local mnt=$1 pid=${LIB_PID[$1]:-} i
	[[ -n $pid ]] || { log "fs_kill: no daemon for $mnt"; return 1; }
	kill -KILL "$pid" 2>/dev/null || true
	wait_pid "$pid" 30 || { log "daemon $pid survived SIGKILL"; return 1; }
	unset "LIB_PID[$mnt]" "LIB_KIND[$mnt]"
	for ((i = 0; i < 50; i++)); do
		fusermount3 -u -z "$mnt" 2>/dev/null ||
			umount -l "$mnt" 2>/dev/null || true
		is_mounted "$mnt" || return 0
		sleep 0.1
	done
	log "fs_kill: $mnt still mounted after its daemon died"
	return 1
}

# daemon_alive MNT: the daemon serving MNT still runs (not a zombie)
daemon_alive() {
	local pid=${LIB_PID[$1]:-}
	[[ -n $pid && -e /proc/$pid/stat ]] &&
		! grep -q '^[0-9]* ([^)]*) Z' "/proc/$pid/stat"
}

# names_in DIR [SKIP]: the names in DIR but SKIP, sorted, on one line
names_in() {
	find "$1" -mindepth 1 -maxdepth 1 ! -name "${2:-/}" -printf '%f\n' |
		LC_ALL=C sort | xargs
}

# daemon_log MNT: the file the daemon's stdout and stderr go to
daemon_log() { echo "$LIB_TMP/daemon.$(basename "$1").log"; }
