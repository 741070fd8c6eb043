//! What `POST /api/v1/benchmark/run` and the new-run form ask for: the seed API's ad-hoc
//! fields (`server_url`, `model`, `adapter`, `concurrency`, `num_prompts`, `input_len`,
//! `output_len`, `stream`, `warmup`, `timeout`, `api_key`, `goodput_thresholds`), a preset,
//! the embedded simulator instead of a server (`simulator`: its profile), or a scenario
//! file of the scenarios directory by name (`scenario`). It becomes a plan like the
//! command line's; a mistake is named by its field.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::scenario::{self, AdhocRun, Api, Embedded, Plan, Preset, Scenario, Slo};
use crate::secret::Secret;

/// A run asked for.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RunRequest {
    /// A scenario file of the scenarios directory, by name (`sim-spike`): instead of the
    /// ad-hoc fields.
    pub scenario: Option<String>,
    pub server_url: Option<String>,
    /// The embedded simulator's profile, instead of a server.
    pub simulator: Option<String>,
    pub model: Option<String>,
    pub adapter: Option<Api>,
    pub preset: Option<Preset>,
    pub concurrency: Option<Vec<u32>>,
    pub num_prompts: Option<u32>,
    pub input_len: Option<u32>,
    pub output_len: Option<u32>,
    pub stream: Option<bool>,
    pub warmup: Option<u32>,
    /// Seconds per request.
    pub timeout: Option<f64>,
    /// Sent to the server; kept in memory only, never written or shown.
    pub api_key: Option<Secret>,
    pub goodput_thresholds: Option<Slo>,
    pub seed: Option<u64>,
}

/// A request that cannot be run: the field and what was expected.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct RequestError {
    pub field: String,
    pub message: String,
}

fn invalid(field: &str, message: impl Into<String>) -> RequestError {
    RequestError {
        field: field.to_owned(),
        message: message.into(),
    }
}

/// Seconds per request when the request does not say (the seed's default).
const DEFAULT_TIMEOUT_S: f64 = 120.0;

impl RunRequest {
    /// The plan of this request; scenario files are looked up in `scenarios`, and come
    /// alone (with the server's key at most).
    pub fn plan(&self, scenarios: &Path) -> Result<Plan, RequestError> {
        let key = self.api_key.clone().filter(|k| !k.expose().is_empty());
        let (scenario, origin) = match &self.scenario {
            Some(name) => (self.scenario_file(scenarios, name)?, scenarios.join(name)),
            None => (self.adhoc()?, PathBuf::from("request")),
        };
        Plan::new(scenario, key, &origin).map_err(|e| match e {
            scenario::ScenarioError::Invalid { field, message, .. } => invalid(&field, message),
            other => invalid("scenario", other.to_string()),
        })
    }

