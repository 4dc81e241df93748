//! An S3-compatible store that verifies SigV4 signatures (`s3s-fs`, from crates.io), run on a
//! free loopback port over a temporary directory, and uploads to it with signed requests.
//!
//! `scripts/test-all` installs it when missing (`cargo install --locked s3s-fs@0.14.1
//! --features binary`, into `$CARGO_HOME/bin`). It is found through `SENDFILE_S3S_FS`, then
//! `$CARGO_HOME/bin`, `$HOME/.cargo/bin` and `PATH`.

use std::io::{self, Write as _};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rusty_s3::actions::{CreateBucket, GetObject, PutObject, S3Action as _};
use rusty_s3::{Bucket, Credentials, UrlStyle};
use sendfile_core::object::ObjectStore;
use sendfile_core::s3::{S3Credentials, S3Presigner};

use crate::front::{free_port, is_ci};
use crate::http::{Request, Response};

/// The version `scripts/test-all` installs: the newest that builds with rustc 1.95 (0.15+
/// need 1.96).
pub const S3S_FS_VERSION: &str = "0.14.1";

/// The command that installs the store.
pub fn install_command() -> String {
    format!("cargo install --locked s3s-fs@{S3S_FS_VERSION} --features binary")
}

/// The access key id the test store accepts.
pub const ACCESS_KEY: &str = "AKIDSENDFILETEST";
/// The secret the test store accepts.
pub const SECRET_KEY: &str = "sendfile-test-secret-key-do-not-use";
/// The bucket the tests create.
pub const BUCKET: &str = "protected";
/// The region the tests sign for.
pub const REGION: &str = "us-east-1";

/// Where the `s3s-fs` program is, if anywhere.
pub fn s3s_fs_binary() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("SENDFILE_S3S_FS").filter(|p| !p.is_empty()) {
        // Named explicitly: that one or none.
        let p = PathBuf::from(p);
        return p.is_file().then_some(p);
    }
    let mut candidates = Vec::new();
    if let Some(home) = std::env::var_os("CARGO_HOME") {
        candidates.push(PathBuf::from(home).join("bin/s3s-fs"));
    }
    if let Some(home) = std::env::var_os("HOME") {
        candidates.push(PathBuf::from(home).join(".cargo/bin/s3s-fs"));
    }
    if let Some(path) = std::env::var_os("PATH") {
        candidates.extend(std::env::split_paths(&path).map(|d| d.join("s3s-fs")));
    }
    candidates.into_iter().find(|p| p.is_file())
}

/// The store program, or `None` after saying in one line why the test skips. Under CI a
/// missing store panics.
pub fn available_or_skip() -> Option<PathBuf> {
    if let Some(p) = s3s_fs_binary() {
        return Some(p);
    }
    let install = install_command();
    assert!(
        !is_ci(),
        "object-storage tests: s3s-fs not found; {install} (CI=true: a missing store fails the run)"
    );
    let _ = writeln!(
        io::stderr().lock(),
        "skipping object-storage tests: s3s-fs not found; {install}"
    );
    None
}

/// A running store; dropping it kills the process by its id.
#[derive(Debug)]
pub struct Store {
    child: Option<Child>,
    /// Where it listens.
    pub addr: SocketAddr,
    log: PathBuf,
    data: PathBuf,
}

