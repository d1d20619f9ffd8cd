//! The device-level scenarios on the engine, in-process: tables, the
//! suspend gate, and the snapshot targets' semantics, checked by content.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use super::*;
use crate::cow::{ExceptionStore, PersistentStore};
use crate::dm::{parse_table, TableLine};
use crate::io::FileDisk;
use crate::ops::{self, DeviceSpec, OriginSpec, SnapshotSpec};

const MIB: u64 = 1 << 20;

struct Bed {
    dir: tempfile::TempDir,
    engine: Engine,
}

impl Bed {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::new(&dir.path().join("mapper"));
        Self { dir, engine }
    }

    /// An image file of `size` bytes, every 4 KiB block filled with its index + `seed`.
    fn image(&self, name: &str, size: u64, seed: u8) -> PathBuf {
        let path = self.dir.path().join(name);
        let mut bytes = vec![0u8; size as usize];
        for (i, block) in bytes.chunks_mut(4096).enumerate() {
            block.fill((i as u8).wrapping_add(seed));
        }
        std::fs::write(&path, bytes).unwrap();
        path
    }

    fn zero_image(&self, name: &str, size: u64) -> PathBuf {
        let path = self.dir.path().join(name);
        let file = std::fs::File::create(&path).unwrap();
        file.set_len(size).unwrap();
        path
    }

    fn dm(&self, name: &str, table: &str) -> DeviceInfo {
        self.engine.create(name, &CreateOptions::default()).unwrap();
        self.engine.load(name, &raw(table)).unwrap();
        self.engine.resume(name).unwrap()
    }

    fn read(&self, name: &str, offset: u64, len: usize) -> io::Result<Vec<u8>> {
        let dev = DeviceSet::open(&self.engine, name, false)?;
        let mut buf = vec![0u8; len];
        dev.read_at(&mut buf, offset)?;
        Ok(buf)
    }

    fn write(&self, name: &str, offset: u64, data: &[u8]) -> io::Result<()> {
        let dev = DeviceSet::open(&self.engine, name, true)?;
        dev.write_at(data, offset)
    }

    fn status(&self, name: &str) -> String {
        self.engine.status(name).unwrap()[0].params.clone()
    }

    /// `vg/base` (linear over `base`) with snapshot `snap` (COW linear over `cow`), built by the ops layer.
    fn snapshot_stack(
        &self,
        base: &Path,
        snap: &str,
        cow: &Path,
        cow_sectors: u64,
        chunk: u32,
        store: StoreKind,
    ) {
        let base_sectors = std::fs::metadata(base).unwrap().len() / 512;
        let origin = origin_spec(base, base_sectors);
        if self.engine.info("vg-base").is_err() {
            ops::activate_device(&self.engine, &origin.top).unwrap();
        }
        let spec = snapshot_spec(snap, cow, cow_sectors, chunk, store);
        ops::add_snapshot(&self.engine, &origin, &spec, None).unwrap();
    }
}

fn raw(table: &str) -> Vec<RawLine> {
    parse_table(table)
        .unwrap()
        .iter()
        .map(TableLine::to_raw)
        .collect()
}

fn lines(table: &str) -> Vec<TableLine> {
    parse_table(table).unwrap()
}

fn origin_spec(base: &Path, sectors: u64) -> OriginSpec {
    OriginSpec {
        top: DeviceSpec {
            name: "vg-base".into(),
            uuid: "LVM-base".into(),
            table: lines(&format!("0 {sectors} linear {} 0", base.display())),
            read_only: false,
        },
        real_name: "vg-base-real".into(),
        real_uuid: "LVM-base-real".into(),
    }
}

fn snapshot_spec(
    snap: &str,
    cow: &Path,
    sectors: u64,
    chunk: u32,
    store: StoreKind,
) -> SnapshotSpec {
    SnapshotSpec {
        name: format!("vg-{snap}"),
        uuid: format!("LVM-{snap}"),
        read_only: false,
        cow: DeviceSpec {
            name: format!("vg-{snap}-cow"),
            uuid: format!("LVM-{snap}-cow"),
            table: lines(&format!("0 {sectors} linear {} 0", cow.display())),
            read_only: false,
        },
        store,
        chunk_sectors: chunk,
    }
}

fn errno_of(e: &io::Error) -> Option<i32> {
    e.raw_os_error()
}

