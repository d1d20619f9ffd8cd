//! Store-level tests: the kernel's figures, commit order, merge, check,
//! crash consistency and hostile bytes.

use std::collections::HashMap;
use std::io;
use std::sync::{Arc, Mutex};

use proptest::prelude::*;

use super::*;
use crate::io::{BlockIo, MemDisk};

const SECTOR: usize = 512;

/// A device that logs every write and flush, so tests can assert the order and replay prefixes.
#[derive(Debug)]
struct Recorder {
    disk: MemDisk,
    log: Mutex<Vec<Op>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Op {
    Write(u64, Vec<u8>),
    /// A write that is durable once it completes (`O_DSYNC`), alone.
    DurableWrite(u64, Vec<u8>),
    Flush,
}

impl Recorder {
    fn new(bytes: Vec<u8>) -> Self {
        Self {
            disk: MemDisk::from_bytes(bytes),
            log: Mutex::new(Vec::new()),
        }
    }
    fn take_log(&self) -> Vec<Op> {
        std::mem::take(&mut *self.log.lock().unwrap())
    }
    /// Apply a write to the device and log it.
    fn record(&self, op: Op) -> io::Result<()> {
        if let Op::Write(offset, data) | Op::DurableWrite(offset, data) = &op {
            self.disk.write_all_at(data, *offset)?;
        }
        self.log.lock().unwrap().push(op);
        Ok(())
    }
}

impl BlockIo for Recorder {
    fn size_bytes(&self) -> io::Result<u64> {
        self.disk.size_bytes()
    }
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        self.disk.read_exact_at(buf, offset)
    }
    fn write_all_at(&self, buf: &[u8], offset: u64) -> io::Result<()> {
        self.record(Op::Write(offset, buf.to_vec()))
    }
    fn write_durable_at(&self, buf: &[u8], offset: u64) -> io::Result<()> {
        self.record(Op::DurableWrite(offset, buf.to_vec()))
    }
    fn flush(&self) -> io::Result<()> {
        self.log.lock().unwrap().push(Op::Flush);
        Ok(())
    }
}

fn apply(image: &mut [u8], op: &Op) {
    if let Op::Write(offset, data) | Op::DurableWrite(offset, data) = op {
        let at = *offset as usize;
        image[at..at + data.len()].copy_from_slice(data);
    }
}

/// The data a test "copies out" for origin chunk `old`: recognisable per chunk and per offset.
fn pattern(old: u64, chunk_bytes: usize) -> Vec<u8> {
    (0..chunk_bytes / 8)
        .flat_map(|i| (0xc0ff_ee00_0000_0000 ^ (old << 20) ^ i as u64).to_le_bytes())
        .collect()
}

/// Allocate, write the data chunk, and commit `olds` as one batch (a flush before the areas).
fn copy_out<D: BlockIo>(
    store: &mut PersistentStore<Arc<D>>,
    disk: &D,
    olds: &[u64],
) -> Vec<Exception> {
    copy_out_with(store, disk, olds, Writes::Plain)
}

/// How [`copy_out_with`] writes the data chunks and commits them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Writes {
    /// Plain writes, then [`StagedCommit::write_to`]'s flush and durable areas.
    Plain,
    /// Every chunk durably, then [`StagedCommit::write_durably_to`].
    Durable,
    /// As `Durable`, and a chunk that ends an area carries the next area's
    /// zeros in its write, as the userspace engine writes it.
    DurableZeroingAhead,
}

/// Allocate, write the data chunks and commit `olds` as one batch, as `writes` says.
fn copy_out_with<D: BlockIo>(
    store: &mut PersistentStore<Arc<D>>,
    disk: &D,
    olds: &[u64],
    writes: Writes,
) -> Vec<Exception> {
    let chunk_bytes = store.geometry().chunk_bytes() as usize;
    let batch: Vec<Exception> = olds
        .iter()
        .map(|&old_chunk| {
            let new_chunk = store.allocate().unwrap();
            let mut data = pattern(old_chunk, chunk_bytes);
            let at = store.chunk_offset(new_chunk).unwrap();
            match writes {
                Writes::Plain => disk.write_all_at(&data, at).unwrap(),
                Writes::Durable => disk.write_durable_at(&data, at).unwrap(),
                Writes::DurableZeroingAhead => {
                    let ahead = store.zeroes_area_after(new_chunk);
                    if ahead {
                        data.resize(2 * chunk_bytes, 0);
                    }
                    disk.write_durable_at(&data, at).unwrap();
                    if ahead {
                        store.area_zeroed_after(new_chunk);
                    }
                }
            }
            Exception {
                old_chunk,
                new_chunk,
            }
        })
        .collect();
    if writes == Writes::Plain {
        store.commit_batch(&batch).unwrap();
    } else {
        let staged = store.stage_commit(&batch).unwrap();
        let written = staged.write_durably_to(disk);
        store.finish_commit(&batch, written).unwrap();
    }
    batch
}

fn fresh(bytes: usize, chunk: u32) -> (Arc<MemDisk>, PersistentStore<Arc<MemDisk>>) {
    let disk = Arc::new(MemDisk::new(bytes));
    let store = PersistentStore::open(disk.clone(), chunk).unwrap();
    (disk, store)
}

