//! The response plan that adapters turn into framework responses.

use std::borrow::Cow;
use std::fs::File;
use std::path::PathBuf;

use crate::backend::Backend;
use crate::coding::ContentCoding;
use crate::disposition::DispositionType;
use crate::engine::Segment;
use crate::nginx::NginxOptions;

/// One response header: a name and the exact value bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// The header name, as sent (ASCII).
    pub name: Cow<'static, str>,
    /// The value bytes. May contain bytes 0x80-0xFF (raw UTF-8 paths for Apache and Caddy);
    /// never CR, LF or NUL.
    pub value: Vec<u8>,
}

impl Header {
    /// A header from a name and a value.
    pub fn new(name: impl Into<Cow<'static, str>>, value: impl Into<Vec<u8>>) -> Self {
        Header {
            name: name.into(),
            value: value.into(),
        }
    }

    /// The value as text, when it is UTF-8.
    pub fn value_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.value).ok()
    }
}

/// What the application asked to send: the path and the presentation options.
#[derive(Debug, Clone, Default)]
pub struct FileRequest {
    /// The path: relative to the root, or absolute inside it.
    pub path: PathBuf,
    /// Inline (default) or attachment.
    pub disposition: DispositionType,
    /// The name the browser shows or saves; default: the file's own name.
    pub filename: Option<String>,
    /// The Content-Type; default: guessed from the name.
    pub content_type: Option<mime::Mime>,
    /// The Content-Encoding of the stored bytes; default: none (never guessed).
    pub content_encoding: Option<ContentCoding>,
    /// A per-request backend, overriding the configuration's.
    pub backend: Option<Backend>,
    /// nginx's `X-Accel-*` extras (nginx backend only).
    pub nginx: NginxOptions,
}

impl FileRequest {
    /// A request for `path` with default options.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        FileRequest {
            path: path.into(),
            ..FileRequest::default()
        }
    }
}

/// The body of a planned response.
#[derive(Debug)]
pub enum Body {
    /// No body.
    Empty,
    /// Bytes taken from this open file (the very handle that passed confinement).
    File {
        /// The file.
        file: File,
        /// What to send, in order.
        segments: Vec<Segment>,
        /// Total length of the segments.
        len: u64,
    },
}

/// A complete, framework-neutral response: status, headers, body.
#[derive(Debug)]
pub struct Plan {
    /// The HTTP status.
    pub status: u16,
    /// The headers, in order.
    pub headers: Vec<Header>,
    /// The body.
    pub body: Body,
}

impl Plan {
    /// The first header with this name (ASCII case-insensitive).
    pub fn header(&self, name: &str) -> Option<&Header> {
        self.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
    }
}
