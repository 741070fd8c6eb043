//! How fast the simulated engine runs beyond its profile, to calibrate verdicts against
//! known noise: a speed factor drawn once per start (run-to-run drift), a factor drawn per
//! step (jitter), and a known slowdown. All zero by default: the profile's exact pace.

use std::time::Duration;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

/// The noise of an engine's pace, as fractions (0.03 = 3%).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct SpeedNoise {
    /// Standard deviation of the per-start speed factor.
    pub drift: f64,
    /// Standard deviation of the per-step factor.
    pub jitter: f64,
    /// Every step takes this much longer.
    pub slowdown: f64,
    /// Seed of the draws.
    pub seed: u64,
}

/// The pace of one start of the engine.
pub(super) struct Pace {
    factor: f64,
    jitter: f64,
    rng: ChaCha8Rng,
}

impl Pace {
    /// Draws this start's speed factor.
    pub fn start(noise: &SpeedNoise) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(noise.seed);
        let normal: f64 = StandardNormal.sample(&mut rng);
        Self {
            factor: (1.0 + noise.drift * normal).max(0.5) * (1.0 + noise.slowdown),
            jitter: noise.jitter,
            rng,
        }
    }

    /// How long a step that costs `duration` on the profile takes at this pace.
    pub fn scale(&mut self, duration: Duration) -> Duration {
        let step = if self.jitter > 0.0 {
            let normal: f64 = StandardNormal.sample(&mut self.rng);
            (1.0 + self.jitter * normal).max(0.1)
        } else {
            1.0
        };
        duration.mul_f64(self.factor * step)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_noise_the_pace_is_the_profiles() {
        let mut pace = Pace::start(&SpeedNoise::default());
        assert_eq!(
            pace.scale(Duration::from_millis(20)),
            Duration::from_millis(20)
        );
    }

    #[test]
    fn drift_is_per_start_jitter_per_step_and_a_slowdown_is_exact() {
        let slow = SpeedNoise {
            slowdown: 0.10,
            ..SpeedNoise::default()
        };
        let step = Pace::start(&slow).scale(Duration::from_millis(20));
        assert_eq!(step, Duration::from_millis(22));
        let drifting = |seed| SpeedNoise {
            drift: 0.03,
            jitter: 0.10,
            seed,
            ..SpeedNoise::default()
        };
        let mean_step = |seed| {
            let mut pace = Pace::start(&drifting(seed));
            let total: Duration = (0..10_000)
                .map(|_| pace.scale(Duration::from_millis(20)))
                .sum();
            total.as_secs_f64() / 10_000.0 * 1000.0
        };
        // Jitter averages out over steps; each start keeps its own speed.
        let starts: Vec<f64> = (0..20).map(mean_step).collect();
        let spread = starts.iter().map(|m| (m / 20.0 - 1.0).powi(2)).sum::<f64>() / 20.0;
        assert!((0.015..0.05).contains(&spread.sqrt()), "{starts:?}");
    }
}