impl Store {
    /// Starts `binary` over `data` (created if missing) on a free loopback port and waits
    /// (bounded) until it accepts connections.
    pub fn start(binary: &Path, data: &Path, log_dir: &Path) -> io::Result<Store> {
        std::fs::create_dir_all(data)?;
        std::fs::create_dir_all(log_dir)?;
        let mut last = None;
        for _ in 0..3 {
            let port = free_port()?;
            let log = log_dir.join(format!("s3s-fs-{port}.log"));
            let out = std::fs::File::create(&log)?;
            let child = Command::new(binary)
                .args(["--host", "127.0.0.1", "--port", &port.to_string()])
                .args(["--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY])
                .arg(data)
                .stdin(Stdio::null())
                .stdout(out.try_clone()?)
                .stderr(out)
                .spawn()?;
            let mut store = Store {
                child: Some(child),
                addr: SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
                log,
                data: data.to_path_buf(),
            };
            let deadline = Instant::now() + Duration::from_secs(15);
            loop {
                if TcpStream::connect_timeout(&store.addr, Duration::from_millis(200)).is_ok() {
                    return Ok(store);
                }
                if let Some(status) = store
                    .child
                    .as_mut()
                    .and_then(|c| c.try_wait().ok().flatten())
                {
                    store.child = None;
                    last = Some(io::Error::other(format!(
                        "s3s-fs exited with {status} during start-up:\n{}",
                        store.logs()
                    )));
                    break;
                }
                if Instant::now() > deadline {
                    return Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!("s3s-fs did not listen within 15 s:\n{}", store.logs()),
                    ));
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        Err(last.unwrap_or_else(|| io::Error::other("s3s-fs did not start")))
    }

    /// The endpoint, `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The library's presigner for [`BUCKET`] on this store.
    pub fn presigner(&self) -> S3Presigner {
        S3Presigner::new(
            &self.endpoint(),
            BUCKET,
            REGION,
            S3Credentials::new(ACCESS_KEY, SECRET_KEY),
        )
        .expect("presigner")
    }

    /// An [`ObjectStore`] for [`BUCKET`] below `prefix`.
    pub fn object_store(&self, prefix: &str) -> ObjectStore {
        ObjectStore::new(self.presigner()).prefix(prefix)
    }

    /// The settings an application reads (`SENDFILE_S3_*`, `AWS_*`).
    pub fn settings(&self, prefix: &str) -> Vec<(&'static str, String)> {
        vec![
            ("SENDFILE_S3_ENDPOINT", self.endpoint()),
            ("SENDFILE_S3_BUCKET", BUCKET.to_owned()),
            ("SENDFILE_S3_REGION", REGION.to_owned()),
            ("SENDFILE_S3_PREFIX", prefix.to_owned()),
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY.to_owned()),
            ("AWS_SECRET_ACCESS_KEY", SECRET_KEY.to_owned()),
        ]
    }

    fn client_bucket(&self) -> Bucket {
        let endpoint = self.endpoint().parse().expect("endpoint URL");
        Bucket::new(endpoint, UrlStyle::Path, BUCKET, REGION).expect("bucket")
    }

    /// Creates [`BUCKET`] with a signed `PUT`.
    pub fn create_bucket(&self) -> io::Result<()> {
        let bucket = self.client_bucket();
        let credentials = Credentials::new(ACCESS_KEY, SECRET_KEY);
        let action = CreateBucket::new(&bucket, &credentials);
        let url = action.sign(Duration::from_secs(60));
        // In us-east-1 the body (a location constraint) is empty.
        let res = self.send_url("PUT", url.as_str(), Vec::new())?;
        if res.status != 200 {
            return Err(io::Error::other(format!("create bucket: {res:?}")));
        }
        Ok(())
    }

    /// Uploads `body` as `key` with a presigned `PUT`.
    pub fn put(&self, key: &str, body: &[u8]) -> io::Result<()> {
        let bucket = self.client_bucket();
        let credentials = Credentials::new(ACCESS_KEY, SECRET_KEY);
        let url = PutObject::new(&bucket, Some(&credentials), key).sign(Duration::from_secs(60));
        let res = self.send_url("PUT", url.as_str(), body.to_vec())?;
        if res.status != 200 {
            return Err(io::Error::other(format!("put {key:?}: {res:?}")));
        }
        Ok(())
    }

    /// Uploads `body` as `key` with a presigned `PUT` that also stores `headers` (signed):
    /// `Cache-Control`, `Content-Language`, `x-amz-meta-*`, as an uploader may set them.
    pub fn put_with_headers(
        &self,
        key: &str,
        body: &[u8],
        headers: &[(&str, &str)],
    ) -> io::Result<()> {
        let bucket = self.client_bucket();
        let credentials = Credentials::new(ACCESS_KEY, SECRET_KEY);
        let mut action = PutObject::new(&bucket, Some(&credentials), key);
        for (name, value) in headers {
            action
                .headers_mut()
                .insert(name.to_ascii_lowercase(), (*value).to_owned());
        }
        let url = action.sign(Duration::from_secs(60));
        let (addr, target) = split_url(url.as_str())?;
        let mut req = Request::new("PUT", target).body(body.to_vec());
        for (name, value) in headers {
            req = req.header(name, *value);
        }
        let res = req.send(addr)?;
        if res.status != 200 {
            return Err(io::Error::other(format!("put {key:?}: {res:?}")));
        }
        Ok(())
    }

    /// Fetches `key` from the store directly, with a presigned `GET`.
    pub fn get(&self, key: &str) -> io::Result<Response> {
        let bucket = self.client_bucket();
        let credentials = Credentials::new(ACCESS_KEY, SECRET_KEY);
        let url = GetObject::new(&bucket, Some(&credentials), key).sign(Duration::from_secs(60));
        self.send_url("GET", url.as_str(), Vec::new())
    }

    /// Stores `body` as `key` the way s3s-fs keeps objects (a file at `<data>/<bucket>/<key>`),
    /// for keys it cannot take in a PUT: it names a metadata file after the base64 of the
    /// whole key, so a PUT of a key above about 160 bytes fails there (500, file name too
    /// long), while a GET of such a key works.
    pub fn place(&self, key: &str, body: &[u8]) -> io::Result<()> {
        let path = self.data.join(BUCKET).join(key);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, body)
    }

    /// [`put`](Self::put) for keys s3s-fs can take in a PUT, [`place`](Self::place) otherwise.
    pub fn upload(&self, key: &str, body: &[u8]) -> io::Result<()> {
        if key.len() <= 150 {
            self.put(key, body)
        } else {
            self.place(key, body)
        }
    }

    /// Sends `method` to an absolute `http://` URL of this store.
    pub fn send_url(&self, method: &str, url: &str, body: Vec<u8>) -> io::Result<Response> {
        let (addr, target) = split_url(url)?;
        Request::new(method, target).body(body).send(addr)
    }

    /// The store's log, for failure messages.
    pub fn logs(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// `http://host:port/path?query` → (address, `/path?query`), for loopback URLs.
pub fn split_url(url: &str) -> io::Result<(SocketAddr, String)> {
    let bad = || {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("not a loopback http URL: {url}"),
        )
    };
    let rest = url.strip_prefix("http://").ok_or_else(bad)?;
    let slash = rest.find('/').unwrap_or(rest.len());
    let addr: SocketAddr = rest[..slash].parse().map_err(|_| bad())?;
    let target = if slash == rest.len() {
        "/"
    } else {
        &rest[slash..]
    };
    Ok((addr, target.to_owned()))
}
