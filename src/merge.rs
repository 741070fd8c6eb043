//! Merging the results of the shards of one run (`run --shard I/N`, then
//! `llm-loadtest merge`) into the result one process would have written: every shard
//! present once, of the same plan and seed, none failed or cut short (never a silent
//! partial); each point's histograms, counts, errors and goodput pooled exactly, its rates
//! over the common window (from the earliest shard's start to the latest one's end), its
//! timeline summed window by window; and where each shard ran and how far apart they
//! started.

use std::path::PathBuf;

use crate::metrics::pool_over;
use crate::result::{MergedShard, PointResult, RunResult, ShardOf, TimeWindow, Timeline};

/// A shard's result and the file it came from.
pub struct ShardFile {
    pub path: PathBuf,
    pub result: RunResult,
}

/// Why shards cannot be merged.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MergeError {
    #[error("{0}: not a shard's result (run with --shard INDEX/COUNT)")]
    NotAShard(String),
    #[error("{file}: a shard of {count}, but {first} is one of {first_count}")]
    OtherCount {
        file: String,
        count: u32,
        first: String,
        first_count: u32,
    },
    #[error("{file}: another seed ({seed}) than {first} ({first_seed})")]
    OtherSeed {
        file: String,
        seed: u64,
        first: String,
        first_seed: u64,
    },
    #[error("{file}: another plan than {first} (the scenarios differ)")]
    OtherPlan { file: String, first: String },
    #[error("shard {index} given twice: {first} and {second}")]
    Twice {
        index: u32,
        first: String,
        second: String,
    },
    #[error("shard {index} of {count} is missing")]
    Missing { index: u32, count: u32 },
    #[error("{file}: shard {index} of {count} is not a shard's place (index from 0, below the count, at most {MAX_SHARDS} shards)")]
    BadPlace {
        file: String,
        index: u32,
        count: u32,
    },
    #[error("no shard to merge")]
    Nothing,
    #[error("shard {index} ({file}) failed: {reason}")]
    Failed {
        index: u32,
        file: String,
        reason: String,
    },
}

/// The most shards a run may have.
pub const MAX_SHARDS: u32 = 100_000;

fn shown(path: &std::path::Path) -> String {
    path.display().to_string()
}

/// Merges the shards of one run, given in any order.
pub fn merge(shards: Vec<ShardFile>) -> Result<RunResult, MergeError> {
    let ordered = check(shards)?;
    let first = &ordered[0].result;
    let mut points = Vec::with_capacity(first.points.len());
    for point in &first.points {
        let parts: Vec<&PointResult> = ordered
            .iter()
            .map(|s| s.result.points.iter().find(|p| p.id == point.id))
            .collect::<Option<_>>()
            .expect("checked: every shard has every point");
        points.push(merge_point(&parts));
    }
    let starts = window_starts(&ordered);
    let mut merged = first.clone();
    merged.points = points;
    merged.shard = None;
    merged.started_at = earliest(ordered.iter().map(|s| &s.result.started_at));
    merged.finished_at = latest(ordered.iter().map(|s| &s.result.finished_at));
    merged.shards = ordered
        .iter()
        .zip(&starts)
        .map(|(s, (skew, late))| {
            let of = s.result.shard.as_ref().expect("checked");
            MergedShard {
                index: of.index,
                file: shown(&s.path),
                host: of.host.clone(),
                start_skew_ms: *skew,
                late_ms: *late,
            }
        })
        .collect();
    Ok(merged)
}

