//! HTTP-dates: formatting `Last-Modified`, and the date preconditions.

use std::time::{SystemTime, UNIX_EPOCH};

use super::trim_ows;

/// Whole seconds since the Unix epoch, rounded down (negative before the epoch).
pub(super) fn unix_seconds(time: SystemTime) -> i64 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_secs()).unwrap_or(i64::MAX),
        Err(before) => {
            let before = before.duration();
            let secs = i64::try_from(before.as_secs()).unwrap_or(i64::MAX);
            let partial = i64::from(before.subsec_nanos() > 0);
            (-secs).saturating_sub(partial)
        }
    }
}

/// The first second `httpdate` cannot format (year 10000).
pub(super) const YEAR_10000: u64 = 253_402_300_800;

/// `time` as an IMF-fixdate, when it lies between the epoch and the year 9999.
pub(super) fn format_http_date(time: SystemTime) -> Option<String> {
    let secs = time.duration_since(UNIX_EPOCH).ok()?.as_secs();
    (secs < YEAR_10000).then(|| httpdate::fmt_http_date(time))
}

/// An HTTP-date (any of the three RFC 9110 forms) in seconds since the epoch.
pub(super) fn parse_http_date(value: &str) -> Option<i64> {
    httpdate::parse_http_date(trim_ows(value))
        .ok()
        .map(unix_seconds)
}

/// `If-Unmodified-Since`: `Some(true)` when not modified since the date, `Some(false)` when
/// modified after it, `None` (ignored) when the date or the modification time is unknown.
pub(super) fn if_unmodified_since(value: &str, modified: Option<i64>) -> Option<bool> {
    let modified = modified?;
    let date = parse_http_date(value)?;
    Some(modified <= date)
}

/// `If-Modified-Since`: whether the file is unmodified since the date (304).
pub(super) fn not_modified_since(value: &str, modified: Option<i64>) -> bool {
    match (modified, parse_http_date(value)) {
        (Some(modified), Some(date)) => modified <= date,
        _ => false,
    }
}
