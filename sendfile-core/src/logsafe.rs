//! Text that is safe to write to a log, and the characters that can hide in a name.
//!
//! A requested path comes from the URL: actix-web's `web::Path` extractor percent-decodes it,
//! so `/files/a%0d%0aFORGED` reaches `SendFile::new` as `a\r\nFORGED`, and
//! `%1b[2J` as a terminal escape sequence. Printed raw, such a path forges log lines or
//! rewrites the operator's terminal. Every log line and every error message of this workspace
//! prints request-derived values through [`LogSafe`], which escapes:
//!
//! | what | written as |
//! | --- | --- |
//! | `\` | `\\` (so that every escape below is unambiguous) |
//! | tab, line feed, carriage return | `\t`, `\n`, `\r` |
//! | other C0 controls (U+0000-U+001F) and DEL (U+007F) | `\x00`-`\x1f`, `\x7f` |
//! | C1 controls (U+0080-U+009F) | `\u{80}`-`\u{9f}` |
//! | characters for which [`is_invisible`] holds (bidi controls, zero-width characters...) | `\u{202e}`... |
//! | a byte that is not part of valid UTF-8 (paths are bytes on Unix) | `\x80`-`\xff` |
//!
//! A `\x` escape below `\x80` is always a character and one from `\x80` up always a raw byte,
//! so the original bytes can be read back from any line.
//!
//! [`is_invisible`] is also the list of characters that
//! [`content_disposition`](crate::disposition::content_disposition) removes from a download
//! name, so that the name cannot hide anything either.

use std::fmt::{self, Write as _};
use std::path::Path;

/// Whether `c` is invisible or reorders text: a Unicode format character (general category
/// Cf, which includes the bidirectional controls and the zero-width characters), a
/// `Default_Ignorable_Code_Point` (the combining grapheme joiner U+034F, the Hangul fillers,
/// variation selectors, the tag characters...), or the line and paragraph separators U+2028
/// and U+2029. Control characters (Cc) are not included: [`char::is_control`] covers them.
///
/// The table follows Unicode 15.1 (`DerivedGeneralCategory.txt` for Cf,
/// `DerivedCoreProperties.txt` for `Default_Ignorable_Code_Point`); the reserved code points
/// of the default-ignorable blocks are included, so a future assignment there stays covered.
/// A hand-written table rather than a Unicode crate: it is small, stable, and checked on every
/// character of every download name, where one comparison settles the ASCII case.
///
/// ```
/// use sendfile_core::logsafe::is_invisible;
///
/// assert!(is_invisible('\u{202E}')); // RIGHT-TO-LEFT OVERRIDE
/// assert!(is_invisible('\u{200B}')); // ZERO WIDTH SPACE
/// assert!(is_invisible('\u{FEFF}')); // BYTE ORDER MARK
/// assert!(!is_invisible('a'));
/// assert!(!is_invisible('é'));
/// assert!(!is_invisible('\n')); // a control character, not a format character
/// ```
pub fn is_invisible(c: char) -> bool {
    // Everything below U+00AD is ASCII or Latin-1 controls and letters: the usual case, kept
    // to one comparison.
    if c < '\u{AD}' {
        return false;
    }
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{0600}'..='\u{0605}'
            | '\u{061C}'
            | '\u{06DD}'
            | '\u{070F}'
            | '\u{0890}'..='\u{0891}'
            | '\u{08E2}'
            | '\u{115F}'..='\u{1160}'
            | '\u{17B4}'..='\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200F}'
            | '\u{2028}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF0}'..='\u{FFFB}'
            | '\u{110BD}'
            | '\u{110CD}'
            | '\u{13430}'..='\u{1343F}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0000}'..='\u{E0FFF}'
    )
}

/// Whether [`LogSafe`] escapes `c`.
fn needs_escape(c: char) -> bool {
    c == '\\' || c.is_control() || is_invisible(c)
}

/// A value written with every control character, invisible character and invalid byte
/// escaped: see the [module documentation](self) for the escapes.
///
/// ```
/// use std::path::Path;
/// use sendfile_core::logsafe::LogSafe;
///
/// let requested = "a\r\nWARN forged line\u{1b}[31m.txt";
/// assert_eq!(
///     LogSafe::str(requested).to_string(),
///     r"a\r\nWARN forged line\x1b[31m.txt",
/// );
/// assert_eq!(LogSafe::str("invoice\u{202E}fdp.exe").to_string(), r"invoice\u{202e}fdp.exe");
/// assert_eq!(LogSafe::str(r"C:\dir").to_string(), r"C:\\dir");
/// assert_eq!(LogSafe::bytes(b"caf\xe9.txt").to_string(), r"caf\xe9.txt");
/// assert_eq!(LogSafe::path(Path::new("plain/name.pdf")).to_string(), "plain/name.pdf");
/// ```
#[derive(Clone, Copy)]
pub struct LogSafe<'a>(&'a [u8]);

