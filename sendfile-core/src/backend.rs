//! The backends: who sends the bytes.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use std::path::Path;

use crate::confine::{Access, ResolvedFile};
use crate::encode::{check_header_value, percent_encode_into, percent_escaped};
use crate::engine::Method;
use crate::error::{ConfigError, Error};
use crate::header::{Header, HeaderBytes};
use crate::object::ObjectRequest;
use crate::url::UrlPrefix;

/// How a file is delivered to the client.
///
/// The offload backends ([`Nginx`](Backend::Nginx), [`XSendfile`](Backend::XSendfile),
/// [`Lighttpd`](Backend::Lighttpd), [`ModWsgi`](Backend::ModWsgi), [`Caddy`](Backend::Caddy))
/// answer with an empty body and one header that tells the front server which file to send; the
/// front server then answers ranges and conditional requests itself. [`Simple`](Backend::Simple)
/// and [`Development`](Backend::Development) stream the file from the application.
///
/// [`Nginx`](Backend::Nginx) and [`Redirect`](Backend::Redirect) also send objects from a bucket
/// (an [`ObjectStore`](crate::object::ObjectStore) in the configuration) with presigned URLs.
///
/// Names (for [`FromStr`] and [`Display`](fmt::Display), and the `SENDFILE_BACKEND` setting):
/// `simple`, `development`, `xsendfile`, `lighttpd`, `nginx`, `mod_wsgi`, `caddy`, `redirect`.
///
/// ```
/// use sendfile_core::Backend;
/// let backend: Backend = "nginx".parse().unwrap();
/// assert_eq!(backend.to_string(), "nginx");
/// assert!("apache".parse::<Backend>().unwrap_err().to_string().contains("xsendfile"));
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Backend {
    /// The application streams the file itself, with full HTTP semantics.
    Simple,
    /// Like `Simple`, with `Cache-Control: no-store`; not for production.
    Development,
    /// Apache with mod_xsendfile: `X-Sendfile: <absolute path>`, raw bytes.
    XSendfile,
    /// lighttpd: `X-Sendfile: <absolute path>`, percent-encoded.
    Lighttpd,
    /// nginx: `X-Accel-Redirect: <url prefix>/<path below the root>`, percent-encoded.
    Nginx,
    /// Apache mod_wsgi (daemon mode) internal redirect: `Location: <url prefix>/<path>` with status
    /// 200, percent-encoded.
    ModWsgi,
    /// Caddy's `reverse_proxy` + `handle_response`: `X-Accel-Redirect: <url prefix>/<path>`, raw.
    Caddy,
    /// Object storage only, behind any front server (or none): `307 Temporary Redirect` to a
    /// short-lived presigned URL with the download name and type signed in, and
    /// `Cache-Control: private, no-store`. The store sends the bytes.
    Redirect,
    /// A backend supplied by the application.
    Custom(Arc<dyn CustomBackend>),
}

