//! Symlinks and the front server (issue 8): the library checks a file and names its
//! symlink-free path, but the front server opens that path again later.
//!
//! - Each server, from the shipped templates, serves a root that sits below a symlinked
//!   directory (`current -> releases/N`), and the tests record whether the server itself
//!   follows a symlink in the path it is given.
//! - The race: while a directory on the path of an allowed file is swapped in a loop for a
//!   symlink to the outside, clients must never receive the outside file. Asserted for nginx
//!   with the shipped `disable_symlinks`, for `simple`, and for Apache, lighttpd and Caddy with
//!   the root on a `nosymfollow` mount (the server runs in a mount namespace of its own; needs
//!   root). With the shipped configuration alone those three follow the symlink:
//!   `--ignored` tests measure that leak without asserting it away.
//!
//! Without a server these tests print one line and pass; with `CI=true` they fail.

use std::io::Write as _;
use std::time::Duration;

use sendfile_actix::{Backend, SendFileConfig};
use sendfile_e2e::app::{RunningApp, UncheckedOffload};
use sendfile_e2e::front::{self, Front, FrontConfig, Setup};
use sendfile_e2e::http::{Request, Response};
use sendfile_e2e::race::{RACED_TARGET, RaceLimits, RaceOutcome, RaceTree, hammer};

/// The app behind a server (none: asked directly), serving a [`RaceTree`].
struct Stack {
    front: Option<Front>,
    app: RunningApp,
    tree: RaceTree,
    setup: Option<Setup>,
}

impl Stack {
    fn start(setup: Option<Setup>) -> Stack {
        Stack::start_with(setup, false)
    }

    /// `nosymfollow`: the server runs with the real root mounted `nosymfollow`.
    fn start_with(setup: Option<Setup>, nosymfollow: bool) -> Stack {
        let tree = RaceTree::new().expect("race tree");
        let backend: Backend = setup
            .map_or("simple", Setup::backend_name)
            .parse()
            .expect("backend");
        let mut config = SendFileConfig::builder(backend).root(&tree.root);
        if let Some(url) = setup.and_then(Setup::url) {
            config = config.url(url);
        }
        let config = config.build().expect("valid config");
        let unchecked = setup.map(|setup| UncheckedOffload {
            header: setup.offload_header(),
            prefix: setup
                .url()
                .map_or_else(|| tree.root.to_string_lossy().into_owned(), str::to_owned),
        });
        let app = RunningApp::start_with(config, true, unchecked).expect("app");
        let front = setup.map(|setup| {
            Front::start(&FrontConfig {
                setup,
                app: app.addr,
                root: tree.root.clone(),
                dir: tree.dir.path().join("server"),
                port: None,
                nosymfollow: nosymfollow.then(|| tree.real_root.clone()),
                site_extra: (nosymfollow && setup == Setup::Lighttpd).then(|| {
                    // lighttpd keeps a file it opened (and its stat) for up to a second and
                    // serves it again without opening the path: a race test would hardly
                    // ever reach its open. Without the cache every request opens the path.
                    "server.stat-cache-engine = \"disable\"".to_owned()
                }),
            })
            .unwrap_or_else(|e| panic!("starting {setup}: {e}"))
        });
        Stack {
            front,
            app,
            tree,
            setup,
        }
    }

    fn addr(&self) -> std::net::SocketAddr {
        self.front.as_ref().map_or(self.app.addr, |f| f.addr)
    }

    fn get(&self, target: &str) -> Response {
        Request::get(target)
            .send(self.addr())
            .unwrap_or_else(|e| panic!("GET {target}: {e}\n{}", self.logs()))
    }

    fn logs(&self) -> String {
        self.front.as_ref().map(Front::logs).unwrap_or_default()
    }

    fn name(&self) -> &'static str {
        self.setup.map_or("simple", Setup::name)
    }

    /// Runs the race; returns what the clients saw, how many files the app handed to the front
    /// server, and how many requests the app refused (404).
    fn race(&self, limits: RaceLimits) -> (RaceOutcome, u64, u64) {
        let mut swapper = self
            .tree
            .start_swapping()
            .expect("renameat2(RENAME_EXCHANGE)");
        let before = (self.app.stats.offloads(), self.app.stats.not_found());
        let outcome = hammer(
            self.addr(),
            RACED_TARGET,
            &self.tree.inside,
            &self.tree.outside,
            limits,
        );
        let swaps = swapper.stop().expect("swapping");
        assert!(swaps > 0, "{}: the swapper never ran", self.name());
        let offloads = self.app.stats.offloads() - before.0;
        let app_refused = self.app.stats.not_found() - before.1;
        (outcome, offloads, app_refused)
    }
}

