//! Content-Disposition (RFC 6266 with RFC 8187) and Content-Type.
//!
//! # The file name in Content-Disposition
//!
//! The name is first *cleaned*: every character for which [`is_replaced_in_filename`] holds is
//! replaced by `_` (replaced, not dropped: dropping would join what it separated, and
//! `evil.htm\u{200B}l`, whose extension an application checked as `htm\u{200B}l`, would be
//! saved as `evil.html`). That is the path separators `/` and `\` (a download name has no directory), Unicode
//! control characters (C0 including CR, LF, NUL and tab, DEL, C1), and every invisible
//! character of [`is_invisible`]: the bidirectional controls that can disguise an extension
//! (`invoice\u{202E}fdp.exe`), the zero-width characters (U+200B-U+200D, U+2060-U+2064,
//! U+FEFF), the soft hyphen U+00AD, U+180E, U+034F, the rest of the Unicode format characters
//! (Cf) and default-ignorable code points, and the line and paragraph separators U+2028 and
//! U+2029. Nothing can hide in the name: what the user sees is what is saved.
//!
//! A cleaned name that has nothing but spaces and dots before its extension is no name to save
//! under (browsers and Windows drop leading spaces and dots): it becomes `download` followed by
//! the extension, so `"   .pdf"` and `".pdf"` become `download.pdf`, and `""`, `"   "` and
//! `".."` (no extension) become `download`. A dotfile such as `.htaccess` is therefore sent as
//! `download.htaccess`. Below, "the name" is the cleaned name after this substitution.
//!
//! Two parameters then carry the name:
//! - `filename="..."`, the ASCII fallback for old clients: a quoted-string of printable ASCII.
//!   `"` and `\` are backslash-escaped; `%` becomes `_` (some browsers percent-decode this
//!   parameter, which would turn `pct%41.txt` into `pctA.txt`); a `?` right after `=` becomes
//!   `_`, so the fallback never contains `=?` and cannot be read as an RFC 2047 encoded-word
//!   (Chromium decodes `filename="=?utf-8?B?ZXZpbC5odG1s?="` and saves `evil.html`, past an
//!   application's check of the extension); every non-ASCII character becomes `_`, combining
//!   marks included (dropping one would join what it separated: `invoice.ex\u{301}e` would
//!   become `invoice.exe` for clients that read only this parameter). A
//!   fallback left with nothing but spaces and dots before its extension gets `download` in
//!   front of it, as above.
//! - `filename*=UTF-8''...` (RFC 8187), present whenever the fallback text is not exactly the
//!   name, so always for a name containing `=?`, `%`, `"` or non-ASCII. Every byte outside
//!   the RFC 8187 `attr-char` set is percent-encoded, so it decodes back to the name exactly: for
//!   a name without removed characters and with something before its extension, the name as
//!   given.
//!
//! The header value never contains a control character, CR, LF or NUL.
//!
//! [`saved_name`] gives the name a browser saves under. Removing characters can join what was
//! apart: `evil.htm\u{200B}l` is saved as `evil.html`. An application that checks the
//! extension of a download name must check the one [`saved_name`] returns.

use std::borrow::Cow;
use std::path::Path;

use crate::encode::push_pct;
use crate::logsafe::is_invisible;

/// Whether the browser shows the file or saves it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DispositionType {
    /// Shown in the browser when it can (the default).
    #[default]
    Inline,
    /// Saved as a download.
    Attachment,
}

impl DispositionType {
    /// The disposition token: `inline` or `attachment`.
    pub fn as_str(self) -> &'static str {
        match self {
            DispositionType::Inline => "inline",
            DispositionType::Attachment => "attachment",
        }
    }
}

/// The name used when a file name has nothing but spaces and dots before its extension once
/// cleaned (`download`, followed by the extension if there is one).
pub const DEFAULT_FILENAME: &str = "download";

/// Whether [`content_disposition`] drops `c` from a file name: `/`, `\`, control characters
/// (C0, DEL, C1) and the invisible characters of [`is_invisible`] (bidirectional controls,
/// zero-width characters, the other format characters, the separators U+2028 and U+2029).
///
/// ```
/// use sendfile_core::disposition::is_replaced_in_filename;
///
/// for c in ['/', '\\', '\r', '\u{202E}', '\u{200B}', '\u{FEFF}', '\u{AD}'] {
///     assert!(is_replaced_in_filename(c));
/// }
/// for c in ['a', ' ', '.', '%', '"', 'é', '\u{301}'] {
///     assert!(!is_replaced_in_filename(c));
/// }
/// ```
#[inline]
pub fn is_replaced_in_filename(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_control() || c == '/' || c == '\\';
    }
    c.is_control() || is_invisible(c)
}

/// When `name` has nothing but spaces and dots before its extension (or is only spaces and
/// dots), the byte index from which `name` is kept after [`DEFAULT_FILENAME`]: the start of
/// the extension, or `name.len()` when there is no extension worth keeping.
fn blank_stem(name: &str) -> Option<usize> {
    let bytes = name.as_bytes();
    let Some(first) = bytes.iter().position(|&b| b != b' ' && b != b'.') else {
        return Some(name.len());
    };
    // The usual name starts with its stem; a dot after the first other character means that
    // character is in the stem.
    if first == 0 || bytes[first..].contains(&b'.') {
        return None;
    }
    // Only spaces and dots before `first`: the extension starts at the last of those dots.
    bytes[..first].iter().rposition(|&b| b == b'.')
}

/// Whether `byte` is an RFC 8187 `attr-char`, left unencoded in `filename*`.
fn is_attr_char(byte: u8) -> bool {
    byte.is_ascii_alphanumeric()
        || matches!(
            byte,
            b'!' | b'#' | b'$' | b'&' | b'+' | b'-' | b'.' | b'^' | b'_' | b'`' | b'|' | b'~'
        )
}