/// A backend written by the application: given the resolved file, it returns the headers that
/// hand the file to the front server.
///
/// The response is then `200` with an empty body, the `Content-Type` and `Content-Disposition`
/// computed as for every offload backend, plus these headers. Header values are checked: one
/// containing CR, LF or NUL, or an empty one, is refused.
///
/// ```
/// use sendfile_core::{CustomBackend, Error, Header, ResolvedFile};
///
/// #[derive(Debug)]
/// struct LiteSpeed;
///
/// impl CustomBackend for LiteSpeed {
///     fn name(&self) -> &str { "litespeed" }
///     fn headers(&self, file: &ResolvedFile) -> Result<Vec<Header>, Error> {
///         let url = format!("/protected/{}",
///             sendfile_core::encode::percent_encode_path(file.relative_path_bytes()));
///         Ok(vec![Header::new("X-LiteSpeed-Location", url)])
///     }
/// }
/// ```
pub trait CustomBackend: fmt::Debug + Send + Sync + 'static {
    /// A short name for logs and [`Display`](fmt::Display).
    fn name(&self) -> &str;

    /// Whether the file must exist below the root before `headers` is called (default: true).
    /// Returning false makes the backend follow the configuration's `check_file_exists`.
    fn requires_file(&self) -> bool {
        true
    }

    /// The headers that hand `file` to the front server.
    fn headers(&self, file: &ResolvedFile) -> Result<Vec<Header>, Error>;

    /// The whole answer for `file` and the request's `method`: by default `200` with
    /// [`headers`](Self::headers). A backend may answer a redirect instead (a status 301, 302,
    /// 303, 307 or 308 with a `Location` header), for example to a signed URL.
    fn respond(&self, file: &ResolvedFile, method: Method) -> Result<Offload, Error> {
        let _ = method;
        Ok(Offload::new(self.headers(file)?))
    }

    /// Whether the backend can send objects from a bucket (default: false). When true,
    /// [`respond_object`](Self::respond_object) must be implemented.
    fn sends_objects(&self) -> bool {
        false
    }

    /// The answer for an object in the configured bucket; see
    /// [`ObjectRequest::presign_with_overrides`] and its siblings. The default refuses.
    ///
    /// ```
    /// use sendfile_core::{CustomBackend, Error, Header, Offload, ResolvedFile};
    /// use sendfile_core::object::ObjectRequest;
    ///
    /// /// H2O's `X-Reproxy-URL`: H2O fetches the URL itself, always with GET, and keeps none of
    /// /// the app's headers, so the name and type are signed into the URL.
    /// #[derive(Debug)]
    /// struct H2oReproxy;
    ///
    /// impl CustomBackend for H2oReproxy {
    ///     fn name(&self) -> &str { "h2o" }
    ///     fn headers(&self, _: &ResolvedFile) -> Result<Vec<Header>, Error> {
    ///         Err(Error::Unrepresentable { backend: "h2o".into(), reason: "objects only".into() })
    ///     }
    ///     fn sends_objects(&self) -> bool { true }
    ///     fn respond_object(&self, object: &ObjectRequest<'_>) -> Result<Offload, Error> {
    ///         let url = object.presign_get_with_overrides()?;
    ///         Ok(Offload::new(vec![Header::new("X-Reproxy-URL", url.to_string())]))
    ///     }
    /// }
    /// ```
    fn respond_object(&self, object: &ObjectRequest<'_>) -> Result<Offload, Error> {
        let _ = object;
        Err(Error::Unrepresentable {
            backend: self.name().to_owned(),
            reason: "the backend cannot send objects from a bucket; implement sends_objects and respond_object, or use nginx or redirect".to_owned(),
        })
    }
}

/// What a [`CustomBackend`] answers: a status (200, or a redirect) and headers.
///
/// ```
/// use sendfile_core::Offload;
/// let o = Offload::redirect(302, "https://cdn.example/f?sig=1");
/// assert_eq!(o.status, 302);
/// assert_eq!(o.headers[0].name, "Location");
/// assert_eq!(Offload::new(vec![]).status, 200);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Offload {
    /// `200`, or a redirect status (301, 302, 303, 307, 308) with a `Location` header.
    pub status: u16,
    /// The headers.
    pub headers: Vec<Header>,
}

impl Offload {
    /// `200` with `headers` (Content-Type and Content-Disposition are added by the planner).
    pub fn new(headers: Vec<Header>) -> Self {
        Offload {
            status: 200,
            headers,
        }
    }

    /// A redirect to `location` (the planner adds `Cache-Control: private, no-store` unless a
    /// Cache-Control is given).
    pub fn redirect(status: u16, location: impl Into<HeaderBytes>) -> Self {
        Offload {
            status,
            headers: vec![Header::new("Location", location)],
        }
    }
}

