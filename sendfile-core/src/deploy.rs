//! The front server's configuration, generated from the application's [`Config`].
//!
//! The most common failure of a file-offload deployment is a front server whose configuration
//! does not match the application's: a `SENDFILE_URL` that is not the internal location, `root`
//! where `alias` was meant, a forgotten `internal`, `XSendFilePath` missing, a Caddy without
//! `handle_response`. This module removes the second source of truth: from the configuration
//! the application runs with, it renders what each supported server needs, hardening included
//! (symlinks refused where the server can, offload headers stripped where the server would
//! otherwise leak them, a keep-alive pool to the application).
//!
//! - [`Server`]: nginx, Apache 2.4 + mod_xsendfile, lighttpd 1.4, Caddy 2; [`Server::for_backend`]
//!   picks the one a backend talks to.
//! - [`Site`]: what to render: built with [`Site::from_config`] from a [`Config`] (or with
//!   [`Site::from_settings`] from settings whose root is on another machine), the
//!   address clients use and the application's address. [`Site::render`] gives the site
//!   configuration, the part a real deployment puts into the distribution's
//!   `sites-enabled`/`conf-enabled` or main `Caddyfile`.
//! - nginx with a bucket: when the [`Config`] has an [`ObjectStore`],
//!   the nginx site proxies its internal location to the store's fixed endpoint
//!   ([`ObjectStore::origin`](crate::object::ObjectStore::origin)) with the signed `Host`,
//!   hiding the store's headers and error bodies; [`Site::bucket_template`] is its template.
//! - [`Standalone`]: a self-contained main configuration that includes the site and keeps
//!   everything the server writes in one directory, for trying a setup on loopback.
//!
//! Rendering is a pure function of its inputs: no file is read or written.
//!
//! ```
//! use sendfile_core::deploy::{Address, Server, Site};
//! use sendfile_core::{Backend, Config};
//!
//! let root = tempfile::tempdir().unwrap();
//! let config = Config::builder(Backend::Nginx).root(root.path()).url("/protected/").build().unwrap();
//! let app: Address = "127.0.0.1:8000".parse().unwrap();
//! let listen: Address = "0.0.0.0:80".parse().unwrap();
//! let site = Site::from_config(&config, app, listen).unwrap();
//! assert_eq!(site.server(), Server::Nginx);
//! let text = site.render();
//! assert!(text.contains("location ^~ /protected/ {"));
//! assert!(text.contains("    internal;\n"));
//! assert!(text.contains(&format!("alias {}/;", root.path().display())));
//! assert!(text.contains("keepalive 256;"));
//! ```

use std::fmt::{self, Write as _};
use std::net::SocketAddr;
use std::str::FromStr;

use crate::backend::Backend;
use crate::config::{Checked, Config, ConfigBuilder, Source};
use crate::error::ConfigError;
use crate::link::LinkSigner;
use crate::object::ObjectStore;
use crate::policy::{self, ContentPolicy};

/// A supported front server.
///
/// ```
/// use sendfile_core::deploy::Server;
/// use sendfile_core::Backend;
/// assert_eq!("apache".parse::<Server>().unwrap(), Server::Apache);
/// assert_eq!(Server::for_backend(&Backend::XSendfile), Some(Server::Apache));
/// assert_eq!(Server::for_backend(&Backend::Simple), None);
/// assert_eq!(Server::Lighttpd.default_backend(), Backend::Lighttpd);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Server {
    /// nginx (`X-Accel-Redirect` to an `internal` location; backend `nginx`).
    Nginx,
    /// Apache 2.4 with mod_proxy_http and mod_xsendfile 0.12 (backend `xsendfile`).
    Apache,
    /// lighttpd 1.4 with mod_proxy and `x-sendfile` (backend `lighttpd`).
    Lighttpd,
    /// Caddy 2 with `reverse_proxy` + `handle_response` (backends `caddy` and `mod_wsgi`).
    Caddy,
}

/// The names accepted by [`Server::from_str`].
pub const SERVER_NAMES: [&str; 4] = ["nginx", "apache", "lighttpd", "caddy"];

impl Server {
    /// Every server.
    pub const ALL: [Server; 4] = [
        Server::Nginx,
        Server::Apache,
        Server::Lighttpd,
        Server::Caddy,
    ];

    /// `nginx`, `apache`, `lighttpd` or `caddy`.
    pub fn name(self) -> &'static str {
        match self {
            Server::Nginx => "nginx",
            Server::Apache => "apache",
            Server::Lighttpd => "lighttpd",
            Server::Caddy => "caddy",
        }
    }

    /// The server a backend hands files to; `None` for the in-process and custom backends.
    pub fn for_backend(backend: &Backend) -> Option<Server> {
        Some(match backend {
            Backend::Nginx => Server::Nginx,
            Backend::XSendfile => Server::Apache,
            Backend::Lighttpd => Server::Lighttpd,
            Backend::Caddy | Backend::ModWsgi => Server::Caddy,
            _ => return None,
        })
    }

    /// The backend to use with this server when the application has not chosen one.
    pub fn default_backend(self) -> Backend {
        match self {
            Server::Nginx => Backend::Nginx,
            Server::Apache => Backend::XSendfile,
            Server::Lighttpd => Backend::Lighttpd,
            Server::Caddy => Backend::Caddy,
        }
    }
}

impl fmt::Display for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Server {
    type Err = ConfigError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s.trim() {
            "nginx" => Server::Nginx,
            "apache" | "apache2" => Server::Apache,
            "lighttpd" => Server::Lighttpd,
            "caddy" => Server::Caddy,
            other => {
                return Err(ConfigError::new(
                    "server",
                    format!(
                        "unknown front server {other:?}; use one of: {}",
                        SERVER_NAMES.join(", ")
                    ),
                ));
            }
        })
    }
}

/// A host and port, as written into a configuration (`127.0.0.1:8000`, `[::1]:8080`).
///
/// ```
/// use sendfile_core::deploy::Address;
/// let a: Address = "[::1]:8080".parse().unwrap();
/// assert_eq!((a.host(), a.port()), ("::1", "8080"));
/// assert_eq!(a.to_string(), "[::1]:8080");
/// assert!("localhost".parse::<Address>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    host: String,
    port: String,
}

impl Address {
    /// The host, without brackets.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port.
    pub fn port(&self) -> &str {
        &self.port
    }

    fn placeholder(host: &str, port: &str) -> Address {
        Address {
            host: host.to_owned(),
            port: port.to_owned(),
        }
    }
}

impl From<SocketAddr> for Address {
    fn from(addr: SocketAddr) -> Self {
        Address {
            host: addr.ip().to_string(),
            port: addr.port().to_string(),
        }
    }
}

impl FromStr for Address {
    type Err = ConfigError;

    /// `host:port` or `[v6]:port`; the host is a name or an address.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || {
            ConfigError::new(
                "address",
                format!("{s:?} is not host:port; write e.g. 127.0.0.1:8000 or [::1]:8000"),
            )
        };
        let (host, port) = s.rsplit_once(':').ok_or_else(err)?;
        let host = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        let host_ok = !host.is_empty()
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':'));
        if !host_ok || port.parse::<u16>().is_err() || (host.contains(':') && !s.starts_with('[')) {
            return Err(err());
        }
        Ok(Address {
            host: host.to_owned(),
            port: port.to_owned(),
        })
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// The upstream keep-alive pool of the generated nginx configuration, per worker, when
/// [`Site::keepalive`] is not called.
pub const DEFAULT_KEEPALIVE: u32 = 256;

