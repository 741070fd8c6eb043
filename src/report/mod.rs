//! Renderers of results for people. Each takes immutable data and returns text.

mod terminal;

pub use terminal::summary_table;
