//! `SendFile`: the responder.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use actix_web::body::{BoxBody, SizedStream};
use actix_web::http::header::{self, ContentEncoding, HeaderName, HeaderValue};
use actix_web::http::{Method as HttpMethod, StatusCode};
use actix_web::mime::Mime;
use actix_web::{HttpRequest, HttpResponse, Responder};
use sendfile_core::StreamPermit;
use sendfile_core::engine::{Method, Request};
use sendfile_core::nginx::NginxOptions;
use sendfile_core::{
    Backend, Body, ContentCoding, DispositionType, FileRequest, Plan, ResolvedFile,
};

use crate::body::{FileStream, StreamLimits};
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
/// let config = SendFileConfig::builder(Backend::Nginx).root(dir.path()).url("/protected").build().unwrap();
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
}

impl SendFile {
    /// The file at `path`: relative to the configured root, or absolute inside it. With a
    /// bucket ([`SendFileConfigBuilder::object_store`](crate::SendFileConfigBuilder::object_store)), the object's key below the prefix.
    ///
    /// ```
    /// use sendfile_actix::SendFile;
    ///
    /// let file = SendFile::new("reports/q3.pdf");
    /// assert_eq!(file.path(), std::path::Path::new("reports/q3.pdf"));
    /// ```
    pub fn new(path: impl Into<PathBuf>) -> Self {
        SendFile {
            request: FileRequest::new(path),
        }
    }

    /// Asks the browser to save the file (`Content-Disposition: attachment`).
    ///
    /// ```
    /// use sendfile_actix::SendFile;
    ///
    /// let file = SendFile::new("reports/q3.pdf").attachment();
    /// # drop(file);
    /// ```
    pub fn attachment(mut self) -> Self {
        self.request.disposition = DispositionType::Attachment;
        self
    }

    /// Asks the browser to show the file when it can (`Content-Disposition: inline`, the
    /// default).
    ///
    /// ```
    /// use sendfile_actix::SendFile;
    ///
    /// let file = SendFile::new("photos/cat.jpg").inline();
    /// # drop(file);
    /// ```
    pub fn inline(mut self) -> Self {
        self.request.disposition = DispositionType::Inline;
        self
    }

    /// The name the browser shows or saves (default: the name of the file sent, symlinks
    /// resolved, as the permission check saw it). Any text works: an ASCII fallback and the
    /// exact UTF-8 name are both sent.
    ///
    /// ```
    /// use sendfile_actix::SendFile;
    ///
    /// let file = SendFile::new("exports/7f3a9c.csv").attachment().filename("Ventes été.csv");
    /// # drop(file);
    /// ```
    pub fn filename(mut self, name: impl Into<String>) -> Self {
        self.request.filename = Some(name.into());
        self
    }

    /// The Content-Type (default: guessed from the name, `application/octet-stream` when
    /// unknown). actix-web re-exports the `mime` crate as `actix_web::mime`; an actix-web
    /// `ContentType(mime)` header gives its `Mime` as `.0`.
    ///
    /// ```
    /// use actix_web::mime;
    /// use sendfile_actix::SendFile;
    ///
    /// let file = SendFile::new("export.data").content_type(mime::TEXT_CSV_UTF_8);
    /// let other = SendFile::new("export.data").content_type("text/csv".parse().unwrap());
    /// # drop((file, other));
    /// ```
    pub fn content_type(mut self, content_type: Mime) -> Self {
        self.request.content_type = Some(content_type);
        self
    }

    /// The Content-Encoding of the stored bytes (never guessed from the extension):
    /// `ContentEncoding::Identity`, the default, sends none. Sent by the in-process backends
    /// only: an offload response never carries one, since the front server sends the raw file.
    ///
    /// ```
    /// use actix_web::http::header::ContentEncoding;
    /// use sendfile_actix::SendFile;
    ///
    /// let file = SendFile::new("logs/today.log.gz")
    ///     .content_type("text/plain".parse().unwrap())
    ///     .content_encoding(ContentEncoding::Gzip);
    /// # drop(file);
    /// ```
    pub fn content_encoding(mut self, encoding: ContentEncoding) -> Self {
        self.request.content_encoding = match encoding {
            ContentEncoding::Identity => None,
            ContentEncoding::Gzip => Some(ContentCoding::Gzip),
            ContentEncoding::Deflate => Some(ContentCoding::Deflate),
            ContentEncoding::Brotli => Some(ContentCoding::Brotli),
            ContentEncoding::Zstd => Some(ContentCoding::Zstd),
            // A coding added to actix-web later: by its token.
            other => ContentCoding::from_token(other.as_str()),
        };
        self
    }

