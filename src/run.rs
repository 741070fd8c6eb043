//! A whole run: prepare (model, tokenizer, prompt vocabulary, template overhead, server
//! identity), then every point of the plan in order. The result is checkpointed atomically
//! after each point when an output path is given, and a cancelled run returns what it
//! measured, marked partial.

use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::time::SystemTime;

use tokio_util::sync::CancellationToken;

use crate::client::{adapter_for, build_http_client, GenerationParams};
use crate::load::{run_point, Driver, PointSettings, RequestLog};
use crate::monitor::{peak_rss_mib, CpuTime, Environment, Host};
use crate::result::{write_json_atomic, ClientCost, PromptInfo, RunResult, Tool, SCHEMA_VERSION};
use crate::scenario::Plan;
use crate::server::{first_model, server_info};
use crate::workload::{measure_template_overhead, PromptFactory, Tokenizer, WorkloadError};

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
    #[error("cannot build the HTTP client: {0}")]
    Http(#[from] reqwest::Error),
    #[error("cannot tell which model to use ({0}); pass --model or set target.model")]
    Model(String),
    #[error(transparent)]
    Workload(#[from] WorkloadError),
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}

fn write_error(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> RunError + '_ {
    move |source| RunError::Write {
        path: path.to_owned(),
        source,
    }
}

fn checkpoint(result: &RunResult, options: &RunOptions) -> Result<(), RunError> {
    match &options.output {
        Some(path) => write_json_atomic(path, result).map_err(write_error(path)),
        None => Ok(()),
    }
}

/// Runs every point of `plan`; stops early, keeping what was measured, when `cancel` fires.
pub async fn run_plan(
    plan: &Plan,
    options: &RunOptions,
    cancel: &CancellationToken,
) -> Result<RunResult, RunError> {
    let started_at = now_rfc3339();
    let target = &plan.target;
    let workload = &plan.scenario.workload;
    let http = build_http_client(target.api_key.as_ref())?;
    let model = match &target.model {
        Some(m) => m.clone(),
        None => first_model(&http, &target.base_url)
            .await
            .map_err(RunError::Model)?,
    };
    let tokenizer = Tokenizer::resolve(target.tokenizer, &http, &target.base_url, &model).await?;
    let seed = plan.seed;
    let factory = PromptFactory::calibrate(&tokenizer, seed).await?;
    let adapter = adapter_for(target.api);
    let url = target
        .base_url
        .join(adapter.path())
        .expect("a relative path joins any http URL");
    let overhead = measure_template_overhead(
        &http,
        &url,
        adapter.as_ref(),
        &model,
        &factory,
        &tokenizer,
        plan.timeout,
    )
    .await;
    let mut scenario = plan.scenario.clone();
    scenario.target.base_url = target.base_url.to_string();
    scenario.target.model = Some(model.clone());
    scenario.workload.prompt.seed = Some(seed);
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
            server: server_info(&http, &target.base_url, &model).await,
        },
        prompts: PromptInfo {
            tokenizer: tokenizer.name().to_owned(),
            exact: tokenizer.is_exact(),
            template_overhead_tokens: overhead,
            seed,
        },
        client: ClientCost::default(),
        points: Vec::new(),
    };
    let mut log = match &options.requests_out {
        Some(path) => RequestLog::create(path).map_err(write_error(path))?,
        None => RequestLog::disabled(),
    };
    let params = GenerationParams {
        model,
        max_tokens: workload.output_tokens,
        ignore_eos: workload.ignore_eos,
        stream: workload.stream,
    };
    let next_index = AtomicU64::new(0);
    let driver = Driver {
        http: &http,
        url: &url,
        adapter: adapter.as_ref(),
        params: &params,
        factory: &factory,
        timeout: plan.timeout,
        cancel,
        next_index: &next_index,
    };
    for (i, spec) in plan.points.iter().enumerate() {
        if cancel.is_cancelled() {
            break;
        }
        tracing::info!("point {}/{}: {}", i + 1, plan.points.len(), spec.id);
        let settings = PointSettings {
            content_tokens: spec
                .input_tokens
                .saturating_sub(overhead.unwrap_or(0))
                .max(1),
            warmup: plan.scenario.load.warmup,
            stop: plan.stop,
            slo: plan.scenario.slo.as_ref(),
            arrival_seed: seed.wrapping_add(i as u64),
        };
        let point = run_point(&driver, spec, &settings, &mut log).await;
        result.client.measuring_cpu += point.client_cpu;
        result.points.push(point);
        result.finished_at = now_rfc3339();
        checkpoint(&result, options)?;
    }
    result.partial = cancel.is_cancelled();
    result.finished_at = now_rfc3339();
    result.client.cpu = CpuTime::now();
    result.client.peak_rss_mib = peak_rss_mib();
    checkpoint(&result, options)?;
    Ok(result)
}
