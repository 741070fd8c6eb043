//! `compare` on a real result (scenarios/llamacpp-smollm2.json run against llama-server)
//! and timed copies of it: no regression against itself, a +20% slowdown regresses and
//! exits 1, +3% is not flagged, and unusable inputs exit 2.

use std::path::Path;

use llm_loadtest::metrics::LatencyHistogram;
use serde_json::Value;

use crate::fixture::{run_plain, run_plain_env};

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/llamacpp-smollm2.result.json"
);

fn fixture() -> Value {
    serde_json::from_str(&std::fs::read_to_string(FIXTURE).unwrap()).unwrap()
}

/// The fixture with every latency `factor` times longer (and throughput to match).
fn slowed(factor: f64) -> Value {
    let mut result = fixture();
    for point in result["points"].as_array_mut().unwrap() {
        for (_, encoded) in point["histograms"].as_object_mut().unwrap() {
            let h = LatencyHistogram::from_base64(encoded.as_str().unwrap()).unwrap();
            let mut scaled = LatencyHistogram::default();
            for ms in h.samples_ms(usize::MAX) {
                scaled.record_us((ms * 1000.0 * factor).round() as u64);
            }
            *encoded = scaled.to_base64().into();
        }
        let throughput = &mut point["throughput"]["output_tokens_per_s"];
        *throughput = (throughput.as_f64().unwrap() / factor).into();
    }
    result
}

fn write(dir: &Path, name: &str, value: &Value) -> String {
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_string_pretty(value).unwrap()).unwrap();
    path.to_string_lossy().into_owned()
}

/// Makes the fixture the baseline in a fresh directory; returns (dir, baselines dir). The
/// bootstrap of `compare` keeps a core busy for seconds, so these tests hold the lock that
/// keeps the timing tests' machine quiet.
fn with_baseline() -> (
    std::sync::MutexGuard<'static, ()>,
    tempfile::TempDir,
    String,
) {
    let quiet = crate::fixture::exclusive();
    let dir = tempfile::tempdir().unwrap();
    let baselines = dir.path().join("baselines").to_string_lossy().into_owned();
    let (code, _, stderr) = run_plain(&["baseline", "update", FIXTURE, "--baselines", &baselines]);
    assert_eq!(code, 0, "{stderr}");
    (quiet, dir, baselines)
}

#[test]
fn a_run_compared_with_itself_passes() {
    let (_quiet, _dir, baselines) = with_baseline();
    let (code, stdout, stderr) = run_plain(&["compare", FIXTURE, "--baselines", &baselines]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.ends_with("PASS\n"), "{stdout}");
    assert!(
        !stdout.contains("regressed") && !stdout.contains("warning"),
        "{stdout}"
    );
}

#[test]
fn twenty_percent_slower_regresses_and_three_percent_does_not() {
    let (_quiet, dir, baselines) = with_baseline();
    let slow = write(dir.path(), "slow.json", &slowed(1.2));
    let (code, stdout, _) = run_plain(&["compare", &slow, "--baselines", &baselines]);
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.ends_with("FAIL\n"), "{stdout}");
    for metric in ["itl_ms.p50", "itl_ms.p90"] {
        let line = stdout
            .lines()
            .find(|l| l.contains(metric) && l.contains("concurrency=1,"))
            .unwrap();
        assert!(
            line.contains("regressed") && line.contains("+20."),
            "{line}"
        );
    }
    let slight = write(dir.path(), "slight.json", &slowed(1.03));
    let (code, stdout, _) = run_plain(&["compare", &slight, "--baselines", &baselines]);
    assert_eq!(code, 0, "{stdout}");
    assert!(
        !stdout.contains("regressed") && !stdout.contains("warning"),
        "{stdout}"
    );
}

#[test]
fn added_and_removed_points_are_shown_not_failed() {
    let (_quiet, dir, baselines) = with_baseline();
    let mut changed = fixture();
    changed["points"][1]["id"] = "concurrency=8,input_tokens=512".into();
    let changed = write(dir.path(), "changed.json", &changed);
    let (code, stdout, _) = run_plain(&["compare", &changed, "--baselines", &baselines]);
    assert_eq!(code, 0, "{stdout}");
    assert!(
        stdout.contains("concurrency=8,input_tokens=512") && stdout.contains("new point"),
        "{stdout}"
    );
    assert!(
        stdout.contains("concurrency=4,input_tokens=512") && stdout.contains("missing point"),
        "{stdout}"
    );
}

