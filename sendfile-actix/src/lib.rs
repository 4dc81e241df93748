//! Check who may download a file in actix-web, then hand the sending of the bytes to the front
//! web server.
//!
//! A handler decides whether the user may have a file and returns a [`SendFile`]. The
//! [`SendFileConfig`] registered as app data chooses the [`Backend`] that turns it into a
//! response:
//!
//! | backend | response | front server configuration |
//! |---|---|---|
//! | `nginx` | `X-Accel-Redirect: <url>/<path>` (percent-encoded) | an `internal` location with `alias <root>/` |
//! | `xsendfile` | `X-Sendfile: <absolute path>` (raw bytes) | Apache `mod_xsendfile` 0.12, `XSendFilePath <root>` |
//! | `lighttpd` | `X-Sendfile: <absolute path>` (percent-encoded) | `mod_proxy` with `x-sendfile` and `x-sendfile-docroot` |
//! | `mod_wsgi` | `Location: <url>/<path>` with status 200 | mod_wsgi daemon mode, or Caddy `handle_response` |
//! | `caddy` | `X-Accel-Redirect: <url>/<path>` (raw) | `reverse_proxy` + `handle_response` |
//! | `simple` | the bytes, streamed by the application | none |
//! | `development` | the bytes, `Cache-Control: no-store` | none; not for production |
//!
//! Offload responses are `200` with an empty body, a `Content-Type` and a
//! `Content-Disposition`; the front server answers ranges and conditional requests. The
//! in-process backends answer them themselves (RFC 9110: `If-Match`, `If-None-Match`,
//! `If-Modified-Since`, `If-Unmodified-Since`, `If-Range`, single and multipart ranges, HEAD)
//! in constant memory.
//!
//! Every path is confined to the root: `..`, absolute paths elsewhere and symlinks that leave
//! the root are answered 404, with the reason in the log. The root is a path, looked at again
//! at most every 500 ms: a deploy that flips a symlinked root is followed, and while nothing
//! valid stands there downloads are answered 503. No header can be injected through a
//! file name, and no response body ever names a filesystem path.
//!
//! # Example
//!
//! ```
//! use actix_web::{App, HttpServer, get, web};
//! use sendfile_actix::{Backend, SendFile, SendFileConfig};
//!
//! #[get("/reports/{name}")]
//! async fn report(name: web::Path<String>) -> SendFile {
//!     // ... decide here whether the user may have it ...
//!     SendFile::new(format!("reports/{name}")).attachment()
//! }
//!
//! # fn main() -> std::io::Result<()> {
//! # let dir = tempfile::tempdir()?;
//! let config = SendFileConfig::new(Backend::Nginx).root(dir.path()).url("/protected");
//! config.validate().expect("sendfile configuration");
//!
//! let server = HttpServer::new(move || {
//!     App::new().app_data(config.clone()).service(report)
//! });
//! # drop(server);
//! # Ok(())
//! # }
//! ```
//!
//! # Backends
//!
//! ## nginx
//!
//! `X-Accel-Redirect` to an `internal` location; the URL is percent-encoded (nginx decodes it
//! once). Configuration: `location ^~ /protected/ { internal; alias /srv/files/; }`.
//!
//! ```
//! use actix_web::{App, test, web};
//! use sendfile_actix::{Backend, SendFile, SendFileConfig};
//! # actix_web::rt::System::new().block_on(async {
//! # let dir = tempfile::tempdir().unwrap();
//! # let root = dir.path().canonicalize().unwrap();
//! # std::fs::write(root.join("Q3 report.pdf"), b"%PDF-1.7 ...").unwrap();
//! let config = SendFileConfig::new(Backend::Nginx).root(&root).url("/protected");
//! let app = test::init_service(App::new().app_data(config).route(
//!     "/report",
//!     web::get().to(|| async { SendFile::new("Q3 report.pdf") }),
//! )).await;
//! let res = test::call_service(&app, test::TestRequest::get().uri("/report").to_request()).await;
//! assert_eq!(res.status(), 200);
//! let header = |name| res.headers().get(name).unwrap().to_str().unwrap().to_owned();
//! assert_eq!(header("x-accel-redirect"), "/protected/Q3%20report.pdf");
//! assert_eq!(header("content-type"), "application/pdf");
//! # });
//! ```
//!
//! ## xsendfile (Apache mod_xsendfile)
//!
//! `X-Sendfile` with the raw absolute path (mod_xsendfile 0.12 decodes nothing). Configuration:
//! `XSendFile On`, `XSendFilePath /srv/files`, `FileETag None`.
//!
//! ```
//! use actix_web::{App, test, web};
//! use sendfile_actix::{Backend, SendFile, SendFileConfig};
//! # actix_web::rt::System::new().block_on(async {
//! # let dir = tempfile::tempdir().unwrap();
//! # let root = dir.path().canonicalize().unwrap();
//! # std::fs::write(root.join("Q3 report.pdf"), b"%PDF-1.7 ...").unwrap();
//! let config = SendFileConfig::new(Backend::XSendfile).root(&root);
//! let app = test::init_service(App::new().app_data(config).route(
//!     "/report",
//!     web::get().to(|| async { SendFile::new("Q3 report.pdf") }),
//! )).await;
//! let res = test::call_service(&app, test::TestRequest::get().uri("/report").to_request()).await;
//! assert_eq!(res.status(), 200);
//! assert_eq!(res.headers().get("x-sendfile").unwrap().as_bytes(),
//!            root.join("Q3 report.pdf").to_str().unwrap().as_bytes());
//! # });
//! ```
//!
//! ## lighttpd
//!
//! `X-Sendfile` with the absolute path percent-encoded (lighttpd decodes it once).
//! Configuration: `"x-sendfile" => "enable"` and `"x-sendfile-docroot" => ( "/srv/files" )`.
//!
//! ```
//! use actix_web::{App, test, web};
//! use sendfile_actix::{Backend, SendFile, SendFileConfig};
//! # actix_web::rt::System::new().block_on(async {
//! # let dir = tempfile::tempdir().unwrap();
//! # let root = dir.path().canonicalize().unwrap();
//! # std::fs::write(root.join("Q3 report.pdf"), b"%PDF-1.7 ...").unwrap();
//! let config = SendFileConfig::new(Backend::Lighttpd).root(&root);
//! let app = test::init_service(App::new().app_data(config).route(
//!     "/report",
//!     web::get().to(|| async { SendFile::new("Q3 report.pdf") }),
//! )).await;
//! let res = test::call_service(&app, test::TestRequest::get().uri("/report").to_request()).await;
//! let header = |name| res.headers().get(name).unwrap().to_str().unwrap().to_owned();
//! assert!(header("x-sendfile").ends_with("/Q3%20report.pdf"));
//! # });
//! ```
//!
//! ## mod_wsgi
//!
//! `Location` with status 200: an internal redirect for mod_wsgi in daemon mode (or Caddy's
//! `handle_response` matching `status 200` and `header Location /*`). The URL stays relative.
//!
//! ```
//! use actix_web::{App, test, web};
//! use sendfile_actix::{Backend, SendFile, SendFileConfig};
//! # actix_web::rt::System::new().block_on(async {
//! # let dir = tempfile::tempdir().unwrap();
//! # let root = dir.path().canonicalize().unwrap();
//! # std::fs::write(root.join("Q3 report.pdf"), b"%PDF-1.7 ...").unwrap();
//! let config = SendFileConfig::new(Backend::ModWsgi).root(&root).url("/protected");
//! let app = test::init_service(App::new().app_data(config).route(
//!     "/report",
//!     web::get().to(|| async { SendFile::new("Q3 report.pdf") }),
//! )).await;
//! let res = test::call_service(&app, test::TestRequest::get().uri("/report").to_request()).await;
//! assert_eq!(res.status(), 200);
//! let header = |name| res.headers().get(name).unwrap().to_str().unwrap().to_owned();
//! assert_eq!(header("location"), "/protected/Q3%20report.pdf");
//! # });
//! ```
//!
//! ## caddy
//!
//! `X-Accel-Redirect` with the raw URL, as Caddy's `rewrite * {rp.header.X-Accel-Redirect}`
//! reads it (no decoding). A name containing `?` cannot be expressed and is refused (500, logged).
//!
//! ```
//! use actix_web::{App, test, web};
//! use sendfile_actix::{Backend, SendFile, SendFileConfig};
//! # actix_web::rt::System::new().block_on(async {
//! # let dir = tempfile::tempdir().unwrap();
//! # let root = dir.path().canonicalize().unwrap();
//! # std::fs::write(root.join("Q3 report.pdf"), b"%PDF-1.7 ...").unwrap();
//! let config = SendFileConfig::new(Backend::Caddy).root(&root).url("/protected");
//! let app = test::init_service(App::new().app_data(config).route(
//!     "/report",
//!     web::get().to(|| async { SendFile::new("Q3 report.pdf") }),
//! )).await;
//! let res = test::call_service(&app, test::TestRequest::get().uri("/report").to_request()).await;
//! let header = |name| res.headers().get(name).unwrap().to_str().unwrap().to_owned();
//! assert_eq!(header("x-accel-redirect"), "/protected/Q3 report.pdf");
//! # });
//! ```
//!
//! ## simple
//!
//! The application streams the file: conditional requests, ranges and HEAD are answered here.
//!
//! ```
//! use actix_web::{App, test, web};
//! use sendfile_actix::{Backend, SendFile, SendFileConfig};
//! # actix_web::rt::System::new().block_on(async {
//! # let dir = tempfile::tempdir().unwrap();
//! # let root = dir.path().canonicalize().unwrap();
//! # std::fs::write(root.join("Q3 report.pdf"), b"%PDF-1.7 ...").unwrap();
//! let config = SendFileConfig::new(Backend::Simple).root(&root);
//! let app = test::init_service(App::new().app_data(config).route(
//!     "/report",
//!     web::get().to(|| async { SendFile::new("Q3 report.pdf") }),
//! )).await;
//! let res = test::call_service(&app, test::TestRequest::get().uri("/report").insert_header(("Range", "bytes=0-3")).to_request()).await;
//! assert_eq!(res.status(), 206);
//! assert_eq!(test::read_body(res).await, "%PDF");
//! # });
//! ```
//!
//! ## development
//!
//! Like `simple`, with `Cache-Control: no-store`, and a warning logged once: not for production.
//!
//! ```
//! use actix_web::{App, test, web};
//! use sendfile_actix::{Backend, SendFile, SendFileConfig};
//! # actix_web::rt::System::new().block_on(async {
//! # let dir = tempfile::tempdir().unwrap();
//! # let root = dir.path().canonicalize().unwrap();
//! # std::fs::write(root.join("Q3 report.pdf"), b"%PDF-1.7 ...").unwrap();
//! let config = SendFileConfig::new(Backend::Development).root(&root);
//! let app = test::init_service(App::new().app_data(config).route(
//!     "/report",
//!     web::get().to(|| async { SendFile::new("Q3 report.pdf") }),
//! )).await;
//! let res = test::call_service(&app, test::TestRequest::get().uri("/report").to_request()).await;
//! assert_eq!(res.headers().get("cache-control").unwrap(), "no-store");
//! assert_eq!(test::read_body(res).await.len(), 12);
//! # });
//! ```
//!
//! ## A custom backend
//!
//! Implement [`CustomBackend`](sendfile_core::CustomBackend): it gets the resolved file and returns the headers.
//!
//! ```
//! use sendfile_actix::sendfile_core::{CustomBackend, Error, Header, ResolvedFile};
//! use sendfile_actix::{Backend, SendFileConfig};
//!
//! #[derive(Debug)]
//! struct LiteSpeed;
//!
//! impl CustomBackend for LiteSpeed {
//!     fn name(&self) -> &str { "litespeed" }
//!     fn headers(&self, file: &ResolvedFile) -> Result<Vec<Header>, Error> {
//!         let path = sendfile_actix::sendfile_core::encode::percent_encode_path(file.relative_path_bytes());
//!         Ok(vec![Header::new("X-LiteSpeed-Location", format!("/protected/{path}"))])
//!     }
//! }
//!
//! let config = SendFileConfig::new(Backend::custom(LiteSpeed)).root("/srv/files");
//! ```
//!
//! # HEAD requests, and whole directories
//!
//! actix-web's `#[get]` routes GET only, and front servers forward HEAD requests to the
//! application. Register download routes for both: [`resource`]`(path, handler)`,
//! [`route()`] in a `web::resource`, or
//! `#[route("/files/{name}", method = "GET", method = "HEAD")]`.
//!
//! [`Files`] mounts a directory tree below the root at a URL prefix, behind an async
//! permission check, as actix-files' `Files` does for public files.
//!
//! # Error pages
//!
//! [`SendFileConfig::error_handler`] renders the application's own pages for denied, missing
//! and overloaded downloads.
//!
//! # Configuration from the environment
//!
//! [`SendFileConfig::from_env`] reads `SENDFILE_BACKEND`, `SENDFILE_ROOT`, `SENDFILE_URL`,
//! `SENDFILE_CHECK_FILE_EXISTS` and `SENDFILE_FOLLOW_SYMLINKS`, and names the setting at fault
//! when one is wrong.
//!
//! ```no_run
//! // SENDFILE_BACKEND=nginx SENDFILE_ROOT=/srv/files SENDFILE_URL=/protected
//! let config = sendfile_actix::SendFileConfig::from_env().unwrap_or_else(|e| {
//!     // e.g. "sendfile configuration: SENDFILE_URL: not set, and the nginx backend needs it; ..."
//!     panic!("{e}")
//! });
//! ```
//!
//! # Permission checks
//!
//! Decide on the file that will be sent, not on the name in the URL: a symlink inside the root
//! (`public/link -> ../users/alice/notes.txt`) gives a permitted name to another file.
//! [`SendFile::resolve`] finds the file inside the root and returns a [`ResolvedSendFile`]
//! whose [`relative_path`](ResolvedSendFile::relative_path) is the real location below the
//! root (`users/alice/notes.txt`), the path an application stores; the `ResolvedSendFile` is a
//! responder that sends exactly that file.
//!
//! `#[protected_file]` (feature `macros`, on by default) is sugar over it: `check = <async fn>`
//! is called with the `ResolvedSendFile`, and `allow = <expression>` runs before the body for
//! decisions that do not depend on the file; see its documentation and [`protected`] for the
//! pieces it expands to. When people who must not read every file can write into the root, also
//! refuse symlinks there: [`SendFileConfig::follow_symlinks`]`(false)`.

