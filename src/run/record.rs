//! The result of a run as it grows: begun with what is known before measuring (the
//! output's path checked at once, so that an unwritable output fails before the first
//! point, but nothing written yet), completed by the first preparation, then points and
//! launched servers appended, checkpointed atomically once there is a point to keep. It
//! also holds the request log that the points append to, kept at the first checkpoint.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::SystemTime;

use super::prepare::Prepared;
use super::{RunError, RunOptions};
use crate::atomic;
use crate::load::{Live, RequestLog};
use crate::metrics::add_trial;
use crate::monitor::peak_rss_mib;
use crate::result::{
    ClientCost, CpuTime, Environment, Failure, GpuEnvironment, Host, PointResult, PromptInfo,
    Revision, RunResult, ServerInfo, ServerRun, ShardOf, Tool, SCHEMA_VERSION,
};
use crate::scenario::{Plan, PointSpec};

fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}

/// A run's result while it is measured.
pub(super) struct RunRecord {
    result: RunResult,
    output: Option<PathBuf>,
    /// One JSON line per measured request, when asked for.
    pub log: RequestLog,
    /// Whether a configuration has been prepared (the result learnt the model and prompts).
    prepared: bool,
    /// Told how many points have a result, for a watcher.
    live: Option<Arc<Live>>,
}

impl RunRecord {
    /// The result before the first point, written to the output at once.
    pub fn start(
        plan: &Plan,
        options: &RunOptions,
        gpus: GpuEnvironment,
    ) -> Result<Self, RunError> {
        let result = RunResult {
            schema_version: SCHEMA_VERSION,
            tool: Tool::this(),
            scenario: plan.record.clone(),
            started_at: now_rfc3339(),
            finished_at: String::new(),
            // Checkpoints written during the run are partial until the last point is done.
            partial: true,
            environment: Environment {
                host: Host::current(),
                gpus,
                server: ServerInfo::default(),
                revision: Revision::current(),
            },
            prompts: PromptInfo {
                tokenizer: String::new(),
                exact: false,
                template_overhead_tokens: None,
                seed: plan.seed,
            },
            client: ClientCost::default(),
            servers: Vec::new(),
            points: Vec::new(),
            shard: (!plan.shard.is_whole() || plan.barrier.is_some()).then(|| ShardOf {
                index: plan.shard.index,
                count: plan.shard.count,
                host: gethostname::gethostname().to_string_lossy().into_owned(),
                start_at: plan
                    .barrier
                    .map(|b| humantime::format_rfc3339_millis(b.start).to_string()),
            }),
            shards: Vec::new(),
            history: Vec::new(),
        };
        // Nothing is written before there is something to keep: an earlier result at the
        // path stays as it was if this run fails first. Whether it could be is known now.
        if let Some(path) = &options.output {
            atomic::check_writable(path)?;
        }
        let log = match &options.requests_out {
            Some(path) => RequestLog::create(path)?,
            None => RequestLog::disabled(),
        };
        Ok(Self {
            result,
            output: options.output.clone(),
            log,
            prepared: false,
            live: options.live.clone(),
        })
    }

    /// Rewrites the output with what was measured so far, and moves the request log to
    /// its path; a failure only warns.
    pub fn checkpoint(&mut self) {
        if let Some(path) = &self.output {
            if let Err(e) = atomic::write_json(path, &self.result) {
                tracing::warn!("cannot checkpoint the result: {e}");
            }
        }
        if let Err(e) = self.log.keep() {
            tracing::warn!("cannot keep the request log: {e}");
        }
    }

    /// Records what the first preparation learnt: model, server, prompt sizing. Later
    /// configurations' preparations change nothing here.
    pub fn learn(&mut self, prepared: &Prepared, server_command: Vec<String>) {
        if std::mem::replace(&mut self.prepared, true) {
            return;
        }
        let result = &mut self.result;
        result.scenario.target.model = Some(prepared.model.clone());
        result.scenario.workload.ignore_eos &= !prepared.probe.ignore_eos_rejected;
        result.environment.server = ServerInfo {
            args: server_command,
            ..prepared.server.clone()
        };
        result.prompts = PromptInfo {
            tokenizer: prepared.tokenizer.name().to_owned(),
            exact: prepared.tokenizer.is_exact(),
            template_overhead_tokens: prepared.probe.template_overhead,
            seed: result.prompts.seed,
        };
    }

    /// Records `specs` as not measured, for `failure`; a point measured in an earlier
    /// trial keeps its figures and gains the failure (its first one).
    pub fn fail_points<'a>(
        &mut self,
        specs: impl IntoIterator<Item = &'a PointSpec>,
        failure: &Failure,
    ) {
        for spec in specs {
            match self.point_mut(&spec.id) {
                Some(point) => {
                    point.failure.get_or_insert_with(|| failure.clone());
                }
                None => self.result.points.push(PointResult {
                    id: spec.id.clone(),
                    params: spec.params.clone(),
                    failure: Some(failure.clone()),
                    ..PointResult::default()
                }),
            }
        }
        self.tell_points_done();
    }

    fn tell_points_done(&self) {
        if let Some(live) = &self.live {
            live.points_done(self.result.points.len() as u32);
        }
    }

    /// Records a measured trial of a point (appended the first time, pooled with the
    /// earlier trials after) and checkpoints.
    pub fn push_point(&mut self, point: PointResult) {
        self.result.client.measuring_cpu += point.client_cpu;
        match self.point_mut(&point.id) {
            Some(earlier) => add_trial(earlier, point),
            None => self.result.points.push(point),
        }
        self.tell_points_done();
        self.result.finished_at = now_rfc3339();
        self.checkpoint();
    }

    fn point_mut(&mut self, id: &str) -> Option<&mut PointResult> {
        self.result.points.iter_mut().find(|p| p.id == id)
    }

    /// Appends the record of a configuration's server, if one was launched or started.
    pub fn add_server(&mut self, server: Option<ServerRun>) {
        self.result.servers.extend(server);
    }

    /// Whether a threshold with `abort_on_fail` stopped the run (k6's `abortOnFail`: no
    /// point runs after it).
    pub fn aborted(&self) -> bool {
        let mut stopped = self.result.points.iter().filter_map(|p| p.stopped.as_ref());
        stopped.any(|s| s.ends_run)
    }

    /// The final result; an error when the run was cancelled before its first point.
    pub fn finish(mut self, cancelled: bool) -> Result<RunResult, RunError> {
        if self.result.points.is_empty() && cancelled {
            return Err(RunError::Interrupted);
        }
        let result = &mut self.result;
        result.partial = cancelled;
        result.finished_at = now_rfc3339();
        result.client.cpu = CpuTime::now();
        result.client.peak_rss_mib = peak_rss_mib();
        Ok(self.result)
    }
}
