//! Object storage: files that live in a bucket instead of below a local root.
//!
//! With an [`ObjectStore`] in the [`Config`](crate::Config), [`SendFile::new(key)`] names an
//! object: the key is confined below the store's prefix as a path is below a root, and the
//! backend sends the object with a short-lived presigned URL:
//!
//! - `nginx`: `X-Accel-Redirect` to the internal location (`SENDFILE_URL`), carrying the
//!   presigned path and query (the path escaped twice, since nginx decodes it once); the
//!   location `proxy_pass`es to a **fixed** store endpoint.
//! - `redirect`: `307 Temporary Redirect` to the presigned URL, with the download name and type
//!   signed in (`response-content-disposition`, `response-content-type`) and
//!   `Cache-Control: private, no-store` on the redirect itself.
//!
//! Signing is the small [`Presigner`] trait, so that other signers (CloudFront, Bunny...) can be
//! added outside this crate; [`S3Presigner`](crate::s3::S3Presigner) (feature `s3`, on by
//! default) is S3 SigV4 query presigning.
//!
//! [`SendFile::new(key)`]: https://docs.rs/sendfile-actix/latest/sendfile_actix/struct.SendFile.html
//!
//! ```
//! use std::time::Duration;
//! use sendfile_core::object::{ObjectStore, PresignRequest, PresignedUrl, Presigner};
//! use sendfile_core::{Backend, Config, Error, FileRequest, engine::{Method, Request}};
//!
//! /// A toy signer: real ones sign the method, the path and the expiry.
//! #[derive(Debug)]
//! struct Toy;
//!
//! impl Presigner for Toy {
//!     fn name(&self) -> &str { "toy" }
//!     fn presign(&self, req: &PresignRequest<'_>) -> Result<PresignedUrl, Error> {
//!         let path = format!("/bucket/{}", sendfile_core::encode::percent_encode_path(req.key.as_bytes()));
//!         Ok(PresignedUrl::new("https://store.example", path, format!("sig={}", req.method)))
//!     }
//! }
//!
//! let store = ObjectStore::new(Toy).prefix("files/").expires(Duration::from_secs(60));
//! let config = Config::builder(Backend::Redirect).object_store(store).build().unwrap();
//! let plan = sendfile_core::plan(&config, &FileRequest::new("a b.txt"), &Request::new(Method::Get)).unwrap();
//! assert_eq!(plan.status, 307);
//! assert_eq!(plan.header("Location").unwrap().value, b"https://store.example/bucket/files/a%20b.txt?sig=GET");
//!
//! // A key never leaves the prefix.
//! let err = sendfile_core::plan(&config, &FileRequest::new("../x"), &Request::new(Method::Get)).unwrap_err();
//! assert_eq!(err.status(), 404);
//! ```

use std::fmt;
use std::path::{Component, Path};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::engine::Method;
use crate::error::{ConfigError, Error, NotFoundReason};

/// The HTTP method a presigned URL is bound to.
///
/// A SigV4 presign binds the method: a `HEAD` needs a `HEAD` signature.
///
/// ```
/// use sendfile_core::object::PresignMethod;
/// assert_eq!(PresignMethod::Head.to_string(), "HEAD");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PresignMethod {
    /// `GET`
    Get,
    /// `HEAD`
    Head,
}

impl PresignMethod {
    /// The method a request's method is sent to the store with: `HEAD` for `HEAD`, `GET`
    /// otherwise (nginx turns every other method into `GET` on an `X-Accel-Redirect`).
    ///
    /// ```
    /// use sendfile_core::{engine::Method, object::PresignMethod};
    /// assert_eq!(PresignMethod::for_request(Method::Head), PresignMethod::Head);
    /// assert_eq!(PresignMethod::for_request(Method::Other), PresignMethod::Get);
    /// ```
    pub fn for_request(method: Method) -> PresignMethod {
        match method {
            Method::Head => PresignMethod::Head,
            _ => PresignMethod::Get,
        }
    }
}

impl fmt::Display for PresignMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PresignMethod::Get => "GET",
            PresignMethod::Head => "HEAD",
        })
    }
}

