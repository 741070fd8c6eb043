//! The embedded simulated server: every dialect's API (OpenAI, Triton, TGI, Ollama,
//! SGLang, llama.cpp; see [`wire`]) over an engine model
//! (continuous batching, prefill and decode costs, chunked prefill with a token budget,
//! tensor parallelism, a KV cache with queueing and preemption) whose costs come from
//! profiles of real model/GPU pairs. It runs on its own thread, so the harness measures it
//! like any server: over HTTP. Used by scenarios with `"target": {"embedded": "sim"}`, by
//! `llm-loadtest sim`, and by tests (with injected faults). Its emitter mode replaces the
//! engine with a fixed clock that records its send times (the fidelity benchmark's truth).

mod emitter;
mod engine;
mod http;
mod info;
mod memory;
pub mod offline;
mod profile;
mod request;
mod speed;
pub mod wire;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::serve::ListenerExt;
use rand::SeedableRng;
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};

pub use emitter::EmitterConfig;
pub use engine::EngineConfig;
pub use http::GENERATION_ROUTES;
pub use memory::OutOfMemory;
pub use profile::{profile, Profile, UnknownProfile, PROFILES};
pub use request::GenerationBody;
pub use speed::SpeedNoise;

/// Faults injected per request (fractions of requests; they add up to at most 1).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Faults {
    /// Answered with HTTP 500.
    pub error_rate: f64,
    /// Paused for `stall_ms` after the first token.
    pub stall_rate: f64,
    pub stall_ms: u64,
    /// The stream is cut after the first token, without `[DONE]`.
    pub disconnect_rate: f64,
    /// The second chunk is not valid JSON.
    pub malformed_rate: f64,
    /// Seed of the fault draws.
    pub seed: u64,
}

/// The matrix variables that configure the simulator (`kv_capacity_tokens` stands for
/// vLLM's `--num-gpu-blocks-override`: the KV cache per GPU in tokens;
/// `gpu_memory_utilization` for vLLM's flag of that name).
pub const KNOBS: [&str; 5] = [
    "chunked_prefill",
    "max_num_batched_tokens",
    "tp",
    "kv_capacity_tokens",
    "gpu_memory_utilization",
];

/// A simulator configuration that cannot be made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SimConfigError {
    #[error(transparent)]
    Profile(#[from] UnknownProfile),
    #[error("matrix value {name}: expected {expected}")]
    Value {
        name: &'static str,
        expected: &'static str,
    },
    /// The configuration is valid but does not fit in the GPU's memory: the server fails
    /// to start, as a real one would.
    #[error(transparent)]
    OutOfMemory(#[from] OutOfMemory),
}

/// An engine configuration from a profile and a configuration's matrix values
/// ([`KNOBS`]; others are ignored). Without
/// chunked prefill the default budget is the whole context, as in vLLM.
pub fn engine_config(
    profile_name: &str,
    values: &BTreeMap<String, Value>,
) -> Result<EngineConfig, SimConfigError> {
    let profile = profile(profile_name)?.clone();
    let chunked_prefill = match values.get("chunked_prefill") {
        None => true,
        Some(v) => v.as_bool().ok_or(SimConfigError::Value {
            name: "chunked_prefill",
            expected: "true or false",
        })?,
    };
    let number = |name: &'static str| -> Result<Option<u32>, SimConfigError> {
        values
            .get(name)
            .map(|v| {
                v.as_u64()
                    .filter(|&n| n >= 1 && n <= u64::from(u32::MAX))
                    .map(|n| n as u32)
                    .ok_or(SimConfigError::Value {
                        name,
                        expected: "a positive whole number",
                    })
            })
            .transpose()
    };
    let tp = number("tp")?.unwrap_or(1);
    let utilization = match values.get("gpu_memory_utilization") {
        None => memory::DEFAULT_UTILIZATION,
        Some(v) => v
            .as_f64()
            .filter(|u| *u > 0.0 && *u <= 1.0)
            .ok_or(SimConfigError::Value {
                name: "gpu_memory_utilization",
                expected: "a fraction of the GPU's memory above 0, at most 1",
            })?,
    };
    let fitted = memory::kv_tokens_per_gpu(&profile, utilization, tp)?;
    let kv_tokens_per_gpu = match number("kv_capacity_tokens")? {
        Some(tokens) => u64::from(tokens),
        None => fitted,
    };
    let default_budget = if chunked_prefill {
        2048
    } else {
        profile.max_model_len
    };
    Ok(EngineConfig {
        max_num_batched_tokens: number("max_num_batched_tokens")?.unwrap_or(default_budget),
        tp,
        chunked_prefill,
        kv_tokens_per_gpu,
        profile,
        speed: SpeedNoise::default(),
    })
}

