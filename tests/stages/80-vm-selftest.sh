#!/usr/bin/env bash
# The VM harness checks itself: Debian's 6.1 kernel boots under QEMU (TCG),
# a test module loads and unloads, ext2 on loop works, fsck is clean, and
# the kernel log stays free of oopses and warnings.
set -euo pipefail
exec bash "$(dirname "$0")/../vm/selftest.sh"
