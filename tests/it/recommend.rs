//! `llm-loadtest recommend`: against a fixture whose goodput curve is known (the first
//! token 20 ms later per request in flight), the search finds the crossing with few
//! probes and sizes the fleet; "never met" and "inconclusive" say so; bad targets are
//! refused naming the flag; on the simulator the answer matches a full grid of
//! concurrency levels with a fraction of its requests, and a matrix picks the
//! configuration with the most load per GPU.

use serde_json::{json, Value};

use crate::fixture::{
    exclusive, run_plain, run_plain_slow, timed_server, write_json, Crowding, Timing,
};

/// A server whose first token comes 20 ms later per other request in flight (TTFT = 20 ms
/// × requests in flight), every `slow_every`-th request ten times later.
fn crowded(slow_every: Option<u64>) -> String {
    let addr = timed_server(Timing {
        first_token_ms: 20,
        itl_ms: 2,
        stall_after: None,
        crowding: Some(Crowding {
            per_request_ms: 20,
            slow_every,
        }),
    });
    format!("http://{addr}")
}

/// Runs `recommend` with `flags` against `url`; the exit code, stdout, stderr and answer.
fn recommend(url: &str, flags: &[&str]) -> (i32, String, String, Value) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("answer.json");
    let mut args = vec![
        "recommend",
        "--server",
        url,
        "--model",
        "m",
        "--input-len",
        "16",
        "--output-len",
        "4",
    ];
    args.extend(flags);
    args.extend(["-o", out.to_str().unwrap()]);
    let (code, stdout, stderr) = run_plain(&args);
    let answer = std::fs::read_to_string(&out)
        .map(|t| serde_json::from_str(&t).unwrap())
        .unwrap_or(Value::Null);
    (code, stdout, stderr, answer)
}

