//! Conclusions a reader would otherwise work out from the tables (the seed report's
//! section 5): which server option moved each key figure most, what chunked prefill did to
//! ITL p99 and TTFT, what `max_num_batched_tokens` did, how tensor parallelism scaled, the
//! memory headroom and any out-of-memory start, the highest load that met the SLO, where a
//! breakpoint ramp broke, and a recommended configuration. Each cites the figures it rests on (changes with their
//! bootstrap 95% interval, drawn from the points' histograms) and says so when the data
//! cannot support it.

mod breakpoint;
mod capacity;
mod choice;
mod effects;
mod figure;

use serde::Serialize;

use crate::result::{PointResult, RunResult};
use figure::MIN_SAMPLES;

/// One conclusion.
#[derive(Debug, Clone, Serialize)]
pub struct Conclusion {
    /// What it answers (`Chunked prefill`, `Load limit`).
    pub topic: String,
    /// Sentences citing the figures they rest on.
    pub text: String,
    /// False when the data cannot support an answer (the text says why).
    pub supported: bool,
    /// The points cited, by index in the result.
    pub points: Vec<usize>,
}

impl Conclusion {
    fn new(topic: impl Into<String>, text: String, supported: bool, points: Vec<usize>) -> Self {
        Self {
            topic: topic.into(),
            text,
            supported,
            points,
        }
    }
}

/// A measured point with its index in the result.
pub(super) type Measured<'a> = (usize, &'a PointResult);

/// The conclusions of `result`, in the seed report's order.
pub fn conclusions(result: &RunResult) -> Vec<Conclusion> {
    let measured: Vec<Measured> = result
        .points
        .iter()
        .enumerate()
        .filter(|(_, p)| p.failure.is_none())
        .collect();
    let largest = measured.iter().map(|(_, p)| p.requests.ok).max();
    let mut out = Vec::new();
    match largest {
        Some(n) if n as usize >= MIN_SAMPLES => {
            out.extend(effects::largest(&measured));
            out.push(effects::chunked_prefill(&measured));
            out.push(effects::batched_tokens(&measured));
            out.push(effects::tensor_parallel(&measured));
            out.push(capacity::memory(result));
            out.push(capacity::load_limit(result, &measured));
            out.extend(breakpoint::breakpoints(&measured));
            out.push(choice::recommended(result, &measured));
        }
        _ => {
            out.push(too_small(largest));
            out.push(capacity::memory(result));
        }
    }
    out
}

/// The one conclusion of a run too small for any other.
fn too_small(largest: Option<u64>) -> Conclusion {
    let text = match largest {
        None => "No point was measured, so nothing can be concluded (the warnings say why).".into(),
        Some(n) => format!(
            "This run is too small to conclude anything: its largest point has {n} successful \
             requests, and a conclusion needs at least {MIN_SAMPLES} per point (p99 figures need \
             {} samples). Run more requests per point (load.requests).",
            figure::min_samples(0.99)
        ),
    };
    Conclusion::new("Too small to conclude", text, false, Vec::new())
}
