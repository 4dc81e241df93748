//! What the crate writes to the log: one line saying what to add when the configuration is
//! missing, the reason of a 404, and the development backend's warning, once; and never a raw
//! control character from the request.

use actix_web::{App, test, web};
use sendfile_actix::{Backend, SendFile, SendFileConfig};

#[path = "support/log_capture.rs"]
mod log_capture;

fn install() {
    log_capture::install(log::LevelFilter::Trace);
}

fn take() -> Vec<(log::Level, String)> {
    log_capture::take_mine()
}

// The development warning's "once" is process-wide: only this test serves with it.
#[actix_web::test]
async fn log_lines() {
    install();
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
        lines[0].1.contains(".app_data(SendFileConfig::builder("),
        "{lines:?}"
    );

    // A path outside the root: a warning with the reason; the client sees only "Not Found".
    let config = SendFileConfig::builder(Backend::Simple)
        .root(dir.path())
        .build()
        .unwrap();
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
    let config = SendFileConfig::builder(Backend::Development)
        .root(dir.path())
        .build()
        .unwrap();
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

/// What a terminal or a line-based log reader would act on: C0 controls, DEL, C1 controls,
/// and the bidirectional and zero-width characters.
fn is_dangerous(c: char) -> bool {
    c < ' '
        || matches!(
            c,
            '\u{7f}'..='\u{9f}' | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}'
        )
}

/// Decodes `%XX` escapes into raw bytes (the path of a request, as an app might take it).
fn percent_decode_bytes(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    out
}

/// Paths from anonymous URLs, decoded by `web::Path` (or byte by byte) into the `SendFile`
/// path, must not forge log lines or reach the terminal: a missing file, a path outside the
/// root, an absolute path, a symlink out, under an in-process and an offload backend.
#[cfg(unix)]
#[actix_web::test]
async fn request_paths_are_escaped_in_every_log_line() {
    use std::os::unix::ffi::OsStringExt;

    install();
    let base = tempfile::tempdir().unwrap();
    let root = base.path().join("root");
    let outside = base.path().join("outside");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("secret\u{1b}[31m.txt"), b"s").unwrap();
    std::os::unix::fs::symlink(&outside, root.join("out")).unwrap();

    let hostile = [
        // Missing files.
        "missing%0d%0aERROR%20sendfile:%20forged%20line.txt",
        "%1b%5b31mred%1b%5b0m.txt",
        "invoice%e2%80%aefdp.exe",
        "c1%c2%85%c2%9b31m%7f.txt",
        "tab%09vt%0bff%0c.txt",
        "nul%00byte.txt",
        // Outside the root: by `..`, by an absolute path, through a symlink.
        "..%2f..%2f%0d%0aetc/passwd",
        "%2fetc%2fpasswd%0a%1b%5b2J",
        "out/secret%1b%5b31m.txt",
        "out/..%0a/../../x%e2%80%ae",
    ];
    // NUL-free garbage, including bytes that are not UTF-8.
    let garbage: String = (1u8..=255)
        .filter(|&b| b != b'/' && b != b'?' && b != b'#')
        .map(|b| format!("%{b:02x}"))
        .collect();

    for backend in [Backend::Simple, Backend::Nginx] {
        let config = SendFileConfig::builder(backend.clone())
            .root(&root)
            .url("/protected")
            .build()
            .unwrap();
        let app = test::init_service(
            App::new()
                .app_data(config)
                .route(
                    "/f/{p:.*}",
                    web::get()
                        .to(|p: web::Path<String>| async move { SendFile::new(p.into_inner()) }),
                )
                .route(
                    "/raw/{p:.*}",
                    web::get().to(|req: actix_web::HttpRequest| async move {
                        let tail = req.path().trim_start_matches("/raw/");
                        let bytes = percent_decode_bytes(tail);
                        SendFile::new(std::ffi::OsString::from_vec(bytes))
                    }),
                ),
        )
        .await;
        take();
        let mut urls: Vec<String> = hostile.iter().map(|p| format!("/f/{p}")).collect();
        urls.extend(hostile.iter().map(|p| format!("/raw/{p}")));
        urls.push(format!("/raw/{garbage}"));
        urls.push(format!("/raw/out/{garbage}"));
        let mut levels = Vec::new();
        for url in &urls {
            let res =
                test::call_service(&app, test::TestRequest::get().uri(url).to_request()).await;
            assert_eq!(res.status(), 404, "{backend}: {url}");
            let lines = take();
            // Each refusal is logged (so the check below is not vacuous)...
            assert!(
                lines.iter().any(|(_, text)| text.contains("not found")),
                "{backend}: {url}: {lines:?}"
            );
            // ...and no line carries a raw control, bidi or zero-width character.
            for (level, text) in &lines {
                assert!(
                    !text.chars().any(is_dangerous),
                    "{backend}: {url}: {level} line {text:?}"
                );
                levels.push(*level);
            }
        }
        // The debug lines of the confinement and the warning of a refusal were both seen.
        for level in [log::Level::Debug, log::Level::Info, log::Level::Warn] {
            assert!(levels.contains(&level), "{backend}: no {level} line");
        }
    }
}

/// The escapes are readable: an operator can tell what was requested.
#[cfg(unix)]
#[actix_web::test]
async fn escaped_paths_stay_readable() {
    install();
    let dir = tempfile::tempdir().unwrap();
    let config = SendFileConfig::builder(Backend::Simple)
        .root(dir.path())
        .build()
        .unwrap();
    let app = test::init_service(App::new().app_data(config).route(
        "/f/{p:.*}",
        web::get().to(|p: web::Path<String>| async move { SendFile::new(p.into_inner()) }),
    ))
    .await;
    take();
    let res = test::call_service(
        &app,
        test::TestRequest::get()
            .uri("/f/a%0d%0ab%1b%5b31m%5c.txt")
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), 404);
    let lines = take();
    assert!(
        lines
            .iter()
            .any(|(level, text)| *level == log::Level::Info
                && text.contains(r"a\r\nb\x1b[31m\\.txt")),
        "{lines:?}"
    );
}
