//! The protected-downloads example: an actix-web app with a few demo users, each with private
//! files, plus public files everyone may download.
//!
//! - `GET /` shows a sign-in form, or, signed in, the user's files with name, size, date, a
//!   view link and a download button, a form to upload a file, the backend in use and the
//!   doctor's verdict on the front server ([`page`]).
//! - `POST /sign-in`, `POST /sign-out`: server-side sessions, login-CSRF checks and a sign-in
//!   throttle ([`sessions`], [`throttle`]); HTTP Basic also works, for curl.
//! - `POST /upload`: a file into the user's own area ([`upload`]).
//! - `GET /download/{path}` checks the permission with `#[protected_file]` and returns a
//!   [`SendFile`] as an attachment; `GET /view/{path}` the same file inline (the library's
//!   content policy decides what a browser may render). The configured backend decides who
//!   sends the bytes. The permission is checked twice: on the requested name before
//!   anything is touched, and on the resolved file (symlinks followed) before it is sent, so
//!   a link in `public/` to a private file is refused.
//!
//! - `GET /archive/{directory}` answers a ZIP of the directory's files the user may read
//!   ([`archive`]): "Download all".
//!
//! [`links`] adds share links (signed, expiring) when `SENDFILE_LINK_SECRET` is set.
//!
//! Users, their files and the sessions are in SQLite ([`db`], [`state`]); passwords are
//! stored as Argon2id hashes. [`deploy`] holds the front-server configurations generated for
//! it (`print-config`).
//!
//! The files live below the configured root: `public/...` for everyone, `users/<name>/...`
//! for one user. [`create_sample_tree`] writes a small tree to try it with.
//!
//! ```
//! use actix_web::{App, test};
//! use sendfile_actix::{Backend, SendFileConfig};
//!
//! # actix_web::rt::System::new().block_on(async {
//! let root = tempfile::tempdir().unwrap();
//! protected_downloads::create_sample_tree(root.path()).unwrap();
//! let config = SendFileConfig::builder(Backend::Simple).root(root.path()).build().unwrap();
//! let app = test::init_service(
//!     App::new().app_data(config).configure(protected_downloads::configure),
//! )
//! .await;
//! let req = test::TestRequest::get().uri("/download/public/welcome.txt").to_request();
//! let res = test::call_service(&app, req).await;
//! assert_eq!(res.status(), 200);
//! # });
//! ```

pub mod archive;
pub mod db;
pub mod deploy;
pub mod links;
pub mod page;
pub mod sessions;
pub mod state;
pub mod throttle;
pub mod upload;

use std::fmt::Write as _;
use std::fs;
use std::io;
use std::path::{Component, Path};

use actix_web::http::StatusCode;
use actix_web::http::header::{self, ContentType};
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use sendfile_actix::{ResolvedSendFile, SendFile, protected_file};

/// A demo account, created with the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoUser {
    /// The user name; the user's files are in `users/<name>/`.
    pub name: &'static str,
    /// Its password (stored hashed; shown on the sign-in page because it is a demo).
    pub password: &'static str,
}

/// The demo accounts.
pub const USERS: [DemoUser; 2] = [
    DemoUser {
        name: "alice",
        password: "wonderland",
    },
    DemoUser {
        name: "bob",
        password: "builder",
    },
];

/// The realm of the HTTP Basic challenge.
pub const REALM: &str = "protected_downloads";

/// Writes the sample tree below `root` (created if missing; existing files are overwritten):
/// `public/` for everyone and `users/<name>/` for each demo user.
pub fn create_sample_tree(root: &Path) -> io::Result<()> {
    let files: [(&str, &[u8]); 7] = [
        (
            "public/welcome.txt",
            b"Welcome! Everyone may download the files in public/.\n",
        ),
        (
            "public/handbook.html",
            b"<!doctype html><title>Handbook</title><h1>Handbook</h1>\n",
        ),
        (
            "public/price list 2026.pdf",
            b"%PDF-1.4\n% a placeholder, not a real PDF\n%%EOF\n",
        ),
        (
            "users/alice/notes.txt",
            b"Alice's private notes: only alice may download this.\n",
        ),
        (
            "users/alice/r\u{e9}sum\u{e9} 2026.txt",
            b"Alice's r\xc3\xa9sum\xc3\xa9.\n",
        ),
        (
            "users/bob/notes.txt",
            b"Bob's private notes: only bob may download this.\n",
        ),
        ("users/bob/budget.csv", b"item,amount\nbricks,120\n"),
    ];
    for (rel, content) in files {
        let path = root.join(rel);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::write(path, content)?;
    }
    Ok(())
}

