//! What limits the server: its memory (GPU readings, the KV-cache gauge, any configuration
//! that ran out of memory or did not start) and the highest load of each configuration
//! and input length that still met the SLO.

use super::super::axes::{self, place};
use super::super::format::{count, shown};
use super::figure::MIN_SAMPLES;
use super::{Conclusion, Measured};
use crate::compare::slo;
use crate::result::{is_kv_cache_gauge, PointResult, RunResult};

/// Goodput that meets an SLO without a goodput threshold.
pub const GOODPUT_TARGET: f64 = 0.95;

/// KV-cache usage from which a point counts as limited by memory, and from which it does
/// when requests also waited or were preempted.
const KV_FULL: f64 = 0.95;
const KV_NEAR_FULL: f64 = 0.8;

/// GPU memory use from which a point counts as near the limit.
const GPU_NEAR_FULL: f64 = 0.95;

/// GPU memory headroom, the KV cache's use, and the configurations that ran out of memory
/// or could not be measured.
pub fn memory(result: &RunResult) -> Conclusion {
    let mut sentences = failures(result);
    let mut points: Vec<usize> = Vec::new();
    if let Some((i, text)) = gpu_peak(result) {
        sentences.push(text);
        points.push(i);
    }
    if let Some((i, text)) = kv_peak(result) {
        sentences.push(text);
        points.push(i);
    }
    let supported = !sentences.is_empty();
    if !supported {
        sentences.push(
            "No GPU readings and no KV-cache metric in this run, so the memory headroom cannot \
             be told (NVML readings need an NVIDIA GPU on the machine that runs the harness; \
             monitor.metrics scrapes the server's KV-cache gauge)."
                .into(),
        );
    }
    Conclusion::new("GPU memory", sentences.join(" "), supported, points)
}

/// One sentence per configuration whose points were not measured, out of memory first.
fn failures(result: &RunResult) -> Vec<String> {
    let failed = result
        .points
        .iter()
        .filter_map(|p| Some((p, p.failure.as_ref()?)));
    let mut by_config = axes::group_by(failed, |(p, f)| (axes::config(p, &[]), f.reason.clone()));
    by_config.sort_by_key(|((_, reason), _)| !is_out_of_memory(reason));
    by_config
        .into_iter()
        .map(|((config, reason), members)| {
            let config = if config.is_empty() {
                "The server".to_owned()
            } else {
                config
            };
            format!(
                "{config} was not measured ({} lost): {reason}.",
                count(members.len(), "point", "points")
            )
        })
        .collect()
}

fn is_out_of_memory(reason: &str) -> bool {
    reason.to_ascii_lowercase().contains("out of memory")
}

/// The point with the most GPU memory used, over all its GPUs.
fn gpu_peak(result: &RunResult) -> Option<(usize, String)> {
    let used = |p: &PointResult| {
        let total: f64 = p.gpu.iter().map(|g| g.memory_total_mib).sum();
        (total > 0.0).then(|| (p.gpu_vram_peak_mib().unwrap_or_default(), total))
    };
    let (i, point, (peak, total)) = result
        .points
        .iter()
        .enumerate()
        .filter_map(|(i, p)| Some((i, p, used(p)?)))
        .max_by(|a, b| (a.2 .0 / a.2 .1).total_cmp(&(b.2 .0 / b.2 .1)))?;
    let gib = |mib: f64| mib / 1024.0;
    let share = peak / total;
    let verdict = if share >= GPU_NEAR_FULL {
        "close to the limit: a longer input or more concurrency may run out of memory"
    } else {
        "memory is not the limit at these loads"
    };
    Some((
        i,
        format!(
            "GPU memory peaked at {:.1} of {:.1} GiB ({:.0}%, {:.1} GiB headroom) at {}: {verdict}.",
            gib(peak),
            gib(total),
            100.0 * share,
            gib(total - peak),
            place(point, &[])
        ),
    ))
}

/// The last value of the series named with `suffix` in a point's server metrics: the
/// gauges' peaks, or the counters' increases.
fn server_metric(point: &PointResult, suffix: &str, peaks: bool) -> Option<f64> {
    let m = point.server_metrics.as_ref()?;
    let series = if peaks { &m.peaks } else { &m.deltas };
    series
        .iter()
        .find(|(n, _)| n.ends_with(suffix))
        .map(|(_, v)| *v)
}

