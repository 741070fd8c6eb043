//! The terminal table of a comparison, within 120 columns: what needs attention first
//! (regressions, warnings, inconclusive figures, mismatches, missing points) with point ids
//! cut to the parameters that vary (named once above the table when the rows are of one
//! point), then one line for the quantiles too few samples could judge and one counting
//! the unchanged rows.

use std::collections::{BTreeMap, BTreeSet};

use comfy_table::{ColumnConstraint, ContentArrangement, Width};

use super::table;
use crate::compare::noise::Noise;
use crate::compare::verdict::{Policy, Verdict};
use crate::compare::{Comparison, Row};
use crate::report::format::{change, value, verdict_counts};
use crate::report::unjudged::{is_unjudged_quantile, unjudged_line};

/// The widest the table is drawn; long cells wrap.
const WIDTH: u16 = 120;
/// The widest a point id is drawn (it wraps after a comma), and the narrowest a note.
const POINT_WIDTH: u16 = 28;
const NOTE_WIDTH: u16 = 14;

/// The table of one scenario's comparison followed by one-line summaries. `policy` says
/// which rows fail: a new point of a scenario without a baseline is listed only then.
pub fn compare_table(comparison: &Comparison, policy: Policy) -> String {
    // A scenario without a baseline says so once, after the table, not a row per point.
    let listed: Vec<&Row> = comparison
        .rows
        .iter()
        .filter(|r| {
            r.verdict.is_listed()
                && !is_unjudged_quantile(r)
                && (policy.fails(r.verdict)
                    || !(comparison.new_scenario && r.verdict == Verdict::NewPoint))
        })
        .collect();
    let mut out = format!(
        "{}: {}\n",
        comparison.scenario,
        verdict_counts(&comparison.rows)
    );
    let points: BTreeSet<&str> = listed.iter().map(|r| r.point.as_str()).collect();
    if let [point] = Vec::from_iter(&points)[..] {
        out += &format!("point {point}\n");
    }
    if !listed.is_empty() {
        let short = (points.len() > 1).then(|| short_ids(&comparison.rows));
        out += &format!("{}\n", rows_table(&listed, short.as_ref()));
    }
    out + &footnotes(comparison, &listed)
}

/// The listed rows, with a point column when `short` (the short point ids) is given.
fn rows_table(rows: &[&Row], short: Option<&BTreeMap<String, String>>) -> comfy_table::Table {
    let mut header = vec!["point", "metric", "baseline", "current", "change [95% CI]"];
    header.extend(["noise", "verdict", "note"]);
    let first_number = if short.is_some() { 2 } else { 1 };
    if short.is_none() {
        header.remove(0);
    }
    let mut table = table(&header, first_number..first_number + 4);
    table
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(WIDTH);
    // Only the point id and the note wrap; one space between columns.
    let last = header.len() - 1;
    for (i, column) in table.column_iter_mut().enumerate() {
        column.set_padding((u16::from(i == 0), 1));
        column.set_constraint(match i {
            _ if i == last => ColumnConstraint::LowerBoundary(Width::Fixed(NOTE_WIDTH)),
            0 if short.is_some() => ColumnConstraint::UpperBoundary(Width::Fixed(POINT_WIDTH)),
            _ => ColumnConstraint::ContentWidth,
        });
    }
    for row in rows {
        let mut cells = Vec::with_capacity(header.len());
        if let Some(short) = short {
            let id = short.get(&row.point).unwrap_or(&row.point);
            cells.push(id.replace(',', ", "));
        }
        cells.extend([
            row.metric.clone(),
            value(&row.metric, row.baseline),
            value(&row.metric, row.current),
            change(row),
            row.noise.map(Noise::short).unwrap_or_default(),
            row.verdict.to_string(),
            row.note.clone(),
        ]);
        table.add_row(cells);
    }
    table
}

/// The lines after the table: assumed noise, the quantiles not judged, the rows not
/// listed.
fn footnotes(comparison: &Comparison, listed: &[&Row]) -> String {
    let mut out = String::new();
    if listed
        .iter()
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
