//! Every adapter against wiremock serving response bytes in its engine's documented format
//! (`tests/fixtures/dialects/`, llama.cpp's recorded from llama-server): first tokens,
//! multi-token chunks, cumulative text, NDJSON, usage; error events, error bodies and
//! streams cut short, each counted under its kind. Each test holds the lock of the timing
//! tests while its runs load the machine (a test has a runtime of its own on its own
//! thread, so blocking on the lock stalls no other).

use serde_json::Value;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::fixture::{exclusive, mock_server, run_against_async};

/// One dialect: its adapter, its streaming path for model `m`, its recorded stream and
/// that stream's content type.
struct Dialect {
    adapter: &'static str,
    path: &'static str,
    fixture: &'static str,
    content_type: &'static str,
}

const SSE: &str = "text/event-stream";

const DIALECTS: [Dialect; 7] = [
    Dialect {
        adapter: "llamacpp",
        path: "/completion",
        fixture: "llamacpp.sse",
        content_type: SSE,
    },
    Dialect {
        adapter: "sglang",
        path: "/generate",
        fixture: "sglang.sse",
        content_type: SSE,
    },
    Dialect {
        adapter: "tgi",
        path: "/generate_stream",
        fixture: "tgi.sse",
        content_type: SSE,
    },
    Dialect {
        adapter: "triton",
        path: "/v2/models/m/generate_stream",
        fixture: "triton.sse",
        content_type: SSE,
    },
    Dialect {
        adapter: "ollama-chat",
        path: "/api/chat",
        fixture: "ollama-chat.ndjson",
        content_type: "application/x-ndjson",
    },
    Dialect {
        adapter: "ollama-generate",
        path: "/api/generate",
        fixture: "ollama-generate.ndjson",
        content_type: "application/x-ndjson",
    },
    Dialect {
        adapter: "openai-responses",
        path: "/v1/responses",
        fixture: "openai-responses.sse",
        content_type: SSE,
    },
];

fn recorded(name: &str) -> Vec<u8> {
    let file = format!(
        "{}/tests/fixtures/dialects/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&file).unwrap_or_else(|e| panic!("{file}: {e}"))
}

fn dialect(adapter: &str) -> &'static Dialect {
    DIALECTS.iter().find(|d| d.adapter == adapter).unwrap()
}

/// Runs three requests through `d`'s adapter against a server answering `response` at
/// its path; returns point 0 of the result. A point whose every request failed fails the
/// run (exit 1), with its result written.
async fn measure(d: &Dialect, response: ResponseTemplate) -> Value {
    let server = mock_server().await;
    Mock::given(method("POST"))
        .and(path(d.path))
        .respond_with(response)
        .mount(&server)
        .await;
    let flags: &'static str = Box::leak(
        format!(
            "--adapter {} --num-prompts 3 --concurrency 1 --input-len 8 --output-len 4 --warmup 0",
            d.adapter
        )
        .into_boxed_str(),
    );
    let r = run_against_async(server.uri(), flags, &[]).await;
    let point = r.result()["points"][0].clone();
    let expected = if point["requests"]["ok"] == 0 { 1 } else { 0 };
    assert_eq!(r.code, expected, "{}: {}", d.adapter, r.stderr);
    point
}

fn stream_of(d: &Dialect, bytes: Vec<u8>) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(bytes, d.content_type)
}

#[allow(clippy::await_holding_lock)]
#[tokio::test]
async fn recorded_streams_are_measured_in_every_dialect() {
    let _quiet = exclusive();
    // Output tokens by the server's own count, or one per chunk where it gives none.
    let expected = [
        ("llamacpp", 4.0, "server_usage"),
        ("sglang", 5.0, "server_usage"),
        ("tgi", 5.0, "server_usage"),
        ("triton", 4.0, "chunks"),
        ("ollama-chat", 4.0, "server_usage"),
        ("ollama-generate", 2.0, "server_usage"),
        ("openai-responses", 4.0, "server_usage"),
    ];
    for (adapter, output, source) in expected {
        let d = dialect(adapter);
        let point = measure(d, stream_of(d, recorded(d.fixture))).await;
        assert_eq!(point["requests"]["ok"], 3, "{adapter}: {point}");
        assert_eq!(point["tokens"]["output_mean"], output, "{adapter}");
        assert_eq!(point["tokens"]["source"], source, "{adapter}");
        assert!(
            point["latency_ms"]["ttft"]["p50"].as_f64().unwrap() > 0.0,
            "{adapter}"
        );
    }
}

