//! Secrets (API keys): held in a type that never prints, serializes or logs its value,
//! and URLs with any credentials or query removed before they are shown or stored.

use std::fmt;

/// A secret value; only [`Secret::expose`] reveals it, for the Authorization header.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a key, without the surrounding whitespace a `$(cat keyfile)` leaves.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into().trim().to_owned())
    }

    /// The secret value, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl Secret {
    /// `text` with every occurrence of the secret replaced by `***` (for server messages
    /// that echo what they were sent).
    pub fn scrub(&self, text: &str) -> String {
        if self.0.is_empty() {
            text.to_owned()
        } else {
            text.replace(&self.0, "***")
        }
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// `url` as it may be shown or stored: no user name, password, query or fragment.
pub fn redacted(url: &reqwest::Url) -> String {
    let mut shown = url.clone();
    // Setting these cannot fail on an http(s) URL, the only kind a plan holds.
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.set_query(None);
    shown.set_fragment(None);
    shown.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted_and_whitespace_trimmed() {
        let key = Secret::new(" sk-abc\n");
        assert_eq!(format!("{key:?}"), "Secret(***)");
        assert_eq!(key.expose(), "sk-abc");
    }

    #[test]
    fn scrub_removes_every_occurrence() {
        let key = Secret::new("sk-abc");
        assert_eq!(key.scrub("bad key sk-abc (sk-abc)"), "bad key *** (***)");
        assert_eq!(Secret::new("").scrub("text"), "text");
    }

    #[test]
    fn urls_lose_credentials_and_query() {
        let url = reqwest::Url::parse("http://user:sk-abc@h:8000/v1/?api_key=sk-abc#x").unwrap();
        assert_eq!(redacted(&url), "http://h:8000/v1/");
    }
}
