//! The rows of one point compared with its baseline: latency quantiles from the stored
//! histograms (each trial's), closed-loop throughput from the E2E means, goodput and error
//! rate as proportions. A latency or throughput figure is compared with its level over the
//! baseline's history when it has two or more accepted runs, within the run-to-run noise;
//! else with the baseline run, its interval the hierarchical bootstrap's when both runs
//! have two or more trials, otherwise the within-run interval widened by that noise.

use std::collections::BTreeMap;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Binomial, Distribution};

use super::level::{run_to_run_half_width, Levels};
use super::noise::{Noise, NoiseModel};
use super::stats::{bootstrap_change, Change, Statistic, RESAMPLES};
use super::verdict::{judge, min_samples, threshold_for, trials_to_settle, Verdict, Worse};
use super::Row;
use crate::metrics::LatencyHistogram;
use crate::result::{PointResult, Trial, LATENCY_NAMES, QUANTILES};
use crate::scenario::CompareThreshold;

/// Most samples taken from the histograms of one run's point for the statistics.
const MAX_SAMPLES: usize = 20_000;

/// A point and its baseline, with what judging their rows needs.
pub(super) struct PointPair<'a> {
    pub base: &'a PointResult,
    pub cur: &'a PointResult,
    pub overrides: &'a BTreeMap<String, CompareThreshold>,
    pub noise: &'a NoiseModel,
    pub levels: &'a Levels,
    /// This run's figures of the point as a history keeps them (`result::figures`).
    pub cur_figures: BTreeMap<String, f64>,
    pub seed: u64,
}

