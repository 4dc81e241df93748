//! `SendFileConfig`: the configuration as actix-web app data.

use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, web};
use sendfile_core::engine::RangeLimits;
use sendfile_core::{Backend, Config, ConfigBuilder, ConfigError, ContentPolicy};

use crate::denied::DeniedStatus;
use crate::error::SendFileError;

/// The configuration: backend, root, URL prefix, checked. Register it as app data.
///
/// Made by [`SendFileConfig::builder`] … [`build`](SendFileConfigBuilder::build), or
/// [`SendFileConfig::from_env`], which check everything at start-up and name the setting at
/// fault: a `SendFileConfig` always holds a configuration that can serve (a root that was an
/// existing directory, a valid URL prefix where the backend needs one...), so no request ever
/// meets a configuration error of its own.
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
/// let config = SendFileConfig::builder(Backend::Nginx)
///     .root(root)
///     .url("/protected")
///     .build()
///     .expect("sendfile configuration");   // at start-up, not at the first request
/// let public = SendFileConfig::builder(Backend::Simple).root(root).build().expect("public files");
///
/// let app = App::new()
///     .app_data(web::Data::new(config))                  // `.app_data(config)` works too
///     .service(web::scope("/public").app_data(public)); // the nearest configuration wins
/// ```
///
/// [`SendFile`]: crate::SendFile
#[derive(Debug, Clone)]
pub struct SendFileConfig {
    inner: Config,
    denied: DeniedStatus,
    error_handler: Option<ErrorHandler>,
}

/// The settings of a [`SendFileConfig`], before they are checked: made by
/// [`SendFileConfig::builder`] (or [`SendFileConfigBuilder::from_env`]); every setter takes what
/// it is given, and [`build`](Self::build) checks it all at once, at start-up.
///
/// ```
/// use sendfile_actix::{Backend, SendFileConfig};
///
/// # let dir = tempfile::tempdir().unwrap();
/// let builder = SendFileConfig::builder(Backend::Nginx).root(dir.path());
/// // The nginx backend needs the internal location's prefix: refused, naming the setting.
/// assert_eq!(builder.clone().build().unwrap_err().setting, "SENDFILE_URL");
/// let config = builder.url("/protected").build().unwrap();
/// assert_eq!(config.backend(), &Backend::Nginx);
/// ```
#[derive(Debug, Clone)]
#[must_use = "a SendFileConfigBuilder does nothing until .build() checks it into a SendFileConfig"]
pub struct SendFileConfigBuilder {
    inner: ConfigBuilder,
    denied: DeniedStatus,
    error_handler: Option<ErrorHandler>,
}

/// The application's error pages: see [`SendFileConfigBuilder::error_handler`].
type ErrorHandlerFn = dyn Fn(&SendFileError, &HttpRequest) -> HttpResponse + Send + Sync;

#[derive(Clone)]
struct ErrorHandler(Arc<ErrorHandlerFn>);

impl fmt::Debug for ErrorHandler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ErrorHandler(..)")
    }
}

impl SendFileConfig {
    /// The settings for `backend`, to be completed (at least a [`root`](SendFileConfigBuilder::root),
    /// or a [bucket](SendFileConfigBuilder::object_store)) and
    /// [built](SendFileConfigBuilder::build) at start-up.
    ///
    /// ```
    /// use sendfile_actix::{Backend, SendFileConfig};
    ///
    /// # let dir = tempfile::tempdir().unwrap();
    /// let config = SendFileConfig::builder(Backend::XSendfile).root(dir.path()).build().unwrap();
    /// assert_eq!(config.backend(), &Backend::XSendfile);
    /// ```
    pub fn builder(backend: Backend) -> SendFileConfigBuilder {
        SendFileConfigBuilder::from(Config::builder(backend))
    }

