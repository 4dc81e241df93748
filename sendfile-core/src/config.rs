//! Configuration: backend, root, URL prefix, and the checks that run at start-up.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::backend::Backend;
use crate::confine::Root;
use crate::engine::RangeLimits;
use crate::error::{ConfigError, Error};
use crate::object::ObjectStore;
use crate::streams::{DEFAULT_SEND_TIMEOUT, StreamPermit, StreamSlots};
use crate::url::UrlPrefix;
use crate::watch::RootWatch;

/// The configuration: which backend, which root, which URL prefix.
///
/// Built with a builder that never fails; [`Config::validate`] checks everything and is meant to
/// run at start-up. A request served with an invalid configuration fails with the same error
/// (500), never with a misleading 404.
///
/// ```
/// use sendfile_core::{Backend, Config};
/// let dir = std::env::temp_dir();
/// let config = Config::new(Backend::Nginx).root(&dir).url("/protected/");
/// config.validate().unwrap();
/// assert_eq!(config.url_prefix().unwrap().unwrap().as_str(), "/protected");
///
/// let missing_url = Config::new(Backend::Nginx).root(&dir);
/// let err = missing_url.validate().unwrap_err();
/// assert_eq!(err.setting, "SENDFILE_URL");
/// ```
#[derive(Debug, Clone)]
pub struct Config {
    backend: Backend,
    url: Option<UrlPrefix>,
    /// A setting the builder could not take (an invalid URL prefix): [`Config::validate`]
    /// reports it, and so does every request, so that such a configuration never serves.
    refused: Option<ConfigError>,
    check_file_exists: bool,
    follow_symlinks: bool,
    range_limits: RangeLimits,
    /// Shared by clones: the root standing at `root`, looked at again now and then. Every
    /// builder method replaces it, so that it also tells a configuration from its variants
    /// ([`Config::is_same`]).
    watch: Arc<RootWatch>,
    /// The bucket files are sent from, instead of a root.
    store: Option<ObjectStore>,
    send_timeout: Duration,
    /// Shared by clones: the streams in progress, and their cap.
    streams: Arc<StreamSlots>,
}

impl Config {
    /// A configuration for `backend`, with no root yet.
    pub fn new(backend: Backend) -> Self {
        Config {
            backend,
            url: None,
            refused: None,
            check_file_exists: true,
            follow_symlinks: true,
            range_limits: RangeLimits::default(),
            watch: Arc::new(RootWatch::new(None)),
            store: None,
            send_timeout: DEFAULT_SEND_TIMEOUT,
            streams: StreamSlots::new(None),
        }
    }

    /// Sets the root directory (`SENDFILE_ROOT`): every file served lies inside it.
    #[must_use]
    pub fn root(mut self, root: impl AsRef<Path>) -> Self {
        self.watch = Arc::new(RootWatch::new(Some(root.as_ref().to_path_buf())));
        self
    }

    /// Sets the internal URL prefix (`SENDFILE_URL`), required by `nginx`, `mod_wsgi` and `caddy`.
    #[must_use]
    pub fn url(mut self, url: impl AsRef<str>) -> Self {
        match UrlPrefix::parse(url.as_ref()) {
            Ok(url) => {
                self.url = Some(url);
                self.refused = None;
            }
            Err(e) => {
                self.url = None;
                self.refused = Some(e);
            }
        }
        self.watch = self.watch.renewed();
        self
    }

    /// Whether offload backends check that the file exists before naming it
    /// (`SENDFILE_CHECK_FILE_EXISTS`, default true). With false, a file only the front server
    /// has can be named; the path is then confined lexically, and what exists of it locally
    /// must not lead out of the root through a symlink. In-process backends always need the
    /// file.
    #[must_use]
    pub fn check_file_exists(mut self, check: bool) -> Self {
        self.check_file_exists = check;
        self.watch = self.watch.renewed();
        self
    }

    /// Whether symlinks inside the root are followed (`SENDFILE_FOLLOW_SYMLINKS`, default true).
    ///
    /// With true, a link inside the root is served when its target lies inside the root too (a
    /// link that leads out is always refused). Set false when people who must not read every
    /// file can create files in the root (uploads, extracted archives): a planted link would
    /// otherwise make a check on its name pass for another user's file. A root that sits under
    /// a symlinked directory (`current -> releases/42`) is still fine. See
    /// [`Root::follow_symlinks`].
    #[must_use]
    pub fn follow_symlinks(mut self, follow: bool) -> Self {
        self.follow_symlinks = follow;
        self.watch = self.watch.renewed();
        self
    }

    /// Replaces the backend.
    #[must_use]
    pub fn with_backend(mut self, backend: Backend) -> Self {
        self.backend = backend;
        self.watch = self.watch.renewed();
        self
    }

    /// Limits on multi-range requests for in-process backends.
    #[must_use]
    pub fn range_limits(mut self, limits: RangeLimits) -> Self {
        self.range_limits = limits;
        self.watch = self.watch.renewed();
        self
    }

    /// Sends files from a bucket instead of a root (`SENDFILE_S3_*`): keys are confined below
    /// the store's prefix, and the `nginx` or `redirect` backend sends the object with a
    /// presigned URL. A root and a bucket together are a configuration error. See
    /// [`object`](crate::object).
    ///
    /// ```
    /// use sendfile_core::object::ObjectStore;
    /// use sendfile_core::s3::{S3Credentials, S3Presigner};
    /// use sendfile_core::{Backend, Config};
    ///
    /// let s3 = S3Presigner::new("http://127.0.0.1:9000", "protected", "us-east-1",
    ///     S3Credentials::new("AKIDEXAMPLE", "example-secret")).unwrap();
    /// let config = Config::new(Backend::Nginx).url("/_s3").object_store(ObjectStore::new(s3));
    /// config.validate().unwrap();
    /// assert!(config.store().is_some());
    ///
    /// // A root as well: refused, naming the setting.
    /// let both = config.clone().root(std::env::temp_dir());
    /// assert_eq!(both.validate().unwrap_err().setting, "SENDFILE_S3_BUCKET");
    /// // A backend that cannot send from a bucket: refused.
    /// let xsendfile = config.with_backend(Backend::XSendfile);
    /// assert_eq!(xsendfile.validate().unwrap_err().setting, "SENDFILE_BACKEND");
    /// ```
    #[must_use]
    pub fn object_store(mut self, store: ObjectStore) -> Self {
        self.store = Some(store);
        self.watch = self.watch.renewed();
        self
    }

    /// The bucket, when files are sent from one.
    pub fn store(&self) -> Option<&ObjectStore> {
        self.store.as_ref()
    }

    /// In-process backends: how long a streamed body may go without progress before the
    /// connection is closed (`SENDFILE_SEND_TIMEOUT`, default 60 s, like nginx's
    /// `send_timeout`). Progress is the client taking the next chunk of the file (16 to
    /// 128 KiB); a client slower than that, or one that stopped reading, is cut off and its file
    /// closed. Zero is refused by [`validate`](Self::validate).
    ///
    /// ```
    /// use std::time::Duration;
    /// use sendfile_core::{Backend, Config};
    /// let config = Config::new(Backend::Simple).send_timeout(Duration::from_secs(30));
    /// assert_eq!(config.send_timeout_duration(), Duration::from_secs(30));
    /// ```
    #[must_use]
    pub fn send_timeout(mut self, timeout: Duration) -> Self {
        self.send_timeout = timeout;
        self.watch = self.watch.renewed();
        self
    }

    /// In-process backends: at most `max` bodies streamed at once by this configuration and
    /// its clones (`SENDFILE_MAX_STREAMS`, default: no cap). A download past the cap is
    /// answered `503 Service Unavailable` with `Retry-After`, before the file is opened; HEAD
    /// requests and answers without a body (304, 412...) do not count. Zero is refused by
    /// [`validate`](Self::validate).
    ///
    /// ```
    /// use sendfile_core::{Backend, Config};
    /// let config = Config::new(Backend::Simple).max_streams(1000);
    /// assert_eq!(config.stream_slots().max(), Some(1000));
    /// ```
    #[must_use]
    pub fn max_streams(mut self, max: usize) -> Self {
        self.streams = StreamSlots::new(Some(max));
        self.watch = self.watch.renewed();
        self
    }

    /// The send timeout of streamed bodies.
    pub fn send_timeout_duration(&self) -> Duration {
        self.send_timeout
    }

    /// The streams in progress and their cap, shared by clones.
    pub fn stream_slots(&self) -> &Arc<StreamSlots> {
        &self.streams
    }

    /// A place for one more streamed body, or [`Error::Overloaded`] when the cap of
    /// [`max_streams`](Self::max_streams) is reached.
    pub fn acquire_stream(&self) -> Result<StreamPermit, Error> {
        self.streams.try_acquire().ok_or_else(|| {
            Error::Overloaded(crate::error::Overload::Streams {
                max: self.streams.max().unwrap_or(usize::MAX),
            })
        })
    }

    /// Reads `SENDFILE_BACKEND`, `SENDFILE_ROOT`, `SENDFILE_URL`, `SENDFILE_CHECK_FILE_EXISTS`,
    /// `SENDFILE_FOLLOW_SYMLINKS`, `SENDFILE_SEND_TIMEOUT` (seconds, or with a unit: `500ms`,
    /// `2m`) and `SENDFILE_MAX_STREAMS` from the environment, and validates the result. With the
    /// `s3` feature (default), also `SENDFILE_S3_ENDPOINT`, `SENDFILE_S3_BUCKET`,
    /// `SENDFILE_S3_REGION`, `SENDFILE_S3_PREFIX`, `SENDFILE_S3_EXPIRES`, `AWS_ACCESS_KEY_ID`,
    /// `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN` (see
    /// [`s3::store_from_lookup`](crate::s3::store_from_lookup)).
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_lookup(|name| std::env::var_os(name).map(|v| v.to_string_lossy().into_owned()))
    }

    /// Like [`from_env`](Self::from_env), reading the settings through `lookup`.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let backend: Backend = lookup("SENDFILE_BACKEND")
            .ok_or_else(|| {
                ConfigError::new(
                    "SENDFILE_BACKEND",
                    format!(
                        "not set; set it to one of: {}",
                        crate::BACKEND_NAMES.join(", ")
                    ),
                )
            })?
            .parse()?;
        let mut config = Config::new(backend);
        if let Some(root) = lookup("SENDFILE_ROOT").filter(|r| !r.is_empty()) {
            config = config.root(root);
        }
        if let Some(url) = lookup("SENDFILE_URL").filter(|u| !u.is_empty()) {
            config = config.url(url);
        }
        if let Some(check) = lookup("SENDFILE_CHECK_FILE_EXISTS") {
            config = config.check_file_exists(bool_setting("SENDFILE_CHECK_FILE_EXISTS", &check)?);
        }
        if let Some(follow) = lookup("SENDFILE_FOLLOW_SYMLINKS") {
            config = config.follow_symlinks(bool_setting("SENDFILE_FOLLOW_SYMLINKS", &follow)?);
        }
        #[cfg(feature = "s3")]
        if let Some(store) = crate::s3::store_from_lookup(&lookup)? {
            config = config.object_store(store);
        }
        #[cfg(not(feature = "s3"))]
        if lookup("SENDFILE_S3_BUCKET").is_some_and(|b| !b.trim().is_empty()) {
            return Err(ConfigError::new(
                "SENDFILE_S3_BUCKET",
                "set, but sendfile-core was built without its s3 feature; enable the feature",
            ));
        }
        if let Some(timeout) = lookup("SENDFILE_SEND_TIMEOUT").filter(|t| !t.is_empty()) {
            let parsed = crate::streams::parse_duration(&timeout).ok_or_else(|| {
                ConfigError::new(
                    "SENDFILE_SEND_TIMEOUT",
                    format!(
                        "{timeout:?} is not a duration; use seconds (60) or a unit (500ms, 2m)"
                    ),
                )
            })?;
            config = config.send_timeout(parsed);
        }
        if let Some(max) = lookup("SENDFILE_MAX_STREAMS").filter(|m| !m.is_empty()) {
            let parsed = max.trim().parse::<usize>().map_err(|_| {
                ConfigError::new(
                    "SENDFILE_MAX_STREAMS",
                    format!("{max:?} is not a whole number; use a count such as 1000"),
                )
            })?;
            config = config.max_streams(parsed);
        }
        config.validate()?;
        Ok(config)
    }

    /// Checks the configuration: a root that is an existing directory the process can search
    /// (not `/`, `/proc`, `/sys` or `/dev`), a valid URL prefix where the backend needs one.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !self.check_object_store(&self.backend)? {
            self.open_root()?;
        }
        self.url_prefix()?;
        if self.send_timeout.is_zero() {
            return Err(ConfigError::new(
                "SENDFILE_SEND_TIMEOUT",
                "is zero; use a duration such as 60s (a stalled download would otherwise be cut at once)",
            ));
        }
        if self.streams.max() == Some(0) {
            return Err(ConfigError::new(
                "SENDFILE_MAX_STREAMS",
                "is zero, which refuses every download; use a count such as 1000, or leave it unset for no cap",
            ));
        }
        Ok(())
    }

    /// The backend.
    pub fn backend(&self) -> &Backend {
        &self.backend
    }

    /// The root as given, if set.
    pub fn root_path(&self) -> Option<&Path> {
        self.watch.path()
    }

    /// The URL prefix: `Ok(None)` when not set and not needed by the backend; an error when
    /// invalid, or missing for a backend that needs it.
    pub fn url_prefix(&self) -> Result<Option<&UrlPrefix>, ConfigError> {
        self.url_prefix_for(&self.backend)
    }

    /// [`url_prefix`](Self::url_prefix) for another backend (a per-request override).
    pub fn url_prefix_for(&self, backend: &Backend) -> Result<Option<&UrlPrefix>, ConfigError> {
        if let Some(refused) = &self.refused {
            return Err(refused.clone());
        }
        match &self.url {
            Some(url) => Ok(Some(url)),
            None if backend.needs_url() => Err(ConfigError::new(
                "SENDFILE_URL",
                format!(
                    "not set, and the {backend} backend needs it; call .url(\"/protected\") or set SENDFILE_URL to the front server's internal location"
                ),
            )),
            None => Ok(None),
        }
    }

    /// Whether offload backends check that the file exists.
    pub fn checks_file_exists(&self) -> bool {
        self.check_file_exists
    }

    /// Whether symlinks inside the root are followed.
    pub fn follows_symlinks(&self) -> bool {
        self.follow_symlinks
    }

    /// The multi-range limits.
    pub fn limits(&self) -> RangeLimits {
        self.range_limits
    }

    /// Whether `other` is this configuration or a clone of it (clones share the opened root;
    /// every builder call makes a new configuration).
    pub fn is_same(&self, other: &Config) -> bool {
        Arc::ptr_eq(&self.watch, &other.watch)
    }

    /// Opens the root now (at start-up: [`validate`](Self::validate) calls it) and keeps it for
    /// the requests that follow.
    pub fn open_root(&self) -> Result<Arc<Root>, ConfigError> {
        let path = self.root_setting()?;
        self.watch.reopen(|| self.open_root_at(path))
    }

    /// The root for a request. The path is looked at again at most every
    /// [`RECHECK`](crate::RECHECK): when another directory stands there (a deploy flipped
    /// a symlink, a restore replaced it), that one is opened and used; while nothing valid
    /// stands there, this is [`Error::RootUnavailable`] (503), logged once.
    pub fn current_root(&self) -> Result<Arc<Root>, Error> {
        let path = self.root_setting()?;
        self.watch
            .get(|| self.open_root_at(path), path)
            .map_err(Error::RootUnavailable)
    }

    /// With a bucket (or a backend that needs one), checks that the two fit: no root besides
    /// the bucket, a backend able to send from it, a valid store. `Ok(true)` when files come
    /// from a bucket.
    ///
    /// ```
    /// use sendfile_core::{Backend, Config};
    /// let local = Config::new(Backend::Nginx).root(std::env::temp_dir());
    /// assert!(!local.check_object_store(&Backend::Nginx).unwrap());
    /// let err = local.check_object_store(&Backend::Redirect).unwrap_err();
    /// assert_eq!(err.setting, "SENDFILE_S3_BUCKET");
    /// ```
    pub fn check_object_store(&self, backend: &Backend) -> Result<bool, ConfigError> {
        let Some(store) = &self.store else {
            if backend.needs_object_store() {
                return Err(ConfigError::new(
                    "SENDFILE_S3_BUCKET",
                    format!(
                        "not set, and the {backend} backend sends objects from a bucket only; set SENDFILE_S3_BUCKET (and SENDFILE_S3_ENDPOINT, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY), or use a local backend such as nginx"
                    ),
                ));
            }
            return Ok(false);
        };
        if self.watch.path().is_some() {
            return Err(ConfigError::new(
                "SENDFILE_S3_BUCKET",
                "set together with SENDFILE_ROOT; files come from one place: unset SENDFILE_ROOT to send from the bucket, or SENDFILE_S3_BUCKET to send from the root",
            ));
        }
        if !backend.sends_objects() {
            return Err(ConfigError::new(
                "SENDFILE_BACKEND",
                format!(
                    "the {backend} backend cannot send objects from a bucket (SENDFILE_S3_BUCKET is set); use nginx (with an internal location that proxies to the store) or redirect"
                ),
            ));
        }
        store.validate()?;
        Ok(true)
    }

    fn root_setting(&self) -> Result<&Path, ConfigError> {
        self.watch.path().ok_or_else(|| {
            ConfigError::new(
                "SENDFILE_ROOT",
                "not set; call .root(\"/srv/files\") or set SENDFILE_ROOT to the directory that holds the protected files",
            )
        })
    }

    fn open_root_at(&self, path: &Path) -> Result<Root, ConfigError> {
        Ok(Root::open(path)?.follow_symlinks(self.follow_symlinks))
    }
}

