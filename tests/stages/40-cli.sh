#!/usr/bin/env bash
# uvfsd's command line and error cases; -d, -s, -o ro/fsname/subtype.
set -euo pipefail
exec bash "$(dirname "$0")/../cli/test_uvfsd.sh" "$1"
