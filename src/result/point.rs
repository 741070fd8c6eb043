//! One point of a result: request counts, throughput, token counts, latency summaries,
//! the schedule's lag, goodput, the histograms the summaries came from, and what was
//! sampled beside the load (GPU, server metrics, the harness's CPU).

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::{CpuTime, Failure, GpuStats, ServerMetrics, Timeline, Trial};
use crate::scenario::{Slo, Stat, Threshold};

/// One measured point.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PointResult {
    /// Stable id: sorted `key=value` pairs of `params`.
    pub id: String,
    pub params: BTreeMap<String, serde_json::Value>,
    /// True when the point was interrupted before its planned end.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub partial: bool,
    /// Set when the point could not be measured (fully): its server failed to start or
    /// died during it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<Failure>,
    pub requests: RequestCounts,
    /// From the first send to the last response of the measured requests.
    pub duration_s: f64,
    pub throughput: Throughput,
    pub tokens: TokenStats,
    pub latency_ms: Latencies,
    pub schedule: Schedule,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub goodput: Option<Goodput>,
    /// Base64 HdrHistogram V2+DEFLATE in microseconds, keyed like `latency_ms`.
    pub histograms: BTreeMap<String, String>,
    /// CPU the harness spent during this point's measured window.
    pub client_cpu: CpuTime,
    /// Each GPU over the measured window (NVML; absent without GPUs).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gpu: Vec<GpuStats>,
    /// The server's Prometheus metrics over the measured window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_metrics: Option<ServerMetrics>,
    /// The point over time, window by window (of the last trial, when there were several).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeline: Option<Timeline>,
    /// A staged point's figures per stage (of the last trial, when there were several).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stages: Vec<StageResult>,
    /// A mixed workload's figures per traffic class (each by its own SLO).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub classes: Vec<GroupResult>,
    /// A conversation workload's figures per turn (`turn 1`, `turn 2`, ...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub turns: Vec<GroupResult>,
    /// Set when the point stopped itself before its planned end (a threshold with
    /// `abort_on_fail` failed, or a breakpoint run passed saturation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped: Option<Stopped>,
    /// What a `breakpoint` run found: the load at which the server broke, or that it held
    /// up to the ramp's peak.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub breakpoint: Option<Breakpoint>,
    /// When a shard's measured window started (`run --shard`), and how late for its
    /// barrier (`--start-at`): what `merge` aligns the shards by.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<ShardWindow>,
    /// Each trial, in the order measured, when the point was measured more than once; the
    /// figures above are then the trials pooled, and GPU readings and server metrics are
    /// those of the last trial.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trials: Vec<Trial>,
}

/// Why a point stopped itself, and when.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Stopped {
    /// Seconds from the start of the measured window.
    pub at_s: f64,
    pub reason: String,
    /// Whether the run stops with it (k6's `abortOnFail` ends the whole test).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ends_run: bool,
}

/// When a shard's measured window started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct ShardWindow {
    /// Wall-clock milliseconds since the Unix epoch.
    pub start_unix_ms: f64,
    /// How long after its barrier the window started (0 on time; absent without one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub late_ms: Option<f64>,
}

/// What a breakpoint run found, step by step of its ramp.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Breakpoint {
    /// `concurrency` or `rate`.
    pub unit: String,
    /// Whether the server broke before the ramp's peak.
    pub broke: bool,
    /// The highest load the server took before it broke (the knee: throughput stopped
    /// rising there); the highest load reached when it did not break.
    pub load: f64,
    /// Why the run says it broke (or that it did not).
    pub reason: String,
    /// Each step of the ramp that finished: its load, output tokens/s, TTFT p50 and
    /// error share.
    pub steps: Vec<BreakpointStep>,
}

/// One step of a breakpoint ramp.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BreakpointStep {
    pub load: f64,
    pub requests: u64,
    pub output_tokens_per_s: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttft_p50_ms: Option<f64>,
    pub error_share: f64,
}

