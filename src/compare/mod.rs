//! Comparing results with baselines: the baseline store and the statistics behind
//! regression verdicts.

pub mod baseline;
pub mod stats;
