//! One trial of a point: what a single measurement of it gave. A point measured more than
//! once keeps each trial, and its own figures are the trials pooled (requests summed,
//! histograms merged), so that readers of a point need not know about trials.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::TokenStats;
use super::{CpuTime, Goodput, Latencies, PointResult, RequestCounts, Schedule, Throughput};

/// The measured part of a point, for one trial (or pooled over them).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Trial {
    pub requests: RequestCounts,
    pub duration_s: f64,
    pub throughput: Throughput,
    pub tokens: TokenStats,
    pub latency_ms: Latencies,
    pub schedule: Schedule,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub goodput: Option<Goodput>,
    /// Base64 HdrHistogram V2+DEFLATE in microseconds, keyed like `latency_ms`.
    pub histograms: BTreeMap<String, String>,
    pub client_cpu: CpuTime,
}

impl PointResult {
    /// What this point measured (its pooled figures when it has trials).
    pub fn measured(&self) -> Trial {
        Trial {
            requests: self.requests.clone(),
            duration_s: self.duration_s,
            throughput: self.throughput.clone(),
            tokens: self.tokens.clone(),
            latency_ms: self.latency_ms.clone(),
            schedule: self.schedule.clone(),
            goodput: self.goodput.clone(),
            histograms: self.histograms.clone(),
            client_cpu: self.client_cpu,
        }
    }

    /// Replaces what this point measured.
    pub fn set_measured(&mut self, trial: Trial) {
        self.requests = trial.requests;
        self.duration_s = trial.duration_s;
        self.throughput = trial.throughput;
        self.tokens = trial.tokens;
        self.latency_ms = trial.latency_ms;
        self.schedule = trial.schedule;
        self.goodput = trial.goodput;
        self.histograms = trial.histograms;
        self.client_cpu = trial.client_cpu;
    }

    /// Each trial of the point: its stored trials, or the point itself when measured once.
    pub fn each_trial(&self) -> Vec<Trial> {
        if self.trials.is_empty() {
            vec![self.measured()]
        } else {
            self.trials.clone()
        }
    }
}
