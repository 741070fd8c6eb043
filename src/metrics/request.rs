//! Per-request figures from the raw instants of an exchange, following the measurement
//! rules: TTFT = first text chunk − sent; E2E = end − sent; TPOT = (E2E − TTFT) /
//! (output tokens − 1); ITL = gaps between text chunks, a chunk carrying k tokens counting
//! as k gaps of gap/k.

use crate::client::Exchange;

/// Where a request's output token count came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenSource {
    /// The server's `usage`.
    ServerUsage,
    /// One token per streamed text chunk (the server sent no usage).
    Chunks,
}

/// Latency figures of one successful request, in microseconds.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestFigures {
    pub ttft_us: u64,
    pub e2e_us: u64,
    pub tpot_us: Option<f64>,
    pub output_tokens: u32,
    pub input_tokens: Option<u32>,
    pub token_source: TokenSource,
}

impl RequestFigures {
    /// Figures of a successful exchange; `None` for a failed one.
    pub fn of(ex: &Exchange) -> Option<Self> {
        if ex.error.is_some() {
            return None;
        }
        let first = ex.first_token?;
        let ttft_us = first.duration_since(ex.sent).as_micros() as u64;
        let e2e_us = ex.end.duration_since(ex.sent).as_micros() as u64;
        let (output_tokens, token_source) = match ex.usage {
            Some(u) if u.completion_tokens > 0 => (u.completion_tokens, TokenSource::ServerUsage),
            _ => (ex.content_offsets_us.len() as u32, TokenSource::Chunks),
        };
        let tpot_us = (output_tokens >= 2)
            .then(|| e2e_us.saturating_sub(ttft_us) as f64 / f64::from(output_tokens - 1));
        Some(Self {
            ttft_us,
            e2e_us,
            tpot_us,
            output_tokens,
            input_tokens: ex.usage.map(|u| u.prompt_tokens).filter(|&n| n > 0),
            token_source,
        })
    }

    /// Inter-token latencies as `(gap_us, count)`: each gap between text chunks divided
    /// evenly over the tokens the chunk carried (estimated from the token count).
    pub fn itl_gaps<'a>(&self, ex: &'a Exchange) -> impl Iterator<Item = (u64, u64)> + 'a {
        let chunks = ex.content_offsets_us.len();
        let tokens_per_gap = if chunks >= 2 && self.output_tokens as usize > chunks {
            f64::from(self.output_tokens - 1) / (chunks - 1) as f64
        } else {
            1.0
        };
        let count = tokens_per_gap.round().max(1.0) as u64;
        ex.content_offsets_us.windows(2).map(move |w| {
            let gap = f64::from(w[1].saturating_sub(w[0]));
            ((gap / tokens_per_gap).round() as u64, count)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::openai::Usage;
    use std::time::{Duration, Instant};

    fn exchange(offsets_ms: &[u32], completion_tokens: Option<u32>) -> Exchange {
        let sent = Instant::now();
        let offsets: Vec<u32> = offsets_ms.iter().map(|ms| ms * 1000).collect();
        Exchange {
            sent,
            first_token: Some(sent + Duration::from_micros(offsets[0].into())),
            end: sent + Duration::from_micros((*offsets.last().unwrap()).into()),
            content_offsets_us: offsets,
            usage: completion_tokens.map(|c| Usage {
                prompt_tokens: 10,
                completion_tokens: c,
                cached_tokens: None,
            }),
            server_timings: None,
            error: None,
        }
    }

    #[test]
    fn ttft_tpot_e2e_from_instants() {
        let ex = exchange(&[200, 220, 240, 260], Some(4));
        let f = RequestFigures::of(&ex).unwrap();
        assert_eq!((f.ttft_us, f.e2e_us), (200_000, 260_000));
        assert_eq!(f.tpot_us, Some(20_000.0));
        assert_eq!(f.token_source, TokenSource::ServerUsage);
        let gaps: Vec<_> = f.itl_gaps(&ex).collect();
        assert_eq!(gaps, [(20_000, 1); 3]);
    }

    #[test]
    fn chunks_carrying_several_tokens_split_their_gap() {
        // 3 chunks, 5 tokens: the 2 gaps carry 4 tokens, 2 per gap.
        let ex = exchange(&[100, 140, 180], Some(5));
        let f = RequestFigures::of(&ex).unwrap();
        let gaps: Vec<_> = f.itl_gaps(&ex).collect();
        assert_eq!(gaps, [(20_000, 2), (20_000, 2)]);
        assert_eq!(f.tpot_us, Some(20_000.0));
    }

    #[test]
    fn without_usage_chunks_are_counted() {
        let f = RequestFigures::of(&exchange(&[10, 20], None)).unwrap();
        assert_eq!((f.output_tokens, f.token_source), (2, TokenSource::Chunks));
    }
}
