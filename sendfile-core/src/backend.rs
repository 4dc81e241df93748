//! The backends: who sends the bytes.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use crate::confine::ResolvedFile;
use crate::engine::Method;
use crate::error::{ConfigError, Error};
use crate::object::ObjectRequest;
use crate::plan::Header;

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

/// The names accepted by [`Backend::from_str`], in the order they are listed in errors.
pub const BACKEND_NAMES: [&str; 8] = [
    "simple",
    "development",
    "xsendfile",
    "lighttpd",
    "nginx",
    "mod_wsgi",
    "caddy",
    "redirect",
];

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
    pub fn redirect(status: u16, location: impl Into<Vec<u8>>) -> Self {
        Offload {
            status,
            headers: vec![Header::new("Location", location)],
        }
    }
}

impl Backend {
    /// Wraps a custom backend.
    pub fn custom(backend: impl CustomBackend) -> Self {
        Backend::Custom(Arc::new(backend))
    }

    /// The backend's name: one of [`BACKEND_NAMES`], or the custom backend's own.
    pub fn name(&self) -> &str {
        match self {
            Backend::Simple => "simple",
            Backend::Development => "development",
            Backend::XSendfile => "xsendfile",
            Backend::Lighttpd => "lighttpd",
            Backend::Nginx => "nginx",
            Backend::ModWsgi => "mod_wsgi",
            Backend::Caddy => "caddy",
            Backend::Redirect => "redirect",
            Backend::Custom(c) => c.name(),
        }
    }

    /// True when the application streams the bytes itself (`Simple`, `Development`).
    pub fn is_in_process(&self) -> bool {
        matches!(self, Backend::Simple | Backend::Development)
    }

    /// True when the backend needs the `url` setting (`Nginx`, `ModWsgi`, `Caddy`).
    pub fn needs_url(&self) -> bool {
        matches!(self, Backend::Nginx | Backend::ModWsgi | Backend::Caddy)
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
        match self {
            Backend::Nginx | Backend::Redirect => true,
            Backend::Custom(c) => c.sends_objects(),
            _ => false,
        }
    }

    /// True when the backend can only send objects (`Redirect`).
    pub fn needs_object_store(&self) -> bool {
        matches!(self, Backend::Redirect)
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
        Ok(match s.trim() {
            "simple" => Backend::Simple,
            "development" => Backend::Development,
            "xsendfile" => Backend::XSendfile,
            "lighttpd" => Backend::Lighttpd,
            "nginx" => Backend::Nginx,
            "mod_wsgi" => Backend::ModWsgi,
            "caddy" => Backend::Caddy,
            "redirect" => Backend::Redirect,
            other => {
                return Err(ConfigError::new(
                    "SENDFILE_BACKEND",
                    format!(
                        "unknown backend {other:?}; use one of: {}",
                        BACKEND_NAMES.join(", ")
                    ),
                ));
            }
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
