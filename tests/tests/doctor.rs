//! The doctor against every real front server: with the generated (correct) configuration
//! every check passes, and each deliberately broken configuration is diagnosed with the right
//! explanation.
//!
//! Without a server these tests print one line and pass; with `CI=true` they fail.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use sendfile_actix::doctor::{self, Outcome, Report};
use sendfile_actix::{Backend, SendFileConfig};
use sendfile_e2e::app::RunningApp;
use sendfile_e2e::fixture::Fixture;
use sendfile_e2e::front::{self, Front, FrontConfig, Setup};

/// The app with `backend` behind `setup`, whose site configuration went through `edit`.
struct Stack {
    front: Front,
    _app: RunningApp,
    fixture: Fixture,
}

impl Stack {
    fn start(setup: Setup, backend: &str, edit: &dyn Fn(String) -> String) -> Stack {
        let fixture = Fixture::new().expect("fixture");
        let backend: Backend = backend.parse().expect("backend");
        let mut config = SendFileConfig::builder(backend.clone()).root(&fixture.root);
        if backend.needs_url() {
            config = config.url("/protected");
        }
        let config = config.build().expect("valid config");
        let app = RunningApp::start(config, false).expect("app");
        let front = Front::start_edited(
            &FrontConfig {
                setup,
                app: app.addr,
                root: fixture.root.clone(),
                dir: fixture.path().join("server"),
                port: None,
                nosymfollow: None,
                site_extra: None,
            },
            edit,
        )
        .unwrap_or_else(|e| panic!("starting {setup}: {e}"));
        Stack {
            front,
            _app: app,
            fixture,
        }
    }

    fn url(&self) -> String {
        format!("http://{}/", self.front.addr)
    }

    fn doctor(&self) -> Report {
        doctor::run(&self.url())
    }

    fn root(&self) -> String {
        self.fixture.root.to_string_lossy().into_owned()
    }
}

/// Asserts that `check` failed and its message contains every one of `words`.
fn assert_diagnosed(report: &Report, check: &str, words: &[&str], stack: &Stack) {
    let c = report
        .check(check)
        .unwrap_or_else(|| panic!("no {check} check in:\n{report}"));
    assert_eq!(c.outcome, Outcome::Fail, "{check} should fail:\n{report}");
    for w in words {
        assert!(
            c.message.contains(w),
            "{check}: {w:?} missing from the diagnosis:\n{report}\n{}",
            stack.front.logs()
        );
    }
    assert!(!report.passed());
}

fn replace(from: &'static str, to: &'static str) -> impl Fn(String) -> String {
    move |site: String| {
        assert!(site.contains(from), "{from:?} not in the site:\n{site}");
        site.replace(from, to)
    }
}

fn same(site: String) -> String {
    site
}

#[test]
fn correct_configurations_pass_every_check() {
    for setup in Setup::ALL {
        if !front::available_or_skip(setup) {
            continue;
        }
        let stack = Stack::start(setup, setup.backend_name(), &same);
        let report = stack.doctor();
        assert!(
            report.passed(),
            "{setup}:\n{report}\n{}",
            stack.front.logs()
        );
        for name in [
            "manifest",
            "offload",
            "content-type",
            "content-disposition",
            "carried-headers",
            "head",
            "range",
            "conditional",
        ] {
            assert_eq!(
                report.check(name).map(|c| c.outcome),
                Some(Outcome::Pass),
                "{setup}: {name}\n{report}"
            );
        }
        let internal = report.check("internal").unwrap().outcome;
        let symlinks = report.check("symlinks").unwrap().outcome;
        // nginx refuses symlinks; Apache, lighttpd and Caddy cannot (a warning). Only the
        // backends with a URL prefix have an internal location to ask directly.
        let expected_symlinks = if setup.backend_name() == "nginx" {
            Outcome::Pass
        } else {
            Outcome::Warn
        };
        let expected_internal = if setup.url().is_some() {
            Outcome::Pass
        } else {
            Outcome::Skip
        };
        assert_eq!(
            (internal, symlinks),
            (expected_internal, expected_symlinks),
            "{setup}: {report}"
        );
    }
}

