//! The aggregator's state for one point: folds each finished request into histograms,
//! counters and goodput, and turns them into a [`PointResult`] at the end.

use std::collections::BTreeMap;
use std::time::Instant;

use super::request::TokenSource;
use super::timeline::{Ended, TimelineBuilder};
use super::{GoodputCounter, LatencyHistogram, RequestFigures};
use crate::client::Exchange;
use crate::result::{
    CpuTime, Failure, GpuStats, GroupResult, Latencies, PointResult, RequestCounts, Schedule,
    ServerMetrics, StageResult, Throughput, TokenStats, LATE_SEND_MS,
};
use crate::scenario::{PointSpec, Slo};

/// What is known of a point beside its requests: the load generator's CPU and whether it
/// was interrupted, and the runner's samples and failure.
#[derive(Debug, Clone, Default)]
pub struct PointFacts {
    /// CPU the harness spent during the measured window.
    pub cpu: CpuTime,
    /// The point was interrupted.
    pub partial: bool,
    /// Each GPU over the measured window.
    pub gpu: Vec<GpuStats>,
    /// The server's metrics over the measured window.
    pub server_metrics: Option<ServerMetrics>,
    /// The width of the gauges' windows, and per window the mean of each gauge sampled in
    /// it (from the start of the measured window).
    pub gauges: (std::time::Duration, Vec<BTreeMap<String, f64>>),
    /// Why the point was not measured fully (its server died).
    pub failure: Option<Failure>,
}

/// The failure of a point whose every request failed.
fn every_request_failed(counts: &RequestCounts) -> Failure {
    Failure {
        reason: format!("every request failed ({})", counts.errors_with_samples()),
        log_tail: Vec::new(),
    }
}

/// Running statistics of one point.
#[derive(Debug, Clone)]
pub struct PointAccumulator {
    open_loop: bool,
    planned_input: u32,
    ttft: LatencyHistogram,
    tpot: LatencyHistogram,
    itl: LatencyHistogram,
    e2e: LatencyHistogram,
    ttft_from_scheduled: LatencyHistogram,
    e2e_from_scheduled: LatencyHistogram,
    send_lag: LatencyHistogram,
    counts: RequestCounts,
    late_sends: u64,
    input_sum: u64,
    output_sum: u64,
    from_usage: u64,
    from_chunks: u64,
    input_max_error: Option<u32>,
    cached_max: Option<u32>,
    /// Cached prompt tokens, and the prompt tokens of the requests that reported them.
    cached: (u64, u64),
    first_sent: Option<Instant>,
    last_end: Option<Instant>,
    goodput: Option<GoodputCounter>,
    timeline: Option<TimelineBuilder>,
}

impl PointAccumulator {
    /// `planned_input` is the prompt length the point asked for; `timeline`, when given,
    /// receives each request as well.
    pub fn new(
        open_loop: bool,
        planned_input: u32,
        slo: Option<&Slo>,
        timeline: Option<TimelineBuilder>,
    ) -> Self {
        Self {
            open_loop,
            planned_input,
            ttft: Default::default(),
            tpot: Default::default(),
            itl: Default::default(),
            e2e: Default::default(),
            ttft_from_scheduled: Default::default(),
            e2e_from_scheduled: Default::default(),
            send_lag: Default::default(),
            counts: Default::default(),
            late_sends: 0,
            input_sum: 0,
            output_sum: 0,
            from_usage: 0,
            from_chunks: 0,
            input_max_error: None,
            cached_max: None,
            cached: (0, 0),
            first_sent: None,
            last_end: None,
            goodput: slo.cloned().map(GoodputCounter::new),
            timeline,
        }
    }

