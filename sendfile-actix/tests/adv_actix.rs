//! Adversarial tests (wt-adv) at the actix-web level.
//!
//! Tests named `finding_*` reproduce a weakness found by that pass and now fixed (each failed
//! before its fix); tests named `holds_*` are attacks that were tried and held.

#![allow(clippy::print_stderr)] // reports counts, as the measurement they are

use std::os::unix::fs::symlink;
use std::path::PathBuf;

use actix_web::dev::ServiceResponse;
use actix_web::http::StatusCode;
use actix_web::{App, HttpRequest, test, web};
use sendfile_actix::{
    Backend, DeniedStatus, ResolvedSendFile, SendFile, SendFileConfig, SendFileError,
};

struct Tree {
    _dir: tempfile::TempDir,
    base: PathBuf,
    root: PathBuf,
}

fn tree() -> Tree {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().canonicalize().unwrap();
    let root = base.join("root");
    std::fs::create_dir_all(root.join("users/bob")).unwrap();
    std::fs::create_dir_all(root.join("public")).unwrap();
    std::fs::create_dir_all(base.join("narrow/public")).unwrap();
    std::fs::write(root.join("users/bob/data.txt"), "<script>alert(1)</script>").unwrap();
    std::fs::write(root.join("public/readme.txt"), "readme").unwrap();
    std::fs::write(root.join("public/only-wide.txt"), "WIDE").unwrap();
    std::fs::write(base.join("narrow/public/readme.txt"), "narrow").unwrap();
    Tree {
        _dir: dir,
        base,
        root,
    }
}

async fn body(res: ServiceResponse) -> Vec<u8> {
    actix_web::body::to_bytes(res.into_body())
        .await
        .unwrap()
        .to_vec()
}

fn header(res: &ServiceResponse, name: &str) -> String {
    res.headers()
        .get(name)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .unwrap_or_default()
}

