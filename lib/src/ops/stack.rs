//! Building and taking apart LVM2's snapshot stack:
//! `VG-ORIGIN-real` (the origin's own mapping), `VG-SNAP-cow` (COW space),
//! `VG-SNAP` (`snapshot`) and `VG-ORIGIN` (`snapshot-origin`).
//!
//! The order is the point: the snapshot becomes active (resume) while the
//! origin's visible device is suspended with its queued writes flushed, so
//! the snapshot holds exactly what was written before the suspend, and the
//! origin's I/O waits rather than fails.

use crate::backend::{Backend, BackendError, CreateOptions, DeviceInfo, TableSlot};
use crate::dm::{DevRef, SnapshotParams, StoreKind, TableLine, Target};

use super::undo::{OpsError, Undo, UndoLog, FLUSH};

/// A dm device to build: name, UUID, table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceSpec {
    /// dm name (from [`crate::names::dm_name`]).
    pub name: String,
    /// dm UUID (from [`crate::names::dm_uuid`]).
    pub uuid: String,
    /// The table.
    pub table: Vec<TableLine>,
    /// Activate read-only.
    pub read_only: bool,
}

/// An origin volume: its visible device with its own mapping, and the name
/// and UUID its `-real` layer gets while it has snapshots.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginSpec {
    /// The visible device; `table` is the volume's own mapping (linear lines).
    pub top: DeviceSpec,
    /// `VG-ORIGIN-real`.
    pub real_name: String,
    /// `LVM-...-real`.
    pub real_uuid: String,
}

/// A snapshot volume: its visible device and its `-cow` layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotSpec {
    /// `VG-SNAP`.
    pub name: String,
    /// `LVM-<vg><cow lv>`.
    pub uuid: String,
    /// Activate read-only (`-p r`).
    pub read_only: bool,
    /// `VG-SNAP-cow` with the COW volume's mapping.
    pub cow: DeviceSpec,
    /// Exception store kind (lvm2 always uses `P`).
    pub store: StoreKind,
    /// Chunk size in sectors.
    pub chunk_sectors: u32,
}

fn table_length(table: &[TableLine]) -> u64 {
    table.iter().map(|l| l.length).sum()
}

fn raw(table: &[TableLine]) -> Vec<crate::dm::RawLine> {
    table.iter().map(TableLine::to_raw).collect()
}

fn number(info: &DeviceInfo) -> DevRef {
    DevRef::Number {
        major: info.major,
        minor: info.minor,
    }
}

