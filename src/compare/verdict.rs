//! Verdicts: how the change of one metric against its baseline is judged, from its estimate
//! and its 95% interval (which includes the run-to-run noise: see `noise`). "Regressed"
//! needs the estimate past the fail threshold and the whole interval above zero (worse
//! beyond noise); an interval that reaches past the fail threshold without either is
//! "inconclusive", with the number of trials that would settle it; more trials, not a
//! looser rule, is the answer to noise.

use std::collections::BTreeMap;
use std::fmt;

use super::stats::Change;
use crate::scenario::{CompareThreshold, MAX_TRIALS};

/// The judgement of one metric (or point).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Verdict {
    /// The run is not one to judge: interrupted (partial) or without any point.
    IncompleteRun,
    /// The point could not be measured: its server failed to start or died.
    PointFailed,
    /// A threshold of the scenario (`thresholds`) is not met.
    SloBreach,
    /// Worse beyond noise, by more than the fail threshold.
    Regressed,
    /// Worse beyond noise, by more than the warn threshold.
    Warning,
    /// The baseline was measured on another GPU, server version or model.
    BaselineMismatch,
    /// The baseline has a point this run lacks.
    MissingPoint,
    /// Better beyond noise by more than the warn threshold.
    Improved,
    /// Past the warn threshold by the estimate, and the interval reaches past the fail
    /// threshold, but it cannot be told from noise: more trials would settle it.
    Inconclusive,
    /// Too few samples for the statistic (e.g. p99 from fewer than 1,000): shown only.
    InsufficientData,
    /// This run has a point the baseline lacks.
    NewPoint,
    /// Within the warn threshold.
    NoChange,
    /// A threshold of the scenario is met.
    SloMet,
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Verdict::IncompleteRun => "incomplete run",
            Verdict::PointFailed => "point failed",
            Verdict::SloBreach => "SLO breach",
            Verdict::Regressed => "regressed",
            Verdict::Warning => "warning",
            Verdict::BaselineMismatch => "baseline mismatch",
            Verdict::MissingPoint => "missing point",
            Verdict::Improved => "improved",
            Verdict::Inconclusive => "inconclusive",
            Verdict::InsufficientData => "insufficient data",
            Verdict::NewPoint => "new point",
            Verdict::NoChange => "no change",
            Verdict::SloMet => "SLO met",
        })
    }
}

impl Verdict {
    /// Whether reports list the row; no change and a met SLO are only counted.
    pub fn is_listed(self) -> bool {
        !matches!(self, Verdict::NoChange | Verdict::SloMet)
    }
}

/// The direction in which a metric gets worse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Worse {
    /// Latencies, error rate.
    Higher,
    /// Throughput, goodput.
    Lower,
}

/// Warn and fail thresholds of one metric: fractions of the baseline for relative
/// changes (0.05 = 5%), or absolute differences for rates (0.005 = 0.5 points).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Threshold {
    pub warn: f64,
    pub fail: f64,
}

/// The threshold of `metric`: the scenario's override (in percent, or percentage points
/// for `error_rate`) or the default.
pub fn threshold_for(metric: &str, overrides: &BTreeMap<String, CompareThreshold>) -> Threshold {
    match overrides.get(metric) {
        Some(o) => Threshold {
            warn: o.warn_pct / 100.0,
            fail: o.fail_pct / 100.0,
        },
        None => default_threshold(metric),
    }
}

/// The default thresholds for a metric key such as `ttft_ms.p99` or `error_rate`.
pub fn default_threshold(metric: &str) -> Threshold {
    match metric {
        "error_rate" => Threshold {
            warn: 0.005,
            fail: 0.005,
        },
        m if m.ends_with(".p99") => Threshold {
            warn: 0.10,
            fail: 0.20,
        },
        _ => Threshold {
            warn: 0.03,
            fail: 0.05,
        },
    }
}

