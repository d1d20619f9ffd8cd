//! One check of a whole VG, as lvm2's `vg_validate`: run on every read and
//! before every write, so metadata that overlaps, overflows or points at
//! nothing is reported and never changed or activated.

use std::collections::{HashMap, HashSet};

use thiserror::Error;

use super::model::{Segment, SegmentKind, Vg};
use super::text::Value;

/// Segment types lvm2 knows (`lvm segtypes`); any other is unrecognised.
pub const KNOWN_SEGMENT_TYPES: &[&str] = &[
    "striped",
    "linear",
    "mirror",
    "snapshot",
    "zero",
    "error",
    "free",
    "raid0",
    "raid0_meta",
    "raid1",
    "raid10",
    "raid10_near",
    "raid4",
    "raid5",
    "raid5_n",
    "raid5_la",
    "raid5_ra",
    "raid5_ls",
    "raid5_rs",
    "raid6",
    "raid6_zr",
    "raid6_nr",
    "raid6_nc",
    "raid6_n_6",
    "raid6_la_6",
    "raid6_ra_6",
    "raid6_ls_6",
    "raid6_rs_6",
    "thin-pool",
    "thin",
    "cache",
    "cache-pool",
    "writecache",
    "integrity",
    "vdo",
    "vdo-pool",
];

/// The largest extent size lvm2 accepts, in sectors (16 GiB).
pub const MAX_EXTENT_SECTORS: u64 = 1 << 25;
/// The largest size in sectors whose byte count fits in 64 bits.
pub const MAX_SECTORS: u64 = u64::MAX >> 9;

