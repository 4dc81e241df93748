//! S3 SigV4 query presigning (feature `s3`, on by default), with
//! [`rusty-s3`](https://docs.rs/rusty-s3): sans-IO, synchronous, no async runtime. The library
//! never talks to the store; it only signs.
//!
//! ```
//! use std::time::{Duration, UNIX_EPOCH};
//! use sendfile_core::object::{PresignMethod, PresignRequest, Presigner};
//! use sendfile_core::s3::{S3Credentials, S3Presigner};
//!
//! let credentials = S3Credentials::new("AKIDEXAMPLE", "not-a-real-secret");
//! let s3 = S3Presigner::new("http://127.0.0.1:9000", "protected", "us-east-1", credentials).unwrap();
//! let mut req = PresignRequest::new(PresignMethod::Head, "files/a b.txt", Duration::from_secs(60));
//! req.at = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
//! let url = s3.presign(&req).unwrap();
//! assert_eq!(url.origin(), "http://127.0.0.1:9000");
//! assert_eq!(url.path(), "/protected/files/a%20b.txt");
//! assert!(url.query().contains("X-Amz-Expires=60"));
//! // The secret appears nowhere, not even in Debug output.
//! assert!(!format!("{s3:?}").contains("not-a-real-secret"));
//! ```

use std::fmt;

use rusty_s3::actions::{GetObject, HeadObject};
use rusty_s3::{Bucket, Credentials, UrlStyle};

use crate::error::{ConfigError, Error};
use crate::object::{ObjectStore, PresignMethod, PresignRequest, PresignedUrl, Presigner};

/// The default region (`SENDFILE_S3_REGION`).
pub const DEFAULT_REGION: &str = "us-east-1";

/// Credentials: `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, optional `AWS_SESSION_TOKEN`.
///
/// Its `Debug` output shows the access key id only.
///
/// ```
/// use sendfile_core::s3::S3Credentials;
/// let c = S3Credentials::new("AKID", "s3cr3t").session_token("t0k3n");
/// let shown = format!("{c:?}");
/// assert!(shown.contains("AKID") && !shown.contains("s3cr3t") && !shown.contains("t0k3n"));
/// ```
#[derive(Clone)]
pub struct S3Credentials {
    inner: Credentials,
}

impl S3Credentials {
    /// An access key id and its secret.
    pub fn new(access_key_id: impl Into<String>, secret_access_key: impl Into<String>) -> Self {
        S3Credentials {
            inner: Credentials::new(access_key_id, secret_access_key),
        }
    }

    /// Adds a session token (temporary credentials).
    #[must_use]
    pub fn session_token(self, token: impl Into<String>) -> Self {
        let key = self.inner.key().to_owned();
        let secret = self.inner.secret().to_owned();
        S3Credentials {
            inner: Credentials::new_with_token(key, secret, token),
        }
    }

    /// The access key id.
    pub fn access_key_id(&self) -> &str {
        self.inner.key()
    }
}

impl fmt::Debug for S3Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Credentials")
            .field("access_key_id", &self.inner.key())
            .field("session_token", &self.inner.token().map(|_| "…"))
            .finish_non_exhaustive()
    }
}

/// Checks `bucket` against the S3 naming rules: 3 to 63 of `a-z 0-9 . -`, beginning and
/// ending with a letter or digit, no `..`, not an IPv4 address, none of the prefixes and
/// suffixes S3 reserves. A name such as `.` or `..` would otherwise become a path segment of
/// every URL (`<endpoint>/../key` is `<endpoint>/key`: the key's first segment taken for the
/// bucket).
fn check_bucket_name(bucket: &str) -> Result<(), ConfigError> {
    let why = if !(3..=63).contains(&bucket.len()) {
        Some("is not 3 to 63 characters long")
    } else if let Some(c) = bucket
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '.' || *c == '-'))
    {
        Some(if c.is_ascii_uppercase() {
            "has an upper-case letter"
        } else {
            "has a character other than a-z 0-9 . -"
        })
    } else if !bucket.starts_with(|c: char| c.is_ascii_alphanumeric())
        || !bucket.ends_with(|c: char| c.is_ascii_alphanumeric())
    {
        Some("does not begin and end with a letter or digit")
    } else if bucket.contains("..") {
        Some("has two dots in a row")
    } else if bucket.parse::<std::net::Ipv4Addr>().is_ok() {
        Some("is an IP address")
    } else if ["xn--", "sthree-", "amzn-s3-demo-"]
        .iter()
        .any(|p| bucket.starts_with(p))
        || ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"]
            .iter()
            .any(|s| bucket.ends_with(s))
    {
        Some("has a prefix or suffix S3 reserves")
    } else {
        None
    };
    match why {
        None => Ok(()),
        Some(why) => Err(ConfigError::new(
            "SENDFILE_S3_BUCKET",
            format!(
                "{bucket:?} {why}: it is not an S3 bucket name; set the bucket's name: 3 to 63 of a-z 0-9 . - beginning and ending with a letter or digit (e.g. \"protected-files\")"
            ),
        )),
    }
}

