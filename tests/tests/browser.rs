//! The example's page in a real headless Chromium (Debian's `chromium`), driven through the
//! DevTools protocol: the page renders (a screenshot is kept in
//! `$CARGO_TARGET_TMPDIR/protected_downloads-page.png`), signing in with the form works, a
//! click downloads a file, and the saved file has the intended name, non-ASCII included.
//!
//! Without Chromium this test prints one line and passes; with `CI=true` it fails.

use std::io::{BufRead, BufReader, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use sendfile_actix::{Backend, SendFileConfig};
use sendfile_e2e::app::RunningApp;
use sendfile_e2e::front;
use serde_json::{Value, json};
use tungstenite::{Message, WebSocket};

const CHROMIUM: &str = "/usr/bin/chromium";
const WAIT: Duration = Duration::from_secs(30);

/// Headless Chromium, killed by its process id on drop.
struct Browser {
    child: Child,
    _profile: tempfile::TempDir,
    ws: WebSocket<TcpStream>,
    next_id: u64,
    /// Events read while waiting for something else.
    events: Vec<Value>,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Browser {
    fn launch() -> Browser {
        let profile = tempfile::tempdir().unwrap();
        let mut child = Command::new(CHROMIUM)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-dev-shm-usage",
                "--remote-debugging-port=0",
                "--remote-debugging-address=127.0.0.1",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting chromium");
        // Chromium says where DevTools listens on stderr; keep draining it afterwards.
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("DevTools listening on ")
                    && let Some(tx) = tx.take()
                {
                    let _ = tx.send(url.trim().to_owned());
                }
            }
        });
        let url = rx
            .recv_timeout(WAIT)
            .expect("chromium did not print its DevTools address within 30 s");
        let addr = url
            .strip_prefix("ws://")
            .and_then(|rest| rest.split('/').next())
            .expect("a ws:// URL")
            .to_owned();
        let stream = TcpStream::connect(&addr).unwrap();
        // The handshake waits as long as anything else (a short timeout interrupts it on a
        // loaded machine); reads afterwards poll.
        stream.set_read_timeout(Some(WAIT)).unwrap();
        let (ws, _) = tungstenite::client::client(url.as_str(), stream).expect("websocket");
        ws.get_ref()
            .set_read_timeout(Some(Duration::from_millis(500)))
            .unwrap();
        Browser {
            child,
            _profile: profile,
            ws,
            next_id: 0,
            events: Vec::new(),
        }
    }

    /// Reads one message; `None` on a read timeout.
    fn read(&mut self) -> Option<Value> {
        match self.ws.read() {
            Ok(Message::Text(t)) => Some(serde_json::from_str(t.as_str()).unwrap()),
            Ok(_) => None,
            Err(tungstenite::Error::Io(e))
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                None
            }
            Err(e) => panic!("DevTools connection: {e}"),
        }
    }

    /// Calls `method`, in the page's session when `session` is given; returns the result.
    fn call(&mut self, session: Option<&str>, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut msg = json!({"id": id, "method": method});
        msg["params"] = params;
        if let Some(s) = session {
            msg["sessionId"] = json!(s);
        }
        self.ws.send(Message::text(msg.to_string())).unwrap();
        let deadline = Instant::now() + WAIT;
        loop {
            assert!(
                Instant::now() < deadline,
                "no answer to {method} within 30 s"
            );
            let Some(v) = self.read() else { continue };
            if v["id"] == json!(id) {
                assert!(v.get("error").is_none(), "{method}: {v}");
                return v["result"].clone();
            }
            if v.get("method").is_some() {
                self.events.push(v);
            }
        }
    }

    /// Waits for the first event named `method` that `matches`, and removes it.
    fn event(&mut self, method: &str, matches: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(i) = self
                .events
                .iter()
                .position(|e| e["method"] == json!(method) && matches(&e["params"]))
            {
                return self.events.remove(i)["params"].clone();
            }
            assert!(
                Instant::now() < deadline,
                "no {method} within 30 s; events: {:?}",
                self.events
            );
            if let Some(v) = self.read()
                && v.get("method").is_some()
            {
                self.events.push(v);
            }
        }
    }

    /// Evaluates `expression` in the page and returns its value.
    fn eval(&mut self, session: &str, expression: &str) -> Value {
        let r = self.call(
            Some(session),
            "Runtime.evaluate",
            json!({"expression": expression, "returnByValue": true, "awaitPromise": true}),
        );
        assert!(r.get("exceptionDetails").is_none(), "{expression}: {r}");
        r["result"]["value"].clone()
    }

    /// Runs `action` in the page and waits for the page it leads to.
    fn navigate_by(&mut self, session: &str, action: &str) {
        self.events
            .retain(|e| e["method"] != json!("Page.loadEventFired"));
        self.eval(session, action);
        self.event("Page.loadEventFired", |_| true);
    }
}

