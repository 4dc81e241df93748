//! The doctor: proves, through the real front server, that offloading works.
//!
//! A deployment that does not offload usually fails silently: the header reaches the browser
//! and the download is the application's empty body, or the front server answers 404 for every
//! file, or the internal location is public. The doctor asks the front server, as a browser
//! would, for files the application names, and explains what it sees.
//!
//! Two halves:
//!
//! - In the application, [`Probes::prepare`] writes a few small files below the root
//!   (`.sendfile-doctor/`: the probe, two decoys that catch a decoding mismatch, a path through
//!   a symlink), never following a symlink and refusing what it did not make, or uses a file
//!   the operator names when the root is read-only
//!   ([`Probes::with_file`]). The framework adapter serves the [`Manifest`] at
//!   [`MANIFEST_PATH`] and offloads the probes at [`PROBE_PATH`] and [`SYMLINK_PATH`]
//!   (`sendfile_actix::doctor` does this for actix-web).
//! - [`run`] (blocking, plain HTTP) fetches the manifest through the front server, then runs
//!   the checks; the [`Report`] has one line per check, each naming what to fix when it fails.
//!
//! | check | fails when |
//! |---|---|
//! | `manifest` | the doctor's routes do not reach the application |
//! | `offload` | the offload header reaches the client, or is dropped and the empty body served; the server answers 404/403 for the named file (the path it looked for is inferred); the bytes are another file's (a decoding mismatch) or altered |
//! | `content-type`, `content-disposition` | the header is lost or replaced |
//! | `carried-headers` | `X-Content-Type-Options`, the sandbox or `Cache-Control: private` are lost (the report names the line to add) |
//! | `head`, `range`, `conditional` | HEAD, `Range` or `If-None-Match`/`If-Modified-Since` are not honoured |
//! | `internal` | the internal location answers a direct request (the files are public) |
//! | `symlinks` | nginx follows a symlink below the root (a warning for the servers that cannot refuse them) |
//!
//! ```
//! use sendfile_core::doctor::{Manifest, Outcome, Report};
//!
//! let text = "sendfile-doctor: 1\nbackend: nginx\nroot: /srv/files\nurl: /protected\n\
//!             probe: .sendfile-doctor/a.txt\nfilename: a.txt\ncontent-type: text/plain\n\
//!             size: 3\nhash: 0000000000000001\n";
//! let manifest = Manifest::parse(text).unwrap();
//! assert_eq!(manifest.backend, "nginx");
//! assert_eq!(Manifest::parse(&manifest.to_text()).unwrap(), manifest);
//!
//! let report = Report::default();
//! assert!(report.passed());
//! ```

use std::fmt::{self, Write as _};
use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::backend::Backend;
use crate::config::Config;
use crate::encode::percent_encode_path;
use crate::probe_files::ProbeDir;

pub use crate::doctor_access::{MIN_TOKEN_LEN, authorized, process_token};

/// Where the application serves the [`Manifest`] (below the public base URL).
pub const MANIFEST_PATH: &str = "/.well-known/sendfile-doctor";
/// Where the application offloads the probe file.
pub const PROBE_PATH: &str = "/.well-known/sendfile-doctor/probe";
/// Where the application offloads a path that goes through a symlink below the root.
pub const SYMLINK_PATH: &str = "/.well-known/sendfile-doctor/symlink";
/// The directory below the root that holds the probes.
pub const PROBE_DIR: &str = ".sendfile-doctor";

/// The probe's name: a space, a literal `%41`, a non-ASCII letter, so that a server that
/// decodes once too often or not at all finds a decoy instead.
const PROBE_NAME: &str = "probe %41 \u{fc}.txt";
/// The probe's name for `mod_wsgi` (behind Caddy's emulation, names needing encoding cannot be
/// served at all).
const PLAIN_PROBE_NAME: &str = "probe.txt";
/// What a server that decodes once too often opens.
const DECODED_TWICE_NAME: &str = "probe A \u{fc}.txt";

/// FNV-1a, 64 bits: enough to tell the probe from a decoy or a truncated copy.
pub fn fingerprint(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// What the application tells the doctor: its settings and what the probes must look like.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Manifest {
    /// `SENDFILE_BACKEND`.
    pub backend: String,
    /// `SENDFILE_ROOT`.
    pub root: String,
    /// `SENDFILE_URL` (normalised), empty when not used.
    pub url: String,
    /// The probe's path below the root.
    pub probe: String,
    /// The name the download must be saved under.
    pub filename: String,
    /// The probe's Content-Type essence (e.g. `text/plain`).
    pub content_type: String,
    /// The probe's size, when the application can read it.
    pub size: Option<u64>,
    /// The probe's [`fingerprint`], when the application can read it.
    pub hash: Option<u64>,
    /// The fingerprint of the decoy served by a server that does not decode the header.
    pub decoy_not_decoded: Option<u64>,
    /// The fingerprint of the decoy served by a server that decodes once too often.
    pub decoy_decoded_twice: Option<u64>,
    /// The fingerprint of the file reached through a symlink, if there is one.
    pub symlink: Option<u64>,
    /// The [content policy](crate::policy) the probe is sent with (`untrusted` or `trusted`);
    /// empty from an application that does not say.
    pub content_policy: String,
}

impl Manifest {
    /// The manifest as `key: value` lines.
    pub fn to_text(&self) -> String {
        let mut s = String::from("sendfile-doctor: 1\n");
        let mut line = |k: &str, v: &str| {
            let _ = writeln!(s, "{k}: {v}");
        };
        line("backend", &self.backend);
        line("root", &self.root);
        if !self.url.is_empty() {
            line("url", &self.url);
        }
        line("probe", &self.probe);
        line("filename", &self.filename);
        line("content-type", &self.content_type);
        if !self.content_policy.is_empty() {
            line("content-policy", &self.content_policy);
        }
        let hex = |h: u64| format!("{h:016x}");
        if let Some(n) = self.size {
            line("size", &n.to_string());
        }
        for (k, v) in [
            ("hash", self.hash),
            ("decoy-not-decoded", self.decoy_not_decoded),
            ("decoy-decoded-twice", self.decoy_decoded_twice),
            ("symlink", self.symlink),
        ] {
            if let Some(v) = v {
                line(k, &hex(v));
            }
        }
        s
    }

