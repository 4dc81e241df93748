//! The page a user sees: the sign-in form, or the user's files with an upload form, and
//! sign-out.
//!
//! The page is HTML the app writes itself, without a line of script; its headers hold it to
//! that ([`SECURITY_HEADERS`]): a Content-Security-Policy that allows only its own style
//! (named by hash), images from its own origin and forms to itself, `frame-ancestors 'none'`
//! (no clickjacking), `Referrer-Policy: same-origin` (no
//! referrer to other sites; `no-referrer` would make the browser send `Origin: null` with
//! the page's own forms), `nosniff`, `Cache-Control: no-store`.

use std::fmt::Write as _;
use std::fs;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use actix_web::http::StatusCode;
use actix_web::http::header::{self, ContentType};
use actix_web::{HttpRequest, HttpResponse, web};
use sendfile_actix::SendFileConfig;
use sendfile_actix::doctor::{Outcome, Report};
use sha2::{Digest as _, Sha256};

use crate::state::AppState;
use crate::{SignedIn, USERS, encode_url_path, escape_html};

/// The doctor's latest verdict on the front server, shown on the page (app data, shared).
///
/// ```
/// use protected_downloads::page::DoctorVerdict;
/// let verdict = DoctorVerdict::default();
/// assert!(verdict.get().is_none());
/// ```
#[derive(Debug, Clone, Default)]
pub struct DoctorVerdict(Arc<Mutex<Option<(String, Report)>>>);

impl DoctorVerdict {
    /// Records the report of a run through the front server at `url`.
    pub fn set(&self, url: &str, report: Report) {
        if let Ok(mut v) = self.0.lock() {
            *v = Some((url.to_owned(), report));
        }
    }

    /// The latest report and the URL it was taken through, if any.
    pub fn get(&self) -> Option<(String, Report)> {
        self.0.lock().ok().and_then(|v| v.clone())
    }
}

/// The headers of every page the app writes, besides the Content-Security-Policy
/// ([`content_security_policy`]).
pub const SECURITY_HEADERS: [(&str, &str); 4] = [
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "same-origin"),
    ("cache-control", "no-store"),
];

/// The page's Content-Security-Policy: nothing but its own style (by hash), images from
/// its own origin and forms to itself; no script, no frames, in no frame.
pub fn content_security_policy() -> &'static str {
    static CSP: OnceLock<String> = OnceLock::new();
    CSP.get_or_init(|| {
        let hash = Sha256::digest(STYLE.as_bytes());
        format!(
            "default-src 'none'; style-src 'sha256-{}'; img-src 'self'; form-action 'self'; \
             frame-ancestors 'none'; base-uri 'none'",
            base64_encode(&hash)
        )
    })
}

