//! The app's shared state: the database, the sign-in throttle and their settings.
//!
//! `main` opens it from a database file and registers it as `web::Data<AppState>`. An app
//! that registers none (tests, the crate's doc example) gets one per root, with the
//! database in memory, created on the first request.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use actix_web::{HttpRequest, web};
use sendfile_actix::SendFileConfig;
use sendfile_actix::deploy::Server;

use crate::db::{Db, DbError};
use crate::sessions::{HashSlot, Refused};
use crate::throttle::{Limits, Throttle};

/// The app's settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// How long a session lasts after sign-in (default 8 hours), checked on the server.
    pub session_lifetime: Duration,
    /// The largest upload in bytes (default 10 MiB).
    pub upload_limit: u64,
    /// The sign-in throttle.
    pub throttle: Limits,
    /// Password checks running at once (default 4; each Argon2 check takes 19 MiB).
    pub concurrent_hashes: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            session_lifetime: Duration::from_secs(8 * 3600),
            upload_limit: 10 * 1024 * 1024,
            throttle: Limits::default(),
            concurrent_hashes: 4,
        }
    }
}

/// The database, the throttle and the settings (app data: `web::Data<AppState>`).
#[derive(Debug)]
pub struct AppState {
    /// Users, files, sessions.
    pub db: Db,
    /// The sign-in throttle.
    pub throttle: Throttle,
    /// The settings.
    pub settings: Settings,
    hashing: AtomicUsize,
}

impl AppState {
    /// The state over `db`, with `settings`.
    pub fn new(db: Db, settings: Settings) -> AppState {
        AppState {
            db,
            throttle: Throttle::new(settings.throttle),
            settings,
            hashing: AtomicUsize::new(0),
        }
    }

    /// The state of the request's app: the registered `web::Data<AppState>`, or the one kept
    /// for the configuration's root (database in memory, the tree's files recorded).
    pub fn of(req: &HttpRequest) -> Result<web::Data<AppState>, Refused> {
        if let Some(state) = req.app_data::<web::Data<AppState>>() {
            return Ok(state.clone());
        }
        static DEFAULTS: OnceLock<Mutex<HashMap<Option<PathBuf>, web::Data<AppState>>>> =
            OnceLock::new();
        let root = SendFileConfig::from_req(req)
            .ok()
            .and_then(|c| c.core().root_path().map(Path::to_path_buf));
        let mut defaults = DEFAULTS
            .get_or_init(Mutex::default)
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(state) = defaults.get(&root) {
            return Ok(state.clone());
        }
        let db = Db::open_in_memory().map_err(|e| Refused::Internal(e.to_string()))?;
        if let Some(root) = &root {
            record_tree(&db, root).map_err(|e| Refused::Internal(e.to_string()))?;
        }
        let state = web::Data::new(AppState::new(db, Settings::default()));
        defaults.insert(root, state.clone());
        Ok(state)
    }

    /// Whether the request came through a front server (the backend offloads to one).
    pub(crate) fn behind_front_server(&self, req: &HttpRequest) -> bool {
        SendFileConfig::from_req(req).is_ok_and(|c| Server::for_backend(c.backend()).is_some())
    }

    /// A slot for one password check, if fewer than `concurrent_hashes` run.
    pub(crate) fn hash_slot(&self) -> Option<HashSlot<'_>> {
        let limit = self.settings.concurrent_hashes;
        self.hashing
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < limit).then_some(n + 1)
            })
            .ok()
            .map(|_| HashSlot(&self.hashing))
    }
}

/// Records in `db` the regular files found in each user's area `root/users/<name>/`
/// (subdirectories included; symlinks, names that are not UTF-8 and hidden names skipped),
/// and forgets the records of files that are gone.
pub fn record_tree(db: &Db, root: &Path) -> Result<(), DbError> {
    fn walk(dir: &Path, prefix: &str, out: &mut Vec<(String, u64, i64)>) {
        let Ok(entries) = fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if name.starts_with('.') {
                continue;
            }
            let rel = format!("{prefix}{name}");
            if kind.is_dir() {
                walk(&entry.path(), &format!("{rel}/"), out);
            } else if kind.is_file() {
                let meta = entry.metadata().ok();
                let modified = meta
                    .as_ref()
                    .and_then(|m| m.modified().ok())
                    .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                    .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
                out.push((rel, meta.map_or(0, |m| m.len()), modified));
            }
        }
    }
    for user in db.users()? {
        let mut files = Vec::new();
        walk(&root.join("users").join(&user.name), "", &mut files);
        db.retain_files(&user, files.iter().map(|(name, _, _)| name.as_str()))?;
        for (name, size, modified) in files {
            db.add_file(&user, &name, size, modified)?;
        }
    }
    Ok(())
}

/// Opens the state for `main`: the database at `path` (created with the demo accounts if
/// missing), the tree below `root` recorded.
pub fn open(path: &Path, root: Option<&Path>, settings: Settings) -> Result<AppState, DbError> {
    let db = Db::open(path)?;
    if let Some(root) = root {
        record_tree(&db, root)?;
    }
    Ok(AppState::new(db, settings))
}
