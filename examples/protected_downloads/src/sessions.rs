//! Who is signed in: server-side sessions, the sign-in and sign-out forms, HTTP Basic for
//! curl, and the checks in front of them.
//!
//! - A session is a random 256-bit id in the `pd_session` cookie (HttpOnly, SameSite=Lax,
//!   Secure over HTTPS); the database stores its SHA-256 with the user and an expiry
//!   ([`Settings::session_lifetime`](crate::state::Settings)), checked on every request. Signing
//!   out deletes the row, so a copy of the cookie stops working too; "sign out everywhere"
//!   deletes all the user's sessions.
//! - `POST /sign-in`, `/sign-out` and `/upload` are refused (403) when the browser says the
//!   form comes from another site (`Origin`, or `Sec-Fetch-Site` when there is no `Origin`):
//!   no login CSRF. Sign-in accepts only `application/x-www-form-urlencoded` (415 otherwise:
//!   a cross-site `text/plain` form cannot pose as one).
//! - Password checks (form and HTTP Basic) go through the [`Throttle`](crate::throttle) first,
//!   and run Argon2 off the async workers, a few at a time ([`Settings::concurrent_hashes`](crate::state::Settings::concurrent_hashes)).

use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::atomic::Ordering;

use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, ContentType};
use actix_web::{
    FromRequest, HttpMessage as _, HttpRequest, HttpResponse, ResponseError, dev, web,
};
use sha2::{Digest as _, Sha256};

use crate::db::{User, now};
use crate::state::AppState;
use crate::throttle::RetryAfter;
use crate::{SignedIn, page};

/// The session cookie's name.
pub const COOKIE: &str = "pd_session";

/// A refusal of the checks in front of the forms and the password checks.
#[derive(Debug)]
pub enum Refused {
    /// The form was posted from another site (login CSRF).
    CrossSite,
    /// Sign-in accepts only `application/x-www-form-urlencoded`.
    NotAForm,
    /// Too many failed password checks for this account or address.
    Throttled(RetryAfter),
    /// Too many password checks running.
    Busy,
    /// The database failed.
    Internal(String),
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refused::CrossSite => f.write_str(
                "this form was sent from another site; open the app's own page and sign in there",
            ),
            Refused::NotAForm => f.write_str(
                "send the sign-in form as application/x-www-form-urlencoded (fields name and password)",
            ),
            Refused::Throttled(RetryAfter(d)) => write!(
                f,
                "too many failed sign-ins; try again in {} s",
                d.as_secs().max(1)
            ),
            Refused::Busy => f.write_str("too many sign-ins at once; try again in a second"),
            Refused::Internal(e) => f.write_str(e),
        }
    }
}

