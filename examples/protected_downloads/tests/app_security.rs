//! The example's account, session and upload rules, attacked through the app's own routes:
//! sign-out revokes the session on the server, an expired session is refused, a cross-site
//! or `text/plain` sign-in is refused, the throttle engages, uploads are size-limited, named
//! safely and never written through a symlink, and the page carries its security headers.

use std::path::Path;
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::cookie::Cookie;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::header;
use actix_web::{App, test, web};
use protected_downloads::db::Db;
use protected_downloads::state::{AppState, Settings};
use protected_downloads::throttle::Limits;
use sendfile_actix::{Backend, SendFileConfig};

const HOST: &str = "files.example";
const ORIGIN: &str = "http://files.example";

/// The app over a fresh sample tree and an in-memory database with `settings`.
async fn start(
    root: &Path,
    settings: Settings,
) -> (
    impl Service<
        actix_http::Request,
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
    >,
    web::Data<AppState>,
) {
    protected_downloads::create_sample_tree(root).unwrap();
    let config = SendFileConfig::builder(Backend::Simple)
        .root(root)
        .build()
        .unwrap();
    let state = web::Data::new(AppState::new(Db::open_in_memory().unwrap(), settings));
    let app = test::init_service(
        App::new()
            .app_data(config)
            .app_data(state.clone())
            .configure(protected_downloads::configure),
    )
    .await;
    (app, state)
}

fn sign_in_request(name: &str, password: &str) -> test::TestRequest {
    test::TestRequest::post()
        .uri("/sign-in")
        .insert_header((header::HOST, HOST))
        .insert_header((header::ORIGIN, ORIGIN))
        .insert_header((header::CONTENT_TYPE, "application/x-www-form-urlencoded"))
        .set_payload(format!("name={name}&password={password}"))
}

fn session_cookie<B>(res: &ServiceResponse<B>) -> Option<Cookie<'static>> {
    res.response()
        .cookies()
        .find(|c| c.name() == "pd_session" && !c.value().is_empty())
        .map(Cookie::into_owned)
}

async fn sign_in(
    app: &impl Service<
        actix_http::Request,
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
    >,
    name: &str,
    password: &str,
) -> Cookie<'static> {
    let res = test::call_service(app, sign_in_request(name, password).to_request()).await;
    assert_eq!(res.status(), 303, "signing in as {name}");
    session_cookie(&res).expect("a session cookie")
}

/// `(status, body)` of `GET uri` with `cookie`.
async fn get_with(
    app: &impl Service<
        actix_http::Request,
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
    >,
    uri: &str,
    cookie: &Cookie<'static>,
) -> (u16, String) {
    let req = test::TestRequest::get()
        .uri(uri)
        .cookie(cookie.clone())
        .to_request();
    let res = test::call_service(app, req).await;
    let status = res.status().as_u16();
    let body = test::read_body(res).await;
    (status, String::from_utf8_lossy(&body).into_owned())
}

fn signed_in_as(page: &str, name: &str) -> bool {
    page.contains(&format!("Signed in as <strong>{name}</strong>"))
}

#[actix_rt::test]
async fn sign_out_ends_the_session_on_the_server() {
    let root = tempfile::tempdir().unwrap();
    let (app, state) = start(root.path(), Settings::default()).await;
    let cookie = sign_in(&app, "alice", "wonderland").await;
    let copy = cookie.clone();
    assert!(signed_in_as(&get_with(&app, "/", &cookie).await.1, "alice"));
    assert_eq!(state.db.session_count().unwrap(), 1);

    let out = test::TestRequest::post()
        .uri("/sign-out")
        .insert_header((header::HOST, HOST))
        .insert_header((header::ORIGIN, ORIGIN))
        .cookie(cookie)
        .to_request();
    assert_eq!(test::call_service(&app, out).await.status(), 303);
    // A copy of the cookie (another tab, a stolen value) no longer signs anyone in.
    let (status, page) = get_with(&app, "/", &copy).await;
    assert_eq!(status, 200);
    assert!(page.contains("<form class=\"sign-in\""), "{page}");
    let (status, _) = get_with(&app, "/download/users/alice/notes.txt", &copy).await;
    assert_eq!(status, 401);
    assert_eq!(state.db.session_count().unwrap(), 0);

    // "Sign out everywhere" ends the user's other sessions too, and nobody else's.
    let laptop = sign_in(&app, "alice", "wonderland").await;
    let phone = sign_in(&app, "alice", "wonderland").await;
    let bob = sign_in(&app, "bob", "builder").await;
    let out = test::TestRequest::post()
        .uri("/sign-out")
        .insert_header((header::HOST, HOST))
        .insert_header((header::ORIGIN, ORIGIN))
        .insert_header((header::CONTENT_TYPE, "application/x-www-form-urlencoded"))
        .cookie(laptop.clone())
        .set_payload("everywhere=1")
        .to_request();
    assert_eq!(test::call_service(&app, out).await.status(), 303);
    for c in [&laptop, &phone] {
        assert_eq!(
            get_with(&app, "/download/users/alice/notes.txt", c).await.0,
            401
        );
    }
    assert_eq!(
        get_with(&app, "/download/users/bob/notes.txt", &bob)
            .await
            .0,
        200
    );
}

