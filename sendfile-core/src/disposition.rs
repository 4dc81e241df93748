//! Content-Disposition (RFC 6266 with RFC 8187) and Content-Type.
//!
//! OWNER: encoding helper. Interface fixed; bodies to be written.

use std::path::Path;

/// Whether the browser shows the file or saves it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DispositionType {
    /// Shown in the browser when it can (the default).
    #[default]
    Inline,
    /// Saved as a download.
    Attachment,
}

/// The Content-Disposition value for `filename`.
///
/// Always a `filename="..."` ASCII fallback (quoted-string, `\` and `"` escaped, control
/// characters, `/` and `\` removed, non-ASCII replaced), plus `filename*=UTF-8''...` whenever
/// the fallback is not exactly the name. Never contains CR, LF or NUL.
pub fn content_disposition(kind: DispositionType, filename: &str) -> String {
    let _ = (kind, filename);
    todo!()
}

/// The Content-Type for a file name, from its extension (`application/octet-stream` when
/// unknown). Text types get `; charset=utf-8`. Never a Content-Encoding: a `.gz` file is
/// `application/gzip`.
pub fn content_type_for(name: &Path) -> String {
    let _ = name;
    todo!()
}
