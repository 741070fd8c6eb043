//! Usage errors: one clear line naming the flag or field, exit code 2. Scenario files in
//! `scenarios/` are valid and the committed JSON Schema is current.

use std::path::Path;

use crate::fixture::run_plain;

fn assert_usage_error(args: &[&str], names: &str) {
    let (code, stdout, stderr) = run_plain(args);
    assert_eq!(code, 2, "{args:?}: {stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one line expected: {stderr}");
    assert!(
        lines[0].contains(names),
        "`{}` should name {names}",
        lines[0]
    );
}

#[test]
fn bad_flags_are_one_line_and_exit_2() {
    assert_usage_error(
        &["run", "--server", "http://127.0.0.1:1", "--bogus"],
        "--bogus",
    );
    assert_usage_error(&["run", "--model", "m"], "--server");
    assert_usage_error(
        &[
            "run",
            "--server",
            "http://127.0.0.1:1",
            "--concurrency",
            "0",
        ],
        "--concurrency",
    );
    assert_usage_error(
        &[
            "run",
            "--server",
            "http://127.0.0.1:1",
            "--goodput",
            "ttft=5",
        ],
        "--goodput",
    );
    assert_usage_error(
        &[
            "run",
            "--server",
            "http://127.0.0.1:1",
            "--arrival",
            "poisson",
        ],
        "--request-rate",
    );
    assert_usage_error(&["run", "--server", "not a url"], "--server");
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

const SCENARIO: &str = r#"{
  "name": "t",
  "target": {"base_url": "http://127.0.0.1:1"},
  "workload": {"input_tokens": [64], "output_tokens": 8},
  "load": {"concurrency": [1], "requests": 2}
}"#;

#[test]
fn bad_scenario_fields_name_file_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let unknown = write(
        dir.path(),
        "unknown.json",
        &SCENARIO.replace("\"requests\"", "\"requestz\""),
    );
    assert_usage_error(
        &["run", &unknown],
        "unknown.json: load.requestz: unknown field `requestz`",
    );
    assert_usage_error(&["validate", &unknown], "unknown field `requestz`");
    let wrong = write(
        dir.path(),
        "wrong.json",
        &SCENARIO.replace("[64]", "[\"many\"]"),
    );
    assert_usage_error(&["run", &wrong], "wrong.json: workload.input_tokens");
    let both = write(
        dir.path(),
        "both.json",
        &SCENARIO.replace("\"requests\": 2", "\"requests\": 2, \"duration_s\": 5"),
    );
    assert_usage_error(
        &["validate", &both],
        "both.json: load: give exactly one of `requests` or `duration_s`",
    );
    assert_usage_error(
        &["run", &format!("{}/missing.json", dir.path().display())],
        "missing.json: cannot read",
    );
    let slo = SCENARIO.replace(
        "\"name\": \"t\",",
        "\"name\": \"t\", \"thresholds\": {\"ttft_ms\": [\"p95 < 2000\"]},",
    );
    let slo = write(dir.path(), "slo.json", &slo);
    assert_usage_error(
        &["validate", &slo],
        "slo.json: thresholds.ttft_ms[0]: expected `STAT OP NUMBER`",
    );
    let preset = SCENARIO.replace(
        "\"name\": \"t\",",
        "\"name\": \"t\", \"thresholds\": \"sla\",",
    );
    let preset = write(dir.path(), "preset.json", &preset);
    let (code, _, stderr) = run_plain(&["validate", &preset]);
    assert_eq!(code, 0, "{stderr}");
    let compare = SCENARIO.replace(
        "\"name\": \"t\",",
        "\"name\": \"t\", \"compare\": {\"ttft_ms.p42\": {\"warn_pct\": 5, \"fail_pct\": 10}},",
    );
    let compare = write(dir.path(), "compare.json", &compare);
    assert_usage_error(
        &["validate", &compare],
        "compare.json: compare.ttft_ms.p42: unknown metric",
    );
    let good = write(dir.path(), "good.json", SCENARIO);
    assert_usage_error(&["run", &good, "--concurrency", "4"], "--concurrency");
    for (name, extra, message) in [
        (
            "placeholder.json",
            r#""server": {"command": ["vllm", "--tp", "{tp}"]},"#,
            "placeholder.json: server.command[2]: `{tp}` is neither a matrix variable nor `{port}`",
        ),
        (
            "reserved.json",
            r#""server": {"command": ["vllm"]}, "matrix": {"port": [1]},"#,
            "reserved.json: matrix.port: is set by the harness",
        ),
        (
            "empty.json",
            r#""server": {"command": ["vllm"]}, "matrix": {"tp": []},"#,
            "empty.json: matrix.tp: must list at least one value",
        ),
        (
            "ready.json",
            r#""server": {"command": ["vllm"], "ready": {"path": "health"}},"#,
            "ready.json: server.ready.path: expected a path such as /health",
        ),
        (
            "brace.json",
            r#""server": {"command": ["vllm", "{tp"]}, "matrix": {"tp": [1]},"#,
            "brace.json: server.command[1]: `{tp`: unclosed `{`",
        ),
    ] {
        let text = SCENARIO.replace("\"name\": \"t\",", &format!("\"name\": \"t\", {extra}"));
        let file = write(dir.path(), name, &text);
        assert_usage_error(&["validate", &file], message);
    }
}

