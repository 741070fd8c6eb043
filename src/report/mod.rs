//! Renderers of results and comparisons for people and CI. Each takes immutable data and
//! returns text.

mod compare_table;
mod format;
mod github;
mod junit;
mod terminal;

pub use compare_table::compare_table;
pub use github::{annotations, job_summary};
pub use junit::junit_xml;
pub use terminal::summary_table;
