//! Starting a real front server (nginx, Apache, lighttpd, Caddy) from the shipped deploy
//! templates, in a temporary directory, on a free loopback port.

use std::fmt;
use std::fs;
use std::io::{self, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A front server together with the library backend it is configured for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setup {
    /// nginx, `X-Accel-Redirect` to an internal location (backend `nginx`).
    Nginx,
    /// Apache 2.4 with mod_proxy_http and mod_xsendfile 0.12 (backend `xsendfile`).
    Apache,
    /// lighttpd 1.4 with mod_proxy and `x-sendfile` (backend `lighttpd`).
    Lighttpd,
    /// Caddy 2 acting on `X-Accel-Redirect` with `handle_response` (backend `caddy`).
    Caddy,
    /// Caddy 2 acting on `200` + `Location` with `handle_response` (backend `mod_wsgi`).
    CaddyModWsgi,
    /// nginx, `X-Accel-Redirect` to an internal location that proxies to an S3 store (backend
    /// `nginx` with a bucket). Not in [`Setup::ALL`]: it needs a store
    /// ([`Front::start_with`] and [`crate::store`]).
    NginxS3,
}

/// The deploy templates, shipped in `examples/protected_downloads/deploy/`.
mod templates {
    pub(super) const NGINX_MAIN: &str =
        include_str!("../../examples/protected_downloads/deploy/nginx/nginx.conf");
    pub(super) const NGINX_SITE: &str =
        include_str!("../../examples/protected_downloads/deploy/nginx/site.conf");
    pub(super) const APACHE_MAIN: &str =
        include_str!("../../examples/protected_downloads/deploy/apache2/apache2.conf");
    pub(super) const APACHE_SITE: &str =
        include_str!("../../examples/protected_downloads/deploy/apache2/site.conf");
    pub(super) const LIGHTTPD_MAIN: &str =
        include_str!("../../examples/protected_downloads/deploy/lighttpd/lighttpd.conf");
    pub(super) const LIGHTTPD_SITE: &str =
        include_str!("../../examples/protected_downloads/deploy/lighttpd/site.conf");
    pub(super) const CADDY_MAIN: &str =
        include_str!("../../examples/protected_downloads/deploy/caddy/Caddyfile");
    pub(super) const CADDY_SITE: &str =
        include_str!("../../examples/protected_downloads/deploy/caddy/site.caddy");
    pub(super) const CADDY_MOD_WSGI_SITE: &str =
        include_str!("../../examples/protected_downloads/deploy/caddy/site-mod_wsgi.caddy");
    pub(super) const NGINX_S3_SITE: &str =
        include_str!("../../examples/protected_downloads/deploy/nginx/site-s3.conf");
}

const APACHE_MODULES: &str = "/usr/lib/apache2/modules";

impl Setup {
    /// Every setup, in test order.
    pub const ALL: [Setup; 5] = [
        Setup::Nginx,
        Setup::Apache,
        Setup::Lighttpd,
        Setup::Caddy,
        Setup::CaddyModWsgi,
    ];

    /// The name used on the command line: `nginx`, `apache`, `lighttpd`, `caddy`,
    /// `caddy-mod_wsgi`.
    pub fn name(self) -> &'static str {
        match self {
            Setup::Nginx => "nginx",
            Setup::Apache => "apache",
            Setup::Lighttpd => "lighttpd",
            Setup::Caddy => "caddy",
            Setup::CaddyModWsgi => "caddy-mod_wsgi",
            Setup::NginxS3 => "nginx-s3",
        }
    }

    /// Parses [`name`](Self::name) (also accepts `apache2` and `xsendfile`).
    pub fn from_name(name: &str) -> Option<Setup> {
        Some(match name {
            "nginx" => Setup::Nginx,
            "apache" | "apache2" | "xsendfile" => Setup::Apache,
            "lighttpd" => Setup::Lighttpd,
            "caddy" => Setup::Caddy,
            "caddy-mod_wsgi" | "mod_wsgi" => Setup::CaddyModWsgi,
            "nginx-s3" => Setup::NginxS3,
            _ => return None,
        })
    }

    /// The `SENDFILE_BACKEND` name the app must use behind this setup.
    pub fn backend_name(self) -> &'static str {
        match self {
            Setup::Nginx | Setup::NginxS3 => "nginx",
            Setup::Apache => "xsendfile",
            Setup::Lighttpd => "lighttpd",
            Setup::Caddy => "caddy",
            Setup::CaddyModWsgi => "mod_wsgi",
        }
    }

    /// The internal URL prefix (`SENDFILE_URL`) for the backends that need one.
    pub fn url(self) -> Option<&'static str> {
        match self {
            Setup::Nginx | Setup::Caddy | Setup::CaddyModWsgi | Setup::NginxS3 => {
                Some("/protected")
            }
            Setup::Apache | Setup::Lighttpd => None,
        }
    }

    /// The offload header the app sends, which the client must never see.
    pub fn offload_header(self) -> &'static str {
        match self {
            Setup::Nginx | Setup::Caddy | Setup::NginxS3 => "X-Accel-Redirect",
            Setup::Apache | Setup::Lighttpd => "X-Sendfile",
            Setup::CaddyModWsgi => "Location",
        }
    }

    /// The server program.
    pub fn binary(self) -> &'static str {
        match self {
            Setup::Nginx | Setup::NginxS3 => "/usr/sbin/nginx",
            Setup::Apache => "/usr/sbin/apache2",
            Setup::Lighttpd => "/usr/sbin/lighttpd",
            Setup::Caddy | Setup::CaddyModWsgi => "/usr/bin/caddy",
        }
    }

    /// The Debian packages that provide it.
    pub fn packages(self) -> &'static str {
        match self {
            Setup::Nginx | Setup::NginxS3 => "nginx-light",
            Setup::Apache => "apache2 libapache2-mod-xsendfile",
            Setup::Lighttpd => "lighttpd",
            Setup::Caddy | Setup::CaddyModWsgi => "caddy",
        }
    }

    /// The files the setup needs; the first missing one, if any.
    pub fn missing_file(self) -> Option<String> {
        let mut needed = vec![self.binary().to_owned()];
        if self == Setup::Apache {
            for m in [
                "mod_mpm_event",
                "mod_authz_core",
                "mod_mime",
                "mod_headers",
                "mod_proxy",
                "mod_proxy_http",
                "mod_xsendfile",
            ] {
                needed.push(format!("{APACHE_MODULES}/{m}.so"));
            }
        }
        needed.into_iter().find(|f| !Path::new(f).exists())
    }

    /// The shipped templates: `(file name, template)`, the main configuration first.
    pub fn templates(self) -> [(&'static str, &'static str); 2] {
        use templates::*;
        match self {
            Setup::Nginx => [("nginx.conf", NGINX_MAIN), ("site.conf", NGINX_SITE)],
            Setup::NginxS3 => [("nginx.conf", NGINX_MAIN), ("site.conf", NGINX_S3_SITE)],
            Setup::Apache => [("apache2.conf", APACHE_MAIN), ("site.conf", APACHE_SITE)],
            Setup::Lighttpd => [
                ("lighttpd.conf", LIGHTTPD_MAIN),
                ("site.conf", LIGHTTPD_SITE),
            ],
            Setup::Caddy => [("Caddyfile", CADDY_MAIN), ("site.caddy", CADDY_SITE)],
            Setup::CaddyModWsgi => [
                ("Caddyfile", CADDY_MAIN),
                ("site.caddy", CADDY_MOD_WSGI_SITE),
            ],
        }
    }
}

