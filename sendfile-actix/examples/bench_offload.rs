//! A server for measuring what an offload `SendFile` costs over a bare handler.
//!
//! ```text
//! cargo run --release -p sendfile-actix --example bench_offload -- <root> [port]
//! ```
//!
//! The port is the second argument, else `BENCH_PORT`, else 8089; the server listens on
//! 127.0.0.1 only, with `BENCH_WORKERS` workers (default 1). It writes `1k.bin` (1 KiB) into
//! `<root>` and serves, under `SendFileConfig::builder(Backend::Nginx).root(root).url("/protected").build().unwrap()`:
//!
//! - `GET /bare`: an empty `200 OK`, the baseline;
//! - `GET /bare/{name}`: the same behind a route with a path parameter, as the others have;
//! - `GET /sendfile/{name}`: `SendFile::new(name)` (an `X-Accel-Redirect` response);
//! - `GET /allowed/{name}`: the same under `#[protected_file(allow = ...)]`;
//! - `GET /checked/{name}`: the same under `#[protected_file(check = ...)]`, which resolves
//!   the file before the check and sends the file checked.
//!
//! Every route with a parameter is in its own scope: actix finds the scope by its static
//! prefix and matches one pattern (a regex) only. Registered side by side instead, the routes
//! were tried in order, and each pattern tried before the right one cost a failed regex match
//! (`/checked` paid three, `/bare/{name}` none).
//!
//! `scripts/bench-offload` drives it with `wrk`; the results are in `BENCHMARKS.md`.

use std::io;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, get, web};
use sendfile_actix::{Backend, ResolvedSendFile, SendFile, SendFileConfig, protected_file};

#[get("/bare")]
async fn bare() -> HttpResponse {
    HttpResponse::Ok().finish()
}

/// The bare handler behind the same kind of route: a path parameter extracted, nothing done.
#[get("/{name}")]
async fn bare_path(name: web::Path<String>) -> HttpResponse {
    drop(name);
    HttpResponse::Ok().finish()
}

#[get("/{name}")]
async fn sendfile(name: web::Path<String>) -> SendFile {
    SendFile::new(name.into_inner())
}

#[get("/{name}")]
#[protected_file(allow = !name.is_empty())]
async fn allowed(name: web::Path<String>) -> SendFile {
    SendFile::new(name.into_inner())
}

async fn may_read(_req: &HttpRequest, file: &ResolvedSendFile) -> bool {
    !file.relative_path().as_os_str().is_empty()
}

#[get("/{name}")]
#[protected_file(check = may_read)]
async fn checked(name: web::Path<String>) -> SendFile {
    SendFile::new(name.into_inner())
}

#[path = "support/bench_args.rs"]
mod bench_args;

#[actix_web::main]
async fn main() -> io::Result<()> {
    let (root, port) = bench_args::root_and_port("bench_offload", 8089)?;
    std::fs::create_dir_all(&root)?;
    std::fs::write(root.join("1k.bin"), vec![b'x'; 1024])?;
    let root = std::fs::canonicalize(&root)?;
    let config = SendFileConfig::builder(Backend::Nginx)
        .root(&root)
        .url("/protected")
        .build()
        .unwrap();
    let workers = std::env::var("BENCH_WORKERS")
        .ok()
        .and_then(|w| w.parse().ok())
        .unwrap_or(1);
    HttpServer::new(move || {
        App::new()
            .app_data(config.clone())
            .service(bare)
            .service(web::scope("/bare").service(bare_path))
            .service(web::scope("/sendfile").service(sendfile))
            .service(web::scope("/allowed").service(allowed))
            .service(web::scope("/checked").service(checked))
    })
    .workers(workers)
    .bind(("127.0.0.1", port))?
    .run()
    .await
}
