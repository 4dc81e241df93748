//! A file that passed confinement, in the one shape its resolution left it.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use crate::meta::FileMeta;

/// What resolution found of a file, by how much of the filesystem it touched.
#[derive(Debug)]
#[non_exhaustive]
pub enum FileState {
    /// Opened for reading ([`Access::Read`](super::Access::Read)): the very descriptor that
    /// was checked, and its metadata.
    Open(OpenFile),
    /// Checked to be a regular file, and stat'ed ([`Access::Stat`](super::Access::Stat), or
    /// [`Access::Lexical`](super::Access::Lexical) with the file present).
    Stat(FileMeta),
    /// Confined lexically; the file is missing locally
    /// ([`Access::Lexical`](super::Access::Lexical)).
    Lexical,
    /// An object in a bucket: a key below the store's prefix. The store is never asked.
    Object,
}

/// A file opened for reading, with the metadata of that descriptor.
#[derive(Debug)]
pub struct OpenFile {
    file: File,
    meta: FileMeta,
}

impl OpenFile {
    pub(crate) fn new(file: File, meta: FileMeta) -> Self {
        OpenFile { file, meta }
    }

    /// The open file.
    pub fn file(&self) -> &File {
        &self.file
    }

    /// Its metadata, read from the descriptor.
    pub fn metadata(&self) -> &FileMeta {
        &self.meta
    }

    /// The file and its metadata.
    pub fn into_parts(self) -> (File, FileMeta) {
        (self.file, self.meta)
    }
}

/// A file that passed confinement.
#[derive(Debug)]
pub struct ResolvedFile {
    relative: PathBuf,
    /// The root as configured, for a file below a root; `None` for an object.
    root: Option<Arc<Path>>,
    /// The absolute path (or an object's full key), built when first asked for.
    path: OnceLock<PathBuf>,
    state: FileState,
    #[cfg(not(unix))]
    relative_bytes: Vec<u8>,
}

impl ResolvedFile {
    /// A file at `relative` below the root configured at `root`.
    pub(super) fn below_root(relative: PathBuf, root: Arc<Path>, state: FileState) -> Self {
        ResolvedFile {
            #[cfg(not(unix))]
            relative_bytes: relative.to_string_lossy().replace('\\', "/").into_bytes(),
            relative,
            root: Some(root),
            path: OnceLock::new(),
            state,
        }
    }

    /// An object: `relative` is its key below the store's prefix, `key` its full key.
    pub(crate) fn object(relative: PathBuf, key: PathBuf) -> ResolvedFile {
        ResolvedFile {
            #[cfg(not(unix))]
            relative_bytes: relative.to_string_lossy().replace('\\', "/").into_bytes(),
            relative,
            root: None,
            path: OnceLock::from(key),
            state: FileState::Object,
        }
    }

    /// The file's real location relative to the real root: only normal components, never
    /// empty, never absolute.
    ///
    /// With [`Access::Lexical`](super::Access::Lexical) and a file missing locally, it is the
    /// lexically normalised request.
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

    /// The last component of [`relative_path`](Self::relative_path), as text (lossy where it
    /// is not UTF-8).
    pub(crate) fn file_name(&self) -> Option<std::borrow::Cow<'_, str>> {
        #[cfg(unix)]
        {
            let bytes = self.relative_path_bytes();
            let name = bytes
                .rsplit(|&b| b == b'/')
                .next()
                .filter(|n| !n.is_empty())?;
            // Checked first: UTF-8 validation is much cheaper than the lossy decoding.
            Some(match std::str::from_utf8(name) {
                Ok(name) => std::borrow::Cow::Borrowed(name),
                Err(_) => String::from_utf8_lossy(name),
            })
        }
        #[cfg(not(unix))]
        {
            self.relative.file_name().map(|n| n.to_string_lossy())
        }
    }

    /// The absolute path: the root as configured joined with the relative path (for an
    /// object, its full key).
    pub fn path(&self) -> &Path {
        self.path.get_or_init(|| match &self.root {
            Some(root) => root.join(&self.relative),
            None => self.relative.clone(),
        })
    }

    /// The root as configured, for a file below a root (`None` for an object).
    pub fn root(&self) -> Option<&Path> {
        self.root.as_deref()
    }

    /// What resolution found; see [`FileState`].
    pub fn state(&self) -> &FileState {
        &self.state
    }

    /// Takes what resolution found out.
    pub fn into_state(self) -> FileState {
        self.state
    }

    /// The metadata, when the file was opened or stat'ed.
    pub fn metadata(&self) -> Option<&FileMeta> {
        match &self.state {
            FileState::Open(open) => Some(open.metadata()),
            FileState::Stat(meta) => Some(meta),
            FileState::Lexical | FileState::Object => None,
        }
    }

    /// The open file, when resolved with [`Access::Read`](super::Access::Read).
    pub fn file(&self) -> Option<&File> {
        match &self.state {
            FileState::Open(open) => Some(open.file()),
            _ => None,
        }
    }

    /// The opened file, when resolved with [`Access::Read`](super::Access::Read); otherwise
    /// the resolved file back.
    pub fn into_open(self) -> Result<OpenFile, ResolvedFile> {
        match self.state {
            FileState::Open(open) => Ok(open),
            state => Err(ResolvedFile { state, ..self }),
        }
    }

    /// Takes the open file out, when resolved with [`Access::Read`](super::Access::Read).
    pub fn into_file(self) -> Option<File> {
        match self.state {
            FileState::Open(open) => Some(open.file),
            _ => None,
        }
    }
}
