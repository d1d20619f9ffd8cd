//! The 16-byte disk header in chunk 0 (`struct disk_header`, packed, little-endian);
//! the rest of chunk 0 is written as zeros.

use super::error::CowError;

/// `SnAp` read as a little-endian u32.
pub const MAGIC: u32 = 0x7041_6e53;
/// The only on-disk version the kernel knows (`SNAPSHOT_DISK_VERSION`).
pub const VERSION: u32 = 1;
/// Bytes of the header that carry meaning.
pub const HEADER_LEN: usize = 16;

const MAGIC_OFFSET: usize = 0;
const VALID_OFFSET: usize = 4;
const VERSION_OFFSET: usize = 8;
const CHUNK_SIZE_OFFSET: usize = 12;

/// The decoded header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Non-zero while the snapshot is usable; 0 once invalidated (never recoverable).
    pub valid: u32,
    /// On-disk format version; always [`VERSION`] after a successful decode.
    pub version: u32,
    /// Chunk size in 512-byte sectors.
    pub chunk_size: u32,
}

impl Header {
    /// A valid version-1 header for `chunk_size` sectors.
    pub fn new(chunk_size: u32) -> Self {
        Self {
            valid: 1,
            version: VERSION,
            chunk_size,
        }
    }

    /// Whether the snapshot is marked valid.
    pub fn is_valid(&self) -> bool {
        self.valid != 0
    }

    /// The 16 header bytes.
    pub fn encode(&self) -> [u8; HEADER_LEN] {
        let mut out = [0u8; HEADER_LEN];
        out[MAGIC_OFFSET..MAGIC_OFFSET + 4].copy_from_slice(&MAGIC.to_le_bytes());
        out[VALID_OFFSET..VALID_OFFSET + 4].copy_from_slice(&self.valid.to_le_bytes());
        out[VERSION_OFFSET..VERSION_OFFSET + 4].copy_from_slice(&self.version.to_le_bytes());
        out[CHUNK_SIZE_OFFSET..CHUNK_SIZE_OFFSET + 4]
            .copy_from_slice(&self.chunk_size.to_le_bytes());
        out
    }

    /// The whole of chunk 0 as the kernel writes it: header, then zeros.
    pub fn encode_chunk(&self, chunk_bytes: usize) -> Vec<u8> {
        let mut chunk = vec![0u8; chunk_bytes.max(HEADER_LEN)];
        chunk[..HEADER_LEN].copy_from_slice(&self.encode());
        chunk
    }

    /// Three-way decode of the start of chunk 0, checked in order length → magic → version:
    /// `Ok(None)` for a fresh device (magic 0), `Ok(Some)` for a store, `Err` for a damaged one.
    /// The chunk size is returned as found; callers validate it against the device.
    pub fn decode(bytes: &[u8]) -> Result<Option<Self>, CowError> {
        let Some(head) = bytes.get(..HEADER_LEN) else {
            return Err(CowError::Truncated {
                what: "COW header".into(),
                needed: HEADER_LEN as u64,
                device_bytes: bytes.len() as u64,
            });
        };
        let magic = le32(head, MAGIC_OFFSET);
        if magic == 0 {
            return Ok(None);
        }
        if magic != MAGIC {
            return Err(CowError::BadMagic { found: magic });
        }
        let version = le32(head, VERSION_OFFSET);
        if version != VERSION {
            return Err(CowError::UnsupportedVersion { found: version });
        }
        Ok(Some(Self {
            valid: le32(head, VALID_OFFSET),
            version,
            chunk_size: le32(head, CHUNK_SIZE_OFFSET),
        }))
    }
}

/// A little-endian u32 at a constant offset of a slice already checked to be long enough.
fn le32(bytes: &[u8], offset: usize) -> u32 {
    let mut word = [0u8; 4];
    word.copy_from_slice(&bytes[offset..offset + 4]);
    u32::from_le_bytes(word)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// facts.md §1.2, as the kernel wrote it for a 4 KiB store.
    const GOLDEN_VALID: [u8; 16] = [
        0x53, 0x6e, 0x41, 0x70, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00,
        0x00,
    ];

    #[test]
    fn encodes_the_golden_bytes() {
        assert_eq!(Header::new(8).encode(), GOLDEN_VALID);
        assert_eq!(&GOLDEN_VALID[..4], b"SnAp");
        let mut invalid = GOLDEN_VALID;
        invalid[4] = 0;
        let header = Header {
            valid: 0,
            ..Header::new(8)
        };
        assert_eq!(header.encode(), invalid);
    }

    #[test]
    fn decodes_the_golden_bytes() {
        let header = Header::decode(&GOLDEN_VALID).unwrap().unwrap();
        assert_eq!(header, Header::new(8));
        assert!(header.is_valid());
    }

    #[test]
    fn whole_chunk_is_zero_around_the_header() {
        let chunk = Header::new(8).encode_chunk(4096);
        assert_eq!(chunk.len(), 4096);
        assert_eq!(chunk[..16], GOLDEN_VALID);
        assert!(chunk[16..].iter().all(|&b| b == 0));
    }

    #[test]
    fn three_way_read() {
        assert_eq!(Header::decode(&[0u8; 16]).unwrap(), None);
        assert!(matches!(
            Header::decode(&[1u8; 16]),
            Err(CowError::BadMagic { found: 0x0101_0101 })
        ));
        let mut v2 = GOLDEN_VALID;
        v2[8] = 2;
        assert!(matches!(
            Header::decode(&v2),
            Err(CowError::UnsupportedVersion { found: 2 })
        ));
        assert!(matches!(
            Header::decode(&GOLDEN_VALID[..15]),
            Err(CowError::Truncated {
                needed: 16,
                device_bytes: 15,
                ..
            })
        ));
    }
}
