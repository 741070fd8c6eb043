//! Nothing lost, nothing silently wrong: the reproductions of issue 13, each a test.
//! Earlier outputs survive a run that fails early; outputs never replace what is not a
//! regular file, an input or another output; results are checked before they are trusted
//! (histograms, names, versions, emptiness); hostile sizes are refused before anything is
//! allocated by them; messages name the file once and nothing else.

use std::path::Path;

use serde_json::{json, Value};

use crate::fixture::{real_result, run_plain, slowed, write_json, REAL_RESULT};

/// A port nothing listens on, whatever the other tests bind meanwhile (port 1: a privileged
/// port that no test binds).
const NOTHING_LISTENS: &str = "http://127.0.0.1:1";

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

/// The one line of a usage or input error, exit code 2.
fn one_line_error(args: &[&str]) -> String {
    let (code, _, stderr) = run_plain(args);
    assert_eq!(code, 2, "{args:?}: {stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{args:?}: {stderr}");
    stderr
}

/// [`one_line_error`] with the address space limited to 1 GB (`ulimit -v 1000000`): no
/// allocation a hostile value asks for is tried, let alone aborts.
fn one_line_error_within_1_gb(args: &[&str]) -> String {
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg("ulimit -v 1000000 && exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_llm-loadtest"))
        .args(args)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{args:?}: {stderr}");
    stderr
}

/// Item 1: A run that fails before its first point leaves earlier outputs as they were.
#[test]
fn a_run_that_fails_early_keeps_the_earlier_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let good = write(dir.path(), "good.json", "{\"earlier\": true}");
    let keep = write(dir.path(), "keep.jsonl", "{\"earlier\": 1}\n");
    let url = NOTHING_LISTENS.to_owned();
    let stderr = one_line_error(&[
        "run",
        "-s",
        &url,
        "-n",
        "2",
        "-o",
        &good,
        "--requests-out",
        &keep,
    ]);
    assert!(stderr.contains("cannot tell which model"), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(&good).unwrap(),
        "{\"earlier\": true}"
    );
    assert_eq!(
        std::fs::read_to_string(&keep).unwrap(),
        "{\"earlier\": 1}\n"
    );
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(left.len(), 2, "no temporary file is left behind");
}

/// Item 2 and 9: Stored histograms are decoded and checked before a result is trusted.
#[test]
fn corrupt_or_oversized_histograms_are_refused_not_compared() {
    let dir = tempfile::tempdir().unwrap();
    let baselines = dir.path().join("baselines");
    let (code, _, stderr) = run_plain(&[
        "baseline",
        "update",
        REAL_RESULT,
        "--baselines",
        baselines.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stderr}");
    let mut garbage = slowed(2.83);
    for name in ["ttft", "tpot", "itl", "e2e"] {
        garbage["points"][1]["histograms"][name] = "garbage".into();
    }
    let garbage = write_json(dir.path(), "garbage.json", &garbage);
    let stderr = one_line_error(&[
        "compare",
        &garbage,
        "--baselines",
        baselines.to_str().unwrap(),
    ]);
    assert!(
        stderr.contains("garbage.json: not a result file: points[1] (concurrency=4,input_tokens=512): histograms.ttft: not base64"),
        "{stderr}"
    );
    let stderr = one_line_error(&["baseline", "update", &garbage, "--baselines", "unused"]);
    assert!(
        stderr.contains("garbage.json: not a result file"),
        "{stderr}"
    );
    // 52 characters whose header claims 4 GiB: an error at once, not an allocation.
    let mut claim = real_result();
    claim["points"][0]["histograms"]["e2e"] =
        "HISTFP////8AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=".into();
    let claim = write_json(dir.path(), "claim.json", &claim);
    let stderr = one_line_error(&["report", &claim]);
    assert!(
        stderr.contains("histograms.e2e: not an HdrHistogram V2 encoding"),
        "{stderr}"
    );
    // Figures edited without their histograms: the counts disagree.
    let mut edited = real_result();
    edited["points"][0]["latency_ms"]["e2e"]["count"] = 3.into();
    let edited = write_json(dir.path(), "edited.json", &edited);
    let stderr = one_line_error(&["report", &edited]);
    assert!(
        stderr.contains("histograms.e2e: holds 16 values, while latency_ms.e2e.count is 3"),
        "{stderr}"
    );
}

/// Item 3: Empty and partial results are no baselines, and fail a comparison.
#[test]
fn empty_and_partial_results_fail_compare_and_are_no_baselines() {
    let dir = tempfile::tempdir().unwrap();
    let baselines = dir.path().join("baselines");
    let baselines = baselines.to_str().unwrap();
    let (code, _, stderr) =
        run_plain(&["baseline", "update", REAL_RESULT, "--baselines", baselines]);
    assert_eq!(code, 0, "{stderr}");
    let reports = dir.path().to_str().unwrap();
    let compare = |result: &str| {
        run_plain(&[
            "compare",
            result,
            "--baselines",
            baselines,
            "--reports",
            reports,
        ])
    };
    let mut empty = real_result();
    empty["points"] = json!([]);
    let empty = write_json(dir.path(), "empty.json", &empty);
    let (code, stdout, stderr) = compare(&empty);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        stdout.contains("incomplete run") && stdout.contains("the result holds no point"),
        "{stdout}"
    );
    assert!(stdout.trim_end().ends_with("FAIL"), "{stdout}");
    let stderr = one_line_error(&["baseline", "update", &empty, "--baselines", baselines]);
    assert!(
        stderr.contains("empty.json: the result holds no point"),
        "{stderr}"
    );
    let mut partial = real_result();
    partial["partial"] = true.into();
    let partial = write_json(dir.path(), "partial.json", &partial);
    let (code, stdout, _) = compare(&partial);
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("the run was interrupted"), "{stdout}");
}