impl fmt::Display for Setup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Whether the environment says this is a CI run (`CI=true` or `CI=1`).
pub fn is_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Checks that `setup` is installed. When it is not: under CI this panics; elsewhere it writes
/// one line to stderr (not captured by the test harness) and returns false.
pub fn available_or_skip(setup: Setup) -> bool {
    let Some(missing) = setup.missing_file() else {
        return true;
    };
    let install = format!("apt-get install {}", setup.packages());
    assert!(
        !is_ci(),
        "{setup} tests: {missing} not found; {install} (CI=true: a missing front server fails the run)"
    );
    let line = format!("skipping {setup} tests: {missing} not found; {install}");
    // Written to the stderr handle directly so that the line shows even for a passing test.
    let _ = writeln!(io::stderr().lock(), "{line}");
    false
}

/// Whether this process runs as root.
pub fn running_as_root() -> bool {
    fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// A free TCP port on 127.0.0.1, as found by binding port 0.
pub fn free_port() -> io::Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    Ok(listener.local_addr()?.port())
}

/// Replaces every `{{NAME}}` with its value; panics on an unknown placeholder.
pub fn render(template: &str, vars: &[(&str, String)]) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find("}}")
            .unwrap_or_else(|| panic!("unclosed placeholder in template"));
        let name = &after[..end];
        let value = vars
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("template placeholder {{{{{name}}}}} has no value"));
        out.push_str(value);
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

