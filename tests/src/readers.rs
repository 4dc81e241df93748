//! Independent ZIP readers run on an archive on disk: Info-ZIP's `unzip -t`, libarchive's
//! `bsdtar -tf`, 7-Zip's `t` and Python's `zipfile`. Each must accept the archive, list
//! exactly the expected names and (7-Zip, unzip, Python) check every CRC-32.

use std::io::Write as _;
use std::path::Path;
use std::process::Command;

/// A reader that is not installed: under CI a failure, elsewhere a one-line skip.
fn missing(reader: &str, package: &str) -> bool {
    if crate::front::is_ci() {
        panic!(
            "{reader} not found: apt-get install -y {package} (CI=true: a missing reader fails the run)"
        );
    }
    let _ = writeln!(
        std::io::stderr(),
        "zip readers: {reader} not found (apt-get install -y {package}); skipped"
    );
    true
}

fn found(program: &str) -> bool {
    Command::new(program).arg("--help").output().is_ok()
}

/// Runs every reader on `archive`; `names` are the entries expected, in order. `contents`
/// gives, for the names it lists, the exact bytes Python must read back. Panics with the
/// reader's output when one refuses the archive.
pub fn check_all(archive: &Path, names: &[String], contents: &[(String, Vec<u8>)]) {
    unzip(archive, &[], names.len());
    bsdtar(archive, names);
    seven_zip(archive, names.len());
    python(archive, names, contents, true);
}

/// As [`check_all`] for an archive of gigabytes, where reading every byte with each reader
/// would take minutes: 7-Zip checks every CRC-32; `unzip` and Python read back (and check)
/// only the entries `contents` lists, and the others list the archive.
pub fn check_large(archive: &Path, names: &[String], contents: &[(String, Vec<u8>)]) {
    let members: Vec<&str> = contents.iter().map(|(n, _)| n.as_str()).collect();
    unzip(archive, &members, members.len());
    bsdtar(archive, names);
    seven_zip(archive, names.len());
    python(archive, names, contents, false);
}

fn run(cmd: &mut Command) -> (bool, String) {
    let out = cmd
        .env("LC_ALL", "C.UTF-8")
        .output()
        .expect("run a zip reader");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// `unzip -t`: the CRC-32 of `members` (all entries when empty) checked; `count` were tested.
pub fn unzip(archive: &Path, members: &[&str], count: usize) {
    if !found("unzip") && missing("unzip", "unzip") {
        return;
    }
    let (ok, out) = run(Command::new("unzip").arg("-t").arg(archive).args(members));
    assert!(ok, "unzip -t refused the archive:\n{}", tail(&out));
    assert!(
        out.contains("No errors detected"),
        "unzip -t:\n{}",
        tail(&out)
    );
    let tested = out
        .lines()
        .filter(|l| l.trim_start().starts_with("testing:"))
        .count();
    assert_eq!(
        tested,
        count,
        "unzip -t tested {tested} entries:\n{}",
        tail(&out)
    );
}

/// `bsdtar -tf`: the names, in order.
pub fn bsdtar(archive: &Path, names: &[String]) {
    if !found("bsdtar") && missing("bsdtar", "libarchive-tools") {
        return;
    }
    let (ok, out) = run(Command::new("bsdtar").arg("-tf").arg(archive));
    assert!(ok, "bsdtar -tf refused the archive:\n{}", tail(&out));
    let listed: Vec<&str> = out.lines().collect();
    assert_eq!(
        listed.len(),
        names.len(),
        "bsdtar -tf listed:\n{}",
        tail(&out)
    );
    for (listed, expected) in listed.iter().zip(names) {
        // libarchive converts names to the locale's charset in Unicode NFC: the one
        // decomposed name of the fixture is listed composed.
        let composed = expected.replace("e\u{301}", "\u{e9}");
        assert!(
            *listed == expected || *listed == composed,
            "bsdtar -tf listed {listed:?} for {expected:?}"
        );
    }
}

/// 7-Zip's `t`: every entry's CRC-32 checked (`7z` from p7zip-full, or `7zz` from 7zip).
pub fn seven_zip(archive: &Path, count: usize) {
    let program = ["7z", "7zz"].into_iter().find(|p| found(p));
    let Some(program) = program else {
        missing("7z", "7zip");
        return;
    };
    let (ok, out) = run(Command::new(program).arg("t").arg(archive));
    assert!(ok, "{program} t refused the archive:\n{}", tail(&out));
    assert!(
        out.contains("Everything is Ok"),
        "{program} t:\n{}",
        tail(&out)
    );
    if count > 0 {
        assert!(
            out.contains(&format!("Files: {count}")) || (count == 1 && out.contains("Size:")),
            "{program} t did not count {count} files:\n{}",
            tail(&out)
        );
    }
}

/// Python's `zipfile`: the names, the listed contents (their CRC-32 checked as they are
/// read) and, with `every_crc`, `testzip()` (every entry's CRC-32).
pub fn python(archive: &Path, names: &[String], contents: &[(String, Vec<u8>)], every_crc: bool) {
    if !found("python3") && missing("python3", "python3") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let expected = dir.path().join("expected");
    // One record per line: the name, and the content in hex (or nothing to skip it).
    let mut text = String::new();
    for name in names {
        text.push_str(&hex(name.as_bytes()));
        if let Some((_, data)) = contents.iter().find(|(n, _)| n == name) {
            text.push(' ');
            text.push_str(&hex(data));
        }
        text.push('\n');
    }
    std::fs::write(&expected, text).expect("write expected");
    let script = r#"
import sys, zipfile
archive, expected, every_crc = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
want = []
for line in open(expected):
    parts = line.split()
    want.append((bytes.fromhex(parts[0]).decode(), bytes.fromhex(parts[1]) if len(parts) > 1 else None))
with zipfile.ZipFile(archive) as z:
    if every_crc:
        bad = z.testzip()
        assert bad is None, "bad CRC: %r" % bad
    infos = z.infolist()
    assert [i.filename for i in infos] == [n for n, _ in want], "names differ"
    for info, (name, data) in zip(infos, want):
        assert info.flag_bits & 0x800, "no UTF-8 flag on %r" % name
        if data is not None:
            assert z.read(info) == data, "content of %r" % name
print("ok", len(infos))
"#;
    let (ok, out) = run(Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(archive)
        .arg(&expected)
        .arg(if every_crc { "1" } else { "0" }));
    assert!(ok, "python zipfile refused the archive:\n{}", tail(&out));
    assert_eq!(out.trim(), format!("ok {}", names.len()));
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn tail(out: &str) -> String {
    let lines: Vec<&str> = out.lines().collect();
    lines[lines.len().saturating_sub(30)..].join("\n")
}