/// S3 SigV4 query presigning, path-style (`<endpoint>/<bucket>/<key>`), for AWS S3 and the
/// S3-compatible stores (MinIO, Ceph RGW, Garage, R2, s3s...).
///
/// ```
/// use sendfile_core::s3::{S3Credentials, S3Presigner};
/// let err = S3Presigner::new("ftp://x", "files", "us-east-1", S3Credentials::new("a", "s")).unwrap_err();
/// assert_eq!(err.setting, "SENDFILE_S3_ENDPOINT");
/// ```
#[derive(Clone)]
pub struct S3Presigner {
    bucket: Bucket,
    credentials: S3Credentials,
    origin: String,
}

impl fmt::Debug for S3Presigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Presigner")
            .field("endpoint", &self.origin)
            .field("bucket", &self.bucket.name())
            .field("region", &self.bucket.region())
            .field("credentials", &self.credentials)
            .finish()
    }
}

impl S3Presigner {
    /// A presigner for `bucket` at `endpoint` (`http://127.0.0.1:9000`,
    /// `https://s3.eu-west-1.amazonaws.com`; a path is kept as a prefix of every URL).
    /// Errors name `SENDFILE_S3_ENDPOINT`, `SENDFILE_S3_BUCKET` or `SENDFILE_S3_REGION`.
    pub fn new(
        endpoint: &str,
        bucket: &str,
        region: &str,
        credentials: S3Credentials,
    ) -> Result<Self, ConfigError> {
        check_bucket_name(bucket)?;
        if region.is_empty()
            || !region
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err(ConfigError::new(
                "SENDFILE_S3_REGION",
                format!("{region:?} is not a region name; use e.g. {DEFAULT_REGION}"),
            ));
        }
        let endpoint_err = |m: String| ConfigError::new("SENDFILE_S3_ENDPOINT", m);
        // Shown in errors without anything that may be a user or password.
        let shown = match endpoint.rsplit_once('@') {
            Some((_, host)) => format!("…@{host}"),
            None => endpoint.to_owned(),
        };
        let url: url::Url = endpoint.parse().map_err(|e| {
            endpoint_err(format!(
                "{shown:?} is not a URL ({e}); use e.g. http://127.0.0.1:9000 or https://s3.eu-west-1.amazonaws.com"
            ))
        })?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(endpoint_err(format!(
                "{shown:?} must be an http:// or https:// URL with a host, e.g. http://127.0.0.1:9000"
            )));
        }
        if url.query().is_some() || !url.username().is_empty() || url.password().is_some() {
            return Err(endpoint_err(
                "the endpoint must carry no query and no user or password; give credentials in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY".into(),
            ));
        }
        let origin = url.origin().ascii_serialization();
        let bucket = Bucket::new(url, UrlStyle::Path, bucket.to_owned(), region.to_owned())
            .map_err(|e| endpoint_err(format!("{shown:?}: {e}")))?;
        Ok(S3Presigner {
            bucket,
            credentials,
            origin,
        })
    }

    /// Reads `SENDFILE_S3_ENDPOINT` (default `https://s3.<region>.amazonaws.com`),
    /// `SENDFILE_S3_BUCKET`, `SENDFILE_S3_REGION` (default `us-east-1`), `AWS_ACCESS_KEY_ID`,
    /// `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN` through `lookup`; `None` when
    /// `SENDFILE_S3_BUCKET` is not set.
    ///
    /// ```
    /// use sendfile_core::s3::S3Presigner;
    /// let err = S3Presigner::from_lookup(|name| match name {
    ///     "SENDFILE_S3_BUCKET" => Some("protected".into()),
    ///     "AWS_ACCESS_KEY_ID" => Some("AKID".into()),
    ///     _ => None,
    /// }).unwrap_err();
    /// assert_eq!(err.setting, "AWS_SECRET_ACCESS_KEY");
    /// ```
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<Self>, ConfigError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let Some(bucket) = get("SENDFILE_S3_BUCKET") else {
            return Ok(None);
        };
        let region = get("SENDFILE_S3_REGION").unwrap_or_else(|| DEFAULT_REGION.to_owned());
        let endpoint = get("SENDFILE_S3_ENDPOINT")
            .unwrap_or_else(|| format!("https://s3.{}.amazonaws.com", region.trim()));
        let missing = |name: &'static str| {
            ConfigError::new(
                name,
                format!(
                    "not set, and SENDFILE_S3_BUCKET is; set {name} to the credentials that may read the bucket"
                ),
            )
        };
        let key = get("AWS_ACCESS_KEY_ID").ok_or_else(|| missing("AWS_ACCESS_KEY_ID"))?;
        let secret =
            get("AWS_SECRET_ACCESS_KEY").ok_or_else(|| missing("AWS_SECRET_ACCESS_KEY"))?;
        let mut credentials = S3Credentials::new(key.trim(), secret.trim());
        if let Some(token) = get("AWS_SESSION_TOKEN") {
            credentials = credentials.session_token(token.trim());
        }
        S3Presigner::new(endpoint.trim(), bucket.trim(), region.trim(), credentials).map(Some)
    }

    /// The bucket's name.
    pub fn bucket_name(&self) -> &str {
        self.bucket.name()
    }

    /// The endpoint's `scheme://host[:port]`: what the front server's fixed upstream must be,
    /// and the `Host` it must send.
    pub fn origin(&self) -> &str {
        &self.origin
    }
}

