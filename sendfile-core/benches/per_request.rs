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

criterion_group!(benches, confine);
criterion_main!(benches);
