//! The LVM operations every mutating command is a thin caller of. A
//! [`Session`] holds one VG open for a change (its lock, its record, its
//! UUID) and, when device-mapper can be used, the backend. Each operation
//! runs in lvm2's order: check everything, build the new record, prepare new
//! space (zero, wipe), commit, build or change the devices, and when that
//! fails after the commit, put the devices back and commit the old record
//! again. Devices are found by their dm UUID, never trusted by name alone.
//!
//! In test mode (`-t`) every check runs and the new record is kept in
//! memory (so later steps of one command see it), but nothing is written
//! and no device is touched.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use thiserror::Error;

use super::snapshots::{
    add_snapshot_record, lv_extents, origin_spec, remove_snapshot_record, snapshot_of,
    snapshot_spec, snapshots_of, DEFAULT_CHUNK_SECTORS,
};
use super::volumes::{lv_remove, lv_rename, lv_table, OpenVg, VolumeError};
use super::{
    activate_device, activate_origin, add_snapshot, deactivate_device, grow_device,
    remove_snapshot, rename_devices, start_merge, DeviceSpec, OpsError,
};
use crate::backend::{Backend, BackendError, TableSlot};
use crate::dm::SnapshotStatus;
use crate::log;
use crate::lvm2::flags::LvFlag;
use crate::lvm2::model::{SegmentKind, Vg};
use crate::names::{dm_name, dm_uuid, DmLayer, NameError};

pub mod attributes;
pub mod place;
pub mod size;
pub mod wipe;

#[cfg(test)]
mod tests;

pub use attributes::{LvAttributes, Persistent, ReadAhead};
pub use place::Placement;
pub use size::{display_size, extents_for, PercentOf, Resize, SizeRequest};

/// lvm2's line for `-t`.
pub const TEST_MODE_BANNER: &str =
    "TEST MODE: Metadata will NOT be updated and volumes will not be (de)activated.";

/// Why an LVM operation was refused or failed.
#[derive(Debug, Error)]
pub enum LvmError {
    /// The command line asks for something impossible (lvm2 exits 3).
    #[error("{0}")]
    Usage(String),
    /// No such LV.
    #[error("Failed to find logical volume \"{vg}/{lv}\"")]
    LvNotFound {
        /// VG name.
        vg: String,
        /// LV name.
        lv: String,
    },
    /// An LV of that name exists.
    #[error("Logical Volume \"{lv}\" already exists in volume group \"{vg}\"")]
    LvExists {
        /// VG name.
        vg: String,
        /// LV name.
        lv: String,
    },
    /// The LV is open (mounted, or held by a program).
    #[error("Logical volume {vg}/{lv} in use.")]
    InUse {
        /// VG name.
        vg: String,
        /// LV name.
        lv: String,
    },
    /// The operation is refused as lvm2 refuses it (lvm2 exits 5).
    #[error("{0}")]
    Refused(String),
    /// `-Zy`/`-Wy` for an LV created inactive (lvm2 refuses, yet exits 0).
    #[error("Cannot zero inactive logical volume with option -Zy or -Wy.")]
    ZeroInactive,
    /// The devices could not be built after the commit; the old record was committed back.
    #[error("{what}; the metadata change was taken back")]
    Reverted {
        /// What failed.
        what: String,
        /// Why.
        source: Box<LvmError>,
    },
    /// A metadata or device operation failed.
    #[error(transparent)]
    Volume(#[from] VolumeError),
    /// A device-mapper stack operation failed (and was undone).
    #[error(transparent)]
    Ops(#[from] OpsError),
    /// A device-mapper query failed.
    #[error(transparent)]
    Backend(#[from] BackendError),
}

impl From<NameError> for LvmError {
    fn from(error: NameError) -> Self {
        LvmError::Usage(error.to_string())
    }
}

impl LvmError {
    /// Whether lvm2 treats this as a bad command line (exit 3).
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            LvmError::Usage(_) | LvmError::Volume(VolumeError::Name(_))
        )
    }
}

type Result<T, E = LvmError> = std::result::Result<T, E>;

/// `-Z`/`-W` of a new LV.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prepare {
    /// Zero the first 4 KiB (`-Zy`, the default).
    pub zero: bool,
    /// Wipe known signatures (`-Wy`; by default when zeroing).
    pub wipe: bool,
}

impl Prepare {
    /// What lvm2 does with `-Z`/`-W` (`None`: not given) for a new LV that
    /// is `activate`d or not, with device-mapper (`driver`) or without: an
    /// LV created inactive is not zeroed, and asking for it is refused;
    /// without the driver nothing is zeroed, with a warning when it was wanted.
    pub fn for_new_lv(
        zero: Option<bool>,
        wipe: Option<bool>,
        activate: bool,
        driver: bool,
    ) -> Result<Prepare> {
        let none = Prepare {
            zero: false,
            wipe: false,
        };
        if !activate {
            if zero == Some(true) || (zero.is_none() && wipe == Some(true)) {
                return Err(LvmError::ZeroInactive);
            }
            return Ok(none);
        }
        let zero = zero.unwrap_or(true);
        if !driver {
            if zero {
                log::warning("Skipping zeroing and wipping, compiled without activation support.");
            }
            return Ok(none);
        }
        Ok(Prepare {
            zero,
            wipe: wipe.unwrap_or(zero),
        })
    }
}

impl Default for Prepare {
    fn default() -> Self {
        Self {
            zero: true,
            wipe: true,
        }
    }
}

/// A new linear LV.
#[derive(Debug, Clone)]
pub struct LinearRequest {
    /// Its name (`lvolN` when `None`).
    pub name: Option<String>,
    /// How big.
    pub size: SizeRequest,
    /// Activate it.
    pub activate: bool,
    /// Zero and wipe it.
    pub prepare: Prepare,
    /// `-p r`.
    pub read_only: bool,
}

/// A new snapshot.
#[derive(Debug, Clone)]
pub struct SnapshotRequest {
    /// The origin LV.
    pub origin: String,
    /// The snapshot's name (`lvolN` when `None`).
    pub name: Option<String>,
    /// The COW's size.
    pub size: SizeRequest,
    /// Chunk size in sectors.
    pub chunk_sectors: u64,
    /// `-p r`.
    pub read_only: bool,
}

/// A new sparse snapshot (`-s -V`).
#[derive(Debug, Clone)]
pub struct SparseRequest {
    /// The snapshot's name (`lvolN` when `None`).
    pub name: Option<String>,
    /// The virtual size in bytes.
    pub virtual_bytes: u64,
    /// The COW's size.
    pub size: SizeRequest,
    /// Chunk size in sectors.
    pub chunk_sectors: u64,
    /// Activate it.
    pub activate: bool,
}

