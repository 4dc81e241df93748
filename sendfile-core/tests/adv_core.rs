//! Adversarial tests (wt-adv): attacks on "what was checked is what is served".
//!
//! Tests named `finding_*` reproduce a weakness found by that pass and now fixed (each failed
//! before its fix); tests named `holds_*` are attacks that were tried and held.

#![allow(clippy::print_stderr)] // reports counts, as the measurement they are

use std::io::Read;
use std::os::unix::fs::{MetadataExt, symlink};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sendfile_core::disposition::{DispositionType, content_disposition, saved_name};
use sendfile_core::{Access, Backend, Config, Error, FileRequest, NotFoundReason, Root};

fn read(config: &Config, path: &str) -> Result<String, Error> {
    let file = sendfile_core::resolve(config, &FileRequest::new(path))?;
    let mut text = String::new();
    file.into_file().unwrap().read_to_string(&mut text).unwrap();
    Ok(text)
}

/// A restore that removes the root directory and creates it again (`rm -rf files && mkdir
/// files`), with no request in between. ext4 reuses a freed directory inode at once, which
/// would make the watch's identity (real path, dev, ino) match the deleted directory; it holds
/// because the opened root descriptor pins the old inode, so the new directory always gets
/// another number, and the restored tree is served.
#[test]
fn holds_restore_by_rmdir_mkdir_is_seen() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().canonicalize().unwrap();
    let files = base.join("files");
    std::fs::create_dir(&files).unwrap();
    std::fs::write(files.join("a.txt"), "old").unwrap();
    let config = Config::builder(Backend::Simple)
        .root(&files)
        .build()
        .unwrap();
    assert_eq!(read(&config, "a.txt").unwrap(), "old");
    let ino_before = std::fs::metadata(&files).unwrap().ino();
    std::fs::remove_file(files.join("a.txt")).unwrap();
    std::fs::remove_dir(&files).unwrap();
    // Try hard for the freed number (no request meanwhile: the watch only looks when asked).
    for _ in 0..20 {
        std::fs::create_dir(&files).unwrap();
        let ino = std::fs::metadata(&files).unwrap().ino();
        assert_ne!(
            ino, ino_before,
            "the held descriptor should pin the old inode"
        );
        std::fs::remove_dir(&files).unwrap();
    }
    std::fs::create_dir(&files).unwrap();
    std::fs::write(files.join("a.txt"), "restored").unwrap();
    let start = Instant::now();
    let mut last = None;
    while start.elapsed() < Duration::from_millis(1500) {
        match read(&config, "a.txt") {
            Ok(t) if t == "restored" => return,
            other => last = Some(format!("{other:?}")),
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("the restored root was not used after 1.5 s; last outcome: {last:?}");
}

/// Watch under concurrency: 4 threads read while the `current` symlink is flipped from 1 to 2.
/// No read that *starts* more than 1 s after the flip may return release 1's content.
#[test]
fn holds_no_read_from_a_root_flipped_away_more_than_a_second_ago() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().canonicalize().unwrap();
    for (release, text) in [("1", "one"), ("2", "two")] {
        let files = base.join("releases").join(release).join("files");
        std::fs::create_dir_all(&files).unwrap();
        std::fs::write(files.join("a.txt"), text).unwrap();
    }
    symlink("releases/1", base.join("current")).unwrap();
    let config = Config::builder(Backend::Simple)
        .root(base.join("current/files"))
        .build()
        .unwrap();
    let flipped_at = Arc::new(AtomicU64::new(0)); // ns since epoch, 0: not yet
    let epoch = Instant::now();
    let stop = Arc::new(AtomicBool::new(false));
    let reads = Arc::new(AtomicU64::new(0));
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let (config, flipped_at, stop, reads) = (
                config.clone(),
                flipped_at.clone(),
                stop.clone(),
                reads.clone(),
            );
            std::thread::spawn(move || {
                let mut late_old = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let started = epoch.elapsed().as_nanos() as u64;
                    let text = read(&config, "a.txt").unwrap();
                    reads.fetch_add(1, Ordering::Relaxed);
                    let flip = flipped_at.load(Ordering::Acquire);
                    if flip != 0 && started > flip + 1_000_000_000 && text == "one" {
                        late_old += 1;
                    }
                }
                late_old
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let tmp = base.join("current.new");
    symlink("releases/2", &tmp).unwrap();
    std::fs::rename(&tmp, base.join("current")).unwrap();
    flipped_at.store(epoch.elapsed().as_nanos() as u64, Ordering::Release);
    std::thread::sleep(Duration::from_millis(1800));
    stop.store(true, Ordering::Relaxed);
    let late: u64 = threads.into_iter().map(|t| t.join().unwrap()).sum();
    eprintln!("reads: {}", reads.load(Ordering::Relaxed));
    assert_eq!(
        late, 0,
        "reads served from the old root > 1 s after the flip"
    );
}

/// F3. `check_file_exists(false)` (Lexical) follows links inside the root for a file missing
/// locally, but reports the path *through the link*: `ResolvedFile::relative_path` is then not
/// "the real location, symlinks resolved". A check on `public/...` passes while the front
/// server, following `public/to-alice -> ../users/alice`, opens `users/alice/new.pdf`.
#[test]
fn finding_lexical_missing_file_below_inside_link_is_checked_by_the_link_name() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap().join("root");
    std::fs::create_dir_all(root.join("public")).unwrap();
    std::fs::create_dir_all(root.join("users/alice")).unwrap();
    symlink("../users/alice", root.join("public/to-alice")).unwrap();
    let r = Root::open(&root).unwrap();
    let file = r
        .resolve(Path::new("public/to-alice/new.pdf"), Access::Lexical)
        .unwrap();
    assert_eq!(
        file.relative_path(),
        Path::new("users/alice/new.pdf"),
        "the check sees the link's name, the front server opens the target"
    );
}

