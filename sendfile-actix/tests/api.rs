//! The typed knobs of `SendFile` and `SendFileConfig`, and the error handler.

use std::path::{Path, PathBuf};

use actix_web::body::{BodySize, MessageBody};
use actix_web::http::header::ContentEncoding;
use actix_web::http::{Method, StatusCode};
use actix_web::{App, HttpRequest, HttpResponse, mime, test, web};
use sendfile_actix::{
    Backend, DeniedStatus, ResolvedSendFile, SendFile, SendFileConfig, SendFileError,
    protected_file,
};

struct Tree {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

/// `data`, `archive.tar.gz`, `users/alice/notes.txt`.
fn tree() -> Tree {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    std::fs::write(root.join("data"), b"a,b\n1,2\n").unwrap();
    std::fs::write(root.join("archive.tar.gz"), b"\x1f\x8b not really").unwrap();
    std::fs::create_dir_all(root.join("users/alice")).unwrap();
    std::fs::write(root.join("users/alice/notes.txt"), b"alice").unwrap();
    Tree { _dir: dir, root }
}

async fn call(
    config: SendFileConfig,
    route: impl Fn(&mut web::ServiceConfig) + 'static,
    req: test::TestRequest,
) -> actix_web::dev::ServiceResponse {
    let app = test::init_service(App::new().app_data(config).configure(route)).await;
    test::call_service(&app, req.to_request()).await
}

fn header<'a>(res: &'a actix_web::dev::ServiceResponse, name: &str) -> Option<&'a str> {
    res.headers().get(name).map(|v| v.to_str().unwrap())
}

#[actix_web::test]
async fn content_type_is_a_mime() {
    let t = tree();
    for backend in [Backend::Simple, Backend::XSendfile] {
        let config = SendFileConfig::builder(backend)
            .root(&t.root)
            .build()
            .unwrap();
        let res = call(
            config,
            |cfg| {
                cfg.route(
                    "/f",
                    web::get().to(|| async { SendFile::new("data").content_type(mime::TEXT_CSV) }),
                );
            },
            test::TestRequest::get().uri("/f"),
        )
        .await;
        assert_eq!(res.status(), 200);
        assert_eq!(header(&res, "content-type"), Some("text/csv"));
    }
}

#[actix_web::test]
async fn content_encoding_is_actix_s_content_encoding() {
    let t = tree();
    for (encoding, expected) in [
        (ContentEncoding::Gzip, Some("gzip")),
        (ContentEncoding::Brotli, Some("br")),
        (ContentEncoding::Zstd, Some("zstd")),
        (ContentEncoding::Deflate, Some("deflate")),
        // The bytes are not encoded: no header at all.
        (ContentEncoding::Identity, None),
    ] {
        let config = SendFileConfig::builder(Backend::Simple)
            .root(&t.root)
            .build()
            .unwrap();
        let res = call(
            config,
            move |cfg| {
                cfg.route(
                    "/f",
                    web::get().to(move || async move {
                        SendFile::new("archive.tar.gz").content_encoding(encoding)
                    }),
                );
            },
            test::TestRequest::get().uri("/f"),
        )
        .await;
        assert_eq!(res.status(), 200);
        assert_eq!(header(&res, "content-encoding"), expected, "{encoding:?}");
    }
}

#[actix_web::test]
async fn a_handler_can_return_a_path_into_a_send_file() {
    let t = tree();
    let config = SendFileConfig::builder(Backend::XSendfile)
        .root(&t.root)
        .build()
        .unwrap();
    let res = call(
        config,
        |cfg| {
            cfg.route(
                "/a",
                web::get().to(|| async { SendFile::from(Path::new("data")) }),
            )
            .route(
                "/b",
                web::get().to(|| async { SendFile::from(PathBuf::from("data")) }),
            )
            .route("/c", web::get().to(|| async { SendFile::from("data") }))
            .route(
                "/d",
                web::get().to(|| async { SendFile::from(String::from("data")) }),
            );
        },
        test::TestRequest::get().uri("/a"),
    )
    .await;
    assert_eq!(res.status(), 200);
    let expected = t.root.join("data");
    assert_eq!(header(&res, "x-sendfile"), expected.to_str());
}

/// An error page naming the status, and the request's path, so that tests see it is the
/// application's.
fn page(err: &SendFileError, req: &HttpRequest) -> HttpResponse {
    HttpResponse::build(err.status())
        .content_type("text/html; charset=utf-8")
        .body(format!(
            "<h1>{} for {}</h1>",
            err.status().as_u16(),
            req.path()
        ))
}

