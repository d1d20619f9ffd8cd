#!/usr/bin/env python3
"""Deterministic data patterns shared by the QEMU scenarios and the Rust tests.

origin OUT BYTES
    every little-endian 64-bit word at byte offset o is 0x0A11CE0000000000 ^ o
chunks OUT CHUNK_BYTES SEED C1,C2,...
    one chunk per listed origin chunk c, concatenated; the word at offset o
    within the chunk is (SEED << 56) ^ (c << 24) ^ o (the cow_write example's
    pattern, so both sides agree on what a written chunk holds)
"""
import struct
import sys

ORIGIN_BASE = 0x0A11CE0000000000


def words(count, first):
    return struct.pack("<%dQ" % count, *first)


def origin(out, size):
    with open(out, "wb") as f:
        step = 1 << 20
        for start in range(0, size, step):
            n = min(step, size - start) // 8
            f.write(words(n, (ORIGIN_BASE ^ (start + 8 * i) for i in range(n))))


def chunks(out, chunk_bytes, seed, listed):
    with open(out, "wb") as f:
        for c in listed:
            n = chunk_bytes // 8
            f.write(words(n, (((seed << 56) ^ (c << 24) ^ (8 * i)) & (2**64 - 1) for i in range(n))))


if __name__ == "__main__":
    kind = sys.argv[1]
    if kind == "origin":
        origin(sys.argv[2], int(sys.argv[3]))
    elif kind == "chunks":
        listed = [int(c) for c in sys.argv[5].split(",") if c]
        chunks(sys.argv[2], int(sys.argv[3]), int(sys.argv[4], 0), listed)
    else:
        sys.exit(__doc__)
