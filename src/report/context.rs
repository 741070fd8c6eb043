//! The data every report template sees (also `report --format json`): per scenario, the
//! verdict, the comparison rows (those that need attention first), every point's figures,
//! the seed study's rows, the environment table, warnings and the charts. Built once from
//! immutable results and comparisons; the templates only lay it out.

use serde::Serialize;

use super::cards::{cards, Card};
use super::conclusions::{conclusions, Conclusion};
use super::environment::{environment, EnvironmentRow};
use super::figures::{figures, FigureGroup};
use super::format::{count, verdict_counts};
use super::history::{history_view, HistoryView, TrendInput};
use super::runs::{runs_view, RunsView};
use super::study::{study, Study};
use super::unjudged::unjudged_line;
use super::views::{point_view, row_view, PointView, RowView};
use super::warnings::warnings;
use crate::compare::verdict::{Policy, Verdict};
use crate::compare::{Comparison, Row};
use crate::result::{RunResult, ServerRun};

/// What one scenario's report is made from.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    pub current: &'a RunResult,
    pub baseline: Option<&'a RunResult>,
    /// The comparison of `current` with `baseline`.
    pub comparison: Option<&'a Comparison>,
}

impl<'a> Subject<'a> {
    /// A result on its own: no baseline, no comparison.
    pub fn alone(current: &'a RunResult) -> Self {
        Self {
            current,
            baseline: None,
            comparison: None,
        }
    }
}

