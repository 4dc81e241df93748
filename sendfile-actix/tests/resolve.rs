//! `SendFile::resolve` and `ResolvedSendFile`: what a permission check sees is what is sent;
//! symlinks refused on request; a root that changes or disappears under a running app.

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::dev::ServiceResponse;
use actix_web::http::StatusCode;
use actix_web::{App, HttpRequest, test, web};
use sendfile_actix::test::assert_offload;
use sendfile_actix::{
    Backend, DeniedStatus, ResolvedSendFile, SendFile, SendFileConfig, SendFileError,
};

/// `public/`, `users/alice/notes.txt`, and the link `public/link -> ../users/alice/notes.txt`.
struct Tree {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

fn tree() -> Tree {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap().join("root");
    std::fs::create_dir_all(root.join("users/alice")).unwrap();
    std::fs::create_dir_all(root.join("public")).unwrap();
    std::fs::write(root.join("users/alice/notes.txt"), "alice's notes").unwrap();
    std::fs::write(root.join("public/readme.txt"), "readme").unwrap();
    symlink("../users/alice/notes.txt", root.join("public/link")).unwrap();
    Tree { _dir: dir, root }
}

/// What the handler's check saw, per request.
static SEEN: Mutex<Vec<(PathBuf, PathBuf, PathBuf)>> = Mutex::new(Vec::new());

/// Allows only `public/...`, judged on the resolved file.
async fn public_only(
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<ResolvedSendFile, actix_web::Error> {
    let file = SendFile::new(path.into_inner())
        .attachment()
        .resolve(&req)?;
    SEEN.lock().unwrap().push((
        file.requested_path().to_owned(),
        file.relative_path().to_owned(),
        file.path().to_owned(),
    ));
    if !file.relative_path().starts_with("public") {
        return Err(SendFileError::denied_for(&req).into());
    }
    Ok(file)
}

async fn body(res: ServiceResponse) -> Vec<u8> {
    actix_web::body::to_bytes(res.into_body())
        .await
        .unwrap()
        .to_vec()
}

#[actix_web::test]
async fn a_check_on_the_resolved_file_sees_through_a_link() {
    let t = tree();
    for backend in [Backend::Simple, Backend::XSendfile] {
        let config = SendFileConfig::builder(backend.clone())
            .root(&t.root)
            .build()
            .unwrap();
        let app = test::init_service(
            App::new()
                .app_data(config)
                .route("/f/{path:.*}", web::get().to(public_only)),
        )
        .await;
        let res = test::call_service(
            &app,
            test::TestRequest::get().uri("/f/public/link").to_request(),
        )
        .await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{backend}");
        assert!(!body(res).await.starts_with(b"alice"));
        let res = test::call_service(
            &app,
            test::TestRequest::get()
                .uri("/f/public/./readme.txt")
                .to_request(),
        )
        .await;
        assert_eq!(res.status(), StatusCode::OK, "{backend}");
    }
    let seen = SEEN.lock().unwrap().clone();
    let link = seen
        .iter()
        .find(|(requested, _, _)| requested == Path::new("public/link"))
        .unwrap();
    assert_eq!(link.1, Path::new("users/alice/notes.txt"));
    assert_eq!(link.2, t.root.join("users/alice/notes.txt"));
    let readme = seen
        .iter()
        .find(|(requested, _, _)| requested == Path::new("public/./readme.txt"))
        .unwrap();
    assert_eq!(readme.1, Path::new("public/readme.txt"));
}

#[actix_web::test]
async fn a_resolved_file_is_exactly_what_is_sent() {
    let t = tree();
    let req = test::TestRequest::default()
        .app_data(
            SendFileConfig::builder(Backend::Simple)
                .root(&t.root)
                .build()
                .unwrap(),
        )
        .to_http_request();
    let file = SendFile::new("public/readme.txt").resolve(&req).unwrap();
    assert_eq!(file.len(), Some(6));
    // Replaced after the check: the descriptor that was checked is the one sent.
    std::fs::write(t.root.join("replacement"), "swapped in").unwrap();
    std::fs::rename(t.root.join("replacement"), t.root.join("public/readme.txt")).unwrap();
    let res = file.into_response(&req);
    assert_eq!(res.status(), StatusCode::OK);
    let bytes = actix_web::body::to_bytes(res.into_body()).await.unwrap();
    assert_eq!(&bytes[..], b"readme");

    // Offload: the header names the real location that was checked, not the link.
    let req = test::TestRequest::default()
        .app_data(
            SendFileConfig::builder(Backend::XSendfile)
                .root(&t.root)
                .build()
                .unwrap(),
        )
        .to_http_request();
    let file = SendFile::new("public/link").resolve(&req).unwrap();
    let res = file.into_response(&req);
    let res = ServiceResponse::new(req.clone(), res);
    assert_offload(
        &res,
        &Backend::XSendfile,
        t.root.join("users/alice/notes.txt"),
    );
}

#[actix_web::test]
async fn resolve_errors_answer_as_sendfile_would() {
    let t = tree();
    let req = test::TestRequest::default()
        .app_data(
            SendFileConfig::builder(Backend::Simple)
                .root(&t.root)
                .build()
                .unwrap(),
        )
        .to_http_request();
    for (path, status) in [
        ("missing.txt", 404),
        ("../outside.txt", 404),
        ("public", 404),
    ] {
        let err = SendFile::new(path).resolve(&req).unwrap_err();
        assert_eq!(
            actix_web::ResponseError::status_code(&err).as_u16(),
            status,
            "{path}"
        );
    }
    // No configuration: fails closed.
    let bare = test::TestRequest::default().to_http_request();
    let err = SendFile::new("public/readme.txt")
        .resolve(&bare)
        .unwrap_err();
    assert_eq!(actix_web::ResponseError::status_code(&err), 500);
}

#[actix_web::test]
async fn refusing_symlinks_answers_404_for_every_link() {
    let t = tree();
    let config = SendFileConfig::builder(Backend::XSendfile)
        .root(&t.root)
        .follow_symlinks(false)
        .build()
        .unwrap();
    let app = test::init_service(App::new().app_data(config).route(
        "/g/{path:.*}",
        web::get().to(|p: web::Path<String>| async move { SendFile::new(p.into_inner()) }),
    ))
    .await;
    let get = |uri: &str| test::TestRequest::get().uri(uri).to_request();
    let res = test::call_service(&app, get("/g/public/link")).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert!(!res.headers().contains_key("x-sendfile"));
    let res = test::call_service(&app, get("/g/public/readme.txt")).await;
    assert_offload(&res, &Backend::XSendfile, t.root.join("public/readme.txt"));
}

#[actix_web::test]
async fn a_root_that_disappears_is_a_503_and_comes_back() {
    let t = tree();
    let config = SendFileConfig::builder(Backend::Simple)
        .root(&t.root)
        .build()
        .unwrap();
    let app = test::init_service(App::new().app_data(config).route(
        "/g/{path:.*}",
        web::get().to(|p: web::Path<String>| async move { SendFile::new(p.into_inner()) }),
    ))
    .await;
    let status = |res: &ServiceResponse| res.status().as_u16();
    let get = || {
        test::TestRequest::get()
            .uri("/g/public/readme.txt")
            .to_request()
    };
    assert_eq!(status(&test::call_service(&app, get()).await), 200);

    let away = t.root.with_file_name("away");
    std::fs::rename(&t.root, &away).unwrap();
    let start = Instant::now();
    let res = loop {
        let res = test::call_service(&app, get()).await;
        if status(&res) != 200 {
            break res;
        }
        // The core's own test measures the delay; here only that it ends (a loaded CI machine
        // must not make this flaky).
        assert!(start.elapsed() < Duration::from_secs(5), "still served");
    };
    assert_eq!(status(&res), 503);
    assert_eq!(res.headers().get("retry-after").unwrap(), "1");
    let text = String::from_utf8(body(res).await).unwrap();
    assert!(!text.contains(t.root.to_str().unwrap()), "{text}");

    std::fs::rename(&away, &t.root).unwrap();
    let start = Instant::now();
    while status(&test::call_service(&app, get()).await) != 200 {
        assert!(start.elapsed() < Duration::from_secs(5), "not back");
    }
}

#[actix_web::test]
async fn a_denial_never_answers_with_a_success_status() {
    // A success status cannot even be made a DeniedStatus (validate() used to refuse it); a
    // denial is an error status.
    assert!(DeniedStatus::new(StatusCode::OK).is_err());
    let config = SendFileConfig::builder(Backend::Simple)
        .root(std::env::temp_dir())
        .build()
        .unwrap();
    assert_eq!(config.denied(), StatusCode::FORBIDDEN);
    let req = test::TestRequest::default()
        .app_data(config)
        .to_http_request();
    let err = SendFileError::denied_for(&req);
    assert_eq!(actix_web::ResponseError::status_code(&err), 403);
}

#[actix_web::test]
async fn the_debug_form_of_an_error_is_escaped_too() {
    // actix-web's logger prints errors with `{:?}`.
    let t = tree();
    let req = test::TestRequest::default()
        .app_data(
            SendFileConfig::builder(Backend::Simple)
                .root(&t.root)
                .build()
                .unwrap(),
        )
        .to_http_request();
    let err = SendFile::new("admin\u{3164}\u{1b}[31m\r\n.txt")
        .resolve(&req)
        .unwrap_err();
    let debug = format!("{err:?}");
    assert!(debug.contains("404"), "{debug}");
    assert!(
        !debug
            .chars()
            .any(|c| c.is_control() || sendfile_core::logsafe::is_invisible(c)),
        "{debug:?}"
    );
}
