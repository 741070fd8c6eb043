//! Every `scenarios/*.json` as a named test (libtest-mimic): a simulator scenario is run
//! and compared with its baseline in `baselines/` (failing on a regression that a second
//! run confirms); a live-server scenario is ignored unless `LLM_SERVER_URL` is set, and a
//! scenario that launches its server unless that program is installed. They run one after another, so that they do
//! not disturb each other's timings. `cargo test --test scenarios -- NAME` runs one.

use std::path::{Path, PathBuf};
use std::process::Command;

use libtest_mimic::{Arguments, Failed, Trial};
use serde_json::Value;

const BINARY: &str = env!("CARGO_BIN_EXE_llm-loadtest");

/// `llm-loadtest ARGS`, failing with its output when it does not exit 0.
fn harness(args: &[&str]) -> Result<(), Failed> {
    let out = Command::new(BINARY)
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .map_err(|e| Failed::from(format!("cannot run {BINARY}: {e}")))?;
    if out.status.success() {
        return Ok(());
    }
    Err(format!(
        "llm-loadtest {} exited with {}\n{}{}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
    .into())
}

/// Runs the scenario and compares it with its baseline; a failure is confirmed by a
/// second run, as performance CI does before it blames a change: on a shared machine one
/// run can be slowed by its neighbours, while a real regression fails both.
fn run_and_confirm(file: &Path, name: &str) -> Result<(), Failed> {
    let Err(first) = run_and_compare(file, name) else {
        return Ok(());
    };
    run_and_compare(file, name).map_err(|second| {
        let (first, second) = (first.message(), second.message());
        Failed::from(format!(
            "failed twice\nfirst run: {}\nsecond run: {}",
            first.unwrap_or_default(),
            second.unwrap_or_default()
        ))
    })
}

/// Runs the scenario, then compares it with its baseline when it has one.
fn run_and_compare(file: &Path, name: &str) -> Result<(), Failed> {
    let dir = tempfile::tempdir().map_err(|e| Failed::from(e.to_string()))?;
    let result = dir.path().join("result.json");
    let result_arg = result.to_string_lossy().into_owned();
    let file_arg = file.to_string_lossy().into_owned();
    harness(&["run", &file_arg, "--output", &result_arg])?;
    let baselines = Path::new(env!("CARGO_MANIFEST_DIR")).join("baselines");
    if !baselines.join(format!("{name}.json")).exists() {
        return Ok(());
    }
    let reports = dir.path().to_string_lossy().into_owned();
    harness(&[
        "compare",
        &result_arg,
        "--baselines",
        &baselines.to_string_lossy(),
        "--reports",
        &reports,
    ])
}

/// Why a scenario cannot run here, if it cannot.
fn unavailable(scenario: &Value) -> Option<String> {
    let target = &scenario["target"];
    if target["embedded"].is_string() {
        return None;
    }
    if let Some(program) = scenario["server"]["command"][0].as_str() {
        return llm_loadtest::server::launchable(program)
            .err()
            .map(|e| e.to_string());
    }
    std::env::var_os("LLM_SERVER_URL")
        .is_none()
        .then(|| "a live server: set LLM_SERVER_URL to run it".to_owned())
}

fn scenario_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("scenarios/ exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .filter(|p| !p.ends_with("scenario.schema.json"))
        .collect();
    files.sort();
    files
}

fn main() {
    let mut args = Arguments::from_args();
    args.test_threads = Some(1);
    let trials = scenario_files()
        .into_iter()
        .map(|file| {
            let text = std::fs::read_to_string(&file).unwrap_or_default();
            let scenario: Value = serde_json::from_str(&text).unwrap_or_default();
            let name = scenario["name"].as_str().unwrap_or("unnamed").to_owned();
            let reason = unavailable(&scenario);
            let kind = if scenario["target"]["embedded"].is_string() {
                "sim"
            } else {
                "live"
            };
            let ignored = reason.is_some();
            let trial_name = name.clone();
            Trial::test(trial_name, move || {
                if let Some(reason) = reason {
                    return Err(format!("not run: {reason}").into());
                }
                run_and_confirm(&file, &name)
            })
            .with_kind(kind)
            .with_ignored_flag(ignored)
        })
        .collect();
    libtest_mimic::run(&args, trials).exit();
}
