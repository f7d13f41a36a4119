# shellcheck shell=bash disable=SC2034 # EXPECT_RC: for the caller
# Shared helpers of the CLI and install tests (sourced): tests/lib.sh's
# result lines, one-line error checks, mount and daemon probes.  The
# sourcing script sets $tmp.
# shellcheck source=tests/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

# expect_one_line_error NAME PATTERN CMD...: nonzero exit, exactly one
# stderr line, matching PATTERN (grep -E).  EXPECT_RC: CMD's exit status.
expect_one_line_error() {
	local name=$1 pat=$2 rc lines
	shift 2
	"$@" >"$tmp/out" 2>"$tmp/err" </dev/null
	rc=$?
	EXPECT_RC=$rc
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

# running and not a zombie waiting to be reaped
alive() { [[ -e /proc/$1/stat ]] && ! grep -q '^[0-9]* ([^)]*) Z' "/proc/$1/stat"; }

# uvfsd_pid DIR: the live uvfsd serving DIR (by its command line), if any
uvfsd_pid() {
	local p
	for p in $(pgrep -f "uvfsd .*$1\$"); do
		alive "$p" && { echo "$p"; return 0; }
	done
	return 1
}

mounted_at() { awk -v m="$1" '$5 == m { f = 1 } END { exit !f }' /proc/self/mountinfo; }
# the per-mount options (rw,nosuid,...) and the type of the mount at DIR
mnt_flags() { awk -v m="$1" '$5 == m { print $6 }' /proc/self/mountinfo | tail -1; }
mnt_type() { awk -v m="$1" '$2 == m { print $3 }' /proc/self/mounts | tail -1; }