/// Registers `GET /`, `POST /sign-in`, `POST /sign-out`, `POST /upload`,
/// `GET /download/{path}`, `GET /view/{path}`, `GET /archive/{directory}` ([`archive`]) and
/// the doctor's routes
/// ([`sendfile_actix::doctor::configure`]). The app must also carry a
/// [`SendFileConfig`](sendfile_actix::SendFileConfig) as app data, and may carry a
/// `web::Data<`[`state::AppState`]`>` (without one, each root gets a database in memory).
/// The page also shows a [`page::DoctorVerdict`] found as `web::Data`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.configure(sendfile_actix::doctor::configure)
        .configure(links::configure_forward_auth)
        .service(web::resource("/").route(web::get().to(page::index)))
        .service(
            web::resource("/sign-in")
                // A sign-in form is a few dozen bytes.
                .app_data(web::PayloadConfig::new(4096))
                .route(web::post().to(sessions::sign_in)),
        )
        .service(
            web::resource("/sign-out")
                .app_data(web::PayloadConfig::new(4096))
                .route(web::post().to(sessions::sign_out)),
        )
        .service(web::resource("/upload").route(web::post().to(upload::upload)))
        // HEAD too: actix-web does not route HEAD to GET handlers, and front servers forward it.
        .service(
            web::resource("/download/{path:.*}")
                .route(web::get().to(download))
                .route(web::head().to(download)),
        )
        .service(
            web::resource("/view/{path:.*}")
                .route(web::get().to(view))
                .route(web::head().to(view)),
        )
        .service(
            web::resource("/archive/{dir:.*}")
                .route(web::get().to(archive::download_all))
                .route(web::head().to(archive::download_all)),
        );
}

/// Whether `user` (`None`: not signed in) may download `path`, a path relative to the root.
///
/// Everyone may have `public/...`; a user may have `users/<own name>/...`. A path with an
/// empty, `.` or `..` segment, or an absolute one, is refused here already.
pub fn may_download(user: Option<&str>, path: &str) -> bool {
    if path.is_empty()
        || path
            .split('/')
            .any(|s| s.is_empty() || s == "." || s == "..")
    {
        return false;
    }
    let parts: Vec<Component<'_>> = Path::new(path).components().collect();
    if !parts.iter().all(|c| matches!(c, Component::Normal(_))) {
        return false;
    }
    let segments: Vec<&str> = path.split('/').collect();
    match segments.as_slice() {
        ["public", _, ..] => true,
        ["users", owner, _, ..] => user == Some(*owner),
        _ => false,
    }
}

/// The signed-in user of a request, if any: HTTP Basic (checked against the database, through
/// the throttle: too many failures answer 429), or the session cookie. Resolved once per
/// request.
#[derive(Debug, Clone)]
pub struct SignedIn(pub Option<db::User>);

impl SignedIn {
    /// The user's name.
    pub fn name(&self) -> Option<&str> {
        self.0.as_ref().map(|u| u.name.as_str())
    }
}

/// A 401 that asks the browser for credentials.
#[derive(Debug)]
pub struct SignInRequired;

impl std::fmt::Display for SignInRequired {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("sign in to download this file")
    }
}

impl ResponseError for SignInRequired {
    fn status_code(&self) -> StatusCode {
        StatusCode::UNAUTHORIZED
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::Unauthorized()
            .insert_header((
                header::WWW_AUTHENTICATE,
                format!("Basic realm=\"{REALM}\", charset=\"UTF-8\""),
            ))
            .content_type(ContentType::plaintext())
            .body("Sign in to see your files.\n")
    }
}

/// The permission of the download handler: a private file asks an anonymous user to sign in
/// (401), and is refused to another user (false: 403).
pub(crate) fn authorize(user: &SignedIn, path: &str) -> Result<bool, SignInRequired> {
    if user.0.is_none() && path.starts_with("users/") {
        return Err(SignInRequired);
    }
    Ok(may_download(user.name(), path))
}

