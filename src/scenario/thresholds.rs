//! The threshold syntax of scenario files: SLO thresholds in k6's style, independent of any
//! baseline (`"ttft_ms": ["p(95) < 2000"]`, `"error_rate": ["rate < 0.01"]`,
//! `"goodput": ["ratio > 0.95"]`, or the named preset `"sla"`: the seed's TTFT p95 < 2 s;
//! E2E p50 < 1.5 s, p95 < 3 s, p99 < 5 s; errors < 1%), and the metrics that `compare`
//! thresholds may name. Expressions are parsed when a scenario is validated; `compare`
//! checks them against every point.

use std::fmt;

use super::validate::FieldError;
use super::{ThresholdPreset, ThresholdSpec};

/// An expression that is not `STAT OP NUMBER` for its metric.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("expected `STAT OP NUMBER` such as `p(95) < 2000` (latencies: p(50|90|95|99), avg, min, max, med), `rate < 0.01` (error_rate), `ratio > 0.95` (goodput) or `value > 100` (output_tokens_per_s, requests_per_s); got `{expression}`")]
pub struct ThresholdError {
    pub expression: String,
}

/// A statistic an expression reads.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Stat {
    /// `p(N)` of a latency, N in 50, 90, 95, 99.
    Percentile(u8),
    Avg,
    Min,
    Max,
    Med,
    /// `rate` of `error_rate`.
    Rate,
    /// `ratio` of `goodput`.
    Ratio,
    /// `value` of `output_tokens_per_s` or `requests_per_s`.
    Value,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    Lt,
    Le,
    Gt,
    Ge,
}

/// One parsed threshold: `metric: stat op limit`.
#[derive(Debug, Clone, PartialEq)]
pub struct Threshold {
    pub metric: String,
    pub expression: String,
    pub stat: Stat,
    op: Op,
    limit: f64,
    /// Stops the run when it fails, checked while a point runs after this delay
    /// (`abort_on_fail`); `None`: checked on the finished point only.
    pub abort_after: Option<std::time::Duration>,
}

/// Metrics that take latency statistics.
const LATENCY_METRICS: [&str; 4] = ["ttft_ms", "tpot_ms", "itl_ms", "e2e_ms"];

/// The seed's SLA as thresholds.
pub const SLA_PRESET: [(&str, &str); 5] = [
    ("ttft_ms", "p(95) < 2000"),
    ("e2e_ms", "p(50) < 1500"),
    ("e2e_ms", "p(95) < 3000"),
    ("e2e_ms", "p(99) < 5000"),
    ("error_rate", "rate < 0.01"),
];

impl Threshold {
    /// Parses `expression` for `metric`; the error says what was expected.
    pub fn parse(metric: &str, expression: &str) -> Result<Self, ThresholdError> {
        let expected = || ThresholdError {
            expression: expression.to_owned(),
        };
        let text = expression.trim();
        let (at, op_len, op) = [("<=", Op::Le), (">=", Op::Ge), ("<", Op::Lt), (">", Op::Gt)]
            .iter()
            .find_map(|(s, op)| text.find(s).map(|i| (i, s.len(), *op)))
            .ok_or_else(expected)?;
        let lhs = text[..at].trim();
        let limit: f64 = text[at + op_len..].trim().parse().map_err(|_| expected())?;
        let stat = match lhs {
            "avg" => Stat::Avg,
            "min" => Stat::Min,
            "max" => Stat::Max,
            "med" => Stat::Med,
            "rate" => Stat::Rate,
            "ratio" => Stat::Ratio,
            "value" => Stat::Value,
            p => match p
                .strip_prefix("p(")
                .and_then(|r| r.strip_suffix(')'))
                .map(str::trim)
            {
                Some(n @ ("50" | "90" | "95" | "99")) => {
                    Stat::Percentile(n.parse().expect("listed"))
                }
                _ => return Err(expected()),
            },
        };
        let fits = match stat {
            Stat::Rate => metric == "error_rate",
            Stat::Ratio => metric == "goodput",
            Stat::Value => matches!(metric, "output_tokens_per_s" | "requests_per_s"),
            _ => LATENCY_METRICS.contains(&metric),
        };
        if !fits || !limit.is_finite() {
            return Err(expected());
        }
        Ok(Self {
            metric: metric.to_owned(),
            expression: text.to_owned(),
            stat,
            op,
            limit,
            abort_after: None,
        })
    }

