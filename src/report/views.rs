//! How comparison rows and points are shown: a row's metric split into what it measures
//! and which statistic, values and changes formatted, the verdict as text and CSS class;
//! a point's figures flattened for the templates.

use std::collections::BTreeMap;

use serde::Serialize;

use super::axes;
use super::format::{change, latency_label, value};
use crate::compare::verdict::{Policy, Verdict};
use crate::compare::Row;
use crate::result::{
    Breakpoint, Failure, Goodput, GpuStats, GroupResult, PointResult, ServerMetrics, StageResult,
    Stopped, Summary, LATENCY_NAMES,
};

/// A comparison row as shown.
#[derive(Debug, Clone, Serialize)]
pub struct RowView {
    pub point: String,
    /// `TTFT (ms)`, `Output throughput (tok/s)`, `SLO ttft_ms`.
    pub metric: String,
    /// `p50`, `mean`, `rate`, or the SLO expression.
    pub stat: String,
    pub baseline: String,
    pub current: String,
    /// `+12.3% [+8.1%, +16.0%]`.
    pub change: String,
    /// The figure's run-to-run noise: `±4.2%`, `±5.0% (assumed)`.
    pub noise: String,
    pub verdict: String,
    /// The verdict as a CSS class (`regressed`, `slo-breach`).
    pub verdict_class: String,
    pub failing: bool,
    pub note: String,
}

/// One point's figures.
#[derive(Debug, Clone, Serialize)]
pub struct PointView {
    /// Position in the result's `points`.
    pub index: usize,
    pub id: String,
    pub params: BTreeMap<String, String>,
    pub partial: bool,
    pub requests_total: u64,
    pub requests_ok: u64,
    pub requests_failed: u64,
    /// `http_500=2, timeout=1`.
    pub errors: String,
    pub duration_s: f64,
    pub requests_per_s: f64,
    pub output_tokens_per_s: f64,
    pub total_tokens_per_s: f64,
    pub input_tokens_mean: f64,
    pub output_tokens_mean: f64,
    pub goodput_ratio: Option<f64>,
    /// `87.0% (87 of 100; TTFT < 500 ms: 90, TPOT < 50 ms: 95)`, when there is an SLO.
    pub goodput: Option<String>,
    /// Failed requests over all requests, in percent.
    pub error_rate_pct: f64,
    pub latencies: Vec<LatencyView>,
    /// Why the point was not (fully) measured.
    pub failure: Option<Failure>,
    pub gpu: Vec<GpuStats>,
    /// Peak GPU memory used over all GPUs, MiB.
    pub gpu_vram_peak_mib: Option<f64>,
    pub server_metrics: Option<ServerMetrics>,
    /// A staged point's stages.
    pub stages: Vec<StageResult>,
    /// A mixed workload's classes and a conversation's turns, each a table.
    pub groups: Vec<GroupTable>,
    /// Why the point stopped itself, and what a breakpoint ramp found.
    pub stopped: Option<Stopped>,
    pub breakpoint: Option<Breakpoint>,
}

/// A table of a point's groups of requests: its traffic classes or its turns.
#[derive(Debug, Clone, Serialize)]
pub struct GroupTable {
    /// `Classes` or `Turns`, and the name of one (`Class`, `Turn`).
    pub title: &'static str,
    pub column: &'static str,
    /// The key of the groups in the point's JSON.
    pub key: &'static str,
    pub rows: Vec<GroupResult>,
}

/// The non-empty group tables of `p`.
fn group_tables(p: &PointResult) -> Vec<GroupTable> {
    [
        ("Classes", "Class", "classes", &p.classes),
        ("Turns", "Turn", "turns", &p.turns),
    ]
    .into_iter()
    .filter(|(.., rows)| !rows.is_empty())
    .map(|(title, column, key, rows)| GroupTable {
        title,
        column,
        key,
        rows: rows.clone(),
    })
    .collect()
}