#[test]
fn shipped_scenarios_validate() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.extension().is_some_and(|e| e == "json") && !p.ends_with("scenario.schema.json")
        })
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    assert!(!files.is_empty());
    let mut args = vec!["validate"];
    args.extend(files.iter().map(String::as_str));
    let (code, stdout, stderr) = run_plain(&args);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout.lines().count(), files.len());
}

#[test]
fn committed_schema_is_current() {
    let (code, stdout, _) = run_plain(&["schema"]);
    assert_eq!(code, 0);
    let committed = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/scenario.schema.json"),
    )
    .unwrap();
    assert!(
        stdout == committed,
        "stale: regenerate with `cargo run -- schema > scenarios/scenario.schema.json`"
    );
}

#[test]
fn baseline_update_writes_baselines_and_refuses_unusable_results() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/llamacpp-smollm2.result.json"
    );
    let baselines = dir.path().join("baselines");
    let baselines = baselines.to_str().unwrap();
    let (code, stdout, stderr) =
        run_plain(&["baseline", "update", fixture, "--baselines", baselines]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("llamacpp-smollm2.json: updated"),
        "{stdout}"
    );
    let text = std::fs::read_to_string(fixture).unwrap();
    let newer = write(
        dir.path(),
        "newer.json",
        &text.replacen("\"schema_version\": 1", "\"schema_version\": 9", 1),
    );
    assert_usage_error(
        &["baseline", "update", &newer, "--baselines", baselines],
        "newer.json: written with schema_version 9",
    );
    let corrupt = write(dir.path(), "corrupt.json", &text[..text.len() / 2]);
    assert_usage_error(
        &["baseline", "update", &corrupt, "--baselines", baselines],
        "corrupt.json: not a result file",
    );
}

/// Every `*.json` in `scenarios/`, the JSON Schema included, as `scenarios/*.json` gives.
fn scenario_glob() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    files.sort();
    files
}

#[test]
fn validate_skips_the_json_schema_that_the_glob_takes() {
    let files = scenario_glob();
    assert!(files.iter().any(|f| f.ends_with("scenario.schema.json")));
    let mut args = vec!["validate"];
    args.extend(files.iter().map(String::as_str));
    let (code, stdout, stderr) = run_plain(&args);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
    assert_eq!(stdout.lines().count(), files.len(), "{stdout}");
    assert!(
        stdout.contains("scenario.schema.json: skipped (a JSON Schema, not a scenario)"),
        "{stdout}"
    );
}

