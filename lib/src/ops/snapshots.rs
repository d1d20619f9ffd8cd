//! Snapshots in the VG metadata, as lvm2 records them (the visible COW LV
//! plus a hidden `snapshotN` LV whose `snapshot` segment names origin,
//! COW and chunk size), and the device stacks built from those records.

use std::path::PathBuf;

use super::stack::{DeviceSpec, OriginSpec, SnapshotSpec};
use super::volumes::{allocate, lv_table, new_lv, OpenVg, VolumeError};
use crate::dm::StoreKind;
use crate::lvm2::model::{Lv, Segment, SegmentKind, Vg};
use crate::names::{dm_name, dm_uuid, validate_lv_name, DmLayer};

/// lvm2's default chunk size: 4 KiB.
pub const DEFAULT_CHUNK_SECTORS: u64 = 8;
/// A COW must hold at least this many chunks.
pub const SNAPSHOT_MIN_CHUNKS: u64 = 3;

/// Extents of an LV.
pub fn lv_extents(lv: &Lv) -> u64 {
    lv.segments.iter().map(|s| s.extent_count).sum()
}

/// The snapshot segment naming `cow` as its COW, with its hidden LV's name.
pub fn snapshot_of(vg: &Vg, cow: &str) -> Option<(String, u64, String, bool)> {
    vg.lvs.iter().find_map(|lv| {
        lv.segments.iter().find_map(|s| match &s.kind {
            SegmentKind::Snapshot {
                chunk_size,
                origin,
                cow: c,
                merging,
            } if c == cow => Some((origin.clone(), *chunk_size, lv.name.clone(), *merging)),
            _ => None,
        })
    })
}

/// Whether lvs lists `name` without `-a`, by lvm2's rule: a snapshot
/// record never, a COW LV when its origin is listed and it is not merging,
/// anything else by its VISIBLE flag.
pub fn lv_is_visible(vg: &Vg, name: &str) -> bool {
    let Some(lv) = vg.lv(name) else {
        return false;
    };
    if lv
        .segments
        .iter()
        .any(|s| matches!(s.kind, SegmentKind::Snapshot { .. }))
    {
        return false;
    }
    if let Some((origin, _, _, merging)) = snapshot_of(vg, name) {
        return !merging && (is_virtual_origin(vg, &origin) || lv_is_visible(vg, &origin));
    }
    lv.status.iter().any(|s| s == "VISIBLE")
}

/// Whether `name` is the hidden zero-filled origin of a sparse snapshot
/// (`lvcreate -s -V`): all of its segments are `zero`.
pub fn is_virtual_origin(vg: &Vg, name: &str) -> bool {
    vg.lv(name).is_some_and(|lv| {
        !lv.segments.is_empty()
            && lv
                .segments
                .iter()
                .all(|s| matches!(&s.kind, SegmentKind::Other(kind) if kind == "zero"))
    })
}

/// The COW LVs of every snapshot of `origin`, in metadata order.
pub fn snapshots_of(vg: &Vg, origin: &str) -> Vec<String> {
    vg.lvs
        .iter()
        .flat_map(|lv| &lv.segments)
        .filter_map(|s| match &s.kind {
            SegmentKind::Snapshot { origin: o, cow, .. } if o == origin => Some(cow.clone()),
            _ => None,
        })
        .collect()
}

/// The largest COW an origin of `origin_sectors` can ever use, as lvm2 caps it.
pub fn cow_max_sectors(origin_sectors: u64, chunk_sectors: u64) -> u64 {
    let origin_chunks = origin_sectors.div_ceil(chunk_sectors);
    let per_area = chunk_sectors * 512 / 16;
    let metadata_chunks = (origin_chunks + per_area) / per_area;
    let chunks = 1 + origin_chunks + metadata_chunks;
    // lvm2 adds 1/64 for kernels that leaked COW space on crash.
    (chunks + chunks.div_ceil(64)) * chunk_sectors
}

