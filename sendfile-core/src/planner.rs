//! From a configuration and a file request to a response plan: the one place where the
//! backend rules meet.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use crate::backend::{Backend, BackendKind, BackendRules, CustomBackend, Delivery, Offload};
use crate::config::Config;
use crate::confine::ResolvedFile;
use crate::disposition::{
    content_disposition_of_saved, content_type_for_name, saved_name_and_disposition,
};
use crate::encode::{check_header_value, percent_encode_path};
use crate::engine::{self, BodyPlan, Request};
use crate::error::{ConfigError, Error};
use crate::header::{Header, HeaderBytes};
use crate::object::{ObjectRequest, ObjectStore};
use crate::policy;
use crate::request::FileRequest;
use crate::response::{Body, Plan};

/// The backend that serves `request`: its own override, else the configuration's.
pub fn effective_backend<'a>(config: &'a Config, request: &'a FileRequest) -> &'a Backend {
    request.backend.as_ref().unwrap_or(config.backend())
}

/// Resolves the requested file inside the root, as the effective backend needs it: opened for
/// reading (in-process backends), checked and stat'ed (offload backends), or only confined
/// lexically (offload backends with `check_file_exists = false`).
pub fn resolve(config: &Config, request: &FileRequest) -> Result<ResolvedFile, Error> {
    let backend = effective_backend(config, request);
    // A per-request backend is checked before the file is touched: a configuration error is
    // never hidden behind a 404.
    config.check_backend(backend)?;
    if let Some(store) = config.store() {
        return resolve_object(store, &request.path);
    }
    let root = config.current_root()?;
    root.resolve(&request.path, backend.access(config.checks_file_exists()))
}

/// Plans the response for `request`: resolution, then [`plan_resolved`].
///
/// ```
/// use sendfile_core::{Backend, Config, FileRequest, engine::{Method, Request}};
/// let dir = tempfile::tempdir().unwrap();
/// std::fs::write(dir.path().join("report.pdf"), b"%PDF").unwrap();
/// let config = Config::builder(Backend::Nginx).root(dir.path()).url("/protected").build().unwrap();
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
    let (saved, mut disposition) = saved_name_and_disposition(request.disposition, &download_name);
    let content_type: Cow<'static, str> = match &request.content_type {
        Some(ct) => {
            let ct = ct.as_ref();
            check_header_value("Content-Type", ct.as_bytes())?;
            Cow::Owned(ct.to_owned())
        }
        // Typed after the name the browser saves (`"   .pdf"` is saved as `download.pdf`).
        None => content_type_for_name(&saved),
    };
    let policy = request.content_policy.unwrap_or(config.content_policy());
    let (kind, sandbox) = policy::apply(policy, &content_type, request.disposition);
    if kind != request.disposition {
        disposition = content_disposition_of_saved(kind, &saved);
    }
    drop(saved);
    let around = Around::new(request, sandbox)?;

    config.check_backend(backend)?;
    if let Some(store) = config.store() {
        return plan_object(
            config,
            backend,
            store,
            request,
            &file,
            http,
            &content_type,
            &disposition,
            &around,
        );
    }
    let presentation = |capacity: usize| {
        let mut headers = Vec::with_capacity(capacity + 5);
        headers.push(Header::new("Content-Type", content_type.clone()));
        headers.push(Header::new("Content-Disposition", disposition.clone()));
        headers
    };
    let rules: &BackendRules = match backend.kind() {
        BackendKind::Custom(custom) => {
            let offload = custom.respond(&file, http.method)?;
            return finish_custom(custom, offload, presentation(0), &around);
        }
        BackendKind::Builtin(rules) => rules,
    };
    match &rules.delivery {
        Delivery::InProcess { no_store } => {
            let headers = presentation(4);
            plan_in_process(
                config,
                request,
                file,
                http,
                headers,
                &content_type,
                *no_store,
                &around,
            )
        }
        // Offload: 200, empty body, one header naming the file. The front server answers
        // ranges and conditional requests and computes validators itself; Content-Encoding is
        // never sent (lighttpd would forward it over the raw bytes).
        Delivery::Offload(offload) => {
            let root = file.root().unwrap_or_else(|| file.path());
            let url = config.url_prefix();
            let value = offload.value(rules.name, url, root, file.relative_path_bytes())?;
            let extras = if rules.accel_extras {
                request.nginx.headers()?
            } else {
                Vec::new()
            };
            let mut headers = Vec::with_capacity(6 + extras.len());
            headers.push(Header::new(offload.header, value));
            if !extras.is_empty() {
                headers.extend(extras);
            }
            // A static content type is neither copied nor freed; the disposition (of its
            // exact length for the usual name) is taken over as it is.
            headers.push(Header::new("Content-Type", content_type));
            headers.push(Header::new("Content-Disposition", disposition));
            around.push_file_headers(&mut headers, false);
            Ok(Plan::new(200, headers, Body::Empty))
        }
        Delivery::ObjectsOnly => Err(Error::Config(ConfigError::new(
            "SENDFILE_S3_BUCKET",
            "not set, and the redirect backend sends objects from a bucket only",
        ))),
    }
}

