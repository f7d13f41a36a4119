#!/usr/bin/env bash
# uvfs installs like a system component.  `cmake --install BUILD --prefix
# /usr` into a staged root (DESTDIR) puts every file where it belongs:
# uvfsd, uvfs, the mount helpers, libuvfs (SONAME) with its headers and
# uvfs.pc, the backends, man pages that render without warnings, bash
# completion that completes backends and -o names, the module's sources
# with a dkms.conf that `dkms build` accepts; nothing installed refers to
# the build tree.  The staged uvfsd lists only the staged backends.  An
# out-of-tree backend (hello_ext/hello.c) builds against the staged tree
# with nothing but pkg-config, installs into its backenddir and mounts
# through the staged helper with `mount -t uvfs.hello` and through a
# private fstab (`mount -T`); umount returns only once the staged uvfsd
# has exited, and no staged uvfsd is left.  /sbin/mount.uvfs.hello and
# /sbin/umount.uvfs point at the staged helper for the test only.
# Usage: tests/install/test_install.sh BUILD
set -uo pipefail
# shellcheck source=tests/install/lib.sh
source "$(dirname "$0")/lib.sh"
install_init "${1:-}" staged
root=$tmp/root

links=(mount.uvfs.hello umount.uvfs)
declare -A saved=()
linked=0
# every live uvfsd started from the staged root
staged_uvfsds() {
	local p
	for p in $(pgrep -x uvfsd); do
		[[ $(readlink "/proc/$p/exe" 2>/dev/null) == "$root"/* ]] &&
			alive "$p" && echo "$p"
	done
}
cleanup() {
	local d l p
	for d in "$tmp"/mnt*; do
		mounted_at "$d" && umount -l "$d" 2>/dev/null
	done
	for p in $(staged_uvfsds); do
		kill "$p" 2>/dev/null
	done
	if ((linked)); then
		for l in "${links[@]}"; do
			if [[ -n ${saved[$l]:-} ]]; then
				ln -sfn "${saved[$l]}" "/sbin/$l"
			elif [[ $(readlink "/sbin/$l" 2>/dev/null) == "$root"/* ]]; then
				rm -f "/sbin/$l"
			fi
		done
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

# ---- (a) the staged install ----------------------------------------------
if ! DESTDIR=$root cmake --install "$build" --prefix /usr >"$tmp/install.log" 2>&1; then
	echo "FAIL cmake --install: $(tail -5 "$tmp/install.log")"
	exit 1
fi
ok "cmake --install $build --prefix /usr, DESTDIR=$root"
pc=$(cd "$root" && ls usr/lib/pkgconfig/uvfs.pc usr/lib/*/pkgconfig/uvfs.pc 2>/dev/null | head -1)
if [[ -z $pc ]]; then
	echo "FAIL uvfs.pc: not installed under usr/lib"
	exit 1
fi
libdir=${pc%/pkgconfig/uvfs.pc}
version=$(sed -n 's/^Version: *//p' "$root/$pc")
ksrc=usr/src/uvfs-$version

want=(usr/bin/uvfsd usr/bin/uvfs usr/sbin/mount.uvfs usr/sbin/umount.uvfs
	usr/sbin/mount.uvfs.memfs usr/sbin/mount.uvfs.ext2
	"$libdir/libuvfs.so.$version" "$libdir/libuvfs.so.0" "$libdir/libuvfs.so"
	usr/include/uvfs/uvfs.h usr/include/uvfs/proto.h usr/include/uvfs/libuvfs.h
	"$pc" "$libdir/uvfs/uvfs-memfs.so" "$libdir/uvfs/uvfs-ext2.so"
	usr/share/man/man8/uvfsd.8 usr/share/man/man1/uvfs.1
	usr/share/man/man8/mount.uvfs.8 usr/share/man/man7/uvfs-backend.7
	usr/share/bash-completion/completions/uvfsd
	usr/share/bash-completion/completions/uvfs
	"$ksrc/dkms.conf" "$ksrc/Kbuild" "$ksrc/Makefile" "$ksrc/main.c"
	"$ksrc/uvfs_i.h" "$ksrc/include/uvfs/proto.h")
missing=()
for f in "${want[@]}"; do
	[[ -e $root/$f ]] || missing+=("$f")
done
if ((${#missing[@]})); then
	bad "installed files" "missing: ${missing[*]}"
else
	ok "all ${#want[@]} files installed"
fi
for f in usr/bin/uvfsd usr/bin/uvfs usr/sbin/mount.uvfs; do
	[[ -x $root/$f ]] || bad "$f" "not executable"
done

soname=$(readelf -d "$root/$libdir/libuvfs.so.$version" 2>/dev/null |
	sed -n 's/.*SONAME.*\[\(.*\)\]/\1/p')
[[ $soname == libuvfs.so.0 && $(readlink "$root/$libdir/libuvfs.so.0") == "libuvfs.so.$version" ]] &&
	ok "libuvfs SONAME $soname, libuvfs.so.0 -> libuvfs.so.$version" ||
	bad "libuvfs SONAME" "'$soname', libuvfs.so.0 -> $(readlink "$root/$libdir/libuvfs.so.0")"

# nothing installed may lean on the build tree: no RUNPATH into it, no
# text file naming it (libuvfs itself holds the build's bin directory as
# a string: that is how a program in the build tree knows it is one)
leaks=""
while IFS= read -r -d '' f; do
	if [[ $(head -c 4 "$f" | od -An -c | tr -d ' ') == 177ELF ]]; then
		readelf -d "$f" 2>/dev/null | grep -E 'R(UN)?PATH' | grep -qF "$build" &&
			leaks+=" ${f#"$root"/}(RUNPATH)"
	elif grep -qF "$build" "$f"; then
		leaks+=" ${f#"$root"/}"
	fi
done < <(find "$root" -type f -print0)
[[ -z $leaks ]] && ok "no installed file leads to the build tree" ||
	bad "build tree leak" "$leaks"
rpath=$(readelf -d "$root/usr/bin/uvfsd" | sed -n 's/.*R\(UN\)\{0,1\}PATH.*\[\(.*\)\]/\2/p')
[[ $rpath == '$ORIGIN/../'* ]] && ok "uvfsd RUNPATH $rpath" ||
	bad "uvfsd RUNPATH" "'$rpath' (want \$ORIGIN/../LIBDIR)"

out=$("$root/usr/bin/uvfsd" --version 2>&1) &&
	[[ $out == "uvfsd $version "* ]] && ok "staged uvfsd --version: $out" ||
	bad "staged uvfsd --version" "$out"
out=$("$root/usr/bin/uvfs" --version 2>&1) &&
	[[ $out == "uvfs $version "* ]] && ok "staged uvfs --version: $out" ||
	bad "staged uvfs --version" "$out"

# only what was installed, nothing of the build tree
list=$("$root/usr/bin/uvfsd" --list-backends 2>&1 | sort | tr '\n' ' ')
[[ $list == "ext2 memfs " ]] && ok "staged --list-backends: $list" ||
	bad "staged --list-backends" "'$list' (want 'ext2 memfs ')"

# and with the installed backend directory gone, none at all: the build
# tree's are never offered (they were, before: a staged install listed
# backends that existed only in the build)
mv "$root/$libdir/uvfs" "$root/$libdir/uvfs.away"
out=$("$root/usr/bin/uvfsd" --list-backends 2>&1)
rc=$?
mv "$root/$libdir/uvfs.away" "$root/$libdir/uvfs"
((rc != 0)) && [[ $out == "uvfsd: no backends found"* ]] &&
	ok "no installed backends: '$out'" ||
	bad "no installed backends" "exit $rc, listed '$(echo $out)'"

# man pages: groff has nothing to say, and man renders their sections
for page in usr/share/man/man8/uvfsd.8 usr/share/man/man1/uvfs.1 \
	    usr/share/man/man8/mount.uvfs.8 usr/share/man/man7/uvfs-backend.7; do
	name=${page##*/}
	warn=$(groff -ww -z -man "$root/$page" 2>&1)
	text=$(MANWIDTH=80 man -l "$root/$page" 2>/dev/null)
	if [[ -n $warn ]]; then
		bad "man $name" "groff: $(echo "$warn" | head -3)"
	elif ! grep -q '^NAME' <<<"$text" || ! grep -q '^SYNOPSIS' <<<"$text" ||
	     ! grep -q '^SEE ALSO' <<<"$text"; then
		bad "man $name" "no NAME/SYNOPSIS/SEE ALSO section"
	else
		ok "man $name renders ($(wc -l <<<"$text") lines)"
	fi
done

# completion: complete(COMMAND WORD...): what bash-completion offers for
# the last word, with the staged programs first in PATH
complete_words() {
	PATH=$root/usr/bin:$PATH bash -c '
		source /usr/share/bash-completion/bash_completion
		source "$1"; shift
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
		"_${1}"
		printf "%s\n" "${COMPREPLY[@]}"' _ \
		"$root/usr/share/bash-completion/completions/$1" "$@" 2>&1 |
		sort | tr '\n' ' '
}
if [[ -r /usr/share/bash-completion/bash_completion ]]; then
	check_completion() { # WANT WORDS...
		local want=$1 got
		shift
		got=$(complete_words "$@")
		[[ $got == "$want" ]] && ok "completion '$*' -> $got" ||
			bad "completion '$*'" "'$got' (want '$want')"
	}
	check_completion "ext2 memfs " uvfsd ""
	check_completion "memfs " uvfsd -f me
	check_completion "allow_other " uvfsd -o allow_
	check_completion "ro,nosuid " uvfsd -o ro,nos
	check_completion "--stats " uvfsd --sta
	check_completion "umount " uvfs u
else
	bad "completion" "no /usr/share/bash-completion/bash_completion (scripts/deps.sh)"
fi

# the module's sources build on their own: dkms.conf names them, every
# include is inside the tree, and dkms builds them against the headers
# of an installed kernel (the VM's 6.1) when dkms and headers are there
conf=$root/$ksrc/dkms.conf
for field in "PACKAGE_NAME=\"uvfs\"" "PACKAGE_VERSION=\"$version\"" \
	     'BUILT_MODULE_NAME[0]="uvfs"' 'AUTOINSTALL="yes"'; do
	grep -qxF "$field" "$conf" || bad "dkms.conf" "no line $field"
done
grep -q '^MAKE\[0\]=.*UVFS_INCLUDE=' "$conf" || bad "dkms.conf" "MAKE does not set UVFS_INCLUDE"
outside=""
for f in "$root/$ksrc"/*.[ch]; do
	for inc in $(sed -n 's/^#include "\(.*\)"/\1/p' "$f"); do
		[[ -e $root/$ksrc/$inc ]] || outside+=" ${f##*/}:$inc"
	done
done
[[ -z $outside ]] && ok "module sources: every #include \"...\" is in $ksrc" ||
	bad "module sources" "includes from outside:$outside"
kver=""
for d in /usr/src/linux-headers-*-amd64; do
	[[ -e $d ]] && [[ -d /lib/modules/${d#/usr/src/linux-headers-}/build ]] &&
		kver=${d#/usr/src/linux-headers-}
done
if ! command -v dkms >/dev/null; then
	bad "dkms build" "dkms is not installed (scripts/deps.sh)"
elif [[ -z $kver ]]; then
	# scripts/test.sh --no-vm installs no kernel headers
	echo "skip dkms build: no linux-headers-*-amd64 (scripts/deps.sh --vm)"
elif mkdir -p "$tmp/dkms" && timeout 150 dkms build -m uvfs -v "$version" -k "$kver" \
	--dkmstree "$tmp/dkms" --sourcetree "$root/usr/src" >"$tmp/dkms.log" 2>&1 &&
	[[ -e $tmp/dkms/uvfs/$version/$kver/x86_64/module/uvfs.ko ]]; then
	ok "dkms build against $kver: uvfs.ko"
else
	bad "dkms build against $kver" "$(tail -5 "$tmp/dkms.log"; tail -5 "$tmp/dkms/uvfs/$version/build/make.log" 2>/dev/null)"
fi

# ---- (b) an out-of-tree backend, with nothing but pkg-config ---------------
pkgconf() {
	PKG_CONFIG_PATH="" PKG_CONFIG_LIBDIR=$root/$libdir/pkgconfig \
		PKG_CONFIG_SYSROOT_DIR=$root pkg-config "$@"
}
backenddir=$(pkgconf --variable=backenddir uvfs)
[[ $backenddir == "$root"/* ]] || backenddir=$root$backenddir
if [[ $backenddir != "$root/$libdir/uvfs" ]]; then
	bad "pkg-config --variable=backenddir" "$backenddir"
elif ! cc -Wall -Wextra -Wno-unused-parameter -Werror -shared -fPIC \
	-o "$tmp/uvfs-hello.so" "$here/hello_ext/hello.c" \
	$(pkgconf --cflags --libs uvfs) 2>"$tmp/cc.err"; then
	bad "hello: cc \$(pkg-config --cflags --libs uvfs)" "$(head -5 "$tmp/cc.err")"
else
	install -m 644 "$tmp/uvfs-hello.so" "$backenddir/"
	ok "hello built with $(pkgconf --cflags --libs uvfs | sed "s|$root||g")"
fi
list=$("$root/usr/bin/uvfsd" --list-backends 2>&1 | sort | tr '\n' ' ')
[[ $list == "ext2 hello memfs " ]] && ok "staged --list-backends: $list" ||
	bad "staged --list-backends with hello" "'$list'"

# ---- (c), (d), (e) mounted through the staged helper -------------------------
mnt=$tmp/mnt
mkdir -p "$mnt"
if [[ ! -x $root/usr/sbin/mount.uvfs ]]; then
	bad "mount helper" "no usr/sbin/mount.uvfs installed (daemon/CMakeLists.txt)"
else
	for l in "${links[@]}"; do
		[[ -L /sbin/$l ]] && saved[$l]=$(readlink "/sbin/$l")
		if [[ -e /sbin/$l && ! -L /sbin/$l ]]; then
			bad "/sbin/$l" "exists and is not a symlink: not replaced"
		else
			ln -sfn "$root/usr/sbin/${l%.hello}" "/sbin/$l"
		fi
	done
	linked=1

	# mounted_right NAME CONTENT: the staged uvfsd serves $mnt, and
	# /hello reads CONTENT; then umount(8) returns once it has exited
	mounted_right() {
		local name=$1 want=$2 pid exe got
		pid=$(uvfsd_pid "$mnt")
		exe=$(readlink "/proc/$pid/exe" 2>/dev/null)
		got=$(cat "$mnt/hello" 2>&1)
		if ! mounted_at "$mnt"; then
			bad "$name" "nothing mounted at $mnt"
			return
		elif [[ $exe != "$root/usr/bin/uvfsd" ]]; then
			bad "$name" "served by '$exe', not the staged uvfsd"
		elif [[ $got != "$want" ]]; then
			bad "$name" "/hello reads '$got' (want '$want')"
		elif ! grep -q "TARGET=$mnt .*helper=uvfs" /run/mount/utab 2>/dev/null; then
			bad "$name" "no helper=uvfs for $mnt in /run/mount/utab: umount would not wait"
		elif echo x 2>/dev/null >"$mnt/hello"; then
			bad "$name" "a write to the read-only /hello succeeded"
		else
			ok "$name: staged uvfsd $pid, type $(mnt_type "$mnt"), /hello '$got'"
		fi
		if ! umount "$mnt" 2>"$tmp/err"; then
			bad "$name: umount" "$(head -3 "$tmp/err")"
			umount -l "$mnt" 2>/dev/null
		elif mounted_at "$mnt"; then
			bad "$name: umount" "still mounted"
		elif [[ -n $pid ]] && alive "$pid"; then
			bad "$name: umount" "uvfsd $pid still running when umount returned"
		else
			ok "$name: umount returned after uvfsd exited"
		fi
	}

	if mount -t uvfs.hello none "$mnt" 2>"$tmp/err"; then
		mounted_right "mount -t uvfs.hello" "Hello, world!"
	else
		bad "mount -t uvfs.hello none $mnt" "$(head -3 "$tmp/err")"
	fi
	# a backend option goes mount -> mount.uvfs -> uvfsd -> backend
	if mount -t uvfs.hello -o ro,greeting=hi none "$mnt" 2>"$tmp/err"; then
		mounted_right "mount -t uvfs.hello -o ro,greeting=hi" "hi"
	else
		bad "mount -t uvfs.hello -o ro,greeting=hi" "$(head -3 "$tmp/err")"
	fi
	echo "none $mnt uvfs.hello defaults,noauto 0 0" >"$tmp/fstab"
	if mount -T "$tmp/fstab" "$mnt" 2>"$tmp/err"; then
		mounted_right "fstab: mount -T FSTAB $mnt" "Hello, world!"
	else
		bad "mount -T FSTAB $mnt" "$(head -3 "$tmp/err")"
	fi
	# an option the backend does not know: one line, nonzero
	expect_one_line_error "mount -t uvfs.hello -o bogus" "bogus" \
		mount -t uvfs.hello -o bogus none "$mnt"
	mounted_at "$mnt" && { bad "bogus option" "mounted anyway"; umount -l "$mnt"; }
fi
left=$(staged_uvfsds | tr '\n' ' ')
[[ -z $left ]] && ok "no staged uvfsd left running" ||
	bad "uvfsd left running" "$left"

summary install
