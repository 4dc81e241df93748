//! `SENDFILE_LINK_SECRET`, `sign-link` and `print-config` with signed links, as an operator
//! runs them.

use std::process::{Command, Output};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sendfile_actix::link::LinkSigner;

const BIN: &str = env!("CARGO_BIN_EXE_protected_downloads");
const SECRET: &str = "cli-test-secret-0123456789abcdefghijklmn";

fn run(args: &[&str], vars: &[(&str, &str)]) -> Output {
    let root = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("SENDFILE_ROOT", root.path())
        .env("LISTEN_ADDR", "127.0.0.1:0");
    for (name, value) in vars {
        cmd.env(name, value);
    }
    cmd.output().unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn sign_link_prints_a_path_the_library_accepts() {
    let out = run(
        &["sign-link", "public/price list 2026.pdf", "--expires", "60"],
        &[("SENDFILE_LINK_SECRET", SECRET)],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let link = stdout(&out);
    let link = link.trim_end();
    assert!(
        link.starts_with("/signed/public/price%20list%202026.pdf?expires="),
        "{link}"
    );
    let (path, query) = link.split_once('?').unwrap();
    let signer = LinkSigner::new(SECRET).unwrap();
    let verified = signer
        .verify(path, Some(query), None, SystemTime::now())
        .unwrap();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!((now + 55..=now + 61).contains(&verified.expires()));
    let later = SystemTime::now() + Duration::from_secs(120);
    assert!(signer.verify(path, Some(query), None, later).is_err());

    // Without --expires: one hour.
    let out = run(
        &["sign-link", "public/welcome.txt"],
        &[("SENDFILE_LINK_SECRET", SECRET)],
    );
    let link = stdout(&out);
    let (path, query) = link.trim_end().split_once('?').unwrap();
    let expires = signer
        .verify(path, Some(query), None, SystemTime::now())
        .unwrap()
        .expires();
    assert!((now + 3595..=now + 3601).contains(&expires));
}

#[test]
fn short_or_missing_secrets_are_refused_with_the_fix() {
    let short = [("SENDFILE_LINK_SECRET", "hunter2")];
    for args in [&["sign-link", "public/welcome.txt"][..], &[]] {
        let out = run(args, &short);
        assert!(
            !out.status.success(),
            "{args:?} started with a short secret"
        );
        let err = stderr(&out);
        assert!(err.contains("SENDFILE_LINK_SECRET"), "{err}");
        assert!(err.contains("at least 32"), "{err}");
        assert!(err.contains("openssl rand -base64 32"), "{err}");
    }
    let out = run(&["sign-link", "public/welcome.txt"], &[]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("SENDFILE_LINK_SECRET is not set"));
    let out = run(&[], &[("SENDFILE_LINK_URL", "/share")]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("SENDFILE_LINK_URL"),
        "{}",
        stderr(&out)
    );
    let out = run(
        &["sign-link", "../etc/passwd"],
        &[("SENDFILE_LINK_SECRET", SECRET)],
    );
    assert!(!out.status.success());
    assert!(stdout(&out).is_empty());
}

#[test]
fn print_config_nginx_includes_the_checking_location_with_a_secret() {
    let with = run(
        &["print-config", "nginx"],
        &[("SENDFILE_LINK_SECRET", SECRET)],
    );
    assert!(with.status.success(), "{}", stderr(&with));
    let text = stdout(&with);
    assert!(text.contains("location ^~ /signed/ {"), "{text}");
    assert!(text.contains("secure_link $arg_md5,$arg_expires;"));
    assert!(text.contains(&format!("secure_link_md5 \"{SECRET}|$secure_link_expires|")));
    assert!(text.contains("return 410;"));

    let without = stdout(&run(&["print-config", "nginx"], &[]));
    assert!(!without.contains("secure_link"));
    assert!(!without.contains("/signed"));
    // The other servers pass the links to the app: their configuration does not change.
    for server in ["apache", "lighttpd", "caddy"] {
        let root = ("SENDFILE_ROOT", "/srv/files");
        let with = run(
            &["print-config", server],
            &[("SENDFILE_LINK_SECRET", SECRET), root],
        );
        let without = run(&["print-config", server], &[root]);
        assert_eq!(stdout(&with), stdout(&without), "{server}");
        assert!(!stdout(&with).contains(SECRET));
    }
}

#[test]
fn print_forward_auth_prints_each_proxy_configuration() {
    let root = ("SENDFILE_ROOT", "/srv/files");
    let nginx = stdout(&run(&["print-forward-auth", "nginx"], &[root]));
    assert!(nginx.contains("location ^~ /files/ {"), "{nginx}");
    assert!(nginx.contains("auth_request /.sendfile/forward-auth;"));
    assert!(nginx.contains("proxy_set_header X-Original-URI $request_uri;"));
    assert!(nginx.contains("alias /srv/files/;"));
    let caddy = stdout(&run(&["print-forward-auth", "caddy"], &[root]));
    assert!(caddy.contains("forward_auth 127.0.0.1:0 {"), "{caddy}");
    assert!(caddy.contains("root * /srv/files"));
    let traefik = stdout(&run(
        &["print-forward-auth", "traefik", "--front", "0.0.0.0:80"],
        &[root],
    ));
    for part in [
        "# ==> traefik.yml",
        "# ==> dynamic.yml",
        "# ==> static-nginx.conf",
    ] {
        assert!(traefik.contains(part), "{traefik}");
    }
    assert!(traefik.contains("address: \"0.0.0.0:80\""));
    assert!(traefik.contains("forwardAuth:"));
    let wrong = run(&["print-forward-auth", "apache"], &[root]);
    assert!(!wrong.status.success());
    assert!(stderr(&wrong).contains("nginx, caddy or traefik"));
}
