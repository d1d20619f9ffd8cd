//! The status words of LVs and VGs (`READ`, `WRITE`, `VISIBLE`, ...) as a
//! type, so code asks `lv.has(LvFlag::Write)` instead of comparing strings.
//! The model keeps the words as text (unknown ones survive a rewrite); these
//! are the ones rlvm acts on.

use super::model::{Lv, Vg};

/// A status word of an LV that rlvm reads or sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LvFlag {
    /// `READ`: the LV can be read.
    Read,
    /// `WRITE`: the LV can be written (absent for `-p r`).
    Write,
    /// `VISIBLE`: listed by lvs without `-a`.
    Visible,
    /// `FIXED_MINOR`: activated with the minor number the metadata records (`-My`).
    FixedMinor,
}

impl LvFlag {
    /// The word as lvm2 writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            LvFlag::Read => "READ",
            LvFlag::Write => "WRITE",
            LvFlag::Visible => "VISIBLE",
            LvFlag::FixedMinor => "FIXED_MINOR",
        }
    }
}

/// A status word of a VG that rlvm reads or sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VgFlag {
    /// `RESIZEABLE`: PVs may be added and removed.
    Resizeable,
    /// `READ`: the VG can be read.
    Read,
    /// `WRITE`: the VG can be changed.
    Write,
}

impl VgFlag {
    /// The word as lvm2 writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            VgFlag::Resizeable => "RESIZEABLE",
            VgFlag::Read => "READ",
            VgFlag::Write => "WRITE",
        }
    }
}

impl Lv {
    /// Whether the LV carries `flag`.
    pub fn has(&self, flag: LvFlag) -> bool {
        self.status.iter().any(|s| s == flag.as_str())
    }

    /// Set or clear `flag`, keeping the other words in their order.
    pub fn set_flag(&mut self, flag: LvFlag, on: bool) {
        let present = self.has(flag);
        if on && !present {
            self.status.push(flag.as_str().to_string());
        } else if !on && present {
            self.status.retain(|s| s != flag.as_str());
        }
    }
}

impl Vg {
    /// Whether the VG carries `flag`.
    pub fn has(&self, flag: VgFlag) -> bool {
        self.status.iter().any(|s| s == flag.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_read_and_set_the_status_words() {
        let mut lv = Lv {
            name: "x".into(),
            id: "id".into(),
            status: vec!["READ".into(), "VISIBLE".into()],
            creation_time: None,
            creation_host: None,
            segments: vec![],
            extra: vec![],
        };
        assert!(lv.has(LvFlag::Read) && !lv.has(LvFlag::Write));
        lv.set_flag(LvFlag::Write, true);
        lv.set_flag(LvFlag::Visible, false);
        assert_eq!(lv.status, vec!["READ".to_string(), "WRITE".to_string()]);
    }
}
