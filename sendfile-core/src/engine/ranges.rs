//! The `Range` header: parsing byte ranges and coalescing them.

use super::{Segment, trim_ows};

/// An inclusive byte range inside the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct ByteRange {
    pub(super) start: u64,
    pub(super) end: u64,
}

impl ByteRange {
    pub(super) fn segment(self) -> Segment {
        Segment::File {
            offset: self.start,
            len: self.end - self.start + 1,
        }
    }
}

/// What the `Range` header asks for.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Ranges {
    /// Send the whole file (invalid syntax, other unit, too many ranges).
    Ignored,
    /// No range overlaps the file.
    Unsatisfiable,
    /// These disjoint, non-adjacent ranges, in response order (at least one).
    Satisfiable(Vec<ByteRange>),
}

/// Parses `value` for a file of `len` bytes (`len > 0`) and coalesces the ranges.
pub(super) fn parse_ranges(value: &str, len: u64, max_ranges: usize) -> Ranges {
    let Some((unit, set)) = trim_ows(value).split_once('=') else {
        return Ranges::Ignored;
    };
    if !unit.eq_ignore_ascii_case("bytes") {
        return Ranges::Ignored;
    }
    let mut count = 0usize;
    let mut ranges = Vec::new();
    for spec in set.split(',').map(trim_ows).filter(|s| !s.is_empty()) {
        count += 1;
        if count > max_ranges {
            return Ranges::Ignored;
        }
        let Some((first, last)) = spec.split_once('-') else {
            return Ranges::Ignored;
        };
        let (first, last) = (trim_ows(first), trim_ows(last));
        if first.is_empty() {
            // A suffix range: the last `n` bytes.
            let Some(n) = decimal(last) else {
                return Ranges::Ignored;
            };
            if n > 0 {
                ranges.push(ByteRange {
                    start: len - n.min(len),
                    end: len - 1,
                });
            }
        } else {
            let Some(start) = decimal(first) else {
                return Ranges::Ignored;
            };
            let end = if last.is_empty() {
                u64::MAX
            } else {
                match decimal(last) {
                    Some(end) if end >= start => end,
                    _ => return Ranges::Ignored,
                }
            };
            if start < len {
                ranges.push(ByteRange {
                    start,
                    end: end.min(len - 1),
                });
            }
        }
    }
    if count == 0 {
        Ranges::Ignored
    } else if ranges.is_empty() {
        Ranges::Unsatisfiable
    } else {
        Ranges::Satisfiable(coalesce(&ranges))
    }
}

/// `1*DIGIT`, saturating at `u64::MAX`.
pub(super) fn decimal(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(s.bytes().fold(0u64, |n, b| {
        n.saturating_mul(10).saturating_add(u64::from(b - b'0'))
    }))
}

/// Merges overlapping and adjacent ranges. The result keeps the request order, each merged
/// range taking the position of its earliest member. O(n log n).
pub(super) fn coalesce(ranges: &[ByteRange]) -> Vec<ByteRange> {
    let mut order: Vec<usize> = (0..ranges.len()).collect();
    order.sort_by_key(|&i| (ranges[i].start, i));
    // (position in the request, merged range)
    let mut merged: Vec<(usize, ByteRange)> = Vec::with_capacity(ranges.len());
    for i in order {
        let range = ranges[i];
        match merged.last_mut() {
            Some((position, last)) if range.start <= last.end.saturating_add(1) => {
                last.end = last.end.max(range.end);
                *position = (*position).min(i);
            }
            _ => merged.push((i, range)),
        }
    }
    merged.sort_by_key(|&(position, _)| position);
    merged.into_iter().map(|(_, range)| range).collect()
}
