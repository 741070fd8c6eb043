//! The per-read hot path of a streamed response, free of I/O so that it can be tested and
//! benchmarked alone: framing (SSE or NDJSON), the dialect's reading of each event and the
//! arrival time of each text chunk. The caller takes `Instant::now()` as a read returns
//! and passes it in.

use std::time::Instant;

use super::chunk::StreamState;
use super::exchange::Exchange;
use super::framing::Decoder;
use super::sse::SseEvent;
use super::{Adapter, ErrorKind, RequestError};

/// Turns the reads of a streamed body into an [`Exchange`].
pub struct StreamTimer<'a> {
    exchange: Exchange,
    decoder: Decoder,
    reader: Reader<'a>,
    done: bool,
}

/// The dialect's reading of events and what it remembers between them.
struct Reader<'a> {
    adapter: &'a dyn Adapter,
    state: StreamState,
}

impl<'a> StreamTimer<'a> {
    /// A timer for a request sent at `sent` in `adapter`'s dialect; the reply's text is
    /// kept when `keep_reply`.
    pub fn new(sent: Instant, keep_reply: bool, adapter: &'a dyn Adapter) -> Self {
        let mut exchange = Exchange::new(sent);
        exchange.reply = keep_reply.then(String::new);
        Self {
            exchange,
            decoder: Decoder::new(adapter.framing()),
            reader: Reader {
                adapter,
                state: StreamState::default(),
            },
            done: false,
        }
    }

    /// Processes the bytes of one read that returned at `now`.
    pub fn on_read(&mut self, bytes: &[u8], now: Instant) {
        let Self {
            exchange,
            decoder,
            reader,
            done,
        } = self;
        exchange.end = now;
        decoder.feed(bytes, |event| {
            *done |= reader.on_event(exchange, event, now)
        });
    }

    /// `[DONE]` arrived or the stream failed: nothing more needs reading.
    pub fn is_finished(&self) -> bool {
        self.done || self.exchange.error.is_some()
    }

    /// Records a failure of the transport (timeout, broken connection) at `now`.
    pub fn fail(&mut self, now: Instant, error: RequestError) {
        self.exchange.fail(now, error);
    }

    /// The body ended (or failed): the exchange, classified. Truncated when the stream's
    /// end marker never came, unless the dialect ends with its body and the body ended
    /// between events.
    pub fn finish(mut self) -> Exchange {
        let complete =
            self.done || (self.reader.adapter.ends_with_body() && self.decoder.is_idle());
        self.exchange.conclude(complete);
        self.exchange
    }
}

impl Reader<'_> {
    /// Handles one event; true when it ends the response (`[DONE]` or the dialect's own
    /// end).
    fn on_event(&mut self, ex: &mut Exchange, event: SseEvent<'_>, now: Instant) -> bool {
        if event.data == b"[DONE]" {
            return true;
        }
        if event.event == b"error" {
            let message = String::from_utf8_lossy(event.data);
            ex.error
                .get_or_insert_with(|| RequestError::from_stream_error(&message));
            return false;
        }
        match self.adapter.read(event, &mut self.state, ex.reply.as_mut()) {
            Ok(chunk) => {
                let done = chunk.done;
                ex.absorb(chunk, now);
                done
            }
            Err(e) => {
                let text = String::from_utf8_lossy(event.data);
                let error = RequestError::new(ErrorKind::MalformedChunk, format!("{e}: {text}"));
                ex.fail(now, error);
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::adapter_for;
    use crate::scenario::Api;
    use std::time::Duration;

    fn timer(start: Instant) -> StreamTimer<'static> {
        static CHAT: std::sync::LazyLock<Box<dyn Adapter>> =
            std::sync::LazyLock::new(|| adapter_for(Api::Chat));
        StreamTimer::new(start, false, CHAT.as_ref())
    }

    const CHUNK: &[u8] = b"data: {\"choices\":[{\"delta\":{\"content\":\"x\"}}]}\n\n";

    fn at(start: Instant, ms: u64) -> Instant {
        start + Duration::from_millis(ms)
    }

    #[test]
    fn text_chunks_are_timed_at_their_read() {
        let start = Instant::now();
        let mut t = timer(start);
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
        let mut t = timer(start);
        t.on_read(CHUNK, at(start, 1));
        assert_eq!(t.finish().error.unwrap().kind, ErrorKind::StreamTruncated);
    }

    #[test]
    fn malformed_chunk_and_error_object_stop_the_stream() {
        let start = Instant::now();
        let mut t = timer(start);
        t.on_read(b"data: {oops\n\n", start);
        assert!(t.is_finished());
        assert_eq!(t.finish().error.unwrap().kind, ErrorKind::MalformedChunk);

        let mut t = timer(start);
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
        let mut t = timer(Instant::now());
        t.on_read(b"data: [DONE]\n\n", Instant::now());
        assert_eq!(t.finish().error.unwrap().kind, ErrorKind::EmptyResponse);
    }
}