    /// Whether `value` meets the threshold.
    pub fn holds(&self, value: f64) -> bool {
        match self.op {
            Op::Lt => value < self.limit,
            Op::Le => value <= self.limit,
            Op::Gt => value > self.limit,
            Op::Ge => value >= self.limit,
        }
    }
}

impl fmt::Display for Threshold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.metric, self.expression)
    }
}

/// The thresholds of a scenario; on a malformed one, its field (`thresholds.ttft_ms[0]`)
/// and what was expected.
pub fn thresholds_of(spec: &ThresholdSpec) -> Result<Vec<Threshold>, FieldError> {
    match spec {
        ThresholdSpec::Preset(ThresholdPreset::Sla) => Ok(SLA_PRESET
            .iter()
            .map(|(metric, expression)| {
                Threshold::parse(metric, expression).expect("the preset parses")
            })
            .collect()),
        ThresholdSpec::Expressions(map) => {
            let mut all = Vec::new();
            for (metric, entries) in map {
                for (i, entry) in entries.iter().enumerate() {
                    let field = format!("thresholds.{metric}[{i}]");
                    let (expression, abort) = entry.parts();
                    let mut parsed = Threshold::parse(metric, expression)
                        .map_err(|e| FieldError::new(&field, e.to_string()))?;
                    parsed.abort_after = match abort {
                        Some(s) if s.is_finite() && s >= 0.0 => {
                            Some(std::time::Duration::from_secs_f64(s))
                        }
                        Some(_) => {
                            let message = "delay_abort_eval_s: must be 0 or more seconds";
                            return Err(FieldError::new(&field, message));
                        }
                        None => None,
                    };
                    all.push(parsed);
                }
            }
            Ok(all)
        }
    }
}

/// Whether `metric` is one `compare` judges (`ttft_ms.p50`, `output_tokens_per_s`, ...).
pub fn is_compared_metric(metric: &str) -> bool {
    match metric.split_once('.') {
        Some((latency, quantile)) => {
            LATENCY_METRICS.contains(&latency) && ["p50", "p90", "p99"].contains(&quantile)
        }
        None => ["output_tokens_per_s", "goodput", "error_rate"].contains(&metric),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn k6_expressions_parse_and_hold() {
        let t = Threshold::parse("ttft_ms", "p(95) < 2000").unwrap();
        assert!(t.holds(1999.0) && !t.holds(2000.0));
        let t = Threshold::parse("goodput", "ratio>=0.95").unwrap();
        assert!(t.holds(0.95) && !t.holds(0.94));
        assert!(Threshold::parse("error_rate", "rate < 0.01").is_ok());
        assert!(Threshold::parse("e2e_ms", "avg <= 500").is_ok());
        assert!(Threshold::parse("output_tokens_per_s", "value > 100").is_ok());
        for (&(metric, expression), _) in SLA_PRESET.iter().zip(0..) {
            assert!(
                Threshold::parse(metric, expression).is_ok(),
                "{metric}: {expression}"
            );
        }
    }

    #[test]
    fn malformed_expressions_say_what_was_expected() {
        for (metric, bad) in [
            ("ttft_ms", "p95 < 2000"),
            ("ttft_ms", "p(97) < 2000"),
            ("ttft_ms", "p(95) = 2000"),
            ("ttft_ms", "p(95) < fast"),
            ("ttft_ms", "rate < 0.1"),
            ("error_rate", "p(95) < 1"),
            ("goodput", "value > 1"),
        ] {
            let e = Threshold::parse(metric, bad).unwrap_err().to_string();
            assert!(
                e.contains("expected `STAT OP NUMBER`") && e.contains(bad),
                "{bad}: {e}"
            );
        }
    }
}
