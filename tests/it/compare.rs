//! `compare` on a real result (scenarios/llamacpp-smollm2.json run against llama-server)
//! and timed copies of it: no regression against itself, a +20% slowdown regresses and
//! exits 1, +3% is not flagged, and unusable inputs exit 2.

use std::path::Path;

use crate::fixture::{run_against, run_in, run_plain, timed_server, write_json as write, Timing};

use crate::fixture::{real_result as fixture, slowed, REAL_RESULT as FIXTURE};

/// `compare ARGS` run in `dir`, where its reports go.
fn compare_in(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let args: Vec<&str> = ["compare"].iter().chain(args).copied().collect();
    run_in(dir, &args, &[])
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
    let (_quiet, dir, baselines) = with_baseline();
    let (code, stdout, stderr) = compare_in(dir.path(), &[FIXTURE, "--baselines", &baselines]);
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
    let (code, stdout, _) = compare_in(dir.path(), &[&slow, "--baselines", &baselines]);
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.ends_with("FAIL\n"), "{stdout}");
    for metric in ["itl_ms.p50", "itl_ms.p90"] {
        let line = stdout
            .lines()
            .find(|l| l.contains(metric) && l.contains("concurrency=1 "))
            .unwrap();
        assert!(
            line.contains("regressed") && line.contains("+20."),
            "{line}"
        );
    }
    let slight = write(dir.path(), "slight.json", &slowed(1.03));
    let (code, stdout, _) = compare_in(dir.path(), &[&slight, "--baselines", &baselines]);
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
    let (code, stdout, _) = compare_in(dir.path(), &[&changed, "--baselines", &baselines]);
    assert_eq!(code, 0, "{stdout}");
    assert!(
        stdout.contains("concurrency=8 ") && stdout.contains("new point"),
        "{stdout}"
    );
    assert!(
        stdout.contains("concurrency=4 ") && stdout.contains("missing point"),
        "{stdout}"
    );
}

/// A scenario without a baseline is new: its report is written with its values, every
/// point new, a hint to make the baseline, exit 0; `--require-baseline` fails it.
#[test]
fn a_new_scenario_gets_a_report_and_passes_unless_a_baseline_is_required() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("baselines").to_string_lossy().into_owned();
    let reports = dir.path().join("reports");
    let (code, stdout, stderr) = compare_in(dir.path(), &[FIXTURE, "--baselines", &empty]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains("llamacpp-smollm2: no baseline yet; make this run the baseline with `llm-loadtest baseline update"),
        "{stdout}"
    );
    assert!(
        stdout.contains("2 new point") && stdout.ends_with("PASS\n"),
        "{stdout}"
    );
    let markdown = std::fs::read_to_string(reports.join("compare.md")).unwrap();
    assert!(
        markdown.contains("🆕 llamacpp-smollm2: new, no baseline yet"),
        "{markdown}"
    );
    assert!(
        markdown.contains("No baseline yet: every point is new"),
        "{markdown}"
    );
    assert!(
        markdown.contains("| 1 | 512 |"),
        "the values are shown: {markdown}"
    );
    let html = std::fs::read_to_string(reports.join("compare.html")).unwrap();
    assert!(html.contains("new: no baseline yet"));

    let required = [FIXTURE, "--baselines", &empty, "--require-baseline"];
    let (code, stdout, _) = compare_in(dir.path(), &required);
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("new point")
            && stdout.contains("no baseline yet")
            && stdout.ends_with("FAIL\n"),
        "{stdout}"
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
    let (_, stdout, _) = compare_in(dir.path(), &[&loose, "--baselines", &baselines]);
    let line = stdout
        .lines()
        .find(|l| l.contains("itl_ms.p50") && l.contains("concurrency=1 "))
        .unwrap();
    assert!(line.contains("warning"), "{line}");

    // The same run as the baseline, but with an SLO it misses.
    let mut strict = fixture();
    strict["scenario"]["thresholds"] =
        serde_json::json!({"ttft_ms": ["p(50) < 10"], "error_rate": ["rate < 0.01"]});
    let strict = write(dir.path(), "strict.json", &strict);
    let (code, stdout, _) = compare_in(dir.path(), &[&strict, "--baselines", &baselines]);
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("ttft_ms: p(50) < 10") && stdout.contains("SLO breach"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("rate < 0.01"),
        "met thresholds are counted, not listed: {stdout}"
    );
    let (code, _, _) = compare_in(
        dir.path(),
        &[&strict, "--baselines", &baselines, "--fail-on", "never"],
    );
    assert_eq!(code, 0);
}

