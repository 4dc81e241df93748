//! Following what stands at the configured root path.
//!
//! The root is a path, not a descriptor opened once: a deploy that flips a symlinked root
//! (`current -> releases/N`), or a restore that replaces the directory, must be seen by the
//! library as it is by the front server, which opens paths. Requests use the opened root for
//! at most [`RECHECK`]; the first request after that looks at the path again (one
//! `canonicalize` and one `stat`) and reopens the root when another directory stands there.
//!
//! While nothing valid stands at the path, requests fail with
//! [`Error::RootUnavailable`](crate::Error::RootUnavailable) (503), and the reason is logged
//! once per change of state, not once per request.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use crate::confine::Root;
use crate::error::ConfigError;
use crate::logsafe::LogSafe;

/// How long an opened root is used before the path is looked at again.
pub const RECHECK: Duration = Duration::from_millis(500);

/// The configured root path, and the root standing there, looked at again at most every
/// [`RECHECK`]. The path is kept here only: the watch is the root setting.
#[derive(Debug)]
pub(crate) struct RootWatch {
    /// The root as configured (`SENDFILE_ROOT`).
    path: PathBuf,
    epoch: Instant,
    /// When the path was last looked at, in nanoseconds since `epoch`, plus one; 0: never.
    checked: AtomicU64,
    state: RwLock<Option<Result<Arc<Root>, ConfigError>>>,
}

impl RootWatch {
    /// A watch of `path`, with nothing opened yet.
    pub(crate) fn new(path: PathBuf) -> Self {
        RootWatch {
            path,
            epoch: Instant::now(),
            checked: AtomicU64::new(0),
            state: RwLock::new(None),
        }
    }

    /// The root as configured.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}

/// What stands at a root path: the real directory and its identity.
#[derive(Debug, PartialEq, Eq)]
struct Identity {
    real: PathBuf,
    dev: u64,
    ino: u64,
}

impl Identity {
    fn of(path: &Path) -> Option<Identity> {
        let real = std::fs::canonicalize(path).ok()?;
        let meta = std::fs::metadata(&real).ok()?;
        let (dev, ino) = crate::meta::dev_ino(&meta);
        Some(Identity { real, dev, ino })
    }

    fn of_root(root: &Root) -> Identity {
        let (dev, ino) = root.identity();
        Identity {
            real: root.real_path().to_path_buf(),
            dev,
            ino,
        }
    }
}

impl RootWatch {
    /// The root for a request: the one opened last, unless it is time to look again.
    pub(crate) fn get(
        &self,
        open: impl FnOnce() -> Result<Root, ConfigError>,
        path: &Path,
    ) -> Result<Arc<Root>, ConfigError> {
        let now = self.now();
        let last = self.checked.load(Ordering::Acquire);
        if last != 0 {
            let fresh = now.saturating_sub(last) < RECHECK.as_nanos() as u64;
            // One request looks at the path; the others go on with what is there.
            let someone_else_looks = !fresh
                && self
                    .checked
                    .compare_exchange(last, now, Ordering::AcqRel, Ordering::Acquire)
                    .is_err();
            if (fresh || someone_else_looks)
                && let Some(state) = self.current()
            {
                return state;
            }
        }
        self.refresh(open, path, now)
    }

    /// Opens the root again now, whatever the time (start-up validation).
    pub(crate) fn reopen(
        &self,
        open: impl FnOnce() -> Result<Root, ConfigError>,
    ) -> Result<Arc<Root>, ConfigError> {
        let now = self.now();
        let result = open().map(Arc::new);
        self.store(result.clone(), now, false);
        result
    }

    fn now(&self) -> u64 {
        // Nanoseconds fit in a u64 for 584 years of uptime.
        self.epoch.elapsed().as_nanos() as u64 + 1
    }

    fn current(&self) -> Option<Result<Arc<Root>, ConfigError>> {
        self.state
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    fn refresh(
        &self,
        open: impl FnOnce() -> Result<Root, ConfigError>,
        path: &Path,
        now: u64,
    ) -> Result<Arc<Root>, ConfigError> {
        if let Some(Ok(root)) = self.current()
            && Identity::of(path).as_ref() == Some(&Identity::of_root(&root))
        {
            self.checked.store(now, Ordering::Release);
            return Ok(root);
        }
        let result = open().map(Arc::new);
        self.store(result.clone(), now, true);
        result
    }

    /// Keeps `result` and, when `log`, logs a change of state once.
    fn store(&self, result: Result<Arc<Root>, ConfigError>, now: u64, log: bool) {
        let mut state = self
            .state
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match (&*state, &result) {
            _ if !log => {}
            (Some(Ok(old)), Ok(new)) if Identity::of_root(old) != Identity::of_root(new) => {
                log::warn!(
                    "sendfile: the root {} now stands for {} (was {}); serving from it",
                    LogSafe::path(new.path()),
                    LogSafe::path(new.real_path()),
                    LogSafe::path(old.real_path()),
                );
            }
            (Some(Err(_)), Ok(new)) => log::warn!(
                "sendfile: the root {} is usable again ({})",
                LogSafe::path(new.path()),
                LogSafe::path(new.real_path()),
            ),
            (Some(Err(old)), Err(new)) if old == new => {}
            (_, Err(new)) => log::error!(
                "sendfile: the root is unusable, every download is answered 503 until it is fixed: {new}"
            ),
            _ => {}
        }
        *state = Some(result);
        self.checked.store(now, Ordering::Release);
    }
}

#[cfg(all(test, unix))]
mod tests {
    use std::io::Read;
    use std::os::unix::fs::symlink;
    use std::path::Path;
    use std::time::{Duration, Instant};

