//! What the application asked to send.

use std::path::PathBuf;

use crate::backend::Backend;
use crate::coding::ContentCoding;
use crate::disposition::DispositionType;
use crate::nginx::NginxOptions;
use crate::policy::ContentPolicy;

/// What the application asked to send: the path and the presentation options.
///
/// ```
/// use sendfile_core::{DispositionType, FileRequest};
/// let mut request = FileRequest::new("reports/q3.pdf");
/// request.disposition = DispositionType::Attachment;
/// assert_eq!(request.path, std::path::Path::new("reports/q3.pdf"));
/// ```
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
    /// The [content policy](crate::policy) for this file; default: the configuration's.
    pub content_policy: Option<ContentPolicy>,
    /// The Cache-Control of the file's responses; default: `private` (`development`:
    /// `no-store`). A public file may say e.g. `public, max-age=3600`.
    pub cache_control: Option<String>,
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