impl PointPair<'_> {
    /// Every compared row of the point.
    pub fn rows(&self) -> Vec<Row> {
        let (base_trials, cur_trials) = (self.base.each_trial(), self.cur.each_trial());
        let mut rows = Vec::new();
        for latency in LATENCY_NAMES {
            let b = samples(&base_trials, latency);
            let c = samples(&cur_trials, latency);
            for (name, q) in QUANTILES {
                rows.push(self.latency_row(&b, &c, latency, name, q));
            }
        }
        rows.push(self.throughput_row(&base_trials, &cur_trials));
        if let (Some(bg), Some(cg)) = (&self.base.goodput, &self.cur.goodput) {
            let mut r = self.row("goodput", Some(bg.ratio), Some(cg.ratio));
            let change = proportion_change(
                (bg.met, bg.total),
                (cg.met, cg.total),
                true,
                self.seed_for(&r.metric),
            );
            self.judge_proportion(&mut r, change, Worse::Lower);
            rows.push(r);
        }
        let counts = |p: &PointResult| (p.requests.failed, p.requests.total);
        let rate = |(failed, total): (u64, u64)| (total > 0).then(|| failed as f64 / total as f64);
        let (b, c) = (counts(self.base), counts(self.cur));
        let mut r = self.row("error_rate", rate(b).or(Some(0.0)), rate(c).or(Some(0.0)));
        let change = proportion_change(b, c, false, self.seed_for(&r.metric));
        self.judge_proportion(&mut r, change, Worse::Higher);
        rows.push(r);
        rows
    }

    fn row(&self, metric: &str, baseline: Option<f64>, current: Option<f64>) -> Row {
        Row {
            point: self.cur.id.clone(),
            metric: metric.to_owned(),
            baseline,
            current,
            change: None,
            noise: None,
            verdict: Verdict::NoChange,
            note: String::new(),
        }
    }

    fn latency_row(
        &self,
        b: &[Vec<f64>],
        c: &[Vec<f64>],
        latency: &str,
        name: &str,
        q: f64,
    ) -> Row {
        let metric = format!("{latency}_ms.{name}");
        // The values shown are the samples' own, so they agree with the change.
        let quantile = |trials: &[Vec<f64>]| Statistic::Quantile(q).of(&mut trials.concat());
        let mut r = self.row(&metric, quantile(b), quantile(c));
        let (nb, nc): (usize, usize) = (b.iter().map(Vec::len).sum(), c.iter().map(Vec::len).sum());
        let needed = min_samples(q);
        if nb < needed || nc < needed {
            r.verdict = Verdict::InsufficientData;
            r.note = format!("{name} needs {needed} samples, has {nb} and {nc}");
            return r;
        }
        let seed = self.seed_for(&r.metric);
        let judged = match self.change_from_level(&mut r) {
            Some(judged) => Some(judged),
            None => self.change(&metric, b, c, Statistic::Quantile(q), seed),
        };
        match judged {
            Some((change, noise)) => self.judge_row(&mut r, change, noise, Worse::Higher),
            None => {
                r.verdict = Verdict::InsufficientData;
                r.note = "no usable samples".into();
            }
        }
        r
    }

    /// The change of `stat` from the baseline's samples `b` to the current run's `c` (the
    /// row's values), with its interval and the figure's noise: from the history's level
    /// when there is one (the row then shows it as the baseline), else hierarchical with
    /// two or more trials a side, else the requests' interval widened by the noise.
    fn change(
        &self,
        metric: &str,
        b: &[Vec<f64>],
        c: &[Vec<f64>],
        stat: Statistic,
        seed: u64,
    ) -> Option<(Change, Noise)> {
        let change = bootstrap_change(b, c, stat, RESAMPLES, seed)?;
        let noise = self.noise.of(&self.cur.id, metric);
        Some((widen(change, noise, b.len(), c.len()), noise))
    }

    /// The change of this run's figure from its level over the baseline's history, within
    /// the noise between whole runs; the row then shows both. `None` without such a level.
    fn change_from_level(&self, r: &mut Row) -> Option<(Change, Noise)> {
        let level = self.levels.get(&self.cur.id, &r.metric)?;
        let noise = self.noise.between_runs(&self.cur.id, &r.metric)?;
        // The figure as the history keeps it (trials pooled the same way).
        let current = *self.cur_figures.get(&r.metric)?;
        r.baseline = Some(level.value);
        r.current = Some(current);
        Some((level.change_to(current, noise), noise))
    }

    fn judge_row(&self, r: &mut Row, change: Change, noise: Noise, worse: Worse) {
        let threshold = threshold_for(&r.metric, self.overrides);
        r.verdict = judge(&change, worse, threshold);
        if r.verdict == Verdict::Inconclusive {
            let trials = self.trials().min(u32::MAX as usize) as u32;
            r.note = match trials_to_settle(&change, worse, threshold, trials) {
                Some(n) => format!("needs ~{n} trials a side"),
                None => "too near the threshold to settle".into(),
            };
        }
        r.change = Some(change);
        r.noise = Some(noise);
    }

    /// Trials of the run with fewer.
    fn trials(&self) -> usize {
        self.base
            .trials
            .len()
            .max(1)
            .min(self.cur.trials.len().max(1))
    }

    /// Closed loop: throughput is concurrency × output tokens / E2E, so its interval comes
    /// from the E2E means. Open loop: the offered rate sets it; shown, not judged.
    fn throughput_row(&self, base_trials: &[Trial], cur_trials: &[Trial]) -> Row {
        let (b, c) = (
            self.base.throughput.output_tokens_per_s,
            self.cur.throughput.output_tokens_per_s,
        );
        let mut r = self.row("output_tokens_per_s", Some(b), Some(c));
        if b <= 0.0 {
            r.verdict = Verdict::InsufficientData;
            r.note = "no baseline throughput".into();
            return r;
        }
        if self.cur.params.contains_key("rate") {
            r.note = "open loop: set by the offered rate".into();
            return r;
        }
        if let Some((change, noise)) = self.change_from_level(&mut r) {
            self.judge_row(&mut r, change, noise, Worse::Lower);
            return r;
        }
        let (be, ce) = (samples(base_trials, "e2e"), samples(cur_trials, "e2e"));
        let seed = self.seed_for(&r.metric);
        let Some((e2e, noise)) = self.change(&r.metric, &be, &ce, Statistic::Mean, seed) else {
            r.verdict = Verdict::InsufficientData;
            r.note = "no E2E samples".into();
            return r;
        };
        self.judge_row(
            &mut r,
            throughput_change(c / b - 1.0, e2e),
            noise,
            Worse::Lower,
        );
        r
    }

    fn judge_proportion(&self, r: &mut Row, change: Option<Change>, worse: Worse) {
        if let Some(change) = change {
            r.verdict = judge(&change, worse, threshold_for(&r.metric, self.overrides));
            r.change = Some(change);
        }
    }
}

