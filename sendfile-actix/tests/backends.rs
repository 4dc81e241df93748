//! Every backend and rule of `SendFile`, through `actix_web::test`.

use std::path::PathBuf;

use actix_web::http::header::ContentEncoding;
use actix_web::http::{Method, StatusCode};
use actix_web::{App, test, web};
use sendfile_actix::nginx::{AccelExpires, LimitRate, NginxOptions};
use sendfile_actix::sendfile_core::{CustomBackend, Error, Header, ResolvedFile};
use sendfile_actix::test::{assert_download, assert_offload};
use sendfile_actix::{Backend, SendFile, SendFileConfig};

struct Fixture {
    _dir: tempfile::TempDir,
    root: PathBuf,
    outside: PathBuf,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    let outside = dir.path().join("outside");
    std::fs::create_dir_all(root.join("reports")).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(root.join("reports/q3.pdf"), b"%PDF-1.7 q3").unwrap();
    std::fs::write(root.join("hello.txt"), b"0123456789".repeat(10)).unwrap();
    std::fs::write(root.join("archive.tar.gz"), b"\x1f\x8b fake").unwrap();
    std::fs::write(outside.join("secret.txt"), b"TOP SECRET").unwrap();
    std::os::unix::fs::symlink(outside.join("secret.txt"), root.join("link-out")).unwrap();
    Fixture {
        _dir: dir,
        root,
        outside,
    }
}

/// Serves `GET /f/{path..}` as `SendFile::new(path)` customised by `f`.
async fn call(
    config: SendFileConfig,
    path: &str,
    build: fn(SendFile) -> SendFile,
    req: test::TestRequest,
) -> actix_web::dev::ServiceResponse {
    let app =
        test::init_service(App::new().app_data(config).route(
            "/f/{path:.*}",
            web::route().to(move |p: web::Path<String>| async move {
                build(SendFile::new(p.into_inner()))
            }),
        ))
        .await;
    test::call_service(&app, req.uri(&format!("/f/{}", encode(path))).to_request()).await
}

fn encode(path: &str) -> String {
    sendfile_actix::sendfile_core::encode::percent_encode_path(path.as_bytes())
}

fn get() -> test::TestRequest {
    test::TestRequest::get()
}

fn same(f: SendFile) -> SendFile {
    f
}

async fn body(res: actix_web::dev::ServiceResponse) -> Vec<u8> {
    test::read_body(res).await.to_vec()
}

fn header<'a>(res: &'a actix_web::dev::ServiceResponse, name: &str) -> Option<&'a str> {
    res.headers().get(name).map(|v| v.to_str().unwrap())
}

#[actix_web::test]
async fn nginx_names_the_internal_url_and_sends_no_body() {
    let fx = fixture();
    let config = SendFileConfig::builder(Backend::Nginx)
        .root(&fx.root)
        .url("/protected/")
        .build()
        .unwrap();
    let res = call(
        config,
        "reports/q3.pdf",
        |f| f.attachment().filename("Q3 report.pdf"),
        get(),
    )
    .await;
    assert_offload(&res, &Backend::Nginx, "/protected/reports/q3.pdf");
    assert_download(&res, "Q3 report.pdf");
    assert_eq!(header(&res, "content-type"), Some("application/pdf"));
    assert_eq!(
        header(&res, "etag"),
        None,
        "the front server computes validators"
    );
    assert_eq!(header(&res, "content-encoding"), None);
    assert!(body(res).await.is_empty());
}

#[actix_web::test]
async fn nginx_percent_encodes_hostile_names_once() {
    let fx = fixture();
    let name = "a b%41?#+\"';ü.txt";
    std::fs::write(fx.root.join(name), b"x").unwrap();
    let config = SendFileConfig::builder(Backend::Nginx)
        .root(&fx.root)
        .url("/protected")
        .build()
        .unwrap();
    let res = call(config, name, same, get()).await;
    assert_eq!(
        header(&res, "x-accel-redirect"),
        Some("/protected/a%20b%2541%3F%23%2B%22%27%3B%C3%BC.txt")
    );
    assert_offload(&res, &Backend::Nginx, format!("/protected/{name}"));
}

