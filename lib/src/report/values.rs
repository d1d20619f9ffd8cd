//! The value of each catalog field for one report row. Linear and snapshot
//! volumes are what rlvm makes; the raid, thin, cache, vdo and writecache
//! fields print what lvm2 prints for a linear LV (blank, `-1` or `0`).

use super::catalog::{FieldSpec, Object};
use super::percent::PERCENT_INVALID;
use super::render::{Cell, FieldKind};
use super::rows::{LvInfo, PvInfo, PvSegInfo, SegInfo, VgInfo};
use crate::report::attr::VolumeRole;

/// One row of a report: the objects its fields read.
#[derive(Debug, Clone, Copy, Default)]
pub struct Row<'a> {
    /// The VG.
    pub vg: Option<&'a VgInfo>,
    /// The LV.
    pub lv: Option<&'a LvInfo>,
    /// The LV segment (segment reports).
    pub seg: Option<&'a SegInfo>,
    /// The PV.
    pub pv: Option<&'a PvInfo>,
    /// The PV segment (`pvs --segments`).
    pub pvseg: Option<&'a PvSegInfo>,
}

fn text(s: impl Into<String>) -> Cell {
    Cell::Text(s.into())
}

fn list(items: &[String]) -> Cell {
    Cell::Text(items.join(","))
}

fn num(n: u64) -> Cell {
    Cell::Number(n as i64)
}

fn flag(on: bool, word: &'static str) -> Cell {
    Cell::Flag(Some(on), word)
}

/// The blank lvm2 prints for a field that does not apply.
fn blank(spec: &FieldSpec) -> Cell {
    match spec.kind {
        FieldKind::Binary => Cell::Flag(Some(false), ""),
        FieldKind::Percent => Cell::Percent(PERCENT_INVALID),
        _ => Cell::Empty,
    }
}

/// `lv_time`'s format: local time, `%Y-%m-%d %H:%M:%S %z`.
pub fn format_time(seconds: i64) -> String {
    let t: libc::time_t = seconds as libc::time_t;
    // SAFETY: localtime_r and strftime write only into the buffers given.
    unsafe {
        let mut tm: libc::tm = std::mem::zeroed();
        if libc::localtime_r(&t, &mut tm).is_null() {
            return String::new();
        }
        let mut buffer = [0u8; 64];
        let n = libc::strftime(
            buffer.as_mut_ptr().cast(),
            buffer.len(),
            c"%Y-%m-%d %H:%M:%S %z".as_ptr(),
            &tm,
        );
        String::from_utf8_lossy(&buffer[..n]).into_owned()
    }
}

/// The value of `spec` in `row`.
pub fn value(spec: &FieldSpec, row: &Row) -> Cell {
    let got = match spec.object {
        Object::Lv | Object::LvInfo | Object::LvStatus | Object::LvInfoStatus => {
            row.lv.and_then(|lv| lv_value(spec.id, lv))
        }
        Object::Seg => match (row.lv, row.seg) {
            (Some(lv), Some(seg)) => seg_value(spec.id, lv, seg),
            (Some(lv), None) => lv
                .segments
                .first()
                .and_then(|seg| seg_value(spec.id, lv, seg)),
            _ => None,
        },
        Object::Vg => row.vg.and_then(|vg| vg_value(spec.id, vg)),
        Object::Pv | Object::Label => row.pv.and_then(|pv| pv_value(spec.id, pv)),
        Object::PvSeg => match (row.pv, row.pvseg) {
            (Some(pv), Some(seg)) => pvseg_value(spec.id, pv, seg),
            (Some(pv), None) => pvseg_value(
                spec.id,
                pv,
                &PvSegInfo {
                    start: 0,
                    size: pv.pe_count,
                    used_by: None,
                },
            ),
            _ => None,
        },
    };
    got.unwrap_or_else(|| blank(spec))
}