#[test]
fn fresh_stores_report_the_kernels_usage() {
    // facts.md §1.7.
    let (_, store) = fresh(8 << 20, 8);
    assert!(store.open_report().initialised);
    assert_eq!(store.usage().unwrap().to_string(), "16/16384 16");
    let (_, store) = fresh(4 << 20, 128);
    assert_eq!(store.usage().unwrap().to_string(), "256/8192 256");
    let (_, store) = fresh(8 << 20, 1024);
    assert_eq!(store.usage().unwrap().to_string(), "2048/16384 2048");
}

#[test]
fn fresh_store_bytes_match_the_kernels() {
    let (disk, _) = fresh(1 << 20, 8);
    let bytes = disk.to_bytes();
    assert_eq!(
        bytes[..16],
        [0x53, 0x6e, 0x41, 0x70, 1, 0, 0, 0, 1, 0, 0, 0, 8, 0, 0, 0]
    );
    assert!(bytes[16..8192].iter().all(|&b| b == 0));
}

#[test]
fn six_hundred_exceptions_at_4k_on_4m() {
    // facts.md §1.1/§1.7: 256 + 256 + 88 records in areas @1, @258, @515; status 4832/8192 32.
    let (disk, mut store) = fresh(4 << 20, 8);
    let olds: Vec<u64> = (0..600).map(|i| i * 7).collect();
    for batch in olds.chunks(50) {
        copy_out(&mut store, &*disk, batch);
    }
    assert_eq!(store.usage().unwrap().to_string(), "4832/8192 32");
    assert_eq!(store.current_area(), (2, 88));
    let bytes = disk.to_bytes();
    let record = |chunk: usize, index: usize| {
        let at = chunk * 4096 + index * 16;
        (
            u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap()),
            u64::from_le_bytes(bytes[at + 8..at + 16].try_into().unwrap()),
        )
    };
    assert_eq!(record(1, 0), (0, 2));
    assert_eq!(record(1, 255), (255 * 7, 257));
    assert_eq!(record(258, 0), (256 * 7, 259));
    assert_eq!(record(515, 87), (599 * 7, 603));
    assert_eq!(record(515, 88), (0, 0));
    let reopened = PersistentStore::open(disk.clone(), 8).unwrap();
    assert!(!reopened.open_report().initialised);
    assert_eq!(reopened.usage().unwrap().to_string(), "4832/8192 32");
    assert_eq!(reopened.lookup(599 * 7), Some(603));
    assert_eq!(reopened.lookup(1), None);
    assert_eq!(reopened.exception_count(), 600);
}

#[test]
fn header_chunk_size_overrides_the_table() {
    let disk = Arc::new(MemDisk::new(1 << 20));
    PersistentStore::create(disk.clone(), 16).unwrap();
    let store = PersistentStore::open(disk.clone(), 8).unwrap();
    assert_eq!(store.chunk_size(), 16);
    assert_eq!(store.open_report().overridden_chunk_size, Some(8));
    let store = PersistentStore::open(disk, 0).unwrap();
    assert_eq!(store.open_report().overridden_chunk_size, None);
}

#[test]
fn chunk_size_zero_on_a_fresh_device_is_32_sectors() {
    // facts.md §1.3 B2: `P 0` on a fresh COW → `P 32`, status `64/8192 64`.
    let (_, store) = fresh(4 << 20, 0);
    assert_eq!(store.chunk_size(), 32);
    assert_eq!(store.usage().unwrap().to_string(), "64/8192 64");
}

#[test]
fn damaged_headers_are_typed_errors() {
    let mut bytes = vec![0u8; 1 << 16];
    bytes[..4].copy_from_slice(b"LVM2");
    let err = PersistentStore::open(MemDisk::from_bytes(bytes.clone()), 8).unwrap_err();
    assert!(matches!(err, CowError::BadMagic { found } if found == u32::from_le_bytes(*b"LVM2")));
    bytes[..16].copy_from_slice(&Header::new(8).encode());
    bytes[8] = 2;
    assert!(matches!(
        PersistentStore::open(MemDisk::from_bytes(bytes.clone()), 8),
        Err(CowError::UnsupportedVersion { found: 2 })
    ));
    bytes[8] = 1;
    bytes[12] = 12;
    assert!(matches!(
        PersistentStore::open(MemDisk::from_bytes(bytes.clone()), 8),
        Err(CowError::ChunkSizeNotPowerOfTwo { chunk_size: 12 })
    ));
    // A plausible but huge chunk size must not allocate a huge buffer: truncated.
    bytes[12..16].copy_from_slice(&(1u32 << 21).to_le_bytes());
    assert!(matches!(
        PersistentStore::open(MemDisk::from_bytes(bytes), 8),
        Err(CowError::Truncated { .. })
    ));
    assert!(matches!(
        PersistentStore::load(MemDisk::new(4096)),
        Err(CowError::NotACow)
    ));
    assert!(matches!(
        PersistentStore::open(MemDisk::new(8), 8),
        Err(CowError::Truncated { .. })
    ));
    assert!(matches!(
        PersistentStore::create(MemDisk::new(8191), 8),
        Err(CowError::Truncated { needed: 8192, .. })
    ));
}

