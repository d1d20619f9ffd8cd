//! libdevmapper's fixed-point percentages (`dm_percent_t`): one percent is a
//! million, and display rounding never shows a value that is not quite full
//! as 100.00 nor one that is barely used as 0.00.

/// A percentage in millionths of a percent, or [`PERCENT_INVALID`].
pub type Percent = i64;

/// 0 %.
pub const PERCENT_0: Percent = 0;
/// 1 %.
pub const PERCENT_1: Percent = 1_000_000;
/// 100 %.
pub const PERCENT_100: Percent = 100 * PERCENT_1;
/// No meaningful value (shown as an empty field).
pub const PERCENT_INVALID: Percent = -1;

/// `numerator / denominator` as a percentage; never exactly 0 or 100 unless the
/// ratio is, so a nearly full store does not look full.
pub fn make_percent(numerator: u64, denominator: u64) -> Percent {
    if denominator == 0 {
        return PERCENT_100;
    }
    if numerator == 0 {
        return PERCENT_0;
    }
    if numerator == denominator {
        return PERCENT_100;
    }
    // libdevmapper computes in double and truncates into an int.
    let percent = (PERCENT_100 as f64 * (numerator as f64 / denominator as f64)) as Percent;
    match percent {
        PERCENT_100 => PERCENT_100 - 1,
        PERCENT_0 => PERCENT_0 + 1,
        other => other,
    }
}

/// The value shown with two decimals: libdevmapper works in single precision
/// and clamps values within one display step of 0 or 100 away from them.
pub fn round_for_display(percent: Percent) -> f32 {
    let value = percent as f32 / PERCENT_1 as f32 + 0.0;
    let step = PERCENT_1 as f32 * 0.01f32;
    let as_float = percent as f32;
    if as_float < step && percent > PERCENT_0 {
        0.01
    } else if as_float > PERCENT_100 as f32 - step && percent < PERCENT_100 {
        (PERCENT_100 as f32 - step) / PERCENT_1 as f32
    } else {
        value
    }
}

/// The report string: `""` for an invalid value, else two decimals.
pub fn format_percent(percent: Percent) -> String {
    if percent == PERCENT_INVALID {
        return String::new();
    }
    format!("{:.2}", f64::from(round_for_display(percent)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_lvm2_figures() {
        // facts.md §4.2: 50.29 % before, 33.53 % after growing 8 MiB to 12 MiB.
        assert_eq!(format_percent(make_percent(8240, 16384)), "50.29");
        assert_eq!(format_percent(make_percent(8240, 24576)), "33.53");
        assert_eq!(format_percent(make_percent(1, 1_000_000)), "0.01");
        assert_eq!(format_percent(make_percent(999_999, 1_000_000)), "99.99");
        assert_eq!(format_percent(make_percent(5, 5)), "100.00");
        assert_eq!(format_percent(make_percent(0, 5)), "0.00");
        assert_eq!(format_percent(PERCENT_INVALID), "");
    }
}
