//! The doctor in actix-web: the routes it probes, a health endpoint, and checks on demand.
//!
//! [`configure`] registers, next to the application's routes:
//!
//! - `GET` [`MANIFEST_PATH`]: the application's settings and what the probes must look like
//!   (writes the probes below the root on the way, see [`Probes`]);
//! - `GET`/`HEAD` [`PROBE_PATH`]: the probe, offloaded by the configured backend exactly as any
//!   [`SendFile`];
//! - `GET` [`SYMLINK_PATH`]: a path through a symlink below the root, named to the front server
//!   as is;
//! - `GET` [`REPORT_PATH`]: a health endpoint that runs every check through the front server at
//!   [`DoctorSettings::public_url`] and answers the report, `200` when all pass, `503`
//!   otherwise.
//!
//! The checks themselves ([`run`], blocking) work from anywhere that reaches the front server:
//! at start-up, from [`check`] on demand, from the command line.
//!
//! # Access
//!
//! These routes tell the root, the backend and OS error texts, write the probes, and each
//! request to [`REPORT_PATH`] makes about ten through the front server. They answer only
//! requests carrying `Authorization: Bearer <token>` with the token of
//! [`DoctorSettings::token`] (compared in constant time), or the one this process's own
//! checks carry ([`check`], [`check_at_startup`], the health endpoint's own requests): with no
//! token set they are closed to everyone else. Anyone else gets `401` with a fixed body that
//! names nothing. The health endpoint runs one check at a time and answers from its last
//! report for [`DoctorSettings::report_every`] (10 s by default), so that however many
//! requests it gets, the front server sees a bounded number.
//!
//! ```
//! use actix_web::{App, test};
//! use sendfile_actix::doctor::{self, DoctorSettings, Manifest, MANIFEST_PATH};
//! use sendfile_actix::{Backend, SendFileConfig};
//!
//! # actix_web::rt::System::new().block_on(async {
//! let root = tempfile::tempdir().unwrap();
//! let config = SendFileConfig::builder(Backend::Nginx).root(root.path()).url("/protected").build().unwrap();
//! let token = "a long random secret, not this one";
//! let app = test::init_service(
//!     App::new()
//!         .app_data(config)
//!         .app_data(DoctorSettings::default().public_url("http://127.0.0.1:8080/").token(token))
//!         .configure(doctor::configure),
//! )
//! .await;
//! // Anonymous: nothing.
//! let res = test::call_service(&app, test::TestRequest::get().uri(MANIFEST_PATH).to_request()).await;
//! assert_eq!(res.status(), 401);
//! // With the token: the manifest.
//! let req = test::TestRequest::get()
//!     .uri(MANIFEST_PATH)
//!     .insert_header(("Authorization", format!("Bearer {token}")))
//!     .to_request();
//! let res = test::call_service(&app, req).await;
//! assert_eq!(res.status(), 200);
//! let text = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
//! let manifest = Manifest::parse(&text).unwrap();
//! assert_eq!(manifest.url, "/protected");
//! # });
//! ```

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
pub use sendfile_core::doctor::{
    Check, MANIFEST_PATH, MIN_TOKEN_LEN, Manifest, Outcome, PROBE_DIR, PROBE_PATH, Probes, Report,
    SYMLINK_PATH, offload_header, run, run_with_token,
};

use crate::config::SendFileConfig;
use crate::file::SendFile;

/// The health endpoint: the report of every check through the front server.
///
/// ```
/// assert_eq!(sendfile_actix::doctor::REPORT_PATH, "/.well-known/sendfile-doctor/report");
/// ```
pub const REPORT_PATH: &str = "/.well-known/sendfile-doctor/report";

/// The doctor's settings, as app data next to the [`SendFileConfig`] (all optional). Clones
/// share the health endpoint's last report: register one value (or clones of it) for every
/// worker.
///
/// ```
/// use std::time::Duration;
/// use sendfile_actix::doctor::DoctorSettings;
/// let settings = DoctorSettings::default()
///     .probe_file("public/welcome.txt")
///     .public_url("http://127.0.0.1:8080/")
///     .token("a long random secret, not this one")
///     .report_every(Duration::from_secs(30));
/// assert_eq!(settings.public_url.as_deref(), Some("http://127.0.0.1:8080/"));
/// // The token never shows in logs.
/// assert!(!format!("{settings:?}").contains("secret"));
/// ```
#[derive(Clone)]
pub struct DoctorSettings {
    /// A file below the root to probe with when the application cannot write its probes
    /// there (a read-only root).
    pub probe_file: Option<String>,
    /// The front server's public base URL (plain HTTP), for [`REPORT_PATH`] and [`check`].
    pub public_url: Option<String>,
    token: Option<String>,
    report_every: Duration,
    last_report: Arc<futures_util::lock::Mutex<Option<(Instant, Report)>>>,
}

