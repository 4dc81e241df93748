//! `SendFileConfig`: the configuration as actix-web app data.

use std::path::Path;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, web};
use sendfile_core::engine::RangeLimits;
use sendfile_core::{Backend, Config, ConfigError};

/// The configuration: backend, root, URL prefix. Register it as app data.
///
/// It is found the way actix-web's own `JsonConfig` is: a `SendFileConfig` registered with
/// `.app_data(config)`, then a `web::Data<SendFileConfig>`; the nearest scope or resource wins,
/// so parts of an application can have their own root and backend. Without one, a [`SendFile`]
/// answers 500 and logs what to add: nothing is ever served by default.
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
}

impl SendFileConfig {
    /// A configuration for `backend`; set at least [`root`](Self::root).
    pub fn new(backend: Backend) -> Self {
        SendFileConfig {
            inner: Config::new(backend),
        }
    }

    /// The directory every file is served from (`SENDFILE_ROOT`). Required.
    pub fn root(self, root: impl AsRef<Path>) -> Self {
        SendFileConfig {
            inner: self.inner.root(root),
        }
    }

    /// The front server's internal URL prefix (`SENDFILE_URL`), required by the `nginx`,
    /// `mod_wsgi` and `caddy` backends.
    pub fn url(self, url: impl AsRef<str>) -> Self {
        SendFileConfig {
            inner: self.inner.url(url),
        }
    }

    /// Whether offload backends check that the file exists (`SENDFILE_CHECK_FILE_EXISTS`,
    /// default true). With false a file that only the front server has can be named (nginx
    /// proxying to object storage, say); confinement is then lexical, and what exists
    /// of the path locally must not lead out of the root through a symlink.
    pub fn check_file_exists(self, check: bool) -> Self {
        SendFileConfig {
            inner: self.inner.check_file_exists(check),
        }
    }

    /// The status of a download denied by `#[protected_file]` (default 403 Forbidden; 404 Not
    /// Found hides that the file exists).
    pub fn denied_status(self, status: StatusCode) -> Self {
        SendFileConfig {
            inner: self.inner.denied_status(status.as_u16()),
        }
    }

    /// Limits on multi-range requests served by the in-process backends.
    pub fn range_limits(self, limits: RangeLimits) -> Self {
        SendFileConfig {
            inner: self.inner.range_limits(limits),
        }
    }

    /// Reads `SENDFILE_BACKEND`, `SENDFILE_ROOT`, `SENDFILE_URL` and
    /// `SENDFILE_CHECK_FILE_EXISTS`, and validates the result. The error names the setting at
    /// fault and the fix.
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(SendFileConfig {
            inner: Config::from_env()?,
        })
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
        Ok(SendFileConfig {
            inner: Config::from_lookup(lookup)?,
        })
    }

    /// Checks everything (the root exists and is a directory, the URL prefix is valid and
    /// present where the backend needs it). Call it at start-up.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.inner.validate()
    }

    /// The configured backend.
    pub fn backend(&self) -> &Backend {
        self.inner.backend()
    }

    /// The status of a denied download.
    pub fn denied(&self) -> StatusCode {
        StatusCode::from_u16(self.inner.denied()).unwrap_or(StatusCode::FORBIDDEN)
    }

    /// The framework-neutral configuration underneath.
    pub fn core(&self) -> &Config {
        &self.inner
    }

    /// The configuration that applies to `req`: `SendFileConfig`, then
    /// `Data<SendFileConfig>`, the nearest scope winning.
    pub fn from_req(req: &HttpRequest) -> Option<&SendFileConfig> {
        req.app_data::<SendFileConfig>().or_else(|| {
            req.app_data::<web::Data<SendFileConfig>>()
                .map(|d| d.get_ref())
        })
    }
}

impl From<Config> for SendFileConfig {
    fn from(inner: Config) -> Self {
        SendFileConfig { inner }
    }
}
