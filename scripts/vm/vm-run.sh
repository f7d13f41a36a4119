#!/bin/bash
# vm-run.sh - boot the newest installed Debian kernel in QEMU (TCG) with a
# throw-away initramfs, run a test script in it and report its status.
#
# See tests/vm/README.md for the full description.  Quick reference:
#
#   vm-run.sh [options] --script GUEST_SCRIPT
#   vm-run.sh [options] --interactive [--gdb]
#
# Options:
#   --install-deps          apt-get install all host packages first
#   --timeout SECS          kill the VM after SECS seconds (default 900;
#                           0 = none; interactive default: none)
#   --mem SIZE              guest memory (default 1G)
#   --smp N                 guest CPUs (default 2)
#   --bin HOST[:GUEST]      executable + its shared libraries (ldd)
#   --file HOST:GUEST       a single file
#   --dir HOSTDIR:GUESTDIR  a directory tree
#   --module NAME           in-tree module (+ modules.dep / softdep deps),
#                           loaded at boot in dependency order
#   --ko FILE.ko            out-of-tree module, copied to /ko/ in the guest
#                           and insmod-ed at boot after the --module ones
#                           (its modinfo "depends" are added automatically)
#   --script FILE           guest script (run with its #! interpreter, else
#                           /bin/sh = busybox ash); its exit status becomes
#                           ours
#   --interactive           shell on the serial console (after --script, if
#                           one is given); exit with `poweroff -f`/Ctrl-D,
#                           or Ctrl-A X to kill QEMU
#   --gdb                   include /usr/bin/gdb (+ libs, python stdlib)
#   --python                include Debian's python3 (/usr/bin/python3.X of
#                           the python3 package, never a pyenv/venv one) as
#                           /usr/bin/python3, with its stdlib (tests, IDLE,
#                           tkinter, lib2to3, build files, __pycache__
#                           pruned) and lib-dynload + the libraries it needs
#   --append ARGS           extra kernel command line arguments
#   --ignore-kmsg REGEX     kernel log lines matching REGEX (ERE) are not
#                           treated as errors (repeatable)
#   --log FILE              save the full console log to FILE
#   --verbose               also show the guest's dmesg dump live
#   --keep                  keep the work directory (initramfs) for debugging
#
# Exit status: the script's exit status; 1 on timeout, missing exit marker
# (guest crash/panic), failed module load, or kernel errors (Oops, BUG:,
# WARNING:, Call Trace, lockdep, general protection, INFO: task blocked,
# Kernel panic) in the guest's kernel log.
set -euo pipefail

VM_PROG=vm-run
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/vm/lib.sh
. "$HERE/lib.sh"

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit "${1:-0}"; }

INSTALL_DEPS=0 TIMEOUT="" MEM=1G SMP=2 INTERACTIVE=0 SCRIPT="" GDB=0
APPEND="" LOG="" VERBOSE=0 KEEP=0 PYTHON=0
BINS=() FILES=() DIRS=() MODULES=() KOS=() IGNORE=()

need_arg() { [[ $# -ge 2 && -n "$2" ]] || vm_die "option $1 needs an argument"; }
while [[ $# -gt 0 ]]; do
	case "$1" in
		--install-deps) INSTALL_DEPS=1 ;;
		--timeout)  need_arg "$@"; TIMEOUT="$2"; shift ;;
		--mem)      need_arg "$@"; MEM="$2"; shift ;;
		--smp)      need_arg "$@"; SMP="$2"; shift ;;
		--bin)      need_arg "$@"; BINS+=("$2"); shift ;;
		--file)     need_arg "$@"; FILES+=("$2"); shift ;;
		--dir)      need_arg "$@"; DIRS+=("$2"); shift ;;
		--module)   need_arg "$@"; MODULES+=("$2"); shift ;;
		--ko)       need_arg "$@"; KOS+=("$2"); shift ;;
		--script)   need_arg "$@"; SCRIPT="$2"; shift ;;
		--interactive) INTERACTIVE=1 ;;
		--gdb)      GDB=1 ;;
		--python)   PYTHON=1 ;;
		--append)   need_arg "$@"; APPEND="$APPEND $2"; shift ;;
		--ignore-kmsg) need_arg "$@"; IGNORE+=("$2"); shift ;;
		--log)      need_arg "$@"; LOG="$2"; shift ;;
		--verbose)  VERBOSE=1 ;;
		--keep)     KEEP=1 ;;
		-h|--help)  usage 0 ;;
		*) vm_log "unknown argument: $1"; usage 2 >&2 ;;
	esac
	shift
