//! The doctor's probe files, written below the root without following any symlink.
//!
//! Anyone who can write below the root may plant a symlink where the doctor writes: at its
//! directory (`<root>/.sendfile-doctor -> /etc`) or at one of its files
//! (`<root>/.sendfile-doctor/probe.txt -> /etc/passwd`). Every step therefore goes through a
//! directory descriptor, never a path:
//!
//! - the root is opened and checked to be the directory the configuration opened;
//! - the probes' directory is created with `mkdirat` and opened with `O_NOFOLLOW |
//!   O_DIRECTORY`: a symlink there is refused, as is a directory owned by another user or
//!   writable by everyone;
//! - a probe is read with `O_NOFOLLOW` and accepted only when it is a regular file this user
//!   owns with a single link; it is replaced by a new file (`O_CREAT | O_EXCL`) renamed over
//!   it, so an existing file's bytes are never written to and a symlink swapped in meanwhile is
//!   replaced, not followed;
//! - the doctor's own symlink (`link -> .`) is accepted only as exactly that.
//!
//! Whatever the doctor did not make is refused with an error naming it, and left untouched.

use std::io;

use crate::confine::Root;

/// Why the doctor refuses to write at `what` (a path below the root), and the fix.
fn refused(root: &Root, what: &str, why: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::PermissionDenied,
        format!(
            "{}/{what} {why}, which the doctor did not make: it writes nothing there; remove {}/{} and the doctor makes it again",
            root.path().display(),
            root.path().display(),
            crate::doctor::PROBE_DIR
        ),
    )
}

#[cfg(target_os = "linux")]
pub(crate) use linux::ProbeDir;

#[cfg(target_os = "linux")]
mod linux {
    use std::fs::File;
    use std::io::{self, Read as _, Write as _};
    use std::os::fd::OwnedFd;
    use std::sync::atomic::{AtomicU64, Ordering};

    use rustix::fs::{self as rfs, AtFlags, FileType, Mode, OFlags, Stat};
    use rustix::io::Errno;

    use super::refused;
    use crate::confine::Root;

    /// A distinct name for each temporary file of this process.
    static TEMPORARY: AtomicU64 = AtomicU64::new(0);

