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

fn cell(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// The CSV text of `results`: `scenario`, `point`, the `params.*` columns, then the
/// figures.
pub fn render<'a>(results: impl IntoIterator<Item = &'a RunResult>) -> Result<String, csv::Error> {
    let mut rows = Vec::new();
    for (result, point) in results
        .into_iter()
        .flat_map(|r| r.points.iter().map(move |p| (r, p)))
    {
        let mut value = serde_json::to_value(point).map_err(std::io::Error::from)?;
        if let Value::Object(map) = &mut value {
            map.remove("histograms");
            map.remove("id");
        }
        let mut flat = BTreeMap::new();
        flatten("", &value, &mut flat);
        rows.push((&result.scenario.name, &point.id, flat));
    }
    let mut columns: Vec<String> = Vec::new();
    for (_, _, flat) in &rows {
        for key in flat.keys() {
            if !columns.contains(key) {
                columns.push(key.clone());
            }
        }
    }
    // Parameters first, then the figures; each group in name order.
    columns.sort_by_key(|c| (!c.starts_with("params."), c.clone()));
    let mut writer = csv::Writer::from_writer(Vec::new());
    let header = ["scenario", "point"]
        .into_iter()
        .map(str::to_owned)
        .chain(columns.iter().cloned());
    writer.write_record(header)?;
    for (scenario, id, flat) in &rows {
        let record = [scenario.to_string(), id.to_string()]
            .into_iter()
            .chain(columns.iter().map(|c| cell(flat.get(c))));
        writer.write_record(record)?;
    }
    let bytes = writer.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8(bytes).expect("CSV of UTF-8 text is UTF-8"))
}
