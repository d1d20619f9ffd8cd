//! The metadata-only changes of vgchange, pvchange and lvchange (tags,
//! allocatability, resizeability, limits, permission), vgrename, vgreduce,
//! pvresize, and vgcfgbackup/vgcfgrestore: each one check, one record, one
//! commit, with lvm2's refusals and wording.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::backend::Backend;
use crate::io::{BlockIo, FileDisk};
use crate::lvm2::backup::{self, BackupError};
use crate::lvm2::label::{new_compact_uuid, Label, PV_EXT_USED};
use crate::lvm2::lock::{lock, lock_dir, Resource};
use crate::lvm2::mda::MdaHeader;
use crate::lvm2::model::{SegmentKind, Vg};
use crate::lvm2::store::{commit_vg, read_copies, PvDevice};
use crate::lvm2::text::{Item, Value};
use crate::names::{compact_uuid, dm_name, validate_vg_name, DmLayer};

use super::volumes::{scan, OpenVg, VolumeError};

impl From<BackupError> for VolumeError {
    fn from(error: BackupError) -> Self {
        match error {
            BackupError::Io { path, source } => VolumeError::Device { path, source },
            other => match source_text(&other) {
                Some(cause) => VolumeError::Invalid(format!("{other}: {cause}")),
                None => VolumeError::Invalid(other.to_string()),
            },
        }
    }
}

fn source_text(error: &BackupError) -> Option<String> {
    std::error::Error::source(error).map(|s| s.to_string())
}

fn invalid(message: impl Into<String>) -> VolumeError {
    VolumeError::Invalid(message.into())
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> VolumeError + '_ {
    move |source| VolumeError::Device {
        path: path.to_path_buf(),
        source,
    }
}

/// A tag as lvm2 accepts it (`@` prefix dropped): 1 to 1024 of `A-Za-z0-9_+.-/=!:&#`.
pub fn validate_tag(tag: &str) -> Result<String, String> {
    let tag = tag.strip_prefix('@').unwrap_or(tag);
    let ok = !tag.is_empty()
        && tag.len() <= 1024
        && tag
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_+.-/=!:&#".contains(c));
    if ok {
        Ok(tag.to_string())
    } else {
        Err(format!("invalid tag \"{tag}\""))
    }
}

/// The `tags` of a VG's, PV's or LV's kept items.
pub fn tags(extra: &[Item]) -> Vec<String> {
    extra
        .iter()
        .find_map(|item| match item {
            Item::Setting(key, Value::Array(values)) if key == "tags" => Some(
                values
                    .iter()
                    .filter_map(|v| match v {
                        Value::Str(s) => Some(s.clone()),
                        _ => None,
                    })
                    .collect(),
            ),
            _ => None,
        })
        .unwrap_or_default()
}

/// Tags to add and to delete.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TagChange {
    /// `--addtag`.
    pub add: Vec<String>,
    /// `--deltag`.
    pub del: Vec<String>,
}

impl TagChange {
    /// Whether there is nothing to do.
    pub fn is_empty(&self) -> bool {
        self.add.is_empty() && self.del.is_empty()
    }

    /// Apply to `extra`: lvm2 writes `tags` right after `flags`, only when there are some.
    pub(crate) fn apply(&self, extra: &mut Vec<Item>) {
        if self.is_empty() {
            return;
        }
        let mut list = tags(extra);
        list.retain(|t| !self.del.contains(t));
        for tag in &self.add {
            if !list.contains(tag) {
                list.push(tag.clone());
            }
        }
        let at = extra
            .iter()
            .position(|i| matches!(i, Item::Setting(k, _) if k == "tags"));
        if let Some(at) = at {
            extra.remove(at);
        }
        if list.is_empty() {
            return;
        }
        let item = Item::Setting(
            "tags".into(),
            Value::Array(list.into_iter().map(Value::Str).collect()),
        );
        let after_flags = extra
            .iter()
            .position(|i| matches!(i, Item::Setting(k, _) if k == "flags"))
            .map_or(0, |i| i + 1);
        extra.insert(at.unwrap_or(after_flags).min(extra.len()), item);
    }
}

