//! What one event of a response tells the client, whatever the server's dialect: whether
//! it carries generated text (and how many tokens, when the dialect says), the server's
//! token counts and timings, an error, and whether it ends the response.

use serde::Deserialize;
use serde_json::value::RawValue;

/// Token counts reported by the server.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
pub struct Usage {
    #[serde(default)]
    pub prompt_tokens: u32,
    #[serde(default)]
    pub completion_tokens: u32,
    /// Prompt tokens served from the server's prefix cache, when reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cached_tokens: Option<u32>,
}

/// What one event (or a whole non-streamed response) tells the client.
#[derive(Debug, Default)]
pub struct ChunkInfo {
    /// The event carries generated text or token ids.
    pub has_content: bool,
    /// Tokens the event carries, when the dialect says (token ids, running counts).
    pub tokens: Option<u32>,
    pub usage: Option<Usage>,
    /// Server-side timings, kept verbatim (llama.cpp's `timings`; other servers' figures
    /// in llama.cpp's names).
    pub timings: Option<Box<RawValue>>,
    /// An error object sent instead of an event.
    pub error: Option<String>,
    /// The event ends the response (the dialect's own end marker; `[DONE]` is framing).
    pub done: bool,
}

/// What a reader remembers between the events of one response: the dialects that send
/// running totals (SGLang's cumulative text, llama.cpp's and SGLang's token counts).
#[derive(Debug, Default)]
pub struct StreamState {
    /// Bytes of cumulative text already seen.
    pub text_len: usize,
    /// Tokens already counted.
    pub tokens: u32,
}

impl StreamState {
    /// The tokens a running total of `total` adds to those already counted.
    pub fn new_tokens(&mut self, total: u32) -> u32 {
        let added = total.saturating_sub(self.tokens);
        self.tokens = self.tokens.max(total);
        added
    }

    /// The part of a cumulative `text` not seen before.
    pub fn new_text<'t>(&mut self, text: &'t str) -> &'t str {
        let fresh = match text.get(self.text_len..) {
            Some(rest) => rest,
            // The server rewrote what it had sent (a completed multi-byte character).
            None => text,
        };
        self.text_len = text.len();
        fresh
    }
}

/// Whether an optional text is present and not empty.
pub fn non_empty(text: Option<&str>) -> bool {
    text.is_some_and(|t| !t.is_empty())
}

/// An error value (a string or an object) as the text kept for the record.
pub fn error_text(error: Option<&RawValue>) -> Option<String> {
    let text = error?.get();
    Some(serde_json::from_str::<String>(text).unwrap_or_else(|_| text.to_owned()))
}

/// The prompt tokens llama.cpp's `timings` say its cache served (`cache_n`).
pub fn cache_n(timings: &RawValue) -> Option<u32> {
    #[derive(Deserialize)]
    struct CacheOnly {
        #[serde(default)]
        cache_n: Option<u32>,
    }
    serde_json::from_str::<CacheOnly>(timings.get())
        .ok()?
        .cache_n
}

/// Timings in llama.cpp's names from a server's prompt and generation counts and
/// durations (milliseconds).
pub fn timings(
    prompt_n: u32,
    prompt_ms: f64,
    predicted_n: u32,
    predicted_ms: f64,
) -> Option<Box<RawValue>> {
    let per_token = (predicted_n > 0).then(|| predicted_ms / f64::from(predicted_n));
    let value = serde_json::json!({
        "prompt_n": prompt_n, "prompt_ms": prompt_ms,
        "predicted_n": predicted_n, "predicted_ms": predicted_ms,
        "predicted_per_token_ms": per_token,
    });
    serde_json::value::to_raw_value(&value).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn running_totals_become_increments() {
        let mut s = StreamState::default();
        assert_eq!(
            (s.new_tokens(1), s.new_tokens(3), s.new_tokens(3)),
            (1, 2, 0)
        );
        assert_eq!(s.new_text("He"), "He");
        assert_eq!(s.new_text("Hello"), "llo");
        assert_eq!(s.new_text("Hello"), "");
        // A rewrite that cuts a character in two starts over.
        let mut s = StreamState::default();
        s.new_text("a");
        assert_eq!(s.new_text("é"), "é");
    }

    #[test]
    fn errors_as_text() {
        let raw = |s: &str| RawValue::from_string(s.to_owned()).unwrap();
        assert_eq!(error_text(Some(&raw(r#""boom""#))).unwrap(), "boom");
        assert_eq!(
            error_text(Some(&raw(r#"{"code":1}"#))).unwrap(),
            r#"{"code":1}"#
        );
        assert_eq!(error_text(None), None);
    }
}
