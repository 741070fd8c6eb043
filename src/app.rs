//! Command execution behind `main`: turns parsed arguments into library calls and prints
//! what a person needs. Exit codes: 0 pass, 1 regression, SLO breach or points not
//! measured (their server failed), 2 usage, input or harness error, 130 interrupted.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use tokio_util::sync::CancellationToken;

use crate::cli::{
    BaselineCommand, Cli, Command, CompareArgs, ReportArgs, ReportFormat, RunArgs, SimArgs,
};
use crate::compare::slo;
use crate::compare::verdict::{fails, FailOn};
use crate::compare::{self, baseline};
use crate::monitor::{gpu_environment, Gpus, Host};
use crate::report::{
    annotations, build_report, compare_table, csv, gpu_table, junit_xml, summary_table, Subject,
    Templates,
};
use crate::result::{write_atomic, write_json_atomic, RunResult, SCHEMA_VERSION};
use crate::run::{run_plan, write_error, RunError, RunOptions};
use crate::scenario::{self, Plan, Scenario, ScenarioError};
use crate::secret::redacted;
use crate::server::reachable;
use crate::sim::{self, Faults, RunningSim};

/// Usage, input or harness error.
pub const EXIT_USAGE: u8 = 2;
/// Interrupted by Ctrl-C; a partial result was written.
pub const EXIT_INTERRUPTED: u8 = 130;

/// How a command ended, when it did not fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Success,
    /// A regression (or whatever `--fail-on` names) or an SLO breach was found.
    Failed,
    /// Some inputs were invalid (`validate`).
    Invalid,
    Interrupted,
}

impl Outcome {
    pub fn exit_code(self) -> u8 {
        match self {
            Outcome::Success => 0,
            Outcome::Failed => 1,
            Outcome::Invalid => EXIT_USAGE,
            Outcome::Interrupted => EXIT_INTERRUPTED,
        }
    }
}

/// Logs to stderr; `LLM_LOADTEST_LOG` sets the filter (default `warn`).
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("LLM_LOADTEST_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
}

/// Runs a parsed command.
pub fn execute(cli: Cli) -> anyhow::Result<Outcome> {
    match cli.command {
        Command::Schema => {
            println!(
                "{}",
                serde_json::to_string_pretty(&scenario::json_schema())?
            );
            Ok(Outcome::Success)
        }
        Command::Validate { files } => Ok(validate_files(&files)),
        Command::Baseline(BaselineCommand::Update { results, baselines }) => {
            let results = if results.is_empty() {
                baseline::latest_results()?
            } else {
                results
            };
            for written in baseline::update(&results, &baselines)? {
                println!("{}: updated", written.display());
            }
            Ok(Outcome::Success)
        }
        Command::Run(args) => run(&args),
        Command::Compare(args) => compare_results(&args),
        Command::Report(args) => report(&args),
        Command::Info => {
            print!("{}", info_text());
            Ok(Outcome::Success)
        }
        Command::Gpu { watch } => gpu(watch),
        Command::Sim(args) => serve_sim(&args),
    }
}

fn compare_results(args: &CompareArgs) -> anyhow::Result<Outcome> {
    // Templates first: a broken one should fail before a long run, not after.
    let templates = Templates::load(args.templates.as_deref())?;
    let results = if args.results.is_empty() {
        match run_reachable_scenarios()? {
            Some(results) if results.is_empty() => {
                anyhow::bail!(
                    "no scenario in scenarios/ has a target that answers; nothing to compare"
                )
            }
            Some(results) => results,
            None => return Ok(Outcome::Interrupted),
        }
    } else {
        args.results.clone()
    };
    let mut compared = Vec::new();
    for path in &results {
        let current = baseline::read_result(path)?;
        let baseline_path = baseline::baseline_file(&args.baselines, &current.scenario.name);
        if !baseline_path.exists() {
            anyhow::bail!(
                "{}: no baseline for scenario `{}`; create it with `llm-loadtest baseline update {}`",
                baseline_path.display(),
                current.scenario.name,
                path.display()
            );
        }
        let baseline = baseline::read_result(&baseline_path)?;
        let comparison = compare::compare(&baseline, &current, args.seed);
        print!("{}", compare_table(&comparison));
        compared.push((current, baseline, comparison));
    }
    let comparisons: Vec<_> = compared.iter().map(|(_, _, c)| c.clone()).collect();
    let (fail_on, strict) = (args.fail_on, args.strict);
    if let Some(path) = &args.junit {
        write_atomic(path, junit_xml(&comparisons, fail_on, strict).as_bytes())
            .map_err(write_error(path))?;
    }
    let subjects: Vec<Subject> = compared
        .iter()
        .map(|(current, baseline, comparison)| Subject {
            current,
            baseline: Some(baseline),
            comparison: Some(comparison),
        })
        .collect();
    let mut report = build_report(&subjects, fail_on, strict);
    let (md_path, html_path) = (
        args.reports.join("compare.md"),
        args.reports.join("compare.html"),
    );
    report.full_report = Some(html_path.display().to_string());
    let markdown = templates.markdown(&report)?;
    write_atomic(&md_path, markdown.as_bytes()).map_err(write_error(&md_path))?;
    write_atomic(&html_path, templates.html(&report)?.as_bytes())
        .map_err(write_error(&html_path))?;
    println!("reports: {} and {}", md_path.display(), html_path.display());
    if std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true") {
        print!("{}", annotations(&comparisons, fail_on, strict));
    }
    if let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").map(PathBuf::from) {
        append(&path, &markdown).map_err(write_error(&path))?;
    }
    let failed = comparisons
        .iter()
        .flat_map(|c| &c.rows)
        .any(|r| fails(r.verdict, fail_on, strict));
    println!("{}", if failed { "FAIL" } else { "PASS" });
    Ok(if failed {
        Outcome::Failed
    } else {
        Outcome::Success
    })
}

