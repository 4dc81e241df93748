//! `sendfile_actix::Files` behind the real front servers with their offload backends: a
//! directory tree mounted at `/tree/` (the fixture's `public/`), each file checked by the app
//! and sent by the server.
//!
//! Without a server these tests print one line and pass; with `CI=true` they fail.

use std::os::unix::fs::symlink;

use sendfile_actix::{Backend, SendFileConfig};
use sendfile_e2e::app::RunningApp;
use sendfile_e2e::fixture::{self, Fixture, HOSTILE_DIR};
use sendfile_e2e::front::{self, Front, FrontConfig, Setup};
use sendfile_e2e::http::{Request, Response, encode_path};

/// A front server in front of the app, torn down in order on drop.
struct Stack {
    front: Front,
    _app: RunningApp,
    fixture: Fixture,
    setup: Setup,
}

impl Stack {
    fn start(setup: Setup) -> Option<Stack> {
        if !front::available_or_skip(setup) {
            return None;
        }
        let fixture = Fixture::new().expect("fixture");
        // Inside the root, but out of the mounted `public/`.
        symlink(
            "../users/alice/notes.txt",
            fixture.root.join("public/alice-notes.txt"),
        )
        .unwrap();
        let backend: Backend = setup.backend_name().parse().expect("backend");
        let mut config = SendFileConfig::builder(backend).root(&fixture.root);
        if let Some(url) = setup.url() {
            config = config.url(url);
        }
        let config = config.build().expect("valid config");
        let app = RunningApp::start(config, true).expect("app");
        let front = Front::start(&FrontConfig {
            setup,
            app: app.addr,
            root: fixture.root.clone(),
            dir: fixture.path().join("server"),
            port: None,
            nosymfollow: None,
            site_extra: None,
        })
        .unwrap_or_else(|e| panic!("starting {setup}: {e}"));
        Some(Stack {
            front,
            _app: app,
            fixture,
            setup,
        })
    }

    fn send(&self, req: &Request) -> Response {
        let res = req
            .send(self.front.addr)
            .unwrap_or_else(|e| panic!("{req:?}: {e}\n{}", self.front.logs()));
        let setup = self.setup;
        assert!(
            res.header("X-Accel-Redirect").is_none() && res.header("X-Sendfile").is_none(),
            "{setup}: an offload header reached the client:\n{res:?}"
        );
        assert!(
            !(res.status == 200 && res.header("Location").is_some()),
            "{setup}: the internal redirect reached the client:\n{res:?}"
        );
        assert!(
            !res.body_contains(&self.fixture.secret_marker),
            "the secret outside the root leaked:\n{res:?}"
        );
        res
    }

    fn get(&self, target: &str) -> Response {
        self.send(&Request::get(target))
    }
}

/// nginx: every hard name, ranges, HEAD.
#[test]
fn files_are_checked_by_the_app_and_sent_by_nginx() {
    let Some(stack) = Stack::start(Setup::Nginx) else {
        return;
    };

    let res = stack.get("/tree/welcome.txt");
    assert_eq!(res.status, 200, "{res:?}\n{}", stack.front.logs());
    assert_eq!(
        res.body,
        b"Welcome! Everyone may download the files in public/.\n"
    );
    assert_eq!(
        res.header("Content-Type").as_deref(),
        Some("text/plain; charset=utf-8")
    );

    // Ranges and HEAD are answered by nginx from the file.
    let res = stack.send(&Request::get("/tree/big.bin").header("Range", "bytes=100-199"));
    assert_eq!(res.status, 206, "{res:?}");
    assert_eq!(res.body, stack.fixture.big[100..200]);
    let res = stack.send(&Request::head("/tree/big.bin"));
    assert_eq!(res.status, 200, "{res:?}");
    assert_eq!(res.header("Content-Length").as_deref(), Some("200000"));
    assert!(res.body.is_empty());

    // Every hard name, percent-encoded in the URL.
    for name in fixture::hostile_names() {
        let below = HOSTILE_DIR.strip_prefix("public/").unwrap();
        let target = format!("/tree/{below}/{}", encode_path(name.as_bytes()));
        let allowed = stack.send(&Request::get(&target).header("X-Staff", "1"));
        assert_eq!(allowed.status, 200, "{name}: {allowed:?}");
        assert_eq!(allowed.body, fixture::content_for(&name), "{name}");
    }
}

/// Every server: a file, a range, HEAD, the check, confinement, other methods.
#[test]
fn every_server_sends_what_the_check_allowed_and_nothing_else() {
    for setup in Setup::ALL {
        let Some(stack) = Stack::start(setup) else {
            continue;
        };
        check_server(&stack);
    }
}

fn check_server(stack: &Stack) {
    let setup = stack.setup;
    let logs = || stack.front.logs();

    let res = stack.get("/tree/welcome.txt");
    assert_eq!(res.status, 200, "{setup}: {res:?}\n{}", logs());
    assert_eq!(
        res.body, b"Welcome! Everyone may download the files in public/.\n",
        "{setup}"
    );
    let res = stack.send(&Request::get("/tree/big.bin").header("Range", "bytes=100-199"));
    assert_eq!(res.status, 206, "{setup}: {res:?}");
    assert_eq!(res.body, stack.fixture.big[100..200], "{setup}");
    let res = stack.send(&Request::head("/tree/big.bin"));
    assert_eq!(res.status, 200, "{setup}: {res:?}");
    assert_eq!(
        res.header("Content-Length").as_deref(),
        Some("200000"),
        "{setup}"
    );
    assert!(res.body.is_empty(), "{setup}");

    // The check: PDFs only with X-Staff.
    let res = stack.get("/tree/hostile/report.pdf");
    assert_eq!(res.status, 403, "{setup}: {res:?}");
    let res = stack.send(&Request::get("/tree/hostile/report.pdf").header("X-Staff", "1"));
    assert_eq!(res.status, 200, "{setup}: {res:?}\n{}", logs());
    assert_eq!(res.body, fixture::content_for("report.pdf"), "{setup}");

    // Out of the tree: traversal, a link to elsewhere in the root, a link out of the root, a
    // directory, a NUL.
    for target in [
        "/tree/../users/alice/notes.txt",
        "/tree/%2e%2e/users/alice/notes.txt",
        "/tree/%2e%2e%2fusers%2falice%2fnotes.txt",
        "/tree//etc/passwd",
        "/tree/alice-notes.txt",
        "/tree/link-out.txt",
        "/tree/dir-out/secret.txt",
        "/tree/hostile",
        "/tree/",
        "/tree/nul%00.txt",
    ] {
        let res = stack.get(target);
        assert!(
            res.status == 404 || res.status == 400,
            "{setup}: {target}: {res:?}"
        );
        assert!(
            !res.body_contains(b"Alice's private notes"),
            "{setup}: {target}: {res:?}"
        );
    }

    // Other methods.
    let res = stack.send(&Request::new("POST", "/tree/welcome.txt").body("x"));
    assert_eq!(res.status, 405, "{setup}: {res:?}");
    assert_eq!(res.header("Allow").as_deref(), Some("GET, HEAD"), "{setup}");
}
