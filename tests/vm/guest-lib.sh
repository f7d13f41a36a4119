# shellcheck shell=sh
# What the guest scripts share besides tests/lib.sh (busybox sh in the
# VM; vm_launch copies it in as /root/guest-lib.sh): the kernel command
# line, the time, and waiting for a daemon's mount.

# karg NAME: the number NAME=N on the kernel command line ("" if absent)
karg() { tr ' ' '\n' </proc/cmdline | sed -n "s/^$1=\([0-9][0-9]*\)\$/\1/p" | tail -1; }

# now: seconds since boot, 10 ms resolution (busybox date has no %N)
now() { read -r up _ </proc/uptime; echo "$up"; }

# elapsed T0 T1: T1 - T0 in seconds, two decimals
elapsed() { awk "BEGIN { printf \"%.2f\", $2 - $1 }"; }

is_mounted() { grep -q " $1 " /proc/mounts; }

# wait_mounted DIR [PID [LOG [TENTHS]]]: wait up to TENTHS tenths of a
# second (100) for a mount on DIR; give up early once the daemon PID has
# exited; on failure show LOG (its output)
wait_mounted() {
	_wm_i=0
	while [ "$_wm_i" -lt "${4:-100}" ]; do
		is_mounted "$1" && return 0
		[ -z "${2:-}" ] || kill -0 "$2" 2>/dev/null || break
		sleep 0.1
		_wm_i=$((_wm_i + 1))
	done
	[ -z "${3:-}" ] || cat "$3"
	return 1
}