    /// Parses [`to_text`](Self::to_text); `None` when it is not a manifest.
    pub fn parse(text: &str) -> Option<Manifest> {
        let mut lines = text.lines();
        if lines.next()?.trim() != "sendfile-doctor: 1" {
            return None;
        }
        let mut m = Manifest::default();
        for l in lines {
            let Some((k, v)) = l.split_once(": ") else {
                continue;
            };
            let hex = || u64::from_str_radix(v.trim(), 16).ok();
            match k {
                "backend" => m.backend = v.to_owned(),
                "root" => m.root = v.to_owned(),
                "url" => m.url = v.to_owned(),
                "probe" => m.probe = v.to_owned(),
                "filename" => m.filename = v.to_owned(),
                "content-type" => m.content_type = v.to_owned(),
                "size" => m.size = v.trim().parse().ok(),
                "hash" => m.hash = hex(),
                "decoy-not-decoded" => m.decoy_not_decoded = hex(),
                "decoy-decoded-twice" => m.decoy_decoded_twice = hex(),
                "symlink" => m.symlink = hex(),
                "content-policy" => m.content_policy = v.trim().to_owned(),
                _ => {}
            }
        }
        (!m.backend.is_empty() && !m.probe.is_empty()).then_some(m)
    }
}

/// The probe files of one application, and its [`Manifest`].
#[derive(Debug, Clone)]
pub struct Probes {
    manifest: Manifest,
    probe: PathBuf,
    symlink: Option<PathBuf>,
}

impl Probes {
    /// Writes the probes below `config`'s root, in [`PROBE_DIR`], through directory
    /// descriptors: no symlink is followed, and a symlink, a hard-linked file or another
    /// user's file or directory where a probe goes is refused and left untouched (the error
    /// names it). Fails when the root cannot be written: then name a file with
    /// [`with_file`](Self::with_file).
    pub fn prepare(config: &Config) -> io::Result<Probes> {
        let root = config
            .current_root()
            .map_err(|e| io::Error::other(format!("SENDFILE_ROOT: {e}")))?;
        // Never through a symlink, and only into what the doctor made itself.
        let dir = ProbeDir::open(&root, PROBE_DIR)?;
        let mut content = b"sendfile doctor probe\n".to_vec();
        content.extend((0u8..=255).map(|b| b'a' + b % 26));
        content.push(b'\n');
        let name = if matches!(config.backend(), Backend::ModWsgi) {
            PLAIN_PROBE_NAME
        } else {
            PROBE_NAME
        };
        dir.write(name, &content)?;
        let mut manifest = base_manifest(config, &format!("{PROBE_DIR}/{name}"), name);
        manifest.size = Some(content.len() as u64);
        manifest.hash = Some(fingerprint(&content));
        if name == PROBE_NAME {
            let not_decoded = percent_encode_path(PROBE_NAME.as_bytes());
            let a = b"sendfile doctor decoy: the header was not percent-decoded\n";
            let b = b"sendfile doctor decoy: the header was percent-decoded once too often\n";
            dir.write(&not_decoded, a)?;
            dir.write(DECODED_TWICE_NAME, b)?;
            manifest.decoy_not_decoded = Some(fingerprint(a));
            manifest.decoy_decoded_twice = Some(fingerprint(b));
        }
        // dir/link -> . : "link/target.txt" goes through a symlink and stays inside the root.
        let target = b"sendfile doctor: reached through a symlink\n";
        dir.write("target.txt", target)?;
        let symlink = dir.link_to_itself("link")?;
        if symlink {
            manifest.symlink = Some(fingerprint(target));
        }
        Ok(Probes {
            manifest,
            probe: PathBuf::from(format!("{PROBE_DIR}/{name}")),
            symlink: symlink.then(|| PathBuf::from(format!("{PROBE_DIR}/link/target.txt"))),
        })
    }

    /// Uses an existing file as the probe (a path below the root), for a root the application
    /// cannot write. Its bytes are checked when the application can read it (opened as any
    /// file it serves: confined to the root); the decoding and symlink checks are skipped.
    /// Choose a small file: the doctor reads at most 64 MiB.
    pub fn with_file(config: &Config, relative: &str) -> Probes {
        let relative = relative.trim_start_matches('/');
        let name = relative.rsplit('/').next().unwrap_or(relative);
        let mut manifest = base_manifest(config, relative, name);
        if let Ok(root) = config.current_root()
            && let Ok(open) = root.open_for_reading(Path::new(relative))
            && open.metadata().len < MAX_RESPONSE / 2
        {
            let mut content = Vec::new();
            if { open.file() }.read_to_end(&mut content).is_ok() {
                manifest.size = Some(content.len() as u64);
                manifest.hash = Some(fingerprint(&content));
            }
        }
        Probes {
            manifest,
            probe: PathBuf::from(relative),
            symlink: None,
        }
    }

    /// [`prepare`](Self::prepare), or [`with_file`](Self::with_file) when the root cannot be
    /// written and `fallback` names a file.
    pub fn prepare_or(config: &Config, fallback: Option<&str>) -> io::Result<Probes> {
        match (Probes::prepare(config), fallback) {
            (Ok(p), _) => Ok(p),
            (Err(_), Some(file)) => Ok(Probes::with_file(config, file)),
            (Err(e), None) => Err(io::Error::new(
                e.kind(),
                format!(
                    "the doctor cannot write its probes into {}/{PROBE_DIR}: {e}; name a file below the root for it to use instead",
                    config
                        .root_path()
                        .map_or_else(String::new, |r| r.display().to_string())
                ),
            )),
        }
    }

    /// The manifest to serve at [`MANIFEST_PATH`].
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The probe, relative to the root: offload it at [`PROBE_PATH`] (as an attachment).
    pub fn probe(&self) -> &Path {
        &self.probe
    }

    /// The path through a symlink, relative to the root (unresolved: hand it to the front
    /// server as is, see [`offload_header`]), to offload at [`SYMLINK_PATH`].
    pub fn symlink(&self) -> Option<&Path> {
        self.symlink.as_deref()
    }
}

