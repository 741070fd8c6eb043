//! Checks the SLO thresholds of a result's scenario (see [`crate::scenario::Threshold`])
//! against each of its points, with or without a baseline.

use crate::result::RunResult;
use crate::scenario::{thresholds_of, Threshold};

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
            let value = point.threshold_value(threshold);
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