#[actix_web::test]
async fn nginx_extras_are_emitted_by_nginx_only() {
    let fx = fixture();
    let extras = |f: SendFile| {
        f.nginx(
            NginxOptions::new()
                .limit_rate(LimitRate::BytesPerSecond(100_000))
                .buffering(false)
                .charset("utf-8")
                .expires(AccelExpires::Seconds(60)),
        )
    };
    let config = SendFileConfig::builder(Backend::Nginx)
        .root(&fx.root)
        .url("/p")
        .build()
        .unwrap();
    let res = call(config, "hello.txt", extras, get()).await;
    assert_eq!(header(&res, "x-accel-limit-rate"), Some("100000"));
    assert_eq!(header(&res, "x-accel-buffering"), Some("no"));
    assert_eq!(header(&res, "x-accel-charset"), Some("utf-8"));
    assert_eq!(header(&res, "x-accel-expires"), Some("60"));

    let config = SendFileConfig::builder(Backend::XSendfile)
        .root(&fx.root)
        .build()
        .unwrap();
    let res = call(config, "hello.txt", extras, get()).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()
            .keys()
            .all(|k| !k.as_str().starts_with("x-accel"))
    );
}

#[actix_web::test]
async fn xsendfile_sends_the_raw_absolute_path() {
    let fx = fixture();
    let name = "with space %41 ü.txt";
    std::fs::write(fx.root.join(name), b"x").unwrap();
    let config = SendFileConfig::builder(Backend::XSendfile)
        .root(&fx.root)
        .build()
        .unwrap();
    let res = call(config, name, same, get()).await;
    assert_offload(&res, &Backend::XSendfile, fx.root.join(name));
    assert_eq!(
        res.headers().get("x-sendfile").unwrap().as_bytes(),
        fx.root.join(name).to_str().unwrap().as_bytes()
    );
    assert_eq!(
        header(&res, "content-type"),
        Some("text/plain; charset=utf-8"),
        "Apache sends none otherwise"
    );
}

#[actix_web::test]
async fn lighttpd_sends_the_encoded_absolute_path() {
    let fx = fixture();
    let name = "with space%.txt";
    std::fs::write(fx.root.join(name), b"x").unwrap();
    let config = SendFileConfig::builder(Backend::Lighttpd)
        .root(&fx.root)
        .build()
        .unwrap();
    let res = call(config, name, same, get()).await;
    assert_offload(&res, &Backend::Lighttpd, fx.root.join(name));
    assert!(
        header(&res, "x-sendfile")
            .unwrap()
            .ends_with("/with%20space%25.txt")
    );
}

