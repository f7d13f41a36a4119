#!/usr/bin/env bash
# memfs mounted with uvfsd over FUSE passes the POSIX suite.
set -euo pipefail
build=$1
export UVFS_BACKEND_PATH=$build/backends
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
scratch_mnt memfs
"$build/bin/uvfsd" -f --stats \
	--transport=fuse memfs none "$mnt" 2>"$tmp/uvfsd.log" &
pid=$!
for ((i = 0; i < 100; i++)); do
	grep -q " $mnt " /proc/self/mounts && break
	sleep 0.1
done
rc=0
"$build/bin/uvfs-posix-suite" "$mnt" || rc=$?
fusermount3 -u "$mnt"
wait "$pid" || { echo "uvfsd exited with $?"; rc=1; }
cat "$tmp/uvfsd.log"
exit $rc
