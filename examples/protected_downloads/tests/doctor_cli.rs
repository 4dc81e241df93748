//! The example end to end, as an operator runs it: nginx from the configuration the example
//! generates (`print-config nginx` plus the self-contained main file), the example's binary
//! behind it with `PUBLIC_URL`, then `protected_downloads doctor URL`.
//!
//! Needs nginx (`apt-get install nginx-light`): without it the test prints one line and
//! passes, unless `CI=true`.

use std::fs;
use std::io::Write as _;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use sendfile_actix::deploy::{Server, Standalone};

const NGINX: &str = "/usr/sbin/nginx";
const BIN: &str = env!("CARGO_BIN_EXE_protected_downloads");
/// The app's `SENDFILE_DOCTOR_TOKEN`.
const TOKEN: &str = "a-test-token-of-enough-length";

/// A child process killed (by its id) and reaped on drop.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_listening(port: u16, what: &str, log: &Path) {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
        assert!(
            Instant::now() < deadline,
            "{what} did not listen on {addr}:\n{}",
            fs::read_to_string(log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// Starts nginx from the generated configuration, with `edit` applied to the site.
fn start_nginx(dir: &Path, site: String, edit: impl Fn(String) -> String) -> Running {
    fs::create_dir_all(dir).unwrap();
    let main = Standalone::new(&dir.to_string_lossy()).render(Server::Nginx);
    fs::write(dir.join("nginx.conf"), main).unwrap();
    fs::write(dir.join("site.conf"), edit(site)).unwrap();
    let log = fs::File::create(dir.join("server.log")).unwrap();
    let child = Command::new(NGINX)
        .arg("-p")
        .arg(dir)
        .arg("-c")
        .arg(dir.join("nginx.conf"))
        .arg("-e")
        .arg(dir.join("error.log"))
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    Running(child)
}

fn print_config(root: &Path, app: u16, front: u16) -> String {
    let out = Command::new(BIN)
        .args(["print-config", "nginx"])
        .arg(format!("--listen=127.0.0.1:{app}"))
        .arg(format!("--front=127.0.0.1:{front}"))
        .env("SENDFILE_ROOT", root)
        .env_remove("SENDFILE_BACKEND")
        .env_remove("SENDFILE_URL")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout).unwrap()
}

fn doctor(url: &str, token: Option<&str>) -> Output {
    let mut command = Command::new(BIN);
    command.args(["doctor", url]);
    match token {
        Some(token) => command.env("SENDFILE_DOCTOR_TOKEN", token),
        None => command.env_remove("SENDFILE_DOCTOR_TOKEN"),
    };
    command.output().unwrap()
}

fn http_get_as_alice(port: u16, path: &str) -> String {
    // alice:wonderland
    request(
        port,
        path,
        "Authorization: Basic YWxpY2U6d29uZGVybGFuZA==\r\n",
    )
}

fn request(port: u16, path: &str, headers: &str) -> String {
    let mut s = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}Connection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    std::io::Read::read_to_string(&mut s, &mut out).unwrap();
    out
}

#[test]
fn doctor_through_nginx_from_the_generated_configuration() {
    if !Path::new(NGINX).exists() {
        assert!(
            std::env::var("CI").map_or(true, |v| v != "true" && v != "1"),
            "{NGINX} not found; apt-get install nginx-light (CI=true: a missing front server fails the run)"
        );
        let _ = writeln!(
            std::io::stderr(),
            "skipping the doctor CLI test: {NGINX} not found; apt-get install nginx-light"
        );
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("files");
    fs::create_dir(&root).unwrap();
    if std::fs::metadata("/proc/self").is_ok_and(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0) {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(tmp.path(), fs::Permissions::from_mode(0o755)).unwrap();
    }
    let (app_port, front_port) = (free_port(), free_port());
    let url = format!("http://127.0.0.1:{front_port}/");
    let site = print_config(&root, app_port, front_port);

    let nginx = start_nginx(&tmp.path().join("nginx"), site.clone(), |s| s);
    wait_listening(front_port, "nginx", &tmp.path().join("nginx/server.log"));
    let app_log = tmp.path().join("app.log");
    let log = fs::File::create(&app_log).unwrap();
    let app = Running(
        Command::new(BIN)
            .arg(format!("--listen=127.0.0.1:{app_port}"))
            .env("SENDFILE_BACKEND", "nginx")
            .env("SENDFILE_URL", "/protected")
            .env("SENDFILE_ROOT", &root)
            .env("PUBLIC_URL", &url)
            .env("SENDFILE_DOCTOR_TOKEN", TOKEN)
            .env("DATABASE_PATH", tmp.path().join("app.sqlite3"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap(),
    );
    wait_listening(app_port, "the app", &app_log);

    // The command line: one line per check, all PASS, exit 0.
    let out = doctor(&url, Some(TOKEN));
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert_eq!(text.lines().count(), 10, "{text}");
    assert!(text.lines().all(|l| l.starts_with("PASS ")), "{text}");

    // The health endpoint says the same, with the token.
    let bearer = format!("Authorization: Bearer {TOKEN}\r\n");
    let health = request(front_port, "/.well-known/sendfile-doctor/report", &bearer);
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    assert!(health.contains("PASS offload"), "{health}");

    // Without it, or with another, the doctor's routes tell nothing; the command says what
    // to set.
    let root_text = root.to_string_lossy();
    for path in [
        "/.well-known/sendfile-doctor",
        "/.well-known/sendfile-doctor/probe",
        "/.well-known/sendfile-doctor/symlink",
        "/.well-known/sendfile-doctor/report",
    ] {
        for headers in [
            "",
            "Authorization: Bearer a-wrong-token-of-enough-length\r\n",
        ] {
            let answer = request(front_port, path, headers);
            assert!(answer.starts_with("HTTP/1.1 401"), "{path}: {answer}");
            assert!(!answer.contains(&*root_text), "{path}: {answer}");
            let body = answer.split_once("\r\n\r\n").map_or("", |(_, b)| b);
            for secret in ["nginx", "/protected", "probe", "PASS"] {
                assert!(!body.contains(secret), "{path} tells {secret:?}: {answer}");
            }
        }
    }
    let out = doctor(&url, None);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("answered 401") && text.contains("SENDFILE_DOCTOR_TOKEN"),
        "{text}"
    );

    // The check at start-up logged its verdict.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let logged = fs::read_to_string(&app_log).unwrap_or_default();
        if logged.contains("doctor: offloading through") {
            assert!(logged.contains(&format!("through {url} works")), "{logged}");
            break;
        }
        assert!(Instant::now() < deadline, "no start-up verdict:\n{logged}");
        std::thread::sleep(Duration::from_millis(25));
    }
    // The page shows the verdict (set right after it is logged).
    loop {
        let page = http_get_as_alice(front_port, "/");
        if page.contains("Front server check: all 10 checks pass.") {
            assert!(
                page.contains("sent by the front server (nginx backend)"),
                "{page}"
            );
            break;
        }
        assert!(Instant::now() < deadline, "no verdict on the page:\n{page}");
        std::thread::sleep(Duration::from_millis(25));
    }
    drop(nginx);

    // The same nginx without `internal`: the CLI says so and exits 1.
    let nginx = start_nginx(&tmp.path().join("nginx-broken"), site, |s| {
        s.replace("        internal;\n", "")
    });
    wait_listening(
        front_port,
        "nginx",
        &tmp.path().join("nginx-broken/server.log"),
    );
    let out = doctor(&url, Some(TOKEN));
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("FAIL internal") && l.contains("Add \"internal;\"")),
        "{text}"
    );
    drop(nginx);
    drop(app);
}