#[actix_web::test]
async fn offload_never_sends_content_encoding() {
    let fx = fixture();
    let config = SendFileConfig::builder(Backend::Lighttpd)
        .root(&fx.root)
        .build()
        .unwrap();
    let res = call(
        config,
        "archive.tar.gz",
        |f| f.content_encoding(ContentEncoding::Gzip),
        get(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(header(&res, "content-encoding"), None);
    assert_eq!(header(&res, "content-type"), Some("application/gzip"));
}

#[actix_web::test]
async fn mod_wsgi_location_is_relative_with_status_200() {
    let fx = fixture();
    let config = SendFileConfig::builder(Backend::ModWsgi)
        .root(&fx.root)
        .url("/protected")
        .build()
        .unwrap();
    let res = call(config, "reports/q3.pdf", same, get()).await;
    assert_offload(&res, &Backend::ModWsgi, "/protected/reports/q3.pdf");
    assert_eq!(header(&res, "location"), Some("/protected/reports/q3.pdf"));
}

#[actix_web::test]
async fn caddy_sends_the_raw_url_and_refuses_a_question_mark() {
    let fx = fixture();
    std::fs::write(fx.root.join("ü %41.txt"), b"x").unwrap();
    std::fs::write(fx.root.join("q?mark.txt"), b"x").unwrap();
    let config = SendFileConfig::builder(Backend::Caddy)
        .root(&fx.root)
        .url("/protected")
        .build()
        .unwrap();
    let res = call(config.clone(), "ü %41.txt", same, get()).await;
    assert_offload(&res, &Backend::Caddy, "/protected/ü %41.txt");

    let res = call(config, "q?mark.txt", same, get()).await;
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(header(&res, "x-accel-redirect"), None);
}

#[actix_web::test]
async fn simple_streams_the_bytes_with_validators() {
    let fx = fixture();
    let config = SendFileConfig::builder(Backend::Simple)
        .root(&fx.root)
        .build()
        .unwrap();
    let res = call(config, "hello.txt", same, get()).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(header(&res, "accept-ranges"), Some("bytes"));
    assert!(header(&res, "etag").unwrap().starts_with('"'));
    assert!(header(&res, "last-modified").is_some());
    assert_eq!(
        header(&res, "content-disposition"),
        Some("inline; filename=\"hello.txt\"")
    );
    assert_eq!(body(res).await, b"0123456789".repeat(10));
}

#[actix_web::test]
async fn simple_answers_ranges_conditionals_and_head() {
    let fx = fixture();
    let config = SendFileConfig::builder(Backend::Simple)
        .root(&fx.root)
        .build()
        .unwrap();
    let res = call(
        config.clone(),
        "hello.txt",
        same,
        get().insert_header(("Range", "bytes=10-19")),
    )
    .await;
    assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(header(&res, "content-range"), Some("bytes 10-19/100"));
    assert_eq!(body(res).await, b"0123456789");

    let res = call(
        config.clone(),
        "hello.txt",
        same,
        get().insert_header(("Range", "bytes=0-1,5-6")),
    )
    .await;
    assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT);
    assert!(
        header(&res, "content-type")
            .unwrap()
            .starts_with("multipart/byteranges; boundary=")
    );
    let multipart = String::from_utf8(body(res).await).unwrap();
    assert!(
        multipart.contains("Content-Range: bytes 0-1/100")
            && multipart.contains("Content-Range: bytes 5-6/100")
    );

    let res = call(
        config.clone(),
        "hello.txt",
        same,
        get().insert_header(("Range", "bytes=500-")),
    )
    .await;
    assert_eq!(res.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(header(&res, "content-range"), Some("bytes */100"));

    let res = call(config.clone(), "hello.txt", same, get()).await;
    let etag = header(&res, "etag").unwrap().to_owned();
    let modified = header(&res, "last-modified").unwrap().to_owned();
    let res = call(
        config.clone(),
        "hello.txt",
        same,
        get().insert_header(("If-None-Match", etag.as_str())),
    )
    .await;
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
    assert!(body(res).await.is_empty());
    let res = call(
        config.clone(),
        "hello.txt",
        same,
        get().insert_header(("If-Modified-Since", modified.as_str())),
    )
    .await;
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
    let res = call(
        config.clone(),
        "hello.txt",
        same,
        get().insert_header(("If-Match", "\"other\"")),
    )
    .await;
    assert_eq!(res.status(), StatusCode::PRECONDITION_FAILED);

    let res = call(
        config,
        "hello.txt",
        same,
        test::TestRequest::default().method(Method::HEAD),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(body(res).await.is_empty());
}

#[actix_web::test]
async fn simple_sends_content_encoding_only_when_asked() {
    let fx = fixture();
    let config = SendFileConfig::builder(Backend::Simple)
        .root(&fx.root)
        .build()
        .unwrap();
    let res = call(config.clone(), "archive.tar.gz", same, get()).await;
    assert_eq!(
        header(&res, "content-encoding"),
        None,
        "never guessed from .gz"
    );
    let res = call(
        config,
        "archive.tar.gz",
        |f| f.content_encoding(ContentEncoding::Gzip),
        get(),
    )
    .await;
    assert_eq!(header(&res, "content-encoding"), Some("gzip"));
}

#[actix_web::test]
async fn development_streams_with_no_store() {
    let fx = fixture();
    let config = SendFileConfig::builder(Backend::Development)
        .root(&fx.root)
        .build()
        .unwrap();
    let res = call(config, "hello.txt", same, get()).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(header(&res, "cache-control"), Some("no-store"));
    assert_eq!(body(res).await.len(), 100);
}

#[actix_web::test]
async fn outside_missing_and_directories_are_404_without_a_path_in_the_body() {
    let fx = fixture();
    for backend in [Backend::Simple, Backend::Nginx, Backend::XSendfile] {
        let config = SendFileConfig::builder(backend.clone())
            .root(&fx.root)
            .url("/p")
            .build()
            .unwrap();
        for path in [
            "../outside/secret.txt",
            "link-out",
            "missing.txt",
            "reports",
            fx.outside.join("secret.txt").to_str().unwrap(),
        ] {
            let res = call(config.clone(), path, same, get()).await;
            assert_eq!(res.status(), StatusCode::NOT_FOUND, "{backend} {path}");
            assert!(
                res.headers().get("x-sendfile").is_none()
                    && res.headers().get("x-accel-redirect").is_none()
            );
            let text = String::from_utf8(body(res).await).unwrap();
            assert!(!text.contains('/') && !text.contains("SECRET"), "{text}");
        }
    }
}

#[actix_web::test]
async fn absolute_path_inside_the_root_is_served() {
    let fx = fixture();
    let config = SendFileConfig::builder(Backend::XSendfile)
        .root(&fx.root)
        .build()
        .unwrap();
    let abs = fx.root.join("reports/q3.pdf");
    let res = call(config, abs.to_str().unwrap(), same, get()).await;
    assert_offload(&res, &Backend::XSendfile, &abs);
}

#[actix_web::test]
async fn missing_configuration_fails_closed_with_500() {
    let fx = fixture();
    let app = test::init_service(App::new().route(
        "/f",
        web::get().to(move || async { SendFile::new("hello.txt") }),
    ))
    .await;
    let res = test::call_service(&app, get().uri("/f").to_request()).await;
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(res.headers().get("x-sendfile").is_none());
    let text = body(res).await;
    assert!(!String::from_utf8(text).unwrap().contains("hello"));
    drop(fx);
}

#[actix_web::test]
async fn invalid_configuration_is_refused_at_start_up_and_500_not_404_per_request() {
    let fx = fixture();
    let err = SendFileConfig::builder(Backend::Nginx)
        .root(&fx.root)
        .build()
        .unwrap_err(); // no url
    assert_eq!(err.setting, "SENDFILE_URL");
    // What only a request can bring: a backend the configuration cannot serve. The
    // configuration error (500), not the missing file's 404.
    let config = SendFileConfig::builder(Backend::Simple)
        .root(&fx.root)
        .build()
        .unwrap();
    fn nginx(f: SendFile) -> SendFile {
        f.backend(Backend::Nginx)
    }
    let res = call(config.clone(), "missing.txt", nginx, get()).await;
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let res = call(config, "missing.txt", same, get()).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

/// How a level registers its configuration.
#[derive(Debug, Clone, Copy)]
enum Form {
    Plain,
    Data,
}

fn register<T>(app: T, form: Form, config: SendFileConfig) -> T
where
    T: AppData,
{
    match form {
        Form::Plain => app.with(config),
        Form::Data => app.with(web::Data::new(config)),
    }
}

/// `.app_data` on both `App` and `Scope`.
trait AppData: Sized {
    fn with<U: 'static>(self, data: U) -> Self;
}

impl<T> AppData for App<T>
where
    T: actix_web::dev::ServiceFactory<
            actix_web::dev::ServiceRequest,
            Config = (),
            Error = actix_web::Error,
            InitError = (),
        >,
{
    fn with<U: 'static>(self, data: U) -> Self {
        self.app_data(data)
    }
}

impl<T> AppData for actix_web::Scope<T>
where
    T: actix_web::dev::ServiceFactory<
            actix_web::dev::ServiceRequest,
            Config = (),
            Error = actix_web::Error,
            InitError = (),
        >,
{
    fn with<U: 'static>(self, data: U) -> Self {
        self.app_data(data)
    }
}

#[actix_web::test]
async fn the_nearest_configuration_wins_or_the_request_fails_closed() {
    let fx = fixture();
    let outer = SendFileConfig::builder(Backend::XSendfile)
        .root(&fx.root)
        .build()
        .unwrap();
    let inner = SendFileConfig::builder(Backend::Nginx)
        .root(fx.root.join("reports"))
        .url("/inner")
        .build()
        .unwrap();
    for (app_form, scope_form) in [
        (Form::Plain, Form::Plain),
        (Form::Data, Form::Data),
        (Form::Data, Form::Plain),
        (Form::Plain, Form::Data),
    ] {
        let app = test::init_service(
            register(App::new(), app_form, outer.clone())
                .route(
                    "/outer",
                    web::get().to(|| async { SendFile::new("reports/q3.pdf") }),
                )
                .service(
                    register(web::scope("/scope"), scope_form, inner.clone()).route(
                        "/inner",
                        web::get().to(|| async { SendFile::new("q3.pdf") }),
                    ),
                ),
        )
        .await;
        let res = test::call_service(&app, get().uri("/outer").to_request()).await;
        assert_offload(&res, &Backend::XSendfile, fx.root.join("reports/q3.pdf"));
        let res = test::call_service(&app, get().uri("/scope/inner").to_request()).await;
        match (app_form, scope_form) {
            (Form::Plain, Form::Plain) | (Form::Data, Form::Data) => {
                assert_offload(&res, &Backend::Nginx, "/inner/q3.pdf");
            }
            // actix-web cannot say which of two types is nearer: never the App's wider root.
            _ => {
                assert_eq!(res.status(), 500, "{app_form:?} {scope_form:?}");
                assert!(!res.headers().contains_key("x-sendfile"));
                assert!(!res.headers().contains_key("x-accel-redirect"));
            }
        }
    }
    // The same configuration in both forms is no ambiguity.
    let app = test::init_service(App::new().app_data(web::Data::new(inner.clone())).service(
        web::scope("/scope").app_data(inner).route(
            "/inner",
            web::get().to(|| async { SendFile::new("q3.pdf") }),
        ),
    ))
    .await;
    let res = test::call_service(&app, get().uri("/scope/inner").to_request()).await;
    assert_offload(&res, &Backend::Nginx, "/inner/q3.pdf");
}

#[actix_web::test]
async fn a_per_request_backend_overrides_the_configuration() {
    let fx = fixture();
    let config = SendFileConfig::builder(Backend::Nginx)
        .root(&fx.root)
        .url("/p")
        .build()
        .unwrap();
    let res = call(config, "hello.txt", |f| f.backend(Backend::Simple), get()).await;
    assert_eq!(res.headers().get("x-accel-redirect"), None);
    assert_eq!(body(res).await.len(), 100);
}

#[derive(Debug)]
struct LiteSpeed;

impl CustomBackend for LiteSpeed {
    fn name(&self) -> &str {
        "litespeed"
    }
    fn headers(&self, file: &ResolvedFile) -> Result<Vec<Header>, Error> {
        let rel = file.relative_path().to_str().unwrap().to_owned();
        Ok(vec![Header::new(
            "X-LiteSpeed-Location",
            format!("/internal/{rel}"),
        )])
    }
}

#[derive(Debug)]
struct Injector;

impl CustomBackend for Injector {
    fn name(&self) -> &str {
        "injector"
    }
    fn headers(&self, _: &ResolvedFile) -> Result<Vec<Header>, Error> {
        Ok(vec![Header::new("X-Evil", "a\r\nSet-Cookie: x=1")])
    }
}

#[actix_web::test]
async fn custom_backends_get_the_resolved_file_and_cannot_inject() {
    let fx = fixture();
    let config = SendFileConfig::builder(Backend::custom(LiteSpeed))
        .root(&fx.root)
        .build()
        .unwrap();
    let res = call(config, "reports/q3.pdf", same, get()).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        header(&res, "x-litespeed-location"),
        Some("/internal/reports/q3.pdf")
    );
    assert_eq!(header(&res, "content-type"), Some("application/pdf"));

    let config = SendFileConfig::builder(Backend::custom(Injector))
        .root(&fx.root)
        .build()
        .unwrap();
    let res = call(config, "hello.txt", same, get()).await;
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(res.headers().get("set-cookie").is_none() && res.headers().get("x-evil").is_none());
}

#[actix_web::test]
async fn no_filename_can_inject_a_header() {
    let fx = fixture();
    let config = SendFileConfig::builder(Backend::Nginx)
        .root(&fx.root)
        .url("/p")
        .build()
        .unwrap();
    let res = call(
        config,
        "hello.txt",
        |f| f.attachment().filename("a\r\nSet-Cookie: x=1\"; b.bat"),
        get(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers().get("set-cookie").is_none());
    let cd = header(&res, "content-disposition").unwrap();
    assert!(!cd.contains('\r') && !cd.contains('\n'));
    assert_download(&res, "a__Set-Cookie: x=1\"; b.bat");
}

#[actix_web::test]
async fn sendfile_composes_with_customize_and_results() {
    let fx = fixture();
    let config = SendFileConfig::builder(Backend::Simple)
        .root(&fx.root)
        .build()
        .unwrap();
    let app = test::init_service(App::new().app_data(config).route(
        "/r",
        web::get().to(|| async {
            Ok::<_, actix_web::Error>(
                actix_web::Responder::customize(SendFile::new("hello.txt"))
                    .insert_header(("X-Extra", "1")),
            )
        }),
    ))
    .await;
    let res = test::call_service(&app, get().uri("/r").to_request()).await;
    assert_eq!(header(&res, "x-extra"), Some("1"));
    assert_eq!(body(res).await.len(), 100);
}

#[actix_web::test]
async fn offload_never_answers_ranges_or_conditionals_itself() {
    let fx = fixture();
    for backend in [
        Backend::Nginx,
        Backend::XSendfile,
        Backend::Lighttpd,
        Backend::ModWsgi,
        Backend::Caddy,
    ] {
        let config = SendFileConfig::builder(backend.clone())
            .root(&fx.root)
            .url("/p")
            .build()
            .unwrap();
        for (name, value) in [
            ("Range", "bytes=0-9"),
            ("If-None-Match", "*"),
            ("If-Modified-Since", "Tue, 24 Nov 2099 00:00:00 GMT"),
            ("If-Match", "\"nope\""),
        ] {
            let res = call(
                config.clone(),
                "hello.txt",
                same,
                get().insert_header((name, value)),
            )
            .await;
            assert_eq!(res.status(), StatusCode::OK, "{backend} with {name}");
            assert_eq!(header(&res, "content-range"), None);
            assert!(body(res).await.is_empty());
        }
        let res = call(
            config,
            "hello.txt",
            same,
            test::TestRequest::default().method(Method::HEAD),
        )
        .await;
        assert_eq!(res.status(), StatusCode::OK, "{backend} HEAD");
    }
}
