//! The protected_downloads app, run in-process on a free loopback port.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;

use actix_web::dev::{ServerHandle, Service as _, ServiceResponse};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, route, web};
use sendfile_actix::{Files, ResolvedSendFile, SendFile, SendFileConfig};

/// `GET /raw/{path}`: a `SendFile` for any path, with no permission check, so that tests see
/// the library's own confinement (traversal, absolute paths, symlinks) through the server.
#[route("/raw/{path:.*}", method = "GET", method = "HEAD")]
async fn raw(path: web::Path<String>) -> SendFile {
    SendFile::new(path.into_inner())
}

/// What `GET /decorated/{path}` adds to the library's response: the headers an application
/// sets for cross-origin use, links and language, which every front server must carry.
pub const DECORATIONS: [(&str, &str); 4] = [
    ("Access-Control-Allow-Origin", "https://app.example.test"),
    ("Access-Control-Expose-Headers", "Content-Disposition"),
    (
        "Link",
        "<https://app.example.test/terms>; rel=\"terms-of-service\"",
    ),
    ("Content-Language", "de"),
];

/// `GET /decorated/{path}`: [`raw`] with the application's own [`DECORATIONS`] added.
#[route("/decorated/{path:.*}", method = "GET", method = "HEAD")]
async fn decorated(req: HttpRequest, path: web::Path<String>) -> HttpResponse {
    let mut res = SendFile::new(path.into_inner()).into_response(&req);
    for (name, value) in DECORATIONS {
        res.headers_mut().insert(
            actix_web::http::header::HeaderName::from_bytes(name.as_bytes())
                .expect("a header name"),
            actix_web::http::header::HeaderValue::from_static(value),
        );
    }
    res
}

/// How `GET /unchecked/{path}` names a file to the front server, bypassing the library.
#[derive(Debug, Clone)]
pub struct UncheckedOffload {
    /// The offload header (`X-Accel-Redirect`, `X-Sendfile`, `Location`).
    pub header: &'static str,
    /// What the path is appended to: the internal URL prefix or the root, without a trailing
    /// slash.
    pub prefix: String,
}

/// `GET /unchecked/{path}`: a 200 with the offload header naming `<prefix>/<path>` verbatim,
/// with no check at all, so that tests see what the front server itself does with a path (for
/// example one that crosses a symlink). Only for plain ASCII paths, which need no encoding.
/// 404 when the app has no [`UncheckedOffload`].
#[route("/unchecked/{path:.*}", method = "GET", method = "HEAD")]
async fn unchecked_offload(
    path: web::Path<String>,
    offload: Option<web::Data<UncheckedOffload>>,
) -> HttpResponse {
    let Some(offload) = offload else {
        return HttpResponse::NotFound().finish();
    };
    HttpResponse::Ok()
        .content_type("text/plain")
        .insert_header((offload.header, format!("{}/{}", offload.prefix, path)))
        .finish()
}

/// The permission check of `/tree/`: every file of `public/` but the PDFs, which need the
/// `X-Staff` header.
async fn tree_check(req: &HttpRequest, file: &ResolvedSendFile) -> bool {
    let pdf = file
        .relative_path()
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("pdf"));
    !pdf || req.headers().contains_key("x-staff")
}

/// Adds the test-only routes (`GET /raw/{path}`, `GET /unchecked/{path}`, and
/// `GET /tree/{path}`: the files of `public/`, served by [`Files`] behind a check that refuses
/// PDFs to requests without an `X-Staff` header).
pub fn configure_test_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(raw)
        .service(decorated)
        .service(unchecked_offload)
        .service(Files::new("/tree", "public", tree_check));
}

/// What the app answered, counted by a middleware around every request.
#[derive(Debug, Default)]
pub struct AppStats {
    offloads: AtomicU64,
    not_found: AtomicU64,
    other: AtomicU64,
}

impl AppStats {
    /// Responses handing the file to the front server: a 200 carrying `X-Accel-Redirect`,
    /// `X-Sendfile` or `Location`.
    pub fn offloads(&self) -> u64 {
        self.offloads.load(Ordering::Relaxed)
    }

