//! Walking the metadata areas the way the kernel's `read_exceptions` does:
//! area 0, 1, 2, ... until the first record with `new_chunk == 0`; a full
//! area means the next one must be read too. Every record is checked against
//! the store's invariants on the way.

use std::collections::HashMap;

use super::area::{read_area, Exception, Geometry};
use super::error::{CowError, Slot};
use crate::io::BlockIo;

/// What a walk found.
#[derive(Debug)]
pub(crate) struct Scan {
    /// The last, partly filled area (the kernel's `current_area`).
    pub current_area: u64,
    /// Records in use in that area (`current_committed`).
    pub current_committed: u64,
    /// That area's bytes, so new records can be appended in memory.
    pub area: Vec<u8>,
    /// Largest `new_chunk` seen, if any record was.
    pub max_new_chunk: Option<u64>,
    /// Records seen.
    pub count: u64,
}

/// How a walk treats a broken invariant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Fail on the first problem (loading a store).
    Strict,
    /// Collect every problem and carry on (checking a store).
    Collect,
}

/// Walk every area, calling `each` for records that break no invariant.
/// In [`Mode::Collect`] problems go to `problems`; either way an area that cannot
/// be read (past the end of the device, an I/O error) ends the walk with `Err`.
pub(crate) fn scan(
    disk: &dyn BlockIo,
    geometry: &Geometry,
    mode: Mode,
    problems: &mut Vec<CowError>,
    mut each: impl FnMut(Slot, Exception),
) -> Result<Scan, CowError> {
    let device_bytes = disk
        .size_bytes()
        .map_err(|e| CowError::io("reading the COW device size", e))?;
    let device_chunks = geometry.device_chunks(device_bytes);
    let epa = geometry.exceptions_per_area();
    let chunk_bytes = usize::try_from(geometry.chunk_bytes()).map_err(|_| CowError::Truncated {
        what: "a metadata area buffer".into(),
        needed: geometry.chunk_bytes(),
        device_bytes,
    })?;
    // Never allocate an area buffer larger than the device could hold (hostile chunk sizes).
    let needed = geometry.chunk_bytes().saturating_mul(2);
    if device_bytes < needed {
        return Err(CowError::Truncated {
            what: "header and metadata area 0".into(),
            needed,
            device_bytes,
        });
    }
    let mut area = vec![0u8; chunk_bytes];
    let mut seen_old: HashMap<u64, Slot> = HashMap::new();
    let mut seen_new: HashMap<u64, Slot> = HashMap::new();
    let mut max_new_chunk = None;
    let mut count = 0u64;
    let mut current_area = 0u64;
    loop {
        // An unreadable area ends the walk in either mode: nothing after it can be found.
        read_area(disk, geometry, current_area, &mut area)?;
        let mut committed = 0u64;
        while committed < epa {
            let Some(e) = Exception::decode_at(&area, committed) else {
                break;
            };
            if e.new_chunk == 0 {
                break;
            }
            let slot = Slot {
                area: current_area,
                index: committed,
            };
            committed += 1;
            let mut broken = Vec::new();
            if geometry.is_metadata_chunk(e.new_chunk) {
                broken.push(CowError::ExceptionInMetadataArea {
                    slot,
                    new_chunk: e.new_chunk,
                });
            } else if e.new_chunk >= device_chunks {
                broken.push(CowError::ExceptionPastEnd {
                    slot,
                    new_chunk: e.new_chunk,
                    device_chunks,
                });
            }
            if let Some(&first) = seen_old.get(&e.old_chunk) {
                broken.push(CowError::DuplicateOldChunk {
                    old_chunk: e.old_chunk,
                    first,
                    second: slot,
                });
            } else {
                seen_old.insert(e.old_chunk, slot);
            }
            if let Some(&first) = seen_new.get(&e.new_chunk) {
                broken.push(CowError::DuplicateNewChunk {
                    new_chunk: e.new_chunk,
                    first,
                    second: slot,
                });
            } else {
                seen_new.insert(e.new_chunk, slot);
            }
            count += 1;
            // The kernel's next_free tracks every record, sound or not.
            max_new_chunk = max_new_chunk.max(Some(e.new_chunk));
            if broken.is_empty() {
                each(slot, e);
            } else if mode == Mode::Strict {
                return Err(broken.remove(0));
            } else {
                problems.extend(broken);
            }
        }
        if committed < epa {
            return Ok(Scan {
                current_area,
                current_committed: committed,
                area,
                max_new_chunk,
                count,
            });
        }
        current_area += 1;
    }
}