/// Item 4: An output that is not a regular file is refused and left as it is.
#[test]
fn outputs_that_are_not_regular_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let target = write(dir.path(), "target.md", "keep");
    let link = dir.path().join("link.md");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    for (out, kind) in [
        (link.to_str().unwrap(), "a symbolic link"),
        ("/dev/null", "a device"),
        (dir.path().to_str().unwrap(), "a directory"),
    ] {
        let stderr = one_line_error(&["report", REAL_RESULT, "--out", out]);
        assert!(
            stderr.contains(&format!("cannot write {out}: it is {kind}")),
            "{stderr}"
        );
    }
    let url = NOTHING_LISTENS.to_owned();
    let stderr = one_line_error(&["run", "-s", &url, "-m", "m", "-n", "1", "-o", "/dev/null"]);
    assert!(
        stderr.contains("cannot write /dev/null: it is a device"),
        "{stderr}"
    );
    use std::os::unix::fs::FileTypeExt;
    assert!(std::fs::metadata("/dev/null")
        .unwrap()
        .file_type()
        .is_char_device());
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep");
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
}

/// Item 5: An output never overwrites an input or another output.
#[test]
fn outputs_never_overwrite_inputs_or_each_other() {
    let dir = tempfile::tempdir().unwrap();
    let url = NOTHING_LISTENS.to_owned();
    let same = dir.path().join("same.json");
    let same = same.to_str().unwrap();
    let stderr = one_line_error(&[
        "run",
        "-s",
        &url,
        "-m",
        "m",
        "-o",
        same,
        "--requests-out",
        same,
    ]);
    assert!(
        stderr.contains(&format!("--requests-out {same}: the same file as --output")),
        "{stderr}"
    );
    let result = write_json(dir.path(), "r.json", &real_result());
    let stderr = one_line_error(&["report", &result, "--out", &result]);
    assert!(stderr.contains("the same file as the result"), "{stderr}");
    let scenario = write(
        dir.path(),
        "s.json",
        r#"{"name": "s", "target": {"base_url": "http://127.0.0.1:1"},
            "workload": {"input_tokens": 8, "output_tokens": 4},
            "load": {"concurrency": [1], "requests": 1}}"#,
    );
    // The same file by another spelling.
    let other = format!("{}/./s.json", dir.path().display());
    let stderr = one_line_error(&["run", &scenario, "-o", &other]);
    assert!(stderr.contains("the same file as the scenario"), "{stderr}");
    assert!(std::fs::read_to_string(&scenario)
        .unwrap()
        .contains("\"name\": \"s\""));
}

/// Item 6: A scenario name read from a result is checked again before it names a file.
#[test]
fn a_scenario_name_from_a_result_never_becomes_a_path() {
    let dir = tempfile::tempdir().unwrap();
    let baselines = dir.path().join("bl");
    for (name, problem) in [
        ("../escaped", "must not contain path separators"),
        ("/tmp/anywhere", "must not contain path separators"),
        ("..", "must not be `.` or `..`"),
        ("red\u{1b}[31m", "must not contain control characters"),
    ] {
        let mut result = real_result();
        result["scenario"]["name"] = name.into();
        let file = write_json(dir.path(), "named.json", &result);
        let stderr = one_line_error(&[
            "baseline",
            "update",
            &file,
            "--baselines",
            baselines.to_str().unwrap(),
        ]);
        assert!(
            stderr.contains(&format!("scenario.name: {problem}")),
            "{name}: {stderr}"
        );
        assert!(!stderr.contains('\u{1b}'), "printed raw: {stderr:?}");
    }
    assert!(!dir.path().join("escaped.json").exists());
    assert!(!baselines.exists());
}

