//! lvm2's checksum: the reflected CRC-32 (polynomial 0x04C11DB7, as zlib's)
//! started from lvm2's own initial value 0xf597a6cf and with no final XOR,
//! over the label from its offset field, over the metadata area header from
//! its magic, and over each metadata text including its trailing NUL.

use crc::{Algorithm, Crc, Table};

/// lvm2's INITIAL_CRC, as its table-driven loop holds it (already reflected).
pub const INITIAL_CRC: u32 = 0xf597_a6cf;

/// The `crc` crate takes the initial value in unreflected form.
const LVM2_CRC: Algorithm<u32> = Algorithm {
    width: 32,
    poly: 0x04c1_1db7,
    init: INITIAL_CRC.reverse_bits(),
    refin: true,
    refout: true,
    xorout: 0,
    check: 0,
    residue: 0,
};

/// Sixteen tables (slice-by-16): a VG of a thousand LVs has a text of some
/// 300 KB, checksummed on every read.
const CRC: Crc<u32, Table<16>> = Crc::<u32, Table<16>>::new(&LVM2_CRC);

/// lvm2's `calc_crc(INITIAL_CRC, bytes)`.
pub fn lvm2_crc(bytes: &[u8]) -> u32 {
    CRC.checksum(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A plain bitwise model of lvm2's table-driven loop.
    fn reference(bytes: &[u8]) -> u32 {
        let mut crc = INITIAL_CRC;
        for &byte in bytes {
            crc ^= u32::from(byte);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xedb8_8320
                } else {
                    crc >> 1
                };
            }
        }
        crc
    }

    #[test]
    fn matches_lvm2s_loop() {
        for bytes in [
            &b""[..],
            b"a",
            b"LABELONE",
            &[0u8; 492][..],
            &[0xffu8; 511][..],
        ] {
            assert_eq!(lvm2_crc(bytes), reference(bytes));
        }
        assert_eq!(lvm2_crc(b""), INITIAL_CRC);
    }
}
