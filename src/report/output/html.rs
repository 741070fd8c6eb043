//! The self-contained HTML report for people: the HTML template with its charts inline
//! (no external resource, a strict Content-Security-Policy), escaped automatically.

use crate::report::templates::{TemplateError, Templates, HTML};
use crate::report::Report;

/// The HTML page of `report`.
pub fn render(templates: &Templates, report: &Report) -> Result<String, TemplateError> {
    templates.render(HTML, report)
}
