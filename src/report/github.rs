//! GitHub Actions outputs: `::error`/`::warning` workflow commands for the rows that need
//! attention, and a Markdown job summary (appended to `$GITHUB_STEP_SUMMARY`).

use super::format::{change, describe, value};
use crate::compare::verdict::{fails, FailOn, Verdict};
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
pub fn annotations(comparisons: &[Comparison], fail_on: FailOn, strict: bool) -> String {
    let mut lines = String::new();
    for comparison in comparisons {
        for row in &comparison.rows {
            let level = if fails(row.verdict, fail_on, strict) {
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

/// A Markdown summary: a verdict headline per scenario and the rows that need attention.
pub fn job_summary(comparisons: &[Comparison], fail_on: FailOn, strict: bool) -> String {
    let mut md = String::new();
    for comparison in comparisons {
        let failing = comparison
            .rows
            .iter()
            .filter(|r| fails(r.verdict, fail_on, strict))
            .count();
        let headline = if failing == 0 { "✅ pass" } else { "❌ fail" };
        md.push_str(&format!(
            "## llm-loadtest `{}`: {headline}\n\n",
            comparison.scenario
        ));
        let listed: Vec<_> = comparison
            .rows
            .iter()
            .filter(|r| r.verdict.is_listed())
            .collect();
        md.push_str(&format!(
            "{failing} failing, {} listed, {} with no change or a met SLO.\n\n",
            listed.len(),
            comparison.rows.len() - listed.len()
        ));
        if listed.is_empty() {
            continue;
        }
        md.push_str("| Point | Metric | Baseline | Current | Δ [95% CI] | Verdict |\n|---|---|---:|---:|---:|---|\n");
        for row in listed {
            md.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} |\n",
                row.point,
                row.metric.replace('|', "\\|"),
                value(&row.metric, row.baseline),
                value(&row.metric, row.current),
                change(row),
                row.verdict
            ));
        }
        md.push('\n');
    }
    md
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
