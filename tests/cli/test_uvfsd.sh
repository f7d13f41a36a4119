#!/usr/bin/env bash
# uvfsd's command line over FUSE: every user error gets one clear line on
# stderr and a nonzero exit; the daemon detaches, and exits cleanly on
# SIGINT, SIGTERM and unmount.
# Usage: tests/cli/test_uvfsd.sh BUILD
set -uo pipefail
build=$(cd "${1:?usage: $0 BUILD}" && pwd)
uvfsd=$build/bin/uvfsd
export UVFS_BACKEND_PATH=$build/backends
tmp=$(mktemp -d /tmp/uvfs-cli.XXXXXX)
mnt=$tmp/mnt
mkdir -p "$mnt"
pass=0 fail=0

cleanup() {
	fusermount3 -u -z "$mnt" 2>/dev/null
	pkill -f "uvfsd.*$tmp" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

ok() { echo "ok   $1"; pass=$((pass + 1)); }
bad() { echo "FAIL $1: $2"; fail=$((fail + 1)); }

# expect_error NAME PATTERN CMD...: nonzero exit, exactly one stderr line
# matching PATTERN, no mount left behind.
expect_error() {
	local name=$1 pat=$2 rc
	shift 2
	"$@" >"$tmp/out" 2>"$tmp/err" </dev/null
	rc=$?
	local lines
	lines=$(wc -l <"$tmp/err")
	if ((rc == 0)); then
		bad "$name" "exit 0"
	elif ((rc >= 128)); then
		bad "$name" "killed by signal $((rc - 128))"
	elif [[ $lines -ne 1 ]]; then
		bad "$name" "$lines stderr lines: $(head -c 300 "$tmp/err")"
	elif ! grep -qE "$pat" "$tmp/err"; then
		bad "$name" "message '$(cat "$tmp/err")' lacks /$pat/"
	else
		ok "$name ($(cat "$tmp/err"))"
	fi
}

mounted() { grep -q " $mnt " /proc/self/mounts; }

# running and not a zombie waiting to be reaped
alive() { [[ -e /proc/$1/stat ]] && ! grep -q '^[0-9]* ([^)]*) Z' "/proc/$1/stat"; }

wait_gone() { # pid: wait up to 10 s for exit
	local i
	for ((i = 0; i < 100; i++)); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
	return 1
}

touch "$tmp/file"
expect_error "unknown backend" "unknown backend 'nosuch'" \
	"$uvfsd" nosuch none "$mnt"
expect_error "invalid backend name" "invalid backend name" \
	"$uvfsd" "Bad.Name" none "$mnt"
expect_error "backend path not a plugin" "cannot load backend" \
	"$uvfsd" "$tmp/file" none "$mnt"
expect_error "missing mountpoint" "$tmp/nope: No such file" \
	"$uvfsd" memfs none "$tmp/nope"
expect_error "mountpoint not a directory" "is not a directory" \
	"$uvfsd" memfs none "$tmp/file"
expect_error "unreadable source" "cannot read source $tmp/missing.img" \
	"$uvfsd" memfs "$tmp/missing.img" "$mnt"
expect_error "unknown option" "unknown option '--frobnicate'" \
	"$uvfsd" --frobnicate memfs none "$mnt"
expect_error "unknown short option" "unknown option '-q'" \
	"$uvfsd" -q memfs none "$mnt"
expect_error "missing arguments" "missing arguments" "$uvfsd" memfs none
expect_error "unknown transport" "unknown transport" \
	"$uvfsd" --transport=nfs memfs none "$mnt"
expect_error "unknown backend option" "memfs.*frobnicate" \
	"$uvfsd" -o frobnicate memfs none "$mnt"
expect_error "no /dev/fuse" "/dev/fuse" \
	unshare -m bash -c "mount -t tmpfs none /dev && exec $uvfsd --transport=fuse memfs none $mnt"

# mountpoint in use: mount once, then again on the same place
if "$uvfsd" memfs none "$mnt" 2>"$tmp/err" && mounted; then
	ok "detaches and mounts"
	expect_error "mountpoint in use" "already in use" \
		"$uvfsd" memfs none "$mnt"
	pid=$(pgrep -f "uvfsd memfs none $mnt" | head -1)
	fusermount3 -u "$mnt"
	if wait_gone "$pid" && ! mounted; then ok "exits on fusermount3 -u"
	else bad "exits on fusermount3 -u" "daemon $pid still running"; fi
else
	bad "detaches and mounts" "$(cat "$tmp/err")"
fi

# uvfs umount returns only after the daemon has exited
if "$uvfsd" memfs none "$mnt" 2>"$tmp/err" && mounted; then
	pid=$(pgrep -f "uvfsd memfs none $mnt" | head -1)
	dd if=/dev/zero of="$mnt/big" bs=1M count=8 status=none
	if "$build/bin/uvfs" umount "$mnt" && ! alive "$pid" &&
		! mounted; then ok "uvfs umount waits for the daemon"
	else bad "uvfs umount waits for the daemon" "pid $pid alive or still mounted"; fi
else
	bad "uvfs umount waits for the daemon" "mount failed: $(cat "$tmp/err")"
fi
expect_error "uvfs umount of a non-mount" "uvfs umount: .*Invalid argument" \
	"$build/bin/uvfs" umount "$tmp"

for sig in TERM INT; do
	"$uvfsd" -f memfs none "$mnt" 2>"$tmp/err" &
	pid=$!
	for ((i = 0; i < 50; i++)); do mounted && break; sleep 0.1; done
	echo hi >"$mnt/f" 2>/dev/null
	kill -$sig "$pid"
	wait "$pid"
	rc=$?
	if ((rc == 0)) && ! mounted; then ok "SIG$sig: clean exit, unmounted"
	else bad "SIG$sig" "exit $rc, mounted=$(mounted && echo yes || echo no)"; fi
done

"$uvfsd" --help >"$tmp/out" 2>&1 && grep -q "usage: uvfsd" "$tmp/out" &&
	ok "--help" || bad "--help" "$(head -2 "$tmp/out")"
"$uvfsd" --version >"$tmp/out" 2>&1 && grep -q "^uvfsd [0-9]" "$tmp/out" &&
	ok "--version" || bad "--version" "$(cat "$tmp/out")"
"$uvfsd" --list-backends >"$tmp/out" 2>&1 && grep -qx memfs "$tmp/out" &&
	ok "--list-backends" || bad "--list-backends" "$(cat "$tmp/out")"

echo "$pass passed, $fail failed"
((fail == 0))
