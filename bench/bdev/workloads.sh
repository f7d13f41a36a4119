#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The block-device workloads of bench/run.sh (issue 11), run inside the VM
# by bench/vm_guest.sh after the filesystem ones: fio on the raw device,
# the same backing file behind each configuration, one boot.  Not a test:
# it measures and prints, no thresholds.
#
# Configurations (BENCH_BDEV_CONFIGS, default all three, alternating
# inside each repeat so a slow spell of the host spreads over all):
#   uvbd  /dev/uvbdN: uvfsd --bdev file IMG (uvfs.ko's block device)
#   loop  the kernel's loop device on IMG
#   nbd   /dev/nbd0: nbd-server on IMG, nbd-client over a Unix socket
#         with as many connections as the guest has CPUs (uvbd has a
#         queue per CPU)
# IMG: BENCH_BDEV_MB MiB in the guest's tmpfs, written full once (no
# holes: every read finds data).
# Jobs (fio, libaio, direct=1, time-based BENCH_BDEV_RUNTIME s each, at
# iodepth 1 and 32): seqread, seqwrite (1 MiB blocks, MiB/s), randread,
# randwrite (4 KiB, IOPS).
#
# Output on stdout, for bench/report.py (env "bdev"):
#   BENCH|raw|bdev|CONFIG|JOB|qdN.mibps|REPEAT|VALUE
#   BENCH|raw|bdev|CONFIG|JOB|qdN.iops|REPEAT|VALUE
#   BENCH|error|bdev|CONFIG|JOB|REPEAT|what went wrong
#   BENCH|info|bdev|key|value
# Progress on stderr.  Exit status: 0 when every run gave its numbers.
# Environment: BENCH_BDEV_CONFIGS, BENCH_BDEV_MB (default 256),
# BENCH_BDEV_RUNTIME (default 5), BENCH_REPEAT (default 3), BENCH_DIR
# (scratch), UVFSD, FIO.
set -u

CONFIGS=${BENCH_BDEV_CONFIGS:-uvbd loop nbd}
MB=${BENCH_BDEV_MB:-256}
RUNTIME=${BENCH_BDEV_RUNTIME:-5}
REPEAT=${BENCH_REPEAT:-3}
DIR=${BENCH_DIR:-/tmp/bench}/bdev
UVFSD=${UVFSD:-uvfsd}
FIO=${FIO:-fio}
IMG=$DIR/disk.img
JOBS="seqread seqwrite randread randwrite"
DEPTHS="1 32"
errors=0
DEV="" DPID="" NBDPID=""

say() { printf 'bench[bdev]: %s\n' "$*" >&2; }
rec() { local IFS='|'; printf 'BENCH|%s\n' "$*"; }
err() { rec error bdev "$1" "$2" "$3" "$4"; say "ERROR $1 $2 #$3: $4"; errors=$((errors + 1)); }

# dev_up CFG: the device of CFG on $IMG in DEV
dev_up() {
	local i
	DEV="" DPID=""
	case $1 in
	uvbd)
		# (the old output goes first: the shell truncates it only in the child)
		rm -f "$DIR/uvfsd.out" "$DIR/uvfsd.err"
		"$UVFSD" --bdev file "$IMG" -f >"$DIR/uvfsd.out" 2>"$DIR/uvfsd.err" &
		DPID=$!
		for ((i = 0; i < 100; i++)); do
			[[ -s $DIR/uvfsd.out ]] && break
			kill -0 "$DPID" 2>/dev/null || break
			sleep 0.1
		done
		DEV=$(head -n1 "$DIR/uvfsd.out")
		[[ $DEV == /dev/uvbd* && -b $DEV ]] || {
			sed 's/^/  | /' "$DIR/uvfsd.err" >&2
			kill "$DPID" 2>/dev/null
			DPID=""
			DEV=""
			return 1
		}
		;;
	loop)
		DEV=$(losetup -f --show "$IMG") || return 1
		;;
	nbd)
		cat >"$DIR/nbd.conf" <<-EOF
			[generic]
			unixsock = $DIR/nbd.sock
			[bench]
			exportname = $IMG
		EOF
		rm -f "$DIR/nbd.sock"
		nbd-server -C "$DIR/nbd.conf" -p "$DIR/nbd.pid" 2>"$DIR/nbd.err" || {
			sed 's/^/  | /' "$DIR/nbd.err" >&2
			return 1
		}
		for ((i = 0; i < 100; i++)); do
			[[ -S $DIR/nbd.sock && -s $DIR/nbd.pid ]] && break
			sleep 0.1
		done
		NBDPID=$(cat "$DIR/nbd.pid" 2>/dev/null)
		nbd-client -unix "$DIR/nbd.sock" /dev/nbd0 -N bench -b 512 \
			-connections "$(nproc)" >"$DIR/nbdc.out" 2>&1 || {
			sed 's/^/  | /' "$DIR/nbdc.out" >&2
			return 1
		}
		# the size is set once the connection is up
		for ((i = 0; i < 100; i++)); do
			(($(blockdev --getsize64 /dev/nbd0 2>/dev/null || echo 0) > 0)) && break
			sleep 0.1
		done
		DEV=/dev/nbd0
		;;
	*)
		say "unknown configuration $1"
		return 1
		;;
	esac
	local sz
	sz=$(blockdev --getsize64 "$DEV" 2>/dev/null)
	[[ $sz == $((MB << 20)) ]] || { say "$1: $DEV has $sz bytes, want $((MB << 20))"; return 1; }
}

