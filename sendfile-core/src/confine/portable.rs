//! Path-based confinement: canonicalise, check containment by components, then open. Not
//! race-free; used where `openat2` is not available.

use std::fs::File;
use std::path::Path;

use super::{Found, Keep, canonical_below, check_type, map_io_error};
use crate::error::Error;

pub(super) fn resolve<K: Keep>(
    real_root: &Path,
    below: &Path,
    requested: &Path,
) -> Result<Found<K::Out>, Error> {
    let canonical =
        std::fs::canonicalize(real_root.join(below)).map_err(|e| map_io_error(e, requested))?;
    let relative = canonical_below(&canonical, real_root, requested)?;
    let kept = K::by_path(&canonical, requested)?;
    Ok(Found { relative, kept })
}

/// Opens a regular file for reading; the open never blocks on a FIFO.
#[cfg(target_os = "linux")]
pub(super) fn open_regular(
    path: &Path,
    requested: &Path,
) -> Result<(File, std::fs::Metadata), Error> {
    use rustix::fs::{Mode, OFlags};
    let fd = rustix::fs::open(
        path,
        OFlags::RDONLY | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| super::linux::map_errno(e, requested))?;
    let file = File::from(fd);
    let meta = file.metadata().map_err(Error::Io)?;
    check_type(&meta, requested)?;
    rustix::fs::fcntl_setfl(&file, OFlags::empty()).map_err(|e| Error::Io(e.into()))?;
    Ok((file, meta))
}

/// Opens a regular file for reading, checking its type first so that a FIFO is not opened
/// (unless swapped in between).
#[cfg(not(target_os = "linux"))]
pub(super) fn open_regular(
    path: &Path,
    requested: &Path,
) -> Result<(File, std::fs::Metadata), Error> {
    let before = std::fs::metadata(path).map_err(|e| map_io_error(e, requested))?;
    check_type(&before, requested)?;
    let file = File::open(path).map_err(|e| map_io_error(e, requested))?;
    let meta = file.metadata().map_err(Error::Io)?;
    check_type(&meta, requested)?;
    Ok((file, meta))
}