/// Item 8: Sizes a scenario or flag gives are bounded before anything is allocated by
/// them: under a 1 GB address space, each is one line of error.
#[test]
fn hostile_sizes_are_refused_in_one_line() {
    let url = NOTHING_LISTENS.to_owned();
    for concurrency in ["1000000", "4294967295"] {
        let stderr = one_line_error_within_1_gb(&[
            "run",
            "-s",
            &url,
            "-m",
            "m",
            "--concurrency",
            concurrency,
            "-n",
            "2",
        ]);
        assert!(
            stderr.contains("load.concurrency[0]: must be at least 1 and at most 100000"),
            "{stderr}"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let scenario = |name: &str, workload: &str, extra: &str| {
        let text = format!(
            r#"{{"name": "h", "target": {{"base_url": "http://127.0.0.1:1"}}, {extra}
                "workload": {workload}, "load": {{"concurrency": [1], "requests": 1}}}}"#
        );
        write(dir.path(), name, &text)
    };
    let long = scenario(
        "long.json",
        r#"{"input_tokens": 4294967295, "output_tokens": 4}"#,
        "",
    );
    let stderr = one_line_error_within_1_gb(&["validate", &long]);
    assert!(
        stderr.contains("workload.input_tokens[0]: must be at least 1 and at most 10000000"),
        "{stderr}"
    );
    let matrix: Vec<String> = (0..64).map(|i| format!("\"v{i}\": [1, 2]")).collect();
    let wide = scenario(
        "wide.json",
        r#"{"input_tokens": 8, "output_tokens": 4}"#,
        &format!("\"matrix\": {{{}}},", matrix.join(", ")),
    );
    let stderr = one_line_error_within_1_gb(&["validate", &wide]);
    assert!(stderr.contains("wide.json: matrix: the matrix × input lengths × load levels give more than 10000 points"), "{stderr}");
}

/// Item 8: A hundred thousand requests in flight (the most a scenario may ask) for two
/// requests: two senders, not a hundred thousand.
#[test]
fn concurrency_beyond_the_requests_costs_nothing() {
    let url = NOTHING_LISTENS.to_owned();
    let r = crate::fixture::run_against(
        &url,
        "--concurrency 100000 -n 2 --warmup 0 --input-len 8 --output-len 4 --tokenizer cl100k_base",
        &[],
    );
    assert_eq!(r.code, 1, "every request failed: {}", r.stderr);
    let rss = r.result()["client"]["peak_rss_mib"].as_f64().unwrap();
    assert!(rss < 200.0, "peak RSS {rss} MiB");
    assert_eq!(r.result()["points"][0]["requests"]["total"], 2);
}

/// Item 10: A full standard output ends quietly.
#[test]
fn a_full_stdout_ends_quietly() {
    for args in [&["schema"][..], &["report", REAL_RESULT]] {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_llm-loadtest"))
            .args(args)
            .stdout(full)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

/// Item 11: `validate` makes every check `run` would: the simulator's knobs.
#[test]
fn validate_checks_the_simulator_knobs_as_run_would() {
    let dir = tempfile::tempdir().unwrap();
    for (knob, value, expected) in [
        ("tp", "0", "a positive whole number"),
        ("tp", "1e-7", "a positive whole number"),
        ("chunked_prefill", "\"sla\"", "true or false"),
        (
            "kv_capacity_tokens",
            "18446744073709551616",
            "a positive whole number",
        ),
    ] {
        let text = format!(
            r#"{{"name": "k", "target": {{"embedded": "sim", "profile": "fixed-20ms"}},
                "matrix": {{"{knob}": [{value}]}},
                "workload": {{"input_tokens": 8, "output_tokens": 4}},
                "load": {{"concurrency": [1], "requests": 1}}}}"#
        );
        let file = write(dir.path(), "knob.json", &text);
        let stderr = one_line_error(&["validate", &file]);
        assert!(
            stderr.contains(&format!("knob.json: matrix.{knob}[0]: ")),
            "{stderr}"
        );
        assert!(stderr.contains(expected), "{stderr}");
    }
}