done

[[ -n "$SCRIPT" || "$INTERACTIVE" == 1 ]] || vm_die "need --script FILE or --interactive"
[[ -z "$SCRIPT" || -r "$SCRIPT" ]] || vm_die "script not readable: $SCRIPT"
if [[ -z "$TIMEOUT" ]]; then
	if [[ "$INTERACTIVE" == 1 ]]; then TIMEOUT=0; else TIMEOUT=900; fi
fi
[[ "$TIMEOUT" =~ ^[0-9]+$ ]] || vm_die "--timeout wants whole seconds: $TIMEOUT"

extra_pkgs=()
if [[ "$GDB" == 1 ]] && ! command -v gdb >/dev/null 2>&1; then extra_pkgs+=(gdb); fi
if [[ "$PYTHON" == 1 ]] && { [[ "$INSTALL_DEPS" == 1 ]] || ! vm_debian_python >/dev/null; }; then
	extra_pkgs+=(python3)
fi
vm_ensure_deps "$INSTALL_DEPS" "${extra_pkgs[@]}"
KVER=$(vm_pick_kver)
KERNEL=/boot/vmlinuz-$KVER
MODDIR=/lib/modules/$KVER
[[ -r "$KERNEL" ]] || vm_die "$KERNEL not readable (run as root?)"

T_START=$(date +%s.%N)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/uvfs-vm.XXXXXX")
# shellcheck disable=SC2317  # invoked via trap
cleanup() {
	if [[ "$KEEP" == 1 ]]; then vm_log "work directory kept: $WORK"
	else rm -rf "$WORK"; fi
}
trap cleanup EXIT
R=$WORK/root
LOG_TMP=$WORK/console.log

# ---------------------------------------------------------------- rootfs ---
# usr-merged layout, like the Debian host, so both /lib/... and /usr/lib/...
# paths reported by ldd resolve.
mkdir -p "$R"/usr/{bin,sbin,lib,lib64} "$R"/{dev,proc,sys,tmp,run,mnt,root,etc,ko,uvfs-vm}
ln -s usr/bin "$R/bin"; ln -s usr/sbin "$R/sbin"
ln -s usr/lib "$R/lib"; ln -s usr/lib64 "$R/lib64"
if [[ $(id -u) -eq 0 ]]; then
	# initial console for the kernel to hand to /init (init re-opens it
	# after mounting devtmpfs anyway, so this is optional)
	mknod -m 600 "$R/dev/console" c 5 1 2>/dev/null || true
fi

