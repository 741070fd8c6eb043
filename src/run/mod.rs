//! The runner: a whole plan, configuration by configuration. Configurations that share
//! their server-side values share one launch; for each launch a [`session`] starts the
//! server (launched, or the embedded simulator), [`prepare`] learns what measuring needs
//! (model, tokenizer, prompt vocabulary, template overhead, server identity), and each
//! [`point`] is measured in order. The [`record`] of the run grows as it goes and is
//! checkpointed atomically after each point when an output path is given; a cancelled run
//! returns what it measured, marked partial. [`availability`] says whether a plan's target
//! can be measured here at all.

mod availability;
mod configuration;
mod point;
mod prepare;
mod record;
mod session;

use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::atomic::WriteError;
use crate::client::{adapter_for, build_http_client, Adapter, ClientError, StreamClient};
use crate::load::Live;
use crate::monitor::{gpu_environment, Gpus};
use crate::result::RunResult;
use crate::scenario::Plan;
use crate::server::ModelListError;
use crate::workload::WorkloadError;

pub use availability::{availability, Unavailable};

/// Where a run writes.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// The result JSON, rewritten after every point.
    pub output: Option<PathBuf>,
    /// One JSON line per measured request.
    pub requests_out: Option<PathBuf>,
    /// Told what the run has done so far, for a watcher (the dashboard).
    pub live: Option<Arc<Live>>,
}

/// A run that could not start or could not write its output.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error("cannot tell which model to use ({0}); pass --model or set target.model")]
    Model(ModelListError),
    #[error(transparent)]
    Workload(#[from] WorkloadError),
    #[error(transparent)]
    Write(#[from] WriteError),
    #[error("interrupted before the first point")]
    Interrupted,
}

/// What every configuration of a run shares: the clients, the API flavour, the GPUs to
/// sample, the run-wide prompt counter and request-id prefix, and where server logs go.
struct Shared {
    http: reqwest::Client,
    streams: StreamClient,
    adapter: Box<dyn Adapter>,
    /// Open NVML, when there are GPUs and sampling is on.
    gpus: Option<Arc<Gpus>>,
    /// Prompts made so far by this process (with the shard, their plan-wide indices).
    next_index: AtomicU64,
    run_id: String,
    /// The folder of the launched servers' logs.
    server_logs: PathBuf,
    live: Option<Arc<Live>>,
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
    let nvml = Gpus::open();
    let gpu_env = gpu_environment(&nvml);
    let shared = Shared {
        http: build_http_client(plan.target.credential.as_ref())?,
        streams: StreamClient::new(plan.target.credential.as_ref())?,
        adapter: adapter_for(plan.target.api),
        gpus: nvml
            .ok()
            .filter(|_| plan.monitor.gpu_interval_ms > 0)
            .map(Arc::new),
        next_index: AtomicU64::new(0),
        run_id: format!("llmlt-{:08x}", rand::random::<u32>()),
        server_logs: session::log_dir(plan, options),
        live: options.live.clone(),
    };
    if let Some(live) = &shared.live {
        live.plan(plan.points.len() as u32);
    }
    let mut record = record::RunRecord::start(plan, options, gpu_env)?;
    let mut first_window = 0;
    for launch in plan.launches() {
        if cancel.is_cancelled() || record.aborted() {
            break;
        }
        configuration::run(plan, &launch, &shared, &mut record, cancel, first_window).await?;
        let points = plan
            .points
            .iter()
            .filter(|p| launch.contains(&p.configuration));
        first_window += points.count() as u32 * plan.trials;
    }
    record.finish(cancel.is_cancelled())
}
