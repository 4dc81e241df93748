//! Runs the protected-downloads example.
//!
//! With no settings it serves a sample tree it creates, on the `simple` backend, at
//! `http://127.0.0.1:8000/`. Settings (environment):
//!
//! - `SENDFILE_BACKEND`: `simple` (default), `nginx`, `xsendfile`, `lighttpd`, `mod_wsgi`,
//!   `caddy`, `development`.
//! - `SENDFILE_ROOT`: the protected directory (default: a sample tree in the temporary
//!   directory). A missing or empty directory gets the sample tree.
//! - `SENDFILE_URL`: the front server's internal location (`nginx`, `mod_wsgi`, `caddy`).
//! - `SENDFILE_CHECK_FILE_EXISTS`: `true` (default) or `false`.
//! - `SENDFILE_S3_BUCKET` (with `SENDFILE_S3_ENDPOINT`, `SENDFILE_S3_REGION`,
//!   `SENDFILE_S3_PREFIX`, `SENDFILE_S3_EXPIRES`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
//!   `AWS_SESSION_TOKEN`): serve the files from this bucket instead of a root, with the
//!   `redirect` backend (default then) or `nginx` (`scripts/try-behind nginx-s3`).
//! - `DATABASE_PATH`: the SQLite database of users, files and sessions (default
//!   `protected_downloads.sqlite3` in the temporary directory), created with the demo
//!   accounts where missing.
//! - `LISTEN_ADDR`, or `--listen ADDR`: where the app listens (default `127.0.0.1:8000`).
//! - `PUBLIC_URL`: the URL to print, e.g. the front server's (default: the app's own).
//! - `SENDFILE_LINK_SECRET` (at least 32 characters, e.g. `openssl rand -base64 32`): enables
//!   signed share links at `SENDFILE_LINK_URL` (default `/signed`), signed with
//!   `SENDFILE_LINK_SCHEME` (`md5`, default, checked by nginx itself; `hmac-sha256`, checked by
//!   the app). `print-config nginx` then includes the location where nginx checks them.
//! - `RUST_LOG`: `info` (default, with an access log line per request), `debug`, `trace`,
//!   `warn` or `error` (both without the access log).
//!
//! Commands:
//!
//! - `print-config nginx|apache|lighttpd|caddy [--front ADDR]`: prints the front server's site
//!   configuration for these settings (the backend defaults to the server's, the URL to
//!   `/protected`), with the app at `--listen`/`LISTEN_ADDR` and clients at `--front`
//!   (default `127.0.0.1:8080`). `--keepalive N` sizes nginx's pool of idle connections to the
//!   app per worker (default 256; 0 turns it off). With `SENDFILE_S3_BUCKET` (and the other
//!   `SENDFILE_S3_*`/`AWS_*` settings) set, `print-config nginx` prints the site for files in
//!   that bucket, proxying to `SENDFILE_S3_ENDPOINT`.
//! - `print-forward-auth nginx|caddy|traefik [--front ADDR]`: prints the proxy's configuration
//!   for forward-auth: the files at `/files/` sent by the proxy once the app's
//!   `/.sendfile/forward-auth` said yes (Traefik: its static and dynamic files and the nginx
//!   that serves the files, each after a `# ==> name` line).
//! - `sign-link PATH [--expires SECONDS]`: prints a signed link to `PATH` (below the root),
//!   valid for `SECONDS` (default 3600), as a path starting with `/` on the site's own host.
//!   Needs `SENDFILE_LINK_SECRET`.
//! - `doctor URL`: checks, through the front server at `URL` (plain HTTP, e.g.
//!   `http://127.0.0.1:8080/`), that offloading works for the running app, with the token in
//!   `SENDFILE_DOCTOR_TOKEN` (the app's): one line per check; exit status 0 when all pass, 1
//!   otherwise.
//!
//! Doctor settings of the app: `PUBLIC_URL` (also runs the checks once at start-up and serves
//! them at `/.well-known/sendfile-doctor/report`), `SENDFILE_DOCTOR_TOKEN` (the bearer token
//! that opens the doctor's routes to the `doctor` command and monitors; without it they answer
//! only the app's own start-up check), `SENDFILE_DOCTOR_FILE` (a file below the root to probe
//! with when the app cannot write there).

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use actix_web::{App, HttpServer, middleware, web};
use protected_downloads::page::DoctorVerdict;
use protected_downloads::state::Settings;
use sendfile_actix::SendFileConfig;
use sendfile_actix::deploy::{Address, Server};
use sendfile_actix::doctor::DoctorSettings;

