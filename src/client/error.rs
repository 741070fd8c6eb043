//! Request failures as data: each kind is counted separately in results.

use std::fmt;

/// Why a request failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ErrorKind {
    /// TCP connect failed (refused, unreachable).
    Connect,
    /// Other transport failure before a response arrived.
    Transport,
    /// No complete response within the per-request timeout.
    Timeout,
    /// An HTTP error status other than a context overflow.
    Http(u16),
    /// The prompt (plus `max_tokens`) exceeded the model's context.
    ContextOverflow,
    /// The stream ended before its end marker (`[DONE]` or the dialect's own).
    StreamTruncated,
    /// A chunk that is not valid JSON of the expected shape.
    MalformedChunk,
    /// The server sent an error object in the middle of the stream.
    StreamError,
    /// The response completed without any generated text.
    EmptyResponse,
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Connect => f.write_str("connect"),
            Self::Transport => f.write_str("transport"),
            Self::Timeout => f.write_str("timeout"),
            Self::Http(status) => write!(f, "http_{status}"),
            Self::ContextOverflow => f.write_str("context_overflow"),
            Self::StreamTruncated => f.write_str("stream_truncated"),
            Self::MalformedChunk => f.write_str("malformed_chunk"),
            Self::StreamError => f.write_str("stream_error"),
            Self::EmptyResponse => f.write_str("empty_response"),
        }
    }
}

impl serde::Serialize for ErrorKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A failed request: its kind and a short message (the server's, when it gave one).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RequestError {
    pub kind: ErrorKind,
    pub message: String,
}

const MAX_MESSAGE_CHARS: usize = 300;

impl RequestError {
    pub fn new(kind: ErrorKind, message: impl AsRef<str>) -> Self {
        let message: String = message.as_ref().chars().take(MAX_MESSAGE_CHARS).collect();
        Self { kind, message }
    }

    /// Classifies an HTTP error status and its body.
    pub fn from_status(status: u16, body: &str) -> Self {
        let kind = if matches!(status, 400 | 413 | 422) && mentions_context_overflow(body) {
            ErrorKind::ContextOverflow
        } else {
            ErrorKind::Http(status)
        };
        Self::new(kind, body)
    }

    /// Classifies an error object sent inside a stream.
    pub fn from_stream_error(body: &str) -> Self {
        let kind = if mentions_context_overflow(body) {
            ErrorKind::ContextOverflow
        } else {
            ErrorKind::StreamError
        };
        Self::new(kind, body)
    }
}

/// The wordings of vLLM, SGLang, llama.cpp, TGI, TensorRT-LLM and OpenAI for a prompt that
/// is too long.
fn mentions_context_overflow(body: &str) -> bool {
    let lower = body.to_ascii_lowercase();
    [
        "context length",
        "context size",
        "context window",
        "exceed_context",
        "maximum context",
        "too many tokens",
        "input validation error: `inputs` tokens",
        "exceeds maximum input length",
    ]
    .iter()
    .any(|needle| lower.contains(needle))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_overflow_is_recognised_from_server_wordings() {
        let llama = r#"{"error":{"code":400,"message":"the request exceeds the available context size, try increasing it","type":"exceed_context_size_error"}}"#;
        let vllm = r#"{"object":"error","message":"This model's maximum context length is 8192 tokens. However, you requested 9000 tokens","type":"BadRequestError","code":400}"#;
        assert_eq!(
            RequestError::from_status(400, llama).kind,
            ErrorKind::ContextOverflow
        );
        assert_eq!(
            RequestError::from_status(400, vllm).kind,
            ErrorKind::ContextOverflow
        );
        assert_eq!(
            RequestError::from_status(400, "bad field").kind,
            ErrorKind::Http(400)
        );
        assert_eq!(
            RequestError::from_status(500, llama).kind,
            ErrorKind::Http(500)
        );
    }

    #[test]
    fn kinds_have_stable_names() {
        assert_eq!(ErrorKind::Http(429).to_string(), "http_429");
        assert_eq!(ErrorKind::StreamTruncated.to_string(), "stream_truncated");
    }
}
