//! `#[protected_file]` handlers served through `actix_web::test::init_service`.
//!
//! The root holds `alice-notes.txt`, `bob-notes.txt`, `public.txt` and the symbolic
//! link `shared.txt -> alice-notes.txt`. Offload responses are checked through the
//! `X-Sendfile` header (`Backend::XSendfile`), in-process ones through their bytes
//! (`Backend::Simple`).

use std::collections::HashMap;
use std::convert::Infallible;
use std::fmt;
use std::future::{Ready, ready};
use std::num::ParseIntError;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use actix_web::body::MessageBody;
use actix_web::dev::ServiceResponse;
use actix_web::http::StatusCode;
use actix_web::{
    App, FromRequest, HttpRequest, ResponseError, error::ErrorUnauthorized, get, test,
    test::TestRequest, web,
};
use sendfile_actix::{Backend, ResolvedSendFile, SendFile, SendFileConfig, protected_file};

// ---------------------------------------------------------------------------
// Fixtures

/// A temporary root with the files described at the top of this file.
struct Root {
    dir: tempfile::TempDir,
}

impl Root {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        for (name, content) in [
            ("alice-notes.txt", "alice's notes"),
            ("bob-notes.txt", "bob's notes"),
            ("public.txt", "for everyone"),
        ] {
            std::fs::write(dir.path().join(name), content).expect("write fixture");
        }
        std::os::unix::fs::symlink("alice-notes.txt", dir.path().join("shared.txt"))
            .expect("symlink fixture");
        Root { dir }
    }

    /// The absolute path the offload header names for `name`.
    fn real(&self, name: &str) -> PathBuf {
        self.dir
            .path()
            .canonicalize()
            .expect("canonical root")
            .join(name)
    }

    fn xsendfile(&self) -> SendFileConfig {
        SendFileConfig::builder(Backend::XSendfile)
            .root(self.dir.path())
            .build()
            .unwrap()
    }

    fn simple(&self) -> SendFileConfig {
        SendFileConfig::builder(Backend::Simple)
            .root(self.dir.path())
            .build()
            .unwrap()
    }
}

/// The user named by the `x-user` header; 401 without it.
#[derive(Debug)]
struct User(String);

impl User {
    /// Everybody reads `public.txt`; a user reads the files named after them.
    fn may_read(&self, name: &str) -> bool {
        name == "public.txt" || name.starts_with(&format!("{}-", self.0))
    }
}

impl FromRequest for User {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        ready(
            user_of(req)
                .map(User)
                .ok_or_else(|| ErrorUnauthorized("who are you?")),
        )
    }
}

fn user_of(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get("x-user")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// The application's own error type, with statuses of its own.
#[derive(Debug)]
enum MyError {
    Teapot,
    BadVersion,
    QuotaExhausted,
}

impl fmt::Display for MyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self:?}")
    }
}

impl ResponseError for MyError {
    fn status_code(&self) -> StatusCode {
        match self {
            MyError::Teapot => StatusCode::IM_A_TEAPOT,
            MyError::BadVersion => StatusCode::UNPROCESSABLE_ENTITY,
            MyError::QuotaExhausted => StatusCode::TOO_MANY_REQUESTS,
        }
    }
}

impl From<ParseIntError> for MyError {
    fn from(_: ParseIntError) -> Self {
        MyError::BadVersion
    }
}

/// A GET request as `user` (no `x-user` header when `None`).
fn get_as(uri: &str, user: Option<&str>) -> TestRequest {
    let req = TestRequest::get().uri(uri);
    match user {
        Some(user) => req.insert_header(("x-user", user)),
        None => req,
    }
}

/// The `X-Sendfile` header of an offload response, if any.
fn x_sendfile<B>(res: &ServiceResponse<B>) -> Option<PathBuf> {
    res.headers()
        .get("x-sendfile")
        .map(|v| PathBuf::from(std::str::from_utf8(v.as_bytes()).expect("utf-8 header")))
}

/// Asserts an offload of `file` with status 200.
fn assert_offloaded<B>(res: &ServiceResponse<B>, root: &Root, file: &str) {
    assert_eq!(res.status(), StatusCode::OK, "offload of {file}");
    assert_eq!(
        x_sendfile(res),
        Some(root.real(file)),
        "X-Sendfile of {file}"
    );
}

