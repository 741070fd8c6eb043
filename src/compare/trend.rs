//! How figures moved over a series of runs (the history page): each run's figure judged
//! against its level over the runs before it (up to [`WINDOW`] of them), within the noise
//! between runs learnt from those same runs, by the rules and thresholds of a comparison
//! with a baseline's history. With one run before, that run is the level and the noise is
//! assumed.

use std::collections::BTreeMap;

use super::level::{Level, Levels};
use super::noise::{Noise, NoiseModel};
use super::stats::Change;
use super::verdict::{judge, threshold_for, Verdict, Worse};
use crate::result::HistoryEntry;
use crate::scenario::CompareThreshold;

/// Most runs before a run that its figures are judged against.
pub const WINDOW: usize = 10;

/// One run's figure judged against the runs before it.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// Position of the run in the series (oldest 0).
    pub run: usize,
    pub point: String,
    pub metric: String,
    pub value: f64,
    /// The mean of the runs before it that have the figure.
    pub level: Level,
    pub change: Change,
    pub noise: Noise,
    pub verdict: Verdict,
}

/// Which way a figure gets worse.
fn worse(metric: &str) -> Worse {
    match metric {
        "output_tokens_per_s" | "goodput" => Worse::Lower,
        _ => Worse::Higher,
    }
}

/// Every figure of `metrics` of every run of `runs` (oldest first) after the first,
/// judged against the runs before it; `overrides` are the scenario's compare thresholds.
pub fn steps(
    runs: &[HistoryEntry],
    metrics: &[&str],
    overrides: &BTreeMap<String, CompareThreshold>,
) -> Vec<Step> {
    let mut steps = Vec::new();
    for (i, run) in runs.iter().enumerate().skip(1) {
        let before: Vec<HistoryEntry> = runs[i.saturating_sub(WINDOW)..i]
            .iter()
            .rev()
            .cloned()
            .collect();
        let levels = Levels::of(&before);
        let noise = NoiseModel::of_history(&before);
        for (point, figures) in &run.points {
            for &metric in metrics {
                let Some(&value) = figures.get(metric) else {
                    continue;
                };
                let level = levels.get(point, metric).or_else(|| {
                    let only = before.first()?.points.get(point)?.get(metric)?;
                    (*only > 0.0).then_some(Level {
                        value: *only,
                        runs: 1,
                    })
                });
                let Some(level) = level else {
                    continue;
                };
                let noise = noise
                    .between_runs(point, metric)
                    .unwrap_or_else(|| noise.of(point, metric));
                let change = level.change_to(value, noise);
                let verdict = judge(&change, worse(metric), threshold_for(metric, overrides));
                steps.push(Step {
                    run: i,
                    point: point.clone(),
                    metric: metric.to_owned(),
                    value,
                    level,
                    change,
                    noise,
                    verdict,
                });
            }
        }
    }
    steps
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(ttft: f64) -> HistoryEntry {
        let figures = BTreeMap::from([("ttft_ms.p50".to_owned(), ttft)]);
        HistoryEntry {
            started_at: String::new(),
            trials: 1,
            points: BTreeMap::from([("c=1".to_owned(), figures)]),
            trial_points: BTreeMap::new(),
        }
    }

    #[test]
    fn a_step_beyond_the_noise_of_the_runs_before_is_a_regression() {
        let runs: Vec<HistoryEntry> = [100.0, 101.0, 99.0, 100.5, 99.5, 125.0]
            .into_iter()
            .map(run)
            .collect();
        let steps = steps(&runs, &["ttft_ms.p50"], &BTreeMap::new());
        assert_eq!(steps.len(), 5);
        let verdicts: Vec<Verdict> = steps.iter().map(|s| s.verdict).collect();
        assert!(
            verdicts[1..4].iter().all(|v| *v == Verdict::NoChange),
            "{verdicts:?}"
        );
        let last = steps.last().unwrap();
        assert_eq!((last.run, last.verdict), (5, Verdict::Regressed));
        assert_eq!(last.level.runs, 5);
        assert!((last.level.value - 100.0).abs() < 1e-9);
    }
}
