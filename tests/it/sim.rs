//! The embedded simulator, measured by the harness over HTTP: a profile with a fixed 20 ms
//! decode step and 0.1 ms per prompt token at concurrency 1 is measured as TPOT 20 ± 1 ms
//! and TTFT 0.1 ms × input ± 2 ms; `llm-loadtest sim` with injected faults gives each
//! fault's error kind; the emitter's recorded send times join the harness's request log.

use std::collections::HashMap;
use std::process::Command;

use serde_json::{json, Value};

use crate::fixture::{exclusive, run, run_against, spawn_sim, write_json};

#[test]
fn the_simulator_is_measured_as_its_profile_says() {
    let _quiet = exclusive();
    let dir = tempfile::tempdir().unwrap();
    let scenario = json!({
        "name": "sim-accuracy",
        "target": {"embedded": "sim", "profile": "fixed-20ms"},
        "workload": {"input_tokens": [200, 1000, 4000], "output_tokens": 20},
        "load": {"concurrency": [1], "requests": 20, "warmup": 1}
    });
    let file = write_json(dir.path(), "scenario.json", &scenario);
    let r = run(&["run", &file], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let result = r.result();
    assert_eq!(result["prompts"]["template_overhead_tokens"], 0);
    for point in result["points"].as_array().unwrap() {
        let input = point["params"]["input_tokens"].as_f64().unwrap();
        let l = &point["latency_ms"];
        let (tpot, ttft) = (
            l["tpot"]["p50"].as_f64().unwrap(),
            l["ttft"]["p50"].as_f64().unwrap(),
        );
        assert!(
            (tpot - 20.0).abs() <= 1.0,
            "{}: TPOT p50 {tpot}",
            point["id"]
        );
        assert!(
            (ttft - 0.1 * input).abs() <= 2.0,
            "{}: TTFT p50 {ttft}, expected {}",
            point["id"],
            0.1 * input
        );
        assert_eq!(point["requests"]["ok"], 20);
    }
}

#[test]
fn injected_faults_are_counted_by_kind() {
    let _quiet = exclusive();
    let (mut sim, url) = spawn_sim(&[
        "--profile",
        "fixed-20ms",
        "--error-rate",
        "0.2",
        "--disconnect-rate",
        "0.2",
        "--malformed-rate",
        "0.2",
    ]);
    let r = run_against(
        &url,
        "--num-prompts 60 --input-len 16 --output-len 4 --warmup 0",
        &[],
    );
    sim.kill().unwrap();
    let _ = sim.wait();
    assert_eq!(r.code, 0, "{}", r.stderr);
    let errors = r.errors(0);
    for kind in ["http_500", "stream_truncated", "malformed_chunk"] {
        assert!(errors[kind].as_u64().unwrap_or(0) > 0, "{kind}: {errors}");
    }
    assert!(r.result()["points"][0]["requests"]["ok"].as_u64().unwrap() > 0);
}

#[test]
fn the_emitters_send_times_join_the_request_log() {
    let _quiet = exclusive();
    let (mut sim, url) = spawn_sim(&[
        "--emit-interval-ms",
        "5",
        "--emit-first-token-ms",
        "10",
        "--emit-tokens-per-chunk",
        "2",
    ]);
    let r = run_against(
        &url,
        "--concurrency 4 --num-prompts 8 --input-len 16 --output-len 10 --warmup 0",
        &[],
    );
    let truth = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let response = reqwest::get(format!("{url}/truth")).await.unwrap();
            response.text().await.unwrap()
        });
    sim.kill().unwrap();
    let _ = sim.wait();
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.result()["points"][0]["tokens"]["output_mean"], 10.0);
    let sent: HashMap<String, Vec<u64>> = truth
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            let times = v["sent_us"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t.as_u64().unwrap())
                .collect();
            (v["request_id"].as_str().unwrap().to_owned(), times)
        })
        .collect();
    let lines = r.requests();
    assert_eq!(lines.len(), 8);
    for line in &lines {
        let id = line["request_id"].as_str().unwrap();
        assert!(id.starts_with("llmlt-"), "{id}");
        let sent = &sent[id];
        let chunks = line["chunk_ms"].as_array().unwrap();
        // 10 tokens, 2 per chunk.
        assert_eq!((sent.len(), chunks.len()), (5, 5), "{line}");
        let start = line["sent_clock_us"].as_u64().unwrap() as f64;
        for (ms, sent_us) in chunks.iter().zip(sent) {
            // On the shared clock each chunk arrives after the emitter sent it (a
            // millisecond of slack for the two processes' clock reads).
            let arrived_us = start + ms.as_f64().unwrap() * 1000.0;
            assert!(
                arrived_us >= *sent_us as f64 - 1000.0,
                "{line}: sent at {sent_us}"
            );
        }
    }
}

