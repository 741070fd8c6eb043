//! Renderers of results for people. Each takes immutable data and returns text.

mod compare_table;
mod terminal;

pub use compare_table::compare_table;
pub use terminal::summary_table;