impl PointPair<'_> {
    /// A stable seed for the resampling of `metric`'s row, whatever the row order: FNV-1a
    /// over the point and the metric.
    fn seed_for(&self, metric: &str) -> u64 {
        let mut hash = 0xcbf2_9ce4_8422_2325u64 ^ self.seed;
        for byte in self.cur.id.bytes().chain(metric.bytes()) {
            hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
        }
        hash
    }
}

/// `change` with its interval widened by the run-to-run noise between a run of `nb` trials
/// and one of `nc` (the noise of a mean of n trials shrinks as the root of n). With one
/// trial a side the requests' interval cannot see that noise, so it is added; with two or
/// more, the hierarchical interval has it already, and the learnt noise is a floor (a
/// bootstrap over a few trials is too narrow).
fn widen(change: Change, noise: Noise, nb: usize, nc: usize) -> Change {
    let spread = run_to_run_half_width(noise, nb, nc);
    let combine = |half_width: f64| {
        if nb >= 2 && nc >= 2 {
            half_width.max(spread)
        } else {
            half_width.hypot(spread)
        }
    };
    let e = change.estimate;
    Change {
        estimate: e,
        low: e - combine(e - change.low),
        high: e + combine(change.high - e),
    }
}

/// A closed-loop throughput change `estimate` with its interval from the change of the E2E
/// mean (throughput is concurrency × output tokens / E2E).
pub(super) fn throughput_change(estimate: f64, e2e: Change) -> Change {
    Change {
        estimate,
        low: 1.0 / (1.0 + e2e.high) - 1.0,
        high: 1.0 / (1.0 + e2e.low) - 1.0,
    }
}

/// Each trial's samples of `latency`, in milliseconds (at most [`MAX_SAMPLES`] in all).
pub(super) fn samples(trials: &[Trial], latency: &str) -> Vec<Vec<f64>> {
    let each = MAX_SAMPLES / trials.len().max(1);
    trials
        .iter()
        .map(|t| {
            t.histograms
                .get(latency)
                .and_then(|text| LatencyHistogram::from_base64(text).ok())
                .map(|h| h.samples_ms(each))
                .unwrap_or_default()
        })
        .collect()
}

/// Change of a proportion `(part, total)`: relative (goodput) or absolute (error rate),
/// with a parametric-bootstrap 95% interval.
fn proportion_change(
    base: (u64, u64),
    cur: (u64, u64),
    relative: bool,
    seed: u64,
) -> Option<Change> {
    if base.1 == 0 || cur.1 == 0 {
        return None;
    }
    let (pb, pc) = (base.0 as f64 / base.1 as f64, cur.0 as f64 / cur.1 as f64);
    if relative && pb == 0.0 {
        return None;
    }
    let diff = |b: f64, c: f64| if relative { c / b - 1.0 } else { c - b };
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (db, dc) = (
        Binomial::new(base.1, pb).ok()?,
        Binomial::new(cur.1, pc).ok()?,
    );
    let draws: Vec<f64> = (0..RESAMPLES)
        .filter_map(|_| {
            let b = db.sample(&mut rng) as f64 / base.1 as f64;
            let c = dc.sample(&mut rng) as f64 / cur.1 as f64;
            (!relative || b > 0.0).then(|| diff(b, c))
        })
        .collect();
    if draws.is_empty() {
        return None;
    }
    Some(Change::from_resamples(diff(pb, pc), draws))
}