#[actix_rt::test]
async fn an_expired_session_is_refused_by_the_server() {
    let root = tempfile::tempdir().unwrap();
    // Sessions that end the moment they start: the cookie is still in the browser (its
    // Max-Age is the client's business), the server refuses it.
    let (app, state) = start(
        root.path(),
        Settings {
            session_lifetime: Duration::ZERO,
            ..Settings::default()
        },
    )
    .await;
    let cookie = sign_in(&app, "alice", "wonderland").await;
    assert_eq!(state.db.session_count().unwrap(), 1);
    let (status, page) = get_with(&app, "/", &cookie).await;
    assert_eq!(status, 200);
    assert!(!signed_in_as(&page, "alice"), "{page}");
    assert_eq!(
        get_with(&app, "/download/users/alice/notes.txt", &cookie)
            .await
            .0,
        401
    );

    // The same with the default lifetime works (the test above is not vacuous).
    let root = tempfile::tempdir().unwrap();
    let (app, _) = start(root.path(), Settings::default()).await;
    let res = test::call_service(&app, sign_in_request("alice", "wonderland").to_request()).await;
    let cookie = session_cookie(&res).unwrap();
    assert_eq!(
        cookie.max_age(),
        Some(actix_web::cookie::time::Duration::hours(8))
    );
    assert!(cookie.http_only().unwrap_or(false));
    assert_eq!(cookie.same_site(), Some(actix_web::cookie::SameSite::Lax));
    assert!(signed_in_as(&get_with(&app, "/", &cookie).await.1, "alice"));
    // A made-up session id is nobody.
    let forged = Cookie::new("pd_session", "ab".repeat(32));
    assert!(!signed_in_as(
        &get_with(&app, "/", &forged).await.1,
        "alice"
    ));
}

#[actix_rt::test]
async fn a_cross_site_sign_in_is_refused() {
    let root = tempfile::tempdir().unwrap();
    let (app, state) = start(root.path(), Settings::default()).await;
    // A page on another site posting the attacker's credentials (login CSRF).
    for (name, value) in [
        ("origin", "http://evil.example"),
        ("origin", "null"),
        ("origin", "http://files.example.evil.example"),
        ("sec-fetch-site", "cross-site"),
        ("sec-fetch-site", "same-site"),
    ] {
        let mut req = test::TestRequest::post()
            .uri("/sign-in")
            .insert_header((header::HOST, HOST))
            .insert_header((header::CONTENT_TYPE, "application/x-www-form-urlencoded"))
            .set_payload("name=bob&password=builder");
        req = req.insert_header((name, value));
        let res = test::call_service(&app, req.to_request()).await;
        assert_eq!(res.status(), 403, "{name}: {value}");
        assert!(session_cookie(&res).is_none(), "{name}: {value}");
    }
    let null_same_site = test::TestRequest::post()
        .uri("/sign-in")
        .insert_header((header::CONTENT_TYPE, "application/x-www-form-urlencoded"))
        .insert_header((header::ORIGIN, "null"))
        .insert_header(("sec-fetch-site", "same-site"))
        .set_payload("name=bob&password=builder")
        .to_request();
    assert_eq!(test::call_service(&app, null_same_site).await.status(), 403);
    assert_eq!(state.db.session_count().unwrap(), 0);
    // The same form from the app's own page, and from curl (neither header), is accepted.
    let res = test::call_service(&app, sign_in_request("bob", "builder").to_request()).await;
    assert_eq!(res.status(), 303);
    let curl = test::TestRequest::post()
        .uri("/sign-in")
        .insert_header((header::CONTENT_TYPE, "application/x-www-form-urlencoded"))
        .set_payload("name=bob&password=builder")
        .to_request();
    assert_eq!(test::call_service(&app, curl).await.status(), 303);

    // Signing someone out, or uploading into their area, from another site is refused too.
    let cookie = sign_in(&app, "alice", "wonderland").await;
    let out = test::TestRequest::post()
        .uri("/sign-out")
        .insert_header((header::HOST, HOST))
        .insert_header((header::ORIGIN, "http://evil.example"))
        .cookie(cookie.clone())
        .to_request();
    assert_eq!(test::call_service(&app, out).await.status(), 403);
    assert!(signed_in_as(&get_with(&app, "/", &cookie).await.1, "alice"));
    let up = upload_request("x.txt", b"x", &cookie)
        .insert_header((header::ORIGIN, "http://evil.example"))
        .to_request();
    assert_eq!(test::call_service(&app, up).await.status(), 403);
    assert!(!root.path().join("users/alice/x.txt").exists());
}