/// The name the browser is given: the application's, else the name of the file sent (its real
/// location, symlinks resolved: the file that was checked, so that a link named `page.html` to
/// a checked `data.txt` is not typed or saved as HTML).
fn download_name<'a>(request: &'a FileRequest, file: &'a ResolvedFile) -> Cow<'a, str> {
    if let Some(name) = &request.filename {
        return Cow::Borrowed(name);
    }
    file.file_name()
        .or_else(|| request.path.file_name().map(|n| n.to_string_lossy()))
        .unwrap_or_default()
}

fn plan_in_process(
    config: &Config,
    request: &FileRequest,
    file: ResolvedFile,
    http: &Request<'_>,
    mut headers: Vec<Header>,
    content_type: &str,
    no_store: bool,
    around: &Around,
) -> Result<Plan, Error> {
    let open = match file.into_open() {
        Ok(open) => open,
        // Resolved for an offload backend: reopen for reading, still confined.
        Err(file) => config
            .current_root()?
            .open_for_reading(file.relative_path())?,
    };
    let (file, meta) = open.into_parts();
    let decision = engine::evaluate(http, &meta, content_type, config.limits());
    let representation = matches!(decision.status, 200 | 206);
    if !representation {
        headers.clear();
    }
    if let Some(encoding) = request.content_encoding.filter(|_| representation) {
        headers.push(Header::new(
            "Content-Encoding",
            HeaderBytes::from_static(encoding.as_str()),
        ));
    }
    for h in decision.headers {
        if h.name.eq_ignore_ascii_case("Content-Type") {
            headers.retain(|x| !x.name.eq_ignore_ascii_case("Content-Type"));
        }
        headers.push(h);
    }
    if representation || decision.status == 304 {
        // A 304 updates the headers the browser keeps: the same as the 200's, as the front
        // servers send them.
        around.push_file_headers(&mut headers, no_store);
    } else {
        // 412, 416: no file, but the same nosniff and caching rules.
        headers.push(policy::nosniff());
        headers.push(around.cache_control(no_store));
    }
    let body = match (decision.body, decision.content_length) {
        (BodyPlan::Segments { segments, len }, _) => Body::File {
            file,
            segments,
            len,
        },
        (BodyPlan::Empty, Some(len)) => Body::Head { len },
        (BodyPlan::Empty, None) => Body::Empty,
    };
    Ok(Plan::new(decision.status, headers, body))
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
#[allow(clippy::too_many_arguments)]
fn plan_object(
    config: &Config,
    backend: &Backend,
    store: &ObjectStore,
    request: &FileRequest,
    file: &ResolvedFile,
    http: &Request<'_>,
    content_type: &str,
    disposition: &str,
    around: &Around,
) -> Result<Plan, Error> {
    // A file resolved below a root (not a key) is checked again as a key.
    let relative = store.relative_key(file.relative_path())?;
    let key = format!("{}{relative}", store.key_prefix()?);
    let object = ObjectRequest::new(
        store,
        &key,
        &relative,
        http.method,
        content_type,
        disposition,
    );
    let presentation = |offload: Vec<Header>| {
        let mut headers = offload;
        headers.push(Header::new("Content-Type", content_type));
        headers.push(Header::new("Content-Disposition", disposition));
        headers
    };
    let offloaded = |offload: Vec<Header>| {
        let mut headers = presentation(offload);
        around.push_file_headers(&mut headers, false);
        headers
    };
    let rules = match backend.kind() {
        BackendKind::Custom(custom) => {
            let offload = custom.respond_object(&object)?;
            return finish_custom(custom, offload, presentation(Vec::new()), around);
        }
        BackendKind::Builtin(rules) => rules,
    };
    match &rules.delivery {
        Delivery::ObjectsOnly => {
            let presigned = object.presign_with_overrides()?;
            let location = presigned.to_string();
            check_header_value("Location", location.as_bytes())?;
            Ok(Plan::new(
                307,
                vec![
                    Header::new("Location", location),
                    Header::new("Cache-Control", PRIVATE_NO_STORE),
                    policy::nosniff(),
                ],
                Body::Empty,
            ))
        }
        Delivery::Offload(offload) if rules.sends_objects => {
            let url = config
                .url_prefix()
                .ok_or_else(|| Error::Config(ConfigError::new("SENDFILE_URL", "not set")))?;
            let presigned = object.presign_for_method()?;
            // nginx decodes the X-Accel-Redirect path once before routing it: escape the
            // (already escaped) presigned path again, so the location's capture holds exactly
            // the signed path. The query is passed on as is.
            let mut value = url.join(&percent_encode_path(presigned.path().as_bytes()));
            if !presigned.query().is_empty() {
                value.push('?');
                value.push_str(presigned.query());
            }
            check_header_value(offload.header, value.as_bytes())?;
            let mut headers = vec![Header::new(offload.header, value)];
            if rules.accel_extras {
                headers.extend(request.nginx.headers()?);
            }
            Ok(Plan::new(200, offloaded(headers), Body::Empty))
        }
        _ => Err(Error::Config(ConfigError::new(
            "SENDFILE_BACKEND",
            format!(
                "the {backend} backend cannot send objects from a bucket; use nginx or redirect"
            ),
        ))),
    }
}

/// The Cache-Control of a redirect, which no cache may keep (its URL expires).
const PRIVATE_NO_STORE: HeaderBytes = HeaderBytes::from_static("private, no-store");

/// A custom backend's answer, checked: `200` with at least one header (plus Content-Type and
/// Content-Disposition), or a redirect with a `Location` (plus `Cache-Control: private,
/// no-store` unless it sets one).
fn finish_custom(
    custom: &dyn CustomBackend,
    offload: Offload,
    presentation: Vec<Header>,
    around: &Around,
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
            let mut headers = offload.headers;
            headers.extend(presentation);
            around.push_file_headers(&mut headers, false);
            Ok(Plan::new(200, headers, Body::Empty))
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
                headers.push(Header::new("Cache-Control", PRIVATE_NO_STORE));
            }
            headers.push(policy::nosniff());
            Ok(Plan::new(offload.status, headers, Body::Empty))
        }
        other => Err(invalid(format!(
            "status {other} is neither 200 nor a redirect (301, 302, 303, 307, 308)"
        ))),
    }
}

