//! Run-to-run noise: how much a figure of a point changes between two identical runs, which
//! the requests of one run cannot show. Learnt from the relative changes between
//! consecutive accepted runs in the baseline's history and between consecutive trials of
//! either run; a point with few changes of its own borrows strength from the same figure
//! of the scenario's other points. With nothing to learn from, a stated default.

use std::collections::BTreeMap;
use std::fmt;

use statrs::distribution::{ContinuousCDF, StudentsT};

use crate::result::{HistoryEntry, RunResult};

/// The spread of a change between two identical runs (standard deviation of
/// `run_b / run_a − 1`) assumed without history or trials: 5%, and 10% for p99s.
pub fn default_noise(metric: &str) -> f64 {
    if metric.ends_with(".p99") {
        0.10
    } else {
        0.05
    }
}

/// The normal quantile of a two-sided 99% interval.
const NORMAL_99: f64 = 2.576;
/// The quantile of Student's t taken for learnt noise.
const LEVEL: f64 = 0.995;

/// Weight, in changes, of the scenario-wide estimate of a figure in each point's estimate.
const PRIOR_CHANGES: usize = 4;

/// The run-to-run noise of one figure of one point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Noise {
    /// Standard deviation of the change between two identical single runs (relative;
    /// absolute for error rates).
    pub sigma: f64,
    /// How many changes it was learnt from (0: the default).
    pub changes: usize,
}

impl Noise {
    /// The multiplier of `sigma` for the run-to-run part of an interval: two-sided 99%
    /// (a check judges a dozen figures of a point at once, so each is held to more than
    /// 95%), Student's t with as many degrees of freedom as changes were seen (at least
    /// 2), or the normal's 2.58 for the assumed default.
    pub fn multiplier(self) -> f64 {
        if self.changes == 0 {
            return NORMAL_99;
        }
        let df = self.changes.max(2) as f64;
        StudentsT::new(0.0, 1.0, df).map_or(NORMAL_99, |t| t.inverse_cdf(LEVEL))
    }
}

impl Noise {
    /// `±4.2%`, or `±5.0%*` when assumed.
    pub fn short(self) -> String {
        let mark = if self.changes == 0 { "*" } else { "" };
        format!("±{:.1}%{mark}", 100.0 * self.sigma)
    }
}

impl fmt::Display for Noise {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "±{:.1}%", 100.0 * self.sigma)?;
        if self.changes == 0 {
            f.write_str(" (assumed)")?;
        }
        Ok(())
    }
}

/// Changes seen per point and figure, and per figure over all points.
#[derive(Debug, Default)]
pub struct NoiseModel {
    by_point: BTreeMap<(String, String), Vec<f64>>,
    by_metric: BTreeMap<String, Vec<f64>>,
    /// The changes between consecutive accepted runs alone, as measured (a run's trials
    /// share its server's start, so they are not scaled to single trials here).
    runs: Option<Box<NoiseModel>>,
}

impl NoiseModel {
    /// Learns from a baseline's accepted `runs` (between the runs and between the trials
    /// of each) and from the trials of `current`.
    pub fn learn(runs: &[HistoryEntry], current: &RunResult) -> Self {
        let mut model = Self::of_history(runs);
        for point in current.points.iter().filter(|p| p.trials.len() > 1) {
            model.add_trials(&point.id, &point.trial_figures());
        }
        model
    }

    /// Learns from accepted `runs` alone, newest first (between the runs and between the
    /// trials of each).
    pub fn of_history(runs: &[HistoryEntry]) -> Self {
        let mut model = Self::default();
        for pair in runs.windows(2) {
            // A change between means of trials is scaled up to one between single
            // trials: the noise is kept per trial.
            let trials = |n: u32| 1.0 / f64::from(n.max(1));
            let scale = (2.0 / (trials(pair[0].trials) + trials(pair[1].trials))).sqrt();
            for (point, newer) in &pair[0].points {
                if let Some(older) = pair[1].points.get(point) {
                    let between_runs = model.runs.get_or_insert_with(Box::default);
                    between_runs.add(point, newer, older, 1.0);
                    model.add(point, newer, older, scale);
                }
            }
        }
        for run in runs {
            for (point, trials) in &run.trial_points {
                model.add_trials(point, trials);
            }
        }
        model
    }

    /// Adds the changes between consecutive `trials` of one point.
    fn add_trials(&mut self, point: &str, trials: &[BTreeMap<String, f64>]) {
        for pair in trials.windows(2) {
            self.add(point, &pair[1], &pair[0], 1.0);
        }
    }

