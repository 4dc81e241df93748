//! Starts the protected_downloads example behind a real front server on loopback, from the
//! shipped deploy templates, for a user to try:
//!
//! ```text
//! try-behind nginx|apache|lighttpd|caddy|caddy-mod_wsgi|nginx-s3 [--port 8080]
//! ```
//!
//! The files come from `SENDFILE_ROOT` (a missing or empty directory gets the sample tree) or
//! a sample tree in a temporary directory. With `nginx-s3`, an S3 store (s3s-fs) is started
//! too, the files are uploaded to its bucket, and the app serves them from there through
//! nginx. Ctrl-C stops everything.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use actix_web::{App, HttpServer, web};
use protected_downloads::page::DoctorVerdict;
use sendfile_actix::doctor::{self, DoctorSettings};
use sendfile_actix::{Backend, SendFileConfig};
use sendfile_e2e::front::{self, Front, FrontConfig, Setup};
use sendfile_e2e::store::{self, Store};

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
    let names: Vec<&str> = Setup::ALL
        .iter()
        .chain([&Setup::NginxS3])
        .map(|s| s.name())
        .collect();
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
    let mut config = SendFileConfig::builder(backend);
    let mut extra_vars = Vec::new();
    let mut store_note = String::new();
    let mut s3_store = None;
    if setup == Setup::NginxS3 {
        let (store, note) = start_store(work.path(), &root)?;
        config = config.object_store(store.object_store(PREFIX));
        extra_vars.push(("S3_HOST", store.addr.to_string()));
        extra_vars.push(("S3_SCHEME", "http".to_owned()));
        store_note = note;
        s3_store = Some(store);
    } else {
        config = config.root(&root);
    }
    if let Some(url) = setup.url() {
        config = config.url(url);
    }
    let config = config.build().map_err(|e| e.to_string())?;

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
        let mut front = Front::start_with(&FrontConfig {
            setup,
            app: app_addr,
            root: root.clone(),
            dir: dir.clone(),
            port: Some(port),
            nosymfollow: None,
            site_extra: None,
        }, &extra_vars)
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
        banner.push_str(&store_note);
        banner.push_str("\n  Ctrl-C stops everything");
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
        drop(s3_store);
        drop(work);
        result
    })
}

/// The key prefix the files are uploaded below.
const PREFIX: &str = "files/";

/// Starts s3s-fs over `work/s3-data`, creates the bucket and uploads the regular files below
/// `root` to `files/...`; returns the store and a note for the banner.
fn start_store(work: &std::path::Path, root: &std::path::Path) -> Result<(Store, String), String> {
    let binary = store::s3s_fs_binary().ok_or_else(|| {
        format!(
            "s3s-fs (an S3 store) not found; install it with: {}",
            store::install_command()
        )
    })?;
    let data = work.join("s3-data");
    let store = Store::start(&binary, &data, work).map_err(|e| format!("starting s3s-fs: {e}"))?;
    store
        .create_bucket()
        .map_err(|e| format!("creating the bucket: {e}"))?;
    let mut count = 0;
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                pending.push(path);
            } else if kind.is_file() {
                let Some(relative) = path.strip_prefix(root).ok().and_then(|p| p.to_str()) else {
                    continue;
                };
                let body = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
                store
                    .upload(&format!("{PREFIX}{relative}"), &body)
                    .map_err(|e| format!("uploading {relative}: {e}"))?;
                count += 1;
            }
        }
    }
    let note = format!(
        "\n  store: s3s-fs on {} (data in {}), bucket {}, {count} objects below {PREFIX}\n  \
         the app's settings: SENDFILE_BACKEND=nginx SENDFILE_URL=/protected \
         SENDFILE_S3_ENDPOINT={} SENDFILE_S3_BUCKET={} SENDFILE_S3_PREFIX={PREFIX} \
         AWS_ACCESS_KEY_ID={} AWS_SECRET_ACCESS_KEY=...",
        store.endpoint(),
        data.display(),
        store::BUCKET,
        store.endpoint(),
        store::BUCKET,
        store::ACCESS_KEY,
    );
    Ok((store, note))
}
