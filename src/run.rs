//! A whole run, configuration by configuration: launch the configuration's server when the
//! scenario has one, prepare (model, tokenizer, prompt vocabulary, template overhead, server
//! identity), then the configuration's points in order. The result is checkpointed atomically
//! after each point when an output path is given, and a cancelled run returns what it
//! measured, marked partial.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::SystemTime;

use std::time::Duration;

use serde_json::Value;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::client::{
    adapter_for, build_http_client, request_uri, Adapter, ClientError, GenerationParams,
    StreamClient,
};
use crate::load::{run_point, Driver, PointSettings, RequestLog};
use crate::monitor::{
    gpu_environment, peak_rss_mib, CpuTime, Environment, Gpus, Host, WindowMonitor,
};
use crate::result::{
    write_json_atomic, ClientCost, Failure, PointResult, PromptInfo, RunResult, ServerRun, Tool,
    SCHEMA_VERSION,
};
use crate::scenario::{point_id, Embedded, Plan, PointSpec};
use crate::secret::redacted;
use crate::server::{first_model, server_info, Launch, RunningServer, ServerInfo};
use crate::sim::{self, Faults, RunningSim};
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
    streams: &StreamClient,
    base_url: &reqwest::Url,
    uri: &http::Uri,
    adapter: &dyn Adapter,
) -> Result<Prepared, RunError> {
    let target = &plan.target;
    let model = match &target.model {
        Some(m) => m.clone(),
        None => first_model(http, base_url).await.map_err(RunError::Model)?,
    };
    let tokenizer = Tokenizer::resolve(target.tokenizer, http, base_url, &model).await?;
    let factory = PromptFactory::calibrate(&tokenizer, plan.seed).await?;
    let ignore_eos = plan.scenario.workload.ignore_eos;
    let probe = probe_server(
        streams,
        uri,
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
    let server = server_info(http, base_url, &model).await;
    Ok(Prepared {
        model,
        tokenizer,
        factory,
        probe,
        server,
    })
}

/// Where a configuration's server log goes: beside the result (`<stem>.servers/`), else
/// under `reports/server-logs/<scenario>/`.
fn server_log(plan: &Plan, options: &RunOptions, values: &BTreeMap<String, Value>) -> PathBuf {
    let dir = match &options.output {
        Some(output) => {
            let stem = output.file_stem().unwrap_or_default().to_string_lossy();
            output.with_file_name(format!("{stem}.servers"))
        }
        None => PathBuf::from("reports/server-logs").join(&plan.scenario.name),
    };
    let name: String = if values.is_empty() {
        "server".to_owned()
    } else {
        // A file name: matrix values may hold paths.
        point_id(values)
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "._=,-".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect()
    };
    dir.join(format!("{name}.log"))
}

/// How often a launched server is checked during a point.
const LIVENESS_POLL: Duration = Duration::from_millis(200);

/// A port nothing listens on now, for a launched server.
fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// The result of a point that was not measured.
fn failed_point(spec: &PointSpec, failure: &Failure) -> PointResult {
    PointResult {
        id: spec.id.clone(),
        params: spec.params.clone(),
        failure: Some(failure.clone()),
        ..PointResult::default()
    }
}

/// A configuration's server, launched when the scenario has `server` or started in-process
/// for an embedded target, and its base URL.
struct Session {
    server: Option<RunningServer>,
    sim: Option<RunningSim>,
    base_url: reqwest::Url,
    record: Option<ServerRun>,
}

impl Session {
    /// Launches the server of `configuration` (when the scenario has one) and waits until
    /// it is ready.
    async fn open(
        plan: &Plan,
        options: &RunOptions,
        http: &reqwest::Client,
        values: &BTreeMap<String, Value>,
    ) -> Result<Self, (Failure, Option<ServerRun>)> {
        let mut base_url = plan.target.base_url.clone();
        let plain = |reason: String| Failure {
            reason,
            log_tail: Vec::new(),
        };
        if let Some(Embedded::Sim) = plan.scenario.target.embedded {
            let profile = plan.scenario.target.profile.as_deref().unwrap_or_default();
            let mut record = ServerRun {
                config: values.clone(),
                command: vec![format!("(embedded simulator, profile {profile})")],
                ..ServerRun::default()
            };
            let started = sim::engine_config(profile, values).and_then(|config| {
                record.command.extend([
                    format!("chunked_prefill={}", config.chunked_prefill),
                    format!("max_num_batched_tokens={}", config.max_num_batched_tokens),
                    format!("tp={}", config.tp),
                ]);
                RunningSim::start(sim::Server::Engine(config, Faults::default()), 0)
                    .map_err(|e| e.to_string())
            });
            return match started {
                Ok(running) => {
                    let _ = base_url.set_port(Some(running.addr.port()));
                    Ok(Self {
                        server: None,
                        sim: Some(running),
                        base_url,
                        record: Some(record),
                    })
                }
                Err(e) => {
                    let failure = plain(format!("cannot start the simulator: {e}"));
                    record.failure = Some(failure.clone());
                    Err((failure, Some(record)))
                }
            };
        }
        let Some(spec) = &plan.scenario.server else {
            return Ok(Self {
                server: None,
                sim: None,
                base_url,
                record: None,
            });
        };
        let log = server_log(plan, options, values);
        let port = free_port().map_err(|e| (plain(format!("no free port: {e}")), None))?;
        if plan.port_from_launch {
            let _ = base_url.set_port(Some(port));
        }
        let launch = Launch::new(
            spec,
            values,
            Some(port),
            &base_url,
            log.clone(),
            plan.target.api_key.as_ref(),
        )
        .map_err(|e| (plain(format!("server.command: {e}")), None))?;
        let mut record = ServerRun {
            config: values.clone(),
            command: launch.shown_argv.clone(),
            log: log.display().to_string(),
            ..ServerRun::default()
        };
        tracing::info!("starting the server: {}", record.command.join(" "));
        match RunningServer::start(launch, http).await {
            Ok(server) => Ok(Self {
                server: Some(server),
                sim: None,
                base_url,
                record: Some(record),
            }),
            Err(failure) => {
                record.failure = Some(failure.clone());
                Err((failure, Some(record)))
            }
        }
    }

    /// Watches the launched server until `done`; when it dies, stops the point
    /// (`stop_point`) and says why.
    async fn watch(
        &mut self,
        done: &CancellationToken,
        stop_point: &CancellationToken,
    ) -> Option<Failure> {
        let server = self.server.as_mut()?;
        loop {
            if let Some(failure) = server.exited() {
                stop_point.cancel();
                return Some(failure);
            }
            tokio::select! {
                _ = tokio::time::sleep(LIVENESS_POLL) => {}
                _ = done.cancelled() => return server.exited(),
            }
        }
    }

    /// Stops the server; returns its record with `failure` when one was seen.
    async fn close(mut self, failure: Option<Failure>) -> Option<ServerRun> {
        if let Some(server) = &mut self.server {
            server.stop().await;
        }
        drop(self.sim.take());
        let mut record = self.record?;
        record.failure = failure;
        Some(record)
    }
}

/// Runs every point of `plan`, configuration by configuration (launching each one's
/// server when the scenario has `server`); stops early, keeping what was measured, when
/// `cancel` fires. A server that fails to start or dies fails its configuration's points
/// (with the reason and its log's tail), and the run goes on with the next configuration.
/// The result is checkpointed to `options.output` before the first point (so an
/// unwritable path fails at once) and after every point; writing the final result is the
/// caller's.
pub async fn run_plan(
    plan: &Plan,
    options: &RunOptions,
    cancel: &CancellationToken,
) -> Result<RunResult, RunError> {
    let started_at = now_rfc3339();
    let http = build_http_client(plan.target.api_key.as_ref())?;
    let streams = StreamClient::new(plan.target.api_key.as_ref())?;
    let adapter = adapter_for(plan.target.api);
    let seed = plan.seed;
    let sampling = &plan.scenario.monitor;
    let nvml = Gpus::open();
    let gpu_env = gpu_environment(&nvml);
    let gpus = nvml
        .ok()
        .filter(|_| sampling.gpu_interval_ms > 0)
        .map(Arc::new);
    let mut scenario = plan.scenario.clone();
    scenario.target.base_url = redacted(&plan.target.base_url);
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
            gpus: gpu_env,
            server: ServerInfo::default(),
        },
        prompts: PromptInfo {
            tokenizer: String::new(),
            exact: false,
            template_overhead_tokens: None,
            seed,
        },
        client: ClientCost::default(),
        servers: Vec::new(),
        points: Vec::new(),
    };
    if let Some(path) = &options.output {
        write_json_atomic(path, &result).map_err(write_error(path))?;
    }
    let mut log = match &options.requests_out {
        Some(path) => RequestLog::create(path).map_err(write_error(path))?,
        None => RequestLog::disabled(),
    };
    let next_index = AtomicU64::new(0);
    let run_id = format!("llmlt-{:08x}", rand::random::<u32>());
    let mut prepared_once = false;
    for launch in plan.launches() {
        // Each point with its position in the plan (which seeds its arrivals).
        let specs: Vec<(usize, &PointSpec)> = plan
            .points
            .iter()
            .enumerate()
            .filter(|(_, p)| launch.contains(&p.configuration))
            .collect();
        let server_values = plan.server_values(launch[0]);
        if cancel.is_cancelled() {
            break;
        }
        let checkpoint = |result: &RunResult| {
            if let Some(path) = &options.output {
                if let Err(e) = write_json_atomic(path, result) {
                    tracing::warn!("cannot checkpoint the result to {}: {e}", path.display());
                }
            }
        };
        let fail_all = |result: &mut RunResult, failure: &Failure| {
            eprintln!("configuration failed: {failure}");
            result
                .points
                .extend(specs.iter().map(|(_, spec)| failed_point(spec, failure)));
        };
        let opened = tokio::select! {
            opened = Session::open(plan, options, &http, &server_values) => opened,
            _ = cancel.cancelled() => break,
        };
        let mut session = match opened {
            Ok(session) => session,
            Err((failure, record)) => {
                result.servers.extend(record);
                fail_all(&mut result, &failure);
                checkpoint(&result);
                continue;
            }
        };
        let url = session
            .base_url
            .join(adapter.path())
            .expect("a relative path joins any http URL");
        let uri = request_uri(&url)?;
        let prepared = tokio::select! {
            prepared = prepare(plan, &http, &streams, &session.base_url, &uri, adapter.as_ref()) => prepared,
            _ = cancel.cancelled() => {
                result.servers.extend(session.close(None).await);
                break;
            }
        };
        let prepared = match prepared {
            Ok(prepared) => prepared,
            Err(e) if plan.scenario.server.is_some() => {
                let failure = Failure {
                    reason: format!("cannot use the launched server: {e}"),
                    log_tail: Vec::new(),
                };
                fail_all(&mut result, &failure);
                result.servers.extend(session.close(Some(failure)).await);
                checkpoint(&result);
                continue;
            }
            Err(e) => return Err(e),
        };
        if let Some(record) = &mut session.record {
            record.version = prepared.server.version.clone();
        }
        if !prepared_once {
            prepared_once = true;
            result.scenario.target.model = Some(prepared.model.clone());
            result.scenario.workload.ignore_eos &= !prepared.probe.ignore_eos_rejected;
            result.environment.server = ServerInfo {
                args: session
                    .record
                    .as_ref()
                    .map(|r| r.command.clone())
                    .unwrap_or_default(),
                ..prepared.server.clone()
            };
            result.prompts = PromptInfo {
                tokenizer: prepared.tokenizer.name().to_owned(),
                exact: prepared.tokenizer.is_exact(),
                template_overhead_tokens: prepared.probe.template_overhead,
                seed,
            };
        }
        let workload = &plan.scenario.workload;
        let params = GenerationParams {
            model: prepared.model,
            max_tokens: workload.output_tokens,
            ignore_eos: workload.ignore_eos && !prepared.probe.ignore_eos_rejected,
            stream: workload.stream,
        };
        let overhead = prepared.probe.template_overhead.unwrap_or(0);
        let monitor = WindowMonitor {
            http: &http,
            metrics_url: (sampling.metrics_interval_ms > 0)
                .then(|| {
                    session
                        .base_url
                        .join(sampling.metrics_path.trim_start_matches('/'))
                        .ok()
                })
                .flatten(),
            metrics_interval: Duration::from_millis(sampling.metrics_interval_ms),
            gpus: gpus.clone(),
            gpu_interval: Duration::from_millis(sampling.gpu_interval_ms),
        };
        let models_uri = request_uri(
            &session
                .base_url
                .join("v1/models")
                .unwrap_or_else(|_| session.base_url.clone()),
        )?;
        let mut died = None;
        for &(position, spec) in &specs {
            if cancel.is_cancelled() {
                break;
            }
            if let Some(failure) = &died {
                result.points.push(failed_point(spec, failure));
                continue;
            }
            let measuring = Notify::new();
            tracing::info!("point {}/{}: {}", position + 1, plan.points.len(), spec.id);
            let settings = PointSettings {
                content_tokens: spec.input_tokens.saturating_sub(overhead).max(1),
                warmup: plan.scenario.load.warmup,
                stop: plan.stop,
                slo: plan.scenario.slo.as_ref(),
                arrival_seed: seed.wrapping_add(position as u64),
                api_key: plan.target.api_key.as_ref(),
                measuring: &measuring,
            };
            // Stops the point on Ctrl-C, or at once when its server dies.
            let stop_point = cancel.child_token();
            let driver = Driver {
                http: &streams,
                uri: &uri,
                adapter: adapter.as_ref(),
                params: &params,
                factory: &prepared.factory,
                timeout: plan.timeout,
                cancel: &stop_point,
                next_index: &next_index,
                run_id: &run_id,
                models_uri: &models_uri,
            };
            let done = CancellationToken::new();
            let measure = async {
                let point = run_point(&driver, spec, &settings, &mut log).await;
                done.cancel();
                point
            };
            let (mut point, (server_metrics, gpu), death) = tokio::join!(
                measure,
                monitor.watch(&measuring, &done),
                session.watch(&done, &stop_point)
            );
            point.server_metrics = server_metrics;
            point.gpu = gpu;
            if point.requests.total == 0 && cancel.is_cancelled() {
                break; // interrupted during warmup: nothing of this point was measured
            }
            if let Some(failure) = death {
                let failure = Failure {
                    reason: format!("the server died during the point: {}", failure.reason),
                    ..failure
                };
                eprintln!("{}: {failure}", spec.id);
                point.failure = Some(failure.clone());
                died = Some(failure);
            }
            result.client.measuring_cpu += point.client_cpu;
            result.points.push(point);
            result.finished_at = now_rfc3339();
            checkpoint(&result);
        }
        result.servers.extend(session.close(died).await);
        checkpoint(&result);
    }
    if !prepared_once && result.points.is_empty() && cancel.is_cancelled() {
        return Err(RunError::Interrupted);
    }
    result.partial = cancel.is_cancelled();
    result.finished_at = now_rfc3339();
    result.client.cpu = CpuTime::now();
    result.client.peak_rss_mib = peak_rss_mib();
    Ok(result)
}
