//! The protected_downloads app behind each real front server, started from the shipped
//! deploy templates: bodies, headers, ranges, conditional requests, confinement and
//! permissions, as a client sees them.
//!
//! Without a server these tests print one line and pass; with `CI=true` they fail.

use sendfile_actix::{Backend, SendFileConfig};
use sendfile_e2e::app::RunningApp;
use sendfile_e2e::fixture::{self, Fixture, HOSTILE_DIR};
use sendfile_e2e::front::{self, Front, FrontConfig, Setup};
use sendfile_e2e::http::{Request, Response, encode_path, multipart_parts, percent_decode};

/// Everything a test needs, torn down in order on drop (server, app, files).
struct Stack {
    front: Option<Front>,
    app: RunningApp,
    fixture: Fixture,
    setup: Option<Setup>,
}

impl Stack {
    /// The app with `backend` in-process, behind `setup` (none: the app is asked directly).
    fn start(setup: Option<Setup>) -> Stack {
        let fixture = Fixture::new().expect("fixture");
        let backend: Backend = setup
            .map_or("simple", Setup::backend_name)
            .parse()
            .expect("backend");
        let mut config = SendFileConfig::builder(backend).root(&fixture.root);
        if let Some(url) = setup.and_then(Setup::url) {
            config = config.url(url);
        }
        let config = config.build().expect("valid config");
        let app = RunningApp::start(config, true).expect("app");
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
            app,
            fixture,
            setup,
        }
    }

    fn send(&self, req: &Request) -> Response {
        let addr = self.front.as_ref().map_or(self.app.addr, |f| f.addr);
        let res = req
            .send(addr)
            .unwrap_or_else(|e| panic!("{req:?}: {e}\n{}", self.logs()));
        if let Some(setup) = self.setup {
            let header = setup.offload_header();
            // A real redirect may carry a Location; offload responses never reach the client.
            let leaked = if header == "Location" {
                res.status == 200 && res.header("Location").is_some()
                    || res
                        .header("Location")
                        .is_some_and(|l| l.starts_with("/protected"))
            } else {
                res.header(header).is_some()
            };
            assert!(!leaked, "{header} reached the client:\n{res:?}");
            assert!(
                res.header("X-Accel-Redirect").is_none() && res.header("X-Sendfile").is_none(),
                "an offload header reached the client:\n{res:?}"
            );
        }
        res
    }

    fn get(&self, target: &str) -> Response {
        self.send(&Request::get(target))
    }

    fn logs(&self) -> String {
        self.front.as_ref().map(Front::logs).unwrap_or_default()
    }

    fn name(&self) -> &'static str {
        self.setup.map_or("simple", Setup::name)
    }

    fn check_no_secret(&self, res: &Response) {
        assert!(
            !res.body_contains(&self.fixture.secret_marker),
            "{}: the secret outside the root leaked:\n{res:?}",
            self.name()
        );
        assert!(
            (400..500).contains(&res.status),
            "{}: expected a 4xx refusal:\n{res:?}\n{}",
            self.name(),
            self.logs()
        );
    }
}

/// Names a setup cannot express: the library must refuse them (500), never serve another file.
fn refused_name(setup: Option<Setup>, name: &str) -> bool {
    setup == Some(Setup::Caddy) && name.contains('?')
}

/// Names the setup does not serve: Caddy uses the `Location` value literally while the
/// `mod_wsgi` backend percent-encodes it (as Apache mod_wsgi needs), so behind Caddy only
/// names made of `A-Z a-z 0-9 - . _ ~ /` are found. They must be a 404, never another file.
fn unreachable_name(setup: Option<Setup>, name: &str) -> bool {
    setup == Some(Setup::CaddyModWsgi)
        && !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/'))
}

fn expected_type(name: &str) -> &'static str {
    match name.rsplit_once('.').map(|(_, e)| e) {
        Some("txt") => "text/plain",
        Some("html") => "text/html",
        Some("pdf") => "application/pdf",
        _ => "application/octet-stream",
    }
}

/// The parameters of a header value such as Content-Disposition (quoted strings unescaped).
fn header_params(value: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut params = Vec::new();
    let mut i = value
        .iter()
        .position(|&b| b == b';')
        .map_or(value.len(), |p| p + 1);
    while i < value.len() {
        while i < value.len() && (value[i] == b' ' || value[i] == b';') {
            i += 1;
        }
        let eq = value[i..].iter().position(|&b| b == b'=').map(|p| p + i);
        let Some(eq) = eq else { break };
        let name = String::from_utf8_lossy(&value[i..eq])
            .trim()
            .to_ascii_lowercase();
        i = eq + 1;
        let mut v = Vec::new();
        if value.get(i) == Some(&b'"') {
            i += 1;
            while i < value.len() && value[i] != b'"' {
                if value[i] == b'\\' && i + 1 < value.len() {
                    i += 1;
                }
                v.push(value[i]);
                i += 1;
            }
            i += 1;
        } else {
            while i < value.len() && value[i] != b';' {
                v.push(value[i]);
                i += 1;
            }
        }
        params.push((name, v));
    }
    params
}

