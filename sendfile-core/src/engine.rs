//! The HTTP engine for in-process serving: conditional requests, ranges, HEAD.
//!
//! OWNER: engine helper. Interface fixed; bodies to be written.

use crate::meta::FileMeta;
use crate::plan::Header;

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
/// `", "` by the adapter; a value that is not valid UTF-8 is passed as `None`... (see field docs).
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

/// What to send, for a body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyPlan {
    /// No body (HEAD, 304, 412, 416...).
    Empty,
    /// These segments, in order; `len` is their total (the Content-Length).
    Segments {
        /// The pieces.
        segments: Vec<Segment>,
        /// Their total length.
        len: u64,
    },
}

/// The engine's decision: status, headers, body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// 200, 206, 304, 412 or 416.
    pub status: u16,
    /// Validators, `Accept-Ranges`, `Content-Length`, `Content-Range`, and `Content-Type` for
    /// multipart responses.
    pub headers: Vec<Header>,
    /// The body.
    pub body: BodyPlan,
}

/// Decides the response for `request` on a file with `meta` whose type is `content_type`.
pub fn evaluate(
    request: &Request<'_>,
    meta: &FileMeta,
    content_type: &str,
    limits: RangeLimits,
) -> Decision {
    let _ = (request, meta, content_type, limits);
    todo!()
}
