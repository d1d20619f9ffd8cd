//! Table lines, raw (as the ioctls carry them) and typed, and whole tables
//! as `dmsetup create` reads them.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::target::{Target, TargetError};

/// One table line as the kernel carries it: numbers plus two strings. This is
/// the seam between the table model and every backend.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RawLine {
    /// First sector this line maps.
    pub start: u64,
    /// Number of sectors.
    pub length: u64,
    /// Target type name.
    pub target_type: String,
    /// Parameter string (for status lines, the status text).
    pub params: String,
}

/// dmsetup's layout, `<start> <length> <target> <params>`; the space before
/// the params is printed even when they are empty, as dmsetup does.
impl fmt::Display for RawLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {} {}",
            self.start, self.length, self.target_type, self.params
        )
    }
}

/// A table line with its target understood.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TableLine {
    /// First sector this line maps.
    pub start: u64,
    /// Number of sectors.
    pub length: u64,
    /// What the sectors map to.
    pub target: Target,
}

impl TableLine {
    /// Build a line.
    pub fn new(start: u64, length: u64, target: Target) -> Self {
        Self {
            start,
            length,
            target,
        }
    }

    /// The raw form a backend loads.
    pub fn to_raw(&self) -> RawLine {
        RawLine {
            start: self.start,
            length: self.length,
            target_type: self.target.target_type().to_string(),
            params: self.target.params(),
        }
    }

    /// Understand a raw line (e.g. a table read back from a backend).
    pub fn from_raw(raw: &RawLine) -> Result<Self, TargetError> {
        Ok(Self {
            start: raw.start,
            length: raw.length,
            target: Target::parse(&raw.target_type, &raw.params)?,
        })
    }
}

impl fmt::Display for TableLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.to_raw().fmt(f)
    }
}

/// Why a table is refused; each error names the line (1-based) and the field.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TableError {
    /// Fewer than three fields.
    #[error("line {line}: expected <start> <length> <target> [<params>]")]
    Shape {
        /// Line number.
        line: usize,
    },
    /// Start or length is not a number.
    #[error("line {line}: {field} \"{value}\" is not a number of sectors")]
    Number {
        /// Line number.
        line: usize,
        /// `start` or `length`.
        field: &'static str,
        /// The text given.
        value: String,
    },
    /// A zero-length line.
    #[error("line {line}: length may not be zero")]
    ZeroLength {
        /// Line number.
        line: usize,
    },
    /// Lines must cover the device from sector 0 without gaps or overlaps.
    #[error("line {line}: starts at sector {start}, expected {expected} (lines must follow each other from 0 without gaps)")]
    Gap {
        /// Line number.
        line: usize,
        /// Its start.
        start: u64,
        /// Where the previous line ended.
        expected: u64,
    },
    /// The table ends past the largest device the kernel makes (its size
    /// in bytes must fit a signed 64-bit number, as `dm_table_add_target` checks).
    #[error("line {line}: the table ends past sector {MAX_SECTORS}: too large device")]
    Overflow {
        /// Line number.
        line: usize,
    },
    /// A linear line reaches past the largest device there can be.
    #[error("line {line}: linear: offset {offset} plus length {length} reaches past sector {MAX_SECTORS}: device too small for target")]
    OffsetTooLarge {
        /// Line number.
        line: usize,
        /// The offset given.
        offset: u64,
        /// The line's length.
        length: u64,
    },
    /// The target's parameters are refused.
    #[error("line {line}: {source}")]
    Target {
        /// Line number.
        line: usize,
        /// What is wrong.
        source: TargetError,
    },
    /// No lines at all.
    #[error("table is empty")]
    Empty,
}

/// The largest sector count a device may have: its size in bytes fits an
/// `i64`, as the kernel's `dm_table_add_target` requires (`LLONG_MAX >> SECTOR_SHIFT`).
pub const MAX_SECTORS: u64 = (i64::MAX as u64) >> 9;

/// Where line `line` (1-based), starting at `start` and `length` long, ends;
/// refused when that is past [`MAX_SECTORS`] (so no byte offset overflows).
pub fn line_end(line: usize, start: u64, length: u64) -> Result<u64, TableError> {
    start
        .checked_add(length)
        .filter(|&end| end <= MAX_SECTORS)
        .ok_or(TableError::Overflow { line })
}

