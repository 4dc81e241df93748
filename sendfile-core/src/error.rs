//! The one error type of the core.

use std::fmt;
use std::path::PathBuf;

use crate::logsafe::LogSafe;

/// Why a requested file is answered with "404 Not Found".
///
/// The client only ever sees "not found"; the reason (and the path) are for the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum NotFoundReason {
    /// The path, once resolved (symlinks included), lies outside the root.
    OutsideRoot,
    /// Nothing exists at that path.
    Missing,
    /// The path names a directory.
    Directory,
    /// The path names something that is neither a regular file nor a directory (socket, FIFO,
    /// device...).
    NotARegularFile,
    /// The path contains a NUL byte or is empty.
    InvalidPath,
    /// The operating system refused access to the file (permissions).
    AccessDenied,
    /// The path runs through a symbolic link below the root, and the configuration refuses
    /// them (`follow_symlinks = false`).
    Symlink,
}

impl fmt::Display for NotFoundReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NotFoundReason::OutsideRoot => "it resolves to a location outside the root",
            NotFoundReason::Missing => "no such file",
            NotFoundReason::Directory => "it is a directory",
            NotFoundReason::NotARegularFile => "it is not a regular file",
            NotFoundReason::InvalidPath => "the path is empty or contains a NUL byte",
            NotFoundReason::AccessDenied => "the operating system denied access to it",
            NotFoundReason::Symlink => {
                "it runs through a symbolic link, and symlinks inside the root are refused (SENDFILE_FOLLOW_SYMLINKS=false)"
            }
        })
    }
}

/// A configuration problem: which setting is wrong and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConfigError {
    /// The setting at fault, by its environment name (for example `SENDFILE_URL`).
    pub setting: &'static str,
    /// What is wrong and what to do about it.
    pub message: String,
}

impl ConfigError {
    /// A new configuration error for `setting`.
    pub fn new(setting: &'static str, message: impl Into<String>) -> Self {
        Self {
            setting,
            message: message.into(),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "sendfile configuration: {}: {}",
            self.setting,
            LogSafe::str(&self.message)
        )
    }
}

impl std::error::Error for ConfigError {}

/// Everything that can go wrong while turning a request for a file into a response plan.
///
/// Each variant knows the HTTP status it maps to ([`Error::status`]). The [`Display`](fmt::Display)
/// text is meant for logs and may name filesystem paths; it must never be sent to a client. Use
/// [`Error::public_message`] for a response body.
///
/// Every value the `Display` text interpolates (the requested path, a header name, a reason
/// that may quote a file name) is written through [`LogSafe`]: a control character from the
/// request cannot split or colour a log line.
///
/// ```
/// use sendfile_core::{Error, NotFoundReason};
///
/// let error = Error::not_found(NotFoundReason::Missing, "a\r\nFORGED line\u{1b}[2J");
/// assert_eq!(error.to_string(), r"not found: a\r\nFORGED line\x1b[2J: no such file");
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The file cannot be served: outside the root, missing, a directory... (404).
    NotFound {
        /// The precise reason, for the log.
        reason: NotFoundReason,
        /// The path as requested, for the log.
        path: PathBuf,
    },
    /// A permission check denied the download (403 by default; the status is configurable).
    Forbidden,
    /// The configuration is missing or invalid (500).
    Config(ConfigError),
    /// Nothing usable stands at the configured root path right now: it was removed, replaced
    /// by something that is not a directory, or made unreadable (503). The reason is logged once
    /// when it starts; requests succeed again as soon as a valid root is back.
    RootUnavailable(ConfigError),
    /// The configured backend cannot express this file name (500); for example a `?` under the
    /// Caddy backend, or a name that is not UTF-8 under lighttpd.
    Unrepresentable {
        /// The backend that cannot name the file.
        backend: String,
        /// Why, and what to do about it.
        reason: String,
    },
    /// A value given by the application would make an invalid or unsafe header (500).
    InvalidHeader {
        /// The header name.
        name: String,
        /// Why the value was refused.
        reason: String,
    },
    /// An I/O error other than "not found" while opening or reading the file (500).
    Io(std::io::Error),
    /// The server is out of room for one more download right now (503, with `Retry-After`):
    /// no file descriptor left, or the cap on concurrent streams reached.
    Overloaded(Overload),
}

/// What ran out, for an [`Error::Overloaded`].
#[derive(Debug)]
#[non_exhaustive]
pub enum Overload {
    /// Opening the file failed with `EMFILE` or `ENFILE`: the process or the system has no
    /// file descriptor left.
    Descriptors(std::io::Error),
    /// The cap on concurrent streamed bodies (`SENDFILE_MAX_STREAMS`) is reached.
    Streams {
        /// The cap.
        max: usize,
    },
}

