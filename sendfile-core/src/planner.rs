//! From a configuration and a file request to a response plan: the one place where the
//! backend rules meet.

use std::path::{Path, PathBuf};

use crate::backend::{Backend, CustomBackend, Offload};
use crate::config::Config;
use crate::confine::{Access, ResolvedFile};
use crate::disposition::{content_disposition, content_type_for, saved_name};
use crate::encode::{check_header_value, percent_encode_path};
use crate::engine::{self, BodyPlan, Request};
use crate::error::{ConfigError, Error};
use crate::object::{ObjectRequest, ObjectStore};
use crate::plan::{Body, FileRequest, Header, Plan};

/// The backend that serves `request`: its own override, else the configuration's.
pub fn effective_backend<'a>(config: &'a Config, request: &'a FileRequest) -> &'a Backend {
    request.backend.as_ref().unwrap_or(config.backend())
}

/// How much of the filesystem resolving for `backend` needs.
fn access_for(config: &Config, backend: &Backend) -> Access {
    match backend {
        Backend::Simple | Backend::Development => Access::Read,
        Backend::Custom(custom) if custom.requires_file() => Access::Stat,
        _ if config.checks_file_exists() => Access::Stat,
        _ => Access::Lexical,
    }
}

/// Resolves the requested file inside the root, as the effective backend needs it: opened for
/// reading (in-process backends), checked and stat'ed (offload backends), or only confined
/// lexically (offload backends with `check_file_exists = false`).
pub fn resolve(config: &Config, request: &FileRequest) -> Result<ResolvedFile, Error> {
    let backend = effective_backend(config, request);
    // The URL is checked before the file is touched: a configuration error is never hidden
    // behind a 404.
    config.url_prefix_for(backend)?;
    if config.check_object_store(backend)?
        && let Some(store) = config.store()
    {
        return resolve_object(store, &request.path);
    }
    let root = config.current_root()?;
    root.resolve(&request.path, access_for(config, backend))
}

/// Plans the response for `request`: resolution, then [`plan_resolved`].
///
/// ```
/// use sendfile_core::{Backend, Config, FileRequest, engine::{Method, Request}};
/// let dir = tempfile::tempdir().unwrap();
/// std::fs::write(dir.path().join("report.pdf"), b"%PDF").unwrap();
/// let config = Config::new(Backend::Nginx).root(dir.path()).url("/protected");
///
/// let plan = sendfile_core::plan(
///     &config,
///     &FileRequest::new("report.pdf"),
///     &Request::new(Method::Get),
/// ).unwrap();
/// assert_eq!(plan.status, 200);
/// assert_eq!(plan.header("X-Accel-Redirect").unwrap().value, b"/protected/report.pdf");
/// assert_eq!(plan.header("Content-Type").unwrap().value, b"application/pdf");
/// ```
pub fn plan(config: &Config, request: &FileRequest, http: &Request<'_>) -> Result<Plan, Error> {
    let file = resolve(config, request)?;
    plan_resolved(config, request, file, http)
}

/// Plans the response for a file already resolved with [`resolve`] (for example after a
/// permission check looked at it): the file checked is the file served.
pub fn plan_resolved(
    config: &Config,
    request: &FileRequest,
    file: ResolvedFile,
    http: &Request<'_>,
) -> Result<Plan, Error> {
    let backend = effective_backend(config, request);
    let download_name = download_name(request, &file);
    let content_type = match &request.content_type {
        Some(ct) => {
            let ct = ct.as_ref();
            check_header_value("Content-Type", ct.as_bytes())?;
            ct.to_owned()
        }
        // Typed after the name the browser saves (`"   .pdf"` is saved as `download.pdf`).
        None => content_type_for(Path::new(saved_name(&download_name).as_ref())),
    };
    let disposition = content_disposition(request.disposition, &download_name);
    let mut headers = vec![
        Header::new("Content-Type", content_type.clone()),
        Header::new("Content-Disposition", disposition),
    ];

    if config.check_object_store(backend)?
        && let Some(store) = config.store()
    {
        return plan_object(config, backend, store, request, &file, http, headers);
    }
    if let Backend::Custom(custom) = backend {
        let offload = custom.respond(&file, http.method)?;
        return finish_custom(custom.as_ref(), offload, headers);
    }

    if backend.is_in_process() {
        return plan_in_process(config, request, file, http, headers, &content_type);
    }

    // Offload: 200, empty body, one header naming the file. The front server answers ranges
    // and conditional requests and computes validators itself; Content-Encoding is never sent
    // (lighttpd would forward it over the raw bytes).
    let offload = offload_headers(config, backend, request, &file)?;
    headers.splice(0..0, offload);
    Ok(Plan {
        status: 200,
        headers,
        body: Body::Empty,
    })
}

