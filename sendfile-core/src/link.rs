//! Signed, expiring links: minted by the application, checked by nginx's `secure_link` (the
//! application is not asked at all) or by the library, with one link format.
//!
//! A link names a file below the root, at a URL below the signer's location (`/signed` by
//! default), and carries its signature and expiry in the query:
//!
//! ```text
//! /signed/reports/q3%20final.pdf?expires=1767225600&md5=bC3Jb2dVX0VHbXdv...
//! ```
//!
//! What is signed is what the server compares: the *decoded, normalised* path (nginx's `$uri`),
//! never the percent-encoded URL, so every file name works, spaces, `%`, `?`, `#` and non-ASCII
//! letters included. Optional bindings travel in the query and are signed as well:
//!
//! - `scope=N`: the link grants every file below the first `N` directories of its path (a
//!   page of many files, an HLS playlist and its segments): [`LinkBuilder::prefix`];
//! - `ip=1`: the link only works from one client address: [`LinkBuilder::client`].
//!
//! Refused: a tampered signature, path, expiry or binding (403), an expired link (410), a link
//! moved to another file (403), and any request whose target has a `.` or `..` segment, an
//! empty segment, a trailing `/`, or an encoded dot, slash or NUL (`%2e`, `%2f`, `%00`: 403).
//!
//! # Schemes
//!
//! - [`LinkScheme::NginxMd5`] (`md5=`, the default): what nginx's `secure_link_md5` checks:
//!   `base64url(MD5(secret "|" expires "|" scope "|" client "|" secret))`. The secret at both
//!   ends means that nobody without it knows MD5's internal state at any point of the input, so
//!   the collision attacks on MD5 (which need that state: a chosen-prefix collision on a file
//!   name) buy nothing, and the fields are delimited so that no two (expiry, scope, client)
//!   triples give the same text. What MD5 cannot promise: it is not a proven MAC. The known
//!   attacks on this "envelope" construction recover the key with about 2^64 chosen signed
//!   texts, far beyond what an application mints, but the margin is that of a 128-bit hash
//!   from 1992: keep links short-lived (hours, at most days), rotate the secret (which revokes
//!   every link), and use a secret of at least [`MIN_SECRET_LEN`] random characters.
//! - [`LinkScheme::HmacSha256`] (`sig=`): `base64url(HMAC-SHA256(secret, expires "|" scope
//!   "|" client))`, for links the library checks (the in-process backends, and Apache,
//!   lighttpd and Caddy, which have no checker of their own). nginx cannot check it without a
//!   scripting module.
//!
//! ```
//! use std::time::{Duration, SystemTime};
//! use sendfile_core::link::{LinkError, LinkSigner};
//!
//! let signer = LinkSigner::new("0123456789abcdefghijklmnopqrstuvwxyzABCD").unwrap();
//! let link = signer.link("reports/q3 final.pdf").expires_in(Duration::from_secs(3600)).build().unwrap();
//! assert!(link.starts_with("/signed/reports/q3%20final.pdf?expires="));
//!
//! let (path, query) = link.split_once('?').unwrap();
//! let verified = signer.verify(path, Some(query), None, SystemTime::now()).unwrap();
//! assert_eq!(verified.relative_path(), std::path::Path::new("reports/q3 final.pdf"));
//!
//! // The same signature on another file is refused.
//! let moved = signer.verify("/signed/reports/salaries.csv", Some(query), None, SystemTime::now());
//! assert_eq!(moved.unwrap_err(), LinkError::Forged);
//! // An hour and a minute later, it has expired.
//! let later = SystemTime::now() + Duration::from_secs(3660);
//! assert_eq!(signer.verify(path, Some(query), None, later).unwrap_err(), LinkError::Expired);
//! ```

use std::fmt;
use std::net::IpAddr;
use std::os::unix::ffi::OsStrExt as _;
use std::path::{Component, Path, PathBuf};
use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac as _};
use md5::{Digest as _, Md5};
use sha2::Sha256;

use crate::encode::{percent_decode, percent_encode_into};
use crate::error::ConfigError;
use crate::url::UrlPrefix;

/// The shortest secret a [`LinkSigner`] accepts, in characters.
pub const MIN_SECRET_LEN: usize = 32;

/// The URL prefix of signed links when `SENDFILE_LINK_URL` is not set.
pub const DEFAULT_LOCATION: &str = "/signed";

/// How long a link lives when [`LinkBuilder`] is not told: one hour.
pub const DEFAULT_LIFETIME: Duration = Duration::from_secs(3600);

/// The deepest directory a prefix link may be bound to ([`LinkBuilder::prefix`]): the
/// `scope` parameter is one digit.
pub const MAX_SCOPE_DEPTH: usize = 9;

/// How a link is signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum LinkScheme {
    /// `md5=`: nginx's `secure_link_md5`, checked by nginx or by the library (the default).
    #[default]
    NginxMd5,
    /// `sig=`: HMAC-SHA256, checked by the library only.
    HmacSha256,
}

impl LinkScheme {
    /// `md5` or `hmac-sha256`, as `SENDFILE_LINK_SCHEME` spells it.
    pub fn name(self) -> &'static str {
        match self {
            LinkScheme::NginxMd5 => "md5",
            LinkScheme::HmacSha256 => "hmac-sha256",
        }
    }

    /// The query parameter that carries the signature.
    fn param(self) -> &'static str {
        match self {
            LinkScheme::NginxMd5 => "md5",
            LinkScheme::HmacSha256 => "sig",
        }
    }

    /// The length of the raw signature, in bytes.
    fn tag_len(self) -> usize {
        match self {
            LinkScheme::NginxMd5 => 16,
            LinkScheme::HmacSha256 => 32,
        }
    }
}

