//! `Archive`: many permission-checked files as one streamed ZIP download.

use std::ffi::OsString;
use std::fs::File;
use std::io;
use std::path::{Component, Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::SystemTime;

use actix_web::body::{BoxBody, SizedStream};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse, Responder};
use bytes::Bytes;
use futures_core::Stream;
use sendfile_core::engine::Segment;
use sendfile_core::zip::{self, Entry};
use sendfile_core::{Access, DispositionType, Error, FileMeta, NotFoundReason, Root, StreamPermit};

use crate::body::{FileStream, StreamLimits};
use crate::config::SendFileConfig;
use crate::error::SendFileError;

/// The most files an archive holds unless [`Archive::max_files`] says otherwise.
pub const DEFAULT_MAX_FILES: usize = 200_000;

/// Headers and central directory records are sent in chunks of about this size.
const CHUNK: usize = 64 * 1024;

/// Many files as one ZIP download, streamed by the application in constant memory whatever
/// their size, each file confined to the root and checked like a [`SendFile`](crate::SendFile).
///
/// Files come from a directory ([`directory`](Self::directory): every regular file below it)
/// or one by one ([`file`](Self::file)). [`resolve`](Self::resolve) finds them inside the
/// root, symlinks resolved, and asks the permission check about each *resolved* file (a link
/// `public/x -> ../users/alice/notes.txt` is checked as `users/alice/notes.txt`):
///
/// - a file found in a directory that the check refuses is **left out** (as are files that are
///   not regular, outside the root, unreadable by the server or whose name cannot be stored):
///   "download all" gives what the user may read;
/// - a file named with [`file`](Self::file) that the check refuses **denies the whole answer**
///   (the configured denied status, 403 by default), and one that cannot be served is its
///   error (404...): an explicit list is all or nothing.
///
/// The answer is `application/zip` with an exact `Content-Length` (HEAD gives the same), the
/// files STORED (not compressed), UTF-8 names, ZIP64 where needed. It is sent by the
/// application whatever the backend (offload backends included: the files must exist
/// locally); [`ResolvedArchive::mod_zip`] has nginx's mod_zip build it instead. A file that
/// changes while the archive streams (size, modification time or identity) stops the download:
/// the connection is closed before the announced length, never a silently wrong archive.
///
/// ```
/// use actix_web::{App, HttpRequest, get, test, web};
/// use sendfile_actix::{Archive, Backend, ResolvedArchive, SendFileConfig, SendFileError};
///
/// #[get("/archive/{user}")]
/// async fn download_all(req: HttpRequest, user: web::Path<String>) -> Result<ResolvedArchive, SendFileError> {
///     let user = user.into_inner();
///     let home = format!("users/{user}");
///     Archive::new(format!("{user}.zip"))
///         .directory(&home, "")
///         .resolve(&req, move |file| file.starts_with(&home))
///         .await
/// }
///
/// # actix_web::rt::System::new().block_on(async {
/// # let dir = tempfile::tempdir().unwrap();
/// # std::fs::create_dir_all(dir.path().join("users/alice/notes")).unwrap();
/// # std::fs::write(dir.path().join("users/alice/notes/a.txt"), b"alice").unwrap();
/// let config = SendFileConfig::builder(Backend::Simple).root(dir.path()).build().unwrap();
/// let app = test::init_service(App::new().app_data(config).service(download_all)).await;
/// let res = test::call_service(&app, test::TestRequest::get().uri("/archive/alice").to_request()).await;
/// assert_eq!(res.status(), 200);
/// assert_eq!(res.headers().get("content-type").unwrap(), "application/zip");
/// let zip = test::read_body(res).await;
/// assert_eq!(&zip[..4], b"PK\x03\x04");
/// assert!(zip.windows(11).any(|w| w == b"notes/a.txt"));
/// # });
/// ```
#[derive(Debug)]
#[must_use = "an Archive does nothing until resolved and returned from a handler"]
pub struct Archive {
    filename: String,
    sources: Vec<Source>,
    max_files: usize,
}

#[derive(Debug)]
enum Source {
    File { path: PathBuf, name: String },
    Directory { path: PathBuf, prefix: String },
}