    /// Adds the changes of each figure from `older` to `newer`, times `scale`.
    fn add(
        &mut self,
        point: &str,
        newer: &BTreeMap<String, f64>,
        older: &BTreeMap<String, f64>,
        scale: f64,
    ) {
        for (metric, &value) in newer {
            let Some(change) = older.get(metric).and_then(|&o| change(metric, o, value)) else {
                continue;
            };
            let change = change * scale;
            let key = (point.to_owned(), metric.clone());
            self.by_point.entry(key).or_default().push(change);
            self.by_metric
                .entry(metric.clone())
                .or_default()
                .push(change);
        }
    }

    /// The noise of `metric` at `point` between two whole accepted runs (whatever their
    /// trials), learnt from the history alone; `None` without two accepted runs.
    pub fn between_runs(&self, point: &str, metric: &str) -> Option<Noise> {
        let runs = self.runs.as_ref()?;
        Some(runs.of(point, metric)).filter(|n| n.changes > 0)
    }

    /// The noise of `metric` at `point`.
    pub fn of(&self, point: &str, metric: &str) -> Noise {
        let squares = |changes: &[f64]| changes.iter().map(|c| c * c).sum::<f64>();
        let own = self
            .by_point
            .get(&(point.to_owned(), metric.to_owned()))
            .map_or(&[][..], Vec::as_slice);
        let all = self.by_metric.get(metric).map_or(&[][..], Vec::as_slice);
        if all.is_empty() {
            return Noise {
                sigma: default_noise(metric),
                changes: 0,
            };
        }
        let prior = squares(all) / all.len() as f64;
        let borrowed = PRIOR_CHANGES.min(all.len() - own.len());
        let weight = own.len() + borrowed;
        let variance = (squares(own) + borrowed as f64 * prior) / weight.max(1) as f64;
        Noise {
            sigma: variance.sqrt(),
            changes: weight,
        }
    }
}

/// The change from `older` to `newer`: relative, or absolute for an error rate; `None`
/// where a relative change has no base.
fn change(metric: &str, older: f64, newer: f64) -> Option<f64> {
    if metric == "error_rate" {
        Some(newer - older)
    } else {
        (older != 0.0).then(|| newer / older - 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(changes: &[(&str, &str, f64)]) -> NoiseModel {
        let mut model = NoiseModel::default();
        for &(point, metric, change) in changes {
            let older = BTreeMap::from([(metric.to_owned(), 100.0)]);
            let newer = BTreeMap::from([(metric.to_owned(), 100.0 * (1.0 + change))]);
            model.add(point, &newer, &older, 1.0);
        }
        model
    }

    #[test]
    fn without_history_or_trials_the_noise_is_assumed() {
        let noise = NoiseModel::default().of("a", "tpot_ms.p50");
        assert_eq!((noise.sigma, noise.changes), (0.05, 0));
        assert_eq!(noise.multiplier(), 2.576);
        assert_eq!(noise.to_string(), "±5.0% (assumed)");
        assert_eq!(NoiseModel::default().of("a", "itl_ms.p99").sigma, 0.10);
    }

    #[test]
    fn the_noise_is_the_root_mean_square_of_the_changes_seen() {
        let m = model(&[("a", "tpot_ms.p50", 0.03), ("a", "tpot_ms.p50", -0.04)]);
        let noise = m.of("a", "tpot_ms.p50");
        assert!((noise.sigma - 0.035355).abs() < 1e-5, "{noise:?}");
        assert_eq!(noise.changes, 2);
        assert_eq!(noise.short(), "±3.5%");
        // Student's t with 2 degrees of freedom, two-sided 99%.
        assert!((noise.multiplier() - 9.925).abs() < 1e-3);
    }

    #[test]
    fn a_point_borrows_from_the_same_figure_of_other_points() {
        let m = model(&[
            ("a", "e2e_ms.p50", 0.02),
            ("b", "e2e_ms.p50", 0.10),
            ("b", "e2e_ms.p50", -0.10),
            ("c", "e2e_ms.p50", 0.10),
        ]);
        // Point a: its own change and 3 of the others' (the scenario's mean square).
        let noise = m.of("a", "e2e_ms.p50");
        let prior = (0.02f64.powi(2) + 3.0 * 0.01) / 4.0;
        let expected = ((0.02f64.powi(2) + 3.0 * prior) / 4.0).sqrt();
        assert!((noise.sigma - expected).abs() < 1e-12, "{noise:?}");
        assert_eq!(noise.changes, 4);
        // A point without changes of its own takes the scenario's.
        assert!((m.of("d", "e2e_ms.p50").sigma - prior.sqrt()).abs() < 1e-12);
        assert_eq!(
            m.of("a", "ttft_ms.p50").changes,
            0,
            "other figures stay assumed"
        );
    }

    #[test]
    fn error_rates_change_in_points() {
        assert_eq!(change("error_rate", 0.25, 0.75), Some(0.5));
        assert_eq!(change("ttft_ms.p50", 0.0, 3.0), None);
    }
}
