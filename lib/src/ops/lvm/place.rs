//! Where a new LV or an extension goes: `-i/--stripes`, `-I/--stripesize`,
//! PV arguments with extent ranges (`/dev/sdb:0-9:20+5`) and `--alloc`,
//! checked and reported in lvm2's words before the allocator runs.

use std::path::Path;

use super::{display_size, LvmError};
use crate::log;
use crate::lvm2::model::{Lv, SegmentKind, Vg};
use crate::ops::alloc::{free_on, Policy, PvChoice, Request};
use crate::ops::volumes::OpenVg;

/// lvm2's default stripe size: 64 KiB, in sectors.
pub const DEFAULT_STRIPE_SECTORS: u64 = 128;

/// lvm2's most stripes in one segment.
const MAX_STRIPES: u32 = 128;

/// How a new LV or an extension is placed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Placement {
    /// `-i`: the stripe count.
    pub stripes: Option<u32>,
    /// `-I`: the stripe size in sectors.
    pub stripe_size: Option<u64>,
    /// PV arguments as given (`PV[:PE[-PE]|:PE+N]...`).
    pub pvs: Vec<String>,
    /// `--alloc`.
    pub policy: Policy,
    /// `--alloc` as given, recorded on a new LV (`allocation_policy`) unless `inherit`.
    pub policy_name: Option<String>,
}

/// A bad `-i`/`-I` value; the command edge adds lvm2's "Run `lvcreate --help'" line.
fn usage(message: String) -> LvmError {
    LvmError::Usage(message)
}

/// Check `-i`/`-I` as lvm2's command line does (exit 3 on a bad value).
pub fn check_options(placement: &Placement) -> Result<(), LvmError> {
    if let Some(stripes) = placement.stripes {
        if stripes == 0 {
            return Err(usage("--stripes may not be zero.".into()));
        }
        if stripes > MAX_STRIPES {
            return Err(usage(format!(
                "Number of stripes ({stripes}) must be between 1 and {MAX_STRIPES}."
            )));
        }
    }
    if let Some(size) = placement.stripe_size {
        if size < 8 || !size.is_power_of_two() {
            return Err(usage(format!(
                "Invalid stripe size {}.",
                display_size(size)
            )));
        }
    }
    Ok(())
}

/// Parse one PV argument's extent ranges: `N-M` (inclusive), `N+COUNT`, `N`,
/// each within the PV's `pe_count` extents.
fn parse_ranges(arg: &str, parts: &[&str], pe_count: u64) -> Result<Vec<(u64, u64)>, LvmError> {
    let bad = || LvmError::Usage(format!("Physical extent parsing error at {arg}"));
    let mut ranges = Vec::new();
    for part in parts {
        let (first, count) = if let Some((a, b)) = part.split_once('-') {
            let a: u64 = a.parse().map_err(|_| bad())?;
            let b: u64 = b.parse().map_err(|_| bad())?;
            (a, (b + 1).saturating_sub(a))
        } else if let Some((a, n)) = part.split_once('+') {
            let a: u64 = a.parse().map_err(|_| bad())?;
            let n: u64 = n.parse().map_err(|_| bad())?;
            (a, n)
        } else {
            (part.parse().map_err(|_| bad())?, 1)
        };
        let last = (first + count).saturating_sub(1);
        if count == 0 || last >= pe_count {
            let end = match part.split_once('-') {
                Some((_, b)) => b.parse().unwrap_or(last),
                None => last,
            };
            return Err(LvmError::Refused(format!(
                "PE range error: start extent {first} to end extent {end}."
            )));
        }
        ranges.push((first, count));
    }
    Ok(ranges)
}

/// The PVs the PV arguments name, in their order, with their ranges;
/// `None` without PV arguments. A PV outside the VG fails as in lvm2, and
/// PVs without free extents are warned about (failing when all are full).
pub fn resolve_pvs(open: &OpenVg, args: &[String]) -> Result<Option<Vec<PvChoice>>, LvmError> {
    if args.is_empty() {
        return Ok(None);
    }
    let vg = &open.vg;
    let mut choices = Vec::new();
    for arg in args {
        let mut parts = arg.split(':');
        let device = parts.next().unwrap_or_default();
        let rest: Vec<&str> = parts.collect();
        let wanted = std::fs::canonicalize(device).unwrap_or_else(|_| Path::new(device).into());
        let key = vg.pvs.iter().find_map(|pv| {
            let path = open.path_of(&pv.key)?;
            let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
            (path == wanted).then(|| pv.key.clone())
        });
        let Some(key) = key else {
            return Err(LvmError::Refused(format!(
                "Physical Volume \"{device}\" not found in Volume Group \"{}\".",
                vg.name
            )));
        };
        let pe_count = vg.pv(&key).map_or(0, |pv| pv.pe_count);
        let ranges = parse_ranges(arg, &rest, pe_count)?;
        choices.push((device.to_string(), PvChoice { key, ranges }));
    }
    let mut usable = Vec::new();
    for (device, choice) in choices {
        let whole = PvChoice {
            key: choice.key.clone(),
            ranges: vec![],
        };
        if free_on(vg, Some(std::slice::from_ref(&whole))) == 0 {
            log::warning(format!("No free extents on physical volume \"{device}\"."));
            continue;
        }
        usable.push(choice);
    }
    if usable.is_empty() {
        return Err(LvmError::Refused(
            "No specified PVs have space available.".into(),
        ));
    }
    Ok(Some(usable))
}

