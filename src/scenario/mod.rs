//! Scenario files: the declarative JSON spec of a benchmark (target, workload, load, SLO),
//! its loading with field-precise errors, semantic validation, and expansion into a
//! [`Plan`] of points. Loading and validation do no I/O beyond reading the file; the plan
//! resolves environment variables and secrets.

mod adhoc;
mod dataset;
mod file;
mod plan;
mod server_spec;
mod shard;
mod stages;
mod template;
mod thresholds;
mod types;
mod validate;
mod validate_workload;
mod workload;

pub use adhoc::{AdhocRun, Preset, SloSyntaxError};
pub use dataset::{Dataset, DatasetError, Entry, EntryPrompt, Message};
pub use file::{load_file, parse_str, ScenarioError};
pub use plan::{
    point_id, prompt_source, LoadShape, Plan, PointSpec, RequestSpec, ResolvedTarget, ServerSource,
    ShardingError, SharedPrefix, Source, StopAfter,
};
pub use shard::{Barrier, Shard};
pub use stages::{Shape, Stages, Unit};
pub use template::{placeholders, substitute, PlaceholderError};
pub use thresholds::{thresholds_of, Stat, Threshold, ThresholdError};
pub use types::*;
pub use validate::{name_problem, validate, FieldError, MAX_TRIALS};
pub use workload::*;

/// Where scenarios live.
pub const DEFAULT_DIR: &str = "scenarios";
/// The JSON Schema's file name in that directory.
pub const SCHEMA_FILE: &str = "scenario.schema.json";

/// The JSON Schema of a scenario file, as printed by `llm-loadtest schema`.
pub fn json_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(Scenario)).expect("schema serializes")
}