fn set_int(extra: &mut Vec<Item>, key: &str, value: u64) {
    let item = Item::Setting(key.into(), Value::Int(value as i64));
    match extra
        .iter()
        .position(|i| matches!(i, Item::Setting(k, _) if k == key))
    {
        Some(at) => extra[at] = item,
        None => extra.push(item),
    }
}

/// The changes of `vgchange` that touch only metadata.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VgChange {
    /// `--addtag`/`--deltag`.
    pub tags: TagChange,
    /// `-x y|n`.
    pub resizeable: Option<bool>,
    /// `-l/--logicalvolume` (0: no limit).
    pub max_lv: Option<u64>,
    /// `-p/--maxphysicalvolumes` (0: no limit).
    pub max_pv: Option<u64>,
}

impl VgChange {
    /// Whether any change is asked for.
    pub fn is_empty(&self) -> bool {
        self.tags.is_empty()
            && self.resizeable.is_none()
            && self.max_lv.is_none()
            && self.max_pv.is_none()
    }
}

/// Apply `change` to the VG `open` and commit it, refusing as lvm2 does.
pub fn vg_change(open: &mut OpenVg, change: &VgChange) -> Result<(), VolumeError> {
    let mut vg = open.vg.clone();
    let name = vg.name.clone();
    change.tags.apply(&mut vg.extra);
    if let Some(resizeable) = change.resizeable {
        let is = vg.status.iter().any(|s| s == "RESIZEABLE");
        if is == resizeable {
            return Err(invalid(format!(
                "Volume group \"{name}\" is already {}resizeable",
                if is { "" } else { "not " }
            )));
        }
        if resizeable {
            vg.status.insert(0, "RESIZEABLE".into());
        } else {
            vg.status.retain(|s| s != "RESIZEABLE");
        }
    }
    if let Some(max) = change.max_lv {
        let visible = vg
            .lvs
            .iter()
            .filter(|lv| lv.status.iter().any(|s| s == "VISIBLE"))
            .count() as u64;
        if max != 0 && max < visible {
            return Err(invalid(format!(
                "MaxLogicalVolume is less than the current number {visible} of LVs for {name}"
            )));
        }
        set_int(&mut vg.extra, "max_lv", max);
    }
    if let Some(max) = change.max_pv {
        let count = vg.pvs.len() as u64;
        if max != 0 && max < count {
            return Err(invalid(format!(
                "MaxPhysicalVolumes is less than the current number {count} of PVs for \"{name}\""
            )));
        }
        set_int(&mut vg.extra, "max_pv", max);
    }
    open.commit(vg)
}

/// The changes of `pvchange`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PvChange {
    /// `--addtag`/`--deltag`.
    pub tags: TagChange,
    /// `-x y|n`.
    pub allocatable: Option<bool>,
    /// `-u/--uuid`: give the PV a new random UUID.
    pub new_uuid: bool,
}

/// The key of the PV at `path` in `open`'s VG.
pub fn pv_key(open: &OpenVg, path: &Path) -> Option<String> {
    let want = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    open.paths
        .iter()
        .find(|(_, p)| std::fs::canonicalize(p).unwrap_or_else(|_| p.clone()) == want)
        .map(|(key, _)| key.clone())
}

/// The VG that PV `path` belongs to, among `candidates`.
pub fn vg_of_pv(path: &Path, candidates: &[PathBuf]) -> Option<String> {
    let want = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let found = scan(candidates);
    let uuid = found
        .iter()
        .find(|(p, _, _)| std::fs::canonicalize(p).unwrap_or_else(|_| p.clone()) == want)
        .map(|(_, label, _)| label.pv_uuid.clone())
        .or_else(|| {
            let disk = FileDisk::open_read_only(path).ok()?;
            Label::read(&disk).ok().flatten().map(|l| l.pv_uuid)
        })?;
    found
        .into_iter()
        .filter_map(|(_, _, vg)| vg)
        .find(|vg| vg.pvs.iter().any(|pv| compact_uuid(&pv.id) == uuid))
        .map(|vg| vg.name)
}

/// What [`pv_change`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PvChanged {
    /// Committed.
    Changed,
    /// Nothing to change: the PV is already as asked (lvm2's notice, for stderr).
    Already(String),
}

