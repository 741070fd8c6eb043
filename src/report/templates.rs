//! The Jinja templates of the Markdown and HTML reports (rendered by minijinja): embedded
//! in the binary and overridable from a directory (`--templates DIR`, any of
//! `report.md.jinja` and `report.html.jinja`), and the filters they use. HTML output is
//! escaped automatically; Markdown text goes through the `md` filter.

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

    /// Renders the template `name` ([`MARKDOWN`] or [`HTML`]) with `report`.
    pub fn render(&self, name: &'static str, report: &Report) -> Result<String, TemplateError> {
        self.env
            .get_template(name)
            .and_then(|template| template.render(Value::from_serialize(report)))
            .map_err(|e| TemplateError::Render {
                name,
                message: chain(&e),
            })
    }
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