#[test]
fn linear_zero_and_error_targets() {
    let bed = Bed::new();
    let img = bed.image("a.img", MIB, 1);
    bed.dm(
        "lin",
        &format!(
            "0 1024 linear {} 1024\n1024 8 zero\n1032 8 error",
            img.display()
        ),
    );
    assert_eq!(
        bed.read("lin", 0, 4096).unwrap(),
        vec![129u8; 4096],
        "offset 1024 sectors = block 128"
    );
    assert_eq!(bed.read("lin", 1024 * 512, 4096).unwrap(), vec![0u8; 4096]);
    assert_eq!(
        errno_of(&bed.read("lin", 1032 * 512, 512).unwrap_err()),
        Some(libc::EIO)
    );
    assert_eq!(
        errno_of(&bed.read("lin", 1040 * 512, 1).unwrap_err()),
        Some(libc::EIO),
        "past the end"
    );
    bed.write("lin", 100, b"hello").unwrap();
    let file = std::fs::read(&img).unwrap();
    assert_eq!(&file[1024 * 512 + 100..1024 * 512 + 105], b"hello");
    let table = bed.engine.table("lin", TableSlot::Live).unwrap();
    assert_eq!(
        table[0].to_string(),
        format!("0 1024 linear {} 1024", img.display())
    );
    assert_eq!(table[1].to_string(), "1024 8 zero ");
    let status: Vec<String> = bed
        .engine
        .status("lin")
        .unwrap()
        .iter()
        .map(|l| l.to_string())
        .collect();
    assert_eq!(status, ["0 1024 linear ", "1024 8 zero ", "1032 8 error "]);
}

#[test]
fn devices_are_numbered_and_counted_as_the_kernel_does() {
    let bed = Bed::new();
    let img = bed.image("a.img", MIB, 0);
    let a = bed.dm("a", &format!("0 2048 linear {} 0", img.display()));
    let b = bed.dm("b", &format!("0 2048 linear {}:{} 0", a.major, a.minor));
    assert_eq!((a.minor, b.minor), (0, 1));
    assert_eq!(
        bed.engine.info("a").unwrap().open_count,
        1,
        "b's table holds a"
    );
    assert!(matches!(
        bed.engine.remove("a"),
        Err(BackendError::DeviceBusy { .. })
    ));
    assert_eq!(bed.engine.deps("b").unwrap(), vec![(a.major, a.minor)]);
    let handle = DeviceSet::open(&bed.engine, "b", false).unwrap();
    assert_eq!(bed.engine.info("b").unwrap().open_count, 1);
    assert!(matches!(
        bed.engine.remove("b"),
        Err(BackendError::DeviceBusy { .. })
    ));
    drop(handle);
    bed.engine.remove("b").unwrap();
    assert_eq!(bed.engine.info("a").unwrap().open_count, 0);
    bed.engine.remove("a").unwrap();
    let c = bed.dm("c", "0 8 zero");
    assert_eq!(c.minor, 0, "the lowest free minor is reused");
    assert!(matches!(
        bed.engine.create("c", &CreateOptions::default()),
        Err(BackendError::AlreadyExists { .. })
    ));
}

#[test]
fn bad_tables_are_refused_with_the_reason_and_leave_nothing_loaded() {
    let bed = Bed::new();
    let img = bed.image("a.img", MIB, 0);
    bed.engine.create("x", &CreateOptions::default()).unwrap();
    let refused = |table: &str| match bed.engine.load("x", &raw(table)) {
        Err(BackendError::InvalidTable { reason, .. }) => reason,
        other => panic!("{table}: expected a refusal, got {other:?}"),
    };
    assert!(refused("0 4096 linear /nonexistent/file 0").contains("lookup failed"));
    assert!(refused(&format!("0 4096 linear {} 0", img.display())).contains("too small"));
    assert!(
        refused(&format!("0 8 snapshot {0} {0} P 8", img.display())).contains("cannot be the same")
    );
    let cow = bed.zero_image("cow.img", MIB);
    assert!(refused(&format!(
        "0 8 snapshot {} {} P 7",
        img.display(),
        cow.display()
    ))
    .contains("power of 2"));
    let zero = |start| RawLine {
        start,
        length: 8,
        target_type: "zero".into(),
        params: String::new(),
    };
    match bed.engine.load("x", &[zero(0), zero(16)]) {
        Err(BackendError::InvalidTable { reason, .. }) => {
            assert!(reason.contains("gap"), "{reason}")
        }
        other => panic!("a gap was accepted: {other:?}"),
    }
    assert!(refused("0 8 thin-pool x").contains("unknown target"));
    let info = bed.engine.info("x").unwrap();
    assert!(!info.inactive_table && !info.live_table);
    assert_eq!(
        std::fs::read(&cow).unwrap(),
        vec![0u8; MIB as usize],
        "a refused table writes nothing"
    );
}

