//! `llm-loadtest report RESULT [--baseline B] [--format md|html|csv|json|xlsx] [--out
//! FILE]`: renders one result, compared with a baseline when one is given, to a file
//! (written atomically) or, as text, to standard output.

use llm_loadtest::compare::{self, baseline, verdict::Policy};
use llm_loadtest::report::output::{self, Document, Format};
use llm_loadtest::report::{Subject, Templates};

use super::{check_distinct, say, sayln, Outcome};
use crate::cli::ReportArgs;

pub fn execute(args: &ReportArgs) -> anyhow::Result<Outcome> {
    let mut inputs = vec![("the result", args.result.as_path())];
    inputs.extend(args.baseline.as_deref().map(|b| ("--baseline", b)));
    let outputs: Vec<(&str, &std::path::Path)> = args
        .out
        .as_deref()
        .map(|o| ("--out", o))
        .into_iter()
        .collect();
    check_distinct(&inputs, &outputs)?;
    let templates = Templates::load(args.templates.as_deref())?;
    let current = baseline::read_result(&args.result)?;
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
    let format = args
        .format
        .map(Format::from)
        .or_else(|| args.out.as_deref().and_then(Format::from_path))
        .filter(|f| *f != Format::Junit)
        .unwrap_or(Format::Markdown);
    if format == Format::Xlsx && args.out.is_none() {
        anyhow::bail!("--format xlsx writes a binary workbook: name its file with --out FILE.xlsx");
    }
    let bytes = Document::new(&subjects, Policy::default()).render(format, &templates)?;
    match &args.out {
        Some(path) => {
            output::write(path, &bytes)?;
            sayln!("report: {}", path.display());
        }
        None => {
            say!("{}", String::from_utf8_lossy(&bytes));
        }
    }
    Ok(Outcome::Success)
}