impl FromStr for LinkScheme {
    type Err = ConfigError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "md5" => Ok(LinkScheme::NginxMd5),
            "hmac-sha256" => Ok(LinkScheme::HmacSha256),
            other => Err(ConfigError::new(
                "SENDFILE_LINK_SCHEME",
                format!(
                    "unknown scheme {other:?}; use md5 (checked by nginx or the app) or hmac-sha256 (checked by the app only)"
                ),
            )),
        }
    }
}

impl fmt::Display for LinkScheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a link was refused (or could not be minted).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LinkError {
    /// The signature does not match the path, expiry and bindings (tampered, moved to another
    /// file, used from another client address, or signed with another secret): 403.
    Forged,
    /// The signature matches, and the expiry has passed: 410.
    Expired,
    /// The request is not a well-formed link: outside the location, a `.`/`..`/empty segment,
    /// an encoded dot, slash or NUL, or a missing or malformed parameter: 403. For minting, the
    /// path or prefix given is not a plain relative path. The text is for the log.
    Malformed(String),
}

impl LinkError {
    /// The HTTP status to answer with: 410 for [`Expired`](Self::Expired), 403 otherwise (as
    /// nginx answers in the generated location).
    pub fn status(&self) -> u16 {
        match self {
            LinkError::Expired => 410,
            LinkError::Forged | LinkError::Malformed(_) => 403,
        }
    }
}

impl fmt::Display for LinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LinkError::Forged => f.write_str("the link's signature does not match"),
            LinkError::Expired => f.write_str("the link has expired"),
            LinkError::Malformed(why) => write!(f, "not a well-formed signed link: {why}"),
        }
    }
}

impl std::error::Error for LinkError {}

/// Mints and checks signed links (see the [module documentation](self)).
///
/// The secret never appears in `Debug` output, errors or logs.
#[derive(Clone)]
pub struct LinkSigner {
    secret: Box<str>,
    location: UrlPrefix,
    scheme: LinkScheme,
}

impl fmt::Debug for LinkSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LinkSigner")
            .field("secret", &"<redacted>")
            .field("location", &self.location.as_str())
            .field("scheme", &self.scheme)
            .finish()
    }
}

/// A secret may be written into nginx's configuration between double quotes: base64, hex and
/// URL-safe characters only.
fn is_secret_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=' | '-' | '_' | '.' | '~')
}

impl LinkSigner {
    /// A signer with `secret` (`SENDFILE_LINK_SECRET`), the location [`DEFAULT_LOCATION`] and
    /// the scheme [`LinkScheme::NginxMd5`].
    ///
    /// The secret must have at least [`MIN_SECRET_LEN`] characters out of `A-Z a-z 0-9 + / = -
    /// _ . ~` (the output of `openssl rand -base64 32` qualifies).
    ///
    /// ```
    /// use sendfile_core::link::LinkSigner;
    /// let err = LinkSigner::new("hunter2").unwrap_err();
    /// assert_eq!(err.setting, "SENDFILE_LINK_SECRET");
    /// assert!(err.message.contains("openssl rand -base64 32"));
    /// ```
    pub fn new(secret: &str) -> Result<LinkSigner, ConfigError> {
        let err = |m: String| ConfigError::new("SENDFILE_LINK_SECRET", m);
        let fix = "generate one with `openssl rand -base64 32`";
        if let Some(c) = secret.chars().find(|&c| !is_secret_char(c)) {
            let shown = if c.is_ascii_graphic() {
                format!("{c:?}")
            } else {
                "a character".to_owned()
            };
            return Err(err(format!(
                "contains {shown} outside A-Z a-z 0-9 + / = - _ . ~ (it is written into the front server's configuration); {fix}"
            )));
        }
        if secret.len() < MIN_SECRET_LEN {
            return Err(err(format!(
                "has {} characters; a link secret needs at least {MIN_SECRET_LEN}: {fix}",
                secret.len()
            )));
        }
        Ok(LinkSigner {
            secret: secret.into(),
            location: UrlPrefix::parse(DEFAULT_LOCATION).expect("a valid location"),
            scheme: LinkScheme::NginxMd5,
        })
    }

    /// The URL prefix of the links (`SENDFILE_LINK_URL`, default [`DEFAULT_LOCATION`]): a path
    /// of its own, which the front server maps to the root.
    ///
    /// ```
    /// use sendfile_core::link::LinkSigner;
    /// let signer = LinkSigner::new(&"k".repeat(32)).unwrap().with_location("/share/").unwrap();
    /// assert_eq!(signer.location(), "/share");
    /// assert_eq!(signer.with_location("/").unwrap_err().setting, "SENDFILE_LINK_URL");
    /// ```
    pub fn with_location(mut self, location: &str) -> Result<LinkSigner, ConfigError> {
        let parsed = UrlPrefix::parse(location)
            .map_err(|e| ConfigError::new("SENDFILE_LINK_URL", e.message))?;
        if parsed.as_str().is_empty() {
            return Err(ConfigError::new(
                "SENDFILE_LINK_URL",
                "is \"/\": signed links need a path of their own, e.g. /signed",
            ));
        }
        self.location = parsed;
        Ok(self)
    }

