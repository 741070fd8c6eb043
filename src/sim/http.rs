//! The simulator's generation API in every dialect (axum): OpenAI's
//! `/v1/chat/completions`, `/v1/completions` and `/v1/responses`, Triton's
//! `/v2/models/{model}/generate_stream` and `/generate`, TGI's `/generate_stream` and
//! `/generate`, Ollama's `/api/chat` and `/api/generate` (NDJSON), SGLang's `/generate`
//! (told from TGI's by its body) and llama.cpp's `/completion`, streamed or whole; and
//! `/metrics` with vLLM's metric names. Faults are injected per request when the fault
//! settings ask for them.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures_util::{stream, StreamExt};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use tokio::sync::mpsc;

use super::engine::{Event, Request, Stats};
use super::info::{info_routes, ModelInfo};
use super::request::GenerationBody;
use super::wire::{ServerTimes, Wire};
use super::Faults;
use crate::dialect::Api;

/// What every handler of the engine's routes shares.
#[derive(Clone)]
pub struct Shared {
    pub info: ModelInfo,
    pub engine: mpsc::UnboundedSender<Request>,
    pub stats: Arc<Mutex<Stats>>,
    pub faults: Faults,
    pub rng: Arc<Mutex<ChaCha8Rng>>,
}

/// The generation routes of every dialect: the path, the dialect, and whether it streams
/// unless the body says. `/generate` is TGI's whole response or SGLang's: told apart by
/// [`GenerationBody::dialect_at`].
pub const GENERATION_ROUTES: [(&str, Api, bool); 10] = [
    ("/v1/chat/completions", Api::Chat, false),
    ("/v1/completions", Api::Completions, false),
    ("/v1/responses", Api::Responses, false),
    ("/v2/models/{model}/generate_stream", Api::Triton, true),
    ("/v2/models/{model}/generate", Api::Triton, false),
    ("/generate_stream", Api::Tgi, true),
    ("/generate", Api::Sglang, false),
    ("/api/chat", Api::OllamaChat, true),
    ("/api/generate", Api::OllamaGenerate, true),
    ("/completion", Api::Llamacpp, false),
];

