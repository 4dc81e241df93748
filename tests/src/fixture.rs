//! The files the end-to-end tests serve: the example's sample tree, hostile names, a large
//! file for ranges, and a secret outside the root with symlinks pointing at it.

use std::fs;
use std::io;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};

/// The directory below the root that holds the hostile names (under `public/`).
pub const HOSTILE_DIR: &str = "public/hostile";

/// File names that are hard to carry through URLs and headers, relative to [`HOSTILE_DIR`].
pub fn hostile_names() -> Vec<String> {
    let mut names: Vec<String> = [
        "plain.txt",
        "with space.txt",
        "100%.txt",
        "pct%41.txt",
        "pctA.txt",
        "%2e%2e.txt",
        "q?mark.txt",
        "q",
        "hash#frag.txt",
        "plus+sign.txt",
        "dq\"uote.txt",
        "sq'uote.txt",
        "semi;colon.txt",
        "amp&eq=.txt",
        "caf\u{e9} nfc.txt",
        "cafe\u{301} nfd.txt",
        "\u{1F389} party \u{1F680}.txt",
        "page.html",
        "report.pdf",
        "nested dir/sub %41 dir/\u{fc}n\u{ef}/deep #1.txt",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    // 250-byte names, one ASCII and one of two-byte characters.
    names.push(format!("long-{}.txt", "x".repeat(241)));
    names.push(format!("{}.txt", "\u{e9}".repeat(123)));
    names
}

/// The content of each hostile file: unique, and with every byte value.
pub fn content_for(name: &str) -> Vec<u8> {
    let mut c = format!("content of {name}\n").into_bytes();
    c.extend(0..=255u8);
    c.extend_from_slice(format!("\nend of {name}\n").as_bytes());
    c
}

/// The test tree.
#[derive(Debug)]
pub struct Fixture {
    /// Holds everything; removed on drop.
    pub dir: tempfile::TempDir,
    /// The protected directory (`SENDFILE_ROOT`).
    pub root: PathBuf,
    /// A file outside the root.
    pub secret: PathBuf,
    /// The bytes of `secret`.
    pub secret_marker: Vec<u8>,
    /// The bytes of `public/big.bin`.
    pub big: Vec<u8>,
}

impl Fixture {
    /// Builds the tree in a new temporary directory, readable by a server that dropped
    /// privileges to another user.
    pub fn new() -> io::Result<Fixture> {
        let dir = tempfile::Builder::new().prefix("sendfile-e2e-").tempdir()?;
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755))?;
        let root = dir.path().join("files");
        fs::create_dir(&root)?;
        protected_downloads::create_sample_tree(&root)?;
        for name in hostile_names() {
            let path = root.join(HOSTILE_DIR).join(&name);
            fs::create_dir_all(path.parent().unwrap_or(&root))?;
            fs::write(&path, content_for(&name))?;
        }
        let big: Vec<u8> = (0..200_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
            .collect();
        fs::write(root.join("public/big.bin"), &big)?;

        let outside = dir.path().join("outside");
        fs::create_dir(&outside)?;
        let secret = outside.join("secret.txt");
        let secret_marker = format!("OUTSIDE-SECRET-{}", std::process::id()).into_bytes();
        fs::write(&secret, &secret_marker)?;
        symlink(&secret, root.join("public/link-out.txt"))?;
        symlink(&outside, root.join("public/dir-out"))?;
        symlink(
            "../../../outside/secret.txt",
            root.join("public/hostile/rel-link-out.txt"),
        )?;
        Ok(Fixture {
            dir,
            root,
            secret,
            secret_marker,
            big,
        })
    }

    /// The temporary directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}
