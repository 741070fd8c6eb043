//! The terminal table of a comparison: what needs attention first (regressions, warnings,
//! mismatches, missing points), the unchanged metrics counted in one line, and a verdict.

use super::table;
use crate::compare::verdict::{Policy, Verdict};
use crate::compare::{Comparison, Row};
use crate::report::format::{change, value, verdict_counts};

/// The table of one scenario's comparison followed by a one-line summary.
/// `policy` says which rows fail: a new point of a scenario without a baseline is listed
/// only then.
pub fn compare_table(comparison: &Comparison, policy: Policy) -> String {
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
    // A scenario without a baseline says so once, after the table, not a row per point.
    let listed = |r: &&Row| {
        r.verdict.is_listed()
            && (policy.fails(r.verdict)
                || !(comparison.new_scenario && r.verdict == Verdict::NewPoint))
    };
    for row in comparison.rows.iter().filter(listed) {
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
        0 => String::new(),
        1 => "1 row with no change or a met SLO is not listed\n".to_owned(),
        n => format!("{n} rows with no change or a met SLO are not listed\n"),
    };
    let counts = verdict_counts(&comparison.rows);
    if table.row_count() == 0 {
        return format!("{}: {counts}\n{unlisted}", comparison.scenario);
    }
    format!("{}: {counts}\n{table}\n{unlisted}", comparison.scenario)
}
