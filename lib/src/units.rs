//! Units: 512-byte sectors everywhere on the dm side, and lvm2's size syntax
//! (`100M`, `1.5g`, `64k`, `8s`) for command arguments.

use thiserror::Error;

/// Bytes in one device-mapper sector.
pub const SECTOR_SIZE: u64 = 512;

/// A size argument that could not be understood.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SizeError {
    /// Empty input.
    #[error("size is empty")]
    Empty,
    /// The number part did not parse.
    #[error("size '{0}' is not a number followed by an optional unit (b, s, k, m, g, t, p, e)")]
    Malformed(String),
    /// The unit letter is not one lvm2 knows.
    #[error("size '{input}' has unknown unit '{unit}'")]
    UnknownUnit {
        /// Whole argument.
        input: String,
        /// Offending suffix.
        unit: String,
    },
    /// The result does not fit in 64 bits.
    #[error("size '{0}' is too large")]
    Overflow(String),
    /// A negative size where none is allowed.
    #[error("size '{0}' may not be negative")]
    Negative(String),
}

/// Sign prefix of a relative size (`+10G`, `-1G`), as `lvextend`/`lvreduce` take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sign {
    /// No prefix: an absolute size.
    Absolute,
    /// `+`: grow by.
    Plus,
    /// `-`: shrink by.
    Minus,
}

/// Multiplier in bytes of an lvm2 input unit letter. Input units are binary
/// in either case (`1G` == `1g` == 2^30 bytes), as lvm2 reads size arguments.
pub fn unit_bytes(unit: char) -> Option<u64> {
    Some(match unit.to_ascii_lowercase() {
        'b' => 1,
        's' => SECTOR_SIZE,
        'k' => 1 << 10,
        'm' => 1 << 20,
        'g' => 1 << 30,
        't' => 1 << 40,
        'p' => 1 << 50,
        'e' => 1 << 60,
        _ => return None,
    })
}

/// Parse an lvm2 size such as `100M`, `1.5g` or `4096` (in `default_unit` when
/// no suffix is given) into bytes, with an optional leading `+`/`-`.
pub fn parse_signed_size(input: &str, default_unit: char) -> Result<(Sign, u64), SizeError> {
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err(SizeError::Empty);
    }
    let (sign, rest) = match trimmed.as_bytes()[0] {
        b'+' => (Sign::Plus, &trimmed[1..]),
        b'-' => (Sign::Minus, &trimmed[1..]),
        _ => (Sign::Absolute, trimmed),
    };
    let split = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    let (number, unit) = rest.split_at(split);
    // lvm2 accepts a trailing 'B' after the unit letter ("100MB" is not lvm2 syntax, but "100m" is); we keep to one letter.
    let multiplier = match unit.chars().collect::<Vec<_>>().as_slice() {
        [] => unit_bytes(default_unit).ok_or_else(|| SizeError::UnknownUnit {
            input: input.to_string(),
            unit: default_unit.to_string(),
        })?,
        [letter] => unit_bytes(*letter).ok_or_else(|| SizeError::UnknownUnit {
            input: input.to_string(),
            unit: unit.to_string(),
        })?,
        _ => {
            return Err(SizeError::UnknownUnit {
                input: input.to_string(),
                unit: unit.to_string(),
            })
        }
    };
    if number.is_empty() || number.matches('.').count() > 1 || number == "." {
        return Err(SizeError::Malformed(input.to_string()));
    }
    let bytes = match number.split_once('.') {
        None => number
            .parse::<u64>()
            .map_err(|_| SizeError::Overflow(input.to_string()))?
            .checked_mul(multiplier)
            .ok_or_else(|| SizeError::Overflow(input.to_string()))?,
        Some((whole, fraction)) => {
            let whole: u64 = if whole.is_empty() {
                0
            } else {
                whole
                    .parse()
                    .map_err(|_| SizeError::Overflow(input.to_string()))?
            };
            let fraction_digits = fraction.len().min(18);
            let scale = 10u128.pow(fraction_digits as u32);
            let fraction_value: u128 = if fraction_digits == 0 {
                0
            } else {
                fraction[..fraction_digits]
                    .parse()
                    .map_err(|_| SizeError::Malformed(input.to_string()))?
            };
            let total = u128::from(whole) * u128::from(multiplier)
                + fraction_value * u128::from(multiplier) / scale;
            u64::try_from(total).map_err(|_| SizeError::Overflow(input.to_string()))?
        }
    };
    Ok((sign, bytes))
}

/// Parse an absolute lvm2 size into bytes; a sign is refused.
pub fn parse_size(input: &str, default_unit: char) -> Result<u64, SizeError> {
    match parse_signed_size(input, default_unit)? {
        (Sign::Absolute, bytes) => Ok(bytes),
        _ => Err(SizeError::Negative(input.to_string())),
    }
}

/// Bytes to whole sectors, rounding up.
pub fn bytes_to_sectors_ceil(bytes: u64) -> u64 {
    bytes.div_ceil(SECTOR_SIZE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lvm2_sizes() {
        assert_eq!(parse_size("100M", 'm').unwrap(), 100 << 20);
        assert_eq!(parse_size("100", 'm').unwrap(), 100 << 20);
        assert_eq!(parse_size("4k", 'k').unwrap(), 4096);
        assert_eq!(parse_size("8s", 'k').unwrap(), 4096);
        assert_eq!(parse_size("1.5g", 'm').unwrap(), 3 << 29);
        assert_eq!(parse_size("1G", 'm').unwrap(), 1 << 30);
        assert_eq!(
            parse_signed_size("+20m", 'm').unwrap(),
            (Sign::Plus, 20 << 20)
        );
    }

    #[test]
    fn refuses_bad_sizes() {
        assert_eq!(parse_size("", 'm'), Err(SizeError::Empty));
        assert!(matches!(
            parse_size("12q", 'm'),
            Err(SizeError::UnknownUnit { .. })
        ));
        assert!(matches!(
            parse_size("1.2.3m", 'm'),
            Err(SizeError::Malformed(_))
        ));
        assert!(matches!(parse_size("m", 'm'), Err(SizeError::Malformed(_))));
        assert!(matches!(
            parse_size("99999999e", 'm'),
            Err(SizeError::Overflow(_))
        ));
        assert!(matches!(
            parse_size("-1m", 'm'),
            Err(SizeError::Negative(_))
        ));
    }
}
