//! One timed request/response exchange: when the request was sent, when its first text
//! chunk and its last byte arrived, the arrival of every text chunk, the server's usage and
//! timings, and the first failure. Every failure is kept as a classified [`RequestError`]
//! beside the timings, never a panic or an early return without them.

use std::time::Instant;

use serde_json::value::RawValue;

use super::chunk::{ChunkInfo, Usage};
use super::{ErrorKind, RequestError};

/// Timings and outcome of one request.
#[derive(Debug)]
pub struct Exchange {
    pub sent: Instant,
    /// Arrival of the first chunk carrying generated text.
    pub first_token: Option<Instant>,
    /// Arrival of the last byte (or the failure).
    pub end: Instant,
    /// Arrival of each chunk carrying text, in microseconds after `sent`.
    pub content_offsets_us: Vec<u32>,
    /// Tokens each of those chunks carried (0 where the dialect did not say); empty while
    /// no chunk has said.
    pub chunk_tokens: Vec<u32>,
    pub usage: Option<Usage>,
    /// Server-side timings, verbatim (llama.cpp).
    pub server_timings: Option<Box<RawValue>>,
    pub error: Option<RequestError>,
    /// The generated text, when the sender asked for it (a conversation's next turn
    /// sends it back).
    pub reply: Option<String>,
}

impl Exchange {
    /// An exchange whose request was sent at `sent`, nothing received yet.
    pub fn new(sent: Instant) -> Self {
        Self {
            sent,
            first_token: None,
            end: sent,
            content_offsets_us: Vec::new(),
            chunk_tokens: Vec::new(),
            usage: None,
            server_timings: None,
            error: None,
            reply: None,
        }
    }

    /// Records a failure at `now`; the first failure is the one kept.
    pub fn fail(&mut self, now: Instant, error: RequestError) {
        self.end = now;
        self.error.get_or_insert(error);
    }

    /// An exchange sent at `sent` that failed at `now`.
    pub fn failed(sent: Instant, now: Instant, error: RequestError) -> Self {
        let mut ex = Self::new(sent);
        ex.fail(now, error);
        ex
    }

    /// Folds one parsed chunk (or whole response) that arrived at `now`.
    pub fn absorb(&mut self, chunk: ChunkInfo, now: Instant) {
        if let Some(message) = chunk.error {
            self.error
                .get_or_insert_with(|| RequestError::from_stream_error(&message));
            return;
        }
        if chunk.has_content {
            self.first_token.get_or_insert(now);
            let offset = now.duration_since(self.sent).as_micros();
            self.content_offsets_us
                .push(offset.min(u32::MAX as u128) as u32);
            if chunk.tokens.is_some() || !self.chunk_tokens.is_empty() {
                let before = self.content_offsets_us.len() - 1;
                self.chunk_tokens.resize(before, 0);
                self.chunk_tokens.push(chunk.tokens.unwrap_or(0));
            }
        }
        if chunk.usage.is_some() {
            self.usage = chunk.usage;
        }
        if chunk.timings.is_some() {
            self.server_timings = chunk.timings;
        }
    }

    /// Classifies the end of a response: `completed` is false when the stream stopped
    /// before its end (`[DONE]` or the dialect's own end).
    pub fn conclude(&mut self, completed: bool) {
        if self.error.is_some() {
            return;
        }
        if !completed {
            self.error = Some(RequestError::new(
                ErrorKind::StreamTruncated,
                "the stream ended before its end marker",
            ));
        } else if self.first_token.is_none() {
            self.error = Some(RequestError::new(
                ErrorKind::EmptyResponse,
                "no generated text",
            ));
        }
    }
}
