//! The example's binary as `cargo run -p protected_downloads` starts it: with nothing set up
//! it creates the sample tree and the database (demo accounts included) and serves; and it
//! sets up every connection with the send timeout (`sendfile_actix::on_connect`), so a
//! client that takes nothing loses its connection, not only its file.

use std::fs;
use std::io::{Read as _, Write as _};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_protected_downloads");

/// The app's process, killed (by its id) and reaped on drop.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts the binary on a free port with `envs`; returns once it listens.
fn start(dir: &Path, envs: &[(&str, &Path)], extra: &[(&str, &str)]) -> (Running, u16) {
    let port = free_port();
    let log_path = dir.join("app.log");
    let log = fs::File::create(&log_path).unwrap();
    let mut cmd = Command::new(BIN);
    cmd.arg(format!("--listen=127.0.0.1:{port}"))
        .env_remove("SENDFILE_BACKEND")
        .env_remove("SENDFILE_URL")
        .env_remove("PUBLIC_URL")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    for (k, v) in extra {
        cmd.env(k, v);
    }
    let app = Running(cmd.spawn().unwrap());
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
        assert!(
            Instant::now() < deadline,
            "the app did not listen on {addr}:\n{}",
            fs::read_to_string(&log_path).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(25));
    }
    (app, port)
}

/// The whole answer to `request` (the connection is closed after it).
fn exchange(port: u16, request: &str) -> String {
    let mut s = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn the_first_run_creates_the_tree_and_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("files");
    let db = dir.path().join("app.sqlite3");
    let (_app, port) = start(
        dir.path(),
        &[("SENDFILE_ROOT", &root), ("DATABASE_PATH", &db)],
        &[],
    );
    assert!(root.join("users/alice/notes.txt").is_file());
    assert!(db.is_file());
    let body = "name=alice&password=wonderland";
    let res = exchange(
        port,
        &format!(
            "POST /sign-in HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    );
    assert!(res.starts_with("HTTP/1.1 303"), "{res}");
    let cookie = res
        .lines()
        .find_map(|l| l.strip_prefix("set-cookie: "))
        .and_then(|c| c.split(';').next())
        .expect("a session cookie")
        .to_owned();
    let page = exchange(
        port,
        &format!(
            "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n"
        ),
    );
    assert!(
        page.contains("Signed in as <strong>alice</strong>"),
        "{page}"
    );
    assert!(page.contains("/download/users/alice/notes.txt"), "{page}");
}

/// Established connections whose local port is `port`, from `/proc/net/tcp`.
fn established_on(port: u16) -> usize {
    let table = fs::read_to_string("/proc/net/tcp").unwrap();
    let local = format!(":{port:04X}");
    table
        .lines()
        .skip(1)
        .filter(|l| {
            let cols: Vec<&str> = l.split_whitespace().collect();
            cols.len() > 3 && cols[1].ends_with(&local) && cols[3] == "01"
        })
        .count()
}

#[test]
fn a_client_that_takes_nothing_loses_its_connection_after_the_send_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("files");
    protected_downloads::create_sample_tree(&root).unwrap();
    // Larger than what the kernel buffers on loopback: the server's writes stall.
    let big = fs::File::create(root.join("public/big.bin")).unwrap();
    big.set_len(256 << 20).unwrap();
    let db = dir.path().join("app.sqlite3");
    let (_app, port) = start(
        dir.path(),
        &[("SENDFILE_ROOT", &root), ("DATABASE_PATH", &db)],
        &[("SENDFILE_SEND_TIMEOUT", "1s")],
    );
    let mut client = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).unwrap();
    client
        .write_all(b"GET /download/public/big.bin HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .unwrap();
    // The client reads nothing. The server's side of the connection must go away: the
    // kernel's user timeout (set by on_connect) ends it; without it, it stays as long as the
    // client does.
    let started = Instant::now();
    let deadline = started + Duration::from_secs(30);
    let mut seen = false;
    loop {
        let n = established_on(port);
        seen |= n > 0;
        if seen && n == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the server still holds the connection of a client that took nothing for {:?} (send timeout 1 s)",
            started.elapsed()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(client);
}