/// Whether `byte` stands as is in the ASCII fallback wherever it is: printable ASCII other
/// than `"` and `\\` (escaped), `%` (replaced) and `?` (replaced after `=`).
fn is_plain_fallback(byte: u8) -> bool {
    (b' '..=b'~').contains(&byte) && !matches!(byte, b'"' | b'\\' | b'%' | b'?')
}

/// What `; filename="` and the closing quote add to the disposition type and a plain name.
const PLAIN_EXTRA: usize = "; filename=\"\"".len();

/// Appends the ASCII fallback form of the cleaned name `clean` (without the quotes).
fn push_fallback(out: &mut String, clean: &str) {
    // The usual name is printable ASCII without a character to escape or replace: copied at
    // once, up to the first that is not.
    let plain = clean
        .bytes()
        .position(|b| !is_plain_fallback(b))
        .unwrap_or(clean.len());
    out.push_str(&clean[..plain]);
    // Whether the last character written is `=`: a `?` after it would start an RFC 2047
    // encoded-word.
    let mut after_equals = clean[..plain].ends_with('=');
    for c in clean[plain..].chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '%' => out.push('_'),
            '?' if after_equals => out.push('_'),
            ' '..='~' => out.push(c),
            _ => out.push('_'),
        }
        after_equals = c == '=';
    }
}

/// The Content-Disposition value for `filename`.
///
/// Always a `filename="..."` ASCII fallback (quoted-string, `\` and `"` escaped, control and
/// invisible characters, `/` and `\` and non-ASCII replaced by `_`, never an RFC 2047
/// encoded-word), plus `filename*=UTF-8''...` whenever the fallback is not exactly the name.
/// A name with nothing before its extension becomes `download`. Never contains CR, LF or NUL.
/// The [module documentation](self) gives every rule.
///
/// ```
/// use sendfile_core::disposition::{DispositionType, content_disposition};
///
/// assert_eq!(
///     content_disposition(DispositionType::Attachment, "report.pdf"),
///     r#"attachment; filename="report.pdf""#,
/// );
/// assert_eq!(
///     content_disposition(DispositionType::Inline, "ünïcode 100%.txt"),
///     r#"inline; filename="_n_code 100_.txt"; filename*=UTF-8''%C3%BCn%C3%AFcode%20100%25.txt"#,
/// );
/// // A quote cannot end the quoted-string (CVE-2022-36359).
/// assert_eq!(
///     content_disposition(DispositionType::Attachment, r#"a";x=y.bat"#),
///     r#"attachment; filename="a\";x=y.bat"; filename*=UTF-8''a%22%3Bx%3Dy.bat"#,
/// );
/// // An RFC 2047 encoded-word is never decodable in the fallback; `filename*` has the name.
/// assert_eq!(
///     content_disposition(DispositionType::Attachment, "=?utf-8?B?ZXZpbC5odG1s?="),
///     r#"attachment; filename="=_utf-8?B?ZXZpbC5odG1s?="; filename*=UTF-8''%3D%3Futf-8%3FB%3FZXZpbC5odG1s%3F%3D"#,
/// );
/// // Nothing before the extension: `download`, keeping the extension.
/// assert_eq!(
///     content_disposition(DispositionType::Attachment, "   .pdf"),
///     r#"attachment; filename="download.pdf""#,
/// );
/// ```
pub fn content_disposition(kind: DispositionType, filename: &str) -> String {
    content_disposition_of_saved(kind, &saved_name(filename))
}

/// [`content_disposition`] for a name [`saved_name`] already returned (it is idempotent).
pub(crate) fn content_disposition_of_saved(kind: DispositionType, name: &str) -> String {
    // The usual name is its own fallback, printable ASCII with nothing to escape or replace:
    // `kind; filename="name"`, written into a buffer of its exact length (which an adapter
    // takes over as it is).
    if name.bytes().all(is_plain_fallback) && blank_stem(name).is_none() {
        return plain_disposition(kind, name);
    }
    let mut out = String::with_capacity(kind.as_str().len() + 16 + name.len() * 4);
    out.push_str(kind.as_str());
    out.push_str("; filename=\"");
    let fallback_start = out.len();
    push_fallback(&mut out, name);
    let fallback = &out[fallback_start..];
    let exact = fallback == name;
    // Defensive: the fallback replaces characters one for one, so it keeps the name's stem.
    if let Some(keep) = blank_stem(fallback) {
        out.replace_range(fallback_start..fallback_start + keep, DEFAULT_FILENAME);
    }
    out.push('"');

    if !exact {
        out.push_str("; filename*=UTF-8''");
        for byte in name.bytes() {
            if is_attr_char(byte) {
                out.push(char::from(byte));
            } else {
                push_pct(&mut out, byte);
            }
        }
    }
    out
}

/// `kind; filename="name"` for a name that is its own fallback, in a buffer of its exact
/// length (which an adapter takes over as it is).
fn plain_disposition(kind: DispositionType, name: &str) -> String {
    let kind = kind.as_str();
    let mut out = String::with_capacity(kind.len() + PLAIN_EXTRA + name.len());
    out.push_str(kind);
    out.push_str("; filename=\"");
    out.push_str(name);
    out.push('"');
    out
}

