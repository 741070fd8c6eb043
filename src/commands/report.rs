//! `llm-loadtest report RESULT... [--baseline B] [--format md|html|csv|json|xlsx] [--out
//! FILE]`: renders one result, compared with a baseline when one is given, or up to eight
//! side by side, to a file (written atomically) or, as text, to standard output.

use std::path::{Path, PathBuf};

use llm_loadtest::compare::{self, baseline, verdict::Policy};
use llm_loadtest::report::output::{Document, Format};
use llm_loadtest::report::{Subject, Templates, MAX_RUNS};

use super::{check_distinct, emit, output_format, Outcome};
use crate::cli::ReportArgs;

pub fn execute(args: &ReportArgs) -> anyhow::Result<Outcome> {
    let role = if args.results.len() == 1 {
        "the result"
    } else {
        "a result"
    };
    let mut inputs: Vec<(&str, &Path)> = args.results.iter().map(|r| (role, r.as_path())).collect();
    inputs.extend(args.baseline.as_deref().map(|b| ("--baseline", b)));
    let outputs: Vec<(&str, &Path)> = args
        .output
        .out
        .as_deref()
        .map(|o| ("--out", o))
        .into_iter()
        .collect();
    check_distinct(&inputs, &outputs)?;
    if args.results.len() > MAX_RUNS {
        anyhow::bail!(
            "report: {} results given; at most {MAX_RUNS} are shown side by side",
            args.results.len()
        );
    }
    if args.results.len() > 1 && args.baseline.is_some() {
        anyhow::bail!(
            "--baseline compares one result; several results are shown side by side without it"
        );
    }
    let templates = Templates::load(args.output.templates.as_deref())?;
    let format = Some(output_format(&args.output))
        .filter(|f| *f != Format::Junit)
        .unwrap_or(Format::Markdown);
    if format == Format::Xlsx && args.output.out.is_none() {
        anyhow::bail!("--format xlsx writes a binary workbook: name its file with --out FILE.xlsx");
    }
    let bytes = match &args.results[..] {
        [result] => one_run(result, args, format, &templates)?,
        results => side_by_side(results, format, &templates)?,
    };
    emit(args.output.out.as_deref(), &bytes, "report")?;
    Ok(Outcome::Success)
}

/// One result, compared with `--baseline` when given.
fn one_run(
    path: &Path,
    args: &ReportArgs,
    format: Format,
    templates: &Templates,
) -> anyhow::Result<Vec<u8>> {
    let current = baseline::read_result(path)?;
    let baseline = args
        .baseline
        .as_deref()
        .map(baseline::read_baseline)
        .transpose()?;
    if let Some(b) = baseline
        .as_ref()
        .filter(|b| b.scenario.name != current.scenario.name)
    {
        eprintln!(
            "warning: comparing two scenarios: `{}` against the baseline of `{}`; points are matched by id",
            current.scenario.name, b.scenario.name
        );
    }
    let comparison = baseline
        .as_ref()
        .map(|b| compare::compare(Some(b), &current, args.seed));
    let subjects = [Subject {
        current: &current,
        baseline: baseline.as_ref(),
        comparison: comparison.as_ref(),
    }];
    Ok(Document::new(&subjects, Policy::default()).render(format, templates)?)
}

/// Several results side by side, each named by its file.
fn side_by_side(
    paths: &[PathBuf],
    format: Format,
    templates: &Templates,
) -> anyhow::Result<Vec<u8>> {
    let results = paths
        .iter()
        .map(|p| baseline::read_result(p))
        .collect::<Result<Vec<_>, _>>()?;
    let labels: Vec<String> = paths
        .iter()
        .map(|p| {
            p.file_stem().map_or_else(
                || p.display().to_string(),
                |s| s.to_string_lossy().into_owned(),
            )
        })
        .collect();
    let subjects: Vec<Subject> = results.iter().map(Subject::alone).collect();
    Ok(Document::side_by_side(&subjects, &labels).render(format, templates)?)
}
