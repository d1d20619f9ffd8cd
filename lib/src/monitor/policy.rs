//! The decisions, free of I/O: given a snapshot's status, what to report and
//! whether to extend; given the policy, by how much.

use crate::dm::SnapshotStatus;
use crate::report::percent::{make_percent, Percent, PERCENT_1, PERCENT_100};

/// dmeventd starts looking at 50 % full.
pub const CHECK_MINIMUM: Percent = 50 * PERCENT_1;
/// And acts once per 5 % step.
pub const CHECK_STEP: Percent = 5 * PERCENT_1;
/// Warnings begin at 80 %.
pub const WARNING_THRESHOLD: Percent = 80 * PERCENT_1;

/// What the watcher should do after one look at a snapshot.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// The COW crossed the 5 % step `level` (80, 85, 90 or 95): warn, once per level crossed.
    Warn {
        /// The step crossed, in percent.
        level: u32,
        /// Fill in percent.
        percent: f64,
    },
    /// Crossed a step at or above 50 %: apply the autoextend policy.
    TryExtend {
        /// Fill in percent.
        percent: f64,
    },
    /// The snapshot is no longer usable (`Invalid`, `Overflow`, `Merge failed`).
    Lost {
        /// The status word.
        state: String,
    },
    /// Everything the COW could ever need is allocated: stop watching.
    FullyProvisioned,
}

/// Per-snapshot memory of the last step acted on, as dmeventd keeps it;
/// serialisable so a restarted monitor carries on where it stopped.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Watch {
    percent_check: Percent,
    known_total_sectors: Option<u64>,
    lost: bool,
}

impl Default for Watch {
    fn default() -> Self {
        Self {
            percent_check: CHECK_MINIMUM,
            known_total_sectors: None,
            lost: false,
        }
    }
}

impl Watch {
    /// A fresh watch, as when monitoring starts.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether the snapshot was reported lost (nothing more to watch).
    pub fn is_lost(&self) -> bool {
        self.lost
    }

    /// Look at one status; `snapshot_sectors` is the snapshot device's length.
    pub fn observe(&mut self, status: &SnapshotStatus, snapshot_sectors: u64) -> Vec<Action> {
        if self.lost {
            return Vec::new();
        }
        let SnapshotStatus::Usage {
            allocated_sectors,
            total_sectors,
            metadata_sectors,
        } = *status
        else {
            self.lost = true;
            return vec![Action::Lost {
                state: status.to_string(),
            }];
        };
        if total_sectors == 0 {
            self.lost = true;
            return vec![Action::Lost {
                state: status.to_string(),
            }];
        }
        // A resized COW starts the steps again, so a grown snapshot is re-armed.
        if self.known_total_sectors != Some(total_sectors) {
            self.known_total_sectors = Some(total_sectors);
            self.percent_check = CHECK_MINIMUM;
        }
        if snapshot_sectors <= allocated_sectors.saturating_sub(metadata_sectors) {
            self.lost = true;
            return vec![Action::FullyProvisioned];
        }
        let percent = make_percent(allocated_sectors, total_sectors);
        let mut actions = Vec::new();
        if percent >= self.percent_check {
            let next_check = (percent / CHECK_STEP) * CHECK_STEP + CHECK_STEP;
            let as_float = percent as f64 / PERCENT_1 as f64;
            // dmeventd warns once per look; a burst that jumps several steps
            // between two looks still gets one warning per step crossed.
            let mut level = self.percent_check.max(WARNING_THRESHOLD);
            while level < next_check && level < PERCENT_100 {
                actions.push(Action::Warn {
                    level: (level / PERCENT_1) as u32,
                    percent: as_float,
                });
                level += CHECK_STEP;
            }
            self.percent_check = next_check;
            actions.push(Action::TryExtend { percent: as_float });
        }
        actions
    }
}

/// `activation/snapshot_autoextend_*` as lvm2 reads them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AutoextendPolicy {
    /// Threshold in percent (100 disables; below 50 counts as 50).
    pub threshold: u32,
    /// Growth in percent of the current COW size.
    pub percent: u32,
}

impl Default for AutoextendPolicy {
    /// lvm.conf's defaults: disabled, 20 %.
    fn default() -> Self {
        Self {
            threshold: 100,
            percent: 20,
        }
    }
}

/// What the policy says for one COW.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyDecision {
    /// Policy disabled (threshold 100) or below the threshold.
    Nothing,
    /// Grow by this percent of the current size.
    GrowByPercent(u32),
}

/// Why the policy cannot be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// Autoextend percent 0 with the policy enabled.
    #[error("autoextend percent is set to 0%")]
    ZeroPercent,
}

impl AutoextendPolicy {
    /// The policy in `config` (`activation/snapshot_autoextend_threshold` and `_percent`), lvm2's defaults otherwise.
    pub fn from_config(config: &crate::config::Config) -> Self {
        let default = Self::default();
        let get = |key: &str, fallback: u32| {
            config
                .int(key)
                .map_or(fallback, |n| n.clamp(0, i64::from(u32::MAX)) as u32)
        };
        Self {
            threshold: get(
                "activation/snapshot_autoextend_threshold",
                default.threshold,
            ),
            percent: get("activation/snapshot_autoextend_percent", default.percent),
        }
    }

