//! Reports rendered by `llm-loadtest report` from the real llama-server result, from a
//! comparison with it, and from a synthetic 64-point sweep: insta snapshots (versions
//! redacted), the pull-request size limit, hostile text escaped, CSV, template overrides,
//! and the HTML opened in headless Chromium with the network off (scripts/check-report.sh),
//! every chart present and every figure shown traced back to the result JSON. Rendering
//! charts in a debug build takes CPU, so these tests hold the quiet-machine lock.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::fixture::{real_result, run_plain, scale_latency, slowed, write_json, REAL_RESULT};

/// `text` without the tool's version and with every RFC 3339 UTC timestamp
/// (`2026-11-27T16:30:37Z`) replaced, so snapshots survive releases and new fixtures.
pub fn redacted(text: &str) -> String {
    let text = text.replace(env!("CARGO_PKG_VERSION"), "[version]");
    let shape = "dddd-dd-ddTdd:dd:ddZ";
    let is_timestamp = |window: &[u8]| {
        window.iter().zip(shape.bytes()).all(|(&c, s)| match s {
            b'd' => c.is_ascii_digit(),
            s => c == s,
        })
    };
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes.len() - i >= shape.len() && is_timestamp(&bytes[i..i + shape.len()]) {
            out.push_str("[timestamp]");
            i += shape.len();
        } else {
            let c = text[i..].chars().next().unwrap();
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

/// `llm-loadtest report ARGS`; its standard output.
fn report(args: &[&str]) -> String {
    let args: Vec<&str> = ["report"].iter().chain(args).copied().collect();
    let (code, stdout, stderr) = run_plain(&args);
    assert_eq!(code, 0, "{stderr}");
    stdout
}

/// 4 input lengths × 4 concurrencies × chunked prefill on/off × TP 1/2, made from the real
/// result's first point with latencies scaled by a simple engine model (prefill grows with
/// the input and the batch, TP divides both, chunked prefill trades TTFT for decode), all
/// `slowdown` times longer. At most 200 samples per histogram keep comparisons quick.
fn sweep(slowdown: f64) -> Value {
    let mut result = real_result();
    let template = result["points"][0].clone();
    let tokens_per_s = template["throughput"]["output_tokens_per_s"]
        .as_f64()
        .unwrap();
    let mut points = Vec::new();
    for tp in [1, 2] {
        for chunked in [true, false] {
            for input in [1000, 3000, 6000, 10000] {
                for concurrency in [1, 2, 4, 8] {
                    let (c, t) = (f64::from(concurrency), f64::from(tp));
                    let chunking = if chunked { 1.05 } else { 1.0 };
                    let prefill = f64::from(input) / 512.0 * (1.0 + 0.3 * (c - 1.0)) / t.powf(0.8)
                        * chunking
                        * slowdown;
                    let decode = (1.0 + 0.12 * (c - 1.0)) / t.powf(0.6) / chunking * slowdown;
                    let e2e = 0.7 * prefill + 0.3 * decode;
                    let mut p = template.clone();
                    for (name, factor) in [
                        ("ttft", prefill),
                        ("tpot", decode),
                        ("itl", decode),
                        ("e2e", e2e),
                    ] {
                        scale_latency(&mut p, name, factor, 200);
                    }
                    p["params"] = json!({"chunked_prefill": chunked, "concurrency": concurrency,
                                         "input_tokens": input, "tp": tp});
                    p["id"] = format!(
                        "chunked_prefill={chunked},concurrency={concurrency},input_tokens={input},tp={tp}"
                    )
                    .into();
                    p["throughput"]["output_tokens_per_s"] = (tokens_per_s * c / e2e).into();
                    p["tokens"]["input_planned"] = input.into();
                    points.push(p);
                }
            }
        }
    }
    result["points"] = points.into();
    result["scenario"]["name"] = "sweep-64".into();
    result["scenario"]["description"] =
        "4 input lengths × 4 concurrencies × chunked prefill on/off × TP 1/2 (synthetic)".into();
    result
}

/// The real result with hostile text wherever a server or a scenario can put text.
fn hostile() -> Value {
    let script = "<script>alert(1)</script>";
    let mut result = real_result();
    result["environment"]["server"]["model"] = script.into();
    result["environment"]["server"]["version"] = "<img src=x onerror=alert(1)>".into();
    result["scenario"]["description"] = script.into();
    let point = &mut result["points"][0];
    point["params"]["quant"] = script.into();
    point["id"] = format!("concurrency=1,input_tokens=512,quant={script}").into();
    point["requests"]["failed"] = 1.into();
    point["requests"]["total"] = 17.into();
    point["requests"]["errors"] = json!({"http_500": 1});
    point["requests"]["error_samples"] =
        json!({"http_500": format!("{{\"error\": \"{script}\"}}")});
    result
}

fn markdown_and_html(path: &str, baseline: Option<&str>) -> (String, String) {
    let mut args = vec![path];
    if let Some(b) = baseline {
        args.extend(["--baseline", b]);
    }
    let with = |format: &'static str| {
        let mut a = args.clone();
        a.extend(["--format", format]);
        report(&a)
    };
    (with("md"), with("html"))
}

#[test]
fn single_run_markdown_and_html_snapshots() {
    let _quiet = crate::fixture::exclusive();
    let (md, html) = markdown_and_html(REAL_RESULT, None);
    assert!(
        md.starts_with("<!-- llm-loadtest:llamacpp-smollm2 -->\n"),
        "{md}"
    );
    insta::assert_snapshot!("report_single_md", redacted(&md));
    insta::assert_snapshot!("report_single_html", redacted(&html));
}

#[test]
fn comparison_markdown_and_html_snapshots() {
    let _quiet = crate::fixture::exclusive();
    let dir = tempfile::tempdir().unwrap();
    let slow = write_json(dir.path(), "slow.json", &slowed(1.2));
    let (md, html) = markdown_and_html(&slow, Some(REAL_RESULT));
    assert!(md.contains("## ❌ llamacpp-smollm2: regression"), "{md}");
    assert!(md.contains("| **regressed** |"), "{md}");
    assert!(
        html.contains("(baseline)"),
        "baseline overlays in the charts"
    );
    insta::assert_snapshot!("report_compare_md", redacted(&md));
    insta::assert_snapshot!("report_compare_html", redacted(&html));
}

#[test]
fn a_64_point_sweep_fits_a_pull_request_comment() {
    let _quiet = crate::fixture::exclusive();
    let dir = tempfile::tempdir().unwrap();
    let single = write_json(dir.path(), "sweep.json", &sweep(1.0));
    let md = report(&[&single, "--format", "md"]);
    assert!(md.chars().count() <= 65_536, "{} characters", md.len());
    let detail_rows = md
        .lines()
        .filter(|l| l.starts_with("| chunked\\_prefill="))
        .count();
    assert_eq!(detail_rows, 64, "every point in the details");
    assert!(md.contains(
        "| Input length | Load | Configuration | ON latency (ms) | OFF latency (ms) | Speed-up |"
    ));
    insta::assert_snapshot!("report_sweep_md", redacted(&md));

    let slow = write_json(dir.path(), "slow.json", &sweep(1.25));
    let md = report(&[&slow, "--baseline", &single, "--format", "md"]);
    assert!(md.chars().count() <= 65_536, "{} characters", md.len());
    assert!(md.contains("## ❌ sweep-64: regression"), "{}", &md[..500]);
    assert!(md.contains("regressed"));
}

#[test]
fn hostile_text_is_escaped_in_html_and_inert_in_markdown() {
    let _quiet = crate::fixture::exclusive();
    let dir = tempfile::tempdir().unwrap();
    let path = write_json(dir.path(), "hostile.json", &hostile());
    let (md, html) = markdown_and_html(&path, None);
    for (name, text) in [("markdown", &md), ("html", &html)] {
        let lower = text.to_lowercase();
        assert!(!lower.contains("<script"), "{name} has a script tag");
        assert!(!lower.contains("<img"), "{name} has an img tag");
    }
    assert!(md.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("&lt;script&gt;alert(1)&lt;&#x2F;script&gt;"));
    assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
    assert!(
        md.contains(
            "http\\_500=1, first: “{\"error\": \"&lt;script&gt;alert(1)&lt;/script&gt;\"}”"
        ),
        "{md}"
    );
}

#[test]
fn csv_has_one_row_per_point_with_parameters_and_figures() {
    let _quiet = crate::fixture::exclusive();
    let text = report(&[REAL_RESULT, "--format", "csv"]);
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader.headers().unwrap().clone();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let result = real_result();
    assert_eq!(rows.len(), result["points"].as_array().unwrap().len());
    let column = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("{name}"))
    };
    assert_eq!(&header[0], "scenario");
    assert_eq!(&header[2], "params.concurrency");
    for (row, point) in rows.iter().zip(result["points"].as_array().unwrap()) {
        assert_eq!(&row[1], point["id"].as_str().unwrap());
        for field in [
            "latency_ms.ttft.p50",
            "latency_ms.itl.p99",
            "throughput.output_tokens_per_s",
            "requests.ok",
        ] {
            let pointer = format!("/{}", field.replace('.', "/"));
            let shown: f64 = row[column(field)].parse().unwrap();
            assert_eq!(
                shown,
                point.pointer(&pointer).unwrap().as_f64().unwrap(),
                "{field}"
            );
        }
    }
    assert!(!header.iter().any(|h| h.starts_with("histograms")));
}

