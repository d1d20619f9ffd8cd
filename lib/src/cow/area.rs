//! Exception records (`struct disk_exception`: le64 old_chunk, le64 new_chunk)
//! and the geometry of the metadata areas that hold them.
//!
//! Chunk 0 is the header; metadata area `i` is chunk `1 + i*(epa+1)`, and the
//! `epa` chunks after it hold data, where `epa = chunk_bytes / 16`.

use super::error::CowError;

/// Bytes per exception record.
pub const RECORD_LEN: usize = 16;
/// Chunks before area 0 (`NUM_SNAPSHOT_HDR_CHUNKS`).
pub const HEADER_CHUNKS: u64 = 1;

const OLD_CHUNK_OFFSET: usize = 0;
const NEW_CHUNK_OFFSET: usize = 8;

/// One exception: origin chunk `old_chunk` is saved in COW chunk `new_chunk`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct Exception {
    /// Origin chunk index.
    pub old_chunk: u64,
    /// Absolute COW chunk index holding the saved data (never 0: that is the header).
    pub new_chunk: u64,
}

impl Exception {
    /// The 16 on-disk bytes.
    pub fn encode(&self) -> [u8; RECORD_LEN] {
        let mut out = [0u8; RECORD_LEN];
        out[OLD_CHUNK_OFFSET..OLD_CHUNK_OFFSET + 8].copy_from_slice(&self.old_chunk.to_le_bytes());
        out[NEW_CHUNK_OFFSET..NEW_CHUNK_OFFSET + 8].copy_from_slice(&self.new_chunk.to_le_bytes());
        out
    }

    /// Decode record `index` of an area buffer; `None` if the buffer is too short.
    pub fn decode_at(area: &[u8], index: u64) -> Option<Self> {
        let start = usize::try_from(index).ok()?.checked_mul(RECORD_LEN)?;
        let record = area.get(start..start.checked_add(RECORD_LEN)?)?;
        Some(Self {
            old_chunk: le64(record, OLD_CHUNK_OFFSET),
            new_chunk: le64(record, NEW_CHUNK_OFFSET),
        })
    }

    /// Write this record into slot `index` of an area buffer; `false` if it does not fit.
    pub fn encode_at(&self, area: &mut [u8], index: u64) -> bool {
        let Some(start) = usize::try_from(index)
            .ok()
            .and_then(|i| i.checked_mul(RECORD_LEN))
        else {
            return false;
        };
        match start
            .checked_add(RECORD_LEN)
            .and_then(|end| area.get_mut(start..end))
        {
            Some(slot) => {
                slot.copy_from_slice(&self.encode());
                true
            }
            None => false,
        }
    }
}

fn le64(bytes: &[u8], offset: usize) -> u64 {
    let mut word = [0u8; 8];
    word.copy_from_slice(&bytes[offset..offset + 8]);
    u64::from_le_bytes(word)
}

/// The layout a chunk size implies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Geometry {
    chunk_sectors: u64,
}

impl Geometry {
    /// Geometry for a chunk size in sectors (already validated: a power of two).
    pub fn new(chunk_sectors: u32) -> Self {
        Self {
            chunk_sectors: u64::from(chunk_sectors.max(1)),
        }
    }

    /// Chunk size in sectors.
    pub fn chunk_sectors(&self) -> u64 {
        self.chunk_sectors
    }

    /// Chunk size in bytes.
    pub fn chunk_bytes(&self) -> u64 {
        self.chunk_sectors * 512
    }

    /// Exception records per metadata area (one chunk of 16-byte records).
    pub fn exceptions_per_area(&self) -> u64 {
        self.chunk_bytes() / RECORD_LEN as u64
    }

    /// Chunk index of metadata area `area`.
    pub fn area_location(&self, area: u64) -> u64 {
        HEADER_CHUNKS + area.saturating_mul(self.exceptions_per_area() + 1)
    }

    /// Byte offset of chunk `chunk`, or `None` if it overflows.
    pub fn chunk_offset(&self, chunk: u64) -> Option<u64> {
        chunk.checked_mul(self.chunk_bytes())
    }

    /// Whether `chunk` is the header or a metadata area (never a data chunk).
    pub fn is_metadata_chunk(&self, chunk: u64) -> bool {
        chunk < HEADER_CHUNKS || self.area_at(chunk).is_some()
    }

