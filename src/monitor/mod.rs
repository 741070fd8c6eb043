//! The environment a result was measured in: host and server.

mod environment;

pub use environment::{Environment, Host};