/// `--format xlsx`: a workbook whose points sheet holds the result's figures as numbers,
/// whose comparison sheet holds the verdicts, and the seed study's tables; never to a
/// terminal.
#[test]
fn an_excel_workbook_has_a_sheet_per_table_with_numbers() {
    use calamine::{open_workbook, Data, Reader, Xlsx};
    let _quiet = crate::fixture::exclusive();
    let dir = tempfile::tempdir().unwrap();
    let slow = write_json(dir.path(), "slow.json", &slowed(1.2));
    let out = dir.path().join("report.xlsx");
    let out_arg = out.to_str().unwrap();
    report(&[&slow, "--baseline", REAL_RESULT, "--out", out_arg]);
    let mut workbook: Xlsx<_> = open_workbook(&out).unwrap();
    let names = workbook.sheet_names();
    assert_eq!(
        names,
        ["Summary", "Points", "Input lengths", "Load", "Comparison"]
    );
    let points = workbook.worksheet_range("Points").unwrap();
    let header: Vec<String> = points
        .rows()
        .next()
        .unwrap()
        .iter()
        .map(|c| c.to_string())
        .collect();
    let column = |name: &str| header.iter().position(|h| h == name).unwrap();
    let result: Value = serde_json::from_str(&std::fs::read_to_string(&slow).unwrap()).unwrap();
    for (row, point) in points
        .rows()
        .skip(1)
        .zip(result["points"].as_array().unwrap())
    {
        assert_eq!(row[1], Data::String(point["id"].as_str().unwrap().into()));
        let ttft = point["latency_ms"]["ttft"]["p50"].as_f64().unwrap();
        assert_eq!(row[column("latency_ms.ttft.p50")], Data::Float(ttft));
    }
    let comparison = workbook.worksheet_range("Comparison").unwrap();
    let regressed = comparison
        .rows()
        .filter(|r| r.iter().any(|c| *c == Data::String("regressed".into())))
        .count();
    assert!(regressed >= 4, "{regressed} regressed rows");
    // The study's rows name their points by id.
    let load = workbook.worksheet_range("Load").unwrap();
    let ids: Vec<String> = load.rows().skip(1).map(|r| r[1].to_string()).collect();
    assert_eq!(
        ids,
        [
            "concurrency=1,input_tokens=512",
            "concurrency=4,input_tokens=512"
        ]
    );
    let summary = workbook.worksheet_range("Summary").unwrap();
    let status = summary
        .rows()
        .find(|r| r[1] == Data::String("status".into()));
    assert_eq!(status.unwrap()[2], Data::String("fail".into()));
    let (code, _, stderr) = run_plain(&["report", REAL_RESULT, "--format", "xlsx"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("--out FILE.xlsx"), "{stderr}");
}

#[test]
fn templates_can_be_replaced_and_a_broken_one_is_named() {
    let _quiet = crate::fixture::exclusive();
    let dir = tempfile::tempdir().unwrap();
    let templates = dir.path().to_str().unwrap();
    std::fs::write(
        dir.path().join("report.md.tera"),
        "custom {{ scenarios[0].name }}: {{ scenarios[0].points | length }} points",
    )
    .unwrap();
    let md = report(&[REAL_RESULT, "--templates", templates]);
    assert_eq!(md, "custom llamacpp-smollm2: 2 points");
    let html = report(&[REAL_RESULT, "--templates", templates, "--format", "html"]);
    assert!(
        html.starts_with("<!DOCTYPE html>"),
        "the HTML template stays the built-in one"
    );
    let context: Value = serde_json::from_str(&report(&[REAL_RESULT, "--format", "json"])).unwrap();
    assert_eq!(
        context["scenarios"][0]["points"][1]["id"],
        "concurrency=4,input_tokens=512"
    );

    std::fs::write(dir.path().join("report.md.tera"), "{{ oops").unwrap();
    let (code, _, stderr) = run_plain(&["report", REAL_RESULT, "--templates", templates]);
    assert_eq!(code, 2);
    assert!(stderr.contains("report.md.tera:"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

/// The `data-json` figures of a rendered page: each shown number equals the value at its
/// path in the result, to the decimals shown. Returns how many were checked.
pub fn check_figures_against_json(dom: &str, result: &Value) -> usize {
    let mut checked = 0;
    for piece in dom.split("data-json=\"").skip(1) {
        let (path, rest) = piece.split_once('"').unwrap();
        let text = rest[rest.find('>').unwrap() + 1..]
            .split('<')
            .next()
            .unwrap()
            .trim();
        let pointer = format!("/{}", path.replace('.', "/"));
        let expected = result
            .pointer(&pointer)
            .and_then(Value::as_f64)
            .unwrap_or_else(|| panic!("{path} is not a number in the result"));
        let shown: f64 = text
            .parse()
            .unwrap_or_else(|_| panic!("{path}: shown {text:?}"));
        let decimals = text.split_once('.').map_or(0, |(_, d)| d.len());
        let tolerance = 0.5 * 10f64.powi(-(decimals as i32)) + 1e-9;
        assert!(
            (shown - expected).abs() <= tolerance,
            "{path}: shown {text}, result {expected}"
        );
        checked += 1;
    }
    checked
}

/// Renders `result` (against `baseline`) to HTML, opens it with scripts/check-report.sh
/// and checks charts and figures in the DOM Chromium parsed. Returns the output folder.
fn check_in_chromium(name: &str, result: &Value, baseline: Option<&Value>, height: u32) -> PathBuf {
    let out = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("report-check")
        .join(name);
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).unwrap();
    let current = write_json(&out, "result.json", result);
    let mut args = vec![current.as_str()];
    let base_path = baseline.map(|b| write_json(&out, "baseline.json", b));
    if let Some(b) = &base_path {
        args.extend(["--baseline", b.as_str()]);
    }
    let html = out.join("report.html");
    let html_arg = html.to_str().unwrap();
    report(&[args.as_slice(), &["--out", html_arg]].concat());
    let context: Value =
        serde_json::from_str(&report(&[args.as_slice(), &["--format", "json"]].concat())).unwrap();
    let charts: usize = context["scenarios"][0]["figures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["figures"].as_array().unwrap().len())
        .sum();

    let dom = open_in_chromium(name, &html, &out, height);
    assert_eq!(
        drawn_charts(name, &dom),
        charts,
        "{name}: every chart in the page"
    );
    assert!(charts >= 5, "{name}: {charts} charts");
    let checked = check_figures_against_json(&dom, result);
    let points = result["points"].as_array().unwrap().len();
    assert!(
        checked >= points * 28,
        "{name}: only {checked} figures traced to the JSON"
    );
    eprintln!(
        "{name}: {charts} charts, {checked} figures equal to the JSON; screenshots in {}",
        out.display()
    );
    out
}

/// Opens `html` with scripts/check-report.sh (no console output, screenshots and the DOM
/// in `out`); returns the DOM Chromium parsed.
pub fn open_in_chromium(name: &str, html: &Path, out: &Path, height: u32) -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/check-report.sh");
    let status = std::process::Command::new("bash")
        .arg(&script)
        .arg(html)
        .arg(out)
        .env("HEIGHT", height.to_string())
        .status()
        .unwrap();
    assert!(
        status.success(),
        "{name}: scripts/check-report.sh failed, see {}",
        out.display()
    );
    std::fs::read_to_string(out.join("dom.html")).unwrap()
}

/// How many charts the DOM has; each must be an SVG with data marks.
pub fn drawn_charts(name: &str, dom: &str) -> usize {
    let figures: Vec<&str> = dom
        .split("<figure class=\"chart")
        .skip(1)
        .map(|f| &f[..f.find("</figure>").unwrap()])
        .collect();
    for figure in &figures {
        assert!(
            figure.contains("<svg"),
            "{name}: a chart without SVG: {}",
            &figure[..200]
        );
        assert!(
            figure.contains("<circle") || figure.contains("<rect x"),
            "{name}: a chart with no data marks"
        );
    }
    figures.len()
}

/// Three runs side by side (one of another scenario, lacking a point): every figure in the
/// page equals its run's result, and throughput and TTFT are drawn with a line per run.
fn check_runs_in_chromium() {
    let out = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("report-check")
        .join("runs");
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).unwrap();
    let runs = three_runs();
    let files: Vec<String> = runs
        .iter()
        .enumerate()
        .map(|(i, r)| write_json(&out, &format!("run{}.json", i + 1), r))
        .collect();
    let html = out.join("report.html");
    let mut args: Vec<&str> = files.iter().map(String::as_str).collect();
    args.extend(["--out", html.to_str().unwrap()]);
    report(&args);
    let dom = open_in_chromium("runs", &html, &out, 2400);
    let charts = drawn_charts("runs", &dom);
    assert_eq!(charts, 2, "throughput and TTFT by concurrency");
    assert!(dom.contains(">run3</li>"), "a legend entry per run");
    let checked = check_figures_against_json(&dom, &json!({ "runs": runs }));
    assert_eq!(checked, 5 * 6, "5 point-runs × 6 figures");
}

/// A fresh simulator run of a spike: its timeline drawn over time, its stages tabled.
fn check_timelines_in_chromium() {
    let run = crate::fixture::run(&["run", "scenarios/sim-spike.json"], &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let out = check_in_chromium("sim-spike", &run.result(), None, 4000);
    let dom = std::fs::read_to_string(out.join("dom.html")).unwrap();
    for title in [
        "Requests in flight over time",
        "TTFT p99 over time",
        "KV cache usage over time",
    ] {
        assert!(dom.contains(&format!("data-chart=\"{title}\"")), "{title}");
    }
    assert!(
        dom.contains("<table class=\"stages\">"),
        "the stages are tabled"
    );
}

/// Fresh simulator runs of mixed traffic and of a breakpoint ramp: each class tabled with
/// its own figures, the ramp's steps tabled with the knee marked.
fn check_workloads_in_chromium() {
    for (scenario, table) in [
        ("sim-mixed-traffic", "<table class=\"groups\">"),
        ("sim-breakpoint", "<table class=\"breakpoint\">"),
    ] {
        let run = crate::fixture::run(&["run", &format!("scenarios/{scenario}.json")], &[]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let out = check_in_chromium(scenario, &run.result(), None, 4000);
        let dom = std::fs::read_to_string(out.join("dom.html")).unwrap();
        assert!(dom.contains(table), "{scenario}: {table}");
    }
}

/// The simulated chunked-prefill × TP sweep: its conclusions listed, each citing points
/// that the page links to.
fn check_conclusions_in_chromium() {
    let sim: Value = serde_json::from_str(
        &std::fs::read_to_string("tests/fixtures/sim-chunked-prefill-tp.result.json").unwrap(),
    )
    .unwrap();
    let out = check_in_chromium("sim-conclusions", &sim, None, 4000);
    let dom = std::fs::read_to_string(out.join("dom.html")).unwrap();
    let list = dom
        .split("<ul class=\"conclusions\">")
        .nth(1)
        .and_then(|rest| rest.split("</ul>").next())
        .expect("a list of conclusions");
    assert_eq!(list.matches("<li").count(), 11, "{list}");
    for target in list.split("href=\"#").skip(1) {
        let id = target.split('"').next().unwrap();
        assert!(
            dom.contains(&format!("id=\"{id}\"")),
            "a link to {id} leads nowhere"
        );
    }
}

/// The fixture, the fixture 10% slower, and a one-point run of another scenario.
fn three_runs() -> Vec<Value> {
    let mut slower = slowed(1.1);
    slower["started_at"] = "2026-11-28T09:00:00Z".into();
    let mut other = real_result();
    other["scenario"]["name"] = "other".into();
    other["points"].as_array_mut().unwrap().truncate(1);
    vec![real_result(), slower, other]
}

#[test]
fn several_runs_side_by_side() {
    let _quiet = crate::fixture::exclusive();
    let dir = tempfile::tempdir().unwrap();
    let files: Vec<String> = three_runs()
        .iter()
        .enumerate()
        .map(|(i, r)| write_json(dir.path(), &format!("run{}.json", i + 1), r))
        .collect();
    let args: Vec<&str> = files.iter().map(String::as_str).collect();
    let md = report(&args);
    assert!(md.contains("## 📊 3 runs side by side"), "{md}");
    assert!(md.contains("- Runs of different scenarios"), "{md}");
    assert!(
        md.contains("- concurrency=4,input\\_tokens=512 is not in run 3."),
        "{md}"
    );
    insta::assert_snapshot!("report_runs_md", redacted(&md));
    let nine: Vec<&str> = std::iter::repeat_n(files[0].as_str(), 9).collect();
    let (code, _, stderr) = run_plain(&[&["report"], nine.as_slice()].concat());
    assert_eq!(code, 2);
    assert!(stderr.contains("at most 8"), "{stderr}");
    let with_baseline = [&["report"], args.as_slice(), &["--baseline", &files[0]]].concat();
    let (code, _, stderr) = run_plain(&with_baseline);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("--baseline compares one result"),
        "{stderr}"
    );
}

#[test]
fn html_reports_open_offline_in_headless_chromium() {
    if !has_chromium() {
        return;
    }
    let _quiet = crate::fixture::exclusive();
    check_in_chromium("single", &real_result(), None, 2400);
    check_in_chromium("compare", &slowed(1.2), Some(&real_result()), 2400);
    check_in_chromium("hostile", &hostile(), None, 1600);
    check_in_chromium("sweep-64", &sweep(1.0), None, 6000);
    let real_sweep: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/llamacpp-sweep.result.json"
        ))
        .unwrap(),
    )
    .unwrap();
    check_runs_in_chromium();
    check_conclusions_in_chromium();
    check_timelines_in_chromium();
    check_workloads_in_chromium();
    let out = check_in_chromium("llamacpp-sweep", &real_sweep, None, 4000);
    let dom = std::fs::read_to_string(out.join("dom.html")).unwrap();
    assert!(dom.contains("Configurations compared") && dom.contains("Servers launched"));
    assert!(
        dom.contains("llamacpp:tokens_predicted_total"),
        "server metrics shown"
    );
}

