//! The Excel workbook of a report (`--format xlsx`), for people who take the figures on in
//! a spreadsheet: a summary sheet (each scenario's status, summary cards and environment),
//! the points with every figure (the CSV's columns), and one sheet per table of the report
//! that has rows: the seed study's input-length, load and chunked-prefill tables and the
//! comparison with the baseline. Figures are numbers, not text, so they sort and chart.

use rust_xlsxwriter::{Format, Workbook, XlsxError};
use serde_json::Value;

use super::csv::point_rows;
use crate::compare::{Comparison, Row};
use crate::report::context::{Report, Subject};

/// Rows of one sheet: each its cells by column, in column order.
type Rows = Vec<Vec<(String, Value)>>;

/// The cells of a row from `(column, value)` pairs.
fn cells<const N: usize>(pairs: [(&str, Value); N]) -> Vec<(String, Value)> {
    pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

/// The workbook of `report`, made from `subjects`.
pub fn render(report: &Report, subjects: &[Subject]) -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    sheet(&mut workbook, "Summary", summary_rows(report))?;
    let (columns, points) = point_rows(subjects.iter().map(|s| s.current));
    let points = points
        .into_iter()
        .map(|row| columns.iter().cloned().zip(row).collect())
        .collect();
    sheet(&mut workbook, "Points", points)?;
    for (name, rows) in study_sheets(report, subjects) {
        sheet(&mut workbook, name, rows)?;
    }
    let comparisons = subjects.iter().filter_map(|s| s.comparison);
    sheet(&mut workbook, "Comparison", comparison_rows(comparisons))?;
    workbook.save_to_buffer()
}

/// Writes `rows` to a new sheet `name` (none when there are no rows): a bold header of
/// every key in the order first seen, numbers as numbers, the header row frozen.
fn sheet(workbook: &mut Workbook, name: &str, rows: Rows) -> Result<(), XlsxError> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut columns: Vec<&str> = Vec::new();
    for (key, _) in rows.iter().flatten() {
        if !columns.contains(&key.as_str()) {
            columns.push(key);
        }
    }
    let worksheet = workbook.add_worksheet().set_name(name)?;
    let bold = Format::new().set_bold();
    for (c, column) in (0u16..).zip(&columns) {
        worksheet.write_string_with_format(0, c, *column, &bold)?;
    }
    for (r, row) in (1u32..).zip(&rows) {
        for (c, column) in (0u16..).zip(&columns) {
            match row.iter().find(|(k, _)| k == column).map(|(_, v)| v) {
                None | Some(Value::Null) => {}
                Some(Value::Number(n)) => {
                    worksheet.write_number(r, c, n.as_f64().unwrap_or(f64::NAN))?;
                }
                Some(Value::Bool(b)) => {
                    worksheet.write_boolean(r, c, *b)?;
                }
                Some(Value::String(s)) => {
                    worksheet.write_string(r, c, s)?;
                }
                Some(other) => {
                    worksheet.write_string(r, c, other.to_string())?;
                }
            }
        }
    }
    worksheet.set_freeze_panes(1, 0)?;
    worksheet.autofit();
    Ok(())
}

/// Per scenario: its status and summary, the summary cards and the environment.
fn summary_rows(report: &Report) -> Rows {
    let mut rows = Rows::new();
    let mut add = |scenario: &str, item: &str, value: String| {
        rows.push(cells([
            ("scenario", scenario.into()),
            ("item", item.into()),
            ("value", value.into()),
        ]));
    };
    for s in &report.scenarios {
        add(&s.name, "status", s.status.to_owned());
        add(&s.name, "summary", s.summary.clone());
        add(&s.name, "started", s.started_at.clone());
        add(&s.name, "finished", s.finished_at.clone());
        for card in &s.cards {
            add(&s.name, card.label, format!("{}{}", card.value, card.unit));
        }
        for env in &s.environment {
            add(&s.name, env.label, env.value.clone());
        }
    }
    rows
}

/// The seed study's tables, each row with its scenario and its points named by id.
fn study_sheets(report: &Report, subjects: &[Subject]) -> [(&'static str, Rows); 3] {
    let mut sheets = [
        ("Input lengths", Rows::new()),
        ("Load", Rows::new()),
        ("Chunked prefill", Rows::new()),
    ];
    for (s, subject) in report.scenarios.iter().zip(subjects) {
        let point_id = |index: &Value| {
            let index = index.as_u64().unwrap_or(u64::MAX) as usize;
            subject.current.points.get(index).map(|p| p.id.clone())
        };
        let tables = [
            serde_json::to_value(&s.tables.input_lengths),
            serde_json::to_value(&s.tables.loads),
            serde_json::to_value(&s.tables.chunked_prefill),
        ];
        for ((_, rows), table) in sheets.iter_mut().zip(tables) {
            let Ok(Value::Array(table)) = table else {
                continue;
            };
            for row in table {
                let Value::Object(fields) = row else { continue };
                // The scenario and the points first, then the figures.
                let (points, figures): (Vec<_>, Vec<_>) = fields
                    .into_iter()
                    .partition(|(key, _)| key.ends_with("point"));
                let points = points
                    .into_iter()
                    .map(|(key, index)| (key, point_id(&index).into()));
                let scenario = ("scenario".to_owned(), s.name.clone().into());
                rows.push(
                    std::iter::once(scenario)
                        .chain(points)
                        .chain(figures)
                        .collect(),
                );
            }
        }
    }
    sheets
}

/// Every row of every comparison, its change and noise as fractions.
fn comparison_rows<'a>(comparisons: impl Iterator<Item = &'a Comparison>) -> Rows {
    let row = |scenario: &str, r: &Row| {
        cells([
            ("scenario", scenario.into()),
            ("point", r.point.clone().into()),
            ("metric", r.metric.clone().into()),
            ("baseline", r.baseline.into()),
            ("current", r.current.into()),
            ("change", r.change.map(|c| c.estimate).into()),
            ("change_low", r.change.map(|c| c.low).into()),
            ("change_high", r.change.map(|c| c.high).into()),
            ("noise", r.noise.map(|n| n.sigma).into()),
            ("noise_assumed", r.noise.map(|n| n.changes == 0).into()),
            ("verdict", r.verdict.to_string().into()),
            ("note", r.note.clone().into()),
        ])
    };
    comparisons
        .flat_map(|c| c.rows.iter().map(move |r| row(&c.scenario, r)))
        .collect()
}
