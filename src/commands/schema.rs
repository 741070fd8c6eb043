//! `llm-loadtest schema`: the JSON Schema of scenario files, for editors and CI checks.

use llm_loadtest::scenario;

use super::{sayln, Outcome};

pub fn execute() -> anyhow::Result<Outcome> {
    let schema = serde_json::to_string_pretty(&scenario::json_schema())?;
    sayln!("{schema}");
    Ok(Outcome::Success)
}