/// Lexical + follow_symlinks(false): every combination of `..`, missing parts and links is
/// refused when it walks through a link, and never climbs out.
#[test]
fn holds_lexical_no_follow_with_dotdot_and_missing_parts() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().canonicalize().unwrap();
    let root = base.join("root");
    std::fs::create_dir_all(root.join("a/b")).unwrap();
    std::fs::create_dir_all(base.join("outside")).unwrap();
    std::fs::write(root.join("a/f.txt"), "f").unwrap();
    symlink("a", root.join("link-in")).unwrap();
    symlink("../outside", root.join("link-out")).unwrap();
    symlink("b", root.join("a/link-b")).unwrap();
    let r = Root::open(&root).unwrap().follow_symlinks(false);
    let mut n = 0;
    for req in [
        "link-in/x",
        "missing/../link-in/x",
        "a/missing/../../link-in/f.txt",
        "a/../link-in/f.txt",
        "a/link-b/../f.txt",
        "a/link-b/missing/../../f.txt",
        "link-out/../a/f.txt",
        "link-out/x",
        "missing/../../root/link-in/x",
        "./link-in//x",
        "a/./link-b/",
    ] {
        for access in [Access::Read, Access::Stat, Access::Lexical] {
            n += 1;
            match r.resolve(Path::new(req), access) {
                Err(Error::NotFound {
                    reason: NotFoundReason::Symlink | NotFoundReason::OutsideRoot,
                    ..
                }) => {}
                Err(Error::NotFound {
                    reason: NotFoundReason::Missing,
                    ..
                }) if access != Access::Lexical => {}
                other => panic!("{req} {access:?}: {other:?}"),
            }
        }
    }
    // Absolute forms of the same, through the configured root.
    for req in ["link-in/f.txt", "a/link-b/../f.txt"] {
        let abs = root.join(req);
        for access in [Access::Read, Access::Stat, Access::Lexical] {
            n += 1;
            assert!(r.resolve(&abs, access).is_err(), "{abs:?} {access:?}");
        }
    }
    eprintln!("{n} cases");
}

