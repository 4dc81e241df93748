//! Streaming, ranges, HEAD and Content-Length through a real listening actix-web server, read
//! with a raw HTTP/1.1 client so that the bytes on the wire are what is checked.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;

use actix_web::{App, web};
use sendfile_actix::{Backend, SendFile, SendFileConfig};

/// A file whose bytes are all different from their neighbours' (position-dependent).
fn pattern(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i % 251) as u8 ^ (i / 251) as u8)
        .collect()
}

struct Server {
    srv: actix_test::TestServer,
    _dir: tempfile::TempDir,
    root: PathBuf,
}

fn start() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    std::fs::write(root.join("big.bin"), pattern(5 * 1024 * 1024 + 17)).unwrap();
    std::fs::write(root.join("empty.txt"), b"").unwrap();
    let config = SendFileConfig::builder(Backend::Simple)
        .root(&root)
        .build()
        .unwrap();
    let nginx = SendFileConfig::builder(Backend::Nginx)
        .root(&root)
        .url("/protected")
        .build()
        .unwrap();
    let srv = actix_test::start(move || {
        let send = || {
            web::route()
                .to(|name: web::Path<String>| async move { SendFile::new(name.into_inner()) })
        };
        App::new()
            .app_data(config.clone())
            .route("/f/{name}", send())
            .service(
                web::scope("/offload")
                    .app_data(nginx.clone())
                    .route("/{name}", send()),
            )
    });
    Server {
        srv,
        _dir: dir,
        root,
    }
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

#[actix_web::test]
async fn large_file_is_streamed_byte_exact_with_content_length() {
    let server = start();
    let expected = std::fs::read(server.root.join("big.bin")).unwrap();
    let (head, body) = tokio_blocking(
        &server,
        "GET /f/big.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert_eq!(
        header(&head, "content-length"),
        Some(expected.len().to_string().as_str())
    );
    assert_eq!(header(&head, "transfer-encoding"), None);
    assert!(
        body == expected,
        "body differs ({} bytes vs {})",
        body.len(),
        expected.len()
    );
}

#[actix_web::test]
async fn ranges_on_the_wire() {
    let server = start();
    let expected = std::fs::read(server.root.join("big.bin")).unwrap();
    let (head, body) = tokio_blocking(
        &server,
        "GET /f/big.bin HTTP/1.1\r\nHost: x\r\nRange: bytes=1000000-3000000\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(head.starts_with("HTTP/1.1 206"), "{head}");
    assert_eq!(header(&head, "content-length"), Some("2000001"));
    assert_eq!(body, &expected[1_000_000..=3_000_000]);

    let (head, body) = tokio_blocking(
        &server,
        "GET /f/big.bin HTTP/1.1\r\nHost: x\r\nRange: bytes=0-9, -10\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(head.starts_with("HTTP/1.1 206"), "{head}");
    assert_eq!(
        header(&head, "content-length"),
        Some(body.len().to_string().as_str())
    );
    let boundary = header(&head, "content-type")
        .unwrap()
        .split("boundary=")
        .nth(1)
        .unwrap()
        .to_owned();
    let text = String::from_utf8_lossy(&body);
    assert_eq!(
        text.matches(boundary.as_str()).count(),
        3,
        "two parts and the closing delimiter"
    );
    let tail = &expected[expected.len() - 10..];
    assert!(body.windows(10).any(|w| w == tail));
}

#[actix_web::test]
async fn head_announces_the_length_and_sends_no_body() {
    let server = start();
    let len = std::fs::metadata(server.root.join("big.bin"))
        .unwrap()
        .len();
    let (head, body) = tokio_blocking(
        &server,
        "HEAD /f/big.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert_eq!(
        header(&head, "content-length"),
        Some(len.to_string().as_str())
    );
    assert!(body.is_empty());
}

#[actix_web::test]
async fn empty_file_and_unsatisfiable_range() {
    let server = start();
    let (head, body) = tokio_blocking(
        &server,
        "GET /f/empty.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert_eq!(header(&head, "content-length"), Some("0"));
    assert!(body.is_empty());
    let (head, _) = tokio_blocking(
        &server,
        "GET /f/big.bin HTTP/1.1\r\nHost: x\r\nRange: bytes=99999999-\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(head.starts_with("HTTP/1.1 416"), "{head}");
    assert!(
        header(&head, "content-range")
            .unwrap()
            .starts_with("bytes */")
    );
}

/// Open descriptors of this process that point at `path`.
fn open_handles(path: &std::path::Path) -> usize {
    std::fs::read_dir("/proc/self/fd")
        .map(|dir| {
            dir.filter_map(Result::ok)
                .filter(|e| std::fs::read_link(e.path()).is_ok_and(|t| t == path))
                .count()
        })
        .unwrap_or(0)
}

#[actix_web::test]
async fn a_client_that_goes_away_closes_the_file() {
    let server = start();
    let path = std::fs::canonicalize(server.root.join("big.bin")).unwrap();
    let addr = server.srv.addr();
    let opened = actix_web::rt::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(addr).unwrap();
        stream
            .write_all(b"GET /f/big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        let mut first = [0u8; 4096];
        let n = stream.read(&mut first).unwrap();
        assert!(n > 0);
        // The response has started: the file is open now.
        open_handles(&path)
        // The stream is dropped here: the client goes away mid-body.
    })
    .await
    .unwrap();
    assert_eq!(
        opened, 1,
        "the streamed file is open while the response is sent"
    );
    let path = std::fs::canonicalize(server.root.join("big.bin")).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while open_handles(&path) > 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the file stayed open after the client left"
        );
        actix_web::rt::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// Runs the blocking raw client off the server's runtime thread.
async fn tokio_blocking(server: &Server, request: &str) -> (String, Vec<u8>) {
    let addr = server.srv.addr();
    let request = request.to_owned();
    actix_web::rt::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(addr).unwrap();
        stream.write_all(request.as_bytes()).unwrap();
        let mut all = Vec::new();
        stream.read_to_end(&mut all).unwrap();
        let split = all
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("end of headers")
            + 4;
        (
            String::from_utf8(all[..split].to_vec()).unwrap(),
            all[split..].to_vec(),
        )
    })
    .await
    .unwrap()
}

#[actix_web::test]
async fn offload_responses_are_empty_with_content_length_zero() {
    let server = start();
    let (head, body) = tokio_blocking(
        &server,
        "GET /offload/big.bin HTTP/1.1\r\nHost: x\r\nRange: bytes=0-9\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert_eq!(
        header(&head, "x-accel-redirect"),
        Some("/protected/big.bin")
    );
    assert_eq!(header(&head, "content-length"), Some("0"));
    assert_eq!(header(&head, "transfer-encoding"), None);
    assert!(body.is_empty());
}