#[test]
fn a_goodput_threshold_without_an_slo_is_rejected_at_validation() {
    let dir = tempfile::tempdir().unwrap();
    let thresholds = r#""thresholds": {"goodput": ["ratio > 0.9"]},"#;
    let text = SCENARIO.replace(
        "\"name\": \"t\",",
        &format!("\"name\": \"t\", {thresholds}"),
    );
    let file = write(dir.path(), "goodput.json", &text);
    assert_usage_error(
        &["validate", &file],
        "goodput.json: thresholds.goodput[0]: needs an `slo`",
    );
    assert_usage_error(&["run", &file], "goodput.json: thresholds.goodput[0]");
    let with_slo = text.replace(
        thresholds,
        &format!(r#"{thresholds} "slo": {{"ttft_ms": 500}},"#),
    );
    let file = write(dir.path(), "with-slo.json", &with_slo);
    let (code, _, stderr) = run_plain(&["validate", &file]);
    assert_eq!(code, 0, "{stderr}");
}

/// Runs the binary with its standard output a pipe whose reader has already gone (as
/// `| head -1` leaves it); returns the exit code and standard error.
fn with_closed_stdout(args: &[&str]) -> (i32, String) {
    use std::os::fd::{FromRawFd, OwnedFd};
    let mut fds = [0; 2];
    // SAFETY: pipe() writes two new descriptors into `fds`.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    // SAFETY: both descriptors are open and owned by nothing else.
    let (reader, writer) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    drop(reader);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_llm-loadtest"))
        .args(args)
        .stdout(writer)
        .stderr(std::process::Stdio::piped())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn output_ends_quietly_on_a_closed_pipe() {
    let files = scenario_glob();
    let result = crate::fixture::REAL_RESULT;
    let validate: Vec<&str> = std::iter::once("validate")
        .chain(files.iter().map(String::as_str))
        .collect();
    for args in [
        &["schema"][..],
        &validate,
        &["info"],
        &["report", result],
        &["report", result, "--format", "html"],
        &["compare", result, "--baselines", "/nonexistent"],
    ] {
        let (code, stderr) = with_closed_stdout(args);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(!stderr.contains("Broken pipe"), "{args:?}: {stderr}");
        if args[0] != "compare" {
            assert_eq!(code, 0, "{args:?}: {stderr}");
        }
    }
}

#[test]
fn a_run_whose_reader_has_gone_still_writes_its_result() {
    let server = crate::fixture::timed_server(crate::fixture::Timing {
        first_token_ms: 5,
        itl_ms: 1,
        stall_after: None,
        crowding: None,
    });
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("result.json");
    let url = format!("http://{server}");
    let (code, stderr) = with_closed_stdout(&[
        "run",
        "--server",
        &url,
        "--model",
        "m",
        "-n",
        "2",
        "--warmup",
        "0",
        "--output-len",
        "4",
        "--tokenizer",
        "cl100k_base",
        "-o",
        output.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stderr}");
    let result: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&output).unwrap()).unwrap();
    assert_eq!(result["points"][0]["requests"]["ok"], 2, "{stderr}");
    assert_eq!(result["partial"], false);
}

/// `--log-format json`: every line on standard error is one JSON object, carrying the
/// command and its request id; the error is one of them.
#[test]
fn json_logs_are_one_object_per_line_with_the_command() {
    let (code, _, stderr) = run_plain(&["--log-format", "json", "report", "/no/such/result.json"]);
    assert_eq!(code, 2, "{stderr}");
    let lines: Vec<serde_json::Value> = stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    let line = &lines[0];
    assert_eq!(line["level"], "ERROR");
    assert!(line["error"]
        .as_str()
        .unwrap()
        .contains("/no/such/result.json"));
    assert_eq!(line["span"]["command"], "report");
    assert_eq!(line["span"]["request_id"].as_str().unwrap().len(), 36);
    assert_usage_error(&["--log-format", "xml", "info"], "--log-format");
    assert_usage_error(&["serve", "--bind", "0.0.0.0", "--port", "0"], "API_KEY");
}
