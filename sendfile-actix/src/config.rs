//! `SendFileConfig`: the configuration as actix-web app data.

use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, web};
use sendfile_core::engine::RangeLimits;
use sendfile_core::{Backend, Config, ConfigError};

use crate::denied::DeniedStatus;
use crate::error::SendFileError;

/// The configuration: backend, root, URL prefix. Register it as app data.
///
/// Register it with `.app_data(config)` (it is cheap to clone: clones share the opened root)
/// or as `web::Data<SendFileConfig>`. The nearest App, scope or resource wins, so parts of an
/// application can have their own root and backend. Without one, a [`SendFile`] answers 500
/// and logs what to add: nothing is ever served by default.
///
/// actix-web finds app data by type, and cannot tell which of two types was registered
/// nearer. So when a request sees both forms, registered at different levels with different
/// configurations, the request fails closed (500, logged with the fix) instead of guessing: a
/// scope meant to serve a narrower root must never serve the App's wider one. Use one form
/// throughout (the plain `.app_data(config)` is the simplest).
///
/// ```
/// use actix_web::{App, web};
/// use sendfile_actix::{Backend, SendFileConfig};
///
/// # let dir = tempfile::tempdir().unwrap();
/// # let root = dir.path();
/// let config = SendFileConfig::new(Backend::Nginx).root(root).url("/protected");
/// config.validate().expect("sendfile configuration");   // at start-up, not at the first request
///
/// let app = App::new()
///     .app_data(web::Data::new(config.clone()))                   // `.app_data(config)` works too
///     .service(
///         web::scope("/public")                                  // the nearest configuration wins
///             .app_data(SendFileConfig::new(Backend::Simple).root(root)),
///     );
/// ```
///
/// [`SendFile`]: crate::SendFile
#[derive(Debug, Clone)]
pub struct SendFileConfig {
    inner: Config,
    denied: DeniedStatus,
    error_handler: Option<ErrorHandler>,
}

/// The application's error pages: see [`SendFileConfig::error_handler`].
type ErrorHandlerFn = dyn Fn(&SendFileError, &HttpRequest) -> HttpResponse + Send + Sync;

#[derive(Clone)]
struct ErrorHandler(Arc<ErrorHandlerFn>);

impl fmt::Debug for ErrorHandler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ErrorHandler(..)")
    }
}

impl SendFileConfig {
    /// A configuration for `backend`; set at least [`root`](Self::root).
    ///
    /// ```
    /// use sendfile_actix::{Backend, SendFileConfig};
    ///
    /// let config = SendFileConfig::new(Backend::XSendfile).root("/srv/files");
    /// assert_eq!(config.backend(), &Backend::XSendfile);
    /// ```
    pub fn new(backend: Backend) -> Self {
        SendFileConfig::from(Config::new(backend))
    }

    /// The directory every file is served from (`SENDFILE_ROOT`). Required.
    ///
    /// ```
    /// use sendfile_actix::{Backend, SendFileConfig};
    ///
    /// # let dir = tempfile::tempdir().unwrap();
    /// let config = SendFileConfig::new(Backend::Simple).root(dir.path());
    /// config.validate().unwrap();
    /// assert!(SendFileConfig::new(Backend::Simple).validate().is_err());   // no root
    /// ```
    #[must_use]
    pub fn root(self, root: impl AsRef<Path>) -> Self {
        SendFileConfig {
            inner: self.inner.root(root),
            ..self
        }
    }

    /// The front server's internal URL prefix (`SENDFILE_URL`), required by the `nginx`,
    /// `mod_wsgi` and `caddy` backends.
    ///
    /// ```
    /// use sendfile_actix::{Backend, SendFileConfig};
    ///
    /// # let dir = tempfile::tempdir().unwrap();
    /// let config = SendFileConfig::new(Backend::Nginx).root(dir.path());
    /// assert_eq!(config.validate().unwrap_err().setting, "SENDFILE_URL");
    /// config.url("/protected").validate().unwrap();
    /// ```
    #[must_use]
    pub fn url(self, url: impl AsRef<str>) -> Self {
        SendFileConfig {
            inner: self.inner.url(url),
            ..self
        }
    }

