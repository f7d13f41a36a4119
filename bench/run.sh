#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The issue-10 benchmark in one command: every workload of
# bench/workloads.sh on every configuration, the host's on the host and the
# guest's in one boot of the QEMU (TCG) VM, then medians, ratios against
# the targets, a CSV and a chart (bench/report.py, gnuplot).  Not a test:
# it asserts nothing about speed; it fails only when something did not run.
#
# usage: bench/run.sh BUILD [--quick] [--repeat N] [--out DIR] [--no-vm] [--no-host] [--perf]
#   BUILD      a CMake build of this tree (built here if it has no uvfsd)
#   --quick    every workload once with small sizes (200 files, 8 MiB):
#              minutes, for the test stage; the numbers mean little
#   --repeat N repeats per configuration and workload (default 3)
#   --out DIR  where the results go (default bench/results)
#   --no-vm, --no-host   skip one part
#   --perf     also profile every run of the first repeat (perf record -a,
#              cpu-clock; the guest gets the host's perf): its top symbols
#              go into results.md.  Profiling slows the runs it watches:
#              compare timings only between runs without --perf.
# BENCH_WORKLOADS: a subset of the workloads (nullop meta meta2 tree seq
# fio, and bdev: the block devices, VM only), on both sides.
# Results in DIR: results.md (the tables: medians, ratios, targets met or
# missed, requests per operation by opcode), results.csv (one median a
# row), results.png (the chart), raw/ (every record of every repeat:
# host.txt, vm.txt; the VM console log).
#
# Configurations -- host: kernel-ext2 (the host kernel's ext4 driver on a
# loop device), tmpfs, fuse2fs, memfs-fuse, ext2-fuse; VM (Debian's kernel,
# 2 vCPUs, 2 GiB): kernel-ext2, tmpfs, fuse2fs, memfs-fuse, ext2-fuse,
# memfs-kmod, ext2-kmod (BENCH_HOST_CONFIGS, BENCH_VM_CONFIGS: a subset).
# Block devices in the same VM boot (bench/bdev/workloads.sh, issue 11):
# fio on /dev/uvbdN (uvfsd --bdev file), the kernel's loop device and NBD
# (nbd-server over a Unix socket), all on one backing file in the guest's
# tmpfs: sequential 1 MiB and random 4 KiB reads and writes at iodepth 1
# and 32 (libaio, direct); BENCH_BDEV_CONFIGS a subset of "uvbd loop nbd",
# BENCH_BDEV_MB the file's size (256 MiB; quick 64), BENCH_BDEV_RUNTIME
# seconds per fio job (5; quick 1).
# Sizes (full; host / VM): null-op 100,000 / 2,000 statx; 10,000 / 500
# files (meta; meta2: half of them in each of 2 directories); a 10,000 /
# 500-file tree; 256 / 32 MiB sequential; fio 4 KiB random over 64 / 4
# MiB.  BENCH_NULLOPS, BENCH_NFILES, BENCH_TREE_FILES, BENCH_SEQ_MB,
# BENCH_FIO_MB set a size for both, BENCH_VM_<same> for the VM alone;
# UVFS_VM_TIMEOUT the VM's limit (s).
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
# shellcheck source=scripts/vm/lib.sh
. "$TOP/scripts/vm/lib.sh"

die() { echo "bench: $*" >&2; exit 2; }
quick=0 perf=0 repeat="" results=$HERE/results host=1 vm=1 build=""
while (($#)); do
	case $1 in
	--quick) quick=1 ;;
	--repeat)
		[[ ${2:-} =~ ^[1-9][0-9]*$ ]] || die "--repeat wants a whole number >= 1"
		repeat=$2
		shift
		;;
	--out)
		[[ -n ${2:-} ]] || die "--out wants a directory"
		results=$2
		shift
		;;
	--no-vm) vm=0 ;;
	--no-host) host=0 ;;
	--perf) perf=1 ;;
	-h | --help)
		sed -n '3,/^set -uo/{/^set -uo/d;s/^# \{0,1\}//;p}' "$0"
		exit 0
		;;
	-*) die "unknown option $1 (see --help)" ;;
	*)
		[[ -z $build ]] || die "one BUILD directory, not '$build' and '$1'"
		build=$1
		;;
	esac
	shift
done
[[ -n $build ]] || die "usage: bench/run.sh BUILD [--quick] [--repeat N] [--out DIR] [--no-vm] [--no-host] [--perf]"
((host || vm)) || die "--no-vm and --no-host leave nothing to run"
[[ $(id -u) == 0 ]] || die "run as root (it mounts filesystems and drops caches)"

