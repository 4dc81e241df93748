//! nginx's `X-Accel-*` control headers, as typed options.
//!
//! All of them are hidden from the client by nginx's default `proxy_hide_header` list, and
//! nginx honours them only on responses from a proxied (or FastCGI, uwsgi, SCGI) upstream.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::error::Error;
use crate::header::{Header, HeaderBytes};

/// `X-Accel-Limit-Rate`: the speed limit for this download.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitRate {
    /// At most this many bytes per second (`0` also means no limit, as in nginx). At most
    /// `i64::MAX`: nginx ignores a larger value.
    BytesPerSecond(u64),
    /// No limit, overriding a `limit_rate` of the nginx configuration. Sent as `0`: nginx
    /// 1.22 reads the value as an integer only and silently ignores `off`.
    Off,
}

/// `X-Accel-Expires`: how long nginx's own `proxy_cache` keeps the upstream response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccelExpires {
    /// Cache for this many seconds (`0` disables caching). At most `i64::MAX`.
    Seconds(u64),
    /// Cache until this time (`@<unix seconds>`, fractions of a second dropped). A time before
    /// 1970 is an error.
    At(SystemTime),
}

/// The nginx extras. Emitted by the nginx backend only; ignored by every other backend.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NginxOptions {
    /// `X-Accel-Limit-Rate`
    pub limit_rate: Option<LimitRate>,
    /// `X-Accel-Buffering` (`yes`/`no`)
    pub buffering: Option<bool>,
    /// `X-Accel-Charset`, for example `utf-8`: an RFC 9110 token. nginx applies it only when
    /// its charset module knows the name (some `charset`, `source_charset` or `charset_map`
    /// directive must mention it), and then to any Content-Type.
    pub charset: Option<String>,
    /// `X-Accel-Expires`
    pub expires: Option<AccelExpires>,
}

impl NginxOptions {
    /// The headers for the options that are set, in this order: `X-Accel-Limit-Rate`,
    /// `X-Accel-Buffering`, `X-Accel-Charset`, `X-Accel-Expires`. No option set, no header.
    ///
    /// Errors ([`Error::InvalidHeader`]): a charset that is not an RFC 9110 token (`tchar`
    /// characters only, not empty), an expiry time before 1970, or a number above `i64::MAX`
    /// (nginx would silently ignore it).
    ///
    /// ```
    /// use sendfile_core::nginx::{LimitRate, NginxOptions};
    ///
    /// let options = NginxOptions {
    ///     limit_rate: Some(LimitRate::BytesPerSecond(100_000)),
    ///     buffering: Some(false),
    ///     ..NginxOptions::default()
    /// };
    /// let headers = options.headers().unwrap();
    /// assert_eq!(headers[0].name, "X-Accel-Limit-Rate");
    /// assert_eq!(headers[0].value, b"100000");
    /// assert_eq!(headers[1].name, "X-Accel-Buffering");
    /// assert_eq!(headers[1].value, b"no");
    /// ```
    pub fn headers(&self) -> Result<Vec<Header>, Error> {
        let mut headers = Vec::new();
        if let Some(rate) = self.limit_rate {
            let value = match rate {
                LimitRate::BytesPerSecond(n) => nginx_integer(LIMIT_RATE, n)?,
                LimitRate::Off => "0".to_owned(),
            };
            headers.push(Header::new(LIMIT_RATE, value));
        }
        if let Some(buffering) = self.buffering {
            headers.push(Header::new(
                BUFFERING,
                HeaderBytes::from_static(if buffering { "yes" } else { "no" }),
            ));
        }
        if let Some(charset) = &self.charset {
            if !is_token(charset) {
                return Err(Error::InvalidHeader {
                    name: CHARSET.to_owned(),
                    reason: format!(
                        "{charset:?} is not a charset name (an RFC 9110 token: letters, digits \
                         and !#$%&'*+-.^_`|~, not empty); use a name such as \"utf-8\""
                    ),
                });
            }
            headers.push(Header::new(CHARSET, charset.as_str()));
        }
        if let Some(expires) = self.expires {
            let value = match expires {
                AccelExpires::Seconds(n) => nginx_integer(EXPIRES, n)?,
                AccelExpires::At(time) => {
                    let since_epoch =
                        time.duration_since(UNIX_EPOCH)
                            .map_err(|_| Error::InvalidHeader {
                                name: EXPIRES.to_owned(),
                                reason: "the expiry time is before 1970-01-01, which \
                                         `@<unix seconds>` cannot express; use a later time \
                                         or AccelExpires::Seconds(0) to disable caching"
                                    .to_owned(),
                            })?;
                    format!("@{}", nginx_integer(EXPIRES, since_epoch.as_secs())?)
                }
            };
            headers.push(Header::new(EXPIRES, value));
        }
        Ok(headers)
    }
}