    /// The probes' directory, opened below the root without following a symlink.
    #[derive(Debug)]
    pub(crate) struct ProbeDir<'a> {
        root: &'a Root,
        name: &'a str,
        fd: OwnedFd,
        uid: u32,
    }

    impl<'a> ProbeDir<'a> {
        /// Opens the directory `name` of `root`, creating it when missing.
        pub(crate) fn open(root: &'a Root, name: &'a str) -> io::Result<ProbeDir<'a>> {
            let root_fd = rfs::open(
                root.real_path(),
                OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
                Mode::empty(),
            )?;
            let st = rfs::fstat(&root_fd)?;
            if (st.st_dev, st.st_ino) != root.identity() {
                return Err(io::Error::other(format!(
                    "{} is no longer the directory opened at start-up; the doctor writes nothing",
                    root.path().display()
                )));
            }
            match rfs::mkdirat(&root_fd, name, Mode::from_raw_mode(0o755)) {
                Ok(()) | Err(Errno::EXIST) => {}
                Err(e) => return Err(e.into()),
            }
            let fd = rfs::openat(
                &root_fd,
                name,
                OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::empty(),
            )
            .map_err(|e| match e {
                Errno::LOOP | Errno::NOTDIR => {
                    let symlink = rfs::statat(&root_fd, name, AtFlags::SYMLINK_NOFOLLOW)
                        .is_ok_and(|st| FileType::from_raw_mode(st.st_mode) == FileType::Symlink);
                    refused(
                        root,
                        name,
                        if symlink {
                            "is a symlink"
                        } else {
                            "is not a directory"
                        },
                    )
                }
                e => e.into(),
            })?;
            let st = rfs::fstat(&fd)?;
            let uid = rustix::process::geteuid().as_raw();
            if st.st_uid != uid {
                return Err(refused(root, name, "belongs to another user"));
            }
            if st.st_mode & 0o002 != 0 {
                return Err(refused(root, name, "is writable by everyone"));
            }
            Ok(ProbeDir {
                root,
                name,
                fd,
                uid,
            })
        }

        fn refused(&self, file: &str, why: &str) -> io::Error {
            refused(self.root, &format!("{}/{file}", self.name), why)
        }

        /// Makes `file` hold exactly `content`: left alone when it does, replaced otherwise.
        pub(crate) fn write(&self, file: &str, content: &[u8]) -> io::Result<()> {
            match rfs::openat(
                &self.fd,
                file,
                OFlags::RDONLY
                    | OFlags::NOFOLLOW
                    | OFlags::NONBLOCK
                    | OFlags::NOCTTY
                    | OFlags::CLOEXEC,
                Mode::empty(),
            ) {
                Ok(fd) => {
                    self.check_own(file, &rfs::fstat(&fd)?, FileType::RegularFile)?;
                    let mut current = Vec::with_capacity(content.len() + 1);
                    File::from(fd)
                        .take(content.len() as u64 + 1)
                        .read_to_end(&mut current)?;
                    if current == content {
                        return Ok(());
                    }
                }
                Err(Errno::NOENT) => {}
                Err(Errno::LOOP) => return Err(self.refused(file, "is a symlink")),
                Err(e) => return Err(e.into()),
            }
            let temporary = format!(
                ".{}.{}.tmp",
                std::process::id(),
                TEMPORARY.fetch_add(1, Ordering::Relaxed)
            );
            let fd = rfs::openat(
                &self.fd,
                &temporary,
                OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::from_raw_mode(0o644),
            )?;
            let written = File::from(fd).write_all(content);
            let renamed = written.and_then(|()| {
                rfs::renameat(&self.fd, &temporary, &self.fd, file).map_err(io::Error::from)
            });
            if renamed.is_err() {
                let _ = rfs::unlinkat(&self.fd, &temporary, AtFlags::empty());
            }
            renamed
        }

        /// Makes `link` a symlink to `.` (a path through it stays in the directory). False
        /// when the file system cannot hold symlinks.
        pub(crate) fn link_to_itself(&self, link: &str) -> io::Result<bool> {
            for _ in 0..2 {
                match rfs::statat(&self.fd, link, AtFlags::SYMLINK_NOFOLLOW) {
                    Ok(st) => {
                        self.check_own(link, &st, FileType::Symlink)?;
                        let target = rfs::readlinkat(&self.fd, link, Vec::new())?;
                        return if target.as_bytes() == b"." {
                            Ok(true)
                        } else {
                            Err(self.refused(link, "leads somewhere else"))
                        };
                    }
                    Err(Errno::NOENT) => match rfs::symlinkat(".", &self.fd, link) {
                        Ok(()) => return Ok(true),
                        // Made meanwhile by another request: check it.
                        Err(Errno::EXIST) => {}
                        Err(_) => return Ok(false),
                    },
                    Err(e) => return Err(e.into()),
                }
            }
            Err(self.refused(link, "keeps changing"))
        }

        /// Accepts only what the doctor makes: this user's, of the expected type, one link.
        fn check_own(&self, file: &str, st: &Stat, expected: FileType) -> io::Result<()> {
            let kind = FileType::from_raw_mode(st.st_mode);
            if kind != expected {
                return Err(self.refused(
                    file,
                    match kind {
                        FileType::Symlink => "is a symlink",
                        FileType::Directory => "is a directory",
                        FileType::RegularFile => "is a regular file",
                        _ => "is a special file",
                    },
                ));
            }
            if st.st_uid != self.uid {
                return Err(self.refused(file, "belongs to another user"));
            }
            if st.st_nlink != 1 {
                return Err(self.refused(file, "has other hard links"));
            }
            Ok(())
        }
    }
}

/// Elsewhere than Linux the doctor writes no probes: name a file for it instead.
#[cfg(not(target_os = "linux"))]
#[derive(Debug)]
pub(crate) struct ProbeDir<'a>(&'a Root);

#[cfg(not(target_os = "linux"))]
impl<'a> ProbeDir<'a> {
    pub(crate) fn open(root: &'a Root, _name: &'a str) -> io::Result<ProbeDir<'a>> {
        let _ = root;
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "the doctor writes its probes without following symlinks only on Linux",
        ))
    }

    pub(crate) fn write(&self, _file: &str, _content: &[u8]) -> io::Result<()> {
        let _ = refused;
        Err(io::ErrorKind::Unsupported.into())
    }

    pub(crate) fn link_to_itself(&self, _link: &str) -> io::Result<bool> {
        Ok(false)
    }
}
