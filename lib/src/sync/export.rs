//! Export: which chunks go into a stream (OLD's exception list, or every
//! chunk), and where their bytes are read (NEW's snapshot device, so the
//! stream is the volume as of NEW whatever the origin takes meanwhile).
//!
//! Everything is read through the devices: the snapshot device for data and
//! the `-cow` device for the exception list, the backend's own nodes (the
//! kernel's `/dev/mapper`, the engine's mapper files). Never the PV behind a
//! live table.

use std::io::Write;
use std::path::Path;
use std::sync::mpsc;

use crate::backend::{Backend, BackendError, TableSlot};
use crate::cow::{ExceptionStore, PersistentStore};
use crate::dm::{SnapshotStatus, StoreKind, Target};
use crate::io::{BlockIo, FileDisk};
use crate::lvm2::model::Lv;
use crate::names::{dm_name, DmLayer};
use crate::ops::snapshots::{lv_extents, snapshot_of};
use crate::ops::volumes::OpenVg;

use super::error::SyncError;
use super::format::{
    packed_len, packed_slots, seal_packed, SnapshotIdentity, SourceVolume, StreamHeader,
    StreamKind, StreamWriter, Trailer, RECORD_HEAD_LEN,
};
use super::progress::{RoundProgress, RoundState};

/// Records are read, sealed and written in batches of up to this many data bytes.
const BATCH_BYTES: usize = 4 << 20;
/// Batches in flight between the reading thread and the writing one.
const BATCHES_IN_FLIGHT: usize = 3;
/// Most data slots in one vectored read (the kernel's `IOV_MAX`).
const MAX_SLOTS: usize = 1024;
/// Full streams use chunks of at least this size (overhead 16 bytes per chunk).
const FULL_CHUNK_BYTES: u32 = 64 << 10;

/// Where a plan reads NEW: a device or image file (vectored reads straight
/// into the stream's record layout), or any block device in memory.
enum View {
    File(FileDisk),
    Other(Box<dyn BlockIo>),
}

/// A stream ready to be written: its header, its chunks, and the device the data is read from.
pub struct ExportPlan {
    header: StreamHeader,
    chunks: Vec<u64>,
    view: View,
}

impl std::fmt::Debug for ExportPlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExportPlan")
            .field("header", &self.header)
            .field("chunks", &self.chunks.len())
            .finish()
    }
}

impl ExportPlan {
    /// A plan from its parts; `chunks` ascending, each below the volume's chunk count.
    pub fn new(header: StreamHeader, chunks: Vec<u64>, view: Box<dyn BlockIo>) -> Self {
        Self::with_view(header, chunks, View::Other(view))
    }

    fn from_file(header: StreamHeader, chunks: Vec<u64>, view: FileDisk) -> Self {
        Self::with_view(header, chunks, View::File(view))
    }

    fn with_view(mut header: StreamHeader, mut chunks: Vec<u64>, view: View) -> Self {
        chunks.sort_unstable();
        chunks.dedup();
        header.records = chunks.len() as u64;
        header.data_bytes = chunks.iter().map(|&c| u64::from(header.chunk_len(c))).sum();
        Self {
            header,
            chunks,
            view,
        }
    }

    /// The header the stream will carry.
    pub fn header(&self) -> &StreamHeader {
        &self.header
    }

    /// Only the chunks from `first` on: the rest of an interrupted round.
    pub fn starting_at(self, first: u64) -> Self {
        let mut header = self.header;
        header.start_chunk = first.min(header.chunk_count());
        let chunks = self.chunks.into_iter().filter(|&c| c >= first).collect();
        Self::with_view(header, chunks, self.view)
    }