/// Serves the simulator until Ctrl-C.
fn serve_sim(args: &SimArgs) -> anyhow::Result<Outcome> {
    let (server, about) = match args.emit_interval_ms {
        Some(interval) => emitter(args, interval)?,
        None => engine(args)?,
    };
    let running = RunningSim::start(server, args.port)
        .with_context(|| format!("cannot listen on 127.0.0.1:{}", args.port))?;
    println!("simulator ({about}) on http://{}", running.addr);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime
        .block_on(tokio::signal::ctrl_c())
        .context("cannot wait for Ctrl-C")?;
    drop(running);
    Ok(Outcome::Success)
}

/// The fixed-clock emitter of `sim --emit-interval-ms`.
fn emitter(args: &SimArgs, interval_ms: f64) -> anyhow::Result<(sim::Server, String)> {
    let ms = |flag: &str, v: f64| {
        Duration::try_from_secs_f64(v / 1000.0)
            .map_err(|_| anyhow::anyhow!("{flag}: expected milliseconds >= 0, got {v}"))
    };
    let config = sim::EmitterConfig {
        first_token: ms("--emit-first-token-ms", args.emit_first_token_ms)?,
        interval: ms("--emit-interval-ms", interval_ms)?,
        tokens_per_chunk: args.emit_tokens_per_chunk,
    };
    let about = format!(
        "emitter: first token after {} ms, then {} token(s) every {interval_ms} ms; send times at /truth",
        args.emit_first_token_ms, args.emit_tokens_per_chunk
    );
    Ok((
        sim::Server::Emitter(config, "llm-loadtest-emitter".into()),
        about,
    ))
}

/// The engine model of `sim --profile`.
fn engine(args: &SimArgs) -> anyhow::Result<(sim::Server, String)> {
    let mut values = std::collections::BTreeMap::from([
        (
            "chunked_prefill".to_owned(),
            serde_json::Value::from(args.chunked_prefill),
        ),
        ("tp".to_owned(), serde_json::Value::from(args.tp)),
    ]);
    if let Some(budget) = args.max_num_batched_tokens {
        values.insert("max_num_batched_tokens".into(), budget.into());
    }
    let config = sim::engine_config(&args.profile, &values).map_err(anyhow::Error::msg)?;
    let faults = Faults {
        error_rate: args.error_rate,
        stall_rate: args.stall_rate,
        stall_ms: args.stall_ms,
        disconnect_rate: args.disconnect_rate,
        malformed_rate: args.malformed_rate,
        seed: 0,
    };
    let total =
        faults.error_rate + faults.stall_rate + faults.disconnect_rate + faults.malformed_rate;
    if !(0.0..=1.0).contains(&total) {
        anyhow::bail!("--error-rate, --stall-rate, --disconnect-rate and --malformed-rate must add up to at most 1");
    }
    let about = format!("{}: {}", args.profile, config.profile.about);
    Ok((sim::Server::Engine(config, faults), about))
}

/// The version, the host and the GPUs.
fn info_text() -> String {
    let host = Host::current();
    let mut text = format!(
        "{} {} (result schema_version {SCHEMA_VERSION})\nhost: {host}\n",
        env!("CARGO_PKG_NAME"),
        env!("CARGO_PKG_VERSION"),
    );
    let gpus = gpu_environment(&Gpus::open());
    match &gpus.unavailable {
        Some(reason) => text.push_str(&format!("GPUs: none ({reason})\n")),
        None => {
            text.push_str(&format!(
                "GPUs: {} (driver {}, CUDA {})\n",
                gpus.devices.len(),
                gpus.driver.as_deref().unwrap_or("unknown"),
                gpus.cuda.as_deref().unwrap_or("unknown")
            ));
            for d in &gpus.devices {
                text.push_str(&format!(
                    "  {}: {}, {:.0} MiB\n",
                    d.index, d.name, d.memory_total_mib
                ));
            }
        }
    }
    text
}

