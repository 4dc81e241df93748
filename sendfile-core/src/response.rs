//! The response plan that adapters turn into framework responses.

use std::fs::File;

use crate::engine::Segment;
use crate::header::Header;

/// The body of a planned response.
#[derive(Debug)]
pub enum Body {
    /// No body, and nothing announced (`Content-Length: 0` where the status has one).
    Empty,
    /// No body, announcing the `len` bytes a GET would get: the answer to a HEAD request.
    Head {
        /// The Content-Length a GET would get.
        len: u64,
    },
    /// Bytes taken from this open file (the very handle that passed confinement).
    File {
        /// The file.
        file: File,
        /// What to send, in order.
        segments: Vec<Segment>,
        /// Total length of the segments: the Content-Length.
        len: u64,
    },
}

impl Body {
    /// The Content-Length to announce: the length of the body, or for a HEAD answer the
    /// length a GET would get; `None` for [`Body::Empty`].
    pub fn content_length(&self) -> Option<u64> {
        match self {
            Body::Empty => None,
            Body::Head { len } | Body::File { len, .. } => Some(*len),
        }
    }
}

/// A complete, framework-neutral response: status, headers, body.
///
/// The Content-Length is not among the headers: it is a number, [`Plan::content_length`],
/// which the adapter gives to its framework.
#[derive(Debug)]
#[non_exhaustive]
pub struct Plan {
    /// The HTTP status.
    pub status: u16,
    /// The headers, in order.
    pub headers: Vec<Header>,
    /// The body.
    pub body: Body,
}

impl Plan {
    /// A plan from its parts (custom adapters and tests; the planner builds the others).
    pub fn new(status: u16, headers: Vec<Header>, body: Body) -> Self {
        Plan {
            status,
            headers,
            body,
        }
    }

    /// The first header with this name (ASCII case-insensitive).
    pub fn header(&self, name: &str) -> Option<&Header> {
        self.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
    }

    /// The Content-Length to announce; see [`Body::content_length`].
    pub fn content_length(&self) -> Option<u64> {
        self.body.content_length()
    }
}
