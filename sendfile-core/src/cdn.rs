//! CDN signers: links that a CDN checks at its edge, the application off the download path.
//!
//! - [`GoogleCdnSigner`]: Google Cloud CDN signed URLs, signed URL prefixes and signed
//!   cookies (HMAC-SHA1 with a 128-bit key, base64url signatures).
//!
//! No request is made: the signer only computes the URL or cookie.
//!
//! ```
//! use sendfile_core::cdn::GoogleCdnSigner;
//!
//! // The example of Google's documentation and samples.
//! let signer = GoogleCdnSigner::new("my-key", "nZtRohdNF9m3cKM24IcK4w==").unwrap();
//! assert_eq!(
//!     signer.sign_url("http://35.186.234.33/index.html", 1549751401),
//!     "http://35.186.234.33/index.html?Expires=1549751401&KeyName=my-key&Signature=CRFqQnVfFyiUyR63OQf-HRUpIwc="
//! );
//! ```

use std::fmt;

use hmac::{Hmac, Mac as _};
use sha1::Sha1;

use crate::error::ConfigError;
use crate::link::{decode_base64url, encode_base64url};

/// Signs URLs and cookies for Google Cloud CDN with one of the backend's signing keys.
///
/// The key never appears in `Debug` output or errors.
#[derive(Clone)]
pub struct GoogleCdnSigner {
    key_name: String,
    key: Vec<u8>,
}

impl fmt::Debug for GoogleCdnSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GoogleCdnSigner")
            .field("key_name", &self.key_name)
            .field("key", &"<redacted>")
            .finish()
    }
}

impl GoogleCdnSigner {
    /// A signer for the key `key_name` (as created with `gcloud compute backend-services
    /// add-signed-url-key`), whose value is `key`: 16 bytes, base64url-encoded (padding
    /// optional), as `gcloud` and the console give it.
    ///
    /// ```
    /// use sendfile_core::cdn::GoogleCdnSigner;
    /// assert!(GoogleCdnSigner::new("k", "c2hvcnQ=").is_err());
    /// assert!(GoogleCdnSigner::new("", "nZtRohdNF9m3cKM24IcK4w==").is_err());
    /// ```
    pub fn new(key_name: &str, key: &str) -> Result<GoogleCdnSigner, ConfigError> {
        let name_ok = !key_name.is_empty()
            && key_name.len() <= 63
            && key_name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !name_ok {
            return Err(ConfigError::new(
                "key_name",
                "a Cloud CDN key name has 1 to 63 letters, digits, - or _ (the name given to gcloud compute backend-services add-signed-url-key)",
            ));
        }
        let decoded = decode_base64url(key.trim().as_bytes()).filter(|k| k.len() == 16);
        let Some(key) = decoded else {
            return Err(ConfigError::new(
                "key",
                "a Cloud CDN signing key is 16 bytes, base64url-encoded (22 characters, or 24 with ==): use the value of the key file given to gcloud",
            ));
        };
        Ok(GoogleCdnSigner {
            key_name: key_name.to_owned(),
            key,
        })
    }

    fn signature(&self, text: &str) -> String {
        let mut mac = Hmac::<Sha1>::new_from_slice(&self.key).expect("HMAC takes any key");
        mac.update(text.as_bytes());
        encode_base64url(&mac.finalize().into_bytes(), true)
    }

    /// `url` (already percent-encoded, with or without a query) signed until `expires`
    /// (seconds since the Unix epoch): `url?Expires=..&KeyName=..&Signature=..`.
    pub fn sign_url(&self, url: &str, expires: u64) -> String {
        let separator = if url.contains('?') { '&' } else { '?' };
        let text = format!(
            "{url}{separator}Expires={expires}&KeyName={}",
            self.key_name
        );
        let signature = self.signature(&text);
        format!("{text}&Signature={signature}")
    }

