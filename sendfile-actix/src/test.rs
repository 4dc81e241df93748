//! Assertions for the application's own tests, in the spirit of django-downloadview's
//! `assert_x_accel_redirect`: was the file offloaded to that URL, with that download name?
//!
//! Each takes anything with a status and headers ([`ServiceResponse`] from
//! `actix_web::test::call_service`, or an [`HttpResponse`]) and panics with a message saying
//! what was expected and what was found.
//!
//! ```
//! use actix_web::{App, test, web};
//! use sendfile_actix::{Backend, SendFile, SendFileConfig};
//! use sendfile_actix::test::{assert_download, assert_offload};
//!
//! # actix_web::rt::System::new().block_on(async {
//! # let dir = tempfile::tempdir().unwrap();
//! # std::fs::write(dir.path().join("Q3 résumé.pdf"), b"%PDF").unwrap();
//! let config = SendFileConfig::builder(Backend::Nginx).root(dir.path()).url("/protected").build().unwrap();
//! let app = test::init_service(App::new().app_data(config).route(
//!     "/report",
//!     web::get().to(|| async { SendFile::new("Q3 résumé.pdf").attachment() }),
//! )).await;
//! let res = test::call_service(&app, test::TestRequest::get().uri("/report").to_request()).await;
//!
//! assert_offload(&res, &Backend::Nginx, "/protected/Q3 résumé.pdf");   // decoded, as nginx will
//! assert_download(&res, "Q3 résumé.pdf");                       // reads filename* too
//! # });
//! ```

use actix_web::HttpResponse;
use actix_web::dev::ServiceResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::HeaderMap;
use sendfile_core::Backend;
use sendfile_core::backend::Encoding;
use sendfile_core::encode::percent_decode;

/// A response whose status and headers can be inspected.
pub trait InspectResponse {
    /// The status.
    fn status_code(&self) -> StatusCode;
    /// The headers.
    fn header_map(&self) -> &HeaderMap;
}

impl<B> InspectResponse for ServiceResponse<B> {
    fn status_code(&self) -> StatusCode {
        self.status()
    }
    fn header_map(&self) -> &HeaderMap {
        self.headers()
    }
}

impl<B> InspectResponse for HttpResponse<B> {
    fn status_code(&self) -> StatusCode {
        self.status()
    }
    fn header_map(&self) -> &HeaderMap {
        self.headers()
    }
}

fn header_bytes<'a>(res: &'a impl InspectResponse, name: &str) -> &'a [u8] {
    let Some(value) = res.header_map().get(name) else {
        panic!(
            "expected a {name} header; the response ({}) has none",
            res.status_code()
        );
    };
    value.as_bytes()
}

/// Asserts that `backend` offloaded the file at `target`: status 200, and the backend's header
/// naming `target` as the front server will read it (decoded once for the backends that
/// percent-encode, raw bytes for the others).
///
/// `target` is what the backend names: the internal URL for `nginx`, `mod_wsgi` and `caddy`
/// (`"/protected/Q3 report.pdf"`), the absolute path for `xsendfile` and `lighttpd`. The
/// header, the target and the encoding come from the backend's own
/// [rules](sendfile_core::backend::BackendRules), so every built-in offload backend is known;
/// an in-process, object-only or custom backend panics, saying what to assert instead.
///
/// ```
/// use actix_web::{App, test, web};
/// use sendfile_actix::{Backend, SendFile, SendFileConfig};
/// use sendfile_actix::test::assert_offload;
///
/// # actix_web::rt::System::new().block_on(async {
/// # let dir = tempfile::tempdir().unwrap();
/// # let root = dir.path().canonicalize().unwrap();
/// # std::fs::write(root.join("Q3 report.pdf"), b"%PDF").unwrap();
/// for (backend, target) in [
///     (Backend::Nginx, "/protected/Q3 report.pdf".to_owned()),
///     (Backend::XSendfile, root.join("Q3 report.pdf").to_str().unwrap().to_owned()),
///     (Backend::Caddy, "/protected/Q3 report.pdf".to_owned()),
/// ] {
///     let config = SendFileConfig::builder(backend.clone()).root(&root).url("/protected").build().unwrap();
///     let app = test::init_service(App::new().app_data(config).route(
///         "/report",
///         web::get().to(|| async { SendFile::new("Q3 report.pdf") }),
///     )).await;
///     let res = test::call_service(&app, test::TestRequest::get().uri("/report").to_request()).await;
///     assert_offload(&res, &backend, &target);
/// }
/// # });
/// ```
pub fn assert_offload(
    res: &impl InspectResponse,
    backend: &Backend,
    target: impl AsRef<std::ffi::OsStr>,
) {
    let Some(offload) = backend.offload_rules() else {
        panic!(
            "the {backend} backend does not offload to a front server: for simple and development read the body (served_bytes), for files in a bucket use assert_x_accel_object or assert_presigned_redirect"
        );
    };
    let expected = path_bytes(std::path::Path::new(target.as_ref()));
    let name = offload.header;
    assert_eq!(
        res.status_code(),
        StatusCode::OK,
        "an offload response must be 200"
    );
    let raw = header_bytes(res, name);
    let got = match offload.encoding {
        Encoding::Percent => percent_decode(&String::from_utf8_lossy(raw)),
        _ => raw.to_vec(),
    };
    assert!(
        got == expected,
        "{name} ({backend}): expected {:?}, got {:?} (raw header {:?})",
        String::from_utf8_lossy(&expected),
        String::from_utf8_lossy(&got),
        String::from_utf8_lossy(raw),
    );
}

