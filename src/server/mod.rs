//! What the harness learns from the server itself: its models and version.

mod probe;

pub use probe::{first_model, reachable, server_info, ServerInfo};
