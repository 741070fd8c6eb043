//! The level of a figure over the baseline's history: the mean of the accepted runs'
//! figures, each run one unit (its trials share a server start, so they are not
//! independent draws). With two or more accepted runs it is what a run is compared with,
//! rather than the newest run alone, whose own luck (a fast or slow start) would
//! otherwise count twice: once in the baseline and once in the noise. As Bencher and
//! rustc-perf judge a new result against a window of past ones.

use std::collections::BTreeMap;

use super::noise::Noise;
use super::stats::Change;
use crate::result::HistoryEntry;

/// Fewest accepted runs with a figure for their mean to stand as its baseline.
const MIN_RUNS: usize = 2;

/// One figure's level over the accepted runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Level {
    /// The mean over the runs.
    pub value: f64,
    /// The runs behind it.
    pub runs: usize,
}

impl Level {
    /// The change from this level to `current` (one run), with an interval as wide as the
    /// `noise` between two whole runs allows.
    pub fn change_to(self, current: f64, noise: Noise) -> Change {
        let estimate = current / self.value - 1.0;
        let half_width = run_to_run_half_width(noise, self.runs, 1);
        Change {
            estimate,
            low: estimate - half_width,
            high: estimate + half_width,
        }
    }
}

/// The half-width of the run-to-run part of a change between the means of `nb` and `nc`
/// trials: the noise of a mean of n trials shrinks as the root of n, and `noise.sigma` is
/// that of a change between two single trials.
pub fn run_to_run_half_width(noise: Noise, nb: usize, nc: usize) -> f64 {
    let trials = |n: usize| 1.0 / n.max(1) as f64;
    noise.sigma * ((trials(nb) + trials(nc)) / 2.0).sqrt() * noise.multiplier()
}

/// The sum of a figure over the runs that have it, and how many they are.
#[derive(Debug, Default, Clone, Copy)]
struct Sum {
    total: f64,
    runs: usize,
}

/// The levels of every point's figures in a baseline's history.
#[derive(Debug, Default)]
pub struct Levels {
    by_point: BTreeMap<(String, String), Sum>,
}

impl Levels {
    /// Sums the figures of a baseline's accepted `runs`.
    pub fn of(runs: &[HistoryEntry]) -> Self {
        let mut levels = Self::default();
        for run in runs {
            for (point, figures) in &run.points {
                for (metric, value) in figures {
                    let key = (point.clone(), metric.clone());
                    let sum = levels.by_point.entry(key).or_default();
                    sum.total += value;
                    sum.runs += 1;
                }
            }
        }
        levels
    }

    /// The level of `metric` at `point`, when enough accepted runs have it.
    pub fn get(&self, point: &str, metric: &str) -> Option<Level> {
        let sum = self.by_point.get(&(point.to_owned(), metric.to_owned()))?;
        (sum.runs >= MIN_RUNS && sum.total > 0.0).then(|| Level {
            value: sum.total / sum.runs as f64,
            runs: sum.runs,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_from_a_level_is_as_wide_as_the_noise() {
        let level = Level {
            value: 10.0,
            runs: 9,
        };
        let noise = Noise {
            sigma: 0.04,
            changes: 0,
        };
        let change = level.change_to(11.0, noise);
        assert!((change.estimate - 0.10).abs() < 1e-12);
        // 2.576 × 4% × √((1/9 + 1)/2)
        let half = 2.576 * 0.04 * ((1.0 / 9.0 + 1.0) / 2.0f64).sqrt();
        assert!((change.high - change.estimate - half).abs() < 1e-12);
        assert!((change.estimate - change.low - half).abs() < 1e-12);
    }

    #[test]
    fn a_level_is_the_mean_of_two_or_more_runs() {
        let mut levels = Levels::default();
        let key = ("a".to_owned(), "tpot_ms.p50".to_owned());
        let sum = |total, runs| Sum { total, runs };
        levels.by_point.insert(key.clone(), sum(10.0, 1));
        assert_eq!(levels.get("a", "tpot_ms.p50"), None);
        levels.by_point.insert(key, sum(10.0 + 22.0, 2));
        let level = levels.get("a", "tpot_ms.p50").unwrap();
        assert!((level.value - 16.0).abs() < 1e-12);
        assert_eq!(level.runs, 2);
    }
}
