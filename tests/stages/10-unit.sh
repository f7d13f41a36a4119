#!/usr/bin/env bash
# Check unit tests under ctest (label "unit" only: the stages are ctest
# tests too, this one among them).
set -euo pipefail
cd "$1" && ctest --output-on-failure -L '^unit$'