#[actix_rt::test]
async fn a_sign_in_that_is_not_a_form_is_refused() {
    let root = tempfile::tempdir().unwrap();
    let (app, _) = start(root.path(), Settings::default()).await;
    // <form enctype="text/plain"> sends "name=alice&password=wonderland" as text/plain, with
    // no CORS preflight: it must not count as a form.
    for content_type in [
        Some("text/plain"),
        Some("text/plain; charset=utf-8"),
        Some("multipart/form-data; boundary=x"),
        Some("application/json"),
        None,
    ] {
        let mut req = test::TestRequest::post()
            .uri("/sign-in")
            .set_payload("name=alice&password=wonderland");
        if let Some(ct) = content_type {
            req = req.insert_header((header::CONTENT_TYPE, ct));
        }
        let res = test::call_service(&app, req.to_request()).await;
        assert_eq!(res.status(), 415, "{content_type:?}");
        assert!(session_cookie(&res).is_none());
    }
    let res = test::call_service(
        &app,
        test::TestRequest::post()
            .uri("/sign-in")
            .insert_header((
                header::CONTENT_TYPE,
                "application/x-www-form-urlencoded; charset=UTF-8",
            ))
            .set_payload("name=alice&password=wonderland")
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), 303);
}

#[actix_rt::test]
async fn the_sign_in_throttle_engages() {
    let root = tempfile::tempdir().unwrap();
    let (app, _) = start(root.path(), Settings::default()).await;
    let limits = Limits::default();
    let from = |ip: [u8; 4]| std::net::SocketAddr::from((ip, 40000));
    for _ in 0..limits.per_account {
        let req = sign_in_request("alice", "guess")
            .peer_addr(from([10, 0, 0, 1]))
            .to_request();
        assert_eq!(test::call_service(&app, req).await.status(), 401);
    }
    // Now even the right password is refused, from any address, with a time to wait.
    for ip in [[10, 0, 0, 1], [10, 9, 9, 9]] {
        let req = sign_in_request("alice", "wonderland")
            .peer_addr(from(ip))
            .to_request();
        let res = test::call_service(&app, req).await;
        assert_eq!(res.status(), 429);
        let wait: u64 = res
            .headers()
            .get(header::RETRY_AFTER)
            .unwrap()
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(wait > 60, "{wait}");
        assert!(session_cookie(&res).is_none());
    }
    // HTTP Basic goes through the same throttle.
    let basic = test::TestRequest::get()
        .uri("/download/users/alice/notes.txt")
        .insert_header((header::AUTHORIZATION, "Basic YWxpY2U6d29uZGVybGFuZA=="))
        .peer_addr(from([10, 9, 9, 9]))
        .to_request();
    assert_eq!(test::call_service(&app, basic).await.status(), 429);
    // Another account is not locked...
    let req = sign_in_request("bob", "builder")
        .peer_addr(from([10, 0, 0, 2]))
        .to_request();
    assert_eq!(test::call_service(&app, req).await.status(), 303);
    // ...but one address guessing many accounts is stopped.
    let mut statuses = Vec::new();
    for i in 0..limits.per_address {
        let req = sign_in_request(&format!("user{i}"), "guess")
            .peer_addr(from([10, 0, 0, 3]))
            .to_request();
        statuses.push(test::call_service(&app, req).await.status().as_u16());
    }
    assert!(statuses.iter().all(|&s| s == 401), "{statuses:?}");
    let req = sign_in_request("bob", "builder")
        .peer_addr(from([10, 0, 0, 3]))
        .to_request();
    assert_eq!(test::call_service(&app, req).await.status(), 429);
}