impl Default for DoctorSettings {
    fn default() -> Self {
        DoctorSettings {
            probe_file: None,
            public_url: None,
            token: None,
            report_every: Duration::from_secs(10),
            last_report: Arc::default(),
        }
    }
}

impl fmt::Debug for DoctorSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DoctorSettings")
            .field("probe_file", &self.probe_file)
            .field("public_url", &self.public_url)
            .field("token", &self.token.as_ref().map(|_| "…"))
            .field("report_every", &self.report_every)
            .finish_non_exhaustive()
    }
}

impl DoctorSettings {
    /// Sets [`probe_file`](Self::probe_file).
    ///
    /// ```
    /// use sendfile_actix::doctor::DoctorSettings;
    ///
    /// let settings = DoctorSettings::default().probe_file("public/welcome.txt");
    /// assert_eq!(settings.probe_file.as_deref(), Some("public/welcome.txt"));
    /// ```
    #[must_use]
    pub fn probe_file(mut self, relative: impl Into<String>) -> Self {
        self.probe_file = Some(relative.into());
        self
    }

    /// Sets [`public_url`](Self::public_url).
    ///
    /// ```
    /// use sendfile_actix::doctor::DoctorSettings;
    ///
    /// let settings = DoctorSettings::default().public_url("http://127.0.0.1:8080/");
    /// assert_eq!(settings.public_url.as_deref(), Some("http://127.0.0.1:8080/"));
    /// ```
    #[must_use]
    pub fn public_url(mut self, url: impl Into<String>) -> Self {
        self.public_url = Some(url.into());
        self
    }

    /// The bearer token that opens the doctor's routes to callers outside this process: the
    /// `doctor` command ([`run_with_token`]) or a monitor polling [`REPORT_PATH`] with
    /// `Authorization: Bearer <token>`. Use a long random secret (e.g. `openssl rand -hex
    /// 32`); one shorter than [`MIN_TOKEN_LEN`] opens nothing. Without a token the routes
    /// answer only this process's own checks.
    ///
    /// ```
    /// use sendfile_actix::doctor::DoctorSettings;
    /// let settings = DoctorSettings::default().token("0123456789abcdef0123456789abcdef");
    /// assert!(settings.has_token());
    /// assert!(!DoctorSettings::default().token("short").has_token());
    /// ```
    #[must_use]
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// Whether a token long enough to open the routes is set.
    pub fn has_token(&self) -> bool {
        self.token
            .as_ref()
            .is_some_and(|t| t.len() >= MIN_TOKEN_LEN)
    }

    /// How long the health endpoint answers from its last report before checking again (10 s
    /// by default). Only one check runs at a time; requests meanwhile wait for it.
    ///
    /// ```
    /// use std::time::Duration;
    /// use sendfile_actix::doctor::DoctorSettings;
    /// let settings = DoctorSettings::default().report_every(Duration::from_secs(60));
    /// # drop(settings);
    /// ```
    #[must_use]
    pub fn report_every(mut self, every: Duration) -> Self {
        self.report_every = every;
        self
    }

    /// The last report when younger than [`report_every`](Self::report_every), else a new
    /// one: one check at a time.
    async fn report(&self, public_url: &str) -> Report {
        let mut last = self.last_report.lock().await;
        if let Some((at, report)) = last.as_ref()
            && at.elapsed() < self.report_every
        {
            return report.clone();
        }
        let report = check(public_url).await;
        *last = Some((Instant::now(), report.clone()));
        report
    }
}

/// Registers the doctor's routes (see the [module](self) documentation).
///
/// ```
/// use actix_web::App;
/// use sendfile_actix::doctor;
///
/// let app = App::new().configure(doctor::configure);
/// # drop(app);
/// ```
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(MANIFEST_PATH, web::get().to(manifest))
        .route(PROBE_PATH, web::get().to(probe))
        .route(PROBE_PATH, web::head().to(probe))
        .route(SYMLINK_PATH, web::get().to(symlink))
        .route(REPORT_PATH, web::get().to(report));
}

/// Runs every check through the front server at `public_url` on actix-web's blocking pool,
/// its requests carrying this process's own token (no [`DoctorSettings::token`] needed).
///
/// The application must be serving its requests meanwhile (the checks come back to it through
/// the front server): call it from a handler or a task spawned once the server runs, never
/// before.
///
/// ```
/// # actix_web::rt::System::new().block_on(async {
/// // Nothing listens there: one failed check says so.
/// let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
/// let report = sendfile_actix::doctor::check(&format!("http://127.0.0.1:{port}/")).await;
/// assert!(!report.passed());
/// assert!(report.to_string().starts_with("FAIL manifest"));
/// # });
/// ```
pub async fn check(public_url: &str) -> Report {
    let url = public_url.to_owned();
    let fallback = public_url.to_owned();
    web::block(move || run(&url)).await.unwrap_or_else(|e| {
        let mut r = Report::default();
        r.checks.push(Check {
            name: "manifest",
            outcome: Outcome::Fail,
            message: format!("the doctor for {fallback} could not run: {e}"),
        });
        r
    })
}