/// Race: a thread swaps `public/x` between a regular file and a link to Alice's file (and a
/// link to a directory outside); every successful Read resolution must name exactly the
/// file whose bytes it holds.
#[test]
fn holds_read_resolution_names_the_bytes_it_holds_under_symlink_swaps() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().canonicalize().unwrap();
    let root = base.join("root");
    std::fs::create_dir_all(root.join("public")).unwrap();
    std::fs::create_dir_all(root.join("users/alice")).unwrap();
    std::fs::create_dir_all(base.join("outside")).unwrap();
    std::fs::write(base.join("outside/secret"), "SECRET").unwrap();
    std::fs::write(root.join("users/alice/notes.txt"), "ALICE").unwrap();
    std::fs::write(root.join("public/plain"), "PUBLIC").unwrap();
    for follow in [true, false] {
        let r = Arc::new(Root::open(&root).unwrap().follow_symlinks(follow));
        let stop = Arc::new(AtomicBool::new(false));
        let swapper = {
            let (root, base, stop) = (root.clone(), base.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut i = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let tmp = root.join(format!("public/.tmp{}", i % 3));
                    let _ = std::fs::remove_file(&tmp);
                    match i % 3 {
                        0 => std::fs::write(&tmp, "PUBLIC").unwrap(),
                        1 => symlink("../users/alice/notes.txt", &tmp).unwrap(),
                        _ => symlink(base.join("outside/secret"), &tmp).unwrap(),
                    }
                    std::fs::rename(&tmp, root.join("public/x")).unwrap();
                    // Let each state stand a moment, so that every one is seen.
                    std::thread::sleep(Duration::from_micros(200));
                    i += 1;
                }
                i
            })
        };
        let (mut ok, mut tries) = (0u64, 0u64);
        let start = Instant::now();
        while start.elapsed() < Duration::from_millis(700) {
            tries += 1;
            let Ok(file) = r.resolve(Path::new("public/x"), Access::Read) else {
                continue;
            };
            ok += 1;
            let rel = file.relative_path().to_path_buf();
            let mut text = String::new();
            file.into_file().unwrap().read_to_string(&mut text).unwrap();
            match (rel.to_str().unwrap(), text.as_str()) {
                ("public/x", "PUBLIC") => {}
                ("users/alice/notes.txt", "ALICE") if follow => {}
                other => panic!(
                    "follow={follow}: named {:?} but read {:?}",
                    other.0, other.1
                ),
            }
        }
        stop.store(true, Ordering::Relaxed);
        let swaps = swapper.join().unwrap();
        eprintln!("follow={follow}: {tries} resolutions, {ok} served, {swaps} swaps");
        assert!(ok > 0);
    }
}

/// F4. The ASCII fallback drops combining marks (U+0300..U+036F) instead of replacing them, so
/// two parts join into another extension there: `saved_name` (which the guide says to check
/// extensions on) is `invoice.ex\u{301}e`, the fallback is `invoice.exe`. Clients without
/// RFC 6266 `filename*` support (curl -OJ, old browsers) save `invoice.exe`.
#[test]
fn finding_combining_mark_joins_an_extension_in_the_fallback() {
    let name = "invoice.ex\u{301}e";
    let cd = content_disposition(DispositionType::Attachment, name);
    let ext_checked = Path::new(saved_name(name).as_ref())
        .extension()
        .map(|e| e.to_string_lossy().into_owned());
    assert_eq!(ext_checked.as_deref(), Some("ex\u{301}e"));
    assert!(
        !cd.contains("filename=\"invoice.exe\""),
        "the fallback saves as another extension than the one checked: {cd}"
    );
}

/// Content-Disposition: encoded-word variants and other decodable forms, in the fallback.
#[test]
fn holds_fallback_never_decodable() {
    let names = [
        "=?utf-8?B?ZXZpbC5odG1s?=",
        "=?UTF-8?b?ZXZpbC5odG1s?=",
        "=?iso-8859-1?Q?evil=2Ehtml?=",
        "x =?utf-8?q?evil.html?= y",
        "=\u{301}?utf-8?B?ZXZpbC5odG1s?=",
        "=\u{200b}?utf-8?B?ZXZpbC5odG1s?=",
        "=\t?utf-8?B?ZXZpbC5odG1s?=",
        "== ?utf-8?B?x?=",
        "%65vil.html",
        "evil%2Ehtml",
        "a\"; filename*=UTF-8''evil.html; x=\".txt",
        "a\\\"; filename*0*=UTF-8''evil.html",
        "a\r\nSet-Cookie: x=y",
        "\u{202e}lmth.txt",
        "evil.htm\u{200d}l",
        "evil.htm\u{2028}l",
        "  ..  .pdf",
        "",
        "\u{301}\u{301}.html",
    ];
    for name in names {
        for kind in [DispositionType::Attachment, DispositionType::Inline] {
            let cd = content_disposition(kind, name);
            let fallback = cd
                .split_once("filename=\"")
                .unwrap()
                .1
                .rsplit_once('"')
                .map(|(f, _)| f)
                .unwrap_or_default();
            let fallback = fallback.split("\"; filename*=").next().unwrap();
            assert!(!fallback.contains("=?"), "{name:?}: {cd}");
            assert!(!fallback.contains('%'), "{name:?}: {cd}");
            assert!(
                cd.bytes().all(|b| (b' '..=b'~').contains(&b)),
                "{name:?}: {cd}"
            );
            // After the quoted-string (backslash escapes honoured) comes nothing, or exactly
            // one `filename*` made of attr-chars and %XX.
            let after = cd.split_once("filename=\"").unwrap().1;
            let mut chars = after.char_indices();
            let mut end = None;
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => {
                        chars.next();
                    }
                    '"' => {
                        end = Some(i);
                        break;
                    }
                    _ => {}
                }
            }
            let rest = &after[end.expect("unterminated") + 1..];
            if !rest.is_empty() {
                let star = rest.strip_prefix("; filename*=UTF-8''").expect(&cd);
                assert!(
                    star.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~%".contains(&b)),
                    "{name:?}: {cd}"
                );
            }
        }
    }
}

