//! The server under test: what the harness learns from it (models, version) and, for
//! server sweeps, launching and stopping it.

mod launch;
mod probe;
mod scrape;

pub use launch::{kill_all, launchable, Launch, LaunchError, NotLaunchable, RunningServer};
pub use scrape::{scrape, MetricsRecorder, ScrapeError};

pub use probe::{context_length, first_model, reachable, server_info, ModelListError};
