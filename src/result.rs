//! The result contract (`schema_version` 1): what a run writes and what later runs compare
//! against. Any result file is a valid baseline. Files are written atomically (a temporary
//! file in the same directory, then a rename), so a crash never leaves half a result.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::metrics::{Goodput, Summary};
use crate::monitor::{CpuTime, Environment, GpuStats};
use crate::scenario::Scenario;
use crate::server::ServerMetrics;

pub const SCHEMA_VERSION: u32 = 1;

/// A whole run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunResult {
    pub schema_version: u32,
    pub tool: Tool,
    /// The scenario as run: environment variables expanded, no secret.
    pub scenario: Scenario,
    pub started_at: String,
    pub finished_at: String,
    /// True when the run was interrupted (Ctrl-C): the points measured so far are kept.
    pub partial: bool,
    pub environment: Environment,
    /// How prompts were sized.
    pub prompts: PromptInfo,
    /// What the harness itself cost.
    pub client: ClientCost,
    /// The servers the harness launched, one per configuration (server sweeps only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub servers: Vec<ServerRun>,
    pub points: Vec<PointResult>,
}

/// A server launched for one configuration of the matrix.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ServerRun {
    /// The configuration's matrix values.
    pub config: BTreeMap<String, serde_json::Value>,
    /// The command line: placeholders expanded; `${ENV}` references and the API key not.
    pub command: Vec<String>,
    /// The file that holds the server's output.
    pub log: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Why the server could not be used for (some of) its points.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<Failure>,
}

/// Why something was not measured, with the server's last words.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Failure {
    /// One line (`out of memory: the server exited before it was ready (exit status 1)`).
    pub reason: String,
    /// The last lines of the server's log.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub log_tail: Vec<String>,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.reason)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Tool {
    pub name: String,
    pub version: String,
}

impl Tool {
    pub fn this() -> Self {
        Self {
            name: env!("CARGO_PKG_NAME").into(),
            version: env!("CARGO_PKG_VERSION").into(),
        }
    }
}

/// How input lengths were made exact.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PromptInfo {
    /// `server` (the server's `/tokenize`) or a tiktoken encoding.
    pub tokenizer: String,
    /// Whether the tokenizer is the server's own; otherwise lengths are approximate.
    pub exact: bool,
    /// Tokens the server adds around a prompt (chat template, BOS), measured by a probe;
    /// `None` when the server reports no usage.
    pub template_overhead_tokens: Option<u32>,
    pub seed: u64,
}

/// What the harness process cost.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ClientCost {
    /// Whole process, start to result.
    pub cpu: CpuTime,
    /// During measured windows only (sum over points).
    pub measuring_cpu: CpuTime,
    pub peak_rss_mib: f64,
}

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

/// Writes `value` as pretty JSON to `path` atomically.
pub fn write_json_atomic<T: Serialize>(path: &Path, value: &T) -> std::io::Result<()> {
    let mut bytes = serde_json::to_vec_pretty(value).map_err(std::io::Error::other)?;
    bytes.push(b'\n');
    write_atomic(path, &bytes)
}

/// Writes `bytes` to `path` through a temporary file in the same directory and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir)?;
    // Readable by all like any file a tool writes (a temporary file is 0600 by default).
    let mut file = tempfile::Builder::new()
        .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644))
        .tempfile_in(dir)?;
    file.write_all(bytes)?;
    file.as_file().sync_all()?;
    file.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_the_file_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/r.json");
        write_json_atomic(&path, &serde_json::json!({"a": 1})).unwrap();
        write_json_atomic(&path, &serde_json::json!({"a": 2})).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("\"a\": 2"));
        assert_eq!(
            std::fs::read_dir(path.parent().unwrap()).unwrap().count(),
            1
        );
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(&path).unwrap().permissions(),
        );
        assert_eq!(mode & 0o777, 0o644, "readable like any written file");
    }
}