/// A flag of the LV's device: lvm2 says `unknown` when there is no device
/// to ask (no driver, or the LV is not active).
fn device_flag(
    lv: &LvInfo,
    word: &'static str,
    get: fn(&super::attr::ActiveState) -> bool,
) -> Cell {
    match &lv.device {
        Some(Some((state, _))) => flag(get(state), word),
        _ => Cell::Flag(None, word),
    }
}

/// A flag of the snapshot target's status: `unknown` unless the LV is an
/// active snapshot, as lvm2 reports it.
fn snapshot_flag(
    lv: &LvInfo,
    word: &'static str,
    get: fn(&super::attr::ActiveState) -> bool,
) -> Cell {
    match &lv.device {
        Some(Some((state, _))) if matches!(lv.role, VolumeRole::Snapshot { .. }) => {
            flag(get(state), word)
        }
        _ => Cell::Flag(None, word),
    }
}

fn lv_value(id: &str, lv: &LvInfo) -> Option<Cell> {
    let snapshot = matches!(lv.role, VolumeRole::Snapshot { .. });
    let origin = matches!(lv.role, VolumeRole::Origin { .. });
    let active = lv
        .device
        .as_ref()
        .map(|d| d.as_ref().is_some_and(|(s, _)| s.live_table));
    let info = lv.device.as_ref().and_then(|d| d.as_ref()).map(|(_, i)| i);
    Some(match id {
        "lv_uuid" => text(&lv.uuid),
        "lv_name" => text(&lv.name),
        "lv_full_name" => text(format!("{}/{}", lv.vg_name, lv.bare_name)),
        "lv_path" => text(if lv.visible { lv.path.as_str() } else { "" }),
        "lv_dm_path" => text(&lv.dm_path),
        // lvm2 names the layout by the LV's first segment.
        "lv_layout" => text(match lv.segments.first() {
            Some(seg) if seg.segtype == "striped" => "striped",
            _ => "linear",
        }),
        "lv_role" => text(match (lv.visible, snapshot, origin) {
            (false, _, _) => "private",
            (true, true, _) => "public,snapshot,thicksnapshot",
            (true, false, true) if lv.snapshots.len() > 1 => {
                "public,origin,thickorigin,multithickorigin"
            }
            (true, false, true) => "public,origin,thickorigin",
            (true, false, false) => "public",
        }),
        "lv_merging" => flag(
            matches!(
                lv.role,
                VolumeRole::Snapshot { merging: true } | VolumeRole::Origin { merging: true }
            ),
            "merging",
        ),
        "lv_allocation_policy" => text(&lv.allocation_policy),
        "lv_autoactivation" => flag(true, "enabled"),
        "lv_active" => text(match active {
            None => "unknown",
            Some(true) => "active",
            Some(false) => "",
        }),
        "lv_active_locally" => match active {
            None => Cell::Flag(None, "active locally"),
            Some(on) => flag(on, "active locally"),
        },
        "lv_active_remotely" => match active {
            None => Cell::Flag(None, "active remotely"),
            Some(_) => flag(false, "active remotely"),
        },
        "lv_active_exclusively" => match active {
            None => Cell::Flag(None, "active exclusively"),
            Some(on) => flag(on, "active exclusively"),
        },
        "lv_major" | "lv_minor" => Cell::Number(-1),
        "lv_read_ahead" => text("auto"),
        "lv_size" => Cell::Size(lv.size_sectors),
        "seg_count" => num(lv.segments.len() as u64),
        "origin" => text(&lv.origin),
        "origin_uuid" => text(&lv.origin_uuid),
        "origin_size" => lv.origin_size_sectors.map_or(Cell::Empty, Cell::Size),
        "lv_ancestors" | "lv_full_ancestors" => text(&lv.origin),
        "lv_descendants" | "lv_full_descendants" => list(&lv.snapshots),
        "raidintegrityblocksize" | "writecache_block_size" => Cell::Number(-1),
        "lv_tags" => list(&lv.tags),
        "lv_time" => text(lv.time.map(format_time).unwrap_or_default()),
        "lv_host" => text(&lv.host),
        "lv_modules" => text(if snapshot || origin { "snapshot" } else { "" }),
        "lv_kernel_major" => Cell::Number(info.map_or(-1, |i| i64::from(i.major))),
        "lv_kernel_minor" => Cell::Number(info.map_or(-1, |i| i64::from(i.minor))),
        "lv_kernel_read_ahead" => match lv.device.as_ref().and_then(|d| d.as_ref()) {
            Some((state, _)) => state
                .read_ahead_sectors
                .map_or_else(|| text("auto"), Cell::Size),
            None => Cell::Number(-1),
        },
        "lv_permissions" => text(match &lv.device {
            None | Some(None) => "unknown",
            Some(Some((state, _))) if state.read_only => "read-only",
            _ if lv.writable => "writeable",
            _ => "read-only",
        }),
        "lv_suspended" => device_flag(lv, "suspended", |s| s.suspended),
        "lv_live_table" => device_flag(lv, "live table present", |s| s.live_table),
        "lv_inactive_table" => device_flag(lv, "inactive table present", |s| s.inactive_table),
        "lv_device_open" => device_flag(lv, "open", |s| s.open),
        "data_percent" | "snap_percent" => {
            Cell::Percent(lv.data_percent.unwrap_or(PERCENT_INVALID))
        }
        // Only thin pools and caches can need a check: lvm2 says unknown for the rest.
        "lv_check_needed" => Cell::Flag(None, "check needed"),
        "lv_merge_failed" => snapshot_flag(lv, "merge failed", |s| s.merge_failed),
        "lv_snapshot_invalid" => snapshot_flag(lv, "snapshot invalid", |s| s.snapshot_invalid),
        "lv_attr" => text(&lv.attr),
        _ => return None,
    })
}

