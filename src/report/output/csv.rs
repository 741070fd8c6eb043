//! CSV of a run: one row per point with its parameters and every summary figure. Columns
//! are the point objects of the result flattened to dotted names (`latency_ms.ttft.p50`,
//! `requests.errors.http_500`), histograms, timelines and stages left out, so the CSV
//! follows the result contract. The timelines have a CSV of their own: a row per point and
//! window.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::result::RunResult;

fn flatten(prefix: &str, value: &Value, into: &mut BTreeMap<String, Value>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                let name = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                flatten(&name, inner, into);
            }
        }
        other => {
            into.insert(prefix.to_owned(), other.clone());
        }
    }
}

fn cell(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Every point of `results` as a row: the columns (`scenario`, `point`, the `params.*`
/// columns, then the figures, each group in name order) and each row's values.
pub(super) fn point_rows<'a>(
    results: impl IntoIterator<Item = &'a RunResult>,
) -> (Vec<String>, Vec<Vec<Value>>) {
    let items = results
        .into_iter()
        .flat_map(|r| r.points.iter().map(move |p| (r, p)))
        .map(|(result, point)| {
            let mut value = serde_json::to_value(point).unwrap_or_default();
            if let Value::Object(map) = &mut value {
                // Series, not figures of the point: they stay in the JSON.
                for series in ["histograms", "id", "timeline", "stages"] {
                    map.remove(series);
                }
            }
            (result.scenario.name.as_str(), point.id.as_str(), value)
        });
    rows(items)
}

/// Every window of every point's timeline as a row: `scenario`, `point`, then the
/// window's figures (`start_s`, `in_flight`, `errors.http_500`, `gauges.vllm:...`).
fn timeline_rows<'a>(
    results: impl IntoIterator<Item = &'a RunResult>,
) -> (Vec<String>, Vec<Vec<Value>>) {
    let items = results
        .into_iter()
        .flat_map(|r| r.points.iter().map(move |p| (r, p)))
        .flat_map(|(result, point)| {
            let windows = point.timeline.iter().flat_map(|t| &t.windows);
            windows.map(|w| {
                let value = serde_json::to_value(w).unwrap_or_default();
                (result.scenario.name.as_str(), point.id.as_str(), value)
            })
        });
    rows(items)
}

/// Rows of flattened objects, each after its scenario and point; the columns are the union
/// of their names, `params.*` first.
fn rows<'a>(
    items: impl Iterator<Item = (&'a str, &'a str, Value)>,
) -> (Vec<String>, Vec<Vec<Value>>) {
    let mut flats = Vec::new();
    for (scenario, point, value) in items {
        let mut flat = BTreeMap::new();
        flatten("", &value, &mut flat);
        flats.push((scenario, point, flat));
    }
    let mut columns: Vec<String> = Vec::new();
    for (_, _, flat) in &flats {
        for key in flat.keys() {
            if !columns.contains(key) {
                columns.push(key.clone());
            }
        }
    }
    columns.sort_by_key(|c| (!c.starts_with("params."), c.clone()));
    let rows = flats
        .iter()
        .map(|(scenario, id, flat)| {
            let figures = columns
                .iter()
                .map(|c| flat.get(c).cloned().unwrap_or_default());
            [Value::from(*scenario), Value::from(*id)]
                .into_iter()
                .chain(figures)
                .collect()
        })
        .collect();
    let header = ["scenario", "point"].into_iter().map(str::to_owned);
    (header.chain(columns).collect(), rows)
}

/// The CSV text of `results`: `scenario`, `point`, the `params.*` columns, then the
/// figures.
pub fn render<'a>(results: impl IntoIterator<Item = &'a RunResult>) -> Result<String, csv::Error> {
    text(point_rows(results))
}

/// The CSV text of the timelines of `results`: a row per point and window.
pub fn render_timeline<'a>(
    results: impl IntoIterator<Item = &'a RunResult>,
) -> Result<String, csv::Error> {
    text(timeline_rows(results))
}

fn text((columns, rows): (Vec<String>, Vec<Vec<Value>>)) -> Result<String, csv::Error> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(&columns)?;
    for row in &rows {
        writer.write_record(row.iter().map(cell))?;
    }
    let bytes = writer.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8(bytes).expect("CSV of UTF-8 text is UTF-8"))
}