/// Asserts an nginx offload of an object in a bucket: 200 and `X-Accel-Redirect` naming
/// `path` once both escapings are undone (nginx's, then the store's), with a signed query.
/// `path` is the internal prefix, the bucket and the full key: `"/protected/bucket/files/a b.pdf"`.
///
/// ```
/// use actix_web::{App, test, web};
/// use sendfile_actix::object::ObjectStore;
/// use sendfile_actix::s3::{S3Credentials, S3Presigner};
/// use sendfile_actix::test::{assert_presigned_redirect, assert_x_accel_object};
/// use sendfile_actix::{Backend, SendFile, SendFileConfig};
///
/// # actix_web::rt::System::new().block_on(async {
/// let s3 = S3Presigner::new("http://127.0.0.1:9000", "bucket", "us-east-1",
///     S3Credentials::new("AKIDEXAMPLE", "example-secret")).unwrap();
/// let store = ObjectStore::new(s3).prefix("files");
/// let route = || web::get().to(|| async { SendFile::new("Q3 résumé.pdf") });
///
/// let nginx = SendFileConfig::builder(Backend::Nginx).url("/protected").object_store(store.clone()).build().unwrap();
/// let app = test::init_service(App::new().app_data(nginx).route("/r", route())).await;
/// let res = test::call_service(&app, test::TestRequest::get().uri("/r").to_request()).await;
/// assert_x_accel_object(&res, "/protected/bucket/files/Q3 résumé.pdf");
///
/// let redirect = SendFileConfig::builder(Backend::Redirect).object_store(store).build().unwrap();
/// let app = test::init_service(App::new().app_data(redirect).route("/r", route())).await;
/// let res = test::call_service(&app, test::TestRequest::get().uri("/r").to_request()).await;
/// assert_presigned_redirect(&res, "http://127.0.0.1:9000/bucket/files/Q3 résumé.pdf");
/// # });
/// ```
pub fn assert_x_accel_object(res: &impl InspectResponse, path: &str) {
    assert_eq!(
        res.status_code(),
        StatusCode::OK,
        "an offload response must be 200"
    );
    let raw = String::from_utf8_lossy(header_bytes(res, "x-accel-redirect")).into_owned();
    let (encoded, query) = raw.split_once('?').unwrap_or((raw.as_str(), ""));
    let once = String::from_utf8_lossy(&percent_decode(encoded)).into_owned();
    let got = percent_decode(&once);
    assert!(
        got == path.as_bytes(),
        "X-Accel-Redirect: expected the object {path:?}, got {:?} (raw header {raw:?})",
        String::from_utf8_lossy(&got)
    );
    assert!(
        query.contains("X-Amz-Signature="),
        "X-Accel-Redirect: no signed query in {raw:?}"
    );
}

/// Asserts a `redirect` to a presigned URL of the object at `url` (decoded:
/// `"http://host/bucket/files/a b.pdf"`): 307, `Cache-Control: private, no-store`, and a
/// signed query. See [`assert_x_accel_object`] for an example.
pub fn assert_presigned_redirect(res: &impl InspectResponse, url: &str) {
    assert_eq!(
        res.status_code(),
        StatusCode::TEMPORARY_REDIRECT,
        "a presigned redirect must be 307"
    );
    let cache = String::from_utf8_lossy(header_bytes(res, "cache-control")).into_owned();
    assert_eq!(
        cache, "private, no-store",
        "the redirect must not be cached"
    );
    let raw = String::from_utf8_lossy(header_bytes(res, "location")).into_owned();
    let (encoded, query) = raw.split_once('?').unwrap_or((raw.as_str(), ""));
    let got = percent_decode(encoded);
    assert!(
        got == url.as_bytes(),
        "Location: expected the object {url:?}, got {:?} (raw header {raw:?})",
        String::from_utf8_lossy(&got)
    );
    assert!(
        query.contains("X-Amz-Signature="),
        "Location: no signed query in {raw:?}"
    );
}