#[test]
fn full_cow_never_uses_the_partial_last_chunk() {
    // 4 whole chunks (header, area 0, data 2 and 3) and half a chunk more.
    let (disk, mut store) = fresh(4 * 4096 + 2048, 8);
    assert_eq!(store.allocate().unwrap(), 2);
    assert_eq!(store.allocate().unwrap(), 3);
    let err = store.allocate().unwrap_err();
    assert!(matches!(
        err,
        CowError::Full {
            next_free: 4,
            chunk_size: 8,
            cow_sectors: 36
        }
    ));
    // lvextend: the grown device is used at once, and usage sees the new size.
    disk.resize(8 * 4096);
    assert_eq!(store.usage().unwrap().total_sectors, 64);
    assert_eq!(store.allocate().unwrap(), 4);
}

#[test]
fn invalidation_is_written_and_survives_reopen() {
    let (disk, mut store) = fresh(1 << 20, 8);
    copy_out(&mut store, &*disk, &[1, 2, 3]);
    store.invalidate().unwrap();
    assert!(matches!(store.allocate(), Err(CowError::Invalidated)));
    let bytes = disk.to_bytes();
    assert_eq!(
        bytes[..16],
        [0x53, 0x6e, 0x41, 0x70, 0, 0, 0, 0, 1, 0, 0, 0, 8, 0, 0, 0]
    );
    let reopened = PersistentStore::open(disk.clone(), 8).unwrap();
    assert!(!reopened.is_valid());
    assert_eq!(
        reopened.exception_count(),
        0,
        "an invalid store's records are never read"
    );
    let report = check(&*disk);
    assert!(matches!(
        report.problems.as_slice(),
        [CowError::Invalidated]
    ));
}

#[test]
fn commit_order_is_zero_next_flush_durable_area() {
    // chunk 1 sector: 32 records per area; area 0 @1, area 1 @34.
    let disk = Arc::new(Recorder::new(vec![0xee; 200 * SECTOR]));
    let mut store = PersistentStore::create(disk.clone(), 1).unwrap();
    disk.take_log();
    let olds: Vec<u64> = (0..31).collect();
    copy_out(&mut store, &*disk, &olds);
    let log = disk.take_log();
    // 31 data writes, then flush, area 0 durably: one area write for the whole batch.
    assert_eq!(log.len(), 31 + 2);
    assert_eq!(log[31], Op::Flush);
    assert!(matches!(&log[32], Op::DurableWrite(512, _)));
    copy_out(&mut store, &*disk, &[100]);
    let log = disk.take_log();
    assert!(
        matches!(&log[0], Op::Write(o, _) if *o == 33 * 512),
        "data chunk 33"
    );
    assert_eq!(
        log[1],
        Op::Write(34 * 512, vec![0; 512]),
        "zero area 1 first"
    );
    assert_eq!(log[2], Op::Flush);
    assert!(matches!(&log[3], Op::DurableWrite(512, _)));
    assert_eq!(log.len(), 4);
    assert_eq!(store.current_area(), (1, 0));
    assert_eq!(store.next_free(), 35, "area 1 is skipped");
}

/// Copy out 40 exceptions as `writes` says, over stale bytes, with 32
/// records per area (area 0 at chunk 1 fills, 8 go into area 1 at chunk
/// 34), and return the log of writes and flushes after checking its end:
/// area 0, full, then area 1, each durable, and all 40 there on a reload.
fn forty_across_an_area(writes: Writes) -> Vec<Op> {
    let disk = Arc::new(Recorder::new(vec![0xee; 200 * SECTOR]));
    let mut store = PersistentStore::create(disk.clone(), 1).unwrap();
    disk.take_log();
    let olds: Vec<u64> = (0..40).collect();
    copy_out_with(&mut store, &*disk, &olds, writes);
    let log = disk.take_log();
    let [.., full, next] = &log[..] else {
        panic!("{log:?}");
    };
    assert!(matches!(full, Op::DurableWrite(512, _)), "area 0, full");
    assert!(
        matches!(next, Op::DurableWrite(o, _) if *o == 34 * 512),
        "area 1"
    );
    assert_eq!(store.current_area(), (1, 8));
    let reopened = PersistentStore::load(MemDisk::from_bytes(disk.disk.to_bytes())).unwrap();
    assert_eq!(reopened.exception_count(), 40);
    log
}

#[test]
fn a_durable_commit_zeroes_then_writes_areas_durably_and_flushes_nothing() {
    let log = forty_across_an_area(Writes::Durable);
    assert!(log[..40]
        .iter()
        .all(|op| matches!(op, Op::DurableWrite(..))));
    let ops = &log[40..];
    assert_eq!(ops.len(), 3, "{ops:?}");
    assert_eq!(
        ops[0],
        Op::DurableWrite(34 * 512, vec![0; 512]),
        "zero area 1 first"
    );
}

#[test]
fn a_chunk_that_ends_an_area_can_carry_the_next_areas_zeros() {
    let log = forty_across_an_area(Writes::DurableZeroingAhead);
    assert_eq!(
        log[31],
        Op::DurableWrite(33 * 512, [pattern(31, SECTOR), vec![0; SECTOR]].concat()),
        "the last data chunk of area 0 and area 1's zeros, in one write"
    );
    let ops = &log[40..];
    assert_eq!(ops.len(), 2, "no zeroing left for the commit: {ops:?}");
}

