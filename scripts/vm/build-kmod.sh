#!/bin/bash
# build-kmod.sh - build an out-of-tree kernel module against the headers of
# the kernel that vm-run.sh boots.
#
# Usage: build-kmod.sh [--werror] [--install-deps] KMOD_SRC_DIR OUT_DIR [MAKE_ARG...]
#
#   The source tree is copied to OUT_DIR/build (the source dir stays clean),
#   built with `make -C /usr/src/linux-headers-<ver> M=OUT_DIR/build modules`
#   (W=1 by default; pass W= to disable), and the resulting .ko files are
#   copied to OUT_DIR.  Their absolute paths are printed on stdout, one per
#   line; the build log goes to stderr and OUT_DIR/build.log.
#
#   --werror        fail if the compiler/modpost printed any warning
#   --install-deps  apt-get install the kernel headers/compiler first
#   UVFS_VM_KVER    environment override of the kernel version
set -euo pipefail

VM_PROG=build-kmod
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/vm/lib.sh
. "$HERE/lib.sh"

WERROR=0 INSTALL=0
while [[ $# -gt 0 ]]; do
	case "$1" in
		--werror) WERROR=1 ;;
		--install-deps) INSTALL=1 ;;
		-h|--help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
		--) shift; break ;;
		-*) vm_die "unknown option: $1" ;;
		*) break ;;
	esac
	shift
done
[[ $# -ge 2 ]] || vm_die "usage: build-kmod.sh [--werror] KMOD_SRC_DIR OUT_DIR [MAKE_ARG...]"
SRC=$(cd "$1" && pwd) || vm_die "no such directory: $1"
mkdir -p "$2"
OUT=$(cd "$2" && pwd)
shift 2

pkgs=()
command -v make >/dev/null 2>&1 || pkgs+=(make)
command -v gcc >/dev/null 2>&1 || pkgs+=(gcc)
vm_pick_kver >/dev/null 2>&1 || pkgs+=(linux-image-amd64 linux-headers-amd64)
[[ "$INSTALL" == 1 ]] && pkgs=(make gcc linux-image-amd64 linux-headers-amd64)
vm_apt_install "${pkgs[@]+"${pkgs[@]}"}"
KVER=$(vm_pick_kver) || vm_die "no kernel with matching /lib/modules and headers"
KDIR=/usr/src/linux-headers-$KVER

BUILD=$OUT/build
rm -rf "$BUILD"
mkdir -p "$BUILD"
# copy the sources (excluding OUT_DIR itself if it lives inside SRC)
excl=()
case "$OUT/" in "$SRC"/*) excl=(--exclude="./${OUT#"$SRC"/}") ;; esac
tar -C "$SRC" "${excl[@]+"${excl[@]}"}" --exclude='*.ko' --exclude='*.o' \
	--exclude='*.mod' --exclude='*.mod.c' --exclude='.*.cmd' -cf - . |
	tar -C "$BUILD" -xf -

vm_log "building $SRC against $KDIR"
set +e
make -C "$KDIR" M="$BUILD" W=1 "$@" modules >"$OUT/build.log" 2>&1
rc=$?
set -e
cat "$OUT/build.log" >&2
[[ "$rc" == 0 ]] || vm_die "make failed (exit $rc), log: $OUT/build.log"
if [[ "$WERROR" == 1 ]] && grep -qiE '(^|[^a-z])warning:' "$OUT/build.log"; then
	vm_die "build produced warnings (--werror), log: $OUT/build.log"
fi

shopt -s nullglob globstar
kos=("$BUILD"/**/*.ko)
[[ ${#kos[@]} -gt 0 ]] || vm_die "no .ko produced in $BUILD"
for ko in "${kos[@]}"; do
	cp "$ko" "$OUT/"
	echo "$OUT/${ko##*/}"
done
