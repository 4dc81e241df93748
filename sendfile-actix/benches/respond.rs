//! The whole per-request path of an offload `SendFile`, through the adapter, against the same
//! path with the confinement stubbed out by a file resolved beforehand, and against a bare
//! handler's response.
//!
//! Run with `cargo bench -p sendfile-actix --bench respond`.
//!
//! - `sendfile_<backend>`: `SendFile::new(path).into_response(&req)`: the configuration lookup,
//!   confinement (`openat2`, `statx`, `close`), the plan, the actix response;
//! - `pre_resolved_<backend>`: the same response from a `ResolvedSendFile` made outside the
//!   timed loop: everything but the confinement, i.e. the user-space work of a response;
//! - `resolve_stat`: the confinement alone, what `pre_resolved` leaves out;
//! - `bare`: `HttpResponse::Ok().finish()`, what any handler pays.
//!
//! The request (`TestRequest`, outside the timed loop) carries the six conditional headers an
//! offload response never reads.
//!
//! Each response is dropped in the timed routine, as a server drops it once written: its head
//! goes back to actix's pool and the next response takes it from there (and drops the previous
//! header values). Kept until the end of a batch instead, the responses drained that pool of
//! 128 heads, and every response then paid for a new head and header map, the first touch of
//! fresh heap pages included (145–180 ns of the 550–680 ns measured), which no server pays.

use std::hint::black_box;

use actix_web::HttpResponse;
use actix_web::test::TestRequest;
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use sendfile_actix::{Backend, SendFile, SendFileConfig};

/// The file asked for, relative to the root.
const NESTED: &str = "2024/reports/q1/finance/summary.pdf";

fn request(config: &SendFileConfig) -> actix_web::HttpRequest {
    TestRequest::get()
        .uri("/download")
        .insert_header(("If-None-Match", "\"abc\""))
        .insert_header(("If-Modified-Since", "Tue, 15 Nov 1994 08:12:31 GMT"))
        .insert_header(("Range", "bytes=0-99"))
        .insert_header(("If-Range", "\"abc\""))
        .insert_header(("User-Agent", "bench"))
        .app_data(config.clone())
        .to_http_request()
}

fn respond(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let root = dir.path().join("root");
    let file = root.join(NESTED);
    std::fs::create_dir_all(file.parent().expect("parent")).expect("tree");
    std::fs::write(&file, vec![b'x'; 1024]).expect("1 KiB file");

    let mut group = c.benchmark_group("respond");
    group.bench_function("bare", |b| {
        b.iter(|| HttpResponse::Ok().finish());
    });
    for backend in [Backend::Nginx, Backend::XSendfile] {
        let config = SendFileConfig::builder(backend.clone())
            .root(&root)
            .url("/protected")
            .build()
            .unwrap();
        group.bench_function(format!("sendfile_{backend}"), |b| {
            b.iter_batched(
                || request(&config),
                |req| {
                    let res = SendFile::new(black_box(NESTED)).into_response(&req);
                    assert_eq!(res.status(), 200);
                    drop(res);
                    req
                },
                BatchSize::SmallInput,
            );
        });
        group.bench_function(format!("pre_resolved_{backend}"), |b| {
            b.iter_batched(
                || {
                    let req = request(&config);
                    let file = SendFile::new(NESTED).resolve(&req).expect("resolved");
                    (file, req)
                },
                |(file, req)| {
                    let res = black_box(file).into_response(&req);
                    assert_eq!(res.status(), 200);
                    drop(res);
                    req
                },
                BatchSize::SmallInput,
            );
        });
    }
    let core_root = sendfile_core_root(&root);
    group.bench_function("resolve_stat", |b| {
        b.iter(|| core_root(black_box(NESTED)));
    });
    group.finish();
}

/// Confinement alone, as the offload backends use it (`Access::Stat`).
fn sendfile_core_root(root: &std::path::Path) -> impl Fn(&str) -> u64 {
    let root = sendfile_core::Root::open(root).expect("root");
    move |path| {
        root.resolve(std::path::Path::new(path), sendfile_core::Access::Stat)
            .expect("resolve")
            .metadata()
            .map_or(0, |m| m.len)
    }
}

criterion_group!(benches, respond);
criterion_main!(benches);