# Sizes: the issue's on the host.  In the VM a daemon round trip costs
# milliseconds of TCG (4-8 ms on a busy host) instead of tens of
# microseconds, so the issue's sizes would take hours there: the VM's are
# a fifth to a fiftieth of them (the full run took 37 min on a busy 2-core
# host: 15 host, 21 VM).  BENCH_X sets a size for both, BENCH_VM_X for the
# VM alone.
sizes="NULLOPS NFILES TREE_FILES SEQ_MB FIO_MB"
if ((quick)); then
	host_def=(2000 200 200 8 4) vm_def=(500 100 100 4 2) img_mb=256
	: "${repeat:=1}"
	bdev_mb=${BENCH_BDEV_MB:-64} bdev_runtime=${BENCH_BDEV_RUNTIME:-1}
else
	host_def=(100000 10000 10000 256 64) vm_def=(2000 500 500 32 4) img_mb=1024
	: "${repeat:=3}"
	bdev_mb=${BENCH_BDEV_MB:-256} bdev_runtime=${BENCH_BDEV_RUNTIME:-5}
fi
[[ $bdev_mb =~ ^[1-9][0-9]*$ ]] && ((bdev_mb <= 512)) ||
	die "BENCH_BDEV_MB wants a whole number of MiB, 1..512: $bdev_mb"
[[ $bdev_runtime =~ ^[1-9][0-9]*$ ]] || die "BENCH_BDEV_RUNTIME wants whole seconds >= 1: $bdev_runtime"
BDEV_CONFIGS=${BENCH_BDEV_CONFIGS-uvbd loop nbd}
for c in $BDEV_CONFIGS; do
	[[ $c == uvbd || $c == loop || $c == nbd ]] ||
		die "BENCH_BDEV_CONFIGS: unknown configuration '$c' (uvbd loop nbd)"
done
i=0
for v in $sizes; do
	h=BENCH_$v g=BENCH_VM_$v
	declare "H_$v=${!h:-${host_def[i]}}"
	declare "G_$v=${!g:-${!h:-${vm_def[i]}}}"
	for x in "H_$v" "G_$v"; do
		[[ ${!x} =~ ^[1-9][0-9]*$ ]] || die "size $v (BENCH_$v or BENCH_VM_$v) wants a whole number >= 1: ${!x}"
	done
	i=$((i + 1))
done
# the guest's tmpfs holds the image, the written data and the tree: keep
# the sequential file well inside its 2 GiB
((G_SEQ_MB <= 512)) || die "BENCH_VM_SEQ_MB=$G_SEQ_MB: at most 512 (the VM's memory)"

# a fresh clone: packages (with the VM's when it runs), then the build
if ((vm)); then "$TOP/scripts/deps.sh" --vm; else "$TOP/scripts/deps.sh"; fi ||
	die "installing the packages failed"
if [[ ! -x $build/bin/uvfsd || ! -x $build/bin/uvfs-opbench ]]; then
	"$TOP/scripts/build.sh" "$build" || die "building $build failed"
fi

vm_init bench BUILD "$build"
# without qemu the stage skips (77) as every VM stage does, before spending
# minutes on the host part
((vm)) && vm_need_qemu
vm_need_files "$BUILD/bin/uvfsd" "$BUILD/bin/uvfs" "$BUILD/bin/uvfs-opbench" \
	"$BUILD/backends/uvfs-memfs.so" "$BUILD/backends/uvfs-ext2.so"
