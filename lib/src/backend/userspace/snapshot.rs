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
//! Commits are batched as dm-snap-persistent.c batches them: a commit writes
//! the metadata area once for every exception copied since the last one, in
//! allocation order, as the kernel completes them; the data is durable before
//! the record, the record before the origin write that waits for it. A copy
//! alone in flight goes to the COW durably by itself (`O_DSYNC`, these bytes
//! alone) and its commit writes the areas durably, flushing nothing else: a
//! flush of the image file would write back the origin's and every other LV's
//! dirty pages too. When such a copy ends a metadata area, its write goes on
//! over the next area with zeros, which the commit filling the area would
//! otherwise write on its own. Concurrent origin copies leave their data in
//! memory for the commit that records them, which writes the batch's chunks
//! (neighbours on the COW, allocated one after another) in one durable write
//! and then its areas durably: two writes for the batch, these bytes alone,
//! where a flush of the image file would wait for every dirty page of the
//! origin too. Other concurrent copies (snapshot writes) are written plainly
//! and their commit flushes the device once, before its areas, one flush shared
//! by the batch. Whoever finds copied exceptions and no commit under way does
//! the commit (group commit): a lone request commits its own without a thread
//! hop, concurrent first writes to different chunks wait for the commit in
//! progress and then share the next one. A copy reads the origin before it
//! reserves its COW chunks, so a slow read holds back no other commit. An
//! origin write copying out to several snapshots keeps one for itself and hands
//! the others, with the origin bytes read once, to their snapshots' worker
//! threads, so the COW writes and flushes of all of them run side by side.
//!
//! Locking: each origin has an [`OriginGroup`] whose range locks give
//! per-chunk exclusion (ranges widened to the largest chunk of the group's
//! snapshots): everything that creates or consumes exceptions (origin and
//! snapshot writes, merge steps) holds its chunks exclusively, snapshot
//! reads that fall through to the origin hold theirs shared, so a reader
//! never sees an origin chunk mid-change and two writers never race for one
//! exception. A store's own mutex is only taken under a range lock (or
//! alone, for status and by its committer), never the other way round.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::thread::JoinHandle;

use crate::cow::{CowError, Exception, ExceptionStore, PersistentStore, TransientStore};
use crate::dm::StoreKind;
use crate::io::{AlignedBuf, BlockIo};

use super::engine::Device;
use super::export::{push_extent, Extent};
use super::lower::{DevKey, Lower};

fn eio() -> io::Error {
    io::Error::from_raw_os_error(libc::EIO)
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn wait<'a, T>(cv: &Condvar, guard: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
    cv.wait(guard).unwrap_or_else(|p| p.into_inner())
}

/// One held byte range of an origin.
struct Held {
    id: u64,
    start: u64,
    end: u64,
    exclusive: bool,
}

/// Byte ranges of one origin that requests are working on: a reader/writer
/// lock per range, so requests on different chunks never wait for each other.
#[derive(Default)]
struct RangeLocks {
    /// The last id handed out, and the ranges held now.
    held: Mutex<(u64, Vec<Held>)>,
    released: Condvar,
}

impl RangeLocks {
    fn lock(&self, start: u64, end: u64, exclusive: bool) -> RangeGuard<'_> {
        let mut held = lock(&self.held);
        while held
            .1
            .iter()
            .any(|h| h.start < end && start < h.end && (exclusive || h.exclusive))
        {
            held = wait(&self.released, held);
        }
        held.0 += 1;
        let id = held.0;
        held.1.push(Held {
            id,
            start,
            end,
            exclusive,
        });
        RangeGuard { locks: self, id }
    }
}

/// A held range; dropping it lets the waiters on overlapping ranges in.
struct RangeGuard<'a> {
    locks: &'a RangeLocks,
    id: u64,
}

impl Drop for RangeGuard<'_> {
    fn drop(&mut self) {
        let mut held = lock(&self.locks.held);
        held.1.retain(|h| h.id != self.id);
        drop(held);
        self.locks.released.notify_all();
    }
}

/// Every snapshot of one origin device, and the range locks that order copy-outs.
#[derive(Default)]
pub(crate) struct OriginGroup {
    ranges: RangeLocks,
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

    /// Bytes `pos..pos+len` widened to whole chunks of every snapshot of the group.
    fn span(&self, pos: u64, len: u64) -> (u64, u64) {
        let align = lock(&self.snapshots)
            .iter()
            .filter_map(Weak::upgrade)
            .map(|s| s.chunk_bytes)
            .max()
            .unwrap_or(1);
        let end = pos.saturating_add(len);
        (
            pos / align * align,
            end.div_ceil(align).saturating_mul(align),
        )
    }