/// What to presign: the object, the method, the lifetime, the response overrides.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use sendfile_core::object::{PresignMethod, PresignRequest};
/// let req = PresignRequest::new(PresignMethod::Get, "files/a.txt", Duration::from_secs(60));
/// assert!(req.at <= SystemTime::now());
/// assert!(req.content_disposition.is_none());
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PresignRequest<'a> {
    /// The method the URL is for.
    pub method: PresignMethod,
    /// The full object key (prefix included), unescaped.
    pub key: &'a str,
    /// How long the URL stays valid.
    pub expires: Duration,
    /// The signing time (the URL is valid from `at` to `at + expires`).
    pub at: SystemTime,
    /// `response-content-type`: the Content-Type the store must answer with.
    pub content_type: Option<&'a str>,
    /// `response-content-disposition`: the Content-Disposition the store must answer with.
    pub content_disposition: Option<&'a str>,
}

impl<'a> PresignRequest<'a> {
    /// A request signed now, without response overrides.
    pub fn new(method: PresignMethod, key: &'a str, expires: Duration) -> Self {
        PresignRequest {
            method,
            key,
            expires,
            at: SystemTime::now(),
            content_type: None,
            content_disposition: None,
        }
    }
}

/// A presigned URL, split so that a front server can route its path: `origin` + `path` + `?` +
/// `query`.
///
/// ```
/// use sendfile_core::object::PresignedUrl;
/// let url = PresignedUrl::new("http://127.0.0.1:9000", "/bucket/a%20b", "X-Amz-Signature=00");
/// assert_eq!(url.to_string(), "http://127.0.0.1:9000/bucket/a%20b?X-Amz-Signature=00");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct PresignedUrl {
    origin: String,
    path: String,
    query: String,
}

impl PresignedUrl {
    /// A URL from its scheme and authority (`https://host:port`), its escaped path (starting
    /// with `/`) and its query (without `?`; may be empty).
    pub fn new(
        origin: impl Into<String>,
        path: impl Into<String>,
        query: impl Into<String>,
    ) -> Self {
        PresignedUrl {
            origin: origin.into(),
            path: path.into(),
            query: query.into(),
        }
    }

    /// `scheme://host[:port]`.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The escaped path, starting with `/`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The query, signature included, without the `?`.
    pub fn query(&self) -> &str {
        &self.query
    }
}

impl fmt::Display for PresignedUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.origin)?;
        f.write_str(&self.path)?;
        if !self.query.is_empty() {
            f.write_str("?")?;
            f.write_str(&self.query)?;
        }
        Ok(())
    }
}

/// The URL carries a signature: shown without its query, so that logs never hold a usable
/// link.
impl fmt::Debug for PresignedUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PresignedUrl({}{}?…)", self.origin, self.path)
    }
}

/// Signs short-lived URLs for objects. Implement it for another store or CDN.
///
/// The implementation must not block on I/O (no requests: signing is computation), must bind
/// the URL to [`PresignRequest::method`], and must never put a secret into its `Debug` output or
/// its errors.
///
/// ```
/// use sendfile_core::Error;
/// use sendfile_core::object::{PresignRequest, PresignedUrl, Presigner};
///
/// #[derive(Debug)]
/// struct Public; // a public bucket: nothing to sign
///
/// impl Presigner for Public {
///     fn name(&self) -> &str { "public" }
///     fn presign(&self, req: &PresignRequest<'_>) -> Result<PresignedUrl, Error> {
///         let path = format!("/{}", sendfile_core::encode::percent_encode_path(req.key.as_bytes()));
///         Ok(PresignedUrl::new("https://cdn.example", path, ""))
///     }
/// }
/// ```
pub trait Presigner: fmt::Debug + Send + Sync + 'static {
    /// A short name for logs.
    fn name(&self) -> &str;

    /// The presigned URL for `request`.
    fn presign(&self, request: &PresignRequest<'_>) -> Result<PresignedUrl, Error>;

    /// The `scheme://host[:port]` every URL it signs starts with, when it is fixed: the
    /// front server's upstream (see [`deploy`](crate::deploy)). Never a secret: no user,
    /// password or query. `None` (the default) when the signer does not say.
    fn origin(&self) -> Option<&str> {
        None
    }
}

/// The default lifetime of a presigned URL (`SENDFILE_S3_EXPIRES`): 60 seconds.
pub const DEFAULT_EXPIRES: Duration = Duration::from_secs(60);