/// How a merge request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MergeStart {
    /// The origin is inactive: the merge starts at its next activation.
    Deferred,
    /// The origin is open: the merge starts at an activation where it is not.
    DelayedOpen,
    /// The merge runs.
    Started,
    /// It was running already.
    Running,
}

/// How an autoextend of a COW ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Autoextend {
    /// Grown to this many extents.
    Grown {
        /// Extents before.
        from: u64,
        /// Extents after.
        to: u64,
    },
    /// The VG has too few free extents.
    NoSpace {
        /// Free extents.
        free: u64,
        /// Extents needed.
        needed: u64,
    },
}

/// One VG open for a change, and the device-mapper to apply it with.
pub struct Session<'a> {
    open: OpenVg,
    backend: Option<&'a dyn Backend>,
    test: bool,
    /// `--driverloaded n`: lvm2 then refuses what needs device-mapper
    /// (snapshots, merges) instead of recording it for a later activation.
    no_driver: bool,
}

/// The dm devices of one LV's layers that are live, by layer.
#[derive(Debug, Default, Clone)]
struct Live {
    by_uuid: HashMap<String, String>,
}

impl Live {
    fn name(&self, vg: &Vg, lv_id: &str, layer: DmLayer) -> Option<&str> {
        self.by_uuid
            .get(&dm_uuid(&vg.id, lv_id, layer))
            .map(String::as_str)
    }
}

impl<'a> Session<'a> {
    /// Open VG `name` among `candidates` for a change. `backend` is the
    /// device-mapper (`None`: metadata only, as lvm2's `--driverloaded n`);
    /// `test` is `-t`.
    pub fn open(
        name: &str,
        candidates: &[PathBuf],
        backend: Option<&'a dyn Backend>,
        test: bool,
    ) -> Result<Self> {
        let open = OpenVg::open(name, candidates)?;
        Ok(Self::from_open(open, backend, test))
    }

    /// A session over a VG already open for a change.
    pub fn from_open(open: OpenVg, backend: Option<&'a dyn Backend>, test: bool) -> Self {
        Self {
            open,
            backend,
            test,
            no_driver: false,
        }
    }

    /// This session as lvm2 runs with `--driverloaded n` (`no_driver`):
    /// snapshots and merges are refused as lvm2 refuses them, rather than
    /// recorded for an activation on a machine that has device-mapper.
    pub fn driverloaded(mut self, loaded: bool) -> Self {
        self.no_driver = !loaded;
        self
    }

    /// The VG as this session sees it (with test-mode changes).
    pub fn vg(&self) -> &Vg {
        &self.open.vg
    }

    /// The VG's UUID, which keys every device of its LVs.
    pub fn uuid(&self) -> &str {
        &self.open.vg.id
    }

    /// The open VG underneath.
    pub fn open_vg(&self) -> &OpenVg {
        &self.open
    }

    /// Give the open VG back (to drop the lock, or for reading).
    pub fn into_open(self) -> OpenVg {
        self.open
    }

    /// Whether this is `-t`.
    pub fn test_mode(&self) -> bool {
        self.test
    }

    fn vg_name(&self) -> String {
        self.open.vg.name.clone()
    }

    fn not_found(&self, lv: &str) -> LvmError {
        LvmError::LvNotFound {
            vg: self.vg_name(),
            lv: lv.to_string(),
        }
    }

