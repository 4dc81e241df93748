//! `multipart/byteranges` bodies and their boundaries.

use std::collections::hash_map::RandomState;
use std::fmt::Write as _;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};

use super::Segment;
use super::ranges::ByteRange;

/// The type announced in each part: the file's type, or `application/octet-stream` when it
/// contains a control character.
pub(super) fn part_content_type(content_type: &str) -> &str {
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
pub(super) fn multipart(
    ranges: &[ByteRange],
    len: u64,
    content_type: &str,
    boundary: &str,
) -> Vec<Segment> {
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
pub(super) fn new_boundary() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut boundary = String::with_capacity(48);
    for _ in 0..3 {
        let mut hasher = RandomState::new().build_hasher();
        hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
        let _ = write!(boundary, "{:016x}", hasher.finish());
    }
    boundary
}