#[test]
fn a_commit_writes_only_the_pages_of_the_area_its_records_are_in() {
    // 64 KiB chunks: 4096 records per area, 256 in each 4 KiB page.
    let chunk = 64 << 10;
    let disk = Arc::new(Recorder::new(vec![0; 300 * chunk]));
    let mut store = PersistentStore::create(disk.clone(), 128).unwrap();
    let areas = |log: Vec<Op>| -> Vec<(u64, usize)> {
        log.into_iter()
            .filter_map(|op| match op {
                Op::DurableWrite(offset, data) => Some((offset, data.len())),
                _ => None,
            })
            .collect()
    };
    disk.take_log();
    copy_out(&mut store, &*disk, &(0..16).collect::<Vec<_>>());
    assert_eq!(
        areas(disk.take_log()),
        [(chunk as u64, 4096)],
        "the first page"
    );
    // Records 16..=265: the rest of page 0 and the start of page 1.
    copy_out(&mut store, &*disk, &(16..266).collect::<Vec<_>>());
    assert_eq!(areas(disk.take_log()), [(chunk as u64, 8192)], "two pages");
    copy_out(&mut store, &*disk, &[266]);
    assert_eq!(
        areas(disk.take_log()),
        [(chunk as u64 + 4096, 4096)],
        "page 1 alone"
    );
    let reopened = PersistentStore::load(MemDisk::from_bytes(disk.disk.to_bytes())).unwrap();
    assert_eq!(reopened.exception_count(), 267);
}

#[test]
fn only_an_allocated_chunk_that_ends_an_area_inside_the_device_zeroes_ahead() {
    // 32 records per area: data chunks 2..=33, area 1 at chunk 34.
    let disk = Arc::new(MemDisk::new(40 * SECTOR));
    let mut store = PersistentStore::create(disk.clone(), 1).unwrap();
    assert!(!store.zeroes_area_after(33), "not allocated yet");
    let last = (0..32).map(|_| store.allocate().unwrap()).last().unwrap();
    assert_eq!(last, 33);
    assert!(store.zeroes_area_after(last));
    assert!(!store.zeroes_area_after(32), "a chunk inside the area");
    // Area 0 ends with the device's last whole chunk: area 1 would lie past the end.
    let disk = Arc::new(MemDisk::new(34 * SECTOR));
    let mut store = PersistentStore::create(disk.clone(), 1).unwrap();
    let last = (0..32).map(|_| store.allocate().unwrap()).last().unwrap();
    assert!(!store.zeroes_area_after(last));
}

#[test]
fn a_batch_across_an_area_boundary_shares_one_flush() {
    let log = forty_across_an_area(Writes::Plain);
    let ops = &log[40..];
    assert_eq!(ops.len(), 4, "{ops:?}");
    assert_eq!(
        ops[0],
        Op::Write(34 * 512, vec![0; 512]),
        "zero area 1 first"
    );
    assert_eq!(
        ops[1],
        Op::Flush,
        "data and the zeroed area before any record"
    );
}

#[test]
fn failed_commit_invalidates() {
    // Area 0 fills with the last data chunk the device holds: zeroing area 1 runs off the end.
    let disk = Arc::new(MemDisk::new(34 * SECTOR));
    let mut store = PersistentStore::create(disk.clone(), 1).unwrap();
    let olds: Vec<u64> = (0..31).collect();
    copy_out(&mut store, &*disk, &olds);
    let new_chunk = store.allocate().unwrap();
    let err = store
        .commit(Exception {
            old_chunk: 99,
            new_chunk,
        })
        .unwrap_err();
    assert!(matches!(err, CowError::Io { .. }), "{err}");
    assert!(!store.is_valid());
    assert!(store.lookup(99).is_none());
    assert_eq!(disk.to_bytes()[4], 0, "header valid=0 on disk");
}

#[test]
fn commits_are_checked() {
    let (_, mut store) = fresh(1 << 20, 8);
    assert!(matches!(
        store.commit(Exception {
            old_chunk: 1,
            new_chunk: 2
        }),
        Err(CowError::NotAllocated { new_chunk: 2 })
    ));
    let a = store.allocate().unwrap();
    let b = store.allocate().unwrap();
    assert!(matches!(
        store.commit_batch(&[
            Exception {
                old_chunk: 5,
                new_chunk: a
            },
            Exception {
                old_chunk: 5,
                new_chunk: b
            }
        ]),
        Err(CowError::AlreadyRemapped { old_chunk: 5 })
    ));
    assert!(
        store.is_valid(),
        "a caller's mistake does not invalidate the store"
    );
}

