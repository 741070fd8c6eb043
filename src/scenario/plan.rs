//! Expansion of a validated scenario into a [`Plan`]: the resolved target (environment
//! variables expanded, API key read from the environment), where the server comes from,
//! the request and sampling settings, the server configurations (every combination of the
//! matrix) and the ordered list of points: configurations outermost, then input lengths,
//! then load levels, so that each configuration's server is launched once. The runner
//! reads only the plan; the scenario itself is kept as the record a result carries.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;

use super::dataset::Reading;
use super::shard::{Barrier, Shard};
use super::validate::PORT_PLACEHOLDER;
use super::{
    Api, Arrival, Dataset, LengthSpec, MonitorSpec, PromptKind, Scenario, ScenarioError,
    ServerSpec, Slo, Stages, TokenizerChoice, TrafficClass, Unit,
};
use crate::secret::{redacted, redacted_text, take_credential, Credential, Secret};

/// The server under test, ready to use.
#[derive(Debug, Clone)]
pub struct ResolvedTarget {
    pub base_url: reqwest::Url,
    pub api: Api,
    pub model: Option<String>,
    /// The API key, else the user and password the base URL carried (taken out of it).
    pub credential: Option<Credential>,
    pub tokenizer: TokenizerChoice,
}

/// How requests are started during a point.
#[derive(Debug, Clone, PartialEq)]
pub enum LoadShape {
    /// Keep `concurrency` requests in flight.
    Closed { concurrency: u32 },
    /// Start requests at `rate` per second with the given inter-arrival distribution.
    Open {
        rate: f64,
        arrival: Arrival,
        burstiness: f64,
    },
    /// Levels that move over time (closed loop or open loop by the stages' unit).
    Staged {
        stages: std::sync::Arc<Stages>,
        arrival: Arrival,
        burstiness: f64,
    },
    /// Requests sent at a trace's arrival times, divided by `time_scale`.
    Trace { time_scale: f64 },
}

/// Where each request's prompt comes from, beyond its length.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// Synthetic text (with shared prefixes when the plan has them).
    Synthetic,
    /// A prompt set's entries, in turn.
    Dataset(std::sync::Arc<Dataset>),
    /// A trace's requests, on its schedule; `block_tokens` per `hash_ids` block.
    Trace {
        trace: std::sync::Arc<Dataset>,
        block_tokens: u32,
    },
    /// Conversations of `turns` turns, `think` apart.
    Conversation { turns: u32, think: Duration },
}

/// Tokens per `hash_ids` block of a Mooncake trace.
const MOONCAKE_BLOCK_TOKENS: u32 = 512;

/// Prefixes that prompts share (`workload.prompt.kind: shared_prefix`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SharedPrefix {
    pub prefixes: u32,
    pub tokens: u32,
}

/// When a point stops starting requests.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum StopAfter {
    Requests(u32),
    Duration(Duration),
}

/// One measured point of the plan.
#[derive(Debug, Clone)]
pub struct PointSpec {
    /// Stable id: the sorted `key=value` pairs of `params`.
    pub id: String,
    pub params: BTreeMap<String, Value>,
    /// The prompt length the point is named by (a distribution's mean); 0 when the
    /// prompts come from a file or the classes.
    pub input_tokens: u32,
    /// The point's prompt lengths, fixed or drawn (`None`: from a file or the classes).
    pub input: Option<LengthSpec>,
    pub shape: LoadShape,
    /// Index into [`Plan::configurations`].
    pub configuration: usize,
}

/// Where the server under test comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum ServerSource {
    /// A server already running at the target's base URL.
    External,
    /// A server the harness launches for each configuration.
    Launched(ServerSpec),
    /// The embedded simulator with this engine profile, started for each configuration.
    Simulator { profile: String },
}

/// What each request asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestSpec {
    /// `max_tokens`: fixed or drawn; a file's own lengths when `None`.
    pub output: Option<LengthSpec>,
    /// Ask the server to ignore end-of-sequence (exact output lengths).
    pub ignore_eos: bool,
    pub stream: bool,
}

