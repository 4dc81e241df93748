//! Per-server encoding of the offload header value, and header-value safety.
//!
//! OWNER: encoding helper. Interface fixed; bodies to be written.

use crate::error::Error;

/// Percent-encodes every byte outside `A-Z a-z 0-9 - . _ ~ /`, with uppercase hex digits.
///
/// nginx, lighttpd and Apache's request parsing (mod_wsgi) decode exactly once, so every
/// name survives: `%`, `?`, `#`, spaces and non-ASCII bytes included.
pub fn percent_encode_path(bytes: &[u8]) -> String {
    let _ = bytes;
    todo!()
}

/// Decodes `%XX` sequences once (the inverse of [`percent_encode_path`]); other bytes are kept.
pub fn percent_decode(value: &str) -> Vec<u8> {
    let _ = value;
    todo!()
}

/// Checks that `value` may be sent as the value of header `name`: not empty, and no CR, LF or
/// NUL (nor other control bytes except tab).
pub fn check_header_value(name: &str, value: &[u8]) -> Result<(), Error> {
    let _ = (name, value);
    todo!()
}
