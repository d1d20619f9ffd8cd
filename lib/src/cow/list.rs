//! Reading a persistent store's exception list for listing only (rlvsync's
//! export): the checks of [`super::PersistentStore::load`], without building
//! the lookup table a snapshot target needs. Metadata areas are read a group
//! at a time by parallel reads (each area is a separate small request to the
//! device), and the records go into one flat vector sorted by origin chunk;
//! duplicates are found by that sort instead of per-record hash maps.

use super::area::{read_area_within, Exception, Geometry};
use super::chunk;
use super::error::CowError;
use super::header::Header;
use super::scan::{scan, Mode};
use super::store::{read_header, size};
use crate::io::BlockIo;

/// Areas read in parallel at most (for small chunks; larger chunks fewer, see [`GROUP_BYTES`]).
const GROUP_AREAS: u64 = 64;
/// Bytes of areas read in parallel at most.
const GROUP_BYTES: u64 = 4 << 20;
/// Threads reading a group.
const READ_THREADS: usize = 4;

/// A store's header and committed exceptions, as [`read_exception_list`] returns them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExceptionList {
    /// The store's header.
    pub header: Header,
    /// Every committed exception, in ascending origin-chunk order (none for an invalid store).
    pub exceptions: Vec<Exception>,
}

/// Read the committed exceptions of the persistent store on `disk`, refusing
/// a store [`super::PersistentStore::load`] would refuse, with the same error.
/// An invalidated store (header `valid = 0`) lists nothing, as the kernel reads
/// none of its exceptions; check `header.is_valid()`.
pub fn read_exception_list(disk: &dyn BlockIo) -> Result<ExceptionList, CowError> {
    let header = read_header(disk)?.ok_or(CowError::NotACow)?;
    chunk::validate_kernel(u64::from(header.chunk_size), 512)?;
    let geometry = Geometry::new(header.chunk_size);
    let device_bytes = size(disk)?;
    let chunk_bytes = geometry.chunk_bytes();
    let needed = chunk_bytes.saturating_mul(2);
    if device_bytes < needed {
        return Err(CowError::Truncated {
            what: "header and metadata area 0".into(),
            needed,
            device_bytes,
        });
    }
    if !header.is_valid() {
        return Ok(ExceptionList {
            header,
            exceptions: Vec::new(),
        });
    }
    let area_len = usize::try_from(chunk_bytes).map_err(|_| CowError::ChunkSizeTooLarge {
        chunk_size: geometry.chunk_sectors(),
        limit: chunk::KERNEL_MAX_CHUNK_SECTORS,
    })?;
    let device_chunks = geometry.device_chunks(device_bytes);
    let epa = geometry.exceptions_per_area();
    let group = (GROUP_BYTES / chunk_bytes).clamp(1, GROUP_AREAS);
    let mut bufs: Vec<Vec<u8>> = Vec::new();
    let mut exceptions = Vec::new();
    // Broken invariants are rare: the strict walk then names the first one exactly as a load would.
    let mut broken = false;
    let mut first = 0u64;
    'walk: loop {
        let areas: Vec<u64> = (first..first.saturating_add(group)).collect();
        bufs.resize_with(areas.len(), || vec![0u8; area_len]);
        let results = read_areas(disk, &geometry, device_bytes, &areas, &mut bufs);
        for (buf, result) in bufs.iter().zip(results) {
            result?;
            let mut committed = 0u64;
            while committed < epa {
                let e = Exception::decode_at(buf, committed).expect("a record of the area");
                if e.new_chunk == 0 {
                    break;
                }
                committed += 1;
                broken |= geometry.is_metadata_chunk(e.new_chunk) || e.new_chunk >= device_chunks;
                exceptions.push(e);
            }
            if committed < epa {
                break 'walk;
            }
        }
        first = first.saturating_add(group);
    }
    broken |= !news_are_distinct(&exceptions);
    exceptions.sort_unstable_by_key(|e| e.old_chunk);
    broken |= exceptions
        .windows(2)
        .any(|w| w[0].old_chunk == w[1].old_chunk);
    if broken {
        scan(disk, &geometry, Mode::Strict, &mut Vec::new(), |_, _| {})?;
        return Err(CowError::io(
            "reading the exception list",
            std::io::Error::other("the metadata areas changed while they were read"),
        ));
    }
    Ok(ExceptionList { header, exceptions })
}

/// Whether no two exceptions (in slot order) share a COW chunk: at once when
/// they ascend, as allocation hands them out; by a sort otherwise.
fn news_are_distinct(exceptions: &[Exception]) -> bool {
    if exceptions
        .windows(2)
        .all(|w| w[0].new_chunk < w[1].new_chunk)
    {
        return true;
    }
    let mut news: Vec<u64> = exceptions.iter().map(|e| e.new_chunk).collect();
    news.sort_unstable();
    news.windows(2).all(|w| w[0] != w[1])
}