/// Check lvm2's chunk-size rule: a power of 2 from 4 KiB to 512 KiB.
pub fn check_chunk_size(chunk_sectors: u64) -> Result<(), VolumeError> {
    if chunk_sectors.is_power_of_two() && (8..=1024).contains(&chunk_sectors) {
        Ok(())
    } else {
        Err(VolumeError::Invalid(
            "Chunk size must be a power of 2 in the range 4K to 512K.".into(),
        ))
    }
}

/// Record a snapshot `name` of `origin` with a COW of `cow_extents` (capped
/// at what the origin can use) in `vg`; the caller commits.
pub fn add_snapshot_record(
    vg: &mut Vg,
    origin: &str,
    name: &str,
    cow_extents: u64,
    chunk_sectors: u64,
    read_only: bool,
) -> Result<u64, VolumeError> {
    validate_lv_name(name)?;
    check_chunk_size(chunk_sectors)?;
    if vg.lv(name).is_some() {
        return Err(VolumeError::Exists(format!(
            "logical volume \"{name}\" in volume group \"{}\"",
            vg.name
        )));
    }
    let origin_lv = vg
        .lv(origin)
        .ok_or_else(|| VolumeError::NotFound(format!("logical volume \"{}/{origin}\"", vg.name)))?;
    if snapshot_of(vg, origin).is_some() {
        return Err(VolumeError::Invalid(format!(
            "snapshots of snapshots are not supported: {origin} is a snapshot"
        )));
    }
    if !origin_lv.segments.iter().all(|s| match &s.kind {
        SegmentKind::Striped { .. } => true,
        SegmentKind::Other(kind) => kind == "zero",
        SegmentKind::Snapshot { .. } => false,
    }) {
        return Err(VolumeError::Invalid(format!(
            "{}/{origin} is not a linear volume",
            vg.name
        )));
    }
    let origin_extents = lv_extents(origin_lv);
    let max =
        cow_max_sectors(origin_extents * vg.extent_size, chunk_sectors).div_ceil(vg.extent_size);
    let cow_extents = cow_extents.min(max);
    if cow_extents * vg.extent_size < SNAPSHOT_MIN_CHUNKS * chunk_sectors {
        return Err(VolumeError::Invalid(format!(
            "Snapshot volume cannot be smaller than {SNAPSHOT_MIN_CHUNKS} chunks ({} extents).",
            (SNAPSHOT_MIN_CHUNKS * chunk_sectors).div_ceil(vg.extent_size)
        )));
    }
    let segments = allocate(vg, cow_extents, 0)?;
    // As lvm2 writes them: the COW LV carries no VISIBLE flag (it is shown
    // through its origin) and the hidden snapshotN record does.
    vg.lvs.push(new_lv(name, segments, false, !read_only)?);
    let hidden = (0..)
        .map(|n| format!("snapshot{n}"))
        .find(|n| vg.lv(n).is_none())
        .expect("a free snapshotN name");
    let record = new_lv(
        &hidden,
        vec![Segment {
            start_extent: 0,
            extent_count: origin_extents,
            kind: SegmentKind::Snapshot {
                chunk_size: chunk_sectors,
                origin: origin.to_string(),
                cow: name.to_string(),
                merging: false,
            },
            extra: vec![],
        }],
        true,
        true,
    )?;
    vg.lvs.push(record);
    Ok(cow_extents)
}

/// Drop snapshot `cow` (its COW LV and hidden record) from `vg`; the caller commits.
pub fn remove_snapshot_record(vg: &mut Vg, cow: &str) -> Result<(), VolumeError> {
    let (_, _, hidden, _) = snapshot_of(vg, cow)
        .ok_or_else(|| VolumeError::Invalid(format!("{}/{cow} is not a snapshot", vg.name)))?;
    vg.lvs.retain(|lv| lv.name != cow && lv.name != hidden);
    Ok(())
}

fn path_lookup(open: &OpenVg) -> impl Fn(&str) -> Option<PathBuf> + '_ {
    move |key| open.path_of(key).map(|p| p.to_path_buf())
}

