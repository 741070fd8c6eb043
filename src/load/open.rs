//! Open loop: requests start on a schedule whatever the server's state, each recording its
//! scheduled and actual send time, so a client or server that falls behind shows as late
//! sends instead of silently lowering the load. The schedule is a sequence of send times
//! (offsets from the start): gaps drawn at a fixed rate, at a rate that follows stages, or
//! a trace's recorded arrivals.

use std::task::Poll;
use std::time::{Duration, Instant};

use futures_util::stream::{FuturesUnordered, StreamExt};
use tokio::sync::mpsc::UnboundedSender;

use super::{Arrivals, Driver, RequestRecord};
use crate::scenario::{Stages, StopAfter};

/// Below this rate a stage sends nothing; the schedule looks again this much later.
const IDLE_RATE: f64 = 1e-3;
const IDLE_STEP: Duration = Duration::from_millis(50);

/// The send times of a fixed rate: `arrivals`' gaps until `stop`.
pub fn fixed(mut arrivals: Arrivals, stop: StopAfter) -> impl FnMut() -> Option<Duration> {
    let (mut due, mut issued) = (Duration::ZERO, 0u32);
    move || {
        let more = match stop {
            StopAfter::Requests(n) => issued < n,
            StopAfter::Duration(d) => due < d,
        };
        let this = more.then_some(due)?;
        issued += 1;
        due += arrivals.next_gap();
        Some(this)
    }
}

/// The send times of a rate that follows `stages`: gaps drawn at rate 1 (`unit`), each
/// divided by the rate of the moment, until the stages end.
pub fn staged(stages: &Stages, mut unit: Arrivals) -> impl FnMut() -> Option<Duration> + '_ {
    let total = stages.total();
    let mut due = Duration::ZERO;
    move || loop {
        if due >= total {
            return None;
        }
        let rate = stages.level_at(due);
        if rate < IDLE_RATE {
            due += IDLE_STEP;
            continue;
        }
        let this = due;
        due += unit.next_gap().div_f64(rate);
        return Some(this);
    }
}

/// The send times of a trace: its arrivals from the first, divided by `time_scale`, until
/// `stop`.
pub fn trace(
    arrivals: Vec<Duration>,
    time_scale: f64,
    stop: StopAfter,
) -> impl FnMut() -> Option<Duration> {
    let mut arrivals = arrivals.into_iter();
    move || {
        let due = arrivals.next()?.div_f64(time_scale);
        match stop {
            StopAfter::Duration(d) if due >= d => None,
            _ => Some(due),
        }
    }
}

/// Runs the open loop on `schedule` (of this shard, the arrivals whose place in it the
/// shard owns); records go to `out` as requests finish.
pub async fn run(
    driver: &Driver<'_>,
    mut schedule: impl FnMut() -> Option<Duration>,
    out: &UnboundedSender<RequestRecord>,
) {
    let started = Instant::now();
    let mut in_flight = FuturesUnordered::new();
    let mut seq = 0;
    'schedule: while let Some(offset) = schedule() {
        if driver.cancel.is_cancelled() {
            break;
        }
        let place = seq;
        seq += 1;
        if !driver.shard.owns(place) {
            continue;
        }
        let due = started + offset;
        let request = driver.prepare(Some(place));
        let wake = tokio::time::sleep_until(due.into());
        tokio::pin!(wake);
        loop {
            tokio::select! {
                _ = &mut wake => break,
                _ = driver.cancel.cancelled() => break 'schedule,
                Some(_) = in_flight.next(), if !in_flight.is_empty() => {}
            }
        }
        in_flight.push(driver.run_job(request, due, out));
        // Poll the new request once now, so that it is sent before the next prompt is built.
        let _ = std::future::poll_fn(|cx| Poll::Ready(in_flight.poll_next_unpin(cx))).await;
    }
    while in_flight.next().await.is_some() {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{Arrival, Unit};

    #[test]
    fn a_staged_rate_sends_as_often_as_its_level() {
        let s = Duration::from_secs;
        let stages = Stages {
            name: "custom".into(),
            unit: Unit::Rate,
            steps: vec![
                (s(0), 10.0),
                (s(2), 10.0),
                (s(0), 0.0),
                (s(1), 0.0),
                (s(0), 20.0),
                (s(1), 20.0),
            ],
        };
        let mut schedule = staged(&stages, Arrivals::new(1.0, Arrival::Constant, 1.0, 0));
        let sends: Vec<Duration> = std::iter::from_fn(&mut schedule).collect();
        let in_range = |a: u64, b: u64| sends.iter().filter(|d| (s(a)..s(b)).contains(d)).count();
        assert_eq!(
            (in_range(0, 2), in_range(2, 3), in_range(3, 4)),
            (20, 0, 20)
        );
    }
}
