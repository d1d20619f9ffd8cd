//! The snapshot targets' semantics, as dm-snap.c gives them:
//!
//! - an origin write first copies every affected chunk that a snapshot has
//!   not yet saved into that snapshot's COW (the origin chunk is read once,
//!   however many snapshots need it), commits the exceptions, and only then
//!   reaches the origin;
//! - a snapshot read comes from the COW where the chunk was saved, else from
//!   the origin; a snapshot write goes to the COW;
//! - a full COW invalidates that snapshot alone (its I/O fails, its status
//!   says `Invalid`, its device raises an event) and the origin write goes on;
//! - `snapshot-merge` copies the COW back into the origin from the end of the
//!   store, a run at a time, on a worker that stops while the device is
//!   suspended.
//!
//! Locking: each origin has an [`OriginGroup`] whose `copy` lock is held
//! exclusively by everything that creates or consumes exceptions (origin and
//! snapshot writes, merge steps) and shared by snapshot reads that fall
//! through to the origin, so a reader never sees an origin chunk mid-change.
//! A store's own mutex is only taken under the copy lock (or alone, for
//! status), never the other way round.

use std::collections::HashMap;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, Weak};
use std::thread::JoinHandle;

use crate::cow::{CowError, Exception, ExceptionStore, PersistentStore, TransientStore};
use crate::dm::StoreKind;
use crate::io::BlockIo;

use super::engine::Device;
use super::lower::{DevKey, Lower};

fn eio() -> io::Error {
    io::Error::from_raw_os_error(libc::EIO)
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Every snapshot of one origin device, and the lock that orders copy-outs.
#[derive(Default)]
pub(crate) struct OriginGroup {
    copy: RwLock<()>,
    snapshots: Mutex<Vec<Weak<SnapshotCore>>>,
}

impl OriginGroup {
    /// Snapshots that take copy-outs now: resumed, valid, not merging, not `skip`.
    fn active(&self, skip: Option<&SnapshotCore>) -> Vec<Arc<SnapshotCore>> {
        let mut snapshots = lock(&self.snapshots);
        snapshots.retain(|weak| weak.strong_count() > 0);
        snapshots
            .iter()
            .filter_map(Weak::upgrade)
            .filter(|s| s.active.load(Ordering::Acquire) && !s.merging.load(Ordering::Acquire))
            .filter(|s| skip.is_none_or(|skip| !std::ptr::eq(Arc::as_ptr(s), skip)))
            .collect()
    }

    fn write_lock(&self) -> std::sync::RwLockWriteGuard<'_, ()> {
        self.copy.write().unwrap_or_else(|p| p.into_inner())
    }

    fn read_lock(&self) -> std::sync::RwLockReadGuard<'_, ()> {
        self.copy.read().unwrap_or_else(|p| p.into_inner())
    }
}

/// Registries that make the same origin (or COW) mean the same state,
/// whichever table names it.
#[derive(Default)]
pub(crate) struct SnapshotRegistry {
    groups: Mutex<HashMap<DevKey, Weak<OriginGroup>>>,
    cores: Mutex<HashMap<DevKey, Weak<SnapshotCore>>>,
}

impl SnapshotRegistry {
    /// The group of snapshots of `origin`.
    pub(crate) fn group(&self, origin: DevKey) -> Arc<OriginGroup> {
        let mut groups = lock(&self.groups);
        if let Some(group) = groups.get(&origin).and_then(Weak::upgrade) {
            return group;
        }
        groups.retain(|_, weak| weak.strong_count() > 0);
        let group = Arc::new(OriginGroup::default());
        groups.insert(origin, Arc::downgrade(&group));
        group
    }