impl ResponseError for Refused {
    fn status_code(&self) -> StatusCode {
        match self {
            Refused::CrossSite => StatusCode::FORBIDDEN,
            Refused::NotAForm => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Refused::Throttled(_) => StatusCode::TOO_MANY_REQUESTS,
            Refused::Busy => StatusCode::SERVICE_UNAVAILABLE,
            Refused::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut res = HttpResponse::build(self.status_code());
        match self {
            Refused::Throttled(RetryAfter(d)) => {
                res.insert_header((header::RETRY_AFTER, d.as_secs().max(1).to_string()));
            }
            Refused::Busy => {
                res.insert_header((header::RETRY_AFTER, "1"));
            }
            _ => {}
        }
        let text = match self {
            // Details stay in the log.
            Refused::Internal(e) => {
                log::error!("{e}");
                "Something went wrong; try again later.\n".to_owned()
            }
            other => format!("{other}.\n"),
        };
        res.content_type(ContentType::plaintext())
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .body(text)
    }
}

/// Refuses a form posted from another site: the browser's `Origin` must name this host
/// (the `Host` the request came with); with `Origin: null` `Sec-Fetch-Site` must say
/// `same-origin`; without `Origin`, it must not say `cross-site` or `same-site`. Clients
/// that send neither (curl) pass.
pub fn same_origin(req: &HttpRequest) -> Result<(), Refused> {
    let headers = req.headers();
    let fetch_site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    let origin = headers.get(header::ORIGIN);
    if origin.is_some_and(|o| o == "null") {
        // A browser sends `Origin: null` from a page with `Referrer-Policy: no-referrer` or a
        // sandboxed frame: only its own `Sec-Fetch-Site` can then vouch for the form.
        return match fetch_site {
            Some("same-origin") => Ok(()),
            _ => Err(Refused::CrossSite),
        };
    }
    if let Some(origin) = origin {
        let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
        let origin_host = origin
            .to_str()
            .ok()
            .and_then(|o| o.split_once("://"))
            .map(|(_, host)| host);
        return match (origin_host, host) {
            (Some(o), Some(h)) if o.eq_ignore_ascii_case(h) => Ok(()),
            _ => Err(Refused::CrossSite),
        };
    }
    match fetch_site {
        Some("cross-site" | "same-site") => Err(Refused::CrossSite),
        _ => Ok(()),
    }
}

/// The client's address for the throttle: the peer, or, when the peer is a front server on
/// this machine (loopback) and the backend offloads to one, the last `X-Forwarded-For` entry
/// (the address the front server saw). A client talking to the app directly cannot choose
/// its address this way with an in-process backend.
pub fn client_ip(req: &HttpRequest, behind_front_server: bool) -> IpAddr {
    let peer = req
        .peer_addr()
        .map_or(IpAddr::from([0, 0, 0, 0]), |a| a.ip());
    if behind_front_server && peer.is_loopback() {
        let forwarded = req
            .headers()
            .get_all("x-forwarded-for")
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|v| v.trim().parse::<IpAddr>().ok())
            .last();
        if let Some(ip) = forwarded {
            return ip;
        }
    }
    peer
}

/// Checks `name`/`password` through the throttle; Argon2 runs on the blocking pool.
pub(crate) async fn check_password(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    name: &str,
    password: &str,
) -> Result<Option<User>, Refused> {
    let ip = client_ip(req, state.behind_front_server(req));
    state.throttle.check(name, ip).map_err(Refused::Throttled)?;
    let Some(_slot) = state.hash_slot() else {
        return Err(Refused::Busy);
    };
    let user = {
        let state = state.clone();
        let (name, password) = (name.to_owned(), password.to_owned());
        web::block(move || state.db.verify_password(&name, &password))
            .await
            .map_err(|e| Refused::Internal(format!("checking a password: {e}")))?
            .map_err(|e| Refused::Internal(e.to_string()))?
    };
    match &user {
        Some(_) => state.throttle.succeeded(name),
        None => state.throttle.failed(name, ip),
    }
    Ok(user)
}

/// The SHA-256 of a session id, as the database stores it; `None` for a malformed id.
fn id_hash(id: &str) -> Option<[u8; 32]> {
    (id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| Sha256::digest(id.as_bytes()).into())
}

/// The user of the request's session cookie, if it names a live session.
fn session_user(req: &HttpRequest, state: &AppState) -> Result<Option<User>, Refused> {
    let Some(hash) = req.cookie(COOKIE).and_then(|c| id_hash(c.value())) else {
        return Ok(None);
    };
    state
        .db
        .session_user(&hash)
        .map_err(|e| Refused::Internal(e.to_string()))
}

/// `user:password` from an `Authorization: Basic` value.
pub fn basic_credentials(authorization: &str) -> Option<(String, String)> {
    let (scheme, token) = authorization.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(base64_decode(token.trim())?).ok()?;
    let (name, password) = decoded.split_once(':')?;
    Some((name.to_owned(), password.to_owned()))
}

/// Resolves the signed-in user once per request (kept in the request's extensions): HTTP
/// Basic when the request carries it (a wrong password is "not signed in"), else the
/// session cookie.
pub(crate) async fn resolve(req: &HttpRequest) -> Result<SignedIn, actix_web::Error> {
    if let Some(known) = req.extensions().get::<SignedIn>() {
        return Ok(known.clone());
    }
    let state = AppState::of(req)?;
    let basic = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(basic_credentials);
    let user = match basic {
        Some((name, password)) => check_password(req, &state, &name, &password).await?,
        None => session_user(req, &state)?,
    };
    let signed_in = SignedIn(user);
    req.extensions_mut().insert(signed_in.clone());
    Ok(signed_in)
}

