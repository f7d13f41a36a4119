#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Journal replay (issue 12, part 1): images left needing recovery by
# debugfs's journal writer (journal_open/journal_write/journal_close write
# JBD2 transactions as the kernel's driver does), replayed by a read-write
# uvfsd mount and, on a copy, by e2fsck -fy.  Over FUSE, as a user runs
# uvfsd.
#
# usage: tests/ext2/test_journal.sh BUILD [MUTATIONS]
#
# Journals: ext4 with metadata_csum (JBD2 checksum v3, 64-bit tags), the
# same with checksum v2 and with no checksums, ext3 (32-bit tags).  Each
# gets three transactions rewriting /a's and /d/b's blocks, one revoking
# an earlier copy of /d/b's block, one whose copy begins with the JBD2
# magic (escaped in the journal), and an uncommitted one that must not be
# replayed.  Checks: the rw mount replays (one log line), the two replays
# give the same tree (compare.py) and the same blocks, both images are
# e2fsck -fn clean and no longer need recovery; a second mount replays
# nothing.  -o ro and -o norecovery of an image needing recovery: mounted
# read-only with one line, the image byte for byte unchanged.  The
# orphan list a crash leaves (an inode unlinked while open, a truncate
# cut short) is cleaned up by the rw mount, fsck-clean after.  Corrupt
# journals (bad superblock magic, superblock / descriptor / commit / data
# checksums, a tag outside the filesystem, a descriptor running off its
# block, a log that loops): refused with one line, image unchanged.
# Then MUTATIONS (default 200) seeded copies of the checksummed (v3) and
# of the unchecksummed ext4 fixture, 1-8 random bytes of the log changed,
# each walked by BUILD's uvfsd --transport=direct (an ASan build in stage
# 57): no crash, no hang, no sanitizer report; a refusal is one line and
# leaves the image unchanged.  (A mutation of an unchecksummed copy is
# replayed as it is, as the kernel would.)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
lib_init "${1:?usage: $0 BUILD [MUTATIONS]}" journal
nmut=${2:-200}
here=$(cd "$(dirname "$0")" && pwd)
mnt=$LIB_TMP/mnt
mnt2=$LIB_TMP/mnt2
src=$LIB_TMP/src
mkdir -p "$mnt" "$mnt2" "$src/d"
echo hello >"$src/a"
echo world >"$src/d/b"
head -c 300000 /dev/urandom >"$src/big"

sum() { sha256sum "$1" | cut -d' ' -f1; }
features() { dumpe2fs -h "$1" 2>/dev/null | sed -n 's/^Filesystem features: *//p'; }
needs_recovery() { [[ " $(features "$1") " == *" needs_recovery "* ]]; }
bsize() { dumpe2fs -h "$1" 2>/dev/null | sed -n 's/^Block size: *//p'; }
bmap() { debugfs -R "bmap $2 0" "$1" 2>/dev/null; }