    /// The rest of the round `progress` (a target's progress file) records as
    /// interrupted: only the chunks the target does not hold yet. Refused
    /// when the file is of another round.
    pub fn resuming(self, progress: &RoundProgress, what: &str) -> Result<Self, SyncError> {
        // The target still holds this round's OLD: nothing of the round reached it yet.
        let not_started = progress.state == RoundState::Done
            && self.header.kind == StreamKind::Incremental
            && progress.source == self.header.source
            && progress.new == self.header.old
            && !progress.same_stream(&self.header);
        if not_started {
            return Ok(self);
        }
        if !progress.same_stream(&self.header) {
            return Err(SyncError::CannotResume {
                target: what.into(),
                reason: format!(
                    "it records the {} round of {}/{} from {} to {}, this export is the {} round from {} to {}",
                    progress.kind.as_str(),
                    progress.source.vg_name,
                    progress.source.lv_name,
                    progress.old.describe(),
                    progress.new.describe(),
                    self.header.kind.as_str(),
                    self.header.old.describe(),
                    self.header.new.describe()
                ),
            });
        }
        let next = match progress.state {
            RoundState::Applying => progress.next_chunk,
            // Applied whole already: the rest is empty.
            RoundState::Done => self.header.chunk_count(),
        };
        Ok(self.starting_at(next))
    }

    /// Write the stream to `out`, calling `progress` with the data bytes done so far.
    ///
    /// A second thread reads each batch of chunks straight into the record
    /// layout (one vectored read per run of consecutive chunks) and fills in
    /// the record heads while this one hashes and writes the batch before:
    /// each chunk is read once, copied nowhere, and written once.
    pub fn write_to<W: Write>(
        &self,
        out: W,
        progress: &mut dyn FnMut(u64),
    ) -> Result<Trailer, SyncError> {
        let mut writer = StreamWriter::new(out, self.header.clone())?;
        let batches = self.batches();
        std::thread::scope(|scope| -> Result<(), SyncError> {
            let (full_tx, full_rx) = mpsc::sync_channel(BATCHES_IN_FLIGHT - 1);
            let (empty_tx, empty_rx) = mpsc::channel::<Vec<u8>>();
            for _ in 0..BATCHES_IN_FLIGHT {
                let _ = empty_tx.send(Vec::new());
            }
            let batches_ref = &batches;
            scope.spawn(move || {
                for range in batches_ref {
                    let Ok(mut buf) = empty_rx.recv() else { return };
                    let chunks = &self.chunks[range.clone()];
                    let sealed = self.read_packed(chunks, &mut buf).map(|()| {
                        seal_packed(&self.header, chunks, &mut buf);
                        (range.clone(), buf)
                    });
                    let failed = sealed.is_err();
                    if full_tx.send(sealed).is_err() || failed {
                        return;
                    }
                }
            });
            let mut done = 0u64;
            for sealed in full_rx {
                let (range, buf) = sealed?;
                let chunks = &self.chunks[range];
                writer.write_sealed(chunks, &buf)?;
                done += (buf.len() - RECORD_HEAD_LEN * chunks.len()) as u64;
                progress(done);
                let _ = empty_tx.send(buf);
            }
            Ok(())
        })?;
        Ok(writer.finish()?.0)
    }

    /// The chunk list cut into batches of up to [`BATCH_BYTES`] data and [`MAX_SLOTS`] records.
    fn batches(&self) -> Vec<std::ops::Range<usize>> {
        let per = (BATCH_BYTES / self.header.chunk_bytes as usize).clamp(1, MAX_SLOTS);
        (0..self.chunks.len())
            .step_by(per)
            .map(|i| i..(i + per).min(self.chunks.len()))
            .collect()
    }