fn base_manifest(config: &Config, probe: &str, filename: &str) -> Manifest {
    let ext_type = crate::disposition::content_type_for(Path::new(filename));
    Manifest {
        backend: config.backend().to_string(),
        root: config
            .root_path()
            .map(|r| r.to_string_lossy().trim_end_matches('/').to_owned())
            .unwrap_or_default(),
        url: config
            .url_prefix()
            .map(|u| u.as_str().to_owned())
            .unwrap_or_default(),
        probe: probe.to_owned(),
        filename: filename.to_owned(),
        content_type: essence(&ext_type).to_owned(),
        content_policy: config.content_policy().as_str().to_owned(),
        ..Manifest::default()
    }
}

/// The offload header that names `relative` (a path below the root, not resolved) for
/// `backend`: what the front server sees when a directory is swapped for a symlink after the
/// application's check. `None` for the in-process and custom backends.
///
/// ```
/// use sendfile_core::doctor::offload_header;
/// use sendfile_core::{Backend, Config};
/// # let dir = tempfile::tempdir().unwrap();
/// let config = Config::builder(Backend::Nginx).root(dir.path()).url("/protected").build().unwrap();
/// let (name, value) = offload_header(&config, "a b/c.txt".as_ref()).unwrap();
/// assert_eq!((name, value.as_slice()), ("X-Accel-Redirect", &b"/protected/a%20b/c.txt"[..]));
/// ```
pub fn offload_header(config: &Config, relative: &Path) -> Option<(&'static str, Vec<u8>)> {
    use std::os::unix::ffi::OsStrExt;
    let backend = config.backend();
    let offload = backend.offload_rules()?;
    let url = config.url_prefix();
    let value = offload
        .value(
            backend.name(),
            url,
            config.root_path()?,
            relative.as_os_str().as_bytes(),
        )
        .ok()?;
    Some((offload.header, value))
}

/// How one check ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// It works.
    Pass,
    /// It does not work; the message says what to fix.
    Fail,
    /// It works, with a limit worth knowing (not a failure).
    Warn,
    /// Not checked (not applicable, or a previous failure prevents it).
    Skip,
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Outcome::Pass => "PASS",
            Outcome::Fail => "FAIL",
            Outcome::Warn => "WARN",
            Outcome::Skip => "SKIP",
        })
    }
}

/// One check's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// The check's name (`offload`, `internal`, ...).
    pub name: &'static str,
    /// How it ended.
    pub outcome: Outcome,
    /// What was seen and, on failure, what to fix.
    pub message: String,
}

/// The doctor's findings, one [`Check`] per line when displayed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// The checks, in the order they ran.
    pub checks: Vec<Check>,
}

impl Report {
    /// True when no check failed (warnings and skips are not failures).
    pub fn passed(&self) -> bool {
        !self.checks.iter().any(|c| c.outcome == Outcome::Fail)
    }

    /// The check called `name`, if it ran.
    pub fn check(&self, name: &str) -> Option<&Check> {
        self.checks.iter().find(|c| c.name == name)
    }

    fn push(&mut self, name: &'static str, outcome: Outcome, message: impl Into<String>) {
        self.checks.push(Check {
            name,
            outcome,
            message: message.into(),
        });
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in &self.checks {
            writeln!(f, "{} {:<19} {}", c.outcome, c.name, c.message)?;
        }
        Ok(())
    }
}

/// A plain-HTTP base URL: `http://host[:port][/path]`.
#[derive(Debug, Clone)]
struct BaseUrl {
    host: String,
    port: u16,
    path: String,
    /// The `Authorization` header value the doctor's requests carry.
    authorization: Option<String>,
}

impl BaseUrl {
    fn parse(url: &str) -> Result<BaseUrl, String> {
        let rest = url.strip_prefix("http://").ok_or_else(|| {
            if url.starts_with("https://") {
                format!("{url}: the doctor speaks plain HTTP only; give the front server's http:// address (e.g. http://127.0.0.1:80/ on the server itself)")
            } else {
                format!("{url}: give the front server's public base URL, e.g. http://127.0.0.1:8080/")
            }
        })?;
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(']') || h.starts_with('[') => {
                (h, p.parse().map_err(|_| format!("{url}: bad port {p:?}"))?)
            }
            _ => (authority, 80),
        };
        if host.is_empty() {
            return Err(format!("{url}: no host"));
        }
        Ok(BaseUrl {
            host: host.to_owned(),
            port,
            path: path.trim_end_matches('/').to_owned(),
            authorization: None,
        })
    }
}

/// A response as the doctor saw it.
#[derive(Debug, Clone)]
struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

const TIMEOUT: Duration = Duration::from_secs(10);

/// The largest answer the doctor reads (a probe named by the operator should be small).
const MAX_RESPONSE: u64 = 64 << 20;

fn fetch(
    base: &BaseUrl,
    method: &str,
    target: &str,
    extra: &[(&str, &str)],
) -> Result<Response, String> {
    let addr = (
        base.host.trim_start_matches('[').trim_end_matches(']'),
        base.port,
    )
        .to_socket_addrs()
        .map_err(|e| format!("{}:{}: {e}", base.host, base.port))?
        .next()
        .ok_or_else(|| format!("{}: no address", base.host))?;
    let mut stream = TcpStream::connect_timeout(&addr, TIMEOUT)
        .map_err(|e| format!("connecting to {addr}: {e}"))?;
    stream.set_read_timeout(Some(TIMEOUT)).ok();
    stream.set_write_timeout(Some(TIMEOUT)).ok();
    let mut req = format!(
        "{method} {target} HTTP/1.1\r\nHost: {}:{}\r\nUser-Agent: sendfile-doctor\r\nAccept-Encoding: identity\r\nConnection: close\r\n",
        base.host, base.port
    );
    for (n, v) in extra {
        let _ = write!(req, "{n}: {v}\r\n");
    }
    if let Some(auth) = &base.authorization {
        let _ = write!(req, "Authorization: {auth}\r\n");
    }
    req.push_str("\r\n");
    stream
        .write_all(req.as_bytes())
        .map_err(|e| format!("{method} {target}: {e}"))?;
    let mut raw = Vec::new();
    stream
        .take(MAX_RESPONSE + 1)
        .read_to_end(&mut raw)
        .map_err(|e| format!("{method} {target}: reading the answer: {e}"))?;
    if raw.len() as u64 > MAX_RESPONSE {
        return Err(format!(
            "{method} {target}: the answer is larger than {} MiB; probe with a smaller file",
            MAX_RESPONSE >> 20
        ));
    }
    parse_response(&raw, method == "HEAD").ok_or_else(|| {
        format!(
            "{method} {target}: not an HTTP response: {:?}",
            String::from_utf8_lossy(&raw[..raw.len().min(80)])
        )
    })
}