#[test]
fn a_missing_baseline_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().to_string_lossy().into_owned();
    let (code, _, stderr) = run_plain(&["compare", FIXTURE, "--baselines", &empty]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("llamacpp-smollm2.json: no baseline for scenario `llamacpp-smollm2`"),
        "{stderr}"
    );
}

#[test]
fn scenario_thresholds_override_defaults_and_slo_breaches_fail() {
    let (_quiet, dir, baselines) = with_baseline();
    // Loosened thresholds for ITL p50: +20% is only a warning now.
    let mut loose = slowed(1.2);
    loose["scenario"]["compare"] =
        serde_json::json!({"itl_ms.p50": {"warn_pct": 15, "fail_pct": 40}});
    let loose = write(dir.path(), "loose.json", &loose);
    let (_, stdout, _) = run_plain(&["compare", &loose, "--baselines", &baselines]);
    let line = stdout
        .lines()
        .find(|l| l.contains("itl_ms.p50") && l.contains("concurrency=1,"))
        .unwrap();
    assert!(line.contains("warning"), "{line}");

    // The same run as the baseline, but with an SLO it misses.
    let mut strict = fixture();
    strict["scenario"]["thresholds"] =
        serde_json::json!({"ttft_ms": ["p(50) < 10"], "error_rate": ["rate < 0.01"]});
    let strict = write(dir.path(), "strict.json", &strict);
    let (code, stdout, _) = run_plain(&["compare", &strict, "--baselines", &baselines]);
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("ttft_ms: p(50) < 10") && stdout.contains("SLO breach"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("rate < 0.01"),
        "met thresholds are counted, not listed: {stdout}"
    );
    let (code, _, _) = run_plain(&[
        "compare",
        &strict,
        "--baselines",
        &baselines,
        "--fail-on",
        "never",
    ]);
    assert_eq!(code, 0);
}

#[test]
fn terminal_table_junit_and_job_summary_snapshots() {
    let (_quiet, dir, baselines) = with_baseline();
    let slow = write(dir.path(), "slow.json", &slowed(1.2));
    let junit = dir.path().join("junit.xml");
    let summary = dir.path().join("summary.md");
    let env = [
        ("GITHUB_ACTIONS", "true"),
        ("GITHUB_STEP_SUMMARY", summary.to_str().unwrap()),
    ];
    let args = [
        "compare",
        &slow,
        "--baselines",
        &baselines,
        "--junit",
        junit.to_str().unwrap(),
    ];
    let (code, stdout, stderr) = run_plain_env(&args, &env);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stdout.contains("::error title=llm-loadtest llamacpp-smollm2%3A regressed::"),
        "{stdout}"
    );
    insta::assert_snapshot!("compare_terminal", stdout);
    insta::assert_snapshot!("compare_junit", std::fs::read_to_string(&junit).unwrap());
    insta::assert_snapshot!(
        "compare_job_summary",
        std::fs::read_to_string(&summary).unwrap()
    );
}

#[test]
fn compare_without_results_runs_the_reachable_scenarios_then_compares() {
    let addr = crate::fixture::timed_server(crate::fixture::Timing {
        first_token_ms: 20,
        itl_ms: 5,
        stall_after: None,
    });
    let project = tempfile::tempdir().unwrap();
    let scenarios = project.path().join("scenarios");
    std::fs::create_dir(&scenarios).unwrap();
    let scenario = |name: &str, url: &str| {
        serde_json::json!({
            "name": name, "target": {"base_url": url, "model": "m"},
            "workload": {"input_tokens": 8, "output_tokens": 8},
            "load": {"concurrency": [2], "requests": 30, "warmup": 1}
        })
    };
    write(
        &scenarios,
        "fixture.json",
        &scenario("fixture", &format!("http://{addr}")),
    );
    let nowhere = format!("http://127.0.0.1:{}", crate::fixture::closed_port());
    write(&scenarios, "nowhere.json", &scenario("nowhere", &nowhere));
    let run = |args: &[&str]| crate::fixture::run_in(project.path(), args, &[]);

    let (code, stdout, stderr) = run(&["compare"]);
    assert_eq!(code, 2, "no baseline yet: {stdout}{stderr}");
    assert!(
        stdout.contains("skipped scenarios/nowhere.json: nothing answers at"),
        "{stdout}"
    );
    assert!(
        stderr.contains("no baseline for scenario `fixture`"),
        "{stderr}"
    );
    assert!(project.path().join("reports/results/fixture.json").exists());

    let (code, stdout, stderr) = run(&["baseline", "update"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("baselines/fixture.json: updated"),
        "{stdout}"
    );

    let (code, stdout, stderr) = run(&["compare"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.ends_with("PASS\n"), "{stdout}");
}
