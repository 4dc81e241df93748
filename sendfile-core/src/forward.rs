//! Forward-auth: the proxy asks the application whether a request for a file may proceed
//! (nginx `auth_request`, Caddy `forward_auth`, Traefik `ForwardAuth`), then serves the file
//! itself.
//!
//! - [`requested_path`]: the file a proxied request names, decoded as the static server behind
//!   the proxy decodes it (once), with every form where servers differ refused;
//! - [`ForwardSite`]: the proxy's configuration: the files at a URL prefix, each request first
//!   sent to the application's endpoint ([`DEFAULT_ENDPOINT`]).
//!
//! ```
//! use sendfile_core::forward::requested_path;
//!
//! let path = requested_path("/files/reports/q3%20final.pdf?x=1", "/files").unwrap();
//! assert_eq!(path, std::path::Path::new("reports/q3 final.pdf"));
//! assert!(requested_path("/files/a/../b", "/files").is_err());
//! assert!(requested_path("/files/a%2Fb", "/files").is_err());
//! assert!(requested_path("/elsewhere/a", "/files").is_err());
//! ```

use std::ffi::OsStr;
use std::fmt::Write as _;
use std::os::unix::ffi::OsStrExt as _;
use std::path::PathBuf;

use crate::deploy::Address;
use crate::encode::percent_decode;
use crate::error::ConfigError;
use crate::url::UrlPrefix;

/// The application's forward-auth endpoint when none is given.
pub const DEFAULT_ENDPOINT: &str = "/.sendfile/forward-auth";

/// The file below the mount that `original_uri` (the request target as the client sent it,
/// percent-encoded, query allowed) names, relative to the directory the mount serves.
///
/// The static servers behind the proxies (nginx, Caddy's `file_server`) decode the path once
/// and remove `.`/`..` segments; so that the application checks exactly the file they will
/// send, every form on which decoders differ is refused instead of normalised: a `.` or `..`
/// segment, an empty segment, a trailing `/`, and an encoded dot, slash or NUL. `Err` says why
/// (for the log).
pub fn requested_path(original_uri: &str, mount: &str) -> Result<PathBuf, &'static str> {
    let (path, query) = match original_uri.split_once('?') {
        Some((p, q)) => (p, q),
        None => (original_uri, ""),
    };
    let mount = mount.trim_end_matches('/');
    let Some(rest) = path.strip_prefix(mount).and_then(|r| r.strip_prefix('/')) else {
        return Err("the path is not below the mount");
    };
    if let Some(why) = crate::link::refused_target(path, query) {
        return Err(why);
    }
    if rest.is_empty() {
        return Err("no file named");
    }
    let decoded = percent_decode(rest);
    if decoded.contains(&0) {
        return Err("a NUL byte");
    }
    Ok(PathBuf::from(OsStr::from_bytes(&decoded)))
}

/// A proxy that asks the application before serving a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Proxy {
    /// nginx `auth_request`, the files in a location of the same server.
    Nginx,
    /// Caddy 2 `forward_auth`, the files served by `file_server`.
    Caddy,
    /// Traefik 3 `ForwardAuth`, the files served by a static nginx on loopback.
    Traefik,
}

impl Proxy {
    /// `nginx`, `caddy` or `traefik`.
    pub fn name(self) -> &'static str {
        match self {
            Proxy::Nginx => "nginx",
            Proxy::Caddy => "caddy",
            Proxy::Traefik => "traefik",
        }
    }
}

/// A proxy configuration for forward-auth: clients at `listen`, the application at `app`, the
/// files of `root` at URLs below `mount`, each request checked by the application's
/// `endpoint` first.
///
/// ```
/// use sendfile_core::forward::{ForwardSite, Proxy};
///
/// let site = ForwardSite::new(
///     Proxy::Nginx,
///     "0.0.0.0:80".parse().unwrap(),
///     "127.0.0.1:8000".parse().unwrap(),
///     "/srv/files",
///     "/files",
/// )
/// .unwrap();
/// let text = site.render().remove(0).1;
/// assert!(text.contains("auth_request /.sendfile/forward-auth;"));
/// ```
#[derive(Debug, Clone)]
pub struct ForwardSite {
    proxy: Proxy,
    listen: Address,
    app: Address,
    root: String,
    mount: String,
    endpoint: String,
    name: String,
    static_server: Option<Address>,
}

