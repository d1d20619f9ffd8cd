//! Targets and their parameters, parsed from and printed to the kernel's
//! syntax. Parsing checks the shape (argument count, then each field with
//! its name); what only the kernel's constructor can judge (does the device
//! exist, is the chunk size a power of two) is left to the backend, so both
//! backends report it the kernel's way.

use std::fmt;

use thiserror::Error;

use super::device::{DevRef, DevRefError};

/// The kind of exception store a snapshot uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StoreKind {
    /// `P`: persistent, survives reactivation.
    Persistent,
    /// `PO`: persistent, and a full COW only fails snapshot writes ("overflow") instead of invalidating.
    PersistentOverflow,
    /// `N`: transient, exceptions kept in memory only.
    Transient,
}

impl StoreKind {
    /// The letters the kernel prints back.
    pub fn as_str(self) -> &'static str {
        match self {
            StoreKind::Persistent => "P",
            StoreKind::PersistentOverflow => "PO",
            StoreKind::Transient => "N",
        }
    }

    /// Whether the store lives on the COW device.
    pub fn is_persistent(self) -> bool {
        !matches!(self, StoreKind::Transient)
    }
}

/// Parameters shared by `snapshot` and `snapshot-merge`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SnapshotParams {
    /// The origin's underlying device (lvm2's `-real`).
    pub origin: DevRef,
    /// The COW device (lvm2's `-cow`).
    pub cow: DevRef,
    /// Exception store kind.
    pub store: StoreKind,
    /// Chunk size in sectors (0: take it from the COW header, or the kernel default for a fresh COW).
    pub chunk_sectors: u32,
    /// Optional features (`discard_zeroes_cow`, `discard_passdown_origin`).
    pub features: Vec<String>,
}

/// One target with its parameters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Target {
    /// `linear <dev> <offset>`: sectors mapped one to one onto `dev` from `offset`.
    Linear {
        /// Underlying device.
        device: DevRef,
        /// Start on that device, in sectors.
        offset_sectors: u64,
    },
    /// `striped <#stripes> <chunk> (<dev> <offset>)+`: chunks dealt round-robin over the devices.
    Striped {
        /// Sectors written to one device before the next.
        chunk_sectors: u64,
        /// (device, start in sectors) per stripe.
        stripes: Vec<(DevRef, u64)>,
    },
    /// `snapshot <origin> <cow> <P|PO|N> <chunk> [<#features> <feature>...]`.
    Snapshot(SnapshotParams),
    /// `snapshot-origin <origin>`: reads pass through, writes copy out to every snapshot first.
    SnapshotOrigin {
        /// The origin's underlying device.
        origin: DevRef,
    },
    /// `snapshot-merge`: as `snapshot`, merging the COW back into the origin.
    SnapshotMerge(SnapshotParams),
    /// `zero`: reads return zeros, writes are discarded.
    Zero,
    /// `error`: every I/O fails.
    Error,
    /// Any other target, kept as the kernel's strings (the kernel backend can load it; the engine refuses it).
    Other {
        /// Target type name.
        target_type: String,
        /// Parameter string as given.
        params: String,
    },
}

/// Why a target's parameters are refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TargetError {
    /// Wrong number of arguments.
    #[error("{target}: expected {expected} arguments, found {found}")]
    ArgCount {
        /// Target type.
        target: &'static str,
        /// What the target takes.
        expected: &'static str,
        /// What was given.
        found: usize,
    },
    /// A device argument is malformed.
    #[error("{target}: {field}: {source}")]
    Device {
        /// Target type.
        target: &'static str,
        /// Which argument.
        field: &'static str,
        /// What is wrong with it.
        source: DevRefError,
    },
    /// A numeric or keyword argument is malformed.
    #[error("{target}: {field} \"{value}\" {why}")]
    Field {
        /// Target type.
        target: &'static str,
        /// Which argument.
        field: &'static str,
        /// The text given.
        value: String,
        /// Why it is refused.
        why: &'static str,
    },
}