/// Apply `change` to PV `path` of `open`'s VG; nothing is written when it
/// is already as asked and nothing else changes.
pub fn pv_change(
    open: &mut OpenVg,
    path: &Path,
    change: &PvChange,
) -> Result<PvChanged, VolumeError> {
    let key = pv_key(open, path).ok_or_else(|| {
        invalid(format!(
            "Failed to find physical volume \"{}\".",
            path.display()
        ))
    })?;
    let mut vg = open.vg.clone();
    let pv = vg.pvs.iter_mut().find(|p| p.key == key).expect("key found");
    let before = pv.clone();
    change.tags.apply(&mut pv.extra);
    if let Some(allocatable) = change.allocatable {
        let is = pv.status.iter().any(|s| s == "ALLOCATABLE");
        if is == allocatable {
            let notice = format!(
                "Physical volume \"{}\" is already {}allocatable.",
                path.display(),
                if is { "" } else { "un" }
            );
            if change.tags.is_empty() && !change.new_uuid {
                return Ok(PvChanged::Already(notice));
            }
        } else if allocatable {
            pv.status.insert(0, "ALLOCATABLE".into());
        } else {
            pv.status.retain(|s| s != "ALLOCATABLE");
        }
    }
    let new_uuid = if change.new_uuid {
        let compact = new_compact_uuid().map_err(io_error(Path::new("/dev/urandom")))?;
        pv.id = crate::lvm2::label::dashed_uuid(&compact);
        Some(compact)
    } else {
        None
    };
    if *pv == before && change.tags.is_empty() {
        return Ok(PvChanged::Already(String::new()));
    }
    open.commit(vg)?;
    // The VG names the new UUID first, then the label takes it.
    if let Some(compact) = new_uuid {
        let disk = FileDisk::open(path).map_err(io_error(path))?;
        let mut label = Label::read(&disk)
            .map_err(|source| VolumeError::Format {
                path: path.to_path_buf(),
                source,
            })?
            .ok_or_else(|| VolumeError::NotAPv(path.to_path_buf()))?;
        label.pv_uuid = compact;
        write_label(path, &disk, &label)?;
    }
    Ok(PvChanged::Changed)
}

/// The metadata changes of `lvchange`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LvChange {
    /// `--addtag`/`--deltag`.
    pub tags: TagChange,
    /// `-p rw` (true) or `-p r` (false).
    pub writable: Option<bool>,
}

/// Apply `change` to LV `name` of `open`'s VG and commit; when the
/// permission changes and the LV is active, its device is made read-only or
/// writable through `backend` (see [`reload_permission`]).
pub fn lv_change(
    open: &mut OpenVg,
    name: &str,
    change: &LvChange,
    backend: Option<&dyn Backend>,
) -> Result<(), VolumeError> {
    let mut vg = open.vg.clone();
    let vg_name = vg.name.clone();
    let lv = vg
        .lvs
        .iter_mut()
        .find(|lv| lv.name == name)
        .ok_or_else(|| {
            invalid(format!(
                "Failed to find logical volume \"{vg_name}/{name}\""
            ))
        })?;
    change.tags.apply(&mut lv.extra);
    let mut permission_changed = false;
    if let Some(writable) = change.writable {
        let is = lv.status.iter().any(|s| s == "WRITE");
        if is == writable {
            return Err(invalid(format!(
                "Logical volume \"{vg_name}/{name}\" is already {}.",
                if is { "writable" } else { "read only" }
            )));
        }
        if writable {
            let at = lv
                .status
                .iter()
                .position(|s| s == "READ")
                .map_or(0, |i| i + 1);
            lv.status.insert(at, "WRITE".into());
        } else {
            lv.status.retain(|s| s != "WRITE");
        }
        permission_changed = true;
    }
    let mut active_open = match (permission_changed, backend) {
        (true, Some(backend)) => device_state(backend, &vg_name, name)?,
        _ => None,
    };
    // A close reaches the device asynchronously (FUSE release, udev probes):
    // give an opener that just left a moment, as lvm2 retries a busy device.
    for _ in 0..20 {
        match (active_open, backend) {
            (Some(count), Some(backend)) if count > 0 => {
                std::thread::sleep(std::time::Duration::from_millis(100));
                active_open = device_state(backend, &vg_name, name)?;
            }
            _ => break,
        }
    }
    if active_open.is_some_and(|open_count| open_count > 0) {
        return Err(invalid(format!(
            "Logical volume {vg_name}/{name} is open: rlvm cannot change the permission of an open device yet; close it or deactivate it first"
        )));
    }
    open.commit(vg)?;
    if let (Some(_), Some(backend)) = (active_open, backend) {
        reload_permission(backend, open, name)?;
    }
    Ok(())
}

