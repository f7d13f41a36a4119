#!/usr/bin/env bash
# The ext2 backend's locking and the FUSE worker loop under ThreadSanitizer:
# the read race of stage 51 against a TSan build of uvfsd and the ext2
# backend.  A data race makes TSan fail the daemon's exit status (66), and
# fs_umount fails the check with the report.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
tsan=${UVFS_BUILD_TSAN:-$top/build-tsan}
cmake -S "$top" -B "$tsan" -DUVFS_WERROR=ON -DBUILD_TESTING=OFF \
	-DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_FLAGS=-fsanitize=thread \
	-DCMAKE_EXE_LINKER_FLAGS=-fsanitize=thread \
	-DCMAKE_SHARED_LINKER_FLAGS=-fsanitize=thread >/dev/null
cmake --build "$tsan" -j"$(nproc)" --target uvfsd uvfs-ext2 >/dev/null
echo "TSan build: $tsan"
export UVFSD=$tsan/bin/uvfsd UVFS_BACKEND_PATH=$tsan/backends
export TSAN_OPTIONS="exitcode=66 halt_on_error=0"
exec bash "$top/tests/ext2/test_read_race.sh" "$1" 10
