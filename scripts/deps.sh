#!/usr/bin/env bash
# Install what uvfs needs to build and test, with apt-get, if missing.
# Usage: scripts/deps.sh [--vm]   (--vm adds the kernel-module VM stage)
set -euo pipefail

pkgs=(build-essential cmake pkg-config libfuse3-dev fuse3 libext2fs-dev
	e2fsprogs check valgrind attr acl fuse2fs python3 util-linux kmod
	libmount-dev
	# stage 60 (install): .deb (dpkg-shlibdeps), man pages, completion,
	# dkms build of the installed module sources
	dpkg-dev groff-base bash-completion dkms
	# bench/run.sh: 4 KiB random I/O, the chart
	fio gnuplot-nox)
if [[ "${1:-}" == "--vm" ]]; then
	pkgs+=(qemu-system-x86 linux-image-amd64 linux-headers-amd64
	       busybox-static cpio xz-utils zstd
	       # bench/run.sh's block devices: NBD, the userland peer
	       nbd-server nbd-client)
fi

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing+=("$p")
done
if ((${#missing[@]})); then
	echo "deps: installing ${missing[*]}"
	if [[ $(id -u) -ne 0 ]]; then
		echo "deps: need root to apt-get install: ${missing[*]}" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q >/dev/null
	apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi
