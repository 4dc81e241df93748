//! What the crate writes to the log: one line saying what to add when the configuration is
//! missing, the reason of a 404, and the development backend's warning, once.

use std::sync::Mutex;

use actix_web::{App, test, web};
use sendfile_actix::{Backend, SendFile, SendFileConfig};

static LINES: Mutex<Vec<(log::Level, String)>> = Mutex::new(Vec::new());

struct Capture;

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        if record.target().starts_with("sendfile") {
            LINES
                .lock()
                .unwrap()
                .push((record.level(), record.args().to_string()));
        }
    }
    fn flush(&self) {}
}

fn take() -> Vec<(log::Level, String)> {
    std::mem::take(&mut *LINES.lock().unwrap())
}

// One test function: the logger and the development warning's "once" are process-wide.
#[actix_web::test]
async fn log_lines() {
    static CAPTURE: Capture = Capture;
    log::set_logger(&CAPTURE).unwrap();
    log::set_max_level(log::LevelFilter::Trace);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.txt"), b"a").unwrap();

    // No configuration: one error line that says what to add.
    let app = test::init_service(
        App::new().route("/f", web::get().to(|| async { SendFile::new("a.txt") })),
    )
    .await;
    take();
    let res = test::call_service(&app, test::TestRequest::get().uri("/f").to_request()).await;
    assert_eq!(res.status(), 500);
    let lines = take();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0].0, log::Level::Error);
    assert!(
        lines[0].1.contains(".app_data(SendFileConfig::new("),
        "{lines:?}"
    );

    // A path outside the root: a warning with the reason; the client sees only "Not Found".
    let config = SendFileConfig::new(Backend::Simple).root(dir.path());
    let app = test::init_service(App::new().app_data(config).route(
        "/f/{p:.*}",
        web::get().to(|p: web::Path<String>| async move { SendFile::new(p.into_inner()) }),
    ))
    .await;
    let res = test::call_service(
        &app,
        test::TestRequest::get()
            .uri("/f/../../etc/passwd")
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), 404);
    let lines = take();
    assert!(
        lines
            .iter()
            .any(|(level, text)| *level == log::Level::Warn && text.contains("outside the root")),
        "{lines:?}"
    );

    // The development backend warns once, however many files it serves.
    let config = SendFileConfig::new(Backend::Development).root(dir.path());
    let app = test::init_service(
        App::new()
            .app_data(config)
            .route("/d", web::get().to(|| async { SendFile::new("a.txt") })),
    )
    .await;
    for _ in 0..3 {
        let res = test::call_service(&app, test::TestRequest::get().uri("/d").to_request()).await;
        assert_eq!(res.status(), 200);
    }
    let warnings: Vec<_> = take()
        .into_iter()
        .filter(|(_, text)| text.contains("not for production"))
        .collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_eq!(warnings[0].0, log::Level::Warn);
}