impl Archive {
    /// An empty archive that the browser saves as `filename` (any text: an ASCII fallback
    /// and the exact UTF-8 name are both sent).
    ///
    /// ```
    /// let archive = sendfile_actix::Archive::new("Q3 reports.zip");
    /// # drop(archive);
    /// ```
    pub fn new(filename: impl Into<String>) -> Self {
        Archive {
            filename: filename.into(),
            sources: Vec::new(),
            max_files: DEFAULT_MAX_FILES,
        }
    }

    /// Adds the file at `path` (relative to the root, or absolute inside it) as `name` in the
    /// archive. If the permission check refuses it, the whole answer is denied; if it cannot
    /// be served, the answer is that error (404 for a missing file).
    ///
    /// `name` is a relative path with `/` separators: an absolute name, one with `.` or `..`
    /// components, a backslash or a control character is refused (500, logged), since
    /// extractors write each entry where its name says.
    ///
    /// ```
    /// let archive = sendfile_actix::Archive::new("q3.zip")
    ///     .file("reports/7f3a.pdf", "Q3/report.pdf")
    ///     .file("reports/7f3b.csv", "Q3/figures.csv");
    /// # drop(archive);
    /// ```
    pub fn file(mut self, path: impl Into<PathBuf>, name: impl Into<String>) -> Self {
        self.sources.push(Source::File {
            path: path.into(),
            name: name.into(),
        });
        self
    }

    /// Adds every regular file below the directory `path` (relative to the root), named by
    /// its path relative to that directory, after `prefix` (`""` for none, or `"photos/"`).
    /// Files the permission check refuses are left out, and so are files that cannot be
    /// served; subdirectories are walked, symlinks to directories are not. Files come in the
    /// order of their names' bytes, directory by directory.
    ///
    /// A directory that is missing or outside the root is a 404.
    ///
    /// ```
    /// let archive = sendfile_actix::Archive::new("photos.zip").directory("users/alice/photos", "");
    /// # drop(archive);
    /// ```
    pub fn directory(mut self, path: impl Into<PathBuf>, prefix: impl Into<String>) -> Self {
        self.sources.push(Source::Directory {
            path: path.into(),
            prefix: prefix.into(),
        });
        self
    }

    /// The most files the archive may hold ([`DEFAULT_MAX_FILES`] by default): more is an
    /// error (500, logged) rather than an unbounded amount of memory (about a hundred bytes
    /// per file, plus its names, are kept while the archive streams).
    ///
    /// ```
    /// let archive = sendfile_actix::Archive::new("all.zip").directory("public", "").max_files(10_000);
    /// # drop(archive);
    /// ```
    pub fn max_files(mut self, max: usize) -> Self {
        self.max_files = max;
        self
    }

    /// Finds the files inside the root, asks `may_read` about each (with its location below
    /// the root, symlinks resolved: the path a [`ResolvedSendFile::relative_path`](crate::ResolvedSendFile::relative_path) gives), and
    /// measures the archive. This runs on actix's blocking thread pool: a directory of
    /// thousands of files is walked without holding up the worker.
    ///
    /// Errors are answered as [`SendFile`](crate::SendFile)'s are (through the configuration's
    /// error handler): 404 for a missing explicit file or directory, the denied status when
    /// an explicit file is refused, 500 for an invalid name or more than
    /// [`max_files`](Self::max_files) files, and 500 with a bucket configured (archives are
    /// built from files below `SENDFILE_ROOT`).
    pub async fn resolve<F>(
        self,
        req: &HttpRequest,
        may_read: F,
    ) -> Result<ResolvedArchive, SendFileError>
    where
        F: FnMut(&Path) -> bool + Send + 'static,
    {
        let config = SendFileConfig::from_req(req).inspect_err(SendFileError::log)?;
        let fail = |err: Error| {
            let err = SendFileError::from(err);
            err.log();
            config.render(err, req)
        };
        if config.core().store().is_some() {
            return Err(fail(unrepresentable(
                "archives are built from files below SENDFILE_ROOT; with a bucket configured, link to each object instead",
            )));
        }
        let root = config.core().current_root().map_err(fail)?;
        let Archive {
            filename,
            sources,
            max_files,
        } = self;
        let walk_root = Arc::clone(&root);
        let found = actix_web::rt::task::spawn_blocking(move || {
            collect(&walk_root, sources, max_files, may_read)
        })
        .await
        .map_err(|e| fail(Error::Io(io::Error::other(e.to_string()))))?;
        let members = match found {
            Ok(members) => members,
            Err(Refusal::Denied) => return Err(SendFileError::denied_for(req)),
            Err(Refusal::Error(e)) => return Err(fail(e)),
        };
        let len = zip::archive_len(members.sizes()).ok_or_else(|| {
            fail(unrepresentable(
                "the archive would be longer than 2^64 bytes",
            ))
        })?;
        Ok(ResolvedArchive {
            filename,
            root,
            members,
            len,
            mod_zip: false,
        })
    }
}

