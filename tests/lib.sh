# shellcheck shell=sh disable=SC2034
# The test-line helpers every test script shares, sourced by the scripts on
# the host (bash) and, copied into the VM as /root/lib.sh by vm_launch, by
# the guest scripts (busybox ash): so it is plain POSIX sh.  One result
# line per check; scripts/test.sh shows a failed stage's lines that start
# with FAIL.
#   ok NAME            "ok   NAME"; counts a pass
#   bad NAME [WHY]     "FAIL NAME[: WHY]"; counts a failure, keeps NAME
#   check NAME CMD...  runs CMD, its output into $CHECK_OUT; ok NAME, or
#                      bad NAME with its exit status and command, then
#                      check_detail (redefine it to show other lines)
#   summary [WHAT]     "[WHAT: ]P passed, F failed", the failed names;
#                      false if any check failed
# $CHECK_OUT defaults to /tmp/check.out (the guest's tmpfs); a host script
# points it into its own temporary directory.
# And for scripts that mount one scratch filesystem (scripts/demo.sh,
# stage 30):
#   scratch_mnt NAME   $tmp, a fresh directory /tmp/uvfs-NAME.*, and $mnt
#                      in it; at exit, what is still mounted on $mnt is
#                      lazily unmounted and $tmp removed

pass=0 fail=0 failed_names=
CHECK_OUT=${CHECK_OUT:-/tmp/check.out}

ok() {
	echo "ok   $1"
	pass=$((pass + 1))
}

bad() {
	echo "FAIL $1${2:+: $2}"
	fail=$((fail + 1))
	failed_names="$failed_names$1
"
}

# check_detail FILE: what a failed check shows of its output
check_detail() { tail -n 30 "$1" | sed 's/^/     | /'; }

check() {
	# shellcheck disable=SC3043 # bash, dash and busybox sh all have local
	local _check_name="$1"
	shift
	if "$@" >"$CHECK_OUT" 2>&1; then
		ok "$_check_name"
	else
		bad "$_check_name" "exit $?: $*"
		check_detail "$CHECK_OUT"
	fi
}

summary() {
	echo "${1:+$1: }$pass passed, $fail failed"
	printf '%s' "$failed_names" | sed 's/^/  failed: /'
	[ "$fail" -eq 0 ]
}

scratch_mnt() {
	tmp=$(mktemp -d "/tmp/uvfs-$1.XXXXXX")
	mnt=$tmp/mnt
	mkdir "$mnt"
	trap 'fusermount3 -u -z "$mnt" 2>/dev/null || true; rm -rf "$tmp"' EXIT
}