/// `N%PVS` of the PVs named (each once), as lvcreate counts it: rounded down.
pub fn percent_of_pvs(vg: &Vg, pvs: &[PvChoice], percent: u64) -> u64 {
    let mut keys: Vec<&str> = pvs.iter().map(|p| p.key.as_str()).collect();
    keys.sort_unstable();
    keys.dedup();
    let total: u64 = keys
        .iter()
        .filter_map(|k| vg.pv(k))
        .map(|pv| pv.pe_count)
        .sum();
    total * percent / 100
}

/// The stripe size of a new LV as lvcreate settles it, with its messages
/// (printed before the size is worked out, as lvm2 does): `None` for one stripe.
pub fn new_stripe_size(vg: &Vg, placement: &Placement) -> Option<u64> {
    let stripes = placement.stripes.unwrap_or(1).max(1);
    if stripes == 1 {
        if placement.stripe_size.is_some() {
            log::print("Ignoring stripesize argument with single stripe.");
        }
        return None;
    }
    let mut size = match placement.stripe_size {
        Some(size) => size,
        None => {
            log::print(format!(
                "Using default stripesize {}.",
                display_size(DEFAULT_STRIPE_SECTORS)
            ));
            DEFAULT_STRIPE_SECTORS
        }
    };
    if size > vg.extent_size {
        log::print(format!(
            "Reducing requested stripe size {} to maximum, physical extent size {}.",
            display_size(size),
            display_size(vg.extent_size)
        ));
        size = vg.extent_size;
    }
    Some(size)
}

/// The allocation of a new LV of `extents` with `stripe_size` (from
/// [`new_stripe_size`]): the extents rounded up to a multiple of the
/// stripes, with lvm2's message, and no more stripes than PVs.
pub fn new_lv_request(
    vg: &Vg,
    placement: &Placement,
    stripe_size: Option<u64>,
    pvs: Option<Vec<PvChoice>>,
    extents: u64,
) -> Result<Request, LvmError> {
    let stripes = placement.stripes.unwrap_or(1).max(1) as usize;
    let mut extents = extents;
    if stripes > 1 {
        let rounded = extents.div_ceil(stripes as u64) * stripes as u64;
        if rounded != extents {
            log::print(format!(
                "Rounding size {} ({extents} extents) up to stripe boundary size {} ({rounded} extents).",
                display_size(extents * vg.extent_size),
                display_size(rounded * vg.extent_size)
            ));
            extents = rounded;
        }
        let pv_count = pvs.as_ref().map_or(vg.pvs.len(), Vec::len);
        if stripes > pv_count && placement.policy != Policy::Anywhere {
            return Err(LvmError::Refused(format!(
                "Number of stripes ({stripes}) must not exceed number of physical volumes ({pv_count})"
            )));
        }
    }
    Ok(Request {
        extents,
        stripes,
        stripe_size,
        policy: placement.policy,
        pvs,
    })
}

/// The allocation extending `lv` by `add` extents: the stripes of its
/// segments unless `-i`/`-I` say otherwise, as lvm2's lvextend settles
/// them (with its messages); `add` rounded up to a multiple of the stripes.
pub fn extend_request(
    vg: &Vg,
    lv: &Lv,
    placement: &Placement,
    pvs: Option<Vec<PvChoice>>,
    add: u64,
) -> Result<Request, LvmError> {
    let mut seg_stripes = 0usize;
    let mut seg_size = 0u64;
    for seg in &lv.segments {
        let SegmentKind::Striped {
            stripes,
            stripe_size,
        } = &seg.kind
        else {
            continue;
        };
        let size = stripe_size.unwrap_or(0);
        let differs_size = seg_size != 0 && size != 0 && seg_size != size;
        let differs_count = seg_stripes != 0 && seg_stripes != stripes.len();
        if (differs_size && placement.stripe_size.is_none())
            || (differs_count && placement.stripes.is_none())
        {
            return Err(LvmError::Refused(
                "Please specify number of stripes (-i) and stripesize (-I)".into(),
            ));
        }
        seg_stripes = stripes.len();
        seg_size = size;
    }
    let stripes = placement
        .stripes
        .map_or(seg_stripes.max(1), |s| s.max(1) as usize);
    let mut stripe_size = None;
    if stripes > 1 {
        let size = match placement.stripe_size {
            Some(size) => size,
            None if seg_stripes == stripes && seg_size != 0 => {
                log::print(format!(
                    "Using stripesize of last segment {}",
                    display_size(seg_size)
                ));
                seg_size
            }
            None => {
                log::print(format!(
                    "Using default stripesize {}",
                    display_size(DEFAULT_STRIPE_SECTORS)
                ));
                DEFAULT_STRIPE_SECTORS
            }
        };
        stripe_size = Some(size.min(vg.extent_size));
    }
    let rounded = add.div_ceil(stripes as u64) * stripes as u64;
    if rounded != add {
        let current: u64 = lv.segments.iter().map(|s| s.extent_count).sum();
        log::print(format!(
            "Rounding size ({} extents) up to stripe boundary size for segment ({} extents).",
            current + add,
            current + rounded
        ));
    }
    Ok(Request {
        extents: rounded,
        stripes,
        stripe_size,
        policy: placement.policy,
        pvs,
    })
}

#[cfg(test)]
mod tests;
