//! Confinement to the root: resolving a requested path to a regular file inside it.
//!
//! A requested path is served only when the file it names, symlinks resolved, is a regular file
//! whose real location lies below the real root. The check and the open are one operation: the
//! file checked is the file served.
//!
//! # How
//!
//! On Linux the root is kept open as a directory descriptor and files are opened below it with
//! `openat2(2)` and `RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS`, so a concurrent rename or symlink
//! swap can never make the kernel leave the root:
//!
//! 1. The requested path is first opened with `RESOLVE_NO_SYMLINKS` as well. When that works no
//!    symlink was crossed, so the lexically normalised path *is* the real location.
//! 2. When a symlink is on the way, the path is canonicalised, its containment in the real root is
//!    checked by components, and the canonical relative path is opened below the root descriptor
//!    with `RESOLVE_NO_SYMLINKS`. That open can only reach the file at exactly that location:
//!    if a component was swapped for a symlink in between, it fails instead. Links inside the root
//!    that point inside it (relative or absolute) are therefore followed; links that lead out are
//!    refused.
//!
//! Files are opened with `O_NONBLOCK | O_NOCTTY` (a FIFO never blocks the open) or, for
//! [`Access::Stat`], with `O_PATH` (no read permission needed), and their type is checked on the
//! open descriptor.
//!
//! Elsewhere, or on a kernel without `openat2` (or a seccomp filter refusing it), the same
//! canonicalise-and-check is done on paths. That fallback is not race-free: a symlink swapped in
//! between the check and the open can redirect the open.

use std::fs::File;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use crate::error::{ConfigError, Error, NotFoundReason};
use crate::meta::FileMeta;

mod lexical;
#[cfg(target_os = "linux")]
mod linux;
mod portable;
mod resolved;
mod system;
#[cfg(test)]
mod tests;

use lexical::{normalise_relative, refuse_links_on};
pub use resolved::{FileState, OpenFile, ResolvedFile};
pub(crate) use system::check_root_setting;
use system::refuse_system_directory;

const SETTING: &str = "SENDFILE_ROOT";

/// How much of the filesystem a resolution may touch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Access {
    /// Open the file for reading (in-process backends).
    Read,
    /// Check that the file exists and is a regular file, and read its metadata, without needing
    /// read permission (offload backends with `check_file_exists`).
    Stat,
    /// Require nothing to exist: normalise the path lexically and check it stays below the root
    /// (offload backends with `check_file_exists = false`, naming files only the front server
    /// has).
    ///
    /// `..` pops a component and may never climb above the root; the root itself resolves to
    /// [`NotFoundReason::Directory`]. The part of the path that does exist locally is still
    /// checked: a symlink on it that leads out of the root is refused
    /// ([`NotFoundReason::OutsideRoot`]), since the front server would follow it.
    Lexical,
}

/// The root directory all files are served from, opened.
///
/// A [`Config`](crate::Config) keeps one and opens it again when another directory comes to
/// stand at the configured path (a deploy flipping a symlink, a restore).
#[derive(Debug)]
pub struct Root {
    configured: Arc<Path>,
    real: PathBuf,
    /// Device and inode of the real directory when opened.
    identity: (u64, u64),
    follow_symlinks: bool,
    /// The root directory (`O_PATH | O_DIRECTORY`), when `openat2` is usable; `None` selects the
    /// path-based fallback.
    #[cfg(target_os = "linux")]
    dir: Option<std::os::fd::OwnedFd>,
}