fn bool_setting(setting: &'static str, value: &str) -> Result<bool, ConfigError> {
    parse_bool(value).ok_or_else(|| {
        ConfigError::new(
            setting,
            format!("{value:?} is not a boolean; use true or false"),
        )
    })
}

fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn from_lookup_reads_every_setting() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_str().unwrap();
        let c = Config::from_lookup(env(&[
            ("SENDFILE_BACKEND", "nginx"),
            ("SENDFILE_ROOT", root),
            ("SENDFILE_URL", "/protected/"),
            ("SENDFILE_CHECK_FILE_EXISTS", "false"),
            ("SENDFILE_FOLLOW_SYMLINKS", "false"),
            ("SENDFILE_SEND_TIMEOUT", "1500ms"),
            ("SENDFILE_MAX_STREAMS", "7"),
        ]))
        .unwrap();
        assert_eq!(
            c.send_timeout_duration(),
            std::time::Duration::from_millis(1500)
        );
        assert_eq!(c.stream_slots().max(), Some(7));
        assert!(!c.follows_symlinks());
        assert!(!c.current_root().unwrap().follows_symlinks());
        assert_eq!(c.backend(), &Backend::Nginx);
        assert_eq!(c.root_path(), Some(dir.path()));
        assert_eq!(c.url_prefix().unwrap().unwrap().as_str(), "/protected");
        assert!(!c.checks_file_exists());
    }

    #[test]
    fn from_lookup_errors_name_the_setting() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_str().unwrap();
        let cases: [(&[(&str, &str)], &str); 11] = [
            (
                &[
                    ("SENDFILE_BACKEND", "simple"),
                    ("SENDFILE_ROOT", root),
                    ("SENDFILE_SEND_TIMEOUT", "a while"),
                ],
                "SENDFILE_SEND_TIMEOUT",
            ),
            (
                &[
                    ("SENDFILE_BACKEND", "simple"),
                    ("SENDFILE_ROOT", root),
                    ("SENDFILE_SEND_TIMEOUT", "0"),
                ],
                "SENDFILE_SEND_TIMEOUT",
            ),
            (
                &[
                    ("SENDFILE_BACKEND", "simple"),
                    ("SENDFILE_ROOT", root),
                    ("SENDFILE_MAX_STREAMS", "-1"),
                ],
                "SENDFILE_MAX_STREAMS",
            ),
            (
                &[
                    ("SENDFILE_BACKEND", "simple"),
                    ("SENDFILE_ROOT", root),
                    ("SENDFILE_MAX_STREAMS", "0"),
                ],
                "SENDFILE_MAX_STREAMS",
            ),
            (
                &[
                    ("SENDFILE_BACKEND", "simple"),
                    ("SENDFILE_ROOT", root),
                    ("SENDFILE_FOLLOW_SYMLINKS", "sometimes"),
                ],
                "SENDFILE_FOLLOW_SYMLINKS",
            ),
            (&[], "SENDFILE_BACKEND"),
            (&[("SENDFILE_BACKEND", "ngnix")], "SENDFILE_BACKEND"),
            (&[("SENDFILE_BACKEND", "simple")], "SENDFILE_ROOT"),
            (
                &[("SENDFILE_BACKEND", "nginx"), ("SENDFILE_ROOT", root)],
                "SENDFILE_URL",
            ),
            (
                &[
                    ("SENDFILE_BACKEND", "simple"),
                    ("SENDFILE_ROOT", "/nonexistent/sendfile-root"),
                ],
                "SENDFILE_ROOT",
            ),
            (
                &[
                    ("SENDFILE_BACKEND", "simple"),
                    ("SENDFILE_ROOT", root),
                    ("SENDFILE_CHECK_FILE_EXISTS", "maybe"),
                ],
                "SENDFILE_CHECK_FILE_EXISTS",
            ),
        ];
        for (pairs, setting) in cases {
            let e = Config::from_lookup(env(pairs)).unwrap_err();
            assert_eq!(e.setting, setting, "{pairs:?}: {e}");
        }
    }

    #[test]
    fn url_is_only_required_by_the_backends_that_use_it() {
        let dir = tempfile::tempdir().unwrap();
        for b in [
            Backend::Simple,
            Backend::Development,
            Backend::XSendfile,
            Backend::Lighttpd,
        ] {
            Config::new(b).root(dir.path()).validate().unwrap();
        }
        for b in [Backend::Nginx, Backend::ModWsgi, Backend::Caddy] {
            let e = Config::new(b).root(dir.path()).validate().unwrap_err();
            assert_eq!(e.setting, "SENDFILE_URL");
        }
    }

    #[test]
    fn missing_root_is_a_config_error_not_a_404() {
        let e = Config::new(Backend::Simple).open_root().unwrap_err();
        assert_eq!(e.setting, "SENDFILE_ROOT");
        assert!(e.message.contains(".root("));
        let e = Config::new(Backend::Simple).current_root().unwrap_err();
        assert_eq!(e.status(), 500);
    }

    #[test]
    fn clones_are_the_same_configuration_and_variants_are_not() {
        let dir = tempfile::tempdir().unwrap();
        let base = Config::new(Backend::Nginx).root(dir.path()).url("/a");
        assert!(base.is_same(&base.clone()));
        assert!(!base.is_same(&base.clone().url("/b")));
        assert!(!base.is_same(&base.clone().with_backend(Backend::Caddy)));
        assert!(!base.is_same(&base.clone().check_file_exists(false)));
    }

    #[test]
    fn a_root_set_but_absent_at_request_time_is_a_503() {
        let e = Config::new(Backend::Simple)
            .root("/nonexistent/sendfile-root")
            .current_root()
            .unwrap_err();
        assert_eq!(e.status(), 503);
        assert!(matches!(e, Error::RootUnavailable(_)));
    }
}