#[test]
fn nginx_broken_configurations() {
    let setup = Setup::Nginx;
    if !front::available_or_skip(setup) {
        return;
    }
    // `internal` forgotten: the files are public.
    let stack = Stack::start(setup, "nginx", &replace("        internal;\n", ""));
    let report = stack.doctor();
    assert_diagnosed(
        &report,
        "internal",
        &["files are public", "internal;"],
        &stack,
    );
    assert_eq!(report.check("offload").unwrap().outcome, Outcome::Pass);

    // `root` where `alias` was meant: nginx appends the location to the root.
    let stack = Stack::start(setup, "nginx", &|site: String| {
        let line = site
            .lines()
            .find(|l| l.trim_start().starts_with("alias "))
            .unwrap();
        site.replace(line, &line.replace("alias ", "root ").replace("/;", ";"))
    });
    let report = stack.doctor();
    let looked_for = format!("looked for {}/protected/.sendfile-doctor/", stack.root());
    assert_diagnosed(
        &report,
        "offload",
        &["answered 404", "\"root ", &looked_for, "alias"],
        &stack,
    );

    // The header is ignored: the client gets the app's empty body.
    let stack = Stack::start(
        setup,
        "nginx",
        &replace(
            "proxy_http_version 1.1;",
            "proxy_http_version 1.1;\n        proxy_ignore_headers X-Accel-Redirect;",
        ),
    );
    let report = stack.doctor();
    assert_diagnosed(
        &report,
        "offload",
        &["empty body", "proxy_ignore_headers"],
        &stack,
    );

    // Symlinks followed.
    let stack = Stack::start(
        setup,
        "nginx",
        &replace("        disable_symlinks on from=$document_root;\n", ""),
    );
    let report = stack.doctor();
    assert_diagnosed(
        &report,
        "symlinks",
        &["followed a symlink", "disable_symlinks on"],
        &stack,
    );
}

#[test]
fn apache_broken_configurations() {
    let setup = Setup::Apache;
    if !front::available_or_skip(setup) {
        return;
    }
    // XSendFile off: the header reaches the browser, the download is 0 bytes.
    let stack = Stack::start(
        setup,
        "xsendfile",
        &replace("XSendFile On", "XSendFile Off"),
    );
    let report = stack.doctor();
    assert_diagnosed(
        &report,
        "offload",
        &["X-Sendfile: ", "reached the client", "XSendFile On"],
        &stack,
    );

    // XSendFilePath missing: 404 for the file the library named.
    let stack = Stack::start(setup, "xsendfile", &|site: String| {
        site.lines()
            .filter(|l| !l.trim_start().starts_with("XSendFilePath"))
            .map(|l| format!("{l}\n"))
            .collect()
    });
    let report = stack.doctor();
    let path = format!("XSendFilePath {}", stack.root());
    assert_diagnosed(&report, "offload", &["answered 404", &path], &stack);
}

#[test]
fn lighttpd_broken_configurations() {
    let setup = Setup::Lighttpd;
    if !front::available_or_skip(setup) {
        return;
    }
    // x-sendfile disabled: lighttpd drops the header and serves the empty body.
    let stack = Stack::start(
        setup,
        "lighttpd",
        &replace(
            "\"x-sendfile\" => \"enable\"",
            "\"x-sendfile\" => \"disable\"",
        ),
    );
    let report = stack.doctor();
    assert_diagnosed(
        &report,
        "offload",
        &["empty body", "\"x-sendfile\" => \"enable\""],
        &stack,
    );

    // A docroot that does not match the root.
    let stack = Stack::start(setup, "lighttpd", &|site: String| {
        let line = site
            .lines()
            .find(|l| l.contains("\"x-sendfile-docroot\""))
            .unwrap();
        site.replace(
            line,
            "    \"x-sendfile-docroot\" => ( \"/srv/elsewhere\" ),",
        )
    });
    let report = stack.doctor();
    let docroot = format!("\"x-sendfile-docroot\" => ( \"{}\" )", stack.root());
    assert_diagnosed(&report, "offload", &["answered 403", &docroot], &stack);
}