/// What one stage of a staged point measured.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct StageResult {
    /// Position among the point's stages, from 0.
    pub index: usize,
    /// When the stage started and ended, seconds from the start of the measured window.
    pub start_s: f64,
    pub end_s: f64,
    /// The level (requests in flight, or per second) at its start and at its end.
    pub from: f64,
    pub to: f64,
    /// Of the requests sent during the stage.
    pub requests: RequestCounts,
    pub duration_s: f64,
    pub throughput: Throughput,
    pub latency_ms: Latencies,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub goodput: Option<Goodput>,
}

/// What one group of a point's requests measured: a traffic class, or a conversation's
/// turn.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct GroupResult {
    pub name: String,
    pub requests: RequestCounts,
    pub duration_s: f64,
    pub throughput: Throughput,
    pub tokens: TokenStats,
    pub latency_ms: Latencies,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub goodput: Option<Goodput>,
}

impl Goodput {
    /// The goodput of requests split in groups, each judged by its own SLO (`slo` is the
    /// one shown; a criterion's count sums the groups that have it).
    pub fn combined<'a>(parts: impl IntoIterator<Item = &'a Goodput>, slo: Slo) -> Self {
        let mut all = Goodput {
            slo,
            ratio: 0.0,
            met: 0,
            total: 0,
            per_criterion: BTreeMap::new(),
        };
        for part in parts {
            all.met += part.met;
            all.total += part.total;
            for (name, count) in &part.per_criterion {
                match all.per_criterion.get_mut(name) {
                    Some(sum) => sum.met += count.met,
                    None => {
                        all.per_criterion.insert(name.clone(), count.clone());
                    }
                }
            }
        }
        all.ratio = if all.total == 0 {
            0.0
        } else {
            all.met as f64 / all.total as f64
        };
        all
    }
}

impl PointResult {
    /// The value `threshold` reads from the point; `None` when the point lacks it
    /// (goodput without an SLO).
    pub fn threshold_value(&self, threshold: &Threshold) -> Option<f64> {
        let summary = self.latency_ms.get(&threshold.metric);
        Some(match (threshold.stat, summary) {
            (Stat::Percentile(50) | Stat::Med, Some(s)) => s.p50,
            (Stat::Percentile(90), Some(s)) => s.p90,
            (Stat::Percentile(95), Some(s)) => s.p95,
            (Stat::Percentile(_), Some(s)) => s.p99,
            (Stat::Avg, Some(s)) => s.mean,
            (Stat::Min, Some(s)) => s.min,
            (Stat::Max, Some(s)) => s.max,
            (Stat::Rate, _) => match self.requests.total {
                0 => 0.0,
                total => self.requests.failed as f64 / total as f64,
            },
            (Stat::Ratio, _) => self.goodput.as_ref()?.ratio,
            (Stat::Value, _) if threshold.metric == "requests_per_s" => {
                self.throughput.requests_per_s
            }
            (Stat::Value, _) => self.throughput.output_tokens_per_s,
            _ => return None,
        })
    }