    /// Marks this file as content the application controls: it is sent with the disposition
    /// asked for (HTML and SVG inline too) and without the sandbox
    /// ([`ContentPolicy::Trusted`](crate::ContentPolicy::Trusted); `X-Content-Type-Options:
    /// nosniff` is still sent). By default active content is an attachment, whatever
    /// [`inline`](Self::inline) says, and every file response carries a sandbox.
    ///
    /// Right for pages the application generated itself (a report it rendered, documentation
    /// it ships); never for a file a user uploaded or a third party supplied, which would run
    /// its scripts on the application's origin with the visitor's session. See the [content
    /// policy](crate::policy).
    ///
    /// ```
    /// use sendfile_actix::SendFile;
    ///
    /// let file = SendFile::new("reports/q3.html").inline().trusted();
    /// # drop(file);
    /// ```
    pub fn trusted(mut self) -> Self {
        self.request.content_policy = Some(sendfile_core::ContentPolicy::Trusted);
        self
    }

    /// The Cache-Control of this file's responses (default `private`: a shared cache never
    /// gives one user's file to another; `no-store` with the `development` backend). A file
    /// everyone may have can opt in to shared caching, e.g. `public, max-age=86400`. A value
    /// that is not a valid header value makes the response a 500, logged.
    ///
    /// ```
    /// use sendfile_actix::SendFile;
    ///
    /// let logo = SendFile::new("public/logo.png").cache_control("public, max-age=86400");
    /// # drop(logo);
    /// ```
    pub fn cache_control(mut self, value: impl Into<String>) -> Self {
        self.request.cache_control = Some(value.into());
        self
    }

    /// Uses `backend` for this response instead of the configured one.
    ///
    /// ```
    /// use sendfile_actix::{Backend, SendFile};
    ///
    /// // Served by the application even where the configuration offloads.
    /// let file = SendFile::new("small/icon.png").backend(Backend::Simple);
    /// # drop(file);
    /// ```
    pub fn backend(mut self, backend: Backend) -> Self {
        self.request.backend = Some(backend);
        self
    }

    /// nginx only: the `X-Accel-*` extras (speed limit, buffering, charset, nginx's cache
    /// expiry). Every other backend ignores them.
    ///
    /// ```
    /// use sendfile_actix::SendFile;
    /// use sendfile_actix::nginx::{LimitRate, NginxOptions};
    ///
    /// let file = SendFile::new("videos/intro.mp4").nginx(
    ///     NginxOptions::new()
    ///         .limit_rate(LimitRate::BytesPerSecond(500_000))
    ///         .buffering(false),
    /// );
    /// # drop(file);
    /// ```
    pub fn nginx(mut self, options: NginxOptions) -> Self {
        self.request.nginx = options;
        self
    }

    /// The path as given to [`new`](Self::new).
    ///
    /// ```
    /// use sendfile_actix::SendFile;
    ///
    /// assert_eq!(SendFile::new("a/b.txt").path(), std::path::Path::new("a/b.txt"));
    /// ```
    pub fn path(&self) -> &Path {
        &self.request.path
    }