/// Asserts a refusal with `status` that names no file.
fn assert_refused<B>(res: &ServiceResponse<B>, status: StatusCode) {
    assert_eq!(res.status(), status);
    assert_eq!(x_sendfile(res), None, "a refused download names no file");
}

async fn body_of<B: MessageBody>(res: ServiceResponse<B>) -> String {
    String::from_utf8(test::read_body(res).await.to_vec()).expect("utf-8 body")
}

// ---------------------------------------------------------------------------
// Handlers

/// `allow` over a custom extractor and `web::Path`; `#[get]` above.
#[get("/files/{name}")]
#[protected_file(allow = user.may_read(&name))]
async fn download(user: User, name: web::Path<String>) -> SendFile {
    SendFile::new(name.into_inner())
}

/// The attribute's own denied status.
#[get("/hidden/{name}")]
#[protected_file(allow = user.may_read(&name), denied_status = 451)]
async fn hidden(user: User, name: web::Path<String>) -> SendFile {
    SendFile::new(name.into_inner())
}

/// `Result<SendFile, actix_web::Error>`, with `?` on an actix error.
#[get("/actix-result/{name}")]
#[protected_file(allow = user.may_read(&name))]
async fn actix_result(
    user: User,
    name: web::Path<String>,
    web::Query(params): web::Query<HashMap<String, String>>,
) -> Result<SendFile, actix_web::Error> {
    if let Some(attach) = params.get("attach") {
        let attach: bool = attach.parse().map_err(actix_web::error::ErrorBadRequest)?;
        if attach {
            return Ok(SendFile::new(name.into_inner()).attachment());
        }
    }
    Ok(SendFile::new(name.into_inner()))
}

/// `Result<SendFile, MyError>`; `?` converts through `MyError`'s own `From`.
#[get("/versions/{name}")]
#[protected_file(allow = user.may_read(&name))]
async fn versions(
    user: User,
    name: web::Path<String>,
    query: web::Query<HashMap<String, String>>,
) -> Result<SendFile, MyError> {
    if name.as_str() == "public.txt" && query.contains_key("teapot") {
        return Err(MyError::Teapot);
    }
    let version: u8 = query.get("v").map_or("1", String::as_str).parse()?;
    match version {
        1 => Ok(SendFile::new(name.into_inner())),
        _ => Err(MyError::BadVersion),
    }
}

/// `return` in a body returning `SendFile`; `allow` reads `web::Query` and awaits.
#[get("/latest")]
#[protected_file(allow = token_valid(query.get("token")).await)]
async fn latest(query: web::Query<HashMap<String, String>>) -> SendFile {
    if query.contains_key("old") {
        return SendFile::new("bob-notes.txt");
    }
    SendFile::new("public.txt")
}

async fn token_valid(token: Option<&String>) -> bool {
    token.is_some_and(|t| t == "letmein")
}

/// Registered with `web::get().to(..)`, the attribute above no route macro.
#[protected_file(allow = user.may_read(&name))]
async fn routed(user: User, name: web::Path<String>) -> Result<SendFile, Infallible> {
    Ok(SendFile::new(name.into_inner()))
}

/// The attribute above `#[get]`, with a tuple pattern for its arguments.
#[protected_file(allow = user.may_read(&name))]
#[get("/above/{name}")]
async fn above((user, name): (User, web::Path<String>)) -> SendFile {
    SendFile::new(name.into_inner())
}

/// A permission decided by a type parameter, with a `where` clause.
trait Policy {
    fn allows(user: &User, name: &str) -> bool;
}

struct OwnFiles;
impl Policy for OwnFiles {
    fn allows(user: &User, name: &str) -> bool {
        user.may_read(name)
    }
}

struct Nothing;
impl Policy for Nothing {
    fn allows(_: &User, _: &str) -> bool {
        false
    }
}

#[protected_file(allow = P::allows(&user, &name))]
async fn generic<P>(user: User, name: web::Path<String>) -> SendFile
where
    P: Policy + 'static,
{
    SendFile::new(name.into_inner())
}

