//! Taking NEW for `export` without an existing `--at` snapshot.
//!
//! [`take_snapshot`] is the one place rlvsync creates a snapshot: one call
//! of the operations layer's snapshot operation, as `rlvcreate -s` makes it;
//! nothing else in `sync` creates devices or commits metadata.

use crate::backend::Backend;
use crate::log::Message;
use crate::names::{dm_name, DmLayer};
use crate::ops::lvm::{Session, SizeRequest, SnapshotRequest};
use crate::ops::snapshots::lv_extents;
use crate::ops::volumes::OpenVg;

use super::error::SyncError;

/// How big the new snapshot's COW is, as `rlvcreate -s` takes `-L`/`-l`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CowSize {
    /// `-L`: bytes, rounded up to whole extents.
    Bytes(u64),
    /// `-l N`: extents.
    Extents(u64),
    /// `-l N%ORIGIN`.
    PercentOrigin(u64),
    /// `-l N%FREE`.
    PercentFree(u64),
    /// `-l N%VG`.
    PercentVg(u64),
    /// As big as OLD's COW (rlvsync's default: each round needs about what the last one did).
    LikeLv,
}

/// Extents asked for, by `rlvcreate`'s arithmetic; `like` is OLD's COW LV for [`CowSize::LikeLv`].
pub fn cow_extents(open: &OpenVg, origin: &str, size: CowSize, like: &str) -> u64 {
    let vg = &open.vg;
    let origin_extents = vg.lv(origin).map(lv_extents).unwrap_or(0);
    let total: u64 = vg.pvs.iter().map(|p| p.pe_count).sum();
    match size {
        CowSize::Bytes(bytes) => bytes.div_ceil(512).div_ceil(vg.extent_size),
        CowSize::Extents(n) => n,
        CowSize::PercentOrigin(p) => (origin_extents * p).div_ceil(100),
        CowSize::PercentFree(p) => (crate::ops::volumes::free_extents(vg) * p).div_ceil(100),
        CowSize::PercentVg(p) => (total * p).div_ceil(100),
        CowSize::LikeLv => vg.lv(like).map(lv_extents).unwrap_or(1),
    }
}

/// Create snapshot `name` of `origin` with a COW of `extents` (capped as
/// lvm2 caps it) and chunk `chunk_sectors`, and build its devices, through
/// the operations layer's [`Session::create_snapshot`]: what `rlvcreate -s
/// -l EXTENTS -c CHUNK -n NAME VG/ORIGIN` does, the record taken back if the
/// stack cannot be built. The origin must be active (its devices are needed
/// to read NEW anyway). Returns the VG as committed.
pub fn take_snapshot(
    backend: &dyn Backend,
    open: OpenVg,
    origin: &str,
    name: &str,
    extents: u64,
    chunk_sectors: u64,
) -> Result<OpenVg, SyncError> {
    let vg_name = open.vg.name.clone();
    if backend
        .info(&dm_name(&vg_name, origin, DmLayer::Top)?)
        .is_err()
    {
        return Err(SyncError::NotActive {
            vg: vg_name,
            lv: origin.to_string(),
        });
    }
    let mut session = Session::from_open(open, Some(backend), false);
    // The operation's result lines would land in the stream when it goes to
    // stdout: rlvsync names NEW itself, so they become progress lines on
    // stderr; warnings stay warnings.
    let (created, messages) = crate::log::capture(|| {
        session.create_snapshot(&SnapshotRequest {
            origin: origin.to_string(),
            name: Some(name.to_string()),
            size: SizeRequest::Extents(extents),
            chunk_sectors,
            read_only: false,
        })
    });
    for message in messages {
        match message {
            Message::Print(line) | Message::Verbose(_, line) => crate::log::verbose(1, line),
            Message::Warning(text) => crate::log::warning(text),
        }
    }
    created?;
    Ok(session.into_open())
}
