//! `SendFileError`: the core's errors as actix-web responses.

use std::cell::RefCell;
use std::fmt;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use sendfile_core::{Error, NotFoundReason};

use crate::{DeniedStatus, SendFileConfig};

/// An error while sending a file.
///
/// As a response: 404 for a file that is missing, outside the root or not a regular file (the
/// precise reason goes to the log, never to the client); 403, or the configured status, for a
/// denied permission; 500 for a configuration problem. The response body is a short generic
/// text: it never contains a filesystem path. The [`Display`](fmt::Display) text is for logs:
/// the requested path and every other request-derived value in it are escaped with
/// [`sendfile_core::logsafe::LogSafe`], so a URL with `%0d%0a` or `%1b` cannot forge a log line
/// or send a terminal escape sequence.
///
/// An error made for a request whose [`SendFileConfig`] has an
/// [`error_handler`](crate::SendFileConfigBuilder::error_handler) ([`SendFile::resolve`](crate::SendFile::resolve),
/// [`denied_for`](Self::denied_for), and every response the library builds) answers with the
/// handler's response instead: returning it from a handler, or `?` into `actix_web::Error`,
/// shows the application's page.
///
/// ```
/// use actix_web::{ResponseError, test};
/// use sendfile_actix::{Backend, SendFile, SendFileConfig};
///
/// # let dir = tempfile::tempdir().unwrap();
/// let config = SendFileConfig::builder(Backend::Simple).root(dir.path()).build().unwrap();
/// let req = test::TestRequest::default().app_data(config).to_http_request();
/// let err = SendFile::new("../../etc/passwd").resolve(&req).unwrap_err();
/// assert_eq!(err.status_code(), 404);
/// let res = err.error_response();
/// assert_eq!(res.headers().get("content-type").unwrap(), "text/plain; charset=utf-8");
/// ```
pub struct SendFileError {
    error: Error,
    status: StatusCode,
    /// The response of the configuration's error handler, taken when the error is answered.
    /// Boxed: an error stays small on the paths that never have one.
    rendered: Option<Box<RefCell<Option<HttpResponse>>>>,
}

impl SendFileError {
    /// A denied download, answered with `status` (and not through an error handler: use
    /// [`denied_for`](Self::denied_for) in a handler).
    ///
    /// ```
    /// use actix_web::ResponseError;
    /// use sendfile_actix::{DeniedStatus, SendFileError};
    ///
    /// let err = SendFileError::denied(DeniedStatus::NOT_FOUND);
    /// assert_eq!(err.status_code(), 404);
    /// ```
    pub fn denied(status: DeniedStatus) -> Self {
        SendFileError {
            error: Error::Forbidden,
            status: status.status(),
            rendered: None,
        }
    }

    /// A denied download, answered with the `denied_status` of the request's
    /// [`SendFileConfig`] (403 Forbidden by default, or without one), through its error
    /// handler when it has one.
    ///
    /// ```
    /// use actix_web::{HttpRequest, ResponseError, test};
    /// use sendfile_actix::{Backend, DeniedStatus, SendFileConfig, SendFileError};
    ///
    /// # let dir = tempfile::tempdir().unwrap();
    /// let config = SendFileConfig::builder(Backend::Simple)
    ///     .root(dir.path())
    ///     .denied_status(DeniedStatus::NOT_FOUND)
    ///     .build()
    ///     .unwrap();
    /// let req = test::TestRequest::default().app_data(config).to_http_request();
    /// assert_eq!(SendFileError::denied_for(&req).status_code(), 404);
    /// ```
    pub fn denied_for(req: &HttpRequest) -> Self {
        let config = SendFileConfig::from_req(req).ok();
        let status = config.map_or(DeniedStatus::FORBIDDEN, |c| c.denied());
        let err = SendFileError::denied(status);
        match config {
            Some(config) => config.render(err, req),
            None => err,
        }
    }

    /// Whether the download was denied by a permission check (rather than the file missing,
    /// or a configuration problem).
    ///
    /// ```
    /// use sendfile_actix::{DeniedStatus, SendFileError};
    ///
    /// assert!(SendFileError::denied(DeniedStatus::FORBIDDEN).is_denied());
    /// ```
    pub fn is_denied(&self) -> bool {
        matches!(self.error, Error::Forbidden)
    }

