//! One point: warmup (discarded), then the measured window under the point's load shape,
//! with the single aggregator folding records as they arrive.

use std::time::Instant;

use tokio::sync::{mpsc, Notify};

use super::{closed, open, progress, Arrivals, Driver, RequestLog};
use crate::metrics::{PointAccumulator, PointTiming};
use crate::monitor::CpuTime;
use crate::result::PointResult;
use crate::scenario::{LoadShape, PointSpec, Slo, StopAfter};
use crate::secret::Secret;

/// Most warmup requests in flight at once for an open-loop point.
const OPEN_LOOP_WARMUP_CONCURRENCY: u32 = 4;

/// How a point is run, beyond its spec.
pub struct PointSettings<'a> {
    /// Prompt tokens to generate (input length minus the server's template overhead).
    pub content_tokens: u32,
    pub warmup: u32,
    pub stop: StopAfter,
    pub slo: Option<&'a Slo>,
    pub arrival_seed: u64,
    /// Scrubbed from error messages before they are stored.
    pub api_key: Option<&'a Secret>,
    /// Notified when warmup is over and the measured window starts.
    pub measuring: &'a Notify,
}

/// Runs warmup and the measured window of `spec`.
pub async fn run_point(
    driver: &Driver<'_>,
    spec: &PointSpec,
    settings: &PointSettings<'_>,
    log: &mut RequestLog,
) -> PointResult {
    if settings.warmup > 0 {
        let concurrency = match spec.shape {
            LoadShape::Closed { concurrency } => concurrency,
            LoadShape::Open { .. } => OPEN_LOOP_WARMUP_CONCURRENCY,
        }
        .min(settings.warmup);
        // Warmup records are dropped unread: the receiver goes at once.
        let (tx, _) = mpsc::unbounded_channel();
        let warmup = StopAfter::Requests(settings.warmup);
        closed::run(driver, settings.content_tokens, concurrency, warmup, &tx).await;
    }

    settings.measuring.notify_one();
    let open_loop = matches!(spec.shape, LoadShape::Open { .. });
    let mut acc = PointAccumulator::new(open_loop, spec.input_tokens, settings.slo);
    let bar = progress::point_bar(&spec.id, settings.stop);
    let (tx, mut rx) = mpsc::unbounded_channel();
    let cpu_before = CpuTime::now();
    let window_start = Instant::now();
    let load = async move {
        match spec.shape {
            LoadShape::Closed { concurrency } => {
                closed::run(
                    driver,
                    settings.content_tokens,
                    concurrency,
                    settings.stop,
                    &tx,
                )
                .await
            }
            LoadShape::Open {
                rate,
                arrival,
                burstiness,
            } => {
                let arrivals = Arrivals::new(rate, arrival, burstiness, settings.arrival_seed);
                open::run(
                    driver,
                    settings.content_tokens,
                    arrivals,
                    settings.stop,
                    &tx,
                )
                .await
            }
        }
    };
    let aggregate = async {
        while let Some(mut record) = rx.recv().await {
            if let (Some(key), Some(error)) = (settings.api_key, &mut record.exchange.error) {
                error.message = key.scrub(&error.message);
            }
            acc.add(record.scheduled, &record.exchange);
            if let Err(e) = log.write(&spec.id, window_start, &record) {
                tracing::warn!("cannot write the request log: {e}");
            }
            bar.inc(1);
        }
    };
    tokio::join!(load, aggregate);
    let cpu = CpuTime::now() - cpu_before;
    bar.finish_and_clear();
    if let Err(e) = log.flush() {
        tracing::warn!("cannot write the request log: {e}");
    }
    let timing = PointTiming {
        cpu,
        partial: driver.cancel.is_cancelled(),
    };
    acc.finish(spec, timing)
}
