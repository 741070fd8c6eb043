//! Timing fidelity against the timed fixture: first token after 200 ms, then one every
//! 20 ms, measured as TTFT 200 ms and ITL 20 ms within 2 ms at p50, through every adapter.

use crate::fixture::{exclusive, run_against, timed_server, Timing};

fn within(value: f64, expected: f64, tolerance: f64) -> bool {
    (value - expected).abs() <= tolerance
}

/// Measures the timed fixture through `adapter` at each of `concurrency` (8 requests of
/// 12 tokens each) and checks TTFT, ITL and TPOT against its pacing within 2 ms.
fn check_pacing(adapter: &str, concurrency: &str) {
    let addr = timed_server(Timing {
        first_token_ms: 200,
        itl_ms: 20,
        stall_after: None,
        crowding: None,
    });
    let url = format!("http://{addr}");
    let flags = format!(
        "--adapter {adapter} --concurrency {concurrency} --num-prompts 8 --input-len 64 --output-len 12 --warmup 1"
    );
    let r = run_against(&url, &flags, &[]);
    assert_eq!(r.code, 0, "{adapter}: {}", r.stderr);
    let result = r.result();
    for point in result["points"].as_array().unwrap() {
        let l = &point["latency_ms"];
        let (ttft, itl, tpot) = (
            l["ttft"]["p50"].as_f64().unwrap(),
            l["itl"]["p50"].as_f64().unwrap(),
            l["tpot"]["p50"].as_f64().unwrap(),
        );
        let at = format!("{adapter} at {}", point["id"]);
        eprintln!("{at}: TTFT p50 {ttft} ms, ITL p50 {itl} ms, TPOT p50 {tpot} ms");
        assert_eq!(point["requests"]["ok"], 8, "{at}: {point}");
        assert!(within(ttft, 200.0, 2.0), "TTFT p50 {ttft}: {at}");
        assert!(within(itl, 20.0, 2.0), "ITL p50 {itl}: {at}");
        assert!(within(tpot, 20.0, 2.0), "TPOT p50 {tpot}: {at}");
        assert_eq!(point["tokens"]["output_mean"], 12.0, "{at}");
        assert_eq!(
            point["tokens"]["input_mean"], 64.0,
            "prompts of exact length: {at}"
        );
        assert_eq!(
            l["itl"]["count"],
            8 * 11,
            "11 gaps per 12-token answer: {at}"
        );
    }
}

#[test]
fn ttft_and_itl_match_the_fixture_pacing() {
    let _quiet = exclusive();
    check_pacing("openai-chat", "1,4");
}

#[test]
fn every_dialect_measures_the_same_pacing() {
    let _quiet = exclusive();
    for adapter in [
        "openai-completions",
        "openai-responses",
        "triton",
        "tgi",
        "ollama-chat",
        "ollama-generate",
        "sglang",
        "llamacpp",
    ] {
        check_pacing(adapter, "4");
    }
}

#[test]
fn a_stall_mid_stream_is_a_timeout_with_the_tokens_seen_so_far() {
    let addr = timed_server(Timing {
        first_token_ms: 10,
        itl_ms: 10,
        stall_after: Some(3),
        crowding: None,
    });
    let url = format!("http://{addr}");
    let r = run_against(
        &url,
        "--num-prompts 2 --input-len 8 --output-len 8 --warmup 0 --timeout 1",
        &[],
    );
    // Every request timed out: the point failed (exit 1), its figures are still kept.
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(r.errors(0), serde_json::json!({"timeout": 2}));
    for line in r.requests() {
        assert_eq!(line["chunk_ms"].as_array().unwrap().len(), 3, "{line}");
        assert!(line["e2e_ms"].as_f64().unwrap() >= 1000.0);
    }
}

#[test]
fn open_loop_sends_on_schedule_and_reports_latency_from_it() {
    let _quiet = exclusive();
    let addr = timed_server(Timing {
        first_token_ms: 30,
        itl_ms: 5,
        stall_after: None,
        crowding: None,
    });
    let url = format!("http://{addr}");
    let r = run_against(&url, "--request-rate 20 --arrival constant --num-prompts 20 --input-len 16 --output-len 4 --warmup 0", &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let point = &r.result()["points"][0];
    assert_eq!(point["id"], "input_tokens=16,rate=20.0");
    assert_eq!(point["requests"]["ok"], 20);
    assert_eq!(point["schedule"]["late_sends"], 0, "{}", point["schedule"]);
    let l = &point["latency_ms"];
    assert!(l["ttft_from_scheduled"]["p50"].as_f64() >= l["ttft"]["p50"].as_f64());
    // 20 requests 50 ms apart: the schedule spans 0.95 s.
    let spans: Vec<f64> = r
        .requests()
        .iter()
        .map(|l| l["scheduled_ms"].as_f64().unwrap())
        .collect();
    let span =
        spans.iter().cloned().fold(0.0, f64::max) - spans.iter().cloned().fold(f64::MAX, f64::min);
    assert!((span - 950.0).abs() < 5.0, "schedule span {span} ms");
}

#[test]
fn ctrl_c_writes_a_partial_result_and_exits_130() {
    let addr = timed_server(Timing {
        first_token_ms: 10,
        itl_ms: 50,
        stall_after: None,
        crowding: None,
    });
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("result.json");
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_llm-loadtest"))
        .args([
            "run",
            "--server",
            &format!("http://{addr}"),
            "--model",
            "m",
            "--concurrency",
            "2,4",
            "--num-prompts",
            "40",
            "--input-len",
            "8",
            "--output-len",
            "10",
            "--warmup",
            "0",
            "--output",
        ])
        .arg(&output)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(2500));
    // SAFETY: sending SIGINT to our own child process.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let result: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&output).unwrap()).unwrap();
    assert_eq!(result["partial"], true);
    let points = result["points"].as_array().unwrap();
    assert_eq!(points.len(), 1, "the second point never started");
    let ok = points[0]["requests"]["ok"].as_u64().unwrap();
    assert!(
        points[0]["partial"] == true && ok > 0 && ok < 40,
        "{}",
        points[0]["requests"]
    );
    assert_eq!(
        points[0]["requests"]["failed"], 0,
        "cancelled requests are not failures"
    );
}

#[test]
fn run_fails_with_exit_1_when_a_threshold_is_breached() {
    let addr = timed_server(Timing {
        first_token_ms: 50,
        itl_ms: 5,
        stall_after: None,
        crowding: None,
    });
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("slo.json");
    std::fs::write(
        &scenario,
        serde_json::json!({
            "name": "slo", "target": {"base_url": format!("http://{addr}"), "model": "m"},
            "workload": {"input_tokens": 8, "output_tokens": 4},
            "load": {"concurrency": [1], "requests": 3, "warmup": 0},
            "thresholds": {"ttft_ms": ["p(95) < 20"], "error_rate": ["rate < 0.01"]}
        })
        .to_string(),
    )
    .unwrap();
    let (code, stdout, stderr) = crate::fixture::run_plain(&["run", scenario.to_str().unwrap()]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        stdout.contains("✗ ttft_ms: p(95) < 20 at concurrency=1,input_tokens=8"),
        "{stdout}"
    );
    assert!(stdout.contains("✓ error_rate: rate < 0.01"), "{stdout}");
}
