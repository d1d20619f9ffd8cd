//! Taking NEW for `export` without an existing `--at` snapshot.
//!
//! **Integration seam.** [`take_snapshot`] is the one place rlvsync creates a
//! snapshot. It does exactly what `rlvcreate -s` does today (record the COW
//! LV and its hidden `snapshotN` in the VG, commit, build the four-device
//! stack in lvm2's order with the new COW's header zeroed, and take the
//! record back if the stack cannot be built). When the operations layer
//! offers snapshot creation as one operation, this function's body becomes
//! a call to it; nothing else in `sync` creates devices or commits metadata.

use crate::backend::{Backend, BackendError};
use crate::io::{BlockIo, FileDisk};
use crate::names::{dm_name, DmLayer};
use crate::ops::add_snapshot;
use crate::ops::snapshots::{add_snapshot_record, lv_extents, origin_spec, snapshot_spec};
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
/// lvm2 caps it) and chunk `chunk_sectors`, and build its devices: what
/// `rlvcreate -s -l EXTENTS -c CHUNK -n NAME VG/ORIGIN` does. Returns the
/// extents granted. The origin must be active (its devices are needed to
/// read NEW anyway).
pub fn take_snapshot(
    backend: &dyn Backend,
    open: &mut OpenVg,
    origin: &str,
    name: &str,
    extents: u64,
    chunk_sectors: u64,
) -> Result<u64, SyncError> {
    let vg_name = open.vg.name.clone();
    let before = open.vg.clone();
    let mut vg = open.vg.clone();
    let granted = add_snapshot_record(&mut vg, origin, name, extents, chunk_sectors, false)?;
    if backend
        .info(&dm_name(&vg_name, origin, DmLayer::Top)?)
        .is_err()
    {
        return Err(SyncError::NotActive {
            vg: vg_name,
            lv: origin.to_string(),
        });
    }
    open.commit(vg)?;
    let built = (|| -> Result<(), SyncError> {
        let origin_spec = origin_spec(open, origin)?;
        let snap = snapshot_spec(open, name)?;
        let mut zero = |cow: &str| zero_cow_header(backend, cow);
        add_snapshot(backend, &origin_spec, &snap, Some(&mut zero))?;
        Ok(())
    })();
    if let Err(error) = built {
        // The stack was undone step by step; take the record back too.
        open.commit(before)?;
        return Err(error);
    }
    Ok(granted)
}

/// Zero a new COW's first 4 KiB so the store starts fresh (as lvm2 and rlvcreate do).
fn zero_cow_header(backend: &dyn Backend, cow: &str) -> Result<(), BackendError> {
    let path = backend.node_path(cow);
    let io = |source| BackendError::Io {
        context: format!("{}: zeroing the COW header", path.display()),
        source,
    };
    let disk = FileDisk::open(&path).map_err(io)?;
    disk.write_all_at(&[0u8; 4096], 0).map_err(io)?;
    disk.flush().map_err(io)
}
