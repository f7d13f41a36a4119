#!/usr/bin/env bash
# Journals the kernel wrote (ext3, ext4 with metadata_csum; the block
# daemon under the kernel's ext4 killed mid-workload), replayed by uvfs,
# e2fsck -fy and the kernel in the VM: identical trees, all fsck-clean.
set -euo pipefail
exec bash "$(dirname "$0")/../vm/journal/run.sh" "$1"
