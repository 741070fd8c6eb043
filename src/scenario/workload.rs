//! Serde types of a scenario's `workload`: what each request asks for (lengths fixed or
//! drawn from a distribution), where its prompt comes from (synthetic text, shared
//! prefixes, a dataset, conversations or a trace) and the traffic classes mixed in a point.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Slo;

/// The requests sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Workload {
    /// Prompt lengths in tokens, one point per length: a number, a distribution
    /// (`{"dist": "normal", "mean": 1000, "stdev": 200, "min": 100, "max": 4000}`), or a
    /// list of them. Not with prompts from a dataset or a trace, nor with `classes`.
    #[serde(
        default,
        deserialize_with = "lengths",
        skip_serializing_if = "Vec::is_empty"
    )]
    #[schemars(schema_with = "one_or_many")]
    pub input_tokens: Vec<LengthSpec>,
    /// Output tokens requested (`max_tokens`): a number or a distribution. A dataset's or
    /// a trace's own lengths when absent.
    #[serde(
        default,
        deserialize_with = "length",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(with = "Option<LengthSpec>")]
    pub output_tokens: Option<LengthSpec>,
    /// Ask the server to ignore end-of-sequence so that every output has exactly
    /// `output_tokens` tokens (vLLM, SGLang, llama.cpp accept it).
    #[serde(default = "yes")]
    pub ignore_eos: bool,
    /// Stream the response (needed for TTFT, TPOT and ITL).
    #[serde(default = "yes")]
    pub stream: bool,
    #[serde(default)]
    pub prompt: PromptSpec,
    /// Request classes mixed in every point, each request drawing one by weight
    /// (`[{"name": "chat", "weight": 80, "input_tokens": 256, "output_tokens": 128}, ...]`);
    /// figures are kept per class and overall.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub classes: Vec<TrafficClass>,
}

/// A token count: fixed, or drawn for each request from a distribution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum LengthSpec {
    Fixed(u32),
    Drawn(Distribution),
}

/// A distribution of token counts (draws are rounded and kept within `min` and `max`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "dist", rename_all = "snake_case", deny_unknown_fields)]
pub enum Distribution {
    /// Every count from `min` to `max` equally likely.
    Uniform { min: u32, max: u32 },
    /// A normal distribution cut to `min`..`max` (1 and `mean` × 4 by default).
    Normal {
        mean: f64,
        stdev: f64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min: Option<u32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max: Option<u32>,
    },
    /// One of `values`, each equally likely (repeat a value to weight it): lengths
    /// measured on real traffic.
    Empirical { values: Vec<u32> },
}

/// The schema of one length or a list of them.
fn one_or_many(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
    let (one, many) = (
        generator.subschema_for::<LengthSpec>(),
        generator.subschema_for::<Vec<LengthSpec>>(),
    );
    schemars::json_schema!({ "anyOf": [one, many] })
}

/// Reads a length, keeping the distribution's own error (a missing `stdev`, an unknown
/// `dist`) instead of serde's "did not match any variant".
fn length_of<E: serde::de::Error>(value: Value) -> Result<LengthSpec, E> {
    match value {
        Value::Number(n) => n
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .map(LengthSpec::Fixed)
            .ok_or_else(|| E::custom(format!("expected a token count, got {n}"))),
        Value::Object(_) => Distribution::deserialize(value)
            .map(LengthSpec::Drawn)
            .map_err(|e| E::custom(format!("{e} (a distribution: `dist` is uniform, normal or empirical)"))),
        other => Err(E::custom(format!(
            "expected a token count or a distribution such as {{\"dist\": \"uniform\", \"min\": 100, \"max\": 300}}, got {other}"
        ))),
    }
}

fn length<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<LengthSpec>, D::Error> {
    length_of(Value::deserialize(d)?).map(Some)
}

fn required_length<'de, D: serde::Deserializer<'de>>(d: D) -> Result<LengthSpec, D::Error> {
    length_of(Value::deserialize(d)?)
}

fn lengths<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<LengthSpec>, D::Error> {
    match Value::deserialize(d)? {
        Value::Array(items) => items.into_iter().map(length_of).collect(),
        one => Ok(vec![length_of(one)?]),
    }
}

fn yes() -> bool {
    true
}