declare -A COPIED=()
# put_file SRC DST: copy SRC (dereferenced) to guest path DST.
put_file() {
	local src="$1" dst="$2"
	[[ -n "${COPIED[$dst]:-}" ]] && return 0
	[[ -e "$src" ]] || vm_die "no such file: $src"
	mkdir -p "$R$(dirname "$dst")"
	rm -f "$R$dst"
	cp -L --preserve=mode "$src" "$R$dst"
	COPIED[$dst]=1
}
# put_bin SRC [DST]: copy an executable plus the shared libraries it needs.
put_bin() {
	local src="$1" dst="${2:-$1}"
	[[ -x "$src" ]] || vm_die "not an executable: $src"
	put_file "$src" "$dst"
	put_libs "$src"
}
# put_libs FILE: copy the shared libraries (+ loader) that ldd lists for FILE.
put_libs() {
	local src="$1" line lib
	while read -r line; do
		lib=""
		case "$line" in
			*"=> not found"*) vm_die "$src: missing library: $line" ;;
			*"=> /"*) lib=${line#*=> }; lib=${lib%% (*} ;;
			/*) lib=${line%% (*} ;;
		esac
		[[ -n "$lib" ]] && put_file "$lib" "$lib"
	done < <(LC_ALL=C ldd "$src" 2>/dev/null || true)
	return 0
}
# put_link TARGET LINKPATH
put_link() { mkdir -p "$R$(dirname "$2")"; ln -sfn "$1" "$R$2"; }
# put_python: Debian's interpreter as /usr/bin/python3.X + /usr/bin/python3,
# its stdlib minus what a test never needs, and lib-dynload (minus test
# modules and ones that drag in big libraries: sqlite, dbm, nis/krb5,
# curses, ssl) with the libraries its extension modules link.
put_python() {
	local py pyname pylib so
	py=$(vm_debian_python) || vm_die "no Debian python3 (/usr/bin/python3.X + /usr/lib/python3.X)"
	pyname=${py##*/}
	pylib=/usr/lib/$pyname
	put_bin "$py" "/usr/bin/$pyname"
	put_link "$pyname" /usr/bin/python3
	mkdir -p "$R$pylib"
	tar -C "$pylib" --exclude=test --exclude=tests --exclude=idle_test \
		--exclude=__pycache__ --exclude=idlelib --exclude=tkinter \
		--exclude=turtledemo --exclude=lib2to3 --exclude=ensurepip \
		--exclude=distutils --exclude=pydoc_data --exclude='config-3*' \
		--exclude=site-packages --exclude=dist-packages \
		--exclude='lib-dynload/_test*' --exclude='lib-dynload/_ctypes_test*' \
		--exclude='lib-dynload/_xx*' --exclude='lib-dynload/xx*' \
		--exclude='lib-dynload/_sqlite3*' --exclude='lib-dynload/_dbm*' \
		--exclude='lib-dynload/_gdbm*' --exclude='lib-dynload/nis.*' \
		--exclude='lib-dynload/_curses*' --exclude='lib-dynload/_ssl.*' \
		--exclude='lib-dynload/_tkinter*' --exclude='lib-dynload/ossaudiodev*' \
		-cf - . | tar -C "$R$pylib" -xf -
	for so in "$pylib"/lib-dynload/*.so; do
		[[ -e "$R$so" ]] && put_libs "$so"
	done
	return 0
}

# busybox (static) + the real e2fsprogs tools
file_is_static /bin/busybox || vm_die "/bin/busybox is not static (install busybox-static)"
put_file /bin/busybox /bin/busybox
for b in mke2fs e2fsck debugfs tune2fs dumpe2fs; do
	[[ -x /sbin/$b ]] && put_bin "/sbin/$b"
done
for t in ext2 ext3 ext4; do
	put_link mke2fs "/sbin/mkfs.$t"; put_link e2fsck "/sbin/fsck.$t"
done
[[ -r /etc/mke2fs.conf ]] && put_file /etc/mke2fs.conf /etc/mke2fs.conf
[[ -x /bin/bash ]] && put_bin /bin/bash
for t in l/linux v/vt100 v/vt102 v/vt220 x/xterm x/xterm-256color d/dumb s/screen; do
	for d in /lib/terminfo /usr/share/terminfo; do
		[[ -r $d/$t ]] && { put_file "$d/$t" "/usr/share/terminfo/$t"; break; }
	done
done
if [[ "$GDB" == 1 ]]; then
	put_bin "$(command -v gdb)" /usr/bin/gdb
	[[ -d /usr/share/gdb ]] && { mkdir -p "$R/usr/share"; cp -a /usr/share/gdb "$R/usr/share/"; }
	# gdb embeds python; without its stdlib it cannot start.
	pylib=$(printf '%s\n' /usr/lib/python3.[0-9]* | sort -V | tail -n1)
	[[ -d "$pylib" ]] || pylib=""
	if [[ -n "$pylib" ]]; then
		mkdir -p "$R$pylib"
		tar -C "$pylib" --exclude=test --exclude=__pycache__ --exclude=idlelib \
			--exclude=tkinter --exclude=lib2to3 --exclude=ensurepip \
			--exclude=site-packages --exclude=dist-packages -cf - . |
			tar -C "$R$pylib" -xf -
	fi
fi

[[ "$PYTHON" == 1 ]] && put_python

cat >"$R/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
cat >"$R/etc/group" <<'EOF'
root:x:0:
nogroup:x:65534:
EOF
ln -s /proc/mounts "$R/etc/mtab"

# user payload
for spec in "${BINS[@]+"${BINS[@]}"}"; do
	if [[ "$spec" == *:* ]]; then put_bin "${spec%%:*}" "${spec#*:}"; else put_bin "$spec"; fi
done
for spec in "${FILES[@]+"${FILES[@]}"}"; do
	[[ "$spec" == *:/* ]] || vm_die "--file wants HOST:/GUEST, got: $spec"
	put_file "${spec%%:*}" "${spec#*:}"
done
for spec in "${DIRS[@]+"${DIRS[@]}"}"; do
	[[ "$spec" == *:/* ]] || vm_die "--dir wants HOSTDIR:/GUESTDIR, got: $spec"
	src=${spec%%:*} dst=${spec#*:}
	[[ -d "$src" ]] || vm_die "no such directory: $src"
	mkdir -p "$R$dst"
	cp -a "$src/." "$R$dst/"
done

# --------------------------------------------------------------- modules ---
declare -A MOD_PATH=() MOD_DEPS=() MOD_SEEN=() MOD_REQ=() BUILTIN=()
MOD_ORDER=()
modname() { local n=${1##*/}; n=${n%%.ko*}; echo "${n//-/_}"; }
# "name path" for every module of modules.dep/modules.builtin (one awk,
# no per-line subshells: this has to be fast for ~6000 modules)
mod_names() {
	awk '{ p = $1; sub(/:$/, "", p); n = p; sub(/.*\//, "", n); sub(/\.ko.*/, "", n)
		   gsub(/-/, "_", n); print n, p }' "$@"
}
if [[ ${#MODULES[@]} -gt 0 || ${#KOS[@]} -gt 0 ]]; then
	while read -r n p; do MOD_PATH[$n]=$p; done < <(mod_names "$MODDIR/modules.dep")
	while IFS=: read -r p d; do MOD_DEPS[$p]=$d; done <"$MODDIR/modules.dep"
	if [[ -r $MODDIR/modules.builtin ]]; then
		while read -r n p; do BUILTIN[$n]=1; done < <(mod_names "$MODDIR/modules.builtin")
	fi
fi
# softdep "pre:" names of module $1 (may be aliases)
mod_softdeps() {
	[[ -r $MODDIR/modules.softdep ]] || return 0
	awk -v m="$1" '$1=="softdep" && $2==m {
		pre=0; for (i=3;i<=NF;i++) { if ($i=="pre:") pre=1; else if ($i=="post:") pre=0; else if (pre) print $i } }' \
		"$MODDIR/modules.softdep"
}
# resolve a module name or alias to module names
mod_resolve() {
	local n; n=$(modname "$1")
	if [[ -n "${MOD_PATH[$n]:-}" || -n "${BUILTIN[$n]:-}" ]]; then echo "$n"; return; fi
	awk -v a="$1" '$1=="alias" && $2==a { print $3 }' "$MODDIR/modules.alias" 2>/dev/null | sort -u
}
# mod_add NAME REQUIRED(0/1): depth-first, dependencies first.
mod_add() {
	local n="$1" req="$2" d sd m
	if [[ -n "${BUILTIN[$n]:-}" && -z "${MOD_PATH[$n]:-}" ]]; then return 0; fi
	[[ -n "${MOD_PATH[$n]:-}" ]] || {
		[[ "$req" == 1 ]] && vm_die "module $n not found in $MODDIR"; return 0; }
	[[ "$req" == 1 ]] && MOD_REQ[$n]=1
	[[ -n "${MOD_SEEN[$n]:-}" ]] && return 0
	MOD_SEEN[$n]=1
	for sd in $(mod_softdeps "$n"); do
		for m in $(mod_resolve "$sd"); do mod_add "$m" 0; done
	done
	for d in ${MOD_DEPS[${MOD_PATH[$n]}]}; do mod_add "$(modname "$d")" "$req"; done
	MOD_ORDER+=("$n")
}
for m in "${MODULES[@]+"${MODULES[@]}"}"; do
	n=$(modname "$m")
	if [[ -n "${BUILTIN[$n]:-}" && -z "${MOD_PATH[$n]:-}" ]]; then
		vm_log "note: module $n is built into $KVER"; continue
	fi
	[[ -n "${MOD_PATH[$n]:-}" ]] || vm_die "module $m not found in $MODDIR"
	mod_add "$n" 1
done
for ko in "${KOS[@]+"${KOS[@]}"}"; do
	[[ -r "$ko" ]] || vm_die "no such module file: $ko"
	deps=$(modinfo -F depends "$ko" 2>/dev/null || true)
	for d in ${deps//,/ }; do mod_add "$(modname "$d")" 1; done
done

: >"$R/uvfs-vm/modules"
for n in "${MOD_ORDER[@]+"${MOD_ORDER[@]}"}"; do
	src=$MODDIR/${MOD_PATH[$n]}
	dst=/lib/modules/$KVER/${MOD_PATH[$n]%%.ko*}.ko
	mkdir -p "$R$(dirname "$dst")"
	case "$src" in
		*.ko)     cp "$src" "$R$dst" ;;
		*.ko.xz)  xz -dc "$src" >"$R$dst" ;;
		*.ko.zst) zstd -qdc "$src" >"$R$dst" ;;
		*.ko.gz)  gzip -dc "$src" >"$R$dst" ;;
		*) vm_die "unknown module format: $src" ;;
	esac
	if [[ -n "${MOD_REQ[$n]:-}" ]]; then echo "R $dst"; else echo "O $dst"; fi >>"$R/uvfs-vm/modules"
