#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The workloads of bench/run.sh on a list of filesystem configurations, on
# the host or inside the VM (the same file, run by bash in both places;
# the guest has GNU tar, find, du, dd, cat, rm and timeout copied in so the
# tools are the same).  Not a test: it measures and prints, no thresholds.
#
# Configurations (one fresh mount per workload and repeat, on $BENCH_DIR/mnt):
#   kernel-ext2  the running kernel's ext2 (ext4 driver) on a loop device
#   tmpfs        tmpfs
#   fuse2fs      e2fsprogs' fuse2fs over FUSE
#   memfs-fuse, ext2-fuse   uvfsd --transport=fuse
#   memfs-kmod,  ext2-kmod  uvfsd --transport=kmod (uvfs.ko)
# ext2 images: mke2fs -t ext2 -I 256, fresh per mount; e2fsck -fn after.
# Workloads:
#   nullop  statx(AT_STATX_FORCE_SYNC) of one file BENCH_NULLOPS times
#   meta    create, stat, unlink of BENCH_NFILES files in one directory
#   meta2   the same from 2 processes in 2 directories (BENCH_NFILES/2
#           each: the same files, twice the parallelism)
#   tree    untar BENCH_TREE (not timed: sync, drop caches), find, du,
#           read every file (cat), rm -rf
#   seq     dd write of BENCH_SEQ_MB MiB (conv=fsync); drop caches; dd read
#   fio     fio 4 KiB randwrite of a BENCH_FIO_MB MiB file (end_fsync);
#           drop caches; 4 KiB randread of it (psync, invalidate)
#
# Environment: BENCH_ENV (host|vm, a label), BENCH_CONFIGS, BENCH_WORKLOADS,
# BENCH_REPEAT, BENCH_NULLOPS, BENCH_NFILES, BENCH_SEQ_MB, BENCH_FIO_MB,
# BENCH_TREE (a tar file), BENCH_TREE_FILES, BENCH_IMG_MB, BENCH_DIR
# (scratch; mnt and images), UVFSD, UVFS, OPBENCH, FIO, FUSE2FS (commands),
# BENCH_STEP_TIMEOUT (s, per command).
#
# Output on stdout, one record a line, '|'-separated, for bench/report.py:
#   BENCH|raw|ENV|CONFIG|WORKLOAD|METRIC|REPEAT|VALUE   (seconds or IOPS)
#   BENCH|stat|ENV|CONFIG|WORKLOAD|REPEAT|OPCODE|CALLS|OPS  (uvfsd --stats)
#   BENCH|error|ENV|CONFIG|WORKLOAD|REPEAT|what went wrong
#   BENCH|info|ENV|key|value
# Progress goes to stderr.  Exit status: 0 when every run produced its
# numbers, 1 otherwise.
set -u

ENV=${BENCH_ENV:-host}
CONFIGS=${BENCH_CONFIGS:-kernel-ext2 tmpfs fuse2fs memfs-fuse ext2-fuse}
WORKLOADS=${BENCH_WORKLOADS:-nullop meta meta2 tree seq fio}
REPEAT=${BENCH_REPEAT:-3}
NULLOPS=${BENCH_NULLOPS:-100000}
NFILES=${BENCH_NFILES:-10000}
SEQ_MB=${BENCH_SEQ_MB:-256}
FIO_MB=${BENCH_FIO_MB:-64}
TREE=${BENCH_TREE:-}
TREE_FILES=${BENCH_TREE_FILES:-0}
IMG_MB=${BENCH_IMG_MB:-1024}
DIR=${BENCH_DIR:-/tmp/bench}
UVFSD=${UVFSD:-uvfsd}
UVFS=${UVFS:-uvfs}
OPBENCH=${OPBENCH:-uvfs-opbench}
FIO=${FIO:-fio}
FUSE2FS=${FUSE2FS:-fuse2fs}
STEP_TIMEOUT=${BENCH_STEP_TIMEOUT:-900}
MNT=$DIR/mnt
IMG=$DIR/bench.img
DLOG=$DIR/daemon.log
errors=0
DPID=""

