//! `llm-loadtest serve` on a temporary results directory holding the committed simulator
//! results (`baselines/`): the REST API (start, status, result, CSV and XLSX exports,
//! history, compare, delete), the API key (401 and nothing changed without it), paths
//! outside the directory refused, a hostile model name escaped on every page, the pages
//! driven in headless Chromium (scripts/check-dashboard.cjs: screenshots light and dark,
//! a run started through the form with its progress over the WebSocket), and 50 clients
//! polling while a run is measured.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::fixture::{exclusive, spawn_sim};

/// A model name that would run a script if any page put it in as markup.
const HOSTILE: &str = r#"<script>alert("x")</script><img src=x onerror=alert(1)>&'"#;

/// A dashboard process on a copy of the committed results.
struct Dashboard {
    child: Child,
    url: String,
    dir: tempfile::TempDir,
    /// Its standard error (the request log).
    log: tempfile::NamedTempFile,
}

impl Dashboard {
    /// `serve --port 0` with `flags` and `env`, on a copy of `baselines/*.json`.
    fn start(flags: &[&str], env: &[(&str, &str)]) -> Self {
        let (dir, log) = (
            tempfile::tempdir().unwrap(),
            tempfile::NamedTempFile::new().unwrap(),
        );
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        for entry in std::fs::read_dir(root.join("baselines")).unwrap() {
            let path = entry.unwrap().path();
            std::fs::copy(&path, dir.path().join(path.file_name().unwrap())).unwrap();
        }
        let mut child = Command::new(assert_cmd::cargo::cargo_bin("llm-loadtest"))
            .args(["serve", "--port", "0", "--results"])
            .arg(dir.path())
            .arg("--scenarios")
            .arg(root.join("scenarios"))
            .args(flags)
            .env_remove("API_KEY")
            .env("LLM_LOADTEST_LOG", "debug")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(log.reopen().unwrap())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line
            .split_whitespace()
            .nth(1)
            .unwrap()
            .trim_end_matches('/');
        assert!(url.starts_with("http://127.0.0.1:"), "{line}");
        Self {
            url: url.to_owned(),
            child,
            dir,
            log,
        }
    }

