//! Configuration: backend, root, URL prefix, and the checks that run at start-up.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::backend::Backend;
use crate::confine::Root;
use crate::engine::RangeLimits;
use crate::error::{ConfigError, Error};
use crate::object::ObjectStore;
use crate::policy::ContentPolicy;
use crate::streams::{DEFAULT_SEND_TIMEOUT, StreamPermit, StreamSlots};
use crate::url::UrlPrefix;
use crate::watch::RootWatch;

/// A configuration that has been checked: which backend, which root (or bucket), which URL
/// prefix. Valid by construction: it comes only from [`ConfigBuilder::build`] (or
/// [`Config::from_env`] / [`Config::from_lookup`]), which run at start-up and refuse, naming
/// the setting and the fix, what could not serve. A request never finds a missing root, a
/// malformed URL prefix or a root beside a bucket; what can still fail at request time is the
/// world (the root replaced or gone: [`Error::RootUnavailable`], 503) and a per-request
/// backend that this configuration cannot serve ([`Config::check_backend`]).
///
/// ```
/// use sendfile_core::{Backend, Config};
/// let dir = tempfile::tempdir().unwrap();
/// let config = Config::builder(Backend::Nginx).root(dir.path()).url("/protected/").build().unwrap();
/// assert_eq!(config.url_prefix().unwrap().as_str(), "/protected");
///
/// let missing_url = Config::builder(Backend::Nginx).root(dir.path()).build();
/// assert_eq!(missing_url.unwrap_err().setting, "SENDFILE_URL");
/// ```
#[derive(Debug, Clone)]
pub struct Config {
    backend: Backend,
    url: Option<UrlPrefix>,
    check_file_exists: bool,
    follow_symlinks: bool,
    range_limits: RangeLimits,
    content_policy: ContentPolicy,
    /// Where files come from: a root or a bucket, never both, never neither.
    source: Files,
    send_timeout: Duration,
    /// Shared by clones: the streams in progress, and their cap. Made anew by every
    /// [`ConfigBuilder::build`], so it also tells a configuration from another
    /// ([`Config::is_same`]).
    streams: Arc<StreamSlots>,
}

/// Where a configuration's files come from, kept.
#[derive(Debug, Clone)]
enum Files {
    /// Shared by clones: the root standing at the configured path, looked at again now and then.
    Root(Arc<RootWatch>),
    /// The bucket files are sent from.
    Bucket(ObjectStore),
}

/// The settings of a [`Config`], before they are checked: every setter takes what it is given,
/// and [`build`](ConfigBuilder::build) checks it all at once, at start-up.
///
/// ```
/// use sendfile_core::{Backend, Config};
/// let dir = tempfile::tempdir().unwrap();
/// let builder = Config::builder(Backend::XSendfile).root(dir.path());
/// let config = builder.clone().build().unwrap();
/// assert_eq!(config.backend(), &Backend::XSendfile);
///
/// // A malformed URL prefix is refused when built, naming the setting.
/// let err = builder.url("/a/../b").build().unwrap_err();
/// assert_eq!(err.setting, "SENDFILE_URL");
/// ```
#[derive(Debug, Clone)]
#[must_use = "a ConfigBuilder does nothing until .build() checks it into a Config"]
pub struct ConfigBuilder {
    backend: Backend,
    root: Option<PathBuf>,
    /// The URL prefix as parsed; a malformed one waits here for [`ConfigBuilder::build`].
    url: Option<Result<UrlPrefix, ConfigError>>,
    check_file_exists: bool,
    follow_symlinks: bool,
    range_limits: RangeLimits,
    content_policy: ContentPolicy,
    store: Option<ObjectStore>,
    send_timeout: Duration,
    max_streams: Option<usize>,
}

