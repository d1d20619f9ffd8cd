//! Measures the exception store: memory per loaded exception (against a plain
//! HashMap and the kernel's 32-byte `dm_exception` from a slab plus 8-byte
//! hash buckets) and commit/load throughput over memory.
//!
//! `cargo bench -p rlvm --bench cow` (plain `main`, no harness: numbers are printed).

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use rlvm::cow::{Exception, ExceptionMap, ExceptionStore, PersistentStore};
use rlvm::io::MemDisk;

/// Counts live heap bytes so a structure's footprint can be read off exactly.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded unchanged to the system allocator; only a counter is added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: same contract as our caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(new_size, Ordering::Relaxed);
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: same contract as our caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// A deterministic scatter of distinct origin chunks (no two consecutive).
fn scattered(n: u64) -> impl Iterator<Item = u64> {
    // Multiplying by an odd constant permutes u64; spacing by 2 keeps neighbours apart.
    (0..n).map(|i| (i.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 24) * 2)
}

fn bytes_per<T>(n: u64, build: impl FnOnce() -> T) -> (f64, T) {
    let before = LIVE.load(Ordering::Relaxed);
    let value = build();
    let after = LIVE.load(Ordering::Relaxed);
    ((after - before) as f64 / n as f64, value)
}

fn memory() {
    const N: u64 = 1_000_000;
    let (scattered_map, map) = bytes_per(N, || {
        let mut map = ExceptionMap::new();
        for (i, old) in scattered(N).enumerate() {
            map.insert(old, 2 + i as u64);
        }
        map
    });
    assert_eq!(map.len(), N);
    drop(map);
    let (sequential_map, map) = bytes_per(N, || {
        let mut map = ExceptionMap::new();
        for i in 0..N {
            map.insert(1000 + i, 2 + i);
        }
        map
    });
    assert_eq!(map.run_count(), 1);
    drop(map);
    let (hash_map, map) = bytes_per(N, || {
        let mut map: HashMap<u64, u64> = HashMap::new();
        for (i, old) in scattered(N).enumerate() {
            map.insert(old, 2 + i as u64);
        }
        map
    });
    drop(map);
    println!("memory per exception, {N} exceptions:");
    println!("  ExceptionMap, scattered  : {scattered_map:6.1} bytes");
    println!("  ExceptionMap, sequential : {sequential_map:6.4} bytes (one run)");
    println!("  HashMap<u64,u64>, scattered: {hash_map:6.1} bytes");
    println!("  kernel dm_exception       :   32 bytes + 8-byte buckets (up to 256 consecutive per entry)");
}

fn throughput() {
    // 100k exceptions of 4 KiB: the device is 400 MiB of lazily zeroed memory.
    const N: u64 = 100_000;
    for batch in [1usize, 64] {
        let disk = Arc::new(MemDisk::new(((N + N / 256 + 8) * 4096) as usize));
        let mut store = PersistentStore::create(disk.clone(), 8).unwrap();
        let olds: Vec<u64> = scattered(N).collect();
        let start = Instant::now();
        for chunk in olds.chunks(batch) {
            let exceptions: Vec<Exception> = chunk
                .iter()
                .map(|&old_chunk| Exception {
                    old_chunk,
                    new_chunk: store.allocate().unwrap(),
                })
                .collect();
            store.commit_batch(&exceptions).unwrap();
        }
        let elapsed = start.elapsed();
        println!(
            "commit {N} exceptions in batches of {batch:>2}: {:>8.0} exceptions/s (area writes of 4 KiB over memory)",
            N as f64 / elapsed.as_secs_f64()
        );
        if batch == 64 {
            drop(store);
            let start = Instant::now();
            let store = PersistentStore::load(disk).unwrap();
            let elapsed = start.elapsed();
            assert_eq!(store.exception_count(), N);
            println!(
                "load {N} exceptions: {:.1} ms ({:.0} exceptions/s)",
                elapsed.as_secs_f64() * 1e3,
                N as f64 / elapsed.as_secs_f64()
            );
        }
    }
}

/// Over a real file each area write costs two fdatasyncs, so batching is what makes commits cheap.
fn file_throughput() {
    const N: u64 = 4096;
    for batch in [1usize, 64] {
        let file = tempfile::NamedTempFile::new_in(std::env::temp_dir()).unwrap();
        file.as_file().set_len((N + N / 256 + 8) * 4096).unwrap();
        let disk = Arc::new(rlvm::io::FileDisk::open(file.path()).unwrap());
        let mut store = PersistentStore::create(disk, 8).unwrap();
        let olds: Vec<u64> = scattered(N).collect();
        let start = Instant::now();
        for chunk in olds.chunks(batch) {
            let exceptions: Vec<Exception> = chunk
                .iter()
                .map(|&old_chunk| Exception {
                    old_chunk,
                    new_chunk: store.allocate().unwrap(),
                })
                .collect();
            store.commit_batch(&exceptions).unwrap();
        }
        let elapsed = start.elapsed();
        println!(
            "commit {N} exceptions to a file in {}, batches of {batch:>2}: {:>8.0} exceptions/s",
            std::env::temp_dir().display(),
            N as f64 / elapsed.as_secs_f64()
        );
    }
}

fn main() {
    // `cargo test --benches` runs this with --bench absent; keep it quick either way.
    memory();
    throughput();
    file_throughput();
}
