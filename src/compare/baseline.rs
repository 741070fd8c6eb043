//! The baseline store. Result files are read with precise errors (missing, corrupt,
//! written by a newer `schema_version`) and checked before they are trusted: the scenario
//! name must be a plain file name, and every stored histogram must decode within bounds
//! and hold as many values as its summary counts. `baselines/<scenario>.json` is written
//! atomically as pretty JSON, so that a new baseline reads well in a git diff. Any complete
//! result with at least one point is a valid baseline.

use std::path::{Path, PathBuf};

use crate::atomic;
use crate::metrics::LatencyHistogram;
use crate::result::{HistoryEntry, RunResult, Trial, LATENCY_NAMES, SCHEMA_VERSION};
use crate::scenario::name_problem;

/// Where baselines live unless `--baselines` says otherwise.
pub const DEFAULT_BASELINES: &str = "baselines";
/// Where `compare` without arguments writes the results of the scenarios it runs.
pub const DEFAULT_RESULTS: &str = "reports/results";

/// A result or baseline that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    #[error("{path}: cannot read: {reason}")]
    Read {
        path: PathBuf,
        reason: std::io::Error,
    },
    #[error("{path}: not a result file: {message}")]
    Corrupt { path: PathBuf, message: String },
    #[error("{path}: written with schema_version {found}, newer than the {supported} this llm-loadtest reads; update llm-loadtest")]
    Newer {
        path: PathBuf,
        found: u64,
        supported: u32,
    },
    #[error("{path}: the run was interrupted (partial); a baseline must be complete")]
    Partial { path: PathBuf },
    #[error("{path}: the result holds no point; a baseline must have measured something")]
    Empty { path: PathBuf },
    #[error("{path}: one shard's result; a baseline is a merged one (llm-loadtest merge)")]
    Shard { path: PathBuf },
    #[error(transparent)]
    Write(#[from] atomic::WriteError),
}

/// Reads a result (or baseline) file.
pub fn read_result(path: &Path) -> Result<RunResult, BaselineError> {
    let text = std::fs::read_to_string(path).map_err(|reason| BaselineError::Read {
        path: path.to_owned(),
        reason,
    })?;
    parse_result(&text, path)
}

/// Parses and checks the text of a result file; `path` names it in errors.
pub fn parse_result(text: &str, path: &Path) -> Result<RunResult, BaselineError> {
    let corrupt = |message: String| BaselineError::Corrupt {
        path: path.to_owned(),
        message,
    };
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| corrupt(e.to_string()))?;
    let found = match &value["schema_version"] {
        serde_json::Value::Null => return Err(corrupt("no `schema_version`".into())),
        v => v.as_u64().filter(|&n| n >= 1).ok_or_else(|| {
            corrupt(format!(
                "schema_version: expected a version number such as {SCHEMA_VERSION}, got {v}"
            ))
        })?,
    };
    if found > u64::from(SCHEMA_VERSION) {
        return Err(BaselineError::Newer {
            path: path.to_owned(),
            found,
            supported: SCHEMA_VERSION,
        });
    }
    let result: RunResult = serde_path_to_error::deserialize(value)
        .map_err(|e| corrupt(format!("{}: {}", e.path(), e.inner())))?;
    if let Some(problem) = name_problem(&result.scenario.name) {
        return Err(corrupt(format!("scenario.name: {problem}")));
    }
    check_histograms(&result).map_err(corrupt)?;
    Ok(result)
}

/// Reads a result that is to serve as a baseline: complete, with at least one point, not
/// one shard's.
pub fn read_baseline(path: &Path) -> Result<RunResult, BaselineError> {
    let result = read_result(path)?;
    if result.partial {
        return Err(BaselineError::Partial {
            path: path.to_owned(),
        });
    }
    if result.points.is_empty() {
        return Err(BaselineError::Empty {
            path: path.to_owned(),
        });
    }
    if result.shard.as_ref().is_some_and(|s| s.count > 1) {
        return Err(BaselineError::Shard {
            path: path.to_owned(),
        });
    }
    Ok(result)
}

/// Every stored histogram (of each point and each of its trials) decodes within bounds
/// and holds as many values as the summary beside it counts, so that edited figures cannot
/// hide behind stale ones.
fn check_histograms(result: &RunResult) -> Result<(), String> {
    for (i, point) in result.points.iter().enumerate() {
        let at = format!("points[{i}] ({})", point.id);
        check_trial(&point.measured(), &at)?;
        for (t, trial) in point.trials.iter().enumerate() {
            check_trial(trial, &format!("{at}.trials[{t}]"))?;
        }
    }
    Ok(())
}