fn ranges(seg: &SegInfo) -> String {
    let per_stripe = seg.extent_count / seg.stripes.len().max(1) as u64;
    seg.stripes
        .iter()
        .map(|(pv, pe)| format!("{pv}:{pe}-{}", pe + per_stripe.max(1) - 1))
        .collect::<Vec<_>>()
        .join(" ")
}

fn seg_value(id: &str, lv: &LvInfo, seg: &SegInfo) -> Option<Cell> {
    let stripes = seg.stripes.len().max(1) as u64;
    Some(match id {
        "segtype" => text(&seg.segtype),
        "stripes" | "data_stripes" => num(stripes),
        "data_copies" => num(1),
        "stripe_size" => Cell::Size(seg.stripe_size),
        "region_size" => Cell::Size(0),
        "chunk_size" => Cell::Size(lv.chunk_sectors),
        "zero" => match &lv.device {
            None => Cell::Flag(None, "zero"),
            _ => flag(false, "zero"),
        },
        "seg_start" => Cell::Size(seg.start_extent * lv.extent_size),
        "seg_start_pe" => num(seg.start_extent),
        "seg_size" => Cell::Size(seg.extent_count * lv.extent_size),
        "seg_size_pe" => num(seg.extent_count),
        "seg_tags" => list(&seg.tags),
        "seg_pe_ranges" | "seg_le_ranges" => text(ranges(seg)),
        "devices" => text(
            seg.stripes
                .iter()
                .map(|(pv, pe)| format!("{pv}({pe})"))
                .collect::<Vec<_>>()
                .join(","),
        ),
        _ => return None,
    })
}

