//! CSV of a run: one row per point with its parameters and every summary figure. Columns
//! are the point objects of the result flattened to dotted names (`latency_ms.ttft.p50`,
//! `requests.errors.http_500`), histograms left out, so the CSV follows the result contract.

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
    let mut flats = Vec::new();
    for (result, point) in results
        .into_iter()
        .flat_map(|r| r.points.iter().map(move |p| (r, p)))
    {
        let mut value = serde_json::to_value(point).unwrap_or_default();
        if let Value::Object(map) = &mut value {
            map.remove("histograms");
            map.remove("id");
        }
        let mut flat = BTreeMap::new();
        flatten("", &value, &mut flat);
        flats.push((&result.scenario.name, &point.id, flat));
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
            [Value::from(scenario.as_str()), Value::from(id.as_str())]
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
    let (columns, rows) = point_rows(results);
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(&columns)?;
    for row in &rows {
        writer.write_record(row.iter().map(cell))?;
    }
    let bytes = writer.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8(bytes).expect("CSV of UTF-8 text is UTF-8"))
}