#[test]
fn merge_consumes_runs_from_the_end_across_areas() {
    let (disk, mut store) = fresh(1 << 20, 1);
    // 40 exceptions: olds 0..20 consecutive, then 100, 200, then 300..318 consecutive.
    let olds: Vec<u64> = (0..20).chain([100, 200]).chain(300..318).collect();
    copy_out(&mut store, &*disk, &olds);
    assert_eq!(store.current_area(), (1, 8));
    let mut merged = Vec::new();
    while let Some(run) = store.prepare_merge().unwrap() {
        merged.push((run.first_old_chunk(), run.count));
        for old in run.first_old_chunk()..=run.last_old_chunk {
            assert_eq!(
                store.lookup(old),
                Some(run.last_new_chunk - (run.last_old_chunk - old))
            );
        }
        store.commit_merge(run.count).unwrap();
        let usage = store.usage().unwrap();
        let reopened = PersistentStore::load(disk.clone()).unwrap();
        assert_eq!(reopened.exception_count(), store.exception_count());
        if store.exception_count() == 0 {
            assert_eq!(usage.sectors_allocated, usage.metadata_sectors);
        }
    }
    // Area 1 holds 8 (310..318), area 0 holds 300..310 then 200, 100, 0..20.
    assert_eq!(
        merged,
        vec![(310, 8), (300, 10), (200, 1), (100, 1), (0, 20)]
    );
    assert_eq!(store.usage().unwrap().to_string(), "2/2048 2");
    assert!(matches!(
        store.commit_merge(1),
        Err(CowError::MergeTooMany {
            requested: 1,
            available: 0
        })
    ));
}

#[test]
fn check_lists_every_problem() {
    let (disk, mut store) = fresh(64 * SECTOR, 1);
    copy_out(&mut store, &*disk, &[10, 11, 12]);
    let mut bytes = disk.to_bytes();
    let mut put = |index: usize, old: u64, new: u64| {
        let at = SECTOR + index * 16;
        bytes[at..at + 8].copy_from_slice(&old.to_le_bytes());
        bytes[at + 8..at + 16].copy_from_slice(&new.to_le_bytes());
    };
    put(3, 13, 34); // area 1
    put(4, 14, 64); // past the end
    put(5, 10, 20); // old 10 again
    put(6, 15, 2); // new 2 again
    let disk = MemDisk::from_bytes(bytes.clone());
    let report = check(&disk);
    let lines: Vec<String> = report.problems.iter().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        [
            "area 0 entry 3: new_chunk 34 lies in a metadata area",
            "area 0 entry 4: new_chunk 64 lies past the end of the device (64 whole chunks)",
            "area 0 entry 5: old_chunk 10 already remapped at area 0 entry 0",
            "area 0 entry 6: new_chunk 2 already used at area 0 entry 0",
        ]
    );
    assert_eq!(report.exceptions, 7);
    assert!(matches!(
        PersistentStore::load(disk),
        Err(CowError::ExceptionInMetadataArea { new_chunk: 34, .. })
    ));
    // Area 0 full and the device ends before area 1.
    let (disk, mut store) = fresh(34 * SECTOR, 1);
    let olds: Vec<u64> = (0..31).collect();
    copy_out(&mut store, &*disk, &olds);
    let mut bytes = disk.to_bytes();
    bytes[SECTOR + 31 * 16..SECTOR + 32 * 16].copy_from_slice(
        &Exception {
            old_chunk: 77,
            new_chunk: 33,
        }
        .encode(),
    );
    let report = check(&MemDisk::from_bytes(bytes));
    assert!(
        matches!(report.problems.as_slice(), [CowError::Truncated { needed, .. }] if *needed == 35 * 512),
        "{:?}",
        report.problems
    );
    assert!(check(&MemDisk::new(4096)).problems.len() == 1);
}

#[test]
fn snapshot_view_reads_exceptions_from_the_cow_and_the_rest_from_the_origin() {
    let origin_bytes: Vec<u8> = (0..10 * 4096 + 1000).map(|i| (i % 251) as u8).collect();
    let origin = MemDisk::from_bytes(origin_bytes.clone());
    let (disk, mut store) = fresh(1 << 20, 8);
    copy_out(&mut store, &*disk, &[1, 10]);
    drop(store);
    let view = SnapshotView::open(origin, disk).unwrap();
    let mut out = Vec::new();
    assert_eq!(view.copy_to(&mut out).unwrap(), origin_bytes.len() as u64);
    let mut expected = origin_bytes.clone();
    expected[4096..8192].copy_from_slice(&pattern(1, 4096));
    expected[40960..].copy_from_slice(&pattern(10, 4096)[..1000]);
    assert_eq!(out, expected);
    let mut buf = [0u8; 10];
    view.read_exact_at(&mut buf, 4090).unwrap();
    assert_eq!(buf, expected[4090..4100]);
    assert!(view
        .read_exact_at(&mut buf, expected.len() as u64 - 5)
        .is_err());
}