/// What a built-in backend is: the one place its rules are written down. The planner, the
/// configuration checks, the adapters' warnings and the test assertions all read them here, so
/// adding a backend means adding its rules (and a variant) in this file only.
///
/// ```
/// use sendfile_core::Backend;
/// use sendfile_core::backend::{Delivery, Encoding, Target};
/// let rules = Backend::Lighttpd.rules().unwrap();
/// let Delivery::Offload(offload) = &rules.delivery else { unreachable!() };
/// assert_eq!((offload.header, offload.target, offload.encoding),
///            ("X-Sendfile", Target::AbsolutePath, Encoding::Percent));
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub struct BackendRules {
    /// The name (for `SENDFILE_BACKEND`, [`FromStr`] and [`Display`](fmt::Display)).
    pub name: &'static str,
    /// Who sends the bytes, and how the front server is told.
    pub delivery: Delivery,
    /// Whether the backend can send objects from a bucket.
    pub sends_objects: bool,
    /// Whether nginx's `X-Accel-*` extras go with the offload header.
    pub accel_extras: bool,
    /// What to log once when the backend is used: why it is not meant for production.
    pub warning: Option<&'static str>,
}

/// A backend, seen as either built-in rules or the application's own code.
#[derive(Debug, Clone, Copy)]
pub enum BackendKind<'a> {
    /// A built-in backend, described by its rules.
    Builtin(&'static BackendRules),
    /// A backend supplied by the application.
    Custom(&'a dyn CustomBackend),
}

/// Who sends the bytes.
#[derive(Debug)]
#[non_exhaustive]
pub enum Delivery {
    /// The application streams the file itself, with full HTTP semantics.
    InProcess {
        /// Whether responses carry `Cache-Control: no-store`.
        no_store: bool,
    },
    /// The application answers 200 with an empty body and one header naming the file; the
    /// front server sends it.
    Offload(OffloadRules),
    /// Files in a bucket only: a redirect to a presigned URL.
    ObjectsOnly,
}

/// How an offload backend names the file.
#[derive(Debug)]
#[non_exhaustive]
pub struct OffloadRules {
    /// The header that names the file.
    pub header: &'static str,
    /// What the header names.
    pub target: Target,
    /// How the target is written into the header.
    pub encoding: Encoding,
    /// Names the front server would misread, refused before the response is sent.
    pub refusals: &'static [Refusal],
}

/// What an offload header names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Target {
    /// `<url prefix>/<path below the root>`: the backend needs the `url` setting.
    Url,
    /// The root as configured joined with the path below it.
    AbsolutePath,
}

/// How the target is written into the header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Encoding {
    /// Percent-encoded ([`percent_encode_path`](crate::encode::percent_encode_path)); the front
    /// server decodes it once.
    Percent,
    /// The raw bytes; a name the header cannot carry (control characters, spaces at either
    /// end) is refused.
    Raw,
}

/// A name an offload backend refuses, and why.
#[derive(Debug)]
#[non_exhaustive]
pub struct Refusal {
    /// What is refused.
    pub what: Refused,
    /// Why, and what to do about it (logged with [`Error::Unrepresentable`]).
    pub reason: &'static str,
}

/// What a [`Refusal`] refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Refused {
    /// A target containing this byte.
    Byte(u8),
    /// A target that is not UTF-8.
    NotUtf8,
}

impl Refused {
    fn matches(self, target: &[u8]) -> bool {
        match self {
            Refused::Byte(b) => target.contains(&b),
            Refused::NotUtf8 => std::str::from_utf8(target).is_err(),
        }
    }
}

const SIMPLE: BackendRules = BackendRules {
    name: "simple",
    delivery: Delivery::InProcess { no_store: false },
    sends_objects: false,
    accel_extras: false,
    warning: None,
};

const DEVELOPMENT: BackendRules = BackendRules {
    name: "development",
    delivery: Delivery::InProcess { no_store: true },
    sends_objects: false,
    accel_extras: false,
    warning: Some(
        "the development backend serves files from the application; it is not for production (use simple, or an offload backend)",
    ),
};

