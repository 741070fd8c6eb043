//! What was sampled beside the load during a point: each GPU over the measured window, the
//! server's Prometheus metrics, and the CPU time of the harness itself.

use std::collections::BTreeMap;
use std::ops::{AddAssign, Sub};

use serde::{Deserialize, Serialize};

/// CPU seconds spent by the process.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct CpuTime {
    pub user_s: f64,
    pub system_s: f64,
}

impl Sub for CpuTime {
    type Output = CpuTime;
    fn sub(self, earlier: CpuTime) -> CpuTime {
        CpuTime {
            user_s: self.user_s - earlier.user_s,
            system_s: self.system_s - earlier.system_s,
        }
    }
}

impl AddAssign for CpuTime {
    fn add_assign(&mut self, other: CpuTime) {
        self.user_s += other.user_s;
        self.system_s += other.system_s;
    }
}

/// One GPU over a point's measured window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GpuStats {
    pub index: u32,
    pub name: String,
    pub samples: u32,
    pub memory_used_peak_mib: f64,
    pub memory_used_mean_mib: f64,
    pub memory_total_mib: f64,
    /// `null` when the device does not report it (MIG instances, some boards).
    #[serde(default)]
    pub utilization_mean_pct: Option<f64>,
    #[serde(default)]
    pub temperature_max_c: Option<f64>,
    #[serde(default)]
    pub power_mean_w: Option<f64>,
}

/// Whether a server metric is its KV cache's use, 0 to 1 (vLLM's `kv_cache_usage_perc`
/// and older `gpu_cache_usage_perc`, SGLang's, llama.cpp's `kv_cache_usage_ratio`).
pub fn is_kv_cache_gauge(name: &str) -> bool {
    [
        "kv_cache_usage_perc",
        "gpu_cache_usage_perc",
        "kv_cache_usage_ratio",
    ]
    .iter()
    .any(|suffix| name.ends_with(suffix))
}

/// What the server's metrics say about one point.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ServerMetrics {
    /// Scrapes that succeeded, and those that failed.
    pub scrapes: u32,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub failed_scrapes: u32,
    /// Counter increases over the window (histogram `_sum` and `_count` included).
    pub deltas: BTreeMap<String, f64>,
    /// Gauge maxima during the window.
    pub peaks: BTreeMap<String, f64>,
    /// Gauge means during the window.
    pub means: BTreeMap<String, f64>,
    /// Figures computed from the deltas: `prefix_cache_hit_rate` (vLLM).
    #[serde(default)]
    pub derived: BTreeMap<String, f64>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}
