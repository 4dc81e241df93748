//! The HTTP engine for in-process serving: conditional requests, ranges, HEAD.
//!
//! [`evaluate`] turns the request's conditional and range headers plus the file's metadata
//! into a [`Decision`]: a status, headers and a body plan made of literal bytes and file
//! slices. It does no I/O and knows no HTTP framework.
//!
//! The order of evaluation is the one of RFC 9110 §13.2.2:
//!
//! 1. `If-Match` (strong comparison, `*` matches anything, an empty list nothing); when absent,
//!    `If-Unmodified-Since` (second precision, ignored when unparseable or when the
//!    modification time is unknown). A failure gives **412**.
//! 2. `If-None-Match` (weak comparison, `*` matches anything); a match gives **304** for
//!    GET and HEAD, **412** for other methods. When it is absent, `If-Modified-Since` (GET
//!    and HEAD only): not modified gives **304**.
//! 3. `Range` (GET and HEAD only), honoured only when `If-Range` is absent or matches: a
//!    strong entity tag equal to ours (a weak one never matches), or a date equal to
//!    `Last-Modified` to the second. Otherwise (a stale validator, or an `If-Range` that is
//!    not a validator at all, empty included) the whole file is sent with **200**.
//! 4. The `Range` value itself, unit `bytes` only (see below): **206** for one range,
//!    **206** `multipart/byteranges` for several, **416** when none overlaps the file.
//!
//! Decisions about `Range` that the RFC leaves open:
//!
//! - **Invalid syntax is ignored (200 with the whole file), never 416.** RFC 9110 §14.2
//!   only asks for a 206 when the ranges-specifier is valid and lets a server ignore
//!   `Range`; answering with the representation keeps clients with sloppy range code
//!   working, costs nothing in safety (the response is the one without `Range`), and treats
//!   garbage the same way as an unknown range unit, which the RFC requires to be ignored.
//!   A range whose last position is before its first (`bytes=5-3`) is invalid syntax.
//! - **Overlapping and adjacent ranges are coalesced** (RFC 9110 §14.3 allows it). Parts
//!   keep the order of the header, a merged part taking the place of its first member.
//!   After coalescing the parts are disjoint, so a response never carries more file bytes
//!   than the file has; this replaces Go's "sum of ranges larger than the file" rule.
//!   `bytes=0-` stays a 206 covering the whole file.
//! - **More range-specs than [`RangeLimits::max_ranges`]** (counted as written, before
//!   coalescing) make the engine ignore `Range` and send the whole file with 200.
//! - **HEAD with `Range` answers exactly as GET would** (206, 416 or 200, same headers,
//!   including `Content-Length`), with no body, like Go's `ServeContent`, nginx and Apache.
//! - A range on an **empty file** gives 200 with an empty body: there is nothing to slice.
//! - `bytes=-0` (a zero-length suffix) is unsatisfiable; a number too large for 64 bits is
//!   taken as "very large" (clamped), not as a syntax error.
//! - Whitespace (space, tab) is tolerated around commas, around the `-` of a range-spec
//!   and at both ends of the value; empty list elements (`bytes=,0-1,`) are skipped. The
//!   unit is compared case-insensitively.
//!
//! Conditional and range header values are read as given. A header that is present counts as
//! present even when its value is empty or blank (as in nginx; Go's `net/http` instead takes
//! an empty value for an absent header):
//!
//! - an empty `If-Match` is an empty list, which matches nothing: **412**;
//! - an empty `If-None-Match` matches nothing either (the request goes on), and because it is
//!   present `If-Modified-Since` is not evaluated;
//! - an empty `If-Range`, like any value that is neither an entity-tag nor an HTTP-date, is
//!   no validator: `Range` is ignored and the whole file is sent with **200**;
//! - an empty `If-Unmodified-Since`, `If-Modified-Since` or `Range` is invalid and ignored,
//!   which is the same as absent.
//!
//! An adapter must therefore pass a header that is present with an empty value as
//! `Some("")`, never as `None`.

use std::collections::hash_map::RandomState;
use std::fmt::Write as _;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::header::Header;
use crate::meta::FileMeta;

/// The request method, as far as the engine cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// `GET`
    Get,
    /// `HEAD`: headers as for GET, no body.
    Head,
    /// Any other method (preconditions that fail give 412, never 304; no ranges).
    Other,
}

/// The request fields the engine reads. Several header lines of one field are joined with
/// `", "` by the adapter. `None` means the header is absent; a header present with an empty
/// value is `Some("")`, which is not the same (an empty `If-Match` fails with 412, an empty
/// `If-Range` makes the engine ignore `Range`; see the [module documentation](self)).
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The method.
    pub method: Method,
    /// `If-Match`
    pub if_match: Option<&'a str>,
    /// `If-Unmodified-Since`
    pub if_unmodified_since: Option<&'a str>,
    /// `If-None-Match`
    pub if_none_match: Option<&'a str>,
    /// `If-Modified-Since`
    pub if_modified_since: Option<&'a str>,
    /// `If-Range`
    pub if_range: Option<&'a str>,
    /// `Range`
    pub range: Option<&'a str>,
}

impl<'a> Request<'a> {
    /// A request with this method and no conditional or range headers.
    pub fn new(method: Method) -> Self {
        Request {
            method,
            if_match: None,
            if_unmodified_since: None,
            if_none_match: None,
            if_modified_since: None,
            if_range: None,
            range: None,
        }
    }
}

/// Limits that protect against abusive `Range` headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RangeLimits {
    /// The most ranges served as `multipart/byteranges`; more are answered with the whole file.
    ///
    /// Ranges are counted as written in the header (empty list elements aside), before
    /// unsatisfiable ones are dropped and overlapping ones coalesced. `0` disables range
    /// support: every `Range` is ignored and responses say `Accept-Ranges: none`.
    pub max_ranges: usize,
}

impl Default for RangeLimits {
    fn default() -> Self {
        RangeLimits { max_ranges: 16 }
    }
}

/// One piece of a response body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// Literal bytes (multipart boundaries and part headers).
    Bytes(Vec<u8>),
    /// `len` bytes of the file from `offset`.
    File {
        /// Start offset in the file.
        offset: u64,
        /// Number of bytes.
        len: u64,
    },
}

impl Segment {
    /// The number of bytes this segment contributes to the body.
    pub fn len(&self) -> u64 {
        match self {
            Segment::Bytes(bytes) => bytes.len() as u64,
            Segment::File { len, .. } => *len,
        }
    }

