//! Scenarios from the seed CLI's flags and presets (`--preset quick`, `--concurrency
//! 1,10,50 --num-prompts 200 ...`): a run without a scenario file is an ad-hoc scenario,
//! validated and planned like any other. The flags' syntax lives in the binary; this is
//! what they mean.

use std::str::FromStr;

use super::{
    Api, Arrival, LengthSpec, Load, PromptKind, PromptSpec, Scenario, Slo, Target, TokenizerChoice,
    Workload,
};

/// The seed's test presets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Preset {
    /// Concurrency 1, 5, 10; 50 prompts; 128 in / 64 out.
    Quick,
    /// Concurrency 1, 10, 50, 100; 200 prompts; 256 in / 128 out.
    Standard,
    /// Concurrency 10, 50, 100, 200, 500; 500 prompts; 512 in / 256 out.
    Stress,
}

struct PresetValues {
    concurrency: &'static [u32],
    prompts: u32,
    input_len: u32,
    output_len: u32,
}

impl Preset {
    fn values(self) -> PresetValues {
        match self {
            Preset::Quick => PresetValues {
                concurrency: &[1, 5, 10],
                prompts: 50,
                input_len: 128,
                output_len: 64,
            },
            Preset::Standard => PresetValues {
                concurrency: &[1, 10, 50, 100],
                prompts: 200,
                input_len: 256,
                output_len: 128,
            },
            Preset::Stress => PresetValues {
                concurrency: &[10, 50, 100, 200, 500],
                prompts: 500,
                input_len: 512,
                output_len: 256,
            },
        }
    }

    /// The preset's name, which names its scenario.
    pub fn name(self) -> &'static str {
        match self {
            Preset::Quick => "quick",
            Preset::Standard => "standard",
            Preset::Stress => "stress",
        }
    }
}

/// The seed CLI's defaults, used when neither a flag nor a preset sets a value.
const DEFAULT: PresetValues = PresetValues {
    concurrency: &[1],
    prompts: 100,
    input_len: 256,
    output_len: 128,
};

/// A run described by flags; `None` takes the preset's value, else the default.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AdhocRun {
    pub base_url: String,
    pub model: Option<String>,
    pub preset: Option<Preset>,
    /// Closed-loop levels.
    pub concurrency: Option<Vec<u32>>,
    /// Open-loop rates (instead of concurrency).
    pub request_rate: Option<Vec<f64>>,
    pub arrival: Option<Arrival>,
    pub burstiness: Option<f64>,
    pub requests: Option<u32>,
    /// Seconds per point instead of a request count.
    pub duration_s: Option<f64>,
    pub input_tokens: Option<u32>,
    pub output_tokens: Option<u32>,
    pub stream: bool,
    pub ignore_eos: bool,
    pub warmup: u32,
    pub trials: u32,
    pub timeout_s: f64,
    pub api: Api,
    pub slo: Option<Slo>,
    pub tokenizer: TokenizerChoice,
    pub seed: Option<u64>,
}

impl AdhocRun {
    /// The scenario the flags describe.
    pub fn scenario(&self) -> Scenario {
        let preset = self.preset.map_or(DEFAULT, Preset::values);
        let (concurrency, rate) = match &self.request_rate {
            Some(rates) => (None, Some(rates.clone())),
            None => (
                Some(
                    self.concurrency
                        .clone()
                        .unwrap_or_else(|| preset.concurrency.to_vec()),
                ),
                None,
            ),
        };
        let (requests, duration_s) = match self.duration_s {
            Some(d) => (None, Some(d)),
            None => (Some(self.requests.unwrap_or(preset.prompts)), None),
        };
        Scenario {
            schema: None,
            name: self.preset.map_or("adhoc", Preset::name).to_owned(),
            description: None,
            target: self.target(),
            workload: Workload {
                input_tokens: vec![LengthSpec::Fixed(
                    self.input_tokens.unwrap_or(preset.input_len),
                )],
                output_tokens: Some(LengthSpec::Fixed(
                    self.output_tokens.unwrap_or(preset.output_len),
                )),
                ignore_eos: self.ignore_eos,
                stream: self.stream,
                prompt: PromptSpec {
                    kind: PromptKind::Synthetic,
                    seed: self.seed,
                    ..PromptSpec::default()
                },
                classes: Vec::new(),
            },
            load: Load {
                concurrency,
                rate,
                arrival: self.arrival.unwrap_or_default(),
                burstiness: self.burstiness.unwrap_or(1.0),
                shape: None,
                stages: None,
                requests,
                duration_s,
                warmup: self.warmup,
                trials: self.trials,
                timeout_s: self.timeout_s,
                timeline_window_s: 1.0,
            },
            slo: self.slo.clone(),
            thresholds: None,
            server: None,
            matrix: Default::default(),
            monitor: Default::default(),
            compare: Default::default(),
        }
    }

    fn target(&self) -> Target {
        Target {
            base_url: self.base_url.clone(),
            embedded: None,
            profile: None,
            api: self.api,
            model: self.model.clone(),
            api_key_env: None,
            tokenizer: self.tokenizer,
        }
    }
}

/// An SLO that is not `NAME:MS` pairs.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SloSyntaxError {
    #[error("expected NAME:MS pairs such as ttft:500, got `{0}`")]
    NotAPair(String),
    #[error("unknown criterion `{0}`; expected ttft, tpot or e2e")]
    UnknownCriterion(String),
    #[error("expected a positive number, got `{0}`")]
    NotPositive(String),
    #[error("expected at least one criterion, e.g. ttft:500")]
    Empty,
}

/// `ttft:500,tpot:50,e2e:5000` (milliseconds; any subset), as `--goodput` takes it.
impl FromStr for Slo {
    type Err = SloSyntaxError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let mut slo = Slo::default();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, value) = part
                .split_once(':')
                .ok_or_else(|| SloSyntaxError::NotAPair(part.to_owned()))?;
            let value = value.trim();
            let ms = value
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite() && *v > 0.0)
                .ok_or_else(|| SloSyntaxError::NotPositive(value.to_owned()))?;
            let slot = match name.trim() {
                "ttft" => &mut slo.ttft_ms,
                "tpot" => &mut slo.tpot_ms,
                "e2e" => &mut slo.e2e_ms,
                other => return Err(SloSyntaxError::UnknownCriterion(other.to_owned())),
            };
            *slot = Some(ms);
        }
        if slo == Slo::default() {
            return Err(SloSyntaxError::Empty);
        }
        Ok(slo)
    }
}
