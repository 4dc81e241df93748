//! Confinement tests: every access mode, the Linux path and the portable fallback.

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

/// The file system type of the mount at `mount_point`, from `/proc/self/mountinfo`.
fn mounted_type(mount_point: &str) -> Option<String> {
    std::fs::read_to_string("/proc/self/mountinfo")
        .ok()?
        .lines()
        .rev()
        .filter(|l| l.split(' ').nth(4) == Some(mount_point))
        .find_map(|l| l.split_once(" - ")?.1.split(' ').next().map(str::to_owned))
}

#[test]
fn a_root_is_judged_by_its_file_system_type_not_its_path() {
    // /dev/shm is an ordinary tmpfs: a valid root.
    if mounted_type("/dev/shm").as_deref() == Some("tmpfs") {
        let dir = tempfile::tempdir_in("/dev/shm").unwrap();
        Root::open(dir.path()).unwrap();
        Root::open("/dev/shm").unwrap();
    }
    // /dev is refused when it is a devtmpfs (a container's /dev may be a plain tmpfs).
    if mounted_type("/dev").as_deref() == Some("devtmpfs") {
        let err = Root::open("/dev").unwrap_err();
        assert!(err.message.contains("pseudo-filesystem (devtmpfs"), "{err}");
    }
    // The type is what counts, wherever it is mounted: proc through a symlink elsewhere.
    let f = fixture();
    symlink("/proc/self/fd", f.base.join("fds")).unwrap();
    let err = Root::open(f.base.join("fds")).unwrap_err();
    assert!(err.message.contains("pseudo-filesystem (proc"), "{err}");
}

#[test]
fn system_directories_are_refused_as_a_root() {
    for system in [
        "/",
        "/proc",
        "/proc/self",
        "/sys",
        "/sys/kernel",
        "/proc/../sys",
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
    std::fs::set_permissions(r.join("locked.txt"), std::fs::Permissions::from_mode(0o000)).unwrap();
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
    let ok =
        portable::resolve::<ForRead>(real, Path::new("link-in/link-up"), Path::new("")).unwrap();
    assert_eq!(ok.relative, Path::new("top.txt"));
    assert_eq!(ok.kept.metadata().len, 3);
    for (req, expected) in [
        ("link-secret", NotFoundReason::OutsideRoot),
        ("../outside/secret.txt", NotFoundReason::OutsideRoot),
        ("a", NotFoundReason::Directory),
        ("nope", NotFoundReason::Missing),
    ] {
        let read = portable::resolve::<ForRead>(real, Path::new(req), Path::new(req))
            .map(|found| f.root.finish(found.relative, FileState::Open(found.kept)));
        let stat = portable::resolve::<ForStat>(real, Path::new(req), Path::new(req))
            .map(|found| f.root.finish(found.relative, FileState::Stat(found.kept)));
        assert_eq!(reason(read), expected);
        assert_eq!(reason(stat), expected);
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
                    prop_assert_eq!(meta.ino, on_disk.ino());
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
