//! The Markdown report, for a pull-request comment or a job summary: rendered from its
//! template and shortened, with a note saying what was left out, to fit GitHub's limit on
//! the size of a comment.

use crate::report::format::count;
use crate::report::templates::{TemplateError, Templates, MARKDOWN};
use crate::report::Report;

/// GitHub's limit on the body of a comment, in characters.
pub const COMMENT_LIMIT: usize = 65_536;

/// The Markdown report, shortened to fit [`COMMENT_LIMIT`]: first per-point details
/// are left out, then rows that need attention, each time with a note saying so.
pub fn render(templates: &Templates, report: &Report) -> Result<String, TemplateError> {
    let fits = |text: &String| text.chars().count() <= COMMENT_LIMIT;
    let full = templates.render(MARKDOWN, report)?;
    if fits(&full) {
        return Ok(full);
    }
    let points: usize = report.scenarios.iter().map(|s| s.points.len()).sum();
    let rows: usize = report.scenarios.iter().map(|s| s.attention.len()).sum();
    let mut shortened = report.clone();
    // Halve what is kept, details first, until the comment fits.
    for (keep_points, keep_rows) in halvings(points)
        .map(|p| (p, rows))
        .chain(halvings(rows).map(|r| (0, r)))
    {
        let mut left_out = Vec::new();
        for (s, original) in shortened.scenarios.iter_mut().zip(&report.scenarios) {
            s.points = original.points.iter().take(keep_points).cloned().collect();
            s.attention = original.attention.iter().take(keep_rows).cloned().collect();
        }
        if keep_points < points {
            let of = count(points, "point", "points");
            left_out.push(format!("percentiles of {} of {of}", points - keep_points));
        }
        if keep_rows < rows {
            let of = count(rows, "row", "rows");
            left_out.push(format!("{} of {of} that need attention", rows - keep_rows));
        }
        shortened.truncated = Some(format!(
            "Shortened to fit a pull-request comment ({COMMENT_LIMIT} characters): left out {}.",
            left_out.join(" and ")
        ));
        let text = templates.render(MARKDOWN, &shortened)?;
        if fits(&text) {
            return Ok(text);
        }
    }
    // Only a template far larger than its data gets here: cut it.
    let text = templates.render(MARKDOWN, &shortened)?;
    let note = "\n\n… cut at the comment size limit.\n";
    let keep = COMMENT_LIMIT - note.chars().count();
    Ok(text.chars().take(keep).collect::<String>() + note)
}

/// `n`, `n/2`, `n/4`, ..., `1`, `0`, each strictly less than `n`.
fn halvings(n: usize) -> impl Iterator<Item = usize> {
    std::iter::successors((n > 0).then_some(n / 2), |&k| (k > 0).then_some(k / 2))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::stats::Change;
    use crate::compare::verdict::{Policy, Verdict};
    use crate::compare::{Comparison, Row};
    use crate::report::output::{Document, Format};
    use crate::report::Subject;
    use crate::result::RunResult;

    #[test]
    fn markdown_is_shortened_to_fit_a_comment_and_says_so() {
        let result: RunResult = serde_json::from_str(include_str!(
            "../../../tests/fixtures/llamacpp-smollm2.result.json"
        ))
        .unwrap();
        let rows = (0..3000)
            .map(|i| Row {
                point: format!("input_tokens=512,concurrency={i}"),
                metric: "itl_ms.p50".into(),
                baseline: Some(10.0),
                current: Some(12.0),
                change: Some(Change {
                    estimate: 0.2,
                    low: 0.15,
                    high: 0.25,
                }),
                noise: None,
                verdict: Verdict::Regressed,
                note: String::new(),
            })
            .collect();
        let comparison = Comparison {
            scenario: result.scenario.name.clone(),
            rows,
            new_scenario: false,
        };
        let subject = Subject {
            current: &result,
            baseline: Some(&result),
            comparison: Some(&comparison),
        };
        let subjects = [subject];
        let document =
            Document::new(&subjects, Policy::default()).with_full_report("reports/compare.html");
        let templates = Templates::load(None).unwrap();
        let md = String::from_utf8(document.render(Format::Markdown, &templates).unwrap()).unwrap();
        assert!(
            md.chars().count() <= COMMENT_LIMIT,
            "{}",
            md.chars().count()
        );
        assert!(md.contains("of 3000 rows that need attention"), "{md}");
        assert!(md.contains("`reports/compare.html`"));
        assert!(md.matches("| **regressed** |").count() >= 300);
    }

    #[test]
    fn halvings_end_at_zero() {
        assert_eq!(halvings(10).collect::<Vec<_>>(), [5, 2, 1, 0]);
        assert_eq!(halvings(1).collect::<Vec<_>>(), [0]);
        assert_eq!(halvings(0).count(), 0);
    }
}
