//! How a streamed body is cut into events: server-sent events (OpenAI, TGI, Triton,
//! SGLang, llama.cpp) or newline-delimited JSON (Ollama). Both decoders keep partial
//! input between reads and hand out one [`SseEvent`] per event (NDJSON lines have no name).

use super::sse::{SseDecoder, SseEvent};

/// The framing of a dialect's streamed responses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    Sse,
    Ndjson,
}

/// An incremental decoder of either framing.
#[derive(Debug)]
pub enum Decoder {
    Sse(SseDecoder),
    Ndjson(NdjsonDecoder),
}

impl Decoder {
    pub fn new(framing: Framing) -> Self {
        match framing {
            Framing::Sse => Self::Sse(SseDecoder::new()),
            Framing::Ndjson => Self::Ndjson(NdjsonDecoder::default()),
        }
    }

    /// Feeds the bytes of one read, calling `on_event` for every event they complete.
    pub fn feed(&mut self, input: &[u8], on_event: impl FnMut(SseEvent<'_>)) {
        match self {
            Self::Sse(d) => d.feed(input, on_event),
            Self::Ndjson(d) => d.feed(input, on_event),
        }
    }

    /// Whether every byte fed so far belongs to a dispatched event.
    pub fn is_idle(&self) -> bool {
        match self {
            Self::Sse(d) => d.is_idle(),
            Self::Ndjson(d) => d.partial.is_empty(),
        }
    }
}

/// Newline-delimited JSON: each non-blank line is one event; lines may end in CRLF and
/// may be split across reads.
#[derive(Debug, Default)]
pub struct NdjsonDecoder {
    partial: Vec<u8>,
}

impl NdjsonDecoder {
    pub fn feed(&mut self, mut input: &[u8], mut on_event: impl FnMut(SseEvent<'_>)) {
        while let Some(end) = memchr::memchr(b'\n', input) {
            if self.partial.is_empty() {
                dispatch(&input[..end], &mut on_event);
            } else {
                self.partial.extend_from_slice(&input[..end]);
                dispatch(&self.partial, &mut on_event);
                self.partial.clear();
            }
            input = &input[end + 1..];
        }
        self.partial.extend_from_slice(input);
    }
}

fn dispatch(line: &[u8], on_event: &mut impl FnMut(SseEvent<'_>)) {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if !line.iter().all(u8::is_ascii_whitespace) {
        on_event(SseEvent {
            event: b"",
            data: line,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(framing: Framing, reads: &[&[u8]]) -> Vec<String> {
        let mut decoder = Decoder::new(framing);
        let mut out = Vec::new();
        for read in reads {
            decoder.feed(read, |e| {
                out.push(String::from_utf8(e.data.to_vec()).unwrap())
            });
        }
        out
    }

    #[test]
    fn ndjson_lines_split_across_reads_at_every_byte() {
        let stream = b"{\"a\":1}\r\n\n{\"b\":2}\n";
        for split in 0..stream.len() {
            let out = lines(Framing::Ndjson, &[&stream[..split], &stream[split..]]);
            assert_eq!(out, ["{\"a\":1}", "{\"b\":2}"], "split at {split}");
        }
    }

    #[test]
    fn an_unterminated_ndjson_line_waits() {
        assert!(lines(Framing::Ndjson, &[b"{\"a\":"]).is_empty());
        let mut decoder = Decoder::new(Framing::Ndjson);
        decoder.feed(b"{\"done\":true}", |_| unreachable!());
        assert!(
            !decoder.is_idle(),
            "a record without its newline is cut short"
        );
        assert_eq!(lines(Framing::Sse, &[b"data: x\n\n"]), ["x"]);
    }
}
