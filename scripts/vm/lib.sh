# shellcheck shell=bash disable=SC2034 # BUILD, OUT, TOP: for the caller
# Common helpers for the uvfs VM test harness (sourced by vm-run.sh,
# build-kmod.sh and every script that boots a VM: tests/vm/*, bench/; not
# meant to be executed directly).  The launcher at the end (vm_init,
# vm_need_files, vm_launch, vm_result) is the one way those scripts boot
# the VM and report.

# where the harness and the tree are, whoever sources this
VM=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$VM/../.." && pwd)

vm_log() { printf '%s: %s\n' "${VM_PROG:-vm}" "$*" >&2; }
vm_die() { vm_log "error: $*"; exit 1; }

# vm_pick_kver: print the newest kernel version X for which all of
#   /boot/vmlinuz-X, /lib/modules/X/modules.dep, /usr/src/linux-headers-X
# exist.  UVFS_VM_KVER overrides the choice (it must still be complete).
vm_pick_kver() {
	local want="${UVFS_VM_KVER:-}" k v best=""
	if [[ -n "$want" ]]; then
		[[ -r /boot/vmlinuz-$want && -r /lib/modules/$want/modules.dep &&
		   -d /usr/src/linux-headers-$want ]] ||
			vm_die "UVFS_VM_KVER=$want: kernel, modules or headers missing"
		echo "$want"; return 0
	fi
	while read -r v; do
		[[ -n "$v" ]] || continue
		if [[ -r /lib/modules/$v/modules.dep && -d /usr/src/linux-headers-$v ]]; then
			best="$v"
		fi
	done < <(for k in /boot/vmlinuz-*-amd64; do
				 [[ -e "$k" ]] && echo "${k#/boot/vmlinuz-}"
			 done | sort -V)
	[[ -n "$best" ]] || return 1
	echo "$best"
}

