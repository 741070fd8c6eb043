//! `llm-loadtest history SOURCE... [--format md|html|json] [--out FILE]`: the trend page of
//! the runs found in result files, baselines (each accepted run of their history) and
//! directories of them (searched for `*.json`, such as the copies `compare` keeps in
//! `reports/results/history/`): each key figure of each point over the runs, the runs where
//! it changed beyond its noise marked.

use std::path::{Path, PathBuf};

use llm_loadtest::compare::baseline;
use llm_loadtest::report::output::{Document, Format};
use llm_loadtest::report::{Templates, TrendInput};

use super::{check_distinct, emit, output_format, Outcome};
use crate::cli::HistoryArgs;

pub fn execute(args: &HistoryArgs) -> anyhow::Result<Outcome> {
    let format = output_format(&args.output);
    if !matches!(format, Format::Markdown | Format::Html | Format::Json) {
        anyhow::bail!("history: --format: expected md, html or json");
    }
    let named: Vec<(&str, &Path)> = args
        .sources
        .iter()
        .map(|s| ("a source", s.as_path()))
        .collect();
    let out: Vec<(&str, &Path)> = args
        .output
        .out
        .iter()
        .map(|o| ("--out", o.as_path()))
        .collect();
    check_distinct(&named, &out)?;
    let templates = Templates::load(args.output.templates.as_deref())?;
    let mut inputs = Vec::new();
    let mut skipped = 0;
    for (path, named) in json_files(&args.sources)? {
        match baseline::read_result(&path) {
            Ok(result) if !result.partial => {
                inputs.extend(TrendInput::of_result(&file_name(&path), &result))
            }
            Err(e) if named => return Err(e.into()),
            _ => skipped += 1,
        }
    }
    if skipped > 0 {
        eprintln!("history: skipped {skipped} JSON file(s) that are not complete results");
    }
    if inputs.is_empty() {
        anyhow::bail!("history: no complete result in {}", shown(&args.sources));
    }
    let bytes = Document::history(inputs).render(format, &templates)?;
    emit(args.output.out.as_deref(), &bytes, "history")?;
    Ok(Outcome::Success)
}

/// A file's name as the trend page shows it.
fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

fn shown(paths: &[PathBuf]) -> String {
    let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    names.join(", ")
}

/// The files named, and the `*.json` files under the directories named (sorted), each
/// with whether it was named.
fn json_files(sources: &[PathBuf]) -> anyhow::Result<Vec<(PathBuf, bool)>> {
    let mut files = Vec::new();
    for source in sources {
        if source.is_dir() {
            let mut found = Vec::new();
            walk(source, &mut found)?;
            found.sort();
            files.extend(found.into_iter().map(|f| (f, false)));
        } else {
            files.push((source.clone(), true));
        }
    }
    Ok(files)
}

fn walk(dir: &Path, found: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| anyhow::anyhow!("history: cannot read {}: {e}", dir.display()))?;
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            walk(&path, found)?;
        } else if path.extension().is_some_and(|e| e == "json") {
            found.push(path);
        }
    }
    Ok(())
}