# dev_down CFG: tear it down; non-zero if that failed
dev_down() {
	local rc=0 i
	case $1 in
	uvbd)
		[[ -n $DPID ]] || return 1
		kill -TERM "$DPID"
		for ((i = 0; i < 100; i++)); do
			kill -0 "$DPID" 2>/dev/null || break
			sleep 0.1
		done
		kill -0 "$DPID" 2>/dev/null && { kill -9 "$DPID"; rc=1; }
		wait "$DPID" || rc=1
		;;
	loop)
		[[ -n $DEV ]] && { losetup -d "$DEV" || rc=1; }
		;;
	nbd)
		nbd-client -d /dev/nbd0 >/dev/null 2>&1 || rc=1
		if [[ -n $NBDPID ]]; then
			kill -TERM "$NBDPID" 2>/dev/null
			for ((i = 0; i < 50; i++)); do
				kill -0 "$NBDPID" 2>/dev/null || break
				sleep 0.1
			done
		fi
		;;
	esac
	DEV="" DPID="" NBDPID=""
	return $rc
}

cleanup() { [[ -z $DPID ]] || kill "$DPID" 2>/dev/null; [[ -z $NBDPID ]] || kill "$NBDPID" 2>/dev/null; }
trap cleanup EXIT

# job NAME DEPTH: one fio run on $DEV; prints "MiB/s IOPS" (terse v3:
# read KiB/s field 7, IOPS 8; write KiB/s 48, IOPS 49)
job() {
	local rw bs bw=7 io=8 out
	case $1 in
	seqread) rw=read bs=1m ;;
	seqwrite) rw=write bs=1m bw=48 io=49 ;;
	randread) rw=randread bs=4k ;;
	randwrite) rw=randwrite bs=4k bw=48 io=49 ;;
	esac
	out=$(timeout $((RUNTIME * 4 + 60)) "$FIO" --name="$1" --filename="$DEV" \
		--ioengine=libaio --direct=1 --iodepth="$2" --rw=$rw --bs=$bs \
		--time_based --runtime="$RUNTIME" --norandommap --randrepeat=0 \
		--output-format=terse --terse-version=3 2>"$DIR/fio.err") || {
		sed 's/^/  | /' "$DIR/fio.err" >&2
		return 1
	}
	awk -F';' -v b=$bw -v i=$io '$1 == 3 { printf "%.6g %.6g\n", $b / 1024, $i; found = 1 }
		END { exit !found }' <<<"$out"
}

mkdir -p "$DIR"
rec info bdev sizes "bdev_mb=$MB runtime=$RUNTIME repeat=$REPEAT"
rec info bdev kernel "$(uname -r)"
rec info bdev cpus "$(nproc)"
rec info bdev configs "$CONFIGS"
rec info bdev workloads "$JOBS"
say "backing file: $MB MiB in tmpfs"
dd if=/dev/zero of="$IMG" bs=1M count="$MB" status=none || { err - - 0 "cannot write $IMG"; exit 1; }
T_ALL=$EPOCHREALTIME
for ((rep = 1; rep <= REPEAT; rep++)); do
	for cfg in $CONFIGS; do
		say "$cfg #$rep"
		if ! dev_up "$cfg"; then
			err "$cfg" all "$rep" "device set-up failed"
			dev_down "$cfg"
			continue
		fi
		for j in $JOBS; do
			for qd in $DEPTHS; do
				if r=$(job "$j" "$qd"); then
					read -r mibps iops <<<"$r"
					rec raw bdev "$cfg" "$j" "qd$qd.mibps" "$rep" "$mibps"
					rec raw bdev "$cfg" "$j" "qd$qd.iops" "$rep" "$iops"
				else
					err "$cfg" "$j" "$rep" "fio at iodepth $qd failed"
				fi
			done
		done
		dev_down "$cfg" || err "$cfg" all "$rep" "tear-down failed"
	done
done
rm -f "$IMG"
rec info bdev seconds "$(awk -v a="$T_ALL" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }')"
rec info bdev errors "$errors"
((errors == 0))
