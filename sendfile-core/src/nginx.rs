//! nginx's `X-Accel-*` control headers, as typed options.
//!
//! OWNER: encoding helper. Interface fixed; bodies to be written.

use std::time::SystemTime;

use crate::plan::Header;

/// `X-Accel-Limit-Rate`: the speed limit for this download.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitRate {
    /// At most this many bytes per second.
    BytesPerSecond(u64),
    /// No limit (`off`), overriding a `proxy_limit_rate` in the nginx configuration.
    Off,
}

/// `X-Accel-Expires`: how long nginx's own `proxy_cache` keeps the upstream response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccelExpires {
    /// Cache for this many seconds (`0` disables caching).
    Seconds(u64),
    /// Cache until this time (`@<unix seconds>`).
    At(SystemTime),
}

/// The nginx extras. Emitted by the nginx backend only; ignored by every other backend.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NginxOptions {
    /// `X-Accel-Limit-Rate`
    pub limit_rate: Option<LimitRate>,
    /// `X-Accel-Buffering` (`yes`/`no`)
    pub buffering: Option<bool>,
    /// `X-Accel-Charset` (nginx must know the charset: see the crate docs)
    pub charset: Option<String>,
    /// `X-Accel-Expires`
    pub expires: Option<AccelExpires>,
}

impl NginxOptions {
    /// The headers for the options that are set. A charset that is not an RFC 2978 token is
    /// an error.
    pub fn headers(&self) -> Result<Vec<Header>, crate::Error> {
        todo!()
    }
}
