//! Web origins (`scheme://host[:port]`), as browsers send them in the `Origin` header.

use std::fmt;

/// A serialized http(s) origin: lower-case host, default port left out, no path.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WebOrigin(String);

/// Text that is not an http(s) origin.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a web origin: expected scheme://host[:port], e.g. https://ent.example.org")]
pub struct WebOriginError(pub String);

impl WebOrigin {
    /// Accepts `https://Host:443` or `https://host/` and serializes them as a browser would
    /// (`https://host`); refuses paths, queries, credentials and other schemes.
    pub fn parse(text: &str) -> Result<Self, WebOriginError> {
        let error = || WebOriginError(text.to_owned());
        let url = url::Url::parse(text.trim()).map_err(|_| error())?;
        let bare = url.path() == "/" && url.query().is_none() && url.fragment().is_none();
        let credentials = !url.username().is_empty() || url.password().is_some();
        if !matches!(url.scheme(), "http" | "https") || url.host().is_none() || !bare || credentials {
            return Err(error());
        }
        Ok(Self(url.origin().ascii_serialization()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for WebOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serializes_like_a_browser() {
        assert_eq!(WebOrigin::parse("https://ENT.example.org:443/").unwrap().as_str(), "https://ent.example.org");
        assert_eq!(WebOrigin::parse("http://localhost:8080").unwrap().as_str(), "http://localhost:8080");
        assert_eq!(WebOrigin::parse("http://127.0.0.1:80").unwrap().as_str(), "http://127.0.0.1");
    }

    #[test]
    fn refuses_what_is_not_an_origin() {
        for text in
            ["ent.example.org", "https://ent.example.org/portal", "ftp://x.org", "https://u:p@x.org", "null", ""]
        {
            assert!(WebOrigin::parse(text).is_err(), "{text:?} accepted");
        }
    }
}