/// The point whose KV cache was fullest, from the server's gauge (of those nearly full,
/// the one where most requests waited).
fn kv_peak(result: &RunResult) -> Option<(usize, String)> {
    let gauge = |p: &PointResult| {
        let m = p.server_metrics.as_ref()?;
        m.peaks
            .iter()
            .find(|(name, _)| is_kv_cache_gauge(name))
            .map(|(name, v)| (name.clone(), *v))
    };
    let waiting =
        |p: &PointResult| server_metric(p, "num_requests_waiting", true).unwrap_or_default();
    let rank = |p: &PointResult, peak: f64| (peak >= KV_NEAR_FULL, waiting(p), peak);
    let (i, point, (name, peak)) = result
        .points
        .iter()
        .enumerate()
        .filter_map(|(i, p)| Some((i, p, gauge(p)?)))
        .max_by(|a, b| {
            let (x, y) = (rank(a.1, a.2 .1), rank(b.1, b.2 .1));
            x.0.cmp(&y.0)
                .then(x.1.total_cmp(&y.1))
                .then(x.2.total_cmp(&y.2))
        })?;
    let waiting = waiting(point);
    let preempted = server_metric(point, "num_preemptions_total", false).unwrap_or_default();
    let mut queue = Vec::new();
    if waiting > 0.0 {
        queue.push(format!("up to {waiting:.0} requests waiting"));
    }
    if preempted > 0.0 {
        queue.push(format!("{preempted:.0} preemptions"));
    }
    let verdict = if peak >= KV_FULL || (peak >= KV_NEAR_FULL && !queue.is_empty()) {
        "the cache was (nearly) full, so memory, not compute, limited that point"
    } else {
        "the cache had room"
    };
    let queue = match queue.is_empty() {
        true => String::new(),
        false => format!(", with {}", queue.join(" and ")),
    };
    Some((
        i,
        format!(
            "The KV cache peaked at {:.0}% ({name}) at {}{queue}: {verdict}.",
            100.0 * peak,
            place(point, &[])
        ),
    ))
}

/// How a point is held against the SLO.
pub(super) enum Criterion {
    /// The scenario's thresholds: every one must hold.
    Thresholds(Vec<slo::SloCheck>),
    /// The goodput SLO without a goodput threshold: [`GOODPUT_TARGET`].
    Goodput,
}

impl Criterion {
    /// The criterion of `result`; `None` without thresholds or an SLO.
    pub fn of(result: &RunResult) -> Option<Self> {
        if result.scenario.thresholds.is_some() {
            return Some(Self::Thresholds(slo::check(result)));
        }
        result.scenario.slo.as_ref().map(|_| Self::Goodput)
    }

    pub fn describe(&self) -> String {
        match self {
            Self::Thresholds(_) => "every threshold of the scenario holds".into(),
            Self::Goodput => format!(
                "goodput of at least {:.0}% (no goodput threshold is set)",
                100.0 * GOODPUT_TARGET
            ),
        }
    }

    /// Whether `point` met it.
    pub fn met(&self, point: &PointResult) -> bool {
        match self {
            Self::Thresholds(checks) => checks
                .iter()
                .filter(|c| c.point == point.id)
                .all(|c| c.holds),
            Self::Goodput => point
                .goodput
                .as_ref()
                .is_some_and(|g| g.ratio >= GOODPUT_TARGET),
        }
    }

    /// The figures that decided it: the goodput and the thresholds that failed.
    pub fn evidence(&self, point: &PointResult) -> String {
        let mut parts: Vec<String> = point
            .goodput
            .iter()
            .map(|g| format!("goodput {:.1}%, {} of {}", 100.0 * g.ratio, g.met, g.total))
            .collect();
        if let Self::Thresholds(checks) = self {
            parts.extend(
                checks
                    .iter()
                    .filter(|c| c.point == point.id && !c.holds)
                    .map(|c| {
                        let value = c.value.map_or("not measured".into(), shown);
                        format!(
                            "{} {} broken: {value}",
                            c.threshold.metric, c.threshold.expression
                        )
                    }),
            );
        }
        if parts.is_empty() {
            parts.push("every threshold held".into());
        }
        parts.join("; ")
    }
}

