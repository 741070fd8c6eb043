//! What the server options did, from points that differ in one option only: the option
//! that moved each key figure most, chunked prefill's effect on ITL p99 and TTFT, the
//! effect of `max_num_batched_tokens`, and how tensor parallelism scaled.

use std::collections::BTreeMap;

use serde_json::Value;

use super::super::axes::{self, place, CHUNKED_PREFILL, TENSOR_PARALLEL};
use super::super::format::percent;
use super::figure::{Key, ITL_P99, KEYS, THROUGHPUT, TPOT_P50, TTFT_P50};
use super::{Conclusion, Measured};
use crate::compare::stats::Change;

const BATCHED_TOKENS: &str = "max_num_batched_tokens";

/// A change smaller than this is called slight.
const SLIGHT: f64 = 0.05;

/// The changes of some key figures from one point to another that differs from it in one
/// option only.
pub(super) struct Step<'a> {
    pub option: &'a str,
    pub from: Measured<'a>,
    pub to: Measured<'a>,
    /// Each figure's change; `None` with too few samples on a side.
    pub changes: Vec<(Key, Option<Change>)>,
}

impl Step<'_> {
    /// `tp=2 vs tp=1`.
    fn versus(&self) -> String {
        let value = |p: Measured| {
            p.1.params
                .get(self.option)
                .map(axes::show)
                .unwrap_or_default()
        };
        format!(
            "{o}={} vs {o}={}",
            value(self.to),
            value(self.from),
            o = self.option
        )
    }

    /// Where both points are: their shared load, input and other settings.
    fn context(&self) -> String {
        place(self.from.1, &[self.option])
    }

    /// `TTFT p50 +5.0% [+2.1%, +8.0%] (40.1 → 42.1 ms)`, or why there is no change.
    fn clause(&self, key: Key, change: Option<&Change>) -> String {
        match change {
            Some(c) => format!("{} {}", key.label, key.describe(c, self.from.1, self.to.1)),
            None => format!("{} not compared (too few samples)", key.label),
        }
    }

    /// Every figure's clause, joined.
    fn clauses(&self) -> String {
        let all: Vec<String> = self
            .changes
            .iter()
            .map(|(key, change)| self.clause(*key, change.as_ref()))
            .collect();
        all.join(", ")
    }

    fn points(&self) -> [usize; 2] {
        [self.from.0, self.to.0]
    }
}

/// The server options that vary among the measured points: the parameters other than the
/// input length and load with two or more values.
fn options<'a>(measured: &[Measured<'a>]) -> Vec<&'a str> {
    let mut values: BTreeMap<&str, Vec<&Value>> = BTreeMap::new();
    for (_, point) in measured {
        for (key, value) in &point.params {
            if !axes::is_workload(key) {
                let seen = values.entry(key.as_str()).or_default();
                if !seen.contains(&value) {
                    seen.push(value);
                }
            }
        }
    }
    values
        .into_iter()
        .filter(|(_, v)| v.len() >= 2)
        .map(|(k, _)| k)
        .collect()
}

/// Groups of points that share every parameter but `option`, each in ascending order of
/// the option's value (`false` before `true`); groups of one left out.
fn matched<'a>(measured: &[Measured<'a>], option: &str) -> Vec<Vec<Measured<'a>>> {
    let others = |m: &Measured| {
        let mut params = m.1.params.clone();
        params.remove(option).map(|_| params)
    };
    let value = |m: &Measured| m.1.params.get(option).and_then(axes::number);
    axes::group_by(measured.iter().copied(), others)
        .into_iter()
        .filter(|(rest, members)| rest.is_some() && members.len() >= 2)
        .map(|(_, mut members)| {
            members.sort_by(|a, b| {
                value(a)
                    .partial_cmp(&value(b))
                    .unwrap_or(std::cmp::Ordering::Equal)
            });
            members
        })
        .collect()
}

/// The change of `keys` from the first point of each matched group to each other one.
pub(super) fn steps<'a>(measured: &[Measured<'a>], option: &'a str, keys: &[Key]) -> Vec<Step<'a>> {
    let mut steps = Vec::new();
    for group in matched(measured, option) {
        let from = group[0];
        for &to in &group[1..] {
            let changes = keys
                .iter()
                .map(|&key| (key, key.between(from.1, to.1)))
                .collect();
            steps.push(Step {
                option,
                from,
                to,
                changes,
            });
        }
    }
    steps
}