impl Config {
    /// The settings for `backend`, to be completed (at least a [`root`](ConfigBuilder::root) or
    /// a [`bucket`](ConfigBuilder::object_store)) and [built](ConfigBuilder::build).
    pub fn builder(backend: Backend) -> ConfigBuilder {
        ConfigBuilder {
            backend,
            root: None,
            url: None,
            check_file_exists: true,
            follow_symlinks: true,
            range_limits: RangeLimits::default(),
            content_policy: ContentPolicy::Untrusted,
            store: None,
            send_timeout: DEFAULT_SEND_TIMEOUT,
            max_streams: None,
        }
    }
}

impl ConfigBuilder {
    /// Sets the root directory (`SENDFILE_ROOT`): every file served lies inside it.
    pub fn root(mut self, root: impl AsRef<Path>) -> Self {
        self.root = Some(root.as_ref().to_path_buf());
        self
    }

    /// Sets the internal URL prefix (`SENDFILE_URL`), required by `nginx`, `mod_wsgi` and `caddy`.
    /// A malformed prefix is refused by [`build`](Self::build).
    pub fn url(mut self, url: impl AsRef<str>) -> Self {
        self.url = Some(UrlPrefix::parse(url.as_ref()));
        self
    }

    /// Whether offload backends check that the file exists before naming it
    /// (`SENDFILE_CHECK_FILE_EXISTS`, default true). With false, a file only the front server
    /// has can be named; the path is then confined lexically, and what exists of it locally
    /// must not lead out of the root through a symlink. In-process backends always need the
    /// file.
    pub fn check_file_exists(mut self, check: bool) -> Self {
        self.check_file_exists = check;
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
    pub fn follow_symlinks(mut self, follow: bool) -> Self {
        self.follow_symlinks = follow;
        self
    }

    /// Replaces the backend.
    pub fn backend(mut self, backend: Backend) -> Self {
        self.backend = backend;
        self
    }

    /// Limits on multi-range requests for in-process backends.
    pub fn range_limits(mut self, limits: RangeLimits) -> Self {
        self.range_limits = limits;
        self
    }

    /// The [content policy](crate::policy) of every file (`SENDFILE_CONTENT_POLICY`, default
    /// [`ContentPolicy::Untrusted`]: active content as an attachment, a sandbox on every file
    /// response). [`ContentPolicy::Trusted`] is for a root or bucket that holds only content
    /// the application controls; one file can still be marked through
    /// [`FileRequest::content_policy`](crate::FileRequest::content_policy).
    ///
    /// ```
    /// use sendfile_core::{Backend, Config, ContentPolicy};
    /// let dir = tempfile::tempdir().unwrap();
    /// let config = Config::builder(Backend::Simple)
    ///     .root(dir.path())
    ///     .content_policy(ContentPolicy::Trusted)
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(config.content_policy(), ContentPolicy::Trusted);
    /// ```
    pub fn content_policy(mut self, policy: ContentPolicy) -> Self {
        self.content_policy = policy;
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
    /// let builder = Config::builder(Backend::Nginx).url("/_s3").object_store(ObjectStore::new(s3));
    /// let config = builder.clone().build().unwrap();
    /// assert!(config.store().is_some());
    ///
    /// // A root as well: refused, naming the setting.
    /// let both = builder.clone().root(std::env::temp_dir()).build();
    /// assert_eq!(both.unwrap_err().setting, "SENDFILE_S3_BUCKET");
    /// // A backend that cannot send from a bucket: refused.
    /// let xsendfile = builder.backend(Backend::XSendfile).build();
    /// assert_eq!(xsendfile.unwrap_err().setting, "SENDFILE_BACKEND");
    /// ```
    pub fn object_store(mut self, store: ObjectStore) -> Self {
        self.store = Some(store);
        self
    }

    /// In-process backends: how long a streamed body may go without progress before the
    /// connection is closed (`SENDFILE_SEND_TIMEOUT`, default 60 s, like nginx's
    /// `send_timeout`). Progress is the client taking the next chunk of the file (16 to
    /// 128 KiB); a client slower than that, or one that stopped reading, is cut off and its file
    /// closed. Zero is refused by [`build`](Self::build).
    ///
    /// ```
    /// use std::time::Duration;
    /// use sendfile_core::{Backend, Config};
    /// # let dir = tempfile::tempdir().unwrap();
    /// let config = Config::builder(Backend::Simple)
    ///     .root(dir.path())
    ///     .send_timeout(Duration::from_secs(30))
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(config.send_timeout_duration(), Duration::from_secs(30));
    /// ```
    pub fn send_timeout(mut self, timeout: Duration) -> Self {
        self.send_timeout = timeout;
        self
    }

    /// In-process backends: at most `max` bodies streamed at once by the configuration and
    /// its clones (`SENDFILE_MAX_STREAMS`, default: no cap). A download past the cap is
    /// answered `503 Service Unavailable` with `Retry-After`, before the file is opened; HEAD
    /// requests and answers without a body (304, 412...) do not count. Zero is refused by
    /// [`build`](Self::build).
    ///
    /// ```
    /// use sendfile_core::{Backend, Config};
    /// # let dir = tempfile::tempdir().unwrap();
    /// let config = Config::builder(Backend::Simple).root(dir.path()).max_streams(1000).build().unwrap();
    /// assert_eq!(config.stream_slots().max(), Some(1000));
    /// ```
    pub fn max_streams(mut self, max: usize) -> Self {
        self.max_streams = Some(max);
        self
    }

    /// Checks everything and makes the [`Config`]: a root that is an existing directory the
    /// process can search (not `/`, nor on a kernel pseudo-filesystem such as `proc` or
    /// `sysfs`), opened now and kept for the
    /// requests; or a valid bucket, with a backend able to send from it, and no root besides;
    /// a valid URL prefix where the backend needs one; a send timeout and a stream cap above
    /// zero. Call it at start-up: the error names the setting at fault and the fix.
    ///
    /// ```
    /// use sendfile_core::{Backend, Config};
    /// let err = Config::builder(Backend::Simple).root("/").build().unwrap_err();
    /// assert_eq!(err.setting, "SENDFILE_ROOT");
    /// ```
    pub fn build(self) -> Result<Config, ConfigError> {
        let checked = self.check()?;
        let source = match checked.source {
            Source::Bucket(store) => Files::Bucket(store.clone()),
            Source::Root(path) => {
                let watch = Arc::new(RootWatch::new(path.to_path_buf()));
                let follow = self.follow_symlinks;
                watch.reopen(|| open_root_at(watch.path(), follow))?;
                Files::Root(watch)
            }
        };
        Ok(Config {
            backend: self.backend.clone(),
            url: checked.url.cloned(),
            check_file_exists: self.check_file_exists,
            follow_symlinks: self.follow_symlinks,
            range_limits: self.range_limits,
            content_policy: self.content_policy,
            source,
            send_timeout: self.send_timeout,
            streams: StreamSlots::new(self.max_streams),
        })
    }

    /// Every check of [`build`](Self::build) that does not need the root to exist: what a
    /// configuration generated for another machine is checked against. The root is refused
    /// by the same rule as in `build` (`/` however written, a kernel pseudo-filesystem judged
    /// by its type where it exists here, by its path where it does not).
    pub(crate) fn check(&self) -> Result<Checked<'_>, ConfigError> {
        let url = match &self.url {
            Some(Ok(url)) => Some(url),
            Some(Err(e)) => return Err(e.clone()),
            None if self.backend.needs_url() => return Err(missing_url(&self.backend)),
            None => None,
        };
        if self.send_timeout.is_zero() {
            return Err(ConfigError::new(
                "SENDFILE_SEND_TIMEOUT",
                "is zero; use a duration such as 60s (a stalled download would otherwise be cut at once)",
            ));
        }
        if self.max_streams == Some(0) {
            return Err(ConfigError::new(
                "SENDFILE_MAX_STREAMS",
                "is zero, which refuses every download; use a count such as 1000, or leave it unset for no cap",
            ));
        }
        let source = match (&self.store, &self.root) {
            (Some(_), Some(_)) => {
                return Err(ConfigError::new(
                    "SENDFILE_S3_BUCKET",
                    "set together with SENDFILE_ROOT; files come from one place: unset SENDFILE_ROOT to send from the bucket, or SENDFILE_S3_BUCKET to send from the root",
                ));
            }
            (Some(store), None) => {
                store_fits(&self.backend)?;
                store.validate()?;
                Source::Bucket(store)
            }
            (None, _) if self.backend.needs_object_store() => {
                return Err(missing_store(&self.backend));
            }
            (None, Some(root)) => {
                crate::confine::check_root_setting(root)?;
                Source::Root(root)
            }
            (None, None) => {
                return Err(ConfigError::new(
                    "SENDFILE_ROOT",
                    "not set; call .root(\"/srv/files\") or set SENDFILE_ROOT to the directory that holds the protected files",
                ));
            }
        };
        Ok(Checked {
            backend: &self.backend,
            url,
            source,
            content_policy: self.content_policy,
        })
    }
}

/// The settings that say what a front server must be told, checked: from a [`ConfigBuilder`]
/// (no filesystem looked at) or a [`Config`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Checked<'a> {
    pub(crate) backend: &'a Backend,
    pub(crate) url: Option<&'a UrlPrefix>,
    pub(crate) source: Source<'a>,
    pub(crate) content_policy: ContentPolicy,
}