/// The resolved file must be named after the user.
async fn owns_file(req: &HttpRequest, file: &ResolvedSendFile) -> bool {
    let (Some(user), Some(name)) = (user_of(req), file.relative_path().file_name()) else {
        return false;
    };
    name.to_string_lossy().starts_with(&format!("{user}-"))
}

#[get("/mine/{name}")]
#[protected_file(check = owns_file)]
async fn mine(name: web::Path<String>) -> Result<SendFile, actix_web::Error> {
    Ok(SendFile::new(name.into_inner()))
}

/// A check that can fail with an error of its own.
async fn within_quota(req: &HttpRequest, file: &ResolvedSendFile) -> Result<bool, MyError> {
    match req.headers().get("x-quota").map(|v| v.as_bytes()) {
        Some(b"exhausted") => Err(MyError::QuotaExhausted),
        Some(b"ok") => Ok(owns_file(req, file).await),
        _ => Ok(false),
    }
}

#[get("/quota/{name}")]
#[protected_file(check = within_quota, denied_status = 404)]
async fn quota(name: web::Path<String>) -> SendFile {
    SendFile::new(name.into_inner())
}

/// Calls of `counted_check`, for the test of `allow` and `check` together.
static BOTH_CHECKS: AtomicUsize = AtomicUsize::new(0);

async fn counted_check(req: &HttpRequest, file: &ResolvedSendFile) -> bool {
    BOTH_CHECKS.fetch_add(1, Ordering::SeqCst);
    owns_file(req, file).await
}

#[get("/both/{name}")]
#[protected_file(allow = user.0 != "mallory", check = counted_check)]
async fn both(user: User, name: web::Path<String>) -> SendFile {
    let _ = user;
    SendFile::new(name.into_inner())
}

/// Calls of `missing_check`, for the test of a file that does not exist.
static MISSING_CHECKS: AtomicUsize = AtomicUsize::new(0);

async fn missing_check(_: &HttpRequest, _: &ResolvedSendFile) -> bool {
    MISSING_CHECKS.fetch_add(1, Ordering::SeqCst);
    true
}

#[get("/missing/{name}")]
#[protected_file(check = missing_check)]
async fn missing(name: web::Path<String>) -> SendFile {
    SendFile::new(name.into_inner())
}

// ---------------------------------------------------------------------------
// `allow`

#[actix_web::test]
async fn allow_lets_the_owner_download() {
    let root = Root::new();
    let app = test::init_service(App::new().app_data(root.xsendfile()).service(download)).await;

    let res = get_as("/files/alice-notes.txt", Some("alice"))
        .send_request(&app)
        .await;
    assert_offloaded(&res, &root, "alice-notes.txt");
    let res = get_as("/files/public.txt", Some("bob"))
        .send_request(&app)
        .await;
    assert_offloaded(&res, &root, "public.txt");
}

#[actix_web::test]
async fn allow_false_is_403_and_names_no_file() {
    let root = Root::new();
    let app = test::init_service(App::new().app_data(root.xsendfile()).service(download)).await;

    let res = get_as("/files/alice-notes.txt", Some("bob"))
        .send_request(&app)
        .await;
    assert_refused(&res, StatusCode::FORBIDDEN);
}

#[actix_web::test]
async fn an_extractor_error_keeps_its_status() {
    let root = Root::new();
    let app = test::init_service(App::new().app_data(root.xsendfile()).service(download)).await;

    let res = get_as("/files/public.txt", None).send_request(&app).await;
    assert_refused(&res, StatusCode::UNAUTHORIZED);
}

#[actix_web::test]
async fn the_configuration_sets_the_denied_status() {
    let root = Root::new();
    let config = SendFileConfig::builder(Backend::XSendfile)
        .root(root.dir.path())
        .denied_status(sendfile_actix::DeniedStatus::NOT_FOUND)
        .build()
        .unwrap();
    let app = test::init_service(App::new().app_data(config).service(download)).await;

    let res = get_as("/files/alice-notes.txt", Some("bob"))
        .send_request(&app)
        .await;
    assert_refused(&res, StatusCode::NOT_FOUND);
    let res = get_as("/files/bob-notes.txt", Some("bob"))
        .send_request(&app)
        .await;
    assert_offloaded(&res, &root, "bob-notes.txt");
}

