//! The recommended configuration: among the configurations measured without failures, the
//! one that met the SLO at the highest load (when there is an SLO), then the one with the
//! most output tokens/s per GPU; among those whose throughput per GPU is within its
//! interval, the one with the shortest waits a user sees (TTFT p50 plus ITL p99).

use super::super::axes::{self, TENSOR_PARALLEL};
use super::super::format::{percent, shown};
use super::capacity::{limits, Criterion};
use super::figure::{ITL_P99, THROUGHPUT, TTFT_P50};
use super::{Conclusion, Measured};
use crate::compare::stats::Change;
use crate::result::{PointResult, RunResult};

/// Error rate above which a configuration is not recommended.
const MAX_ERROR_RATE: f64 = 0.01;

/// One configuration's standing.
struct Standing<'a> {
    config: String,
    /// The lowest, over its input lengths, of the highest load that met the SLO (infinite
    /// without an SLO); `None` when some input length met it at no load.
    held: Option<f64>,
    /// Mean output tokens/s per GPU over its points.
    per_gpu: f64,
    /// Mean TTFT p50 plus ITL p99 over its points, ms.
    wait_ms: f64,
    members: Vec<Measured<'a>>,
}

fn gpus(point: &PointResult) -> f64 {
    point
        .params
        .get(TENSOR_PARALLEL)
        .and_then(axes::number)
        .unwrap_or(1.0)
        .max(1.0)
}

fn mean(members: &[Measured], figure: impl Fn(&PointResult) -> f64) -> f64 {
    members.iter().map(|m| figure(m.1)).sum::<f64>() / members.len().max(1) as f64
}

/// Why a configuration cannot be recommended, if it cannot.
fn unfit(members: &[Measured]) -> Option<String> {
    if members.iter().any(|m| m.1.failure.is_some()) {
        return Some("not measured".into());
    }
    let failed: u64 = members.iter().map(|m| m.1.requests.failed).sum();
    let total: u64 = members.iter().map(|m| m.1.requests.total).sum();
    let rate = if total == 0 {
        0.0
    } else {
        failed as f64 / total as f64
    };
    (rate > MAX_ERROR_RATE).then(|| format!("{:.1}% of requests failed", 100.0 * rate))
}

/// The recommended configuration, with the rule that chose it.
pub fn recommended(result: &RunResult, measured: &[Measured]) -> Conclusion {
    let topic = "Recommended configuration";
    let configs = axes::group_by(result.points.iter().enumerate(), |(_, p)| {
        axes::config(p, &[])
    });
    if configs.len() < 2 {
        let text = "One configuration was measured, so there is nothing to choose between; \
                    sweep server options in a scenario matrix to get a recommendation."
            .to_owned();
        return Conclusion::new(topic, text, false, Vec::new());
    }
    let criterion = Criterion::of(result);
    let mut left_out = Vec::new();
    let mut standings: Vec<Standing> = Vec::new();
    for (config, members) in configs {
        match unfit(&members) {
            Some(why) => left_out.push(format!("{config} ({why})")),
            None => standings.push(standing(config, members, measured, criterion.as_ref())),
        }
    }
    let mut text = match choose(&mut standings) {
        Some(text) => text,
        None => {
            let text = format!(
                "No configuration can be recommended: {}.",
                left_out.join(", ")
            );
            return Conclusion::new(topic, text, false, Vec::new());
        }
    };
    let best = &standings[0];
    let supported = best.held.is_some();
    text.push_str(&match &criterion {
        Some(_) => format!("{} Rule: the configuration that met the SLO at the highest load, then the most output tokens/s per GPU, then the shortest waits (TTFT p50 plus ITL p99) among those within its interval.", held_text(best)),
        None => " Rule (no SLO is set): the most output tokens/s per GPU, then the shortest waits (TTFT p50 plus ITL p99) among those within its interval.".into(),
    });
    if !left_out.is_empty() {
        text.push_str(&format!(" Left out: {}.", left_out.join(", ")));
    }
    let points = best.members.iter().map(|m| m.0).collect();
    Conclusion::new(topic, text, supported, points)
}

