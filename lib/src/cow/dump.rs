//! Everything on a persistent store's disk, in on-disk order, for `rcow dump`.
//!
//! Unlike loading, a dump does not stop at broken records and lists the
//! records of an invalidated store too: it shows what is there.

use serde::Serialize;

use super::area::{Exception, Geometry};
use super::chunk;
use super::error::CowError;
use super::header::Header;
use super::scan::{scan, Mode};
use super::store::{read_header, size, Usage};
use crate::io::BlockIo;

/// The header fields, as stored.
#[derive(Debug, Clone, Serialize)]
pub struct DumpHeader {
    /// Always `SnAp` (a dump of anything else fails).
    pub magic: &'static str,
    /// 1 valid, 0 invalidated.
    pub valid: u32,
    /// On-disk version (1).
    pub version: u32,
    /// Chunk size in sectors.
    pub chunk_size: u32,
}

/// The layout the chunk size and device size imply.
#[derive(Debug, Clone, Serialize)]
pub struct DumpGeometry {
    /// Chunk size in bytes.
    pub chunk_bytes: u64,
    /// Records per metadata area.
    pub exceptions_per_area: u64,
    /// Device size in sectors.
    pub device_sectors: u64,
    /// Metadata areas in use (the last one partly filled).
    pub areas: u64,
}

/// One record with its place on disk.
#[derive(Debug, Clone, Serialize)]
pub struct DumpEntry {
    /// Metadata area.
    pub area: u64,
    /// Slot within the area.
    pub index: u64,
    /// Origin chunk.
    pub old_chunk: u64,
    /// COW chunk.
    pub new_chunk: u64,
}

/// A whole dump; this is also the stable `rcow dump --json` schema.
#[derive(Debug, Clone, Serialize)]
pub struct Dump {
    /// Header fields.
    pub header: DumpHeader,
    /// Layout.
    pub geometry: DumpGeometry,
    /// The kernel's status text: `<allocated>/<total> <metadata>`, or `Invalid`.
    pub status: String,
    /// Usage numbers; `None` for an invalid store.
    pub usage: Option<Usage>,
    /// Every record in on-disk order.
    pub exceptions: Vec<DumpEntry>,
}

/// Read everything on `disk` without writing.
pub fn dump(disk: &dyn BlockIo) -> Result<Dump, CowError> {
    let header: Header = read_header(disk)?.ok_or(CowError::NotACow)?;
    chunk::validate_kernel(u64::from(header.chunk_size), 512)?;
    let geometry = Geometry::new(header.chunk_size);
    let device_bytes = size(disk)?;
    let mut exceptions = Vec::new();
    let found = scan(disk, &geometry, Mode::Collect, &mut Vec::new(), |_, _| {})?;
    // Collect mode hides broken records from the callback; list them from the area bytes instead.
    for area in 0..=found.current_area {
        let count = if area == found.current_area {
            found.current_committed
        } else {
            geometry.exceptions_per_area()
        };
        let mut buf = vec![0u8; found.area.len()];
        if area == found.current_area {
            buf.copy_from_slice(&found.area);
        } else {
            super::area::read_area(disk, &geometry, area, &mut buf)?;
        }
        for index in 0..count {
            if let Some(Exception {
                old_chunk,
                new_chunk,
            }) = Exception::decode_at(&buf, index)
            {
                exceptions.push(DumpEntry {
                    area,
                    index,
                    old_chunk,
                    new_chunk,
                });
            }
        }
    }
    let chunk = geometry.chunk_sectors();
    // Records past the end are listed here, not refused, so the arithmetic must saturate.
    let next_free = geometry.skip_metadata(
        found
            .max_new_chunk
            .map_or(2, |max| max.saturating_add(1).max(2)),
    );
    let usage = header.is_valid().then_some(Usage {
        sectors_allocated: next_free.saturating_mul(chunk),
        total_sectors: device_bytes / 512,
        metadata_sectors: (found.current_area + 2) * chunk,
    });
    Ok(Dump {
        header: DumpHeader {
            magic: "SnAp",
            valid: header.valid,
            version: header.version,
            chunk_size: header.chunk_size,
        },
        geometry: DumpGeometry {
            chunk_bytes: geometry.chunk_bytes(),
            exceptions_per_area: geometry.exceptions_per_area(),
            device_sectors: device_bytes / 512,
            areas: found.current_area + 1,
        },
        status: usage.map_or_else(|| "Invalid".to_string(), |u| u.to_string()),
        usage,
        exceptions,
    })
}
