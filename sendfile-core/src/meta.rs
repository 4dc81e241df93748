//! What the HTTP engine needs to know about a file.

use std::time::SystemTime;

/// The metadata of a resolved regular file: size, modification time and identity.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FileMeta {
    /// Size in bytes.
    pub len: u64,
    /// Last modification time, when the filesystem reports one.
    pub modified: Option<SystemTime>,
    /// Inode number (0 where unknown).
    pub ino: u64,
}

impl FileMeta {
    /// Metadata from its parts (to drive the [`engine`](crate::engine) without a file).
    ///
    /// ```
    /// let meta = sendfile_core::FileMeta::new(10, None, 7);
    /// assert_eq!((meta.len, meta.ino), (10, 7));
    /// ```
    pub fn new(len: u64, modified: Option<SystemTime>, ino: u64) -> Self {
        FileMeta { len, modified, ino }
    }

    /// Reads the fields from standard library metadata.
    pub fn from_std(meta: &std::fs::Metadata) -> Self {
        let (_, ino) = dev_ino(meta);
        FileMeta {
            len: meta.len(),
            modified: meta.modified().ok(),
            ino,
        }
    }

    /// The strong entity tag of this version of the file, quotes included:
    /// `"<size>-<mtime seconds>.<mtime nanoseconds>"` in hexadecimal.
    ///
    /// It changes whenever the file is resized or written (its modification time, to the
    /// nanosecond where the file system keeps it). It does not depend on where the file lies:
    /// the same file on a replica, or restored with its times (`cp -a`, `rsync -t`, `tar`), has
    /// the same tag, so a download resumed on another machine goes on; and it discloses no
    /// inode number (CVE-2003-1418). Like nginx's and Apache's `FileETag MTime Size`, a file
    /// replaced by one of the same size with the very same modification time keeps its tag.
    pub fn etag(&self) -> String {
        let (secs, nanos) = self
            .modified
            .and_then(|m| m.duration_since(SystemTime::UNIX_EPOCH).ok())
            .map_or((0, 0), |d| (d.as_secs(), d.subsec_nanos()));
        format!("\"{:x}-{:x}.{:x}\"", self.len, secs, nanos)
    }
}

/// The device and inode numbers of a file (0, 0 where unknown).
pub(crate) fn dev_ino(meta: &std::fs::Metadata) -> (u64, u64) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        (meta.dev(), meta.ino())
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        (0, 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn meta(len: u64, secs: u64, ino: u64) -> FileMeta {
        FileMeta {
            len,
            modified: Some(SystemTime::UNIX_EPOCH + Duration::from_secs(secs)),
            ino,
        }
    }

    #[test]
    fn etag_is_strong_quoted_and_changes_with_each_field() {
        let base = meta(10, 100, 7).etag();
        assert!(base.starts_with('"') && base.ends_with('"') && !base.starts_with("W/"));
        assert_ne!(base, meta(11, 100, 7).etag());
        assert_ne!(base, meta(10, 101, 7).etag());
        assert_eq!(base, meta(10, 100, 7).etag());
    }

    #[test]
    fn etag_does_not_depend_on_the_inode() {
        assert_eq!(meta(10, 100, 7).etag(), meta(10, 100, 8).etag());
        assert!(!meta(10, 100, 0x98e029).etag().contains("98e029"));
    }

    /// The same file copied with its times to another root (another inode) has the same tag.
    #[test]
    fn a_copy_with_its_times_has_the_same_etag() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        let original = a.path().join("f.bin");
        std::fs::write(&original, b"same bytes").unwrap();
        let copy = b.path().join("f.bin");
        std::fs::copy(&original, &copy).unwrap();
        let modified = std::fs::metadata(&original).unwrap().modified().unwrap();
        std::fs::File::options()
            .write(true)
            .open(&copy)
            .unwrap()
            .set_modified(modified)
            .unwrap();
        let (ma, mb) = (
            FileMeta::from_std(&std::fs::metadata(&original).unwrap()),
            FileMeta::from_std(&std::fs::metadata(&copy).unwrap()),
        );
        assert_ne!(ma.ino, mb.ino);
        assert_eq!(ma.etag(), mb.etag());
    }
}