/// Where a [`Config`]'s files come from: a root directory or a bucket, never both
/// ([`Config::source`]).
#[derive(Debug, Clone, Copy)]
pub enum Source<'a> {
    /// The root directory, as configured (`SENDFILE_ROOT`).
    Root(&'a Path),
    /// The bucket (`SENDFILE_S3_*`).
    Bucket(&'a ObjectStore),
}

impl Config {
    /// Where files come from.
    ///
    /// ```
    /// use sendfile_core::{Backend, Config, Source};
    /// let dir = tempfile::tempdir().unwrap();
    /// let config = Config::builder(Backend::XSendfile).root(dir.path()).build().unwrap();
    /// assert!(matches!(config.source(), Source::Root(root) if root == dir.path()));
    /// ```
    pub fn source(&self) -> Source<'_> {
        match &self.source {
            Files::Root(watch) => Source::Root(watch.path()),
            Files::Bucket(store) => Source::Bucket(store),
        }
    }

    /// What a front server must be told.
    pub(crate) fn checked(&self) -> Checked<'_> {
        Checked {
            backend: &self.backend,
            url: self.url.as_ref(),
            source: self.source(),
            content_policy: self.content_policy,
        }
    }

    /// The bucket, when files are sent from one.
    pub fn store(&self) -> Option<&ObjectStore> {
        match &self.source {
            Files::Bucket(store) => Some(store),
            Files::Root(_) => None,
        }
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
    /// [`max_streams`](ConfigBuilder::max_streams) is reached.
    pub fn acquire_stream(&self) -> Result<StreamPermit, Error> {
        self.streams.try_acquire().ok_or_else(|| {
            Error::Overloaded(crate::error::Overload::Streams {
                max: self.streams.max().unwrap_or(usize::MAX),
            })
        })
    }

    /// Reads `SENDFILE_BACKEND`, `SENDFILE_ROOT`, `SENDFILE_URL`, `SENDFILE_CHECK_FILE_EXISTS`,
    /// `SENDFILE_FOLLOW_SYMLINKS`, `SENDFILE_SEND_TIMEOUT` (seconds, or with a unit: `500ms`,
    /// `2m`) and `SENDFILE_MAX_STREAMS` from the environment, and builds the configuration. With
    /// the `s3` feature (default), also `SENDFILE_S3_ENDPOINT`, `SENDFILE_S3_BUCKET`,
    /// `SENDFILE_S3_REGION`, `SENDFILE_S3_PREFIX`, `SENDFILE_S3_EXPIRES`, `AWS_ACCESS_KEY_ID`,
    /// `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN` (see
    /// [`s3::store_from_lookup`](crate::s3::store_from_lookup)).
    pub fn from_env() -> Result<Config, ConfigError> {
        ConfigBuilder::from_env()?.build()
    }

    /// Like [`from_env`](Self::from_env), reading the settings through `lookup`.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        ConfigBuilder::from_lookup(lookup)?.build()
    }

    /// The backend.
    pub fn backend(&self) -> &Backend {
        &self.backend
    }

    /// The root as given; `None` when files come from a bucket.
    pub fn root_path(&self) -> Option<&Path> {
        match &self.source {
            Files::Root(watch) => Some(watch.path()),
            Files::Bucket(_) => None,
        }
    }

    /// The URL prefix, when set (always set for a backend that needs one).
    pub fn url_prefix(&self) -> Option<&UrlPrefix> {
        self.url.as_ref()
    }

    /// Checks that `backend`, when it is not this configuration's own (a per-request override),
    /// can serve with this configuration: its URL prefix and its source of files. The
    /// configuration's own backend always can (checked when it was built).
    ///
    /// ```
    /// use sendfile_core::{Backend, Config};
    /// let dir = tempfile::tempdir().unwrap();
    /// let config = Config::builder(Backend::Simple).root(dir.path()).build().unwrap();
    /// config.check_backend(&Backend::XSendfile).unwrap();
    /// assert_eq!(config.check_backend(&Backend::Nginx).unwrap_err().setting, "SENDFILE_URL");
    /// assert_eq!(config.check_backend(&Backend::Redirect).unwrap_err().setting, "SENDFILE_S3_BUCKET");
    /// ```
    pub fn check_backend(&self, backend: &Backend) -> Result<(), ConfigError> {
        if std::ptr::eq(backend, &self.backend) {
            return Ok(());
        }
        if self.url.is_none() && backend.needs_url() {
            return Err(missing_url(backend));
        }
        match &self.source {
            Files::Bucket(_) => store_fits(backend),
            Files::Root(_) if backend.needs_object_store() => Err(missing_store(backend)),
            Files::Root(_) => Ok(()),
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

    /// The [content policy](crate::policy) of files whose request does not choose one.
    pub fn content_policy(&self) -> ContentPolicy {
        self.content_policy
    }

    /// Whether `other` is this configuration or a clone of it (every
    /// [`build`](ConfigBuilder::build) makes a new configuration).
    pub fn is_same(&self, other: &Config) -> bool {
        Arc::ptr_eq(&self.streams, &other.streams)
    }

    /// The root for a request. The path is looked at again at most every
    /// [`RECHECK`](crate::RECHECK): when another directory stands there (a deploy flipped
    /// a symlink, a restore replaced it), that one is opened and used; while nothing valid
    /// stands there, this is [`Error::RootUnavailable`] (503), logged once. A configuration
    /// that sends from a bucket has no root: [`Error::Config`] naming `SENDFILE_ROOT`.
    pub fn current_root(&self) -> Result<Arc<Root>, Error> {
        match &self.source {
            Files::Root(watch) => watch
                .get(|| open_root_at(watch.path(), self.follow_symlinks), watch.path())
                .map_err(Error::RootUnavailable),
            Files::Bucket(_) => Err(ConfigError::new(
                "SENDFILE_ROOT",
                "not set: this configuration sends files from a bucket (SENDFILE_S3_BUCKET); resolve keys with the object store",
            )
            .into()),
        }
    }
}

impl ConfigBuilder {
    /// The settings read from the environment, as [`Config::from_env`] reads them, not yet
    /// built: to add what the environment does not say before [`build`](Self::build).
    pub fn from_env() -> Result<ConfigBuilder, ConfigError> {
        ConfigBuilder::from_lookup(|name| {
            std::env::var_os(name).map(|v| v.to_string_lossy().into_owned())
        })
    }

    /// Like [`from_env`](Self::from_env), reading the settings through `lookup`.
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<ConfigBuilder, ConfigError> {
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
        let mut config = Config::builder(backend);
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
        if let Some(policy) = lookup("SENDFILE_CONTENT_POLICY").filter(|p| !p.is_empty()) {
            config = config.content_policy(match policy.trim() {
                "untrusted" => ContentPolicy::Untrusted,
                "trusted" => ContentPolicy::Trusted,
                other => {
                    return Err(ConfigError::new(
                        "SENDFILE_CONTENT_POLICY",
                        format!(
                            "{other:?} is not a content policy; use untrusted (the default) or trusted (only for content the application controls)"
                        ),
                    ));
                }
            });
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
        Ok(config)
    }
}

fn open_root_at(path: &Path, follow_symlinks: bool) -> Result<Root, ConfigError> {
    Ok(Root::open(path)?.follow_symlinks(follow_symlinks))
}

fn missing_url(backend: &Backend) -> ConfigError {
    ConfigError::new(
        "SENDFILE_URL",
        format!(
            "not set, and the {backend} backend needs it; call .url(\"/protected\") or set SENDFILE_URL to the front server's internal location"
        ),
    )
}

fn missing_store(backend: &Backend) -> ConfigError {
    ConfigError::new(
        "SENDFILE_S3_BUCKET",
        format!(
            "not set, and the {backend} backend sends objects from a bucket only; set SENDFILE_S3_BUCKET (and SENDFILE_S3_ENDPOINT, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY), or use a local backend such as nginx"
        ),
    )
}

/// Whether `backend` can send objects from a bucket.
fn store_fits(backend: &Backend) -> Result<(), ConfigError> {
    if backend.sends_objects() {
        return Ok(());
    }
    Err(ConfigError::new(
        "SENDFILE_BACKEND",
        format!(
            "the {backend} backend cannot send objects from a bucket (SENDFILE_S3_BUCKET is set); use nginx (with an internal location that proxies to the store) or redirect"
        ),
    ))
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
        assert_eq!(c.url_prefix().unwrap().as_str(), "/protected");
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
            Config::builder(b).root(dir.path()).build().unwrap();
        }
        for b in [Backend::Nginx, Backend::ModWsgi, Backend::Caddy] {
            let e = Config::builder(b).root(dir.path()).build().unwrap_err();
            assert_eq!(e.setting, "SENDFILE_URL");
        }
    }

    #[test]
    fn missing_root_is_refused_when_built_naming_the_fix() {
        let e = Config::builder(Backend::Simple).build().unwrap_err();
        assert_eq!(e.setting, "SENDFILE_ROOT");
        assert!(e.message.contains(".root("));
        let e = Config::builder(Backend::Simple)
            .root("/nonexistent/sendfile-root")
            .build()
            .unwrap_err();
        assert_eq!(e.setting, "SENDFILE_ROOT");
    }

    #[test]
    fn a_malformed_url_is_refused_when_built_and_a_later_good_one_wins() {
        let dir = tempfile::tempdir().unwrap();
        for bad in ["/a/../b", "/a?b", "relative", "/a\r\nX: y"] {
            let e = Config::builder(Backend::Simple)
                .root(dir.path())
                .url(bad)
                .build()
                .unwrap_err();
            assert_eq!(e.setting, "SENDFILE_URL", "{bad:?}");
        }
        let config = Config::builder(Backend::Nginx)
            .root(dir.path())
            .url("/a/../b")
            .url("/good")
            .build()
            .unwrap();
        assert_eq!(config.url_prefix().unwrap().as_str(), "/good");
    }

    #[test]
    fn clones_are_the_same_configuration_and_builds_are_not() {
        let dir = tempfile::tempdir().unwrap();
        let settings = Config::builder(Backend::Nginx).root(dir.path()).url("/a");
        let base = settings.clone().build().unwrap();
        assert!(base.is_same(&base.clone()));
        assert!(!base.is_same(&settings.clone().build().unwrap()));
        assert!(!base.is_same(&settings.clone().url("/b").build().unwrap()));
        let bucket = Config::builder(Backend::Redirect)
            .object_store(crate::object::ObjectStore::new(crate::object::Never))
            .build()
            .unwrap();
        assert!(bucket.is_same(&bucket.clone()));
        assert!(!bucket.is_same(&base));
    }

    #[test]
    fn a_per_request_backend_is_checked_against_the_configuration() {
        let dir = tempfile::tempdir().unwrap();
        let local = Config::builder(Backend::Simple)
            .root(dir.path())
            .build()
            .unwrap();
        local.check_backend(local.backend()).unwrap();
        local.check_backend(&Backend::Lighttpd).unwrap();
        for (backend, setting) in [
            (Backend::Nginx, "SENDFILE_URL"),
            (Backend::Redirect, "SENDFILE_S3_BUCKET"),
        ] {
            let e = local.check_backend(&backend).unwrap_err();
            assert_eq!(e.setting, setting, "{backend}");
        }
        let bucket = Config::builder(Backend::Redirect)
            .object_store(crate::object::ObjectStore::new(crate::object::Never))
            .build()
            .unwrap();
        assert!(matches!(bucket.source(), Source::Bucket(_)));
        let e = bucket.check_backend(&Backend::Simple).unwrap_err();
        assert_eq!(e.setting, "SENDFILE_BACKEND");
        // A bucket has no root: asking for one is a configuration error (500), not a 503.
        let e = bucket.current_root().unwrap_err();
        assert_eq!(e.status(), 500);
    }

    #[test]
    fn a_root_gone_at_request_time_is_a_503() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("files");
        std::fs::create_dir(&root).unwrap();
        let config = Config::builder(Backend::Simple)
            .root(&root)
            .build()
            .unwrap();
        std::fs::remove_dir(&root).unwrap();
        // Looked at again after the recheck interval.
        let start = std::time::Instant::now();
        let e = loop {
            match config.current_root() {
                Err(e) => break e,
                Ok(_) => {
                    assert!(start.elapsed() < crate::RECHECK * 3, "never noticed");
                    std::thread::yield_now();
                }
            }
        };
        assert_eq!(e.status(), 503);
        assert!(matches!(e, Error::RootUnavailable(_)));
    }

    #[test]
    fn check_refuses_the_roots_build_refuses_even_where_they_do_not_exist() {
        let check = |root: &str| {
            Config::builder(Backend::Nginx)
                .root(root)
                .url("/protected")
                .check()
                .map(|_| ())
        };
        for (root, says) in [
            ("/", "the whole filesystem"),
            ("/./", "the whole filesystem"),
            ("/srv/..", "the whole filesystem"),
            ("/srv/files/../../", "the whole filesystem"),
            ("/proc", "kernel"),
            ("/sys/kernel", "kernel"),
            ("/proc/no-such-dir-here", "does not exist on this machine"),
            ("/dev/no-such-dir-here", "does not exist on this machine"),
        ] {
            let err = check(root).unwrap_err();
            assert_eq!(err.setting, "SENDFILE_ROOT", "{root}");
            assert!(err.message.contains(says), "{root}: {err}");
            assert!(err.message.contains("set it to"), "{root}: {err}");
            // build() refuses it too.
            Config::builder(Backend::Nginx)
                .root(root)
                .url("/protected")
                .build()
                .unwrap_err();
        }
        // A root for another machine, which does not exist here, is fine.
        check("/srv/no-such-dir-here/files").unwrap();
    }
}
