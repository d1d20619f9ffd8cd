//! lvm2's name rules and the device-mapper names and UUIDs lvm2 gives its
//! devices. This module is the only producer of `VG-LV`, `VG-LV-real`,
//! `VG-SNAP-cow` and `LVM-<vg uuid><lv uuid>[-layer]`.
//!
//! Budget: the kernel's `DM_NAME_LEN` is 128 bytes with the NUL, so a dm name
//! holds 127 characters; lvm2's own `NAME_LEN` caps a VG or LV name at 127 as
//! well, so a name of many hyphens can still overflow the dm name once they
//! are doubled, which [`dm_name`] reports rather than truncates.

use thiserror::Error;

/// Longest VG or LV name lvm2 accepts (its NAME_LEN of 128 less the NUL).
pub const MAX_NAME_LEN: usize = 127;
/// Longest dm device name (DM_NAME_LEN of 128 less the NUL).
pub const MAX_DM_NAME_LEN: usize = 127;
/// Longest dm UUID (DM_UUID_LEN of 129 less the NUL).
pub const MAX_DM_UUID_LEN: usize = 128;
/// Prefix of every dm UUID lvm2 creates.
pub const DM_UUID_PREFIX: &str = "LVM-";

/// LV name prefixes lvm2 keeps for its own hidden volumes.
pub const RESERVED_LV_PREFIXES: &[&str] = &["pvmove", "snapshot"];
/// Substrings lvm2 keeps for the sub-LVs of mirrors, RAID, thin, cache and VDO.
pub const RESERVED_LV_SUBSTRINGS: &[&str] = &[
    "_cdata", "_cmeta", "_corig", "_cpool", "_cvol", "_wcorig", "_mimage", "_mlog", "_pmspare",
    "_rimage", "_rmeta", "_tdata", "_tmeta", "_vdata", "_vdo", "_vorigin",
];

/// Why a VG or LV name is refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum NameError {
    /// Empty name.
    #[error("name is empty")]
    Empty,
    /// Longer than lvm2 allows.
    #[error("name \"{0}\" is longer than {MAX_NAME_LEN} characters")]
    TooLong(String),
    /// Starts with a hyphen, which lvm2 forbids so names cannot look like options.
    #[error("name \"{0}\" may not begin with a hyphen")]
    LeadingHyphen(String),
    /// `.` or `..`.
    #[error("name \"{0}\" is reserved")]
    Dots(String),
    /// A character outside `a-z A-Z 0-9 + _ . -`.
    #[error(
        "name \"{name}\" contains invalid character '{character}' (allowed: a-z A-Z 0-9 + _ . -)"
    )]
    InvalidCharacter {
        /// The name.
        name: String,
        /// First bad character.
        character: char,
    },
    /// An LV name lvm2 keeps for its own volumes.
    #[error("logical volume name \"{name}\" is reserved ({why})")]
    ReservedLvName {
        /// The name.
        name: String,
        /// Which rule.
        why: String,
    },
    /// The dm name built from VG and LV would not fit the kernel's limit.
    #[error("device-mapper name \"{0}\" is longer than {MAX_DM_NAME_LEN} characters")]
    DmNameTooLong(String),
}

/// Check a name against lvm2's common rules (VG and LV alike).
pub fn validate_name(name: &str) -> Result<(), NameError> {
    if name.is_empty() {
        return Err(NameError::Empty);
    }
    if name.starts_with('-') {
        return Err(NameError::LeadingHyphen(name.to_string()));
    }
    if name == "." || name == ".." {
        return Err(NameError::Dots(name.to_string()));
    }
    if let Some(character) = name
        .chars()
        .find(|&c| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '_' | '.' | '-')))
    {
        return Err(NameError::InvalidCharacter {
            name: name.to_string(),
            character,
        });
    }
    if name.len() > MAX_NAME_LEN {
        return Err(NameError::TooLong(name.to_string()));
    }
    Ok(())
}

/// Check a VG name.
pub fn validate_vg_name(name: &str) -> Result<(), NameError> {
    validate_name(name)
}

/// Check a name a user gives a new LV: the common rules plus lvm2's reserved
/// prefixes and substrings.
pub fn validate_lv_name(name: &str) -> Result<(), NameError> {
    validate_name(name)?;
    if let Some(prefix) = RESERVED_LV_PREFIXES.iter().find(|p| name.starts_with(*p)) {
        return Err(NameError::ReservedLvName {
            name: name.to_string(),
            why: format!("prefix \"{prefix}\" is used by lvm2"),
        });
    }
    if let Some(part) = RESERVED_LV_SUBSTRINGS.iter().find(|p| name.contains(*p)) {
        return Err(NameError::ReservedLvName {
            name: name.to_string(),
            why: format!("\"{part}\" is used by lvm2 for internal volumes"),
        });
    }
    Ok(())
}

/// The extra device-mapper layer lvm2 stacks under an LV.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DmLayer {
    /// The LV itself (the visible device).
    Top,
    /// `-real`: an origin's own mapping, under its `snapshot-origin` device.
    Real,
    /// `-cow`: a snapshot's exception store space.
    Cow,
}

impl DmLayer {
    /// Suffix after the LV part of the name and UUID (empty for the LV itself).
    pub fn suffix(self) -> &'static str {
        match self {
            DmLayer::Top => "",
            DmLayer::Real => "real",
            DmLayer::Cow => "cow",
        }
    }
}

fn quote_hyphens(part: &str) -> String {
    part.replace('-', "--")
}

