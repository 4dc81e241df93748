//! Adversarial: every log line written while serving, by any target (actix's Logger
//! middleware included, as the example app wraps it), is free of controls and invisible
//! characters from the request.

#![allow(clippy::print_stderr)] // reports counts, as the measurement they are

use actix_web::{App, HttpRequest, middleware, test, web};
use sendfile_actix::{Backend, ResolvedSendFile, SendFile, SendFileConfig, SendFileError};
use sendfile_core::logsafe::is_invisible;

#[path = "support/log_capture.rs"]
mod log_capture;

async fn serve(
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<ResolvedSendFile, SendFileError> {
    SendFile::new(path.into_inner()).resolve(&req)
}

/// F7 (cosmetic). actix-web's Logger writes `Error in response: {:?}` at debug level, and
/// `SendFileError`'s derived `Debug` does not go through `LogSafe`: Rust's `Debug` escapes
/// controls and most format characters, but not the Hangul fillers (U+115F, U+3164...), which
/// `logsafe::is_invisible` lists as invisible.
#[actix_web::test]
async fn finding_actix_logger_debug_line_carries_invisible_characters() {
    log_capture::install(log::LevelFilter::Trace);
    let dir = tempfile::tempdir().unwrap();
    let config = SendFileConfig::builder(Backend::Simple)
        .root(dir.path())
        .build()
        .unwrap();
    let app = test::init_service(
        App::new()
            .wrap(middleware::Logger::new("%a \"%r\" %s %b"))
            .app_data(config)
            .route("/f/{path:.*}", web::get().to(serve)),
    )
    .await;
    for uri in [
        "/f/admin%E3%85%A4.txt",
        "/f/a%0d%0aFORGED%1b%5b2J",
        "/f/%E1%85%9Fx%E2%80%AEtxt.exe",
    ] {
        let res = test::call_service(&app, test::TestRequest::get().uri(uri).to_request()).await;
        assert_eq!(res.status(), 404);
    }
    let lines = log_capture::take_all();
    assert!(!lines.is_empty());
    for line in &lines {
        assert!(
            !line
                .text
                .chars()
                .any(|c| (c.is_control()) || is_invisible(c)),
            "{}: {:?}",
            line.target,
            line.text
        );
    }
}
