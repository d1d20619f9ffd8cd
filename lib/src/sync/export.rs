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
    SnapshotIdentity, SourceVolume, StreamHeader, StreamKind, StreamWriter, Trailer,
};

/// Reads of consecutive chunks are merged up to this many bytes.
const READ_BYTES: usize = 1 << 20;
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
    pub fn new(mut header: StreamHeader, mut chunks: Vec<u64>, view: Box<dyn BlockIo>) -> Self {
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
        Self::new(header, chunks, self.view)
    }

    /// Write the stream to `out`, calling `progress` with the data bytes done so far.
    pub fn write_to<W: Write>(
        &self,
        out: W,
        progress: &mut dyn FnMut(u64),
    ) -> Result<Trailer, SyncError> {
        let chunk_bytes = u64::from(self.header.chunk_bytes);
        let mut writer = StreamWriter::new(out, self.header.clone())?;
        let group = (READ_BYTES as u64 / chunk_bytes).max(1) as usize;
        let mut buf = vec![0u8; (group as u64 * chunk_bytes) as usize];
        let mut done = 0u64;
        let mut i = 0;
        while i < self.chunks.len() {
            // A run of consecutive chunks is read in one request.
            let first = self.chunks[i];
            let mut n = 1;
            while n < group && i + n < self.chunks.len() && self.chunks[i + n] == first + n as u64 {
                n += 1;
            }
            let start = first * chunk_bytes;
            let len: u64 = (0..n as u64)
                .map(|k| u64::from(self.header.chunk_len(first + k)))
                .sum();
            self.view
                .read_exact_at(&mut buf[..len as usize], start)
                .map_err(|e| {
                    SyncError::io(format!("reading chunk {first} at byte {start} of NEW"), e)
                })?;
            let mut at = 0usize;
            for k in 0..n as u64 {
                let l = self.header.chunk_len(first + k) as usize;
                writer.write_record(first + k, &buf[at..at + l])?;
                at += l;
            }
            done += len;
            progress(done);
            i += n;
        }
        Ok(writer.finish()?.0)
    }
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
    Ok(ExportPlan::new(header, chunks, Box::new(origin_disk)))
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
    let store = load_store(cow, &what)?;
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
    Ok(ExportPlan::new(header, chunks, Box::new(view)))
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
    Ok(ExportPlan::new(header, chunks, Box::new(view)))
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
