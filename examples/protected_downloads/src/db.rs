//! The example's database: users, their files and the sign-in sessions, in SQLite
//! (`rusqlite`, SQLite built in).
//!
//! [`Db::open`] creates the tables on first use and adds the demo accounts ([`crate::USERS`])
//! when there are no users yet. Passwords are stored as Argon2id hashes (PHC strings, salt
//! and parameters included) and only ever checked with [`Db::verify_password`]; a session is
//! stored as the SHA-256 of its id, so a copy of the database signs nobody in.
//!
//! ```
//! use protected_downloads::db::Db;
//!
//! let db = Db::open_in_memory().unwrap();
//! let alice = db.verify_password("alice", "wonderland").unwrap().expect("the demo account");
//! assert_eq!(alice.name, "alice");
//! assert!(db.verify_password("alice", "Wonderland").unwrap().is_none());
//! ```

use std::fmt;
use std::path::Path;
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use rusqlite::{Connection, OptionalExtension as _, params};

/// A user of the app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// The user's row id.
    pub id: i64,
    /// The user name; the user's files are in `users/<name>/` below the root.
    pub name: String,
}

/// A file of a user's area, as the database knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRow {
    /// The file name in `users/<owner>/`.
    pub name: String,
    /// Its size in bytes when it was recorded.
    pub size: u64,
    /// When it was written (uploaded, or last modified when found in the tree), in seconds
    /// since the epoch.
    pub added_at: i64,
}

/// A database error, with what was being done.
#[derive(Debug)]
pub struct DbError(String);

impl fmt::Display for DbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DbError {}

fn err(doing: &str) -> impl FnOnce(rusqlite::Error) -> DbError + '_ {
    move |e| DbError(format!("database: {doing}: {e}"))
}

/// The database: one connection, shared behind a lock (SQLite serializes writes anyway).
#[derive(Debug)]
pub struct Db {
    conn: Mutex<Connection>,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS files (
    id INTEGER PRIMARY KEY,
    owner INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    size INTEGER NOT NULL,
    added_at INTEGER NOT NULL,
    UNIQUE (owner, name)
);
CREATE TABLE IF NOT EXISTS sessions (
    id_hash BLOB PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_by_user ON sessions(user_id);
";

/// Seconds since the epoch.
pub(crate) fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// The Argon2id hash (PHC string) of `password`, with a fresh random salt and the crate's
/// default parameters (19 MiB, 2 passes: OWASP's recommendation).
pub fn hash_password(password: &str) -> Result<String, DbError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| DbError(format!("hashing a password: {e}")))
}

/// A hash that matches no password, checked for unknown names so that they take as long as
/// known ones.
fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| {
        let mut secret = [0u8; 32];
        // Without randomness the decoy is still a valid hash; nobody knows its password.
        let _ = getrandom::fill(&mut secret);
        hash_password(&format!("{secret:02x?}")).unwrap_or_default()
    })
}

impl Db {
    /// Opens (creating if missing) the database file at `path`, creates the tables and the
    /// demo accounts if there are none.
    pub fn open(path: &Path) -> Result<Db, DbError> {
        let conn = Connection::open(path)
            .map_err(|e| DbError(format!("opening the database {}: {e}", path.display())))?;
        // WAL: readers (every request's session lookup) do not wait for a writer.
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(err("setting journal_mode=WAL"))?;
        Db::init(conn)
    }

    /// A database in memory, with the demo accounts (lost when dropped).
    pub fn open_in_memory() -> Result<Db, DbError> {
        Db::init(Connection::open_in_memory().map_err(err("opening in memory"))?)
    }