/// The open count of LV `vg/name`'s visible device, if it is active.
fn device_state(backend: &dyn Backend, vg: &str, name: &str) -> Result<Option<i32>, VolumeError> {
    let top = dm_name(vg, name, DmLayer::Top)?;
    Ok(backend.info(&top).ok().map(|info| info.open_count))
}

/// Give an active, unopened LV its recorded permission: its devices are
/// taken down and built again from the metadata (the Backend trait loads
/// tables without a read-only flag, so a live reload cannot change it).
pub fn reload_permission(
    backend: &dyn Backend,
    open: &OpenVg,
    name: &str,
) -> Result<(), VolumeError> {
    super::snapshots::deactivate_lv(backend, open, name)?;
    super::snapshots::activate_lv(backend, open, name)
}

/// Rename VG `open` to `new`: one commit, then each active device of its
/// LVs renamed through `backend` (dm UUIDs hold no VG name and stay).
pub fn vg_rename(
    mut open: OpenVg,
    new: &str,
    candidates: &[PathBuf],
    backend: Option<&dyn Backend>,
) -> Result<(), VolumeError> {
    let old = open.vg.name.clone();
    if old == new {
        return Err(invalid("Old and new volume group names must differ"));
    }
    validate_vg_name(new)?;
    let _new_lock = lock(Resource::Vg(new), true).map_err(io_error(&lock_dir()))?;
    if scan(candidates)
        .iter()
        .any(|(_, _, vg)| vg.as_ref().is_some_and(|vg| vg.name == new))
    {
        return Err(invalid(format!("New VG name \"{new}\" already exists")));
    }
    let mut vg = open.vg.clone();
    vg.name = new.to_string();
    open.commit(vg)?;
    backup::remove_backup(&old);
    if let Some(backend) = backend {
        for lv in &open.vg.lvs {
            for layer in [DmLayer::Top, DmLayer::Real, DmLayer::Cow] {
                let from = dm_name(&old, &lv.name, layer)?;
                if backend.info(&from).is_ok() {
                    let to = dm_name(new, &lv.name, layer)?;
                    backend
                        .rename(&from, &to)
                        .map_err(|e| invalid(format!("renaming device {from} to {to}: {e}")))?;
                }
            }
        }
    }
    Ok(())
}

/// Whether any LV segment maps onto PV `key`.
fn pv_in_use(vg: &Vg, key: &str) -> bool {
    vg.lvs.iter().flat_map(|lv| &lv.segments).any(|seg| {
        matches!(&seg.kind, SegmentKind::Striped { stripes, .. } if stripes.iter().any(|(k, _)| k == key))
    })
}

/// One PV's answer from [`vg_reduce`].
#[derive(Debug)]
pub enum Reduced {
    /// Removed from the VG.
    Removed(PathBuf),
    /// Refused, with lvm2's message.
    Refused(String),
}

