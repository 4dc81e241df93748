//! `DeniedStatus`: the status of a denied download.

use std::fmt;

use actix_web::http::StatusCode;
use sendfile_core::ConfigError;

/// The status of a download a permission check denied: an error status (400 to 599) by
/// construction, so that a denial can never look like a success. 403 Forbidden by default; 404
/// Not Found hides that the file exists.
///
/// The same type sets it for a whole configuration ([`SendFileConfigBuilder::denied_status`]), for one
/// denial ([`protected::deny`]), and is what `#[protected_file(denied_status = 404)]` expands
/// to.
///
/// ```
/// use actix_web::http::StatusCode;
/// use sendfile_actix::DeniedStatus;
///
/// assert_eq!(DeniedStatus::default(), DeniedStatus::FORBIDDEN);
/// assert_eq!(DeniedStatus::new(StatusCode::GONE).unwrap().status(), StatusCode::GONE);
/// assert_eq!(DeniedStatus::from_u16(404).unwrap(), DeniedStatus::NOT_FOUND);
///
/// let err = DeniedStatus::new(StatusCode::OK).unwrap_err();
/// assert_eq!(err.setting, "denied_status");
/// ```
///
/// [`SendFileConfigBuilder::denied_status`]: crate::SendFileConfigBuilder::denied_status
/// [`protected::deny`]: crate::protected::deny
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DeniedStatus(StatusCode);

impl DeniedStatus {
    /// 403 Forbidden, the default.
    ///
    /// ```
    /// use sendfile_actix::DeniedStatus;
    ///
    /// assert_eq!(DeniedStatus::FORBIDDEN.status().as_u16(), 403);
    /// ```
    pub const FORBIDDEN: DeniedStatus = DeniedStatus(StatusCode::FORBIDDEN);
    /// 404 Not Found: a denied file looks like a missing one.
    ///
    /// ```
    /// use sendfile_actix::DeniedStatus;
    ///
    /// assert_eq!(DeniedStatus::NOT_FOUND.status().as_u16(), 404);
    /// ```
    pub const NOT_FOUND: DeniedStatus = DeniedStatus(StatusCode::NOT_FOUND);

    /// `status`, when it is an error status (400 to 599). The error names the setting
    /// (`denied_status`) and the fix.
    ///
    /// ```
    /// use actix_web::http::StatusCode;
    /// use sendfile_actix::DeniedStatus;
    ///
    /// assert!(DeniedStatus::new(StatusCode::UNAUTHORIZED).is_ok());
    /// let err = DeniedStatus::new(StatusCode::FOUND).unwrap_err();
    /// assert_eq!(err.to_string(), "sendfile configuration: denied_status: 302 is not an error status; use 403 or 404");
    /// ```
    pub fn new(status: StatusCode) -> Result<Self, ConfigError> {
        if status.is_client_error() || status.is_server_error() {
            Ok(DeniedStatus(status))
        } else {
            Err(ConfigError::new(
                "denied_status",
                format!("{} is not an error status; use 403 or 404", status.as_u16()),
            ))
        }
    }

    /// The status with this number, when it is an error status (400 to 599).
    ///
    /// ```
    /// use sendfile_actix::DeniedStatus;
    ///
    /// assert_eq!(DeniedStatus::from_u16(410).unwrap().status().as_u16(), 410);
    /// assert!(DeniedStatus::from_u16(302).is_err());
    /// assert!(DeniedStatus::from_u16(70).is_err());
    /// ```
    pub fn from_u16(status: u16) -> Result<Self, ConfigError> {
        match StatusCode::from_u16(status) {
            Ok(status) => DeniedStatus::new(status),
            Err(_) => Err(ConfigError::new(
                "denied_status",
                format!("{status} is not an HTTP status; use 403 or 404"),
            )),
        }
    }

    /// The status.
    ///
    /// ```
    /// use actix_web::http::StatusCode;
    /// use sendfile_actix::DeniedStatus;
    ///
    /// assert_eq!(DeniedStatus::NOT_FOUND.status(), StatusCode::NOT_FOUND);
    /// ```
    pub fn status(self) -> StatusCode {
        self.0
    }
}

impl Default for DeniedStatus {
    fn default() -> Self {
        DeniedStatus::FORBIDDEN
    }
}

impl TryFrom<StatusCode> for DeniedStatus {
    type Error = ConfigError;

    fn try_from(status: StatusCode) -> Result<Self, ConfigError> {
        DeniedStatus::new(status)
    }
}

impl TryFrom<u16> for DeniedStatus {
    type Error = ConfigError;

    fn try_from(status: u16) -> Result<Self, ConfigError> {
        DeniedStatus::from_u16(status)
    }
}

impl From<DeniedStatus> for StatusCode {
    fn from(status: DeniedStatus) -> Self {
        status.0
    }
}

impl PartialEq<StatusCode> for DeniedStatus {
    fn eq(&self, other: &StatusCode) -> bool {
        self.0 == *other
    }
}

impl fmt::Display for DeniedStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}
