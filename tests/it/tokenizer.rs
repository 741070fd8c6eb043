//! Prompt sizing against servers that tokenize differently: vLLM's `/tokenize` dialect
//! (`model` + `prompt`, answering `count`), and a server without `/tokenize` at all.

use serde_json::{json, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::fixture::{count_words, ok_stream, run_against_async};

/// vLLM's `/tokenize`: rejects llama.cpp's `content` body, counts `prompt` words.
struct VllmTokenizer;

impl Respond for VllmTokenizer {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&request.body).unwrap_or_default();
        match body["prompt"].as_str() {
            Some(prompt) if body["model"] == "m" => {
                let n = count_words(prompt);
                ResponseTemplate::new(200)
                    .set_body_json(json!({"count": n, "max_model_len": 8192, "tokens": vec![7; n]}))
            }
            _ => ResponseTemplate::new(400)
                .set_body_json(json!({"object": "error", "message": "Field required: prompt"})),
        }
    }
}

/// A chat endpoint that adds a 12-token template to the prompt's words in its usage.
struct TemplatedChat;

impl Respond for TemplatedChat {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&request.body).unwrap_or_default();
        let prompt_tokens =
            12 + count_words(body["messages"][0]["content"].as_str().unwrap_or_default());
        if body["stream"] == json!(true) {
            ok_stream(prompt_tokens, 4)
        } else {
            ResponseTemplate::new(200).set_body_json(json!({
                "choices": [{"message": {"content": "ok"}}],
                "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": 1}}))
        }
    }
}

async fn server(tokenize: Option<VllmTokenizer>) -> MockServer {
    let server = MockServer::start().await;
    if let Some(t) = tokenize {
        Mock::given(method("POST"))
            .and(path("/tokenize"))
            .respond_with(t)
            .mount(&server)
            .await;
    }
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(TemplatedChat)
        .mount(&server)
        .await;
    server
}

const FLAGS: &str = "--num-prompts 3 --input-len 100 --output-len 4 --warmup 0";

#[tokio::test]
async fn vllm_tokenize_dialect_gives_exact_prompts() {
    let server = server(Some(VllmTokenizer)).await;
    let r = run_against_async(server.uri(), FLAGS, &[]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let result = r.result();
    assert_eq!(result["prompts"]["tokenizer"], "server");
    assert_eq!(result["prompts"]["exact"], true);
    assert_eq!(result["prompts"]["template_overhead_tokens"], 12);
    assert_eq!(result["points"][0]["tokens"]["input_mean"], 100.0);
    assert_eq!(result["points"][0]["tokens"]["input_max_error"], 0);
}

#[tokio::test]
async fn without_tokenize_prompts_are_sized_with_tiktoken_and_marked_approximate() {
    let server = server(None).await;
    let r = run_against_async(server.uri(), FLAGS, &[]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let result = r.result();
    assert_eq!(result["prompts"]["tokenizer"], "cl100k_base");
    assert_eq!(result["prompts"]["exact"], false);
    // The mock counts words, and every vocabulary word is one cl100k token.
    assert_eq!(result["points"][0]["tokens"]["input_mean"], 100.0);
}