say() { printf 'bench[%s]: %s\n' "$ENV" "$*" >&2; }
# an interrupted run leaves no mount or daemon behind (the caller removes
# $DIR, and what is mounted there with it)
cleanup() {
	if is_mounted; then umount "$MNT" 2>/dev/null || umount -l "$MNT"; fi
	[[ -z $DPID ]] || kill "$DPID" 2>/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT TERM
rec() { local IFS='|'; printf 'BENCH|%s\n' "$*"; }
# err CFG WL REP WHAT: an error record and the count that sets the status
err() { rec error "$ENV" "$1" "$2" "$3" "$4"; say "ERROR $1 $2 #$3: $4"; errors=$((errors + 1)); }
is_mounted() { grep -q " $MNT " /proc/mounts; }
drop_caches() { sync; echo 3 >/proc/sys/vm/drop_caches; }
# t_start / t_end: seconds between them in T (bash's clock, no fork)
t_start() { T0=$EPOCHREALTIME; }
t_end() { T=$(awk -v a="$T0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.6f", b - a }'); }
run() { timeout "$STEP_TIMEOUT" "$@"; }

# wait_gone PID: wait for a daemon to exit (up to 60 s); its status in WRC
wait_gone() {
	local i
	for ((i = 0; i < 600; i++)); do
		if ! kill -0 "$1" 2>/dev/null; then
			WRC=0
			wait "$1" 2>/dev/null || WRC=$?
			return 0
		fi
		sleep 0.1
	done
	kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	WRC=137
	return 1
}

# mount_cfg CFG: a fresh instance of CFG on $MNT (DPID: its daemon)
mount_cfg() {
	local cfg=$1 fs=${1%-*} tr=${1#*-} i
	DPID=""
	mkdir -p "$MNT"
	is_mounted && { say "$MNT is still mounted"; return 1; }
	rm -f "$IMG" "$DLOG"
	if [[ $fs == ext2 || $cfg == kernel-ext2 || $cfg == fuse2fs ]]; then
		mke2fs -q -F -t ext2 -I 256 "$IMG" "${IMG_MB}M" >"$DLOG" 2>&1 || return 1
	fi
	case $cfg in
	kernel-ext2)
		mount -t ext2 -o loop,noatime "$IMG" "$MNT" 2>>"$DLOG"
		return
		;;
	tmpfs)
		mount -t tmpfs -o "size=$((IMG_MB))m" tmpfs "$MNT" 2>>"$DLOG"
		return
		;;
	fuse2fs)
		"$FUSE2FS" "$IMG" "$MNT" -f -o rw >>"$DLOG" 2>&1 &
		DPID=$!
		;;
	memfs-* | ext2-*)
		local src=none
		[[ $fs == ext2 ]] && src=$IMG
		"$UVFSD" --transport="$tr" -f --stats \
			-o default_permissions,allow_other \
			"$fs" "$src" "$MNT" >>"$DLOG" 2>&1 &
		DPID=$!
		;;
	*)
		say "unknown configuration $cfg"
		return 1
		;;
	esac
	for ((i = 0; i < 300; i++)); do
		is_mounted && return 0
		kill -0 "$DPID" 2>/dev/null || break
		sleep 0.05
	done
	say "$cfg: no mount:"
	sed 's/^/  | /' "$DLOG" >&2
	kill "$DPID" 2>/dev/null
	wait_gone "$DPID"
	DPID=""
	return 1
}

# umount_cfg CFG: unmount, wait for the daemon (it has flushed when it is
# gone), check the image.  Non-zero if any of that failed.
umount_cfg() {
	local cfg=$1 rc=0 i
	for ((i = 0; i < 50; i++)); do
		case $cfg in
		*-fuse) "$UVFS" umount "$MNT" 2>>"$DLOG" && break ;;
		*) umount "$MNT" 2>>"$DLOG" && break ;;
		esac
		sleep 0.2
	done
	is_mounted && { say "$cfg: cannot unmount $MNT"; umount -l "$MNT"; rc=1; }
	if [[ -n $DPID ]]; then
		wait_gone "$DPID" || say "$cfg: daemon still running 60 s after unmount; killed"
		if ((WRC != 0)); then
			say "$cfg: daemon exited with status $WRC:"
			tail -n 20 "$DLOG" | sed 's/^/  | /' >&2
			rc=1
		fi
	fi
	if [[ -f $IMG ]] && ((rc == 0)); then
		if ! e2fsck -fn "$IMG" >"$DIR/fsck.out" 2>&1; then
			say "$cfg: e2fsck -fn not clean:"
			tail -n 20 "$DIR/fsck.out" | sed 's/^/  | /' >&2
			rc=1
		fi
	fi
	rm -f "$IMG"
	return $rc
}