/// Read metadata `areas` into `bufs` with parallel reads; one result per
/// area, with the errors [`super::area`]'s single-area read gives.
fn read_areas(
    disk: &dyn BlockIo,
    geometry: &Geometry,
    device_bytes: u64,
    areas: &[u64],
    bufs: &mut [Vec<u8>],
) -> Vec<Result<(), CowError>> {
    let read_one =
        |area: u64, buf: &mut [u8]| read_area_within(disk, geometry, area, buf, device_bytes);
    let per = areas.len().div_ceil(READ_THREADS).max(1);
    std::thread::scope(|scope| {
        let parts: Vec<_> = areas
            .chunks(per)
            .zip(bufs.chunks_mut(per))
            .map(|(part, part_bufs)| {
                scope.spawn(move || {
                    part.iter()
                        .zip(part_bufs.iter_mut())
                        .map(|(&area, buf)| read_one(area, buf))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        parts
            .into_iter()
            .flat_map(|p| p.join().expect("an area reader does not panic"))
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cow::{ExceptionStore, PersistentStore};
    use crate::io::MemDisk;
    use std::sync::Arc;

    /// A change made to a good store's device.
    type Damage = Box<dyn Fn(&MemDisk)>;

    /// A store over `bytes` of device with `count` exceptions of scattered origin chunks.
    fn store_with(chunk_sectors: u32, bytes: usize, count: u64) -> Arc<MemDisk> {
        let disk = Arc::new(MemDisk::new(bytes));
        let mut store = PersistentStore::create(disk.clone(), chunk_sectors).unwrap();
        let batch: Vec<Exception> = (0..count)
            .map(|i| Exception {
                old_chunk: (i * 7919) % (count * 3),
                new_chunk: store.allocate().unwrap(),
            })
            .collect();
        for part in batch.chunks(500) {
            store.commit_batch(part).unwrap();
        }
        disk
    }

    #[test]
    fn lists_what_a_load_finds_sorted() {
        // Areas of 32 records: many groups, the last area partly filled, and one exactly full.
        for count in [0, 1, 31, 32, 33, 64 * 32, 64 * 32 + 1, 3000] {
            let disk = store_with(1, 4 << 20, count);
            let list = read_exception_list(disk.as_ref()).unwrap();
            let store = PersistentStore::load(disk.clone()).unwrap();
            let loaded: Vec<Exception> = store.exceptions().iter().collect();
            assert_eq!(list.exceptions, loaded, "{count} exceptions");
            assert_eq!(list.header, store.header());
        }
    }

    #[test]
    fn refuses_what_a_load_refuses_with_the_same_error() {
        let g = Geometry::new(1);
        let at = move |area: u64, index: u64| g.area_location(area) * 512 + index * 16;
        let record = |old: u64, new: u64| {
            Exception {
                old_chunk: old,
                new_chunk: new,
            }
            .encode()
        };
        let cases: Vec<(&str, Damage)> = vec![
            (
                "duplicate origin chunk",
                Box::new(move |d: &MemDisk| {
                    // Slot (1, 5) gets the origin chunk of slot (0, 2).
                    let mut old = [0u8; 8];
                    d.read_exact_at(&mut old, at(0, 2)).unwrap();
                    d.write_all_at(&old, at(1, 5)).unwrap()
                }),
            ),
            (
                "duplicate COW chunk",
                Box::new(move |d: &MemDisk| {
                    let mut first = [0u8; 16];
                    d.read_exact_at(&mut first, at(0, 2)).unwrap();
                    let new = u64::from_le_bytes(first[8..16].try_into().unwrap());
                    d.write_all_at(&record(1_000_000, new), at(1, 7)).unwrap()
                }),
            ),
            (
                "record in a metadata area",
                Box::new(move |d: &MemDisk| {
                    d.write_all_at(&record(1_000_001, g.area_location(1)), at(1, 3))
                        .unwrap()
                }),
            ),
            (
                "record past the end",
                Box::new(move |d: &MemDisk| {
                    d.write_all_at(&record(1_000_002, 1 << 40), at(2, 0))
                        .unwrap()
                }),
            ),
        ];
        for (what, damage) in cases {
            let disk = store_with(1, 1 << 20, 100);
            damage(&disk);
            let ours = read_exception_list(disk.as_ref()).unwrap_err();
            let load = PersistentStore::load(disk.clone()).unwrap_err();
            assert_eq!(ours.to_string(), load.to_string(), "{what}");
        }
        // A device that ends where a full area says the next one is.
        let disk = store_with(1, 1 << 20, 64);
        let short = MemDisk::from_bytes({
            let mut bytes = vec![0u8; (g.area_location(2) * 512) as usize];
            disk.read_exact_at(&mut bytes, 0).unwrap();
            bytes
        });
        let ours = read_exception_list(&short).unwrap_err();
        let load = PersistentStore::load(short).unwrap_err();
        assert_eq!(ours.to_string(), load.to_string());
        assert!(matches!(
            read_exception_list(&MemDisk::new(1 << 20)),
            Err(CowError::NotACow)
        ));
    }
}