#[test]
fn snapshot_keeps_old_data_and_origin_gets_new() {
    let bed = Bed::new();
    let base = bed.image("base.img", 4 * MIB, 10);
    let cow = bed.zero_image("cow.img", MIB);
    bed.snapshot_stack(&base, "snap", &cow, 2048, 8, StoreKind::Persistent);
    assert_eq!(bed.status("vg-snap"), "16/2048 16");
    let before = bed.read("vg-base", 0, 4 * MIB as usize).unwrap();
    // Partial write inside chunk 3 and a write spanning chunks 5..7.
    bed.write("vg-base", 3 * 4096 + 100, &[0xee; 10]).unwrap();
    bed.write("vg-base", 5 * 4096 + 2048, &vec![0xdd; 8192])
        .unwrap();
    assert_eq!(
        bed.read("vg-snap", 0, 4 * MIB as usize).unwrap(),
        before,
        "snapshot unchanged"
    );
    let after = bed.read("vg-base", 0, 4 * MIB as usize).unwrap();
    assert_eq!(&after[3 * 4096 + 100..3 * 4096 + 110], &[0xee; 10]);
    assert_eq!(
        &after[5 * 4096 + 2048..7 * 4096 + 2048],
        &vec![0xdd; 8192][..]
    );
    assert_eq!(&after[..3 * 4096], &before[..3 * 4096]);
    // Four chunks saved: 3, 5, 6, 7.
    assert_eq!(bed.status("vg-snap"), "48/2048 16");
    // Overwriting a saved chunk saves nothing more.
    bed.write("vg-base", 3 * 4096, &[1; 4096]).unwrap();
    assert_eq!(bed.status("vg-snap"), "48/2048 16");
    // What is on the COW is the kernel's format: records in allocation order.
    let tables: Vec<String> = ["vg-base", "vg-base-real", "vg-snap", "vg-snap-cow"]
        .iter()
        .map(|n| format!("{n}: {}", bed.engine.table(n, TableSlot::Live).unwrap()[0]))
        .collect();
    let m = bed.engine.major();
    assert_eq!(tables[0], format!("vg-base: 0 8192 snapshot-origin {m}:1"));
    assert_eq!(
        tables[2],
        format!("vg-snap: 0 8192 snapshot {m}:1 {m}:2 P 8")
    );
    // Feature arguments come back as the kernel prints them.
    let cow2 = bed.zero_image("cow2.img", MIB);
    bed.dm(
        "vg-snap2",
        &format!(
            "0 8192 snapshot {m}:1 {} P 8 1 discard_zeroes_cow",
            cow2.display()
        ),
    );
    assert_eq!(
        bed.engine.table("vg-snap2", TableSlot::Live).unwrap()[0].params,
        format!("{m}:1 {} P 8 1 discard_zeroes_cow", cow2.display())
    );
    let store = PersistentStore::load(FileDisk::open(&cow).unwrap()).unwrap();
    assert_eq!(store.lookup(3), Some(2));
    assert_eq!(store.lookup(5), Some(3));
    assert_eq!(store.lookup(7), Some(5));
    assert_eq!(store.exception_count(), 4);
    let saved = std::fs::read(&cow).unwrap();
    assert_eq!(
        &saved[2 * 4096..3 * 4096],
        &before[3 * 4096..4 * 4096],
        "chunk 3's old data in COW chunk 2"
    );
}

#[test]
fn writes_to_the_snapshot_go_to_the_cow_only() {
    let bed = Bed::new();
    let base = bed.image("base.img", MIB, 3);
    let cow = bed.zero_image("cow.img", MIB);
    bed.snapshot_stack(&base, "snap", &cow, 2048, 16, StoreKind::Persistent);
    let origin_before = bed.read("vg-base", 0, MIB as usize).unwrap();
    bed.write("vg-snap", 8192 + 10, b"snapshot-side").unwrap();
    bed.write("vg-snap", 65536, &[7u8; 8192]).unwrap();
    assert_eq!(bed.read("vg-base", 0, MIB as usize).unwrap(), origin_before);
    let snap = bed.read("vg-snap", 0, MIB as usize).unwrap();
    assert_eq!(&snap[8192 + 10..8192 + 23], b"snapshot-side");
    assert_eq!(
        &snap[8192..8192 + 10],
        &origin_before[8192..8192 + 10],
        "rest of the chunk kept"
    );
    assert_eq!(&snap[65536..65536 + 8192], &[7u8; 8192]);
    assert_eq!(
        bed.status("vg-snap"),
        "64/2048 32",
        "two 8 KiB chunks after header and area"
    );
}