#[derive(Debug, Clone)]
enum Step {
    /// Copy out these origin chunks in one batch.
    Batch(Vec<u64>),
    /// Close and reopen the store from the device.
    Reopen,
    /// Grow the device by this many sectors.
    Grow(usize),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => prop::collection::vec(0u64..500, 1..40).prop_map(Step::Batch),
        1 => Just(Step::Reopen),
        1 => (1usize..64).prop_map(Step::Grow),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Random batches and reopens agree with a plain map, and usage with the kernel's formula.
    #[test]
    fn store_agrees_with_a_model(chunk_pow in 0u32..3, steps in prop::collection::vec(step(), 1..30)) {
        let chunk = 1u32 << chunk_pow;
        let chunk_bytes = chunk as usize * SECTOR;
        let disk = Arc::new(MemDisk::new(300 * chunk_bytes));
        let mut store = PersistentStore::open(disk.clone(), chunk).unwrap();
        let mut model: HashMap<u64, u64> = HashMap::new();
        for step in steps {
            match step {
                Step::Batch(olds) => {
                    let mut olds: Vec<u64> = olds.into_iter().filter(|o| !model.contains_key(o)).collect();
                    olds.sort_unstable();
                    olds.dedup();
                    let mut batch = Vec::new();
                    for old_chunk in olds {
                        match store.allocate() {
                            Ok(new_chunk) => {
                                prop_assert!(!store.geometry().is_metadata_chunk(new_chunk));
                                disk.write_all_at(&pattern(old_chunk, chunk_bytes), store.chunk_offset(new_chunk).unwrap()).unwrap();
                                batch.push(Exception { old_chunk, new_chunk });
                            }
                            Err(CowError::Full { .. }) => break,
                            Err(e) => return Err(TestCaseError::fail(e.to_string())),
                        }
                    }
                    match store.commit_batch(&batch) {
                        Ok(()) => model.extend(batch.iter().map(|e| (e.old_chunk, e.new_chunk))),
                        // Filling the last area when the next one is past the end: the kernel invalidates too.
                        Err(CowError::Io { .. }) => { prop_assert!(!store.is_valid()); return Ok(()); }
                        Err(e) => return Err(TestCaseError::fail(e.to_string())),
                    }
                }
                Step::Reopen => {
                    let before = store.usage().unwrap();
                    store = PersistentStore::open(disk.clone(), chunk).unwrap();
                    prop_assert_eq!(store.usage().unwrap(), before);
                }
                Step::Grow(sectors) => disk.resize(disk.size_bytes().unwrap() as usize + sectors * SECTOR),
            }
            prop_assert_eq!(store.exception_count(), model.len() as u64);
            for (&old, &new) in &model {
                prop_assert_eq!(store.lookup(old), Some(new));
            }
            let usage = store.usage().unwrap();
            let (area, _) = store.current_area();
            prop_assert_eq!(usage.sectors_allocated, store.next_free() * u64::from(chunk));
            prop_assert_eq!(usage.metadata_sectors, (area + 2) * u64::from(chunk));
            prop_assert!(check(&*disk).is_clean());
        }
    }

    /// Crash anywhere: replay every prefix of the writes, and the durable state plus any one
    /// in-flight write; every exception a reopened store shows points at its complete data.
    /// Every commit path: a flush before durable areas, durable chunks and areas, and chunks that zero the next area.
    #[test]
    fn crash_consistency(seed in any::<u64>(), batches in prop::collection::vec(1usize..20, 1..6), writes in prop::sample::select(WRITES.to_vec())) {
        crash_anywhere(seed, 1, &batches, writes)?;
    }

    /// One flipped byte anywhere in the metadata: a typed error or a consistent store, never a panic,
    /// and `load` agrees with `check`.
    #[test]
    fn flipped_bytes_never_panic(offset in 0usize..(40 * SECTOR), xor in 1u8..=255) {
        let (disk, mut store) = fresh(64 * SECTOR, 1);
        let olds: Vec<u64> = (0..40).map(|o| o * 2).collect();
        copy_out(&mut store, &*disk, &olds);
        let mut bytes = disk.to_bytes();
        bytes[offset] ^= xor;
        let damaged = MemDisk::from_bytes(bytes);
        let report = check(&damaged);
        let loaded = PersistentStore::load(Arc::new(damaged));
        let only_invalid = matches!(report.problems.as_slice(), [] | [CowError::Invalidated]);
        prop_assert_eq!(loaded.is_ok(), only_invalid, "{:?}", report.problems);
        if let Ok(store) = loaded {
            let chunks = store.geometry().device_chunks(64 * SECTOR as u64);
            for e in store.exceptions().iter() {
                prop_assert!(!store.geometry().is_metadata_chunk(e.new_chunk));
                prop_assert!(e.new_chunk < chunks);
            }
        }
    }
}

#[test]
fn invalid_header_on_a_short_device_is_truncated_for_load_and_check_alike() {
    // Found by fuzz/cow_header_area: check said "invalid" where load said "truncated".
    let mut bytes = Header {
        valid: 0,
        ..Header::new(256)
    }
    .encode()
    .to_vec();
    bytes.extend_from_slice(&[0, 0, 0xc1, 0xc1, 0xfc, 0]);
    let disk = MemDisk::from_bytes(bytes);
    let report = check(&disk);
    assert!(matches!(
        report.problems.as_slice(),
        [CowError::Truncated { .. }]
    ));
    assert!(matches!(
        PersistentStore::load(disk),
        Err(CowError::Truncated { .. })
    ));
}

