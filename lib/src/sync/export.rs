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
use crate::cow::{read_exception_list, ExceptionList};
use crate::dm::{SnapshotStatus, StoreKind, Target};
use crate::io::{AlignedBuf, BlockIo, FileDisk};
use crate::lvm2::model::Lv;
use crate::names::{dm_name, DmLayer};
use crate::ops::snapshots::{lv_extents, snapshot_of};
use crate::ops::volumes::OpenVg;

use super::error::SyncError;
use super::format::{
    seal_heads, SnapshotIdentity, SourceVolume, StreamHeader, StreamKind, StreamWriter, Trailer,
    RECORD_HEAD_LEN,
};
use super::progress::{RoundProgress, RoundState};

/// Records are read, sealed and written in batches of up to this many data
/// bytes: one whole request of the engine's FUSE server (1 MiB) per batch,
/// and few enough bytes in flight that they stay in the CPU caches (see
/// [`BATCHES_PER_READER`]).
const BATCH_BYTES: usize = 1 << 20;
/// Threads reading NEW: two keep a request at the device while the other
/// thread checksums its batch, and let a device that serves requests in
/// parallel (the engine's FUSE server has several threads) do so.
const READERS: usize = 2;
/// Batches each reader has in flight to the writing thread. All the buffers
/// (`READERS * BATCHES_PER_READER * BATCH_BYTES`, 6 MiB) are reused in turn,
/// so they stay in the last-level cache: with 16 MiB in flight (4 MiB
/// batches) the engine spent ~1.4x the CPU per 1 MiB request that it spends
/// for dd, whose one buffer stays cached, copying the data into buffers that
/// had left the cache, and the checksums then read them from memory again.
const BATCHES_PER_READER: usize = 3;
/// Full streams use chunks of at least this size (overhead 16 bytes per chunk).
const FULL_CHUNK_BYTES: u32 = 64 << 10;

/// A stream ready to be written: its header, its chunks, and the device the data is read from.
pub struct ExportPlan {
    header: StreamHeader,
    chunks: Vec<u64>,
    view: Box<dyn BlockIo>,
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
        Self::with_view(header, chunks, view)
    }

    fn from_file(header: StreamHeader, chunks: Vec<u64>, view: FileDisk) -> Self {
        Self::with_view(header, chunks, Box::new(view))
    }

    fn with_view(mut header: StreamHeader, mut chunks: Vec<u64>, view: Box<dyn BlockIo>) -> Self {
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
    /// [`READERS`] threads take turns reading batches of chunks into
    /// page-aligned buffers (one read per run of consecutive chunks, which
    /// the device takes in whole 1 MiB requests as it takes dd's) and
    /// computing the record heads, while this one hashes and writes the
    /// batches in order with vectored writes, head and data interleaved: each
    /// chunk is read once, copied nowhere in this process, and written once.
    pub fn write_to<W: Write>(
        &self,
        out: W,
        progress: &mut dyn FnMut(u64),
    ) -> Result<Trailer, SyncError> {
        let mut writer = StreamWriter::new(out, self.header.clone())?;
        let batches = self.batches();
        std::thread::scope(|scope| -> Result<(), SyncError> {
            let mut lanes = Vec::with_capacity(READERS);
            for reader in 0..READERS {
                let (full_tx, full_rx) = mpsc::sync_channel(BATCHES_PER_READER - 1);
                let (empty_tx, empty_rx) = mpsc::channel::<Batch>();
                for _ in 0..BATCHES_PER_READER {
                    let _ = empty_tx.send(Batch::default());
                }
                let mine = batches.iter().skip(reader).step_by(READERS);
                scope.spawn(move || {
                    for range in mine {
                        let Ok(mut batch) = empty_rx.recv() else {
                            return;
                        };
                        let chunks = &self.chunks[range.clone()];
                        let sealed = self.read_batch(chunks, &mut batch.data).map(|()| {
                            seal_heads(&self.header, chunks, &batch.data, &mut batch.heads);
                            batch.range = range.clone();
                            batch
                        });
                        let failed = sealed.is_err();
                        if full_tx.send(sealed).is_err() || failed {
                            return;
                        }
                    }
                });
                lanes.push((full_rx, empty_tx));
            }
            let mut done = 0u64;
            // Batch i comes from reader i % READERS: taking the lanes in turn keeps the stream in order.
            for (full_rx, empty_tx) in lanes.iter().cycle().take(batches.len()) {
                let Ok(sealed) = full_rx.recv() else {
                    break;
                };
                let batch = sealed?;
                let chunks = &self.chunks[batch.range.clone()];
                writer.write_split(chunks, &batch.heads, &batch.data)?;
                done += batch.data.len() as u64;
                progress(done);
                let _ = empty_tx.send(batch);
            }
            super::timing::mark("records written");
            Ok(())
        })?;
        let trailer = writer.finish()?.0;
        super::timing::mark("trailer written");
        Ok(trailer)
    }

    /// The chunk list cut into batches of up to [`BATCH_BYTES`] data.
    fn batches(&self) -> Vec<std::ops::Range<usize>> {
        let per = (BATCH_BYTES / self.header.chunk_bytes as usize).max(1);
        (0..self.chunks.len())
            .step_by(per)
            .map(|i| i..(i + per).min(self.chunks.len()))
            .collect()
    }

    /// Read the data of `chunks` from NEW, back to back into `buf`.
    fn read_batch(&self, chunks: &[u64], buf: &mut AlignedBuf) -> Result<(), SyncError> {
        let total: usize = chunks
            .iter()
            .map(|&c| self.header.chunk_len(c) as usize)
            .sum();
        let data = buf.resize(total);
        let chunk_bytes = u64::from(self.header.chunk_bytes);
        let mut i = 0;
        let mut at = 0usize;
        while i < chunks.len() {
            // A run of consecutive chunks is one read.
            let mut n = 1;
            while i + n < chunks.len() && chunks[i + n] == chunks[i] + n as u64 {
                n += 1;
            }
            let start = chunks[i] * chunk_bytes;
            let len: usize = chunks[i..i + n]
                .iter()
                .map(|&c| self.header.chunk_len(c) as usize)
                .sum();
            self.view
                .read_exact_at(&mut data[at..at + len], start)
                .map_err(|e| {
                    SyncError::io(
                        format!("reading chunk {} at byte {start} of NEW", chunks[i]),
                        e,
                    )
                })?;
            at += len;
            i += n;
        }
        Ok(())
    }
}