fn parse_response(raw: &[u8], head: bool) -> Option<Response> {
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head_text = String::from_utf8_lossy(&raw[..end]);
    let mut lines = head_text.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let mut body = raw[end + 4..].to_vec();
    let chunked = headers.iter().any(|(n, v)| {
        n.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
    });
    if head || status == 304 || status == 204 {
        body.clear();
    } else if chunked {
        body = dechunk(&body)?;
    }
    Some(Response {
        status,
        headers,
        body,
    })
}

fn dechunk(mut data: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = data.windows(2).position(|w| w == b"\r\n")?;
        let size_text = String::from_utf8_lossy(&data[..line_end]);
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        data = &data[line_end + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(data.get(..size)?);
        data = data.get(size + 2..)?;
    }
}

fn essence(content_type: &str) -> &str {
    content_type.split(';').next().unwrap_or("").trim()
}

/// What the client sees of each server's offload header, and how to fix its being ignored.
fn ignored_fix(backend: &str) -> &'static str {
    match backend {
        "nginx" => {
            "nginx did not act on X-Accel-Redirect: proxy the app with proxy_pass (not fastcgi/uwsgi to another server), and remove \"proxy_ignore_headers X-Accel-Redirect\" and \"proxy_pass_header X-Accel-Redirect\"; a proxy in front of nginx (or no nginx at all) also gives this"
        }
        "xsendfile" => {
            "Apache did not act on X-Sendfile: set \"XSendFile On\" in the virtual host and load mod_xsendfile (a2enmod xsendfile); it only acts on a 200"
        }
        "lighttpd" => {
            "lighttpd did not act on X-Sendfile: add \"x-sendfile\" => \"enable\" to the proxy.server host"
        }
        "caddy" => {
            "Caddy did not act on X-Accel-Redirect: reverse_proxy needs \"@accel header X-Accel-Redirect *\" and \"handle_response @accel { root ...; rewrite * {rp.header.X-Accel-Redirect}; uri strip_prefix ...; file_server }\""
        }
        "mod_wsgi" => {
            "the front server did not act on 200 + Location: Apache needs mod_wsgi in daemon mode; Caddy needs \"handle_response\" on status 200 and a Location below the URL prefix"
        }
        _ => "the front server did not act on the offload header",
    }
}

/// Where the server looked, and what to fix, when it answered `status` for the probe.
fn not_found_fix(m: &Manifest, status: u16) -> String {
    let rel = &m.probe;
    let (root, url) = (&m.root, &m.url);
    match m.backend.as_str() {
        "nginx" => format!(
            "nginx answered {status} for X-Accel-Redirect {url}/{rel}, which should open {root}/{rel}. \
             If the location uses \"root {root}\" instead of \"alias {root}/\", nginx looked for {root}{url}/{rel}; \
             if it is \"location {url}/\" with \"alias {root}\" (no trailing slash), it looked for {root}{rel}; \
             if no location matches {url}/, the request went to the app or the default root. \
             Fix: location ^~ {url}/ {{ internal; alias {root}/; }} (print-config nginx), and make the files readable by nginx's user"
        ),
        "xsendfile" => format!(
            "Apache answered {status} for X-Sendfile {root}/{rel}: mod_xsendfile only serves files below an XSendFilePath \
             (error log: \"The given path was above the root path\"); add \"XSendFilePath {root}\" to the virtual host, \
             and make the files readable by Apache's user"
        ),
        "lighttpd" => format!(
            "lighttpd answered {status} for X-Sendfile {root}/{rel}: 403 means the path is not below an x-sendfile-docroot \
             (error log: \"not under configured x-sendfile-docroot(s)\"); set \"x-sendfile-docroot\" => ( \"{root}\" ) in the proxy.server host; \
             404 means lighttpd cannot see {root}/{rel} (another machine or container, or unreadable by its user)"
        ),
        "caddy" | "mod_wsgi" => format!(
            "Caddy answered {status} for {url}/{rel}: after \"uri strip_prefix {url}\" it opens <root>/{rel}, which should be {root}/{rel}; \
             check \"root * {root}\" and \"uri strip_prefix {url}\" inside handle_response (a missing strip_prefix makes it look for {root}{url}/{rel})"
        ),
        other => {
            format!("the front server answered {status} for the file the {other} backend named")
        }
    }
}

/// Runs every check through the front server at `base_url` (plain HTTP, e.g.
/// `http://127.0.0.1:8080/`), from the application's own process: its requests carry
/// [`process_token`]. From another process (a command, a monitor), use
/// [`run_with_token`]. Blocking; each request is bounded by a 10 s timeout. An unreachable
/// server or an invalid URL is a report with one failed check.
pub fn run(base_url: &str) -> Report {
    run_with_token(base_url, process_token())
}