impl Target {
    /// Target type name as the kernel registers it.
    pub fn target_type(&self) -> &str {
        match self {
            Target::Linear { .. } => "linear",
            Target::Striped { .. } => "striped",
            Target::Snapshot(_) => "snapshot",
            Target::SnapshotOrigin { .. } => "snapshot-origin",
            Target::SnapshotMerge(_) => "snapshot-merge",
            Target::Zero => "zero",
            Target::Error => "error",
            Target::Other { target_type, .. } => target_type,
        }
    }

    /// Parse `params` for a target of type `target_type`.
    pub fn parse(target_type: &str, params: &str) -> Result<Self, TargetError> {
        let args: Vec<&str> = params.split_whitespace().collect();
        match target_type {
            "linear" => {
                let [device, offset] = args[..] else {
                    return Err(TargetError::ArgCount {
                        target: "linear",
                        expected: "2 (<device> <offset>)",
                        found: args.len(),
                    });
                };
                Ok(Target::Linear {
                    device: parse_dev("linear", "device", device)?,
                    offset_sectors: parse_u64("linear", "offset", offset)?,
                })
            }
            "striped" => parse_striped(&args),
            "snapshot" => Ok(Target::Snapshot(parse_snapshot("snapshot", &args)?)),
            "snapshot-merge" => {
                let params = parse_snapshot("snapshot-merge", &args)?;
                if !params.store.is_persistent() {
                    return Err(TargetError::Field {
                        target: "snapshot-merge",
                        field: "store",
                        value: params.store.as_str().to_string(),
                        why: "must be persistent: a transient store cannot merge",
                    });
                }
                Ok(Target::SnapshotMerge(params))
            }
            "snapshot-origin" => {
                let [origin] = args[..] else {
                    return Err(TargetError::ArgCount {
                        target: "snapshot-origin",
                        expected: "1 (<origin>)",
                        found: args.len(),
                    });
                };
                Ok(Target::SnapshotOrigin {
                    origin: parse_dev("snapshot-origin", "origin", origin)?,
                })
            }
            "zero" | "error" if !args.is_empty() => Err(TargetError::ArgCount {
                target: if target_type == "zero" {
                    "zero"
                } else {
                    "error"
                },
                expected: "0",
                found: args.len(),
            }),
            "zero" => Ok(Target::Zero),
            "error" => Ok(Target::Error),
            other => Ok(Target::Other {
                target_type: other.to_string(),
                params: args.join(" "),
            }),
        }
    }

    /// The parameter string as the kernel prints the table back.
    pub fn params(&self) -> String {
        self.to_string()
    }

    /// Every device this target maps onto, in argument order.
    pub fn devices(&self) -> Vec<&DevRef> {
        match self {
            Target::Linear { device, .. } => vec![device],
            Target::Striped { stripes, .. } => stripes.iter().map(|(d, _)| d).collect(),
            Target::Snapshot(p) | Target::SnapshotMerge(p) => vec![&p.origin, &p.cow],
            Target::SnapshotOrigin { origin } => vec![origin],
            Target::Zero | Target::Error | Target::Other { .. } => vec![],
        }
    }

    /// A copy with every device argument passed through `map` (e.g. paths to `major:minor`).
    pub fn map_devices(&self, mut map: impl FnMut(&DevRef) -> DevRef) -> Target {
        let mut target = self.clone();
        match &mut target {
            Target::Linear { device, .. } => *device = map(device),
            Target::Striped { stripes, .. } => {
                for (device, _) in stripes {
                    *device = map(device);
                }
            }
            Target::Snapshot(p) | Target::SnapshotMerge(p) => {
                p.origin = map(&p.origin);
                p.cow = map(&p.cow);
            }
            Target::SnapshotOrigin { origin } => *origin = map(origin),
            Target::Zero | Target::Error | Target::Other { .. } => {}
        }
        target
    }
}

