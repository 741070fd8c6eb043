//! The trend page of `llm-loadtest history DIR...`: the runs of each scenario in the order
//! they started (result files, and the accepted runs a baseline's history keeps), each key
//! figure of each point over them, and the runs where a figure changed beyond its noise,
//! judged against the runs before it by the verdict engine ([`crate::compare::trend`]).

use std::collections::BTreeMap;

use serde::Serialize;

use super::figures::{trend_figures, FigureGroup};
use super::format::{count, latency_label, percent, shown};
use crate::compare::trend::{steps, Step};
use crate::compare::verdict::Verdict;
use crate::result::{HistoryEntry, RunResult};
use crate::scenario::CompareThreshold;

/// The figures followed over runs, by their key in a history entry.
pub const TREND_METRICS: [&str; 5] = [
    "output_tokens_per_s",
    "ttft_ms.p50",
    "tpot_ms.p50",
    "itl_ms.p99",
    "e2e_ms.p50",
];

/// One run as the history page reads it.
#[derive(Debug, Clone)]
pub struct TrendInput {
    pub scenario: String,
    /// Where it came from: a result file's name, or `baseline history`.
    pub source: String,
    /// Short commit and branch, when recorded.
    pub revision: Option<String>,
    pub entry: HistoryEntry,
    /// The scenario's compare thresholds.
    pub thresholds: BTreeMap<String, CompareThreshold>,
}

impl TrendInput {
    /// The runs `result` (shown as `name`) stands for: itself, or each accepted run of a
    /// baseline's history (the newest is the baseline itself, whose revision is known).
    pub fn of_result(name: &str, result: &RunResult) -> Vec<TrendInput> {
        let revision = result.environment.revision.as_ref().map(|r| r.to_string());
        result
            .accepted_runs()
            .into_iter()
            .map(|entry| {
                let own = entry.started_at == result.started_at;
                TrendInput {
                    scenario: result.scenario.name.clone(),
                    source: match own {
                        true => name.to_owned(),
                        false => format!("{name} (history)"),
                    },
                    revision: revision.clone().filter(|_| own),
                    entry,
                    thresholds: result.scenario.compare.clone(),
                }
            })
            .collect()
    }
}