/// A `multipart/form-data` upload of `content` as `filename`, as the page's form sends it.
fn upload_request(filename: &str, content: &[u8], cookie: &Cookie<'static>) -> test::TestRequest {
    let boundary = "----pd-test-boundary-7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(content);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    test::TestRequest::post()
        .uri("/upload")
        .insert_header((header::HOST, HOST))
        .insert_header((
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={boundary}"),
        ))
        .cookie(cookie.clone())
        .set_payload(body)
}

/// The names in `dir`, sorted.
fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

#[actix_rt::test]
async fn an_upload_is_listed_and_served_to_its_owner_only() {
    let root = tempfile::tempdir().unwrap();
    let (app, _) = start(root.path(), Settings::default()).await;
    let alice = sign_in(&app, "alice", "wonderland").await;
    let bob = sign_in(&app, "bob", "builder").await;
    let res = test::call_service(
        &app,
        upload_request("r\u{e9}port 2026.txt", b"hello upload\n", &alice).to_request(),
    )
    .await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        std::fs::read(root.path().join("users/alice/r\u{e9}port 2026.txt")).unwrap(),
        b"hello upload\n"
    );
    let (_, page) = get_with(&app, "/", &alice).await;
    assert!(page.contains(">r\u{e9}port 2026.txt</td>"), "{page}");
    assert!(
        page.contains("href=\"/view/users/alice/r%C3%A9port%202026.txt\""),
        "{page}"
    );
    let uri = "/download/users/alice/r%C3%A9port%202026.txt";
    assert_eq!(
        get_with(&app, uri, &alice).await,
        (200, "hello upload\n".to_owned())
    );
    assert_eq!(get_with(&app, uri, &bob).await.0, 403);
    assert!(!get_with(&app, "/", &bob).await.1.contains("port 2026"));
    // A second upload under the same name does not replace the first.
    let res = test::call_service(
        &app,
        upload_request("r\u{e9}port 2026.txt", b"other", &alice).to_request(),
    )
    .await;
    assert_eq!(res.status(), 409);
    assert_eq!(
        std::fs::read(root.path().join("users/alice/r\u{e9}port 2026.txt")).unwrap(),
        b"hello upload\n"
    );
    // Anonymous uploads are refused.
    let anonymous = upload_request("a.txt", b"a", &Cookie::new("other", "x")).to_request();
    assert_eq!(test::call_service(&app, anonymous).await.status(), 401);
    assert!(
        !names_in(&root.path().join("users/alice"))
            .iter()
            .any(|n| n.starts_with('.'))
    );
}

#[actix_rt::test]
async fn an_upload_over_the_limit_is_refused_and_leaves_nothing() {
    let root = tempfile::tempdir().unwrap();
    let (app, _) = start(
        root.path(),
        Settings {
            upload_limit: 1024,
            ..Settings::default()
        },
    )
    .await;
    let alice = sign_in(&app, "alice", "wonderland").await;
    let before = names_in(&root.path().join("users/alice"));
    let res = test::call_service(
        &app,
        upload_request("big.bin", &[7; 1025], &alice).to_request(),
    )
    .await;
    assert_eq!(res.status(), 413);
    assert_eq!(names_in(&root.path().join("users/alice")), before);
    assert!(!get_with(&app, "/", &alice).await.1.contains("big.bin"));
    // At the limit it is stored.
    let res = test::call_service(
        &app,
        upload_request("big.bin", &[7; 1024], &alice).to_request(),
    )
    .await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        std::fs::metadata(root.path().join("users/alice/big.bin"))
            .unwrap()
            .len(),
        1024
    );
}

#[actix_rt::test]
async fn upload_names_that_leave_the_area_are_refused() {
    let root = tempfile::tempdir().unwrap();
    let (app, _) = start(root.path(), Settings::default()).await;
    let alice = sign_in(&app, "alice", "wonderland").await;
    for name in [
        "../bob/notes.txt",
        "../../escape.txt",
        "..",
        ".",
        "sub/dir.txt",
        "..\\escape.txt",
        ".hidden",
        "",
    ] {
        let res =
            test::call_service(&app, upload_request(name, b"evil", &alice).to_request()).await;
        assert_eq!(res.status(), 400, "{name:?}");
    }
    assert_eq!(
        std::fs::read(root.path().join("users/bob/notes.txt")).unwrap(),
        b"Bob's private notes: only bob may download this.\n"
    );
    assert!(!root.path().join("escape.txt").exists());
    assert!(!root.path().parent().unwrap().join("escape.txt").exists());
}