    /// Finds the file inside the root, as the configuration for `req` says, so that a
    /// permission check can look at the file that will be served.
    ///
    /// The path is confined and its symlinks are resolved now: a link inside the root such as
    /// `public/link -> ../users/alice/notes.txt` resolves to `users/alice/notes.txt`, so a check
    /// on [`ResolvedSendFile::relative_path`] sees Alice's file, not the link's name. The
    /// returned value sends exactly that file (with the in-process backends, the very
    /// descriptor that was checked).
    ///
    /// A file that cannot be served (missing, outside the root, a directory...) is an error
    /// whose response is the one [`SendFile`] itself would give (404, or 500/503 for a
    /// configuration problem); the reason is logged here, and `?` returns it from the handler.
    ///
    /// ```
    /// use actix_web::{App, HttpRequest, get, test, web};
    /// use sendfile_actix::{Backend, ResolvedSendFile, SendFile, SendFileConfig, SendFileError};
    ///
    /// /// What the application stores: who may read which file, by its path below the root.
    /// fn may_read(user: &str, file: &str) -> bool {
    ///     file.starts_with("public/") || file.starts_with(&format!("users/{user}/"))
    /// }
    ///
    /// #[get("/files/{user}/{path:.*}")]
    /// async fn download(
    ///     req: HttpRequest,
    ///     params: web::Path<(String, String)>,
    /// ) -> Result<ResolvedSendFile, actix_web::Error> {
    ///     let (user, path) = params.into_inner();
    ///     let file = SendFile::new(path).attachment().resolve(&req)?;
    ///     let relative = file.relative_path().to_str().unwrap_or_default();
    ///     if !may_read(&user, relative) {
    ///         return Err(SendFileError::denied_for(&req).into());
    ///     }
    ///     Ok(file)
    /// }
    ///
    /// # actix_web::rt::System::new().block_on(async {
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let root = dir.path();
    /// # std::fs::create_dir_all(root.join("users/alice")).unwrap();
    /// # std::fs::create_dir_all(root.join("public")).unwrap();
    /// # std::fs::write(root.join("users/alice/notes.txt"), b"alice").unwrap();
    /// # std::fs::write(root.join("public/readme.txt"), b"hello").unwrap();
    /// # std::os::unix::fs::symlink("../users/alice/notes.txt", root.join("public/link")).unwrap();
    /// let config = SendFileConfig::builder(Backend::Simple).root(root).build().unwrap();
    /// let app = test::init_service(App::new().app_data(config).service(download)).await;
    /// let get = |uri| test::TestRequest::get().uri(uri).to_request();
    ///
    /// let res = test::call_service(&app, get("/files/bob/public/readme.txt")).await;
    /// assert_eq!(res.status(), 200);
    /// // The link is checked as the file it leads to: Alice's.
    /// let res = test::call_service(&app, get("/files/bob/public/link")).await;
    /// assert_eq!(res.status(), 403);
    /// let res = test::call_service(&app, get("/files/alice/public/link")).await;
    /// assert_eq!(res.status(), 200);
    /// # });
    /// ```
    pub fn resolve(self, req: &HttpRequest) -> Result<ResolvedSendFile, SendFileError> {
        let config = SendFileConfig::from_req(req).inspect_err(SendFileError::log)?;
        match sendfile_core::resolve(config.core(), &self.request) {
            Ok(file) => Ok(ResolvedSendFile {
                request: self.request,
                file,
            }),
            Err(err) => {
                let err = SendFileError::from(err);
                err.log();
                Err(config.render(err, req))
            }
        }
    }

    /// Builds the response for `req`, as the [`Responder`] implementation does.
    ///
    /// ```
    /// use actix_web::test;
    /// use sendfile_actix::{Backend, SendFile, SendFileConfig};
    ///
    /// # let dir = tempfile::tempdir().unwrap();
    /// # std::fs::write(dir.path().join("a.txt"), b"a").unwrap();
    /// let config = SendFileConfig::builder(Backend::Nginx).root(dir.path()).url("/protected").build().unwrap();
    /// let req = test::TestRequest::default().app_data(config).to_http_request();
    /// let res = SendFile::new("a.txt").into_response(&req);
    /// assert_eq!(res.headers().get("x-accel-redirect").unwrap(), "/protected/a.txt");
    /// ```
    pub fn into_response(self, req: &HttpRequest) -> HttpResponse<BoxBody> {
        respond(req, &self.request, None)
    }
}

impl Responder for SendFile {
    type Body = BoxBody;