    /// The snapshot state on `cow`: the one a loaded table already holds
    /// (the kernel's exception-store handover), else a store opened now.
    pub(crate) fn core(
        &self,
        origin: Lower,
        cow: Lower,
        kind: StoreKind,
        chunk_sectors: u32,
    ) -> Result<Arc<SnapshotCore>, String> {
        let mut cores = lock(&self.cores);
        if let Some(core) = cores.get(&cow.key()).and_then(Weak::upgrade) {
            if core.origin.key() != origin.key() {
                return Err("COW device is in use by a snapshot of another origin".into());
            }
            return Ok(core);
        }
        cores.retain(|_, weak| weak.strong_count() > 0);
        let store: Box<dyn ExceptionStore> = match kind {
            StoreKind::Transient => {
                let chunk = if chunk_sectors == 0 {
                    crate::cow::KERNEL_DEFAULT_CHUNK_SECTORS as u32
                } else {
                    chunk_sectors
                };
                Box::new(TransientStore::new(cow.clone(), chunk).map_err(store_error)?)
            }
            StoreKind::Persistent | StoreKind::PersistentOverflow => {
                Box::new(PersistentStore::open(cow.clone(), chunk_sectors).map_err(store_error)?)
            }
        };
        let group = self.group(origin.key());
        let core = Arc::new(SnapshotCore {
            group: group.clone(),
            origin,
            cow: cow.clone(),
            kind,
            chunk_bytes: u64::from(store.chunk_size()) * 512,
            state: Mutex::new(SnapState {
                store,
                overflowed: false,
                merge_failed: false,
            }),
            owner: Mutex::new(Weak::new()),
            active: AtomicBool::new(false),
            merging: AtomicBool::new(false),
        });
        lock(&group.snapshots).push(Arc::downgrade(&core));
        cores.insert(cow.key(), Arc::downgrade(&core));
        Ok(core)
    }
}

fn store_error(e: CowError) -> String {
    match e {
        CowError::BadMagic { .. } => format!("Invalid or corrupt snapshot: {e}"),
        other => format!("Couldn't create exception store: {other}"),
    }
}

struct SnapState {
    store: Box<dyn ExceptionStore>,
    overflowed: bool,
    merge_failed: bool,
}

/// One snapshot's state: its exception store over the COW, shared by every
/// target loaded on that COW (a reload or a merge takes it over).
pub(crate) struct SnapshotCore {
    group: Arc<OriginGroup>,
    origin: Lower,
    cow: Lower,
    kind: StoreKind,
    chunk_bytes: u64,
    state: Mutex<SnapState>,
    owner: Mutex<Weak<Device>>,
    active: AtomicBool,
    merging: AtomicBool,
}

impl SnapshotCore {
    /// Chunk size in sectors (the store's, which overrides the table's).
    pub(crate) fn chunk_sectors(&self) -> u32 {
        (self.chunk_bytes / 512) as u32
    }

    /// The origin's underlying device.
    pub(crate) fn origin(&self) -> &Lower {
        &self.origin
    }

    /// The COW device.
    pub(crate) fn cow(&self) -> &Lower {
        &self.cow
    }

    /// The store kind the table asked for.
    pub(crate) fn kind(&self) -> StoreKind {
        self.kind
    }

    /// Whether the store still holds a valid snapshot.
    pub(crate) fn is_valid(&self) -> bool {
        lock(&self.state).store.is_valid()
    }

    /// The table went live on `owner`: origin writes copy out from now on.
    pub(crate) fn activate(&self, owner: &Arc<Device>) {
        *lock(&self.owner) = Arc::downgrade(owner);
        self.active.store(true, Ordering::Release);
    }

    /// The kernel's status text: usage, or `Invalid` / `Merge failed` / `Overflow`.
    pub(crate) fn status(&self) -> String {
        let state = lock(&self.state);
        if !state.store.is_valid() {
            "Invalid".into()
        } else if state.merge_failed {
            "Merge failed".into()
        } else if state.overflowed {
            "Overflow".into()
        } else {
            match state.store.usage() {
                Ok(usage) => usage.to_string(),
                Err(_) => "Unknown".into(),
            }
        }
    }

    fn invalidate(&self, state: &mut SnapState) {
        // A failed header write changes nothing: the in-memory store is invalid already.
        let _ = state.store.invalidate();
        self.raise_event();
    }

    fn raise_event(&self) {
        if let Some(owner) = lock(&self.owner).upgrade() {
            owner.raise_event();
        }
    }

    fn chunks(&self, pos: u64, len: u64) -> std::ops::RangeInclusive<u64> {
        pos / self.chunk_bytes..=(pos + len - 1) / self.chunk_bytes
    }

