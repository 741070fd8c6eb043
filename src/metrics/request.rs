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
    /// The tokens the streamed chunks carried: their count where the dialect says, else
    /// one per chunk (the server sent no usage).
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
            _ => (chunk_token_total(ex), TokenSource::Chunks),
        };
        // A response that arrived whole (not streamed, or in one chunk) shows no decoding pace.
        let streamed = ex.content_offsets_us.len() >= 2;
        let tpot_us = (streamed && output_tokens >= 2)
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

    /// Inter-token latencies as `(gap_us, count)`. Text chunks that arrived in one read
    /// form one arrival; the gap before each arrival is spread evenly over the tokens it
    /// brought: the tokens each chunk carried where the dialect says so for every chunk,
    /// else (output tokens − 1) / (chunks − 1) for each chunk after the first when the
    /// server's count exceeds the chunk count. Tokens that came in the same read as the
    /// first one have no gap to measure.
    pub fn itl_gaps(&self, ex: &Exchange) -> Vec<(u64, u64)> {
        let offsets = &ex.content_offsets_us;
        let chunks = offsets.len();
        if chunks < 2 {
            return Vec::new();
        }
        let tokens_through = self.tokens_through(ex);
        let mut gaps = Vec::new();
        let mut previous = offsets.iter().rposition(|&o| o == offsets[0]).unwrap_or(0);
        let mut start = previous + 1;
        while start < chunks {
            let end = start
                + offsets[start..]
                    .iter()
                    .take_while(|&&o| o == offsets[start])
                    .count()
                - 1;
            let tokens = tokens_through(end) - tokens_through(previous);
            let gap_us = f64::from(offsets[start] - offsets[previous]);
            if tokens > 0 {
                gaps.push(((gap_us / tokens as f64).round() as u64, tokens));
            }
            previous = end;
            start = end + 1;
        }
        gaps
    }

    /// Tokens after the first one, up to and including chunk `i`.
    fn tokens_through(&self, ex: &Exchange) -> impl Fn(usize) -> u64 {
        let chunks = ex.content_offsets_us.len();
        let counted = exact_chunk_tokens(ex).then(|| {
            ex.chunk_tokens
                .iter()
                .scan(0u64, |sum, &n| {
                    *sum += u64::from(n);
                    Some(*sum - 1)
                })
                .collect::<Vec<u64>>()
        });
        let per_chunk = if self.output_tokens as usize > chunks {
            f64::from(self.output_tokens - 1) / (chunks - 1) as f64
        } else {
            1.0
        };
        move |i| match &counted {
            Some(through) => through[i],
            None => (per_chunk * i as f64).round() as u64,
        }
    }
}

/// Whether the dialect said how many tokens every text chunk carried.
fn exact_chunk_tokens(ex: &Exchange) -> bool {
    ex.chunk_tokens.len() == ex.content_offsets_us.len() && ex.chunk_tokens.iter().all(|&n| n > 0)
}

/// Output tokens by the chunks: their counts where the dialect says, else one per chunk.
fn chunk_token_total(ex: &Exchange) -> u32 {
    if exact_chunk_tokens(ex) {
        ex.chunk_tokens.iter().sum()
    } else {
        ex.content_offsets_us.len() as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::Usage;
    use std::time::{Duration, Instant};

    fn exchange(offsets_ms: &[u32], completion_tokens: Option<u32>) -> Exchange {
        let sent = Instant::now();
        let offsets: Vec<u32> = offsets_ms.iter().map(|ms| ms * 1000).collect();
        Exchange {
            sent,
            first_token: Some(sent + Duration::from_micros(offsets[0].into())),
            end: sent + Duration::from_micros((*offsets.last().unwrap()).into()),
            chunk_tokens: Vec::new(),
            content_offsets_us: offsets,
            usage: completion_tokens.map(|c| Usage {
                prompt_tokens: 10,
                completion_tokens: c,
                cached_tokens: None,
            }),
            server_timings: None,
            error: None,
            reply: None,
        }
    }

    #[test]
    fn ttft_tpot_e2e_from_instants() {
        let ex = exchange(&[200, 220, 240, 260], Some(4));
        let f = RequestFigures::of(&ex).unwrap();
        assert_eq!((f.ttft_us, f.e2e_us), (200_000, 260_000));
        assert_eq!(f.tpot_us, Some(20_000.0));
        assert_eq!(f.token_source, TokenSource::ServerUsage);
        assert_eq!(f.itl_gaps(&ex), [(20_000, 1); 3]);
    }

    #[test]
    fn chunks_carrying_several_tokens_split_their_gap() {
        // 3 chunks, 5 tokens: the 2 gaps carry 4 tokens, 2 per gap.
        let ex = exchange(&[100, 140, 180], Some(5));
        let f = RequestFigures::of(&ex).unwrap();
        assert_eq!(f.itl_gaps(&ex), [(20_000, 2), (20_000, 2)]);
        assert_eq!(f.tpot_us, Some(20_000.0));
    }

    #[test]
    fn token_counts_the_dialect_gives_place_the_tokens_exactly() {
        // SGLang-like: 1, then 3, then 1 tokens; the 3-token chunk's 30 ms is 3 gaps of 10.
        let mut ex = exchange(&[100, 130, 150], None);
        ex.chunk_tokens = vec![1, 3, 1];
        let f = RequestFigures::of(&ex).unwrap();
        assert_eq!((f.output_tokens, f.token_source), (5, TokenSource::Chunks));
        assert_eq!(f.itl_gaps(&ex), [(10_000, 3), (20_000, 1)]);
        // A count missing for one chunk falls back to spreading.
        ex.chunk_tokens = vec![1, 0, 1];
        assert_eq!(RequestFigures::of(&ex).unwrap().output_tokens, 3);
    }

    #[test]
    fn chunks_read_together_share_the_gap_before_them() {
        // Chunks 2 and 3 arrived in one read 20 ms after the first; chunk 4 20 ms later.
        let ex = exchange(&[100, 120, 120, 140], Some(4));
        let f = RequestFigures::of(&ex).unwrap();
        assert_eq!(f.itl_gaps(&ex), [(10_000, 2), (20_000, 1)]);
        // What came with the first token has no gap; the rest is counted once.
        let ex = exchange(&[100, 100, 130], Some(3));
        assert_eq!(
            RequestFigures::of(&ex).unwrap().itl_gaps(&ex),
            [(30_000, 1)]
        );
    }

    #[test]
    fn a_response_that_arrived_whole_has_no_tpot() {
        let f = RequestFigures::of(&exchange(&[500], Some(64))).unwrap();
        assert_eq!((f.ttft_us, f.e2e_us, f.tpot_us), (500_000, 500_000, None));
    }

    #[test]
    fn without_usage_chunks_are_counted() {
        let f = RequestFigures::of(&exchange(&[10, 20], None)).unwrap();
        assert_eq!((f.output_tokens, f.token_source), (2, TokenSource::Chunks));
    }
}