impl ForwardSite {
    /// The site; `root` must be absolute and `mount` a path of its own (`/files`). Errors name
    /// the setting at fault.
    pub fn new(
        proxy: Proxy,
        listen: Address,
        app: Address,
        root: &str,
        mount: &str,
    ) -> Result<ForwardSite, ConfigError> {
        let root = crate::deploy::check_root(root)?;
        let mount = UrlPrefix::parse(mount)
            .map_err(|e| ConfigError::new("SENDFILE_FORWARD_URL", e.message))?;
        if mount.as_str().is_empty() {
            return Err(ConfigError::new(
                "SENDFILE_FORWARD_URL",
                "is \"/\": the files need a prefix of their own, e.g. /files, so that the app stays reachable",
            ));
        }
        Ok(ForwardSite {
            proxy,
            listen,
            app,
            root,
            mount: mount.as_str().to_owned(),
            endpoint: DEFAULT_ENDPOINT.to_owned(),
            name: "app".to_owned(),
            static_server: None,
        })
    }

    /// Names the application in the configuration (letters, digits and `_`).
    #[must_use]
    pub fn name(mut self, name: &str) -> Self {
        if !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            self.name = name.to_owned();
        }
        self
    }

    /// Where Traefik's static file server (an nginx) listens (default: the app's port + 1 on
    /// 127.0.0.1). Only loopback: it serves every file without asking.
    #[must_use]
    pub fn static_server(mut self, address: Address) -> Self {
        self.static_server = Some(address);
        self
    }

    /// The configuration files: `(file name, content)`. nginx: `site.conf`; Caddy:
    /// `site.caddy`; Traefik: `traefik.yml` (static: the entry point), `dynamic.yml`
    /// (routers, the ForwardAuth middleware) and `static-nginx.conf` (the file server behind
    /// it). `{{DYNAMIC}}` in `traefik.yml` stands for the path of `dynamic.yml`.
    pub fn render(&self) -> Vec<(&'static str, String)> {
        match self.proxy {
            Proxy::Nginx => vec![("site.conf", self.nginx())],
            Proxy::Caddy => vec![("site.caddy", self.caddy())],
            Proxy::Traefik => self.traefik(),
        }
    }

    fn header(&self, what: &str) -> String {
        format!(
            "# {what}\n# Forward-auth: each request for a file below {mount}/ is first sent to the app's\n# {endpoint}, which answers 2xx (send it), 401, 403 or 404 with an empty body.\n# Generated by sendfile-core's forward module: generate again rather than editing.\n",
            mount = self.mount,
            endpoint = self.endpoint,
        )
    }

    fn nginx(&self) -> String {
        let ForwardSite {
            listen,
            app,
            root,
            mount,
            endpoint,
            name,
            ..
        } = self;
        let upstream =
            crate::deploy::nginx_app_upstream(name, app, crate::deploy::DEFAULT_KEEPALIVE);
        let mut out = self.header(&format!(
            "nginx auth_request: the files of {name}, sent by nginx."
        ));
        let _ = write!(
            out,
            "
{upstream}
server {{
    listen {listen};

    location / {{
        proxy_pass http://{name}_upstream;
        proxy_http_version 1.1;
        proxy_set_header Connection \"\";
        proxy_set_header Host $http_host;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto $scheme;
    }}

    # The files: nginx asks the app first. nginx decodes the URI once and
    # removes dot segments; the app decodes X-Original-URI the same way and
    # refuses every form where the two could differ.
    location ^~ {mount}/ {{
        auth_request {endpoint};
        auth_request_set ${name}_auth_status $upstream_status;
        auth_request_set ${name}_auth_challenge $upstream_http_www_authenticate;
        add_header WWW-Authenticate ${name}_auth_challenge always;
        # auth_request passes 401 and 403 on and turns any other refusal into
        # 500: give the app's 404 back as a 404.
        error_page 500 = @{name}_auth_error;
        alias {root}/;
        disable_symlinks on from=$document_root;
    }}

    location @{name}_auth_error {{
        if (${name}_auth_status = 404) {{
            return 404;
        }}
        return 500;
    }}

    # The app's answer, for nginx only (internal: clients get 404 here).
    location = {endpoint} {{
        internal;
        proxy_pass http://{name}_upstream;
        proxy_http_version 1.1;
        proxy_pass_request_body off;
        proxy_set_header Content-Length \"\";
        proxy_set_header Connection \"\";
        proxy_set_header Host $http_host;
        proxy_set_header X-Original-URI $request_uri;
        proxy_set_header X-Original-Method $request_method;
    }}
}}
"
        );
        out
    }

    fn caddy(&self) -> String {
        let ForwardSite {
            listen,
            app,
            root,
            mount,
            endpoint,
            name,
            ..
        } = self;
        let mut out = self.header(&format!(
            "Caddy 2 forward_auth: the files of {name}, sent by file_server."
        ));
        let _ = write!(
            out,
            "
http://{listen} {{
\t# Clients never reach the endpoint: only forward_auth asks it.
\thandle {endpoint} {{
\t\trespond 404
\t}}
\thandle {mount}/* {{
\t\t# route keeps the order as written: Caddy would otherwise strip the prefix
\t\t# before forward_auth, and the app would be asked about another path.
\t\troute {{
\t\t\t# Sends X-Forwarded-Method and X-Forwarded-Uri (still percent-encoded);
\t\t\t# a 2xx lets the request through, anything else goes to the client.
\t\t\tforward_auth {app} {{
\t\t\t\turi {endpoint}
\t\t\t}}
\t\t\turi strip_prefix {mount}
\t\t\troot * {root}
\t\t\t# file_server follows symlinks and has no setting to refuse them: the
\t\t\t# app refuses a symlink leading out of the root, but a directory swapped
\t\t\t# for one after its check is followed (mount the root nosymfollow).
\t\t\tfile_server
\t\t}}
\t}}
\thandle {{
\t\treverse_proxy {app}
\t}}
}}
"
        );
        out
    }

    fn traefik(&self) -> Vec<(&'static str, String)> {
        let ForwardSite {
            listen,
            app,
            root,
            mount,
            endpoint,
            name,
            ..
        } = self;
        let statics = self.static_server.clone().unwrap_or_else(|| {
            let port = app
                .port()
                .parse::<u16>()
                .map_or(8001, |p| p.wrapping_add(1));
            Address::from(std::net::SocketAddr::from(([127, 0, 0, 1], port)))
        });
        let header = self.header(&format!(
            "Traefik 3 ForwardAuth: the files of {name}, sent by an nginx on loopback."
        ));
        let main = format!(
            "{header}
entryPoints:
  web:
    address: \"{listen}\"
    http:
      # Traefik rejects these encoded characters by default; the app and the
      # file server decode them alike, so names with %, ?, # and ; work.
      # Encoded slashes, backslashes and NULs stay refused.
      encodedCharacters:
        allowEncodedPercent: true
        allowEncodedQuestionMark: true
        allowEncodedHash: true
        allowEncodedSemicolon: true
providers:
  file:
    filename: \"{{{{DYNAMIC}}}}\"
log:
  level: ERROR
"
        );
        let dynamic = format!(
            "{header}
http:
  routers:
    {name}-files:
      entryPoints: [web]
      rule: \"PathPrefix(`{mount}/`)\"
      middlewares: [{name}-auth]
      service: {name}-files
    {name}-endpoint:
      entryPoints: [web]
      rule: \"Path(`{endpoint}`)\"
      middlewares: [{name}-deny]
      service: {name}-app
    {name}-app:
      entryPoints: [web]
      rule: \"PathPrefix(`/`)\"
      priority: 1
      service: {name}-app
  middlewares:
    {name}-auth:
      forwardAuth:
        # Sends X-Forwarded-Method and X-Forwarded-Uri (still percent-encoded);
        # client-sent X-Forwarded-* are replaced (trustForwardHeader: false).
        address: \"http://{app}{endpoint}\"
        trustForwardHeader: false
    {name}-deny:
      ipAllowList:
        sourceRange: [\"0.0.0.0/32\"]
  services:
    {name}-app:
      loadBalancer:
        servers:
          - url: \"http://{app}\"
    {name}-files:
      loadBalancer:
        servers:
          - url: \"http://{statics}\"
"
        );
        let nginx = format!(
            "{header}
# The file server behind Traefik: it serves every file without asking, so it
# listens on loopback only, for Traefik.
server {{
    listen {statics};
    location ^~ {mount}/ {{
        alias {root}/;
        disable_symlinks on from=$document_root;
    }}
    location / {{
        return 404;
    }}
}}
"
        );
        vec![
            ("traefik.yml", main),
            ("dynamic.yml", dynamic),
            ("static-nginx.conf", nginx),
        ]
    }
}
