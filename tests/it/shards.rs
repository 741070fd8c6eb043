//! Shards: four processes each running its share of one plan against one simulator
//! (`run --shard I/4 --start-at`), merged (`merge`) into what one process measures at the
//! same total load (against the emitter, whose pacing does not hang on how arrivals from
//! four processes fall between an engine's steps): counts and tokens exact, latency percentiles within the run-to-run
//! spread, the merged histograms equal to the union of the shards' request logs; a shard
//! killed mid-run fails the merge naming it, a late one is flagged with its skew, and
//! shards of other plans, seeds or counts are refused.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, SystemTime};

use llm_loadtest::metrics::LatencyHistogram;
use serde_json::Value;

use crate::fixture::{exclusive, run_plain, spawn_sim};

const PLAN: &str =
    "--model m --concurrency 8 --num-prompts 96 --input-len 64 --output-len 16 --warmup 4 --seed 7";

/// `run` against `url` with `flags`, writing `dir/name.json` and `dir/name.jsonl`; not
/// waited for.
fn spawn_run(url: &str, dir: &Path, name: &str, flags: &str) -> Child {
    Command::new(assert_cmd::cargo::cargo_bin("llm-loadtest"))
        .args(["run", "--server", url])
        .args(flags.split_whitespace())
        .arg("--output")
        .arg(dir.join(format!("{name}.json")))
        .arg("--requests-out")
        .arg(dir.join(format!("{name}.jsonl")))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn finish(child: Child) -> (i32, String) {
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// An RFC 3339 time `seconds` from now.
fn in_seconds(seconds: u64) -> String {
    humantime::format_rfc3339_millis(SystemTime::now() + Duration::from_secs(seconds)).to_string()
}

fn read(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Runs the four shards of the plan, starting together at `start_at`; their result paths.
fn run_shards(url: &str, dir: &Path, start_at: &str) -> Vec<PathBuf> {
    let children: Vec<Child> = (0..4)
        .map(|i| {
            let flags = format!("{PLAN} --shard {i}/4 --start-at {start_at}");
            spawn_run(url, dir, &format!("shard{i}"), &flags)
        })
        .collect();
    for (i, child) in children.into_iter().enumerate() {
        let (code, stderr) = finish(child);
        assert_eq!(code, 0, "shard {i}: {stderr}");
    }
    (0..4).map(|i| dir.join(format!("shard{i}.json"))).collect()
}

fn merge(shards: &[PathBuf], out: &Path) -> (i32, String, String) {
    let mut args = vec!["merge".to_owned()];
    args.extend(shards.iter().map(|p| p.display().to_string()));
    args.extend(["-o".to_owned(), out.display().to_string()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    run_plain(&args)
}

/// Every TTFT of the shards' request logs, in microseconds.
fn logged_ttft_us(dir: &Path) -> LatencyHistogram {
    let mut h = LatencyHistogram::default();
    for i in 0..4 {
        let log = std::fs::read_to_string(dir.join(format!("shard{i}.jsonl"))).unwrap();
        for line in log.lines() {
            let request: Value = serde_json::from_str(line).unwrap();
            h.record_us((request["ttft_ms"].as_f64().unwrap() * 1000.0).round() as u64);
        }
    }
    h
}

#[test]
fn four_shards_merge_into_what_one_process_measures() {
    let _quiet = exclusive();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (mut sim, url) = spawn_sim(&["--emit-first-token-ms", "50", "--emit-interval-ms", "20"]);
    let (code, stderr) = finish(spawn_run(&url, d, "single", PLAN));
    assert_eq!(code, 0, "{stderr}");
    // Time for four processes to start and warm up on a busy machine.
    let shards = run_shards(&url, d, &in_seconds(8));
    let merged_path = d.join("merged.json");
    let (code, stdout, stderr) = merge(&shards, &merged_path);
    sim.kill().unwrap();
    let _ = sim.wait();
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("merged 4 shards (1 points, 96 requests)"),
        "{stdout}"
    );
    let (single, merged) = (read(&d.join("single.json")), read(&merged_path));
    let provenance = merged["shards"].as_array().unwrap();
    assert_eq!(provenance.len(), 4);
    for shard in provenance {
        assert!(shard["start_skew_ms"].as_f64().unwrap() < 50.0, "{shard}");
        assert!(shard["late_ms"].as_f64().unwrap() < 50.0, "{shard}");
    }
    let (one, all) = (&single["points"][0], &merged["points"][0]);
    assert_eq!(all["id"], one["id"]);
    assert_eq!(all["requests"]["ok"], 96, "{}", all["requests"]);
    for field in ["input_mean", "output_mean"] {
        assert_eq!(all["tokens"][field], one["tokens"][field], "{field}");
    }
    let p50 = |p: &Value, name: &str| p["latency_ms"][name]["p50"].as_f64().unwrap();
    for name in ["ttft", "itl", "tpot"] {
        let (a, b) = (p50(one, name), p50(all, name));
        eprintln!("{name} p50: one process {a} ms, four shards merged {b} ms");
        assert!((a - b).abs() <= 2.0, "{name} p50: {a} vs {b}");
    }
    let throughput = |p: &Value| p["throughput"]["output_tokens_per_s"].as_f64().unwrap();
    eprintln!(
        "output tokens/s: one process {}, merged {}",
        throughput(one),
        throughput(all)
    );
    assert!((throughput(all) / throughput(one) - 1.0).abs() < 0.15);
    // The merged histogram is the union of the shards' request logs.
    let merged_ttft =
        LatencyHistogram::from_base64(all["histograms"]["ttft"].as_str().unwrap()).unwrap();
    let logged = logged_ttft_us(d);
    assert_eq!(merged_ttft.samples_ms(96), logged.samples_ms(96));
    assert_eq!(merged_ttft.summary(), logged.summary());
}

#[test]
fn a_killed_shard_fails_the_merge_and_a_late_one_is_flagged() {
    let _quiet = exclusive();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (mut sim, url) = spawn_sim(&["--profile", "fixed-20ms"]);
    // Two points, each window 3 s long and 6 s apart from T (5 s from now, time for
    // three processes to start and warm up); shard 3 is started 2 s after T, and shard 1
    // is killed during the second window (T + 6 to T + 9).
    let timed = format!(
        "--model m --concurrency 4,8 --duration 3 --input-len 64 --output-len 16 --warmup 2 --seed 7 --start-at {} --point-interval 6",
        in_seconds(5)
    );
    let spawn = |i: usize| {
        spawn_run(
            &url,
            d,
            &format!("shard{i}"),
            &format!("{timed} --shard {i}/4"),
        )
    };
    let mut children: Vec<Child> = (0..3).map(spawn).collect();
    std::thread::sleep(Duration::from_secs(7));
    children.push(spawn(3));
    std::thread::sleep(Duration::from_millis(5500));
    children[1].kill().unwrap();
    let results: Vec<(i32, String)> = children.into_iter().map(finish).collect();
    sim.kill().unwrap();
    let _ = sim.wait();
    assert!(
        results[3].1.contains("after the barrier"),
        "{}",
        results[3].1
    );
    let shards: Vec<PathBuf> = (0..4).map(|i| d.join(format!("shard{i}.json"))).collect();
    let (code, _, stderr) = merge(&shards, &d.join("merged.json"));
    assert_eq!(code, 2);
    assert!(stderr.contains("shard 1 ("), "{stderr}");
    assert!(stderr.contains("did not finish"), "{stderr}");
    assert!(!d.join("merged.json").exists(), "nothing written");
    // Without the killed shard, shard 1 is missing; shard 3 says how late it started.
    let (code, _, stderr) = merge(
        &[shards[0].clone(), shards[2].clone(), shards[3].clone()],
        &d.join("m.json"),
    );
    assert_eq!(code, 2);
    assert!(stderr.contains("shard 1 of 4 is missing"), "{stderr}");
    let window = |i: usize, point: usize| read(&shards[i])["points"][point]["window"].clone();
    let late_ms = window(3, 0)["late_ms"].as_f64().unwrap();
    assert!(
        late_ms > 1000.0,
        "shard 3 started {late_ms} ms after its barrier"
    );
    assert!(window(0, 0)["late_ms"].as_f64().unwrap() < 50.0);
    assert!(
        window(3, 1)["late_ms"].as_f64().unwrap() < 50.0,
        "back in step at the next point"
    );
}

#[test]
fn shards_of_other_plans_seeds_or_counts_are_refused() {
    let _quiet = exclusive();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (mut sim, url) = spawn_sim(&["--profile", "fixed-20ms"]);
    let quick =
        "--model m --num-prompts 8 --concurrency 2 --input-len 16 --output-len 4 --warmup 0";
    let children = [
        spawn_run(&url, d, "a0", &format!("{quick} --seed 7 --shard 0/2")),
        spawn_run(&url, d, "a1", &format!("{quick} --seed 7 --shard 1/2")),
        spawn_run(&url, d, "b1", &format!("{quick} --seed 8 --shard 1/2")),
        spawn_run(&url, d, "c1", &format!("{quick} --seed 7 --shard 1/3")),
        spawn_run(&url, d, "plain", &format!("{quick} --seed 7")),
    ];
    for child in children {
        assert_eq!(finish(child).0, 0);
    }
    sim.kill().unwrap();
    let _ = sim.wait();
    let file = |name: &str| d.join(format!("{name}.json"));
    let cases = [
        (vec!["a0", "b1"], "another seed (8) than"),
        (vec!["a0", "c1"], "a shard of 3, but"),
        (vec!["a0", "plain"], "not a shard's result"),
        (vec!["a0", "a0"], "shard 0 given twice"),
    ];
    for (names, expected) in cases {
        let paths: Vec<PathBuf> = names.iter().map(|n| file(n)).collect();
        let (code, _, stderr) = merge(&paths, &d.join("m.json"));
        assert_eq!(code, 2, "{names:?}: {stderr}");
        assert!(stderr.contains(expected), "{names:?}: {stderr}");
    }
    let (code, _, stderr) = merge(&[file("a1"), file("a0")], &d.join("m.json"));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(read(&d.join("m.json"))["points"][0]["requests"]["ok"], 8);
    let a0 = file("a0").display().to_string();
    let (code, _, stderr) = run_plain(&["compare", &a0]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("one shard's result; merge the shards first"),
        "{stderr}"
    );
    let (code, _, stderr) = run_plain(&["run", "--server", "http://127.0.0.1:9", "--shard", "0/2"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("--shard: needs --seed"), "{stderr}");
}