    /// Each chunk that bytes `pos..pos+len` touch, with the part of the request inside it.
    fn pieces(&self, pos: u64, len: usize) -> impl Iterator<Item = Piece> + '_ {
        let mut done = 0usize;
        self.chunks(pos, len as u64).map(move |chunk| {
            let at = pos + done as u64;
            let within = at % self.chunk_bytes;
            let take = ((self.chunk_bytes - within) as usize).min(len - done);
            let piece = Piece {
                chunk,
                at,
                within,
                range: done..done + take,
            };
            done += take;
            piece
        })
    }

    /// Read `buf` at `pos` of the snapshot's view.
    pub(crate) fn read(&self, buf: &mut [u8], pos: u64) -> io::Result<()> {
        if buf.is_empty() {
            return Ok(());
        }
        let _copy = self.group.read_lock();
        let mapping = self.mapping(pos, buf.len() as u64, true)?;
        self.read_mapped(buf, pos, &mapping)
    }

    /// Where each chunk of bytes `pos..pos+len` is: `Some(COW offset)` or the
    /// origin. `require_valid` fails it for an invalid store, as snapshot I/O does.
    fn mapping(&self, pos: u64, len: u64, require_valid: bool) -> io::Result<Vec<Option<u64>>> {
        let state = lock(&self.state);
        if require_valid && !state.store.is_valid() {
            return Err(eio());
        }
        Ok(self
            .chunks(pos, len)
            .map(|chunk| {
                state
                    .store
                    .lookup(chunk)
                    .and_then(|new| state.store.chunk_offset(new))
            })
            .collect())
    }

    /// Read pieces chunk by chunk from the COW (`Some(offset)`) or the origin;
    /// pieces that continue each other on the same device go in one read
    /// (sequential copy-outs leave runs of consecutive COW chunks).
    fn read_mapped(&self, buf: &mut [u8], pos: u64, mapping: &[Option<u64>]) -> io::Result<()> {
        // (from the COW, device offset, start in `buf`, length)
        let mut run: Option<(bool, u64, usize, usize)> = None;
        for (piece, cow_chunk) in self.pieces(pos, buf.len()).zip(mapping) {
            let (done, take) = (piece.range.start, piece.range.len());
            let (from_cow, dev_at) = match cow_chunk {
                Some(offset) => (true, offset + piece.within),
                None => (false, piece.at),
            };
            match &mut run {
                Some((cow, start, _, len))
                    if *cow == from_cow && *start + *len as u64 == dev_at =>
                {
                    *len += take;
                }
                _ => {
                    if let Some(prev) = run.take() {
                        self.read_run(buf, prev)?;
                    }
                    run = Some((from_cow, dev_at, done, take));
                }
            }
        }
        match run {
            Some(last) => self.read_run(buf, last),
            None => Ok(()),
        }
    }

    fn read_run(
        &self,
        buf: &mut [u8],
        (from_cow, at, from, len): (bool, u64, usize, usize),
    ) -> io::Result<()> {
        let piece = &mut buf[from..from + len];
        if from_cow {
            self.cow.read_exact_at(piece, at)
        } else {
            self.origin.read_exact_at(piece, at)
        }
    }

    /// Write `data` at `pos` of the snapshot's view (into the COW).
    pub(crate) fn write(&self, data: &[u8], pos: u64) -> io::Result<()> {
        if data.is_empty() {
            return Ok(());
        }
        let _copy = self.group.write_lock();
        let mut state = lock(&self.state);
        if !state.store.is_valid() || state.overflowed {
            return Err(eio());
        }
        let origin_bytes = self.origin.size_bytes()?;
        let mut staged = Vec::new();
        for Piece {
            chunk,
            within,
            range,
            ..
        } in self.pieces(pos, data.len())
        {
            let take = range.len();
            let piece = &data[range];
            if let Some(offset) = state
                .store
                .lookup(chunk)
                .and_then(|new| state.store.chunk_offset(new))
            {
                self.cow.write_all_at(piece, offset + within)?;
                continue;
            }
            let new_chunk = match state.store.allocate() {
                Ok(new_chunk) => new_chunk,
                Err(CowError::Full { .. }) if self.kind == StoreKind::PersistentOverflow => {
                    state.overflowed = true;
                    return Err(eio());
                }
                Err(_) => {
                    self.invalidate(&mut state);
                    return Err(eio());
                }
            };
            // A partial write keeps the rest of the chunk's old content: the
            // chunk goes to the COW whole, already carrying the new bytes, so
            // it is committed with its post-write content or not at all.
            let mut whole = vec![0u8; self.chunk_bytes as usize];
            if take as u64 != self.chunk_bytes {
                read_clipped(
                    &self.origin,
                    &mut whole,
                    chunk * self.chunk_bytes,
                    origin_bytes,
                )?;
            }
            whole[within as usize..within as usize + take].copy_from_slice(piece);
            let offset = state.store.chunk_offset(new_chunk).ok_or_else(eio)?;
            if self.cow.write_all_at(&whole, offset).is_err() {
                self.invalidate(&mut state);
                return Err(eio());
            }
            staged.push(Exception {
                old_chunk: chunk,
                new_chunk,
            });
        }
        if !staged.is_empty() && state.store.commit_batch(&staged).is_err() {
            self.raise_event();
            return Err(eio());
        }
        Ok(())
    }
}

