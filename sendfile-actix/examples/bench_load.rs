//! Load client for `scripts/bench-load`: drives a running `bench_server` over loopback and
//! reads the server's descriptors and memory from `/proc/<pid>`.
//!
//! ```text
//! bench_load stalled  <port> <pid> <clients> <path> <ordinary path> <wait for close, s>
//! bench_load parallel <port> <pid> <clients> <path>
//! bench_load exhaust  <port> <pid> <clients> <path> <ordinary path> <requests>
//! ```
//!
//! - `stalled`: `<clients>` connections with a 4 KiB receive buffer each ask for `<path>` and
//!   then read nothing; reports the server's descriptors and RSS before and after, the median
//!   time of 5 ordinary downloads of `<ordinary path>` meanwhile, then how long the server
//!   took to get back to its descriptors of before (up to the given wait).
//! - `parallel`: `<clients>` threads download `<path>` once each, at full speed; reports the
//!   time, the throughput and the server's peak RSS (`VmHWM`).
//! - `exhaust`: 20 keep-alive connections, then like `stalled` (meant for a server under a
//!   low `RLIMIT_NOFILE`), then `<requests>` requests for `<ordinary path>` spread over the 20
//!   connections: the count of each status.
//!
//! Output: `key=value` lines, for the script to pick up. Linux only.

#![allow(clippy::print_stdout)]

#[cfg(target_os = "linux")]
mod linux {
    use std::collections::BTreeMap;
    use std::io::{Read, Write};
    use std::net::{SocketAddrV4, TcpStream};
    use std::time::{Duration, Instant};

    pub(crate) fn main() {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let arg = |i: usize| -> &str {
            args.get(i)
                .map(String::as_str)
                .unwrap_or_else(|| panic!("missing argument {i}; see the source for the usage"))
        };
        let port: u16 = arg(1).parse().unwrap();
        let pid: u32 = arg(2).parse().unwrap();
        let clients: usize = arg(3).parse().unwrap();
        let addr = SocketAddrV4::new([127, 0, 0, 1].into(), port);
        let target = Target { addr, pid };
        match arg(0) {
            "stalled" => stalled(&target, clients, arg(4), arg(5), arg(6).parse().unwrap()),
            "parallel" => parallel(&target, clients, arg(4)),
            "exhaust" => exhaust(&target, clients, arg(4), arg(5), arg(6).parse().unwrap()),
            other => panic!("unknown mode {other}"),
        }
    }

    struct Target {
        addr: SocketAddrV4,
        pid: u32,
    }

    impl Target {
        fn fds(&self) -> usize {
            std::fs::read_dir(format!("/proc/{}/fd", self.pid))
                .map(Iterator::count)
                .unwrap_or(0)
        }

        fn status_kib(&self, field: &str) -> u64 {
            let status =
                std::fs::read_to_string(format!("/proc/{}/status", self.pid)).unwrap_or_default();
            status
                .lines()
                .find_map(|l| l.strip_prefix(field))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
                .unwrap_or(0)
        }

        /// Waits until the descriptor count has not changed for 500 ms (at most 10 s).
        fn settle(&self) -> usize {
            let deadline = Instant::now() + Duration::from_secs(10);
            let mut last = self.fds();
            let mut since = Instant::now();
            while Instant::now() < deadline && since.elapsed() < Duration::from_millis(500) {
                std::thread::sleep(Duration::from_millis(50));
                let now = self.fds();
                if now != last {
                    last = now;
                    since = Instant::now();
                }
            }
            last
        }
    }

    fn small_client(addr: SocketAddrV4) -> std::io::Result<TcpStream> {
        use rustix::net::{AddressFamily, SocketType, connect, socket, sockopt};
        let fd = socket(AddressFamily::INET, SocketType::STREAM, None)?;
        sockopt::set_socket_recv_buffer_size(&fd, 4096)?;
        connect(&fd, &addr)?;
        Ok(TcpStream::from(fd))
    }

