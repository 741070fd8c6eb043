//! One point of a configuration: its load, beside the sampling of GPUs and server metrics
//! and the watch over a launched server, all over the point's measured window. The point's
//! result is built once, from its requests and what was sampled; a server that dies during
//! it stops the point and is recorded as its failure.

use std::time::Duration;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::prepare::Prepared;
use super::session::Session;
use super::{RunError, Shared};
use crate::client::{request_uri, GenerationParams};
use crate::load::{run_point, Driver, PointSettings, RequestLog};
use crate::metrics::{combined_goodput, PointFacts};
use crate::monitor::WindowMonitor;
use crate::result::{Failure, PointResult, ShardWindow};
use crate::scenario::{LengthSpec, Plan, PointSpec};
use crate::secret::Credential;
use crate::workload::RequestMaker;

/// What the points of one configuration share.
pub(super) struct PointContext<'a> {
    plan: &'a Plan,
    shared: &'a Shared,
    /// The generation endpoint.
    uri: http::Uri,
    /// The model list, fetched to open connections before a window.
    models_uri: http::Uri,
    /// The generation settings of each traffic class (one without classes).
    params: Vec<GenerationParams>,
    maker: RequestMaker,
    /// The context length the server advertises, in tokens.
    context_tokens: Option<u64>,
    monitor: WindowMonitor<'a>,
}

impl<'a> PointContext<'a> {
    /// The context of the configuration served at `base_url`.
    pub fn new(
        plan: &'a Plan,
        shared: &'a Shared,
        base_url: &reqwest::Url,
        prepared: Prepared,
    ) -> Result<Self, RunError> {
        let sampling = &plan.monitor;
        let metrics_url = (sampling.metrics_interval_ms > 0)
            .then(|| {
                base_url
                    .join(sampling.metrics_path.trim_start_matches('/'))
                    .ok()
            })
            .flatten();
        let models_url = base_url
            .join("v1/models")
            .unwrap_or_else(|_| base_url.clone());
        let base = GenerationParams {
            max_tokens: 0,
            ignore_eos: prepared.ignore_eos(plan),
            stream: plan.request.stream,
            model: prepared.model,
        };
        let mut params: Vec<GenerationParams> = plan
            .classes
            .iter()
            .map(|c| GenerationParams {
                model: c.model.clone().unwrap_or_else(|| base.model.clone()),
                ..base.clone()
            })
            .collect();
        if params.is_empty() {
            params.push(base);
        }
        Ok(Self {
            params,
            context_tokens: prepared.context_tokens,
            maker: prepared.maker,
            models_uri: request_uri(&models_url)?,
            uri: prepared.uri,
            monitor: WindowMonitor {
                http: &shared.http,
                metrics_url,
                metrics_interval: Duration::from_millis(sampling.metrics_interval_ms),
                gpus: shared.gpus.clone(),
                gpu_interval: Duration::from_millis(sampling.gpu_interval_ms),
                timeline_window: plan.timeline_window,
            },
            plan,
            shared,
        })
    }
}

impl PointContext<'_> {
    /// Why `spec` cannot be measured on this server, if it cannot: its prompt and answer do
    /// not fit the context the server advertises (each request would be refused).
    pub fn unfit(&self, spec: &PointSpec) -> Option<Failure> {
        let context = self.context_tokens?;
        let longest = |length: Option<&LengthSpec>| length.map_or(0, |l| l.range().1);
        let input = longest(spec.input.as_ref());
        let output = longest(self.plan.request.output.as_ref());
        let needed = u64::from(input) + u64::from(output);
        (needed > context).then(|| Failure {
            reason: format!(
                "input_tokens {input} + output_tokens {output} (the longest asked for) do not fit the server's context of {context} tokens"
            ),
            log_tail: Vec::new(),
        })
    }

    /// Times each point is measured.
    pub fn trials(&self) -> u32 {
        self.plan.trials
    }

    /// How the point at `at` in the plan is run.
    fn settings<'s>(&'s self, at: At, measuring: &'s Notify) -> PointSettings<'s> {
        let plan = self.plan;
        // Every trial of every point draws its own arrivals.
        let draw = at.position as u64 + u64::from(at.trial) * plan.points.len() as u64;
        PointSettings {
            warmup: plan.warmup,
            stop: plan.stop,
            slo: plan.slo.as_ref(),
            arrival_seed: plan.seed.wrapping_add(draw),
            api_key: plan.target.credential.as_ref().map(Credential::secret),
            timeline_window: plan.timeline_window,
            measuring,
            classes: &plan.classes,
            turns: self.maker.conversation().map(|(turns, _)| turns),
            arrivals: self.maker.arrivals(),
            abort: &plan.abort,
            settle_goodput: plan.settle_goodput,
            start_at: plan.barrier.map(|b| b.at(at.window)),
            live: self.shared.live.as_ref(),
        }
    }

    /// What the requests of `spec` are sent with; `cancel` stops them.
    fn driver<'d>(&'d self, spec: &'d PointSpec, cancel: &'d CancellationToken) -> Driver<'d> {
        Driver {
            http: &self.shared.streams,
            uri: &self.uri,
            adapter: self.shared.adapter.as_ref(),
            params: &self.params,
            maker: &self.maker,
            input: spec.input.as_ref(),
            timeout: self.plan.timeout,
            cancel,
            next_index: &self.shared.next_index,
            shard: self.plan.shard,
            run_id: &self.shared.run_id,
            models_uri: &self.models_uri,
        }
    }
}