/// Why a VG's metadata cannot be used: one variant per rule.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum InvalidVg {
    /// The extent size is zero, not a multiple of 4 KiB, or too large.
    #[error("volume group {vg}: extent size {sectors} sectors is not a multiple of 8 sectors between 8 and {max}", max = MAX_EXTENT_SECTORS)]
    ExtentSize {
        /// VG name.
        vg: String,
        /// The extent size in sectors.
        sectors: u64,
    },
    /// Two PV entries carry the same PV UUID.
    #[error("volume group {vg}: PV {id} is listed twice")]
    DuplicatePv {
        /// VG name.
        vg: String,
        /// The PV UUID.
        id: String,
    },
    /// Two PV entries have the same section name (`pv0 { ... }` twice), so
    /// segments naming it cannot say which PV they are on.
    #[error("volume group {vg}: PV name {key} is used twice")]
    DuplicatePvKey {
        /// VG name.
        vg: String,
        /// The section name.
        key: String,
    },
    /// A PV's extents do not fit on its device, or its size overflows.
    #[error("volume group {vg}: PV {pv} has {pe_count} extents from sector {pe_start}, past its {dev_size}-sector device")]
    PvTooSmall {
        /// VG name.
        vg: String,
        /// PV key.
        pv: String,
        /// First data sector.
        pe_start: u64,
        /// Extents.
        pe_count: u64,
        /// Device size in sectors.
        dev_size: u64,
    },
    /// The VG's total size overflows 64-bit bytes.
    #[error("volume group {vg}: its extents add up to more than 2^64 bytes")]
    VgTooLarge {
        /// VG name.
        vg: String,
    },
    /// Two LVs share a name or a UUID.
    #[error("volume group {vg}: LV {what} {value} is used twice")]
    DuplicateLv {
        /// VG name.
        vg: String,
        /// "name" or "UUID".
        what: &'static str,
        /// The duplicated value.
        value: String,
    },
    /// An LV has no segments.
    #[error("{vg}/{lv}: has no segments")]
    NoSegments {
        /// VG name.
        vg: String,
        /// LV name.
        lv: String,
    },
    /// A segment does not start where the previous one ended, or is empty.
    #[error("{vg}/{lv}: segment at extent {start} of {count} extents does not follow on at extent {expected}")]
    SegmentGap {
        /// VG name.
        vg: String,
        /// LV name.
        lv: String,
        /// Its start extent.
        start: u64,
        /// Its length.
        count: u64,
        /// Where it should start.
        expected: u64,
    },
    /// An LV's size overflows 64-bit bytes.
    #[error("{vg}/{lv}: {extents} extents is more than 2^64 bytes")]
    LvTooLarge {
        /// VG name.
        vg: String,
        /// LV name.
        lv: String,
        /// Its extents.
        extents: u64,
    },
    /// A striped segment's length does not divide among its stripes.
    #[error("{vg}/{lv}: {count} extents do not divide among {stripes} stripes")]
    StripeLength {
        /// VG name.
        vg: String,
        /// LV name.
        lv: String,
        /// Segment length.
        count: u64,
        /// Stripes.
        stripes: u64,
    },
    /// A segment names a PV the VG does not list.
    #[error("{vg}/{lv}: segment names unknown PV {pv}")]
    UnknownPv {
        /// VG name.
        vg: String,
        /// LV name.
        lv: String,
        /// The PV key.
        pv: String,
    },
    /// A segment's area runs past the end of its PV.
    #[error("{vg}/{lv}: extents {first}..{end} on {pv} run past its {pe_count} extents")]
    BeyondPv {
        /// VG name.
        vg: String,
        /// LV name.
        lv: String,
        /// PV key.
        pv: String,
        /// First PV extent.
        first: u64,
        /// One past the last.
        end: u64,
        /// The PV's extents.
        pe_count: u64,
    },
    /// Two segments claim the same PV extent.
    #[error("{vg}: extent {extent} of {pv} is used by both {first} and {second}")]
    Overlap {
        /// VG name.
        vg: String,
        /// PV key.
        pv: String,
        /// The first shared extent.
        extent: u64,
        /// One LV.
        first: String,
        /// The other.
        second: String,
    },
    /// A snapshot names an origin or COW LV that does not exist.
    #[error("{vg}/{lv}: snapshot {role} {target} does not exist")]
    SnapshotTarget {
        /// VG name.
        vg: String,
        /// The snapshot record LV.
        lv: String,
        /// "origin" or "COW".
        role: &'static str,
        /// The name it gives.
        target: String,
    },
    /// A snapshot's origin or COW is itself a snapshot, the same LV, or a COW twice.
    #[error("{vg}/{lv}: snapshot of {origin} with COW {cow} is circular or shared")]
    SnapshotLoop {
        /// VG name.
        vg: String,
        /// The snapshot record LV.
        lv: String,
        /// Origin.
        origin: String,
        /// COW.
        cow: String,
    },
}

/// The PV areas a segment occupies: (PV key, first extent, extents). For a
/// segment type rlvm does not model, every (PV, extent) pair in its arrays
/// (a pvmove `mirrors` list) counts for the whole segment, so those extents
/// are never taken for free.
pub fn segment_pv_areas(vg: &Vg, seg: &Segment) -> Vec<(String, u64, u64)> {
    match &seg.kind {
        SegmentKind::Striped { stripes, .. } => {
            let per = seg.extent_count / (stripes.len().max(1) as u64);
            stripes
                .iter()
                .map(|(pv, pe)| (pv.clone(), *pe, per))
                .collect()
        }
        SegmentKind::Snapshot { .. } => Vec::new(),
        SegmentKind::Other(_) => {
            let mut areas = Vec::new();
            for item in &seg.extra {
                let super::text::Item::Setting(_, Value::Array(values)) = item else {
                    continue;
                };
                for pair in values.windows(2) {
                    if let [Value::Str(pv), Value::Int(pe)] = pair {
                        if *pe >= 0 && vg.pv(pv).is_some() {
                            areas.push((pv.clone(), *pe as u64, seg.extent_count));
                        }
                    }
                }
            }
            areas
        }
    }
}

/// The segment types in `vg` that lvm2 does not know, in order of first use.
pub fn unknown_segment_types(vg: &Vg) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    for seg in vg.lvs.iter().flat_map(|lv| &lv.segments) {
        if let SegmentKind::Other(kind) = &seg.kind {
            if !KNOWN_SEGMENT_TYPES.contains(&kind.as_str()) && !found.contains(kind) {
                found.push(kind.clone());
            }
        }
    }
    found
}