/// The shards in index order, once each, all of one plan and seed, none failed.
fn check(shards: Vec<ShardFile>) -> Result<Vec<ShardFile>, MergeError> {
    let mut slots: Vec<Option<ShardFile>> = Vec::new();
    let mut first: Option<(String, ShardOf, u64, serde_json::Value)> = None;
    for shard in shards {
        let file = shown(&shard.path);
        let Some(of) = shard.result.shard.clone() else {
            return Err(MergeError::NotAShard(file));
        };
        if of.count == 0 || of.count > MAX_SHARDS || of.index >= of.count {
            let (index, count) = (of.index, of.count);
            return Err(MergeError::BadPlace { file, index, count });
        }
        let seed = shard.result.prompts.seed;
        let plan = serde_json::to_value(&shard.result.scenario).unwrap_or_default();
        match &first {
            None => {
                first = Some((file.clone(), of.clone(), seed, plan));
                slots.resize_with(of.count as usize, || None);
            }
            Some((first_file, first_of, first_seed, first_plan)) => {
                let first = first_file.clone();
                if of.count != first_of.count {
                    return Err(MergeError::OtherCount {
                        file,
                        count: of.count,
                        first,
                        first_count: first_of.count,
                    });
                }
                if seed != *first_seed {
                    return Err(MergeError::OtherSeed {
                        file,
                        seed,
                        first,
                        first_seed: *first_seed,
                    });
                }
                if plan != *first_plan {
                    return Err(MergeError::OtherPlan { file, first });
                }
            }
        }
        if let Some(failure) = failure_of(&shard.result) {
            return Err(MergeError::Failed {
                index: of.index,
                file,
                reason: failure,
            });
        }
        let slot = &mut slots[of.index as usize];
        if let Some(earlier) = slot {
            return Err(MergeError::Twice {
                index: of.index,
                first: shown(&earlier.path),
                second: file,
            });
        }
        *slot = Some(shard);
    }
    if slots.is_empty() {
        return Err(MergeError::Nothing);
    }
    let count = slots.len() as u32;
    let ordered: Vec<ShardFile> = slots
        .into_iter()
        .enumerate()
        .map(|(index, slot)| {
            slot.ok_or(MergeError::Missing {
                index: index as u32,
                count,
            })
        })
        .collect::<Result<_, _>>()?;
    let ids = |r: &RunResult| r.points.iter().map(|p| p.id.clone()).collect::<Vec<_>>();
    let expected = ids(&ordered[0].result);
    for (index, shard) in ordered.iter().enumerate() {
        if ids(&shard.result) != expected {
            let reason = format!("its points are not those of {}", shown(&ordered[0].path));
            return Err(MergeError::Failed {
                index: index as u32,
                file: shown(&shard.path),
                reason,
            });
        }
    }
    Ok(ordered)
}

/// Why a shard's result cannot be merged: interrupted, a point failed, or a window
/// without its start.
fn failure_of(result: &RunResult) -> Option<String> {
    if result.partial || result.finished_at.is_empty() {
        return Some("it did not finish (interrupted or killed: its result is partial)".into());
    }
    if let Some(point) = result
        .points
        .iter()
        .find(|p| p.window.is_none() && p.failure.is_none())
    {
        return Some(format!(
            "point {} has no window start (a result of a run without --shard)",
            point.id
        ));
    }
    let point = result
        .points
        .iter()
        .find(|p| p.failure.is_some() || p.partial)?;
    let reason = point
        .failure
        .as_ref()
        .map_or("interrupted".into(), |f| f.reason.clone());
    Some(format!("point {}: {reason}", point.id))
}

/// Each shard's points pooled over their common window.
fn merge_point(parts: &[&PointResult]) -> PointResult {
    let windows: Vec<(f64, f64)> = parts
        .iter()
        .map(|p| {
            let start = p.window.map_or(0.0, |w| w.start_unix_ms);
            (start, start + p.duration_s * 1000.0)
        })
        .collect();
    let start = windows.iter().map(|w| w.0).fold(f64::INFINITY, f64::min);
    let end = windows
        .iter()
        .map(|w| w.1)
        .fold(f64::NEG_INFINITY, f64::max);
    let measured: Vec<_> = parts.iter().map(|p| p.measured()).collect();
    let mut point = parts[0].clone();
    point.set_measured(pool_over(&measured, ((end - start) / 1000.0).max(0.0)));
    point.trials = Vec::new();
    point.window = None;
    point.timeline = merge_timelines(parts.iter().filter_map(|p| p.timeline.as_ref()));
    point
}

