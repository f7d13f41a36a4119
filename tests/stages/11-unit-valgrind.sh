#!/usr/bin/env bash
# The unit tests again under valgrind memcheck: no leaks, no errors.
#
# test_fuse_transport is the one exception: it mounts FUSE and serves it
# from the same process, and valgrind runs one thread at a time without
# letting go around a stat() into that mount, so the test would deadlock.
# It runs under ASan+UBSan in 12-unit-asan instead.
set -euo pipefail
build=$1
supp=$(dirname "$0")/../unit/valgrind.supp
export CK_FORK=no UVFS_BACKEND_PATH=$build/backends
n=0
for t in "$build"/bin/test_*; do
	[[ $(basename "$t") == test_fuse_transport ]] && continue
	echo "-- $(basename "$t")"
	valgrind -q --suppressions="$supp" --leak-check=full \
		--show-leak-kinds=definite,indirect,possible \
		--errors-for-leak-kinds=definite,indirect,possible \
		--error-exitcode=99 "$t"
	n=$((n + 1))
done
echo "valgrind: $n passed, 0 failed"
