//! Starts the protected_downloads example behind a real front server on loopback, from the
//! shipped deploy templates, for a user to try:
//!
//! ```text
//! try-behind nginx|apache|lighttpd|caddy|caddy-mod_wsgi [--port 8080]
//! ```
//!
//! The files come from `SENDFILE_ROOT` (a missing or empty directory gets the sample tree) or
//! a sample tree in a temporary directory. Ctrl-C stops both.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use actix_web::{App, HttpServer, web};
use protected_downloads::page::DoctorVerdict;
use sendfile_actix::doctor::{self, DoctorSettings};
use sendfile_actix::{Backend, SendFileConfig};
use sendfile_e2e::front::{self, Front, FrontConfig, Setup};

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            let _ = writeln!(std::io::stderr().lock(), "try-behind: {message}");
            ExitCode::FAILURE
        }
    }
}

fn usage() -> String {
    let names: Vec<&str> = Setup::ALL.iter().map(|s| s.name()).collect();
    format!("usage: try-behind <{}> [--port PORT]", names.join("|"))
}

fn run() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let mut setup = None;
    let mut port = 8080u16;
    while let Some(arg) = args.next() {
        if arg == "--port" {
            let value = args.next().ok_or_else(usage)?;
            port = value
                .parse()
                .map_err(|_| format!("bad port {value:?}\n{}", usage()))?;
        } else if arg == "-h" || arg == "--help" {
            return Err(usage());
        } else {
            setup = Some(
                Setup::from_name(&arg)
                    .ok_or_else(|| format!("unknown front server {arg:?}\n{}", usage()))?,
            );
        }
    }
    let setup = setup.ok_or_else(usage)?;
    if let Some(missing) = setup.missing_file() {
        return Err(format!(
            "{missing} not found; install it with: apt-get install {}",
            setup.packages()
        ));
    }

    let work = tempfile::Builder::new()
        .prefix("protected_downloads-")
        .tempdir()
        .map_err(|e| format!("temporary directory: {e}"))?;
    let root = match std::env::var_os("SENDFILE_ROOT").filter(|v| !v.is_empty()) {
        Some(root) => PathBuf::from(root),
        None => work.path().join("files"),
    };
    let empty = std::fs::read_dir(&root).map_or(true, |mut d| d.next().is_none());
    if empty {
        protected_downloads::create_sample_tree(&root)
            .map_err(|e| format!("creating the sample tree in {}: {e}", root.display()))?;
    }
    if front::running_as_root() {
        // The server may drop privileges: let it reach the files.
        use std::os::unix::fs::PermissionsExt as _;
        let _ = std::fs::set_permissions(work.path(), std::fs::Permissions::from_mode(0o755));
    }
    let root = std::fs::canonicalize(&root).map_err(|e| format!("{}: {e}", root.display()))?;

    let backend: Backend = setup.backend_name().parse().map_err(|e| format!("{e}"))?;
    let mut config = SendFileConfig::new(backend).root(&root);
    if let Some(url) = setup.url() {
        config = config.url(url);
    }
    config.validate().map_err(|e| e.to_string())?;

    let public = format!("http://127.0.0.1:{port}/");
    let verdict = web::Data::new(DoctorVerdict::default());
    actix_web::rt::System::new().block_on(async move {
        let server = HttpServer::new({
            let config = config.clone();
            let verdict = verdict.clone();
            let doctor = DoctorSettings::default().public_url(public.clone());
            move || {
                App::new()
                    .app_data(config.clone())
                    .app_data(verdict.clone())
                    .app_data(doctor.clone())
                    .configure(protected_downloads::configure)
            }
        })
        .workers(2)
        .bind(("127.0.0.1", 0))
        .map_err(|e| format!("app: {e}"))?;
        let app_addr = server.addrs()[0];
        let server = server.run();
        let dir = work.path().join(setup.name());
        let mut front = Front::start(&FrontConfig {
            setup,
            app: app_addr,
            root: root.clone(),
            dir: dir.clone(),
            port: Some(port),
            nosymfollow: None,
            site_extra: None,
        })
        .map_err(|e| format!("starting {setup}: {e}"))?;
        let mut banner = format!(
            "{setup} on http://{}/ -> app on {app_addr} (backend {})\n  root {}\n  configuration in {}\n  sign in as:",
            front.addr,
            setup.backend_name(),
            root.display(),
            dir.display(),
        );
        for user in protected_downloads::USERS {
            banner.push_str(&format!(" {}/{}", user.name, user.password));
        }
        banner.push_str("\n  Ctrl-C stops both");
        #[allow(clippy::print_stdout, reason = "the launcher tells the user where to go")]
        {
            println!("{banner}");
        }
        // The doctor's verdict, printed and shown on the page.
        actix_web::rt::spawn(async move {
            let report = doctor::check(&public).await;
            #[allow(clippy::print_stdout, reason = "the launcher reports the doctor's verdict")]
            {
                println!("doctor ({public}):\n{report}");
            }
            verdict.set(&public, report);
        });
        let result = server.await.map_err(|e| format!("app: {e}"));
        front.stop();
        drop(work);
        result
    })
}