/// Root validation: a root replaced at run time by a link to `/`, `/proc/self`, `/dev/shm`,
/// a file, or a FIFO is answered 503, never served from.
#[test]
fn holds_root_replaced_by_dangerous_things_is_a_503() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().canonicalize().unwrap();
    std::fs::create_dir_all(base.join("releases/1")).unwrap();
    std::fs::write(base.join("releases/1/a.txt"), "one").unwrap();
    std::fs::write(base.join("plain-file"), "file").unwrap();
    symlink("releases/1", base.join("current")).unwrap();
    let config = Config::builder(Backend::Simple)
        .root(base.join("current"))
        .build()
        .unwrap();
    assert_eq!(read(&config, "a.txt").unwrap(), "one");
    let mut n = 0;
    for (target, probe) in [
        (PathBuf::from("/"), "etc/passwd"),
        (PathBuf::from("/proc/self"), "environ"),
        (PathBuf::from("/proc/self/root"), "etc/passwd"),
        (PathBuf::from("/proc/self/cwd"), "Cargo.toml"),
        (PathBuf::from("/dev/shm"), "x"),
        (PathBuf::from("/sys/kernel"), "uevent_seqnum"),
        (base.join("plain-file"), "a.txt"),
        (PathBuf::from("/nonexistent-dir"), "a.txt"),
    ] {
        let tmp = base.join("current.new");
        let _ = std::fs::remove_file(&tmp);
        symlink(&target, &tmp).unwrap();
        std::fs::rename(&tmp, base.join("current")).unwrap();
        std::thread::sleep(Duration::from_millis(550));
        for _ in 0..3 {
            n += 1;
            match read(&config, probe) {
                Err(Error::RootUnavailable(_)) => {}
                // /proc/self/cwd is the crate directory: a normal directory, legitimately
                // usable as a root (named by its real path).
                Ok(_) if target.ends_with("cwd") => {}
                // /dev/shm is an ordinary tmpfs, not a kernel pseudo-filesystem: a usable
                // root, where "x" does not exist.
                Err(Error::NotFound { .. }) if target.ends_with("shm") => {}
                other => panic!("{target:?}: {other:?}"),
            }
        }
    }
    eprintln!("{n} requests");
}

/// F3b. A link inside the root whose target is a magic link (`/proc/self/fd/N`,
/// `/proc/self/cwd`) is judged by what it means *in this process*: with `check_file_exists(false)`
/// (Lexical) and links followed, `public/fdlink -> /proc/self/fd/N` (N: a descriptor of this
/// process on the root) counts as "inside", so `public/fdlink/etc/passwd` is named to the front
/// server. The front server is another process: there `/proc/self/fd/N` is *its* descriptor N
/// (or `/proc/self/cwd` its cwd, `/` for a daemon), and it reads `/etc/passwd` (Apache, lighttpd
/// and Caddy follow links). Demonstrated with a shell whose descriptor N is `/`.
#[test]
fn finding_lexical_accepts_a_magic_link_judged_in_this_process() {
    use std::os::fd::AsRawFd;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap().join("root");
    std::fs::create_dir_all(root.join("public")).unwrap();
    let held = std::fs::File::open(&root).unwrap();
    let n = held.as_raw_fd();
    symlink(format!("/proc/self/fd/{n}"), root.join("public/fdlink")).unwrap();
    let r = Root::open(&root).unwrap();
    let outcome = r.resolve(Path::new("public/fdlink/etc/hostname"), Access::Lexical);
    if let Ok(file) = &outcome {
        // The name must carry no link: it is the location the link resolved to here.
        assert!(
            !file.relative_path().starts_with("public/fdlink"),
            "named {:?}",
            file.path()
        );
        // What the front server would do with the named path, in a process whose fd N is `/`.
        let out = std::process::Command::new("bash")
            .arg("-c")
            .arg(format!("exec {n}</ && cat \"$0\"", n = n))
            .arg(file.path())
            .output()
            .unwrap();
        let hostname = std::fs::read("/etc/hostname").unwrap_or_default();
        assert!(
            hostname.is_empty() || out.stdout != hostname,
            "named {:?}; another process reading it got /etc/hostname, outside the root",
            file.path()
        );
    }
    drop(held);
}
