//! Closed loop: `concurrency` senders, each starting its next request as soon as the
//! previous one finishes, until the request budget or the duration is used up. The
//! scheduled time of a request is when its sender became free, so the send lag is the
//! client's own queue time.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Instant;

use futures_util::future::join_all;
use tokio::sync::mpsc::UnboundedSender;

use super::{Driver, RequestRecord};
use crate::scenario::StopAfter;

/// Runs the closed loop; records go to `out` as requests finish.
pub async fn run(
    driver: &Driver<'_>,
    concurrency: u32,
    stop: StopAfter,
    out: &UnboundedSender<RequestRecord>,
) {
    let started = Instant::now();
    let issued = AtomicU32::new(0);
    let may_start = || match stop {
        StopAfter::Requests(n) => issued.fetch_add(1, Ordering::Relaxed) < n,
        StopAfter::Duration(d) => started.elapsed() < d,
    };
    let sender = || async {
        while !driver.cancel.is_cancelled() && may_start() {
            if !driver.send_now(out).await {
                break;
            }
        }
    };
    // No more senders than requests to send: a sender costs memory before it sends.
    let senders = match stop {
        StopAfter::Requests(n) => concurrency.min(n),
        StopAfter::Duration(_) => concurrency,
    };
    join_all((0..senders).map(|_| sender())).await;
}