/// The loads of one configuration and input length against the SLO.
pub(super) struct Limit<'a> {
    /// Configuration and input length (`2k in, tp=1`).
    pub place: String,
    /// The highest load that met the SLO with every lower load meeting it too.
    pub held: Option<Measured<'a>>,
    /// The lowest load that did not.
    pub broke: Option<Measured<'a>>,
    pub highest: Measured<'a>,
}

/// Each configuration and input length's loads held against `criterion`.
pub(super) fn limits<'a>(measured: &[Measured<'a>], criterion: &Criterion) -> Vec<Limit<'a>> {
    let key = |m: &Measured| {
        (
            axes::config(m.1, &[]),
            axes::input(m.1).unwrap_or_default().to_bits(),
        )
    };
    let load = |m: &Measured| axes::load(m.1).map_or(0.0, |l| l.1);
    axes::group_by(measured.iter().copied(), key)
        .into_iter()
        .map(|((config, _), mut members)| {
            members.sort_by(|a, b| load(a).total_cmp(&load(b)));
            let broke = members.iter().copied().find(|m| !criterion.met(m.1));
            let held = members
                .iter()
                .copied()
                .take_while(|m| criterion.met(m.1))
                .last();
            let first = members[0].1;
            let input = axes::input(first).map(|t| format!("{} in", axes::tokens_label(t)));
            let place = [input.unwrap_or_default(), config]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(", ");
            Limit {
                place,
                held,
                broke,
                highest: *members.last().unwrap_or(&members[0]),
            }
        })
        .collect()
}

/// The highest load of each configuration and input length that still met the SLO.
pub fn load_limit(result: &RunResult, measured: &[Measured]) -> Conclusion {
    let topic = "Load limit";
    let Some(criterion) = Criterion::of(result) else {
        let text = "No SLO and no thresholds are set, so no load can be said to meet one; set \
                    slo (or run --goodput ttft:MS,tpot:MS) and thresholds in the scenario."
            .to_owned();
        return Conclusion::new(topic, text, false, Vec::new());
    };
    let limits = limits(measured, &criterion);
    let small = measured
        .iter()
        .filter(|m| m.1.requests.total < MIN_SAMPLES as u64)
        .count();
    let clauses: Vec<String> = limits.iter().map(|l| limit_clause(l, &criterion)).collect();
    let mut text = format!(
        "The SLO is met when {}. {}.",
        criterion.describe(),
        clauses.join("; ")
    );
    let supported = small == 0;
    if !supported {
        text.push_str(&format!(
            " {} fewer than {MIN_SAMPLES} requests, too few to tell goodput from its target.",
            count(small, "point has", "points have")
        ));
    }
    let mut points: Vec<usize> = limits
        .iter()
        .flat_map(|l| l.held.into_iter().chain(l.broke).map(|m| m.0))
        .collect();
    points.sort_unstable();
    Conclusion::new(topic, text, supported, points)
}

/// `At 2k in, tp=1: c=8 is the highest that met it (…); at c=16 it broke (…)`.
fn limit_clause(limit: &Limit, criterion: &Criterion) -> String {
    let at = |m: &Measured| {
        axes::load(m.1).map_or("the only load".into(), |(name, v)| {
            axes::load_label(name, v)
        })
    };
    let lead = if limit.place.is_empty() {
        String::new()
    } else {
        format!("at {}: ", limit.place)
    };
    let body = match (limit.held, limit.broke) {
        (Some(held), Some(broke)) => format!(
            "{} is the highest load that met it ({}); at {} it broke ({})",
            at(&held),
            criterion.evidence(held.1),
            at(&broke),
            criterion.evidence(broke.1)
        ),
        (Some(_), None) => format!(
            "every load met it, up to {} ({}): the limit is higher",
            at(&limit.highest),
            criterion.evidence(limit.highest.1)
        ),
        (None, Some(broke)) => format!(
            "even the lowest load, {}, broke it ({})",
            at(&broke),
            criterion.evidence(broke.1)
        ),
        (None, None) => "no load measured".into(),
    };
    let mut clause = format!("{lead}{body}");
    if let Some(first) = clause.get(..1) {
        clause = first.to_uppercase() + &clause[1..];
    }
    clause
}
