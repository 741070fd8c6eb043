//! Comparing results with baselines: the baseline store (with its history), the run-to-run
//! noise learnt from it and from trials, the statistics of a change (hierarchical
//! bootstrap), the verdict rules with their thresholds, and the comparison of a run with
//! its baseline.

pub mod baseline;
mod contrast;
mod engine;
mod level;
pub mod noise;
mod point;
pub mod slo;
pub mod stats;
pub mod trend;
pub mod verdict;

pub use contrast::{contrast, Figure};
pub use engine::{compare, Comparison, Row};
pub use level::Level;
