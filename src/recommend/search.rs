//! The search for the highest load whose goodput meets the target, in as few probes as the
//! answer allows (vLLM's sweep tooling does the same by root finding instead of a grid):
//! the load doubles from its start until a probe misses, then the bracket between the last
//! load that met and the first that missed is halved until it is one step wide (one request
//! in flight, or an eighth of the load above eight; a tenth of the rate). Probing is the
//! caller's: the search only decides where to probe next.

use std::future::Future;

use serde::{Deserialize, Serialize};

use crate::metrics::{Settled, Share};

/// What the load counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// Requests in flight (closed loop).
    Concurrency,
    /// Requests per second (open loop).
    Rate,
}

/// Where the search may probe.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Space {
    pub unit: Unit,
    /// The first load probed.
    pub start: f64,
    /// The highest load probed.
    pub max: f64,
}

/// One probe's goodput as the search reads it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Outcome {
    pub load: f64,
    pub share: Share,
}

impl Outcome {
    /// How the probe's interval settles it against `target`.
    pub fn settled(&self, target: f64) -> Settled {
        self.share.against(target)
    }

    /// Whether the probe meets `target`: its interval when that settles it, else its
    /// point estimate.
    pub fn meets(&self, target: f64) -> bool {
        match self.settled(target) {
            Settled::Meets => true,
            Settled::Misses => false,
            Settled::Unsure => self.share.ratio >= target,
        }
    }
}

/// Why the search ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum End {
    /// The bracket is one step wide.
    Found,
    /// Even the first load missed.
    NeverMet,
    /// Every load up to the highest allowed met.
    HeldToMax,
    /// The time budget ran out first.
    Budget,
    /// A probe could not be measured (interrupted, or its server failed).
    Stopped,
}

/// Where the search ended: the highest load that met and the lowest that missed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bracket {
    pub met: Option<f64>,
    pub missed: Option<f64>,
    pub end: End,
}

impl Space {
    /// Whether `met` and `missed` are within one step of each other.
    fn narrow(&self, met: f64, missed: f64) -> bool {
        match self.unit {
            Unit::Concurrency => missed - met <= (met / 8.0).floor().max(1.0),
            Unit::Rate => missed <= met * 1.1,
        }
    }

    /// The load between `met` and `missed` to probe next.
    fn between(&self, met: f64, missed: f64) -> f64 {
        match self.unit {
            Unit::Concurrency => ((met + missed) / 2.0).floor(),
            Unit::Rate => (met * missed).sqrt(),
        }
    }
}

/// Searches `space` for the highest load meeting `target`, measuring each load with
/// `probe` (`None`: it could not be measured) until `over_budget` says time is up.
pub async fn search<F, P>(
    space: Space,
    target: f64,
    mut probe: P,
    over_budget: impl Fn() -> bool,
) -> Bracket
where
    P: FnMut(f64) -> F,
    F: Future<Output = Option<Outcome>>,
{
    let mut bracket = Bracket {
        met: None,
        missed: None,
        end: End::Found,
    };
    let mut load = space.start;
    loop {
        let Some(outcome) = probe(load).await else {
            bracket.end = End::Stopped;
            return bracket;
        };
        if !outcome.meets(target) {
            bracket.missed = Some(load);
            break;
        }
        bracket.met = Some(load);
        if load >= space.max {
            bracket.end = End::HeldToMax;
            return bracket;
        }
        if over_budget() {
            bracket.end = End::Budget;
            return bracket;
        }
        load = (load * 2.0).min(space.max);
    }
    let Some(mut met) = bracket.met else {
        bracket.end = End::NeverMet;
        return bracket;
    };
    let mut missed = load;
    while !space.narrow(met, missed) {
        if over_budget() {
            bracket.end = End::Budget;
            break;
        }
        let next = space.between(met, missed);
        let Some(outcome) = probe(next).await else {
            bracket.end = End::Stopped;
            break;
        };
        if outcome.meets(target) {
            met = next;
        } else {
            missed = next;
        }
        (bracket.met, bracket.missed) = (Some(met), Some(missed));
    }
    bracket
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A server whose goodput is 100% up to `limit` in flight and 50% above.
    fn curve(limit: f64) -> impl FnMut(f64) -> std::future::Ready<Option<Outcome>> {
        move |load| {
            let met = if load <= limit { 200 } else { 100 };
            std::future::ready(Some(Outcome {
                load,
                share: Share::of(met, 200),
            }))
        }
    }

    fn concurrency(max: f64) -> Space {
        Space {
            unit: Unit::Concurrency,
            start: 1.0,
            max,
        }
    }

    #[tokio::test]
    async fn the_search_brackets_the_limit_to_one_step() {
        for limit in [1.0, 5.0, 6.0, 13.0, 40.0] {
            let mut probed = Vec::new();
            let mut probe = curve(limit);
            let b = search(
                concurrency(1024.0),
                0.95,
                |l| {
                    probed.push(l);
                    probe(l)
                },
                || false,
            )
            .await;
            assert_eq!(
                (b.met, b.end),
                (Some(limit), End::Found),
                "limit {limit}: probed {probed:?}"
            );
            assert!(b.missed.unwrap() - limit <= (limit / 8.0).floor().max(1.0));
        }
    }

    #[tokio::test]
    async fn never_met_held_to_max_and_budget_end_the_search() {
        let b = search(concurrency(64.0), 0.95, curve(0.0), || false).await;
        assert_eq!((b.met, b.missed, b.end), (None, Some(1.0), End::NeverMet));
        let b = search(concurrency(64.0), 0.95, curve(1000.0), || false).await;
        assert_eq!((b.met, b.end), (Some(64.0), End::HeldToMax));
        let b = search(concurrency(64.0), 0.95, curve(1000.0), || true).await;
        assert_eq!((b.met, b.end), (Some(1.0), End::Budget));
        let rate = Space {
            unit: Unit::Rate,
            start: 0.5,
            max: 1000.0,
        };
        let b = search(rate, 0.95, curve(7.0), || false).await;
        let (met, missed) = (b.met.unwrap(), b.missed.unwrap());
        assert!(
            met <= 7.0 && missed > 7.0 && missed <= met * 1.1,
            "{met}..{missed}"
        );
    }
}
