#!/usr/bin/env bash
# The unit tests again under valgrind memcheck: no leaks, no errors.
set -euo pipefail
build=$1
export CK_FORK=no UVFS_BACKEND_PATH=$build/backends
n=0
for t in "$build"/bin/test_*; do
	valgrind -q --suppressions="$(dirname "$0")/../unit/valgrind.supp" --leak-check=full --show-leak-kinds=definite,indirect,possible \
		--errors-for-leak-kinds=definite,indirect,possible \
		--error-exitcode=99 "$t"
	n=$((n + 1))
done
echo "valgrind: $n passed, 0 failed"