# block FILE TEXT BS: one block starting with TEXT, zero-padded
block() { { printf '%s' "$2"; head -c $(($3 - ${#2})) /dev/zero; } >"$1"; }

# journal_img T OPEN IMG: a T image (mke2fs -t T) whose journal, opened
# with debugfs "jo OPEN", holds: T1 /a's block := HELLO, /d/b's := WORLD1;
# T2 block c (= /d/b's + 2) := REVOKED; T3 revokes /d/b's block and c;
# T4 /d/b's := WORLD2; T5 block /d/b's + 1 := the JBD2 magic + "escaped"
# (escaped in the journal); T6, uncommitted: /a's := NOT COMMITTED.  (One
# jw with both -r and -b leaves debugfs's transaction without its commit
# block, hence T3 alone.)  Copies IMG to IMG.orig.
journal_img() {
	local t=$1 open=$2 img=$3 a b bs j=$LIB_TMP/jblk
	case $t in
	ext4) mke2fs -q -F -t ext4 -O metadata_csum -d "$src" "$img" 32M ;;
	*) mke2fs -q -F -t "$t" -b 1024 -d "$src" "$img" 32M ;;
	esac
	cp "$img" "$img.orig"
	a=$(bmap "$img" /a)
	b=$(bmap "$img" /d/b)
	bs=$(bsize "$img")
	block "$j.1" "HELLO" "$bs"
	block "$j.2" "WORLD1" "$bs"
	block "$j.3" "WORLD2" "$bs"
	block "$j.4" "$(printf '\xc0\x3b\x39\x98')escaped" "$bs"
	block "$j.5" "NOT COMMITTED" "$bs"
	block "$j.6" "REVOKED" "$bs"
	cat "$j.1" "$j.2" >"$j.12"
	debugfs -w -f - "$img" >/dev/null 2>&1 <<-EOF
		jo $open
		jw -b $a,$b $j.12
		jw -b $((b + 2)) $j.6
		jw -r $b,$((b + 2)) /dev/null
		jw -b $b $j.3
		jw -b $((b + 1)) $j.4
		jw -c -b $a $j.5
		jc
	EOF
	needs_recovery "$img" ||
		{ echo "needs_recovery not set: $(features "$img")"; return 1; }
	[[ $(debugfs -R 'cat /a' "$img" 2>/dev/null) == hello ]] ||
		{ echo "/a changed before recovery"; return 1; }
}

# dd_block IMG BS N: block N of IMG
dd_block() { dd if="$1" bs="$2" skip="$3" count=1 status=none; }

# the log of the daemon last mounted on $mnt: at most MAX lines matching PAT
log_lines() { # MAX PAT
	local f n
	f=$(daemon_log "$mnt")
	n=$(wc -l <"$f")
	((n <= $1)) || { echo "daemon printed $n lines:"; cat "$f"; return 1; }
	((n == 0)) || grep -qE "$2" "$f" ||
		{ echo "daemon line lacks /$2/: $(cat "$f")"; return 1; }
	cat "$f"
}

# both replays of IMG agree, and are what the transactions say
replays_agree() { # IMG
	local img=$1 u=$LIB_TMP/u.img f=$LIB_TMP/f.img rc=0 a b bs
	cp "$img" "$u"
	cp "$img" "$f"
	e2fsck -fy "$f" >"$LIB_TMP/fsck.out" 2>&1 || rc=$?
	((rc <= 1)) || { echo "e2fsck -fy: $rc"; cat "$LIB_TMP/fsck.out"; return 1; }
	rc=0
	fs_mount uvfs "$u" "$mnt" rw || return 1
	[[ $(cat "$mnt/a") == HELLO* ]] || { echo "a: $(head -c 20 "$mnt/a" | xxd | head -2)"; rc=1; }
	[[ $(cat "$mnt/d/b") == WORLD2 ]] || { echo "d/b: $(head -c 20 "$mnt/d/b" | xxd | head -2)"; rc=1; }
	fs_umount "$mnt" || rc=1
	log_lines 1 'journal replayed \(5 transactions\)' || rc=1
	for x in "$u" "$f"; do
		needs_recovery "$x" && { echo "$x still needs recovery"; rc=1; }
		fsck_clean "$x" || rc=1
	done
	# the blocks the journal names, byte for byte; c as before
	a=$(bmap "$u" /a)
	b=$(bmap "$u" /d/b)
	bs=$(bsize "$u")
	for blk in "$a" "$b" $((b + 1)) $((b + 2)); do
		cmp <(dd_block "$u" "$bs" "$blk") <(dd_block "$f" "$bs" "$blk") ||
			{ echo "block $blk differs"; rc=1; }
	done
	cmp <(dd_block "$u" "$bs" $((b + 2))) <(dd_block "$img.orig" "$bs" $((b + 2))) ||
		{ echo "revoked block $((b + 2)) was replayed"; rc=1; }
	# the escaped copy got its magic back
	[[ $(dd_block "$u" "$bs" $((b + 1)) | head -c 11 | xxd -p) == c03b399865736361706564 ]] ||
		{ echo "escaped block: $(dd_block "$u" "$bs" $((b + 1)) | head -c 16 | xxd -p)"; rc=1; }
	fs_mount uvfs "$u" "$mnt" ro || return 1
	fs_mount uvfs "$f" "$mnt2" ro || { fs_umount "$mnt"; return 1; }
	python3 "$here/compare.py" --ignore lost+found "$mnt" "$mnt2" || rc=1
	fs_umount "$mnt2" || rc=1
	fs_umount "$mnt" || rc=1
	# replayed once: a second rw mount has nothing to replay
	fs_mount uvfs "$u" "$mnt" rw || return 1
	echo more >"$mnt/new" || rc=1
	fs_umount "$mnt" || rc=1
	log_lines 0 '' || rc=1
	fsck_clean "$u" || rc=1
	return $rc
}

# -o ro / -o norecovery: read-only, one line, the image unchanged
not_replayed() { # IMG OPTS
	local before rc=0
	before=$(sum "$1")
	fs_mount uvfs "$1" "$mnt" "$2" || return 1
	[[ $(cat "$mnt/a") == hello ]] || { echo "a: $(cat "$mnt/a")"; rc=1; }
	touch "$mnt/new" 2>/dev/null && { echo "write allowed"; rc=1; }
	fs_umount "$mnt" || rc=1
	log_lines 1 'journal|norecovery' || rc=1
	[[ $(sum "$1") == "$before" ]] || { echo "image changed"; rc=1; }
	return $rc
}

for t in ext4:-c ext4:"-c -v 2" ext4: ext3:; do
	fs=${t%%:*}
	open=${t#*:}
	name="$fs jo $open"
	img=$LIB_TMP/j.img
	if ! journal_img "$fs" "$open" "$img" >"$LIB_TMP/out" 2>&1; then
		bad "$name: fixture" "$(xargs <"$LIB_TMP/out")"
		continue
	fi
	check "$name: uvfs and e2fsck -fy replay alike, both fsck-clean" \
		replays_agree "$img"
	check "$name: -o ro reads the unreplayed tree, image unchanged" \
		not_replayed "$img" ro
	check "$name: -o norecovery likewise" not_replayed "$img" rw,norecovery
done

# ---- the orphan list a crash leaves ----
# /gone: unlinked while open (links 0, on the list); /cut: 300000 bytes,
# cut to 5000 when the crash came (size 5000, blocks past it still held)
orphans() {
	local img=$LIB_TMP/o.img g c rc=0
	mke2fs -q -F -t ext4 -d "$src" "$img" 32M
	cp "$src/big" "$src/gone"
	debugfs -w -f - "$img" >/dev/null 2>&1 <<-EOF
		write $src/big gone
		write $src/big cut
	EOF
	g=$(debugfs -R 'stat /gone' "$img" 2>/dev/null | sed -n 's/^Inode: \([0-9]*\).*/\1/p')
	c=$(debugfs -R 'stat /cut' "$img" 2>/dev/null | sed -n 's/^Inode: \([0-9]*\).*/\1/p')
	[[ -n $g && -n $c ]] || { echo "fixture: no inodes"; return 1; }
	debugfs -w -f - "$img" >/dev/null 2>&1 <<-EOF
		unlink /gone
		sif <$g> links_count 0
		sif <$g> dtime $c
		sif <$c> size 5000
		sif <$c> dtime 0
		ssv last_orphan $g
	EOF
	fs_mount uvfs "$img" "$mnt" rw || return 1
	[[ $(stat -c %s "$mnt/cut") == 5000 ]] || { echo "cut: $(stat -c %s "$mnt/cut")"; rc=1; }
	cmp <(head -c 5000 "$src/big") "$mnt/cut" || rc=1
	fs_umount "$mnt" || rc=1
	log_lines 1 'orphan list: 1 inode freed, 1 truncated' || rc=1
	fsck_clean "$img" || rc=1
	[[ $(dumpe2fs -h "$img" 2>/dev/null | grep -c 'First orphan inode') == 0 ]] ||
		{ echo "orphan list still set"; rc=1; }
	return $rc
}
check "orphan list: unlinked-open inode freed, truncate finished, fsck-clean" orphans

# ---- corrupt journals: one line, the image untouched ----

# jblock IMG N: the image byte offset of journal block N
jblock() {
	local p bs
	bs=$(bsize "$1")
	p=$(debugfs -R "bmap <8> $2" "$1" 2>/dev/null)
	echo $((p * bs))
}

# poke IMG OFFSET HEX: overwrite bytes at OFFSET
poke() { printf "$(echo "$3" | sed 's/../\\x&/g')" |
	dd of="$1" bs=1 seek="$2" conv=notrunc status=none; }

refused() { # IMG PATTERN
	local before
	before=$(sum "$1")
	uvfsd_refuses "$2" ext2 "$1" "$mnt" || return 1
	[[ $(sum "$1") == "$before" ]] || { echo "image changed"; return 1; }
}

base=$LIB_TMP/base.img
if journal_img ext4 -c "$base" >"$LIB_TMP/out" 2>&1; then
	c=$LIB_TMP/c.img
	# journal block 1: the first descriptor; 2, 3: its copies; 4: commit
	cp "$base" "$c"; poke "$c" "$(jblock "$c" 0)" 00000000
	check "corrupt: bad journal superblock magic" refused "$c" 'journal superblock magic'
	cp "$base" "$c"; poke "$c" $(($(jblock "$c" 0) + 100)) ff
	check "corrupt: journal superblock checksum" refused "$c" 'superblock checksum'
	cp "$base" "$c"; poke "$c" $(($(jblock "$c" 1) + 40)) ff
	check "corrupt: descriptor checksum" refused "$c" 'descriptor block checksum'
	cp "$base" "$c"; poke "$c" $(($(jblock "$c" 2) + 9)) ff
	check "corrupt: a block's checksum" refused "$c" 'checksum mismatch of a block'
	cp "$base" "$c"; poke "$c" $(($(jblock "$c" 4) + 60)) ff
	check "corrupt: commit checksum" refused "$c" 'commit block checksum'
	cp "$base" "$c"
	python3 "$here/jbd2poke.py" "$c" "$(jblock "$c" 1)" target
	check "corrupt: a tag outside the filesystem" refused "$c" 'outside the filesystem'
	cp "$base" "$c"
	python3 "$here/jbd2poke.py" "$c" "$(jblock "$c" 1)" runoff
	check "corrupt: a descriptor running off its block" refused "$c" 'runs off'
	cp "$base" "$c"
	python3 "$here/jbd2poke.py" "$c" "$(jblock "$c" 0)" loop
	check "corrupt: a log that loops" refused "$c" 'loops|outside the journal'
else
	bad "corrupt: fixture" "$(xargs <"$LIB_TMP/out")"
fi

# ---- seeded mutations of the log ----
plain=$LIB_TMP/plain.img
journal_img ext4 "" "$plain" >"$LIB_TMP/out" 2>&1 ||
	bad "mutations: unchecksummed fixture" "$(xargs <"$LIB_TMP/out")"

mutations() {
	local i img=$LIB_TMP/m.img rc n crash=0 hang=0 refused=0 mounted=0
	local from j0 jlen before
	for ((i = 1; i <= nmut; i++)); do
		from=$base
		((i % 2)) || from=$plain
		cp "$from" "$img"
		j0=$(jblock "$img" 0)
		jlen=$((16 * $(bsize "$img")))
		python3 - "$i" "$img" "$j0" "$jlen" <<-'EOF'
			import random, sys
			seed, img, j0, jlen = sys.argv[1:]
			r = random.Random(int(seed))
			with open(img, "r+b") as f:
			    for _ in range(r.randint(1, 8)):
			        f.seek(int(j0) + r.randrange(int(jlen)))
			        f.write(bytes([r.randrange(256)]))
		EOF
		before=$(sum "$img")
		rc=0
		timeout 30 "$UVFSD" --transport=direct ext2 "$img" \
			>"$LIB_TMP/m.out" 2>"$LIB_TMP/m.err" </dev/null || rc=$?
		if ((rc == 124)); then
			hang=$((hang + 1))
			echo "seed $i: hang"
			continue
		fi
		if ((rc > 128)) || grep -qE 'Sanitizer|runtime error' "$LIB_TMP/m.err"; then
			crash=$((crash + 1))
			echo "seed $i: crash (rc $rc)"
			tail -5 "$LIB_TMP/m.err"
			continue
		fi
		if ((rc != 0)); then
			refused=$((refused + 1))
			n=$(wc -l <"$LIB_TMP/m.err")
			((n == 1)) || { echo "seed $i: refusal of $n lines:"; cat "$LIB_TMP/m.err"; crash=$((crash + 1)); }
			[[ $(sum "$img") == "$before" ]] ||
				{ echo "seed $i: refused but image changed"; crash=$((crash + 1)); }
		else
			mounted=$((mounted + 1))
		fi
	done
	echo "mutations: $nmut images: $refused refused, $mounted replayed and walked, $crash bad, $hang hangs"
	((crash == 0 && hang == 0))
}
if [[ -e $base && -e $plain ]] && ((nmut > 0)); then
	check "mutations of the log: no crash, no hang, refusals one line" mutations
	grep '^mutations:' "$CHECK_OUT" || true
fi

summary journal