    fn init(conn: Connection) -> Result<Db, DbError> {
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(err("enabling foreign keys"))?;
        conn.execute_batch(SCHEMA)
            .map_err(err("creating the tables"))?;
        let db = Db {
            conn: Mutex::new(conn),
        };
        let users: i64 = db
            .lock()
            .query_row("SELECT count(*) FROM users", [], |r| r.get(0))
            .map_err(err("counting users"))?;
        if users == 0 {
            for u in crate::USERS {
                // Another process may be creating the same database.
                let hash = hash_password(u.password)?;
                db.lock()
                    .execute(
                        "INSERT INTO users (name, password_hash) VALUES (?1, ?2)
                         ON CONFLICT (name) DO NOTHING",
                        params![u.name, hash],
                    )
                    .map_err(err("adding the demo accounts"))?;
            }
        }
        Ok(db)
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves the connection usable.
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds a user with `password` (stored hashed).
    pub fn add_user(&self, name: &str, password: &str) -> Result<User, DbError> {
        let hash = hash_password(password)?;
        let conn = self.lock();
        conn.execute(
            "INSERT INTO users (name, password_hash) VALUES (?1, ?2)",
            params![name, hash],
        )
        .map_err(err("adding a user"))?;
        Ok(User {
            id: conn.last_insert_rowid(),
            name: name.to_owned(),
        })
    }

    /// All users.
    pub fn users(&self) -> Result<Vec<User>, DbError> {
        let conn = self.lock();
        let mut stmt = conn
            .prepare_cached("SELECT id, name FROM users ORDER BY name")
            .map_err(err("listing users"))?;
        stmt.query_map([], |r| {
            Ok(User {
                id: r.get(0)?,
                name: r.get(1)?,
            })
        })
        .and_then(Iterator::collect)
        .map_err(err("listing users"))
    }

    /// The stored password hash of `name` (a PHC string), if the user exists.
    pub fn password_hash(&self, name: &str) -> Result<Option<(User, String)>, DbError> {
        self.lock()
            .prepare_cached("SELECT id, name, password_hash FROM users WHERE name = ?1")
            .and_then(|mut s| {
                s.query_row([name], |r| {
                    Ok((
                        User {
                            id: r.get(0)?,
                            name: r.get(1)?,
                        },
                        r.get(2)?,
                    ))
                })
                .optional()
            })
            .map_err(err("looking up a user"))
    }

    /// The user `name` if `password` is theirs. Slow on purpose (an Argon2 verification, also
    /// for unknown names): call it off the async workers (`web::block`).
    pub fn verify_password(&self, name: &str, password: &str) -> Result<Option<User>, DbError> {
        let found = self.password_hash(name)?;
        let hash = match &found {
            Some((_, h)) => h.as_str(),
            None => decoy_hash(),
        };
        let ok = Argon2::default()
            .verify_password(password.as_bytes(), hash)
            .is_ok();
        Ok(found.filter(|_| ok).map(|(u, _)| u))
    }

    /// Records `name` (of `size` bytes, written at `added_at`, seconds since the epoch) in
    /// `owner`'s area; an existing record is updated.
    pub fn add_file(
        &self,
        owner: &User,
        name: &str,
        size: u64,
        added_at: i64,
    ) -> Result<(), DbError> {
        self.lock()
            .execute(
                "INSERT INTO files (owner, name, size, added_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (owner, name) DO UPDATE SET size = excluded.size, added_at = excluded.added_at",
                params![owner.id, name, i64::try_from(size).unwrap_or(i64::MAX), added_at],
            )
            .map(drop)
            .map_err(err("recording a file"))
    }

    /// Forgets the files of `owner` not named in `names`.
    pub fn retain_files<'a>(
        &self,
        owner: &User,
        names: impl IntoIterator<Item = &'a str>,
    ) -> Result<(), DbError> {
        let keep: std::collections::HashSet<&str> = names.into_iter().collect();
        let gone: Vec<String> = self
            .files_of(owner)?
            .into_iter()
            .filter(|f| !keep.contains(f.name.as_str()))
            .map(|f| f.name)
            .collect();
        let conn = self.lock();
        for name in gone {
            conn.execute(
                "DELETE FROM files WHERE owner = ?1 AND name = ?2",
                params![owner.id, name],
            )
            .map_err(err("forgetting a file"))?;
        }
        Ok(())
    }

    /// The files recorded in `owner`'s area, by name.
    pub fn files_of(&self, owner: &User) -> Result<Vec<FileRow>, DbError> {
        let conn = self.lock();
        let mut stmt = conn
            .prepare_cached("SELECT name, size, added_at FROM files WHERE owner = ?1 ORDER BY name")
            .map_err(err("listing files"))?;
        stmt.query_map([owner.id], |r| {
            Ok(FileRow {
                name: r.get(0)?,
                size: u64::try_from(r.get::<_, i64>(1)?).unwrap_or(0),
                added_at: r.get(2)?,
            })
        })
        .and_then(Iterator::collect)
        .map_err(err("listing files"))
    }

    /// Stores a session of `user` under `id_hash`, valid until `expires_at`; forgets expired
    /// sessions on the way.
    pub(crate) fn insert_session(
        &self,
        id_hash: &[u8],
        user: &User,
        expires_at: i64,
    ) -> Result<(), DbError> {
        let conn = self.lock();
        let now = now();
        conn.execute("DELETE FROM sessions WHERE expires_at <= ?1", [now])
            .map_err(err("forgetting expired sessions"))?;
        conn.execute(
            "INSERT INTO sessions (id_hash, user_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
            params![id_hash, user.id, now, expires_at],
        )
        .map(drop)
        .map_err(err("storing a session"))
    }