const XSENDFILE: BackendRules = BackendRules {
    name: "xsendfile",
    delivery: Delivery::Offload(OffloadRules {
        header: "X-Sendfile",
        target: Target::AbsolutePath,
        encoding: Encoding::Raw,
        refusals: &[],
    }),
    sends_objects: false,
    accel_extras: false,
    warning: None,
};

const LIGHTTPD: BackendRules = BackendRules {
    name: "lighttpd",
    delivery: Delivery::Offload(OffloadRules {
        header: "X-Sendfile",
        target: Target::AbsolutePath,
        encoding: Encoding::Percent,
        refusals: &[Refusal {
            what: Refused::NotUtf8,
            reason: "the path is not valid UTF-8, which lighttpd refuses after decoding X-Sendfile (502); rename the file",
        }],
    }),
    sends_objects: false,
    accel_extras: false,
    warning: None,
};

const NGINX: BackendRules = BackendRules {
    name: "nginx",
    delivery: Delivery::Offload(OffloadRules {
        header: "X-Accel-Redirect",
        target: Target::Url,
        encoding: Encoding::Percent,
        refusals: &[],
    }),
    sends_objects: true,
    accel_extras: true,
    warning: None,
};

const MOD_WSGI: BackendRules = BackendRules {
    name: "mod_wsgi",
    delivery: Delivery::Offload(OffloadRules {
        header: "Location",
        target: Target::Url,
        encoding: Encoding::Percent,
        refusals: &[],
    }),
    sends_objects: false,
    accel_extras: false,
    warning: None,
};

const CADDY: BackendRules = BackendRules {
    name: "caddy",
    delivery: Delivery::Offload(OffloadRules {
        header: "X-Accel-Redirect",
        target: Target::Url,
        encoding: Encoding::Raw,
        refusals: &[Refusal {
            what: Refused::Byte(b'?'),
            reason: "the name contains '?', which Caddy's rewrite reads as the start of a query; rename the file or use another backend",
        }],
    }),
    sends_objects: false,
    accel_extras: false,
    warning: None,
};

const REDIRECT: BackendRules = BackendRules {
    name: "redirect",
    delivery: Delivery::ObjectsOnly,
    sends_objects: true,
    accel_extras: false,
    warning: None,
};

/// Every built-in backend, in the order of [`BACKEND_NAMES`].
const BUILTIN: [Backend; 8] = [
    Backend::Simple,
    Backend::Development,
    Backend::XSendfile,
    Backend::Lighttpd,
    Backend::Nginx,
    Backend::ModWsgi,
    Backend::Caddy,
    Backend::Redirect,
];

/// The names accepted by [`Backend::from_str`], in the order they are listed in errors.
pub const BACKEND_NAMES: [&str; 8] = [
    SIMPLE.name,
    DEVELOPMENT.name,
    XSENDFILE.name,
    LIGHTTPD.name,
    NGINX.name,
    MOD_WSGI.name,
    CADDY.name,
    REDIRECT.name,
];

