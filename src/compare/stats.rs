//! Statistics for comparing a point's current samples with its baseline: the relative
//! change of a statistic with a percentile-bootstrap 95% confidence interval (seeded,
//! reproducible), and the two-sided Mann-Whitney U test (normal approximation with tie
//! and continuity corrections).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use statrs::distribution::{ContinuousCDF, Normal};

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

/// The relative change of `stat` between two samples with a percentile-bootstrap 95%
/// interval from `resamples` resamples drawn with `seed`. `None` when a sample is empty or
/// the baseline statistic is zero.
pub fn bootstrap_change(
    baseline: &[f64],
    current: &[f64],
    stat: Statistic,
    resamples: usize,
    seed: u64,
) -> Option<Change> {
    let base = stat.of(&mut baseline.to_vec())?;
    let cur = stat.of(&mut current.to_vec())?;
    if base == 0.0 {
        return None;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut draw = |from: &[f64], into: &mut Vec<f64>| {
        into.clear();
        into.extend((0..from.len()).map(|_| from[rng.random_range(0..from.len())]));
    };
    let (mut b, mut c) = (
        Vec::with_capacity(baseline.len()),
        Vec::with_capacity(current.len()),
    );
    let mut ratios: Vec<f64> = Vec::with_capacity(resamples);
    for _ in 0..resamples {
        draw(baseline, &mut b);
        draw(current, &mut c);
        let (sb, sc) = (stat.of(&mut b)?, stat.of(&mut c)?);
        if sb != 0.0 {
            ratios.push(sc / sb - 1.0);
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

/// Two-sided p-value of the Mann-Whitney U test that `a` and `b` come from the same
/// distribution; `None` when a sample is empty or every value is tied.
pub fn mann_whitney_p(a: &[f64], b: &[f64]) -> Option<f64> {
    let (n1, n2) = (a.len() as f64, b.len() as f64);
    if a.is_empty() || b.is_empty() {
        return None;
    }
    let mut all: Vec<(f64, bool)> = a
        .iter()
        .map(|&v| (v, true))
        .chain(b.iter().map(|&v| (v, false)))
        .collect();
    all.sort_by(|x, y| x.0.total_cmp(&y.0));
    let n = all.len() as f64;
    let (mut rank_sum_a, mut tie_term) = (0.0, 0.0);
    let mut i = 0;
    while i < all.len() {
        let j = i + all[i..].iter().take_while(|x| x.0 == all[i].0).count();
        let average_rank = (i + 1 + j) as f64 / 2.0;
        let in_a = all[i..j].iter().filter(|x| x.1).count() as f64;
        rank_sum_a += average_rank * in_a;
        let t = (j - i) as f64;
        tie_term += t * t * t - t;
        i = j;
    }
    let u = rank_sum_a - n1 * (n1 + 1.0) / 2.0;
    let mean = n1 * n2 / 2.0;
    let variance = n1 * n2 / 12.0 * ((n + 1.0) - tie_term / (n * (n - 1.0)));
    if variance <= 0.0 {
        return None;
    }
    let z = ((u - mean).abs() - 0.5).max(0.0) / variance.sqrt();
    let normal = Normal::standard();
    Some((2.0 * (1.0 - normal.cdf(z))).min(1.0))
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
            &noisy(500, 20.0, 1),
            &noisy(500, 20.0, 2),
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
            &noisy(500, 20.0, 1),
            &noisy(500, 24.0, 2),
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
        let (a, b) = (noisy(100, 10.0, 1), noisy(100, 11.0, 2));
        let first = bootstrap_change(&a, &b, Statistic::Quantile(0.9), 500, 3);
        assert_eq!(
            first,
            bootstrap_change(&a, &b, Statistic::Quantile(0.9), 500, 3)
        );
        assert!(bootstrap_change(&a, &[], Statistic::Mean, 500, 3).is_none());
    }

    #[test]
    fn mann_whitney_matches_the_normal_approximation() {
        // U = 0 for two separated samples of 5: z = (12.5 - 0.5) / sqrt(25 * 11 / 12).
        let p = mann_whitney_p(&[1.0, 2.0, 3.0, 4.0, 5.0], &[6.0, 7.0, 8.0, 9.0, 10.0]).unwrap();
        assert!((p - 0.0122).abs() < 0.0005, "{p}");
        let same = mann_whitney_p(&noisy(200, 5.0, 1), &noisy(200, 5.0, 2)).unwrap();
        assert!(same > 0.05, "{same}");
        let shifted = mann_whitney_p(&noisy(200, 5.0, 1), &noisy(200, 5.5, 2)).unwrap();
        assert!(shifted < 1e-6, "{shifted}");
        assert!(mann_whitney_p(&[1.0, 1.0], &[1.0]).is_none(), "all tied");
    }
}