/// [`run`], with the doctor's requests carrying `Authorization: Bearer <token>`: the token
/// the application's doctor is configured with.
///
/// ```
/// // Nothing listens there: one failed check says so.
/// let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
/// let report = sendfile_core::doctor::run_with_token(&format!("http://127.0.0.1:{port}/"), "s3cret-s3cret-s3cret");
/// assert!(report.to_string().starts_with("FAIL manifest"));
/// ```
pub fn run_with_token(base_url: &str, token: &str) -> Report {
    let mut report = Report::default();
    let base = match BaseUrl::parse(base_url) {
        Ok(b) => BaseUrl {
            authorization: Some(format!("Bearer {token}")),
            ..b
        },
        Err(e) => {
            report.push("manifest", Outcome::Fail, e);
            return report;
        }
    };
    let path = |p: &str| format!("{}{p}", base.path);
    let manifest = match fetch(&base, "GET", &path(MANIFEST_PATH), &[]) {
        Err(e) => {
            report.push(
                "manifest",
                Outcome::Fail,
                format!("the front server is not reachable: {e}"),
            );
            return report;
        }
        Ok(r) => match (r.status, Manifest::parse(&String::from_utf8_lossy(&r.body))) {
            (200, Some(m)) => m,
            (401, _) => {
                report.push(
                    "manifest",
                    Outcome::Fail,
                    format!(
                        "GET {MANIFEST_PATH} answered 401: the doctor's routes need its token; set one in the app (DoctorSettings::token, at least {MIN_TOKEN_LEN} characters) and give the same to the doctor (run_with_token; SENDFILE_DOCTOR_TOKEN for the example's doctor command)"
                    ),
                );
                return report;
            }
            (status, _) => {
                report.push(
                    "manifest",
                    Outcome::Fail,
                    format!(
                        "GET {MANIFEST_PATH} answered {status} without the doctor's manifest: register the doctor's routes in the app (sendfile_actix::doctor::configure) and let the front server proxy {MANIFEST_PATH} to it"
                    ),
                );
                return report;
            }
        },
    };
    report.push(
        "manifest",
        Outcome::Pass,
        format!(
            "the app answers through the front server: backend {}, root {}{}",
            manifest.backend,
            manifest.root,
            if manifest.url.is_empty() {
                String::new()
            } else {
                format!(", url {}", manifest.url)
            }
        ),
    );
    let probe_target = path(PROBE_PATH);
    let got = match fetch(&base, "GET", &probe_target, &[]) {
        Ok(r) => r,
        Err(e) => {
            report.push("offload", Outcome::Fail, e);
            return report;
        }
    };
    let offloaded = check_offload(&mut report, &manifest, &got);
    if offloaded {
        check_headers(&mut report, &manifest, &got);
        check_carried(&mut report, &manifest, &got);
        check_head_range_conditional(&mut report, &manifest, &base, &probe_target, &got);
    } else {
        for name in [
            "content-type",
            "content-disposition",
            "carried-headers",
            "head",
            "range",
            "conditional",
        ] {
            report.push(name, Outcome::Skip, "needs a working offload");
        }
    }
    if matches!(manifest.backend.as_str(), "simple" | "development") {
        for name in ["internal", "symlinks"] {
            report.push(
                name,
                Outcome::Skip,
                format!(
                    "the {} backend streams files from the app: nothing is offloaded",
                    manifest.backend
                ),
            );
        }
        return report;
    }
    check_internal(&mut report, &manifest, &base);
    if offloaded {
        check_symlinks(&mut report, &manifest, &base, &path(SYMLINK_PATH));
    } else {
        report.push("symlinks", Outcome::Skip, "needs a working offload");
    }
    report
}

/// The `offload` check; true when the probe arrived.
fn check_offload(report: &mut Report, m: &Manifest, got: &Response) -> bool {
    let leaked = ["X-Accel-Redirect", "X-Sendfile"]
        .into_iter()
        .find(|h| got.header(h).is_some())
        .map(str::to_owned)
        .or_else(|| {
            (m.backend == "mod_wsgi" && got.status == 200 && got.header("Location").is_some())
                .then(|| "Location".to_owned())
        });
    if let Some(h) = leaked {
        report.push(
            "offload",
            Outcome::Fail,
            format!(
                "the offload header reached the client ({h}: {}), with the app's {}-byte body instead of the file: {}",
                got.header(&h).unwrap_or(""),
                got.body.len(),
                ignored_fix(&m.backend)
            ),
        );
        return false;
    }
    let hash = fingerprint(&got.body);
    match got.status {
        200 | 206 => {}
        404 | 403 | 410 => {
            report.push("offload", Outcome::Fail, not_found_fix(m, got.status));
            return false;
        }
        s => {
            report.push(
                "offload",
                Outcome::Fail,
                format!(
                    "the front server answered {s} for the probe: 502/504 mean it could not reach the app or refused the header (lighttpd: the decoded path must be UTF-8); see its error log"
                ),
            );
            return false;
        }
    }
    if got.body.is_empty() && m.size != Some(0) {
        report.push(
            "offload",
            Outcome::Fail,
            format!(
                "the front server dropped the offload header and sent the app's empty body (a 0-byte download): {}",
                ignored_fix(&m.backend)
            ),
        );
        return false;
    }
    if Some(hash) == m.decoy_not_decoded {
        report.push(
            "offload",
            Outcome::Fail,
            format!(
                "the file arrived under another name: the server did not percent-decode the {} backend's header, as a configuration for a raw backend (Caddy, Apache mod_xsendfile) would; use the configuration generated for SENDFILE_BACKEND={} (print-config), or set SENDFILE_BACKEND to the server's backend",
                m.backend, m.backend
            ),
        );
        return false;
    }
    if Some(hash) == m.decoy_decoded_twice {
        report.push(
            "offload",
            Outcome::Fail,
            format!(
                "the file arrived under another name: the server percent-decoded the {} backend's header once more than it expects (e.g. nginx in front of an app set to caddy or xsendfile); set SENDFILE_BACKEND to the server's backend and regenerate its configuration",
                m.backend
            ),
        );
        return false;
    }
    match (m.hash, m.size) {
        (Some(h), Some(n)) if h != hash => {
            report.push(
                "offload",
                Outcome::Fail,
                format!(
                    "the bytes arrived altered: {} bytes, expected {n} ({}); check that no filter (gzip, sub_filter, a CDN) rewrites the body and that the front server reads the same {} as the app",
                    got.body.len(),
                    if got.header("Content-Encoding").is_some() {
                        "the response has a Content-Encoding"
                    } else {
                        "different content"
                    },
                    m.root
                ),
            );
            false
        }
        (Some(_), Some(n)) => {
            report.push(
                "offload",
                Outcome::Pass,
                if m.decoy_not_decoded.is_some() {
                    format!("the front server sent the probe file ({n} bytes; its name, with a space, a literal %41 and a non-ASCII letter, arrived intact)")
                } else {
                    format!("the front server sent the probe file ({n} bytes)")
                },
            );
            true
        }
        _ => {
            report.push(
                "offload",
                Outcome::Pass,
                format!(
                    "the front server sent {} bytes for {} (the app cannot read it to compare)",
                    got.body.len(),
                    m.probe
                ),
            );
            true
        }
    }
}

