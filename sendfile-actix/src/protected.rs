//! The pieces `#[protected_file]` is made of, for handlers that want them without the
//! attribute.
//!
//! The attribute expands to nothing but these items and [`SendFile::resolve`]: a handler
//! written by hand can do exactly what the attribute does.
//!
//! ```
//! use actix_web::{HttpRequest, get, web};
//! use sendfile_actix::protected::{CheckOutput, HandlerOutput, deny};
//! use sendfile_actix::{ResolvedSendFile, SendFile};
//!
//! async fn owns(req: &HttpRequest, file: &ResolvedSendFile) -> bool {
//!     # let _ = req;
//!     file.relative_path().starts_with("alice")
//! }
//!
//! // What `#[protected_file(check = owns)]` does, by hand.
//! #[get("/files/{name}")]
//! async fn download(
//!     req: HttpRequest,
//!     name: web::Path<String>,
//! ) -> Result<ResolvedSendFile, actix_web::Error> {
//!     let file = SendFile::new(name.into_inner()).into_send_file()?;
//!     let file = file.resolve(&req)?;
//!     if !owns(&req, &file).await.into_allowed()? {
//!         return Err(deny(&req, None));
//!     }
//!     Ok(file)
//! }
//! # let _ = actix_web::App::new().service(download);
//! ```

pub use actix_web::{Error, HttpRequest};

pub use crate::DeniedStatus;
use crate::{SendFile, SendFileError};

/// What a protected handler may return: [`SendFile`], or `Result<SendFile, E>` with
/// `E: Into<actix_web::Error>`.
///
/// ```
/// use sendfile_actix::SendFile;
/// use sendfile_actix::protected::HandlerOutput;
///
/// let out: Result<SendFile, actix_web::Error> = Ok(SendFile::new("a.txt"));
/// assert!(out.into_send_file().is_ok());
/// ```
#[diagnostic::on_unimplemented(
    message = "a #[protected_file] handler cannot return `{Self}`",
    label = "return `SendFile` or `Result<SendFile, E>` with `E: Into<actix_web::Error>`"
)]
pub trait HandlerOutput {
    /// The `SendFile`, or the handler's error as an `actix_web::Error`.
    fn into_send_file(self) -> Result<SendFile, Error>;
}

impl HandlerOutput for SendFile {
    fn into_send_file(self) -> Result<SendFile, Error> {
        Ok(self)
    }
}

impl<E: Into<Error>> HandlerOutput for Result<SendFile, E> {
    fn into_send_file(self) -> Result<SendFile, Error> {
        self.map_err(Into::into)
    }
}

/// What a permission check may return: `bool`, or `Result<bool, E>` with
/// `E: Into<actix_web::Error>`.
///
/// ```
/// use sendfile_actix::protected::CheckOutput;
///
/// assert!(true.into_allowed().unwrap());
/// let failed: Result<bool, actix_web::Error> = Err(actix_web::error::ErrorUnauthorized("sign in"));
/// assert_eq!(failed.into_allowed().unwrap_err().as_response_error().status_code(), 401);
/// ```
#[diagnostic::on_unimplemented(
    message = "a #[protected_file] check cannot return `{Self}`",
    label = "the check must be an `async fn(&HttpRequest, &ResolvedSendFile)` returning `bool` or `Result<bool, E>`"
)]
pub trait CheckOutput {
    /// Whether the download is allowed, or the check's error as an `actix_web::Error`.
    fn into_allowed(self) -> Result<bool, Error>;
}

impl CheckOutput for bool {
    fn into_allowed(self) -> Result<bool, Error> {
        Ok(self)
    }
}

impl<E: Into<Error>> CheckOutput for Result<bool, E> {
    fn into_allowed(self) -> Result<bool, Error> {
        self.map_err(Into::into)
    }
}

/// The error of a denied download, logged: answered with `status` when given, else with the
/// `denied_status` of the request's [`SendFileConfig`](crate::SendFileConfig), else 403; through
/// the configuration's [`error_handler`](crate::SendFileConfigBuilder::error_handler) when it has one.
///
/// ```
/// use actix_web::test;
/// use sendfile_actix::protected::{DeniedStatus, deny};
///
/// let req = test::TestRequest::default().to_http_request();
/// let err = deny(&req, Some(DeniedStatus::NOT_FOUND));
/// assert_eq!(err.as_response_error().status_code(), 404);
/// ```
pub fn deny(req: &HttpRequest, status: Option<DeniedStatus>) -> Error {
    let config = crate::SendFileConfig::from_req(req).ok();
    let status = status.or(config.map(|c| c.denied())).unwrap_or_default();
    let err = SendFileError::denied(status);
    err.log();
    match config {
        Some(config) => config.render(err, req).into(),
        None => err.into(),
    }
}