/// The dm name lvm2 gives `vg/lv` at `layer`: hyphens inside each name are
/// doubled so the single hyphens between parts stay unambiguous.
pub fn dm_name(vg: &str, lv: &str, layer: DmLayer) -> Result<String, NameError> {
    let mut name = format!("{}-{}", quote_hyphens(vg), quote_hyphens(lv));
    if layer != DmLayer::Top {
        name.push('-');
        name.push_str(layer.suffix());
    }
    if name.len() > MAX_DM_NAME_LEN {
        return Err(NameError::DmNameTooLong(name));
    }
    Ok(name)
}

/// A dm name taken apart again (`dmsetup splitname`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitDmName {
    /// VG name, hyphens undoubled.
    pub vg: String,
    /// LV name, hyphens undoubled (empty when the name had only a VG part).
    pub lv: String,
    /// Layer suffix (`real`, `cow`, or another lvm2 layer), empty for none.
    pub layer: String,
}

/// Split a dm name built by [`dm_name`] into VG, LV and layer; `None` when the
/// name is not of that shape (a single hyphen ends each part).
pub fn split_dm_name(name: &str) -> Option<SplitDmName> {
    let mut parts: Vec<String> = vec![String::new()];
    let mut chars = name.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '-' {
            if chars.peek() == Some(&'-') {
                chars.next();
                parts.last_mut()?.push('-');
            } else {
                parts.push(String::new());
            }
        } else {
            parts.last_mut()?.push(c);
        }
    }
    match parts.len() {
        2 => Some(SplitDmName {
            vg: parts[0].clone(),
            lv: parts[1].clone(),
            layer: String::new(),
        }),
        3 => Some(SplitDmName {
            vg: parts[0].clone(),
            lv: parts[1].clone(),
            layer: parts[2].clone(),
        }),
        _ => None,
    }
}

/// lvm2's 32-character identifier of a VG, PV or LV as stored (no dashes).
pub fn compact_uuid(uuid: &str) -> String {
    uuid.chars().filter(|&c| c != '-').collect()
}

/// The dm UUID lvm2 gives an LV at `layer`: `LVM-<vg uuid><lv uuid>[-layer]`,
/// both UUIDs without their dashes.
pub fn dm_uuid(vg_uuid: &str, lv_uuid: &str, layer: DmLayer) -> String {
    let mut uuid = format!(
        "{DM_UUID_PREFIX}{}{}",
        compact_uuid(vg_uuid),
        compact_uuid(lv_uuid)
    );
    if layer != DmLayer::Top {
        uuid.push('-');
        uuid.push_str(layer.suffix());
    }
    uuid
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dm_names_double_inner_hyphens() {
        assert_eq!(
            dm_name("volumeGroup", "base", DmLayer::Real).unwrap(),
            "volumeGroup-base-real"
        );
        assert_eq!(
            dm_name("volumeGroup", "snap", DmLayer::Cow).unwrap(),
            "volumeGroup-snap-cow"
        );
        assert_eq!(
            dm_name("my-vg", "a-b", DmLayer::Top).unwrap(),
            "my--vg-a--b"
        );
        let long = "x".repeat(127);
        assert!(matches!(
            dm_name(&long, "lv", DmLayer::Top),
            Err(NameError::DmNameTooLong(_))
        ));
    }

    #[test]
    fn split_undoes_dm_name() {
        for (vg, lv, layer) in [
            ("vg", "lv", DmLayer::Top),
            ("my-vg", "a--b", DmLayer::Cow),
            ("-x", "y-", DmLayer::Real),
        ] {
            let name = dm_name(vg, lv, layer).unwrap();
            let split = split_dm_name(&name).unwrap();
            assert_eq!((split.vg.as_str(), split.lv.as_str()), (vg, lv), "{name}");
            assert_eq!(split.layer, layer.suffix());
        }
        assert_eq!(split_dm_name("a-b-c-d"), None);
    }

    #[test]
    fn uuids_follow_lvm2() {
        let vg = "Ky0TQO-4Xg5-MqUS-3Ke7-Wsm3-bOe1-3Fpu8H";
        let lv = "fkqsQ8-tB6H-BMi6-j2hN-bPVQ-3kZS-SAn3vT";
        assert_eq!(
            dm_uuid(vg, lv, DmLayer::Cow),
            "LVM-Ky0TQO4Xg5MqUS3Ke7Wsm3bOe13Fpu8HfkqsQ8tB6HBMi6j2hNbPVQ3kZSSAn3vT-cow"
        );
        assert_eq!(dm_uuid(vg, lv, DmLayer::Top).len(), 68);
    }

    #[test]
    fn names_follow_lvm2_rules() {
        assert!(validate_name("vg_0.+-x").is_ok());
        assert_eq!(validate_name(""), Err(NameError::Empty));
        assert!(matches!(
            validate_name("-vg"),
            Err(NameError::LeadingHyphen(_))
        ));
        assert!(matches!(validate_name(".."), Err(NameError::Dots(_))));
        assert!(matches!(
            validate_name("a/b"),
            Err(NameError::InvalidCharacter { character: '/', .. })
        ));
        assert!(matches!(
            validate_name(&"a".repeat(128)),
            Err(NameError::TooLong(_))
        ));
        assert!(validate_name(&"a".repeat(127)).is_ok());
        assert!(matches!(
            validate_lv_name("snapshot0"),
            Err(NameError::ReservedLvName { .. })
        ));
        assert!(matches!(
            validate_lv_name("data_tmeta"),
            Err(NameError::ReservedLvName { .. })
        ));
        assert!(validate_lv_name("snap").is_ok());
    }
}