/// Fewest samples from which quantile `q` is judged: ten beyond it (p50: 20, p90: 100,
/// p99: 1,000).
pub fn min_samples(q: f64) -> usize {
    (10.0 / (1.0 - q)).round() as usize
}

/// `change` turned so that positive is worse: (estimate, low, high).
fn oriented(change: &Change, worse: Worse) -> (f64, f64, f64) {
    match worse {
        Worse::Higher => (change.estimate, change.low, change.high),
        Worse::Lower => (-change.estimate, -change.high, -change.low),
    }
}

/// Judges a change by its estimate and 95% interval.
pub fn judge(change: &Change, worse: Worse, threshold: Threshold) -> Verdict {
    let (estimate, low, high) = oriented(change, worse);
    if low > 0.0 && estimate >= threshold.fail {
        Verdict::Regressed
    } else if low > 0.0 && estimate >= threshold.warn {
        Verdict::Warning
    } else if high < 0.0 && estimate <= -threshold.warn {
        Verdict::Improved
    } else if estimate >= threshold.warn && high >= threshold.fail {
        Verdict::Inconclusive
    } else {
        Verdict::NoChange
    }
}

/// Trials a side that would settle an inconclusive change measured with `trials` a side,
/// if the estimate stays: its interval narrows as one over the root of the trials, until
/// it clears zero (an estimate past the fail threshold) or the fail threshold (one below
/// it). `None` past [`MAX_TRIALS`].
pub fn trials_to_settle(
    change: &Change,
    worse: Worse,
    threshold: Threshold,
    trials: u32,
) -> Option<u32> {
    let (estimate, low, high) = oriented(change, worse);
    let (half_width, room) = if estimate >= threshold.fail {
        (estimate - low, estimate)
    } else {
        (high - estimate, threshold.fail - estimate)
    };
    if room <= 0.0 {
        return None;
    }
    let needed = (f64::from(trials.max(1)) * (half_width / room).powi(2)).ceil();
    (needed <= f64::from(MAX_TRIALS)).then_some((needed as u32).max(trials + 1))
}

/// Which verdicts fail a check (`--fail-on`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FailOn {
    /// A regression, a failed point or an SLO breach.
    #[default]
    Regression,
    /// Also a warning.
    Warning,
    /// Nothing: report only.
    Never,
}

/// What fails a check: `--fail-on`, `--strict` and `--require-baseline`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Policy {
    pub fail_on: FailOn,
    /// A baseline measured with another server version or model fails.
    pub strict: bool,
    /// A point (or a whole scenario) without a baseline fails.
    pub require_baseline: bool,
}

