//! The simulator's OpenAI-compatible HTTP API (axum): `/v1/chat/completions` and
//! `/v1/completions` (streamed with usage, or whole), `/v1/models`, `/tokenize` (one token
//! per whitespace-separated word, in llama.cpp's and vLLM's request shapes), `/health`,
//! `/version` and `/metrics` with vLLM's metric names. Faults are injected per request
//! when the fault settings ask for them.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures_util::stream;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::sync::mpsc;

use super::engine::{Event, Request, Stats};
use super::Faults;

/// The served model, as `/v1/models` and `/tokenize` describe it.
#[derive(Clone)]
pub struct ModelInfo {
    pub model: String,
    pub max_model_len: u32,
}

/// What every handler of the engine's routes shares.
#[derive(Clone)]
pub struct Shared {
    pub info: ModelInfo,
    pub engine: mpsc::UnboundedSender<Request>,
    pub stats: Arc<Mutex<Stats>>,
    pub faults: Faults,
    pub rng: Arc<Mutex<ChaCha8Rng>>,
}

/// The routes of the simulated server.
pub fn router(shared: Shared) -> Router {
    let info = shared.info.clone();
    Router::new()
        .route("/v1/chat/completions", post(chat))
        .route("/v1/completions", post(completions))
        .route("/metrics", get(metrics))
        .with_state(shared)
        .merge(info_routes(info))
}

/// The routes that describe the server, whatever generates its tokens.
pub fn info_routes(info: ModelInfo) -> Router {
    Router::new()
        .route("/v1/models", get(models))
        .route("/tokenize", post(tokenize))
        .route("/health", get(|| async { "ok" }))
        .route(
            "/version",
            get(|| async {
                Json(json!({"version": concat!("llm-loadtest-sim ", env!("CARGO_PKG_VERSION"))}))
            }),
        )
        .with_state(info)
}

/// Tokens of a text: its whitespace-separated words.
fn count_tokens(text: &str) -> u32 {
    text.split_whitespace().count() as u32
}

#[derive(Deserialize)]
struct TokenizeBody {
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    prompt: Option<String>,
}

async fn tokenize(State(s): State<ModelInfo>, Json(body): Json<TokenizeBody>) -> Json<Value> {
    let text = body.content.or(body.prompt).unwrap_or_default();
    let n = count_tokens(&text);
    Json(
        json!({"tokens": (0..n).collect::<Vec<u32>>(), "count": n, "max_model_len": s.max_model_len}),
    )
}

async fn models(State(s): State<ModelInfo>) -> Json<Value> {
    Json(
        json!({"object": "list", "data": [{"id": s.model, "object": "model", "owned_by": "llm-loadtest-sim", "max_model_len": s.max_model_len}]}),
    )
}