done
for ko in "${KOS[@]+"${KOS[@]}"}"; do
	cp "$ko" "$R/ko/${ko##*/}"
	echo "R /ko/${ko##*/}" >>"$R/uvfs-vm/modules"
done

# ----------------------------------------------------------- guest init ---
if [[ -n "$SCRIPT" ]]; then cp "$SCRIPT" "$R/uvfs-vm/script"; chmod 755 "$R/uvfs-vm/script"; fi
echo "$INTERACTIVE" >"$R/uvfs-vm/interactive"
# guest-side watchdog: shortly before the host kills QEMU, dump the blocked
# tasks and the kernel log so that a hang leaves a diagnosable trace
wd=0
if [[ "$INTERACTIVE" == 0 && "$TIMEOUT" -ge 60 ]]; then wd=$((TIMEOUT - 25)); fi
echo "$wd" >"$R/uvfs-vm/watchdog"

cat >"$R/init" <<'EOF'
#!/bin/busybox sh
# uvfs VM harness init (generated by scripts/vm/vm-run.sh)
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root TERM=${TERM:-linux} UVFS_VM=1
# applet symlinks; --install never replaces existing files, so the real
# e2fsprogs/bash/... binaries packed by vm-run.sh win
/bin/busybox --install -s
/bin/busybox mount -t devtmpfs devtmpfs /dev 2>/dev/null
exec </dev/console >/dev/console 2>&1
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mkdir -p /dev/pts /dev/shm
mount -t devpts -o gid=5,mode=620 devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t tmpfs -o mode=755 tmpfs /run
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
ln -sf /proc/self/fd /dev/fd 2>/dev/null
ln -sf /proc/self/fd/0 /dev/stdin; ln -sf /proc/self/fd/1 /dev/stdout; ln -sf /proc/self/fd/2 /dev/stderr
hostname uvfs-vm
ip link set lo up 2>/dev/null
echo 60 >/proc/sys/kernel/hung_task_timeout_secs 2>/dev/null
read -r up _ </proc/uptime
echo "UVFS-VM-INIT uptime=${up}s kernel=$(uname -r)"