/// Where and how to run a front server.
#[derive(Debug, Clone)]
pub struct FrontConfig {
    /// The setup.
    pub setup: Setup,
    /// The app's address (upstream).
    pub app: SocketAddr,
    /// The protected directory (`SENDFILE_ROOT`), absolute, without a trailing slash.
    pub root: PathBuf,
    /// A directory of its own for configuration, logs and temporary files.
    pub dir: PathBuf,
    /// The port to listen on; `None` picks a free one.
    pub port: Option<u16>,
    /// Run the server in a mount namespace of its own in which this directory is bind-mounted
    /// onto itself with `nosymfollow` (Linux 5.10+): the kernel then refuses to follow any
    /// symlink stored below it, for every server. Needs root (see [`can_mount_nosymfollow`]).
    pub nosymfollow: Option<PathBuf>,
    /// Appended to the rendered site configuration (tests only, e.g. to turn a cache off).
    pub site_extra: Option<String>,
}

/// The program that runs a command in a new mount namespace (util-linux).
const UNSHARE: &str = "/usr/bin/unshare";

/// The shell script run by `unshare`: `$0` is the directory, the rest the server's command.
const NOSYMFOLLOW_SCRIPT: &str = "mount --bind \"$0\" \"$0\" \
    && mount -o remount,bind,nosymfollow \"$0\" && exec \"$@\"";

