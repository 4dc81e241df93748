//! A driver for counting the instructions of an offload response with callgrind, which no
//! other process on the machine can perturb.
//!
//! ```text
//! valgrind --tool=callgrind --toggle-collect='*respond_batch*' \
//!     target-bench/release/examples/respond_instructions [sendfile|pre_resolved]
//! ```
//!
//! `sendfile` times `SendFile::new(path).into_response(&req)` (confinement included);
//! `pre_resolved` times the response of a `ResolvedSendFile` made beforehand (the user-space
//! work of a response without the confinement). 20 batches of 500 responses, nginx backend,
//! a 1 KiB file at `2024/reports/q1/finance/summary.pdf`; the requests carry conditional
//! headers. Divide callgrind's total by 10,000. `scripts/bench-offload` runs it with
//! `CALLGRIND=1`.

use actix_web::test::TestRequest;
use actix_web::{HttpRequest, HttpResponse};
use sendfile_actix::{Backend, SendFile, SendFileConfig};

const NESTED: &str = "2024/reports/q1/finance/summary.pdf";

enum Work {
    Whole(SendFile),
    Resolved(sendfile_actix::ResolvedSendFile),
}

/// The responses, each dropped at once (as a server does once it is written, so that actix's
/// pooled response heads are reused); the requests are kept, their drop is not counted.
#[inline(never)]
fn respond_batch(items: Vec<(Work, HttpRequest)>, done: &mut Vec<HttpRequest>) -> usize {
    let mut ok = 0;
    for (work, req) in items {
        let res: HttpResponse = match work {
            Work::Whole(file) => file.into_response(&req),
            Work::Resolved(file) => file.into_response(&req),
        };
        ok += usize::from(res.status() == 200);
        drop(res);
        done.push(req);
    }
    ok
}

fn main() {
    let resolved = std::env::args().nth(1).as_deref() == Some("pre_resolved");
    let dir = tempfile::tempdir().expect("temporary directory");
    let root = dir.path().join("root");
    std::fs::create_dir_all(root.join(NESTED).parent().expect("parent")).expect("tree");
    std::fs::write(root.join(NESTED), vec![b'x'; 1024]).expect("file");
    let config = SendFileConfig::builder(Backend::Nginx)
        .root(&root)
        .url("/protected")
        .build()
        .unwrap();
    for _ in 0..20 {
        let items: Vec<_> = (0..500)
            .map(|_| {
                let req = TestRequest::get()
                    .uri("/download")
                    .insert_header(("If-None-Match", "\"abc\""))
                    .insert_header(("Range", "bytes=0-99"))
                    .app_data(config.clone())
                    .to_http_request();
                let work = if resolved {
                    Work::Resolved(SendFile::new(NESTED).resolve(&req).expect("resolved"))
                } else {
                    Work::Whole(SendFile::new(NESTED))
                };
                (work, req)
            })
            .collect();
        let mut done = Vec::with_capacity(items.len());
        assert_eq!(respond_batch(items, &mut done), 500);
    }
}
