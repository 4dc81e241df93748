//! Files in an S3 bucket, end to end against a real store that verifies SigV4 signatures
//! (`s3s-fs` on a free loopback port): through nginx (`X-Accel-Redirect` to an internal
//! location that proxies to the store, the shipped `deploy/nginx/site-s3.conf`) and through
//! the `redirect` backend, followed by a client.
//!
//! Without s3s-fs or nginx these tests print one line and pass; with `CI=true` they fail.

use std::time::{Duration, SystemTime};

use sendfile_actix::SendFileConfig;
use sendfile_core::disposition::{DispositionType, content_disposition, content_type_for};
use sendfile_core::object::{PresignMethod, PresignRequest, Presigner};
use sendfile_e2e::app::RunningApp;
use sendfile_e2e::fixture::{HOSTILE_DIR, content_for, hostile_names};
use sendfile_e2e::front::{self, Front, FrontConfig, Setup};
use sendfile_e2e::http::{Request, Response, encode_path};
use sendfile_e2e::store::{self, Store, split_url};

/// The key prefix the app serves from: the bucket's equivalent of the root.
const PREFIX: &str = "files/";

/// Everything a test needs, torn down in order on drop (server, app, store, files).
struct S3Stack {
    front: Option<Front>,
    app: RunningApp,
    store: Store,
    big: Vec<u8>,
    secret_marker: Vec<u8>,
    _dir: tempfile::TempDir,
}

impl S3Stack {
    /// The store with the test objects, and the app configured from `SENDFILE_*` settings for
    /// `backend` (`nginx`: behind the shipped nginx configuration). `None`: skipped.
    fn start(backend: &str) -> Option<S3Stack> {
        let binary = store::available_or_skip()?;
        if backend == "nginx" && !front::available_or_skip(Setup::NginxS3) {
            return None;
        }
        let dir = tempfile::Builder::new()
            .prefix("sendfile-s3-")
            .tempdir()
            .expect("temporary directory");
        let store =
            Store::start(&binary, &dir.path().join("data"), dir.path()).expect("starting s3s-fs");
        store.create_bucket().expect("bucket");
        for name in object_names() {
            let key = format!("{PREFIX}{HOSTILE_DIR}/{name}");
            store.upload(&key, &content_for(&name)).expect("upload");
        }
        let big: Vec<u8> = (0..200_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
            .collect();
        store
            .put(&format!("{PREFIX}public/big.bin"), &big)
            .expect("upload");
        // Outside the prefix: never to be served.
        let secret_marker = format!("BUCKET-SECRET-{}", std::process::id()).into_bytes();
        store.put("secret.txt", &secret_marker).expect("upload");
        store
            .put("files-other/x.txt", &secret_marker)
            .expect("upload");

        let mut settings = store.settings(PREFIX);
        settings.push(("SENDFILE_BACKEND", backend.to_owned()));
        settings.push(("SENDFILE_URL", "/protected".to_owned()));
        settings.push(("SENDFILE_S3_EXPIRES", "30".to_owned()));
        let config = SendFileConfig::from_lookup(|name| {
            settings
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.clone())
        })
        .expect("configuration from SENDFILE_S3_* settings");
        let app = RunningApp::start(config, true).expect("app");
        let front = (backend == "nginx").then(|| {
            Front::start_with(
                &FrontConfig {
                    setup: Setup::NginxS3,
                    app: app.addr,
                    root: dir.path().join("no-root"),
                    dir: dir.path().join("nginx"),
                    port: None,
                    nosymfollow: None,
                    site_extra: None,
                },
                &[
                    ("S3_HOST", store.addr.to_string()),
                    ("S3_SCHEME", "http".to_owned()),
                ],
            )
            .unwrap_or_else(|e| panic!("starting nginx: {e}"))
        });
        Some(S3Stack {
            front,
            app,
            store,
            big,
            secret_marker,
            _dir: dir,
        })
    }

    fn logs(&self) -> String {
        let nginx = self.front.as_ref().map(Front::logs).unwrap_or_default();
        format!("{nginx}\n--- s3s-fs\n{}", self.store.logs())
    }