fn unrepresentable(reason: &str) -> Error {
    Error::Unrepresentable {
        backend: "zip archive".to_owned(),
        reason: reason.to_owned(),
    }
}

enum Refusal {
    Denied,
    Error(Error),
}

impl From<Error> for Refusal {
    fn from(e: Error) -> Self {
        Refusal::Error(e)
    }
}

/// The files of an archive, compactly: names in one string, the rest per file.
#[derive(Debug, Default)]
struct Members {
    names: String,
    files: Vec<Member>,
}

#[derive(Debug)]
struct Member {
    /// The real location below the root, as resolved (symlinks resolved).
    path: Box<Path>,
    /// Where this member's name ends in `Members::names`.
    name_end: usize,
    size: u64,
    modified: Option<SystemTime>,
    ino: u64,
    /// Filled in while the data streams.
    crc: u32,
}

impl Members {
    fn name(&self, i: usize) -> &str {
        let start = if i == 0 {
            0
        } else {
            self.files[i - 1].name_end
        };
        &self.names[start..self.files[i].name_end]
    }

    fn entry(&self, i: usize) -> Entry<'_> {
        let m = &self.files[i];
        Entry {
            name: self.name(i),
            size: m.size,
            modified: m.modified,
        }
    }

    fn sizes(&self) -> impl Iterator<Item = (usize, u64)> + '_ {
        (0..self.files.len()).map(|i| (self.name(i).len(), self.files[i].size))
    }

    fn push(&mut self, name: &str, path: &Path, meta: &FileMeta) {
        self.names.push_str(name);
        self.files.push(Member {
            path: path.into(),
            name_end: self.names.len(),
            size: meta.len,
            modified: meta.modified,
            ino: meta.ino,
            crc: 0,
        });
    }
}

/// Resolves and checks every source, on the blocking pool.
fn collect<F>(
    root: &Root,
    sources: Vec<Source>,
    max_files: usize,
    mut may_read: F,
) -> Result<Members, Refusal>
where
    F: FnMut(&Path) -> bool,
{
    let mut members = Members::default();
    let too_many = || {
        Refusal::Error(unrepresentable(&format!(
            "more than {max_files} files (Archive::max_files)"
        )))
    };
    for source in sources {
        match source {
            Source::File { path, name } => {
                zip::check_name(&name).map_err(|reason| {
                    unrepresentable(&format!(
                        "the name {:?} given for {} cannot be stored: {reason}",
                        sendfile_core::logsafe::LogSafe::str(&name).to_string(),
                        sendfile_core::logsafe::LogSafe::path(&path)
                    ))
                })?;
                let file = root.resolve(&path, Access::Read)?;
                if !may_read(file.relative_path()) {
                    return Err(Refusal::Denied);
                }
                if members.files.len() == max_files {
                    return Err(too_many());
                }
                let meta = file
                    .metadata()
                    .cloned()
                    .unwrap_or(FileMeta::new(0, None, 0));
                members.push(&name, file.relative_path(), &meta);
            }
            Source::Directory { path, prefix } => {
                let dir = confined_directory(root, &path)?;
                let mut walk = Walk::new(root.real_path().join(&dir), dir, prefix)?;
                while let Some((requested, name)) = walk.next_file() {
                    let file = match root.resolve(&requested, Access::Read) {
                        Ok(file) => file,
                        Err(e) => {
                            log::debug!("sendfile: archive: left out: {e}");
                            continue;
                        }
                    };
                    if let Err(reason) = zip::check_name(&name) {
                        log::info!(
                            "sendfile: archive: left out {}: {reason}",
                            sendfile_core::logsafe::LogSafe::path(&requested)
                        );
                        continue;
                    }
                    if !may_read(file.relative_path()) {
                        continue;
                    }
                    if members.files.len() == max_files {
                        return Err(too_many());
                    }
                    if let Some(meta) = file.metadata() {
                        members.push(&name, file.relative_path(), meta);
                    }
                }
            }
        }
    }
    Ok(members)
}