/// Writes one line to stderr (shown even for a passing test, with `--nocapture` or not).
fn note(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// How the server answers when the kernel refuses to follow a symlink (`ELOOP`, `ENOTDIR`):
/// Caddy's file_server answers 500 when its stat fails that way, and 503 (with Retry-After)
/// when its later open does.
fn refusal_statuses(setup: Setup) -> &'static [u16] {
    match setup {
        Setup::Caddy | Setup::CaddyModWsgi => &[403, 404, 500, 503],
        _ => &[403, 404],
    }
}

/// The setups whose shipped configuration refuses every symlink below the root.
fn refuses_symlinks(setup: Setup) -> bool {
    setup == Setup::Nginx
}

fn root_under_symlink(setup: Setup) {
    if !front::available_or_skip(setup) {
        return;
    }
    let s = Stack::start(Some(setup));
    let welcome = std::fs::read(s.tree.real_root.join("public/welcome.txt")).unwrap();
    for target in [
        "/download/public/welcome.txt",
        // A symlink inside the root: the library names the real file.
        "/download/public/welcome-link.txt",
        // Offloaded without the library: the server itself reaches the root.
        "/unchecked/public/welcome.txt",
    ] {
        let res = s.get(target);
        assert!(
            res.status == 200 && res.body == welcome,
            "{setup}: a root below a symlink must be served:\n{res:?}\n{}",
            s.logs()
        );
    }
    let res = s.get(RACED_TARGET);
    assert!(res.status == 200 && res.body == s.tree.inside, "{res:?}");

    // The library refuses the symlink to the outside.
    let res = s.get("/download/public/d.swap/secret.txt");
    assert_eq!(res.status, 404, "{setup}: {res:?}");
    assert_ne!(res.body, s.tree.outside);

    // What the server itself does when the path it is given crosses a symlink below the root.
    let res = s.get("/unchecked/public/d.swap/secret.txt");
    if refuses_symlinks(setup) {
        assert!(
            matches!(res.status, 403 | 404) && res.body != s.tree.outside,
            "{setup} must refuse a symlink below the root itself:\n{res:?}"
        );
    } else {
        // Documented in the guide (sendfile-actix/src/docs/front-servers.md): these servers follow symlinks, so only the library's
        // check (which a concurrent swap can outrun) stands between a client and the outside.
        assert!(
            res.status == 200 && res.body == s.tree.outside,
            "{setup} now refuses a symlink itself: update the guide's limits and \
             refuses_symlinks():\n{res:?}"
        );
    }
}

/// The race limits of the asserting tests: bounded in time and count.
const LIMITS: RaceLimits = RaceLimits {
    clients: 6,
    max_requests: 12_000,
    max_time: Duration::from_secs(6),
};

fn race_is_refused(setup: Option<Setup>) {
    if let Some(setup) = setup
        && !front::available_or_skip(setup)
    {
        return;
    }
    assert_no_leak_in_race(&Stack::start(setup));
}

/// The race behind `setup` with the root on a `nosymfollow` mount: the kernel refuses the
/// swapped-in symlink whatever the server does.
fn race_is_refused_on_nosymfollow(setup: Setup) {
    if !front::available_or_skip(setup) {
        return;
    }
    if let Err(why) = front::can_mount_nosymfollow() {
        assert!(
            !front::is_ci(),
            "{setup} nosymfollow tests: {why} (CI=true)"
        );
        note(&format!("skipping {setup} nosymfollow tests: {why}"));
        return;
    }
    let s = Stack::start_with(Some(setup), true);
    let welcome = std::fs::read(s.tree.real_root.join("public/welcome.txt")).unwrap();
    for target in [
        "/download/public/welcome.txt",
        // The library resolves links below the root itself and names the real file.
        "/download/public/welcome-link.txt",
    ] {
        let res = s.get(target);
        assert!(
            res.status == 200 && res.body == welcome,
            "{setup} with nosymfollow must serve a root below a symlink:\n{res:?}\n{}",
            s.logs()
        );
    }
    let res = s.get("/unchecked/public/d.swap/secret.txt");
    assert!(
        refusal_statuses(setup).contains(&res.status) && res.body != s.tree.outside,
        "{setup} with nosymfollow must refuse a symlink below the root:\n{res:?}"
    );
    assert_no_leak_in_race(&s);
}

