//! One point: warmup (discarded), then the measured window under the point's load shape,
//! with the single aggregator folding records as they arrive — on its own thread, so that
//! folding and writing the request log never delay the reads being timed. It collects them
//! every 50 ms rather than being woken for each one: a wake-up per record costs
//! the timing thread a futex call and the machine a context switch.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::{mpsc, oneshot, Notify};

use super::stop::StopRules;
use super::{closed, open, progress, staged, Arrivals, Driver, Live, RequestLog, RequestRecord};
use crate::metrics::{GroupSplit, PointAccumulator, PointFacts, StageSplit, TimelineBuilder};
use crate::result::{Breakpoint, CpuTime, GroupResult, StageResult, Stopped};
use crate::scenario::{LoadShape, PointSpec, Slo, StopAfter, Threshold, TrafficClass, Unit};
use crate::secret::Secret;

/// Most warmup requests in flight at once for an open-loop point.
const OPEN_LOOP_WARMUP_CONCURRENCY: u32 = 4;

/// How a point is run, beyond its spec.
pub struct PointSettings<'a> {
    pub warmup: u32,
    pub stop: StopAfter,
    pub slo: Option<&'a Slo>,
    pub arrival_seed: u64,
    /// Scrubbed from error messages before they are stored.
    pub api_key: Option<&'a Secret>,
    /// Width of the windows of the point's timeline.
    pub timeline_window: Duration,
    /// Notified when warmup is over and the measured window starts.
    pub measuring: &'a Notify,
    /// The traffic classes, whose figures are kept apart (none: one class).
    pub classes: &'a [TrafficClass],
    /// Turns per conversation, whose figures are kept apart (none: not conversations).
    pub turns: Option<u32>,
    /// Arrival times of a trace, from its first.
    pub arrivals: Vec<std::time::Duration>,
    /// Thresholds that stop the run when they fail (`abort_on_fail`).
    pub abort: &'a [Threshold],
    /// Stop once the goodput's interval is clear of this share.
    pub settle_goodput: Option<f64>,
    /// When the measured window starts, on every shard alike (`run --start-at`).
    pub start_at: Option<SystemTime>,
    /// Told of the window and each finished request, for a watcher.
    pub live: Option<&'a Arc<Live>>,
}

/// A point's requests folded, with what the load generator knows of its window.
pub struct MeasuredPoint {
    pub accumulator: PointAccumulator,
    /// A staged point's figures per stage (empty otherwise).
    pub stages: Vec<StageResult>,
    /// A mixed workload's figures per class, a conversation's per turn (empty otherwise).
    pub classes: Vec<GroupResult>,
    pub turns: Vec<GroupResult>,
    /// Why the point stopped itself, and what a breakpoint ramp found.
    pub stopped: Option<Stopped>,
    pub breakpoint: Option<Breakpoint>,
    /// The window's CPU time and whether it was interrupted; the runner adds its samples.
    pub facts: PointFacts,
    /// When the measured window started, and how late for its barrier.
    pub window: WindowStart,
}

/// Keep-alive connections to open before the window: the requests in flight at most.
fn connections(spec: &PointSpec, stop: StopAfter) -> u32 {
    match &spec.shape {
        LoadShape::Closed { concurrency } => match stop {
            StopAfter::Requests(n) => (*concurrency).min(n),
            StopAfter::Duration(_) => *concurrency,
        },
        LoadShape::Staged { stages, .. } if stages.unit == Unit::Concurrency => {
            stages.peak().round() as u32
        }
        _ => 0,
    }
}

fn is_open_loop(spec: &PointSpec) -> bool {
    match &spec.shape {
        LoadShape::Open { .. } | LoadShape::Trace { .. } => true,
        LoadShape::Staged { stages, .. } => stages.unit == Unit::Rate,
        LoadShape::Closed { .. } => false,
    }
}