    /// Whether this segment contributes no byte.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What to send, for a body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyPlan {
    /// No body (HEAD, 304, 412, 416...).
    Empty,
    /// These segments, in order; `len` is their total (the Content-Length).
    ///
    /// The engine never emits a zero-length [`Segment::File`]; the body of an empty file is
    /// an empty list with `len` 0.
    Segments {
        /// The pieces.
        segments: Vec<Segment>,
        /// Their total length.
        len: u64,
    },
}

/// The engine's decision: status, headers, body.
///
/// Headers by status:
///
/// - **200, 206**: `Accept-Ranges`, `ETag`, `Last-Modified` (when the modification time is
///   known and representable), plus `Content-Range` for a single-range 206
///   and `Content-Type: multipart/byteranges; boundary=…` for a multi-range 206.
/// - **304**: `ETag` and `Last-Modified` only.
/// - **412**: none.
/// - **416**: `Content-Range: bytes */<len>`.
///
/// The engine sets `Content-Type` **only** for `multipart/byteranges` responses, where it
/// replaces the file's type (which then appears in each part). For 200 and single-range 206
/// the adapter adds the file's `Content-Type` (and `Content-Disposition`, …) itself; for 304,
/// 412 and 416 it should add no representation header. A HEAD request gets the status and
/// headers a GET would get, with [`BodyPlan::Empty`]; the Content-Length of 200 and 206
/// (HEAD included) is [`Decision::content_length`], a number.
///
/// No header value contains CR, LF or NUL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// 200, 206, 304, 412 or 416.
    pub status: u16,
    /// Validators, `Accept-Ranges`, `Content-Range`, and `Content-Type` for
    /// multipart responses.
    pub headers: Vec<Header>,
    /// The body.
    pub body: BodyPlan,
    /// The Content-Length, for 200 and 206 (HEAD included: the length a GET would get); a
    /// number, for the adapter to hand to its framework.
    pub content_length: Option<u64>,
}

impl Decision {
    /// The first header with this name (ASCII case-insensitive), as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .and_then(Header::value_str)
    }
}

/// Decides the response for `request` on a file with `meta` whose type is `content_type`.
///
/// `content_type` is used only inside `multipart/byteranges` parts; an empty one leaves
/// the parts without `Content-Type`, and one containing a control character is replaced by
/// `application/octet-stream` there. See the [module documentation](self) for the rules
/// and [`Decision`] for the headers of each status.
///
/// # Example
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use sendfile_core::engine::{evaluate, BodyPlan, Method, RangeLimits, Request, Segment};
/// use sendfile_core::FileMeta;
///
/// let meta = FileMeta::new(
///     1000,
///     Some(SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000)),
///     42,
/// );
///
/// // A plain GET: the whole file.
/// let full = evaluate(&Request::new(Method::Get), &meta, "text/plain", RangeLimits::default());
/// assert_eq!(full.status, 200);
/// assert_eq!(full.content_length, Some(1000));
///
/// // A range request: 206 with a slice of the file.
/// let mut request = Request::new(Method::Get);
/// request.range = Some("bytes=100-199");
/// let part = evaluate(&request, &meta, "text/plain", RangeLimits::default());
/// assert_eq!(part.status, 206);
/// assert_eq!(part.header("Content-Range"), Some("bytes 100-199/1000"));
/// assert_eq!(
///     part.body,
///     BodyPlan::Segments { segments: vec![Segment::File { offset: 100, len: 100 }], len: 100 }
/// );
///
/// // A revalidation with the current entity tag: 304, no body.
/// let etag = meta.etag();
/// let mut request = Request::new(Method::Get);
/// request.if_none_match = Some(&etag);
/// let cached = evaluate(&request, &meta, "text/plain", RangeLimits::default());
/// assert_eq!(cached.status, 304);
/// assert_eq!(cached.body, BodyPlan::Empty);
/// ```
pub fn evaluate(
    request: &Request<'_>,
    meta: &FileMeta,
    content_type: &str,
    limits: RangeLimits,
) -> Decision {
    let etag = meta.etag();
    let modified = meta.modified.map(unix_seconds);
    let last_modified = meta.modified.and_then(format_http_date);
    let safe_method = matches!(request.method, Method::Get | Method::Head);

    // 1. If-Match, else If-Unmodified-Since.
    // An empty If-Match is an empty list: it matches nothing and fails.
    let precondition = match request.if_match {
        Some(value) => Some(if_match(value, &etag)),
        None => request
            .if_unmodified_since
            .and_then(|value| if_unmodified_since(value, modified)),
    };
    if precondition == Some(false) {
        return no_body(412, Vec::new());
    }

    // 2. If-None-Match, else If-Modified-Since.
    // An empty If-None-Match matches nothing, and still hides If-Modified-Since.
    let not_modified = match request.if_none_match {
        Some(value) => {
            if if_none_match_matches(value, &etag) {
                if !safe_method {
                    return no_body(412, Vec::new());
                }
                true
            } else {
                false
            }
        }
        None => {
            safe_method
                && request
                    .if_modified_since
                    .is_some_and(|value| not_modified_since(value, modified))
        }
    };
    if not_modified {
        return no_body(304, validators(&etag, last_modified.as_deref()));
    }

    // 3. Range, when If-Range allows it; an If-Range that is no validator (an empty one
    // included) never does.
    let outcome = match request.range {
        Some(range)
            if safe_method
                && limits.max_ranges > 0
                && meta.len > 0
                && request
                    .if_range
                    .is_none_or(|value| if_range_matches(value, &etag, modified)) =>
        {
            parse_ranges(range, meta.len, limits.max_ranges)
        }
        _ => Ranges::Ignored,
    };

    // 4. Build the response.
    let accept_ranges: &[u8] = if limits.max_ranges > 0 {
        b"bytes"
    } else {
        b"none"
    };
    let mut headers = vec![Header::new("Accept-Ranges", accept_ranges)];
    headers.extend(validators(&etag, last_modified.as_deref()));
    let (status, segments) = match outcome {
        Ranges::Ignored => {
            let segments = if meta.len > 0 {
                vec![Segment::File {
                    offset: 0,
                    len: meta.len,
                }]
            } else {
                Vec::new()
            };
            (200, segments)
        }
        Ranges::Unsatisfiable => {
            let content_range = format!("bytes */{}", meta.len);
            return no_body(416, vec![Header::new("Content-Range", content_range)]);
        }
        Ranges::Satisfiable(ranges) => match ranges.as_slice() {
            [single] => {
                headers.push(Header::new(
                    "Content-Range",
                    format!("bytes {}-{}/{}", single.start, single.end, meta.len),
                ));
                (206, vec![single.segment()])
            }
            _ => {
                let boundary = new_boundary();
                headers.push(Header::new(
                    "Content-Type",
                    format!("multipart/byteranges; boundary={boundary}"),
                ));
                (
                    206,
                    multipart(
                        &ranges,
                        meta.len,
                        part_content_type(content_type),
                        &boundary,
                    ),
                )
            }
        },
    };
    let len = segments.iter().map(Segment::len).sum::<u64>();
    let body = if request.method == Method::Head {
        BodyPlan::Empty
    } else {
        BodyPlan::Segments { segments, len }
    };
    Decision {
        status,
        headers,
        body,
        content_length: Some(len),
    }
}

