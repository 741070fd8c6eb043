//! A baseline's history: the figures of the most recent accepted runs of its scenario,
//! newest first (the baseline itself is the first), from which the verdict learns how much
//! identical runs differ. Figures only, no histograms, so that a baseline update reads well
//! in a git diff.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{PointResult, RunResult, Trial, LATENCY_NAMES};

/// The latency quantiles that are compared, by name.
pub const QUANTILES: [(&str, f64); 3] = [("p50", 0.50), ("p90", 0.90), ("p99", 0.99)];

/// One accepted run, as its figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// When the run started (RFC 3339): what tells runs apart.
    pub started_at: String,
    /// Trials per point in that run.
    pub trials: u32,
    /// Per point id: each compared figure (`ttft_ms.p50`, `output_tokens_per_s`, ...).
    pub points: BTreeMap<String, BTreeMap<String, f64>>,
    /// Per point id measured in several trials: the figures of each trial, in order.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub trial_points: BTreeMap<String, Vec<BTreeMap<String, f64>>>,
}

impl HistoryEntry {
    /// The entry of `result`: the pooled figures of each point that was measured, and
    /// those of each trial where there were several.
    pub fn of(result: &RunResult) -> Self {
        let measured = || {
            result
                .points
                .iter()
                .filter(|p| p.failure.is_none() && p.requests.ok > 0)
        };
        let points = measured()
            .map(|p| (p.id.clone(), figures(&p.measured())))
            .collect();
        let trial_points = measured()
            .filter(|p| p.trials.len() > 1)
            .map(|p| (p.id.clone(), p.trial_figures()))
            .collect();
        let trials = result
            .points
            .iter()
            .map(|p| p.trials.len().max(1) as u32)
            .max()
            .unwrap_or(1);
        Self {
            started_at: result.started_at.clone(),
            trials,
            points,
            trial_points,
        }
    }
}

/// The compared figures of one measurement: latency quantiles, output throughput, goodput
/// ratio and error rate, keyed as comparison rows are.
pub fn figures(trial: &Trial) -> BTreeMap<String, f64> {
    let mut figures = BTreeMap::new();
    for latency in LATENCY_NAMES {
        let Some(summary) = trial.latency_ms.get(latency).filter(|s| s.count > 0) else {
            continue;
        };
        for (name, _) in QUANTILES {
            let value = match name {
                "p50" => summary.p50,
                "p90" => summary.p90,
                _ => summary.p99,
            };
            figures.insert(format!("{latency}_ms.{name}"), value);
        }
    }
    figures.insert(
        "output_tokens_per_s".into(),
        trial.throughput.output_tokens_per_s,
    );
    if let Some(goodput) = &trial.goodput {
        figures.insert("goodput".into(), goodput.ratio);
    }
    if trial.requests.total > 0 {
        let rate = trial.requests.failed as f64 / trial.requests.total as f64;
        figures.insert("error_rate".into(), rate);
    }
    figures
}

impl RunResult {
    /// The runs this result stands for as a baseline, newest first: its history, or
    /// itself alone when it has none.
    pub fn accepted_runs(&self) -> Vec<HistoryEntry> {
        if self.history.is_empty() {
            vec![HistoryEntry::of(self)]
        } else {
            self.history.clone()
        }
    }
}

impl PointResult {
    /// The compared figures of each trial of the point.
    pub fn trial_figures(&self) -> Vec<BTreeMap<String, f64>> {
        self.each_trial().iter().map(figures).collect()
    }
}