fn main() -> ExitCode {
    StderrLogger::install();
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            log::error!("{message}");
            ExitCode::FAILURE
        }
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// The sample tree's directory, used when `SENDFILE_ROOT` is not set.
fn default_root() -> PathBuf {
    std::env::temp_dir().join("protected_downloads-sample")
}

/// The database file, used when `DATABASE_PATH` is not set.
fn default_database() -> PathBuf {
    std::env::temp_dir().join("protected_downloads.sqlite3")
}

/// The default database is in the shared temporary directory: refuse one that another user
/// made (it could hold accounts they know the passwords of) or a symlink.
fn check_default_database(path: &std::path::Path) -> Result<(), String> {
    use std::os::unix::fs::MetadataExt as _;
    match std::fs::symlink_metadata(path) {
        Ok(meta)
            if meta.file_type().is_symlink()
                || meta.uid() != rustix::process::geteuid().as_raw() =>
        {
            Err(format!(
                "the database {} is a symlink or belongs to another user; remove it, or set DATABASE_PATH to a file of your own",
                path.display()
            ))
        }
        _ => Ok(()),
    }
}

fn run() -> Result<(), String> {
    let args = Args::parse(std::env::args().skip(1))?;
    let listen = args
        .listen
        .clone()
        .or_else(|| env("LISTEN_ADDR"))
        .unwrap_or_else(|| "127.0.0.1:8000".to_owned());
    let listen: SocketAddr = listen
        .parse()
        .map_err(|e| format!("listen address {listen:?}: {e}; use e.g. 127.0.0.1:8000"))?;
    match &args.command {
        Command::Serve => serve(listen),
        Command::PrintConfig(server) => print_config(*server, listen, &args),
        Command::Doctor(url) => doctor(url),
        Command::SignLink(path) => sign_link(path, args.expires.as_deref()),
        Command::PrintForwardAuth(proxy) => print_forward_auth(*proxy, listen, &args),
    }
}

/// `print-forward-auth PROXY`: the proxy's configuration files on stdout.
fn print_forward_auth(
    proxy: sendfile_actix::forward_auth::Proxy,
    app: SocketAddr,
    args: &Args,
) -> Result<(), String> {
    let front: Address = args
        .front
        .as_deref()
        .unwrap_or("127.0.0.1:8080")
        .parse()
        .map_err(|e: sendfile_actix::ConfigError| format!("--front: {}", e.message))?;
    let root =
        env("SENDFILE_ROOT").unwrap_or_else(|| default_root().to_string_lossy().into_owned());
    let site = sendfile_actix::forward_auth::ForwardSite::new(
        proxy,
        front,
        Address::from(app),
        &root,
        protected_downloads::links::FORWARD_MOUNT,
    )
    .map_err(|e| e.to_string())?
    .name(protected_downloads::deploy::APP_NAME);
    let files = site.render();
    let many = files.len() > 1;
    #[allow(clippy::print_stdout, reason = "the command prints the configuration")]
    for (name, text) in files {
        if many {
            println!("# ==> {name}");
        }
        print!("{text}");
    }
    Ok(())
}

/// The link signer `SENDFILE_LINK_SECRET` enables, if set.
fn link_signer() -> Result<Option<sendfile_actix::link::LinkSigner>, String> {
    sendfile_actix::link::LinkSigner::from_lookup(env).map_err(|e| e.to_string())
}

/// `sign-link PATH [--expires SECONDS]`: the link on stdout.
fn sign_link(path: &str, expires: Option<&str>) -> Result<(), String> {
    let signer = link_signer()?.ok_or(
        "sign-link: SENDFILE_LINK_SECRET is not set; set it to the secret the site checks links with (at least 32 characters, e.g. `openssl rand -base64 32`)",
    )?;
    let seconds = match expires {
        None => protected_downloads::links::SHARE_LIFETIME.as_secs(),
        Some(s) => s.parse().map_err(|_| {
            format!("--expires {s:?}: give the link's lifetime in seconds, e.g. 3600")
        })?,
    };
    let link = protected_downloads::links::sign(&signer, path, seconds)?;
    #[allow(clippy::print_stdout, reason = "the command prints the link")]
    {
        println!("{link}");
    }
    Ok(())
}