impl FromRequest for SignedIn {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut dev::Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { resolve(&req).await })
    }
}

/// `POST /sign-in` (form: `name`, `password`): starts a session and goes to `/`.
pub(crate) async fn sign_in(
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, actix_web::Error> {
    same_origin(&req)?;
    let is_form = req
        .mime_type()
        .ok()
        .flatten()
        .is_some_and(|m| m.essence_str() == "application/x-www-form-urlencoded");
    if !is_form {
        return Err(Refused::NotAForm.into());
    }
    let state = AppState::of(&req)?;
    let form = parse_form(&body);
    let field = |k: &str| {
        form.iter()
            .find(|(n, _)| n == k)
            .map_or("", |(_, v)| v.as_str())
    };
    let Some(user) = check_password(&req, &state, field("name"), field("password")).await? else {
        return Ok(page::sign_in_page(
            StatusCode::UNAUTHORIZED,
            Some("Wrong name or password."),
        ));
    };
    let mut id = [0u8; 32];
    getrandom::fill(&mut id).map_err(|e| Refused::Internal(format!("session id: {e}")))?;
    let id: String = id.iter().map(|b| format!("{b:02x}")).collect();
    let lifetime = state.settings.session_lifetime;
    let expires_at = now().saturating_add(i64::try_from(lifetime.as_secs()).unwrap_or(i64::MAX));
    let hash = id_hash(&id).expect("64 hex digits");
    state
        .db
        .insert_session(&hash, &user, expires_at)
        .map_err(|e| Refused::Internal(e.to_string()))?;
    let secure = req.connection_info().scheme() == "https";
    let cookie = Cookie::build(COOKIE, id)
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Lax)
        .max_age(CookieDuration::seconds(
            i64::try_from(lifetime.as_secs()).unwrap_or(i64::MAX),
        ))
        .finish();
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .cookie(cookie)
        .finish())
}

/// `POST /sign-out` (form field `everywhere` for every session of the user): ends the
/// session on the server, removes the cookie and goes to `/`.
pub(crate) async fn sign_out(
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, actix_web::Error> {
    same_origin(&req)?;
    let state = AppState::of(&req)?;
    let everywhere = parse_form(&body).iter().any(|(k, _)| k == "everywhere");
    if let Some(hash) = req.cookie(COOKIE).and_then(|c| id_hash(c.value())) {
        state
            .db
            .end_session(&hash, everywhere)
            .map_err(|e| Refused::Internal(e.to_string()))?;
    }
    let mut removal = Cookie::build(COOKIE, "").path("/").finish();
    removal.make_removal();
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .cookie(removal)
        .finish())
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

fn base64_decode(input: &str) -> Option<Vec<u8>> {
    fn value(c: u8) -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    }
    let bytes = input.trim_end_matches('=').as_bytes();
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        if chunk.len() == 1 {
            return None;
        }
        let mut n = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            n |= value(c)? << (18 - 6 * i);
        }
        let decoded = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&decoded[..chunk.len() - 1]);
    }
    Some(out)
}

/// Counts a running Argon2 check; released on drop.
#[derive(Debug)]
pub(crate) struct HashSlot<'a>(pub(crate) &'a std::sync::atomic::AtomicUsize);

impl Drop for HashSlot<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn basic() {
        assert_eq!(
            basic_credentials("Basic YWxpY2U6d29uZGVybGFuZA=="),
            Some(("alice".into(), "wonderland".into()))
        );
        assert_eq!(
            basic_credentials("basic Ym9iOmJ1aWxkZXI="),
            Some(("bob".into(), "builder".into()))
        );
        assert_eq!(basic_credentials("Bearer abc"), None);
        assert_eq!(basic_credentials("Basic !!!"), None);
    }

    #[test]
    fn session_ids() {
        assert!(id_hash(&"ab".repeat(32)).is_some());
        assert!(id_hash(&"ab".repeat(31)).is_none());
        assert!(id_hash(&"zz".repeat(32)).is_none());
    }
}