    /// The scheme links are signed and checked with (`SENDFILE_LINK_SCHEME`).
    #[must_use]
    pub fn with_scheme(mut self, scheme: LinkScheme) -> LinkSigner {
        self.scheme = scheme;
        self
    }

    /// The signer the settings describe, read through `lookup`: `None` when
    /// `SENDFILE_LINK_SECRET` is not set; `SENDFILE_LINK_URL` and `SENDFILE_LINK_SCHEME` are
    /// optional.
    ///
    /// ```
    /// use sendfile_core::link::{LinkScheme, LinkSigner};
    /// assert!(LinkSigner::from_lookup(|_| None).unwrap().is_none());
    /// let signer = LinkSigner::from_lookup(|name| match name {
    ///     "SENDFILE_LINK_SECRET" => Some("s".repeat(40)),
    ///     "SENDFILE_LINK_SCHEME" => Some("hmac-sha256".to_owned()),
    ///     _ => None,
    /// })
    /// .unwrap()
    /// .unwrap();
    /// assert_eq!(signer.scheme(), LinkScheme::HmacSha256);
    /// ```
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<LinkSigner>, ConfigError> {
        let lookup = |name: &str| lookup(name).filter(|v| !v.is_empty());
        let Some(secret) = lookup("SENDFILE_LINK_SECRET") else {
            for name in ["SENDFILE_LINK_URL", "SENDFILE_LINK_SCHEME"] {
                if lookup(name).is_some() {
                    return Err(ConfigError::new(
                        name,
                        "is set but SENDFILE_LINK_SECRET is not: set the secret (`openssl rand -base64 32`) to enable signed links, or unset this",
                    ));
                }
            }
            return Ok(None);
        };
        let mut signer = LinkSigner::new(&secret)?;
        if let Some(location) = lookup("SENDFILE_LINK_URL") {
            signer = signer.with_location(&location)?;
        }
        if let Some(scheme) = lookup("SENDFILE_LINK_SCHEME") {
            signer = signer.with_scheme(scheme.parse()?);
        }
        Ok(Some(signer))
    }

    /// The URL prefix of the links, without a trailing slash (`/signed`).
    pub fn location(&self) -> &str {
        self.location.as_str()
    }

    /// The scheme.
    pub fn scheme(&self) -> LinkScheme {
        self.scheme
    }

    /// Starts a link to `path`, relative to the root (no `..`, no leading `/`), valid for
    /// [`DEFAULT_LIFETIME`] unless told otherwise.
    pub fn link(&self, path: impl AsRef<Path>) -> LinkBuilder<'_> {
        LinkBuilder {
            signer: self,
            path: path.as_ref().to_path_buf(),
            expires: None,
            prefix: None,
            client: None,
        }
    }

    /// The signature of (expiry, scope, client), base64url without padding.
    fn sign(&self, expires: &[u8], scope: &[u8], client: &[u8]) -> Vec<u8> {
        match self.scheme {
            LinkScheme::NginxMd5 => {
                let mut md5 = Md5::new();
                for part in [
                    self.secret.as_bytes(),
                    b"|",
                    expires,
                    b"|",
                    scope,
                    b"|",
                    client,
                    b"|",
                    self.secret.as_bytes(),
                ] {
                    md5.update(part);
                }
                md5.finalize().to_vec()
            }
            LinkScheme::HmacSha256 => {
                let mut mac = Hmac::<Sha256>::new_from_slice(self.secret.as_bytes())
                    .expect("HMAC takes keys of any length");
                for part in [expires, b"|", scope, b"|", client] {
                    mac.update(part);
                }
                mac.finalize().into_bytes().to_vec()
            }
        }
    }

    /// Checks a request for a signed link: `path` is the request's path exactly as received
    /// (percent-encoded, without the query), `query` its query string, `client` the client's
    /// address (needed for links bound to one), `now` the current time.
    ///
    /// The checks are nginx's, in the generated location: the same request is accepted or
    /// refused by both, with the same status ([`LinkError::status`]). The file itself is not
    /// looked at: resolve [`VerifiedLink::relative_path`] under the root as any other request
    /// (symlinks and confinement included).
    pub fn verify(
        &self,
        path: &str,
        query: Option<&str>,
        client: Option<IpAddr>,
        now: SystemTime,
    ) -> Result<VerifiedLink, LinkError> {
        let malformed = |why: &str| Err(LinkError::Malformed(why.to_owned()));
        let Some(rest) = path
            .strip_prefix(self.location())
            .and_then(|r| r.strip_prefix('/'))
        else {
            return malformed("the path is not below the signed links' location");
        };
        if let Some(why) = refused_target(path, query.unwrap_or("")) {
            return malformed(why);
        }
        let relative = percent_decode(rest);
        let query = query.unwrap_or("");
        let tag = nginx_arg(query, self.scheme.param());
        let expires = nginx_arg(query, "expires");
        let Some(expires_at) = parse_expires(expires) else {
            return malformed("the expires parameter is missing or not a positive number");
        };
        let tag = match decode_tag(tag.as_bytes(), self.scheme) {
            Some(tag) => tag,
            None => return malformed("the signature parameter is missing or malformed"),
        };
        let decoded_path = percent_decode(path);
        let scope = match nginx_arg(query, "scope") {
            "" => Some(&decoded_path[..]),
            depth => scope_of(&decoded_path, self.location().len(), depth),
        };
        let client_text = match (nginx_arg(query, "ip"), client) {
            ("1", Some(ip)) => ip.to_string(),
            ("1", None) => return Err(LinkError::Forged),
            _ => String::new(),
        };
        let Some(scope) = scope else {
            return Err(LinkError::Forged);
        };
        let expected = self.sign(expires.as_bytes(), scope, client_text.as_bytes());
        if !constant_time_eq(&expected, &tag) {
            return Err(LinkError::Forged);
        }
        if expires_at < unix_seconds(now) {
            return Err(LinkError::Expired);
        }
        Ok(VerifiedLink {
            relative: PathBuf::from(std::ffi::OsStr::from_bytes(&relative)),
            expires: expires_at,
        })
    }

    /// The secret, for the generated nginx configuration.
    pub(crate) fn secret(&self) -> &str {
        &self.secret
    }
}

