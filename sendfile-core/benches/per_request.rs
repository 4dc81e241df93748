//! Per-request costs of the core, one Criterion group per concern.
//!
//! Run with `cargo bench -p sendfile-core --bench per_request`.

use std::fs::File;
use std::hint::black_box;
use std::path::{Path, PathBuf};

use criterion::{Criterion, criterion_group, criterion_main};
use sendfile_core::{Access, Root};

/// The nested file every confinement benchmark asks for, relative to the root.
const NESTED: &str = "2024/reports/q1/finance/summary.pdf";

/// A root holding [`NESTED`], plus a symlink `latest -> 2024/reports` inside it.
fn confine_fixture() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let root = dir.path().join("root");
    let file = root.join(NESTED);
    std::fs::create_dir_all(file.parent().expect("nested parent")).expect("create tree");
    std::fs::write(&file, vec![0u8; 4096]).expect("write file");
    #[cfg(unix)]
    std::os::unix::fs::symlink("2024/reports", root.join("latest")).expect("symlink");
    (dir, root)
}

/// `Root::resolve` against the usual hand-written check and against no check at all.
fn confine(c: &mut Criterion) {
    let (_dir, root_dir) = confine_fixture();
    let root = Root::open(&root_dir).expect("open root");
    let requested = Path::new(NESTED);
    let canonical_root = std::fs::canonicalize(&root_dir).expect("canonical root");

    let mut group = c.benchmark_group("confine");
    group.bench_function("resolve_read", |b| {
        b.iter(|| {
            root.resolve(black_box(requested), Access::Read)
                .expect("resolve")
        });
    });
    group.bench_function("resolve_stat", |b| {
        b.iter(|| {
            root.resolve(black_box(requested), Access::Stat)
                .expect("resolve")
        });
    });
    group.bench_function("resolve_lexical", |b| {
        b.iter(|| {
            root.resolve(black_box(requested), Access::Lexical)
                .expect("resolve")
        });
    });
    group.bench_function("resolve_lexical_missing", |b| {
        let missing = Path::new("2024/reports/q9/only-on-the-front-server.pdf");
        b.iter(|| {
            root.resolve(black_box(missing), Access::Lexical)
                .expect("resolve")
        });
    });
    #[cfg(unix)]
    group.bench_function("resolve_read_via_symlink", |b| {
        let linked = Path::new("latest/q1/finance/summary.pdf");
        b.iter(|| {
            root.resolve(black_box(linked), Access::Read)
                .expect("resolve")
        });
    });
    // Baseline: what a careful hand-written handler does (canonicalise, compare, open); racy.
    group.bench_function("baseline_canonicalize_open", |b| {
        b.iter(|| {
            let path = std::fs::canonicalize(root_dir.join(black_box(requested))).expect("exists");
            assert!(path.starts_with(&canonical_root));
            let file = File::open(&path).expect("open");
            let meta = file.metadata().expect("metadata");
            (file, meta.len())
        });
    });
    // No confinement at all: the cost floor of opening the file.
    group.bench_function("naive_open", |b| {
        b.iter(|| {
            let file = File::open(root_dir.join(black_box(requested))).expect("open");
            let meta = file.metadata().expect("metadata");
            (file, meta.len())
        });
    });
    group.finish();
}

/// Header computation and the whole plan, per backend, against a hand-written handler that
/// only formats the header (no confinement, no encoding, no disposition).
fn plan(c: &mut Criterion) {
    use sendfile_core::disposition::{DispositionType, content_disposition, content_type_for};
    use sendfile_core::encode::percent_encode_path;
    use sendfile_core::engine::{Method, Request};
    use sendfile_core::{Backend, Config, FileRequest};

    let (_dir, root_dir) = confine_fixture();
    let hostile = "Q3 résumé \"final\" 100% #2?.pdf";
    let mut group = c.benchmark_group("plan");
    group.bench_function("percent_encode_path_typical", |b| {
        b.iter(|| percent_encode_path(black_box(NESTED.as_bytes())));
    });
    group.bench_function("percent_encode_path_hostile", |b| {
        b.iter(|| percent_encode_path(black_box(hostile.as_bytes())));
    });
    group.bench_function("content_disposition_typical", |b| {
        b.iter(|| content_disposition(DispositionType::Attachment, black_box("summary.pdf")));
    });
    group.bench_function("content_disposition_hostile", |b| {
        b.iter(|| content_disposition(DispositionType::Attachment, black_box(hostile)));
    });
    group.bench_function("content_type_for", |b| {
        b.iter(|| content_type_for(black_box(Path::new("summary.pdf"))));
    });
    let http = Request::new(Method::Get);
    for backend in [Backend::Nginx, Backend::XSendfile, Backend::Simple] {
        let config = Config::builder(backend.clone())
            .root(&root_dir)
            .url("/protected")
            .build()
            .unwrap();
        let request = FileRequest::new(NESTED);
        group.bench_function(format!("plan_{backend}"), |b| {
            b.iter(|| sendfile_core::plan(&config, black_box(&request), &http).expect("plan"));
        });
        // The same plan from a file resolved outside the timed loop: the planner's own work.
        group.bench_function(format!("plan_resolved_{backend}"), |b| {
            b.iter_batched(
                || sendfile_core::resolve(&config, &request).expect("resolve"),
                |file| {
                    sendfile_core::plan_resolved(&config, black_box(&request), file, &http)
                        .expect("plan")
                },
                criterion::BatchSize::SmallInput,
            );
        });
    }
    // Baseline: a handler that stats the file and formats X-Accel-Redirect by hand (unsafe:
    // no confinement, no encoding).
    group.bench_function("baseline_handwritten_nginx", |b| {
        b.iter(|| {
            let meta = std::fs::metadata(root_dir.join(black_box(NESTED))).expect("exists");
            (format!("/protected/{NESTED}"), meta.len())
        });
    });
    group.finish();
}