#[test]
fn a_full_cow_invalidates_that_snapshot_alone() {
    let bed = Bed::new();
    let base = bed.image("base.img", MIB, 0);
    let small = bed.zero_image("small.img", 5 * 4096);
    let big = bed.zero_image("big.img", MIB);
    bed.snapshot_stack(&base, "small", &small, 40, 8, StoreKind::Persistent);
    bed.snapshot_stack(&base, "big", &big, 2048, 8, StoreKind::Persistent);
    let before = bed.read("vg-base", 0, MIB as usize).unwrap();
    let event = bed.engine.info("vg-small").unwrap().event_nr;
    // Header, area 0 and 3 data chunks fit in 5 chunks: the 4th write overflows.
    for chunk in 0..5u64 {
        bed.write("vg-base", chunk * 4096, &[0xaa; 4096]).unwrap();
    }
    assert_eq!(bed.status("vg-small"), "Invalid");
    assert_eq!(bed.engine.info("vg-small").unwrap().event_nr, event + 1);
    assert_eq!(
        bed.engine.info("vg-base").unwrap().event_nr,
        0,
        "the origin raises no event"
    );
    assert_eq!(
        errno_of(&bed.read("vg-small", 0, 512).unwrap_err()),
        Some(libc::EIO)
    );
    assert_eq!(
        bed.read("vg-big", 0, MIB as usize).unwrap(),
        before,
        "the other snapshot goes on"
    );
    assert_eq!(
        bed.read("vg-base", 0, 5 * 4096).unwrap(),
        vec![0xaa; 5 * 4096],
        "origin writes never fail"
    );
    assert_eq!(bed.status("vg-big"), "56/2048 16");
    // Invalid for good: the header says so, and a reload keeps it invalid.
    let header = crate::cow::read_header(&FileDisk::open(&small).unwrap())
        .unwrap()
        .unwrap();
    assert!(!header.is_valid());
}

#[test]
fn wait_event_wakes_on_invalidation() {
    let bed = Bed::new();
    let base = bed.image("base.img", MIB, 0);
    let small = bed.zero_image("small.img", 3 * 4096);
    bed.snapshot_stack(&base, "snap", &small, 24, 8, StoreKind::Persistent);
    let engine = bed.engine.clone();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        tx.send(engine.wait_event("vg-snap", 0, Some(Duration::from_secs(20))))
            .unwrap();
    });
    std::thread::sleep(Duration::from_millis(50));
    assert!(rx.try_recv().is_err(), "nothing happened yet");
    bed.write("vg-base", 0, &[1; 4096]).unwrap();
    bed.write("vg-base", 4096, &[1; 4096]).unwrap();
    let woke = rx
        .recv_timeout(Duration::from_secs(10))
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(woke.event_nr, 1);
    assert_eq!(
        bed.engine
            .wait_event("vg-snap", 1, Some(Duration::from_millis(10)))
            .unwrap(),
        None
    );
}

#[test]
fn overflow_store_fails_snapshot_writes_but_keeps_reads() {
    let bed = Bed::new();
    let base = bed.image("base.img", MIB, 5);
    let cow = bed.zero_image("cow.img", 3 * 4096);
    bed.snapshot_stack(&base, "snap", &cow, 24, 8, StoreKind::PersistentOverflow);
    bed.write("vg-snap", 0, &[9; 4096]).unwrap();
    assert_eq!(
        errno_of(&bed.write("vg-snap", 4096, &[9; 4096]).unwrap_err()),
        Some(libc::EIO)
    );
    assert_eq!(bed.status("vg-snap"), "Overflow");
    assert_eq!(bed.read("vg-snap", 0, 4096).unwrap(), vec![9; 4096]);
    assert_eq!(bed.read("vg-snap", 4096, 4096).unwrap(), vec![6; 4096]);
    // An origin write needing a new exception still invalidates it.
    bed.write("vg-base", 8192, &[0; 4096]).unwrap();
    assert_eq!(bed.status("vg-snap"), "Invalid");
}

#[test]
fn transient_store_counts_from_zero() {
    let bed = Bed::new();
    let base = bed.image("base.img", MIB, 1);
    let cow = bed.zero_image("cow.img", MIB);
    bed.snapshot_stack(&base, "snap", &cow, 2048, 8, StoreKind::Transient);
    assert_eq!(bed.status("vg-snap"), "0/2048 0");
    let before = bed.read("vg-base", 0, 65536).unwrap();
    bed.write("vg-base", 0, &[0; 65536]).unwrap();
    assert_eq!(bed.status("vg-snap"), "128/2048 0");
    assert_eq!(bed.read("vg-snap", 0, 65536).unwrap(), before);
    assert_eq!(
        bed.engine.table("vg-snap", TableSlot::Live).unwrap()[0]
            .params
            .split(' ')
            .nth(2),
        Some("N")
    );
}

