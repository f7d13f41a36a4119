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
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"

cleanup() {
	fusermount3 -u -z "$mnt" 2>/dev/null
	pkill -f "uvfsd.*$tmp" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

# expect_error NAME PATTERN CMD...: expect_one_line_error; a daemon that
# wrongly succeeded may have mounted and detached: keep the next checks
# clean
expect_error() {
	expect_one_line_error "$@"
	if ((EXPECT_RC == 0)) && mounted; then
		fusermount3 -u -z "$mnt" 2>/dev/null
	fi
	return 0
}

mounted() { grep -q " $mnt " /proc/self/mounts; }

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
expect_error "uvfs umount of a non-mount" \
	"^uvfs umount: $tmp: nothing is mounted there\$" \
	"$build/bin/uvfs" umount "$tmp"
expect_error "uvfs umount of a missing path" \
	"^uvfs umount: $tmp/nope: No such file or directory\$" \
	"$build/bin/uvfs" umount "$tmp/nope"

# a mount whose daemon was killed: named as such, with the way to clear it
# (which then works, and the mount point is usable again)
if "$uvfsd" memfs none "$mnt" 2>"$tmp/err" && mounted; then
	pid=$(pgrep -f "uvfsd memfs none $mnt" | head -1)
	kill -KILL "$pid"
	wait_gone "$pid" || true
	expect_error "mount over a dead mount" \
		"^uvfsd: mountpoint $mnt: none \(fuse.memfs\) is still mounted there but its daemon is gone; clear it with \`uvfs umount $mnt\`\$" \
		"$uvfsd" memfs none "$mnt"
	if "$build/bin/uvfs" umount "$mnt" && ! mounted &&
		"$uvfsd" memfs none "$mnt" && mounted &&
		"$build/bin/uvfs" umount "$mnt"; then
		ok "uvfs umount clears the dead mount; mounting works again"
	else
		bad "clearing a dead mount" "mounted=$(mounted && echo yes || echo no)"
		fusermount3 -u -z "$mnt" 2>/dev/null
	fi
else
	bad "mount over a dead mount" "mount failed: $(cat "$tmp/err")"
fi

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
	# memfs answers a missing name with a negative entry (node 0)
	if [[ -n $u ]] && grep -q "^uvfs: <$u LOOKUP ok len=120" \
		"$tmp/trace"; then ok "-d traces LOOKUP >$u and its negative-entry reply"
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

# a normal user: a rw mount of an image only readable gets a hint at
# -o ro (and -o ro works); without XDG_RUNTIME_DIR the lock directory is
# /tmp/uvfs-UID, and a bad one is named as the cause
umnt=$tmp/umnt
mkdir "$umnt"
chown 65534:65534 "$umnt"
cp "$tmp/e.img" "$tmp/r444.img"
chmod 444 "$tmp/r444.img"
nobody_env() { as_nobody env -u XDG_RUNTIME_DIR "$@"; }
expect_error "rw mount of a 0444 image (uid 65534)" \
	"Permission denied.*mount .*with -o ro" \
	nobody_env "$uvfsd" --transport=fuse ext2 "$tmp/r444.img" "$umnt"
lockdir=/tmp/uvfs-65534
if [[ -e $lockdir && ! -d $lockdir ]]; then rm -f "$lockdir"; fi
if nobody_env "$uvfsd" --transport=fuse -o ro ext2 "$tmp/r444.img" "$umnt" \
	2>"$tmp/err" && grep -q " $umnt " /proc/self/mounts &&
	[[ $(nobody_env cat "$umnt/hello" 2>&1) == "image data" ]] &&
	ls "$lockdir"/mnt*umnt.lock >/dev/null 2>&1 &&
	nobody_env "$build/bin/uvfs" umount "$umnt" &&
	! grep -q " $umnt " /proc/self/mounts; then
	ok "uid 65534 without XDG_RUNTIME_DIR: -o ro mounts, lock in $lockdir, uvfs umount"
else
	bad "uid 65534 -o ro mount" "$(head -c 300 "$tmp/err")"
	fusermount3 -u -z "$umnt" 2>/dev/null
fi
# a lock directory that is not the user's: the message names it
if [[ ! -e $lockdir ]] || rm -rf "$lockdir"; then
	install -d -m 0755 -o root "$lockdir"
	expect_error "lock directory not the user's (uid 65534)" \
		"^uvfsd: lock directory $lockdir is not a directory of uid 65534" \
		nobody_env "$uvfsd" --transport=fuse memfs none "$umnt"
	rmdir "$lockdir"
	grep -q " $umnt " /proc/self/mounts && fusermount3 -u -z "$umnt"
fi

# /proc/mounts names the filesystem the image holds
for fs in ext2 ext4; do
	mke2fs -q -F -t $fs "$tmp/$fs.img" 8M >/dev/null
	"$uvfsd" --transport=fuse ext2 "$tmp/$fs.img" "$mnt" 2>"$tmp/err"
	got=$(awk -v m="$mnt" '$2 == m { print $3 }' /proc/self/mounts)
	if [[ $got == "fuse.$fs" ]]; then ok "$fs image shown as $got"
	else bad "$fs image type" "/proc/mounts has '$got' $(head -c 200 "$tmp/err")"; fi
	"$build/bin/uvfs" umount "$mnt" 2>/dev/null
done

# options after the arguments, as mount(8) passes them
if "$uvfsd" memfs none "$mnt" -o noexec,fsname=after --transport=fuse \
	2>"$tmp/err" && awk -v m="$mnt" '$5 == m' /proc/self/mountinfo |
	grep -q "noexec.* - fuse.memfs after "; then
	ok "options after the arguments"
else
	bad "options after the arguments" "$(head -c 300 "$tmp/err") $(grep " $mnt " /proc/self/mountinfo)"
fi
"$build/bin/uvfs" umount "$mnt" 2>/dev/null
expect_error "-o uid= of an unknown user" "^uvfsd: -o uid=nosuchuser: no such user\$" \
	"$uvfsd" memfs none "$mnt" -o uid=nosuchuser
expect_error "bad -o umask=" "^uvfsd: bad value for -o umask" \
	"$uvfsd" memfs none "$mnt" -o umask=0999
expect_error "-o dev as a user" "^uvfsd: -o suid and -o dev are for root only\$" \
	nobody_env "$uvfsd" memfs none "$umnt" -o dev

# a detached daemon without a syslog socket logs to the file --help names,
# with priorities: the mount at info, --stats at exit
logfile=$("$uvfsd" --help | sed -n 's/^  \(\/.*uvfsd\.log\)$/\1/p')
if [[ -S /dev/log ]]; then
	echo "skip log file check: /dev/log exists here"
elif [[ -z $logfile ]]; then
	bad "--help names the log file" "$("$uvfsd" --help | tail -5)"
else
	ok "--help names the log file $logfile"
	"$uvfsd" --stats memfs none "$mnt" 2>"$tmp/err"
	echo x >"$mnt/f"
	"$build/bin/uvfs" umount "$mnt"
	if grep -q "uvfsd\[[0-9]*\]: info: uvfsd: none mounted on $mnt (memfs" "$logfile" &&
		grep -q "info: uvfsd: stats: CREATE *1 " "$logfile" &&
		grep -q "info: uvfsd: none unmounted from $mnt, exit 0" "$logfile"
	then ok "detached: mount, --stats and exit logged at info in $logfile"
	else bad "log file" "$(tail -n 3 "$logfile" 2>&1)"; fi
fi

# with a syslog socket: lines go there, at the right priority (LOG_DAEMON
# | LOG_INFO = <30>).  /dev/log is ours in a private mount namespace.
cat >"$tmp/syslogd.py" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1]); s.settimeout(15)
with open(sys.argv[2], "w") as out:
	try:
		while True:
			out.write(s.recv(4096).decode(errors="replace") + "\n"); out.flush()
	except socket.timeout:
		pass
