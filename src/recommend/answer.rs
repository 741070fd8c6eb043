//! The answer of `recommend`: per server configuration, the sustainable load per replica
//! (the highest load whose goodput met the target, with the first that missed beside it),
//! the criterion that failed first, the replicas and GPUs the peak needs with its headroom,
//! the throughput knee as a second opinion, and every probe's figures as evidence.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::search::{Bracket, End, Unit};
use crate::metrics::{Settled, Share};
use crate::result::PointResult;
use crate::scenario::Slo;

/// Share of failed requests past which a probe's misses are blamed on errors.
const ERROR_BLAME: f64 = 0.05;

/// One probe: a load measured, with what it showed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProbeRecord {
    pub load: f64,
    /// Requests measured (the probe stops early once its goodput is settled).
    pub requests: u64,
    pub goodput: Share,
    pub settled: Settled,
    /// Of the requests measured, the share that met each SLO criterion.
    pub criteria: BTreeMap<String, f64>,
    pub error_share: f64,
    pub output_tokens_per_s: f64,
    pub ttft_p50_ms: f64,
    pub ttft_p99_ms: f64,
    pub tpot_p50_ms: f64,
    pub e2e_p50_ms: f64,
}

impl ProbeRecord {
    /// The record of a probe at `load` that measured `point`, against `target`.
    pub fn of(load: f64, point: &PointResult, target: f64) -> Self {
        let requests = point.requests.total;
        let (met, criteria) = match &point.goodput {
            Some(g) => (
                g.met,
                g.per_criterion
                    .iter()
                    .map(|(name, c)| (name.clone(), share(c.met, g.total)))
                    .collect(),
            ),
            None => (point.requests.ok, BTreeMap::new()),
        };
        let goodput = Share::of(met, requests);
        let l = &point.latency_ms;
        Self {
            load,
            requests,
            settled: goodput.against(target),
            goodput,
            criteria,
            error_share: share(point.requests.failed, requests),
            output_tokens_per_s: point.throughput.output_tokens_per_s,
            ttft_p50_ms: l.ttft.p50,
            ttft_p99_ms: l.ttft.p99,
            tpot_p50_ms: l.tpot.p50,
            e2e_p50_ms: l.e2e.p50,
        }
    }

    /// What failed this probe first: errors, or the criterion the fewest requests met.
    fn binding(&self) -> Option<String> {
        if self.error_share > ERROR_BLAME {
            return Some("errors".to_owned());
        }
        let lowest = self.criteria.iter().min_by(|a, b| a.1.total_cmp(b.1));
        lowest.map(|(name, _)| name.trim_end_matches("_ms").to_uppercase())
    }
}

fn share(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

/// The answer for one server configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfigAnswer {
    /// The configuration's matrix values (empty without a matrix).
    pub config: BTreeMap<String, Value>,
    /// The highest load per replica whose goodput met the target.
    pub sustainable: Option<f64>,
    /// The lowest load that missed it: the answer lies between the two.
    pub missed_at: Option<f64>,
    pub end: End,
    /// The criterion that failed first at `missed_at` (`TTFT`, `TPOT`, `E2E`, `errors`).
    pub binding: Option<String>,
    /// Set when the probes around the answer could not settle it: why, and how many
    /// requests per probe would.
    pub inconclusive: Option<String>,
    /// Replicas and GPUs the peak needs, with the headroom.
    pub replicas: Option<u64>,
    pub gpus_per_replica: u32,
    pub gpus: Option<u64>,
    /// Sustainable load per GPU (the matrix's best configuration has the most).
    pub per_gpu: Option<f64>,
    /// Where throughput stops rising against load (five probes or more).
    pub knee: Option<f64>,
    /// Requests all probes measured.
    pub requests: u64,
    pub probes: Vec<ProbeRecord>,
    /// Why this configuration could not be measured, if it could not.
    pub failure: Option<String>,
}