    /// The threshold lvm2 actually applies, and whether it raised it to 50.
    pub fn effective_threshold(&self) -> (u32, bool) {
        if self.threshold < 50 {
            (50, true)
        } else {
            (self.threshold, false)
        }
    }

    /// Decide for a COW at `usage` (a [`Percent`]; invalid stores never extend).
    pub fn decide(&self, usage: Percent) -> Result<PolicyDecision, PolicyError> {
        let (threshold, _) = self.effective_threshold();
        if threshold >= 100 {
            return Ok(PolicyDecision::Nothing);
        }
        if self.percent == 0 {
            return Err(PolicyError::ZeroPercent);
        }
        let threshold = Percent::from(threshold);
        if !(50 * PERCENT_1 < usage && usage <= PERCENT_100) || usage <= threshold * PERCENT_1 {
            return Ok(PolicyDecision::Nothing);
        }
        // The least growth that brings usage back under the threshold, rounded up.
        let scaled_threshold = threshold * (PERCENT_1 / 100);
        let needed = (usage + scaled_threshold - 1) / scaled_threshold - 100;
        let grow = needed.max(Percent::from(self.percent));
        Ok(PolicyDecision::GrowByPercent(grow as u32))
    }
}

/// Extents to add for `grow_percent` of `current_extents`, rounded up as lvm2 rounds a %LV size.
pub fn extents_for_percent(current_extents: u64, grow_percent: u32) -> u64 {
    (current_extents * u64::from(grow_percent)).div_ceil(100)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(allocated: u64, total: u64) -> SnapshotStatus {
        SnapshotStatus::Usage {
            allocated_sectors: allocated,
            total_sectors: total,
            metadata_sectors: 16,
        }
    }

    #[test]
    fn warns_once_per_five_percent_step_from_eighty() {
        let mut watch = Watch::new();
        let total = 100_000;
        let mut warnings = Vec::new();
        let mut extends = 0;
        for allocated in (0..=99_000).step_by(500) {
            for action in watch.observe(&usage(allocated.max(16), total), 1 << 30) {
                match action {
                    Action::Warn { level, .. } => warnings.push(level),
                    Action::TryExtend { .. } => extends += 1,
                    other => panic!("unexpected {other:?}"),
                }
            }
        }
        assert_eq!(warnings, vec![80, 85, 90, 95]);
        // One attempt per step from 50: 50, 55, ..., 95.
        assert_eq!(extends, 10);
    }

    #[test]
    fn a_jump_warns_for_every_step_crossed() {
        let mut watch = Watch::new();
        let levels: Vec<u32> = watch
            .observe(&usage(92, 100), 1000)
            .into_iter()
            .filter_map(|a| match a {
                Action::Warn { level, .. } => Some(level),
                _ => None,
            })
            .collect();
        assert_eq!(levels, [80, 85, 90]);
    }

    #[test]
    fn a_grown_cow_is_rearmed_and_an_invalid_one_is_lost_once() {
        let mut watch = Watch::new();
        assert_eq!(watch.observe(&usage(90, 100), 1000).len(), 4);
        assert!(watch.observe(&usage(91, 100), 1000).is_empty());
        assert_eq!(
            watch.observe(&usage(91, 200), 1000),
            Vec::<Action>::new(),
            "45 % after growth: below the first step"
        );
        assert_eq!(watch.observe(&usage(180, 200), 1000).len(), 4);
        assert_eq!(
            watch.observe(&SnapshotStatus::Invalid, 1000),
            vec![Action::Lost {
                state: "Invalid".into()
            }]
        );
        assert!(watch.observe(&SnapshotStatus::Invalid, 1000).is_empty());
    }

    #[test]
    fn policy_matches_lvm2_arithmetic() {
        let policy = AutoextendPolicy {
            threshold: 50,
            percent: 20,
        };
        // facts.md §4.2: 50.29 % with 50/20 grows by 20 %.
        assert_eq!(
            policy.decide(make_percent(8240, 16384)),
            Ok(PolicyDecision::GrowByPercent(20))
        );
        // 95 % over a 50 % threshold needs 90 % growth to get back under it.
        assert_eq!(
            policy.decide(95 * PERCENT_1),
            Ok(PolicyDecision::GrowByPercent(90))
        );
        assert_eq!(policy.decide(50 * PERCENT_1), Ok(PolicyDecision::Nothing));
        assert_eq!(
            AutoextendPolicy::default().decide(99 * PERCENT_1),
            Ok(PolicyDecision::Nothing)
        );
        assert_eq!(
            AutoextendPolicy {
                threshold: 70,
                percent: 0
            }
            .decide(80 * PERCENT_1),
            Err(PolicyError::ZeroPercent)
        );
        assert_eq!(
            AutoextendPolicy {
                threshold: 10,
                percent: 20
            }
            .effective_threshold(),
            (50, true)
        );
        // 2 extents + 20 % rounds up to one more extent (8 MiB -> 12 MiB).
        assert_eq!(extents_for_percent(2, 20), 1);
    }
}
