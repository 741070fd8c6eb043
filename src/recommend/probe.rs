//! One probe: the scenario cut down to one configuration, its first input length and one
//! load level, run as a plan of one point whose goodput settles it (the point stops once
//! the goodput's interval is clear of the target, or at its request count), recorded.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::answer::ProbeRecord;
use super::search::{Outcome, Unit};
use crate::run::{run_plan, RunOptions};
use crate::scenario::{Load, Plan, Scenario, Slo};
use crate::secret::Secret;

/// Most warmup requests a probe sends before it measures.
const MAX_WARMUP: u32 = 32;
/// Rounds of the concurrency a closed-loop probe measures at least.
const ROUNDS: u32 = 3;
/// Seconds an open-loop probe lasts at most, and the fewest requests it sends.
const RATE_PROBE_S: f64 = 10.0;
const MIN_RATE_REQUESTS: u32 = 10;

/// What every probe of one configuration shares.
pub struct Prober<'a> {
    pub scenario: &'a Scenario,
    /// The scenario's file, for paths relative to it and for errors.
    pub origin: &'a Path,
    pub api_key: Option<Secret>,
    /// The configuration's matrix values.
    pub config: BTreeMap<String, Value>,
    pub unit: Unit,
    pub slo: Slo,
    /// Goodput to meet, from 0 to 1.
    pub target: f64,
    /// Most requests a probe measures.
    pub requests: u32,
    pub cancel: &'a CancellationToken,
    /// The probes so far, and why the last one could not be measured, if it could not.
    pub probes: RefCell<Vec<ProbeRecord>>,
    pub failure: RefCell<Option<String>>,
}

impl Prober<'_> {
    /// The scenario of a probe at `load`.
    fn scenario_at(&self, load: f64) -> Scenario {
        let mut s = self.scenario.clone();
        s.matrix = self
            .config
            .iter()
            .map(|(k, v)| (k.clone(), vec![v.clone()]))
            .collect();
        s.workload.input_tokens.truncate(1);
        let (concurrency, rate, requests) = match self.unit {
            Unit::Concurrency => {
                let c = load as u32;
                (Some(vec![c]), None, self.requests.max(ROUNDS * c))
            }
            // An open-loop probe lasts at most about RATE_PROBE_S.
            Unit::Rate => {
                let lasting = (load * RATE_PROBE_S).ceil() as u32;
                (
                    None,
                    Some(vec![load]),
                    lasting.clamp(MIN_RATE_REQUESTS, self.requests.max(MIN_RATE_REQUESTS)),
                )
            }
        };
        s.load = Load {
            concurrency,
            rate,
            requests: Some(requests),
            duration_s: None,
            shape: None,
            stages: None,
            trials: 1,
            warmup: s.load.warmup.max((load as u32).min(MAX_WARMUP)),
            ..s.load
        };
        s.slo = Some(self.slo.clone());
        s.thresholds = None;
        s
    }

    /// Measures `load`; `None` when it could not be (the failure is kept).
    pub async fn probe(&self, load: f64) -> Option<Outcome> {
        let fail = |why: String| {
            *self.failure.borrow_mut() = Some(why);
            None
        };
        let mut plan = match Plan::new(self.scenario_at(load), self.api_key.clone(), self.origin) {
            Ok(plan) => plan,
            Err(e) => return fail(e.to_string()),
        };
        plan.settle_goodput = Some(self.target);
        let result = match run_plan(&plan, &RunOptions::default(), self.cancel).await {
            Ok(result) if !result.partial => result,
            Ok(_) => return fail("interrupted".into()),
            Err(e) => return fail(e.to_string()),
        };
        let Some(point) = result.points.first() else {
            return fail("the probe measured nothing".into());
        };
        if let Some(failure) = &point.failure {
            return fail(failure.reason.clone());
        }
        let record = ProbeRecord::of(load, point, self.target);
        let outcome = Outcome {
            load,
            share: record.goodput,
        };
        self.probes.borrow_mut().push(record);
        Some(outcome)
    }
}
