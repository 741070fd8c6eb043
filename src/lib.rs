//! llm-loadtest: a performance regression harness for OpenAI-compatible LLM servers.
//!
//! Data flow: [`scenario`] (file or flags) → [`scenario::Plan`] → [`run::run_plan`] drives
//! [`load`] with the [`client`] and [`workload`] prompts → [`metrics`] fold records into a
//! [`result::RunResult`] → [`report`] renders it.

pub mod app;
pub mod cli;
pub mod client;
pub mod clock;
pub mod compare;
pub mod load;
pub mod metrics;
pub mod monitor;
pub mod report;
pub mod result;
pub mod run;
pub mod scenario;
pub mod secret;
pub mod server;
pub mod sim;
pub mod workload;