    /// Sends a GET and reads the head: status and Content-Length.
    fn head(s: &mut TcpStream, path: &str) -> std::io::Result<(u16, usize, Vec<u8>)> {
        write!(s, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")?;
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            let n = s.read(&mut chunk)?;
            if n == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            buf.extend_from_slice(&chunk[..n]);
            if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let text = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
                let status = text[9..12].parse().unwrap_or(0);
                let len = text
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse().ok())
                    .unwrap_or(0);
                return Ok((status, len, buf[end + 4..].to_vec()));
            }
        }
    }

    /// A whole download on a new connection: status and time.
    fn download(
        addr: SocketAddrV4,
        path: &str,
        buf: &mut [u8],
    ) -> std::io::Result<(u16, Duration)> {
        let started = Instant::now();
        let mut s = TcpStream::connect(addr)?;
        s.set_read_timeout(Some(Duration::from_secs(30)))?;
        let (status, len, body) = head(&mut s, path)?;
        let mut got = body.len();
        while got < len {
            let n = s.read(buf)?;
            if n == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            got += n;
        }
        Ok((status, started.elapsed()))
    }

    fn median(mut v: Vec<Duration>) -> Duration {
        v.sort();
        v[v.len() / 2]
    }

    /// Opens up to `clients` stalled downloads; with `stop`, stops at the first that is not a
    /// 200 (the server is out of descriptors).
    fn open_stalled(
        t: &Target,
        clients: usize,
        path: &str,
        stop: bool,
    ) -> (Vec<TcpStream>, BTreeMap<String, usize>) {
        let mut held = Vec::new();
        let mut outcomes = BTreeMap::new();
        for _ in 0..clients {
            let outcome = match small_client(t.addr).and_then(|mut s| {
                s.set_read_timeout(Some(Duration::from_secs(2)))?;
                let (status, ..) = head(&mut s, path)?;
                held.push(s);
                Ok(status)
            }) {
                Ok(status) => status.to_string(),
                Err(e) => format!("{:?}", e.kind()),
            };
            let done = stop && outcome != "200";
            *outcomes.entry(outcome).or_default() += 1;
            if done {
                break;
            }
        }
        (held, outcomes)
    }

    fn stalled(t: &Target, clients: usize, path: &str, ordinary: &str, wait_s: u64) {
        let mut buf = vec![0u8; 256 * 1024];
        let _ = download(t.addr, ordinary, &mut buf);
        let fds0 = t.settle();
        let rss0 = t.status_kib("VmRSS:");
        let (held, outcomes) = open_stalled(t, clients, path, false);
        let fds1 = t.settle();
        let rss1 = t.status_kib("VmRSS:");
        let times: Vec<Duration> = (0..5)
            .filter_map(|_| download(t.addr, ordinary, &mut buf).ok().map(|(_, d)| d))
            .collect();
        println!("stalled_outcomes={outcomes:?}");
        println!("fds_before={fds0}");
        println!("fds_stalled={fds1}");
        println!("rss_before_kib={rss0}");
        println!("rss_stalled_kib={rss1}");
        println!("rss_growth_kib={}", rss1.saturating_sub(rss0));
        println!(
            "rss_growth_per_client_kib={:.1}",
            rss1.saturating_sub(rss0) as f64 / clients as f64
        );
        if times.is_empty() {
            println!("ordinary_ms=failed");
        } else {
            println!("ordinary_ms={:.1}", median(times).as_secs_f64() * 1000.0);
        }
        let started = Instant::now();
        let deadline = started + Duration::from_secs(wait_s);
        let mut fds = t.fds();
        while fds > fds0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
            fds = t.fds();
        }
        if fds <= fds0 {
            println!("fds_back_after_s={:.1}", started.elapsed().as_secs_f64());
        } else {
            println!("fds_back_after_s=never (still {fds} after {wait_s} s)");
        }
        drop(held);
    }

    fn parallel(t: &Target, clients: usize, path: &str) {
        let started = Instant::now();
        let handles: Vec<_> = (0..clients)
            .map(|_| {
                let addr = t.addr;
                let path = path.to_owned();
                std::thread::spawn(move || {
                    let mut buf = vec![0u8; 256 * 1024];
                    let mut s = TcpStream::connect(addr).unwrap();
                    let (status, len, body) = head(&mut s, &path).unwrap();
                    assert_eq!(status, 200);
                    let mut got = body.len();
                    while got < len {
                        let n = s.read(&mut buf).unwrap();
                        assert!(n > 0, "short body");
                        got += n;
                    }
                    got as u64
                })
            })
            .collect();
        let bytes: u64 = handles.into_iter().map(|h| h.join().unwrap()).sum();
        let secs = started.elapsed().as_secs_f64();
        println!("seconds={secs:.2}");
        println!("mib_per_s={:.0}", bytes as f64 / 1048576.0 / secs);
        println!("vmhwm_kib={}", t.status_kib("VmHWM:"));
    }

    fn exhaust(t: &Target, clients: usize, path: &str, ordinary: &str, requests: usize) {
        // Keep-alive connections accepted first: once descriptors run out the server accepts
        // no new connection, but these can still ask.
        let mut idle: Vec<TcpStream> = (0..20)
            .filter_map(|_| {
                let mut s = TcpStream::connect(t.addr).ok()?;
                s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
                let (_, len, body) = head(&mut s, ordinary).ok()?;
                drain(&mut s, len - body.len().min(len)).ok()?;
                Some(s)
            })
            .collect();
        let (held, outcomes) = open_stalled(t, clients, path, true);
        println!("stalled_outcomes={outcomes:?}");
        println!("fds_stalled={}", t.fds());
        let mut statuses: BTreeMap<String, usize> = BTreeMap::new();
        for i in 0..requests {
            let n = idle.len();
            let s = &mut idle[i % n];
            let outcome = match head(s, ordinary).and_then(|(status, len, body)| {
                drain(s, len - body.len().min(len))?;
                Ok(status)
            }) {
                Ok(status) => status.to_string(),
                Err(e) => format!("{:?}", e.kind()),
            };
            *statuses.entry(outcome).or_default() += 1;
        }
        println!("ordinary_outcomes={statuses:?}");
        drop(held);
    }

    fn drain(s: &mut TcpStream, mut left: usize) -> std::io::Result<()> {
        let mut buf = vec![0u8; 64 * 1024];
        while left > 0 {
            let n = s.read(&mut buf[..left.min(64 * 1024)])?;
            if n == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            left -= n;
        }
        Ok(())
    }
}

fn main() {
    #[cfg(target_os = "linux")]
    linux::main();
}
