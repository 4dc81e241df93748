//! A root that becomes unusable is logged once, not once per request, and its return once.

use std::time::{Duration, Instant};

use actix_web::{App, test, web};
use sendfile_actix::{Backend, SendFile, SendFileConfig};

#[path = "support/log_capture.rs"]
mod log_capture;

fn take() -> Vec<(log::Level, String)> {
    log_capture::take_mine()
}

#[actix_web::test]
async fn an_unusable_root_is_logged_once() {
    log_capture::install(log::LevelFilter::Info);
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    std::fs::create_dir(&root).unwrap();
    std::fs::write(root.join("a.txt"), b"a").unwrap();
    let config = SendFileConfig::builder(Backend::Simple)
        .root(&root)
        .build()
        .unwrap();
    let app = test::init_service(
        App::new()
            .app_data(config)
            .route("/a", web::get().to(|| async { SendFile::new("a.txt") })),
    )
    .await;
    let get = || test::TestRequest::get().uri("/a").to_request();
    assert_eq!(test::call_service(&app, get()).await.status(), 200);
    take();

    std::fs::remove_file(root.join("a.txt")).unwrap();
    std::fs::remove_dir(&root).unwrap();
    let start = Instant::now();
    let mut unavailable = 0;
    // Requests for well past two recheck intervals.
    while start.elapsed() < Duration::from_millis(1200) {
        let status = test::call_service(&app, get()).await.status();
        assert!(status == 503 || status == 404, "{status}");
        unavailable += usize::from(status == 503);
    }
    assert!(unavailable > 10, "{unavailable}");
    let lines = take();
    let errors: Vec<_> = lines
        .iter()
        .filter(|(level, _)| *level <= log::Level::Warn)
        .collect();
    assert_eq!(errors.len(), 1, "{lines:?}");
    assert_eq!(errors[0].0, log::Level::Error);
    assert!(errors[0].1.contains("SENDFILE_ROOT"), "{errors:?}");
    assert!(errors[0].1.contains("503"), "{errors:?}");

    std::fs::create_dir(&root).unwrap();
    std::fs::write(root.join("a.txt"), b"a").unwrap();
    let start = Instant::now();
    while test::call_service(&app, get()).await.status() != 200 {
        assert!(start.elapsed() < Duration::from_secs(5), "not back");
    }
    let lines = take();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].1.contains("usable again"), "{lines:?}");
}
