//! Renderers of results and comparisons for people and CI. Each takes immutable data and
//! returns text: the report context the templates see ([`Report`]), built from results
//! and comparisons with its charts, study rows, environment table and warnings; the report
//! [`output`] formats (Markdown for pull requests and job summaries, self-contained HTML,
//! CSV, JSON, JUnit XML); the [`terminal`] tables; GitHub annotations.

mod axes;
mod cards;
mod chart;
mod conclusions;
mod context;
mod environment;
mod figures;
mod format;
mod github;
mod history;
pub mod output;
pub mod recommendation;
mod runs;
mod study;
mod templates;
pub mod terminal;
mod unjudged;
mod views;
mod warnings;

pub use context::{Report, Subject};
pub use github::annotations;
pub use history::TrendInput;
pub use runs::MAX_RUNS;
pub use templates::{TemplateError, Templates};
