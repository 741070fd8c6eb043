//! `llm-loadtest history`: six runs of the real llama-server result (five within ±1% of
//! each other, the sixth 30% slower) given as result files and as a baseline's history:
//! the sixth is marked as regressed on every key figure and no other run is; the same run
//! found twice counts once; the Markdown summary is a snapshot; the HTML trend page opens
//! in headless Chromium (light and dark, no console output) with every figure shown equal
//! to the page's JSON, whose figures are the results' own.

use std::path::Path;

use serde_json::{json, Value};

use crate::fixture::{run_plain, slowed, write_json};
use crate::report::redacted;

/// Speed of each run relative to the fixture; the last is a 30% slowdown.
const FACTORS: [f64; 6] = [1.0, 1.01, 0.99, 1.005, 0.995, 1.3];

/// Writes the six runs into `dir`, each with its own start and commit.
fn six_runs(dir: &Path) -> Vec<(String, Value)> {
    FACTORS
        .iter()
        .enumerate()
        .map(|(i, &factor)| {
            let mut result = slowed(factor);
            result["started_at"] = format!("2026-11-2{}T10:00:00Z", i + 1).into();
            result["environment"]["revision"] =
                json!({"commit": format!("{:x}{}", 0xabc001 + i, "0".repeat(34)), "branch": "main"});
            (
                write_json(dir, &format!("run{}.json", i + 1), &result),
                result,
            )
        })
        .collect()
}

fn history(args: &[&str]) -> String {
    let args: Vec<&str> = ["history"].iter().chain(args).copied().collect();
    let (code, stdout, stderr) = run_plain(&args);
    assert_eq!(code, 0, "{stderr}");
    stdout
}

#[test]
fn a_slowdown_is_marked_at_the_run_it_started() {
    let dir = tempfile::tempdir().unwrap();
    let runs = six_runs(dir.path());
    let dir_arg = dir.path().to_str().unwrap();
    let page: Value = serde_json::from_str(&history(&[dir_arg, "--format", "json"])).unwrap();
    let scenario = &page["history"]["scenarios"][0];
    assert_eq!(scenario["runs"].as_array().unwrap().len(), 6);
    let changes = scenario["changes"].as_array().unwrap();
    assert!(!changes.is_empty());
    for c in changes {
        assert_eq!(
            (c["run"].as_u64(), c["verdict"].as_str()),
            (Some(6), Some("regressed")),
            "{c}"
        );
        assert_eq!(c["revision"], "abc006000000 (main)", "{c}");
    }
    // Every figure on the page is the result's own.
    let point = &scenario["points"][0];
    let ttft = point["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["key"] == "ttft_ms.p50")
        .unwrap();
    for (i, (_, result)) in runs.iter().enumerate() {
        let own = result["points"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["id"] == point["id"])
            .unwrap();
        assert_eq!(
            ttft["values"][i],
            own["latency_ms"]["ttft"]["p50"],
            "run {}",
            i + 1
        );
    }
    assert_eq!(ttft["marks"][5], "regressed");
    assert!(
        ttft["marks"].as_array().unwrap()[..5]
            .iter()
            .all(Value::is_null),
        "{ttft}"
    );

    let md = history(&[dir_arg]);
    insta::assert_snapshot!("history_md", redacted(&md));

    // The same runs as a baseline's history, and the files again: counted once.
    let baselines = tempfile::tempdir().unwrap();
    for (path, _) in &runs {
        let (code, _, stderr) = run_plain(&[
            "baseline",
            "update",
            path,
            "--baselines",
            baselines.path().to_str().unwrap(),
        ]);
        assert_eq!(code, 0, "{stderr}");
    }
    let both: Value = serde_json::from_str(&history(&[
        baselines.path().to_str().unwrap(),
        dir_arg,
        "--format",
        "json",
    ]))
    .unwrap();
    assert_eq!(
        both["history"]["scenarios"][0]["runs"]
            .as_array()
            .unwrap()
            .len(),
        6
    );
    assert_eq!(
        both["history"]["scenarios"][0]["changes"],
        scenario["changes"]
    );
}

#[test]
fn nothing_to_show_is_one_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.json"), "{}").unwrap();
    let (code, _, stderr) = run_plain(&["history", dir.path().to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("skipped 1 JSON file(s) that are not complete results"),
        "{stderr}"
    );
    assert!(
        stderr.contains("history: no complete result in"),
        "{stderr}"
    );
    let (code, _, stderr) =
        run_plain(&["history", dir.path().join("notes.json").to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(stderr.contains("notes.json"), "{stderr}");
}

#[test]
fn the_trend_page_opens_in_headless_chromium() {
    if !crate::report::has_chromium() {
        return;
    }
    let _quiet = crate::fixture::exclusive();
    let out = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("report-check")
        .join("history");
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).unwrap();
    let runs = out.join("runs");
    std::fs::create_dir_all(&runs).unwrap();
    six_runs(&runs);
    let runs = runs.to_str().unwrap();
    let html = out.join("history.html");
    history(&[runs, "--out", html.to_str().unwrap()]);
    let page: Value = serde_json::from_str(&history(&[runs, "--format", "json"])).unwrap();
    let dom = crate::report::open_in_chromium("history", &html, &out, 3000);
    assert_eq!(
        crate::report::drawn_charts("history", &dom),
        5,
        "a chart per key figure"
    );
    let checked = crate::report::check_figures_against_json(&dom, &page);
    assert_eq!(checked, 2 * 5 * 6, "2 points × 5 figures × 6 runs");
    assert!(
        dom.contains("<td class=\"n verdict regressed\""),
        "the slow run is marked"
    );
}
