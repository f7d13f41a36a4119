#!/usr/bin/env bash
# The Debian packages built by scripts/package.sh install and remove
# cleanly.  uvfs: `dpkg -i` (apt-get -f for missing dependencies, removed
# again afterwards), the packaged uvfsd runs and lists the packaged
# backends, pkg-config finds uvfs.pc and an out-of-tree backend builds
# against it, `mount -t uvfs.memfs` works through the packaged helper and
# `umount` waits for the daemon; `dpkg --purge` leaves no file or directory
# of the package behind.  uvfs-dkms: its contents and control fields, and
# when dkms is installed, `dpkg -i` registers the sources with dkms and
# the purge unregisters them.  The machine must not have uvfs installed:
# the test leaves it as it found it.
# Usage: tests/install/test_deb.sh BUILD   (the .deb files in BUILD)
set -uo pipefail
# shellcheck source=tests/install/lib.sh
source "$(dirname "$0")/lib.sh"
install_init "${1:-}" deb

shopt -s nullglob
debs=("$build"/uvfs_*.deb)
dkms_debs=("$build"/uvfs-dkms_*_all.deb)
shopt -u nullglob
if ((${#debs[@]} != 1)); then
	echo "FAIL no single $build/uvfs_*.deb (run scripts/package.sh $build)"
	exit 1
fi
deb=${debs[0]}
for p in uvfs uvfs-dkms; do
	if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q installed; then
		echo "FAIL package $p is installed already: not touching it"
		exit 1
	fi
done

installed=()	# packages this test installed, purged in this order
apt_added=()	# dependencies apt-get -f pulled in
mnt=$tmp/mnt
cleanup() {
	local p
	mounted_at "$mnt" && umount -l "$mnt" 2>/dev/null
	for p in "${installed[@]}"; do
		dpkg --purge "$p" >/dev/null 2>&1
	done
	((${#apt_added[@]})) &&
		apt-get purge -y -q "${apt_added[@]}" >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT

# ---- uvfs ----------------------------------------------------------------
dpkg-query -W -f='${Package}\n' >"$tmp/pkgs.before"
if ! dpkg -i "$deb" >"$tmp/dpkg.log" 2>&1; then
	# missing dependencies: let apt bring them, and note which it brought
	if DEBIAN_FRONTEND=noninteractive apt-get install -f -y -q \
		>>"$tmp/dpkg.log" 2>&1; then
		dpkg-query -W -f='${Package}\n' >"$tmp/pkgs.after"
		mapfile -t apt_added < <(comm -13 <(sort "$tmp/pkgs.before") \
			<(sort "$tmp/pkgs.after") | grep -vx uvfs)
	fi
fi
installed=(uvfs)
if ! dpkg-query -W -f='${Status}' uvfs 2>/dev/null | grep -q "ok installed"; then
	echo "FAIL dpkg -i ${deb##*/}: $(tail -5 "$tmp/dpkg.log")"
	exit 1
fi
ok "dpkg -i ${deb##*/}${apt_added[*]:+ (apt-get -f added ${apt_added[*]})}"
dpkg -L uvfs >"$tmp/files"
version=$(dpkg-query -W -f='${Version}' uvfs)

owner=$(dpkg -S /usr/bin/uvfsd 2>/dev/null | cut -d: -f1)
out=$(/usr/bin/uvfsd --version 2>&1)
[[ $owner == uvfs && $out == "uvfsd $version "* ]] &&
	ok "/usr/bin/uvfsd (package $owner): $out" ||
	bad "/usr/bin/uvfsd --version" "owner '$owner', '$out'"
list=$(/usr/bin/uvfsd --list-backends 2>&1 | sort | tr '\n' ' ')
[[ $list == "ext2 memfs " ]] && ok "uvfsd --list-backends: $list" ||
	bad "uvfsd --list-backends" "'$list'"
man -w uvfsd >/dev/null 2>&1 && man -w 7 uvfs-backend >/dev/null 2>&1 &&
	ok "man finds uvfsd(8), uvfs-backend(7)" || bad "man -w" "pages not found"

# an out-of-tree backend against the package, with plain pkg-config
backenddir=$(pkg-config --variable=backenddir uvfs 2>&1)
if [[ $backenddir != /usr/lib/*/uvfs && $backenddir != /usr/lib/uvfs ]]; then
	bad "pkg-config --variable=backenddir uvfs" "'$backenddir'"
elif cc -Wall -Werror -shared -fPIC -o "$tmp/uvfs-hello.so" \
	"$here/hello_ext/hello.c" $(pkg-config --cflags --libs uvfs) 2>"$tmp/cc.err" &&
	out=$(UVFS_BACKEND_PATH=$tmp /usr/bin/uvfsd --transport=direct hello none 2>&1) &&
	grep -q '/hello$' <<<"$out"; then
	ok "hello built against the package (backenddir $backenddir), walked"
else
	bad "hello against the package" "$(head -5 "$tmp/cc.err") $out"
fi

# mounted through the packaged helper, umount waits for the daemon
mkdir -p "$mnt"
if mount -t uvfs.memfs none "$mnt" 2>"$tmp/err"; then
	pid=$(uvfsd_pid "$mnt")
	exe=$(readlink "/proc/$pid/exe" 2>/dev/null)
	echo "written through the package" >"$mnt/f" 2>/dev/null
	got=$(cat "$mnt/f" 2>&1)
	[[ $exe == /usr/bin/uvfsd && $got == "written through the package" ]] &&
		ok "mount -t uvfs.memfs: /usr/bin/uvfsd $pid, a file written and read" ||
		bad "mount -t uvfs.memfs" "served by '$exe', read '$got'"
	if ! umount "$mnt" 2>"$tmp/err"; then
		bad "umount" "$(head -3 "$tmp/err")"
	elif mounted_at "$mnt" || { [[ -n $pid ]] && alive "$pid"; }; then
		bad "umount" "still mounted, or uvfsd $pid still running"
	else
		ok "umount returned after uvfsd exited"
	fi
else
	bad "mount -t uvfs.memfs none $mnt" "$(head -3 "$tmp/err")"
fi

# purge: nothing of the package left, no directory of its own either
if ! dpkg --purge uvfs >"$tmp/purge.log" 2>&1; then
	bad "dpkg --purge uvfs" "$(tail -3 "$tmp/purge.log")"
fi
installed=()
left=()
while IFS= read -r f; do
	[[ $f == /. ]] && continue
	if [[ -L $f || ( -e $f && ! -d $f ) ]]; then
		left+=("$f")
	elif [[ -d $f && ${f##*/} == uvfs* ]]; then
		left+=("$f/")
	fi
done <"$tmp/files"
((${#left[@]})) && bad "dpkg --purge uvfs" "left behind: ${left[*]}" ||
	ok "dpkg --purge uvfs: none of its $(wc -l <"$tmp/files") paths left"
dpkg-query -W -f='${Status}' uvfs 2>/dev/null | grep -q installed &&
	bad "dpkg --purge uvfs" "still known to dpkg"

# ---- uvfs-dkms -----------------------------------------------------------
if ((${#dkms_debs[@]} != 1)); then
	bad "uvfs-dkms" "no single $build/uvfs-dkms_*_all.deb"
else
	ddeb=${dkms_debs[0]}
	contents=$(dpkg-deb -c "$ddeb" | awk '{ print $6 }')
	src=./usr/src/uvfs-$version
	miss=""
	for f in dkms.conf Kbuild Makefile main.c include/uvfs/proto.h; do
		grep -qxF "$src/$f" <<<"$contents" || miss+=" $f"
	done
	[[ -z $miss && $(dpkg-deb -f "$ddeb" Depends) == *dkms* ]] &&
		ok "uvfs-dkms holds $src (dkms.conf, proto.h), depends on dkms" ||
		bad "uvfs-dkms contents" "missing:$miss; Depends: $(dpkg-deb -f "$ddeb" Depends)"
	if command -v dkms >/dev/null; then
		# the host's kernel has no headers: postinst only registers
		installed=(uvfs-dkms)
		if dpkg -i "$ddeb" >"$tmp/dkms.log" 2>&1 &&
		   dkms status -m uvfs -v "$version" 2>/dev/null | grep -q "uvfs/$version"; then
			ok "dpkg -i uvfs-dkms: dkms knows uvfs/$version"
		else
			bad "dpkg -i uvfs-dkms" "$(tail -3 "$tmp/dkms.log"; dkms status 2>&1 | head -3)"
		fi
		dpkg --purge uvfs-dkms >>"$tmp/dkms.log" 2>&1
		installed=()
		if [[ -e /usr/src/uvfs-$version || -e /var/lib/dkms/uvfs ]] ||
		   dkms status -m uvfs 2>/dev/null | grep -q uvfs; then
			bad "dpkg --purge uvfs-dkms" "sources or dkms registration left"
		else
			ok "dpkg --purge uvfs-dkms: sources and dkms registration gone"
		fi
	else
		bad "uvfs-dkms install" "dkms is not installed (scripts/deps.sh)"
	fi
fi

summary deb
