//! Renderers of results and comparisons for people and CI. Each takes immutable data and
//! returns text: the terminal tables, the Jinja templates (Markdown for pull requests and
//! job summaries, self-contained HTML with charts), CSV, JUnit XML and GitHub annotations.

mod axes;
mod chart;
mod compare_table;
mod context;
mod csv;
mod figures;
mod format;
mod github;
mod junit;
mod tables;
mod templates;
mod terminal;

pub use compare_table::compare_table;
pub use context::{build as build_report, Report, Subject};
pub use csv::csv;
pub use github::annotations;
pub use junit::junit_xml;
pub use templates::{TemplateError, Templates, COMMENT_LIMIT};
pub use terminal::{gpu_table, summary_table};