    /// The metadata area whose chunk is `chunk`, if `chunk` is one (the header is not).
    pub fn area_at(&self, chunk: u64) -> Option<u64> {
        let from_first = chunk.checked_sub(HEADER_CHUNKS)?;
        let stride = self.exceptions_per_area() + 1;
        (from_first % stride == 0).then_some(from_first / stride)
    }

    /// The kernel's `skip_metadata`: step past an area chunk if `next_free` sits on one.
    pub fn skip_metadata(&self, next_free: u64) -> u64 {
        if next_free % (self.exceptions_per_area() + 1) == HEADER_CHUNKS {
            next_free.saturating_add(1)
        } else {
            next_free
        }
    }

    /// Whole chunks in a device of `device_bytes` (a partial last chunk is never used).
    pub fn device_chunks(&self, device_bytes: u64) -> u64 {
        device_bytes / self.chunk_bytes()
    }
}

/// Read metadata area `area` into `buf` (one chunk), naming a short device precisely.
pub(crate) fn read_area(
    disk: &dyn crate::io::BlockIo,
    geometry: &Geometry,
    area: u64,
    buf: &mut [u8],
) -> Result<(), CowError> {
    let device_bytes = disk
        .size_bytes()
        .map_err(|e| CowError::io("reading the COW device size", e))?;
    read_area_within(disk, geometry, area, buf, device_bytes)
}

/// [`read_area`] on a device already known to hold `device_bytes` (callers
/// reading many areas ask for the size once).
pub(crate) fn read_area_within(
    disk: &dyn crate::io::BlockIo,
    geometry: &Geometry,
    area: u64,
    buf: &mut [u8],
    device_bytes: u64,
) -> Result<(), CowError> {
    let chunk = geometry.area_location(area);
    let offset = geometry
        .chunk_offset(chunk)
        .ok_or_else(|| overflow_truncated(area))?;
    let end = offset.saturating_add(geometry.chunk_bytes());
    if end > device_bytes {
        return Err(CowError::Truncated {
            what: format!("metadata area {area} (chunk {chunk})"),
            needed: end,
            device_bytes,
        });
    }
    disk.read_exact_at(buf, offset)
        .map_err(|e| CowError::io(format!("reading metadata area {area} at byte {offset}"), e))
}

fn overflow_truncated(area: u64) -> CowError {
    CowError::Truncated {
        what: format!("metadata area {area}"),
        needed: u64::MAX,
        device_bytes: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_golden_bytes() {
        let e = Exception {
            old_chunk: 0x0102,
            new_chunk: 2,
        };
        let bytes = e.encode();
        assert_eq!(
            bytes,
            [0x02, 0x01, 0, 0, 0, 0, 0, 0, 0x02, 0, 0, 0, 0, 0, 0, 0]
        );
        let mut area = vec![0u8; 64];
        assert!(e.encode_at(&mut area, 3));
        assert!(!e.encode_at(&mut area, 4));
        assert_eq!(Exception::decode_at(&area, 3), Some(e));
        assert_eq!(Exception::decode_at(&area, 4), None);
        assert_eq!(Exception::decode_at(&area, u64::MAX), None);
    }

    #[test]
    fn geometry_4k() {
        // facts.md §1.1: header 0, area0 @1, data 2..257, area1 @258, area2 @515, area3 @772.
        let g = Geometry::new(8);
        assert_eq!(g.exceptions_per_area(), 256);
        assert_eq!(g.area_location(0), 1);
        assert_eq!(g.area_location(1), 258);
        assert_eq!(g.area_location(2), 515);
        assert_eq!(g.area_location(3), 772);
        assert!(g.is_metadata_chunk(0) && g.is_metadata_chunk(1) && g.is_metadata_chunk(258));
        assert!(!g.is_metadata_chunk(2) && !g.is_metadata_chunk(257) && !g.is_metadata_chunk(259));
        assert_eq!(g.skip_metadata(258), 259);
        assert_eq!(g.skip_metadata(257), 257);
        assert_eq!(g.area_at(0), None, "the header is no area");
        assert_eq!(g.area_at(1), Some(0));
        assert_eq!(g.area_at(772), Some(3));
        assert_eq!(g.area_at(257), None);
        assert_eq!(g.area_at(259), None);
    }

    #[test]
    fn geometry_64k_and_512k() {
        let g = Geometry::new(128);
        assert_eq!(g.exceptions_per_area(), 4096);
        assert_eq!(g.area_location(1), 1 + 4097);
        assert_eq!(Geometry::new(1024).exceptions_per_area(), 32768);
    }
}