impl fmt::Display for SnapshotParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {} {}",
            self.origin,
            self.cow,
            self.store.as_str(),
            self.chunk_sectors
        )?;
        if !self.features.is_empty() {
            write!(f, " {}", self.features.len())?;
            for feature in &self.features {
                write!(f, " {feature}")?;
            }
        }
        Ok(())
    }
}

/// Writes the parameter string only (the kernel's table readback of the params).
impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Linear {
                device,
                offset_sectors,
            } => write!(f, "{device} {offset_sectors}"),
            Target::Striped {
                chunk_sectors,
                stripes,
            } => {
                write!(f, "{} {chunk_sectors}", stripes.len())?;
                for (device, offset) in stripes {
                    write!(f, " {device} {offset}")?;
                }
                Ok(())
            }
            Target::Snapshot(p) | Target::SnapshotMerge(p) => write!(f, "{p}"),
            Target::SnapshotOrigin { origin } => write!(f, "{origin}"),
            Target::Zero | Target::Error => Ok(()),
            Target::Other { params, .. } => f.write_str(params),
        }
    }
}

const SNAPSHOT_FEATURES: &[&str] = &["discard_zeroes_cow", "discard_passdown_origin"];

/// `striped`'s arguments, checked as dm-stripe's constructor checks them.
fn parse_striped(args: &[&str]) -> Result<Target, TargetError> {
    let count = |found| TargetError::ArgCount {
        target: "striped",
        expected: "2 + 2 per stripe (<#stripes> <chunk> (<device> <offset>)+)",
        found,
    };
    let [stripes, chunk, rest @ ..] = args else {
        return Err(count(args.len()));
    };
    let n = parse_u64("striped", "stripes", stripes)?;
    if n == 0 {
        return Err(TargetError::Field {
            target: "striped",
            field: "stripes",
            value: stripes.to_string(),
            why: "must be at least 1",
        });
    }
    let chunk_sectors = parse_u64("striped", "chunk size", chunk)?;
    if chunk_sectors == 0 {
        return Err(TargetError::Field {
            target: "striped",
            field: "chunk size",
            value: chunk.to_string(),
            why: "must be at least one sector",
        });
    }
    // A stripe count past half of u64 can never match (and 2 * n would overflow).
    if n.checked_mul(2) != Some(rest.len() as u64) {
        return Err(count(args.len()));
    }
    let stripes = rest
        .chunks(2)
        .map(|pair| {
            Ok((
                parse_dev("striped", "device", pair[0])?,
                parse_u64("striped", "offset", pair[1])?,
            ))
        })
        .collect::<Result<Vec<_>, TargetError>>()?;
    Ok(Target::Striped {
        chunk_sectors,
        stripes,
    })
}

fn parse_snapshot(target: &'static str, args: &[&str]) -> Result<SnapshotParams, TargetError> {
    if args.len() < 4 {
        return Err(TargetError::ArgCount {
            target,
            expected: "4 or more (<origin> <cow> <P|PO|N> <chunk size> [<#features> <feature>...])",
            found: args.len(),
        });
    }
    let store = match args[2].to_ascii_uppercase().as_str() {
        "P" => StoreKind::Persistent,
        "PO" => StoreKind::PersistentOverflow,
        "N" => StoreKind::Transient,
        _ => {
            return Err(TargetError::Field {
                target,
                field: "store",
                value: args[2].to_string(),
                why: "is not P, PO or N",
            })
        }
    };
    let chunk_sectors = args[3].parse::<u32>().map_err(|_| TargetError::Field {
        target,
        field: "chunk size",
        value: args[3].to_string(),
        why: "is not a number of sectors",
    })?;
    let features = match &args[4..] {
        [] => Vec::new(),
        [count, rest @ ..] => {
            let count: usize = count.parse().map_err(|_| TargetError::Field {
                target,
                field: "feature count",
                value: count.to_string(),
                why: "is not a number",
            })?;
            if count != rest.len() {
                return Err(TargetError::ArgCount {
                    target,
                    expected: "as many features as the feature count says",
                    found: rest.len(),
                });
            }
            for feature in rest {
                if !SNAPSHOT_FEATURES.contains(feature) {
                    return Err(TargetError::Field {
                        target,
                        field: "feature",
                        value: feature.to_string(),
                        why: "is not discard_zeroes_cow or discard_passdown_origin",
                    });
                }
            }
            if rest.contains(&"discard_passdown_origin") && !rest.contains(&"discard_zeroes_cow") {
                return Err(TargetError::Field {
                    target,
                    field: "feature",
                    value: "discard_passdown_origin".to_string(),
                    why: "requires discard_zeroes_cow",
                });
            }
            rest.iter().map(|s| s.to_string()).collect()
        }
    };
    Ok(SnapshotParams {
        origin: parse_dev(target, "origin", args[0])?,
        cow: parse_dev(target, "COW device", args[1])?,
        store,
        chunk_sectors,
        features,
    })
}