fn vg_value(id: &str, vg: &VgInfo) -> Option<Cell> {
    Some(match id {
        "vg_fmt" => text("lvm2"),
        "vg_uuid" => text(&vg.uuid),
        "vg_name" => text(&vg.name),
        "vg_attr" => text(&vg.attr),
        "vg_permissions" => text(if vg.writable {
            "writeable"
        } else {
            "read-only"
        }),
        "vg_extendable" => flag(vg.resizeable, "extendable"),
        "vg_exported" => flag(false, "exported"),
        "vg_autoactivation" => flag(true, "enabled"),
        "vg_partial" => flag(false, "partial"),
        "vg_allocation_policy" => text("normal"),
        "vg_clustered" => flag(false, "clustered"),
        "vg_shared" => flag(false, "shared"),
        "vg_size" => Cell::Size(vg.size_sectors),
        "vg_free" => Cell::Size(vg.free_sectors),
        "vg_extent_size" => Cell::Size(vg.extent_sectors),
        "vg_extent_count" => num(vg.extent_count),
        "vg_free_count" => num(vg.free_count),
        "max_lv" => num(vg.max_lv),
        "max_pv" => num(vg.max_pv),
        "pv_count" => num(vg.pv_count),
        "vg_missing_pv_count" => num(0),
        "lv_count" => num(vg.lv_count),
        "snap_count" => num(vg.snap_count),
        "vg_seqno" => num(vg.seqno),
        "vg_tags" => list(&vg.tags),
        "vg_mda_count" | "vg_mda_used_count" => num(vg.pvs.iter().map(|p| p.mda_count).sum()),
        "vg_mda_size" => vg
            .pvs
            .iter()
            .filter_map(|p| p.mda_size_sectors)
            .min()
            .map_or(Cell::Empty, Cell::Size),
        // The least free space among the VG's metadata areas (0 without one).
        "vg_mda_free" => Cell::Size(
            vg.pvs
                .iter()
                .filter(|p| p.mda_count > 0)
                .map(|p| p.mda_free_sectors)
                .min()
                .unwrap_or(0),
        ),
        "vg_mda_copies" => text("unmanaged"),
        _ => return None,
    })
}

fn pv_value(id: &str, pv: &PvInfo) -> Option<Cell> {
    let orphan = pv.vg_name.is_empty();
    Some(match id {
        "pv_fmt" => text("lvm2"),
        "pv_uuid" => text(&pv.uuid),
        "dev_size" => Cell::Size(pv.dev_size_sectors),
        "pv_name" => text(&pv.name),
        "pv_major" => pv
            .dev
            .map_or(Cell::Empty, |(major, _)| text(major.to_string())),
        "pv_minor" => pv
            .dev
            .map_or(Cell::Empty, |(_, minor)| text(minor.to_string())),
        "pv_mda_size" => pv.mda_size_sectors.map_or(Cell::Empty, Cell::Size),
        "pv_mda_free" => Cell::Size(pv.mda_free_sectors),
        "pv_ext_vsn" => num(2),
        "pe_start" => Cell::Size(pv.pe_start_sectors),
        "pv_size" => Cell::Size(pv.size_sectors),
        "pv_free" => Cell::Size(pv.free_sectors),
        "pv_used" => Cell::Size(pv.size_sectors - pv.free_sectors.min(pv.size_sectors)),
        "pv_attr" => text(&pv.attr),
        "pv_allocatable" => flag(pv.allocatable, "allocatable"),
        "pv_exported" => flag(false, "exported"),
        "pv_missing" => flag(false, "missing"),
        "pv_pe_count" => num(pv.pe_count),
        "pv_pe_alloc_count" => num(pv.pe_alloc_count),
        "pv_tags" => list(&pv.tags),
        "pv_mda_count" | "pv_mda_used_count" => num(pv.mda_count),
        "pv_ba_start" | "pv_ba_size" => Cell::Size(0),
        "pv_in_use" => flag(!orphan, "used"),
        "pv_duplicate" => flag(false, "duplicate"),
        _ => return None,
    })
}

fn pvseg_value(id: &str, _pv: &PvInfo, seg: &PvSegInfo) -> Option<Cell> {
    Some(match id {
        "pvseg_start" => num(seg.start),
        "pvseg_size" => num(seg.size),
        _ => return None,
    })
}
