//! Signed links, checked by nginx itself (`secure_link` in the generated location, the app not
//! asked) and by the library (`SignedLinks`, backend `simple`), with one link format: every
//! link one accepts, the other accepts, with the same status and the same bytes, over the
//! hostile names, tampered, expired, moved and rebound links, `..` and encoded slashes.
//!
//! Without nginx these tests print one line and pass; with `CI=true` they fail.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use protected_downloads::deploy::APP_NAME;
use sendfile_actix::deploy::Site;
use sendfile_actix::link::LinkSigner;
use sendfile_actix::{Backend, SendFileConfig, SignedLinks};
use sendfile_e2e::app::RunningApp;
use sendfile_e2e::fixture::{self, Fixture, HOSTILE_DIR};
use sendfile_e2e::front::{self, Front, FrontConfig, Setup, render};
use sendfile_e2e::http::{Request, Response};

const SECRET: &str = "e2e-link-secret-0123456789abcdefghijklmnop";

fn signer() -> LinkSigner {
    LinkSigner::new(SECRET).expect("a valid secret")
}

/// nginx checking the links itself (the app behind it uses the `nginx` backend), and the app
/// alone checking them (`simple` backend), over the same files.
struct Checkers {
    nginx: Front,
    nginx_app: Option<RunningApp>,
    library: RunningApp,
    fixture: Fixture,
}

impl Checkers {
    fn start() -> Option<Checkers> {
        if !front::available_or_skip(Setup::Nginx) {
            return None;
        }
        let fixture = Fixture::new().expect("fixture");
        let nginx_config = SendFileConfig::builder(Backend::Nginx)
            .root(&fixture.root)
            .url("/protected")
            .build()
            .expect("config");
        let nginx_app = RunningApp::start(nginx_config, false).expect("app");
        let simple = SendFileConfig::builder(Backend::Simple)
            .root(&fixture.root)
            .build()
            .expect("config");
        let library = RunningApp::start_extended(
            simple,
            false,
            None,
            Arc::new(|cfg| {
                cfg.service(SignedLinks::new(signer()));
            }),
        )
        .expect("app");

        // The site the generator renders with signed links, with this run's values.
        let port = front::free_port().expect("port");
        let template = Site::template(&Backend::Nginx)
            .expect("nginx")
            .name(APP_NAME)
            .signed_links(&signer())
            .expect("links")
            .render();
        let root = fixture.root.to_string_lossy().into_owned();
        let vars = vec![
            ("LISTEN_HOST", "127.0.0.1".to_owned()),
            ("LISTEN_PORT", port.to_string()),
            ("APP_HOST", "127.0.0.1".to_owned()),
            ("APP_PORT", nginx_app.addr.port().to_string()),
            ("ROOT", root.clone()),
            ("URL", "/protected".to_owned()),
        ];
        let site = render(&template, &vars);
        let nginx = Front::start_edited(
            &FrontConfig {
                setup: Setup::Nginx,
                app: nginx_app.addr,
                root: fixture.root.clone(),
                dir: fixture.path().join("nginx"),
                port: Some(port),
                nosymfollow: None,
                site_extra: None,
            },
            &|_| site.clone(),
        )
        .expect("nginx");
        Some(Checkers {
            nginx,
            nginx_app: Some(nginx_app),
            library,
            fixture,
        })
    }

    /// The same request to both checkers: the two responses.
    fn both(&self, req: &Request) -> (Response, Response) {
        let n = req
            .send(self.nginx.addr)
            .unwrap_or_else(|e| panic!("{req:?}: {e}\n{}", self.nginx.logs()));
        let l = req.send(self.library.addr).expect("library");
        (n, l)
    }