async fn metrics(State(s): State<Shared>) -> Response {
    let st = s.stats.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let kv = if st.kv_capacity_tokens == 0 {
        0.0
    } else {
        st.kv_used_tokens as f64 / st.kv_capacity_tokens as f64
    };
    let label = format!(
        "{{model_name=\"{}\"}}",
        s.info.model.replace(['"', '\\'], "_")
    );
    let series = [
        (
            "vllm:num_requests_running",
            "gauge",
            "Number of requests in model execution batches.",
            st.running as f64,
        ),
        (
            "vllm:num_requests_waiting",
            "gauge",
            "Number of requests waiting to be processed.",
            st.waiting as f64,
        ),
        (
            "vllm:kv_cache_usage_perc",
            "gauge",
            "KV-cache usage. 1 means 100 percent usage.",
            kv,
        ),
        (
            "vllm:num_preemptions_total",
            "counter",
            "Cumulative number of preemptions from the engine.",
            st.preemptions_total as f64,
        ),
        (
            "vllm:prompt_tokens_total",
            "counter",
            "Number of prefill tokens processed.",
            st.prompt_tokens_total as f64,
        ),
        (
            "vllm:generation_tokens_total",
            "counter",
            "Number of generation tokens processed.",
            st.generation_tokens_total as f64,
        ),
        (
            "vllm:request_success_total",
            "counter",
            "Count of successfully processed requests.",
            st.requests_finished_total as f64,
        ),
    ];
    let mut text = String::new();
    for (name, kind, help, value) in series {
        text.push_str(&format!(
            "# HELP {name} {help}\n# TYPE {name} {kind}\n{name}{label} {value}\n"
        ));
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}

#[derive(Deserialize)]
struct Message {
    #[serde(default)]
    content: Value,
}

/// The fields of a chat or completions request that the simulator reads.
#[derive(Deserialize)]
pub struct CompletionBody {
    #[serde(default)]
    messages: Vec<Message>,
    #[serde(default)]
    prompt: Option<Value>,
    #[serde(default)]
    max_tokens: Option<u32>,
    #[serde(default)]
    max_completion_tokens: Option<u32>,
    #[serde(default)]
    pub stream: bool,
}

impl CompletionBody {
    /// Tokens to generate (16 when the request does not say, as OpenAI's API).
    pub fn max_tokens(&self) -> u32 {
        self.max_completion_tokens
            .or(self.max_tokens)
            .unwrap_or(16)
            .max(1)
    }

    /// Prompt tokens: whitespace-separated words of the messages or prompt.
    pub fn prompt_tokens(&self) -> u32 {
        let text_of = |v: &Value| match v {
            Value::String(s) => count_tokens(s),
            Value::Array(parts) => parts
                .iter()
                .map(|p| count_tokens(p["text"].as_str().unwrap_or_default()))
                .sum(),
            _ => 0,
        };
        self.messages
            .iter()
            .map(|m| text_of(&m.content))
            .sum::<u32>()
            + self.prompt.as_ref().map_or(0, text_of)
    }
}

/// The two response shapes.
#[derive(Clone, Copy)]
pub enum Api {
    Chat,
    Completions,
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({"object": "error", "message": message, "type": "BadRequestError", "code": status.as_u16()}))).into_response()
}

async fn chat(state: State<Shared>, Json(body): Json<CompletionBody>) -> Response {
    complete(state, body, Api::Chat).await
}

async fn completions(state: State<Shared>, Json(body): Json<CompletionBody>) -> Response {
    complete(state, body, Api::Completions).await
}

/// A fault drawn for one request.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Fault {
    None,
    Error,
    Stall,
    Disconnect,
    Malformed,
}

fn draw_fault(s: &Shared) -> Fault {
    let f = &s.faults;
    let x: f64 = s.rng.lock().unwrap_or_else(|p| p.into_inner()).random();
    let mut edge = 0.0;
    for (rate, fault) in [
        (f.error_rate, Fault::Error),
        (f.stall_rate, Fault::Stall),
        (f.disconnect_rate, Fault::Disconnect),
        (f.malformed_rate, Fault::Malformed),
    ] {
        edge += rate;
        if x < edge {
            return fault;
        }
    }
    Fault::None
}

/// One SSE event of a streamed response: `text` as content, or the end with `finish`.
pub fn chunk(api: Api, model: &str, text: Option<&str>, finish: Option<&str>) -> String {
    let choice = match api {
        Api::Chat => {
            json!({"index": 0, "delta": text.map_or(json!({}), |t| json!({"content": t})), "finish_reason": finish})
        }
        Api::Completions => {
            json!({"index": 0, "text": text.unwrap_or_default(), "finish_reason": finish})
        }
    };
    let object = match api {
        Api::Chat => "chat.completion.chunk",
        Api::Completions => "text_completion",
    };
    format!(
        "data: {}\n\n",
        json!({"id": "sim", "object": object, "created": 0, "model": model, "choices": [choice]})
    )
}