    /// Whether offload backends check that the file exists (`SENDFILE_CHECK_FILE_EXISTS`,
    /// default true). With false a file that only the front server has can be named (nginx
    /// proxying to object storage, say); confinement is then lexical, and what exists
    /// of the path locally must not lead out of the root through a symlink.
    ///
    /// ```
    /// use sendfile_actix::{Backend, SendFileConfig};
    ///
    /// let config = SendFileConfig::new(Backend::Nginx)
    ///     .root("/srv/files")
    ///     .url("/protected")
    ///     .check_file_exists(false);
    /// # drop(config);
    /// ```
    #[must_use]
    pub fn check_file_exists(self, check: bool) -> Self {
        SendFileConfig {
            inner: self.inner.check_file_exists(check),
            ..self
        }
    }

    /// The status of a download denied by a permission check (`#[protected_file]`,
    /// [`SendFileError::denied_for`], the [`Files`](crate::Files) service): default 403
    /// Forbidden; 404 Not Found hides that the file exists.
    ///
    /// ```
    /// use sendfile_actix::{Backend, DeniedStatus, SendFileConfig};
    ///
    /// let config = SendFileConfig::new(Backend::Simple)
    ///     .root("/srv/files")
    ///     .denied_status(DeniedStatus::NOT_FOUND);
    /// assert_eq!(config.denied(), DeniedStatus::NOT_FOUND);
    /// ```
    #[must_use]
    pub fn denied_status(self, status: DeniedStatus) -> Self {
        SendFileConfig {
            denied: status,
            ..self
        }
    }

    /// Renders the errors of downloads with the application's own pages: `handler` gets each
    /// error (denied, not found, overloaded, ...) with its request, and returns the response
    /// (like actix-web's `JsonConfig::error_handler`). It applies to every response the
    /// library builds for a request this configuration serves: the [`SendFile`] and
    /// [`ResolvedSendFile`] responders, `#[protected_file]`, [`Files`](crate::Files), and the
    /// errors of [`SendFile::resolve`] and [`SendFileError::denied_for`].
    ///
    /// The error is logged before the handler is called, as without one; call
    /// [`SendFileError::default_response`] for the errors the handler leaves alone. The
    /// response should not reveal more than the default one does (never a filesystem path:
    /// [`SendFileError`]'s `Display` text is for logs).
    ///
    /// ```
    /// use actix_web::{App, HttpResponse, test, web};
    /// use actix_web::http::StatusCode;
    /// use sendfile_actix::{Backend, SendFile, SendFileConfig};
    ///
    /// # actix_web::rt::System::new().block_on(async {
    /// # let dir = tempfile::tempdir().unwrap();
    /// let config = SendFileConfig::new(Backend::Simple)
    ///     .root(dir.path())
    ///     .error_handler(|err, _req| match err.status() {
    ///         StatusCode::NOT_FOUND => HttpResponse::NotFound()
    ///             .content_type("text/html; charset=utf-8")
    ///             .body("<h1>No such report</h1>"),
    ///         _ => err.default_response(),
    ///     });
    /// let app = test::init_service(App::new().app_data(config).route(
    ///     "/report",
    ///     web::get().to(|| async { SendFile::new("missing.pdf") }),
    /// )).await;
    /// let res = test::call_service(&app, test::TestRequest::get().uri("/report").to_request()).await;
    /// assert_eq!(res.status(), 404);
    /// assert_eq!(test::read_body(res).await, "<h1>No such report</h1>");
    /// # });
    /// ```
    ///
    /// [`SendFile`]: crate::SendFile
    /// [`ResolvedSendFile`]: crate::ResolvedSendFile
    /// [`SendFile::resolve`]: crate::SendFile::resolve
    #[must_use]
    pub fn error_handler<F>(self, handler: F) -> Self
    where
        F: Fn(&SendFileError, &HttpRequest) -> HttpResponse + Send + Sync + 'static,
    {
        SendFileConfig {
            error_handler: Some(ErrorHandler(Arc::new(handler))),
            ..self
        }
    }