/// The root a request uses: the configuration's watched root (a path looked at again every
/// 500 ms) against what 0.1 did, a root opened once and kept in a `OnceLock`.
fn root(c: &mut Criterion) {
    use std::sync::{Arc, OnceLock};

    use sendfile_core::{Backend, Config};

    let (_dir, root_dir) = confine_fixture();
    let config = Config::builder(Backend::Simple)
        .root(&root_dir)
        .build()
        .unwrap();
    let kept: OnceLock<Arc<Root>> = OnceLock::new();
    kept.get_or_init(|| Arc::new(Root::open(&root_dir).expect("open root")));

    let mut group = c.benchmark_group("root");
    group.bench_function("current_root", |b| {
        b.iter(|| black_box(&config).current_root().expect("root"));
    });
    // Baseline: the root opened once and kept forever (0.1).
    group.bench_function("baseline_opened_once", |b| {
        b.iter(|| Arc::clone(black_box(&kept).get().expect("opened")));
    });
    // What looking at the path again costs, paid by one request every 500 ms.
    group.bench_function("recheck_canonicalize_stat", |b| {
        b.iter(|| {
            let real = std::fs::canonicalize(black_box(&root_dir)).expect("canonical");
            std::fs::metadata(real).expect("metadata")
        });
    });
    group.finish();
}

/// What a bucket adds to a request: presigning (S3 SigV4, HMAC-SHA256 over the canonical
/// request) and the nginx / redirect plans from a bucket, beside the local-root nginx plan.
fn object(c: &mut Criterion) {
    use std::time::Duration;

    use sendfile_core::engine::{Method, Request};
    use sendfile_core::object::{ObjectStore, PresignMethod, PresignRequest, Presigner};
    use sendfile_core::s3::{S3Credentials, S3Presigner};
    use sendfile_core::{Backend, Config, FileRequest};

    let (_dir, root_dir) = confine_fixture();
    let s3 = S3Presigner::new(
        "https://s3.eu-west-1.amazonaws.com",
        "protected-files",
        "eu-west-1",
        S3Credentials::new(
            "AKIAIOSFODNN7EXAMPLE",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        ),
    )
    .expect("presigner");
    let http = Request::new(Method::Get);
    let request = FileRequest::new(NESTED);
    let mut group = c.benchmark_group("object");
    group.bench_function("presign_get", |b| {
        let req = PresignRequest::new(PresignMethod::Get, NESTED, Duration::from_secs(60));
        b.iter(|| s3.presign(black_box(&req)).expect("presign"));
    });
    let local = Config::builder(Backend::Nginx)
        .root(&root_dir)
        .url("/protected")
        .build()
        .unwrap();
    group.bench_function("plan_nginx_local_root", |b| {
        b.iter(|| sendfile_core::plan(&local, black_box(&request), &http).expect("plan"));
    });
    for backend in [Backend::Nginx, Backend::Redirect] {
        let config = Config::builder(backend.clone())
            .url("/protected")
            .object_store(ObjectStore::new(s3.clone()).prefix("tenants/a/"))
            .build()
            .unwrap();
        group.bench_function(format!("plan_{backend}_bucket"), |b| {
            b.iter(|| sendfile_core::plan(&config, black_box(&request), &http).expect("plan"));
        });
    }
    group.finish();
}

criterion_group!(benches, confine, plan, root, object);
criterion_main!(benches);
