#!/usr/bin/env bash
# Configure and build into BUILD (default: build/), warnings as errors.
# Usage: scripts/build.sh [BUILD] [extra cmake args...]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}
shift || true
cmake -S "$top" -B "$build" -DUVFS_WERROR=ON "$@" >/dev/null
cmake --build "$build" -j"$(nproc)" >/dev/null
echo "build: $build"