/// Where a measurement is in the plan: the point's position (which, with the trial, seeds
/// its arrivals), the trial, from 0, and how many measured windows came before it in the
/// run (which places it after a barrier).
#[derive(Debug, Clone, Copy)]
pub(super) struct At {
    pub position: usize,
    pub trial: u32,
    pub window: u32,
}

/// Measures one trial of the point `spec`, at `at` in the plan.
pub(super) async fn measure(
    ctx: &PointContext<'_>,
    session: &mut Session,
    at: At,
    spec: &PointSpec,
    log: &mut RequestLog,
    cancel: &CancellationToken,
) -> PointResult {
    let (points, trials) = (ctx.plan.points.len(), ctx.plan.trials);
    let trial = if trials > 1 {
        format!(", trial {}/{trials}", at.trial + 1)
    } else {
        String::new()
    };
    tracing::info!("point {}/{points}{trial}: {}", at.position + 1, spec.id);
    let measuring = Notify::new();
    let settings = ctx.settings(at, &measuring);
    // Stops the point on Ctrl-C, or at once when its server dies.
    let stop_point = cancel.child_token();
    let driver = ctx.driver(spec, &stop_point);
    let done = CancellationToken::new();
    let load = async {
        let measured = run_point(&driver, spec, &settings, log).await;
        done.cancel();
        measured
    };
    let (measured, sampled, death) = tokio::join!(
        load,
        ctx.monitor.watch(&measuring, &done),
        session.watch(&done, &stop_point)
    );
    let failure = death.map(|failure| Failure {
        reason: format!("the server died during the point: {}", failure.reason),
        ..failure
    });
    if let Some(failure) = &failure {
        eprintln!("{}: {failure}", spec.id);
    }
    let facts = PointFacts {
        gpu: sampled.gpu,
        server_metrics: sampled.server_metrics,
        gauges: sampled.gauges,
        failure,
        ..measured.facts
    };
    let mut result = measured.accumulator.finish(spec, facts);
    result.stages = measured.stages;
    if ctx.plan.classes.iter().any(|c| c.slo.is_some()) {
        result.goodput = combined_goodput(&measured.classes, ctx.plan.slo.as_ref());
    }
    result.classes = measured.classes;
    result.turns = measured.turns;
    if let Some(stopped) = &measured.stopped {
        eprintln!(
            "{}: stopped after {:.1} s: {}",
            spec.id, stopped.at_s, stopped.reason
        );
    }
    result.stopped = measured.stopped;
    result.breakpoint = measured.breakpoint;
    let plan = ctx.plan;
    if !plan.shard.is_whole() || plan.barrier.is_some() {
        result.window = Some(ShardWindow {
            start_unix_ms: measured.window.unix_ms,
            late_ms: measured.window.late_ms,
        });
    }
    if let Some(late) = measured.window.late_ms.filter(|&ms| ms > LATE_START_MS) {
        eprintln!(
            "{}: shard {} started {late:.0} ms after the barrier",
            spec.id, plan.shard
        );
    }
    result
}

/// A shard that starts its window later than this after the barrier says so.
const LATE_START_MS: f64 = 100.0;