#[test]
fn out_of_order_records_and_holes_load_as_the_kernel_does() {
    // "On rare occasions (e.g. after a system crash)" records are out of order or leave holes:
    // next_free is max(new_chunk) + 1, then metadata is skipped.
    let (disk, _) = fresh(64 * SECTOR, 1);
    let mut bytes = disk.to_bytes();
    for (index, (old, new)) in [(7u64, 5u64), (1, 2), (9, 3)].into_iter().enumerate() {
        let at = SECTOR + index * 16;
        bytes[at..at + 16].copy_from_slice(
            &Exception {
                old_chunk: old,
                new_chunk: new,
            }
            .encode(),
        );
    }
    let mut store = PersistentStore::load(Arc::new(MemDisk::from_bytes(bytes))).unwrap();
    assert_eq!(store.next_free(), 6);
    assert_eq!(store.current_area(), (0, 3));
    assert_eq!(
        (store.lookup(7), store.lookup(1), store.lookup(9)),
        (Some(5), Some(2), Some(3))
    );
    assert_eq!(store.allocate().unwrap(), 6, "the hole at 4 is not reused");
    // A record ending exactly before area 1 (chunk 33): next_free skips area 1 at 34.
    let (disk, _) = fresh(64 * SECTOR, 1);
    let mut bytes = disk.to_bytes();
    bytes[SECTOR..SECTOR + 16].copy_from_slice(
        &Exception {
            old_chunk: 0,
            new_chunk: 33,
        }
        .encode(),
    );
    let store = PersistentStore::load(MemDisk::from_bytes(bytes)).unwrap();
    assert_eq!(store.next_free(), 35);
}

#[test]
fn dump_lists_records_of_invalid_and_damaged_stores() {
    // Found by fuzz/cow_header_area: a record at u64::MAX overflowed dump's usage arithmetic.
    let (disk, mut store) = fresh(64 * SECTOR, 1);
    copy_out(&mut store, &*disk, &[4, 5]);
    let mut bytes = disk.to_bytes();
    bytes[SECTOR + 32..SECTOR + 48].copy_from_slice(
        &Exception {
            old_chunk: 6,
            new_chunk: u64::MAX,
        }
        .encode(),
    );
    let d = dump(&MemDisk::from_bytes(bytes.clone())).unwrap();
    assert_eq!(d.exceptions.len(), 3);
    assert_eq!(d.exceptions[2].new_chunk, u64::MAX);
    bytes[4] = 0;
    let d = dump(&MemDisk::from_bytes(bytes)).unwrap();
    assert_eq!(d.status, "Invalid");
    assert!(d.usage.is_none());
    assert_eq!(
        d.exceptions
            .iter()
            .map(|e| (e.old_chunk, e.new_chunk))
            .collect::<Vec<_>>(),
        [(4, 2), (5, 3), (6, u64::MAX)]
    );
    let (_, store) = fresh(64 * SECTOR, 1);
    let d = dump(store.disk()).unwrap();
    assert_eq!(d.status, store.usage().unwrap().to_string());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Merge everything back, run by run, reopening at random: the store shrinks exactly
    /// by each run, survives reopen, stays clean, and ends with allocated == metadata.
    #[test]
    fn merge_to_completion_with_reopens(
        olds in prop::collection::vec(0u64..200, 1..120),
        reopen_at in prop::collection::vec(any::<bool>(), 0..200),
    ) {
        let mut olds = olds;
        olds.dedup();
        let mut seen = std::collections::HashSet::new();
        olds.retain(|o| seen.insert(*o));
        let (disk, mut store) = fresh(300 * SECTOR, 1);
        let mut model: HashMap<u64, u64> = copy_out(&mut store, &*disk, &olds)
            .into_iter()
            .map(|e| (e.old_chunk, e.new_chunk))
            .collect();
        let mut steps = 0usize;
        while let Some(run) = store.prepare_merge().unwrap() {
            prop_assert!(run.count >= 1);
            for i in 0..run.count {
                prop_assert_eq!(model.remove(&(run.first_old_chunk() + i)), Some(run.first_new_chunk() + i));
            }
            store.commit_merge(run.count).unwrap();
            if reopen_at.get(steps).copied().unwrap_or(false) {
                store = PersistentStore::open(disk.clone(), 1).unwrap();
            }
            steps += 1;
            prop_assert_eq!(store.exception_count(), model.len() as u64);
            for (&old, &new) in &model {
                prop_assert_eq!(store.lookup(old), Some(new));
            }
            prop_assert!(check(&*disk).is_clean());
        }
        prop_assert!(model.is_empty());
        let usage = store.usage().unwrap();
        prop_assert_eq!(usage.sectors_allocated, usage.metadata_sectors);
    }

    /// The transient store against a model: lookups, usage in sectors, Full exactly when no whole chunk is left.
    #[test]
    fn transient_store_agrees_with_a_model(chunk_pow in 0u32..4, sectors in 0usize..200, olds in prop::collection::vec(any::<u64>(), 0..80)) {
        let chunk = 1u64 << chunk_pow;
        let mut store = TransientStore::new(MemDisk::new(sectors * SECTOR), chunk as u32).unwrap();
        let mut model: HashMap<u64, u64> = HashMap::new();
        for old_chunk in olds {
            if model.contains_key(&old_chunk) {
                continue;
            }
            let used = model.len() as u64 * chunk;
            match store.allocate() {
                Ok(new_chunk) => {
                    prop_assert!(used + chunk <= sectors as u64);
                    prop_assert_eq!(new_chunk, model.len() as u64);
                    store.commit(Exception { old_chunk, new_chunk }).unwrap();
                    model.insert(old_chunk, new_chunk);
                }
                Err(CowError::Full { .. }) => {
                    prop_assert!(used + chunk > sectors as u64);
                    break;
                }
                Err(e) => return Err(TestCaseError::fail(e.to_string())),
            }
        }
        for (&old, &new) in &model {
            prop_assert_eq!(store.lookup(old), Some(new));
        }
        prop_assert_eq!(store.usage().unwrap().to_string(), format!("{}/{} 0", model.len() as u64 * chunk, sectors));
    }
}