/// Remove PVs from VG `open` as vgreduce does: `paths`, or with `all` every
/// unused PV (the last PV stays). Each refusal is reported and the others
/// go; the removed PVs become orphans (their areas emptied, the label's
/// "used" flag cleared) after the VG is committed without them.
pub fn vg_reduce(
    open: &mut OpenVg,
    paths: &[PathBuf],
    all: bool,
) -> Result<Vec<Reduced>, VolumeError> {
    let name = open.vg.name.clone();
    let targets: Vec<(PathBuf, Option<String>)> = if all {
        open.paths
            .iter()
            .map(|(key, path)| (path.clone(), Some(key.clone())))
            .collect()
    } else {
        paths
            .iter()
            .map(|path| (path.clone(), pv_key(open, path)))
            .collect()
    };
    let mut answers = Vec::new();
    let mut vg = open.vg.clone();
    let mut removed = Vec::new();
    for (path, key) in targets {
        let Some(key) = key else {
            answers.push(Reduced::Refused(format!(
                "Failed to find physical volume \"{}\".",
                path.display()
            )));
            continue;
        };
        if pv_in_use(&vg, &key) {
            answers.push(Reduced::Refused(format!(
                "Physical volume \"{}\" still in use",
                path.display()
            )));
            continue;
        }
        if vg.pvs.len() == 1 {
            answers.push(Reduced::Refused(format!(
                "Can't remove final physical volume \"{}\" from volume group \"{name}\"",
                path.display()
            )));
            continue;
        }
        vg.pvs.retain(|pv| pv.key != key);
        removed.push((key, path.clone()));
        answers.push(Reduced::Removed(path));
    }
    if removed.is_empty() {
        return Ok(answers);
    }
    let mut disks = Vec::new();
    for (key, path) in &removed {
        disks.push((path.clone(), open.detach_pv(key)));
    }
    open.commit(vg)?;
    for (path, disk) in disks {
        let disk = match disk {
            Some(disk) => disk,
            None => FileDisk::open(&path).map_err(io_error(&path))?,
        };
        make_orphan(&path, &disk)?;
    }
    Ok(answers)
}

/// Empty every metadata area of the PV on `disk` and clear its "used" flag.
fn make_orphan(path: &Path, disk: &FileDisk) -> Result<(), VolumeError> {
    let format = |source| VolumeError::Format {
        path: path.to_path_buf(),
        source,
    };
    let pv = PvDevice::open(disk)
        .map_err(format)?
        .ok_or_else(|| VolumeError::NotAPv(path.to_path_buf()))?;
    for mda in &pv.mdas {
        disk.write_all_at(&MdaHeader::new(mda.start, mda.size).encode(), mda.start)
            .map_err(io_error(path))?;
    }
    let mut label = pv.label.clone();
    if let Some(ext) = label.extension.as_mut() {
        ext.flags &= !PV_EXT_USED;
    }
    write_label(path, disk, &label)
}

fn write_label(path: &Path, disk: &dyn BlockIo, label: &Label) -> Result<(), VolumeError> {
    let sector = label.encode().map_err(|source| VolumeError::Format {
        path: path.to_path_buf(),
        source,
    })?;
    disk.write_all_at(&sector, label.sector * 512)
        .map_err(io_error(path))?;
    disk.flush().map_err(io_error(path))
}

/// What [`vg_reduce_missing`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RemovedMissing {
    /// Every PV was there: nothing written.
    AlreadyConsistent,
    /// The missing PVs (and, forced, the LVs on them) were dropped.
    Written {
        /// UUIDs of the PVs dropped.
        pvs: Vec<String>,
        /// LVs dropped with them.
        lvs: Vec<String>,
    },
}