/// Everything one server's site configuration depends on.
///
/// ```
/// use sendfile_core::deploy::{Server, Site};
/// use sendfile_core::{Backend, Config};
///
/// let root = tempfile::tempdir().unwrap();
/// let config = Config::builder(Backend::XSendfile).root(root.path()).build().unwrap();
/// let site = Site::from_config(&config, "127.0.0.1:8000".parse().unwrap(), "0.0.0.0:80".parse().unwrap())
///     .unwrap();
/// let text = site.render();
/// assert!(text.contains(&format!("XSendFilePath {}\n", root.path().display())));
/// assert!(text.contains("Header unset X-Sendfile \"expr=%{REQUEST_STATUS} != 200\""));
///
/// // The URL prefix must be a location of its own.
/// let whole_site = Config::builder(Backend::Nginx).root(root.path()).url("/").build().unwrap();
/// let err = Site::from_config(&whole_site, "127.0.0.1:8000".parse().unwrap(), "0.0.0.0:80".parse().unwrap())
///     .unwrap_err();
/// assert_eq!(err.setting, "SENDFILE_URL");
/// ```
#[derive(Debug, Clone)]
pub struct Site {
    server: Server,
    backend: &'static str,
    listen: Address,
    app: Address,
    root: String,
    url: String,
    keepalive: u32,
    name: String,
    store: Option<StoreEndpoint>,
    policy: ContentPolicy,
    links: Option<LinkSigner>,
}

/// The object store an nginx site proxies to (files in a bucket).
#[derive(Debug, Clone)]
struct StoreEndpoint {
    /// `http` or `https`.
    scheme: String,
    /// `host[:port]` exactly as in the endpoint: the signed `Host`.
    host: String,
    /// The upstream's `server`: the host with its port.
    server: String,
    /// TLS's server name: the host alone for https; for http (the line is commented out)
    /// `host[:port]`, as in the template.
    name: String,
    /// The proxy_ssl_* lines are on (an https endpoint), otherwise commented out.
    tls: bool,
}

impl StoreEndpoint {
    /// From the store's `scheme://host[:port]`; errors name `SENDFILE_S3_ENDPOINT`.
    fn from_origin(origin: &str) -> Result<StoreEndpoint, ConfigError> {
        let err = |m: String| ConfigError::new("SENDFILE_S3_ENDPOINT", m);
        let (scheme, host) = origin.split_once("://").ok_or_else(|| {
            err(format!(
                "the store's origin {origin:?} is not scheme://host[:port]"
            ))
        })?;
        let default_port = match scheme {
            "http" => "80",
            "https" => "443",
            _ => {
                return Err(err(format!(
                    "the store's origin {origin:?} is not http:// or https://"
                )));
            }
        };
        let host_ok = !host.is_empty()
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b));
        if !host_ok {
            return Err(err(format!(
                "the store's host in {origin:?} cannot be written into a configuration file"
            )));
        }
        let (name, port) = match host.strip_prefix('[') {
            Some(v6) => match v6.split_once(']') {
                Some((addr, rest)) => (format!("[{addr}]"), rest.strip_prefix(':')),
                None => return Err(err(format!("{origin:?}: unclosed [ in the host"))),
            },
            None => match host.split_once(':') {
                Some((name, port)) => (name.to_owned(), Some(port)),
                None => (host.to_owned(), None),
            },
        };
        let tls = scheme == "https";
        Ok(StoreEndpoint {
            scheme: scheme.to_owned(),
            host: host.to_owned(),
            server: format!("{name}:{}", port.unwrap_or(default_port)),
            name: if tls { name } else { host.to_owned() },
            tls,
        })
    }

    /// The placeholders `{{S3_SCHEME}}` and `{{S3_HOST}}`.
    fn template() -> StoreEndpoint {
        StoreEndpoint {
            scheme: "{{S3_SCHEME}}".to_owned(),
            host: "{{S3_HOST}}".to_owned(),
            server: "{{S3_HOST}}".to_owned(),
            name: "{{S3_HOST}}".to_owned(),
            tls: false,
        }
    }
}

impl Site {
    /// The site for the server that `config`'s backend talks to.
    ///
    /// `app` is where the application listens; `listen` is the address clients use. This
    /// checks what the front server needs on top of a valid configuration: an offload backend,
    /// an absolute root that can be written into a configuration file, and a URL prefix that is
    /// a location of its own. Errors name the setting to change.
    pub fn from_config(
        config: &Config,
        app: Address,
        listen: Address,
    ) -> Result<Site, ConfigError> {
        Site::from_checked(config.checked(), app, listen)
    }

    /// Like [`from_config`](Self::from_config), from settings that are not built: for a
    /// configuration generated on another machine than the one it is for, where the root need
    /// not exist. Every check of [`ConfigBuilder::build`] that does not look at the
    /// filesystem applies.
    ///
    /// ```
    /// use sendfile_core::deploy::Site;
    /// use sendfile_core::{Backend, Config};
    ///
    /// let settings = Config::builder(Backend::Nginx).root("/srv/files").url("/protected");
    /// let site = Site::from_settings(&settings, "127.0.0.1:8000".parse().unwrap(), "0.0.0.0:80".parse().unwrap())
    ///     .unwrap();
    /// assert!(site.render().contains("alias /srv/files/;"));
    ///
    /// let malformed = settings.url("/a/../b");
    /// let err = Site::from_settings(&malformed, "127.0.0.1:8000".parse().unwrap(), "0.0.0.0:80".parse().unwrap())
    ///     .unwrap_err();
    /// assert_eq!(err.setting, "SENDFILE_URL");
    /// ```
    pub fn from_settings(
        settings: &ConfigBuilder,
        app: Address,
        listen: Address,
    ) -> Result<Site, ConfigError> {
        Site::from_checked(settings.check()?, app, listen)
    }

    fn from_checked(
        checked: Checked<'_>,
        app: Address,
        listen: Address,
    ) -> Result<Site, ConfigError> {
        let backend = checked.backend;
        let server = Server::for_backend(backend).ok_or_else(|| {
            ConfigError::new(
                "SENDFILE_BACKEND",
                format!(
                    "the {backend} backend sends the file itself and needs no front server configuration; use nginx, xsendfile, lighttpd, caddy or mod_wsgi"
                ),
            )
        })?;
        let root = match checked.source {
            Source::Bucket(store) => {
                return Site::for_bucket(checked, store, server, app, listen);
            }
            Source::Root(root) => root,
        };
        let root = root.to_str().ok_or_else(|| {
            ConfigError::new(
                "SENDFILE_ROOT",
                format!(
                    "{} is not valid UTF-8; configuration files cannot name it: move the files to a UTF-8 path",
                    root.display()
                ),
            )
        })?;
        let root = check_root(root)?;
        let url = match checked.url {
            Some(url) if url.as_str().is_empty() && backend.needs_url() => {
                return Err(ConfigError::new(
                    "SENDFILE_URL",
                    "is \"/\": the internal location would be the whole site, and every request would bypass the application; use a prefix of its own, e.g. /protected",
                ));
            }
            Some(url) => url.as_str().to_owned(),
            None => String::new(),
        };
        Ok(Site {
            server,
            backend: static_backend_name(backend),
            listen,
            app,
            root,
            url,
            keepalive: DEFAULT_KEEPALIVE,
            name: "app".to_owned(),
            store: None,
            policy: checked.content_policy,
            links: None,
        })
    }

    /// The nginx site for files in a bucket: the internal location proxies to the store's
    /// endpoint, taken from the configuration's [`ObjectStore`](crate::object::ObjectStore).
    fn for_bucket(
        checked: Checked<'_>,
        store: &ObjectStore,
        server: Server,
        app: Address,
        listen: Address,
    ) -> Result<Site, ConfigError> {
        // Only nginx sends objects among the servers (`ConfigBuilder::check` refuses the others).
        let origin = store.origin().ok_or_else(|| {
            ConfigError::new(
                "SENDFILE_S3_ENDPOINT",
                format!(
                    "the {} signer does not name the store's endpoint (Presigner::origin), which nginx must proxy to",
                    store.presigner().name()
                ),
            )
        })?;
        let store = StoreEndpoint::from_origin(origin)?;
        let url = match checked.url {
            Some(url) if !url.as_str().is_empty() => url.as_str().to_owned(),
            _ => {
                return Err(ConfigError::new(
                    "SENDFILE_URL",
                    "must be a prefix of its own for nginx's internal location to the store, e.g. /protected",
                ));
            }
        };
        Ok(Site {
            server,
            backend: static_backend_name(checked.backend),
            listen,
            app,
            root: String::new(),
            url,
            keepalive: DEFAULT_KEEPALIVE,
            name: "app".to_owned(),
            store: Some(store),
            policy: checked.content_policy,
            links: None,
        })
    }