/// What travels with a file's bytes besides its type and disposition: the [content
/// policy](crate::policy)'s headers and the Cache-Control.
struct Around {
    /// The application's Cache-Control, checked; `None`: `private`.
    cache_control: Option<HeaderBytes>,
    /// Whether the file's responses carry the sandbox.
    sandbox: bool,
}

impl Around {
    fn new(request: &FileRequest, sandbox: bool) -> Result<Around, Error> {
        let cache_control = match &request.cache_control {
            Some(value) => {
                check_header_value("Cache-Control", value.as_bytes())?;
                Some(HeaderBytes::from(value.clone()))
            }
            None => None,
        };
        Ok(Around {
            cache_control,
            sandbox,
        })
    }

    /// The Cache-Control: `no-store` for the development backend, else the application's, else
    /// `private`.
    fn cache_control(&self, no_store: bool) -> Header {
        let value = match (&self.cache_control, no_store) {
            (_, true) => HeaderBytes::from_static("no-store"),
            (Some(value), false) => value.clone(),
            (None, false) => policy::PRIVATE,
        };
        Header::new("Cache-Control", value)
    }

    /// The headers of a response that carries the file (or hands it to the front server).
    fn push_file_headers(&self, headers: &mut Vec<Header>, no_store: bool) {
        headers.push(policy::nosniff());
        if self.sandbox {
            headers.push(policy::sandbox());
        }
        headers.push(self.cache_control(no_store));
    }
}