fn check_headers(report: &mut Report, m: &Manifest, got: &Response) {
    match got.header("Content-Type") {
        Some(t) if essence(t).eq_ignore_ascii_case(&m.content_type) => {
            report.push("content-type", Outcome::Pass, format!("Content-Type: {t}"));
        }
        other => report.push(
            "content-type",
            Outcome::Fail,
            format!(
                "expected {}, got {}: {}",
                m.content_type,
                other.unwrap_or("no Content-Type"),
                match m.backend.as_str() {
                    "caddy" | "mod_wsgi" => "add Content-Type to copy_response_headers in handle_response",
                    "xsendfile" => "mod_xsendfile keeps the app's Content-Type: check that no Header directive removes it",
                    _ => "check that the front server keeps the app's Content-Type (no proxy_hide_header / Header unset)",
                }
            ),
        ),
    }
    let cd = got.header("Content-Disposition").unwrap_or("");
    let encoded = percent_encode_path(m.filename.as_bytes());
    if cd.starts_with("attachment") && (cd.contains(&m.filename) || cd.contains(&encoded)) {
        report.push(
            "content-disposition",
            Outcome::Pass,
            format!("Content-Disposition: {cd}"),
        );
    } else {
        report.push(
            "content-disposition",
            Outcome::Fail,
            format!(
                "expected an attachment named {:?}, got {}: {}",
                m.filename,
                if cd.is_empty() { "no Content-Disposition" } else { cd },
                match m.backend.as_str() {
                    "caddy" | "mod_wsgi" => "add Content-Disposition to copy_response_headers in handle_response",
                    _ => "check that the front server keeps the app's Content-Disposition (no proxy_hide_header / Header unset)",
                }
            ),
        );
    }
}

/// The `carried-headers` check: what the library sends around the bytes (nosniff, the sandbox,
/// `Cache-Control: private`) reaches the client; a failure names the line to add.
fn check_carried(report: &mut Report, m: &Manifest, got: &Response) {
    let mut expected = vec![("X-Content-Type-Options", "nosniff")];
    if m.content_policy == crate::ContentPolicy::Untrusted.as_str() {
        expected.push(("Content-Security-Policy", crate::policy::SANDBOX));
    }
    expected.push(("Cache-Control", "private"));
    let missing: Vec<&str> = expected
        .iter()
        .filter(|(name, value)| got.header(name) != Some(*value))
        .map(|(name, _)| *name)
        .collect();
    if missing.is_empty() {
        let names: Vec<&str> = expected.iter().map(|(name, _)| *name).collect();
        report.push(
            "carried-headers",
            Outcome::Pass,
            format!("{} arrive", names.join(", ")),
        );
        return;
    }
    let fix = match m.backend.as_str() {
        "nginx" => {
            let lines: Vec<String> = missing
                .iter()
                .map(|name| match *name {
                    "Cache-Control" => "(Cache-Control: remove the proxy_hide_header or proxy_ignore_headers that drops it)".to_owned(),
                    name => crate::deploy::nginx_carried_line(name),
                })
                .collect();
            format!(
                "add to nginx's internal location {}/: {}",
                m.url,
                lines.join(" ")
            )
        }
        "caddy" | "mod_wsgi" => format!(
            "add {} to copy_response_headers' include in handle_response",
            missing.join(" ")
        ),
        "xsendfile" => {
            "remove the Header unset / Header set directive that drops or replaces it".to_owned()
        }
        "lighttpd" => {
            "remove the setenv.set-response-header or mod_setenv rule that drops or replaces it"
                .to_owned()
        }
        _ => "check that no middleware or proxy removes or replaces it".to_owned(),
    };
    report.push(
        "carried-headers",
        Outcome::Fail,
        format!(
            "{} did not arrive as the app sent it: {fix} (print-config generates these lines)",
            missing.join(", ")
        ),
    );
}

fn check_head_range_conditional(
    report: &mut Report,
    m: &Manifest,
    base: &BaseUrl,
    target: &str,
    got: &Response,
) {
    let len = got.body.len();
    match fetch(base, "HEAD", target, &[]) {
        Ok(r) if r.status == 200 && r.header("Content-Length") == Some(&len.to_string()) => {
            report.push("head", Outcome::Pass, format!("HEAD: 200, Content-Length {len}"));
        }
        Ok(r) => report.push(
            "head",
            Outcome::Fail,
            format!(
                "HEAD answered {} with Content-Length {:?}, expected 200 and {len}: the front server must answer HEAD from the file (check that HEAD reaches the offload path)",
                r.status,
                r.header("Content-Length")
            ),
        ),
        Err(e) => report.push("head", Outcome::Fail, e),
    }
    if len >= 16 {
        match fetch(base, "GET", target, &[("Range", "bytes=4-13")]) {
            Ok(r)
                if r.status == 206
                    && r.body == got.body[4..14]
                    && r.header("Content-Range") == Some(&format!("bytes 4-13/{len}")) =>
            {
                report.push("range", Outcome::Pass, "Range: 206 with the right 10 bytes");
            }
            Ok(r) => report.push(
                "range",
                Outcome::Fail,
                format!(
                    "Range bytes=4-13 answered {} ({} bytes, Content-Range {:?}): the front server must answer ranges from the file; do not strip Range before it, nor set max_ranges 0 / Accept-Ranges none",
                    r.status,
                    r.body.len(),
                    r.header("Content-Range")
                ),
            ),
            Err(e) => report.push("range", Outcome::Fail, e),
        }
    } else {
        report.push("range", Outcome::Skip, "the probe is too small");
    }
    let validator = got
        .header("ETag")
        .map(|e| ("If-None-Match", e.to_owned()))
        .or_else(|| {
            got.header("Last-Modified")
                .map(|l| ("If-Modified-Since", l.to_owned()))
        });
    match validator {
        None => report.push(
            "conditional",
            Outcome::Fail,
            "the file came without ETag and Last-Modified: caches cannot revalidate; check that the front server serves it from disk with its validators",
        ),
        Some((h, v)) => match fetch(base, "GET", target, &[(h, &v)]) {
            Ok(r) if r.status == 304 => {
                report.push("conditional", Outcome::Pass, format!("{h}: 304"));
            }
            Ok(r) => report.push(
                "conditional",
                Outcome::Fail,
                format!("{h}: {v} answered {}, expected 304: the front server must evaluate conditional requests on the file", r.status),
            ),
            Err(e) => report.push("conditional", Outcome::Fail, e),
        },
    }
    let _ = m;
}