fn downloaded(dir: &Path, name: &str) -> Vec<u8> {
    std::fs::read(dir.join(name)).unwrap_or_else(|e| {
        let listing: Vec<PathBuf> = std::fs::read_dir(dir)
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        panic!("{name}: {e}; the download directory holds {listing:?}")
    })
}

#[test]
fn the_page_renders_signs_in_and_downloads_with_the_intended_names() {
    if !Path::new(CHROMIUM).exists() {
        assert!(
            !front::is_ci(),
            "{CHROMIUM} not found; apt-get install chromium (CI=true: a missing browser fails the run)"
        );
        let _ = writeln!(
            std::io::stderr(),
            "skipping the browser test: {CHROMIUM} not found; apt-get install chromium"
        );
        return;
    }
    let root = tempfile::tempdir().unwrap();
    protected_downloads::create_sample_tree(root.path()).unwrap();
    let app = RunningApp::start(
        SendFileConfig::builder(Backend::Simple)
            .root(root.path())
            .build()
            .unwrap(),
        false,
    )
    .unwrap();
    let downloads = tempfile::tempdir().unwrap();
    let mut b = Browser::launch();

    let target = b.call(None, "Target.createTarget", json!({"url": "about:blank"}));
    let attached = b.call(
        None,
        "Target.attachToTarget",
        json!({"targetId": target["targetId"], "flatten": true}),
    );
    let s = attached["sessionId"].as_str().unwrap().to_owned();
    b.call(
        None,
        "Browser.setDownloadBehavior",
        json!({"behavior": "allow", "downloadPath": downloads.path(), "eventsEnabled": true}),
    );
    b.call(Some(&s), "Page.enable", json!({}));
    b.call(
        Some(&s),
        "Emulation.setDeviceMetricsOverride",
        json!({"width": 900, "height": 640, "deviceScaleFactor": 1, "mobile": false}),
    );

    // Not signed in: the form.
    let url = format!("http://{}/", app.addr);
    b.call(Some(&s), "Page.navigate", json!({"url": url}));
    b.event("Page.loadEventFired", |_| true);
    assert_eq!(
        b.eval(&s, "document.querySelector('form.sign-in') !== null"),
        json!(true)
    );

    // A wrong password stays on the form, with a message.
    b.navigate_by(
        &s,
        "document.querySelector('input[name=name]').value = 'alice';\
         document.querySelector('input[name=password]').value = 'nope';\
         document.querySelector('form.sign-in button').click(); true",
    );
    assert_eq!(
        b.eval(&s, "document.querySelector('.error')?.textContent"),
        json!("Wrong name or password.")
    );

    // Signing in with the form leads to the files.
    b.navigate_by(
        &s,
        "document.querySelector('input[name=name]').value = 'alice';\
         document.querySelector('input[name=password]').value = 'wonderland';\
         document.querySelector('form.sign-in button').click(); true",
    );
    let facts = b.eval(
        &s,
        "JSON.stringify({\
           title: document.title,\
           font: getComputedStyle(document.body).fontFamily,\
           viewport: !!document.querySelector('meta[name=viewport]'),\
           signedIn: document.querySelector('form.sign-out strong')?.textContent,\
           names: [...document.querySelectorAll('td.name')].map(e => e.textContent),\
           buttons: [...document.querySelectorAll('a.button')].filter(a => a.getBoundingClientRect().height > 10).length,\
           tableWidth: document.querySelector('table').getBoundingClientRect().width,\
           overflow: document.documentElement.scrollWidth > window.innerWidth\
         })",
    );
    let facts: Value = serde_json::from_str(facts.as_str().unwrap()).unwrap();
    assert_eq!(
        facts["title"],
        json!("Your files · Protected downloads"),
        "{facts}"
    );
    assert!(
        facts["font"].as_str().unwrap().starts_with("system-ui"),
        "{facts}"
    );
    assert_eq!(facts["viewport"], json!(true), "{facts}");
    assert_eq!(facts["signedIn"], json!("alice"), "{facts}");
    let names: Vec<&str> = facts["names"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    for n in [
        "welcome.txt",
        "notes.txt",
        "r\u{e9}sum\u{e9} 2026.txt",
        "price list 2026.pdf",
    ] {
        assert!(names.contains(&n), "{n} not listed: {facts}");
    }
    assert!(
        !names.iter().any(|n| n.contains('/')),
        "raw paths as names: {facts}"
    );
    assert_eq!(facts["buttons"], json!(names.len()), "{facts}");
    assert!(facts["tableWidth"].as_f64().unwrap() > 500.0, "{facts}");
    assert_eq!(facts["overflow"], json!(false), "{facts}");

    // The screenshot, kept as an artifact.
    let shot = b.call(
        Some(&s),
        "Page.captureScreenshot",
        json!({"format": "png", "captureBeyondViewport": true}),
    );
    let png = base64::engine::general_purpose::STANDARD
        .decode(shot["data"].as_str().unwrap())
        .unwrap();
    assert!(
        png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 10_000,
        "{} bytes",
        png.len()
    );
    let artifact = Path::new(env!("CARGO_TARGET_TMPDIR")).join("protected_downloads-page.png");
    std::fs::write(&artifact, &png).unwrap();
    let _ = writeln!(std::io::stderr(), "screenshot: {}", artifact.display());

    // A click downloads the file under its own name, a non-ASCII one too.
    for (href, name, content) in [
        (
            "/download/users/alice/notes.txt",
            "notes.txt",
            &b"Alice's private notes: only alice may download this.\n"[..],
        ),
        (
            "/download/users/alice/r%C3%A9sum%C3%A9%202026.txt",
            "r\u{e9}sum\u{e9} 2026.txt",
            &b"Alice's r\xc3\xa9sum\xc3\xa9.\n"[..],
        ),
    ] {
        assert_eq!(
            b.eval(
                &s,
                &format!("(() => {{ const a = document.querySelector('a[href=\"{href}\"]'); a.click(); return !!a; }})()"),
            ),
            json!(true)
        );
        let begin = b.event("Browser.downloadWillBegin", |p| {
            p["url"].as_str().is_some_and(|u| u.ends_with(href))
        });
        assert_eq!(begin["suggestedFilename"], json!(name), "{begin}");
        let guid = begin["guid"].clone();
        let done = b.event("Browser.downloadProgress", |p| {
            p["guid"] == guid && p["state"] != json!("inProgress")
        });
        assert_eq!(done["state"], json!("completed"), "{done}");
        assert_eq!(downloaded(downloads.path(), name), content);
    }

    // Signing out leads back to the form; the files are no longer listed.
    b.navigate_by(
        &s,
        "document.querySelector('form.sign-out button').click(); true",
    );
    assert_eq!(
        b.eval(&s, "[!!document.querySelector('form.sign-in'), document.querySelectorAll('a.button').length]"),
        json!([true, 0])
    );
}

#[test]
fn download_all_buttons_save_zip_archives_of_each_area() {
    if !Path::new(CHROMIUM).exists() {
        assert!(
            !front::is_ci(),
            "{CHROMIUM} not found; apt-get install chromium (CI=true: a missing browser fails the run)"
        );
        let _ = writeln!(
            std::io::stderr(),
            "skipping the browser test: {CHROMIUM} not found; apt-get install chromium"
        );
        return;
    }
    let root = tempfile::tempdir().unwrap();
    protected_downloads::create_sample_tree(root.path()).unwrap();
    let app = RunningApp::start(
        SendFileConfig::builder(Backend::Simple)
            .root(root.path())
            .build()
            .unwrap(),
        false,
    )
    .unwrap();
    let downloads = tempfile::tempdir().unwrap();
    let mut b = Browser::launch();
    let target = b.call(None, "Target.createTarget", json!({"url": "about:blank"}));
    let attached = b.call(
        None,
        "Target.attachToTarget",
        json!({"targetId": target["targetId"], "flatten": true}),
    );
    let s = attached["sessionId"].as_str().unwrap().to_owned();
    b.call(
        None,
        "Browser.setDownloadBehavior",
        json!({"behavior": "allow", "downloadPath": downloads.path(), "eventsEnabled": true}),
    );
    b.call(Some(&s), "Page.enable", json!({}));
    b.call(
        Some(&s),
        "Page.navigate",
        json!({"url": format!("http://{}/", app.addr)}),
    );
    b.event("Page.loadEventFired", |_| true);
    // Signed in as alice with the form: the session cookie goes with the downloads.
    b.navigate_by(
        &s,
        "document.querySelector('input[name=name]').value = 'alice';\
         document.querySelector('input[name=password]').value = 'wonderland';\
         document.querySelector('form.sign-in button').click(); true",
    );
    // The page has settled: its buttons are laid out and visible.
    let buttons = b.eval(
        &s,
        "JSON.stringify([...document.querySelectorAll('a.download-all')]\
           .filter(a => a.getBoundingClientRect().height > 10)\
           .map(a => a.getAttribute('href')))",
    );
    assert_eq!(
        buttons,
        json!("[\"/archive/public\",\"/archive/users/alice\"]")
    );
    for (href, saved, names) in [
        (
            "/archive/public",
            "public.zip",
            vec!["handbook.html", "price list 2026.pdf", "welcome.txt"],
        ),
        (
            "/archive/users/alice",
            "alice.zip",
            vec!["notes.txt", "r\u{e9}sum\u{e9} 2026.txt"],
        ),
    ] {
        assert_eq!(
            b.eval(
                &s,
                &format!("(() => {{ const a = document.querySelector('a.download-all[href=\"{href}\"]'); a.click(); return !!a; }})()"),
            ),
            json!(true)
        );
        let begin = b.event("Browser.downloadWillBegin", |p| {
            p["url"].as_str().is_some_and(|u| u.ends_with(href))
        });
        assert_eq!(begin["suggestedFilename"], json!(saved), "{begin}");
        let guid = begin["guid"].clone();
        let done = b.event("Browser.downloadProgress", |p| {
            p["guid"] == guid && p["state"] != json!("inProgress")
        });
        assert_eq!(done["state"], json!("completed"), "{done}");
        let bytes = downloaded(downloads.path(), saved);
        assert_eq!(&bytes[..4], b"PK\x03\x04");
        let names: Vec<String> = names.into_iter().map(str::to_owned).collect();
        let contents: Vec<(String, Vec<u8>)> = names
            .iter()
            .map(|n| {
                let dir = href.trim_start_matches("/archive/");
                (
                    n.clone(),
                    std::fs::read(root.path().join(dir).join(n)).unwrap(),
                )
            })
            .collect();
        sendfile_e2e::readers::python(&downloads.path().join(saved), &names, &contents, true);
    }
}