#[test]
fn terminal_table_junit_job_summary_and_reports() {
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
    let (code, stdout, stderr) = run_in(dir.path(), &args, &env);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stdout.contains("::error title=llm-loadtest llamacpp-smollm2%3A regressed::"),
        "{stdout}"
    );
    insta::assert_snapshot!("compare_terminal", stdout);
    insta::assert_snapshot!("compare_junit", std::fs::read_to_string(&junit).unwrap());
    let markdown = std::fs::read_to_string(dir.path().join("reports/compare.md")).unwrap();
    assert_eq!(std::fs::read_to_string(&summary).unwrap(), markdown);
    assert!(dir.path().join("reports/compare.html").exists());
    insta::assert_snapshot!("compare_job_summary", crate::report::redacted(&markdown));
}

#[test]
fn compare_without_results_runs_the_reachable_scenarios_then_compares() {
    let addr = crate::fixture::timed_server(crate::fixture::Timing {
        first_token_ms: 20,
        itl_ms: 5,
        stall_after: None,
        crowding: None,
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
    assert_eq!(code, 0, "no baseline yet, a new scenario: {stdout}{stderr}");
    assert!(
        stdout.contains("skipped scenarios/nowhere.json: nothing answers at"),
        "{stdout}"
    );
    assert!(stdout.contains("fixture: no baseline yet"), "{stdout}");
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
    // Each run kept, not only the latest.
    let kept = std::fs::read_dir(project.path().join("reports/results/history/fixture"));
    assert_eq!(kept.unwrap().count(), 2);
}

#[test]
fn headline_counts_agree_in_number() {
    let (_quiet, dir, baselines) = with_baseline();
    // Both points renamed: two new points, two missing points.
    let mut renamed = fixture();
    renamed["points"][0]["id"] = "concurrency=2,input_tokens=512".into();
    renamed["points"][1]["id"] = "concurrency=8,input_tokens=512".into();
    let renamed = write(dir.path(), "renamed.json", &renamed);
    let (code, stdout, _) = compare_in(dir.path(), &[&renamed, "--baselines", &baselines]);
    assert_eq!(code, 0, "{stdout}");
    assert!(
        stdout.contains("llamacpp-smollm2: 2 missing points, 2 new points"),
        "{stdout}"
    );
    let markdown = std::fs::read_to_string(dir.path().join("reports/compare.md")).unwrap();
    assert!(
        markdown.contains("2 missing points, 2 new points"),
        "{markdown}"
    );
    // One of each: singular.
    let mut one = fixture();
    one["points"][1]["id"] = "concurrency=8,input_tokens=512".into();
    let one = write(dir.path(), "one.json", &one);
    let (_, stdout, _) = compare_in(dir.path(), &[&one, "--baselines", &baselines]);
    assert!(stdout.contains("1 missing point,"), "{stdout}");
    assert!(stdout.contains("1 new point"), "{stdout}");
}

/// `baseline update --keep 3` keeps the three newest accepted runs, newest first; the
/// verdict learns each figure's run-to-run noise from them (no longer assumed), so a +4%
/// drift that the history has seen is no change. The fixture is a version-1 result: old
/// results and baselines still compare.
#[test]
fn a_baseline_history_rotates_and_teaches_the_noise() {
    let _quiet = crate::fixture::exclusive();
    let dir = tempfile::tempdir().unwrap();
    let baselines = dir.path().join("baselines");
    let baselines_arg = baselines.to_string_lossy().into_owned();
    assert_eq!(fixture()["schema_version"], 1);
    for (i, factor) in [1.0, 1.05, 0.96, 1.03, 0.98].iter().enumerate() {
        let mut run = slowed(*factor);
        run["started_at"] = format!("2026-11-0{}T10:00:00Z", i + 1).into();
        let file = write(dir.path(), &format!("run{i}.json"), &run);
        let update = [
            "baseline",
            "update",
            &file,
            "--baselines",
            &baselines_arg,
            "--keep",
            "3",
        ];
        let (code, _, stderr) = run_plain(&update);
        assert_eq!(code, 0, "{stderr}");
    }
    let text = std::fs::read_to_string(baselines.join("llamacpp-smollm2.json")).unwrap();
    let baseline: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        baseline["schema_version"], 1,
        "the result as it was, with its history"
    );
    let history: Vec<&str> = baseline["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["started_at"].as_str().unwrap())
        .collect();
    assert_eq!(
        history,
        [
            "2026-11-05T10:00:00Z",
            "2026-11-04T10:00:00Z",
            "2026-11-03T10:00:00Z"
        ]
    );
    let drifted = write(dir.path(), "drifted.json", &slowed(0.98 * 1.02));
    let (code, stdout, _) = compare_in(dir.path(), &[&drifted, "--baselines", &baselines_arg]);
    assert_eq!(code, 0, "{stdout}");
    let itl = stdout
        .lines()
        .find(|l| l.contains("itl_ms.p50") && l.contains("concurrency=1 "));
    assert!(
        itl.is_none(),
        "+2% within the learnt noise is not listed: {stdout}"
    );
    // +15%: listed, with the noise learnt from the history, not assumed.
    let slower = write(dir.path(), "slower.json", &slowed(0.98 * 1.15));
    let (_, stdout, _) = compare_in(dir.path(), &[&slower, "--baselines", &baselines_arg]);
    let itl = stdout
        .lines()
        .find(|l| l.contains("itl_ms.p50") && l.contains("concurrency=1 "))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(itl.contains('±') && !itl.contains("%*"), "{itl}");
    // Compared with the mean of the history's runs, not the newest alone.
    let runs = baseline["history"].as_array().unwrap();
    let mean = runs
        .iter()
        .map(|run| run["points"]["concurrency=1,input_tokens=512"]["itl_ms.p50"].as_f64())
        .sum::<Option<f64>>()
        .unwrap()
        / runs.len() as f64;
    assert!(itl.contains(&format!(" {mean:.2} ")), "{mean:.2}: {itl}");
    let md = std::fs::read_to_string(dir.path().join("reports/compare.md")).unwrap();
    assert!(
        md.contains("(latency and throughput: the mean of its 3 accepted runs)"),
        "{md}"
    );
}

#[test]
fn retry_settles_an_inconclusive_point() {
    let _quiet = crate::fixture::exclusive();
    let flags = "--concurrency 1 --num-prompts 24 --input-len 16 --output-len 8 --warmup 1";
    let server = |itl_ms| {
        let timing = Timing {
            first_token_ms: 20,
            itl_ms,
            stall_after: None,
            crowding: None,
        };
        format!("http://{}", timed_server(timing))
    };
    let base = run_against(&server(10), flags, &[]);
    assert_eq!(base.code, 0, "{}", base.stderr);
    let dir = tempfile::tempdir().unwrap();
    let baselines = dir.path().join("baselines").to_string_lossy().into_owned();
    let base_path = base.result_path().to_string_lossy().into_owned();
    let update = ["baseline", "update", &base_path, "--baselines", &baselines];
    assert_eq!(run_plain(&update).0, 0);
    // 10% slower, one trial a side and no history: the noise is assumed (±5%), so the
    // change cannot be told from it.
    let slower = run_against(&server(11), flags, &[]);
    assert_eq!(slower.code, 0, "{}", slower.stderr);
    let path = slower.result_path().to_string_lossy().into_owned();
    let tpot = |stdout: &str| -> String {
        let line = stdout.lines().find(|l| l.contains("tpot_ms.p50"));
        line.unwrap_or_else(|| panic!("{stdout}")).to_owned()
    };
    let (code, stdout, _) = compare_in(dir.path(), &[&path, "--baselines", &baselines]);
    assert_eq!(code, 0, "inconclusive never fails by itself: {stdout}");
    assert!(tpot(&stdout).contains("inconclusive"), "{stdout}");
    assert!(slower.result()["points"][0]["trials"].is_null());
    // Measured again at the same pace, the trials agree: regressed.
    let retry = [path.as_str(), "--baselines", &baselines, "--retry", "3"];
    let (code, stdout, stderr) = compare_in(dir.path(), &retry);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(stdout.contains("retry 1 of 3"), "{stdout}");
    assert!(tpot(&stdout).contains("regressed"), "{stdout}");
    let trials = slower.result()["points"][0]["trials"]
        .as_array()
        .unwrap()
        .len();
    assert!((2..=4).contains(&trials), "{trials} trials");
}