/// A link being minted: [`LinkSigner::link`], then [`build`](Self::build).
#[derive(Debug, Clone)]
#[must_use = "a link is minted by build()"]
pub struct LinkBuilder<'a> {
    signer: &'a LinkSigner,
    path: PathBuf,
    expires: Option<SystemTime>,
    prefix: Option<PathBuf>,
    client: Option<IpAddr>,
}

impl LinkBuilder<'_> {
    /// Valid until `lifetime` from now (rounded down to the second).
    pub fn expires_in(mut self, lifetime: Duration) -> Self {
        self.expires = Some(SystemTime::now() + lifetime);
        self
    }

    /// Valid until `at` (rounded down to the second).
    pub fn expires_at(mut self, at: SystemTime) -> Self {
        self.expires = Some(at);
        self
    }

    /// Grants every file below `directory` too (a directory of the link's path, relative to
    /// the root, at most [`MAX_SCOPE_DEPTH`] deep): change the path, keep the query.
    ///
    /// ```
    /// use std::time::SystemTime;
    /// use sendfile_core::link::LinkSigner;
    ///
    /// let signer = LinkSigner::new(&"k".repeat(40)).unwrap();
    /// let link = signer.link("videos/talk/index.m3u8").prefix("videos/talk").build().unwrap();
    /// let (_, query) = link.split_once('?').unwrap();
    /// let now = SystemTime::now();
    /// assert!(signer.verify("/signed/videos/talk/seg-001.ts", Some(query), None, now).is_ok());
    /// assert!(signer.verify("/signed/videos/other.ts", Some(query), None, now).is_err());
    /// ```
    pub fn prefix(mut self, directory: impl AsRef<Path>) -> Self {
        self.prefix = Some(directory.as_ref().to_path_buf());
        self
    }

    /// Binds the link to one client address: nginx compares it with `$remote_addr`, the
    /// library with the address it is given (behind a proxy or CDN, that of the last hop).
    pub fn client(mut self, address: IpAddr) -> Self {
        self.client = Some(address);
        self
    }

    /// The link: a path below the signer's location, percent-encoded, with its query.
    pub fn build(self) -> Result<String, LinkError> {
        let signer = self.signer;
        let path = plain_relative(&self.path, "the file")?;
        if path.is_empty() {
            return Err(LinkError::Malformed("the file's path is empty".to_owned()));
        }
        let location = signer.location().as_bytes();
        let mut decoded = Vec::with_capacity(location.len() + 1 + path.len());
        decoded.extend_from_slice(location);
        decoded.push(b'/');
        decoded.extend_from_slice(&path);
        let depth = match &self.prefix {
            None => None,
            Some(prefix) => {
                let prefix = plain_relative(prefix, "the prefix")?;
                let depth = if prefix.is_empty() {
                    0
                } else {
                    prefix.split(|&b| b == b'/').count()
                };
                let below = path.starts_with(&prefix)
                    && (prefix.is_empty() || path.get(prefix.len()) == Some(&b'/'));
                if !below {
                    return Err(LinkError::Malformed(
                        "the prefix is not a directory of the file's path".to_owned(),
                    ));
                }
                if depth > MAX_SCOPE_DEPTH {
                    return Err(LinkError::Malformed(format!(
                        "the prefix is {depth} directories deep; at most {MAX_SCOPE_DEPTH}"
                    )));
                }
                Some(depth)
            }
        };
        let depth_text = depth.map(|d| d.to_string()).unwrap_or_default();
        let scope = match depth {
            None => Some(&decoded[..]),
            Some(_) => scope_of(&decoded, location.len(), &depth_text),
        }
        .expect("the prefix is a directory of the path");
        let expires = unix_seconds(
            self.expires
                .unwrap_or_else(|| SystemTime::now() + DEFAULT_LIFETIME),
        )
        .max(1)
        .to_string();
        let client = self.client.map(|ip| ip.to_string()).unwrap_or_default();
        let tag = encode_base64url(
            &signer.sign(expires.as_bytes(), scope, client.as_bytes()),
            false,
        );

        let mut out = Vec::with_capacity(decoded.len() * 2 + 80);
        out.extend_from_slice(location);
        out.push(b'/');
        percent_encode_into(&mut out, &path);
        let mut link = String::from_utf8(out).expect("percent-encoded text is ASCII");
        link.push_str("?expires=");
        link.push_str(&expires);
        if let Some(depth) = depth {
            link.push_str("&scope=");
            link.push_str(&depth.to_string());
        }
        if self.client.is_some() {
            link.push_str("&ip=1");
        }
        link.push('&');
        link.push_str(signer.scheme.param());
        link.push('=');
        link.push_str(&tag);
        Ok(link)
    }
}

