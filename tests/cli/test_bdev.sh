#!/usr/bin/env bash
# uvfsd --bdev and --remove on a host without uvfs.ko: every bad input
# gets one clear line on stderr and a nonzero exit, before the daemon
# looks for the module; a good one gets the module line.  (The devices
# themselves are tested in the VM.)  /dev/uvfs is hidden with a tmpfs on
# /dev in a mount namespace, so the checks hold on any host.
# Usage: tests/cli/test_bdev.sh BUILD
set -uo pipefail
build=$(cd "${1:?usage: $0 BUILD}" && pwd)
uvfsd=$build/bin/uvfsd
export UVFS_BACKEND_PATH=$build/backends
tmp=$(mktemp -d /tmp/uvfs-cli-bdev.XXXXXX)
mnt=$tmp/mnt
mkdir -p "$mnt"
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"

cleanup() {
	fusermount3 -u -z "$mnt" 2>/dev/null
	pkill -f "uvfsd.*$tmp" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

module_line='^uvfsd: /dev/uvfs not found: load uvfs.ko \(block devices need the module\)$'
# no_module CMD...: CMD where /dev is an empty tmpfs
no_module() { unshare -m bash -c 'mount -t tmpfs none /dev && exec "$@"' bash "$@"; }
nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups)

truncate -s 4M "$tmp/disk.img"
truncate -s 1000 "$tmp/odd.img"
truncate -s $((4 * 1024 * 1024 + 512)) "$tmp/odd4k.img"
: >"$tmp/empty.img"

# a good device: everything checks out, then the module is missing
expect_one_line_error "file: no module" "$module_line" \
	no_module "$uvfsd" --bdev file "$tmp/disk.img"
expect_one_line_error "file -f: no module" "$module_line" \
	no_module "$uvfsd" --bdev file "$tmp/disk.img" -f
expect_one_line_error "mem: no module" "$module_line" \
	no_module "$uvfsd" --bdev mem none -o size=64M,blksize=4096
expect_one_line_error "--remove: no module" "$module_line" \
	no_module "$uvfsd" --remove 0
if [[ ! -e /dev/uvfs ]]; then
	expect_one_line_error "file: no module (host)" "$module_line" \
		"$uvfsd" --bdev file "$tmp/disk.img" -o ro
fi
# nothing was printed on stdout, and the image is unchanged
[[ ! -s $tmp/out && $(stat -c %s "$tmp/disk.img") == 4194304 ]] &&
	ok "no path printed, image untouched" ||
	bad "no path printed, image untouched" "$(cat "$tmp/out")"

# bad input, one line each
expect_one_line_error "missing image" \
	"^uvfsd: file: image $tmp/nope.img: No such file or directory\$" \
	no_module "$uvfsd" --bdev file "$tmp/nope.img"
expect_one_line_error "image is a directory" "is not an image file" \
	no_module "$uvfsd" --bdev file "$tmp"
expect_one_line_error "image not a multiple of the block size" \
	"^uvfsd: file: the size of $tmp/odd.img \(1000 bytes\) is not a multiple of the block size 512" \
	no_module "$uvfsd" --bdev file "$tmp/odd.img"
expect_one_line_error "image not a multiple of -o blksize" \
	"is not a multiple of the block size 4096" \
	no_module "$uvfsd" --bdev file "$tmp/odd4k.img" -o blksize=4096
expect_one_line_error "empty image" "is empty: give the device's size with -o size=N" \
	no_module "$uvfsd" --bdev file "$tmp/empty.img"
expect_one_line_error "-o size= not a multiple of the block size" \
	"^uvfsd: file: -o size=1000 is not a multiple of the block size 512\$" \
	no_module "$uvfsd" --bdev file "$tmp/disk.img" -o size=1000
expect_one_line_error "-o size= would shrink" "images are never shrunk" \
	no_module "$uvfsd" --bdev file "$tmp/disk.img" -o size=1M
expect_one_line_error "bad -o size=" "bad value for -o size" \
	no_module "$uvfsd" --bdev file "$tmp/disk.img" -o size=lots
expect_one_line_error "bad -o blksize=" "bad value for -o blksize \(512, 1024, 2048 or 4096\)" \
	no_module "$uvfsd" --bdev file "$tmp/disk.img" -o blksize=8192
expect_one_line_error "unknown -o option" "^uvfsd: file: unknown option 'frobnicate'\$" \
	no_module "$uvfsd" --bdev file "$tmp/disk.img" -o frobnicate
expect_one_line_error "unknown command-line option" "unknown option '--frobnicate'" \
	no_module "$uvfsd" --bdev file "$tmp/disk.img" --frobnicate
expect_one_line_error "unknown block backend" \
	"^uvfsd: unknown block backend 'nosuch' \(uvfsd --help lists them\)\$" \
	no_module "$uvfsd" --bdev nosuch "$tmp/disk.img"
expect_one_line_error "a file system backend is no block backend" \
	"memfs is not a uvfs block backend|unknown block backend 'memfs'" \
	no_module "$uvfsd" --bdev memfs none
