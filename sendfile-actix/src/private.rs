//! The glue `#[protected_file]` expands to. Not public API: it may change in any release;
//! sendfile-macros is locked to this crate's exact version.

use std::path::Path;

use actix_web::http::StatusCode;
pub use actix_web::{Error, HttpRequest};

use crate::SendFile;
use crate::error::SendFileError;
use crate::file::config_for;

/// What a protected handler may return: `SendFile`, or `Result<SendFile, E>`.
#[diagnostic::on_unimplemented(
    message = "a #[protected_file] handler cannot return `{Self}`",
    label = "return `SendFile` or `Result<SendFile, E>` with `E: Into<actix_web::Error>`"
)]
pub trait IntoSendFileResult {
    /// Converts into the one shape the glue works with.
    fn into_sendfile_result(self) -> Result<SendFile, Error>;
}

impl IntoSendFileResult for SendFile {
    fn into_sendfile_result(self) -> Result<SendFile, Error> {
        Ok(self)
    }
}

impl<E: Into<Error>> IntoSendFileResult for Result<SendFile, E> {
    fn into_sendfile_result(self) -> Result<SendFile, Error> {
        self.map_err(Into::into)
    }
}

/// What a permission check may return: `bool`, or `Result<bool, E>`.
#[diagnostic::on_unimplemented(
    message = "a #[protected_file] check cannot return `{Self}`",
    label = "the check must be an `async fn(&HttpRequest, &Path)` returning `bool` or `Result<bool, E>`"
)]
pub trait IntoCheckResult {
    /// Converts into the one shape the glue works with.
    fn into_check_result(self) -> Result<bool, Error>;
}

impl IntoCheckResult for bool {
    fn into_check_result(self) -> Result<bool, Error> {
        Ok(self)
    }
}

impl<E: Into<Error>> IntoCheckResult for Result<bool, E> {
    fn into_check_result(self) -> Result<bool, Error> {
        self.map_err(Into::into)
    }
}

/// The error of a denied download: `status` when the attribute sets one, else the
/// configuration's denied status, else 403.
pub fn denied(req: &HttpRequest, status: Option<u16>) -> Error {
    let status = status
        .and_then(|s| StatusCode::from_u16(s).ok())
        .or_else(|| config_for(req).ok().map(|c| c.denied()))
        .unwrap_or(StatusCode::FORBIDDEN);
    let err = SendFileError::denied(status);
    err.log();
    err.into()
}

/// A file resolved inside the root, ready for a permission check.
#[derive(Debug)]
pub struct Resolved {
    file: SendFile,
}

impl Resolved {
    /// The resolved file: inside the real root, symlinks resolved.
    pub fn path(&self) -> &Path {
        self.file.resolved().map_or(Path::new(""), |r| r.path())
    }

    /// The `SendFile` carrying the resolved file: what was checked is what is sent.
    pub fn into_sendfile(self) -> SendFile {
        self.file
    }
}

/// Resolves `file` against the request's configuration, failing closed as the responder does.
pub fn resolve(req: &HttpRequest, file: SendFile) -> Result<Resolved, Error> {
    let result = config_for(req).and_then(|config| {
        sendfile_core::resolve(config.core(), file.file_request()).map_err(SendFileError::from)
    });
    match result {
        Ok(resolved) => Ok(Resolved {
            file: file.with_resolved(resolved),
        }),
        Err(err) => {
            err.log();
            Err(err.into())
        }
    }
}
