//! The simulator's routes that describe the server, whatever generates its tokens, in
//! every dialect's words: OpenAI's `/v1/models`, `/tokenize` (one token per word, in
//! llama.cpp's, vLLM's and TGI's request shapes), `/health`, `/version`; TGI's `/info`;
//! Ollama's `/api/tags` and `/api/version`; Triton's `/v2`, `/v2/health/ready`,
//! `/v2/models/{model}` and `/v2/repository/index`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::request::count_tokens;

/// The served model, as the descriptive routes tell it.
#[derive(Clone)]
pub struct ModelInfo {
    pub model: String,
    pub max_model_len: u32,
}

const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The routes that describe the server.
pub fn info_routes(info: ModelInfo) -> Router {
    Router::new()
        .route("/v1/models", get(models))
        .route("/tokenize", post(tokenize))
        .route("/health", get(|| async { "ok" }))
        .route(
            "/version",
            get(|| async { Json(json!({"version": format!("llm-loadtest-sim {VERSION}")})) }),
        )
        .route("/info", get(tgi_info))
        .route("/api/tags", get(ollama_tags))
        .route(
            "/api/version",
            get(|| async { Json(json!({"version": VERSION})) }),
        )
        .route(
            "/v2",
            get(|| async { Json(json!({"name": "llm-loadtest-sim", "version": VERSION, "extensions": ["generate"]})) }),
        )
        .route("/v2/health/ready", get(|| async { StatusCode::OK }))
        .route("/v2/models/{model}", get(triton_model))
        .route("/v2/repository/index", post(triton_index))
        .with_state(info)
}

/// llama.cpp's `content`, vLLM's `prompt` or TGI's `inputs`.
#[derive(Deserialize)]
struct TokenizeBody {
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    prompt: Option<String>,
    #[serde(default)]
    inputs: Option<String>,
}

async fn tokenize(State(s): State<ModelInfo>, Json(body): Json<TokenizeBody>) -> Response {
    let TokenizeBody {
        content,
        prompt,
        inputs,
    } = body;
    if let Some(text) = inputs {
        // TGI answers the tokens themselves, as a list.
        let tokens: Vec<Value> = (0..count_tokens(&text))
            .map(|i| json!({"id": i, "text": "w", "start": 0, "stop": 0}))
            .collect();
        return Json(tokens).into_response();
    }
    let n = count_tokens(&content.or(prompt).unwrap_or_default());
    Json(json!({"tokens": (0..n).collect::<Vec<u32>>(), "count": n, "max_model_len": s.max_model_len}))
        .into_response()
}

async fn models(State(s): State<ModelInfo>) -> Json<Value> {
    Json(
        json!({"object": "list", "data": [{"id": s.model, "object": "model", "owned_by": "llm-loadtest-sim", "max_model_len": s.max_model_len}]}),
    )
}

async fn tgi_info(State(s): State<ModelInfo>) -> Json<Value> {
    Json(
        json!({"model_id": s.model, "version": VERSION, "max_total_tokens": s.max_model_len,
        "max_input_tokens": s.max_model_len.saturating_sub(1), "router": "llm-loadtest-sim"}),
    )
}

async fn ollama_tags(State(s): State<ModelInfo>) -> Json<Value> {
    Json(
        json!({"models": [{"name": s.model, "model": s.model, "size": 0,
        "details": {"format": "gguf", "family": "sim"}}]}),
    )
}

async fn triton_model(State(s): State<ModelInfo>, Path(model): Path<String>) -> Response {
    if model != s.model {
        let error = json!({"error": format!("Request for unknown model: '{model}' is not found")});
        return (StatusCode::NOT_FOUND, Json(error)).into_response();
    }
    Json(
        json!({"name": s.model, "versions": ["1"], "platform": "ensemble",
        "inputs": [{"name": "text_input", "datatype": "BYTES", "shape": [-1]}],
        "outputs": [{"name": "text_output", "datatype": "BYTES", "shape": [-1]}]}),
    )
    .into_response()
}

async fn triton_index(State(s): State<ModelInfo>) -> Json<Value> {
    Json(json!([{"name": s.model, "version": "1", "state": "READY"}]))
}
