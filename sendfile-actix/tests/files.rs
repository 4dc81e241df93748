//! `Files`: a directory tree mounted behind a permission check, in-process.

use std::cell::Cell;
use std::os::unix::fs::symlink;
use std::path::PathBuf;
use std::rc::Rc;

use actix_web::body::{BodySize, MessageBody};
use actix_web::http::Method;
use actix_web::{App, HttpRequest, HttpResponse, test, web};
use sendfile_actix::{Backend, DeniedStatus, Files, ResolvedSendFile, SendFileConfig};

struct Tree {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

/// Below the root: `shared/` (mounted) with `a.txt`, `sub/b.txt`, `.env`, `.git/config`,
/// `report.pdf`, the links `in -> sub/b.txt`, `out -> ../private/salaries.csv`,
/// `hidden -> .env`; and `private/salaries.csv`.
fn tree() -> Tree {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    let shared = root.join("shared");
    std::fs::create_dir_all(shared.join("sub")).unwrap();
    std::fs::create_dir_all(shared.join(".git")).unwrap();
    std::fs::create_dir_all(root.join("private")).unwrap();
    std::fs::write(shared.join("a.txt"), b"alpha").unwrap();
    std::fs::write(shared.join("sub/b.txt"), b"beta").unwrap();
    std::fs::write(shared.join(".env"), b"SECRET=1").unwrap();
    std::fs::write(shared.join(".git/config"), b"[core]").unwrap();
    std::fs::write(shared.join("report.pdf"), b"%PDF-1.7").unwrap();
    std::fs::write(root.join("private/salaries.csv"), b"ceo,1000000").unwrap();
    symlink("sub/b.txt", shared.join("in")).unwrap();
    symlink("../private/salaries.csv", shared.join("out")).unwrap();
    symlink(".env", shared.join("hidden")).unwrap();
    Tree { _dir: dir, root }
}

/// PDFs only with `X-Staff`.
async fn no_pdf(req: &HttpRequest, file: &ResolvedSendFile) -> bool {
    file.relative_path().extension().is_none_or(|e| e != "pdf")
        || req.headers().contains_key("x-staff")
}

fn get(uri: &str) -> test::TestRequest {
    test::TestRequest::get().uri(uri)
}

#[actix_web::test]
async fn serves_the_tree_through_the_configured_backend() {
    let t = tree();
    let config = SendFileConfig::builder(Backend::Nginx)
        .root(&t.root)
        .url("/protected")
        .build()
        .unwrap();
    let app = test::init_service(
        App::new()
            .app_data(config)
            .service(Files::new("/files", "shared", no_pdf)),
    )
    .await;
    for (uri, target) in [
        ("/files/a.txt", "/protected/shared/a.txt"),
        ("/files/sub/b.txt", "/protected/shared/sub/b.txt"),
        ("/files/./sub//b.txt", "/protected/shared/sub/b.txt"),
        // A link inside the tree is served as its target.
        ("/files/in", "/protected/shared/sub/b.txt"),
    ] {
        let res = test::call_service(&app, get(uri).to_request()).await;
        assert_eq!(res.status(), 200, "{uri}");
        assert_eq!(
            res.headers().get("x-accel-redirect").unwrap(),
            target,
            "{uri}"
        );
    }
}

#[actix_web::test]
async fn simple_streams_and_answers_head_ranges_and_405() {
    let t = tree();
    let config = SendFileConfig::builder(Backend::Simple)
        .root(&t.root)
        .build()
        .unwrap();
    let app = test::init_service(
        App::new()
            .app_data(config)
            .service(Files::new("/", "shared", no_pdf)),
    )
    .await;
    let res = test::call_service(&app, get("/a.txt").to_request()).await;
    assert_eq!(res.status(), 200);
    assert_eq!(test::read_body(res).await, "alpha");
    let res = test::call_service(
        &app,
        get("/a.txt")
            .insert_header(("range", "bytes=1-2"))
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), 206);
    assert_eq!(test::read_body(res).await, "lp");
    let head = test::TestRequest::default()
        .method(Method::HEAD)
        .uri("/a.txt");
    let res = test::call_service(&app, head.to_request()).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.response().body().size(), BodySize::Sized(5));
    for method in [Method::POST, Method::PUT, Method::DELETE, Method::PATCH] {
        let req = test::TestRequest::default()
            .method(method.clone())
            .uri("/a.txt");
        let res = test::call_service(&app, req.to_request()).await;
        assert_eq!(res.status(), 405, "{method}");
        assert_eq!(res.headers().get("allow").unwrap(), "GET, HEAD");
    }
}