mkdir -p "$results/raw" || die "cannot create $results/raw"
results=$(cd "$results" && pwd)
rm -f "$results"/raw/*.txt "$results"/raw/console.log "$results"/results.{md,csv,png}
if ! python3 "$HERE/mktree.py" "$OUT/host-tree.tar" "$H_TREE_FILES" ||
	! python3 "$HERE/mktree.py" "$OUT/vm-tree.tar" "$G_TREE_FILES"; then
	die "cannot make the tree tarballs"
fi
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
status=0
HOST_CONFIGS=${BENCH_HOST_CONFIGS:-kernel-ext2 tmpfs fuse2fs memfs-fuse ext2-fuse}
VM_CONFIGS=${BENCH_VM_CONFIGS:-kernel-ext2 tmpfs fuse2fs memfs-fuse ext2-fuse memfs-kmod ext2-kmod}

# conf H|G: the settings of the host (H) or the guest (G) as exported
# shell assignments
conf() {
	local v x
	for v in $sizes; do
		x=$1_$v
		printf 'export BENCH_%s=%q\n' "$v" "${!x}"
	done
	printf 'export BENCH_REPEAT=%q BENCH_IMG_MB=%q BENCH_PERF=%q\n' \
		"$repeat" "$img_mb" "$perf"
	# a subset of the workloads, for development runs
	[[ -z ${BENCH_WORKLOADS:-} ]] ||
		printf 'export BENCH_WORKLOADS=%q\n' "$BENCH_WORKLOADS"
}

if ((host)); then
	vm_log "host part: $(nproc) CPUs, load average $LOAD0"
	mkdir -p "$OUT/host"
	conf H >"$OUT/host.conf"
	(
		# shellcheck source=/dev/null
		. "$OUT/host.conf"
		BENCH_ENV=host BENCH_DIR=$OUT/host BENCH_TREE=$OUT/host-tree.tar \
			BENCH_CONFIGS=$HOST_CONFIGS \
			UVFSD=$BUILD/bin/uvfsd UVFS=$BUILD/bin/uvfs \
			OPBENCH=$BUILD/bin/uvfs-opbench \
			bash "$HERE/workloads.sh"
	) >"$results/raw/host.txt" || { status=1; vm_log "host part: some runs failed"; }
fi

if ((vm)); then
	KO=$(vm_build_uvfs_ko)
	{
		conf G
		printf 'export BENCH_CONFIGS=%q\n' "$VM_CONFIGS"
		printf 'export BENCH_BDEV_CONFIGS=%q BENCH_BDEV_MB=%q BENCH_BDEV_RUNTIME=%q\n' \
			"$BDEV_CONFIGS" "$bdev_mb" "$bdev_runtime"
		printf 'export BENCH_TREE=/root/tree.tar\n'
	} >"$OUT/bench.conf"
	args=(--timeout "${UVFS_VM_TIMEOUT:-$((quick ? 1800 : 7200))}" --mem 2G
		--module fuse --module loop --module ext4 --module nbd
		--file "$KO:/root/uvfs.ko"
		--file "$OUT/bench.conf:/root/bench.conf"
		--file "$HERE/workloads.sh:/root/workloads.sh"
		--file "$HERE/bdev/workloads.sh:/root/bdev-workloads.sh"
		--bin "$(command -v nbd-server):/usr/bin/nbd-server"
		--bin "$(command -v nbd-client):/usr/sbin/nbd-client"
		--bin "$(command -v losetup):/usr/sbin/losetup"
		--file "$OUT/vm-tree.tar:/root/tree.tar"
		--bin "$BUILD/bin/uvfs-opbench:/usr/bin/uvfs-opbench"
		--bin "$(command -v fio):/usr/bin/fio"
		--bin "$(command -v fuse2fs):/usr/bin/fuse2fs"
		--log "$OUT/console.log"
		--script "$HERE/vm_guest.sh")
	if ((perf)); then
		command -v perf >/dev/null || die "--perf: no perf on this host (apt-get install linux-perf)"
		args+=(--bin "$(command -v perf):/usr/bin/perf")
	fi
	# GNU tools in the guest too, so the tree and dd workloads run the
	# same programs as on the host (busybox's would be another benchmark)
	for t in tar find xargs du dd cat rm timeout; do
		args+=(--bin "$(command -v $t):/usr/bin/$t")
	done
	vm_add_uvfs args "$BUILD"
	vm_log "VM part: one boot, $(wc -w <<<"$VM_CONFIGS") configurations"
	vm_launch "${args[@]}"
	cp "$OUT/console.log" "$results/raw/console.log" 2>/dev/null
	sed -n 's/\r$//; /^BENCH|/p' "$OUT/console.log" >"$results/raw/vm.txt" 2>/dev/null
	((VM_RC == 0)) || { status=1; vm_log "VM part: exit $VM_RC (some runs failed, or the VM did)"; }
fi

LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)
{
	echo "BENCH|info|run|load|$LOAD0 before, $LOAD1 after"
	echo "BENCH|info|run|qemu|$(pgrep -c qemu-system || true) other qemu VMs at the end"
	echo "BENCH|info|run|mode|$( ((quick)) && echo quick || echo full)"
} >"$results/raw/run.txt"
python3 "$HERE/report.py" "$results" "$results"/raw/*.txt || { status=1; vm_log "report failed"; }
[[ -s $results/results.md ]] && cat "$results/results.md"
vm_result_status=$status
VM_RC=$vm_result_status
vm_result