/// vgreduce --removemissing: drop from VG `name` the PVs that cannot be
/// found among `candidates` and write the VG to the PVs that are there.
/// LVs on a missing PV ("partial") are dropped only when `force`; without
/// it the empty missing PVs still go and the partial LVs are refused.
pub fn vg_reduce_missing(
    name: &str,
    candidates: &[PathBuf],
    force: bool,
) -> Result<RemovedMissing, VolumeError> {
    let _lock = lock(Resource::Vg(name), true).map_err(io_error(&lock_dir()))?;
    let found = scan(candidates);
    let old = found
        .iter()
        .filter_map(|(_, _, vg)| vg.as_ref())
        .filter(|vg| vg.name == name)
        .max_by_key(|vg| vg.seqno)
        .cloned()
        .ok_or_else(|| VolumeError::VgNotFound(name.to_string()))?;
    let path_of = |id: &str| {
        found
            .iter()
            .find(|(_, label, _)| label.pv_uuid == compact_uuid(id))
            .map(|(path, _, _)| path.clone())
    };
    let missing: Vec<String> = old
        .pvs
        .iter()
        .filter(|pv| path_of(&pv.id).is_none())
        .map(|pv| pv.key.clone())
        .collect();
    if missing.is_empty() {
        return Ok(RemovedMissing::AlreadyConsistent);
    }
    let mut vg = old.clone();
    for key in &missing {
        let id = &vg.pv(key).expect("a listed PV").id;
        crate::log::warning(format!("Couldn't find device with uuid {id}."));
    }
    let on_missing = |vg: &Vg, lv: &str| {
        vg.lv(lv).is_some_and(|lv| {
            lv.segments.iter().any(|seg| {
                matches!(&seg.kind, SegmentKind::Striped { stripes, .. }
                    if stripes.iter().any(|(k, _)| missing.contains(k)))
            })
        })
    };
    let mut partial: Vec<String> = vg
        .lvs
        .iter()
        .filter(|lv| on_missing(&vg, &lv.name))
        .map(|lv| lv.name.clone())
        .collect();
    // A snapshot goes with its origin or its COW.
    for lv in &vg.lvs {
        for seg in &lv.segments {
            if let SegmentKind::Snapshot { origin, cow, .. } = &seg.kind {
                if partial.contains(origin) || partial.contains(cow) {
                    for name in [&lv.name, cow] {
                        if !partial.contains(name) {
                            partial.push(name.clone());
                        }
                    }
                }
            }
        }
    }
    for lv in &partial {
        crate::log::warning(format!("Partial LV {lv} needs to be repaired or removed. "));
    }
    let used = |vg: &Vg, key: &str| pv_in_use(vg, key);
    if force {
        vg.lvs.retain(|lv| !partial.contains(&lv.name));
    } else if !partial.is_empty() {
        crate::log::warning("Proceeding to remove empty missing PVs.");
    }
    let dropped: Vec<String> = missing
        .iter()
        .filter(|key| !used(&vg, key))
        .cloned()
        .collect();
    let dropped_ids: Vec<String> = dropped
        .iter()
        .filter_map(|key| vg.pv(key).map(|pv| pv.id.clone()))
        .collect();
    vg.pvs.retain(|pv| !dropped.contains(&pv.key));
    if !dropped.is_empty() || force {
        let mut disks = Vec::new();
        for pv in &vg.pvs {
            if let Some(path) = path_of(&pv.id) {
                disks.push((FileDisk::open(&path).map_err(io_error(&path))?, path));
            }
        }
        let mut pvs = Vec::new();
        for (disk, path) in &disks {
            pvs.push(
                PvDevice::open(disk)
                    .map_err(|source| VolumeError::Format {
                        path: path.clone(),
                        source,
                    })?
                    .ok_or_else(|| VolumeError::NotAPv(path.clone()))?,
            );
        }
        backup::archive(&old)?;
        commit_vg(&mut pvs, &mut vg)?;
        backup::backup(&vg);
    }
    if !force && !partial.is_empty() {
        return Err(invalid(format!(
            "There are still partial LVs in VG {name}.\n  To remove them unconditionally use: vgreduce --removemissing --force."
        )));
    }
    Ok(RemovedMissing::Written {
        pvs: dropped_ids,
        lvs: if force { partial } else { Vec::new() },
    })
}

/// Resize PV `path` of `open`'s VG to `sectors` (`--setphysicalvolumesize`)
/// or to its device's size: the label's device size, the PV's `dev_size`
/// and `pe_count`, refusing to drop allocated extents.
pub fn pv_resize(open: &mut OpenVg, path: &Path, sectors: Option<u64>) -> Result<(), VolumeError> {
    let key = pv_key(open, path).ok_or_else(|| {
        invalid(format!(
            "Failed to find physical volume \"{}\".",
            path.display()
        ))
    })?;
    let disk = FileDisk::open(path).map_err(io_error(path))?;
    let real = disk.size_bytes().map_err(io_error(path))? / 512;
    let dev_size = sectors.unwrap_or(real);
    let mut vg = open.vg.clone();
    let extent = vg.extent_size;
    let used_end = vg
        .lvs
        .iter()
        .flat_map(|lv| &lv.segments)
        .flat_map(|seg| match &seg.kind {
            SegmentKind::Striped { stripes, .. } => stripes
                .iter()
                .filter(|(k, _)| *k == key)
                .map(|(_, pe)| pe + seg.extent_count)
                .collect::<Vec<_>>(),
            _ => vec![],
        })
        .max()
        .unwrap_or(0);
    let pv = vg.pvs.iter_mut().find(|p| p.key == key).expect("key found");
    let pe_count = dev_size.saturating_sub(pv.pe_start) / extent;
    if pe_count == 0 {
        return Err(invalid(format!(
            "Size must leave space for at least one physical extent of {extent} sectors on PV {}.",
            path.display()
        )));
    }
    if pe_count < used_end {
        return Err(invalid(format!(
            "{}: cannot resize to {pe_count} extents as {used_end} are allocated.",
            path.display()
        )));
    }
    pv.dev_size = dev_size;
    pv.pe_count = pe_count;
    let mut label = Label::read(&disk)
        .map_err(|source| VolumeError::Format {
            path: path.to_path_buf(),
            source,
        })?
        .ok_or_else(|| VolumeError::NotAPv(path.to_path_buf()))?;
    label.device_size = dev_size * 512;
    write_label(path, &disk, &label)?;
    open.commit(vg)
}