/// Builders, for `NginxOptions::new().limit_rate(..).buffering(..)`.
///
/// ```
/// use sendfile_core::nginx::{AccelExpires, LimitRate, NginxOptions};
///
/// let options = NginxOptions::new()
///     .limit_rate(LimitRate::BytesPerSecond(1_000_000))
///     .buffering(false)
///     .charset("utf-8")
///     .expires(AccelExpires::Seconds(60));
/// assert_eq!(options.headers().unwrap().len(), 4);
/// ```
impl NginxOptions {
    /// No option set: no header.
    pub fn new() -> Self {
        NginxOptions::default()
    }

    /// `X-Accel-Limit-Rate`: the download's speed limit.
    #[must_use]
    pub fn limit_rate(mut self, rate: LimitRate) -> Self {
        self.limit_rate = Some(rate);
        self
    }

    /// `X-Accel-Buffering`: whether nginx buffers the response (`yes`/`no`).
    #[must_use]
    pub fn buffering(mut self, buffering: bool) -> Self {
        self.buffering = Some(buffering);
        self
    }

    /// `X-Accel-Charset`, for example `utf-8`; nginx must know the charset (a `charset`
    /// directive somewhere in its configuration mentions it).
    #[must_use]
    pub fn charset(mut self, charset: impl Into<String>) -> Self {
        self.charset = Some(charset.into());
        self
    }

    /// `X-Accel-Expires`: how long nginx's own proxy cache keeps the response.
    #[must_use]
    pub fn expires(mut self, expires: AccelExpires) -> Self {
        self.expires = Some(expires);
        self
    }
}

const LIMIT_RATE: &str = "X-Accel-Limit-Rate";
const BUFFERING: &str = "X-Accel-Buffering";
const CHARSET: &str = "X-Accel-Charset";
const EXPIRES: &str = "X-Accel-Expires";

/// `n` in decimal, when nginx can read it (`ngx_atoi` refuses anything above `i64::MAX`).
fn nginx_integer(name: &str, n: u64) -> Result<String, Error> {
    if i64::try_from(n).is_err() {
        return Err(Error::InvalidHeader {
            name: name.to_owned(),
            reason: format!(
                "{n} is above {}, which nginx silently ignores; use a smaller value",
                i64::MAX
            ),
        });
    }
    Ok(n.to_string())
}