    /// The user of the session stored under `id_hash`, if it exists and has not expired.
    pub(crate) fn session_user(&self, id_hash: &[u8]) -> Result<Option<User>, DbError> {
        self.lock()
            .prepare_cached(
                "SELECT users.id, users.name FROM sessions JOIN users ON users.id = sessions.user_id
                 WHERE sessions.id_hash = ?1 AND sessions.expires_at > ?2",
            )
            .and_then(|mut s| {
                s.query_row(params![id_hash, now()], |r| {
                    Ok(User {
                        id: r.get(0)?,
                        name: r.get(1)?,
                    })
                })
                .optional()
            })
            .map_err(err("looking up a session"))
    }

    /// Ends the session stored under `id_hash`; with `everywhere`, every session of its user.
    pub(crate) fn end_session(&self, id_hash: &[u8], everywhere: bool) -> Result<(), DbError> {
        let sql = if everywhere {
            "DELETE FROM sessions WHERE user_id = (SELECT user_id FROM sessions WHERE id_hash = ?1)"
        } else {
            "DELETE FROM sessions WHERE id_hash = ?1"
        };
        self.lock()
            .execute(sql, [id_hash])
            .map(drop)
            .map_err(err("ending a session"))
    }

    /// How many sessions are stored (expired ones included until the next sign-in).
    pub fn session_count(&self) -> Result<u64, DbError> {
        self.lock()
            .query_row("SELECT count(*) FROM sessions", [], |r| r.get::<_, i64>(0))
            .map(|n| u64::try_from(n).unwrap_or(0))
            .map_err(err("counting sessions"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_stored_as_argon2id_hashes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.sqlite3");
        let db = Db::open(&path).unwrap();
        assert_eq!(db.users().unwrap().len(), crate::USERS.len());
        drop(db);
        // Read the file as an attacker with a copy would.
        let conn = Connection::open(&path).unwrap();
        let mut stmt = conn
            .prepare("SELECT name, password_hash FROM users")
            .unwrap();
        let rows: Vec<(String, String)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(rows.len(), 2);
        let raw = std::fs::read(&path).unwrap();
        let wal = std::fs::read(path.with_extension("sqlite3-wal")).unwrap_or_default();
        for (name, hash) in &rows {
            let user = crate::USERS.iter().find(|u| u.name == name).unwrap();
            assert!(hash.starts_with("$argon2id$v=19$m="), "{hash}");
            assert!(!hash.contains(user.password), "{hash}");
            for bytes in [&raw, &wal] {
                assert!(
                    !bytes
                        .windows(user.password.len())
                        .any(|w| w == user.password.as_bytes()),
                    "the password of {name} is in the database file"
                );
            }
        }
        // Two hashes of one password differ (random salts).
        assert_ne!(
            hash_password("same").unwrap(),
            hash_password("same").unwrap()
        );
        // Reopening keeps the accounts and adds none.
        let db = Db::open(&path).unwrap();
        assert_eq!(db.users().unwrap().len(), 2);
        assert!(db.verify_password("bob", "builder").unwrap().is_some());
        assert!(db.verify_password("bob", "wonderland").unwrap().is_none());
        assert!(db.verify_password("nobody", "builder").unwrap().is_none());
    }

    #[test]
    fn sessions_expire_and_end() {
        let db = Db::open_in_memory().unwrap();
        let alice = db.verify_password("alice", "wonderland").unwrap().unwrap();
        db.insert_session(b"one", &alice, now() + 60).unwrap();
        db.insert_session(b"two", &alice, now() + 60).unwrap();
        db.insert_session(b"old", &alice, now()).unwrap();
        assert_eq!(db.session_user(b"one").unwrap(), Some(alice.clone()));
        assert_eq!(db.session_user(b"old").unwrap(), None, "expired");
        db.end_session(b"one", false).unwrap();
        assert_eq!(db.session_user(b"one").unwrap(), None);
        assert_eq!(db.session_user(b"two").unwrap(), Some(alice.clone()));
        db.insert_session(b"three", &alice, now() + 60).unwrap();
        db.end_session(b"three", true).unwrap();
        assert_eq!(db.session_user(b"two").unwrap(), None, "ended everywhere");
        assert_eq!(db.session_count().unwrap(), 0);
    }
}
