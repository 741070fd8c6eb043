//! `llm-loadtest run [SCENARIO] [flags]`: measures a scenario file or the ad-hoc flags,
//! prints the summary, the scenario's SLO checks and the points that could not be measured,
//! and writes the result. Ctrl-C (or SIGTERM, SIGHUP) keeps what was measured. Measuring
//! with that handling is shared with `compare`, which runs scenarios too.

use std::path::PathBuf;
use std::time::Duration;

use tokio::runtime::Runtime;
use tokio_util::sync::CancellationToken;

use llm_loadtest::atomic;
use llm_loadtest::compare::slo;
use llm_loadtest::report::terminal::summary_table;
use llm_loadtest::result::RunResult;
use llm_loadtest::run::{run_plan, RunError, RunOptions};
use llm_loadtest::scenario::{self, AdhocRun, Barrier, Plan, Scenario, ScenarioError, StopAfter};
use llm_loadtest::server::kill_all;

use super::{check_distinct, say, sayln, Outcome, EXIT_INTERRUPTED};
use crate::cli::{RunArgs, ShardArgs};

pub fn execute(args: &RunArgs, runtime: &Runtime) -> anyhow::Result<Outcome> {
    let inputs: Vec<(&str, &std::path::Path)> = args
        .scenario
        .iter()
        .map(|p| ("the scenario", p.as_path()))
        .collect();
    let outputs: Vec<(&str, &std::path::Path)> = [
        ("--output", args.output.as_deref()),
        ("--requests-out", args.requests_out.as_deref()),
    ]
    .into_iter()
    .filter_map(|(flag, path)| Some((flag, path?)))
    .collect();
    check_distinct(&inputs, &outputs)?;
    let (scenario, origin) = scenario_of(args)?;
    let mut plan = Plan::new(scenario, args.target.api_key.clone(), &origin)?;
    shard(&mut plan, &args.sharding)?;
    let options = RunOptions {
        output: args.output.clone(),
        requests_out: args.requests_out.clone(),
        live: None,
    };
    match measure(&plan, &options, runtime)? {
        Some(result) if !result.partial => {
            let slo = report_slo_checks(&result);
            Ok(if report_failed_points(&result) {
                Outcome::Failed
            } else {
                slo
            })
        }
        _ => Ok(Outcome::Interrupted),
    }
}

/// Makes `plan` the share of the shard the flags name, its windows at their barriers.
fn shard(plan: &mut Plan, flags: &ShardArgs) -> Result<(), ScenarioError> {
    let invalid = |field: &str, message: String| ScenarioError::Invalid {
        path: PathBuf::from("command line"),
        field: field.to_owned(),
        message,
    };
    let barrier = match flags.start_at {
        Some(start) => Some(Barrier {
            start,
            interval: barrier_interval(plan, flags.point_interval)
                .map_err(|message| invalid("--start-at", message))?,
        }),
        None => None,
    };
    let shard = flags.shard.unwrap_or_default();
    plan.shard(shard, barrier)
        .map_err(|e| invalid(e.flag, e.message))
}

/// From one measured window's start to the next one's: `--point-interval`, else the
/// points' duration and room for the next one's warmup.
fn barrier_interval(plan: &Plan, seconds: Option<f64>) -> Result<Duration, String> {
    let windows = plan.points.len() as u32 * plan.trials;
    match (seconds, plan.stop) {
        (Some(seconds), _) => Ok(Duration::from_secs_f64(seconds)),
        (None, StopAfter::Duration(d)) => d
            .checked_add(BARRIER_SLACK)
            .ok_or_else(|| "give --point-interval SECONDS (when each next window starts)".into()),
        (None, StopAfter::Requests(_)) if windows > 1 => Err(
            "with several points measured by request count, give --point-interval SECONDS (when each next window starts)".into(),
        ),
        (None, StopAfter::Requests(_)) => Ok(Duration::ZERO),
    }
}

/// Between one barrier's window and the next: room for the next point's warmup.
const BARRIER_SLACK: Duration = Duration::from_secs(10);

/// What the ad-hoc flags of `run` mean (they map onto the library's [`AdhocRun`]).
impl RunArgs {
    /// The scenario the flags describe (no scenario file given).
    pub fn to_scenario(&self) -> Scenario {
        let a = &self.adhoc;
        let run = AdhocRun {
            base_url: self.target.server.clone().unwrap_or_default(),
            model: self.target.model.clone(),
            preset: a.preset.map(Into::into),
            concurrency: a.concurrency.clone(),
            request_rate: a.request_rate.clone(),
            arrival: a.arrival.map(Into::into),
            burstiness: a.burstiness,
            requests: a.num_prompts,
            duration_s: a.duration,
            input_tokens: a.input_len,
            output_tokens: a.output_len,
            stream: !a.no_stream,
            ignore_eos: !a.allow_eos,
            warmup: a.warmup,
            trials: self.trials.unwrap_or(1),
            timeout_s: a.timeout,
            api: a.adapter.into(),
            slo: a.goodput.clone(),
            tokenizer: a.tokenizer.into(),
            seed: a.seed,
        };
        run.scenario()
    }
}

