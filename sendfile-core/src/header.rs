//! One response header: the leaf type every other module builds on.

use std::borrow::Cow;
use std::fmt;
use std::ops::Deref;

use bytes::Bytes;

/// One response header: a name and the exact value bytes.
///
/// ```
/// use sendfile_core::Header;
/// let h = Header::new("X-Accel-Redirect", "/protected/a.pdf");
/// assert_eq!(h.name, "X-Accel-Redirect");
/// assert_eq!(h.value, b"/protected/a.pdf");
/// assert_eq!(h.value_str(), Some("/protected/a.pdf"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// The header name, as sent (ASCII).
    pub name: Cow<'static, str>,
    /// The value bytes. May contain bytes 0x80-0xFF (raw UTF-8 paths for Apache and Caddy);
    /// never CR, LF or NUL.
    pub value: HeaderBytes,
}

impl Header {
    /// A header from a name and a value: text or bytes, borrowed (copied once), owned (taken
    /// over without a copy) or [`HeaderBytes::from_static`] (never copied).
    pub fn new(name: impl Into<Cow<'static, str>>, value: impl Into<HeaderBytes>) -> Self {
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

/// The bytes of a header value, shared rather than copied: a static value (a content type, a
/// `Cache-Control` directive) is never allocated, and an owned buffer is taken over as it is,
/// so that an adapter hands it to its framework without a copy ([`into_bytes`](Self::into_bytes)).
///
/// It reads as a byte slice (`Deref<Target = [u8]>`) and compares with byte strings, byte
/// slices, vectors and text.
///
/// ```
/// use sendfile_core::HeaderBytes;
///
/// let value = HeaderBytes::from_static("application/pdf");
/// assert_eq!(value, b"application/pdf");
/// assert_eq!(value, "application/pdf");
/// assert_eq!(value.len(), 15);
/// assert_eq!(HeaderBytes::from(String::from("inline")), b"inline".to_vec());
/// ```
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HeaderBytes(Bytes);

impl HeaderBytes {
    /// A value that is never copied nor freed.
    pub const fn from_static(value: &'static str) -> Self {
        HeaderBytes(Bytes::from_static(value.as_bytes()))
    }

    /// The bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The shared buffer, without a copy.
    pub fn into_bytes(self) -> Bytes {
        self.0
    }
}

impl fmt::Debug for HeaderBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `b"..."`, printable ASCII as is and the rest escaped.
        fmt::Debug::fmt(&self.0, f)
    }
}

impl Deref for HeaderBytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl AsRef<[u8]> for HeaderBytes {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl From<Bytes> for HeaderBytes {
    fn from(value: Bytes) -> Self {
        HeaderBytes(value)
    }
}

impl From<HeaderBytes> for Bytes {
    fn from(value: HeaderBytes) -> Self {
        value.0
    }
}

/// Taken over without a copy.
impl From<Vec<u8>> for HeaderBytes {
    fn from(value: Vec<u8>) -> Self {
        HeaderBytes(Bytes::from(value))
    }
}

/// Taken over without a copy.
impl From<String> for HeaderBytes {
    fn from(value: String) -> Self {
        HeaderBytes(Bytes::from(value))
    }
}

/// Taken over without a copy.
impl From<Box<[u8]>> for HeaderBytes {
    fn from(value: Box<[u8]>) -> Self {
        HeaderBytes(Bytes::from(value))
    }
}

/// Copied.
impl<const N: usize> From<[u8; N]> for HeaderBytes {
    fn from(value: [u8; N]) -> Self {
        HeaderBytes(Bytes::copy_from_slice(&value))
    }
}

/// Copied.
impl From<&[u8]> for HeaderBytes {
    fn from(value: &[u8]) -> Self {
        HeaderBytes(Bytes::copy_from_slice(value))
    }
}

/// Copied.
impl<const N: usize> From<&[u8; N]> for HeaderBytes {
    fn from(value: &[u8; N]) -> Self {
        HeaderBytes(Bytes::copy_from_slice(value))
    }
}

/// Copied.
impl From<&str> for HeaderBytes {
    fn from(value: &str) -> Self {
        HeaderBytes(Bytes::copy_from_slice(value.as_bytes()))
    }
}

/// Copied.
impl From<&String> for HeaderBytes {
    fn from(value: &String) -> Self {
        HeaderBytes::from(value.as_str())
    }
}

/// Neither copied nor freed when borrowed; taken over when owned.
impl From<Cow<'static, str>> for HeaderBytes {
    fn from(value: Cow<'static, str>) -> Self {
        match value {
            Cow::Borrowed(text) => HeaderBytes::from_static(text),
            Cow::Owned(text) => HeaderBytes::from(text),
        }
    }
}