impl Root {
    /// Opens the root. `path` should be absolute; a relative one is made absolute against the
    /// current directory. Errors name `SENDFILE_ROOT`.
    ///
    /// The path is normalised lexically (`.`, `..` and repeated separators removed); it must name
    /// an existing directory that the process may search (`x` permission). The whole filesystem
    /// (`/`) and the kernel's pseudo-filesystems (`proc`, `sysfs`, `devtmpfs`, `debugfs`,
    /// `cgroup`..., told by the file system's type, not the path) are refused: they hold
    /// secrets of the process and the machine, not files to download.
    ///
    /// ```
    /// use sendfile_core::Root;
    /// let err = Root::open("/proc/self").unwrap_err();
    /// assert_eq!(err.setting, "SENDFILE_ROOT");
    /// assert!(err.message.contains("kernel"), "{err}");
    /// ```
    pub fn open(path: impl AsRef<Path>) -> Result<Root, ConfigError> {
        let path = path.as_ref();
        let configured = check_root_setting(path)?;
        // Made absolute without error by the check above.
        let absolute = std::path::absolute(path).unwrap_or_else(|_| configured.clone());
        let meta = std::fs::metadata(&configured).map_err(|e| {
            let fix = match e.kind() {
                std::io::ErrorKind::NotFound => "create the directory or correct the setting",
                std::io::ErrorKind::PermissionDenied => {
                    "give the server's user search (x) permission on it and its parents"
                }
                _ => "make it an accessible directory",
            };
            ConfigError::new(
                SETTING,
                format!("`{}` cannot be used ({e}); {fix}", configured.display()),
            )
        })?;
        if !meta.is_dir() {
            return Err(ConfigError::new(
                SETTING,
                format!(
                    "`{}` is not a directory; set it to the directory files are served from",
                    configured.display()
                ),
            ));
        }
        let real = std::fs::canonicalize(&configured).map_err(|e| {
            ConfigError::new(
                SETTING,
                format!(
                    "`{}` cannot be resolved ({e}); make it an accessible directory",
                    configured.display()
                ),
            )
        })?;
        if absolute.components().any(|c| c == Component::ParentDir)
            && std::fs::canonicalize(&absolute).ok().as_deref() != Some(real.as_path())
        {
            return Err(ConfigError::new(
                SETTING,
                format!(
                    "`{}` has a `..` after a symbolic link, so it names another directory than \
                     its normalised form `{}`; write the path without `..`",
                    path.display(),
                    configured.display()
                ),
            ));
        }
        refuse_system_directory(&real, &configured)?;
        check_searchable(&real, &configured)?;
        let identity = crate::meta::dev_ino(&std::fs::metadata(&real).map_err(|e| {
            ConfigError::new(
                SETTING,
                format!(
                    "`{}` cannot be used ({e}); make it an accessible directory",
                    configured.display()
                ),
            )
        })?);
        #[cfg(target_os = "linux")]
        let dir = linux::open_root(&real)?;
        Ok(Root {
            configured: Arc::from(configured),
            real,
            identity,
            follow_symlinks: true,
            #[cfg(target_os = "linux")]
            dir,
        })
    }

    /// Whether symlinks inside the root are followed (the default) or refused.
    ///
    /// Followed, a link inside the root is served when its target lies inside the root too;
    /// links that lead out are always refused. Refused ([`NotFoundReason::Symlink`]), no path
    /// that runs through a link below the root is served at all: use it when people who must
    /// not read every file can write into the root (uploads, extracted archives), since they
    /// could otherwise plant a link to another user's file. The root itself may still sit under
    /// a symlinked directory (`/srv/app/current/files` with `current -> releases/42`).
    ///
    /// ```
    /// use std::path::Path;
    /// use sendfile_core::{Access, Error, NotFoundReason, Root};
    /// let dir = tempfile::tempdir().unwrap();
    /// std::fs::write(dir.path().join("notes.txt"), b"alice's notes").unwrap();
    /// # #[cfg(unix)] {
    /// std::os::unix::fs::symlink("notes.txt", dir.path().join("public.txt")).unwrap();
    ///
    /// let following = Root::open(dir.path()).unwrap();
    /// let file = following.resolve(Path::new("public.txt"), Access::Read).unwrap();
    /// assert_eq!(file.relative_path(), Path::new("notes.txt"));
    ///
    /// let refusing = Root::open(dir.path()).unwrap().follow_symlinks(false);
    /// let err = refusing.resolve(Path::new("public.txt"), Access::Read).unwrap_err();
    /// assert!(matches!(err, Error::NotFound { reason: NotFoundReason::Symlink, .. }));
    /// # }
    /// ```
    #[must_use]
    pub fn follow_symlinks(mut self, follow: bool) -> Self {
        self.follow_symlinks = follow;
        self
    }

    /// Whether symlinks inside the root are followed; see [`follow_symlinks`](Self::follow_symlinks).
    pub fn follows_symlinks(&self) -> bool {
        self.follow_symlinks
    }

