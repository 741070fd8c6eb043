//! Server-sent events framing (WHATWG HTML "event stream" rules): lines end in CRLF, LF or
//! CR, possibly split across reads; `:` lines are comments; several `data:` lines join with
//! `\n`; a blank line dispatches the event. The decoder keeps its buffers between reads and
//! allocates nothing once they have grown to the size of the largest event.

/// One dispatched event; `data` borrows the decoder's buffer until the next call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SseEvent<'a> {
    /// The `event:` field, empty for the default `message` type.
    pub event: &'a [u8],
    pub data: &'a [u8],
}

/// Incremental SSE decoder.
#[derive(Debug, Default)]
pub struct SseDecoder {
    /// An incomplete line carried over from the previous read.
    partial: Vec<u8>,
    data: Vec<u8>,
    event: Vec<u8>,
    has_data: bool,
    /// The previous read ended in CR: a leading LF of the next read ends no new line.
    skip_lf: bool,
}

impl SseDecoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds the bytes of one read, calling `on_event` for every event completed by them.
    pub fn feed(&mut self, mut input: &[u8], mut on_event: impl FnMut(SseEvent<'_>)) {
        if self.skip_lf {
            self.skip_lf = false;
            if input.first() == Some(&b'\n') {
                input = &input[1..];
            }
        }
        while let Some(end) = memchr::memchr2(b'\n', b'\r', input) {
            let ends_in_cr = input[end] == b'\r';
            if self.partial.is_empty() {
                self.line(&input[..end], &mut on_event);
            } else {
                let mut line = std::mem::take(&mut self.partial);
                line.extend_from_slice(&input[..end]);
                self.line(&line, &mut on_event);
                line.clear();
                self.partial = line;
            }
            let mut next = end + 1;
            if ends_in_cr {
                match input.get(next) {
                    Some(b'\n') => next += 1,
                    None => self.skip_lf = true,
                    Some(_) => {}
                }
            }
            input = &input[next..];
        }
        self.partial.extend_from_slice(input);
    }

    /// Whether every byte fed so far belongs to a dispatched event (nothing half-read).
    pub fn is_idle(&self) -> bool {
        self.partial.is_empty() && !self.has_data
    }

    fn line(&mut self, line: &[u8], on_event: &mut impl FnMut(SseEvent<'_>)) {
        if line.is_empty() {
            if self.has_data {
                on_event(SseEvent {
                    event: &self.event,
                    data: &self.data,
                });
            }
            self.data.clear();
            self.event.clear();
            self.has_data = false;
            return;
        }
        if line[0] == b':' {
            return;
        }
        let (field, value) = match memchr::memchr(b':', line) {
            Some(colon) => {
                let value = &line[colon + 1..];
                (&line[..colon], value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (line, &b""[..]),
        };
        match field {
            b"data" => {
                if self.has_data {
                    self.data.push(b'\n');
                }
                self.data.extend_from_slice(value);
                self.has_data = true;
            }
            b"event" => {
                self.event.clear();
                self.event.extend_from_slice(value);
            }
            _ => {} // id, retry and unknown fields do not matter to a benchmark client
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(reads: &[&[u8]]) -> Vec<(String, String)> {
        let mut decoder = SseDecoder::new();
        let mut out = Vec::new();
        for read in reads {
            decoder.feed(read, |e| {
                out.push((
                    String::from_utf8(e.event.to_vec()).unwrap(),
                    String::from_utf8(e.data.to_vec()).unwrap(),
                ))
            });
        }
        out
    }

    fn data(events: Vec<(String, String)>) -> Vec<String> {
        events.into_iter().map(|(_, d)| d).collect()
    }

    #[test]
    fn several_events_in_one_read() {
        let out = decode(&[b"data: a\n\ndata: b\n\ndata: [DONE]\n\n"]);
        assert_eq!(data(out), ["a", "b", "[DONE]"]);
    }

    #[test]
    fn event_split_across_reads_at_every_byte() {
        let stream = b"data: {\"x\": 1}\r\n\r\ndata: two\n\n";
        for split in 1..stream.len() {
            let out = decode(&[&stream[..split], &stream[split..]]);
            assert_eq!(data(out), ["{\"x\": 1}", "two"], "split at {split}");
        }
    }

    #[test]
    fn crlf_cr_and_lf_line_endings() {
        assert_eq!(data(decode(&[b"data: a\r\n\r\n"])), ["a"]);
        assert_eq!(data(decode(&[b"data: a\r\rdata: b\n\n"])), ["a", "b"]);
        assert_eq!(data(decode(&[b"data: a\r", b"\n\r", b"\n"])), ["a"]);
    }

    #[test]
    fn comments_and_unknown_fields_are_ignored() {
        let out = decode(&[b": keep-alive\n\nid: 7\nretry: 10\ndata: x\n\n"]);
        assert_eq!(data(out), ["x"]);
    }

    #[test]
    fn multi_line_data_joins_with_newline() {
        assert_eq!(data(decode(&[b"data: a\ndata:b\ndata\n\n"])), ["a\nb\n"]);
    }

    #[test]
    fn event_name_is_reported_and_reset() {
        let out = decode(&[b"event: error\ndata: {}\n\ndata: y\n\n"]);
        assert_eq!(out[0], ("error".into(), "{}".into()));
        assert_eq!(out[1], ("".into(), "y".into()));
    }

    #[test]
    fn unterminated_event_is_not_dispatched() {
        assert!(decode(&[b"data: half"]).is_empty());
        let mut decoder = SseDecoder::new();
        decoder.feed(b"data: a\n", |_| {});
        assert!(!decoder.is_idle(), "an event without its blank line");
        decoder.feed(b"\n", |_| {});
        assert!(decoder.is_idle());
    }
}
