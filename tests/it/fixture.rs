//! Shared fixtures: running the binary and reading what it wrote; a timed server (axum,
//! absolute deadlines, one thread of its own) that sends the first token after a set delay
//! and the next ones at a set interval, in every dialect the simulator speaks; wiremock
//! helpers.

use std::convert::Infallible;
use std::io::BufRead;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Extension, Json, Router};
use futures_util::StreamExt;
use llm_loadtest::scenario::Api;
use llm_loadtest::sim::wire::{ServerTimes, Wire};
use llm_loadtest::sim::{GenerationBody, GENERATION_ROUTES};
use serde_json::{json, Value};
use wiremock::{Request, Respond, ResponseTemplate};

/// What one run of the binary left behind.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub dir: tempfile::TempDir,
}

impl Run {
    pub fn result_path(&self) -> PathBuf {
        self.dir.path().join("result.json")
    }
    pub fn requests_path(&self) -> PathBuf {
        self.dir.path().join("requests.jsonl")
    }
    pub fn result(&self) -> Value {
        let text = std::fs::read_to_string(self.result_path())
            .unwrap_or_else(|e| panic!("no result ({e}); stderr: {}", self.stderr));
        serde_json::from_str(&text).unwrap()
    }
    pub fn requests(&self) -> Vec<Value> {
        std::fs::read_to_string(self.requests_path())
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
    /// The error counts of point `i`.
    pub fn errors(&self, i: usize) -> Value {
        self.result()["points"][i]["requests"]["errors"].clone()
    }
}

/// Runs `llm-loadtest ARGS --output DIR/result.json --requests-out DIR/requests.jsonl`.
pub fn run(args: &[&str], env: &[(&str, &str)]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = assert_cmd::Command::cargo_bin("llm-loadtest").unwrap();
    cmd.args(args)
        .arg("--output")
        .arg(dir.path().join("result.json"))
        .arg("--requests-out")
        .arg(dir.path().join("requests.jsonl"))
        .env_remove("LLM_LOADTEST_API_KEY")
        .env_remove("OPENAI_API_KEY")
        // Generous: the real llama-server on 2 busy cores takes up to two minutes a run.
        .timeout(Duration::from_secs(300));
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        dir,
    }
}

/// Runs `llm-loadtest run --server URL --model m FLAGS` (flags separated by spaces).
pub fn run_against(url: &str, flags: &str, env: &[(&str, &str)]) -> Run {
    let mut args = vec!["run", "--server", url, "--model", "m"];
    args.extend(flags.split_whitespace());
    run(&args, env)
}

/// [`run_against`] from an async test, off the runtime that serves its mocks.
pub async fn run_against_async(
    url: String,
    flags: &'static str,
    env: &'static [(&'static str, &'static str)],
) -> Run {
    tokio::task::spawn_blocking(move || run_against(&url, flags, env))
        .await
        .unwrap()
}

/// A wiremock server with llama.cpp's `/tokenize` (one token per word).
pub async fn mock_server() -> wiremock::MockServer {
    let server = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .and(wiremock::matchers::path("/tokenize"))
        .respond_with(WordTokenizer)
        .mount(&server)
        .await;
    server
}

/// Runs the binary with exactly `args` (no output flags); returns (code, stdout, stderr).
pub fn run_plain(args: &[&str]) -> (i32, String, String) {
    run_plain_env(args, &[])
}

/// [`run_plain`] with extra environment variables; GitHub's own are removed unless given.
pub fn run_plain_env(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    run_in(Path::new("."), args, env)
}

/// [`run_plain_env`] in the working directory `dir`.
pub fn run_in(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    run_within(Duration::from_secs(60), dir, args, env)
}

/// Like [`run_plain`], for commands that measure for minutes (sweeps, `recommend`).
pub fn run_plain_slow(args: &[&str]) -> (i32, String, String) {
    run_within(Duration::from_secs(300), Path::new("."), args, &[])
}

