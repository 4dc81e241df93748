//! `ContentCoding`: how stored bytes are encoded (`Content-Encoding`).

use std::fmt;

/// The content coding of a stored file (RFC 9110 §8.4.1): the `Content-Encoding` the
/// in-process backends send with it. Never guessed from the file name.
///
/// ```
/// use sendfile_core::ContentCoding;
///
/// assert_eq!(ContentCoding::Gzip.as_str(), "gzip");
/// assert_eq!(ContentCoding::from_token("BR"), Some(ContentCoding::Brotli));
/// assert_eq!(ContentCoding::from_token("identity"), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ContentCoding {
    /// `gzip`
    Gzip,
    /// `deflate` (zlib)
    Deflate,
    /// `br` (Brotli)
    Brotli,
    /// `zstd` (Zstandard)
    Zstd,
    /// `compress` (LZW)
    Compress,
}

impl ContentCoding {
    /// The coding's token, as sent in `Content-Encoding`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ContentCoding::Gzip => "gzip",
            ContentCoding::Deflate => "deflate",
            ContentCoding::Brotli => "br",
            ContentCoding::Zstd => "zstd",
            ContentCoding::Compress => "compress",
        }
    }

    /// The coding named by `token` (ASCII case-insensitive; `x-gzip` and `x-compress` too),
    /// or `None` for a name that is not one of these codings (`identity` included: it means
    /// that the bytes are not encoded).
    pub fn from_token(token: &str) -> Option<Self> {
        [
            ("gzip", ContentCoding::Gzip),
            ("x-gzip", ContentCoding::Gzip),
            ("deflate", ContentCoding::Deflate),
            ("br", ContentCoding::Brotli),
            ("zstd", ContentCoding::Zstd),
            ("compress", ContentCoding::Compress),
            ("x-compress", ContentCoding::Compress),
        ]
        .into_iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(token))
        .map(|(_, coding)| coding)
    }
}

impl fmt::Display for ContentCoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::ContentCoding;

    #[test]
    fn every_coding_round_trips_through_its_token() {
        for coding in [
            ContentCoding::Gzip,
            ContentCoding::Deflate,
            ContentCoding::Brotli,
            ContentCoding::Zstd,
            ContentCoding::Compress,
        ] {
            assert_eq!(ContentCoding::from_token(coding.as_str()), Some(coding));
            assert_eq!(coding.to_string(), coding.as_str());
        }
        assert_eq!(
            ContentCoding::from_token("x-gzip"),
            Some(ContentCoding::Gzip)
        );
        assert_eq!(ContentCoding::from_token("identity"), None);
        assert_eq!(ContentCoding::from_token("gzip\r\n"), None);
    }
}