#[actix_web::test]
async fn confines_to_the_mounted_directory() {
    let t = tree();
    let config = SendFileConfig::builder(Backend::Simple)
        .root(&t.root)
        .build()
        .unwrap();
    let app = test::init_service(App::new().app_data(config).service(Files::new(
        "/files",
        "shared",
        async |_, _| true,
    )))
    .await;
    for uri in [
        "/files/../private/salaries.csv",
        "/files/%2e%2e/private/salaries.csv",
        "/files/%2E%2E%2Fprivate%2Fsalaries.csv",
        "/files/sub/../../private/salaries.csv",
        "/files//private/salaries.csv",
        &format!("/files/{}/private/salaries.csv", t.root.display()),
        // A link to elsewhere in the root.
        "/files/out",
        "/files/nul%00.txt",
        // Directories are never listed.
        "/files/",
        "/files/sub",
        "/files/sub/",
        // Hidden names, and a link to one.
        "/files/.env",
        "/files/.git/config",
        "/files/hidden",
        "/files/missing.txt",
    ] {
        let res = test::call_service(&app, get(uri).to_request()).await;
        assert_eq!(res.status(), 404, "{uri}");
        let body = test::read_body(res).await;
        assert!(!body.windows(4).any(|w| w == b"ceo,"), "{uri}");
        assert!(!body.windows(6).any(|w| w == b"SECRET"), "{uri}");
    }
}

#[actix_web::test]
async fn hidden_files_can_be_served() {
    let t = tree();
    let config = SendFileConfig::builder(Backend::Simple)
        .root(&t.root)
        .build()
        .unwrap();
    let app = test::init_service(
        App::new()
            .app_data(config)
            .service(Files::new("/files", "shared", async |_, _| true).hidden_files(true)),
    )
    .await;
    for (uri, body) in [
        ("/files/.env", "SECRET=1"),
        ("/files/.git/config", "[core]"),
        ("/files/hidden", "SECRET=1"),
    ] {
        let res = test::call_service(&app, get(uri).to_request()).await;
        assert_eq!(res.status(), 200, "{uri}");
        assert_eq!(test::read_body(res).await, body, "{uri}");
    }
}

#[actix_web::test]
async fn the_check_sees_the_resolved_file_and_decides() {
    let t = tree();
    let seen = Rc::new(Cell::new(0));
    let counted = Rc::clone(&seen);
    let check = async move |req: &HttpRequest, file: &ResolvedSendFile| {
        counted.set(counted.get() + 1);
        no_pdf(req, file).await
    };
    let config = SendFileConfig::builder(Backend::Simple)
        .root(&t.root)
        .build()
        .unwrap();
    let app = test::init_service(
        App::new()
            .app_data(config)
            .service(Files::new("/files", "shared", check)),
    )
    .await;
    let res = test::call_service(&app, get("/files/report.pdf").to_request()).await;
    assert_eq!(res.status(), 403);
    let res = test::call_service(
        &app,
        get("/files/report.pdf")
            .insert_header(("x-staff", "1"))
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), 200);
    assert_eq!(seen.get(), 2);
    // Never asked about a file that is not there, or outside the tree.
    for uri in [
        "/files/missing.pdf",
        "/files/out",
        "/files/../private/salaries.csv",
    ] {
        let res = test::call_service(&app, get(uri).to_request()).await;
        assert_eq!(res.status(), 404, "{uri}");
    }
    assert_eq!(seen.get(), 2);
}