/// Whether Chromium is installed; without it, a check is skipped (said on standard error)
/// unless `LLM_LOADTEST_REQUIRE_CHROMIUM` is set, which fails it.
pub fn has_chromium() -> bool {
    let found = chromium().is_some();
    if !found {
        assert!(
            std::env::var_os("LLM_LOADTEST_REQUIRE_CHROMIUM").is_none(),
            "LLM_LOADTEST_REQUIRE_CHROMIUM is set but no Chromium is installed"
        );
        eprintln!("skipped: no Chromium installed (Debian: apt-get install chromium)");
    }
    found
}

/// The path of the Chromium on `PATH`, if there is one.
pub fn chromium() -> Option<String> {
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|browser| {
            let found = std::process::Command::new("sh")
                .args(["-c", &format!("command -v {browser}")])
                .output()
                .ok()
                .filter(|o| o.status.success())?;
            Some(String::from_utf8_lossy(&found.stdout).trim().to_owned())
        })
}

/// Responses that were not streamed have no TPOT or ITL: every report says "not measured"
/// instead of showing zeros, and draws no chart of them.
#[test]
fn a_run_without_streaming_says_tpot_and_itl_were_not_measured() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("whole.json");
    std::fs::write(
        &scenario,
        r#"{"name": "whole", "target": {"embedded": "sim", "profile": "fixed-20ms"},
            "workload": {"input_tokens": 16, "output_tokens": 4, "stream": false},
            "load": {"concurrency": [1, 2], "requests": 4, "warmup": 0}}"#,
    )
    .unwrap();
    let result = dir.path().join("whole.result.json");
    let (code, stdout, stderr) = run_plain(&[
        "run",
        scenario.to_str().unwrap(),
        "-o",
        result.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stderr}");
    let row = stdout
        .lines()
        .find(|l| l.contains("concurrency=1,input_tokens=16"))
        .unwrap();
    assert_eq!(row.matches("not measured").count(), 3, "{row}");
    let result = result.to_str().unwrap();
    let md = report(&[result]);
    let md_row = md
        .lines()
        .find(|l| l.starts_with("| concurrency=1,input\\_tokens=16 |"))
        .unwrap_or_else(|| panic!("{md}"));
    assert_eq!(md_row.matches("not measured").count(), 2, "{md_row}");
    assert!(!md_row.contains("0.00 / 0.00"), "{md_row}");
    let html = report(&[result, "--format", "html"]);
    assert_eq!(
        html.matches(">not measured</td>").count(),
        4,
        "two points × TPOT, ITL"
    );
    assert!(
        !html.contains("TPOT percentiles vs"),
        "no chart of what was not measured"
    );
    assert!(html.contains("E2E latency percentiles vs"));
}