/// The directory `path` below the root, normalised: relative, normal components only, a
/// directory whose real location is below the real root (404 otherwise).
fn confined_directory(root: &Root, path: &Path) -> Result<PathBuf, Error> {
    let not_found = |reason| Error::not_found(reason, path);
    let below = if path.has_root() {
        path.strip_prefix(root.path())
            .or_else(|_| path.strip_prefix(root.real_path()))
            .map_err(|_| not_found(NotFoundReason::OutsideRoot))?
    } else {
        path
    };
    let mut dir = PathBuf::new();
    for c in below.components() {
        match c {
            Component::Normal(c) => dir.push(c),
            Component::CurDir => {}
            _ => return Err(not_found(NotFoundReason::OutsideRoot)),
        }
    }
    let real = root
        .real_path()
        .join(&dir)
        .canonicalize()
        .map_err(|_| not_found(NotFoundReason::Missing))?;
    let Ok(relative) = real.strip_prefix(root.real_path()) else {
        return Err(not_found(NotFoundReason::OutsideRoot));
    };
    if !real.is_dir() {
        return Err(not_found(NotFoundReason::Missing));
    }
    Ok(relative.to_path_buf())
}

/// A depth-first walk of a directory, in the order of the names' bytes; yields each
/// non-directory's path below the root and its name in the archive.
struct Walk {
    /// Per open level: its path on disk, below the root, in the archive, and what is left.
    stack: Vec<Level>,
}

struct Level {
    disk: PathBuf,
    below_root: PathBuf,
    name: String,
    entries: std::vec::IntoIter<(OsString, bool)>,
}

impl Walk {
    fn new(disk: PathBuf, below_root: PathBuf, prefix: String) -> Result<Walk, Error> {
        let entries = list(&disk).map_err(Error::Io)?;
        Ok(Walk {
            stack: vec![Level {
                disk,
                below_root,
                name: prefix,
                entries: entries.into_iter(),
            }],
        })
    }

    fn next_file(&mut self) -> Option<(PathBuf, String)> {
        loop {
            let level = self.stack.last_mut()?;
            let Some((file_name, is_dir)) = level.entries.next() else {
                self.stack.pop();
                continue;
            };
            let Some(text) = file_name.to_str() else {
                log::info!(
                    "sendfile: archive: left out {}: the name is not UTF-8",
                    sendfile_core::logsafe::LogSafe::path(&level.below_root.join(&file_name))
                );
                continue;
            };
            let mut name = level.name.clone();
            if !name.is_empty() && !name.ends_with('/') {
                name.push('/');
            }
            name.push_str(text);
            let below_root = level.below_root.join(&file_name);
            if is_dir {
                let disk = level.disk.join(&file_name);
                match list(&disk) {
                    Ok(entries) => self.stack.push(Level {
                        disk,
                        below_root,
                        name,
                        entries: entries.into_iter(),
                    }),
                    Err(e) => log::info!(
                        "sendfile: archive: left out the directory {}: {e}",
                        sendfile_core::logsafe::LogSafe::path(&below_root)
                    ),
                }
                continue;
            }
            return Some((below_root, name));
        }
    }
}