    /// Whether symlinks inside the root are followed (`SENDFILE_FOLLOW_SYMLINKS`, default true).
    ///
    /// Followed, a link inside the root is served as the file it leads to when that lies inside
    /// the root (a permission check on [`ResolvedSendFile::relative_path`] sees the target);
    /// a link that leads out is always refused. Set false when people who must not read every
    /// file can create files in the root (uploads, extracted archives): every path through a
    /// link below the root is then answered 404, so a planted link can never stand for another
    /// file. The root itself may still sit under a symlinked directory (a `current ->
    /// releases/N` deploy).
    ///
    /// [`ResolvedSendFile::relative_path`]: crate::ResolvedSendFile::relative_path
    ///
    /// ```
    /// use sendfile_actix::{Backend, SendFileConfig};
    ///
    /// // Users upload into the root: a link they plant must never stand for another file.
    /// let config = SendFileConfig::new(Backend::Simple)
    ///     .root("/srv/uploads")
    ///     .follow_symlinks(false);
    /// # drop(config);
    /// ```
    ///
    #[must_use]
    pub fn follow_symlinks(self, follow: bool) -> Self {
        SendFileConfig {
            inner: self.inner.follow_symlinks(follow),
            ..self
        }
    }

    /// Sends files from a bucket instead of a root (`SENDFILE_S3_*`): [`SendFile::new`] then
    /// takes a key below the store's prefix, and the `nginx` or `redirect` backend sends the
    /// object with a short-lived presigned URL. Do not set a root as well.
    ///
    /// ```
    /// use actix_web::{App, get, test};
    /// use sendfile_actix::s3::{S3Credentials, S3Presigner};
    /// use sendfile_actix::object::ObjectStore;
    /// use sendfile_actix::{Backend, SendFile, SendFileConfig};
    ///
    /// #[get("/report")]
    /// async fn report() -> SendFile {
    ///     SendFile::new("reports/q3.pdf").attachment()
    /// }
    ///
    /// # actix_web::rt::System::new().block_on(async {
    /// let s3 = S3Presigner::new(
    ///     "http://127.0.0.1:9000", "protected", "us-east-1",
    ///     S3Credentials::new("AKIDEXAMPLE", "example-secret"),
    /// ).unwrap();
    /// let config = SendFileConfig::new(Backend::Redirect)
    ///     .object_store(ObjectStore::new(s3).prefix("files/"));
    /// config.validate().unwrap();
    /// let app = test::init_service(App::new().app_data(config).service(report)).await;
    /// let res = test::call_service(&app, test::TestRequest::get().uri("/report").to_request()).await;
    /// assert_eq!(res.status(), 307);
    /// let location = res.headers().get("location").unwrap().to_str().unwrap();
    /// assert!(location.starts_with("http://127.0.0.1:9000/protected/files/reports/q3.pdf?"));
    /// assert_eq!(res.headers().get("cache-control").unwrap(), "private, no-store");
    /// # });
    /// ```
    ///
    /// [`SendFile::new`]: crate::SendFile::new
    #[must_use]
    pub fn object_store(self, store: sendfile_core::object::ObjectStore) -> Self {
        SendFileConfig {
            inner: self.inner.object_store(store),
            ..self
        }
    }

    /// Limits on multi-range requests served by the in-process backends.
    ///
    /// ```
    /// use sendfile_actix::{Backend, RangeLimits, SendFileConfig};
    ///
    /// let config = SendFileConfig::new(Backend::Simple)
    ///     .root("/srv/files")
    ///     .range_limits(RangeLimits::default());
    /// # drop(config);
    /// ```
    #[must_use]
    pub fn range_limits(self, limits: RangeLimits) -> Self {
        SendFileConfig {
            inner: self.inner.range_limits(limits),
            ..self
        }
    }