/// How prompts are made.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PromptSpec {
    #[serde(default)]
    pub kind: PromptKind,
    /// Seed of the prompt, length, class and arrival generators: the same seed gives the
    /// same requests. Absent, each run draws one (recorded in the result), so that a
    /// server's prompt cache cannot serve prompts remembered from an earlier run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// `shared_prefix`: how many system prompts the requests share (request `i` draws
    /// prefix `i mod prefixes`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefixes: Option<u32>,
    /// `shared_prefix`: the tokens of each shared prefix; the rest of `input_tokens` is
    /// unique to each request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix_tokens: Option<u32>,
    /// `jsonl`, `sharegpt`, `trace`: the file, relative to the scenario's folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// `jsonl`, `sharegpt`: how many entries to draw from the file (seeded; requests
    /// cycle through them); all, up to 1,000, when absent. `trace`: its first entries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample: Option<u32>,
    /// `conversation`: the turns of each conversation (turn k sends turns 1..k-1 with
    /// the server's replies, then a new user message of `input_tokens`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub turns: Option<u32>,
    /// `conversation`: seconds between a reply and the next turn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub think_time_s: Option<f64>,
    /// `trace`: how much faster than recorded to replay (2 halves every offset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_scale: Option<f64>,
    /// `trace`: tokens per `hash_ids` block (Mooncake traces: 512); requests naming the
    /// same block share its text, so a prefix cache sees the trace's sharing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block_tokens: Option<u32>,
}

/// Prompt source.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PromptKind {
    /// Unique synthetic text of exact token length.
    #[default]
    Synthetic,
    /// Synthetic text of exact length that starts with one of `prefixes` shared prefixes of
    /// `prefix_tokens` tokens, to measure a prefix cache.
    SharedPrefix,
    /// A JSONL file: per line `{"prompt": "..."}` or `{"messages": [...]}`, optionally
    /// with `output_tokens`.
    Jsonl,
    /// A ShareGPT file (a JSON array or JSONL of `{"conversations": [{"from": "human",
    /// "value": ...}, {"from": "gpt", ...}]}`): the first human turn is the prompt, the
    /// reply's length the output length unless `output_tokens` is given.
    Sharegpt,
    /// Multi-turn conversations of synthetic user messages with the server's replies.
    Conversation,
    /// A JSONL trace of arrivals with input and output lengths (the fields of the public
    /// Mooncake, BurstGPT and Azure traces), replayed on its own schedule.
    Trace,
}

impl PromptKind {
    /// Whether the prompts come from a file.
    pub fn reads_file(self) -> bool {
        matches!(self, Self::Jsonl | Self::Sharegpt | Self::Trace)
    }
}

/// One class of a mixed workload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TrafficClass {
    /// Names the class in results and reports.
    pub name: String,
    /// Relative share of the requests (weights need not sum to 100).
    pub weight: f64,
    /// The class's prompt lengths: a number or a distribution.
    #[serde(deserialize_with = "required_length")]
    pub input_tokens: LengthSpec,
    /// The class's output lengths; the workload's when absent.
    #[serde(
        default,
        deserialize_with = "length",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(with = "Option<LengthSpec>")]
    pub output_tokens: Option<LengthSpec>,
    /// The model this class asks for (the seed's multi-model test); the target's when
    /// absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The class's own goodput SLO; the scenario's when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slo: Option<Slo>,
}

impl LengthSpec {
    /// The mean count.
    pub fn mean(&self) -> f64 {
        match self {
            Self::Fixed(n) => f64::from(*n),
            Self::Drawn(Distribution::Uniform { min, max }) => {
                (f64::from(*min) + f64::from(*max)) / 2.0
            }
            Self::Drawn(Distribution::Normal { mean, .. }) => *mean,
            Self::Drawn(Distribution::Empirical { values }) => {
                values.iter().map(|&v| f64::from(v)).sum::<f64>() / values.len().max(1) as f64
            }
        }
    }

    /// The mean, rounded: the length a point is named by.
    pub fn nominal(&self) -> u32 {
        self.mean().round() as u32
    }

    /// The smallest and the largest count a draw can give.
    pub fn range(&self) -> (u32, u32) {
        match self {
            Self::Fixed(n) => (*n, *n),
            Self::Drawn(Distribution::Uniform { min, max }) => (*min, *max),
            Self::Drawn(Distribution::Normal { mean, min, max, .. }) => {
                (min.unwrap_or(1), max.unwrap_or((mean * 4.0).round() as u32))
            }
            Self::Drawn(Distribution::Empirical { values }) => (
                values.iter().copied().min().unwrap_or(0),
                values.iter().copied().max().unwrap_or(0),
            ),
        }
    }

    /// A short label of a drawn length (`normal(1000±200)`), none for a fixed one.
    pub fn label(&self) -> Option<String> {
        let (min, max) = self.range();
        match self {
            Self::Fixed(_) => None,
            Self::Drawn(Distribution::Uniform { .. }) => Some(format!("uniform({min}..{max})")),
            Self::Drawn(Distribution::Normal { mean, stdev, .. }) => {
                Some(format!("normal({mean}±{stdev},{min}..{max})"))
            }
            Self::Drawn(Distribution::Empirical { values }) => {
                Some(format!("empirical({} values,{min}..{max})", values.len()))
            }
        }
    }
}
