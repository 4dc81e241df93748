//! [`SignedLinks`]: signed, expiring links checked by the application, for the in-process
//! backends and the front servers that cannot check them (Apache, lighttpd, Caddy).

use std::fmt;
use std::net::IpAddr;
use std::rc::Rc;
use std::time::SystemTime;

use actix_web::dev::{AppService, HttpServiceFactory};
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use sendfile_core::link::{LinkError, LinkSigner};
use sendfile_core::logsafe::LogSafe;

use crate::routing::{method_not_allowed, route};
use crate::{SendFile, SendFileConfig};

/// The files below the root, at the URLs of `signer`'s links, each served when its link checks
/// out: the library's twin of the location nginx generates for the same links
/// ([`Site::signed_links`](crate::deploy::Site::signed_links)), with the same answers.
///
/// - A valid link: the file, through the configured backend, as an attachment (Range, HEAD
///   and conditional requests as for any [`SendFile`]); the file is confined to the root as
///   any other (symlinks included), and a missing one is a 404.
/// - A tampered link, a link moved to another file or used from another client address: 403;
///   an expired one: 410; a `.`/`..` segment or an encoded slash: 403. The body is empty, the
///   reason goes to the log.
///
/// Links bound to a client address ([`LinkBuilder::client`](crate::link::LinkBuilder::client))
/// are compared with the connection's peer address, or, after
/// [`behind_proxy`](Self::behind_proxy), with the last address of `X-Forwarded-For`.
///
/// ```
/// use std::time::Duration;
/// use actix_web::{App, test};
/// use sendfile_actix::link::LinkSigner;
/// use sendfile_actix::{Backend, SendFileConfig, SignedLinks};
///
/// # actix_web::rt::System::new().block_on(async {
/// # let dir = tempfile::tempdir().unwrap();
/// # std::fs::write(dir.path().join("q3 report.pdf"), b"%PDF-1.7").unwrap();
/// let config = SendFileConfig::builder(Backend::Simple).root(dir.path()).build().unwrap();
/// let signer = LinkSigner::new("0123456789abcdefghijklmnopqrstuvwxyzABCD").unwrap();
/// let app = test::init_service(
///     App::new().app_data(config).service(SignedLinks::new(signer.clone())),
/// )
/// .await;
///
/// let link = signer.link("q3 report.pdf").expires_in(Duration::from_secs(60)).build().unwrap();
/// let res = test::call_service(&app, test::TestRequest::get().uri(&link).to_request()).await;
/// assert_eq!(res.status(), 200);
///
/// let moved = link.replace("q3%20report.pdf", "other.pdf");
/// let res = test::call_service(&app, test::TestRequest::get().uri(&moved).to_request()).await;
/// assert_eq!(res.status(), 403);
/// # });
/// ```
#[must_use = "SignedLinks does nothing unless registered with App::service"]
pub struct SignedLinks {
    signer: LinkSigner,
    behind_proxy: bool,
    config: Option<SendFileConfig>,
}

impl SignedLinks {
    /// Serves the links `signer` mints, at its location.
    pub fn new(signer: LinkSigner) -> SignedLinks {
        SignedLinks {
            signer,
            behind_proxy: false,
            config: None,
        }
    }

    /// Takes the client's address for links bound to one from the last entry of
    /// `X-Forwarded-For` (the one the front server appended) instead of the connection's peer.
    /// Only behind a front server that sets it: a client reaching the app directly chooses the
    /// header.
    pub fn behind_proxy(mut self, behind: bool) -> SignedLinks {
        self.behind_proxy = behind;
        self
    }

    /// The configuration for these files, instead of the one registered on the App or scope.
    pub fn config(mut self, config: SendFileConfig) -> SignedLinks {
        self.config = Some(config);
        self
    }
}

impl fmt::Debug for SignedLinks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignedLinks")
            .field("signer", &self.signer)
            .field("behind_proxy", &self.behind_proxy)
            .field("config", &self.config)
            .finish()
    }
}

impl HttpServiceFactory for SignedLinks {
    fn register(self, config: &mut AppService) {
        let pattern = format!("{}/{{tail:.*}}", self.signer.location());
        let state = Rc::new((self.signer, self.behind_proxy));
        let handler = move |req: HttpRequest| {
            let state = Rc::clone(&state);
            async move { serve(&state.0, state.1, &req) }
        };
        let mut resource = web::resource(pattern)
            .route(route().to(handler))
            .default_service(web::to(method_not_allowed));
        if let Some(sendfile) = self.config {
            resource = resource.app_data(sendfile);
        }
        HttpServiceFactory::register(resource, config);
    }
}

/// The client address a bound link is compared with.
fn client_address(req: &HttpRequest, behind_proxy: bool) -> Option<IpAddr> {
    if behind_proxy {
        let last = req
            .headers()
            .get_all("x-forwarded-for")
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .next_back()?;
        return last.trim().parse().ok();
    }
    req.peer_addr().map(|a| a.ip())
}

fn serve(signer: &LinkSigner, behind_proxy: bool, req: &HttpRequest) -> HttpResponse {
    let uri = req.uri();
    let client = client_address(req, behind_proxy);
    match signer.verify(uri.path(), uri.query(), client, SystemTime::now()) {
        Ok(link) => {
            let mut res = SendFile::new(link.relative_path())
                .attachment()
                .into_response(req);
            let headers = res.headers_mut();
            // The link is a bearer token: no Referer carries it elsewhere, no shared cache
            // keeps the file.
            headers.insert(
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            );
            if !headers.contains_key(header::CACHE_CONTROL) {
                headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private"));
            }
            res
        }
        Err(err) => {
            log::info!(
                "sendfile: signed link refused ({}): {}",
                err.status(),
                LogSafe::str(&format!("{err}: {}", uri.path()))
            );
            let status = match err {
                LinkError::Expired => actix_web::http::StatusCode::GONE,
                _ => actix_web::http::StatusCode::FORBIDDEN,
            };
            HttpResponse::build(status)
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .finish()
        }
    }
}
