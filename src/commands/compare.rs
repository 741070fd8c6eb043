//! `llm-loadtest compare [RESULT...]`: compares results with their baselines, prints the
//! verdict table, writes `compare.md` (the pull-request comment) and `compare.html`, and
//! optionally JUnit XML, GitHub annotations and the job summary; exits 1 when a verdict
//! fails the check. Without results, it first runs every scenario in `scenarios/` whose
//! target is available here, saying why it skips the others. With `--retry N`, the
//! inconclusive points are measured again first ([`super::retry`]).

use std::path::{Path, PathBuf};

use anyhow::Context;
use tokio::runtime::Runtime;

use llm_loadtest::atomic;
use llm_loadtest::compare::verdict::Policy;
use llm_loadtest::compare::{baseline, Comparison};
use llm_loadtest::report::output::{self, Document, Format};
use llm_loadtest::report::terminal::compare_table;
use llm_loadtest::report::{annotations, Subject, Templates};
use llm_loadtest::result::RunResult;
use llm_loadtest::run::{availability, RunOptions};
use llm_loadtest::scenario::{self, Plan};

use super::retry::Retry;
use super::run::measure;
use super::{check_distinct, say, sayln, Outcome};
use crate::cli::CompareArgs;

pub fn execute(args: &CompareArgs, runtime: &Runtime) -> anyhow::Result<Outcome> {
    // Templates first: a broken one should fail before a long run, not after.
    let templates = Templates::load(args.templates.as_deref())?;
    let results = if args.results.is_empty() {
        match run_available_scenarios(runtime)? {
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
    let md_path = args.reports.join("compare.md");
    let html_path = args.reports.join("compare.html");
    let inputs: Vec<(&str, &Path)> = results.iter().map(|r| ("a result", r.as_path())).collect();
    let mut outputs = vec![
        ("compare.md", md_path.as_path()),
        ("compare.html", html_path.as_path()),
    ];
    outputs.extend(args.junit.as_deref().map(|j| ("--junit", j)));
    check_distinct(&inputs, &outputs)?;
    let policy = Policy {
        fail_on: args.fail_on.into(),
        strict: args.strict,
        require_baseline: args.require_baseline,
    };
    let compared = compare_with_baselines(&results, args, policy, runtime)?;
    if args.results.is_empty() {
        // The runs compare made, as decided (with any retried trials).
        for (current, _, _) in &compared {
            keep_copy(current)?;
        }
    }
    let subjects: Vec<Subject> = compared
        .iter()
        .map(|(current, baseline, comparison)| Subject {
            current,
            baseline: baseline.as_ref(),
            comparison: Some(comparison),
        })
        .collect();
    let comparisons: Vec<&Comparison> = compared.iter().map(|(_, _, c)| c).collect();
    let document = Document::new(&subjects, policy);
    write_outputs(args, document, [&md_path, &html_path], &templates)?;
    if std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true") {
        say!("{}", annotations(comparisons.iter().copied(), policy));
    }
    let failed = comparisons
        .iter()
        .flat_map(|c| &c.rows)
        .any(|r| policy.fails(r.verdict));
    sayln!("{}", if failed { "FAIL" } else { "PASS" });
    Ok(if failed {
        Outcome::Failed
    } else {
        Outcome::Success
    })
}

/// Each result with its baseline (none yet for a new scenario) and their comparison
/// (after the retries of its inconclusive points), the table of each printed.
fn compare_with_baselines(
    results: &[PathBuf],
    args: &CompareArgs,
    policy: Policy,
    runtime: &Runtime,
) -> anyhow::Result<Vec<(RunResult, Option<RunResult>, Comparison)>> {
    let mut compared = Vec::new();
    for path in results {
        let mut current = baseline::read_result(path)?;
        if current.shard.as_ref().is_some_and(|s| s.count > 1) {
            anyhow::bail!(
                "{}: one shard's result; merge the shards first (llm-loadtest merge) and compare the merged result",
                path.display()
            );
        }
        let baseline_path = baseline::baseline_file(&args.baselines, &current.scenario.name);
        // Only nothing at all is "no baseline": a link that leads nowhere is read, and fails
        // with its reason.
        let baseline = match std::fs::symlink_metadata(&baseline_path) {
            Ok(_) => Some(baseline::read_baseline(&baseline_path)?),
            Err(_) => None,
        };
        let retry = Retry {
            path,
            baseline: baseline.as_ref(),
            seed: args.seed,
            rounds: args.retry,
        };
        let comparison = retry.decide(&mut current, runtime)?;
        say!("{}", compare_table(&comparison, policy));
        if comparison.new_scenario {
            sayln!(
                "{}: no baseline yet; make this run the baseline with `llm-loadtest baseline update {}`",
                current.scenario.name,
                path.display()
            );
        }
        compared.push((current, baseline, comparison));
    }
    Ok(compared)
}

/// JUnit XML when asked for, `compare.md` and `compare.html` in the reports folder, and
/// the Markdown appended to GitHub's job summary when there is one.
fn write_outputs(
    args: &CompareArgs,
    document: Document,
    [md_path, html_path]: [&Path; 2],
    templates: &Templates,
) -> anyhow::Result<()> {
    let document = document.with_full_report(html_path.display().to_string());
    if let Some(path) = &args.junit {
        output::write(path, &document.render(Format::Junit, templates)?)?;
    }
    let markdown = document.render(Format::Markdown, templates)?;
    output::write(md_path, &markdown)?;
    output::write(html_path, &document.render(Format::Html, templates)?)?;
    sayln!("reports: {} and {}", md_path.display(), html_path.display());
    if let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").map(PathBuf::from) {
        append(&path, &markdown).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

/// Appends `bytes` to the file at `path` (GitHub's job summary is one file per step).
fn append(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?
        .write_all(bytes)
}

/// Runs every scenario in `scenarios/` whose target is available, writing
/// `reports/results/<scenario>.json`; says why it skips the others. `None` when
/// interrupted.
fn run_available_scenarios(runtime: &Runtime) -> anyhow::Result<Option<Vec<PathBuf>>> {
    let mut results = Vec::new();
    for file in scenario_files()? {
        let plan = match Plan::new(scenario::load_file(&file)?, None, &file) {
            Ok(plan) => plan,
            Err(e) => {
                sayln!("skipped {}: {e}", file.display());
                continue;
            }
        };
        if let Err(why) = runtime.block_on(availability(&plan)) {
            sayln!("skipped {}: {why}", file.display());
            continue;
        }
        let output = Path::new(baseline::DEFAULT_RESULTS).join(format!("{}.json", plan.name));
        let options = RunOptions {
            output: Some(output.clone()),
            requests_out: None,
            live: None,
        };
        match measure(&plan, &options, runtime)? {
            Some(result) if !result.partial => results.push(output),
            _ => return Ok(None),
        }
    }
    Ok(Some(results))
}

/// Keeps a copy of a result `compare` ran that the next run will not replace:
/// `reports/results/history/<scenario>/<start time>.json`, for the history of a scenario.
fn keep_copy(result: &RunResult) -> anyhow::Result<()> {
    let stamp = result.started_at.replace(':', "");
    let dir = Path::new(baseline::DEFAULT_RESULTS)
        .join("history")
        .join(&result.scenario.name);
    // Two runs started within one second keep both.
    let path = (0..)
        .map(|n| match n {
            0 => dir.join(format!("{stamp}.json")),
            n => dir.join(format!("{stamp}-{n}.json")),
        })
        .find(|p| !p.exists())
        .expect("an unused name");
    Ok(atomic::write_json(&path, result)?)
}

/// The scenario files in `scenarios/`, in name order, without the JSON Schema.
fn scenario_files() -> anyhow::Result<Vec<PathBuf>> {
    let dir = Path::new(scenario::DEFAULT_DIR);
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot list {}", dir.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension().is_some_and(|e| e == "json") && !p.ends_with(scenario::SCHEMA_FILE)
        })
        .collect();
    files.sort();
    Ok(files)
}
