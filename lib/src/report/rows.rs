//! What a report knows of each VG, LV, segment and PV, gathered once from
//! the metadata found on the disks and, when a backend is open, from device
//! state: plain structs the field values ([`super::values`]) are read from.

use std::collections::{HashMap, HashSet};

use crate::backend::{Backend, BackendKind, DeviceInfo, TableSlot};
use crate::lvm2::label::Label;
use crate::lvm2::model::{Lv, SegmentKind, Vg};
use crate::lvm2::text::{Item, Value};
use crate::names::{dm_name, DmLayer};
use crate::ops::volumes::{free_extents, free_runs, LabelledPv};

use super::attr::{lv_attr, ActiveState, AttrInput, VolumeRole};
use super::percent::Percent;

/// One segment of an LV.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SegInfo {
    /// First logical extent.
    pub start_extent: u64,
    /// Length in extents.
    pub extent_count: u64,
    /// `linear`, `striped`, or the type as recorded.
    pub segtype: String,
    /// (PV name, first physical extent) per stripe.
    pub stripes: Vec<(String, u64)>,
    /// Stripe size in sectors (0 for one stripe).
    pub stripe_size: u64,
    /// Segment tags.
    pub tags: Vec<String>,
}

/// One LV as a report shows it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LvInfo {
    /// The recorded allocation policy (`inherit` when none).
    pub allocation_policy: String,
    /// Name (hidden LVs in brackets).
    pub name: String,
    /// The name without brackets.
    pub bare_name: String,
    /// VG name.
    pub vg_name: String,
    /// UUID, dashed.
    pub uuid: String,
    /// `lv_attr`.
    pub attr: String,
    /// Size in sectors (a snapshot's is its COW's).
    pub size_sectors: u64,
    /// Snapshot: its origin's name.
    pub origin: String,
    /// Snapshot: its origin's UUID.
    pub origin_uuid: String,
    /// Origin size in sectors, on a snapshot's row and on the origin's own.
    pub origin_size_sectors: Option<u64>,
    /// Data% of an active snapshot.
    pub data_percent: Option<Percent>,
    /// Snapshot chunk size in sectors (0 otherwise).
    pub chunk_sectors: u64,
    /// Its role: plain, origin or snapshot.
    pub role: VolumeRole,
    /// Visible (not in brackets).
    pub visible: bool,
    /// Writable (`WRITE` status).
    pub writable: bool,
    /// Device state: `None` without a backend, `Some(None)` when not active.
    pub device: Option<Option<(ActiveState, DeviceInfo)>>,
    /// Path under /dev.
    pub path: String,
    /// Path of the device-mapper node.
    pub dm_path: String,
    /// Creation time, seconds since the epoch.
    pub time: Option<i64>,
    /// Creation host.
    pub host: String,
    /// Tags.
    pub tags: Vec<String>,
    /// The snapshots of an origin.
    pub snapshots: Vec<String>,
    /// Segments.
    pub segments: Vec<SegInfo>,
    /// Extent size of its VG, in sectors.
    pub extent_size: u64,
}

/// One PV segment: a run of extents, allocated to an LV or free.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PvSegInfo {
    /// First physical extent.
    pub start: u64,
    /// Length in extents.
    pub size: u64,
    /// The LV (its index in the VG's LV list) and segment using it; `None` when free.
    pub used_by: Option<(usize, usize)>,
}

/// One PV as a report shows it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PvInfo {
    /// Device path.
    pub name: String,
    /// VG name, empty for an orphan.
    pub vg_name: String,
    /// UUID, dashed.
    pub uuid: String,
    /// `pv_attr`.
    pub attr: String,
    /// Size in sectors (extents in a VG, the device for an orphan).
    pub size_sectors: u64,
    /// Free sectors.
    pub free_sectors: u64,
    /// Device size in sectors.
    pub dev_size_sectors: u64,
    /// First data sector.
    pub pe_start_sectors: u64,
    /// Extents.
    pub pe_count: u64,
    /// Allocated extents.
    pub pe_alloc_count: u64,
    /// Metadata areas.
    pub mda_count: u64,
    /// Smallest metadata area in sectors, without its header sector... as lvm2 counts it.
    pub mda_size_sectors: Option<u64>,
    /// The least free space among its metadata areas, in sectors (lvm2's `pv_mda_free`).
    pub mda_free_sectors: u64,
    /// Tags.
    pub tags: Vec<String>,
    /// Device major and minor.
    pub dev: Option<(u32, u32)>,
    /// Allocatable.
    pub allocatable: bool,
    /// Extents in runs.
    pub segments: Vec<PvSegInfo>,
    /// Extent size of its VG in sectors (0 for an orphan).
    pub extent_size: u64,
}

