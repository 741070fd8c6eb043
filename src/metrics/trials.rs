//! Pooling the trials of a point: requests and durations summed, rates over the summed
//! duration, latency summaries from the merged histograms. Send lag has no stored
//! histogram: its pooled quantiles are the count-weighted means of the trials' (mean,
//! spread, extremes and count exact).

use std::collections::BTreeMap;

use super::LatencyHistogram;
use crate::result::{
    CpuTime, Goodput, Latencies, PointResult, RequestCounts, Schedule, Summary, Throughput,
    TokenStats, Trial,
};

/// Adds `trial` (a point measured once more) to `point`: its trials gain one, its figures
/// become the pooled ones, its GPU readings, server metrics, timeline and stages the latest, and a failure or
/// interruption of the trial is the point's.
pub fn add_trial(point: &mut PointResult, trial: PointResult) {
    let mut trials = point.each_trial();
    trials.push(trial.measured());
    point.set_measured(pool(&trials));
    point.trials = trials;
    point.partial |= trial.partial;
    point.failure = point.failure.take().or(trial.failure);
    if !trial.gpu.is_empty() {
        point.gpu = trial.gpu;
    }
    if trial.server_metrics.is_some() {
        point.server_metrics = trial.server_metrics;
    }
    if trial.timeline.is_some() {
        point.timeline = trial.timeline;
        point.stages = trial.stages;
    }
}

/// The trials pooled into one measurement: one after another, their durations add up.
pub fn pool(trials: &[Trial]) -> Trial {
    pool_over(trials, trials.iter().map(|t| t.duration_s).sum())
}

/// Measurements pooled into one of `duration_s`: rates are what they did in all over it.
/// Taken at the same time (the shards of a run), the duration is their common window and
/// their rates add up.
pub fn pool_over(trials: &[Trial], duration_s: f64) -> Trial {
    let rate = |of: fn(&Throughput) -> f64| {
        let sum: f64 = trials
            .iter()
            .map(|t| of(&t.throughput) * t.duration_s)
            .sum();
        if duration_s > 0.0 {
            sum / duration_s
        } else {
            0.0
        }
    };
    let histograms = merged_histograms(trials);
    let summary_of = |name: &str| {
        histograms
            .get(name)
            .and_then(|text| LatencyHistogram::from_base64(text).ok())
            .map(|h| h.summary())
            .unwrap_or_default()
    };
    let scheduled = |of: fn(&Latencies) -> Option<Summary>| {
        let summaries: Option<Vec<Summary>> = trials.iter().map(|t| of(&t.latency_ms)).collect();
        summaries.map(|s| pool_summaries(&s))
    };
    Trial {
        requests: pool_requests(trials),
        duration_s,
        throughput: Throughput {
            requests_per_s: rate(|t| t.requests_per_s),
            output_tokens_per_s: rate(|t| t.output_tokens_per_s),
            total_tokens_per_s: rate(|t| t.total_tokens_per_s),
        },
        tokens: pool_tokens(trials),
        latency_ms: Latencies {
            ttft: summary_of("ttft"),
            tpot: summary_of("tpot"),
            itl: summary_of("itl"),
            e2e: summary_of("e2e"),
            ttft_from_scheduled: scheduled(|l| l.ttft_from_scheduled),
            e2e_from_scheduled: scheduled(|l| l.e2e_from_scheduled),
        },
        schedule: Schedule {
            send_lag_ms: pool_summaries(
                &trials
                    .iter()
                    .map(|t| t.schedule.send_lag_ms)
                    .collect::<Vec<_>>(),
            ),
            late_sends: trials.iter().map(|t| t.schedule.late_sends).sum(),
        },
        goodput: pool_goodput(trials),
        histograms,
        client_cpu: trials.iter().fold(CpuTime::default(), |sum, t| CpuTime {
            user_s: sum.user_s + t.client_cpu.user_s,
            system_s: sum.system_s + t.client_cpu.system_s,
        }),
    }
}

/// Each histogram name's trials merged (a trial without it, or with one that does not
/// decode, adds nothing: results are checked when read).
fn merged_histograms(trials: &[Trial]) -> BTreeMap<String, String> {
    let mut merged: BTreeMap<String, LatencyHistogram> = BTreeMap::new();
    for trial in trials {
        for (name, text) in &trial.histograms {
            if let Ok(h) = LatencyHistogram::from_base64(text) {
                merged.entry(name.clone()).or_default().add(&h);
            }
        }
    }
    merged
        .into_iter()
        .map(|(name, h)| (name, h.to_base64()))
        .collect()
}

fn pool_requests(trials: &[Trial]) -> RequestCounts {
    let mut pooled = RequestCounts::default();
    for r in trials.iter().map(|t| &t.requests) {
        pooled.total += r.total;
        pooled.ok += r.ok;
        pooled.failed += r.failed;
        for (kind, n) in &r.errors {
            *pooled.errors.entry(kind.clone()).or_default() += n;
        }
        for (kind, message) in &r.error_samples {
            pooled
                .error_samples
                .entry(kind.clone())
                .or_insert_with(|| message.clone());
        }
    }
    pooled
}

fn pool_tokens(trials: &[Trial]) -> TokenStats {
    let ok: u64 = trials.iter().map(|t| t.requests.ok).sum();
    let mean = |of: fn(&TokenStats) -> f64| {
        let sum: f64 = trials
            .iter()
            .map(|t| of(&t.tokens) * t.requests.ok as f64)
            .sum();
        if ok > 0 {
            sum / ok as f64
        } else {
            0.0
        }
    };
    let first = trials.first().map(|t| &t.tokens);
    let same_source = trials
        .iter()
        .all(|t| Some(&t.tokens.source) == first.map(|f| &f.source));
    TokenStats {
        input_mean: mean(|t| t.input_mean),
        output_mean: mean(|t| t.output_mean),
        source: match first {
            Some(f) if same_source => f.source.clone(),
            _ => "mixed".into(),
        },
        input_planned: first.map_or(0, |f| f.input_planned),
        input_max_error: trials.iter().filter_map(|t| t.tokens.input_max_error).max(),
        cached_max: trials.iter().filter_map(|t| t.tokens.cached_max).max(),
        cached_share: pooled_share(trials),
    }
}

