//! A staged point's requests split by the stage they were sent in, each stage folded on
//! its own, so that a ramp's plateaus or a spike's peak keep their own figures.

use std::sync::Arc;
use std::time::Instant;

use super::PointAccumulator;
use crate::client::Exchange;
use crate::result::StageResult;
use crate::scenario::{PointSpec, Slo, Stages};

/// The stages' accumulators.
pub struct StageSplit {
    stages: Arc<Stages>,
    origin: Instant,
    accumulators: Vec<PointAccumulator>,
}

impl StageSplit {
    /// One accumulator per stage of `stages`, timed from `origin` (the start of the
    /// measured window).
    pub fn new(
        stages: Arc<Stages>,
        origin: Instant,
        open_loop: bool,
        planned_input: u32,
        slo: Option<&Slo>,
    ) -> Self {
        let accumulators = stages
            .steps
            .iter()
            .map(|_| PointAccumulator::new(open_loop, planned_input, slo, None))
            .collect();
        Self {
            stages,
            origin,
            accumulators,
        }
    }

    /// Folds a request into the stage it was sent in.
    pub fn add(&mut self, scheduled: Instant, planned_input: Option<u32>, ex: &Exchange) {
        let (stage, _, _) = self
            .stages
            .stage_at(ex.sent.saturating_duration_since(self.origin));
        if let Some(acc) = self.accumulators.get_mut(stage) {
            acc.add(scheduled, planned_input, ex);
        }
    }

    /// Each stage's figures (those of no time, which only move the level, left out).
    pub fn finish(self, spec: &PointSpec) -> Vec<StageResult> {
        let mut start = 0.0;
        let mut from = 0.0;
        self.accumulators
            .into_iter()
            .zip(&self.stages.steps)
            .enumerate()
            .map(|(index, (acc, &(length, to)))| {
                let stage = StageResult {
                    index,
                    start_s: start,
                    end_s: start + length.as_secs_f64(),
                    from,
                    to,
                    ..StageResult::default()
                };
                (start, from) = (stage.end_s, to);
                acc.finish_stage(spec, stage)
            })
            // A stage of no time (a jump) sends nothing.
            .filter(|stage| stage.end_s > stage.start_s || stage.requests.total > 0)
            .collect()
    }
}