/// One VG with everything in it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VgInfo {
    /// Name.
    pub name: String,
    /// UUID, dashed.
    pub uuid: String,
    /// `vg_attr`.
    pub attr: String,
    /// Writable.
    pub writable: bool,
    /// Resizeable (extendable).
    pub resizeable: bool,
    /// Number of PVs.
    pub pv_count: u64,
    /// Visible LVs (snapshots included), as lvm2's `lv_count`.
    pub lv_count: u64,
    /// Snapshots.
    pub snap_count: u64,
    /// Size in sectors.
    pub size_sectors: u64,
    /// Free sectors.
    pub free_sectors: u64,
    /// Extent size in sectors.
    pub extent_sectors: u64,
    /// Extents.
    pub extent_count: u64,
    /// Free extents.
    pub free_count: u64,
    /// Metadata sequence number.
    pub seqno: u64,
    /// Tags.
    pub tags: Vec<String>,
    /// `max_lv`, `max_pv`.
    pub max_lv: u64,
    /// `max_pv`.
    pub max_pv: u64,
    /// Every LV a report lists (hidden ones flagged), in metadata order.
    pub lvs: Vec<LvInfo>,
    /// PVs in metadata order.
    pub pvs: Vec<PvInfo>,
}

/// The tags recorded in `items` (`tags = [...]`).
pub fn tags_of(items: &[Item]) -> Vec<String> {
    let mut tags: Vec<String> = items
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
        .unwrap_or_default();
    // lvm2 keeps tags in a sorted list.
    tags.sort();
    tags
}

fn int_of(items: &[Item], name: &str) -> Option<i64> {
    items.iter().find_map(|item| match item {
        Item::Setting(key, Value::Int(n)) if key == name => Some(*n),
        _ => None,
    })
}

/// What the backend is asked about each LV: nothing without a backend; with
/// one, the devices it lists, so only those are queried one by one (a VG of
/// a thousand inactive LVs costs one request, not a thousand).
struct Devices<'a> {
    backend: Option<&'a dyn Backend>,
    listed: Option<HashSet<String>>,
}

impl<'a> Devices<'a> {
    fn new(backend: Option<&'a dyn Backend>) -> Self {
        let listed = backend
            .and_then(|b| b.list().ok())
            .map(|list| list.into_iter().map(|d| d.name).collect());
        Self { backend, listed }
    }

    /// `None` without a backend (state unknown), `Some(None)` when the device does not exist.
    fn state(&self, name: &str) -> Option<Option<(ActiveState, DeviceInfo, String)>> {
        let backend = self.backend?;
        if self.listed.as_ref().is_some_and(|l| !l.contains(name)) {
            return Some(None);
        }
        match backend.info(name) {
            Ok(info) => {
                let status = backend
                    .status(name)
                    .ok()
                    .and_then(|s| s.first().map(|l| l.params.clone()))
                    .unwrap_or_default();
                let target = backend
                    .table(name, TableSlot::Live)
                    .ok()
                    .and_then(|t| t.first().map(|l| l.target_type.clone()))
                    .unwrap_or_default();
                let state = ActiveState {
                    suspended: info.suspended,
                    live_table: info.live_table,
                    inactive_table: info.inactive_table,
                    open: info.open_count > 0,
                    read_only: info.read_only,
                    snapshot_invalid: target == "snapshot" && status == "Invalid",
                    merge_failed: status == "Merge failed",
                    read_ahead_sectors: (backend.kind() == BackendKind::Kernel)
                        .then(|| kernel_read_ahead(&info))
                        .flatten(),
                };
                Some(Some((state, info, status)))
            }
            Err(_) => Some(None),
        }
    }
}