impl OffloadRules {
    /// The header value naming the file at `relative` below the root (`/`-separated bytes):
    /// below `url` for [`Target::Url`], below `root` (the root as configured) for
    /// [`Target::AbsolutePath`]. Refusals and the raw encoding's checks are errors
    /// ([`Error::Unrepresentable`], naming `backend`); a missing URL is a configuration error.
    ///
    /// ```
    /// use std::path::Path;
    /// use sendfile_core::{Backend, UrlPrefix};
    /// use sendfile_core::backend::Delivery;
    /// let url = UrlPrefix::parse("/protected").unwrap();
    /// let Delivery::Offload(nginx) = &Backend::Nginx.rules().unwrap().delivery else { panic!() };
    /// let value = nginx.value("nginx", Some(&url), Path::new("/srv"), b"a b.pdf").unwrap();
    /// assert_eq!(value, b"/protected/a%20b.pdf");
    /// ```
    pub fn value(
        &self,
        backend: &str,
        url: Option<&UrlPrefix>,
        root: &Path,
        relative: &[u8],
    ) -> Result<Vec<u8>, Error> {
        let relative = trim_leading_slashes(relative);
        let root_bytes;
        let head: &[u8] = match self.target {
            Target::Url => url
                .ok_or_else(|| {
                    Error::Config(ConfigError::new(
                        "SENDFILE_URL",
                        format!(
                            "not set, and the {backend} backend needs it; call .url(\"/protected\") or set SENDFILE_URL to the front server's internal location"
                        ),
                    ))
                })?
                .as_str()
                .as_bytes(),
            Target::AbsolutePath => {
                root_bytes = path_bytes(root);
                trim_trailing_slashes(&root_bytes)
            }
        };
        // The target is `head/relative`; each refusal holds for it exactly when it holds for
        // one of the parts (both refuse bytes, or invalid UTF-8).
        for refusal in self.refusals {
            if refusal.what.matches(head) || refusal.what.matches(relative) {
                return Err(unrepresentable(backend, refusal.reason.to_owned()));
            }
        }
        // The exact length, so that adapters can take the buffer over as it is.
        let escaped = |bytes: &[u8]| match self.encoding {
            Encoding::Percent => 2 * percent_escaped(bytes),
            Encoding::Raw => 0,
        };
        let head_escaped = match self.target {
            Target::Url => 0,
            Target::AbsolutePath => escaped(head),
        };
        let relative_escaped = escaped(relative);
        let mut out =
            Vec::with_capacity(head.len() + head_escaped + 1 + relative.len() + relative_escaped);
        // A part without a byte to escape (the usual name) is copied at once.
        let encode = |out: &mut Vec<u8>, bytes: &[u8], escaped: usize| {
            if escaped == 0 {
                out.extend_from_slice(bytes);
            } else {
                percent_encode_into(out, bytes);
            }
        };
        match self.encoding {
            Encoding::Percent => {
                // The URL prefix needs no encoding (`UrlPrefix::parse`).
                encode(&mut out, head, head_escaped);
                out.push(b'/');
                encode(&mut out, relative, relative_escaped);
                Ok(out)
            }
            Encoding::Raw => {
                out.extend_from_slice(head);
                out.push(b'/');
                out.extend_from_slice(relative);
                match check_header_value(self.header, &out) {
                    Ok(()) => Ok(out),
                    // The raw path cannot be sent as is (a control character, or leading or
                    // trailing whitespace that proxies strip, which would make the server send
                    // another file).
                    Err(e) => Err(unrepresentable(
                        backend,
                        format!(
                            "the path cannot be sent raw in {} ({e}); rename the file or use a backend that percent-encodes (nginx, lighttpd)",
                            self.header
                        ),
                    )),
                }
            }
        }
    }
}

fn unrepresentable(backend: &str, reason: String) -> Error {
    Error::Unrepresentable {
        backend: backend.to_owned(),
        reason,
    }
}

fn trim_leading_slashes(mut bytes: &[u8]) -> &[u8] {
    while let [b'/', rest @ ..] = bytes {
        bytes = rest;
    }
    bytes
}

fn trim_trailing_slashes(mut bytes: &[u8]) -> &[u8] {
    while let [rest @ .., b'/'] = bytes {
        bytes = rest;
    }
    bytes
}

/// A path's bytes, `/`-separated.
#[cfg(unix)]
pub(crate) fn path_bytes(path: &Path) -> std::borrow::Cow<'_, [u8]> {
    use std::os::unix::ffi::OsStrExt;
    std::borrow::Cow::Borrowed(path.as_os_str().as_bytes())
}

