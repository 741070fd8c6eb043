//! llm-loadtest: a performance regression harness for OpenAI-compatible LLM servers.
//!
//! Data flow: [`scenario`] (a file or the ad-hoc flags) → [`scenario::Plan`] →
//! [`run::run_plan`] drives [`load`] with the [`client`] and [`workload`] prompts, beside
//! [`server`] and [`monitor`] → [`metrics`] fold the records into a [`result::RunResult`] →
//! [`compare`] judges it against a baseline → [`report`] renders it. The command line
//! lives in the binary (`main.rs`, `cli.rs`, `commands/`), not here. See ARCHITECTURE.md
//! for the layers and the direction of imports.

pub mod atomic;
pub mod client;
pub mod clock;
pub mod compare;
pub mod dialect;
pub mod load;
pub mod merge;
pub mod metrics;
pub mod monitor;
pub mod recommend;
pub mod report;
pub mod result;
pub mod run;
pub mod scenario;
pub mod secret;
pub mod serve;
pub mod server;
pub mod sim;
pub mod workload;