/// The kernel's read-ahead of a dm device in sectors, as lvm2 reads it
/// (`lv_kernel_read_ahead`, lvdisplay's "currently set to").
fn kernel_read_ahead(info: &DeviceInfo) -> Option<u64> {
    let path = format!(
        "/sys/dev/block/{}:{}/queue/read_ahead_kb",
        info.major, info.minor
    );
    let kib: u64 = std::fs::read_to_string(path).ok()?.trim().parse().ok()?;
    Some(kib * 2)
}

/// lvm2's `vg_attr` for a VG rlvm can write.
pub fn vg_attr(vg: &Vg) -> String {
    let w = if vg.status.iter().any(|s| s == "WRITE") {
        'w'
    } else {
        'r'
    };
    let z = if vg.status.iter().any(|s| s == "RESIZEABLE") {
        'z'
    } else {
        '-'
    };
    format!("{w}{z}--n-")
}

/// Data% of a snapshot as lvm2's lvs computes it.
pub fn snapshot_percent(status: &crate::dm::SnapshotStatus) -> Percent {
    use super::percent::{make_percent, PERCENT_0, PERCENT_100, PERCENT_INVALID};
    use crate::dm::SnapshotStatus;
    match *status {
        SnapshotStatus::Invalid => PERCENT_100,
        SnapshotStatus::Usage {
            allocated_sectors,
            total_sectors,
            metadata_sectors,
        } => {
            if allocated_sectors == metadata_sectors {
                PERCENT_0
            } else {
                make_percent(allocated_sectors, total_sectors)
            }
        }
        _ => PERCENT_INVALID,
    }
}

fn segments_of(vg: &Vg, lv: &Lv, pv_name: &dyn Fn(&str) -> String) -> Vec<SegInfo> {
    lv.segments
        .iter()
        .map(|s| {
            let (segtype, stripes, stripe_size) = match &s.kind {
                SegmentKind::Striped {
                    stripes,
                    stripe_size,
                } => (
                    if stripes.len() == 1 {
                        "linear"
                    } else {
                        "striped"
                    }
                    .to_string(),
                    stripes.iter().map(|(pv, pe)| (pv_name(pv), *pe)).collect(),
                    if stripes.len() > 1 {
                        stripe_size.unwrap_or(0)
                    } else {
                        0
                    },
                ),
                SegmentKind::Snapshot { .. } => ("snapshot".into(), Vec::new(), 0),
                SegmentKind::Other(name) => (name.clone(), Vec::new(), 0),
            };
            let _ = vg;
            SegInfo {
                start_extent: s.start_extent,
                extent_count: s.extent_count,
                segtype,
                stripes,
                stripe_size,
                tags: tags_of(&s.extra),
            }
        })
        .collect()
}

