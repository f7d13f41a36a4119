#!/usr/bin/env bash
# The unit tests built with ASan+UBSan.
set -euo pipefail
cd "$UVFS_BUILD_ASAN" && ctest --output-on-failure -L '^unit$'