#[test]
fn suspended_devices_hold_io_until_resume() {
    let bed = Bed::new();
    let img = bed.image("a.img", MIB, 0);
    bed.dm("d", &format!("0 2048 linear {} 0", img.display()));
    bed.engine.suspend("d", SuspendMode::Flush).unwrap();
    assert!(bed.engine.info("d").unwrap().suspended);
    let engine = bed.engine.clone();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let dev = DeviceSet::open(&engine, "d", true).unwrap();
        tx.send(dev.write_at(&[5; 512], 0).is_ok()).unwrap();
    });
    assert!(
        rx.recv_timeout(Duration::from_millis(200)).is_err(),
        "I/O waits, never fails"
    );
    bed.engine.resume("d").unwrap();
    assert!(rx.recv_timeout(Duration::from_secs(10)).unwrap());
    assert_eq!(bed.read("d", 0, 512).unwrap(), vec![5; 512]);
}

#[test]
fn resuming_a_live_device_returns_its_info() {
    // lvm2's order resumes a snapshot that create already resumed.
    let bed = Bed::new();
    let img = bed.image("a.img", MIB, 0);
    bed.dm("d", &format!("0 2048 linear {} 0", img.display()));
    let engine = bed.engine.clone();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || tx.send(engine.resume("d").map(|i| i.suspended)));
    let resumed = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("resume of a live device returns");
    assert!(!resumed.unwrap());
}

#[test]
fn a_snapshot_is_one_point_in_time_under_a_write_load() {
    let bed = Bed::new();
    let base = bed.image("base.img", 4 * MIB, 0);
    let cow = bed.zero_image("cow.img", 8 * MIB);
    let origin = origin_spec(&base, 8192);
    ops::activate_device(&bed.engine, &origin.top).unwrap();
    // A writer stamps every chunk with an increasing generation, in order.
    let engine = bed.engine.clone();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = stop.clone();
    // Generations the writer has finished, so the snapshot is taken mid-load
    // however slowly a busy machine runs the writer (not after a fixed sleep).
    let finished = Arc::new(std::sync::atomic::AtomicU32::new(0));
    let progress = finished.clone();
    let writer = std::thread::spawn(move || {
        let dev = DeviceSet::open(&engine, "vg-base", true).unwrap();
        let mut generation = 1u32;
        while !flag.load(std::sync::atomic::Ordering::Relaxed) {
            for chunk in 0..1024u64 {
                let mut block = [0u8; 4096];
                block[..4].copy_from_slice(&generation.to_le_bytes());
                dev.write_at(&block, chunk * 4096).unwrap();
            }
            progress.store(generation, std::sync::atomic::Ordering::Relaxed);
            generation += 1;
        }
        generation
    });
    while finished.load(std::sync::atomic::Ordering::Relaxed) < 1 {
        std::thread::sleep(Duration::from_millis(1));
    }
    let spec = snapshot_spec("snap", &cow, 16384, 8, StoreKind::Persistent);
    ops::add_snapshot(&bed.engine, &origin, &spec, None).unwrap();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let generations = writer.join().unwrap();
    assert!(generations > 2, "the load ran across the snapshot");
    // One instant: chunks before some k carry generation g, the rest g - 1.
    let snap = bed.read("vg-snap", 0, 4 * MIB as usize).unwrap();
    let stamps: Vec<u32> = snap
        .chunks(4096)
        .map(|c| u32::from_le_bytes(c[..4].try_into().unwrap()))
        .collect();
    let first = stamps[0];
    let k = stamps
        .iter()
        .position(|&s| s != first)
        .unwrap_or(stamps.len());
    assert!(
        stamps[k..].iter().all(|&s| s + 1 == first),
        "snapshot mixes more than one instant: {:?}",
        &stamps[k.saturating_sub(2)..(k + 3).min(stamps.len())]
    );
}

#[test]
fn merge_rolls_the_origin_back_and_empties_the_store() {
    let bed = Bed::new();
    let base = bed.image("base.img", 2 * MIB, 0);
    let cow = bed.zero_image("cow.img", 4 * MIB);
    bed.snapshot_stack(&base, "snap", &cow, 8192, 8, StoreKind::Persistent);
    let saved = bed.read("vg-snap", 0, 2 * MIB as usize).unwrap();
    // More than one metadata area's worth (256 records a 4 KiB area).
    for chunk in (0..512u64).step_by(1) {
        bed.write("vg-base", chunk * 4096, &[0x55; 4096]).unwrap();
    }
    bed.write("vg-snap", 4096 * 100, &[0x77; 4096]).unwrap();
    let mut expected = saved.clone();
    expected[4096 * 100..4096 * 101].fill(0x77);
    let origin = origin_spec(&base, 4096);
    let spec = snapshot_spec("snap", &cow, 8192, 8, StoreKind::Persistent);
    ops::start_merge(&bed.engine, &origin, &spec).unwrap();
    let m = bed.engine.major();
    assert_eq!(
        bed.engine.table("vg-base", TableSlot::Live).unwrap()[0].to_string(),
        format!("0 4096 snapshot-merge {m}:1 {m}:2 P 8")
    );
    assert_eq!(
        bed.engine.table("vg-snap", TableSlot::Live).unwrap()[0].target_type,
        "error"
    );
    // The origin shows the snapshot's content at once, merged or not.
    assert_eq!(bed.read("vg-base", 0, 2 * MIB as usize).unwrap(), expected);
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let status = bed.status("vg-base");
        let (used, rest) = status.split_once('/').unwrap();
        if rest.split(' ').nth(1) == Some(used) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "merge stuck at {status}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    ops::finish_merge(&bed.engine, &origin, &spec).unwrap();
    assert_eq!(
        bed.engine.table("vg-base", TableSlot::Live).unwrap()[0].target_type,
        "linear"
    );
    assert_eq!(
        std::fs::read(&base).unwrap(),
        expected,
        "the origin's own blocks hold the snapshot"
    );
}

