//! Faults are data: every kind is counted under its own name, the run completes and exits 0.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::json;
use wiremock::matchers::{body_partial_json, method, path};
use wiremock::{Mock, Request, Respond, ResponseTemplate};

use crate::fixture::{
    closed_port, content_chunk, mock_server, ok_stream, run_against, run_against_async, sse,
};

/// Answers the n-th streamed request with the n-th fault.
struct FaultSequence {
    next: AtomicUsize,
    faults: Vec<ResponseTemplate>,
}

impl Respond for FaultSequence {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let i = self.next.fetch_add(1, Ordering::SeqCst);
        self.faults[i.min(self.faults.len() - 1)].clone()
    }
}

const LLAMA_CPP_OVERFLOW: &str = r#"{"error":{"code":400,"message":"the request exceeds the available context size, try increasing it","type":"exceed_context_size_error"}}"#;

#[tokio::test]
async fn each_fault_is_counted_under_its_own_kind() {
    let server = mock_server().await;
    // The template-overhead probe (not streamed) succeeds.
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .and(body_partial_json(json!({"stream": false})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "choices": [{"message": {"content": "ok"}}],
            "usage": {"prompt_tokens": 16, "completion_tokens": 1}})))
        .mount(&server)
        .await;
    let faults = vec![
        ResponseTemplate::new(500).set_body_string("internal error"),
        ResponseTemplate::new(429).set_body_string("rate limited"),
        ResponseTemplate::new(400).set_body_string(LLAMA_CPP_OVERFLOW),
        sse(content_chunk("a") + &content_chunk("b")), // cut without [DONE]
        sse(content_chunk("a") + "data: {\"choices\": [{\"delta\": \n\n" + "data: [DONE]\n\n"),
        sse(content_chunk("a")
            + "data: {\"error\": {\"message\": \"engine died\", \"code\": 500}}\n\n"),
        ok_stream(8, 4).set_delay(Duration::from_secs(3)), // stalls past --timeout 1
        ok_stream(8, 4),
    ];
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .and(body_partial_json(json!({"stream": true})))
        .respond_with(FaultSequence {
            next: AtomicUsize::new(0),
            faults,
        })
        .mount(&server)
        .await;

    let flags =
        "--concurrency 1 --num-prompts 8 --input-len 8 --output-len 4 --warmup 0 --timeout 1";
    let r = run_against_async(server.uri(), flags, &[]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    assert_eq!(
        r.errors(0),
        json!({"http_500": 1, "http_429": 1, "context_overflow": 1, "stream_truncated": 1,
               "malformed_chunk": 1, "stream_error": 1, "timeout": 1})
    );
    let point = &r.result()["points"][0];
    assert_eq!(
        (
            point["requests"]["ok"].as_u64(),
            point["requests"]["failed"].as_u64()
        ),
        (Some(1), Some(7))
    );
    assert!(
        r.stdout.contains("errors at concurrency=1,input_tokens=8:"),
        "{}",
        r.stdout
    );
}

#[test]
fn connection_refused_is_counted() {
    let url = format!("http://127.0.0.1:{}", closed_port());
    let flags = "--num-prompts 3 --input-len 8 --output-len 4 --warmup 0 --tokenizer cl100k_base";
    let r = run_against(&url, flags, &[]);
    assert_eq!(r.errors(0), json!({"connect": 3}));
    // Every request failed: the point failed, and the run says why with exit code 1.
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("✗ concurrency=1,input_tokens=8: every request failed (connect=3, first: "),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("FAIL: 1 of 1 points was not measured"),
        "{}",
        r.stdout
    );
}

/// OpenAI's own API: rejects the unknown `ignore_eos` argument with a 400.
struct StrictOpenAi;

impl Respond for StrictOpenAi {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap_or_default();
        if body.get("ignore_eos").is_some() {
            return ResponseTemplate::new(400).set_body_json(json!({"error": {
                "message": "Unrecognized request argument supplied: ignore_eos", "type": "invalid_request_error"}}));
        }
        if body["stream"] == json!(true) {
            ok_stream(20, 4)
        } else {
            ResponseTemplate::new(200).set_body_json(json!({
                "choices": [{"message": {"content": "ok"}}], "usage": {"prompt_tokens": 20, "completion_tokens": 1}}))
        }
    }
}

#[tokio::test]
async fn a_server_that_rejects_ignore_eos_is_measured_without_it() {
    let server = mock_server().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(StrictOpenAi)
        .mount(&server)
        .await;
    let r = run_against_async(
        server.uri(),
        "--num-prompts 2 --input-len 8 --output-len 4 --warmup 0",
        &[],
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let result = r.result();
    assert_eq!(result["scenario"]["workload"]["ignore_eos"], false);
    assert_eq!(
        result["points"][0]["requests"]["ok"], 2,
        "{}",
        result["points"][0]["requests"]
    );
    assert!(r.stderr.contains("rejects ignore_eos"), "{}", r.stderr);
}
