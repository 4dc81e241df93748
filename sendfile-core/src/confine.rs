//! Confinement to the root: resolving a requested path to a regular file inside it.
//!
//! OWNER: confinement helper. Interface fixed; bodies to be written.

use std::fs::File;
use std::path::{Path, PathBuf};

use crate::error::{ConfigError, Error};
use crate::meta::FileMeta;

/// How much of the filesystem a resolution may touch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Access {
    /// Open the file for reading (in-process backends).
    Read,
    /// Check that the file exists and is a regular file, and read its metadata, without needing
    /// read permission (offload backends with `check_file_exists`).
    Stat,
    /// Touch nothing: normalise the path lexically and check it stays below the root
    /// (offload backends with `check_file_exists = false`).
    Lexical,
}

/// The root directory all files are served from, opened once.
#[derive(Debug)]
pub struct Root {
    configured: PathBuf,
    real: PathBuf,
}

impl Root {
    /// Opens the root. `path` should be absolute; a relative one is made absolute against the
    /// current directory. Errors name `SENDFILE_ROOT`.
    pub fn open(path: impl AsRef<Path>) -> Result<Root, ConfigError> {
        let _ = path;
        todo!()
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

    /// Resolves `requested` (relative to the root, or absolute inside it).
    pub fn resolve(&self, requested: &Path, access: Access) -> Result<ResolvedFile, Error> {
        let _ = (requested, access);
        todo!()
    }
}

/// A file that passed confinement.
#[derive(Debug)]
pub struct ResolvedFile {
    relative: PathBuf,
    path: PathBuf,
    file: Option<File>,
    meta: Option<FileMeta>,
}

impl ResolvedFile {
    /// The file's real location relative to the real root: only normal components, never
    /// empty, never absolute.
    pub fn relative_path(&self) -> &Path {
        &self.relative
    }

    /// The bytes of [`relative_path`](Self::relative_path) (`/`-separated).
    pub fn relative_path_bytes(&self) -> &[u8] {
        todo!()
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