/// The part of a request that falls in one chunk.
struct Piece {
    /// The chunk.
    chunk: u64,
    /// Byte position of the part on the origin's scale.
    at: u64,
    /// Offset of the part inside the chunk.
    within: u64,
    /// Where the part lies in the request's buffer.
    range: std::ops::Range<usize>,
}

/// Read `buf.len()` bytes at `pos` of `dev`, zeros past `dev_bytes`.
fn read_clipped(dev: &Lower, buf: &mut [u8], pos: u64, dev_bytes: u64) -> io::Result<()> {
    let inside = dev_bytes.saturating_sub(pos).min(buf.len() as u64) as usize;
    buf[inside..].fill(0);
    if inside > 0 {
        dev.read_exact_at(&mut buf[..inside], pos)?;
    }
    Ok(())
}

/// Save, in every active snapshot of `group` but `skip`, the chunks of
/// origin bytes `pos..pos+len` it has not saved yet. The caller holds the
/// group's copy lock exclusively and writes the origin afterwards.
fn copy_out(
    group: &OriginGroup,
    origin: &Lower,
    pos: u64,
    len: u64,
    skip: Option<&SnapshotCore>,
) -> io::Result<()> {
    if len == 0 {
        return Ok(());
    }
    let snapshots = group.active(skip);
    if snapshots.is_empty() {
        return Ok(());
    }
    let mut plans = Vec::new();
    for snap in &snapshots {
        let state = lock(&snap.state);
        if !state.store.is_valid() {
            continue;
        }
        let needed: Vec<u64> = snap
            .chunks(pos, len)
            .filter(|&chunk| state.store.lookup(chunk).is_none())
            .collect();
        if !needed.is_empty() {
            plans.push((snap, state, needed));
        }
    }
    if plans.is_empty() {
        return Ok(());
    }
    // Read the origin once, over the union of every needed chunk.
    let origin_bytes = origin.size_bytes()?;
    let start = plans
        .iter()
        .map(|(s, _, needed)| needed[0] * s.chunk_bytes)
        .min()
        .unwrap_or(pos);
    let end = plans
        .iter()
        .map(|(s, _, needed)| (needed[needed.len() - 1] + 1) * s.chunk_bytes)
        .max()
        .unwrap_or(pos + len);
    let mut old = vec![0u8; (end - start) as usize];
    read_clipped(origin, &mut old, start, origin_bytes)?;
    // Each snapshot's copy ends in flushes of its own COW: run them side by
    // side, so the flushes of several COWs overlap. The origin write still
    // waits for every one of them (the scope joins before we return).
    type Job<'a> = Mutex<Option<(&'a SnapshotCore, &'a mut SnapState, &'a [u64])>>;
    let jobs: Vec<Job<'_>> = plans
        .iter_mut()
        .map(|(snap, state, needed)| Mutex::new(Some((&***snap, &mut **state, &needed[..]))))
        .collect();
    let old = &old[..];
    let run = |job: &Job<'_>| {
        if let Some((snap, state, needed)) = lock(job).take() {
            save_chunks(snap, state, needed, old, start);
        }
    };
    std::thread::scope(|scope| {
        for job in &jobs[1..] {
            let spawned = std::thread::Builder::new()
                .name("rdmd-copy-out".into())
                .spawn_scoped(scope, || run(job));
            if spawned.is_err() {
                // No thread to be had: do it here instead.
                run(job);
            }
        }
        run(&jobs[0]);
    });
    Ok(())
}