    /// Both checkers answer `target` alike, with `expected` (and the file's bytes for 200).
    fn agree(&self, target: &str, expected: u16, file: Option<&str>) {
        let (n, l) = self.both(&Request::get(target));
        assert_eq!(
            n.status,
            l.status,
            "nginx and the library disagree on {target}:\n{n:?}\n{l:?}\n{}",
            self.nginx.logs()
        );
        assert_eq!(n.status, expected, "{target}:\n{n:?}\n{l:?}");
        for res in [&n, &l] {
            assert!(
                !res.body_contains(&self.fixture.secret_marker),
                "the secret outside the root leaked: {res:?}"
            );
            if expected == 200 {
                let name = file.expect("a file for 200");
                assert_eq!(res.body, fixture::content_for(name), "{target}");
                assert_eq!(
                    res.header("Referrer-Policy").as_deref(),
                    Some("no-referrer")
                );
                let disposition = res.header("Content-Disposition").unwrap_or_default();
                assert!(disposition.starts_with("attachment"), "{res:?}");
            }
        }
    }
}

fn hostile(name: &str) -> String {
    format!("{HOSTILE_DIR}/{name}")
}

fn split(link: &str) -> (&str, &str) {
    link.split_once('?').expect("a query")
}

/// A tiny deterministic generator, for the bounded random mutations.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) % below as u64) as usize
    }
}

/// What the library's own check says of `target`, as a status (200 when the file exists).
fn library_verdict(signer: &LinkSigner, target: &str, client: IpAddr) -> u16 {
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (target, None),
    };
    match signer.verify(path, query, Some(client), SystemTime::now()) {
        Ok(_) => 200,
        Err(e) => e.status(),
    }
}

#[test]
fn nginx_and_the_library_accept_and_refuse_the_same_links() {
    let Some(checkers) = Checkers::start() else {
        return;
    };
    let s = signer();
    let names = fixture::hostile_names();
    assert_eq!(names.len(), 22);
    let localhost: IpAddr = "127.0.0.1".parse().unwrap();
    let hour = Duration::from_secs(3600);
    let mut rng = Lcg(0x5eed);
    let mut checked = 0;
    for (i, name) in names.iter().enumerate() {
        let next = &names[(i + 1) % names.len()];
        let file = hostile(name);
        let valid = s.link(&file).expires_in(hour).build().unwrap();
        let (path, query) = split(&valid);
        let next_link = s.link(hostile(next)).build().unwrap();
        let next_path = split(&next_link).0;

        let mut cases: Vec<(String, u16, Option<&str>)> = vec![(valid.clone(), 200, Some(name))];
        // Tampered signature, expiry; expired; moved to another file.
        let (head, tag) = valid.rsplit_once("md5=").unwrap();
        let flipped = if tag.starts_with('A') { 'B' } else { 'A' };
        cases.push((format!("{head}md5={flipped}{}", &tag[1..]), 403, None));
        let expires: u64 = query
            .split('&')
            .find_map(|p| p.strip_prefix("expires="))
            .unwrap()
            .parse()
            .unwrap();
        cases.push((
            valid.replace(
                &format!("expires={expires}"),
                &format!("expires={}", expires + 1),
            ),
            403,
            None,
        ));
        let expired = s
            .link(&file)
            .expires_at(SystemTime::now() - Duration::from_secs(60))
            .build()
            .unwrap();
        cases.push((expired, 410, None));
        cases.push((format!("{next_path}?{query}"), 403, None));
        // `..`, `.`, encoded slashes and dots: refused whatever the signature.
        let below = path.strip_prefix("/signed/public/hostile/").unwrap();
        for bad in [
            format!("/signed/public/hostile/../hostile/{below}?{query}"),
            format!("/signed/public/./hostile/{below}?{query}"),
            format!("/signed/public%2Fhostile/{below}?{query}"),
            format!("/signed/public%2fhostile/{below}?{query}"),
            format!("/signed/public/hostile/%2E%2E/hostile/{below}?{query}"),
            format!("/signed/public//hostile/{below}?{query}"),
        ] {
            cases.push((bad, 403, None));
        }
        // A prefix link grants the directory: a sibling with the same query.
        let prefixed = s
            .link(&file)
            .prefix(HOSTILE_DIR)
            .expires_in(hour)
            .build()
            .unwrap();
        let (_, prefixed_query) = split(&prefixed);
        cases.push((prefixed.clone(), 200, Some(name)));
        cases.push((format!("{next_path}?{prefixed_query}"), 200, Some(next)));
        cases.push((
            format!("/signed/public/big.bin?{}", prefixed_query),
            403,
            None,
        ));
        // Bound to the client's address (127.0.0.1), and to another one.
        let bound = s
            .link(&file)
            .client(localhost)
            .expires_in(hour)
            .build()
            .unwrap();
        cases.push((bound, 200, Some(name)));
        let elsewhere = s
            .link(&file)
            .client("127.0.0.2".parse().unwrap())
            .expires_in(hour)
            .build()
            .unwrap();
        cases.push((elsewhere, 403, None));
        // Bounded random mutations of the signature and the expiry: whatever the outcome
        // (a change to the last character's unused bits is no change), both agree.
        for _ in 0..4 {
            let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
            let mut tag = tag.as_bytes().to_vec();
            let at = rng.next(tag.len());
            tag[at] = alphabet[rng.next(alphabet.len())];
            let mutated = format!("{head}md5={}", String::from_utf8(tag).unwrap());
            let expected = library_verdict(&s, &mutated, localhost);
            cases.push((mutated, expected, Some(name)));
            let digit = char::from(b'0' + rng.next(10) as u8);
            let mut text = expires.to_string();
            let at = rng.next(text.len());
            text.replace_range(at..=at, &digit.to_string());
            let mutated = valid.replace(&format!("expires={expires}"), &format!("expires={text}"));
            let expected = library_verdict(&s, &mutated, localhost);
            cases.push((mutated, expected, Some(name)));
        }
        for (target, expected, file) in cases {
            assert_eq!(
                library_verdict(&s, &target, localhost),
                expected,
                "{target}"
            );
            checkers.agree(&target, expected, file);
            checked += 1;
        }
    }
    assert!(checked >= 22 * 20, "{checked} requests");
    // Every checker refuses a link for a symlink that leads out of the root.
    for out in ["public/link-out.txt", "public/hostile/rel-link-out.txt"] {
        let link = s.link(out).expires_in(hour).build().unwrap();
        let (n, l) = checkers.both(&Request::get(&link));
        for res in [&n, &l] {
            assert!((400..500).contains(&res.status), "{res:?}");
            assert!(
                !res.body_contains(&checkers.fixture.secret_marker),
                "{res:?}"
            );
        }
    }
}