/// A link [`LinkSigner::verify`] accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedLink {
    relative: PathBuf,
    expires: u64,
}

impl VerifiedLink {
    /// The file requested, relative to the root (decoded; not resolved yet).
    pub fn relative_path(&self) -> &Path {
        &self.relative
    }

    /// When the link expires, in seconds since the Unix epoch.
    pub fn expires(&self) -> u64 {
        self.expires
    }
}

/// `path`'s bytes when it has only plain names (no `..`, `.`, root or empty name, no NUL).
fn plain_relative(path: &Path, what: &str) -> Result<Vec<u8>, LinkError> {
    let bytes = path.as_os_str().as_bytes();
    let plain = !bytes.starts_with(b"/")
        && !bytes.ends_with(b"/")
        && !bytes.contains(&0)
        && (bytes.is_empty()
            || bytes
                .split(|&b| b == b'/')
                .all(|s| !s.is_empty() && s != b"." && s != b".."))
        && path.components().all(|c| matches!(c, Component::Normal(_)));
    if plain {
        Ok(bytes.to_vec())
    } else {
        Err(LinkError::Malformed(format!(
            "{what} must be a plain path relative to the root: no `..`, `.`, empty name, leading or trailing `/`"
        )))
    }
}

/// The first `depth` directories of the decoded path, with their trailing `/`: what nginx's
/// map captures with `^/location/(?:[^/]+/){depth}`. `None` for a malformed depth or a path
/// with fewer directories.
fn scope_of<'p>(decoded: &'p [u8], location_len: usize, depth: &str) -> Option<&'p [u8]> {
    let depth = match depth.as_bytes() {
        [d @ b'0'..=b'9'] => usize::from(d - b'0'),
        _ => return None,
    };
    let mut end = location_len + 1;
    for _ in 0..depth {
        let segment = decoded.get(end..)?.iter().position(|&b| b == b'/')?;
        if segment == 0 {
            return None;
        }
        end += segment + 1;
    }
    decoded.get(..end)
}

/// Why nginx's generated location refuses this request target, whatever its signature: the
/// regular expression `(?i)%(?:2[ef]|00)|//|/\.\.?(?:[/?]|$)|/(?:\?|$)` on `$request_uri`.
pub(crate) fn refused_target(path: &str, query: &str) -> Option<&'static str> {
    let target = if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{query}")
    };
    let lower = target.to_ascii_lowercase();
    if lower.contains("%2e") || lower.contains("%2f") || lower.contains("%00") {
        return Some("an encoded dot, slash or NUL");
    }
    if target.contains("//") {
        return Some("an empty path segment");
    }
    let bytes = target.as_bytes();
    for (i, _) in target.match_indices('/') {
        let after = &bytes[i + 1..];
        let dots = after.iter().take(2).take_while(|&&b| b == b'.').count();
        let next = after.get(dots);
        if dots > 0 && matches!(next, None | Some(b'/' | b'?')) {
            return Some("a `.` or `..` segment");
        }
        if matches!(after.first(), None | Some(b'?')) {
            return Some("a trailing `/`");
        }
    }
    None
}

/// nginx's `$arg_<name>`: the value of the first `name=` parameter (name compared without
/// case), not decoded; `""` when there is none.
fn nginx_arg<'q>(query: &'q str, name: &str) -> &'q str {
    query
        .split('&')
        .find_map(|part| {
            let (n, v) = part.split_at_checked(name.len())?;
            (n.eq_ignore_ascii_case(name))
                .then_some(v)?
                .strip_prefix('=')
        })
        .unwrap_or("")
}

/// nginx's `ngx_atotm` for the expiry: ASCII digits only, no overflow, greater than 0.
fn parse_expires(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let value: i64 = text.parse().ok()?;
    u64::try_from(value).ok().filter(|&v| v > 0)
}

fn unix_seconds(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

const BASE64URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// base64url, with `=` padding when `pad`.
pub(crate) fn encode_base64url(bytes: &[u8], pad: bool) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(char::from(BASE64URL[(n >> (18 - 6 * i) & 63) as usize]));
        }
        if pad {
            out.extend(std::iter::repeat_n('=', 3 - chunk.len()));
        }
    }
    out
}

/// base64url as nginx's `ngx_decode_base64url` reads it: decoding stops at the first `=`, a
/// length of 4n+1 is an error, the unused low bits of the last character are ignored.
pub(crate) fn decode_base64url(text: &[u8]) -> Option<Vec<u8>> {
    let len = text.iter().position(|&b| b == b'=').unwrap_or(text.len());
    let values: Vec<u32> = text[..len]
        .iter()
        .map(|&b| BASE64URL.iter().position(|&c| c == b).map(|v| v as u32))
        .collect::<Option<_>>()?;
    if len % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(len * 3 / 4);
    for chunk in values.chunks(4) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &v)| n | v << (18 - 6 * i));
        for i in 0..chunk.len() - 1 {
            out.push((n >> (16 - 8 * i)) as u8);
        }
    }
    Some(out)
}

