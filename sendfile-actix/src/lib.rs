#![doc = include_str!("docs/crate.md")]
#![doc = include_str!("docs/backends.md")]
#![doc = include_str!("docs/permissions.md")]
#![doc = include_str!("docs/object-storage.md")]
#![doc = include_str!("docs/in-process.md")]
#![doc = include_str!("docs/archives.md")]
#![doc = include_str!("docs/front-servers.md")]
#![doc = include_str!("docs/signed-links.md")]
#![doc = include_str!("docs/security.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod archive;
mod body;
mod config;
mod denied;
mod error;
mod file;
mod forward;
mod limits;
mod links;
mod routing;
pub mod test;

pub mod doctor;
pub mod protected;

pub use archive::{Archive, DEFAULT_MAX_FILES, ResolvedArchive};
pub use config::{SendFileConfig, SendFileConfigBuilder};
pub use denied::DeniedStatus;
pub use error::SendFileError;
pub use file::{ResolvedSendFile, SendFile};
pub use forward::ForwardAuth;
pub use limits::on_connect;
pub use links::SignedLinks;
pub use routing::{Files, resource, route};
pub use sendfile_core::engine::RangeLimits;
/// Forward-auth: the proxies' configuration and how the original URI is decoded.
pub use sendfile_core::forward as forward_auth;
pub use sendfile_core::policy;
pub use sendfile_core::{Backend, ConfigError, ContentPolicy};
pub use sendfile_core::{deploy, link, object, s3};

/// The framework-neutral engine underneath, for what this crate's items mention without
/// re-exporting: the core error a [`SendFileError`] wraps ([`SendFileError::inner`]), and what
/// a [`CustomBackend`](sendfile_core::CustomBackend) implements. Always the version this crate
/// was built with.
pub use sendfile_core;

/// nginx's `X-Accel-*` extras, given to [`SendFile::nginx`].
///
/// ```
/// use sendfile_actix::SendFile;
/// use sendfile_actix::nginx::{AccelExpires, NginxOptions};
///
/// let file = SendFile::new("catalogue.pdf")
///     .nginx(NginxOptions::new().expires(AccelExpires::Seconds(300)).charset("utf-8"));
/// # drop(file);
/// ```
pub mod nginx {
    pub use sendfile_core::nginx::{AccelExpires, LimitRate, NginxOptions};
}

#[cfg(feature = "macros")]
pub use sendfile_macros::protected_file;

/// The README's examples, compiled as doctests so that they stay true.
#[cfg(all(doctest, feature = "macros"))]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;
