//! Lexical confinement, for names only the front server has: `..` pops, never above the
//! root, and what exists of the path locally must not lead out of it.

use std::path::{Component, Path, PathBuf};

use super::{Root, map_io_error};
use crate::error::{Error, NotFoundReason};

impl Root {
    /// For [`Access::Lexical`] and a file missing locally: the location to name, with the
    /// symlinks of the part of `relative` that exists locally resolved.
    ///
    /// That part must not lead out of the real root (through a symlink the front server would
    /// follow), and it is named by its real location, like a file that exists: a permission
    /// check sees `users/alice/new.pdf` for `public/to-alice/new.pdf`, and no link is left in
    /// the name for the front server to follow (a magic link such as `/proc/self/fd/N` would
    /// lead elsewhere in the front server's process than in this one).
    pub(super) fn real_location_of_missing(
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
}

/// Normalises a path below the root lexically: `.` dropped, `..` pops, and climbing above the
/// root is refused. The root itself is a directory.
pub(super) fn normalise_relative(below: &Path) -> Result<PathBuf, NotFoundReason> {
    // The usual request is already normal: copied at once, not rebuilt component by component
    // (growing the buffer as it goes).
    if is_normal_relative(below) {
        return Ok(below.to_path_buf());
    }
    let mut out = PathBuf::with_capacity(below.as_os_str().len());
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

/// Whether `path` is what [`normalise_relative`] makes of it: normal components joined by
/// single `/`, no `.` or `..`, no leading or trailing `/`.
#[cfg(unix)]
fn is_normal_relative(path: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let bytes = path.as_os_str().as_bytes();
    !bytes.is_empty()
        && bytes
            .split(|&b| b == b'/')
            .all(|name| !name.is_empty() && name != b"." && name != b"..")
}

/// Whether `path` is what [`normalise_relative`] makes of it (never assumed off Unix).
#[cfg(not(unix))]
fn is_normal_relative(_: &Path) -> bool {
    false
}

/// With symlinks refused: no component of `below`, walked from the root as written (`..` pops
/// what came before, as the kernel does when no link is crossed), may be a symlink. Path checks,
/// for the fallback and for files missing locally; a missing component does not stop the walk,
/// since a `..` after it could lead back into an existing link.
pub(super) fn refuse_links_on(
    real_root: &Path,
    below: &Path,
    requested: &Path,
) -> Result<(), Error> {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The usual path is copied as it is (the fast path); every other form is rebuilt from its
    /// components, and both give the same as before.
    #[test]
    fn normal_paths_are_copied_and_the_others_rebuilt() {
        use NotFoundReason::{Directory, OutsideRoot};
        let cases: [(&str, bool, Result<&str, NotFoundReason>); 16] = [
            ("a", true, Ok("a")),
            ("a/b/c.pdf", true, Ok("a/b/c.pdf")),
            ("...", true, Ok("...")),
            ("a/.b/..c/c..", true, Ok("a/.b/..c/c..")),
            ("a//b", false, Ok("a/b")),
            ("a/", false, Ok("a")),
            ("./a", false, Ok("a")),
            ("a/./b", false, Ok("a/b")),
            ("a/../b", false, Ok("b")),
            ("a/b/..", false, Ok("a")),
            ("a/..", false, Err(Directory)),
            (".", false, Err(Directory)),
            ("./", false, Err(Directory)),
            ("..", false, Err(OutsideRoot)),
            ("a/../..", false, Err(OutsideRoot)),
            ("/a", false, Err(OutsideRoot)),
        ];
        for (input, normal, expected) in cases {
            let path = Path::new(input);
            if cfg!(unix) {
                assert_eq!(is_normal_relative(path), normal, "{input:?}");
            }
            assert_eq!(
                normalise_relative(path),
                expected.map(PathBuf::from),
                "{input:?}"
            );
        }
    }
}