/// Copy the origin chunks `needed` (their old bytes are `old`, which starts
/// at origin byte `start`) into `snap`'s COW and commit them as one batch.
/// A snapshot that cannot take them is invalidated; the origin goes on.
fn save_chunks(snap: &SnapshotCore, state: &mut SnapState, needed: &[u64], old: &[u8], start: u64) {
    let mut staged = Vec::with_capacity(needed.len());
    for &chunk in needed {
        match state.store.allocate() {
            Ok(new_chunk) => staged.push(Exception {
                old_chunk: chunk,
                new_chunk,
            }),
            Err(_) => {
                // COW full (or already broken): this snapshot is lost.
                snap.invalidate(state);
                return;
            }
        }
    }
    // Chunks neighbouring on both sides (as a sequential write allocates
    // them) go to the COW in one write.
    let mut at = 0;
    while at < staged.len() {
        let Some(offset) = state.store.chunk_offset(staged[at].new_chunk) else {
            snap.invalidate(state);
            return;
        };
        let mut count = 1;
        while let Some(next) = staged.get(at + count) {
            let follows = next.old_chunk == staged[at].old_chunk + count as u64
                && state.store.chunk_offset(next.new_chunk)
                    == Some(offset + count as u64 * snap.chunk_bytes);
            if !follows {
                break;
            }
            count += 1;
        }
        let from = (staged[at].old_chunk * snap.chunk_bytes - start) as usize;
        let data = &old[from..from + count * snap.chunk_bytes as usize];
        if snap.cow.write_all_at(data, offset).is_err() {
            snap.invalidate(state);
            return;
        }
        at += count;
    }
    if state.store.commit_batch(&staged).is_err() {
        snap.raise_event();
    }
}

/// `snapshot-origin`: reads pass through; writes copy out first.
pub(crate) struct OriginTarget {
    group: Arc<OriginGroup>,
    origin: Lower,
}

impl OriginTarget {
    /// A target over `origin`, joining its group of snapshots.
    pub(crate) fn new(registry: &SnapshotRegistry, origin: Lower) -> Self {
        Self {
            group: registry.group(origin.key()),
            origin,
        }
    }

    /// The origin's underlying device.
    pub(crate) fn origin(&self) -> &Lower {
        &self.origin
    }

    /// Read straight from the origin.
    pub(crate) fn read(&self, buf: &mut [u8], pos: u64) -> io::Result<()> {
        self.origin.read_exact_at(buf, pos)
    }

    /// Copy out to the snapshots, then write the origin.
    pub(crate) fn write(&self, data: &[u8], pos: u64) -> io::Result<()> {
        let _copy = self.group.write_lock();
        copy_out(&self.group, &self.origin, pos, data.len() as u64, None)?;
        self.origin.write_all_at(data, pos)
    }
}

/// `snapshot-merge`: the origin's device while the COW is copied back into it.
pub(crate) struct MergeTarget {
    core: Arc<SnapshotCore>,
    worker: Mutex<Option<(Arc<AtomicBool>, JoinHandle<()>)>>,
}

impl MergeTarget {
    /// Take over the snapshot state on the COW for merging.
    pub(crate) fn new(core: Arc<SnapshotCore>) -> Result<Self, String> {
        if core.kind == StoreKind::Transient {
            return Err("Merge target only supports persistent snapshots".into());
        }
        if !core.is_valid() {
            return Err("Snapshot is invalid: can't merge".into());
        }
        let others_merging = lock(&core.group.snapshots)
            .iter()
            .filter_map(Weak::upgrade)
            .any(|s| !Arc::ptr_eq(&s, &core) && s.merging.load(Ordering::Acquire));
        if others_merging {
            return Err("A snapshot is already merging.".into());
        }
        Ok(Self {
            core,
            worker: Mutex::new(None),
        })
    }