fn check_internal(report: &mut Report, m: &Manifest, base: &BaseUrl) {
    if m.url.is_empty() {
        report.push(
            "internal",
            Outcome::Skip,
            format!(
                "the {} backend names files by path: no URL maps to the root",
                m.backend
            ),
        );
        return;
    }
    let target = format!("{}/{}", m.url, percent_encode_path(m.probe.as_bytes()));
    match fetch(base, "GET", &target, &[]) {
        Ok(r) if r.status == 200 && m.hash.is_some_and(|h| fingerprint(&r.body) == h) => {
            report.push(
                "internal",
                Outcome::Fail,
                format!(
                    "GET {target} served the protected file without the app: the files are public. {}",
                    if m.backend == "nginx" {
                        format!("Add \"internal;\" to location ^~ {}/", m.url)
                    } else {
                        format!("Serve {} only inside handle_response, never from a site-wide file_server or root", m.root)
                    }
                ),
            );
        }
        Ok(r) => report.push(
            "internal",
            Outcome::Pass,
            format!(
                "a direct request for the internal location answers {}",
                r.status
            ),
        ),
        Err(e) => report.push("internal", Outcome::Fail, e),
    }
}

fn check_symlinks(report: &mut Report, m: &Manifest, base: &BaseUrl, target: &str) {
    let Some(link_hash) = m.symlink else {
        report.push(
            "symlinks",
            Outcome::Skip,
            "no probe through a symlink (read-only root)",
        );
        return;
    };
    match fetch(base, "GET", target, &[]) {
        Ok(r) if r.status == 200 && fingerprint(&r.body) == link_hash => {
            let (outcome, fix) = match m.backend.as_str() {
                "nginx" => (
                    Outcome::Fail,
                    format!(
                        "add \"disable_symlinks on from=$document_root;\" to location ^~ {}/",
                        m.url
                    ),
                ),
                _ => (
                    Outcome::Warn,
                    format!(
                        "this server has no setting to refuse them; if anyone untrusted can write below the root, mount it with nosymfollow (mount -o bind,nosymfollow {0} {0})",
                        m.root
                    ),
                ),
            };
            report.push(
                "symlinks",
                outcome,
                format!("the server followed a symlink below the root: {fix}"),
            );
        }
        Ok(r) if matches!(r.status, 403 | 404) => report.push(
            "symlinks",
            Outcome::Pass,
            format!(
                "a path through a symlink below the root is refused ({})",
                r.status
            ),
        ),
        Ok(r) => report.push(
            "symlinks",
            Outcome::Warn,
            format!(
                "a path through a symlink answered {}; see the server's error log",
                r.status
            ),
        ),
        Err(e) => report.push("symlinks", Outcome::Fail, e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn base_urls() {
        let b = BaseUrl::parse("http://127.0.0.1:8080/").unwrap();
        assert_eq!(
            (b.host.as_str(), b.port, b.path.as_str()),
            ("127.0.0.1", 8080, "")
        );
        let b = BaseUrl::parse("http://files.example/app/").unwrap();
        assert_eq!(
            (b.host.as_str(), b.port, b.path.as_str()),
            ("files.example", 80, "/app")
        );
        assert!(
            BaseUrl::parse("https://x/")
                .unwrap_err()
                .contains("plain HTTP")
        );
        assert!(BaseUrl::parse("x:80").is_err());
    }

    #[test]
    fn responses_parse_with_length_and_chunks() {
        let r = parse_response(
            b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nX-A: b\r\n\r\nabc",
            false,
        )
        .unwrap();
        assert_eq!(
            (r.status, r.body.as_slice(), r.header("x-a")),
            (200, &b"abc"[..], Some("b"))
        );
        let r = parse_response(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n1\r\nc\r\n0\r\n\r\n",
            false,
        )
        .unwrap();
        assert_eq!(r.body, b"abc");
    }

    #[test]
    fn probes_and_decoys_differ_and_the_manifest_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config::builder(Backend::Nginx)
            .root(dir.path())
            .url("/p")
            .build()
            .unwrap();
        let probes = Probes::prepare(&config).unwrap();
        let m = probes.manifest();
        assert_eq!(Manifest::parse(&m.to_text()).as_ref(), Some(m));
        let hashes = [
            m.hash,
            m.decoy_not_decoded,
            m.decoy_decoded_twice,
            m.symlink,
        ];
        for (i, a) in hashes.iter().enumerate() {
            assert!(a.is_some());
            for b in &hashes[i + 1..] {
                assert_ne!(a, b);
            }
        }
        assert!(
            dir.path()
                .join(".sendfile-doctor/probe%20%2541%20%C3%BC.txt")
                .exists()
        );
        assert!(dir.path().join(".sendfile-doctor/link/target.txt").exists());
        // Again: nothing to rewrite, same manifest.
        assert_eq!(Probes::prepare(&config).unwrap().manifest(), m);
    }

    /// A root with an `outside` directory next to it, holding a file named `link` and a
    /// secret, for `backend` (with `follow_symlinks`).
    #[cfg(target_os = "linux")]
    struct Attack {
        dir: tempfile::TempDir,
        configs: Vec<Config>,
    }

    #[cfg(target_os = "linux")]
    impl Attack {
        fn new() -> Attack {
            let dir = tempfile::tempdir().unwrap();
            fs::create_dir(dir.path().join("root")).unwrap();
            fs::create_dir(dir.path().join("outside")).unwrap();
            fs::write(dir.path().join("outside/link"), b"not the doctor's").unwrap();
            fs::write(dir.path().join("outside/secret"), b"precious").unwrap();
            let mut configs = Vec::new();
            for name in crate::BACKEND_NAMES {
                let backend: Backend = name.parse().unwrap();
                if backend.needs_object_store() {
                    continue;
                }
                for follow in [true, false] {
                    let mut b = Config::builder(backend.clone())
                        .root(dir.path().join("root"))
                        .follow_symlinks(follow);
                    if backend.needs_url() {
                        b = b.url("/p");
                    }
                    configs.push(b.build().unwrap());
                }
            }
            Attack { dir, configs }
        }

        fn root(&self) -> PathBuf {
            self.dir.path().join("root")
        }

        fn outside(&self) -> PathBuf {
            self.dir.path().join("outside")
        }

        /// The outside directory is as it was: nothing created, deleted or overwritten.
        fn assert_outside_untouched(&self, what: &str) {
            let mut names: Vec<String> = fs::read_dir(self.outside())
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            names.sort();
            assert_eq!(names, ["link", "secret"], "{what}");
            assert_eq!(
                fs::read(self.outside().join("link")).unwrap(),
                b"not the doctor's"
            );
            assert_eq!(
                fs::read(self.outside().join("secret")).unwrap(),
                b"precious"
            );
        }
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn a_symlink_planted_at_the_probes_directory_is_refused() {
        let attack = Attack::new();
        std::os::unix::fs::symlink(attack.outside(), attack.root().join(PROBE_DIR)).unwrap();
        for config in &attack.configs {
            let err = Probes::prepare(config).unwrap_err();
            assert!(err.to_string().contains("is a symlink"), "{err}");
            assert!(err.to_string().contains("remove"), "{err}");
            attack.assert_outside_untouched(&config.backend().to_string());
        }
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn a_symlink_or_hard_link_planted_at_a_probe_is_refused() {
        let attack = Attack::new();
        let dir = attack.root().join(PROBE_DIR);
        for file in [PROBE_NAME, PLAIN_PROBE_NAME, "target.txt", "link"] {
            for how in ["symlink", "hard link"] {
                let _ = fs::remove_dir_all(&dir);
                fs::create_dir(&dir).unwrap();
                let outside = attack
                    .outside()
                    .join(if file == "link" { "link" } else { "secret" });
                if how == "symlink" {
                    std::os::unix::fs::symlink(&outside, dir.join(file)).unwrap();
                } else {
                    fs::hard_link(&outside, dir.join(file)).unwrap();
                }
                for config in &attack.configs {
                    let prepared = Probes::prepare(config);
                    let plain = matches!(config.backend(), Backend::ModWsgi);
                    // Each backend writes one of the two probe names.
                    if (file == PROBE_NAME && plain) || (file == PLAIN_PROBE_NAME && !plain) {
                        continue;
                    }
                    let err = prepared.unwrap_err().to_string();
                    assert!(
                        err.contains(file) && err.contains("did not make"),
                        "{how} at {file}: {err}"
                    );
                    attack.assert_outside_untouched(&format!("{how} at {file}"));
                }
            }
        }
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn a_probes_directory_of_another_user_is_refused() {
        if !rustix::process::geteuid().is_root() {
            return;
        }
        let attack = Attack::new();
        let dir = attack.root().join(PROBE_DIR);
        fs::create_dir(&dir).unwrap();
        std::os::unix::fs::chown(&dir, Some(65534), Some(65534)).unwrap();
        let err = Probes::prepare(&attack.configs[0]).unwrap_err();
        assert!(err.to_string().contains("another user"), "{err}");
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 0);
        // A probe of another user in the doctor's own directory, too.
        std::os::unix::fs::chown(&dir, Some(0), Some(0)).unwrap();
        fs::write(dir.join("target.txt"), b"someone else's").unwrap();
        std::os::unix::fs::chown(dir.join("target.txt"), Some(65534), Some(65534)).unwrap();
        let err = Probes::prepare(&attack.configs[0]).unwrap_err();
        assert!(err.to_string().contains("another user"), "{err}");
        assert_eq!(fs::read(dir.join("target.txt")).unwrap(), b"someone else's");
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn a_changed_probe_is_replaced_not_written_through() {
        let attack = Attack::new();
        let config = &attack.configs[0];
        Probes::prepare(config).unwrap();
        let target = attack.root().join(PROBE_DIR).join("target.txt");
        fs::write(&target, b"stale").unwrap();
        let before = std::os::unix::fs::MetadataExt::ino(&fs::metadata(&target).unwrap());
        Probes::prepare(config).unwrap();
        let after = fs::metadata(&target).unwrap();
        assert_ne!(std::os::unix::fs::MetadataExt::ino(&after), before);
        assert_eq!(
            fs::read(&target).unwrap(),
            b"sendfile doctor: reached through a symlink\n"
        );
        // No temporary file is left behind.
        let names: Vec<_> = fs::read_dir(attack.root().join(PROBE_DIR))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert!(
            names.iter().all(|n| !n.to_string_lossy().ends_with(".tmp")),
            "{names:?}"
        );
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn a_named_probe_file_is_confined_to_the_root() {
        let attack = Attack::new();
        std::os::unix::fs::symlink(attack.outside().join("secret"), attack.root().join("s"))
            .unwrap();
        for config in &attack.configs {
            for named in ["s", "../outside/secret"] {
                let p = Probes::with_file(config, named);
                assert_eq!(p.manifest().hash, None, "{named}");
            }
        }
    }

    #[test]
    fn a_named_file_serves_as_probe() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("hello.txt"), b"hi").unwrap();
        let config = Config::builder(Backend::XSendfile)
            .root(dir.path())
            .build()
            .unwrap();
        let p = Probes::with_file(&config, "/hello.txt");
        assert_eq!(p.manifest().size, Some(2));
        assert_eq!(p.manifest().filename, "hello.txt");
        assert!(p.symlink().is_none());
    }

    #[test]
    fn offload_headers_per_backend() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("f");
        std::fs::create_dir(&root).unwrap();
        let c = |b| {
            Config::builder(b)
                .root(format!("{}/", root.display()))
                .url("/p")
                .build()
                .unwrap()
        };
        let rel = Path::new("a b/ü.txt");
        let v = |b| offload_header(&c(b), rel).unwrap();
        let root = root.display();
        assert_eq!(
            v(Backend::XSendfile),
            ("X-Sendfile", format!("{root}/a b/ü.txt").into_bytes())
        );
        assert_eq!(
            v(Backend::Lighttpd).1,
            format!("{root}/a%20b/%C3%BC.txt").into_bytes()
        );
        assert_eq!(v(Backend::Caddy).1, "/p/a b/ü.txt".as_bytes());
        assert_eq!(
            v(Backend::ModWsgi),
            ("Location", b"/p/a%20b/%C3%BC.txt".to_vec())
        );
        assert!(offload_header(&c(Backend::Simple), rel).is_none());
    }

    #[test]
    fn an_unreachable_server_is_one_failed_check() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let report = run(&format!("http://127.0.0.1:{port}/"));
        assert!(!report.passed());
        assert_eq!(report.checks.len(), 1);
        assert!(report.to_string().starts_with("FAIL manifest"), "{report}");
    }
}