    fn respond_to(self, req: &HttpRequest) -> HttpResponse<Self::Body> {
        self.into_response(req)
    }
}

/// `SendFile::new(path)`: a handler can return `path.into()`.
///
/// ```
/// use std::path::PathBuf;
/// use sendfile_actix::SendFile;
///
/// let file: SendFile = PathBuf::from("reports/q3.pdf").into();
/// assert_eq!(file.path(), std::path::Path::new("reports/q3.pdf"));
/// ```
impl From<PathBuf> for SendFile {
    fn from(path: PathBuf) -> Self {
        SendFile::new(path)
    }
}

/// `SendFile::new(path)`.
///
/// ```
/// use std::path::Path;
/// use sendfile_actix::SendFile;
///
/// let file = SendFile::from(Path::new("reports/q3.pdf"));
/// # drop(file);
/// ```
impl From<&Path> for SendFile {
    fn from(path: &Path) -> Self {
        SendFile::new(path)
    }
}

/// `SendFile::new(path)`.
///
/// ```
/// use sendfile_actix::SendFile;
///
/// let file = SendFile::from(format!("reports/{}.pdf", "q3"));
/// # drop(file);
/// ```
impl From<String> for SendFile {
    fn from(path: String) -> Self {
        SendFile::new(path)
    }
}

/// `SendFile::new(path)`.
///
/// ```
/// use sendfile_actix::SendFile;
///
/// let file = SendFile::from("reports/q3.pdf");
/// # drop(file);
/// ```
impl From<&str> for SendFile {
    fn from(path: &str) -> Self {
        SendFile::new(path)
    }
}

/// A [`SendFile`] whose file was found inside the root: what a permission check looks at, and
/// exactly what is sent. Made by [`SendFile::resolve`].
///
/// As a [`Responder`] it sends the file that was resolved: the offload backends name its real
/// location (symlinks resolved), and the in-process backends stream from the descriptor opened
/// when it was resolved, so renaming or replacing files afterwards changes nothing.
///
/// ```
/// use actix_web::test;
/// use sendfile_actix::{Backend, SendFile, SendFileConfig};
///
/// # let dir = tempfile::tempdir().unwrap();
/// # let root = dir.path().canonicalize().unwrap();
/// # std::fs::create_dir_all(root.join("users/alice")).unwrap();
/// # std::fs::create_dir_all(root.join("public")).unwrap();
/// # std::fs::write(root.join("users/alice/notes.txt"), b"alice").unwrap();
/// # std::os::unix::fs::symlink("../users/alice/notes.txt", root.join("public/link")).unwrap();
/// let config = SendFileConfig::builder(Backend::Simple).root(&root).build().unwrap();
/// let req = test::TestRequest::default().app_data(config).to_http_request();
/// let file = SendFile::new("public/link").resolve(&req).unwrap();
/// assert_eq!(file.relative_path(), std::path::Path::new("users/alice/notes.txt"));
/// ```
#[derive(Debug)]
#[must_use = "a ResolvedSendFile does nothing unless returned from a handler"]
pub struct ResolvedSendFile {
    request: FileRequest,
    file: ResolvedFile,
}

impl ResolvedSendFile {
    /// The file's location below the root, symlinks resolved: `users/alice/notes.txt` for a
    /// request of `public/link` when `public/link -> ../users/alice/notes.txt`. This is the
    /// path an application stores (in a database, say) and checks permissions on. It is
    /// relative, never empty, and has only normal components (no `.`, `..` or root).
    ///
    /// ```
    /// use actix_web::test;
    /// use sendfile_actix::{Backend, SendFile, SendFileConfig};
    ///
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let root = dir.path().canonicalize().unwrap();
    /// # std::fs::create_dir_all(root.join("users/alice")).unwrap();
    /// # std::fs::create_dir_all(root.join("public")).unwrap();
    /// # std::fs::write(root.join("users/alice/notes.txt"), b"alice").unwrap();
    /// # std::os::unix::fs::symlink("../users/alice/notes.txt", root.join("public/link")).unwrap();
    /// let config = SendFileConfig::builder(Backend::Simple).root(&root).build().unwrap();
    /// let req = test::TestRequest::default().app_data(config).to_http_request();
    /// let file = SendFile::new("public/link").resolve(&req).unwrap();
    /// assert_eq!(file.relative_path(), std::path::Path::new("users/alice/notes.txt"));
    /// ```
    pub fn relative_path(&self) -> &Path {
        self.file.relative_path()
    }

