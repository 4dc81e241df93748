//! Load and fault suite of the `simple` backend, against a real server process on loopback:
//! stalled readers, slow readers, aborted downloads, descriptor exhaustion (a low
//! `RLIMIT_NOFILE`), the stream cap, and files truncated, deleted or replaced mid-stream,
//! with an ordinary client's download timed while it happens.
//!
//! The server is this test binary run again with `SENDFILE_LOAD_SERVER` set (the `server`
//! test below then serves instead of returning); it applies its own descriptor limit, prints
//! its port, and is stopped by its process id when the test that started it ends. Every wait
//! has a deadline; nothing synchronises by sleeping.

#![cfg(target_os = "linux")]
// The server prints its port and its log for the parent; the tests print what they measured.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddrV4, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const MIB: usize = 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// The server (child process).

#[test]
fn server() {
    let Some(root) = std::env::var_os("SENDFILE_LOAD_SERVER") else {
        return;
    };
    if let Some(n) = env_u64("SENDFILE_LOAD_NOFILE") {
        let limit = rustix::process::Rlimit {
            current: Some(n),
            maximum: Some(n),
        };
        rustix::process::setrlimit(rustix::process::Resource::Nofile, limit).unwrap();
    }
    log::set_logger(&StderrLogger).unwrap();
    log::set_max_level(log::LevelFilter::Info);
    actix_web::rt::System::new().block_on(serve(PathBuf::from(root)));
}

async fn serve(root: PathBuf) {
    use actix_web::{App, HttpServer, web};
    use sendfile_actix::{Backend, SendFile, SendFileConfig};

    let timeout = Duration::from_millis(env_u64("SENDFILE_LOAD_TIMEOUT_MS").unwrap_or(60_000));
    let mut config = SendFileConfig::builder(Backend::Simple)
        .root(&root)
        .send_timeout(timeout);
    if let Some(max) = env_u64("SENDFILE_LOAD_MAX_STREAMS") {
        config = config.max_streams(max as usize);
    }
    let config = config.build().unwrap();
    let mut server = HttpServer::new(move || {
        App::new().app_data(config.clone()).route(
            "/f/{name}",
            web::get()
                .to(|name: web::Path<String>| async move { SendFile::new(name.into_inner()) }),
        )
    })
    .workers(1)
    .backlog(1024)
    .max_connections(100_000)
    .disable_signals();
    if std::env::var_os("SENDFILE_LOAD_ON_CONNECT").is_some() {
        let helper = sendfile_actix::on_connect(timeout);
        let sndbuf = env_u64("SENDFILE_LOAD_SNDBUF");
        server = server.on_connect(move |conn, ext| {
            helper(conn, ext);
            if let (Some(size), Some(stream)) =
                (sndbuf, conn.downcast_ref::<actix_web::rt::net::TcpStream>())
            {
                rustix::net::sockopt::set_socket_send_buffer_size(stream, size as usize).unwrap();
            }
        });
    }
    let server = server.bind(("127.0.0.1", 0)).unwrap();
    let port = server.addrs()[0].port();
    println!("LISTENING {port}");
    std::io::stdout().flush().unwrap();
    server.run().await.unwrap();
}

struct StderrLogger;

impl log::Log for StderrLogger {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        if record.target().starts_with("sendfile") {
            eprintln!("LOG {} {}", record.level(), record.args());
        }
    }
    fn flush(&self) {}
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

// ---------------------------------------------------------------------------------------------
// The parent's view of the server.

struct Server {
    _turn: std::sync::MutexGuard<'static, ()>,
    child: Child,
    port: u16,
    log: Arc<Mutex<Vec<String>>>,
    _root: tempfile::TempDir,
    root: PathBuf,
}

#[derive(Default, Clone, Copy)]
struct Options {
    timeout_ms: Option<u64>,
    nofile: Option<u64>,
    max_streams: Option<u64>,
    on_connect: bool,
    /// With `on_connect`: the server's SO_SNDBUF.
    sndbuf: Option<u64>,
}

