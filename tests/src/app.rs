//! The protected_downloads app, run in-process on a free loopback port.

use std::io;
use std::net::SocketAddr;
use std::sync::mpsc;
use std::thread::JoinHandle;

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpServer, route, web};
use sendfile_actix::{SendFile, SendFileConfig};

/// `GET /raw/{path}`: a `SendFile` for any path, with no permission check, so that tests see
/// the library's own confinement (traversal, absolute paths, symlinks) through the server.
#[route("/raw/{path:.*}", method = "GET", method = "HEAD")]
async fn raw(path: web::Path<String>) -> SendFile {
    SendFile::new(path.into_inner())
}

/// Adds the test-only routes (`GET /raw/{path}`).
pub fn configure_test_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(raw);
}

/// A running app; dropping it stops the server and joins its thread.
#[derive(Debug)]
pub struct RunningApp {
    /// Where the app listens.
    pub addr: SocketAddr,
    handle: ServerHandle,
    thread: Option<JoinHandle<io::Result<()>>>,
}

impl RunningApp {
    /// Starts the example app (plus the test routes when `test_routes`) with `config`, on
    /// `127.0.0.1:0`, in a thread of its own; returns once it listens.
    pub fn start(config: SendFileConfig, test_routes: bool) -> io::Result<RunningApp> {
        let (tx, rx) = mpsc::channel();
        let thread = std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let server = HttpServer::new(move || {
                    let app = App::new()
                        .app_data(config.clone())
                        .configure(protected_downloads::configure);
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
