//! The crash loop: a snapshot stack with a persistent COW on the engine,
//! writers on the origin and on the snapshot through the mapper files,
//! `kill -9` of rdmd at a random moment, then `rcow check` of the COW file,
//! the stack re-created by a new rdmd, and every chunk of both devices
//! checked: the old or the new content of a write in flight, never anything
//! else (no lost COW copy, no torn chunk); writes covered by a completed
//! fsync must be there. `RLVM_CRASH_SEED` replays a run,
//! `RLVM_CRASH_ITERATIONS` changes its length.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::support::{assert_exit, Rng, StateDir};

const CHUNK: usize = 4096;
/// Origin chunks (16 MiB): enough that every iteration still makes new exceptions.
const CHUNKS: u64 = 4096;
const COW_BYTES: u64 = 24 << 20;
/// Writes per writer per iteration, at most (each chunk at most once).
const WRITES: usize = 120;
/// Each writer fsyncs after this many writes.
const SYNC_EVERY: usize = 8;

/// Who wrote a chunk's content: the initial fill, the origin writer or the snapshot writer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Stamp {
    tag: u8,
    chunk: u64,
    generation: u32,
}

const INITIAL: u8 = b'I';
const ORIGIN: u8 = b'O';
const SNAPSHOT: u8 = b'S';

/// The 4 KiB a stamp stands for: the stamp in the first 16 bytes, then bytes derived from it.
fn content(stamp: Stamp) -> Vec<u8> {
    let mut out = vec![0u8; CHUNK];
    out[..4].copy_from_slice(b"RCRS");
    out[4] = stamp.tag;
    out[8..12].copy_from_slice(&(stamp.chunk as u32).to_le_bytes());
    out[12..16].copy_from_slice(&stamp.generation.to_le_bytes());
    let mut rng =
        Rng((stamp.chunk << 40) ^ (u64::from(stamp.generation) << 8) ^ u64::from(stamp.tag) | 1);
    for word in out[16..].chunks_mut(8) {
        word.copy_from_slice(&rng.next().to_le_bytes());
    }
    out
}

/// What a chunk read back is, for a failure message.
fn describe(bytes: &[u8]) -> String {
    if bytes.iter().all(|&b| b == 0) {
        return "zeros".into();
    }
    if &bytes[..4] != b"RCRS" {
        return "garbage (no stamp)".into();
    }
    let stamp = Stamp {
        tag: bytes[4],
        chunk: u64::from(u32::from_le_bytes(bytes[8..12].try_into().unwrap())),
        generation: u32::from_le_bytes(bytes[12..16].try_into().unwrap()),
    };
    if content(stamp) == bytes {
        format!("{stamp:?}")
    } else {
        format!("a torn chunk stamped {stamp:?}")
    }
}

/// One writer's record of an iteration.
#[derive(Default)]
struct Record {
    /// Chunk and stamp of every write started, in order.
    started: Vec<(u64, Stamp)>,
    /// How many of them returned success.
    acked: usize,
    /// How many of them a successful fsync covered.
    synced: usize,
}

/// Write fresh stamps over up to WRITES distinct chunks of `file` until done or an error.
fn writer(file: PathBuf, tag: u8, generation: u32, mut rng: Rng, stop: Arc<AtomicBool>) -> Record {
    let mut record = Record::default();
    let Ok(file) = OpenOptions::new().read(true).write(true).open(&file) else {
        return record;
    };
    let mut chosen = HashMap::new();
    while chosen.len() < WRITES {
        let (chunk, next) = (rng.below(CHUNKS), chosen.len());
        chosen.entry(chunk).or_insert(next);
    }
    let mut order: Vec<(usize, u64)> = chosen.into_iter().map(|(c, i)| (i, c)).collect();
    order.sort_unstable();
    for (_, chunk) in order {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let stamp = Stamp {
            tag,
            chunk,
            generation,
        };
        record.started.push((chunk, stamp));
        if file
            .write_all_at(&content(stamp), chunk * CHUNK as u64)
            .is_err()
        {
            return record;
        }
        record.acked += 1;
        if record.acked % SYNC_EVERY == 0 {
            if file.sync_all().is_err() {
                return record;
            }
            record.synced = record.acked;
        }
    }
    record
}