/// The check allows files whose *resolved* name is `.txt` (text/plain) only.
async fn only_txt(
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<ResolvedSendFile, actix_web::Error> {
    let file = SendFile::new(path.into_inner()).resolve(&req)?;
    let ok = file.relative_path().extension().is_some_and(|e| e == "txt");
    if !ok {
        return Err(SendFileError::denied_for(&req).into());
    }
    Ok(file)
}

/// F2. With links followed (the default), the name and Content-Type come from the *requested*
/// name, not the file that was checked: `public/page.html -> ../users/bob/data.txt` passes a
/// check on the resolved `users/bob/data.txt` (`.txt`), and is sent `inline` as `text/html`
/// under the name `page.html`. What the check saw (a .txt) is not what the browser renders.
#[actix_web::test]
async fn finding_type_and_name_come_from_the_link_not_the_checked_file() {
    let t = tree();
    symlink("../users/bob/data.txt", t.root.join("public/page.html")).unwrap();
    for backend in [Backend::Simple, Backend::XSendfile] {
        let config = SendFileConfig::builder(backend.clone())
            .root(&t.root)
            .build()
            .unwrap();
        let app = test::init_service(
            App::new()
                .app_data(config)
                .route("/f/{path:.*}", web::get().to(only_txt)),
        )
        .await;
        let res = test::call_service(
            &app,
            test::TestRequest::get()
                .uri("/f/public/page.html")
                .to_request(),
        )
        .await;
        assert_eq!(res.status(), StatusCode::OK, "{backend}");
        let ct = header(&res, "content-type");
        let cd = header(&res, "content-disposition");
        assert!(
            !ct.starts_with("text/html") && !cd.contains("page.html"),
            "{backend}: checked users/bob/data.txt, sent as {ct:?} / {cd:?}"
        );
    }
}

async fn serve(
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<ResolvedSendFile, SendFileError> {
    SendFile::new(path.into_inner()).resolve(&req)
}

/// Config lookup: both forms at different levels, with different configurations, fail closed
/// (500, generic body); the nearest of one form wins; resource-level and default services.
#[actix_web::test]
async fn holds_config_lookup_edge_cases() {
    let t = tree();
    let wide = SendFileConfig::builder(Backend::Simple)
        .root(&t.root)
        .build()
        .unwrap();
    let narrow = SendFileConfig::builder(Backend::Simple)
        .root(t.base.join("narrow"))
        .build()
        .unwrap();
    let app = test::init_service(
        App::new()
            .app_data(web::Data::new(wide.clone()))
            // plain at resource level, Data at App: different -> 500
            .service(
                web::resource("/r1/{path:.*}")
                    .app_data(narrow.clone())
                    .route(web::get().to(serve)),
            )
            // Data at scope, Data at App: nearest (narrow)
            .service(
                web::scope("/s2")
                    .app_data(web::Data::new(narrow.clone()))
                    .route("/{path:.*}", web::get().to(serve)),
            )
            // nested scopes, plain at the inner one, Data at App: 500
            .service(
                web::scope("/s3").service(
                    web::scope("/in")
                        .app_data(narrow.clone())
                        .route("/{path:.*}", web::get().to(serve)),
                ),
            )
            // scope with a default service and a plain narrow config: 500 (App has Data)
            .service(
                web::scope("/s4")
                    .app_data(narrow.clone())
                    .default_service(web::to(|req: HttpRequest| async move {
                        SendFile::new("public/only-wide.txt").into_response(&req)
                    })),
            )
            // same config in both forms: OK
            .service(
                web::scope("/s5")
                    .app_data(wide.clone())
                    .route("/{path:.*}", web::get().to(serve)),
            )
            // a variant of the wide config (follow_symlinks changed) in the other form: 500
            .service(
                web::scope("/s6")
                    .app_data(
                        SendFileConfig::builder(Backend::Simple)
                            .root(&t.root)
                            .follow_symlinks(false)
                            .build()
                            .unwrap(),
                    )
                    .route("/{path:.*}", web::get().to(serve)),
            ),
    )
    .await;
    let mut n = 0;
    for (uri, status, text) in [
        ("/r1/public/readme.txt", 500, None),
        ("/r1/public/only-wide.txt", 500, None),
        ("/s2/public/readme.txt", 200, Some("narrow")),
        ("/s2/public/only-wide.txt", 404, None),
        ("/s3/in/public/only-wide.txt", 500, None),
        ("/s4/anything", 500, None),
        ("/s5/public/only-wide.txt", 200, Some("WIDE")),
        ("/s6/public/only-wide.txt", 500, None),
    ] {
        n += 1;
        let res = test::call_service(&app, test::TestRequest::get().uri(uri).to_request()).await;
        assert_eq!(res.status().as_u16(), status, "{uri}");
        let b = body(res).await;
        if let Some(text) = text {
            assert_eq!(b, text.as_bytes(), "{uri}");
        } else {
            let s = String::from_utf8_lossy(&b);
            assert!(
                !s.contains('/') && !s.contains("SENDFILE") && s.len() < 40,
                "{uri}: body {s:?}"
            );
        }
    }
    eprintln!("{n} requests");
}

/// Resolve, then replace the file (rename over it, and a symlink swap) before the response is
/// built: the simple backend sends the bytes checked, the offload backend names the path checked.
#[actix_web::test]
async fn holds_replace_between_resolve_and_respond() {
    let t = tree();
    std::fs::write(t.root.join("public/swap.txt"), "CHECKED").unwrap();
    std::fs::write(t.root.join("public/other.txt"), "OTHER").unwrap();
    let root = t.root.clone();
    let handler = move |req: HttpRequest| {
        let root = root.clone();
        async move {
            let file = SendFile::new("public/swap.txt").resolve(&req)?;
            // Swap after the check: first a rename over it, then a symlink to Bob's file.
            std::fs::rename(root.join("public/other.txt"), root.join("public/swap.txt")).unwrap();
            std::fs::remove_file(root.join("public/swap.txt")).unwrap();
            symlink("../users/bob/data.txt", root.join("public/swap.txt")).unwrap();
            Ok::<_, SendFileError>(file)
        }
    };
    let config = SendFileConfig::builder(Backend::Simple)
        .root(&t.root)
        .build()
        .unwrap();
    let app = test::init_service(
        App::new()
            .app_data(config)
            .route("/x", web::get().to(handler)),
    )
    .await;
    let res = test::call_service(&app, test::TestRequest::get().uri("/x").to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(body(res).await, b"CHECKED");
}

/// Conditional and range edge cases on the simple backend.
#[actix_web::test]
async fn holds_conditional_edge_cases() {
    let t = tree();
    let config = SendFileConfig::builder(Backend::Simple)
        .root(&t.root)
        .build()
        .unwrap();
    let app = test::init_service(
        App::new()
            .app_data(config)
            .route("/f/{path:.*}", web::get().to(serve)),
    )
    .await;
    let mut n = 0;
    for (headers, status) in [
        (vec![("if-match", "")], 412),
        (vec![("if-match", ",")], 412),
        (vec![("if-match", " , ")], 412),
        (vec![("if-match", "W/\"x\"")], 412),
        (vec![("if-match", "\"")], 412),
        (vec![("if-match", "*")], 200),
        (vec![("if-range", ""), ("range", "bytes=0-0")], 200),
        (vec![("if-range", "garbage"), ("range", "bytes=0-0")], 200),
        (vec![("if-range", "W/\"x\""), ("range", "bytes=0-0")], 200),
        (vec![("range", "bytes=0-0")], 206),
        (vec![("range", "bytes=-0")], 416),
        (vec![("range", "bytes=5-1")], 200),
        (vec![("range", "bytes=99999-")], 416),
        (vec![("if-none-match", "*")], 304),
        (vec![("if-unmodified-since", "garbage")], 200),
    ] {
        n += 1;
        let mut req = test::TestRequest::get().uri("/f/public/readme.txt");
        for (k, v) in &headers {
            req = req.insert_header((*k, *v));
        }
        let res = test::call_service(&app, req.to_request()).await;
        assert_eq!(res.status().as_u16(), status, "{headers:?}");
    }
    eprintln!("{n} cases");
}

/// Error responses never carry a filesystem path or a setting, in the body or any header.
#[actix_web::test]
async fn holds_no_path_in_error_responses() {
    let t = tree();
    std::fs::write(t.root.join("public/q?.txt"), "q").unwrap();
    let gone = t.base.join("gone");
    std::fs::create_dir(&gone).unwrap();
    // Settings that cannot serve are refused when built, naming the setting (start-up, never a
    // response): a missing URL, a dangerous root, a relative root that is not there.
    for (settings, setting) in [
        (
            SendFileConfig::builder(Backend::Nginx).root(&t.root),
            "SENDFILE_URL",
        ),
        (
            SendFileConfig::builder(Backend::Simple).root("/proc"),
            "SENDFILE_ROOT",
        ),
        (
            SendFileConfig::builder(Backend::Simple).root("relative/nowhere"),
            "SENDFILE_ROOT",
        ),
    ] {
        assert_eq!(settings.build().unwrap_err().setting, setting);
    }
    let configs = [
        SendFileConfig::builder(Backend::Simple)
            .root(&t.root)
            .build()
            .unwrap(),
        SendFileConfig::builder(Backend::Caddy)
            .root(&t.root)
            .url("/p")
            .build()
            .unwrap(),
        // A root that goes away after start-up: 503s.
        SendFileConfig::builder(Backend::Simple)
            .root(&gone)
            .build()
            .unwrap(),
    ];
    std::fs::remove_dir(&gone).unwrap();
    let secret = t.base.to_string_lossy().into_owned();
    let mut n = 0;
    let mut config_errors = 0;
    for config in configs {
        let app = test::init_service(
            App::new()
                .app_data(config)
                .route("/f/{path:.*}", web::get().to(serve))
                // A per-request backend the configuration cannot serve (no URL for nginx): the
                // request-time configuration error, 500.
                .route(
                    "/o/{path:.*}",
                    web::get().to(|req: HttpRequest, path: web::Path<String>| async move {
                        SendFile::new(path.into_inner())
                            .backend(Backend::Nginx)
                            .resolve(&req)
                    }),
                ),
        )
        .await;
        for uri in [
            "/o/public/readme.txt",
            "/o/../../etc/passwd",
            "/f/../../etc/passwd",
            "/f/%2e%2e/%2e%2e/etc/passwd",
            "/f/public",
            "/f/public/missing",
            "/f/public/q%3F.txt",
            "/f/a%00b",
            "/f/%2Fetc%2Fpasswd",
            "/f/public/readme.txt%0d%0aX-Evil:%201",
        ] {
            n += 1;
            let res =
                test::call_service(&app, test::TestRequest::get().uri(uri).to_request()).await;
            let status = res.status();
            let headers: Vec<String> = res
                .headers()
                .iter()
                .map(|(k, v)| format!("{k}: {}", String::from_utf8_lossy(v.as_bytes())))
                .collect();
            let b = String::from_utf8_lossy(&body(res).await).into_owned();
            if status.is_success() {
                continue;
            }
            if uri.starts_with("/o/") && status == 500 {
                config_errors += 1;
            }
            for text in headers.iter().chain([&b]) {
                assert!(
                    !text.contains(&secret)
                        && !text.contains("SENDFILE")
                        && !text.contains("/proc"),
                    "{uri} {status}: {text}"
                );
                assert!(
                    !text.to_ascii_lowercase().contains("x-evil"),
                    "{uri}: {text}"
                );
            }
        }
    }
    eprintln!("{n} requests");
    // The simple configurations have no URL: nginx per request is their configuration error.
    assert_eq!(config_errors, 4);
}

/// A `denied_status` that is not an error status cannot be made (`DeniedStatus` refuses it), so
/// no app, whether it calls `validate` or not, answers a denied download with `200 OK`.
#[actix_web::test]
async fn finding_denied_status_200_without_validate_answers_a_denial_with_200() {
    let t = tree();
    // A success status cannot even be made a DeniedStatus (validate() used to refuse it).
    assert!(DeniedStatus::new(StatusCode::OK).is_err());
    let config = SendFileConfig::builder(Backend::Simple)
        .root(&t.root)
        .build()
        .unwrap();
    let app = test::init_service(App::new().app_data(config).route(
        "/f/{path:.*}",
        web::get().to(|req: HttpRequest| async move {
            Err::<ResolvedSendFile, _>(SendFileError::denied_for(&req))
        }),
    ))
    .await;
    let res = test::call_service(
        &app,
        test::TestRequest::get()
            .uri("/f/users/bob/data.txt")
            .to_request(),
    )
    .await;
    assert!(
        res.status().is_client_error(),
        "a denial answered {}",
        res.status()
    );
}