/// Whether servers can be started with [`FrontConfig::nosymfollow`] here: runs the same mounts
/// once in a throw-away mount namespace. `Err` says why not.
pub fn can_mount_nosymfollow() -> Result<(), String> {
    if !Path::new(UNSHARE).exists() {
        return Err(format!("{UNSHARE} not found (apt-get install util-linux)"));
    }
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let out = Command::new(UNSHARE)
        .args(["--mount", "--propagation", "private", "--", "sh", "-c"])
        .arg(NOSYMFOLLOW_SCRIPT)
        .arg(dir.path())
        .arg("true")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{UNSHARE}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "a nosymfollow bind mount failed (root and Linux 5.10+ are needed): {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// A running front server; dropping it kills the process by its id.
#[derive(Debug)]
pub struct Front {
    child: Option<Child>,
    /// Where clients connect.
    pub addr: SocketAddr,
    /// The setup.
    pub setup: Setup,
    dir: PathBuf,
}

impl Front {
    /// Renders the setup's templates into `config.dir`, starts the server and waits (bounded)
    /// until it accepts connections. Retries with another port if the chosen one was taken.
    pub fn start(config: &FrontConfig) -> io::Result<Front> {
        Front::start_full(config, &[], &|site| site)
    }

    /// As [`start`](Self::start), with more template placeholders (`S3_HOST`, `S3_SCHEME`
    /// for [`Setup::NginxS3`]).
    pub fn start_with(config: &FrontConfig, extra_vars: &[(&str, String)]) -> io::Result<Front> {
        Front::start_full(config, extra_vars, &|site| site)
    }

    /// As [`start`](Self::start), with the rendered site configuration passed through `edit`
    /// first (the doctor's tests break a correct configuration on purpose).
    pub fn start_edited(
        config: &FrontConfig,
        edit: &dyn Fn(String) -> String,
    ) -> io::Result<Front> {
        Front::start_full(config, &[], edit)
    }

    fn start_full(
        config: &FrontConfig,
        extra_vars: &[(&str, String)],
        edit: &dyn Fn(String) -> String,
    ) -> io::Result<Front> {
        let mut last_err = None;
        for _ in 0..3 {
            let port = match config.port {
                Some(p) => p,
                None => free_port()?,
            };
            match Front::start_on(config, port, extra_vars, edit) {
                Ok(front) => return Ok(front),
                Err(e) if config.port.is_none() && e.kind() == io::ErrorKind::AddrInUse => {
                    last_err = Some(e);
                }
                Err(e) => return Err(e),
            }
        }
        Err(last_err.unwrap_or_else(|| io::Error::other("could not start")))
    }

    fn start_on(
        config: &FrontConfig,
        port: u16,
        extra_vars: &[(&str, String)],
        edit: &dyn Fn(String) -> String,
    ) -> io::Result<Front> {
        let setup = config.setup;
        let dir = &config.dir;
        fs::create_dir_all(dir)?;
        let as_root = running_as_root();
        if as_root {
            // Apache and lighttpd drop privileges: they must reach the files.
            fs::set_permissions(dir, fs::Permissions::from_mode(0o755))?;
        }
        fs::create_dir_all(dir.join("empty"))?;
        let (user, group) = server_user(as_root);
        let root = config
            .root
            .to_string_lossy()
            .trim_end_matches('/')
            .to_owned();
        let mut vars = vec![
            ("LISTEN", format!("127.0.0.1:{port}")),
            ("LISTEN_HOST", "127.0.0.1".to_owned()),
            ("LISTEN_PORT", port.to_string()),
            ("APP", config.app.to_string()),
            ("APP_HOST", config.app.ip().to_string()),
            ("APP_PORT", config.app.port().to_string()),
            ("ROOT", root),
            ("URL", setup.url().unwrap_or("/protected").to_owned()),
            ("TMP", dir.to_string_lossy().into_owned()),
            ("USER", user),
            ("GROUP", group),
            ("MODULES", APACHE_MODULES.to_owned()),
        ];
        vars.extend(extra_vars.iter().map(|(n, v)| (*n, v.clone())));
        for (i, (name, template)) in setup.templates().into_iter().enumerate() {
            let mut text = render(template, &vars);
            if i == 1 {
                text = edit(text);
            }
            if let (1, Some(extra)) = (i, &config.site_extra) {
                text.push('\n');
                text.push_str(extra);
                text.push('\n');
            }
            fs::write(dir.join(name), text)?;
        }
        let main = dir.join(setup.templates()[0].0);
        let log_path = dir.join("server.log");
        let log = fs::File::create(&log_path)?;
        let mut cmd = match &config.nosymfollow {
            None => Command::new(setup.binary()),
            Some(mounted) => {
                // unshare and sh exec the server: it keeps the process id.
                let mut cmd = Command::new(UNSHARE);
                cmd.args(["--mount", "--propagation", "private", "--", "sh", "-c"])
                    .arg(NOSYMFOLLOW_SCRIPT)
                    .arg(mounted)
                    .arg(setup.binary());
                cmd
            }
        };
        match setup {
            Setup::Nginx | Setup::NginxS3 => {
                cmd.arg("-p")
                    .arg(dir)
                    .arg("-c")
                    .arg(&main)
                    .arg("-e")
                    .arg(dir.join("error.log"));
            }
            Setup::Apache => {
                cmd.arg("-f").arg(&main).arg("-X");
            }
            Setup::Lighttpd => {
                cmd.arg("-D").arg("-f").arg(&main);
            }
            Setup::Caddy | Setup::CaddyModWsgi => {
                cmd.args(["run", "--adapter", "caddyfile", "--config"])
                    .arg(&main);
                cmd.env("HOME", dir)
                    .env("XDG_DATA_HOME", dir)
                    .env("XDG_CONFIG_HOME", dir);
            }
        }
        cmd.current_dir(dir)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log);
        let child = cmd.spawn()?;
        let mut front = Front {
            child: Some(child),
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
            setup,
            dir: dir.clone(),
        };
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if TcpStream::connect_timeout(&front.addr, Duration::from_millis(200)).is_ok() {
                return Ok(front);
            }
            if let Some(status) = front
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                front.child = None;
                let logs = front.logs();
                let kind = if logs.contains("in use") || logs.contains("Address already") {
                    io::ErrorKind::AddrInUse
                } else {
                    io::ErrorKind::Other
                };
                return Err(io::Error::new(
                    kind,
                    format!("{setup} exited with {status} during start-up:\n{logs}"),
                ));
            }
            if Instant::now() > deadline {
                let logs = front.logs();
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!(
                        "{setup} did not listen on {} within 15 s:\n{logs}",
                        front.addr
                    ),
                ));
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// The server's output and error logs, for failure messages.
    pub fn logs(&self) -> String {
        let mut out = String::new();
        for name in ["server.log", "error.log"] {
            if let Ok(text) = fs::read_to_string(self.dir.join(name)) {
                let tail: Vec<&str> = text.lines().rev().take(40).collect();
                out.push_str(&format!("--- {name} (last lines)\n"));
                for line in tail.into_iter().rev() {
                    out.push_str(line);
                    out.push('\n');
                }
            }
        }
        out
    }

    /// The process id.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Stops the server: kills its process (by id) and reaps it.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Waits for the server to exit by itself (e.g. after Ctrl-C).
    pub fn wait(&mut self) -> io::Result<()> {
        if let Some(mut child) = self.child.take() {
            child.wait()?;
        }
        Ok(())
    }
}