/// Every LV of `vg` a report can list: snapshots' hidden records never;
/// the rest with `visible` telling whether lvs lists it without `-a`.
pub fn lv_infos(
    vg: &Vg,
    backend: Option<&dyn Backend>,
    pv_name: &dyn Fn(&str) -> String,
) -> Vec<LvInfo> {
    let by_name: HashMap<&str, &Lv> = vg.lvs.iter().map(|l| (l.name.as_str(), l)).collect();
    // Per COW its (origin, chunk size, merging), the first record naming it;
    // per origin whether one merges and its snapshots.
    let mut snapshot_of: HashMap<&str, (&str, u64, bool)> = HashMap::new();
    let mut origins: HashMap<&str, (bool, Vec<String>)> = HashMap::new();
    for segment in vg.lvs.iter().flat_map(|l| &l.segments) {
        if let SegmentKind::Snapshot {
            origin,
            cow,
            chunk_size,
            merging,
        } = &segment.kind
        {
            snapshot_of
                .entry(cow.as_str())
                .or_insert((origin.as_str(), *chunk_size, *merging));
            let entry = origins.entry(origin.as_str()).or_default();
            entry.0 |= *merging;
            entry.1.push(cow.clone());
        }
    }
    let devices = Devices::new(backend);
    let size_of =
        |lv: &Lv| lv.segments.iter().map(|s| s.extent_count).sum::<u64>() * vg.extent_size;
    let mut rows = Vec::with_capacity(vg.lvs.len());
    for lv in &vg.lvs {
        // lvm2 never lists a snapshot's hidden record, even with -a.
        if lv
            .segments
            .iter()
            .any(|s| matches!(s.kind, SegmentKind::Snapshot { .. }))
        {
            continue;
        }
        let snapshot = snapshot_of.get(lv.name.as_str()).copied();
        // lvm2's lv_is_visible: a COW through its origin unless merging, else the VISIBLE flag.
        let flagged = |name: &str| {
            by_name
                .get(name)
                .is_some_and(|l| l.status.iter().any(|s| s == "VISIBLE"))
        };
        let visible = match snapshot {
            // A sparse snapshot's origin is hidden (NAME_vorigin) but the snapshot is shown.
            Some((origin, _, merging)) => {
                !merging
                    && (flagged(origin) || crate::ops::snapshots::is_virtual_origin(vg, origin))
            }
            None => flagged(&lv.name),
        };
        let origin_of = origins.get(lv.name.as_str());
        let role = match (snapshot, origin_of) {
            (Some((_, _, merging)), _) => VolumeRole::Snapshot { merging },
            (None, Some((merging, _))) => VolumeRole::Origin { merging: *merging },
            (None, None) => VolumeRole::Plain,
        };
        let dm = dm_name(&vg.name, &lv.name, DmLayer::Top).unwrap_or_default();
        let state = devices.state(&dm);
        let data_percent = match (snapshot, &state) {
            (Some(_), Some(Some((_, _, status)))) => status
                .parse::<crate::dm::SnapshotStatus>()
                .ok()
                .map(|s| snapshot_percent(&s)),
            _ => None,
        };
        let writable = lv.status.iter().any(|s| s == "WRITE");
        let attr = lv_attr(&AttrInput {
            role,
            writable,
            alloc: crate::ops::alloc::policy_attr(crate::ops::alloc::recorded_policy(lv)),
            fixed_minor: false,
            activation: state.as_ref().map(|s| s.as_ref().map(|(a, _, _)| *a)),
            partial: false,
            activation_skip: false,
        });
        let origin_lv = snapshot.and_then(|(origin, _, _)| by_name.get(origin).copied());
        rows.push(LvInfo {
            allocation_policy: crate::ops::alloc::recorded_policy(lv).to_string(),
            name: if visible {
                lv.name.clone()
            } else {
                format!("[{}]", lv.name)
            },
            bare_name: lv.name.clone(),
            vg_name: vg.name.clone(),
            uuid: lv.id.clone(),
            attr,
            size_sectors: size_of(lv),
            origin: snapshot.map(|s| s.0.to_string()).unwrap_or_default(),
            origin_uuid: origin_lv.map(|o| o.id.clone()).unwrap_or_default(),
            origin_size_sectors: match (origin_lv, origin_of) {
                (Some(origin), _) => Some(size_of(origin)),
                (None, Some(_)) => Some(size_of(lv)),
                (None, None) => None,
            },
            data_percent,
            chunk_sectors: snapshot.map_or(0, |s| s.1),
            role,
            visible,
            writable,
            device: state.map(|s| s.map(|(a, info, _)| (a, info))),
            // The paths that exist on the backend in use (the engine's
            // $RLVM_DIR/VG/LV links and mapper files); lvm2's without one.
            path: backend.map_or_else(
                || format!("/dev/{}/{}", vg.name, lv.name),
                |b| b.lv_path(&vg.name, &lv.name).display().to_string(),
            ),
            dm_path: backend.map_or_else(
                || format!("/dev/mapper/{dm}"),
                |b| b.lv_dm_path(&vg.name, &lv.name).display().to_string(),
            ),
            time: lv.creation_time,
            host: lv.creation_host.clone().unwrap_or_default(),
            tags: tags_of(&lv.extra),
            snapshots: origin_of.map(|o| o.1.clone()).unwrap_or_default(),
            segments: segments_of(vg, lv, pv_name),
            extent_size: vg.extent_size,
        });
    }
    rows
}