status=0
while read -r kind path; do
	[ -n "$path" ] || continue
	if [ "$kind" = O ]; then
		insmod "$path" 2>/dev/null
	elif ! insmod "$path"; then
		echo "vm-init: insmod $path failed"
		status=1
	fi
done </uvfs-vm/modules

wd=$(cat /uvfs-vm/watchdog)
wdpid=
if [ "$wd" -gt 0 ]; then
	(
		sleep "$wd"
		echo
		echo "vm-init: WATCHDOG: still running after ${wd}s of guest time, dumping blocked tasks + kernel log"
		echo w >/proc/sysrq-trigger
		echo "UVFS-VM-DMESG-BEGIN"
		dmesg -s 8388608
		echo "UVFS-VM-DMESG-END"
	) &
	wdpid=$!
fi

if [ "$status" = 0 ] && [ -f /uvfs-vm/script ]; then
	cd /tmp
	if [ "$(head -c 2 /uvfs-vm/script)" = "#!" ]; then
		if [ "$(cat /uvfs-vm/interactive)" = 1 ]; then /uvfs-vm/script
		else /uvfs-vm/script </dev/null; fi
	else
		if [ "$(cat /uvfs-vm/interactive)" = 1 ]; then /bin/sh /uvfs-vm/script
		else /bin/sh /uvfs-vm/script </dev/null; fi
	fi
	status=$?
	cd /
