//! The result contract (`schema_version` 2: trials per point, a baseline's history; files
//! of version 1 read as they are): what a run writes and what later runs compare
//! against. Any result file is a valid baseline. Every type a result file holds is defined
//! in this folder, below everything that builds it (the runner, metrics, monitors, server
//! probes) or reads it (compare, reports): those import it, it imports only the scenario.

mod environment;
mod history;
mod point;
mod sampled;
mod timeline;
mod trial;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::scenario::Scenario;

pub use environment::{Environment, GpuDevice, GpuEnvironment, Host, Revision, ServerInfo};
pub use history::{figures, HistoryEntry, QUANTILES};
pub use point::{
    Breakpoint, BreakpointStep, CriterionCount, Goodput, GroupResult, Latencies, PointResult,
    RequestCounts, Schedule, ShardWindow, StageResult, Stopped, Summary, Throughput, TokenStats,
    LATENCY_NAMES, LATE_SEND_MS,
};
pub use sampled::{is_kv_cache_gauge, CpuTime, GpuStats, ServerMetrics};
pub use timeline::{TimeWindow, Timeline};
pub use trial::Trial;

pub const SCHEMA_VERSION: u32 = 2;

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
    /// A shard's place among the processes that ran the plan together (`run --shard`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<ShardOf>,
    /// A merged result's shards (`llm-loadtest merge`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shards: Vec<MergedShard>,
    /// In a baseline file: the figures of the most recent accepted runs of the scenario,
    /// newest first, this one included (`baseline update --keep`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<HistoryEntry>,
}

/// Which shard of how many a result is, and where it ran.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShardOf {
    pub index: u32,
    pub count: u32,
    pub host: String,
    /// The barrier of the first measured window (`--start-at`), RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_at: Option<String>,
}

/// One shard of a merged result: where it came from, where it ran, how far apart it
/// started.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MergedShard {
    pub index: u32,
    /// The shard's result file.
    pub file: String,
    pub host: String,
    /// The most its measured windows started after the earliest shard's, ms.
    pub start_skew_ms: f64,
    /// The most its windows started after their barrier, ms (absent without one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub late_ms: Option<f64>,
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