    /// The file's absolute path: the configured root joined with
    /// [`relative_path`](Self::relative_path). With a bucket
    /// ([`SendFileConfigBuilder::object_store`](crate::SendFileConfigBuilder::object_store)), `relative_path` is the key below the prefix and
    /// this is the full key, prefix included.
    ///
    /// ```
    /// use actix_web::test;
    /// use sendfile_actix::{Backend, SendFile, SendFileConfig};
    ///
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let root = dir.path().canonicalize().unwrap();
    /// # std::fs::create_dir_all(root.join("users/alice")).unwrap();
    /// # std::fs::create_dir_all(root.join("public")).unwrap();
    /// # std::fs::write(root.join("users/alice/notes.txt"), b"alice").unwrap();
    /// # std::os::unix::fs::symlink("../users/alice/notes.txt", root.join("public/link")).unwrap();
    /// let config = SendFileConfig::builder(Backend::Simple).root(&root).build().unwrap();
    /// let req = test::TestRequest::default().app_data(config).to_http_request();
    /// let file = SendFile::new("public/link").resolve(&req).unwrap();
    /// assert_eq!(file.path(), root.join("users/alice/notes.txt"));
    /// ```
    pub fn path(&self) -> &Path {
        self.file.path()
    }

    /// The path as given to [`SendFile::new`].
    ///
    /// ```
    /// use actix_web::test;
    /// use sendfile_actix::{Backend, SendFile, SendFileConfig};
    ///
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let root = dir.path().canonicalize().unwrap();
    /// # std::fs::create_dir_all(root.join("users/alice")).unwrap();
    /// # std::fs::create_dir_all(root.join("public")).unwrap();
    /// # std::fs::write(root.join("users/alice/notes.txt"), b"alice").unwrap();
    /// # std::os::unix::fs::symlink("../users/alice/notes.txt", root.join("public/link")).unwrap();
    /// let config = SendFileConfig::builder(Backend::Simple).root(&root).build().unwrap();
    /// let req = test::TestRequest::default().app_data(config).to_http_request();
    /// let file = SendFile::new("public/link").resolve(&req).unwrap();
    /// assert_eq!(file.requested_path(), std::path::Path::new("public/link"));
    /// ```
    pub fn requested_path(&self) -> &Path {
        &self.request.path
    }

    /// The file's size in bytes, when it was looked at (always, unless an offload backend runs
    /// with `check_file_exists(false)` and the file is missing locally, or the file is an
    /// object in a bucket, which the library never asks the store about).
    ///
    /// ```
    /// use actix_web::test;
    /// use sendfile_actix::{Backend, SendFile, SendFileConfig};
    ///
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let root = dir.path().canonicalize().unwrap();
    /// # std::fs::create_dir_all(root.join("users/alice")).unwrap();
    /// # std::fs::create_dir_all(root.join("public")).unwrap();
    /// # std::fs::write(root.join("users/alice/notes.txt"), b"alice").unwrap();
    /// # std::os::unix::fs::symlink("../users/alice/notes.txt", root.join("public/link")).unwrap();
    /// let config = SendFileConfig::builder(Backend::Simple).root(&root).build().unwrap();
    /// let req = test::TestRequest::default().app_data(config).to_http_request();
    /// let file = SendFile::new("public/link").resolve(&req).unwrap();
    /// assert_eq!(file.len(), Some(5));
    /// ```
    pub fn len(&self) -> Option<u64> {
        self.file.metadata().map(|m| m.len)
    }