    /// Sends `req` to nginx (or the app), and checks that nothing of the offload or of the
    /// store's own headers reached the client.
    fn send(&self, req: &Request) -> Response {
        let addr = self.front.as_ref().map_or(self.app.addr, |f| f.addr);
        let res = req
            .send(addr)
            .unwrap_or_else(|e| panic!("{req:?}: {e}\n{}", self.logs()));
        if self.front.is_some() {
            assert!(
                res.header("X-Accel-Redirect").is_none(),
                "X-Accel-Redirect reached the client:\n{res:?}"
            );
            assert!(
                !res.headers
                    .iter()
                    .any(|(n, _)| n.to_ascii_lowercase().starts_with("x-amz-")),
                "a store header reached the client:\n{res:?}"
            );
        }
        assert!(
            !res.body_contains(&self.secret_marker),
            "an object outside the prefix leaked:\n{res:?}"
        );
        res
    }

    /// Follows a redirect from the app to the store, as a browser does: same method, the
    /// `Location` sent as given.
    fn follow(&self, res: &Response, method: &str, extra: &[(&str, &str)]) -> Response {
        assert_eq!(res.status, 307, "expected a redirect:\n{res:?}");
        let location = res.header("Location").expect("Location");
        let (addr, target) = split_url(&location).expect("store URL");
        assert_eq!(
            addr, self.store.addr,
            "redirect to another host: {location}"
        );
        let mut req = Request::new(method, target);
        for (n, v) in extra {
            req = req.header(n, *v);
        }
        req.send(addr)
            .unwrap_or_else(|e| panic!("{location}: {e}\n{}", self.logs()))
    }
}

/// The hostile names of the local tests, with the 250-byte single segments split in two
/// (s3s-fs keeps an object as a file named after the key's last segment, plus a metadata
/// file named after the base64 of the key). The keys stay well above 200 bytes.
fn object_names() -> Vec<String> {
    let mut names: Vec<String> = hostile_names()
        .into_iter()
        .filter(|n| n.len() < 200)
        .collect();
    names.push(format!(
        "long-{}/{}.txt",
        "x".repeat(170),
        "\u{e9}".repeat(85)
    ));
    names.push(format!(
        "{} \u{1F389}/{}.txt",
        "\u{fc}".repeat(80),
        "y".repeat(150)
    ));
    // 800 bytes of two-byte characters: X-Accel-Redirect is then over 4 KB (each byte is
    // `%25XX` once escaped twice), above nginx's default proxy_buffer_size.
    let segment = "\u{e9}".repeat(100);
    names.push(format!("{segment}/{segment}/{segment}/{segment}.txt"));
    assert!(names.iter().filter(|n| n.len() > 300).count() == 3);
    names
}

fn raw_target(name: &str) -> String {
    format!(
        "/raw/{}",
        encode_path(format!("{HOSTILE_DIR}/{name}").as_bytes())
    )
}

fn no_store_error_body(res: &Response) {
    for needle in [
        &b"<?xml"[..],
        b"<Error",
        b"NoSuchKey",
        b"SignatureDoesNotMatch",
    ] {
        assert!(
            !res.body_contains(needle),
            "the store's error body reached the client:\n{res:?}"
        );
    }
}

/// The disposition of a file asked for inline: an attachment unless its type is passive (the
/// content policy).
fn policy_kind(file_name: &str) -> DispositionType {
    let content_type = content_type_for(std::path::Path::new(file_name));
    if sendfile_actix::policy::is_passive(&content_type) {
        DispositionType::Inline
    } else {
        DispositionType::Attachment
    }
}

/// Hostile keys (spaces, `%`, `?`, `#`, `+`, quotes, unicode, emoji, 250-byte names) come out
/// byte-exact through nginx, with the app's Content-Type and Content-Disposition.
#[test]
fn nginx_serves_hostile_keys_byte_exact() {
    let Some(stack) = S3Stack::start("nginx") else {
        return;
    };
    for name in object_names() {
        let res = stack.send(&Request::get(raw_target(&name)));
        assert_eq!(res.status, 200, "{name:?}:\n{res:?}\n{}", stack.logs());
        assert_eq!(res.body, content_for(&name), "{name:?}:\n{res:?}");
        let file_name = name.rsplit('/').next().unwrap_or(&name);
        assert_eq!(
            res.header("Content-Disposition").as_deref(),
            Some(content_disposition(policy_kind(file_name), file_name).as_str()),
            "{name:?}: the app's Content-Disposition, once:\n{res:?}"
        );
        let dispositions = res
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("Content-Disposition"))
            .count();
        assert_eq!(dispositions, 1, "{res:?}");
        let expected_type = if name.ends_with(".pdf") {
            "application/pdf"
        } else if name.ends_with(".html") {
            "text/html"
        } else if name.ends_with(".txt") {
            "text/plain"
        } else {
            "application/octet-stream"
        };
        let content_type = res.header("Content-Type").unwrap_or_default();
        assert!(
            content_type.starts_with(expected_type),
            "{name:?}: the app's Content-Type, not the store's:\n{res:?}"
        );
    }
    // The download route of the example, with its permission check, and a download name.
    let res = stack.send(&Request::get("/download/public/hostile/plain.txt"));
    assert_eq!(res.status, 200, "{res:?}");
    assert!(
        res.header("Content-Disposition")
            .unwrap_or_default()
            .starts_with("attachment")
    );
    let res = stack.send(&Request::get("/download/users/alice/notes.txt"));
    assert_eq!(res.status, 401, "{res:?}");
}