/// The name the browser is given: the application's, else the name of the file sent (its real
/// location, symlinks resolved: the file that was checked, so that a link named `page.html` to
/// a checked `data.txt` is not typed or saved as HTML).
fn download_name(request: &FileRequest, file: &ResolvedFile) -> String {
    if let Some(name) = &request.filename {
        return name.clone();
    }
    file.relative_path()
        .file_name()
        .or_else(|| request.path.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn plan_in_process(
    config: &Config,
    request: &FileRequest,
    mut file: ResolvedFile,
    http: &Request<'_>,
    mut headers: Vec<Header>,
    content_type: &str,
) -> Result<Plan, Error> {
    if file.file().is_none() {
        // Resolved for an offload backend (Stat): reopen for reading, still confined.
        let root = config.current_root()?;
        file = root.resolve(file.relative_path(), Access::Read)?;
    }
    let meta = file
        .metadata()
        .cloned()
        .ok_or_else(|| Error::Io(std::io::Error::other("resolved file has no metadata")))?;
    let decision = engine::evaluate(http, &meta, content_type, config.limits());
    let representation = matches!(decision.status, 200 | 206);
    if !representation {
        headers.clear();
    }
    if let Some(encoding) = request.content_encoding.filter(|_| representation) {
        headers.push(Header::new("Content-Encoding", encoding.as_str()));
    }
    for h in decision.headers {
        if h.name.eq_ignore_ascii_case("Content-Type") {
            headers.retain(|x| !x.name.eq_ignore_ascii_case("Content-Type"));
        }
        headers.push(h);
    }
    if matches!(effective_backend(config, request), Backend::Development) {
        headers.push(Header::new("Cache-Control", "no-store"));
    }
    let body = match decision.body {
        BodyPlan::Empty => Body::Empty,
        BodyPlan::Segments { segments, len } => match file.into_file() {
            Some(f) => Body::File {
                file: f,
                segments,
                len,
            },
            None => {
                return Err(Error::Io(std::io::Error::other(
                    "resolved file is not open",
                )));
            }
        },
    };
    Ok(Plan {
        status: decision.status,
        headers,
        body,
    })
}

fn offload_headers(
    config: &Config,
    backend: &Backend,
    request: &FileRequest,
    file: &ResolvedFile,
) -> Result<Vec<Header>, Error> {
    let relative = file.relative_path_bytes();
    let header = match backend {
        Backend::Nginx => {
            let url = required_url(config, backend)?;
            let mut out = vec![Header::new(
                "X-Accel-Redirect",
                url.join(&percent_encode_path(relative)),
            )];
            out.extend(request.nginx.headers()?);
            return Ok(out);
        }
        Backend::ModWsgi => {
            let url = required_url(config, backend)?;
            Header::new("Location", url.join(&percent_encode_path(relative)))
        }
        Backend::Caddy => {
            if relative.contains(&b'?') {
                return Err(unrepresentable(
                    backend,
                    "the name contains '?', which Caddy's rewrite reads as the start of a query; rename the file or use another backend",
                ));
            }
            let url = required_url(config, backend)?;
            let mut value = url.as_str().as_bytes().to_vec();
            value.push(b'/');
            value.extend_from_slice(relative);
            raw_header(backend, "X-Accel-Redirect", value)?
        }
        Backend::XSendfile => raw_header(backend, "X-Sendfile", path_bytes(file.path()))?,
        Backend::Lighttpd => {
            let absolute = path_bytes(file.path());
            if std::str::from_utf8(&absolute).is_err() {
                return Err(unrepresentable(
                    backend,
                    "the path is not valid UTF-8, which lighttpd refuses after decoding X-Sendfile (502); rename the file",
                ));
            }
            Header::new("X-Sendfile", percent_encode_path(&absolute))
        }
        Backend::Custom(custom) => return custom_headers(custom.as_ref(), file),
        Backend::Redirect => {
            return Err(Error::Config(ConfigError::new(
                "SENDFILE_S3_BUCKET",
                "not set, and the redirect backend sends objects from a bucket only",
            )));
        }
        Backend::Simple | Backend::Development => {
            return Err(Error::Io(std::io::Error::other(
                "in-process backend planned as an offload",
            )));
        }
    };
    Ok(vec![header])
}

fn custom_headers(custom: &dyn CustomBackend, file: &ResolvedFile) -> Result<Vec<Header>, Error> {
    let headers = custom.headers(file)?;
    if headers.is_empty() {
        return Err(Error::InvalidHeader {
            name: format!("(custom backend {})", custom.name()),
            reason: "the backend returned no header; return the header that hands the file to the front server".into(),
        });
    }
    for h in &headers {
        check_header_value(&h.name, &h.value)?;
    }
    Ok(headers)
}

fn required_url<'c>(config: &'c Config, backend: &Backend) -> Result<&'c crate::UrlPrefix, Error> {
    config
        .url_prefix_for(backend)?
        .ok_or_else(|| Error::Config(crate::ConfigError::new("SENDFILE_URL", "not set")))
}