fn run_within(
    timeout: Duration,
    dir: &Path,
    args: &[&str],
    env: &[(&str, &str)],
) -> (i32, String, String) {
    let mut cmd = assert_cmd::Command::cargo_bin("llm-loadtest").unwrap();
    cmd.current_dir(dir)
        .args(args)
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITHUB_STEP_SUMMARY")
        .timeout(timeout);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// One streamed chat chunk carrying `text`.
pub fn content_chunk(text: &str) -> String {
    format!(
        "data: {}\n\n",
        json!({"choices": [{"index": 0, "delta": {"content": text}}]})
    )
}

/// The final usage chunk and `[DONE]`.
pub fn usage_and_done(prompt_tokens: usize, completion_tokens: u64) -> String {
    let usage = json!({"choices": [], "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens}});
    format!("data: {usage}\n\ndata: [DONE]\n\n")
}

/// Tokens of a prompt for the fixtures: whitespace-separated words.
pub fn count_words(text: &str) -> usize {
    text.split_whitespace().count()
}

/// llama.cpp's `/tokenize` for wiremock: one token per word.
pub struct WordTokenizer;

impl Respond for WordTokenizer {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&request.body).unwrap_or_default();
        let n = count_words(body["content"].as_str().unwrap_or_default());
        ResponseTemplate::new(200).set_body_json(json!({"tokens": vec![1; n]}))
    }
}

/// A complete, successful streamed response of `tokens` tokens.
pub fn ok_stream(prompt_tokens: usize, tokens: u64) -> ResponseTemplate {
    let mut body: String = (0..tokens)
        .map(|i| content_chunk(&format!(" t{i}")))
        .collect();
    body.push_str(&usage_and_done(prompt_tokens, tokens));
    sse(body)
}

/// An SSE response with `body`.
pub fn sse(body: String) -> ResponseTemplate {
    ResponseTemplate::new(200)
        .insert_header("content-type", "text/event-stream")
        .set_body_raw(body, "text/event-stream")
}

/// Pacing of the timed server.
#[derive(Clone, Copy)]
pub struct Timing {
    pub first_token_ms: u64,
    pub itl_ms: u64,
    /// Stop sending (without closing) after this many tokens.
    pub stall_after: Option<u64>,
    /// The first token later the more requests are in flight.
    pub crowding: Option<Crowding>,
}

/// A server that slows with load, its goodput curve known: the first token comes
/// `per_request_ms` later for every other request in flight at arrival, and every
/// `slow_every`-th request's ten times later still.
#[derive(Clone, Copy)]
pub struct Crowding {
    pub per_request_ms: u64,
    pub slow_every: Option<u64>,
}

/// Requests in flight and requests seen by one timed server.
#[derive(Default)]
struct Counters {
    in_flight: std::sync::atomic::AtomicU64,
    seen: std::sync::atomic::AtomicU64,
}

/// The first token's delay of a request arriving now, counting it in flight until the
/// returned guard drops.
fn first_token_delay(timing: &Timing, counters: &Arc<Counters>) -> (u64, Leaving) {
    use std::sync::atomic::Ordering::Relaxed;
    let others = counters.in_flight.fetch_add(1, Relaxed);
    let seen = counters.seen.fetch_add(1, Relaxed) + 1;
    let leaving = Leaving(counters.clone());
    let Some(c) = timing.crowding else {
        return (timing.first_token_ms, leaving);
    };
    let slow = c.slow_every.is_some_and(|n| seen % n == 0);
    let delay = timing.first_token_ms + c.per_request_ms * others;
    (if slow { delay * 10 } else { delay }, leaving)
}

/// Counts a request out of flight when its stream ends or is dropped.
struct Leaving(Arc<Counters>);

impl Drop for Leaving {
    fn drop(&mut self) {
        self.0
            .in_flight
            .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Starts the timed server on a free port, in a thread with its own runtime.
pub fn timed_server(timing: Timing) -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let counters = Arc::new(Counters::default());
        runtime.block_on(async move {
            let mut app = Router::new().route("/tokenize", post(tokenize));
            for (path, api, stream) in GENERATION_ROUTES {
                let counters = counters.clone();
                app = app.route(
                    path,
                    post(move |arrival, Json(body): Json<GenerationBody>| {
                        let api = body.dialect_at(api);
                        timed(timing, counters.clone(), (api, stream), arrival, body)
                    }),
                );
            }
            let app = app.layer(axum::middleware::from_fn(stamp_arrival));
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(listener, app).await.unwrap();
        });
    });
    addr
}

async fn tokenize(Json(body): Json<Value>) -> Json<Value> {
    Json(json!({"tokens": vec![1; count_words(body["content"].as_str().unwrap_or_default())]}))
}

/// When a request's head arrived, before its body is read and parsed.
#[derive(Clone, Copy)]
struct Arrival(tokio::time::Instant);

async fn stamp_arrival(
    mut request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    request
        .extensions_mut()
        .insert(Arrival(tokio::time::Instant::now()));
    next.run(request).await
}

