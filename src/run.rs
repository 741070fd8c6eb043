//! A whole run: prepare (model, tokenizer, prompt vocabulary, template overhead, server
//! identity), then every point of the plan in order. The result is checkpointed atomically
//! after each point when an output path is given, and a cancelled run returns what it
//! measured, marked partial.

use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::time::SystemTime;

use tokio_util::sync::CancellationToken;

use crate::client::{adapter_for, build_http_client, Adapter, ClientError, GenerationParams};
use crate::load::{run_point, Driver, PointSettings, RequestLog};
use crate::monitor::{peak_rss_mib, CpuTime, Environment, Host};
use crate::result::{write_json_atomic, ClientCost, PromptInfo, RunResult, Tool, SCHEMA_VERSION};
use crate::scenario::Plan;
use crate::secret::redacted;
use crate::server::{first_model, server_info, ServerInfo};
use crate::workload::{probe_server, Probe, PromptFactory, Tokenizer, WorkloadError};

/// Where a run writes.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// The result JSON, rewritten after every point.
    pub output: Option<PathBuf>,
    /// One JSON line per measured request.
    pub requests_out: Option<PathBuf>,
}

/// A run that could not start or could not write its output.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error("cannot tell which model to use ({0}); pass --model or set target.model")]
    Model(String),
    #[error(transparent)]
    Workload(#[from] WorkloadError),
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("interrupted before the first point")]
    Interrupted,
}

fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}

/// Maps a write failure of `path` to [`RunError::Write`].
pub fn write_error(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> RunError + '_ {
    move |source| RunError::Write {
        path: path.to_owned(),
        source,
    }
}

/// What a run learns about its target before measuring.
struct Prepared {
    model: String,
    tokenizer: Tokenizer,
    factory: PromptFactory,
    probe: Probe,
    server: ServerInfo,
}

async fn prepare(
    plan: &Plan,
    http: &reqwest::Client,
    url: &reqwest::Url,
    adapter: &dyn Adapter,
) -> Result<Prepared, RunError> {
    let target = &plan.target;
    let model = match &target.model {
        Some(m) => m.clone(),
        None => first_model(http, &target.base_url)
            .await
            .map_err(RunError::Model)?,
    };
    let tokenizer = Tokenizer::resolve(target.tokenizer, http, &target.base_url, &model).await?;
    let factory = PromptFactory::calibrate(&tokenizer, plan.seed).await?;
    let ignore_eos = plan.scenario.workload.ignore_eos;
    let probe = probe_server(
        http,
        url,
        adapter,
        &model,
        &factory,
        ignore_eos,
        plan.timeout,
    )
    .await;
    if probe.ignore_eos_rejected {
        tracing::warn!("the server rejects ignore_eos: output lengths are up to the model");
    }
    let server = server_info(http, &target.base_url, &model).await;
    Ok(Prepared {
        model,
        tokenizer,
        factory,
        probe,
        server,
    })
}

/// Runs every point of `plan`; stops early, keeping what was measured, when `cancel`
/// fires. The result is checkpointed to `options.output` before the first point (so an
/// unwritable path fails at once) and after every point; writing the final result is the
/// caller's.
pub async fn run_plan(
    plan: &Plan,
    options: &RunOptions,
    cancel: &CancellationToken,
) -> Result<RunResult, RunError> {
    let started_at = now_rfc3339();
    let http = build_http_client(plan.target.api_key.as_ref())?;
    let adapter = adapter_for(plan.target.api);
    let url = plan
        .target
        .base_url
        .join(adapter.path())
        .expect("a relative path joins any http URL");
    let prepared = tokio::select! {
        prepared = prepare(plan, &http, &url, adapter.as_ref()) => prepared?,
        _ = cancel.cancelled() => return Err(RunError::Interrupted),
    };
    let seed = plan.seed;
    let mut scenario = plan.scenario.clone();
    scenario.target.base_url = redacted(&plan.target.base_url);
    scenario.target.model = Some(prepared.model.clone());
    scenario.workload.prompt.seed = Some(seed);
    scenario.workload.ignore_eos &= !prepared.probe.ignore_eos_rejected;
    let mut result = RunResult {
        schema_version: SCHEMA_VERSION,
        tool: Tool::this(),
        scenario,
        started_at,
        finished_at: String::new(),
        // Checkpoints written during the run are partial until the last point is done.
        partial: true,
        environment: Environment {
            host: Host::current(),
            server: prepared.server,
        },
        prompts: PromptInfo {
            tokenizer: prepared.tokenizer.name().to_owned(),
            exact: prepared.tokenizer.is_exact(),
            template_overhead_tokens: prepared.probe.template_overhead,
            seed,
        },
        client: ClientCost::default(),
        points: Vec::new(),
    };
    if let Some(path) = &options.output {
        write_json_atomic(path, &result).map_err(write_error(path))?;
    }
    let mut log = match &options.requests_out {
        Some(path) => RequestLog::create(path).map_err(write_error(path))?,
        None => RequestLog::disabled(),
    };
    let workload = &plan.scenario.workload;
    let params = GenerationParams {
        model: prepared.model,
        max_tokens: workload.output_tokens,
        ignore_eos: result.scenario.workload.ignore_eos,
        stream: workload.stream,
    };
    let next_index = AtomicU64::new(0);
    let driver = Driver {
        http: &http,
        url: &url,
        adapter: adapter.as_ref(),
        params: &params,
        factory: &prepared.factory,
        timeout: plan.timeout,
        cancel,
        next_index: &next_index,
    };
    let overhead = prepared.probe.template_overhead.unwrap_or(0);
    for (i, spec) in plan.points.iter().enumerate() {
        if cancel.is_cancelled() {
            break;
        }
        tracing::info!("point {}/{}: {}", i + 1, plan.points.len(), spec.id);
        let settings = PointSettings {
            content_tokens: spec.input_tokens.saturating_sub(overhead).max(1),
            warmup: plan.scenario.load.warmup,
            stop: plan.stop,
            slo: plan.scenario.slo.as_ref(),
            arrival_seed: seed.wrapping_add(i as u64),
            api_key: plan.target.api_key.as_ref(),
        };
        let point = run_point(&driver, spec, &settings, &mut log).await;
        if point.requests.total == 0 && cancel.is_cancelled() {
            break; // interrupted during warmup: nothing of this point was measured
        }
        result.client.measuring_cpu += point.client_cpu;
        result.points.push(point);
        result.finished_at = now_rfc3339();
        if let Some(path) = &options.output {
            if let Err(e) = write_json_atomic(path, &result) {
                tracing::warn!("cannot checkpoint the result to {}: {e}", path.display());
            }
        }
    }
    result.partial = cancel.is_cancelled();
    result.finished_at = now_rfc3339();
    result.client.cpu = CpuTime::now();
    result.client.peak_rss_mib = peak_rss_mib();
    Ok(result)
}