/// [`check`], for start-up: while the front server cannot be reached (it may start after the
/// application), tries again every second for up to `patience`, then returns the last report.
///
/// ```
/// # actix_web::rt::System::new().block_on(async {
/// use std::time::Duration;
/// let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
/// let url = format!("http://127.0.0.1:{port}/");
/// let report = sendfile_actix::doctor::check_at_startup(&url, Duration::ZERO).await;
/// assert!(report.check("manifest").unwrap().message.contains("not reachable"));
/// # });
/// ```
pub async fn check_at_startup(public_url: &str, patience: std::time::Duration) -> Report {
    let deadline = std::time::Instant::now() + patience;
    loop {
        let report = check(public_url).await;
        let unreachable = report.checks.len() == 1
            && report
                .check("manifest")
                .is_some_and(|c| c.message.contains("not reachable"));
        if !unreachable || std::time::Instant::now() >= deadline {
            return report;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_secs(1)).await;
    }
}

fn settings(req: &HttpRequest) -> DoctorSettings {
    req.app_data::<DoctorSettings>()
        .cloned()
        .or_else(|| {
            req.app_data::<web::Data<DoctorSettings>>()
                .map(|d| d.get_ref().clone())
        })
        .unwrap_or_default()
}

/// The settings, when the request carries a token that opens the doctor's routes.
fn authorized(req: &HttpRequest) -> Option<DoctorSettings> {
    let settings = settings(req);
    let value = req
        .headers()
        .get(header::AUTHORIZATION)
        .map(HeaderValue::as_bytes);
    if sendfile_core::doctor::authorized(value, settings.token.as_deref()) {
        Some(settings)
    } else {
        log::debug!(
            "sendfile doctor: refused a request without its token{}",
            if settings.has_token() {
                ""
            } else {
                " (none is configured: DoctorSettings::token)"
            }
        );
        None
    }
}

/// The answer to a request without the token: the same whatever the configuration.
fn unauthorized() -> HttpResponse {
    HttpResponse::Unauthorized()
        .insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"sendfile-doctor\""))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .content_type("text/plain; charset=utf-8")
        .body("401 Unauthorized\n")
}

/// The probes, or why there are none.
fn probes(req: &HttpRequest, settings: &DoctorSettings) -> Result<Probes, String> {
    let config = SendFileConfig::from_req(req).map_err(|e| e.to_string())?;
    Probes::prepare_or(config.core(), settings.probe_file.as_deref()).map_err(|e| e.to_string())
}

fn unavailable(message: &str) -> HttpResponse {
    log::error!("sendfile doctor: {message}");
    HttpResponse::ServiceUnavailable()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .content_type("text/plain; charset=utf-8")
        .body(format!("{message}\n"))
}

async fn manifest(req: HttpRequest) -> HttpResponse {
    let Some(settings) = authorized(&req) else {
        return unauthorized();
    };
    match probes(&req, &settings) {
        Ok(p) => HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .content_type("text/plain; charset=utf-8")
            .body(p.manifest().to_text()),
        Err(e) => unavailable(&e),
    }
}

async fn probe(req: HttpRequest) -> HttpResponse {
    let Some(settings) = authorized(&req) else {
        return unauthorized();
    };
    match probes(&req, &settings) {
        Ok(p) => SendFile::new(p.probe()).attachment().into_response(&req),
        Err(e) => unavailable(&e),
    }
}

async fn symlink(req: HttpRequest) -> HttpResponse {
    let Some(settings) = authorized(&req) else {
        return unauthorized();
    };
    let p = match probes(&req, &settings) {
        Ok(p) => p,
        Err(e) => return unavailable(&e),
    };
    let Ok(config) = SendFileConfig::from_req(&req) else {
        return unavailable("no SendFileConfig");
    };
    let header = p
        .symlink()
        .and_then(|link| offload_header(config.core(), link));
    match header {
        Some((name, value)) => match HeaderValue::from_bytes(&value) {
            Ok(value) => HttpResponse::Ok()
                .insert_header((header::CONTENT_TYPE, "text/plain; charset=utf-8"))
                .insert_header((name, value))
                .finish(),
            Err(_) => unavailable("the symlink probe's path cannot be a header value"),
        },
        None => HttpResponse::NotFound()
            .content_type("text/plain; charset=utf-8")
            .body("no symlink probe for this backend\n"),
    }
}

async fn report(req: HttpRequest) -> HttpResponse {
    let Some(settings) = authorized(&req) else {
        return unauthorized();
    };
    let Some(url) = settings.public_url.clone() else {
        return unavailable(
            "the doctor does not know the front server's address: add DoctorSettings::default().public_url(\"http://...\") as app data",
        );
    };
    let report = settings.report(&url).await;
    let status = if report.passed() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    HttpResponse::build(status)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .content_type("text/plain; charset=utf-8")
        .body(report.to_string())
}
