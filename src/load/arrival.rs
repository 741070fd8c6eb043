//! Open-loop inter-arrival times: constant, Poisson (exponential gaps) or gamma with shape
//! `burstiness` (mean gap 1/rate whatever the shape), drawn from a seeded generator so a
//! schedule is reproducible.

use std::time::Duration;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Exp, Gamma};

use crate::scenario::Arrival;

enum Gaps {
    Constant(f64),
    Exponential(Exp<f64>),
    Gamma(Gamma<f64>),
}

/// A reproducible sequence of gaps between request starts.
pub struct Arrivals {
    rng: ChaCha8Rng,
    gaps: Gaps,
}

impl Arrivals {
    /// `rate` in requests per second (> 0), `burstiness` the gamma shape (> 0).
    pub fn new(rate: f64, arrival: Arrival, burstiness: f64, seed: u64) -> Self {
        let gaps = match arrival {
            Arrival::Constant => Gaps::Constant(1.0 / rate),
            Arrival::Poisson => Gaps::Exponential(Exp::new(rate).expect("validated: rate > 0")),
            Arrival::Gamma => Gaps::Gamma(
                Gamma::new(burstiness, 1.0 / (rate * burstiness))
                    .expect("validated: rate and burstiness > 0"),
            ),
        };
        Self {
            rng: ChaCha8Rng::seed_from_u64(seed),
            gaps,
        }
    }

    /// The gap before the next request.
    pub fn next_gap(&mut self) -> Duration {
        let seconds = match &self.gaps {
            Gaps::Constant(gap) => *gap,
            Gaps::Exponential(d) => d.sample(&mut self.rng),
            Gaps::Gamma(d) => d.sample(&mut self.rng),
        };
        Duration::from_secs_f64(seconds)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mean_and_cv(arrival: Arrival, burstiness: f64) -> (f64, f64) {
        let mut a = Arrivals::new(4.0, arrival, burstiness, 1);
        let gaps: Vec<f64> = (0..20_000).map(|_| a.next_gap().as_secs_f64()).collect();
        let mean = gaps.iter().sum::<f64>() / gaps.len() as f64;
        let var = gaps.iter().map(|g| (g - mean).powi(2)).sum::<f64>() / gaps.len() as f64;
        (mean, var.sqrt() / mean)
    }

    #[test]
    fn every_distribution_keeps_the_rate() {
        for (arrival, b) in [
            (Arrival::Constant, 1.0),
            (Arrival::Poisson, 1.0),
            (Arrival::Gamma, 0.5),
        ] {
            let (mean, _) = mean_and_cv(arrival, b);
            assert!((mean - 0.25).abs() < 0.01, "{arrival:?}: {mean}");
        }
    }

    #[test]
    fn burstiness_sets_the_spread() {
        assert!(mean_and_cv(Arrival::Constant, 1.0).1 < 1e-9);
        assert!((mean_and_cv(Arrival::Poisson, 1.0).1 - 1.0).abs() < 0.05);
        // Gamma CV is 1/sqrt(shape).
        assert!((mean_and_cv(Arrival::Gamma, 0.25).1 - 2.0).abs() < 0.15);
    }

    #[test]
    fn schedules_are_reproducible() {
        let a: Vec<_> = (0..5)
            .scan(Arrivals::new(2.0, Arrival::Poisson, 1.0, 9), |s, _| {
                Some(s.next_gap())
            })
            .collect();
        let b: Vec<_> = (0..5)
            .scan(Arrivals::new(2.0, Arrival::Poisson, 1.0, 9), |s, _| {
                Some(s.next_gap())
            })
            .collect();
        assert_eq!(a, b);
    }
}