impl Presigner for S3Presigner {
    fn name(&self) -> &str {
        "s3"
    }

    fn origin(&self) -> Option<&str> {
        Some(S3Presigner::origin(self))
    }

    fn presign(&self, request: &PresignRequest<'_>) -> Result<PresignedUrl, Error> {
        let at = jiff::Timestamp::try_from(request.at).map_err(|e| {
            Error::Io(std::io::Error::other(format!(
                "the signing time cannot be expressed: {e}"
            )))
        })?;
        let credentials = Some(&self.credentials.inner);
        let key = request.key;
        let mut get;
        let mut head;
        let action: &mut dyn Sign<'_> = match request.method {
            PresignMethod::Get => {
                get = GetObject::new(&self.bucket, credentials, key);
                &mut get
            }
            PresignMethod::Head => {
                head = HeadObject::new(&self.bucket, credentials, key);
                &mut head
            }
        };
        if let Some(ct) = request.content_type {
            action.insert("response-content-type", ct);
        }
        if let Some(cd) = request.content_disposition {
            action.insert("response-content-disposition", cd);
        }
        let url = action.sign_at(request.expires, &at);
        Ok(PresignedUrl::new(
            self.origin.clone(),
            url.path().to_owned(),
            url.query().unwrap_or_default().to_owned(),
        ))
    }
}

/// The two actions, behind one object-safe face.
trait Sign<'a> {
    fn insert(&mut self, name: &'a str, value: &'a str);
    fn sign_at(&self, expires: std::time::Duration, at: &jiff::Timestamp) -> url::Url;
}

impl<'a, T: rusty_s3::S3Action<'a>> Sign<'a> for T {
    fn insert(&mut self, name: &'a str, value: &'a str) {
        self.query_mut().insert(name, value);
    }
    fn sign_at(&self, expires: std::time::Duration, at: &jiff::Timestamp) -> url::Url {
        self.sign_with_time(expires, at)
    }
}

