//! Serde types of a scenario file. Every struct denies unknown fields so that a typo is an
//! error naming the field, never a silently ignored setting.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use super::server_spec::{Matrix, MonitorSpec, ReadySpec, ServerSpec, StopSpec};
use super::Workload;

/// A benchmark scenario: what to measure, with which prompts, under which load.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Path or URL of the JSON Schema, for editors; ignored by the harness.
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// Scenario name; also the baseline file name.
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub target: Target,
    /// A server the harness launches for each configuration of `matrix`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<ServerSpec>,
    /// Server-side variables swept: every combination is a configuration, run with every
    /// input length and load level (`{"threads": [1, 2], "ubatch": [128, 2048]}`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub matrix: Matrix,
    pub workload: Workload,
    pub load: Load,
    /// GPU sampling and `/metrics` scraping during each point.
    #[serde(default)]
    pub monitor: MonitorSpec,
    /// Service-level objectives that define goodput (a request meets all of them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slo: Option<Slo>,
    /// k6-style thresholds checked on every point, with or without a baseline: metric to
    /// expressions (`{"ttft_ms": ["p(95) < 2000"], "error_rate": ["rate < 0.01"]}`), or
    /// `"sla"` for the seed's SLA. A breach fails `run` and `compare`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "thresholds"
    )]
    #[schemars(with = "Option<ThresholdSpec>")]
    pub thresholds: Option<ThresholdSpec>,
    /// `compare` thresholds per metric, overriding the defaults:
    /// `{"tpot_ms.p50": {"warn_pct": 5, "fail_pct": 10}}` (percentage points for
    /// `error_rate`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub compare: BTreeMap<String, CompareThreshold>,
}

/// SLO thresholds: a named preset or metric → expressions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum ThresholdSpec {
    Preset(ThresholdPreset),
    Expressions(BTreeMap<String, Vec<ThresholdEntry>>),
}

/// One threshold: an expression, or k6's object form that can stop the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum ThresholdEntry {
    Expression(String),
    Rule(ThresholdRule),
}

/// A threshold that stops the run when it fails (k6's `abortOnFail`), checked while the
/// point runs once `delay_abort_eval_s` have passed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ThresholdRule {
    pub threshold: String,
    #[serde(default, alias = "abortOnFail")]
    pub abort_on_fail: bool,
    /// Seconds into the point before the threshold may stop it (k6's `delayAbortEval`).
    #[serde(default)]
    pub delay_abort_eval_s: f64,
}

impl ThresholdEntry {
    /// The expression, and after how long its failure stops the run (never: `None`).
    pub fn parts(&self) -> (&str, Option<f64>) {
        match self {
            Self::Expression(e) => (e, None),
            Self::Rule(r) => (
                &r.threshold,
                r.abort_on_fail.then_some(r.delay_abort_eval_s),
            ),
        }
    }
}

/// Named threshold sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ThresholdPreset {
    /// TTFT p95 < 2 s; E2E p50 < 1.5 s, p95 < 3 s, p99 < 5 s; error rate < 1%.
    Sla,
}

fn thresholds<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<ThresholdSpec>, D::Error> {
    ThresholdSpec::deserialize(d).map(Some).map_err(|_| {
        serde::de::Error::custom(
            "expected \"sla\" or a map of metric to expressions, such as {\"ttft_ms\": [\"p(95) < 2000\", {\"threshold\": \"p(99) < 5000\", \"abort_on_fail\": true, \"delay_abort_eval_s\": 10}]}",
        )
    })
}

/// Warn and fail thresholds of one metric in `compare`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CompareThreshold {
    pub warn_pct: f64,
    pub fail_pct: f64,
}