/// The signature parameter as `secure_link` reads it: at most 24 characters for MD5 (44 for
/// HMAC-SHA256), [`decode_base64url`], and the tag's length.
fn decode_tag(text: &[u8], scheme: LinkScheme) -> Option<Vec<u8>> {
    let max = scheme.tag_len().div_ceil(3) * 4;
    if text.len() > max {
        return None;
    }
    decode_base64url(text).filter(|tag| tag.len() == scheme.tag_len())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The http-level part of nginx's signed-link checker for a site named `name`: the maps from
/// the request to the signed scope and client address.
pub(crate) fn nginx_maps(signer: &LinkSigner, name: &str) -> String {
    let location = signer.location().replace('.', "\\.");
    let mut out = format!(
        "# Signed links: the part of the path a link grants (scope=N: its first N\n\
         # directories; no scope: the whole path, as nginx decoded and normalised it)\n\
         # and the client address it is bound to (ip=1).\n\
         map \"$arg_scope:$uri\" ${name}_link_scope {{\n    default \"\";\n    \"~(?s)^:(.*)\" $1;\n"
    );
    for depth in 0..=MAX_SCOPE_DEPTH {
        out.push_str(&format!(
            "    \"~^{depth}:({location}/(?:[^/]+/){{{depth}}})\" $1;\n"
        ));
    }
    out.push_str(&format!(
        "}}\nmap $arg_ip ${name}_link_client {{\n    default \"\";\n    \"1\" $remote_addr;\n}}\n"
    ));
    out
}

/// The server-level location where nginx checks signed links itself, for the files of `root`.
pub(crate) fn nginx_location(signer: &LinkSigner, name: &str, root: &str) -> String {
    let location = signer.location();
    let secret = signer.secret();
    let sandbox = crate::policy::SANDBOX;
    format!(
        "    # Signed links, checked by nginx itself (the app is not asked): minted by the
    # app with SENDFILE_LINK_SECRET; the secret below must stay that secret.
    # The MD5 is over secret|expires|scope|client|secret: see the guide for what it
    # promises. Tampered, moved or bound to another address: 403; expired: 410.
    location ^~ {location}/ {{
        alias {root}/;
        disable_symlinks on from=$document_root;
        # What the app refuses too: `.`/`..`/empty segments, a trailing slash, and
        # encoded dots, slashes and NULs, whatever the signature.
        if ($request_uri ~ \"(?i)%(?:2[ef]|00)|//|/\\.\\.?(?:[/?]|$)|/(?:\\?|$)\") {{
            return 403;
        }}
        secure_link $arg_md5,$arg_expires;
        secure_link_md5 \"{secret}|$secure_link_expires|${name}_link_scope|${name}_link_client|{secret}\";
        if ($secure_link = \"\") {{
            return 403;
        }}
        if ($secure_link = \"0\") {{
            return 410;
        }}
        # A share link is a download, never a page of this site; the link is a
        # bearer token: no Referer carries it elsewhere, no shared cache keeps it.
        add_header Content-Disposition attachment always;
        add_header X-Content-Type-Options nosniff always;
        add_header Content-Security-Policy \"{sandbox}\" always;
        add_header Referrer-Policy no-referrer always;
        add_header Cache-Control private always;
    }}