#[test]
fn a_baseline_of_another_scenario_is_said_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let mut other = real_result();
    other["scenario"]["name"] = "another".into();
    let other = write_json(dir.path(), "other.json", &other);
    let (code, _, stderr) = run_plain(&["report", REAL_RESULT, "--baseline", &other]);
    assert_eq!(code, 0, "{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(
        lines[0].contains(
            "comparing two scenarios: `llamacpp-smollm2` against the baseline of `another`"
        ),
        "{stderr}"
    );
    let (_, _, same) = run_plain(&["report", REAL_RESULT, "--baseline", REAL_RESULT]);
    assert!(same.is_empty(), "{same}");
}

/// One load level: no chart of lone dots against load. Configurations are grouped bars
/// with the baseline beside each, titled by the level; lines stay where loads vary.
#[test]
fn charts_follow_the_shape_of_the_data() {
    let _quiet = crate::fixture::exclusive();
    let dir = tempfile::tempdir().unwrap();
    let one_level = |slowdown: f64| {
        let mut result = sweep(slowdown);
        let points = result["points"].as_array_mut().unwrap();
        points.retain(|p| p["params"]["concurrency"] == 4);
        result
    };
    let current = write_json(dir.path(), "current.json", &one_level(1.1));
    let baseline = write_json(dir.path(), "baseline.json", &one_level(1.0));
    let context: Value = serde_json::from_str(&report(&[
        &current,
        "--baseline",
        &baseline,
        "--format",
        "json",
    ]))
    .unwrap();
    let figures: Vec<&Value> = context["scenarios"][0]["figures"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["figures"].as_array().unwrap())
        .collect();
    let titles: Vec<&str> = figures
        .iter()
        .map(|f| f["title"].as_str().unwrap())
        .collect();
    assert!(
        titles.iter().all(|t| !t.contains(" vs concurrency")),
        "{titles:?}"
    );
    let compared = figures
        .iter()
        .find(|f| {
            f["title"] == "Output throughput at concurrency 4 by configuration, 1k input tokens"
        })
        .unwrap_or_else(|| panic!("{titles:?}"));
    let legend: Vec<&str> = compared["legend"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["label"].as_str().unwrap())
        .collect();
    assert_eq!(legend, ["this run", "baseline"]);
    let svg = compared["svg"].as_str().unwrap();
    assert!(svg.contains("<rect x"), "drawn as bars");
    assert!(
        svg.contains("chunked_prefill=on, tp=1"),
        "a group per configuration"
    );
    // Several load levels: lines, as before.
    let full = write_json(dir.path(), "full.json", &sweep(1.0));
    let context: Value = serde_json::from_str(&report(&[&full, "--format", "json"])).unwrap();
    let text = context["scenarios"][0]["figures"].to_string();
    assert!(text.contains("Output throughput vs concurrency"));
}

#[test]
fn conclusions_of_a_simulated_sweep() {
    let md = report(&["tests/fixtures/sim-chunked-prefill-tp.result.json"]);
    let section = md
        .split("### Conclusions")
        .nth(1)
        .and_then(|rest| rest.split("<details>").next())
        .unwrap_or_else(|| panic!("no conclusions: {md}"));
    insta::assert_snapshot!("conclusions_md", section.trim());
}
