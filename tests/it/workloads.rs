//! Workloads beyond one synthetic length, on the embedded simulator: a trace replayed on
//! its schedule (send lag in the request log), conversations whose later turns carry the
//! history, traffic classes drawn by weight with their own figures, prompt sets and length
//! distributions; and bad prompt files, traces and classes refused with one line naming
//! the file, the line and the field (exit 2).

use serde_json::{json, Value};

use crate::fixture::{exclusive, run, run_plain, write_json};

fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// The `q` quantile of `values` (nearest rank).
fn quantile(mut values: Vec<f64>, q: f64) -> f64 {
    values.sort_by(f64::total_cmp);
    values[((values.len() as f64 * q).ceil() as usize).saturating_sub(1)]
}

#[test]
fn a_trace_is_sent_on_its_recorded_offsets() {
    let _quiet = exclusive();
    let r = run(&["run", "scenarios/sim-trace-replay.json"], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let requests = r.requests();
    assert_eq!(requests.len(), 240, "every arrival of the trace");
    let lags: Vec<f64> = requests
        .iter()
        .map(|q| q["send_lag_ms"].as_f64().unwrap())
        .collect();
    let p99 = quantile(lags, 0.99);
    assert!(p99 <= 5.0, "send lag p99 {p99} ms");
    // Twice as fast: the trace's last arrival, 11.052 s after its first, at 5.526 s.
    let last = requests
        .iter()
        .map(|q| q["scheduled_ms"].as_f64().unwrap())
        .fold(0.0, f64::max);
    assert!(
        (last - 5526.0).abs() < 2.0,
        "last send scheduled at {last} ms"
    );
    let point = &r.result()["points"][0];
    assert_eq!(point["id"], "trace=trace-mooncake");
    assert_eq!(point["tokens"]["input_max_error"], 0, "exact trace lengths");
}

#[test]
fn a_conversations_later_turns_send_the_history() {
    let _quiet = exclusive();
    let r = run(&["run", "scenarios/sim-conversation.json"], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let turns = r.result()["points"][0]["turns"].clone();
    let input = |t: usize| turns[t]["tokens"]["input_mean"].as_f64().unwrap();
    assert_eq!(turns[0]["name"], "turn 1");
    // Each turn adds the reply (64 tokens) and a new 200-token message.
    assert_eq!((input(0), input(1), input(2)), (200.0, 464.0, 728.0));
    let ttft = |t: usize| turns[t]["latency_ms"]["ttft"]["p50"].as_f64().unwrap();
    assert!(
        ttft(2) > ttft(0),
        "a longer history takes longer to prefill"
    );
    let ids: Vec<String> = r
        .requests()
        .iter()
        .map(|q| q["request_id"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        ids.iter().any(|id| id.ends_with("-t2")),
        "turns have ids of their own"
    );
}

#[test]
fn classes_keep_their_own_lengths_figures_and_slo() {
    let _quiet = exclusive();
    let dir = tempfile::tempdir().unwrap();
    let file = write_json(
        dir.path(),
        "mixed.json",
        &json!({
            "name": "mixed", "target": {"embedded": "sim", "profile": "fixed-20ms"},
            "workload": {"prompt": {"seed": 3}, "classes": [
                {"name": "chat", "weight": 3, "input_tokens": 64, "output_tokens": 4,
                 "slo": {"ttft_ms": 10000}},
                {"name": "long", "weight": 1, "input_tokens": {"dist": "uniform", "min": 300, "max": 500},
                 "output_tokens": 8, "slo": {"ttft_ms": 1}}
            ]},
            "load": {"rate": [200], "requests": 400, "warmup": 0}
        }),
    );
    let r = run(&["run", &file], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let point = &r.result()["points"][0];
    let classes = point["classes"].as_array().unwrap();
    let total = |c: &Value| c["requests"]["total"].as_f64().unwrap();
    let share = total(&classes[1]) / 400.0;
    assert!((share - 0.25).abs() < 0.06, "long share {share}");
    assert_eq!(classes[0]["tokens"]["output_mean"], 4.0);
    let long_input = classes[1]["tokens"]["input_mean"].as_f64().unwrap();
    assert!((long_input - 400.0).abs() < 15.0, "{long_input}");
    // Chat meets its SLO, long never meets its 1 ms: goodput is the chat share.
    assert_eq!(point["goodput"]["met"], classes[0]["requests"]["ok"]);
    assert_eq!(point["goodput"]["total"], 400);
}

#[test]
fn prompt_sets_and_length_distributions_give_their_lengths() {
    let _quiet = exclusive();
    let r = run(&["run", "scenarios/sim-prompt-sets.json"], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // The simulator counts words: the fixture's first human turns and replies.
    let set: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(fixture("sharegpt.json")).unwrap()).unwrap();
    let words = |t: &Value| t["value"].as_str().unwrap().split_whitespace().count() as f64;
    let replies: Vec<f64> = set.iter().map(|c| words(&c["conversations"][1])).collect();
    let mean = replies.iter().sum::<f64>() / replies.len() as f64;
    let output = r.result()["points"][0]["tokens"]["output_mean"]
        .as_f64()
        .unwrap();
    assert!(
        (output - mean).abs() < 0.25 * mean,
        "output mean {output}, replies {mean}"
    );
    let dir = tempfile::tempdir().unwrap();
    let file = write_json(
        dir.path(),
        "lengths.json",
        &json!({
            "name": "lengths", "target": {"embedded": "sim", "profile": "fixed-20ms"},
            "workload": {"input_tokens": {"dist": "empirical", "values": [100, 300]},
                         "output_tokens": {"dist": "uniform", "min": 2, "max": 6},
                         "prompt": {"kind": "jsonl", "path": "x"}},
            "load": {"rate": [100], "requests": 200, "warmup": 0}
        }),
    );
    let (code, _, stderr) = run_plain(&["validate", &file]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("workload.input_tokens: not with prompts from a file"),
        "{stderr}"
    );
}

/// Writes `name` with `text` into `dir` and a scenario reading it with `prompt`.
fn scenario_with_file(
    dir: &std::path::Path,
    name: &str,
    text: &str,
    prompt: Value,
    workload: Value,
) -> String {
    std::fs::write(dir.join(name), text).unwrap();
    let mut workload = workload;
    workload["prompt"] = prompt;
    let load = match workload["prompt"]["kind"].as_str() {
        Some("trace") => json!({}),
        _ => json!({"concurrency": [1], "requests": 1}),
    };
    write_json(
        dir,
        "bad.json",
        &json!({"name": "bad", "target": {"embedded": "sim", "profile": "fixed-20ms"},
                "workload": workload, "load": load}),
    )
}

#[test]
fn bad_prompt_files_traces_and_weights_are_named_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = json!({"output_tokens": 4});
    let cases = [
        ("set.jsonl", "{\"prompt\": \"a\"}\n{\"prompt\": oops}\n", json!({"kind": "jsonl", "path": "set.jsonl"}), out.clone(),
         "set.jsonl:2: (line): not JSON: "),
        ("chat.jsonl", "{\"messages\": [{\"role\": \"system\", \"content\": \"s\"}]}\n", json!({"kind": "jsonl", "path": "chat.jsonl"}), out.clone(),
         "chat.jsonl:1: messages: no user turn"),
        ("gpt.json", "[\n{\"conversations\": [{\"from\": \"gpt\", \"value\": \"hi\"}]}\n]", json!({"kind": "sharegpt", "path": "gpt.json"}), out.clone(),
         "gpt.json:2: conversations: no user turn"),
        ("t.jsonl", "{\"timestamp\": 20, \"input_length\": 9, \"output_length\": 2}\n{\"timestamp\": 10, \"input_length\": 9, \"output_length\": 2}\n",
         json!({"kind": "trace", "path": "t.jsonl"}), json!({}),
         "t.jsonl:2: timestamp: decreases: 0.010 s after 0.020 s on line 1"),
    ];
    for (name, text, prompt, workload, expected) in cases {
        let file = scenario_with_file(d, name, text, prompt, workload);
        for command in ["validate", "run"] {
            let (code, _, stderr) = run_plain(&[command, &file]);
            assert_eq!(code, 2, "{command}: {stderr}");
            let line = stderr.lines().find(|l| l.contains(expected));
            assert!(
                line.is_some_and(|l| l.contains(&d.join(name).display().to_string())),
                "{expected}: {stderr}"
            );
        }
    }
    let weights = json!({"classes": [{"name": "a", "weight": 0, "input_tokens": 8, "output_tokens": 2},
                                     {"name": "b", "weight": 0, "input_tokens": 8, "output_tokens": 2}]});
    let file = write_json(
        d,
        "weights.json",
        &json!({"name": "w", "target": {"embedded": "sim", "profile": "fixed-20ms"},
                "workload": weights, "load": {"concurrency": [1], "requests": 1}}),
    );
    let (code, _, stderr) = run_plain(&["validate", &file]);
    assert_eq!(code, 2);
    assert!(
        stderr
            .contains("weights.json: workload.classes: the weights must sum to a positive number"),
        "{stderr}"
    );
    let own_model = json!({"classes": [{"name": "a", "weight": 1, "input_tokens": 8, "output_tokens": 2, "model": "other"}]});
    let file = write_json(
        d,
        "triton.json",
        &json!({"name": "t", "target": {"embedded": "sim", "profile": "fixed-20ms", "api": "triton"},
                "workload": own_model, "load": {"concurrency": [1], "requests": 1}}),
    );
    let (code, _, stderr) = run_plain(&["validate", &file]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("triton.json: workload.classes[0].model: not with `target.api: triton`"),
        "{stderr}"
    );
}
