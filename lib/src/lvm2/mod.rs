//! LVM2's on-disk metadata: label, PV header, metadata area header, text
//! metadata, read and written as lvm2 reads and writes them.

pub mod backup;
pub mod crc;
pub mod error;
pub mod flags;
pub mod label;
pub mod lock;
pub mod mda;
pub mod model;
pub mod store;
pub mod text;
pub mod validate;

pub use error::Lvm2Error;

/// Little-endian u32 at `at` (callers check the bounds first).
pub(crate) fn le32(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"))
}

/// Little-endian u64 at `at` (callers check the bounds first).
pub(crate) fn le64(bytes: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"))
}

/// The first MiB of a PV made by real lvm2 (tests/fixtures/lvm2/make-fixtures.sh).
#[cfg(test)]
pub(crate) fn lvm2_fixture() -> Vec<u8> {
    use std::io::Read;
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/fixtures/lvm2/vg1-pv.img.gz"
    );
    let mut bytes = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).expect("the lvm2 fixture"))
        .read_to_end(&mut bytes)
        .expect("a gzip stream");
    bytes
}
