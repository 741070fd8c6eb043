//! `compare --retry N`: the inconclusive points of a result are measured again, one trial
//! at a time, and the comparison is decided again after each, until no point is
//! inconclusive or N more trials were measured (as Chromium's Pinpoint runs more attempts
//! when it cannot tell). Each trial joins the point's trials in the result file, which is
//! rewritten atomically, so the reports show what was decided from. Only a scenario whose
//! target answers here can be retried; the others say why and keep their verdict.

use std::collections::BTreeSet;
use std::path::Path;

use tokio::runtime::Runtime;

use llm_loadtest::atomic;
use llm_loadtest::compare::verdict::Verdict;
use llm_loadtest::compare::{self, Comparison};
use llm_loadtest::metrics::add_trial;
use llm_loadtest::result::RunResult;
use llm_loadtest::run::{availability, RunOptions};
use llm_loadtest::scenario::Plan;

use super::run::measure;
use super::sayln;

/// What is compared and how: the result (and its file), its baseline, the bootstrap seed.
pub struct Retry<'a> {
    pub path: &'a Path,
    pub baseline: Option<&'a RunResult>,
    pub seed: u64,
    /// The most trials added to each inconclusive point.
    pub rounds: u32,
}

impl Retry<'_> {
    /// Compares `current` with the baseline, measuring its inconclusive points again
    /// while trials are left; returns the last comparison.
    pub fn decide(&self, current: &mut RunResult, runtime: &Runtime) -> anyhow::Result<Comparison> {
        let mut comparison = compare::compare(self.baseline, current, self.seed);
        for round in 1..=self.rounds {
            let points = inconclusive_points(&comparison);
            if points.is_empty() {
                break;
            }
            let Some(plan) = self.plan(current, &points, round, runtime)? else {
                break;
            };
            sayln!(
                "{}: retry {round} of {}: measuring {} inconclusive point(s) once more",
                current.scenario.name,
                self.rounds,
                points.len()
            );
            let Some(extra) = measure(&plan, &RunOptions::default(), runtime)? else {
                break;
            };
            let interrupted = extra.partial;
            add_trials(current, extra);
            atomic::write_json(self.path, current)?;
            comparison = compare::compare(self.baseline, current, self.seed);
            if interrupted {
                break;
            }
        }
        Ok(comparison)
    }

    /// The plan that measures `points` of `current`'s scenario once (a seed of its own
    /// per round), or `None`, said why, when its target does not answer here.
    fn plan(
        &self,
        current: &RunResult,
        points: &BTreeSet<String>,
        round: u32,
        runtime: &Runtime,
    ) -> anyhow::Result<Option<Plan>> {
        let mut plan = Plan::new(current.scenario.clone(), None, self.path)?;
        plan.trials = 1;
        plan.seed = plan.seed.wrapping_add(u64::from(round));
        plan.points.retain(|p| points.contains(&p.id));
        if let Err(why) = runtime.block_on(availability(&plan)) {
            sayln!("{}: no retry: {why}", current.scenario.name);
            return Ok(None);
        }
        Ok(Some(plan))
    }
}

/// The ids of the points with an inconclusive row.
fn inconclusive_points(comparison: &Comparison) -> BTreeSet<String> {
    comparison
        .rows
        .iter()
        .filter(|r| r.verdict == Verdict::Inconclusive)
        .map(|r| r.point.clone())
        .collect()
}

/// Adds each point measured in full in `extra` as one more trial of the same point of
/// `current`.
fn add_trials(current: &mut RunResult, extra: RunResult) {
    for trial in extra.points {
        if trial.failure.is_some() || trial.partial || trial.requests.ok == 0 {
            continue;
        }
        if let Some(point) = current.points.iter_mut().find(|p| p.id == trial.id) {
            add_trial(point, trial);
        }
    }
}