/// The longest lifetime SigV4 allows (7 days).
pub const MAX_EXPIRES: Duration = Duration::from_secs(604_800);

/// A bucket (or any signed store) as the place files live: a [`Presigner`], the key prefix
/// every key is confined below (`SENDFILE_S3_PREFIX`), and how long a URL lives
/// (`SENDFILE_S3_EXPIRES`).
///
/// ```
/// use std::time::Duration;
/// use sendfile_core::object::{ObjectStore, PresignRequest, PresignedUrl, Presigner};
/// # #[derive(Debug)] struct Toy;
/// # impl Presigner for Toy {
/// #     fn name(&self) -> &str { "toy" }
/// #     fn presign(&self, _: &PresignRequest<'_>) -> Result<PresignedUrl, sendfile_core::Error> { unimplemented!() }
/// # }
/// let store = ObjectStore::new(Toy).prefix("/tenants//a/").expires(Duration::from_secs(30));
/// assert_eq!(store.key_prefix().unwrap(), "tenants/a/");
/// assert_eq!(store.key_for("reports/q3.pdf".as_ref()).unwrap(), "tenants/a/reports/q3.pdf");
/// assert!(store.key_for("../b/x".as_ref()).is_err());
/// ```
#[derive(Clone)]
pub struct ObjectStore {
    presigner: Arc<dyn Presigner>,
    prefix: Result<String, ConfigError>,
    expires: Duration,
}

impl fmt::Debug for ObjectStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ObjectStore")
            .field("presigner", &self.presigner)
            .field("prefix", &self.prefix)
            .field("expires", &self.expires)
            .finish()
    }
}

impl ObjectStore {
    /// A store signed by `presigner`, with no prefix and [`DEFAULT_EXPIRES`].
    pub fn new(presigner: impl Presigner) -> Self {
        ObjectStore::from_arc(Arc::new(presigner))
    }

    /// As [`new`](Self::new), with a shared presigner.
    pub fn from_arc(presigner: Arc<dyn Presigner>) -> Self {
        ObjectStore {
            presigner,
            prefix: Ok(String::new()),
            expires: DEFAULT_EXPIRES,
        }
    }

    /// The key prefix (`SENDFILE_S3_PREFIX`), the bucket's equivalent of the root: every key
    /// lies below it. Leading, trailing and repeated slashes are dropped; `.`/`..` segments
    /// and control characters are refused by [`validate`](Self::validate).
    #[must_use]
    pub fn prefix(mut self, prefix: &str) -> Self {
        self.prefix = parse_prefix(prefix);
        self
    }

    /// How long a presigned URL lives (`SENDFILE_S3_EXPIRES`): 1 second to 7 days.
    #[must_use]
    pub fn expires(mut self, expires: Duration) -> Self {
        self.expires = expires;
        self
    }

    /// The presigner.
    pub fn presigner(&self) -> &dyn Presigner {
        self.presigner.as_ref()
    }

    /// The store's `scheme://host[:port]` ([`Presigner::origin`]), e.g.
    /// `http://127.0.0.1:9000` for `SENDFILE_S3_ENDPOINT=http://127.0.0.1:9000`: what the
    /// front server proxies to. Carries no credential.
    pub fn origin(&self) -> Option<&str> {
        self.presigner.origin()
    }

    /// The normalised prefix: empty, or ending with `/`.
    pub fn key_prefix(&self) -> Result<&str, ConfigError> {
        self.prefix.as_deref().map_err(Clone::clone)
    }

    /// The lifetime of a presigned URL.
    pub fn url_lifetime(&self) -> Duration {
        self.expires
    }

