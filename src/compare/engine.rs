//! Compares a run with its baseline, point by point (matched by id) and metric by metric
//! (see `point`): latency quantiles, throughput, goodput and error rate. Each row carries
//! both values, the change with its 95% interval, the figure's run-to-run noise and the
//! verdict. Pure: the caller reads the files and renders the rows.

use std::collections::BTreeMap;

use super::level::Levels;
use super::noise::{Noise, NoiseModel};
use super::point::PointPair;
use super::slo;
use super::stats::Change;
use super::verdict::Verdict;
use crate::result::{figures, PointResult, RunResult};

/// One compared metric of one point (or a point-level row: new, missing, mismatch).
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub point: String,
    /// `ttft_ms.p50`, `output_tokens_per_s`, `goodput`, `error_rate`; empty on point rows.
    pub metric: String,
    pub baseline: Option<f64>,
    pub current: Option<f64>,
    /// Relative change (absolute difference for `error_rate`) with its interval.
    pub change: Option<Change>,
    /// The figure's run-to-run noise, which the interval includes.
    pub noise: Option<Noise>,
    pub verdict: Verdict,
    pub note: String,
}

/// The comparison of one scenario's run with its baseline.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    pub scenario: String,
    /// Regressions first, then by point and metric.
    pub rows: Vec<Row>,
    /// The scenario has no baseline yet: every point is new.
    pub new_scenario: bool,
}

/// Compares `current` with `baseline`; `seed` makes the bootstrap reproducible. Without a
/// baseline, every point is new and only the run's own checks (completeness, failed points,
/// SLOs) are judged.
pub fn compare(baseline: Option<&RunResult>, current: &RunResult, seed: u64) -> Comparison {
    let mut rows: Vec<Row> = incomplete(current).into_iter().collect();
    if let Some(note) = baseline.and_then(|b| mismatch(b, current)) {
        rows.push(Row::of_point(
            "(environment)",
            Verdict::BaselineMismatch,
            &note,
        ));
    }
    rows.extend(point_rows(baseline, current, seed));
    rows.extend(slo_rows(current));
    rows.sort_by(|a, b| (a.verdict, &a.point, &a.metric).cmp(&(b.verdict, &b.point, &b.metric)));
    Comparison {
        scenario: current.scenario.name.clone(),
        rows,
        new_scenario: baseline.is_none(),
    }
}

/// The rows of every point: its figures against the baseline's same point, or why it has
/// none (failed, new, missing from this run).
fn point_rows(baseline: Option<&RunResult>, current: &RunResult, seed: u64) -> Vec<Row> {
    let mut rows = Vec::new();
    let overrides = &current.scenario.compare;
    let runs = baseline.map(RunResult::accepted_runs).unwrap_or_default();
    let noise = NoiseModel::learn(&runs, current);
    let levels = Levels::of(&runs);
    let base: BTreeMap<&str, &PointResult> = baseline
        .map_or(&[][..], |b| &b.points)
        .iter()
        .map(|p| (p.id.as_str(), p))
        .collect();
    let new_note = match baseline {
        Some(_) => "not in the baseline",
        None => "no baseline yet",
    };
    for point in &current.points {
        if let Some(failure) = &point.failure {
            rows.push(Row::of_point(
                &point.id,
                Verdict::PointFailed,
                &failure.reason,
            ));
            continue;
        }
        match base.get(point.id.as_str()) {
            Some(base) => rows.extend(
                PointPair {
                    base,
                    cur: point,
                    overrides,
                    noise: &noise,
                    levels: &levels,
                    cur_figures: figures(&point.measured()),
                    seed,
                }
                .rows(),
            ),
            None => rows.push(Row::of_point(&point.id, Verdict::NewPoint, new_note)),
        }
    }
    for id in base
        .keys()
        .filter(|id| !current.points.iter().any(|p| p.id == **id))
    {
        rows.push(Row::of_point(
            id,
            Verdict::MissingPoint,
            "in the baseline, not in this run",
        ));
    }
    rows
}

/// One row per SLO threshold of the scenario, met or breached.
fn slo_rows(current: &RunResult) -> Vec<Row> {
    slo::check(current)
        .into_iter()
        .map(|check| Row {
            point: check.point,
            metric: check.threshold.to_string(),
            baseline: None,
            current: check.value,
            change: None,
            noise: None,
            verdict: if check.holds {
                Verdict::SloMet
            } else {
                Verdict::SloBreach
            },
            note: String::new(),
        })
        .collect()
}

/// A row failing a run that is not one to judge: interrupted, or without any point.
fn incomplete(current: &RunResult) -> Option<Row> {
    let note = if current.partial {
        "the run was interrupted: its result is partial"
    } else if current.points.is_empty() {
        "the result holds no point"
    } else {
        return None;
    };
    Some(Row::of_point("(run)", Verdict::IncompleteRun, note))
}

impl Row {
    /// A row about a whole point (new, missing, failed, a mismatch), without figures.
    pub fn of_point(point: &str, verdict: Verdict, note: &str) -> Self {
        Self {
            point: point.to_owned(),
            metric: String::new(),
            baseline: None,
            current: None,
            change: None,
            noise: None,
            verdict,
            note: note.to_owned(),
        }
    }
}

/// What differs between the two environments that makes figures incomparable.
fn mismatch(baseline: &RunResult, current: &RunResult) -> Option<String> {
    let (b, c) = (&baseline.environment.server, &current.environment.server);
    let mut differences = Vec::new();
    if b.model != c.model {
        differences.push(format!("model {} → {}", b.model, c.model));
    }
    if b.version != c.version {
        let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "unknown".into());
        differences.push(format!(
            "server {} → {}",
            show(&b.version),
            show(&c.version)
        ));
    }
    (!differences.is_empty()).then(|| differences.join("; "))
}