    /// 404 responses (the library refused the file).
    pub fn not_found(&self) -> u64 {
        self.not_found.load(Ordering::Relaxed)
    }

    /// Every other response.
    pub fn other(&self) -> u64 {
        self.other.load(Ordering::Relaxed)
    }

    fn record<B>(&self, res: &ServiceResponse<B>) {
        let status = res.status().as_u16();
        let headers = res.headers();
        let offload = ["X-Accel-Redirect", "X-Sendfile", "Location"]
            .iter()
            .any(|h| headers.contains_key(*h));
        let counter = match status {
            200 if offload => &self.offloads,
            404 => &self.not_found,
            _ => &self.other,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// Services a test adds to the app ([`RunningApp::start_extended`]).
pub type ExtraServices = Arc<dyn Fn(&mut web::ServiceConfig) + Send + Sync>;

/// A running app; dropping it stops the server and joins its thread.
#[derive(Debug)]
pub struct RunningApp {
    /// Where the app listens.
    pub addr: SocketAddr,
    /// What it answered so far.
    pub stats: Arc<AppStats>,
    handle: ServerHandle,
    thread: Option<JoinHandle<io::Result<()>>>,
}

impl RunningApp {
    /// Starts the example app (plus the test routes when `test_routes`) with `config`, on
    /// `127.0.0.1:0`, in a thread of its own; returns once it listens.
    pub fn start(config: SendFileConfig, test_routes: bool) -> io::Result<RunningApp> {
        RunningApp::start_with(config, test_routes, None)
    }

    /// As [`start`](Self::start); `unchecked` enables `GET /unchecked/{path}` (with the test
    /// routes).
    pub fn start_with(
        config: SendFileConfig,
        test_routes: bool,
        unchecked: Option<UncheckedOffload>,
    ) -> io::Result<RunningApp> {
        RunningApp::start_extended(config, test_routes, unchecked, Arc::new(|_| {}))
    }

    /// As [`start_with`](Self::start_with), with `extra` configuring more services (before
    /// the example's own).
    pub fn start_extended(
        config: SendFileConfig,
        test_routes: bool,
        unchecked: Option<UncheckedOffload>,
        extra: ExtraServices,
    ) -> io::Result<RunningApp> {
        let (tx, rx) = mpsc::channel();
        let stats = Arc::new(AppStats::default());
        let counted = Arc::clone(&stats);
        let unchecked = unchecked.map(web::Data::new);
        let thread = std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let server = HttpServer::new(move || {
                    let counted = Arc::clone(&counted);
                    let mut app = App::new()
                        .app_data(config.clone())
                        .wrap_fn(move |req, srv| {
                            let counted = Arc::clone(&counted);
                            let fut = srv.call(req);
                            async move {
                                let res = fut.await?;
                                counted.record(&res);
                                Ok(res)
                            }
                        })
                        .configure(|cfg| extra(cfg))
                        .configure(protected_downloads::configure);
                    if let Some(unchecked) = &unchecked {
                        app = app.app_data(unchecked.clone());
                    }
                    if test_routes {
                        app.configure(configure_test_routes)
                    } else {
                        app
                    }
                })
                .workers(2)
                .disable_signals()
                .bind(("127.0.0.1", 0));
                let server = match server {
                    Ok(s) => s,
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        return Ok(());
                    }
                };
                let addr = server.addrs()[0];
                let server = server.run();
                let _ = tx.send(Ok((addr, server.handle())));
                server.await
            })
        });
        let (addr, handle) = rx
            .recv()
            .map_err(|_| io::Error::other("the app thread ended before listening"))??;
        Ok(RunningApp {
            addr,
            stats,
            handle,
            thread: Some(thread),
        })
    }
}

impl Drop for RunningApp {
    fn drop(&mut self) {
        let stop = self.handle.stop(false);
        actix_web::rt::System::new().block_on(stop);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
