#!/usr/bin/env bash
# ext2/ext3/ext4 images made by mke2fs -d mount through uvfsd and compare
# equal to their tree; the POSIX suite passes on them; e2fsck -fn is clean
# afterwards.  What was fsync'ed survives a SIGKILL of uvfsd.  A journal
# that needs recovery and features uvfsd cannot write or read are refused
# with one line naming them; -o ro works where it can.
set -euo pipefail
dir=$(dirname "$0")/../ext2
rc=0
for t in test_mkfs_images.sh test_durability.sh test_refusals.sh; do
	echo "== $t"
	bash "$dir/$t" "$1" || { echo "FAIL: $t"; rc=1; }
done
exit $rc