#[test]
fn range_head_and_conditional_requests_through_signed_links() {
    let Some(checkers) = Checkers::start() else {
        return;
    };
    let link = signer()
        .link("public/big.bin")
        .expires_in(Duration::from_secs(600))
        .build()
        .unwrap();
    let big = &checkers.fixture.big;
    let (n, l) = checkers.both(&Request::get(&link).header("Range", "bytes=100-199"));
    for res in [&n, &l] {
        assert_eq!(res.status, 206, "{res:?}");
        assert_eq!(res.body, big[100..200]);
        assert_eq!(
            res.header("Content-Range").as_deref(),
            Some(format!("bytes 100-199/{}", big.len()).as_str())
        );
    }
    let (n, l) = checkers.both(&Request::head(&link));
    for res in [&n, &l] {
        assert_eq!(res.status, 200, "{res:?}");
        assert!(res.body.is_empty());
        assert_eq!(res.header("Content-Length"), Some(big.len().to_string()));
    }
    for addr in [checkers.nginx.addr, checkers.library.addr] {
        let res = Request::get(&link).send(addr).unwrap();
        assert_eq!(res.status, 200);
        let etag = res.header("ETag").expect("an ETag");
        let last_modified = res.header("Last-Modified").expect("Last-Modified");
        for (name, value) in [
            ("If-None-Match", etag),
            ("If-Modified-Since", last_modified),
        ] {
            let again = Request::get(&link)
                .header(name, value.clone())
                .send(addr)
                .unwrap();
            assert_eq!(again.status, 304, "{name}: {value}: {again:?}");
            assert!(again.body.is_empty());
        }
    }
    // A refused link stays refused for HEAD and Range.
    let expired = signer()
        .link("public/big.bin")
        .expires_at(SystemTime::now() - Duration::from_secs(1))
        .build()
        .unwrap();
    for req in [
        Request::head(&expired),
        Request::get(&expired).header("Range", "bytes=0-9"),
    ] {
        let (n, l) = checkers.both(&req);
        assert_eq!((n.status, l.status), (410, 410), "{n:?}\n{l:?}");
    }
}