# stats CFG WL REP OPS: uvfsd --stats' table (printed at exit after the
# header "op calls errors avg_us") as stat records
stats() {
	[[ $1 == memfs-* || $1 == ext2-* ]] || return 0
	awk -v pre="BENCH|stat|$ENV|$1|$2|$3" -v ops="$4" '
		on && NF == 4 && $2 ~ /^[0-9]+$/ { print pre "|" $1 "|" $2 "|" ops; n++ }
		$1 == "op" && $2 == "calls" { on = 1 }
		END { exit n ? 0 : 1 }' "$DLOG" || return 1
}

# -------------------------------------------------------------- workloads
# Each: wl_NAME CFG REP, on the mounted $MNT; records its numbers, sets
# OPS (the operations to divide the request counts by); non-zero on failure.

wl_nullop() {
	local out
	: >"$MNT/null" || return 1
	out=$(run "$OPBENCH" nullop "$MNT/null" "$NULLOPS") || return 1
	rec raw "$ENV" "$1" nullop nullop "$2" "${out#nullop }"
	rm -f "$MNT/null"
	OPS=$NULLOPS
}

# meta_run CFG REP WL N DIR...: opbench meta, N files in each DIR
meta_run() {
	local cfg=$1 rep=$2 wl=$3 n=$4 d ph secs
	shift 4
	for d in "$@"; do mkdir "$d" || return 1; done
	run "$OPBENCH" meta "$n" "$@" >"$DIR/meta.out" || return 1
	while read -r ph secs; do
		rec raw "$ENV" "$cfg" "$wl" "$ph" "$rep" "$secs"
	done <"$DIR/meta.out"
	rmdir "$@" || return 1
}
wl_meta() { meta_run "$1" "$2" meta "$NFILES" "$MNT/d0" && OPS=$NFILES; }
wl_meta2() {
	meta_run "$1" "$2" meta2 $((NFILES / 2)) "$MNT/d0" "$MNT/d1" &&
		OPS=$((NFILES / 2 * 2))
}

wl_tree() {
	local n
	[[ -r $TREE ]] || { say "no tree tarball (BENCH_TREE)"; return 1; }
	t_start
	run tar -xf "$TREE" -C "$MNT" || return 1
	t_end
	rec raw "$ENV" "$1" tree untar "$2" "$T"
	drop_caches
	t_start
	n=$(run find "$MNT/tree" | wc -l) || return 1
	t_end
	rec raw "$ENV" "$1" tree find "$2" "$T"
	t_start
	run du -s "$MNT/tree" >/dev/null || return 1
	t_end
	rec raw "$ENV" "$1" tree du "$2" "$T"
	t_start
	(cd "$MNT/tree" && find . -type f -print0 | xargs -0 cat) >/dev/null || return 1
	t_end
	rec raw "$ENV" "$1" tree read "$2" "$T"
	t_start
	run rm -rf "$MNT/tree" || return 1
	t_end
	rec raw "$ENV" "$1" tree rm "$2" "$T"
	# find saw every file and directory (a short walk would look fast)
	((n > TREE_FILES)) || { say "find listed $n entries, want > $TREE_FILES"; return 1; }
	OPS=$TREE_FILES
}

wl_seq() {
	t_start
	run dd if=/dev/zero of="$MNT/big" bs=1M count="$SEQ_MB" conv=fsync status=none || return 1
	t_end
	rec raw "$ENV" "$1" seq write "$2" "$T"
	drop_caches
	t_start
	run dd if="$MNT/big" of=/dev/null bs=1M status=none || return 1
	t_end
	rec raw "$ENV" "$1" seq read "$2" "$T"
	rm -f "$MNT/big"
	OPS=$SEQ_MB
}