    /// Device and inode of the real directory when it was opened.
    pub(crate) fn identity(&self) -> (u64, u64) {
        self.identity
    }

    /// The root as configured (absolute, normalised, symlinks not resolved). Offload headers
    /// name files below this path, as the front server is configured with it.
    pub fn path(&self) -> &Path {
        &self.configured
    }

    /// The root with symlinks resolved.
    pub fn real_path(&self) -> &Path {
        &self.real
    }

    /// Whether resolution is race-free here (Linux with `openat2`), rather than the path-based
    /// fallback.
    pub fn is_race_free(&self) -> bool {
        #[cfg(target_os = "linux")]
        {
            self.dir.is_some()
        }
        #[cfg(not(target_os = "linux"))]
        {
            false
        }
    }

    /// Resolves `requested` (relative to the root, or absolute inside it).
    ///
    /// Symlinks are followed, but the file's real location must lie below the real root.
    /// Every refusal is an [`Error::NotFound`] whose [`NotFoundReason`] says why, except
    /// unexpected I/O errors ([`Error::Io`]).
    ///
    /// ```
    /// use std::path::Path;
    /// use sendfile_core::{Access, Error, NotFoundReason, Root};
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// std::fs::create_dir(dir.path().join("reports")).unwrap();
    /// std::fs::write(dir.path().join("reports/q1.pdf"), b"%PDF").unwrap();
    /// let root = Root::open(dir.path()).unwrap();
    ///
    /// let file = root.resolve(Path::new("reports/./q1.pdf"), Access::Read).unwrap();
    /// assert_eq!(file.relative_path(), Path::new("reports/q1.pdf"));
    /// assert_eq!(file.relative_path_bytes(), b"reports/q1.pdf");
    /// assert_eq!(file.path(), root.path().join("reports/q1.pdf"));
    /// assert_eq!(file.metadata().unwrap().len, 4);
    /// assert!(file.file().is_some());
    ///
    /// let escape = root.resolve(Path::new("reports/../../etc/passwd"), Access::Read);
    /// assert!(matches!(
    ///     escape,
    ///     Err(Error::NotFound { reason: NotFoundReason::OutsideRoot, .. })
    /// ));
    /// ```
    pub fn resolve(&self, requested: &Path, access: Access) -> Result<ResolvedFile, Error> {
        let not_found = |reason| Error::not_found(reason, requested);
        if requested.as_os_str().is_empty() || has_nul(requested) {
            return Err(not_found(NotFoundReason::InvalidPath));
        }
        let below = self.below_root(requested).ok_or_else(|| {
            log::debug!(
                "{} is absolute and not below the root {}",
                crate::logsafe::LogSafe::path(requested),
                crate::logsafe::LogSafe::path(&self.configured)
            );
            not_found(NotFoundReason::OutsideRoot)
        })?;
        if below.as_os_str().is_empty() {
            return Err(not_found(NotFoundReason::Directory));
        }
        let (relative, state) = match access {
            Access::Read => {
                let found = self.on_disk::<ForRead>(below, requested)?;
                (found.relative, FileState::Open(found.kept))
            }
            Access::Stat => {
                let found = self.on_disk::<ForStat>(below, requested)?;
                (found.relative, FileState::Stat(found.kept))
            }
            Access::Lexical => {
                if !self.follow_symlinks {
                    refuse_links_on(&self.real, below, requested)?;
                }
                let relative = normalise_relative(below).map_err(not_found)?;
                // A file that exists locally is confined like any other (and named by its real
                // location); only a missing one is taken lexically.
                match self.on_disk::<ForStat>(&relative, requested) {
                    Err(Error::NotFound {
                        reason: NotFoundReason::Missing,
                        ..
                    }) => (
                        self.real_location_of_missing(&relative, requested)?,
                        FileState::Lexical,
                    ),
                    other => {
                        let found = other?;
                        (found.relative, FileState::Stat(found.kept))
                    }
                }
            }
        };
        Ok(self.finish(relative, state))
    }

