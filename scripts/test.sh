#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds with warnings as
# errors, and runs every stage.  Run as root (mounts, loop devices, VM).
# Usage: scripts/test.sh [--no-vm] [--quick] [--only PATTERN]
#   --no-vm       skip the kernel-module stages in QEMU
#   --quick       fewer seeds / images in the long ext2 tests
#   --only PAT    run only the stages whose name matches PAT (a glob)
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=$top/build
build_asan=$top/build-asan
vm=1 quick=0 only='*'
while (($#)); do
	case $1 in
	--no-vm) vm=0 ;;
	--quick) quick=1 ;;
	--only) only=${2:?--only needs a pattern}; shift ;;
	*) echo "test.sh: unknown option '$1'" >&2; exit 2 ;;
	esac
	shift
done
if [[ $(id -u) -ne 0 ]]; then
	echo "test.sh: run as root (the tests mount filesystems)" >&2
	exit 2
fi

pass=0 fail=0 failed=()
t0=$(date +%s)
stage() { # NAME CMD...: run one stage, log to build/logs/NAME.log
	local name=$1 s rc
	shift
	s=$(date +%s)
	echo "== $name"
	# Every stage is bounded: a hang fails the stage, not the whole run.
	timeout -k 10 "${UVFS_STAGE_TIMEOUT:-1500}" "$@" >"$build/logs/$name.log" 2>&1
	rc=$?
	((rc == 124)) && echo "stage timed out" >>"$build/logs/$name.log"
	tail -n 4 "$build/logs/$name.log" | sed 's/^/   | /'
	if ((rc == 0)); then
		pass=$((pass + 1))
		echo "== $name: ok ($(($(date +%s) - s)) s)"
	else
		fail=$((fail + 1))
		failed+=("$name")
		echo "== $name: FAILED (exit $rc; log $build/logs/$name.log)"
		# the failing checks first (CI shows only this output), then the end
		grep -E -m 40 '^(FAIL|not ok)|[[:space:]]FAIL[[:space:]-]|: FAIL' \
			"$build/logs/$name.log" | sed 's/^/   !! /'
		tail -n 40 "$build/logs/$name.log" | sed 's/^/   ! /'
	fi
}

if ((vm)); then "$top/scripts/deps.sh" --vm; else "$top/scripts/deps.sh"; fi || exit 1
"$top/scripts/build.sh" "$build" || { echo "test.sh: build failed"; exit 1; }
"$top/scripts/build.sh" "$build_asan" -DUVFS_SANITIZE=ON -DBUILD_TESTING=ON ||
	{ echo "test.sh: sanitizer build failed"; exit 1; }
mkdir -p "$build/logs"

for s in "$top"/tests/stages/*.sh; do
	name=$(basename "$s" .sh)
	# shellcheck disable=SC2254
	case $name in $only) ;; *) continue ;; esac
	case $name in
	*vm*) ((vm)) || { echo "== $name: not run (--no-vm)"; continue; } ;;
	esac
	stage "$name" env UVFS_QUICK=$quick UVFS_BUILD_ASAN="$build_asan" \
		bash "$s" "$build"
done

echo
echo "total time: $(($(date +%s) - t0)) s"
((fail)) && echo "failed stages: ${failed[*]}"
echo "stages: $pass passed, $fail failed"
((fail == 0))
