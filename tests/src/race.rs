//! The symlink-swap race of issue 8: while clients request a file, a directory on its path is
//! swapped, atomically and in a loop, for a symlink to a directory outside the root that holds
//! a file of the same name. The library checks the real directory and names it; a front server
//! that opens the path again later and follows symlinks may then send the outside file.
//!
//! The tree lives below a symlinked release directory, as in a `current -> releases/N` deploy,
//! so the same fixture also checks that a root under a symlink is served:
//!
//! ```text
//! <tmp>/releases/1/files/            the real root
//! <tmp>/current -> releases/1
//! <tmp>/current/files/               the configured root (SENDFILE_ROOT)
//!     public/welcome.txt ...         the example's sample tree
//!     public/welcome-link.txt -> welcome.txt
//!     public/d/secret.txt            INSIDE content (allowed to everyone)
//!     public/d.swap -> <tmp>/outside  swapped with public/d by the racer
//! <tmp>/outside/secret.txt           OUTSIDE content
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::io;
use std::net::SocketAddr;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rustix::fs::{AtFlags, FileType, Mode, OFlags, RenameFlags};

use crate::http::Request;

/// The request target of the raced file.
pub const RACED_TARGET: &str = "/download/public/d/secret.txt";

/// The tree described in the [module docs](self).
#[derive(Debug)]
pub struct RaceTree {
    /// Holds everything; removed on drop.
    pub dir: tempfile::TempDir,
    /// The configured root, below the `current` symlink.
    pub root: PathBuf,
    /// The same directory with symlinks resolved.
    pub real_root: PathBuf,
    /// The bytes of `public/d/secret.txt`.
    pub inside: Vec<u8>,
    /// The bytes of `<tmp>/outside/secret.txt`.
    pub outside: Vec<u8>,
}

impl RaceTree {
    /// Builds the tree in a new temporary directory, readable by a server that dropped
    /// privileges to another user.
    pub fn new() -> io::Result<RaceTree> {
        let dir = tempfile::Builder::new()
            .prefix("sendfile-race-")
            .tempdir()?;
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755))?;
        let base = dir.path().canonicalize()?;
        let real_root = base.join("releases/1/files");
        fs::create_dir_all(&real_root)?;
        symlink("releases/1", base.join("current"))?;
        let root = base.join("current/files");
        protected_downloads::create_sample_tree(&root)?;
        symlink("welcome.txt", root.join("public/welcome-link.txt"))?;

        let id = std::process::id();
        let inside = format!("INSIDE-{id}: the file the library checked\n").into_bytes();
        let outside = format!("OUTSIDE-{id}: must never be served\n").into_bytes();
        fs::create_dir(root.join("public/d"))?;
        fs::write(root.join("public/d/secret.txt"), &inside)?;
        let outside_dir = base.join("outside");
        fs::create_dir(&outside_dir)?;
        fs::write(outside_dir.join("secret.txt"), &outside)?;
        symlink(&outside_dir, root.join("public/d.swap"))?;
        Ok(RaceTree {
            dir,
            root,
            real_root,
            inside,
            outside,
        })
    }

    /// Starts swapping `public/d` (a directory) and `public/d.swap` (a symlink to the outside
    /// directory) with `renameat2(RENAME_EXCHANGE)`, in a loop, until the [`Swapper`] is
    /// stopped or dropped. At every instant `public/d` exists, as one or the other.
    pub fn start_swapping(&self) -> io::Result<Swapper> {
        let public = rustix::fs::open(
            self.root.join("public"),
            OFlags::DIRECTORY | OFlags::RDONLY | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        // Fails early where the file system or kernel lacks RENAME_EXCHANGE.
        for _ in 0..2 {
            rustix::fs::renameat_with(&public, "d", &public, "d.swap", RenameFlags::EXCHANGE)?;
        }
        let stop = Arc::new(AtomicBool::new(false));
        let swaps = Arc::new(AtomicU64::new(0));
        let thread = {
            let stop = Arc::clone(&stop);
            let swaps = Arc::clone(&swaps);
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    rustix::fs::renameat_with(
                        &public,
                        "d",
                        &public,
                        "d.swap",
                        RenameFlags::EXCHANGE,
                    )?;
                    swaps.fetch_add(1, Ordering::Relaxed);
                }
                // Leave the real directory in place.
                let d = rustix::fs::statat(&public, "d", AtFlags::SYMLINK_NOFOLLOW)?;
                if FileType::from_raw_mode(d.st_mode).is_symlink() {
                    rustix::fs::renameat_with(
                        &public,
                        "d",
                        &public,
                        "d.swap",
                        RenameFlags::EXCHANGE,
                    )?;
                }
                Ok(())
            })
        };
        Ok(Swapper {
            stop,
            swaps,
            thread: Some(thread),
        })
    }
}