/// `--trials 3`: every point measured three times, interleaved (all points once, then all
/// again); the result keeps each trial and pools them, and compares as before.
#[test]
fn trials_are_interleaved_kept_and_pooled() {
    let _quiet = exclusive();
    let dir = tempfile::tempdir().unwrap();
    let scenario = json!({
        "name": "sim-trials",
        "target": {"embedded": "sim", "profile": "fixed-20ms"},
        "workload": {"input_tokens": [100, 200], "output_tokens": 5},
        "load": {"concurrency": [1], "requests": 4, "warmup": 0}
    });
    let file = write_json(dir.path(), "scenario.json", &scenario);
    let r = run(&["run", &file, "--trials", "3"], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let result = r.result();
    assert_eq!(result["schema_version"], 2);
    for point in result["points"].as_array().unwrap() {
        let trials = point["trials"].as_array().unwrap();
        assert_eq!(trials.len(), 3, "{}", point["id"]);
        assert_eq!(point["requests"]["total"], 12, "pooled");
        assert_eq!(point["latency_ms"]["e2e"]["count"], 12);
        let duration: f64 = trials
            .iter()
            .map(|t| t["duration_s"].as_f64().unwrap())
            .sum();
        assert!((point["duration_s"].as_f64().unwrap() - duration).abs() < 1e-9);
        for trial in trials {
            assert_eq!(trial["requests"]["total"], 4);
            let tpot = trial["latency_ms"]["tpot"]["p50"].as_f64().unwrap();
            assert!((tpot - 20.0).abs() <= 1.0, "{tpot}");
        }
    }
    // Requests are numbered as sent: the points alternate, four requests at a time.
    let points: Vec<String> = r
        .requests()
        .iter()
        .map(|l| l["point"].as_str().unwrap().to_owned())
        .collect();
    let order: Vec<&str> = points.chunks(4).map(|c| c[0].as_str()).collect();
    assert_eq!(order.len(), 6, "{points:?}");
    assert!(
        order
            .iter()
            .step_by(2)
            .all(|p| p.contains("input_tokens=100")),
        "{order:?}"
    );
    assert!(
        order
            .iter()
            .skip(1)
            .step_by(2)
            .all(|p| p.contains("input_tokens=200")),
        "{order:?}"
    );
    assert!(
        points.chunks(4).all(|c| c.iter().all(|p| p == &c[0])),
        "{points:?}"
    );
}

/// A result names the commit it was measured at: a CI job's `GITHUB_SHA` (and branch),
/// else the HEAD of the git checkout it ran in.
#[test]
fn a_result_names_its_revision() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = json!({
        "name": "sim-revision",
        "target": {"embedded": "sim", "profile": "fixed-20ms"},
        "workload": {"input_tokens": [10], "output_tokens": 2},
        "load": {"concurrency": [1], "requests": 2, "warmup": 0}
    });
    let file = write_json(dir.path(), "scenario.json", &scenario);
    let output = dir.path().join("result.json");
    let revision = |env: &[(&str, &str)]| -> Value {
        let out = assert_cmd::Command::cargo_bin("llm-loadtest")
            .unwrap()
            .args(["run", &file, "--output", output.to_str().unwrap()])
            .env_remove("GITHUB_SHA")
            .env_remove("GITHUB_HEAD_REF")
            .env_remove("GITHUB_REF_NAME")
            .envs(env.iter().copied())
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        let text = std::fs::read_to_string(&output).unwrap();
        serde_json::from_str::<Value>(&text).unwrap()["environment"]["revision"].clone()
    };
    let ci = revision(&[("GITHUB_SHA", "0123abcd"), ("GITHUB_REF_NAME", "main")]);
    assert_eq!(ci, json!({"commit": "0123abcd", "branch": "main"}));
    // The tests run in the project's directory: its checkout's HEAD, if it is one.
    let local = revision(&[]);
    match Command::new("git").args(["rev-parse", "HEAD"]).output() {
        Ok(head) if head.status.success() => {
            let head = String::from_utf8_lossy(&head.stdout).trim().to_owned();
            assert_eq!(local["commit"], head.as_str());
            assert!(local["dirty"].is_boolean(), "{local}");
        }
        _ => assert!(local.is_null(), "no checkout, no revision: {local}"),
    }
}

#[test]
fn the_same_plan_through_every_dialect_gives_the_same_figures() {
    let _quiet = exclusive();
    let dir = tempfile::tempdir().unwrap();
    let mut seen: Vec<(String, f64, f64, f64)> = Vec::new();
    for api in [
        "chat",
        "completions",
        "openai-responses",
        "triton",
        "tgi",
        "ollama-chat",
        "ollama-generate",
        "sglang",
        "llamacpp",
    ] {
        let scenario = json!({
            "name": format!("sim-{api}"),
            "target": {"embedded": "sim", "profile": "fixed-20ms", "api": api},
            "workload": {"input_tokens": [200], "output_tokens": 16},
            // One at a time: the engine's batching then does not hang on how two arrivals
            // fall between its steps.
            "load": {"concurrency": [1], "requests": 6, "warmup": 1}
        });
        let file = write_json(dir.path(), "scenario.json", &scenario);
        let r = run(&["run", &file], &[]);
        assert_eq!(r.code, 0, "{api}: {}", r.stderr);
        let point = &r.result()["points"][0];
        assert_eq!(point["requests"]["ok"], 6, "{api}: {point}");
        assert_eq!(point["tokens"]["output_mean"], 16.0, "{api}");
        assert_eq!(point["tokens"]["input_mean"], 200.0, "{api}");
        let l = &point["latency_ms"];
        let p50 = |name: &str| l[name]["p50"].as_f64().unwrap();
        seen.push((api.to_owned(), p50("ttft"), p50("tpot"), p50("itl")));
    }
    eprintln!("(dialect, TTFT p50, TPOT p50, ITL p50): {seen:?}");
    for (api, ttft, tpot, itl) in &seen {
        assert!((tpot - 20.0).abs() <= 1.0, "{api}: TPOT p50 {tpot}");
        assert!((itl - 20.0).abs() <= 1.0, "{api}: ITL p50 {itl}");
        assert!(
            (ttft - seen[0].1).abs() <= 2.0,
            "{api}: TTFT p50 {ttft} vs {}",
            seen[0].1
        );
    }
}
