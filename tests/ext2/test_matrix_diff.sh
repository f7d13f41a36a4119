#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The differential test (test_diff.sh: one seeded op stream on the
# kernel's driver over loop and on uvfs, every result and both final
# images compared, e2fsck -fn on both) on each configuration of the ext2
# feature matrix of test_mkfs_images.sh that the host kernel mounts.
#
# usage: tests/ext2/test_matrix_diff.sh BUILD [NSEEDS=1]
# env:   MATRIX="rev0 noxattr ..."   configs (default: all of them)
#        OPS=300                      operations per seed
#        SEED0=1                      first seed
#        KEEP_TMP=1                   keep images and logs
#
# Images without ext_attr start without xattrs (difftest.py populate
# --no-xattr; the stream then sets some, which turns the feature on on
# both sides).  128-byte inodes keep whole seconds: times are compared
# to the second there.  Revision 0: no times after 2038 (--time32): the
# kernel's ext4 sets no time limits for a revision 0 superblock, keeps
# such a time in its inode cache and writes it wrapped to the disk; uvfs
# clamps it to 2038 as the kernel does for 128-byte inodes of revision 1.
# Without filetype (rev0, nofiletype) the kernel's own image may be
# unclean: a new directory's "." and ".." keep a stale file_type byte when
# the block it reuses was still cached (e2fsck: "has filetype set"); there
# the kernel's fsck result is a warning (REF_FSCK=warn), uvfs's is not.
set -euo pipefail
BUILD=${1:?usage: $0 BUILD [NSEEDS]}
NSEEDS=${2:-1}
export OPS=${OPS:-300}
dir=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lib.sh
. "$dir/../lib.sh"

# NAME|mke2fs -t|mke2fs options|populate options|difftest run options|
# REF_FSCK
SEC=--time-prec=1000000000
CONFIGS=(
	"rev0|ext2|-r 0|--no-xattr|$SEC --time32|warn"
	"noxattr|ext2|-I 256 -O ^ext_attr|--no-xattr|"
	"nofiletype|ext2|-I 256 -O ^filetype|||warn"
	"nodirindex|ext2|-I 256 -O ^dir_index||"
	"noresize|ext2|-I 256 -O ^resize_inode||"
	"inode128|ext2|-I 128||$SEC"
	"b1k|ext2|-I 256 -b 1024||"
	"b2k|ext2|-I 256 -b 2048||"
	"b4k|ext2|-I 256 -b 4096||"
	"ext3|ext3|-I 256||"
	"ext4|ext4|-b 4096||"
	"ext4-nocsum|ext4|-O ^metadata_csum||"
	"ext4-no64bit|ext4|-O ^64bit||"
	"ext4-64bit|ext4|-O 64bit||"
	"sparse_super2|ext2|-I 256 -O sparse_super2||"
	"ext4-csum_seed|ext4|-O metadata_csum_seed||"
)
if [[ -z ${MATRIX+x} ]]; then
	MATRIX=
	for c in "${CONFIGS[@]}"; do MATRIX+=" ${c%%|*}"; done
fi

start=$SECONDS
for name in $MATRIX; do
	conf=
	for c in "${CONFIGS[@]}"; do
		[[ ${c%%|*} == "$name" ]] && conf=$c
	done
	if [[ -z $conf ]]; then
		bad "$name" "unknown config"
		continue
	fi
	IFS='|' read -r _ fstype mkopts popopts diffopts reffsck <<<"$conf"
	t0=$SECONDS
	if FSTYPE=$fstype MKFS_OPTS=$mkopts POPULATE_OPTS=$popopts \
		DIFF_OPTS=$diffopts REF_FSCK=$reffsck bash "$dir/test_diff.sh" "$BUILD" "$NSEEDS" \
		>"${TMPDIR:-/tmp}/matrix-diff.$$" 2>&1; then
		ok "$name (mke2fs -t $fstype $mkopts, $NSEEDS seed(s) x $OPS ops, $((SECONDS - t0)) s)"
		# (no warning is the usual case: grep's 1 must not end the run)
		{ grep -o 'warning: .*' "${TMPDIR:-/tmp}/matrix-diff.$$" || true; } |
			sort -u | sed 's/^/     /'
	else
		bad "$name" "mke2fs -t $fstype $mkopts, $((SECONDS - t0)) s"
		grep -vE '^(ok|difftest:)' "${TMPDIR:-/tmp}/matrix-diff.$$" |
			head -n 20 | sed 's/^/     /'
	fi
done
rm -f "${TMPDIR:-/tmp}/matrix-diff.$$"
echo "($((SECONDS - start)) s)"
((fail == 0)) || echo "rerun one: MATRIX=NAME KEEP_TMP=1 $0 $BUILD 1"
summary
