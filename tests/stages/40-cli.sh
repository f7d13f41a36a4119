#!/usr/bin/env bash
# uvfsd's command line and error cases; -d, -s, -o ro/fsname/subtype; the
# block device options (--bdev, --remove) up to the missing module.
set -uo pipefail
rc=0
bash "$(dirname "$0")/../cli/test_uvfsd.sh" "$1" || rc=1
bash "$(dirname "$0")/../cli/test_bdev.sh" "$1" || rc=1
exit $rc
