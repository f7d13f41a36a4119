#!/usr/bin/env bash
# Check unit tests under ctest.
set -euo pipefail
cd "$1" && ctest --output-on-failure
