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

use dates::{format_http_date, if_unmodified_since, not_modified_since, unix_seconds};
use etag::{if_match, if_none_match_matches, if_range_matches};
use multipart::{multipart, new_boundary, part_content_type};
use ranges::{Ranges, parse_ranges};

use crate::header::{Header, HeaderBytes};
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
#[non_exhaustive]
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
    let accept_ranges = HeaderBytes::from_static(if limits.max_ranges > 0 {
        "bytes"
    } else {
        "none"
    });
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

mod dates;
mod etag;
mod multipart;
mod ranges;
#[cfg(test)]
mod tests;