/// `doctor URL`: the report on stdout; an error when a check fails.
fn doctor(url: &str) -> Result<(), String> {
    let report = match env("SENDFILE_DOCTOR_TOKEN") {
        Some(token) => sendfile_actix::doctor::run_with_token(url, &token),
        None => sendfile_actix::doctor::run(url),
    };
    #[allow(clippy::print_stdout, reason = "the command prints the report")]
    {
        print!("{report}");
    }
    let failed = report
        .checks
        .iter()
        .filter(|c| c.outcome == sendfile_actix::doctor::Outcome::Fail)
        .count();
    if failed == 0 {
        Ok(())
    } else {
        Err(format!("doctor: {failed} check(s) failed through {url}"))
    }
}

/// `print-config SERVER`: the site configuration on stdout.
fn print_config(server: Server, app: SocketAddr, args: &Args) -> Result<(), String> {
    let front: Address = args
        .front
        .as_deref()
        .unwrap_or("127.0.0.1:8080")
        .parse()
        .map_err(|e: sendfile_actix::ConfigError| format!("--front: {}", e.message))?;
    let root = default_root();
    let site = protected_downloads::deploy::site_for(
        server,
        env,
        &root.to_string_lossy(),
        Address::from(app),
        front,
    )
    .map_err(|e| e.to_string())?;
    let site = match &args.keepalive {
        Some(n) => site.keepalive(n.parse().map_err(|_| {
            format!("--keepalive {n:?}: give the number of idle connections per worker, e.g. 256")
        })?),
        None => site,
    };
    let site = match link_signer()? {
        Some(signer) => site.signed_links(&signer).map_err(|e| e.to_string())?,
        None => site,
    };
    let text = site.render();
    #[allow(clippy::print_stdout, reason = "the command prints the configuration")]
    {
        print!("{text}");
    }
    Ok(())
}