/// A directory's entries, sorted, each with whether it is a directory (not a link to one).
fn list(dir: &Path) -> io::Result<Vec<(OsString, bool)>> {
    let mut entries = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        entries.push((entry.file_name(), is_dir));
    }
    entries.sort_unstable_by(|a, b| a.0.as_encoded_bytes().cmp(b.0.as_encoded_bytes()));
    Ok(entries)
}

/// An [`Archive`] whose files were found and checked: the [`Responder`] that streams it.
#[derive(Debug)]
#[must_use = "a ResolvedArchive does nothing unless returned from a handler"]
pub struct ResolvedArchive {
    filename: String,
    root: Arc<Root>,
    members: Members,
    len: u64,
    mod_zip: bool,
}

impl ResolvedArchive {
    /// The number of files in the archive.
    pub fn file_count(&self) -> usize {
        self.members.files.len()
    }

    /// The archive's exact length in bytes (its `Content-Length`).
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the archive holds no file (it is then 22 bytes long: a valid, empty ZIP).
    pub fn is_empty(&self) -> bool {
        self.members.files.is_empty()
    }

    /// The files' names in the archive, in order.
    pub fn names(&self) -> impl Iterator<Item = &str> + '_ {
        (0..self.members.files.len()).map(|i| self.members.name(i))
    }

    /// Answers with an nginx mod_zip manifest (`X-Archive-Files: zip`) instead of the archive:
    /// nginx then fetches each file from the internal location (`SENDFILE_URL`) and builds the
    /// ZIP itself. Only with the nginx backend, and only when nginx was built with mod_zip
    /// (Debian's packages are not): without the module the client would receive the manifest.
    /// Every file was checked as for the archive the application streams.
    pub fn mod_zip(mut self) -> Self {
        self.mod_zip = true;
        self
    }

    /// The mod_zip manifest of this archive: one line per file, its CRC-32 left to nginx
    /// (`-`), its size, its location under `url` percent-encoded, and its name.
    fn manifest(&self, url: &sendfile_core::UrlPrefix) -> Result<Vec<u8>, Error> {
        let mut out = Vec::new();
        for (i, m) in self.members.files.iter().enumerate() {
            let location = url.join(&sendfile_core::encode::percent_encode_path(
                path_bytes(&m.path).as_ref(),
            ));
            zip::mod_zip_line(&mut out, None, m.size, &location, self.members.name(i))
                .map_err(unrepresentable)?;
        }
        Ok(out)
    }

    /// Builds the response for `req`, as the [`Responder`] implementation does.
    pub fn into_response(self, req: &HttpRequest) -> HttpResponse<BoxBody> {
        match self.respond(req) {
            Ok(res) => res,
            Err(err) => err.into_response_for(req),
        }
    }

    fn respond(self, req: &HttpRequest) -> Result<HttpResponse<BoxBody>, SendFileError> {
        let config = SendFileConfig::from_req(req)?;
        let fail = |err: Error| {
            let err = SendFileError::from(err);
            err.log();
            config.render(err, req)
        };
        let mut res = HttpResponse::with_body(StatusCode::OK, BoxBody::new(()));
        let disposition = sendfile_core::disposition::content_disposition(
            DispositionType::Attachment,
            &self.filename,
        );
        let headers = res.headers_mut();
        headers.insert(
            header::CONTENT_DISPOSITION,
            HeaderValue::from_str(&disposition)
                .map_err(|e| fail(Error::Io(io::Error::other(e.to_string()))))?,
        );
        headers.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, no-store"),
        );
        headers.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        if self.mod_zip {
            let Some(url) = config
                .core()
                .url_prefix()
                .filter(|_| config.backend().name() == "nginx")
            else {
                return Err(fail(unrepresentable(
                    "ResolvedArchive::mod_zip needs the nginx backend (SENDFILE_BACKEND=nginx, SENDFILE_URL set)",
                )));
            };
            let manifest = self.manifest(url).map_err(fail)?;
            headers.insert(
                header::HeaderName::from_static("x-archive-files"),
                HeaderValue::from_static("zip"),
            );
            return Ok(res.set_body(BoxBody::new(manifest)));
        }
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/zip"),
        );
        headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("none"));
        if req.method() == Method::HEAD {
            return Ok(res.set_body(BoxBody::new(SizedStream::new(
                self.len,
                crate::file::EmptyStream,
            ))));
        }
        let permit = config.core().acquire_stream().map_err(fail)?;
        let limits = crate::file::stream_limits(req, config);
        let stream = ArchiveStream {
            root: self.root,
            members: self.members,
            limits,
            _permit: permit,
            state: State::Headers { next: 0 },
            offset: 0,
            written: 0,
            len: self.len,
        };
        Ok(res.set_body(BoxBody::new(SizedStream::new(self.len, stream))))
    }
}

