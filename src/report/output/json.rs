//! The data the templates see, as JSON (`report --format json`): for custom templates,
//! dashboards and checks of what a page shows.

use crate::report::Report;

/// `report` as pretty JSON with a final newline.
pub fn render(report: &Report) -> Result<String, serde_json::Error> {
    Ok(serde_json::to_string_pretty(report)? + "\n")
}
