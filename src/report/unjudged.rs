//! Quantiles too few samples could judge (p99 from 16 requests), said in one line per
//! scenario instead of a row each: `p90 and p99 of TTFT, TPOT and E2E latency: fewer
//! samples than judging needs (100, 1,000), not judged`.

use std::collections::BTreeMap;

use super::format::latency_label;
use crate::compare::verdict::{min_samples, Verdict};
use crate::compare::Row;
use crate::result::{LATENCY_NAMES, QUANTILES};

/// Whether `row` is a latency quantile with too few samples to judge.
pub fn is_unjudged_quantile(row: &Row) -> bool {
    row.verdict == Verdict::InsufficientData && quantile_of(row).is_some()
}

/// The position in [`QUANTILES`] of a latency row's quantile, and its latency (`ttft`).
fn quantile_of(row: &Row) -> Option<(usize, &str)> {
    let (latency, stat) = row.metric.split_once('.')?;
    let position = QUANTILES.iter().position(|(name, _)| *name == stat)?;
    Some((position, latency.trim_end_matches("_ms")))
}

/// The one line for the unjudged quantiles of `rows`, if any: per quantile, the latencies
/// it was not judged for (in every point, or in some).
pub fn unjudged_line(rows: &[Row]) -> Option<String> {
    // The compared points (not the rows about a run or a point as a whole).
    let compared = rows.iter().filter(|r| !r.metric.is_empty());
    let mut points: Vec<&str> = compared.map(|r| r.point.as_str()).collect();
    points.sort_unstable();
    points.dedup();
    // Per quantile: latency → points where it was not judged.
    let mut unjudged: BTreeMap<usize, BTreeMap<&str, usize>> = BTreeMap::new();
    let insufficient = rows
        .iter()
        .filter(|r| r.verdict == Verdict::InsufficientData);
    for (position, latency) in insufficient.filter_map(quantile_of) {
        *unjudged
            .entry(position)
            .or_default()
            .entry(latency)
            .or_default() += 1;
    }
    if unjudged.is_empty() {
        return None;
    }
    // Quantiles not judged for the same latencies in the same points share a clause.
    let mut clauses: Vec<(String, Vec<usize>)> = Vec::new();
    for (&position, latencies) in &unjudged {
        let some = latencies.values().any(|&n| n < points.len());
        let scope = if some { " (in some points)" } else { "" };
        let subject = format!("{}{scope}", and_list(&in_report_order(latencies)));
        match clauses.iter_mut().find(|(s, _)| *s == subject) {
            Some((_, positions)) => positions.push(position),
            None => clauses.push((subject, vec![position])),
        }
    }
    let parts: Vec<String> = clauses
        .iter()
        .map(|(subject, positions)| {
            let names: Vec<&str> = positions.iter().map(|&p| QUANTILES[p].0).collect();
            let needed: Vec<String> = positions
                .iter()
                .map(|&p| thousands(min_samples(QUANTILES[p].1)))
                .collect();
            format!(
                "{} of {subject}: fewer than {} samples",
                names.join("/"),
                needed.join("/")
            )
        })
        .collect();
    Some(format!("{}; not judged", parts.join("; ")))
}

/// The latencies in report order, as labels.
fn in_report_order(latencies: &BTreeMap<&str, usize>) -> Vec<&'static str> {
    LATENCY_NAMES
        .iter()
        .filter(|l| latencies.contains_key(**l))
        .map(|l| latency_label(l))
        .collect()
}

/// `A`, `A and B`, `A, B and C`.
fn and_list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// `1,000`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(point: &str, metric: &str, verdict: Verdict) -> Row {
        Row {
            metric: metric.to_owned(),
            ..Row::of_point(point, verdict, "")
        }
    }

    #[test]
    fn unjudged_quantiles_are_one_line() {
        let rows = vec![
            row("a", "ttft_ms.p99", Verdict::InsufficientData),
            row("a", "e2e_ms.p99", Verdict::InsufficientData),
            row("b", "ttft_ms.p99", Verdict::InsufficientData),
            row("b", "e2e_ms.p99", Verdict::InsufficientData),
            row("a", "itl_ms.p90", Verdict::InsufficientData),
            row("b", "itl_ms.p90", Verdict::NoChange),
            row("a", "output_tokens_per_s", Verdict::InsufficientData),
        ];
        assert_eq!(
            unjudged_line(&rows).unwrap(),
            "p90 of ITL (in some points): fewer than 100 samples; \
             p99 of TTFT and E2E latency: fewer than 1,000 samples; not judged"
        );
        assert!(
            !is_unjudged_quantile(&rows[6]),
            "throughput is listed as before"
        );
        assert_eq!(unjudged_line(&rows[5..6]), None);
        let every: Vec<Row> = ["p50", "p90", "p99"]
            .iter()
            .map(|q| row("a", &format!("tpot_ms.{q}"), Verdict::InsufficientData))
            .collect();
        assert_eq!(
            unjudged_line(&every).unwrap(),
            "p50/p90/p99 of TPOT: fewer than 20/100/1,000 samples; not judged"
        );
    }
}
