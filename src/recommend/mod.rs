//! Capacity planning (`llm-loadtest recommend`): for each server configuration of a
//! scenario, the highest load per replica whose goodput meets a target, found with few
//! probes ([`search`]: doubling, then bisection), each probe stopping once its goodput's
//! interval settles it; then the replicas and GPUs a peak needs with headroom, the
//! criterion that fails first, the throughput knee as a second opinion ([`knee`]), and the
//! configuration with the most load per GPU ([`answer`]).

pub mod answer;
mod knee;
mod probe;
pub mod search;

use std::cell::RefCell;
use std::path::Path;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

pub use answer::{ConfigAnswer, ProbeRecord, Recommendation, Sizing};
pub use search::{End, Unit};

use crate::scenario::{Plan, Scenario, ScenarioError};
use crate::secret::Secret;

/// What `recommend` is asked.
pub struct Question<'a> {
    /// The scenario: target, workload (its first input length) and matrix.
    pub scenario: &'a Scenario,
    /// The scenario's file (`command line` for flags).
    pub origin: &'a Path,
    pub api_key: Option<Secret>,
    pub sizing: Sizing,
    /// GPUs per replica; else each configuration's `tp`, else 1.
    pub gpus_per_replica: Option<u32>,
    /// Most requests a probe measures.
    pub requests_per_probe: u32,
    /// The first load probed, and the highest.
    pub start: f64,
    pub max_load: f64,
    /// Time for the whole search; past it each configuration answers with what it has.
    pub budget: Duration,
}

/// Answers `question`, configuration by configuration; Ctrl-C (`cancel`) ends it with
/// what was measured.
pub async fn recommend(
    question: &Question<'_>,
    cancel: &CancellationToken,
) -> Result<Recommendation, ScenarioError> {
    let plan = Plan::new(
        question.scenario.clone(),
        question.api_key.clone(),
        question.origin,
    )?;
    let started = Instant::now();
    let over_budget = || started.elapsed() >= question.budget;
    let sizing = &question.sizing;
    let space = search::Space {
        unit: sizing.unit,
        start: question.start,
        max: question.max_load,
    };
    let target = sizing.goodput_target_pct / 100.0;
    let mut answers = Vec::new();
    for config in &plan.configurations {
        if cancel.is_cancelled() {
            break;
        }
        let prober = probe::Prober {
            scenario: question.scenario,
            origin: question.origin,
            api_key: question.api_key.clone(),
            config: config.clone(),
            unit: sizing.unit,
            slo: sizing.slo.clone(),
            target,
            requests: question.requests_per_probe,
            cancel,
            probes: RefCell::new(Vec::new()),
            failure: RefCell::new(None),
        };
        let bracket = search::search(space, target, |load| prober.probe(load), &over_budget).await;
        let gpus = question
            .gpus_per_replica
            .or_else(|| {
                config
                    .get("tp")
                    .and_then(|v| v.as_u64())
                    .map(|tp| tp as u32)
            })
            .unwrap_or(1);
        let mut answer = ConfigAnswer::new(
            config.clone(),
            bracket,
            prober.probes.into_inner(),
            sizing,
            gpus,
        );
        answer.failure = prober.failure.into_inner();
        answers.push(answer);
    }
    let simulated = question.scenario.target.embedded.is_some();
    Ok(Recommendation::new(
        question.scenario.name.clone(),
        simulated,
        sizing.clone(),
        answers,
    ))
}