/// Resize an orphan PV (in no VG): only its label's device size changes.
pub fn pv_resize_orphan(path: &Path, sectors: Option<u64>) -> Result<(), VolumeError> {
    let _orphans = lock(Resource::Orphans, true).map_err(io_error(&lock_dir()))?;
    let disk = FileDisk::open(path).map_err(io_error(path))?;
    let mut label = Label::read(&disk)
        .map_err(|source| VolumeError::Format {
            path: path.to_path_buf(),
            source,
        })?
        .ok_or_else(|| VolumeError::NotAPv(path.to_path_buf()))?;
    let size = match sectors {
        Some(sectors) => sectors * 512,
        None => disk.size_bytes().map_err(io_error(path))?,
    };
    let data_start = label.data_areas.first().map_or(0, |a| a.offset);
    if size <= data_start {
        return Err(invalid(format!(
            "{}: size must be more than the data area's start ({data_start} bytes).",
            path.display()
        )));
    }
    if let Some(area) = label
        .metadata_areas
        .iter()
        .find(|a| a.offset + a.size > size)
    {
        return Err(invalid(format!(
            "{}: the metadata area at byte {} lies beyond {size} bytes.",
            path.display(),
            area.offset
        )));
    }
    label.device_size = size;
    write_label(path, &disk, &label)
}

/// Write VG `vg` to `file` (vgcfgbackup -f, the description the command
/// line) or to the policy's backup directory (its usual backup).
pub fn vg_cfg_backup(vg: &Vg, file: Option<&Path>) -> Result<PathBuf, VolumeError> {
    let (path, description) = match file {
        Some(file) => (
            PathBuf::from(file.to_string_lossy().replace("%s", &vg.name)),
            backup::command_line(),
        ),
        None => {
            let policy = backup::policy().ok_or_else(|| invalid("backups are not configured"))?;
            (
                policy.backup_dir.join(&vg.name),
                format!("Created *after* executing '{}'", backup::command_line()),
            )
        }
    };
    backup::write_file(&path, vg, &description, SystemTime::now())?;
    Ok(path)
}

