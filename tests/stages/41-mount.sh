#!/usr/bin/env bash
# mount(8)/umount(8)/fstab through mount.uvfs and umount.uvfs (root).
set -euo pipefail
exec bash "$(dirname "$0")/../cli/test_mount.sh" "$1"
