//! The embedded simulator, measured by the harness over HTTP: a profile with a fixed 20 ms
//! decode step and 0.1 ms per prompt token at concurrency 1 is measured as TPOT 20 ± 1 ms
//! and TTFT 0.1 ms × input ± 2 ms; `llm-loadtest sim` with injected faults gives each
//! fault's error kind.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use serde_json::{json, Value};

use crate::fixture::{exclusive, run_against, write_json};

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
    let output = dir.path().join("result.json");
    let out = assert_cmd::Command::cargo_bin("llm-loadtest")
        .unwrap()
        .args(["run", &file, "--output", output.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let result: Value = serde_json::from_str(&std::fs::read_to_string(&output).unwrap()).unwrap();
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
    let mut sim = Command::new(assert_cmd::cargo::cargo_bin("llm-loadtest"))
        .args(["sim", "--port", "0", "--profile", "fixed-20ms"])
        .args([
            "--error-rate",
            "0.2",
            "--disconnect-rate",
            "0.2",
            "--malformed-rate",
            "0.2",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(sim.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line.trim().rsplit(' ').next().unwrap().to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{line}");
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
