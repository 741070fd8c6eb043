//! A breakpoint run's watch over saturation. The ramp is cut into steps of load (one more
//! request in flight, or a twentieth of the peak rate); each step keeps the requests sent
//! while the load was in it (their TTFT and errors) and the output tokens that finished
//! then (the throughput the server gave). The server is past saturation when throughput
//! has stopped rising for [`PLATEAU_STEPS`] steps while TTFT p50 has at least doubled, or
//! when a step's requests fail more often than [`ERROR_LIMIT`]; the breaking load is the
//! knee, the first step within 10% of the plateau (the median throughput of the latest
//! steps, so that one noisy step does not move it).

use std::sync::Arc;
use std::time::Instant;

use super::RequestFigures;
use crate::client::Exchange;
use crate::result::{Breakpoint, BreakpointStep};
use crate::scenario::{Stages, Unit};

/// Steps of a rate ramp: its peak in this many.
const RATE_STEPS: f64 = 20.0;
/// Steps after the knee with no more throughput before the server is said to be saturated.
const PLATEAU_STEPS: usize = 3;
/// A step within this share of the plateau's throughput has reached it.
const KNEE_SHARE: f64 = 0.9;
/// TTFT p50 at least this many times its lowest: requests are queueing.
const TTFT_GROWTH: f64 = 2.0;
/// Share of a step's requests that may fail before the server is said to have broken.
pub const ERROR_LIMIT: f64 = 0.1;
/// Fewest requests of a step whose TTFT or error share is read.
const MIN_REQUESTS: u64 = 3;

#[derive(Debug, Default, Clone)]
struct Step {
    requests: u64,
    errors: u64,
    output_tokens: u64,
    ttft_ms: Vec<f64>,
}

/// Folds a breakpoint ramp's requests by step and says when the server broke.
#[derive(Debug)]
pub struct SaturationWatch {
    stages: Arc<Stages>,
    origin: Instant,
    /// Load per step, and the seconds the ramp spends on one.
    step: f64,
    step_s: f64,
    steps: Vec<Step>,
}

impl SaturationWatch {
    /// A watch over the ramp `stages`, timed from `origin` (the start of the window).
    pub fn new(stages: Arc<Stages>, origin: Instant) -> Self {
        let peak = stages.peak().max(f64::MIN_POSITIVE);
        let step = match stages.unit {
            Unit::Concurrency => 1.0,
            Unit::Rate => peak / RATE_STEPS,
        };
        let step_s = stages.total().as_secs_f64() * step / peak;
        let steps = vec![Step::default(); (peak / step).ceil() as usize + 2];
        Self {
            stages,
            origin,
            step,
            step_s,
            steps,
        }
    }

    /// The step the ramp is in at `at`.
    fn step_at(&self, at: Instant) -> usize {
        let level = self
            .stages
            .level_at(at.saturating_duration_since(self.origin));
        let step = match self.stages.unit {
            Unit::Concurrency => level.round(),
            Unit::Rate => (level / self.step).floor(),
        };
        (step.max(0.0) as usize).min(self.steps.len() - 1)
    }

    /// The load a step stands for.
    fn load(&self, step: usize) -> f64 {
        match self.stages.unit {
            Unit::Concurrency => step as f64,
            Unit::Rate => (step as f64 + 0.5) * self.step,
        }
    }

    /// Folds one finished request (`figures` when it succeeded).
    pub fn add(&mut self, ex: &Exchange, figures: Option<&RequestFigures>) {
        let (sent, ended) = (self.step_at(ex.sent), self.step_at(ex.end));
        let step = &mut self.steps[sent];
        step.requests += 1;
        match figures {
            Some(f) => {
                step.ttft_ms.push(f.ttft_us as f64 / 1000.0);
                self.steps[ended].output_tokens += u64::from(f.output_tokens);
            }
            None => step.errors += 1,
        }
    }

    /// The steps the ramp left at least a step before `now` (their requests are done).
    fn finished(&self, now: Instant) -> Vec<BreakpointStep> {
        let current = self.step_at(now);
        self.steps[..current.saturating_sub(1)]
            .iter()
            .enumerate()
            .map(|(i, s)| BreakpointStep {
                load: self.load(i),
                requests: s.requests,
                output_tokens_per_s: s.output_tokens as f64 / self.step_s,
                ttft_p50_ms: (s.requests >= MIN_REQUESTS)
                    .then(|| median(&s.ttft_ms))
                    .flatten(),
                error_share: if s.requests == 0 {
                    0.0
                } else {
                    s.errors as f64 / s.requests as f64
                },
            })
            .collect()
    }