fn standing<'a>(
    config: String,
    members: Vec<Measured<'a>>,
    measured: &[Measured<'a>],
    criterion: Option<&Criterion>,
) -> Standing<'a> {
    let held = match criterion {
        None => Some(f64::INFINITY),
        Some(criterion) => {
            let own: Vec<Measured> = measured
                .iter()
                .copied()
                .filter(|m| axes::config(m.1, &[]) == config)
                .collect();
            limits(&own, criterion)
                .iter()
                .map(|l| l.held.map(|m| axes::load(m.1).map_or(0.0, |l| l.1)))
                .try_fold(f64::INFINITY, |low, held| held.map(|h| low.min(h)))
        }
    };
    let per_gpu = mean(&members, |p| p.throughput.output_tokens_per_s / gpus(p));
    let wait_ms = mean(&members, |p| {
        TTFT_P50.value(p).unwrap_or_default() + ITL_P99.value(p).unwrap_or_default()
    });
    Standing {
        config,
        held,
        per_gpu,
        wait_ms,
        members,
    }
}

/// Orders `standings` with the recommended one first, and says why it was chosen.
fn choose(standings: &mut [Standing]) -> Option<String> {
    let held = |s: &Standing| s.held.unwrap_or(f64::NEG_INFINITY);
    standings.sort_by(|a, b| {
        held(b)
            .total_cmp(&held(a))
            .then(b.per_gpu.total_cmp(&a.per_gpu))
    });
    let top = standings.first()?;
    // Those as good on the SLO whose throughput per GPU is within the top one's interval.
    let tied = standings
        .iter()
        .position(|s| held(s) != held(top) || per_gpu_change(top, s).is_some_and(|c| c.low > 0.0))
        .unwrap_or(standings.len());
    standings[..tied].sort_by(|a, b| a.wait_ms.total_cmp(&b.wait_ms));
    let best = &standings[0];
    let mut text = format!(
        "{}: {} output tok/s per GPU and {} ms of TTFT p50 plus ITL p99, on average over its points.",
        best.config,
        shown(best.per_gpu),
        shown(best.wait_ms)
    );
    for other in &standings[1..tied] {
        let change = per_gpu_change(other, best).map_or("not compared".into(), |c| percent(&c));
        text.push_str(&format!(
            " {} gives {change} output tokens/s per GPU, within the interval, but waits {} ms.",
            other.config,
            shown(other.wait_ms)
        ));
    }
    if let Some(next) = standings.get(tied) {
        let change = per_gpu_change(next, best).map_or("not compared".into(), |c| percent(&c));
        text.push_str(&format!(
            " The next, {}, gives {change} output tokens/s per GPU.",
            next.config
        ));
    }
    Some(text)
}

/// `; it met the SLO up to c=8 at every input length`, or that it never did.
fn held_text(best: &Standing) -> String {
    let load_name = best
        .members
        .first()
        .and_then(|m| axes::load(m.1))
        .map_or("concurrency", |l| l.0);
    match best.held {
        Some(h) if h.is_finite() => format!(
            " It met the SLO up to {} at every input length.",
            axes::load_label(load_name, h)
        ),
        Some(_) => String::new(),
        None => " No configuration met the SLO at every input length.".into(),
    }
}

/// The change of throughput per GPU from `b` to `a` at the points they share (the median
/// over them); `None` without such points.
fn per_gpu_change(a: &Standing, b: &Standing) -> Option<Change> {
    let same = |x: &PointResult, y: &PointResult| {
        axes::input(x) == axes::input(y) && axes::load(x) == axes::load(y)
    };
    let mut changes: Vec<Change> = a
        .members
        .iter()
        .filter_map(|x| {
            let y = b.members.iter().find(|y| same(x.1, y.1))?;
            let c = THROUGHPUT.between(y.1, x.1)?;
            let scale = gpus(y.1) / gpus(x.1);
            let per_gpu = |v: f64| (1.0 + v) * scale - 1.0;
            Some(Change {
                estimate: per_gpu(c.estimate),
                low: per_gpu(c.low),
                high: per_gpu(c.high),
            })
        })
        .collect();
    changes.sort_by(|x, y| x.estimate.total_cmp(&y.estimate));
    changes.get(changes.len() / 2).copied()
}
