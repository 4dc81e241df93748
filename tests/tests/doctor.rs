//! The doctor against every real front server: with the generated (correct) configuration
//! every check passes, and each deliberately broken configuration is diagnosed with the right
//! explanation.
//!
//! Without a server these tests print one line and pass; with `CI=true` they fail.

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
        use actix_web::{App, HttpServer};
        let mut settings = doctor::DoctorSettings::default();
        if let Some(file) = probe_file {
            settings = settings.probe_file(file);
        }
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
