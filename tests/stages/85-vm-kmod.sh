#!/usr/bin/env bash
# uvfs.ko in a VM running Debian's 6.1 kernel: builds the module against
# its headers, then in the guest: memfs over the kmod transport (smoke,
# the POSIX suite, synchronous umount, kill -9 of the daemon, SIGTERM,
# detached mode), a misbehaving daemon (reply validation), rmmod; the run
# fails on any oops, WARN, BUG, lockdep report or hang.
set -euo pipefail
exec bash "$(dirname "$0")/../vm/kmod/run.sh" "$1"
