//! Routing help: download routes that answer HEAD as well as GET, and [`Files`], a directory
//! tree mounted behind a permission check.

use std::fmt;
use std::path::{Component, Path, PathBuf};
use std::rc::Rc;

use actix_web::dev::{AppService, HttpServiceFactory};
use actix_web::http::header;
use actix_web::{
    FromRequest, Handler, HttpRequest, HttpResponse, Resource, Responder, Route, guard, web,
};
use sendfile_core::{Error, NotFoundReason};

use crate::protected::{CheckOutput, deny};
use crate::{ResolvedSendFile, SendFile, SendFileConfig, SendFileError};

/// A route for GET and HEAD requests, for download handlers.
///
/// actix-web's `#[get]` and `web::get()` route GET only, while front servers forward the HEAD
/// requests of clients (download managers, link checkers) to the application, which should
/// answer them as it answers GET (headers, no body). In a `web::resource`, other methods get
/// `405 Method Not Allowed`; [`resource`] is the shortcut. (`App::route(path, route())` moves
/// the route's guard to the resource it makes, so there other methods fall through to 404.)
///
/// With the route attributes, list both methods instead:
/// `#[route("/files/{name}", method = "GET", method = "HEAD")]`.
///
/// ```
/// use actix_web::{App, test, web};
/// use sendfile_actix::{Backend, SendFile, SendFileConfig};
///
/// async fn report(name: web::Path<String>) -> SendFile {
///     SendFile::new(format!("reports/{name}"))
/// }
///
/// # actix_web::rt::System::new().block_on(async {
/// # let dir = tempfile::tempdir().unwrap();
/// # std::fs::create_dir(dir.path().join("reports")).unwrap();
/// # std::fs::write(dir.path().join("reports/q3.pdf"), b"%PDF-1.7").unwrap();
/// let config = SendFileConfig::builder(Backend::Simple).root(dir.path()).build().unwrap();
/// let app = test::init_service(
///     App::new().app_data(config).service(
///         web::resource("/reports/{name}").route(sendfile_actix::route().to(report)),
///     ),
/// )
/// .await;
/// let head = test::TestRequest::default().method(actix_web::http::Method::HEAD);
/// let res = test::call_service(&app, head.uri("/reports/q3.pdf").to_request()).await;
/// assert_eq!(res.status(), 200);
/// let post = test::TestRequest::post().uri("/reports/q3.pdf").to_request();
/// assert_eq!(test::call_service(&app, post).await.status(), 405);
/// # });
/// ```
pub fn route() -> Route {
    web::route().guard(guard::Any(guard::Get()).or(guard::Head()))
}

/// A resource at `path` whose `handler` answers GET and HEAD ([`route`]); other methods get
/// `405 Method Not Allowed`.
///
/// ```
/// use actix_web::{App, test, web};
/// use sendfile_actix::{Backend, SendFile, SendFileConfig};
///
/// async fn report(name: web::Path<String>) -> SendFile {
///     SendFile::new(format!("reports/{name}")).attachment()
/// }
///
/// # actix_web::rt::System::new().block_on(async {
/// # let dir = tempfile::tempdir().unwrap();
/// # std::fs::create_dir(dir.path().join("reports")).unwrap();
/// # std::fs::write(dir.path().join("reports/q3.pdf"), b"%PDF-1.7").unwrap();
/// let config = SendFileConfig::builder(Backend::Nginx).root(dir.path()).url("/protected").build().unwrap();
/// let app = test::init_service(
///     App::new()
///         .app_data(config)
///         .service(sendfile_actix::resource("/reports/{name}", report)),
/// )
/// .await;
/// let head = test::TestRequest::default().method(actix_web::http::Method::HEAD);
/// let res = test::call_service(&app, head.uri("/reports/q3.pdf").to_request()).await;
/// assert_eq!(res.headers().get("x-accel-redirect").unwrap(), "/protected/reports/q3.pdf");
/// let delete = test::TestRequest::delete().uri("/reports/q3.pdf").to_request();
/// assert_eq!(test::call_service(&app, delete).await.status(), 405);
/// # });
/// ```
pub fn resource<F, Args>(path: &str, handler: F) -> Resource
where
    F: Handler<Args>,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
    web::resource(path).route(route().to(handler))
}