fn base64_encode(bytes: &[u8]) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(TABLE[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// One file of the listing.
struct Entry {
    /// The path below the root.
    path: String,
    size: u64,
    modified: Option<SystemTime>,
}

/// Whether the browser shows `name` as an image (a thumbnail on the page).
fn is_image(name: &str) -> bool {
    let ext = name.rsplit_once('.').map_or("", |(_, e)| e);
    ["png", "jpg", "jpeg", "gif", "webp", "avif", "svg"]
        .iter()
        .any(|e| ext.eq_ignore_ascii_case(e))
}

/// `GET /`: the signed-in user's files, or the sign-in form.
pub(crate) async fn index(
    req: HttpRequest,
    user: SignedIn,
    verdict: Option<web::Data<DoctorVerdict>>,
) -> Result<HttpResponse, actix_web::Error> {
    let Some(user) = user.0 else {
        return Ok(sign_in_page(StatusCode::OK, None));
    };
    let state = AppState::of(&req)?;
    let config = SendFileConfig::from_req(&req).ok();
    let mut files = Vec::new();
    if let Some(root) = config.and_then(|c| c.core().root_path()) {
        list_files(root, "public", &mut files);
    }
    let own = state
        .db
        .files_of(&user)
        .map_err(|e| crate::sessions::Refused::Internal(e.to_string()))?;
    files.extend(own.into_iter().map(|f| {
        Entry {
            path: format!("users/{}/{}", user.name, f.name),
            size: f.size,
            modified: u64::try_from(f.added_at)
                .ok()
                .map(|s| UNIX_EPOCH + Duration::from_secs(s)),
        }
    }));
    files.sort_by(|a, b| a.path.cmp(&b.path));
    let mut body = String::new();
    let _ = write!(
        body,
        "<header><h1>Protected downloads</h1>\
         <form class=\"sign-out\" method=\"post\" action=\"/sign-out\">\
         <span>Signed in as <strong>{}</strong></span> <button type=\"submit\">Sign out</button> \
         <button type=\"submit\" name=\"everywhere\" value=\"1\" class=\"everywhere\">Sign out everywhere</button></form></header>\n<main>\n",
        escape_html(&user.name)
    );
    let in_bucket = config.is_some_and(|c| c.core().store().is_some());
    if !in_bucket {
        let _ = writeln!(
            body,
            "<form class=\"upload\" method=\"post\" action=\"/upload\" enctype=\"multipart/form-data\">\
             <label>Add a file to your area (up to {}) <input type=\"file\" name=\"file\" required></label> \
             <button type=\"submit\">Upload</button></form>",
            human_size(state.settings.upload_limit)
        );
    }
    if !files.is_empty() {
        let areas = [
            ("public".to_owned(), "Everyone"),
            (format!("users/{}", user.name), "Only you"),
        ];
        body.push_str(&crate::archive::buttons(&areas));
    }
    if files.is_empty() && in_bucket {
        // Listing a bucket would need a request to the store.
        body.push_str("<p class=\"empty\">The files are in a bucket; try <a href=\"/download/public/welcome.txt\">public/welcome.txt</a>.</p>\n");
    } else if files.is_empty() {
        body.push_str("<p class=\"empty\">No files here (is the root readable by the app?).</p>\n");
    } else {
        body.push_str(
            "<table>\n<thead><tr><th></th><th>Name</th><th>Where</th><th class=\"num\">Size</th><th>Modified</th><th></th></tr></thead>\n<tbody>\n",
        );
        for f in &files {
            let (folder, name) = f.path.rsplit_once('/').unwrap_or(("", &f.path));
            let area = if folder.starts_with("public") {
                "Everyone"
            } else {
                "Only you"
            };
            let href = escape_html(&encode_url_path(&f.path));
            let thumb = if is_image(name) {
                format!("<img class=\"thumb\" src=\"/view/{href}\" alt=\"\">")
            } else {
                String::new()
            };
            let _ = writeln!(
                body,
                "<tr><td class=\"preview\">{thumb}</td><td class=\"name\">{}</td><td class=\"area\">{}</td><td class=\"num\">{}</td><td>{}</td>\
                 <td class=\"actions\"><a class=\"view\" href=\"/view/{href}\">View</a> \
                 <a class=\"button\" href=\"/download/{href}\" download>Download</a>{share}</td></tr>",
                escape_html(name),
                area,
                human_size(f.size),
                f.modified.map_or_else(|| "–".to_owned(), format_date),
                share = crate::links::share_cell(&req, &f.path),
            );
        }
        body.push_str("</tbody>\n</table>\n");
    }
    body.push_str("</main>\n<footer>\n");
    if let Some(c) = config {
        let backend = c.backend();
        let how = if backend.is_in_process() {
            "sent by the app itself".to_owned()
        } else {
            format!("sent by the front server ({backend} backend)")
        };
        let _ = writeln!(body, "<p>Files are {}.</p>", escape_html(&how));
    }
    match verdict.and_then(|v| v.get()) {
        Some((_url, report)) => {
            let failed = report
                .checks
                .iter()
                .filter(|c| c.outcome == Outcome::Fail)
                .count();
            let (class, text) = if failed == 0 {
                ("ok", format!("Front server check: all {} checks pass.", report.checks.len()))
            } else {
                ("bad", format!("Front server check: {failed} of {} checks fail.", report.checks.len()))
            };
            // Outcomes only: the messages name the root and the backend, which are for the
            // operator (the app's log, the doctor command), not for every visitor.
            let outcomes: String = report
                .checks
                .iter()
                .map(|c| format!("{} {}\n", c.outcome, c.name))
                .collect();
            let _ = writeln!(
                body,
                "<details class=\"doctor {class}\"><summary>{}</summary><pre>{}</pre>\
                 <p>The details are in the app's log; run it again with <code>protected_downloads doctor</code>.</p></details>",
                escape_html(&text),
                escape_html(&outcomes)
            );
        }
        None => body.push_str(
            "<p class=\"doctor\">No front server check has run (set PUBLIC_URL behind a front server).</p>\n",
        ),
    }
    body.push_str("</footer>\n");
    Ok(page(StatusCode::OK, "Your files", &body))
}

pub(crate) fn sign_in_page(status: StatusCode, error: Option<&str>) -> HttpResponse {
    let mut body = String::from("<header><h1>Protected downloads</h1></header>\n<main>\n");
    body.push_str(
        "<form class=\"sign-in\" method=\"post\" action=\"/sign-in\">\n<h2>Sign in</h2>\n",
    );
    if let Some(e) = error {
        let _ = writeln!(
            body,
            "<p class=\"error\" role=\"alert\">{}</p>",
            escape_html(e)
        );
    }
    body.push_str(
        "<label>Name <input name=\"name\" autocomplete=\"username\" required autofocus></label>\n\
         <label>Password <input name=\"password\" type=\"password\" autocomplete=\"current-password\" required></label>\n\
         <button type=\"submit\">Sign in</button>\n</form>\n<p class=\"hint\">Demo accounts:",
    );
    for u in USERS {
        let _ = write!(
            body,
            " <code>{}</code> / <code>{}</code>",
            u.name, u.password
        );
    }
    body.push_str(". With curl, HTTP Basic works too.</p>\n</main>\n");
    page(status, "Sign in", &body)
}

pub(crate) fn page(status: StatusCode, title: &str, body: &str) -> HttpResponse {
    let html = format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{} · Protected downloads</title>\n<style>{STYLE}</style>\n</head>\n<body>\n{body}</body>\n</html>\n",
        escape_html(title)
    );
    let mut res = HttpResponse::build(status);
    res.content_type(ContentType::html())
        .insert_header((header::CONTENT_SECURITY_POLICY, content_security_policy()));
    for h in SECURITY_HEADERS {
        res.insert_header(h);
    }
    res.body(html)
}

const STYLE: &str = "
:root{color-scheme:light dark;--fg:#1d2430;--muted:#5b6472;--line:#dde2ea;--bg:#f6f7f9;--card:#fff;--accent:#2458d6}
@media (prefers-color-scheme:dark){:root{--fg:#e6e9ef;--muted:#9aa3b2;--line:#2c3340;--bg:#14171c;--card:#1b1f26;--accent:#6d95ff}}
*{box-sizing:border-box}
body{margin:0;padding:0 .75rem;font:16px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,'Helvetica Neue',Arial,sans-serif;color:var(--fg);background:var(--bg)}
header,main,footer{max-width:56rem;margin:0 auto;padding:1rem 1.25rem}
header{display:flex;flex-wrap:wrap;align-items:center;justify-content:space-between;gap:.75rem}
h1{font-size:1.4rem;margin:0}
h2{font-size:1.15rem;margin:0 0 .5rem}
main{background:var(--card);border:1px solid var(--line);border-radius:.75rem}
table{width:100%;border-collapse:collapse}
th,td{text-align:left;padding:.55rem .5rem;border-bottom:1px solid var(--line);vertical-align:middle}
th{font-size:.8rem;text-transform:uppercase;letter-spacing:.04em;color:var(--muted)}
tr:last-child td{border-bottom:0}
td.name{font-weight:600;word-break:break-word}
td.area,footer,.hint{color:var(--muted)}
.num{text-align:right;white-space:nowrap}
a.button,button{display:inline-block;font:inherit;font-size:.9rem;padding:.35rem .8rem;border-radius:.45rem;border:1px solid var(--accent);background:var(--accent);color:#fff;text-decoration:none;cursor:pointer}
nav.download-all{display:flex;flex-wrap:wrap;gap:.5rem;margin-bottom:.75rem}
a.download-all{font-size:.9rem;padding:.35rem .8rem;border-radius:.45rem;border:1px solid var(--accent);color:var(--accent);text-decoration:none}
form.sign-out button{background:transparent;color:var(--accent)}
form.sign-in{display:grid;gap:.75rem;max-width:22rem}
label{display:grid;gap:.25rem;font-size:.9rem}
input{font:inherit;padding:.45rem .6rem;border:1px solid var(--line);border-radius:.45rem;background:var(--bg);color:var(--fg)}
.error{color:#c62828;margin:0}
details.doctor.ok summary{color:#2e7d32}
details.doctor.bad summary{color:#c62828}
pre{overflow-x:auto;font-size:.8rem}
img.thumb{display:block;max-width:3rem;max-height:3rem}
td.actions{white-space:nowrap}
a.view{margin-right:.5rem;color:var(--accent)}
form.upload{display:flex;flex-wrap:wrap;align-items:end;gap:.75rem;margin-bottom:1rem}
@media (max-width:36rem){th:nth-child(3),td.area{display:none}}
";

/// Appends the regular files below `root/area` (relative to `root`, `/`-separated; symlinks
/// and names that are not UTF-8 are skipped).
fn list_files(root: &Path, area: &str, out: &mut Vec<Entry>) {
    let Ok(entries) = fs::read_dir(root.join(area)) else {
        return;
    };
    for entry in entries.flatten() {
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if name.starts_with('.') {
            continue;
        }
        let rel = format!("{area}/{name}");
        if kind.is_dir() {
            list_files(root, &rel, out);
        } else if kind.is_file() {
            let meta = entry.metadata().ok();
            out.push(Entry {
                path: rel,
                size: meta.as_ref().map_or(0, |m| m.len()),
                modified: meta.and_then(|m| m.modified().ok()),
            });
        }
    }
}

/// `532 B`, `1.5 KiB`, `12 MiB`.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if value < 10.0 {
        format!("{value:.1} {}", UNITS[unit])
    } else {
        format!("{value:.0} {}", UNITS[unit])
    }
}

/// `2026-11-24 17:05 UTC`.
pub fn format_date(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let days = (secs / 86_400) as i64;
    let (h, m) = ((secs % 86_400) / 3600, (secs % 3600) / 60);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{d:02} {h:02}:{m:02} UTC")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_dates() {
        assert_eq!(human_size(532), "532 B");
        assert_eq!(human_size(1536), "1.5 KiB");
        assert_eq!(human_size(12 * 1024 * 1024), "12 MiB");
        let t = UNIX_EPOCH + Duration::from_secs(1_795_000_000);
        assert_eq!(format_date(t), "2026-11-18 11:06 UTC");
        assert_eq!(format_date(UNIX_EPOCH), "1970-01-01 00:00 UTC");
        assert_eq!(
            format_date(UNIX_EPOCH + Duration::from_secs(951_782_400)),
            "2000-02-29 00:00 UTC"
        );
    }

    #[test]
    fn the_policy_names_the_style_by_hash() {
        let csp = content_security_policy();
        assert!(
            csp.starts_with("default-src 'none'; style-src 'sha256-"),
            "{csp}"
        );
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert_eq!(base64_encode(b"abcd"), "YWJjZA==");
        assert_eq!(base64_encode(b"abc"), "YWJj");
    }
}