/// One batch on its way from the reading thread to the writing one.
#[derive(Default)]
struct Batch {
    /// Which of the plan's chunks.
    range: std::ops::Range<usize>,
    /// Their data, back to back.
    data: AlignedBuf,
    /// Their record heads.
    heads: Vec<[u8; RECORD_HEAD_LEN]>,
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
    let list = load_list(&open(cow)?, &cow.display().to_string())?;
    let chunk_bytes = list.header.chunk_size * 512;
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
    let chunks = listed_chunks(&list, &header, &cow.display().to_string())?;
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
    super::timing::mark("snapshots checked");
    // The list is read last: NEW exists by now, so it holds every chunk changed before NEW.
    let what = format!("{}/{old}", vg.name);
    let cow = open_node(backend, &dm_name(&vg.name, old, DmLayer::Cow)?, true)?;
    let list = load_list(&cow, &what)?;
    if u64::from(list.header.chunk_size) != old_snap.chunk_sectors {
        return Err(SyncError::OtherOrigin {
            what: format!(
                "{what}: the COW's store has {}-sector chunks, the VG records {}",
                list.header.chunk_size, old_snap.chunk_sectors
            ),
        });
    }
    super::timing::mark("exception list loaded");
    let chunks = listed_chunks(&list, &header, &what)?;
    super::timing::mark("chunk list made");
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

/// Read a store's exception list, refusing a store that is not one or is invalidated.
fn load_list(disk: &dyn BlockIo, what: &str) -> Result<ExceptionList, SyncError> {
    let list = read_exception_list(disk).map_err(|source| SyncError::NoExceptionList {
        what: what.to_string(),
        source,
    })?;
    if !list.header.is_valid() {
        return Err(SyncError::NoExceptionList {
            what: what.to_string(),
            source: crate::cow::CowError::Invalidated,
        });
    }
    Ok(list)
}

/// The origin chunks a store lists, refused if any lies past the volume (a COW of another origin).
fn listed_chunks(
    list: &ExceptionList,
    header: &StreamHeader,
    what: &str,
) -> Result<Vec<u64>, SyncError> {
    let count = header.chunk_count();
    let chunks: Vec<u64> = list.exceptions.iter().map(|e| e.old_chunk).collect();
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
