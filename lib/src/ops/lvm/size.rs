//! lvm2's size arithmetic: `-L SIZE` rounded up to whole extents, `-l N`,
//! `-l N%FREE|%VG|%PVS|%ORIGIN` rounded down, and the messages lvm2 prints
//! when it rounds or trims a request.

use super::LvmError;
use crate::log;
use crate::lvm2::model::Vg;
use crate::ops::snapshots::cow_max_sectors;
use crate::ops::volumes::free_extents;
use crate::units::{parse_signed_size, Sign};

/// What a percentage is of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PercentOf {
    /// `%FREE`: the VG's free extents.
    Free,
    /// `%VG`: every extent of the VG.
    Vg,
    /// `%PVS`: the extents of the PVs (all of them: rlvm takes no PV list).
    Pvs,
    /// `%ORIGIN`: the origin of a snapshot, with the exception store's metadata.
    Origin,
    /// `%LV`: the LV's own size (lvextend, lvreduce, lvresize only).
    Lv,
}

impl PercentOf {
    fn label(self) -> &'static str {
        match self {
            PercentOf::Free => "FREE",
            PercentOf::Vg => "VG",
            PercentOf::Pvs => "PVS",
            PercentOf::Origin => "ORIGIN",
            PercentOf::Lv => "LV",
        }
    }
}

/// A size as the user gave it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SizeRequest {
    /// `-L`: bytes, rounded up to whole extents.
    Bytes(u64),
    /// `-l N`: extents.
    Extents(u64),
    /// `-l N%BASE`.
    Percent(u64, PercentOf),
}

impl SizeRequest {
    /// Parse `-l`'s value: `N` or `N%FREE|%VG|%PVS|%ORIGIN`.
    pub fn parse_extents(text: &str) -> Result<Self, LvmError> {
        let bad = || LvmError::Usage(format!("Invalid argument for --extents: {text}"));
        let (number, base) = match text.split_once('%') {
            None => (text, None),
            Some((n, base)) => {
                let base = match base.to_ascii_uppercase().as_str() {
                    "FREE" => PercentOf::Free,
                    "VG" => PercentOf::Vg,
                    "PVS" => PercentOf::Pvs,
                    "ORIGIN" => PercentOf::Origin,
                    "LV" => PercentOf::Lv,
                    _ => return Err(bad()),
                };
                (n, Some(base))
            }
        };
        let number: u64 = number.parse().map_err(|_| bad())?;
        Ok(match base {
            None => SizeRequest::Extents(number),
            Some(base) => SizeRequest::Percent(number, base),
        })
    }
}

/// lvm2's display of a size in sectors: `8.00 MiB`, `<1.02 GiB` when rounded.
pub fn display_size(sectors: u64) -> String {
    let bytes = sectors as f64 * 512.0;
    let units = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut value = bytes / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < units.len() {
        value /= 1024.0;
        unit += 1;
    }
    let rounded = (value * 100.0).round() / 100.0;
    let prefix = if rounded > value + 1e-9 { "<" } else { "" };
    let shown = if prefix.is_empty() {
        rounded
    } else {
        (value * 100.0).floor() / 100.0
    };
    format!("{prefix}{shown:.2} {}", units[unit])
}

/// The extents `request` asks for in `vg`; `origin_extents` for `%ORIGIN`
/// (with the snapshot's chunk size). Prints lvm2's rounding messages.
pub fn extents_for(
    vg: &Vg,
    request: SizeRequest,
    origin: Option<(u64, u64)>,
) -> Result<u64, LvmError> {
    let free = free_extents(vg);
    let extents = match request {
        SizeRequest::Bytes(0) => return Err(LvmError::Usage("Size may not be zero.".into())),
        SizeRequest::Bytes(bytes) => {
            let sectors = bytes.div_ceil(512);
            let extents = sectors.div_ceil(vg.extent_size);
            if extents * vg.extent_size != sectors {
                log::print(format!(
                    "Rounding up size to full physical extent {}",
                    display_size(extents * vg.extent_size)
                ));
            }
            extents
        }
        SizeRequest::Extents(0) | SizeRequest::Percent(0, _) => {
            return Err(LvmError::Usage("--extents may not be zero.".into()))
        }
        SizeRequest::Extents(n) => n,
        SizeRequest::Percent(percent, base) => {
            let of = match base {
                PercentOf::Free => free,
                PercentOf::Vg | PercentOf::Pvs => vg.pvs.iter().map(|p| p.pe_count).sum(),
                // A new LV has no size of its own to take a share of.
                PercentOf::Lv if origin.is_some() => {
                    return Err(LvmError::Refused(
                        "Please express size as %FREE, %ORIGIN, %PVS or %VG.".into(),
                    ))
                }
                PercentOf::Lv => {
                    return Err(LvmError::Refused(
                        "Please express size as %FREE, %PVS or %VG.".into(),
                    ))
                }
                PercentOf::Origin => {
                    let Some((origin_extents, chunk)) = origin else {
                        // lvm2's own words (and status) for %ORIGIN without -s.
                        return Err(LvmError::Refused(
                            "Internal error: Couldn't find origin volume.".into(),
                        ));
                    };
                    // lvm2 sizes %ORIGIN on what a COW holding the whole origin
                    // needs: the data chunks plus the exception store's metadata.
                    cow_max_sectors(origin_extents * vg.extent_size, chunk).div_ceil(vg.extent_size)
                }
            };
            let extents = if base == PercentOf::Origin {
                (of * percent).div_ceil(100)
            } else {
                of * percent / 100
            };
            if base != PercentOf::Free && extents > free {
                log::print(format!(
                    "Reducing {percent}%{} to remaining free space {} in VG.",
                    base.label(),
                    display_size(free * vg.extent_size)
                ));
                free
            } else {
                extents
            }
        }
    };
    if extents == 0 {
        return Err(LvmError::Refused(
            "Calculated size of logical volume is 0 extents. Needs to be larger.".into(),
        ));
    }
    Ok(extents)
}

