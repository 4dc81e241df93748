//! Entity tags: scanning, strong and weak comparison, the tag-list preconditions.

use super::dates::parse_http_date;
use super::trim_ows;

/// An entity tag at the start of `s` (after optional whitespace): the tag, quotes and `W/`
/// included, and the rest of the input. `None` when `s` does not start with a valid tag.
pub(super) fn scan_etag(s: &str) -> Option<(&str, &str)> {
    let s = trim_ows(s);
    let start = if s.starts_with("W/") { 2 } else { 0 };
    let bytes = s.as_bytes();
    if bytes.get(start) != Some(&b'"') {
        return None;
    }
    for (i, &c) in bytes.iter().enumerate().skip(start + 1) {
        match c {
            b'"' => return Some((&s[..=i], &s[i + 1..])),
            0x21 | 0x23..=0x7e | 0x80..=0xff => {}
            _ => return None,
        }
    }
    None
}

/// Strong comparison: both tags strong and identical.
pub(super) fn strong_match(a: &str, b: &str) -> bool {
    a == b && a.starts_with('"')
}

/// Weak comparison: identical once any `W/` prefix is removed.
pub(super) fn weak_match(a: &str, b: &str) -> bool {
    a.strip_prefix("W/").unwrap_or(a) == b.strip_prefix("W/").unwrap_or(b)
}

/// Whether an entity-tag list (`*` or `1#entity-tag`) contains a tag matching `ours`.
/// Parsing stops at the first malformed element; what was read until then counts.
pub(super) fn list_matches(list: &str, ours: &str, matches: fn(&str, &str) -> bool) -> bool {
    let mut rest = list;
    loop {
        rest = trim_ows(rest);
        if let Some(after) = rest.strip_prefix(',') {
            rest = after;
            continue;
        }
        if rest.starts_with('*') {
            return true;
        }
        match scan_etag(rest) {
            Some((tag, after)) => {
                if matches(tag, ours) {
                    return true;
                }
                rest = after;
            }
            None => return false,
        }
    }
}

/// `If-Match`: whether the precondition holds (strong comparison).
pub(super) fn if_match(value: &str, etag: &str) -> bool {
    list_matches(value, etag, strong_match)
}

/// `If-None-Match`: whether one of the tags matches ours (weak comparison), that is
/// whether the precondition fails.
pub(super) fn if_none_match_matches(value: &str, etag: &str) -> bool {
    list_matches(value, etag, weak_match)
}

/// `If-Range`: whether the range request may be honoured. An entity tag must match ours
/// strongly; a date must equal the modification time to the second.
pub(super) fn if_range_matches(value: &str, etag: &str, modified: Option<i64>) -> bool {
    let value = trim_ows(value);
    if value.starts_with('"') || value.starts_with("W/") {
        return matches!(scan_etag(value), Some((tag, rest)) if trim_ows(rest).is_empty() && strong_match(tag, etag));
    }
    match (modified, parse_http_date(value)) {
        (Some(modified), Some(date)) => modified == date,
        _ => false,
    }
}
