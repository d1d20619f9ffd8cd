//! Status lines of the snapshot targets, as `snapshot_status` prints them.

use std::fmt;
use std::str::FromStr;

use thiserror::Error;

/// What a `snapshot` or `snapshot-merge` target reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SnapshotStatus {
    /// `<allocated>/<total> <metadata>`, all in sectors; metadata is included in allocated.
    Usage {
        /// Sectors used on the COW (data and metadata).
        allocated_sectors: u64,
        /// Size of the COW device.
        total_sectors: u64,
        /// Sectors of header and metadata areas.
        metadata_sectors: u64,
    },
    /// The snapshot was invalidated (full COW or I/O error).
    Invalid,
    /// A merge failed.
    MergeFailed,
    /// A `PO` snapshot ran out of space for a snapshot write; reads still work.
    Overflow,
    /// The store could not report usage.
    Unknown,
}

/// A status string that is none of the forms the kernel prints.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("snapshot status \"{0}\" is not <allocated>/<total> <metadata>, Invalid, Merge failed, Overflow or Unknown")]
pub struct StatusError(pub String);

impl SnapshotStatus {
    /// Fill as lvm2 reports it (`Data%`): used over total, 0 for a store that
    /// holds only its metadata, `None` for a snapshot that is not usable.
    pub fn used_fraction(&self) -> Option<f64> {
        match *self {
            SnapshotStatus::Usage {
                allocated_sectors,
                total_sectors,
                metadata_sectors,
            } => {
                if allocated_sectors == metadata_sectors || total_sectors == 0 {
                    Some(0.0)
                } else {
                    Some(allocated_sectors as f64 / total_sectors as f64)
                }
            }
            _ => None,
        }
    }
}

impl FromStr for SnapshotStatus {
    type Err = StatusError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        match s {
            "Invalid" => return Ok(SnapshotStatus::Invalid),
            "Merge failed" => return Ok(SnapshotStatus::MergeFailed),
            "Overflow" => return Ok(SnapshotStatus::Overflow),
            "Unknown" => return Ok(SnapshotStatus::Unknown),
            _ => {}
        }
        let bad = || StatusError(s.to_string());
        let (usage, metadata) = s.split_once(' ').ok_or_else(bad)?;
        let (allocated, total) = usage.split_once('/').ok_or_else(bad)?;
        Ok(SnapshotStatus::Usage {
            allocated_sectors: allocated.parse().map_err(|_| bad())?,
            total_sectors: total.parse().map_err(|_| bad())?,
            metadata_sectors: metadata.trim().parse().map_err(|_| bad())?,
        })
    }
}

impl fmt::Display for SnapshotStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SnapshotStatus::Usage {
                allocated_sectors,
                total_sectors,
                metadata_sectors,
            } => write!(f, "{allocated_sectors}/{total_sectors} {metadata_sectors}"),
            SnapshotStatus::Invalid => f.write_str("Invalid"),
            SnapshotStatus::MergeFailed => f.write_str("Merge failed"),
            SnapshotStatus::Overflow => f.write_str("Overflow"),
            SnapshotStatus::Unknown => f.write_str("Unknown"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_form() {
        for text in [
            "16/16384 16",
            "4832/8192 32",
            "Invalid",
            "Merge failed",
            "Overflow",
            "Unknown",
        ] {
            assert_eq!(text.parse::<SnapshotStatus>().unwrap().to_string(), text);
        }
        assert!("16/x 16".parse::<SnapshotStatus>().is_err());
        assert!("16 16".parse::<SnapshotStatus>().is_err());
        assert!("".parse::<SnapshotStatus>().is_err());
    }

    #[test]
    fn fill_is_zero_for_a_fresh_store() {
        let fresh: SnapshotStatus = "16/16384 16".parse().unwrap();
        assert_eq!(fresh.used_fraction(), Some(0.0));
        let used: SnapshotStatus = "8240/24576 32".parse().unwrap();
        assert!((used.used_fraction().unwrap() - 0.3353).abs() < 1e-4);
        assert_eq!(SnapshotStatus::Invalid.used_fraction(), None);
    }
}