/// The trials' cache shares, weighted by their successful requests.
fn pooled_share(trials: &[Trial]) -> Option<f64> {
    let shares: Vec<(f64, f64)> = trials
        .iter()
        .filter_map(|t| Some((t.tokens.cached_share?, t.requests.ok as f64)))
        .collect();
    let weight: f64 = shares.iter().map(|s| s.1).sum();
    (weight > 0.0).then(|| shares.iter().map(|(s, w)| s * w).sum::<f64>() / weight)
}

fn pool_goodput(trials: &[Trial]) -> Option<Goodput> {
    let mut pooled: Option<Goodput> = None;
    for g in trials.iter().filter_map(|t| t.goodput.as_ref()) {
        let Some(p) = &mut pooled else {
            pooled = Some(g.clone());
            continue;
        };
        p.met += g.met;
        p.total += g.total;
        for (name, c) in &g.per_criterion {
            if let Some(pc) = p.per_criterion.get_mut(name) {
                pc.met += c.met;
            }
        }
    }
    pooled.map(|mut p| {
        p.ratio = if p.total > 0 {
            p.met as f64 / p.total as f64
        } else {
            0.0
        };
        p
    })
}

/// Summaries pooled without their samples: count, mean, standard deviation (by the law of
/// total variance) and extremes exact; quantiles the count-weighted means of the trials'.
fn pool_summaries(summaries: &[Summary]) -> Summary {
    let count: u64 = summaries.iter().map(|s| s.count).sum();
    if count == 0 {
        return Summary::default();
    }
    let weighted = |of: fn(&Summary) -> f64| {
        summaries
            .iter()
            .map(|s| of(s) * s.count as f64)
            .sum::<f64>()
            / count as f64
    };
    let mean = weighted(|s| s.mean);
    let second_moment = weighted(|s| s.std * s.std + s.mean * s.mean);
    let present = || summaries.iter().filter(|s| s.count > 0);
    Summary {
        mean,
        std: (second_moment - mean * mean).max(0.0).sqrt(),
        min: present().map(|s| s.min).fold(f64::INFINITY, f64::min),
        p50: weighted(|s| s.p50),
        p90: weighted(|s| s.p90),
        p95: weighted(|s| s.p95),
        p99: weighted(|s| s.p99),
        max: present().map(|s| s.max).fold(f64::NEG_INFINITY, f64::max),
        count,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trial(latencies_us: &[u64], duration_s: f64, failed: u64) -> Trial {
        let mut h = LatencyHistogram::default();
        latencies_us.iter().for_each(|&us| h.record_us(us));
        let ok = latencies_us.len() as u64;
        Trial {
            requests: RequestCounts {
                total: ok + failed,
                ok,
                failed,
                errors: BTreeMap::from([("timeout".to_owned(), failed)]),
                ..RequestCounts::default()
            },
            duration_s,
            throughput: Throughput {
                requests_per_s: ok as f64 / duration_s,
                output_tokens_per_s: 10.0 * ok as f64 / duration_s,
                total_tokens_per_s: 0.0,
            },
            tokens: TokenStats {
                output_mean: 10.0,
                source: "server_usage".into(),
                ..TokenStats::default()
            },
            latency_ms: Latencies {
                e2e: h.summary(),
                ..Latencies::default()
            },
            histograms: BTreeMap::from([("e2e".to_owned(), h.to_base64())]),
            ..Trial::default()
        }
    }

    #[test]
    fn trials_pool_into_one_measurement() {
        let pooled = pool(&[
            trial(&[10_000, 20_000], 1.0, 1),
            trial(&[30_000, 40_000, 50_000, 60_000], 3.0, 0),
        ]);
        assert_eq!((pooled.requests.total, pooled.requests.ok), (7, 6));
        assert_eq!(pooled.requests.errors["timeout"], 1);
        assert_eq!(pooled.duration_s, 4.0);
        // Six requests of 10 tokens in four seconds.
        assert!((pooled.throughput.output_tokens_per_s - 15.0).abs() < 1e-9);
        assert_eq!(pooled.tokens.output_mean, 10.0);
        let e2e = pooled.latency_ms.e2e;
        assert_eq!(e2e.count, 6);
        assert!(
            (e2e.p50 - 30.0).abs() < 0.05 && (e2e.max - 60.0).abs() < 0.1,
            "{e2e:?}"
        );
    }

    #[test]
    fn summaries_pool_their_mean_spread_and_extremes_exactly() {
        let a = Summary {
            mean: 1.0,
            std: 0.0,
            min: 1.0,
            max: 1.0,
            p50: 1.0,
            count: 2,
            ..Summary::default()
        };
        let b = Summary {
            mean: 3.0,
            min: 3.0,
            max: 3.0,
            p50: 3.0,
            ..a
        };
        let pooled = pool_summaries(&[a, b, Summary::default()]);
        // Values 1, 1, 3, 3: mean 2, standard deviation 1.
        assert_eq!((pooled.mean, pooled.std, pooled.count), (2.0, 1.0, 4));
        assert_eq!((pooled.min, pooled.max, pooled.p50), (1.0, 3.0, 2.0));
    }
}
