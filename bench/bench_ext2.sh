#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# ext2 throughput: kernel ext2 on loop vs fuse2fs vs uvfs ext2 over FUSE,
# on this machine, in one run.  Not a test: no thresholds; exits nonzero
# only if something failed to run.
#
# usage: bench/bench_ext2.sh BUILD
# env:   KINDS="kernel fuse2fs uvfs"   what to measure
#        SIZE_MB=256   sequential file size;  NFILES=10000   metadata files
#
# Per kind, on a fresh 1 GiB ext2 image (-I 256) in /tmp:
#   write   dd if=/dev/zero bs=1M count=SIZE_MB conv=fsync
#   read    unmount, sync, drop caches, mount again, dd of=/dev/null bs=1M
#   create/stat/unlink  NFILES empty files in one directory (metabench)
set -euo pipefail
. "$(dirname "$0")/../tests/ext2/lib.sh"
lib_init "${1:?usage: $0 BUILD}" bench
KINDS=${KINDS:-kernel fuse2fs uvfs}
SIZE_MB=${SIZE_MB:-256}
NFILES=${NFILES:-10000}
metabench=$BUILD/bin/uvfs-metabench
if [[ ! -x $metabench ]]; then
	metabench=$LIB_TMP/metabench
	cc -O2 -o "$metabench" "$(dirname "$0")/metabench.c" ||
		die "cannot build metabench"
fi
declare -A T=()
errors=0
mnt=$LIB_TMP/mnt

now() { date +%s.%N; }
drop_caches() { sync; echo 3 >/proc/sys/vm/drop_caches; }

bench_kind() { # KIND; fills T[KIND.phase]
	local k=$1 img=$LIB_TMP/$1.img t0 t1
	mke2fs -q -F -t ext2 -I 256 "$img" 1G >/dev/null || return 1
	fs_mount "$k" "$img" "$mnt" rw || return 1
	t0=$(now)
	dd if=/dev/zero of="$mnt/big" bs=1M count="$SIZE_MB" conv=fsync \
		status=none || { fs_umount "$mnt"; return 1; }
	t1=$(now)
	T[$k.write]=$(echo "$t1 - $t0" | bc)
	fs_umount "$mnt" || return 1
	drop_caches
	fs_mount "$k" "$img" "$mnt" rw || return 1
	t0=$(now)
	dd if="$mnt/big" of=/dev/null bs=1M status=none ||
		{ fs_umount "$mnt"; return 1; }
	t1=$(now)
	T[$k.read]=$(echo "$t1 - $t0" | bc)
	rm -f "$mnt/big"
	mkdir "$mnt/meta"
	while read -r phase secs; do
		T[$k.$phase]=$secs
	done < <("$metabench" "$mnt/meta" "$NFILES" || echo "error 0")
	[[ -n ${T[$k.error]:-} ]] && { fs_umount "$mnt"; return 1; }
	fs_umount "$mnt" || return 1
	fsck_clean "$img" || log "warning: $k left $img not clean"
	rm -f "$img"
}

need_pkgs bc:bc
for k in $KINDS; do
	if [[ $k == uvfs ]] && ! uvfs_has_ext2; then
		log "uvfs: $UVFSD has no ext2 backend; skipped"
		errors=$((errors + 1))
		continue
	fi
	log "== $k"
	if ! bench_kind "$k"; then
		log "$k: failed to run"
		errors=$((errors + 1))
	fi
done

fmt() { if [[ -n ${1:-} ]]; then printf '%.3f' "$1"; else echo -; fi; }
ratio() { # A B -> A/B or -
	[[ -n ${1:-} && -n ${2:-} ]] || { echo -; return; }
	printf '%.2f' "$(echo "$1 / $2" | bc -l)"
}
printf '\next2, %s MiB sequential, %s files; seconds (lower is better)\n' \
	"$SIZE_MB" "$NFILES"
printf '%-16s %9s %9s %9s %11s %11s %11s\n' phase kernel fuse2fs uvfs \
	fuse2fs/kern uvfs/kern uvfs/fuse2fs
for ph in write read create stat unlink; do
	kk=${T[kernel.$ph]:-} ff=${T[fuse2fs.$ph]:-} uu=${T[uvfs.$ph]:-}
	label=$ph
	[[ $ph == write ]] && label="write+fsync"
	[[ $ph == read ]] && label="read (cold)"
	printf '%-16s %9s %9s %9s %11s %11s %11s\n' "$label" "$(fmt "$kk")" \
		"$(fmt "$ff")" "$(fmt "$uu")" \
		"$(ratio "$ff" "$kk")" "$(ratio "$uu" "$kk")" "$(ratio "$uu" "$ff")"
done
# the metadata workload as one number: create + stat + unlink
for k in kernel fuse2fs uvfs; do
	if [[ -n ${T[$k.create]:-} && -n ${T[$k.stat]:-} &&
		-n ${T[$k.unlink]:-} ]]; then
		T[$k.meta]=$(echo "${T[$k.create]} + ${T[$k.stat]} + ${T[$k.unlink]}" | bc)
	fi
done
kk=${T[kernel.meta]:-} ff=${T[fuse2fs.meta]:-} uu=${T[uvfs.meta]:-}
printf '%-16s %9s %9s %9s %11s %11s %11s\n' "metadata total" "$(fmt "$kk")" \
	"$(fmt "$ff")" "$(fmt "$uu")" \
	"$(ratio "$ff" "$kk")" "$(ratio "$uu" "$kk")" "$(ratio "$uu" "$ff")"
[[ -n $ff && -n $uu ]] &&
	printf 'uvfs is %sx faster than fuse2fs on the metadata workload\n' \
		"$(ratio "$ff" "$uu")"
if [[ -n ${T[kernel.write]:-} ]]; then
	printf '\nMiB/s: '
	for k in $KINDS; do
		[[ -n ${T[$k.write]:-} ]] || continue
		printf '%s write %.0f read %.0f; ' "$k" \
			"$(echo "$SIZE_MB / ${T[$k.write]}" | bc -l)" \
			"$(echo "$SIZE_MB / ${T[$k.read]}" | bc -l)"
	done
	echo
fi
((errors == 0)) || { echo "$errors kind(s) failed to run"; exit 1; }