/// The dm devices of origin `name`.
pub fn origin_spec(open: &OpenVg, name: &str) -> Result<OriginSpec, VolumeError> {
    let vg = &open.vg;
    let lv = vg
        .lv(name)
        .ok_or_else(|| VolumeError::NotFound(format!("logical volume \"{}/{name}\"", vg.name)))?;
    Ok(OriginSpec {
        top: DeviceSpec {
            name: dm_name(&vg.name, name, DmLayer::Top)?,
            uuid: dm_uuid(&vg.id, &lv.id, DmLayer::Top),
            table: lv_table(vg, lv, &path_lookup(open))?,
            read_only: !lv.status.iter().any(|s| s == "WRITE"),
        },
        real_name: dm_name(&vg.name, name, DmLayer::Real)?,
        real_uuid: dm_uuid(&vg.id, &lv.id, DmLayer::Real),
    })
}

/// The dm devices of snapshot `cow` (its COW LV's name).
pub fn snapshot_spec(open: &OpenVg, cow: &str) -> Result<SnapshotSpec, VolumeError> {
    let vg = &open.vg;
    let lv = vg
        .lv(cow)
        .ok_or_else(|| VolumeError::NotFound(format!("logical volume \"{}/{cow}\"", vg.name)))?;
    let (_, chunk, _, _) = snapshot_of(vg, cow)
        .ok_or_else(|| VolumeError::Invalid(format!("{}/{cow} is not a snapshot", vg.name)))?;
    Ok(SnapshotSpec {
        name: dm_name(&vg.name, cow, DmLayer::Top)?,
        uuid: dm_uuid(&vg.id, &lv.id, DmLayer::Top),
        read_only: !lv.status.iter().any(|s| s == "WRITE"),
        cow: DeviceSpec {
            name: dm_name(&vg.name, cow, DmLayer::Cow)?,
            uuid: dm_uuid(&vg.id, &lv.id, DmLayer::Cow),
            table: lv_table(vg, lv, &path_lookup(open))?,
            read_only: false,
        },
        store: StoreKind::Persistent,
        chunk_sectors: chunk as u32,
    })
}

/// Activate `name` with what it needs: an origin with all its snapshots
/// (built bottom-up, origin last), a snapshot through its origin, a linear
/// LV as itself. Already active devices are left as they are.
pub fn activate_lv(
    backend: &dyn crate::backend::Backend,
    open: &OpenVg,
    name: &str,
) -> Result<(), VolumeError> {
    let vg = &open.vg;
    if let Some((origin, _, _, _)) = snapshot_of(vg, name) {
        return activate_lv(backend, open, &origin);
    }
    let lv = vg
        .lv(name)
        .ok_or_else(|| VolumeError::NotFound(format!("logical volume \"{}/{name}\"", vg.name)))?;
    if lv
        .segments
        .iter()
        .any(|s| matches!(s.kind, SegmentKind::Snapshot { .. }))
    {
        return Ok(());
    }
    let snapshots = snapshots_of(vg, name);
    let origin = origin_spec(open, name)?;
    if snapshots.is_empty() {
        super::activate_device(backend, &origin.top)?;
        return Ok(());
    }
    super::activate_origin(backend, &origin)?;
    for cow in &snapshots {
        let snap = snapshot_spec(open, cow)?;
        if backend.info(&snap.name).is_err() {
            super::add_snapshot(backend, &origin, &snap, None)?;
        }
    }
    if let Some(merging) = snapshots
        .iter()
        .find(|cow| snapshot_of(vg, cow).is_some_and(|s| s.3))
    {
        let table = backend
            .table(&origin.top.name, crate::backend::TableSlot::Live)
            .map_err(|e| VolumeError::Invalid(super::lvm::chain(&e)))?;
        if table
            .first()
            .is_none_or(|l| l.target_type != "snapshot-merge")
        {
            super::start_merge(backend, &origin, &snapshot_spec(open, merging)?)?;
        }
    }
    Ok(())
}