/// Single and multiple ranges, HEAD and conditional requests are answered by the store
/// through nginx.
#[test]
fn nginx_ranges_head_and_conditionals() {
    let Some(stack) = S3Stack::start("nginx") else {
        return;
    };
    let big = "/raw/public/big.bin";
    let res = stack.send(&Request::get(big).header("Range", "bytes=100-199"));
    assert_eq!(res.status, 206, "{res:?}\n{}", stack.logs());
    assert_eq!(res.body, &stack.big[100..200]);
    assert_eq!(
        res.header("Content-Range").as_deref(),
        Some("bytes 100-199/200000")
    );
    let res = stack.send(&Request::get(big).header("Range", "bytes=-5"));
    assert_eq!(res.status, 206, "{res:?}");
    assert_eq!(res.body, &stack.big[199_995..]);

    // Several ranges: the store answers one range per request (s3s refuses several, 400,
    // which would be a 502), so the shipped configuration asks it for the whole object; nginx
    // cuts only single ranges from a proxied stream, so the answer is the whole object, 200,
    // as RFC 9110 allows. Never an error, never wrong bytes.
    let res = stack.send(&Request::get(big).header("Range", "bytes=0-9,1000-1009"));
    assert_eq!(
        res.status,
        200,
        "multiple ranges:\n{res:?}\n{}",
        stack.logs()
    );
    assert!(res.body == stack.big, "multiple ranges: the whole object");
    let res = stack.send(&Request::get(big).header("Range", "bytes=5-4,0-0"));
    assert!(matches!(res.status, 200 | 206 | 416), "{res:?}");

    // HEAD needs a HEAD signature: with a GET one the store would refuse it.
    let res = stack.send(&Request::head(big));
    assert_eq!(res.status, 200, "{res:?}\n{}", stack.logs());
    assert_eq!(res.header("Content-Length").as_deref(), Some("200000"));
    assert!(res.body.is_empty());

    // Validators come from the store and are honoured by it (If-Range with the store's ETag).
    let full = stack.send(&Request::get(big));
    assert_eq!(full.status, 200);
    assert_eq!(full.body, stack.big);
    if let Some(etag) = full.header("ETag") {
        let res = stack.send(
            &Request::get(big)
                .header("Range", "bytes=0-9")
                .header("If-Range", etag.clone()),
        );
        assert_eq!(res.status, 206, "If-Range with the current ETag:\n{res:?}");
        assert_eq!(res.body, &stack.big[0..10]);
        let res = stack.send(
            &Request::get(big)
                .header("Range", "bytes=0-9")
                .header("If-Range", "\"another\""),
        );
        assert!(matches!(res.status, 200 | 206), "{res:?}");
        if res.status == 200 {
            assert_eq!(res.body, stack.big);
        }
    }
}

/// A missing object is a plain 404 (no XML from the store), the internal location is refused
/// when asked directly, even with a valid signature, and a key outside the prefix is refused
/// by the library before anything is signed.
#[test]
fn nginx_refusals() {
    let Some(stack) = S3Stack::start("nginx") else {
        return;
    };
    let res = stack.send(&Request::get(
        "/raw/public/no such object.txt".replace(' ', "%20"),
    ));
    assert_eq!(res.status, 404, "{res:?}\n{}", stack.logs());
    no_store_error_body(&res);
    let res = stack.send(&Request::head("/raw/public/missing.txt"));
    assert_eq!(res.status, 404, "{res:?}");

    // The internal location, asked directly, with a freshly signed URL: 404 from nginx.
    let presigner = stack.store.presigner();
    let url = presigner
        .presign(&PresignRequest::new(
            PresignMethod::Get,
            "files/public/big.bin",
            Duration::from_secs(60),
        ))
        .expect("presign");
    for target in [
        format!("/protected{}?{}", url.path(), url.query()),
        format!("/protected{}", url.path()),
        "/protected/protected/secret.txt".to_owned(),
    ] {
        let res = stack.send(&Request::get(&target));
        assert_eq!(res.status, 404, "{target}:\n{res:?}");
        assert!(
            res.body.len() < 1000 && !res.body_contains(&stack.big[..64]),
            "{res:?}"
        );
    }

    // Keys outside the prefix: refused by the library (404 from the app, nothing signed).
    let before = stack.app.stats.not_found();
    let outside = [
        "/raw/..%2Fsecret.txt",
        "/raw/public/..%2F..%2Fsecret.txt",
        "/raw/%2Fsecret.txt",
        "/raw/..%2Ffiles-other%2Fx.txt",
        "/raw/public%2F%2Fbig.bin",
        "/raw/public/%2E%2E/%2E%2E/secret.txt",
    ];
    for target in outside {
        let res = stack.send(&Request::get(target));
        assert!((400..500).contains(&res.status), "{target}:\n{res:?}");
        no_store_error_body(&res);
    }
    assert!(
        stack.app.stats.not_found() > before,
        "the app itself refused the keys outside the prefix"
    );
    assert_eq!(stack.app.stats.other(), 0, "no 5xx from the app");
}

