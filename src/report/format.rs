//! Shared formatting of figures, comparison rows and counts for every renderer.

use std::collections::BTreeMap;

use crate::compare::stats::Change;
use crate::compare::verdict::Verdict;
use crate::compare::Row;

/// `1 point`, `2 points`: a count and its noun, agreeing in number.
pub fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// How many rows have `verdict`, in words that agree with the number (`1 warning`,
/// `2 missing points`, `3 regressed`).
fn verdict_count(verdict: Verdict, n: usize) -> String {
    let many = match verdict {
        Verdict::IncompleteRun => "incomplete runs",
        Verdict::PointFailed => "points failed",
        Verdict::SloBreach => "SLO breaches",
        Verdict::Warning => "warnings",
        Verdict::BaselineMismatch => "baseline mismatches",
        Verdict::MissingPoint => "missing points",
        Verdict::NewPoint => "new points",
        Verdict::SloMet => "SLOs met",
        // Adjectives and mass nouns: the same for one or many.
        Verdict::Regressed
        | Verdict::Improved
        | Verdict::Inconclusive
        | Verdict::InsufficientData
        | Verdict::NoChange => return format!("{n} {verdict}"),
    };
    count(n, &verdict.to_string(), many)
}

/// `2 regressed, 1 warning, 40 no change`: the rows counted by verdict, in verdict order.
pub fn verdict_counts(rows: &[Row]) -> String {
    let mut counts: BTreeMap<Verdict, usize> = BTreeMap::new();
    for row in rows {
        *counts.entry(row.verdict).or_default() += 1;
    }
    counts
        .iter()
        .map(|(&verdict, &n)| verdict_count(verdict, n))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A figure with as many decimals as its size warrants, as the templates' `num` filter.
pub fn shown(v: f64) -> String {
    match v.abs() {
        a if a >= 100.0 => format!("{v:.0}"),
        a if a >= 10.0 => format!("{v:.1}"),
        _ => format!("{v:.2}"),
    }
}

/// How a latency is named in reports (`ttft` → `TTFT`, `e2e` → `E2E latency`).
pub fn latency_label(name: &str) -> &'static str {
    match name.strip_suffix("_ms").unwrap_or(name) {
        "ttft" => "TTFT",
        "tpot" => "TPOT",
        "itl" => "ITL",
        "e2e" => "E2E latency",
        _ => "latency",
    }
}

/// A metric's value: rates as percentages, large figures without decimals.
pub fn value(metric: &str, v: Option<f64>) -> String {
    match v {
        None => String::new(),
        Some(v) if metric == "error_rate" || metric == "goodput" => format!("{:.2}%", v * 100.0),
        Some(v) if v >= 100.0 => format!("{v:.0}"),
        Some(v) => format!("{v:.2}"),
    }
}

/// The change with its interval: `+12.3% [+8.1%, +16.0%]`, or points for the error rate.
pub fn change(row: &Row) -> String {
    let Some(c) = row.change else {
        return String::new();
    };
    if row.metric == "error_rate" {
        let pp = |x: f64| format!("{:+.2}", x * 100.0);
        format!("{} pp [{}, {}]", pp(c.estimate), pp(c.low), pp(c.high))
    } else {
        percent(&c)
    }
}

/// A relative change with its interval: `-41.3% [-42.0%, -40.5%]`.
pub fn percent(change: &Change) -> String {
    let pct = |x: f64| format!("{:+.1}%", x * 100.0);
    format!(
        "{} [{}, {}]",
        pct(change.estimate),
        pct(change.low),
        pct(change.high)
    )
}

/// One line about a row, for annotations and messages.
pub fn describe(row: &Row) -> String {
    let mut text = format!("{} {}: {}", row.point, row.metric, row.verdict);
    let detail = [
        change(row),
        match (row.baseline, row.current) {
            (Some(b), Some(c)) => format!(
                "baseline {} → {}",
                value(&row.metric, Some(b)),
                value(&row.metric, Some(c))
            ),
            (None, Some(c)) => format!("value {}", value(&row.metric, Some(c))),
            _ => String::new(),
        },
        row.note.clone(),
    ];
    let detail: Vec<String> = detail.into_iter().filter(|d| !d.is_empty()).collect();
    if !detail.is_empty() {
        text.push_str(&format!(" ({})", detail.join("; ")));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(verdicts: &[Verdict]) -> Vec<Row> {
        verdicts
            .iter()
            .map(|&verdict| Row::of_point("p", verdict, ""))
            .collect()
    }

    #[test]
    fn counts_agree_in_number() {
        use Verdict::*;
        let text = verdict_counts(&rows(&[
            MissingPoint,
            MissingPoint,
            NewPoint,
            Warning,
            Warning,
            Regressed,
            Regressed,
            SloBreach,
            NoChange,
        ]));
        assert_eq!(
            text,
            "1 SLO breach, 2 regressed, 2 warnings, 2 missing points, 1 new point, 1 no change"
        );
        assert_eq!(
            verdict_counts(&rows(&[PointFailed, PointFailed])),
            "2 points failed"
        );
        assert_eq!(verdict_counts(&rows(&[PointFailed])), "1 point failed");
        assert_eq!(count(1, "point", "points"), "1 point");
        assert_eq!(count(0, "point", "points"), "0 points");
    }
}
