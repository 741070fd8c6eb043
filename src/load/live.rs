//! What a run has done so far, for someone watching it (the dashboard's live progress):
//! the point being measured, the points done, and the current point's requests, errors,
//! output throughput and median TTFT. The point's aggregator updates it beside its own
//! fold (off the timing thread); a watcher reads a [`LiveSnapshot`] whenever it likes.

use std::sync::Mutex;
use std::time::Instant;

use serde::Serialize;

use crate::client::Exchange;
use crate::metrics::{LatencyHistogram, RequestFigures};

/// A run's progress, shared between the runner and its watchers.
#[derive(Debug, Default)]
pub struct Live {
    state: Mutex<LiveState>,
}

#[derive(Debug, Default)]
struct LiveState {
    points_total: u32,
    points_done: u32,
    point: Option<String>,
    window_start: Option<Instant>,
    requests: u64,
    errors: u64,
    output_tokens: u64,
    ttft: LatencyHistogram,
}

/// What a watcher sees.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LiveSnapshot {
    pub points_total: u32,
    pub points_done: u32,
    /// The point being measured.
    pub point: Option<String>,
    /// Finished requests of that point's window, errors among them.
    pub requests_done: u64,
    pub errors: u64,
    /// Output tokens per second over that window so far.
    pub output_tokens_per_s: Option<f64>,
    pub ttft_p50_ms: Option<f64>,
}

impl Live {
    fn state(&self) -> std::sync::MutexGuard<'_, LiveState> {
        // A watcher's view only: a panic elsewhere leaves figures still worth showing.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The number of points the run will have.
    pub fn plan(&self, points_total: u32) {
        self.state().points_total = points_total;
    }

    /// The number of points with a result (measured or failed) so far.
    pub fn points_done(&self, points_done: u32) {
        self.state().points_done = points_done;
    }

    /// A point's measured window starts now.
    pub fn start_point(&self, point: &str, window_start: Instant) {
        let mut state = self.state();
        let (total, done) = (state.points_total, state.points_done);
        *state = LiveState {
            points_total: total,
            points_done: done,
            point: Some(point.to_owned()),
            window_start: Some(window_start),
            ..LiveState::default()
        };
    }

    /// One finished request of the current window.
    pub fn add(&self, exchange: &Exchange) {
        let figures = RequestFigures::of(exchange);
        let mut state = self.state();
        state.requests += 1;
        match figures {
            Some(f) => {
                state.output_tokens += u64::from(f.output_tokens);
                state.ttft.record_us(f.ttft_us);
            }
            None => state.errors += 1,
        }
    }

    /// What the run has done so far.
    pub fn snapshot(&self) -> LiveSnapshot {
        let state = self.state();
        let elapsed = state.window_start.map(|s| s.elapsed().as_secs_f64());
        LiveSnapshot {
            points_total: state.points_total,
            points_done: state.points_done,
            point: state.point.clone(),
            requests_done: state.requests,
            errors: state.errors,
            output_tokens_per_s: elapsed
                .filter(|&s| s > 0.0 && state.requests > 0)
                .map(|s| state.output_tokens as f64 / s),
            ttft_p50_ms: Some(state.ttft.summary())
                .filter(|s| s.count > 0)
                .map(|s| s.p50),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn counts_the_current_window_and_the_points_done() {
        let live = Live::default();
        live.plan(2);
        let start = Instant::now();
        live.start_point("c1", start);
        let mut ok = Exchange::new(start);
        ok.first_token = Some(start + Duration::from_millis(40));
        ok.end = start + Duration::from_millis(100);
        ok.content_offsets_us = vec![40_000, 70_000, 100_000];
        live.add(&ok);
        live.add(&Exchange::failed(
            start,
            start,
            crate::client::RequestError::new(crate::client::ErrorKind::Timeout, "timed out"),
        ));
        let seen = live.snapshot();
        assert_eq!(seen.point.as_deref(), Some("c1"));
        assert_eq!((seen.requests_done, seen.errors), (2, 1));
        assert!((seen.ttft_p50_ms.unwrap() - 40.0).abs() < 0.5);
        assert!(seen.output_tokens_per_s.unwrap() > 0.0);
        live.points_done(1);
        live.start_point("c2", Instant::now());
        let seen = live.snapshot();
        assert_eq!((seen.points_done, seen.points_total), (1, 2));
        assert_eq!((seen.requests_done, seen.ttft_p50_ms), (0, None));
    }
}