/// The file name a Content-Disposition value carries (`filename*` preferred).
fn disposition_filename(value: &[u8]) -> Option<Vec<u8>> {
    let params = header_params(value);
    if let Some((_, v)) = params.iter().find(|(n, _)| n == "filename*") {
        let v = v.trim_ascii();
        let rest = v
            .strip_prefix(b"UTF-8''")
            .or_else(|| v.strip_prefix(b"utf-8''"))?;
        return Some(percent_decode(rest));
    }
    params
        .into_iter()
        .find(|(n, _)| n == "filename")
        .map(|(_, v)| v)
}

fn hostile_names_are_served_byte_identical(s: &Stack) {
    let mut failures = Vec::new();
    for name in fixture::hostile_names() {
        let rel = format!("{HOSTILE_DIR}/{name}");
        let target = format!("/download/{}", encode_path(rel.as_bytes()));
        let res = s.get(&target);
        let content = fixture::content_for(&name);
        if refused_name(s.setup, &name) {
            if res.status != 500 || res.body_contains(b"content of") {
                failures.push(format!("{name:?} must be refused with 500:\n{res:?}"));
            }
            continue;
        }
        if unreachable_name(s.setup, &name) {
            // 404, or 500 where the encoded name is too long for the file system.
            if !matches!(res.status, 404 | 500) || !res.body.is_empty() {
                failures.push(format!("{name:?} must not be found:\n{res:?}"));
            }
            continue;
        }
        if res.status != 200 || res.body != content {
            failures.push(format!("{name:?} not served byte-identical:\n{res:?}"));
            continue;
        }
        let ctype = res.header("Content-Type").unwrap_or_default();
        if !ctype.starts_with(expected_type(&name)) {
            failures.push(format!("{name:?}: Content-Type {ctype:?}"));
        }
        let disposition = res.header_bytes("Content-Disposition").unwrap_or_default();
        let base = name.rsplit('/').next().unwrap_or(&name);
        if !disposition.starts_with(b"attachment")
            || disposition_filename(disposition).as_deref() != Some(base.as_bytes())
        {
            failures.push(format!(
                "{name:?}: Content-Disposition {:?}",
                String::from_utf8_lossy(disposition)
            ));
        }
        if res.header("Content-Encoding").is_some() {
            failures.push(format!("{name:?}: Content-Encoding {res:?}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{}: {} failures:\n{}\n{}",
        s.name(),
        failures.len(),
        failures.join("\n"),
        s.logs()
    );
}

fn ranges_conditionals_and_head(s: &Stack) {
    let big = &s.fixture.big;
    let len = big.len();
    let target = "/download/public/big.bin";

    let full = s.get(target);
    assert_eq!(full.status, 200, "{full:?}");
    assert!(full.body == *big, "{}: big.bin differs", s.name());

    let single = s.send(&Request::get(target).header("Range", "bytes=10-19"));
    assert_eq!(single.status, 206, "{single:?}");
    assert_eq!(
        single.header("Content-Range").as_deref(),
        Some(format!("bytes 10-19/{len}").as_str())
    );
    assert_eq!(single.body, big[10..20]);

    let multi = s.send(&Request::get(target).header("Range", "bytes=0-9,100000-100009"));
    assert_eq!(multi.status, 206, "{multi:?}");
    let ctype = multi.header("Content-Type").unwrap_or_default();
    assert!(ctype.starts_with("multipart/byteranges"), "{multi:?}");
    let parts = multipart_parts(&ctype, &multi.body).expect("multipart body");
    assert_eq!(
        parts,
        vec![
            (format!("bytes 0-9/{len}"), big[0..10].to_vec()),
            (
                format!("bytes 100000-100009/{len}"),
                big[100_000..100_010].to_vec()
            ),
        ],
        "{}",
        s.name()
    );

    let unsatisfiable =
        s.send(&Request::get(target).header("Range", format!("bytes={}-", len + 5)));
    assert_eq!(unsatisfiable.status, 416, "{unsatisfiable:?}");

    let last_modified = full.header("Last-Modified").expect("Last-Modified");
    let ims = s.send(&Request::get(target).header("If-Modified-Since", last_modified));
    assert_eq!(ims.status, 304, "{ims:?}");
    assert!(ims.body.is_empty());

    match full.header("ETag") {
        Some(etag) => {
            assert_ne!(etag, "\"0\"", "{}: the same ETag for every file", s.name());
            let inm = s.send(&Request::get(target).header("If-None-Match", etag.clone()));
            assert_eq!(inm.status, 304, "{inm:?}");
            let other = s.send(&Request::get(target).header("If-None-Match", "\"not-it\""));
            assert_eq!(other.status, 200, "{other:?}");
            let if_range = s.send(
                &Request::get(target)
                    .header("If-Range", etag)
                    .header("Range", "bytes=0-4"),
            );
            assert_eq!(if_range.status, 206, "{if_range:?}");
        }
        None => assert_eq!(
            s.setup,
            Some(Setup::Apache),
            "only Apache is configured without ETags:\n{full:?}"
        ),
    }

    let head = s.send(&Request::head(target));
    assert_eq!(head.status, 200, "{head:?}");
    assert_eq!(head.header("Content-Length"), Some(len.to_string()));
    assert!(head.body.is_empty());
}

fn confinement_and_permissions(s: &Stack) {
    let secret_abs = s.fixture.secret.to_string_lossy().into_owned();
    let enc_abs = encode_path(secret_abs.as_bytes()).replace('/', "%2F");
    let traversals = [
        "/download/public/../../outside/secret.txt".to_owned(),
        "/download/public/%2e%2e/%2e%2e/outside/secret.txt".to_owned(),
        "/download/public/..%2F..%2Foutside%2Fsecret.txt".to_owned(),
        format!("/download/{enc_abs}"),
        format!("/download/public/{enc_abs}"),
        "/download/public/link-out.txt".to_owned(),
        "/download/public/dir-out/secret.txt".to_owned(),
        "/download/public/hostile/rel-link-out.txt".to_owned(),
        // Without the example's permission check: the library's own confinement.
        "/raw/..%2Foutside%2Fsecret.txt".to_owned(),
        "/raw/public/..%2F..%2Foutside%2Fsecret.txt".to_owned(),
        "/raw/%2e%2e/outside/secret.txt".to_owned(),
        format!("/raw/{enc_abs}"),
        "/raw/public/link-out.txt".to_owned(),
        "/raw/public/dir-out/secret.txt".to_owned(),
        "/raw/public/hostile/rel-link-out.txt".to_owned(),
    ];
    for target in &traversals {
        let res = s.get(target);
        s.check_no_secret(&res);
    }

    // The internal location and the root are not reachable directly.
    let plain = fixture::content_for("plain.txt");
    let root = s.fixture.root.to_string_lossy().into_owned();
    for target in [
        format!("/protected/{HOSTILE_DIR}/plain.txt"),
        format!("/protected//{HOSTILE_DIR}/plain.txt"),
        format!("{}/{HOSTILE_DIR}/plain.txt", encode_path(root.as_bytes())),
    ] {
        let res = s.get(&target);
        assert!(
            res.status >= 400 && !res.body_contains(&plain),
            "{}: direct request served the file:\n{res:?}",
            s.name()
        );
        if s.setup == Some(Setup::Nginx) && target.starts_with("/protected/") {
            assert_eq!(res.status, 404, "nginx internal location:\n{res:?}");
        }
    }

    // Permissions, through the proxy.
    let alice_notes = "/download/users/alice/notes.txt";
    let alice_body = std::fs::read(s.fixture.root.join("users/alice/notes.txt")).unwrap();
    let bob = s.send(&Request::get(alice_notes).basic_auth("bob", "builder"));
    assert_eq!(bob.status, 403, "{}: denied:\n{bob:?}", s.name());
    assert!(!bob.body_contains(&alice_body));
    let anonymous = s.get(alice_notes);
    assert_eq!(anonymous.status, 401, "{anonymous:?}");
    assert!(anonymous.header("WWW-Authenticate").is_some());
    let alice = s.send(&Request::get(alice_notes).basic_auth("alice", "wonderland"));
    assert_eq!(alice.status, 200, "{alice:?}");
    assert_eq!(alice.body, alice_body);

    let missing = s.get("/download/public/no-such-file.txt");
    assert_eq!(missing.status, 404, "{missing:?}");

    let index = s.send(&Request::get("/").basic_auth("alice", "wonderland"));
    assert_eq!(index.status, 200, "{index:?}");
    assert!(index.body_contains(b"/download/users/alice/notes.txt"));
}

fn run(setup: Option<Setup>) {
    if let Some(setup) = setup
        && !front::available_or_skip(setup)
    {
        return;
    }
    let stack = Stack::start(setup);
    hostile_names_are_served_byte_identical(&stack);
    ranges_conditionals_and_head(&stack);
    confinement_and_permissions(&stack);
}

#[test]
fn simple_backend_without_front_server() {
    run(None);
}

#[test]
fn nginx() {
    run(Some(Setup::Nginx));
}

#[test]
fn apache_mod_xsendfile() {
    run(Some(Setup::Apache));
}

#[test]
fn lighttpd() {
    run(Some(Setup::Lighttpd));
}

#[test]
fn caddy() {
    run(Some(Setup::Caddy));
}

#[test]
fn caddy_mod_wsgi_location() {
    run(Some(Setup::CaddyModWsgi));
}
