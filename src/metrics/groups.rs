//! A point's requests split by a key of their own (their traffic class, a conversation's
//! turn), each group folded on its own with its own SLO, so that a mixed workload keeps
//! each class's figures and a conversation each turn's.

use std::time::Instant;

use super::PointAccumulator;
use crate::client::Exchange;
use crate::result::{Goodput, GroupResult};
use crate::scenario::{PointSpec, Slo};

/// The groups' accumulators and names.
pub struct GroupSplit {
    groups: Vec<(String, PointAccumulator)>,
}

impl GroupSplit {
    /// One group per name, each judged by its SLO.
    pub fn new<'a>(
        groups: impl IntoIterator<Item = (String, Option<&'a Slo>)>,
        open_loop: bool,
        planned_input: u32,
    ) -> Self {
        let groups = groups
            .into_iter()
            .map(|(name, slo)| {
                (
                    name,
                    PointAccumulator::new(open_loop, planned_input, slo, None),
                )
            })
            .collect();
        Self { groups }
    }

    /// Folds a request into group `key` (the last group takes keys past the end).
    pub fn add(
        &mut self,
        key: usize,
        scheduled: Instant,
        planned_input: Option<u32>,
        ex: &Exchange,
    ) {
        let last = self.groups.len().saturating_sub(1);
        if let Some((_, acc)) = self.groups.get_mut(key.min(last)) {
            acc.add(scheduled, planned_input, ex);
        }
    }

    /// Each group's figures, those without requests left out.
    pub fn finish(self, spec: &PointSpec) -> Vec<GroupResult> {
        self.groups
            .into_iter()
            .map(|(name, acc)| acc.finish_group(spec, name))
            .filter(|group| group.requests.total > 0)
            .collect()
    }
}

/// The goodput of a point whose groups each have their own SLO: every request judged by
/// its group's; `None` when no group measured goodput.
pub fn combined_goodput(groups: &[GroupResult], slo: Option<&Slo>) -> Option<Goodput> {
    let parts: Vec<&Goodput> = groups.iter().filter_map(|g| g.goodput.as_ref()).collect();
    (!parts.is_empty()).then(|| Goodput::combined(parts, slo.cloned().unwrap_or_default()))
}