/// The swapping thread of [`RaceTree::start_swapping`]; stops on drop.
#[derive(Debug)]
pub struct Swapper {
    stop: Arc<AtomicBool>,
    swaps: Arc<AtomicU64>,
    thread: Option<JoinHandle<rustix::io::Result<()>>>,
}

impl Swapper {
    /// Stops the thread; the number of swaps done, or the error that stopped it early.
    pub fn stop(&mut self) -> io::Result<u64> {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            thread
                .join()
                .map_err(|_| io::Error::other("the swapping thread panicked"))??;
        }
        Ok(self.swaps.load(Ordering::Relaxed))
    }
}

impl Drop for Swapper {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}

/// How long and how hard to race.
#[derive(Debug, Clone, Copy)]
pub struct RaceLimits {
    /// Client threads, each sending one request at a time on a new connection.
    pub clients: usize,
    /// Stop after this many requests in all...
    pub max_requests: u64,
    /// ...or after this long, whichever comes first.
    pub max_time: Duration,
}

/// What the clients received.
#[derive(Debug, Clone, Default)]
pub struct RaceOutcome {
    /// Requests answered.
    pub requests: u64,
    /// 200 with the inside content.
    pub inside: u64,
    /// Responses whose body is the outside content.
    pub leaks: u64,
    /// Every other response, by status.
    pub other: BTreeMap<u16, u64>,
    /// Requests that failed at the connection level (with one example).
    pub errors: u64,
    /// An example of an error, or of a response that was neither inside nor refused.
    pub example: Option<String>,
    /// How long the clients ran.
    pub elapsed: Duration,
}

impl RaceOutcome {
    /// Responses with status `status` other than the inside file.
    pub fn other_with(&self, status: u16) -> u64 {
        self.other.get(&status).copied().unwrap_or(0)
    }

    /// The leak rate, in percent of the requests answered.
    pub fn leak_percent(&self) -> f64 {
        if self.requests == 0 {
            0.0
        } else {
            100.0 * self.leaks as f64 / self.requests as f64
        }
    }
}

impl fmt::Display for RaceOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} requests in {:.1} s: {} inside, {} leaked ({:.2} %), other statuses {:?}, {} errors",
            self.requests,
            self.elapsed.as_secs_f64(),
            self.inside,
            self.leaks,
            self.leak_percent(),
            self.other,
            self.errors
        )?;
        if let Some(example) = &self.example {
            write!(f, "; e.g. {example}")?;
        }
        Ok(())
    }
}

/// Sends `GET target` to `addr` from `limits.clients` threads until a limit is reached, and
/// classifies the responses by comparing each body with `inside` and `outside`.
pub fn hammer(
    addr: SocketAddr,
    target: &str,
    inside: &[u8],
    outside: &[u8],
    limits: RaceLimits,
) -> RaceOutcome {
    let started = Instant::now();
    let deadline = started + limits.max_time;
    let issued = AtomicU64::new(0);
    let mut total = RaceOutcome::default();
    let outcomes: Vec<RaceOutcome> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..limits.clients)
            .map(|_| {
                let issued = &issued;
                scope.spawn(move || {
                    let mut out = RaceOutcome::default();
                    let req = Request::get(target);
                    while Instant::now() < deadline
                        && issued.fetch_add(1, Ordering::Relaxed) < limits.max_requests
                    {
                        match req.send(addr) {
                            Ok(res) => {
                                out.requests += 1;
                                if res.body == outside {
                                    out.leaks += 1;
                                } else if res.status == 200 && res.body == inside {
                                    out.inside += 1;
                                } else {
                                    *out.other.entry(res.status).or_default() += 1;
                                    if res.status != 404 && res.status != 403 {
                                        out.example.get_or_insert_with(|| format!("{res:?}"));
                                    }
                                }
                            }
                            Err(e) => {
                                out.errors += 1;
                                out.example.get_or_insert_with(|| e.to_string());
                            }
                        }
                    }
                    out
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("client thread"))
            .collect()
    });
    for out in outcomes {
        total.requests += out.requests;
        total.inside += out.inside;
        total.leaks += out.leaks;
        total.errors += out.errors;
        for (status, n) in out.other {
            *total.other.entry(status).or_default() += n;
        }
        if total.example.is_none() {
            total.example = out.example;
        }
    }
    total.elapsed = started.elapsed();
    total
}