/// A path's bytes, `/`-separated.
#[cfg(not(unix))]
pub(crate) fn path_bytes(path: &Path) -> std::borrow::Cow<'_, [u8]> {
    std::borrow::Cow::Owned(path.to_string_lossy().replace('\\', "/").into_bytes())
}

impl Backend {
    /// Wraps a custom backend.
    pub fn custom(backend: impl CustomBackend) -> Self {
        Backend::Custom(Arc::new(backend))
    }

    /// A built-in backend's rules, or the custom backend.
    pub fn kind(&self) -> BackendKind<'_> {
        BackendKind::Builtin(match self {
            Backend::Simple => &SIMPLE,
            Backend::Development => &DEVELOPMENT,
            Backend::XSendfile => &XSENDFILE,
            Backend::Lighttpd => &LIGHTTPD,
            Backend::Nginx => &NGINX,
            Backend::ModWsgi => &MOD_WSGI,
            Backend::Caddy => &CADDY,
            Backend::Redirect => &REDIRECT,
            Backend::Custom(custom) => return BackendKind::Custom(custom.as_ref()),
        })
    }

    /// The rules of a built-in backend; `None` for a custom one.
    pub fn rules(&self) -> Option<&'static BackendRules> {
        match self.kind() {
            BackendKind::Builtin(rules) => Some(rules),
            BackendKind::Custom(_) => None,
        }
    }

    /// The backend's name: one of [`BACKEND_NAMES`], or the custom backend's own.
    pub fn name(&self) -> &str {
        match self.kind() {
            BackendKind::Builtin(rules) => rules.name,
            BackendKind::Custom(custom) => custom.name(),
        }
    }

    /// How an offload backend names the file; `None` for the in-process, object-only and
    /// custom backends.
    pub fn offload_rules(&self) -> Option<&'static OffloadRules> {
        match &self.rules()?.delivery {
            Delivery::Offload(offload) => Some(offload),
            _ => None,
        }
    }

    /// True when the application streams the bytes itself (`Simple`, `Development`).
    pub fn is_in_process(&self) -> bool {
        self.rules()
            .is_some_and(|r| matches!(r.delivery, Delivery::InProcess { .. }))
    }

    /// True when the backend needs the `url` setting (`Nginx`, `ModWsgi`, `Caddy`).
    pub fn needs_url(&self) -> bool {
        self.offload_rules()
            .is_some_and(|o| o.target == Target::Url)
    }

    /// True when the backend can send objects from a bucket (`Nginx`, `Redirect`, and custom
    /// backends that say so).
    ///
    /// ```
    /// use sendfile_core::Backend;
    /// assert!(Backend::Nginx.sends_objects() && Backend::Redirect.sends_objects());
    /// assert!(!Backend::Simple.sends_objects() && !Backend::XSendfile.sends_objects());
    /// ```
    pub fn sends_objects(&self) -> bool {
        match self.kind() {
            BackendKind::Builtin(rules) => rules.sends_objects,
            BackendKind::Custom(custom) => custom.sends_objects(),
        }
    }

    /// True when the backend can only send objects (`Redirect`).
    pub fn needs_object_store(&self) -> bool {
        self.rules()
            .is_some_and(|r| matches!(r.delivery, Delivery::ObjectsOnly))
    }

    /// How much of the filesystem resolving needs for this backend: in-process backends read
    /// the file; a custom backend that requires the file, and the others when
    /// `check_file_exists` is on, stat it; otherwise the path is confined lexically.
    pub fn access(&self, check_file_exists: bool) -> Access {
        match self.kind() {
            BackendKind::Builtin(BackendRules {
                delivery: Delivery::InProcess { .. },
                ..
            }) => Access::Read,
            BackendKind::Custom(custom) if custom.requires_file() => Access::Stat,
            _ if check_file_exists => Access::Stat,
            _ => Access::Lexical,
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Backend {
    type Err = ConfigError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        BUILTIN.into_iter().find(|b| b.name() == s).ok_or_else(|| {
            ConfigError::new(
                "SENDFILE_BACKEND",
                format!(
                    "unknown backend {s:?}; use one of: {}",
                    BACKEND_NAMES.join(", ")
                ),
            )
        })
    }
}

impl PartialEq for Backend {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Backend::Custom(a), Backend::Custom(b)) => Arc::ptr_eq(a, b),
            (a, b) => std::mem::discriminant(a) == std::mem::discriminant(b),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_round_trips() {
        for name in BACKEND_NAMES {
            let b: Backend = name.parse().unwrap();
            assert_eq!(b.to_string(), name);
        }
    }

    #[test]
    fn unknown_name_lists_the_valid_ones() {
        let err = "Nginx2".parse::<Backend>().unwrap_err();
        assert_eq!(err.setting, "SENDFILE_BACKEND");
        for name in BACKEND_NAMES {
            assert!(err.message.contains(name), "{err}");
        }
        assert!(err.message.contains("Nginx2"));
    }

    #[test]
    fn every_built_in_backend_has_its_rules_in_name_order() {
        for (backend, name) in BUILTIN.iter().zip(BACKEND_NAMES) {
            let rules = backend.rules().unwrap();
            assert_eq!(rules.name, name);
            assert_eq!(backend.name(), name);
            // An offload backend names the file with one header; the others do not.
            assert_eq!(
                backend.offload_rules().is_some(),
                !backend.is_in_process() && !backend.needs_object_store(),
                "{name}"
            );
        }
        assert!(Backend::Development.rules().unwrap().warning.is_some());
        assert!(
            BUILTIN
                .iter()
                .filter(|b| **b != Backend::Development)
                .all(|b| b.rules().unwrap().warning.is_none())
        );
    }

    #[test]
    fn offload_values_follow_target_and_encoding() {
        let url = UrlPrefix::parse("/p").unwrap();
        let root = Path::new("/srv/fil es/");
        let value = |backend: Backend, relative: &[u8]| {
            backend
                .offload_rules()
                .unwrap()
                .value(backend.name(), Some(&url), root, relative)
        };
        assert_eq!(value(Backend::Nginx, b"a b").unwrap(), b"/p/a%20b");
        assert_eq!(value(Backend::ModWsgi, b"a b").unwrap(), b"/p/a%20b");
        assert_eq!(value(Backend::Caddy, b"a b").unwrap(), b"/p/a b");
        assert_eq!(
            value(Backend::XSendfile, b"a b").unwrap(),
            b"/srv/fil es/a b"
        );
        assert_eq!(
            value(Backend::Lighttpd, b"a b").unwrap(),
            b"/srv/fil%20es/a%20b"
        );
        assert!(matches!(
            value(Backend::Caddy, b"a?b"),
            Err(Error::Unrepresentable { .. })
        ));
        assert!(matches!(
            value(Backend::Lighttpd, b"a\xffb"),
            Err(Error::Unrepresentable { .. })
        ));
        assert!(matches!(
            value(Backend::XSendfile, b"a\nb"),
            Err(Error::Unrepresentable { .. })
        ));
        let no_url = Backend::Nginx
            .offload_rules()
            .unwrap()
            .value("nginx", None, root, b"a");
        assert!(matches!(no_url, Err(Error::Config(ref e)) if e.setting == "SENDFILE_URL"));
    }

    #[test]
    fn classification() {
        assert!(Backend::Simple.is_in_process() && Backend::Development.is_in_process());
        assert!(!Backend::Nginx.is_in_process());
        assert!(
            Backend::Nginx.needs_url()
                && Backend::ModWsgi.needs_url()
                && Backend::Caddy.needs_url()
        );
        assert!(!Backend::XSendfile.needs_url() && !Backend::Lighttpd.needs_url());
    }
}
