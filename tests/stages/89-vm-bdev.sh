#!/usr/bin/env bash
# The uvfs block device /dev/uvbdN in the VM (Debian's 6.1 kernel under
# QEMU, one boot; tests/vm/bdev/run.sh): kernel ext2 on it over an image
# file (POSIX suite, a treegen tree, e2fsck -fn), that image through uvfsd
# ext2 compared in full with the kernel's reading of it, a seeded verified
# I/O stream on the raw device (the image equals the model byte for byte;
# the mem backend with 4 KiB blocks), kill -9 of the daemon with 5 tasks
# blocked (all return within 1 s, the dead device can be removed), fio
# verify=crc32c over the whole device, kernel ext4 under the POSIX suite,
# bad input; any oops, WARN, BUG or hang fails the run.  ~5 min on an idle
# 2-core host; with UVFS_QUICK=1 smaller images and a shorter stream.
set -euo pipefail
exec bash "$(dirname "$0")/../vm/bdev/run.sh" "$1"
