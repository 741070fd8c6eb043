//! The per-read hot path of a streamed response, free of I/O so that it can be tested and
//! benchmarked alone: SSE framing, chunk parsing and the arrival time of each text chunk.
//! The caller takes `Instant::now()` as a read returns and passes it in.

use std::time::Instant;

use super::exchange::Exchange;
use super::openai;
use super::sse::{SseDecoder, SseEvent};
use super::{ErrorKind, RequestError};

/// Turns the reads of a streamed body into an [`Exchange`].
pub struct StreamTimer {
    exchange: Exchange,
    decoder: SseDecoder,
    done: bool,
}

impl StreamTimer {
    /// A timer for a request sent at `sent`; the reply's text is kept when `keep_reply`.
    pub fn new(sent: Instant, keep_reply: bool) -> Self {
        let mut exchange = Exchange::new(sent);
        exchange.reply = keep_reply.then(String::new);
        Self {
            exchange,
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
    match openai::parse_into(event.data, ex.reply.as_mut()) {
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
        let mut t = StreamTimer::new(start, false);
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
        let mut t = StreamTimer::new(start, false);
        t.on_read(CHUNK, at(start, 1));
        assert_eq!(t.finish().error.unwrap().kind, ErrorKind::StreamTruncated);
    }

    #[test]
    fn malformed_chunk_and_error_object_stop_the_stream() {
        let start = Instant::now();
        let mut t = StreamTimer::new(start, false);
        t.on_read(b"data: {oops\n\n", start);
        assert!(t.is_finished());
        assert_eq!(t.finish().error.unwrap().kind, ErrorKind::MalformedChunk);

        let mut t = StreamTimer::new(start, false);
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
        let mut t = StreamTimer::new(Instant::now(), false);
        t.on_read(b"data: [DONE]\n\n", Instant::now());
        assert_eq!(t.finish().error.unwrap().kind, ErrorKind::EmptyResponse);
    }
}