    /// The snapshot state being merged.
    pub(crate) fn core(&self) -> &Arc<SnapshotCore> {
        &self.core
    }

    /// Chunks not merged yet come from the COW.
    pub(crate) fn read(&self, buf: &mut [u8], pos: u64) -> io::Result<()> {
        if buf.is_empty() {
            return Ok(());
        }
        let core = &self.core;
        let _copy = core.group.read_lock();
        let mapping = core.mapping(pos, buf.len() as u64, false)?;
        core.read_mapped(buf, pos, &mapping)
    }

    /// Chunks not merged yet are written in the COW (the merge carries them
    /// over); the rest copy out to other snapshots and go to the origin.
    pub(crate) fn write(&self, data: &[u8], pos: u64) -> io::Result<()> {
        if data.is_empty() {
            return Ok(());
        }
        let core = &self.core;
        let _copy = core.group.write_lock();
        for Piece {
            chunk,
            at,
            within,
            range,
        } in core.pieces(pos, data.len())
        {
            let take = range.len();
            let piece = &data[range];
            let offset = {
                let state = lock(&core.state);
                state
                    .store
                    .lookup(chunk)
                    .and_then(|n| state.store.chunk_offset(n))
            };
            match offset {
                Some(offset) => core.cow.write_all_at(piece, offset + within)?,
                None => {
                    copy_out(&core.group, &core.origin, at, take as u64, Some(core))?;
                    core.origin.write_all_at(piece, at)?;
                }
            }
        }
        Ok(())
    }

    /// Start (or restart, after a suspend) copying back.
    pub(crate) fn start(&self, owner: &Arc<Device>) {
        self.core.activate(owner);
        self.core.merging.store(true, Ordering::Release);
        let mut worker = lock(&self.worker);
        if worker.is_some() {
            return;
        }
        let stop = Arc::new(AtomicBool::new(false));
        let core = self.core.clone();
        let flag = stop.clone();
        let handle = std::thread::Builder::new()
            .name("rdmd-merge".into())
            .spawn(move || merge_loop(&core, &flag));
        if let Ok(handle) = handle {
            *worker = Some((stop, handle));
        } else {
            lock(&self.core.state).merge_failed = true;
        }
    }

    /// Stop copying back (suspend, or the table goes away).
    pub(crate) fn stop(&self) {
        if let Some((stop, handle)) = lock(&self.worker).take() {
            stop.store(true, Ordering::Release);
            let _ = handle.join();
        }
    }
}

impl Drop for MergeTarget {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Merge a run at a time from the end of the store, as the kernel does:
/// copy it back, flush the origin, then drop its records.
fn merge_loop(core: &SnapshotCore, stop: &AtomicBool) {
    while !stop.load(Ordering::Acquire) {
        let _copy = core.group.write_lock();
        let mut state = lock(&core.state);
        let run = match state.store.prepare_merge() {
            Ok(Some(run)) => run,
            Ok(None) => return,
            Err(_) => {
                state.merge_failed = true;
                core.raise_event();
                return;
            }
        };
        let result = (|| -> io::Result<()> {
            let len = run.count * core.chunk_bytes;
            let mut data = vec![0u8; len as usize];
            let from = state
                .store
                .chunk_offset(run.first_new_chunk())
                .ok_or_else(eio)?;
            core.cow.read_exact_at(&mut data, from)?;
            let to = run.first_old_chunk() * core.chunk_bytes;
            let origin_bytes = core.origin.size_bytes()?;
            let inside = origin_bytes.saturating_sub(to).min(len) as usize;
            copy_out(&core.group, &core.origin, to, inside as u64, Some(core))?;
            core.origin.write_all_at(&data[..inside], to)?;
            core.origin.flush()?;
            state
                .store
                .commit_merge(run.count)
                .map_err(|e| io::Error::other(e.to_string()))
        })();
        if result.is_err() {
            state.merge_failed = true;
            core.raise_event();
            return;
        }
        drop(state);
        drop(_copy);
        // Let waiting I/O in between runs.
        std::thread::yield_now();
    }
}
