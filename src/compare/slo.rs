//! Checks the SLO thresholds of a result's scenario (see [`crate::scenario::Threshold`])
//! against each of its points, with or without a baseline.

use crate::result::{PointResult, RunResult};
use crate::scenario::{thresholds_of, Stat, Threshold};

/// The value `threshold` reads from a point; `None` when the point lacks it (goodput
/// without an SLO).
fn value(threshold: &Threshold, point: &PointResult) -> Option<f64> {
    let summary = point.latency_ms.get(&threshold.metric);
    Some(match (threshold.stat, summary) {
        (Stat::Percentile(50) | Stat::Med, Some(s)) => s.p50,
        (Stat::Percentile(90), Some(s)) => s.p90,
        (Stat::Percentile(95), Some(s)) => s.p95,
        (Stat::Percentile(_), Some(s)) => s.p99,
        (Stat::Avg, Some(s)) => s.mean,
        (Stat::Min, Some(s)) => s.min,
        (Stat::Max, Some(s)) => s.max,
        (Stat::Rate, _) => match point.requests.total {
            0 => 0.0,
            total => point.requests.failed as f64 / total as f64,
        },
        (Stat::Ratio, _) => point.goodput.as_ref()?.ratio,
        (Stat::Value, _) if threshold.metric == "requests_per_s" => point.throughput.requests_per_s,
        (Stat::Value, _) => point.throughput.output_tokens_per_s,
        _ => return None,
    })
}

/// One threshold checked on one point.
#[derive(Debug, Clone, PartialEq)]
pub struct SloCheck {
    pub point: String,
    pub threshold: Threshold,
    /// `None` when the point lacks the figure (goodput without an SLO): a breach.
    pub value: Option<f64>,
    pub holds: bool,
}

/// Checks the thresholds of `result`'s scenario on each of its points.
pub fn check(result: &RunResult) -> Vec<SloCheck> {
    let thresholds = match &result.scenario.thresholds {
        // A result's scenario was validated before the run; a hand-edited one that no
        // longer parses checks nothing rather than failing the comparison.
        Some(spec) => thresholds_of(spec).unwrap_or_default(),
        None => return Vec::new(),
    };
    let mut checks = Vec::new();
    // A point that was not measured has no figures to check (compare reports it failed).
    for point in result.points.iter().filter(|p| p.failure.is_none()) {
        for threshold in &thresholds {
            let value = value(threshold, point);
            checks.push(SloCheck {
                point: point.id.clone(),
                holds: value.is_some_and(|v| threshold.holds(v)),
                threshold: threshold.clone(),
                value,
            });
        }
    }
    checks
}