/// What the peak is, and what a replica may carry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sizing {
    pub unit: Unit,
    /// The peak load the fleet must carry.
    pub peak: f64,
    /// Spare capacity on top of the peak, in percent.
    pub headroom_pct: f64,
    /// Goodput a replica must keep, in percent.
    pub goodput_target_pct: f64,
    pub slo: Slo,
}

impl ConfigAnswer {
    /// The answer from the search's `bracket` over `probes`, sized for `sizing`.
    pub fn new(
        config: BTreeMap<String, Value>,
        bracket: Bracket,
        mut probes: Vec<ProbeRecord>,
        sizing: &Sizing,
        gpus_per_replica: u32,
    ) -> Self {
        probes.sort_by(|a, b| a.load.total_cmp(&b.load));
        let at = |load: Option<f64>| probes.iter().find(|p| Some(p.load) == load);
        let target = sizing.goodput_target_pct / 100.0;
        let inconclusive = [at(bracket.met), at(bracket.missed)]
            .into_iter()
            .flatten()
            .find(|p| p.settled == Settled::Unsure)
            .map(|p| unsettled(p, target));
        let replicas = bracket.met.filter(|&s| s > 0.0).map(|s| {
            (sizing.peak * (1.0 + sizing.headroom_pct / 100.0) / s)
                .ceil()
                .max(1.0) as u64
        });
        let throughput: Vec<(f64, f64)> = probes
            .iter()
            .map(|p| (p.load, p.output_tokens_per_s))
            .collect();
        Self {
            config,
            sustainable: bracket.met,
            missed_at: bracket.missed,
            end: bracket.end,
            binding: at(bracket.missed).and_then(ProbeRecord::binding),
            inconclusive,
            replicas,
            gpus_per_replica,
            gpus: replicas.map(|r| r * u64::from(gpus_per_replica)),
            per_gpu: bracket.met.map(|s| s / f64::from(gpus_per_replica.max(1))),
            knee: super::knee::knee(&throughput),
            requests: probes.iter().map(|p| p.requests).sum(),
            probes,
            failure: None,
        }
    }
}

/// Why `probe` did not settle, and the requests per probe that would.
fn unsettled(probe: &ProbeRecord, target: f64) -> String {
    let g = &probe.goodput;
    let more = g
        .requests_to_settle(target)
        .map_or("a different load".to_owned(), |n| {
            format!("about {n} requests per probe")
        });
    format!(
        "goodput {:.1}% [{:.1}%, {:.1}%] at {} is too near the {:.0}% target to settle with {} requests; {more} would settle it",
        g.ratio * 100.0,
        g.low * 100.0,
        g.high * 100.0,
        probe.load,
        target * 100.0,
        g.total
    )
}

/// The whole answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recommendation {
    pub scenario: String,
    /// Measured on the embedded simulator, not a real server.
    pub simulated: bool,
    pub sizing: Sizing,
    /// The first (or only) configuration's answer, for machines.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sustainable_concurrency: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sustainable_rate: Option<f64>,
    pub replicas: Option<u64>,
    pub gpus: Option<u64>,
    /// Index of the configuration with the most load per GPU.
    pub best: Option<usize>,
    pub configurations: Vec<ConfigAnswer>,
}

impl Recommendation {
    /// The answer over `configurations`, the best one picked (most load per GPU).
    pub fn new(
        scenario: String,
        simulated: bool,
        sizing: Sizing,
        configurations: Vec<ConfigAnswer>,
    ) -> Self {
        let best = configurations
            .iter()
            .enumerate()
            .filter_map(|(i, c)| c.per_gpu.map(|p| (i, p)))
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(i, _)| i);
        let chosen = best.and_then(|i| configurations.get(i));
        let sustainable = chosen.and_then(|c| c.sustainable);
        let (concurrency, rate) = match sizing.unit {
            Unit::Concurrency => (sustainable, None),
            Unit::Rate => (None, sustainable),
        };
        Self {
            scenario,
            simulated,
            replicas: chosen.and_then(|c| c.replicas),
            gpus: chosen.and_then(|c| c.gpus),
            sustainable_concurrency: concurrency,
            sustainable_rate: rate,
            best,
            sizing,
            configurations,
        }
    }
}