    /// Reads `SENDFILE_BACKEND`, `SENDFILE_ROOT`, `SENDFILE_URL`, `SENDFILE_CHECK_FILE_EXISTS`,
    /// `SENDFILE_FOLLOW_SYMLINKS`, `SENDFILE_SEND_TIMEOUT` (seconds, or `500ms`, `2m`) and
    /// `SENDFILE_MAX_STREAMS` (and, for a bucket, `SENDFILE_S3_*` and the `AWS_*` credentials:
    /// see [`object_store`](SendFileConfigBuilder::object_store)), and builds the result. The error names
    /// the setting at fault and the fix.
    ///
    /// ```no_run
    /// // SENDFILE_BACKEND=nginx SENDFILE_ROOT=/srv/files SENDFILE_URL=/protected
    /// let config = sendfile_actix::SendFileConfig::from_env().unwrap_or_else(|e| panic!("{e}"));
    /// # drop(config);
    /// ```
    pub fn from_env() -> Result<Self, ConfigError> {
        SendFileConfigBuilder::from_env()?.build()
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
        SendFileConfigBuilder::from_lookup(lookup)?.build()
    }

    /// The configured backend.
    ///
    /// ```
    /// use sendfile_actix::{Backend, SendFileConfig};
    ///
    /// # let dir = tempfile::tempdir().unwrap();
    /// let config = SendFileConfig::builder(Backend::Simple).root(dir.path()).build().unwrap();
    /// assert!(config.backend().is_in_process());
    /// ```
    pub fn backend(&self) -> &Backend {
        self.inner.backend()
    }

    /// The status of a denied download (an error status by construction).
    ///
    /// ```
    /// use sendfile_actix::{Backend, DeniedStatus, SendFileConfig};
    ///
    /// # let dir = tempfile::tempdir().unwrap();
    /// let config = SendFileConfig::builder(Backend::Simple).root(dir.path()).build().unwrap();
    /// assert_eq!(config.denied(), DeniedStatus::FORBIDDEN);
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

    /// Whether `other` is this configuration or a clone of it (each
    /// [`build`](SendFileConfigBuilder::build) makes another).
    fn is_same(&self, other: &SendFileConfig) -> bool {
        self.inner.is_same(&other.inner)
    }

    /// The framework-neutral configuration underneath.
    ///
    /// ```
    /// use sendfile_actix::{Backend, SendFileConfig};
    ///
    /// # let dir = tempfile::tempdir().unwrap();
    /// let config = SendFileConfig::builder(Backend::Nginx)
    ///     .root(dir.path())
    ///     .url("/protected")
    ///     .build()
    ///     .unwrap();
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
    /// # let dir = tempfile::tempdir().unwrap();
    /// let config = SendFileConfig::builder(Backend::Simple).root(dir.path()).build().unwrap();
    /// let req = test::TestRequest::default().app_data(config).to_http_request();
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
                    "no SendFileConfig for {} {}; add .app_data(SendFileConfig::builder(Backend::...).root(...).build()?) to the App, scope or resource (nothing is served without one)",
                    req.method(),
                    req.path()
                ),
            )
            .into()),
        }
    }
}