/// What the templates see of the history.
#[derive(Debug, Clone, Serialize)]
pub struct HistoryView {
    pub scenarios: Vec<ScenarioTrend>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ScenarioTrend {
    pub name: String,
    /// `6 runs from 2026-11-25T10:00:00Z to 2026-12-01T09:00:00Z, 1 change beyond noise`.
    pub summary: String,
    /// Oldest first.
    pub runs: Vec<TrendRun>,
    /// The figures that changed beyond their noise, in run order.
    pub changes: Vec<TrendChange>,
    pub points: Vec<PointTrend>,
    pub figures: Vec<FigureGroup>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TrendRun {
    /// From 1, oldest first.
    pub number: usize,
    pub started_at: String,
    pub revision: Option<String>,
    pub source: String,
}

/// A figure judged as changed at one run.
#[derive(Debug, Clone, Serialize)]
pub struct TrendChange {
    pub run: usize,
    pub started_at: String,
    pub revision: Option<String>,
    pub point: String,
    pub metric: String,
    /// The level of the runs before (`123.4 (mean of 5 runs)`).
    pub before: String,
    pub value: String,
    /// `+12.3% [+8.1%, +16.5%]`.
    pub change: String,
    pub noise: String,
    pub verdict: String,
    pub verdict_class: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct PointTrend {
    pub id: String,
    pub metrics: Vec<MetricTrend>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MetricTrend {
    pub key: String,
    pub label: String,
    /// One per run, oldest first; `None` where the run lacks it.
    pub values: Vec<Option<f64>>,
    /// The verdict's CSS class where the figure changed beyond its noise, else `None`.
    pub marks: Vec<Option<String>>,
}

/// `TTFT p50 (ms)`, `Output throughput (tok/s)`.
pub fn metric_label(key: &str) -> String {
    match key.split_once('.') {
        Some((latency, stat)) => format!("{} {stat} (ms)", latency_label(latency)),
        None => "Output throughput (tok/s)".into(),
    }
}

/// Whether a verdict marks a change on the page.
fn is_change(verdict: Verdict) -> bool {
    matches!(
        verdict,
        Verdict::Regressed | Verdict::Improved | Verdict::Warning
    )
}

fn css_class(verdict: Verdict) -> String {
    verdict.to_string().to_lowercase().replace(' ', "-")
}

/// The history of `inputs`: grouped by scenario (in name order), runs by start, the same
/// run given twice (a result and its baseline's history) counted once.
pub fn history_view(mut inputs: Vec<TrendInput>) -> HistoryView {
    inputs.sort_by(|a, b| {
        (&a.scenario, &a.entry.started_at).cmp(&(&b.scenario, &b.entry.started_at))
    });
    // Of duplicates, the one that knows its revision.
    inputs.dedup_by(|later, kept| {
        let same =
            later.scenario == kept.scenario && later.entry.started_at == kept.entry.started_at;
        if same && kept.revision.is_none() {
            kept.revision = later.revision.take();
            kept.source = later.source.clone();
        }
        same
    });
    let mut scenarios = Vec::new();
    let mut start = 0;
    while start < inputs.len() {
        let end = inputs[start..]
            .iter()
            .position(|i| i.scenario != inputs[start].scenario)
            .map_or(inputs.len(), |n| start + n);
        scenarios.push(scenario_trend(&inputs[start..end], scenarios.len()));
        start = end;
    }
    HistoryView { scenarios }
}

fn scenario_trend(runs: &[TrendInput], index: usize) -> ScenarioTrend {
    let entries: Vec<HistoryEntry> = runs.iter().map(|r| r.entry.clone()).collect();
    let judged = steps(&entries, &TREND_METRICS, &runs[runs.len() - 1].thresholds);
    let changes: Vec<TrendChange> = judged
        .iter()
        .filter(|s| is_change(s.verdict))
        .map(|s| change_view(s, &runs[s.run]))
        .collect();
    let points = point_trends(&entries, &judged);
    let summary = format!(
        "{} from {} to {}, {}",
        count(runs.len(), "run", "runs"),
        runs[0].entry.started_at,
        runs[runs.len() - 1].entry.started_at,
        count(changes.len(), "change beyond noise", "changes beyond noise")
    );
    ScenarioTrend {
        name: runs[0].scenario.clone(),
        summary,
        runs: runs
            .iter()
            .enumerate()
            .map(|(i, r)| TrendRun {
                number: i + 1,
                started_at: r.entry.started_at.clone(),
                revision: r.revision.clone(),
                source: r.source.clone(),
            })
            .collect(),
        changes,
        figures: trend_figures(&points, runs.len(), index),
        points,
    }
}

fn change_view(step: &Step, run: &TrendInput) -> TrendChange {
    TrendChange {
        run: step.run + 1,
        started_at: run.entry.started_at.clone(),
        revision: run.revision.clone(),
        point: step.point.clone(),
        metric: metric_label(&step.metric),
        before: format!(
            "{} ({})",
            shown(step.level.value),
            match step.level.runs {
                1 => "the run before".to_owned(),
                n => format!("mean of the {n} runs before"),
            }
        ),
        value: shown(step.value),
        change: percent(&step.change),
        noise: step.noise.to_string(),
        verdict: step.verdict.to_string(),
        verdict_class: css_class(step.verdict),
    }
}

/// Each point's figures over the runs, with the changes marked.
fn point_trends(entries: &[HistoryEntry], judged: &[Step]) -> Vec<PointTrend> {
    let mut ids: Vec<&String> = entries.iter().flat_map(|e| e.points.keys()).collect();
    ids.sort();
    ids.dedup();
    ids.into_iter()
        .map(|id| PointTrend {
            id: id.clone(),
            metrics: TREND_METRICS
                .iter()
                .filter(|m| {
                    entries
                        .iter()
                        .any(|e| e.points.get(id).is_some_and(|f| f.contains_key(**m)))
                })
                .map(|&metric| MetricTrend {
                    key: metric.to_owned(),
                    label: metric_label(metric),
                    values: entries
                        .iter()
                        .map(|e| e.points.get(id).and_then(|f| f.get(metric)).copied())
                        .collect(),
                    marks: (0..entries.len())
                        .map(|run| {
                            judged
                                .iter()
                                .find(|s| s.run == run && &s.point == id && s.metric == metric)
                                .filter(|s| is_change(s.verdict))
                                .map(|s| css_class(s.verdict))
                        })
                        .collect(),
                })
                .collect(),
        })
        .collect()
}