/// Neither copied nor freed when borrowed; taken over when owned.
impl From<Cow<'static, [u8]>> for HeaderBytes {
    fn from(value: Cow<'static, [u8]>) -> Self {
        match value {
            Cow::Borrowed(bytes) => HeaderBytes(Bytes::from_static(bytes)),
            Cow::Owned(bytes) => HeaderBytes::from(bytes),
        }
    }
}

impl PartialEq<[u8]> for HeaderBytes {
    fn eq(&self, other: &[u8]) -> bool {
        self.as_bytes() == other
    }
}

impl PartialEq<&[u8]> for HeaderBytes {
    fn eq(&self, other: &&[u8]) -> bool {
        self.as_bytes() == *other
    }
}

impl<const N: usize> PartialEq<[u8; N]> for HeaderBytes {
    fn eq(&self, other: &[u8; N]) -> bool {
        self.as_bytes() == other
    }
}

impl<const N: usize> PartialEq<&[u8; N]> for HeaderBytes {
    fn eq(&self, other: &&[u8; N]) -> bool {
        self.as_bytes() == *other
    }
}

impl PartialEq<Vec<u8>> for HeaderBytes {
    fn eq(&self, other: &Vec<u8>) -> bool {
        self.as_bytes() == other.as_slice()
    }
}

impl PartialEq<str> for HeaderBytes {
    fn eq(&self, other: &str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl PartialEq<&str> for HeaderBytes {
    fn eq(&self, other: &&str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl PartialEq<HeaderBytes> for [u8] {
    fn eq(&self, other: &HeaderBytes) -> bool {
        self == other.as_bytes()
    }
}

impl PartialEq<HeaderBytes> for &[u8] {
    fn eq(&self, other: &HeaderBytes) -> bool {
        *self == other.as_bytes()
    }
}

impl PartialEq<HeaderBytes> for str {
    fn eq(&self, other: &HeaderBytes) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl PartialEq<HeaderBytes> for &str {
    fn eq(&self, other: &HeaderBytes) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn static_values_are_not_copied() {
        static TEXT: &str = "application/pdf";
        let value = HeaderBytes::from(Cow::Borrowed(TEXT));
        assert_eq!(value.as_bytes().as_ptr(), TEXT.as_ptr());
        assert_eq!(value, TEXT);
    }

    #[test]
    fn owned_buffers_are_taken_over() {
        let text = String::from("inline; filename=\"a.pdf\"");
        let ptr = text.as_ptr();
        let value = HeaderBytes::from(text);
        assert_eq!(value.as_bytes().as_ptr(), ptr);
        assert_eq!(value.into_bytes().as_ptr(), ptr);
    }

    #[test]
    fn compares_with_every_form_of_bytes_and_text() {
        let value = HeaderBytes::from("a b");
        let slice: &[u8] = b"a b";
        assert!(value == b"a b" && value == *b"a b" && value == slice && *slice == value);
        assert!(value == b"a b".to_vec() && value == "a b" && *"a b" == value);
        assert!(value != b"a c" && value != "a");
        assert_eq!(format!("{value:?}"), r#"b"a b""#);
    }
}
