//! Client fidelity and cost at scale. Each case starts the simulator's precise emitter
//! (`llm-loadtest sim --emit-interval-ms`, its own process), which streams chunks on a fixed
//! clock and records when it sent each one, then `llm-loadtest run` against it (another
//! process) with a per-request log. Per case it prints: tokens/s ingested against what a
//! perfect client would see, the error of the measured TTFT and ITL against the emitter's
//! send times (|error| p50, p99, max), client CPU per token and peak RSS per stream.
//!
//! `cargo bench --bench fidelity` runs every case; `cargo bench --bench fidelity -- 1k long`
//! the cases whose names contain one of the words. It reports figures and never fails on
//! one; it fails only when a process cannot run.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use llm_loadtest::result::Host;
use llm_loadtest::result::RunResult;
use serde::Deserialize;

const BIN: &str = env!("CARGO_BIN_EXE_llm-loadtest");

/// One measured situation.
struct Case {
    name: &'static str,
    streams: u32,
    requests: u32,
    input_tokens: u32,
    output_tokens: u32,
    /// Between chunks; 0 is flat out.
    interval_ms: f64,
    first_token_ms: f64,
}

const CASES: [Case; 7] = [
    Case {
        name: "1 stream × 50 tok/s",
        streams: 1,
        requests: 10,
        input_tokens: 100,
        output_tokens: 100,
        interval_ms: 20.0,
        first_token_ms: 50.0,
    },
    Case {
        name: "100 streams × 50 tok/s",
        streams: 100,
        requests: 400,
        input_tokens: 100,
        output_tokens: 100,
        interval_ms: 20.0,
        first_token_ms: 50.0,
    },
    Case {
        name: "1k streams × 50 tok/s",
        streams: 1_000,
        requests: 2_000,
        input_tokens: 100,
        output_tokens: 100,
        interval_ms: 20.0,
        first_token_ms: 50.0,
    },
    Case {
        name: "10k streams × 2 tok/s",
        streams: 10_000,
        requests: 10_000,
        input_tokens: 100,
        output_tokens: 20,
        interval_ms: 500.0,
        first_token_ms: 500.0,
    },
    Case {
        name: "flat out, 4 streams",
        streams: 4,
        requests: 8,
        input_tokens: 100,
        output_tokens: 100_000,
        interval_ms: 0.0,
        first_token_ms: 0.0,
    },
    Case {
        name: "64 streams, short prompts, 4k out",
        streams: 64,
        requests: 64,
        input_tokens: 100,
        output_tokens: 4_000,
        interval_ms: 1.0,
        first_token_ms: 50.0,
    },
    Case {
        name: "64 streams, long prompts (10k), 4k out",
        streams: 64,
        requests: 64,
        input_tokens: 10_000,
        output_tokens: 4_000,
        interval_ms: 1.0,
        first_token_ms: 50.0,
    },
];

/// A line of the harness's per-request log (`--requests-out`).
#[derive(Deserialize)]
struct Measured {
    request_id: String,
    sent_clock_us: u64,
    ok: bool,
    chunk_ms: Vec<f64>,
}

/// A line of the emitter's `/truth`.
#[derive(Deserialize)]
struct Truth {
    request_id: String,
    sent_us: Vec<u64>,
}

/// What one case measured.
struct Figures {
    ok: usize,
    failed: usize,
    ingested_tokens_per_s: f64,
    offered_tokens_per_s: Option<f64>,
    /// Tokens the emitter sent per second, from the first request to its last send.
    emitted_tokens_per_s: Option<f64>,
    ttft_error_ms: Option<[f64; 3]>,
    itl_error_ms: Option<[f64; 3]>,
    cpu_s: f64,
    cpu_us_per_token: f64,
    chunks_per_cpu_s: f64,
    rss_mib: f64,
    rss_kib_per_stream: f64,
}

/// An emitter process, killed when dropped.
struct Emitter {
    child: Child,
    url: String,
}