    use crate::{Backend, Config, Error, FileRequest, NotFoundReason};

    /// A deploy layout: `releases/{1,2}/files`, `current -> releases/1`, an outside secret.
    struct Deploy {
        _dir: tempfile::TempDir,
        base: std::path::PathBuf,
        config: Config,
    }

    fn deploy() -> Deploy {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().canonicalize().unwrap();
        for (release, text) in [("1", "one"), ("2", "two")] {
            let files = base.join("releases").join(release).join("files");
            std::fs::create_dir_all(&files).unwrap();
            std::fs::write(files.join("a.txt"), text).unwrap();
        }
        std::fs::create_dir(base.join("outside")).unwrap();
        std::fs::write(base.join("outside/secret.txt"), "secret").unwrap();
        // In release 2, `x.txt` is a link out of the root; in release 1 a plain file.
        std::fs::write(base.join("releases/1/files/x.txt"), "x").unwrap();
        symlink(
            base.join("outside/secret.txt"),
            base.join("releases/2/files/x.txt"),
        )
        .unwrap();
        symlink("releases/1", base.join("current")).unwrap();
        let config = Config::builder(Backend::Simple)
            .root(base.join("current/files"))
            .build()
            .unwrap();
        Deploy {
            _dir: dir,
            base,
            config,
        }
    }

    fn read(config: &Config, path: &str) -> Result<String, Error> {
        let file = crate::resolve(config, &FileRequest::new(path))?;
        let mut text = String::new();
        file.into_file().unwrap().read_to_string(&mut text).unwrap();
        Ok(text)
    }

    /// Polls `done` until it holds, for at most `limit`; returns how long it took.
    fn within(limit: Duration, mut done: impl FnMut() -> bool) -> Duration {
        let start = Instant::now();
        while !done() {
            assert!(
                start.elapsed() < limit,
                "not within {limit:?} (the watch looks every {:?})",
                super::RECHECK
            );
            std::thread::yield_now();
        }
        start.elapsed()
    }

    fn flip(base: &Path, release: &str) {
        let tmp = base.join("current.new");
        symlink(Path::new("releases").join(release), &tmp).unwrap();
        std::fs::rename(&tmp, base.join("current")).unwrap();
    }

    #[test]
    fn a_flipped_symlinked_root_is_followed_within_a_second() {
        let d = deploy();
        assert_eq!(read(&d.config, "a.txt").unwrap(), "one");
        assert_eq!(read(&d.config, "x.txt").unwrap(), "x");
        flip(&d.base, "2");
        // Within a second (the watch looks again every RECHECK, 500 ms; the rest is slack for
        // a loaded machine).
        within(Duration::from_secs(1), || {
            read(&d.config, "a.txt").unwrap() == "two"
        });
        // The new tree is the one checked: its link out is refused, as the front server would
        // otherwise follow it.
        assert!(matches!(
            read(&d.config, "x.txt"),
            Err(Error::NotFound {
                reason: NotFoundReason::OutsideRoot,
                ..
            })
        ));
        // Clones share the watch.
        assert_eq!(read(&d.config.clone(), "a.txt").unwrap(), "two");
    }

    #[test]
    fn a_missing_root_is_a_503_until_it_is_back() {
        let d = deploy();
        assert_eq!(read(&d.config, "a.txt").unwrap(), "one");
        let files = d.base.join("releases/1/files");
        std::fs::rename(&files, d.base.join("moved-away")).unwrap();
        within(Duration::from_secs(2), || {
            matches!(read(&d.config, "a.txt"), Err(Error::RootUnavailable(_)))
        });
        let err = read(&d.config, "a.txt").unwrap_err();
        assert_eq!(err.status(), 503);
        assert!(err.to_string().contains("SENDFILE_ROOT"), "{err}");
        // A restore: a new directory at the same path.
        std::fs::create_dir(&files).unwrap();
        std::fs::write(files.join("a.txt"), "restored").unwrap();
        within(Duration::from_secs(2), || {
            read(&d.config, "a.txt").is_ok_and(|t| t == "restored")
        });
    }

    #[test]
    fn an_unchanged_root_is_not_reopened() {
        let d = deploy();
        let first = d.config.current_root().unwrap();
        let start = Instant::now();
        // Past the recheck interval, the same directory is still the same opened root.
        within(Duration::from_secs(2), || {
            start.elapsed() > super::RECHECK && d.config.current_root().is_ok()
        });
        let later = d.config.current_root().unwrap();
        assert!(std::sync::Arc::ptr_eq(&first, &later));
    }
}