fn exists(backend: &dyn Backend, name: &str) -> Result<Option<DeviceInfo>, BackendError> {
    match backend.info(name) {
        Ok(info) => Ok(Some(info)),
        Err(BackendError::NoSuchDevice { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

fn step_error(step: &str, source: BackendError) -> OpsError {
    OpsError::Step {
        step: step.to_string(),
        source,
    }
}

/// Create, load and resume `spec` unless a device of that name exists
/// (then it is left as it is); undone by `log` if a later step fails.
fn ensure_device(log: &mut UndoLog<'_>, spec: &DeviceSpec) -> Result<DeviceInfo, OpsError> {
    if let Some(info) = log.run(format!("{}: info", spec.name), |b| exists(b, &spec.name))? {
        return Ok(info);
    }
    create_loaded(log, spec)?;
    log.run(format!("{}: resume", spec.name), |b| b.resume(&spec.name))
}

/// Create `spec` and load its table, leaving it to the caller to resume.
fn create_loaded(log: &mut UndoLog<'_>, spec: &DeviceSpec) -> Result<DeviceInfo, OpsError> {
    let options = CreateOptions {
        uuid: Some(spec.uuid.clone()),
        read_only: spec.read_only,
    };
    let info = log.run(format!("{}: create", spec.name), |b| {
        b.create(&spec.name, &options)
    })?;
    log.push(Undo::Remove(spec.name.clone()));
    log.run(format!("{}: load", spec.name), |b| {
        b.load(&spec.name, &raw(&spec.table))
    })?;
    Ok(info)
}

/// Activate one plain device (idempotent: an existing device is left alone).
pub fn activate_device(backend: &dyn Backend, spec: &DeviceSpec) -> Result<DeviceInfo, OpsError> {
    let mut log = UndoLog::new(backend);
    let info = ensure_device(&mut log, spec)?;
    log.commit();
    Ok(info)
}

/// Remove a device if it exists.
pub fn deactivate_device(backend: &dyn Backend, name: &str) -> Result<(), OpsError> {
    match backend.remove(name) {
        Ok(()) | Err(BackendError::NoSuchDevice { .. }) => Ok(()),
        Err(e) => Err(step_error(&format!("{name}: remove"), e)),
    }
}

/// Replace a live device's table (e.g. a grown `-cow`): load, suspend, resume.
pub fn grow_device(backend: &dyn Backend, name: &str, table: &[TableLine]) -> Result<(), OpsError> {
    let mut log = UndoLog::new(backend);
    log.run(format!("{name}: load"), |b| b.load(name, &raw(table)))?;
    log.push(Undo::Clear(name.to_string()));
    log.run(format!("{name}: suspend"), |b| b.suspend(name, FLUSH))?;
    log.push(Undo::Resume(name.to_string()));
    log.run(format!("{name}: resume"), |b| b.resume(name))?;
    log.commit();
    Ok(())
}

fn snapshot_table(
    origin_len: u64,
    real: &DeviceInfo,
    cow: &DeviceInfo,
    snap: &SnapshotSpec,
) -> Vec<TableLine> {
    vec![TableLine::new(
        0,
        origin_len,
        Target::Snapshot(SnapshotParams {
            origin: number(real),
            cow: number(cow),
            store: snap.store,
            chunk_sectors: snap.chunk_sectors,
            features: Vec::new(),
        }),
    )]
}

fn origin_table(origin_len: u64, real: &DeviceInfo) -> Vec<TableLine> {
    vec![TableLine::new(
        0,
        origin_len,
        Target::SnapshotOrigin {
            origin: number(real),
        },
    )]
}

fn is_snapshot_origin(backend: &dyn Backend, name: &str) -> Result<bool, BackendError> {
    Ok(backend
        .table(name, TableSlot::Live)?
        .first()
        .is_some_and(|line| line.target_type == "snapshot-origin"))
}

/// Called with the `-cow` device's name once it is live, before the snapshot table loads.
pub type PrepareCow<'a> = &'a mut dyn FnMut(&str) -> Result<(), BackendError>;

/// Add `snap` to `origin`, or build the whole stack when the origin is not
/// active. `prepare_cow` runs once the `-cow` device is live and before the
/// snapshot table is loaded: a new snapshot zeroes the COW's first 4 KiB
/// there so a stale header is never taken over; reactivation passes `None`.
pub fn add_snapshot(
    backend: &dyn Backend,
    origin: &OriginSpec,
    snap: &SnapshotSpec,
    prepare_cow: Option<PrepareCow<'_>>,
) -> Result<(), OpsError> {
    let origin_len = table_length(&origin.top.table);
    let mut log = UndoLog::new(backend);
    let top = log.run(format!("{}: info", origin.top.name), |b| {
        exists(b, &origin.top.name)
    })?;
    let real_spec = DeviceSpec {
        name: origin.real_name.clone(),
        uuid: origin.real_uuid.clone(),
        table: origin.top.table.clone(),
        read_only: false,
    };
    let real = ensure_device(&mut log, &real_spec)?;
    let cow = ensure_device(&mut log, &snap.cow)?;
    if let Some(prepare) = prepare_cow {
        log.run(format!("{}: prepare COW", snap.cow.name), |_| {
            prepare(&snap.cow.name)
        })?;
    }
    let snapshot_spec = DeviceSpec {
        name: snap.name.clone(),
        uuid: snap.uuid.clone(),
        table: snapshot_table(origin_len, &real, &cow, snap),
        read_only: snap.read_only,
    };
    match top {
        None => {
            // Nothing writes to the origin yet: build bottom-up, origin last.
            create_loaded(&mut log, &snapshot_spec)?;
            log.run(format!("{}: resume", snap.name), |b| b.resume(&snap.name))?;
            let origin_spec = DeviceSpec {
                table: origin_table(origin_len, &real),
                ..origin.top.clone()
            };
            create_loaded(&mut log, &origin_spec)?;
            log.run(format!("{}: resume", origin.top.name), |b| {
                b.resume(&origin.top.name)
            })?;
        }
        Some(_) => {
            let name = origin.top.name.as_str();
            let already_origin =
                log.run(format!("{name}: table"), |b| is_snapshot_origin(b, name))?;
            log.run(format!("{name}: suspend"), |b| b.suspend(name, FLUSH))?;
            log.push(Undo::Resume(name.to_string()));
            create_loaded(&mut log, &snapshot_spec)?;
            if !already_origin {
                log.run(format!("{name}: load"), |b| {
                    b.load(name, &raw(&origin_table(origin_len, &real)))
                })?;
                log.push(Undo::Clear(name.to_string()));
            }
            log.run(format!("{}: resume", snap.name), |b| b.resume(&snap.name))?;
            log.run(format!("{name}: resume"), |b| b.resume(name))?;
        }
    }
    log.commit();
    Ok(())
}

/// Make `origin` an active snapshot origin with no snapshot yet: `-real`,
/// then the origin over it, as lvm2 activates a stack from nothing (so the
/// kernel hands out the minors in lvm2's order: `-real`, origin, then each
/// snapshot's `-cow` and itself). An active origin is left as it is.
pub fn activate_origin(backend: &dyn Backend, origin: &OriginSpec) -> Result<(), OpsError> {
    let mut log = UndoLog::new(backend);
    if log
        .run(format!("{}: info", origin.top.name), |b| {
            exists(b, &origin.top.name)
        })?
        .is_some()
    {
        return Ok(());
    }
    let real_spec = DeviceSpec {
        name: origin.real_name.clone(),
        uuid: origin.real_uuid.clone(),
        table: origin.top.table.clone(),
        read_only: false,
    };
    let real = ensure_device(&mut log, &real_spec)?;
    let origin_spec = DeviceSpec {
        table: origin_table(table_length(&origin.top.table), &real),
        ..origin.top.clone()
    };
    create_loaded(&mut log, &origin_spec)?;
    log.run(format!("{}: resume", origin.top.name), |b| {
        b.resume(&origin.top.name)
    })?;
    log.commit();
    Ok(())
}

/// Tear `snap` down. With `others_remain` false the origin goes back to its
/// own mapping and `-real` disappears; the origin only ever sees a suspend.
pub fn remove_snapshot(
    backend: &dyn Backend,
    origin: &OriginSpec,
    snap: &SnapshotSpec,
    others_remain: bool,
) -> Result<(), OpsError> {
    let name = origin.top.name.as_str();
    let top = exists(backend, name).map_err(|e| step_error(&format!("{name}: info"), e))?;
    if top.is_some() {
        let mut log = UndoLog::new(backend);
        if others_remain {
            // Unloading a snapshot target needs its origin suspended.
            log.run(format!("{name}: suspend"), |b| b.suspend(name, FLUSH))?;
            log.push(Undo::Resume(name.to_string()));
            log.run(format!("{}: remove", snap.name), |b| {
                match b.remove(&snap.name) {
                    Err(BackendError::NoSuchDevice { .. }) => Ok(()),
                    other => other,
                }
            })?;
            log.run(format!("{name}: resume"), |b| b.resume(name))?;
        } else {
            log.run(format!("{name}: load"), |b| {
                b.load(name, &raw(&origin.top.table))
            })?;
            log.push(Undo::Clear(name.to_string()));
            log.run(format!("{name}: suspend"), |b| b.suspend(name, FLUSH))?;
            log.push(Undo::Resume(name.to_string()));
            log.run(format!("{name}: resume"), |b| b.resume(name))?;
        }
        log.commit();
    }
    deactivate_device(backend, &snap.name)?;
    deactivate_device(backend, &snap.cow.name)?;
    if !others_remain {
        deactivate_device(backend, &origin.real_name)?;
    }
    Ok(())
}

/// Start rolling the origin back to `snap`: the origin's table becomes
/// `snapshot-merge` over `-real` and `-cow`, and the snapshot's device
/// becomes `error`, resumed after the origin so the kernel hands the
/// exceptions over from the suspended snapshot.
pub fn start_merge(
    backend: &dyn Backend,
    origin: &OriginSpec,
    snap: &SnapshotSpec,
) -> Result<(), OpsError> {
    let name = origin.top.name.as_str();
    let origin_len = table_length(&origin.top.table);
    let mut log = UndoLog::new(backend);
    let real = log.run(format!("{}: info", origin.real_name), |b| {
        b.info(&origin.real_name)
    })?;
    let cow = log.run(format!("{}: info", snap.cow.name), |b| {
        b.info(&snap.cow.name)
    })?;
    let merge = vec![TableLine::new(
        0,
        origin_len,
        Target::SnapshotMerge(SnapshotParams {
            origin: number(&real),
            cow: number(&cow),
            store: StoreKind::Persistent,
            chunk_sectors: snap.chunk_sectors,
            features: Vec::new(),
        }),
    )];
    log.run(format!("{name}: load"), |b| b.load(name, &raw(&merge)))?;
    log.push(Undo::Clear(name.to_string()));
    let error = vec![TableLine::new(0, origin_len, Target::Error)];
    log.run(format!("{}: load", snap.name), |b| {
        b.load(&snap.name, &raw(&error))
    })?;
    log.push(Undo::Clear(snap.name.clone()));
    log.run(format!("{name}: suspend"), |b| b.suspend(name, FLUSH))?;
    log.push(Undo::Resume(name.to_string()));
    log.run(format!("{}: suspend", snap.name), |b| {
        b.suspend(&snap.name, FLUSH)
    })?;
    log.push(Undo::Resume(snap.name.clone()));
    log.run(format!("{name}: resume"), |b| b.resume(name))?;
    log.run(format!("{}: resume", snap.name), |b| b.resume(&snap.name))?;
    log.commit();
    Ok(())
}

/// After the merge is complete: the origin returns to its own mapping and
/// the snapshot's devices and `-real` go.
pub fn finish_merge(
    backend: &dyn Backend,
    origin: &OriginSpec,
    snap: &SnapshotSpec,
) -> Result<(), OpsError> {
    finish_merge_among(backend, origin, snap, false)
}

/// After the merge is complete: the snapshot's devices go, and the origin
/// returns to its own mapping (`-real` goes too) or, while other snapshots
/// remain, to `snapshot-origin` over `-real` so they keep their copy-outs.
pub fn finish_merge_among(
    backend: &dyn Backend,
    origin: &OriginSpec,
    snap: &SnapshotSpec,
    others_remain: bool,
) -> Result<(), OpsError> {
    if !others_remain {
        return remove_snapshot(backend, origin, snap, false);
    }
    let name = origin.top.name.as_str();
    let origin_len = table_length(&origin.top.table);
    let mut log = UndoLog::new(backend);
    let real = log.run(format!("{}: info", origin.real_name), |b| {
        b.info(&origin.real_name)
    })?;
    log.run(format!("{name}: load"), |b| {
        b.load(name, &raw(&origin_table(origin_len, &real)))
    })?;
    log.push(Undo::Clear(name.to_string()));
    log.run(format!("{name}: suspend"), |b| b.suspend(name, FLUSH))?;
    log.push(Undo::Resume(name.to_string()));
    log.run(format!("{name}: resume"), |b| b.resume(name))?;
    log.commit();
    deactivate_device(backend, &snap.name)?;
    deactivate_device(backend, &snap.cow.name)
}

/// Rename devices, each `(old, new)`, while `hold` (a visible device of the
/// stack, by its old name) is suspended, so no I/O sees a half-renamed
/// stack; every rename is taken back if a later one fails.
pub fn rename_devices(
    backend: &dyn Backend,
    hold: Option<&str>,
    renames: &[(String, String)],
) -> Result<(), OpsError> {
    let mut log = UndoLog::new(backend);
    if let Some(name) = hold {
        log.run(format!("{name}: suspend"), |b| b.suspend(name, FLUSH))?;
        log.push(Undo::Resume(name.to_string()));
    }
    for (old, new) in renames {
        log.run(format!("{old}: rename to {new}"), |b| b.rename(old, new))?;
        log.push(Undo::Rename(new.clone(), old.clone()));
    }
    if let Some(name) = hold {
        let now = renames
            .iter()
            .find(|(old, _)| old == name)
            .map_or(name, |(_, new)| new.as_str());
        log.run(format!("{now}: resume"), |b| b.resume(now))?;
    }
    log.commit();
    Ok(())
}

#[cfg(test)]
mod tests;
