//! The parts of a scenario that sweep server configurations: `matrix` (named variables with
//! value lists) and `server` (how the harness launches, checks and stops the server for
//! each configuration), plus `monitor` (GPU sampling and `/metrics` scraping intervals).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A server the harness launches itself, once per configuration of the matrix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServerSpec {
    /// Program and arguments, run without a shell. `{var}` is a matrix variable,
    /// `{var?A:B}` is A when it is true and B otherwise (an argument left empty is dropped),
    /// `{port}` a free port the harness picks (and puts in the target URL), and
    /// `${ENV}` / `${ENV:-default}` the environment.
    pub command: Vec<String>,
    /// Extra environment variables of the server, with the same substitutions.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
    /// Working directory of the server (default: the harness's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwd: Option<String>,
    #[serde(default)]
    pub ready: ReadySpec,
    #[serde(default)]
    pub stop: StopSpec,
}

/// When a launched server counts as ready.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadySpec {
    /// Path polled until it answers 2xx; by default the dialect's health check
    /// (`/health`; Triton's `/v2/health/ready`, Ollama's `/api/version`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Seconds to wait (a large model takes minutes to load).
    #[serde(default = "ready_timeout")]
    pub timeout_s: f64,
}

impl Default for ReadySpec {
    fn default() -> Self {
        Self {
            path: None,
            timeout_s: ready_timeout(),
        }
    }
}

fn ready_timeout() -> f64 {
    600.0
}

/// How a launched server is stopped: SIGTERM to its process group, then SIGKILL after the
/// grace period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StopSpec {
    #[serde(default = "grace")]
    pub grace_s: f64,
}

impl Default for StopSpec {
    fn default() -> Self {
        Self { grace_s: grace() }
    }
}

fn grace() -> f64 {
    15.0
}

/// The matrix: variable name to its values (numbers, strings or booleans). Every
/// combination is one server configuration.
pub type Matrix = BTreeMap<String, Vec<Value>>;

/// What is sampled beside the load during each point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MonitorSpec {
    /// Milliseconds between GPU readings (NVML); 0 turns sampling off.
    #[serde(default = "gpu_interval")]
    pub gpu_interval_ms: u64,
    /// Milliseconds between scrapes of the server's Prometheus `/metrics`; 0 turns it off.
    #[serde(default = "metrics_interval")]
    pub metrics_interval_ms: u64,
    /// Path of the server's Prometheus metrics.
    #[serde(default = "metrics_path")]
    pub metrics_path: String,
}

impl Default for MonitorSpec {
    fn default() -> Self {
        Self {
            gpu_interval_ms: gpu_interval(),
            metrics_interval_ms: metrics_interval(),
            metrics_path: metrics_path(),
        }
    }
}

fn gpu_interval() -> u64 {
    500
}
fn metrics_interval() -> u64 {
    1000
}
fn metrics_path() -> String {
    "/metrics".into()
}
