//! One launch of a run: the configurations that share a server, in order. Opens the
//! session, prepares, measures each point, closes the session. A server that cannot start,
//! cannot be used or dies fails the points it cannot serve, and the run goes on; Ctrl-C
//! stops at the next boundary, keeping what was measured.

use tokio_util::sync::CancellationToken;

use super::point::{self, PointContext};
use super::prepare::{prepare, Prepared};
use super::record::RunRecord;
use super::session::Session;
use super::{RunError, Shared};
use crate::result::Failure;
use crate::scenario::{Plan, PointSpec, ServerSource};

/// The points of a launch, each with its position in the plan (which seeds its arrivals).
type Specs<'a> = [(usize, &'a PointSpec)];

/// Runs the points of the configurations in `launch` (indices into the plan's), the first
/// of them the run's `first_window`-th measurement.
pub(super) async fn run(
    plan: &Plan,
    launch: &[usize],
    shared: &Shared,
    record: &mut RunRecord,
    cancel: &CancellationToken,
    first_window: u32,
) -> Result<(), RunError> {
    let specs: Vec<(usize, &PointSpec)> = plan
        .points
        .iter()
        .enumerate()
        .filter(|(_, p)| launch.contains(&p.configuration))
        .collect();
    let values = plan.server_values(launch[0]);
    let opened = tokio::select! {
        opened = Session::open(plan, &shared.server_logs, &shared.http, &values) => opened,
        _ = cancel.cancelled() => return Ok(()),
    };
    let session = match opened {
        Ok(session) => session,
        Err(error) => {
            record.add_server(error.server);
            fail(record, &specs, &error.failure);
            record.checkpoint();
            return Ok(());
        }
    };
    let prepared = prepare_session(plan, shared, session, record, &specs, cancel).await?;
    let Some((mut session, prepared)) = prepared else {
        return Ok(());
    };
    let base_url = session.base_url.clone();
    let context = PointContext::new(plan, shared, &base_url, prepared)?;
    let died = measure_points(&context, &mut session, &specs, record, cancel, first_window).await;
    record.add_server(session.close(died).await);
    record.checkpoint();
    Ok(())
}

/// Prints why a configuration failed and records its points as not measured.
fn fail(record: &mut RunRecord, specs: &Specs<'_>, failure: &Failure) {
    eprintln!("configuration failed: {failure}");
    record.fail_points(specs.iter().map(|(_, spec)| *spec), failure);
}

/// Prepares the session's server and records what was learnt.
/// `None`, the session closed, when Ctrl-C came first or a launched server cannot be used
/// (which fails the launch's points); an error when a server not launched here cannot be.
async fn prepare_session(
    plan: &Plan,
    shared: &Shared,
    mut session: Session,
    record: &mut RunRecord,
    specs: &Specs<'_>,
    cancel: &CancellationToken,
) -> Result<Option<(Session, Prepared)>, RunError> {
    let (http, streams, adapter) = (&shared.http, &shared.streams, shared.adapter.as_ref());
    let prepared = tokio::select! {
        prepared = prepare(plan, http, streams, &session.base_url, adapter) => prepared,
        _ = cancel.cancelled() => {
            record.add_server(session.close(None).await);
            return Ok(None);
        }
    };
    match prepared {
        Ok(prepared) => {
            if let Some(server) = &mut session.record {
                server.version = prepared.server.version.clone();
            }
            record.learn(&prepared, session.command());
            Ok(Some((session, prepared)))
        }
        Err(e) if matches!(plan.server, ServerSource::Launched(_)) => {
            let failure = Failure {
                reason: format!("cannot use the launched server: {e}"),
                log_tail: Vec::new(),
            };
            fail(record, specs, &failure);
            record.add_server(session.close(Some(failure)).await);
            record.checkpoint();
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// Measures the points in order, as many times as the plan has trials: every point once,
/// then every point again (so that slow drift spreads over them). After a server died, the
/// rest fail with its reason. Returns that failure, if any. The first measurement is the
/// run's `first_window`-th (its place after a barrier), whether or not the ones before
/// were measured.
async fn measure_points(
    context: &PointContext<'_>,
    session: &mut Session,
    specs: &Specs<'_>,
    record: &mut RunRecord,
    cancel: &CancellationToken,
    first_window: u32,
) -> Option<Failure> {
    let mut died: Option<Failure> = None;
    let per_trial = specs.len() as u32;
    for trial in 0..context.trials() {
        for (i, &(position, spec)) in specs.iter().enumerate() {
            if cancel.is_cancelled() {
                return died;
            }
            if let Some(failure) = died.as_ref().or(context.unfit(spec).as_ref()) {
                record.fail_points([spec], failure);
                continue;
            }
            let at = point::At {
                position,
                trial,
                window: first_window + trial * per_trial + i as u32,
            };
            let result = point::measure(context, session, at, spec, &mut record.log, cancel);
            let point = result.await;
            if point.requests.total == 0 && cancel.is_cancelled() {
                return died; // interrupted during warmup: nothing of this trial was measured
            }
            if let Some(failure) = &point.failure {
                died = Some(failure.clone());
            }
            record.push_point(point);
            if record.aborted() {
                return died;
            }
        }
    }
    died
}