    /// Peak GPU memory used during the point, summed over its GPUs; `None` without readings.
    pub fn gpu_vram_peak_mib(&self) -> Option<f64> {
        (!self.gpu.is_empty()).then(|| self.gpu.iter().map(|g| g.memory_used_peak_mib).sum())
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RequestCounts {
    pub total: u64,
    pub ok: u64,
    pub failed: u64,
    /// Failures by kind (`http_500`, `timeout`, `stream_truncated`, ...).
    pub errors: BTreeMap<String, u64>,
    /// The first message of each kind (the server's error body, truncated; any API key
    /// scrubbed).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub error_samples: BTreeMap<String, String>,
}

/// Characters of an error's first message shown beside its kind.
const SAMPLE_CHARS: usize = 160;

impl RequestCounts {
    /// Each kind of failure with its count and first message:
    /// `http_500=2, first: “overloaded”; timeout=1`.
    pub fn errors_with_samples(&self) -> String {
        let kinds: Vec<String> = self
            .errors
            .iter()
            .map(|(kind, n)| match self.error_samples.get(kind) {
                Some(message) if !message.is_empty() => {
                    let shown: String = message.chars().take(SAMPLE_CHARS).collect();
                    format!("{kind}={n}, first: “{shown}”")
                }
                _ => format!("{kind}={n}"),
            })
            .collect();
        kinds.join("; ")
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Throughput {
    pub requests_per_s: f64,
    pub output_tokens_per_s: f64,
    pub total_tokens_per_s: f64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TokenStats {
    /// Mean prompt tokens per successful request (server usage when reported, else planned).
    pub input_mean: f64,
    pub output_mean: f64,
    /// `server_usage`, `chunks` (one token per text chunk), or `mixed`.
    pub source: String,
    /// Planned prompt length of the point.
    pub input_planned: u32,
    /// Largest |server-counted − planned| prompt length seen (server usage only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_max_error: Option<u32>,
    /// Largest number of prompt tokens served from the server's prefix cache.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cached_max: Option<u32>,
    /// Share of the prompt tokens served from the server's prefix cache, over the requests
    /// whose server said (usage `cached_tokens`, llama.cpp's `timings.cache_n`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cached_share: Option<f64>,
}

/// Latency summaries. `*_from_scheduled` are measured from the scheduled send time
/// (open loop: they include the client's own lateness, avoiding coordinated omission).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Latencies {
    pub ttft: Summary,
    pub tpot: Summary,
    pub itl: Summary,
    pub e2e: Summary,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttft_from_scheduled: Option<Summary>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub e2e_from_scheduled: Option<Summary>,
}

/// The latencies by name, in the order reports show them.
pub const LATENCY_NAMES: [&str; 4] = ["ttft", "tpot", "itl", "e2e"];

impl Latencies {
    /// The summary of `ttft`, `tpot`, `itl` or `e2e` (a `_ms` suffix is accepted).
    pub fn get(&self, name: &str) -> Option<&Summary> {
        match name.strip_suffix("_ms").unwrap_or(name) {
            "ttft" => Some(&self.ttft),
            "tpot" => Some(&self.tpot),
            "itl" => Some(&self.itl),
            "e2e" => Some(&self.e2e),
            _ => None,
        }
    }
}

/// Scheduled vs actual send times: client queue time (closed loop) or lateness (open loop).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Schedule {
    pub send_lag_ms: Summary,
    /// Requests sent more than [`LATE_SEND_MS`] after their scheduled time.
    pub late_sends: u64,
}

/// A send later than this after its scheduled time counts as late (tokio timers have 1 ms
/// granularity, so smaller lags are the clock, not the client falling behind).
pub const LATE_SEND_MS: f64 = 5.0;

/// Summary statistics in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub mean: f64,
    pub std: f64,
    pub min: f64,
    pub p50: f64,
    pub p90: f64,
    pub p95: f64,
    pub p99: f64,
    pub max: f64,
    pub count: u64,
}

/// How many requests met one criterion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CriterionCount {
    pub threshold_ms: f64,
    pub met: u64,
}

/// Goodput of a point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Goodput {
    pub slo: Slo,
    /// `met / total`, 0 when no request was sent.
    pub ratio: f64,
    pub met: u64,
    pub total: u64,
    /// Keyed by criterion (`ttft_ms`, `tpot_ms`, `e2e_ms`).
    pub per_criterion: BTreeMap<String, CriterionCount>,
}

fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        100.0 * part as f64 / whole as f64
    }
}

impl fmt::Display for Goodput {
    /// The seed's format: `Goodput: 87.0% (87/100 requests met SLO)` and one line per
    /// criterion.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Goodput: {:.1}% ({}/{} requests met SLO)",
            percent(self.met, self.total),
            self.met,
            self.total
        )?;
        for (name, c) in &self.per_criterion {
            let label = name.trim_end_matches("_ms").to_uppercase();
            write!(
                f,
                "\n  - {label} < {}ms: {}/{} ({:.0}%)",
                c.threshold_ms,
                c.met,
                self.total,
                percent(c.met, self.total)
            )?;
        }
        if self.per_criterion.len() > 1 {
            write!(
                f,
                "\n  - All (AND): {}/{} ({:.0}%)",
                self.met,
                self.total,
                percent(self.met, self.total)
            )?;
        }
        Ok(())
    }
}