/// [`saved_name`] and [`content_disposition_of_saved`] at once. The usual name (printable
/// ASCII with nothing to replace, escape or substitute) is its own saved name: one pass over
/// its bytes settles both.
pub(crate) fn saved_name_and_disposition(
    kind: DispositionType,
    filename: &str,
) -> (Cow<'_, str>, String) {
    // `/` is the one plain byte that cleaning replaces.
    if filename.bytes().all(|b| is_plain_fallback(b) && b != b'/') && blank_stem(filename).is_none()
    {
        return (Cow::Borrowed(filename), plain_disposition(kind, filename));
    }
    let saved = saved_name(filename);
    let disposition = content_disposition_of_saved(kind, &saved);
    (saved, disposition)
}

/// The name under which a browser that reads `filename*` saves `filename`: the name cleaned of
/// the characters of [`is_replaced_in_filename`], and `download` in front of its extension
/// when nothing but spaces and dots was before it (see the [module documentation](self)).
///
/// This is the name whose extension matters: check the extension of this name, not of the one
/// given. Cleaning replaces characters by `_` and never joins what they separated.
///
/// ```
/// use sendfile_core::disposition::saved_name;
///
/// assert_eq!(saved_name("report.pdf"), "report.pdf");
/// assert_eq!(saved_name("evil.htm\u{200B}l"), "evil.htm_l");
/// assert_eq!(saved_name("invoice\u{202E}fdp.exe"), "invoice_fdp.exe");
/// assert_eq!(saved_name("   .pdf"), "download.pdf");
/// assert_eq!(saved_name(""), "download");
/// ```
pub fn saved_name(filename: &str) -> Cow<'_, str> {
    // Printable ASCII other than `/` and `\` is never removed: one pass over the bytes settles
    // the usual name before any character is decoded.
    let maybe_removed = filename
        .bytes()
        .any(|b| !(b' '..=b'~').contains(&b) || b == b'/' || b == b'\\');
    let clean: Cow<'_, str> = if maybe_removed && filename.chars().any(is_replaced_in_filename) {
        Cow::Owned(
            filename
                .chars()
                .map(|c| if is_replaced_in_filename(c) { '_' } else { c })
                .collect(),
        )
    } else {
        Cow::Borrowed(filename)
    };
    // Nothing but spaces and dots before the extension: no name to save under.
    match blank_stem(&clean) {
        Some(keep) => Cow::Owned(format!("{DEFAULT_FILENAME}{}", &clean[keep..])),
        None => clean,
    }
}

/// Types that [`content_type_for`] sets itself instead of asking `mime_guess`, by lowercase
/// extension: compressed files are always the compressed type (never a Content-Encoding), and
/// `mime_guess` gives `.tgz` the odd `application/x-compressed` and `.svgz` `image/svg+xml`
/// (wrong without `Content-Encoding: gzip`, which is never guessed).
fn compressed_type(extension: &str) -> Option<&'static str> {
    const TYPES: &[(&str, &str)] = &[
        ("gz", "application/gzip"),
        ("tgz", "application/gzip"),
        ("svgz", "application/gzip"),
        ("bz2", "application/x-bzip2"),
        ("tbz", "application/x-bzip2"),
        ("tbz2", "application/x-bzip2"),
        ("xz", "application/x-xz"),
        ("txz", "application/x-xz"),
        ("zst", "application/zstd"),
        ("tzst", "application/zstd"),
        ("br", "application/octet-stream"),
    ];
    TYPES
        .iter()
        .find(|(ext, _)| ext.eq_ignore_ascii_case(extension))
        .map(|&(_, mime)| mime)
}

/// Whether [`content_type_for`] adds `; charset=utf-8` to the type `essence` (`type/subtype`,
/// lowercase).
///
/// Yes for `text/*`, JavaScript (`application/javascript`, `application/ecmascript`,
/// `application/x-javascript`) and JSON (`application/json`, `application/*+json`). No for
/// XML (`text/xml`, `application/xml`, `*+xml`): a charset parameter overrides the encoding
/// declaration inside an XML document (RFC 7303 section 3), and an XML parser already defaults
/// to UTF-8, so the parameter can only break a document declared in another encoding.
pub fn wants_utf8_charset(essence: &str) -> bool {
    let Some((top, sub)) = essence.split_once('/') else {
        return false;
    };
    let xml = sub == "xml" || sub.ends_with("+xml");
    match top {
        "text" => !xml,
        "application" => {
            matches!(sub, "javascript" | "ecmascript" | "x-javascript" | "json")
                || sub.ends_with("+json")
        }
        _ => false,
    }
}

/// The Content-Type for a file name, from its extension (`application/octet-stream` when
/// unknown). Text types get `; charset=utf-8`. Never a Content-Encoding: a `.gz` file is
/// `application/gzip`.
///
/// The charset rule is [`wants_utf8_charset`]. Compressed files keep their own type: `.gz`,
/// `.tgz`, `.tar.gz` and `.svgz` are `application/gzip`, `.bz2` `application/x-bzip2`, `.xz`
/// `application/x-xz`, `.zst` `application/zstd`, `.br` `application/octet-stream`.
///
/// ```
/// use std::path::Path;
/// use sendfile_core::disposition::content_type_for;
///
/// assert_eq!(content_type_for(Path::new("notes.txt")), "text/plain; charset=utf-8");
/// assert_eq!(content_type_for(Path::new("backup.tar.gz")), "application/gzip");
/// ```
pub fn content_type_for(name: &Path) -> Cow<'static, str> {
    content_type_for_extension(name.extension().and_then(|e| e.to_str()))
}

/// [`content_type_for`] for a file name given as text (no path separator), without building
/// a `Path`: the extension is what [`Path::extension`] would find.
pub(crate) fn content_type_for_name(name: &str) -> Cow<'static, str> {
    let extension = match name.rsplit_once('.') {
        // `..`, and names whose only dot is the first character, have no extension.
        Some((stem, ext)) if !stem.is_empty() && name != ".." => Some(ext),
        _ => None,
    };
    content_type_for_extension(extension)
}