/// The error kinds of point 0.
fn errors(point: &Value) -> Vec<(String, u64)> {
    let mut kinds: Vec<(String, u64)> = point["requests"]["errors"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_u64().unwrap()))
        .collect();
    kinds.sort();
    kinds
}

#[allow(clippy::await_holding_lock)]
#[tokio::test]
async fn error_events_mid_stream_are_counted_by_kind() {
    let _quiet = exclusive();
    let cases = [
        ("tgi", "tgi-error.sse", "stream_error"),
        ("ollama-chat", "ollama-error.ndjson", "stream_error"),
        ("triton", "triton-error.sse", "context_overflow"),
        (
            "openai-responses",
            "openai-responses-error.sse",
            "stream_error",
        ),
    ];
    for (adapter, fixture, kind) in cases {
        let d = dialect(adapter);
        let point = measure(d, stream_of(d, recorded(fixture))).await;
        assert_eq!(errors(&point), [(kind.to_owned(), 3)], "{adapter}: {point}");
    }
}

#[allow(clippy::await_holding_lock)]
#[tokio::test]
async fn error_bodies_are_classified_in_each_dialects_words() {
    let _quiet = exclusive();
    let cases = [
        (
            "tgi",
            422,
            r#"{"error":"Input validation error: `inputs` tokens + `max_new_tokens` must be <= 2048. Given: 2040 `inputs` tokens and 16 `max_new_tokens`","error_type":"validation"}"#,
            "context_overflow",
        ),
        (
            "sglang",
            400,
            r#"{"error":{"message":"The input (9000 tokens) is longer than the model's context length (8192 tokens)."}}"#,
            "context_overflow",
        ),
        (
            "llamacpp",
            400,
            r#"{"error":{"code":400,"message":"request (9001 tokens) exceeds the available context size (8192 tokens), try increasing it","type":"exceed_context_size_error"}}"#,
            "context_overflow",
        ),
        (
            "triton",
            400,
            r#"{"error":"Request for unknown model: 'm' is not found"}"#,
            "http_400",
        ),
        (
            "ollama-generate",
            404,
            r#"{"error":"model \"m\" not found, try pulling it first"}"#,
            "http_404",
        ),
        (
            "openai-responses",
            503,
            r#"{"object":"error","message":"overloaded","code":503}"#,
            "http_503",
        ),
    ];
    for (adapter, status, body, kind) in cases {
        let d = dialect(adapter);
        let answer = ResponseTemplate::new(status).set_body_raw(body, "application/json");
        let point = measure(d, answer).await;
        assert_eq!(errors(&point), [(kind.to_owned(), 3)], "{adapter}: {point}");
    }
}

#[allow(clippy::await_holding_lock)]
#[tokio::test]
async fn streams_cut_short_are_truncated() {
    let _quiet = exclusive();
    for d in &DIALECTS {
        let bytes = recorded(d.fixture);
        // Cut inside the second event: half an event is never one.
        let second = bytes.iter().position(|&b| b == b'\n').unwrap() + 3;
        let point = measure(d, stream_of(d, bytes[..second + 20].to_vec())).await;
        assert_eq!(
            errors(&point),
            [("stream_truncated".to_owned(), 3)],
            "{}: {point}",
            d.adapter
        );
    }
    // Cut between events, before the end: only Triton, which has no end marker, cannot tell.
    for d in &DIALECTS {
        let bytes = recorded(d.fixture);
        let text = String::from_utf8(bytes).unwrap();
        let separator = if d.content_type == SSE { "\n\n" } else { "\n" };
        let events: Vec<&str> = text.split_inclusive(separator).collect();
        let cut = events[..2].concat().into_bytes();
        let point = measure(d, stream_of(d, cut)).await;
        if d.adapter == "triton" {
            assert_eq!(point["requests"]["ok"], 3, "{point}");
        } else {
            assert_eq!(
                errors(&point),
                [("stream_truncated".to_owned(), 3)],
                "{}: {point}",
                d.adapter
            );
        }
    }
}
