//! The server under test: what the harness learns from it (models, version) and, for
//! server sweeps, launching and stopping it.

mod launch;
mod metrics;
mod probe;

pub use launch::{kill_all, Launch, RunningServer};
pub use metrics::{scrape, MetricsRecorder, ServerMetrics};

pub use probe::{first_model, reachable, server_info, ServerInfo};
