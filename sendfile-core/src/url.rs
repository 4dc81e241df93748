//! The internal URL prefix: a leaf type, validated when it is made.

use crate::error::ConfigError;

/// The internal URL prefix the front server maps to the root (`SENDFILE_URL`).
///
/// It must start with `/`; repeated and trailing slashes are removed; `.` and `..` segments and
/// characters outside `A-Z a-z 0-9 - . _ ~ /` are refused (the prefix is sent as is, so it must
/// need no encoding).
///
/// ```
/// use sendfile_core::UrlPrefix;
/// assert_eq!(UrlPrefix::parse("//protected//files/").unwrap().as_str(), "/protected/files");
/// assert_eq!(UrlPrefix::parse("/").unwrap().as_str(), "");
/// assert!(UrlPrefix::parse("protected").is_err());
/// assert!(UrlPrefix::parse("/a/../b").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlPrefix(String);

impl UrlPrefix {
    /// Parses and normalises a prefix. Errors name `SENDFILE_URL`.
    pub fn parse(url: &str) -> Result<UrlPrefix, ConfigError> {
        let err = |m: String| ConfigError::new("SENDFILE_URL", m);
        if !url.starts_with('/') {
            return Err(err(format!(
                "{url:?} must start with '/': use the path of the front server's internal location, e.g. \"/protected\""
            )));
        }
        if let Some(c) = url
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~' | '/')))
        {
            return Err(err(format!(
                "{url:?} contains {c:?}; use only A-Z a-z 0-9 - . _ ~ and / in the internal location's path"
            )));
        }
        let mut out = String::with_capacity(url.len());
        for segment in url.split('/').filter(|s| !s.is_empty()) {
            if segment == "." || segment == ".." {
                return Err(err(format!(
                    "{url:?} contains a {segment:?} segment; write the location's path without dot segments"
                )));
            }
            out.push('/');
            out.push_str(segment);
        }
        Ok(UrlPrefix(out))
    }

    /// The normalised prefix: empty for `/`, otherwise `/segment(/segment)*` without a trailing
    /// slash.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The prefix joined with an already encoded relative path.
    pub fn join(&self, encoded_relative: &str) -> String {
        let mut s = String::with_capacity(self.0.len() + 1 + encoded_relative.len());
        s.push_str(&self.0);
        s.push('/');
        s.push_str(encoded_relative.trim_start_matches('/'));
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_prefix_normalisation() {
        assert_eq!(
            UrlPrefix::parse("/protected").unwrap().as_str(),
            "/protected"
        );
        assert_eq!(
            UrlPrefix::parse("/protected/").unwrap().as_str(),
            "/protected"
        );
        assert_eq!(UrlPrefix::parse("//a///b//").unwrap().as_str(), "/a/b");
        assert_eq!(UrlPrefix::parse("/").unwrap().as_str(), "");
        assert_eq!(UrlPrefix::parse("/").unwrap().join("x/y"), "/x/y");
        assert_eq!(UrlPrefix::parse("/p/").unwrap().join("x%20y"), "/p/x%20y");
    }

    #[test]
    fn url_prefix_refusals_name_the_setting() {
        for bad in [
            "protected",
            "",
            "/a/./b",
            "/a/../b",
            "/..",
            "/a b",
            "/a?b",
            "/a%20b",
            "/ü",
        ] {
            let e = UrlPrefix::parse(bad).unwrap_err();
            assert_eq!(e.setting, "SENDFILE_URL", "{bad}");
        }
    }
}
