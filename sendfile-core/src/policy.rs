//! The content policy: what travels with the bytes of a file so that a file stays data and
//! never becomes a page of the application's site.
//!
//! A file a user uploaded (`page.html`, `pic.svg`) and served inline from the application's
//! origin runs its script with the user's session. The default policy,
//! [`ContentPolicy::Untrusted`], makes every response the library builds safe to serve from
//! that origin:
//!
//! - **`X-Content-Type-Options: nosniff`** on every response (200, 206, 304, 412, 416, HEAD,
//!   offload and redirect alike), whatever the policy: the browser never guesses another type
//!   than the one sent.
//! - **Active content is an attachment.** Only the types of [`is_passive`] are shown inline:
//!   raster images, audio, video, PDF and plain text. Everything else (HTML, XHTML, SVG, XML,
//!   JavaScript, and any type the list does not know, `application/octet-stream` included) is
//!   sent with `Content-Disposition: attachment`, even when the application asked for
//!   `inline`: the browser saves it instead of rendering it.
//! - **[`SANDBOX`] as `Content-Security-Policy`** on every response that carries the file:
//!   no script runs, nothing is fetched, no form is sent, whatever the browser renders. Its
//!   `sandbox allow-same-origin` and `media-src 'self'` keep Chromium's media player working
//!   (an opaque origin stops a video or audio file opened on its own from loading), and its PDF
//!   viewer, images and text work under it as without it.
//!
//! [`ContentPolicy::Trusted`] turns the last two off: the disposition the application asked for
//! and no `Content-Security-Policy`. That is right only for content the application itself
//! controls (its own generated HTML reports, documentation it ships), never for anything a
//! user uploaded or a third party supplied. Choose it per file (`SendFile::trusted` in
//! `sendfile-actix`, [`FileRequest::content_policy`](crate::FileRequest::content_policy)) or per
//! configuration ([`ConfigBuilder::content_policy`](crate::ConfigBuilder::content_policy)).
//!
//! ```
//! use sendfile_core::policy::{ContentPolicy, is_passive};
//!
//! assert!(is_passive("image/png"));
//! assert!(is_passive("text/plain; charset=utf-8"));
//! assert!(!is_passive("image/svg+xml"));
//! assert!(!is_passive("text/html; charset=utf-8"));
//! assert!(!is_passive("application/octet-stream"));
//! assert_eq!(ContentPolicy::default(), ContentPolicy::Untrusted);
//! ```

use crate::disposition::DispositionType;
use crate::header::{Header, HeaderBytes};

/// What the library does around a file's bytes; see the [module documentation](self).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ContentPolicy {
    /// The default: active content is an attachment and every file response carries
    /// [`SANDBOX`] as its `Content-Security-Policy`.
    #[default]
    Untrusted,
    /// Content the application controls: the disposition it asked for, no
    /// `Content-Security-Policy`. `X-Content-Type-Options: nosniff` is still sent.
    Trusted,
}

impl ContentPolicy {
    /// `untrusted` or `trusted`.
    pub fn as_str(self) -> &'static str {
        match self {
            ContentPolicy::Untrusted => "untrusted",
            ContentPolicy::Trusted => "trusted",
        }
    }
}

/// The `Content-Security-Policy` of a file response under [`ContentPolicy::Untrusted`]: nothing
/// loads but the file itself, no script runs (`sandbox` without `allow-scripts`), no form is
/// sent. `allow-same-origin` and `media-src 'self'` are what Chromium's player needs to play an
/// audio or video file opened on its own; with scripts off, the origin is of no use to the
/// document.
pub const SANDBOX: &str =
    "default-src 'none'; style-src 'unsafe-inline'; media-src 'self'; sandbox allow-same-origin";

/// `X-Content-Type-Options: nosniff`, sent on every response.
pub(crate) fn nosniff() -> Header {
    Header::new(
        "X-Content-Type-Options",
        HeaderBytes::from_static("nosniff"),
    )
}

/// `Content-Security-Policy: ` [`SANDBOX`].
pub(crate) fn sandbox() -> Header {
    Header::new("Content-Security-Policy", HeaderBytes::from_static(SANDBOX))
}

/// The Cache-Control of a permission-checked file when the application sets none: a shared
/// cache must not give one user's file to another.
pub(crate) const PRIVATE: HeaderBytes = HeaderBytes::from_static("private");

/// Raster image types a browser shows inline without running anything.
const PASSIVE_IMAGES: [&str; 12] = [
    "png",
    "jpeg",
    "gif",
    "webp",
    "avif",
    "apng",
    "bmp",
    "x-icon",
    "vnd.microsoft.icon",
    "tiff",
    "heic",
    "heif",
];

/// Whether a file of this Content-Type may be shown inline under [`ContentPolicy::Untrusted`]:
/// the raster images (`image/png`, `jpeg`, `gif`, `webp`, `avif`, `apng`, `bmp`, `x-icon`,
/// `vnd.microsoft.icon`, `tiff`, `heic`, `heif`; not `image/svg+xml`), `audio/*`, `video/*`,
/// `application/pdf` and `text/plain`. Parameters are ignored; the comparison is
/// case-insensitive.
///
/// An allow-list: a type it does not know is active.
pub fn is_passive(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let Some((top, sub)) = essence.split_once('/') else {
        return false;
    };
    match top {
        "image" => PASSIVE_IMAGES.contains(&sub),
        "audio" | "video" => !sub.is_empty(),
        "application" => sub == "pdf",
        "text" => sub == "plain",
        _ => false,
    }
}

/// The disposition to send and whether to add [`SANDBOX`], for a file of `content_type` that
/// the application asked to send with `asked`.
pub(crate) fn apply(
    policy: ContentPolicy,
    content_type: &str,
    asked: DispositionType,
) -> (DispositionType, bool) {
    match policy {
        ContentPolicy::Trusted => (asked, false),
        ContentPolicy::Untrusted if is_passive(content_type) => (asked, true),
        ContentPolicy::Untrusted => (DispositionType::Attachment, true),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn active_and_unknown_types_are_attachments() {
        for active in [
            "text/html; charset=utf-8",
            "application/xhtml+xml",
            "image/svg+xml",
            "text/xml",
            "application/xml",
            "text/xsl",
            "text/javascript; charset=utf-8",
            "application/javascript",
            "application/octet-stream",
            "application/json",
            "text/css",
            "multipart/x-mixed-replace",
            "IMAGE/SVG+XML",
            "",
            "garbage",
            "image/",
            "audio/",
        ] {
            assert!(!is_passive(active), "{active}");
            assert_eq!(
                apply(ContentPolicy::Untrusted, active, DispositionType::Inline),
                (DispositionType::Attachment, true),
                "{active}"
            );
            assert_eq!(
                apply(ContentPolicy::Trusted, active, DispositionType::Inline),
                (DispositionType::Inline, false),
            );
        }
    }

    #[test]
    fn passive_types_stay_inline_under_the_sandbox() {
        for passive in [
            "image/png",
            "image/JPEG",
            "image/webp",
            "audio/mpeg",
            "audio/wav",
            "video/mp4",
            "video/webm",
            "application/pdf",
            "text/plain; charset=utf-8",
        ] {
            assert!(is_passive(passive), "{passive}");
            assert_eq!(
                apply(ContentPolicy::Untrusted, passive, DispositionType::Inline),
                (DispositionType::Inline, true)
            );
            assert_eq!(
                apply(
                    ContentPolicy::Untrusted,
                    passive,
                    DispositionType::Attachment
                ),
                (DispositionType::Attachment, true)
            );
        }
    }
}
