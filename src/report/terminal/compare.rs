//! The terminal table of a comparison: what needs attention first (regressions, warnings,
//! mismatches, missing points), the unchanged metrics counted in one line, and a verdict.

use super::table;
use crate::compare::Comparison;
use crate::report::format::{change, value, verdict_counts};

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
    let unlisted = match unchanged {
        1 => "1 row with no change or a met SLO is not listed".to_owned(),
        n => format!("{n} rows with no change or a met SLO are not listed"),
    };
    format!(
        "{}: {}\n{table}\n{unlisted}\n",
        comparison.scenario,
        verdict_counts(&comparison.rows)
    )
}