/// A decision without body.
fn no_body(status: u16, headers: Vec<Header>) -> Decision {
    Decision {
        status,
        headers,
        body: BodyPlan::Empty,
        content_length: None,
    }
}

/// `ETag` and, when known, `Last-Modified`.
fn validators(etag: &str, last_modified: Option<&str>) -> Vec<Header> {
    let mut headers = vec![Header::new("ETag", etag)];
    if let Some(date) = last_modified {
        headers.push(Header::new("Last-Modified", date));
    }
    headers
}

/// Strips optional whitespace (space and horizontal tab) from both ends.
fn trim_ows(s: &str) -> &str {
    s.trim_matches([' ', '\t'])
}

// ---------------------------------------------------------------------------------------
// Dates
// ---------------------------------------------------------------------------------------

/// Whole seconds since the Unix epoch, rounded down (negative before the epoch).
fn unix_seconds(time: SystemTime) -> i64 {
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
const YEAR_10000: u64 = 253_402_300_800;

/// `time` as an IMF-fixdate, when it lies between the epoch and the year 9999.
fn format_http_date(time: SystemTime) -> Option<String> {
    let secs = time.duration_since(UNIX_EPOCH).ok()?.as_secs();
    (secs < YEAR_10000).then(|| httpdate::fmt_http_date(time))
}

/// An HTTP-date (any of the three RFC 9110 forms) in seconds since the epoch.
fn parse_http_date(value: &str) -> Option<i64> {
    httpdate::parse_http_date(trim_ows(value))
        .ok()
        .map(unix_seconds)
}

/// `If-Unmodified-Since`: `Some(true)` when not modified since the date, `Some(false)` when
/// modified after it, `None` (ignored) when the date or the modification time is unknown.
fn if_unmodified_since(value: &str, modified: Option<i64>) -> Option<bool> {
    let modified = modified?;
    let date = parse_http_date(value)?;
    Some(modified <= date)
}

/// `If-Modified-Since`: whether the file is unmodified since the date (304).
fn not_modified_since(value: &str, modified: Option<i64>) -> bool {
    match (modified, parse_http_date(value)) {
        (Some(modified), Some(date)) => modified <= date,
        _ => false,
    }
}

// ---------------------------------------------------------------------------------------
// Entity tags
// ---------------------------------------------------------------------------------------

/// An entity tag at the start of `s` (after optional whitespace): the tag, quotes and `W/`
/// included, and the rest of the input. `None` when `s` does not start with a valid tag.
fn scan_etag(s: &str) -> Option<(&str, &str)> {
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
fn strong_match(a: &str, b: &str) -> bool {
    a == b && a.starts_with('"')
}

/// Weak comparison: identical once any `W/` prefix is removed.
fn weak_match(a: &str, b: &str) -> bool {
    a.strip_prefix("W/").unwrap_or(a) == b.strip_prefix("W/").unwrap_or(b)
}

/// Whether an entity-tag list (`*` or `1#entity-tag`) contains a tag matching `ours`.
/// Parsing stops at the first malformed element; what was read until then counts.
fn list_matches(list: &str, ours: &str, matches: fn(&str, &str) -> bool) -> bool {
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
fn if_match(value: &str, etag: &str) -> bool {
    list_matches(value, etag, strong_match)
}

/// `If-None-Match`: whether one of the tags matches ours (weak comparison), that is
/// whether the precondition fails.
fn if_none_match_matches(value: &str, etag: &str) -> bool {
    list_matches(value, etag, weak_match)
}

/// `If-Range`: whether the range request may be honoured. An entity tag must match ours
/// strongly; a date must equal the modification time to the second.
fn if_range_matches(value: &str, etag: &str, modified: Option<i64>) -> bool {
    let value = trim_ows(value);
    if value.starts_with('"') || value.starts_with("W/") {
        return matches!(scan_etag(value), Some((tag, rest)) if trim_ows(rest).is_empty() && strong_match(tag, etag));
    }
    match (modified, parse_http_date(value)) {
        (Some(modified), Some(date)) => modified == date,
        _ => false,
    }
}

// ---------------------------------------------------------------------------------------
// Ranges
// ---------------------------------------------------------------------------------------

/// An inclusive byte range inside the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ByteRange {
    start: u64,
    end: u64,
}

impl ByteRange {
    fn segment(self) -> Segment {
        Segment::File {
            offset: self.start,
            len: self.end - self.start + 1,
        }
    }
}

/// What the `Range` header asks for.
#[derive(Debug, PartialEq, Eq)]
enum Ranges {
    /// Send the whole file (invalid syntax, other unit, too many ranges).
    Ignored,
    /// No range overlaps the file.
    Unsatisfiable,
    /// These disjoint, non-adjacent ranges, in response order (at least one).
    Satisfiable(Vec<ByteRange>),
}

/// Parses `value` for a file of `len` bytes (`len > 0`) and coalesces the ranges.
fn parse_ranges(value: &str, len: u64, max_ranges: usize) -> Ranges {
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
fn decimal(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(s.bytes().fold(0u64, |n, b| {
        n.saturating_mul(10).saturating_add(u64::from(b - b'0'))
    }))
}

/// Merges overlapping and adjacent ranges. The result keeps the request order, each merged
/// range taking the position of its earliest member. O(n log n).
fn coalesce(ranges: &[ByteRange]) -> Vec<ByteRange> {
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

/// The type announced in each part: the file's type, or `application/octet-stream` when it
/// contains a control character.
fn part_content_type(content_type: &str) -> &str {
    if content_type
        .bytes()
        .any(|b| b.is_ascii_control() && b != b'\t')
    {
        "application/octet-stream"
    } else {
        content_type
    }
}

/// The `multipart/byteranges` body (RFC 9110 §14.6) for these ranges.
fn multipart(ranges: &[ByteRange], len: u64, content_type: &str, boundary: &str) -> Vec<Segment> {
    let mut segments = Vec::with_capacity(2 * ranges.len() + 1);
    for (i, range) in ranges.iter().enumerate() {
        let mut head = String::new();
        if i > 0 {
            head.push_str("\r\n");
        }
        let _ = write!(head, "--{boundary}\r\n");
        if !content_type.is_empty() {
            let _ = write!(head, "Content-Type: {content_type}\r\n");
        }
        let _ = write!(
            head,
            "Content-Range: bytes {}-{}/{len}\r\n\r\n",
            range.start, range.end
        );
        segments.push(Segment::Bytes(head.into_bytes()));
        segments.push(range.segment());
    }
    segments.push(Segment::Bytes(
        format!("\r\n--{boundary}--\r\n").into_bytes(),
    ));
    segments
}

/// A fresh multipart boundary: 48 lowercase hex digits from the standard library's
/// randomly keyed SipHash, unrelated to the file's content and unpredictable by clients.
/// Its length is fixed, so a HEAD and a GET announce the same `Content-Length`.
fn new_boundary() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut boundary = String::with_capacity(48);
    for _ in 0..3 {
        let mut hasher = RandomState::new().build_hasher();
        hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
        let _ = write!(boundary, "{:016x}", hasher.finish());
    }
    boundary
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use proptest::test_runner::{Config as ProptestConfig, RngSeed};
    use std::time::Duration;

    /// 2023-11-14T22:13:20Z plus half a second: `Tue, 14 Nov 2023 22:13:20 GMT`.
    const MTIME: u64 = 1_700_000_000;
    const LM: &str = "Tue, 14 Nov 2023 22:13:20 GMT";
    const BEFORE: &str = "Tue, 14 Nov 2023 22:13:19 GMT";
    const AFTER: &str = "Tue, 14 Nov 2023 22:13:21 GMT";

    fn meta(len: u64) -> FileMeta {
        FileMeta {
            len,
            modified: Some(UNIX_EPOCH + Duration::new(MTIME, 500_000_000)),
            ino: 0x2a,
        }
    }

    fn get() -> Request<'static> {
        Request::new(Method::Get)
    }

    fn eval(request: &Request<'_>, len: u64) -> Decision {
        evaluate(request, &meta(len), "text/plain", RangeLimits::default())
    }

    fn ranged(range: &str, len: u64) -> Decision {
        let mut request = get();
        request.range = Some(range);
        eval(&request, len)
    }

    fn header_names(decision: &Decision) -> Vec<String> {
        decision
            .headers
            .iter()
            .map(|h| h.name.to_ascii_lowercase())
            .collect()
    }

    fn file_segments(decision: &Decision) -> Vec<(u64, u64)> {
        match &decision.body {
            BodyPlan::Empty => Vec::new(),
            BodyPlan::Segments { segments, .. } => segments
                .iter()
                .filter_map(|s| match s {
                    Segment::File { offset, len } => Some((*offset, *len)),
                    Segment::Bytes(_) => None,
                })
                .collect(),
        }
    }

    /// The body bytes for a file whose byte `i` is `i % 251`.
    fn materialize(decision: &Decision, file_len: u64) -> Vec<u8> {
        let content: Vec<u8> = (0..file_len).map(|i| (i % 251) as u8).collect();
        let mut out = Vec::new();
        if let BodyPlan::Segments { segments, .. } = &decision.body {
            for segment in segments {
                match segment {
                    Segment::Bytes(bytes) => out.extend_from_slice(bytes),
                    Segment::File { offset, len } => {
                        out.extend_from_slice(
                            &content[*offset as usize..(*offset + *len) as usize],
                        );
                    }
                }
            }
        }
        out
    }

    fn slice(start: u64, end_inclusive: u64) -> Vec<u8> {
        (start..=end_inclusive).map(|i| (i % 251) as u8).collect()
    }

    fn boundary_of(decision: &Decision) -> String {
        decision
            .header("Content-Type")
            .and_then(|v| v.strip_prefix("multipart/byteranges; boundary="))
            .expect("multipart content type")
            .to_owned()
    }

    // ---- 1. If-Match, If-Unmodified-Since ----

    #[test]
    fn if_match_mismatch_gives_412_without_body_or_headers() {
        let mut request = get();
        request.if_match = Some("\"other\"");
        let decision = eval(&request, 10);
        assert_eq!(decision.status, 412);
        assert_eq!(decision.body, BodyPlan::Empty);
        assert!(decision.headers.is_empty());
    }

    #[test]
    fn if_match_accepts_star_and_lists_with_our_tag() {
        let etag = meta(10).etag();
        let list = format!("\"a\" , W/\"b\",{etag}");
        for value in ["*", list.as_str()] {
            let mut request = get();
            request.if_match = Some(value);
            assert_eq!(eval(&request, 10).status, 200, "{value}");
        }
    }

    #[test]
    fn empty_if_match_is_an_empty_list_and_gives_412() {
        // RFC 9110 §13.1.1: a present If-Match whose list matches nothing fails, and an empty
        // field value is an empty list (nginx answers 412 too). It still wins over a passing
        // If-Unmodified-Since.
        for value in ["", " ", "\t ", ",", " , ,"] {
            for method in [Method::Get, Method::Head, Method::Other] {
                let mut request = Request::new(method);
                request.if_match = Some(value);
                request.if_unmodified_since = Some(AFTER);
                request.range = Some("bytes=0-1");
                let decision = eval(&request, 10);
                assert_eq!(decision.status, 412, "If-Match: {value:?} ({method:?})");
                assert_eq!(decision.body, BodyPlan::Empty);
                assert!(decision.headers.is_empty(), "{:?}", decision.headers);
            }
        }
    }

    #[test]
    fn if_match_uses_strong_comparison() {
        let weak = format!("W/{}", meta(10).etag());
        let mut request = get();
        request.if_match = Some(&weak);
        assert_eq!(eval(&request, 10).status, 412);
    }

    #[test]
    fn if_unmodified_since_before_mtime_gives_412() {
        let mut request = get();
        request.if_unmodified_since = Some(BEFORE);
        assert_eq!(eval(&request, 10).status, 412);
    }

    #[test]
    fn if_unmodified_since_has_second_precision() {
        // The file was modified half a second after LM: still "not modified since LM".
        let mut request = get();
        request.if_unmodified_since = Some(LM);
        assert_eq!(eval(&request, 10).status, 200);
    }

    #[test]
    fn if_unmodified_since_unparseable_or_unknown_mtime_is_ignored() {
        let mut request = get();
        request.if_unmodified_since = Some("yesterday");
        assert_eq!(eval(&request, 10).status, 200);
        let mut request = get();
        request.if_unmodified_since = Some(BEFORE);
        let mut unknown = meta(10);
        unknown.modified = None;
        let decision = evaluate(&request, &unknown, "text/plain", RangeLimits::default());
        assert_eq!(decision.status, 200);
    }

    #[test]
    fn if_unmodified_since_is_ignored_when_if_match_is_present() {
        let mut request = get();
        request.if_match = Some("*");
        request.if_unmodified_since = Some(BEFORE);
        assert_eq!(eval(&request, 10).status, 200);
    }

    // ---- 2. If-None-Match, If-Modified-Since ----

    #[test]
    fn if_none_match_uses_weak_comparison_and_gives_304_with_validators() {
        let weak = format!("\"x\", W/{}", meta(10).etag());
        let mut request = get();
        request.if_none_match = Some(&weak);
        let decision = eval(&request, 10);
        assert_eq!(decision.status, 304);
        assert_eq!(decision.body, BodyPlan::Empty);
        assert_eq!(decision.header("ETag"), Some(meta(10).etag().as_str()));
        assert_eq!(decision.header("Last-Modified"), Some(LM));
        assert_eq!(header_names(&decision), ["etag", "last-modified"]);
    }

    #[test]
    fn if_none_match_star_gives_304_and_other_tags_200() {
        let mut request = get();
        request.if_none_match = Some("*");
        assert_eq!(eval(&request, 10).status, 304);
        request.if_none_match = Some("\"a\", \"b\"");
        assert_eq!(eval(&request, 10).status, 200);
    }

    #[test]
    fn if_none_match_for_head_gives_304_and_for_other_methods_412() {
        let etag = meta(10).etag();
        let mut request = Request::new(Method::Head);
        request.if_none_match = Some(&etag);
        assert_eq!(eval(&request, 10).status, 304);
        request.method = Method::Other;
        let decision = eval(&request, 10);
        assert_eq!(decision.status, 412);
        assert_eq!(decision.body, BodyPlan::Empty);
    }

    #[test]
    fn if_modified_since_not_modified_gives_304() {
        let mut request = get();
        request.if_modified_since = Some(LM);
        assert_eq!(eval(&request, 10).status, 304);
        request.if_modified_since = Some(BEFORE);
        assert_eq!(eval(&request, 10).status, 200);
        request.if_modified_since = Some("garbage");
        assert_eq!(eval(&request, 10).status, 200);
    }

    #[test]
    fn if_modified_since_is_ignored_when_if_none_match_is_present() {
        let mut request = get();
        request.if_none_match = Some("\"stale\"");
        request.if_modified_since = Some(AFTER);
        assert_eq!(eval(&request, 10).status, 200);
    }

    #[test]
    fn empty_if_none_match_matches_nothing_and_still_hides_if_modified_since() {
        // An empty list matches no entity tag, so the condition holds (200); and since
        // If-None-Match is present, If-Modified-Since is not evaluated (RFC 9110 §13.2.2
        // step 3; nginx also answers 200).
        for value in ["", " ", ","] {
            let mut request = get();
            request.if_none_match = Some(value);
            request.if_modified_since = Some(LM);
            let decision = eval(&request, 10);
            assert_eq!(decision.status, 200, "If-None-Match: {value:?}");
            assert_eq!(file_segments(&decision), [(0, 10)]);
        }
    }

    #[test]
    fn if_modified_since_only_applies_to_get_and_head() {
        let mut request = Request::new(Method::Head);
        request.if_modified_since = Some(AFTER);
        assert_eq!(eval(&request, 10).status, 304);
        request.method = Method::Other;
        assert_eq!(eval(&request, 10).status, 200);
    }

    #[test]
    fn if_match_is_checked_before_if_none_match() {
        let mut request = get();
        request.if_match = Some("\"other\"");
        request.if_none_match = Some("*");
        assert_eq!(eval(&request, 10).status, 412);
    }

    // ---- 3. If-Range ----

    #[test]
    fn if_range_with_our_strong_etag_allows_the_range() {
        let etag = meta(10).etag();
        let mut request = get();
        request.range = Some("bytes=0-1");
        request.if_range = Some(&etag);
        assert_eq!(eval(&request, 10).status, 206);
    }

    #[test]
    fn if_range_with_weak_or_other_etag_gives_full_200() {
        let weak = format!("W/{}", meta(10).etag());
        for value in [weak.as_str(), "\"other\"", "not a date"] {
            let mut request = get();
            request.range = Some("bytes=0-1");
            request.if_range = Some(value);
            let decision = eval(&request, 10);
            assert_eq!(decision.status, 200, "{value}");
            assert_eq!(file_segments(&decision), [(0, 10)]);
        }
    }

    #[test]
    fn if_range_date_must_equal_last_modified_to_the_second() {
        let mut request = get();
        request.range = Some("bytes=0-1");
        request.if_range = Some(LM);
        assert_eq!(eval(&request, 10).status, 206);
        request.if_range = Some(AFTER);
        assert_eq!(eval(&request, 10).status, 200);
        request.if_range = Some(BEFORE);
        assert_eq!(eval(&request, 10).status, 200);
    }

    #[test]
    fn empty_or_invalid_if_range_ignores_the_range() {
        // A present If-Range that is neither an entity-tag nor an HTTP-date is no validator:
        // the range is not honoured (RFC 9110 §13.1.5), as nginx does. An empty field value
        // is present too, not absent.
        let etag = meta(10).etag();
        let trailing = format!("{etag} x");
        let twice = format!("{etag}, {etag}");
        for value in [
            "",
            " ",
            "\t",
            "garbage",
            "W/",
            "\"unterminated",
            trailing.as_str(),
            twice.as_str(),
            "Tue, 14 Nov 2023",
        ] {
            for method in [Method::Get, Method::Head] {
                let mut request = Request::new(method);
                request.range = Some("bytes=0-1");
                request.if_range = Some(value);
                let decision = eval(&request, 10);
                assert_eq!(decision.status, 200, "If-Range: {value:?}");
                assert_eq!(decision.content_length, Some(10), "{value:?}");
                assert_eq!(decision.header("Content-Range"), None, "{value:?}");
            }
        }
    }

    // ---- 4. Range parsing ----

    #[test]
    fn range_forms_first_last_open_and_suffix() {
        let cases = [
            ("bytes=2-5", "bytes 2-5/10", (2, 4)),
            ("bytes=7-", "bytes 7-9/10", (7, 3)),
            ("bytes=-3", "bytes 7-9/10", (7, 3)),
            ("bytes=-30", "bytes 0-9/10", (0, 10)),
            ("bytes=8-100", "bytes 8-9/10", (8, 2)),
            ("BYTES=8-99999999999999999999999", "bytes 8-9/10", (8, 2)),
        ];
        for (range, content_range, segment) in cases {
            let decision = ranged(range, 10);
            assert_eq!(decision.status, 206, "{range}");
            assert_eq!(
                decision.header("Content-Range"),
                Some(content_range),
                "{range}"
            );
            assert_eq!(file_segments(&decision), [segment], "{range}");
            assert_eq!(decision.content_length, Some(segment.1));
            assert_eq!(decision.header("Content-Type"), None);
        }
    }

    #[test]
    fn zero_suffix_is_unsatisfiable() {
        let decision = ranged("bytes=-0", 10);
        assert_eq!(decision.status, 416);
        assert_eq!(decision.header("Content-Range"), Some("bytes */10"));
    }

    #[test]
    fn unsatisfiable_range_gives_416_with_star_content_range() {
        let decision = ranged("bytes=10-20, 50-", 10);
        assert_eq!(decision.status, 416);
        assert_eq!(decision.body, BodyPlan::Empty);
        assert_eq!(header_names(&decision), ["content-range"]);
        assert_eq!(decision.header("Content-Range"), Some("bytes */10"));
    }

    #[test]
    fn unsatisfiable_ranges_are_dropped_when_another_one_fits() {
        let decision = ranged("bytes=100-200, 0-1", 10);
        assert_eq!(decision.status, 206);
        assert_eq!(decision.header("Content-Range"), Some("bytes 0-1/10"));
    }

    #[test]
    fn whitespace_is_tolerated_around_commas_and_empty_elements_skipped() {
        let decision = ranged(" bytes=, 0-1 ,\t4-5 ,", 10);
        assert_eq!(decision.status, 206);
        assert_eq!(file_segments(&decision), [(0, 2), (4, 2)]);
    }

    #[test]
    fn invalid_range_syntax_is_ignored_with_full_200() {
        for range in [
            "bytes=5-3",
            "bytes=a-b",
            "bytes=1",
            "bytes=--1",
            "bytes=+1-2",
            "bytes=0-1,x",
            "bytes=",
            "bytes=,",
            "bytes 0-1",
            "0-1",
        ] {
            let decision = ranged(range, 10);
            assert_eq!(decision.status, 200, "{range}");
            assert_eq!(file_segments(&decision), [(0, 10)], "{range}");
        }
    }

    #[test]
    fn other_range_units_are_ignored() {
        let decision = ranged("items=0-1", 10);
        assert_eq!(decision.status, 200);
        assert_eq!(decision.header("Content-Range"), None);
    }

    #[test]
    fn range_on_empty_file_gives_200_with_empty_body() {
        for range in ["bytes=0-", "bytes=-5", "bytes=3-4"] {
            let decision = ranged(range, 0);
            assert_eq!(decision.status, 200, "{range}");
            assert_eq!(decision.content_length, Some(0));
            assert_eq!(
                decision.body,
                BodyPlan::Segments {
                    segments: Vec::new(),
                    len: 0
                }
            );
        }
    }

    #[test]
    fn several_ranges_give_exact_multipart_body() {
        let decision = ranged("bytes=0-1,5-7", 10);
        assert_eq!(decision.status, 206);
        assert_eq!(decision.header("Content-Range"), None);
        let boundary = boundary_of(&decision);
        let mut expected = Vec::new();
        expected.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Type: text/plain\r\nContent-Range: bytes 0-1/10\r\n\r\n"
            )
            .as_bytes(),
        );
        expected.extend(slice(0, 1));
        expected.extend_from_slice(
            format!(
                "\r\n--{boundary}\r\nContent-Type: text/plain\r\nContent-Range: bytes 5-7/10\r\n\r\n"
            )
            .as_bytes(),
        );
        expected.extend(slice(5, 7));
        expected.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let body = materialize(&decision, 10);
        assert_eq!(body, expected);
        let BodyPlan::Segments { len, .. } = decision.body else {
            panic!("body expected");
        };
        assert_eq!(len, expected.len() as u64);
        assert_eq!(decision.content_length, Some(expected.len() as u64));
    }

    #[test]
    fn part_content_type_is_omitted_when_empty_and_sanitised() {
        let mut request = get();
        request.range = Some("bytes=0-0,2-2");
        let empty = evaluate(&request, &meta(10), "", RangeLimits::default());
        let body = String::from_utf8_lossy(&materialize(&empty, 10)).into_owned();
        assert!(!body.contains("Content-Type"), "{body}");
        let evil = evaluate(
            &request,
            &meta(10),
            "text/plain\r\nX-Evil: 1",
            RangeLimits::default(),
        );
        let body = String::from_utf8_lossy(&materialize(&evil, 10)).into_owned();
        assert!(!body.contains("X-Evil"), "{body}");
        assert!(body.contains("Content-Type: application/octet-stream\r\n"));
    }

    #[test]
    fn overlapping_and_adjacent_ranges_are_coalesced() {
        let overlapping = ranged("bytes=0-4,3-6", 10);
        assert_eq!(overlapping.status, 206);
        assert_eq!(overlapping.header("Content-Range"), Some("bytes 0-6/10"));
        let adjacent = ranged("bytes=0-4,5-6", 10);
        assert_eq!(adjacent.header("Content-Range"), Some("bytes 0-6/10"));
        let repeated = ranged("bytes=0-,0-,0-,-10", 10);
        assert_eq!(repeated.header("Content-Range"), Some("bytes 0-9/10"));
        assert_eq!(file_segments(&repeated), [(0, 10)]);
    }

    #[test]
    fn coalesced_parts_keep_request_order() {
        let decision = ranged("bytes=8-9,0-1,5-5,1-2", 10);
        assert_eq!(file_segments(&decision), [(8, 2), (0, 3), (5, 1)]);
    }

    #[test]
    fn more_ranges_than_the_limit_give_full_200() {
        let limits = RangeLimits { max_ranges: 2 };
        let mut request = get();
        request.range = Some("bytes=0-0,2-2");
        assert_eq!(evaluate(&request, &meta(10), "t/t", limits).status, 206);
        request.range = Some("bytes=0-0,2-2,4-4");
        let decision = evaluate(&request, &meta(10), "t/t", limits);
        assert_eq!(decision.status, 200);
        assert_eq!(file_segments(&decision), [(0, 10)]);
    }

    #[test]
    fn zero_max_ranges_disables_ranges() {
        let mut request = get();
        request.range = Some("bytes=0-0");
        let decision = evaluate(&request, &meta(10), "t/t", RangeLimits { max_ranges: 0 });
        assert_eq!(decision.status, 200);
        assert_eq!(decision.header("Accept-Ranges"), Some("none"));
    }

    #[test]
    fn boundary_is_long_random_hex() {
        let a = boundary_of(&ranged("bytes=0-0,2-2", 10));
        let b = boundary_of(&ranged("bytes=0-0,2-2", 10));
        assert_ne!(a, b);
        assert!(
            a.len() >= 30 && a.bytes().all(|c| c.is_ascii_hexdigit()),
            "{a}"
        );
    }

    // ---- 5. Headers ----

    #[test]
    fn full_response_headers() {
        let decision = eval(&get(), 10);
        assert_eq!(decision.status, 200);
        assert_eq!(
            header_names(&decision),
            ["accept-ranges", "etag", "last-modified"]
        );
        assert_eq!(decision.header("Accept-Ranges"), Some("bytes"));
        assert_eq!(decision.header("ETag"), Some(meta(10).etag().as_str()));
        assert_eq!(decision.header("Last-Modified"), Some(LM));
        assert_eq!(decision.content_length, Some(10));
        assert_eq!(
            decision.body,
            BodyPlan::Segments {
                segments: vec![Segment::File { offset: 0, len: 10 }],
                len: 10
            }
        );
    }

    #[test]
    fn last_modified_is_skipped_when_unknown_or_unrepresentable() {
        for modified in [
            None,
            Some(UNIX_EPOCH - Duration::from_secs(1)),
            Some(UNIX_EPOCH + Duration::from_secs(YEAR_10000)),
        ] {
            let file = FileMeta {
                modified,
                ..meta(10)
            };
            let decision = evaluate(&get(), &file, "t/t", RangeLimits::default());
            assert_eq!(decision.status, 200);
            assert_eq!(decision.header("Last-Modified"), None, "{modified:?}");
            assert!(decision.header("ETag").is_some());
        }
    }

    #[test]
    fn head_gets_get_headers_and_no_body() {
        for range in [
            None,
            Some("bytes=1-2"),
            Some("bytes=0-0,5-6"),
            Some("bytes=50-"),
        ] {
            let mut get_request = get();
            get_request.range = range;
            let mut head_request = get_request;
            head_request.method = Method::Head;
            let from_get = eval(&get_request, 10);
            let from_head = eval(&head_request, 10);
            assert_eq!(from_head.status, from_get.status, "{range:?}");
            assert_eq!(from_head.body, BodyPlan::Empty);
            let strip = |d: &Decision| {
                d.headers
                    .iter()
                    .filter(|h| h.name != "Content-Type")
                    .cloned()
                    .collect::<Vec<_>>()
            };
            assert_eq!(strip(&from_head), strip(&from_get), "{range:?}");
            assert_eq!(
                from_head.header("Content-Type").map(str::len),
                from_get.header("Content-Type").map(str::len)
            );
        }
        let mut head = Request::new(Method::Head);
        head.range = Some("bytes=1-2");
        assert_eq!(eval(&head, 10).status, 206);
    }

    // ---- 6. Other methods ----

    #[test]
    fn other_methods_get_preconditions_but_no_ranges() {
        let mut request = Request::new(Method::Other);
        request.if_match = Some("\"nope\"");
        assert_eq!(eval(&request, 10).status, 412);
        let mut request = Request::new(Method::Other);
        request.range = Some("bytes=0-1");
        let decision = eval(&request, 10);
        assert_eq!(decision.status, 200);
        assert_eq!(file_segments(&decision), [(0, 10)]);
    }

    // ---- Helpers ----

    #[test]
    fn scan_etag_accepts_strong_weak_and_rejects_broken_tags() {
        assert_eq!(scan_etag(" \"a\" ,x"), Some(("\"a\"", " ,x")));
        assert_eq!(scan_etag("W/\"a\""), Some(("W/\"a\"", "")));
        assert_eq!(scan_etag("\"a"), None);
        assert_eq!(scan_etag("\"a b\""), None);
        assert_eq!(scan_etag("a"), None);
    }

    #[test]
    fn unix_seconds_rounds_down() {
        assert_eq!(unix_seconds(UNIX_EPOCH + Duration::from_millis(1500)), 1);
        assert_eq!(unix_seconds(UNIX_EPOCH - Duration::from_millis(500)), -1);
        assert_eq!(unix_seconds(UNIX_EPOCH - Duration::from_secs(2)), -2);
    }

    // ---- Properties ----

    /// `Range` values: mostly well-formed `bytes=` lists (numbers near typical file lengths,
    /// some huge), with a sprinkle of other units, junk elements and arbitrary text.
    fn range_header() -> impl Strategy<Value = String> {
        let number = prop_oneof![
            12 => 0u64..80,
            2 => 0u64..2_000_000,
            1 => any::<u64>(),
        ]
        .prop_map(|n| n.to_string());
        let spec = prop_oneof![
            6 => (number.clone(), number.clone()).prop_map(|(a, b)| {
                let (x, y) = (a.parse::<u64>().unwrap_or(0), b.parse::<u64>().unwrap_or(0));
                format!("{}-{}", x.min(y), x.max(y))
            }),
            2 => number.clone().prop_map(|a| format!("{a}-")),
            2 => number.clone().prop_map(|n| format!("-{n}")),
            1 => (number.clone(), number).prop_map(|(a, b)| format!("{a}-{b}")),
            1 => Just("99999999999999999999999-".to_owned()),
            1 => Just(String::new()),
            1 => "[ \t0-9a-z=,+\\-]{0,6}",
        ];
        let specs = prop_oneof![
            6 => prop::collection::vec((spec.clone(), "[ \t]{0,2}"), 1..5),
            1 => prop::collection::vec((spec, "[ \t]{0,2}"), 0..24),
        ];
        let structured = (
            prop_oneof![
                12 => Just("bytes="),
                1 => Just("Bytes="),
                1 => Just("bytes ="),
                1 => Just("items="),
                1 => Just(""),
            ],
            specs,
        )
            .prop_map(|(unit, specs)| {
                let list: Vec<String> = specs
                    .into_iter()
                    .map(|(s, ws)| format!("{ws}{s}{ws}"))
                    .collect();
                format!("{unit}{}", list.join(","))
            });
        prop_oneof![12 => structured, 1 => any::<String>()]
    }

    fn check_header_values(decision: &Decision) -> Result<(), TestCaseError> {
        for header in &decision.headers {
            prop_assert!(
                !header.value.iter().any(|b| matches!(b, b'\r' | b'\n' | 0)),
                "{header:?}"
            );
        }
        Ok(())
    }

    fn config() -> ProptestConfig {
        ProptestConfig {
            cases: 1024,
            rng_seed: RngSeed::Fixed(0x5e4df11e),
            failure_persistence: None,
            ..ProptestConfig::default()
        }
    }

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn any_range_header_gives_a_consistent_decision(
            range in range_header(),
            len in prop_oneof![6 => 0u64..64, 1 => 0u64..1_000_000, 1 => Just(u64::MAX / 2)],
            max_ranges in 0usize..20,
        ) {
            let file = meta(len);
            let limits = RangeLimits { max_ranges };
            let mut request = get();
            request.range = Some(&range);
            let decision = evaluate(&request, &file, "application/pdf", limits);
            prop_assert!(matches!(decision.status, 200 | 206 | 416), "{}", decision.status);
            check_header_values(&decision)?;

            let mut head = request;
            head.method = Method::Head;
            let head_decision = evaluate(&head, &file, "application/pdf", limits);
            prop_assert_eq!(head_decision.status, decision.status);
            prop_assert_eq!(&head_decision.body, &BodyPlan::Empty);
            prop_assert_eq!(head_decision.content_length, decision.content_length);

            match &decision.body {
                BodyPlan::Empty => {
                    prop_assert_eq!(decision.status, 416);
                    let expected = format!("bytes */{len}");
                    prop_assert_eq!(decision.header("Content-Range"), Some(expected.as_str()));
                }
                BodyPlan::Segments { segments, len: total } => {
                    let sum: u64 = segments.iter().map(Segment::len).sum();
                    prop_assert_eq!(sum, *total);
                    prop_assert_eq!(decision.content_length, Some(*total));
                    let mut file_bytes = 0u64;
                    for segment in segments {
                        if let Segment::File { offset, len: n } = segment {
                            prop_assert!(*n > 0);
                            prop_assert!(offset.checked_add(*n).is_some_and(|end| end <= len));
                            file_bytes += n;
                        }
                    }
                    prop_assert!(file_bytes <= len, "{} > {}", file_bytes, len);
                    let files = file_segments(&decision).len();
                    if files > 1 {
                        prop_assert!(files <= max_ranges);
                    }
                    if decision.status == 200 {
                        prop_assert_eq!(file_bytes, len);
                    }
                }
            }
        }

        #[test]
        fn multipart_bodies_parse_back_to_their_ranges(
            specs in prop::collection::vec(
                prop_oneof![
                    (0u64..350, 0u64..350).prop_map(|(a, b)| format!("{}-{}", a.min(b), a.max(b))),
                    (0u64..350).prop_map(|a| format!("{a}-")),
                    (0u64..350).prop_map(|n| format!("-{n}")),
                ],
                2..8,
            ),
            len in 1u64..300,
        ) {
            let range = format!("bytes={}", specs.join(", "));
            let mut request = get();
            request.range = Some(&range);
            let decision = evaluate(&request, &meta(len), "text/plain", RangeLimits::default());
            prop_assert!(matches!(decision.status, 206 | 416), "{}", decision.status);
            if decision.header("Content-Type").is_none() {
                // A single part (after coalescing) or nothing satisfiable.
                prop_assert!(file_segments(&decision).len() <= 1);
                return Ok(());
            }
            let boundary = boundary_of(&decision);
            let body = materialize(&decision, len);
            let expected_parts = file_segments(&decision);
            let delimiter = format!("--{boundary}");
            // Split on the delimiter: a preamble (empty), the parts, and the epilogue.
            let text = body.clone();
            let mut pieces = Vec::new();
            let mut rest = text.as_slice();
            while let Some(at) = rest.windows(delimiter.len()).position(|w| w == delimiter.as_bytes()) {
                pieces.push(&rest[..at]);
                rest = &rest[at + delimiter.len()..];
            }
            prop_assert_eq!(rest, b"--\r\n".as_slice());
            prop_assert_eq!(pieces[0], b"".as_slice());
            prop_assert_eq!(pieces.len() - 1, expected_parts.len());
            for (piece, (offset, n)) in pieces[1..].iter().zip(expected_parts) {
                let head = format!(
                    "\r\nContent-Type: text/plain\r\nContent-Range: bytes {}-{}/{len}\r\n\r\n",
                    offset,
                    offset + n - 1
                );
                prop_assert!(piece.starts_with(head.as_bytes()));
                let data = &piece[head.len()..piece.len() - 2];
                let expected = slice(offset, offset + n - 1);
                prop_assert_eq!(data, expected.as_slice());
                prop_assert!(piece.ends_with(b"\r\n"));
            }
        }

        #[test]
        fn any_conditional_headers_give_a_clean_decision(
            values in prop::collection::vec(prop::option::of(prop_oneof![
                Just(LM.to_owned()),
                Just(BEFORE.to_owned()),
                Just(AFTER.to_owned()),
                Just("*".to_owned()),
                Just(meta(10).etag()),
                Just(format!("W/{}", meta(10).etag())),
                Just("bytes=0-3,5-".to_owned()),
                any::<String>(),
            ]), 6),
            method in prop_oneof![Just(Method::Get), Just(Method::Head), Just(Method::Other)],
        ) {
            let request = Request {
                method,
                if_match: values[0].as_deref(),
                if_unmodified_since: values[1].as_deref(),
                if_none_match: values[2].as_deref(),
                if_modified_since: values[3].as_deref(),
                if_range: values[4].as_deref(),
                range: values[5].as_deref(),
            };
            let decision = eval(&request, 10);
            prop_assert!(matches!(decision.status, 200 | 206 | 304 | 412 | 416));
            check_header_values(&decision)?;
            if method == Method::Other {
                prop_assert!(matches!(decision.status, 200 | 412));
            }
            if matches!(decision.status, 304 | 412 | 416) || method == Method::Head {
                prop_assert_eq!(&decision.body, &BodyPlan::Empty);
            }
        }
    }
}