/// Runs warmup and the measured window of `spec`.
pub async fn run_point(
    driver: &Driver<'_>,
    spec: &PointSpec,
    settings: &PointSettings<'_>,
    log: &mut RequestLog,
) -> MeasuredPoint {
    warm_up(driver, spec, settings).await;
    driver
        .preconnect(driver.shard.share(connections(spec, settings.stop)))
        .await;
    let window = wait_for(settings.start_at, driver.cancel).await;
    settings.measuring.notify_one();
    let open_loop = is_open_loop(spec);
    // A conversation is one job of several requests.
    let bar_stop = match (settings.stop, settings.turns) {
        (StopAfter::Requests(n), Some(turns)) => StopAfter::Requests(n.saturating_mul(turns)),
        (StopAfter::Requests(n), None) => StopAfter::Requests(driver.shard.share(n)),
        (stop, _) => stop,
    };
    let bar = progress::point_bar(&spec.id, bar_stop);
    let (tx, rx) = mpsc::unbounded_channel();
    let cpu_before = CpuTime::now();
    let window_start = Instant::now();
    if let Some(live) = settings.live {
        live.start_point(&spec.id, window_start);
    }
    let timeline = TimelineBuilder::new(window_start, settings.timeline_window);
    let (input, slo) = (spec.input_tokens, settings.slo);
    let split = match &spec.shape {
        LoadShape::Staged { stages, .. } => Some(StageSplit::new(
            stages.clone(),
            window_start,
            open_loop,
            input,
            slo,
        )),
        _ => None,
    };
    let classes = settings
        .classes
        .iter()
        .map(|c| (c.name.clone(), c.slo.as_ref().or(slo)));
    let turns = (1..=settings.turns.unwrap_or(0)).map(|t| (format!("turn {t}"), slo));
    // The point's own rules stop its senders, not the run's.
    let stop = driver.cancel.child_token();
    let senders = Driver {
        cancel: &stop,
        ..*driver
    };
    let aggregator = Aggregator {
        rules: StopRules::new(spec, settings, stop.clone(), window_start),
        spec: spec.clone(),
        acc: PointAccumulator::new(open_loop, input, slo, Some(timeline)),
        split,
        classes: GroupSplit::new(classes, open_loop, input),
        turns: GroupSplit::new(turns, open_loop, input),
        log: std::mem::replace(log, RequestLog::disabled()),
        bar: bar.clone(),
        live: settings.live.cloned(),
        api_key: settings.api_key.cloned(),
        point: spec.id.clone(),
        window_start,
    };
    let aggregated = aggregator.spawn(rx);
    drive(&senders, spec, settings, tx).await;
    let folded = aggregated
        .await
        .expect("the aggregator thread ends with its records");
    let cpu = CpuTime::now() - cpu_before;
    let (stopped, breakpoint) = folded.rules.finish();
    bar.finish_and_clear();
    let mut folded_log = folded.log;
    if let Err(e) = folded_log.flush() {
        tracing::warn!("cannot write the request log: {e}");
    }
    *log = folded_log;
    let facts = PointFacts {
        cpu,
        partial: driver.cancel.is_cancelled(),
        ..PointFacts::default()
    };
    MeasuredPoint {
        accumulator: folded.acc,
        stages: folded.split.map(|s| s.finish(spec)).unwrap_or_default(),
        classes: folded.classes.finish(spec),
        turns: folded.turns.finish(spec),
        stopped,
        breakpoint,
        facts,
        window,
    }
}

/// When a measured window started: wall-clock milliseconds since the Unix epoch, and
/// for a window with a barrier how long after it (0 when on time).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WindowStart {
    pub unix_ms: f64,
    pub late_ms: Option<f64>,
}

/// Waits until `start_at` (at once when it is past or absent, or on Ctrl-C): the start
/// of a measured window.
async fn wait_for(
    start_at: Option<SystemTime>,
    cancel: &tokio_util::sync::CancellationToken,
) -> WindowStart {
    if let Some(at) = start_at {
        if let Ok(ahead) = at.duration_since(SystemTime::now()) {
            tokio::select! {
                () = tokio::time::sleep(ahead) => {}
                () = cancel.cancelled() => {}
            }
        }
    }
    let now = SystemTime::now();
    let unix_ms = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64() * 1000.0);
    let late_ms = start_at.map(|at| {
        now.duration_since(at)
            .map_or(0.0, |late| late.as_secs_f64() * 1000.0)
    });
    WindowStart { unix_ms, late_ms }
}

/// Warmup requests, discarded, at the point's concurrency (open loop: a few at a time).
async fn warm_up(driver: &Driver<'_>, spec: &PointSpec, settings: &PointSettings<'_>) {
    if settings.warmup == 0 {
        return;
    }
    let warmup = driver.shard.share(settings.warmup);
    let concurrency = match spec.shape {
        LoadShape::Closed { concurrency } => driver.shard.share(concurrency),
        _ => OPEN_LOOP_WARMUP_CONCURRENCY,
    }
    .min(warmup);
    // Warmup records are dropped unread: the receiver goes at once.
    let (tx, _) = mpsc::unbounded_channel();
    let warmup = StopAfter::Requests(warmup);
    closed::run(driver, concurrency, warmup, &tx).await;
}

