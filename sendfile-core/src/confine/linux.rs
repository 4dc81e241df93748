//! Race-free confinement on Linux: `openat2(2)` below the root descriptor, with
//! `RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS`.

use std::fs::File;
use std::path::{Path, PathBuf};

use super::{Found, Keep, SETTING, canonical_below, check_type, map_io_error, normalise_relative};
use crate::error::{ConfigError, Error, NotFoundReason};
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
    match openat2(&dir, Path::new("."), false, true) {
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
    read: bool,
    no_symlinks: bool,
) -> rustix::io::Result<OwnedFd> {
    let oflags = if read {
        OFlags::RDONLY | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC
    } else {
        OFlags::PATH | OFlags::CLOEXEC
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
        Errno::NOENT | Errno::NOTDIR | Errno::NAMETOOLONG | Errno::LOOP => NotFoundReason::Missing,
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
pub(super) fn resolve<K: Keep>(
    dir: &OwnedFd,
    real_root: &Path,
    below: &Path,
    follow_symlinks: bool,
    requested: &Path,
) -> Result<Result<Found<K::Out>, Error>, Unsupported> {
    // 1. No symlink on the way: the lexical form is the real location.
    let (fd, relative) = match openat2(dir, below, K::READ, true) {
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
            match openat2(dir, &relative, K::READ, true) {
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
    Ok(finish_open::<K>(fd, relative, requested))
}

/// Checks the opened descriptor's type and reads its metadata.
fn finish_open<K: Keep>(
    fd: OwnedFd,
    relative: PathBuf,
    requested: &Path,
) -> Result<Found<K::Out>, Error> {
    let file = File::from(fd);
    // `statx` on the descriptor: works on `O_PATH` descriptors too.
    let meta = file.metadata().map_err(Error::Io)?;
    check_type(&meta, requested)?;
    Ok(Found {
        relative,
        kept: K::from_open(file, &meta)?,
    })
}