    /// Folds in one finished request that was scheduled at `scheduled`, whose prompt
    /// should count `planned_input` tokens (when known; else the point's).
    pub fn add(&mut self, scheduled: Instant, planned_input: Option<u32>, ex: &Exchange) {
        self.counts.total += 1;
        self.first_sent = Some(self.first_sent.map_or(ex.sent, |t| t.min(ex.sent)));
        self.last_end = Some(self.last_end.map_or(ex.end, |t| t.max(ex.end)));
        let lag_us = ex.sent.saturating_duration_since(scheduled).as_micros() as u64;
        self.send_lag.record_us(lag_us);
        self.late_sends += u64::from(lag_us as f64 > LATE_SEND_MS * 1000.0);
        let figures = RequestFigures::of(ex);
        if let Some(g) = &mut self.goodput {
            g.add(figures.as_ref());
        }
        let gaps = figures.as_ref().map(|f| f.itl_gaps(ex)).unwrap_or_default();
        self.time(ex, figures.as_ref(), lag_us, &gaps);
        let Some(f) = figures else {
            self.counts.failed += 1;
            let (kind, message) = ex.error.as_ref().map_or(("unknown".to_owned(), ""), |e| {
                (e.kind.to_string(), e.message.as_str())
            });
            self.counts
                .error_samples
                .entry(kind.clone())
                .or_insert_with(|| message.to_owned());
            *self.counts.errors.entry(kind).or_default() += 1;
            return;
        };
        self.counts.ok += 1;
        self.ttft.record_us(f.ttft_us);
        self.e2e.record_us(f.e2e_us);
        if let Some(tpot) = f.tpot_us {
            self.tpot.record_us(tpot.round() as u64);
        }
        for &(gap_us, count) in &gaps {
            self.itl.record_n_us(gap_us, count);
        }
        if self.open_loop {
            self.ttft_from_scheduled.record_us(f.ttft_us + lag_us);
            self.e2e_from_scheduled.record_us(f.e2e_us + lag_us);
        }
        self.output_sum += u64::from(f.output_tokens);
        match f.token_source {
            TokenSource::ServerUsage => self.from_usage += 1,
            TokenSource::Chunks => self.from_chunks += 1,
        }
        let planned = planned_input.unwrap_or(self.planned_input);
        let input = f.input_tokens.unwrap_or(planned);
        self.input_sum += u64::from(input);
        if let (Some(counted), Some(planned)) = (f.input_tokens, planned_input) {
            let error = counted.abs_diff(planned);
            self.input_max_error = Some(self.input_max_error.map_or(error, |e| e.max(error)));
        }
        if let Some(cached) = ex.usage.and_then(|u| u.cached_tokens) {
            self.cached_max = Some(self.cached_max.map_or(cached, |c| c.max(cached)));
            self.cached.0 += u64::from(cached);
            self.cached.1 += u64::from(input);
        }
    }

    /// Adds a request to the timeline, when there is one.
    fn time(
        &mut self,
        ex: &Exchange,
        figures: Option<&RequestFigures>,
        lag_us: u64,
        gaps: &[(u64, u64)],
    ) {
        let Some(timeline) = &mut self.timeline else {
            return;
        };
        let kind = ex.error.as_ref().map(|e| e.kind.to_string());
        timeline.add(&Ended {
            sent: ex.sent,
            end: ex.end,
            send_lag_ms: self.open_loop.then_some(lag_us as f64 / 1000.0),
            output_tokens: figures.map_or(0, |f| u64::from(f.output_tokens)),
            ttft_ms: figures.map(|f| f.ttft_us as f64 / 1000.0),
            itl_gaps: gaps,
            error: figures
                .is_none()
                .then(|| kind.as_deref().unwrap_or("unknown")),
        });
    }

    /// What one stage of a staged point measured: its requests, throughput, latencies and
    /// goodput (`stage` gives its place and levels).
    pub fn finish_stage(self, spec: &PointSpec, stage: StageResult) -> StageResult {
        let p = self.finish(spec, PointFacts::default());
        StageResult {
            requests: p.requests,
            duration_s: p.duration_s,
            throughput: p.throughput,
            latency_ms: p.latency_ms,
            goodput: p.goodput,
            ..stage
        }
    }