/// Item 14: Messages: reasons once, no temporary names, what is really wrong with a file.
#[test]
fn messages_say_what_is_wrong_once() {
    let dir = tempfile::tempdir().unwrap();
    let url = NOTHING_LISTENS.to_owned();
    let stderr = one_line_error(&[
        "run",
        "-s",
        &url,
        "-m",
        "m",
        "-n",
        "1",
        "-o",
        "/proc/version",
    ]);
    assert!(stderr.contains("cannot write /proc/version: "), "{stderr}");
    assert!(
        !stderr.contains(".tmp") && stderr.matches("os error").count() == 1,
        "{stderr}"
    );
    // A baseline that is a link to itself is not "no baseline".
    let baselines = dir.path().join("bl");
    std::fs::create_dir(&baselines).unwrap();
    let looped = baselines.join("llamacpp-smollm2.json");
    std::os::unix::fs::symlink(&looped, &looped).unwrap();
    let stderr = one_line_error(&[
        "compare",
        REAL_RESULT,
        "--baselines",
        baselines.to_str().unwrap(),
    ]);
    assert!(stderr.contains("symbolic links"), "{stderr}");
    assert!(!stderr.contains("no baseline"), "{stderr}");
    for (version, shown) in [("\"1\"", "\"1\""), ("0", "0")] {
        let text = std::fs::read_to_string(REAL_RESULT).unwrap().replacen(
            "\"schema_version\": 1",
            &format!("\"schema_version\": {version}"),
            1,
        );
        let file = write(dir.path(), "v.json", &text);
        let stderr = one_line_error(&["report", &file]);
        assert!(
            stderr.contains(&format!(
                "schema_version: expected a version number such as 2, got {shown}"
            )),
            "{stderr}"
        );
    }
    let stderr = one_line_error(&["sim", "--port", "0", "--error-rate=-1"]);
    assert!(
        stderr.contains("--error-rate: expected a fraction of requests from 0 to 1, got -1"),
        "{stderr}"
    );
    let named = write(
        dir.path(),
        "named.json",
        r#"{"name": "a\u001b[31mred", "target": {"base_url": "http://127.0.0.1:1"},
            "workload": {"input_tokens": 8, "output_tokens": 4},
            "load": {"concurrency": [1], "requests": 1}}"#,
    );
    let stderr = one_line_error(&["validate", &named]);
    assert!(
        stderr.contains("name: must not contain control characters"),
        "{stderr}"
    );
    assert!(!stderr.contains('\u{1b}'), "{stderr:?}");
}

/// Item 8: A prompt longer than the context the server advertises fails its point with
/// the reason, before a request is sent.
#[test]
fn prompts_beyond_the_servers_context_fail_their_point_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "ctx.json",
        r#"{"name": "ctx", "target": {"embedded": "sim", "profile": "fixed-20ms"},
            "workload": {"input_tokens": [16, 40000], "output_tokens": 4},
            "load": {"concurrency": [1], "requests": 2, "warmup": 0}}"#,
    );
    let out = dir.path().join("r.json");
    let (code, stdout, stderr) = run_plain(&["run", &file, "-o", out.to_str().unwrap()]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        stdout.contains("✗ concurrency=1,input_tokens=40000: input_tokens 40000 + output_tokens 4 (the longest asked for) do not fit the server's context of 32768 tokens"),
        "{stdout}"
    );
    let result: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(result["points"][0]["requests"]["ok"], 2);
    assert_eq!(
        result["points"][1]["requests"]["total"], 0,
        "nothing was sent"
    );
}

/// Item 7: A run whose every request is refused (401, 500) fails, saying why.
#[tokio::test]
async fn a_run_whose_every_request_fails_exits_1_with_the_reasons() {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, ResponseTemplate};
    for (status, kind) in [(401, "http_401"), (500, "http_500")] {
        let server = crate::fixture::mock_server().await;
        Mock::given(method("POST"))
            .and(path("/v1/chat/completions"))
            .respond_with(ResponseTemplate::new(status).set_body_string("{\"error\": \"no\"}"))
            .mount(&server)
            .await;
        let flags = "--num-prompts 3 --input-len 8 --output-len 4 --warmup 0";
        let r = crate::fixture::run_against_async(server.uri(), flags, &[]).await;
        assert_eq!(r.code, 1, "{status}: {}", r.stderr);
        let expected = format!("every request failed ({kind}=3, first: ");
        assert!(r.stdout.contains(&expected), "{}", r.stdout);
        assert_eq!(r.result()["points"][0]["requests"]["failed"], 3);
    }
}
