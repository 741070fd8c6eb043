//! One line of the dashboard's history: a run's status and headline figures, made from its
//! result file (or, while it is queued or running, from what was asked), and the filters
//! the history page and `/history` apply to those lines.

use serde::{Deserialize, Serialize};

use crate::result::RunResult;
use crate::scenario::{Embedded, Scenario};
use crate::secret::redacted_text;

/// Where a run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Waiting for the run before it to finish.
    Queued,
    Running,
    /// Every point measured.
    Completed,
    /// Finished, but some points could not be measured (their server failed), or the run
    /// could not start.
    Failed,
    /// Stopped before its end (cancelled, or the dashboard stopped): the points measured
    /// so far are kept.
    Partial,
    /// Stopped before its first point: nothing was measured.
    Cancelled,
}

impl Status {
    pub const ALL: [Status; 6] = [
        Status::Queued,
        Status::Running,
        Status::Completed,
        Status::Failed,
        Status::Partial,
        Status::Cancelled,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Status::Queued => "queued",
            Status::Running => "running",
            Status::Completed => "completed",
            Status::Failed => "failed",
            Status::Partial => "partial",
            Status::Cancelled => "cancelled",
        }
    }

    /// Whether the run is over.
    pub fn is_final(self) -> bool {
        !matches!(self, Status::Queued | Status::Running)
    }

    /// The status a finished result stands for.
    pub fn of_result(result: &RunResult) -> Status {
        if result.partial {
            Status::Partial
        } else if result.points.iter().any(|p| p.failure.is_some()) {
            Status::Failed
        } else {
            Status::Completed
        }
    }
}

/// How many of `runs` stand at each status, by its name.
pub fn counts(runs: &[RunSummary]) -> Vec<(&'static str, usize)> {
    let count = |s: Status| runs.iter().filter(|r| r.status == s).count();
    Status::ALL.iter().map(|&s| (s.name(), count(s))).collect()
}

/// A run in the history.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunSummary {
    pub run_id: String,
    pub status: Status,
    pub scenario: String,
    /// The server's URL (credentials and query removed), or the embedded simulator.
    pub server: String,
    pub model: String,
    pub api: String,
    pub started_at: String,
    pub finished_at: String,
    pub points: usize,
    pub requests: u64,
    /// Failed requests over all requests.
    pub error_rate: Option<f64>,
    /// The best point's output tokens per second, and the lowest TTFT p50.
    pub best_output_tokens_per_s: Option<f64>,
    pub best_ttft_p50_ms: Option<f64>,
}

impl RunSummary {
    /// The line of the result stored as `run_id`.
    pub fn of_result(run_id: &str, result: &RunResult) -> Self {
        let measured: Vec<_> = result.points.iter().filter(|p| p.requests.ok > 0).collect();
        let requests: u64 = result.points.iter().map(|p| p.requests.total).sum();
        let failed: u64 = result.points.iter().map(|p| p.requests.failed).sum();
        Self {
            started_at: result.started_at.clone(),
            finished_at: result.finished_at.clone(),
            points: result.points.len(),
            requests,
            error_rate: (requests > 0).then(|| failed as f64 / requests as f64),
            best_output_tokens_per_s: measured
                .iter()
                .map(|p| p.throughput.output_tokens_per_s)
                .reduce(f64::max),
            best_ttft_p50_ms: measured
                .iter()
                .map(|p| p.latency_ms.ttft.p50)
                .reduce(f64::min),
            ..Self::of_scenario(run_id, Status::of_result(result), &result.scenario)
        }
    }

    /// The line of a run not measured yet (or that measured nothing).
    pub fn of_scenario(run_id: &str, status: Status, scenario: &Scenario) -> Self {
        let target = &scenario.target;
        let server = match (target.embedded, &target.profile) {
            (Some(Embedded::Sim), Some(profile)) => format!("embedded simulator ({profile})"),
            (Some(Embedded::Sim), None) => "embedded simulator".to_owned(),
            (None, _) => redacted_text(&target.base_url),
        };
        Self {
            run_id: run_id.to_owned(),
            status,
            scenario: scenario.name.clone(),
            server,
            model: target.model.clone().unwrap_or_default(),
            api: target.api.name().to_owned(),
            started_at: String::new(),
            finished_at: String::new(),
            points: 0,
            requests: 0,
            error_rate: None,
            best_output_tokens_per_s: None,
            best_ttft_p50_ms: None,
        }
    }
}

/// What the history is narrowed to: each given field must be contained in the run's
/// (case-insensitively), the status equal.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Filter {
    pub scenario: Option<String>,
    pub status: Option<Status>,
    pub server: Option<String>,
    pub model: Option<String>,
}

impl Filter {
    pub fn matches(&self, run: &RunSummary) -> bool {
        let contains = |wanted: &Option<String>, value: &str| {
            wanted
                .as_deref()
                .is_none_or(|w| w.is_empty() || value.to_lowercase().contains(&w.to_lowercase()))
        };
        contains(&self.scenario, &run.scenario)
            && contains(&self.server, &run.server)
            && contains(&self.model, &run.model)
            && self.status.is_none_or(|s| s == run.status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(scenario: &str, status: Status, model: &str) -> RunSummary {
        let mut planned = crate::scenario::AdhocRun::default().scenario();
        planned.name = scenario.to_owned();
        planned.target.model = Some(model.to_owned());
        RunSummary::of_scenario("r", status, &planned)
    }

    #[test]
    fn filters_by_parts_of_names_and_by_status() {
        let run = line("sim-spike", Status::Completed, "Llama-3.1-8B");
        let filter = |f: Filter| f.matches(&run);
        assert!(filter(Filter::default()));
        assert!(filter(Filter {
            scenario: Some("SPIKE".into()),
            model: Some("llama".into()),
            status: Some(Status::Completed),
            ..Filter::default()
        }));
        assert!(!filter(Filter {
            status: Some(Status::Failed),
            ..Filter::default()
        }));
        assert!(!filter(Filter {
            server: Some("vllm".into()),
            ..Filter::default()
        }));
    }
}