fn rdmsetup(state: &StateDir, args: &[&str]) -> String {
    state.ok("rdmsetup", args)
}

fn devno(state: &StateDir, name: &str) -> String {
    rdmsetup(
        state,
        &["info", "-c", "--noheadings", "-o", "major,minor", name],
    )
    .trim()
    .replace(' ', "")
}

/// The stack lvm2 builds, with raw rdmsetup (a COW that already holds a store is reused).
fn build_stack(state: &StateDir, base: &Path, cow: &Path) {
    let sectors = CHUNKS * 8;
    let linear = format!("0 {sectors} linear {} 0", base.display());
    rdmsetup(state, &["create", "vg-base", "--table", &linear]);
    rdmsetup(state, &["create", "vg-base-real", "--table", &linear]);
    let cow_table = format!("0 {} linear {} 0", COW_BYTES / 512, cow.display());
    rdmsetup(state, &["create", "vg-snap-cow", "--table", &cow_table]);
    rdmsetup(state, &["suspend", "vg-base"]);
    let real = devno(state, "vg-base-real");
    let cow = devno(state, "vg-snap-cow");
    let snap = format!("0 {sectors} snapshot {real} {cow} P 8");
    rdmsetup(state, &["create", "vg-snap", "--table", &snap]);
    let origin = format!("0 {sectors} snapshot-origin {real}");
    rdmsetup(state, &["load", "vg-base", "--table", &origin]);
    rdmsetup(state, &["resume", "vg-snap"]);
    rdmsetup(state, &["resume", "vg-base"]);
}

/// The pid of the rdmd serving `dir` (found by its command line).
fn rdmd_pid(dir: &Path) -> Option<i32> {
    let want = dir.as_os_str().as_encoded_bytes();
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|s| s.parse().ok()) else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let args: Vec<&[u8]> = cmdline.split(|&b| b == 0).collect();
        let is_rdmd = args.first().is_some_and(|a| a.ends_with(b"rdmd"));
        if is_rdmd && args.windows(2).any(|w| w[0] == b"--dir" && w[1] == want) {
            return Some(pid);
        }
    }
    None
}