/// The emitter's context in tokens: any benchmark's prompt and answer fit, and a client
/// cannot make it render gigabytes of answer.
const EMITTER_CONTEXT_TOKENS: u32 = 1 << 24;

/// What generates the tokens.
pub enum Server {
    /// The engine model, with injected faults.
    Engine(EngineConfig, Faults),
    /// The fixed-clock emitter, serving `model`.
    Emitter(EmitterConfig, String),
}

/// Connections waiting to be accepted: a burst of a thousand connects overflows the usual
/// 128 and costs the clients a second each in SYN retries (the kernel caps it at
/// `net.core.somaxconn`).
const ACCEPT_BACKLOG: i32 = 8192;

/// A listening socket on 127.0.0.1:`port` with a deep accept queue.
fn listen(port: u16) -> std::io::Result<std::net::TcpListener> {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None)?;
    socket.set_reuse_address(true)?;
    socket.bind(&SocketAddr::from(([127, 0, 0, 1], port)).into())?;
    socket.listen(ACCEPT_BACKLOG)?;
    socket.set_nonblocking(true)?;
    Ok(socket.into())
}

/// A simulator running on its own thread; stopped when dropped.
pub struct RunningSim {
    pub addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl RunningSim {
    /// Starts the simulator on `127.0.0.1:port` (0: any free port).
    pub fn start(server: Server, port: u16) -> std::io::Result<Self> {
        let listener = listen(port)?;
        let addr = listener.local_addr()?;
        let (shutdown, stopped) = oneshot::channel();
        let thread = std::thread::Builder::new()
            .name("llm-loadtest-sim".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a runtime on a new thread");
                runtime.block_on(async move {
                    if let Err(e) = serve(server, listener, stopped).await {
                        tracing::error!("the simulator stopped: {e}");
                    }
                });
            })?;
        Ok(Self {
            addr,
            shutdown: Some(shutdown),
            thread: Some(thread),
        })
    }
}

impl Drop for RunningSim {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Serves the simulator on `listener` until `stop` fires (or its sender is dropped).
pub async fn serve(
    server: Server,
    listener: std::net::TcpListener,
    stop: oneshot::Receiver<()>,
) -> std::io::Result<()> {
    // Each token is its own small write: without TCP_NODELAY, Nagle's algorithm would hold
    // a chunk back until the previous one is acknowledged (up to 40 ms of delayed ACK).
    let listener = tokio::net::TcpListener::from_std(listener)?.tap_io(|stream| {
        let _ = stream.set_nodelay(true);
    });
    let (router, engine) = match server {
        Server::Engine(config, faults) => {
            let stats = Arc::new(Mutex::new(engine::Stats::default()));
            let (requests, queue) = mpsc::unbounded_channel();
            let shared = http::Shared {
                info: info::ModelInfo {
                    model: config.profile.model.to_owned(),
                    max_model_len: config.profile.max_model_len,
                },
                engine: requests,
                stats: stats.clone(),
                rng: Arc::new(Mutex::new(rand_chacha::ChaCha8Rng::seed_from_u64(
                    faults.seed,
                ))),
                faults,
            };
            let engine = tokio::spawn(engine::run(config, queue, stats));
            (http::router(shared), Some(engine))
        }
        Server::Emitter(config, model) => {
            let info = info::ModelInfo {
                model,
                max_model_len: EMITTER_CONTEXT_TOKENS,
            };
            (emitter::router(config, info), None)
        }
    };
    let result = axum::serve(listener, router)
        .with_graceful_shutdown(async {
            let _ = stop.await;
        })
        .await;
    if let Some(engine) = engine {
        engine.abort();
    }
    result
}