    /// Whether the file is known to be empty.
    ///
    /// ```
    /// use actix_web::test;
    /// use sendfile_actix::{Backend, SendFile, SendFileConfig};
    ///
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let root = dir.path().canonicalize().unwrap();
    /// # std::fs::create_dir_all(root.join("users/alice")).unwrap();
    /// # std::fs::create_dir_all(root.join("public")).unwrap();
    /// # std::fs::write(root.join("users/alice/notes.txt"), b"alice").unwrap();
    /// # std::os::unix::fs::symlink("../users/alice/notes.txt", root.join("public/link")).unwrap();
    /// let config = SendFileConfig::builder(Backend::Simple).root(&root).build().unwrap();
    /// let req = test::TestRequest::default().app_data(config).to_http_request();
    /// let file = SendFile::new("public/link").resolve(&req).unwrap();
    /// assert!(!file.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == Some(0)
    }

    /// Builds the response for `req`, as the [`Responder`] implementation does.
    ///
    /// ```
    /// use actix_web::test;
    /// use sendfile_actix::{Backend, SendFile, SendFileConfig};
    ///
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let root = dir.path().canonicalize().unwrap();
    /// # std::fs::create_dir_all(root.join("users/alice")).unwrap();
    /// # std::fs::create_dir_all(root.join("public")).unwrap();
    /// # std::fs::write(root.join("users/alice/notes.txt"), b"alice").unwrap();
    /// # std::os::unix::fs::symlink("../users/alice/notes.txt", root.join("public/link")).unwrap();
    /// let config = SendFileConfig::builder(Backend::Simple).root(&root).build().unwrap();
    /// let req = test::TestRequest::default().app_data(config).to_http_request();
    /// let file = SendFile::new("public/link").resolve(&req).unwrap();
    /// let res = file.into_response(&req);
    /// assert_eq!(res.status(), 200);
    /// ```
    pub fn into_response(self, req: &HttpRequest) -> HttpResponse<BoxBody> {
        respond(req, &self.request, Some(self.file))
    }
}

impl Responder for ResolvedSendFile {
    type Body = BoxBody;

    fn respond_to(self, req: &HttpRequest) -> HttpResponse<Self::Body> {
        self.into_response(req)
    }
}

/// The response for `request`: from the file already resolved, or resolving it now.
fn respond(
    req: &HttpRequest,
    request: &FileRequest,
    file: Option<ResolvedFile>,
) -> HttpResponse<BoxBody> {
    match plan(req, request, file) {
        Ok((plan, config, permit)) => plan_to_response(plan, || StreamLimits {
            send_timeout: config.core().send_timeout_duration(),
            // For the log line of a send timeout, as nginx writes it.
            request: permit.as_ref().map(|_| {
                let peer = req
                    .peer_addr()
                    .map_or_else(|| "unknown".to_owned(), |a| a.to_string());
                format!("client: {peer}, request: \"GET {}\"", req.path())
            }),
            conn: req
                .conn_data::<crate::limits::ConnProgress>()
                .map(|c| std::rc::Rc::clone(&c.0)),
            permit,
        }),
        Err(err) => err.into_response_for(req),
    }
}

fn plan<'r>(
    req: &'r HttpRequest,
    request: &FileRequest,
    file: Option<ResolvedFile>,
) -> Result<(Plan, &'r SendFileConfig, Option<StreamPermit>), SendFileError> {
    let config = SendFileConfig::from_req(req)?;
    let backend = sendfile_core::effective_backend(config.core(), request);
    if let Some(warning) = backend.rules().and_then(|r| r.warning) {
        warn_once(warning);
    }
    let method = match *req.method() {
        HttpMethod::GET => Method::Get,
        HttpMethod::HEAD => Method::Head,
        _ => Method::Other,
    };
    let in_process = backend.is_in_process();
    // A place under SENDFILE_MAX_STREAMS, taken before the file is opened; given back at once
    // when the answer has no body (HEAD, 304, 412...).
    let permit = if in_process && method == Method::Get {
        Some(config.core().acquire_stream()?)
    } else {
        None
    };
    // Only the in-process backends answer conditional and range requests: the offload
    // backends leave them to the front server, so their headers are not even read.
    let fields;
    let http = if in_process {
        fields = RequestFields::read(req);
        fields.as_request(method)
    } else {
        Request::new(method)
    };
    let plan = match file {
        Some(file) => sendfile_core::plan_resolved(config.core(), request, file, &http),
        None => sendfile_core::plan(config.core(), request, &http),
    }?;
    Ok((plan, config, permit))
}