/// The scenario of a `run`, from its file or its flags, with target overrides applied.
fn scenario_of(args: &RunArgs) -> Result<(Scenario, PathBuf), ScenarioError> {
    let Some(path) = &args.scenario else {
        let origin = PathBuf::from("command line");
        let s = args.to_scenario();
        scenario::validate(&s).map_err(|e| ScenarioError::Invalid {
            path: origin.clone(),
            // The only scenario field a flag can make invalid past clap's own checks.
            field: if e.field == "target.base_url" {
                "--server".into()
            } else {
                e.field
            },
            message: e.message,
        })?;
        return Ok((s, origin));
    };
    let mut scenario = scenario::load_file(path)?;
    args.target.apply(&mut scenario);
    if let Some(trials) = args.trials {
        scenario.load.trials = trials;
    }
    Ok((scenario, path.clone()))
}

/// Runs a plan with Ctrl-C handling, prints its summary and writes its result. `None` when
/// interrupted before the first point; a result interrupted later is marked partial.
pub(super) fn measure(
    plan: &Plan,
    options: &RunOptions,
    runtime: &Runtime,
) -> anyhow::Result<Option<RunResult>> {
    let result = runtime.block_on(async {
        let cancel = CancellationToken::new();
        let handler = tokio::spawn(stop_on_ctrl_c(cancel.clone()));
        let result = run_plan(plan, options, &cancel).await;
        // The next plan (compare runs several) gets a handler of its own.
        handler.abort();
        result
    });
    let result = match result {
        Err(RunError::Interrupted) => {
            eprintln!("interrupted before the first point: nothing was measured");
            return Ok(None);
        }
        other => other?,
    };
    say!("{}", summary_table(&result));
    if let Some(path) = &options.output {
        atomic::write_json(path, &result)?;
        sayln!("result: {}", path.display());
    }
    if result.partial {
        eprintln!("interrupted: the result holds the points measured so far, marked partial");
    }
    Ok(Some(result))
}

/// Prints the scenario's SLO thresholds checked on every point; fails on a breach. A
/// shard's share is not judged: the merged result is.
fn report_slo_checks(result: &RunResult) -> Outcome {
    if let Some(shard) = &result.shard {
        if shard.count > 1 {
            sayln!("shard {}/{}: thresholds and SLOs are judged on the merged result (llm-loadtest merge)", shard.index, shard.count);
            return Outcome::Success;
        }
    }
    let checks = slo::check(result);
    for check in &checks {
        let value = check
            .value
            .map_or("no value".to_owned(), |v| format!("{v:.3}"));
        let mark = if check.holds { "✓" } else { "✗" };
        sayln!("{mark} {} at {}: {value}", check.threshold, check.point);
    }
    if checks.iter().any(|c| !c.holds) {
        sayln!("FAIL: SLO thresholds breached");
        return Outcome::Failed;
    }
    Outcome::Success
}

/// Prints the points that could not be measured; whether there were any.
fn report_failed_points(result: &RunResult) -> bool {
    let failed: Vec<_> = result
        .points
        .iter()
        .filter_map(|p| Some((&p.id, p.failure.as_ref()?)))
        .collect();
    for (id, failure) in &failed {
        sayln!("✗ {id}: {failure}");
    }
    if !failed.is_empty() {
        let logs: Vec<&str> = result
            .servers
            .iter()
            .map(|s| s.log.as_str())
            .filter(|log| !log.is_empty())
            .collect();
        let logs = match logs.is_empty() {
            true => String::new(),
            false => format!(" (server logs: {})", logs.join(", ")),
        };
        let verb = if failed.len() == 1 { "was" } else { "were" };
        sayln!(
            "FAIL: {} of {} points {verb} not measured{logs}",
            failed.len(),
            result.points.len()
        );
    }
    !failed.is_empty()
}

/// First Ctrl-C (or SIGTERM, SIGHUP: a cancelled CI job, a closed terminal): stop starting
/// requests and finish with a partial result, stopping launched servers. Second: kill the
/// servers and quit.
pub(super) async fn stop_on_ctrl_c(cancel: CancellationToken) {
    stop_then_quit(cancel, "\ninterrupted: writing the partial result").await;
}

/// First signal: say `stopping` and fire `cancel`. Second: kill launched servers and quit
/// at once.
pub(super) async fn stop_then_quit(cancel: CancellationToken, stopping: &str) {
    if stop_signal().await {
        eprintln!("{stopping} (Ctrl-C again to quit at once)");
        cancel.cancel();
        if stop_signal().await {
            kill_all();
            std::process::exit(i32::from(EXIT_INTERRUPTED));
        }
    }
}

/// Waits for Ctrl-C, SIGTERM or SIGHUP; `false` when they cannot be watched.
pub(super) async fn stop_signal() -> bool {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut hup)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::hangup()),
    ) else {
        return false;
    };
    tokio::select! {
        r = tokio::signal::ctrl_c() => r.is_ok(),
        r = term.recv() => r.is_some(),
        r = hup.recv() => r.is_some(),
    }
}