/// One server at a time: the tests measure timings and descriptors, and would disturb each
/// other on a small machine.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

impl Server {
    fn start(files: &[(&str, usize)], options: Options) -> Server {
        let turn = ONE_AT_A_TIME
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        for &(name, size) in files {
            write_file(&root.join(name), size);
        }
        let mut cmd = Command::new(std::env::current_exe().unwrap());
        cmd.args(["--exact", "server", "--nocapture", "--test-threads=1"])
            .env("SENDFILE_LOAD_SERVER", &root)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let vars = [
            ("SENDFILE_LOAD_TIMEOUT_MS", options.timeout_ms),
            ("SENDFILE_LOAD_NOFILE", options.nofile),
            ("SENDFILE_LOAD_MAX_STREAMS", options.max_streams),
            ("SENDFILE_LOAD_SNDBUF", options.sndbuf),
        ];
        for (name, value) in vars {
            if let Some(v) = value {
                cmd.env(name, v.to_string());
            }
        }
        if options.on_connect {
            cmd.env("SENDFILE_LOAD_ON_CONNECT", "1");
        }
        let mut child = cmd.spawn().unwrap();
        let stdout = child.stdout.take().unwrap();
        let stderr = child.stderr.take().unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                // The harness may print "test server ... " on the same line first.
                if let Some((_, port)) = line.split_once("LISTENING ") {
                    let _ = tx.send(port.trim().parse::<u16>().unwrap());
                }
            }
        });
        let port = match rx.recv_timeout(Duration::from_secs(20)) {
            Ok(port) => port,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("server did not start: {:?}", log.lock().unwrap());
            }
        };
        let server = Server {
            _turn: turn,
            child,
            port,
            log,
            _root: dir,
            root,
        };
        // One request, so that every descriptor the server keeps (worker, root) is open
        // before a test counts them.
        assert_eq!(ordinary_download(&server, "/f/nothing").1, 404);
        server
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The server's open descriptors.
    fn fds(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.pid()))
            .unwrap()
            .count()
    }

    /// The server's resident memory, in KiB.
    fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap()
    }

    fn log_lines(&self, needle: &str) -> usize {
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter(|l| l.contains(needle))
            .count()
    }

    fn addr(&self) -> SocketAddrV4 {
        SocketAddrV4::new([127, 0, 0, 1].into(), self.port)
    }

    /// Waits, up to `limit`, until `cond` holds; panics with `what` otherwise.
    fn wait_for(&self, limit: Duration, what: &str, mut cond: impl FnMut(&Server) -> bool) {
        let deadline = Instant::now() + limit;
        while !cond(self) {
            if Instant::now() >= deadline {
                let links: Vec<String> = std::fs::read_dir(format!("/proc/{}/fd", self.pid()))
                    .unwrap()
                    .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
                    .map(|p| p.display().to_string())
                    .collect();
                let log = self.log.lock().unwrap();
                panic!(
                    "timed out waiting for {what} (fds {links:?}, {} log lines, the last: {:?})",
                    log.len(),
                    log.last()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Stopped by its own pid (Child::kill signals exactly that process).
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn write_file(path: &Path, size: usize) {
    let piece: Vec<u8> = (0..MIB).map(|i| (i % 251) as u8).collect();
    let mut f = std::fs::File::create(path).unwrap();
    let mut left = size;
    while left > 0 {
        let n = left.min(piece.len());
        f.write_all(&piece[..n]).unwrap();
        left -= n;
    }
}

/// A connected client socket with a small receive buffer (set before connecting, so the
/// window stays small).
fn small_client(addr: SocketAddrV4) -> TcpStream {
    use rustix::net::{AddressFamily, SocketType, connect, socket, sockopt};
    let fd = socket(AddressFamily::INET, SocketType::STREAM, None).unwrap();
    sockopt::set_socket_recv_buffer_size(&fd, 4096).unwrap();
    connect(&fd, &addr).unwrap();
    TcpStream::from(fd)
}

/// Sends a GET and reads the response head; returns the status, the head, and the body bytes
/// read with it.
fn request(stream: &mut TcpStream, path: &str) -> std::io::Result<(u16, String, Vec<u8>)> {
    write!(stream, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).into_owned();
            let status = head[9..12].parse().unwrap();
            return Ok((status, head, buf[end + 4..].to_vec()));
        }
    }
}

fn content_length(head: &str) -> usize {
    head.lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().unwrap())
        })
        .unwrap()
}