PY
python3 "$tmp/syslogd.py" "$tmp/log.sock" "$tmp/syslog.out" &
spid=$!
for ((i = 0; i < 50; i++)); do [[ -S $tmp/log.sock ]] && break; sleep 0.1; done
mkdir "$tmp/olddev"
unshare -m bash -c "
	set -e
	mount --make-rprivate /
	mount --bind /dev $tmp/olddev
	mount -t tmpfs none /dev
	for d in fuse null; do
		touch /dev/\$d
		mount --bind $tmp/olddev/\$d /dev/\$d
	done
	touch /dev/log
	mount --bind $tmp/log.sock /dev/log
	$uvfsd --transport=fuse memfs none $mnt
	echo y >$mnt/f
	$build/bin/uvfs umount $mnt" 2>"$tmp/err"
rc=$?
kill "$spid" 2>/dev/null
wait "$spid" 2>/dev/null
if grep -q "^<30>.*uvfsd\[[0-9]*\]: uvfsd: none mounted on $mnt" "$tmp/syslog.out"
then ok "detached with a syslog socket: mount logged there at LOG_INFO"
else bad "syslog" "rc $rc, got: $(head -c 300 "$tmp/syslog.out") $(head -c 200 "$tmp/err")"; fi

"$uvfsd" --help >"$tmp/out" 2>&1 && grep -q "usage: uvfsd" "$tmp/out" &&
	grep -q "^    -o size=N" "$tmp/out" &&
	ok "--help, with the backends' options" || bad "--help" "$(head -2 "$tmp/out")"
"$uvfsd" ext2 --help >"$tmp/out" 2>&1 && grep -q "usage: uvfsd" "$tmp/out" &&
	grep -q "^ext2: " "$tmp/out" && ! grep -q "^memfs: " "$tmp/out" &&
	ok "uvfsd ext2 --help: ext2's options only" ||
	bad "uvfsd ext2 --help" "$(tail -3 "$tmp/out")"
expect_error "uvfsd nosuch --help" "unknown backend 'nosuch'" "$uvfsd" nosuch --help
"$build/bin/uvfs" --version >"$tmp/out" 2>&1 && grep -q "^uvfs [0-9]" "$tmp/out" &&
	ok "uvfs --version" || bad "uvfs --version" "$(cat "$tmp/out")"
"$uvfsd" --version >"$tmp/out" 2>&1 && grep -q "^uvfsd [0-9]" "$tmp/out" &&
	ok "--version" || bad "--version" "$(cat "$tmp/out")"
"$uvfsd" --list-backends >"$tmp/out" 2>&1 && grep -qx memfs "$tmp/out" &&
	ok "--list-backends" || bad "--list-backends" "$(cat "$tmp/out")"

summary