/// Write the VG in `file` back onto its PVs among `candidates`, as
/// vgcfgrestore does: every PV it lists must be found by UUID (labels
/// intact); areas whose header is damaged are made anew; the VG gets a
/// seqno above any copy still on the PVs. Works on a VG whose metadata is
/// unreadable. Returns the VG as committed.
pub fn vg_cfg_restore(name: &str, file: &Path, candidates: &[PathBuf]) -> Result<Vg, VolumeError> {
    let _lock = lock(Resource::Vg(name), true).map_err(io_error(&lock_dir()))?;
    let mut vg = backup::read_file(file)?.vg;
    if vg.name != name {
        return Err(BackupError::OtherVg {
            path: file.to_path_buf(),
            vg: name.to_string(),
        }
        .into());
    }
    // Labels only: a device whose area headers are damaged is still found.
    let found: Vec<(PathBuf, Label)> = candidates
        .iter()
        .filter_map(|path| {
            let disk = FileDisk::open_read_only(path).ok()?;
            let label = Label::read(&disk).ok().flatten()?;
            Some((path.clone(), label))
        })
        .collect();
    let mut devices = Vec::new();
    for pv in &vg.pvs {
        let uuid = compact_uuid(&pv.id);
        let (path, label) = found
            .iter()
            .find(|(_, label)| label.pv_uuid == uuid)
            .cloned()
            .ok_or_else(|| {
                invalid(format!(
                    "Couldn't find device with uuid {}. Cannot restore Volume Group {name} with a PV missing.",
                    pv.id
                ))
            })?;
        devices.push((path, label));
    }
    let mut disks = Vec::new();
    let mut seqno = vg.seqno;
    for (path, label) in &devices {
        let disk = FileDisk::open(path).map_err(io_error(path))?;
        for area in &label.metadata_areas {
            match MdaHeader::read(&disk, area.offset) {
                Ok(header) => {
                    if let Ok(Some(text)) = header.read_committed(&disk) {
                        if let Ok(old) = Vg::parse(&text) {
                            seqno = seqno.max(old.seqno);
                        }
                    }
                }
                Err(_) => disk
                    .write_all_at(
                        &MdaHeader::new(area.offset, area.size).encode(),
                        area.offset,
                    )
                    .map_err(io_error(path))?,
            }
        }
        disks.push((path.clone(), disk));
    }
    let mut pvs = Vec::new();
    for (path, disk) in &disks {
        let pv = PvDevice::open(disk)
            .map_err(|source| VolumeError::Format {
                path: path.clone(),
                source,
            })?
            .ok_or_else(|| VolumeError::NotAPv(path.clone()))?;
        // Copies that do not parse at all are simply overwritten.
        let _ = read_copies(&pv);
        pvs.push(pv);
    }
    vg.seqno = seqno;
    commit_vg(&mut pvs, &mut vg)?;
    backup::backup(&vg);
    Ok(vg)
}

/// One entry of `vgcfgrestore --list`.
#[derive(Debug, Clone, PartialEq)]
pub struct ListedFile {
    /// The file.
    pub path: PathBuf,
    /// The VG it holds.
    pub vg: String,
    /// Its description.
    pub description: String,
    /// Its creation time.
    pub time: Option<i64>,
}

/// VG `name`'s archives, oldest first, then its backup file (vgcfgrestore --list).
pub fn list_backups(name: &str) -> Vec<ListedFile> {
    let Some(policy) = backup::policy() else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = backup::archives_of(&policy.archive_dir, name)
        .into_iter()
        .map(|(_, p)| p)
        .collect();
    let current = policy.backup_dir.join(name);
    if current.exists() {
        paths.push(current);
    }
    paths.iter().filter_map(|p| listed_file(p).ok()).collect()
}

/// One file's entry for `vgcfgrestore --list -f FILE`.
pub fn listed_file(path: &Path) -> Result<ListedFile, VolumeError> {
    let file = backup::read_file(path)?;
    Ok(ListedFile {
        path: path.to_path_buf(),
        vg: file.vg.name,
        description: file.description,
        time: file.creation_time,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_go_after_flags_and_vanish_when_empty() {
        let mut extra = vec![
            Item::Setting("flags".into(), Value::Array(vec![])),
            Item::Setting("max_lv".into(), Value::Int(0)),
        ];
        TagChange {
            add: vec!["a".into(), "b".into(), "a".into()],
            del: vec![],
        }
        .apply(&mut extra);
        assert_eq!(tags(&extra), vec!["a", "b"]);
        assert!(matches!(&extra[1], Item::Setting(k, _) if k == "tags"));
        TagChange {
            add: vec![],
            del: vec!["a".into(), "b".into(), "zz".into()],
        }
        .apply(&mut extra);
        assert!(tags(&extra).is_empty());
        assert_eq!(extra.len(), 2);
    }

    #[test]
    fn tags_follow_lvm2s_character_set() {
        assert_eq!(validate_tag("@web").unwrap(), "web");
        assert_eq!(
            validate_tag("a_b+c.d-e/f=g!h:i&j#k").unwrap(),
            "a_b+c.d-e/f=g!h:i&j#k"
        );
        assert!(validate_tag("bad tag").is_err());
        assert!(validate_tag("").is_err());
        assert!(validate_tag(&"x".repeat(1025)).is_err());
    }
}
