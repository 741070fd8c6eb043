//! The terminal table of a comparison: what needs attention first (regressions, warnings,
//! mismatches, missing points), the unchanged metrics counted in one line, and a verdict.

use super::format::{change, table, value};
use crate::compare::verdict::Verdict;
use crate::compare::Comparison;

/// The table of one scenario's comparison followed by a one-line summary.
pub fn compare_table(comparison: &Comparison) -> String {
    let header = [
        "point",
        "metric",
        "baseline",
        "current",
        "change [95% CI]",
        "p",
        "verdict",
        "note",
    ];
    let mut table = table(&header, 2..6);
    for row in comparison.rows.iter().filter(|r| r.verdict.is_listed()) {
        table.add_row([
            row.point.clone(),
            row.metric.clone(),
            value(&row.metric, row.baseline),
            value(&row.metric, row.current),
            change(row),
            row.p_value.map(|p| format!("{p:.3}")).unwrap_or_default(),
            row.verdict.to_string(),
            row.note.clone(),
        ]);
    }
    let unchanged = comparison
        .rows
        .iter()
        .filter(|r| !r.verdict.is_listed())
        .count();
    let mut counts: Vec<(Verdict, usize)> = Vec::new();
    for row in &comparison.rows {
        match counts.iter_mut().find(|(v, _)| *v == row.verdict) {
            Some((_, n)) => *n += 1,
            None => counts.push((row.verdict, 1)),
        }
    }
    let summary: Vec<String> = counts.iter().map(|(v, n)| format!("{n} {v}")).collect();
    format!(
        "{}: {}\n{table}\n{unchanged} rows with no change or a met SLO are not listed\n",
        comparison.scenario,
        summary.join(", ")
    )
}
