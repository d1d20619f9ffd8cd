//! Sizes printed in lvm2's units (`--units`, `--nosuffix`), following
//! libdevmapper's `dm_size_to_string` with `si_unit_consistency` on, as
//! lvm.conf sets it by default.

use thiserror::Error;

/// A `--units` argument: a letter, optionally preceded by a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Units {
    letter: char,
    factor: u64,
}

/// A `--units` value lvm2 would refuse.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("invalid units specification \"{0}\" (use one of hHbBsSkKmMgGtTpPeErR, optionally preceded by a number)")]
pub struct UnitsError(pub String);

impl Default for Units {
    /// `r`: human-readable, powers of 1024, with `<` where rounding hides a remainder (lvm2's default).
    fn default() -> Self {
        Units {
            letter: 'r',
            factor: 1,
        }
    }
}

fn letter_factor(letter: char) -> Option<u64> {
    const KIB: u64 = 1024;
    const KB: u64 = 1000;
    Some(match letter {
        'h' | 'H' | 'r' | 'R' | 'b' | 'B' => 1,
        's' | 'S' => 512,
        'k' => KIB,
        'm' => KIB.pow(2),
        'g' => KIB.pow(3),
        't' => KIB.pow(4),
        'p' => KIB.pow(5),
        'e' => KIB.pow(6),
        'K' => KB,
        'M' => KB.pow(2),
        'G' => KB.pow(3),
        'T' => KB.pow(4),
        'P' => KB.pow(5),
        'E' => KB.pow(6),
        _ => return None,
    })
}

impl std::str::FromStr for Units {
    type Err = UnitsError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        // libdevmapper's dm_units_to_factor, strict: an optional number, then
        // exactly one letter. The unit keeps its letter when the number's
        // integer part is 1 (so `1.5m` prints `m`); h/H/r/R ignore the number.
        let bad = || UnitsError(s.to_string());
        let (number, rest) = s.split_at(number_prefix(s));
        let mut letters = rest.chars();
        let (Some(letter), None) = (letters.next(), letters.next()) else {
            return Err(bad());
        };
        let base = letter_factor(letter).ok_or_else(bad)?;
        if number.is_empty() || matches!(letter, 'h' | 'H' | 'r' | 'R') {
            return Ok(Units {
                letter,
                factor: base,
            });
        }
        let count: f64 = number.parse().map_err(|_| bad())?;
        // strtoull's reading: the leading digits alone (`1e3` is 1).
        let whole: u64 = number
            .split(|c: char| !c.is_ascii_digit())
            .next()
            .and_then(|d| d.parse().ok())
            .unwrap_or(0);
        let factor = (count * base as f64) as u64;
        if !count.is_finite() || factor == 0 {
            return Err(bad());
        }
        Ok(Units {
            letter: if whole == 1 { letter } else { 'U' },
            factor,
        })
    }
}

