//! Staged load: the simulator's spike (2 → 8 → 2 requests in flight against a KV cache
//! that holds four) shows TTFT rising in the timeline while requests wait and recovering
//! after, with each stage's own figures and its timeline as CSV; a breakpoint ramp stops
//! by itself at the simulator's KV capacity; a failing `abort_on_fail` threshold stops the
//! run after its delay; errors in stages, shapes and shared prefixes name the file and the
//! field.

use serde_json::{json, Value};

use crate::fixture::{exclusive, run, run_plain, write_json};

/// The windows of `point` that lie within [from, to) seconds.
fn windows(point: &Value, from: f64, to: f64) -> Vec<&Value> {
    point["timeline"]["windows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| {
            let start = w["start_s"].as_f64().unwrap();
            start >= from && start < to
        })
        .collect()
}

#[test]
fn a_spike_shows_in_the_timeline_and_recovers() {
    let _quiet = exclusive();
    let r = run(&["run", "scenarios/sim-spike.json"], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let point = &r.result()["points"][0];
    assert_eq!(point["params"]["shape"], "spike");
    let ttft = |w: &&Value| w["ttft_p50_ms"].as_f64();
    let median = |ws: Vec<&Value>| {
        let mut v: Vec<f64> = ws.iter().filter_map(ttft).collect();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    // 10 s in 0.5 s windows: 2 in flight for 4 s, 8 for 2 s, 2 again for 4 s.
    let (before, spike, after) = (
        median(windows(point, 0.5, 3.5)),
        median(windows(point, 4.5, 6.0)),
        median(windows(point, 7.5, 10.0)),
    );
    assert!(
        spike > 3.0 * before,
        "TTFT p50 {before} ms before, {spike} during the spike"
    );
    assert!(
        after < 1.5 * before,
        "TTFT p50 {after} ms after the spike, {before} before"
    );
    let in_flight: Vec<u64> = windows(point, 4.5, 5.5)
        .iter()
        .map(|w| w["in_flight"].as_u64().unwrap())
        .collect();
    assert!(in_flight.iter().all(|&n| n == 8), "{in_flight:?}");
    let stages = point["stages"].as_array().unwrap();
    let levels: Vec<(f64, f64)> = stages
        .iter()
        .map(|s| (s["from"].as_f64().unwrap(), s["to"].as_f64().unwrap()))
        .collect();
    assert_eq!(
        levels,
        [(2.0, 2.0), (8.0, 8.0), (2.0, 2.0)],
        "stages of no time are left out"
    );
    let stage_ttft = |i: usize| stages[i]["latency_ms"]["ttft"]["p50"].as_f64().unwrap();
    assert!(
        stage_ttft(1) > 3.0 * stage_ttft(0),
        "{} vs {}",
        stage_ttft(1),
        stage_ttft(0)
    );
    let total: u64 = stages
        .iter()
        .map(|s| s["requests"]["total"].as_u64().unwrap())
        .sum();
    assert_eq!(total, point["requests"]["total"].as_u64().unwrap());
    // The timeline as CSV: a row per window, its figures and gauges as columns; the
    // points' CSV leaves it out.
    let path = r.result_path().display().to_string();
    let (code, csv, stderr) = run_plain(&["report", &path, "--format", "timeline-csv"]);
    assert_eq!(code, 0, "{stderr}");
    let lines: Vec<&str> = csv.lines().collect();
    let windows = point["timeline"]["windows"].as_array().unwrap().len();
    assert_eq!(lines.len(), 1 + windows);
    assert!(
        lines[0].starts_with("scenario,point,") && lines[0].contains(",in_flight,"),
        "{}",
        lines[0]
    );
    assert!(
        lines[0].contains("gauges.vllm:kv_cache_usage_perc"),
        "{}",
        lines[0]
    );
    let (_, points_csv, _) = run_plain(&["report", &path, "--format", "csv"]);
    assert!(!points_csv.contains("timeline"), "{points_csv}");
}

#[test]
fn a_breakpoint_run_stops_by_itself_at_the_kv_capacity() {
    let _quiet = exclusive();
    let r = run(&["run", "scenarios/sim-breakpoint.json"], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let point = &r.result()["points"][0];
    let breakpoint = &point["breakpoint"];
    assert_eq!(breakpoint["broke"], true, "{breakpoint}");
    // Four 1k-token requests fill the simulator's 5,000-token KV cache.
    let load = breakpoint["load"].as_f64().unwrap();
    assert!((3.0..=5.0).contains(&load), "broke at {load}: {breakpoint}");
    let stopped = point["stopped"]["at_s"].as_f64().unwrap();
    assert!(stopped < 24.0, "stopped after {stopped} s of a 30 s ramp");
    assert!(
        !point["partial"].as_bool().unwrap_or(false),
        "stopping by itself is not an interruption"
    );
    assert!(
        r.stderr
            .contains("breakpoint: throughput stopped rising at concurrency"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_failing_abort_on_fail_threshold_stops_the_run_after_its_delay() {
    let _quiet = exclusive();
    let dir = tempfile::tempdir().unwrap();
    let file = write_json(
        dir.path(),
        "abort.json",
        &json!({
            "name": "abort", "target": {"embedded": "sim", "profile": "fixed-20ms"},
            "workload": {"input_tokens": [64], "output_tokens": 8},
            "load": {"concurrency": [2, 4], "duration_s": 20, "warmup": 0},
            "thresholds": {"ttft_ms": ["p(99) < 60000",
                {"threshold": "p(95) < 1", "abort_on_fail": true, "delay_abort_eval_s": 2}]}
        }),
    );
    let r = run(&["run", &file], &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let result = r.result();
    let points = result["points"].as_array().unwrap();
    assert_eq!(points.len(), 1, "the run stopped with its first point");
    let stopped = &points[0]["stopped"];
    let at = stopped["at_s"].as_f64().unwrap();
    assert!((2.0..4.0).contains(&at), "stopped at {at} s");
    assert_eq!(stopped["ends_run"], true);
    assert!(
        stopped["reason"]
            .as_str()
            .unwrap()
            .contains("ttft_ms: p(95) < 1 failed"),
        "{stopped}"
    );
}

#[test]
fn bad_stages_and_prefixes_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            json!({"stages": [{"duration_s": 5, "concurrency": 2}, {"duration_s": 5, "rate": 2}]}),
            "load.stages[1]: give one of `concurrency` or `rate`, the same in every stage",
        ),
        (
            json!({"stages": [{"duration_s": 5, "concurrency": 2}], "requests": 10}),
            "load.requests: not with `stages`",
        ),
        (
            json!({"stages": [{"duration_s": 0, "concurrency": 2}]}),
            "load.stages: must last some time",
        ),
        (
            json!({"concurrency": [2], "shape": "spike", "requests": 10}),
            "load.requests: a `shape` lasts `duration_s`",
        ),
        (
            json!({"concurrency": [2], "shape": "ramp", "duration_s": 10}),
            "load.shape",
        ),
    ];
    let prompts = [
        (json!({"kind": "shared_prefix", "prefixes": 2}), "workload.prompt: `kind: shared_prefix` needs `prefixes` and `prefix_tokens`"),
        (json!({"kind": "shared_prefix", "prefixes": 2, "prefix_tokens": 100}), "workload.prompt.prefix_tokens: must be at least 1 and below the shortest input (100 tokens)"),
        (json!({"prefixes": 2}), "workload.prompt.prefixes: does not apply to `kind: synthetic`"),
    ];
    let good_load = json!({"concurrency": [1], "requests": 1});
    let with_prompt = prompts.into_iter().map(|(p, e)| (good_load.clone(), p, e));
    let with_load = cases.into_iter().map(|(l, e)| (l, json!({}), e));
    for (load, prompt, expected) in with_load.chain(with_prompt) {
        let scenario = json!({
            "name": "bad",
            "target": {"embedded": "sim", "profile": "fixed-20ms"},
            "workload": {"input_tokens": [100], "output_tokens": 4, "prompt": prompt},
            "load": load
        });
        let file = write_json(dir.path(), "bad.json", &scenario);
        let (code, _, stderr) = run_plain(&["validate", &file]);
        assert_eq!(code, 2, "{stderr}");
        assert!(
            stderr.contains(expected) && stderr.contains("bad.json"),
            "{expected}: {stderr}"
        );
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    }
}