async fn alice_only(_req: &HttpRequest, file: &ResolvedSendFile) -> bool {
    file.relative_path().starts_with("users/alice")
}

#[protected_file(check = alice_only)]
async fn protected(path: web::Path<String>) -> SendFile {
    SendFile::new(path.into_inner())
}

/// A hand-written handler, with `resolve(..)?` and `SendFileError::denied_for`.
async fn by_hand(
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<ResolvedSendFile, actix_web::Error> {
    let file = SendFile::new(path.into_inner()).resolve(&req)?;
    if !file.relative_path().starts_with("users/alice") {
        return Err(SendFileError::denied_for(&req).into());
    }
    Ok(file)
}

fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/plain/{path:.*}",
        web::get().to(|p: web::Path<String>| async move { SendFile::new(p.into_inner()) }),
    )
    .route("/protected/{path:.*}", web::get().to(protected))
    .route("/by-hand/{path:.*}", web::get().to(by_hand));
}

#[actix_web::test]
async fn the_error_handler_renders_not_found_and_denied() {
    let t = tree();
    for prefix in ["/plain", "/protected", "/by-hand"] {
        let config = SendFileConfig::builder(Backend::Simple)
            .root(&t.root)
            .error_handler(page)
            .build()
            .unwrap();
        let uri = format!("{prefix}/missing.txt");
        let res = call(config, routes, test::TestRequest::get().uri(&uri)).await;
        assert_eq!(res.status(), 404, "{uri}");
        assert_eq!(
            header(&res, "content-type"),
            Some("text/html; charset=utf-8")
        );
        let body = test::read_body(res).await;
        assert_eq!(body, format!("<h1>404 for {uri}</h1>"));
    }
    for prefix in ["/protected", "/by-hand"] {
        let config = SendFileConfig::builder(Backend::Simple)
            .root(&t.root)
            .denied_status(DeniedStatus::NOT_FOUND)
            .error_handler(page)
            .build()
            .unwrap();
        let uri = format!("{prefix}/data");
        let res = call(config, routes, test::TestRequest::get().uri(&uri)).await;
        assert_eq!(res.status(), 404, "{uri}");
        let body = test::read_body(res).await;
        assert_eq!(body, format!("<h1>404 for {uri}</h1>"), "{uri}");

        // Allowed: the file, untouched by the handler.
        let config = SendFileConfig::builder(Backend::Simple)
            .root(&t.root)
            .error_handler(page)
            .build()
            .unwrap();
        let uri = format!("{prefix}/users/alice/notes.txt");
        let res = call(config, routes, test::TestRequest::get().uri(&uri)).await;
        assert_eq!(res.status(), 200, "{uri}");
        assert_eq!(test::read_body(res).await, "alice");
    }
    // Denied, with the default denied status.
    let config = SendFileConfig::builder(Backend::Simple)
        .root(&t.root)
        .error_handler(page)
        .build()
        .unwrap();
    let res = call(
        config,
        routes,
        test::TestRequest::get().uri("/protected/data"),
    )
    .await;
    assert_eq!(res.status(), 403);
    assert_eq!(
        test::read_body(res).await,
        "<h1>403 for /protected/data</h1>"
    );
}

