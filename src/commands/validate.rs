//! `llm-loadtest validate FILE...`: checks scenario files (and the prompt sets or traces
//! they name) without running them, one line each. A JSON Schema among them (`scenarios/*.json` takes `scenario.schema.json` too) is
//! skipped with a note, not reported as an invalid scenario.

use std::path::{Path, PathBuf};

use llm_loadtest::scenario;

use super::{sayln, Outcome};

pub fn execute(files: &[PathBuf]) -> Outcome {
    let mut outcome = Outcome::Success;
    for file in files {
        if is_json_schema(file) {
            sayln!(
                "{}: skipped (a JSON Schema, not a scenario)",
                file.display()
            );
            continue;
        }
        let checked =
            scenario::load_file(file).and_then(|s| scenario::prompt_source(&s, file, 0).map(|_| s));
        match checked {
            Ok(s) => {
                sayln!("{}: ok ({})", file.display(), s.name);
            }
            Err(e) => {
                eprintln!("{e}");
                outcome = Outcome::Invalid;
            }
        }
    }
    outcome
}

/// Whether `file` is a JSON Schema document (its `$schema` names a JSON Schema dialect),
/// such as `scenarios/scenario.schema.json`.
fn is_json_schema(file: &Path) -> bool {
    let Ok(text) = std::fs::read_to_string(file) else {
        return false;
    };
    let Ok(value) = serde_json::from_str::<serde_json::Value>(&text) else {
        return false;
    };
    value["$schema"]
        .as_str()
        .is_some_and(|s| s.contains("json-schema.org"))
}