    /// A scenario file of the scenarios directory; the ad-hoc fields may not come with it.
    fn scenario_file(&self, scenarios: &Path, name: &str) -> Result<Scenario, RequestError> {
        let plain = !name.is_empty()
            && !name.starts_with('.')
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c));
        if !plain {
            return Err(invalid(
                "scenario",
                "expected the name of a file of the scenarios directory",
            ));
        }
        if self.has_adhoc_fields() {
            return Err(invalid(
                "scenario",
                "a scenario file names its own target, workload and load: give it alone (with api_key at most)",
            ));
        }
        let file = scenarios.join(format!("{}.json", name.trim_end_matches(".json")));
        scenario::load_file(&file).map_err(|e| invalid("scenario", e.to_string()))
    }

    /// Whether any field but `scenario` and `api_key` is given.
    fn has_adhoc_fields(&self) -> bool {
        let alone = RunRequest {
            scenario: self.scenario.clone(),
            api_key: self.api_key.clone(),
            ..RunRequest::default()
        };
        *self != alone
    }

    /// The scenario of the ad-hoc fields.
    fn adhoc(&self) -> Result<Scenario, RequestError> {
        let run = AdhocRun {
            base_url: self.server_url.clone().unwrap_or_default(),
            model: self.model.clone().filter(|m| !m.is_empty()),
            preset: self.preset,
            concurrency: self.concurrency.clone(),
            requests: self.num_prompts,
            input_tokens: self.input_len,
            output_tokens: self.output_len,
            stream: self.stream.unwrap_or(true),
            ignore_eos: true,
            warmup: self.warmup.unwrap_or(0),
            trials: 1,
            timeout_s: self.timeout.unwrap_or(DEFAULT_TIMEOUT_S),
            api: self.adapter.unwrap_or_default(),
            slo: self
                .goodput_thresholds
                .clone()
                .filter(|slo| *slo != Slo::default()),
            seed: self.seed,
            ..AdhocRun::default()
        };
        let mut scenario = run.scenario();
        match (&self.server_url, &self.simulator) {
            (Some(_), Some(_)) => {
                return Err(invalid(
                    "simulator",
                    "give a server_url or a simulator profile, not both",
                ))
            }
            (None, None) => {
                return Err(invalid(
                    "server_url",
                    "expected the server's URL (or a simulator profile)",
                ))
            }
            (None, Some(profile)) => {
                scenario.target.embedded = Some(Embedded::Sim);
                scenario.target.profile = Some(profile.clone());
            }
            (Some(_), None) => {}
        }
        scenario::validate(&scenario).map_err(|e| invalid(&request_field(&e.field), e.message))?;
        Ok(scenario)
    }
}

/// The request field a scenario field comes from.
fn request_field(scenario_field: &str) -> String {
    let field = match scenario_field.split(['[', '.']).collect::<Vec<_>>()[..] {
        ["target", "base_url", ..] => "server_url",
        ["target", "profile", ..] => "simulator",
        ["target", "model", ..] => "model",
        ["load", "concurrency", ..] => "concurrency",
        ["load", "requests", ..] => "num_prompts",
        ["load", "warmup", ..] => "warmup",
        ["load", "timeout_s", ..] => "timeout",
        ["workload", "input_tokens", ..] => "input_len",
        ["workload", "output_tokens", ..] => "output_len",
        ["slo", ..] => "goodput_thresholds",
        _ => return scenario_field.to_owned(),
    };
    field.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(json: &str) -> Result<Plan, RequestError> {
        let request: RunRequest = serde_json::from_str(json).unwrap();
        request.plan(Path::new("scenarios"))
    }

    #[test]
    fn the_seed_body_and_the_simulator_make_plans() {
        let plan = request(
            r#"{"server_url": "http://127.0.0.1:8000", "model": "m", "adapter": "openai",
                "concurrency": [1, 4], "num_prompts": 10, "input_len": 64, "output_len": 16,
                "stream": true, "warmup": 1, "timeout": 30, "api_key": "k",
                "goodput_thresholds": {"ttft_ms": 500}}"#,
        )
        .unwrap();
        assert_eq!(plan.points.len(), 2);
        let plan = request(r#"{"simulator": "fixed-20ms", "preset": "quick"}"#).unwrap();
        assert_eq!(plan.points.len(), 3);
    }

    #[test]
    fn the_server_key_never_prints() {
        let request: RunRequest =
            serde_json::from_str(r#"{"simulator": "fixed-20ms", "api_key": "sk-123"}"#).unwrap();
        assert!(!format!("{request:?}").contains("sk-123"));
    }

    #[test]
    fn mistakes_are_named_by_their_field() {
        let field = |json| request(json).unwrap_err().field;
        assert_eq!(field(r#"{"model": "m"}"#), "server_url");
        assert_eq!(field(r#"{"simulator": "nope"}"#), "simulator");
        assert_eq!(field(r#"{"server_url": "not a url"}"#), "server_url");
        assert_eq!(
            field(r#"{"simulator": "fixed-20ms", "concurrency": [0]}"#),
            "concurrency"
        );
        assert_eq!(field(r#"{"scenario": "../secret"}"#), "scenario");
        assert_eq!(
            field(r#"{"scenario": "sim-spike", "simulator": "x"}"#),
            "scenario"
        );
    }
}
