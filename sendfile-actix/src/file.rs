//! `SendFile`: the responder.

use std::path::{Path, PathBuf};
use std::sync::Once;

use actix_web::body::{BoxBody, SizedStream};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::http::{Method as HttpMethod, StatusCode};
use actix_web::{HttpRequest, HttpResponse, Responder};
use sendfile_core::engine::{Method, Request};
use sendfile_core::nginx::{AccelExpires, LimitRate};
use sendfile_core::{Backend, Body, ConfigError, DispositionType, FileRequest, Plan, ResolvedFile};

use crate::body::FileStream;
use crate::config::SendFileConfig;
use crate::error::SendFileError;

/// A file to send, returned by a handler once it has decided the user may have it.
///
/// The configured backend turns it into a response: an offload header for the front server
/// (nginx, Apache mod_xsendfile, lighttpd, mod_wsgi, Caddy), or the bytes streamed by the
/// application (`simple`, `development`) with conditional requests, ranges and HEAD.
///
/// ```
/// use actix_web::{App, get, test, web};
/// use sendfile_actix::{Backend, SendFile, SendFileConfig};
///
/// #[get("/report")]
/// async fn report() -> SendFile {
///     SendFile::new("reports/q3.pdf")   // relative to the root, or absolute inside it
///         .attachment()                 // inline by default
///         .filename("Q3 report.pdf")    // the name the browser saves; default: the file's own
/// }
///
/// # actix_web::rt::System::new().block_on(async {
/// # let dir = tempfile::tempdir().unwrap();
/// # std::fs::create_dir(dir.path().join("reports")).unwrap();
/// # std::fs::write(dir.path().join("reports/q3.pdf"), b"%PDF-1.7").unwrap();
/// let config = SendFileConfig::new(Backend::Nginx).root(dir.path()).url("/protected");
/// let app = test::init_service(App::new().app_data(config).service(report)).await;
/// let res = test::call_service(&app, test::TestRequest::get().uri("/report").to_request()).await;
///
/// assert_eq!(res.status(), 200);
/// let header = |name| res.headers().get(name).unwrap().to_str().unwrap();
/// assert_eq!(header("x-accel-redirect"), "/protected/reports/q3.pdf");
/// assert_eq!(header("content-disposition"), "attachment; filename=\"Q3 report.pdf\"");
/// # });
/// ```
#[derive(Debug)]
#[must_use = "a SendFile does nothing unless returned from a handler"]
pub struct SendFile {
    request: FileRequest,
    resolved: Option<ResolvedFile>,
}

impl SendFile {
    /// The file at `path`: relative to the configured root, or absolute inside it.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        SendFile {
            request: FileRequest::new(path),
            resolved: None,
        }
    }

    /// Asks the browser to save the file (`Content-Disposition: attachment`).
    pub fn attachment(mut self) -> Self {
        self.request.disposition = DispositionType::Attachment;
        self
    }

    /// Asks the browser to show the file when it can (`Content-Disposition: inline`, the
    /// default).
    pub fn inline(mut self) -> Self {
        self.request.disposition = DispositionType::Inline;
        self
    }

    /// The name the browser shows or saves (default: the file's own name). Any text works:
    /// an ASCII fallback and the exact UTF-8 name are both sent.
    pub fn filename(mut self, name: impl Into<String>) -> Self {
        self.request.filename = Some(name.into());
        self
    }

    /// The Content-Type (default: guessed from the name, `application/octet-stream` when
    /// unknown).
    pub fn content_type(mut self, content_type: impl Into<String>) -> Self {
        self.request.content_type = Some(content_type.into());
        self
    }

    /// The Content-Encoding of the stored bytes (never guessed from the extension). Sent by the
    /// in-process backends only: an offload response never carries one, since the front server
    /// sends the raw file.
    pub fn content_encoding(mut self, encoding: impl Into<String>) -> Self {
        self.request.content_encoding = Some(encoding.into());
        self
    }

    /// Uses `backend` for this response instead of the configured one.
    pub fn backend(mut self, backend: Backend) -> Self {
        self.request.backend = Some(backend);
        self
    }

    /// nginx only: `X-Accel-Limit-Rate`, the download's speed limit.
    pub fn limit_rate(mut self, rate: LimitRate) -> Self {
        self.request.nginx.limit_rate = Some(rate);
        self
    }

    /// nginx only: `X-Accel-Buffering`.
    pub fn buffering(mut self, buffering: bool) -> Self {
        self.request.nginx.buffering = Some(buffering);
        self
    }

    /// nginx only: `X-Accel-Charset`; nginx must know the charset (a `charset` directive
    /// somewhere in its configuration mentions it).
    pub fn charset(mut self, charset: impl Into<String>) -> Self {
        self.request.nginx.charset = Some(charset.into());
        self
    }

    /// nginx only: `X-Accel-Expires`, how long nginx's own proxy cache keeps the response.
    pub fn accel_expires(mut self, expires: AccelExpires) -> Self {
        self.request.nginx.expires = Some(expires);
        self
    }

    /// The path as given to [`new`](Self::new).
    pub fn path(&self) -> &Path {
        &self.request.path
    }

    /// The file, once resolved inside the root.
    pub(crate) fn resolved(&self) -> Option<&ResolvedFile> {
        self.resolved.as_ref()
    }

    /// The framework-neutral request.
    pub(crate) fn file_request(&self) -> &FileRequest {
        &self.request
    }

    pub(crate) fn with_resolved(mut self, file: ResolvedFile) -> Self {
        self.resolved = Some(file);
        self
    }

    /// Builds the response for `req`, as the [`Responder`] implementation does.
    pub fn into_response(self, req: &HttpRequest) -> HttpResponse<BoxBody> {
        match self.plan(req) {
            Ok(plan) => plan_to_response(plan),
            Err(err) => {
                err.log();
                HttpResponse::from_error(err)
            }
        }
    }

    fn plan(self, req: &HttpRequest) -> Result<Plan, SendFileError> {
        let config = config_for(req)?;
        let backend = sendfile_core::effective_backend(config.core(), &self.request);
        if matches!(backend, Backend::Development) {
            warn_development_once();
        }
        let fields = RequestFields::read(req);
        let http = fields.as_request(req.method());
        let plan = match self.resolved {
            Some(file) => sendfile_core::plan_resolved(config.core(), &self.request, file, &http),
            None => sendfile_core::plan(config.core(), &self.request, &http),
        }?;
        Ok(plan)
    }
}

