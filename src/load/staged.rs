//! Closed loop in stages (k6's `ramping-vus`): as many senders as the highest stage needs,
//! sender `i` sending only while the level of the moment is above `i` (a sender past the
//! level finishes its request, then waits), until the stages end.

use std::time::{Duration, Instant};

use futures_util::future::join_all;
use tokio::sync::mpsc::UnboundedSender;

use super::{Driver, RequestRecord};
use crate::scenario::Stages;

/// How often a waiting sender looks at the level again.
const RECHECK: Duration = Duration::from_millis(20);

/// Runs the staged closed loop; records go to `out` as requests finish.
pub async fn run(driver: &Driver<'_>, stages: &Stages, out: &UnboundedSender<RequestRecord>) {
    let started = Instant::now();
    let total = stages.total();
    let sender = |i: u32| async move {
        loop {
            let at = started.elapsed();
            if driver.cancel.is_cancelled() || at >= total {
                break;
            }
            if f64::from(i) >= stages.level_at(at).round() {
                tokio::select! {
                    _ = tokio::time::sleep(RECHECK) => continue,
                    _ = driver.cancel.cancelled() => break,
                }
            }
            if !driver.send_now(out).await {
                break;
            }
        }
    };
    let senders = stages.peak().round() as u32;
    join_all((0..senders).map(sender)).await;
}
