//! Share links: signed, expiring links to one file ([`sendfile_actix::link`]), enabled by
//! `SENDFILE_LINK_SECRET`.
//!
//! - `GET /share/{path}`: for a signed-in user who may read the file, a page with a link to it
//!   valid for [`SHARE_LIFETIME`], which anyone can open without signing in.
//! - The links themselves (`/signed/...`) are checked by nginx in the location `print-config
//!   nginx` generates, and otherwise by the app ([`SignedLinks`]): with the `simple` backend,
//!   and behind Apache, lighttpd and Caddy.
//! - `protected_downloads sign-link <path> [--expires <seconds>]` prints one.
//!
//! ```
//! use actix_web::{App, test};
//! use sendfile_actix::link::LinkSigner;
//! use sendfile_actix::{Backend, SendFileConfig};
//!
//! # actix_web::rt::System::new().block_on(async {
//! let root = tempfile::tempdir().unwrap();
//! protected_downloads::create_sample_tree(root.path()).unwrap();
//! let config = SendFileConfig::builder(Backend::Simple).root(root.path()).build().unwrap();
//! let signer = LinkSigner::new(&"s".repeat(40)).unwrap();
//! let app = test::init_service(
//!     App::new()
//!         .app_data(config)
//!         .configure(protected_downloads::links::configure(signer.clone()))
//!         .configure(protected_downloads::configure),
//! )
//! .await;
//! let link = protected_downloads::links::sign(&signer, "public/welcome.txt", 60).unwrap();
//! let res = test::call_service(&app, test::TestRequest::get().uri(&link).to_request()).await;
//! assert_eq!(res.status(), 200);
//! # });
//! ```

use std::fmt::Write as _;
use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use sendfile_actix::link::LinkSigner;
use sendfile_actix::{SendFile, SignedLinks};

use crate::{SignedIn, authorize, encode_url_path, escape_html, page};

/// How long a link made with the page's "share link" action lives: one hour.
pub const SHARE_LIFETIME: Duration = Duration::from_secs(3600);

/// A link to `path` (relative to the root) valid for `seconds`, as a path starting with `/`.
pub fn sign(signer: &LinkSigner, path: &str, seconds: u64) -> Result<String, String> {
    signer
        .link(path)
        .expires_in(Duration::from_secs(seconds))
        .build()
        .map_err(|e| format!("{path:?}: {e}"))
}

/// Registers [`SignedLinks`] at the signer's location and `GET /share/{path}`, and makes the
/// signer app data (the page then shows a share action for each file).
pub fn configure(signer: LinkSigner) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg| {
        cfg.app_data(web::Data::new(signer.clone()))
            .service(SignedLinks::new(signer))
            .service(web::resource("/share/{path:.*}").route(web::get().to(share)));
    }
}

/// The page's share cell for `path`: empty when signed links are off.
pub(crate) fn share_cell(req: &HttpRequest, path: &str) -> String {
    if req.app_data::<web::Data<LinkSigner>>().is_none() {
        return String::new();
    }
    format!(
        "<a class=\"button share\" href=\"/share/{}\">Share link (1 hour)</a>",
        escape_html(&encode_url_path(path))
    )
}

/// `GET /share/{path}`: a page with a link to the file, for a user who may read it.
async fn share(req: HttpRequest, user: SignedIn, path: web::Path<String>) -> HttpResponse {
    let Some(signer) = req.app_data::<web::Data<LinkSigner>>() else {
        return HttpResponse::NotFound().finish();
    };
    let path = path.into_inner();
    match authorize(&user, &path) {
        Err(sign_in) => return actix_web::ResponseError::error_response(&sign_in),
        Ok(false) => return HttpResponse::Forbidden().finish(),
        Ok(true) => {}
    }
    // The file that would be sent, symlinks resolved, must be one the user may read too.
    let file = match SendFile::new(&path).resolve(&req) {
        Ok(file) => file,
        Err(e) => return actix_web::ResponseError::error_response(&e),
    };
    let Some(relative) = file.relative_path().to_str() else {
        return HttpResponse::Forbidden().finish();
    };
    if !matches!(authorize(&user, relative), Ok(true)) {
        return HttpResponse::Forbidden().finish();
    }
    let link = match sign(signer, relative, SHARE_LIFETIME.as_secs()) {
        Ok(link) => link,
        Err(e) => {
            log::warn!("share link: {e}");
            return HttpResponse::InternalServerError().finish();
        }
    };
    let mut body = String::from("<header><h1>Protected downloads</h1></header>\n<main>\n");
    let _ = write!(
        body,
        "<p>Anyone with this link can download <strong>{}</strong> for one hour, without \
         signing in:</p>\n<p><a id=\"share-link\" href=\"{link}\">{link}</a></p>\n\
         <p><a href=\"/\">Back to your files</a></p>\n</main>\n",
        escape_html(relative),
        link = escape_html(&link),
    );
    page::page(StatusCode::OK, "Share link", &body)
}

/// The URL prefix of the files a proxy serves after asking the app (forward-auth).
pub const FORWARD_MOUNT: &str = "/files";

/// Registers the forward-auth endpoint ([`sendfile_actix::ForwardAuth`]) for the files at
/// [`FORWARD_MOUNT`], with the permission of `/download/` (session cookie or HTTP Basic):
/// behind nginx `auth_request`, Caddy `forward_auth` or Traefik `ForwardAuth`
/// ([`sendfile_actix::forward_auth::ForwardSite`]), the proxy sends the files itself.
pub fn configure_forward_auth(cfg: &mut web::ServiceConfig) {
    let endpoint = sendfile_actix::forward_auth::DEFAULT_ENDPOINT;
    cfg.service(
        sendfile_actix::ForwardAuth::new(FORWARD_MOUNT, "", crate::may_have).endpoint(endpoint),
    );
}