/// The numbers of one parsed line that no device can satisfy, whatever it is:
/// a linear offset whose end lies past [`MAX_SECTORS`].
pub fn check_line_numbers(line: usize, parsed: &TableLine) -> Result<(), TableError> {
    line_end(line, parsed.start, parsed.length)?;
    if let Target::Linear { offset_sectors, .. } = parsed.target {
        if offset_sectors
            .checked_add(parsed.length)
            .is_none_or(|end| end > MAX_SECTORS)
        {
            return Err(TableError::OffsetTooLarge {
                line,
                offset: offset_sectors,
                length: parsed.length,
            });
        }
    }
    Ok(())
}

impl TableError {
    fn at(self, line: usize) -> Self {
        match self {
            TableError::Shape { .. } => TableError::Shape { line },
            TableError::Number { field, value, .. } => TableError::Number { line, field, value },
            other => other,
        }
    }
}

impl FromStr for TableLine {
    type Err = TableError;

    /// One line, `<start> <length> <target> [<params>]`; errors say line 1.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let raw: RawLine = s.parse()?;
        TableLine::from_raw(&raw).map_err(|source| TableError::Target { line: 1, source })
    }
}

impl FromStr for RawLine {
    type Err = TableError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut fields = s.trim().splitn(4, char::is_whitespace);
        let (Some(start), Some(length), Some(target_type)) =
            (fields.next(), fields.next(), fields.next())
        else {
            return Err(TableError::Shape { line: 1 });
        };
        let number = |field, value: &str| {
            value.parse::<u64>().map_err(|_| TableError::Number {
                line: 1,
                field,
                value: value.to_string(),
            })
        };
        let params = fields
            .next()
            .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
            .unwrap_or_default();
        Ok(RawLine {
            start: number("start", start)?,
            length: number("length", length)?,
            target_type: target_type.to_string(),
            params,
        })
    }
}