/// A new size for lvextend/lvreduce/lvresize: `[+|-]SIZE` (`-L`) or
/// `[+|-]N[%BASE]` (`-l`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resize {
    /// Absolute, or relative to the current size.
    pub sign: Sign,
    /// The amount.
    pub size: SizeRequest,
}

impl Resize {
    /// Parse `-L`'s value (default unit MiB).
    pub fn parse_size(text: &str) -> Result<Self, LvmError> {
        let (sign, bytes) = parse_signed_size(text, 'm')
            .map_err(|_| LvmError::Usage(format!("Invalid argument for --size: {text}")))?;
        Ok(Self {
            sign,
            size: SizeRequest::Bytes(bytes),
        })
    }

    /// Parse `-l`'s value.
    pub fn parse_extents(text: &str) -> Result<Self, LvmError> {
        let (sign, rest) = match text.as_bytes().first() {
            Some(b'+') => (Sign::Plus, &text[1..]),
            Some(b'-') => (Sign::Minus, &text[1..]),
            _ => (Sign::Absolute, text),
        };
        let size = SizeRequest::parse_extents(rest)
            .map_err(|_| LvmError::Usage(format!("Invalid argument for --extents: {text}")))?;
        Ok(Self { sign, size })
    }

    /// The LV's new size in extents, from `current` (`origin` for `%ORIGIN`).
    pub fn target(
        &self,
        vg: &Vg,
        current: u64,
        origin: Option<(u64, u64)>,
    ) -> Result<u64, LvmError> {
        let amount = match self.size {
            SizeRequest::Bytes(bytes) => {
                let sectors = bytes.div_ceil(512);
                let extents = sectors.div_ceil(vg.extent_size);
                if extents * vg.extent_size != sectors {
                    log::print(format!(
                        "Rounding size to boundary between physical extents: {}.",
                        display_size(extents * vg.extent_size)
                    ));
                }
                extents
            }
            SizeRequest::Extents(n) => n,
            SizeRequest::Percent(percent, base) => {
                let of = match base {
                    PercentOf::Free => free_extents(vg),
                    PercentOf::Vg | PercentOf::Pvs => vg.pvs.iter().map(|p| p.pe_count).sum(),
                    PercentOf::Lv => current,
                    PercentOf::Origin => match origin {
                        Some((extents, chunk)) => cow_max_sectors(extents * vg.extent_size, chunk)
                            .div_ceil(vg.extent_size),
                        None => {
                            return Err(LvmError::Usage(
                                "%ORIGIN applies only to snapshots.".into(),
                            ))
                        }
                    },
                };
                // lvresize rounds a share up, except when it takes away.
                if self.sign == Sign::Minus {
                    of * percent / 100
                } else {
                    (of * percent).div_ceil(100)
                }
            }
        };
        let mut target = match self.sign {
            Sign::Absolute => amount,
            Sign::Plus => current + amount,
            Sign::Minus => current.saturating_sub(amount),
        };
        if let SizeRequest::Percent(percent, base @ (PercentOf::Vg | PercentOf::Pvs)) = self.size {
            let room = current + free_extents(vg);
            if self.sign != Sign::Minus && target > room {
                log::print(format!(
                    "Reducing {percent}%{} to remaining free space {} in VG.",
                    base.label(),
                    display_size(room * vg.extent_size)
                ));
                target = room;
            }
        }
        if target == 0 {
            return Err(LvmError::Usage("Size may not be zero.".into()));
        }
        Ok(target)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_display_as_lvm2_shows_them() {
        assert_eq!(display_size(16384), "8.00 MiB");
        assert_eq!(display_size(335872), "164.00 MiB");
        assert_eq!(display_size(0), "0.00 KiB");
    }

    #[test]
    fn extents_parse_with_percent_bases() {
        assert_eq!(
            SizeRequest::parse_extents("10%FREE").unwrap(),
            SizeRequest::Percent(10, PercentOf::Free)
        );
        assert_eq!(
            SizeRequest::parse_extents("7").unwrap(),
            SizeRequest::Extents(7)
        );
        assert!(matches!(
            SizeRequest::parse_extents("5%FOO"),
            Err(LvmError::Usage(_))
        ));
    }
}