/// A directory tree mounted at a path prefix, each file served through the configured
/// backend once a permission check allowed it: actix-files' `Files`, for protected files.
///
/// `Files::new("/downloads", "public", check)` answers `GET /downloads/a/b.pdf` (and HEAD)
/// with the file `public/a/b.pdf` below the root of the [`SendFileConfig`] that applies to
/// the request (the nearest app data, or the one given with [`config`](Self::config)):
///
/// - the path is confined as [`SendFile::resolve`] confines it (symlinks resolved, nothing
///   outside the root), and the file found must lie inside the mounted directory: a symlink
///   that leads elsewhere in the root, a `..` or an absolute path in the URL, and a directory
///   are answered 404;
/// - names starting with `.` (`.git`, `.env`, `.htaccess`) are answered 404 unless
///   [`hidden_files(true)`](Self::hidden_files);
/// - `check` is called with the request and the [`ResolvedSendFile`], after the file was
///   found: an `async` closure or `async fn(&HttpRequest, &ResolvedSendFile)` returning `bool`
///   or `Result<bool, E>` with `E: Into<actix_web::Error>`, as `#[protected_file(check = ..)]`
///   takes. `false` answers the configuration's denied status (403 by default), `Err(e)`
///   `e`'s response;
/// - other methods are answered `405 Method Not Allowed` with `Allow: GET, HEAD`;
/// - directories are never listed.
///
/// Errors go through the configuration's
/// [`error_handler`](crate::SendFileConfigBuilder::error_handler). Register it after more specific routes
/// under the same prefix: it answers every path below it.
///
/// ```
/// use actix_web::{App, HttpRequest, test};
/// use sendfile_actix::{Backend, Files, ResolvedSendFile, SendFileConfig};
///
/// /// Anyone may read `public/`; `private/` only with the right header (a session, in a
/// /// real application).
/// async fn may_read(req: &HttpRequest, file: &ResolvedSendFile) -> bool {
///     file.relative_path().starts_with("shared/public")
///         || req.headers().contains_key("x-staff")
/// }
///
/// # actix_web::rt::System::new().block_on(async {
/// # let dir = tempfile::tempdir().unwrap();
/// # let root = dir.path();
/// # std::fs::create_dir_all(root.join("shared/public")).unwrap();
/// # std::fs::create_dir_all(root.join("shared/private")).unwrap();
/// # std::fs::write(root.join("shared/public/notice.txt"), b"hello").unwrap();
/// # std::fs::write(root.join("shared/private/salaries.csv"), b"a,b").unwrap();
/// # std::fs::write(root.join("secret.txt"), b"no").unwrap();
/// let config = SendFileConfig::builder(Backend::Nginx).root(root).url("/protected").build().unwrap();
/// let app = test::init_service(
///     App::new()
///         .app_data(config)
///         .service(Files::new("/files", "shared", may_read)),
/// )
/// .await;
/// let get = |uri| test::TestRequest::get().uri(uri).to_request();
///
/// let res = test::call_service(&app, get("/files/public/notice.txt")).await;
/// assert_eq!(res.status(), 200);
/// assert_eq!(res.headers().get("x-accel-redirect").unwrap(), "/protected/shared/public/notice.txt");
///
/// let res = test::call_service(&app, get("/files/private/salaries.csv")).await;
/// assert_eq!(res.status(), 403);
/// let res = test::call_service(&app, get("/files/../secret.txt")).await;
/// assert_eq!(res.status(), 404);
/// let res = test::call_service(&app, get("/files/public/")).await;
/// assert_eq!(res.status(), 404);
/// # });
/// ```
///
/// A closure works as well: `Files::new("/files", "shared", async |_req, file| ...)`. A
/// runnable server: `cargo run -p sendfile-actix --example files -- <dir>`.
#[must_use = "a Files does nothing unless registered with App::service"]
pub struct Files<C> {
    mount: String,
    directory: PathBuf,
    check: C,
    config: Option<SendFileConfig>,
    hidden_files: bool,
    attachment: bool,
}

