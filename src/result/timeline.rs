//! A point's time series: fixed windows from the start of its measured window, each with
//! the requests started and finished in it, those in flight at its end, output tokens/s,
//! TTFT and ITL percentiles of the requests that finished in it, errors by kind and how
//! late the sends were, so that a ramp, a spike or a slow leak shows when it happened.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The windows of one point.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Timeline {
    /// Width of each window, seconds.
    pub window_s: f64,
    /// Oldest first, without gaps; the last may be shorter.
    pub windows: Vec<TimeWindow>,
}

/// One window.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TimeWindow {
    /// Start, seconds from the start of the measured window.
    pub start_s: f64,
    /// Requests sent in the window.
    pub started: u32,
    /// Requests that ended in the window (failed ones included).
    pub finished: u32,
    /// Requests sent and not yet ended at the window's end.
    pub in_flight: u32,
    /// Output tokens of the requests that ended in the window, per second of it.
    pub output_tokens_per_s: f64,
    /// TTFT and ITL percentiles of the requests that ended in the window, ms (from at most
    /// a few hundred samples each); absent without such requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttft_p50_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttft_p99_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub itl_p50_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub itl_p99_ms: Option<f64>,
    /// Failures that ended in the window, by kind.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub errors: BTreeMap<String, u32>,
    /// Open loop: the latest send behind its schedule among those sent in the window, ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub send_lag_max_ms: Option<f64>,
    /// Means of the gauges sampled beside the load in the window (server metrics such as
    /// `vllm:num_requests_waiting`, GPU `gpu0.memory_used_mib`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub gauges: BTreeMap<String, f64>,
}
