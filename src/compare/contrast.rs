//! Differences between two points of one run, for the report's conclusions (what an
//! option changed): the relative change of a latency statistic, or of closed-loop
//! throughput, from one point to the other, with its bootstrap 95% interval drawn from the
//! points' stored histograms (each trial's), as a comparison with a baseline does.

use super::point::{samples, throughput_change};
use super::stats::{bootstrap_change, Change, Statistic, RESAMPLES};
use crate::result::PointResult;

/// A figure of a point that two points can be contrasted on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Figure {
    /// A latency (`ttft`, `tpot`, `itl`, `e2e`) at a quantile.
    Latency(&'static str, f64),
    /// Output tokens per second.
    Throughput,
}

/// The relative change of `figure` from point `from` to point `to`, with its interval;
/// `None` when either lacks samples, or for throughput when the points are open loop
/// (the offered rate sets it) or at different concurrency (the E2E means then do not
/// bound it).
pub fn contrast(from: &PointResult, to: &PointResult, figure: Figure, seed: u64) -> Option<Change> {
    // A percentile interval of a quantile of few, tied samples can miss its own estimate;
    // it is stretched to hold it.
    changed(from, to, figure, seed).map(|c| Change {
        low: c.low.min(c.estimate),
        high: c.high.max(c.estimate),
        ..c
    })
}

fn changed(from: &PointResult, to: &PointResult, figure: Figure, seed: u64) -> Option<Change> {
    let (a, b) = (from.each_trial(), to.each_trial());
    match figure {
        Figure::Latency(latency, q) => bootstrap_change(
            &samples(&a, latency),
            &samples(&b, latency),
            Statistic::Quantile(q),
            RESAMPLES,
            seed,
        ),
        Figure::Throughput => {
            let concurrency = |p: &PointResult| p.params.get("concurrency").cloned();
            if concurrency(from).is_none() || concurrency(from) != concurrency(to) {
                return None;
            }
            let (before, after) = (
                from.throughput.output_tokens_per_s,
                to.throughput.output_tokens_per_s,
            );
            if before <= 0.0 {
                return None;
            }
            let e2e = bootstrap_change(
                &samples(&a, "e2e"),
                &samples(&b, "e2e"),
                Statistic::Mean,
                RESAMPLES,
                seed,
            )?;
            Some(throughput_change(after / before - 1.0, e2e))
        }
    }
}

impl Change {
    /// Whether the interval excludes no change.
    pub fn is_established(&self) -> bool {
        self.low > 0.0 || self.high < 0.0
    }
}
