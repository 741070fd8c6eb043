//! Against a real llama-server (`.ci/run` builds and starts one and sets
//! `LLM_LOADTEST_REAL_SERVER`; without it these tests say so and pass): exact prompt and
//! output lengths by the server's own `usage`, no prompt-cache hits beyond the chat
//! template's lead-in, client TPOT against the server's `timings`, TTFT never below the
//! server's prompt time, a prompt over the context length counted as such, a staged ramp
//! of 1, 2 and 4 requests in flight seen as three plateaus in the timeline, shared
//! prefixes served from the cache, a conversation whose second turn carries the first, and
//! the OpenAI chat and llama.cpp's native dialects measured side by side alike.

use serde_json::Value;

use crate::fixture::{exclusive, run_against};

fn server() -> Option<String> {
    match std::env::var("LLM_LOADTEST_REAL_SERVER") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            eprintln!("LLM_LOADTEST_REAL_SERVER is not set: the real-server test does not run");
            None
        }
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

#[test]
fn llama_server_measurements_agree_with_the_server() {
    let Some(url) = server() else { return };
    let _quiet = exclusive();
    let r = run_against(
        &url,
        "--concurrency 1,4 --num-prompts 16 --input-len 512 --output-len 64",
        &[],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let result = r.result();
    let points = result["points"].as_array().unwrap();
    assert_eq!(points.len(), 2);
    assert_eq!(
        result["prompts"]["tokenizer"], "server",
        "llama-server's /tokenize is used"
    );
    let lead_in = result["prompts"]["template_overhead_tokens"]
        .as_u64()
        .expect("server reports usage");
    let requests = r.requests();
    for point in points {
        let id = point["id"].as_str().unwrap();
        assert_eq!(point["requests"]["ok"], 16, "{id}: {}", point["requests"]);
        let lines: Vec<&Value> = requests.iter().filter(|l| l["point"] == id).collect();
        assert_eq!(lines.len(), 16);
        let mut server_tpot = Vec::new();
        for line in &lines {
            let usage = &line["usage"];
            assert_eq!(usage["completion_tokens"], 64, "{line}");
            let prompt = usage["prompt_tokens"].as_i64().unwrap();
            assert!((prompt - 512).abs() <= 2, "prompt tokens {prompt}");
            let timings = &line["server_timings"];
            let cached = timings["cache_n"].as_u64().unwrap();
            assert!(
                cached <= lead_in,
                "{cached} cached tokens, template lead-in {lead_in}"
            );
            let prompt_ms = timings["prompt_ms"].as_f64().unwrap();
            let ttft = line["ttft_ms"].as_f64().unwrap();
            assert!(
                ttft >= prompt_ms,
                "TTFT {ttft} below the server's prompt_ms {prompt_ms}"
            );
            server_tpot.push(timings["predicted_per_token_ms"].as_f64().unwrap());
        }
        let client_tpot = point["latency_ms"]["tpot"]["p50"].as_f64().unwrap();
        let server_tpot = median(server_tpot);
        let ratio = client_tpot / server_tpot;
        eprintln!("{id}: client TPOT p50 {client_tpot:.2} ms, server median {server_tpot:.2} ms, ratio {ratio:.3}");
        assert!((ratio - 1.0).abs() <= 0.10, "{id}: ratio {ratio}");
    }
    let cpu = &result["client"];
    eprintln!(
        "client CPU: whole process {:.3} s user + {:.3} s system; measuring {:.3} s user + {:.3} s system; peak RSS {:.1} MiB",
        cpu["cpu"]["user_s"].as_f64().unwrap(),
        cpu["cpu"]["system_s"].as_f64().unwrap(),
        cpu["measuring_cpu"]["user_s"].as_f64().unwrap(),
        cpu["measuring_cpu"]["system_s"].as_f64().unwrap(),
        cpu["peak_rss_mib"].as_f64().unwrap(),
    );
}

/// Output per-token time (client TPOT p50, server `predicted_per_token_ms` median) and the
/// server's prompt and output token counts of one run.
fn tpot_and_counts(r: &crate::fixture::Run) -> (f64, f64, Vec<(u64, u64)>) {
    assert_eq!(r.code, 0, "{}", r.stderr);
    let point = &r.result()["points"][0];
    assert_eq!(point["requests"]["ok"], 12, "{point}");
    let requests = r.requests();
    let server = median(
        requests
            .iter()
            .map(|l| {
                l["server_timings"]["predicted_per_token_ms"]
                    .as_f64()
                    .unwrap()
            })
            .collect(),
    );
    let mut counts: Vec<(u64, u64)> = requests
        .iter()
        .map(|l| {
            let u = &l["usage"];
            (
                u["prompt_tokens"].as_u64().unwrap(),
                u["completion_tokens"].as_u64().unwrap(),
            )
        })
        .collect();
    counts.dedup();
    let tpot = point["latency_ms"]["tpot"]["p50"].as_f64().unwrap();
    (tpot, server, counts)
}

#[test]
fn openai_chat_and_llamacpp_native_measure_the_same_server_alike() {
    let Some(url) = server() else { return };
    let _quiet = exclusive();
    // Side by side, at the same time: continuous batching decodes both in the same steps,
    // so the machine's drift between runs does not come between the two.
    let flags = "--concurrency 1 --num-prompts 12 --input-len 64 --output-len 96 --warmup 1";
    let runs: Vec<_> = ["openai-chat", "llamacpp"]
        .into_iter()
        .map(|adapter| {
            let (url, flags) = (url.clone(), format!("--adapter {adapter} {flags}"));
            std::thread::spawn(move || run_against(&url, &flags, &[]))
        })
        .collect();
    let measured: Vec<_> = runs
        .into_iter()
        .map(|run| tpot_and_counts(&run.join().unwrap()))
        .collect();
    let (chat, native) = (&measured[0], &measured[1]);
    eprintln!(
        "openai-chat: TPOT p50 {:.3} ms, server {:.3} ms/token, counts {:?}",
        chat.0, chat.1, chat.2
    );
    eprintln!(
        "llamacpp: TPOT p50 {:.3} ms, server {:.3} ms/token, counts {:?}",
        native.0, native.1, native.2
    );
    assert_eq!(chat.2, [(64, 96)], "exact lengths by the server's numbers");
    assert_eq!(native.2, chat.2, "the same counts through both dialects");
    let close = |a: f64, b: f64| (a / b - 1.0).abs() <= 0.05;
    assert!(
        close(chat.0, native.0),
        "TPOT p50 {} vs {}",
        chat.0,
        native.0
    );
    for (tpot, server, _) in &measured {
        assert!(
            close(*tpot, *server),
            "TPOT p50 {tpot} vs the server's {server}"
        );
    }
}

#[test]
fn a_prompt_beyond_llama_servers_context_fails_its_point() {
    let Some(url) = server() else { return };
    let _quiet = exclusive();
    // llama-server advertises its per-slot context (`/props`): a prompt beyond it fails its
    // point with the reason before anything is sent.
    let r = run_against(
        &url,
        "--num-prompts 2 --input-len 9000 --output-len 8 --warmup 0",
        &[],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stdout.contains(
            "input_tokens 9000 + output_tokens 8 (the longest asked for) do not fit the server's context of 8192 tokens"
        ),
        "{}",
        r.stdout
    );
    assert_eq!(r.result()["points"][0]["requests"]["total"], 0);
}

#[test]
fn a_staged_ramp_shows_its_plateaus_in_the_timeline() {
    let Some(url) = server() else { return };
    let _quiet = exclusive();
    let dir = tempfile::tempdir().unwrap();
    // 1, then 2, then 4 requests in flight for 5 s each (llama-server has 4 slots).
    let stages: Vec<serde_json::Value> = [1, 2, 4]
        .iter()
        .flat_map(|&c| {
            [
                serde_json::json!({"duration_s": 0, "concurrency": c}),
                serde_json::json!({"duration_s": 5, "concurrency": c}),
            ]
        })
        .collect();
    let scenario = serde_json::json!({
        "name": "ramp",
        "target": {"base_url": url},
        "workload": {"input_tokens": [64], "output_tokens": 16},
        "load": {"stages": stages, "warmup": 0}
    });
    let file = crate::fixture::write_json(dir.path(), "ramp.json", &scenario);
    let r = crate::fixture::run(&["run", &file], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let point = &r.result()["points"][0];
    let windows = point["timeline"]["windows"].as_array().unwrap();
    for (level, from) in [(1.0, 1.0), (2.0, 6.0), (4.0, 11.0)] {
        let plateau: Vec<f64> = windows
            .iter()
            .filter(|w| (from..from + 3.0).contains(&w["start_s"].as_f64().unwrap()))
            .map(|w| w["in_flight"].as_f64().unwrap())
            .collect();
        assert_eq!(plateau.len(), 3, "{windows:?}");
        assert_eq!(
            median(plateau.clone()),
            level,
            "plateau at {from} s: {plateau:?}"
        );
    }
    let stages = point["stages"].as_array().unwrap();
    assert_eq!(stages.len(), 3);
    assert!(stages
        .iter()
        .all(|s| s["requests"]["ok"].as_u64().unwrap() > 0));
}

/// The share of prompt tokens llama-server's cache served for a run of `prompt` (the
/// workload's prompt source), 12 requests of 512 tokens one at a time.
fn cached_share(url: &str, prompt: serde_json::Value) -> (f64, u64) {
    let dir = tempfile::tempdir().unwrap();
    let scenario = serde_json::json!({
        "name": "prefix-cache",
        "target": {"base_url": url},
        "workload": {"input_tokens": [512], "output_tokens": 8, "prompt": prompt},
        "load": {"concurrency": [1], "requests": 12, "warmup": 0}
    });
    let file = crate::fixture::write_json(dir.path(), "prefix.json", &scenario);
    let r = crate::fixture::run(&["run", &file], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let result = r.result();
    let share = result["points"][0]["tokens"]["cached_share"]
        .as_f64()
        .expect("llama-server says what its cache served");
    (
        share,
        result["prompts"]["template_overhead_tokens"]
            .as_u64()
            .unwrap(),
    )
}

#[test]
fn a_shared_prefix_is_served_from_the_cache_and_unique_prompts_are_not() {
    let Some(url) = server() else { return };
    let _quiet = exclusive();
    let (shared, lead_in) = cached_share(
        &url,
        serde_json::json!({"kind": "shared_prefix", "prefixes": 2, "prefix_tokens": 384}),
    );
    let (unique, _) = cached_share(&url, serde_json::json!({"kind": "synthetic"}));
    // After the first request of each prefix, the template's lead-in and the 384 shared
    // tokens of every 512-token prompt are in the cache: (10 × (lead-in + 384)) / (12 × 512).
    let expected = 10.0 * (lead_in as f64 + 384.0) / (12.0 * 512.0);
    assert!(
        shared > 0.9 * expected,
        "shared prefixes: {shared:.3} of the prompt tokens cached, expected about {expected:.3}"
    );
    let lead_share = (lead_in as f64 + 1.0) / 512.0;
    assert!(
        unique <= lead_share,
        "unique prompts: {unique:.3} cached, at most the lead-in's {lead_share:.3}"
    );
}

#[test]
fn a_conversations_second_turn_sends_the_first_turns_history() {
    let Some(url) = server() else { return };
    let _quiet = exclusive();
    let dir = tempfile::tempdir().unwrap();
    let scenario = serde_json::json!({
        "name": "conversation",
        "target": {"base_url": url},
        "workload": {"input_tokens": [64], "output_tokens": 16,
                     "prompt": {"kind": "conversation", "turns": 2, "think_time_s": 0.2}},
        "load": {"concurrency": [2], "requests": 4, "warmup": 0}
    });
    let file = crate::fixture::write_json(dir.path(), "conversation.json", &scenario);
    let r = crate::fixture::run(&["run", &file], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let requests = r.requests();
    assert_eq!(requests.len(), 8, "4 conversations of 2 turns");
    let overhead = r.result()["prompts"]["template_overhead_tokens"]
        .as_u64()
        .unwrap();
    let usage = |q: &Value, field: &str| q["usage"][field].as_u64().unwrap();
    for first in requests.iter().filter(|q| q.get("turn").is_none()) {
        let second = requests
            .iter()
            .find(|q| q["index"] == first["index"] && q["turn"] == 1)
            .expect("every conversation has its second turn");
        let (prompt, reply) = (
            usage(first, "prompt_tokens"),
            usage(first, "completion_tokens"),
        );
        assert_eq!((prompt, reply), (64, 16), "the first turn as asked");
        // The second turn holds the first prompt, its reply and a new 64-token message
        // (less the template's lead-in, which the history's template already has).
        let at_least = prompt + reply + (64 - overhead);
        let sent = usage(second, "prompt_tokens");
        assert!(
            sent >= at_least,
            "second turn: {sent} prompt tokens, at least {at_least} expected"
        );
        assert!(
            sent < at_least + 32,
            "second turn: {sent} prompt tokens, at most a template more than {at_least}"
        );
    }
    let turns = r.result()["points"][0]["turns"].clone();
    assert_eq!(turns.as_array().unwrap().len(), 2, "figures per turn");
}

#[test]
fn recommend_finds_where_llama_server_stops_meeting_a_ttft_slo_and_repeats_it() {
    let Some(url) = server() else { return };
    let _quiet = exclusive();
    let dir = tempfile::tempdir().unwrap();
    let answer = |name: &str| -> serde_json::Value {
        let out = dir.path().join(name);
        let (code, stdout, stderr) = crate::fixture::run_plain_slow(&[
            "recommend",
            "--server",
            &url,
            "--input-len",
            "64",
            "--output-len",
            "8",
            "--slo",
            "ttft:400",
            "--goodput-target",
            "90",
            "--peak-concurrency",
            "20",
            "--max-load",
            "16",
            "-o",
            out.to_str().unwrap(),
        ]);
        assert_eq!(code, 0, "{stdout}{stderr}");
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap()
    };
    let (first, second) = (answer("a.json"), answer("b.json"));
    let found = |a: &serde_json::Value| a["sustainable_concurrency"].as_f64().unwrap();
    for a in [&first, &second] {
        let probes = a["configurations"][0]["probes"].as_array().unwrap();
        let meets_at_1 = probes
            .iter()
            .any(|p| p["load"] == 1.0 && p["goodput"]["ratio"].as_f64().unwrap() >= 0.9);
        assert!(meets_at_1, "the SLO holds at one request in flight: {a}");
        assert!(found(a) < 8.0, "and breaks before eight: {a}");
        assert_eq!(a["configurations"][0]["binding"], "TTFT");
    }
    assert!(
        (found(&first) - found(&second)).abs() <= 1.0,
        "{} then {}",
        found(&first),
        found(&second)
    );
}