/// Check every rule; the first broken one.
pub fn validate(vg: &Vg) -> Result<(), InvalidVg> {
    let name = || vg.name.clone();
    if vg.extent_size < 8 || vg.extent_size % 8 != 0 || vg.extent_size > MAX_EXTENT_SECTORS {
        return Err(InvalidVg::ExtentSize {
            vg: name(),
            sectors: vg.extent_size,
        });
    }
    let mut ids = HashSet::new();
    let mut keys = HashSet::new();
    let mut total: u64 = 0;
    for pv in &vg.pvs {
        if !ids.insert(pv.id.as_str()) {
            return Err(InvalidVg::DuplicatePv {
                vg: name(),
                id: pv.id.clone(),
            });
        }
        if !keys.insert(pv.key.as_str()) {
            return Err(InvalidVg::DuplicatePvKey {
                vg: name(),
                key: pv.key.clone(),
            });
        }
        let too_small = || InvalidVg::PvTooSmall {
            vg: name(),
            pv: pv.key.clone(),
            pe_start: pv.pe_start,
            pe_count: pv.pe_count,
            dev_size: pv.dev_size,
        };
        let end = pv
            .pe_count
            .checked_mul(vg.extent_size)
            .and_then(|s| s.checked_add(pv.pe_start))
            .filter(|&end| end <= MAX_SECTORS)
            .ok_or_else(too_small)?;
        // dev_size 0 is lvm2's "unknown" (very old metadata).
        if pv.dev_size != 0 && end > pv.dev_size {
            return Err(too_small());
        }
        total = total
            .checked_add(pv.pe_count * vg.extent_size)
            .filter(|&t| t <= MAX_SECTORS)
            .ok_or_else(|| InvalidVg::VgTooLarge { vg: name() })?;
    }
    let mut lv_names = HashSet::new();
    let mut lv_ids = HashSet::new();
    // (PV key) -> [(first, end, LV)].
    let mut used: HashMap<&str, Vec<(u64, u64, &str)>> = HashMap::new();
    for lv in &vg.lvs {
        let lv_err = |what, value: &str| InvalidVg::DuplicateLv {
            vg: name(),
            what,
            value: value.to_string(),
        };
        if !lv_names.insert(lv.name.as_str()) {
            return Err(lv_err("name", &lv.name));
        }
        if !lv_ids.insert(lv.id.as_str()) {
            return Err(lv_err("UUID", &lv.id));
        }
        if lv.segments.is_empty() {
            return Err(InvalidVg::NoSegments {
                vg: name(),
                lv: lv.name.clone(),
            });
        }
        let mut expected: u64 = 0;
        for seg in &lv.segments {
            if seg.start_extent != expected || seg.extent_count == 0 {
                return Err(InvalidVg::SegmentGap {
                    vg: name(),
                    lv: lv.name.clone(),
                    start: seg.start_extent,
                    count: seg.extent_count,
                    expected,
                });
            }
            expected = expected
                .checked_add(seg.extent_count)
                .filter(|&e| {
                    e.checked_mul(vg.extent_size)
                        .is_some_and(|s| s <= MAX_SECTORS)
                })
                .ok_or_else(|| InvalidVg::LvTooLarge {
                    vg: name(),
                    lv: lv.name.clone(),
                    extents: seg.start_extent.saturating_add(seg.extent_count),
                })?;
            if let SegmentKind::Striped { stripes, .. } = &seg.kind {
                let n = stripes.len() as u64;
                if n == 0 || seg.extent_count % n != 0 {
                    return Err(InvalidVg::StripeLength {
                        vg: name(),
                        lv: lv.name.clone(),
                        count: seg.extent_count,
                        stripes: n,
                    });
                }
                if let Some((pv, _)) = stripes.iter().find(|(pv, _)| vg.pv(pv).is_none()) {
                    return Err(InvalidVg::UnknownPv {
                        vg: name(),
                        lv: lv.name.clone(),
                        pv: pv.clone(),
                    });
                }
            }
            for (key, first, count) in segment_pv_areas(vg, seg) {
                let Some(pv) = vg.pv(&key) else { continue };
                let end = first.checked_add(count).filter(|&e| e <= pv.pe_count);
                let Some(end) = end else {
                    return Err(InvalidVg::BeyondPv {
                        vg: name(),
                        lv: lv.name.clone(),
                        pv: key,
                        first,
                        end: first.saturating_add(count),
                        pe_count: pv.pe_count,
                    });
                };
                used.entry(vg.pv(&key).map_or("", |p| p.key.as_str()))
                    .or_default()
                    .push((first, end, lv.name.as_str()));
            }
        }
    }
    let mut keys: Vec<&&str> = used.keys().collect();
    keys.sort();
    for key in keys {
        let mut ranges = used[*key].clone();
        ranges.sort_unstable();
        for pair in ranges.windows(2) {
            let ((_, a_end, a_lv), (b_first, _, b_lv)) = (pair[0], pair[1]);
            if b_first < a_end {
                return Err(InvalidVg::Overlap {
                    vg: name(),
                    pv: key.to_string(),
                    extent: b_first,
                    first: a_lv.to_string(),
                    second: b_lv.to_string(),
                });
            }
        }
    }
    validate_snapshots(vg)
}