/// The whole report: one or more scenarios, or several runs side by side.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub tool_name: String,
    pub tool_version: String,
    /// `fail` when a comparison fails the check, `pass` when all pass, `new` when the
    /// scenarios compared have no baseline yet, `run` without comparisons.
    pub status: &'static str,
    pub scenarios: Vec<ScenarioReport>,
    /// Several runs side by side (then `scenarios` is empty).
    pub runs: Option<RunsView>,
    /// Runs over time, the trend page (then `scenarios` is empty).
    pub history: Option<HistoryView>,
    /// Set when the Markdown was shortened to fit a pull-request comment: what was left out.
    pub truncated: Option<String>,
    /// Where the full report is (for the truncation note), such as `reports/compare.html`.
    pub full_report: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ScenarioReport {
    pub name: String,
    /// The scenario name reduced to `[A-Za-z0-9._-]`, for the sticky-comment marker.
    pub marker: String,
    pub description: Option<String>,
    /// `fail`, `pass`, `new` (compared, but no baseline yet) or `run` (not compared).
    pub status: &'static str,
    /// `2 regressed, 1 warning, 40 no change`, or for a single run `4 points, 256 requests`.
    pub summary: String,
    pub started_at: String,
    pub finished_at: String,
    pub partial: bool,
    pub baseline: Option<BaselineInfo>,
    pub environment: Vec<EnvironmentRow>,
    /// Rows that need attention, failing ones first (empty without a baseline).
    pub attention: Vec<RowView>,
    /// The other rows: no change, met SLOs, insufficient data.
    pub quiet: Vec<RowView>,
    /// The quantiles too few samples could judge, in one line.
    pub not_judged: Option<String>,
    /// The summary cards the page leads with.
    pub cards: Vec<Card>,
    pub points: Vec<PointView>,
    /// The seed study's rows, laid out as its tables.
    pub tables: Study,
    /// What the run shows, each conclusion citing its figures.
    pub conclusions: Vec<Conclusion>,
    pub warnings: Vec<String>,
    pub figures: Vec<FigureGroup>,
    /// The servers the harness launched (server sweeps).
    pub servers: Vec<ServerRun>,
    /// Whether any point has GPU readings or server metrics.
    pub monitored: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct BaselineInfo {
    pub started_at: String,
    pub tool_version: String,
    pub server_version: Option<String>,
    pub model: String,
    /// The accepted runs in its history, when two or more: latency and throughput are then
    /// compared with their mean over them.
    pub runs: Option<usize>,
}

/// Builds the report of `subjects`; `policy` decides which verdicts fail.
pub fn build(subjects: &[Subject], policy: Policy) -> Report {
    let scenarios: Vec<ScenarioReport> = subjects
        .iter()
        .map(|s| scenario_report(s, policy))
        .collect();
    let status = if scenarios.iter().any(|s| s.status == "fail") {
        "fail"
    } else if scenarios.iter().any(|s| s.status == "pass") {
        "pass"
    } else if scenarios.iter().any(|s| s.status == "new") {
        "new"
    } else {
        "run"
    };
    Report {
        status,
        scenarios,
        ..Report::empty()
    }
}

impl Report {
    /// A report of nothing yet, by this tool.
    fn empty() -> Self {
        Self {
            tool_name: env!("CARGO_PKG_NAME").into(),
            tool_version: env!("CARGO_PKG_VERSION").into(),
            status: "run",
            scenarios: Vec::new(),
            runs: None,
            history: None,
            truncated: None,
            full_report: None,
        }
    }
}

/// The report of several runs side by side, each with its label.
pub fn build_runs(runs: &[(String, &RunResult)]) -> Report {
    Report {
        runs: Some(runs_view(runs)),
        ..Report::empty()
    }
}

/// The trend page of `inputs`.
pub fn build_history(inputs: Vec<TrendInput>) -> Report {
    Report {
        history: Some(history_view(inputs)),
        ..Report::empty()
    }
}

fn scenario_report(subject: &Subject, policy: Policy) -> ScenarioReport {
    let current = subject.current;
    let rows = subject.comparison.map_or(&[][..], |c| &c.rows);
    let new_scenario = subject.comparison.is_some_and(|c| c.new_scenario);
    // Without a baseline, every point is new: said once, not a row each, unless it fails.
    let shown = rows
        .iter()
        .filter(|r| !(new_scenario && r.verdict == Verdict::NewPoint && !policy.fails(r.verdict)));
    let (attention, quiet): (Vec<&Row>, Vec<&Row>) =
        shown.partition(|r| needs_attention(r.verdict));
    let view = |rows: Vec<&Row>| -> Vec<RowView> {
        rows.into_iter().map(|r| row_view(r, policy)).collect()
    };
    let (mut attention, quiet) = (view(attention), view(quiet));
    // Rows arrive sorted by verdict; failing ones (which depend on --fail-on) go first.
    attention.sort_by_key(|r| !r.failing);
    let status = match subject.comparison {
        None => "run",
        Some(_) if attention.iter().any(|r| r.failing) => "fail",
        Some(_) if new_scenario => "new",
        Some(_) => "pass",
    };
    ScenarioReport {
        name: current.scenario.name.clone(),
        marker: marker(&current.scenario.name),
        description: current.scenario.description.clone(),
        status,
        summary: summary(current, subject.comparison),
        started_at: current.started_at.clone(),
        finished_at: current.finished_at.clone(),
        partial: current.partial,
        baseline: subject.baseline.map(|b| BaselineInfo {
            started_at: b.started_at.clone(),
            tool_version: b.tool.version.clone(),
            server_version: b.environment.server.version.clone(),
            model: b.environment.server.model.clone(),
            runs: Some(b.history.len()).filter(|&n| n >= 2),
        }),
        environment: environment(current),
        attention,
        quiet,
        not_judged: unjudged_line(rows),
        cards: cards(current),
        points: current
            .points
            .iter()
            .enumerate()
            .map(|(i, p)| point_view(i, p))
            .collect(),
        tables: study(current),
        conclusions: conclusions(current),
        warnings: warnings(current),
        figures: figures(current, subject.baseline),
        servers: current.servers.clone(),
        monitored: current
            .points
            .iter()
            .any(|p| !p.gpu.is_empty() || p.server_metrics.is_some()),
    }
}

/// The verdicts counted (`2 regressed, 1 warning, 40 no change`), or for a run without a
/// baseline `4 points, 256 requests, 0 failed`.
fn summary(current: &RunResult, comparison: Option<&Comparison>) -> String {
    if let Some(c) = comparison {
        return verdict_counts(&c.rows);
    }
    let total: u64 = current.points.iter().map(|p| p.requests.total).sum();
    let failed: u64 = current.points.iter().map(|p| p.requests.failed).sum();
    format!(
        "{}, {}, {failed} failed",
        count(current.points.len(), "point", "points"),
        count(total as usize, "request", "requests")
    )
}

/// The scenario name reduced to `[A-Za-z0-9._-]`.
fn marker(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Whether a verdict goes in the table a reader sees first; the others (no change, a met
/// SLO, too few samples for the statistic) are counted in the summary and listed below.
fn needs_attention(verdict: Verdict) -> bool {
    verdict.is_listed() && verdict != Verdict::InsufficientData
}