# fio_iops RW: one fio job; prints its IOPS (terse v3: field 8 is read
# IOPS, field 49 write IOPS)
fio_iops() {
	local f=8 out
	[[ $1 == randwrite ]] && f=49
	out=$(run "$FIO" --name="$1" --filename="$MNT/fio.dat" --size="${FIO_MB}M" \
		--bs=4k --rw="$1" --ioengine=psync --end_fsync=1 --invalidate=1 \
		--output-format=terse --terse-version=3 2>"$DIR/fio.err") || {
		sed 's/^/  | /' "$DIR/fio.err" >&2
		return 1
	}
	awk -F';' -v f=$f '$1 == 3 { print $f; found = 1 } END { exit !found }' <<<"$out"
}
wl_fio() {
	local iops
	iops=$(fio_iops randwrite) || return 1
	rec raw "$ENV" "$1" fio randwrite "$2" "$iops"
	drop_caches
	iops=$(fio_iops randread) || return 1
	rec raw "$ENV" "$1" fio randread "$2" "$iops"
	rm -f "$MNT/fio.dat"
	OPS=$((2 * FIO_MB * 256))
}

# perf_start / perf_stop CFG WL REP: with BENCH_PERF=1, a whole-system
# profile (cpu-clock: TCG has no PMU) of the first repeat's workload; its
# top symbols become "perf" records (percent of all samples).
PERF=${BENCH_PERF:-0} PERFPID=""
perf_start() {
	((PERF)) && (($3 == 1)) || return 0
	perf record -q -e cpu-clock -a -g -o "$DIR/perf.data" >/dev/null 2>&1 &
	PERFPID=$!
	sleep 0.5 # perf attaches to every CPU before the workload starts
}
perf_stop() {
	[[ -n $PERFPID ]] || return 0
	kill -INT "$PERFPID" 2>/dev/null
	wait "$PERFPID" 2>/dev/null
	PERFPID=""
	perf report -i "$DIR/perf.data" --stdio --no-children -g none \
		--sort comm,sym --percent-limit 0.5 2>/dev/null |
		awk -v pre="BENCH|perf|$ENV|$1|$2|$3" '
			$1 ~ /%$/ && n < 25 { p = $1; sub(/%/, "", p); $1 = ""
				sub(/^ +/, ""); gsub(/\|/, "/"); print pre "|" p "|" $0; n++ }'
	rm -f "$DIR/perf.data"
}

# one CFG WL REP: mount, run, unmount, collect the daemon's statistics
one() {
	local cfg=$1 wl=$2 rep=$3 ok=1
	say "$cfg $wl #$rep"
	mount_cfg "$cfg" || { err "$cfg" "$wl" "$rep" "mount failed"; return; }
	OPS=0
	perf_start "$cfg" "$wl" "$rep"
	"wl_$wl" "$cfg" "$rep" || ok=0
	perf_stop "$cfg" "$wl" "$rep"
	((ok)) || err "$cfg" "$wl" "$rep" "workload failed"
	umount_cfg "$cfg" || { err "$cfg" "$wl" "$rep" "unmount, daemon exit or e2fsck failed"; return; }
	if ((ok)) && ! stats "$cfg" "$wl" "$rep" "$OPS"; then
		err "$cfg" "$wl" "$rep" "no --stats table from uvfsd"
	fi
}

rec info "$ENV" sizes "nullops=$NULLOPS nfiles=$NFILES seq_mb=$SEQ_MB fio_mb=$FIO_MB tree_files=$TREE_FILES repeat=$REPEAT"
rec info "$ENV" kernel "$(uname -r)"
read -ra cfg_list <<<"$CONFIGS"
read -ra wl_list <<<"$WORKLOADS"
rec info "$ENV" configs "${cfg_list[*]}"
rec info "$ENV" workloads "${wl_list[*]}"
rec info "$ENV" cpus "$(nproc 2>/dev/null || grep -c ^processor /proc/cpuinfo)"
T_ALL=$EPOCHREALTIME
for ((rep = 1; rep <= REPEAT; rep++)); do
	# configurations alternate inside a repeat, so a slow spell of a busy
	# host spreads over all of them instead of hitting one
	for cfg in "${cfg_list[@]}"; do
		for wl in "${wl_list[@]}"; do
			one "$cfg" "$wl" "$rep"
		done
	done
done
rec info "$ENV" seconds "$(awk -v a="$T_ALL" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }')"
rec info "$ENV" errors "$errors"
((errors == 0))
