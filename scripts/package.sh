#!/usr/bin/env bash
# Build the Debian packages uvfs_VERSION_ARCH.deb and uvfs-dkms_VERSION_all.deb
# into BUILD (default: build/), with CPack's DEB generator.  They are built
# in a tree of their own, BUILD/package, configured for /usr (multiarch
# libdir) without the tests, warnings as errors, binaries stripped.
# Prints the paths of the .deb files, one a line.
# Usage: scripts/package.sh [BUILD]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}
mkdir -p "$build"
build=$(cd "$build" && pwd)
pkg=$build/package

for tool in cmake cpack dpkg-deb dpkg-shlibdeps; do
	command -v "$tool" >/dev/null ||
		{ echo "package.sh: $tool not found (scripts/deps.sh)" >&2; exit 1; }
done
cmake -S "$top" -B "$pkg" -DCMAKE_INSTALL_PREFIX=/usr -DBUILD_TESTING=OFF \
	-DCMAKE_BUILD_TYPE=RelWithDebInfo -DUVFS_WERROR=ON >"$pkg.log" 2>&1 ||
	{ tail -20 "$pkg.log" >&2; echo "package.sh: configure failed" >&2; exit 1; }
cmake --build "$pkg" -j"$(nproc)" >>"$pkg.log" 2>&1 ||
	{ tail -20 "$pkg.log" >&2; echo "package.sh: build failed" >&2; exit 1; }
rm -rf "$pkg/_cpack"
(cd "$pkg" && cpack -G DEB -B "$pkg/_cpack") >>"$pkg.log" 2>&1 ||
	{ tail -20 "$pkg.log" >&2; echo "package.sh: cpack failed" >&2; exit 1; }
shopt -s nullglob
debs=("$pkg"/_cpack/*.deb)
((${#debs[@]} == 2)) ||
	{ echo "package.sh: expected 2 .deb files, got ${#debs[@]}" >&2; exit 1; }
for d in "${debs[@]}"; do
	mv -f "$d" "$build/"
	echo "$build/${d##*/}"
done