#[actix_rt::test]
async fn an_upload_never_writes_through_a_planted_symlink() {
    let root = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let target = outside.path().join("target.txt");
    std::fs::write(&target, b"outside\n").unwrap();
    let (app, _) = start(root.path(), Settings::default()).await;
    let alice = sign_in(&app, "alice", "wonderland").await;

    // A symlink with the upload's name, in the user's own area.
    std::os::unix::fs::symlink(&target, root.path().join("users/alice/evil.txt")).unwrap();
    let res = test::call_service(
        &app,
        upload_request("evil.txt", b"pwned", &alice).to_request(),
    )
    .await;
    assert_eq!(res.status(), 409);
    assert_eq!(std::fs::read(&target).unwrap(), b"outside\n");
    // A dangling one, pointing where a new file would be created.
    let created = outside.path().join("created.txt");
    std::os::unix::fs::symlink(&created, root.path().join("users/alice/new.txt")).unwrap();
    let res = test::call_service(
        &app,
        upload_request("new.txt", b"pwned", &alice).to_request(),
    )
    .await;
    assert_eq!(res.status(), 409);
    assert!(!created.exists());

    // The user's directory itself swapped for a symlink to another directory.
    std::fs::rename(
        root.path().join("users/alice"),
        root.path().join("users/alice-old"),
    )
    .unwrap();
    std::os::unix::fs::symlink(outside.path(), root.path().join("users/alice")).unwrap();
    let res =
        test::call_service(&app, upload_request("x.txt", b"pwned", &alice).to_request()).await;
    assert_eq!(res.status(), 500);
    assert_eq!(
        names_in(outside.path()),
        vec!["target.txt".to_owned()],
        "nothing written outside the root"
    );
    // users/ itself a symlink.
    std::fs::remove_file(root.path().join("users/alice")).unwrap();
    std::fs::rename(root.path().join("users"), root.path().join("users-old")).unwrap();
    std::os::unix::fs::symlink(outside.path(), root.path().join("users")).unwrap();
    let res =
        test::call_service(&app, upload_request("y.txt", b"pwned", &alice).to_request()).await;
    assert_eq!(res.status(), 500);
    assert_eq!(names_in(outside.path()), vec!["target.txt".to_owned()]);
    // The answer names no path.
    let body = test::read_body(res).await;
    assert!(
        !String::from_utf8_lossy(&body).contains(&*root.path().to_string_lossy()),
        "{body:?}"
    );
}

#[actix_rt::test]
async fn the_page_has_a_strict_policy() {
    let root = tempfile::tempdir().unwrap();
    let (app, _) = start(root.path(), Settings::default()).await;
    let alice = sign_in(&app, "alice", "wonderland").await;
    for cookie in [Cookie::new("none", "x"), alice] {
        let req = test::TestRequest::get()
            .uri("/")
            .cookie(cookie)
            .to_request();
        let res = test::call_service(&app, req).await;
        assert_eq!(res.status(), 200);
        let h = |name: &str| {
            res.headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_owned())
                .unwrap_or_default()
        };
        let csp = h("content-security-policy");
        for part in [
            "default-src 'none'",
            "frame-ancestors 'none'",
            "form-action 'self'",
            "base-uri 'none'",
            "img-src 'self'",
        ] {
            assert!(csp.contains(part), "{part} missing from {csp}");
        }
        assert!(!csp.contains("unsafe"), "{csp}");
        assert!(!csp.contains("script-src"), "{csp}");
        assert_eq!(h("referrer-policy"), "same-origin");
        assert_eq!(h("x-content-type-options"), "nosniff");
        assert_eq!(h("x-frame-options"), "DENY");
        assert_eq!(h("cache-control"), "no-store");
        let body = test::read_body(res).await;
        let page = String::from_utf8_lossy(&body);
        assert!(!page.contains("<script"), "{page}");
        assert!(
            !page.contains(" style=\""),
            "inline style attributes: {page}"
        );
    }
}

#[actix_rt::test]
async fn password_checks_beyond_the_concurrency_cap_are_refused() {
    let root = tempfile::tempdir().unwrap();
    // No slot at all: every password check is refused before Argon2 runs (each takes 19 MiB).
    let (app, _) = start(
        root.path(),
        Settings {
            concurrent_hashes: 0,
            ..Settings::default()
        },
    )
    .await;
    let res = test::call_service(&app, sign_in_request("alice", "wonderland").to_request()).await;
    assert_eq!(res.status(), 503);
    assert_eq!(
        res.headers()
            .get(header::RETRY_AFTER)
            .unwrap()
            .to_str()
            .unwrap(),
        "1"
    );
    assert!(session_cookie(&res).is_none());
}