/// A validated scenario with its target resolved and its points expanded.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The scenario's name (its baseline's file name).
    pub name: String,
    pub target: ResolvedTarget,
    pub server: ServerSource,
    pub request: RequestSpec,
    /// Warmup requests per point, not measured.
    pub warmup: u32,
    /// Times each point is measured, interleaved over the points of a launch.
    pub trials: u32,
    /// The goodput SLO, if any.
    pub slo: Option<Slo>,
    /// GPU sampling and `/metrics` scraping during each point.
    pub monitor: MonitorSpec,
    pub points: Vec<PointSpec>,
    pub stop: StopAfter,
    pub timeout: Duration,
    /// Width of the windows of each point's timeline.
    pub timeline_window: Duration,
    /// The scenario's prompt seed, or one drawn for this run.
    pub seed: u64,
    /// Whether the seed was drawn for this run (the scenario gave none).
    seed_drawn: bool,
    /// The prefixes prompts share, when the workload asks for them.
    pub shared_prefix: Option<SharedPrefix>,
    /// Where prompts come from.
    pub source: Source,
    /// The request classes mixed in each point (none: one class).
    pub classes: Vec<TrafficClass>,
    /// Thresholds that stop the run when they fail while a point runs (`abort_on_fail`).
    pub abort: Vec<super::Threshold>,
    /// Stop each point once its goodput's 95% interval is clear of this share (from 0 to
    /// 1): `recommend`'s probes, which need an answer, not a full count.
    pub settle_goodput: Option<f64>,
    /// Every combination of the matrix variables, in order (one empty configuration
    /// without a matrix).
    pub configurations: Vec<BTreeMap<String, Value>>,
    /// Whether the target's port is the one each launched server gets (`{port}`).
    pub port_from_launch: bool,
    /// This process's share of the load (`run --shard`; the whole by default).
    pub shard: Shard,
    /// When each measured window starts on every shard (`run --start-at`).
    pub barrier: Option<Barrier>,
    /// The matrix variables that configure the server (each value needs its own server).
    server_variables: Vec<String>,
    /// The scenario as a result records it: the resolved base URL without credentials and
    /// the seed drawn for this run. The runner copies it into the result, reading nothing.
    pub record: Scenario,
}

/// Why a plan cannot be run as shards.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{flag}: {message}")]
pub struct ShardingError {
    pub flag: &'static str,
    pub message: String,
}

impl Plan {
    /// Runs this process's `shard` of the plan, each measured window starting at its
    /// `barrier` when given. Refused where the shards' parts would not add up to the
    /// plan: a seed drawn per run (each shard would draw its own), staged ramps, and rules
    /// that act on a point while it runs (they would see one shard's share).
    pub fn shard(&mut self, shard: Shard, barrier: Option<Barrier>) -> Result<(), ShardingError> {
        let refuse = |flag, message: &str| {
            Err(ShardingError {
                flag,
                message: message.to_owned(),
            })
        };
        self.barrier = barrier;
        if shard.is_whole() {
            return Ok(());
        }
        if self.seed_drawn {
            return refuse("--shard", "needs --seed (or the scenario's workload.prompt.seed): every shard must draw the same prompts and arrivals");
        }
        if self
            .points
            .iter()
            .any(|p| matches!(p.shape, LoadShape::Staged { .. }))
        {
            return refuse(
                "--shard",
                "not with stages or load shapes (each shard would ramp to the whole level)",
            );
        }
        if !self.classes.is_empty() || matches!(self.source, Source::Conversation { .. }) {
            return refuse("--shard", "not with traffic classes or conversations: their figures per class and turn keep no histograms to merge");
        }
        if self.trials > 1 {
            return refuse("--shard", "not with several trials (load.trials, --trials): a merged point is one measurement of the shards at the same time");
        }
        if !self.abort.is_empty() || self.settle_goodput.is_some() {
            return refuse("--shard", "not with abort_on_fail thresholds: thresholds are evaluated on the merged result (`llm-loadtest merge`)");
        }
        self.shard = shard;
        Ok(())
    }