#[derive(Debug, Clone, Serialize)]
pub struct LatencyView {
    /// Key in the result's `latency_ms` (`ttft`).
    pub key: &'static str,
    pub label: &'static str,
    pub summary: Summary,
    /// Whether any request gave this latency: TPOT and ITL need a streamed response, and
    /// a point whose every request failed measured none. Shown as "not measured", not 0.
    pub measured: bool,
}

/// A point's goodput on one line, with the count of each criterion.
fn goodput_line(g: &Goodput) -> String {
    let criteria: Vec<String> = g
        .per_criterion
        .iter()
        .map(|(name, c)| {
            let label = latency_label(name);
            format!("{label} < {} ms: {}", c.threshold_ms, c.met)
        })
        .collect();
    format!(
        "{:.1}% ({} of {}; {})",
        100.0 * g.ratio,
        g.met,
        g.total,
        criteria.join(", ")
    )
}

/// Splits a row's metric into what it measures and which statistic.
fn metric_and_stat(metric: &str, verdict: Verdict) -> (String, String) {
    if matches!(verdict, Verdict::SloBreach | Verdict::SloMet) {
        let (name, expression) = metric.split_once(": ").unwrap_or((metric, ""));
        return (format!("SLO {name}"), expression.to_owned());
    }
    if let Some((latency, stat)) = metric.split_once('.') {
        return (format!("{} (ms)", latency_label(latency)), stat.to_owned());
    }
    match metric {
        "" => ("(point)".into(), String::new()),
        "output_tokens_per_s" => ("Output throughput (tok/s)".into(), "mean".into()),
        "goodput" => ("Goodput".into(), "ratio".into()),
        "error_rate" => ("Error rate".into(), "rate".into()),
        other => (other.to_owned(), String::new()),
    }
}

pub(super) fn row_view(row: &Row, policy: Policy) -> RowView {
    let (metric, stat) = metric_and_stat(&row.metric, row.verdict);
    RowView {
        point: row.point.clone(),
        metric,
        stat,
        baseline: value(&row.metric, row.baseline),
        current: value(&row.metric, row.current),
        change: change(row),
        noise: row.noise.map(|n| n.to_string()).unwrap_or_default(),
        verdict: row.verdict.to_string(),
        verdict_class: row.verdict.to_string().to_lowercase().replace(' ', "-"),
        failing: policy.fails(row.verdict),
        note: row.note.clone(),
    }
}

pub(super) fn point_view(index: usize, p: &PointResult) -> PointView {
    PointView {
        index,
        id: p.id.clone(),
        params: axes::shown_params(&p.params),
        partial: p.partial,
        requests_total: p.requests.total,
        requests_ok: p.requests.ok,
        requests_failed: p.requests.failed,
        errors: p
            .requests
            .errors
            .iter()
            .map(|(k, n)| format!("{k}={n}"))
            .collect::<Vec<_>>()
            .join(", "),
        duration_s: p.duration_s,
        requests_per_s: p.throughput.requests_per_s,
        output_tokens_per_s: p.throughput.output_tokens_per_s,
        total_tokens_per_s: p.throughput.total_tokens_per_s,
        input_tokens_mean: p.tokens.input_mean,
        output_tokens_mean: p.tokens.output_mean,
        goodput_ratio: p.goodput.as_ref().map(|g| g.ratio),
        goodput: p.goodput.as_ref().map(goodput_line),
        error_rate_pct: match p.requests.total {
            0 => 0.0,
            total => 100.0 * p.requests.failed as f64 / total as f64,
        },
        latencies: LATENCY_NAMES
            .iter()
            .filter_map(|&key| {
                let summary = *p.latency_ms.get(key)?;
                Some(LatencyView {
                    key,
                    label: latency_label(key),
                    measured: summary.count > 0,
                    summary,
                })
            })
            .collect(),
        failure: p.failure.clone(),
        gpu: p.gpu.clone(),
        gpu_vram_peak_mib: p.gpu_vram_peak_mib(),
        server_metrics: p.server_metrics.clone(),
        stages: p.stages.clone(),
        groups: group_tables(p),
        stopped: p.stopped.clone(),
        breakpoint: p.breakpoint.clone(),
    }
}