    /// Checks the prefix and the lifetime; errors name `SENDFILE_S3_PREFIX` or
    /// `SENDFILE_S3_EXPIRES`.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.key_prefix()?;
        if self.expires < Duration::from_secs(1) || self.expires > MAX_EXPIRES {
            return Err(ConfigError::new(
                "SENDFILE_S3_EXPIRES",
                format!(
                    "{} s is out of range; use 1 to {} seconds (a short lifetime, e.g. 60)",
                    self.expires.as_secs(),
                    MAX_EXPIRES.as_secs()
                ),
            ));
        }
        Ok(())
    }

    /// The key below the prefix that `path` names (the bucket's [`relative_path`]), checked:
    /// UTF-8, relative, no empty, `.` or `..` segment, no control character, at most 1024
    /// bytes with the prefix. A refusal is a 404 ([`Error::NotFound`]), as for paths.
    ///
    /// [`relative_path`]: crate::ResolvedFile::relative_path
    pub fn relative_key(&self, path: &Path) -> Result<String, Error> {
        let prefix = self.key_prefix()?;
        let refuse = |reason| Err(Error::not_found(reason, path));
        let Some(text) = path.to_str() else {
            return refuse(NotFoundReason::InvalidPath);
        };
        if text.is_empty() || text.chars().any(char::is_control) {
            return refuse(NotFoundReason::InvalidPath);
        }
        if text.starts_with('/') || path.is_absolute() {
            return refuse(NotFoundReason::OutsideRoot);
        }
        for segment in text.split('/') {
            match segment {
                ".." => return refuse(NotFoundReason::OutsideRoot),
                "" | "." => return refuse(NotFoundReason::InvalidPath),
                _ => {}
            }
        }
        if path
            .components()
            .any(|c| !matches!(c, Component::Normal(_)))
        {
            return refuse(NotFoundReason::OutsideRoot);
        }
        if prefix.len() + text.len() > 1024 {
            return refuse(NotFoundReason::InvalidPath);
        }
        Ok(text.to_owned())
    }

    /// The full key (prefix included) that `path` names; see
    /// [`relative_key`](Self::relative_key).
    pub fn key_for(&self, path: &Path) -> Result<String, Error> {
        let relative = self.relative_key(path)?;
        Ok(format!("{}{relative}", self.key_prefix()?))
    }

    /// Presigns `request` with this store's presigner.
    pub fn presign(&self, request: &PresignRequest<'_>) -> Result<PresignedUrl, Error> {
        self.presigner.presign(request)
    }
}

/// An object about to be sent: what a backend (built in or [custom]) needs to answer.
///
/// ```
/// use sendfile_core::engine::Method;
/// use sendfile_core::object::{ObjectRequest, ObjectStore};
/// use sendfile_core::s3::{S3Credentials, S3Presigner};
///
/// let s3 = S3Presigner::new("http://127.0.0.1:9000", "protected", "us-east-1",
///     S3Credentials::new("AKIDEXAMPLE", "example-secret")).unwrap();
/// let store = ObjectStore::new(s3).prefix("files");
/// let object = ObjectRequest::new(&store, "files/a.pdf", "a.pdf", Method::Head,
///     "application/pdf", "attachment; filename=\"a.pdf\"");
/// let internal = object.presign_for_method().unwrap();      // nginx keeps the app's headers
/// assert!(!internal.query().contains("response-content-type"));
/// let direct = object.presign_with_overrides().unwrap();    // a client goes to the store
/// assert!(direct.query().contains("response-content-type=application%2Fpdf"));
/// ```
///
/// [custom]: crate::CustomBackend::respond_object
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct ObjectRequest<'a> {
    /// The store.
    pub store: &'a ObjectStore,
    /// The full key, prefix included.
    pub key: &'a str,
    /// The key below the prefix (what a permission check looks at).
    pub relative_key: &'a str,
    /// The client's method.
    pub method: Method,
    /// The Content-Type the client must get.
    pub content_type: &'a str,
    /// The Content-Disposition the client must get.
    pub content_disposition: &'a str,
}

impl<'a> ObjectRequest<'a> {
    /// An object request.
    pub fn new(
        store: &'a ObjectStore,
        key: &'a str,
        relative_key: &'a str,
        method: Method,
        content_type: &'a str,
        content_disposition: &'a str,
    ) -> Self {
        ObjectRequest {
            store,
            key,
            relative_key,
            method,
            content_type,
            content_disposition,
        }
    }

    /// A URL for the request's own method (HEAD for HEAD, GET otherwise), without response
    /// overrides: for a front server that keeps the application's Content-Type and
    /// Content-Disposition (nginx).
    pub fn presign_for_method(&self) -> Result<PresignedUrl, Error> {
        self.presign(PresignMethod::for_request(self.method), false)
    }

