//! Several runs side by side (`llm-loadtest report A.json B.json ...`): each run named,
//! one row per point and run with the key figures (points matched by id), a note when the
//! runs are of different scenarios or lack points the others have, and the charts of
//! throughput and TTFT by load with one line per run.

use serde::Serialize;

use super::figures::{runs_figures, FigureGroup};
use crate::result::{PointResult, RunResult};

/// The most runs one report puts side by side.
pub const MAX_RUNS: usize = 8;

/// What the templates see of several runs.
#[derive(Debug, Clone, Serialize)]
pub struct RunsView {
    pub runs: Vec<RunLabel>,
    /// Per point id, in the order first met: its figures in each run that has it.
    pub points: Vec<PointRuns>,
    /// Different scenarios, points some runs lack.
    pub notes: Vec<String>,
    pub figures: Vec<FigureGroup>,
}

/// One run of the comparison.
#[derive(Debug, Clone, Serialize)]
pub struct RunLabel {
    /// Its position, from 1.
    pub number: usize,
    pub label: String,
    pub scenario: String,
    pub started_at: String,
    /// Short commit and branch, when recorded.
    pub revision: Option<String>,
}

/// One point across the runs.
#[derive(Debug, Clone, Serialize)]
pub struct PointRuns {
    pub id: String,
    pub cells: Vec<RunCell>,
}

/// A point's key figures in one run.
#[derive(Debug, Clone, Serialize)]
pub struct RunCell {
    /// Position of the run (from 0) and of the point in its `points`, for `data-json`.
    pub run: usize,
    pub point: usize,
    pub label: String,
    pub output_tokens_per_s: f64,
    /// TTFT, TPOT and E2E p50, in that order.
    pub p50: Vec<RunLatency>,
    pub failed: u64,
    pub total: u64,
}

/// A latency's p50 in one run, in milliseconds; `None` when not measured (TPOT without
/// streaming).
#[derive(Debug, Clone, Serialize)]
pub struct RunLatency {
    /// `ttft`, `tpot` or `e2e`: its key in the result.
    pub key: &'static str,
    pub ms: Option<f64>,
}

/// The view of `runs`, each with its label (the file it came from).
pub fn runs_view(runs: &[(String, &RunResult)]) -> RunsView {
    let labels = runs
        .iter()
        .enumerate()
        .map(|(i, (label, r))| RunLabel {
            number: i + 1,
            label: label.clone(),
            scenario: r.scenario.name.clone(),
            started_at: r.started_at.clone(),
            revision: r.environment.revision.as_ref().map(|v| {
                let short = v.commit.get(..12).unwrap_or(&v.commit).to_owned();
                v.branch
                    .as_ref()
                    .map_or(short.clone(), |b| format!("{short} ({b})"))
            }),
        })
        .collect();
    let mut ids: Vec<&str> = Vec::new();
    for point in runs.iter().flat_map(|(_, r)| &r.points) {
        if !ids.contains(&point.id.as_str()) {
            ids.push(&point.id);
        }
    }
    let points = ids
        .iter()
        .map(|id| PointRuns {
            id: (*id).to_owned(),
            cells: cells(runs, id),
        })
        .collect();
    RunsView {
        runs: labels,
        points,
        notes: notes(runs, &ids),
        figures: runs_figures(runs),
    }
}

/// The figures of point `id` in each run that measured it.
fn cells(runs: &[(String, &RunResult)], id: &str) -> Vec<RunCell> {
    let p50 = |p: &PointResult| {
        ["ttft", "tpot", "e2e"]
            .into_iter()
            .map(|key| RunLatency {
                key,
                ms: p.latency_ms.get(key).filter(|s| s.count > 0).map(|s| s.p50),
            })
            .collect()
    };
    runs.iter()
        .enumerate()
        .filter_map(|(run, (label, r))| {
            let (point, p) = r.points.iter().enumerate().find(|(_, p)| p.id == id)?;
            Some(RunCell {
                run,
                point,
                label: label.clone(),
                output_tokens_per_s: p.throughput.output_tokens_per_s,
                p50: p50(p),
                failed: p.requests.failed,
                total: p.requests.total,
            })
        })
        .collect()
}

/// What a reader must know before comparing the rows: runs of other scenarios, and points
/// that only some runs have.
fn notes(runs: &[(String, &RunResult)], ids: &[&str]) -> Vec<String> {
    let mut notes = Vec::new();
    let Some((_, first)) = runs.first() else {
        return notes;
    };
    let first = &first.scenario.name;
    let others: Vec<String> = runs
        .iter()
        .enumerate()
        .filter(|(_, (_, r))| &r.scenario.name != first)
        .map(|(i, (_, r))| format!("run {} is {}", i + 1, r.scenario.name))
        .collect();
    if !others.is_empty() {
        notes.push(format!(
            "Runs of different scenarios: run 1 is {first}, {}; points are matched by id.",
            others.join(", ")
        ));
    }
    for id in ids {
        let missing: Vec<String> = runs
            .iter()
            .enumerate()
            .filter(|(_, (_, r))| !r.points.iter().any(|p| p.id == *id))
            .map(|(i, _)| (i + 1).to_string())
            .collect();
        if !missing.is_empty() {
            notes.push(format!("{id} is not in run {}.", missing.join(", ")));
        }
    }
    notes
}
