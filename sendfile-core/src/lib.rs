//! The framework-neutral engine of `sendfile-actix`.
//!
//! An application decides whether a user may download a file; this crate turns that decision
//! into a response plan: either a header that hands the file to the front server (nginx,
//! Apache mod_xsendfile, lighttpd, mod_wsgi, Caddy), or a streamed body with full HTTP
//! semantics (conditional requests, ranges, HEAD).
//!
//! - [`Root`]: a requested path resolves to a regular file inside the root, symlinks
//!   included, race-free on Linux ([`ResolvedFile`]).
//! - [`backend`]: the backends, and each built-in backend's rules in one place.
//! - [`encode`]: the per-server encoding of the offload header value.
//! - [`disposition`]: Content-Disposition and Content-Type.
//! - [`engine`]: the RFC 9110 conditional and range engine.
//! - [`forward`]: forward-auth (nginx `auth_request`, Caddy `forward_auth`, Traefik
//!   `ForwardAuth`): the path a proxy asks about, and the proxies' configuration.
//! - [`cdn`]: links a CDN checks at its edge (Google Cloud CDN signed URLs and cookies).
//! - [`link`]: signed, expiring links, checked by nginx's `secure_link` or by the library.
//! - [`policy`]: what travels with the bytes (`nosniff`, active content as an attachment, a
//!   sandbox, `Cache-Control: private`).
//! - [`logsafe`]: request-derived values escaped for log lines and error messages.
//! - [`object`]: files in a bucket, sent with presigned URLs ([`s3`] signs them for S3).
//! - [`doctor`]: checks through the real front server that offloading works.
//! - [`deploy`]: the front server's configuration, generated from a [`Config`].
//! - [`zip`]: the format of streamed ZIP archives, and nginx mod_zip's manifest.
//! - [`plan()`]: all of it together, from a [`Config`] and a [`FileRequest`] to a [`Plan`].
//!
//! No type of any HTTP framework appears in this API: adapters translate.

pub mod backend;
pub mod cdn;
mod coding;
mod config;
mod confine;
pub mod deploy;
pub mod disposition;
pub mod doctor;
mod doctor_access;
pub mod encode;
pub mod engine;
mod error;
pub mod forward;
mod header;
pub mod link;
pub mod logsafe;
mod meta;
pub mod nginx;
pub mod object;
mod planner;
pub mod policy;
mod probe_files;
mod request;
mod response;
#[cfg(feature = "s3")]
pub mod s3;
mod streams;
mod url;
mod watch;
pub mod zip;

pub use backend::{BACKEND_NAMES, Backend, CustomBackend, Offload};
pub use coding::ContentCoding;
pub use config::{Config, ConfigBuilder, Source};
pub use confine::{Access, FileState, OpenFile, ResolvedFile, Root};
pub use disposition::DispositionType;
pub use error::{ConfigError, Error, NotFoundReason, Overload};
pub use header::{Header, HeaderBytes};
pub use meta::FileMeta;
pub use planner::{effective_backend, plan, plan_resolved, resolve};
pub use policy::ContentPolicy;
pub use request::FileRequest;
pub use response::{Body, Plan};
pub use streams::{StreamPermit, StreamSlots};
pub use url::UrlPrefix;
pub use watch::RECHECK;
