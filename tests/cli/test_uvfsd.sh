#!/usr/bin/env bash
# uvfsd's command line over FUSE: every user error gets one clear line on
# stderr and a nonzero exit (also for a source the user may not read, run
# as uid 65534); the daemon detaches, and exits cleanly on SIGINT, SIGTERM
# and unmount; -d traces, -s serves with one thread, -o ro refuses writes,
# -o fsname=,subtype= show in /proc/mounts.
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
		# it may have mounted and detached: keep the next checks clean
		mounted && fusermount3 -u -z "$mnt" 2>/dev/null
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

wait_mounted() { # up to 5 s
	local i
	for ((i = 0; i < 50; i++)); do
		mounted && return 0
		sleep 0.1
	done
	return 1
}

# stop_fg PID: unmount a foreground daemon; its exit status is ours
stop_fg() {
	fusermount3 -u "$mnt" 2>/dev/null || fusermount3 -u -z "$mnt" 2>/dev/null
	wait "$1"
}

# as_nobody CMD...: uid/gid 65534, no supplementary groups
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }

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

# an ext2 image with one file, and a copy only root may read; uid 65534
# reaches the source check (which comes before the mountpoint and mount)
mkdir "$tmp/srcdir"
echo "image data" >"$tmp/srcdir/hello"
mke2fs -q -F -t ext2 -d "$tmp/srcdir" "$tmp/e.img" 8M >/dev/null
cp "$tmp/e.img" "$tmp/noread.img"
chmod 000 "$tmp/noread.img"
chmod 711 "$tmp"
expect_error "unreadable source (mode 000, uid 65534)" \
	"^uvfsd: cannot read source $tmp/noread.img: Permission denied\$" \
	as_nobody "$uvfsd" --transport=fuse ext2 "$tmp/noread.img" "$mnt"
# the control: the same user reads a readable copy, so the mode did it
chmod 644 "$tmp/e.img"
if as_nobody "$uvfsd" --transport=direct -o ro ext2 "$tmp/e.img" \
	>"$tmp/out" 2>"$tmp/err" && grep -q " /hello\$" "$tmp/out"; then
	ok "readable source, uid 65534 (--transport=direct)"
else
	bad "readable source, uid 65534" "$(head -c 300 "$tmp/err")"
fi
expect_error "source is a directory (ext2)" "^uvfsd: ext2: $tmp/srcdir: " \
	"$uvfsd" --transport=fuse ext2 "$tmp/srcdir" "$mnt"

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

# -d: a stat of a missing name is traced as a LOOKUP request and its
# ENOENT reply, matched by the request's unique id
"$uvfsd" -f -d --transport=fuse memfs none "$mnt" 2>"$tmp/trace" &
pid=$!
if wait_mounted; then
	stat "$mnt/no-such-name" >/dev/null 2>&1
	u=$(sed -n 's/^uvfs: >\([0-9]*\) LOOKUP node=1 .*name="no-such-name"$/\1/p' \
		"$tmp/trace" | head -1)
	if [[ -n $u ]] && grep -q "^uvfs: <$u LOOKUP error=-2 (No such file" \
		"$tmp/trace"; then ok "-d traces LOOKUP >$u and its ENOENT reply"
	else bad "-d trace" "no LOOKUP of no-such-name in $(wc -l <"$tmp/trace") lines: $(tail -n 2 "$tmp/trace")"; fi
else
	bad "-d trace" "no mount: $(head -c 300 "$tmp/trace")"
fi
stop_fg "$pid"

# -o fsname=,subtype=: the source and type columns of /proc/mounts
"$uvfsd" -f --transport=fuse -o fsname=XYZ,subtype=abc memfs none "$mnt" \
	2>"$tmp/err" &
pid=$!
wait_mounted
got=$(awk -v m="$mnt" '$2 == m { print $1, $3 }' /proc/self/mounts)
if [[ $got == "XYZ fuse.abc" ]]; then ok "-o fsname=XYZ,subtype=abc: $got"
else bad "-o fsname=XYZ,subtype=abc" "/proc/mounts has '$got'"; fi
stop_fg "$pid"

# -o ro: reads work, every write fails with EROFS
"$uvfsd" -f --transport=fuse -o ro ext2 "$tmp/e.img" "$mnt" 2>"$tmp/err" &
pid=$!
wait_mounted
if [[ $(cat "$mnt/hello" 2>&1) == "image data" ]]; then ok "-o ro: read works"
else bad "-o ro: read" "$(cat "$mnt/hello" 2>&1 | head -c 200)"; fi
for w in "touch $mnt/new" "echo x >$mnt/hello" "mkdir $mnt/d"; do
	if ! bash -c "$w" 2>"$tmp/werr" && grep -q "Read-only file system" "$tmp/werr"
	then ok "-o ro: $w: EROFS"
	else bad "-o ro: $w" "not refused with EROFS: $(head -c 200 "$tmp/werr")"; fi
done
stop_fg "$pid"

# -s: one thread serves (the multi-threaded loop always has a worker
# besides the main thread); create, read back, clean unmount
"$uvfsd" -f -s --transport=fuse memfs none "$mnt" 2>"$tmp/err" &
pid=$!
wait_mounted
echo "single" >"$mnt/f" 2>/dev/null
got=$(cat "$mnt/f" 2>&1)
threads=$(awk '/^Threads:/ { print $2 }' "/proc/$pid/status" 2>/dev/null)
stop_fg "$pid"
rc=$?
if [[ $got == single && $threads == 1 ]] && ((rc == 0)) && ! mounted; then
	ok "-s: one thread, file written and read, clean unmount"
else
	bad "-s" "read '$got', threads ${threads:-?}, exit $rc, $(head -c 200 "$tmp/err")"
fi

"$uvfsd" --help >"$tmp/out" 2>&1 && grep -q "usage: uvfsd" "$tmp/out" &&
	ok "--help" || bad "--help" "$(head -2 "$tmp/out")"
"$uvfsd" --version >"$tmp/out" 2>&1 && grep -q "^uvfsd [0-9]" "$tmp/out" &&
	ok "--version" || bad "--version" "$(cat "$tmp/out")"
"$uvfsd" --list-backends >"$tmp/out" 2>&1 && grep -qx memfs "$tmp/out" &&
	ok "--list-backends" || bad "--list-backends" "$(cat "$tmp/out")"

echo "$pass passed, $fail failed"
((fail == 0))