/// The GPU table, once or every `watch` seconds.
fn gpu(watch: Option<f64>) -> anyhow::Result<Outcome> {
    let gpus = match Gpus::open() {
        Ok(gpus) => gpus,
        Err(reason) => {
            println!("no GPU readings: {reason}");
            return Ok(Outcome::Success);
        }
    };
    let Some(seconds) = watch else {
        print!("{}", gpu_table(&gpus.read()));
        return Ok(Outcome::Success);
    };
    let interval = std::time::Duration::try_from_secs_f64(seconds)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| anyhow::anyhow!("--watch: expected a positive number of seconds"))?;
    loop {
        // Clear the screen, then the table: the seed's `watch -n 0.5 nvidia-smi`.
        print!("\x1b[2J\x1b[H{}", gpu_table(&gpus.read()));
        std::thread::sleep(interval);
    }
}

/// Renders one result, compared with a baseline when one is given.
fn report(args: &ReportArgs) -> anyhow::Result<Outcome> {
    let templates = Templates::load(args.templates.as_deref())?;
    let current = baseline::read_result(&args.result)?;
    let baseline = args
        .baseline
        .as_deref()
        .map(baseline::read_result)
        .transpose()?;
    let comparison = baseline
        .as_ref()
        .map(|b| compare::compare(b, &current, args.seed));
    let subject = Subject {
        current: &current,
        baseline: baseline.as_ref(),
        comparison: comparison.as_ref(),
    };
    let report = build_report(&[subject], FailOn::default(), false);
    let format = args
        .format
        .or_else(|| args.out.as_deref().and_then(ReportFormat::from_path))
        .unwrap_or(ReportFormat::Md);
    let text = match format {
        ReportFormat::Md => templates.markdown(&report)?,
        ReportFormat::Html => templates.html(&report)?,
        ReportFormat::Csv => csv(&current)?,
        ReportFormat::Json => serde_json::to_string_pretty(&report)? + "\n",
    };
    match &args.out {
        Some(path) => {
            write_atomic(path, text.as_bytes()).map_err(write_error(path))?;
            println!("report: {}", path.display());
        }
        None => print!("{text}"),
    }
    Ok(Outcome::Success)
}

/// Appends `text` to the file at `path` (GitHub's job summary is one file per step).
fn append(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?
        .write_all(text.as_bytes())
}

fn validate_files(files: &[PathBuf]) -> Outcome {
    let mut outcome = Outcome::Success;
    for file in files {
        match scenario::load_file(file) {
            Ok(s) => println!("{}: ok ({})", file.display(), s.name),
            Err(e) => {
                eprintln!("{e}");
                outcome = Outcome::Invalid;
            }
        }
    }
    outcome
}

/// The scenario of a `run`, from its file or its flags, with target overrides applied.
fn scenario_of(args: &RunArgs) -> Result<(Scenario, PathBuf), ScenarioError> {
    match &args.scenario {
        Some(path) => {
            let mut scenario = scenario::load_file(path)?;
            if let Some(server) = &args.server {
                scenario.target.base_url = server.clone();
            }
            if let Some(model) = &args.model {
                scenario.target.model = Some(model.clone());
            }
            Ok((scenario, path.clone()))
        }
        None => {
            let origin = PathBuf::from("command line");
            let s = args.to_scenario();
            scenario::validate(&s).map_err(|(field, message)| ScenarioError::Invalid {
                path: origin.clone(),
                // The only scenario field a flag can make invalid past clap's own checks.
                field: if field == "target.base_url" {
                    "--server".into()
                } else {
                    field
                },
                message,
            })?;
            Ok((s, origin))
        }
    }
}

