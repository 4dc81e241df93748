//! A server for measuring streamed ZIP archives (`sendfile_actix::Archive`).
//!
//! ```text
//! cargo run --release -p sendfile-actix --example bench_archive -- <root> [port]
//! ```
//!
//! The port is the second argument, else `BENCH_PORT`, else 8089; the server listens on
//! 127.0.0.1 only and serves, below `<root>` (which the caller fills):
//!
//! - `GET /archive/{directory}`: every file below that directory as one ZIP;
//! - `GET /file/{path}`: that one file with `SendFile`, for comparison.
//!
//! `scripts/bench-archive` drives it; the results are in `BENCHMARKS.md`.

use std::io;

use actix_web::{App, HttpRequest, HttpServer, get, web};
use sendfile_actix::{Archive, Backend, ResolvedArchive, SendFile, SendFileConfig, SendFileError};

#[get("/archive/{dir:.*}")]
async fn archive(
    req: HttpRequest,
    dir: web::Path<String>,
) -> Result<ResolvedArchive, SendFileError> {
    Archive::new("bench.zip")
        .directory(dir.into_inner(), "")
        .resolve(&req, |_| true)
        .await
}

#[get("/file/{path:.*}")]
async fn file(path: web::Path<String>) -> SendFile {
    SendFile::new(path.into_inner())
}

#[path = "support/bench_args.rs"]
mod bench_args;

#[actix_web::main]
async fn main() -> io::Result<()> {
    let (root, port) = bench_args::root_and_port("bench_archive", 8089)?;
    let config = SendFileConfig::builder(Backend::Simple)
        .root(&root)
        .build()
        .map_err(io::Error::other)?;
    HttpServer::new(move || {
        App::new()
            .app_data(config.clone())
            .service(archive)
            .service(file)
    })
    .bind(("127.0.0.1", port))?
    .run()
    .await
}
