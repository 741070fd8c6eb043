//! Drawing a token count from a [`LengthSpec`]: fixed, uniform, normal (rounded and cut to
//! its range) or one of an empirical list.

use rand::Rng;
use rand_distr::{Distribution as _, Normal};

use crate::scenario::{Distribution, LengthSpec};

/// One count drawn from `spec` with `rng`.
pub fn draw(spec: &LengthSpec, rng: &mut impl Rng) -> u32 {
    let (min, max) = spec.range();
    match spec {
        LengthSpec::Fixed(n) => *n,
        LengthSpec::Drawn(Distribution::Uniform { .. }) => rng.random_range(min..=max),
        LengthSpec::Drawn(Distribution::Normal { mean, stdev, .. }) => {
            let value = Normal::new(*mean, *stdev).map_or(*mean, |normal| normal.sample(rng));
            (value.round().max(0.0) as u32).clamp(min, max)
        }
        LengthSpec::Drawn(Distribution::Empirical { values }) => {
            values[rng.random_range(0..values.len())]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn draws(spec: &LengthSpec) -> Vec<u32> {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        (0..20_000).map(|_| draw(spec, &mut rng)).collect()
    }

    fn mean(values: &[u32]) -> f64 {
        values.iter().map(|&v| f64::from(v)).sum::<f64>() / values.len() as f64
    }

    #[test]
    fn draws_have_the_distributions_mean_and_range() {
        let uniform = LengthSpec::Drawn(Distribution::Uniform { min: 100, max: 300 });
        let u = draws(&uniform);
        assert!((mean(&u) - 200.0).abs() < 2.0 && u.iter().all(|v| (100..=300).contains(v)));
        let normal = LengthSpec::Drawn(Distribution::Normal {
            mean: 1000.0,
            stdev: 200.0,
            min: Some(900),
            max: Some(5000),
        });
        let n = draws(&normal);
        assert!(n.iter().all(|&v| v >= 900), "cut at min");
        let above: Vec<u32> = n.iter().copied().filter(|&v| v > 1000).collect();
        let share = above.len() as f64 / n.len() as f64;
        assert!((share - 0.5).abs() < 0.02, "half above the mean: {share}");
        let empirical = LengthSpec::Drawn(Distribution::Empirical {
            values: vec![10, 10, 40],
        });
        assert!((mean(&draws(&empirical)) - 20.0).abs() < 0.5);
        assert!(draws(&LengthSpec::Fixed(7)).iter().all(|&v| v == 7));
    }
}