    /// The query that grants every URL starting with `url_prefix` until `expires`:
    /// `URLPrefix=..&Expires=..&KeyName=..&Signature=..`, to append to any of them.
    ///
    /// ```
    /// use sendfile_core::cdn::GoogleCdnSigner;
    /// let signer = GoogleCdnSigner::new("my-key", "nZtRohdNF9m3cKM24IcK4w==").unwrap();
    /// let query = signer.sign_url_prefix("https://media.example.com/videos/", 1549751401);
    /// assert!(query.starts_with("URLPrefix=aHR0cHM6Ly9tZWRpYS5leGFtcGxlLmNvbS92aWRlb3Mv&Expires=1549751401&KeyName=my-key&Signature="));
    /// ```
    pub fn sign_url_prefix(&self, url_prefix: &str, expires: u64) -> String {
        let text = format!(
            "URLPrefix={}&Expires={expires}&KeyName={}",
            encode_base64url(url_prefix.as_bytes(), true),
            self.key_name
        );
        let signature = self.signature(&text);
        format!("{text}&Signature={signature}")
    }

    /// The value of the `Cloud-CDN-Cookie` cookie that grants every URL starting with
    /// `url_prefix` until `expires`: `URLPrefix=..:Expires=..:KeyName=..:Signature=..`. Set it
    /// for the CDN's domain, `Secure` and `HttpOnly`.
    pub fn signed_cookie(&self, url_prefix: &str, expires: u64) -> String {
        let text = format!(
            "URLPrefix={}:Expires={expires}:KeyName={}",
            encode_base64url(url_prefix.as_bytes(), true),
            self.key_name
        );
        let signature = self.signature(&text);
        format!("{text}:Signature={signature}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "nZtRohdNF9m3cKM24IcK4w==";
    const EXPIRES: u64 = 1_549_751_401;

    fn signer() -> GoogleCdnSigner {
        GoogleCdnSigner::new("my-key", KEY).unwrap()
    }

    /// The published examples (Google's Cloud CDN samples: Python `sign_url`, Node.js
    /// `signCookie`), with their key `nZtRohdNF9m3cKM24IcK4w==` and expiry 1549751401.
    #[test]
    fn published_examples() {
        let s = signer();
        assert_eq!(
            s.sign_url("http://35.186.234.33/index.html", EXPIRES),
            "http://35.186.234.33/index.html?Expires=1549751401&KeyName=my-key&Signature=CRFqQnVfFyiUyR63OQf-HRUpIwc="
        );
        assert_eq!(
            s.sign_url("http://www.example.com/", EXPIRES),
            "http://www.example.com/?Expires=1549751401&KeyName=my-key&Signature=OqDUFfHpN5Vxga6r80bhsgxKves="
        );
        assert_eq!(
            s.signed_cookie("http://35.186.234.33/index.html", EXPIRES),
            "URLPrefix=aHR0cDovLzM1LjE4Ni4yMzQuMzMvaW5kZXguaHRtbA==:Expires=1549751401:KeyName=my-key:Signature=uImwlOBCPs91mlCyG9vyyZRrNWU="
        );
        assert_eq!(
            s.signed_cookie("http://www.example.com/foo/", EXPIRES),
            "URLPrefix=aHR0cDovL3d3dy5leGFtcGxlLmNvbS9mb28v:Expires=1549751401:KeyName=my-key:Signature=Z9uYAu73YHioRScZDxnP-TnS274="
        );
    }

    #[test]
    fn a_url_with_a_query_gets_its_parameters_appended() {
        let url = signer().sign_url("https://cdn.example.com/a%20b.mp4?user=1", EXPIRES);
        assert!(url.starts_with(
            "https://cdn.example.com/a%20b.mp4?user=1&Expires=1549751401&KeyName=my-key&Signature="
        ));
    }

    #[test]
    fn keys_without_padding_and_debug_without_the_key() {
        let unpadded = GoogleCdnSigner::new("my-key", "nZtRohdNF9m3cKM24IcK4w").unwrap();
        assert_eq!(
            unpadded.sign_url("http://www.example.com/", EXPIRES),
            signer().sign_url("http://www.example.com/", EXPIRES)
        );
        assert!(!format!("{:?}", signer()).contains(KEY));
        assert!(GoogleCdnSigner::new("my key", KEY).is_err());
    }
}
