//! Who may use the doctor's routes: a bearer token, compared in constant time.
//!
//! The doctor's routes tell the root, the backend and OS error texts, write the probes and
//! (the health endpoint) make requests through the front server: they answer only requests
//! carrying `Authorization: Bearer <token>`, where the token is the one the operator set, or
//! the one this process's own checks carry ([`process_token`]). With no token set, only the
//! process's own checks get through: the routes fail closed.

use std::sync::OnceLock;

use subtle::ConstantTimeEq;

/// The shortest token accepted as configured: shorter ones are guessable.
pub const MIN_TOKEN_LEN: usize = 16;

/// The token the doctor's checks made by this process carry ([`run`](crate::doctor::run)):
/// 32 random bytes in hex, drawn once per process. It lets the application's own start-up
/// check and health endpoint reach its doctor's routes through the front server when no
/// token is configured; it is never valid in another process.
///
/// ```
/// let token = sendfile_core::doctor::process_token();
/// assert_eq!(token.len(), 64);
/// assert_eq!(token, sendfile_core::doctor::process_token());
/// ```
pub fn process_token() -> &'static str {
    static TOKEN: OnceLock<String> = OnceLock::new();
    TOKEN.get_or_init(|| {
        let mut bytes = [0u8; 32];
        // Without randomness no token can be trusted: the routes then stay closed to every
        // caller, this process included (an empty token matches nothing).
        if getrandom::fill(&mut bytes).is_err() {
            log::error!(
                "sendfile doctor: no random numbers from the OS; its routes stay closed to this process's own checks"
            );
            return String::new();
        }
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    })
}

/// Whether a request's `Authorization` header value opens the doctor's routes: `Bearer `
/// followed by `configured` (when set, and at least [`MIN_TOKEN_LEN`] bytes) or by
/// [`process_token`]. Compared in constant time.
///
/// ```
/// use sendfile_core::doctor::{authorized, process_token};
/// let token = "correct horse battery staple";
/// assert!(authorized(Some(format!("Bearer {token}").as_bytes()), Some(token)));
/// assert!(!authorized(Some(b"Bearer wrong"), Some(token)));
/// assert!(!authorized(None, Some(token)));
/// // No token configured: only this process's own checks get through.
/// assert!(!authorized(Some(b"Bearer "), None));
/// assert!(authorized(Some(format!("Bearer {}", process_token()).as_bytes()), None));
/// ```
pub fn authorized(authorization: Option<&[u8]>, configured: Option<&str>) -> bool {
    let Some(value) = authorization else {
        return false;
    };
    let Some(presented) = value
        .strip_prefix(b"Bearer ")
        .or_else(|| value.strip_prefix(b"bearer "))
    else {
        return false;
    };
    let matches = |token: &str| !token.is_empty() && bool::from(presented.ct_eq(token.as_bytes()));
    let configured = configured.filter(|t| t.len() >= MIN_TOKEN_LEN);
    // Both compared, so the time does not tell which one matched.
    let own = matches(process_token());
    let set = configured.is_some_and(matches);
    own | set
}