/// Reads the whole S3 configuration through `lookup`: the presigner
/// ([`S3Presigner::from_lookup`]), `SENDFILE_S3_PREFIX` and `SENDFILE_S3_EXPIRES` (seconds).
/// `None` when `SENDFILE_S3_BUCKET` is not set.
///
/// ```
/// use sendfile_core::s3::store_from_lookup;
/// let store = store_from_lookup(|name| match name {
///     "SENDFILE_S3_ENDPOINT" => Some("http://127.0.0.1:9000".into()),
///     "SENDFILE_S3_BUCKET" => Some("protected".into()),
///     "SENDFILE_S3_PREFIX" => Some("files".into()),
///     "SENDFILE_S3_EXPIRES" => Some("30".into()),
///     "AWS_ACCESS_KEY_ID" => Some("AKID".into()),
///     "AWS_SECRET_ACCESS_KEY" => Some("secret".into()),
///     _ => None,
/// }).unwrap().unwrap();
/// assert_eq!(store.key_prefix().unwrap(), "files/");
/// assert_eq!(store.url_lifetime().as_secs(), 30);
/// ```
pub fn store_from_lookup(
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<Option<ObjectStore>, ConfigError> {
    let Some(presigner) = S3Presigner::from_lookup(&lookup)? else {
        return Ok(None);
    };
    let mut store = ObjectStore::new(presigner);
    if let Some(prefix) = lookup("SENDFILE_S3_PREFIX") {
        store = store.prefix(&prefix);
    }
    if let Some(expires) = lookup("SENDFILE_S3_EXPIRES").filter(|v| !v.trim().is_empty()) {
        let secs: u64 = expires.trim().parse().map_err(|_| {
            ConfigError::new(
                "SENDFILE_S3_EXPIRES",
                format!("{expires:?} is not a number of seconds; use e.g. 60"),
            )
        })?;
        store = store.expires(std::time::Duration::from_secs(secs));
    }
    store.validate()?;
    Ok(Some(store))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    fn aws() -> S3Presigner {
        S3Presigner::new(
            "https://s3.amazonaws.com",
            "examplebucket",
            "us-east-1",
            S3Credentials::new(
                "AKIAIOSFODNN7EXAMPLE",
                "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            ),
        )
        .unwrap()
    }

    #[test]
    fn matches_the_aws_documented_example() {
        // The example of the "Authenticating Requests: Using Query Parameters" page, path-style.
        let mut req =
            PresignRequest::new(PresignMethod::Get, "test.txt", Duration::from_secs(86400));
        req.at = UNIX_EPOCH + Duration::from_secs(1_369_353_600);
        let url = aws().presign(&req).unwrap();
        assert_eq!(url.path(), "/examplebucket/test.txt");
        assert!(url.query().starts_with("X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"));
        assert!(url.query().contains("&X-Amz-Signature="));
    }

    #[test]
    fn the_method_and_the_overrides_change_the_signature() {
        let s3 = aws();
        let at = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let mut get =
            PresignRequest::new(PresignMethod::Get, "a b/é?#%.txt", Duration::from_secs(60));
        get.at = at;
        let mut head = get.clone();
        head.method = PresignMethod::Head;
        let mut named = get.clone();
        named.content_disposition = Some("attachment; filename=\"x.txt\"");
        named.content_type = Some("text/plain");
        let sig = |u: PresignedUrl| {
            u.query()
                .rsplit_once("X-Amz-Signature=")
                .unwrap()
                .1
                .to_owned()
        };
        let (g, h, n) = (
            s3.presign(&get).unwrap(),
            s3.presign(&head).unwrap(),
            s3.presign(&named).unwrap(),
        );
        assert_eq!(g.path(), "/examplebucket/a%20b/%C3%A9%3F%23%25.txt");
        assert!(
            n.query()
                .contains("response-content-disposition=attachment%3B%20filename%3D%22x.txt%22")
        );
        assert!(n.query().contains("response-content-type=text%2Fplain"));
        let sigs = [sig(g), sig(h), sig(n)];
        assert!(sigs[0] != sigs[1] && sigs[0] != sigs[2] && sigs[1] != sigs[2]);
    }

    #[test]
    fn bucket_names_follow_the_s3_rules() {
        let presign = |b: &str| {
            S3Presigner::new(
                "http://127.0.0.1:9000",
                b,
                "us-east-1",
                S3Credentials::new("a", "s"),
            )
        };
        for good in [
            "protected",
            "abc",
            "my.files-2026",
            &"a".repeat(63),
            "1.2.3",
        ] {
            presign(good).unwrap_or_else(|e| panic!("{good}: {e}"));
        }
        for bad in [
            ".",
            "..",
            "",
            "ab",
            &"a".repeat(64),
            "Protected",
            "under_score",
            "a/b",
            ".abc",
            "abc-",
            "a..b",
            "192.168.1.1",
            "xn--abc",
            "files-s3alias",
            "files.mrap",
        ] {
            let e = presign(bad).unwrap_err();
            assert_eq!(e.setting, "SENDFILE_S3_BUCKET", "{bad}");
            assert!(
                e.message.contains("not an S3 bucket name") && e.message.contains("3 to 63"),
                "{bad}: {e}"
            );
        }
    }

    #[test]
    fn secrets_stay_out_of_debug_and_errors() {
        let creds = S3Credentials::new("AKID", "SECRET-VALUE").session_token("TOKEN-VALUE");
        let s3 = S3Presigner::new("http://127.0.0.1:9000", "bkt", "us-east-1", creds).unwrap();
        let store = ObjectStore::new(s3.clone());
        for shown in [format!("{s3:?}"), format!("{store:?}")] {
            assert!(
                !shown.contains("SECRET-VALUE") && !shown.contains("TOKEN-VALUE"),
                "{shown}"
            );
        }
        let e = S3Presigner::new(
            "http://AKID:SECRET-VALUE@127.0.0.1:9000",
            "bkt",
            "us-east-1",
            S3Credentials::new("a", "s"),
        )
        .unwrap_err();
        assert_eq!(e.setting, "SENDFILE_S3_ENDPOINT");
        assert!(!e.to_string().contains("SECRET-VALUE"), "{e}");
        for bad in ["ftp://AKID:SECRET-VALUE@x", "http://AKID:SECRET VALUE@x y"] {
            let e = S3Presigner::new(bad, "bkt", "us-east-1", S3Credentials::new("a", "s"))
                .unwrap_err();
            assert!(!e.to_string().contains("SECRET"), "{e}");
        }
    }

    #[test]
    fn settings_errors_name_the_setting() {
        let base = [
            ("SENDFILE_S3_BUCKET", "protected"),
            ("AWS_ACCESS_KEY_ID", "AKID"),
            ("AWS_SECRET_ACCESS_KEY", "secret"),
        ];
        let with = |extra: &[(&'static str, &'static str)], drop: &str| {
            let pairs: Vec<(&str, &str)> = base
                .iter()
                .chain(extra)
                .copied()
                .filter(|(k, _)| *k != drop)
                .collect();
            store_from_lookup(move |k| {
                pairs
                    .iter()
                    .rev()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| (*v).to_owned())
            })
        };
        assert!(with(&[], "").unwrap().is_some());
        assert!(with(&[], "SENDFILE_S3_BUCKET").unwrap().is_none());
        for (extra, drop, setting) in [
            (&[][..], "AWS_ACCESS_KEY_ID", "AWS_ACCESS_KEY_ID"),
            (&[][..], "AWS_SECRET_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY"),
            (
                &[("SENDFILE_S3_EXPIRES", "soon")][..],
                "",
                "SENDFILE_S3_EXPIRES",
            ),
            (
                &[("SENDFILE_S3_EXPIRES", "0")][..],
                "",
                "SENDFILE_S3_EXPIRES",
            ),
            (
                &[("SENDFILE_S3_PREFIX", "a/../b")][..],
                "",
                "SENDFILE_S3_PREFIX",
            ),
            (
                &[("SENDFILE_S3_ENDPOINT", "127.0.0.1:9000")][..],
                "",
                "SENDFILE_S3_ENDPOINT",
            ),
            (
                &[("SENDFILE_S3_BUCKET", "Not_A/Bucket")][..],
                "",
                "SENDFILE_S3_BUCKET",
            ),
            (
                &[("SENDFILE_S3_REGION", "eu west")][..],
                "",
                "SENDFILE_S3_REGION",
            ),
        ] {
            let e = with(extra, drop).unwrap_err();
            assert_eq!(e.setting, setting, "{extra:?} {drop}: {e}");
            assert!(!e.message.contains("secret"), "{e}");
        }
    }
}
