//! The per-read hot path of a streamed response, free of I/O so that it can be tested and
//! benchmarked alone: SSE framing, chunk parsing and the arrival time of each text chunk.
//! The caller takes `Instant::now()` as a read returns and passes it in.

use std::time::Instant;

use serde_json::value::RawValue;

use super::openai::{self, ChunkInfo, Usage};
use super::sse::{SseDecoder, SseEvent};
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
    pub usage: Option<Usage>,
    /// Server-side timings, verbatim (llama.cpp).
    pub server_timings: Option<Box<RawValue>>,
    pub error: Option<RequestError>,
}

impl Exchange {
    /// An exchange whose request was sent at `sent`, nothing received yet.
    pub fn new(sent: Instant) -> Self {
        Self {
            sent,
            first_token: None,
            end: sent,
            content_offsets_us: Vec::new(),
            usage: None,
            server_timings: None,
            error: None,
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
        }
        if chunk.usage.is_some() {
            self.usage = chunk.usage;
        }
        if chunk.timings.is_some() {
            self.server_timings = chunk.timings;
        }
    }

    /// Classifies the end of a response: `completed` is false when the stream stopped
    /// before `[DONE]`.
    pub fn conclude(&mut self, completed: bool) {
        if self.error.is_some() {
            return;
        }
        if !completed {
            self.error = Some(RequestError::new(
                ErrorKind::StreamTruncated,
                "the stream ended without [DONE]",
            ));
        } else if self.first_token.is_none() {
            self.error = Some(RequestError::new(
                ErrorKind::EmptyResponse,
                "no generated text",
            ));
        }
    }
}

/// Turns the reads of a streamed body into an [`Exchange`].
pub struct StreamTimer {
    exchange: Exchange,
    decoder: SseDecoder,
    done: bool,
}

impl StreamTimer {
    pub fn new(sent: Instant) -> Self {
        Self {
            exchange: Exchange::new(sent),
            decoder: SseDecoder::new(),
            done: false,
        }
    }

    /// Processes the bytes of one read that returned at `now`.
    pub fn on_read(&mut self, bytes: &[u8], now: Instant) {
        let Self {
            exchange,
            decoder,
            done,
        } = self;
        exchange.end = now;
        decoder.feed(bytes, |event| *done |= on_event(exchange, event, now));
    }

    /// `[DONE]` arrived or the stream failed: nothing more needs reading.
    pub fn is_finished(&self) -> bool {
        self.done || self.exchange.error.is_some()
    }

    /// Records a failure of the transport (timeout, broken connection) at `now`.
    pub fn fail(&mut self, now: Instant, error: RequestError) {
        self.exchange.fail(now, error);
    }

    /// The exchange, classified: truncated when `[DONE]` never came.
    pub fn finish(mut self) -> Exchange {
        self.exchange.conclude(self.done);
        self.exchange
    }
}

/// Handles one SSE event; true for `[DONE]`.
fn on_event(ex: &mut Exchange, event: SseEvent<'_>, now: Instant) -> bool {
    if event.data == b"[DONE]" {
        return true;
    }
    if event.event == b"error" {
        let message = String::from_utf8_lossy(event.data);
        ex.error
            .get_or_insert_with(|| RequestError::from_stream_error(&message));
        return false;
    }
    match openai::parse(event.data) {
        Ok(chunk) => ex.absorb(chunk, now),
        Err(e) => {
            let text = String::from_utf8_lossy(event.data);
            ex.fail(
                now,
                RequestError::new(ErrorKind::MalformedChunk, format!("{e}: {text}")),
            );
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    const CHUNK: &[u8] = b"data: {\"choices\":[{\"delta\":{\"content\":\"x\"}}]}\n\n";

    fn at(start: Instant, ms: u64) -> Instant {
        start + Duration::from_millis(ms)
    }

    #[test]
    fn text_chunks_are_timed_at_their_read() {
        let start = Instant::now();
        let mut t = StreamTimer::new(start);
        t.on_read(
            b"data: {\"choices\":[{\"delta\":{\"role\":\"assistant\"}}]}\n\n",
            at(start, 5),
        );
        t.on_read(CHUNK, at(start, 200));
        t.on_read(&[CHUNK, CHUNK].concat(), at(start, 220));
        t.on_read(b"data: [DONE]\n\n", at(start, 230));
        assert!(t.is_finished());
        let ex = t.finish();
        assert!(ex.error.is_none());
        assert_eq!(ex.first_token, Some(at(start, 200)));
        assert_eq!(ex.content_offsets_us, [200_000, 220_000, 220_000]);
        assert_eq!(ex.end, at(start, 230));
    }

    #[test]
    fn stream_without_done_is_truncated() {
        let start = Instant::now();
        let mut t = StreamTimer::new(start);
        t.on_read(CHUNK, at(start, 1));
        assert_eq!(t.finish().error.unwrap().kind, ErrorKind::StreamTruncated);
    }

    #[test]
    fn malformed_chunk_and_error_object_stop_the_stream() {
        let start = Instant::now();
        let mut t = StreamTimer::new(start);
        t.on_read(b"data: {oops\n\n", start);
        assert!(t.is_finished());
        assert_eq!(t.finish().error.unwrap().kind, ErrorKind::MalformedChunk);

        let mut t = StreamTimer::new(start);
        t.on_read(CHUNK, start);
        t.on_read(
            b"data: {\"error\":{\"message\":\"overloaded\",\"code\":503}}\n\n",
            start,
        );
        let e = t.finish().error.unwrap();
        assert_eq!(e.kind, ErrorKind::StreamError);
        assert!(e.message.contains("overloaded"));
    }

    #[test]
    fn done_without_text_is_an_empty_response() {
        let mut t = StreamTimer::new(Instant::now());
        t.on_read(b"data: [DONE]\n\n", Instant::now());
        assert_eq!(t.finish().error.unwrap().kind, ErrorKind::EmptyResponse);
    }
}