#[test]
fn persistent_snapshots_survive_the_engine() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base.img");
    let cow = dir.path().join("cow.img");
    std::fs::write(&base, vec![0x11u8; MIB as usize]).unwrap();
    std::fs::File::create(&cow).unwrap().set_len(MIB).unwrap();
    {
        let bed = Bed {
            dir: tempfile::tempdir().unwrap(),
            engine: Engine::new(&dir.path().join("m")),
        };
        bed.snapshot_stack(&base, "snap", &cow, 2048, 8, StoreKind::Persistent);
        bed.write("vg-base", 0, &[0x22; 65536]).unwrap();
    }
    let bed = Bed {
        dir: tempfile::tempdir().unwrap(),
        engine: Engine::new(&dir.path().join("m")),
    };
    bed.snapshot_stack(&base, "snap", &cow, 2048, 8, StoreKind::Persistent);
    assert_eq!(bed.read("vg-snap", 0, 65536).unwrap(), vec![0x11; 65536]);
    assert_eq!(bed.read("vg-base", 0, 65536).unwrap(), vec![0x22; 65536]);
    assert_eq!(bed.status("vg-snap"), "144/2048 16");
}

#[test]
fn a_grown_cow_is_used_at_once() {
    let bed = Bed::new();
    let base = bed.image("base.img", MIB, 0);
    let cow = bed.zero_image("cow.img", MIB);
    bed.snapshot_stack(&base, "snap", &cow, 64, 8, StoreKind::Persistent);
    assert_eq!(bed.status("vg-snap"), "16/64 16");
    ops::grow_device(
        &bed.engine,
        "vg-snap-cow",
        &lines(&format!("0 512 linear {} 0", cow.display())),
    )
    .unwrap();
    assert_eq!(bed.status("vg-snap"), "16/512 16");
    for chunk in 0..20u64 {
        bed.write("vg-base", chunk * 4096, &[3; 4096]).unwrap();
    }
    assert_eq!(bed.status("vg-snap"), "176/512 16");
}

#[test]
fn several_snapshots_each_keep_their_instant() {
    let bed = Bed::new();
    let base = bed.image("base.img", MIB, 0);
    let c1 = bed.zero_image("c1.img", MIB);
    let c2 = bed.zero_image("c2.img", MIB);
    bed.snapshot_stack(&base, "s1", &c1, 2048, 8, StoreKind::Persistent);
    let first = bed.read("vg-base", 0, MIB as usize).unwrap();
    let origin_table = bed.engine.table("vg-base", TableSlot::Live).unwrap();
    bed.write("vg-base", 0, &[1; 32768]).unwrap();
    bed.snapshot_stack(&base, "s2", &c2, 2048, 64, StoreKind::Persistent);
    assert_eq!(
        bed.engine.table("vg-base", TableSlot::Live).unwrap(),
        origin_table,
        "origin table unchanged"
    );
    let second = bed.read("vg-base", 0, MIB as usize).unwrap();
    bed.write("vg-base", 16384, &[2; 65536]).unwrap();
    assert_eq!(bed.read("vg-s1", 0, MIB as usize).unwrap(), first);
    assert_eq!(bed.read("vg-s2", 0, MIB as usize).unwrap(), second);
}

