//! Statistics for comparing a point's current samples with its baseline: the relative
//! change of a statistic with a hierarchical percentile-bootstrap 95% confidence interval
//! (trials, then requests; seeded, reproducible).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A statistic of a sample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Statistic {
    Mean,
    /// Nearest-rank quantile, `q` in (0, 1].
    Quantile(f64),
}

impl Statistic {
    /// The statistic of `values` (reordered in place); `None` when empty.
    pub fn of(self, values: &mut [f64]) -> Option<f64> {
        if values.is_empty() {
            return None;
        }
        Some(match self {
            Statistic::Mean => values.iter().sum::<f64>() / values.len() as f64,
            Statistic::Quantile(q) => {
                let rank = ((q * values.len() as f64).ceil() as usize).clamp(1, values.len());
                *values.select_nth_unstable_by(rank - 1, f64::total_cmp).1
            }
        })
    }
}

/// Relative change `current / baseline − 1` of a statistic, with its 95% interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Change {
    pub estimate: f64,
    pub low: f64,
    pub high: f64,
}

/// Bootstrap resamples behind each interval.
pub const RESAMPLES: usize = 2000;

/// The relative change of `stat` between two runs, each given as the samples of each of its
/// trials, with a percentile-bootstrap 95% interval from `resamples` resamples drawn with
/// `seed`. Hierarchical: each resample draws trials with replacement, then requests with
/// replacement within each drawn trial, so that the differences between trials widen the
/// interval (with one trial a side, the plain bootstrap of requests). `None` when a side
/// has no sample or its statistic is zero.
pub fn bootstrap_change(
    baseline: &[Vec<f64>],
    current: &[Vec<f64>],
    stat: Statistic,
    resamples: usize,
    seed: u64,
) -> Option<Change> {
    let base = stat.of(&mut baseline.concat())?;
    let cur = stat.of(&mut current.concat())?;
    if base == 0.0 {
        return None;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut draw = |trials: &[Vec<f64>], into: &mut Vec<f64>| {
        into.clear();
        for _ in 0..trials.len() {
            let trial = &trials[rng.random_range(0..trials.len())];
            if !trial.is_empty() {
                into.extend((0..trial.len()).map(|_| trial[rng.random_range(0..trial.len())]));
            }
        }
    };
    let (mut b, mut c) = (Vec::new(), Vec::new());
    let mut ratios: Vec<f64> = Vec::with_capacity(resamples);
    for _ in 0..resamples {
        draw(baseline, &mut b);
        draw(current, &mut c);
        if let (Some(sb), Some(sc)) = (stat.of(&mut b), stat.of(&mut c)) {
            if sb != 0.0 {
                ratios.push(sc / sb - 1.0);
            }
        }
    }
    if ratios.is_empty() {
        return None;
    }
    Some(Change::from_resamples(cur / base - 1.0, ratios))
}

impl Change {
    /// The change `estimate` with the 2.5th and 97.5th percentiles of its bootstrap
    /// `resamples` (not empty) as its 95% interval.
    pub fn from_resamples(estimate: f64, mut resamples: Vec<f64>) -> Self {
        resamples.sort_by(f64::total_cmp);
        let at =
            |p: f64| resamples[((p * resamples.len() as f64) as usize).min(resamples.len() - 1)];
        Self {
            estimate,
            low: at(0.025),
            high: at(0.975),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noisy(n: usize, scale: f64, seed: u64) -> Vec<f64> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        (0..n)
            .map(|_| scale * (1.0 + rng.random_range(-0.1..0.1)))
            .collect()
    }

    #[test]
    fn nearest_rank_quantiles_and_mean() {
        let mut v = vec![5.0, 1.0, 4.0, 2.0, 3.0];
        assert_eq!(Statistic::Quantile(0.5).of(&mut v), Some(3.0));
        assert_eq!(Statistic::Quantile(0.99).of(&mut v), Some(5.0));
        assert_eq!(Statistic::Mean.of(&mut v), Some(3.0));
        assert_eq!(Statistic::Mean.of(&mut []), None);
    }

    #[test]
    fn same_distribution_gives_an_interval_around_zero() {
        let c = bootstrap_change(
            &[noisy(500, 20.0, 1)],
            &[noisy(500, 20.0, 2)],
            Statistic::Quantile(0.5),
            RESAMPLES,
            7,
        )
        .unwrap();
        assert!(c.low < 0.0 && c.high > 0.0, "{c:?}");
        assert!(c.high - c.low < 0.03, "{c:?}");
    }

    #[test]
    fn a_twenty_percent_slowdown_is_bracketed() {
        let c = bootstrap_change(
            &[noisy(500, 20.0, 1)],
            &[noisy(500, 24.0, 2)],
            Statistic::Quantile(0.5),
            RESAMPLES,
            7,
        )
        .unwrap();
        assert!(
            c.low > 0.15 && c.high < 0.25 && (c.estimate - 0.2).abs() < 0.03,
            "{c:?}"
        );
    }

    #[test]
    fn intervals_are_reproducible_from_the_seed() {
        let (a, b) = ([noisy(100, 10.0, 1)], [noisy(100, 11.0, 2)]);
        let first = bootstrap_change(&a, &b, Statistic::Quantile(0.9), 500, 3);
        assert_eq!(
            first,
            bootstrap_change(&a, &b, Statistic::Quantile(0.9), 500, 3)
        );
        assert!(bootstrap_change(&a, &[], Statistic::Mean, 500, 3).is_none());
    }

    #[test]
    fn differences_between_trials_widen_the_interval() {
        // Three trials a side whose medians drift by ±4% around the same value.
        let drifting = |seed: u64| -> Vec<Vec<f64>> {
            [0.96, 1.0, 1.04]
                .iter()
                .zip(0..)
                .map(|(&speed, i)| noisy(300, 20.0 * speed, seed + i))
                .collect()
        };
        let (base, cur) = (drifting(10), drifting(20));
        let hierarchical =
            bootstrap_change(&base, &cur, Statistic::Quantile(0.5), RESAMPLES, 7).unwrap();
        let pooled = bootstrap_change(
            &[base.concat()],
            &[cur.concat()],
            Statistic::Quantile(0.5),
            RESAMPLES,
            7,
        )
        .unwrap();
        let width = |c: Change| c.high - c.low;
        assert!(
            hierarchical.low < 0.0 && hierarchical.high > 0.0,
            "{hierarchical:?}"
        );
        assert!(
            width(hierarchical) > 2.0 * width(pooled),
            "{hierarchical:?} {pooled:?}"
        );
    }
}
