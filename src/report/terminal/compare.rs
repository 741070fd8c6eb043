//! The terminal table of a comparison, within 120 columns: what needs attention first
//! (regressions, warnings, inconclusive figures, mismatches, missing points) with point ids
//! cut to the parameters that vary, then one line for the quantiles too few samples could
//! judge and one counting the unchanged rows.

use std::collections::{BTreeMap, BTreeSet};

use comfy_table::{ColumnConstraint, ContentArrangement};

use super::table;
use crate::compare::noise::Noise;
use crate::compare::verdict::{Policy, Verdict};
use crate::compare::{Comparison, Row};
use crate::report::format::{change, value, verdict_counts};
use crate::report::unjudged::{is_unjudged_quantile, unjudged_line};

/// The widest the table is drawn; long cells wrap.
const WIDTH: u16 = 120;

/// The table of one scenario's comparison followed by one-line summaries. `policy` says
/// which rows fail: a new point of a scenario without a baseline is listed only then.
pub fn compare_table(comparison: &Comparison, policy: Policy) -> String {
    let header = [
        "point",
        "metric",
        "baseline",
        "current",
        "change [95% CI]",
        "noise",
        "verdict",
        "note",
    ];
    let mut table = table(&header, 2..6);
    table
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(WIDTH);
    // Only the note wraps; one space between columns.
    for (i, column) in table.column_iter_mut().enumerate() {
        column.set_padding((u16::from(i == 0), 1));
        if i + 1 < header.len() {
            column.set_constraint(ColumnConstraint::ContentWidth);
        }
    }
    // A scenario without a baseline says so once, after the table, not a row per point.
    let listed = |r: &&Row| {
        r.verdict.is_listed()
            && !is_unjudged_quantile(r)
            && (policy.fails(r.verdict)
                || !(comparison.new_scenario && r.verdict == Verdict::NewPoint))
    };
    let short = short_ids(&comparison.rows);
    for row in comparison.rows.iter().filter(listed) {
        table.add_row([
            short
                .get(&row.point)
                .cloned()
                .unwrap_or_else(|| row.point.clone()),
            row.metric.clone(),
            value(&row.metric, row.baseline),
            value(&row.metric, row.current),
            change(row),
            row.noise.map(Noise::short).unwrap_or_default(),
            row.verdict.to_string(),
            row.note.clone(),
        ]);
    }
    let mut out = format!(
        "{}: {}\n",
        comparison.scenario,
        verdict_counts(&comparison.rows)
    );
    if table.row_count() > 0 {
        out += &format!("{table}\n");
    }
    let listed_assumed = comparison.rows.iter().filter(listed);
    if listed_assumed
        .filter_map(|r| r.noise)
        .any(|n| n.changes == 0)
    {
        out += "* noise assumed: no history or trials to learn it from (see `baseline update --keep`, `--trials`)\n";
    }
    if let Some(line) = unjudged_line(&comparison.rows) {
        out += &format!("{line}\n");
    }
    match comparison
        .rows
        .iter()
        .filter(|r| !r.verdict.is_listed())
        .count()
    {
        0 => {}
        1 => out += "1 row with no change or a met SLO is not listed\n",
        n => out += &format!("{n} rows with no change or a met SLO are not listed\n"),
    }
    out
}

/// Each point id (`concurrency=4,input_tokens=512`) cut to the parameters whose values
/// differ between the points (`concurrency=4`); ids stay whole when nothing differs.
fn short_ids(rows: &[Row]) -> BTreeMap<String, String> {
    let ids: BTreeSet<&str> = rows.iter().map(|r| r.point.as_str()).collect();
    let pairs = |id: &str| -> Vec<(String, String)> {
        id.split(',')
            .filter_map(|p| p.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    };
    let mut values: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for id in &ids {
        for (k, v) in pairs(id) {
            values.entry(k).or_default().insert(v);
        }
    }
    ids.iter()
        .filter_map(|&id| {
            let varying: Vec<String> = pairs(id)
                .into_iter()
                .filter(|(k, _)| values[k].len() > 1)
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            (!varying.is_empty()).then(|| (id.to_owned(), varying.join(",")))
        })
        .collect()
}