/// The store itself refuses what the library did not sign for: an expired URL, a tampered
/// signature, a tampered key, another method, no signature at all.
#[test]
fn the_store_refuses_expired_tampered_and_wrong_method_urls() {
    let Some(binary) = store::available_or_skip() else {
        return;
    };
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = Store::start(&binary, &dir.path().join("data"), dir.path()).expect("s3s-fs");
    store.create_bucket().expect("bucket");
    store
        .put("files/a b?#%.txt", b"the object")
        .expect("upload");
    store
        .put("files/other.txt", b"another object")
        .expect("upload");
    let presigner = store.presigner();
    let sign = |method, at: SystemTime, expires| {
        let mut req = PresignRequest::new(method, "files/a b?#%.txt", Duration::from_secs(expires));
        req.at = at;
        presigner.presign(&req).expect("presign").to_string()
    };
    let now = SystemTime::now();
    let get = |url: &str, method: &str| store.send_url(method, url, Vec::new()).expect("request");

    let valid = sign(PresignMethod::Get, now, 60);
    let res = get(&valid, "GET");
    assert_eq!(res.status, 200, "{res:?}\n{}", store.logs());
    assert_eq!(res.body, b"the object");
    let res = get(&sign(PresignMethod::Head, now, 60), "HEAD");
    assert_eq!(res.status, 200, "{res:?}");

    let expired = sign(PresignMethod::Get, now - Duration::from_secs(3600), 60);
    let mut tampered = valid.clone();
    let last = tampered.pop().expect("signature");
    tampered.push(if last == '0' { '1' } else { '0' });
    let other_key = valid.replace("a%20b%3F%23%25.txt", "other.txt");
    assert_ne!(other_key, valid);
    let unsigned = valid.split('?').next().unwrap_or_default().to_owned();
    for (what, url, method) in [
        ("expired", expired.as_str(), "GET"),
        ("tampered signature", tampered.as_str(), "GET"),
        ("another key", other_key.as_str(), "GET"),
        ("GET signature used for HEAD", valid.as_str(), "HEAD"),
        ("unsigned", unsigned.as_str(), "GET"),
    ] {
        let res = get(url, method);
        assert_eq!(res.status, 403, "{what}: {res:?}");
        assert!(!res.body_contains(b"the object") && !res.body_contains(b"another object"));
    }
}