    /// Exclusive hold of the chunks of bytes `pos..pos+len`.
    fn exclusive(&self, pos: u64, len: u64) -> RangeGuard<'_> {
        let (start, end) = self.span(pos, len);
        self.ranges.lock(start, end, true)
    }

    /// Shared hold of the chunks of bytes `pos..pos+len`.
    fn shared(&self, pos: u64, len: u64) -> RangeGuard<'_> {
        let (start, end) = self.span(pos, len);
        self.ranges.lock(start, end, false)
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
        let chunk_bytes = u64::from(store.chunk_size()) * 512;
        let shared = Arc::new(Shared {
            state: Mutex::new(SnapState {
                store,
                overflowed: false,
                merge_failed: false,
                copying: BTreeSet::new(),
                ready: Vec::new(),
                plain: BTreeSet::new(),
                unwritten: Vec::new(),
                jobs: VecDeque::new(),
                committing: false,
                closed: false,
            }),
            committed: Condvar::new(),
            work: Condvar::new(),
            owner: Mutex::new(Weak::new()),
        });
        let committer = {
            let shared = shared.clone();
            let cow = cow.clone();
            std::thread::Builder::new()
                .name("rdmd-commit".into())
                .spawn(move || committer_loop(&shared, &cow, chunk_bytes))
                .ok()
        };
        let core = Arc::new(SnapshotCore {
            group: group.clone(),
            origin,
            cow: cow.clone(),
            kind,
            chunk_bytes,
            shared,
            committer,
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
    /// Allocated COW chunks whose data is not in the COW yet.
    copying: BTreeSet<u64>,
    /// Exceptions whose data is in the COW, waiting for a commit.
    ready: Vec<Exception>,
    /// Chunks of `copying` and `ready` written without durability (see
    /// [`SnapState::write_mode`]): the commit that records any of them
    /// flushes the COW device before its areas.
    plain: BTreeSet<u64>,
    /// Origin copies in `ready` whose data is still only in memory: the
    /// commit that records them writes it first ([`WriteMode::deferred`]).
    unwritten: Vec<CopyJob>,
    /// Copies handed to the worker thread, not started yet.
    jobs: VecDeque<CopyJob>,
    /// A commit's disk writes are under way without the lock.
    committing: bool,
    /// The snapshot is going away: its committer ends.
    closed: bool,
}

impl SnapState {
    /// How the `allocated` chunks, just marked as copying, go to the COW:
    /// durably or not. A persistent store's copy that is alone (no other
    /// copy in flight, none waiting for a commit, no commit under way) goes
    /// durably: one write, durable by itself, and a commit of the areas
    /// alone, so no commit flushes the whole image file (the origin's and
    /// other LVs' dirty pages with it). One durable write apiece for copies
    /// with others in flight would cost a device flush (and, in new space,
    /// a journal commit) each, which at queue depth 32 over 4 KiB chunks
    /// and four snapshots measured 0.02 of the plain LV against 0.06. So an
    /// origin copy that can be `deferred` leaves its data in memory for the
    /// commit that records it, which writes the whole batch's chunks (next
    /// to each other on the COW, as allocated) in one durable write before
    /// its areas, flushing nothing else either; other copies are written
    /// plainly and share the flush of the commit that records them.
    ///
    /// A durable copy that ends a metadata area also zeroes the area after
    /// it in the same write (the chunks are neighbours on the COW), which
    /// the commit filling the area would otherwise do as a durable write of
    /// its own: at 4 KiB chunks a 1 MiB request fills an area, and that
    /// write, into new space, costs a journal commit of its own.
    fn write_mode(
        &mut self,
        kind: StoreKind,
        allocated: &[(Exception, u64)],
        deferred: bool,
    ) -> WriteMode {
        if kind == StoreKind::Transient {
            // Nothing is committed: no write needs to be durable.
            return WriteMode::PLAIN;
        }
        let alone =
            self.copying.len() == allocated.len() && self.ready.is_empty() && !self.committing;
        if alone {
            return WriteMode {
                durable: true,
                zero_after: allocated
                    .iter()
                    .map(|(e, _)| e.new_chunk)
                    .find(|&chunk| self.store.zeroes_area_after(chunk)),
                deferred: false,
            };
        }
        if deferred {
            return WriteMode::DEFERRED;
        }
        self.plain
            .extend(allocated.iter().map(|(e, _)| e.new_chunk));
        WriteMode::PLAIN
    }

    /// How many of `ready` may be committed now: those allocated before
    /// every chunk still being copied (the kernel completes exceptions in
    /// allocation order; a COW chunk's number is its allocation order).
    fn committable(&self) -> usize {
        let limit = self.copying.first().copied().unwrap_or(u64::MAX);
        self.ready.iter().filter(|e| e.new_chunk < limit).count()
    }
}

/// How a copy's new chunks go to the COW ([`SnapState::write_mode`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct WriteMode {
    /// Durable on return.
    durable: bool,
    /// The chunk whose (durable) write goes on over the metadata area right
    /// after it, with zeros ([`ExceptionStore::zeroes_area_after`]).
    zero_after: Option<u64>,
    /// Not written by the copy: the commit that records it writes it.
    deferred: bool,
}

impl WriteMode {
    /// A plain write, flushed by the commit that records it.
    const PLAIN: Self = Self {
        durable: false,
        zero_after: None,
        deferred: false,
    };
    /// Left to the commit that records it ([`SnapState::unwritten`]).
    const DEFERRED: Self = Self {
        durable: false,
        zero_after: None,
        deferred: true,
    };
}