#[test]
fn caddy_broken_configurations() {
    let setup = Setup::Caddy;
    if !front::available_or_skip(setup) {
        return;
    }
    // No handle_response acts on the header.
    let stack = Stack::start(
        setup,
        "caddy",
        &replace(
            "@accel header X-Accel-Redirect *",
            "@accel header X-Not-Sent *",
        ),
    );
    let report = stack.doctor();
    assert_diagnosed(
        &report,
        "offload",
        &[
            "X-Accel-Redirect: ",
            "reached the client",
            "handle_response",
        ],
        &stack,
    );

    // A Caddy configuration behind the nginx backend: the percent-encoded name is used
    // literally, and the decoy with that literal name arrives instead of the probe.
    let stack = Stack::start(setup, "nginx", &same);
    let report = stack.doctor();
    assert_diagnosed(
        &report,
        "offload",
        &["another name", "did not percent-decode", "SENDFILE_BACKEND"],
        &stack,
    );

    // No strip_prefix: Caddy looks below root for the whole URL.
    let stack = Stack::start(
        setup,
        "caddy",
        &replace("\t\t\turi strip_prefix /protected\n", ""),
    );
    let report = stack.doctor();
    let looked_for = format!("look for {}/protected/", stack.root());
    assert_diagnosed(&report, "offload", &["answered 404", &looked_for], &stack);
}

/// A configuration that drops the library's headers is named, with the line to add.
#[test]
fn lost_policy_headers_name_the_missing_line() {
    if front::available_or_skip(Setup::Nginx) {
        let stack = Stack::start(
            Setup::Nginx,
            "nginx",
            &replace(
                "        add_header X-Content-Type-Options $upstream_http_x_content_type_options always;\n",
                "",
            ),
        );
        let report = stack.doctor();
        assert_diagnosed(
            &report,
            "carried-headers",
            &[
                "X-Content-Type-Options did not arrive",
                "add_header X-Content-Type-Options $upstream_http_x_content_type_options always;",
            ],
            &stack,
        );
    }
    if front::available_or_skip(Setup::Caddy) {
        let stack = Stack::start(
            Setup::Caddy,
            "caddy",
            &replace(" X-Content-Type-Options Content-Security-Policy", ""),
        );
        let report = stack.doctor();
        assert_diagnosed(
            &report,
            "carried-headers",
            &[
                "X-Content-Type-Options, Content-Security-Policy did not arrive",
                "copy_response_headers",
            ],
            &stack,
        );
    }
}

#[test]
fn lost_headers_ranges_and_conditionals_are_diagnosed() {
    if front::available_or_skip(Setup::Caddy) {
        // Caddy copies only the headers it is told to.
        let stack = Stack::start(
            Setup::Caddy,
            "caddy",
            &replace(
                "include Content-Type Content-Disposition Cache-Control Set-Cookie",
                "include Cache-Control Set-Cookie",
            ),
        );
        let report = stack.doctor();
        assert_diagnosed(
            &report,
            "content-disposition",
            &["no Content-Disposition", "copy_response_headers"],
            &stack,
        );
    }
    if front::available_or_skip(Setup::Nginx) {
        // Ranges and conditional requests turned off in the internal location.
        let stack = Stack::start(
            Setup::Nginx,
            "nginx",
            &replace(
                "        internal;\n",
                "        internal;\n        max_ranges 0;\n        etag off;\n        if_modified_since off;\n",
            ),
        );
        let report = stack.doctor();
        assert_diagnosed(&report, "range", &["answered 200"], &stack);
        assert_diagnosed(
            &report,
            "conditional",
            &["If-Modified-Since", "expected 304"],
            &stack,
        );
        assert_eq!(
            report.check("head").unwrap().outcome,
            Outcome::Pass,
            "{report}"
        );
    }
}

#[test]
fn nginx_in_front_of_an_app_set_to_a_raw_backend() {
    // Caddy's raw names behind nginx, which decodes once: the %41 becomes A.
    let setup = Setup::Nginx;
    if !front::available_or_skip(setup) {
        return;
    }
    let stack = Stack::start(setup, "caddy", &same);
    let report = stack.doctor();
    assert_diagnosed(&report, "offload", &["another name", "once more"], &stack);
}

/// The app with the doctor told (or not) which file to probe with, on a thread of its own.
struct NamedFileApp {
    addr: std::net::SocketAddr,
    handle: actix_web::dev::ServerHandle,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl NamedFileApp {
    fn start(config: SendFileConfig, probe_file: Option<&str>) -> NamedFileApp {
        let mut settings = doctor::DoctorSettings::default();
        if let Some(file) = probe_file {
            settings = settings.probe_file(file);
        }
        NamedFileApp::start_with(config, settings)
    }

    fn start_with(config: SendFileConfig, settings: doctor::DoctorSettings) -> NamedFileApp {
        use actix_web::{App, HttpServer};
        let (tx, rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let server = HttpServer::new(move || {
                    App::new()
                        .app_data(config.clone())
                        .app_data(settings.clone())
                        .configure(protected_downloads::configure)
                })
                .workers(1)
                .disable_signals()
                .bind(("127.0.0.1", 0))
                .expect("bind");
                let addr = server.addrs()[0];
                let server = server.run();
                tx.send((addr, server.handle())).unwrap();
                let _ = server.await;
            });
        });
        let (addr, handle) = rx.recv_timeout(std::time::Duration::from_secs(20)).unwrap();
        NamedFileApp {
            addr,
            handle,
            thread: Some(thread),
        }
    }
}

