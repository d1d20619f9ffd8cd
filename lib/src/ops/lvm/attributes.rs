//! What lvcreate records about a new LV besides its size and place:
//! `--addtag`, `-C y` (contiguous allocation), `-r` (read-ahead) and
//! `-M y --major --minor` (a persistent minor number), written as lvm2
//! writes them, with lvm2's warnings for values it adjusts.

use super::LvmError;
use crate::log;
use crate::lvm2::flags::LvFlag;
use crate::lvm2::model::Lv;
use crate::lvm2::text::{Item, Value};
use crate::ops::vg_change::TagChange;

/// `-r`/`--readahead`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadAhead {
    /// `auto`: the kernel's choice (nothing is recorded).
    Auto,
    /// `none`: no read-ahead (recorded as -1).
    None,
    /// A number of sectors.
    Sectors(u32),
}

impl ReadAhead {
    /// Parse lvm2's `-r` value: `auto`, `none` or sectors.
    pub fn parse(text: &str) -> Result<Self, String> {
        match text {
            "auto" => Ok(ReadAhead::Auto),
            "none" => Ok(ReadAhead::None),
            number => number
                .parse()
                .map(ReadAhead::Sectors)
                .map_err(|_| format!("Invalid argument for --readahead: {text}")),
        }
    }
}

/// A persistent device number (`-M y`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Persistent {
    /// `--major` as given (the kernel assigns majors, so lvm2 records 0).
    pub major: Option<u32>,
    /// `--minor`.
    pub minor: Option<u32>,
}

/// A new LV's recorded attributes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LvAttributes {
    /// `--addtag`, in the order given.
    pub tags: Vec<String>,
    /// `-C y`: the `contiguous` allocation policy.
    pub contiguous: bool,
    /// `-r`.
    pub read_ahead: Option<ReadAhead>,
    /// `-M y` with `--major`/`--minor`, or `--minor` alone.
    pub persistent: Option<Persistent>,
}

impl LvAttributes {
    /// Check what lvm2 checks before anything is written.
    pub fn check(&self) -> Result<(), LvmError> {
        if let Some(Persistent { minor: None, .. }) = self.persistent {
            return Err(LvmError::Refused(
                "Please specify minor number with --minor when using -My.".into(),
            ));
        }
        Ok(())
    }

    /// Record these attributes on new LV `lv`, printing lvm2's warnings
    /// for the values it records differently from what was asked.
    pub fn apply(&self, lv: &mut Lv) {
        TagChange {
            add: self.tags.clone(),
            del: Vec::new(),
        }
        .apply(&mut lv.extra);
        let int = |n: i64| Value::Int(n);
        if self.contiguous {
            lv.extra.push(Item::Setting(
                "allocation_policy".into(),
                Value::Str("contiguous".into()),
            ));
        }
        match self.read_ahead {
            None | Some(ReadAhead::Auto) => {}
            Some(ReadAhead::None) => lv.extra.push(Item::Setting("read_ahead".into(), int(-1))),
            Some(ReadAhead::Sectors(sectors)) => {
                // The kernel reads ahead in whole 4 KiB pages.
                let rounded = sectors.div_ceil(8) * 8;
                if rounded != sectors {
                    log::warning(format!(
                        "Overriding readahead to {rounded} sectors, a multiple of 4K page size."
                    ));
                }
                lv.extra
                    .push(Item::Setting("read_ahead".into(), int(rounded.into())));
            }
        }
        if let Some(Persistent {
            major,
            minor: Some(minor),
        }) = self.persistent
        {
            if let Some(major) = major {
                log::warning(format!(
                    "Ignoring supplied major number {major} - kernel assigns major numbers dynamically. Using major number 0 instead."
                ));
            }
            // lvm2 keeps the status words in its own order: FIXED_MINOR before VISIBLE.
            let at = lv
                .status
                .iter()
                .position(|s| s == LvFlag::Visible.as_str())
                .unwrap_or(lv.status.len());
            if !lv.has(LvFlag::FixedMinor) {
                lv.status.insert(at, LvFlag::FixedMinor.as_str().into());
            }
            lv.extra.push(Item::Setting("major".into(), int(0)));
            lv.extra
                .push(Item::Setting("minor".into(), int(minor.into())));
        }
    }
}