#![cfg_attr(docsrs, feature(doc_cfg))]

mod body;
mod config;
mod denied;
mod error;
mod file;
mod limits;
mod routing;
pub mod test;

pub mod doctor;
pub mod protected;

pub use config::SendFileConfig;
pub use denied::DeniedStatus;
pub use error::SendFileError;
pub use file::{ResolvedSendFile, SendFile};
pub use limits::on_connect;
pub use routing::{Files, resource, route};
pub use sendfile_core::engine::RangeLimits;
pub use sendfile_core::{Backend, ConfigError};
pub use sendfile_core::{deploy, object, s3};

/// The framework-neutral engine underneath, for what this crate's items mention without
/// re-exporting: the core error a [`SendFileError`] wraps ([`SendFileError::inner`]), and what
/// a [`CustomBackend`](sendfile_core::CustomBackend) implements. Always the version this crate
/// was built with.
pub use sendfile_core;

/// nginx's `X-Accel-*` extras, given to [`SendFile::nginx`].
///
/// ```
/// use sendfile_actix::SendFile;
/// use sendfile_actix::nginx::{AccelExpires, NginxOptions};
///
/// let file = SendFile::new("catalogue.pdf")
///     .nginx(NginxOptions::new().expires(AccelExpires::Seconds(300)).charset("utf-8"));
/// # drop(file);
/// ```
pub mod nginx {
    pub use sendfile_core::nginx::{AccelExpires, LimitRate, NginxOptions};
}

#[cfg(feature = "macros")]
pub use sendfile_macros::protected_file;

/// The README's examples, compiled as doctests so that they stay true.
#[cfg(all(doctest, feature = "macros"))]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;