/// Logs a backend's warning once per process.
fn warn_once(warning: &'static str) {
    static WARNED: Mutex<Vec<&'static str>> = Mutex::new(Vec::new());
    let mut warned = WARNED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if !warned.contains(&warning) {
        warned.push(warning);
        log::warn!("sendfile: {warning}");
    }
}

/// The conditional and range headers of a request, several lines of one field joined.
struct RequestFields {
    values: [Option<String>; 6],
}

const FIELDS: [HeaderName; 6] = [
    header::IF_MATCH,
    header::IF_UNMODIFIED_SINCE,
    header::IF_NONE_MATCH,
    header::IF_MODIFIED_SINCE,
    header::IF_RANGE,
    header::RANGE,
];

impl RequestFields {
    fn read(req: &HttpRequest) -> Self {
        let values = FIELDS.each_ref().map(|name| {
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

    fn as_request(&self, method: Method) -> Request<'_> {
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

/// The names the core sends, as actix's constants: no name is parsed on the usual paths.
fn header_name(name: &str) -> Option<HeaderName> {
    const X_ACCEL_REDIRECT: HeaderName = HeaderName::from_static("x-accel-redirect");
    const X_SENDFILE: HeaderName = HeaderName::from_static("x-sendfile");
    const NOSNIFF: HeaderName = HeaderName::from_static("x-content-type-options");
    Some(match name {
        "Content-Type" => header::CONTENT_TYPE,
        "Content-Disposition" => header::CONTENT_DISPOSITION,
        "X-Accel-Redirect" => X_ACCEL_REDIRECT,
        "X-Sendfile" => X_SENDFILE,
        "Location" => header::LOCATION,
        "Cache-Control" => header::CACHE_CONTROL,
        "X-Content-Type-Options" => NOSNIFF,
        "Content-Security-Policy" => header::CONTENT_SECURITY_POLICY,
        "Accept-Ranges" => header::ACCEPT_RANGES,
        "ETag" => header::ETAG,
        "Last-Modified" => header::LAST_MODIFIED,
        "Content-Range" => header::CONTENT_RANGE,
        "Content-Encoding" => header::CONTENT_ENCODING,
        other => return HeaderName::from_bytes(other.as_bytes()).ok(),
    })
}

/// Translates a plan into an actix-web response; `limits` is asked for only when a file is
/// streamed.
fn plan_to_response(plan: Plan, limits: impl FnOnce() -> StreamLimits) -> HttpResponse<BoxBody> {
    let status = StatusCode::from_u16(plan.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut res = HttpResponse::with_body(status, BoxBody::new(()));
    let headers = res.headers_mut();
    headers.reserve(plan.headers.len());
    for h in plan.headers {
        // The core checked every value; a failure here is a bug, answered as a 500.
        let (Some(name), Ok(value)) = (
            header_name(&h.name),
            HeaderValue::from_maybe_shared(h.value.into_bytes()),
        ) else {
            let err = SendFileError::from(sendfile_core::Error::InvalidHeader {
                name: h.name.to_string(),
                reason: "not a valid header".into(),
            });
            err.log();
            return HttpResponse::from_error(err);
        };
        // The length is the body's: actix-web announces it.
        if name != header::CONTENT_LENGTH {
            headers.append(name, value);
        }
    }
    match plan.body {
        Body::File {
            file,
            segments,
            len,
        } => res.set_body(BoxBody::new(SizedStream::new(
            len,
            FileStream::new(file, segments, limits()),
        ))),
        // HEAD: the length of what GET would send, and no body.
        Body::Head { len } if len > 0 => {
            res.set_body(BoxBody::new(SizedStream::new(len, EmptyStream)))
        }
        Body::Head { .. } | Body::Empty => res,
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