fn assert_no_leak_in_race(s: &Stack) {
    let (outcome, offloads, app_refused) = s.race(LIMITS);
    let name = s.name();
    note(&format!(
        "{name} race: {outcome}; app: {offloads} offloads, {app_refused} refused"
    ));
    assert_eq!(
        outcome.leaks,
        0,
        "{name}: the outside file was served: {outcome}\n{}",
        s.logs()
    );
    // Connection-level failures are not leaks, but many would mean a broken run.
    assert!(
        outcome.errors * 100 <= outcome.requests,
        "{name}: {outcome}"
    );
    // Not vacuous: both states of the swap were seen, many times.
    assert!(
        outcome.inside >= 100 && app_refused >= 100 && outcome.other_with(404) >= 100,
        "{name}: the race did not race: app refused {app_refused}, {outcome}"
    );
    let refusals = s.setup.map_or(&[404][..], refusal_statuses);
    let unexpected: u64 = outcome
        .other
        .iter()
        .filter(|(status, _)| !refusals.contains(status))
        .map(|(_, n)| n)
        .sum();
    assert_eq!(unexpected, 0, "{name}: {outcome}\n{}", s.logs());
    if s.setup.is_some() {
        // The app refused while `d` was the symlink, and the server refused files the app had
        // checked but that were swapped before the server opened them: the window was hit.
        let server_refused = offloads.saturating_sub(outcome.inside + outcome.leaks);
        assert!(
            server_refused >= 20,
            "{name}: the race did not hit the window: the server refused {server_refused} \
             of {offloads} offloads: {outcome}"
        );
    }
}

/// Measures the leak behind a server that follows symlinks; asserts only that it raced.
fn race_is_measured(setup: Setup) {
    if !front::available_or_skip(setup) {
        return;
    }
    let s = Stack::start(Some(setup));
    let (outcome, offloads, app_refused) = s.race(LIMITS);
    note(&format!(
        "{setup} race: {outcome}; app: {offloads} offloads, {app_refused} refused"
    ));
    assert!(
        outcome.inside >= 100 && app_refused >= 100,
        "{setup}: the race did not race: {outcome}"
    );
}

#[test]
fn nginx_serves_a_root_below_a_symlink_and_refuses_symlinks_itself() {
    root_under_symlink(Setup::Nginx);
}

#[test]
fn apache_serves_a_root_below_a_symlink() {
    root_under_symlink(Setup::Apache);
}

#[test]
fn lighttpd_serves_a_root_below_a_symlink() {
    root_under_symlink(Setup::Lighttpd);
}

#[test]
fn caddy_serves_a_root_below_a_symlink() {
    root_under_symlink(Setup::Caddy);
}

#[test]
fn caddy_mod_wsgi_serves_a_root_below_a_symlink() {
    root_under_symlink(Setup::CaddyModWsgi);
}

#[test]
fn simple_backend_never_serves_a_swapped_in_symlink() {
    race_is_refused(None);
}

#[test]
fn nginx_never_serves_a_swapped_in_symlink() {
    race_is_refused(Some(Setup::Nginx));
}

#[test]
fn apache_on_a_nosymfollow_mount_never_serves_a_swapped_in_symlink() {
    race_is_refused_on_nosymfollow(Setup::Apache);
}

#[test]
fn lighttpd_on_a_nosymfollow_mount_never_serves_a_swapped_in_symlink() {
    race_is_refused_on_nosymfollow(Setup::Lighttpd);
}

#[test]
fn caddy_on_a_nosymfollow_mount_never_serves_a_swapped_in_symlink() {
    race_is_refused_on_nosymfollow(Setup::Caddy);
}

#[test]
fn caddy_mod_wsgi_on_a_nosymfollow_mount_never_serves_a_swapped_in_symlink() {
    race_is_refused_on_nosymfollow(Setup::CaddyModWsgi);
}

#[test]
#[ignore = "measurement: Apache follows symlinks and leaks; run with --ignored --nocapture"]
fn apache_race_measurement() {
    race_is_measured(Setup::Apache);
}

#[test]
#[ignore = "measurement: lighttpd follows symlinks and leaks; run with --ignored --nocapture"]
fn lighttpd_race_measurement() {
    race_is_measured(Setup::Lighttpd);
}

#[test]
#[ignore = "measurement: Caddy follows symlinks and leaks; run with --ignored --nocapture"]
fn caddy_race_measurement() {
    race_is_measured(Setup::Caddy);
}

#[test]
#[ignore = "measurement: Caddy follows symlinks and leaks; run with --ignored --nocapture"]
fn caddy_mod_wsgi_race_measurement() {
    race_is_measured(Setup::CaddyModWsgi);
}
