//! The example's page in a real headless Chromium (Debian's `chromium`), driven through the
//! DevTools protocol: the page renders (a screenshot is kept in
//! `$CARGO_TARGET_TMPDIR/protected_downloads-page.png`), signing in with the form works, a
//! click downloads a file, and the saved file has the intended name, non-ASCII included.
//!
//! Uploaded active content (`evil.html`, `evil.svg`), uploaded through the page and opened
//! inline through the app (`simple`) and behind nginx and Caddy with the generated
//! configurations, never runs its script on the app's origin (the script would call a beacon
//! on a loopback listener the test runs and counts), while uploaded images still render on
//! the page.
//!
//! Without Chromium this test prints one line and passes; with `CI=true` it fails.

use std::io::{BufRead, BufReader, Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use base64::Engine as _;
use sendfile_actix::{Backend, SendFileConfig};
use sendfile_e2e::app::RunningApp;
use sendfile_e2e::front::{self, Front, FrontConfig, Setup};
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
        // The handshake gets the whole wait (a busy machine may take a while to answer); then
        // reads time out quickly, so that waits can check their deadline.
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

/// A loopback HTTP listener that records the target of every request: `/control.html` is a
/// page whose script calls the beacon (to show that a script that runs is seen), anything
/// else an empty answer any origin may read.
struct Beacon {
    addr: SocketAddr,
    hits: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Beacon {
    fn start() -> Beacon {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let hits = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = std::thread::spawn({
            let (hits, stop) = (Arc::clone(&hits), Arc::clone(&stop));
            move || {
                for conn in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(mut conn) = conn else { continue };
                    let _ = conn.set_read_timeout(Some(WAIT));
                    let mut head = Vec::new();
                    let mut byte = [0u8; 1];
                    while !head.ends_with(b"\r\n\r\n") && conn.read(&mut byte).is_ok_and(|n| n == 1)
                    {
                        head.push(byte[0]);
                    }
                    let head = String::from_utf8_lossy(&head);
                    let target = head.split(' ').nth(1).unwrap_or("").to_owned();
                    let body = if target == "/control.html" {
                        evil_script("control", addr)
                    } else {
                        String::new()
                    };
                    hits.lock().unwrap().push(target);
                    let _ = write!(
                        conn,
                        "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nAccess-Control-Allow-Origin: *\r\n\
                         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    );
                }
            }
        });
        Beacon {
            addr,
            hits,
            stop,
            thread: Some(thread),
        }
    }

    /// How many requests asked for `/beacon?{what}`.
    fn count(&self, what: &str) -> usize {
        let target = format!("/beacon?{what}");
        self.hits
            .lock()
            .unwrap()
            .iter()
            .filter(|t| **t == target)
            .count()
    }
}

impl Drop for Beacon {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept.
        let _ = TcpStream::connect(self.addr);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A script that calls the beacon synchronously (the request has reached the listener
/// before the document's load event) and marks the page.
fn evil_script(what: &str, beacon: SocketAddr) -> String {
    format!(
        "<script>var x = new XMLHttpRequest(); x.open('GET', 'http://{beacon}/beacon?{what}', false); \
         try {{ x.send(); }} catch (e) {{}} document.title = 'ran';</script>"
    )
}

/// The files the test uploads: active content with the beacon script, and two images.
fn upload_files(dir: &Path, beacon: SocketAddr) -> Vec<PathBuf> {
    let png = base64::engine::general_purpose::STANDARD
        .decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==")
        .unwrap();
    let files: [(&str, Vec<u8>); 4] = [
        (
            "evil.html",
            format!(
                "<!doctype html><title>evil</title><p>evil</p>{}",
                evil_script("html", beacon)
            )
            .into_bytes(),
        ),
        (
            "evil.svg",
            format!(
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"20\" height=\"20\">\
                 <rect width=\"20\" height=\"20\" fill=\"red\"/>{}</svg>",
                evil_script("svg", beacon).replace("<script>", "<script><![CDATA[").replace("</script>", "]]></script>")
            )
            .into_bytes(),
        ),
        ("photo.png", png),
        (
            "pic.svg",
            b"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"40\" height=\"30\"><rect width=\"40\" height=\"30\" fill=\"green\"/></svg>".to_vec(),
        ),
    ];
    files
        .into_iter()
        .map(|(name, content)| {
            let path = dir.join(name);
            std::fs::write(&path, content).unwrap();
            path
        })
        .collect()
}

/// A new page (tab) with the Page and Network domains enabled; its session id.
fn new_page(b: &mut Browser, downloads: &Path) -> String {
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
        json!({"behavior": "allow", "downloadPath": downloads, "eventsEnabled": true}),
    );
    b.call(Some(&s), "Page.enable", json!({}));
    b.call(Some(&s), "Network.enable", json!({}));
    s
}

/// Opens `url` in the page; waits for the document's load event, or, when the browser
/// turned the navigation into a download, for the download's end. Returns the response's
/// status and headers, and whether a document was shown.
fn open(b: &mut Browser, s: &str, url: &str) -> (Value, bool) {
    b.events.retain(|e| {
        e["method"] != json!("Page.loadEventFired")
            && e["method"] != json!("Network.responseReceived")
    });
    let nav = b.call(Some(s), "Page.navigate", json!({"url": url}));
    let response = b.event("Network.responseReceived", |p| {
        p["type"] == json!("Document") && p["response"]["url"] == json!(url)
    });
    let shown = nav.get("errorText").is_none();
    if shown {
        b.event("Page.loadEventFired", |_| true);
    } else {
        let begin = b.event("Browser.downloadWillBegin", |p| p["url"] == json!(url));
        let guid = begin["guid"].clone();
        b.event("Browser.downloadProgress", |p| {
            p["guid"] == guid && p["state"] != json!("inProgress")
        });
    }
    (response["response"].clone(), shown)
}

/// The value of the header `name` (any case) of a DevTools response.
fn header(response: &Value, name: &str) -> Value {
    response["headers"]
        .as_object()
        .and_then(|h| h.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)))
        .map_or(Value::Null, |(_, v)| v.clone())
}

/// Signs in as alice, uploads `files` through the page's form, checks the images render on
/// the page, and opens the active files inline; returns those whose script ran.
fn attack_through(
    b: &mut Browser,
    s: &str,
    base: &str,
    files: &[PathBuf],
    beacon: &Beacon,
    what: &str,
) -> Vec<String> {
    let mut ran = Vec::new();
    b.call(Some(s), "Page.navigate", json!({"url": format!("{base}/")}));
    b.event("Page.loadEventFired", |_| true);
    b.navigate_by(
        s,
        "document.querySelector('input[name=name]').value = 'alice';\
         document.querySelector('input[name=password]').value = 'wonderland';\
         document.querySelector('form.sign-in button').click(); true",
    );
    assert_eq!(
        b.eval(
            s,
            "document.querySelector('form.sign-out strong')?.textContent"
        ),
        json!("alice"),
        "{what}: signed in"
    );
    for file in files {
        let doc = b.call(Some(s), "DOM.getDocument", json!({}));
        let input = b.call(
            Some(s),
            "DOM.querySelector",
            json!({"nodeId": doc["root"]["nodeId"], "selector": "form.upload input[type=file]"}),
        );
        assert_ne!(input["nodeId"], json!(0), "{what}: the upload form");
        b.call(
            Some(s),
            "DOM.setFileInputFiles",
            json!({"nodeId": input["nodeId"], "files": [file]}),
        );
        b.navigate_by(
            s,
            "document.querySelector('form.upload button').click(); true",
        );
        let name = file.file_name().unwrap().to_str().unwrap();
        let listed = b.eval(
            s,
            &format!(
                "[...document.querySelectorAll('td.name')].some(e => e.textContent === '{name}')"
            ),
        );
        assert_eq!(listed, json!(true), "{what}: {name} uploaded and listed");
    }
    // The uploaded images render on the page (<img> from the app's origin).
    let sizes = b.eval(
        s,
        "Promise.all([...document.querySelectorAll('img.thumb')].map(i => i.complete ? i : \
           new Promise(r => { i.onload = () => r(i); i.onerror = () => r(i); })))\
         .then(imgs => JSON.stringify(Object.fromEntries(imgs.map(i => \
           [decodeURIComponent(i.src.split('/').pop()), i.naturalWidth]))))",
    );
    let sizes: Value = serde_json::from_str(sizes.as_str().unwrap()).unwrap();
    assert_eq!(
        sizes["photo.png"],
        json!(1),
        "{what}: photo.png renders: {sizes}"
    );
    assert_eq!(
        sizes["pic.svg"],
        json!(40),
        "{what}: pic.svg renders: {sizes}"
    );

    // The active files, opened inline as a user clicking "View" would.
    for name in ["evil.html", "evil.svg"] {
        let view = b.eval(
            s,
            &format!("[...document.querySelectorAll('a.view')].find(a => a.href.endsWith('/{name}'))?.href"),
        );
        let url = view
            .as_str()
            .unwrap_or_else(|| panic!("{what}: no view link for {name}"))
            .to_owned();
        let kind = name.rsplit('.').next().unwrap_or_default();
        let before = beacon.count(kind);
        let (response, shown) = open(b, s, &url);
        assert_eq!(response["status"], json!(200), "{what}: {name}: {response}");
        let called = beacon.count(kind) - before;
        let title_ran = shown && b.eval(s, "document.title") == json!("ran");
        let outcome = format!(
            "{what}: {name}: {}, beacon called {called} time(s) (content-type {}, content-disposition {}, csp {}, nosniff {})",
            if shown { "shown" } else { "downloaded" },
            header(&response, "content-type"),
            header(&response, "content-disposition"),
            header(&response, "content-security-policy"),
            header(&response, "x-content-type-options"),
        );
        let _ = writeln!(std::io::stderr(), "{outcome}");
        if called > 0 || title_ran {
            ran.push(outcome);
        }
        b.call(Some(s), "Page.navigate", json!({"url": format!("{base}/")}));
        b.event("Page.loadEventFired", |_| true);
    }
    ran
}

#[test]
fn uploaded_active_content_never_runs_its_script() {
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
    let beacon = Beacon::start();
    let uploads = tempfile::tempdir().unwrap();
    let files = upload_files(uploads.path(), beacon.addr);
    let downloads = tempfile::tempdir().unwrap();
    let mut b = Browser::launch();

    // The detector works: a script that runs calls the beacon before the load event.
    let s = new_page(&mut b, downloads.path());
    let (_, shown) = open(&mut b, &s, &format!("http://{}/control.html", beacon.addr));
    assert!(shown);
    assert_eq!(
        beacon.count("control"),
        1,
        "{:?}",
        beacon.hits.lock().unwrap()
    );

    let mut ran = Vec::new();
    for setup in [None, Some(Setup::Nginx), Some(Setup::Caddy)] {
        if setup.is_some_and(|setup| !front::available_or_skip(setup)) {
            continue;
        }
        let what = setup.map_or("simple", Setup::name);
        let dir = tempfile::Builder::new()
            .prefix("sendfile-browser-")
            .tempdir()
            .unwrap();
        std::fs::set_permissions(
            dir.path(),
            <std::fs::Permissions as std::os::unix::fs::PermissionsExt>::from_mode(0o755),
        )
        .unwrap();
        let root = dir.path().join("files");
        protected_downloads::create_sample_tree(&root).unwrap();
        let backend: Backend = setup.map_or("simple", Setup::backend_name).parse().unwrap();
        let mut config = SendFileConfig::builder(backend).root(&root);
        if let Some(url) = setup.and_then(Setup::url) {
            config = config.url(url);
        }
        let app = RunningApp::start(config.build().unwrap(), false).unwrap();
        let front = setup.map(|setup| {
            Front::start(&FrontConfig {
                setup,
                app: app.addr,
                root: root.clone(),
                dir: dir.path().join("server"),
                port: None,
                nosymfollow: None,
                site_extra: None,
            })
            .unwrap_or_else(|e| panic!("starting {setup}: {e}"))
        });
        let base = format!("http://{}", front.as_ref().map_or(app.addr, |f| f.addr));
        let s = new_page(&mut b, downloads.path());
        ran.extend(attack_through(&mut b, &s, &base, &files, &beacon, what));
        let info = b.call(Some(&s), "Target.getTargetInfo", json!({}));
        b.call(
            None,
            "Target.closeTarget",
            json!({"targetId": info["targetInfo"]["targetId"]}),
        );
        drop(front);
        drop(app);
    }
    assert!(
        ran.is_empty(),
        "uploaded active content ran its script on the app's origin:\n{}",
        ran.join("\n")
    );
}