impl Drop for NamedFileApp {
    fn drop(&mut self) {
        actix_web::rt::System::new().block_on(self.handle.stop(false));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[test]
fn a_root_the_app_cannot_write_is_checked_with_a_named_file() {
    let setup = Setup::Nginx;
    if !front::available_or_skip(setup) {
        return;
    }
    let fixture = Fixture::new().expect("fixture");
    // The probes' directory cannot be created: a file stands in its way.
    std::fs::write(fixture.root.join(doctor::PROBE_DIR), b"not a directory").unwrap();
    std::fs::write(
        fixture.root.join("public/doctor-probe.txt"),
        b"a file the operator chose for the doctor\n",
    )
    .unwrap();
    let config = SendFileConfig::builder(Backend::Nginx)
        .root(&fixture.root)
        .url("/protected")
        .build()
        .unwrap();
    let app = NamedFileApp::start(config, Some("public/doctor-probe.txt"));
    let front = Front::start(&FrontConfig {
        setup,
        app: app.addr,
        root: fixture.root.clone(),
        dir: fixture.path().join("server"),
        port: None,
        nosymfollow: None,
        site_extra: None,
    })
    .unwrap();
    let report = doctor::run(&format!("http://{}/", front.addr));
    assert!(report.passed(), "{report}\n{}", front.logs());
    let offload = report.check("offload").unwrap();
    assert_eq!(offload.outcome, Outcome::Pass, "{report}");
    assert!(offload.message.contains("(41 bytes)"), "{report}");
    assert_eq!(report.check("symlinks").unwrap().outcome, Outcome::Skip);
    assert!(
        report
            .check("content-disposition")
            .unwrap()
            .message
            .contains("doctor-probe.txt"),
        "{report}"
    );

    // Without a named file, the manifest says what to do.
    drop(front);
    drop(app);
    let app = NamedFileApp::start(
        SendFileConfig::builder(Backend::Nginx)
            .root(&fixture.root)
            .url("/protected")
            .build()
            .unwrap(),
        None,
    );
    let res = sendfile_e2e::http::Request::get(doctor::MANIFEST_PATH)
        .header(
            "Authorization",
            format!(
                "Bearer {}",
                sendfile_actix::sendfile_core::doctor::process_token()
            ),
        )
        .send(app.addr)
        .unwrap();
    assert_eq!(res.status, 503, "{res:?}");
    assert!(res.body_contains(b"name a file below the root"), "{res:?}");
}

#[test]
fn an_in_process_backend_passes_without_front_server_checks() {
    let fixture = Fixture::new().expect("fixture");
    let app = NamedFileApp::start(
        SendFileConfig::builder(Backend::Simple)
            .root(&fixture.root)
            .build()
            .unwrap(),
        None,
    );
    let report = doctor::run(&format!("http://{}/", app.addr));
    assert!(report.passed(), "{report}");
    for name in ["offload", "range", "conditional", "head"] {
        assert_eq!(
            report.check(name).unwrap().outcome,
            Outcome::Pass,
            "{report}"
        );
    }
    for name in ["internal", "symlinks"] {
        let c = report.check(name).unwrap();
        assert_eq!(c.outcome, Outcome::Skip, "{report}");
        assert!(c.message.contains("streams files from the app"), "{report}");
    }
}

/// The backends that send from a root, each with symlinks followed and refused.
fn local_configs(root: &std::path::Path) -> Vec<SendFileConfig> {
    let mut configs = Vec::new();
    for name in sendfile_actix::sendfile_core::BACKEND_NAMES {
        let backend: Backend = name.parse().unwrap();
        if backend.needs_object_store() {
            continue;
        }
        for follow in [true, false] {
            let mut b = SendFileConfig::builder(backend.clone())
                .root(root)
                .follow_symlinks(follow);
            if backend.needs_url() {
                b = b.url("/protected");
            }
            configs.push(b.build().unwrap());
        }
    }
    configs
}

/// Every doctor route, asked with the app's own token (what the doctor's checks carry).
fn ask_every_route(addr: std::net::SocketAddr) {
    let bearer = format!(
        "Bearer {}",
        sendfile_actix::sendfile_core::doctor::process_token()
    );
    for path in [
        doctor::MANIFEST_PATH,
        doctor::PROBE_PATH,
        doctor::SYMLINK_PATH,
    ] {
        let res = sendfile_e2e::http::Request::get(path)
            .header("Authorization", bearer.clone())
            .send(addr)
            .unwrap();
        assert_ne!(res.status, 200, "{path}: {res:?}");
    }
}

/// A directory next to the root whose files must survive: `link` and `secret.txt`.
fn assert_outside_untouched(fixture: &Fixture, what: &str) {
    let outside = fixture.path().join("outside");
    let mut names: Vec<String> = std::fs::read_dir(&outside)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["link", "secret.txt"], "{what}");
    assert_eq!(
        std::fs::read(outside.join("link")).unwrap(),
        b"not the doctor's",
        "{what}"
    );
    assert_eq!(
        std::fs::read(&fixture.secret).unwrap(),
        fixture.secret_marker,
        "{what}"
    );
}

#[test]
fn a_symlink_planted_at_the_probes_directory_cannot_write_outside_the_root() {
    let fixture = Fixture::new().expect("fixture");
    let outside = fixture.path().join("outside");
    std::fs::write(outside.join("link"), b"not the doctor's").unwrap();
    std::os::unix::fs::symlink(&outside, fixture.root.join(doctor::PROBE_DIR)).unwrap();
    for config in local_configs(&fixture.root) {
        let what = format!(
            "{} follow_symlinks({})",
            config.backend(),
            config.core().follows_symlinks()
        );
        let app = NamedFileApp::start(config, None);
        ask_every_route(app.addr);
        assert_outside_untouched(&fixture, &what);
    }
}

#[test]
fn a_symlink_planted_at_a_probe_cannot_overwrite_or_delete_outside_files() {
    let fixture = Fixture::new().expect("fixture");
    let outside = fixture.path().join("outside");
    std::fs::write(outside.join("link"), b"not the doctor's").unwrap();
    let dir = fixture.root.join(doctor::PROBE_DIR);
    std::fs::create_dir(&dir).unwrap();
    // Every file the doctor writes, for both probe names.
    for name in [
        "probe %41 \u{fc}.txt",
        "probe.txt",
        "probe%20%2541%20%C3%BC.txt",
        "probe A \u{fc}.txt",
        "target.txt",
    ] {
        std::os::unix::fs::symlink(&fixture.secret, dir.join(name)).unwrap();
    }
    std::os::unix::fs::symlink(outside.join("link"), dir.join("link")).unwrap();
    for config in local_configs(&fixture.root) {
        let what = format!(
            "{} follow_symlinks({})",
            config.backend(),
            config.core().follows_symlinks()
        );
        let app = NamedFileApp::start(config, None);
        ask_every_route(app.addr);
        assert_outside_untouched(&fixture, &what);
    }
}

#[test]
fn the_doctors_routes_tell_anonymous_clients_nothing() {
    let fixture = Fixture::new().expect("fixture");
    let root = fixture.root.to_string_lossy().into_owned();
    for config in local_configs(&fixture.root) {
        let backend = config.backend().to_string();
        // With a token configured, and without one (closed to all but the app's own checks).
        for token in [Some("the-operator's-long-secret"), None] {
            let mut settings = doctor::DoctorSettings::default().public_url("http://127.0.0.1:9/");
            if let Some(t) = token {
                settings = settings.token(t);
            }
            let app = NamedFileApp::start_with(config.clone(), settings);
            for path in [
                doctor::MANIFEST_PATH,
                doctor::PROBE_PATH,
                doctor::SYMLINK_PATH,
                doctor::REPORT_PATH,
            ] {
                for auth in [
                    None,
                    Some("Bearer wrong-but-long-enough-token"),
                    Some("Bearer "),
                ] {
                    let mut req = sendfile_e2e::http::Request::get(path);
                    if let Some(a) = auth {
                        req = req.header("Authorization", a);
                    }
                    let res = req.send(app.addr).unwrap();
                    assert_eq!(res.status, 401, "{backend} {path} {auth:?}: {res:?}");
                    let mut text = String::from_utf8_lossy(&res.body).into_owned();
                    for (n, v) in &res.headers {
                        text.push_str(&format!("\n{n}: {}", String::from_utf8_lossy(v)));
                    }
                    for secret in [&*root, &*backend, "/protected", ".sendfile-doctor", "probe"] {
                        assert!(
                            !text.contains(secret),
                            "{backend} {path} tells {secret:?}: {text}"
                        );
                    }
                    assert!(
                        res.header("x-accel-redirect").is_none()
                            && res.header("x-sendfile").is_none()
                    );
                }
            }
            // The configured token opens them.
            if let Some(t) = token {
                let res = sendfile_e2e::http::Request::get(doctor::MANIFEST_PATH)
                    .header("Authorization", format!("Bearer {t}"))
                    .send(app.addr)
                    .unwrap();
                assert_eq!(res.status, 200, "{backend}: {res:?}");
                assert!(res.body_contains(root.as_bytes()), "{res:?}");
            }
        }
    }
}

/// A loopback TCP relay that counts the connections it accepts: the front server, as far as
/// the number of connections goes. It forwards to the address given by
/// [`forward_to`](Self::forward_to).
struct CountingRelay {
    addr: std::net::SocketAddr,
    to: Arc<OnceLock<std::net::SocketAddr>>,
    connections: Arc<AtomicUsize>,
}

impl CountingRelay {
    fn start() -> CountingRelay {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let connections = Arc::new(AtomicUsize::new(0));
        let to = Arc::new(OnceLock::new());
        let (counted, target) = (Arc::clone(&connections), Arc::clone(&to));
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { return };
                counted.fetch_add(1, Ordering::SeqCst);
                let target = Arc::clone(&target);
                std::thread::spawn(move || relay(client, &target));
            }
        });
        CountingRelay {
            addr,
            to,
            connections,
        }
    }

    fn forward_to(&self, to: std::net::SocketAddr) {
        self.to.set(to).unwrap();
    }

    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