fn parse_dev(
    target: &'static str,
    field: &'static str,
    value: &str,
) -> Result<DevRef, TargetError> {
    value.parse().map_err(|source| TargetError::Device {
        target,
        field,
        source,
    })
}

fn parse_u64(target: &'static str, field: &'static str, value: &str) -> Result<u64, TargetError> {
    value.parse().map_err(|_| TargetError::Field {
        target,
        field,
        value: value.to_string(),
        why: "is not a number of sectors",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_lvm2_stack() {
        let snap = Target::parse("snapshot", "254:11 254:12 P 16").unwrap();
        assert_eq!(snap.to_string(), "254:11 254:12 P 16");
        let Target::Snapshot(p) = &snap else {
            panic!("not a snapshot: {snap:?}")
        };
        assert_eq!(p.store, StoreKind::Persistent);
        assert_eq!(p.chunk_sectors, 16);
        assert_eq!(
            Target::parse("snapshot-origin", "254:11")
                .unwrap()
                .to_string(),
            "254:11"
        );
        assert_eq!(
            Target::parse("linear", "8:19  384").unwrap().to_string(),
            "8:19 384"
        );
        assert_eq!(
            Target::parse("snapshot", "1:2 1:3 po 8 1 discard_zeroes_cow")
                .unwrap()
                .to_string(),
            "1:2 1:3 PO 8 1 discard_zeroes_cow"
        );
    }

    #[test]
    fn errors_name_the_field() {
        let err = Target::parse("snapshot", "1:2 1:3 X 8").unwrap_err();
        assert_eq!(err.to_string(), "snapshot: store \"X\" is not P, PO or N");
        let err = Target::parse("linear", "8:19").unwrap_err();
        assert_eq!(
            err.to_string(),
            "linear: expected 2 (<device> <offset>) arguments, found 1"
        );
        let err = Target::parse("linear", "8:19 -1").unwrap_err();
        assert!(err.to_string().contains("offset \"-1\""), "{err}");
        assert!(Target::parse("snapshot-merge", "1:2 1:3 N 8").is_err());
        assert!(Target::parse("snapshot", "1:2 1:3 P 8 2 discard_zeroes_cow").is_err());
        assert!(Target::parse("snapshot", "1:2 1:3 P 8 1 discard_passdown_origin").is_err());
        assert!(Target::parse("zero", "x").is_err());
        // A stripe count whose double overflows u64 (found by fuzz/dm_table).
        let err = Target::parse("striped", "10000000000000000000 8 1:2 0").unwrap_err();
        assert!(err.to_string().contains("per stripe"), "{err}");
    }

    #[test]
    fn unknown_targets_pass_through() {
        let t = Target::parse("thin-pool", "1:2  1:3 128 0").unwrap();
        assert_eq!(t.target_type(), "thin-pool");
        assert_eq!(t.params(), "1:2 1:3 128 0");
    }
}
