//! Verdicts: how the change of one metric against its baseline is judged. A change counts
//! only when it is significant (its 95% interval excludes zero); "regressed" further needs
//! the whole interval past the fail threshold: 95% confidence that the metric got worse by
//! more than the threshold. Two runs on one machine drift apart by several percent as a
//! whole (measured A/A on the 2-core CI machine: up to +10.6% at ITL p90 with an interval
//! only ±1.5% wide, since within-run samples cannot see between-run drift), so a verdict
//! that fails on the estimate alone would fail builds on noise.

use std::collections::BTreeMap;
use std::fmt;

use super::stats::Change;
use crate::scenario::CompareThreshold;

/// The judgement of one metric (or point).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Verdict {
    /// The run is not one to judge: interrupted (partial) or without any point.
    IncompleteRun,
    /// The point could not be measured: its server failed to start or died.
    PointFailed,
    /// A threshold of the scenario (`thresholds`) is not met.
    SloBreach,
    /// Significantly worse by more than the fail threshold.
    Regressed,
    /// Significantly worse by more than the warn threshold.
    Warning,
    /// The baseline was measured on another GPU, server version or model.
    BaselineMismatch,
    /// The baseline has a point this run lacks.
    MissingPoint,
    /// Significantly better by more than the warn threshold.
    Improved,
    /// Past the warn threshold, but not significant.
    WithinNoise,
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
            Verdict::WithinNoise => "within noise",
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
            warn: 0.05,
            fail: 0.10,
        },
    }
}

/// Fewest samples from which quantile `q` is judged: ten beyond it (p50: 20, p90: 100,
/// p99: 1,000).
pub fn min_samples(q: f64) -> usize {
    (10.0 / (1.0 - q)).round() as usize
}

/// Judges a change. `significant` is the test's verdict (e.g. Mann-Whitney p < 0.05); the
/// interval must also exclude zero.
pub fn judge(change: &Change, worse: Worse, threshold: Threshold, significant: bool) -> Verdict {
    // Orient so that positive is worse.
    let (estimate, low, high) = match worse {
        Worse::Higher => (change.estimate, change.low, change.high),
        Worse::Lower => (-change.estimate, -change.high, -change.low),
    };
    let worse_beyond_noise = significant && low > 0.0;
    let better_beyond_noise = significant && high < 0.0;
    if worse_beyond_noise && low >= threshold.fail {
        Verdict::Regressed
    } else if worse_beyond_noise && estimate >= threshold.warn {
        Verdict::Warning
    } else if better_beyond_noise && estimate <= -threshold.warn {
        Verdict::Improved
    } else if estimate.abs() >= threshold.warn {
        Verdict::WithinNoise
    } else {
        Verdict::NoChange
    }
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
    fn a_clear_twenty_percent_slowdown_regresses() {
        assert_eq!(
            judge(&change(0.20, 0.17, 0.23), Worse::Higher, LATENCY, true),
            Verdict::Regressed
        );
    }

    #[test]
    fn three_percent_is_no_change_even_when_significant() {
        assert_eq!(
            judge(&change(0.03, 0.02, 0.04), Worse::Higher, LATENCY, true),
            Verdict::NoChange
        );
    }

    #[test]
    fn a_change_whose_interval_reaches_below_the_fail_threshold_only_warns() {
        // A/A drift measured on the CI machine: +10.6% [+9.1%, +11.5%].
        assert_eq!(
            judge(&change(0.106, 0.091, 0.115), Worse::Higher, LATENCY, true),
            Verdict::Warning
        );
    }

    #[test]
    fn a_large_but_uncertain_change_only_warns_or_is_noise() {
        // Significant, but the interval reaches down to +2%: a warning, not a failure.
        assert_eq!(
            judge(&change(0.12, 0.02, 0.22), Worse::Higher, LATENCY, true),
            Verdict::Warning
        );
        // The interval spans zero: noise.
        assert_eq!(
            judge(&change(0.12, -0.03, 0.25), Worse::Higher, LATENCY, true),
            Verdict::WithinNoise
        );
        // The test says not significant: noise whatever the interval.
        assert_eq!(
            judge(&change(0.20, 0.17, 0.23), Worse::Higher, LATENCY, false),
            Verdict::WithinNoise
        );
    }

    #[test]
    fn lower_is_worse_for_throughput() {
        let drop = change(-0.20, -0.23, -0.17);
        assert_eq!(
            judge(&drop, Worse::Lower, LATENCY, true),
            Verdict::Regressed
        );
        assert_eq!(
            judge(&drop, Worse::Higher, LATENCY, true),
            Verdict::Improved
        );
    }

    #[test]
    fn defaults_follow_the_metric() {
        assert_eq!(default_threshold("ttft_ms.p50"), LATENCY);
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
            Verdict::WithinNoise,
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