fn run(args: &RunArgs) -> anyhow::Result<Outcome> {
    let (scenario, origin) = scenario_of(args)?;
    let plan = Plan::new(scenario, args.api_key.clone(), &origin)?;
    let options = RunOptions {
        output: args.output.clone(),
        requests_out: args.requests_out.clone(),
    };
    match measure(&plan, &options)? {
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

/// Runs a plan with Ctrl-C handling, prints its summary and writes its result. `None` when
/// interrupted before the first point; a result interrupted later is marked partial.
fn measure(plan: &Plan, options: &RunOptions) -> anyhow::Result<Option<RunResult>> {
    // One thread: the client's work per chunk is a few microseconds, and a single thread
    // spares the cross-thread wake-ups (futex) that would cost more than the work itself
    // and take CPU from a server sharing the machine.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let result = runtime.block_on(async {
        let cancel = CancellationToken::new();
        tokio::spawn(stop_on_ctrl_c(cancel.clone()));
        run_plan(plan, options, &cancel).await
    });
    let result = match result {
        Err(RunError::Interrupted) => {
            eprintln!("interrupted before the first point: nothing was measured");
            return Ok(None);
        }
        other => other?,
    };
    print!("{}", summary_table(&result));
    if let Some(path) = &options.output {
        write_json_atomic(path, &result).map_err(write_error(path))?;
        println!("result: {}", path.display());
    }
    if result.partial {
        eprintln!("interrupted: the result holds the points measured so far, marked partial");
    }
    Ok(Some(result))
}

/// Prints the scenario's SLO thresholds checked on every point; fails on a breach.
fn report_slo_checks(result: &RunResult) -> Outcome {
    let checks = slo::check(result);
    for check in &checks {
        let value = check
            .value
            .map_or("no value".to_owned(), |v| format!("{v:.3}"));
        let mark = if check.holds { "✓" } else { "✗" };
        println!("{mark} {} at {}: {value}", check.threshold, check.point);
    }
    if checks.iter().any(|c| !c.holds) {
        println!("FAIL: SLO thresholds breached");
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
        println!("✗ {id}: {failure}");
    }
    if !failed.is_empty() {
        println!(
            "FAIL: {} of {} points were not measured (server logs: {})",
            failed.len(),
            result.points.len(),
            result
                .servers
                .iter()
                .map(|s| s.log.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    !failed.is_empty()
}

/// Runs every scenario in `scenarios/` whose target answers, writing
/// `reports/results/<scenario>.json`; says why it skips the others. `None` when
/// interrupted.
fn run_reachable_scenarios() -> anyhow::Result<Option<Vec<PathBuf>>> {
    let dir = Path::new(scenario::DEFAULT_DIR);
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot list {}", dir.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension().is_some_and(|e| e == "json") && !p.ends_with(scenario::SCHEMA_FILE)
        })
        .collect();
    files.sort();
    let probe = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let mut results = Vec::new();
    for file in files {
        let plan = match Plan::new(scenario::load_file(&file)?, None, &file) {
            Ok(plan) => plan,
            Err(e) => {
                println!("skipped {}: {e}", file.display());
                continue;
            }
        };
        match &plan.scenario.server {
            Some(server) => {
                if let Err(why) = launchable(&server.command[0]) {
                    println!("skipped {}: {why}", file.display());
                    continue;
                }
            }
            None if plan.scenario.target.embedded.is_some() => {}
            None if !probe.block_on(reachable(&plan.target.base_url)) => {
                let url = redacted(&plan.target.base_url);
                println!("skipped {}: nothing answers at {url}", file.display());
                continue;
            }
            None => {}
        }
        let output =
            Path::new(baseline::DEFAULT_RESULTS).join(format!("{}.json", plan.scenario.name));
        let options = RunOptions {
            output: Some(output.clone()),
            requests_out: None,
        };
        match measure(&plan, &options)? {
            Some(result) if !result.partial => results.push(output),
            _ => return Ok(None),
        }
    }
    Ok(Some(results))
}

/// Whether the program of a server command can be started: a path that exists, or a name
/// found on `PATH`.
pub fn launchable(program: &str) -> Result<(), String> {
    let program = shellexpand::env(program).map_err(|e| e.to_string())?;
    let found = if program.contains('/') {
        Path::new(program.as_ref()).exists()
    } else {
        std::env::var_os("PATH").is_some_and(|path| {
            std::env::split_paths(&path).any(|dir| dir.join(program.as_ref()).is_file())
        })
    };
    if found {
        Ok(())
    } else {
        Err(format!("its server program `{program}` is not installed"))
    }
}

/// First Ctrl-C (or SIGTERM, SIGHUP: a cancelled CI job, a closed terminal): stop starting
/// requests and finish with a partial result, stopping launched servers. Second: kill the
/// servers and quit.
async fn stop_on_ctrl_c(cancel: CancellationToken) {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut hup)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::hangup()),
    ) else {
        return;
    };
    let mut stop = async || {
        tokio::select! {
            r = tokio::signal::ctrl_c() => r.is_ok(),
            r = term.recv() => r.is_some(),
            r = hup.recv() => r.is_some(),
        }
    };
    if stop().await {
        eprintln!("\ninterrupted: writing the partial result (Ctrl-C again to quit at once)");
        cancel.cancel();
        if stop().await {
            crate::server::kill_all();
            std::process::exit(i32::from(EXIT_INTERRUPTED));
        }
    }
}