impl fmt::Display for Overload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Overload::Descriptors(e) => write!(
                f,
                "out of file descriptors ({e}); raise the limit (ulimit -n, LimitNOFILE=) or cap concurrent downloads with SENDFILE_MAX_STREAMS"
            ),
            Overload::Streams { max } => write!(
                f,
                "{max} downloads are already streaming (SENDFILE_MAX_STREAMS)"
            ),
        }
    }
}

impl Error {
    /// The HTTP status this error maps to.
    pub fn status(&self) -> u16 {
        match self {
            Error::NotFound { .. } => 404,
            Error::Forbidden => 403,
            Error::RootUnavailable(_) | Error::Overloaded(_) => 503,
            Error::Config(_)
            | Error::Unrepresentable { .. }
            | Error::InvalidHeader { .. }
            | Error::Io(_) => 500,
        }
    }

    /// A short text safe to show to a client: it never names a path or a setting value.
    pub fn public_message(&self) -> &'static str {
        match self {
            Error::NotFound { .. } => "Not Found",
            Error::Forbidden => "Forbidden",
            Error::RootUnavailable(_) | Error::Overloaded(_) => "Service Unavailable",
            _ => "Internal Server Error",
        }
    }

    /// Shorthand for a [`Error::NotFound`].
    pub fn not_found(reason: NotFoundReason, path: impl Into<PathBuf>) -> Self {
        Error::NotFound {
            reason,
            path: path.into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::NotFound { reason, path } => {
                write!(f, "not found: {}: {}", LogSafe::path(path), reason)
            }
            Error::Forbidden => f.write_str("permission denied by the application's check"),
            Error::Config(e) => fmt::Display::fmt(e, f),
            Error::RootUnavailable(e) => write!(f, "the root is unavailable: {e}"),
            Error::Unrepresentable { backend, reason } => {
                write!(
                    f,
                    "the {} backend cannot send this file: {}",
                    LogSafe::str(backend),
                    LogSafe::str(reason)
                )
            }
            Error::InvalidHeader { name, reason } => {
                write!(
                    f,
                    "refused to emit header {}: {}",
                    LogSafe::str(name),
                    LogSafe::str(reason)
                )
            }
            Error::Io(e) => write!(f, "I/O error: {}", LogSafe::str(&e.to_string())),
            Error::Overloaded(o) => write!(f, "refused for now: {o}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Config(e) | Error::RootUnavailable(e) => Some(e),
            Error::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<ConfigError> for Error {
    fn from(e: ConfigError) -> Self {
        Error::Config(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_inert(text: &str) {
        assert!(
            !text
                .chars()
                .any(|c| c.is_control() || crate::logsafe::is_invisible(c)),
            "{text:?}"
        );
    }

    #[test]
    fn display_escapes_every_request_derived_value() {
        let cases = [
            (
                Error::not_found(NotFoundReason::OutsideRoot, "../\r\nWARN x\u{1b}[31m"),
                r"not found: ../\r\nWARN x\x1b[31m: it resolves to a location outside the root",
            ),
            (
                Error::Unrepresentable {
                    backend: "caddy".into(),
                    reason: "the name a\u{202e}b?.txt has a `?`".into(),
                },
                r"the caddy backend cannot send this file: the name a\u{202e}b?.txt has a `?`",
            ),
            (
                Error::InvalidHeader {
                    name: "X-\nInjected".into(),
                    reason: "bad\u{85}value".into(),
                },
                r"refused to emit header X-\nInjected: bad\u{85}value",
            ),
            (
                Error::Config(ConfigError::new(
                    "SendFileConfig",
                    "no SendFileConfig for GET /a\r\nb",
                )),
                r"sendfile configuration: SendFileConfig: no SendFileConfig for GET /a\r\nb",
            ),
            (
                Error::Io(std::io::Error::other("disk\r\nfull")),
                r"I/O error: disk\r\nfull",
            ),
        ];
        for (error, expected) in cases {
            let text = error.to_string();
            assert_eq!(text, expected);
            assert_inert(&text);
        }
    }

    #[cfg(unix)]
    #[test]
    fn display_escapes_non_utf8_paths() {
        use std::ffi::OsStr;
        use std::os::unix::ffi::OsStrExt;
        let path = std::path::Path::new(OsStr::from_bytes(b"caf\xe9\x1b.txt"));
        let error = Error::not_found(NotFoundReason::Missing, path);
        assert_eq!(
            error.to_string(),
            r"not found: caf\xe9\x1b.txt: no such file"
        );
    }
}