/// Whether `value` is an RFC 9110 token: one or more `tchar`.
fn is_token(value: &str) -> bool {
    !value.is_empty()
        && value.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'!' | b'#'
                        | b'$'
                        | b'%'
                        | b'&'
                        | b'\''
                        | b'*'
                        | b'+'
                        | b'-'
                        | b'.'
                        | b'^'
                        | b'_'
                        | b'`'
                        | b'|'
                        | b'~'
                )
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn render(options: &NginxOptions) -> Vec<(String, String)> {
        options
            .headers()
            .unwrap()
            .into_iter()
            .map(|h| {
                (
                    h.name.into_owned(),
                    String::from_utf8(h.value.to_vec()).unwrap(),
                )
            })
            .collect()
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|&(n, v)| (n.to_owned(), v.to_owned()))
            .collect()
    }

    fn refused(options: &NginxOptions) -> (String, String) {
        match options.headers() {
            Err(Error::InvalidHeader { name, reason }) => (name, reason),
            other => panic!("expected InvalidHeader, got {other:?}"),
        }
    }

    #[test]
    fn nothing_set_nothing_sent() {
        assert!(NginxOptions::default().headers().unwrap().is_empty());
    }

    #[test]
    fn limit_rate() {
        let mut options = NginxOptions {
            limit_rate: Some(LimitRate::BytesPerSecond(100_000)),
            ..NginxOptions::default()
        };
        assert_eq!(render(&options), pairs(&[("X-Accel-Limit-Rate", "100000")]));
        // nginx ignores "off": only 0 lifts a configured limit_rate.
        options.limit_rate = Some(LimitRate::Off);
        assert_eq!(render(&options), pairs(&[("X-Accel-Limit-Rate", "0")]));
        options.limit_rate = Some(LimitRate::BytesPerSecond(i64::MAX as u64));
        assert_eq!(render(&options)[0].1, i64::MAX.to_string());
    }

    #[test]
    fn limit_rate_above_nginx_range_is_refused() {
        let options = NginxOptions {
            limit_rate: Some(LimitRate::BytesPerSecond(i64::MAX as u64 + 1)),
            ..NginxOptions::default()
        };
        assert_eq!(refused(&options).0, "X-Accel-Limit-Rate");
    }

    #[test]
    fn buffering() {
        for (flag, value) in [(true, "yes"), (false, "no")] {
            let options = NginxOptions {
                buffering: Some(flag),
                ..NginxOptions::default()
            };
            assert_eq!(render(&options), pairs(&[("X-Accel-Buffering", value)]));
        }
    }

    #[test]
    fn charset_token() {
        for name in [
            "utf-8",
            "UTF-8",
            "windows-1251",
            "iso-8859-1",
            "x!#$%&'*+.^_`|~",
        ] {
            let options = NginxOptions {
                charset: Some(name.to_owned()),
                ..NginxOptions::default()
            };
            assert_eq!(render(&options), pairs(&[("X-Accel-Charset", name)]));
        }
    }

    #[test]
    fn charset_that_is_not_a_token_is_refused() {
        for name in [
            "",
            "utf 8",
            "utf-8\r\nX-Evil: 1",
            "utf-8;",
            "\"utf-8\"",
            "ütf",
            "a/b",
            "a\0",
        ] {
            let options = NginxOptions {
                charset: Some(name.to_owned()),
                ..NginxOptions::default()
            };
            let (header, reason) = refused(&options);
            assert_eq!(header, "X-Accel-Charset");
            assert!(reason.contains("utf-8"), "{reason}");
        }
    }

    #[test]
    fn expires_seconds() {
        for (secs, value) in [(0, "0"), (60, "60")] {
            let options = NginxOptions {
                expires: Some(AccelExpires::Seconds(secs)),
                ..NginxOptions::default()
            };
            assert_eq!(render(&options), pairs(&[("X-Accel-Expires", value)]));
        }
        let options = NginxOptions {
            expires: Some(AccelExpires::Seconds(u64::MAX)),
            ..NginxOptions::default()
        };
        assert_eq!(refused(&options).0, "X-Accel-Expires");
    }

    #[test]
    fn expires_at() {
        let at = UNIX_EPOCH + Duration::new(1_700_000_000, 999_999_999);
        let options = NginxOptions {
            expires: Some(AccelExpires::At(at)),
            ..NginxOptions::default()
        };
        assert_eq!(
            render(&options),
            pairs(&[("X-Accel-Expires", "@1700000000")])
        );
        let options = NginxOptions {
            expires: Some(AccelExpires::At(UNIX_EPOCH)),
            ..NginxOptions::default()
        };
        assert_eq!(render(&options), pairs(&[("X-Accel-Expires", "@0")]));
    }

    #[test]
    fn expires_before_epoch_is_refused() {
        let options = NginxOptions {
            expires: Some(AccelExpires::At(UNIX_EPOCH - Duration::from_secs(1))),
            ..NginxOptions::default()
        };
        let (header, reason) = refused(&options);
        assert_eq!(header, "X-Accel-Expires");
        assert!(reason.contains("1970"), "{reason}");
    }

    #[test]
    fn all_set_in_stable_order() {
        let options = NginxOptions {
            limit_rate: Some(LimitRate::BytesPerSecond(1)),
            buffering: Some(true),
            charset: Some("utf-8".to_owned()),
            expires: Some(AccelExpires::Seconds(5)),
        };
        assert_eq!(
            render(&options),
            pairs(&[
                ("X-Accel-Limit-Rate", "1"),
                ("X-Accel-Buffering", "yes"),
                ("X-Accel-Charset", "utf-8"),
                ("X-Accel-Expires", "5"),
            ])
        );
        for header in options.headers().unwrap() {
            crate::encode::check_header_value(&header.name, &header.value).unwrap();
        }
    }
}
