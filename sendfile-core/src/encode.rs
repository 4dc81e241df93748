//! Per-server encoding of the offload header value, and header-value safety.
//!
//! - [`percent_encode_path`] / [`percent_decode`]: the URI form that nginx, lighttpd and
//!   mod_wsgi decode exactly once.
//! - [`check_header_value`]: the last gate before any value becomes a response header.

use crate::error::Error;

const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";

/// Whether `byte` is left as is by [`percent_encode_path`]: `A-Z a-z 0-9 - . _ ~ /`.
fn is_path_safe(byte: u8) -> bool {
    PATH_SAFE[usize::from(byte)]
}

/// [`is_path_safe`] for every byte.
const PATH_SAFE: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let byte = b as u8;
        table[b] = byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~' | b'/');
        b += 1;
    }
    table
};

/// Appends `%XX` (uppercase hex) for `byte` to `out`.
pub(crate) fn push_pct(out: &mut String, byte: u8) {
    out.push('%');
    out.push(char::from(HEX_UPPER[usize::from(byte >> 4)]));
    out.push(char::from(HEX_UPPER[usize::from(byte & 0x0F)]));
}

/// How many bytes [`percent_encode_path`] escapes in `bytes`.
pub(crate) fn percent_escaped(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| !is_path_safe(b)).count()
}

/// [`percent_encode_path`], appended to `out`: runs of safe bytes are copied at once.
pub(crate) fn percent_encode_into(out: &mut Vec<u8>, bytes: &[u8]) {
    let mut rest = bytes;
    while !rest.is_empty() {
        let safe = rest
            .iter()
            .position(|&b| !is_path_safe(b))
            .unwrap_or(rest.len());
        out.extend_from_slice(&rest[..safe]);
        if let Some(&byte) = rest.get(safe) {
            out.extend_from_slice(&[
                b'%',
                HEX_UPPER[usize::from(byte >> 4)],
                HEX_UPPER[usize::from(byte & 0x0F)],
            ]);
            rest = &rest[safe + 1..];
        } else {
            rest = &[];
        }
    }
}

/// Percent-encodes every byte outside `A-Z a-z 0-9 - . _ ~ /`, with uppercase hex digits.
///
/// nginx, lighttpd and Apache's request parsing (mod_wsgi) decode exactly once, so every
/// name survives: `%`, `?`, `#`, spaces and non-ASCII bytes included.
///
/// ```
/// use sendfile_core::encode::{percent_decode, percent_encode_path};
///
/// let encoded = percent_encode_path("reports/q?1 #pct%41 ü.txt".as_bytes());
/// assert_eq!(encoded, "reports/q%3F1%20%23pct%2541%20%C3%BC.txt");
/// assert_eq!(percent_decode(&encoded), "reports/q?1 #pct%41 ü.txt".as_bytes());
/// ```
pub fn percent_encode_path(bytes: &[u8]) -> String {
    let unsafe_count = bytes.iter().filter(|&&b| !is_path_safe(b)).count();
    let mut out = String::with_capacity(bytes.len() + 2 * unsafe_count);
    for &byte in bytes {
        if is_path_safe(byte) {
            out.push(char::from(byte));
        } else {
            push_pct(&mut out, byte);
        }
    }
    out
}

/// The value of an ASCII hex digit.
fn hex_value(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}

/// Decodes `%XX` sequences once (the inverse of [`percent_encode_path`]); other bytes are kept.
///
/// Hex digits may be upper or lower case. A `%` not followed by two hex digits is kept
/// literally, and `+` stays `+` (it is never a space in a path).
pub fn percent_decode(value: &str) -> Vec<u8> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let (Some(hi), Some(lo)) = (
                bytes.get(i + 1).copied().and_then(hex_value),
                bytes.get(i + 2).copied().and_then(hex_value),
            )
        {
            out.push(hi << 4 | lo);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

/// A readable name for a control byte, for error messages.
fn control_name(byte: u8) -> &'static str {
    match byte {
        0x00 => "NUL",
        0x0A => "LF",
        0x0D => "CR",
        0x7F => "DEL",
        _ => "control byte",
    }
}