impl Responder for ResolvedArchive {
    type Body = BoxBody;

    fn respond_to(self, req: &HttpRequest) -> HttpResponse<Self::Body> {
        self.into_response(req)
    }
}

#[cfg(unix)]
fn path_bytes(path: &Path) -> std::borrow::Cow<'_, [u8]> {
    use std::os::unix::ffi::OsStrExt;
    std::borrow::Cow::Borrowed(path.as_os_str().as_bytes())
}

#[cfg(not(unix))]
fn path_bytes(path: &Path) -> std::borrow::Cow<'_, [u8]> {
    std::borrow::Cow::Owned(path.to_string_lossy().replace('\\', "/").into_bytes())
}

/// Where the stream is.
enum State {
    /// The descriptor of the previous file (if any) and the local header of file `next` (or
    /// the start of the central directory) are due.
    Headers {
        next: usize,
    },
    /// File `index`'s data is streaming.
    Data {
        index: usize,
        body: Box<FileStream>,
        /// The same file, to check after the last byte that it did not change.
        file: File,
        crc: crc32fast::Hasher,
    },
    /// Central directory records from `next` on are due.
    Central {
        next: usize,
        start: u64,
    },
    Done,
}

/// The streamed archive.
struct ArchiveStream {
    root: Arc<Root>,
    members: Members,
    /// For each file's stream: the send timeout and the connection's byte count.
    limits: StreamLimits,
    _permit: StreamPermit,
    state: State,
    /// Where the next local header starts.
    offset: u64,
    /// Bytes produced so far.
    written: u64,
    len: u64,
}

/// The limits of each file's stream: a copy of the archive's, without a place under
/// `SENDFILE_MAX_STREAMS` (the archive holds one for all its files).
fn file_limits(limits: &StreamLimits) -> StreamLimits {
    StreamLimits {
        send_timeout: limits.send_timeout,
        request: limits.request.clone(),
        conn: limits.conn.clone(),
        permit: None,
        lead: limits.lead,
    }
}

fn changed(path: &Path, what: &str) -> io::Error {
    io::Error::other(format!(
        "{} {what} while its archive was streaming; closing the connection",
        sendfile_core::logsafe::LogSafe::path(path)
    ))
}

impl ArchiveStream {
    /// Opens file `index` again (confined, as resolved) and checks it is the file measured.
    fn open(&self, index: usize) -> io::Result<File> {
        let m = &self.members.files[index];
        let open = self
            .root
            .resolve(&m.path, Access::Read)
            .map_err(|e| changed(&m.path, &format!("became unavailable ({e})")))?
            .into_open()
            .map_err(|_| changed(&m.path, "could not be opened"))?;
        let (file, meta) = open.into_parts();
        if meta.len != m.size || meta.modified != m.modified || meta.ino != m.ino {
            return Err(changed(&m.path, "changed"));
        }
        Ok(file)
    }