    /// `simple` and `development`: how long a download may go without the client taking data
    /// before it is ended (`SENDFILE_SEND_TIMEOUT`, default 60 s, like nginx's
    /// `send_timeout`).
    ///
    /// Progress is the client taking the next chunk of the file (16 to 128 KiB), so a slow but
    /// moving client is never cut off, while one that stopped reading loses its file, its place
    /// under [`max_streams`](Self::max_streams), and the connection (logged once, at info
    /// level). actix-web only polls a body while its write buffer has room, so to close the
    /// socket of a client that takes nothing at all, also give the same value to
    /// [`on_connect`](crate::on_connect).
    ///
    /// ```
    /// use std::time::Duration;
    /// use sendfile_actix::{Backend, SendFileConfig};
    /// # let dir = tempfile::tempdir().unwrap();
    /// let config = SendFileConfig::new(Backend::Simple)
    ///     .root(dir.path())
    ///     .send_timeout(Duration::from_secs(30));
    /// config.validate().unwrap();
    /// ```
    #[must_use]
    pub fn send_timeout(self, timeout: Duration) -> Self {
        SendFileConfig {
            inner: self.inner.send_timeout(timeout),
            ..self
        }
    }

    /// `simple` and `development`: at most `max` downloads streamed at once by this
    /// configuration and its clones (`SENDFILE_MAX_STREAMS`, default: no cap). Past it a
    /// download is answered `503 Service Unavailable` with `Retry-After: 1`, before its file is
    /// opened (logged at most once every 10 s). Keep it under the descriptor limit (each stream
    /// holds its file and its socket): a process that runs out of descriptors answers 503 as
    /// well, but accepts no new connection until some close.
    ///
    /// ```
    /// use sendfile_actix::{Backend, SendFileConfig};
    /// # let dir = tempfile::tempdir().unwrap();
    /// let config = SendFileConfig::new(Backend::Simple).root(dir.path()).max_streams(1000);
    /// config.validate().unwrap();
    /// ```
    #[must_use]
    pub fn max_streams(self, max: usize) -> Self {
        SendFileConfig {
            inner: self.inner.max_streams(max),
            ..self
        }
    }

