//! The precise emitter: a server mode with no engine model. It streams OpenAI-style chunks
//! on a fixed clock — the first `first_token` after the request arrived, then one every
//! `interval`, `tokens_per_chunk` tokens each, then the usage and `[DONE]` — and records
//! when it sent every text chunk (CLOCK_MONOTONIC microseconds, see [`crate::clock`]),
//! keyed by the request's `X-Request-Id`. `GET /truth` returns those records as JSON lines:
//! the ground truth the client-fidelity benchmark (`cargo bench --bench fidelity`) holds
//! the harness's measurements against. A zero interval sends each response whole, as
//! fast as the socket takes it (flat out); such responses record no send times.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures_util::stream;
use serde::Serialize;

use super::http;
use super::info::{info_routes, ModelInfo};
use super::request::GenerationBody;
use super::wire::{ServerTimes, Wire};
use crate::clock;
use crate::dialect::Api;

/// The emitter's fixed clock.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EmitterConfig {
    /// From the request's arrival to the first text chunk.
    pub first_token: Duration,
    /// Between text chunks; zero sends the whole response at once.
    pub interval: Duration,
    pub tokens_per_chunk: u32,
}

/// When each text chunk of one response was sent.
#[derive(Debug, Serialize)]
struct Truth {
    request_id: String,
    sent_us: Vec<u64>,
}

type TruthLog = Arc<Mutex<Vec<Truth>>>;

#[derive(Clone)]
struct Emitter {
    config: EmitterConfig,
    info: ModelInfo,
    truth: TruthLog,
}

/// A response's send times, added to the log when its stream ends or is dropped (a client
/// that disconnects still leaves what was sent).
struct Recorder {
    truth: Option<Truth>,
    log: TruthLog,
}

impl Drop for Recorder {
    fn drop(&mut self) {
        if let Some(truth) = self.truth.take() {
            self.log
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(truth);
        }
    }
}

/// The emitter's routes, beside the descriptive ones every simulator serves.
pub fn router(config: EmitterConfig, info: ModelInfo) -> Router {
    let emitter = Emitter {
        config,
        info: info.clone(),
        truth: TruthLog::default(),
    };
    Router::new()
        .route("/v1/chat/completions", post(chat))
        .route("/v1/completions", post(completions))
        .route("/truth", get(truth))
        .with_state(emitter)
        .merge(info_routes(info))
}

async fn chat(
    State(e): State<Emitter>,
    headers: HeaderMap,
    Json(body): Json<GenerationBody>,
) -> Response {
    emit(e, &headers, &body, Api::Chat)
}

async fn completions(
    State(e): State<Emitter>,
    headers: HeaderMap,
    Json(body): Json<GenerationBody>,
) -> Response {
    emit(e, &headers, &body, Api::Completions)
}

/// Every recorded response, one JSON object per line.
async fn truth(State(e): State<Emitter>) -> Response {
    let log = e.truth.lock().unwrap_or_else(|p| p.into_inner());
    let mut text = Vec::new();
    for record in log.iter() {
        if serde_json::to_writer(&mut text, record).is_err() {
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
        text.push(b'\n');
    }
    ([(header::CONTENT_TYPE, "application/jsonl")], text).into_response()
}

fn emit(e: Emitter, headers: &HeaderMap, body: &GenerationBody, api: Api) -> Response {
    let arrived = Instant::now();
    let wire = Wire {
        api,
        model: &e.info.model,
        prompt_tokens: body.prompt_tokens(),
    };
    if let Some(refused) = http::beyond_context(&e.info, body, &wire) {
        return refused;
    }
    let max_tokens = body.max_tokens();
    if !body.stream(false) {
        return Json(wire.whole(max_tokens, ServerTimes::default())).into_response();
    }
    let per_chunk = e.config.tokens_per_chunk.max(1);
    let chunks = max_tokens.div_ceil(per_chunk);
    // The text chunks are rendered once; each send is a reference-counted copy.
    let full = Bytes::from(wire.tokens(per_chunk, per_chunk, false));
    let rest = max_tokens - (chunks - 1) * per_chunk;
    let last = Bytes::from(wire.tokens(rest, max_tokens, true));
    let end = Bytes::from(wire.end(max_tokens, max_tokens, ServerTimes::default()));
    let piece = move |k: u32| {
        if k + 1 == chunks {
            last.clone()
        } else {
            full.clone()
        }
    };
    if e.config.interval.is_zero() {
        let mut whole = Vec::new();
        for k in 0..chunks {
            whole.extend_from_slice(&piece(k));
        }
        whole.extend_from_slice(&end);
        return http::streamed(&wire, Body::from(whole));
    }
    let request_id = headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let recorder = Recorder {
        truth: Some(Truth {
            request_id,
            sent_us: Vec::with_capacity(chunks as usize),
        }),
        log: e.truth.clone(),
    };
    let first_at = tokio::time::Instant::from_std(arrived + e.config.first_token);
    let interval = e.config.interval;
    // Chunk k is due at first_at + k × interval: a late send does not delay the next.
    let events = stream::unfold((0u32, recorder), move |(k, mut recorder)| {
        let piece = piece.clone();
        let end = end.clone();
        async move {
            if k > chunks {
                return None;
            }
            if k == chunks {
                return Some((Ok::<_, Infallible>(end), (k + 1, recorder)));
            }
            tokio::time::sleep_until(first_at + interval * k).await;
            if let Some(truth) = &mut recorder.truth {
                truth.sent_us.push(clock::monotonic_us(Instant::now()));
            }
            Some((Ok(piece(k)), (k + 1, recorder)))
        }
    });
    http::streamed(&wire, Body::from_stream(events))
}