    /// Read `chunks` from NEW into the data slots of `buf`, laid out as a packed buffer.
    fn read_packed(&self, chunks: &[u64], buf: &mut Vec<u8>) -> Result<(), SyncError> {
        buf.resize(packed_len(&self.header, chunks), 0);
        let slots: Vec<(usize, usize)> = packed_slots(&self.header, chunks).collect();
        let chunk_bytes = u64::from(self.header.chunk_bytes);
        let mut i = 0;
        while i < chunks.len() {
            // A run of consecutive chunks is one request.
            let mut n = 1;
            while i + n < chunks.len() && chunks[i + n] == chunks[i] + n as u64 {
                n += 1;
            }
            let start = chunks[i] * chunk_bytes;
            let run = &slots[i..i + n];
            let read = match &self.view {
                View::File(disk) => read_slots(disk.file(), buf, run, start),
                View::Other(disk) => run.iter().try_fold(start, |at, &(slot, len)| {
                    disk.read_exact_at(&mut buf[slot..slot + len], at)
                        .map(|()| at + len as u64)
                }),
            };
            read.map(drop).map_err(|e| {
                SyncError::io(
                    format!("reading chunk {} at byte {start} of NEW", chunks[i]),
                    e,
                )
            })?;
            i += n;
        }
        Ok(())
    }
}

