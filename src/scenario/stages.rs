//! Staged load (k6's `ramping-vus` and `ramping-arrival-rate`): stages that each move the
//! level (requests in flight, or requests per second) linearly from where the previous one
//! ended (zero at the start) to their target over their duration, and the named shapes of
//! the k6 guide as stages around a target level: `smoke` (one request at a time), `load`
//! (ramp up, hold, ramp down), `stress` (the same at twice the target), `spike` (the
//! target, four times it for a fifth of the run, the target again), `soak` (a long hold)
//! and `breakpoint` (a ramp from zero to ten times the target).

use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A named load shape, around a target level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Shape {
    Smoke,
    Load,
    Stress,
    Spike,
    Soak,
    Breakpoint,
}

impl Shape {
    pub fn name(self) -> &'static str {
        match self {
            Shape::Smoke => "smoke",
            Shape::Load => "load",
            Shape::Stress => "stress",
            Shape::Spike => "spike",
            Shape::Soak => "soak",
            Shape::Breakpoint => "breakpoint",
        }
    }

    /// The shape's stages for `target` over `total`: (share of the time, multiple of the
    /// target) pairs; smoke holds one unit whatever the target.
    fn steps(self) -> &'static [(f64, f64)] {
        match self {
            Shape::Smoke => &[(0.0, 1.0), (1.0, 1.0)],
            Shape::Load => &[(0.1, 1.0), (0.8, 1.0), (0.1, 0.0)],
            Shape::Stress => &[(0.1, 2.0), (0.8, 2.0), (0.1, 0.0)],
            Shape::Spike => &[
                (0.0, 1.0),
                (0.4, 1.0),
                (0.0, 4.0),
                (0.2, 4.0),
                (0.0, 1.0),
                (0.4, 1.0),
            ],
            Shape::Soak => &[(0.05, 1.0), (0.9, 1.0), (0.05, 0.0)],
            Shape::Breakpoint => &[(1.0, 10.0)],
        }
    }
}

/// What a stage's level counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Requests in flight (closed loop).
    Concurrency,
    /// Requests started per second (open loop).
    Rate,
}

/// The stages of one point: each (duration, target level).
#[derive(Debug, Clone, PartialEq)]
pub struct Stages {
    /// The shape's name, or `custom`.
    pub name: String,
    pub unit: Unit,
    pub steps: Vec<(Duration, f64)>,
}

impl Stages {
    /// The stages of a named shape around `target` over `total`.
    pub fn of_shape(shape: Shape, unit: Unit, target: f64, total: Duration) -> Self {
        let steps = shape
            .steps()
            .iter()
            .map(|&(share, times)| {
                let level = if shape == Shape::Smoke {
                    1.0
                } else {
                    times * target
                };
                (total.mul_f64(share), level)
            })
            .collect();
        Self {
            name: shape.name().to_owned(),
            unit,
            steps,
        }
    }

    /// How long the stages last.
    pub fn total(&self) -> Duration {
        self.steps.iter().map(|s| s.0).sum()
    }

    /// The highest level of any stage.
    pub fn peak(&self) -> f64 {
        self.steps.iter().map(|s| s.1).fold(0.0, f64::max)
    }

    /// The stage that `at` falls in (the last one at or past the end), with its start and
    /// the level it starts from.
    pub fn stage_at(&self, at: Duration) -> (usize, Duration, f64) {
        let (mut start, mut from) = (Duration::ZERO, 0.0);
        for (i, &(length, target)) in self.steps.iter().enumerate() {
            if at < start + length || i + 1 == self.steps.len() {
                return (i, start, from);
            }
            start += length;
            from = target;
        }
        (0, Duration::ZERO, 0.0)
    }

    /// The level at `at` from the start: linear within its stage.
    pub fn level_at(&self, at: Duration) -> f64 {
        let (i, start, from) = self.stage_at(at);
        let Some(&(length, target)) = self.steps.get(i) else {
            return 0.0;
        };
        if length.is_zero() || at >= start + length {
            return target;
        }
        let done = (at - start).as_secs_f64() / length.as_secs_f64();
        from + (target - from) * done
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_ramp_between_targets_and_jump_on_empty_stages() {
        let s = |secs| Duration::from_secs(secs);
        let stages = Stages {
            name: "custom".into(),
            unit: Unit::Concurrency,
            steps: vec![(s(10), 4.0), (s(0), 8.0), (s(10), 8.0)],
        };
        assert_eq!(stages.total(), s(20));
        assert_eq!(stages.level_at(s(0)), 0.0);
        assert_eq!(stages.level_at(s(5)), 2.0);
        assert_eq!(stages.level_at(s(10)), 8.0);
        assert_eq!(stages.level_at(s(15)), 8.0);
        assert_eq!(stages.stage_at(s(15)).0, 2);
        assert_eq!(stages.peak(), 8.0);
    }

    #[test]
    fn a_spike_holds_the_target_around_four_times_it() {
        let spike = Stages::of_shape(
            Shape::Spike,
            Unit::Concurrency,
            2.0,
            Duration::from_secs(50),
        );
        let at = |secs: f64| spike.level_at(Duration::from_secs_f64(secs));
        assert_eq!(
            (at(1.0), at(19.0), at(21.0), at(29.0), at(31.0), at(49.0)),
            (2.0, 2.0, 8.0, 8.0, 2.0, 2.0)
        );
        let smoke = Stages::of_shape(Shape::Smoke, Unit::Rate, 9.0, Duration::from_secs(10));
        assert_eq!(smoke.level_at(Duration::from_secs(5)), 1.0);
    }
}