/// Parse a whole table as `dmsetup create` reads it: one line per target,
/// blank lines and `#` comments skipped, lines contiguous from sector 0.
pub fn parse_table(text: &str) -> Result<Vec<TableLine>, TableError> {
    let mut lines = Vec::new();
    let mut next_start = 0u64;
    for (index, text_line) in text.lines().enumerate() {
        let line = index + 1;
        let trimmed = text_line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let raw: RawLine = trimmed.parse().map_err(|e: TableError| e.at(line))?;
        if raw.length == 0 {
            return Err(TableError::ZeroLength { line });
        }
        if raw.start != next_start {
            return Err(TableError::Gap {
                line,
                start: raw.start,
                expected: next_start,
            });
        }
        next_start = line_end(line, raw.start, raw.length)?;
        let parsed =
            TableLine::from_raw(&raw).map_err(|source| TableError::Target { line, source })?;
        check_line_numbers(line, &parsed)?;
        lines.push(parsed);
    }
    if lines.is_empty() {
        return Err(TableError::Empty);
    }
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dm::{DevRef, SnapshotParams, StoreKind};
    use proptest::prelude::*;

    #[test]
    fn parses_the_documented_stack() {
        let text = "0 2097152 snapshot 254:11 254:12 P 16\n";
        let table = parse_table(text).unwrap();
        assert_eq!(table.len(), 1);
        assert_eq!(table[0].to_string(), text.trim_end());
        let multi = parse_table(
            "# cow in two pieces\n0 16384 linear 254:0 43008\n\n16384 8192 linear 254:0 59392\n",
        )
        .unwrap();
        assert_eq!(multi[1].to_string(), "16384 8192 linear 254:0 59392");
        assert_eq!(parse_table("0 8 zero").unwrap()[0].to_string(), "0 8 zero ");
    }

    #[test]
    fn errors_name_the_line_and_field() {
        assert_eq!(
            parse_table("0 8 zero\n8 x zero").unwrap_err().to_string(),
            "line 2: length \"x\" is not a number of sectors"
        );
        assert_eq!(
            parse_table("0 8 zero\n16 8 zero").unwrap_err(),
            TableError::Gap {
                line: 2,
                start: 16,
                expected: 8
            }
        );
        assert_eq!(
            parse_table("\n0 8 linear 8:1").unwrap_err().to_string(),
            "line 2: linear: expected 2 (<device> <offset>) arguments, found 1"
        );
        assert_eq!(
            parse_table("0 0 zero"),
            Err(TableError::ZeroLength { line: 1 })
        );
        assert_eq!(parse_table("# nothing\n"), Err(TableError::Empty));
        assert_eq!(parse_table("0 8"), Err(TableError::Shape { line: 1 }));
        assert_eq!(
            parse_table(&format!("0 5 zero\n5 {} zero", u64::MAX)),
            Err(TableError::Overflow { line: 2 })
        );
    }

    #[test]
    fn numbers_are_checked_as_the_kernel_checks_them() {
        // Issue 11 item 9: a zero target of 2^63-1 sectors is 2^72 bytes.
        assert_eq!(
            parse_table(&format!("0 {} zero", i64::MAX)),
            Err(TableError::Overflow { line: 1 })
        );
        assert_eq!(
            parse_table(&format!("0 {MAX_SECTORS} zero")).unwrap()[0].length,
            MAX_SECTORS
        );
        assert_eq!(
            parse_table(&format!("0 {} zero", MAX_SECTORS + 1)),
            Err(TableError::Overflow { line: 1 })
        );
        // A linear offset of 2^64-1 is refused, never wrapped into another offset.
        let err = parse_table(&format!("0 8 linear 7:0 {}", u64::MAX)).unwrap_err();
        assert_eq!(
            err,
            TableError::OffsetTooLarge {
                line: 1,
                offset: u64::MAX,
                length: 8
            }
        );
        assert!(err
            .to_string()
            .starts_with("line 1: linear: offset 18446744073709551615"));
        assert!(parse_table(&format!("0 8 linear 7:0 {}", MAX_SECTORS - 8)).is_ok());
        // A table whose byte range overflows 64 bits, split over two lines.
        assert_eq!(
            parse_table(&format!("0 8 zero\n8 {} zero", 1u64 << 60)),
            Err(TableError::Overflow { line: 2 })
        );
    }

    fn dev_ref() -> impl Strategy<Value = DevRef> {
        prop_oneof![
            (any::<u32>(), any::<u32>()).prop_map(|(major, minor)| DevRef::Number { major, minor }),
            "/[a-z][a-z0-9/_.-]{0,30}".prop_map(|p| DevRef::Path(p.into())),
        ]
    }

    fn snapshot_params() -> impl Strategy<Value = SnapshotParams> {
        let store = prop_oneof![
            Just(StoreKind::Persistent),
            Just(StoreKind::PersistentOverflow),
            Just(StoreKind::Transient)
        ];
        let features = prop_oneof![
            Just(vec![]),
            Just(vec!["discard_zeroes_cow".to_string()]),
            Just(vec![
                "discard_zeroes_cow".to_string(),
                "discard_passdown_origin".to_string()
            ]),
        ];
        (dev_ref(), dev_ref(), store, any::<u32>(), features).prop_map(
            |(origin, cow, store, chunk_sectors, features)| SnapshotParams {
                origin,
                cow,
                store,
                chunk_sectors,
                features,
            },
        )
    }

    fn target() -> impl Strategy<Value = Target> {
        prop_oneof![
            (dev_ref(), 0..MAX_SECTORS - (1 << 43)).prop_map(|(device, offset_sectors)| {
                Target::Linear {
                    device,
                    offset_sectors,
                }
            }),
            snapshot_params().prop_map(Target::Snapshot),
            snapshot_params()
                .prop_filter("merge needs a persistent store", |p| p
                    .store
                    .is_persistent())
                .prop_map(Target::SnapshotMerge),
            dev_ref().prop_map(|origin| Target::SnapshotOrigin { origin }),
            Just(Target::Zero),
            Just(Target::Error),
        ]
    }

    proptest! {
        #[test]
        fn table_lines_round_trip(lengths in proptest::collection::vec(1u64..1 << 40, 1..6),
                                  targets in proptest::collection::vec(target(), 6)) {
            let mut start = 0;
            let mut lines = Vec::new();
            for (length, target) in lengths.iter().zip(targets) {
                lines.push(TableLine::new(start, *length, target));
                start += length;
            }
            let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
            prop_assert_eq!(parse_table(&text).unwrap(), lines);
        }

        #[test]
        fn arbitrary_text_never_panics(text in "\\PC{0,200}") {
            let _ = parse_table(&text);
        }
    }
}