    /// The nginx site for files in a bucket with placeholders: those of [`Site::template`]
    /// (no `{{ROOT}}`), `{{S3_SCHEME}}` (`http` or `https`) and `{{S3_HOST}}` (the store's
    /// `host[:port]` exactly as in `SENDFILE_S3_ENDPOINT`). `backend` must be `nginx`.
    ///
    /// ```
    /// use sendfile_core::deploy::Site;
    /// use sendfile_core::Backend;
    /// let text = Site::bucket_template(&Backend::Nginx).unwrap().render();
    /// assert!(text.contains("proxy_set_header Host {{S3_HOST}};"));
    /// assert!(Site::bucket_template(&Backend::Caddy).is_err());
    /// ```
    pub fn bucket_template(backend: &Backend) -> Result<Site, ConfigError> {
        let mut site = Site::template(backend)?;
        if site.server != Server::Nginx {
            return Err(ConfigError::new(
                "SENDFILE_BACKEND",
                format!("the {backend} backend cannot send objects from a bucket; use nginx"),
            ));
        }
        site.root = String::new();
        site.store = Some(StoreEndpoint::template());
        Ok(site)
    }

    /// A site whose settings are placeholders: `{{LISTEN_HOST}}`, `{{LISTEN_PORT}}`,
    /// `{{APP_HOST}}`, `{{APP_PORT}}`, `{{ROOT}}` and `{{URL}}`, for templates that another tool
    /// fills in. `backend` must be an offload backend.
    ///
    /// ```
    /// use sendfile_core::deploy::Site;
    /// use sendfile_core::Backend;
    /// let text = Site::template(&Backend::Nginx).unwrap().render();
    /// assert!(text.contains("alias {{ROOT}}/;"));
    /// ```
    pub fn template(backend: &Backend) -> Result<Site, ConfigError> {
        let server = Server::for_backend(backend).ok_or_else(|| {
            ConfigError::new(
                "SENDFILE_BACKEND",
                format!("the {backend} backend needs no front server configuration"),
            )
        })?;
        Ok(Site {
            server,
            backend: static_backend_name(backend),
            listen: Address::placeholder("{{LISTEN_HOST}}", "{{LISTEN_PORT}}"),
            app: Address::placeholder("{{APP_HOST}}", "{{APP_PORT}}"),
            root: "{{ROOT}}".to_owned(),
            url: if backend.needs_url() {
                "{{URL}}".to_owned()
            } else {
                String::new()
            },
            keepalive: DEFAULT_KEEPALIVE,
            name: "app".to_owned(),
            store: None,
            policy: ContentPolicy::Untrusted,
            links: None,
        })
    }

    /// Sets how many idle connections to the application nginx keeps open per worker
    /// (`keepalive` in the `upstream` block; default [`DEFAULT_KEEPALIVE`]). Size it for the
    /// expected number of concurrent requests per worker: each request beyond the pool opens a
    /// new connection to the application. 0 turns the pool off.
    #[must_use]
    pub fn keepalive(mut self, connections: u32) -> Self {
        self.keepalive = connections;
        self
    }