/// Deactivate `name` and everything stacked with it (an origin's snapshots
/// go with it; a snapshot takes its origin down, as lvm2 ties them).
pub fn deactivate_lv(
    backend: &dyn crate::backend::Backend,
    open: &OpenVg,
    name: &str,
) -> Result<(), VolumeError> {
    let vg = &open.vg;
    if let Some((origin, _, _, _)) = snapshot_of(vg, name) {
        return deactivate_lv(backend, open, &origin);
    }
    let top = dm_name(&vg.name, name, DmLayer::Top)?;
    super::deactivate_device(backend, &top)?;
    for cow in snapshots_of(vg, name) {
        super::deactivate_device(backend, &dm_name(&vg.name, &cow, DmLayer::Top)?)?;
        super::deactivate_device(backend, &dm_name(&vg.name, &cow, DmLayer::Cow)?)?;
    }
    super::deactivate_device(backend, &dm_name(&vg.name, name, DmLayer::Real)?)?;
    Ok(())
}

/// Grow LV `name` by `extents` (allocated after its last segment); the caller commits and reloads.
pub fn extend_record(vg: &mut Vg, name: &str, extents: u64) -> Result<(), VolumeError> {
    let lv = vg
        .lv(name)
        .ok_or_else(|| VolumeError::NotFound(format!("logical volume \"{}/{name}\"", vg.name)))?;
    // A striped LV keeps its stripes, as lvextend without -i does.
    let (stripes, stripe_size) = match lv.segments.last().map(|s| &s.kind) {
        Some(SegmentKind::Striped {
            stripes,
            stripe_size,
        }) => (stripes.len().max(1), *stripe_size),
        _ => (1, None),
    };
    let request = super::alloc::Request {
        extents,
        stripes,
        stripe_size,
        policy: super::alloc::Policy::Normal,
        pvs: None,
    };
    extend_record_with(vg, name, &request)
}

/// Grow LV `name` by `request` (lvm2's allocation continuing its last
/// segment); the caller commits and reloads.
pub fn extend_record_with(
    vg: &mut Vg,
    name: &str,
    request: &super::alloc::Request,
) -> Result<(), VolumeError> {
    if vg.lv(name).is_none() {
        return Err(VolumeError::NotFound(format!(
            "logical volume \"{}/{name}\"",
            vg.name
        )));
    }
    let free = super::volumes::free_extents(vg);
    if free < request.extents || request.extents == 0 {
        return Err(VolumeError::NoSpace {
            vg: vg.name.clone(),
            free,
            needed: request.extents,
        });
    }
    let segments = super::alloc::allocate(vg, name, request)?;
    let lv = vg
        .lvs
        .iter_mut()
        .find(|lv| lv.name == name)
        .expect("checked above");
    lv.segments.extend(segments);
    lv.segments = super::alloc::merge_segments(std::mem::take(&mut lv.segments));
    Ok(())
}

/// Join linear segments that continue each other on the same PV, as lvm2
/// does, so an extension into the next extents stays one segment.
pub fn coalesce_segments(lv: &mut Lv) {
    let mut merged: Vec<Segment> = Vec::with_capacity(lv.segments.len());
    for seg in lv.segments.drain(..) {
        if let Some(last) = merged.last_mut() {
            if let (
                SegmentKind::Striped {
                    stripe_size: None,
                    stripes: a,
                },
                SegmentKind::Striped {
                    stripe_size: None,
                    stripes: b,
                },
            ) = (&last.kind, &seg.kind)
            {
                if a.len() == 1
                    && b.len() == 1
                    && a[0].0 == b[0].0
                    && a[0].1 + last.extent_count == b[0].1
                    && last.start_extent + last.extent_count == seg.start_extent
                    && last.extra == seg.extra
                {
                    last.extent_count += seg.extent_count;
                    continue;
                }
            }
        }
        merged.push(seg);
    }
    lv.segments = merged;
}

/// The COW LV of `origin`'s snapshot that is recorded as merging, if any.
pub fn merging_snapshot(vg: &Vg, origin: &str) -> Option<String> {
    snapshots_of(vg, origin)
        .into_iter()
        .find(|cow| snapshot_of(vg, cow).is_some_and(|s| s.3))
}