/// The permission on the file that will be sent: its location below the root, symlinks
/// resolved. A name that is not UTF-8 matches no rule and is refused.
pub(crate) async fn may_have(
    req: &HttpRequest,
    file: &ResolvedSendFile,
) -> Result<bool, actix_web::Error> {
    match file.relative_path().to_str() {
        Some(path) => Ok(authorize(&sessions::resolve(req).await?, path)?),
        None => Ok(false),
    }
}

/// `GET /download/{path}` (and HEAD, see [`configure`]): the file, if the user may have it. `allow` refuses a
/// name the user may not ask for before the filesystem is touched (so nobody learns which
/// private files exist); `check` decides on the file that is actually sent.
#[protected_file(allow = authorize(&user, path.as_str())?, check = may_have)]
async fn download(user: SignedIn, path: web::Path<String>) -> SendFile {
    SendFile::new(path.into_inner()).attachment()
}

/// `GET /view/{path}` (and HEAD): as [`download`], inline: what the browser may show in the
/// tab (an image, a PDF, text) it shows; the library's content policy keeps active content
/// (HTML, SVG as a page, scripts) from running on the app's origin.
#[protected_file(allow = authorize(&user, path.as_str())?, check = may_have)]
async fn view(user: SignedIn, path: web::Path<String>) -> SendFile {
    SendFile::new(path.into_inner()).inline()
}

/// Percent-encodes a path for a link: everything but `A-Z a-z 0-9 - . _ ~ /`.
pub fn encode_url_path(path: &str) -> String {
    let mut s = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            s.push(char::from(b));
        } else {
            let _ = write!(s, "%{b:02X}");
        }
    }
    s
}

