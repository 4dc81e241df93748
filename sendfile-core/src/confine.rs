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

use crate::error::{ConfigError, Error, NotFoundReason};
use crate::meta::FileMeta;

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
    configured: PathBuf,
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
    /// (`/`) and the kernel's pseudo-filesystems (`/proc`, `/sys`, `/dev`) are refused: they hold
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
        if path.as_os_str().is_empty() {
            return Err(ConfigError::new(
                SETTING,
                "is empty; set it to the absolute path of the directory files are served from",
            ));
        }
        if has_nul(path) {
            return Err(ConfigError::new(
                SETTING,
                "contains a NUL byte; set it to the absolute path of the directory files are \
                 served from",
            ));
        }
        let absolute = std::path::absolute(path).map_err(|e| {
            ConfigError::new(
                SETTING,
                format!(
                    "`{}` is relative and the current directory cannot be read ({e}); use an \
                     absolute path",
                    path.display()
                ),
            )
        })?;
        let configured = normalise_absolute(&absolute);
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
            configured,
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
        let found = match access {
            Access::Lexical => {
                if !self.follow_symlinks {
                    refuse_links_on(&self.real, below, requested)?;
                }
                let relative = normalise_relative(below).map_err(not_found)?;
                // A file that exists locally is confined like any other (and named by its real
                // location); only a missing one is taken lexically.
                match self.resolve_on_disk(&relative, Access::Stat, requested) {
                    Err(Error::NotFound {
                        reason: NotFoundReason::Missing,
                        ..
                    }) => Found {
                        relative: self.real_location_of_missing(&relative, requested)?,
                        file: None,
                        meta: None,
                    },
                    other => other?,
                }
            }
            Access::Read | Access::Stat => self.resolve_on_disk(below, access, requested)?,
        };
        Ok(self.finish(found))
    }

    /// For [`Access::Lexical`] and a file missing locally: the location to name, with the
    /// symlinks of the part of `relative` that exists locally resolved.
    ///
    /// That part must not lead out of the real root (through a symlink the front server would
    /// follow), and it is named by its real location, like a file that exists: a permission
    /// check sees `users/alice/new.pdf` for `public/to-alice/new.pdf`, and no link is left in
    /// the name for the front server to follow (a magic link such as `/proc/self/fd/N` would
    /// lead elsewhere in the front server's process than in this one).
    fn real_location_of_missing(
        &self,
        relative: &Path,
        requested: &Path,
    ) -> Result<PathBuf, Error> {
        if !self.follow_symlinks {
            // `resolve` refused any link on the path as written already.
            return Ok(relative.to_path_buf());
        }
        let components: Vec<Component<'_>> = relative.components().collect();
        let mut existing = self.real.clone();
        let mut present = 0;
        for component in &components {
            let next = existing.join(component);
            if std::fs::symlink_metadata(&next).is_err() {
                break;
            }
            existing = next;
            present += 1;
        }
        if present == 0 {
            return Ok(relative.to_path_buf());
        }
        // A dangling link fails here (Missing): its target is unknown, so it is not named.
        let canonical = std::fs::canonicalize(&existing).map_err(|e| map_io_error(e, requested))?;
        let Ok(below) = canonical.strip_prefix(&self.real) else {
            log::debug!(
                "{} runs through {}, which leads outside the root {}",
                crate::logsafe::LogSafe::path(requested),
                crate::logsafe::LogSafe::path(&existing),
                crate::logsafe::LogSafe::path(&self.real)
            );
            return Err(Error::not_found(NotFoundReason::OutsideRoot, requested));
        };
        let mut location = below.to_path_buf();
        location.extend(&components[present..]);
        if location.as_os_str().is_empty() {
            return Err(Error::not_found(NotFoundReason::Directory, requested));
        }
        Ok(location)
    }

    /// The part of `requested` below the root: `requested` itself when relative, or what follows
    /// the configured or the real root when absolute (`None` when it is not below either).
    fn below_root<'a>(&self, requested: &'a Path) -> Option<&'a Path> {
        if !requested.has_root() && requested.components().all(is_relative_component) {
            return Some(requested);
        }
        requested
            .strip_prefix(&self.configured)
            .or_else(|_| requested.strip_prefix(&self.real))
            .ok()
    }

    fn resolve_on_disk(
        &self,
        below: &Path,
        access: Access,
        requested: &Path,
    ) -> Result<Found, Error> {
        #[cfg(target_os = "linux")]
        if let Some(dir) = &self.dir {
            match linux::resolve(
                dir,
                &self.real,
                below,
                access,
                self.follow_symlinks,
                requested,
            ) {
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
        portable::resolve(&self.real, below, access, requested)
    }

    fn finish(&self, found: Found) -> ResolvedFile {
        let Found {
            relative,
            file,
            meta,
        } = found;
        debug_assert!(
            !relative.as_os_str().is_empty()
                && relative
                    .components()
                    .all(|c| matches!(c, Component::Normal(_)))
        );
        let path = self.configured.join(&relative);
        #[cfg(not(unix))]
        let relative_bytes = relative.to_string_lossy().replace('\\', "/").into_bytes();
        ResolvedFile {
            relative,
            path,
            file,
            meta,
            #[cfg(not(unix))]
            relative_bytes,
        }
    }
}

/// The outcome of a successful resolution, before the absolute path is built.
#[derive(Debug)]
struct Found {
    relative: PathBuf,
    file: Option<File>,
    meta: Option<FileMeta>,
}

/// A file that passed confinement.
#[derive(Debug)]
pub struct ResolvedFile {
    relative: PathBuf,
    path: PathBuf,
    file: Option<File>,
    meta: Option<FileMeta>,
    #[cfg(not(unix))]
    relative_bytes: Vec<u8>,
}

impl ResolvedFile {
    /// The file's real location relative to the real root: only normal components, never
    /// empty, never absolute.
    ///
    /// With [`Access::Lexical`] and a file missing locally, it is the lexically normalised
    /// request.
    pub fn relative_path(&self) -> &Path {
        &self.relative
    }

    /// The bytes of [`relative_path`](Self::relative_path) (`/`-separated).
    ///
    /// On Unix these are the file name bytes as the filesystem stores them (not necessarily
    /// UTF-8); elsewhere, the UTF-8 (lossy) form with `\` turned to `/`.
    pub fn relative_path_bytes(&self) -> &[u8] {
        #[cfg(unix)]
        {
            use std::os::unix::ffi::OsStrExt;
            self.relative.as_os_str().as_bytes()
        }
        #[cfg(not(unix))]
        {
            &self.relative_bytes
        }
    }

    /// The absolute path: the root as configured joined with the relative path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The metadata, unless resolved with [`Access::Lexical`].
    pub fn metadata(&self) -> Option<&FileMeta> {
        self.meta.as_ref()
    }

    /// The open file, when resolved with [`Access::Read`].
    pub fn file(&self) -> Option<&File> {
        self.file.as_ref()
    }

    /// Takes the open file out, when resolved with [`Access::Read`].
    pub fn into_file(self) -> Option<File> {
        self.file
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

/// Normalises a path below the root lexically: `.` dropped, `..` pops, and climbing above the
/// root is refused. The root itself is a directory.
fn normalise_relative(below: &Path) -> Result<PathBuf, NotFoundReason> {
    let mut out = PathBuf::new();
    for c in below.components() {
        match c {
            Component::Normal(name) => out.push(name),
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    return Err(NotFoundReason::OutsideRoot);
                }
            }
            Component::Prefix(_) | Component::RootDir => {
                return Err(NotFoundReason::OutsideRoot);
            }
        }
    }
    if out.as_os_str().is_empty() {
        return Err(NotFoundReason::Directory);
    }
    Ok(out)
}

/// With symlinks refused: no component of `below`, walked from the root as written (`..` pops
/// what came before, as the kernel does when no link is crossed), may be a symlink. Path checks,
/// for the fallback and for files missing locally; a missing component does not stop the walk,
/// since a `..` after it could lead back into an existing link.
fn refuse_links_on(real_root: &Path, below: &Path, requested: &Path) -> Result<(), Error> {
    let mut path = real_root.to_path_buf();
    for component in below.components() {
        match component {
            Component::Normal(name) => path.push(name),
            Component::ParentDir => {
                if path == real_root || !path.pop() {
                    return Err(Error::not_found(NotFoundReason::OutsideRoot, requested));
                }
                continue;
            }
            _ => continue,
        }
        if std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink()) {
            return Err(Error::not_found(NotFoundReason::Symlink, requested));
        }
    }
    Ok(())
}