fn relay(client: std::net::TcpStream, to: &OnceLock<std::net::SocketAddr>) {
    use std::net::{Shutdown, TcpStream};
    let Some(Ok(upstream)) = to.get().map(TcpStream::connect) else {
        return;
    };
    let (Ok(mut from_client), Ok(mut to_upstream)) = (client.try_clone(), upstream.try_clone())
    else {
        return;
    };
    let up = std::thread::spawn(move || {
        let _ = std::io::copy(&mut from_client, &mut to_upstream);
        let _ = to_upstream.shutdown(Shutdown::Write);
    });
    let (mut from_upstream, mut to_client) = (upstream, client);
    let _ = std::io::copy(&mut from_upstream, &mut to_client);
    let _ = to_client.shutdown(Shutdown::Write);
    let _ = up.join();
}

#[test]
fn the_health_endpoint_cannot_amplify_requests() {
    let fixture = Fixture::new().expect("fixture");
    let config = SendFileConfig::builder(Backend::Simple)
        .root(&fixture.root)
        .build()
        .unwrap();
    let token = "the-operator's-long-secret";
    let relay = CountingRelay::start();
    let settings = doctor::DoctorSettings::default()
        .public_url(format!("http://{}/", relay.addr))
        .token(token)
        .report_every(std::time::Duration::from_secs(3600));
    let app = NamedFileApp::start_with(config, settings);
    relay.forward_to(app.addr);
    let report = sendfile_e2e::http::Request::get(doctor::REPORT_PATH);
    let addr = app.addr;

    // Anonymous calls start no check at all.
    for _ in 0..200 {
        assert_eq!(report.send(addr).unwrap().status, 401);
    }
    assert_eq!(relay.connections(), 0);

    // 2,000 calls with the token, 20 at a time: one check (at most 7 requests through the
    // front server), the other calls answered from it.
    let authorised = report.header("Authorization", format!("Bearer {token}"));
    let statuses: Vec<u16> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..20)
            .map(|_| {
                s.spawn(|| {
                    (0..100)
                        .map(|_| {
                            let res = authorised.send(addr).unwrap();
                            assert!(res.body_contains(b"PASS offload"), "{res:?}");
                            res.status
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });
    assert_eq!(statuses.len(), 2000);
    assert!(statuses.iter().all(|&s| s == 200), "{statuses:?}");
    let connections = relay.connections();
    assert!(
        (1..=7).contains(&connections),
        "2,000 calls made {connections} connections through the front server"
    );
}
