//! The Tera templates of the Markdown and HTML reports: embedded in the binary and
//! overridable from a directory (`--templates DIR`, any of `report.md.tera` and
//! `report.html.tera`), and the filters they use. HTML output is escaped automatically;
//! Markdown text goes through the `md` filter.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use tera::{Tera, Value};

pub const MARKDOWN: &str = "report.md.tera";
pub const HTML: &str = "report.html.tera";
pub const RECOMMEND_MD: &str = "recommend.md.tera";
pub const RECOMMEND_HTML: &str = "recommend.html.tera";
const EMBEDDED: [(&str, &str); 5] = [
    (STYLE, include_str!("templates/style.css.tera")),
    (MARKDOWN, include_str!("templates/report.md.tera")),
    (HTML, include_str!("templates/report.html.tera")),
    (RECOMMEND_MD, include_str!("templates/recommend.md.tera")),
    (
        RECOMMEND_HTML,
        include_str!("templates/recommend.html.tera"),
    ),
];
/// The style sheet the HTML pages include.
const STYLE: &str = "style.css.tera";

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("{}: {message}", path.display())]
    Load { path: PathBuf, message: String },
    #[error("cannot render {name}: {message}")]
    Render { name: &'static str, message: String },
}

/// A Tera error with its causes, on one line.
fn chain(error: &tera::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    // Parse errors draw the line with arrows over several lines; one line reads better.
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The loaded templates.
pub struct Templates {
    tera: Tera,
}

impl Templates {
    /// The embedded templates, each replaced by its namesake in `dir` when there is one.
    pub fn load(dir: Option<&Path>) -> Result<Self, TemplateError> {
        let mut tera = Tera::default();
        tera.autoescape_on(vec![".html.tera"]);
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
                    tera.add_raw_template(name, &text)
                        .map_err(|e| load_error(chain(&e)))?;
                }
                None => tera
                    .add_raw_template(name, embedded)
                    .map_err(|e| TemplateError::Load {
                        path: PathBuf::from(format!("(embedded) {name}")),
                        message: chain(&e),
                    })?,
            }
        }
        tera.register_filter("num", num);
        tera.register_filter("md", md);
        Ok(Self { tera })
    }

    /// Renders the template `name` ([`MARKDOWN`], [`HTML`], [`RECOMMEND_MD`],
    /// [`RECOMMEND_HTML`]) with `report`.
    pub fn render(
        &self,
        name: &'static str,
        report: &impl serde::Serialize,
    ) -> Result<String, TemplateError> {
        let render_error = |e: tera::Error| TemplateError::Render {
            name,
            message: chain(&e),
        };
        let context = tera::Context::from_serialize(report).map_err(render_error)?;
        self.tera.render(name, &context).map_err(render_error)
    }
}

/// `num`: a figure with as many decimals as its size warrants (`1234`, `56.7`, `8.91`);
/// `—` for null. `digits=N` fixes the decimals.
fn num(value: &Value, args: &HashMap<String, Value>) -> tera::Result<Value> {
    let Some(v) = value.as_f64() else {
        return Ok(Value::from("—"));
    };
    let digits = match args.get("digits").and_then(Value::as_u64) {
        Some(d) => d as usize,
        None if v.abs() >= 100.0 => 0,
        None if v.abs() >= 10.0 => 1,
        None => 2,
    };
    Ok(Value::from(format!("{v:.digits$}")))
}

/// `md`: text made inert in Markdown (GitHub's flavour): HTML and table pipes escaped, no
/// emphasis, links, code or line breaks.
fn md(value: &Value, _: &HashMap<String, Value>) -> tera::Result<Value> {
    let text = match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
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
    Ok(Value::from(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_filter_makes_html_and_tables_inert() {
        let out = md(
            &Value::from("<script>alert(1)</script> | *x*"),
            &HashMap::new(),
        )
        .unwrap();
        assert_eq!(
            out,
            Value::from("&lt;script&gt;alert(1)&lt;/script&gt; \\| \\*x\\*")
        );
    }

    #[test]
    fn numbers_get_decimals_by_size() {
        let f = |v: f64| num(&Value::from(v), &HashMap::new()).unwrap();
        assert_eq!(f(1234.56), Value::from("1235"));
        assert_eq!(f(56.78), Value::from("56.8"));
        assert_eq!(f(8.912), Value::from("8.91"));
        assert_eq!(
            num(&Value::Null, &HashMap::new()).unwrap(),
            Value::from("—")
        );
    }

    #[test]
    fn a_broken_template_is_named_with_what_is_wrong_on_one_line() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(MARKDOWN), "{{ oops").unwrap();
        let e = Templates::load(Some(dir.path())).err().unwrap().to_string();
        assert!(
            e.starts_with(&format!("{}: ", dir.path().join(MARKDOWN).display())),
            "{e}"
        );
        assert_eq!(e.lines().count(), 1, "{e}");
    }
}