fn serve(listen: SocketAddr) -> Result<(), String> {
    let bucket = env("SENDFILE_S3_BUCKET");
    let root = env("SENDFILE_ROOT").map_or_else(default_root, PathBuf::from);
    let empty = std::fs::read_dir(&root).map_or(true, |mut d| d.next().is_none());
    if empty && bucket.is_none() {
        protected_downloads::create_sample_tree(&root)
            .map_err(|e| format!("creating the sample tree in {}: {e}", root.display()))?;
        log::info!("created the sample tree in {}", root.display());
    }
    let root_text = root.to_string_lossy().into_owned();
    let config = SendFileConfig::from_lookup(|name| match name {
        "SENDFILE_BACKEND" => Some(env(name).unwrap_or_else(|| {
            if bucket.is_some() {
                "redirect"
            } else {
                "simple"
            }
            .to_owned()
        })),
        // Files come from the bucket when one is set (a root as well is an error).
        "SENDFILE_ROOT" if bucket.is_some() => env(name),
        "SENDFILE_ROOT" => Some(root_text.clone()),
        _ => env(name),
    })
    .map_err(|e| e.to_string())?;
    let backend = config.backend().to_string();
    let signer = link_signer()?;
    let database = match env("DATABASE_PATH") {
        Some(path) => PathBuf::from(path),
        None => {
            let path = default_database();
            check_default_database(&path)?;
            path
        }
    };
    let state = web::Data::new(
        protected_downloads::state::open(&database, config.core().root_path(), Settings::default())
            .map_err(|e| format!("{e}; set DATABASE_PATH to a writable file"))?,
    );
    let send_timeout = config.core().send_timeout_duration();

    let mut doctor = DoctorSettings::default();
    if let Some(file) = env("SENDFILE_DOCTOR_FILE") {
        doctor = doctor.probe_file(file);
    }
    if let Some(token) = env("SENDFILE_DOCTOR_TOKEN") {
        if token.len() < sendfile_actix::doctor::MIN_TOKEN_LEN {
            return Err(format!(
                "SENDFILE_DOCTOR_TOKEN: shorter than {} characters; use a random secret such as the output of `openssl rand -hex 32`",
                sendfile_actix::doctor::MIN_TOKEN_LEN
            ));
        }
        doctor = doctor.token(token);
    }
    let front_url = env("PUBLIC_URL").filter(|_| !config.backend().is_in_process());
    if let Some(url) = &front_url {
        doctor = doctor.public_url(url.clone());
    }
    let verdict = web::Data::new(DoctorVerdict::default());
    // The access log is written at `info`: below that level (RUST_LOG=warn), the Logger
    // would still format the request line of every request for nothing.
    let access_log = log::log_enabled!(target: "actix_web::middleware::logger", log::Level::Info);
    let server = HttpServer::new({
        let config = config.clone();
        let verdict = verdict.clone();
        move || {
            let links = signer.clone();
            App::new()
                .app_data(verdict.clone())
                .app_data(state.clone())
                .wrap(middleware::Condition::new(
                    access_log,
                    middleware::Logger::new("%a \"%r\" %s %b"),
                ))
                .app_data(config.clone())
                .app_data(doctor.clone())
                .configure(|cfg| {
                    if let Some(signer) = links {
                        protected_downloads::links::configure(signer)(cfg);
                    }
                })
                .configure(protected_downloads::configure)
        }
    })
    // TCP_USER_TIMEOUT = the send timeout (a client that takes nothing loses its socket, not
    // only its file) and TCP_NODELAY.
    .on_connect(sendfile_actix::on_connect(send_timeout))
    .bind(listen)
    .map_err(|e| format!("listening on {listen}: {e}"))?;
    let bound = server.addrs().first().copied().unwrap_or(listen);

    let public = env("PUBLIC_URL").unwrap_or_else(|| format!("http://{bound}/"));
    let from = match &bucket {
        Some(bucket) => format!("bucket {bucket}"),
        None => format!("root {}", root.display()),
    };
    let mut banner = format!(
        "protected_downloads: backend {backend}, {from}, database {}\n  open {public}\n  sign in as:",
        database.display()
    );
    for user in protected_downloads::USERS {
        banner.push_str(&format!(" {}/{}", user.name, user.password));
    }
    if !config.backend().is_in_process() && bucket.is_none() {
        banner.push_str(&format!(
            "\n  the {backend} backend only works behind its front server (scripts/try-behind)"
        ));
    }
    #[allow(
        clippy::print_stdout,
        reason = "the example tells the user where to go"
    )]
    {
        println!("{banner}");
    }

    actix_web::rt::System::new()
        .block_on(async move {
            let server = server.run();
            if let Some(url) = front_url {
                // The listener is bound: the checks' requests wait for the workers.
                actix_web::rt::spawn(async move {
                    // The front server may start after the app: give it half a minute.
                    let report = sendfile_actix::doctor::check_at_startup(
                        &url,
                        std::time::Duration::from_secs(30),
                    )
                    .await;
                    if report.passed() {
                        log::info!("doctor: offloading through {url} works\n{report}");
                    } else {
                        log::error!("doctor: offloading through {url} does not work\n{report}");
                    }
                    verdict.set(&url, report);
                });
            }
            server.await
        })
        .map_err(|e| format!("server: {e}"))
}

/// What to do.
#[derive(Debug)]
enum Command {
    /// Run the app.
    Serve,
    /// Print a front server's site configuration.
    PrintConfig(Server),
    /// Check the deployment through the front server at this URL.
    Doctor(String),
    /// Print a signed link to this path below the root.
    SignLink(String),
    /// Print a proxy's forward-auth configuration.
    PrintForwardAuth(sendfile_actix::forward_auth::Proxy),
}

/// The command line: an optional command, `--listen ADDR`, `--front ADDR`.
#[derive(Debug)]
struct Args {
    command: Command,
    listen: Option<String>,
    front: Option<String>,
    keepalive: Option<String>,
    expires: Option<String>,
}

const USAGE: &str = "usage: protected_downloads [--listen ADDR] | print-config nginx|apache|lighttpd|caddy [--front ADDR] [--keepalive N] | print-forward-auth nginx|caddy|traefik [--front ADDR] | sign-link PATH [--expires SECONDS] | doctor URL (settings: SENDFILE_BACKEND, SENDFILE_ROOT, SENDFILE_URL, SENDFILE_LINK_SECRET)";