#[actix_web::test]
async fn the_configuration_is_also_read_from_web_data() {
    let root = Root::new();
    let config = web::Data::new(
        SendFileConfig::builder(Backend::XSendfile)
            .root(root.dir.path())
            .denied_status(sendfile_actix::DeniedStatus::NOT_FOUND)
            .build()
            .unwrap(),
    );
    let app = test::init_service(App::new().app_data(config).service(download)).await;

    let res = get_as("/files/alice-notes.txt", Some("bob"))
        .send_request(&app)
        .await;
    assert_refused(&res, StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn denied_without_a_configuration_is_403() {
    let app = test::init_service(App::new().service(download)).await;

    let res = get_as("/files/alice-notes.txt", Some("bob"))
        .send_request(&app)
        .await;
    assert_refused(&res, StatusCode::FORBIDDEN);
}

#[actix_web::test]
async fn the_attribute_status_overrides_the_configuration() {
    let root = Root::new();
    let app = test::init_service(App::new().app_data(root.xsendfile()).service(hidden)).await;
    let res = get_as("/hidden/alice-notes.txt", Some("bob"))
        .send_request(&app)
        .await;
    assert_refused(&res, StatusCode::UNAVAILABLE_FOR_LEGAL_REASONS);

    let config = SendFileConfig::builder(Backend::XSendfile)
        .root(root.dir.path())
        .denied_status(sendfile_actix::DeniedStatus::NOT_FOUND)
        .build()
        .unwrap();
    let app = test::init_service(App::new().app_data(config).service(hidden)).await;
    let res = get_as("/hidden/alice-notes.txt", Some("bob"))
        .send_request(&app)
        .await;
    assert_refused(&res, StatusCode::UNAVAILABLE_FOR_LEGAL_REASONS);
    let res = get_as("/hidden/bob-notes.txt", Some("bob"))
        .send_request(&app)
        .await;
    assert_offloaded(&res, &root, "bob-notes.txt");
}

#[actix_web::test]
async fn simple_backend_sends_the_bytes_only_when_allowed() {
    let root = Root::new();
    let app = test::init_service(App::new().app_data(root.simple()).service(download)).await;

    let res = get_as("/files/alice-notes.txt", Some("alice"))
        .send_request(&app)
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(body_of(res).await, "alice's notes");

    let res = get_as("/files/alice-notes.txt", Some("bob"))
        .send_request(&app)
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(!body_of(res).await.contains("alice's notes"));
}

// ---------------------------------------------------------------------------
// Return shapes, `?` and `return`

#[actix_web::test]
async fn result_with_actix_error_and_question_mark() {
    let root = Root::new();
    let app = test::init_service(App::new().app_data(root.xsendfile()).service(actix_result)).await;

    let res = get_as("/actix-result/bob-notes.txt", Some("bob"))
        .send_request(&app)
        .await;
    assert_offloaded(&res, &root, "bob-notes.txt");

    // `return` with a different SendFile.
    let res = get_as("/actix-result/bob-notes.txt?attach=true", Some("bob"))
        .send_request(&app)
        .await;
    assert_offloaded(&res, &root, "bob-notes.txt");
    let disposition = res
        .headers()
        .get("content-disposition")
        .expect("disposition");
    assert!(disposition.as_bytes().starts_with(b"attachment"));

    // `?` on the body's own error.
    let res = get_as("/actix-result/bob-notes.txt?attach=maybe", Some("bob"))
        .send_request(&app)
        .await;
    assert_refused(&res, StatusCode::BAD_REQUEST);

    // Denied before the body runs: its error never shows.
    let res = get_as("/actix-result/alice-notes.txt?attach=maybe", Some("bob"))
        .send_request(&app)
        .await;
    assert_refused(&res, StatusCode::FORBIDDEN);
}

#[actix_web::test]
async fn result_with_own_error_type_keeps_its_status() {
    let root = Root::new();
    let app = test::init_service(App::new().app_data(root.xsendfile()).service(versions)).await;

    let res = get_as("/versions/public.txt?v=1", Some("bob"))
        .send_request(&app)
        .await;
    assert_offloaded(&res, &root, "public.txt");

    // `return Err(..)`.
    let res = get_as("/versions/public.txt?teapot", Some("bob"))
        .send_request(&app)
        .await;
    assert_refused(&res, StatusCode::IM_A_TEAPOT);

    // `?` converting a ParseIntError through `From<ParseIntError> for MyError`.
    let res = get_as("/versions/public.txt?v=x", Some("bob"))
        .send_request(&app)
        .await;
    assert_refused(&res, StatusCode::UNPROCESSABLE_ENTITY);

    let res = get_as("/versions/public.txt?v=2", Some("bob"))
        .send_request(&app)
        .await;
    assert_refused(&res, StatusCode::UNPROCESSABLE_ENTITY);

    let res = get_as("/versions/alice-notes.txt?v=1", Some("bob"))
        .send_request(&app)
        .await;
    assert_refused(&res, StatusCode::FORBIDDEN);
}

#[actix_web::test]
async fn return_in_a_sendfile_body_and_an_awaiting_allow() {
    let root = Root::new();
    let app = test::init_service(App::new().app_data(root.xsendfile()).service(latest)).await;

    let res = get_as("/latest?token=letmein", None)
        .send_request(&app)
        .await;
    assert_offloaded(&res, &root, "public.txt");
    let res = get_as("/latest?token=letmein&old", None)
        .send_request(&app)
        .await;
    assert_offloaded(&res, &root, "bob-notes.txt");
    let res = get_as("/latest?token=guess&old", None)
        .send_request(&app)
        .await;
    assert_refused(&res, StatusCode::FORBIDDEN);
    let res = get_as("/latest", None).send_request(&app).await;
    assert_refused(&res, StatusCode::FORBIDDEN);
}

// ---------------------------------------------------------------------------
// Registration

#[actix_web::test]
async fn works_with_web_get_to() {
    let root = Root::new();
    let app = test::init_service(
        App::new()
            .app_data(root.xsendfile())
            .route("/routed/{name}", web::get().to(routed)),
    )
    .await;

    let res = get_as("/routed/bob-notes.txt", Some("bob"))
        .send_request(&app)
        .await;
    assert_offloaded(&res, &root, "bob-notes.txt");
    let res = get_as("/routed/alice-notes.txt", Some("bob"))
        .send_request(&app)
        .await;
    assert_refused(&res, StatusCode::FORBIDDEN);
}

#[actix_web::test]
async fn works_above_get_with_a_tuple_pattern() {
    let root = Root::new();
    let app = test::init_service(App::new().app_data(root.xsendfile()).service(above)).await;

    let res = get_as("/above/bob-notes.txt", Some("bob"))
        .send_request(&app)
        .await;
    assert_offloaded(&res, &root, "bob-notes.txt");
    let res = get_as("/above/alice-notes.txt", Some("bob"))
        .send_request(&app)
        .await;
    assert_refused(&res, StatusCode::FORBIDDEN);
}

#[actix_web::test]
async fn generic_handlers_keep_their_parameters() {
    let root = Root::new();
    let app = test::init_service(
        App::new()
            .app_data(root.xsendfile())
            .route("/own/{name}", web::get().to(generic::<OwnFiles>))
            .route("/none/{name}", web::get().to(generic::<Nothing>)),
    )
    .await;

    let res = get_as("/own/bob-notes.txt", Some("bob"))
        .send_request(&app)
        .await;
    assert_offloaded(&res, &root, "bob-notes.txt");
    let res = get_as("/none/bob-notes.txt", Some("bob"))
        .send_request(&app)
        .await;
    assert_refused(&res, StatusCode::FORBIDDEN);
}

// ---------------------------------------------------------------------------
// `check`

#[actix_web::test]
async fn check_sees_the_file_behind_a_symlink() {
    let root = Root::new();
    let app = test::init_service(App::new().app_data(root.xsendfile()).service(mine)).await;

    // `shared.txt` is a link to `alice-notes.txt`: the check sees the target.
    let res = get_as("/mine/shared.txt", Some("alice"))
        .send_request(&app)
        .await;
    assert_offloaded(&res, &root, "alice-notes.txt");
    let res = get_as("/mine/shared.txt", Some("bob"))
        .send_request(&app)
        .await;
    assert_refused(&res, StatusCode::FORBIDDEN);

    let res = get_as("/mine/bob-notes.txt", Some("bob"))
        .send_request(&app)
        .await;
    assert_offloaded(&res, &root, "bob-notes.txt");
    let res = get_as("/mine/bob-notes.txt", Some("alice"))
        .send_request(&app)
        .await;
    assert_refused(&res, StatusCode::FORBIDDEN);
}

#[actix_web::test]
async fn check_denial_uses_the_configured_status() {
    let root = Root::new();
    let config = SendFileConfig::builder(Backend::Simple)
        .root(root.dir.path())
        .denied_status(sendfile_actix::DeniedStatus::NOT_FOUND)
        .build()
        .unwrap();
    let app = test::init_service(App::new().app_data(config).service(mine)).await;

    let res = get_as("/mine/shared.txt", Some("bob"))
        .send_request(&app)
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert!(!body_of(res).await.contains("alice's notes"));

    let res = get_as("/mine/shared.txt", Some("alice"))
        .send_request(&app)
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(body_of(res).await, "alice's notes");
}

#[actix_web::test]
async fn check_returning_result() {
    let root = Root::new();
    let app = test::init_service(App::new().app_data(root.xsendfile()).service(quota)).await;

    let ok = |uri: &str, user: &str, allowance: &str| {
        get_as(uri, Some(user)).insert_header(("x-quota", allowance))
    };
    let res = ok("/quota/bob-notes.txt", "bob", "ok")
        .send_request(&app)
        .await;
    assert_offloaded(&res, &root, "bob-notes.txt");
    // Ok(false): the attribute's denied status.
    let res = ok("/quota/alice-notes.txt", "bob", "ok")
        .send_request(&app)
        .await;
    assert_refused(&res, StatusCode::NOT_FOUND);
    // Err(e): e's own status.
    let res = ok("/quota/bob-notes.txt", "bob", "exhausted")
        .send_request(&app)
        .await;
    assert_refused(&res, StatusCode::TOO_MANY_REQUESTS);
}

#[actix_web::test]
async fn allow_runs_first_then_check() {
    let root = Root::new();
    let app = test::init_service(App::new().app_data(root.xsendfile()).service(both)).await;

    let res = get_as("/both/mallory-notes.txt", Some("mallory"))
        .send_request(&app)
        .await;
    assert_refused(&res, StatusCode::FORBIDDEN);
    assert_eq!(BOTH_CHECKS.load(Ordering::SeqCst), 0, "allow denied first");

    let res = get_as("/both/shared.txt", Some("bob"))
        .send_request(&app)
        .await;
    assert_refused(&res, StatusCode::FORBIDDEN);
    assert_eq!(BOTH_CHECKS.load(Ordering::SeqCst), 1);

    let res = get_as("/both/shared.txt", Some("alice"))
        .send_request(&app)
        .await;
    assert_offloaded(&res, &root, "alice-notes.txt");
    assert_eq!(BOTH_CHECKS.load(Ordering::SeqCst), 2);
}

#[actix_web::test]
async fn check_is_not_called_for_a_missing_file() {
    let root = Root::new();
    let app = test::init_service(App::new().app_data(root.xsendfile()).service(missing)).await;

    let res = get_as("/missing/nobody.txt", None).send_request(&app).await;
    assert_refused(&res, StatusCode::NOT_FOUND);
    assert_eq!(MISSING_CHECKS.load(Ordering::SeqCst), 0);

    let res = get_as("/missing/public.txt", None).send_request(&app).await;
    assert_offloaded(&res, &root, "public.txt");
    assert_eq!(MISSING_CHECKS.load(Ordering::SeqCst), 1);
}

#[actix_web::test]
async fn check_without_a_configuration_fails_closed() {
    let app = test::init_service(App::new().service(mine)).await;

    let res = get_as("/mine/bob-notes.txt", Some("bob"))
        .send_request(&app)
        .await;
    assert_refused(&res, StatusCode::INTERNAL_SERVER_ERROR);
}
