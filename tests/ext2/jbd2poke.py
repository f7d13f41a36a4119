#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""jbd2poke: damage a JBD2 journal of an ext4 image (checksum v3, 64-bit
tags) in ways that keep every checksum right, for tests/ext2/test_journal.sh.

usage: jbd2poke.py IMG OFFSET KIND
  OFFSET  byte offset in IMG of the journal block to change
  KIND    target  the first tag of the descriptor at OFFSET names a block
                  far outside the filesystem
          runoff  no tag of that descriptor is marked last
          loop    the journal superblock at OFFSET starts the log outside
                  the journal
The block's checksum (descriptor tail, or superblock) is recomputed.
"""
import struct
import sys

POLY = 0x82F63B78
TABLE = []
for n in range(256):
    c = n
    for _ in range(8):
        c = (c >> 1) ^ POLY if c & 1 else c >> 1
    TABLE.append(c)


def crc32c(crc, data):
    """Raw CRC32C update, no inversion (the kernel's crc32c())."""
    for b in data:
        crc = TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc


def main():
    img, off, kind = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    with open(img, "r+b") as f:
        f.seek(1024 + 24)
        bs = 1024 << struct.unpack("<I", f.read(4))[0]
        # the journal superblock: block 0 of the journal inode; find its
        # UUID through the descriptor's offset is not possible, so the
        # caller's image has the journal superblock right before block 1
        f.seek(off - bs if kind != "loop" else off)
        jsb = bytearray(f.read(1024))
        seed = crc32c(0xFFFFFFFF, bytes(jsb[48:64]))
        f.seek(off)
        blk = bytearray(f.read(bs))
        if kind == "loop":
            maxlen = struct.unpack(">I", blk[16:20])[0]
            blk[28:32] = struct.pack(">I", maxlen + 5)
            blk[252:256] = b"\0\0\0\0"
            blk[252:256] = struct.pack(">I", crc32c(0xFFFFFFFF, bytes(blk[:1024])))
        else:
            at = 12
            while at + 16 <= bs - 4:
                flags = struct.unpack(">I", blk[at + 4:at + 8])[0]
                if kind == "target" and at == 12:
                    blk[at:at + 4] = struct.pack(">I", 0x7FFFFFF0)
                    blk[at + 8:at + 12] = struct.pack(">I", 0x10)
                if kind == "runoff":
                    blk[at + 4:at + 8] = struct.pack(">I", flags & ~0x8)
                last = flags & 0x8
                at += 16 + (0 if flags & 0x2 else 16)
                if last:
                    break
            blk[bs - 4:] = b"\0\0\0\0"
            blk[bs - 4:] = struct.pack(">I", crc32c(seed, bytes(blk)))
        f.seek(off)
        f.write(blk)


if __name__ == "__main__":
    main()
