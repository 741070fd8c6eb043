//! Entries of a request trace: one JSON object per line with an arrival time and input and
//! output lengths, under the field names of the public traces: Mooncake (`timestamp` in
//! ms, `input_length`, `output_length`, `hash_ids`), BurstGPT (`Timestamp` in s,
//! `Request tokens`, `Response tokens`) and Azure LLM inference (`TIMESTAMP` as a date and
//! time or seconds, `ContextTokens`, `GeneratedTokens`). Arrival times must not decrease.

use std::time::Duration;

use serde_json::Value;

use super::{problem, Entry, EntryPrompt, Problem};

/// Arrival-time fields and the seconds one unit of each is.
const TIMES: [(&str, f64); 4] = [
    ("timestamp", 0.001),
    ("Timestamp", 1.0),
    ("TIMESTAMP", 1.0),
    ("offset_s", 1.0),
];
const INPUTS: [&str; 4] = [
    "input_length",
    "Request tokens",
    "ContextTokens",
    "input_tokens",
];
const OUTPUTS: [&str; 4] = [
    "output_length",
    "Response tokens",
    "GeneratedTokens",
    "output_tokens",
];

/// The entry of one trace line; `previous` is the arrival of the line before (the first
/// line's arrival is the trace's origin, subtracted by the caller's schedule).
pub(super) fn entry(value: &Value, previous: Option<(Duration, usize)>) -> Result<Entry, Problem> {
    let (field, at) = arrival(value)?;
    if let Some((before, line)) = previous {
        if at < before {
            return Err(problem(
                field,
                format!(
                    "decreases: {:.3} s after {:.3} s on line {line} (a trace is in arrival order)",
                    at.as_secs_f64(),
                    before.as_secs_f64()
                ),
            ));
        }
    }
    let input = count(value, &INPUTS, 1)?;
    let output = count(value, &OUTPUTS, 0)?.max(1);
    let blocks = match value.get("hash_ids") {
        None => Vec::new(),
        Some(ids) => serde_json::from_value(ids.clone())
            .map_err(|_| problem("hash_ids", "expected an array of block numbers"))?,
    };
    Ok(Entry {
        prompt: EntryPrompt::Lengths { input, blocks },
        output_tokens: Some(output),
        reply: None,
        offset: Some(at),
    })
}

/// The arrival time and the field it came from.
fn arrival(value: &Value) -> Result<(&'static str, Duration), Problem> {
    let (field, unit, v) = TIMES
        .iter()
        .find_map(|&(f, unit)| value.get(f).map(|v| (f, unit, v)))
        .ok_or_else(|| {
            problem(
                "timestamp",
                "expected an arrival time: `timestamp` (ms, Mooncake), `Timestamp` (s, BurstGPT), `TIMESTAMP` (Azure) or `offset_s`",
            )
        })?;
    let seconds = match v {
        Value::Number(n) => n.as_f64().map(|n| n * unit),
        Value::String(s) => date_time(s),
        _ => None,
    }
    .filter(|s| s.is_finite() && *s >= 0.0)
    .ok_or_else(|| problem(field, format!("expected a time, got {v}")))?;
    Ok((field, Duration::from_secs_f64(seconds)))
}

/// Seconds since the epoch of an Azure trace's `2023-11-16 18:15:46.6805900`.
fn date_time(text: &str) -> Option<f64> {
    let t = chrono::NaiveDateTime::parse_from_str(text.trim(), "%Y-%m-%d %H:%M:%S%.f").ok()?;
    let utc = t.and_utc();
    Some(utc.timestamp() as f64 + f64::from(utc.timestamp_subsec_nanos()) / 1e9)
}

/// The first of `fields` present, as a token count of at least `min`.
fn count(value: &Value, fields: &[&str], min: u32) -> Result<u32, Problem> {
    let (field, v) = fields
        .iter()
        .find_map(|&f| value.get(f).map(|v| (f, v)))
        .ok_or_else(|| {
            problem(
                fields[0],
                format!(
                    "expected a token count (or one of {})",
                    fields[1..].join(", ")
                ),
            )
        })?;
    v.as_f64()
        .filter(|n| n.fract() == 0.0 && *n >= f64::from(min) && *n <= f64::from(u32::MAX))
        .map(|n| n as u32)
        .ok_or_else(|| {
            problem(
                field,
                format!("expected a token count of at least {min}, got {v}"),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::super::tests::read;
    use super::*;
    use crate::scenario::PromptKind;

    #[test]
    fn each_public_trace_format_gives_arrivals_and_lengths() {
        let text = r#"{"timestamp": 1000, "input_length": 600, "output_length": 20, "hash_ids": [1, 2]}
{"Timestamp": 1.5, "Model": "ChatGPT", "Request tokens": 300, "Response tokens": 40}
{"TIMESTAMP": "1970-01-01 00:00:02.2500000", "ContextTokens": 100, "GeneratedTokens": 0}
"#;
        let trace = read(PromptKind::Trace, text).unwrap();
        let offsets: Vec<f64> = trace
            .entries
            .iter()
            .map(|e| e.offset.unwrap().as_secs_f64())
            .collect();
        assert_eq!(offsets, [1.0, 1.5, 2.25]);
        assert_eq!(
            trace.entries[0].prompt,
            EntryPrompt::Lengths {
                input: 600,
                blocks: vec![1, 2]
            }
        );
        let outputs: Vec<_> = trace.entries.iter().map(|e| e.output_tokens).collect();
        assert_eq!(outputs, [Some(20), Some(40), Some(1)]);
    }

    #[test]
    fn decreasing_offsets_and_missing_lengths_name_line_and_field() {
        let text = "{\"timestamp\": 5000, \"input_length\": 10, \"output_length\": 2}\n{\"timestamp\": 4000, \"input_length\": 10, \"output_length\": 2}\n";
        let e = read(PromptKind::Trace, text).unwrap_err();
        assert!(
            e.starts_with("F:2: timestamp: decreases: 4.000 s after 5.000 s on line 1"),
            "{e}"
        );
        let e = read(
            PromptKind::Trace,
            "{\"timestamp\": 1, \"output_length\": 2}",
        )
        .unwrap_err();
        assert!(
            e.starts_with("F:1: input_length: expected a token count"),
            "{e}"
        );
    }
}