/// Wait for the merge of snapshot `snap` into its active origin to finish,
/// calling `progress` with the percentage merged every `interval`, then
/// take the snapshot's devices down and drop its records: what lvm2's
/// background polling does after `lvconvert --merge` or an activation.
pub fn complete_merge(
    backend: &dyn crate::backend::Backend,
    open: &mut OpenVg,
    snap: &str,
    interval: std::time::Duration,
    mut progress: impl FnMut(f64),
) -> Result<(), VolumeError> {
    let vg_name = open.vg.name.clone();
    let (origin, _, _, _) = snapshot_of(&open.vg, snap)
        .ok_or_else(|| VolumeError::NotFound(format!("snapshot \"{vg_name}/{snap}\"")))?;
    let origin_top = dm_name(&vg_name, &origin, DmLayer::Top)?;
    let mut first_data: Option<u64> = None;
    loop {
        let line = backend
            .status(&origin_top)
            .map_err(|e| VolumeError::Invalid(super::lvm::chain(&e)))?
            .into_iter()
            .next();
        let status: crate::dm::SnapshotStatus = line
            .as_ref()
            .filter(|l| l.target_type == "snapshot-merge")
            .ok_or_else(|| VolumeError::Invalid(format!("{vg_name}/{origin} is not merging")))?
            .params
            .parse()
            .map_err(|e| VolumeError::Invalid(format!("{vg_name}/{origin}: {e}")))?;
        let crate::dm::SnapshotStatus::Usage {
            allocated_sectors,
            metadata_sectors,
            ..
        } = status
        else {
            return Err(VolumeError::Invalid(format!(
                "merge of {vg_name}/{snap} into {vg_name}/{origin} stopped: {status}"
            )));
        };
        let left = allocated_sectors.saturating_sub(metadata_sectors);
        let total = *first_data.get_or_insert(left.max(1));
        progress(100.0 * total.saturating_sub(left) as f64 / total as f64);
        if left == 0 {
            break;
        }
        std::thread::sleep(interval);
    }
    let others_remain = snapshots_of(&open.vg, &origin).len() > 1;
    super::finish_merge_among(
        backend,
        &origin_spec(open, &origin)?,
        &snapshot_spec(open, snap)?,
        others_remain,
    )?;
    let mut vg = open.vg.clone();
    remove_snapshot_record(&mut vg, snap)?;
    open.commit(vg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contiguous_extensions_stay_one_segment() {
        let seg = |le, pv: &str, pe, count| Segment {
            start_extent: le,
            extent_count: count,
            kind: SegmentKind::Striped {
                stripe_size: None,
                stripes: vec![(pv.to_string(), pe)],
            },
            extra: vec![],
        };
        let mut lv = Lv {
            name: "snap".into(),
            id: "x".into(),
            status: vec![],
            creation_time: None,
            creation_host: None,
            segments: vec![
                seg(0, "pv0", 256, 25),
                seg(25, "pv0", 281, 5),
                seg(30, "pv0", 400, 1),
                seg(31, "pv1", 401, 1),
            ],
            extra: vec![],
        };
        coalesce_segments(&mut lv);
        assert_eq!(
            lv.segments,
            vec![
                seg(0, "pv0", 256, 30),
                seg(30, "pv0", 400, 1),
                seg(31, "pv1", 401, 1)
            ]
        );
    }

    #[test]
    fn cow_cap_follows_lvm2() {
        // 1 GiB origin, 4 KiB chunks: 262144 data chunks, 1025 areas, header, plus 1/64.
        let chunks: u64 = 1 + 262_144 + 1025;
        assert_eq!(
            cow_max_sectors(2_097_152, 8),
            (chunks + chunks.div_ceil(64)) * 8
        );
        assert!(check_chunk_size(8).is_ok());
        assert!(check_chunk_size(1024).is_ok());
        assert!(check_chunk_size(4).is_err());
        assert!(check_chunk_size(24).is_err());
        assert!(check_chunk_size(2048).is_err());
    }
}