#[test]
fn nginx_serves_signed_links_with_the_app_stopped() {
    let Some(mut checkers) = Checkers::start() else {
        return;
    };
    let link = signer()
        .link(hostile("with space.txt"))
        .expires_in(Duration::from_secs(600))
        .build()
        .unwrap();
    // The app answers through nginx while it runs.
    let page = Request::get("/").send(checkers.nginx.addr).unwrap();
    assert_eq!(page.status, 200, "{page:?}");
    drop(checkers.nginx_app.take());
    let page = Request::get("/").send(checkers.nginx.addr).unwrap();
    assert_eq!(page.status, 502, "the app is stopped: {page:?}");
    let res = Request::get(&link).send(checkers.nginx.addr).unwrap();
    assert_eq!(res.status, 200, "{res:?}\n{}", checkers.nginx.logs());
    assert_eq!(res.body, fixture::content_for("with space.txt"));
    let (path, query) = split(&link);
    let moved = format!("{}?{query}", path.replace("with%20space", "plain"));
    let res = Request::get(&moved).send(checkers.nginx.addr).unwrap();
    assert_eq!(res.status, 403, "{res:?}");
}

/// The example's share action: a signed-in user gets a link to a file they may read, which
/// then works for anyone; files they may not read get no link.
#[test]
fn the_example_shares_files_its_user_may_read() {
    let fixture = Fixture::new().expect("fixture");
    let config = SendFileConfig::builder(Backend::Simple)
        .root(&fixture.root)
        .build()
        .expect("config");
    let app = RunningApp::start_extended(
        config,
        false,
        None,
        Arc::new(|cfg| protected_downloads::links::configure(signer())(cfg)),
    )
    .expect("app");
    let alice = |target: &str| {
        Request::get(target)
            .basic_auth("alice", "wonderland")
            .send(app.addr)
            .unwrap()
    };
    let page = alice("/");
    assert_eq!(page.status, 200);
    let html = String::from_utf8_lossy(&page.body).into_owned();
    assert!(
        html.contains(
            "href=\"/share/users/alice/r%C3%A9sum%C3%A9%202026.txt\">Share link (1 hour)</a>"
        ),
        "{html}"
    );
    assert!(!html.contains("/share/users/bob/"), "{html}");

    let shared = alice("/share/users/alice/r%C3%A9sum%C3%A9%202026.txt");
    assert_eq!(shared.status, 200, "{shared:?}");
    let html = String::from_utf8_lossy(&shared.body).into_owned();
    let link = html
        .split("id=\"share-link\" href=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the link on the page")
        .replace("&amp;", "&");
    assert!(link.starts_with("/signed/users/alice/r%C3%A9sum%C3%A9%202026.txt?expires="));
    // Anyone with the link, signed in or not, gets the file.
    let res = Request::get(&link).send(app.addr).unwrap();
    assert_eq!(res.status, 200, "{res:?}");
    assert_eq!(res.body, "Alice's résumé.\n".as_bytes());

    // No link to another user's file, nor for a visitor who is not signed in.
    assert_eq!(alice("/share/users/bob/notes.txt").status, 403);
    let anonymous = Request::get("/share/users/alice/notes.txt")
        .send(app.addr)
        .unwrap();
    assert_eq!(anonymous.status, 401);
    // A public file through a symlink that leads out of the root: no link.
    assert_eq!(alice("/share/public/link-out.txt").status, 404);
}
