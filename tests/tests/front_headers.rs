//! What travels with the bytes, through each real front server started from the shipped
//! configurations: the content policy (`X-Content-Type-Options: nosniff`, the sandbox, active
//! content as an attachment), `Cache-Control: private`, the application's own CORS, `Link` and
//! `Content-Language` headers, on GET, HEAD, 206 and 304; and validators that do not depend on
//! the inode.
//!
//! Without a server these tests print one line and pass; with `CI=true` they fail.

use std::process::Command;

use sendfile_actix::policy::SANDBOX;
use sendfile_actix::{Backend, SendFileConfig};
use sendfile_e2e::app::{DECORATIONS, RunningApp};
use sendfile_e2e::fixture::Fixture;
use sendfile_e2e::front::{self, Front, FrontConfig, Setup};
use sendfile_e2e::http::{Request, Response};

struct Stack {
    front: Option<Front>,
    _app: RunningApp,
    fixture: Fixture,
    name: &'static str,
    app_addr: std::net::SocketAddr,
}

impl Stack {
    fn start(setup: Option<Setup>) -> Stack {
        let fixture = Fixture::new().expect("fixture");
        let dir = fixture.root.join("policy");
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(
            dir.join("page.html"),
            b"<script>fetch('/beacon')</script>" as &[u8],
        )
        .unwrap();
        std::fs::write(
            dir.join("pic.svg"),
            b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>",
        )
        .unwrap();
        std::fs::write(dir.join("photo.png"), b"\x89PNG\r\n\x1a\n").unwrap();
        // The same file with another inode, its times kept.
        let copied = Command::new("cp")
            .arg("-a")
            .arg(fixture.root.join("public/big.bin"))
            .arg(dir.join("big-copy.bin"))
            .status()
            .expect("cp");
        assert!(copied.success());
        let backend: Backend = setup.map_or("simple", Setup::backend_name).parse().unwrap();
        let mut config = SendFileConfig::builder(backend).root(&fixture.root);
        if let Some(url) = setup.and_then(Setup::url) {
            config = config.url(url);
        }
        let app = RunningApp::start(config.build().unwrap(), true).expect("app");
        let app_addr = app.addr;
        let front = setup.map(|setup| {
            Front::start(&FrontConfig {
                setup,
                app: app.addr,
                root: fixture.root.clone(),
                dir: fixture.path().join("server"),
                port: None,
                nosymfollow: None,
                site_extra: None,
            })
            .unwrap_or_else(|e| panic!("starting {setup}: {e}"))
        });
        Stack {
            front,
            _app: app,
            fixture,
            name: setup.map_or("simple", Setup::name),
            app_addr,
        }
    }

    fn send(&self, req: &Request) -> Response {
        let addr = self.front.as_ref().map_or(self.app_addr, |f| f.addr);
        req.send(addr).unwrap_or_else(|e| panic!("{req:?}: {e}"))
    }

    fn logs(&self) -> String {
        self.front.as_ref().map(Front::logs).unwrap_or_default()
    }
}

/// Every response of a file: nosniff; with `file` (200, 206, 304 and HEAD),
/// `Cache-Control: private` (the application set none), the sandbox and the application's own
/// headers too.
fn check_around(s: &Stack, what: &str, res: &Response, file: bool, failures: &mut Vec<String>) {
    let mut expect = vec![("X-Content-Type-Options", "nosniff")];
    if file {
        expect.push(("Cache-Control", "private"));
        expect.push(("Content-Security-Policy", SANDBOX));
        expect.extend(DECORATIONS);
    }
    for (name, value) in expect {
        if res.header(name).as_deref() != Some(value) {
            failures.push(format!(
                "{}: {what} ({}): {name} is {:?}, expected {value:?}",
                s.name,
                res.status,
                res.header(name)
            ));
        }
    }
}

fn headers_survive(setup: Option<Setup>) {
    if let Some(setup) = setup
        && !front::available_or_skip(setup)
    {
        return;
    }
    let s = Stack::start(setup);
    let target = "/decorated/public/big.bin";
    let mut failures = Vec::new();

    let get = s.send(&Request::get(target));
    assert_eq!(get.status, 200, "{}: {get:?}\n{}", s.name, s.logs());
    assert!(get.body == s.fixture.big);
    check_around(&s, "GET", &get, true, &mut failures);

    let head = s.send(&Request::head(target));
    assert_eq!(head.status, 200, "{head:?}");
    check_around(&s, "HEAD", &head, true, &mut failures);

    let range = s.send(&Request::get(target).header("Range", "bytes=10-19"));
    assert_eq!(range.status, 206, "{range:?}");
    check_around(&s, "Range", &range, true, &mut failures);

    let last_modified = get.header("Last-Modified").expect("Last-Modified");
    let not_modified = s.send(&Request::get(target).header("If-Modified-Since", last_modified));
    assert_eq!(not_modified.status, 304, "{not_modified:?}");
    check_around(&s, "304", &not_modified, true, &mut failures);

    let unsatisfiable = s.send(&Request::get(target).header("Range", "bytes=999999-"));
    assert_eq!(unsatisfiable.status, 416, "{unsatisfiable:?}");
    // lighttpd writes its 416 (no file in it) itself, and no setting adds a header there.
    if setup != Some(Setup::Lighttpd) {
        check_around(&s, "416", &unsatisfiable, false, &mut failures);
    }

    assert!(failures.is_empty(), "{}\n{}", failures.join("\n"), s.logs());

    // Active content is never inline, even where the application asked for inline (the
    // default); a raster image stays inline.
    for (file, inline) in [
        ("page.html", false),
        ("pic.svg", false),
        ("photo.png", true),
    ] {
        let res = s.send(&Request::get(format!("/raw/policy/{file}")));
        assert_eq!(res.status, 200, "{}: {file}: {res:?}", s.name);
        let disposition = res.header("Content-Disposition").unwrap_or_default();
        let kind = if inline { "inline" } else { "attachment" };
        assert!(
            disposition.starts_with(kind),
            "{}: {file}: Content-Disposition {disposition:?}, expected {kind}",
            s.name
        );
        assert_eq!(
            res.header("X-Content-Type-Options").as_deref(),
            Some("nosniff")
        );
        assert_eq!(
            res.header("Content-Security-Policy").as_deref(),
            Some(SANDBOX),
            "{}: {file}",
            s.name
        );
    }

    // The same file under another inode (`cp -a`) has the same validator.
    let copy = s.send(&Request::get("/raw/policy/big-copy.bin"));
    assert_eq!(copy.status, 200, "{copy:?}");
    let original = s.send(&Request::get("/raw/public/big.bin"));
    assert_eq!(
        copy.header("ETag"),
        original.header("ETag"),
        "{}: the ETag depends on the inode",
        s.name
    );
}

#[test]
fn simple_backend_without_front_server() {
    headers_survive(None);
}

#[test]
fn nginx() {
    headers_survive(Some(Setup::Nginx));
}

#[test]
fn apache_mod_xsendfile() {
    headers_survive(Some(Setup::Apache));
}

#[test]
fn lighttpd() {
    headers_survive(Some(Setup::Lighttpd));
}

#[test]
fn caddy() {
    headers_survive(Some(Setup::Caddy));
}

#[test]
fn caddy_mod_wsgi_location() {
    headers_survive(Some(Setup::CaddyModWsgi));
}