/// The redirect backend: 307 to a presigned URL with the name and type signed in, not
/// cacheable; a client following it gets every hostile key byte-exact, ranges, HEAD; a
/// tampered link is refused by the store; a key outside the prefix is refused by the library.
#[test]
fn redirect_followed_by_a_client() {
    let Some(stack) = S3Stack::start("redirect") else {
        return;
    };
    for name in object_names() {
        let res = stack.send(&Request::get(raw_target(&name)));
        assert_eq!(res.status, 307, "{name:?}:\n{res:?}");
        assert_eq!(
            res.header("Cache-Control").as_deref(),
            Some("private, no-store")
        );
        assert!(res.body.is_empty());
        let location = res.header("Location").unwrap_or_default();
        assert!(location.contains("X-Amz-Expires=30&"), "{location}");
        assert!(!location.contains(store::SECRET_KEY), "{location}");
        let got = stack.follow(&res, "GET", &[]);
        assert_eq!(got.status, 200, "{name:?}:\n{got:?}\n{}", stack.logs());
        assert_eq!(got.body, content_for(&name), "{name:?}");
        assert_eq!(
            res.header("X-Content-Type-Options").as_deref(),
            Some("nosniff")
        );
        let file_name = name.rsplit('/').next().unwrap_or(&name);
        // The content policy is signed in: active and unknown types are attachments.
        assert_eq!(
            got.header("Content-Disposition").as_deref(),
            Some(content_disposition(policy_kind(file_name), file_name).as_str()),
            "{name:?}: the download name is signed into the URL:\n{got:?}"
        );
    }
    let res = stack.send(&Request::get("/download/public/hostile/report.pdf"));
    let got = stack.follow(&res, "GET", &[]);
    assert_eq!(got.status, 200, "{got:?}");
    assert_eq!(
        got.header("Content-Type").as_deref(),
        Some("application/pdf")
    );
    assert!(
        got.header("Content-Disposition")
            .unwrap_or_default()
            .starts_with("attachment")
    );

    let big = "/raw/public/big.bin";
    let res = stack.send(&Request::get(big));
    let got = stack.follow(&res, "GET", &[("Range", "bytes=10-19")]);
    assert_eq!(got.status, 206, "{got:?}");
    assert_eq!(got.body, &stack.big[10..20]);
    let res = stack.send(&Request::head(big));
    let got = stack.follow(&res, "HEAD", &[]);
    assert_eq!(
        got.status, 200,
        "HEAD follows with a HEAD signature:\n{got:?}"
    );
    assert_eq!(got.header("Content-Length").as_deref(), Some("200000"));

    // A tampered link: refused by the store.
    let res = stack.send(&Request::get(big));
    let mut location = res.header("Location").unwrap_or_default();
    let last = location.pop().expect("signature");
    location.push(if last == 'a' { 'b' } else { 'a' });
    let (addr, target) = split_url(&location).expect("URL");
    let got = Request::get(target).send(addr).expect("request");
    assert_eq!(got.status, 403, "{got:?}");
    assert!(!got.body_contains(&stack.big[..64]));

    // Outside the prefix: refused before anything is signed.
    for target in [
        "/raw/..%2Fsecret.txt",
        "/raw/%2Fsecret.txt",
        "/raw/..%2Ffiles-other%2Fx.txt",
    ] {
        let res = stack.send(&Request::get(target));
        assert_eq!(res.status, 404, "{target}:\n{res:?}");
        assert!(res.header("Location").is_none());
    }
}

/// An uploader's headers stored with the object (a year of public caching, a language, user
/// metadata naming the uploader) never reach the client through the generated nginx site: the
/// app's `Cache-Control: private` and the content policy do.
#[test]
fn nginx_hides_what_the_store_says_about_the_object() {
    let Some(stack) = S3Stack::start("nginx") else {
        return;
    };
    stack
        .store
        .put_with_headers(
            &format!("{PREFIX}public/shared.txt"),
            b"shared",
            &[
                ("Cache-Control", "public, max-age=31536000"),
                ("Content-Language", "fr"),
                ("Expires", "Thu, 01 Jan 2099 00:00:00 GMT"),
            ],
        )
        .expect("upload with headers");
    // What the store itself answers: the headers are there to hide.
    let direct = stack
        .store
        .get(&format!("{PREFIX}public/shared.txt"))
        .expect("GET from the store");
    assert_eq!(
        direct.header("Cache-Control").as_deref(),
        Some("public, max-age=31536000"),
        "{direct:?}"
    );
    assert_eq!(direct.header("Content-Language").as_deref(), Some("fr"));
    for req in [
        Request::get("/raw/public/shared.txt"),
        Request::head("/raw/public/shared.txt"),
        Request::get("/raw/public/shared.txt").header("Range", "bytes=1-3"),
    ] {
        let res = stack.send(&req);
        assert!(matches!(res.status, 200 | 206), "{res:?}\n{}", stack.logs());
        assert_eq!(
            res.headers
                .iter()
                .filter(|(n, _)| n.eq_ignore_ascii_case("Cache-Control"))
                .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
                .collect::<Vec<_>>(),
            vec!["private".to_owned()],
            "{res:?}"
        );
        assert_eq!(res.header("Content-Language"), None, "{res:?}");
        assert_eq!(res.header("Expires"), None, "{res:?}");
        assert_eq!(
            res.header("X-Content-Type-Options").as_deref(),
            Some("nosniff")
        );
        assert_eq!(
            res.header("Content-Security-Policy").as_deref(),
            Some(sendfile_actix::policy::SANDBOX)
        );
    }
}
