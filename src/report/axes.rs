//! How reports read a point's parameters: its input length (`input_tokens`), its load level
//! (`concurrency` or `rate`) and its server configuration (every other parameter, such as
//! `chunked_prefill` or `tp`). Charts and the study's rows group and pair points by these.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::result::PointResult;

pub const INPUT: &str = "input_tokens";
const LOADS: [&str; 2] = ["concurrency", "rate"];
pub const CHUNKED_PREFILL: &str = "chunked_prefill";
pub const TENSOR_PARALLEL: &str = "tp";

/// A parameter's value as shown: booleans as `on`/`off`, strings bare, numbers as written.
pub fn show(value: &Value) -> String {
    match value {
        Value::Bool(true) => "on".into(),
        Value::Bool(false) => "off".into(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A parameter as a number (booleans as 1 and 0), for ordering and plotting.
pub fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        other => other.as_f64(),
    }
}

/// The point's input length in tokens.
pub fn input(point: &PointResult) -> Option<f64> {
    point.params.get(INPUT).and_then(number)
}

/// The load parameter's name and value (`concurrency` 4, `rate` 2.5).
pub fn load(point: &PointResult) -> Option<(&'static str, f64)> {
    LOADS
        .iter()
        .find_map(|&k| point.params.get(k).and_then(number).map(|v| (k, v)))
}

/// Whether `key` is an input length or a load level rather than a server setting.
pub fn is_workload(key: &str) -> bool {
    key == INPUT || LOADS.contains(&key)
}

/// The server configuration: every non-workload parameter except those in `except`,
/// as `name=value` pairs (`chunked_prefill=on, tp=2`); empty when there is none.
pub fn config(point: &PointResult, except: &[&str]) -> String {
    point
        .params
        .iter()
        .filter(|(k, _)| !is_workload(k) && !except.contains(&k.as_str()))
        .map(|(k, v)| format!("{k}={}", show(v)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The distinct values of a parameter over `points`, in ascending order.
pub fn values(points: &[PointResult], key: &str) -> Vec<Value> {
    let mut found: Vec<Value> = Vec::new();
    for v in points.iter().filter_map(|p| p.params.get(key)) {
        if !found.contains(v) {
            found.push(v.clone());
        }
    }
    found.sort_by(|a, b| {
        number(a)
            .partial_cmp(&number(b))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    found
}

/// Items grouped by `key_of`, groups in order of first appearance.
pub fn group_by<T, K: PartialEq>(
    items: impl IntoIterator<Item = T>,
    key_of: impl Fn(&T) -> K,
) -> Vec<(K, Vec<T>)> {
    let mut groups: Vec<(K, Vec<T>)> = Vec::new();
    for item in items {
        let key = key_of(&item);
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, members)) => members.push(item),
            None => groups.push((key, vec![item])),
        }
    }
    groups
}

/// A short label of a load level: `c=4`, `4 req/s`.
pub fn load_label(name: &str, value: f64) -> String {
    match name {
        "rate" => format!("{value} req/s"),
        _ => format!("c={value}"),
    }
}

/// The axis title of a load parameter.
pub fn load_title(name: &str) -> &'static str {
    match name {
        "rate" => "request rate (req/s)",
        _ => "concurrency",
    }
}

/// The title of the card that names the best load level.
pub fn best_load_title(name: &str) -> &'static str {
    match name {
        "rate" => "Best request rate",
        _ => "Best concurrency",
    }
}

/// Input tokens as `1k`, `3k`, `512`.
pub fn tokens_label(tokens: f64) -> String {
    if tokens >= 1000.0 && tokens % 1000.0 == 0.0 {
        format!("{}k", tokens / 1000.0)
    } else {
        format!("{tokens}")
    }
}

/// Where a point is, as a reader names it: its load, input and configuration except the
/// parameters in `except` (`c=4, 512 in, tp=2`).
pub fn place(point: &PointResult, except: &[&str]) -> String {
    let mut parts = Vec::new();
    if let Some((name, value)) = load(point) {
        parts.push(load_label(name, value));
    }
    if let Some(input) = input(point) {
        parts.push(format!("{} in", tokens_label(input)));
    }
    let config = config(point, except);
    if !config.is_empty() {
        parts.push(config);
    }
    parts.join(", ")
}

/// Parameters of a point, for tables (`params` with values shown).
pub fn shown_params(params: &BTreeMap<String, Value>) -> BTreeMap<String, String> {
    params.iter().map(|(k, v)| (k.clone(), show(v))).collect()
}

/// Two points that differ only in chunked prefill.
pub struct ChunkedPair<'a> {
    /// Input length and load level, `3k c=4`.
    pub label: String,
    pub on: &'a PointResult,
    pub off: &'a PointResult,
}

impl ChunkedPair<'_> {
    /// How much faster (mean E2E) the point with chunked prefill on is, in percent.
    pub fn speedup_pct(&self) -> Option<f64> {
        let (on, off) = (self.on.latency_ms.e2e.mean, self.off.latency_ms.e2e.mean);
        (on > 0.0 && self.on.latency_ms.e2e.count > 0 && self.off.latency_ms.e2e.count > 0)
            .then(|| (off / on - 1.0) * 100.0)
    }
}

/// The on/off pairs among `members` (points that share every other setting), ordered by
/// input length, then load.
pub fn chunked_pairs<'a>(members: &[&'a PointResult]) -> Vec<ChunkedPair<'a>> {
    let with = |p: &PointResult, on: bool| p.params.get(CHUNKED_PREFILL) == Some(&Value::Bool(on));
    let mut pairs: Vec<ChunkedPair> = members
        .iter()
        .filter(|p| with(p, true))
        .filter_map(|&on| {
            let off = members.iter().copied().find(|q| {
                with(q, false)
                    && q.params
                        .iter()
                        .all(|(k, v)| k == CHUNKED_PREFILL || on.params.get(k) == Some(v))
            })?;
            let mut label = tokens_label(input(on).unwrap_or_default());
            if let Some((name, value)) = load(on) {
                label = format!("{label} {}", load_label(name, value));
            }
            Some(ChunkedPair { label, on, off })
        })
        .collect();
    let key = |p: &ChunkedPair| {
        (
            input(p.on).unwrap_or_default(),
            load(p.on).map_or(0.0, |l| l.1),
        )
    };
    pairs.sort_by(|a, b| {
        key(a)
            .partial_cmp(&key(b))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    pairs
}