    fn at(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    fn file(&self, id: &str) -> PathBuf {
        self.dir.path().join(format!("{id}.json"))
    }

    /// `POST /api/v1/benchmark/run` with `body` (and `key` as `X-API-Key`).
    async fn start_run(&self, body: &Value, key: Option<&str>) -> (StatusCode, Value) {
        let mut request = client().post(self.at("/api/v1/benchmark/run")).json(body);
        if let Some(key) = key {
            request = request.header("x-api-key", key);
        }
        let response = request.send().await.unwrap();
        (response.status(), response.json().await.unwrap())
    }

    async fn get(&self, path: &str) -> (StatusCode, String) {
        let response = client().get(self.at(path)).send().await.unwrap();
        (response.status(), response.text().await.unwrap())
    }

    async fn get_json(&self, path: &str) -> Value {
        let (status, body) = self.get(path).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        serde_json::from_str(&body).unwrap()
    }

    /// The run's view once it has ended.
    async fn wait_for(&self, id: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let view = self.get_json(&format!("/api/v1/benchmark/run/{id}")).await;
            if !["queued", "running"].contains(&view["status"].as_str().unwrap()) {
                return view;
            }
            assert!(Instant::now() < deadline, "run {id} did not end: {view}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    async fn status_of(&self, id: &str) -> Value {
        let path = format!("/api/v1/benchmark/run/{id}");
        self.get_json(&path).await["status"].clone()
    }

    async fn history_total(&self) -> u64 {
        self.get_json("/api/v1/benchmark/history").await["total"]
            .as_u64()
            .unwrap()
    }
}

impl Drop for Dashboard {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

/// A small run on the embedded simulator: two points, 16 requests each.
fn small_run(model: &str) -> Value {
    json!({"simulator": "fixed-20ms", "model": model, "concurrency": [2, 4],
           "num_prompts": 16, "input_len": 32, "output_len": 8, "warmup": 0})
}

/// A server key that must never be seen again once sent with a run.
const CANARY: &str = "sk-canary-4242";

// Runs measured here: serialized with the timing tests, the lock held throughout.
#[allow(clippy::await_holding_lock)]
#[tokio::test]
async fn a_run_is_started_followed_and_stored_without_its_key() {
    let _quiet = exclusive();
    let dashboard = Dashboard::start(&[], &[]);
    let mut body = small_run("m");
    body["api_key"] = CANARY.into();
    let (status, started) = dashboard.start_run(&body, None).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{started}");
    assert_eq!(started["status"], "started");
    let id = started["run_id"].as_str().unwrap().to_owned();
    let view = dashboard.wait_for(&id).await;
    assert_eq!(view["status"], "completed", "{view}");
    assert_eq!(
        (view["points"].as_u64(), view["requests"].as_u64()),
        (Some(2), Some(32))
    );
    let result = dashboard
        .get_json(&format!("/api/v1/benchmark/result/{id}"))
        .await;
    assert_eq!(result["points"].as_array().unwrap().len(), 2);
    assert_eq!(result["scenario"]["target"]["model"], "m");
    let stored = std::fs::read_to_string(dashboard.file(&id)).unwrap();
    assert_eq!(serde_json::from_str::<Value>(&stored).unwrap(), result);
    let history = dashboard.get_json("/api/v1/benchmark/history").await;
    assert_eq!(history["runs"][0]["run_id"], id.as_str(), "newest first");
    let mut seen = vec![stored, history.to_string(), view.to_string()];
    for page in [
        "/",
        "/history",
        &format!("/runs/{id}"),
        &format!("/runs/{id}/report"),
    ] {
        seen.push(dashboard.get(page).await.1);
    }
    let log = std::fs::read_to_string(dashboard.log.path()).unwrap();
    assert!(log.contains("run ended"), "the log has the run: {log}");
    let request_line = log.lines().find(|l| l.contains("path=/history")).unwrap();
    assert!(
        request_line.contains(r#"command{command="serve""#)
            && request_line.contains("request{request_id="),
        "a request's line carries the command and its own id: {request_line}"
    );
    seen.push(log);
    for text in &seen {
        assert!(!text.contains(CANARY), "the server key leaked: {text}");
    }
}

/// The committed results export as CSV (a row per point) and XLSX.
#[tokio::test]
async fn results_export_as_csv_and_xlsx() {
    let dashboard = Dashboard::start(&[], &[]);
    let export = |format: &str| {
        let url = dashboard.at(&format!(
            "/api/v1/benchmark/result/sim-length-distributions/export?format={format}"
        ));
        async move { client().get(url).send().await.unwrap() }
    };
    let csv = export("csv").await;
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = csv.text().await.unwrap();
    assert_eq!(
        csv.lines().count(),
        3,
        "a header and a row per point: {csv}"
    );
    assert!(csv.lines().next().unwrap().contains("ttft"));
    let xlsx = export("xlsx").await.bytes().await.unwrap();
    let workbook: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(xlsx.to_vec())).unwrap();
    assert!(calamine::Reader::sheet_names(&workbook).len() >= 2);
    for bad in ["pdf", "csv&colour=red"] {
        let answer = export(bad).await;
        assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
        assert!(answer.json::<Value>().await.unwrap()["detail"].is_string());
    }
}

/// The history filters, a comparison of stored runs, and deleting one.
#[tokio::test]
async fn history_compare_and_delete() {
    let dashboard = Dashboard::start(&[], &[]);
    assert_eq!(dashboard.history_total().await, 10);
    let spike = dashboard
        .get_json("/api/v1/benchmark/history?scenario=SPIKE&status=completed")
        .await;
    assert_eq!(spike["total"], 1);
    assert_eq!(spike["runs"][0]["run_id"], "sim-spike");
    let compare = |ids: Value| {
        let request = client().post(dashboard.at("/api/v1/benchmark/compare"));
        request.json(&json!({ "run_ids": ids })).send()
    };
    let compared = compare(json!(["sim-spike", "sim-trace-replay"]))
        .await
        .unwrap();
    assert_eq!(compared.status(), StatusCode::OK);
    let compared = compared.text().await.unwrap();
    assert!(compared.contains("sim-spike") && compared.contains("sim-trace-replay"));
    for ids in [
        json!(["sim-spike"]),
        json!(["a", "b", "c", "d", "e", "f"]),
        json!(["sim-spike", "nope"]),
    ] {
        assert!(compare(ids).await.unwrap().status().is_client_error());
    }
    let delete = || {
        client()
            .delete(dashboard.at("/api/v1/benchmark/run/sim-spike"))
            .send()
    };
    assert_eq!(delete().await.unwrap().status(), StatusCode::OK);
    assert!(!dashboard.file("sim-spike").exists());
    assert_eq!(delete().await.unwrap().status(), StatusCode::NOT_FOUND);
    let (status, _) = dashboard.get("/api/v1/benchmark/result/sim-spike").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(dashboard.history_total().await, 9);
}

/// One run at a time: a second waits in the queue until the first has ended, a third
/// taken out of the queue never runs, and a running one deleted stops and leaves nothing.
// Runs measured here: serialized with the timing tests, the lock held throughout.
#[allow(clippy::await_holding_lock)]
#[tokio::test]
async fn runs_wait_their_turn_in_the_queue() {
    let _quiet = exclusive();
    let dashboard = Dashboard::start(&[], &[]);
    let mut ids = Vec::new();
    for _ in 0..3 {
        let (status, started) = dashboard.start_run(&small_run("m"), None).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{started}");
        ids.push(started["run_id"].as_str().unwrap().to_owned());
    }
    assert_eq!(dashboard.status_of(&ids[1]).await, "queued");
    let dequeued = client()
        .delete(dashboard.at(&format!("/api/v1/benchmark/run/{}", ids[2])))
        .send()
        .await
        .unwrap();
    assert_eq!(
        dequeued.json::<Value>().await.unwrap()["status"],
        "cancelled"
    );
    let first = dashboard.wait_for(&ids[0]).await;
    let second = dashboard.wait_for(&ids[1]).await;
    assert_eq!(
        (&first["status"], &second["status"]),
        (&json!("completed"), &json!("completed"))
    );
    let (finished, started) = (first["finished_at"].as_str(), second["started_at"].as_str());
    assert!(
        started >= finished,
        "the second started at {started:?}, the first ended at {finished:?}"
    );
    assert!(!dashboard.file(&ids[2]).exists());
    let (status, _) = dashboard
        .get(&format!("/api/v1/benchmark/run/{}", ids[2]))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "a dequeued run is gone");

    let mut long = small_run("m");
    long["num_prompts"] = 400.into();
    let (_, started) = dashboard.start_run(&long, None).await;
    let id = started["run_id"].as_str().unwrap().to_owned();
    while dashboard.status_of(&id).await != "running" {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let stopped = client()
        .delete(dashboard.at(&format!("/api/v1/benchmark/run/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(stopped.json::<Value>().await.unwrap()["status"], "stopping");
    let deadline = Instant::now() + Duration::from_secs(30);
    while dashboard
        .get(&format!("/api/v1/benchmark/run/{id}"))
        .await
        .0
        != StatusCode::NOT_FOUND
    {
        assert!(Instant::now() < deadline, "the run did not stop");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(!dashboard.file(&id).exists(), "nothing is left of it");
}

/// A bad request names its field; a scenario file runs by name.
#[tokio::test]
async fn runs_are_checked_before_they_are_queued() {
    let dashboard = Dashboard::start(&[], &[]);
    let (status, answer) = dashboard
        .start_run(
            &json!({"simulator": "fixed-20ms", "concurrency": [0]}),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        answer["detail"]
            .as_str()
            .unwrap()
            .starts_with("concurrency"),
        "{answer}"
    );
    let (status, answer) = dashboard
        .start_run(
            &json!({"server_url": "http://127.0.0.1:1", "colour": "red"}),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        answer["detail"].as_str().unwrap().contains("colour"),
        "{answer}"
    );
    let (status, answer) = dashboard
        .start_run(&json!({"scenario": "no-such-scenario"}), None)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert_eq!(dashboard.history_total().await, 10);
}

#[tokio::test]
async fn without_the_key_nothing_changes() {
    let dashboard = Dashboard::start(&[], &[("API_KEY", "s3cret key")]);
    let before = dashboard.history_total().await;
    for key in [None, Some("wrong"), Some("s3cret ke"), Some("s3cret key2")] {
        let (status, answer) = dashboard.start_run(&small_run("m"), key).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{key:?}: {answer}");
        let deleted = client()
            .delete(dashboard.at("/api/v1/benchmark/run/sim-spike"))
            .header("x-api-key", key.unwrap_or(""))
            .send()
            .await
            .unwrap();
        assert_eq!(deleted.status(), StatusCode::UNAUTHORIZED);
        let form = client()
            .post(dashboard.at("/runs/sim-spike/delete"))
            .send()
            .await
            .unwrap();
        assert_eq!(form.status(), StatusCode::UNAUTHORIZED);
    }
    assert!(dashboard.file("sim-spike").exists());
    assert_eq!(dashboard.history_total().await, before, "reads stay open");
    // Another site's form cannot post, key or not.
    let cross = client()
        .post(dashboard.at("/runs/sim-spike/delete"))
        .header("origin", "http://evil.example")
        .header("x-api-key", "s3cret key")
        .send()
        .await
        .unwrap();
    assert_eq!(cross.status(), StatusCode::FORBIDDEN);
    assert!(dashboard.file("sim-spike").exists());
    let deleted = client()
        .delete(dashboard.at("/api/v1/benchmark/run/sim-spike"))
        .header("x-api-key", "s3cret key")
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::OK);
    assert!(!dashboard.file("sim-spike").exists());

    let guarded = Dashboard::start(&["--auth-reads"], &[("API_KEY", "k")]);
    let (status, _) = guarded.get("/api/v1/benchmark/history").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let with_key = client()
        .get(guarded.at("/api/v1/benchmark/history"))
        .header("x-api-key", "k")
        .send()
        .await
        .unwrap();
    assert_eq!(with_key.status(), StatusCode::OK);
    let (status, _) = guarded.get("/health").await;
    assert_eq!(status, StatusCode::OK);
}

/// The login page trades the key for a session cookie (never the key itself) and sends
/// only to local paths; requests to another host name (a name rebound to 127.0.0.1) and
/// WebSockets from other sites are refused.
#[tokio::test]
async fn sessions_hosts_and_other_sites() {
    let dashboard = Dashboard::start(&[], &[("API_KEY", "k3y")]);
    let (_, page) = dashboard.get("/login?next=%2F%09%2Fevil.example").await;
    // Tera writes `/` as `&#x2F;`: the next page is the overview, not evil.example.
    assert!(page.contains(r#"name="next" value="&#x2F;""#), "{page}");
    let no_redirects = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let log_in = |key: &str| {
        let form = [("key", key), ("next", "/history")];
        no_redirects.post(dashboard.at("/login")).form(&form).send()
    };
    assert_eq!(
        log_in("nope").await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    let logged_in = log_in("k3y").await.unwrap();
    assert_eq!(logged_in.headers()["location"], "/history");
    let cookie = logged_in.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
    assert!(
        !cookie.contains("k3y"),
        "the cookie is not the key: {cookie}"
    );
    let session = cookie.split(';').next().unwrap().to_owned();
    let delete = no_redirects
        .post(dashboard.at("/runs/sim-spike/delete"))
        .header("cookie", &session)
        .header("sec-fetch-site", "same-origin")
        .send()
        .await
        .unwrap();
    assert_eq!(delete.status(), StatusCode::SEE_OTHER);
    assert!(!dashboard.file("sim-spike").exists());
    let rebound = client()
        .get(dashboard.at("/api/v1/benchmark/history"))
        .header("host", "evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(rebound.status(), StatusCode::FORBIDDEN);
    let url = dashboard
        .at("/api/v1/benchmark/ws/run/any")
        .replacen("http", "ws", 1);
    let mut request =
        tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(url)
            .unwrap();
    request
        .headers_mut()
        .insert("origin", "http://evil.example".parse().unwrap());
    let refused = tokio_tungstenite::connect_async(request).await.unwrap_err();
    assert!(refused.to_string().contains("403"), "{refused}");
}

#[tokio::test]
async fn paths_outside_the_results_directory_are_refused() {
    let dashboard = Dashboard::start(&[], &[]);
    let outside = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(outside.path(), "{}").unwrap();
    std::os::unix::fs::symlink(outside.path(), dashboard.file("link")).unwrap();
    for id in [
        "..%2F..%2Fetc%2Fpasswd",
        "%2E%2E",
        "a%2F..%2F..%2Fb",
        "link",
        ".hidden",
    ] {
        for path in [
            format!("/api/v1/benchmark/result/{id}"),
            format!("/api/v1/benchmark/result/{id}/export"),
            format!("/runs/{id}/report"),
        ] {
            let (status, body) = dashboard.get(&path).await;
            assert!(
                status == StatusCode::BAD_REQUEST || status == StatusCode::NOT_FOUND,
                "{path}: {status} {body}"
            );
            assert!(!body.contains("root:"), "{path}");
        }
        let deleted = client()
            .delete(dashboard.at(&format!("/api/v1/benchmark/run/{id}")))
            .send()
            .await
            .unwrap();
        assert!(deleted.status().is_client_error(), "{id}");
    }
    assert!(outside.path().exists());
    let (status, _) = dashboard
        .start_run(&json!({"scenario": "../baselines/sim-spike"}), None)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

// Runs measured here: serialized with the timing tests, the lock held throughout.
#[allow(clippy::await_holding_lock)]
#[tokio::test]
async fn a_hostile_model_name_is_escaped_on_every_page() {
    let _quiet = exclusive();
    let dashboard = Dashboard::start(&[], &[]);
    let (_, started) = dashboard.start_run(&small_run(HOSTILE), None).await;
    let id = started["run_id"].as_str().unwrap().to_owned();
    let live = dashboard.get(&format!("/runs/{id}")).await.1;
    dashboard.wait_for(&id).await;
    let form = client()
        .post(dashboard.at("/new"))
        .form(&[
            ("model", HOSTILE),
            ("simulator", "fixed-20ms"),
            ("concurrency", "x"),
        ])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut pages = vec![
        ("live run".to_owned(), live),
        ("form with errors".to_owned(), form),
    ];
    for path in [
        "/".to_owned(),
        "/history".to_owned(),
        format!("/runs/{id}"),
        format!("/runs/{id}/report"),
        format!("/compare?id={id}&id=sim-spike"),
        format!("/compare/report?id={id}&id=sim-spike"),
        "/trends".to_owned(),
        "/trends/report".to_owned(),
    ] {
        let (status, body) = dashboard.get(&path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        pages.push((path, body));
    }
    let mut shown = 0;
    for (page, body) in &pages {
        assert!(
            !body.contains("<script>alert"),
            "{page}: the name as markup"
        );
        assert!(!body.contains("<img src=x"), "{page}: the name as markup");
        shown += usize::from(body.contains("&lt;script&gt;alert("));
    }
    assert!(shown >= 6, "the name is shown, escaped, on {shown} pages");
}

/// The pages in headless Chromium, light and dark, then a run started through the form,
/// its progress over the WebSocket, and the finished run in the history and its report.
#[test]
fn the_dashboard_in_headless_chromium() {
    if !crate::report::has_chromium() {
        return;
    }
    let Some(puppeteer) = puppeteer() else {
        return;
    };
    let _quiet = exclusive();
    let dashboard = Dashboard::start(&[], &[]);
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("dashboard-check");
    let _ = std::fs::remove_dir_all(&out);
    let chromium = crate::report::chromium().unwrap();
    let status = Command::new("node")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/check-dashboard.cjs"))
        .args([
            &dashboard.url,
            out.to_str().unwrap(),
            "sim-spike",
            "sim-trace-replay",
        ])
        .env("PUPPETEER_MODULE", puppeteer)
        .env("CHROMIUM", chromium)
        .env("HOSTILE_MODEL", HOSTILE)
        .status()
        .unwrap();
    let summary: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert!(status.success(), "{}", summary["problems"]);
    check_pages(&summary, &dashboard.url);
    check_live_run(&summary);
    eprintln!("dashboard: screenshots in {}", out.display());
}

/// Every page was shot in light and dark mode, and nothing was asked of another host.
fn check_pages(summary: &Value, url: &str) {
    let pages = summary["pages"].as_array().unwrap();
    assert_eq!(pages.len(), 7);
    for page in pages {
        for shot in page["shots"].as_array().unwrap() {
            let size = std::fs::metadata(shot.as_str().unwrap()).unwrap().len();
            assert!(size > 10_000, "{shot}: {size} bytes");
        }
    }
    for requested in summary["requested"].as_array().unwrap() {
        let requested = requested.as_str().unwrap();
        assert!(
            requested.starts_with(url) || requested.starts_with("data:"),
            "a request left 127.0.0.1: {requested}"
        );
    }
}

/// The run started through the form: progress over the WebSocket updated the page without
/// a reload, the run ended completed, showed its report, and is in the history, its
/// hostile model name shown as text.
fn check_live_run(summary: &Value) {
    let run = &summary["run"];
    let id = run["runId"].as_str().unwrap();
    assert!(run["updatesBeforeReload"].as_u64().unwrap() >= 3);
    assert_eq!(run["loadsWhileRunning"], 0, "updated without a reload");
    assert_eq!(run["reportTitle"], "llm-loadtest report");
    let frames = summary["frames"].as_array().unwrap();
    let requests: Vec<u64> = frames
        .iter()
        .map(|f| f["progress"]["requests_done"].as_u64().unwrap())
        .collect();
    assert!(
        requests.iter().filter(|&&r| r > 0).count() >= 3,
        "{requests:?}"
    );
    assert!(frames
        .iter()
        .any(|f| f["progress"]["ttft_p50_ms"].is_number()));
    assert!(frames
        .iter()
        .any(|f| f["progress"]["output_tokens_per_s"].is_number()));
    assert_eq!(frames.last().unwrap()["status"], "completed");
    let rows = summary["history"].as_array().unwrap();
    let row = rows
        .iter()
        .find(|r| r["id"] == id)
        .expect("the run in the history");
    assert!(
        row["text"].as_str().unwrap().contains(HOSTILE),
        "shown as text"
    );
    assert_eq!(summary["images"], 0, "no markup from the model name");
    eprintln!("dashboard: {} WebSocket frames", frames.len());
}

/// The puppeteer-core module (`PUPPETEER_MODULE`, as `.ci/run` installs it); without it
/// the browser check is skipped, unless Chromium is required.
fn puppeteer() -> Option<PathBuf> {
    let module = std::env::var_os("PUPPETEER_MODULE").map(PathBuf::from);
    let found = module.filter(|m| m.join("package.json").exists());
    if found.is_none() {
        assert!(
            std::env::var_os("LLM_LOADTEST_REQUIRE_CHROMIUM").is_none(),
            "LLM_LOADTEST_REQUIRE_CHROMIUM is set but PUPPETEER_MODULE names no puppeteer-core"
        );
        eprintln!(
            "skipped: no puppeteer-core (npm install puppeteer-core; PUPPETEER_MODULE=its folder)"
        );
    }
    found
}

/// What one run measured, and what its pollers saw.
struct Measured {
    ttft_p50: f64,
    itl_p50: f64,
    tpot_p50: f64,
    /// The process's CPU over the window (the result's `client_cpu`), and the run
    /// worker thread's own, in seconds.
    process_cpu_s: f64,
    worker_cpu_s: f64,
    polls: usize,
    frames: usize,
}

/// Runs `body` on `dashboard` while `clients` clients each hold the run's WebSocket and
/// poll the history every 500 ms.
async fn measured(dashboard: &Dashboard, body: &Value, clients: usize) -> Measured {
    let worker_before = worker_cpu_s(dashboard.child.id());
    let (_, started) = dashboard.start_run(body, None).await;
    let id = started["run_id"].as_str().unwrap().to_owned();
    let stop = tokio_util::sync::CancellationToken::new();
    let ws_url = dashboard
        .at(&format!("/api/v1/benchmark/ws/run/{id}"))
        .replacen("http", "ws", 1);
    let pollers: Vec<_> = (0..clients)
        .map(|_| {
            let (stop, ws_url, history) = (stop.clone(), ws_url.clone(), dashboard.at("/history"));
            tokio::spawn(async move {
                let (mut socket, _) = tokio_tungstenite::connect_async(ws_url).await.unwrap();
                let frames = tokio::spawn(async move {
                    let mut frames = 0;
                    while let Some(Ok(_)) = futures_util::StreamExt::next(&mut socket).await {
                        frames += 1;
                    }
                    frames
                });
                let (http, mut polls) = (client(), 0);
                while !stop.is_cancelled() {
                    let page = http.get(&history).send().await.unwrap();
                    assert_eq!(page.status(), StatusCode::OK);
                    page.bytes().await.unwrap();
                    polls += 1;
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                (polls, frames.await.unwrap())
            })
        })
        .collect();
    let view = dashboard.wait_for(&id).await;
    assert_eq!(view["status"], "completed", "{view}");
    stop.cancel();
    let (mut polls, mut frames) = (0, 0);
    for poller in pollers {
        let (p, f) = poller.await.unwrap();
        polls += p;
        frames += f;
    }
    let result = dashboard
        .get_json(&format!("/api/v1/benchmark/result/{id}"))
        .await;
    let point = &result["points"][0];
    let p50 = |metric: &str| point["latency_ms"][metric]["p50"].as_f64().unwrap();
    let cpu = &point["client_cpu"];
    Measured {
        ttft_p50: p50("ttft"),
        itl_p50: p50("itl"),
        tpot_p50: p50("tpot"),
        process_cpu_s: cpu["user_s"].as_f64().unwrap() + cpu["system_s"].as_f64().unwrap(),
        worker_cpu_s: worker_cpu_s(dashboard.child.id()) - worker_before,
        polls,
        frames,
    }
}

/// CPU seconds of the dashboard's run worker thread so far.
fn worker_cpu_s(pid: u32) -> f64 {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).unwrap();
    let ticks: u64 = tasks
        .flatten()
        .filter(|t| {
            std::fs::read_to_string(t.path().join("comm"))
                .is_ok_and(|c| c.starts_with("llm-loadtest-ru"))
        })
        .map(|t| {
            let stat = std::fs::read_to_string(t.path().join("stat")).unwrap();
            let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..].split(' ').collect();
            // utime and stime: fields 14 and 15 of stat, 12 and 13 after the name.
            fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
        })
        .sum();
    ticks as f64 / 100.0
}

/// 50 clients each polling the history and holding the run's WebSocket while a run is
/// measured leave its timing where it was. The run is against the simulator's emitter (a
/// process of its own: first token 50 ms after arrival, then one every 20 ms), whose
/// pacing does not depend on when requests arrive, so that what moves is the measurement.
#[allow(clippy::await_holding_lock)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_clients_polling_do_not_disturb_a_run() {
    let _quiet = exclusive();
    let (mut sim, sim_url) = spawn_sim(&["--emit-interval-ms", "20"]);
    let dashboard = Dashboard::start(&[], &[]);
    let body = json!({"server_url": sim_url, "model": "m", "concurrency": [4], "num_prompts": 80,
                      "input_len": 64, "output_len": 32, "warmup": 4, "seed": 1});
    let quiet = measured(&dashboard, &body, 0).await;
    let busy = measured(&dashboard, &body, 50).await;
    let _ = sim.kill();
    eprintln!(
        "quiet: TTFT p50 {:.2} ms, ITL p50 {:.2} ms, TPOT p50 {:.2} ms, process CPU {:.2} s, run worker CPU {:.2} s",
        quiet.ttft_p50, quiet.itl_p50, quiet.tpot_p50, quiet.process_cpu_s, quiet.worker_cpu_s
    );
    eprintln!(
        "50 clients ({} polls, {} frames): TTFT p50 {:.2} ms, ITL p50 {:.2} ms, TPOT p50 {:.2} ms, process CPU {:.2} s, run worker CPU {:.2} s",
        busy.polls, busy.frames, busy.ttft_p50, busy.itl_p50, busy.tpot_p50, busy.process_cpu_s, busy.worker_cpu_s
    );
    assert!(busy.polls >= 50 * 10, "{} polls", busy.polls);
    assert!(busy.frames >= 50 * 3, "{} frames", busy.frames);
    let ratio = |a: f64, b: f64| b / a;
    assert!((0.95..1.05).contains(&ratio(quiet.itl_p50, busy.itl_p50)));
    assert!((0.95..1.05).contains(&ratio(quiet.tpot_p50, busy.tpot_p50)));
    assert!((busy.ttft_p50 - quiet.ttft_p50).abs() < 2.0);
}