impl Emitter {
    fn start(case: &Case) -> Self {
        let mut child = Command::new(BIN)
            .args(["sim", "--port", "0"])
            .args(["--emit-interval-ms", &case.interval_ms.to_string()])
            .args(["--emit-first-token-ms", &case.first_token_ms.to_string()])
            .stdout(Stdio::piped())
            .spawn()
            .expect("the emitter starts");
        let mut line = String::new();
        let stdout = child.stdout.take().expect("piped stdout");
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("the emitter prints its address");
        let url = line
            .rsplit(' ')
            .next()
            .map(str::trim)
            .filter(|u| u.starts_with("http://"))
            .unwrap_or_else(|| panic!("no address in `{line}`"))
            .to_owned();
        Self { child, url }
    }

    fn truth(&self) -> HashMap<String, Vec<u64>> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let body = runtime
            .block_on(async {
                reqwest::get(format!("{}/truth", self.url))
                    .await?
                    .text()
                    .await
            })
            .expect("the emitter serves /truth");
        body.lines()
            .map(|l| serde_json::from_str::<Truth>(l).expect("a truth line"))
            .map(|t| (t.request_id, t.sent_us))
            .collect()
    }
}

impl Drop for Emitter {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn run_case(case: &Case, dir: &Path) -> Figures {
    let emitter = Emitter::start(case);
    let result_path = dir.join("result.json");
    let requests_path = dir.join("requests.jsonl");
    let output = Command::new(BIN)
        .args([
            "run",
            "--server",
            &emitter.url,
            "--warmup",
            "0",
            "--seed",
            "1",
        ])
        .args(["--timeout", "600", "--tokenizer", "server"])
        .args(["--concurrency", &case.streams.to_string()])
        .args(["--num-prompts", &case.requests.to_string()])
        .args(["--input-len", &case.input_tokens.to_string()])
        .args(["--output-len", &case.output_tokens.to_string()])
        .arg("--output")
        .arg(&result_path)
        .arg("--requests-out")
        .arg(&requests_path)
        .output()
        .expect("the harness runs");
    if !output.status.success() {
        panic!(
            "`llm-loadtest run` failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let truth = if case.interval_ms > 0.0 {
        emitter.truth()
    } else {
        HashMap::new()
    };
    drop(emitter);
    let result: RunResult =
        serde_json::from_slice(&std::fs::read(&result_path).expect("a result")).expect("JSON");
    let measured: Vec<Measured> = std::fs::read_to_string(&requests_path)
        .expect("a request log")
        .lines()
        .map(|l| serde_json::from_str(l).expect("a request line"))
        .collect();
    figures(case, &result, &measured, &truth)
}

fn figures(
    case: &Case,
    result: &RunResult,
    measured: &[Measured],
    truth: &HashMap<String, Vec<u64>>,
) -> Figures {
    let point = &result.points[0];
    let (mut ttft_errors, mut itl_errors) = (Vec::new(), Vec::new());
    let (mut first_send, mut last_emit, mut emitted) = (u64::MAX, 0, 0);
    for m in measured.iter().filter(|m| m.ok) {
        first_send = first_send.min(m.sent_clock_us);
        if let Some(sent) = truth.get(&m.request_id) {
            last_emit = last_emit.max(sent.last().copied().unwrap_or(0));
            emitted += sent.len();
        }
        let Some(sent) = truth.get(&m.request_id) else {
            continue;
        };
        // Arrival times on the shared monotonic clock.
        let arrived: Vec<f64> = m
            .chunk_ms
            .iter()
            .map(|ms| m.sent_clock_us as f64 + ms * 1000.0)
            .collect();
        if let (Some(a), Some(s)) = (arrived.first(), sent.first()) {
            ttft_errors.push((a - *s as f64).abs() / 1000.0);
        }
        for k in 1..arrived.len().min(sent.len()) {
            let measured_gap = arrived[k] - arrived[k - 1];
            let true_gap = (sent[k] - sent[k - 1]) as f64;
            itl_errors.push((measured_gap - true_gap).abs() / 1000.0);
        }
    }
    let tokens = point.tokens.output_mean * point.requests.ok as f64;
    let cpu = &point.client_cpu;
    let cpu_s = cpu.user_s + cpu.system_s;
    let chunks = tokens; // one token per chunk
    let ideal_e2e_s =
        (case.first_token_ms + case.interval_ms * f64::from(case.output_tokens - 1)) / 1000.0;
    Figures {
        ok: point.requests.ok as usize,
        failed: point.requests.failed as usize,
        ingested_tokens_per_s: point.throughput.output_tokens_per_s,
        offered_tokens_per_s: (case.interval_ms > 0.0)
            .then(|| f64::from(case.streams * case.output_tokens) / ideal_e2e_s),
        emitted_tokens_per_s: (last_emit > first_send)
            .then(|| emitted as f64 * 1e6 / (last_emit - first_send) as f64),
        ttft_error_ms: summary(ttft_errors),
        itl_error_ms: summary(itl_errors),
        cpu_s,
        cpu_us_per_token: cpu_s * 1e6 / tokens.max(1.0),
        chunks_per_cpu_s: chunks / cpu_s.max(1e-9),
        rss_mib: result.client.peak_rss_mib,
        rss_kib_per_stream: result.client.peak_rss_mib * 1024.0 / f64::from(case.streams),
    }
}

/// p50, p99 and max.
fn summary(mut values: Vec<f64>) -> Option<[f64; 3]> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let at = |q: f64| values[((values.len() - 1) as f64 * q).round() as usize];
    Some([at(0.5), at(0.99), values[values.len() - 1]])
}

fn errors(e: Option<[f64; 3]>) -> String {
    match e {
        Some([p50, p99, max]) => format!("{p50:.3} / {p99:.3} / {max:.3}"),
        None => "—".into(),
    }
}

fn row(case: &Case, f: &Figures) -> String {
    let share = match (f.offered_tokens_per_s, f.emitted_tokens_per_s) {
        (Some(offered), Some(emitted)) => format!(
            "{:.0}: {:.1}% of a perfect client's {offered:.0}; emitter sent {emitted:.0}",
            f.ingested_tokens_per_s,
            100.0 * f.ingested_tokens_per_s / offered
        ),
        _ => format!("{:.0} (flat out)", f.ingested_tokens_per_s),
    };
    format!(
        "| {} | {}{} | {share} | {} | {} | {:.2} s, {:.2} µs/token, {:.0}k chunks/CPU-s | {:.0} MiB, {:.1} KiB/stream |",
        case.name,
        f.ok,
        if f.failed > 0 { format!(" ({} failed)", f.failed) } else { String::new() },
        errors(f.ttft_error_ms),
        errors(f.itl_error_ms),
        f.cpu_s,
        f.cpu_us_per_token,
        f.chunks_per_cpu_s / 1000.0,
        f.rss_mib,
        f.rss_kib_per_stream,
    )
}

fn main() {
    let words: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    println!(
        "llm-loadtest {} client fidelity on {}",
        env!("CARGO_PKG_VERSION"),
        Host::current()
    );
    println!("Emitter and harness in separate processes on the same machine; errors are |measured − emitter's send times|, in ms; CPU and RSS are the harness's over the measured window.\n");
    println!("| case | requests ok | tokens/s ingested | TTFT error p50 / p99 / max | ITL error p50 / p99 / max | client CPU | client peak RSS |");
    println!("| --- | --: | --: | --: | --: | --: | --: |");
    for case in CASES
        .iter()
        .filter(|c| words.is_empty() || words.iter().any(|w| c.name.contains(w.as_str())))
    {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let figures = run_case(case, dir.path());
        println!("{}", row(case, &figures));
        std::thread::sleep(Duration::from_millis(500));
    }
}