/// The length of the decimal number (strtod's: `1`, `1.5`, `1e3`) `s` starts with.
fn number_prefix(s: &str) -> usize {
    let bytes = s.as_bytes();
    let digits = |from: usize| {
        from + bytes[from..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count()
    };
    if !bytes.first().is_some_and(u8::is_ascii_digit) {
        return 0;
    }
    let mut end = digits(0);
    if bytes.get(end) == Some(&b'.') {
        end = digits(end + 1);
    }
    if matches!(bytes.get(end), Some(b'e' | b'E')) {
        let sign = usize::from(matches!(bytes.get(end + 1), Some(b'+' | b'-')));
        let exponent = digits(end + 1 + sign);
        if exponent > end + 1 + sign {
            end = exponent;
        }
    }
    end
}

const SHARED: [&str; 7] = ["E", "P", "T", "G", "M", "K", "B"];
const BINARY: [&str; 7] = ["e", "p", "t", "g", "m", "k", "b"];

/// The suffix lvm2 prints for a fixed unit letter.
fn fixed_suffix(letter: char) -> String {
    match letter {
        'b' | 'B' => "B".into(),
        's' | 'S' => "S".into(),
        other => other.to_string(),
    }
}

/// Format `sectors` (512-byte) in `units`, with or without the unit suffix.
pub fn format_size(sectors: u64, units: Units, suffix: bool) -> String {
    let letter = units.letter;
    let human = matches!(letter, 'h' | 'H' | 'r' | 'R');
    if sectors == 0 {
        return match (suffix, human) {
            (false, _) => "0".into(),
            // lvm2 pads an unknown-unit zero with one blank suffix column.
            (true, true) => "0 ".into(),
            (true, false) => format!("0{}", fixed_suffix(letter)),
        };
    }
    let bytes = sectors as f64 * 512.0;
    if !human {
        let precision = if matches!(letter, 'b' | 'B' | 's' | 'S') {
            0
        } else {
            2
        };
        let value = bytes / units.factor as f64;
        let unit = if suffix {
            fixed_suffix(letter)
        } else {
            String::new()
        };
        return format!("{value:.precision$}{unit}");
    }
    let base: u64 = if matches!(letter, 'H' | 'R') {
        1000
    } else {
        1024
    };
    let names = if base == 1000 { &SHARED } else { &BINARY };
    let (value, index, inexact) = scale(sectors, base);
    let prefix = if inexact && matches!(letter, 'r' | 'R') {
        "<"
    } else {
        ""
    };
    let unit = names[index];
    let precision = if unit.eq_ignore_ascii_case("b") { 0 } else { 2 };
    // Human-readable sizes always carry their unit: lvm2 forces the suffix.
    format!("{prefix}{value:.precision$}{unit}")
}

/// `sectors` in the largest power of `base` it reaches: the value, the index
/// of that power in [`SHARED`]/[`BINARY`], and whether two decimals round a
/// remainder away.
fn scale(sectors: u64, base: u64) -> (f64, usize, bool) {
    let bytes = sectors as f64 * 512.0;
    let total = sectors.saturating_mul(512);
    let mut divisor = base.pow(6);
    let mut index = 0;
    while index < 6 && total < divisor {
        divisor /= base;
        index += 1;
    }
    let scaled = 100.0 * bytes / divisor as f64;
    (
        bytes / divisor as f64,
        index,
        scaled.floor() != scaled.round_ties_even(),
    )
}

/// The units the display commands were given (`--units`, `global/units`);
/// unset, [`format_size_long`] prints lvm2's default `r` units.
static DISPLAY_UNITS: std::sync::OnceLock<Units> = std::sync::OnceLock::new();

/// Print every later [`format_size_long`] size in `units`, as lvm2's
/// displays follow `--units`; the first call in a process counts.
pub fn set_display_units(units: Units) {
    let _ = DISPLAY_UNITS.set(units);
}

/// `sectors` in `units` with the display commands' unit names (`12.00 MiB`,
/// `12582.91 kB`, `24576 Se`, `12582912 B `), as libdevmapper's long form.
pub fn format_size_long_in(sectors: u64, units: Units) -> String {
    const SI: [&str; 7] = [" EB", " PB", " TB", " GB", " MB", " kB", " B "];
    let letter = units.letter;
    if matches!(letter, 'h' | 'H' | 'r' | 'R') {
        let si = matches!(letter, 'H' | 'R');
        let names = if si { &SI } else { &LONG };
        if sectors == 0 {
            return "0   ".into();
        }
        let (value, index, inexact) = scale(sectors, if si { 1000 } else { 1024 });
        let prefix = if inexact && matches!(letter, 'r' | 'R') {
            "<"
        } else {
            ""
        };
        let precision = if index == 6 { 0 } else { 2 };
        return format!("{prefix}{value:.precision$}{}", names[index]);
    }
    let name = match letter {
        'b' | 'B' => " B ",
        's' | 'S' => " Se",
        'U' => " Un",
        'k' => " KiB",
        'm' => " MiB",
        'g' => " GiB",
        't' => " TiB",
        'p' => " PiB",
        'e' => " EiB",
        'K' => " kB",
        'M' => " MB",
        'G' => " GB",
        'T' => " TB",
        'P' => " PB",
        _ => " EB",
    };
    if sectors == 0 {
        return format!("0{name}");
    }
    let precision = if matches!(letter, 'b' | 'B' | 's' | 'S') {
        0
    } else {
        2
    };
    let value = sectors as f64 * 512.0 / units.factor as f64;
    format!("{value:.precision$}{name}")
}

const LONG: [&str; 7] = [" EiB", " PiB", " TiB", " GiB", " MiB", " KiB", " B"];

/// `sectors` as lvm2's display commands (pvscan, pvdisplay) print sizes with
/// the default units: powers of 1024 with long unit names (`92.00 MiB`), `<`
/// where rounding hides a remainder, and `0` padded to a unit's width for zero.
pub fn format_size_long(sectors: u64) -> String {
    if let Some(units) = DISPLAY_UNITS.get().filter(|u| **u != Units::default()) {
        return format_size_long_in(sectors, *units);
    }
    if sectors == 0 {
        return "0   ".into();
    }
    let (value, index, inexact) = scale(sectors, 1024);
    let prefix = if inexact { "<" } else { "" };
    let precision = if index == 6 { 0 } else { 2 };
    format!("{prefix}{value:.precision$}{}", LONG[index])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn units(s: &str) -> Units {
        s.parse().unwrap()
    }

    #[test]
    fn human_sizes_match_lvs() {
        let r = Units::default();
        assert_eq!(format_size(2_097_152, r, true), "1.00g");
        assert_eq!(format_size(204_800, r, true), "100.00m");
        // 2043 MiB is a little under 2 GiB: lvm2 prints <2.00g.
        assert_eq!(format_size(2043 * 2048, r, true), "<2.00g");
        assert_eq!(format_size(8, r, true), "4.00k");
        assert_eq!(format_size(2_097_152, units("H"), true), "1.07G");
        assert_eq!(format_size(0, r, true), "0 ");
    }

    #[test]
    fn fixed_units_match_lvs() {
        assert_eq!(format_size(2_097_152, units("b"), true), "1073741824B");
        assert_eq!(format_size(2_097_152, units("b"), false), "1073741824");
        assert_eq!(format_size(2_097_152, units("s"), true), "2097152S");
        assert_eq!(format_size(2_097_152, units("m"), true), "1024.00m");
        assert_eq!(format_size(2_097_152, units("G"), true), "1.07G");
        assert_eq!(format_size(2_097_152, units("k"), false), "1048576.00");
        assert!("x".parse::<Units>().is_err());
        assert!("".parse::<Units>().is_err());
        // As lvm2 takes them: h/H/r/R ignore a number, `1.5m` keeps its
        // letter (the integer part is 1), 2k is a custom unit.
        assert_eq!(units("2r"), Units::default());
        assert_eq!(units("0h"), units("h"));
        assert_eq!(format_size(3 * 2048, units("1.5m"), true), "2.00m");
        assert_eq!(format_size(8, units("2k"), true), "2.00U");
        assert_eq!(format_size(2048, units("1e3k"), true), "1.02k");
        for bad in ["0k", "-1k", "kk", " 2k", "2", "1.5"] {
            assert!(bad.parse::<Units>().is_err(), "{bad}");
        }
    }

    #[test]
    fn long_sizes_in_units_match_the_displays() {
        // As lvm2's lvdisplay printed a 12 MiB LV with each --units.
        let lv = 12 * 2048;
        for (u, wanted) in [
            ("b", "12582912 B "),
            ("s", "24576 Se"),
            ("k", "12288.00 KiB"),
            ("K", "12582.91 kB"),
            ("m", "12.00 MiB"),
            ("M", "12.58 MB"),
            ("g", "0.01 GiB"),
            ("H", "12.58 MB"),
            ("2k", "6144.00 Un"),
            ("1.5m", "8.00 MiB"),
        ] {
            assert_eq!(format_size_long_in(lv, units(u)), wanted, "{u}");
        }
        // 64 MiB is 67.108864 MB: two decimals round it up, which r marks.
        assert_eq!(format_size_long_in(131_072, units("R")), "<67.11 MB");
        assert_eq!(format_size_long_in(2_000_000, units("R")), "1.02 GB");
    }

    #[test]
    fn long_sizes_match_pvscan() {
        // As lvm2's pvscan printed them for 92 MiB, 96 MiB, 100001 KiB, 274 extents and nothing.
        assert_eq!(format_size_long(92 * 2048), "92.00 MiB");
        assert_eq!(format_size_long(280 * 2048), "280.00 MiB");
        assert_eq!(format_size_long(200_002), "<97.66 MiB");
        assert_eq!(format_size_long(274 * 8192), "1.07 GiB");
        assert_eq!(format_size_long(0), "0   ");
        assert_eq!(format_size_long(3), "1.50 KiB");
        assert_eq!(format_size_long(1), "512 B");
    }
}