/// Fill the slots `(offset, len)` of `buf` from consecutive bytes of `file`
/// at `start`, with vectored reads (repeated while the device returns less).
fn read_slots(
    file: &std::fs::File,
    buf: &mut [u8],
    slots: &[(usize, usize)],
    start: u64,
) -> std::io::Result<u64> {
    let total: usize = slots.iter().map(|s| s.1).sum();
    let mut done = 0usize;
    while done < total {
        let mut iov = Vec::with_capacity(slots.len());
        let mut rest: &mut [u8] = buf;
        let mut base = 0usize;
        let mut skip = done;
        for &(at, len) in slots {
            let tail = std::mem::take(&mut rest);
            let (_, tail) = tail.split_at_mut(at - base);
            let (slot, tail) = tail.split_at_mut(len);
            rest = tail;
            base = at + len;
            if skip >= len {
                skip -= len;
                continue;
            }
            iov.push(std::io::IoSliceMut::new(&mut slot[skip..]));
            skip = 0;
        }
        let offset = (start + done as u64) as libc::off_t;
        match nix::sys::uio::preadv(file, &mut iov, offset) {
            Ok(0) => return Err(std::io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => done += n,
            Err(nix::errno::Errno::EINTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(start + total as u64)
}

/// An incremental plan from a COW image and an origin image, offline
/// (`rcow cat`'s inputs): the chunks OLD's store lists, read from the origin
/// image as it is now.
pub fn offline_plan(cow: &Path, origin: &Path) -> Result<ExportPlan, SyncError> {
    let open = |p: &Path| {
        FileDisk::open_read_only(p)
            .map_err(|e| SyncError::io(format!("opening {}", p.display()), e))
    };
    let origin_disk = open(origin)?;
    let origin_bytes = origin_disk
        .size_bytes()
        .map_err(|e| SyncError::io(format!("{}: size", origin.display()), e))?;
    let store = load_store(open(cow)?, &cow.display().to_string())?;
    let chunk_bytes = store.chunk_size() * 512;
    let header = StreamHeader {
        kind: StreamKind::Incremental,
        chunk_bytes,
        origin_bytes,
        start_chunk: 0,
        records: 0,
        data_bytes: 0,
        source: SourceVolume {
            lv_name: origin.display().to_string(),
            ..SourceVolume::default()
        },
        old: SnapshotIdentity {
            name: cow.display().to_string(),
            ..SnapshotIdentity::default()
        },
        new: SnapshotIdentity {
            name: origin.display().to_string(),
            ..SnapshotIdentity::default()
        },
    };
    let chunks = listed_chunks(&store, &header, &cow.display().to_string())?;
    Ok(ExportPlan::from_file(header, chunks, origin_disk))
}

/// An incremental plan on a live VG: the chunks in `old`'s exception list,
/// read through `new`'s snapshot device. `new` must already exist (taken
/// after `old`); its list is read after, so every chunk changed between the
/// two is in it.
pub fn incremental_plan(
    backend: &dyn Backend,
    open: &OpenVg,
    old: &str,
    new: &str,
) -> Result<ExportPlan, SyncError> {
    let vg = &open.vg;
    let old_snap = usable_snapshot(backend, open, old)?;
    let new_snap = usable_snapshot(backend, open, new)?;
    if old_snap.origin != new_snap.origin {
        return Err(SyncError::OtherOrigin {
            what: format!(
                "{}/{old} is a snapshot of {}, {}/{new} of {}",
                vg.name, old_snap.origin, vg.name, new_snap.origin
            ),
        });
    }
    if old_snap.store == StoreKind::Transient {
        return Err(SyncError::Transient {
            vg: vg.name.clone(),
            lv: old.into(),
        });
    }
    let (old_time, new_time) = (
        old_snap.identity.creation_time,
        new_snap.identity.creation_time,
    );
    if old_time != 0 && new_time != 0 && new_time < old_time {
        return Err(SyncError::WrongOrder {
            old: format!("{}/{old}", vg.name),
            new: format!("{}/{new}", vg.name),
        });
    }
    let origin_bytes = origin_bytes(open, &old_snap.origin);
    let header = StreamHeader {
        kind: StreamKind::Incremental,
        chunk_bytes: old_snap.chunk_sectors as u32 * 512,
        origin_bytes,
        start_chunk: 0,
        records: 0,
        data_bytes: 0,
        source: source_volume(open, &old_snap.origin),
        old: old_snap.identity.clone(),
        new: new_snap.identity.clone(),
    };
    let view = open_node(backend, &dm_name(&vg.name, new, DmLayer::Top)?, false)?;
    check_view_size(&view, origin_bytes, &format!("{}/{new}", vg.name))?;
    // The list is read last: NEW exists by now, so it holds every chunk changed before NEW.
    let what = format!("{}/{old}", vg.name);
    let cow = open_node(backend, &dm_name(&vg.name, old, DmLayer::Cow)?, true)?;
    let store = load_store(AreaPrefetch::new(cow, old_snap.chunk_sectors)?, &what)?;
    if u64::from(store.chunk_size()) != old_snap.chunk_sectors {
        return Err(SyncError::OtherOrigin {
            what: format!(
                "{what}: the COW's store has {}-sector chunks, the VG records {}",
                store.chunk_size(),
                old_snap.chunk_sectors
            ),
        });
    }
    let chunks = listed_chunks(&store, &header, &what)?;
    Ok(ExportPlan::from_file(header, chunks, view))
}

/// Check that `old` can be exported from (a valid, active, persistent, non-merging
/// snapshot) before NEW is taken for it, so a refusal leaves no snapshot behind.
pub fn check_old(backend: &dyn Backend, open: &OpenVg, old: &str) -> Result<(), SyncError> {
    let s = usable_snapshot(backend, open, old)?;
    if s.store == StoreKind::Transient {
        return Err(SyncError::Transient {
            vg: open.vg.name.clone(),
            lv: old.into(),
        });
    }
    Ok(())
}

/// A full plan: every chunk of the volume as of snapshot `snap`.
pub fn full_plan(
    backend: &dyn Backend,
    open: &OpenVg,
    snap: &str,
) -> Result<ExportPlan, SyncError> {
    let vg = &open.vg;
    let s = usable_snapshot(backend, open, snap)?;
    let origin_bytes = origin_bytes(open, &s.origin);
    let header = StreamHeader {
        kind: StreamKind::Full,
        chunk_bytes: (s.chunk_sectors as u32 * 512).max(FULL_CHUNK_BYTES),
        origin_bytes,
        start_chunk: 0,
        records: 0,
        data_bytes: 0,
        source: source_volume(open, &s.origin),
        old: SnapshotIdentity::default(),
        new: s.identity.clone(),
    };
    let view = open_node(backend, &dm_name(&vg.name, snap, DmLayer::Top)?, false)?;
    check_view_size(&view, origin_bytes, &format!("{}/{snap}", vg.name))?;
    let chunks = (0..header.chunk_count()).collect();
    Ok(ExportPlan::from_file(header, chunks, view))
}

/// A snapshot that passed every check: its origin, chunk size, store kind and identity.
#[derive(Debug, Clone)]
struct UsableSnapshot {
    origin: String,
    chunk_sectors: u64,
    store: StoreKind,
    identity: SnapshotIdentity,
}

/// Check `name` is a snapshot that can be read: recorded as one, not merging,
/// active, valid; report its store kind from the live table.
fn usable_snapshot(
    backend: &dyn Backend,
    open: &OpenVg,
    name: &str,
) -> Result<UsableSnapshot, SyncError> {
    let vg = &open.vg;
    let refuse_as = |f: fn(String, String) -> SyncError| f(vg.name.clone(), name.to_string());
    let (origin, chunk_sectors, _, merging) = snapshot_of(vg, name)
        .ok_or_else(|| refuse_as(|vg, lv| SyncError::NotASnapshot { vg, lv }))?;
    if merging {
        return Err(refuse_as(|vg, lv| SyncError::Merging { vg, lv }));
    }
    let top = dm_name(&vg.name, name, DmLayer::Top)?;
    let table = match backend.table(&top, TableSlot::Live) {
        Ok(t) => t,
        Err(BackendError::NoSuchDevice { .. }) => {
            return Err(refuse_as(|vg, lv| SyncError::NotActive { vg, lv }))
        }
        Err(e) => return Err(e.into()),
    };
    let line = table
        .first()
        .ok_or_else(|| refuse_as(|vg, lv| SyncError::NotActive { vg, lv }))?;
    let store = match Target::parse(&line.target_type, &line.params) {
        Ok(Target::Snapshot(p)) => p.store,
        Ok(Target::SnapshotMerge(_)) => {
            return Err(refuse_as(|vg, lv| SyncError::Merging { vg, lv }))
        }
        _ => return Err(refuse_as(|vg, lv| SyncError::NotASnapshot { vg, lv })),
    };
    let status = backend.status(&top)?;
    match status.first().map(|l| l.params.parse::<SnapshotStatus>()) {
        Some(Ok(SnapshotStatus::Usage { .. })) => {}
        Some(Ok(SnapshotStatus::MergeFailed)) => {
            return Err(refuse_as(|vg, lv| SyncError::Merging { vg, lv }))
        }
        _ => return Err(refuse_as(|vg, lv| SyncError::Invalid { vg, lv })),
    }
    let lv = vg
        .lv(name)
        .ok_or_else(|| refuse_as(|vg, lv| SyncError::NotASnapshot { vg, lv }))?;
    Ok(UsableSnapshot {
        origin,
        chunk_sectors,
        store,
        identity: identity(lv),
    })
}

fn identity(lv: &Lv) -> SnapshotIdentity {
    SnapshotIdentity {
        name: lv.name.clone(),
        uuid: lv.id.clone(),
        creation_time: lv.creation_time.unwrap_or(0),
    }
}

fn source_volume(open: &OpenVg, origin: &str) -> SourceVolume {
    let vg = &open.vg;
    SourceVolume {
        vg_name: vg.name.clone(),
        vg_uuid: vg.id.clone(),
        lv_name: origin.to_string(),
        lv_uuid: vg.lv(origin).map(|l| l.id.clone()).unwrap_or_default(),
    }
}

fn origin_bytes(open: &OpenVg, origin: &str) -> u64 {
    let vg = &open.vg;
    vg.lv(origin).map(lv_extents).unwrap_or(0) * vg.extent_size * 512
}

fn check_view_size(view: &FileDisk, origin_bytes: u64, what: &str) -> Result<(), SyncError> {
    let size = view
        .size_bytes()
        .map_err(|e| SyncError::io(format!("{what}: size"), e))?;
    if size < origin_bytes || origin_bytes == 0 {
        return Err(SyncError::OtherOrigin {
            what: format!("{what} is {size} bytes, its origin {origin_bytes}"),
        });
    }
    Ok(())
}

/// Open a device node read-only, creating missing nodes first (no udev). With
/// `uncached`, drop its cached pages first: the snapshot target writes a COW
/// behind the node's page cache, so a list read through it could be stale.
/// (A snapshot's own view only changes through its own node.)
fn open_node(backend: &dyn Backend, name: &str, uncached: bool) -> Result<FileDisk, SyncError> {
    let path = backend.node_path(name);
    if !path.exists() {
        backend.mknodes()?;
    }
    let disk = FileDisk::open_read_only(&path)
        .map_err(|e| SyncError::io(format!("opening {}", path.display()), e))?;
    // Advice only: a device that keeps no page cache (FUSE direct I/O) ignores it.
    use std::os::fd::AsRawFd;
    if !uncached {
        return Ok(disk);
    }
    let _ = nix::fcntl::posix_fadvise(
        disk.file().as_raw_fd(),
        0,
        0,
        nix::fcntl::PosixFadviseAdvice::POSIX_FADV_DONTNEED,
    );
    Ok(disk)
}

/// Metadata areas fetched this many at a time when the exception list is read.
const PREFETCH_AREAS: u64 = 64;
/// Threads fetching them.
const PREFETCH_THREADS: usize = 4;

/// A COW device read for its exception list: its size asked once, and each
/// metadata area read brings the next [`PREFETCH_AREAS`] in with parallel
/// reads, so a list of a thousand areas costs a few dozen round trips to the
/// device instead of two thousand (a small read is one request to the
/// engine's FUSE server or the kernel, each waiting its turn on a busy machine).
struct AreaPrefetch {
    disk: FileDisk,
    size: u64,
    geometry: crate::cow::Geometry,
    cache: std::sync::Mutex<std::collections::HashMap<u64, Vec<u8>>>,
}

impl AreaPrefetch {
    fn new(disk: FileDisk, chunk_sectors: u64) -> Result<Self, SyncError> {
        let size = disk
            .size_bytes()
            .map_err(|e| SyncError::io("reading the COW device size", e))?;
        Ok(Self {
            disk,
            size,
            geometry: crate::cow::Geometry::new(chunk_sectors as u32),
            cache: Default::default(),
        })
    }

    /// Read areas `first..first + PREFETCH_AREAS` (those on the device) into the cache.
    fn prefetch(&self, first: u64) {
        let chunk_bytes = self.geometry.chunk_bytes();
        let offsets: Vec<u64> = (first..first + PREFETCH_AREAS)
            .map(|a| self.geometry.area_location(a) * chunk_bytes)
            .filter(|&at| at + chunk_bytes <= self.size)
            .collect();
        let per = offsets.len().div_ceil(PREFETCH_THREADS).max(1);
        std::thread::scope(|scope| {
            for part in offsets.chunks(per) {
                scope.spawn(move || {
                    for &at in part {
                        let mut buf = vec![0u8; chunk_bytes as usize];
                        // A failed read is left to the store's own read, which reports it.
                        if self.disk.read_exact_at(&mut buf, at).is_ok() {
                            if let Ok(mut cache) = self.cache.lock() {
                                cache.insert(at, buf);
                            }
                        }
                    }
                });
            }
        });
    }
}

impl BlockIo for AreaPrefetch {
    fn size_bytes(&self) -> std::io::Result<u64> {
        Ok(self.size)
    }

    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
        let chunk_bytes = self.geometry.chunk_bytes();
        let chunk = offset / chunk_bytes;
        let is_area = offset % chunk_bytes == 0
            && buf.len() as u64 == chunk_bytes
            && chunk >= crate::cow::HEADER_CHUNKS
            && self.geometry.is_metadata_chunk(chunk);
        if !is_area {
            return self.disk.read_exact_at(buf, offset);
        }
        let take = |c: &Self| c.cache.lock().ok().and_then(|mut m| m.remove(&offset));
        let cached = match take(self) {
            Some(b) => Some(b),
            None => {
                let area =
                    (chunk - crate::cow::HEADER_CHUNKS) / (self.geometry.exceptions_per_area() + 1);
                self.prefetch(area);
                take(self)
            }
        };
        match cached {
            Some(b) => {
                buf.copy_from_slice(&b);
                Ok(())
            }
            None => self.disk.read_exact_at(buf, offset),
        }
    }

    fn write_all_at(&self, _buf: &[u8], _offset: u64) -> std::io::Result<()> {
        Err(std::io::ErrorKind::PermissionDenied.into())
    }

    fn flush(&self) -> std::io::Result<()> {
        Ok(())
    }
}

fn load_store<D: BlockIo>(disk: D, what: &str) -> Result<PersistentStore<D>, SyncError> {
    let store = PersistentStore::load(disk).map_err(|source| SyncError::NoExceptionList {
        what: what.to_string(),
        source,
    })?;
    if !store.is_valid() {
        return Err(SyncError::NoExceptionList {
            what: what.to_string(),
            source: crate::cow::CowError::Invalidated,
        });
    }
    Ok(store)
}

/// The origin chunks a store lists, refused if any lies past the volume (a COW of another origin).
fn listed_chunks<D: BlockIo>(
    store: &PersistentStore<D>,
    header: &StreamHeader,
    what: &str,
) -> Result<Vec<u64>, SyncError> {
    let count = header.chunk_count();
    let chunks: Vec<u64> = store.exceptions().iter().map(|e| e.old_chunk).collect();
    if let Some(&far) = chunks.iter().find(|&&c| c >= count) {
        return Err(SyncError::OtherOrigin {
            what: format!(
                "{what}: the COW lists origin chunk {far}, past the end of the {count}-chunk volume: it belongs to another origin"
            ),
        });
    }
    Ok(chunks)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::MemDisk;
    use crate::sync::format::StreamReader;

    fn header(chunk_bytes: u32, origin_bytes: u64) -> StreamHeader {
        StreamHeader {
            kind: StreamKind::Incremental,
            chunk_bytes,
            origin_bytes,
            start_chunk: 0,
            records: 0,
            data_bytes: 0,
            source: SourceVolume::default(),
            old: SnapshotIdentity::default(),
            new: SnapshotIdentity::default(),
        }
    }

    #[test]
    fn vectored_reads_from_a_file_make_the_same_stream_as_plain_reads() {
        let chunk = 4096u32;
        let size = 3000 * u64::from(chunk) + 1000;
        let volume: Vec<u8> = (0..size).map(|i| (i * 31 % 253) as u8).collect();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("volume.img");
        std::fs::write(&path, &volume).unwrap();
        // Runs longer than a batch, single chunks, and the clipped last chunk.
        let chunks: Vec<u64> = (0..1500)
            .chain([1600, 1602, 1603])
            .chain(2000..3001)
            .collect();
        let streams: Vec<Vec<u8>> = [true, false]
            .iter()
            .map(|&file| {
                let h = header(chunk, size);
                let plan = if file {
                    ExportPlan::from_file(
                        h,
                        chunks.clone(),
                        FileDisk::open_read_only(&path).unwrap(),
                    )
                } else {
                    ExportPlan::new(
                        h,
                        chunks.clone(),
                        Box::new(MemDisk::from_bytes(volume.clone())),
                    )
                };
                let mut out = Vec::new();
                plan.write_to(&mut out, &mut |_| {}).unwrap();
                out
            })
            .collect();
        assert!(
            streams[0] == streams[1],
            "the two reads made different streams"
        );
        let mut reader = StreamReader::new(&streams[0][..]).unwrap();
        let mut data = Vec::new();
        let mut seen = Vec::new();
        while let Some(r) = reader.next_record(&mut data).unwrap() {
            let at = (r.chunk * u64::from(chunk)) as usize;
            assert!(data[..] == volume[at..at + data.len()], "chunk {}", r.chunk);
            seen.push(r.chunk);
        }
        assert_eq!(seen, chunks);
    }
}