/// Checks that `value` may be sent as the value of header `name`: not empty, and no CR, LF or
/// NUL (nor other control bytes except tab).
///
/// Refused, each with an [`Error::InvalidHeader`] that names the header and the fix:
/// - an empty value (Caddy's emulation then serves the *original request path*, nginx logs
///   `unsafe URI ""`);
/// - any byte 0x00-0x1F except HTAB, and 0x7F (CR and LF would split the response, NUL
///   truncates it in C servers);
/// - leading or trailing space or tab: HTTP strips them from a field value (RFC 9110 §5.5), so
///   Apache or Caddy would look up a *different* file than the one that was checked.
///
/// Bytes 0x80-0xFF are allowed: the Apache and Caddy backends send raw UTF-8 paths.
pub fn check_header_value(name: &str, value: &[u8]) -> Result<(), Error> {
    let refuse = |reason: String| {
        Err(Error::InvalidHeader {
            name: name.to_owned(),
            reason,
        })
    };
    if value.is_empty() {
        return refuse(format!(
            "the value is empty; front servers misread an empty {name} (Caddy serves the \
             original request path), so give it a non-empty value or leave the header out"
        ));
    }
    if let Some(pos) = value
        .iter()
        .position(|&b| (b < 0x20 && b != b'\t') || b == 0x7F)
    {
        let byte = value[pos];
        return refuse(format!(
            "the value contains {} (0x{byte:02X}) at byte {pos}; control bytes would split or \
             truncate the response header, so remove it from the file name, URL prefix or \
             option that produced this value (a path that needs it must use a \
             percent-encoding backend such as nginx)",
            control_name(byte),
        ));
    }
    if matches!(value.first(), Some(b' ' | b'\t')) || matches!(value.last(), Some(b' ' | b'\t')) {
        return refuse(format!(
            "the value starts or ends with a space or tab, which HTTP strips from {name} \
             (RFC 9110 section 5.5), so the front server would use a different value; rename \
             the file or use a percent-encoding backend such as nginx"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn reason(result: Result<(), Error>) -> String {
        match result {
            Err(Error::InvalidHeader { name, reason }) => format!("{name}: {reason}"),
            other => panic!("expected InvalidHeader, got {other:?}"),
        }
    }

    #[test]
    fn unreserved_and_slash_are_kept() {
        let all = b"ABCXYZabcxyz0189-._~/";
        assert_eq!(percent_encode_path(all), "ABCXYZabcxyz0189-._~/");
    }

    #[test]
    fn every_other_byte_is_encoded_uppercase() {
        for byte in 0..=255u8 {
            let encoded = percent_encode_path(&[byte]);
            if is_path_safe(byte) {
                assert_eq!(encoded.as_bytes(), [byte]);
            } else {
                assert_eq!(encoded, format!("%{byte:02X}"), "byte 0x{byte:02X}");
            }
        }
    }

    #[test]
    fn hostile_path_bytes_are_encoded() {
        let cases: &[(&[u8], &str)] = &[
            (b"with space.txt", "with%20space.txt"),
            (b"pct%41.txt", "pct%2541.txt"),
            (b"q?mark.txt", "q%3Fmark.txt"),
            (b"hash#.txt", "hash%23.txt"),
            (b"plus+.txt", "plus%2B.txt"),
            (b"a\"b';c\\d", "a%22b%27%3Bc%5Cd"),
            (b"cr\rlf\nnul\0", "cr%0Dlf%0Anul%00"),
            ("ünïcode.txt".as_bytes(), "%C3%BCn%C3%AFcode.txt"),
            (b"\xFF\xFE", "%FF%FE"),
            (b"sub/deep.txt", "sub/deep.txt"),
        ];
        for (raw, expected) in cases {
            assert_eq!(percent_encode_path(raw), *expected);
        }
    }

    #[test]
    fn decode_once_only() {
        assert_eq!(percent_decode("pct%2541.txt"), b"pct%41.txt");
        assert_eq!(percent_decode("q%253F"), b"q%3F");
        assert_eq!(percent_decode("%c3%bc%C3%BC"), "üü".as_bytes());
        assert_eq!(percent_decode("a+b"), b"a+b");
    }

    #[test]
    fn decode_keeps_invalid_sequences() {
        assert_eq!(percent_decode("%"), b"%");
        assert_eq!(percent_decode("%4"), b"%4");
        assert_eq!(percent_decode("%G1x"), b"%G1x");
        assert_eq!(percent_decode("%%41"), b"%A");
        assert_eq!(percent_decode("100%"), b"100%");
    }

    #[test]
    fn empty_value_is_refused() {
        let msg = reason(check_header_value("X-Sendfile", b""));
        assert!(msg.starts_with("X-Sendfile: "));
        assert!(msg.contains("empty"));
    }

    #[test]
    fn cr_lf_nul_are_refused() {
        for (value, label) in [
            (&b"a\rb"[..], "CR"),
            (b"a\nb", "LF"),
            (b"a\0b", "NUL"),
            (b"x\r\nSet-Cookie: a=b", "CR"),
        ] {
            let msg = reason(check_header_value("X-Accel-Redirect", value));
            assert!(msg.contains("X-Accel-Redirect"), "{msg}");
            assert!(msg.contains(label), "{msg}");
        }
    }

    #[test]
    fn other_control_bytes_are_refused_but_tab_is_allowed() {
        for byte in (0x00..0x20u8).chain([0x7F]) {
            let value = [b'a', byte, b'b'];
            if byte == b'\t' {
                assert!(check_header_value("X", &value).is_ok());
            } else {
                assert!(check_header_value("X", &value).is_err(), "0x{byte:02X}");
            }
        }
    }

    #[test]
    fn high_bytes_and_printable_ascii_are_allowed() {
        assert!(check_header_value("X-Sendfile", "/srv/files/ünïcode.txt".as_bytes()).is_ok());
        assert!(check_header_value("X", b"\x80\xFF").is_ok());
        let printable: Vec<u8> = (0x21..0x7F).collect();
        assert!(check_header_value("X", &printable).is_ok());
        assert!(check_header_value("X", b"a b").is_ok());
    }

    #[test]
    fn edge_whitespace_is_refused() {
        for value in [&b" a"[..], b"a ", b"\ta", b"a\t", b" "] {
            let msg = reason(check_header_value("X-Sendfile", value));
            assert!(msg.contains("space or tab"), "{msg}");
        }
    }

    proptest! {
        #[test]
        fn encoding_into_a_buffer_is_the_same_encoding(
            prefix in proptest::collection::vec(any::<u8>(), 0..8),
            bytes in proptest::collection::vec(any::<u8>(), 0..300),
        ) {
            let mut out = prefix.clone();
            percent_encode_into(&mut out, &bytes);
            let mut expected = prefix;
            expected.extend_from_slice(percent_encode_path(&bytes).as_bytes());
            prop_assert_eq!(out, expected);
        }

        #[test]
        fn encode_decode_roundtrip(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let encoded = percent_encode_path(&bytes);
            prop_assert_eq!(percent_decode(&encoded), bytes);
        }

        #[test]
        fn encoded_has_only_safe_chars_and_pct_xx(
            bytes in proptest::collection::vec(any::<u8>(), 0..300),
        ) {
            let encoded = percent_encode_path(&bytes);
            let e = encoded.as_bytes();
            let mut i = 0;
            while i < e.len() {
                if e[i] == b'%' {
                    prop_assert!(i + 2 < e.len(), "truncated escape");
                    prop_assert!(matches!(e[i + 1], b'0'..=b'9' | b'A'..=b'F'));
                    prop_assert!(matches!(e[i + 2], b'0'..=b'9' | b'A'..=b'F'));
                    i += 3;
                } else {
                    prop_assert!(is_path_safe(e[i]), "unexpected byte {}", e[i]);
                    i += 1;
                }
            }
        }

        #[test]
        fn non_empty_encoded_values_pass_the_header_check(
            bytes in proptest::collection::vec(any::<u8>(), 1..300),
        ) {
            prop_assert!(check_header_value("X-Accel-Redirect", percent_encode_path(&bytes).as_bytes()).is_ok());
        }
    }
}