"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "0123456789abcdefghijklmnopqrstuvwxyzABCD";

    fn signer() -> LinkSigner {
        LinkSigner::new(SECRET).unwrap()
    }

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    fn check(signer: &LinkSigner, link: &str, now: u64) -> Result<VerifiedLink, LinkError> {
        let (path, query) = match link.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (link, None),
        };
        signer.verify(path, query, None, at(now))
    }

    #[test]
    fn md5_matches_nginx_expression() {
        // MD5("<secret>|2000000000|/signed/a b.txt||<secret>"), computed independently with
        // `printf '%s' "$text" | openssl md5 -binary | base64 | tr +/ -_ | tr -d =`.
        let link = signer()
            .link("a b.txt")
            .expires_at(at(2_000_000_000))
            .build()
            .unwrap();
        assert_eq!(
            link,
            "/signed/a%20b.txt?expires=2000000000&md5=".to_owned()
                + &encode_base64url(
                    &{
                        let mut m = Md5::new();
                        m.update(format!("{SECRET}|2000000000|/signed/a b.txt||{SECRET}"));
                        m.finalize().to_vec()
                    },
                    false,
                )
        );
    }

    #[test]
    fn base64url_round_trips_and_mirrors_nginx() {
        for len in 0..40 {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 37 + 11) as u8).collect();
            let text = encode_base64url(&bytes, false);
            assert!(!text.contains('='));
            if len == 16 {
                assert_eq!(
                    decode_tag(text.as_bytes(), LinkScheme::NginxMd5),
                    Some(bytes.clone())
                );
                // nginx stops at '=' and ignores what follows.
                let padded = format!("{text}==");
                assert_eq!(
                    decode_tag(padded.as_bytes(), LinkScheme::NginxMd5),
                    Some(bytes.clone())
                );
                assert_eq!(
                    decode_tag(format!("{text}=x").as_bytes(), LinkScheme::NginxMd5),
                    Some(bytes.clone())
                );
                assert_eq!(
                    decode_tag(format!("{text}===").as_bytes(), LinkScheme::NginxMd5),
                    None,
                    "25 characters: longer than nginx reads"
                );
            }
            if len == 32 {
                assert_eq!(
                    decode_tag(text.as_bytes(), LinkScheme::HmacSha256),
                    Some(bytes)
                );
            }
        }
        assert_eq!(encode_base64url(b"\xfb\xff", false), "-_8");
        assert_eq!(encode_base64url(b"\xfb\xff", true), "-_8=");
        assert_eq!(encode_base64url(b"a", true), "YQ==");
        assert_eq!(
            decode_tag(b"+AAAAAAAAAAAAAAAAAAAAA", LinkScheme::NginxMd5),
            None
        );
    }

    #[test]
    fn valid_tampered_expired_moved() {
        let s = signer();
        let link = s.link("dir/f.txt").expires_at(at(1000)).build().unwrap();
        assert_eq!(
            check(&s, &link, 999).unwrap().relative_path(),
            Path::new("dir/f.txt")
        );
        assert_eq!(check(&s, &link, 1000).unwrap().expires(), 1000);
        assert_eq!(check(&s, &link, 1001).unwrap_err(), LinkError::Expired);
        assert_eq!(LinkError::Expired.status(), 410);
        let moved = link.replace("f.txt", "g.txt");
        assert_eq!(check(&s, &moved, 999).unwrap_err(), LinkError::Forged);
        let later = link.replace("expires=1000", "expires=9000");
        assert_eq!(check(&s, &later, 999).unwrap_err(), LinkError::Forged);
        let (head, tag) = link.rsplit_once('=').unwrap();
        let flipped = if tag.starts_with('A') { "B" } else { "A" };
        let tampered = format!("{head}={flipped}{}", &tag[1..]);
        assert_eq!(check(&s, &tampered, 999).unwrap_err(), LinkError::Forged);
        // An expired link with a bad signature is forged, not expired (nginx checks the hash
        // first).
        assert_eq!(check(&s, &tampered, 5000).unwrap_err(), LinkError::Forged);
        let other = LinkSigner::new(&"z".repeat(40)).unwrap();
        assert_eq!(check(&other, &link, 999).unwrap_err(), LinkError::Forged);
    }

    #[test]
    fn malformed_requests_are_refused() {
        let s = signer();
        let link = s.link("dir/f.txt").expires_at(at(1000)).build().unwrap();
        let query = link.split_once('?').unwrap().1;
        for path in [
            "/signed/dir/../dir/f.txt",
            "/signed/dir/./f.txt",
            "/signed/dir//f.txt",
            "/signed/dir%2Ff.txt",
            "/signed/dir%2ff.txt",
            "/signed/dir/%2e%2e/dir/f.txt",
            "/signed/dir/f.txt%00",
            "/signed/dir/",
            "/other/dir/f.txt",
            "/signedx/dir/f.txt",
        ] {
            let r = s.verify(path, Some(query), None, at(0));
            assert!(matches!(r, Err(LinkError::Malformed(_))), "{path}: {r:?}");
        }
        for query in [
            "",
            "expires=1000",
            "md5=AAAAAAAAAAAAAAAAAAAAAA",
            "expires=abc&md5=AAAAAAAAAAAAAAAAAAAAAA",
            "expires=0&md5=AAAAAAAAAAAAAAAAAAAAAA",
            "expires=99999999999999999999&md5=AAAAAAAAAAAAAAAAAAAAAA",
        ] {
            let r = s.verify("/signed/dir/f.txt", Some(query), None, at(0));
            assert!(matches!(r, Err(LinkError::Malformed(_))), "{query}: {r:?}");
        }
        // Names that only look like dots are fine: `..x`, `.hidden`, `%252e`.
        for name in ["..x", ".hidden", "%2e%2e.txt", "a.", "..."] {
            let link = s
                .link(format!("dir/{name}"))
                .expires_at(at(10))
                .build()
                .unwrap();
            assert!(check(&s, &link, 1).is_ok(), "{name}: {link}");
        }
    }

    #[test]
    fn minting_refuses_non_plain_paths() {
        let s = signer();
        for path in ["", "/abs", "a/../b", "./a", "a/", "a//b", "..", "a\0b"] {
            assert!(s.link(path).build().is_err(), "{path:?}");
        }
        assert!(s.link("a/b").prefix("c").build().is_err());
        assert!(s.link("ab/c").prefix("a").build().is_err());
        assert!(s.link("a/b").prefix("a/b").build().is_err());
        let deep = "d/".repeat(10) + "f";
        assert!(
            s.link(&deep)
                .prefix("d/".repeat(10).trim_end_matches('/'))
                .build()
                .is_err()
        );
        assert!(
            s.link(&deep)
                .prefix("d/".repeat(9).trim_end_matches('/'))
                .build()
                .is_ok()
        );
    }

    #[test]
    fn prefix_links_grant_the_directory_only() {
        let s = signer();
        let link = s
            .link("v/talk/index.m3u8")
            .prefix("v/talk")
            .expires_at(at(100))
            .build()
            .unwrap();
        assert!(link.contains("&scope=2&"), "{link}");
        let query = link.split_once('?').unwrap().1;
        let ok = |p: &str| s.verify(p, Some(query), None, at(1));
        assert!(ok("/signed/v/talk/index.m3u8").is_ok());
        assert!(ok("/signed/v/talk/seg%201.ts").is_ok());
        assert!(ok("/signed/v/talk/sub/deeper.ts").is_ok());
        assert_eq!(ok("/signed/v/other/x.ts").unwrap_err(), LinkError::Forged);
        assert_eq!(ok("/signed/v/talk").unwrap_err(), LinkError::Forged);
        // The scope is signed: widening it is forgery.
        let wider = query.replace("scope=2", "scope=1");
        assert_eq!(
            s.verify("/signed/v/talk/x", Some(&wider), None, at(1))
                .unwrap_err(),
            LinkError::Forged
        );
        let dropped = query.replace("scope=2&", "");
        assert_eq!(
            s.verify("/signed/v/talk/index.m3u8", Some(&dropped), None, at(1))
                .unwrap_err(),
            LinkError::Forged
        );
        // The whole root.
        let all = s
            .link("a/b")
            .prefix("")
            .expires_at(at(100))
            .build()
            .unwrap();
        assert!(all.contains("scope=0"));
        let query = all.split_once('?').unwrap().1;
        assert!(s.verify("/signed/z", Some(query), None, at(1)).is_ok());
    }

    #[test]
    fn client_bound_links() {
        let s = signer();
        let ip: IpAddr = "192.0.2.7".parse().unwrap();
        let link = s.link("f").client(ip).expires_at(at(100)).build().unwrap();
        let (path, query) = link.split_once('?').unwrap();
        assert!(query.contains("ip=1"));
        assert!(s.verify(path, Some(query), Some(ip), at(1)).is_ok());
        let other: IpAddr = "192.0.2.8".parse().unwrap();
        assert_eq!(
            s.verify(path, Some(query), Some(other), at(1)).unwrap_err(),
            LinkError::Forged
        );
        assert_eq!(
            s.verify(path, Some(query), None, at(1)).unwrap_err(),
            LinkError::Forged
        );
        let unbound = query.replace("&ip=1", "");
        assert_eq!(
            s.verify(path, Some(&unbound), Some(ip), at(1)).unwrap_err(),
            LinkError::Forged
        );
        let v6: IpAddr = "2001:db8::1".parse().unwrap();
        let link = s.link("f").client(v6).expires_at(at(100)).build().unwrap();
        let (path, query) = link.split_once('?').unwrap();
        assert!(s.verify(path, Some(query), Some(v6), at(1)).is_ok());
    }

    #[test]
    fn hmac_scheme() {
        let s = signer().with_scheme(LinkScheme::HmacSha256);
        let link = s.link("a b/ü.txt").expires_at(at(100)).build().unwrap();
        assert!(link.contains("&sig="), "{link}");
        assert!(check(&s, &link, 1).is_ok());
        assert_eq!(check(&s, &link, 101).unwrap_err(), LinkError::Expired);
        // No downgrade: an MD5 link is not accepted by an HMAC signer, nor the other way.
        let md5 = signer()
            .link("a b/ü.txt")
            .expires_at(at(100))
            .build()
            .unwrap();
        assert!(check(&s, &md5, 1).is_err());
        assert!(check(&signer(), &link, 1).is_err());
        // HMAC-SHA256(key, "100|/signed/a b/ü.txt|"), computed with
        // `printf '%s' "$text" | openssl dgst -sha256 -mac HMAC -macopt key:<secret> -binary`.
        let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
        mac.update("100|/signed/a b/ü.txt|".as_bytes());
        let tag = encode_base64url(&mac.finalize().into_bytes(), false);
        assert!(link.ends_with(&format!("&sig={tag}")));
    }

    #[test]
    fn nginx_args_are_found_as_nginx_finds_them() {
        assert_eq!(nginx_arg("a=1&MD5=x&md5=y", "md5"), "x");
        assert_eq!(nginx_arg("xmd5=1&md5=2", "md5"), "2");
        assert_eq!(nginx_arg("md5", "md5"), "");
        assert_eq!(nginx_arg("md5=a%2Bb", "md5"), "a%2Bb");
        assert_eq!(nginx_arg("", "md5"), "");
    }

    #[test]
    fn secrets_are_checked() {
        assert!(LinkSigner::new(&"a".repeat(31)).is_err());
        assert!(LinkSigner::new(&"a".repeat(32)).is_ok());
        let quote = LinkSigner::new(&format!("{}\"", "a".repeat(40))).unwrap_err();
        assert!(quote.message.contains("'\"'"), "{}", quote.message);
        assert!(LinkSigner::new(&format!("{}$x", "a".repeat(40))).is_err());
        assert!(LinkSigner::new(&format!("{} ", "a".repeat(40))).is_err());
        let debug = format!("{:?}", signer());
        assert!(!debug.contains(SECRET), "{debug}");
        assert!(
            LinkSigner::from_lookup(|n| (n == "SENDFILE_LINK_URL").then(|| "/s".to_owned()))
                .is_err()
        );
    }

    #[test]
    fn generated_nginx_text() {
        let maps = nginx_maps(&signer(), "app");
        assert!(
            maps.contains("\"~^2:(/signed/(?:[^/]+/){2})\" $1;"),
            "{maps}"
        );
        let location = nginx_location(&signer(), "app", "/srv/files");
        assert!(location.contains("location ^~ /signed/ {"));
        assert!(location.contains(&format!(
            "secure_link_md5 \"{SECRET}|$secure_link_expires|$app_link_scope|$app_link_client|{SECRET}\";"
        )));
    }
}