fi

if [ "$(cat /uvfs-vm/interactive)" = 1 ]; then
	echo "vm-init: interactive shell (script status: $status). Leave with"
	echo "vm-init: 'exit'/Ctrl-D or 'poweroff -f'; Ctrl-A X kills QEMU."
	setsid cttyhack /bin/sh -l
fi

[ -n "$wdpid" ] && kill "$wdpid" 2>/dev/null
sync
echo
if [ "$(cat /uvfs-vm/interactive)" = 1 ]; then
	echo "vm-init: kernel log errors (if any):"
	dmesg -s 8388608 | grep -E 'Oops|BUG:|WARNING:|Call Trace|lockdep|general protection|kernel BUG|INFO: task .* blocked|Kernel panic'
else
	echo "UVFS-VM-DMESG-BEGIN"
	dmesg -s 8388608
	echo "UVFS-VM-DMESG-END"
fi
echo "UVFS-VM-EXIT $status"
sleep 0.2
poweroff -f
EOF
chmod 755 "$R/init"
cat >"$R/etc/profile" <<'EOF'
export PS1='uvfs-vm:\w# '
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
EOF


INITRD=$WORK/initramfs.cpio
(cd "$R" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet) >"$INITRD"
T_BUILT=$(date +%s.%N)
vm_log "kernel $KVER, initramfs $(( $(stat -c %s "$INITRD") / 1024 / 1024 )) MiB built in $(awk -v a="$T_START" -v b="$T_BUILT" 'BEGIN{printf "%.1f", b-a}')s"

# ------------------------------------------------------------------ boot ---
CMDLINE="console=ttyS0 quiet loglevel=4 panic=-1 log_buf_len=4M rdinit=/init$APPEND"
QEMU=(qemu-system-x86_64 -accel tcg -cpu max -m "$MEM" -smp "$SMP"
	  -nodefaults -no-reboot -display none
	  -kernel "$KERNEL" -initrd "$INITRD" -append "$CMDLINE")

if [[ "$INTERACTIVE" == 1 ]]; then
	vm_log "interactive VM: Ctrl-A X to kill QEMU, Ctrl-A H for help"
	to=()
	[[ "$TIMEOUT" -gt 0 ]] && to=(timeout --foreground "$TIMEOUT")
	rc=0
	"${to[@]+"${to[@]}"}" "${QEMU[@]}" -serial mon:stdio || rc=$?
	exit "$rc"
fi

to=()
[[ "$TIMEOUT" -gt 0 ]] && to=(timeout -k 10 "$TIMEOUT")
T_BOOT=$(date +%s.%N)
set +e
"${to[@]+"${to[@]}"}" "${QEMU[@]}" -serial stdio -monitor none </dev/null 2>&1 |
	awk -v logf="$LOG_TMP" -v verbose="$VERBOSE" '
		{ sub(/\r+$/, ""); print > logf }
		/^UVFS-VM-DMESG-BEGIN/ { indmesg = 1; if (!verbose) { print "[dmesg dump hidden; --verbose shows it]"; fflush(); next } }
		/^UVFS-VM-DMESG-END/ { indmesg = 0; if (!verbose) next }
		indmesg && !verbose { next }
		{ print; fflush() }'