/// The option that moved each key figure most (the median change over its pairs).
pub fn largest(measured: &[Measured]) -> Vec<Conclusion> {
    let options = options(measured);
    if options.is_empty() {
        let text = "No server option varies in this run (its points differ only in input \
                    length or load), so no option's effect can be measured; sweep options in \
                    a scenario matrix."
            .to_owned();
        return vec![Conclusion::new("Largest effect", text, false, Vec::new())];
    }
    KEYS.iter()
        .filter_map(|&key| largest_for(measured, &options, key))
        .collect()
}

/// The option with the largest median change of `key`, and the others after it.
fn largest_for(measured: &[Measured], options: &[&str], key: Key) -> Option<Conclusion> {
    let size = |s: &(Step, Change, usize)| s.1.estimate.abs();
    let mut ranked: Vec<(Step, Change, usize)> = options
        .iter()
        .filter_map(|&option| {
            let mut changed: Vec<(Step, Change)> = steps(measured, option, &[key])
                .into_iter()
                .filter_map(|s| {
                    let change = s.changes[0].1?;
                    Some((s, change))
                })
                .collect();
            changed.sort_by(|a, b| a.1.estimate.abs().total_cmp(&b.1.estimate.abs()));
            let n = changed.len();
            (n > 0).then(|| {
                let (step, change) = changed.swap_remove(n / 2);
                (step, change, n)
            })
        })
        .collect();
    ranked.sort_by(|a, b| size(b).total_cmp(&size(a)));
    let (top, change, n) = ranked.first()?;
    let median = if *n > 1 {
        format!("; the median of {n} pairs")
    } else {
        String::new()
    };
    let cited = format!(
        "{}, {} at {}{median}",
        top.versus(),
        key.describe(change, top.from.1, top.to.1),
        top.context()
    );
    let supported = change.is_established();
    let mut text = if supported {
        let how = if change.estimate.abs() < SLIGHT {
            ", if only slightly"
        } else {
            ""
        };
        format!(
            "{} moved most with {}{how}: {cited}.",
            capitalized(key.label),
            top.option
        )
    } else {
        format!(
            "No option moved {} beyond its interval; the largest change: {cited}.",
            key.label
        )
    };
    let next: Vec<String> = ranked[1..]
        .iter()
        .map(|(s, c, _)| format!("{} {}", s.option, percent(c)))
        .collect();
    if !next.is_empty() {
        text.push_str(&format!(" Next: {}.", next.join("; ")));
    }
    let topic = format!("Largest effect on {}", key.label);
    Some(Conclusion::new(
        topic,
        text,
        supported,
        top.points().to_vec(),
    ))
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// Chunked prefill's effect on ITL p99 and TTFT p50 (from off to on).
pub fn chunked_prefill(measured: &[Measured]) -> Conclusion {
    let steps = steps(measured, CHUNKED_PREFILL, &[ITL_P99, TTFT_P50]);
    let topic = "Chunked prefill";
    if steps.is_empty() {
        return not_varied(topic, CHUNKED_PREFILL, "[true, false]");
    }
    let mut text = format!(
        "Turning chunked prefill on: {}.",
        each_step(&steps, |_| String::new())
    );
    let itl = tally(&steps, ITL_P99);
    let ttft = tally(&steps, TTFT_P50);
    text.push_str(&format!(" ITL p99: {itl}; TTFT p50: {ttft}."));
    conclusion(topic, text, &steps)
}

/// The effect of `max_num_batched_tokens` on throughput, TTFT p50 and ITL p99.
pub fn batched_tokens(measured: &[Measured]) -> Conclusion {
    let steps = steps(measured, BATCHED_TOKENS, &[THROUGHPUT, TTFT_P50, ITL_P99]);
    let topic = "max_num_batched_tokens";
    if steps.is_empty() {
        return not_varied(topic, BATCHED_TOKENS, "[2048, 8192]");
    }
    let mut text = format!("Raising it: {}.", each_step(&steps, |_| String::new()));
    let established: Vec<(Key, bool)> = steps
        .iter()
        .flat_map(|s| s.changes.iter())
        .filter_map(|(key, c)| {
            c.filter(Change::is_established)
                .map(|c| (*key, key.improves(&c)))
        })
        .collect();
    let helped: Vec<&str> = labels(&established, true);
    let hurt: Vec<&str> = labels(&established, false);
    text.push_str(&match (helped.is_empty(), hurt.is_empty()) {
        // The conclusion says that nothing is beyond its interval.
        (true, true) => String::new(),
        (false, true) => format!(
            " A larger budget helped {} and hurt nothing measured.",
            helped.join(", ")
        ),
        (true, false) => format!(
            " A larger budget hurt {} and helped nothing measured: keep it small.",
            hurt.join(", ")
        ),
        (false, false) => format!(
            " A trade-off: a larger budget helped {} and hurt {}; tune it to the SLO that binds.",
            helped.join(", "),
            hurt.join(", ")
        ),
    });
    conclusion(topic, text, &steps)
}

/// Tensor parallelism: throughput per GPU relative to the smaller TP (scaling efficiency)
/// and TPOT p50.
pub fn tensor_parallel(measured: &[Measured]) -> Conclusion {
    let steps = steps(measured, TENSOR_PARALLEL, &[THROUGHPUT, TPOT_P50]);
    let topic = "Tensor parallelism";
    if steps.is_empty() {
        return not_varied(topic, TENSOR_PARALLEL, "[1, 2]");
    }
    let text = format!("Raising TP: {}.", each_step(&steps, efficiency));
    conclusion(topic, text, &steps)
}

/// `; scaling efficiency 81% (1.62× the throughput on 2× the GPUs)`.
fn efficiency(step: &Step) -> String {
    let tp = |m: Measured| m.1.params.get(TENSOR_PARALLEL).and_then(axes::number);
    let throughput = step
        .changes
        .iter()
        .find(|(k, _)| k.label == THROUGHPUT.label);
    match (tp(step.from), tp(step.to), throughput) {
        (Some(a), Some(b), Some((_, Some(c)))) if a > 0.0 => {
            let (gain, gpus) = (1.0 + c.estimate, b / a);
            format!(
                "; scaling efficiency {:.0}% ({gain:.2}× the throughput on {gpus}× the GPUs)",
                100.0 * gain / gpus
            )
        }
        _ => String::new(),
    }
}

/// Each step as `tp=2 vs tp=1 at c=4, 2k in: <clauses><extra>`, joined.
fn each_step(steps: &[Step], extra: impl Fn(&Step) -> String) -> String {
    let shown: Vec<String> = steps
        .iter()
        .map(|s| {
            format!(
                "{} at {}: {}{}",
                s.versus(),
                s.context(),
                s.clauses(),
                extra(s)
            )
        })
        .collect();
    shown.join("; ")
}

/// How the steps changed `key`: `lower in 2 of 2 pairs beyond its interval`.
fn tally(steps: &[Step], key: Key) -> String {
    let changes: Vec<Change> = steps
        .iter()
        .filter_map(|s| s.changes.iter().find(|(k, _)| k.label == key.label)?.1)
        .collect();
    let count = |lower: bool| {
        changes
            .iter()
            .filter(|c| c.is_established() && (c.estimate < 0.0) == lower)
            .count()
    };
    let n = changes.len();
    let (lower, higher) = (count(true), count(false));
    match (lower, higher) {
        (0, 0) => format!("no change beyond its interval in {n} pairs"),
        (l, 0) => format!("lower in {l} of {n} pairs beyond its interval"),
        (0, h) => format!("higher in {h} of {n} pairs beyond its interval"),
        (l, h) => format!("lower in {l} and higher in {h} of {n} pairs"),
    }
}

fn labels(established: &[(Key, bool)], improved: bool) -> Vec<&'static str> {
    let mut found: Vec<&str> = Vec::new();
    for (key, _) in established.iter().filter(|(_, i)| *i == improved) {
        if !found.contains(&key.label) {
            found.push(key.label);
        }
    }
    found
}

/// A conclusion over `steps`: supported when any change is beyond its interval.
fn conclusion(topic: &str, text: String, steps: &[Step]) -> Conclusion {
    let supported = steps
        .iter()
        .flat_map(|s| s.changes.iter())
        .any(|(_, c)| c.is_some_and(|c| c.is_established()));
    let mut points: Vec<usize> = steps.iter().flat_map(Step::points).collect();
    points.sort_unstable();
    points.dedup();
    let text = if supported {
        text
    } else {
        format!("{text} None of these changes is beyond its interval, so the data cannot tell the effect.")
    };
    Conclusion::new(topic, text, supported, points)
}

/// An option no pair of points isolates.
fn not_varied(topic: &str, option: &str, example: &str) -> Conclusion {
    let text = format!(
        "{option} was not varied in this run (no two points differ in it alone), so its \
         effect cannot be told; sweep it in a scenario matrix (\"{option}\": {example})."
    );
    Conclusion::new(topic, text, false, Vec::new())
}