fn content_type_for_extension(extension: Option<&str>) -> Cow<'static, str> {
    if let Some(ext) = extension
        && let Some((_, content_type)) = COMMON.iter().find(|(e, _)| e.eq_ignore_ascii_case(ext))
    {
        return Cow::Borrowed(content_type);
    }
    guess_content_type(extension)
}

/// The most frequent extensions and their final Content-Type, found without searching
/// `mime_guess`'s table (a test checks that both agree).
const COMMON: [(&str, &str); 21] = [
    ("pdf", "application/pdf"),
    ("bin", "application/octet-stream"),
    ("txt", "text/plain; charset=utf-8"),
    ("html", "text/html; charset=utf-8"),
    ("htm", "text/html; charset=utf-8"),
    ("css", "text/css; charset=utf-8"),
    ("js", "text/javascript; charset=utf-8"),
    ("json", "application/json; charset=utf-8"),
    ("csv", "text/csv; charset=utf-8"),
    ("md", "text/markdown; charset=utf-8"),
    ("xml", "text/xml"),
    ("png", "image/png"),
    ("jpg", "image/jpeg"),
    ("jpeg", "image/jpeg"),
    ("gif", "image/gif"),
    ("svg", "image/svg+xml"),
    ("webp", "image/webp"),
    ("zip", "application/zip"),
    ("mp4", "video/mp4"),
    ("mp3", "audio/mpeg"),
    ("webm", "video/webm"),
];

/// [`content_type_for`] without the table of common extensions.
fn guess_content_type(extension: Option<&str>) -> Cow<'static, str> {
    let essence: Cow<'static, str> = match extension {
        Some(ext) => match compressed_type(ext) {
            Some(mime) => Cow::Borrowed(mime),
            // The table's own text: no `Mime` is parsed, nothing is allocated for the usual
            // (lowercase) types.
            None => match mime_guess::from_ext(ext).first_raw() {
                Some(raw) if raw.bytes().any(|b| b.is_ascii_uppercase()) => {
                    Cow::Owned(raw.to_ascii_lowercase())
                }
                Some(raw) => Cow::Borrowed(raw),
                None => Cow::Borrowed(OCTET_STREAM),
            },
        },
        None => Cow::Borrowed(OCTET_STREAM),
    };
    if !wants_utf8_charset(&essence) {
        return essence;
    }
    match WITH_CHARSET.iter().find(|(plain, _)| *plain == essence) {
        Some((_, with)) => Cow::Borrowed(with),
        None => Cow::Owned(format!("{essence}; charset=utf-8")),
    }
}

const OCTET_STREAM: &str = "application/octet-stream";

