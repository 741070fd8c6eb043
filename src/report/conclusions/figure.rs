//! The key figures the conclusions speak of (output throughput, TTFT p50, TPOT p50, ITL p99,
//! E2E p50): how each is read from a point, named and shown, and how a change of one
//! between two points is written with the figures it rests on.

use crate::compare::stats::Change;
use crate::compare::{contrast, Figure};
use crate::result::PointResult;

use super::super::format::{percent, shown};

/// Seed of the bootstrap behind each interval (the conclusions are reproducible).
const SEED: u64 = 11;

/// Fewest samples from which a figure is compared (twice the tail beyond a quantile,
/// at least 20).
pub const MIN_SAMPLES: usize = 20;

/// Fewest samples for quantile `q` (p50: 20, p99: 200).
pub fn min_samples(q: f64) -> usize {
    ((2.0 / (1.0 - q)).round() as usize).max(MIN_SAMPLES)
}

/// A key figure.
#[derive(Debug, Clone, Copy)]
pub struct Key {
    pub figure: Figure,
    pub label: &'static str,
    pub unit: &'static str,
    pub higher_is_better: bool,
}

pub const THROUGHPUT: Key = Key {
    figure: Figure::Throughput,
    label: "output throughput",
    unit: "tok/s",
    higher_is_better: true,
};
pub const TTFT_P50: Key = latency("ttft", 0.5, "TTFT p50");
pub const TPOT_P50: Key = latency("tpot", 0.5, "TPOT p50");
pub const ITL_P99: Key = latency("itl", 0.99, "ITL p99");
pub const E2E_P50: Key = latency("e2e", 0.5, "E2E p50");

/// The figures the largest effects are sought for.
pub const KEYS: [Key; 5] = [THROUGHPUT, TTFT_P50, TPOT_P50, ITL_P99, E2E_P50];

const fn latency(name: &'static str, q: f64, label: &'static str) -> Key {
    Key {
        figure: Figure::Latency(name, q),
        label,
        unit: "ms",
        higher_is_better: false,
    }
}

impl Key {
    /// The figure of `point` as its result shows it; `None` when not measured.
    pub fn value(&self, point: &PointResult) -> Option<f64> {
        match self.figure {
            Figure::Throughput => Some(point.throughput.output_tokens_per_s),
            Figure::Latency(name, q) => {
                let s = point.latency_ms.get(name).filter(|s| s.count > 0)?;
                Some(if q >= 0.99 { s.p99 } else { s.p50 })
            }
        }
    }

    /// Whether `point` has enough samples for the figure.
    fn enough(&self, point: &PointResult) -> bool {
        let (name, q) = match self.figure {
            Figure::Throughput => ("e2e", 0.5),
            Figure::Latency(name, q) => (name, q),
        };
        point
            .latency_ms
            .get(name)
            .is_some_and(|s| s.count as usize >= min_samples(q))
    }

    /// The change of the figure from `from` to `to`; `None` with too few samples on a side.
    pub fn between(&self, from: &PointResult, to: &PointResult) -> Option<Change> {
        let enough = self.enough(from) && self.enough(to);
        enough
            .then(|| contrast(from, to, self.figure, SEED))
            .flatten()
    }

    /// Whether `change` makes the figure better.
    pub fn improves(&self, change: &Change) -> bool {
        (change.estimate > 0.0) == self.higher_is_better
    }

    /// `-41.3% [-42.0%, -40.5%] (11.7 → 6.9 ms)`.
    pub fn describe(&self, change: &Change, from: &PointResult, to: &PointResult) -> String {
        let value = |p| self.value(p).map_or("—".into(), shown);
        format!(
            "{} ({} → {} {})",
            percent(change),
            value(from),
            value(to),
            self.unit
        )
    }
}