#[actix_web::test]
async fn the_error_handler_renders_overloaded_and_may_keep_the_default() {
    let t = tree();
    let config = SendFileConfig::builder(Backend::Simple)
        .root(&t.root)
        .max_streams(1)
        .error_handler(|err, req| {
            if err.is_unavailable() {
                HttpResponse::ServiceUnavailable()
                    .insert_header(("retry-after", "5"))
                    .body(format!("busy: {}", req.path()))
            } else {
                err.default_response()
            }
        })
        .build()
        .unwrap();
    let app = test::init_service(App::new().app_data(config).configure(routes)).await;
    let get = |uri: &str| test::TestRequest::get().uri(uri).to_request();
    // Holds the only place until its body is read.
    let first = test::call_service(&app, get("/plain/data")).await;
    assert_eq!(first.status(), 200);
    let res = test::call_service(&app, get("/plain/data")).await;
    assert_eq!(res.status(), 503);
    assert_eq!(header(&res, "retry-after"), Some("5"));
    assert_eq!(test::read_body(res).await, "busy: /plain/data");
    assert_eq!(test::read_body(first).await, "a,b\n1,2\n");
    // Left to the default: the library's own 404.
    let res = test::call_service(&app, get("/plain/missing")).await;
    assert_eq!(res.status(), 404);
    assert_eq!(
        header(&res, "content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(test::read_body(res).await, "Not Found");
}

#[actix_web::test]
async fn a_returned_send_file_error_is_rendered_too() {
    let t = tree();
    let config = SendFileConfig::builder(Backend::Simple)
        .root(&t.root)
        .error_handler(page)
        .build()
        .unwrap();
    let app = test::init_service(App::new().app_data(config).route(
        "/f",
        web::get().to(|req: HttpRequest| async move {
            Err::<ResolvedSendFile, _>(SendFileError::denied_for(&req))
        }),
    ))
    .await;
    let res = test::call_service(&app, test::TestRequest::get().uri("/f").to_request()).await;
    assert_eq!(res.status(), 403);
    assert_eq!(test::read_body(res).await, "<h1>403 for /f</h1>");
}

#[actix_web::test]
async fn route_answers_get_and_head_and_refuses_other_methods() {
    let t = tree();
    let config = SendFileConfig::builder(Backend::Simple)
        .root(&t.root)
        .build()
        .unwrap();
    let app = test::init_service(
        App::new()
            .app_data(config)
            .service(
                web::resource("/f")
                    .route(sendfile_actix::route().to(|| async { SendFile::new("data") })),
            )
            .service(sendfile_actix::resource("/g", || async {
                SendFile::new("data")
            })),
    )
    .await;
    let req = |method: Method| test::TestRequest::default().method(method).uri("/f");
    let res = test::call_service(&app, req(Method::GET).to_request()).await;
    assert_eq!(res.status(), 200);
    assert_eq!(test::read_body(res).await, "a,b\n1,2\n");
    let res = test::call_service(&app, req(Method::HEAD).to_request()).await;
    assert_eq!(res.status(), 200);
    // The length GET would send, and no body.
    assert_eq!(res.response().body().size(), BodySize::Sized(8));
    assert!(test::read_body(res).await.is_empty());
    for method in [Method::POST, Method::PUT, Method::DELETE] {
        let res = test::call_service(&app, req(method.clone()).to_request()).await;
        assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED, "{method}");
    }
    let head = test::TestRequest::default().method(Method::HEAD).uri("/g");
    let res = test::call_service(&app, head.to_request()).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.response().body().size(), BodySize::Sized(8));
    let post = test::TestRequest::post().uri("/g").to_request();
    assert_eq!(test::call_service(&app, post).await.status(), 405);
}

/// A configuration and its variant with another denied status are different configurations:
/// registered both ways, they fail closed rather than guess which is nearer.
#[actix_web::test]
async fn a_variant_with_another_denied_status_is_another_configuration() {
    let t = tree();
    let settings = SendFileConfig::builder(Backend::Simple).root(&t.root);
    let base = settings.clone().build().unwrap();
    let variant = settings
        .denied_status(DeniedStatus::NOT_FOUND)
        .build()
        .unwrap();
    let app = test::init_service(
        App::new().app_data(base.clone()).service(
            web::scope("/s")
                .app_data(web::Data::new(variant))
                .route("/f", web::get().to(|| async { SendFile::new("data") })),
        ),
    )
    .await;
    let res = test::call_service(&app, test::TestRequest::get().uri("/s/f").to_request()).await;
    assert_eq!(res.status(), 500);

    // A clone is the same configuration.
    let app = test::init_service(
        App::new().app_data(base.clone()).service(
            web::scope("/s")
                .app_data(web::Data::new(base))
                .route("/f", web::get().to(|| async { SendFile::new("data") })),
        ),
    )
    .await;
    let res = test::call_service(&app, test::TestRequest::get().uri("/s/f").to_request()).await;
    assert_eq!(res.status(), 200);
}

#[protected_file(allow = false, denied_status = 410)]
async fn gone() -> SendFile {
    SendFile::new("data")
}

/// The attribute's own `denied_status` is answered through the error handler too.
#[actix_web::test]
async fn the_attribute_s_denied_status_goes_through_the_error_handler() {
    let t = tree();
    let config = SendFileConfig::builder(Backend::Simple)
        .root(&t.root)
        .error_handler(page)
        .build()
        .unwrap();
    let app =
        test::init_service(App::new().app_data(config).route("/g", web::get().to(gone))).await;
    let res = test::call_service(&app, test::TestRequest::get().uri("/g").to_request()).await;
    assert_eq!(res.status(), 410);
    assert_eq!(test::read_body(res).await, "<h1>410 for /g</h1>");
}