impl Responder for SendFile {
    type Body = BoxBody;

    fn respond_to(self, req: &HttpRequest) -> HttpResponse<Self::Body> {
        self.into_response(req)
    }
}

/// The configuration for `req`, or the fail-closed error saying what to add.
pub(crate) fn config_for(req: &HttpRequest) -> Result<&SendFileConfig, SendFileError> {
    SendFileConfig::from_req(req).ok_or_else(|| {
        SendFileError::from(ConfigError::new(
            "SendFileConfig",
            format!(
                "no SendFileConfig for {} {}; add .app_data(SendFileConfig::new(Backend::...).root(...)) to the App, scope or resource (nothing is served without one)",
                req.method(),
                req.path()
            ),
        ))
    })
}

fn warn_development_once() {
    static WARNED: Once = Once::new();
    WARNED.call_once(|| {
        log::warn!(
            "sendfile: the development backend serves files from the application; it is not for production (use simple, or an offload backend)"
        );
    });
}

/// The conditional and range headers of a request, several lines of one field joined.
struct RequestFields {
    values: [Option<String>; 6],
}

const FIELDS: [&str; 6] = [
    "if-match",
    "if-unmodified-since",
    "if-none-match",
    "if-modified-since",
    "if-range",
    "range",
];

impl RequestFields {
    fn read(req: &HttpRequest) -> Self {
        let values = FIELDS.map(|name| {
            let mut joined: Option<String> = None;
            for value in req.headers().get_all(name) {
                // Not visible ASCII: decoded lossily rather than dropped, so that a garbled
                // If-Match still fails (412) instead of being skipped.
                let text = String::from_utf8_lossy(value.as_bytes());
                let text = text.as_ref();
                match joined.as_mut() {
                    Some(j) => {
                        j.push_str(", ");
                        j.push_str(text);
                    }
                    None => joined = Some(text.to_owned()),
                }
            }
            joined
        });
        RequestFields { values }
    }

    fn as_request(&self, method: &HttpMethod) -> Request<'_> {
        let method = match *method {
            HttpMethod::GET => Method::Get,
            HttpMethod::HEAD => Method::Head,
            _ => Method::Other,
        };
        let [
            if_match,
            if_unmodified_since,
            if_none_match,
            if_modified_since,
            if_range,
            range,
        ] = self.values.each_ref().map(Option::as_deref);
        Request {
            method,
            if_match,
            if_unmodified_since,
            if_none_match,
            if_modified_since,
            if_range,
            range,
        }
    }
}

/// Translates a plan into an actix-web response.
fn plan_to_response(plan: Plan) -> HttpResponse<BoxBody> {
    let status = StatusCode::from_u16(plan.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut res = HttpResponse::with_body(status, BoxBody::new(()));
    let mut content_length = None;
    for h in &plan.headers {
        if h.name.eq_ignore_ascii_case("content-length") {
            content_length = h.value_str().and_then(|v| v.parse::<u64>().ok());
            continue;
        }
        // The core checked every value; a failure here is a bug, answered as a 500.
        let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(h.name.as_bytes()),
            HeaderValue::from_bytes(&h.value),
        ) else {
            let err = SendFileError::from(sendfile_core::Error::InvalidHeader {
                name: h.name.to_string(),
                reason: "not a valid header".into(),
            });
            err.log();
            return HttpResponse::from_error(err);
        };
        res.headers_mut().append(name, value);
    }
    match plan.body {
        Body::File {
            file,
            segments,
            len,
        } => res.set_body(BoxBody::new(SizedStream::new(
            len,
            FileStream::new(file, segments),
        ))),
        Body::Empty => match content_length {
            // HEAD: the length of what GET would send, and no body.
            Some(len) if len > 0 => res.set_body(BoxBody::new(SizedStream::new(len, EmptyStream))),
            _ => res,
        },
    }
}

/// A stream that ends at once: the body of a HEAD response, whose length is announced but
/// never sent.
struct EmptyStream;

impl futures_core::Stream for EmptyStream {
    type Item = Result<bytes::Bytes, actix_web::Error>;

    fn poll_next(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        std::task::Poll::Ready(None)
    }
}