/// A timed response in the dialect `api` (streamed unless the body says otherwise when
/// `stream_default`).
async fn timed(
    timing: Timing,
    counters: Arc<Counters>,
    (api, stream_default): (Api, bool),
    Extension(arrival): Extension<Arrival>,
    body: GenerationBody,
) -> Response {
    let tokens = body.max_tokens();
    let wire = Wire {
        api,
        model: "m",
        prompt_tokens: body.prompt_tokens(),
    };
    if !body.stream(stream_default) {
        return Json(wire.whole(tokens, ServerTimes::default())).into_response();
    }
    let start = arrival.0;
    let (first_token_ms, leaving) = first_token_delay(&timing, &counters);
    let leaving = Arc::new(leaving);
    let opening = Bytes::from(wire.start());
    let prompt_tokens = wire.prompt_tokens;
    let chunks = futures_util::stream::unfold(0u32, move |i| {
        // The stream holds the guard: the request leaves when its stream is dropped.
        let _in_flight = Arc::clone(&leaving);
        let wire = Wire {
            api,
            model: "m",
            prompt_tokens,
        };
        let piece = match i {
            _ if i > tokens => None,
            _ if i == tokens => Some(wire.end(tokens, tokens, ServerTimes::default())),
            _ => Some(wire.tokens(1, i + 1, i + 1 == tokens)),
        };
        async move {
            let piece = piece?;
            if i < tokens {
                if timing.stall_after == Some(u64::from(i)) {
                    std::future::pending::<()>().await;
                }
                let due =
                    start + Duration::from_millis(first_token_ms + timing.itl_ms * u64::from(i));
                sleep_precisely_until(due).await;
            }
            Some((Ok::<_, Infallible>(Bytes::from(piece)), i + 1))
        }
    });
    let body = futures_util::stream::once(async move { Ok(opening) }).chain(chunks);
    Response::builder()
        .header("content-type", wire.content_type())
        .body(Body::from_stream(body))
        .unwrap()
}

/// Tokio timers fire on the next whole millisecond; the last stretch is waited out by
/// yielding, so the fixture sends within microseconds of `due`.
async fn sleep_precisely_until(due: tokio::time::Instant) {
    tokio::time::sleep_until(due - Duration::from_micros(1500)).await;
    while tokio::time::Instant::now() < due {
        tokio::task::yield_now().await;
    }
}

/// `llm-loadtest sim --port 0` with `args`, and the URL it printed.
pub fn spawn_sim(args: &[&str]) -> (std::process::Child, String) {
    let mut sim = std::process::Command::new(assert_cmd::cargo::cargo_bin("llm-loadtest"))
        .args(["sim", "--port", "0"])
        .args(args)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(sim.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line.trim().rsplit(' ').next().unwrap().to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{line}");
    (sim, url)
}

/// A local port with nothing listening on it.
pub fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

static EXCLUSIVE: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Serializes the tests whose figures depend on the machine being quiet (timing) with the
/// ones that load it (the real server), so that neither disturbs the other.
pub fn exclusive() -> std::sync::MutexGuard<'static, ()> {
    EXCLUSIVE
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The real result of `scenarios/llamacpp-smollm2.json` against llama-server.
pub const REAL_RESULT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/llamacpp-smollm2.result.json"
);

pub fn real_result() -> Value {
    serde_json::from_str(&std::fs::read_to_string(REAL_RESULT).unwrap()).unwrap()
}

/// Scales every sample of a point's `histograms[name]` by `factor`, keeping at most `keep`
/// evenly spaced samples, and sets `latency_ms[name]` to the new histogram's summary.
pub fn scale_latency(point: &mut Value, name: &str, factor: f64, keep: usize) {
    use llm_loadtest::metrics::LatencyHistogram;
    let encoded = &mut point["histograms"][name];
    let h = LatencyHistogram::from_base64(encoded.as_str().unwrap()).unwrap();
    let mut scaled = LatencyHistogram::default();
    for ms in h.samples_ms(keep) {
        scaled.record_us((ms * 1000.0 * factor).round() as u64);
    }
    *encoded = scaled.to_base64().into();
    point["latency_ms"][name] = serde_json::to_value(scaled.summary()).unwrap();
}

/// Writes `value` as JSON to `dir/name`; returns the path.
pub fn write_json(dir: &Path, name: &str, value: &Value) -> String {
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_string_pretty(value).unwrap()).unwrap();
    path.to_string_lossy().into_owned()
}

/// The real result with every latency `factor` times longer (and throughput to match).
pub fn slowed(factor: f64) -> Value {
    let mut result = real_result();
    for point in result["points"].as_array_mut().unwrap() {
        for name in ["ttft", "tpot", "itl", "e2e"] {
            scale_latency(point, name, factor, usize::MAX);
        }
        let throughput = &mut point["throughput"]["output_tokens_per_s"];
        *throughput = (throughput.as_f64().unwrap() / factor).into();
    }
    result
}