#[test]
fn the_search_finds_a_known_crossing_and_sizes_the_fleet() {
    let _quiet = exclusive();
    // TTFT is 20 ms × requests in flight: 100 ms at 5 meets 110 ms, 120 ms at 6 does not.
    let url = crowded(None);
    let flags = [
        "--slo",
        "ttft:110",
        "--peak-concurrency",
        "50",
        "--requests-per-probe",
        "40",
    ];
    let (code, stdout, stderr, answer) = recommend(&url, &flags);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_eq!(answer["sustainable_concurrency"], 5.0, "{stdout}");
    let config = &answer["configurations"][0];
    assert_eq!(config["missed_at"], 6.0);
    assert_eq!(config["binding"], "TTFT");
    // 50 × 1.2 / 5 = 12 replicas of one GPU.
    assert_eq!(
        (answer["replicas"].as_u64(), answer["gpus"].as_u64()),
        (Some(12), Some(12))
    );
    let loads: Vec<f64> = config["probes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["load"].as_f64().unwrap())
        .collect();
    assert_eq!(
        loads,
        [1.0, 2.0, 4.0, 5.0, 6.0, 8.0],
        "doubling, then bisection"
    );
    assert!(stdout.contains("5 requests in flight per replica meet 95% goodput; 6 requests in flight missed it, TTFT failing first"), "{stdout}");
    assert!(
        stdout.contains("needs 12 replicas × 1 GPU = 12 GPUs"),
        "{stdout}"
    );
}

#[test]
fn never_met_and_inconclusive_answers_say_so() {
    let _quiet = exclusive();
    let url = crowded(None);
    let (code, stdout, _, answer) =
        recommend(&url, &["--slo", "ttft:10", "--peak-concurrency", "8"]);
    assert_eq!(code, 1, "{stdout}");
    assert_eq!(answer["configurations"][0]["end"], "never_met");
    assert!(
        stdout.contains(
            "95% goodput is not met even at 1 requests in flight missed it, TTFT failing first"
        ),
        "{stdout}"
    );
    // One request in 25 is slow: goodput 96% against a 95% target cannot be settled by 100.
    let url = crowded(Some(25));
    let flags = [
        "--slo",
        "ttft:110",
        "--peak-concurrency",
        "8",
        "--requests-per-probe",
        "100",
    ];
    let (code, stdout, _, answer) = recommend(&url, &flags);
    assert_eq!(code, 0, "{stdout}");
    let why = answer["configurations"][0]["inconclusive"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        why.contains("too near the 95% target")
            && why.contains("requests per probe would settle it"),
        "{stdout}"
    );
    assert!(stdout.contains("Inconclusive:"), "{stdout}");
}

#[test]
fn bad_targets_are_refused_naming_the_flag() {
    for (flags, flag) in [
        (
            vec![
                "--goodput-target",
                "120",
                "--peak-concurrency",
                "8",
                "--slo",
                "ttft:100",
            ],
            "--goodput-target",
        ),
        (
            vec!["--peak-concurrency", "-5", "--slo", "ttft:100"],
            "--peak-concurrency",
        ),
        (
            vec!["--peak-rate", "-1", "--slo", "ttft:100"],
            "--peak-rate",
        ),
        (vec!["--peak-concurrency", "8", "--slo", "itl:5"], "--slo"),
        (vec!["--peak-concurrency", "8"], "--slo"),
    ] {
        let mut args = vec!["recommend", "--server", "http://127.0.0.1:9"];
        args.extend(flags);
        let (code, _, stderr) = run_plain(&args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
        assert!(stderr.contains(flag), "{flag}: {stderr}");
    }
}

/// A scenario on the simulator (H100 profile): 1k-token prompts with `output` tokens out
/// against KV caches of `kv` tokens, TTFT under `ttft_ms`.
fn sim_scenario(
    dir: &std::path::Path,
    kv: &[u64],
    output: u32,
    ttft_ms: f64,
    load: Value,
) -> String {
    write_json(
        dir,
        "sim.json",
        &json!({"name": "capacity", "target": {"embedded": "sim", "profile": "h100-llama3-8b"},
                "matrix": {"kv_capacity_tokens": kv},
                "workload": {"input_tokens": [1000], "output_tokens": output, "prompt": {"seed": 1}},
                "load": load, "slo": {"ttft_ms": ttft_ms}}),
    )
}

#[test]
fn on_the_simulator_the_answer_matches_a_full_grid_with_a_third_of_its_requests() {
    let _quiet = exclusive();
    let dir = tempfile::tempdir().unwrap();
    // Prefills of 1k tokens queue behind each other: TTFT passes 80 ms past 2 or 3 in flight.
    let grid_levels: Vec<u32> = (1..=12).collect();
    let load = json!({"concurrency": grid_levels, "requests": 100, "warmup": 4});
    let grid = sim_scenario(dir.path(), &[5000], 8, 80.0, load);
    let out = dir.path().join("grid.json");
    let (code, _, stderr) = run_plain_slow(&["run", &grid, "-o", out.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    let result: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let points = result["points"].as_array().unwrap();
    let grid_requests: u64 = points
        .iter()
        .map(|p| p["requests"]["total"].as_u64().unwrap())
        .sum();
    let meets = |p: &Value| p["goodput"]["ratio"].as_f64().unwrap() >= 0.95;
    let crossing = points.iter().take_while(|p| meets(p)).count() as f64;
    let answer_file = dir.path().join("answer.json");
    let (code, stdout, stderr) = run_plain_slow(&[
        "recommend",
        &grid,
        "--peak-concurrency",
        "100",
        "-o",
        answer_file.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let answer: Value =
        serde_json::from_str(&std::fs::read_to_string(&answer_file).unwrap()).unwrap();
    assert_eq!(answer["simulated"], true);
    let found = answer["sustainable_concurrency"].as_f64().unwrap();
    let requests = answer["configurations"][0]["requests"].as_u64().unwrap();
    eprintln!("grid: goodput crosses 95% after concurrency {crossing}, {grid_requests} requests; recommend: {found}, {requests} requests");
    assert!(
        (found - crossing).abs() <= 1.0,
        "recommend {found}, grid {crossing}: {stdout}"
    );
    assert!(
        requests * 3 <= grid_requests,
        "{requests} requests against the grid's {grid_requests}"
    );
}

#[test]
fn a_matrix_picks_the_configuration_with_the_most_load_per_gpu() {
    let _quiet = exclusive();
    let dir = tempfile::tempdir().unwrap();
    // With 64 tokens out, a request past the KV cache waits for one to finish (some
    // 500 ms): the cache of 5,000 tokens holds four at once, that of 10,000 nine.
    let load = json!({"concurrency": [1], "requests": 10});
    let file = sim_scenario(dir.path(), &[5000, 10000], 64, 200.0, load);
    let out = dir.path().join("answer.json");
    let html = dir.path().join("capacity.html");
    let (code, stdout, stderr) = run_plain_slow(&[
        "recommend",
        &file,
        "--peak-concurrency",
        "40",
        "-o",
        out.to_str().unwrap(),
        "--report",
        html.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let answer: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let sustainable: Vec<f64> = answer["configurations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["sustainable"].as_f64().unwrap())
        .collect();
    assert!(sustainable[1] > sustainable[0], "{sustainable:?}");
    assert_eq!(
        answer["best"], 1,
        "twice the KV cache holds more users: {stdout}"
    );
    assert!(
        stdout.contains("kv_capacity_tokens=10000 [best per GPU]"),
        "{stdout}"
    );
    check_page_in_chromium(&html, &answer);
}

/// Opens the answer's HTML page in headless Chromium (no console output, no network):
/// every chart drawn, every figure shown equal to the answer's JSON.
fn check_page_in_chromium(html: &std::path::Path, answer: &Value) {
    if !crate::report::has_chromium() {
        eprintln!("Chromium is not installed: the recommendation page is not opened");
        return;
    }
    let out = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-check/recommend");
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).unwrap();
    let dom = crate::report::open_in_chromium("recommend", html, &out, 3000);
    let charts = dom.matches("<figure class=\"chart\"").count();
    let drawn = dom.matches("<svg").count();
    assert_eq!(
        (charts, drawn),
        (6, 6),
        "three charts per configuration, each drawn"
    );
    let checked = crate::report::check_figures_against_json(&dom, answer);
    assert!(checked >= 40, "only {checked} figures traced to the answer");
}

#[test]
fn a_peak_rate_searches_request_rates_to_a_tenth() {
    let _quiet = exclusive();
    let url = crowded(None);
    let flags = [
        "--slo",
        "ttft:110",
        "--peak-rate",
        "1000",
        "--requests-per-probe",
        "40",
        "--headroom",
        "0",
    ];
    let (code, stdout, stderr, answer) = recommend(&url, &flags);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let rate = answer["sustainable_rate"].as_f64().unwrap();
    let config = &answer["configurations"][0];
    let missed = config["missed_at"].as_f64().unwrap();
    assert!(
        rate < missed && missed <= rate * 1.1 + 1e-9,
        "{rate} then {missed}: {stdout}"
    );
    assert_eq!(config["binding"], "TTFT");
    let replicas = answer["replicas"].as_f64().unwrap();
    assert_eq!(replicas, (1000.0 / rate).ceil(), "{stdout}");
    assert!(
        stdout.contains("requests/s per replica meet 95% goodput"),
        "{stdout}"
    );
}