impl<C, R> Files<C>
where
    C: AsyncFn(&HttpRequest, &ResolvedSendFile) -> R + 'static,
    R: CheckOutput,
{
    /// The files below `directory` (relative to the root, `""` for the whole root), at URLs
    /// below `mount` (`"/downloads"`; `""` or `"/"` for every path), each served once `check`
    /// allowed it.
    ///
    /// ```
    /// use actix_web::HttpRequest;
    /// use sendfile_actix::{Files, ResolvedSendFile};
    ///
    /// async fn signed_in(req: &HttpRequest, _: &ResolvedSendFile) -> bool {
    ///     req.headers().contains_key("authorization")
    /// }
    ///
    /// let app = actix_web::App::new()
    ///     .service(Files::new("/manuals", "docs/manuals", signed_in))
    ///     .service(Files::new("/shared", "", async |_, file| file.len() < Some(1 << 30)));
    /// # drop(app);
    /// ```
    ///
    /// # Panics
    ///
    /// When `directory` is not relative, or contains `..`: a mistake in the application's
    /// code, reported when the service is made.
    pub fn new(mount: &str, directory: impl AsRef<Path>, check: C) -> Self {
        let directory = directory.as_ref();
        let mut relative = PathBuf::new();
        for component in directory.components() {
            match component {
                Component::Normal(name) => relative.push(name),
                Component::CurDir => {}
                _ => panic!(
                    "Files::new: the directory {directory:?} must be relative to the root of \
                     the SendFileConfig, without `..`; write it as in SendFile::new, e.g. \
                     \"public\" (or \"\" for the whole root)"
                ),
            }
        }
        Files {
            mount: mount.trim_end_matches('/').to_owned(),
            directory: relative,
            check,
            config: None,
            hidden_files: false,
            attachment: false,
        }
    }

    /// The configuration for these files, instead of the one registered on the App or scope.
    ///
    /// ```
    /// use sendfile_actix::{Backend, Files, SendFileConfig};
    ///
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let public = dir.path();
    /// let config = SendFileConfig::builder(Backend::Simple).root(public).build().unwrap();
    /// let files = Files::new("/public", "", async |_, _| true).config(config);
    /// let app = actix_web::App::new().service(files);
    /// # drop(app);
    /// ```
    pub fn config(mut self, config: SendFileConfig) -> Self {
        self.config = Some(config);
        self
    }

    /// Whether names starting with `.` are served (default false: answered 404, as the files
    /// of tools such as `.git`, `.env` or `.htaccess` usually must not be).
    ///
    /// ```
    /// use sendfile_actix::Files;
    ///
    /// let files = Files::new("/site", "site", async |_, _| true).hidden_files(true);
    /// let app = actix_web::App::new().service(files);
    /// # drop(app);
    /// ```
    pub fn hidden_files(mut self, serve: bool) -> Self {
        self.hidden_files = serve;
        self
    }

    /// Asks the browser to save every file (`Content-Disposition: attachment`; inline by
    /// default), as [`SendFile::attachment`] does.
    ///
    /// ```
    /// use sendfile_actix::Files;
    ///
    /// let files = Files::new("/exports", "exports", async |_, _| true).attachment();
    /// let app = actix_web::App::new().service(files);
    /// # drop(app);
    /// ```
    pub fn attachment(mut self) -> Self {
        self.attachment = true;
        self
    }
}

impl<C> fmt::Debug for Files<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Files")
            .field("mount", &self.mount)
            .field("directory", &self.directory)
            .field("config", &self.config)
            .field("hidden_files", &self.hidden_files)
            .field("attachment", &self.attachment)
            .finish_non_exhaustive()
    }
}

