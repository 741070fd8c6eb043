//! Shared formatting of comparison figures for every renderer.

use std::ops::Range;

use comfy_table::{presets::UTF8_BORDERS_ONLY, CellAlignment, Table};

use crate::compare::Row;

/// A terminal table with `header` and the columns in `right_aligned` aligned right.
pub fn table(header: &[&str], right_aligned: Range<usize>) -> Table {
    let mut table = Table::new();
    table.load_preset(UTF8_BORDERS_ONLY).set_header(header);
    for i in right_aligned {
        if let Some(column) = table.column_mut(i) {
            column.set_cell_alignment(CellAlignment::Right);
        }
    }
    table
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
        let pct = |x: f64| format!("{:+.1}%", x * 100.0);
        format!("{} [{}, {}]", pct(c.estimate), pct(c.low), pct(c.high))
    }
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