/// Write the data of the `unwritten` copies a commit records, durably:
/// their chunks in COW order, each run of neighbours (a batch's chunks
/// were allocated one after another) in one write, these bytes alone.
fn write_unwritten(cow: &Lower, chunk_bytes: u64, unwritten: &[CopyJob]) -> Result<(), CowError> {
    let mut pieces: Vec<(u64, &[u8])> = Vec::new();
    for u in unwritten {
        for (at, count, offset) in runs(chunk_bytes, &u.allocated) {
            let from = (u.allocated[at].0.old_chunk * chunk_bytes - u.old.start) as usize;
            let to = from + count * chunk_bytes as usize;
            pieces.push((offset, &u.old.buf[from..to]));
        }
    }
    pieces.sort_unstable_by_key(|&(offset, _)| offset);
    let mut at = 0;
    while at < pieces.len() {
        let (offset, first) = pieces[at];
        let mut end = offset + first.len() as u64;
        let mut count = 1;
        while let Some(&(next, bytes)) = pieces.get(at + count) {
            if next != end {
                break;
            }
            end += bytes.len() as u64;
            count += 1;
        }
        let written = if count == 1 {
            cow.write_durable_at(first, offset)
        } else {
            let mut run = AlignedBuf::zeroed((end - offset) as usize);
            let mut filled = 0;
            for (_, bytes) in &pieces[at..at + count] {
                run[filled..filled + bytes.len()].copy_from_slice(bytes);
                filled += bytes.len();
            }
            cow.write_durable_at(&run, offset)
        };
        written.map_err(|e| CowError::io(format!("writing copied chunks at byte {offset}"), e))?;
        at += count;
    }
    Ok(())
}

/// Chunks an origin write allocated in one snapshot, for its worker thread
/// (or, deferred, its next commit) to write into the COW: the origin bytes
/// from `start` on, read once for every snapshot.
struct CopyJob {
    /// Shared with the origin write, which waits for these chunks' commit.
    allocated: Arc<Allocated>,
    old: Arc<OldBytes>,
    mode: WriteMode,
}

/// A snapshot's store with the exceptions on their way into it, shared with
/// its worker thread.
struct Shared {
    state: Mutex<SnapState>,
    /// A commit ended or the store was invalidated: waiters look again.
    committed: Condvar,
    /// A copy was handed over, or the snapshot is going away.
    work: Condvar,
    /// The device of the table that went live last, for events.
    owner: Mutex<Weak<Device>>,
}

impl Shared {
    fn raise_event(&self) {
        if let Some(owner) = lock(&self.owner).upgrade() {
            owner.raise_event();
        }
    }

    /// Invalidate the store: every waiter gives up, the device raises an event.
    fn invalidate(&self, state: &mut SnapState) {
        // A failed header write changes nothing: the in-memory store is invalid already.
        let _ = state.store.invalidate();
        state.copying.clear();
        state.ready.clear();
        state.plain.clear();
        state.unwritten.clear();
        state.jobs.clear();
        self.committed.notify_all();
        self.raise_event();
    }

    /// Commit every committable ready exception as one batch: stage the
    /// records under the lock, write them without it, publish them under it.
    fn commit_round<'a>(
        &'a self,
        cow: &Lower,
        chunk_bytes: u64,
        mut state: MutexGuard<'a, SnapState>,
    ) -> MutexGuard<'a, SnapState> {
        if state.committing {
            return state;
        }
        let limit = state.copying.first().copied().unwrap_or(u64::MAX);
        state.ready.sort_unstable_by_key(|e| e.new_chunk);
        let count = state.ready.partition_point(|e| e.new_chunk < limit);
        if count == 0 {
            return state;
        }
        let batch: Vec<Exception> = state.ready.drain(..count).collect();
        let mut plain = false;
        for e in &batch {
            plain |= state.plain.remove(&e.new_chunk);
        }
        // A copy's chunks are allocated together and become ready together,
        // so a deferred copy is in the batch whole or not at all.
        let (unwritten, later): (Vec<CopyJob>, Vec<CopyJob>) = std::mem::take(&mut state.unwritten)
            .into_iter()
            .partition(|u| {
                u.allocated
                    .first()
                    .is_some_and(|(e, _)| e.new_chunk < limit)
            });
        debug_assert!(unwritten
            .iter()
            .all(|u| u.allocated.iter().all(|(e, _)| e.new_chunk < limit)));
        state.unwritten = later;
        let staged = match state.store.stage_commit(&batch) {
            Ok(staged) => staged,
            Err(_) => {
                // The store invalidated itself (or was invalid already).
                self.invalidate(&mut state);
                return state;
            }
        };
        state.committing = true;
        drop(state);
        // A batch with a plainly written chunk flushes before its areas; one
        // written durably throughout makes the areas alone durable, and the
        // image file's other dirty pages stay where they are.
        let written = write_unwritten(cow, chunk_bytes, &unwritten).and_then(|()| {
            if plain {
                staged.write_to(cow)
            } else {
                staged.write_durably_to(cow)
            }
        });
        let mut state = lock(&self.state);
        state.committing = false;
        if state.store.finish_commit(&batch, written).is_err() {
            state.copying.clear();
            state.ready.clear();
            state.plain.clear();
            state.unwritten.clear();
            self.raise_event();
        }
        self.committed.notify_all();
        state
    }
}

/// A snapshot's worker: writes the copies handed to it into the COW and
/// commits them (with whatever else is ready), job after job.
fn committer_loop(shared: &Shared, cow: &Lower, chunk_bytes: u64) {
    let mut state = lock(&shared.state);
    loop {
        if let Some(job) = state.jobs.pop_front() {
            drop(state);
            let saved = save_chunks(cow, chunk_bytes, &job.allocated, &job.old, job.mode);
            state = lock(&shared.state);
            match saved {
                Ok(()) => mark_copied(&mut state, &job.allocated, job.mode),
                // As the kernel on a failed copy: the snapshot is lost.
                Err(_) => shared.invalidate(&mut state),
            }
            continue;
        }
        if !state.committing && state.committable() > 0 {
            state = shared.commit_round(cow, chunk_bytes, state);
            continue;
        }
        if state.closed {
            return;
        }
        state = wait(&shared.work, state);
    }
}