    /// Whether the file was not found: missing, outside the root, not a regular file, or its
    /// path invalid (answered 404; the reason is in [`inner`](Self::inner)).
    ///
    /// ```
    /// use actix_web::test;
    /// use sendfile_actix::{Backend, SendFile, SendFileConfig};
    ///
    /// # let dir = tempfile::tempdir().unwrap();
    /// let config = SendFileConfig::builder(Backend::Simple).root(dir.path()).build().unwrap();
    /// let req = test::TestRequest::default().app_data(config).to_http_request();
    /// let err = SendFile::new("missing.pdf").resolve(&req).unwrap_err();
    /// assert!(err.is_not_found());
    /// ```
    pub fn is_not_found(&self) -> bool {
        matches!(self.error, Error::NotFound { .. })
    }

    /// Whether the server is overloaded or its root unavailable for now (answered 503 with
    /// `Retry-After`).
    ///
    /// ```
    /// use sendfile_actix::{DeniedStatus, SendFileError};
    ///
    /// assert!(!SendFileError::denied(DeniedStatus::FORBIDDEN).is_unavailable());
    /// ```
    pub fn is_unavailable(&self) -> bool {
        self.status == StatusCode::SERVICE_UNAVAILABLE
    }

    /// The status the library answers this error with (the error handler's response may
    /// have another).
    ///
    /// ```
    /// use actix_web::http::StatusCode;
    /// use sendfile_actix::{DeniedStatus, SendFileError};
    ///
    /// assert_eq!(SendFileError::denied(DeniedStatus::FORBIDDEN).status(), StatusCode::FORBIDDEN);
    /// ```
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The library's own response to this error: the short generic text, with `Retry-After`
    /// on a 503. Error handlers call it for the errors they leave alone.
    ///
    /// ```
    /// use sendfile_actix::{DeniedStatus, SendFileError};
    ///
    /// let res = SendFileError::denied(DeniedStatus::FORBIDDEN).default_response();
    /// assert_eq!(res.status(), 403);
    /// ```
    pub fn default_response(&self) -> HttpResponse {
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

    /// This error answered with `response` (the error handler's).
    pub(crate) fn with_response(mut self, response: HttpResponse) -> Self {
        self.rendered = Some(Box::new(RefCell::new(Some(response))));
        self
    }

    /// The underlying error, from the core.
    ///
    /// ```
    /// use actix_web::test;
    /// use sendfile_actix::sendfile_core::{Error, NotFoundReason};
    /// use sendfile_actix::{Backend, SendFile, SendFileConfig};
    ///
    /// # let dir = tempfile::tempdir().unwrap();
    /// let config = SendFileConfig::builder(Backend::Simple).root(dir.path()).build().unwrap();
    /// let req = test::TestRequest::default().app_data(config).to_http_request();
    /// let err = SendFile::new("missing.pdf").resolve(&req).unwrap_err();
    /// assert!(matches!(err.inner(), Error::NotFound { reason: NotFoundReason::Missing, .. }));
    /// ```
    pub fn inner(&self) -> &Error {
        &self.error
    }

    /// Takes the underlying error.
    ///
    /// ```
    /// use sendfile_actix::sendfile_core::Error;
    /// use sendfile_actix::{DeniedStatus, SendFileError};
    ///
    /// let err = SendFileError::denied(DeniedStatus::FORBIDDEN);
    /// assert!(matches!(err.into_inner(), Error::Forbidden));
    /// ```
    pub fn into_inner(self) -> Error {
        self.error
    }

    /// Logs the error and answers it as the configuration for `req` says (through its error
    /// handler, when it has one).
    pub(crate) fn into_response_for(self, req: &HttpRequest) -> HttpResponse {
        self.log();
        let err = match SendFileConfig::from_req(req) {
            Ok(config) => config.render(self, req),
            Err(_) => self,
        };
        HttpResponse::from_error(err)
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
        SendFileError {
            error,
            status,
            rendered: None,
        }
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
        match self.rendered.as_deref().map(RefCell::borrow) {
            Some(rendered) => rendered.as_ref().map_or(self.status, HttpResponse::status),
            None => self.status,
        }
    }

    /// The error handler's response (once: actix-web asks for it once), else
    /// [`default_response`](SendFileError::default_response).
    fn error_response(&self) -> HttpResponse {
        self.rendered
            .as_ref()
            .and_then(|rendered| rendered.borrow_mut().take())
            .unwrap_or_else(|| self.default_response())
    }
}
