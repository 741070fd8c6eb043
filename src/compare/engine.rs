//! Compares a run with its baseline, point by point (matched by id) and metric by metric:
//! latency quantiles from the stored histograms, throughput, goodput and error rate. Each
//! row carries both values, the change with its 95% interval, the test's p-value and the
//! verdict. Pure: the caller reads the files and renders the rows.

use std::collections::BTreeMap;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Binomial, Distribution};

use super::slo;
use super::stats::{bootstrap_change, mann_whitney_p, Change, Statistic, RESAMPLES};
use super::verdict::{judge, min_samples, threshold_for, Threshold, Verdict, Worse};
use crate::metrics::LatencyHistogram;
use crate::result::{PointResult, RunResult, LATENCY_NAMES};
use crate::scenario::CompareThreshold;

/// Most samples taken from a histogram for the statistics.
const MAX_SAMPLES: usize = 20_000;
/// Significance level of the Mann-Whitney test.
const ALPHA: f64 = 0.05;

/// One compared metric of one point (or a point-level row: new, missing, mismatch).
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub point: String,
    /// `ttft_ms.p50`, `output_tokens_per_s`, `goodput`, `error_rate`; empty on point rows.
    pub metric: String,
    pub baseline: Option<f64>,
    pub current: Option<f64>,
    /// Relative change (absolute difference for `error_rate`) with its interval.
    pub change: Option<Change>,
    pub p_value: Option<f64>,
    pub verdict: Verdict,
    pub note: String,
}

/// The comparison of one scenario's run with its baseline.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    pub scenario: String,
    /// Regressions first, then by point and metric.
    pub rows: Vec<Row>,
    /// The scenario has no baseline yet: every point is new.
    pub new_scenario: bool,
}

const QUANTILES: [(&str, f64); 3] = [("p50", 0.50), ("p90", 0.90), ("p99", 0.99)];

/// Compares `current` with `baseline`; `seed` makes the bootstrap reproducible. Without a
/// baseline, every point is new and only the run's own checks (completeness, failed points,
/// SLOs) are judged.
pub fn compare(baseline: Option<&RunResult>, current: &RunResult, seed: u64) -> Comparison {
    let mut rows: Vec<Row> = incomplete(current).into_iter().collect();
    if let Some(note) = baseline.and_then(|b| mismatch(b, current)) {
        rows.push(Row::of_point(
            "(environment)",
            Verdict::BaselineMismatch,
            &note,
        ));
    }
    let overrides = &current.scenario.compare;
    let base: BTreeMap<&str, &PointResult> = baseline
        .map_or(&[][..], |b| &b.points)
        .iter()
        .map(|p| (p.id.as_str(), p))
        .collect();
    let new_note = match baseline {
        Some(_) => "not in the baseline",
        None => "no baseline yet",
    };
    for point in &current.points {
        if let Some(failure) = &point.failure {
            rows.push(Row::of_point(
                &point.id,
                Verdict::PointFailed,
                &failure.reason,
            ));
            continue;
        }
        match base.get(point.id.as_str()) {
            Some(b) => rows.extend(compare_point(b, point, overrides, seed)),
            None => rows.push(Row::of_point(&point.id, Verdict::NewPoint, new_note)),
        }
    }
    for id in base
        .keys()
        .filter(|id| !current.points.iter().any(|p| p.id == **id))
    {
        rows.push(Row::of_point(
            id,
            Verdict::MissingPoint,
            "in the baseline, not in this run",
        ));
    }
    rows.extend(slo::check(current).into_iter().map(|check| Row {
        point: check.point,
        metric: check.threshold.to_string(),
        baseline: None,
        current: check.value,
        change: None,
        p_value: None,
        verdict: if check.holds {
            Verdict::SloMet
        } else {
            Verdict::SloBreach
        },
        note: String::new(),
    }));
    rows.sort_by(|a, b| (a.verdict, &a.point, &a.metric).cmp(&(b.verdict, &b.point, &b.metric)));
    Comparison {
        scenario: current.scenario.name.clone(),
        rows,
        new_scenario: baseline.is_none(),
    }
}

/// A row failing a run that is not one to judge: interrupted, or without any point.
fn incomplete(current: &RunResult) -> Option<Row> {
    let note = if current.partial {
        "the run was interrupted: its result is partial"
    } else if current.points.is_empty() {
        "the result holds no point"
    } else {
        return None;
    };
    Some(Row::of_point("(run)", Verdict::IncompleteRun, note))
}

impl Row {
    /// A row about a whole point (new, missing, failed, a mismatch), without figures.
    pub fn of_point(point: &str, verdict: Verdict, note: &str) -> Self {
        Self {
            point: point.to_owned(),
            metric: String::new(),
            baseline: None,
            current: None,
            change: None,
            p_value: None,
            verdict,
            note: note.to_owned(),
        }
    }
}

/// What differs between the two environments that makes figures incomparable.
fn mismatch(baseline: &RunResult, current: &RunResult) -> Option<String> {
    let (b, c) = (&baseline.environment.server, &current.environment.server);
    let mut differences = Vec::new();
    if b.model != c.model {
        differences.push(format!("model {} → {}", b.model, c.model));
    }
    if b.version != c.version {
        let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "unknown".into());
        differences.push(format!(
            "server {} → {}",
            show(&b.version),
            show(&c.version)
        ));
    }
    (!differences.is_empty()).then(|| differences.join("; "))
}

fn open_loop(point: &PointResult) -> bool {
    point.params.contains_key("rate")
}

fn samples(point: &PointResult, latency: &str) -> Vec<f64> {
    point
        .histograms
        .get(latency)
        .and_then(|text| LatencyHistogram::from_base64(text).ok())
        .map(|h| h.samples_ms(MAX_SAMPLES))
        .unwrap_or_default()
}

