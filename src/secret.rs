//! Secrets (API keys, passwords): held in a type that never prints, serializes or logs
//! its value; the credential requests carry; and URLs with any credentials or query
//! removed before they are shown or stored.

use std::fmt;

use base64::Engine;
use percent_encoding::percent_decode_str;

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

/// A secret read from a request body (`api_key`): it never prints again.
impl<'de> serde::Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Secret::new)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// How requests authenticate: an API key as a bearer token, or the user and password a
/// base URL carried (`http://user:pass@host`), sent as HTTP basic authentication and
/// taken out of the URL so that no client, log line or result ever sees them in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    ApiKey(Secret),
    Basic { user: String, password: Secret },
}

impl Credential {
    /// The value of the Authorization header.
    pub fn authorization(&self) -> String {
        match self {
            Credential::ApiKey(key) => format!("Bearer {}", key.expose()),
            Credential::Basic { user, password } => {
                let pair = format!("{user}:{}", password.expose());
                let encoded = base64::engine::general_purpose::STANDARD.encode(pair);
                format!("Basic {encoded}")
            }
        }
    }

    /// What must never be shown: scrubbed from messages and command lines.
    pub fn secret(&self) -> &Secret {
        match self {
            Credential::ApiKey(key) => key,
            Credential::Basic { password, .. } => password,
        }
    }
}

/// Takes the user and password out of `url`, if it has any, as a basic credential.
pub fn take_credential(url: &mut reqwest::Url) -> Option<Credential> {
    if url.username().is_empty() && url.password().is_none() {
        return None;
    }
    let decode = |text: &str| percent_decode_str(text).decode_utf8_lossy().into_owned();
    let credential = Credential::Basic {
        user: decode(url.username()),
        password: Secret::new(decode(url.password().unwrap_or_default())),
    };
    // Setting these cannot fail on an http(s) URL, the only kind a plan holds.
    let _ = url.set_username("");
    let _ = url.set_password(None);
    Some(credential)
}

/// URL-like `text` that may not parse, without whatever stands between `://` and an `@`
/// before the path (a user and password), for messages about it.
pub fn redacted_text(text: &str) -> String {
    let Some(scheme_end) = text.find("://").map(|i| i + 3) else {
        return text.to_owned();
    };
    let authority_end = text[scheme_end..]
        .find(['/', '?', '#'])
        .map_or(text.len(), |i| scheme_end + i);
    match text[scheme_end..authority_end].rfind('@') {
        Some(at) => format!(
            "{}***@{}",
            &text[..scheme_end],
            &text[scheme_end + at + 1..]
        ),
        None => text.to_owned(),
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

    #[test]
    fn credentials_leave_the_url_for_a_basic_header() {
        let mut url = reqwest::Url::parse("http://us%40er:p%3Ass@h:8000/").unwrap();
        let credential = take_credential(&mut url).unwrap();
        assert_eq!(url.as_str(), "http://h:8000/");
        // base64("us@er:p:ss")
        assert_eq!(credential.authorization(), "Basic dXNAZXI6cDpzcw==");
        assert_eq!(credential.secret().expose(), "p:ss");
        assert!(take_credential(&mut url).is_none());
        let key = Credential::ApiKey(Secret::new("sk-1"));
        assert_eq!(key.authorization(), "Bearer sk-1");
    }

    #[test]
    fn unparsable_url_text_loses_what_looks_like_credentials() {
        assert_eq!(
            redacted_text("http://u:p@ho st/x@y"),
            "http://***@ho st/x@y"
        );
        assert_eq!(redacted_text("http://host/a@b"), "http://host/a@b");
        assert_eq!(redacted_text("not a url"), "not a url");
    }
}