/// An ordinary download on a fresh connection: the time it took, and the status.
fn ordinary_download(server: &Server, path: &str) -> (Duration, u16) {
    let started = Instant::now();
    let mut s = TcpStream::connect(server.addr()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let (status, head, mut body) = request(&mut s, path).unwrap();
    if status == 200 {
        let len = content_length(&head);
        let mut chunk = vec![0u8; 64 * 1024];
        while body.len() < len {
            let n = s.read(&mut chunk).unwrap();
            assert!(n > 0, "short body");
            body.extend_from_slice(&chunk[..n]);
        }
        assert_eq!(body.len(), len);
    }
    (started.elapsed(), status)
}

/// Reads until the server closes the connection; the number of body bytes received.
fn read_to_close(s: &mut TcpStream) -> usize {
    let mut total = 0;
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        match s.read(&mut chunk) {
            Ok(0) | Err(_) => return total,
            Ok(n) => total += n,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The tests.

/// Clients that stop reading: memory per client stays small, an ordinary download is not held
/// up, and after the send timeout every descriptor is back.
#[test]
fn stalled_clients_are_cut_off_after_the_send_timeout() {
    const CLIENTS: usize = 200;
    let server = Server::start(
        &[("big.bin", 64 * MIB), ("1m.bin", MIB)],
        Options {
            timeout_ms: Some(4000),
            on_connect: true,
            ..Options::default()
        },
    );
    ordinary_download(&server, "/f/1m.bin");
    let fds_before = server.fds();
    let rss_before = server.rss_kib();

    let setup = Instant::now();
    let mut stalled: Vec<TcpStream> = (0..CLIENTS)
        .map(|_| {
            let mut s = small_client(server.addr());
            s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            let (status, ..) = request(&mut s, "/f/big.bin").unwrap();
            assert_eq!(status, 200);
            s
        })
        .collect();
    eprintln!(
        "{CLIENTS} stalled clients set up in {:?}, fds {} -> {}",
        setup.elapsed(),
        fds_before,
        server.fds()
    );
    // Every stalled stream holds its socket and its file.
    server.wait_for(Duration::from_secs(10), "the stalled streams", |s| {
        s.fds() >= fds_before + CLIENTS
    });
    let rss_growth = server.rss_kib().saturating_sub(rss_before);
    let (took, status) = ordinary_download(&server, "/f/1m.bin");
    assert_eq!(status, 200);
    assert!(
        took < Duration::from_secs(2),
        "an ordinary download took {took:?}"
    );
    // Before: one 256 KiB read buffer per stalled client, copied into actix's write buffer.
    assert!(
        rss_growth < (CLIENTS as u64) * 100,
        "{CLIENTS} stalled clients grew the server by {rss_growth} KiB"
    );

    // The timeout closes the file (watchdog) and the kernel the socket (TCP_USER_TIMEOUT).
    server.wait_for(
        Duration::from_secs(20),
        "descriptors back after the send timeout",
        |s| s.fds() <= fds_before,
    );
    let mut most = 0;
    for s in &mut stalled {
        let got = read_to_close(s);
        assert!(got < 64 * MIB, "a stalled client got the whole file");
        most = most.max(got);
    }
    eprintln!("a stalled client received at most {most} bytes before being cut off");
    for l in server.log.lock().unwrap().iter().take(3) {
        eprintln!("{l}");
    }
    let logged = server.log_lines("send timeout");
    assert!(
        (1..=CLIENTS).contains(&logged),
        "{logged} send timeout lines for {CLIENTS} streams"
    );
    eprintln!("{CLIENTS} stalled clients: RSS +{rss_growth} KiB, ordinary 1 MiB download {took:?}");
}

/// Without the on_connect helper, on loopback the first MiB of a download goes in larger
/// chunks: a client that reads nothing still pins little, since the kernel's buffers of a
/// loopback connection take the whole lead before they refuse anything.
#[test]
fn stalled_clients_without_on_connect_pin_little() {
    const CLIENTS: usize = 200;
    let server = Server::start(&[("big.bin", 64 * MIB)], Options::default());
    let fds_before = server.fds();
    let rss_before = server.rss_kib();
    let stalled: Vec<TcpStream> = (0..CLIENTS)
        .map(|_| {
            let mut s = small_client(server.addr());
            s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            let (status, ..) = request(&mut s, "/f/big.bin").unwrap();
            assert_eq!(status, 200);
            s
        })
        .collect();
    server.wait_for(Duration::from_secs(10), "the stalled streams", |s| {
        s.fds() >= fds_before + CLIENTS
    });
    let rss_growth = server.rss_kib().saturating_sub(rss_before);
    let (took, status) = ordinary_download(&server, "/f/big.bin");
    assert_eq!(status, 200);
    eprintln!(
        "{CLIENTS} stalled clients without on_connect: RSS +{rss_growth} KiB, ordinary 64 MiB download {took:?}"
    );
    // With on_connect the same clients cost about 46 KiB each; a lead chunk (192 KiB) pinned
    // per client would be about 240.
    assert!(
        rss_growth < (CLIENTS as u64) * 100,
        "{CLIENTS} stalled clients grew the server by {rss_growth} KiB"
    );
    drop(stalled);
}

/// Without the on_connect helper, the send timeout still closes the stalled stream's file.
#[test]
fn a_stalled_stream_releases_its_file_at_the_send_timeout() {
    let server = Server::start(
        &[("big.bin", 32 * MIB), ("1k.bin", 1024)],
        Options {
            timeout_ms: Some(1000),
            max_streams: Some(1),
            ..Options::default()
        },
    );
    let fds_before = server.fds();
    let mut s = small_client(server.addr());
    let (status, ..) = request(&mut s, "/f/big.bin").unwrap();
    assert_eq!(status, 200);
    server.wait_for(Duration::from_secs(10), "the send timeout", |srv| {
        srv.log_lines("send timeout") == 1
    });
    server.wait_for(Duration::from_secs(10), "the file closed", |srv| {
        srv.fds() <= fds_before + 1
    });
    // Its place under max_streams(1) is free again.
    let (_, status) = ordinary_download(&server, "/f/1k.bin");
    assert_eq!(status, 200);
    assert_eq!(server.log_lines("send timeout"), 1);
}

/// A client that reads slowly but steadily is never cut off, even when the whole download
/// takes several send timeouts.
///
/// The server sees progress each time actix takes a chunk, which happens when the kernel has
/// room again for half the socket's send buffer; the test server keeps that buffer small so
/// that a slow client's progress shows often (a 4 MB buffer drained at 100 KB/s would show it
/// every 20 s, as it would to nginx's `send_timeout`).
#[test]
fn a_slow_but_moving_client_is_not_cut_off() {
    const SIZE: usize = MIB / 2;
    let server = Server::start(
        &[("half.bin", SIZE)],
        Options {
            timeout_ms: Some(1000),
            on_connect: true,
            sndbuf: Some(32 * 1024),
            ..Options::default()
        },
    );
    let mut s = small_client(server.addr());
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let started = Instant::now();
    let (status, head, body) = request(&mut s, "/f/half.bin").unwrap();
    assert_eq!(status, 200);
    assert_eq!(content_length(&head), SIZE);
    let mut total = body.len();
    let mut chunk = vec![0u8; 2048];
    // About 200 KB/s in small reads: about 2.5 s in all, more than twice the timeout.
    while total < SIZE {
        let n = match s.read(&mut chunk) {
            Ok(n) if n > 0 => n,
            other => panic!(
                "cut off after {total} bytes ({other:?}); server log: {:?}",
                server.log.lock().unwrap()
            ),
        };
        total += n;
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(total, SIZE);
    assert!(started.elapsed() > Duration::from_millis(2000));
    assert_eq!(server.log_lines("send timeout"), 0);
}

/// Downloads aborted mid-body leave no descriptor behind.
#[test]
fn aborted_downloads_release_everything() {
    let server = Server::start(&[("8m.bin", 8 * MIB), ("1m.bin", MIB)], Options::default());
    ordinary_download(&server, "/f/1m.bin");
    let fds_before = server.fds();
    let mut slowest = Duration::ZERO;
    for round in 0..10 {
        let clients: Vec<TcpStream> = (0..50)
            .map(|_| {
                let mut s = TcpStream::connect(server.addr()).unwrap();
                s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
                let (status, ..) = request(&mut s, "/f/8m.bin").unwrap();
                assert_eq!(status, 200);
                s
            })
            .collect();
        let (took, status) = ordinary_download(&server, "/f/1m.bin");
        assert_eq!(status, 200, "round {round}");
        slowest = slowest.max(took);
        drop(clients);
    }
    server.wait_for(Duration::from_secs(10), "descriptors back", |s| {
        s.fds() <= fds_before
    });
    assert!(
        slowest < Duration::from_secs(2),
        "ordinary download took {slowest:?}"
    );
}

/// Out of descriptors: refused downloads are 503 with Retry-After, never 500, and the log
/// says so a few times, not once per request.
#[test]
fn descriptor_exhaustion_is_a_503_never_a_500() {
    let server = Server::start(
        &[("big.bin", 32 * MIB), ("1k.bin", 1024)],
        Options {
            nofile: Some(64),
            ..Options::default()
        },
    );
    // Keep-alive connections accepted while descriptors remain: their later requests need
    // only a descriptor for the file.
    let mut idle: Vec<TcpStream> = (0..5)
        .map(|_| {
            let mut s = TcpStream::connect(server.addr()).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let (status, head, body) = request(&mut s, "/f/1k.bin").unwrap();
            assert_eq!(status, 200);
            assert_eq!(body.len(), content_length(&head));
            s
        })
        .collect();
    let mut held = Vec::new();
    let mut statuses = Vec::new();
    // Stalled downloads take two descriptors each; open them until the server has none left:
    // a download refused, or a connection it cannot accept (no answer).
    for _ in 0..60 {
        let Ok(mut s) = TcpStream::connect(server.addr()) else {
            break;
        };
        s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        let Ok((status, ..)) = request(&mut s, "/f/big.bin") else {
            break;
        };
        statuses.push(status);
        held.push(s);
        if status != 200 {
            break;
        }
    }
    for s in &mut idle {
        let (status, head, _) = request(s, "/f/1k.bin").unwrap();
        statuses.push(status);
        assert_eq!(status, 503, "{head}");
        assert!(
            head.to_ascii_lowercase().contains("retry-after: 1"),
            "{head}"
        );
    }
    assert!(!statuses.contains(&500), "statuses: {statuses:?}");
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 503),
        "statuses: {statuses:?}"
    );
    server.wait_for(Duration::from_secs(5), "the overload logged", |s| {
        s.log_lines("out of file descriptors") >= 1
    });
    assert!(
        server.log_lines("out of file descriptors") <= 2,
        "the overload log floods"
    );
    // Once the stalled clients go, downloads work again.
    drop(held);
    drop(idle);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (_, status) = ordinary_download(&server, "/f/1k.bin");
        if status == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "still {status}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The cap on concurrent streams answers 503 past it, and frees places as streams end.
#[test]
fn the_stream_cap_answers_503() {
    let server = Server::start(
        &[("big.bin", 32 * MIB), ("1k.bin", 1024)],
        Options {
            max_streams: Some(3),
            ..Options::default()
        },
    );
    let mut held: Vec<TcpStream> = (0..3)
        .map(|_| {
            let mut s = small_client(server.addr());
            let (status, ..) = request(&mut s, "/f/big.bin").unwrap();
            assert_eq!(status, 200);
            s
        })
        .collect();
    for _ in 0..20 {
        let mut s = TcpStream::connect(server.addr()).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let (status, head, _) = request(&mut s, "/f/1k.bin").unwrap();
        assert_eq!(status, 503);
        assert!(
            head.to_ascii_lowercase().contains("retry-after: 1"),
            "{head}"
        );
    }
    assert!(
        server.log_lines("SENDFILE_MAX_STREAMS") <= 2,
        "the log floods"
    );
    drop(held.pop());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (_, status) = ordinary_download(&server, "/f/1k.bin");
        if status == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "still {status}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// What happens to a download when its file changes under it.
#[derive(Clone, Copy)]
enum Change {
    Truncate,
    Delete,
    ReplaceByRename,
    RewriteInPlace,
}

fn change_mid_stream(change: Change) -> (usize, usize, bool) {
    const SIZE: usize = 32 * MIB;
    let server = Server::start(&[("f.bin", SIZE)], Options::default());
    let mut s = TcpStream::connect(server.addr()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let (status, head, mut body) = request(&mut s, "/f/f.bin").unwrap();
    assert_eq!(status, 200);
    assert_eq!(content_length(&head), SIZE);
    let mut chunk = vec![0u8; 64 * 1024];
    while body.len() < 64 * 1024 {
        let n = s.read(&mut chunk).unwrap();
        body.extend_from_slice(&chunk[..n]);
    }
    let path = server.root.join("f.bin");
    match change {
        Change::Truncate => {
            std::fs::OpenOptions::new()
                .write(true)
                .open(&path)
                .unwrap()
                .set_len(4 * MIB as u64)
                .unwrap();
        }
        Change::Delete => std::fs::remove_file(&path).unwrap(),
        Change::ReplaceByRename => {
            let new = server.root.join("new.bin");
            std::fs::write(&new, b"new").unwrap();
            std::fs::rename(&new, &path).unwrap();
        }
        Change::RewriteInPlace => std::fs::write(&path, b"new").unwrap(),
    }
    loop {
        match s.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                body.extend_from_slice(&chunk[..n]);
                if body.len() == SIZE {
                    break;
                }
            }
        }
    }
    // The bytes received are the file's, never padding.
    let expected: Vec<u8> = (0..body.len()).map(|i| ((i % MIB) % 251) as u8).collect();
    assert!(body == expected, "bytes that are not the file's");
    // After a complete body the connection is reusable; after a short one it is closed.
    let reused = if body.len() == SIZE {
        request(&mut s, "/f/nothing").is_ok()
    } else {
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let closed = matches!(s.read(&mut chunk), Ok(0) | Err(_));
        assert!(closed, "a short body on an open connection");
        false
    };
    if body.len() < SIZE {
        server.wait_for(Duration::from_secs(5), "the error logged", |srv| {
            srv.log_lines("shorter than when the response started") >= 1
        });
    }
    (body.len(), SIZE, reused)
}

#[test]
fn a_truncated_file_ends_the_response_short_and_closes() {
    let (got, size, _) = change_mid_stream(Change::Truncate);
    assert!(got < size, "a truncated file was sent whole");
}

#[test]
fn a_file_rewritten_in_place_ends_the_response_short_and_closes() {
    let (got, size, _) = change_mid_stream(Change::RewriteInPlace);
    assert!(got < size);
}

/// Deleting or renaming over a file does not change the open descriptor: the response is the
/// complete old file, consistent with its headers, and the connection stays usable.
#[test]
fn a_deleted_or_replaced_file_is_sent_whole_from_the_open_descriptor() {
    for change in [Change::Delete, Change::ReplaceByRename] {
        let (got, size, reused) = change_mid_stream(change);
        assert_eq!(got, size);
        assert!(reused);
    }
}