impl Policy {
    /// Whether `verdict` fails the check.
    pub fn fails(self, verdict: Verdict) -> bool {
        match (verdict, self.fail_on) {
            (_, FailOn::Never) => false,
            (
                Verdict::IncompleteRun
                | Verdict::PointFailed
                | Verdict::Regressed
                | Verdict::SloBreach,
                _,
            ) => true,
            (Verdict::Warning, FailOn::Warning) => true,
            (Verdict::BaselineMismatch, _) => self.strict,
            (Verdict::NewPoint, _) => self.require_baseline,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(estimate: f64, low: f64, high: f64) -> Change {
        Change {
            estimate,
            low,
            high,
        }
    }

    const LATENCY: Threshold = Threshold {
        warn: 0.05,
        fail: 0.10,
    };

    #[test]
    fn a_slowdown_past_the_fail_threshold_and_beyond_noise_regresses() {
        let judged = |e, l, h| judge(&change(e, l, h), Worse::Higher, LATENCY);
        assert_eq!(judged(0.20, 0.17, 0.23), Verdict::Regressed);
        // The estimate decides, not the whole interval: +10.6% [+2%, +19%] regressed.
        assert_eq!(judged(0.106, 0.02, 0.19), Verdict::Regressed);
        assert_eq!(judged(0.07, 0.01, 0.09), Verdict::Warning);
        assert_eq!(judged(0.03, 0.02, 0.04), Verdict::NoChange);
    }

    #[test]
    fn a_change_that_cannot_be_told_from_noise_is_inconclusive() {
        let judged = |e, l, h| judge(&change(e, l, h), Worse::Higher, LATENCY);
        // Past the fail threshold, but the interval reaches below zero.
        assert_eq!(judged(0.12, -0.03, 0.27), Verdict::Inconclusive);
        // Past the warn threshold, and the interval reaches the fail threshold.
        assert_eq!(judged(0.06, -0.02, 0.14), Verdict::Inconclusive);
        // Past the warn threshold, but it cannot be a regression: no change.
        assert_eq!(judged(0.06, -0.02, 0.09), Verdict::NoChange);
        // A small estimate in a wide interval is no change either.
        assert_eq!(judged(0.01, -0.15, 0.17), Verdict::NoChange);
    }

    #[test]
    fn more_trials_settle_an_inconclusive_change() {
        let settle = |e, l, h, n| trials_to_settle(&change(e, l, h), Worse::Higher, LATENCY, n);
        // +12% [-3%, +27%] with one trial: the lower half (15 points) must shrink below
        // 12 points: (15 / 12)² = 1.6, so 2 trials a side.
        assert_eq!(settle(0.12, -0.03, 0.27, 1), Some(2));
        // +6% [-2%, +14%] with 3 trials: 8 points over 4 of room: 12 trials.
        assert_eq!(settle(0.06, -0.02, 0.14, 3), Some(12));
        assert_eq!(settle(0.0999, -0.3, 0.5, 1), None, "past 100 trials");
    }

    #[test]
    fn lower_is_worse_for_throughput() {
        let drop = change(-0.20, -0.23, -0.17);
        assert_eq!(judge(&drop, Worse::Lower, LATENCY), Verdict::Regressed);
        assert_eq!(judge(&drop, Worse::Higher, LATENCY), Verdict::Improved);
    }

    #[test]
    fn defaults_follow_the_metric() {
        assert_eq!(
            default_threshold("ttft_ms.p50"),
            Threshold {
                warn: 0.03,
                fail: 0.05
            }
        );
        assert_eq!(
            default_threshold("itl_ms.p99"),
            Threshold {
                warn: 0.10,
                fail: 0.20
            }
        );
        assert_eq!(default_threshold("error_rate").fail, 0.005);
        assert_eq!(
            (min_samples(0.5), min_samples(0.9), min_samples(0.99)),
            (20, 100, 1000)
        );
    }

    #[test]
    fn fail_on_policy_strict_mismatch_and_required_baselines() {
        let policy = |fail_on, strict, require_baseline| Policy {
            fail_on,
            strict,
            require_baseline,
        };
        let default = Policy::default();
        assert!(default.fails(Verdict::Regressed));
        assert!(!default.fails(Verdict::Warning));
        assert!(policy(FailOn::Warning, false, false).fails(Verdict::Warning));
        assert!(!policy(FailOn::Never, true, true).fails(Verdict::Regressed));
        assert!(!default.fails(Verdict::BaselineMismatch));
        assert!(policy(FailOn::Regression, true, false).fails(Verdict::BaselineMismatch));
        assert!(!default.fails(Verdict::NewPoint));
        assert!(policy(FailOn::Regression, false, true).fails(Verdict::NewPoint));
        for shown_only in [
            Verdict::InsufficientData,
            Verdict::NewPoint,
            Verdict::MissingPoint,
            Verdict::Inconclusive,
        ] {
            assert!(
                !policy(FailOn::Warning, false, false).fails(shown_only),
                "{shown_only}"
            );
        }
    }

    #[test]
    fn regressions_sort_first() {
        let mut v = [
            Verdict::NoChange,
            Verdict::Improved,
            Verdict::Regressed,
            Verdict::Warning,
        ];
        v.sort();
        assert_eq!(v[0], Verdict::Regressed);
    }
}
