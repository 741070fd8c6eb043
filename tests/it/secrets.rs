//! An API key reaches the server and nothing else: not the result, the JSONL, stdout or
//! any log line, even at trace level.

use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::fixture::{mock_server, ok_stream, run_against_async, Run};

const SECRET: &str = "sk-test-secret";
const FLAGS: &str = "--num-prompts 2 --input-len 8 --output-len 4 --warmup 1";

async fn server_requiring_the_key() -> MockServer {
    server_requiring(&format!("Bearer {SECRET}")).await
}

/// A server that answers only requests with this Authorization header (401 otherwise).
async fn server_requiring(authorization: &str) -> MockServer {
    let server = mock_server().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .and(header("authorization", authorization))
        .respond_with(ok_stream(8, 4))
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(401))
        .with_priority(2)
        .mount(&server)
        .await;
    server
}

fn assert_no_secret(r: &Run) {
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.result()["points"][0]["requests"]["ok"],
        2,
        "the key must reach the server"
    );
    for (what, text) in [
        ("result", std::fs::read_to_string(r.result_path()).unwrap()),
        (
            "requests",
            std::fs::read_to_string(r.requests_path()).unwrap(),
        ),
        ("stdout", r.stdout.clone()),
        ("stderr", r.stderr.clone()),
    ] {
        assert!(!text.contains(SECRET), "the key leaked into {what}");
    }
    assert!(
        !r.stderr.is_empty(),
        "trace logging produced output to check"
    );
}

#[tokio::test]
async fn api_key_flag_never_reaches_outputs_or_logs() {
    let server = server_requiring_the_key().await;
    let flags = "--num-prompts 2 --input-len 8 --output-len 4 --warmup 1 --api-key sk-test-secret";
    let r = run_against_async(server.uri(), flags, &[("LLM_LOADTEST_LOG", "trace")]).await;
    assert_no_secret(&r);
}

#[tokio::test]
async fn api_key_from_the_environment_never_reaches_outputs_or_logs() {
    let server = server_requiring_the_key().await;
    let env = &[("OPENAI_API_KEY", SECRET), ("LLM_LOADTEST_LOG", "trace")];
    let r = run_against_async(server.uri(), FLAGS, env).await;
    assert_no_secret(&r);
}

/// A user and password in the base URL go as HTTP basic authentication, and appear in no
/// output and no log line, at any level.
#[tokio::test]
async fn credentials_in_the_base_url_never_reach_outputs_or_logs() {
    // "user:url-pass-4711", base64.
    let server = server_requiring("Basic dXNlcjp1cmwtcGFzcy00NzEx").await;
    let url = server
        .uri()
        .replace("http://", "http://user:url-pass-4711@");
    let r = run_against_async(url, FLAGS, &[("LLM_LOADTEST_LOG", "trace")]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.result()["points"][0]["requests"]["ok"],
        2,
        "the credentials must reach the server"
    );
    for (what, text) in [
        ("result", std::fs::read_to_string(r.result_path()).unwrap()),
        ("stdout", r.stdout.clone()),
        ("stderr", r.stderr.clone()),
    ] {
        assert!(
            !text.contains("url-pass-4711"),
            "the password leaked into {what}"
        );
    }
    assert!(
        !r.stderr.is_empty(),
        "trace logging produced output to check"
    );
}
