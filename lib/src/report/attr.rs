//! The ten-character `lv_attr` string, computed as lvm2 computes it for the
//! volume kinds rlvm makes (linear, snapshot origin, snapshot COW).

/// What a volume is, for the first attribute character.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum VolumeRole {
    /// An ordinary volume.
    #[default]
    Plain,
    /// An origin with snapshots (`o`), merging one back (`O`).
    Origin {
        /// A snapshot is merging into it.
        merging: bool,
    },
    /// A snapshot's COW volume (`s`), merging (`S`).
    Snapshot {
        /// It is being merged into its origin.
        merging: bool,
    },
}

/// What the device-mapper reports of the volume's top device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ActiveState {
    /// I/O held.
    pub suspended: bool,
    /// Live table present.
    pub live_table: bool,
    /// Inactive table waiting.
    pub inactive_table: bool,
    /// Opened by someone.
    pub open: bool,
    /// Activated read-only.
    pub read_only: bool,
    /// The snapshot target reports `Invalid`.
    pub snapshot_invalid: bool,
    /// The snapshot target reports `Merge failed`.
    pub merge_failed: bool,
    /// The kernel's read-ahead of the device in sectors (sysfs), when known.
    pub read_ahead_sectors: Option<u64>,
}

/// Everything `lv_attr` depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttrInput {
    /// Volume kind.
    pub role: VolumeRole,
    /// Metadata grants write (`LVM_WRITE`).
    pub writable: bool,
    /// Allocation policy letter (`i` inherit, `c` contiguous, `n` normal, `a` anywhere, `l` cling).
    pub alloc: char,
    /// A fixed minor is recorded.
    pub fixed_minor: bool,
    /// `None` when the state could not be read (activation disabled): shown as `XX`.
    pub activation: Option<Option<ActiveState>>,
    /// A PV of the volume is missing.
    pub partial: bool,
    /// Skipped on activation.
    pub activation_skip: bool,
}

/// The `lv_attr` string.
pub fn lv_attr(input: &AttrInput) -> String {
    let mut attr = ['-'; 10];
    attr[0] = match input.role {
        VolumeRole::Plain => '-',
        VolumeRole::Origin { merging } => {
            if merging {
                'O'
            } else {
                'o'
            }
        }
        VolumeRole::Snapshot { merging } => {
            if merging {
                'S'
            } else {
                's'
            }
        }
    };
    attr[1] = if input.writable { 'w' } else { 'r' };
    attr[2] = input.alloc;
    attr[3] = if input.fixed_minor { 'm' } else { '-' };
    match input.activation {
        None => {
            attr[4] = 'X';
            attr[5] = 'X';
        }
        Some(None) => {}
        Some(Some(state)) => {
            attr[4] = if state.suspended {
                's'
            } else if state.live_table {
                'a'
            } else if state.inactive_table {
                'i'
            } else {
                'd'
            };
            let is_snapshot = matches!(input.role, VolumeRole::Snapshot { .. });
            if state.live_table && is_snapshot {
                if state.snapshot_invalid {
                    attr[4] = if state.suspended { 'S' } else { 'I' };
                } else if state.merge_failed {
                    attr[4] = if state.suspended { 'M' } else { 'm' };
                }
            }
            if attr[1] != 'r' && state.read_only {
                attr[1] = 'R';
            }
            attr[5] = if state.open { 'o' } else { '-' };
        }
    }
    attr[6] = match input.role {
        VolumeRole::Plain => '-',
        _ => 's',
    };
    attr[8] = if input.partial { 'p' } else { '-' };
    attr[9] = if input.activation_skip { 'k' } else { '-' };
    attr.iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base(role: VolumeRole, state: Option<Option<ActiveState>>) -> AttrInput {
        AttrInput {
            role,
            writable: true,
            alloc: 'i',
            fixed_minor: false,
            activation: state,
            partial: false,
            activation_skip: false,
        }
    }

    #[test]
    fn matches_lvs_for_the_snapshot_stack() {
        let active = ActiveState {
            live_table: true,
            ..Default::default()
        };
        assert_eq!(
            lv_attr(&base(VolumeRole::Plain, Some(Some(active)))),
            "-wi-a-----"
        );
        assert_eq!(
            lv_attr(&base(
                VolumeRole::Origin { merging: false },
                Some(Some(active))
            )),
            "owi-a-s---"
        );
        assert_eq!(
            lv_attr(&base(
                VolumeRole::Snapshot { merging: false },
                Some(Some(active))
            )),
            "swi-a-s---"
        );
        let invalid = ActiveState {
            snapshot_invalid: true,
            ..active
        };
        assert_eq!(
            lv_attr(&base(
                VolumeRole::Snapshot { merging: false },
                Some(Some(invalid))
            )),
            "swi-I-s---"
        );
        assert_eq!(lv_attr(&base(VolumeRole::Plain, Some(None))), "-wi-------");
        assert_eq!(lv_attr(&base(VolumeRole::Plain, None)), "-wi-XX----");
        let open_ro = ActiveState {
            open: true,
            read_only: true,
            ..active
        };
        assert_eq!(
            lv_attr(&base(
                VolumeRole::Origin { merging: true },
                Some(Some(open_ro))
            )),
            "ORi-aos---"
        );
    }
}
