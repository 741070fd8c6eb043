//! Open loop: requests start on a schedule (constant, Poisson or gamma gaps) whatever the
//! server's state, each recording its scheduled and actual send time, so a client or
//! server that falls behind shows as late sends instead of silently lowering the load.

use std::task::Poll;
use std::time::Instant;

use futures_util::stream::{FuturesUnordered, StreamExt};
use tokio::sync::mpsc::UnboundedSender;

use super::{Arrivals, Driver, RequestRecord};
use crate::scenario::StopAfter;

/// Runs the open loop; records go to `out` as requests finish.
pub async fn run(
    driver: &Driver<'_>,
    content_tokens: u32,
    mut arrivals: Arrivals,
    stop: StopAfter,
    out: &UnboundedSender<RequestRecord>,
) {
    let started = Instant::now();
    let mut due = started;
    let mut issued = 0u32;
    let mut in_flight = FuturesUnordered::new();
    'schedule: loop {
        let more = match stop {
            StopAfter::Requests(n) => issued < n,
            StopAfter::Duration(d) => due < started + d,
        };
        if !more || driver.cancel.is_cancelled() {
            break;
        }
        let request = driver.prepare(content_tokens);
        let wake = tokio::time::sleep_until(due.into());
        tokio::pin!(wake);
        loop {
            tokio::select! {
                _ = &mut wake => break,
                _ = driver.cancel.cancelled() => break 'schedule,
                Some(record) = in_flight.next(), if !in_flight.is_empty() => {
                    if let Some(record) = record {
                        let _ = out.send(record);
                    }
                }
            }
        }
        in_flight.push(driver.execute(request, due));
        // Poll the new request once now, so that it is sent before the next prompt is built.
        if let Poll::Ready(Some(Some(record))) =
            std::future::poll_fn(|cx| Poll::Ready(in_flight.poll_next_unpin(cx))).await
        {
            let _ = out.send(record);
        }
        issued += 1;
        due += arrivals.next_gap();
    }
    while let Some(record) = in_flight.next().await {
        if let Some(record) = record {
            let _ = out.send(record);
        }
    }
}