impl Drop for Front {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The user and group Apache and lighttpd switch to when started as root; otherwise the
/// current ids (Apache's `#uid` syntax; lighttpd ignores them when not root).
fn server_user(as_root: bool) -> (String, String) {
    if as_root {
        let passwd = fs::read_to_string("/etc/passwd").unwrap_or_default();
        let group = fs::read_to_string("/etc/group").unwrap_or_default();
        let has = |db: &str, name: &str| db.lines().any(|l| l.split(':').next() == Some(name));
        if has(&passwd, "www-data") && has(&group, "www-data") {
            return ("www-data".into(), "www-data".into());
        }
        return ("nobody".into(), "nogroup".into());
    }
    let meta = fs::metadata("/proc/self");
    let (uid, gid) = meta.map(|m| (m.uid(), m.gid())).unwrap_or((65534, 65534));
    (format!("#{uid}"), format!("#{gid}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_fills_every_placeholder() {
        let out = render(
            "a {{X}} b {{Y}}{{X}}",
            &[("X", "1".into()), ("Y", "2".into())],
        );
        assert_eq!(out, "a 1 b 21");
    }

    #[test]
    #[should_panic(expected = "{{Z}}")]
    fn render_refuses_unknown_placeholders() {
        render("{{Z}}", &[]);
    }

    #[test]
    fn every_template_placeholder_is_known() {
        let known = [
            "LISTEN",
            "LISTEN_HOST",
            "LISTEN_PORT",
            "APP",
            "APP_HOST",
            "APP_PORT",
            "ROOT",
            "URL",
            "TMP",
            "USER",
            "GROUP",
            "MODULES",
        ];
        let mut vars: Vec<(&str, String)> = known.iter().map(|k| (*k, String::new())).collect();
        vars.extend([("S3_HOST", String::new()), ("S3_SCHEME", String::new())]);
        for setup in Setup::ALL.into_iter().chain([Setup::NginxS3]) {
            for (_, t) in setup.templates() {
                let _ = render(t, &vars);
            }
        }
    }
}