expect_one_line_error "mem without -o size=" \
	"^uvfsd: mem: give the device's size with -o size=N" \
	no_module "$uvfsd" --bdev mem none
expect_one_line_error "mem: -o size= not a multiple of the block size" \
	"^uvfsd: mem: -o size=6144 is not a multiple of the block size 4096\$" \
	no_module "$uvfsd" --bdev mem none -o size=6K,blksize=4096
expect_one_line_error "missing SOURCE" "missing argument: need --bdev BACKEND SOURCE" \
	"$uvfsd" --bdev file
expect_one_line_error "too many arguments" "too many arguments" \
	"$uvfsd" --bdev file "$tmp/disk.img" "$mnt"
expect_one_line_error "a mount option with --bdev" "not mount options" \
	"$uvfsd" --bdev mem none -o size=1M,noexec
expect_one_line_error "--bdev with --transport" "block devices are served through uvfs.ko only" \
	"$uvfsd" --bdev file "$tmp/disk.img" --transport=fuse

# an image uid 65534 may not read; one it may read but not write
cp "$tmp/disk.img" "$tmp/noread.img"
chmod 000 "$tmp/noread.img"
cp "$tmp/disk.img" "$tmp/ro.img"
chmod 444 "$tmp/ro.img"
chmod 711 "$tmp"
expect_one_line_error "unreadable image (uid 65534)" \
	"^uvfsd: file: $tmp/noread.img: Permission denied\$" \
	no_module "${nobody[@]}" "$uvfsd" --bdev file "$tmp/noread.img"
expect_one_line_error "read-only image, read-write device (uid 65534)" \
	"^uvfsd: file: $tmp/ro.img: Permission denied \(-o ro for a read-only device\)\$" \
	no_module "${nobody[@]}" "$uvfsd" --bdev file "$tmp/ro.img"
expect_one_line_error "read-only image, -o ro (uid 65534): gets to the module" \
	"$module_line" no_module "${nobody[@]}" "$uvfsd" --bdev file "$tmp/ro.img" -o ro

# the image in use by a mount of it: one line naming the holder
mke2fs -q -F -t ext2 "$tmp/fs.img" 8M >/dev/null
if "$uvfsd" --transport=fuse ext2 "$tmp/fs.img" "$mnt" 2>"$tmp/err"; then
	expect_one_line_error "image mounted by uvfsd: refused" \
		"^uvfsd: file: $tmp/fs.img is in use: uvfsd \(pid [0-9]+\) .*$mnt" \
		no_module "$uvfsd" --bdev file "$tmp/fs.img"
	expect_one_line_error "image mounted by uvfsd: refused read-only too" \
		"is in use" no_module "$uvfsd" --bdev file "$tmp/fs.img" -o ro
	fusermount3 -u "$mnt"
	for ((i = 0; i < 50; i++)); do
		pgrep -f "uvfsd --transport=fuse ext2 $tmp/fs.img" >/dev/null || break
		sleep 0.1
	done
	expect_one_line_error "image free again: gets to the module" \
		"$module_line" no_module "$uvfsd" --bdev file "$tmp/fs.img"
else
	bad "mount of the image to hold it" "$(cat "$tmp/err")"
fi

# --remove
expect_one_line_error "--remove of a regular file" \
	"^uvfsd: $tmp/disk.img is not a uvbd device\$" "$uvfsd" --remove "$tmp/disk.img"
expect_one_line_error "--remove of a character device" \
	"^uvfsd: /dev/null is not a uvbd device\$" "$uvfsd" --remove /dev/null
expect_one_line_error "--remove of a missing device" \
	"^uvfsd: /dev/uvbd4242: no such device\$" "$uvfsd" --remove /dev/uvbd4242
expect_one_line_error "--remove as a user" \
	"^uvfsd: --remove 0: removing a block device needs root\$" \
	"${nobody[@]}" "$uvfsd" --remove 0
expect_one_line_error "--remove with more" "takes one device and nothing else" \
	"$uvfsd" --remove 0 1

# --help documents it, with every block backend's options
"$uvfsd" --help >"$tmp/help" 2>&1
if grep -q -- "--bdev BLOCK_BACKEND SOURCE" "$tmp/help" &&
	grep -q -- "--remove /dev/uvbdN" "$tmp/help" &&
	grep -q "^  file (uvfsd --bdev file IMAGE)" "$tmp/help" &&
	grep -q "^  mem (uvfsd --bdev mem none -o size=N)" "$tmp/help"; then
	ok "--help documents --bdev, --remove and the block backends"
else
	bad "--help documents --bdev" "$(grep -c . "$tmp/help") lines"
fi
"$uvfsd" --bdev file --help >"$tmp/help" 2>&1 &&
	grep -q -- "-o direct" "$tmp/help" && ! grep -q "^  mem" "$tmp/help" &&
	ok "uvfsd --bdev file --help: that backend's options" ||
	bad "uvfsd --bdev file --help"
"$uvfsd" --list-backends >"$tmp/out" 2>&1
grep -q blk "$tmp/out" && bad "--list-backends lists no block backend" "$(cat "$tmp/out")" ||
	ok "--list-backends lists file systems only"

summary "bdev cli"