    /// Resolves `requested` as [`resolve`](Self::resolve) does with [`Access::Read`], and
    /// returns the opened file only.
    pub(crate) fn open_for_reading(&self, requested: &Path) -> Result<OpenFile, Error> {
        let not_found = |reason| Error::not_found(reason, requested);
        if requested.as_os_str().is_empty() || has_nul(requested) {
            return Err(not_found(NotFoundReason::InvalidPath));
        }
        let below = self
            .below_root(requested)
            .ok_or_else(|| not_found(NotFoundReason::OutsideRoot))?;
        if below.as_os_str().is_empty() {
            return Err(not_found(NotFoundReason::Directory));
        }
        Ok(self.on_disk::<ForRead>(below, requested)?.kept)
    }

    /// The part of `requested` below the root: `requested` itself when relative, or what follows
    /// the configured or the real root when absolute (`None` when it is not below either).
    fn below_root<'a>(&self, requested: &'a Path) -> Option<&'a Path> {
        // On Unix a path without a root has only relative components (no prefixes there): the
        // components are not walked.
        if !requested.has_root()
            && (cfg!(unix) || requested.components().all(is_relative_component))
        {
            return Some(requested);
        }
        requested
            .strip_prefix(&self.configured)
            .or_else(|_| requested.strip_prefix(&self.real))
            .ok()
    }

    /// Resolves `below` on disk (race-free with `openat2`, else by path checks), keeping of
    /// the file what `K` asks for.
    fn on_disk<K: Keep>(&self, below: &Path, requested: &Path) -> Result<Found<K::Out>, Error> {
        #[cfg(target_os = "linux")]
        if let Some(dir) = &self.dir {
            match linux::resolve::<K>(dir, &self.real, below, self.follow_symlinks, requested) {
                Err(linux::Unsupported) => {
                    log::warn!(
                        "openat2 became unavailable; confinement to {} falls back to path checks",
                        crate::logsafe::LogSafe::path(&self.real)
                    );
                }
                Ok(found) => return found,
            }
        }
        if !self.follow_symlinks {
            refuse_links_on(&self.real, below, requested)?;
        }
        portable::resolve::<K>(&self.real, below, requested)
    }

    fn finish(&self, relative: PathBuf, state: FileState) -> ResolvedFile {
        debug_assert!(
            !relative.as_os_str().is_empty()
                && relative
                    .components()
                    .all(|c| matches!(c, Component::Normal(_)))
        );
        ResolvedFile::below_root(relative, Arc::clone(&self.configured), state)
    }
}

/// The outcome of a successful resolution on disk: the real location below the root, and what
/// was kept of the file.
#[derive(Debug)]
struct Found<T> {
    relative: PathBuf,
    kept: T,
}

/// What an on-disk resolution keeps of the file it reached, by type: the opened file for
/// reading, or its metadata only.
trait Keep {
    /// Whether the file is opened for reading (else `O_PATH`, or only looked at).
    const READ: bool;
    /// What is kept.
    type Out;
    /// From the opened descriptor (its type already checked) and its metadata.
    fn from_open(file: File, meta: &std::fs::Metadata) -> Result<Self::Out, Error>;
    /// By path, for the fallback: `path` is canonical and below the root.
    fn by_path(path: &Path, requested: &Path) -> Result<Self::Out, Error>;
}

/// Opened for reading ([`Access::Read`]).
struct ForRead;

/// Checked and stat'ed, no read permission needed ([`Access::Stat`]).
struct ForStat;

impl Keep for ForStat {
    const READ: bool = false;
    type Out = FileMeta;

    fn from_open(_: File, meta: &std::fs::Metadata) -> Result<FileMeta, Error> {
        Ok(FileMeta::from_std(meta))
    }

    fn by_path(path: &Path, requested: &Path) -> Result<FileMeta, Error> {
        let meta = std::fs::metadata(path).map_err(|e| map_io_error(e, requested))?;
        check_type(&meta, requested)?;
        Ok(FileMeta::from_std(&meta))
    }
}

impl Keep for ForRead {
    const READ: bool = true;
    type Out = OpenFile;

    fn from_open(file: File, meta: &std::fs::Metadata) -> Result<OpenFile, Error> {
        // Opened non-blocking only so that a FIFO cannot block; reads of the regular file go
        // back to the usual blocking mode.
        #[cfg(target_os = "linux")]
        rustix::fs::fcntl_setfl(&file, rustix::fs::OFlags::empty())
            .map_err(|e| Error::Io(e.into()))?;
        Ok(OpenFile::new(file, FileMeta::from_std(meta)))
    }

