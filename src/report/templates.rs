//! The Jinja templates of the Markdown and HTML reports (rendered by minijinja): embedded
//! in the binary and overridable from a directory (`--templates DIR`, any of
//! `report.md.jinja` and `report.html.jinja`), the filters they use, and the size limit of
//! a pull-request comment. HTML output is escaped automatically; Markdown text goes
//! through the `md` filter.

use std::path::{Path, PathBuf};

use minijinja::value::{Kwargs, Value};
use minijinja::{AutoEscape, Environment};

use super::context::Report;

pub const MARKDOWN: &str = "report.md.jinja";
pub const HTML: &str = "report.html.jinja";
const EMBEDDED: [(&str, &str); 2] = [
    (MARKDOWN, include_str!("templates/report.md.jinja")),
    (HTML, include_str!("templates/report.html.jinja")),
];

/// GitHub's limit on the body of a comment, in characters.
pub const COMMENT_LIMIT: usize = 65_536;

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("{}: {message}", path.display())]
    Load { path: PathBuf, message: String },
    #[error("cannot render {name}: {message}")]
    Render { name: &'static str, message: String },
}

/// A template error with its causes, on one line.
fn chain(error: &minijinja::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The loaded templates.
pub struct Templates {
    env: Environment<'static>,
}

impl Templates {
    /// The embedded templates, each replaced by its namesake in `dir` when there is one.
    pub fn load(dir: Option<&Path>) -> Result<Self, TemplateError> {
        let mut env = Environment::new();
        env.set_auto_escape_callback(|name| match name {
            HTML => AutoEscape::Html,
            _ => AutoEscape::None,
        });
        env.set_keep_trailing_newline(true);
        // A missing value (JSON null) prints as nothing, not as `none`.
        env.set_formatter(|out, state, value| match value.is_none() {
            true => Ok(()),
            false => minijinja::escape_formatter(out, state, value),
        });
        env.add_filter("num", num);
        env.add_filter("md", md);
        if let Some(dir) = dir.filter(|d| !d.is_dir()) {
            return Err(TemplateError::Load {
                path: dir.to_owned(),
                message: "not a directory of templates".into(),
            });
        }
        for (name, embedded) in EMBEDDED {
            match dir.map(|d| d.join(name)).filter(|p| p.exists()) {
                Some(path) => {
                    let load_error = |message| TemplateError::Load {
                        path: path.clone(),
                        message,
                    };
                    let text =
                        std::fs::read_to_string(&path).map_err(|e| load_error(e.to_string()))?;
                    env.add_template_owned(name, text)
                        .map_err(|e| load_error(chain(&e)))?;
                }
                None => env
                    .add_template(name, embedded)
                    .map_err(|e| TemplateError::Load {
                        path: PathBuf::from(format!("(embedded) {name}")),
                        message: chain(&e),
                    })?,
            }
        }
        Ok(Self { env })
    }

    fn render(&self, name: &'static str, report: &Report) -> Result<String, TemplateError> {
        self.env
            .get_template(name)
            .and_then(|template| template.render(Value::from_serialize(report)))
            .map_err(|e| TemplateError::Render {
                name,
                message: chain(&e),
            })
    }

    /// The self-contained HTML report.
    pub fn html(&self, report: &Report) -> Result<String, TemplateError> {
        self.render(HTML, report)
    }

    /// The Markdown report, shortened to fit [`COMMENT_LIMIT`]: first per-point details
    /// are left out, then rows that need attention, each time with a note saying so.
    pub fn markdown(&self, report: &Report) -> Result<String, TemplateError> {
        let fits = |text: &String| text.chars().count() <= COMMENT_LIMIT;
        let full = self.render(MARKDOWN, report)?;
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
                left_out.push(format!(
                    "percentiles of {} of {points} points",
                    points - keep_points
                ));
            }
            if keep_rows < rows {
                left_out.push(format!(
                    "{} of {rows} rows that need attention",
                    rows - keep_rows
                ));
            }
            shortened.truncated = Some(format!(
                "Shortened to fit a pull-request comment ({COMMENT_LIMIT} characters): left out {}.",
                left_out.join(" and ")
            ));
            let text = self.render(MARKDOWN, &shortened)?;
            if fits(&text) {
                return Ok(text);
            }
        }
        // Only a template far larger than its data gets here: cut it.
        let text = self.render(MARKDOWN, &shortened)?;
        let note = "\n\n… cut at the comment size limit.\n";
        let keep = COMMENT_LIMIT - note.chars().count();
        Ok(text.chars().take(keep).collect::<String>() + note)
    }
}

/// `n`, `n/2`, `n/4`, ..., `1`, `0`, each strictly less than `n`.
fn halvings(n: usize) -> impl Iterator<Item = usize> {
    std::iter::successors((n > 0).then_some(n / 2), |&k| (k > 0).then_some(k / 2))
}

/// `num`: a figure with as many decimals as its size warrants (`1234`, `56.7`, `8.91`);
/// `—` for null. `digits=N` fixes the decimals.
fn num(value: &Value, kwargs: Kwargs) -> Result<String, minijinja::Error> {
    let digits: Option<usize> = kwargs.get("digits")?;
    kwargs.assert_all_used()?;
    let Ok(v) = f64::try_from(value.clone()) else {
        return Ok("—".into());
    };
    let digits = match digits {
        Some(d) => d,
        None if v.abs() >= 100.0 => 0,
        None if v.abs() >= 10.0 => 1,
        None => 2,
    };
    Ok(format!("{v:.digits$}"))
}

/// `md`: text made inert in Markdown (GitHub's flavour): HTML and table pipes escaped, no
/// emphasis, links, code or line breaks.
fn md(value: &Value) -> String {
    let text = match value.as_str() {
        Some(s) => s.to_owned(),
        None => value.to_string(),
    };
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\n' | '\r' => out.push(' '),
            '|' | '\\' | '`' | '*' | '_' | '[' | ']' | '#' | '~' | '!' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::stats::Change;
    use crate::compare::verdict::{FailOn, Verdict};
    use crate::compare::{Comparison, Row};
    use crate::report::{build_report, Subject};
    use crate::result::RunResult;

    #[test]
    fn markdown_is_shortened_to_fit_a_comment_and_says_so() {
        let result: RunResult = serde_json::from_str(include_str!(
            "../../tests/fixtures/llamacpp-smollm2.result.json"
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
                p_value: Some(0.001),
                verdict: Verdict::Regressed,
                note: String::new(),
            })
            .collect();
        let comparison = Comparison {
            scenario: result.scenario.name.clone(),
            rows,
        };
        let subject = Subject {
            current: &result,
            baseline: Some(&result),
            comparison: Some(&comparison),
        };
        let mut report = build_report(&[subject], FailOn::Regression, false);
        report.full_report = Some("reports/compare.html".into());
        let md = Templates::load(None).unwrap().markdown(&report).unwrap();
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

    #[test]
    fn markdown_filter_makes_html_and_tables_inert() {
        let out = md(&Value::from("<script>alert(1)</script> | *x*"));
        assert_eq!(out, "&lt;script&gt;alert(1)&lt;/script&gt; \\| \\*x\\*");
    }

    #[test]
    fn numbers_get_decimals_by_size() {
        let f = |v: Value| num(&v, Kwargs::from_iter(std::iter::empty::<(&str, Value)>())).unwrap();
        assert_eq!(f(Value::from(1234.56)), "1235");
        assert_eq!(f(Value::from(56.78)), "56.8");
        assert_eq!(f(Value::from(8.912)), "8.91");
        assert_eq!(f(Value::from(())), "—");
    }
}
