//! From a configuration and a file request to a response plan. (owner: lead)

use crate::backend::Backend;
use crate::config::Config;
use crate::confine::ResolvedFile;
use crate::engine::Request;
use crate::error::Error;
use crate::plan::{FileRequest, Plan};

/// Resolves the requested file as the effective backend needs it.
pub fn resolve(config: &Config, request: &FileRequest) -> Result<ResolvedFile, Error> {
    let _ = (config, request);
    todo!()
}

/// Plans the response for `request`.
pub fn plan(config: &Config, request: &FileRequest, http: &Request<'_>) -> Result<Plan, Error> {
    let file = resolve(config, request)?;
    plan_resolved(config, request, file, http)
}

/// Plans the response for a file already resolved with [`resolve`].
pub fn plan_resolved(
    config: &Config,
    request: &FileRequest,
    file: ResolvedFile,
    http: &Request<'_>,
) -> Result<Plan, Error> {
    let _ = (config, request, file, http, Backend::Simple);
    todo!()
}
