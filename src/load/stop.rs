//! Rules by which a point stops itself before its planned end: a threshold with
//! `abort_on_fail` that fails once its delay has passed (k6's `abortOnFail`: the whole run
//! stops), a `breakpoint` ramp that has passed saturation (the point stops, naming the
//! load at which the server broke), and a goodput whose interval is clear of its target
//! (`recommend`'s probes). Checked by the aggregator as records arrive, at most
//! every [`CHECK_PERIOD`]; stopping cancels the point's senders.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use super::PointSettings;
use crate::client::Exchange;
use crate::metrics::{PointAccumulator, RequestFigures, SaturationWatch, Settled, Share};
use crate::result::{Breakpoint, Stopped};
use crate::scenario::{LoadShape, PointSpec, Shape, Threshold};

/// How often the rules are checked.
const CHECK_PERIOD: Duration = Duration::from_millis(500);
/// Fewest requests whose goodput may settle a point.
const MIN_SETTLE_REQUESTS: u64 = 10;

/// The rules of one point and what they decided.
pub struct StopRules {
    thresholds: Vec<Threshold>,
    saturation: Option<SaturationWatch>,
    /// The goodput whose settling stops the point.
    settle_goodput: Option<f64>,
    /// Cancels the point's senders.
    stop: CancellationToken,
    origin: Instant,
    next_check: Instant,
    stopped: Option<Stopped>,
}

impl StopRules {
    /// The rules of `spec` run with `settings`: its `abort` thresholds, its goodput to
    /// settle, and a saturation watch for a breakpoint ramp; `stop` cancels the senders,
    /// `origin` is the window's start.
    pub fn new(
        spec: &PointSpec,
        settings: &PointSettings<'_>,
        stop: CancellationToken,
        origin: Instant,
    ) -> Self {
        let saturation = match &spec.shape {
            LoadShape::Staged { stages, .. } if stages.name == Shape::Breakpoint.name() => {
                Some(SaturationWatch::new(Arc::clone(stages), origin))
            }
            _ => None,
        };
        Self {
            thresholds: settings.abort.to_vec(),
            saturation,
            settle_goodput: settings.settle_goodput,
            stop,
            origin,
            next_check: origin,
            stopped: None,
        }
    }

    /// Folds a finished request into the saturation watch, if there is one.
    pub fn add(&mut self, ex: &Exchange) {
        if let Some(watch) = &mut self.saturation {
            watch.add(ex, RequestFigures::of(ex).as_ref());
        }
    }

    /// Checks the rules against the point so far (`acc`), unless checked within the last
    /// period or already stopped; stops the senders when one says so.
    pub fn check(&mut self, acc: &mut PointAccumulator, spec: &PointSpec) {
        let now = Instant::now();
        if self.stopped.is_some() || now < self.next_check {
            return;
        }
        self.next_check = now + CHECK_PERIOD;
        let at = now.saturating_duration_since(self.origin);
        let stopped = self
            .broken(now)
            .map(|reason| (reason, false))
            .or_else(|| {
                self.failed_threshold(acc, spec, at)
                    .map(|reason| (reason, true))
            })
            .or_else(|| self.settled(acc, spec).map(|reason| (reason, false)));
        if let Some((reason, ends_run)) = stopped {
            self.stopped = Some(Stopped {
                at_s: at.as_secs_f64(),
                reason,
                ends_run,
            });
            self.stop.cancel();
        }
    }

    /// Why the breakpoint ramp stops, once the server broke.
    fn broken(&self, now: Instant) -> Option<String> {
        let verdict = self.saturation.as_ref()?.verdict(now);
        verdict
            .broke
            .then(|| format!("breakpoint: {}", verdict.reason))
    }

    /// The first `abort_on_fail` threshold past its delay that the point fails, said.
    fn failed_threshold(
        &self,
        acc: &mut PointAccumulator,
        spec: &PointSpec,
        at: Duration,
    ) -> Option<String> {
        let due: Vec<&Threshold> = self
            .thresholds
            .iter()
            .filter(|t| t.abort_after.is_some_and(|delay| at >= delay))
            .collect();
        if due.is_empty() {
            return None;
        }
        let point = acc.snapshot(spec);
        due.into_iter().find_map(|t| {
            let value = point.threshold_value(t)?;
            (!t.holds(value))
                .then(|| format!("threshold {t} failed ({value:.3}) with abort_on_fail"))
        })
    }

    /// Why the point stops once its goodput's interval is clear of the target.
    fn settled(&self, acc: &mut PointAccumulator, spec: &PointSpec) -> Option<String> {
        let target = self.settle_goodput?;
        let point = acc.snapshot(spec);
        let goodput = point.goodput?;
        let share = Share::of(goodput.met, goodput.total);
        let side = match share.against(target) {
            _ if share.total < MIN_SETTLE_REQUESTS => return None,
            Settled::Unsure => return None,
            Settled::Meets => "above",
            Settled::Misses => "below",
        };
        Some(format!(
            "goodput settled: {:.1}% [{:.1}%, {:.1}%] of {} requests, {side} the {:.0}% target",
            share.ratio * 100.0,
            share.low * 100.0,
            share.high * 100.0,
            share.total,
            target * 100.0
        ))
    }

    /// What the rules decided by the end: why the point stopped (if it did) and what a
    /// breakpoint ramp found.
    pub fn finish(self) -> (Option<Stopped>, Option<Breakpoint>) {
        let breakpoint = self.saturation.map(|w| w.verdict(Instant::now()));
        (self.stopped, breakpoint)
    }
}