#[actix_web::test]
async fn a_check_error_is_answered_with_its_response() {
    let t = tree();
    let config = SendFileConfig::builder(Backend::Simple)
        .root(&t.root)
        .build()
        .unwrap();
    let check = async |_: &HttpRequest, _: &ResolvedSendFile| -> Result<bool, actix_web::Error> {
        Err(actix_web::error::ErrorUnauthorized("sign in first"))
    };
    let app = test::init_service(
        App::new()
            .app_data(config)
            .service(Files::new("/files", "shared", check)),
    )
    .await;
    let res = test::call_service(&app, get("/files/a.txt").to_request()).await;
    assert_eq!(res.status(), 401);
    assert_eq!(test::read_body(res).await, "sign in first");
}

#[actix_web::test]
async fn the_configuration_s_denied_status_and_error_handler_apply() {
    let t = tree();
    let config = SendFileConfig::builder(Backend::Simple)
        .root(&t.root)
        .denied_status(DeniedStatus::NOT_FOUND)
        .error_handler(|err, req| {
            HttpResponse::build(err.status()).body(format!("page: {}", req.path()))
        })
        .build()
        .unwrap();
    let app = test::init_service(
        App::new()
            .app_data(config)
            .service(Files::new("/files", "shared", no_pdf)),
    )
    .await;
    for uri in [
        "/files/report.pdf",
        "/files/missing.txt",
        "/files/out",
        "/files/.env",
    ] {
        let res = test::call_service(&app, get(uri).to_request()).await;
        assert_eq!(res.status(), 404, "{uri}");
        assert_eq!(test::read_body(res).await, format!("page: {uri}"), "{uri}");
    }
}

#[actix_web::test]
async fn a_config_of_its_own_wins_over_the_app_s() {
    let t = tree();
    let app = test::init_service(
        App::new()
            .app_data(
                SendFileConfig::builder(Backend::XSendfile)
                    .root(&t.root)
                    .build()
                    .unwrap(),
            )
            .service(
                Files::new("/files", "", async |_, _| true).config(
                    SendFileConfig::builder(Backend::Simple)
                        .root(t.root.join("shared"))
                        .build()
                        .unwrap(),
                ),
            ),
    )
    .await;
    let res = test::call_service(&app, get("/files/a.txt").to_request()).await;
    assert_eq!(res.status(), 200);
    assert!(res.headers().get("x-sendfile").is_none());
    assert_eq!(test::read_body(res).await, "alpha");
}

#[actix_web::test]
async fn attachment_applies_to_every_file() {
    let t = tree();
    let config = SendFileConfig::builder(Backend::Simple)
        .root(&t.root)
        .build()
        .unwrap();
    let app = test::init_service(
        App::new()
            .app_data(config)
            .service(Files::new("/files", "shared", async |_, _| true).attachment()),
    )
    .await;
    let res = test::call_service(&app, get("/files/sub/b.txt").to_request()).await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers().get("content-disposition").unwrap(),
        "attachment; filename=\"b.txt\""
    );
}

#[actix_web::test]
async fn inside_a_scope() {
    let t = tree();
    let config = SendFileConfig::builder(Backend::Simple)
        .root(&t.root)
        .build()
        .unwrap();
    let app = test::init_service(App::new().app_data(config).service(
        web::scope("/api").service(Files::new("/files", "shared/sub", async |_, _| true)),
    ))
    .await;
    let res = test::call_service(&app, get("/api/files/b.txt").to_request()).await;
    assert_eq!(res.status(), 200);
    assert_eq!(test::read_body(res).await, "beta");
    let res = test::call_service(&app, get("/api/files/../a.txt").to_request()).await;
    assert_eq!(res.status(), 404);
}

#[::core::prelude::v1::test]
#[should_panic(expected = "must be relative to the root")]
fn a_directory_with_dot_dot_is_refused_when_made() {
    let _ = Files::new("/files", "shared/../private", async |_, _| true);
}
