//! The data every report template sees (also `report --format json`): per scenario, the
//! verdict, the comparison rows (those that need attention first), every point's figures,
//! the seed's tables, the environment table, warnings and the charts. Built once from
//! immutable results and comparisons; the templates only lay it out.

use std::collections::BTreeMap;

use serde::Serialize;

use super::axes;
use super::figures::{figures, FigureGroup};
use super::format::{change, latency_label, value};
use super::tables::{seed_tables, SeedTables};
use crate::compare::verdict::{fails, FailOn, Verdict};
use crate::compare::{Comparison, Row};
use crate::metrics::Summary;
use crate::monitor::GpuStats;
use crate::result::{Failure, PointResult, RunResult, ServerRun, LATENCY_NAMES, LATE_SEND_MS};
use crate::server::ServerMetrics;

/// What one scenario's report is made from.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    pub current: &'a RunResult,
    pub baseline: Option<&'a RunResult>,
    /// The comparison of `current` with `baseline`.
    pub comparison: Option<&'a Comparison>,
}

/// The whole report: one or more scenarios.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub tool_name: String,
    pub tool_version: String,
    /// `fail` when a comparison fails the check, `pass` when all pass, `run` without
    /// baselines.
    pub status: &'static str,
    pub scenarios: Vec<ScenarioReport>,
    /// Set when the Markdown was shortened to fit a pull-request comment: what was left out.
    pub truncated: Option<String>,
    /// Where the full report is (for the truncation note), such as `reports/compare.html`.
    pub full_report: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ScenarioReport {
    pub name: String,
    /// The scenario name reduced to `[A-Za-z0-9._-]`, for the sticky-comment marker.
    pub marker: String,
    pub description: Option<String>,
    pub status: &'static str,
    /// `2 regressed, 1 warning, 40 no change`, or for a single run `4 points, 256 requests`.
    pub summary: String,
    pub started_at: String,
    pub finished_at: String,
    pub partial: bool,
    pub baseline: Option<BaselineInfo>,
    pub environment: Vec<EnvironmentRow>,
    /// Rows that need attention, failing ones first (empty without a baseline).
    pub attention: Vec<RowView>,
    /// The other rows: no change, met SLOs, insufficient data.
    pub quiet: Vec<RowView>,
    pub points: Vec<PointView>,
    pub tables: SeedTables,
    pub warnings: Vec<String>,
    pub figures: Vec<FigureGroup>,
    /// The servers the harness launched (server sweeps).
    pub servers: Vec<ServerRun>,
    /// Whether any point has GPU readings or server metrics.
    pub monitored: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct BaselineInfo {
    pub started_at: String,
    pub tool_version: String,
    pub server_version: Option<String>,
    pub model: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct EnvironmentRow {
    pub label: &'static str,
    pub value: String,
}

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
    pub p_value: Option<f64>,
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
    pub latencies: Vec<LatencyView>,
    /// Why the point was not (fully) measured.
    pub failure: Option<Failure>,
    pub gpu: Vec<GpuStats>,
    /// Peak GPU memory used over all GPUs, MiB.
    pub gpu_vram_peak_mib: Option<f64>,
    pub server_metrics: Option<ServerMetrics>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LatencyView {
    /// Key in the result's `latency_ms` (`ttft`).
    pub key: &'static str,
    pub label: &'static str,
    pub summary: Summary,
}

/// Builds the report of `subjects`; `fail_on` and `strict` decide which verdicts fail.
pub fn build(subjects: &[Subject], fail_on: FailOn, strict: bool) -> Report {
    let scenarios: Vec<ScenarioReport> = subjects
        .iter()
        .map(|s| scenario_report(s, fail_on, strict))
        .collect();
    let status = if scenarios.iter().any(|s| s.status == "fail") {
        "fail"
    } else if scenarios.iter().any(|s| s.status == "pass") {
        "pass"
    } else {
        "run"
    };
    Report {
        tool_name: env!("CARGO_PKG_NAME").into(),
        tool_version: env!("CARGO_PKG_VERSION").into(),
        status,
        scenarios,
        truncated: None,
        full_report: None,
    }
}

fn scenario_report(subject: &Subject, fail_on: FailOn, strict: bool) -> ScenarioReport {
    let current = subject.current;
    let rows = subject.comparison.map_or(&[][..], |c| &c.rows);
    let (attention, quiet): (Vec<&Row>, Vec<&Row>) =
        rows.iter().partition(|r| needs_attention(r.verdict));
    let view = |rows: Vec<&Row>| -> Vec<RowView> {
        rows.into_iter()
            .map(|r| row_view(r, fail_on, strict))
            .collect()
    };
    let (mut attention, quiet) = (view(attention), view(quiet));
    // Rows arrive sorted by verdict; failing ones (which depend on --fail-on) go first.
    attention.sort_by_key(|r| !r.failing);
    let status = match subject.comparison {
        None => "run",
        Some(_) if attention.iter().any(|r| r.failing) => "fail",
        Some(_) => "pass",
    };
    let summary = match subject.comparison {
        Some(c) => verdict_counts(c),
        None => {
            let total: u64 = current.points.iter().map(|p| p.requests.total).sum();
            let failed: u64 = current.points.iter().map(|p| p.requests.failed).sum();
            format!(
                "{} points, {total} requests, {failed} failed",
                current.points.len()
            )
        }
    };
    ScenarioReport {
        name: current.scenario.name.clone(),
        marker: current
            .scenario
            .name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "._-".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect(),
        description: current.scenario.description.clone(),
        status,
        summary,
        started_at: current.started_at.clone(),
        finished_at: current.finished_at.clone(),
        partial: current.partial,
        baseline: subject.baseline.map(|b| BaselineInfo {
            started_at: b.started_at.clone(),
            tool_version: b.tool.version.clone(),
            server_version: b.environment.server.version.clone(),
            model: b.environment.server.model.clone(),
        }),
        environment: environment(current),
        attention,
        quiet,
        points: current
            .points
            .iter()
            .enumerate()
            .map(|(i, p)| point_view(i, p))
            .collect(),
        tables: seed_tables(current),
        warnings: warnings(current),
        figures: figures(current, subject.baseline),
        servers: current.servers.clone(),
        monitored: current
            .points
            .iter()
            .any(|p| !p.gpu.is_empty() || p.server_metrics.is_some()),
    }
}

/// Whether a verdict goes in the table a reader sees first; the others (no change, a met
/// SLO, too few samples for the statistic) are counted in the summary and listed below.
fn needs_attention(verdict: Verdict) -> bool {
    verdict.is_listed() && verdict != Verdict::InsufficientData
}

/// `2 regressed, 1 warning, 40 no change`, in verdict order.
fn verdict_counts(comparison: &Comparison) -> String {
    let mut counts: BTreeMap<Verdict, usize> = BTreeMap::new();
    for row in &comparison.rows {
        *counts.entry(row.verdict).or_default() += 1;
    }
    counts
        .iter()
        .map(|(v, n)| format!("{n} {v}"))
        .collect::<Vec<_>>()
        .join(", ")
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

fn row_view(row: &Row, fail_on: FailOn, strict: bool) -> RowView {
    let (metric, stat) = metric_and_stat(&row.metric, row.verdict);
    RowView {
        point: row.point.clone(),
        metric,
        stat,
        baseline: value(&row.metric, row.baseline),
        current: value(&row.metric, row.current),
        change: change(row),
        p_value: row.p_value,
        verdict: row.verdict.to_string(),
        verdict_class: row.verdict.to_string().to_lowercase().replace(' ', "-"),
        failing: fails(row.verdict, fail_on, strict),
        note: row.note.clone(),
    }
}

fn point_view(index: usize, p: &PointResult) -> PointView {
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
        latencies: LATENCY_NAMES
            .iter()
            .filter_map(|&key| {
                Some(LatencyView {
                    key,
                    label: latency_label(key),
                    summary: *p.latency_ms.get(key)?,
                })
            })
            .collect(),
        failure: p.failure.clone(),
        gpu: p.gpu.clone(),
        gpu_vram_peak_mib: gpu_vram_peak_mib(p),
        server_metrics: p.server_metrics.clone(),
    }
}

/// Peak GPU memory used during a point, summed over its GPUs.
pub fn gpu_vram_peak_mib(p: &PointResult) -> Option<f64> {
    (!p.gpu.is_empty()).then(|| p.gpu.iter().map(|g| g.memory_used_peak_mib).sum())
}

const NOT_RECORDED: &str = "not recorded";

/// The values a parameter takes over the run, or `not recorded`.
fn swept(result: &RunResult, key: &str) -> String {
    let values = axes::values(&result.points, key);
    match values.len() {
        0 => NOT_RECORDED.into(),
        1 => axes::show(&values[0]),
        _ => {
            let shown: Vec<String> = values.iter().map(axes::show).collect();
            format!("{} (swept)", shown.join(", "))
        }
    }
}

/// The quantization named in a model name (`Q4_K_M`, `AWQ`, `FP8`), if any.
fn quantization(model: &str) -> Option<String> {
    const NAMED: [&str; 9] = [
        "AWQ", "GPTQ", "FP8", "FP16", "BF16", "INT8", "INT4", "W8A8", "W4A16",
    ];
    model
        .split(['-', '.', '/', ' ', '@'])
        .find(|part| {
            let upper = part.to_ascii_uppercase();
            let level = upper.strip_prefix("IQ").or_else(|| upper.strip_prefix('Q'));
            NAMED.contains(&upper.as_str())
                || (level.is_some_and(|l| l.starts_with(|c: char| c.is_ascii_digit()))
                    && upper.len() <= 7)
        })
        .map(|q| q.to_owned())
}

/// The seed's environment table, then what else identifies the run.
fn environment(result: &RunResult) -> Vec<EnvironmentRow> {
    let host = &result.environment.host;
    let server = &result.environment.server;
    let or_not_recorded = |v: &str| {
        if v.is_empty() {
            NOT_RECORDED.to_owned()
        } else {
            v.to_owned()
        }
    };
    let row = |label, value| EnvironmentRow { label, value };
    let gpus = &result.environment.gpus;
    let no_gpu = || format!("none ({})", gpus.unavailable.as_deref().unwrap_or_default());
    let (gpu, vram, count) = match gpus.devices.first() {
        Some(first) => {
            let mut names: Vec<&str> = gpus.devices.iter().map(|d| d.name.as_str()).collect();
            names.dedup();
            (
                names.join(", "),
                format!("{:.0} MiB each", first.memory_total_mib),
                gpus.devices.len().to_string(),
            )
        }
        None if gpus.unavailable.is_some() => (no_gpu(), "none".to_owned(), "0".to_owned()),
        None => (
            NOT_RECORDED.to_owned(),
            NOT_RECORDED.to_owned(),
            NOT_RECORDED.to_owned(),
        ),
    };
    let or_unknown = |v: &Option<String>| v.clone().unwrap_or_else(|| NOT_RECORDED.into());
    vec![
        row("CPU", or_not_recorded(&host.cpu_model)),
        row("GPU", gpu),
        row("VRAM", vram),
        row("GPU count", count),
        row("OS", format!("{} (kernel {})", host.os, host.kernel)),
        row("CUDA", or_unknown(&gpus.cuda)),
        row("Driver", or_unknown(&gpus.driver)),
        row(
            "Server version",
            server
                .version
                .clone()
                .unwrap_or_else(|| NOT_RECORDED.into()),
        ),
        row("Model", or_not_recorded(&server.model)),
        row("Tensor parallel", swept(result, axes::TENSOR_PARALLEL)),
        row(
            "Quantization",
            quantization(&server.model).map_or(NOT_RECORDED.into(), |q| {
                format!("{q} (from the model name)")
            }),
        ),
        row("Chunked prefill", swept(result, axes::CHUNKED_PREFILL)),
        row(
            "Host",
            format!("{} cores, {} GiB memory", host.cpu_cores, host.memory_gib),
        ),
        row("Server URL", or_not_recorded(&server.base_url)),
        row(
            "Server command",
            if server.args.is_empty() {
                "not launched by the harness".to_owned()
            } else {
                server.args.join(" ")
            },
        ),
        row(
            "Prompts",
            format!(
                "tokenizer {}{}, seed {}",
                result.prompts.tokenizer,
                if result.prompts.exact {
                    " (exact)"
                } else {
                    " (approximate lengths)"
                },
                result.prompts.seed
            ),
        ),
        row(
            "Harness",
            format!(
                "{} {}, client CPU {:.2} s, peak RSS {:.0} MiB",
                result.tool.name,
                result.tool.version,
                result.client.cpu.user_s + result.client.cpu.system_s,
                result.client.peak_rss_mib
            ),
        ),
    ]
}

/// Characters of an error message shown in a warning.
const SAMPLE_CHARS: usize = 160;

/// What a reader should know before trusting the figures.
fn warnings(result: &RunResult) -> Vec<String> {
    let mut warnings = Vec::new();
    if result.partial {
        warnings.push("The run was interrupted: only the points measured so far are here.".into());
    }
    if !result.prompts.exact {
        warnings.push(format!(
            "Input lengths are approximate: prompts were sized with {}, not the server's tokenizer.",
            result.prompts.tokenizer
        ));
    }
    for s in &result.servers {
        if let Some(failure) = &s.failure {
            warnings.push(format!(
                "Server {}: {failure} (log: {}).",
                crate::scenario::point_id(&s.config),
                s.log
            ));
        }
    }
    for p in &result.points {
        if let Some(failure) = &p.failure {
            warnings.push(format!("{}: not measured: {failure}.", p.id));
        }
        if p.requests.failed > 0 {
            let kinds: Vec<String> = p
                .requests
                .errors
                .iter()
                .map(|(kind, n)| match p.requests.error_samples.get(kind) {
                    Some(message) if !message.is_empty() => {
                        let shown: String = message.chars().take(SAMPLE_CHARS).collect();
                        format!("{kind}={n}, first: “{shown}”")
                    }
                    _ => format!("{kind}={n}"),
                })
                .collect();
            warnings.push(format!(
                "{}: {} of {} requests failed ({}).",
                p.id,
                p.requests.failed,
                p.requests.total,
                kinds.join("; ")
            ));
        }
        if p.tokens.source != "server_usage" && p.requests.ok > 0 {
            warnings.push(format!(
                "{}: output tokens counted one per streamed chunk (the server sent no usage).",
                p.id
            ));
        }
        if p.schedule.late_sends > 0 {
            warnings.push(format!(
                "{}: {} requests were sent more than {LATE_SEND_MS} ms after their scheduled time.",
                p.id, p.schedule.late_sends
            ));
        }
        let overhead = result.prompts.template_overhead_tokens.unwrap_or(0);
        if let Some(cached) = p.tokens.cached_max.filter(|&c| c > overhead) {
            warnings.push(format!(
                "{}: up to {cached} prompt tokens were served from the server's prefix cache.",
                p.id
            ));
        }
    }
    warnings
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantization_is_read_from_common_model_names() {
        for (model, expected) in [
            ("SmolLM2-135M-Instruct.Q4_1.gguf", Some("Q4_1")),
            ("Llama-3.1-8B-Instruct-Q4_K_M.gguf", Some("Q4_K_M")),
            ("Qwen/Qwen2.5-7B-Instruct-AWQ", Some("AWQ")),
            ("neuralmagic/Meta-Llama-3.1-8B-Instruct-FP8", Some("FP8")),
            ("model-IQ3_XS", Some("IQ3_XS")),
            ("meta-llama/Llama-3.1-8B-Instruct", None),
            ("Qwen/Qwen2.5-7B", None),
        ] {
            assert_eq!(quantization(model).as_deref(), expected, "{model}");
        }
    }
}