impl Args {
    fn parse(args: impl IntoIterator<Item = String>) -> Result<Args, String> {
        let mut args = args.into_iter();
        let mut parsed = Args {
            command: Command::Serve,
            listen: None,
            front: None,
            keepalive: None,
            expires: None,
        };
        let mut positional = Vec::new();
        while let Some(arg) = args.next() {
            let mut value = |name: &str| -> Result<Option<String>, String> {
                if arg == name {
                    args.next()
                        .map(Some)
                        .ok_or_else(|| format!("{name} needs a value"))
                } else {
                    Ok(arg
                        .strip_prefix(name)
                        .and_then(|v| v.strip_prefix('='))
                        .map(str::to_owned))
                }
            };
            if let Some(v) = value("--listen")? {
                parsed.listen = Some(v);
            } else if let Some(v) = value("--front")? {
                parsed.front = Some(v);
            } else if let Some(v) = value("--keepalive")? {
                parsed.keepalive = Some(v);
            } else if let Some(v) = value("--expires")? {
                parsed.expires = Some(v);
            } else if arg.starts_with('-') {
                return Err(format!("unknown option {arg:?}; {USAGE}"));
            } else {
                positional.push(arg);
            }
        }
        let mut positional = positional.into_iter();
        match positional.next().as_deref() {
            None => {}
            Some("print-config") => {
                let server = positional
                    .next()
                    .ok_or_else(|| format!("print-config needs a server; {USAGE}"))?;
                let server: Server = server
                    .parse()
                    .map_err(|e: sendfile_actix::ConfigError| e.message)?;
                parsed.command = Command::PrintConfig(server);
            }
            Some("print-forward-auth") => {
                use sendfile_actix::forward_auth::Proxy;
                parsed.command = Command::PrintForwardAuth(match positional.next().as_deref() {
                    Some("nginx") => Proxy::Nginx,
                    Some("caddy") => Proxy::Caddy,
                    Some("traefik") => Proxy::Traefik,
                    other => {
                        return Err(format!(
                            "print-forward-auth needs nginx, caddy or traefik, not {other:?}; {USAGE}"
                        ));
                    }
                });
            }
            Some("sign-link") => {
                let path = positional.next().ok_or_else(|| {
                    format!(
                        "sign-link needs a path below the root, e.g. public/welcome.txt; {USAGE}"
                    )
                })?;
                parsed.command = Command::SignLink(path);
            }
            Some("doctor") => {
                let url = positional
                    .next()
                    .ok_or_else(|| format!("doctor needs the front server's public base URL, e.g. http://127.0.0.1:8080/; {USAGE}"))?;
                parsed.command = Command::Doctor(url);
            }
            Some(other) => return Err(format!("unknown command {other:?}; {USAGE}")),
        }
        if let Some(extra) = positional.next() {
            return Err(format!("unexpected argument {extra:?}; {USAGE}"));
        }
        if parsed.expires.is_some() && !matches!(parsed.command, Command::SignLink(_)) {
            return Err(format!("--expires only goes with sign-link; {USAGE}"));
        }
        if (parsed.front.is_some() || parsed.keepalive.is_some())
            && !matches!(
                parsed.command,
                Command::PrintConfig(_) | Command::PrintForwardAuth(_)
            )
        {
            return Err(format!(
                "--front and --keepalive only go with print-config; {USAGE}"
            ));
        }
        Ok(parsed)
    }
}

/// Logs `info` and above to stderr (`RUST_LOG=debug` for more).
struct StderrLogger(log::LevelFilter);

impl StderrLogger {
    fn install() {
        let level = match std::env::var("RUST_LOG").as_deref() {
            Ok("trace") => log::LevelFilter::Trace,
            Ok("debug") => log::LevelFilter::Debug,
            Ok("warn") => log::LevelFilter::Warn,
            Ok("error") => log::LevelFilter::Error,
            _ => log::LevelFilter::Info,
        };
        let logger: &'static StderrLogger = Box::leak(Box::new(StderrLogger(level)));
        if log::set_logger(logger).is_ok() {
            log::set_max_level(level);
        }
    }
}

impl log::Log for StderrLogger {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= self.0
    }

    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            let _ = writeln!(
                std::io::stderr().lock(),
                "[{} {}] {}",
                record.level(),
                record.target(),
                record.args()
            );
        }
    }

    fn flush(&self) {}
}
