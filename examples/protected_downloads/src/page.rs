//! The page a user sees: sign-in form, the user's files, sign-out; and the cookie session.
//!
//! Sessions are signed cookies (`actix-session`'s `CookieSessionStore`, key generated at
//! start-up: restarting the app signs everyone out). HTTP Basic is still accepted, for curl.

use std::fmt::Write as _;
use std::fs;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

use actix_session::config::{CookieContentSecurity, PersistentSession};
use actix_session::storage::CookieSessionStore;
use actix_session::{SessionExt, SessionMiddleware};
use actix_web::cookie::{Key, SameSite, time::Duration as CookieDuration};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, ContentType};
use actix_web::{HttpRequest, HttpResponse, web};
use sendfile_actix::SendFileConfig;
use sendfile_actix::doctor::{Outcome, Report};

use crate::{DemoUser, SignedIn, USERS, encode_url_path, escape_html};

/// The session key under which the signed-in user's name is kept.
const SESSION_USER: &str = "user";

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

fn key() -> &'static Key {
    static KEY: OnceLock<Key> = OnceLock::new();
    KEY.get_or_init(Key::generate)
}

/// The session middleware: a signed cookie `pd_session`, HttpOnly, SameSite=Lax, for 8 hours.
/// Not marked Secure, so that the example works over plain HTTP on loopback: behind TLS, set
/// `cookie_secure(true)`.
pub fn session_middleware() -> SessionMiddleware<CookieSessionStore> {
    SessionMiddleware::builder(CookieSessionStore::default(), key().clone())
        .cookie_name("pd_session".to_owned())
        .cookie_secure(false)
        .cookie_http_only(true)
        .cookie_same_site(SameSite::Lax)
        .cookie_content_security(CookieContentSecurity::Private)
        .session_lifecycle(PersistentSession::default().session_ttl(CookieDuration::hours(8)))
        .build()
}

/// The user signed in through the session, if any.
pub(crate) fn session_user(req: &HttpRequest) -> Option<DemoUser> {
    let name = req.get_session().get::<String>(SESSION_USER).ok()??;
    USERS.into_iter().find(|u| u.name == name)
}

/// One file of the listing.
struct Entry {
    path: String,
    size: u64,
    modified: Option<SystemTime>,
}