    fn by_path(path: &Path, requested: &Path) -> Result<OpenFile, Error> {
        let (file, meta) = portable::open_regular(path, requested)?;
        Ok(OpenFile::new(file, FileMeta::from_std(&meta)))
    }
}

fn has_nul(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        path.as_os_str().as_bytes().contains(&0)
    }
    #[cfg(not(unix))]
    {
        path.to_string_lossy().contains('\0')
    }
}

fn is_relative_component(c: Component<'_>) -> bool {
    matches!(
        c,
        Component::Normal(_) | Component::CurDir | Component::ParentDir
    )
}

/// Removes `.` and `..` from an absolute path (`..` at the top stays at the top).
fn normalise_absolute(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::Prefix(_) | Component::RootDir | Component::Normal(_) => out.push(c),
            Component::CurDir => {}
            Component::ParentDir => {
                if out.file_name().is_some() {
                    out.pop();
                }
            }
        }
    }
    out
}

/// The process must be able to search the root (`x`), or every request would be a 404.
fn check_searchable(real: &Path, configured: &Path) -> Result<(), ConfigError> {
    #[cfg(target_os = "linux")]
    {
        use rustix::fs::{AtFlags, CWD};
        match rustix::fs::accessat(CWD, real, rustix::fs::Access::EXEC_OK, AtFlags::EACCESS) {
            Ok(()) => Ok(()),
            Err(e) => Err(ConfigError::new(
                SETTING,
                format!(
                    "`{}` cannot be searched by this process (uid {}): {e}; give the server's \
                     user search (x) permission on it, for example `chmod o+x` or a group it \
                     is in",
                    configured.display(),
                    rustix::process::geteuid().as_raw()
                ),
            )),
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        std::fs::read_dir(real).map(drop).map_err(|e| {
            ConfigError::new(
                SETTING,
                format!(
                    "`{}` cannot be listed by this process ({e}); give the server's user access",
                    configured.display()
                ),
            )
        })
    }
}

/// Checks the type of an opened file: only regular files pass.
fn check_type(meta: &std::fs::Metadata, requested: &Path) -> Result<(), Error> {
    if meta.is_file() {
        Ok(())
    } else if meta.is_dir() {
        Err(Error::not_found(NotFoundReason::Directory, requested))
    } else {
        Err(Error::not_found(NotFoundReason::NotARegularFile, requested))
    }
}

/// The part of a canonical path below the real root, when it is below it (by components).
fn canonical_below(canonical: &Path, real_root: &Path, requested: &Path) -> Result<PathBuf, Error> {
    match canonical.strip_prefix(real_root) {
        Ok(rel)
            if !rel.as_os_str().is_empty()
                && rel.components().all(|c| matches!(c, Component::Normal(_))) =>
        {
            Ok(rel.to_path_buf())
        }
        Ok(_) => Err(Error::not_found(NotFoundReason::Directory, requested)),
        Err(_) => {
            log::debug!(
                "{} resolves to {}, outside the root {}",
                crate::logsafe::LogSafe::path(requested),
                crate::logsafe::LogSafe::path(canonical),
                crate::logsafe::LogSafe::path(real_root)
            );
            Err(Error::not_found(NotFoundReason::OutsideRoot, requested))
        }
    }
}

/// Maps an error from the path-based fallback.
fn map_io_error(e: std::io::Error, requested: &Path) -> Error {
    use std::io::ErrorKind;
    #[cfg(target_os = "linux")]
    if let Some(errno) = rustix::io::Errno::from_io_error(&e) {
        return linux::map_errno(errno, requested);
    }
    let reason = match e.kind() {
        ErrorKind::NotFound | ErrorKind::NotADirectory | ErrorKind::InvalidFilename => {
            NotFoundReason::Missing
        }
        ErrorKind::PermissionDenied => NotFoundReason::AccessDenied,
        ErrorKind::IsADirectory => NotFoundReason::Directory,
        _ => return Error::Io(e),
    };
    Error::not_found(reason, requested)
}