    /// The backend when devices may be touched (not in test mode).
    fn devices(&self) -> Option<&'a dyn Backend> {
        if self.test {
            None
        } else {
            self.backend
        }
    }

    /// Commit `next` (in test mode: only remember it).
    fn commit(&mut self, next: Vg) -> Result<()> {
        if self.test {
            self.open.vg = next;
            return Ok(());
        }
        self.open.commit(next)?;
        Ok(())
    }

    /// After a failure past the commit: commit `before` again and report both.
    fn revert(&mut self, before: Vg, what: String, error: LvmError) -> LvmError {
        let mut before = before;
        before.seqno = self.open.vg.seqno;
        match self.commit(before) {
            Ok(()) => LvmError::Reverted {
                what,
                source: Box::new(error),
            },
            Err(again) => LvmError::Refused(format!(
                "{what}: {}; committing the old metadata back also failed: {}",
                chain(&error),
                chain(&again)
            )),
        }
    }

    /// The live devices of this VG, by dm UUID.
    fn live(&self) -> Result<Live> {
        let Some(backend) = self.backend else {
            return Ok(Live::default());
        };
        let prefix = format!("LVM-{}", crate::names::compact_uuid(&self.open.vg.id));
        let mut by_uuid = HashMap::new();
        for device in backend.list()? {
            match backend.info(&device.name) {
                Ok(info) if info.uuid.starts_with(&prefix) => {
                    by_uuid.insert(info.uuid, device.name);
                }
                _ => {}
            }
        }
        Ok(Live { by_uuid })
    }

    /// The top-level LV that carries `name`'s devices: an origin for its
    /// snapshots, the LV itself otherwise. Refuses unknown LVs and hidden records.
    pub fn stack_of(&self, name: &str) -> Result<String> {
        let vg = &self.open.vg;
        let lv = vg.lv(name).ok_or_else(|| self.not_found(name))?;
        if lv
            .segments
            .iter()
            .any(|s| matches!(s.kind, SegmentKind::Snapshot { .. }))
        {
            return Err(self.not_found(name));
        }
        Ok(snapshot_of(vg, name).map_or(name.to_string(), |s| s.0))
    }

    /// Check that `name` is an LV lvextend, lvreduce and lvresize can take,
    /// refusing an unknown one in their words.
    pub fn resizable(&self, name: &str) -> Result<()> {
        if self.open.vg.lv(name).is_none() {
            return Err(LvmError::Refused(format!(
                "Logical volume {name} not found in volume group {}.",
                self.open.vg.name
            )));
        }
        self.stack_of(name).map(drop)
    }

    fn lv_id(&self, name: &str) -> Result<String> {
        self.open
            .vg
            .lv(name)
            .map(|l| l.id.clone())
            .ok_or_else(|| self.not_found(name))
    }

    /// Whether `name`'s visible device is live.
    pub fn is_active(&self, name: &str) -> Result<bool> {
        let live = self.live()?;
        let id = self.lv_id(name)?;
        Ok(live.name(&self.open.vg, &id, DmLayer::Top).is_some())
    }

    /// How many visible LVs have a live device, as lvm2's vgchange counts
    /// them "now active": none without a device backend.
    pub fn active_count(&self) -> Result<usize> {
        let live = self.live()?;
        let vg = &self.open.vg;
        // A snapshot's visible record (`snapshot0`) has no device of its
        // own: the `vg-snap` device carries its COW LV's id.
        let device_id = |lv: &crate::lvm2::model::Lv| {
            let cow = lv.segments.iter().find_map(|s| match &s.kind {
                SegmentKind::Snapshot { cow, .. } => vg.lv(cow),
                _ => None,
            });
            cow.unwrap_or(lv).id.clone()
        };
        Ok(vg
            .lvs
            .iter()
            .filter(|lv| lv.has(crate::lvm2::flags::LvFlag::Visible))
            .filter(|lv| live.name(vg, &device_id(lv), DmLayer::Top).is_some())
            .count())
    }

    fn open_count(&self, live: &Live, name: &str) -> Result<i32> {
        let (Some(backend), Ok(id)) = (self.backend, self.lv_id(name)) else {
            return Ok(0);
        };
        match live.name(&self.open.vg, &id, DmLayer::Top) {
            Some(device) => match backend.info(device) {
                Ok(info) => Ok(info.open_count),
                Err(BackendError::NoSuchDevice { .. }) => Ok(0),
                Err(e) => Err(e.into()),
            },
            None => Ok(0),
        }
    }

    /// Give devices whose UUID belongs to an LV of this VG but whose name
    /// does not (left by an interrupted rename) the name lvm2 gives them.
    fn adopt_names(&self, live: &Live, stack: &str) -> Result<()> {
        let Some(backend) = self.devices() else {
            return Ok(());
        };
        let vg = &self.open.vg;
        let mut members = vec![stack.to_string()];
        members.extend(snapshots_of(vg, stack));
        for member in members {
            let id = self.lv_id(&member)?;
            for layer in [DmLayer::Top, DmLayer::Real, DmLayer::Cow] {
                let want = dm_name(&vg.name, &member, layer)?;
                if let Some(have) = live.name(vg, &id, layer) {
                    if have != want {
                        backend.rename(have, &want)?;
                    }
                }
            }
        }
        Ok(())
    }

    fn free_name(&self) -> String {
        (0..)
            .map(|n| format!("lvol{n}"))
            .find(|n| self.open.vg.lv(n).is_none())
            .unwrap_or_default()
    }

    /// Check a name for a new LV as lvcreate does (`-n vg/name` allowed).
    fn new_name(&self, name: Option<&str>) -> Result<String> {
        let vg = self.vg_name();
        let name = match name {
            None => return Ok(self.free_name()),
            Some(name) => match name.split_once('/') {
                Some((other, _)) if other != vg => {
                    return Err(LvmError::Usage(format!(
                        "Inconsistent volume group names given: \"{other}\" and \"{vg}\""
                    )))
                }
                Some((_, lv)) => lv.to_string(),
                None => name.to_string(),
            },
        };
        check_new_lv_name(&name, || {
            format!("Logical volume name \"{name}\" is invalid.")
        })?;
        if self.open.vg.lv(&name).is_some() {
            return Err(LvmError::LvExists { vg, lv: name });
        }
        Ok(name)
    }

    fn lv_path(&self, name: &str) -> String {
        format!("/dev/{}/{name}", self.open.vg.name)
    }

    /// Zero and wipe the start of new LV `name` (already in `next`) through its PVs.
    fn prepare_new(&self, next: &Vg, name: &str, prepare: Prepare) -> Result<()> {
        let lv = next.lv(name).ok_or_else(|| self.not_found(name))?;
        let staged = OpenVgView {
            open: &self.open,
            vg: next,
        };
        let region = staged.region(lv)?;
        if prepare.wipe {
            let found = region.signatures()?;
            for signature in &found {
                log::print(format!(
                    "Wiping {} signature on {}.",
                    signature.kind,
                    self.lv_path(name)
                ));
            }
            if !self.test {
                region.wipe(&found)?;
            }
        }
        if prepare.zero {
            if !self.test {
                region.zero_start()?;
            }
        } else if !self.test {
            // lvm2's test mode never reaches the zeroing step, nor its warning.
            log::warning(format!(
                "Logical volume {}/{name} not zeroed.",
                self.open.vg.name
            ));
        }
        Ok(())
    }

    /// `lvcreate` of a linear LV: returns its name.
    pub fn create_linear(&mut self, request: &LinearRequest) -> Result<String> {
        self.create_placed(request, &Placement::default(), &LvAttributes::default())
    }

    /// [`Session::create_linear`] with tags, allocation policy, read-ahead
    /// and a persistent minor recorded in the same commit.
    pub fn create_linear_with(
        &mut self,
        request: &LinearRequest,
        attributes: &LvAttributes,
    ) -> Result<String> {
        self.create_placed(request, &Placement::default(), attributes)
    }

    /// `lvcreate` of a linear or striped LV placed by `placement` (`-i`,
    /// `-I`, PV arguments, `--alloc`), with `attributes` recorded in the
    /// same commit: returns its name.
    pub fn create_placed(
        &mut self,
        request: &LinearRequest,
        placement: &Placement,
        attributes: &LvAttributes,
    ) -> Result<String> {
        let name = self.new_name(request.name.as_deref())?;
        attributes.check()?;
        let pvs = place::resolve_pvs(&self.open, &placement.pvs)?;
        let size = match (request.size, &pvs) {
            (SizeRequest::Percent(percent, PercentOf::Pvs), Some(list)) => {
                SizeRequest::Extents(place::percent_of_pvs(&self.open.vg, list, percent))
            }
            (size, _) => size,
        };
        let stripe_size = place::new_stripe_size(&self.open.vg, placement);
        let extents = extents_for(&self.open.vg, size, None)?;
        let allocation =
            place::new_lv_request(&self.open.vg, placement, stripe_size, pvs, extents)?;
        let free = super::volumes::free_extents(&self.open.vg);
        if allocation.extents > free {
            return Err(LvmError::Refused(format!(
                "Volume group \"{}\" has insufficient free space ({free} extents): {} required.",
                self.vg_name(),
                allocation.extents
            )));
        }
        if request.activate && self.backend.is_none() && !self.test {
            return Err(LvmError::Refused(
                "cannot activate the new LV without device-mapper (use -an to create it inactive)"
                    .into(),
            ));
        }
        let before = self.open.vg.clone();
        let mut next = before.clone();
        super::volumes::lv_create(&mut next, &name, &allocation)?;
        if let Some(lv) = next.lvs.iter_mut().find(|l| l.name == name) {
            // `-C y` records the policy itself (attributes), `--alloc` here.
            let policy = placement.policy_name.as_deref().filter(|p| *p != "inherit");
            if let Some(policy) = policy.filter(|_| !attributes.contiguous) {
                lv.extra.push(crate::lvm2::text::Item::Setting(
                    "allocation_policy".into(),
                    crate::lvm2::text::Value::Str(policy.to_string()),
                ));
            }
            if request.read_only {
                lv.set_flag(LvFlag::Write, false);
            }
            attributes.apply(lv);
        }
        self.prepare_new(&next, &name, request.prepare)?;
        self.commit(next)?;
        if request.activate {
            if let Some(backend) = self.devices() {
                let built = self
                    .device_spec(&name)
                    .and_then(|spec| Ok(activate_device(backend, &spec)?));
                if let Err(error) = built {
                    let what = format!("activating {}/{name}", self.vg_name());
                    return Err(self.revert(before, what, error));
                }
            }
        }
        log::print(format!("Logical volume \"{name}\" created."));
        Ok(name)
    }

    /// Load the resized table of LV `name` (its COW device for a snapshot),
    /// as extend and reduce both do after their commit.
    fn reload_size(&self, backend: &dyn Backend, name: &str, is_snapshot: bool) -> Result<()> {
        let (device, table) = if is_snapshot {
            let snap = snapshot_spec(&self.open, name)?;
            (snap.cow.name, snap.cow.table)
        } else {
            let spec = self.device_spec(name)?;
            (spec.name, spec.table)
        };
        grow_device(backend, &device, &table)?;
        Ok(())
    }

    fn device_spec(&self, name: &str) -> Result<DeviceSpec> {
        let vg = &self.open.vg;
        let lv = vg.lv(name).ok_or_else(|| self.not_found(name))?;
        let table = lv_table(vg, lv, &|key| {
            self.open.path_of(key).map(|p| p.to_path_buf())
        })?;
        Ok(DeviceSpec {
            name: dm_name(&vg.name, name, DmLayer::Top)?,
            uuid: dm_uuid(&vg.id, &lv.id, DmLayer::Top),
            table,
            read_only: !lv.has(LvFlag::Write),
        })
    }

    /// `lvcreate -s`: returns the snapshot's name. The COW's first 4 KiB are
    /// zeroed through its PVs before the commit, whether or not the origin
    /// is active, so no stale store is ever taken over.
    pub fn create_snapshot(&mut self, request: &SnapshotRequest) -> Result<String> {
        let vg_name = self.vg_name();
        let origin = request.origin.clone();
        super::snapshots::check_chunk_size(request.chunk_sectors)
            .map_err(|e| LvmError::Usage(e.to_string()))?;
        let origin_lv = self.open.vg.lv(&origin).ok_or_else(|| {
            LvmError::Refused(format!(
                "Snapshot origin LV {origin} not found in Volume group {vg_name}."
            ))
        })?;
        let origin_extents = lv_extents(origin_lv);
        if let Some(merging) = super::snapshots::merging_snapshot(&self.open.vg, &origin) {
            return Err(LvmError::Refused(format!(
                "Cannot create snapshot of {vg_name}/{origin}: snapshot {vg_name}/{merging} is merging into it."
            )));
        }
        let name = self.new_name(request.name.as_deref())?;
        let extents = extents_for(
            &self.open.vg,
            request.size,
            Some((origin_extents, request.chunk_sectors)),
        )?;
        self.need_driver_for_snapshot()?;
        let origin_active = self.is_active(&origin)?;
        if origin_active && self.backend.is_none() {
            return Err(LvmError::Refused(
                "Can't create snapshot without using device-mapper kernel driver.".into(),
            ));
        }
        let before = self.open.vg.clone();
        let mut next = before.clone();
        let granted = add_snapshot_record(
            &mut next,
            &origin,
            &name,
            extents,
            request.chunk_sectors,
            request.read_only,
        )?;
        if granted < extents {
            log::print(format!(
                "Reducing COW size {} down to maximum usable size {}.",
                display_size(extents * next.extent_size),
                display_size(granted * next.extent_size)
            ));
        }
        self.prepare_new(
            &next,
            &name,
            Prepare {
                zero: true,
                wipe: false,
            },
        )?;
        self.commit(next)?;
        if origin_active {
            if let Some(backend) = self.devices() {
                let built = (|| -> Result<()> {
                    let live = self.live()?;
                    self.adopt_names(&live, &origin)?;
                    let origin_devices = origin_spec(&self.open, &origin)?;
                    let snap = snapshot_spec(&self.open, &name)?;
                    add_snapshot(backend, &origin_devices, &snap, None)?;
                    Ok(())
                })();
                if let Err(error) = built {
                    let what = format!("creating snapshot {vg_name}/{name}");
                    return Err(self.revert(before, what, error));
                }
            }
        }
        log::print(format!("Logical volume \"{name}\" created."));
        Ok(name)
    }

    /// `lvcreate -s -V SIZE` (`--type snapshot` with a virtual size): a
    /// sparse snapshot over a hidden zero-filled origin `NAME_vorigin`.
    pub fn create_sparse(&mut self, request: &SparseRequest) -> Result<String> {
        let vg_name = self.vg_name();
        super::snapshots::check_chunk_size(request.chunk_sectors)
            .map_err(|e| LvmError::Usage(e.to_string()))?;
        self.need_driver_for_snapshot()?;
        let name = self.new_name(request.name.as_deref())?;
        let vorigin = format!("{name}_vorigin");
        if self.open.vg.lv(&vorigin).is_some() {
            return Err(LvmError::LvExists {
                vg: vg_name,
                lv: vorigin,
            });
        }
        let extent = self.open.vg.extent_size;
        let virtual_extents = request.virtual_bytes.div_ceil(512).div_ceil(extent);
        if virtual_extents == 0 {
            return Err(LvmError::Usage("Virtual size may not be zero.".into()));
        }
        let before = self.open.vg.clone();
        let mut next = before.clone();
        next.lvs.push(super::volumes::new_lv(
            &vorigin,
            vec![crate::lvm2::model::Segment {
                start_extent: 0,
                extent_count: virtual_extents,
                kind: SegmentKind::Other("zero".into()),
                extra: vec![],
            }],
            false,
            true,
        )?);
        let extents = extents_for(
            &next,
            request.size,
            Some((virtual_extents, request.chunk_sectors)),
        )?;
        add_snapshot_record(
            &mut next,
            &vorigin,
            &name,
            extents,
            request.chunk_sectors,
            false,
        )?;
        self.prepare_new(
            &next,
            &name,
            Prepare {
                zero: true,
                wipe: false,
            },
        )?;
        self.commit(next)?;
        if request.activate && self.devices().is_some() {
            if let Err(error) = self.activate(&name) {
                let live = self.live().unwrap_or_default();
                let _ = self.deactivate_unchecked(&live, &vorigin);
                let what = format!("activating {vg_name}/{name}");
                return Err(self.revert(before, what, error));
            }
        }
        log::print(format!("Logical volume \"{name}\" created."));
        Ok(name)
    }

    /// lvm2 builds every new snapshot through device-mapper (the COW is
    /// zeroed on a temporary activation), so without the driver it refuses.
    fn need_driver_for_snapshot(&self) -> Result<()> {
        if self.no_driver {
            return Err(LvmError::Refused(
                "Can't create snapshot without using device-mapper kernel driver.".into(),
            ));
        }
        Ok(())
    }

    /// Take down `stack`'s devices found in `live`, without the open checks.
    fn deactivate_unchecked(&self, live: &Live, stack: &str) -> Result<()> {
        let Some(backend) = self.devices() else {
            return Ok(());
        };
        let vg = &self.open.vg;
        let id = self.lv_id(stack)?;
        if let Some(top) = live.name(vg, &id, DmLayer::Top) {
            deactivate_device(backend, top)?;
        }
        for cow in snapshots_of(vg, stack) {
            let cow_id = self.lv_id(&cow)?;
            for layer in [DmLayer::Top, DmLayer::Cow] {
                if let Some(device) = live.name(vg, &cow_id, layer) {
                    deactivate_device(backend, device)?;
                }
            }
        }
        if let Some(real) = live.name(vg, &id, DmLayer::Real) {
            deactivate_device(backend, real)?;
        }
        Ok(())
    }

    /// `lvremove` of `name`. `confirm` is asked lvm2's question for an
    /// active LV (unless `force`); an open LV and a snapshot whose merge is
    /// pending are refused.
    pub fn remove(
        &mut self,
        name: &str,
        force: bool,
        confirm: &mut dyn FnMut(&str) -> bool,
    ) -> Result<()> {
        let vg_name = self.vg_name();
        self.stack_of(name)?;
        if let Some((_, _, _, true)) = snapshot_of(&self.open.vg, name) {
            return Err(LvmError::Refused(format!(
                "Can't remove merging snapshot logical volume \"{name}\"."
            )));
        }
        let snapshots = snapshots_of(&self.open.vg, name);
        if let Some(merging) = super::snapshots::merging_snapshot(&self.open.vg, name) {
            return Err(LvmError::Refused(format!(
                "Can't remove logical volume {vg_name}/{name} while snapshot {vg_name}/{merging} merges into it."
            )));
        }
        let live = self.live()?;
        let mut members = snapshots.clone();
        members.push(name.to_string());
        for member in &members {
            if self.open_count(&live, member)? > 0 {
                return Err(LvmError::InUse {
                    vg: vg_name,
                    lv: member.clone(),
                });
            }
        }
        let active = live
            .name(&self.open.vg, &self.lv_id(name)?, DmLayer::Top)
            .is_some();
        let origin_question = if active {
            format!(
                "Do you really want to remove active origin logical volume {vg_name}/{name} with {} snapshot(s)? [y/n]: ",
                snapshots.len()
            )
        } else {
            format!(
                "Removing origin {name} will also remove {} snapshots(s). Proceed? [y/n]: ",
                snapshots.len()
            )
        };
        if !snapshots.is_empty() && !force && !confirm(&origin_question) {
            return Err(LvmError::Refused(format!(
                "Logical volume {vg_name}/{name} not removed."
            )));
        }
        if active
            && snapshots.is_empty()
            && !force
            && !confirm(&format!(
                "Do you really want to remove active logical volume {vg_name}/{name}? [y/n]: "
            ))
        {
            return Err(LvmError::Refused(format!(
                "Logical volume {vg_name}/{name} not removed."
            )));
        }
        // Snapshots go first: each one's stack comes down, then its record.
        let mut doomed = snapshots;
        if snapshot_of(&self.open.vg, name).is_some() {
            doomed.push(name.to_string());
        }
        for cow in &doomed {
            let (origin, _, _, _) =
                snapshot_of(&self.open.vg, cow).ok_or_else(|| self.not_found(cow))?;
            if let Some(backend) = self.devices() {
                let live = self.live()?;
                self.adopt_names(&live, &origin)?;
                let others = snapshots_of(&self.open.vg, &origin).len() > 1;
                remove_snapshot(
                    backend,
                    &origin_spec(&self.open, &origin)?,
                    &snapshot_spec(&self.open, cow)?,
                    others,
                )?;
            }
            let mut next = self.open.vg.clone();
            remove_snapshot_record(&mut next, cow)?;
            // A sparse snapshot's zero origin goes with its last snapshot.
            if super::snapshots::is_virtual_origin(&next, &origin)
                && snapshots_of(&next, &origin).is_empty()
            {
                if let Some(backend) = self.devices() {
                    let live = self.live()?;
                    let id = self.lv_id(&origin)?;
                    if let Some(top) = live.name(&self.open.vg, &id, DmLayer::Top) {
                        deactivate_device(backend, top)?;
                    }
                }
                next.lvs.retain(|lv| lv.name != origin);
            }
            self.commit(next)?;
            log::print(format!("Logical volume \"{cow}\" successfully removed."));
        }
        if doomed.last().map(String::as_str) == Some(name) {
            return Ok(());
        }
        if let Some(backend) = self.devices() {
            let live = self.live()?;
            let id = self.lv_id(name)?;
            for layer in [DmLayer::Top, DmLayer::Real] {
                if let Some(device) = live.name(&self.open.vg, &id, layer) {
                    deactivate_device(backend, device)?;
                }
            }
        }
        let mut next = self.open.vg.clone();
        lv_remove(&mut next, name)?;
        self.commit(next)?;
        log::print(format!("Logical volume \"{name}\" successfully removed."));
        Ok(())
    }

    /// `lvrename`: the record, then every live layer (`-real`, `-cow`) in
    /// one suspend of the LV's visible device; a failed device rename takes
    /// the renames and the record back.
    pub fn rename(&mut self, old: &str, new: &str) -> Result<()> {
        let vg_name = self.vg_name();
        if self.open.vg.lv(old).is_none() {
            return Err(LvmError::Refused(format!(
                "Existing logical volume \"{old}\" not found in volume group \"{vg_name}\""
            )));
        }
        self.stack_of(old)?;
        if old == new {
            return Err(LvmError::Usage(
                "Old and new logical volume names must differ".into(),
            ));
        }
        check_new_lv_name(new, || {
            format!("New logical volume name \"{new}\" is invalid")
        })?;
        if self.open.vg.lv(new).is_some() {
            return Err(LvmError::LvExists {
                vg: vg_name,
                lv: new.to_string(),
            });
        }
        let id = self.lv_id(old)?;
        let live = self.live()?;
        let before = self.open.vg.clone();
        let mut next = before.clone();
        lv_rename(&mut next, old, new)?;
        self.commit(next)?;
        if let Some(backend) = self.devices() {
            let mut renames = Vec::new();
            for layer in [DmLayer::Top, DmLayer::Real, DmLayer::Cow] {
                if let Some(have) = live.name(&before, &id, layer) {
                    renames.push((have.to_string(), dm_name(&vg_name, new, layer)?));
                }
            }
            let hold = live.name(&before, &id, DmLayer::Top).map(str::to_string);
            if let Err(error) = rename_devices(backend, hold.as_deref(), &renames) {
                let what = format!("renaming the devices of {vg_name}/{old}");
                return Err(self.revert(before, what, error.into()));
            }
        }
        log::print(format!(
            "Renamed \"{old}\" to \"{new}\" in volume group \"{vg_name}\""
        ));
        Ok(())
    }

    /// Activate `name` with what it needs (an origin with its snapshots, a
    /// snapshot through its origin). A merge recorded as pending starts
    /// only when the origin is not open. Returns whether a merge runs.
    pub fn activate(&mut self, name: &str) -> Result<bool> {
        let stack = self.stack_of(name)?;
        let Some(backend) = self.devices() else {
            return Ok(false);
        };
        let live = self.live()?;
        self.adopt_names(&live, &stack)?;
        let vg = &self.open.vg;
        let snapshots = snapshots_of(vg, &stack);
        let origin = origin_spec(&self.open, &stack)?;
        if snapshots.is_empty() {
            activate_device(backend, &origin.top)?;
            return Ok(false);
        }
        activate_origin(backend, &origin)?;
        for cow in &snapshots {
            let snap = snapshot_spec(&self.open, cow)?;
            if exists(backend, &snap.name)?.is_none() {
                add_snapshot(backend, &origin, &snap, None)?;
            }
        }
        let Some(merging) = super::snapshots::merging_snapshot(vg, &stack) else {
            return Ok(false);
        };
        if is_merging(backend, &origin.top.name)? {
            return Ok(true);
        }
        let info = backend.info(&origin.top.name)?;
        if info.open_count > 0 {
            log::print("Delaying merge since origin is open.");
            return Ok(false);
        }
        start_merge(backend, &origin, &snapshot_spec(&self.open, &merging)?)?;
        Ok(true)
    }

    /// Deactivate `name` and its stack (found by UUID); an open LV is refused.
    pub fn deactivate(&mut self, name: &str) -> Result<()> {
        let vg_name = self.vg_name();
        let stack = self.stack_of(name)?;
        let Some(backend) = self.devices() else {
            return Ok(());
        };
        let live = self.live()?;
        let mut members = vec![stack.clone()];
        members.extend(snapshots_of(&self.open.vg, &stack));
        for member in &members {
            if self.open_count(&live, member)? > 0 {
                return Err(LvmError::InUse {
                    vg: vg_name,
                    lv: member.clone(),
                });
            }
        }
        let vg = &self.open.vg;
        let id = self.lv_id(&stack)?;
        if let Some(top) = live.name(vg, &id, DmLayer::Top) {
            deactivate_device(backend, top)?;
        }
        for cow in &members[1..] {
            let cow_id = self.lv_id(cow)?;
            for layer in [DmLayer::Top, DmLayer::Cow] {
                if let Some(device) = live.name(vg, &cow_id, layer) {
                    deactivate_device(backend, device)?;
                }
            }
        }
        if let Some(real) = live.name(vg, &id, DmLayer::Real) {
            deactivate_device(backend, real)?;
        }
        Ok(())
    }

    /// Every top-level LV (origins carry their snapshots), in metadata order.
    pub fn stacks(&self) -> Vec<String> {
        let vg = &self.open.vg;
        vg.lvs
            .iter()
            .filter(|lv| {
                !lv.segments
                    .iter()
                    .any(|s| matches!(s.kind, SegmentKind::Snapshot { .. }))
            })
            .filter(|lv| snapshot_of(vg, &lv.name).is_none())
            .map(|lv| lv.name.clone())
            .collect()
    }

    /// `lvextend` of `name` by `add` extents: record, commit, reload the live
    /// device (a snapshot's `-cow`); a failed reload commits the old record back.
    pub fn extend(&mut self, name: &str, add: u64) -> Result<(u64, u64)> {
        self.extend_placed(name, add, &Placement::default())
    }

    /// [`Session::extend`] placed by `placement` (`-i`, `-I`, PV arguments,
    /// `--alloc`); a striped LV keeps its stripes, `add` rounded up to them.
    pub fn extend_placed(
        &mut self,
        name: &str,
        add: u64,
        placement: &Placement,
    ) -> Result<(u64, u64)> {
        let vg_name = self.vg_name();
        self.stack_of(name)?;
        let lv = self.open.vg.lv(name).ok_or_else(|| self.not_found(name))?;
        let current = lv_extents(lv);
        let pvs = place::resolve_pvs(&self.open, &placement.pvs)?;
        // Without --alloc an LV is extended by the policy recorded on it.
        let mut placement = placement.clone();
        if placement.policy_name.is_none() {
            placement.policy =
                crate::ops::alloc::Policy::parse(crate::ops::alloc::recorded_policy(lv))
                    .unwrap_or_default();
        }
        let allocation = place::extend_request(&self.open.vg, lv, &placement, pvs, add)?;
        let add = allocation.extents;
        let is_snapshot = snapshot_of(&self.open.vg, name).is_some();
        let active = self.is_active(name)?;
        if !is_snapshot && active && !snapshots_of(&self.open.vg, name).is_empty() {
            return Err(LvmError::Refused(format!(
                "{vg_name}/{name}: snapshot origin volumes can be resized only while inactive"
            )));
        }
        let before = self.open.vg.clone();
        let mut next = before.clone();
        super::snapshots::extend_record_with(&mut next, name, &allocation)?;
        self.commit(next)?;
        if active {
            if let Some(backend) = self.devices() {
                let grown = (|| -> Result<()> {
                    let live = self.live()?;
                    self.adopt_names(&live, name)?;
                    self.reload_size(backend, name, is_snapshot)
                })();
                if let Err(error) = grown {
                    let what = format!("resizing {vg_name}/{name}");
                    return Err(self.revert(before, what, error));
                }
            }
        }
        let extent_mib = self.open.vg.extent_size as f64 / 2048.0;
        log::print(format!(
            "Size of logical volume {vg_name}/{name} changed from {:.2} MiB ({current} extents) to {:.2} MiB ({} extents).",
            current as f64 * extent_mib,
            (current + add) as f64 * extent_mib,
            current + add
        ));
        Ok((current, current + add))
    }

    /// `lvreduce` of `name` to `target` extents: a linear LV (after `confirm`
    /// unless `force`), or a snapshot's COW, never below what its
    /// exceptions already use.
    pub fn reduce(
        &mut self,
        name: &str,
        target: u64,
        force: bool,
        confirm: &mut dyn FnMut(&str) -> bool,
    ) -> Result<(u64, u64)> {
        let vg_name = self.vg_name();
        self.stack_of(name)?;
        let current = lv_extents(self.open.vg.lv(name).ok_or_else(|| self.not_found(name))?);
        if target >= current {
            return Err(LvmError::Usage(format!(
                "New size given ({target} extents) not less than existing size ({current} extents)"
            )));
        }
        let is_snapshot = snapshot_of(&self.open.vg, name).is_some();
        let active = self.is_active(name)?;
        let extent = self.open.vg.extent_size;
        if is_snapshot {
            match self.snapshot_status(name)? {
                Some(SnapshotStatus::Usage {
                    allocated_sectors, ..
                }) => {
                    if target * extent < allocated_sectors {
                        return Err(LvmError::Refused(format!(
                            "Cannot reduce snapshot {vg_name}/{name} to {}: its exceptions use {}.",
                            display_size(target * extent),
                            display_size(allocated_sectors)
                        )));
                    }
                }
                _ if active => {
                    return Err(LvmError::Refused(format!(
                        "Cannot reduce snapshot {vg_name}/{name}: its usage cannot be read."
                    )))
                }
                _ => {
                    return Err(LvmError::Refused(format!(
                        "Cannot reduce inactive snapshot {vg_name}/{name}: activate it so its usage can be checked."
                    )))
                }
            }
        } else {
            if !snapshots_of(&self.open.vg, name).is_empty() {
                return Err(LvmError::Refused(format!(
                    "Snapshot origin volumes cannot be reduced in size yet: {vg_name}/{name}."
                )));
            }
            // As lvm2: an inactive LV holds no mounted data to warn about;
            // an active one is warned about even with -f, asked about without.
            if active {
                let open = if self.open_count(&self.live()?, name)? > 0 {
                    " and open"
                } else {
                    ""
                };
                log::warning(format!(
                    "Reducing active{open} logical volume to {}.",
                    display_size(target * extent)
                ));
                log::warning("THIS MAY DESTROY YOUR DATA (filesystem etc.)");
                if !force
                    && !confirm(&format!(
                        "Do you really want to reduce {vg_name}/{name}? [y/n]: "
                    ))
                {
                    return Err(LvmError::Refused(format!(
                        "Logical volume {vg_name}/{name} NOT reduced."
                    )));
                }
            }
        }
        let before = self.open.vg.clone();
        let mut next = before.clone();
        let lv = next
            .lvs
            .iter_mut()
            .find(|l| l.name == name)
            .ok_or_else(|| self.not_found(name))?;
        let mut keep = target;
        lv.segments.retain_mut(|seg| {
            if keep == 0 {
                return false;
            }
            seg.extent_count = seg.extent_count.min(keep);
            keep -= seg.extent_count;
            true
        });
        self.commit(next)?;
        if active {
            if let Some(backend) = self.devices() {
                let shrunk = self.reload_size(backend, name, is_snapshot);
                if let Err(error) = shrunk {
                    let what = format!("resizing {vg_name}/{name}");
                    return Err(self.revert(before, what, error));
                }
            }
        }
        let extent_mib = extent as f64 / 2048.0;
        log::print(format!(
            "Size of logical volume {vg_name}/{name} changed from {:.2} MiB ({current} extents) to {:.2} MiB ({target} extents).",
            current as f64 * extent_mib,
            target as f64 * extent_mib,
        ));
        Ok((current, target))
    }

    /// Grow snapshot `name`'s COW by `percent` of its size, as the
    /// autoextend policy does (`lvextend --use-policies`, the monitor).
    pub fn autoextend(&mut self, name: &str, percent: u32) -> Result<Autoextend> {
        if snapshot_of(&self.open.vg, name).is_none() {
            return Err(LvmError::Refused(
                "Policy-based resize is supported only for snapshot volumes.".into(),
            ));
        }
        let current = lv_extents(self.open.vg.lv(name).ok_or_else(|| self.not_found(name))?);
        let add = crate::monitor::policy::extents_for_percent(current, percent).max(1);
        let free = super::volumes::free_extents(&self.open.vg);
        if free < add {
            return Ok(Autoextend::NoSpace { free, needed: add });
        }
        let (from, to) = self.extend(name, add)?;
        Ok(Autoextend::Grown { from, to })
    }

    /// The status of snapshot `name`'s live device, if it is active.
    pub fn snapshot_status(&self, name: &str) -> Result<Option<SnapshotStatus>> {
        let (Some(backend), Ok(id)) = (self.backend, self.lv_id(name)) else {
            return Ok(None);
        };
        let live = self.live()?;
        let Some(device) = live.name(&self.open.vg, &id, DmLayer::Top) else {
            return Ok(None);
        };
        let line = backend.status(device)?.into_iter().next();
        Ok(line.and_then(|l| l.params.parse().ok()))
    }

    /// `lvconvert --merge` of snapshot `snap`: refuses an invalid snapshot
    /// and a second merge into one origin, records the merge, and starts it
    /// when the origin is active and not open.
    pub fn merge(&mut self, snap: &str) -> Result<MergeStart> {
        let vg_name = self.vg_name();
        let Some((origin, _, hidden, already)) = snapshot_of(&self.open.vg, snap) else {
            if self.open.vg.lv(snap).is_none() {
                return Err(self.not_found(snap));
            }
            return Err(LvmError::Refused(format!(
                "{vg_name}/{snap} cannot be merged because --trackchanges was not used."
            )));
        };
        if super::snapshots::is_virtual_origin(&self.open.vg, &origin) {
            return Err(LvmError::Refused(format!(
                "Snapshot {vg_name}/{snap} has virtual origin."
            )));
        }
        if let Some(other) = super::snapshots::merging_snapshot(&self.open.vg, &origin) {
            if other != snap {
                return Err(LvmError::Refused(format!(
                    "Cannot merge snapshot \"{vg_name}/{snap}\" into the origin \"{vg_name}/{origin}\" with merging snapshot \"{vg_name}/{other}\"."
                )));
            }
        }
        if self.no_driver {
            // lvm2 checks for the snapshot-merge target before recording anything.
            return Err(LvmError::Refused(
                "Can't initialize snapshot merge. Missing support in kernel?".into(),
            ));
        }
        if let Some(SnapshotStatus::Invalid) = self.snapshot_status(snap)? {
            return Err(LvmError::Refused(format!(
                "Unable to merge invalidated snapshot LV \"{vg_name}/{snap}\"."
            )));
        }
        if !already {
            let mut next = self.open.vg.clone();
            for lv in next.lvs.iter_mut().filter(|lv| lv.name == hidden) {
                for seg in &mut lv.segments {
                    if let SegmentKind::Snapshot { merging, .. } = &mut seg.kind {
                        *merging = true;
                    }
                }
            }
            self.commit(next)?;
        }
        let Some(backend) = self.devices() else {
            return Ok(MergeStart::Deferred);
        };
        let live = self.live()?;
        let origin_id = self.lv_id(&origin)?;
        if live.name(&self.open.vg, &origin_id, DmLayer::Top).is_none() {
            return Ok(MergeStart::Deferred);
        }
        self.adopt_names(&live, &origin)?;
        let origin_devices = origin_spec(&self.open, &origin)?;
        if is_merging(backend, &origin_devices.top.name)? {
            return Ok(MergeStart::Running);
        }
        if backend.info(&origin_devices.top.name)?.open_count > 0 {
            return Ok(MergeStart::DelayedOpen);
        }
        start_merge(backend, &origin_devices, &snapshot_spec(&self.open, snap)?)?;
        Ok(MergeStart::Started)
    }

    /// Wait for the running merge into `origin` to finish, then drop the
    /// merged snapshot (the origin stays `snapshot-origin` of any others).
    /// Returns the merged snapshot, or `None` when no merge runs.
    pub fn finish_merge(
        &mut self,
        origin: &str,
        interval: Duration,
        progress: impl FnMut(f64),
    ) -> Result<Option<String>> {
        let Some(snap) = super::snapshots::merging_snapshot(&self.open.vg, origin) else {
            return Ok(None);
        };
        let Some(backend) = self.devices() else {
            return Ok(None);
        };
        let top = dm_name(&self.open.vg.name, origin, DmLayer::Top)?;
        if !is_merging(backend, &top)? {
            return Ok(None);
        }
        super::snapshots::complete_merge(backend, &mut self.open, &snap, interval, progress)?;
        Ok(Some(snap))
    }

    /// `vgremove` of a VG with LVs: deactivate every stack (taking back the
    /// deactivations if one fails), then drop every record and the VG.
    pub fn remove_vg(mut self) -> Result<()> {
        let stacks = self.stacks();
        let live = self.live()?;
        for stack in &stacks {
            let mut members = vec![stack.clone()];
            members.extend(snapshots_of(&self.open.vg, stack));
            for member in &members {
                if self.open_count(&live, member)? > 0 {
                    return Err(LvmError::InUse {
                        vg: self.vg_name(),
                        lv: member.clone(),
                    });
                }
            }
        }
        let mut done: Vec<String> = Vec::new();
        for stack in &stacks {
            let was_active = self.is_active(stack)?;
            if let Err(error) = self.deactivate(stack) {
                for back in done.iter().rev() {
                    let _ = self.activate(back);
                }
                return Err(error);
            }
            if was_active {
                done.push(stack.clone());
            }
        }
        // lvm2's order and names: each origin's snapshots just before it,
        // never a snapshot's hidden record (snapshotN) or a hidden origin.
        let vg = &self.open.vg;
        let mut names: Vec<String> = Vec::new();
        for lv in &vg.lvs {
            let record = lv
                .segments
                .iter()
                .any(|s| matches!(s.kind, SegmentKind::Snapshot { .. }));
            if record || snapshot_of(vg, &lv.name).is_some() {
                continue;
            }
            names.extend(snapshots_of(vg, &lv.name));
            if lv.has(LvFlag::Visible) {
                names.push(lv.name.clone());
            }
        }
        let mut next = self.open.vg.clone();
        next.lvs.clear();
        self.commit(next)?;
        for name in names {
            log::print(format!("Logical volume \"{name}\" successfully removed."));
        }
        if !self.test {
            super::volumes::vg_remove(self.open)?;
        }
        Ok(())
    }

    /// `vgremove` of an empty VG.
    pub fn remove_empty_vg(self) -> Result<()> {
        if !self.test {
            super::volumes::vg_remove(self.open)?;
        }
        Ok(())
    }
}