fn raw_header(backend: &Backend, name: &'static str, value: Vec<u8>) -> Result<Header, Error> {
    match check_header_value(name, &value) {
        Ok(()) => Ok(Header::new(name, value)),
        // The raw path cannot be sent as is (a control character, or leading or trailing
        // whitespace that proxies strip, which would make the server send another file).
        Err(e) => Err(unrepresentable(
            backend,
            &format!(
                "the path cannot be sent raw in {name} ({e}); rename the file or use a backend that percent-encodes (nginx, lighttpd)"
            ),
        )),
    }
}

fn unrepresentable(backend: &Backend, reason: &str) -> Error {
    Error::Unrepresentable {
        backend: backend.name().to_owned(),
        reason: reason.to_owned(),
    }
}

#[cfg(unix)]
fn path_bytes(path: &Path) -> Vec<u8> {
    use std::os::unix::ffi::OsStrExt;
    path.as_os_str().as_bytes().to_vec()
}

#[cfg(not(unix))]
fn path_bytes(path: &Path) -> Vec<u8> {
    path.to_string_lossy().replace('\\', "/").into_bytes()
}

/// A key below the store's prefix, checked as a path below a root would be.
fn resolve_object(store: &ObjectStore, path: &Path) -> Result<ResolvedFile, Error> {
    let relative = store.relative_key(path)?;
    let full = format!("{}{relative}", store.key_prefix()?);
    Ok(ResolvedFile::object(
        PathBuf::from(relative),
        PathBuf::from(full),
    ))
}