    /// What the ramp found by `now`: `broke` when the server is past saturation.
    pub fn verdict(&self, now: Instant) -> Breakpoint {
        let unit = match self.stages.unit {
            Unit::Concurrency => "concurrency",
            Unit::Rate => "rate",
        };
        let steps = self.finished(now);
        let (broke, load, reason) = match broken(&steps, unit) {
            Some((load, reason)) => (true, load, reason),
            None => {
                let reached = self.load(self.step_at(now));
                (
                    false,
                    reached,
                    format!(
                        "held up to {unit} {}: throughput still rising or TTFT steady",
                        short(reached)
                    ),
                )
            }
        };
        Breakpoint {
            unit: unit.to_owned(),
            broke,
            load,
            reason,
            steps,
        }
    }
}

/// Where `steps` show the server broke, and why; `None` while it holds.
fn broken(steps: &[BreakpointStep], unit: &str) -> Option<(f64, String)> {
    if let Some(i) = steps
        .iter()
        .position(|s| s.requests >= MIN_REQUESTS && s.error_share > ERROR_LIMIT)
    {
        let last_good = if i == 0 { 0.0 } else { steps[i - 1].load };
        let reason = format!(
            "{:.0}% of the requests at {unit} {} failed (more than {:.0}%)",
            steps[i].error_share * 100.0,
            short(steps[i].load),
            ERROR_LIMIT * 100.0
        );
        return Some((last_good, reason));
    }
    let last = steps.last()?;
    // The plateau: the median throughput of the latest steps (robust to one noisy step).
    let recent: Vec<f64> = steps
        .iter()
        .rev()
        .take(PLATEAU_STEPS + 1)
        .map(|s| s.output_tokens_per_s)
        .collect();
    let plateau = median(&recent)?;
    let knee = steps
        .iter()
        .position(|s| plateau > 0.0 && s.output_tokens_per_s >= KNEE_SHARE * plateau)?;
    let flat = last.output_tokens_per_s <= steps[knee].output_tokens_per_s / KNEE_SHARE;
    let lowest = steps
        .iter()
        .filter_map(|s| s.ttft_p50_ms)
        .fold(f64::INFINITY, f64::min);
    let latest = last.ttft_p50_ms?;
    let queued = latest >= TTFT_GROWTH * lowest;
    (steps.len() - 1 - knee >= PLATEAU_STEPS && flat && queued).then(|| {
        let reason = format!(
            "throughput stopped rising at {unit} {} (about {plateau:.0} output tokens/s) while TTFT p50 grew from {lowest:.0} to {latest:.0} ms",
            short(steps[knee].load)
        );
        (steps[knee].load, reason)
    })
}

fn median(values: &[f64]) -> Option<f64> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted.get(sorted.len() / 2).copied()
}

/// A load without trailing zeros.
fn short(load: f64) -> String {
    let text = format!("{load:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(load: f64, tokens_per_s: f64, ttft: f64, errors: f64) -> BreakpointStep {
        BreakpointStep {
            load,
            requests: 10,
            output_tokens_per_s: tokens_per_s,
            ttft_p50_ms: Some(ttft),
            error_share: errors,
        }
    }

    #[test]
    fn the_knee_is_where_throughput_stops_while_ttft_grows() {
        let rising: Vec<_> = (1..=4)
            .map(|c| step(c as f64, 100.0 * c as f64, 40.0, 0.0))
            .collect();
        assert_eq!(broken(&rising, "concurrency"), None);
        let mut saturated = rising.clone();
        // A noisy plateau: one step well above the others.
        let plateau = [440.0, 401.0, 401.0];
        saturated
            .extend((5..=7).map(|c| step(c as f64, plateau[c - 5], 40.0 * (c - 3) as f64, 0.0)));
        let (load, reason) = broken(&saturated, "concurrency").unwrap();
        assert_eq!(load, 4.0);
        assert!(
            reason.contains("stopped rising at concurrency 4"),
            "{reason}"
        );
        let mut flat_ttft = rising;
        flat_ttft.extend((5..=7).map(|c| step(c as f64, 401.0, 45.0, 0.0)));
        assert_eq!(
            broken(&flat_ttft, "concurrency"),
            None,
            "a plateau without queueing"
        );
        let linear: Vec<_> = (1..=20)
            .map(|c| step(c as f64, 100.0 * c as f64, 10.0 * c as f64, 0.0))
            .collect();
        assert_eq!(broken(&linear, "concurrency"), None, "still rising");
    }

    #[test]
    fn errors_past_the_limit_break_at_the_step_before() {
        let steps = [step(1.0, 10.0, 5.0, 0.0), step(2.0, 20.0, 5.0, 0.5)];
        let (load, reason) = broken(&steps, "rate").unwrap();
        assert_eq!(load, 1.0);
        assert!(
            reason.starts_with("50% of the requests at rate 2 failed"),
            "{reason}"
        );
    }
}