impl SendFileConfigBuilder {
    /// The settings read from the environment, as [`SendFileConfig::from_env`] reads them, not
    /// yet built: to add what the environment does not say (an error handler, a denied status)
    /// before [`build`](Self::build).
    ///
    /// ```no_run
    /// use sendfile_actix::{DeniedStatus, SendFileConfigBuilder};
    ///
    /// // SENDFILE_BACKEND=nginx SENDFILE_ROOT=/srv/files SENDFILE_URL=/protected
    /// let config = SendFileConfigBuilder::from_env()
    ///     .and_then(|settings| settings.denied_status(DeniedStatus::NOT_FOUND).build())
    ///     .unwrap_or_else(|e| panic!("{e}"));
    /// # drop(config);
    /// ```
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(SendFileConfigBuilder::from(ConfigBuilder::from_env()?))
    }

    /// Like [`from_env`](Self::from_env), reading the settings through `lookup`.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        Ok(SendFileConfigBuilder::from(ConfigBuilder::from_lookup(
            lookup,
        )?))
    }

    /// Replaces the backend (`SENDFILE_BACKEND`).
    ///
    /// ```
    /// use sendfile_actix::{Backend, SendFileConfig};
    ///
    /// # let dir = tempfile::tempdir().unwrap();
    /// let config = SendFileConfig::builder(Backend::Nginx)
    ///     .root(dir.path())
    ///     .backend(Backend::Lighttpd)
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(config.backend(), &Backend::Lighttpd);
    /// ```
    pub fn backend(self, backend: Backend) -> Self {
        SendFileConfigBuilder {
            inner: self.inner.backend(backend),
            ..self
        }
    }

    /// Checks everything and makes the [`SendFileConfig`]: the root is an existing directory
    /// this process can search (and not `/`, nor on a kernel pseudo-filesystem such as `proc`,
    /// `sysfs` or `devtmpfs`), opened now; or a valid
    /// bucket with a backend that can send from it, and no root besides; the URL prefix is valid
    /// and present where the backend needs one; the send timeout and the stream cap are above
    /// zero. Call it at start-up: the error names the setting at fault and the fix.
    ///
    /// The root stays a path: when another directory comes to stand there (a deploy flipping a
    /// `current` symlink, a restore), requests use it within a second. While nothing valid
    /// stands there, downloads are answered 503 and the reason is logged once.
    ///
    /// ```
    /// use sendfile_actix::{Backend, SendFileConfig};
    ///
    /// let err = SendFileConfig::builder(Backend::Simple).root("/").build().unwrap_err();
    /// assert_eq!(err.setting, "SENDFILE_ROOT");
    /// assert!(SendFileConfig::builder(Backend::Simple).build().is_err());   // no root
    /// ```
    pub fn build(self) -> Result<SendFileConfig, ConfigError> {
        Ok(SendFileConfig {
            inner: self.inner.build()?,
            denied: self.denied,
            error_handler: self.error_handler,
        })
    }

    /// The directory every file is served from (`SENDFILE_ROOT`). Required.
    ///
    /// ```
    /// use sendfile_actix::{Backend, SendFileConfig};
    ///
    /// # let dir = tempfile::tempdir().unwrap();
    /// let config = SendFileConfig::builder(Backend::Simple).root(dir.path()).build().unwrap();
    /// assert!(SendFileConfig::builder(Backend::Simple).build().is_err());   // no root
    /// ```
    pub fn root(self, root: impl AsRef<Path>) -> Self {
        SendFileConfigBuilder {
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
    /// let settings = SendFileConfig::builder(Backend::Nginx).root(dir.path());
    /// assert_eq!(settings.clone().build().unwrap_err().setting, "SENDFILE_URL");
    /// settings.url("/protected").build().unwrap();
    /// // Malformed: refused at start-up, never at the first request.
    /// let err = SendFileConfig::builder(Backend::Nginx).root(dir.path()).url("/a/../b").build();
    /// assert_eq!(err.unwrap_err().setting, "SENDFILE_URL");
    /// ```
    pub fn url(self, url: impl AsRef<str>) -> Self {
        SendFileConfigBuilder {
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
    /// # let dir = tempfile::tempdir().unwrap();
    /// let config = SendFileConfig::builder(Backend::Nginx)
    ///     .root(dir.path())
    ///     .url("/protected")
    ///     .check_file_exists(false)
    ///     .build()
    ///     .unwrap();
    /// # drop(config);
    /// ```
    pub fn check_file_exists(self, check: bool) -> Self {
        SendFileConfigBuilder {
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
    /// # let dir = tempfile::tempdir().unwrap();
    /// let config = SendFileConfig::builder(Backend::Simple)
    ///     .root(dir.path())
    ///     .denied_status(DeniedStatus::NOT_FOUND)
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(config.denied(), DeniedStatus::NOT_FOUND);
    /// ```
    pub fn denied_status(self, status: DeniedStatus) -> Self {
        SendFileConfigBuilder {
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
    /// let config = SendFileConfig::builder(Backend::Simple)
    ///     .root(dir.path())
    ///     .error_handler(|err, _req| match err.status() {
    ///         StatusCode::NOT_FOUND => HttpResponse::NotFound()
    ///             .content_type("text/html; charset=utf-8")
    ///             .body("<h1>No such report</h1>"),
    ///         _ => err.default_response(),
    ///     })
    ///     .build()
    ///     .unwrap();
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
    pub fn error_handler<F>(self, handler: F) -> Self
    where
        F: Fn(&SendFileError, &HttpRequest) -> HttpResponse + Send + Sync + 'static,
    {
        SendFileConfigBuilder {
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
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let uploads = dir.path();
    /// let config = SendFileConfig::builder(Backend::Simple)
    ///     .root(uploads)
    ///     .follow_symlinks(false)
    ///     .build()
    ///     .unwrap();
    /// # drop(config);
    /// ```
    ///
    pub fn follow_symlinks(self, follow: bool) -> Self {
        SendFileConfigBuilder {
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
    /// let config = SendFileConfig::builder(Backend::Redirect)
    ///     .object_store(ObjectStore::new(s3).prefix("files/"))
    ///     .build()
    ///     .unwrap();
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
    pub fn object_store(self, store: sendfile_core::object::ObjectStore) -> Self {
        SendFileConfigBuilder {
            inner: self.inner.object_store(store),
            ..self
        }
    }

    /// Limits on multi-range requests served by the in-process backends.
    ///
    /// ```
    /// use sendfile_actix::{Backend, RangeLimits, SendFileConfig};
    ///
    /// # let dir = tempfile::tempdir().unwrap();
    /// let config = SendFileConfig::builder(Backend::Simple)
    ///     .root(dir.path())
    ///     .range_limits(RangeLimits::default())
    ///     .build()
    ///     .unwrap();
    /// # drop(config);
    /// ```
    pub fn range_limits(self, limits: RangeLimits) -> Self {
        SendFileConfigBuilder {
            inner: self.inner.range_limits(limits),
            ..self
        }
    }

    /// The [content policy](crate::policy) of every file (`SENDFILE_CONTENT_POLICY`, default
    /// [`ContentPolicy::Untrusted`]: active content such as HTML or SVG is an attachment and
    /// every file response carries a sandbox). Choose [`ContentPolicy::Trusted`] only when
    /// every file below the root is content the application controls (never user uploads);
    /// a single trusted file is [`SendFile::trusted`](crate::SendFile::trusted).
    ///
    /// ```
    /// use sendfile_actix::{Backend, ContentPolicy, SendFileConfig};
    ///
    /// # let dir = tempfile::tempdir().unwrap();
    /// let config = SendFileConfig::builder(Backend::Simple)
    ///     .root(dir.path()) // the application's own generated reports
    ///     .content_policy(ContentPolicy::Trusted)
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(config.core().content_policy(), ContentPolicy::Trusted);
    /// ```
    pub fn content_policy(self, policy: ContentPolicy) -> Self {
        SendFileConfigBuilder {
            inner: self.inner.content_policy(policy),
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
    /// let config = SendFileConfig::builder(Backend::Simple)
    ///     .root(dir.path())
    ///     .send_timeout(Duration::from_secs(30))
    ///     .build()
    ///     .unwrap();
    /// ```
    pub fn send_timeout(self, timeout: Duration) -> Self {
        SendFileConfigBuilder {
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
    /// let config = SendFileConfig::builder(Backend::Simple).root(dir.path()).max_streams(1000).build().unwrap();
    /// ```
    pub fn max_streams(self, max: usize) -> Self {
        SendFileConfigBuilder {
            inner: self.inner.max_streams(max),
            ..self
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

impl From<ConfigBuilder> for SendFileConfigBuilder {
    fn from(inner: ConfigBuilder) -> Self {
        SendFileConfigBuilder {
            inner,
            denied: DeniedStatus::FORBIDDEN,
            error_handler: None,
        }
    }
}
