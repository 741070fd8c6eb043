//! `llm-loadtest baseline update [RESULT...]`: makes complete results the baselines of
//! their scenarios (by default the results of the last `compare` without arguments).

use std::path::{Path, PathBuf};

use llm_loadtest::compare::baseline;

use super::{sayln, Outcome};

pub fn update(results: Vec<PathBuf>, baselines: &Path, keep: usize) -> anyhow::Result<Outcome> {
    let results = if results.is_empty() {
        baseline::latest_results()?
    } else {
        results
    };
    for written in baseline::update(&results, baselines, keep)? {
        sayln!("{}: updated", written.display());
    }
    Ok(Outcome::Success)
}
