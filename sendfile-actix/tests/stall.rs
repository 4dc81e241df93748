//! Stall check: under actix-web's defaults (no `on_connect`, so Nagle's algorithm on) small
//! downloads over a kept-alive connection must not wait for the client's delayed ACK.
//!
//! A body that is not ready in the same poll as the headers goes out in a second small write,
//! which Nagle's algorithm holds until the client acknowledges the first one, and Linux delays
//! that ACK by 40 ms: a download that takes well under a millisecond then takes 40 (what
//! `NamedFile` does with its defaults, which read every chunk on the blocking pool). What this
//! guards is that cliff, not a percentage: the bound is generous enough for a loaded 2-core CI
//! machine running a debug build.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use actix_web::{App, HttpServer, web};
use sendfile_actix::{Backend, SendFile, SendFileConfig};

/// A server with actix-web's defaults: no `on_connect`, no `tcp_nodelay`, one worker.
struct Server {
    handle: actix_web::dev::ServerHandle,
    thread: Option<std::thread::JoinHandle<()>>,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Server {
    fn start(name: &str, size: usize) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let body: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
        std::fs::write(dir.path().join(name), body).unwrap();
        let config = SendFileConfig::builder(Backend::Simple)
            .root(dir.path())
            .build()
            .unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let server = HttpServer::new(move || {
                    App::new().app_data(config.clone()).route(
                        "/f/{name}",
                        web::get().to(|name: web::Path<String>| async move {
                            SendFile::new(name.into_inner())
                        }),
                    )
                })
                .workers(1)
                .disable_signals()
                .bind(("127.0.0.1", 0))
                .unwrap();
                let port = server.addrs()[0].port();
                let server = server.run();
                tx.send((port, server.handle())).unwrap();
                server.await.unwrap();
            });
        });
        let (port, handle) = rx.recv_timeout(Duration::from_secs(20)).unwrap();
        Server {
            handle,
            thread: Some(thread),
            port,
            _dir: dir,
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        actix_web::rt::System::new().block_on(self.handle.stop(false));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// One GET over `stream`, its whole body read; the body's length.
fn get(stream: &mut TcpStream, path: &str) -> usize {
    write!(stream, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
    let mut buf = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    let (head_end, len) = loop {
        let n = stream.read(&mut chunk).unwrap();
        assert!(n > 0, "the server closed the connection");
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).into_owned();
            assert!(head.starts_with("HTTP/1.1 200"), "{head}");
            let len: usize = head
                .lines()
                .find_map(|l| {
                    let (name, value) = l.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse().unwrap())
                })
                .unwrap();
            break (end + 4, len);
        }
    };
    let mut got = buf.len() - head_end;
    while got < len {
        let n = stream.read(&mut chunk).unwrap();
        assert!(n > 0, "short body: {got} of {len}");
        got += n;
    }
    assert_eq!(got, len, "more than the Content-Length");
    got
}

#[test]
fn small_downloads_over_a_kept_alive_connection_do_not_wait_for_delayed_acks() {
    const COUNT: usize = 50;
    const SIZE: usize = 1024;
    let server = Server::start("1k.bin", SIZE);
    let mut stream = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    // One first: the page cache, the worker's buffers, the connection's start.
    assert_eq!(get(&mut stream, "/f/1k.bin"), SIZE);
    let started = Instant::now();
    let mut stalled = 0;
    for _ in 0..COUNT {
        let one = Instant::now();
        assert_eq!(get(&mut stream, "/f/1k.bin"), SIZE);
        if one.elapsed() >= Duration::from_millis(40) {
            stalled += 1;
        }
    }
    let total = started.elapsed();
    eprintln!("{COUNT} downloads of 1 KiB over one connection: {total:?}, {stalled} took 40 ms or more");
    // With the stall every one of them takes 40 ms or more: 2 s in all.
    assert!(
        stalled <= COUNT / 5 && total < Duration::from_millis(40 * COUNT as u64 / 2),
        "{stalled} of {COUNT} downloads took 40 ms or more, {total:?} in all: a delayed-ACK stall"
    );
}