/// The server under test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Target {
    /// Base URL of the OpenAI-compatible server; `${VAR:-default}` is expanded. Not with
    /// `embedded`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub base_url: String,
    /// `"sim"`: the harness starts its simulated server in-process for each configuration
    /// (the matrix variables `chunked_prefill`, `max_num_batched_tokens` and `tp` configure
    /// it); instead of `base_url`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub embedded: Option<Embedded>,
    /// The simulator's engine profile (`h100-llama3-8b`, `l4-llama3-8b`, `fixed-20ms`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// Which endpoint to drive.
    #[serde(default)]
    pub api: Api,
    /// Model name sent with each request; the first of `/v1/models` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Environment variable holding the API key (default: `LLM_LOADTEST_API_KEY`, then
    /// `OPENAI_API_KEY`). The key itself never appears in a scenario or a result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key_env: Option<String>,
    /// Tokenizer used to build prompts of exact length.
    #[serde(default)]
    pub tokenizer: TokenizerChoice,
}

/// Servers built into the harness.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Embedded {
    /// The simulated OpenAI-compatible server (`llm-loadtest sim`).
    Sim,
}

pub use crate::dialect::Api;

/// Where token counts of prompts come from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TokenizerChoice {
    /// The server's `/tokenize` when it has one, else `cl100k_base`.
    #[default]
    Auto,
    /// The server's `/tokenize` (vLLM, SGLang, llama.cpp); an error when missing.
    Server,
    /// tiktoken `cl100k_base` (approximate for non-OpenAI models).
    Cl100kBase,
    /// tiktoken `o200k_base` (approximate for non-OpenAI models).
    O200kBase,
}

/// The load shape: closed loop (`concurrency`) or open loop (`rate`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Load {
    /// Closed loop: number of requests kept in flight, one point per level.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<Vec<u32>>,
    /// Open loop: requests per second, one point per rate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<Vec<f64>>,
    /// Open-loop inter-arrival distribution.
    #[serde(default)]
    pub arrival: Arrival,
    /// Gamma shape for `arrival: gamma` (1 = Poisson, < 1 burstier, > 1 smoother).
    #[serde(default = "one")]
    pub burstiness: f64,
    /// A named shape around each level of `concurrency` or `rate` over `duration_s`:
    /// `smoke`, `load`, `stress`, `spike`, `soak` or `breakpoint` (k6's test types).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shape: Option<super::Shape>,
    /// Stages instead of levels: each moves the load linearly from where the previous one
    /// ended (zero at the start) to its target over its duration (`{"duration_s": 0}` jumps).
    /// One point, its statistics also kept per stage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stages: Option<Vec<Stage>>,
    /// Measured requests per point (excluding warmup).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests: Option<u32>,
    /// Seconds per point: no request is started after this, those in flight finish.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_s: Option<f64>,
    /// Warmup requests per point, excluded from results.
    #[serde(default = "three")]
    pub warmup: u32,
    /// Times each point is measured. The trials of the points that share a server are
    /// interleaved (every point once, then every point again), so that slow drift spreads
    /// over them; the verdict learns the run-to-run noise from them.
    #[serde(default = "one_trial", skip_serializing_if = "is_one_trial")]
    pub trials: u32,
    /// Per-request timeout in seconds, from send to the last byte.
    #[serde(default = "default_timeout")]
    pub timeout_s: f64,
    /// Width in seconds of the windows of each point's timeline (requests, throughput,
    /// TTFT and ITL over time).
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub timeline_window_s: f64,
}

fn one() -> f64 {
    1.0
}
fn is_one(value: &f64) -> bool {
    *value == 1.0
}
fn three() -> u32 {
    3
}
fn one_trial() -> u32 {
    1
}
fn is_one_trial(trials: &u32) -> bool {
    *trials == 1
}
fn default_timeout() -> f64 {
    120.0
}

/// One stage of a staged load: a target of requests in flight or of requests per second.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Stage {
    pub duration_s: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<f64>,
}

/// Open-loop inter-arrival distribution.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Arrival {
    /// Evenly spaced sends.
    Constant,
    /// Exponential inter-arrival times.
    #[default]
    Poisson,
    /// Gamma inter-arrival times with shape `burstiness`.
    Gamma,
}

/// Goodput SLO: a request is good when it meets every criterion given (strictly below).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Slo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttft_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tpot_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub e2e_ms: Option<f64>,
}