impl<'a> LogSafe<'a> {
    /// Text, escaped.
    pub fn str(text: &'a str) -> Self {
        LogSafe(text.as_bytes())
    }

    /// Bytes that should be UTF-8 (a header value, a Unix file name), escaped; invalid bytes
    /// are written as `\x..`.
    pub fn bytes(bytes: &'a [u8]) -> Self {
        LogSafe(bytes)
    }

    /// A path, escaped: its bytes on Unix (where a file name need not be UTF-8), its
    /// WTF-8 encoding on Windows (an unpaired surrogate shows as `\x..` bytes).
    pub fn path(path: &'a Path) -> Self {
        LogSafe(path.as_os_str().as_encoded_bytes())
    }
}

impl fmt::Display for LogSafe<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for chunk in self.0.utf8_chunks() {
            write_escaped(f, chunk.valid())?;
            for byte in chunk.invalid() {
                write!(f, "\\x{byte:02x}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for LogSafe<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_char('"')?;
        fmt::Display::fmt(self, f)?;
        f.write_char('"')
    }
}

/// Writes `text`, escaped, in runs: the common case (nothing to escape) is one `write_str`.
fn write_escaped(f: &mut fmt::Formatter<'_>, text: &str) -> fmt::Result {
    let mut run_start = 0;
    for (i, c) in text.char_indices() {
        if !needs_escape(c) {
            continue;
        }
        f.write_str(&text[run_start..i])?;
        run_start = i + c.len_utf8();
        match c {
            '\\' => f.write_str(r"\\")?,
            '\t' => f.write_str(r"\t")?,
            '\n' => f.write_str(r"\n")?,
            '\r' => f.write_str(r"\r")?,
            '\0'..='\u{7F}' => write!(f, "\\x{:02x}", u32::from(c))?,
            _ => write!(f, "\\u{{{:x}}}", u32::from(c))?,
        }
    }
    f.write_str(&text[run_start..])
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Reads an escaped text back into bytes (the inverse of [`LogSafe`]).
    fn unescape(text: &str) -> Vec<u8> {
        let mut out = Vec::new();
        let mut chars = text.chars();
        while let Some(c) = chars.next() {
            if c != '\\' {
                let mut buf = [0; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                continue;
            }
            match chars.next().expect("dangling backslash") {
                '\\' => out.push(b'\\'),
                't' => out.push(b'\t'),
                'n' => out.push(b'\n'),
                'r' => out.push(b'\r'),
                'x' => {
                    let hex: String = chars.by_ref().take(2).collect();
                    out.push(u8::from_str_radix(&hex, 16).expect("two hex digits"));
                }
                'u' => {
                    assert_eq!(chars.next(), Some('{'));
                    let hex: String = chars.by_ref().take_while(|&c| c != '}').collect();
                    let c = char::from_u32(u32::from_str_radix(&hex, 16).unwrap()).unwrap();
                    let mut buf = [0; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
                other => panic!("unknown escape \\{other} in {text:?}"),
            }
        }
        out
    }

    /// No character a terminal or a line-based log reader would act on.
    fn assert_inert(text: &str) {
        for c in text.chars() {
            assert!(
                !c.is_control() && !is_invisible(c),
                "{c:?} left in {text:?}"
            );
        }
    }

    #[test]
    fn plain_text_is_unchanged() {
        for text in [
            "",
            "a.txt",
            "2024/reports/q1.pdf",
            "résumé 中文 😀.png",
            "100% \"x\"",
        ] {
            assert_eq!(LogSafe::str(text).to_string(), text);
        }
    }

    #[test]
    fn controls_are_escaped() {
        let cases = [
            ("a\r\nb", r"a\r\nb"),
            ("\t", r"\t"),
            ("\0", r"\x00"),
            ("\u{1b}[31mred", r"\x1b[31mred"),
            ("\u{7f}", r"\x7f"),
            ("\u{85}next", r"\u{85}next"),
            ("\u{9b}31m", r"\u{9b}31m"),
        ];
        for (text, expected) in cases {
            let escaped = LogSafe::str(text).to_string();
            assert_eq!(escaped, expected);
            assert_inert(&escaped);
        }
    }

    #[test]
    fn invisible_and_bidi_characters_are_escaped() {
        let cases = [
            ("invoice\u{202E}fdp.exe", r"invoice\u{202e}fdp.exe"),
            ("a\u{200B}b", r"a\u{200b}b"),
            ("\u{FEFF}x", r"\u{feff}x"),
            ("\u{2028}\u{2029}", r"\u{2028}\u{2029}"),
            ("\u{2066}\u{2069}", r"\u{2066}\u{2069}"),
            ("soft\u{AD}hyphen", r"soft\u{ad}hyphen"),
            ("tag\u{E0041}", r"tag\u{e0041}"),
        ];
        for (text, expected) in cases {
            assert_eq!(LogSafe::str(text).to_string(), expected);
        }
    }

    #[test]
    fn backslash_is_escaped_so_escapes_are_unambiguous() {
        // A literal `\x1b` in a name must not read like an escape character.
        assert_eq!(LogSafe::str(r"\x1b").to_string(), r"\\x1b");
        assert_eq!(LogSafe::str("\\\u{1b}").to_string(), r"\\\x1b");
    }

    #[test]
    fn invalid_utf8_bytes_are_escaped() {
        assert_eq!(LogSafe::bytes(b"a\xffb").to_string(), r"a\xffb");
        assert_eq!(LogSafe::bytes(b"\xe2\x80").to_string(), r"\xe2\x80");
        assert_eq!(LogSafe::bytes(b"\xc2\x85").to_string(), r"\u{85}");
        assert_eq!(LogSafe::bytes(b"\r\xff").to_string(), r"\r\xff");
    }

    #[cfg(unix)]
    #[test]
    fn non_utf8_paths_are_escaped() {
        use std::ffi::OsStr;
        use std::os::unix::ffi::OsStrExt;
        let path = Path::new(OsStr::from_bytes(b"dir/\xff\n.txt"));
        assert_eq!(LogSafe::path(path).to_string(), r"dir/\xff\n.txt");
    }

    #[test]
    fn debug_quotes_the_escaped_text() {
        assert_eq!(format!("{:?}", LogSafe::str("a\nb")), r#""a\nb""#);
    }

    #[test]
    fn invisible_table_covers_the_named_characters() {
        let named = [
            '\u{AD}',
            '\u{34F}',
            '\u{61C}',
            '\u{180E}',
            '\u{200B}',
            '\u{200C}',
            '\u{200D}',
            '\u{200E}',
            '\u{200F}',
            '\u{202A}',
            '\u{202E}',
            '\u{2060}',
            '\u{2064}',
            '\u{2066}',
            '\u{2069}',
            '\u{206F}',
            '\u{FEFF}',
            '\u{FE0F}',
            '\u{FFF9}',
            '\u{1D173}',
            '\u{E0001}',
            '\u{E007F}',
            '\u{E0100}',
            '\u{3164}',
            '\u{115F}',
        ];
        for c in named {
            assert!(is_invisible(c), "{c:?}");
        }
        let visible = [
            'a',
            ' ',
            '~',
            '\u{A0}',
            '\u{AC}',
            '\u{AE}',
            'é',
            '\u{301}',
            '\u{2027}',
            '\u{202F}',
            '\u{2070}',
            '\u{3000}',
            '\u{FFFC}',
            '\u{FFFD}',
            '😀',
            '\u{E1000}',
        ];
        for c in visible {
            assert!(!is_invisible(c), "{c:?}");
        }
        // Controls are left to `char::is_control`.
        assert!(!is_invisible('\n') && !is_invisible('\u{85}'));
    }

    proptest! {
        #[test]
        fn escaped_text_is_inert_and_reads_back(bytes in prop::collection::vec(
            prop_oneof![
                any::<u8>(),
                prop::sample::select(vec![b'\\', b'\r', b'\n', 0x1b, 0x7f, 0xc2, 0x85, 0xe2, 0x80, 0xae, b'x', b'u', b'{']),
            ],
            0..48,
        )) {
            let escaped = LogSafe::bytes(&bytes).to_string();
            for c in escaped.chars() {
                prop_assert!(!c.is_control() && !is_invisible(c), "{:?} in {:?}", c, escaped);
            }
            prop_assert_eq!(unescape(&escaped), bytes);
        }

        #[test]
        fn any_string_reads_back(text in any::<String>()) {
            let escaped = LogSafe::str(&text).to_string();
            assert_inert(&escaped);
            prop_assert_eq!(unescape(&escaped), text.into_bytes());
        }
    }
}
