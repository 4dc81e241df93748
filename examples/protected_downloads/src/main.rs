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
//! - `LISTEN_ADDR`, or `--listen ADDR`: where the app listens (default `127.0.0.1:8000`).
//! - `PUBLIC_URL`: the URL to print, e.g. the front server's (default: the app's own).

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use actix_web::{App, HttpServer, middleware};
use sendfile_actix::SendFileConfig;

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

fn run() -> Result<(), String> {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let listen = listen_arg()?
        .or_else(|| env("LISTEN_ADDR"))
        .unwrap_or_else(|| "127.0.0.1:8000".to_owned());
    let listen: SocketAddr = listen
        .parse()
        .map_err(|e| format!("listen address {listen:?}: {e}; use e.g. 127.0.0.1:8000"))?;

    let bucket = env("SENDFILE_S3_BUCKET");
    let root = env("SENDFILE_ROOT").map_or_else(
        || std::env::temp_dir().join("protected_downloads-sample"),
        PathBuf::from,
    );
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

    let server = HttpServer::new({
        let config = config.clone();
        move || {
            App::new()
                .wrap(middleware::Logger::new("%a \"%r\" %s %b"))
                .app_data(config.clone())
                .configure(protected_downloads::configure)
        }
    })
    .bind(listen)
    .map_err(|e| format!("listening on {listen}: {e}"))?;
    let bound = server.addrs().first().copied().unwrap_or(listen);

    let public = env("PUBLIC_URL").unwrap_or_else(|| format!("http://{bound}/"));
    let from = match &bucket {
        Some(bucket) => format!("bucket {bucket}"),
        None => format!("root {}", root.display()),
    };
    let mut banner =
        format!("protected_downloads: backend {backend}, {from}\n  open {public}\n  sign in as:");
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
        .block_on(server.run())
        .map_err(|e| format!("server: {e}"))
}

/// `--listen ADDR` or `--listen=ADDR`, if given.
fn listen_arg() -> Result<Option<String>, String> {
    let mut args = std::env::args().skip(1);
    let mut listen = None;
    while let Some(arg) = args.next() {
        if arg == "--listen" {
            listen = Some(args.next().ok_or("--listen needs an address")?);
        } else if let Some(v) = arg.strip_prefix("--listen=") {
            listen = Some(v.to_owned());
        } else {
            return Err(format!(
                "unknown argument {arg:?}; the only one is --listen ADDR (settings: SENDFILE_BACKEND, SENDFILE_ROOT, SENDFILE_URL)"
            ));
        }
    }
    Ok(listen)
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
