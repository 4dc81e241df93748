//! [`ForwardAuth`]: the application's answer to a proxy that asks whether a request for a file
//! may proceed (nginx `auth_request`, Caddy `forward_auth`, Traefik `ForwardAuth`).

use std::fmt;
use std::path::Path;
use std::rc::Rc;

use actix_web::dev::{AppService, HttpServiceFactory};
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use sendfile_core::forward::{DEFAULT_ENDPOINT, requested_path};
use sendfile_core::logsafe::LogSafe;

use crate::ResolvedSendFile;
use crate::protected::CheckOutput;
use crate::routing::{Files, Tree};

/// The headers that carry the original request target: nginx's (as the generated location
/// sets it), then Traefik's and Caddy's.
const URI_HEADERS: [&str; 2] = ["x-original-uri", "x-forwarded-uri"];
/// The headers that carry the original method.
const METHOD_HEADERS: [&str; 2] = ["x-original-method", "x-forwarded-method"];

/// A forward-auth endpoint for the files of a directory mounted at a URL prefix: the proxy
/// sends it the original request's target and headers, the application answers with an empty
/// body, and the proxy's own file server sends the file on a 2xx.
///
/// The target is decoded as the static server behind the proxy decodes it
/// ([`requested_path`]), the file resolved and confined as [`Files`] does (symlinks
/// included), and `check` runs on it:
///
/// - 204 No Content: send it;
/// - 404: no such file, outside the directory (`..`, a symlink leading out), a hidden name, an
///   encoded slash, or a method other than GET and HEAD;
/// - 403 (the configuration's denied status) when `check` says no, or `check`'s own error
///   (401 with its `WWW-Authenticate`, for example).
///
/// ```
/// use actix_web::{App, test};
/// use sendfile_actix::{Backend, ForwardAuth, SendFileConfig};
///
/// # actix_web::rt::System::new().block_on(async {
/// # let dir = tempfile::tempdir().unwrap();
/// # std::fs::create_dir(dir.path().join("public")).unwrap();
/// # std::fs::write(dir.path().join("public/a b.txt"), b"a").unwrap();
/// let config = SendFileConfig::builder(Backend::Simple).root(dir.path()).build().unwrap();
/// let auth = ForwardAuth::new("/files", "", async |_req, file| file.relative_path().starts_with("public"));
/// let app = test::init_service(App::new().app_data(config).service(auth)).await;
/// let ask = |uri: &str| {
///     test::TestRequest::get()
///         .uri("/.sendfile/forward-auth")
///         .insert_header(("X-Forwarded-Uri", uri))
///         .to_request()
/// };
/// assert_eq!(test::call_service(&app, ask("/files/public/a%20b.txt")).await.status(), 204);
/// assert_eq!(test::call_service(&app, ask("/files/public/../secret")).await.status(), 404);
/// assert_eq!(test::call_service(&app, ask("/files/missing.txt")).await.status(), 404);
/// # });
/// ```
#[must_use = "ForwardAuth does nothing unless registered with App::service"]
pub struct ForwardAuth<C> {
    files: Files<C>,
    endpoint: String,
}

impl<C, R> ForwardAuth<C>
where
    C: AsyncFn(&HttpRequest, &ResolvedSendFile) -> R + 'static,
    R: CheckOutput + 'static,
{
    /// Answers for the files below `directory` (relative to the root, `""` for all of it) at
    /// URLs below `mount`, as [`Files::new`] serves them, at the endpoint
    /// [`DEFAULT_ENDPOINT`].
    ///
    /// # Panics
    ///
    /// As [`Files::new`]: when `directory` is not relative or contains `..`.
    pub fn new(mount: &str, directory: impl AsRef<Path>, check: C) -> Self {
        ForwardAuth {
            files: Files::new(mount, directory, check),
            endpoint: DEFAULT_ENDPOINT.to_owned(),
        }
    }

    /// The endpoint's path (default [`DEFAULT_ENDPOINT`]), as the proxy's configuration names
    /// it.
    pub fn endpoint(mut self, path: &str) -> Self {
        self.endpoint = path.to_owned();
        self
    }
}

impl<C> fmt::Debug for ForwardAuth<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ForwardAuth")
            .field("files", &self.files)
            .field("endpoint", &self.endpoint)
            .finish()
    }
}

impl<C, R> HttpServiceFactory for ForwardAuth<C>
where
    C: AsyncFn(&HttpRequest, &ResolvedSendFile) -> R + 'static,
    R: CheckOutput + 'static,
{
    fn register(self, config: &mut AppService) {
        let (mount, tree, sendfile) = self.files.into_parts();
        let state = Rc::new((mount, tree));
        let handler = move |req: HttpRequest| {
            let state = Rc::clone(&state);
            async move { answer(&state.0, &state.1, req).await }
        };
        let mut resource = web::resource(self.endpoint).to(handler);
        if let Some(sendfile) = sendfile {
            resource = resource.app_data(sendfile);
        }
        HttpServiceFactory::register(resource, config);
    }
}

fn first_header<'r>(req: &'r HttpRequest, names: &[&str]) -> Option<&'r str> {
    names
        .iter()
        .find_map(|name| req.headers().get(*name))
        .and_then(|v| v.to_str().ok())
}

fn empty(status: StatusCode) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

async fn answer<C, R>(mount: &str, tree: &Tree<C>, req: HttpRequest) -> HttpResponse
where
    C: AsyncFn(&HttpRequest, &ResolvedSendFile) -> R,
    R: CheckOutput,
{
    let refuse = |why: &str, shown: &str| {
        log::info!(
            "sendfile: forward-auth: not serving {}: {why}",
            LogSafe::str(shown)
        );
        empty(StatusCode::NOT_FOUND)
    };
    let Some(uri) = first_header(&req, &URI_HEADERS) else {
        log::error!(
            "sendfile: forward-auth: the request has neither X-Original-URI (nginx: proxy_set_header X-Original-URI $request_uri;) nor X-Forwarded-Uri (Caddy, Traefik): the proxy's configuration is wrong"
        );
        return empty(StatusCode::FORBIDDEN);
    };
    if let Some(method) = first_header(&req, &METHOD_HEADERS)
        && method != "GET"
        && method != "HEAD"
    {
        return refuse("only GET and HEAD are answered", method);
    }
    let path = match requested_path(uri, mount) {
        Ok(path) => path,
        Err(why) => return refuse(why, uri),
    };
    let Some(tail) = path.to_str() else {
        return refuse("the name is not UTF-8", uri);
    };
    match tree.serve(req.clone(), tail.to_owned()).await {
        Ok(_) => empty(StatusCode::NO_CONTENT),
        Err(err) => {
            let full = err.error_response();
            let mut res = empty(full.status());
            if let Some(challenge) = full.headers().get(header::WWW_AUTHENTICATE) {
                res.headers_mut()
                    .insert(header::WWW_AUTHENTICATE, challenge.clone());
            }
            res
        }
    }
}