/// `GET /`: the signed-in user's files, or the sign-in form.
pub(crate) async fn index(
    req: HttpRequest,
    user: SignedIn,
    verdict: Option<web::Data<DoctorVerdict>>,
) -> HttpResponse {
    let Some(user) = user.0 else {
        return sign_in_page(StatusCode::OK, None);
    };
    let config = SendFileConfig::from_req(&req).ok();
    let mut files = Vec::new();
    if let Some(root) = config.and_then(|c| c.core().root_path()) {
        for area in ["public".to_owned(), format!("users/{}", user.name)] {
            list_files(root, &area, &mut files);
        }
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    let mut body = String::new();
    let _ = write!(
        body,
        "<header><h1>Protected downloads</h1>\
         <form class=\"sign-out\" method=\"post\" action=\"/sign-out\">\
         <span>Signed in as <strong>{}</strong></span> <button type=\"submit\">Sign out</button></form></header>\n<main>\n",
        escape_html(user.name)
    );
    let in_bucket = config.is_some_and(|c| c.core().store().is_some());
    if files.is_empty() && in_bucket {
        // Listing a bucket would need a request to the store.
        body.push_str("<p class=\"empty\">The files are in a bucket; try <a href=\"/download/public/welcome.txt\">public/welcome.txt</a>.</p>\n");
    } else if files.is_empty() {
        body.push_str("<p class=\"empty\">No files here (is the root readable by the app?).</p>\n");
    } else {
        body.push_str(
            "<table>\n<thead><tr><th>Name</th><th>Where</th><th class=\"num\">Size</th><th>Modified</th><th></th></tr></thead>\n<tbody>\n",
        );
        for f in &files {
            let (folder, name) = f.path.rsplit_once('/').unwrap_or(("", &f.path));
            let area = if folder.starts_with("public") {
                "Everyone".to_owned()
            } else {
                "Only you".to_owned()
            };
            let _ = writeln!(
                body,
                "<tr><td class=\"name\">{}</td><td class=\"area\">{}</td><td class=\"num\">{}</td><td>{}</td>\
                 <td><a class=\"button\" href=\"/download/{}\" download>Download</a>{}</td></tr>",
                escape_html(name),
                area,
                human_size(f.size),
                f.modified.map_or_else(|| "–".to_owned(), format_date),
                escape_html(&encode_url_path(&f.path)),
                crate::links::share_cell(&req, &f.path),
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
        Some((url, report)) => {
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
            let _ = writeln!(
                body,
                "<details class=\"doctor {class}\"><summary>{}</summary><pre>{}</pre>\
                 <p>Run it again: <code>protected_downloads doctor {}</code></p></details>",
                escape_html(&text),
                escape_html(&report.to_string()),
                escape_html(&url)
            );
        }
        None => body.push_str(
            "<p class=\"doctor\">No front server check has run (set PUBLIC_URL behind a front server).</p>\n",
        ),
    }
    body.push_str("</footer>\n");
    page(StatusCode::OK, "Your files", &body)
}

fn sign_in_page(status: StatusCode, error: Option<&str>) -> HttpResponse {
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
    HttpResponse::build(status)
        .content_type(ContentType::html())
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(html)
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
form.sign-out button{background:transparent;color:var(--accent)}
form.sign-in{display:grid;gap:.75rem;max-width:22rem}
label{display:grid;gap:.25rem;font-size:.9rem}
input{font:inherit;padding:.45rem .6rem;border:1px solid var(--line);border-radius:.45rem;background:var(--bg);color:var(--fg)}
.error{color:#c62828;margin:0}
details.doctor.ok summary{color:#2e7d32}
details.doctor.bad summary{color:#c62828}
pre{overflow-x:auto;font-size:.8rem}
@media (max-width:36rem){th:nth-child(2),td.area{display:none}}
";

/// `POST /sign-in` (form: `name`, `password`): starts the session and goes to `/`.
pub(crate) async fn sign_in(req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let form = parse_form(&body);
    let field = |k: &str| {
        form.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    };
    let user = USERS
        .into_iter()
        .find(|u| u.name == field("name") && u.password == field("password"));
    match user {
        Some(u) => {
            let session = req.get_session();
            session.renew();
            if session.insert(SESSION_USER, u.name).is_err() {
                return sign_in_page(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    Some("Could not start a session."),
                );
            }
            HttpResponse::SeeOther()
                .insert_header((header::LOCATION, "/"))
                .finish()
        }
        None => sign_in_page(StatusCode::UNAUTHORIZED, Some("Wrong name or password.")),
    }
}

/// `POST /sign-out`: ends the session and goes to `/`.
pub(crate) async fn sign_out(req: HttpRequest) -> HttpResponse {
    req.get_session().purge();
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/"))
        .finish()
}

/// `application/x-www-form-urlencoded` pairs (`+` is a space, `%XX` a byte).
fn parse_form(body: &[u8]) -> Vec<(String, String)> {
    fn decode(s: &[u8]) -> String {
        let mut out = Vec::with_capacity(s.len());
        let mut i = 0;
        while i < s.len() {
            match s[i] {
                b'+' => out.push(b' '),
                b'%' if i + 2 < s.len() => {
                    let hex = std::str::from_utf8(&s[i + 1..i + 3]).ok();
                    match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                        Some(b) => {
                            out.push(b);
                            i += 2;
                        }
                        None => out.push(b'%'),
                    }
                }
                b => out.push(b),
            }
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    }
    body.split(|&b| b == b'&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let mut kv = pair.splitn(2, |&b| b == b'=');
            let k = decode(kv.next().unwrap_or(b""));
            let v = decode(kv.next().unwrap_or(b""));
            (k, v)
        })
        .collect()
}

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
    use std::time::Duration;

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
    fn forms() {
        assert_eq!(
            parse_form(b"name=alice&password=a+b%21&x"),
            vec![
                ("name".into(), "alice".into()),
                ("password".into(), "a b!".into()),
                ("x".into(), String::new())
            ]
        );
        assert_eq!(parse_form(b"a=%4"), vec![("a".into(), "%4".into())]);
    }
}