/// The usual text types with their charset, so that the common case allocates nothing.
const WITH_CHARSET: [(&str, &str); 10] = [
    ("text/plain", "text/plain; charset=utf-8"),
    ("text/html", "text/html; charset=utf-8"),
    ("text/css", "text/css; charset=utf-8"),
    ("text/csv", "text/csv; charset=utf-8"),
    ("text/markdown", "text/markdown; charset=utf-8"),
    ("text/javascript", "text/javascript; charset=utf-8"),
    (
        "application/javascript",
        "application/javascript; charset=utf-8",
    ),
    ("application/json", "application/json; charset=utf-8"),
    ("text/x-markdown", "text/x-markdown; charset=utf-8"),
    ("text/calendar", "text/calendar; charset=utf-8"),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::{check_header_value, percent_decode};

    proptest! {
        /// The one-pass form gives what the two steps give, for the usual names (the fast
        /// path) and for any other.
        #[test]
        fn saved_name_and_disposition_at_once_is_both_steps(
            name in prop_oneof!["[ -~]{0,12}", any::<String>()],
            attachment in any::<bool>(),
        ) {
            let kind = if attachment { DispositionType::Attachment } else { DispositionType::Inline };
            let (saved, disposition) = saved_name_and_disposition(kind, &name);
            prop_assert_eq!(&saved, &saved_name(&name));
            prop_assert_eq!(disposition, content_disposition(kind, &name));
        }

        #[test]
        fn the_type_of_a_name_is_the_type_of_its_path(
            name in "[a-zA-Z. _-]{0,6}(\\.[a-zA-Z0-9]{0,5}){0,2}",
        ) {
            prop_assert_eq!(content_type_for_name(&name), content_type_for(Path::new(&name)));
        }
    }

    #[test]
    fn the_type_of_names_with_odd_dots() {
        for name in [
            "", ".", "..", "...", ".pdf", "a.", "a..pdf", ". .pdf", "a.tar.gz", "x.PDF",
        ] {
            assert_eq!(
                content_type_for_name(name),
                content_type_for(Path::new(name)),
                "{name}"
            );
        }
    }

    #[test]
    fn common_types_and_charset_forms_agree_with_the_guess() {
        for (ext, content_type) in COMMON {
            assert_eq!(guess_content_type(Some(ext)), content_type, "{ext}");
            let upper = ext.to_ascii_uppercase();
            let name = format!("x.{upper}");
            assert_eq!(content_type_for(Path::new(&name)), content_type, "{name}");
        }
        for (plain, with) in WITH_CHARSET {
            assert!(wants_utf8_charset(plain), "{plain}");
            assert_eq!(with, format!("{plain}; charset=utf-8"));
        }
    }
    use proptest::prelude::*;

    use DispositionType::{Attachment, Inline};

    /// Splits a Content-Disposition value into its type and parameters, reading quoted-strings
    /// the way RFC 9110 does (a backslash escapes the next character).
    fn parse(value: &str) -> (String, Vec<(String, String)>) {
        let mut chars = value.chars().peekable();
        let mut kind = String::new();
        while let Some(&c) = chars.peek() {
            if c == ';' {
                break;
            }
            kind.push(c);
            chars.next();
        }
        let mut params = Vec::new();
        while chars.next() == Some(';') {
            while chars.peek() == Some(&' ') {
                chars.next();
            }
            let mut name = String::new();
            for c in chars.by_ref() {
                if c == '=' {
                    break;
                }
                name.push(c);
            }
            let mut val = String::new();
            if chars.peek() == Some(&'"') {
                chars.next();
                loop {
                    match chars.next().expect("unterminated quoted-string") {
                        '\\' => val.push(chars.next().expect("dangling backslash")),
                        '"' => break,
                        c => val.push(c),
                    }
                }
            } else {
                while let Some(&c) = chars.peek() {
                    if c == ';' {
                        break;
                    }
                    val.push(c);
                    chars.next();
                }
            }
            params.push((name, val));
        }
        assert_eq!(chars.next(), None, "trailing garbage in {value:?}");
        (kind, params)
    }

    /// The decoded parameters: the fallback, and the `filename*` name if present.
    fn names(value: &str) -> (String, Option<String>) {
        let (_, params) = parse(value);
        let mut fallback = None;
        let mut star = None;
        for (name, val) in params {
            match name.as_str() {
                "filename" => {
                    assert!(fallback.is_none(), "two filename params in {value:?}");
                    fallback = Some(val);
                }
                "filename*" => {
                    assert!(star.is_none(), "two filename* params in {value:?}");
                    let encoded = val.strip_prefix("UTF-8''").expect("UTF-8'' prefix");
                    for b in encoded.bytes() {
                        assert!(is_attr_char(b) || b == b'%', "{b:?} in {value:?}");
                    }
                    let bytes = percent_decode(encoded);
                    star = Some(String::from_utf8(bytes).expect("filename* is UTF-8"));
                }
                other => panic!("unexpected parameter {other:?} in {value:?}"),
            }
        }
        (fallback.expect("filename param"), star)
    }

    /// The name a modern browser would use: `filename*` when present, else `filename`.
    fn effective(value: &str) -> String {
        let (fallback, star) = names(value);
        star.unwrap_or(fallback)
    }

    #[test]
    fn kinds() {
        assert_eq!(
            content_disposition(Inline, "a.txt"),
            r#"inline; filename="a.txt""#
        );
        assert_eq!(
            content_disposition(Attachment, "a.txt"),
            r#"attachment; filename="a.txt""#
        );
        assert_eq!(DispositionType::default(), Inline);
    }

    #[test]
    fn plain_ascii_has_no_filename_star() {
        for name in [
            "report.pdf",
            "with space.txt",
            "a;b,c'd=e(1)[2]{3}<4>?*:|!#$&+^`~.txt",
        ] {
            let value = content_disposition(Attachment, name);
            assert!(!value.contains("filename*"), "{value}");
            assert_eq!(names(&value), (name.to_owned(), None));
        }
    }

    #[test]
    fn quote_is_escaped_and_cannot_end_the_string() {
        // CVE-2022-36359: a quote in the name must not close the quoted-string.
        let value = content_disposition(Attachment, r#"a";x=y.bat"#);
        assert_eq!(
            value,
            r#"attachment; filename="a\";x=y.bat"; filename*=UTF-8''a%22%3Bx%3Dy.bat"#
        );
        let (kind, params) = parse(&value);
        assert_eq!(kind, "attachment");
        assert_eq!(params.len(), 2);
        assert_eq!(params[0], ("filename".into(), r#"a";x=y.bat"#.into()));
        assert_eq!(effective(&value), r#"a";x=y.bat"#);
    }

    #[test]
    fn quote_alone_gets_filename_star_too() {
        let value = content_disposition(Inline, r#"say "hi".txt"#);
        assert_eq!(
            value,
            r#"inline; filename="say \"hi\".txt"; filename*=UTF-8''say%20%22hi%22.txt"#
        );
    }

    #[test]
    fn separators_are_replaced_in_both_parameters() {
        // Separators become `_`: no directory, and nothing joined.
        assert_eq!(
            content_disposition(Attachment, "../../etc/passwd"),
            r#"attachment; filename=".._.._etc_passwd""#
        );
        assert_eq!(
            content_disposition(Attachment, r"C:\Users\x\evil.exe"),
            r#"attachment; filename="C:_Users_x_evil.exe""#
        );
        let value = content_disposition(Attachment, "dir/ü\\x.txt");
        assert_eq!(
            value,
            r#"attachment; filename="dir___x.txt"; filename*=UTF-8''dir_%C3%BC_x.txt"#
        );
    }

    #[test]
    fn control_characters_are_replaced() {
        let value = content_disposition(Attachment, "a\r\nSet-Cookie: x=1\0\t\u{7f}\u{85}b.txt");
        assert_eq!(
            value,
            r#"attachment; filename="a__Set-Cookie: x=1____b.txt""#
        );
        for c in value.chars() {
            assert!(!c.is_control(), "{value:?}");
        }
    }

    #[test]
    fn bidi_and_line_separators_are_replaced() {
        let value = content_disposition(Attachment, "invoice\u{202E}fdp.exe");
        assert_eq!(value, r#"attachment; filename="invoice_fdp.exe""#);
        let value = content_disposition(Attachment, "a\u{2028}b\u{2029}c\u{2066}d\u{200F}.txt");
        assert_eq!(value, r#"attachment; filename="a_b_c_d_.txt""#);
    }

    #[test]
    fn percent_is_replaced_in_fallback_and_kept_in_filename_star() {
        let value = content_disposition(Attachment, "pct%41.txt");
        assert_eq!(
            value,
            r#"attachment; filename="pct_41.txt"; filename*=UTF-8''pct%2541.txt"#
        );
        assert_eq!(effective(&value), "pct%41.txt");
        let value = content_disposition(Attachment, "100%");
        assert_eq!(
            value,
            r#"attachment; filename="100_"; filename*=UTF-8''100%25"#
        );
    }

    #[test]
    fn hostile_ascii_names() {
        let cases = [
            ("with space.txt", r#"inline; filename="with space.txt""#),
            ("q?mark.txt", r#"inline; filename="q?mark.txt""#),
            ("hash#.txt", r#"inline; filename="hash#.txt""#),
            ("plus+.txt", r#"inline; filename="plus+.txt""#),
            ("it's.txt", r#"inline; filename="it's.txt""#),
            ("a;b.txt", r#"inline; filename="a;b.txt""#),
        ];
        for (name, expected) in cases {
            let value = content_disposition(Inline, name);
            assert_eq!(value, expected);
            assert_eq!(effective(&value), name);
        }
    }

    #[test]
    fn filename_star_uses_the_attr_char_set() {
        let value = content_disposition(Inline, "é !#$&+-.^_`|~'*%()=,;:@[]{}<>?/x");
        let (_, star) = value.split_once("filename*=UTF-8''").unwrap();
        assert_eq!(
            star,
            "%C3%A9%20!#$&+-.^_`|~%27%2A%25%28%29%3D%2C%3B%3A%40%5B%5D%7B%7D%3C%3E%3F_x"
        );
    }

    #[test]
    fn unicode_nfc_and_nfd() {
        let nfc = content_disposition(Attachment, "caf\u{e9}.txt");
        assert_eq!(
            nfc,
            r#"attachment; filename="caf_.txt"; filename*=UTF-8''caf%C3%A9.txt"#
        );
        let nfd = content_disposition(Attachment, "cafe\u{301}.txt");
        assert_eq!(
            nfd,
            r#"attachment; filename="cafe_.txt"; filename*=UTF-8''cafe%CC%81.txt"#
        );
        // Each form survives as given: no normalisation.
        assert_eq!(effective(&nfc), "caf\u{e9}.txt");
        assert_eq!(effective(&nfd), "cafe\u{301}.txt");
    }

    #[test]
    fn unicode_names() {
        let value = content_disposition(Attachment, "ünïcode.txt");
        assert_eq!(
            value,
            r#"attachment; filename="_n_code.txt"; filename*=UTF-8''%C3%BCn%C3%AFcode.txt"#
        );
        let value = content_disposition(Attachment, "😀 party.png");
        assert_eq!(
            value,
            r#"attachment; filename="_ party.png"; filename*=UTF-8''%F0%9F%98%80%20party.png"#
        );
        assert_eq!(effective(&value), "😀 party.png");
        let value = content_disposition(Attachment, "中文.pdf");
        assert_eq!(
            value,
            r#"attachment; filename="__.pdf"; filename*=UTF-8''%E4%B8%AD%E6%96%87.pdf"#
        );
    }

    #[test]
    fn long_names_are_kept_whole() {
        let ascii = format!("{}.txt", "a".repeat(246));
        assert_eq!(ascii.len(), 250);
        assert_eq!(
            content_disposition(Attachment, &ascii),
            format!(r#"attachment; filename="{ascii}""#)
        );
        let wide = "é".repeat(125);
        assert_eq!(wide.len(), 250);
        let value = content_disposition(Attachment, &wide);
        assert_eq!(names(&value), ("_".repeat(125), Some(wide)));
    }

    #[test]
    fn empty_or_dot_names_become_download() {
        for name in ["", ".", ".."] {
            assert_eq!(
                content_disposition(Attachment, name),
                r#"attachment; filename="download""#,
                "{name:?}"
            );
        }
        // Names made only of replaced characters keep their `_`s: a usable name.
        for (name, saved) in [
            ("/", "_"),
            ("\\", "_"),
            ("/../", "_.._"),
            ("./..", "._.."),
            ("\r\n", "__"),
            ("\u{202E}", "_"),
        ] {
            assert_eq!(
                content_disposition(Attachment, name),
                format!(r#"attachment; filename="{saved}""#),
                "{name:?}"
            );
        }
    }

    #[test]
    fn combining_marks_are_replaced_in_the_fallback_and_join_nothing() {
        let value = content_disposition(Attachment, "\u{301}");
        assert_eq!(
            value,
            r#"attachment; filename="_"; filename*=UTF-8''%CC%81"#
        );
        // Dropped, the mark would join `ex` and `e` into `.exe` for clients that read only
        // `filename` (curl -OJ does).
        let value = content_disposition(Attachment, "invoice.ex\u{301}e");
        assert_eq!(
            value,
            r#"attachment; filename="invoice.ex_e"; filename*=UTF-8''invoice.ex%CC%81e"#
        );
    }

    #[test]
    fn encoded_word_names_get_filename_star_and_a_fallback_that_cannot_decode() {
        // Chromium decodes an RFC 2047 encoded-word in `filename`: `=?utf-8?B?ZXZpbC5odG1s?=`
        // would be saved as `evil.html`, past an application's check of the extension.
        assert_eq!(
            content_disposition(Attachment, "=?utf-8?B?ZXZpbC5odG1s?="),
            r#"attachment; filename="=_utf-8?B?ZXZpbC5odG1s?="; filename*=UTF-8''%3D%3Futf-8%3FB%3FZXZpbC5odG1s%3F%3D"#
        );
        for name in [
            "=?utf-8?B?ZXZpbC5odG1s?=",
            "=?UTF-8?Q?evil.html?=",
            "=?Utf-8?q?evil=2Ehtml?=",
            "=?iso-8859-1?b?ZXZpbC5odG1s?=",
            "report =?utf-8?B?ZXZpbC5odG1s?= final.pdf",
            "a=?b.txt",
            "==??==??.txt",
        ] {
            let value = content_disposition(Attachment, name);
            let (fallback, star) = names(&value);
            assert!(!fallback.contains("=?"), "{value}");
            assert_eq!(star.as_deref(), Some(name), "{value}");
        }
        // The shape can also appear once a character is dropped from the fallback; replaced
        // characters never make it.
        for (name, clean) in [
            (
                "=\u{200B}?utf-8?B?ZXZpbC5odG1s?=",
                "=_?utf-8?B?ZXZpbC5odG1s?=",
            ),
            (
                "=\u{301}?utf-8?B?ZXZpbC5odG1s?=",
                "=\u{301}?utf-8?B?ZXZpbC5odG1s?=",
            ),
            ("=\r\n?utf-8?B?ZXZpbC5odG1s?=", "=__?utf-8?B?ZXZpbC5odG1s?="),
        ] {
            let value = content_disposition(Attachment, name);
            let (fallback, star) = names(&value);
            assert!(!fallback.contains("=?"), "{value}");
            assert_eq!(star.unwrap_or(fallback), clean, "{value}");
        }
        // A lone `?` or `=` is no encoded-word and stays as it is.
        assert_eq!(
            content_disposition(Inline, "a?=b=.txt"),
            r#"inline; filename="a?=b=.txt""#
        );
    }

    #[test]
    fn blank_names_become_download_keeping_the_extension() {
        for name in [" ", "   ", " . ", ". ."] {
            assert_eq!(
                content_disposition(Attachment, name),
                r#"attachment; filename="download""#,
                "{name:?}"
            );
        }
        for (name, expected) in [
            ("   .pdf", r#"attachment; filename="download.pdf""#),
            (".pdf", r#"attachment; filename="download.pdf""#),
            (" . .tar", r#"attachment; filename="download.tar""#),
            ("\u{200B}.exe", r#"attachment; filename="_.exe""#),
            ("\u{FEFF} \u{2060}", r#"attachment; filename="_ _""#),
            (
                " .pdé",
                r#"attachment; filename="download.pd_"; filename*=UTF-8''download.pd%C3%A9"#,
            ),
        ] {
            assert_eq!(content_disposition(Attachment, name), expected, "{name:?}");
        }
        // A name with something before its extension keeps it, spaces included.
        assert_eq!(
            content_disposition(Attachment, " a .pdf"),
            r#"attachment; filename=" a .pdf""#
        );
    }

    #[test]
    fn blank_stem_finds_the_extension_to_keep() {
        let cases = [
            ("", Some(0)),
            ("   ", Some(3)),
            (" . ", Some(3)),
            ("..", Some(2)),
            (".pdf", Some(0)),
            ("   .pdf", Some(3)),
            (". .tar", Some(2)),
            ("....etcpasswd", Some(3)),
            ("a", None),
            ("  x", None),
            (" a .pdf", None),
            ("summary.pdf", None),
            ("a.", None),
            (". x.y", None),
        ];
        for (name, expected) in cases {
            assert_eq!(blank_stem(name), expected, "{name:?}");
        }
    }

    #[test]
    fn invisible_characters_are_replaced_in_both_parameters() {
        let cases = [
            ("a\u{200B}b.txt", "a_b.txt"),
            ("a\u{200C}\u{200D}b.txt", "a__b.txt"),
            ("\u{FEFF}bom.txt", "_bom.txt"),
            ("soft\u{AD}hyphen.txt", "soft_hyphen.txt"),
            ("word\u{2060}joiner\u{2064}.txt", "word_joiner_.txt"),
            ("mongolian\u{180E}.txt", "mongolian_.txt"),
            ("cgj\u{34F}.txt", "cgj_.txt"),
            ("tag\u{E0041}\u{E007F}.txt", "tag__.txt"),
            ("evil.pdf\u{2066}.exe", "evil.pdf_.exe"),
            // Never joined into another extension.
            ("evil.htm\u{200B}l", "evil.htm_l"),
        ];
        for (name, expected) in cases {
            assert_eq!(
                content_disposition(Attachment, name),
                format!(r#"attachment; filename="{expected}""#),
                "{name:?}"
            );
        }
        // With a name that needs `filename*`, it is replaced there too.
        let value = content_disposition(Attachment, "r\u{E9}sum\u{E9}\u{200B}.pdf");
        assert_eq!(
            value,
            r#"attachment; filename="r_sum__.pdf"; filename*=UTF-8''r%C3%A9sum%C3%A9_.pdf"#
        );
    }

    #[test]
    fn content_types() {
        let cases = [
            ("a.txt", "text/plain; charset=utf-8"),
            ("a.html", "text/html; charset=utf-8"),
            ("a.css", "text/css; charset=utf-8"),
            ("a.csv", "text/csv; charset=utf-8"),
            ("a.js", "text/javascript; charset=utf-8"),
            ("a.mjs", "application/javascript; charset=utf-8"),
            ("a.json", "application/json; charset=utf-8"),
            ("a.webmanifest", "application/manifest+json; charset=utf-8"),
            ("a.xml", "text/xml"),
            ("a.rss", "application/rss+xml"),
            ("a.svg", "image/svg+xml"),
            ("a.pdf", "application/pdf"),
            ("a.JPG", "image/jpeg"),
            ("a.png", "image/png"),
            ("a.unknownext", "application/octet-stream"),
            ("noext", "application/octet-stream"),
            (".gz", "application/octet-stream"),
        ];
        for (name, expected) in cases {
            assert_eq!(content_type_for(Path::new(name)), expected, "{name}");
        }
    }

    #[test]
    fn compressed_files_keep_their_own_type() {
        let cases = [
            ("x.gz", "application/gzip"),
            ("x.tar.gz", "application/gzip"),
            ("x.txt.gz", "application/gzip"),
            ("x.TAR.GZ", "application/gzip"),
            ("x.TGZ", "application/gzip"),
            ("x.SvgZ", "application/gzip"),
            ("x.tgz", "application/gzip"),
            ("x.svgz", "application/gzip"),
            ("x.tar.bz2", "application/x-bzip2"),
            ("x.tbz2", "application/x-bzip2"),
            ("x.tar.xz", "application/x-xz"),
            ("x.txz", "application/x-xz"),
            ("x.tar.zst", "application/zstd"),
            ("x.tzst", "application/zstd"),
            ("x.js.br", "application/octet-stream"),
            ("x.Z", "application/x-compress"),
            ("x.zip", "application/zip"),
        ];
        for (name, expected) in cases {
            assert_eq!(content_type_for(Path::new(name)), expected, "{name}");
        }
    }

    #[test]
    fn charset_rule() {
        assert!(wants_utf8_charset("text/plain"));
        assert!(wants_utf8_charset("text/x-yaml"));
        assert!(wants_utf8_charset("application/ecmascript"));
        assert!(wants_utf8_charset("application/ld+json"));
        assert!(!wants_utf8_charset("text/xml"));
        assert!(!wants_utf8_charset("application/xml"));
        assert!(!wants_utf8_charset("application/xhtml+xml"));
        assert!(!wants_utf8_charset("application/octet-stream"));
        assert!(!wants_utf8_charset("image/png"));
        assert!(!wants_utf8_charset("garbage"));
    }

    /// Mostly the characters that matter, plus any character at all.
    fn hostile_name() -> impl Strategy<Value = String> {
        let hostile = prop::sample::select(vec![
            '"',
            '\\',
            '/',
            '%',
            ';',
            ' ',
            '\'',
            '\r',
            '\n',
            '\0',
            '\t',
            '\u{7f}',
            '\u{85}',
            '\u{202e}',
            '\u{2028}',
            'é',
            '\u{301}',
            '😀',
            '*',
            '=',
            ',',
            'a',
            '.',
            '4',
            '1',
            '?',
            '=',
            '?',
            'B',
            '\u{200B}',
            '\u{200D}',
            '\u{FEFF}',
            '\u{AD}',
            '\u{E0041}',
            ' ',
        ]);
        prop::collection::vec(prop_oneof![hostile, any::<char>()], 0..40)
            .prop_map(|chars| chars.into_iter().collect())
    }

    fn check_properties(name: &str) -> Result<(), TestCaseError> {
        for kind in [Inline, Attachment] {
            let value = content_disposition(kind, name);
            prop_assert!(check_header_value("Content-Disposition", value.as_bytes()).is_ok());
            prop_assert!(!value.chars().any(char::is_control), "{:?}", value);
            // The only removed character left in the value is the quoted-pair backslash.
            prop_assert!(
                !value
                    .chars()
                    .any(|c| c != '\\' && is_replaced_in_filename(c)),
                "{:?}",
                value
            );
            let (fallback, star) = names(&value);
            prop_assert!(!fallback.chars().any(is_replaced_in_filename));
            if let Some(star) = &star {
                prop_assert!(!star.chars().any(is_replaced_in_filename));
            }
            prop_assert!(!fallback.is_empty());
            prop_assert!(fallback.bytes().all(|b| (0x20..0x7F).contains(&b)));
            prop_assert!(!fallback.contains('%'));
            // Never an RFC 2047 encoded-word, never a name without a stem.
            prop_assert!(!fallback.contains("=?"), "{:?}", value);
            prop_assert!(has_stem(&fallback), "{:?}", value);
            // `filename*`, when present, decodes back to the cleaned name (or `download` and
            // its extension); when absent, the fallback is that name; so the name a modern
            // browser uses is always that name.
            let expected = expected_name(name);
            prop_assert_eq!(saved_name(name), expected.as_str());
            if expected.contains("=?") {
                prop_assert!(star.is_some(), "{:?}", value);
            }
            if let Some(star) = &star {
                prop_assert_eq!(star, &expected);
            } else {
                prop_assert_eq!(&fallback, &expected);
            }
            prop_assert_eq!(star.unwrap_or(fallback), expected);
        }
        Ok(())
    }

    /// Whether `name` has something other than spaces and dots before its extension.
    fn has_stem(name: &str) -> bool {
        let stem = name.rsplit_once('.').map_or(name, |(stem, _)| stem);
        !stem.trim_matches([' ', '.']).is_empty()
    }

    /// The name a modern browser should save under, by the module documentation's rules.
    fn expected_name(name: &str) -> String {
        let clean: String = name
            .chars()
            .map(|c| if is_replaced_in_filename(c) { '_' } else { c })
            .collect();
        if has_stem(&clean) {
            return clean;
        }
        match clean.rsplit_once('.') {
            Some((_, ext)) if !ext.trim_matches([' ', '.']).is_empty() => {
                format!("{DEFAULT_FILENAME}.{ext}")
            }
            _ => DEFAULT_FILENAME.to_owned(),
        }
    }

    proptest! {
        #[test]
        fn disposition_properties_any_string(name in any::<String>()) {
            check_properties(&name)?;
        }

        #[test]
        fn disposition_properties_hostile(name in hostile_name()) {
            check_properties(&name)?;
        }
    }
}