/// Refuses the whole filesystem and the kernel's pseudo-filesystems as a root.
fn refuse_system_directory(real: &Path, configured: &Path) -> Result<(), ConfigError> {
    let what = if real.parent().is_none() {
        "the whole filesystem"
    } else if ["/proc", "/sys", "/dev"]
        .iter()
        .any(|system| real.starts_with(system))
    {
        "a kernel pseudo-filesystem (it exposes the process's memory, environment and \
         descriptors, or the machine's devices)"
    } else {
        return Ok(());
    };
    Err(ConfigError::new(
        SETTING,
        format!(
            "`{}` is {what}, not a directory of files to download; set it to a directory that \
             holds only the files to serve, such as /srv/files",
            configured.display()
        ),
    ))
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

/// Path-based confinement: canonicalise, check containment by components, then open. Not
/// race-free; used where `openat2` is not available.
mod portable {
    use super::*;

    pub(super) fn resolve(
        real_root: &Path,
        below: &Path,
        access: Access,
        requested: &Path,
    ) -> Result<Found, Error> {
        let canonical =
            std::fs::canonicalize(real_root.join(below)).map_err(|e| map_io_error(e, requested))?;
        let relative = canonical_below(&canonical, real_root, requested)?;
        let (file, meta) = match access {
            Access::Stat => {
                let meta = std::fs::metadata(&canonical).map_err(|e| map_io_error(e, requested))?;
                check_type(&meta, requested)?;
                (None, meta)
            }
            _ => {
                let (file, meta) = open_regular(&canonical, requested)?;
                (Some(file), meta)
            }
        };
        Ok(Found {
            relative,
            file,
            meta: Some(FileMeta::from_std(&meta)),
        })
    }

    /// Opens a regular file for reading; the open never blocks on a FIFO.
    #[cfg(target_os = "linux")]
    fn open_regular(path: &Path, requested: &Path) -> Result<(File, std::fs::Metadata), Error> {
        use rustix::fs::{Mode, OFlags};
        let fd = rustix::fs::open(
            path,
            OFlags::RDONLY | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| linux::map_errno(e, requested))?;
        let file = File::from(fd);
        let meta = file.metadata().map_err(Error::Io)?;
        check_type(&meta, requested)?;
        rustix::fs::fcntl_setfl(&file, OFlags::empty()).map_err(|e| Error::Io(e.into()))?;
        Ok((file, meta))
    }

    /// Opens a regular file for reading, checking its type first so that a FIFO is not opened
    /// (unless swapped in between).
    #[cfg(not(target_os = "linux"))]
    fn open_regular(path: &Path, requested: &Path) -> Result<(File, std::fs::Metadata), Error> {
        let before = std::fs::metadata(path).map_err(|e| map_io_error(e, requested))?;
        check_type(&before, requested)?;
        let file = File::open(path).map_err(|e| map_io_error(e, requested))?;
        let meta = file.metadata().map_err(Error::Io)?;
        check_type(&meta, requested)?;
        Ok((file, meta))
    }
}

#[cfg(target_os = "linux")]
mod linux {
    use super::*;
    use rustix::fs::{Mode, OFlags, ResolveFlags};
    use rustix::io::Errno;
    use std::os::fd::OwnedFd;

    /// `openat2` is not usable (old kernel, or a seccomp filter refusing it).
    #[derive(Debug)]
    pub(super) struct Unsupported;

    /// How many times an `openat2` interrupted by a concurrent rename (`EAGAIN`) is retried.
    const RETRIES: usize = 8;

    /// Opens the root directory and probes `openat2`; `None` when it is not usable.
    pub(super) fn open_root(real: &Path) -> Result<Option<OwnedFd>, ConfigError> {
        let dir = rustix::fs::open(
            real,
            OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| {
            ConfigError::new(
                SETTING,
                format!(
                    "`{}` cannot be opened ({e}); make it an accessible directory",
                    real.display()
                ),
            )
        })?;
        match openat2(&dir, Path::new("."), Access::Stat, true) {
            Ok(_) => Ok(Some(dir)),
            Err(e) => {
                log::warn!(
                    "openat2 is not usable here ({e}); confinement to {} uses path checks, \
                     which are not race-free",
                    crate::logsafe::LogSafe::path(real)
                );
                Ok(None)
            }
        }
    }

    fn openat2(
        dir: &OwnedFd,
        path: &Path,
        access: Access,
        no_symlinks: bool,
    ) -> rustix::io::Result<OwnedFd> {
        let oflags = match access {
            Access::Read => OFlags::RDONLY | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC,
            _ => OFlags::PATH | OFlags::CLOEXEC,
        };
        let mut resolve = ResolveFlags::BENEATH | ResolveFlags::NO_MAGICLINKS;
        if no_symlinks {
            resolve |= ResolveFlags::NO_SYMLINKS;
        }
        let mut tries = 0;
        loop {
            match rustix::fs::openat2(dir, path, oflags, Mode::empty(), resolve) {
                Err(Errno::AGAIN | Errno::INTR) if tries < RETRIES => tries += 1,
                other => return other,
            }
        }
    }

    pub(super) fn map_errno(errno: Errno, requested: &Path) -> Error {
        let reason = match errno {
            Errno::NOENT | Errno::NOTDIR | Errno::NAMETOOLONG | Errno::LOOP => {
                NotFoundReason::Missing
            }
            Errno::XDEV => NotFoundReason::OutsideRoot,
            Errno::ACCESS | Errno::PERM => NotFoundReason::AccessDenied,
            Errno::NXIO | Errno::NODEV => NotFoundReason::NotARegularFile,
            Errno::ISDIR => NotFoundReason::Directory,
            Errno::MFILE | Errno::NFILE => {
                return Error::Overloaded(crate::error::Overload::Descriptors(errno.into()));
            }
            _ => return Error::Io(errno.into()),
        };
        Error::not_found(reason, requested)
    }

    /// Race-free resolution below the root descriptor. `Err(Unsupported)` asks for the fallback.
    pub(super) fn resolve(
        dir: &OwnedFd,
        real_root: &Path,
        below: &Path,
        access: Access,
        follow_symlinks: bool,
        requested: &Path,
    ) -> Result<Result<Found, Error>, Unsupported> {
        // 1. No symlink on the way: the lexical form is the real location.
        let (fd, relative) = match openat2(dir, below, access, true) {
            Ok(fd) => match normalise_relative(below) {
                Ok(relative) => (fd, relative),
                // The root itself (`a/..`): a directory.
                Err(reason) => return Ok(Err(Error::not_found(reason, requested))),
            },
            Err(Errno::NOSYS) => return Err(Unsupported),
            Err(Errno::LOOP) if !follow_symlinks => {
                return Ok(Err(Error::not_found(NotFoundReason::Symlink, requested)));
            }
            // 2. A symlink on the way: find the real location, then open exactly it.
            Err(Errno::LOOP) => {
                let canonical = match std::fs::canonicalize(real_root.join(below)) {
                    Ok(canonical) => canonical,
                    Err(e) => return Ok(Err(map_io_error(e, requested))),
                };
                let relative = match canonical_below(&canonical, real_root, requested) {
                    Ok(relative) => relative,
                    Err(e) => return Ok(Err(e)),
                };
                match openat2(dir, &relative, access, true) {
                    Ok(fd) => (fd, relative),
                    Err(Errno::NOSYS) => return Err(Unsupported),
                    // A component became a symlink since the canonicalisation.
                    Err(Errno::LOOP) => {
                        log::debug!(
                            "{} changed during resolution",
                            crate::logsafe::LogSafe::path(requested)
                        );
                        return Ok(Err(Error::not_found(NotFoundReason::Missing, requested)));
                    }
                    Err(e) => return Ok(Err(map_errno(e, requested))),
                }
            }
            Err(e) => return Ok(Err(map_errno(e, requested))),
        };
        Ok(finish_open(fd, relative, access, requested))
    }

    /// Checks the opened descriptor's type and reads its metadata.
    fn finish_open(
        fd: OwnedFd,
        relative: PathBuf,
        access: Access,
        requested: &Path,
    ) -> Result<Found, Error> {
        let file = File::from(fd);
        // `statx` on the descriptor: works on `O_PATH` descriptors too.
        let meta = file.metadata().map_err(Error::Io)?;
        check_type(&meta, requested)?;
        let file = match access {
            Access::Read => {
                // Opened non-blocking only so that a FIFO cannot block; reads of the regular file
                // go back to the usual blocking mode.
                rustix::fs::fcntl_setfl(&file, OFlags::empty()).map_err(|e| Error::Io(e.into()))?;
                Some(file)
            }
            _ => None,
        };
        Ok(Found {
            relative,
            file,
            meta: Some(FileMeta::from_std(&meta)),
        })
    }
}

/// Objects in a bucket: a key below the prefix stands where a path below the root would.
impl ResolvedFile {
    /// An object: `relative` is its key below the store's prefix, `path` its full key. There
    /// is no local file and no metadata.
    pub(crate) fn object(relative: PathBuf, path: PathBuf) -> ResolvedFile {
        #[cfg(not(unix))]
        let relative_bytes = relative.to_string_lossy().replace('\\', "/").into_bytes();
        ResolvedFile {
            relative,
            path,
            file: None,
            meta: None,
            #[cfg(not(unix))]
            relative_bytes,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::os::unix::fs::{PermissionsExt, symlink};

    /// A fixture:
    ///
    /// ```text
    /// base/
    ///   outside/secret.txt
    ///   root-evil/x.txt          (shares the root's name as a prefix)
    ///   root/
    ///     top.txt
    ///     a/f.txt
    ///     a/b/g.txt
    ///     link-in      -> a           (relative, inside)
    ///     link-in-abs  -> <root>/a/f.txt  (absolute, inside)
    ///     link-out     -> ../outside  (directory outside)
    ///     link-secret  -> ../outside/secret.txt
    ///     a/link-up    -> ../top.txt
    /// ```
    struct Fixture {
        _dir: tempfile::TempDir,
        base: PathBuf,
        root: Root,
    }

    fn fixture() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().canonicalize().unwrap();
        let r = base.join("root");
        std::fs::create_dir_all(r.join("a/b")).unwrap();
        std::fs::create_dir_all(base.join("outside")).unwrap();
        std::fs::create_dir_all(base.join("root-evil")).unwrap();
        std::fs::write(base.join("outside/secret.txt"), b"secret").unwrap();
        std::fs::write(base.join("root-evil/x.txt"), b"evil").unwrap();
        std::fs::write(r.join("top.txt"), b"top").unwrap();
        std::fs::write(r.join("a/f.txt"), b"f").unwrap();
        std::fs::write(r.join("a/b/g.txt"), b"g").unwrap();
        symlink("a", r.join("link-in")).unwrap();
        symlink(r.join("a/f.txt"), r.join("link-in-abs")).unwrap();
        symlink("../outside", r.join("link-out")).unwrap();
        symlink("../outside/secret.txt", r.join("link-secret")).unwrap();
        symlink("../top.txt", r.join("a/link-up")).unwrap();
        let root = Root::open(&r).unwrap();
        Fixture {
            _dir: dir,
            base,
            root,
        }
    }

    fn reason(result: Result<ResolvedFile, Error>) -> NotFoundReason {
        match result {
            Err(Error::NotFound { reason, .. }) => reason,
            other => panic!("expected NotFound, got {other:?}"),
        }
    }

    fn read_all(file: ResolvedFile) -> String {
        let mut s = String::new();
        file.into_file().unwrap().read_to_string(&mut s).unwrap();
        s
    }

    const ON_DISK: [Access; 2] = [Access::Read, Access::Stat];

    /// Whether this process bypasses file permissions (root, or `CAP_DAC_OVERRIDE`); then the
    /// permission cases cannot be observed and are skipped.
    fn permissions_bypassed(dir: &Path) -> bool {
        let probe = dir.join("probe");
        std::fs::write(&probe, b"").unwrap();
        std::fs::set_permissions(&probe, std::fs::Permissions::from_mode(0o000)).unwrap();
        let bypassed = File::open(&probe).is_ok();
        std::fs::remove_file(&probe).unwrap();
        bypassed
    }

    #[test]
    fn open_normalises_and_validates() {
        let f = fixture();
        let messy = format!("{}//./a/..//", f.base.join("root").display());
        let root = Root::open(&messy).unwrap();
        assert_eq!(root.path(), f.base.join("root"));
        assert_eq!(root.real_path(), f.base.join("root"));
        #[cfg(target_os = "linux")]
        assert!(root.is_race_free());

        for bad in [
            PathBuf::new(),
            f.base.join("missing"),
            f.base.join("root/top.txt"),
            PathBuf::from("a\0b"),
        ] {
            let e = Root::open(&bad).unwrap_err();
            assert_eq!(e.setting, "SENDFILE_ROOT");
            assert!(!e.message.is_empty());
        }
        // `..` after a symlink names another directory than the normalised form.
        let e = Root::open(f.base.join("root/link-out/../a")).unwrap_err();
        assert!(e.message.contains(".."), "{}", e.message);
    }

    #[test]
    fn open_relative_root_against_cwd() {
        let root = Root::open(".").unwrap();
        assert!(root.path().is_absolute());
        assert_eq!(
            root.path(),
            std::path::absolute(".").unwrap().parent().map_or_else(
                || std::path::absolute(".").unwrap(),
                |_| std::env::current_dir().unwrap()
            )
        );
    }

    #[test]
    fn relative_and_absolute_inside() {
        let f = fixture();
        for access in ON_DISK {
            for req in [
                PathBuf::from("a/b/g.txt"),
                PathBuf::from("./a//b/./g.txt"),
                PathBuf::from("a/../a/b/g.txt"),
                f.base.join("root/a/b/g.txt"),
                f.base.join("root/./a/b/g.txt"),
            ] {
                let r = f.root.resolve(&req, access).unwrap();
                assert_eq!(r.relative_path(), Path::new("a/b/g.txt"), "{req:?}");
                assert_eq!(r.relative_path_bytes(), b"a/b/g.txt");
                assert_eq!(r.path(), f.base.join("root/a/b/g.txt"));
                assert_eq!(r.metadata().unwrap().len, 1);
                assert_eq!(r.file().is_some(), access == Access::Read);
            }
        }
        let r = f.root.resolve(Path::new("a/f.txt"), Access::Read).unwrap();
        assert_eq!(read_all(r), "f");
    }

    #[test]
    fn absolute_outside_and_sibling_prefix() {
        let f = fixture();
        for access in [Access::Read, Access::Stat, Access::Lexical] {
            for req in [
                f.base.join("outside/secret.txt"),
                f.base.join("root-evil/x.txt"),
                PathBuf::from("/etc/passwd"),
                PathBuf::from("//etc/passwd"),
            ] {
                assert_eq!(
                    reason(f.root.resolve(&req, access)),
                    NotFoundReason::OutsideRoot,
                    "{req:?} {access:?}"
                );
            }
        }
    }

    #[test]
    fn dot_dot_escapes() {
        let f = fixture();
        for access in [Access::Read, Access::Stat, Access::Lexical] {
            for req in [
                PathBuf::from("../outside/secret.txt"),
                PathBuf::from("a/../../outside/secret.txt"),
                PathBuf::from("a/b/../../../outside/secret.txt"),
                PathBuf::from("../root/top.txt"),
                f.base.join("root/../outside/secret.txt"),
                f.base.join("root/a/../../outside/secret.txt"),
            ] {
                assert_eq!(
                    reason(f.root.resolve(&req, access)),
                    NotFoundReason::OutsideRoot,
                    "{req:?} {access:?}"
                );
            }
        }
    }

    #[test]
    fn symlink_out_is_refused() {
        let f = fixture();
        for access in ON_DISK {
            for req in [
                "link-secret",
                "link-out/secret.txt",
                "a/../link-out/secret.txt",
                "link-in/../link-out/secret.txt",
                "link-in/../../outside/secret.txt",
            ] {
                assert_eq!(
                    reason(f.root.resolve(Path::new(req), access)),
                    NotFoundReason::OutsideRoot,
                    "{req} {access:?}"
                );
            }
        }
    }

    #[test]
    fn symlink_in_is_followed_to_its_real_location() {
        let f = fixture();
        for access in ON_DISK {
            for (req, real) in [
                ("link-in/f.txt", "a/f.txt"),
                ("link-in/b/g.txt", "a/b/g.txt"),
                ("link-in-abs", "a/f.txt"),
                ("a/link-up", "top.txt"),
                ("link-in/link-up", "top.txt"),
            ] {
                let r = f.root.resolve(Path::new(req), access).unwrap();
                assert_eq!(r.relative_path(), Path::new(real), "{req}");
                assert_eq!(r.path(), f.root.path().join(real));
            }
        }
        let r = f
            .root
            .resolve(Path::new("a/link-up"), Access::Read)
            .unwrap();
        assert_eq!(read_all(r), "top");
    }

    #[test]
    fn root_given_through_a_symlink() {
        let f = fixture();
        let link = f.base.join("root-link");
        symlink("root", &link).unwrap();
        let root = Root::open(&link).unwrap();
        assert_eq!(root.path(), link);
        assert_eq!(root.real_path(), f.base.join("root"));
        for access in [Access::Read, Access::Stat, Access::Lexical] {
            for req in [
                PathBuf::from("a/f.txt"),
                link.join("a/f.txt"),
                f.base.join("root/a/f.txt"),
            ] {
                let r = root.resolve(&req, access).unwrap();
                assert_eq!(r.relative_path(), Path::new("a/f.txt"));
                assert_eq!(
                    r.path(),
                    link.join("a/f.txt"),
                    "configured root, as written"
                );
            }
            assert_eq!(
                reason(root.resolve(Path::new("link-secret"), Access::Stat)),
                NotFoundReason::OutsideRoot
            );
        }
    }

    #[test]
    fn invalid_paths() {
        let f = fixture();
        for access in [Access::Read, Access::Stat, Access::Lexical] {
            for req in ["", "a\0b", "a/f.txt\0"] {
                assert_eq!(
                    reason(f.root.resolve(Path::new(req), access)),
                    NotFoundReason::InvalidPath
                );
            }
        }
    }

    #[test]
    fn directories_and_missing() {
        let f = fixture();
        for access in [Access::Read, Access::Stat, Access::Lexical] {
            for req in [
                PathBuf::from("."),
                PathBuf::from("a/.."),
                f.base.join("root"),
                f.base.join("root/"),
            ] {
                assert_eq!(
                    reason(f.root.resolve(&req, access)),
                    NotFoundReason::Directory,
                    "{req:?} {access:?}"
                );
            }
        }
        for access in ON_DISK {
            for req in ["a", "a/b", "link-in", "link-out"] {
                let expected = if req == "link-out" {
                    NotFoundReason::OutsideRoot
                } else {
                    NotFoundReason::Directory
                };
                assert_eq!(reason(f.root.resolve(Path::new(req), access)), expected);
            }
            for req in ["nope.txt", "a/nope/x", "top.txt/x", "link-in/nope"] {
                assert_eq!(
                    reason(f.root.resolve(Path::new(req), access)),
                    NotFoundReason::Missing,
                    "{req}"
                );
            }
        }
        // A dangling link and a link loop name nothing.
        symlink("nowhere", f.base.join("root/dangling")).unwrap();
        symlink("loop", f.base.join("root/loop")).unwrap();
        for req in ["dangling", "loop"] {
            assert_eq!(
                reason(f.root.resolve(Path::new(req), Access::Read)),
                NotFoundReason::Missing
            );
        }
    }

    #[test]
    fn fifo_and_socket_are_not_regular_files() {
        let f = fixture();
        let fifo = f.base.join("root/fifo");
        #[cfg(target_os = "linux")]
        rustix::fs::mkfifoat(
            rustix::fs::CWD,
            &fifo,
            rustix::fs::Mode::from_raw_mode(0o644),
        )
        .unwrap();
        #[cfg(not(target_os = "linux"))]
        assert!(
            std::process::Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .unwrap()
                .success()
        );
        let _socket = std::os::unix::net::UnixListener::bind(f.base.join("root/sock")).unwrap();
        symlink("fifo", f.base.join("root/link-fifo")).unwrap();
        // With no writer, a blocking open of the FIFO would hang this test.
        for access in ON_DISK {
            for req in ["fifo", "sock", "link-fifo"] {
                assert_eq!(
                    reason(f.root.resolve(Path::new(req), access)),
                    NotFoundReason::NotARegularFile,
                    "{req} {access:?}"
                );
            }
        }
    }

    /// The same root with the path-based fallback instead of `openat2`.
    fn without_openat2(root: &Root) -> Root {
        Root {
            configured: root.configured.clone(),
            real: root.real.clone(),
            identity: root.identity,
            follow_symlinks: root.follow_symlinks,
            #[cfg(target_os = "linux")]
            dir: None,
        }
    }

    #[test]
    fn refusing_symlinks_refuses_every_link_inside_the_root() {
        let f = fixture();
        std::fs::write(f.base.join("root/a/b/planted.txt"), b"p").unwrap();
        symlink("b", f.base.join("root/a/link-b")).unwrap();
        let strict = Root::open(f.base.join("root"))
            .unwrap()
            .follow_symlinks(false);
        assert!(!strict.follows_symlinks());
        let fallback = without_openat2(&strict);
        for root in [&strict, &fallback] {
            for access in [Access::Read, Access::Stat, Access::Lexical] {
                for req in [
                    "link-in/f.txt",
                    "link-in-abs",
                    "a/link-up",
                    "a/link-b/g.txt",
                    "a/link-b/../f.txt",
                    "link-out/secret.txt",
                    "link-secret",
                ] {
                    assert_eq!(
                        reason(root.resolve(Path::new(req), access)),
                        NotFoundReason::Symlink,
                        "{req} {access:?} race-free={}",
                        root.is_race_free()
                    );
                }
                // A file missing locally below a link is refused too (Lexical names it).
                if access == Access::Lexical {
                    assert_eq!(
                        reason(root.resolve(Path::new("link-in/missing.txt"), access)),
                        NotFoundReason::Symlink
                    );
                }
                // Files reached without a link are served as before.
                for req in ["top.txt", "a/f.txt", "a/b/planted.txt", "a/b/../f.txt"] {
                    let file = root.resolve(Path::new(req), access).unwrap();
                    assert!(!file.relative_path().as_os_str().is_empty(), "{req}");
                }
            }
        }
        // The default follows links that stay inside.
        let following = &f.root;
        assert!(following.follows_symlinks());
        let file = following
            .resolve(Path::new("a/link-b/g.txt"), Access::Read)
            .unwrap();
        assert_eq!(file.relative_path(), Path::new("a/b/g.txt"));
    }

    #[test]
    fn refusing_symlinks_still_serves_a_root_under_a_symlinked_directory() {
        let f = fixture();
        std::fs::create_dir_all(f.base.join("releases/42/files")).unwrap();
        std::fs::write(f.base.join("releases/42/files/report.pdf"), b"%PDF").unwrap();
        symlink("releases/42", f.base.join("current")).unwrap();
        let root = Root::open(f.base.join("current/files"))
            .unwrap()
            .follow_symlinks(false);
        for root in [&root, &without_openat2(&root)] {
            for access in [Access::Read, Access::Stat, Access::Lexical] {
                let file = root.resolve(Path::new("report.pdf"), access).unwrap();
                assert_eq!(file.path(), f.base.join("current/files/report.pdf"));
            }
        }
    }

    #[test]
    fn a_root_the_process_cannot_search_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let locked = dir.path().join("locked");
        std::fs::create_dir(&locked).unwrap();
        std::fs::write(locked.join("f.txt"), b"x").unwrap();
        // Readable and listable, but not searchable: every open below it would fail.
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o666)).unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let outcome = if rustix::process::geteuid().is_root() {
            // root may search anything: ask an unprivileged process.
            match as_nobody("open-root", &locked) {
                Some(outcome) => outcome,
                None if std::env::var("CI").as_deref() == Ok("true") => {
                    panic!("CI=true: cannot run a process as another user to test this")
                }
                None => {
                    #[allow(clippy::print_stderr)]
                    {
                        eprintln!("skipped: cannot run a process as another user here");
                    }
                    return;
                }
            }
        } else {
            match Root::open(&locked) {
                Ok(_) => "ok".to_owned(),
                Err(e) => e.to_string(),
            }
        };
        assert!(
            outcome.contains("SENDFILE_ROOT") && outcome.contains("search (x) permission"),
            "{outcome}"
        );
    }

    /// Runs `Root::open(path)` in this test binary as the user `nobody`; the child prints the
    /// outcome. `None` when the child cannot be started as another user.
    fn as_nobody(what: &str, path: &Path) -> Option<String> {
        use std::os::unix::process::CommandExt;
        let exe = std::env::current_exe().ok()?;
        let out = std::process::Command::new(exe)
            .args(["--exact", "confine::tests::child_process", "--nocapture"])
            .env("SENDFILE_TEST_CHILD", what)
            .env("SENDFILE_TEST_PATH", path)
            .uid(65534)
            .gid(65534)
            .output()
            .ok()?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        let line = stdout.lines().find_map(|l| l.strip_prefix("outcome: "))?;
        Some(line.to_owned())
    }

    /// The child side of [`as_nobody`]; does nothing in a normal run.
    #[test]
    fn child_process() {
        let (Some(what), Some(path)) = (
            std::env::var_os("SENDFILE_TEST_CHILD"),
            std::env::var_os("SENDFILE_TEST_PATH"),
        ) else {
            return;
        };
        assert_eq!(what, "open-root");
        let outcome = match Root::open(PathBuf::from(path)) {
            Ok(_) => "ok".to_owned(),
            Err(e) => e.to_string(),
        };
        #[allow(clippy::print_stdout)]
        {
            println!("outcome: {outcome}");
        }
    }

    #[test]
    fn lexical_never_names_a_magic_link() {
        // `/proc/self/fd/N` means one thing here and another in the front server's process:
        // the name must not carry it. N is the root's own descriptor, predictable to an
        // attacker who can plant a link.
        let f = fixture();
        let Some(fd) = std::fs::read_dir("/proc/self/fd")
            .unwrap()
            .flatten()
            .find(|e| std::fs::read_link(e.path()).ok().as_deref() == Some(f.root.real_path()))
            .map(|e| e.file_name())
        else {
            panic!("the root's descriptor is not in /proc/self/fd");
        };
        symlink(
            Path::new("/proc/self/fd").join(fd),
            f.base.join("root/fdlink"),
        )
        .unwrap();
        let r = f
            .root
            .resolve(Path::new("fdlink/etc/hostname"), Access::Lexical)
            .unwrap();
        // Named by what it resolved to here (the root): no link left for the front server.
        assert_eq!(r.relative_path(), Path::new("etc/hostname"));
        assert_eq!(r.path(), f.root.path().join("etc/hostname"));
        // A magic link to elsewhere is outside the root.
        symlink("/proc/self/root", f.base.join("root/rootlink")).unwrap();
        assert_eq!(
            reason(
                f.root
                    .resolve(Path::new("rootlink/etc/hostname"), Access::Lexical)
            ),
            NotFoundReason::OutsideRoot
        );
    }

    #[test]
    fn system_directories_are_refused_as_a_root() {
        for system in [
            "/",
            "/proc",
            "/proc/self",
            "/sys",
            "/dev",
            "/dev/shm",
            "/proc/../dev",
        ] {
            if std::fs::metadata(system).is_err() {
                continue;
            }
            let err = Root::open(system).unwrap_err();
            assert_eq!(err.setting, SETTING, "{system}");
            assert!(
                err.message.contains("filesystem") && err.message.contains("set it to"),
                "{system}: {err}"
            );
        }
        // Also through a symlink that leads there.
        let f = fixture();
        symlink("/proc/self", f.base.join("proc-link")).unwrap();
        assert!(Root::open(f.base.join("proc-link")).is_err());
        // A directory merely named like one is fine.
        std::fs::create_dir(f.base.join("proc")).unwrap();
        Root::open(f.base.join("proc")).unwrap();
    }

    #[test]
    fn permissions() {
        let f = fixture();
        let r = f.base.join("root");
        std::fs::write(r.join("locked.txt"), b"x").unwrap();
        std::fs::set_permissions(r.join("locked.txt"), std::fs::Permissions::from_mode(0o000))
            .unwrap();
        std::fs::create_dir(r.join("closed")).unwrap();
        std::fs::write(r.join("closed/in.txt"), b"x").unwrap();
        std::fs::set_permissions(r.join("closed"), std::fs::Permissions::from_mode(0o000)).unwrap();
        // Root (and `CAP_DAC_OVERRIDE`) bypasses permissions: nothing to observe then, and
        // Stat on the unreadable file succeeds trivially.
        let bypassed = permissions_bypassed(&f.base);
        let stat = f
            .root
            .resolve(Path::new("locked.txt"), Access::Stat)
            .unwrap();
        assert_eq!(stat.metadata().unwrap().len, 1);
        assert!(stat.file().is_none());
        if !bypassed {
            assert_eq!(
                reason(f.root.resolve(Path::new("locked.txt"), Access::Read)),
                NotFoundReason::AccessDenied
            );
            for access in ON_DISK {
                assert_eq!(
                    reason(f.root.resolve(Path::new("closed/in.txt"), access)),
                    NotFoundReason::AccessDenied
                );
            }
        }
        std::fs::set_permissions(r.join("closed"), std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    #[test]
    fn lexical_requires_nothing_but_refuses_links_out() {
        let f = fixture();
        let lex = |p: &str| f.root.resolve(Path::new(p), Access::Lexical);
        let r = lex("a/./b/../missing.txt").unwrap();
        assert_eq!(r.relative_path(), Path::new("a/missing.txt"));
        assert_eq!(r.path(), f.root.path().join("a/missing.txt"));
        assert!(r.metadata().is_none() && r.file().is_none());
        // What exists locally is checked: links that stay inside are named by their real
        // location, as a permission check must see them...
        assert_eq!(
            lex("link-in/not-here-yet.txt").unwrap().relative_path(),
            Path::new("a/not-here-yet.txt")
        );
        assert_eq!(
            lex("link-in/b/deeper/x.txt").unwrap().relative_path(),
            Path::new("a/b/deeper/x.txt")
        );
        // A file that exists is confined as with Stat, and named by its real location.
        let r = lex("link-in-abs").unwrap();
        assert_eq!(r.relative_path(), Path::new("a/f.txt"));
        assert!(r.metadata().is_some() && r.file().is_none());
        // ...and links that lead out are refused, even below a missing part.
        for out in [
            "link-secret",
            "link-out/secret.txt",
            "link-out/missing/x.txt",
        ] {
            assert_eq!(reason(lex(out)), NotFoundReason::OutsideRoot, "{out}");
        }
        let abs = f.base.join("root/x/../y.bin");
        let r = f.root.resolve(&abs, Access::Lexical).unwrap();
        assert_eq!(r.relative_path_bytes(), b"y.bin");
        assert_eq!(reason(lex("..")), NotFoundReason::OutsideRoot);
        assert_eq!(reason(lex("a/../..")), NotFoundReason::OutsideRoot);
        assert_eq!(reason(lex("a/..")), NotFoundReason::Directory);
        assert_eq!(reason(lex("./")), NotFoundReason::Directory);
    }

    #[test]
    fn portable_fallback_agrees() {
        let f = fixture();
        let real = f.root.real_path();
        let ok = portable::resolve(
            real,
            Path::new("link-in/link-up"),
            Access::Read,
            Path::new(""),
        )
        .unwrap();
        assert_eq!(ok.relative, Path::new("top.txt"));
        assert!(ok.file.is_some());
        for (req, expected) in [
            ("link-secret", NotFoundReason::OutsideRoot),
            ("../outside/secret.txt", NotFoundReason::OutsideRoot),
            ("a", NotFoundReason::Directory),
            ("nope", NotFoundReason::Missing),
        ] {
            for access in ON_DISK {
                assert_eq!(
                    reason(
                        portable::resolve(real, Path::new(req), access, Path::new(req))
                            .map(|found| f.root.finish(found))
                    ),
                    expected
                );
            }
        }
    }

    mod props {
        use super::*;
        use proptest::prelude::*;
        use proptest::test_runner::{Config, TestRunner};
        use std::cell::Cell;
        use std::os::unix::fs::MetadataExt;

        fn segment() -> impl Strategy<Value = &'static str> {
            prop::sample::select(vec![
                "a",
                "b",
                "..",
                ".",
                "",
                "link-out",
                "link-in",
                "link-in-abs",
                "link-secret",
                "link-up",
                "f.txt",
                "g.txt",
                "top.txt",
                "secret.txt",
                "outside",
                "root",
                "root-evil",
                "x\0y",
            ])
        }

        /// Any successful resolution names a regular file whose canonical path lies below the
        /// canonical root, at exactly the relative path reported.
        #[test]
        fn success_is_always_confined() {
            let f = fixture();
            let real_root = f.root.real_path().to_path_buf();
            let prefixes = [
                String::new(),
                format!("{}/", f.base.join("root").display()),
                format!("{}/", f.base.display()),
                format!("{}/", f.base.join("outside").display()),
                "/".to_owned(),
                format!("{}/", f.base.join("root-evil").display()),
            ];
            let strategy = (
                prop::sample::select(prefixes.to_vec()),
                prop::collection::vec(segment(), 1..7),
                any::<bool>(),
            );
            // The same property holds for the path-based fallback.
            let portable = Root {
                configured: f.root.configured.clone(),
                real: f.root.real.clone(),
                identity: f.root.identity,
                follow_symlinks: true,
                #[cfg(target_os = "linux")]
                dir: None,
            };
            let roots = [&f.root, &portable];
            let (on_disk_ok, lexical_ok) = (Cell::new(0u32), Cell::new(0u32));
            let mut runner = TestRunner::new(Config::with_cases(4000));
            runner
                .run(&strategy, |(prefix, segments, read)| {
                    let requested = format!("{prefix}{}", segments.join("/"));
                    let access = if read { Access::Read } else { Access::Stat };
                    // When both succeed they name the same file. (They may disagree on
                    // refusals: `openat2` refuses `../root/x`, which canonicalises back inside.)
                    let both = roots.map(|root| {
                        root.resolve(Path::new(&requested), access)
                            .map(|r| r.relative_path().to_path_buf())
                    });
                    if let [Ok(a), Ok(b)] = &both {
                        prop_assert_eq!(a, b);
                    }
                    for root in roots {
                        let Ok(r) = root.resolve(Path::new(&requested), access) else {
                            continue;
                        };
                        on_disk_ok.set(on_disk_ok.get() + 1);
                        let canonical = r.path().canonicalize().unwrap();
                        prop_assert!(canonical.starts_with(&real_root), "{requested:?}");
                        prop_assert_eq!(&canonical, &real_root.join(r.relative_path()));
                        prop_assert!(!r.relative_path().as_os_str().is_empty());
                        prop_assert!(
                            r.relative_path()
                                .components()
                                .all(|c| matches!(c, Component::Normal(_)))
                        );
                        let on_disk = std::fs::metadata(&canonical).unwrap();
                        prop_assert!(on_disk.is_file());
                        let meta = r.metadata().unwrap();
                        prop_assert_eq!((meta.dev, meta.ino), (on_disk.dev(), on_disk.ino()));
                        prop_assert_eq!(r.file().is_some(), read);
                    }
                    if let Ok(r) = f.root.resolve(Path::new(&requested), Access::Lexical) {
                        lexical_ok.set(lexical_ok.get() + 1);
                        prop_assert!(r.path().starts_with(f.root.path()));
                        prop_assert!(
                            r.relative_path()
                                .components()
                                .all(|c| matches!(c, Component::Normal(_)))
                        );
                    }
                    Ok(())
                })
                .unwrap();
            // The strategy reaches the success paths, not only refusals.
            assert!(
                on_disk_ok.get() > 20,
                "{} on-disk successes",
                on_disk_ok.get()
            );
            assert!(
                lexical_ok.get() > 20,
                "{} lexical successes",
                lexical_ok.get()
            );
        }
    }
}