fn validate_snapshots(vg: &Vg) -> Result<(), InvalidVg> {
    let is_snapshot = |name: &str| {
        vg.lv(name).is_some_and(|lv| {
            lv.segments
                .iter()
                .any(|s| matches!(s.kind, SegmentKind::Snapshot { .. }))
        })
    };
    let mut cows = HashSet::new();
    for lv in &vg.lvs {
        for seg in &lv.segments {
            let SegmentKind::Snapshot { origin, cow, .. } = &seg.kind else {
                continue;
            };
            for (role, target) in [("origin", origin), ("COW", cow)] {
                if vg.lv(target).is_none() {
                    return Err(InvalidVg::SnapshotTarget {
                        vg: vg.name.clone(),
                        lv: lv.name.clone(),
                        role,
                        target: target.clone(),
                    });
                }
            }
            if origin == cow
                || is_snapshot(origin)
                || is_snapshot(cow)
                || !cows.insert(cow.as_str())
                || vg.lvs.iter().any(|other| {
                    other.segments.iter().any(
                        |s| matches!(&s.kind, SegmentKind::Snapshot { origin: o, .. } if o == cow),
                    )
                })
            {
                return Err(InvalidVg::SnapshotLoop {
                    vg: vg.name.clone(),
                    lv: lv.name.clone(),
                    origin: origin.clone(),
                    cow: cow.clone(),
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(lvs: &str, pe_count: u64) -> String {
        format!(
            "vg {{\nid = \"x\"\nseqno = 1\nstatus = []\nextent_size = 8192\nphysical_volumes {{\npv0 {{\nid = \"p\"\ndev_size = 262144\npe_start = 2048\npe_count = {pe_count}\n}}\n}}\nlogical_volumes {{\n{lvs}}}\n}}\n"
        )
    }

    fn linear(name: &str, id: &str, pe: u64, count: u64) -> String {
        format!("{name} {{\nid = \"{id}\"\nstatus = [\"READ\", \"WRITE\", \"VISIBLE\"]\nsegment_count = 1\nsegment1 {{\nstart_extent = 0\nextent_count = {count}\ntype = \"striped\"\nstripe_count = 1\nstripes = [\"pv0\", {pe}]\n}}\n}}\n")
    }

    fn check(lvs: &str, pe_count: u64) -> Result<(), InvalidVg> {
        validate(&Vg::parse(&text(lvs, pe_count)).unwrap())
    }

    #[test]
    fn a_sound_vg_passes() {
        let lvs = linear("a", "1", 0, 10) + &linear("b", "2", 10, 5);
        check(&lvs, 31).unwrap();
    }

    #[test]
    fn each_rule_is_its_own_error() {
        let two = |a, b| linear("a", "1", 0, a) + &linear("b", "2", b, 5);
        assert!(matches!(
            check(&two(10, 5), 31),
            Err(InvalidVg::Overlap { .. })
        ));
        assert!(matches!(
            check(&linear("a", "1", 28, 5), 31),
            Err(InvalidVg::BeyondPv { .. })
        ));
        assert!(matches!(check("", 32), Err(InvalidVg::PvTooSmall { .. })));
        assert!(matches!(
            check("", 1 << 62),
            Err(InvalidVg::PvTooSmall { .. })
        ));
        let huge = linear("a", "1", 0, 1 << 62);
        assert!(matches!(
            check(&huge, 31),
            Err(InvalidVg::LvTooLarge { .. })
        ));
        let dup = linear("a", "1", 0, 1) + &linear("b", "1", 1, 1);
        assert!(matches!(
            check(&dup, 31),
            Err(InvalidVg::DuplicateLv { what: "UUID", .. })
        ));
        // Two PV sections of one name (found by the lvm2_metadata fuzz target).
        let twice = text("", 31).replace(
            "physical_volumes {\n",
            "physical_volumes {\npv0 {\nid = \"q\"\ndev_size = 262144\npe_start = 2048\npe_count = 31\n}\n",
        );
        assert!(matches!(
            validate(&Vg::parse(&twice).unwrap()),
            Err(InvalidVg::DuplicatePvKey { .. })
        ));
        let gap = linear("a", "1", 0, 2).replace("start_extent = 0", "start_extent = 1");
        assert!(matches!(check(&gap, 31), Err(InvalidVg::SegmentGap { .. })));
        let zero =
            Vg::parse(&text("", 31).replace("extent_size = 8192", "extent_size = 12")).unwrap();
        assert!(matches!(validate(&zero), Err(InvalidVg::ExtentSize { .. })));
        let snap = |origin: &str, cow: &str| {
            linear("o", "1", 0, 1)
                + &linear("c", "2", 1, 1)
                + &format!("snapshot0 {{\nid = \"3\"\nstatus = [\"READ\"]\nsegment_count = 1\nsegment1 {{\nstart_extent = 0\nextent_count = 1\ntype = \"snapshot\"\nchunk_size = 8\norigin = \"{origin}\"\ncow_store = \"{cow}\"\n}}\n}}\n")
        };
        check(&snap("o", "c"), 31).unwrap();
        assert!(matches!(
            check(&snap("o", "gone"), 31),
            Err(InvalidVg::SnapshotTarget { .. })
        ));
        assert!(matches!(
            check(&snap("c", "c"), 31),
            Err(InvalidVg::SnapshotLoop { .. })
        ));
        assert!(matches!(
            check(&snap("snapshot0", "c"), 31),
            Err(InvalidVg::SnapshotLoop { .. })
        ));
    }

    #[test]
    fn unmodelled_segments_keep_their_extents() {
        let mirror = "pvmove0 {\nid = \"9\"\nstatus = [\"READ\", \"WRITE\", \"PVMOVE\", \"LOCKED\"]\nsegment_count = 1\nsegment1 {\nstart_extent = 0\nextent_count = 4\ntype = \"mirror\"\nmirror_count = 2\nmirrors = [\"pv0\", 2, \"pv0\", 20]\n}\n}\n";
        let vg = Vg::parse(&text(mirror, 31)).unwrap();
        let areas = segment_pv_areas(&vg, &vg.lvs[0].segments[0]);
        assert_eq!(areas, [("pv0".into(), 2, 4), ("pv0".into(), 20, 4)]);
        let clash = format!("{mirror}{}", linear("a", "1", 0, 3));
        assert!(matches!(check(&clash, 31), Err(InvalidVg::Overlap { .. })));
        assert!(unknown_segment_types(&vg).is_empty());
        let odd = Vg::parse(&text(&mirror.replace("\"mirror\"", "\"frobnicate\""), 31)).unwrap();
        assert_eq!(unknown_segment_types(&odd), ["frobnicate"]);
    }
}
