//! GitHub Actions annotations: `::error`/`::warning` workflow commands for the rows that need
//! attention. (The job summary is the Markdown report.)

use super::format::describe;
use crate::compare::verdict::{Policy, Verdict};
use crate::compare::Comparison;

/// Escapes a workflow command's message (`%`, CR, LF) or, with `property`, also `:` and `,`.
fn escape(text: &str, property: bool) -> String {
    let mut out = text
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A");
    if property {
        out = out.replace(':', "%3A").replace(',', "%2C");
    }
    out
}

/// One annotation line per failing row (`::error`) and per other warning (`::warning`).
pub fn annotations<'a>(
    comparisons: impl IntoIterator<Item = &'a Comparison>,
    policy: Policy,
) -> String {
    let mut lines = String::new();
    for comparison in comparisons {
        for row in &comparison.rows {
            let level = if policy.fails(row.verdict) {
                "error"
            } else if matches!(row.verdict, Verdict::Warning | Verdict::BaselineMismatch) {
                "warning"
            } else {
                continue;
            };
            let title = escape(
                &format!("llm-loadtest {}: {}", comparison.scenario, row.verdict),
                true,
            );
            lines.push_str(&format!(
                "::{level} title={title}::{}\n",
                escape(&describe(row), false)
            ));
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workflow_command_escaping() {
        assert_eq!(escape("50%\na:b,c", false), "50%25%0Aa:b,c");
        assert_eq!(escape("a:b,c", true), "a%3Ab%2Cc");
    }
}
