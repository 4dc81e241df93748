//! Check who may download a file in actix-web, then hand the sending of the bytes to the front
//! web server.
//!
//! A handler decides whether the user may have a file and returns a [`SendFile`]. The
//! [`SendFileConfig`] registered as app data chooses the [`Backend`] that turns it into a
//! response:
//!
//! | backend | response | front server configuration |
//! |---|---|---|
//! | `nginx` | `X-Accel-Redirect: <url>/<path>` (percent-encoded) | an `internal` location with `alias <root>/` |
//! | `xsendfile` | `X-Sendfile: <absolute path>` (raw bytes) | Apache `mod_xsendfile` 0.12, `XSendFilePath <root>` |
//! | `lighttpd` | `X-Sendfile: <absolute path>` (percent-encoded) | `mod_proxy` with `x-sendfile` and `x-sendfile-docroot` |
//! | `mod_wsgi` | `Location: <url>/<path>` with status 200 | mod_wsgi daemon mode, or Caddy `handle_response` |
//! | `caddy` | `X-Accel-Redirect: <url>/<path>` (raw) | `reverse_proxy` + `handle_response` |
//! | `simple` | the bytes, streamed by the application | none |
//! | `development` | the bytes, `Cache-Control: no-store` | none; not for production |
//!
//! Offload responses are `200` with an empty body, a `Content-Type` and a
//! `Content-Disposition`; the front server answers ranges and conditional requests. The
//! in-process backends answer them themselves (RFC 9110: `If-Match`, `If-None-Match`,
//! `If-Modified-Since`, `If-Unmodified-Since`, `If-Range`, single and multipart ranges, HEAD)
//! in constant memory.
//!
//! Every path is confined to the root: `..`, absolute paths elsewhere and symlinks that leave
//! the root are answered 404, with the reason in the log. No header can be injected through a
//! file name, and no response body ever names a filesystem path.
//!
//! # Example
//!
//! ```
//! use actix_web::{App, HttpServer, get, web};
//! use sendfile_actix::{Backend, SendFile, SendFileConfig};
//!
//! #[get("/reports/{name}")]
//! async fn report(name: web::Path<String>) -> SendFile {
//!     // ... decide here whether the user may have it ...
//!     SendFile::new(format!("reports/{name}")).attachment()
//! }
//!
//! # fn main() -> std::io::Result<()> {
//! # let dir = tempfile::tempdir()?;
//! let config = SendFileConfig::new(Backend::Nginx).root(dir.path()).url("/protected");
//! config.validate().expect("sendfile configuration");
//!
//! let server = HttpServer::new(move || {
//!     App::new().app_data(config.clone()).service(report)
//! });
//! # drop(server);
//! # Ok(())
//! # }
//! ```
//!
//! # Configuration from the environment
//!
//! [`SendFileConfig::from_env`] reads `SENDFILE_BACKEND`, `SENDFILE_ROOT`, `SENDFILE_URL` and
//! `SENDFILE_CHECK_FILE_EXISTS`, and names the setting at fault when one is wrong.
//!
//! ```no_run
//! // SENDFILE_BACKEND=nginx SENDFILE_ROOT=/srv/files SENDFILE_URL=/protected
//! let config = sendfile_actix::SendFileConfig::from_env().unwrap_or_else(|e| {
//!     // e.g. "sendfile configuration: SENDFILE_URL: not set, and the nginx backend needs it; ..."
//!     panic!("{e}")
//! });
//! ```
//!
//! # Permission checks
//!
//! `#[protected_file]` (feature `macros`, on by default) checks a permission before the body
//! runs (`allow = <expression>`) or on the resolved file (`check = <async fn>`); see its
//! documentation.

#![cfg_attr(docsrs, feature(doc_auto_cfg))]

mod body;
mod config;
mod error;
mod file;
pub mod test;

#[doc(hidden)]
pub mod __private {
    pub use crate::private::*;
}
mod private;

pub use config::SendFileConfig;
pub use error::SendFileError;
pub use file::SendFile;
pub use sendfile_core::encode::percent_encode_path;
pub use sendfile_core::engine::RangeLimits;
pub use sendfile_core::nginx::{AccelExpires, LimitRate};
pub use sendfile_core::{
    Backend, ConfigError, CustomBackend, DispositionType, Error, Header, NotFoundReason,
    ResolvedFile,
};

#[cfg(feature = "macros")]
pub use sendfile_macros::protected_file;