/// The histograms of one measurement agree with its summaries; `place` names it.
fn check_trial(trial: &Trial, place: &str) -> Result<(), String> {
    for name in LATENCY_NAMES {
        let count = trial.latency_ms.get(name).map_or(0, |s| s.count);
        let at = |what: String| format!("{place}: histograms.{name}: {what}");
        let Some(text) = trial.histograms.get(name) else {
            if count == 0 {
                continue;
            }
            return Err(at(format!(
                "missing, while latency_ms.{name}.count is {count}"
            )));
        };
        let held = LatencyHistogram::from_base64(text)
            .map_err(|e| at(e.to_string()))?
            .count();
        if held != count {
            return Err(at(format!(
                "holds {held} values, while latency_ms.{name}.count is {count}"
            )));
        }
    }
    Ok(())
}

/// The results `compare` last wrote (`reports/results/*.json`), for `baseline update`
/// without arguments.
pub fn latest_results() -> Result<Vec<PathBuf>, BaselineError> {
    let dir = Path::new(DEFAULT_RESULTS);
    let entries = std::fs::read_dir(dir).map_err(|reason| BaselineError::Read {
        path: dir.to_owned(),
        reason,
    })?;
    let mut results: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    results.sort();
    Ok(results)
}

/// The baseline file of `scenario` in `dir`.
pub fn baseline_file(dir: &Path, scenario: &str) -> PathBuf {
    dir.join(format!("{scenario}.json"))
}

/// Accepted runs a baseline keeps in its history unless `--keep` says otherwise.
pub const DEFAULT_KEEP: usize = 10;

/// Makes each complete result the baseline of its scenario (without its points'
/// timelines), its history the result's figures followed by the `keep - 1` most recent runs of the baseline it replaces; returns
/// the files written.
pub fn update(results: &[PathBuf], dir: &Path, keep: usize) -> Result<Vec<PathBuf>, BaselineError> {
    let mut written = Vec::new();
    for path in results {
        let mut result = read_baseline(path)?;
        let target = baseline_file(dir, &result.scenario.name);
        // Only nothing at all is "no baseline yet": anything else must read.
        let earlier = match std::fs::symlink_metadata(&target) {
            Ok(_) => read_baseline(&target)?.accepted_runs(),
            Err(_) => Vec::new(),
        };
        result.history = rotate(HistoryEntry::of(&result), earlier, keep);
        // A baseline is compared by its figures; its timelines would only lengthen diffs.
        for point in &mut result.points {
            point.timeline = None;
        }
        atomic::write_json(&target, &result)?;
        written.push(target);
    }
    Ok(written)
}

/// `newest` first, then the earlier runs (without another copy of it), `keep` in all.
fn rotate(newest: HistoryEntry, earlier: Vec<HistoryEntry>, keep: usize) -> Vec<HistoryEntry> {
    let started_at = newest.started_at.clone();
    std::iter::once(newest)
        .chain(earlier.into_iter().filter(|e| e.started_at != started_at))
        .take(keep.max(1))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A real result: scenarios/llamacpp-smollm2.json run against llama-server.
    const FIXTURE: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/llamacpp-smollm2.result.json"
    );

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    fn fixture_with(edit: impl FnOnce(&mut serde_json::Value)) -> String {
        let mut value: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(FIXTURE).unwrap()).unwrap();
        edit(&mut value);
        value.to_string()
    }

    #[test]
    fn update_writes_a_readable_baseline_per_scenario() {
        let dir = tempfile::tempdir().unwrap();
        let written = update(&[PathBuf::from(FIXTURE)], dir.path(), DEFAULT_KEEP).unwrap();
        assert_eq!(written, [dir.path().join("llamacpp-smollm2.json")]);
        let text = std::fs::read_to_string(&written[0]).unwrap();
        assert!(
            text.lines().count() > 100,
            "pretty-printed, one field per line"
        );
        let back = read_result(&written[0]).unwrap();
        assert_eq!(back.points.len(), 2);
    }

    #[test]
    fn unusable_files_name_the_file_and_the_reason() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let missing = read_result(&d.join("nope.json")).unwrap_err().to_string();
        assert!(missing.contains("nope.json: cannot read"), "{missing}");
        let corrupt = read_result(&write(d, "c.json", "{\"schema_version\": 1,")).unwrap_err();
        assert!(
            matches!(corrupt, BaselineError::Corrupt { .. }),
            "{corrupt}"
        );
        let wrong = fixture_with(|v| v["points"][0]["requests"]["ok"] = "many".into());
        let e = read_result(&write(d, "w.json", &wrong))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("w.json: not a result file: points[0].requests.ok"),
            "{e}"
        );
        let newer = fixture_with(|v| v["schema_version"] = 3.into());
        let e = read_result(&write(d, "n.json", &newer))
            .unwrap_err()
            .to_string();
        assert!(e.contains("schema_version 3, newer than the 2"), "{e}");
        let partial = write(d, "p.json", &fixture_with(|v| v["partial"] = true.into()));
        assert!(matches!(
            update(&[partial], d, DEFAULT_KEEP).unwrap_err(),
            BaselineError::Partial { .. }
        ));
    }
}
