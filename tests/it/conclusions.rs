//! The reports' conclusions tested where the answer is known, on the embedded simulator:
//! chunked prefill lowers ITL p99 and TP lowers TPOT (the default chunked-prefill × TP
//! sweep), an SLO that breaks past a known concurrency (a KV cache that holds four
//! requests), a configuration that runs out of GPU memory, and a run too small to conclude
//! anything. Each is read from `report --format json` and from the Markdown.

use serde_json::{json, Value};

use crate::fixture::{exclusive, run, run_plain, write_json};

/// Runs `scenario` on the simulator; its result file and its report's conclusions.
fn concluded(scenario: &Value) -> (String, Vec<Value>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let file = write_json(dir.path(), "scenario.json", scenario);
    let r = run(&["run", &file], &[]);
    assert!(r.result_path().exists(), "{}", r.stderr);
    let result = r.result_path().display().to_string();
    let copy = dir.path().join("result.json");
    std::fs::copy(&result, &copy).unwrap();
    let (code, report, stderr) =
        run_plain(&["report", &copy.display().to_string(), "--format", "json"]);
    assert_eq!(code, 0, "{stderr}");
    let report: Value = serde_json::from_str(&report).unwrap();
    let conclusions = report["scenarios"][0]["conclusions"]
        .as_array()
        .unwrap()
        .clone();
    (copy.display().to_string(), conclusions, dir)
}

/// The conclusion on `topic`: its text and whether the data supports it.
fn on(conclusions: &[Value], topic: &str) -> (String, bool) {
    let c = conclusions
        .iter()
        .find(|c| c["topic"] == topic)
        .unwrap_or_else(|| panic!("no conclusion on {topic}: {conclusions:#?}"));
    (
        c["text"].as_str().unwrap().to_owned(),
        c["supported"] == true,
    )
}

#[test]
fn chunked_prefill_lowers_itl_p99_and_tp_lowers_tpot() {
    let _quiet = exclusive();
    let text = std::fs::read_to_string("scenarios/sim-chunked-prefill-tp.json").unwrap();
    let (file, conclusions, _dir) = concluded(&serde_json::from_str(&text).unwrap());
    let (chunked, supported) = on(&conclusions, "Chunked prefill");
    assert!(supported, "{chunked}");
    assert!(
        chunked.contains("ITL p99: lower in 2 of 2 pairs beyond its interval"),
        "{chunked}"
    );
    let (largest, supported) = on(&conclusions, "Largest effect on ITL p99");
    assert!(supported && largest.starts_with("ITL p99 moved most with chunked_prefill: chunked_prefill=on vs chunked_prefill=off, -"), "{largest}");
    let (tp, supported) = on(&conclusions, "Tensor parallelism");
    assert!(supported, "{tp}");
    assert_eq!(
        tp.matches("TPOT p50 -").count(),
        2,
        "TP 2 lowers TPOT in both pairs: {tp}"
    );
    assert_eq!(tp.matches("scaling efficiency").count(), 2, "{tp}");
    let (batched, supported) = on(&conclusions, "max_num_batched_tokens");
    assert!(
        !supported && batched.contains("was not varied"),
        "{batched}"
    );
    let (recommended, supported) = on(&conclusions, "Recommended configuration");
    assert!(
        supported && recommended.contains("Rule (no SLO is set)"),
        "{recommended}"
    );
    let (_, md, _) = run_plain(&["report", &file]);
    assert!(md.contains("### Conclusions"), "{md}");
    assert!(
        md.contains("- **Chunked prefill.** Turning chunked prefill on: "),
        "{md}"
    );
}

#[test]
fn the_load_limit_is_the_last_concurrency_before_the_slo_breaks() {
    let _quiet = exclusive();
    // 5,000 tokens of KV cache hold four requests of 1,000 + 32 tokens: up to concurrency
    // 4 the first token comes within 160 ms (prefills queue behind each other), well under
    // the SLO of 250 ms; at 8, half the requests wait a whole request (~440 ms) for room
    // in the cache.
    let scenario = json!({
        "name": "slo-break",
        "target": {"embedded": "sim", "profile": "h100-llama3-8b"},
        "matrix": {"kv_capacity_tokens": [5000]},
        "workload": {"input_tokens": [1000], "output_tokens": 32},
        "load": {"concurrency": [1, 2, 4, 8], "requests": 40, "warmup": 2},
        "slo": {"ttft_ms": 250}
    });
    let (_, conclusions, _dir) = concluded(&scenario);
    let (limit, supported) = on(&conclusions, "Load limit");
    assert!(supported, "{limit}");
    assert!(
        limit.starts_with(
            "The SLO is met when goodput of at least 95% (no goodput threshold is set)."
        ),
        "{limit}"
    );
    assert!(limit.contains(": c=4 is the highest load that met it (goodput 100.0%, 40 of 40); at c=8 it broke (goodput "), "{limit}");
    let (memory, supported) = on(&conclusions, "GPU memory");
    assert!(
        supported && memory.contains("kv_capacity_tokens=5000, with up to"),
        "{memory}"
    );
    assert!(
        memory.ends_with("memory, not compute, limited that point."),
        "{memory}"
    );
}

#[test]
fn a_configuration_out_of_gpu_memory_is_named_and_left_out() {
    let _quiet = exclusive();
    let scenario = json!({
        "name": "oom",
        "target": {"embedded": "sim", "profile": "h100-llama3-8b"},
        "matrix": {"gpu_memory_utilization": [0.9, 0.2]},
        "workload": {"input_tokens": [500], "output_tokens": 16},
        "load": {"concurrency": [2], "requests": 20, "warmup": 1}
    });
    let (_, conclusions, _dir) = concluded(&scenario);
    let (memory, supported) = on(&conclusions, "GPU memory");
    assert!(supported, "{memory}");
    assert!(memory.starts_with("gpu_memory_utilization=0.2 was not measured (1 point lost): cannot start the simulator: out of memory: gpu_memory_utilization 0.2 gives the engine 16.0 GiB of each 80 GiB GPU"), "{memory}");
    let (recommended, _) = on(&conclusions, "Recommended configuration");
    assert!(
        recommended.starts_with("gpu_memory_utilization=0.9: "),
        "{recommended}"
    );
    assert!(
        recommended.ends_with("Left out: gpu_memory_utilization=0.2 (not measured)."),
        "{recommended}"
    );
}

#[test]
fn a_run_too_small_concludes_nothing() {
    let _quiet = exclusive();
    let scenario = json!({
        "name": "tiny",
        "target": {"embedded": "sim", "profile": "h100-llama3-8b"},
        "matrix": {"chunked_prefill": [true, false]},
        "workload": {"input_tokens": [500], "output_tokens": 8},
        "load": {"concurrency": [1, 2], "requests": 3, "warmup": 0},
        "slo": {"ttft_ms": 100}
    });
    let (_, conclusions, _dir) = concluded(&scenario);
    let topics: Vec<&str> = conclusions
        .iter()
        .map(|c| c["topic"].as_str().unwrap())
        .collect();
    assert_eq!(topics, ["Too small to conclude", "GPU memory"]);
    let (small, supported) = on(&conclusions, "Too small to conclude");
    assert!(!supported, "{small}");
    assert!(small.starts_with("This run is too small to conclude anything: its largest point has 3 successful requests, and a conclusion needs at least 20 per point"), "{small}");
}