/// Timelines of the same width summed window by window: counts and rates add up, the
/// latest send lag is the latest of any, TTFT and ITL percentiles are the means of the
/// shards' weighted by the requests that finished in the window (the windows keep no
/// samples to merge), and gauges (the one server's) are the first shard's.
fn merge_timelines<'a>(timelines: impl Iterator<Item = &'a Timeline>) -> Option<Timeline> {
    let timelines: Vec<&Timeline> = timelines.collect();
    let first = *timelines.first()?;
    let length = timelines.iter().map(|t| t.windows.len()).max().unwrap_or(0);
    let windows = (0..length)
        .map(|i| merge_windows(timelines.iter().filter_map(|t| t.windows.get(i)).collect()))
        .collect();
    Some(Timeline {
        window_s: first.window_s,
        windows,
    })
}

fn merge_windows(parts: Vec<&TimeWindow>) -> TimeWindow {
    let mut merged = parts[0].clone();
    for w in &parts[1..] {
        merged.started += w.started;
        merged.finished += w.finished;
        merged.in_flight += w.in_flight;
        merged.output_tokens_per_s += w.output_tokens_per_s;
        for (kind, n) in &w.errors {
            *merged.errors.entry(kind.clone()).or_default() += n;
        }
        merged.send_lag_max_ms = match (merged.send_lag_max_ms, w.send_lag_max_ms) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
    }
    let weighted = |of: fn(&TimeWindow) -> Option<f64>| {
        let (sum, weight) = parts
            .iter()
            .fold((0.0, 0.0), |(sum, weight), w| match of(w) {
                Some(v) => (
                    sum + v * f64::from(w.finished),
                    weight + f64::from(w.finished),
                ),
                None => (sum, weight),
            });
        (weight > 0.0).then(|| sum / weight)
    };
    merged.ttft_p50_ms = weighted(|w| w.ttft_p50_ms);
    merged.ttft_p99_ms = weighted(|w| w.ttft_p99_ms);
    merged.itl_p50_ms = weighted(|w| w.itl_p50_ms);
    merged.itl_p99_ms = weighted(|w| w.itl_p99_ms);
    merged
}

/// Per shard: how much later than the earliest shard its windows started at most, and
/// how late for their barrier.
fn window_starts(shards: &[ShardFile]) -> Vec<(f64, Option<f64>)> {
    let point_count = shards[0].result.points.len();
    let start =
        |s: &ShardFile, i: usize| s.result.points[i].window.map_or(0.0, |w| w.start_unix_ms);
    let earliest: Vec<f64> = (0..point_count)
        .map(|i| {
            shards
                .iter()
                .map(|s| start(s, i))
                .fold(f64::INFINITY, f64::min)
        })
        .collect();
    shards
        .iter()
        .map(|s| {
            let skew = (0..point_count)
                .map(|i| start(s, i) - earliest[i])
                .fold(0.0, f64::max);
            let late = s
                .result
                .points
                .iter()
                .filter_map(|p| p.window.and_then(|w| w.late_ms))
                .reduce(f64::max);
            (skew, late)
        })
        .collect()
}

/// The earliest and latest of RFC 3339 times (they sort as text when of one format).
fn earliest<'a>(times: impl Iterator<Item = &'a String>) -> String {
    times.min().cloned().unwrap_or_default()
}

fn latest<'a>(times: impl Iterator<Item = &'a String>) -> String {
    times.max().cloned().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shard_file(index: u32, count: u32) -> ShardFile {
        let text = include_str!("../tests/fixtures/llamacpp-smollm2.result.json");
        let mut result: RunResult = serde_json::from_str(text).unwrap();
        result.shard = Some(ShardOf {
            index,
            count,
            host: "h".into(),
            start_at: None,
        });
        ShardFile {
            path: PathBuf::from(format!("s{index}.json")),
            result,
        }
    }

    #[test]
    fn nothing_and_impossible_places_are_refused() {
        assert_eq!(merge(Vec::new()).unwrap_err(), MergeError::Nothing);
        for (index, count) in [(4, 4), (0, 0), (0, MAX_SHARDS + 1)] {
            let e = merge(vec![shard_file(index, count)]).unwrap_err();
            assert!(
                matches!(e, MergeError::BadPlace { .. }),
                "{index}/{count}: {e}"
            );
        }
    }

    #[test]
    fn a_result_without_window_starts_is_no_shard_to_merge() {
        let e = merge(vec![shard_file(0, 2), shard_file(1, 2)]).unwrap_err();
        assert!(e.to_string().contains("has no window start"), "{e}");
    }
}