/// A VG record not yet committed, over the paths of the VG it will replace.
struct OpenVgView<'v> {
    open: &'v OpenVg,
    vg: &'v Vg,
}

impl OpenVgView<'_> {
    fn region(&self, lv: &crate::lvm2::model::Lv) -> Result<wipe::LvRegion, VolumeError> {
        wipe::LvRegion::of_vg(
            self.vg,
            &|key| self.open.path_of(key).map(|p| p.to_path_buf()),
            lv,
        )
    }
}

fn exists(backend: &dyn Backend, name: &str) -> Result<Option<crate::backend::DeviceInfo>> {
    match backend.info(name) {
        Ok(info) => Ok(Some(info)),
        Err(BackendError::NoSuchDevice { .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

fn is_merging(backend: &dyn Backend, top: &str) -> Result<bool> {
    match backend.table(top, TableSlot::Live) {
        Ok(table) => Ok(table
            .first()
            .is_some_and(|l| l.target_type == "snapshot-merge")),
        Err(BackendError::NoSuchDevice { .. }) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// The LVs of `vg` an LV command given the VG alone (`tag: None`) or
/// `@tag` acts on, in metadata order: every visible LV, or those carrying
/// the tag (all of them when the VG carries it), as lvm2 selects them.
pub fn lvs_selected(vg: &Vg, tag: Option<&str>) -> Vec<String> {
    use crate::ops::vg_change::tags;
    let whole_vg = tag.is_none_or(|t| tags(&vg.extra).iter().any(|x| x == t));
    // lvm2's visible LVs: a snapshot is its COW LV, shown through the
    // VISIBLE hidden snapshotN record, which itself is never named.
    vg.lvs
        .iter()
        .filter(|lv| {
            let record = lv
                .segments
                .iter()
                .any(|s| matches!(s.kind, SegmentKind::Snapshot { .. }));
            !record && (lv.has(LvFlag::Visible) || snapshot_of(vg, &lv.name).is_some())
        })
        .filter(|lv| whole_vg || tag.is_some_and(|t| tags(&lv.extra).iter().any(|x| x == t)))
        .map(|lv| lv.name.clone())
        .collect()
}

/// Check a new LV name as lvcreate and lvrename do, in lvm2's words:
/// `invalid` words a name that breaks the common rules (each command has
/// its own sentence), reserved names get lvm2's shared one.
fn check_new_lv_name(name: &str, invalid: impl FnOnce() -> String) -> Result<()> {
    use crate::names::{RESERVED_LV_PREFIXES, RESERVED_LV_SUBSTRINGS};
    if crate::names::validate_name(name).is_err() {
        return Err(LvmError::Usage(invalid()));
    }
    let reserved = |how: &str, part: &str| {
        Err(LvmError::Usage(format!(
            "Names {how} \"{part}\" are reserved. Please choose a different LV name."
        )))
    };
    if let Some(prefix) = RESERVED_LV_PREFIXES.iter().find(|p| name.starts_with(*p)) {
        return reserved("starting", prefix);
    }
    if let Some(part) = RESERVED_LV_SUBSTRINGS.iter().find(|p| name.contains(*p)) {
        return reserved("including", part);
    }
    crate::names::validate_lv_name(name)?;
    Ok(())
}

/// An error and its causes on one line, each once (`a: b: c`).
pub fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(next) = cause {
        let part = next.to_string();
        if !text.ends_with(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        cause = next.source();
    }
    text
}

/// The default chunk size of a new snapshot, in sectors.
pub const DEFAULT_CHUNK: u64 = DEFAULT_CHUNK_SECTORS;
