//! `protected_downloads print-config SERVER` prints the shipped site template filled with the
//! app's settings and addresses.

use std::process::Command;

const ROOT: &str = "/srv/protected_downloads/files";

fn filled(template: &str) -> String {
    template
        .replace("{{LISTEN_HOST}}", "0.0.0.0")
        .replace("{{LISTEN_PORT}}", "80")
        .replace("{{APP_HOST}}", "127.0.0.1")
        .replace("{{APP_PORT}}", "8001")
        .replace("{{ROOT}}", ROOT)
        .replace("{{URL}}", "/protected")
}

fn print_config(server: &str, backend: Option<&str>) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_protected_downloads"));
    cmd.args([
        "print-config",
        server,
        "--front",
        "0.0.0.0:80",
        "--listen",
        "127.0.0.1:8001",
    ])
    .env_remove("SENDFILE_URL")
    .env_remove("SENDFILE_BACKEND")
    .env_remove("SENDFILE_S3_BUCKET")
    .env("SENDFILE_ROOT", ROOT);
    if let Some(b) = backend {
        cmd.env("SENDFILE_BACKEND", b);
    }
    cmd.output().unwrap()
}

#[test]
fn prints_the_shipped_site_filled_in() {
    let shipped = protected_downloads::deploy::shipped_files();
    let site = |path: &str| &shipped.iter().find(|(p, _)| p == path).unwrap().1;
    for (server, backend, path) in [
        ("nginx", None, "nginx/site.conf"),
        ("apache", None, "apache2/site.conf"),
        ("lighttpd", None, "lighttpd/site.conf"),
        ("caddy", None, "caddy/site.caddy"),
        ("caddy", Some("mod_wsgi"), "caddy/site-mod_wsgi.caddy"),
    ] {
        let out = print_config(server, backend);
        assert!(out.status.success(), "{server}: {out:?}");
        let text = String::from_utf8(out.stdout).unwrap();
        assert_eq!(text, filled(site(path)), "{server}");
        assert!(!text.contains("{{"), "{text}");
    }
}

#[test]
fn a_backend_the_server_does_not_understand_is_refused() {
    let out = print_config("apache", Some("nginx"));
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("SENDFILE_BACKEND") && err.contains("set it to xsendfile"),
        "{err}"
    );
    let out = print_config("iis", None);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nginx, apache, lighttpd, caddy"));
}

#[test]
fn with_a_bucket_nginx_gets_the_bucket_site_filled_in() {
    let shipped = protected_downloads::deploy::shipped_files();
    let template = &shipped
        .iter()
        .find(|(p, _)| p == "nginx/site-s3.conf")
        .unwrap()
        .1;
    let bucket = |server: &str| {
        Command::new(env!("CARGO_BIN_EXE_protected_downloads"))
            .args([
                "print-config",
                server,
                "--front",
                "0.0.0.0:80",
                "--listen",
                "127.0.0.1:8001",
            ])
            .env_remove("SENDFILE_URL")
            .env_remove("SENDFILE_BACKEND")
            .env_remove("SENDFILE_ROOT")
            .env_remove("SENDFILE_S3_PREFIX")
            .env_remove("SENDFILE_S3_EXPIRES")
            .env_remove("AWS_SESSION_TOKEN")
            .env("SENDFILE_S3_ENDPOINT", "http://127.0.0.1:9000")
            .env("SENDFILE_S3_BUCKET", "protected")
            .env("SENDFILE_S3_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", "AKIDPRINTCONFIG")
            .env("AWS_SECRET_ACCESS_KEY", "SECRETPRINTCONFIG")
            .output()
            .unwrap()
    };
    let out = bucket("nginx");
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    let expected = filled(template)
        .replace("{{S3_SCHEME}}", "http")
        .replace("{{S3_HOST}}", "127.0.0.1:9000");
    assert_eq!(text, expected);
    assert!(!text.contains("{{"), "{text}");
    assert!(
        !text.contains("PRINTCONFIG"),
        "a credential was printed:\n{text}"
    );

    // Only nginx proxies to a bucket.
    let out = bucket("apache");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("SENDFILE_BACKEND"));
}

#[test]
fn a_root_build_would_refuse_is_refused() {
    for (root, says) in [
        ("/./", "the whole filesystem"),
        ("/srv/..", "the whole filesystem"),
        ("/proc", "kernel"),
        ("/proc/no-such-dir-here", "does not exist on this machine"),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_protected_downloads"))
            .args(["print-config", "nginx"])
            .env_remove("SENDFILE_URL")
            .env_remove("SENDFILE_BACKEND")
            .env_remove("SENDFILE_S3_BUCKET")
            .env("SENDFILE_ROOT", root)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{root}: {out:?}");
        assert!(out.stdout.is_empty(), "{root}: a configuration was printed");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("SENDFILE_ROOT") && err.contains(says) && err.contains("set it to"),
            "{root}: {err}"
        );
    }
}

#[test]
fn a_bucket_name_that_is_not_an_s3_name_is_refused() {
    for bucket in [".", "..", "Protected", "a_b"] {
        let out = Command::new(env!("CARGO_BIN_EXE_protected_downloads"))
            .args(["print-config", "nginx"])
            .env_remove("SENDFILE_URL")
            .env_remove("SENDFILE_BACKEND")
            .env_remove("SENDFILE_ROOT")
            .env("SENDFILE_S3_ENDPOINT", "http://127.0.0.1:9000")
            .env("SENDFILE_S3_BUCKET", bucket)
            .env("AWS_ACCESS_KEY_ID", "AKIDPRINTCONFIG")
            .env("AWS_SECRET_ACCESS_KEY", "SECRETPRINTCONFIG")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{bucket}: {out:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("SENDFILE_S3_BUCKET") && err.contains("not an S3 bucket name"),
            "{bucket}: {err}"
        );
    }
}