pub(crate) fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::App;
    use actix_web::test as atest;
    use sendfile_actix::{Backend, SendFileConfig};

    fn basic(user: &str, password: &str) -> String {
        // "alice:wonderland" and friends, encoded by hand to test the decoder.
        let table = [
            ("alice:wonderland", "YWxpY2U6d29uZGVybGFuZA=="),
            ("bob:builder", "Ym9iOmJ1aWxkZXI="),
            ("bob:wrong", "Ym9iOndyb25n"),
        ];
        let key = format!("{user}:{password}");
        let token = table.iter().find(|(k, _)| *k == key).expect("known pair").1;
        format!("Basic {token}")
    }

    #[test]
    fn permissions() {
        assert!(may_download(None, "public/welcome.txt"));
        assert!(may_download(None, "public/a/b c.txt"));
        assert!(may_download(Some("alice"), "users/alice/notes.txt"));
        assert!(!may_download(Some("bob"), "users/alice/notes.txt"));
        assert!(!may_download(None, "users/alice/notes.txt"));
        assert!(!may_download(None, "public"));
        assert!(!may_download(None, "public/"));
        assert!(!may_download(None, "public/../users/alice/notes.txt"));
        assert!(!may_download(None, "public/./x"));
        assert!(!may_download(None, "public//x"));
        assert!(!may_download(None, "/etc/passwd"));
        assert!(!may_download(Some("alice"), "users/alice"));
        assert!(!may_download(None, "secret.txt"));
    }

    #[actix_rt::test]
    async fn downloads_and_index() {
        let root = tempfile::tempdir().unwrap();
        create_sample_tree(root.path()).unwrap();
        let config = SendFileConfig::builder(Backend::Simple)
            .root(root.path())
            .build()
            .unwrap();
        let app = atest::init_service(App::new().app_data(config).configure(configure)).await;

        let get = |uri: &str, auth: Option<String>| {
            let mut req = atest::TestRequest::get().uri(uri);
            if let Some(a) = auth {
                req = req.insert_header((header::AUTHORIZATION, a));
            }
            req.to_request()
        };
        let res = atest::call_service(&app, get("/download/public/welcome.txt", None)).await;
        assert_eq!(res.status(), 200);
        assert!(
            res.headers()
                .get(header::CONTENT_DISPOSITION)
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with("attachment")
        );
        let body = atest::read_body(res).await;
        assert!(body.starts_with(b"Welcome!"));

        let alice = Some(basic("alice", "wonderland"));
        let bob = Some(basic("bob", "builder"));
        let res = atest::call_service(&app, get("/download/users/alice/notes.txt", None)).await;
        assert_eq!(res.status(), 401);
        assert!(res.headers().contains_key(header::WWW_AUTHENTICATE));
        let res =
            atest::call_service(&app, get("/download/users/alice/notes.txt", bob.clone())).await;
        assert_eq!(res.status(), 403);
        let res =
            atest::call_service(&app, get("/download/users/alice/notes.txt", alice.clone())).await;
        assert_eq!(res.status(), 200);
        let res = atest::call_service(
            &app,
            get(
                "/download/users/alice/r%C3%A9sum%C3%A9%202026.txt",
                alice.clone(),
            ),
        )
        .await;
        assert_eq!(res.status(), 200);

        // A link in public/ to a private file is checked as the private file.
        std::os::unix::fs::symlink(
            "../users/alice/notes.txt",
            root.path().join("public/shared.txt"),
        )
        .unwrap();
        let res = atest::call_service(&app, get("/download/public/shared.txt", None)).await;
        assert_eq!(res.status(), 401);
        let res = atest::call_service(&app, get("/download/public/shared.txt", bob.clone())).await;
        assert_eq!(res.status(), 403);
        let res =
            atest::call_service(&app, get("/download/public/shared.txt", alice.clone())).await;
        assert_eq!(res.status(), 200);
        assert!(
            atest::read_body(res)
                .await
                .starts_with(b"Alice's private notes")
        );

        let res = atest::call_service(&app, get("/", None)).await;
        assert_eq!(res.status(), 200);
        let page = String::from_utf8(atest::read_body(res).await.to_vec()).unwrap();
        assert!(page.contains("<form class=\"sign-in\""), "{page}");
        assert!(!page.contains("/download/"), "{page}");
        let res = atest::call_service(&app, get("/", alice)).await;
        assert_eq!(res.status(), 200);
        let page = String::from_utf8(atest::read_body(res).await.to_vec()).unwrap();
        assert!(page.contains("/download/users/alice/notes.txt"), "{page}");
        assert!(
            page.contains("/download/public/price%20list%202026.pdf"),
            "{page}"
        );
        assert!(page.contains("<meta name=\"viewport\""), "{page}");
        assert!(page.contains(">r\u{e9}sum\u{e9} 2026.txt</td>"), "{page}");
        assert!(page.contains("Files are sent by the app itself."), "{page}");
        assert!(!page.contains("users/bob"), "{page}");
    }

    #[actix_rt::test]
    async fn sign_in_with_the_form_then_out() {
        let root = tempfile::tempdir().unwrap();
        create_sample_tree(root.path()).unwrap();
        let config = SendFileConfig::builder(Backend::Simple)
            .root(root.path())
            .build()
            .unwrap();
        let app = atest::init_service(App::new().app_data(config).configure(configure)).await;
        let form = |body: &'static str| {
            atest::TestRequest::post()
                .uri("/sign-in")
                .insert_header((header::CONTENT_TYPE, "application/x-www-form-urlencoded"))
                .set_payload(body)
                .to_request()
        };
        let res = atest::call_service(&app, form("name=alice&password=nope")).await;
        assert_eq!(res.status(), 401);
        assert!(res.response().cookies().next().is_none());
        let res = atest::call_service(&app, form("name=alice&password=wonderland")).await;
        assert_eq!(res.status(), 303);
        let cookie = res
            .response()
            .cookies()
            .find(|c| c.name() == "pd_session")
            .expect("a session cookie")
            .into_owned();
        assert!(cookie.http_only().unwrap_or(false));
        let with_cookie = |uri: &str| {
            atest::TestRequest::get()
                .uri(uri)
                .cookie(cookie.clone())
                .to_request()
        };
        let res = atest::call_service(&app, with_cookie("/")).await;
        let page = String::from_utf8(atest::read_body(res).await.to_vec()).unwrap();
        assert!(
            page.contains("Signed in as <strong>alice</strong>"),
            "{page}"
        );
        let res = atest::call_service(&app, with_cookie("/download/users/alice/notes.txt")).await;
        assert_eq!(res.status(), 200);
        let res = atest::call_service(&app, with_cookie("/download/users/bob/notes.txt")).await;
        assert_eq!(res.status(), 403);

        let out = atest::TestRequest::post()
            .uri("/sign-out")
            .cookie(cookie.clone())
            .to_request();
        let res = atest::call_service(&app, out).await;
        assert_eq!(res.status(), 303);
        let removed = res
            .response()
            .cookies()
            .find(|c| c.name() == "pd_session")
            .expect("the cookie is removed");
        assert_eq!(removed.value(), "");
    }
}
