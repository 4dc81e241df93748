//! A server for comparing the `simple` backend's streaming with actix-files' `NamedFile`.
//!
//! ```text
//! cargo run --release -p sendfile-actix --example bench_server -- <root> [port]
//! ```
//!
//! The port is the second argument, else `BENCH_PORT`, else 8088; the server listens on
//! 127.0.0.1 only. On start it creates the test files in `<root>` when they are missing:
//! `1k.bin` (1 KiB), `1m.bin` (1 MiB) and `100m.bin` (100 MiB), written in 1 MiB pieces so
//! that creating them does not raise the peak memory of the process. Then:
//!
//! - `GET /named/{name}` answers with `actix_files::NamedFile::open(root.join(name))`, with
//!   its defaults (every chunk read on the blocking thread pool);
//! - `GET /named-inline/{name}`: the same with `read_mode_threshold(64 KiB)`, so that files
//!   under 64 KiB are read on the worker thread, as `SendFile` does;
//! - `GET /sendfile/{name}` answers with `SendFile::new(name)` under
//!   `SendFileConfig::builder(Backend::Simple).root(root).build().unwrap()`.
//!
//! Only the names of the test files are served. `BENCH_WORKERS` sets the number of actix
//! workers (default: one per core). `BENCH_NODELAY=1` turns Nagle's algorithm off
//! (`HttpServer::tcp_nodelay`; by default actix leaves it on). `BENCH_1G=1` adds `1g.bin`
//! (1 GiB). `BENCH_SEND_TIMEOUT` (seconds, default 60) sets `SendFileConfigBuilder::send_timeout`;
//! `BENCH_ON_CONNECT=1` adds `.on_connect(sendfile_actix::on_connect(timeout))` for every route
//! (`TCP_USER_TIMEOUT`, `TCP_NODELAY`); `BENCH_MAX_STREAMS` sets `max_streams`. `scripts/bench-streaming`
//! drives it with `wrk`, `scripts/bench-load` with `bench_load`; the results are in
//! `BENCHMARKS.md`.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use actix_files::NamedFile;
use actix_web::{App, HttpServer, get, web};
use sendfile_actix::{Backend, SendFile, SendFileConfig};

/// The test files: name and size in bytes.
const FILES: [(&str, u64); 4] = [
    ("1k.bin", 1024),
    ("1m.bin", 1024 * 1024),
    ("100m.bin", 100 * 1024 * 1024),
    ("1g.bin", 1024 * 1024 * 1024),
];

/// Whether the 1 GiB file is wanted (`BENCH_1G=1`).
fn with_1g() -> bool {
    std::env::var_os("BENCH_1G").is_some_and(|v| v == "1")
}

/// The served directory.
#[derive(Clone)]
struct Root(PathBuf);

fn known(name: &str) -> bool {
    FILES.iter().any(|(known, _)| *known == name) && (name != "1g.bin" || with_1g())
}

#[get("/named/{name}")]
async fn named(root: web::Data<Root>, name: web::Path<String>) -> actix_web::Result<NamedFile> {
    if !known(&name) {
        return Err(actix_web::error::ErrorNotFound("unknown file"));
    }
    Ok(NamedFile::open(root.0.join(name.as_str()))?)
}

/// `NamedFile` reading files under 64 KiB on the worker thread, like `SendFile` does.
#[get("/named-inline/{name}")]
async fn named_inline(
    root: web::Data<Root>,
    name: web::Path<String>,
) -> actix_web::Result<NamedFile> {
    if !known(&name) {
        return Err(actix_web::error::ErrorNotFound("unknown file"));
    }
    Ok(NamedFile::open(root.0.join(name.as_str()))?.read_mode_threshold(64 * 1024))
}

#[get("/sendfile/{name}")]
async fn sendfile(name: web::Path<String>) -> actix_web::Result<SendFile> {
    if !known(&name) {
        return Err(actix_web::error::ErrorNotFound("unknown file"));
    }
    Ok(SendFile::new(name.into_inner()))
}

/// Creates each missing (or wrongly sized) test file, writing a repeating pattern.
fn create_files(root: &Path) -> io::Result<()> {
    std::fs::create_dir_all(root)?;
    let piece: Vec<u8> = (0..1024 * 1024).map(|i: u32| (i % 251) as u8).collect();
    for (name, size) in FILES {
        if name == "1g.bin" && !with_1g() {
            continue;
        }
        let path = root.join(name);
        if std::fs::metadata(&path).is_ok_and(|m| m.len() == size) {
            continue;
        }
        let mut out = io::BufWriter::new(std::fs::File::create(&path)?);
        let mut left = size;
        while left > 0 {
            let n = left.min(piece.len() as u64);
            out.write_all(&piece[..n as usize])?;
            left -= n;
        }
        out.into_inner()
            .map_err(io::IntoInnerError::into_error)?
            .sync_all()?;
    }
    Ok(())
}

#[path = "support/bench_args.rs"]
mod bench_args;

#[actix_web::main]
async fn main() -> io::Result<()> {
    let (root, port) = bench_args::root_and_port("bench_server", 8088)?;
    create_files(&root)?;
    let root = std::fs::canonicalize(&root)?;

    let timeout = std::time::Duration::from_secs_f64(
        std::env::var("BENCH_SEND_TIMEOUT")
            .ok()
            .and_then(|t| t.parse().ok())
            .unwrap_or(60.0),
    );
    let mut config = SendFileConfig::builder(Backend::Simple)
        .root(&root)
        .send_timeout(timeout);
    if let Some(max) = std::env::var("BENCH_MAX_STREAMS")
        .ok()
        .and_then(|m| m.parse().ok())
    {
        config = config.max_streams(max);
    }
    let config = config.build().map_err(io::Error::other)?;
    let data = web::Data::new(Root(root));
    let mut server = HttpServer::new(move || {
        App::new()
            .app_data(config.clone())
            .app_data(data.clone())
            .service(named)
            .service(named_inline)
            .service(sendfile)
    });
    if std::env::var_os("BENCH_ON_CONNECT").is_some_and(|v| v == "1") {
        server = server.on_connect(sendfile_actix::on_connect(timeout));
    }
    if let Some(workers) = std::env::var("BENCH_WORKERS")
        .ok()
        .and_then(|w| w.parse().ok())
    {
        server = server.workers(workers);
    }
    if std::env::var_os("BENCH_NODELAY").is_some_and(|v| v == "1") {
        server = server.tcp_nodelay(true);
    }
    server.bind(("127.0.0.1", port))?.run().await
}
