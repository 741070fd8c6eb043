//! The environment a result was measured in (host and server) and what the harness
//! itself costs (CPU, memory).

mod cpu;
mod environment;

pub use cpu::{peak_rss_mib, CpuTime};
pub use environment::{Environment, Host};
