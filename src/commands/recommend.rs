//! `llm-loadtest recommend [SCENARIO] --slo ... --peak-concurrency N`: the load one replica
//! sustains within the SLO, found with few probes, and the replicas and GPUs the peak
//! needs; printed, and written as JSON (`--output`) and Markdown or HTML (`--report`).
//! Exit 0 with an answer, 1 when no configuration met the target at its first load.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use tokio::runtime::Runtime;
use tokio_util::sync::CancellationToken;

use llm_loadtest::atomic;
use llm_loadtest::recommend::{recommend, Question, Recommendation, Sizing, Unit};
use llm_loadtest::report::recommendation::{render_report, summary};
use llm_loadtest::scenario::{self, AdhocRun, Scenario, ScenarioError};

use super::run::stop_on_ctrl_c;
use super::{say, Outcome};
use crate::cli::RecommendArgs;

pub fn execute(args: &RecommendArgs, runtime: &Runtime) -> anyhow::Result<Outcome> {
    let (scenario, origin) = scenario_of(args)?;
    let slo = args.slo.clone().or_else(|| scenario.slo.clone()).context(
        "--slo: missing: give the SLO a good request meets (ttft:MS,tpot:MS,e2e:MS), or set slo in the scenario",
    )?;
    let (unit, peak, start) = match (args.peak_concurrency, args.peak_rate) {
        (Some(c), _) => (Unit::Concurrency, f64::from(c), 1.0),
        // Six doublings below the peak, where a replica of a fleet usually sits.
        (None, Some(r)) => (Unit::Rate, r, (r / 64.0).max(0.1)),
        (None, None) => unreachable!("clap requires one of the peaks"),
    };
    let question = Question {
        scenario: &scenario,
        origin: &origin,
        api_key: args.target.api_key.clone(),
        sizing: Sizing {
            unit,
            peak,
            headroom_pct: args.headroom,
            goodput_target_pct: args.goodput_target,
            slo,
        },
        gpus_per_replica: args.gpus_per_replica,
        requests_per_probe: args.requests_per_probe,
        start,
        max_load: args.max_load,
        budget: Duration::from_secs_f64(args.budget_s),
    };
    let cancel = CancellationToken::new();
    let answer = runtime.block_on(async {
        tokio::spawn(stop_on_ctrl_c(cancel.clone()));
        recommend(&question, &cancel).await
    })?;
    say!("{}", summary(&answer));
    write(args, &answer)?;
    Ok(if answer.best.is_some() {
        Outcome::Success
    } else {
        Outcome::Failed
    })
}

/// Writes the JSON answer and the report for people, where asked.
fn write(args: &RecommendArgs, answer: &Recommendation) -> anyhow::Result<()> {
    if let Some(path) = &args.output {
        atomic::write_json(path, answer)?;
        say!("answer: {}\n", path.display());
    }
    if let Some(path) = &args.report {
        let html = path.extension().is_some_and(|e| e == "html");
        let text = render_report(answer, html)?;
        atomic::write(path, text.as_bytes())?;
        say!("report: {}\n", path.display());
    }
    Ok(())
}

/// The scenario to answer for: the file with the flags' overrides, or the flags alone.
fn scenario_of(args: &RecommendArgs) -> Result<(Scenario, PathBuf), ScenarioError> {
    let Some(path) = &args.scenario else {
        let origin = PathBuf::from("command line");
        let adhoc = AdhocRun {
            base_url: args.target.server.clone().unwrap_or_default(),
            model: args.target.model.clone(),
            input_tokens: args.input_len,
            output_tokens: args.output_len,
            stream: true,
            ignore_eos: true,
            warmup: 2,
            trials: 1,
            timeout_s: 120.0,
            ..AdhocRun::default()
        };
        let s = adhoc.scenario();
        scenario::validate(&s).map_err(|e| ScenarioError::Invalid {
            path: origin.clone(),
            field: e.field.replace("target.base_url", "--server"),
            message: e.message,
        })?;
        return Ok((s, origin));
    };
    let mut s = scenario::load_file(path)?;
    args.target.apply(&mut s);
    Ok((s, path.clone()))
}