/// The data of `exceptions` is in the COW, written as `mode` says: they may be committed.
fn mark_copied(state: &mut SnapState, exceptions: &[(Exception, u64)], mode: WriteMode) {
    if !state.store.is_valid() {
        return;
    }
    if let Some(chunk) = mode.zero_after {
        state.store.area_zeroed_after(chunk);
    }
    for (e, _) in exceptions {
        state.copying.remove(&e.new_chunk);
        state.ready.push(*e);
    }
}

/// One snapshot's state: its exception store over the COW, shared by every
/// target loaded on that COW (a reload or a merge takes it over).
pub(crate) struct SnapshotCore {
    group: Arc<OriginGroup>,
    origin: Lower,
    cow: Lower,
    kind: StoreKind,
    chunk_bytes: u64,
    shared: Arc<Shared>,
    /// `None` when no thread could be had: waiters commit themselves.
    committer: Option<JoinHandle<()>>,
    active: AtomicBool,
    merging: AtomicBool,
}

impl Drop for SnapshotCore {
    fn drop(&mut self) {
        lock(&self.shared.state).closed = true;
        self.shared.work.notify_all();
        if let Some(handle) = self.committer.take() {
            // Never join from the committer itself (it may drop the last
            // reference to a device while raising an event).
            if handle.thread().id() != std::thread::current().id() {
                let _ = handle.join();
            }
        }
    }
}