/// An object from the bucket: nginx gets the presigned path and query in `X-Accel-Redirect`,
/// `redirect` answers 307 to the presigned URL, a custom backend answers as it likes.
fn plan_object(
    config: &Config,
    backend: &Backend,
    store: &ObjectStore,
    request: &FileRequest,
    file: &ResolvedFile,
    http: &Request<'_>,
    mut headers: Vec<Header>,
) -> Result<Plan, Error> {
    // A file resolved below a root (not a key) is checked again as a key.
    let relative = store.relative_key(file.relative_path())?;
    let key = format!("{}{relative}", store.key_prefix()?);
    let text = |h: &Header| h.value_str().unwrap_or_default().to_owned();
    let (content_type, disposition) = (text(&headers[0]), text(&headers[1]));
    let object = ObjectRequest::new(
        store,
        &key,
        &relative,
        http.method,
        &content_type,
        &disposition,
    );
    match backend {
        Backend::Nginx => {
            let url = required_url(config, backend)?;
            let presigned = object.presign_for_method()?;
            // nginx decodes the X-Accel-Redirect path once before routing it: escape the
            // (already escaped) presigned path again, so the location's capture holds exactly
            // the signed path. The query is passed on as is.
            let mut value = url.join(&percent_encode_path(presigned.path().as_bytes()));
            if !presigned.query().is_empty() {
                value.push('?');
                value.push_str(presigned.query());
            }
            check_header_value("X-Accel-Redirect", value.as_bytes())?;
            let mut offload = vec![Header::new("X-Accel-Redirect", value)];
            offload.extend(request.nginx.headers()?);
            headers.splice(0..0, offload);
            Ok(Plan {
                status: 200,
                headers,
                body: Body::Empty,
            })
        }
        Backend::Redirect => {
            let presigned = object.presign_with_overrides()?;
            let location = presigned.to_string();
            check_header_value("Location", location.as_bytes())?;
            Ok(Plan {
                status: 307,
                headers: vec![
                    Header::new("Location", location),
                    Header::new("Cache-Control", "private, no-store"),
                ],
                body: Body::Empty,
            })
        }
        Backend::Custom(custom) => {
            let offload = custom.respond_object(&object)?;
            finish_custom(custom.as_ref(), offload, headers)
        }
        other => Err(Error::Config(ConfigError::new(
            "SENDFILE_BACKEND",
            format!("the {other} backend cannot send objects from a bucket; use nginx or redirect"),
        ))),
    }
}

/// A custom backend's answer, checked: `200` with at least one header (plus Content-Type and
/// Content-Disposition), or a redirect with a `Location` (plus `Cache-Control: private,
/// no-store` unless it sets one).
fn finish_custom(
    custom: &dyn CustomBackend,
    offload: Offload,
    mut headers: Vec<Header>,
) -> Result<Plan, Error> {
    let invalid = |reason: String| Error::InvalidHeader {
        name: format!("(custom backend {})", custom.name()),
        reason,
    };
    for h in &offload.headers {
        check_header_value(&h.name, &h.value)?;
    }
    let has = |name: &str| {
        offload
            .headers
            .iter()
            .any(|h| h.name.eq_ignore_ascii_case(name))
    };
    match offload.status {
        200 => {
            if offload.headers.is_empty() {
                return Err(invalid(
                    "the backend returned no header; return the header that hands the file to the front server".into(),
                ));
            }
            headers.splice(0..0, offload.headers);
            Ok(Plan {
                status: 200,
                headers,
                body: Body::Empty,
            })
        }
        301 | 302 | 303 | 307 | 308 => {
            if !has("Location") {
                return Err(invalid(format!(
                    "status {} without a Location header; add Location (Offload::redirect)",
                    offload.status
                )));
            }
            let mut headers = offload.headers;
            if !headers
                .iter()
                .any(|h| h.name.eq_ignore_ascii_case("Cache-Control"))
            {
                headers.push(Header::new("Cache-Control", "private, no-store"));
            }
            Ok(Plan {
                status: offload.status,
                headers,
                body: Body::Empty,
            })
        }
        other => Err(invalid(format!(
            "status {other} is neither 200 nor a redirect (301, 302, 303, 307, 308)"
        ))),
    }
}