/// The measured window under the point's load shape; records go to `tx`.
async fn drive(
    driver: &Driver<'_>,
    spec: &PointSpec,
    settings: &PointSettings<'_>,
    tx: mpsc::UnboundedSender<RequestRecord>,
) {
    match &spec.shape {
        LoadShape::Closed { concurrency } => {
            let stop = match settings.stop {
                StopAfter::Requests(n) => StopAfter::Requests(driver.shard.share(n)),
                duration => duration,
            };
            closed::run(driver, driver.shard.share(*concurrency), stop, &tx).await
        }
        LoadShape::Open {
            rate,
            arrival,
            burstiness,
        } => {
            let arrivals = Arrivals::new(*rate, *arrival, *burstiness, settings.arrival_seed);
            open::run(driver, open::fixed(arrivals, settings.stop), &tx).await
        }
        LoadShape::Staged { stages, .. } if stages.unit == Unit::Concurrency => {
            staged::run(driver, stages, &tx).await
        }
        LoadShape::Staged {
            stages,
            arrival,
            burstiness,
        } => {
            let unit = Arrivals::new(1.0, *arrival, *burstiness, settings.arrival_seed);
            open::run(driver, open::staged(stages, unit), &tx).await
        }
        LoadShape::Trace { time_scale } => {
            let arrivals = settings.arrivals.clone();
            open::run(
                driver,
                open::trace(arrivals, *time_scale, settings.stop),
                &tx,
            )
            .await
        }
    }
}

/// How often the aggregator collects records.
const AGGREGATOR_PERIOD: Duration = Duration::from_millis(50);

/// Folds a point's records into its figures and the request log, off the timing thread.
struct Aggregator {
    /// The rules that may stop the point, and the point they read.
    rules: StopRules,
    spec: PointSpec,
    acc: PointAccumulator,
    /// A staged point's stages, folded apart as well.
    split: Option<StageSplit>,
    /// A mixed workload's classes and a conversation's turns, folded apart as well.
    classes: GroupSplit,
    turns: GroupSplit,
    log: RequestLog,
    bar: indicatif::ProgressBar,
    live: Option<Arc<Live>>,
    api_key: Option<Secret>,
    point: String,
    window_start: Instant,
}

/// What the aggregator folded.
struct Folded {
    rules: StopRules,
    acc: PointAccumulator,
    split: Option<StageSplit>,
    classes: GroupSplit,
    turns: GroupSplit,
    log: RequestLog,
}

impl Aggregator {
    /// Folds `records` on a thread of its own; the receiver yields the fold at the end.
    fn spawn(self, records: mpsc::UnboundedReceiver<RequestRecord>) -> oneshot::Receiver<Folded> {
        let (folded, aggregated) = oneshot::channel();
        std::thread::Builder::new()
            .name("llm-loadtest-aggregator".into())
            .spawn(move || {
                let _ = folded.send(self.fold(records));
            })
            .expect("a thread for the aggregator");
        aggregated
    }

    /// Folds records until every sender is gone.
    fn fold(mut self, mut records: mpsc::UnboundedReceiver<RequestRecord>) -> Folded {
        loop {
            let mut record = match records.try_recv() {
                Ok(record) => record,
                Err(mpsc::error::TryRecvError::Empty) => {
                    self.rules.check(&mut self.acc, &self.spec);
                    std::thread::sleep(AGGREGATOR_PERIOD);
                    continue;
                }
                Err(mpsc::error::TryRecvError::Disconnected) => break,
            };
            if let (Some(key), Some(error)) = (&self.api_key, &mut record.exchange.error) {
                error.message = key.scrub(&error.message);
            }
            let (meta, at, ex) = (record.meta, record.scheduled, &record.exchange);
            self.acc.add(at, meta.planned_input, ex);
            if let Some(split) = &mut self.split {
                split.add(at, meta.planned_input, ex);
            }
            self.classes.add(meta.class, at, meta.planned_input, ex);
            self.turns
                .add(meta.turn as usize, at, meta.planned_input, ex);
            self.rules.add(ex);
            self.rules.check(&mut self.acc, &self.spec);
            if let Err(e) = self.log.write(&self.point, self.window_start, &record) {
                tracing::warn!("cannot write the request log: {e}");
            }
            self.bar.inc(1);
            if let Some(live) = &self.live {
                live.add(&record.exchange);
            }
        }
        Folded {
            rules: self.rules,
            acc: self.acc,
            split: self.split,
            classes: self.classes,
            turns: self.turns,
            log: self.log,
        }
    }
}