/// Exceptions a request allocated, with the COW byte offset of each.
type Allocated = Vec<(Exception, u64)>;

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

    fn state(&self) -> MutexGuard<'_, SnapState> {
        lock(&self.shared.state)
    }

    /// Whether the store still holds a valid snapshot.
    pub(crate) fn is_valid(&self) -> bool {
        self.state().store.is_valid()
    }

    /// The table went live on `owner`: origin writes copy out from now on.
    pub(crate) fn activate(&self, owner: &Arc<Device>) {
        *lock(&self.shared.owner) = Arc::downgrade(owner);
        self.active.store(true, Ordering::Release);
    }

    /// The kernel's status text: usage, or `Invalid` / `Merge failed` / `Overflow`.
    pub(crate) fn status(&self) -> String {
        let state = self.state();
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

    /// Allocate a COW chunk for origin chunk `old_chunk`, marked as being copied.
    fn allocate(
        &self,
        state: &mut SnapState,
        old_chunk: u64,
    ) -> Result<(Exception, u64), CowError> {
        let new_chunk = state.store.allocate()?;
        let offset = state
            .store
            .chunk_offset(new_chunk)
            .ok_or(CowError::Invalidated)?;
        state.copying.insert(new_chunk);
        Ok((
            Exception {
                old_chunk,
                new_chunk,
            },
            offset,
        ))
    }

    /// The data of `exceptions` is in the COW, written as `mode` says; the
    /// caller commits them ([`Self::wait_committed`]).
    fn copied(&self, exceptions: &[(Exception, u64)], mode: WriteMode) {
        mark_copied(&mut self.state(), exceptions, mode);
    }

    /// Have the worker thread write `allocated` (from origin bytes `old`)
    /// into the COW and commit it; without a worker, do it here.
    fn hand_off(&self, allocated: &Arc<Allocated>, old: &Arc<OldBytes>, mode: WriteMode) {
        if self.committer.is_none() {
            match save_chunks(&self.cow, self.chunk_bytes, allocated, old, mode) {
                Ok(()) => self.copied(allocated, mode),
                Err(_) => self.shared.invalidate(&mut self.state()),
            }
            return;
        }
        if self.queue_copy(allocated, old, mode, |state, job| state.jobs.push_back(job)) {
            self.shared.work.notify_one();
        }
    }

    /// Put a copy of `allocated` (from origin bytes `old`) where `queue`
    /// says, unless the store is invalid already; whether it was queued.
    fn queue_copy(
        &self,
        allocated: &Arc<Allocated>,
        old: &Arc<OldBytes>,
        mode: WriteMode,
        queue: impl FnOnce(&mut SnapState, CopyJob),
    ) -> bool {
        let mut state = self.state();
        if !state.store.is_valid() {
            return false;
        }
        let job = CopyJob {
            allocated: Arc::clone(allocated),
            old: Arc::clone(old),
            mode,
        };
        queue(&mut state, job);
        true
    }

    /// Leave the copy of `allocated` (from origin bytes `old`) to the commit
    /// that records it; `on_worker`: wake the worker to commit it, as this
    /// thread has other snapshots to see to first.
    fn defer(&self, allocated: &Arc<Allocated>, old: &Arc<OldBytes>, on_worker: bool) {
        let queued = self.queue_copy(allocated, old, WriteMode::DEFERRED, |state, job| {
            mark_copied(state, &job.allocated, job.mode);
            state.unwritten.push(job);
        });
        if queued && on_worker && self.committer.is_some() {
            self.shared.work.notify_one();
        }
    }

    /// Wait until `exceptions` are committed; `false` if the store was
    /// invalidated first. With none under way, commit every ready exception
    /// here (theirs and any other request's): a lone request needs no
    /// thread hop, concurrent ones share the commit that follows the one
    /// they waited for.
    fn wait_committed(&self, exceptions: &[(Exception, u64)]) -> bool {
        let mut state = self.state();
        loop {
            if !state.store.is_valid() {
                return false;
            }
            if exceptions
                .iter()
                .all(|(e, _)| state.store.lookup(e.old_chunk) == Some(e.new_chunk))
            {
                return true;
            }
            if !state.committing && state.committable() > 0 {
                state = self.shared.commit_round(&self.cow, self.chunk_bytes, state);
                continue;
            }
            state = wait(&self.shared.committed, state);
        }
    }

    /// Wait until no commit is under way or queued (a merge step rewrites
    /// the area a commit would write).
    fn settle(&self) -> MutexGuard<'_, SnapState> {
        let mut state = self.state();
        while state.committing || !state.ready.is_empty() || !state.copying.is_empty() {
            if !state.committing && state.committable() > 0 {
                state = self.shared.commit_round(&self.cow, self.chunk_bytes, state);
                continue;
            }
            state = wait(&self.shared.committed, state);
        }
        state
    }

    /// How the snapshot's bytes `pos..pos+len` are allocated: chunks in
    /// the COW are data, the rest is whatever the origin has there.
    pub(crate) fn allocation(&self, pos: u64, len: u64) -> io::Result<Vec<Extent>> {
        if len == 0 {
            return Ok(Vec::new());
        }
        let mapping = {
            let _range = self.group.shared(pos, len);
            self.mapping(pos, len, true)?
        };
        let mut runs = Vec::new();
        // (saved in the COW, start, length) of pieces alike in a row.
        let mut run: Option<(bool, u64, u64)> = None;
        let flush = |run: (bool, u64, u64), runs: &mut Vec<Extent>| -> io::Result<()> {
            if run.0 {
                push_extent(runs, Extent::data(run.2));
            } else {
                for part in self.origin.allocation(run.1, run.2)? {
                    push_extent(runs, part);
                }
            }
            Ok(())
        };
        let len_usize = usize::try_from(len).map_err(|_| eio())?;
        for (piece, saved) in self.pieces(pos, len_usize).zip(&mapping) {
            let saved = saved.is_some();
            let take = piece.range.len() as u64;
            match &mut run {
                Some((s, _, n)) if *s == saved => *n += take,
                _ => {
                    if let Some(prev) = run.take() {
                        flush(prev, &mut runs)?;
                    }
                    run = Some((saved, piece.at, take));
                }
            }
        }
        if let Some(last) = run {
            flush(last, &mut runs)?;
        }
        Ok(runs)
    }

    /// Read `buf` at `pos` of the snapshot's view.
    pub(crate) fn read(&self, buf: &mut [u8], pos: u64) -> io::Result<()> {
        if buf.is_empty() {
            return Ok(());
        }
        let _range = self.group.shared(pos, buf.len() as u64);
        let mapping = self.mapping(pos, buf.len() as u64, true)?;
        self.read_mapped(buf, pos, &mapping)
    }

    /// Where each chunk of bytes `pos..pos+len` is: `Some(COW offset)` or the
    /// origin. `require_valid` fails it for an invalid store, as snapshot I/O does.
    fn mapping(&self, pos: u64, len: u64, require_valid: bool) -> io::Result<Vec<Option<u64>>> {
        let state = self.state();
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
        let _range = self.group.exclusive(pos, data.len() as u64);
        let origin_bytes = self.origin.size_bytes()?;
        let mut allocated: Allocated = Vec::new();
        let result = self.write_pieces(data, pos, origin_bytes, &mut allocated);
        if !allocated.is_empty() {
            // Every allocated chunk is in the COW by now (a failed copy
            // invalidated the store), whatever else failed.
            self.copied(&allocated, WriteMode::PLAIN);
            if !self.wait_committed(&allocated) {
                return Err(eio());
            }
        }
        result
    }

    /// The pieces of a snapshot write: into the chunk already saved, else
    /// into a new chunk (recorded in `allocated`, not committed yet).
    fn write_pieces(
        &self,
        data: &[u8],
        pos: u64,
        origin_bytes: u64,
        allocated: &mut Allocated,
    ) -> io::Result<()> {
        for Piece {
            chunk,
            within,
            range,
            ..
        } in self.pieces(pos, data.len())
        {
            let take = range.len();
            let piece = &data[range];
            let (saved, fresh) = {
                let mut state = self.state();
                if !state.store.is_valid() || state.overflowed {
                    return Err(eio());
                }
                match state
                    .store
                    .lookup(chunk)
                    .and_then(|new| state.store.chunk_offset(new))
                {
                    Some(offset) => (Some(offset), None),
                    None => match self.allocate(&mut state, chunk) {
                        Ok(fresh) => {
                            let mode = state.write_mode(self.kind, &[fresh], false);
                            (None, Some((fresh, mode)))
                        }
                        Err(CowError::Full { .. })
                            if self.kind == StoreKind::PersistentOverflow =>
                        {
                            state.overflowed = true;
                            return Err(eio());
                        }
                        Err(_) => {
                            self.shared.invalidate(&mut state);
                            return Err(eio());
                        }
                    },
                }
            };
            if let Some(offset) = saved {
                self.cow.write_all_at(piece, offset + within)?;
                continue;
            }
            let Some(((exception, offset), mode)) = fresh else {
                continue;
            };
            allocated.push((exception, offset));
            // A partial write keeps the rest of the chunk's old content: the
            // chunk goes to the COW whole, already carrying the new bytes, so
            // it is committed with its post-write content or not at all.
            // The area after the chunk, when it is to be zeroed, rides along.
            let chunk_len = self.chunk_bytes as usize;
            let zeroed = mode.zero_after.map_or(1, |_| 2);
            let mut whole = AlignedBuf::zeroed(zeroed * chunk_len);
            let copied = (|| {
                if take != chunk_len {
                    read_clipped(
                        &self.origin,
                        &mut whole[..chunk_len],
                        chunk * self.chunk_bytes,
                        origin_bytes,
                    )?;
                }
                whole[within as usize..within as usize + take].copy_from_slice(piece);
                write_chunks(&self.cow, &whole, offset, mode.durable)
            })();
            if copied.is_err() {
                self.shared.invalidate(&mut self.state());
                return Err(eio());
            }
            if let Some(chunk) = mode.zero_after {
                self.state().store.area_zeroed_after(chunk);
            }
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
/// origin bytes `pos..pos+len` it has not saved yet, and wait for their
/// commits. The caller holds those bytes' range exclusively and writes the
/// origin afterwards.
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
    // The chunks each snapshot lacks. The caller holds their range
    // exclusively, so they stay lacking until this copy is committed.
    let mut needs: Vec<(&SnapshotCore, Vec<u64>)> = Vec::new();
    for snap in &snapshots {
        let state = snap.state();
        if !state.store.is_valid() {
            continue;
        }
        let missing: Vec<u64> = snap
            .chunks(pos, len)
            .filter(|&chunk| state.store.lookup(chunk).is_none())
            .collect();
        if !missing.is_empty() {
            needs.push((snap, missing));
        }
    }
    if needs.is_empty() {
        return Ok(());
    }
    // Read the origin once, over the union of every needed chunk, and only
    // then reserve COW chunks: commits follow allocation order, so a chunk
    // reserved before a slow origin read would hold back the commit of
    // every chunk reserved after it by faster requests.
    let start = needs
        .iter()
        .map(|(s, m)| m[0] * s.chunk_bytes)
        .min()
        .unwrap_or(pos);
    let end = needs
        .iter()
        .map(|(s, m)| (m[m.len() - 1] + 1) * s.chunk_bytes)
        .max()
        .unwrap_or(pos + len);
    // A chunk of zeros after the bytes, for a write that zeroes an area
    // with them (known only once the chunks are reserved).
    let spare = needs.iter().map(|(s, _)| s.chunk_bytes).max().unwrap_or(0);
    let len = (end - start) as usize;
    // Aligned: page-sized pieces of it go to the COW without a partial page.
    let mut buf = AlignedBuf::zeroed(len + spare as usize);
    let read = origin
        .size_bytes()
        .and_then(|origin_bytes| read_clipped(origin, &mut buf[..len], start, origin_bytes));
    if let Err(e) = read {
        // As the kernel on a failed copy: those snapshots are lost.
        for (snap, _) in &needs {
            snap.shared.invalidate(&mut snap.state());
        }
        return Err(e);
    }
    let mut plans: Vec<(&SnapshotCore, Arc<Allocated>, WriteMode)> = Vec::new();
    for (snap, missing) in needs {
        let mut state = snap.state();
        if !state.store.is_valid() {
            continue;
        }
        let mut allocated = Vec::new();
        for chunk in missing {
            match snap.allocate(&mut state, chunk) {
                Ok(fresh) => allocated.push(fresh),
                Err(_) => {
                    // COW full (or already broken): this snapshot is lost.
                    snap.shared.invalidate(&mut state);
                    allocated.clear();
                    break;
                }
            }
        }
        if !allocated.is_empty() {
            let mode = state.write_mode(snap.kind, &allocated, true);
            plans.push((snap, Arc::new(allocated), mode));
        }
    }
    let old = Arc::new(OldBytes { buf, start, len });
    // A deferred copy goes to its snapshot's next commit now (committed on
    // its worker, but the last one's here). Of the others every one but
    // the last is written on its snapshot's worker, and this thread writes
    // the last one's meanwhile.
    let (deferred, written): (Vec<_>, Vec<_>) =
        plans.iter().partition(|(_, _, mode)| mode.deferred);
    for (i, (snap, allocated, _)) in deferred.iter().enumerate() {
        snap.defer(
            allocated,
            &old,
            i + 1 < deferred.len() || !written.is_empty(),
        );
    }
    if let Some(((mine, my_chunks, mode), others)) = written.split_last() {
        for (snap, allocated, mode) in others {
            snap.hand_off(allocated, &old, *mode);
        }
        match save_chunks(&mine.cow, mine.chunk_bytes, my_chunks, &old, *mode) {
            Ok(()) => mine.copied(my_chunks, *mode),
            Err(_) => mine.shared.invalidate(&mut mine.state()),
        }
    }
    // The origin write waits for every commit. An invalidated snapshot
    // lets it go on.
    for (snap, allocated, _) in plans.iter().rev() {
        snap.wait_committed(allocated);
    }
    Ok(())
}

/// Origin bytes read once for every snapshot's copy: `len` bytes from
/// origin byte `start` on, then zeros (a chunk of them when a copy zeroes a
/// metadata area with its write, [`WriteMode::zero_after`]).
struct OldBytes {
    buf: AlignedBuf,
    start: u64,
    len: usize,
}

/// Write the origin chunks of `allocated` (their old bytes are in `old`)
/// into `cow`, as `mode` says; chunks neighbouring on both sides (as a
/// sequential write allocates them) go in one write, and so does the
/// metadata area after `mode.zero_after`, zeroed.
fn save_chunks(
    cow: &Lower,
    chunk_bytes: u64,
    allocated: &[(Exception, u64)],
    old: &OldBytes,
    mode: WriteMode,
) -> io::Result<()> {
    for (at, count, offset) in runs(chunk_bytes, allocated) {
        let from = (allocated[at].0.old_chunk * chunk_bytes - old.start) as usize;
        let to = from + count * chunk_bytes as usize;
        let last = allocated[at + count - 1].0.new_chunk;
        if mode.zero_after == Some(last) {
            let with_zeros = to + chunk_bytes as usize;
            if to == old.len && with_zeros <= old.buf.len() {
                write_chunks(cow, &old.buf[from..with_zeros], offset, mode.durable)?;
            } else {
                // Not the end of the bytes read (a chunk inside the request
                // ends an area): join the run and the zeros in a buffer.
                let mut joined = AlignedBuf::zeroed(with_zeros - from);
                joined[..to - from].copy_from_slice(&old.buf[from..to]);
                write_chunks(cow, &joined, offset, mode.durable)?;
            }
        } else {
            write_chunks(cow, &old.buf[from..to], offset, mode.durable)?;
        }
    }
    Ok(())
}

/// The runs `(at, count, offset)` of `allocated[at..at + count]` that
/// neighbour each other both on the origin and on the COW (as a sequential
/// write allocates them), `offset` the COW byte of the first.
fn runs(
    chunk_bytes: u64,
    allocated: &[(Exception, u64)],
) -> impl Iterator<Item = (usize, usize, u64)> + '_ {
    let mut at = 0;
    std::iter::from_fn(move || {
        let &(first, offset) = allocated.get(at)?;
        let mut count = 1;
        while let Some((next, next_offset)) = allocated.get(at + count) {
            let follows = next.old_chunk == first.old_chunk + count as u64
                && *next_offset == offset + count as u64 * chunk_bytes;
            if !follows {
                break;
            }
            count += 1;
        }
        let run = (at, count, offset);
        at += count;
        Some(run)
    })
}

