//! Server sweeps against the real llama-server binary (when `LLM_LOADTEST_REAL_SERVER` says
//! `.ci/run` built one): the harness launches one server per configuration, and a server
//! with a bad flag, one that never becomes ready and one killed during a point each fail
//! their own points with the reason and the log's tail while the other configurations are
//! measured; the exit code says so; no server process outlives the run, Ctrl-C included.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::fixture::{exclusive, write_json};

/// Marks every server these tests launch, so that leftovers can be found.
const MARKER: &str = "llm-loadtest-sweep-test";

fn llama_server_built() -> bool {
    if std::env::var_os("LLM_LOADTEST_REAL_SERVER").is_none() {
        eprintln!("LLM_LOADTEST_REAL_SERVER is not set: the server-sweep tests do not run");
        return false;
    }
    true
}

/// A launcher script: `bash SCRIPT PORT` ends in llama-server on PORT with `extra` flags;
/// with `die_after`, the server is killed (SIGKILL) that many seconds after it starts.
fn launcher(dir: &Path, name: &str, extra: &str, die_after: Option<u32>) -> String {
    let repo = env!("CARGO_MANIFEST_DIR");
    let killer = die_after.map_or(String::new(), |s| format!("(sleep {s}; kill -9 $$) &\n"));
    let script = format!(
        "{killer}exec bash {repo}/scripts/llama-server.sh exec --port \"$1\" --alias {MARKER} \
         --parallel 2 --ctx-size 4096 --metrics {extra}\n"
    );
    let path = dir.join(name);
    std::fs::write(&path, script).unwrap();
    path.to_string_lossy().into_owned()
}

fn scenario(launchers: &[String], duration_s: f64) -> Value {
    json!({
        "name": "sweep-faults",
        "target": {"base_url": "http://127.0.0.1:{port}"},
        "server": {
            "command": ["bash", "{launcher}", "{port}"],
            "ready": {"path": "/health", "timeout_s": 5},
            "stop": {"grace_s": 5}
        },
        "matrix": {"launcher": launchers},
        "workload": {"input_tokens": [64, 128], "output_tokens": 16},
        "load": {"concurrency": [1], "duration_s": duration_s, "warmup": 1, "timeout_s": 30}
    })
}

fn leftover_servers() -> Vec<String> {
    let out = Command::new("pgrep")
        .args(["-af", MARKER])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.contains("pgrep"))
        .map(str::to_owned)
        .collect()
}

/// Waits until nothing of ours runs (a process group takes a moment to be reaped).
fn assert_no_leftovers() {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !leftover_servers().is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(
        leftover_servers(),
        Vec::<String>::new(),
        "server processes left running"
    );
}

fn run_scenario(dir: &Path, scenario: &Value) -> (i32, String, Value) {
    let file = write_json(dir, "scenario.json", scenario);
    let output = dir.join("result.json");
    let out = assert_cmd::Command::cargo_bin("llm-loadtest")
        .unwrap()
        .args(["run", &file, "--output", output.to_str().unwrap()])
        .timeout(Duration::from_secs(300))
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    let result = serde_json::from_str(&std::fs::read_to_string(&output).unwrap()).unwrap();
    (out.status.code().unwrap_or(-1), text, result)
}

#[test]
fn failing_servers_fail_their_own_points_and_the_rest_is_measured() {
    if !llama_server_built() {
        return;
    }
    let _quiet = exclusive();
    let dir = tempfile::tempdir().unwrap();
    let launchers = [
        launcher(dir.path(), "a-ok.sh", "", None),
        launcher(dir.path(), "b-bad-flag.sh", "--no-such-flag", None),
        // Listens on another address: /health on 127.0.0.1 never answers.
        launcher(dir.path(), "c-never-ready.sh", "--host 127.0.0.2", None),
        launcher(dir.path(), "d-killed.sh", "", Some(4)),
    ];
    let (code, output, result) = run_scenario(dir.path(), &scenario(&launchers, 6.0));
    assert_eq!(code, 1, "points were not measured: {output}");
    assert!(
        output.contains("FAIL: 6 of 8 points were not measured"),
        "{output}"
    );
    let points = result["points"].as_array().unwrap();
    assert_eq!(points.len(), 8, "every planned point is in the result");
    let of = |name: &str| -> Vec<&Value> {
        points
            .iter()
            .filter(|p| p["params"]["launcher"].as_str().unwrap().ends_with(name))
            .collect()
    };
    for p in of("a-ok.sh") {
        assert!(p["failure"].is_null(), "{p}");
        assert!(p["requests"]["ok"].as_u64().unwrap() > 0);
        assert!(
            p["server_metrics"]["deltas"]["llamacpp:tokens_predicted_total"]
                .as_f64()
                .unwrap()
                > 0.0,
            "{}",
            p["server_metrics"]
        );
    }
    let reason = |p: &Value| {
        p["failure"]["reason"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    let tail = |p: &Value| p["failure"]["log_tail"].to_string();
    for p in of("b-bad-flag.sh") {
        assert!(
            reason(p).contains("exited before it was ready (exit status"),
            "{p}"
        );
        assert!(tail(p).contains("no-such-flag"), "the log says why: {p}");
    }
    for p in of("c-never-ready.sh") {
        assert!(reason(p).contains("not ready within 5 s"), "{p}");
    }
    let killed = of("d-killed.sh");
    assert!(
        reason(killed[0]).contains("died during the point: killed by SIGKILL"),
        "{}",
        killed[0]
    );
    assert!(
        killed[0]["requests"]["total"].as_u64().unwrap() > 0,
        "measured until it died"
    );
    assert_eq!(
        reason(killed[1]),
        reason(killed[0]),
        "the configuration's later points fail too"
    );
    let servers = result["servers"].as_array().unwrap();
    assert_eq!(servers.len(), 4);
    for s in servers {
        assert!(
            Path::new(s["log"].as_str().unwrap()).exists(),
            "log kept: {s}"
        );
        assert!(!s["command"].to_string().contains("{port}"), "{s}");
    }
    assert!(servers[0]["failure"].is_null() && servers[1]["failure"].is_object());
    assert_eq!(result["environment"]["server"]["args"][0], "bash");
    assert_no_leftovers();
}

#[test]
fn ctrl_c_stops_the_launched_server() {
    if !llama_server_built() {
        return;
    }
    let _quiet = exclusive();
    let dir = tempfile::tempdir().unwrap();
    let launchers = [launcher(dir.path(), "ok.sh", "", None)];
    let file = write_json(dir.path(), "scenario.json", &scenario(&launchers, 60.0));
    let output = dir.path().join("result.json");
    let binary = assert_cmd::cargo::cargo_bin("llm-loadtest");
    let mut child = Command::new(binary)
        .args(["run", &file, "--output", output.to_str().unwrap()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while leftover_servers().is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
    }
    std::thread::sleep(Duration::from_secs(4));
    // SAFETY: kill only sends SIGINT to the child this test started.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    assert_no_leftovers();
    let result: Value = serde_json::from_str(&std::fs::read_to_string(&output).unwrap()).unwrap();
    assert_eq!(result["partial"], true);
}