    /// Names the application in comments and in nginx's `upstream` (default `app`): letters,
    /// digits and `_` only, otherwise the name is kept as it was.
    #[must_use]
    pub fn name(mut self, name: &str) -> Self {
        if !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            self.name = name.to_owned();
        }
        self
    }

    /// The server this site is for.
    pub fn server(&self) -> Server {
        self.server
    }

    /// The `SENDFILE_BACKEND` the application must use behind it.
    pub fn backend_name(&self) -> &'static str {
        self.backend
    }

    /// The site configuration.
    pub fn render(&self) -> String {
        match (self.server, self.backend) {
            (Server::Nginx, _) if self.store.is_some() => self.nginx_bucket(),
            (Server::Nginx, _) => self.nginx_with_links(self.nginx()),
            (Server::Apache, _) => self.apache(),
            (Server::Lighttpd, _) => self.lighttpd(),
            (Server::Caddy, "mod_wsgi") => self.caddy_mod_wsgi(),
            (Server::Caddy, _) => self.caddy(),
        }
    }

    fn settings_line(&self) -> String {
        let mut s = format!(
            "# App settings: SENDFILE_BACKEND={} SENDFILE_ROOT={}",
            self.backend, self.root
        );
        if !self.url.is_empty() {
            let _ = write!(s, " SENDFILE_URL={}", self.url);
        }
        s
    }

    fn header(&self, what: &str) -> String {
        format!(
            "# {what}\n{}\n# Generated by sendfile-core's deploy module from those settings: change them\n# and generate again rather than editing this file.\n",
            self.settings_line()
        )
    }

    fn nginx(&self) -> String {
        let Site {
            listen,
            app,
            root,
            url,
            name,
            keepalive,
            ..
        } = self;
        let mut out = self.header(&format!("nginx: {name} behind X-Accel-Redirect."));
        let upstream = nginx_app_upstream(name, app, *keepalive);
        let _ = write!(
            out,
            "
{upstream}
server {{
    listen {listen};

    # Every request goes to the app, which checks permissions. Without a URI
    # after the upstream, nginx forwards the request line exactly as received.
    location / {{
        proxy_pass http://{name}_upstream;
        # HTTP/1.1 without \"Connection: close\": what the keep-alive pool needs.
        proxy_http_version 1.1;
        proxy_set_header Connection \"\";
        proxy_set_header Host $http_host;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto $scheme;
        # X-Accel-Redirect is acted on and never reaches the client (nginx hides
        # every X-Accel-* header): do not add proxy_ignore_headers or
        # proxy_pass_header for it.
    }}

    # The target of X-Accel-Redirect: \"internal\" makes a direct request a 404
    # (without it the protected files are public).
    # nginx decodes the header value once, so every file name is reachable.
    # alias, not root: {url}/a.txt is {root}/a.txt.
    location ^~ {url}/ {{
        internal;
        alias {root}/;
        # Open the file as checked: every component below the root is opened
        # with O_NOFOLLOW relative to its parent, so a directory swapped for a
        # symlink after the app's check is refused (403/404), never followed.
        # from=$document_root (the alias here) still follows symlinks in the
        # root's own path, e.g. /srv/app/current/files with current -> releases/N.
        disable_symlinks on from=$document_root;
{carried}    }}
}}
",
            carried = nginx_carried_headers(),
        );
        out
    }

    fn nginx_bucket(&self) -> String {
        let Site {
            listen,
            app,
            url,
            name,
            keepalive,
            store,
            ..
        } = self;
        let StoreEndpoint {
            scheme,
            host,
            server,
            name: tls_name,
            tls,
        } = store.as_ref().expect("a bucket site");
        let upstream = nginx_app_upstream(name, app, *keepalive);
        // A location regex: a dot in the prefix matches only a dot.
        let url_re = url.replace('.', "\\.");
        let ssl = if *tls { "" } else { "# " };
        let mut out = format!(
            "# nginx: {name} with its files in an S3 bucket (AWS S3, MinIO, Ceph RGW,
# Garage, R2, s3s...). The app checks permissions, presigns a short-lived URL
# for the object (HEAD for HEAD) and answers
# X-Accel-Redirect: {url}/<bucket>/<key>?<signature>.
# nginx proxies it to the store named here, never to a host taken from the header.
# App settings: SENDFILE_BACKEND={backend} SENDFILE_URL={url}
#   SENDFILE_S3_ENDPOINT={scheme}://{host} SENDFILE_S3_BUCKET=<bucket>
#   SENDFILE_S3_REGION=<region> [SENDFILE_S3_PREFIX=<prefix/>] [SENDFILE_S3_EXPIRES=60]
#   AWS_ACCESS_KEY_ID=... AWS_SECRET_ACCESS_KEY=... [AWS_SESSION_TOKEN=...]
# Generated by sendfile-core's deploy module from those settings (the same for
# every bucket, region and prefix on that endpoint): change them and generate
# again rather than editing this file.
# The store's host[:port] is written exactly as in SENDFILE_S3_ENDPOINT (it is
# signed). For an https endpoint (AWS: https://s3.<region>.amazonaws.com), the
# upstream's server needs its port (server s3.<region>.amazonaws.com:443;) and
# the proxy_ssl_* lines must be on: generated from an https endpoint, this file
# has both. nginx resolves an upstream's name when it starts: reload it now and
# then for a store whose addresses change.
",
            backend = self.backend,
        );
        let _ = write!(
            out,
            "
# S3 answers one range per request (s3s refuses several with 400, which would be a 502):
# a request for several ranges goes to the store without its Range header and is answered
# with the whole object (200, as RFC 9110 allows; nginx cuts no multipart/byteranges from a
# proxied stream).
map $http_range $sendfile_s3_range {{
    \"~,\"    \"\";
    default $http_range;
}}

{upstream}
upstream {name}_store {{
    server {server};
    keepalive 16;
}}

server {{
    listen {listen};

    # Every request goes to the app, which checks permissions. Without a URI
    # after the upstream, nginx forwards the request line exactly as received.
    location / {{
        proxy_pass http://{name}_upstream;
        # HTTP/1.1 without \"Connection: close\": what the keep-alive pool needs.
        proxy_http_version 1.1;
        proxy_set_header Connection \"\";
        # X-Accel-Redirect carries the key escaped twice and the signature: up to about
        # 6 KB for a 1024-byte key, above the default 4 KB for the app's headers.
        proxy_buffer_size 16k;
        proxy_busy_buffers_size 16k;
        proxy_buffers 8 16k;
        proxy_set_header Host $http_host;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto $scheme;
    }}

    # The target of X-Accel-Redirect. \"internal\": a direct request is a 404. nginx decodes
    # the header's path once (the app escaped it twice), so $sendfile_s3_path is exactly the
    # signed path; the signature query is passed on as is. The upstream is fixed: the
    # header names a path on this store, never a host.
    location ~ ^{url_re}/(?<sendfile_s3_path>.*)$ {{
        internal;
        proxy_pass {scheme}://{name}_store/$sendfile_s3_path$is_args$args;
        {ssl}proxy_ssl_server_name on;
        {ssl}proxy_ssl_name {tls_name};
        {ssl}proxy_ssl_verify on;
        {ssl}proxy_ssl_trusted_certificate /etc/ssl/certs/ca-certificates.crt;
        proxy_http_version 1.1;
        proxy_set_header Connection \"\";
        # The signature covers the Host header.
        proxy_set_header Host {host};
        # The client's credentials are the app's business, not the store's (and S3 refuses
        # an Authorization header next to a presigned query).
        proxy_set_header Authorization \"\";
        proxy_set_header Cookie \"\";
        proxy_set_header X-Forwarded-For \"\";
        proxy_set_header X-Forwarded-Proto \"\";
        # Range, If-Range and the conditional headers go to the store, which answers them;
        # for several ranges the whole object is sent (see the map above).
        proxy_set_header Range $sendfile_s3_range;
        # Room for the long names of the store's headers hidden below.
        proxy_headers_hash_bucket_size 128;
        # Content-Type, Content-Disposition and Cache-Control come from the app (nginx keeps
        # them from its answer), never from the store; nor does anything else the store
        # says about the object that the app did not choose.
        proxy_hide_header Content-Type;
        proxy_hide_header Content-Disposition;
"
        );
        for header in STORE_HEADERS_HIDDEN {
            let _ = writeln!(out, "        proxy_hide_header {header};");
        }
        out.push_str(
            "        # User metadata (x-amz-meta-<name>) has names of the uploader's choosing, and nginx
        # hides headers by exact name only: keep nothing private in an object's metadata, or
        # load ngx_http_headers_more (Debian: libnginx-mod-http-headers-more-filter) and add
        #   more_clear_headers 'x-amz-meta-*';
        # Here $upstream_http_* are the store's headers, not the app's: the content policy is
        # written out (the app's per-file choice and its CORS, Link and Content-Language
        # headers do not reach the client from a bucket).
        add_header X-Content-Type-Options nosniff always;
",
        );
        if self.policy == ContentPolicy::Untrusted {
            let _ = writeln!(
                out,
                "        add_header Content-Security-Policy \"{}\" always;",
                policy::SANDBOX
            );
        }
        out.push_str(
            "        # The store's XML error bodies never reach the client: a missing object is a plain
        # 404, any other refusal (a bad signature, wrong credentials, a clock far off) a 502.
        proxy_intercept_errors on;
        error_page 404 = @sendfile_s3_missing;
        error_page 400 401 403 405 409 500 501 503 = @sendfile_s3_failed;
    }

    location @sendfile_s3_missing {
        internal;
        return 404;
    }

    location @sendfile_s3_failed {
        internal;
        return 502;
    }
}
",
        );
        out
    }

    fn apache(&self) -> String {
        let Site {
            listen,
            app,
            root,
            name,
            ..
        } = self;
        let mut out = self.header(&format!(
            "Apache 2.4: {name} behind mod_proxy_http + mod_xsendfile 0.12."
        ));
        let _ = write!(
            out,
            "# Modules: proxy proxy_http headers xsendfile (a2enmod proxy proxy_http headers xsendfile).

Listen {listen}

<VirtualHost {listen}>
    # nocanon forwards the path as the client sent it, so percent-encoded
    # names (%3F, %23, %25, ...) reach the app unchanged. mod_proxy keeps
    # connections to the app open and reuses them (one pool per process);
    # ttl=4 closes idle ones before actix-web's keep-alive (5 s) does.
    AllowEncodedSlashes NoDecode
    ProxyPass        / http://{app}/ nocanon ttl=4
    ProxyPassReverse / http://{app}/
    ProxyPreserveHost On

    # X-Sendfile carries the raw absolute path; only files below the root are
    # served. Without XSendFile On the header reaches the browser and the
    # download is the app's empty body.
    XSendFile On
    XSendFilePath {root}
    # Symlinks: mod_xsendfile checks the path only lexically and opens it with
    # a plain open(), which follows symlinks. It consults neither
    # \"Options -FollowSymLinks\" nor \"SymLinksIfOwnerMatch\" (a symlink below the
    # root is served with \"Options None\"), and no other setting refuses them.
    # If anyone untrusted can write below the root, a directory swapped for a
    # symlink between the app's check and this open can leak a file from
    # outside. Mount the root with nosymfollow (Linux 5.10+), e.g.
    #   mount -o bind,nosymfollow {root} {root}
    # and the kernel refuses such symlinks: see \"Limits per front server\" in
    # the sendfile-actix guide.

    # mod_xsendfile gives every proxied file the ETag \"0\": send none (no inode
    # either; Last-Modified still answers conditional requests).
    FileETag None

    # mod_xsendfile keeps every header of the app's answer (nosniff, the sandbox,
    # Cache-Control, CORS, Link, Content-Language) on 200, 206 and 304. A 416
    # Apache writes itself, without them: nosniff on every answer, once.
    Header onsuccess unset X-Content-Type-Options
    Header always set X-Content-Type-Options nosniff

    # mod_xsendfile only acts on a 200; on any other status the header would
    # reach the client, so drop it there.
    Header unset X-Sendfile \"expr=%{{REQUEST_STATUS}} != 200\"
</VirtualHost>
"
        );
        out
    }

    fn lighttpd(&self) -> String {
        let Site {
            listen,
            app,
            root,
            name,
            ..
        } = self;
        let mut out = self.header(&format!(
            "lighttpd 1.4: {name} behind mod_proxy with X-Sendfile."
        ));
        let (lh, lp, ah, ap) = (&listen.host, &listen.port, &app.host, &app.port);
        let _ = write!(
            out,
            "
server.modules += ( \"mod_proxy\" )

server.bind = \"{lh}\"
server.port = {lp}

# mod_proxy opens one connection to the app per request (lighttpd 1.4 has no
# keep-alive pool towards a proxied backend).
proxy.server = ( \"\" => ( (
    \"host\" => \"{ah}\",
    \"port\" => {ap},
    # X-Sendfile carries the percent-encoded absolute path. Without this line
    # lighttpd drops the header and serves the app's empty body.
    \"x-sendfile\" => \"enable\",
    # Without a docroot any file lighttpd can read could be named.
    \"x-sendfile-docroot\" => ( \"{root}\" ),
) ) )

# ETags from the size and modification time only, like the app's: the same for
# the same file on a replica or a restored copy, and no inode number disclosed.
etag.use-inode = \"disable\"
# lighttpd keeps every header of the app's answer (nosniff, the sandbox,
# Cache-Control, CORS, Link, Content-Language) on 200, 206 and 304; its own
# 416 (no file in it) carries none of them, and no setting adds one there.

# Symlinks: lighttpd follows them. server.follow-symlink = \"disable\" is not set
# here on purpose: it lstat()s the path's components and opens the file in a
# separate step, so a directory swapped for a symlink in between still leaks
# (measured), and it also refuses symlinks in the root's own path, e.g.
# /srv/app/current/files with current -> releases/N (403 for every file).
# If anyone untrusted can write below the root, mount the root with
# nosymfollow (Linux 5.10+), e.g. mount -o bind,nosymfollow {root} {root},
# and the kernel refuses such symlinks: see \"Limits per front server\" in the
# sendfile-actix guide.
"
        );
        out
    }

    fn caddy(&self) -> String {
        let Site {
            listen,
            app,
            root,
            url,
            name,
            ..
        } = self;
        let symlinks = caddy_symlinks(root);
        let mut out = self.header(&format!(
            "Caddy 2: {name} behind reverse_proxy + handle_response, which acts on\n# the app's X-Accel-Redirect."
        ));
        let _ = write!(
            out,
            "
http://{listen} {{
\t# reverse_proxy keeps connections to the app open and reuses them.
\treverse_proxy {app} {{
\t\t@accel header X-Accel-Redirect *
\t\t# Without handle_response the header and the app's empty body reach
\t\t# the client. root and file_server exist only here, so the files are
\t\t# never reachable by a direct request.
\t\thandle_response @accel {{
\t\t\troot * {root}
\t\t\t# Caddy uses the value literally (no percent-decoding, \"?\" starts
\t\t\t# a query): the app sends raw names and refuses names with \"?\".
\t\t\trewrite * {{rp.header.X-Accel-Redirect}}
\t\t\turi strip_prefix {url}
\t\t\t# Only the headers listed here reach the client: the presentation,
\t\t\t# the content policy, and the app's CORS, Link and Content-Language.
\t\t\tcopy_response_headers {{
\t\t\t\tinclude {carried}
\t\t\t}}
{symlinks}\t\t\tfile_server
\t\t}}
\t}}
}}
",
            carried = caddy_carried_headers(),
        );
        out
    }

    fn caddy_mod_wsgi(&self) -> String {
        let Site {
            listen,
            app,
            root,
            url,
            name,
            ..
        } = self;
        let symlinks = caddy_symlinks(root);
        let mut out = self.header(&format!(
            "Caddy 2: {name} with the mod_wsgi backend (status 200 +\n# Location: <url>/<path>), honoured by reverse_proxy + handle_response."
        ));
        let _ = write!(
            out,
            "
http://{listen} {{
\treverse_proxy {app} {{
\t\t# Only a 200 with a site-relative Location; a real redirect passes through.
\t\t@internal {{
\t\t\tstatus 200
\t\t\theader Location {url}/*
\t\t}}
\t\thandle_response @internal {{
\t\t\troot * {root}
\t\t\trewrite * {{rp.header.Location}}
\t\t\turi strip_prefix {url}
\t\t\t# Only the headers listed here reach the client: the presentation,
\t\t\t# the content policy, and the app's CORS, Link and Content-Language.
\t\t\tcopy_response_headers {{
\t\t\t\tinclude {carried}
\t\t\t}}
{symlinks}\t\t\tfile_server
\t\t}}
\t}}
}}
",
            carried = caddy_carried_headers(),
        );
        out
    }
}

/// Signed links ([`crate::link`]): where the front server checks them itself.
impl Site {
    /// Adds the checker of `signer`'s links: for nginx with the MD5 scheme, a location at the
    /// signer's URL prefix where nginx checks each link with `secure_link` and sends the file
    /// without asking the application. The other servers (and nginx with the HMAC-SHA256
    /// scheme) pass the links to the application, which checks them: their configuration does
    /// not change. Refused for files in a bucket (a presigned URL does the job there) and
    /// for a link location inside the internal one.
    ///
    /// ```
    /// use sendfile_core::deploy::Site;
    /// use sendfile_core::link::LinkSigner;
    /// use sendfile_core::{Backend, Config};
    ///
    /// let settings = Config::builder(Backend::Nginx).root("/srv/files").url("/protected");
    /// let signer = LinkSigner::new(&"k".repeat(40)).unwrap();
    /// let site = Site::from_settings(&settings, "127.0.0.1:8000".parse().unwrap(), "0.0.0.0:80".parse().unwrap())
    ///     .unwrap()
    ///     .signed_links(&signer)
    ///     .unwrap();
    /// let text = site.render();
    /// assert!(text.contains("location ^~ /signed/ {"));
    /// assert!(text.contains("secure_link $arg_md5,$arg_expires;"));
    /// ```
    pub fn signed_links(mut self, signer: &LinkSigner) -> Result<Site, ConfigError> {
        if self.store.is_some() {
            return Err(ConfigError::new(
                "SENDFILE_LINK_SECRET",
                "signed links name files below a root, and these files are in a bucket: unset it (the app's presigned URLs already expire)",
            ));
        }
        let location = signer.location();
        let inside = |outer: &str, inner: &str| {
            !outer.is_empty() && (inner == outer || inner.starts_with(&format!("{outer}/")))
        };
        if inside(&self.url, location) || inside(location, &self.url) {
            return Err(ConfigError::new(
                "SENDFILE_LINK_URL",
                format!(
                    "{location} overlaps the internal location {}; give signed links a path of their own, e.g. /signed",
                    self.url
                ),
            ));
        }
        self.links = Some(signer.clone());
        Ok(self)
    }

    /// `text` (nginx's site) with the signed-link checker, when there is one for nginx.
    fn nginx_with_links(&self, text: String) -> String {
        let Some(signer) = &self.links else {
            return text;
        };
        if signer.scheme() != crate::link::LinkScheme::NginxMd5 {
            return format!(
                "{text}# Signed links ({} scheme) go to the app, which checks them: nginx checks\n# only the md5 scheme itself (SENDFILE_LINK_SCHEME=md5).\n",
                signer.scheme()
            );
        }
        let maps = crate::link::nginx_maps(signer, &self.name);
        let location = crate::link::nginx_location(signer, &self.name, &self.root);
        let (Some(server), Some(end)) = (text.find("\nserver {\n"), text.rfind("}\n")) else {
            return text;
        };
        format!(
            "{}\n{maps}{}\n{location}{}",
            &text[..server],
            &text[server..end].trim_end_matches('\n'),
            &text[end..]
        )
    }
}

/// The store's response headers the bucket site hides besides `Content-Type` and
/// `Content-Disposition` (which come from the app). Kept: the validators (`ETag`,
/// `Last-Modified`), the framing (`Content-Length`, `Content-Range`, `Accept-Ranges`) and
/// `Content-Encoding` (the coding of the stored bytes, without which a client could not read
/// them).
const STORE_HEADERS_HIDDEN: &[&str] = &[
    // The app's caching rules, not the uploader's (`public, max-age=31536000`).
    "Cache-Control",
    "Expires",
    "Pragma",
    // Set by the uploader; the app sets its own where it means to.
    "Content-Language",
    "Link",
    "Content-Security-Policy",
    "X-Content-Type-Options",
    "Refresh",
    // The store's own CORS answer for the client's Origin, not the app's.
    "Access-Control-Allow-Origin",
    "Access-Control-Allow-Credentials",
    "Access-Control-Allow-Methods",
    "Access-Control-Allow-Headers",
    "Access-Control-Expose-Headers",
    "Access-Control-Max-Age",
    "Vary",
    "Set-Cookie",
    // What the store knows about the object and the request: none of the client's business.
    "x-amz-request-id",
    "x-amz-id-2",
    "x-amz-version-id",
    "x-amz-delete-marker",
    "x-amz-server-side-encryption",
    "x-amz-server-side-encryption-aws-kms-key-id",
    "x-amz-server-side-encryption-bucket-key-enabled",
    "x-amz-storage-class",
    "x-amz-expiration",
    "x-amz-restore",
    "x-amz-replication-status",
    "x-amz-website-redirect-location",
    "x-amz-object-lock-mode",
    "x-amz-object-lock-retain-until-date",
    "x-amz-object-lock-legal-hold",
    "x-amz-missing-meta",
    "x-amz-mp-parts-count",
    "x-amz-tagging-count",
    "x-amz-checksum-crc32",
    "x-amz-checksum-crc32c",
    "x-amz-checksum-crc64nvme",
    "x-amz-checksum-sha1",
    "x-amz-checksum-sha256",
    "x-amz-checksum-type",
];

/// The headers of the app's answer the generated configurations carry to the client on top of
/// `Content-Type`, `Content-Disposition`, `Cache-Control` and `Set-Cookie`: the [content
/// policy](crate::policy)'s and those an application sets for cross-origin use, links and
/// language. nginx drops them on an `X-Accel-Redirect` and Caddy keeps only the headers it is
/// told to; Apache and lighttpd keep them all.
pub const CARRIED_HEADERS: [&str; 8] = [
    "X-Content-Type-Options",
    "Content-Security-Policy",
    "Access-Control-Allow-Origin",
    "Access-Control-Allow-Credentials",
    "Access-Control-Expose-Headers",
    "Link",
    "Content-Language",
    "Vary",
];

/// The line of the nginx site that carries `header` of the app's answer to the client.
pub(crate) fn nginx_carried_line(header: &str) -> String {
    let var = header.to_ascii_lowercase().replace('-', "_");
    format!("add_header {header} $upstream_http_{var} always;")
}

/// nginx's `add_header` lines for [`CARRIED_HEADERS`], in the internal location.
fn nginx_carried_headers() -> String {
    let mut out = String::from(
        "        # nginx keeps only a few headers of the app's answer (Content-Type,
        # Content-Disposition, Cache-Control, Expires, Set-Cookie) when it sends the file:
        # these carry the rest of what the app chose, on every status (always). A header
        # the app did not send adds nothing.
",
    );
    for header in CARRIED_HEADERS {
        let _ = writeln!(out, "        {}", nginx_carried_line(header));
    }
    out
}

/// The names of Caddy's `copy_response_headers include`.
fn caddy_carried_headers() -> String {
    let mut names = vec![
        "Content-Type",
        "Content-Disposition",
        "Cache-Control",
        "Set-Cookie",
    ];
    names.extend(CARRIED_HEADERS);
    names.join(" ")
}

/// nginx's `upstream <name>_upstream` to the app, with its keep-alive pool.
pub(crate) fn nginx_app_upstream(name: &str, app: &Address, keepalive: u32) -> String {
    let pool = if keepalive == 0 {
        "    # No keep-alive pool: every request opens a new connection to the app.\n".to_owned()
    } else {
        format!(
            "    # Idle connections to the app kept per worker and reused: without them every
    # request pays for a new TCP connection (size it for the concurrent requests).
    keepalive {keepalive};
    # Below actix-web's keep-alive (5 s), so nginx never reuses a connection the
    # app is closing.
    keepalive_timeout 4s;
    keepalive_requests 10000;
"
        )
    };
    format!(
        "upstream {name}_upstream {{
    server {app};
{pool}}}
"
    )
}

fn caddy_symlinks(root: &str) -> String {
    format!(
        "\t\t\t# file_server follows symlinks and has no setting to refuse
\t\t\t# them: if anyone untrusted can write below the root, mount
\t\t\t# the root with nosymfollow (Linux 5.10+), e.g.
\t\t\t# mount -o bind,nosymfollow {root} {root}; see
\t\t\t# \"Limits per front server\" in the sendfile-actix guide.
"
    )
}

fn static_backend_name(backend: &Backend) -> &'static str {
    match backend {
        Backend::Nginx => "nginx",
        Backend::XSendfile => "xsendfile",
        Backend::Lighttpd => "lighttpd",
        Backend::Caddy => "caddy",
        Backend::ModWsgi => "mod_wsgi",
        Backend::Simple => "simple",
        Backend::Development => "development",
        Backend::Redirect => "redirect",
        Backend::Custom(_) => "custom",
    }
}

/// An absolute root without a trailing slash that every server's syntax takes unquoted.
pub(crate) fn check_root(root: &str) -> Result<String, ConfigError> {
    if !root.starts_with('/') {
        return Err(ConfigError::new(
            "SENDFILE_ROOT",
            format!(
                "{root:?} is relative; the front server would resolve it against its own directory: give the absolute path"
            ),
        ));
    }
    if let Some(c) = root.chars().find(|c| {
        c.is_whitespace()
            || c.is_control()
            || matches!(c, '"' | '\'' | '\\' | '{' | '}' | ';' | '#' | '$' | '`')
    }) {
        return Err(ConfigError::new(
            "SENDFILE_ROOT",
            format!(
                "{root:?} contains {c:?}, which front server configuration files treat specially; move the files to a path without it"
            ),
        ));
    }
    let trimmed = root.trim_end_matches('/');
    if trimmed.is_empty() {
        return Err(ConfigError::new(
            "SENDFILE_ROOT",
            "is \"/\": the front server would serve the whole file system; use the directory that holds the protected files",
        ));
    }
    Ok(trimmed.to_owned())
}

/// A self-contained main configuration that includes the site file and keeps everything the
/// server writes in one directory: for trying a setup on loopback (the end-to-end tests run
/// the servers with it). A real deployment uses the distribution's main configuration and only
/// [`Site::render`].
///
/// ```
/// use sendfile_core::deploy::{Server, Standalone};
/// let main = Standalone::new("/tmp/try-nginx").render(Server::Nginx);
/// assert!(main.contains("pid /tmp/try-nginx/nginx.pid;"));
/// assert!(main.contains("include site.conf;"));
/// ```
#[derive(Debug, Clone)]
pub struct Standalone {
    dir: String,
    user: String,
    group: String,
    modules: String,
}

impl Standalone {
    /// Everything goes to `dir`; as root, Apache and lighttpd switch to `www-data`.
    pub fn new(dir: &str) -> Standalone {
        Standalone {
            dir: dir.trim_end_matches('/').to_owned(),
            user: "www-data".to_owned(),
            group: "www-data".to_owned(),
            modules: "/usr/lib/apache2/modules".to_owned(),
        }
    }

    /// The placeholders `{{TMP}}`, `{{USER}}`, `{{GROUP}}` and `{{MODULES}}`.
    pub fn template() -> Standalone {
        Standalone {
            dir: "{{TMP}}".to_owned(),
            user: "{{USER}}".to_owned(),
            group: "{{GROUP}}".to_owned(),
            modules: "{{MODULES}}".to_owned(),
        }
    }

    /// The user and group Apache and lighttpd switch to when started as root.
    #[must_use]
    pub fn user(mut self, user: &str, group: &str) -> Self {
        self.user = user.to_owned();
        self.group = group.to_owned();
        self
    }

    /// The file name the main configuration is saved under, and the site file it includes.
    pub fn file_names(server: Server) -> (&'static str, &'static str) {
        match server {
            Server::Nginx => ("nginx.conf", "site.conf"),
            Server::Apache => ("apache2.conf", "site.conf"),
            Server::Lighttpd => ("lighttpd.conf", "site.conf"),
            Server::Caddy => ("Caddyfile", "site.caddy"),
        }
    }

    /// The main configuration for `server`.
    pub fn render(&self, server: Server) -> String {
        let Standalone {
            dir,
            user,
            group,
            modules,
        } = self;
        match server {
            Server::Nginx => format!(
                "# A self-contained nginx for trying a setup on loopback: everything it
# writes stays in {dir}. It runs in the foreground as the invoking user.
# For a real deployment, put site.conf into the distribution's sites-enabled.
daemon off;
master_process off;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log info;

events {{
    # Each proxied request holds two connections (client and app).
    worker_connections 4096;
}}

http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log {dir}/access.log;
    client_body_temp_path {dir}/client_body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    sendfile on;
    server_tokens off;

    include site.conf;
}}
"
            ),
            Server::Apache => format!(
                "# A self-contained Apache for trying a setup on loopback: everything it
# writes stays in {dir}. Start it with: apache2 -f {dir}/apache2.conf -X
# For a real deployment, put site.conf into the distribution's sites-enabled.
ServerRoot {dir}
ServerName localhost
DefaultRuntimeDir {dir}
PidFile {dir}/apache2.pid
ErrorLog {dir}/error.log
LogLevel warn xsendfile:debug
# Used only when started as root (the user must be able to read the files).
User {user}
Group {group}

LoadModule mpm_event_module {modules}/mod_mpm_event.so
LoadModule authz_core_module {modules}/mod_authz_core.so
LoadModule mime_module {modules}/mod_mime.so
LoadModule headers_module {modules}/mod_headers.so
LoadModule proxy_module {modules}/mod_proxy.so
LoadModule proxy_http_module {modules}/mod_proxy_http.so
LoadModule xsendfile_module {modules}/mod_xsendfile.so

TypesConfig /etc/mime.types
ServerTokens Prod

Include site.conf
"
            ),
            Server::Lighttpd => format!(
                "# A self-contained lighttpd for trying a setup on loopback: everything it
# writes stays in {dir}. Start it with: lighttpd -D -f {dir}/lighttpd.conf
# For a real deployment, put site.conf into the distribution's conf-enabled.
server.document-root = \"{dir}/empty\"
# Errors go to stderr (lighttpd opens a log file only after dropping root).
server.pid-file = \"{dir}/lighttpd.pid\"
server.upload-dirs = ( \"{dir}\" )
server.tag = \"lighttpd\"
# Used only when started as root (the user must be able to read the files).
server.username = \"{user}\"
server.groupname = \"{group}\"

mimetype.assign = (
    \".txt\" => \"text/plain; charset=utf-8\",
    \".html\" => \"text/html; charset=utf-8\",
    \".pdf\" => \"application/pdf\",
    \"\" => \"application/octet-stream\",
)

include \"site.conf\"
"
            ),
            Server::Caddy => format!(
                "# A self-contained Caddy for trying a setup on loopback: everything it
# writes stays in {dir}. Start it with:
#   HOME={dir} XDG_DATA_HOME={dir} XDG_CONFIG_HOME={dir} \\
#   caddy run --config {dir}/Caddyfile --adapter caddyfile
# For a real deployment, put the site block into the main Caddyfile.
{{
\tadmin off
\tauto_https off
\tstorage file_system {dir}/caddy
}}

import site.caddy
"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> Address {
        s.parse().unwrap()
    }

    fn site(config: &Config) -> Result<Site, ConfigError> {
        Site::from_config(config, addr("127.0.0.1:8000"), addr("127.0.0.1:8080"))
    }

    #[test]
    fn every_offload_backend_has_a_server_and_the_settings_line_names_it() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_str().unwrap();
        for backend in [
            Backend::Nginx,
            Backend::XSendfile,
            Backend::Lighttpd,
            Backend::Caddy,
            Backend::ModWsgi,
        ] {
            let config = Config::builder(backend.clone())
                .root(root)
                .url("/protected/")
                .build()
                .unwrap();
            let text = site(&config).unwrap().render();
            assert!(
                text.contains(&format!("SENDFILE_BACKEND={backend} SENDFILE_ROOT={root}")),
                "{text}"
            );
            assert!(!text.contains("{{"), "{text}");
            assert!(!text.contains(&format!("{root}//")), "{text}");
        }
    }

    #[test]
    fn the_url_prefix_and_the_root_meet_without_double_or_missing_slashes() {
        let dir = tempfile::tempdir().unwrap();
        let root = format!("{}/", dir.path().display());
        let settings = Config::builder(Backend::Nginx).root(&root).url("//files//");
        let text = site(&settings.clone().build().unwrap()).unwrap().render();
        let root = root.trim_end_matches('/');
        assert!(text.contains("location ^~ /files/ {"), "{text}");
        assert!(text.contains(&format!("alias {root}/;")), "{text}");
        let caddy = settings.backend(Backend::Caddy).build().unwrap();
        let caddy = site(&caddy).unwrap().render();
        assert!(caddy.contains(&format!("root * {root}\n")), "{caddy}");
        assert!(caddy.contains("uri strip_prefix /files\n"), "{caddy}");
    }

    #[test]
    fn nginx_keeps_a_keepalive_pool_with_http_1_1() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config::builder(Backend::Nginx)
            .root(dir.path())
            .url("/p")
            .build()
            .unwrap();
        let text = site(&config).unwrap().name("shop").keepalive(64).render();
        assert!(text.contains("upstream shop_upstream {\n    server 127.0.0.1:8000;"));
        assert!(text.contains("keepalive 64;"));
        assert!(text.contains("proxy_pass http://shop_upstream;"));
        assert!(text.contains("proxy_http_version 1.1;"));
        assert!(text.contains("proxy_set_header Connection \"\";"));
        let off = site(&config).unwrap().keepalive(0).render();
        assert!(!off.contains("keepalive 0"), "{off}");
    }

    #[test]
    fn hardening_is_in_every_configuration() {
        let dir = tempfile::tempdir().unwrap();
        let c = |b| {
            Config::builder(b)
                .root(dir.path())
                .url("/p")
                .build()
                .unwrap()
        };
        let nginx = site(&c(Backend::Nginx)).unwrap().render();
        assert!(nginx.contains("disable_symlinks on from=$document_root;"));
        assert!(nginx.contains("    internal;\n"));
        let apache = site(&c(Backend::XSendfile)).unwrap().render();
        assert!(apache.contains("XSendFile On\n"));
        assert!(apache.contains("FileETag None\n"));
        assert!(apache.contains("Header unset X-Sendfile \"expr=%{REQUEST_STATUS} != 200\""));
        let lighttpd = site(&c(Backend::Lighttpd)).unwrap().render();
        assert!(lighttpd.contains(&format!(
            "\"x-sendfile-docroot\" => ( \"{}\" ),",
            dir.path().display()
        )));
        let caddy = site(&c(Backend::Caddy)).unwrap().render();
        assert!(caddy.contains("handle_response @accel {"));
    }

    #[test]
    fn what_a_front_server_cannot_use_is_refused_with_the_setting_to_change() {
        let dir = tempfile::tempdir().unwrap();
        let cases = [
            (
                Config::builder(Backend::Simple).root(dir.path()),
                "SENDFILE_BACKEND",
            ),
            (Config::builder(Backend::Nginx).url("/p"), "SENDFILE_ROOT"),
            (
                Config::builder(Backend::Nginx).root("files").url("/p"),
                "SENDFILE_ROOT",
            ),
            (
                Config::builder(Backend::XSendfile).root("/srv/my files"),
                "SENDFILE_ROOT",
            ),
            (
                Config::builder(Backend::XSendfile).root("/srv/a;b"),
                "SENDFILE_ROOT",
            ),
            (
                Config::builder(Backend::Nginx).root(dir.path()),
                "SENDFILE_URL",
            ),
            (
                Config::builder(Backend::Caddy).root(dir.path()).url("/"),
                "SENDFILE_URL",
            ),
        ];
        // Settings, as generated for another machine: the roots need not exist here.
        for (settings, setting) in cases {
            let e = Site::from_settings(&settings, addr("127.0.0.1:8000"), addr("127.0.0.1:8080"))
                .unwrap_err();
            assert_eq!(e.setting, setting, "{settings:?}: {e}");
            // Built, the same settings are refused as well (or the generator refuses them).
            if let Ok(config) = settings.build() {
                assert_eq!(site(&config).unwrap_err().setting, setting);
            }
        }
    }

    #[test]
    fn addresses() {
        assert_eq!(addr("0.0.0.0:80").to_string(), "0.0.0.0:80");
        assert_eq!(addr("files.example:8080").host(), "files.example");
        for bad in [
            "",
            ":80",
            "host",
            "host:",
            "host:99999",
            "::1:80",
            "a b:80",
            "h\n:1",
        ] {
            assert!(bad.parse::<Address>().is_err(), "{bad}");
        }
        let v6: SocketAddr = "[::1]:9".parse().unwrap();
        assert_eq!(Address::from(v6).to_string(), "[::1]:9");
    }

    /// A signer whose URLs all start with a fixed origin.
    #[derive(Debug)]
    struct Fixed(&'static str);

    impl crate::object::Presigner for Fixed {
        fn name(&self) -> &str {
            "fixed"
        }
        fn presign(
            &self,
            _: &crate::object::PresignRequest<'_>,
        ) -> Result<crate::object::PresignedUrl, crate::Error> {
            Ok(crate::object::PresignedUrl::new(self.0, "/b/k", "sig=1"))
        }
        fn origin(&self) -> Option<&str> {
            Some(self.0)
        }
    }

    fn bucket_settings(origin: &'static str) -> crate::ConfigBuilder {
        Config::builder(Backend::Nginx)
            .url("/s3.files")
            .object_store(crate::object::ObjectStore::new(Fixed(origin)))
    }

    fn bucket(origin: &'static str) -> Config {
        bucket_settings(origin).build().unwrap()
    }

    #[test]
    fn nginx_with_a_bucket_proxies_to_the_fixed_store_and_hides_its_headers() {
        let config = bucket("http://127.0.0.1:9000");
        let text = site(&config).unwrap().name("shop").render();
        assert!(!text.contains("{{"), "{text}");
        // A fixed upstream, never a host from the header or the request.
        assert!(
            text.contains("upstream shop_store {\n    server 127.0.0.1:9000;\n    keepalive 16;"),
            "{text}"
        );
        assert!(text.contains(
            "location ~ ^/s3\\.files/(?<sendfile_s3_path>.*)$ {\n        internal;\n        proxy_pass http://shop_store/$sendfile_s3_path$is_args$args;\n"
        ));
        let internal = &text[text.find("location ~").unwrap()..text.find("location @").unwrap()];
        assert!(!internal.contains("$http_"), "{internal}");
        assert!(!internal.contains("$host"), "{internal}");
        assert_eq!(text.matches("$http_host").count(), 1, "{text}");
        assert!(text.contains("proxy_set_header Host 127.0.0.1:9000;"));
        // The client's credentials stay out; the store's headers and errors stay in.
        for line in [
            "proxy_set_header Authorization \"\";",
            "proxy_set_header Cookie \"\";",
            "proxy_hide_header Content-Type;",
            "proxy_hide_header Content-Disposition;",
            "proxy_hide_header x-amz-request-id;",
            "proxy_hide_header x-amz-id-2;",
            "proxy_hide_header Set-Cookie;",
            "proxy_intercept_errors on;",
            "error_page 404 = @sendfile_s3_missing;",
            "proxy_set_header Range $sendfile_s3_range;",
            "proxy_buffer_size 16k;",
        ] {
            assert!(text.contains(line), "{line}: {text}");
        }
        // The app's keep-alive pool as in the local site; no file system root.
        assert!(text.contains("upstream shop_upstream {\n    server 127.0.0.1:8000;"));
        assert!(text.contains("proxy_pass http://shop_upstream;"));
        assert!(!text.contains("alias") && !text.contains("disable_symlinks"));
        // http: TLS lines only as comments.
        assert!(text.contains("        # proxy_ssl_verify on;\n"), "{text}");
    }

    #[test]
    fn nginx_with_an_https_bucket_turns_tls_on_with_the_port() {
        let text = site(&bucket("https://s3.eu-west-1.amazonaws.com"))
            .unwrap()
            .render();
        assert!(
            text.contains("    server s3.eu-west-1.amazonaws.com:443;\n"),
            "{text}"
        );
        assert!(text.contains("proxy_set_header Host s3.eu-west-1.amazonaws.com;"));
        assert!(text.contains("proxy_pass https://app_store/"));
        assert!(text.contains("        proxy_ssl_server_name on;\n"));
        assert!(text.contains("        proxy_ssl_name s3.eu-west-1.amazonaws.com;\n"));
        assert!(text.contains("        proxy_ssl_verify on;\n"));
        let v6 = site(&bucket("http://[::1]:9000")).unwrap().render();
        assert!(v6.contains("    server [::1]:9000;\n"), "{v6}");
        assert!(v6.contains("proxy_set_header Host [::1]:9000;"));
    }

    #[test]
    fn a_bucket_site_needs_nginx_an_endpoint_and_no_root() {
        let silent = Config::builder(Backend::Nginx)
            .url("/p")
            .object_store(crate::object::ObjectStore::new(crate::object::Never))
            .build()
            .unwrap();
        assert_eq!(site(&silent).unwrap_err().setting, "SENDFILE_S3_ENDPOINT");
        let dir = tempfile::tempdir().unwrap();
        // A root besides, or a server that cannot send from a bucket: no such configuration
        // can be built, so no site is generated for one.
        let both = bucket_settings("http://127.0.0.1:9000").root(dir.path());
        assert_eq!(both.build().unwrap_err().setting, "SENDFILE_S3_BUCKET");
        let caddy = bucket_settings("http://127.0.0.1:9000").backend(Backend::Caddy);
        assert_eq!(caddy.build().unwrap_err().setting, "SENDFILE_BACKEND");
        let template = Site::bucket_template(&Backend::Nginx).unwrap().render();
        assert!(template.contains("proxy_pass {{S3_SCHEME}}://app_store/"));
        assert!(!template.contains("{{ROOT}}"));
    }

    #[test]
    fn lighttpd_gets_host_and_port_apart() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config::builder(Backend::Lighttpd)
            .root(dir.path())
            .build()
            .unwrap();
        let text = Site::from_config(&config, addr("[::1]:8000"), addr("[::]:80"))
            .unwrap()
            .render();
        assert!(
            text.contains("server.bind = \"::\"\nserver.port = 80\n"),
            "{text}"
        );
        assert!(
            text.contains("\"host\" => \"::1\",\n    \"port\" => 8000,"),
            "{text}"
        );
    }
}