fn kill_rdmd(dir: &Path) {
    let pid = rdmd_pid(dir).expect("rdmd of the state directory is running");
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::SIGKILL)
        .expect("kill -9 rdmd");
    let deadline = Instant::now() + Duration::from_secs(10);
    while rdmd_pid(dir) == Some(pid) {
        assert!(Instant::now() < deadline, "rdmd {pid} survived SIGKILL");
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn read_all(path: &Path) -> Vec<u8> {
    let file = File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut bytes = vec![0u8; CHUNKS as usize * CHUNK];
    file.read_exact_at(&mut bytes, 0)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    bytes
}

/// A device's model: the stamp each chunk holds.
type Model = Vec<Stamp>;

/// Check `bytes` against `model` plus the writes of `record`, then make the
/// model what was found. Returns how many acked-but-unsynced writes read back
/// as their old content.
fn settle(what: &str, iteration: u32, bytes: &[u8], model: &mut Model, record: &Record) -> usize {
    let mut candidates: HashMap<u64, (Stamp, bool)> = HashMap::new();
    for (i, &(chunk, stamp)) in record.started.iter().enumerate() {
        candidates.insert(chunk, (stamp, i < record.synced));
    }
    let mut reverted = 0;
    for chunk in 0..CHUNKS {
        let got = &bytes[chunk as usize * CHUNK..][..CHUNK];
        let old = model[chunk as usize];
        let fail = |expected: String| -> ! {
            panic!(
                "iteration {iteration}: {what} chunk {chunk}: found {}, expected {expected}",
                describe(got)
            )
        };
        match candidates.get(&chunk) {
            None => {
                if got != content(old) {
                    fail(format!("{old:?} (not written this iteration)"));
                }
            }
            Some(&(new, synced)) => {
                if got == content(new) {
                    model[chunk as usize] = new;
                } else if synced {
                    fail(format!("{new:?} (its write was fsynced)"));
                } else if got == content(old) {
                    let position = record.started.iter().position(|&(c, _)| c == chunk);
                    if position.is_some_and(|p| p < record.acked) {
                        reverted += 1;
                    }
                } else {
                    fail(format!("{old:?} or {new:?}"));
                }
            }
        }
    }
    reverted
}

#[test]
fn rdmd_killed_mid_write_leaves_consistent_devices() {
    let iterations: u32 = std::env::var("RLVM_CRASH_ITERATIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    let seed: u64 = std::env::var("RLVM_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        });
    eprintln!("crash loop: RLVM_CRASH_SEED={seed}, {iterations} iterations");
    let mut rng = Rng(seed);
    let started = Instant::now();

    let state = StateDir::new();
    let base = state.scratch().join("base.img");
    let cow = state.scratch().join("cow.img");
    let mut initial = Vec::with_capacity(CHUNKS as usize * CHUNK);
    let mut origin: Model = Vec::new();
    for chunk in 0..CHUNKS {
        let stamp = Stamp {
            tag: INITIAL,
            chunk,
            generation: 0,
        };
        initial.extend_from_slice(&content(stamp));
        origin.push(stamp);
    }
    std::fs::write(&base, &initial).unwrap();
    File::create(&cow).unwrap().set_len(COW_BYTES).unwrap();
    let mut snapshot = origin.clone();
    build_stack(&state, &base, &cow);

    let (mut writes, mut reverted, mut cut_off) = (0usize, 0usize, 0usize);
    for iteration in 1..=iterations {
        let stop = Arc::new(AtomicBool::new(false));
        let spawn = |name: &str, tag: u8, rng: Rng| {
            let (path, stop) = (state.mapper(name), stop.clone());
            std::thread::spawn(move || writer(path, tag, iteration, rng, stop))
        };
        let origin_writer = spawn("vg-base", ORIGIN, Rng(rng.next() | 1));
        let snapshot_writer = spawn("vg-snap", SNAPSHOT, Rng(rng.next() | 1));
        std::thread::sleep(Duration::from_micros(rng.below(120_000)));
        kill_rdmd(&state.path());
        stop.store(true, Ordering::Relaxed);
        let origin_record = origin_writer.join().unwrap();
        let snapshot_record = snapshot_writer.join().unwrap();

        let out = crate::support::run("rcow", &["check", cow.to_str().unwrap()]);
        assert_exit(&out, 0);

        // A new rdmd (started by create) takes over the stale mapper mount.
        build_stack(&state, &base, &cow);
        let origin_bytes = read_all(&state.mapper("vg-base"));
        let snapshot_bytes = read_all(&state.mapper("vg-snap"));
        reverted += settle(
            "origin",
            iteration,
            &origin_bytes,
            &mut origin,
            &origin_record,
        );
        reverted += settle(
            "snapshot",
            iteration,
            &snapshot_bytes,
            &mut snapshot,
            &snapshot_record,
        );
        // The origin file itself agrees with the origin device.
        assert!(
            std::fs::read(&base).unwrap() == origin_bytes,
            "iteration {iteration}: base.img differs from vg-base"
        );
        for record in [&origin_record, &snapshot_record] {
            writes += record.started.len();
            cut_off += record.started.len() - record.acked;
        }
    }
    let status = rdmsetup(&state, &["status", "vg-snap"]);
    assert!(!status.contains("Invalid"), "{status}");
    eprintln!(
        "crash loop: {iterations} kills in {:.1}s, {writes} writes started, \
         {cut_off} cut off by the kill, {reverted} acked-unsynced writes read back old; \
         snapshot status {}",
        started.elapsed().as_secs_f64(),
        status.trim()
    );
}