rcs=("${PIPESTATUS[@]}")
set -e
T_END=$(date +%s.%N)
qrc=${rcs[0]}
[[ -n "$LOG" ]] && cp "$LOG_TMP" "$LOG"

KPAT='Oops|BUG:|WARNING:|Call Trace|lockdep|general protection|kernel BUG|INFO: task .* blocked|Kernel panic'
# kernel_errors FILE: print offending lines of FILE (minus --ignore-kmsg)
kernel_errors() {
	local hits; hits=$(grep -aE "$KPAT" "$1" || true)
	local re
	for re in "${IGNORE[@]+"${IGNORE[@]}"}"; do
		hits=$(grep -avE "$re" <<<"$hits" || true)
	done
	[[ -n "$hits" ]] && printf '%s\n' "$hits"
	return 0
}

elapsed=$(awk -v a="$T_BOOT" -v b="$T_END" 'BEGIN{printf "%.1f", b-a}')
boot=$(sed -n 's/^UVFS-VM-INIT uptime=\([0-9.]*\)s.*/\1/p' "$LOG_TMP" | head -n1)
result=0
if [[ "$qrc" == 124 || "$qrc" == 137 ]]; then
	vm_log "timed out after $TIMEOUT s"
	result=1
fi
status=$(sed -n 's/.*UVFS-VM-EXIT \([0-9][0-9]*\).*/\1/p' "$LOG_TMP" | tail -n1)
# the guest's kernel log dump (the last one; also written by the watchdog)
awk '/^UVFS-VM-DMESG-BEGIN/ { n = 0; on = 1; next } /^UVFS-VM-DMESG-END/ { on = 0; next }
	 on { buf[n++] = $0 } END { for (i = 0; i < n; i++) print buf[i] }' "$LOG_TMP" >"$WORK/dmesg"
# console output without the dmesg dumps
awk '/^UVFS-VM-DMESG-BEGIN/ { on = 1; next } /^UVFS-VM-DMESG-END/ { on = 0; next } !on' \
	"$LOG_TMP" >"$WORK/console"
# report_kernel_errors FILE: print offending lines + the log from the first
# one on; true if there were any
report_kernel_errors() {
	local errs first
	errs=$(kernel_errors "$1")
	[[ -n "$errs" ]] || return 1
	vm_log "FAIL: kernel log contains errors:"
	sed 's/^/  ! /' <<<"$errs" >&2
	if [[ "$VERBOSE" != 1 ]]; then
		vm_log "kernel log from the first error on (up to 150 lines):"
		first=$(head -n1 <<<"$errs")
		awk -v f="$first" 'index($0, f) == 1 { on = 1 } on && n < 150 { print "  | " $0; n++ }' "$1" >&2
	fi
	return 0
}
if [[ -z "$status" ]]; then
	[[ "$result" == 1 ]] || vm_log "no UVFS-VM-EXIT marker (qemu exit $qrc): guest crashed, panicked or hung"
	vm_log "last console lines:"
	tail -n 40 "$WORK/console" | sed 's/^/  | /' >&2
	if [[ -s "$WORK/dmesg" ]]; then
		# the guest watchdog dumped the kernel log (incl. blocked tasks)
		report_kernel_errors "$WORK/dmesg" ||
			{ vm_log "kernel log tail (guest watchdog dump):"; tail -n 25 "$WORK/dmesg" | sed 's/^/  | /' >&2; }
	else
		report_kernel_errors "$WORK/console" || true
	fi
	result=1
else
	report_kernel_errors "$WORK/dmesg" && result=1
	if [[ "$status" != 0 ]]; then
		vm_log "guest script exited with status $status"
		[[ "$result" == 0 ]] && result=$status
	fi
fi
vm_log "VM wall-clock time ${elapsed}s (kernel boot to init: ${boot:-?}s), total $(awk -v a="$T_START" -v b="$T_END" 'BEGIN{printf "%.1f", b-a}')s"
if [[ "$result" == 0 ]]; then vm_log "PASS"; else vm_log "FAIL (exit $result)"; fi
exit "$result"
