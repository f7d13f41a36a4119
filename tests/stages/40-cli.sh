#!/usr/bin/env bash
# uvfsd's command line and error cases.
set -euo pipefail
exec bash "$(dirname "$0")/../cli/test_uvfsd.sh" "$1"