/// The PV runs of `vg`'s PV `key`, allocated and free, in extent order.
fn pv_segments(vg: &Vg, lvs: &[LvInfo], key: &str, pe_count: u64) -> Vec<PvSegInfo> {
    let mut used: Vec<PvSegInfo> = Vec::new();
    for (lv_index, lv) in vg.lvs.iter().enumerate() {
        // A reported LV index: the position among the listed LVs.
        let Some(listed) = lvs.iter().position(|l| l.bare_name == lv.name) else {
            continue;
        };
        let _ = lv_index;
        for (seg_index, seg) in lv.segments.iter().enumerate() {
            if let SegmentKind::Striped { stripes, .. } = &seg.kind {
                let per_stripe = seg.extent_count / stripes.len().max(1) as u64;
                for (pv, pe) in stripes {
                    if pv == key {
                        used.push(PvSegInfo {
                            start: *pe,
                            size: per_stripe,
                            used_by: Some((listed, seg_index)),
                        });
                    }
                }
            }
        }
    }
    used.sort_by_key(|s| s.start);
    let mut all = Vec::new();
    let mut at = 0;
    for seg in used {
        if seg.start > at {
            all.push(PvSegInfo {
                start: at,
                size: seg.start - at,
                used_by: None,
            });
        }
        at = seg.start + seg.size;
        all.push(seg);
    }
    if at < pe_count {
        all.push(PvSegInfo {
            start: at,
            size: pe_count - at,
            used_by: None,
        });
    }
    all
}

/// The size lvm2 reports for a metadata area of `bytes`.
fn mda_sectors(label: &Label) -> Option<u64> {
    label.metadata_areas.iter().map(|a| a.size / 512).min()
}

fn device_numbers(path: &std::path::Path) -> Option<(u32, u32)> {
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    let meta = std::fs::metadata(path).ok()?;
    if !meta.file_type().is_block_device() {
        return None;
    }
    let rdev = meta.rdev();
    Some((libc::major(rdev), libc::minor(rdev)))
}

/// One VG as found: its metadata and the label and path of each PV found.
pub fn vg_info(vg: &Vg, found: &[LabelledPv], backend: Option<&dyn Backend>) -> VgInfo {
    let path_of = |key: &str| -> Option<&LabelledPv> {
        let pv = vg.pv(key)?;
        let compact: String = pv.id.chars().filter(|c| *c != '-').collect();
        found.iter().find(|found| found.label.pv_uuid == compact)
    };
    let pv_name = |key: &str| -> String {
        match path_of(key) {
            Some(found) => found.path.display().to_string(),
            None => vg.pv(key).map(|p| p.device.clone()).unwrap_or_default(),
        }
    };
    let lvs = lv_infos(vg, backend, &pv_name);
    let runs = free_runs(vg);
    let pvs = vg
        .pvs
        .iter()
        .map(|pv| {
            let free: u64 = runs.iter().filter(|r| r.0 == pv.key).map(|r| r.2).sum();
            let found = path_of(&pv.key);
            let allocatable = pv.status.iter().any(|s| s == "ALLOCATABLE");
            PvInfo {
                name: pv_name(&pv.key),
                vg_name: vg.name.clone(),
                uuid: pv.id.clone(),
                attr: format!("{}--", if allocatable { 'a' } else { '-' }),
                size_sectors: pv.pe_count * vg.extent_size,
                free_sectors: free * vg.extent_size,
                dev_size_sectors: pv.dev_size,
                pe_start_sectors: pv.pe_start,
                pe_count: pv.pe_count,
                pe_alloc_count: pv.pe_count - free,
                mda_count: found.map_or(1, |f| f.label.metadata_areas.len() as u64),
                mda_size_sectors: found.and_then(|f| mda_sectors(&f.label)),
                mda_free_sectors: found.map_or(0, |f| f.mda_free_sectors),
                tags: tags_of(&pv.extra),
                dev: found.and_then(|f| device_numbers(&f.path)),
                allocatable,
                segments: pv_segments(vg, &lvs, &pv.key, pv.pe_count),
                extent_size: vg.extent_size,
            }
        })
        .collect::<Vec<_>>();
    let extents: u64 = vg.pvs.iter().map(|p| p.pe_count).sum();
    let free = free_extents(vg);
    let snapshots = lvs
        .iter()
        .filter(|l| matches!(l.role, VolumeRole::Snapshot { .. }))
        .count() as u64;
    let visible = lvs.iter().filter(|l| l.visible).count() as u64;
    VgInfo {
        name: vg.name.clone(),
        uuid: vg.id.clone(),
        attr: vg_attr(vg),
        writable: vg.status.iter().any(|s| s == "WRITE"),
        resizeable: vg.status.iter().any(|s| s == "RESIZEABLE"),
        pv_count: vg.pvs.len() as u64,
        lv_count: visible,
        snap_count: snapshots,
        size_sectors: extents * vg.extent_size,
        free_sectors: free * vg.extent_size,
        extent_sectors: vg.extent_size,
        extent_count: extents,
        free_count: free,
        seqno: vg.seqno,
        tags: tags_of(&vg.extra),
        max_lv: int_of(&vg.extra, "max_lv").unwrap_or(0) as u64,
        max_pv: int_of(&vg.extra, "max_pv").unwrap_or(0) as u64,
        lvs,
        pvs,
    }
}