    /// The point's figures so far (without its timeline), for rules checked while it runs.
    pub fn snapshot(&mut self, spec: &PointSpec) -> PointResult {
        let timeline = self.timeline.take();
        let copy = self.clone();
        self.timeline = timeline;
        copy.finish(spec, PointFacts::default())
    }

    /// What one group of a point's requests (a class, a turn) measured, named `name`.
    pub fn finish_group(self, spec: &PointSpec, name: String) -> GroupResult {
        let p = self.finish(spec, PointFacts::default());
        GroupResult {
            name,
            requests: p.requests,
            duration_s: p.duration_s,
            throughput: p.throughput,
            tokens: p.tokens,
            latency_ms: p.latency_ms,
            goodput: p.goodput,
        }
    }

    /// The point's result. A point whose every request failed is a failed point, unless
    /// the runner already knows why it failed.
    pub fn finish(self, spec: &PointSpec, mut facts: PointFacts) -> PointResult {
        if facts.failure.is_none() && self.counts.total > 0 && self.counts.ok == 0 {
            facts.failure = Some(every_request_failed(&self.counts));
        }
        let duration_s = match (self.first_sent, self.last_end) {
            (Some(a), Some(b)) => b.saturating_duration_since(a).as_secs_f64(),
            _ => 0.0,
        };
        let per_s = |n: u64| {
            if duration_s > 0.0 {
                n as f64 / duration_s
            } else {
                0.0
            }
        };
        let ok = self.counts.ok;
        let mean = |sum: u64| if ok > 0 { sum as f64 / ok as f64 } else { 0.0 };
        let source = match (self.from_usage, self.from_chunks) {
            (_, 0) => "server_usage",
            (0, _) => "chunks",
            _ => "mixed",
        };
        let open = self.open_loop;
        let mut histograms = BTreeMap::new();
        for (name, h) in [
            ("ttft", &self.ttft),
            ("tpot", &self.tpot),
            ("itl", &self.itl),
            ("e2e", &self.e2e),
        ] {
            histograms.insert(name.to_owned(), h.to_base64());
        }
        PointResult {
            id: spec.id.clone(),
            params: spec.params.clone(),
            partial: facts.partial,
            failure: facts.failure,
            gpu: facts.gpu,
            server_metrics: facts.server_metrics,
            duration_s,
            throughput: Throughput {
                requests_per_s: per_s(ok),
                output_tokens_per_s: per_s(self.output_sum),
                total_tokens_per_s: per_s(self.output_sum + self.input_sum),
            },
            tokens: TokenStats {
                input_mean: mean(self.input_sum),
                output_mean: mean(self.output_sum),
                source: source.to_owned(),
                input_planned: self.planned_input,
                input_max_error: self.input_max_error,
                cached_max: self.cached_max,
                cached_share: (self.cached.1 > 0)
                    .then(|| self.cached.0 as f64 / self.cached.1 as f64),
            },
            latency_ms: Latencies {
                ttft: self.ttft.summary(),
                tpot: self.tpot.summary(),
                itl: self.itl.summary(),
                e2e: self.e2e.summary(),
                ttft_from_scheduled: open.then(|| self.ttft_from_scheduled.summary()),
                e2e_from_scheduled: open.then(|| self.e2e_from_scheduled.summary()),
            },
            schedule: Schedule {
                send_lag_ms: self.send_lag.summary(),
                late_sends: self.late_sends,
            },
            goodput: self.goodput.map(|g| g.finish()),
            timeline: self.timeline.map(|t| t.finish(facts.gauges)),
            stages: Vec::new(),
            classes: Vec::new(),
            turns: Vec::new(),
            stopped: None,
            breakpoint: None,
            window: None,
            histograms,
            requests: self.counts,
            client_cpu: facts.cpu,
            trials: Vec::new(),
        }
    }
}