/// Asserts a download saved as `filename`: `Content-Disposition: attachment`, and the name a
/// browser would use (the decoded `filename*` when present, else `filename`).
pub fn assert_download(res: &impl InspectResponse, filename: &str) {
    let value = String::from_utf8_lossy(header_bytes(res, "content-disposition")).into_owned();
    assert!(
        value.starts_with("attachment"),
        "expected Content-Disposition: attachment, got {value:?}"
    );
    let got = disposition_filename(&value);
    assert_eq!(got.as_deref(), Some(filename), "download name in {value:?}");
}

/// The file name a browser takes from a Content-Disposition value: the decoded
/// `filename*=UTF-8''...` when present, else the unquoted `filename="..."`.
pub fn disposition_filename(value: &str) -> Option<String> {
    let mut plain = None;
    for param in split_params(value).into_iter().skip(1) {
        let Some((key, val)) = param.split_once('=') else {
            continue;
        };
        match key.trim().to_ascii_lowercase().as_str() {
            "filename*" => {
                let val = val.trim();
                val.get(..7).filter(|p| p.eq_ignore_ascii_case("utf-8''"))?;
                return String::from_utf8(percent_decode(&val[7..])).ok();
            }
            "filename" => plain = Some(unquote(val.trim())),
            _ => {}
        }
    }
    plain
}

/// Splits on `;` outside quoted strings.
fn split_params(value: &str) -> Vec<&str> {
    let (mut out, mut start, mut quoted, mut escaped) = (Vec::new(), 0, false, false);
    for (i, c) in value.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            ';' if !quoted => {
                out.push(&value[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&value[start..]);
    out
}

fn unquote(s: &str) -> String {
    let Some(inner) = s.strip_prefix('"').and_then(|s| s.strip_suffix('"')) else {
        return s.to_owned();
    };
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        out.push(if c == '\\' {
            chars.next().unwrap_or('\\')
        } else {
            c
        });
    }
    out
}

#[cfg(unix)]
fn path_bytes(p: &std::path::Path) -> Vec<u8> {
    use std::os::unix::ffi::OsStrExt;
    p.as_os_str().as_bytes().to_vec()
}

#[cfg(not(unix))]
fn path_bytes(p: &std::path::Path) -> Vec<u8> {
    p.to_string_lossy().into_owned().into_bytes()
}

/// Reads the whole body of a response (served by the in-process backends).
pub async fn served_bytes<B>(res: ServiceResponse<B>) -> bytes::Bytes
where
    B: actix_web::body::MessageBody,
{
    actix_web::test::read_body(res).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offloaded(name: &'static str, value: &'static str) -> HttpResponse {
        HttpResponse::Ok().insert_header((name, value)).finish()
    }

    #[test]
    fn assert_offload_reads_each_backend_as_its_server_does() {
        assert_offload(
            &offloaded("x-accel-redirect", "/p/a%20b"),
            &Backend::Nginx,
            "/p/a b",
        );
        assert_offload(
            &offloaded("location", "/p/a%20b"),
            &Backend::ModWsgi,
            "/p/a b",
        );
        assert_offload(
            &offloaded("x-accel-redirect", "/p/a b"),
            &Backend::Caddy,
            "/p/a b",
        );
        assert_offload(
            &offloaded("x-sendfile", "/srv/a b"),
            &Backend::XSendfile,
            "/srv/a b",
        );
        assert_offload(
            &offloaded("x-sendfile", "/srv/a%20b"),
            &Backend::Lighttpd,
            "/srv/a b",
        );
    }

    #[test]
    #[should_panic(expected = "X-Accel-Redirect (caddy): expected")]
    fn assert_offload_does_not_decode_for_a_raw_backend() {
        assert_offload(
            &offloaded("x-accel-redirect", "/p/a%20b"),
            &Backend::Caddy,
            "/p/a b",
        );
    }

    #[test]
    #[should_panic(expected = "does not offload")]
    fn assert_offload_refuses_an_in_process_backend() {
        assert_offload(&offloaded("x-sendfile", "/a"), &Backend::Simple, "/a");
    }

    #[test]
    fn disposition_filename_prefers_the_extended_form() {
        assert_eq!(
            disposition_filename(
                "attachment; filename=\"r_sum_.pdf\"; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf"
            ),
            Some("résumé.pdf".into())
        );
        assert_eq!(
            disposition_filename("inline; filename=\"a \\\"b\\\"; c.txt\""),
            Some("a \"b\"; c.txt".into())
        );
        assert_eq!(disposition_filename("inline"), None);
    }
}
