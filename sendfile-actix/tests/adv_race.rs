//! Adversarial race (wt-adv): a real HttpServer on loopback, a handler that lets Bob have only
//! `public/...` judged on the resolved file, and a thread that keeps swapping `public/x`
//! between a public file and a link to Alice's file. Bob must never get Alice's bytes (simple
//! backend) nor a header naming her file (offload backends).

#![allow(clippy::print_stderr)] // reports counts, as the measurement they are

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::fs::symlink;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use actix_web::{App, HttpRequest, HttpServer, web};
use sendfile_actix::{Backend, ResolvedSendFile, SendFile, SendFileConfig, SendFileError};

async fn bob(
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<ResolvedSendFile, actix_web::Error> {
    let file = SendFile::new(path.into_inner()).resolve(&req)?;
    if !file.relative_path().starts_with("public") {
        return Err(SendFileError::denied_for(&req).into());
    }
    Ok(file)
}

fn get(addr: std::net::SocketAddr, path: &str) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(s, "GET {path} HTTP/1.0\r\nHost: x\r\n\r\n").unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn holds_bob_never_gets_alices_file_under_symlink_swaps() {
    let dir = tempfile::tempdir().unwrap();
    let root: PathBuf = dir.path().canonicalize().unwrap().join("root");
    std::fs::create_dir_all(root.join("public")).unwrap();
    std::fs::create_dir_all(root.join("users/alice")).unwrap();
    std::fs::write(root.join("users/alice/notes.txt"), "ALICE-SECRET").unwrap();
    std::fs::write(root.join("public/x"), "PUBLIC").unwrap();

    let configs = [
        (
            "simple follow",
            SendFileConfig::builder(Backend::Simple)
                .root(&root)
                .build()
                .unwrap(),
        ),
        (
            "simple nofollow",
            SendFileConfig::builder(Backend::Simple)
                .root(&root)
                .follow_symlinks(false)
                .build()
                .unwrap(),
        ),
        (
            "nginx follow",
            SendFileConfig::builder(Backend::Nginx)
                .root(&root)
                .url("/protected")
                .build()
                .unwrap(),
        ),
        (
            "nginx lexical",
            SendFileConfig::builder(Backend::Nginx)
                .root(&root)
                .url("/protected")
                .check_file_exists(false)
                .build()
                .unwrap(),
        ),
    ];
    for (name, config) in configs {
        let (tx, rx) = std::sync::mpsc::channel();
        let server_thread = std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let server = HttpServer::new(move || {
                    App::new()
                        .app_data(config.clone())
                        .route("/f/{path:.*}", web::get().to(bob))
                })
                .workers(2)
                .bind(("127.0.0.1", 0))
                .unwrap();
                let addr = server.addrs()[0];
                let server = server.run();
                tx.send((addr, server.handle())).unwrap();
                server.await.unwrap();
            });
        });
        let (addr, handle) = rx.recv().unwrap();

        let stop = Arc::new(AtomicBool::new(false));
        let swapper = {
            let (root, stop) = (root.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut i = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let tmp = root.join(format!("public/.t{}", i % 2));
                    let _ = std::fs::remove_file(&tmp);
                    if i.is_multiple_of(2) {
                        std::fs::write(&tmp, "PUBLIC").unwrap();
                    } else {
                        symlink("../users/alice/notes.txt", &tmp).unwrap();
                    }
                    std::fs::rename(&tmp, root.join("public/x")).unwrap();
                    // Leave each state standing a moment: the file write is slower than the
                    // symlink, so without this `public/x` would nearly always be the link.
                    std::thread::sleep(Duration::from_micros(300));
                    i += 1;
                }
                i
            })
        };
        let clients: Vec<_> = (0..3)
            .map(|_| {
                std::thread::spawn(move || {
                    let (mut total, mut ok, mut leaks) = (0u32, 0u32, Vec::new());
                    let start = Instant::now();
                    while start.elapsed() < Duration::from_millis(1500) {
                        let res = get(addr, "/f/public/x");
                        total += 1;
                        if res.starts_with("HTTP/1.0 200") || res.starts_with("HTTP/1.1 200") {
                            ok += 1;
                        }
                        if res.contains("ALICE") || res.contains("users/alice") {
                            leaks.push(res);
                        }
                    }
                    (total, ok, leaks)
                })
            })
            .collect();
        let mut total = 0;
        let mut ok = 0;
        let mut leaks = Vec::new();
        for c in clients {
            let (t, o, l) = c.join().unwrap();
            total += t;
            ok += o;
            leaks.extend(l);
        }
        stop.store(true, Ordering::Relaxed);
        let swaps = swapper.join().unwrap();
        actix_web::rt::System::new().block_on(handle.stop(true));
        server_thread.join().unwrap();
        std::fs::remove_file(root.join("public/x")).unwrap();
        std::fs::write(root.join("public/x"), "PUBLIC").unwrap();
        #[allow(clippy::print_stderr)]
        {
            eprintln!(
                "{name}: {total} requests, {ok} served, {swaps} swaps, {} leaks",
                leaks.len()
            );
        }
        assert!(ok > 0, "{name}");
        assert!(leaks.is_empty(), "{name}: {}", leaks[0]);
    }
}