/// Every way [`copy_out_with`] writes.
const WRITES: [Writes; 3] = [Writes::Plain, Writes::Durable, Writes::DurableZeroingAhead];

/// Copy out `batches` (sizes) at chunks of `chunk_sectors` over stale
/// garbage as `writes` says, then replay every prefix of the writes, and
/// the durable state plus any one in-flight write: every exception a
/// reopened store shows points at its complete data, and the whole log
/// reopens with every exception.
fn crash_anywhere(
    seed: u64,
    chunk_sectors: u32,
    batches: &[usize],
    writes: Writes,
) -> Result<(), TestCaseError> {
    let chunk_bytes = chunk_sectors as usize * SECTOR;
    let records: usize = batches.iter().sum();
    let epa = chunk_bytes / 16;
    // Header, the areas, the data, and a spare area: stale garbage everywhere,
    // as on a reused device; only a correct order hides it.
    let chunks = 2 + records + records / epa + 2;
    let garbage: Vec<u8> = (0..chunks * chunk_bytes)
        .map(|i| (seed.wrapping_mul(i as u64 | 1) >> 13) as u8 | 1)
        .collect();
    let disk = Arc::new(Recorder::new(garbage));
    let mut store = PersistentStore::create(disk.clone(), chunk_sectors).unwrap();
    let base = disk.disk.to_bytes();
    disk.take_log();
    let mut next_old = 0u64;
    let mut committed: HashMap<u64, u64> = HashMap::new();
    for &size in batches {
        let olds: Vec<u64> = (next_old..next_old + size as u64).map(|o| o * 3).collect();
        next_old += size as u64;
        for e in copy_out_with(&mut store, &*disk, &olds, writes) {
            committed.insert(e.old_chunk, e.new_chunk);
        }
    }
    let log = disk.take_log();
    let mut prefix = base.clone();
    let mut durable = base;
    let mut since_flush: Vec<&Op> = Vec::new();
    let patterns: HashMap<u64, Vec<u8>> = committed
        .keys()
        .map(|&old| (old, pattern(old, chunk_bytes)))
        .collect();
    let reopens_consistently = |image: &[u8]| -> Result<(), TestCaseError> {
        let reopened = PersistentStore::load(SliceDisk(image))
            .map_err(|e| TestCaseError::fail(format!("reopen after crash: {e}")))?;
        for e in reopened.exceptions().iter() {
            prop_assert_eq!(committed.get(&e.old_chunk), Some(&e.new_chunk));
            let at = e.new_chunk as usize * chunk_bytes;
            prop_assert!(image[at..at + chunk_bytes] == patterns[&e.old_chunk][..]);
        }
        Ok(())
    };
    for op in &log {
        apply(&mut prefix, op);
        reopens_consistently(&prefix)?;
        // The durable state with this write alone landed, then taken back.
        let undo = undo_of(&durable, op);
        apply(&mut durable, op);
        reopens_consistently(&durable)?;
        if let Some(undo) = undo {
            apply(&mut durable, &undo);
        }
        match op {
            Op::Flush => {
                for w in since_flush.drain(..) {
                    apply(&mut durable, w);
                }
            }
            Op::Write(..) => since_flush.push(op),
            // Durable once done: what was written before it may still be lost.
            Op::DurableWrite(..) => apply(&mut durable, op),
        }
    }
    let reopened = PersistentStore::load(SliceDisk(&prefix)).unwrap();
    prop_assert_eq!(reopened.exception_count(), committed.len() as u64);
    Ok(())
}

/// The write that puts back what `op` overwrites in `image`.
fn undo_of(image: &[u8], op: &Op) -> Option<Op> {
    match op {
        Op::Write(offset, data) | Op::DurableWrite(offset, data) => {
            let at = *offset as usize;
            Some(Op::Write(*offset, image[at..at + data.len()].to_vec()))
        }
        Op::Flush => None,
    }
}

/// A read-only device over borrowed bytes, so a replay reopens an image without copying it.
struct SliceDisk<'a>(&'a [u8]);

impl BlockIo for SliceDisk<'_> {
    fn size_bytes(&self) -> io::Result<u64> {
        Ok(self.0.len() as u64)
    }
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        let at =
            usize::try_from(offset).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
        let bytes = at
            .checked_add(buf.len())
            .and_then(|end| self.0.get(at..end))
            .ok_or_else(|| io::Error::from(io::ErrorKind::UnexpectedEof))?;
        buf.copy_from_slice(bytes);
        Ok(())
    }
    fn write_all_at(&self, _buf: &[u8], _offset: u64) -> io::Result<()> {
        Err(io::Error::from(io::ErrorKind::PermissionDenied))
    }
    fn flush(&self) -> io::Result<()> {
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    /// The same at 8 KiB chunks, where an area (512 records) is two pages
    /// and a commit writes only the pages its records are in.
    #[test]
    fn crash_consistency_with_partial_area_writes(
        seed in any::<u64>(),
        batches in prop::collection::vec(1usize..300, 1..5),
        writes in prop::sample::select(WRITES.to_vec()),
    ) {
        crash_anywhere(seed, 16, &batches, writes)?;
    }
}