/// The routes of the simulated server.
pub fn router(shared: Shared) -> Router {
    let info = shared.info.clone();
    let mut router = Router::new();
    for (path, api, stream) in GENERATION_ROUTES {
        router = router.route(
            path,
            post(
                move |state: State<Shared>, Json(body): Json<GenerationBody>| {
                    let api = body.dialect_at(api);
                    complete(state, body, api, stream)
                },
            ),
        );
    }
    router
        .route("/metrics", get(metrics))
        .with_state(shared)
        .merge(info_routes(info))
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

/// An error answer in the dialect's shape.
pub fn error(wire: &Wire<'_>, status: StatusCode, message: &str) -> Response {
    (status, Json(wire.error_body(status.as_u16(), message))).into_response()
}

/// The 400 answer, in the words of vLLM, to a request whose prompt and answer do not fit
/// the model's context; `None` when they fit.
pub fn beyond_context(
    info: &ModelInfo,
    body: &GenerationBody,
    wire: &Wire<'_>,
) -> Option<Response> {
    // In u64: `max_tokens` may be anything a client sends, up to u32::MAX.
    let requested = u64::from(body.prompt_tokens()) + u64::from(body.max_tokens());
    (requested > u64::from(info.max_model_len)).then(|| {
        let message = format!("This model's maximum context length is {} tokens. However, you requested {requested} tokens", info.max_model_len);
        error(wire, StatusCode::BAD_REQUEST, &message)
    })
}

/// A streamed response of the content type of `wire`'s dialect.
pub fn streamed(wire: &Wire<'_>, body: Body) -> Response {
    ([(header::CONTENT_TYPE, wire.content_type())], body).into_response()
}

async fn complete(
    State(s): State<Shared>,
    body: GenerationBody,
    api: Api,
    stream_default: bool,
) -> Response {
    let arrived = Instant::now();
    let prompt_tokens = body.prompt_tokens();
    let max_tokens = body.max_tokens();
    let wire = Wire {
        api,
        model: &s.info.model,
        prompt_tokens,
    };
    if let Some(refused) = beyond_context(&s.info, &body, &wire) {
        return refused;
    }
    let fault = draw_fault(&s);
    if fault == Fault::Error {
        return error(&wire, StatusCode::INTERNAL_SERVER_ERROR, "injected fault");
    }
    let (tx, mut rx) = mpsc::unbounded_channel();
    let request = Request {
        prompt_tokens,
        max_tokens,
        events: tx,
    };
    if s.engine.send(request).is_err() {
        return error(&wire, StatusCode::SERVICE_UNAVAILABLE, "the engine stopped");
    }
    if !body.stream(stream_default) {
        let mut clock = Clock::new(arrived);
        while let Some(Event::Token) = rx.recv().await {
            clock.token();
        }
        return Json(wire.whole(clock.generated, clock.times())).into_response();
    }
    let start = wire.start();
    let events = stream_events(
        rx,
        s.info.model.clone(),
        (api, prompt_tokens, max_tokens),
        fault,
        s.faults.stall_ms,
        arrived,
    );
    let body = stream::iter((!start.is_empty()).then_some(Ok(start))).chain(events);
    streamed(&wire, Body::from_stream(body))
}

/// When a request's tokens came, for the server times some dialects report.
struct Clock {
    arrived: Instant,
    first: Option<Instant>,
    generated: u32,
}

impl Clock {
    fn new(arrived: Instant) -> Self {
        Self {
            arrived,
            first: None,
            generated: 0,
        }
    }

    fn token(&mut self) {
        self.first.get_or_insert_with(Instant::now);
        self.generated += 1;
    }

    fn times(&self) -> ServerTimes {
        let first = self.first.unwrap_or(self.arrived);
        ServerTimes {
            prompt_ms: first.duration_since(self.arrived).as_secs_f64() * 1000.0,
            decode_ms: first.elapsed().as_secs_f64() * 1000.0,
        }
    }
}

/// The events of a streamed response: one per token as the engine sends it (a fault at
/// the second), then the dialect's end.
fn stream_events(
    rx: mpsc::UnboundedReceiver<Event>,
    model: String,
    (api, prompt_tokens, max_tokens): (Api, u32, u32),
    fault: Fault,
    stall_ms: u64,
    arrived: Instant,
) -> impl futures_util::Stream<Item = Result<String, std::io::Error>> {
    let state = (rx, Clock::new(arrived), false);
    stream::unfold(state, move |(mut rx, mut clock, done)| {
        let model = model.clone();
        async move {
            if done {
                return None;
            }
            let wire = Wire {
                api,
                model: &model,
                prompt_tokens,
            };
            let Some(Event::Token) = rx.recv().await else {
                let tail = wire.end(clock.generated, max_tokens, clock.times());
                return Some((Ok(tail), (rx, clock, true)));
            };
            clock.token();
            if clock.generated == 2 {
                match fault {
                    Fault::Stall => tokio::time::sleep(Duration::from_millis(stall_ms)).await,
                    Fault::Disconnect => {
                        let cut = Err(std::io::Error::other("injected disconnect"));
                        return Some((cut, (rx, clock, true)));
                    }
                    Fault::Malformed => {
                        return Some((Ok(wire.malformed().to_owned()), (rx, clock, false)))
                    }
                    _ => {}
                }
            }
            let text = wire.tokens(1, clock.generated, clock.generated == max_tokens);
            Some((Ok(text), (rx, clock, false)))
        }
    })
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
        let wire = Wire {
            api: Api::Chat,
            model: "m",
            prompt_tokens: 2,
        };
        let body: GenerationBody =
            serde_json::from_value(serde_json::json!({"prompt": "a b", "max_tokens": u32::MAX}))
                .unwrap();
        let refused = beyond_context(&info, &body, &wire).expect("refused");
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
        let fits: GenerationBody =
            serde_json::from_value(serde_json::json!({"prompt": "a b", "max_tokens": 16})).unwrap();
        assert!(beyond_context(&info, &fits, &wire).is_none());
    }
}