/// Issue 11 item 9: numbers the kernel refuses, sent straight to the engine
/// (past the client's own parse), are refused with one reason, never wrapped.
#[test]
fn table_numbers_are_checked_as_the_kernel_checks_them() {
    let bed = Bed::new();
    let img = bed.image("a.img", MIB, 0);
    bed.engine.create("x", &CreateOptions::default()).unwrap();
    let line = |length: u64, target_type: &str, params: String| RawLine {
        start: 0,
        length,
        target_type: target_type.into(),
        params,
    };
    let refused = |table: &[RawLine]| match bed.engine.load("x", table) {
        Err(BackendError::InvalidTable { reason, .. }) => reason,
        other => panic!("{table:?}: expected a refusal, got {other:?}"),
    };
    let huge_zero = refused(&[line(i64::MAX as u64, "zero", String::new())]);
    assert!(huge_zero.contains("too large device"), "{huge_zero}");
    let far = refused(&[line(8, "linear", format!("{} {}", img.display(), u64::MAX))]);
    assert!(far.contains("offset 18446744073709551615"), "{far}");
    // Past the end of the backing file: the kernel's device_area_is_invalid words.
    let past = refused(&[line(8, "linear", format!("{} 2041", img.display()))]);
    assert!(
        past.ends_with("too small for target: start=2041, len=8, dev_size=2048"),
        "{past}"
    );
    assert!(bed
        .engine
        .load("x", &[line(8, "linear", format!("{} 2040", img.display()))])
        .is_ok());
    let cow = bed.zero_image("cow.img", MIB);
    let snap = refused(&[line(
        4096,
        "snapshot",
        format!("{} {} P 8", img.display(), cow.display()),
    )]);
    assert!(
        snap.contains("too small for target: start=0, len=4096"),
        "{snap}"
    );
    // Two lines whose sum passes 2^64 sectors.
    let split = refused(&[
        line(8, "zero", String::new()),
        RawLine {
            start: 8,
            length: u64::MAX - 4,
            target_type: "zero".into(),
            params: String::new(),
        },
    ]);
    assert!(
        split.contains("overflow") || split.contains("too large"),
        "{split}"
    );
}

/// The largest table the engine takes still has a byte size NBD can send as
/// a positive 64-bit number (issue 11 item 9: 2^63-1 sectors reported -512).
#[test]
fn the_largest_device_has_a_positive_byte_size() {
    let bed = Bed::new();
    bed.engine.create("big", &CreateOptions::default()).unwrap();
    let line = RawLine {
        start: 0,
        length: crate::dm::MAX_SECTORS,
        target_type: "zero".into(),
        params: String::new(),
    };
    bed.engine.load("big", &[line]).unwrap();
    bed.engine.resume("big").unwrap();
    let size = DeviceSet::open(&bed.engine, "big", false)
        .unwrap()
        .size_bytes();
    assert!(i64::try_from(size).is_ok(), "{size}");
    assert_eq!(size, crate::dm::MAX_SECTORS * 512);
}

/// Where dm-stripe puts LV byte `pos`: (stripe, byte offset from that
/// stripe's start), chunk `c` to stripe `c % n` at row `c / n`.
fn stripe_home(pos: u64, chunk: u64, stripes: u64) -> (u64, u64) {
    let index = pos / chunk;
    (index % stripes, (index / stripes) * chunk + pos % chunk)
}

#[test]
fn striped_target_deals_chunks_round_robin_over_its_devices() {
    let bed = Bed::new();
    let images: Vec<PathBuf> = (0..3)
        .map(|i| bed.zero_image(&format!("s{i}.img"), MIB))
        .collect();
    // 3 stripes of 8-sector (4 KiB) chunks, each stripe 512 sectors from sector 64.
    let chunk = 4096u64;
    bed.dm(
        "str",
        &format!(
            "0 1536 striped 3 8 {} 64 {} 64 {} 64",
            images[0].display(),
            images[1].display(),
            images[2].display()
        ),
    );
    // A write crossing chunk boundaries, each byte its own position's mark.
    let (from, len) = (4096u64 - 100, 3 * 4096 + 300);
    let data: Vec<u8> = (0..len).map(|i| ((from + i) % 251) as u8).collect();
    bed.write("str", from, &data).unwrap();
    let files: Vec<Vec<u8>> = images.iter().map(|p| std::fs::read(p).unwrap()).collect();
    for (i, byte) in data.iter().enumerate() {
        let (stripe, at) = stripe_home(from + i as u64, chunk, 3);
        assert_eq!(
            files[stripe as usize][(64 * 512 + at) as usize],
            *byte,
            "LV byte {} on stripe {stripe}",
            from + i as u64
        );
    }
    assert_eq!(bed.read("str", from, len as usize).unwrap(), data);
    let table = bed.engine.table("str", TableSlot::Live).unwrap();
    assert_eq!(
        table[0].to_string(),
        format!(
            "0 1536 striped 3 8 {} 64 {} 64 {} 64",
            images[0].display(),
            images[1].display(),
            images[2].display()
        )
    );
    assert!(bed.status("str").starts_with("3 "), "{}", bed.status("str"));
}