    /// Reads `SENDFILE_BACKEND`, `SENDFILE_ROOT`, `SENDFILE_URL`, `SENDFILE_CHECK_FILE_EXISTS`,
    /// `SENDFILE_FOLLOW_SYMLINKS`, `SENDFILE_SEND_TIMEOUT` (seconds, or `500ms`, `2m`) and
    /// `SENDFILE_MAX_STREAMS` (and, for a bucket, `SENDFILE_S3_*` and the `AWS_*` credentials:
    /// see [`object_store`](Self::object_store)), and validates the result. The error names
    /// the setting at fault and the fix.
    ///
    /// ```no_run
    /// // SENDFILE_BACKEND=nginx SENDFILE_ROOT=/srv/files SENDFILE_URL=/protected
    /// let config = sendfile_actix::SendFileConfig::from_env().unwrap_or_else(|e| panic!("{e}"));
    /// # drop(config);
    /// ```
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(SendFileConfig::from(Config::from_env()?))
    }

    /// Like [`from_env`](Self::from_env), reading the settings through `lookup` (to supply
    /// defaults, or settings from a file).
    ///
    /// ```
    /// use sendfile_actix::SendFileConfig;
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let root = dir.path().to_str().unwrap().to_owned();
    /// let config = SendFileConfig::from_lookup(|name| match name {
    ///     "SENDFILE_BACKEND" => Some("xsendfile".into()),
    ///     "SENDFILE_ROOT" => Some(root.clone()),
    ///     _ => None,
    /// })
    /// .unwrap();
    /// assert_eq!(config.backend().to_string(), "xsendfile");
    /// ```
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        Ok(SendFileConfig::from(Config::from_lookup(lookup)?))
    }

    /// Checks everything (the root is an existing directory this process can search, and not
    /// `/`, `/proc`, `/sys` or `/dev`; the URL prefix is valid and present where the backend
    /// needs it). Call it at start-up.
    ///
    /// The root stays a path: when another directory comes to stand there (a deploy flipping a
    /// `current` symlink, a restore), requests use it within a second. While nothing valid
    /// stands there, downloads are answered 503 and the reason is logged once.
    ///
    /// ```
    /// use sendfile_actix::{Backend, SendFileConfig};
    ///
    /// let err = SendFileConfig::new(Backend::Simple).root("/").validate().unwrap_err();
    /// assert_eq!(err.setting, "SENDFILE_ROOT");
    /// ```
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.inner.validate()
    }

    /// The configured backend.
    ///
    /// ```
    /// use sendfile_actix::{Backend, SendFileConfig};
    ///
    /// assert!(SendFileConfig::new(Backend::Simple).backend().is_in_process());
    /// ```
    pub fn backend(&self) -> &Backend {
        self.inner.backend()
    }

    /// The status of a denied download (an error status by construction).
    ///
    /// ```
    /// use sendfile_actix::{Backend, DeniedStatus, SendFileConfig};
    ///
    /// assert_eq!(SendFileConfig::new(Backend::Simple).denied(), DeniedStatus::FORBIDDEN);
    /// ```
    pub fn denied(&self) -> DeniedStatus {
        self.denied
    }

    /// `err` with the error handler's response for `req`, when there is a handler.
    pub(crate) fn render(&self, err: SendFileError, req: &HttpRequest) -> SendFileError {
        match &self.error_handler {
            Some(handler) => {
                let response = (handler.0)(&err, req);
                err.with_response(response)
            }
            None => err,
        }
    }

    /// Whether `other` is this configuration or a clone of it.
    fn is_same(&self, other: &SendFileConfig) -> bool {
        self.inner.is_same(&other.inner)
            && self.denied == other.denied
            && match (&self.error_handler, &other.error_handler) {
                (Some(a), Some(b)) => Arc::ptr_eq(&a.0, &b.0),
                (None, None) => true,
                _ => false,
            }
    }

    /// The framework-neutral configuration underneath.
    ///
    /// ```
    /// use sendfile_actix::{Backend, SendFileConfig};
    ///
    /// let config = SendFileConfig::new(Backend::Nginx).root("/srv/files").url("/protected");
    /// assert_eq!(config.core().backend(), &Backend::Nginx);
    /// ```
    pub fn core(&self) -> &Config {
        &self.inner
    }

    /// The configuration that applies to `req`: the nearest one registered as app data, as
    /// `SendFileConfig` or `web::Data<SendFileConfig>`.
    ///
    /// Fails closed, with an error that says what to change, when there is none, or when
    /// both forms apply with different configurations (see the type's documentation).
    ///
    /// ```
    /// use actix_web::test;
    /// use sendfile_actix::{Backend, SendFileConfig};
    ///
    /// let req = test::TestRequest::default()
    ///     .app_data(SendFileConfig::new(Backend::Simple).root("/srv/files"))
    ///     .to_http_request();
    /// assert_eq!(SendFileConfig::from_req(&req).unwrap().backend(), &Backend::Simple);
    ///
    /// let bare = test::TestRequest::default().to_http_request();
    /// assert!(SendFileConfig::from_req(&bare).is_err());   // fails closed: 500
    /// ```
    pub fn from_req(req: &HttpRequest) -> Result<&SendFileConfig, SendFileError> {
        let plain = req.app_data::<SendFileConfig>();
        let data = req
            .app_data::<web::Data<SendFileConfig>>()
            .map(|d| d.get_ref());
        match (plain, data) {
            (Some(plain), Some(data)) if !plain.is_same(data) => {
                Err(ConfigError::new(
                    "SendFileConfig",
                    format!(
                        "both a SendFileConfig and a web::Data<SendFileConfig> apply to {} {}, with different configurations, and actix-web cannot tell which was registered nearer; register every SendFileConfig the same way, with .app_data(config)",
                        req.method(),
                        req.path()
                    ),
                )
                .into())
            }
            (Some(config), _) | (None, Some(config)) => Ok(config),
            (None, None) => Err(ConfigError::new(
                "SendFileConfig",
                format!(
                    "no SendFileConfig for {} {}; add .app_data(SendFileConfig::new(Backend::...).root(...)) to the App, scope or resource (nothing is served without one)",
                    req.method(),
                    req.path()
                ),
            )
            .into()),
        }
    }
}

impl From<Config> for SendFileConfig {
    fn from(inner: Config) -> Self {
        SendFileConfig {
            inner,
            denied: DeniedStatus::FORBIDDEN,
            error_handler: None,
        }
    }
}