/// Write new COW chunks, `durable` on return or not
/// ([`SnapState::write_mode`]). Through the page cache either way: on ext4
/// into new blocks, `O_DIRECT` copy-out measured 0.6-0.75x of buffered on
/// one day (worst with four snapshots' COWs written at once) and even on
/// another, never ahead.
fn write_chunks(cow: &Lower, data: &[u8], offset: u64, durable: bool) -> io::Result<()> {
    if durable {
        cow.write_durable_at(data, offset)
    } else {
        cow.write_all_at(data, offset)
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
        let _range = self.group.exclusive(pos, data.len() as u64);
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
        let _range = core.group.shared(pos, buf.len() as u64);
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
        let _range = core.group.exclusive(pos, data.len() as u64);
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
                let state = core.state();
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
            self.core.state().merge_failed = true;
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
        let run = {
            let mut state = core.settle();
            match state.store.prepare_merge() {
                Ok(Some(run)) => run,
                Ok(None) => return,
                Err(_) => {
                    state.merge_failed = true;
                    core.shared.raise_event();
                    return;
                }
            }
        };
        // Only the merge consumes this store's exceptions, so the run found
        // stays the next one while we wait for its chunks.
        let len = run.count * core.chunk_bytes;
        let to = run.first_old_chunk() * core.chunk_bytes;
        let range = core.group.exclusive(to, len);
        let mut state = core.state();
        let result = (|| -> io::Result<()> {
            let mut data = vec![0u8; len as usize];
            let from = state
                .store
                .chunk_offset(run.first_new_chunk())
                .ok_or_else(eio)?;
            core.cow.read_exact_at(&mut data, from)?;
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
            core.shared.raise_event();
            return;
        }
        drop(state);
        drop(range);
        // Let waiting I/O in between runs.
        std::thread::yield_now();
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::backend::userspace::export::DeviceSet;
    use crate::backend::userspace::Engine;
    use crate::dm::parse_table;
    use crate::ops::{self, DeviceSpec, OriginSpec, SnapshotSpec};

    const MIB: u64 = 1 << 20;

    fn spec(name: &str, path: &Path, bytes: u64) -> DeviceSpec {
        DeviceSpec {
            name: name.into(),
            uuid: format!("LVM-{name}"),
            table: parse_table(&format!("0 {} linear {} 0", bytes / 512, path.display())).unwrap(),
            read_only: false,
        }
    }

    /// Eight threads write every chunk of the origin for the first time, at
    /// once, under two snapshots of different chunk sizes: each snapshot keeps
    /// the old bytes, live and after a reload of its COW from disk.
    #[test]
    fn concurrent_first_writes_keep_every_snapshot() {
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::new(&dir.path().join("mapper"));
        let base = dir.path().join("base.img");
        let old: Vec<u8> = (0..4 * MIB).map(|i| (i / 4096) as u8 ^ 0x5a).collect();
        std::fs::write(&base, &old).unwrap();
        let origin = OriginSpec {
            top: spec("vg-base", &base, 4 * MIB),
            real_name: "vg-base-real".into(),
            real_uuid: "LVM-base-real".into(),
        };
        let mut cows = Vec::new();
        for (i, chunk) in [8u32, 128].into_iter().enumerate() {
            let cow = dir.path().join(format!("cow{i}.img"));
            std::fs::File::create(&cow)
                .unwrap()
                .set_len(6 * MIB)
                .unwrap();
            let snap = SnapshotSpec {
                name: format!("vg-s{i}"),
                uuid: format!("LVM-s{i}"),
                read_only: false,
                cow: spec(&format!("vg-s{i}-cow"), &cow, 6 * MIB),
                store: StoreKind::Persistent,
                chunk_sectors: chunk,
            };
            ops::add_snapshot(&engine, &origin, &snap, None).unwrap();
            cows.push(cow);
        }
        let dev = DeviceSet::open(&engine, "vg-base", true).unwrap();
        std::thread::scope(|scope| {
            for t in 0..8u64 {
                let dev = dev.clone();
                scope.spawn(move || {
                    // Thread t writes every eighth 4 KiB block, 4 KiB at a time.
                    for block in (t..1024).step_by(8) {
                        dev.write_at(&[t as u8 + 1; 4096], block * 4096).unwrap();
                    }
                });
            }
        });
        dev.flush().unwrap();
        let mut now = vec![0u8; 4 * MIB as usize];
        dev.read_at(&mut now, 0).unwrap();
        for (block, bytes) in now.chunks(4096).enumerate() {
            assert!(
                bytes.iter().all(|&b| b == (block % 8) as u8 + 1),
                "origin block {block}"
            );
        }
        for i in 0..2 {
            let snap = DeviceSet::open(&engine, &format!("vg-s{i}"), false).unwrap();
            let mut kept = vec![0u8; 4 * MIB as usize];
            snap.read_at(&mut kept, 0).unwrap();
            assert!(kept == old, "snapshot {i} keeps the old bytes");
        }
        for (i, cow) in cows.iter().enumerate() {
            let disk = crate::io::FileDisk::open_read_only(cow).unwrap();
            let store = PersistentStore::load(disk).unwrap();
            let chunk_bytes = u64::from(store.chunk_size()) * 512;
            assert_eq!(store.exception_count(), 4 * MIB / chunk_bytes, "COW {i}");
            let cow_bytes = std::fs::read(cow).unwrap();
            for old_chunk in 0..4 * MIB / chunk_bytes {
                let at = store
                    .chunk_offset(store.lookup(old_chunk).unwrap())
                    .unwrap() as usize;
                let from = (old_chunk * chunk_bytes) as usize;
                assert!(
                    cow_bytes[at..at + chunk_bytes as usize]
                        == old[from..from + chunk_bytes as usize],
                    "COW {i} chunk {old_chunk} on disk"
                );
            }
        }
    }

    /// Block status through the engine: the holes of a sparse origin image,
    /// and a snapshot's chunks saved in its COW as data.
    #[test]
    fn allocation_follows_image_holes_and_saved_chunks() {
        use crate::backend::userspace::export::Extent;
        use std::os::unix::fs::FileExt;
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::new(&dir.path().join("mapper"));
        let base = dir.path().join("base.img");
        let file = std::fs::File::create(&base).unwrap();
        file.set_len(4 * MIB).unwrap();
        file.write_all_at(&[1; 65536], MIB).unwrap();
        drop(file);
        let origin = OriginSpec {
            top: spec("vg-base", &base, 4 * MIB),
            real_name: "vg-base-real".into(),
            real_uuid: "LVM-base-real".into(),
        };
        let cow = dir.path().join("cow.img");
        std::fs::File::create(&cow)
            .unwrap()
            .set_len(2 * MIB)
            .unwrap();
        let snap = SnapshotSpec {
            name: "vg-s".into(),
            uuid: "LVM-s".into(),
            read_only: false,
            cow: spec("vg-s-cow", &cow, 2 * MIB),
            store: StoreKind::Persistent,
            chunk_sectors: 8,
        };
        ops::add_snapshot(&engine, &origin, &snap, None).unwrap();
        let dev = DeviceSet::open(&engine, "vg-base", true).unwrap();
        dev.write_at(&[2; 4096], 3 * MIB).unwrap();
        let expected = vec![
            Extent::hole(MIB),
            Extent::data(65536),
            Extent::hole(2 * MIB - 65536),
            Extent::data(4096),
            Extent::hole(MIB - 4096),
        ];
        assert_eq!(dev.allocation(0, 4 * MIB).unwrap(), expected);
        // The snapshot: chunk 768 is saved in the COW (data, though a hole
        // of the origin then), the rest is the origin's.
        let snap = DeviceSet::open(&engine, "vg-s", false).unwrap();
        assert_eq!(snap.allocation(0, 4 * MIB).unwrap(), expected);
        assert_eq!(
            snap.allocation(3 * MIB, 8192).unwrap(),
            [Extent::data(4096), Extent::hole(4096)]
        );
    }
}
