//! Comparing results with baselines: the baseline store, the statistics of a change
//! (bootstrap interval, Mann-Whitney U) and the verdict rules with their thresholds.

pub mod baseline;
pub mod stats;
pub mod verdict;