/// A response that is not streamed: `tokens` tokens of text at once.
pub fn whole_response(api: Api, model: &str, tokens: u32, usage: Value) -> Response {
    let text = " tok".repeat(tokens as usize);
    let choice = match api {
        Api::Chat => {
            json!({"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "length"})
        }
        Api::Completions => json!({"index": 0, "text": text, "finish_reason": "length"}),
    };
    Json(json!({"id": "sim", "model": model, "choices": [choice], "usage": usage})).into_response()
}

/// The end of a streamed response: the finish reason, the usage, `[DONE]`.
pub fn stream_end(api: Api, model: &str, usage: Value) -> String {
    chunk(api, model, None, Some("length"))
        + &format!(
            "data: {}\n\n",
            json!({"id": "sim", "model": model, "choices": [], "usage": usage})
        )
        + "data: [DONE]\n\n"
}

/// The 400 answer, in vLLM's words, to a request whose prompt and answer do not fit the
/// model's context; `None` when they fit.
pub fn beyond_context(info: &ModelInfo, body: &CompletionBody) -> Option<Response> {
    // In u64: `max_tokens` may be anything a client sends, up to u32::MAX.
    let requested = u64::from(body.prompt_tokens()) + u64::from(body.max_tokens());
    (requested > u64::from(info.max_model_len)).then(|| {
        error(StatusCode::BAD_REQUEST, &format!("This model's maximum context length is {} tokens. However, you requested {requested} tokens", info.max_model_len))
    })
}

/// The usage object of a response.
pub fn usage(prompt_tokens: u32, completion_tokens: u32) -> Value {
    let total = u64::from(prompt_tokens) + u64::from(completion_tokens);
    json!({"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens, "total_tokens": total})
}

async fn complete(State(s): State<Shared>, body: CompletionBody, api: Api) -> Response {
    let prompt_tokens = body.prompt_tokens();
    let max_tokens = body.max_tokens();
    if let Some(refused) = beyond_context(&s.info, &body) {
        return refused;
    }
    let fault = draw_fault(&s);
    if fault == Fault::Error {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "injected fault");
    }
    let (tx, mut rx) = mpsc::unbounded_channel();
    if s.engine
        .send(Request {
            prompt_tokens,
            max_tokens,
            events: tx,
        })
        .is_err()
    {
        return error(StatusCode::SERVICE_UNAVAILABLE, "the engine stopped");
    }
    let usage_of = move |completion: u32| usage(prompt_tokens, completion);
    if !body.stream {
        let mut generated = 0;
        while let Some(event) = rx.recv().await {
            match event {
                Event::Token => generated += 1,
                Event::Finished => break,
            }
        }
        return whole_response(api, &s.info.model, generated, usage_of(generated));
    }
    let model = s.info.model.clone();
    let stall = s.faults.stall_ms;
    // The stream: one chunk per token as the engine sends it; then finish, usage, [DONE].
    let state = (rx, 0u32, false);
    let events = stream::unfold(state, move |(mut rx, mut generated, done)| {
        let model = model.clone();
        async move {
            if done {
                return None;
            }
            let text = match rx.recv().await {
                Some(Event::Token) => {
                    generated += 1;
                    if generated == 2 {
                        match fault {
                            Fault::Stall => tokio::time::sleep(Duration::from_millis(stall)).await,
                            Fault::Disconnect => {
                                return Some((
                                    Err(std::io::Error::other("injected disconnect")),
                                    (rx, generated, true),
                                ))
                            }
                            Fault::Malformed => {
                                return Some((
                                    Ok("data: {\"choices\": [\n\n".to_owned()),
                                    (rx, generated, false),
                                ))
                            }
                            _ => {}
                        }
                    }
                    chunk(api, &model, Some(" tok"), None)
                }
                Some(Event::Finished) | None => {
                    let tail = stream_end(api, &model, usage_of(generated));
                    return Some((Ok(tail), (rx, generated, true)));
                }
            };
            Some((Ok::<String, std::io::Error>(text), (rx, generated, false)))
        }
    });
    Response::builder()
        .header(header::CONTENT_TYPE, "text/event-stream")
        .body(Body::from_stream(events))
        .unwrap_or_else(|_| error(StatusCode::INTERNAL_SERVER_ERROR, "cannot stream"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_huge_max_tokens_is_beyond_the_context_not_wrapped_into_it() {
        let info = ModelInfo {
            model: "m".into(),
            max_model_len: 32_768,
        };
        let body: CompletionBody =
            serde_json::from_value(json!({"prompt": "a b", "max_tokens": u32::MAX})).unwrap();
        let refused = beyond_context(&info, &body).expect("refused");
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
        let fits: CompletionBody =
            serde_json::from_value(json!({"prompt": "a b", "max_tokens": 16})).unwrap();
        assert!(beyond_context(&info, &fits).is_none());
    }
}
