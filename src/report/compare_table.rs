//! The terminal table of a comparison: what needs attention first (regressions, warnings,
//! mismatches, missing points), the unchanged metrics counted in one line, and a verdict.

use comfy_table::{presets::UTF8_BORDERS_ONLY, CellAlignment, Table};

use super::format::{change, value};
use crate::compare::verdict::Verdict;
use crate::compare::Comparison;

/// The table of one scenario's comparison followed by a one-line summary.
pub fn compare_table(comparison: &Comparison) -> String {
    let mut table = Table::new();
    table.load_preset(UTF8_BORDERS_ONLY).set_header([
        "point",
        "metric",
        "baseline",
        "current",
        "change [95% CI]",
        "p",
        "verdict",
        "note",
    ]);
    let quiet = |v: Verdict| matches!(v, Verdict::NoChange | Verdict::SloMet);
    for row in comparison.rows.iter().filter(|r| !quiet(r.verdict)) {
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
    for i in 2..6 {
        if let Some(column) = table.column_mut(i) {
            column.set_cell_alignment(CellAlignment::Right);
        }
    }
    let unchanged = comparison.rows.iter().filter(|r| quiet(r.verdict)).count();
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