    /// The next chunk of headers: the previous descriptor is already in `out`.
    fn headers(&mut self, next: usize, mut out: Vec<u8>) -> io::Result<Bytes> {
        if next == self.members.files.len() {
            self.state = State::Central {
                next: 0,
                start: self.offset,
            };
            return Ok(Bytes::from(out));
        }
        let entry = self.members.entry(next);
        zip::local_header(&mut out, &entry);
        let m = &self.members.files[next];
        let file = self.open(next)?;
        if m.size == 0 {
            // Nothing to read: the descriptor follows at once (CRC-32 of nothing is 0).
            self.offset += zip::entry_len(entry.name.len(), 0);
            zip::data_descriptor(&mut out, &entry, 0);
            self.state = State::Headers { next: next + 1 };
            return Ok(Bytes::from(out));
        }
        let reader = file.try_clone()?;
        let body = FileStream::new(
            reader,
            vec![Segment::File {
                offset: 0,
                len: m.size,
            }],
            file_limits(&self.limits),
        );
        self.state = State::Data {
            index: next,
            body: Box::new(body),
            file,
            crc: crc32fast::Hasher::new(),
        };
        Ok(Bytes::from(out))
    }

    /// The end of file `index`'s data: checks the file did not change, and writes its
    /// descriptor.
    fn finish_file(&mut self, index: usize, file: &File, crc: u32) -> io::Result<Vec<u8>> {
        let m = &self.members.files[index];
        let now = FileMeta::from_std(&file.metadata()?);
        if now.len != m.size || now.modified != m.modified {
            return Err(changed(&m.path, "changed"));
        }
        self.members.files[index].crc = crc;
        let entry = self.members.entry(index);
        self.offset += zip::entry_len(entry.name.len(), entry.size);
        let mut out = Vec::with_capacity(CHUNK.min(1024));
        zip::data_descriptor(&mut out, &entry, crc);
        Ok(out)
    }

    /// Central directory records from `next`, up to about [`CHUNK`] bytes; the end records
    /// after the last.
    fn central(&mut self, mut next: usize, start: u64) -> Bytes {
        let mut out = Vec::with_capacity(CHUNK + 1024);
        // The offset of file `next`'s local header: recomputed from the sizes.
        let mut offset = self.offset;
        while next < self.members.files.len() && out.len() < CHUNK {
            let entry = self.members.entry(next);
            zip::central_record(&mut out, &entry, self.members.files[next].crc, offset);
            offset += zip::entry_len(entry.name.len(), entry.size);
            next += 1;
        }
        self.offset = offset;
        if next == self.members.files.len() {
            let count = self.members.files.len() as u64;
            // The directory's length: everything after `start` so far, and this chunk.
            let directory_len = self.written + out.len() as u64 - start;
            zip::end_records(&mut out, count, start, directory_len);
            self.state = State::Done;
        } else {
            self.state = State::Central { next, start };
        }
        Bytes::from(out)
    }
}

impl Stream for ArchiveStream {
    type Item = Result<Bytes, actix_web::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        let item = match std::mem::replace(&mut this.state, State::Done) {
            State::Done => return Poll::Ready(None),
            State::Headers { next } => this.headers(next, Vec::with_capacity(1024)),
            State::Central { next, start } => {
                if next == 0 {
                    // The central directory's offsets are recomputed from the first file on.
                    this.offset = 0;
                }
                Ok(this.central(next, start))
            }
            State::Data {
                index,
                mut body,
                file,
                mut crc,
            } => match Pin::new(&mut *body).poll_next(cx) {
                Poll::Pending => {
                    this.state = State::Data {
                        index,
                        body,
                        file,
                        crc,
                    };
                    return Poll::Pending;
                }
                Poll::Ready(Some(Ok(bytes))) => {
                    crc.update(&bytes);
                    this.state = State::Data {
                        index,
                        body,
                        file,
                        crc,
                    };
                    Ok(bytes)
                }
                Poll::Ready(Some(Err(e))) => {
                    // Already logged by the file stream.
                    return Poll::Ready(Some(Err(e)));
                }
                Poll::Ready(None) => {
                    drop(body);
                    this.finish_file(index, &file, crc.finalize())
                        .and_then(|out| this.headers(index + 1, out))
                }
            },
        };
        Poll::Ready(Some(match item {
            Ok(bytes) => {
                this.written += bytes.len() as u64;
                debug_assert!(this.written <= this.len);
                Ok(bytes)
            }
            Err(e) => {
                this.state = State::Done;
                log::warn!("sendfile: archive streaming stopped: {e}");
                Err(e.into())
            }
        }))
    }
}