#[test]
fn striped_tables_are_checked_as_dm_stripe_checks_them() {
    let bed = Bed::new();
    let a = bed.zero_image("a.img", MIB);
    let b = bed.zero_image("b.img", MIB);
    bed.engine.create("bad", &CreateOptions::default()).unwrap();
    for (table, why) in [
        (
            format!("0 1001 striped 2 8 {} 0 {} 0", a.display(), b.display()),
            "number of stripes",
        ),
        (
            format!("0 1000 striped 2 8 {} 0 {} 0", a.display(), b.display()),
            "chunk size",
        ),
        (
            format!("0 2048 striped 2 8 {} 0 {} 1500", a.display(), b.display()),
            "too small",
        ),
    ] {
        let error = bed
            .engine
            .load("bad", &raw(&table))
            .unwrap_err()
            .to_string();
        assert!(error.contains(why), "{table}: {error}");
    }
    let short = crate::dm::Target::parse("striped", &format!("2 8 {} 0", a.display()));
    assert!(short.unwrap_err().to_string().contains("arguments"));
}

/// A 2 MiB origin of 0x11 with a persistent snapshot of 4 KiB chunks on a
/// COW of stale 0xee bytes (its header chunk zeroed, as lvm2 leaves it):
/// `writes` go through the engine (device name, offset, length, byte), then
/// the engine goes away. Returns the COW's bytes and a fresh bed with the
/// stack built again over the same files.
fn writes_over_a_stale_cow(dir: &Path, writes: &[(&str, usize, usize, u8)]) -> (Vec<u8>, Bed) {
    let base = dir.join("base.img");
    let cow = dir.join("cow.img");
    std::fs::write(&base, vec![0x11u8; 2 * MIB as usize]).unwrap();
    let mut stale = vec![0xeeu8; 2 * MIB as usize];
    stale[..4096].fill(0);
    std::fs::write(&cow, stale).unwrap();
    let engine_dir = dir.join("m");
    let bed = || {
        let bed = Bed {
            dir: tempfile::tempdir().unwrap(),
            engine: Engine::new(&engine_dir),
        };
        bed.snapshot_stack(&base, "snap", &cow, 4096, 8, StoreKind::Persistent);
        bed
    };
    {
        let bed = bed();
        for &(device, offset, len, byte) in writes {
            bed.write(device, offset as u64, &vec![byte; len]).unwrap();
        }
    }
    let bytes = std::fs::read(&cow).unwrap();
    let store = PersistentStore::load(FileDisk::open(&cow).unwrap()).unwrap();
    let chunks: std::collections::BTreeSet<usize> = writes
        .iter()
        .flat_map(|&(_, offset, len, _)| offset / 4096..(offset + len).div_ceil(4096))
        .collect();
    assert_eq!(store.exception_count(), chunks.len() as u64, "{writes:?}");
    (bytes, bed())
}

/// Whether the bytes of area 1 (COW chunk 258) past its first `records` are zeros.
fn area_1_is_clean(cow: &[u8], records: usize) -> bool {
    cow[258 * 4096 + records * 16..259 * 4096]
        .iter()
        .all(|&b| b == 0)
}

#[test]
fn an_origin_write_that_fills_an_area_zeroes_the_next_one_over_stale_bytes() {
    // 4 KiB chunks: area 0 is chunk 1, its data chunks 2..=257, area 1 is
    // chunk 258. A 1 MiB first write fills area 0 and ends where area 1
    // begins; 1 MiB + 8 KiB goes on past it. Either way area 1 must be
    // zeros on the COW before area 0's last record lands, or a reload
    // reads the stale bytes there as records.
    for len in [MIB as usize, MIB as usize + 8192] {
        let dir = tempfile::tempdir().unwrap();
        let (cow, bed) = writes_over_a_stale_cow(dir.path(), &[("vg-base", 0, len, 0x22)]);
        assert!(area_1_is_clean(&cow, len / 4096 - 256), "len {len}");
        assert_eq!(bed.read("vg-snap", 0, len).unwrap(), vec![0x11; len]);
        assert_eq!(bed.read("vg-base", 0, len).unwrap(), vec![0x22; len]);
    }
}

#[test]
fn a_partial_snapshot_write_that_fills_an_area_zeroes_the_next_one() {
    // 255 chunks written whole, then 100 bytes into the 256th, which the
    // engine fills up from the origin: the write that fills area 0.
    let dir = tempfile::tempdir().unwrap();
    let last = 255 * 4096;
    let writes = [
        ("vg-snap", 0, last, 0x33),
        ("vg-snap", last + 10, 100, 0x44),
    ];
    let (cow, bed) = writes_over_a_stale_cow(dir.path(), &writes);
    assert!(area_1_is_clean(&cow, 0));
    let mut want = vec![0x33; last];
    want.extend([0x11; 10]);
    want.extend([0x44; 100]);
    want.extend([0x11; 4096 - 110]);
    assert_eq!(bed.read("vg-snap", 0, last + 4096).unwrap(), want);
    assert_eq!(
        bed.read("vg-base", 0, 2 * MIB as usize).unwrap(),
        vec![0x11; 2 * MIB as usize]
    );
}
