//! The seed study's sections, read from a run (the templates lay them out as tables): input
//! length (case, latency, tokens/s, GPU memory), concurrency (mean, max, min latency) and
//! chunked prefill on vs off with the speed-up. Latency here is end-to-end, as in the seed.
//! Each row keeps the index of its point in the result, so a rendered figure can be traced
//! to the JSON.

use serde::Serialize;

use super::axes::{self, chunked_pairs};
use crate::result::{PointResult, RunResult};

/// A row of the input-length table: the point at the lowest load of its input length.
#[derive(Debug, Clone, Serialize)]
pub struct InputRow {
    pub point: usize,
    /// Server configuration, empty without a sweep.
    pub config: String,
    /// `short`, `mid`, `long` or `very long`, as the seed names 1k, 3k, 6k and 10k.
    pub case: &'static str,
    pub input_tokens: u64,
    pub load: String,
    pub e2e_mean_ms: f64,
    pub ttft_p50_ms: f64,
    pub output_tokens_per_s: f64,
    /// Peak GPU memory used (all GPUs), MiB.
    pub gpu_vram_peak_mib: Option<f64>,
    /// Failed requests and other remarks.
    pub note: String,
}

/// A row of the concurrency table.
#[derive(Debug, Clone, Serialize)]
pub struct LoadRow {
    pub point: usize,
    pub config: String,
    pub input_tokens: u64,
    /// The load level as written (`4`, `2.5`).
    pub load: String,
    pub e2e_mean_ms: f64,
    pub e2e_max_ms: f64,
    pub e2e_min_ms: f64,
}

/// A row of the chunked-prefill table.
#[derive(Debug, Clone, Serialize)]
pub struct ChunkedRow {
    pub on_point: usize,
    pub off_point: usize,
    /// The other settings shared by the pair.
    pub config: String,
    pub input_tokens: u64,
    pub load: String,
    pub on_e2e_mean_ms: f64,
    pub off_e2e_mean_ms: f64,
    /// How much faster on is than off (mean E2E), in percent.
    pub speedup_pct: Option<f64>,
}

/// The seed study's rows of one run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Study {
    pub input_lengths: Vec<InputRow>,
    pub loads: Vec<LoadRow>,
    pub chunked_prefill: Vec<ChunkedRow>,
    /// `concurrency` or `request rate (req/s)`.
    pub load_title: String,
}

fn case(tokens: f64) -> &'static str {
    match tokens {
        t if t < 2000.0 => "short",
        t if t < 4500.0 => "mid",
        t if t < 8000.0 => "long",
        _ => "very long",
    }
}

fn index_of(result: &RunResult, point: &PointResult) -> usize {
    result
        .points
        .iter()
        .position(|p| p.id == point.id)
        .unwrap_or_default()
}

fn note(point: &PointResult) -> String {
    let mut notes = Vec::new();
    if point.failure.is_some() {
        notes.push("not measured".into());
    }
    if point.requests.failed > 0 {
        notes.push(format!(
            "{} of {} failed",
            point.requests.failed, point.requests.total
        ));
    }
    if point.partial {
        notes.push("partial".into());
    }
    notes.join("; ")
}

/// The seed study's rows of `result`.
pub fn study(result: &RunResult) -> Study {
    let mut study = Study {
        load_title: result
            .points
            .iter()
            .find_map(axes::load)
            .map_or("load", |(name, _)| axes::load_title(name))
            .to_owned(),
        ..Study::default()
    };
    let load_of = |p: &PointResult| axes::load(p).map_or(0.0, |l| l.1);
    // Points that were not measured have no figures (the warnings say why); points whose
    // prompts came from a file or the classes have no input length to table.
    let measured = || {
        let points = result.points.iter();
        points.filter(|p| p.failure.is_none() && axes::input(p).is_some())
    };
    for (config, members) in axes::group_by(measured(), |p| axes::config(p, &[])) {
        for (input, of_input) in axes::group_by(members.iter().copied(), |p| {
            axes::input(p).unwrap_or_default()
        }) {
            if let Some(lowest) = of_input
                .iter()
                .min_by(|a, b| load_of(a).total_cmp(&load_of(b)))
            {
                study.input_lengths.push(InputRow {
                    point: index_of(result, lowest),
                    config: config.clone(),
                    case: case(input),
                    input_tokens: input as u64,
                    load: axes::load(lowest)
                        .map(|(n, v)| axes::load_label(n, v))
                        .unwrap_or_default(),
                    e2e_mean_ms: lowest.latency_ms.e2e.mean,
                    ttft_p50_ms: lowest.latency_ms.ttft.p50,
                    output_tokens_per_s: lowest.throughput.output_tokens_per_s,
                    gpu_vram_peak_mib: lowest.gpu_vram_peak_mib(),
                    note: note(lowest),
                });
            }
            for point in of_input {
                let e2e = &point.latency_ms.e2e;
                study.loads.push(LoadRow {
                    point: index_of(result, point),
                    config: config.clone(),
                    input_tokens: input as u64,
                    load: load_of(point).to_string(),
                    e2e_mean_ms: e2e.mean,
                    e2e_max_ms: e2e.max,
                    e2e_min_ms: e2e.min,
                });
            }
        }
    }
    for (config, members) in
        axes::group_by(measured(), |p| axes::config(p, &[axes::CHUNKED_PREFILL]))
    {
        for pair in chunked_pairs(&members) {
            study.chunked_prefill.push(ChunkedRow {
                on_point: index_of(result, pair.on),
                off_point: index_of(result, pair.off),
                config: config.clone(),
                input_tokens: axes::input(pair.on).unwrap_or_default() as u64,
                load: axes::load(pair.on)
                    .map(|(n, v)| axes::load_label(n, v))
                    .unwrap_or_default(),
                on_e2e_mean_ms: pair.on.latency_ms.e2e.mean,
                off_e2e_mean_ms: pair.off.latency_ms.e2e.mean,
                speedup_pct: pair.speedup_pct(),
            });
        }
    }
    study
}