/// A PV that belongs to no VG (a label, no metadata).
pub fn orphan_info(found: &LabelledPv) -> PvInfo {
    let (path, label) = (&found.path, &found.label);
    let size = label.device_size / 512;
    PvInfo {
        name: path.display().to_string(),
        uuid: crate::lvm2::label::dashed_uuid(&label.pv_uuid),
        attr: "---".into(),
        size_sectors: size,
        free_sectors: size,
        dev_size_sectors: size,
        pe_start_sectors: label.data_areas.first().map_or(0, |a| a.offset / 512),
        mda_count: label.metadata_areas.len() as u64,
        mda_size_sectors: mda_sectors(label),
        mda_free_sectors: found.mda_free_sectors,
        dev: device_numbers(path),
        ..Default::default()
    }
}

/// Everything the disks hold: each VG once (its newest copy), and the orphan PVs.
#[derive(Debug, Clone, Default)]
pub struct Inventory {
    /// VGs by name order of discovery.
    pub vgs: Vec<VgInfo>,
    /// PVs in no VG.
    pub orphans: Vec<PvInfo>,
}

impl Inventory {
    /// Gather from one scan: the VGs that opened and the labelled devices a
    /// report may list (their PVs, and orphans: the devices no VG lists).
    pub fn gather(vgs: &[Vg], found: Vec<LabelledPv>, backend: Option<&dyn Backend>) -> Self {
        let listed = |label: &Label| {
            vgs.iter().any(|vg| {
                vg.pvs.iter().any(|pv| {
                    pv.id
                        .chars()
                        .filter(|c| *c != '-')
                        .eq(label.pv_uuid.chars())
                })
            })
        };
        // The VGs in the order the scan met their first PV, as before the
        // VGs were opened (in name order, for their locks).
        let first_seen = |vg: &Vg| {
            found.iter().position(|f| {
                vg.pvs.iter().any(|pv| {
                    pv.id
                        .chars()
                        .filter(|c| *c != '-')
                        .eq(f.label.pv_uuid.chars())
                })
            })
        };
        let mut ordered: Vec<&Vg> = vgs.iter().collect();
        ordered.sort_by_key(|vg| first_seen(vg).unwrap_or(usize::MAX));
        let (members, orphans): (Vec<_>, Vec<_>) =
            found.into_iter().partition(|pv| listed(&pv.label));
        Inventory {
            vgs: ordered
                .into_iter()
                .map(|vg| vg_info(vg, &members, backend))
                .collect(),
            orphans: orphans.iter().map(orphan_info).collect(),
        }
    }
}