impl<C, R> HttpServiceFactory for Files<C>
where
    C: AsyncFn(&HttpRequest, &ResolvedSendFile) -> R + 'static,
    R: CheckOutput + 'static,
{
    fn register(self, config: &mut AppService) {
        let pattern = format!("{}/{{tail:.*}}", self.mount);
        let (_, tree, sendfile) = self.into_parts();
        let tree = Rc::new(tree);
        let handler = move |req: HttpRequest, tail: web::Path<String>| {
            let tree = Rc::clone(&tree);
            async move { tree.serve(req, tail.into_inner()).await }
        };
        let mut resource = web::resource(pattern)
            .route(route().to(handler))
            .default_service(web::to(method_not_allowed));
        if let Some(sendfile) = sendfile {
            resource = resource.app_data(sendfile);
        }
        HttpServiceFactory::register(resource, config);
    }
}

impl<C> Files<C> {
    /// The mount, the tree it serves and its own configuration (forward-auth checks the same
    /// tree).
    pub(crate) fn into_parts(self) -> (String, Tree<C>, Option<SendFileConfig>) {
        let tree = Tree {
            directory: self.directory,
            check: self.check,
            hidden_files: self.hidden_files,
            attachment: self.attachment,
        };
        (self.mount, tree, self.config)
    }
}

/// What a mounted [`Files`] serves from, shared by its worker's requests.
pub(crate) struct Tree<C> {
    directory: PathBuf,
    check: C,
    hidden_files: bool,
    attachment: bool,
}

impl<C, R> Tree<C>
where
    C: AsyncFn(&HttpRequest, &ResolvedSendFile) -> R,
    R: CheckOutput,
{
    pub(crate) async fn serve(
        &self,
        req: HttpRequest,
        tail: String,
    ) -> Result<ResolvedSendFile, actix_web::Error> {
        let Some(path) = self.requested(&tail) else {
            return Err(not_found(
                &req,
                &tail,
                "its URL path has `..`, `/` at the start, or a hidden name",
            )
            .into());
        };
        let file = SendFile::new(path);
        let file = if self.attachment {
            file.attachment()
        } else {
            file
        };
        let file = file.resolve(&req)?;
        if !self.contains(file.relative_path()) {
            let reason = "a symbolic link leads out of the directory the Files service serves, or to a hidden name";
            return Err(not_found(&req, &tail, reason).into());
        }
        if !CheckOutput::into_allowed((self.check)(&req, &file).await)? {
            return Err(deny(&req, None));
        }
        Ok(file)
    }

    /// The path below the root for the URL's `tail`, when it has only plain names.
    fn requested(&self, tail: &str) -> Option<PathBuf> {
        let mut path = self.directory.clone();
        for component in Path::new(tail).components() {
            match component {
                Component::Normal(name) if self.hidden_files || !is_hidden(name) => {
                    path.push(name);
                }
                Component::CurDir => {}
                _ => return None,
            }
        }
        Some(path)
    }

    /// Whether the file found (symlinks resolved) lies in the directory, under names it may
    /// serve.
    fn contains(&self, relative: &Path) -> bool {
        relative.strip_prefix(&self.directory).is_ok_and(|below| {
            self.hidden_files
                || below.components().all(|c| match c {
                    Component::Normal(name) => !is_hidden(name),
                    _ => false,
                })
        })
    }
}

fn is_hidden(name: &std::ffi::OsStr) -> bool {
    name.as_encoded_bytes().first() == Some(&b'.')
}

/// A 404 for a path the [`Files`] service refuses before or after resolving it, logged with
/// the reason and answered as the configuration renders errors.
fn not_found(req: &HttpRequest, tail: &str, reason: &str) -> SendFileError {
    let err = SendFileError::from(Error::NotFound {
        reason: NotFoundReason::OutsideRoot,
        path: PathBuf::from(tail),
    });
    log::info!(
        "sendfile: Files: not serving {}: {reason}",
        sendfile_core::logsafe::LogSafe::str(tail)
    );
    match SendFileConfig::from_req(req) {
        Ok(config) => config.render(err, req),
        Err(_) => err,
    }
}

pub(crate) async fn method_not_allowed() -> HttpResponse {
    HttpResponse::MethodNotAllowed()
        .insert_header((header::ALLOW, "GET, HEAD"))
        .finish()
}