# vm_apt_install PKG...: install Debian packages (needs root + apt-get).
vm_apt_install() {
	[[ $# -gt 0 ]] || return 0
	command -v apt-get >/dev/null 2>&1 ||
		vm_die "missing packages ($*) and no apt-get to install them"
	local sudo=()
	if [[ $(id -u) -ne 0 ]]; then
		command -v sudo >/dev/null 2>&1 ||
			vm_die "missing packages ($*); run as root or install them"
		sudo=(sudo)
	fi
	vm_log "installing: $*"
	export DEBIAN_FRONTEND=noninteractive
	"${sudo[@]}" apt-get update -qq >&2 ||
		vm_die "apt-get update failed"
	"${sudo[@]}" apt-get install -y -qq --no-install-recommends "$@" >&2 ||
		vm_die "apt-get install $* failed"
}

# vm_ensure_deps FORCE [EXTRA_PKG...]: make sure the harness' host tools,
# a VM kernel with modules and matching headers are present; install the
# missing ones with apt-get (all of them if FORCE=1).
vm_ensure_deps() {
	local force="$1"; shift
	local pkgs=() extra=("$@")
	command -v qemu-system-x86_64 >/dev/null 2>&1 || pkgs+=(qemu-system-x86)
	[[ -x /bin/busybox ]] && file_is_static /bin/busybox || pkgs+=(busybox-static)
	[[ -x /sbin/mke2fs && -x /sbin/e2fsck && -x /sbin/debugfs ]] || pkgs+=(e2fsprogs)
	command -v cpio >/dev/null 2>&1 || pkgs+=(cpio)
	command -v modinfo >/dev/null 2>&1 || pkgs+=(kmod)
	command -v make >/dev/null 2>&1 || pkgs+=(make)
	command -v timeout >/dev/null 2>&1 || pkgs+=(coreutils)
	if ! vm_pick_kver >/dev/null 2>&1; then
		pkgs+=(linux-image-amd64 linux-headers-amd64)
	fi
	if [[ "$force" == 1 ]]; then
		pkgs=(qemu-system-x86 linux-image-amd64 linux-headers-amd64
			  busybox-static e2fsprogs cpio kmod make gcc)
	fi
	pkgs+=("${extra[@]}")
	vm_apt_install "${pkgs[@]}"
	vm_pick_kver >/dev/null ||
		vm_die "no /boot/vmlinuz-*-amd64 with matching /lib/modules and /usr/src/linux-headers"
}

# vm_debian_python: print the path of Debian's python3 interpreter
# (/usr/bin/python3.X with /usr/lib/python3.X/os.py; what /usr/bin/python3
# points to, else the newest), not whatever `python3` on $PATH is (pyenv,
# venv).  Fails if there is none.
vm_debian_python() {
	local p best=""
	p=$(readlink -f /usr/bin/python3 2>/dev/null) || p=""
	if [[ "$p" =~ ^/usr/bin/python3\.[0-9]+$ && -x "$p" && -r /usr/lib/${p##*/}/os.py ]]; then
		echo "$p"; return 0
	fi
	while read -r p; do
		[[ -x "$p" && ! -L "$p" && -r /usr/lib/${p##*/}/os.py ]] && best=$p
	done < <(printf '%s\n' /usr/bin/python3.[0-9]* | grep -E '/python3\.[0-9]+$' | sort -V)
	[[ -n "$best" ]] || return 1
	echo "$best"
}

# file_is_static PATH: true for a statically linked ELF (no PT_INTERP).
file_is_static() {
	local out
	out=$(LC_ALL=C ldd "$1" 2>&1) || true
	[[ "$out" == *"not a dynamic executable"* || "$out" == *"statically linked"* ]]
}

# vm_add_uvfs ARRAY BUILD: append to the array named ARRAY the vm-run.sh
# arguments that put a CMake build's uvfsd, uvfs tool, libuvfs and backends
# (/root/backends) into the guest.
vm_add_uvfs() {
	local -n _vm_args=$1
	local build=$2 gcc_s so
	_vm_args+=(--bin "$build/bin/uvfsd:/usr/bin/uvfsd"
			   --bin "$build/bin/uvfs:/usr/bin/uvfs"
			   # the guest mounts a tmpfs on /tmp, hiding a build dir's RUNPATH
			   --file "$(readlink -f "$build/lib/libuvfs.so.0"):/usr/lib/x86_64-linux-gnu/libuvfs.so.0")
	# glibc dlopen()s libgcc_s for pthread_cancel (libfuse's worker
	# threads); ldd does not list it
	gcc_s=$(${CC:-cc} -print-file-name=libgcc_s.so.1 2>/dev/null || true)
	[[ -e "$gcc_s" ]] || gcc_s=/lib/x86_64-linux-gnu/libgcc_s.so.1
	_vm_args+=(--file "$(readlink -f "$gcc_s"):/usr/lib/x86_64-linux-gnu/libgcc_s.so.1")
	for so in "$build"/backends/*.so; do
		_vm_args+=(--bin "$so:/root/backends/${so##*/}")
	done
}

# vm_need_qemu: exit 77 (skipped) without qemu or a VM kernel with headers.
vm_need_qemu() {
	if ! command -v qemu-system-x86_64 >/dev/null 2>&1 || ! vm_pick_kver >/dev/null 2>&1; then
		echo "SKIP: qemu or a VM kernel with headers missing"
		exit 77
	fi
}

# vm_build_ko SRC [MAKE-VAR=VALUE...]: build the module in SRC against the
# VM kernel (warnings fatal) into $OUT and print the .ko's path; on failure
# show the compiler's output and exit 1.
vm_build_ko() {
	local src=$1
	shift
	"$VM/build-kmod.sh" --werror "$src" "$OUT" "$@" 2>"$OUT/build.err" || {
		cat "$OUT/build.err" >&2
		echo "FAIL: building ${src#"$TOP"/} failed" >&2
		exit 1
	}
}

# vm_build_uvfs_ko: vm_build_ko for this tree's kmod/
vm_build_uvfs_ko() { vm_build_ko "$TOP/kmod" UVFS_INCLUDE="$TOP/include"; }

# vm_init PROG USAGE [ARG...]: the start of a script that boots the VM.
# Sets VM_PROG (log prefix), VM_T0 (start time), OUT (a scratch dir,
# removed at exit) and, when USAGE is not empty, BUILD from the first ARG
# (a CMake build of this tree; without it: "usage: $0 USAGE").
vm_init() {
	VM_PROG=$1
	local usage=$2
	shift 2
	if [[ -n $usage ]]; then
		[[ $# -ge 1 ]] || vm_die "usage: $0 $usage"
		BUILD=$(cd "$1" 2>/dev/null && pwd) || vm_die "$1: no such build directory"
	fi
	VM_T0=$(date +%s.%N)
	OUT=$(mktemp -d "${TMPDIR:-/tmp}/uvfs-$VM_PROG.XXXXXX")
	# shellcheck disable=SC2064 # OUT is fixed from here on
	trap "rm -rf '$OUT'" EXIT
}

# vm_need_files FILE...: each must exist, or the tree was not built
vm_need_files() {
	local f
	for f in "$@"; do
		[[ -e $f ]] || vm_die "missing $f (build the tree first)"
	done
}

# vm_whole_numbers PREFIX VAR...: each VAR holds a whole number, else exit
# naming PREFIXVAR (the environment variable it came from)
vm_whole_numbers() {
	local prefix=$1 v
	shift
	for v in "$@"; do
		[[ ${!v} =~ ^[0-9]+$ ]] || vm_die "$prefix$v wants a whole number: ${!v}"
	done
}

# vm_launch VM-RUN-ARG...: boot the VM (vm-run.sh with these arguments
# and the words of $UVFS_VM_ARGS, e.g. "--verbose"; the guest script finds
# tests/lib.sh as /root/lib.sh, tests/vm/guest-lib.sh as
# /root/guest-lib.sh) and set VM_RC to its exit status; the caller decides
# what a failure means.
vm_launch() {
	VM_RC=0
	# shellcheck disable=SC2086 # UVFS_VM_ARGS is split into words
	"$VM/vm-run.sh" --file "$TOP/tests/lib.sh:/root/lib.sh" \
		--file "$TOP/tests/vm/guest-lib.sh:/root/guest-lib.sh" "$@" \
		${UVFS_VM_ARGS:-} || VM_RC=$?
}

# vm_result: the closing line ("PROG: PASS in N s", or FAIL with vm-run's
# exit status) and exit with that status.
vm_result() {
	if [[ $VM_RC == 0 ]]; then
		printf '%s: PASS' "$VM_PROG"
	else
		printf '%s: FAIL (exit %s)' "$VM_PROG" "$VM_RC"
	fi
	awk -v a="$VM_T0" -v b="$(date +%s.%N)" 'BEGIN { printf " in %.0f s\n", b - a }'
	exit "$VM_RC"
}