fn metric_seed(seed: u64, point: &str, metric: &str) -> u64 {
    // FNV-1a over the names: a stable seed per row, whatever the row order.
    let mut hash = 0xcbf2_9ce4_8422_2325u64 ^ seed;
    for byte in point.bytes().chain(metric.bytes()) {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

fn compare_point(
    base: &PointResult,
    cur: &PointResult,
    overrides: &BTreeMap<String, CompareThreshold>,
    seed: u64,
) -> Vec<Row> {
    let mut rows = Vec::new();
    let row = |metric: String, baseline: Option<f64>, current: Option<f64>| Row {
        point: cur.id.clone(),
        metric,
        baseline,
        current,
        change: None,
        p_value: None,
        verdict: Verdict::NoChange,
        note: String::new(),
    };
    for latency in LATENCY_NAMES {
        let (b, c) = (samples(base, latency), samples(cur, latency));
        let p_value = mann_whitney_p(&b, &c);
        for (name, q) in QUANTILES {
            let metric = format!("{latency}_ms.{name}");
            // The values shown are the samples' own, so they agree with the change.
            let quantile = |samples: &[f64]| Statistic::Quantile(q).of(&mut samples.to_vec());
            let mut r = row(metric.clone(), quantile(&b), quantile(&c));
            let needed = min_samples(q);
            if b.len() < needed || c.len() < needed {
                r.verdict = Verdict::InsufficientData;
                r.note = format!(
                    "{name} needs {needed} samples, has {} and {}",
                    b.len(),
                    c.len()
                );
            } else if let Some(change) = bootstrap_change(
                &b,
                &c,
                Statistic::Quantile(q),
                RESAMPLES,
                metric_seed(seed, &cur.id, &metric),
            ) {
                let significant = p_value.is_some_and(|p| p < ALPHA);
                r.verdict = judge(
                    &change,
                    Worse::Higher,
                    threshold_for(&metric, overrides),
                    significant,
                );
                r.change = Some(change);
                r.p_value = p_value;
            } else {
                r.verdict = Verdict::InsufficientData;
                r.note = "no usable samples".into();
            }
            rows.push(r);
        }
    }
    rows.push(throughput_row(
        base,
        cur,
        threshold_for("output_tokens_per_s", overrides),
        seed,
        row(
            "output_tokens_per_s".into(),
            Some(base.throughput.output_tokens_per_s),
            Some(cur.throughput.output_tokens_per_s),
        ),
    ));
    if let (Some(bg), Some(cg)) = (&base.goodput, &cur.goodput) {
        let mut r = row("goodput".into(), Some(bg.ratio), Some(cg.ratio));
        let change = proportion_change(
            (bg.met, bg.total),
            (cg.met, cg.total),
            true,
            metric_seed(seed, &cur.id, "goodput"),
        );
        judge_proportion(&mut r, change, Worse::Lower, overrides);
        rows.push(r);
    }
    let rate = |p: &PointResult| {
        if p.requests.total == 0 {
            0.0
        } else {
            p.requests.failed as f64 / p.requests.total as f64
        }
    };
    let mut r = row("error_rate".into(), Some(rate(base)), Some(rate(cur)));
    let change = proportion_change(
        (base.requests.failed, base.requests.total),
        (cur.requests.failed, cur.requests.total),
        false,
        metric_seed(seed, &cur.id, "error_rate"),
    );
    judge_proportion(&mut r, change, Worse::Higher, overrides);
    rows.push(r);
    rows
}

/// Closed loop: throughput is concurrency × output tokens / E2E, so its interval comes
/// from the E2E means. Open loop: the offered rate sets it; shown, never judged significant.
fn throughput_row(
    base: &PointResult,
    cur: &PointResult,
    threshold: Threshold,
    seed: u64,
    mut r: Row,
) -> Row {
    let (b, c) = (
        base.throughput.output_tokens_per_s,
        cur.throughput.output_tokens_per_s,
    );
    if b <= 0.0 {
        r.verdict = Verdict::InsufficientData;
        r.note = "no baseline throughput".into();
        return r;
    }
    let estimate = c / b - 1.0;
    if open_loop(cur) {
        r.note = "open loop: set by the offered rate".into();
        r.verdict = if estimate.abs() >= threshold.warn {
            Verdict::WithinNoise
        } else {
            Verdict::NoChange
        };
        return r;
    }
    let (be, ce) = (samples(base, "e2e"), samples(cur, "e2e"));
    let Some(e2e) = bootstrap_change(
        &be,
        &ce,
        Statistic::Mean,
        RESAMPLES,
        metric_seed(seed, &cur.id, &r.metric),
    ) else {
        r.verdict = Verdict::InsufficientData;
        r.note = "no E2E samples".into();
        return r;
    };
    let change = Change {
        estimate,
        low: 1.0 / (1.0 + e2e.high) - 1.0,
        high: 1.0 / (1.0 + e2e.low) - 1.0,
    };
    r.p_value = mann_whitney_p(&be, &ce);
    let significant = r.p_value.is_some_and(|p| p < ALPHA);
    r.verdict = judge(&change, Worse::Lower, threshold, significant);
    r.change = Some(change);
    r.note = "interval from the E2E means".into();
    r
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

fn judge_proportion(
    r: &mut Row,
    change: Option<Change>,
    worse: Worse,
    overrides: &BTreeMap<String, CompareThreshold>,
) {
    match change {
        Some(change) => {
            // The interval is the test: significant when it excludes zero.
            let significant = change.low > 0.0 || change.high < 0.0;
            r.verdict = judge(
                &change,
                worse,
                threshold_for(&r.metric, overrides),
                significant,
            );
            r.change = Some(change);
        }
        None => r.verdict = Verdict::NoChange,
    }
}