    /// A URL for the request's own method with the Content-Type and Content-Disposition
    /// signed in: for a client that goes to the store itself (a redirect).
    pub fn presign_with_overrides(&self) -> Result<PresignedUrl, Error> {
        self.presign(PresignMethod::for_request(self.method), true)
    }

    /// A GET URL with the overrides signed in, whatever the client's method: for a front
    /// server that always fetches with GET and drops the application's headers (H2O's
    /// `X-Reproxy-URL`).
    pub fn presign_get_with_overrides(&self) -> Result<PresignedUrl, Error> {
        self.presign(PresignMethod::Get, true)
    }

    fn presign(&self, method: PresignMethod, overrides: bool) -> Result<PresignedUrl, Error> {
        let mut request = PresignRequest::new(method, self.key, self.store.url_lifetime());
        if overrides {
            request.content_type = Some(self.content_type);
            request.content_disposition = Some(self.content_disposition);
        }
        self.store.presign(&request)
    }
}

fn parse_prefix(prefix: &str) -> Result<String, ConfigError> {
    let err = |m: String| ConfigError::new("SENDFILE_S3_PREFIX", m);
    if prefix.chars().any(char::is_control) {
        return Err(err(format!(
            "{prefix:?} contains a control character; write the prefix in plain text, e.g. \"protected/\""
        )));
    }
    let mut out = String::with_capacity(prefix.len() + 1);
    for segment in prefix.split('/').filter(|s| !s.is_empty()) {
        if segment == "." || segment == ".." {
            return Err(err(format!(
                "{prefix:?} contains a {segment:?} segment; write the prefix without dot segments"
            )));
        }
        out.push_str(segment);
        out.push('/');
    }
    Ok(out)
}

/// A signer for the crate's tests that signs nothing and names no endpoint.
#[cfg(test)]
#[derive(Debug)]
pub(crate) struct Never;

#[cfg(test)]
impl Presigner for Never {
    fn name(&self) -> &str {
        "never"
    }
    fn presign(&self, _: &PresignRequest<'_>) -> Result<PresignedUrl, Error> {
        Err(Error::Io(std::io::Error::other("never")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_never_leave_the_prefix() {
        let store = ObjectStore::new(Never).prefix("p");
        for bad in [
            "../x",
            "a/../../x",
            "/etc/passwd",
            "a//b",
            "a/./b",
            "a/",
            "",
            "..",
            "a\nb",
            "a\u{0}b",
            "a\u{7f}",
            "a\tb",
        ] {
            let e = store.key_for(Path::new(bad)).unwrap_err();
            assert_eq!(e.status(), 404, "{bad:?}");
        }
        let long = "x".repeat(1023);
        assert!(store.key_for(Path::new(&long)).is_err());
        for good in [
            "a b/c%20?#+\"'.txt",
            "\u{1F389} é.txt",
            "..a/b..",
            "a\\b",
            "x",
        ] {
            assert_eq!(store.key_for(Path::new(good)).unwrap(), format!("p/{good}"));
        }
    }

    #[test]
    fn prefix_normalisation_and_refusals() {
        let p = |s: &str| ObjectStore::new(Never).prefix(s);
        assert_eq!(p("").key_prefix().unwrap(), "");
        assert_eq!(p("/").key_prefix().unwrap(), "");
        assert_eq!(p("//a//b/").key_prefix().unwrap(), "a/b/");
        for bad in ["a/../b", "./a", "a\nb"] {
            assert_eq!(
                p(bad).validate().unwrap_err().setting,
                "SENDFILE_S3_PREFIX",
                "{bad}"
            );
        }
    }

    #[test]
    fn expiry_bounds() {
        let s = |secs| ObjectStore::new(Never).expires(Duration::from_secs(secs));
        assert_eq!(s(0).validate().unwrap_err().setting, "SENDFILE_S3_EXPIRES");
        assert_eq!(
            s(604_801).validate().unwrap_err().setting,
            "SENDFILE_S3_EXPIRES"
        );
        s(1).validate().unwrap();
        s(604_800).validate().unwrap();
    }

    #[test]
    fn presigned_url_debug_hides_the_query() {
        let url = PresignedUrl::new("http://h", "/b/k", "X-Amz-Signature=abc");
        assert!(!format!("{url:?}").contains("abc"));
        assert_eq!(url.to_string(), "http://h/b/k?X-Amz-Signature=abc");
    }
}