    /// The matrix values of `configuration` that its server's command, environment or
    /// working directory use: those that need their own server.
    pub fn server_values(&self, configuration: usize) -> BTreeMap<String, Value> {
        self.configurations[configuration]
            .iter()
            .filter(|(name, _)| self.server_variables.contains(name))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// Configurations grouped by server: consecutive configurations whose server-side
    /// values are equal share one launch (all of them share the one target without
    /// `server`); a configuration without points needs none.
    pub fn launches(&self) -> Vec<Vec<usize>> {
        let mut launches: Vec<Vec<usize>> = Vec::new();
        let measured = |c: &usize| self.points.iter().any(|p| p.configuration == *c);
        for configuration in (0..self.configurations.len()).filter(measured) {
            match launches.last_mut() {
                Some(last) if self.server_values(last[0]) == self.server_values(configuration) => {
                    last.push(configuration)
                }
                _ => launches.push(vec![configuration]),
            }
        }
        launches
    }
}

/// The matrix variables that configure the server: those its command, environment or
/// working directory use, or the simulator's knobs.
fn server_variables(scenario: &Scenario) -> Vec<String> {
    if scenario.target.embedded.is_some() {
        return crate::sim::KNOBS
            .iter()
            .filter(|k| scenario.matrix.contains_key(**k))
            .map(|k| k.to_string())
            .collect();
    }
    let Some(server) = &scenario.server else {
        return Vec::new();
    };
    let templates = server
        .command
        .iter()
        .chain(server.env.values())
        .chain(server.cwd.iter());
    templates
        .filter_map(|t| super::placeholders(t).ok())
        .flatten()
        .filter(|name| scenario.matrix.contains_key(name))
        .collect()
}

/// Every combination of the matrix values. Server-side variables vary slowest (so that a
/// server is launched once for all the client-side values), then the others; within each,
/// names in order, the last varying fastest.
fn configurations(scenario: &Scenario) -> Vec<BTreeMap<String, Value>> {
    let server_side = server_variables(scenario);
    let mut order: Vec<(&String, &Vec<Value>)> = scenario.matrix.iter().collect();
    order.sort_by_key(|(name, _)| !server_side.contains(name));
    let mut all = vec![BTreeMap::new()];
    for (name, values) in order {
        all = all
            .into_iter()
            .flat_map(|partial| {
                values.iter().map(move |v| {
                    let mut next = partial.clone();
                    next.insert(name.clone(), v.clone());
                    next
                })
            })
            .collect();
    }
    all
}

const DEFAULT_KEY_VARS: [&str; 2] = ["LLM_LOADTEST_API_KEY", "OPENAI_API_KEY"];

impl Plan {
    /// Resolves the target and expands the points. `api_key` (from `--api-key`) overrides
    /// the environment. `origin` names the scenario in error messages.
    pub fn new(
        scenario: Scenario,
        api_key: Option<Secret>,
        origin: &std::path::Path,
    ) -> Result<Self, ScenarioError> {
        let invalid = |field: &str, message: String| ScenarioError::Invalid {
            path: origin.to_owned(),
            field: field.to_owned(),
            message,
        };
        let t = &scenario.target;
        let port_from_launch = t.embedded.is_some() || t.base_url.contains(PORT_PLACEHOLDER);
        let target = resolve_target(&scenario, api_key).map_err(|(f, m)| invalid(f, m))?;
        let configurations = configurations(&scenario);
        let points = expand_points(&scenario, &configurations);
        let seed = scenario.workload.prompt.seed.unwrap_or_else(rand::random);
        let source = prompt_source(&scenario, origin, seed)?;
        let mut record = scenario.clone();
        record.target.base_url = redacted(&target.base_url);
        record.workload.prompt.seed = Some(seed);
        let (w, l) = (&scenario.workload, &scenario.load);
        Ok(Self {
            name: scenario.name.clone(),
            server: server_source(&scenario),
            request: RequestSpec {
                output: w.output_tokens.clone(),
                ignore_eos: w.ignore_eos,
                stream: w.stream,
            },
            warmup: l.warmup,
            trials: l.trials,
            slo: scenario.slo.clone(),
            monitor: scenario.monitor.clone(),
            stop: stop_after(l),
            timeout: Duration::from_secs_f64(l.timeout_s),
            timeline_window: Duration::from_secs_f64(l.timeline_window_s),
            seed,
            seed_drawn: scenario.workload.prompt.seed.is_none(),
            shared_prefix: match (w.prompt.prefixes, w.prompt.prefix_tokens) {
                (Some(prefixes), Some(tokens)) => Some(SharedPrefix { prefixes, tokens }),
                _ => None,
            },
            source,
            classes: w.classes.clone(),
            abort: abort_thresholds(&scenario),
            settle_goodput: None,
            server_variables: server_variables(&scenario),
            target,
            points,
            configurations,
            port_from_launch,
            shard: Shard::default(),
            barrier: None,
            record,
        })
    }
}

/// The thresholds of `scenario` that stop the run when they fail.
fn abort_thresholds(scenario: &Scenario) -> Vec<super::Threshold> {
    let all = scenario.thresholds.as_ref().map(super::thresholds_of);
    let all = all.and_then(Result::ok).unwrap_or_default();
    all.into_iter()
        .filter(|t| t.abort_after.is_some())
        .collect()
}

/// The prompt source of `scenario`, its file (relative to the folder of `origin`, the
/// scenario's file) read, checked and sampled with `seed`.
pub fn prompt_source(
    scenario: &Scenario,
    origin: &std::path::Path,
    seed: u64,
) -> Result<Source, ScenarioError> {
    let (w, p) = (&scenario.workload, &scenario.workload.prompt);
    let read = |path: &str| -> Result<std::sync::Arc<Dataset>, ScenarioError> {
        let path = origin
            .parent()
            .unwrap_or(std::path::Path::new(""))
            .join(path);
        let reading = Reading {
            kind: p.kind,
            needs_output: w.output_tokens.is_none(),
        };
        let ordered = p.kind == PromptKind::Trace;
        Ok(std::sync::Arc::new(
            Dataset::read(&path, reading)?.sample(p.sample, seed, ordered),
        ))
    };
    Ok(match (p.kind, &p.path) {
        (PromptKind::Jsonl | PromptKind::Sharegpt, Some(path)) => Source::Dataset(read(path)?),
        (PromptKind::Trace, Some(path)) => Source::Trace {
            trace: read(path)?,
            block_tokens: p.block_tokens.unwrap_or(MOONCAKE_BLOCK_TOKENS),
        },
        (PromptKind::Conversation, _) => Source::Conversation {
            turns: p.turns.unwrap_or(1),
            think: Duration::from_secs_f64(p.think_time_s.unwrap_or(0.0)),
        },
        _ => Source::Synthetic,
    })
}

/// The target's base URL (`{port}` and an embedded server's port as 0, set per launch),
/// model and API key; on failure the field and the reason.
fn resolve_target(
    scenario: &Scenario,
    api_key: Option<Secret>,
) -> Result<ResolvedTarget, (&'static str, String)> {
    let t = &scenario.target;
    let with_port = match t.embedded {
        Some(_) => "http://127.0.0.1:0".to_owned(),
        None => t.base_url.replace(PORT_PLACEHOLDER, "0"),
    };
    let expanded = shellexpand::env(&with_port).map_err(|e| ("target.base_url", e.to_string()))?;
    let mut base_url = reqwest::Url::parse(&expanded)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .map(server_root)
        .ok_or_else(|| {
            let message = format!("`{}` is not an http(s) URL", redacted_text(&expanded));
            ("target.base_url", message)
        })?;
    let in_url = take_credential(&mut base_url);
    let api_key = match (api_key, &t.api_key_env) {
        (Some(key), _) => Some(key),
        (None, Some(var)) => Some(Secret::new(std::env::var(var).map_err(|_| {
            let message = format!("environment variable {var} is not set");
            ("target.api_key_env", message)
        })?)),
        (None, None) => DEFAULT_KEY_VARS
            .iter()
            .find_map(|var| std::env::var(var).ok().filter(|v| !v.is_empty()))
            .map(Secret::new),
    };
    let model = t
        .model
        .as_deref()
        .map(|m| shellexpand::env(m).map(|m| m.into_owned()))
        .transpose()
        .map_err(|e| ("target.model", e.to_string()))?;
    if api_key.is_some() && in_url.is_some() {
        tracing::warn!("the base URL's user and password are not sent: the API key is");
    }
    Ok(ResolvedTarget {
        base_url,
        api: t.api,
        model,
        credential: api_key.map(Credential::ApiKey).or(in_url),
        tokenizer: t.tokenizer,
    })
}

fn server_source(scenario: &Scenario) -> ServerSource {
    match (&scenario.server, scenario.target.embedded) {
        (Some(spec), _) => ServerSource::Launched(spec.clone()),
        (None, Some(_)) => ServerSource::Simulator {
            profile: scenario.target.profile.clone().unwrap_or_default(),
        },
        (None, None) => ServerSource::External,
    }
}

fn stop_after(l: &super::Load) -> StopAfter {
    let staged: Option<f64> = l
        .stages
        .as_ref()
        .map(|s| s.iter().map(|s| s.duration_s).sum());
    match (l.requests, l.duration_s.or(staged)) {
        (Some(n), _) => StopAfter::Requests(n),
        (None, Some(d)) => StopAfter::Duration(Duration::from_secs_f64(d)),
        // A trace without `duration_s` lasts as long as its schedule.
        (None, None) => StopAfter::Duration(Duration::MAX),
    }
}

/// The load of each point (per configuration and input length): the parameters that name
/// it and its shape.
fn load_shapes(scenario: &Scenario) -> Vec<(Vec<(&'static str, Value)>, LoadShape)> {
    let l = &scenario.load;
    let p = &scenario.workload.prompt;
    if p.kind == PromptKind::Trace {
        let name = p.path.as_deref().map(trace_name).unwrap_or_default();
        let time_scale = p.time_scale.unwrap_or(1.0);
        return vec![(
            vec![("trace", name.into())],
            LoadShape::Trace { time_scale },
        )];
    }
    if let Some(stages) = &l.stages {
        let unit = match stages.first().and_then(|s| s.concurrency) {
            Some(_) => Unit::Concurrency,
            None => Unit::Rate,
        };
        let steps = stages
            .iter()
            .map(|s| {
                let level = s.concurrency.map(f64::from).or(s.rate).unwrap_or_default();
                (Duration::from_secs_f64(s.duration_s), level)
            })
            .collect();
        let stages = Stages {
            name: "custom".into(),
            unit,
            steps,
        };
        return vec![(vec![("stages", "custom".into())], staged(l, stages))];
    }
    let levels: Vec<(&'static str, Value, f64)> = match (&l.concurrency, &l.rate) {
        (Some(levels), _) => levels
            .iter()
            .map(|&c| ("concurrency", c.into(), f64::from(c)))
            .collect(),
        (None, Some(rates)) => rates.iter().map(|&r| ("rate", r.into(), r)).collect(),
        (None, None) => unreachable!("validated: one of concurrency, rate or stages"),
    };
    levels
        .into_iter()
        .map(|(key, value, level)| {
            let unit = if key == "rate" {
                Unit::Rate
            } else {
                Unit::Concurrency
            };
            let shape = match l.shape {
                Some(shape) => {
                    let total = Duration::from_secs_f64(l.duration_s.unwrap_or_default());
                    let stages = Stages::of_shape(shape, unit, level, total);
                    return (
                        vec![(key, value), ("shape", shape.name().into())],
                        staged(l, stages),
                    );
                }
                None if unit == Unit::Rate => LoadShape::Open {
                    rate: level,
                    arrival: l.arrival,
                    burstiness: l.burstiness,
                },
                None => LoadShape::Closed {
                    concurrency: level as u32,
                },
            };
            (vec![(key, value)], shape)
        })
        .collect()
}

fn staged(l: &super::Load, stages: Stages) -> LoadShape {
    LoadShape::Staged {
        stages: std::sync::Arc::new(stages),
        arrival: l.arrival,
        burstiness: l.burstiness,
    }
}

/// A trace's name in point ids: its file name without the extension.
fn trace_name(path: &str) -> String {
    let path = std::path::Path::new(path);
    path.file_stem()
        .unwrap_or(path.as_os_str())
        .to_string_lossy()
        .into_owned()
}

/// The parameters that name a point's input lengths: its nominal length and, when drawn,
/// the distribution (none when a file or the classes give the lengths).
fn input_params(input: Option<&LengthSpec>) -> Vec<(&'static str, Value)> {
    let Some(input) = input else {
        return Vec::new();
    };
    let mut params = vec![("input_tokens", Value::from(input.nominal()))];
    params.extend(
        input
            .label()
            .map(|label| ("input_dist", Value::from(label))),
    );
    params
}

/// Every configuration × input length × load level, in that order.
fn expand_points(
    scenario: &Scenario,
    configurations: &[BTreeMap<String, Value>],
) -> Vec<PointSpec> {
    let shapes = load_shapes(scenario);
    let inputs: Vec<Option<&LengthSpec>> = match scenario.workload.input_tokens.as_slice() {
        [] => vec![None],
        lengths => lengths.iter().map(Some).collect(),
    };
    let mut points = Vec::new();
    for (configuration, values) in configurations.iter().enumerate() {
        for input in &inputs {
            for (named, shape) in &shapes {
                let mut params = values.clone();
                for (key, value) in input_params(*input)
                    .into_iter()
                    .chain(named.iter().cloned())
                {
                    params.insert(key.to_owned(), value);
                }
                points.push(PointSpec {
                    id: point_id(&params),
                    params,
                    input_tokens: input.map_or(0, LengthSpec::nominal),
                    input: input.cloned(),
                    shape: shape.clone(),
                    configuration,
                });
            }
        }
    }
    points
}

/// The server's root with a trailing slash, so that `v1/...` and `tokenize` join below it;
/// a base URL given as `.../v1` (the OpenAI client convention) means its parent.
fn server_root(mut url: reqwest::Url) -> reqwest::Url {
    let path = url.path().trim_end_matches('/');
    let root = format!("{}/", path.strip_suffix("/v1").unwrap_or(path));
    url.set_path(&root);
    url
}

/// `key=value` pairs in key order, comma-separated.
pub fn point_id(params: &BTreeMap<String, Value>) -> String {
    params
        .iter()
        .map(|(k, v)| match v {
            Value::String(s) => format!("{k}={s}"),
            other => format!("{k}={other}"),
        })
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn plan(json: &str) -> Plan {
        let s = super::super::parse_str(json, Path::new("t.json")).unwrap();
        Plan::new(s, Some(Secret::new("k")), Path::new("t.json")).unwrap()
    }

    #[test]
    fn a_matrix_sweeps_server_side_variables_slowest_and_launches_once_per_server() {
        let p = plan(
            r#"{"name": "s", "target": {"base_url": "http://127.0.0.1:{port}"},
                "server": {"command": ["vllm", "--port", "{port}", "--tp", "{tp}"]},
                "matrix": {"label": ["a", "b"], "tp": [1, 2]},
                "workload": {"input_tokens": [100, 200], "output_tokens": 8},
                "load": {"concurrency": [1, 4], "requests": 5}}"#,
        );
        let shown: Vec<String> = p.configurations.iter().map(point_id).collect();
        assert_eq!(
            shown,
            [
                "label=a,tp=1",
                "label=b,tp=1",
                "label=a,tp=2",
                "label=b,tp=2"
            ]
        );
        assert_eq!(p.launches(), [vec![0, 1], vec![2, 3]]);
        assert_eq!(p.points.len(), 16);
        assert_eq!(
            p.points[0].id,
            "concurrency=1,input_tokens=100,label=a,tp=1"
        );
        assert_eq!(
            p.points[3].id,
            "concurrency=4,input_tokens=200,label=a,tp=1"
        );
        assert!(p.port_from_launch);
        assert_eq!(p.target.base_url.port(), Some(0), "set per launch");
    }

    #[test]
    fn points_are_input_lengths_times_levels_in_order() {
        let p = plan(
            r#"{"name":"n","target":{"base_url":"http://127.0.0.1:1"},
            "workload":{"input_tokens":[100,200],"output_tokens":8},
            "load":{"concurrency":[1,4],"requests":2}}"#,
        );
        let ids: Vec<_> = p.points.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "concurrency=1,input_tokens=100",
                "concurrency=4,input_tokens=100",
                "concurrency=1,input_tokens=200",
                "concurrency=4,input_tokens=200"
            ]
        );
    }

    #[test]
    fn base_url_default_is_expanded() {
        let p = plan(
            r#"{"name":"n","target":{"base_url":"${LLM_LOADTEST_TEST_UNSET_VAR:-http://127.0.0.1:9}"},
            "workload":{"input_tokens":1,"output_tokens":1},
            "load":{"rate":[0.5],"duration_s":1}}"#,
        );
        assert_eq!(p.target.base_url.as_str(), "http://127.0.0.1:9/");
        assert_eq!(p.points[0].id, "input_tokens=1,rate=0.5");
    }

    #[test]
    fn base_url_is_the_server_root() {
        for (given, root) in [
            ("http://h:8000", "http://h:8000/"),
            ("http://h:8000/v1", "http://h:8000/"),
            ("http://h:8000/v1/", "http://h:8000/"),
            ("http://h/proxy/llm", "http://h/proxy/llm/"),
        ] {
            let url = server_root(reqwest::Url::parse(given).unwrap());
            assert_eq!(url.as_str(), root);
            assert_eq!(
                url.join("v1/models").unwrap().as_str(),
                format!("{root}v1/models")
            );
        }
    }
}
