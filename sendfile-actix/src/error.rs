//! `SendFileError`: the core's errors as actix-web responses.

use std::fmt;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use sendfile_core::{Error, NotFoundReason};

use crate::SendFileConfig;

/// An error while sending a file.
///
/// As a response: 404 for a file that is missing, outside the root or not a regular file (the
/// precise reason goes to the log, never to the client); 403, or the configured status, for a
/// denied permission; 500 for a configuration problem. The response body is a short generic
/// text: it never contains a filesystem path. The [`Display`](fmt::Display) text is for logs:
/// the requested path and every other request-derived value in it are escaped with
/// [`sendfile_core::logsafe::LogSafe`], so a URL with `%0d%0a` or `%1b` cannot forge a log line
/// or send a terminal escape sequence.
pub struct SendFileError {
    error: Error,
    status: StatusCode,
}

impl SendFileError {
    /// A denied download, answered with `status`.
    pub fn denied(status: StatusCode) -> Self {
        SendFileError {
            error: Error::Forbidden,
            status,
        }
    }

    /// A denied download, answered with the `denied_status` of the request's
    /// [`SendFileConfig`](crate::SendFileConfig) (403 Forbidden by default, or without one).
    pub fn denied_for(req: &HttpRequest) -> Self {
        let status = SendFileConfig::from_req(req).map_or(StatusCode::FORBIDDEN, |c| c.denied());
        SendFileError::denied(status)
    }

    /// The underlying error.
    pub fn inner(&self) -> &Error {
        &self.error
    }

    /// Takes the underlying error.
    pub fn into_inner(self) -> Error {
        self.error
    }

    /// Writes the error to the log at a level that fits it. Each line is the escaped
    /// [`Display`](fmt::Display) text of the core error: no raw control character reaches the
    /// log.
    pub(crate) fn log(&self) {
        match &self.error {
            Error::NotFound {
                reason: NotFoundReason::OutsideRoot | NotFoundReason::InvalidPath,
                ..
            } => log::warn!("sendfile: refused: {}", self.error),
            Error::NotFound { .. } => log::info!("sendfile: {}", self.error),
            Error::Forbidden => log::info!("sendfile: download denied ({})", self.status),
            // Logged once by the core when the root became unusable, not once per request.
            Error::RootUnavailable(_) => log::debug!("sendfile: {}", self.error),
            // Under load: at most one line every few seconds, with a count of the others.
            Error::Overloaded(_) => crate::limits::log_overloaded(&self.error),
            _ => log::error!("sendfile: {}", self.error),
        }
    }
}

impl From<Error> for SendFileError {
    fn from(error: Error) -> Self {
        let status =
            StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        SendFileError { error, status }
    }
}

impl From<sendfile_core::ConfigError> for SendFileError {
    fn from(error: sendfile_core::ConfigError) -> Self {
        Error::Config(error).into()
    }
}

/// Written with the escaped [`Display`](fmt::Display) text: actix-web's logger prints errors with
/// `{:?}`, and a derived `Debug` would show request-derived paths unescaped.
impl fmt::Debug for SendFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendFileError")
            .field("status", &self.status.as_u16())
            .field("error", &format_args!("{}", self.error))
            .finish()
    }
}

impl fmt::Display for SendFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.error, f)
    }
}

impl std::error::Error for SendFileError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

impl ResponseError for SendFileError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let text = self
            .status
            .canonical_reason()
            .unwrap_or(self.error.public_message());
        let mut res = HttpResponse::build(self.status);
        res.insert_header((
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        ));
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            // The root is looked at again within a second.
            res.insert_header((header::RETRY_AFTER, HeaderValue::from_static("1")));
        }
        res.body(text)
    }
}
