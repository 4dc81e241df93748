//! One response header: the leaf type every other module builds on.

use std::borrow::Cow;

/// One response header: a name and the exact value bytes.
///
/// ```
/// use sendfile_core::Header;
/// let h = Header::new("X-Accel-Redirect", "/protected/a.pdf");
/// assert_eq!(h.name, "X-Accel-Redirect");
/// assert_eq!(h.value_str(), Some("/protected/a.pdf"));
/// ```
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
